/*
 * test_devices.c - devices_new(), devices_match() precedence, and the
 * dnsmasq lease reader (devices_leases_parse(), devices_leases_new()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "devices.h"

static struct sg_addr
A(const char *text)
{
	struct sg_addr a;

	cr_assert_eq(addr_parse(&a, text), 0, "%s", text);
	return a;
}

static struct devices_spec
MAC(const char *name, const char *mac, unsigned profile)
{
	struct devices_spec s = { .name = name, .kind = DEVICES_MAC,
	    .profile = profile };
	unsigned b[6];
	int i;

	cr_assert_eq(sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2],
	    &b[3], &b[4], &b[5]), 6);
	for (i = 0; i < 6; i++)
		s.mac[i] = (uint8_t)b[i];
	return s;
}

static struct devices_spec
IP(const char *name, const char *ip, unsigned profile)
{
	struct devices_spec s = { .name = name, .kind = DEVICES_IP,
	    .addr = A(ip), .profile = profile };

	return s;
}

static struct devices_spec
NET(const char *name, const char *ip, unsigned prefix, unsigned profile)
{
	struct devices_spec s = { .name = name, .kind = DEVICES_CIDR,
	    .addr = A(ip), .prefix = prefix, .profile = profile };

	return s;
}

static const uint8_t mac_kid[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_other[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static struct devices *
table(void)
{
	static struct devices_spec s[9];
	struct devices_error e = { NULL, 0 };
	struct devices *d;

	s[0] = NET("lan-first", "192.168.1.0", 24, 10);
	s[1] = NET("lan-second", "192.168.1.0", 25, 11);
	s[2] = NET("lan-same-len", "192.168.0.0", 24, 12);
	s[3] = NET("wide", "192.168.0.0", 16, 13);
	s[4] = IP("laptop", "192.168.1.20", 4);
	s[5] = MAC("kid-tablet", "02:00:00:00:00:01", 2);
	s[6] = IP("kid-v6", "2001:db8::20", 5);
	s[7] = NET("v6-lan", "2001:db8::", 64, 6);
	s[8] = NET("v6-tight", "2001:db8::", 120, 7);
	d = devices_new(s, 9, &e);
	cr_assert_not_null(d, "%s at %zu", e.reason, e.index);
	cr_assert_eq(devices_count(d), 9);
	return d;
}

static void
expect(const struct devices *d, const uint8_t *mac, const char *ip,
    enum devices_by by, const char *name, unsigned profile)
{
	struct devices_match m;
	struct sg_addr a;

	if (ip != NULL)
		a = A(ip);
	cr_assert_eq(devices_match(d, mac, ip ? &a : NULL, &m), by,
	    "%s: by %d, want %d", ip, m.by, by);
	cr_assert_eq(m.by, by);
	if (name == NULL) {
		cr_assert_null(m.name, "%s", ip);
		cr_assert_eq(m.profile, 0);
		return;
	}
	cr_assert_str_eq(m.name, name, "%s", ip);
	cr_assert_eq(m.profile, profile, "%s", ip);
}

Test(devices, mac_beats_ip)
{
	struct devices *d = table();

	/* The tablet's MAC wins over the laptop's exact IP and every CIDR. */
	expect(d, mac_kid, "192.168.1.20", DEVICES_BY_MAC, "kid-tablet", 2);
	expect(d, mac_kid, "10.9.9.9", DEVICES_BY_MAC, "kid-tablet", 2);
	/* A privacy address: the MAC still finds it. */
	expect(d, mac_kid, "2001:db8::a1b2:c3d4:e5f6:1234", DEVICES_BY_MAC,
	    "kid-tablet", 2);
	expect(d, mac_kid, NULL, DEVICES_BY_MAC, "kid-tablet", 2);
	devices_free(d);
}

Test(devices, unlisted_mac_falls_through)
{
	struct devices *d = table();

	expect(d, mac_other, "192.168.1.20", DEVICES_BY_IP, "laptop", 4);
	expect(d, mac_other, "192.168.1.200", DEVICES_BY_CIDR, "lan-first",
	    10);
	expect(d, mac_other, "10.0.0.1", DEVICES_BY_NONE, NULL, 0);
	expect(d, mac_other, NULL, DEVICES_BY_NONE, NULL, 0);
	devices_free(d);
}

Test(devices, ip_beats_cidr)
{
	struct devices *d = table();

	expect(d, NULL, "192.168.1.20", DEVICES_BY_IP, "laptop", 4);
	expect(d, NULL, "2001:db8::20", DEVICES_BY_IP, "kid-v6", 5);
	devices_free(d);
}

