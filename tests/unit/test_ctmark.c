/*
 * test_ctmark.c - the ctnetlink update ctmark.h sends: read back with
 * libmnl, attribute by attribute, as the kernel would.
 */
#include <arpa/inet.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <criterion/criterion.h>

#include "ctmark.h"
#include "queue.h"

static struct ctmark_tuple
tuple(const char *src, const char *dst, uint8_t proto)
{
	struct ctmark_tuple t;

	memset(&t, 0, sizeof(t));
	cr_assert_eq(addr_parse(&t.src, src), 0);
	cr_assert_eq(addr_parse(&t.dst, dst), 0);
	t.proto = proto;
	t.sport = 40000;
	t.dport = 443;
	return t;
}

/* The nested attribute of type type inside a, or NULL. */
static const struct nlattr *
child(const struct nlattr *a, uint16_t type)
{
	const struct nlattr *c;

	mnl_attr_for_each_nested(c, a)
		if (mnl_attr_get_type(c) == type)
			return c;
	return NULL;
}

static void
check(const struct ctmark_tuple *t, uint16_t src_type, uint16_t dst_type,
    size_t alen)
{
	uint8_t buf[512];
	size_t len = ctmark_build(buf, sizeof(buf), 7, t);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nfgenmsg *nfg;
	const struct nlattr *a, *orig = NULL, *ip, *proto, *x;
	uint32_t mark = 0, mask = 0;

	cr_assert_gt(len, 0);
	cr_assert_eq(nlh->nlmsg_len, len);
	cr_assert_eq(nlh->nlmsg_type,
	    (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW);
	cr_assert_eq(nlh->nlmsg_flags, NLM_F_REQUEST,
	    "an update only: never NLM_F_CREATE");
	cr_assert_eq(nlh->nlmsg_seq, 7);
	nfg = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(nfg->nfgen_family, t->src.family);
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_ORIG:
			orig = a;
			break;
		case CTA_MARK:
			mark = ntohl(mnl_attr_get_u32(a));
			break;
		case CTA_MARK_MASK:
			mask = ntohl(mnl_attr_get_u32(a));
			break;
		}
	}
	cr_assert_eq(mark, QUEUE_MARK_DECIDED | QUEUE_MARK_BLOCK);
	cr_assert_eq(mask, QUEUE_MARK_MASK, "the other bits of the mark kept");
	cr_assert_not_null(orig);
	cr_assert_not_null(ip = child(orig, CTA_TUPLE_IP));
	cr_assert_not_null(x = child(ip, src_type));
	cr_assert_eq(mnl_attr_get_payload_len(x), alen);
	cr_assert_eq(memcmp(mnl_attr_get_payload(x), t->src.u.b, alen), 0);
	cr_assert_not_null(x = child(ip, dst_type));
	cr_assert_eq(memcmp(mnl_attr_get_payload(x), t->dst.u.b, alen), 0);
	cr_assert_not_null(proto = child(orig, CTA_TUPLE_PROTO));
	cr_assert_not_null(x = child(proto, CTA_PROTO_NUM));
	cr_assert_eq(mnl_attr_get_u8(x), t->proto);
	cr_assert_not_null(x = child(proto, CTA_PROTO_SRC_PORT));
	cr_assert_eq(ntohs(mnl_attr_get_u16(x)), 40000);
	cr_assert_not_null(x = child(proto, CTA_PROTO_DST_PORT));
	cr_assert_eq(ntohs(mnl_attr_get_u16(x)), 443);
}

Test(ctmark, ipv4_tcp)
{
	struct ctmark_tuple t = tuple("10.77.0.2", "192.0.2.1", IPPROTO_TCP);

	check(&t, CTA_IP_V4_SRC, CTA_IP_V4_DST, 4);
}

Test(ctmark, ipv6_udp)
{
	struct ctmark_tuple t = tuple("fd77::2", "2001:db8::1", IPPROTO_UDP);

	check(&t, CTA_IP_V6_SRC, CTA_IP_V6_DST, 16);
}

Test(ctmark, refuses_what_is_not_a_tuple)
{
	uint8_t buf[512];
	struct ctmark_tuple t = tuple("10.77.0.2", "2001:db8::1", IPPROTO_TCP);

	cr_assert_eq(ctmark_build(buf, sizeof(buf), 1, &t), 0, "two families");
	t = tuple("10.77.0.2", "192.0.2.1", IPPROTO_ICMP);
	cr_assert_eq(ctmark_build(buf, sizeof(buf), 1, &t), 0, "no ports");
	t = tuple("10.77.0.2", "192.0.2.1", IPPROTO_TCP);
	cr_assert_eq(ctmark_build(buf, 64, 1, &t), 0, "no room");
}
