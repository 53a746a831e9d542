/*
 * queue.c - NFQUEUE over libmnl and libnetfilter_queue's nlmsg helpers.
 *
 * Receive: one recvmmsg() with MSG_WAITFORONE waits for the first netlink
 * datagram (up to the socket's receive timeout) and takes up to
 * QUEUE_BATCH that are already there.  Each datagram carries one packet
 * message.
 * Verdicts: one NFQNL_MSG_VERDICT message per packet, appended to one buffer
 * and sent with one sendto() - the kernel walks them in order.  When every
 * packet of the batch gets the same verdict, one NFQNL_MSG_VERDICT_BATCH
 * message for the last id stands for them all: the kernel applies it to
 * every packet of the queue up to that id, and ids grow in the order
 * packets reach us, so those are exactly the packets of this batch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "queue.h"

#define RX_BUF		(0xffff + 512)	/* a whole packet + attributes */
#define VERDICT_ROOM	128		/* one verdict message, rounded up */
#define RCVBUF_BYTES	(8 * 1024 * 1024)

struct queue {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint16_t		 num;
	uint8_t			*rx[QUEUE_BATCH];
	uint8_t			 vbuf[QUEUE_BATCH * VERDICT_ROOM];
	size_t			 vlen;
	/* what the pending verdicts have in common */
	unsigned		 vcount;
	uint32_t		 vlast_id;
	enum queue_verdict	 vfirst;
	bool			 vuniform;
	int			 timeout_ms;	/* SO_RCVTIMEO now set */
	bool			 fail_open;
	struct queue_stats	 st;
};

static struct log_limit queue_log_limit = LOG_LIMIT_INIT;
static struct log_limit queue_overrun_limit = LOG_LIMIT_INIT;

/* Sends one config message and waits for the kernel's answer. */
static int
config_send(struct queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq;
	ssize_t n;
	int ret;

	seq = (uint32_t)time(NULL);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL);
		if (ret == -1)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

struct queue *
queue_open(uint16_t num, bool fail_open, uint32_t max_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct queue *q;
	uint32_t flags;
	int i, saved, rcvbuf = RCVBUF_BYTES, ret;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->num = num;
	q->timeout_ms = -1;
	q->fail_open = fail_open;
	for (i = 0; i < QUEUE_BATCH; i++)
		if ((q->rx[i] = malloc(RX_BUF)) == NULL)
			goto fail;
	if ((q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL)
		goto fail;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if ((ret = config_send(q, nlh)) < 0) {
		errno = -ret;
		goto fail;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, max_len);
	flags = fail_open ? NFQA_CFG_F_FAIL_OPEN : 0;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if ((ret = config_send(q, nlh)) < 0) {
		errno = -ret;
		goto fail;
	}

	/* A large buffer rides out bursts; overruns are still counted. */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf)) == -1)
		(void)setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET,
		    SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return q;
fail:
	saved = errno;
	queue_close(q);
	errno = saved;
	return NULL;
}

void
queue_close(struct queue *q)
{
	int i;

	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);	/* the kernel unbinds */
	for (i = 0; i < QUEUE_BATCH; i++)
		free(q->rx[i]);
	free(q);
}

int
queue_fd(const struct queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

uint16_t
queue_num(const struct queue *q)
{
	return q->num;
}

void
queue_get_stats(const struct queue *q, struct queue_stats *st)
{
	st->packets = __atomic_load_n(&q->st.packets, __ATOMIC_RELAXED);
	st->verdicts = __atomic_load_n(&q->st.verdicts, __ATOMIC_RELAXED);
	st->enobufs = __atomic_load_n(&q->st.enobufs, __ATOMIC_RELAXED);
	st->send_errors = __atomic_load_n(&q->st.send_errors,
	    __ATOMIC_RELAXED);
	st->bad_messages = __atomic_load_n(&q->st.bad_messages,
	    __ATOMIC_RELAXED);
}

/*
 * A line of the kernel's table (net/netfilter/nfnetlink_queue.c,
 * seq_show): queue, peer port id, waiting, copy mode, copy range, dropped
 * (full), dropped (socket), id sequence, and a constant 1.
 */
int
queue_kernel_parse(const char *text, uint16_t num,
    struct queue_kernel_stats *ks)
{
	const char *line, *nl;
	unsigned long long f[9];
	char *end;
	size_t i;

	for (line = text; *line != '\0'; line = nl + 1) {
		const char *p = line;

		for (i = 0; i < 9; i++) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p < '0' || *p > '9')
				break;
			errno = 0;
			f[i] = strtoull(p, &end, 10);
			if (errno != 0)
				break;
			p = end;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		nl = strchr(line, '\n');
		if (i < 1 || f[0] != num) {
			if (nl == NULL)
				break;
			continue;
		}
		if (i != 9 || (*p != '\n' && *p != '\0') ||
		    f[7] > UINT32_MAX)
			return -EINVAL;
		ks->waiting = f[2];
		ks->full_dropped = f[5];
		ks->socket_dropped = f[6];
		ks->last_id = (uint32_t)f[7];
		return 0;
	}
	return -ENOENT;
}

