#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inject.h"

struct inject {
	int	fd4;
	int	fd6;
};

struct inject *
inject_open(void)
{
	struct inject *in;
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

int
inject_send(struct inject *in, const uint8_t *pkt, size_t len,
    uint32_t ifindex)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	ssize_t n;

	if (len < 20)
		return -EINVAL;
	if (pkt[0] >> 4 == 4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, pkt + 16, 4);
		n = sendto(in->fd4, pkt, len, 0, (struct sockaddr *)&sin,
		    sizeof(sin));
	} else {
		if (in->fd6 == -1)
			return -EAFNOSUPPORT;
		if (len < 40)
			return -EINVAL;
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, pkt + 24, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) ||
		    IN6_IS_ADDR_MC_LINKLOCAL(&sin6.sin6_addr))
			sin6.sin6_scope_id = ifindex;
		n = sendto(in->fd6, pkt, len, 0, (struct sockaddr *)&sin6,
		    sizeof(sin6));
	}
	if (n == -1)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
