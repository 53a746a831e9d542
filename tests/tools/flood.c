/*
 * flood - sends random and malformed packets at what a safegate router
 * queues, for a bounded time and at a bounded rate, from a seeded PRNG.  A
 * fault-test tool (tests/faults/flood.sh): the same seed gives the same
 * packets in the same order.
 *
 *   flood [-a N] [-d SECONDS] [-r PPS] [-x SEED] [-p PORTS] [-n NAME]...
 *         [-k KIND,...] -4 SRC,DNS,CONN [-6 SRC,DNS,CONN]
 *
 *   -4, -6  the source address to send from (an address of this host: the
 *           packets are built whole, IP header included, on raw sockets),
 *           the resolver the router queues on INPUT (its own address), and
 *           an address beyond the router, whose ports 53, 80 and 443 it
 *           queues on FORWARD
 *   -a      send from N addresses: SRC and the N - 1 after it (1), so
 *           that the flood lands on every queue of a --queue-balance
 *           (which hashes addresses)
 *   -d      how long to send (10 s)
 *   -r      packets a second, all kinds together (0: as fast as the
 *           sockets take them; 20000)
 *   -x      the PRNG's seed (1)
 *   -p      source ports are drawn from PORTS ports above 20000 (2048), so
 *           that the router's connection tracking holds a bounded number
 *           of entries however long the flood runs
 *   -k      only these kinds (names below, comma-separated)
 *   -n      a name to ask for in the well-formed queries, ClientHellos and
 *           requests (repeatable; blocked names make the router forge
 *           answers and resets too); without -n, random names
 *
 * The kinds, sent in turn (one packet, or a few for the fragments and
 * the SYN-then-data flows, per turn):
 *   udp53-random   random bytes to UDP 53
 *   udp53-header   a DNS header cut short, or with huge section counts
 *   udp53-qdcount  qdcount 65535 (or many) over a few real questions
 *   udp53-loop     compression pointers: to themselves, in a ring, in
 *                  chains longer than any limit, forward, out of range
 *   udp53-edns     OPT records: overlong rdlength, broken options, two
 *                  OPTs, an OPT with a name, in the wrong section
 *   udp53-labels   labels of 64+ bytes, 0x40 and 0x80 label types, names
 *                  over 255 bytes, labels running past the end
 *   udp53-valid    a well-formed query (A, AAAA, HTTPS, SVCB, ANY...)
 *   tcp53-junk     DNS over TCP: length prefixes that lie, messages cut
 *                  short or split, random bytes, odd flags
 *   tcp53-valid    a well-formed length-prefixed query in one segment
 *   tls-partial    a ClientHello cut short (after a SYN on the same
 *                  tuple, or alone), or its second half first
 *   tls-junk       a ClientHello with lying lengths or flipped bytes, or
 *                  a handshake record of random bytes
 *   http           requests cut short, without a Host, with huge or
 *                  broken headers, binary bytes; and whole requests
 *   tcp-flags      TCP with flag combinations no stack sends (SYN+FIN,
 *                  SYN+RST, none, all), data offsets below 5 or past the
 *                  segment, broken options, to ports 53, 80 and 443
 *   quic-initial   QUIC long-header Initials (v1, v2, others) with random
 *                  DCIDs, tokens and lengths, padded to 1200 bytes: the
 *                  router derives keys and fails to open them
 *   quic-trunc     QUIC headers cut short, short-header packets, version
 *                  negotiation, DCIDs longer than 20 bytes
 *   udp443-junk    random bytes to UDP 443
 *   frag4          IPv4 fragments of DNS and QUIC datagrams: whole sets
 *                  in and out of order, sets missing a piece, overlapping
 *                  pieces, tiny first fragments
 *   ip4-options    IPv4 headers with options (ihl 6..15) over UDP 53
 *   ip6-ext        IPv6 UDP 53 behind extension headers (up to 12 of them)
 *   frag6          IPv6 fragments, whole sets and broken ones
 *   (the ip6 kinds only with -6)
 *
 * At the end it prints one line per kind, "kind NAME sent N failed M",
 * then "total sent N failed M seconds S rate R".  Exit status 0, or 1 if
 * nothing could be sent, 2 on usage errors.  Needs CAP_NET_RAW.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "packet.h"

#define PKT_MAX		1500	/* the veth MTU: raw sends stay within */
#define NAMES_MAX	64
#define PORT_BASE	20000

struct ctx {
	uint64_t	 rng;
	int		 fd4, fd6;
	bool		 v6;
	struct in_addr	 src4, dns4, conn4;
	struct in6_addr	 src6, dns6, conn6;
	struct in_addr	 cur4;		/* this turn's source: src + 0..naddrs */
	struct in6_addr	 cur6;
	unsigned	 naddrs;
	unsigned	 ports;
	const char	*names[NAMES_MAX];
	size_t		 nnames;
	double		 seconds, rate;
	struct timespec	 start;
	uint64_t	 total, failed;
	bool		 done;
	uint16_t	 ipid;
};

struct kind {
	const char	*name;
	bool		 v6only;
	bool		 off;		/* not in -k */
	void		(*gen)(struct ctx *, struct kind *);
	uint64_t	 sent, failed;
};

/* ------------------------------------------------------------ randomness */

static uint64_t
rnd(struct ctx *x)
{
	/* xorshift64* */
	x->rng ^= x->rng >> 12;
	x->rng ^= x->rng << 25;
	x->rng ^= x->rng >> 27;
	return x->rng * 2685821657736338717ull;
}

static uint32_t
rnd_n(struct ctx *x, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(rnd(x) >> 32) % n;
}

static bool
chance(struct ctx *x, unsigned percent)
{
	return rnd_n(x, 100) < percent;
}

static void
rnd_bytes(struct ctx *x, uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(rnd(x) >> 56);
}

