/*
 * capture.c - see capture.h.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cursor.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86dd
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_PPP_SES	0x8864	/* PPPoE session: a DSL line's traffic */
#define PPP_IP		0x0021
#define PPP_IPV6	0x0057
#define MAX_VLAN_TAGS	4

struct capture {
	pcap_t		*pc;
	int		 dlt;
	uint64_t	 frame;
	uint64_t	 skipped;
};

struct capture *
capture_open_file(const char *path, char *err, size_t len)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct capture *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if ((c->pc = pcap_open_offline(path, ebuf)) == NULL) {
		snprintf(err, len, "%s", ebuf);
		free(c);
		return NULL;
	}
	c->dlt = pcap_datalink(c->pc);
	return c;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	pcap_close(c->pc);
	free(c);
}

uint64_t
capture_skipped(const struct capture *c)
{
	return c->skipped;
}

/* After an ethertype: 1 if it is IP (cursor at the IP header). */
static int
ethertype_ip(struct cursor *cur, uint16_t type)
{
	int tags = 0;

	while ((type == ETH_P_8021Q || type == ETH_P_8021AD) &&
	    tags++ < MAX_VLAN_TAGS) {
		(void)cursor_u16(cur);		/* TCI */
		type = cursor_u16(cur);
	}
	if (type == ETH_P_PPP_SES) {
		/* version/type, code, session id, length, then PPP. */
		(void)cursor_u8(cur);
		if (cursor_u8(cur) != 0)
			return 0;		/* not session data */
		(void)cursor_u16(cur);
		(void)cursor_u16(cur);
		type = cursor_u16(cur);
		if (cur->err)
			return 0;
		return type == PPP_IP || type == PPP_IPV6;
	}
	if (cur->err)
		return 0;
	return type == ETH_P_IP || type == ETH_P_IPV6;
}

int
capture_strip_link(int dlt, const uint8_t *frame, size_t len,
    const uint8_t **ip, size_t *iplen, uint8_t mac[6], bool *has_mac)
{
	struct cursor c;
	uint32_t family;
	uint16_t type, hatype, halen;
	int is_ip = 0;

	*has_mac = false;
	cursor_init(&c, frame, len);
	switch (dlt) {
	case DLT_EN10MB:
		cursor_skip(&c, 6);		/* destination */
		cursor_copy(&c, mac, 6);
		*has_mac = c.err == 0;
		is_ip = ethertype_ip(&c, cursor_u16(&c));
		break;
	case DLT_LINUX_SLL:
		(void)cursor_u16(&c);		/* packet type */
		hatype = cursor_u16(&c);
		halen = cursor_u16(&c);
		if (hatype == 1 && halen == 6) {
			cursor_copy(&c, mac, 6);
			*has_mac = c.err == 0;
			cursor_skip(&c, 2);
		} else
			cursor_skip(&c, 8);
		is_ip = ethertype_ip(&c, cursor_u16(&c));
		break;
	case DLT_LINUX_SLL2:
		type = cursor_u16(&c);
		cursor_skip(&c, 2 + 4);		/* reserved, ifindex */
		hatype = cursor_u16(&c);
		(void)cursor_u8(&c);		/* packet type */
		halen = cursor_u8(&c);
		if (hatype == 1 && halen == 6) {
			cursor_copy(&c, mac, 6);
			*has_mac = c.err == 0;
			cursor_skip(&c, 2);
		} else
			cursor_skip(&c, 8);
		is_ip = ethertype_ip(&c, type);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		family = cursor_u32(&c);
		/* DLT_NULL is in the capturing host's byte order. */
		if (dlt == DLT_NULL && (family & 0xffff) == 0)
			family = __builtin_bswap32(family);
		/* AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30. */
		is_ip = c.err == 0 && (family == 2 || family == 10 ||
		    family == 24 || family == 28 || family == 30);
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		is_ip = 1;
		break;
	default:
		return 0;
	}
	if (!is_ip || c.err || cursor_left(&c) == 0)
		return 0;
	*ip = cursor_here(&c);
	*iplen = cursor_left(&c);
	return 1;
}

int
capture_next(struct capture *c, struct capture_packet *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;

	for (;;) {
		r = pcap_next_ex(c->pc, &h, &data);
		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r != 1)
			return SG_EMALFORMED;
		c->frame++;
		memset(p, 0, sizeof(*p));
		p->frame = c->frame;
		p->ts.tv_sec = h->ts.tv_sec;
		p->ts.tv_nsec = (long)h->ts.tv_usec * 1000;
		p->truncated = h->caplen < h->len;
		if (capture_strip_link(c->dlt, data, h->caplen, &p->data,
		    &p->len, p->mac, &p->has_mac) == 1)
			return 1;
		c->skipped++;
	}
}
