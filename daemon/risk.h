/*
 * risk.h - grooming-risk indicators (issue 6): named rules over the
 * metadata the filter already sees, each with a plain-language text.
 *
 * What it promises.  risk_observe() takes one observation (a name decided
 * for a device: when, which device, which categories it matched, allowed
 * or blocked, and why) and returns the indicators it makes fire.  The
 * engine is pure and deterministic: no I/O (but the state file's
 * risk_save() and risk_load(), below), no clock (every time is the
 * observation's), no randomness, no logging; the same observations in the
 * same order give the same fires.  It is not thread-safe and takes no
 * lock: the daemon calls it from its single event-writer thread only.
 *
 * What it sees.  Categories and kinds, never a name: struct risk_obs has
 * no field for the name that was asked, so nothing here can store one,
 * confidential or not.  A fire names a category (a config category name
 * such as "anon-chat" or "tiktok", or the confidential category's name,
 * e.g. "abuse"), never the name that matched it.
 *
 * The indicators, in the order they fire within one observation (the
 * most severe first, so a short `out` keeps what matters most):
 *
 *   id                  severity  fires when (rule, config_risk keys)
 *   abuse-list          critical  a confidential category matched (abuse)
 *   anon-chat           warning   matched & anon_chat_mask, allowed or
 *                                 blocked (an attempt counts) (anon_chat)
 *   late-night-contact  warning   matched & messaging_mask, allowed, and
 *                                 the device's bedtime in force
 *                                 (late_night; the caller computes bedtime)
 *   bypass-attempt      warning   a bypass category matched ("doh",
 *                                 "bypass" = the canaries, "vpn-proxy"),
 *                                 allowed or blocked; or kind DoT or
 *                                 outside DNS, or reason dot or
 *                                 outside-dns (bypass)
 *   repeated-adult      warning   blocked and matched & repeated_mask, the
 *                                 repeated_count-th attempt within
 *                                 repeated_minutes (repeated)
 *   under-age-platform  notice    matched & messaging_mask, allowed, a
 *                                 service whose minimum age (risk.c's
 *                                 table, from blocklists/services) is
 *                                 above profile_age, profile_age > 0 (age)
 *   new-platform        notice    matched & messaging_mask, allowed, and
 *                                 the device has not used that category
 *                                 for first_seen_days (first_seen)
 *
 * A disabled rule never fires.  Windows: a rule fires at most once per
 * its `window` seconds per device (window 0: every time it matches); for
 * under-age-platform and new-platform, per device and category, so two
 * new apps in one evening are two notices.  A name in several watched
 * categories at once (a service's list and a generic "social" list) is one
 * platform: each indicator fires at most once per observation, naming the
 * lowest category id that qualifies, and the window of every category that
 * qualified starts then.
 *
 * new-platform learns first.  It stays silent until first_seen_days have
 * passed since the engine first saw the device at all (any observation),
 * so that a new router, or a device new to it, does not report every app
 * it already used.  Use is remembered per device and category (the time
 * of its last allowed use); blocked attempts are not use.  State lives in
 * memory, and in the state file when the caller saves it (below): a
 * restart that loads it goes on learning where it stopped; a device
 * evicted learns again.
 *
 * repeated-adult counts attempts: a blocked hit less than RISK_ATTEMPT_GAP
 * seconds after the last counted one is the same attempt (a browser asks
 * A, AAAA and HTTPS for one name, and a page may ask several names at
 * once).  It fires when repeated_count attempts fall within the last
 * repeated_minutes (an attempt exactly repeated_minutes old is out);
 * `count` says how many did, of the last RISK_REPEATED_MAX remembered.
 *
 * Memory is bounded: at most RISK_MAX_DEVICES devices, each about 2 KiB,
 * allocated when first seen; a new device past the cap evicts the least
 * recently observed one (counted in risk_stats.evicted), which loses its
 * windows, attempts and learning.  A device is its key, text compared
 * byte for byte: the caller passes the same key for the same device (its
 * config name, else its MAC, else its address; an IPv6 privacy address
 * changes, a MAC does not).
 *
 * Clocks.  Observations before RISK_TIME_MIN are ignored (counted): a
 * router without a real-time clock starts in the past, and learning
 * measured from 1970 would end at the first NTP step.  A clock stepped
 * backwards never makes a window longer than `window` from the step.
 *
 * Categories are config ids (struct config: categories[], the bit masks of
 * struct config_risk and struct decision).  risk_new() copies their names,
 * so nothing here points into a config; after a reload,
 * risk_reconfigure() carries every device's state over by category name.
 *
 * State file (risk_save(), risk_load(); risk_format(), risk_parse() in
 * memory).  What the engine has learned, so that a restart neither starts
 * new-platform's learning again nor fires an indicator again within its
 * window.  ASCII lines, one space between fields when written:
 *
 *   safegate-risk-state 1        magic and version: always the first line
 *   device KEY FIRST             a device (least recently observed first)
 *                                and when it was first seen
 *   fired INDICATOR TIME         the device's last fire of a per-device
 *                                indicator (its window)
 *   cat NAME SEEN NEW AGE        per category: last allowed use, last
 *                                new-platform fire, last under-age-platform
 *                                fire; "-" for never
 *   tries TIME...                repeated-adult's attempts, oldest first,
 *                                at most RISK_REPEATED_MAX
 *   end NDEVICES                 always the last line, so that a file cut
 *                                short is told from a whole one
 *
 * fired, cat and tries lines belong to the device line before them, at
 * most one fired line per indicator, one cat line per category and one
 * tries line per device.  Times are decimal epoch seconds.  KEY is the
 * device key with every byte outside [A-Za-z0-9._:-] written %XX (hex),
 * so any key the engine holds (config device and lease names, MACs,
 * addresses, or whatever else a caller passed) is one field.  NAME is a
 * category by name, never by id, so a reload that renumbers the
 * categories maps each to its new id; a name the engine no longer has is
 * dropped on load, as risk_reconfigure() drops it.  INDICATOR is an id of
 * risk_ids[]; an unknown one is dropped too.  Reading, fields may be
 * separated by blanks (space, tab), lines end in "\n" or "\r\n", and blank
 * lines and lines starting with '#' are comments.  The file holds device
 * keys, category and indicator names and times: there is no name that
 * was asked in the engine to write.
 */
