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

/*
 * Sends one complete IP packet (as built by packet_build_*).  ifindex scopes
 * an IPv6 link-local destination (0 if unknown).  Returns 0 or -errno.
 */
int	inject_send(struct inject *, const uint8_t *pkt, size_t len,
	    uint32_t ifindex) SG_WUR;

#endif
