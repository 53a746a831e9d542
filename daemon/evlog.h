/*
 * evlog.h - the events file, the safeguarding record: one JSON line per
 * event worth keeping, each line chained to the one before it by SHA-256,
 * so that editing, deleting, reordering or cutting short any line shows.
 *
 * Only metadata is ever written: time, client address and MAC, device and
 * profile, the name asked for, its type, the categories that blocked it,
 * the rule that matched, the action taken, an indicator and its severity.
 * Never a payload, and never the name of a confidential match.
 *
 * The format
 * ----------
 * Each line is one JSON object and ends with "\n".  Members come in this
 * order, with no blanks between tokens:
 *
 *   {"seq":N,"ts":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ","kind":"K", BODY
 *    [,"hold":true] ,"prev":"<64 hex>","hash":"<64 hex>"}
 *
 *   seq   1 for the first event ever, then +1 for every event, across
 *         rotated files and restarts: it never repeats and never skips.
 *   ts    UTC, microseconds (safegated -T moves it with the test clock).
 *   kind  "dns", "tls", "http", "quic" (a blocked request), "indicator"
 *         (the risk engine), "log" (the log's own events) or "hold".
 *   hold  present on an abuse-list (confidential) hit and on every hold
 *         event: retention never deletes the file that holds it.
 *   prev  the hash of the event before; 64 zeros before seq 1.
 *   hash  lowercase hex SHA-256 of the line's bytes from its '{' up to,
 *         not including, the `,"hash":"` that introduces it (so prev is
 *         covered: each hash commits to every event before it).
 *
 * BODY of a request event (kind dns, tls, http, quic, indicator), each
 * member optional as marked:
 *   ,"transport":"udp"|"tcp" ,"client":"ADDR" ,"mac":"MAC"|null
 *   [,"device":"D"|null,"profile":"P"] ,"name":"NAME"|null
 *   [,"qtype":"A"] ,"categories":["C",...]
 *   ,"rule":"RULE" | ,"rule":"hash:<64 hex>","list":"LIST" (confidential:
 *       the name is null and never written anywhere)
 *   [,"ech":true] [,"reason":"R"] [,"schedule":"S"] [,"action":"A"]
 *   [,"indicator":"I","severity":"info"|"warning"|"critical"]
 * BODY of the log's own events (kind "log") and of holds, exactly:
 *   ,"action":"lost","count":N         N events could not be recorded
 *                                      since the last such event: the
 *                                      queue was full (the writer behind,
 *                                      or the file refusing writes), or
 *                                      they found no room while it did
 *   ,"action":"recovered","length":L   the line before this one is the
 *                                      L-byte start of a line a crash cut
 *                                      short (its bytes are left as they
 *                                      were; they are no event)
 *   ,"action":"reopened"               the first event after the log moved
 *                                      to this file (a reload changed the
 *                                      path)
 *   ,"action":"purged","after":X,"after_hash":"<hex>","before":Y,
 *       "before_prev":"<hex>"          retention deleted the files between
 *                                      seq X (whose hash is after_hash) and
 *                                      seq Y (whose prev is before_prev)
 *   kind "hold": ,"action":"hold","target":SEQ,"reason":"R" and "hold":true
 *
 * Files.  The log is PATH; a rotation (events_rotate_bytes, or local
 * midnight with events_rotate_daily) renames it PATH.YYYYMMDD-HHMMSS (UTC;
 * -NN added if that name is taken), so the rotated files sort by name in
 * the order they were written, and starts a new PATH whose first event
 * continues the chain.  Retention (events_keep_days) deletes rotated files
 * last written more than that many days ago, except a file holding a
 * "hold":true line or an event some hold event names; a "purged" event
 * then bridges the gap the deletion leaves between the files kept.
 *
 * Crash recovery.  evlog_open() reads the end of PATH: the last complete
 * line gives seq and hash.  A last line without its newline (a write cut
 * short) is ended with "\n" and followed by a "recovered" event that
 * records its length.  A PATH with no chained line at its end (a file of an
 * older safegate) is moved aside to PATH.unchained-YYYYMMDD-HHMMSS, which
 * neither verify nor retention touches.  An empty or missing PATH continues
 * the chain of the newest rotated file.  Nothing here stops the daemon.
 *
 * Threads
 * -------
 *
 *   workers, main, risk          bounded MPSC ring                writer
 *   evlog_put(): format on  ──▶ ┌──────────────────────────┐ ──▶ thread
 *   the stack, reserve with     │hdr body│hdr body│  free  │    seq, prev,
 *   one CAS, copy, commit;      └──────────────────────────┘    hash; one
 *   a full ring is counted      tail (writer)   head (CAS)      write() a
 *   (a "lost" event follows)                                    batch
 *
 * Producers never lock, allocate or block: a full ring loses the event and
 * counts it.  The writer thread drains the ring in order, numbers and
 * chains the events, writes each batch with one write(), fsyncs after a
 * critical event (an abuse-list hit, a critical indicator, a hold) and
 * otherwise once a second, rotates and purges.  It alone touches the file
 * and the chain, so the chain cannot fork.
 *
 * A file that refuses writes (ENOSPC, EDQUOT, EROFS, EIO, ...) loses
 * nothing that can be held:
 *
 *   write() fails ──▶ the whole lines that went in stay, the part of a line
 *   or falls short    after them is cut off (ftruncate(); should that fail
 *                     too, the rest of the batch completes it later); the
 *                     rest of the batch (at most 256 KiB) is kept, and the
 *                     writer stops draining: events wait in the ring
 *                     (queue_bytes), producers go on, and what the full
 *                     ring refuses is counted as lost, as ever
 *   100 ms later,  ──▶ the writer tries the kept batch again (after EROFS or
 *   doubling to 5 s    EIO it closes the file at once, so that it can be
 *                     remounted, and opens PATH anew at each try)
 *   a try works    ──▶ the kept batch, then the ring in order, then a "lost"
 *                     event with the count of what the ring refused
 *
 * So the file always ends with a whole line (but for the rare write cut
 * short that ftruncate() cannot take back either, completed later), the
 * chain has a line in the file for every seq it gave out, and the only
 * events lost are the ring's overflow, counted in a "lost" event.  While
 * the file refuses, evlog_sync() and evlog_hold() fail at once with its
 * error, evlog_reopen() (to another disk, say) goes ahead of the events
 * held, and evlog_get_stats() says so (refusing, held).  After EROFS or
 * EIO, PATH is taken again only on the file system it was on.
 * The events still held when the daemon stops are lost, counted in errors
 * (and said in the log); the chain goes on from the file's end at the
 * next start, as ever.
 */