Test(devices, longest_prefix_first)
{
	struct devices *d = table();

	/* /25 beats /24 although listed later. */
	expect(d, NULL, "192.168.1.5", DEVICES_BY_CIDR, "lan-second", 11);
	expect(d, NULL, "192.168.1.127", DEVICES_BY_CIDR, "lan-second", 11);
	expect(d, NULL, "192.168.1.128", DEVICES_BY_CIDR, "lan-first", 10);
	expect(d, NULL, "192.168.0.7", DEVICES_BY_CIDR, "lan-same-len", 12);
	expect(d, NULL, "192.168.200.1", DEVICES_BY_CIDR, "wide", 13);
	expect(d, NULL, "192.169.0.1", DEVICES_BY_NONE, NULL, 0);
	/* IPv6: /120 beats /64, outside both is the default. */
	expect(d, NULL, "2001:db8::ff", DEVICES_BY_CIDR, "v6-tight", 7);
	expect(d, NULL, "2001:db8::1:0", DEVICES_BY_CIDR, "v6-lan", 6);
	expect(d, NULL, "2001:db8:0:1::1", DEVICES_BY_NONE, NULL, 0);
	/* No MAC (OUTPUT): a privacy address only has the CIDR. */
	expect(d, NULL, "2001:db8::a1b2:c3d4:e5f6:1234", DEVICES_BY_CIDR,
	    "v6-lan", 6);
	/* Families never mix. */
	expect(d, NULL, "::ffff:192.168.1.20", DEVICES_BY_NONE, NULL, 0);
	devices_free(d);
}

Test(devices, equal_length_first_in_config_order)
{
	struct devices_spec s[4];
	struct devices *d;

	s[0] = NET("everything", "0.0.0.0", 0, 1);
	s[1] = NET("a", "10.0.0.0", 8, 2);
	s[2] = NET("b", "10.0.0.0", 9, 3);
	s[3] = NET("c", "10.128.0.0", 9, 4);
	cr_assert_not_null(d = devices_new(s, 4, NULL));
	expect(d, NULL, "10.1.2.3", DEVICES_BY_CIDR, "b", 3);
	expect(d, NULL, "10.200.2.3", DEVICES_BY_CIDR, "c", 4);
	expect(d, NULL, "11.0.0.1", DEVICES_BY_CIDR, "everything", 1);
	expect(d, NULL, "::1", DEVICES_BY_NONE, NULL, 0);
	devices_free(d);

	/* A /0 of each family: each holds only its own family. */
	s[1] = NET("v6-everything", "::", 0, 5);
	s[2] = NET("v6-doc", "2001:db8::", 32, 6);
	cr_assert_not_null(d = devices_new(s, 3, NULL));
	expect(d, NULL, "2001:db9::1", DEVICES_BY_CIDR, "v6-everything", 5);
	expect(d, NULL, "2001:db8::1", DEVICES_BY_CIDR, "v6-doc", 6);
	expect(d, NULL, "1.2.3.4", DEVICES_BY_CIDR, "everything", 1);
	devices_free(d);
}

Test(devices, empty_table_is_default)
{
	struct devices *d = devices_new(NULL, 0, NULL);

	cr_assert_not_null(d);
	expect(d, mac_kid, "192.168.1.1", DEVICES_BY_NONE, NULL, 0);
	devices_free(d);
	expect(NULL, mac_kid, "192.168.1.1", DEVICES_BY_NONE, NULL, 0);
}

static void
refused(const struct devices_spec *s, size_t n, int want_errno,
    size_t index, const char *reason)
{
	struct devices_error e = { NULL, 0 };

	errno = 0;
	cr_assert_null(devices_new(s, n, &e), "%s", reason);
	cr_assert_eq(errno, want_errno, "%s: errno %d", reason, errno);
	cr_assert_str_eq(e.reason, reason);
	cr_assert_eq(e.index, index, "%s: index %zu", reason, e.index);
}

