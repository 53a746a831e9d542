/*
 * fuzz_leases.c - devices_leases_parse() on anything: every line is either
 * a lease or a reported bad line with a static reason, never both.  Every
 * lease has a real address (and an IPv4 lease a MAC), a printable hostname
 * of at most DEVICES_HOSTNAME_MAX bytes, and a line number that only goes
 * up.  The lease table built from the same bytes finds every MAC it holds.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct seen {
	size_t	last_line;
	size_t	leases;
};

static int
on_lease(void *arg, const struct devices_lease *l)
{
	struct seen *s = arg;
	size_t i, n = strnlen(l->hostname, sizeof(l->hostname));

	assert(l->line > s->last_line);
	s->last_line = l->line;
	s->leases++;
	assert(l->addr.family == AF_INET || l->addr.family == AF_INET6);
	assert(l->has_mac == (l->addr.family == AF_INET));
	if (!l->has_mac)
		assert(memcmp(l->mac, "\0\0\0\0\0\0", 6) == 0);
	assert(n <= DEVICES_HOSTNAME_MAX);
	for (i = 0; i < n; i++)
		assert(l->hostname[i] > ' ' && l->hostname[i] < 0x7f);
	return 0;
}

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct seen *s = arg;

	assert(line > s->last_line && reason != NULL && reason[0] != '\0');
	s->last_line = line;
}

static int
check_in_table(void *arg, const struct devices_lease *l)
{
	const struct devices_leases *t = arg;
	uint8_t mac[6];

	if (!l->has_mac)
		return 0;
	/* Found, but possibly another lease's name for that MAC. */
	(void)devices_leases_hostname(t, l->mac);
	assert(devices_leases_mac(t, &l->addr, mac));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0, 0 };
	struct devices_leases *t;

	assert(devices_leases_parse(data, size, on_lease, on_bad, &s) == 0);
	if ((t = devices_leases_new(data, size, NULL, NULL)) == NULL)
		return 0;
	assert(devices_leases_count(t) <= s.leases);
	if (s.leases <= DEVICES_LEASES_MAX)
		assert(devices_leases_parse(data, size, check_in_table, NULL,
		    t) == 0);
	devices_leases_free(t);
	return 0;
}