#ifndef SG_EVLOG_H
#define SG_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "err.h"

#define EVLOG_LINE_MAX	8192	/* a BODY always fits */
/* A whole line: BODY plus seq, prev, hash and the rest of the frame. */
#define EVLOG_FRAME_MAX	200
#define EVLOG_HASH_HEX	64
#define EVLOG_QUEUE_DEFAULT	(1024 * 1024)	/* ring bytes */
#define EVLOG_REASON_MAX	200	/* a hold's reason, bytes */

struct evlog;

struct event {
	struct timespec	 ts;		/* CLOCK_REALTIME */
	const char	*kind;		/* "dns", "tls", ..., "indicator" */
	const char	*transport;	/* "udp" or "tcp"; NULL: none */
	struct sg_addr	 client;
	const uint8_t	*mac;		/* 6 bytes, or NULL when unknown */
	const char	*name;		/* not NUL-terminated; any bytes */
	size_t		 name_len;
	uint16_t	 qtype;
	uint64_t	 categories;	/* the categories that blocked it */
	const char *const *category_names; /* indexed by category id */
	size_t		 ncategory_names;
	const char	*rule;		/* the listed name that matched */
	size_t		 rule_len;
	/*
	 * A confidential match: the name and rule are never written; the
	 * entry's list and hash are, as "list" and "rule":"hash:HEX".  It is
	 * a critical event, held ("hold":true).
	 */
	bool		 ech;		/* TLS: encrypted_client_hello was
					   used; the name is the outer one */
	bool		 confidential;
	const char	*list;
	const uint8_t	*hash;		/* 32 bytes */
	const char	*action;	/* "nxdomain", "null", "address",
					   "reset"; NULL: none */
	/* Written when profile is not NULL: the device's name (or null) and
	   profile; when reason is not NULL: why (policy_reason_name()) and
	   the schedule in force that blocked, if any. */
	const char	*device;
	const char	*profile;
	const char	*reason;
	const char	*schedule;
	/* Kind "indicator" (risk.h): which, and how grave; "critical" is
	   synced to disk at once. */
	const char	*indicator;
	const char	*severity;
	bool		 hold;		/* "hold":true (implied by
					   confidential) */
};

