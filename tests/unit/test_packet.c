/* Unit tests: packet parsing and the packets safegate forges. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "packet.h"

static struct sg_addr
A(const char *s)
{
	struct sg_addr a;

	cr_assert_eq(addr_parse(&a, s), 0);
	return a;
}

/* A checksum over a whole built segment, pseudo-header included, is 0. */
static void
assert_l4_csum(const uint8_t *pkt, size_t len)
{
	struct packet p;
	uint32_t sum;
	size_t alen, hlen, l4len;
	uint8_t ph[4];

	cr_assert_eq(packet_parse(&p, pkt, len), 0);
	alen = addr_len(&p.src);
	hlen = p.src.family == AF_INET ? 20 : 40;
	l4len = len - hlen;
	ph[0] = 0;
	ph[1] = p.proto;
	ph[2] = (uint8_t)(l4len >> 8);
	ph[3] = (uint8_t)l4len;
	sum = packet_csum_add(0, p.src.u.b, alen);
	sum = packet_csum_add(sum, p.dst.u.b, alen);
	sum = packet_csum_add(sum, ph, 4);
	sum = packet_csum_add(sum, pkt + hlen, l4len);
	cr_assert_eq(packet_csum_fold(sum), 0xffff, "bad transport checksum");
	if (p.src.family == AF_INET)
		cr_assert_eq(packet_csum_fold(packet_csum_add(0, pkt, 20)),
		    0xffff, "bad IPv4 header checksum");
}

Test(packet, udp4_roundtrip)
{
	struct sg_addr s = A("10.0.0.1"), d = A("10.0.0.2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 53, 40000, "hello", 5);
	cr_assert_eq(n, 20 + 8 + 5);
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert_eq(p.proto, IPPROTO_UDP);
	cr_assert(addr_equal(&p.src, &s) && addr_equal(&p.dst, &d));
	cr_assert_eq(p.sport, 53);
	cr_assert_eq(p.dport, 40000);
	cr_assert_eq(p.payload_len, 5);
	cr_assert_eq(memcmp(p.payload, "hello", 5), 0);
	cr_assert_not(p.fragment);
	assert_l4_csum(buf, (size_t)n);
}

Test(packet, udp6_roundtrip)
{
	struct sg_addr s = A("fd00::1"), d = A("fe80::2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 53, 1234, "abc", 3);
	cr_assert_eq(n, 40 + 8 + 3);
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert_eq(p.ttl, 64);
	cr_assert(addr_equal(&p.dst, &d));
	assert_l4_csum(buf, (size_t)n);
}

Test(packet, tcp_reset_roundtrip)
{
	struct sg_addr s = A("fd00::1"), d = A("fd00::2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_tcp(buf, sizeof(buf), &s, &d, 53, 5555, 0x01020304,
	    0xa0b0c0d0, TCP_RST | TCP_ACK);
	cr_assert_eq(n, 60);
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert_eq(p.proto, IPPROTO_TCP);
	cr_assert_eq(p.seq, 0x01020304);
	cr_assert_eq(p.ack, 0xa0b0c0d0);
	cr_assert_eq(p.tcp_flags, TCP_RST | TCP_ACK);
	cr_assert_eq(p.payload_len, 0);
	assert_l4_csum(buf, (size_t)n);
}

Test(packet, build_refuses_mixed_families_and_small_buffers)
{
	struct sg_addr s = A("10.0.0.1"), d = A("fd00::2");
	uint8_t buf[64];

	cr_assert_eq(packet_build_udp(buf, sizeof(buf), &s, &d, 1, 2, "", 0),
	    SG_EMALFORMED);
	d = A("10.0.0.2");
	cr_assert_eq(packet_build_udp(buf, sizeof(buf), &s, &d, 1, 2, buf, 40),
	    SG_ELIMIT);
}

/* Every strict prefix of a valid packet is refused, never misread. */
Test(packet, every_truncation_is_an_error)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	struct sg_addr s6 = A("2001:db8::1"), d6 = A("2001:db8::2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	size_t i;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "0123456789",
	    10);
	for (i = 0; i < (size_t)n; i++)
		cr_assert_lt(packet_parse(&p, buf, i), 0, "prefix %zu", i);
	n = packet_build_tcp(buf, sizeof(buf), &s6, &d6, 5, 53, 1, 2, TCP_ACK);
	for (i = 0; i < (size_t)n; i++)
		cr_assert_lt(packet_parse(&p, buf, i), 0, "prefix %zu", i);
}

Test(packet, trailing_padding_is_ignored)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "x", 1);
	memset(buf + n, 0xee, 18);		/* Ethernet minimum padding */
	cr_assert_eq(packet_parse(&p, buf, (size_t)n + 18), 0);
	cr_assert_eq(p.payload_len, 1);
	cr_assert_eq(p.ip_len, (size_t)n);
}

Test(packet, hostile_ipv4_headers)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	uint8_t buf[PACKET_FORGE_MAX], bad[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "abcd", 4);
	memcpy(bad, buf, (size_t)n);
	bad[0] = 0x44;				/* IHL 16 bytes < 20 */
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_EMALFORMED);
	memcpy(bad, buf, (size_t)n);
	bad[0] = 0x4f;				/* IHL 60 > packet */
	cr_assert_lt(packet_parse(&p, bad, (size_t)n), 0);
	memcpy(bad, buf, (size_t)n);
	bad[2] = 0x10;				/* total length > bytes */
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_ETRUNC);
	memcpy(bad, buf, (size_t)n);
	bad[3] = 10;				/* total length < header */
	bad[2] = 0;
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_EMALFORMED);
	memcpy(bad, buf, (size_t)n);
	bad[24] = 0;
	bad[25] = 200;				/* UDP length > IP */
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_EMALFORMED);
	bad[25] = 4;				/* UDP length < 8 */
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_EMALFORMED);
	memcpy(bad, buf, (size_t)n);
	bad[0] = 0x55;				/* version 5 */
	cr_assert_eq(packet_parse(&p, bad, (size_t)n), SG_EMALFORMED);
	cr_assert_eq(packet_parse(&p, bad, 0), SG_ETRUNC);
}

