/*
 * syslogfwd.h - the event lines, forwarded as RFC 5424 syslog over UDP,
 * TCP or TLS to the log platform a school trust or a local authority
 * already runs (rsyslog, Graylog, Elastic).
 *
 * One thread owns the connection.  Callers hand it event lines with
 * syslogfwd_send(), which copies the line into a bounded queue (a ring
 * allocated once at start: SYSLOGFWD_QUEUE_MSGS messages or
 * SYSLOGFWD_QUEUE_BYTES bytes, whichever comes first) and returns: it
 * never waits for the network, never allocates, and makes a system call
 * only to wake the thread when the thread sleeps with nothing to do.  When
 * the queue is full the oldest messages are dropped, and counted, to make
 * room: while the receiver is away the latest events are the ones kept.
 *
 * What goes on the wire, one message per event line:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME safegated PROCID MSGID SD MSG
 *
 *   PRI        facility * 8 + severity
 *   TIMESTAMP  the time syslogfwd_send() was called, UTC, microseconds:
 *              2023-11-14T22:13:20.123456Z
 *   HOSTNAME   given at start (gethostname() by default), or "-"
 *   PROCID     the pid
 *   MSGID      the event's kind ("dns", "tls", ...) if the caller gives
 *              it, else "event"
 *   SD         [safegate@32473 seq="N" hash="HEX"] when the caller gives
 *              the record's hash chain position, else "-"
 *   MSG        the JSON line as given, without its newline, and without a
 *              BOM: the lines are ASCII (evlog escapes every other byte),
 *              which is RFC 5424's MSG-ANY, and a BOM in front would make
 *              the receivers' JSON parsers (rsyslog mmjsonparse, Graylog
 *              and Elastic JSON extractors) refuse the line.
 *
 * UDP (RFC 5426): one datagram per message, not truncated.  RFC 5426 asks
 * receivers to take 2048 bytes and lets them truncate longer messages;
 * cutting a JSON line ourselves would give the same broken JSON, while
 * rsyslog, syslog-ng and Graylog all take 8 KiB by default, which every
 * event line fits (EVLOG_LINE_MAX).  UDP loses what the network loses:
 * use TCP or TLS where the record must be whole.
 *
 * TCP (RFC 6587) and TLS (RFC 5425): octet counting, "LEN SP MSG".  TLS
 * is 1.2 or later; the server's certificate must chain to `ca` (a PEM file
 * or a hashed directory; "" or NULL: the system's store) and match the
 * target's host (its DNS name, or its address for an IP literal), and the
 * name goes in SNI.  A connection that fails, a handshake that is refused
 * and a write that fails are logged (rate-limited) and retried after a
 * backoff that doubles from 1 s to 60 s; the first retry after a working
 * connection is lost is immediate (but at most one connection a second,
 * so a receiver that accepts and hangs up is not hammered).  A message is removed from the queue
 * only once written to the socket whole, so one caught by a broken
 * connection is sent again on the next: a receiver may see a message
 * twice, never a gap that is not counted in `dropped`.  Receivers never
 * speak on a syslog connection, so the thread reads only to notice that
 * the receiver closed it (and before every write).
 *
 * The target is read by syslogfwd_parse_target(): "udp://HOST:PORT",
 * "tcp://HOST:PORT" or "tls://HOST:PORT"; HOST a DNS name, an IPv4
 * address or an IPv6 address in brackets; ":PORT" may be left out for the
 * registered ports (514 for udp and tcp, 6514 for tls).  The name is
 * resolved by the thread at every connection, so a receiver that moves is
 * followed.
 */
#ifndef SG_SYSLOGFWD_H
#define SG_SYSLOGFWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define SYSLOGFWD_QUEUE_MSGS	4096
#define SYSLOGFWD_QUEUE_BYTES	(4u * 1024 * 1024)
#define SYSLOGFWD_LINE_MAX	8192	/* = EVLOG_LINE_MAX */
#define SYSLOGFWD_HOST_MAX	255	/* RFC 5424 HOSTNAME */
#define SYSLOGFWD_MSGID_MAX	32	/* RFC 5424 MSGID */
#define SYSLOGFWD_HASH_MAX	128	/* bytes of the SD hash value */
#define SYSLOGFWD_FACILITY_MAX	23
/*
 * The SD-ID.  32473 is the example Private Enterprise Number of RFC 5612,
 * reserved for documentation; a deployment with its own PEN sets
 * syslogfwd_opts.sd_id (the config may expose it later).
 */
#define SYSLOGFWD_SD_ID		"safegate@32473"

enum syslogfwd_proto { SYSLOGFWD_UDP, SYSLOGFWD_TCP, SYSLOGFWD_TLS };

struct syslogfwd_target {
	enum syslogfwd_proto proto;
	char		 host[SYSLOGFWD_HOST_MAX + 1];	/* without brackets */
	uint16_t	 port;
	bool		 host_is_ip;	/* an IPv4 or IPv6 literal */
};

/*
 * Reads a target (see above) into *t.  Returns 0, or -EINVAL with what is
 * wrong in err (errlen bytes), for example "syslog target: expected
 * udp://, tcp:// or tls://".  Config loading may use it to refuse a bad
 * target at once.
 */
int	syslogfwd_parse_target(const char *, struct syslogfwd_target *t,
	    char *err, size_t errlen) SG_WUR;