/* What the writer is about to do to the file (evlog_opts.io_fault). */
enum evlog_io {
	EVLOG_IO_WRITE,		/* write(2) of len bytes */
	EVLOG_IO_SYNC,		/* fdatasync(2) */
	EVLOG_IO_TRUNCATE,	/* ftruncate(2), taking back a write */
	EVLOG_IO_OPEN,		/* open(2) of PATH again, after EROFS or EIO */
};

/* The writer's settings; zeroes are the defaults. */
struct evlog_opts {
	uint64_t	 rotate_bytes;	/* 0: no rotation by size */
	bool		 rotate_daily;	/* at local midnight */
	unsigned	 keep_days;	/* rotated files; 0: keep all */
	size_t		 queue_bytes;	/* 0: EVLOG_QUEUE_DEFAULT; at least
					   16 KiB, rounded up to a power of 2 */
	unsigned	 sync_ms;	/* fsync at most this late; 0: 1000 */
	time_t		 clock_offset;	/* added to the wall clock for the
					   log's own events and rotation
					   (safegated -T) */
	/*
	 * Tests only (NULL in the daemon): a fault to inject, called in the
	 * writer before each call of enum evlog_io, with the file's
	 * descriptor (-1 for EVLOG_IO_OPEN).  0 lets it be made; a -errno
	 * fails it with that, unmade; for a write, a length 0 < n < len
	 * makes it a short write of n bytes.  Set at evlog_open(), never
	 * changed (evlog_set_opts() leaves it).
	 */
	long		(*io_fault)(void *arg, enum evlog_io, int fd,
			    size_t len);
	void		*io_fault_arg;
};

struct evlog_stats {
	uint64_t	 written;	/* lines written */
	uint64_t	 errors;	/* events a refusing file lost: those
					   still held at exit or at a reopen
					   to nothing, and those that found no
					   room while it refused */
	uint64_t	 lost;		/* events a full queue lost */
	uint64_t	 observe_lost;	/* observations it refused */
	uint64_t	 rotations;
	uint64_t	 purged;	/* rotated files deleted */
	uint64_t	 seq;		/* of the last line written */
	uint64_t	 write_errors;	/* write(), fdatasync() and reopen
					   calls that failed */
	uint64_t	 outages;	/* times the file began to refuse */
	uint64_t	 held;		/* events waiting for the file to
					   take writes (counted at each try;
					   0 while it takes them) */
	size_t		 queue_bytes;	/* the queue's size, */
	size_t		 queued_bytes;	/* and how much of it is in use */
	int		 refusing;	/* 0, or the -errno the file refuses
					   writes with now */
	uint64_t	 refusing_ms;	/* for how long, so far */
};

/*
 * Formats an event's BODY: the members from "ts" up to and with "hold",
 * without braces, seq, prev, hash or newline (the writer adds those).
 * No allocation, no lock: called on the packet path.  Returns the length,
 * or SG_ELIMIT if it does not fit (it always fits in EVLOG_LINE_MAX).
 */
int	evlog_format(const struct event *, char *buf, size_t len) SG_WUR;

/* Whether the event must reach the disk at once (evlog.h, above). */
bool	evlog_critical(const struct event *);