Test(devices, bad_specs)
{
	static char longname[DEVICES_NAME_MAX + 2];
	struct devices_spec s[3], *many;
	struct devices *d;
	size_t i;

	s[0] = IP("ok", "10.0.0.1", 0);
	s[1] = IP("dup", "10.0.0.1", 0);
	refused(s, 2, EINVAL, 1, "address listed twice");
	s[0] = MAC("a", "02:00:00:00:00:01", 0);
	s[1] = MAC("b", "02:00:00:00:00:01", 0);
	refused(s, 2, EINVAL, 1, "MAC address listed twice");
	s[0] = NET("a", "10.0.0.0", 8, 0);
	s[1] = NET("b", "10.0.0.0", 8, 0);
	refused(s, 2, EINVAL, 1, "CIDR listed twice");
	s[1] = NET("b", "10.0.0.1", 8, 0);
	refused(s, 2, EINVAL, 1,
	    "address has bits set past the prefix length");
	s[1] = NET("b", "10.0.0.0", 33, 0);
	refused(s, 2, EINVAL, 1, "prefix length too long");
	s[1] = NET("b", "2001:db8::", 129, 0);
	refused(s, 2, EINVAL, 1, "prefix length too long");
	s[1] = NET("b", "2001:db8::", 128, 0);
	cr_assert_not_null(d = devices_new(s, 2, NULL));
	devices_free(d);
	s[1] = IP("b", "10.0.0.1", 0);
	s[1].addr.family = AF_UNSPEC;
	refused(s, 2, EINVAL, 1, "no address");
	s[1] = IP(NULL, "10.0.0.1", 0);
	refused(s, 2, EINVAL, 1, "no name");
	s[1] = IP("", "10.0.0.1", 0);
	refused(s, 2, EINVAL, 1, "no name");
	memset(longname, 'x', DEVICES_NAME_MAX + 1);
	s[1] = IP(longname, "10.0.0.1", 0);
	refused(s, 2, EINVAL, 1, "name too long");
	s[1] = IP("b", "10.0.0.1", 0);
	s[1].kind = (enum devices_kind)42;
	refused(s, 2, EINVAL, 1, "unknown kind");

	cr_assert_not_null(many = calloc(DEVICES_MAX + 1, sizeof(*many)));
	for (i = 0; i <= DEVICES_MAX; i++) {
		many[i] = IP("d", "10.0.0.0", (unsigned)i);
		many[i].addr.u.b[2] = (uint8_t)(i >> 8);
		many[i].addr.u.b[3] = (uint8_t)i;
	}
	refused(many, DEVICES_MAX + 1, E2BIG, DEVICES_MAX,
	    "too many devices");
	free(many);
}

Test(devices, full_table)
{
	static const uint8_t stranger[6] = { 0x02, 0, 0, 0xff, 0, 0x01 };
	struct devices_spec *many;
	struct devices_match m;
	struct devices *d;
	struct sg_addr a;
	size_t i;

	cr_assert_not_null(many = calloc(DEVICES_MAX, sizeof(*many)));
	for (i = 0; i < DEVICES_MAX; i++) {
		if (i % 2) {
			many[i] = MAC("m", "02:00:00:00:00:00", (unsigned)i);
			many[i].mac[4] = (uint8_t)(i >> 8);
			many[i].mac[5] = (uint8_t)i;
		} else {
			many[i] = IP("i", "10.0.0.0", (unsigned)i);
			many[i].addr.u.b[2] = (uint8_t)(i >> 8);
			many[i].addr.u.b[3] = (uint8_t)i;
		}
	}
	cr_assert_not_null(d = devices_new(many, DEVICES_MAX, NULL));
	for (i = 0; i < DEVICES_MAX; i++) {
		if (i % 2)
			cr_assert_eq(devices_match(d, many[i].mac, NULL, &m),
			    DEVICES_BY_MAC);
		else
			cr_assert_eq(devices_match(d, NULL, &many[i].addr, &m),
			    DEVICES_BY_IP);
		cr_assert_eq(m.index, i);
		cr_assert_eq(m.profile, i);
	}
	a = A("10.0.255.255");
	cr_assert_eq(devices_match(d, stranger, &a, &m), DEVICES_BY_NONE);
	a = A("10.0.4.0");
	cr_assert_eq(devices_match(d, NULL, &a, &m), DEVICES_BY_NONE);
	devices_free(d);
	free(many);
}

/* ------------------------------------------------------------- leases */

#define MAXREC	16

struct rec {
	size_t			n, nbad;
	struct devices_lease	l[MAXREC];
	size_t			bad_line[MAXREC];
	const char		*bad_reason[MAXREC];
};

static int
on_lease(void *arg, const struct devices_lease *l)
{
	struct rec *r = arg;

	if (r->n < MAXREC)
		r->l[r->n] = *l;
	r->n++;
	return 0;
}

