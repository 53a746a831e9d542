/*
 * evlog.h - the events file: one JSON line per decision worth keeping.
 *
 * Only metadata is ever written: time, client address and MAC, the name
 * asked for, its type, the categories that blocked it, the rule that
 * matched and the action taken.  Never a payload.  Whole lines (one event,
 * or a worker's batch of them) go out in one write() to a file opened
 * O_APPEND, so lines from several worker threads never interleave.
 *
 * (The hash chain, rotation and retention of the safeguarding record build
 * on this file format later; every line is already a complete JSON object.)
 */
#ifndef SG_EVLOG_H
#define SG_EVLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "err.h"

#define EVLOG_LINE_MAX	8192

struct evlog;

struct event {
	struct timespec	 ts;		/* CLOCK_REALTIME */
	const char	*kind;		/* "dns" */
	const char	*transport;	/* "udp" or "tcp" */
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
	 * entry's list and hash are, as "list" and "rule":"hash:HEX".
	 */
	bool		 ech;		/* TLS: encrypted_client_hello was
					   used; the name is the outer one */
	bool		 confidential;
	const char	*list;
	const uint8_t	*hash;		/* 32 bytes */
	const char	*action;	/* "nxdomain", "null", "address",
					   "reset" */
	/* Written when profile is not NULL: the device's name (or null) and
	   profile; when reason is not NULL: why (policy_reason_name()) and
	   the schedule in force that blocked, if any. */
	const char	*device;
	const char	*profile;
	const char	*reason;
	const char	*schedule;
};

/* Opens (creating, mode 0640) for appending.  The parent directory is
 * created (0750) if missing.  NULL and errno on failure. */
struct evlog *evlog_open(const char *path);
void	evlog_close(struct evlog *);

/* Formats one event as a JSON line with its newline.  Returns the length,
 * or SG_ELIMIT if it does not fit (it always fits in EVLOG_LINE_MAX). */
int	evlog_format(const struct event *, char *buf, size_t len) SG_WUR;

/* Appends one event.  0 or a negative sg_err. */
int	evlog_write(struct evlog *, const struct event *) SG_WUR;

/*
 * Appends lines already formatted with evlog_format(), in one write(), so
 * a batch of events costs one system call and never interleaves with
 * another thread's.  0 or -errno.
 */
int	evlog_append(struct evlog *, const char *lines, size_t len) SG_WUR;

#endif