static uint16_t
sport(struct ctx *x)
{
	return (uint16_t)(PORT_BASE + rnd_n(x, x->ports));
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A random name of a few labels, or one of -n. */
static const char *
some_name(struct ctx *x, char *buf, size_t len)
{
	static const char *const tlds[] = { "test", "com", "example", "net" };
	size_t n = 0, labels, i, j, l;

	if (x->nnames > 0 && chance(x, 70))
		return x->names[rnd_n(x, (uint32_t)x->nnames)];
	labels = 1 + rnd_n(x, 3);
	for (i = 0; i < labels && n + 20 < len; i++) {
		l = 1 + rnd_n(x, 12);
		for (j = 0; j < l; j++)
			buf[n++] = (char)('a' + rnd_n(x, 26));
		buf[n++] = '.';
	}
	snprintf(buf + n, len - n, "%s", tlds[rnd_n(x, 4)]);
	return buf;
}

/* ------------------------------------------------------------ sending */

static double
elapsed(const struct ctx *x)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - x->start.tv_sec) +
	    (double)(t.tv_nsec - x->start.tv_nsec) / 1e9;
}

/* Paces the flood to the rate, and ends it at its time. */
static void
pace(struct ctx *x)
{
	double now, due;
	struct timespec ts;

	if ((x->total & 15) != 0)
		return;
	now = elapsed(x);
	if (now >= x->seconds) {
		x->done = true;
		return;
	}
	if (x->rate <= 0)
		return;
	due = (double)x->total / x->rate;
	if (due > now) {
		ts.tv_sec = (time_t)(due - now);
		ts.tv_nsec = (long)((due - now - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* Sends one whole IP packet (header included) to dst. */
static void
emit(struct ctx *x, struct kind *k, const uint8_t *pkt, size_t len, bool six)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	ssize_t n;

	if (x->done)
		return;
	if (six) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, pkt + 24, 16);
		n = sendto(x->fd6, pkt, len, 0, (struct sockaddr *)&sin6,
		    sizeof(sin6));
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, pkt + 16, 4);
		n = sendto(x->fd4, pkt, len, 0, (struct sockaddr *)&sin,
		    sizeof(sin));
	}
	if (n == (ssize_t)len)
		k->sent++;
	else {
		k->failed++;
		x->failed++;
	}
	x->total++;
	pace(x);
}

/* ------------------------------------------------------------ IP, L4 */

static size_t
ip4_header(struct ctx *x, uint8_t *p, uint8_t proto, struct in_addr dst,
    size_t payload, uint16_t frag, uint16_t id, size_t optlen)
{
	size_t hl = 20 + optlen;
	uint32_t sum;

	p[0] = (uint8_t)(0x40 | (hl / 4));
	p[1] = 0;
	put16(p + 2, (uint16_t)(hl + payload));
	put16(p + 4, id != 0 ? id : ++x->ipid);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put16(p + 10, 0);
	memcpy(p + 12, &x->cur4, 4);
	memcpy(p + 16, &dst, 4);
	sum = packet_csum_add(0, p, hl);
	put16(p + 10, (uint16_t)~packet_csum_fold(sum));
	return hl;
}

