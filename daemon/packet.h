/*
 * packet.h - IPv4/IPv6 and UDP/TCP headers: parsing the packets the kernel
 * queues, and building the packets safegate forges (DNS answers, TCP resets).
 *
 * packet_parse() reads an IP packet (no link layer) through the cursor.  It
 * trusts no length: the IP total length must fit in the bytes received
 * (bytes beyond it, such as Ethernet padding, are ignored), header lengths
 * must fit, and IPv6 extension headers are walked with a hard cap.  Fragments
 * other than a whole datagram are reported as such and their transport header
 * is not read.  A struct packet points into the caller's bytes; it owns
 * nothing and is valid as long as they are.
 */
#ifndef SG_PACKET_H
#define SG_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

#define PACKET_MAX_EXT_HDRS	8	/* IPv6 extension headers walked */
#define PACKET_FORGE_MAX	1600	/* room for any packet we build */

#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10

struct packet {
	struct sg_addr	 src, dst;
	uint8_t		 proto;		/* IPPROTO_UDP, IPPROTO_TCP, other */
	uint8_t		 ttl;		/* or hop limit */
	bool		 fragment;	/* part of a fragmented datagram */
	uint16_t	 sport, dport;	/* UDP and TCP only */
	/* TCP only */
	uint32_t	 seq, ack;
	uint8_t		 tcp_flags;
	uint16_t	 window;
	/* the transport payload (UDP data, TCP segment data) */
	const uint8_t	*payload;
	size_t		 payload_len;
	size_t		 ip_len;	/* bytes of the IP packet proper */
};

/*
 * Parses an IP packet.  Returns 0, SG_ETRUNC or SG_EMALFORMED (bad version,
 * header length, IPv6 jumbogram, a UDP
 * length that disagrees with the IP length, a TCP data offset < 5 ...) or
 * SG_ELIMIT (more than PACKET_MAX_EXT_HDRS IPv6 extension headers).
 * Protocols other than UDP and TCP parse successfully with payload pointing
 * at their header and sport = dport = 0.
 */
int	packet_parse(struct packet *, const void *buf, size_t len) SG_WUR;

/*
 * Builds an IP + UDP packet from src:sport to dst:dport carrying payload,
 * with the UDP checksum (and the IPv4 header checksum) filled in.  IPv4 gets
 * DF and id 0, which the kernel replaces as it sends; IPv6 a zero flow
 * label.  Returns the packet's length,
 * or SG_ELIMIT if it would not fit in cap, or SG_EMALFORMED if the
 * addresses' families differ.
 */
int	packet_build_udp(uint8_t *out, size_t cap, const struct sg_addr *src,
	    const struct sg_addr *dst, uint16_t sport, uint16_t dport,
	    const void *payload, size_t len) SG_WUR;

/*
 * Builds a bare TCP segment (no options, no data) with the given sequence
 * numbers and flags, checksummed.  Used for resets.  Returns the length or
 * a negative sg_err as packet_build_udp().
 */
int	packet_build_tcp(uint8_t *out, size_t cap, const struct sg_addr *src,
	    const struct sg_addr *dst, uint16_t sport, uint16_t dport,
	    uint32_t seq, uint32_t ack, uint8_t flags) SG_WUR;

/*
 * The same with len bytes of data after the header (an HTTP redirect to
 * the block page).  A segment that is not a reset offers a window of
 * TCP_DATA_WINDOW.
 */
#define TCP_DATA_WINDOW	8192
int	packet_build_tcp_data(uint8_t *out, size_t cap,
	    const struct sg_addr *src, const struct sg_addr *dst,
	    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	    uint8_t flags, const void *payload, size_t len) SG_WUR;

/* The Internet checksum (RFC 1071) of len bytes, folded, not inverted. */
uint32_t packet_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t packet_csum_fold(uint32_t sum);

#endif