static void
on_bad(void *arg, size_t line, const char *reason)
{
	struct rec *r = arg;

	if (r->nbad < MAXREC) {
		r->bad_line[r->nbad] = line;
		r->bad_reason[r->nbad] = reason;
	}
	r->nbad++;
}

static struct rec
parse(const char *text)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(devices_leases_parse(text, strlen(text), on_lease, on_bad,
	    &r), 0);
	return r;
}

static void
one_bad(const char *text, const char *reason)
{
	struct rec r = parse(text);

	cr_assert_eq(r.n, 0, "\"%s\": %zu leases", text, r.n);
	cr_assert_eq(r.nbad, 1, "\"%s\": %zu bad", text, r.nbad);
	cr_assert_eq(r.bad_line[0], 1);
	cr_assert_str_eq(r.bad_reason[0], reason, "\"%s\"", text);
}

static void
same_mac(const uint8_t *got, const char *want)
{
	char buf[MAC_STRLEN];

	cr_assert_str_eq(mac_ntop(got, buf, sizeof(buf)), want);
}

static void
same_addr(const struct sg_addr *got, const char *want)
{
	struct sg_addr w = A(want);

	cr_assert(addr_equal(got, &w), "want %s", want);
}

/* A real file, as dnsmasq 2.90 writes it (addresses changed). */
static const char real_file[] =
    "1767225600 3c:22:fb:12:34:56 192.168.1.23 kids-ipad 01:3c:22:fb:12:34:56\n"
    "1767229200 b8:27:eb:aa:bb:cc 192.168.1.40 * *\n"
    "0 02:42:ac:11:00:02 192.168.1.2 nas 01:02:42:ac:11:00:02\n"
    "duid 00:01:00:01:2c:5d:1e:0f:b8:27:eb:00:00:01\n"
    "1767225600 1026442358 2001:db8:1::1a2b kids-ipad "
    "00:01:00:01:2a:3b:4c:5d:3c:22:fb:12:34:56\n"
    "1767225600 T305419896 2001:db8:1::dead:beef * "
    "00:04:8f:61:2a:38:5b:1c:4d:26:a9:65:92:03:bb:ad:8c:e1\n";

Test(devices, leases_real_file)
{
	struct rec r = parse(real_file);

	cr_assert_eq(r.nbad, 0, "line %zu: %s", r.bad_line[0],
	    r.bad_reason[0]);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(r.l[0].line, 1);
	cr_assert_eq(r.l[0].expiry, 1767225600);
	cr_assert(r.l[0].has_mac);
	same_mac(r.l[0].mac, "3c:22:fb:12:34:56");
	same_addr(&r.l[0].addr, "192.168.1.23");
	cr_assert_str_eq(r.l[0].hostname, "kids-ipad");
	cr_assert_str_eq(r.l[1].hostname, "");		/* "*" */
	cr_assert_eq(r.l[2].expiry, 0);
	cr_assert_str_eq(r.l[2].hostname, "nas");
	/* IPv6: IAID, no MAC; the duid line is not a lease. */
	cr_assert_eq(r.l[3].line, 5);
	cr_assert_not(r.l[3].has_mac);
	cr_assert_eq(r.l[3].iaid, 1026442358u);
	cr_assert_not(r.l[3].temporary);
	same_addr(&r.l[3].addr, "2001:db8:1::1a2b");
	cr_assert_str_eq(r.l[3].hostname, "kids-ipad");
	cr_assert(r.l[4].temporary);
	cr_assert_eq(r.l[4].iaid, 305419896u);
	cr_assert_str_eq(r.l[4].hostname, "");
}

Test(devices, leases_blank_lines_crlf_and_spacing)
{
	struct rec r = parse("\n  \r\n"
	    "1 02:00:00:00:00:01\t10.0.0.1   a  *  \r\n"
	    "\t\n"
	    "2 02:00:00:00:00:02 10.0.0.2 b *");	/* no final newline */

	cr_assert_eq(r.nbad, 0, "line %zu: %s", r.bad_line[0],
	    r.bad_reason[0]);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.l[0].line, 3);
	cr_assert_eq(r.l[1].line, 5);
	cr_assert_str_eq(r.l[1].hostname, "b");
}