static size_t
ip6_header(struct ctx *x, uint8_t *p, uint8_t next, const struct in6_addr *dst,
    size_t payload)
{
	put32(p, 0x60000000u);
	put16(p + 4, (uint16_t)payload);
	p[6] = next;
	p[7] = 64;
	memcpy(p + 8, &x->cur6, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

/* The transport checksum (complemented) over the pseudo-header of either
   family. */
static uint16_t
l4_sum(bool six, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    const uint8_t *seg, size_t len)
{
	uint8_t ph[8];
	uint32_t sum;

	sum = packet_csum_add(0, src, six ? 16 : 4);
	sum = packet_csum_add(sum, dst, six ? 16 : 4);
	put32(ph, (uint32_t)len);
	ph[4] = ph[5] = ph[6] = 0;
	ph[7] = proto;
	sum = packet_csum_add(sum, ph, 8);
	sum = packet_csum_add(sum, seg, len);
	return (uint16_t)~packet_csum_fold(sum);
}

/* A UDP datagram (header and payload) at seg; its length. */
static size_t
udp_seg(uint8_t *seg, uint16_t sp, uint16_t dp, const uint8_t *data,
    size_t len)
{
	put16(seg, sp);
	put16(seg + 2, dp);
	put16(seg + 4, (uint16_t)(8 + len));
	put16(seg + 6, 0);
	memcpy(seg + 8, data, len);
	return 8 + len;
}

static void
send_udp(struct ctx *x, struct kind *k, bool six, bool to_dns, uint16_t dp,
    const uint8_t *data, size_t len)
{
	uint8_t pkt[PKT_MAX];
	size_t hl = six ? 40 : 20, n;
	uint16_t sum;

	if (len > PKT_MAX - hl - 8)
		len = PKT_MAX - hl - 8;
	n = udp_seg(pkt + hl, sport(x), dp, data, len);
	if (six)
		ip6_header(x, pkt, IPPROTO_UDP, to_dns ? &x->dns6 : &x->conn6,
		    n);
	else
		ip4_header(x, pkt, IPPROTO_UDP, to_dns ? x->dns4 : x->conn4, n,
		    0x4000, 0, 0);
	sum = l4_sum(six, pkt + (six ? 8 : 12), pkt + (six ? 24 : 16),
	    IPPROTO_UDP, pkt + hl, n);
	/* A few with a broken checksum: the router's stack drops those
	   late, after the hooks. */
	put16(pkt + hl + 6, chance(x, 3) ? (uint16_t)(sum ^ 0x5a5a) :
	    sum == 0 ? 0xffff : sum);
	emit(x, k, pkt, hl + n, six);
}

struct tcp_seg {
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;
	int		 doff;		/* words; 0: from the options */
	const uint8_t	*opt;
	size_t		 optlen;	/* a multiple of 4 */
	const uint8_t	*data;
	size_t		 len;
	bool		 to_dns;	/* the router, else beyond it */
};

static void
send_tcp(struct ctx *x, struct kind *k, bool six, const struct tcp_seg *s)
{
	uint8_t pkt[PKT_MAX], *t;
	size_t hl = six ? 40 : 20, n, len = s->len;

	if (len > PKT_MAX - hl - 20 - s->optlen)
		len = PKT_MAX - hl - 20 - s->optlen;
	t = pkt + hl;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)((s->doff != 0 ? s->doff : (int)(5 +
	    s->optlen / 4)) << 4);
	t[13] = s->flags;
	put16(t + 14, 64240);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (s->optlen > 0)
		memcpy(t + 20, s->opt, s->optlen);
	if (len > 0)
		memcpy(t + 20 + s->optlen, s->data, len);
	n = 20 + s->optlen + len;
	if (six)
		ip6_header(x, pkt, IPPROTO_TCP, s->to_dns ? &x->dns6 :
		    &x->conn6, n);
	else
		ip4_header(x, pkt, IPPROTO_TCP, s->to_dns ? x->dns4 :
		    x->conn4, n, 0x4000, 0, 0);
	put16(t + 16, l4_sum(six, pkt + (six ? 8 : 12), pkt + (six ? 24 : 16),
	    IPPROTO_TCP, t, n));
	emit(x, k, pkt, hl + n, six);
}

/* A data segment on a fresh tuple; ACK|PSH, as a mid-stream one. */
static void
send_data(struct ctx *x, struct kind *k, bool six, bool to_dns, uint16_t dp,
    const uint8_t *data, size_t len)
{
	struct tcp_seg s;

	memset(&s, 0, sizeof(s));
	s.sport = sport(x);
	s.dport = dp;
	s.seq = (uint32_t)rnd(x);
	s.ack = (uint32_t)rnd(x);
	s.flags = TCP_ACK | TCP_PSH;
	s.data = data;
	s.len = len;
	s.to_dns = to_dns;
	send_tcp(x, k, six, &s);
}

/* ------------------------------------------------------------ DNS */

static size_t
dns_header(uint8_t *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	put16(p, id);
	put16(p + 2, flags);
	put16(p + 4, qd);
	put16(p + 6, an);
	put16(p + 8, ns);
	put16(p + 10, ar);
	return 12;
}

/* name in wire form at p (room: 256 bytes); its length. */
static size_t
dns_name(uint8_t *p, const char *name)
{
	size_t n = 0, l;
	const char *dot;

	while (*name != '\0' && n < 250) {
		dot = strchr(name, '.');
		l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		if (l > 63)
			l = 63;
		if (n + 1 + l > 254)
			break;
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	p[n++] = 0;
	return n;
}

static const uint16_t qtypes[] = { 1, 28, 65, 64, 255, 16, 5, 0, 12, 41 };

/* A well-formed query, maybe with an OPT record; its length. */
static size_t
dns_query(struct ctx *x, uint8_t *p, const char *name, bool edns)
{
	size_t n;

	n = dns_header(p, (uint16_t)rnd(x), 0x0100, 1, 0, 0, edns ? 1 : 0);
	n += dns_name(p + n, name);
	put16(p + n, qtypes[rnd_n(x, 6)]);
	put16(p + n + 2, 1);
	n += 4;
	if (edns) {
		p[n] = 0;
		put16(p + n + 1, 41);
		put16(p + n + 3, 1232);
		put32(p + n + 5, 0);
		put16(p + n + 9, 0);
		n += 11;
	}
	return n;
}

static bool
six_now(struct ctx *x)
{
	return x->v6 && chance(x, 25);
}

static void
gen_udp53_random(struct ctx *x, struct kind *k)
{
	uint8_t b[600];
	size_t len = rnd_n(x, sizeof(b));

	rnd_bytes(x, b, len);
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, len);
}

static void
gen_udp53_header(struct ctx *x, struct kind *k)
{
	uint8_t b[64];
	size_t len;

	dns_header(b, (uint16_t)rnd(x), (uint16_t)(chance(x, 50) ? 0x0100 :
	    rnd(x)), (uint16_t)rnd(x), (uint16_t)rnd(x), (uint16_t)rnd(x),
	    (uint16_t)rnd(x));
	if (chance(x, 50))
		len = rnd_n(x, 12);		/* cut short */
	else {
		len = 12 + rnd_n(x, 40);	/* counts that lie */
		rnd_bytes(x, b + 12, len - 12);
	}
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, len);
}

