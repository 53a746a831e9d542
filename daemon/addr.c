#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
addr_parse(struct sg_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return SG_EMALFORMED;
}

void
addr_set(struct sg_addr *a, sa_family_t family, const void *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->u.b, bytes, family == AF_INET ? 4 : 16);
}

const char *
addr_ntop(const struct sg_addr *a, char *buf, size_t len)
{
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (inet_ntop(a->family, a->u.b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

bool
addr_equal(const struct sg_addr *a, const struct sg_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->u.b, b->u.b, addr_len(a)) == 0;
}

size_t
addr_len(const struct sg_addr *a)
{
	switch (a->family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	}
	return 0;
}

const char *
mac_ntop(const uint8_t mac[6], char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	/* No printf: events are formatted on the packet path. */
	if (len < MAC_STRLEN) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	for (i = 0; i < 6; i++) {
		buf[i * 3] = hex[mac[i] >> 4];
		buf[i * 3 + 1] = hex[mac[i] & 15];
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return buf;
}