int
queue_kernel_stats(uint16_t num, struct queue_kernel_stats *ks)
{
	char buf[16384];
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	/* The table is generated as it is read: read it whole. */
	if ((fd = open(QUEUE_KERNEL_TABLE, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			close(fd);
			return rc;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return queue_kernel_parse(buf, num, ks);
}

static void
count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);	/* one writer */
}

/*
 * Sends the batch.  A transient failure (no memory or buffer space, a
 * signal) is retried: a packet whose verdict never arrives would sit in
 * the kernel's queue until the queue is unbound.
 */
static void
verdicts_flush(struct queue *q)
{
	struct timespec pause = { 0, 1000 * 1000 };
	uint64_t dropped;
	int tries;

	if (q->vlen == 0)
		return;
	if (q->vcount > 1 && q->vuniform) {
		struct nlmsghdr *nlh;

		nlh = nfq_nlmsg_put((char *)q->vbuf, NFQNL_MSG_VERDICT_BATCH,
		    q->num);
		nfq_nlmsg_verdict_put(nlh, (int)q->vlast_id,
		    q->vfirst == QUEUE_ACCEPT ? NF_ACCEPT : NF_DROP);
		q->vlen = NLMSG_ALIGN(nlh->nlmsg_len);
	}
	q->vcount = 0;
	for (tries = 0; tries < 5; tries++) {
		if (mnl_socket_sendto(q->nl, q->vbuf, q->vlen) >= 0) {
			q->vlen = 0;
			return;
		}
		if (errno != ENOBUFS && errno != ENOMEM && errno != EINTR &&
		    errno != EAGAIN)
			break;
		nanosleep(&pause, NULL);
	}
	count(&q->st.send_errors, 1);
	if (log_ratelimited(&queue_log_limit, 1, 5, &dropped))
		log_warn("queue %u: sending verdicts (%" PRIu64 " messages "
		    "like this suppressed)", q->num, dropped);
	q->vlen = 0;
}

static void
verdict_add(struct queue *q, const struct queue_packet *p,
    enum queue_verdict v)
{
	struct nlmsghdr *nlh;
	bool settle = v == QUEUE_SETTLE_ALLOW || v == QUEUE_SETTLE_BLOCK;

	if (q->vlen + VERDICT_ROOM > sizeof(q->vbuf))
		verdicts_flush(q);
	if (q->vcount == 0) {
		q->vfirst = v;
		q->vuniform = !settle;	/* a batch verdict carries no mark */
	} else if (v != q->vfirst || p->id <= q->vlast_id || settle)
		q->vuniform = false;
	q->vcount++;
	q->vlast_id = p->id;
	nlh = nfq_nlmsg_put((char *)q->vbuf + q->vlen, NFQNL_MSG_VERDICT,
	    q->num);
	if (settle) {
		nfq_nlmsg_verdict_put(nlh, (int)p->id, NF_REPEAT);
		nfq_nlmsg_verdict_put_mark(nlh, (p->mark & ~QUEUE_MARK_MASK) |
		    QUEUE_MARK_DECIDED |
		    (v == QUEUE_SETTLE_BLOCK ? QUEUE_MARK_BLOCK : 0));
	} else
		nfq_nlmsg_verdict_put(nlh, (int)p->id,
		    v == QUEUE_ACCEPT ? NF_ACCEPT : NF_DROP);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	count(&q->st.verdicts, 1);
}

/*
 * Reads one packet message.  Returns 1 and fills *p, 0 for a message that
 * is not a packet (an error reply to an earlier verdict, say), or -1 for a
 * packet message without a packet header.  That has no id to give a verdict
 * to; it would be a kernel bug, and is counted.
 */
static int
read_packet(const struct nlmsghdr *nlh, struct queue_packet *p)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfqnl_msg_packet_hw *hw;
	uint32_t cap;

	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE)
		return 0;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET)
		return 0;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return -1;
	memset(p, 0, sizeof(*p));
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p->id = ntohl(ph->packet_id);
	p->hook = ph->hook;
	if (attr[NFQA_PAYLOAD] != NULL) {
		p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p->len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_CAP_LEN] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4) {
		cap = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
		p->truncated = cap > p->len;
	}
	if (attr[NFQA_HWADDR] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_HWADDR]) >= sizeof(*hw)) {
		hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		if (ntohs(hw->hw_addrlen) == 6) {
			memcpy(p->mac, hw->hw_addr, 6);
			p->has_mac = true;
		}
	}
	if (attr[NFQA_MARK] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4)
		p->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_IFINDEX_INDEV] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_IFINDEX_INDEV]) >= 4)
		p->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_IFINDEX_OUTDEV] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_IFINDEX_OUTDEV]) >= 4)
		p->outdev =
		    ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	return 1;
}

