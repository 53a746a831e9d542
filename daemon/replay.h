/*
 * replay.h - the live pipeline over a capture file: safegated --replay.
 *
 * Each IP packet of a pcap or pcapng file (capture.h) goes through
 * pipeline_run(), the very function the queue workers call, against a
 * snapshot built as the daemon builds it, and every packet that carried a
 * decision (r->decided) gives one line: JSON, or a readable form.
 *
 * Live, a connection stops being queued once the pipeline has settled it
 * (r->settled): the firewall marks it.  The replay does the same with a
 * bounded set of settled flows (protocol and both endpoints, either
 * direction): later packets of such a flow are skipped and counted, so
 * each flow gives one decision.  DNS is never settled: every query is its
 * own decision, live and here.
 *
 *   set: ring[max] of keys, in the order they were decided
 *        buckets[2^k >= 2 * max] -> index into ring -> next in chain
 *   full: the oldest decided flow is forgotten (counted as evicted); its
 *         later packets then run through the pipeline again.
 *
 * Only metadata is written: frame number, kind, name, action, categories.
 * Never a payload byte.  A name in a confidential category is written as
 * null, as the event log does.  Nothing here writes the event log; see
 * replay_snapshot().
 */
#ifndef SG_REPLAY_H
#define SG_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "flow.h"
#include "packet.h"
#include "pipeline.h"

#define REPLAY_LINE_MAX		4096	/* any line replay_format() writes */
#define REPLAY_DECIDED_DEFAULT	65536	/* decided flows remembered */
#define REPLAY_FLOWS_DEFAULT	4096	/* flow table slots */
#define REPLAY_FLOW_TIMEOUT	10	/* seconds, capture time */

struct snapshot;

struct replay_opts {
	bool		 json;		/* JSON lines, else readable lines */
	size_t		 max_decided;	/* 0: REPLAY_DECIDED_DEFAULT */
	size_t		 max_flows;	/* 0: REPLAY_FLOWS_DEFAULT */
	unsigned	 flow_timeout;	/* 0: REPLAY_FLOW_TIMEOUT */
};

struct replay_stats {
	uint64_t	 packets;	/* IP packets read from the file */
	uint64_t	 link_skipped;	/* frames without an IP packet */
	uint64_t	 decisions;	/* lines written */
	uint64_t	 blocked;	/* of those, blocked */
	uint64_t	 settled;	/* flows settled (marked, live) */
	uint64_t	 decided_skipped; /* packets of a flow already settled */
	uint64_t	 decided_evicted; /* decided flows forgotten for room */
	uint64_t	 outcomes[PL_OUTCOME_COUNT]; /* of packets run */
	struct flow_stats flows;	/* the replay's flow table */
};

/*
 * Builds the snapshot a replay runs on, as the daemon would (config_load(),
 * then snapshot_build() with the -L/-D overrides, each may be NULL) but
 * with no event log: the config's log.events is cleared before the build,
 * so no file is opened or created.  Needs no privilege.  NULL and the
 * reason in err (CONFIG_ERR_LEN bytes is enough) on failure; the caller
 * frees the result with snapshot_free().
 */
struct snapshot *replay_snapshot(const char *config_path,
	    const char *lists_dir, const char *lists_db, char *err,
	    size_t errlen);

/*
 * Runs every packet of the capture at path through the pipeline and
 * writes one line per decision to out.  stats (may be NULL) is filled in
 * even on failure.  Returns 0, or a negative sg_err with the reason in err:
 * the file cannot be opened or is damaged, or out cannot be written.
 */
int	replay_file(const struct snapshot *, const char *path,
	    const struct replay_opts *, FILE *out, struct replay_stats *,
	    char *err, size_t errlen) SG_WUR;

/*
 * Formats one decision (r->decided is true) of frame `frame` as a line
 * with its newline, NUL-terminated:
 *   {"frame":N,"kind":"dns|tls|http|quic","name":"..."|null,
 *    "action":"allow|block|drop","outcome":"...","categories":[...]}
 * with "ech":true and "no_sni":true added when they hold.  Name bytes that
 * are not printable ASCII, '"' and '\' are escaped (\u00XX): the name is
 * the bytes on the wire, which need not be UTF-8.  "categories" are every
 * category the name is in.  The readable form is tab-separated: frame,
 * kind, name (non-printable bytes as \ooo; "-" when none; "(confidential)"),
 * action, categories joined by ',' or "-", outcome, flags.
 * Returns the length, or SG_ELIMIT if buf is too small (REPLAY_LINE_MAX
 * always suffices).
 */
int	replay_format(const struct snapshot *, uint64_t frame,
	    const struct pipeline_result *r, bool json, char *buf,
	    size_t len) SG_WUR;

/* The set of decided flows; see above.  NULL and errno on failure. */
struct replay_flows;

struct replay_flows *replay_flows_new(size_t max);
void	replay_flows_free(struct replay_flows *);
/* Marks the flow of p decided; true if an older flow was forgotten to
 * make room.  Packets without ports (fragments, other protocols) are not
 * flows and are ignored. */
bool	replay_flows_add(struct replay_flows *, const struct packet *p);
/* Whether the flow of p, in either direction, is decided. */
bool	replay_flows_has(const struct replay_flows *, const struct packet *p);
size_t	replay_flows_count(const struct replay_flows *);

#endif