Test(packet, ipv4_fragments_are_flagged)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "abcd", 4);
	buf[6] = 0x20;				/* MF: a first fragment */
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert(p.fragment);
	cr_assert_eq(p.dport, 0, "a fragment's ports are not read");
	buf[6] = 0x00;
	buf[7] = 0x03;				/* offset 24: a later one */
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert(p.fragment);
}

/* An IPv6 packet with the given extension headers before a UDP header. */
static size_t
v6_with_ext(uint8_t *buf, const uint8_t *ext, size_t extlen, uint8_t first)
{
	struct sg_addr s = A("2001:db8::1"), d = A("2001:db8::2");
	uint8_t tmp[PACKET_FORGE_MAX];
	int n;

	n = packet_build_udp(tmp, sizeof(tmp), &s, &d, 5, 53, "q", 1);
	cr_assert_gt(n, 0);
	memcpy(buf, tmp, 40);
	memcpy(buf + 40, ext, extlen);
	memcpy(buf + 40 + extlen, tmp + 40, (size_t)n - 40);
	buf[6] = first;
	buf[4] = (uint8_t)(((size_t)n - 40 + extlen) >> 8);
	buf[5] = (uint8_t)((size_t)n - 40 + extlen);
	return (size_t)n + extlen;
}

Test(packet, ipv6_extension_headers)
{
	/* hop-by-hop (8 bytes) -> destination options (16) -> UDP */
	static const uint8_t ext[] = {
		IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
		IPPROTO_UDP, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	size_t n;

	n = v6_with_ext(buf, ext, sizeof(ext), IPPROTO_HOPOPTS);
	cr_assert_eq(packet_parse(&p, buf, n), 0);
	cr_assert_eq(p.proto, IPPROTO_UDP);
	cr_assert_eq(p.dport, 53);
	cr_assert_eq(p.payload_len, 1);
	cr_assert_eq(p.payload[0], 'q');
	/* An extension header longer than the packet */
	buf[40 + 9] = 200;
	cr_assert_lt(packet_parse(&p, buf, n), 0);
}

Test(packet, ipv6_fragment_header)
{
	static const uint8_t frag[] = { IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 7 };
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	size_t n;

	n = v6_with_ext(buf, frag, sizeof(frag), IPPROTO_FRAGMENT);
	cr_assert_eq(packet_parse(&p, buf, n), 0);
	cr_assert(p.fragment, "M=1 offset 0 is a first fragment");
	buf[43] = 0;				/* offset 0, M=0: atomic */
	cr_assert_eq(packet_parse(&p, buf, n), 0);
	cr_assert_not(p.fragment);
	cr_assert_eq(p.dport, 53);
}

Test(packet, ipv6_extension_chain_is_capped)
{
	uint8_t ext[8 * (PACKET_MAX_EXT_HDRS + 1)], buf[PACKET_FORGE_MAX];
	struct packet p;
	size_t i, n;

	memset(ext, 0, sizeof(ext));
	for (i = 0; i < PACKET_MAX_EXT_HDRS + 1; i++)
		ext[i * 8] = i == PACKET_MAX_EXT_HDRS ? IPPROTO_UDP :
		    IPPROTO_DSTOPTS;
	n = v6_with_ext(buf, ext, sizeof(ext), IPPROTO_DSTOPTS);
	cr_assert_eq(packet_parse(&p, buf, n), SG_ELIMIT);
}

Test(packet, ipv6_jumbogram_refused)
{
	struct sg_addr s = A("2001:db8::1"), d = A("2001:db8::2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "q", 1);
	buf[4] = buf[5] = 0;
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), SG_EMALFORMED);
}

Test(packet, tcp_options_and_bad_offset)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	uint8_t buf[PACKET_FORGE_MAX], seg[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_tcp(buf, sizeof(buf), &s, &d, 5, 53, 1, 2, TCP_ACK);
	/* Grow it: 4 bytes of options (NOPs) and 3 of data. */
	memcpy(seg, buf, (size_t)n);
	memset(seg + n, 1, 4);
	memcpy(seg + n + 4, "xyz", 3);
	seg[3] = (uint8_t)(n + 7);
	seg[32] = 6 << 4;
	cr_assert_eq(packet_parse(&p, seg, (size_t)n + 7), 0);
	cr_assert_eq(p.payload_len, 3);
	cr_assert_eq(memcmp(p.payload, "xyz", 3), 0);
	seg[32] = 4 << 4;			/* data offset < 5 */
	cr_assert_eq(packet_parse(&p, seg, (size_t)n + 7), SG_EMALFORMED);
	seg[32] = 15 << 4;			/* 60 bytes > segment */
	cr_assert_eq(packet_parse(&p, seg, (size_t)n + 7), SG_ETRUNC);
}

Test(packet, other_protocols_parse_without_ports)
{
	struct sg_addr s = A("192.0.2.1"), d = A("192.0.2.2");
	uint8_t buf[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_udp(buf, sizeof(buf), &s, &d, 5, 53, "abcd", 4);
	buf[9] = IPPROTO_ICMP;
	cr_assert_eq(packet_parse(&p, buf, (size_t)n), 0);
	cr_assert_eq(p.proto, IPPROTO_ICMP);
	cr_assert_eq(p.sport, 0);
	cr_assert_eq(p.dport, 0);
}
