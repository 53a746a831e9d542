/*
 * queue.h - one NFQUEUE: binding, receiving packets in batches, and giving
 * every packet exactly one verdict.  (The module is "nfq" in DESIGN.md; its
 * prefix is queue_ because libnetfilter_queue owns the nfq_ namespace.)
 *
 * queue_run() waits for packets and receives what is waiting (up to
 * QUEUE_BATCH packets) in one system call, calls the handler once per
 * packet, and sends all their verdicts in one sendto() - one message a
 * packet, or a single batch message when they all get the same verdict.
 * The handler returns the verdict; there is no way for a packet to leave
 * queue_run() without one.  One thread drives one queue.
 */
#ifndef SG_QUEUE_H
#define SG_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define QUEUE_BATCH	64

/*
 * ACCEPT and DROP end a packet's trip through the queue.  The SETTLE ones
 * end its connection's: the packet gets the QUEUE_MARK_DECIDED bit (and
 * QUEUE_MARK_BLOCK for SETTLE_BLOCK) on its mark, the others kept, and is
 * handed back to the hook from its start (NF_REPEAT), where the rules
 * (firewall.h) save those bits to the connection's mark, drop a blocked
 * connection and let a decided one through without queueing it again.
 * The ct mark cannot be set from a verdict directly here: that needs
 * CONFIG_NETFILTER_NETLINK_GLUE_CT, which kernels often lack.
 */
enum queue_verdict {
	QUEUE_ACCEPT, QUEUE_DROP, QUEUE_SETTLE_ALLOW, QUEUE_SETTLE_BLOCK
};

#define QUEUE_MARK_DECIDED	0x10000000u
#define QUEUE_MARK_BLOCK	0x20000000u
#define QUEUE_MARK_MASK		(QUEUE_MARK_DECIDED | QUEUE_MARK_BLOCK)
#define QUEUE_MARK_OWN		0x40000000u	/* packets safegated forges */

/* Netfilter hooks, as the kernel numbers them. */
enum queue_hook {
	QUEUE_HOOK_PREROUTING = 0,
	QUEUE_HOOK_INPUT = 1,
	QUEUE_HOOK_FORWARD = 2,
	QUEUE_HOOK_OUTPUT = 3,
	QUEUE_HOOK_POSTROUTING = 4,
};

/* One queued packet.  Points into the receive buffer: valid for the call. */
struct queue_packet {
	uint32_t	 id;
	uint8_t		 hook;
	const uint8_t	*data;		/* the IP packet */
	size_t		 len;
	bool		 truncated;	/* the kernel copied less than all */
	bool		 has_mac;
	uint8_t		 mac[6];	/* source MAC, when the kernel has it */
	uint32_t	 indev, outdev;	/* interface indexes, 0 if none */
	uint32_t	 mark;		/* the packet's mark as it came */
};

typedef enum queue_verdict queue_handler(void *arg,
    const struct queue_packet *);

struct queue_stats {
	uint64_t	packets;	/* packets received */
	uint64_t	verdicts;	/* verdicts sent */
	uint64_t	enobufs;	/* receive overruns: the kernel dropped */
	uint64_t	send_errors;	/* verdict batches the kernel refused */
	uint64_t	bad_messages;	/* netlink messages we could not read */
};

/*
 * Binds queue `num`.  fail_open asks the kernel to accept, rather than
 * drop, packets when the queue is full.  NULL and errno on failure
 * (EBUSY: another process holds the queue; EPERM: no CAP_NET_ADMIN).
 */
struct queue *queue_open(uint16_t num, bool fail_open, uint32_t max_len);
void	queue_close(struct queue *);
int	queue_fd(const struct queue *);
uint16_t queue_num(const struct queue *);

/*
 * Waits up to timeout_ms (0: not at all) for packets, handles every packet
 * waiting then, up to QUEUE_BATCH, and sends their verdicts.  Returns the
 * number handled (0 if none came) or -errno on a socket error.
 */
int	queue_run(struct queue *, queue_handler *, void *arg, int timeout_ms)
	    SG_WUR;

/* A consistent copy of the counters (readable from any thread). */
void	queue_get_stats(const struct queue *, struct queue_stats *);

/*
 * The kernel's side of a queue, from its table
 * /proc/net/netfilter/nfnetlink_queue (of the caller's network namespace):
 * what safegated's own counters cannot see, because it never receives it.
 */
struct queue_kernel_stats {
	uint64_t	waiting;	/* queued now, waiting for a verdict */
	uint64_t	full_dropped;	/* dropped, the queue full (fail-closed;
					   fail-open passes are not counted) */
	uint64_t	socket_dropped;	/* dropped, our socket's buffer full
					   (what reaches us as ENOBUFS) */
	uint32_t	last_id;	/* ids handed out since the queue was
					   bound: every packet the kernel took,
					   passed or dropped when full
					   included; wraps at 2^32 */
};

#define QUEUE_KERNEL_TABLE	"/proc/net/netfilter/nfnetlink_queue"

/* Queue num's line of the table's text: 0, -ENOENT (not bound) or
 * -EINVAL (a line that does not read as the kernel writes it). */
int	queue_kernel_parse(const char *text, uint16_t num,
	    struct queue_kernel_stats *) SG_WUR;
/* The same from the table itself; -errno when it cannot be read. */
int	queue_kernel_stats(uint16_t num, struct queue_kernel_stats *) SG_WUR;

#endif