Test(devices, leases_bad_lines)
{
	one_bad("x 02:00:00:00:00:01 10.0.0.1 a *\n", "bad expiry");
	one_bad("-1 02:00:00:00:00:01 10.0.0.1 a *\n", "bad expiry");
	one_bad("18446744073709551616 02:00:00:00:00:01 10.0.0.1 a *\n",
	    "bad expiry");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 a\n", "missing field");
	one_bad("1\n", "missing field");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 a * extra\n",
	    "too many fields");
	one_bad("1 02:00:00:00:00:0g 10.0.0.1 a *\n", "bad MAC address");
	one_bad("1 02:00:00:00:00:001 10.0.0.1 a *\n", "bad MAC address");
	one_bad("1 02::00:00:00:01 10.0.0.1 a *\n", "bad MAC address");
	one_bad("1 02:00:00:00:00:01: 10.0.0.1 a *\n", "bad MAC address");
	one_bad("1 02:00:00:00:00 10.0.0.1 a *\n",
	    "not an Ethernet MAC address");
	one_bad("1 20-80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03 "
	    "10.0.0.1 a *\n", "not an Ethernet MAC address");
	one_bad("1 02:00:00:00:00:01 10.0.0.256 a *\n", "bad address");
	one_bad("1 02:00:00:00:00:01 host a *\n", "bad address");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 a_b! *\n", "bad hostname");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 caf\xc3\xa9 *\n",
	    "bad hostname");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 a 01:zz\n", "bad client id");
	one_bad("1 02:00:00:00:00:01 10.0.0.1 a 01::02\n", "bad client id");
	one_bad("1 X1 2001:db8::1 a *\n", "bad IAID");
	one_bad("1 T 2001:db8::1 a *\n", "bad IAID");
	one_bad("1 4294967296 2001:db8::1 a *\n", "bad IAID");
	one_bad("duid\n", "bad duid");
	one_bad("duid 01\n", "bad duid");
	one_bad("duid 00:01:zz\n", "bad duid");
	one_bad("duid 00:01 extra\n", "too many fields");
}

Test(devices, leases_nul_bytes)
{
	static const char text[] = "1 02:00:00:00:00:01 10.0.0.1\0 a *\n"
	    "1 02:00:00:00:00:01 10.0.0.1 a\0 *\n"
	    "1 02:00:00:00:00:01 10.0.0.1 a \0\n";
	struct rec r;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(devices_leases_parse(text, sizeof(text) - 1, on_lease,
	    on_bad, &r), 0);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.nbad, 3);
	cr_assert_str_eq(r.bad_reason[0], "bad address");
	cr_assert_str_eq(r.bad_reason[1], "bad hostname");
	cr_assert_str_eq(r.bad_reason[2], "bad client id");
}

Test(devices, leases_bad_lines_skipped_not_fatal)
{
	struct rec r = parse("1 02:00:00:00:00:01 10.0.0.1 a *\n"
	    "garbage\n"
	    "2 02:00:00:00:00:02 10.0.0.2 b *\n"
	    "3 02:00:00:00:00:03 10.0.0.3 c*d *\n"
	    "4 02:00:00:00:00:04 10.0.0.4 d *\n");

	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.nbad, 2);
	cr_assert_eq(r.bad_line[0], 2);
	cr_assert_str_eq(r.bad_reason[0], "missing field");
	cr_assert_eq(r.bad_line[1], 4);
	cr_assert_str_eq(r.bad_reason[1], "bad hostname");
	cr_assert_str_eq(r.l[2].hostname, "d");
	cr_assert_eq(r.l[2].line, 5);
}

