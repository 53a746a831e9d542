/*
 * packet.c - see packet.h.  Parsing reads untrusted bytes through the cursor
 * only; building writes into the caller's buffer, whose size we check first.
 */
#include <netinet/in.h>
#include <string.h>

#include "cursor.h"
#include "packet.h"

#define IP4_MF		0x2000
#define IP4_DF		0x4000
#define IP4_OFFMASK	0x1fff
#define IP6_HDR_LEN	40
#define UDP_HDR_LEN	8
#define TCP_HDR_LEN	20

static int parse_transport(struct packet *, struct cursor *);

static int
parse_ipv4(struct packet *p, struct cursor *c)
{
	uint8_t vihl, tmp[4] = { 0 };
	size_t hlen, total;
	uint16_t frag;

	vihl = cursor_u8(c);
	(void)cursor_u8(c);			/* tos */
	total = cursor_u16(c);
	(void)cursor_u16(c);			/* id */
	frag = cursor_u16(c);
	p->ttl = cursor_u8(c);
	p->proto = cursor_u8(c);
	(void)cursor_u16(c);			/* checksum */
	cursor_copy(c, tmp, 4);
	addr_set(&p->src, AF_INET, tmp);
	cursor_copy(c, tmp, 4);
	addr_set(&p->dst, AF_INET, tmp);
	if (c->err)
		return c->err;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20 || total < hlen)
		return SG_EMALFORMED;
	if (total > c->len)
		return SG_ETRUNC;
	/* Trailing bytes past the IP total length (padding) are not ours. */
	c->len = total;
	cursor_skip(c, hlen - 20);		/* options */
	if (c->err)
		return c->err;
	p->ip_len = total;
	p->fragment = (frag & (IP4_MF | IP4_OFFMASK)) != 0;
	return parse_transport(p, c);
}

static int
parse_ipv6(struct packet *p, struct cursor *c)
{
	uint8_t tmp[16] = { 0 }, next, hdr;
	size_t plen, n, hlen;
	uint16_t off;

	(void)cursor_u32(c);			/* version, class, flow */
	plen = cursor_u16(c);
	next = cursor_u8(c);
	p->ttl = cursor_u8(c);
	cursor_copy(c, tmp, 16);
	addr_set(&p->src, AF_INET6, tmp);
	cursor_copy(c, tmp, 16);
	addr_set(&p->dst, AF_INET6, tmp);
	if (c->err)
		return c->err;
	if (plen == 0)				/* jumbogram: not on our path */
		return SG_EMALFORMED;
	if (plen > cursor_left(c))
		return SG_ETRUNC;
	c->len = c->pos + plen;
	p->ip_len = c->len;

	for (n = 0;; n++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			p->proto = next;
			return parse_transport(p, c);
		}
		if (n == PACKET_MAX_EXT_HDRS)
			return SG_ELIMIT;
		if (next == IPPROTO_FRAGMENT) {
			next = cursor_u8(c);
			(void)cursor_u8(c);		/* reserved */
			off = cursor_u16(c);		/* offset << 3 | M */
			(void)cursor_u32(c);		/* identification */
			if (c->err)
				return c->err;
			/* Every fragment, the first included, is not whole. */
			if ((off & 0xfff8) != 0 || (off & 1) != 0)
				p->fragment = true;
			continue;
		}
		hdr = next;
		next = cursor_u8(c);
		hlen = cursor_u8(c);
		if (c->err)
			return c->err;
		/* AH counts 4-byte units minus 2; the others 8-byte units
		 * minus 1.  Two bytes are read already. */
		if (hdr == IPPROTO_AH)
			hlen = (hlen + 2) * 4;
		else
			hlen = (hlen + 1) * 8;
		cursor_skip(c, hlen - 2);
		if (c->err)
			return c->err;
	}
}

static int
parse_transport(struct packet *p, struct cursor *c)
{
	size_t ulen, doff;
	uint16_t offflags;

	p->payload = cursor_here(c);
	p->payload_len = cursor_left(c);
	if (p->fragment)
		return 0;
	switch (p->proto) {
	case IPPROTO_UDP:
		p->sport = cursor_u16(c);
		p->dport = cursor_u16(c);
		ulen = cursor_u16(c);
		(void)cursor_u16(c);		/* checksum */
		if (c->err)
			return c->err;
		if (ulen < UDP_HDR_LEN || ulen - UDP_HDR_LEN > cursor_left(c))
			return SG_EMALFORMED;
		p->payload = cursor_here(c);
		p->payload_len = ulen - UDP_HDR_LEN;
		return 0;
	case IPPROTO_TCP:
		p->sport = cursor_u16(c);
		p->dport = cursor_u16(c);
		p->seq = cursor_u32(c);
		p->ack = cursor_u32(c);
		offflags = cursor_u16(c);
		p->window = cursor_u16(c);
		(void)cursor_u32(c);		/* checksum, urgent pointer */
		if (c->err)
			return c->err;
		doff = (size_t)(offflags >> 12) * 4;
		p->tcp_flags = (uint8_t)(offflags & 0xff);
		if (doff < TCP_HDR_LEN)
			return SG_EMALFORMED;
		cursor_skip(c, doff - TCP_HDR_LEN);	/* options */
		if (c->err)
			return c->err;
		p->payload = cursor_here(c);
		p->payload_len = cursor_left(c);
		return 0;
	}
	return 0;
}