/*
 * Opens PATH for appending (creating it 0640, and its folder 0750), and
 * recovers the chain from its end as above; then applies retention.  The
 * writer thread is not running yet: evlog_start() starts it (after
 * daemon(), which threads do not survive).  Events put before then wait in
 * the queue.  NULL and errno on failure; opts may be NULL.
 */
struct evlog *evlog_open(const char *path, const struct evlog_opts *);
int	evlog_start(struct evlog *) SG_WUR;
/* Writes and syncs everything queued, stops the writer, frees.  No
 * producer may be running. */
void	evlog_close(struct evlog *);

/*
 * Queues one event for the writer; any thread, never blocking.  0, or
 * SG_ELIMIT when the queue is full (the event is counted as lost, and a
 * "lost" event records the count), or SG_ELIMIT from evlog_format().
 * evlog_put() leaves waking the writer to evlog_kick(), once per batch;
 * the writer also wakes by itself within sync_ms.  evlog_submit() is
 * evlog_put() and evlog_kick().
 */
int	evlog_put(struct evlog *, const struct event *);
void	evlog_kick(struct evlog *);
int	evlog_submit(struct evlog *, const struct event *);

/*
 * The main thread's requests: each waits (at most a few seconds) until the
 * writer has done it and synced the file.  One thread at a time.
 *
 * evlog_hold(): appends a hold event naming `target` (1 .. the last seq
 * written, else -ERANGE) with reason (may be NULL; at most
 * EVLOG_REASON_MAX bytes, else -E2BIG), and gives the hold event's own seq.
 * evlog_sync(): everything queued before it is written and synced.
 * evlog_reopen(): the log moves to path (opened here, so an error is the
 * caller's: 0 or -errno), the chain carrying on; NULL or "" closes it and
 * later events are dropped uncounted.  evlog_set_opts(): rotation and
 * retention (not the queue), from the next event on.
 * While the file refuses writes, evlog_sync() and evlog_hold() fail at
 * once with its -errno (a hold is then not written at all), and one whose
 * own write is refused fails with that.  evlog_reopen() then goes ahead
 * of the events waiting: those the old file refused are written to the
 * new one first, then its "reopened" event, then the queue's, in order.
 */
int	evlog_hold(struct evlog *, uint64_t target, const char *reason,
	    uint64_t *hold_seq) SG_WUR;
int	evlog_sync(struct evlog *) SG_WUR;
int	evlog_reopen(struct evlog *, const char *path) SG_WUR;
void	evlog_set_opts(struct evlog *, const struct evlog_opts *);
void	evlog_get_stats(struct evlog *, struct evlog_stats *);

/*
 * The writer thread's hooks, for what must see the record in its order
 * and from one thread: the risk engine (risk.h: "called from the event
 * writer thread only") and syslog forwarding (syslogfwd.h).  Set before
 * evlog_start(), never after; arg is the hooks' own.
 *
 * observe(): called in the writer thread, in queue order, for each record
 * a producer queued with evlog_observe() (len bytes, copied: at most
 * EVLOG_LINE_MAX); it may write events with evlog_emit(), which chains
 * them at once, after everything queued before the observation.  An
 * observation the full queue refused is no event: it is counted apart
 * (evlog_stats.observe_lost), not in a "lost" event, which counts events
 * alone.
 * line(): called in the writer thread for each line once write() has put
 * it in the file (without its newline), with its seq, hash (64 hex digits,
 * not NUL-terminated) and kind.
 * tick(): called in the writer thread at least once a second, and after
 * each batch (alert_reap(), say).
 * Any of them may be NULL.
 */
struct evlog_hooks {
	void	(*observe)(void *arg, struct evlog *, const void *obs,
		    size_t len);
	void	(*line)(void *arg, const char *line, size_t len, uint64_t seq,
		    const char *hash, const char *kind, size_t kind_len);
	void	(*tick)(void *arg, struct evlog *);
	void	*arg;
};
void	evlog_set_hooks(struct evlog *, const struct evlog_hooks *);
/* Any thread, never blocking: 0 or SG_ELIMIT (full, counted as lost). */
int	evlog_observe(struct evlog *, const void *obs, size_t len);
/* From observe() only.  0, or SG_ELIMIT from evlog_format().  While the
 * file refuses writes, an event that finds the kept batch full is lost,
 * and counted (errors; a "lost" event). */