/* Knobs, for tests above all: a zero field takes the default given. */
struct syslogfwd_opts {
	size_t		 queue_msgs;	/* SYSLOGFWD_QUEUE_MSGS */
	size_t		 queue_bytes;	/* SYSLOGFWD_QUEUE_BYTES; at least
					   64 KiB */
	unsigned	 retry_min_ms;	/* first backoff; 1000 */
	unsigned	 retry_max_ms;	/* backoff cap; 60000 */
	unsigned	 timeout_ms;	/* connect, handshake, a stalled
					   write; 10000 */
	unsigned	 stop_ms;	/* syslogfwd_stop()'s flush; 2000 */
	const char	*sd_id;		/* SYSLOGFWD_SD_ID; an RFC 5424
					   SD-NAME, copied */
};

struct syslogfwd;

/*
 * Starts the thread, which connects at once and keeps the connection up.
 * target as syslogfwd_parse_target(); ca: the CA file or directory for
 * TLS, NULL or "" for the system's store (ignored for udp and tcp);
 * facility 0..23; hostname: HOSTNAME (1..255 bytes of 33..126), NULL for
 * gethostname().  A receiver that is down is not an error here: the thread
 * retries.  Returns NULL and sets errno (EINVAL: a bad argument or CA;
 * ENOMEM; a thread's or eventfd's errno) with the reason in err.
 */
struct syslogfwd *syslogfwd_start(const char *target, const char *ca,
	    unsigned facility, const char *hostname, char *err,
	    size_t errlen);
/* The same with knobs; opts may be NULL, and is copied. */
struct syslogfwd *syslogfwd_start_opts(const char *target, const char *ca,
	    unsigned facility, const char *hostname,
	    const struct syslogfwd_opts *opts, char *err, size_t errlen);

/*
 * Flushes what is queued for at most opts.stop_ms (trying to connect once
 * more if the connection is down; a name lookup under way is waited for),
 * then stops and joins the thread, says in the log how many messages were
 * left behind, and frees everything.  NULL is a no-op.
 */
void	syslogfwd_stop(struct syslogfwd *);

/*
 * Queues one event line (a trailing "\n" is dropped; the line is copied)
 * with severity 0..7 (syslog(3)'s LOG_EMERG .. LOG_DEBUG), MSGID "event"
 * and no structured data.  Thread-safe, and never blocks on the network.
 * Returns 0 when queued (an older message may have been dropped for it),
 * -EINVAL for a bad severity or an empty line, SG_ELIMIT (counted as
 * dropped) for a line longer than SYSLOGFWD_LINE_MAX.  A NULL syslogfwd
 * takes nothing and returns 0: forwarding is off.
 */
int	syslogfwd_send(struct syslogfwd *, const char *line, size_t len,
	    int severity);

/* What the event log knows about a line beyond its text. */
struct syslogfwd_meta {
	const char	*kind;	/* MSGID: 1..32 bytes of 33..126; NULL:
				   "event" */
	const char	*hash;	/* the record's chain hash, 1..128 bytes of
				   33..126 (hex); NULL: SD "-" */
	uint64_t	 seq;	/* its sequence number, with hash */
};

/* syslogfwd_send() with MSGID and SD from meta (may be NULL); -EINVAL
 * also for a kind or hash out of form.  meta's strings are copied. */
int	syslogfwd_send_meta(struct syslogfwd *, const char *line, size_t len,
	    int severity, const struct syslogfwd_meta *meta);

/* Counters since start. */
struct syslogfwd_stats {
	uint64_t	sent;		/* messages written to the socket */
	uint64_t	dropped;	/* pushed out by a full queue, too
					   long, or lost with a datagram or
					   write that failed after they had
					   been pushed out */
	uint64_t	reconnects;	/* connections made after the first */
	uint64_t	errors;		/* failed resolutions, connections,
					   handshakes and writes, and
					   connections the receiver closed */
	uint64_t	queued;		/* waiting now */
	bool		connected;
};

void	syslogfwd_stats(const struct syslogfwd *, struct syslogfwd_stats *);

/*
 * Formatting, exposed for the tests.  One message's fields: the strings
 * are NUL-terminated unless a length says otherwise.
 */
struct syslogfwd_msg {
	struct timespec	 ts;		/* CLOCK_REALTIME */
	unsigned	 facility;	/* 0..23 */
	int		 severity;	/* 0..7 */
	const char	*hostname;	/* NULL: "-" */
	long		 pid;
	const char	*msgid;		/* NULL: "event" */
	const char	*sd_id;		/* NULL: SYSLOGFWD_SD_ID */
	const char	*hash;		/* NULL: SD "-" */
	size_t		 hash_len;
	uint64_t	 seq;
	const char	*msg;
	size_t		 msg_len;
};

/*
 * Writes the RFC 5424 message (no framing, no newline) into buf, with a
 * NUL after it.  In the SD value '"', '\' and ']' are escaped with '\'
 * (RFC 5424 6.3.3).  Returns its length (without the NUL), -EINVAL for a
 * facility, severity or time out of range, or SG_ELIMIT if it and the NUL
 * do not fit in len bytes.
 */
int	syslogfwd_format(const struct syslogfwd_msg *, char *buf, size_t len)
	    SG_WUR;

/*
 * RFC 6587 octet counting: writes "LEN SP MSG" into buf (no NUL).
 * Returns its length or SG_ELIMIT.
 */
int	syslogfwd_frame(const char *msg, size_t msg_len, char *buf,
	    size_t len) SG_WUR;

#endif
