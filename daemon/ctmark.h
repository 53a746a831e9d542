/*
 * ctmark.h - marking a connection blocked in the kernel's connection
 * tracker (ctnetlink), when there is no packet of it to give the verdict.
 *
 * A flow that gives way in the flow table with part of its name kept (it
 * stalled past the wait, or its place went to another flow: flow.h) must
 * not have the rest of its name read later as a new stream and let
 * through.  The table remembers it as a tomb, but tombs are bounded, and
 * a client that can make many of them can push its own out.  So the
 * connection's ct mark gets QUEUE_MARK_DECIDED and QUEUE_MARK_BLOCK
 * (queue.h), the other bits kept, as a SETTLE_BLOCK verdict would: the
 * rules (firewall.h) then drop its later packets in the kernel, whatever
 * the table remembers.
 *
 * The update is sent and not waited for; the kernel's answers (an error:
 * no such connection, when it has ended or was NATed past recognition,
 * or ctnetlink missing) are read back at the next send and counted.  One
 * per worker thread, opened before the thread's filters (priv.h) are in:
 * the sends need CAP_NET_ADMIN and a socket made beforehand.
 */
#ifndef SG_CTMARK_H
#define SG_CTMARK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

struct ctmark;

struct ctmark_stats {
	uint64_t	sent;		/* updates sent */
	uint64_t	refused;	/* answered with an error */
	uint64_t	send_errors;	/* not sent (the socket's error) */
	int		last_error;	/* the kernel's last answer, -errno */
};

/* NULL and errno when the socket cannot be made. */
struct ctmark *ctmark_open(void);
void	ctmark_close(struct ctmark *);

/* The original-direction tuple of the connection: client to server. */
struct ctmark_tuple {
	uint8_t		 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct sg_addr	 src, dst;
	uint16_t	 sport, dport;
};

/* Marks the connection blocked; 0, or -errno when it could not be sent
 * (counted).  Reads back what the kernel said of earlier ones first. */
int	ctmark_block(struct ctmark *, const struct ctmark_tuple *);

void	ctmark_get_stats(const struct ctmark *, struct ctmark_stats *);

/* The message ctmark_block() sends, built into buf: its length, or 0 if
 * it does not fit or the tuple is not one (exposed for tests). */
size_t	ctmark_build(void *buf, size_t len, uint32_t seq,
	    const struct ctmark_tuple *);

#endif
