/*
 * pipeline.h - what safegate does with one packet: parse, classify, ask the
 * policy, and say what to do - the verdict, any packets to forge, and the
 * event to record.  It does no I/O, so the same code serves NFQUEUE (live)
 * and libpcap (replay, tests, benchmarks): a replay gives exactly the
 * decisions live traffic gets.
 *
 * This slice classifies DNS over UDP and TCP (port 53).  A packet the
 * pipeline cannot read is dropped, never passed unchecked: a parser that
 * disagrees with the resolver would be a way around the filter.
 */
#ifndef SG_PIPELINE_H
#define SG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns.h"
#include "packet.h"
#include "policy.h"

struct snapshot;

/* Why a packet got its verdict; each has a counter. */
enum pipeline_outcome {
	PL_ACCEPT_NOT_DNS,	/* not UDP/TCP to port 53 */
	PL_ACCEPT_NO_PAYLOAD,	/* a TCP segment without data */
	PL_ACCEPT_RESPONSE,	/* a DNS response, not a query */
	PL_ACCEPT_NO_QUESTION,	/* a query without a question */
	PL_ACCEPT_ALLOWED,	/* every name allowed */
	PL_DROP_MALFORMED,	/* IP, UDP, TCP or DNS we cannot read */
	PL_DROP_FRAGMENT,	/* part of a fragmented datagram */
	PL_DROP_TCP_PARTIAL,	/* TCP data not whole DNS messages */
	PL_DROP_BLOCKED,	/* blocked over UDP: answer forged */
	PL_DROP_BLOCKED_RESET,	/* blocked over TCP: connection reset */
	PL_OUTCOME_COUNT
};

struct pipeline_meta {
	struct timespec	 ts;		/* CLOCK_REALTIME */
	bool		 has_mac;
	uint8_t		 mac[6];
	uint32_t	 indev, outdev;
	bool		 truncated;	/* the capture holds less than all */
};

struct pipeline_out {
	uint8_t		 pkt[PACKET_FORGE_MAX];
	size_t		 len;
};

struct pipeline_result {
	bool		 drop;		/* the verdict */
	enum pipeline_outcome outcome;
	int		 err;		/* why, for PL_DROP_MALFORMED */
	/* packets to send: a DNS answer, or resets to client and server */
	struct pipeline_out out[2];
	size_t		 nout;
	uint32_t	 ifindex;	/* scope for link-local replies */
	/* what was decided, for the event log; valid for PL_ACCEPT_ALLOWED
	 * and the blocked outcomes */
	struct packet	 pkt;
	struct request	 req;
	struct decision	 dec;
	const char	*action;	/* "nxdomain", "null", "address",
					   "reset" */
	char		 name[DNS_TEXT_MAX + 1];	/* req.name points here */
};

void	pipeline_run(const struct snapshot *, const struct pipeline_meta *,
	    const uint8_t *pkt, size_t len, struct pipeline_result *);

const char *pipeline_outcome_name(enum pipeline_outcome);

#endif
