/*
 * overrides.h - parents' runtime overrides (issue 5): a device paused until
 * a time, or a name allowed for a device until a time.
 *
 * What it promises.  The daemon's main thread (control requests, start-up)
 * is the only writer; the packet workers read on the hot path with no lock,
 * no allocation and no system call.  Readers never see a torn entry, and a
 * writer that stalls half-way (preempted, stopped in a debugger) never
 * stalls a reader.  Entries carry a wall-clock `until` (time_t, UTC epoch
 * seconds); readers ignore an entry once until <= now, and
 * overrides_prune() reclaims it.  The table persists in a state file
 * (overrides_save() / overrides_load()).
 *
 * Keys.  An entry belongs to a device key, text of 1..OVERRIDES_KEY_MAX
 * bytes, one of
 *   - a device name from the config: [A-Za-z0-9._-], kept as written;
 *   - a MAC, "aa:bb:cc:dd:ee:ff", kept in lower case (mac_ntop()'s form);
 *   - an IPv4 or IPv6 address, kept in inet_ntop()'s form (addr_ntop()).
 * overrides_key_normalize() turns user input into that form.  Keys are
 * compared as text: a pause of "amy-tablet" is not a pause of amy-tablet's
 * MAC.  A reader passes every key its packet is known by (the device's
 * name, its MAC, its source address, each in the form above) and matches
 * an entry for any of them; which device words a parent may use (config
 * names only, or MACs and addresses too) is the server's choice.
 *
 * Kinds.  A pause (one per key: pausing again replaces its until, shorter
 * or longer) means the device gets nothing but always_allow until then.  An
 * allow (one per key and name: allowing again replaces its until) unblocks
 * NAME and its subdomains for the device: an allow of example.test covers
 * example.test and www.example.test, never notexample.test.  Names are
 * normalised with lists_normalize() (lower case, no trailing dot, IDNA to
 * punycode), and a leading "*." is dropped, as config allow lists do.
 * What wins over what (a confidential category over an allow, an allow
 * over a pause or not) is policy's business, not this module's.
 *
 * Layout and the read protocol:
 *
 *   struct overrides
 *   +-------------------------------------------+
 *   | used (atomic): slots [0, used) may be live |
 *   +-------------------------------------------+
 *   | slot[0]  seq (atomic u32)                 |   seq even: readers use
 *   |          copy[0]: until|kind,lens|key|name|   copy[0]; odd: copy[1]
 *   |          copy[1]: until|kind,lens|key|name|
 *   | slot[1]  ...                               |
 *   | ...      (OVERRIDES_MAX slots)            |
 *   +-------------------------------------------+
 *
 * Each slot is a "latch" (Linux's raw_write_seqcount_latch): two copies
 * of the entry and a sequence number whose low bit says which copy is
 * stable.  The writer bumps seq to odd (readers move to copy[1]), rewrites
 * copy[0], bumps seq to even (readers move back to copy[0]), then rewrites
 * copy[1].  A reader loads seq, copies the stable copy word by word, and
 * retries only if seq moved meanwhile.  So a reader never waits for the
 * writer: at every instant one copy is whole and seq points at it, and a
 * reader retries only when the writer *finished* a half-step during the
 * reader's few dozen loads.  With one writer that works at the pace of
 * control requests, that is a retry or two at most; the read is lock-free
 * and, for any practical purpose, wait-free.  (A plain seqlock would make
 * readers spin while a preempted writer sits on an odd seq.)  The words are
 * C11 atomics read and written relaxed, ordered by fences, so the protocol
 * is data-race free under the C11 memory model, not only on x86.
 *
 * Slots are never compacted (moving an entry could hide it from a reader
 * that already passed its new place).  An entry goes into the lowest free
 * slot (or, when none is free, the lowest expired one); `used`, the high
 * water mark, grows when a slot past it is filled and shrinks in
 * overrides_prune() when the last slots are free.  A reader that loaded an
 * older `used` merely misses an entry added during its read, as if it had
 * read just before.  A lookup costs one atomic load when the table is
 * empty, and about 80 bytes copied per live slot otherwise.
 *
 * State file (overrides_save(), overrides_load(), overrides_format(), and
 * the body of the control socket's "overrides" reply): ASCII lines
 *
 *   pause KEY UNTIL
 *   allow KEY NAME UNTIL
 *
 * KEY and NAME as above, UNTIL decimal seconds since the epoch (UTC).
 * Reading, fields are separated by one or more blanks (space, tab), blanks
 * may start and end a line, lines end in "\n" or "\r\n", and blank lines
 * and lines whose first non-blank byte is '#' are comments.  Writing, one
 * space separates fields, and overrides_save() starts with a '#' line.
 */
#ifndef SG_OVERRIDES_H
#define SG_OVERRIDES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "err.h"