static void
handle_datagram(struct queue *q, const uint8_t *buf, size_t len,
    queue_handler *handler, void *arg, int *handled)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct queue_packet p;
	int len_left = (int)len, r;

	while (mnl_nlmsg_ok(nlh, len_left)) {
		r = read_packet(nlh, &p);
		if (r < 0)
			count(&q->st.bad_messages, 1);
		else if (r > 0) {
			count(&q->st.packets, 1);
			verdict_add(q, &p, handler(arg, &p));
			(*handled)++;
		}
		nlh = mnl_nlmsg_next(nlh, &len_left);
	}
}

/* The receive timeout, set only when it changes. */
static void
set_timeout(struct queue *q, int fd, int timeout_ms)
{
	struct timeval tv;

	if (timeout_ms == q->timeout_ms)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
		q->timeout_ms = timeout_ms;
}

int
queue_run(struct queue *q, queue_handler *handler, void *arg, int timeout_ms)
{
	struct mmsghdr msgs[QUEUE_BATCH];
	struct iovec iov[QUEUE_BATCH];
	int fd = mnl_socket_get_fd(q->nl), i, n, handled = 0, flags;

	/* One call waits (up to the receive timeout) for the first packet
	 * and takes whatever else is already there. */
	if (timeout_ms > 0) {
		set_timeout(q, fd, timeout_ms);
		flags = MSG_WAITFORONE;
	} else
		flags = MSG_DONTWAIT;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < QUEUE_BATCH; i++) {
		iov[i].iov_base = q->rx[i];
		iov[i].iov_len = RX_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, msgs, QUEUE_BATCH, flags, NULL);
	if (n < 0) {
		if (errno == ENOBUFS) {
			uint64_t suppressed;

			/* The receive buffer overflowed: the kernel dropped
			 * what did not fit (or, with fail-open, accepted it
			 * unfiltered), and says so once.  What did fit is
			 * still there, in order: carry on.  An operator
			 * should hear of it: it is packets that went
			 * unjudged. */
			count(&q->st.enobufs, 1);
			if (log_ratelimited(&queue_overrun_limit, 1.0 / 60, 1,
			    &suppressed))
				log_warnx("queue %u: receive buffer overrun: "
				    "packets that did not fit were %s (%"
				    PRIu64 " overruns like this suppressed)",
				    q->num, q->fail_open ? "let through "
				    "unfiltered (fail_open)" : "dropped",
				    suppressed);
			return 0;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	for (i = 0; i < n; i++)
		handle_datagram(q, q->rx[i], msgs[i].msg_len, handler, arg,
		    &handled);
	verdicts_flush(q);
	return handled;
}