#ifndef SG_RISK_H
#define SG_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "policy.h"

#define RISK_KEY_MAX		63	/* bytes of a device key, no NUL */
#define RISK_MAX_DEVICES	1024
#define RISK_MAX_CATEGORIES	64	/* ids 0..63: the masks' bits */
#define RISK_REPEATED_MAX	32	/* largest repeated_count */
#define RISK_ATTEMPT_GAP	2	/* seconds: closer hits are one try */
#define RISK_TIME_MIN		1704067200	/* 2024-01-01T00:00:00Z */
#define RISK_NINDICATORS	7	/* the most fires per observation */

enum risk_severity { RISK_NOTICE, RISK_WARNING, RISK_CRITICAL };

/* What carried the observation: policy.h's kinds, and DNS the device sent
   to a resolver other than this router (redirected, blocked or allowed). */
enum risk_kind {
	RISK_DNS = REQ_DNS,
	RISK_TLS = REQ_TLS,
	RISK_HTTP = REQ_HTTP,
	RISK_QUIC = REQ_QUIC,
	RISK_DOT = REQ_DOT,
	RISK_OUTSIDE_DNS,
};

/* One decision, as the event writer has it.  Nothing is kept but the
   device key (copied) and times. */
struct risk_obs {
	time_t		 time;		/* the request's, epoch seconds */
	const char	*device;	/* key, 1..RISK_KEY_MAX bytes */
	unsigned	 profile_age;	/* config_profile.age; 0 = unknown */
	bool		 bedtime;	/* the device's bedtime schedule
					   (config_risk.bedtime) in force */
	enum risk_kind	 kind;
	enum action	 action;
	enum policy_reason reason;
	uint64_t	 matched;	/* decision.matched: config ids */
	bool		 confidential;	/* decision.confidential */
};

/* An indicator's explanation, for a parent: static text. */
struct risk_text {
	const char	*id;		/* "abuse-list", ... */
	const char	*title;
	const char	*may_mean;
	const char	*may_not_mean;
	const char	*what_to_do;
};

struct risk_fire {
	const char	*indicator;	/* static: text->id */
	enum risk_severity severity;
	const char	*severity_name;	/* static: "notice", ... */
	const char	*category;	/* the engine's copy of a config
					   category name, valid until the
					   next risk_reconfigure() or
					   risk_free(); NULL for DoT and
					   outside DNS */
	unsigned	 count;		/* repeated-adult: attempts in the
					   minutes; else 1 */
	const struct risk_text *text;	/* static */
};

struct risk_stats {
	size_t		 devices;	/* tracked now */
	uint64_t	 observed;	/* observations taken */
	uint64_t	 ignored;	/* refused: no or too long a key,
					   time before RISK_TIME_MIN */
	uint64_t	 fired;		/* fires, written or not */
	uint64_t	 dropped;	/* fires past `max` */
	uint64_t	 evicted;	/* devices evicted for a new one */
};

struct risk;

/*
 * Builds an engine for rc and the config's categories (names[id], n of
 * them; confidential: config.confidential_mask).  Copies what it keeps:
 * rc, names and the pointers in them may go afterwards (rc->bedtime is
 * the caller's business and is not read).  Returns NULL and sets errno:
 * EINVAL if n > RISK_MAX_CATEGORIES, a name is NULL, or an enabled rule
 * has impossible thresholds (repeated: count 0 or above
 * RISK_REPEATED_MAX, minutes 0; first_seen: days 0); ENOMEM.  Free with
 * risk_free().
 */