Test(devices, leases_hostile_lengths)
{
	char name[DEVICES_HOSTNAME_MAX + 2], line[4096];
	char *big;
	struct rec r;
	size_t i, n;

	/* 63 bytes is fine, 64 is not. */
	memset(name, 'h', DEVICES_HOSTNAME_MAX);
	name[DEVICES_HOSTNAME_MAX] = '\0';
	snprintf(line, sizeof(line), "1 02:00:00:00:00:01 10.0.0.1 %s *\n",
	    name);
	r = parse(line);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(strlen(r.l[0].hostname), DEVICES_HOSTNAME_MAX);
	name[DEVICES_HOSTNAME_MAX] = 'h';
	name[DEVICES_HOSTNAME_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "1 02:00:00:00:00:01 10.0.0.1 %s *\n",
	    name);
	one_bad(line, "hostname too long");

	/* A long line is refused before any field is read. */
	n = (size_t)snprintf(line, sizeof(line),
	    "1 02:00:00:00:00:01 10.0.0.1 a ");
	while (n < DEVICES_LEASE_LINE_MAX + 10)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "01:");
	snprintf(line + n, sizeof(line) - n, "01\n");
	one_bad(line, "line too long");

	/* A client id of 256 bytes. */
	n = (size_t)snprintf(line, sizeof(line),
	    "1 02:00:00:00:00:01 10.0.0.1 a ");
	for (i = 0; i < 255; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "01:");
	snprintf(line + n, sizeof(line) - n, "01\n");
	one_bad(line, "bad client id");
	/* Long digit strings. */
	one_bad("000000000000000000001 02:00:00:00:00:01 10.0.0.1 a *\n",
	    "bad expiry");
	one_bad("1 02:00:00:00:00:01 "
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999 a *\n",
	    "bad address");

	/* A megabyte with no newline: one bad line, quickly. */
	n = 1 << 20;
	cr_assert_not_null(big = malloc(n));
	memset(big, 'a', n);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(devices_leases_parse(big, n, on_lease, on_bad, &r), 0);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.nbad, 1);
	cr_assert_str_eq(r.bad_reason[0], "line too long");
	free(big);

	/* Nothing at all. */
	cr_assert_eq(devices_leases_parse(NULL, 0, on_lease, on_bad, &r), 0);
}

static int
stop_at_second(void *arg, const struct devices_lease *l)
{
	int *seen = arg;

	(void)l;
	return ++*seen == 2 ? SG_ELIMIT : 0;
}

Test(devices, leases_callback_stops)
{
	int seen = 0;

	cr_assert_eq(devices_leases_parse(real_file, strlen(real_file),
	    stop_at_second, NULL, &seen), SG_ELIMIT);
	cr_assert_eq(seen, 2);
}

Test(devices, leases_table)
{
	static const char text[] =
	    "5 02:00:00:00:00:01 10.0.0.1 * *\n"
	    "4 02:00:00:00:00:01 10.0.0.2 tablet *\n"
	    "9 02:00:00:00:00:01 10.0.0.3 newer-tablet *\n"
	    "0 02:00:00:00:00:01 10.0.0.4 forever *\n"
	    "7 02:00:00:00:00:02 10.0.0.9 * *\n"
	    "1 7 2001:db8::1 v6-only *\n"
	    "bad line\n";
	uint8_t mac[6];
	struct rec r;
	struct devices_leases *t;
	struct sg_addr a;

	memset(&r, 0, sizeof(r));
	t = devices_leases_new(text, strlen(text), on_bad, &r);
	cr_assert_not_null(t);
	cr_assert_eq(r.nbad, 1);
	cr_assert_eq(r.bad_line[0], 7);
	cr_assert_eq(devices_leases_count(t), 5);
	cr_assert_str_eq(devices_leases_hostname(t, mac_kid), "forever");
	memcpy(mac, mac_kid, 6);
	mac[5] = 2;
	cr_assert_null(devices_leases_hostname(t, mac));
	cr_assert_null(devices_leases_hostname(t, mac_other));
	a = A("10.0.0.9");
	cr_assert(devices_leases_mac(t, &a, mac));
	same_mac(mac, "02:00:00:00:00:02");
	a = A("10.0.0.2");
	cr_assert(devices_leases_mac(t, &a, mac));
	same_mac(mac, "02:00:00:00:00:01");
	a = A("2001:db8::1");
	cr_assert_not(devices_leases_mac(t, &a, mac));
	a = A("10.0.0.10");
	cr_assert_not(devices_leases_mac(t, &a, mac));
	devices_leases_free(t);
}

Test(devices, leases_read_file)
{
	char path[] = "/tmp/sg-leases-XXXXXX";
	struct rec r;
	int fd;

	cr_assert_geq(fd = mkstemp(path), 0);
	cr_assert_eq(write(fd, real_file, strlen(real_file)),
	    (ssize_t)strlen(real_file));
	memset(&r, 0, sizeof(r));
	cr_assert_eq(devices_leases_read(path, on_lease, on_bad, &r), 0);
	cr_assert_eq(r.n, 5);
	cr_assert_eq(r.nbad, 0);
	/* Over the limit: nothing parsed. */
	cr_assert_eq(ftruncate(fd, DEVICES_LEASES_FILE_MAX + 1), 0);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(devices_leases_read(path, on_lease, on_bad, &r),
	    SG_ELIMIT);
	cr_assert_eq(r.n, 0);
	close(fd);
	unlink(path);
	cr_assert_eq(devices_leases_read(path, on_lease, on_bad, &r),
	    -ENOENT);
}
