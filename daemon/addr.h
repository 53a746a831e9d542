/*
 * addr.h - IPv4 and IPv6 addresses as one value type.
 *
 * An sg_addr is copied by value; it owns nothing.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "err.h"

#define ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */
#define MAC_STRLEN	18	/* "02:00:00:00:00:01" */

struct sg_addr {
	sa_family_t	family;	/* AF_INET, AF_INET6, or AF_UNSPEC (unset) */
	union {
		uint8_t		b[16];
		struct in_addr	v4;
		struct in6_addr	v6;
	} u;
};

/* Parses an IPv4 or IPv6 literal.  Returns 0 or SG_EMALFORMED. */
int	addr_parse(struct sg_addr *, const char *) SG_WUR;
/* Fills a from 4 or 16 bytes in network order. */
void	addr_set(struct sg_addr *, sa_family_t, const void *bytes);
/* Formats into buf (ADDR_STRLEN bytes); "-" when unset.  Returns buf. */
const char *addr_ntop(const struct sg_addr *, char *buf, size_t len);
bool	addr_equal(const struct sg_addr *, const struct sg_addr *);
size_t	addr_len(const struct sg_addr *);	/* 4, 16, or 0 */
/* Formats 6 bytes as a MAC address into buf (MAC_STRLEN bytes). */
const char *mac_ntop(const uint8_t mac[6], char *buf, size_t len);

#endif