struct risk *risk_new(const struct config_risk *rc, char *const *names,
	    size_t n, uint64_t confidential);
void	risk_free(struct risk *);

/*
 * After a reload: the new thresholds and categories, every device's state
 * kept and its per-category state moved to the category's new id by name
 * (a category gone is forgotten).  Built and checked before anything
 * changes: on error (as risk_new(), -EINVAL or -ENOMEM) the engine is as
 * it was.  Invalidates risk_fire.category pointers given before.
 */
int	risk_reconfigure(struct risk *, const struct config_risk *rc,
	    char *const *names, size_t n, uint64_t confidential) SG_WUR;

/*
 * Takes one observation; writes the fires (at most RISK_NINDICATORS, most
 * severe first) into out[0..max) and returns how many it wrote.  Fires
 * past max are dropped but still start their windows (risk_stats
 * counts them).  An observation without a valid key or before
 * RISK_TIME_MIN is ignored: 0, nothing changes but the count.  Bits of
 * matched at or past n (risk_new) are ignored.
 */
size_t	risk_observe(struct risk *, const struct risk_obs *,
	    struct risk_fire *out, size_t max);

void	risk_stats(const struct risk *, struct risk_stats *);

/* Every indicator id, in firing order, NULL-terminated. */
extern const char *const risk_ids[];

/* The texts of an indicator, or NULL for an unknown id. */
const struct risk_text *risk_text(const char *id);

/* "notice", "warning", "critical"; "?" out of range. */
const char *risk_severity_name(enum risk_severity);

/* ------------------------------------------------------ state file */

/* risk_load() refuses larger files (-EFBIG); risk_format() never writes
   more (1024 devices with every field set, long keys escaped). */
#define RISK_STATE_FILE_MAX	(8 * 1024 * 1024)
/* How far past the loader's clock a time in a state file may be: the
   clock a router without a battery starts with (fake-hwclock,
   systemd-timesyncd's saved clock) lags the last save a little. */
#define RISK_STATE_SKEW		86400

/* A bad state file: the 1-based line and a static reason. */
typedef void risk_error_fn(void *arg, size_t line, const char *reason);

/*
 * The engine's state as state-file text, in *text (NUL-terminated; the
 * caller frees it) of *len bytes, at most RISK_STATE_FILE_MAX.  Devices
 * least recently observed first; a category whose name is no config name
 * (config_valid_name()), or repeats an earlier one, is left out.  0 or
 * -ENOMEM.
 */
int	risk_format(const struct risk *, char **text, size_t *len) SG_WUR;

/*
 * Writes risk_format()'s text to path atomically (atomicfile_write(): a
 * temporary file beside it, mode 0600, fsync, rename).  0 or -errno; on
 * failure path is unchanged.  The engine's thread (it reads the engine).
 */
int	risk_save(const struct risk *, const char *path) SG_WUR;

/*
 * Replaces the engine's state (every device) with the state file at path;
 * the thresholds and categories stay the engine's.  A missing file is a
 * fresh start: 0, nothing changes.  The file is hostile input, checked
 * whole before anything changes: on any error the engine is as it was,
 * and the error's line and a static reason go to err (may be NULL).
 * now is the wall clock: every time must lie in [RISK_TIME_MIN,
 * now + RISK_STATE_SKEW]; with now before RISK_TIME_MIN (a clock not set
 * yet) only the lower bound is checked.  Returns the number of devices
 * loaded, or
 *   SG_EMALFORMED  not a state file, a bad line, a bad key or name, a
 *                  repeated device, indicator, category or tries line, a
 *                  line before any device, an end count that is wrong,
 *                  text after the end line;
 *   SG_EUNSUPP     a version other than 1;
 *   SG_ETRUNC      no end line (an empty or cut file);
 *   SG_ELIMIT      more than RISK_MAX_DEVICES devices, more than
 *                  RISK_MAX_CATEGORIES cat lines in a device, more than
 *                  RISK_REPEATED_MAX tries;
 *   -ERANGE        a time before RISK_TIME_MIN or past the clock;
 *   -EFBIG         a file larger than RISK_STATE_FILE_MAX;
 *   -ENOMEM, or the errno of opening (not ENOENT) or reading (-EAGAIN:
 *                  the file grew while it was read; -EISDIR, -EINVAL: not
 *                  a regular file).
 */
int	risk_load(struct risk *, const char *path, time_t now,
	    risk_error_fn *err, void *arg) SG_WUR;

/* risk_load() over len bytes in memory (fuzzed). */
int	risk_parse(struct risk *, const void *buf, size_t len, time_t now,
	    risk_error_fn *err, void *arg) SG_WUR;

/*
 * The minimum age a service's terms set (blocklists/services/README.md),
 * by category name: 13 for "tiktok", 18 for "telegram", 0 for a service
 * with none ("roblox"), -1 for a name that is no known service.
 */
int	risk_service_age(const char *name);

#endif