int
packet_parse(struct packet *p, const void *buf, size_t len)
{
	struct cursor c;

	memset(p, 0, sizeof(*p));
	cursor_init(&c, buf, len);
	switch (cursor_peek_u8(&c) >> 4) {
	case 4:
		return parse_ipv4(p, &c);
	case 6:
		return parse_ipv6(p, &c);
	}
	return len == 0 ? SG_ETRUNC : SG_EMALFORMED;
}

/* ---------------------------------------------------------------- build */

uint32_t
packet_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

uint16_t
packet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
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

/*
 * Writes the IP header for a transport segment of l4len bytes and returns
 * its length, or a negative sg_err.  *pseudo receives the pseudo-header sum.
 */
static int
build_ip(uint8_t *out, size_t cap, const struct sg_addr *src,
    const struct sg_addr *dst, uint8_t proto, size_t l4len, uint32_t *pseudo)
{
	size_t alen;
	uint8_t ph[4];

	if (src->family != dst->family ||
	    (src->family != AF_INET && src->family != AF_INET6))
		return SG_EMALFORMED;
	alen = addr_len(src);
	if (src->family == AF_INET) {
		if (cap < 20 || l4len > cap - 20 || l4len > 65535 - 20)
			return SG_ELIMIT;
		memset(out, 0, 20);
		out[0] = 0x45;
		put16(out + 2, (uint16_t)(20 + l4len));
		/* id 0: the kernel picks one as it sends (raw(7)); with DF
		 * set it is never used for reassembly anyway. */
		put16(out + 6, IP4_DF);
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src->u.b, 4);
		memcpy(out + 16, dst->u.b, 4);
		put16(out + 10, (uint16_t)~packet_csum_fold(
		    packet_csum_add(0, out, 20)));
	} else {
		if (cap < IP6_HDR_LEN || l4len > cap - IP6_HDR_LEN ||
		    l4len > 65535)
			return SG_ELIMIT;
		memset(out, 0, IP6_HDR_LEN);
		out[0] = 0x60;
		put16(out + 4, (uint16_t)l4len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, src->u.b, 16);
		memcpy(out + 24, dst->u.b, 16);
	}
	ph[0] = 0;
	ph[1] = proto;
	put16(ph + 2, (uint16_t)l4len);
	*pseudo = packet_csum_add(packet_csum_add(packet_csum_add(0,
	    src->u.b, alen), dst->u.b, alen), ph, 4);
	return src->family == AF_INET ? 20 : IP6_HDR_LEN;
}

int
packet_build_udp(uint8_t *out, size_t cap, const struct sg_addr *src,
    const struct sg_addr *dst, uint16_t sport, uint16_t dport,
    const void *payload, size_t len)
{
	uint32_t sum;
	uint16_t csum;
	uint8_t *u;
	int hlen;

	if (len > 65535 - UDP_HDR_LEN)
		return SG_ELIMIT;
	hlen = build_ip(out, cap, src, dst, IPPROTO_UDP, UDP_HDR_LEN + len,
	    &sum);
	if (hlen < 0)
		return hlen;
	u = out + hlen;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(UDP_HDR_LEN + len));
	put16(u + 6, 0);
	if (len > 0)
		memcpy(u + UDP_HDR_LEN, payload, len);
	csum = (uint16_t)~packet_csum_fold(packet_csum_add(sum, u,
	    UDP_HDR_LEN + len));
	put16(u + 6, csum == 0 ? 0xffff : csum);	/* 0 means "none" */
	return hlen + UDP_HDR_LEN + (int)len;
}

int
packet_build_tcp(uint8_t *out, size_t cap, const struct sg_addr *src,
    const struct sg_addr *dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags)
{
	return packet_build_tcp_data(out, cap, src, dst, sport, dport, seq,
	    ack, flags, NULL, 0);
}

int
packet_build_tcp_data(uint8_t *out, size_t cap, const struct sg_addr *src,
    const struct sg_addr *dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, const void *payload, size_t len)
{
	uint32_t sum;
	uint8_t *t;
	int hlen;

	if (len > 65535 - TCP_HDR_LEN)
		return SG_ELIMIT;
	hlen = build_ip(out, cap, src, dst, IPPROTO_TCP, TCP_HDR_LEN + len,
	    &sum);
	if (hlen < 0)
		return hlen;
	t = out + hlen;
	memset(t, 0, TCP_HDR_LEN);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (TCP_HDR_LEN / 4) << 4;
	t[13] = flags;
	/* A reset offers no window; data offers a small one, so that the
	 * peer's FIN is not a zero-window probe. */
	if (len > 0 || !(flags & TCP_RST))
		put16(t + 14, TCP_DATA_WINDOW);
	if (len > 0)
		memcpy(t + TCP_HDR_LEN, payload, len);
	put16(t + 16, (uint16_t)~packet_csum_fold(packet_csum_add(sum, t,
	    TCP_HDR_LEN + len)));
	return hlen + TCP_HDR_LEN + (int)len;
}
