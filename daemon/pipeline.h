/*
 * pipeline.h - what safegate does with one packet: parse, classify, ask the
 * policy, and say what to do - the verdict, any packets to forge, and the
 * event to record.  It does no I/O, so the same code serves NFQUEUE (live)
 * and libpcap (replay, tests, benchmarks): a replay gives exactly the
 * decisions live traffic gets.
 *
 * It classifies DNS over UDP and TCP (port 53), and the first packets of
 * connections: TCP to ports 80 and 443, and to the config's
 * connections.ports, by the TLS ClientHello's SNI or the HTTP request's
 * Host (whatever the port carries), UDP to port 443 by the QUIC Initial's
 * SNI (flow.h).  Those names go to the same policy as DNS names.  A
 * packet the pipeline cannot read is dropped, never passed unchecked: a
 * parser that disagrees with the resolver or the server would be a way
 * around the filter.
 *
 * Two settings of the snapshot's config (config.h, connections) go
 * further than names:
 *   quic = "block"   every datagram to UDP 443 is dropped unread
 *                    (PL_DROP_QUIC_POLICY) and its flow settled as
 *                    blocked, so the kernel drops the rest and browsers
 *                    fall back to TCP, where the name is judged.  It is no
 *                    decision on a name: counted, not decided, and no
 *                    event (one line per QUIC attempt would bury the names
 *                    that matter; the TCP retry is logged if blocked).
 *   no_sni = "block" a ClientHello without SNI, or a request without a
 *                    host, is refused (PL_DROP_NO_SNI): TCP reset both
 *                    ways, QUIC dropped.  It is a decision: decided and
 *                    settled, dec.action is ACTION_BLOCK with no category,
 *                    req.name is "" (length 0), action "reset" or "drop",
 *                    and the event line has kind tls, http or quic, name
 *                    "", categories [] and rule "".
 *
 * The device's profile (policy.h) goes further still:
 *   safe search      an allowed question for a search host (a single
 *                    question over UDP) is answered with a CNAME to the
 *                    safe host and its addresses from meta->sh
 *                    (PL_DROP_SAFE_SEARCH: dropped, answer forged; with no
 *                    address known yet, the CNAME alone).  A TLS, QUIC or
 *                    HTTP connection named after a search host must go to
 *                    one of the safe host's addresses, else it is reset
 *                    or dropped (PL_DROP_SEARCH_ADDRESS), once those are
 *                    known.  Over TCP DNS such a question is reset: the
 *                    answer cannot be forged into the stream.  A query
 *                    with several questions, one of them rewritten, is
 *                    dropped as malformed (SG_EUNSUPP): resolvers refuse
 *                    those anyway.
 *   bypass.ech       an allowed HTTPS or SVCB question gets NOERROR with
 *                    no data (PL_DROP_NODATA), so browsers use no ECH.
 *   outside_dns      "block": a query forwarded to another resolver
 *                    (meta->forwarded) is dropped, or reset over TCP
 *                    (PL_DROP_OUTSIDE_DNS), and recorded.
 *   bypass.dot       TCP or UDP to port 853 is reset or dropped
 *                    (PL_DROP_DOT), recorded with an empty name; else it
 *                    settles as allowed.
 *   fail             a full flow table fails open or closed as the
 *                    device's profile says.
 * These decisions set dec.reason (policy.h): safe-search, nodata and
 * search-address are allowed-then-answered or blocked by address;
 * outside-dns and dot are blocks with reason REASON_OUTSIDE_DNS and
 * REASON_DOT.
 */
#ifndef SG_PIPELINE_H
#define SG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns.h"
#include "flow.h"
#include "packet.h"
#include "policy.h"

struct snapshot;
struct pagelink;
struct overrides;
struct safehosts;

