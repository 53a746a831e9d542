/*
 * inject.h - sending forged packets (DNS answers, TCP resets) through raw
 * sockets, IPv4 and IPv6, with the IP header written by us.
 *
 * The sockets are opened once, while safegated still has CAP_NET_RAW, and
 * shared by every worker thread: sendto() on a raw socket is thread-safe.
 */
#ifndef SG_INJECT_H
#define SG_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct inject;

/* Opens both sockets.  NULL and errno on failure (EPERM without the cap). */
struct inject *inject_open(void);
void	inject_close(struct inject *);

#define INJECT_MANY_MAX	256

struct inject_msg {
	const uint8_t	*pkt;
	size_t		 len;
	uint32_t	 ifindex;
};

/*
 * Sends up to INJECT_MANY_MAX complete IP packets (as packet_build_*()
 * writes them) with one sendmmsg() a family.  ifindex scopes an IPv6
 * link-local destination (0 if unknown).
 * Returns how many could not be sent (0 when all went); *err receives the
 * first error.
 */
size_t	inject_send_many(struct inject *, const struct inject_msg *, size_t n,
	    int *err);

#endif
