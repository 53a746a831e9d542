/* ctmark.c - see ctmark.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ctmark.h"
#include "log.h"
#include "queue.h"

#define CTMARK_MSG	256	/* one update: about 120 bytes for IPv6 */

static struct log_limit ct_limit = LOG_LIMIT_INIT;

struct ctmark {
	struct mnl_socket	*nl;
	uint32_t		 seq;
	uint64_t		 sent, refused, send_errors;
	int			 last_error;
};

struct ctmark *
ctmark_open(void)
{
	struct ctmark *c;
	int e;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		ctmark_close(c);
		errno = e;
		return NULL;
	}
	c->seq = (uint32_t)time(NULL);
	return c;
}

void
ctmark_close(struct ctmark *c)
{
	if (c == NULL)
		return;
	if (c->nl != NULL)
		mnl_socket_close(c->nl);
	free(c);
}

static void
put_tuple(struct nlmsghdr *nlh, const struct ctmark_tuple *t)
{
	struct nlattr *tuple, *ip, *proto;

	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (t->src.family == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &t->src.u.v4);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &t->dst.u.v4);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, &t->src.u.v6);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, &t->dst.u.v6);
	}
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

size_t
ctmark_build(void *buf, size_t len, uint32_t seq,
    const struct ctmark_tuple *t)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (len < CTMARK_MSG || t->src.family != t->dst.family ||
	    (t->src.family != AF_INET && t->src.family != AF_INET6) ||
	    (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP))
		return 0;
	memset(buf, 0, CTMARK_MSG);
	nlh = mnl_nlmsg_put_header(buf);
	/* An update: no NLM_F_CREATE, so a connection that is gone is an
	 * error, never a new entry. */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)t->src.family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	put_tuple(nlh, t);
	/* new = (old & ~mask) ^ mark: our two bits set, the rest kept. */
	mnl_attr_put_u32(nlh, CTA_MARK,
	    htonl(QUEUE_MARK_DECIDED | QUEUE_MARK_BLOCK));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(QUEUE_MARK_MASK));
	return nlh->nlmsg_len;
}

/* The kernel's errors for earlier updates, without waiting. */
static void
read_answers(struct ctmark *c)
{
	uint8_t buf[4096];
	struct mmsghdr m;
	struct iovec iov = { buf, sizeof(buf) };
	const struct nlmsghdr *nlh;
	int n, left;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_hdr.msg_iov = &iov;
		m.msg_hdr.msg_iovlen = 1;
		n = recvmmsg(mnl_socket_get_fd(c->nl), &m, 1, MSG_DONTWAIT,
		    NULL);
		if (n != 1)
			return;
		left = (int)m.msg_len;
		for (nlh = (const struct nlmsghdr *)buf;
		    mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0)
				continue;
			__atomic_add_fetch(&c->refused, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&c->last_error, e->error,
			    __ATOMIC_RELAXED);
			/* ENOENT: the connection ended meanwhile. */
			if (e->error != -ENOENT &&
			    log_ratelimited(&ct_limit, 1.0 / 60, 1, NULL))
				log_warnx("conntrack: a stalled connection "
				    "could not be marked blocked (%s): its "
				    "tomb alone refuses the rest of it",
				    strerror(-e->error));
		}
	}
}

int
ctmark_block(struct ctmark *c, const struct ctmark_tuple *t)
{
	uint8_t buf[CTMARK_MSG];
	size_t len;

	read_answers(c);
	if ((len = ctmark_build(buf, sizeof(buf), ++c->seq, t)) == 0)
		return -EINVAL;
	if (mnl_socket_sendto(c->nl, buf, len) != (ssize_t)len) {
		int e = errno;

		__atomic_add_fetch(&c->send_errors, 1, __ATOMIC_RELAXED);
		if (log_ratelimited(&ct_limit, 1.0 / 60, 1, NULL))
			log_warnx("conntrack: a stalled connection could not "
			    "be marked blocked (%s): its tomb alone refuses "
			    "the rest of it", strerror(e));
		return -e;
	}
	__atomic_add_fetch(&c->sent, 1, __ATOMIC_RELAXED);
	return 0;
}

void
ctmark_get_stats(const struct ctmark *c, struct ctmark_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	st->sent = __atomic_load_n(&c->sent, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&c->refused, __ATOMIC_RELAXED);
	st->send_errors = __atomic_load_n(&c->send_errors, __ATOMIC_RELAXED);
	st->last_error = __atomic_load_n(&c->last_error, __ATOMIC_RELAXED);
}
