/*
 * flow.h - the name a new connection asks for, from its first packets:
 * TLS SNI and HTTP Host over TCP, QUIC SNI over UDP.
 *
 * Most connections say their name in their first payload packet, and need
 * no state here.  A ClientHello split across TCP segments or TLS records
 * (common since post-quantum key shares made it larger than one segment),
 * or a QUIC ClientHello spread over several Initial packets, needs its
 * pieces kept until it is whole.  A flow table keeps those, and only
 * those, with hard bounds:
 *   - at most `max_flows` flows waiting at once, shared between the
 *     devices that send them (below); FLOW_FULL only when no memory could
 *     be had for a slot, and the caller fails that flow in the configured
 *     direction;
 *   - at most TLS_HELLO_MAX (16 KiB) of stream per flow: a ClientHello
 *     longer than that is FLOW_MALFORMED;
 *   - at most `timeout` seconds from a flow's first packet to its name:
 *     older flows are dropped from the table as new packets come;
 *   - at most FLOW_PACKETS_MAX packets from a flow's first one kept here
 *     (its SYN, or its first piece) to its name: a flow still waiting
 *     after that many is FLOW_MALFORMED (SG_ELIMIT), and the caller
 *     refuses it.  The firewall queues only the first packets of a
 *     connection (firewall.c, CONN_PACKETS: 12, the SYN and the
 *     handshake's ACK included); what comes after never reaches us, so
 *     a ClientHello dribbled out in tiny segments or Initials would
 *     otherwise be finished past the queue, unjudged.  No real client
 *     needs more than a few: a ClientHello is one or two segments.
 * A flow that times out with pieces of its name kept is remembered for
 * FLOW_TOMB_LIFE seconds (flow.c), at most max_flows of them: its next
 * packet, the rest of a hello sent after a pause, is FLOW_MALFORMED
 * (SG_ELIMIT) rather than read as a new stream or flow and let through.
 * A TCP segment is placed by its sequence number relative to the SYN (or
 * to the first data seen, when the SYN was not), so segments may come in
 * any order; no length read off the wire sizes anything.
 *
 * Devices.  A flow belongs to the device that sent its first packet, known
 * by its source address: the whole address, IPv4 or IPv6.  Not the IPv6
 * /64: the devices of a home LAN all take their addresses from one /64,
 * so it would make them one device.  A device holds at most its share of
 * the table, FLOW_SHARE_MIN flows or max_flows / FLOW_SHARE_DIV if that
 * is more (a worker's 1024 slots: 256), never more than max_flows.  A new
 * flow that needs a slot, when
 *   - its device holds its share: takes the place of that device's own
 *     oldest waiting flow (counted in device_full);
 *   - else when the table is full: takes the place of the oldest waiting
 *     flow of the device holding the most (of its own device, when none
 *     holds more than that one) (counted in full).
 * A flow that gives way so is dropped as though it had timed out: one with
 * pieces of its name kept becomes a tomb (below), and its next packet is
 * refused.  So a full table fails no new flow open or closed; what it
 * costs falls on the busiest device's oldest flows.  A device that fills
 * the table costs itself its own flows, a device holding fewer flows than
 * the busiest always gets a slot, and spreading a flood over many
 * addresses (IPv4 aliases, IPv6 privacy addresses) only makes those
 * addresses the devices that give way.  Why 256 of 1024: a slot is held
 * from a connection's SYN to its first data (one round trip), or to the
 * end of a split ClientHello (two), so a phone opening 30 connections at
 * once, or a school's NAT, holds far fewer at any moment; and what gives
 * way first at the share is most often a bare SYN's slot, whose first
 * data is then read alone, as most ClientHellos are whole in one segment.
 * Both cases are logged, at most once a second each, with the count of
 * lines held back.
 *
 * A table belongs to one thread (one per queue worker, or the replay);
 * it takes no lock.  Flows are told apart by protocol, addresses and
 * ports; the caller sends only the client-to-server direction.
 */
#ifndef SG_FLOW_H
#define SG_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "packet.h"
#include "tls.h"

/* Packets a waiting flow may take to say its name; below the firewall's
 * queue window (CONN_PACKETS, 12), with room for retransmissions. */