/* Why a packet got its verdict; each has a counter. */
enum pipeline_outcome {
	PL_ACCEPT_NOT_DNS,	/* not UDP/TCP to port 53 */
	PL_ACCEPT_NO_PAYLOAD,	/* a TCP segment without data */
	PL_ACCEPT_RESPONSE,	/* a DNS response, not a query */
	PL_ACCEPT_NO_QUESTION,	/* a query without a question */
	PL_ACCEPT_ALLOWED,	/* every name allowed */
	PL_ACCEPT_PENDING,	/* part of a ClientHello or request, kept */
	PL_ACCEPT_NOT_OURS,	/* a connection that is not TLS, HTTP or
				   QUIC we read */
	PL_ACCEPT_NO_SNI,	/* a ClientHello without SNI, or a request
				   without a host: allowed */
	PL_ACCEPT_FLOW_FULL,	/* no room to wait for the name; fail open */
	PL_DROP_MALFORMED,	/* IP, UDP, TCP or DNS we cannot read */
	PL_DROP_FRAGMENT,	/* part of a fragmented datagram */
	PL_DROP_TCP_PARTIAL,	/* TCP data not whole DNS messages */
	PL_DROP_BLOCKED,	/* blocked over UDP: answer forged */
	PL_DROP_BLOCKED_RESET,	/* blocked over TCP: connection reset */
	PL_DROP_BLOCKED_QUIC,	/* blocked QUIC: dropped */
	PL_DROP_FLOW_FULL,	/* no room to wait for the name; fail closed */
	PL_DROP_QUIC_POLICY,	/* UDP 443 while connections.quic = "block" */
	PL_DROP_NO_SNI,		/* no SNI or host, connections.no_sni =
				   "block": reset (TCP) or dropped (QUIC) */
	PL_DROP_SAFE_SEARCH,	/* allowed, answered with the safe host's
				   CNAME and addresses */
	PL_DROP_NODATA,		/* allowed HTTPS/SVCB question answered
				   with no data (bypass.ech) */
	PL_DROP_OUTSIDE_DNS,	/* DNS to another resolver, outside_dns =
				   "block": dropped (UDP) or reset (TCP) */
	PL_DROP_DOT,		/* DNS over TLS, bypass.dot: reset or
				   dropped */
	PL_DROP_SEARCH_ADDRESS,	/* a search host's connection to an
				   address not its safe host's: reset or
				   dropped */
	PL_DROP_BLOCKED_PAGE,	/* blocked plain HTTP: the client sent to
				   the block page (302), the server reset */
	PL_OUTCOME_COUNT
};

struct pipeline_meta {
	struct timespec	 ts;		/* CLOCK_REALTIME */
	bool		 has_mac;
	uint8_t		 mac[6];
	uint32_t	 indev, outdev;
	bool		 truncated;	/* the capture holds less than all */
	time_t		 mono;		/* monotonic seconds, for the timeouts
					   of connections waiting for a name
					   (a replay gives the capture's) */
	bool		 forwarded;	/* FORWARD hook: DNS to a resolver
					   other than this router */
	const struct overrides *ov;	/* runtime pauses and allows, or NULL */
	const struct safehosts *sh;	/* safe-search hosts' addresses, or
					   NULL (then CNAME-only answers and
					   no address check) */
	const struct pagelink *page;	/* the block page, when it is served
					   (pagelink.h): a blocked plain-HTTP
					   request is sent there; NULL: reset */
};

struct pipeline_out {
	uint8_t		 pkt[PACKET_FORGE_MAX];
	size_t		 len;
};

struct pipeline_result {
	bool		 drop;		/* the verdict */
	/*
	 * decided: this packet carried a decision on a name (a DNS query, or
	 * a connection named or found to have no name): the event log and
	 * replay report it.  settled: the connection needs no more of its
	 * packets here (the live path marks it, so the kernel stops queueing
	 * it); block says which way it went.
	 */
	bool		 decided;
	bool		 settled;
	bool		 forwarded;	/* meta->forwarded, for the record */
	struct flow_result flow;	/* for TLS, HTTP and QUIC */
	enum pipeline_outcome outcome;
	int		 err;		/* why, for PL_DROP_MALFORMED */
	/* packets to send: a DNS answer, or resets to client and server */
	struct pipeline_out out[2];
	size_t		 nout;
	uint32_t	 ifindex;	/* scope for link-local replies */
	/* what was decided, for the event log; valid for PL_ACCEPT_ALLOWED,
	 * the blocked outcomes and PL_DROP_NO_SNI */
	struct packet	 pkt;
	struct request	 req;
	struct decision	 dec;
	const char	*action;	/* "nxdomain", "null", "address",
					   "reset", "drop", "safe-search",
					   "nodata" */
	char		 name[DNS_TEXT_MAX + 1];	/* req.name points here */
};

/*
 * One packet.  flows keeps the connections whose name is not whole yet;
 * it belongs to the calling thread, and may be NULL (then such packets
 * are failed as if the table were full).
 */
void	pipeline_run(const struct snapshot *, struct flow_table *flows,
	    const struct pipeline_meta *, const uint8_t *pkt, size_t len,
	    struct pipeline_result *);

const char *pipeline_outcome_name(enum pipeline_outcome);

#endif