static void
gen_udp53_qdcount(struct ctx *x, struct kind *k)
{
	uint8_t b[1200];
	char nb[80];
	size_t n, q, i;

	q = 1 + rnd_n(x, 40);
	n = dns_header(b, (uint16_t)rnd(x), 0x0100, chance(x, 50) ? 0xffff :
	    (uint16_t)q, 0, 0, 0);
	for (i = 0; i < q && n + 300 < sizeof(b); i++) {
		n += dns_name(b + n, some_name(x, nb, sizeof(nb)));
		put16(b + n, qtypes[rnd_n(x, 10)]);
		put16(b + n + 2, 1);
		n += 4;
	}
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_udp53_loop(struct ctx *x, struct kind *k)
{
	uint8_t b[600];
	size_t n, i, depth, q, prev;

	n = dns_header(b, (uint16_t)rnd(x), 0x0100, 1, 0, 0, 0);
	switch (rnd_n(x, 6)) {
	case 0:		/* a pointer to itself */
		b[n] = 0xc0;
		b[n + 1] = (uint8_t)n;
		n += 2;
		break;
	case 1:		/* two pointing at each other */
		b[n] = 0xc0;
		b[n + 1] = (uint8_t)(n + 2);
		b[n + 2] = 0xc0;
		b[n + 3] = (uint8_t)n;
		n += 4;
		break;
	case 2:		/* a label, then a pointer back to it */
		b[n] = 3;
		memcpy(b + n + 1, "abc", 3);
		b[n + 4] = 0xc0;
		b[n + 5] = (uint8_t)n;
		n += 6;
		break;
	case 3:		/* a chain: each link a label and a pointer to the
			   link before; the question points at the last */
		depth = 20 + rnd_n(x, 120);
		q = n;
		n += 2 + 4;		/* the question: pointer, type, class */
		prev = n;
		b[n] = 1;
		b[n + 1] = 'a';
		b[n + 2] = 0;
		n += 3;
		for (i = 0; i < depth && n + 4 < sizeof(b); i++) {
			b[n] = 1;
			b[n + 1] = 'b';
			b[n + 2] = (uint8_t)(0xc0 | (prev >> 8));
			b[n + 3] = (uint8_t)prev;
			prev = n;
			n += 4;
		}
		b[q] = (uint8_t)(0xc0 | (prev >> 8));
		b[q + 1] = (uint8_t)prev;
		put16(b + q + 2, 1);
		put16(b + q + 4, 1);
		send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
		return;
	case 4:		/* forward, past the end */
		b[n] = 0xc0 | (uint8_t)rnd_n(x, 64);
		b[n + 1] = (uint8_t)rnd(x);
		n += 2;
		break;
	default:	/* a pointer into the header */
		b[n] = 0xc0;
		b[n + 1] = (uint8_t)rnd_n(x, 12);
		n += 2;
		break;
	}
	put16(b + n, 1);
	put16(b + n + 2, 1);
	n += 4;
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_udp53_edns(struct ctx *x, struct kind *k)
{
	uint8_t b[1200];
	char nb[80];
	size_t n, i, opts;

	n = dns_query(x, b, some_name(x, nb, sizeof(nb)), false);
	put16(b + 10, (uint16_t)(1 + rnd_n(x, 3)));	/* arcount */
	if (chance(x, 20))
		put16(b + 6, 1);	/* claims an answer: the OPT */
	for (i = 0; i < 2 && n + 600 < sizeof(b); i++) {
		if (chance(x, 15)) {
			b[n++] = 1;	/* an OPT with a name */
			b[n++] = 'x';
		}
		b[n++] = 0;
		put16(b + n, 41);
		put16(b + n + 2, (uint16_t)rnd(x));	/* payload size */
		put32(b + n + 4, (uint32_t)rnd(x));	/* ext rcode, flags */
		n += 8;
		opts = rnd_n(x, 12);
		if (chance(x, 30)) {
			put16(b + n, (uint16_t)(rnd_n(x, 2000)));	/* lies */
			n += 2;
			rnd_bytes(x, b + n, rnd_n(x, 40));
			n += rnd_n(x, 40);
			continue;
		}
		put16(b + n, (uint16_t)(opts * 8));
		n += 2;
		for (; opts > 0; opts--) {
			put16(b + n, (uint16_t)rnd_n(x, 20));	/* code */
			/* an option length that lies, often */
			put16(b + n + 2, chance(x, 50) ? 4 :
			    (uint16_t)rnd(x));
			rnd_bytes(x, b + n + 4, 4);
			n += 8;
		}
		if (chance(x, 50))
			break;
	}
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_udp53_labels(struct ctx *x, struct kind *k)
{
	uint8_t b[1200];
	size_t n, i, l;

	n = dns_header(b, (uint16_t)rnd(x), 0x0100, 1, 0, 0, 0);
	switch (rnd_n(x, 4)) {
	case 0:		/* a label over 63 bytes */
		l = 64 + rnd_n(x, 60);
		b[n++] = (uint8_t)l;
		memset(b + n, 'a', l);
		n += l;
		b[n++] = 0;
		break;
	case 1:		/* the reserved label types */
		b[n++] = (uint8_t)(chance(x, 50) ? 0x40 : 0x80) |
		    (uint8_t)rnd_n(x, 64);
		rnd_bytes(x, b + n, 8);
		n += 8;
		break;
	case 2:		/* a name over 255 bytes */
		for (i = 0; i < 6; i++) {
			b[n++] = 63;
			memset(b + n, 'a' + (int)i, 63);
			n += 63;
		}
		b[n++] = 0;
		break;
	default:	/* a label running past the end */
		b[n++] = 50;
		memset(b + n, 'z', 10);
		n += 10;
		send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
		return;
	}
	put16(b + n, 1);
	put16(b + n + 2, 1);
	n += 4;
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_udp53_valid(struct ctx *x, struct kind *k)
{
	uint8_t b[600];
	char nb[80];
	size_t n;

	n = dns_query(x, b, some_name(x, nb, sizeof(nb)), chance(x, 30));
	send_udp(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_tcp53_junk(struct ctx *x, struct kind *k)
{
	uint8_t b[800];
	char nb[80];
	size_t n, m;

	switch (rnd_n(x, 5)) {
	case 0:		/* a prefix longer than what follows */
		m = dns_query(x, b + 2, some_name(x, nb, sizeof(nb)), false);
		put16(b, (uint16_t)(m + 1 + rnd_n(x, 1000)));
		n = 2 + m;
		break;
	case 1:		/* a whole message, then half of another */
		m = dns_query(x, b + 2, some_name(x, nb, sizeof(nb)), false);
		put16(b, (uint16_t)m);
		n = 2 + m;
		m = dns_query(x, b + n + 2, some_name(x, nb, sizeof(nb)),
		    false);
		put16(b + n, (uint16_t)m);
		n += 2 + rnd_n(x, (uint32_t)m);
		break;
	case 2:		/* a zero prefix, or one byte */
		put16(b, 0);
		n = chance(x, 50) ? 1 : 2 + rnd_n(x, 20);
		break;
	case 3:		/* the middle of a message: no prefix at all */
		n = dns_query(x, b, some_name(x, nb, sizeof(nb)), false);
		break;
	default:
		n = rnd_n(x, 600);
		rnd_bytes(x, b, n);
		break;
	}
	send_data(x, k, six_now(x), chance(x, 80), 53, b, n);
}

static void
gen_tcp53_valid(struct ctx *x, struct kind *k)
{
	uint8_t b[600];
	char nb[80];
	size_t m;

	m = dns_query(x, b + 2, some_name(x, nb, sizeof(nb)), chance(x, 30));
	put16(b, (uint16_t)m);
	send_data(x, k, six_now(x), chance(x, 80), 53, b, 2 + m);
}

/* ------------------------------------------------------------ TLS, HTTP */

/* A plausible ClientHello in one TLS record, SNI name; its length. */
static size_t
client_hello(struct ctx *x, uint8_t *p, size_t cap, const char *name)
{
	size_t n = 0, hs, ext, sni, nl = strlen(name), pad;

	if (nl > 200)
		nl = 200;
	pad = rnd_n(x, 3) == 0 ? 800 + rnd_n(x, 1200) : 0;	/* big ones */
	if (300 + nl + pad > cap)
		pad = 0;
	p[n++] = 0x16;
	put16(p + n, 0x0301);
	n += 4;				/* record length, later */
	hs = n;
	p[n] = 0x01;
	n += 4;				/* handshake length, later */
	put16(p + n, 0x0303);
	n += 2;
	rnd_bytes(x, p + n, 32);
	n += 32;
	p[n++] = 32;
	rnd_bytes(x, p + n, 32);
	n += 32;
	put16(p + n, 6);
	put16(p + n + 2, 0x1301);
	put16(p + n + 4, 0x1302);
	put16(p + n + 6, 0xc02f);
	n += 8;
	p[n++] = 1;
	p[n++] = 0;
	ext = n;
	n += 2;
	/* server_name */
	sni = n;
	put16(p + n, 0);
	put16(p + n + 2, (uint16_t)(nl + 5));
	put16(p + n + 4, (uint16_t)(nl + 3));
	p[n + 6] = 0;
	put16(p + n + 7, (uint16_t)nl);
	memcpy(p + n + 9, name, nl);
	n += 9 + nl;
	(void)sni;
	/* supported_versions: TLS 1.3 */
	put16(p + n, 43);
	put16(p + n + 2, 3);
	p[n + 4] = 2;
	put16(p + n + 5, 0x0304);
	n += 7;
	if (pad > 0) {			/* padding, as big key shares make */
		put16(p + n, 21);
		put16(p + n + 2, (uint16_t)pad);
		memset(p + n + 4, 0, pad);
		n += 4 + pad;
	}
	put16(p + ext, (uint16_t)(n - ext - 2));
	put16(p + 3, (uint16_t)(n - 5));
	p[hs + 1] = (uint8_t)((n - hs - 4) >> 16);
	put16(p + hs + 2, (uint16_t)(n - hs - 4));
	return n;
}

static void
gen_tls_partial(struct ctx *x, struct kind *k)
{
	uint8_t b[2400];
	char nb[80];
	struct tcp_seg s;
	size_t n, cut;
	bool six = six_now(x);

	n = client_hello(x, b, sizeof(b), some_name(x, nb, sizeof(nb)));
	cut = 1 + rnd_n(x, (uint32_t)(n - 1));
	memset(&s, 0, sizeof(s));
	s.sport = sport(x);
	s.dport = chance(x, 90) ? 443 : 80;
	s.seq = (uint32_t)rnd(x);
	if (chance(x, 60)) {		/* a SYN first: the flow gets a slot */
		s.flags = TCP_SYN;
		send_tcp(x, k, six, &s);
		s.seq++;
	}
	s.ack = (uint32_t)rnd(x);
	s.flags = TCP_ACK | TCP_PSH;
	if (chance(x, 25)) {		/* the second part first */
		s.seq += (uint32_t)cut;
		s.data = b + cut;
		s.len = n - cut;
	} else {
		s.data = b;
		s.len = cut;
	}
	send_tcp(x, k, six, &s);
}

static void
gen_tls_junk(struct ctx *x, struct kind *k)
{
	uint8_t b[2400];
	char nb[80];
	size_t n, i;

	n = client_hello(x, b, sizeof(b), some_name(x, nb, sizeof(nb)));
	switch (rnd_n(x, 4)) {
	case 0:		/* flipped bytes */
		for (i = 0; i < 1 + rnd_n(x, 8); i++)
			b[rnd_n(x, (uint32_t)n)] ^= (uint8_t)(1 + rnd_n(x, 255));
		break;
	case 1:		/* a length that lies: record, handshake, ext, SNI */
		put16(b + (rnd_n(x, 2) ? 3 : 7) + 0, (uint16_t)rnd(x));
		if (chance(x, 50))
			put16(b + 5 + 4 + 2 + 32 + 33 + 8 + 2 + 4,
			    (uint16_t)rnd(x));
		break;
	case 2:		/* a handshake record of random bytes */
		rnd_bytes(x, b + 5, n - 5);
		break;
	default:	/* random bytes */
		n = rnd_n(x, 1400);
		rnd_bytes(x, b, n);
		break;
	}
	send_data(x, k, six_now(x), false, chance(x, 90) ? 443 : 80, b, n);
}

static void
gen_http(struct ctx *x, struct kind *k)
{
	char b[1400], nb[80];
	const char *name = some_name(x, nb, sizeof(nb));
	size_t n = 0, i;
	int w;

	switch (rnd_n(x, 6)) {
	case 0:		/* cut short */
		w = snprintf(b, sizeof(b), "GET /%u HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: flood\r\n\r\n", (unsigned)rnd_n(x, 1000),
		    name);
		n = 1 + rnd_n(x, (uint32_t)w - 1);
		break;
	case 1:		/* no Host */
		n = (size_t)snprintf(b, sizeof(b), "GET / HTTP/1.1\r\n"
		    "Accept: */*\r\n\r\n");
		break;
	case 2:		/* two Hosts, an odd one, a huge header */
		w = snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: %s\r\n"
		    "Host: %s:%u\r\nX: ", name, chance(x, 50) ? "[::1" :
		    "a..b", (unsigned)rnd_n(x, 99999));
		n = (size_t)w;
		while (n < sizeof(b) - 5)
			b[n++] = 'x';
		memcpy(b + n, "\r\n\r\n", 4);
		n += 4;
		break;
	case 3:		/* binary in the request line and the host */
		w = snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: ");
		n = (size_t)w;
		for (i = 0; i < 30; i++)
			b[n++] = (char)rnd(x);
		memcpy(b + n, "\r\n\r\n", 4);
		n += 4;
		break;
	case 4:		/* random printable */
		n = rnd_n(x, 1200);
		for (i = 0; i < n; i++)
			b[i] = (char)(32 + rnd_n(x, 95));
		break;
	default:	/* whole */
		n = (size_t)snprintf(b, sizeof(b), "%s / HTTP/1.%u\r\nHost: "
		    "%s\r\n\r\n", chance(x, 80) ? "GET" : "POST",
		    (unsigned)rnd_n(x, 2), name);
		break;
	}
	send_data(x, k, six_now(x), false, chance(x, 85) ? 80 : 443,
	    (const uint8_t *)b, n);
}

static void
gen_tcp_flags(struct ctx *x, struct kind *k)
{
	static const uint8_t combos[] = {
		TCP_SYN | TCP_FIN, TCP_SYN | TCP_RST, 0, 0xff, TCP_FIN,
		TCP_SYN | TCP_FIN | TCP_PSH | 0x20, 0x20, TCP_RST | TCP_ACK,
		TCP_SYN | TCP_ACK, 0xc2,
	};
	static const uint16_t ports[] = { 53, 80, 443 };
	uint8_t data[200], opt[40];
	struct tcp_seg s;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.sport = sport(x);
	s.dport = ports[rnd_n(x, 3)];
	s.to_dns = s.dport == 53 && chance(x, 70);
	s.seq = (uint32_t)rnd(x);
	s.ack = (uint32_t)rnd(x);
	s.flags = combos[rnd_n(x, sizeof(combos))];
	s.len = chance(x, 50) ? rnd_n(x, sizeof(data)) : 0;
	rnd_bytes(x, data, s.len);
	s.data = data;
	switch (rnd_n(x, 3)) {
	case 0:		/* a data offset below 5, or past the segment */
		s.doff = chance(x, 50) ? (int)rnd_n(x, 5) : 15;
		break;
	case 1:		/* options whose lengths lie */
		s.optlen = 4 * (1 + rnd_n(x, 10));
		rnd_bytes(x, opt, s.optlen);
		for (i = 0; i + 1 < s.optlen; i += 4)
			opt[i] = (uint8_t)rnd_n(x, 35);
		s.opt = opt;
		break;
	default:
		break;
	}
	send_tcp(x, k, six_now(x), &s);
}

/* ------------------------------------------------------------ QUIC */

static const uint32_t versions[] = {
	0x00000001, 0x6b3343cf, 0xff00001d, 0x00000000, 0x1a2a3a4a,
};

static size_t
varint(uint8_t *p, uint64_t v)
{
	if (v < 64) {
		p[0] = (uint8_t)v;
		return 1;
	}
	if (v < 16384) {
		put16(p, (uint16_t)(0x4000 | v));
		return 2;
	}
	put32(p, (uint32_t)(0x80000000u | (v & 0x3fffffff)));
	return 4;
}

/* An Initial's header and random "encrypted" bytes; its length. */
static size_t
quic_initial(struct ctx *x, uint8_t *b, size_t cap)
{
	size_t n = 0, dcid, scid, tok, left;
	uint32_t v = versions[rnd_n(x, chance(x, 80) ? 2 : 5)];

	/* v2 numbers its Initial type 1, v1 0 */
	b[n++] = (uint8_t)(0xc0 | ((v == 0x6b3343cf ? 1 : 0) << 4) |
	    rnd_n(x, 4));
	put32(b + n, v);
	n += 4;
	dcid = chance(x, 95) ? 8 + rnd_n(x, 13) : 21 + rnd_n(x, 200);
	b[n++] = (uint8_t)dcid;
	rnd_bytes(x, b + n, dcid);
	n += dcid;
	scid = rnd_n(x, 21);
	b[n++] = (uint8_t)scid;
	rnd_bytes(x, b + n, scid);
	n += scid;
	tok = chance(x, 80) ? 0 : rnd_n(x, 100);
	n += varint(b + n, chance(x, 95) ? tok : rnd(x) & 0x3fffffff);
	rnd_bytes(x, b + n, tok);
	n += tok;
	left = cap > n + 4 ? cap - n - 4 : 0;
	n += varint(b + n, chance(x, 85) ? left : rnd_n(x, 5000));
	rnd_bytes(x, b + n, left);
	return n + left;
}

static void
gen_quic_initial(struct ctx *x, struct kind *k)
{
	uint8_t b[1300];
	size_t n;

	n = quic_initial(x, b, 1200 + rnd_n(x, 60));
	send_udp(x, k, six_now(x), false, 443, b, n);
}

static void
gen_quic_trunc(struct ctx *x, struct kind *k)
{
	uint8_t b[1300];
	size_t n;

	switch (rnd_n(x, 3)) {
	case 0:		/* an Initial cut short */
		n = quic_initial(x, b, 1200);
		n = 1 + rnd_n(x, (uint32_t)(n < 80 ? n : 80));
		break;
	case 1:		/* a short header */
		n = 1 + rnd_n(x, 1200);
		rnd_bytes(x, b, n);
		b[0] = (uint8_t)(0x40 | (b[0] & 0x3f));
		break;
	default:	/* version negotiation, or a long header of any type */
		n = 7 + rnd_n(x, 60);
		rnd_bytes(x, b, n);
		b[0] |= 0x80;
		if (chance(x, 50))
			put32(b + 1, 0);
		break;
	}
	send_udp(x, k, six_now(x), false, 443, b, n);
}

static void
gen_udp443_junk(struct ctx *x, struct kind *k)
{
	uint8_t b[1300];
	size_t n = rnd_n(x, sizeof(b));

	rnd_bytes(x, b, n);
	send_udp(x, k, six_now(x), false, 443, b, n);
}

/* ------------------------------------------------------------ fragments */

static void
gen_frag4(struct ctx *x, struct kind *k)
{
	uint8_t dgram[2400], pkt[PKT_MAX];
	char nb[80];
	size_t dl, off, piece, pieces[8][2], np = 0, i, order[8];
	uint16_t id = (uint16_t)(1 + rnd_n(x, 65535)), dp;
	bool to_dns = chance(x, 60);
	uint32_t mode = rnd_n(x, 5);

	dp = to_dns || chance(x, 50) ? 53 : 443;
	if (dp == 53) {
		uint8_t q[1000];
		size_t ql = dns_query(x, q, some_name(x, nb, sizeof(nb)),
		    true);

		/* padded so that it takes several pieces */
		memset(q + ql, 0, 400);
		dl = udp_seg(dgram, sport(x), dp, q, ql + rnd_n(x, 400));
	} else {
		uint8_t q[1300];
		size_t ql = quic_initial(x, q, 1200);

		dl = udp_seg(dgram, sport(x), dp, q, ql);
	}
	{
		struct in_addr dst = to_dns ? x->dns4 : x->conn4;

		put16(dgram + 6, l4_sum(false, (uint8_t *)&x->cur4,
		    (uint8_t *)&dst, IPPROTO_UDP, dgram, dl));
	}
	/* pieces of a multiple of 8 bytes, the last whatever is left */
	piece = mode == 4 ? 8 : 8 * (8 + rnd_n(x, 60));
	for (off = 0; off < dl && np < 8; off += piece) {
		pieces[np][0] = off;
		pieces[np][1] = dl - off < piece ? dl - off : piece;
		np++;
	}
	if (off < dl)		/* too many pieces: the rest never comes */
		mode = 1;
	for (i = 0; i < np; i++)
		order[i] = i;
	if (mode == 2)		/* reversed */
		for (i = 0; i < np; i++)
			order[i] = np - 1 - i;
	for (i = 0; i < np; i++) {
		size_t p = order[i], o = pieces[p][0], l = pieces[p][1];
		uint16_t frag = (uint16_t)(o / 8);

		if (mode == 1 && p == np - 1 && np > 1)
			continue;	/* the last piece never comes */
		if (mode == 3 && p > 0) {	/* overlapping */
			o -= 8;
			l += 8;
			frag = (uint16_t)(o / 8);
		}
		if (o + l < dl)
			frag |= 0x2000;		/* more fragments */
		ip4_header(x, pkt, IPPROTO_UDP, to_dns ? x->dns4 : x->conn4,
		    l, frag, id, 0);
		memcpy(pkt + 20, dgram + o, l);
		emit(x, k, pkt, 20 + l, false);
	}
}

static void
gen_ip4_options(struct ctx *x, struct kind *k)
{
	uint8_t pkt[PKT_MAX], q[600];
	char nb[80];
	size_t opt = 4 * (1 + rnd_n(x, 10)), ql, n, i;

	ql = dns_query(x, q, some_name(x, nb, sizeof(nb)), false);
	if (chance(x, 30)) {
		ql = rnd_n(x, 300);
		rnd_bytes(x, q, ql);
	}
	n = udp_seg(pkt + 20 + opt, sport(x), 53, q, ql);
	/* NOPs, then an option whose length may lie, then EOL */
	memset(pkt + 20, 1, opt);
	if (opt >= 8) {
		i = rnd_n(x, (uint32_t)(opt - 4));
		pkt[20 + i] = (uint8_t)(chance(x, 50) ? 0x94 : rnd(x));
		pkt[20 + i + 1] = (uint8_t)(chance(x, 50) ? 4 : rnd(x));
	}
	pkt[20 + opt - 1] = 0;
	ip4_header(x, pkt, IPPROTO_UDP, x->dns4, n, 0x4000, 0, opt);
	put16(pkt + 20 + opt + 6, l4_sum(false, pkt + 12, pkt + 16,
	    IPPROTO_UDP, pkt + 20 + opt, n));
	/* the header checksum is over the options too: ip4_header() did it */
	emit(x, k, pkt, 20 + opt + n, false);
}

static void
gen_ip6_ext(struct ctx *x, struct kind *k)
{
	uint8_t pkt[PKT_MAX], q[600];
	char nb[80];
	size_t n = 40, ql, i, count = 1 + rnd_n(x, 12), l;
	uint8_t *next = pkt + 6, type;

	for (i = 0; i < count && n + 80 < 600; i++) {
		/* hop-by-hop only first; else destination options or a
		   routing header with nothing left to route */
		type = i == 0 && chance(x, 50) ? 0 : chance(x, 70) ? 60 : 43;
		*next = type;
		next = pkt + n;
		l = 8 * (1 + rnd_n(x, 3));
		memset(pkt + n, 0, l);
		pkt[n + 1] = (uint8_t)(l / 8 - 1);
		if (type == 43) {
			pkt[n + 2] = (uint8_t)(chance(x, 50) ? 4 : 253);
			pkt[n + 3] = 0;		/* segments left */
		} else {
			pkt[n + 2] = 1;		/* PadN over the rest */
			pkt[n + 3] = (uint8_t)(l - 4);
			if (chance(x, 30)) {	/* an unknown, skippable one */
				pkt[n + 2] = 0x1e;
				rnd_bytes(x, pkt + n + 4, l - 4);
			}
		}
		n += l;
	}
	*next = IPPROTO_UDP;
	ql = dns_query(x, q, some_name(x, nb, sizeof(nb)), false);
	if (chance(x, 30)) {
		ql = rnd_n(x, 300);
		rnd_bytes(x, q, ql);
	}
	i = n;
	n += udp_seg(pkt + n, sport(x), 53, q, ql);
	{
		uint8_t hdr6 = pkt[6];

		ip6_header(x, pkt, hdr6, &x->dns6, n - 40);
	}
	put16(pkt + i + 6, l4_sum(true, pkt + 8, pkt + 24, IPPROTO_UDP,
	    pkt + i, n - i));
	emit(x, k, pkt, n, true);
}

static void
gen_frag6(struct ctx *x, struct kind *k)
{
	uint8_t dgram[1400], q[1000], pkt[PKT_MAX];
	char nb[80];
	size_t dl, ql, off, piece, n;
	uint32_t id = (uint32_t)rnd(x), mode = rnd_n(x, 4);

	ql = dns_query(x, q, some_name(x, nb, sizeof(nb)), true);
	memset(q + ql, 0, 600);
	ql += rnd_n(x, 600);
	dl = udp_seg(dgram, sport(x), 53, q, ql);
	put16(dgram + 6, l4_sum(true, (uint8_t *)&x->cur6,
	    (uint8_t *)&x->dns6, IPPROTO_UDP, dgram, dl));
	piece = 8 * (8 + rnd_n(x, 40));
	for (off = 0; off < dl; off += piece) {
		size_t l = dl - off < piece ? dl - off : piece;
		uint16_t fo = (uint16_t)(off & ~7u);

		if (mode == 1 && off + l >= dl && off > 0)
			break;		/* the last piece never comes */
		if (mode == 2 && off > 0)
			fo = (uint16_t)(fo - 8);	/* overlapping */
		ip6_header(x, pkt, 44, &x->dns6, 8 + l);
		pkt[40] = IPPROTO_UDP;
		pkt[41] = 0;
		put16(pkt + 42, (uint16_t)(fo | (off + l < dl ? 1 : 0)));
		put32(pkt + 44, mode == 3 ? (uint32_t)rnd(x) : id);
		memcpy(pkt + 48, dgram + off, l);
		n = 48 + l;
		emit(x, k, pkt, n, true);
	}
}

/* ------------------------------------------------------------ main */

static struct kind kinds[] = {
	{ "udp53-random", false, false, gen_udp53_random, 0, 0 },
	{ "udp53-header", false, false, gen_udp53_header, 0, 0 },
	{ "udp53-qdcount", false, false, gen_udp53_qdcount, 0, 0 },
	{ "udp53-loop", false, false, gen_udp53_loop, 0, 0 },
	{ "udp53-edns", false, false, gen_udp53_edns, 0, 0 },
	{ "udp53-labels", false, false, gen_udp53_labels, 0, 0 },
	{ "udp53-valid", false, false, gen_udp53_valid, 0, 0 },
	{ "tcp53-junk", false, false, gen_tcp53_junk, 0, 0 },
	{ "tcp53-valid", false, false, gen_tcp53_valid, 0, 0 },
	{ "tls-partial", false, false, gen_tls_partial, 0, 0 },
	{ "tls-junk", false, false, gen_tls_junk, 0, 0 },
	{ "http", false, false, gen_http, 0, 0 },
	{ "tcp-flags", false, false, gen_tcp_flags, 0, 0 },
	{ "quic-initial", false, false, gen_quic_initial, 0, 0 },
	{ "quic-trunc", false, false, gen_quic_trunc, 0, 0 },
	{ "udp443-junk", false, false, gen_udp443_junk, 0, 0 },
	{ "frag4", false, false, gen_frag4, 0, 0 },
	{ "ip4-options", false, false, gen_ip4_options, 0, 0 },
	{ "ip6-ext", true, false, gen_ip6_ext, 0, 0 },
	{ "frag6", true, false, gen_frag6, 0, 0 },
};

static void
usage(void)
{
	fprintf(stderr, "usage: flood [-a n] [-d seconds] [-r pps] [-x seed] "
	    "[-p ports] [-n name]... [-k kind,...]\n"
	    "             -4 src,dns,conn [-6 src,dns,conn]\n");
	exit(2);
}

/* "SRC,DNS,CONN" into three addresses of family af. */
static bool
three(const char *arg, int af, void *a, void *b, void *c)
{
	char buf[200], *p, *q;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) ||
	    (p = strchr(buf, ',')) == NULL || (q = strchr(p + 1, ',')) ==
	    NULL)
		return false;
	*p++ = '\0';
	*q++ = '\0';
	return inet_pton(af, buf, a) == 1 && inet_pton(af, p, b) == 1 &&
	    inet_pton(af, q, c) == 1;
}

int
main(int argc, char *argv[])
{
	struct ctx x;
	bool have4 = false;
	size_t i, nk = sizeof(kinds) / sizeof(kinds[0]);
	const char *only = NULL;
	double secs;
	int ch, on = 0;

	memset(&x, 0, sizeof(x));
	x.seconds = 10;
	x.rate = 20000;
	x.rng = 1;
	x.ports = 2048;
	x.naddrs = 1;
	x.fd6 = -1;
	while ((ch = getopt(argc, argv, "4:6:a:d:k:n:p:r:x:")) != -1) {
		switch (ch) {
		case '4':
			if (!three(optarg, AF_INET, &x.src4, &x.dns4,
			    &x.conn4))
				usage();
			have4 = true;
			break;
		case '6':
			if (!three(optarg, AF_INET6, &x.src6, &x.dns6,
			    &x.conn6))
				usage();
			x.v6 = true;
			break;
		case 'a':
			x.naddrs = (unsigned)strtoul(optarg, NULL, 10);
			if (x.naddrs == 0 || x.naddrs > 200)
				usage();
			break;
		case 'd':
			x.seconds = strtod(optarg, NULL);
			break;
		case 'k':
			only = optarg;
			break;
		case 'n':
			if (x.nnames == NAMES_MAX || strlen(optarg) > 200)
				usage();
			x.names[x.nnames++] = optarg;
			break;
		case 'p':
			x.ports = (unsigned)strtoul(optarg, NULL, 10);
			if (x.ports == 0 || x.ports > 40000)
				usage();
			break;
		case 'r':
			x.rate = strtod(optarg, NULL);
			break;
		case 'x':
			x.rng = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!have4 || x.seconds <= 0)
		usage();
	for (i = 0; i < nk; i++) {
		char list[512], *w, *save;

		if (kinds[i].v6only && !x.v6)
			kinds[i].off = true;
		if (only == NULL)
			continue;
		snprintf(list, sizeof(list), "%s", only);
		kinds[i].off = true;
		for (w = strtok_r(list, ",", &save); w != NULL;
		    w = strtok_r(NULL, ",", &save))
			if (strcmp(w, kinds[i].name) == 0)
				kinds[i].off = kinds[i].v6only && !x.v6;
	}
	for (i = 0; i < nk; i++)
		on += !kinds[i].off;
	if (on == 0) {
		fprintf(stderr, "flood: no kind to send\n");
		return 2;
	}
	/* xorshift must not start at 0; stir the seed a little */
	x.rng = (x.rng ^ 0x9e3779b97f4a7c15ull) | 1;
	x.ipid = (uint16_t)rnd(&x);
	if ((x.fd4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1) {
		perror("flood: raw IPv4 socket (needs CAP_NET_RAW)");
		return 1;
	}
	if (x.v6 && (x.fd6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)) == -1) {
		perror("flood: raw IPv6 socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &x.start);
	while (!x.done) {
		for (i = 0; i < nk && !x.done; i++) {
			uint32_t a = rnd_n(&x, x.naddrs);

			if (kinds[i].off)
				continue;
			x.cur4.s_addr = htonl(ntohl(x.src4.s_addr) + a);
			x.cur6 = x.src6;
			x.cur6.s6_addr[15] = (uint8_t)(x.cur6.s6_addr[15] + a);
			kinds[i].gen(&x, &kinds[i]);
		}
	}
	secs = elapsed(&x);
	for (i = 0; i < nk; i++)
		if (!kinds[i].off)
			printf("kind %s sent %llu failed %llu\n",
			    kinds[i].name, (unsigned long long)kinds[i].sent,
			    (unsigned long long)kinds[i].failed);
	printf("total sent %llu failed %llu seconds %.2f rate %.0f\n",
	    (unsigned long long)(x.total - x.failed),
	    (unsigned long long)x.failed, secs,
	    (double)(x.total - x.failed) / secs);
	return x.total > x.failed ? 0 : 1;
}