#define OVERRIDES_MAX		256	/* entries, pauses and allows together */
#define OVERRIDES_KEY_MAX	63	/* bytes of a key, without the NUL */
#define OVERRIDES_NAME_MAX	(DNS_TEXT_MAX - 1) /* bytes of a name: 253 */
/* How far ahead an until may be set: 30 days. */
#define OVERRIDES_SPAN_MAX	((time_t)30 * 86400)
/* The longest line overrides_format() writes, "\n" included: "allow" KEY
   NAME and a 20-digit until, 3 spaces. */
#define OVERRIDES_LINE_MAX	(5 + OVERRIDES_KEY_MAX + OVERRIDES_NAME_MAX + \
				 20 + 3 + 1)
/* The most text overrides_format() writes for a full table, NUL included. */
#define OVERRIDES_FORMAT_MAX	(OVERRIDES_MAX * OVERRIDES_LINE_MAX + 1)
/* State files larger than this are refused (-EFBIG) by overrides_load(). */
#define OVERRIDES_FILE_MAX	(1024 * 1024)

enum overrides_kind {
	OVERRIDES_PAUSE = 1,
	OVERRIDES_ALLOW = 2,
};

/* One entry, copied out of the table (overrides_list()). */
struct overrides_entry {
	enum overrides_kind	 kind;
	char			 key[OVERRIDES_KEY_MAX + 1];
	char			 name[OVERRIDES_NAME_MAX + 1]; /* "" for pause */
	time_t			 until;
};

struct overrides;

/* An empty table.  NULL and errno (ENOMEM).  The caller frees it. */
struct overrides *overrides_new(void);
void	overrides_free(struct overrides *);

/* ------------------------------------------------- writer: main thread */

/*
 * The writers below may only run on one thread at a time (the daemon's
 * main thread); readers may run concurrently on any number of threads.
 * `now` is the wall clock: until must satisfy now < until <= now +
 * OVERRIDES_SPAN_MAX (-ERANGE otherwise), and entries with until <= now
 * count as gone (an expired slot is reused when the table is full).
 *
 * overrides_pause() returns 0 when it added a pause, 1 when it replaced
 * the until of the key's live pause; -EINVAL for a key that
 * overrides_key_normalize() refuses (keys are normalised here, so "AA:..."
 * is "aa:..."), -ERANGE, or SG_ELIMIT when all OVERRIDES_MAX slots hold
 * live entries.  overrides_allow() likewise, per key and name, and -EINVAL
 * for a name lists_normalize() refuses (*reason, when not NULL, then says
 * why: a static string).
 */
int	overrides_pause(struct overrides *, const char *key, time_t until,
	    time_t now) SG_WUR;
int	overrides_allow(struct overrides *, const char *key, const char *name,
	    time_t until, time_t now, const char **reason) SG_WUR;

/*
 * Ends the key's pause and, with `all`, also its allows.  Returns how many
 * live entries it ended (0: there was nothing to end), and, when nallows
 * is not NULL, how many of them were allows; -EINVAL for a bad key.
 * Expired entries of the key are reclaimed too, uncounted.
 */
int	overrides_resume(struct overrides *, const char *key, bool all,
	    time_t now, size_t *nallows) SG_WUR;

/* Frees the slots of entries with until <= now.  Returns how many. */
size_t	overrides_prune(struct overrides *, time_t now);

/* ------------------------------------------ readers: any thread, no lock */

/*
 * Whether any of the keys (nkeys NUL-terminated strings in the normalised
 * form above; NULL entries are skipped) has a pause with until > now.  On
 * true, *until (when not NULL) is the latest such until.  No allocation,
 * no lock, no system call.
 */
bool	overrides_paused(const struct overrides *, const char *const *keys,
	    size_t nkeys, time_t now, time_t *until);

/*
 * Whether any of the keys has a live allow of name or of one of its
 * parents (suffix match on a label boundary).  name is len bytes (need not
 * be NUL-terminated), compared without regard to ASCII case, and one
 * trailing dot is ignored: the pipeline's names are lower case already.
 * *until as above.  No allocation, no lock, no system call.
 */
bool	overrides_allowed(const struct overrides *, const char *const *keys,
	    size_t nkeys, const char *name, size_t len, time_t now,
	    time_t *until);

/*
 * True when no slot holds an entry, live or expired: one atomic load, the
 * packet path's fast way out.  False says nothing about live entries.
 */
bool	overrides_empty(const struct overrides *);

/* Live entries (until > now). */
size_t	overrides_count(const struct overrides *, time_t now);

/*
 * Copies at most max live entries into out, sorted by key, then pauses
 * before allows, then name.  Returns how many were copied.  A reader, safe
 * beside the writer, but not for the packet path: qsort() may allocate.
 */
size_t	overrides_list(const struct overrides *, time_t now,
	    struct overrides_entry *out, size_t max);

/*
 * Writes the live entries as state-file lines (the order of
 * overrides_list()) into buf, NUL-terminated (when len > 0).  Returns the
 * length it needed, without the NUL (snprintf's contract: >= len means
 * truncated, at a line boundary), at most OVERRIDES_FORMAT_MAX - 1; or
 * -ENOMEM (it allocates a scratch array to sort in; main thread).
 */
