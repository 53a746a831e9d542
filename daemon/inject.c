#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inject.h"
#include "queue.h"

struct inject {
	int	fd4;
	int	fd6;
};

struct inject *
inject_open(void)
{
	struct inject *in;
	uint32_t mark = QUEUE_MARK_OWN;
	int saved;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->fd6 = -1;
	/* IPPROTO_RAW implies IP_HDRINCL (IPv4) and our own header (IPv6). */
	in->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (in->fd4 == -1)
		goto fail;
	in->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (in->fd6 == -1 && errno != EAFNOSUPPORT)
		goto fail;
	/*
	 * Our own packets carry a mark, so that the rules let them out
	 * untouched: a reset to a client belongs to the connection it ends,
	 * whose mark says "blocked: drop".
	 */
	if (setsockopt(in->fd4, SOL_SOCKET, SO_MARK, &mark,
	    sizeof(mark)) == -1 || (in->fd6 != -1 && setsockopt(in->fd6,
	    SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1))
		goto fail;
	return in;
fail:
	saved = errno;
	inject_close(in);
	errno = saved;
	return NULL;
}

void
inject_close(struct inject *in)
{
	if (in == NULL)
		return;
	if (in->fd4 != -1)
		close(in->fd4);
	if (in->fd6 != -1)
		close(in->fd6);
	free(in);
}

/*
 * The destination of a packet we built, for sendto(): the raw sockets
 * route by it.  Returns its family's socket, or -1 for a packet too short.
 */
static int
destination(const struct inject *in, const uint8_t *pkt, size_t len,
    uint32_t ifindex, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (len >= 20 && pkt[0] >> 4 == 4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, pkt + 16, 4);
		*sslen = sizeof(*sin);
		return in->fd4;
	}
	if (len < 40 || pkt[0] >> 4 != 6)
		return -1;
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, pkt + 24, 16);
	if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) ||
	    IN6_IS_ADDR_MC_LINKLOCAL(&sin6->sin6_addr))
		sin6->sin6_scope_id = ifindex;
	*sslen = sizeof(*sin6);
	return in->fd6;
}

/* sendmmsg() on one socket, going past a message that fails. */
static size_t
send_all(int fd, struct mmsghdr *m, size_t n, int *err)
{
	size_t done = 0, failed = 0;
	int r;

	while (done < n) {
		r = sendmmsg(fd, m + done, (unsigned)(n - done), 0);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (*err == 0)
			*err = r == -1 ? -errno : -EIO;
		failed++;
		done++;		/* that one is lost; carry on after it */
	}
	return failed;
}

size_t
inject_send_many(struct inject *in, const struct inject_msg *msgs, size_t n,
    int *err)
{
	static __thread struct sockaddr_storage ss[INJECT_MANY_MAX];
	static __thread struct mmsghdr m4[INJECT_MANY_MAX], m6[INJECT_MANY_MAX];
	static __thread struct iovec iov[INJECT_MANY_MAX];
	size_t i, n4 = 0, n6 = 0, failed = 0;
	socklen_t sslen;
	int fd;

	*err = 0;
	if (n > INJECT_MANY_MAX) {
		failed = n - INJECT_MANY_MAX;
		*err = -E2BIG;
		n = INJECT_MANY_MAX;
	}
	for (i = 0; i < n; i++) {
		struct mmsghdr *mh;

		fd = destination(in, msgs[i].pkt, msgs[i].len,
		    msgs[i].ifindex, &ss[i], &sslen);
		if (fd == -1) {
			if (*err == 0)
				*err = -EINVAL;
			failed++;
			continue;
		}
		mh = fd == in->fd4 ? &m4[n4++] : &m6[n6++];
		memset(mh, 0, sizeof(*mh));
		iov[i].iov_base = (void *)msgs[i].pkt;
		iov[i].iov_len = msgs[i].len;
		mh->msg_hdr.msg_name = &ss[i];
		mh->msg_hdr.msg_namelen = sslen;
		mh->msg_hdr.msg_iov = &iov[i];
		mh->msg_hdr.msg_iovlen = 1;
	}
	if (n4 > 0)
		failed += send_all(in->fd4, m4, n4, err);
	if (n6 > 0)
		failed += send_all(in->fd6, m6, n6, err);
	return failed;
}