#define FLOW_PACKETS_MAX	8

/* A device's share of a table (above): max(FLOW_SHARE_MIN, max_flows /
 * FLOW_SHARE_DIV), at most max_flows. */
#define FLOW_SHARE_MIN		64
#define FLOW_SHARE_DIV		4

enum flow_kind { FLOW_KIND_TLS, FLOW_KIND_HTTP, FLOW_KIND_QUIC };

enum flow_status {
	FLOW_NAME,		/* out->name is the name asked for */
	FLOW_NO_NAME,		/* a whole ClientHello without SNI, or an
				   HTTP request without a host */
	FLOW_NEED_MORE,		/* a piece kept; the name is not whole yet */
	FLOW_NOT_OURS,		/* neither TLS, HTTP nor QUIC we read */
	FLOW_MALFORMED,		/* claims to be one of them, but broken, or
				   its name takes too long (see above) */
	FLOW_FULL,		/* needed a slot, and none was free */
	FLOW_NO_PAYLOAD,	/* a segment without data (the SYN, an ACK) */
};

struct flow_result {
	enum flow_status status;
	enum flow_kind	 kind;
	int		 err;		/* the parser's code, when MALFORMED */
	char		 name[TLS_NAME_MAX + 1];	/* lower case, no
					   trailing dot; NUL-terminated */
	size_t		 name_len;
	bool		 ech;		/* TLS: encrypted_client_hello present;
					   name is the outer, public one */
	bool		 is_ip;		/* HTTP: the host is an address */
	uint32_t	 quic_version;
};

struct flow_stats {
	uint64_t	 created;	/* flows that needed a slot */
	uint64_t	 completed;	/* of those, named (or not) in the end */
	uint64_t	 expired;	/* dropped for their timeout */
	uint64_t	 full;		/* new flows that found the table full
					   (another flow gave way), or no
					   memory (FLOW_FULL) */
	uint64_t	 device_full;	/* new flows whose device held its
					   share (its own oldest gave way) */
	size_t		 active;	/* slots in use now */
	size_t		 devices;	/* devices holding them */
	size_t		 tombs;		/* flows remembered as stalled */
};

struct flow_table;

/* NULL and errno on failure.  max_flows >= 1; timeout in seconds.  Its
 * memory for devices is taken once, here: max_flows of them at most. */
struct flow_table *flow_table_new(size_t max_flows, unsigned timeout);
void	flow_table_free(struct flow_table *);
void	flow_table_stats(const struct flow_table *, struct flow_stats *);

/*
 * Called, on the table's thread, as a flow becomes a tomb (it stalled, or
 * gave way, with pieces of its name kept), with its tuple as it was first
 * seen (client to server): the caller can mark the connection refused
 * where the table's memory does not reach (ctmark.h), since a tomb may
 * be pushed out by newer ones.  NULL: none (the default).
 */
struct flow_gone {
	uint8_t		 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct sg_addr	 src, dst;	/* client, server */
	uint16_t	 sport, dport;
	/* TCP: the client's next sequence number as the server has it (the
	   stream's contiguous end), for a reset the server takes; and the
	   server's, from the client's last acknowledgement, for one the
	   client takes (server_seq_known false: none seen) */
	uint32_t	 client_seq, server_seq;
	bool		 server_seq_known;
};
typedef void flow_gone_fn(void *arg, const struct flow_gone *);
void	flow_table_on_gone(struct flow_table *, flow_gone_fn *, void *arg);

/*
 * Classifies one client-to-server packet of a flow, already parsed.  UDP
 * is read as QUIC; TCP as TLS when its stream starts with a handshake
 * record, as HTTP when it starts with a request line (the caller decides
 * which ports are worth asking about, not what they carry).  now is a
 * monotonic time in seconds, for the timeouts.  The table may be NULL:
 * then only names whole in this one packet are read, and what would need
 * a slot is FLOW_FULL.
 */
void	flow_classify(struct flow_table *, const struct packet *, time_t now,
	    struct flow_result *out);

/* Forgets the flow of this packet, if the table holds it (a decision was
 * made elsewhere, or the connection is being reset). */
void	flow_forget(struct flow_table *, const struct packet *);

const char *flow_kind_name(enum flow_kind);

#endif