int	overrides_format(const struct overrides *, time_t now, char *buf,
	    size_t len) SG_WUR;

/* ------------------------------------------------------- persistence */

/* A bad line: its 1-based number and a static reason. */
typedef void overrides_error_fn(void *arg, size_t line, const char *reason);

/*
 * Writes the live entries to path atomically: a temporary file (mode 0600)
 * beside it, fsync, rename over path, fsync of the folder.  Returns 0 or
 * -errno; on failure path is unchanged and the temporary file removed.
 * Allocates; main thread (it reads the table).
 */
int	overrides_save(const struct overrides *, const char *path,
	    time_t now) SG_WUR;

/*
 * Reads a state file into the table (adding to what it holds: a file entry
 * replaces a live one of the same key, or key and name, as the writers
 * do).  A missing file is no error (returns 0).  Entries with until <= now
 * are skipped silently; an until beyond now + OVERRIDES_SPAN_MAX is kept
 * (a router without a clock boots in 1970 until NTP sets it: dropping
 * pauses then would undo them).  Each bad line, and each entry that no
 * longer fits, is reported through err (may be NULL) and skipped.  Returns
 * the number of entries taken, or -errno (-EFBIG past OVERRIDES_FILE_MAX,
 * -ENOMEM, or opening and reading errors).  A writer.
 */
int	overrides_load(struct overrides *, const char *path, time_t now,
	    overrides_error_fn *err, void *arg) SG_WUR;

/* overrides_load() over bytes in memory (hostile input: fuzzed). */
int	overrides_parse(struct overrides *, const void *buf, size_t len,
	    time_t now, overrides_error_fn *err, void *arg) SG_WUR;

/*
 * One state-file line of len bytes (no newline; a comment or blank line is
 * an error here) into *e, key and name normalised.  Returns NULL, or a
 * static reason.  safegatectl reads the "overrides" reply with it.
 */
const char *overrides_parse_line(const char *line, size_t len,
	    struct overrides_entry *e);

/* ------------------------------------------------- words and times */

/*
 * Normalises a device key (see above) from len bytes of in into out
 * (OVERRIDES_KEY_MAX + 1 bytes), NUL-terminated.  Returns its length or
 * -EINVAL.  An address is tried before a name, so "10.0.0.1" is an
 * address; a MAC is exactly 6 pairs of hex digits joined by ':'.
 */
int	overrides_key_normalize(const char *in, size_t len, char *out) SG_WUR;

/*
 * Normalises a name for an allow (or explain): a leading "*." dropped,
 * then lists_normalize(), at most OVERRIDES_NAME_MAX bytes.  out holds
 * DNS_TEXT_MAX + 1 bytes.  Returns the length, or -EINVAL (or -ENOMEM)
 * with *reason (when not NULL) a static message.
 */
int	overrides_name_normalize(const char *in, size_t len, char *out,
	    const char **reason) SG_WUR;

/*
 * Seconds since the epoch, as the wire and the state file carry them:
 * 1 to 12 decimal digits, no sign, no blanks, NUL-terminated.  0 or
 * SG_EMALFORMED.
 */
int	overrides_parse_epoch(const char *s, time_t *out) SG_WUR;

/*
 * A duration for --for: one or more NUMBER UNIT pairs, units d, h, m, s,
 * each at most once and in that order, no blanks: "90s", "30m", "1h",
 * "1h30m", "2d", "1d12h".  The total must be positive and at most
 * OVERRIDES_SPAN_MAX.  Returns 0 and *secs, or SG_EMALFORMED (bad syntax)
 * or SG_ELIMIT (zero, or too long) with *reason a static message.
 */
int	overrides_parse_duration(const char *s, time_t *secs,
	    const char **reason) SG_WUR;

/*
 * Formats secs (>= 0) the way overrides_parse_duration() reads it, largest
 * units first, zero units left out: 5400 is "1h30m", 0 is "0s".  buf of at
 * least 32 bytes.  Returns buf.
 */
const char *overrides_format_duration(time_t secs, char *buf, size_t len);

/*
 * A local wall-clock time for --at and --until, in the process's time zone
 * (TZ; the daemon's, as safegatectl runs on the same machine), to epoch
 * seconds:
 *   "YYYY-MM-DD HH:MM"   that day and minute;
 *   "DAY HH:MM"          DAY a weekday, "Sun" or "Sunday" (any case): the
 *                        next such minute from now; today counts while
 *                        that minute has not ended, else it is next week;
 *   "HH:MM"              the next such minute: today's while it has not
 *                        ended, else tomorrow's.
 * One or more blanks may separate the two parts.  HH is 00-23, MM 00-59.
 * Days are counted on the calendar, not in 86400-second steps, so a DST
 * change in between moves nothing.  A minute that the clocks skip (spring
 * forward) is an error; one they repeat (fall back) is its first
 * occurrence.  Returns 0 and *at, or SG_EMALFORMED with *reason a static
 * message.
 */
int	overrides_parse_at(const char *s, time_t now, time_t *at,
	    const char **reason) SG_WUR;

#endif