int	evlog_emit(struct evlog *, const struct event *);

/* ---------------------------------------------------------- reading */

/*
 * One line parsed, without its newline.  Pointers point into the line.
 * The frame is checked (seq, ts, kind, prev, hash and the log's own
 * events exactly); the hash is not: see evlog_line_hash_ok().
 */
struct evlog_line {
	uint64_t	 seq;
	const char	*ts;		/* without quotes */
	size_t		 ts_len;
	const char	*kind;
	size_t		 kind_len;
	const char	*action;	/* kinds "log" and "hold"; else NULL */
	size_t		 action_len;
	uint64_t	 count;		/* "lost" */
	uint64_t	 length;	/* "recovered" */
	uint64_t	 target;	/* "hold" */
	uint64_t	 after, before;	/* "purged" */
	const char	*after_hash, *before_prev;	/* 64 hex each */
	bool		 hold;
	const char	*prev;		/* 64 hex */
	const char	*hash;		/* 64 hex */
	size_t		 hashed_len;	/* bytes from '{' the hash covers */
};

/* 0, or SG_EMALFORMED naming nothing more: the caller says where. */
int	evlog_parse_line(const char *line, size_t len,
	    struct evlog_line *) SG_WUR;
bool	evlog_line_is(const struct evlog_line *, const char *kind,
	    const char *action);
/* Whether the line's hash is the SHA-256 of its hashed bytes. */
bool	evlog_line_hash_ok(const char *line, const struct evlog_line *);

/*
 * The end of a file, for crash recovery: buf holds its last len bytes
 * (whole: the file's start is buf's).  Finds the last complete line that
 * parses as an event.
 */
struct evlog_tail {
	bool		 found;
	uint64_t	 seq;		/* of that line */
	char		 hash[EVLOG_HASH_HEX + 1];
	size_t		 partial;	/* bytes after the last newline */
	size_t		 skipped;	/* complete lines after it that are
					   not events */
	bool		 need_more;	/* nothing found, and buf is not the
					   whole file: read further back */
};
void	evlog_tail(const char *buf, size_t len, bool whole,
	    struct evlog_tail *);

/*
 * The rotated files of path (PATH.YYYYMMDD-HHMMSS[-NN]) in the order they
 * were written, as full paths.  0 or -errno; a missing folder is none.
 * The caller frees with evlog_names_free().
 */
int	evlog_rotated(const char *path, char ***names, size_t *n) SG_WUR;
void	evlog_names_free(char **names, size_t n);

/*
 * Checks the chain through files read in the order given (the rotated
 * files, then PATH).  The first event of the first file anchors it (its
 * prev must be zeros if its seq is 1).  A line cut short and followed by a
 * "recovered" event of its length is excused; so is a gap between two
 * files that a later "purged" event bridges exactly.  Anything else stops
 * the check at the first bad line, which the report names.
 */
struct evlog_report {
	bool		 intact;
	uint64_t	 events;	/* chained lines read */
	uint64_t	 first_seq, last_seq;
	char		 first_ts[40], last_ts[40];
	uint64_t	 torn;		/* cut-short lines excused */
	uint64_t	 lost;		/* sum of the "lost" counts */
	uint64_t	 holds;		/* "hold":true lines */
	uint64_t	 bridged;	/* gaps between files a purge left */
	/* when not intact: where and why (file is an index into paths) */
	size_t		 file;
	uint64_t	 line;		/* 1-based */
	char		 why[200];
};

/*
 * Returns 0 when every file could be read (intact or not: see report), or
 * -errno for the first that could not (report->file says which, and
 * report->line is 0).
 */
int	evlog_verify(const char *const paths[], size_t n,
	    struct evlog_report *) SG_WUR;
/* The same over files already in memory (the fuzz target's way in). */
void	evlog_verify_mem(const char *const bufs[], const size_t lens[],
	    size_t n, struct evlog_report *);

#endif
