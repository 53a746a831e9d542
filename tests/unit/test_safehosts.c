/*
 * test_safehosts.c - the safe hosts' answer parser, and the resolver
 * thread against a fake resolver on 127.0.0.1.
 *
 * Answers are written byte by byte.  The thread's tests run a resolver of
 * their own on an ephemeral UDP port of 127.0.0.1 (nothing is ever sent
 * anywhere else), with a TTL of one second and the thread's knobs turned
 * down so that refreshes, timeouts and staleness take seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "dns.h"
#include "queue.h"
#include "safehosts.h"
#include "safesearch.h"
#include "wire.h"

#define F_QR	0x8000
#define F_TC	0x0200
#define F_RD	0x0100
#define F_RA	0x0080

#define GOOGLE	"forcesafesearch.google.com"
#define YT	"restrict.youtube.com"

/* An A record owned by the question (pointer to offset 12). */
static void
w_a_q(struct wire *w, uint32_t ttl, unsigned last)
{
	const uint8_t a[4] = { 192, 0, 2, (uint8_t)last };

	w_ptr(w, DNS_HDR_LEN);
	w_rr_tail(w, DNS_T_A, DNS_C_IN, ttl, a, 4);
}

/* A CNAME's rdata written out: its length is patched afterwards. */
static size_t
w_cname_open(struct wire *w, uint32_t ttl)
{
	w_u16(w, DNS_T_CNAME);
	w_u16(w, DNS_C_IN);
	w_u32(w, ttl);
	w_u16(w, 0);
	return w->len;
}

static void
w_cname_close(struct wire *w, size_t start)
{
	w_set16(w, start - 2, (unsigned)(w->len - start));
}

/* An SOA in authority owned by `owner` (a pointer), TTL and MINIMUM. */
static void
w_soa(struct wire *w, unsigned owner, uint32_t ttl, uint32_t minimum)
{
	size_t s;

	w_ptr(w, owner);
	w_u16(w, DNS_T_SOA);
	w_u16(w, DNS_C_IN);
	w_u32(w, ttl);
	w_u16(w, 0);
	s = w->len;
	w_name(w, "ns.example.test");
	w_name(w, "hostmaster.example.test");
	w_u32(w, 1);
	w_u32(w, 3600);
	w_u32(w, 600);
	w_u32(w, 86400);
	w_u32(w, minimum);
	w_set16(w, s - 2, (unsigned)(w->len - s));
}

struct res {
	int		err;
	size_t		n;
	uint32_t	ttl;
	struct sg_addr	a[SAFEHOSTS_MAX];
};

static struct res
parse_max(const struct wire *w, unsigned id, const char *qname,
    unsigned qtype, size_t max)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	r.err = safehosts_parse_answer(w->b, w->len, (uint16_t)id, qname,
	    (uint16_t)qtype, r.a, max, &r.n, &r.ttl);
	return r;
}

static struct res
parse(const struct wire *w, unsigned id, const char *qname, unsigned qtype)
{
	return parse_max(w, id, qname, qtype, SAFEHOSTS_MAX);
}

static void
expect_v4(const struct sg_addr *a, unsigned last)
{
	cr_assert_eq(a->family, AF_INET);
	cr_assert_eq(a->u.b[0], 192);
	cr_assert_eq(a->u.b[1], 0);
	cr_assert_eq(a->u.b[2], 2);
	cr_assert_eq(a->u.b[3], last, "192.0.2.%u, want .%u", a->u.b[3],
	    last);
}

/* The usual good answer: two A records for GOOGLE. */
static void
good_a(struct wire *w, unsigned id)
{
	w_hdr(w, id, F_QR | F_RD | F_RA, 1, 2, 0, 0);
	w_q(w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_a_q(w, 300, 1);
	w_a_q(w, 200, 2);
}

/* ---------------------------------------------------------------- parse */

Test(safehosts_parse, a_records)
{
	struct wire w;
	struct res r;

	good_a(&w, 0x4242);
	r = parse(&w, 0x4242, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, 0, "%s", sg_strerror(r.err));
	cr_assert_eq(r.n, 2);
	expect_v4(&r.a[0], 1);
	expect_v4(&r.a[1], 2);
	cr_assert_eq(r.ttl, 200);
	/* a trailing dot and another case in qname are the same name */
	r = parse(&w, 0x4242, "ForceSafeSearch.Google.COM.", DNS_T_A);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, 2);
}

Test(safehosts_parse, aaaa_records_and_0x20_question)
{
	struct wire w;
	struct res r;
	uint8_t a6[16];

	inet_pton(AF_INET6, "2001:db8::1", a6);
	w_hdr(&w, 7, F_QR | F_RD | F_RA, 1, 2, 0, 0);
	w_q(&w, "fOrCeSaFeSeArCh.GoOgLe.CoM", DNS_T_AAAA, DNS_C_IN);
	w_ptr(&w, DNS_HDR_LEN);
	w_rr_tail(&w, DNS_T_AAAA, DNS_C_IN, 60, a6, 16);
	a6[15] = 2;
	w_ptr(&w, DNS_HDR_LEN);
	w_rr_tail(&w, DNS_T_AAAA, DNS_C_IN, 90, a6, 16);
	r = parse(&w, 7, GOOGLE, DNS_T_AAAA);
	cr_assert_eq(r.err, 0, "%s", sg_strerror(r.err));
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.a[0].family, AF_INET6);
	cr_assert_eq(r.a[1].u.b[15], 2);
	cr_assert_eq(r.ttl, 60);
	/* asked for A: the AAAA records are not the question's */
	cr_assert_eq(parse(&w, 7, GOOGLE, DNS_T_A).err, -EBADMSG);
}

/*
 * restrict.youtube.com -> restrict.l.example.test -> edge.example.test,
 * written out of order, with records of names off the chain that must be
 * ignored.
 */
Test(safehosts_parse, cname_chain)
{
	struct wire w;
	struct res r;
	const uint8_t evil[4] = { 203, 0, 113, 66 };
	size_t s, c1, c2;

	w_hdr(&w, 1, F_QR | F_RD | F_RA, 1, 5, 0, 0);
	w_q(&w, YT, DNS_T_A, DNS_C_IN);
	/* the address first, owned by the chain's last name */
	w_name(&w, "edge.example.test");
	c2 = w.len - 19;	/* offset of that name */
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 300, (const uint8_t[]){ 192, 0, 2,
	    9 }, 4);
	/* an address of a name off the chain */
	w_name(&w, "evil.example.test");
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 300, evil, 4);
	/* restrict.youtube.com CNAME restrict.l.example.test */
	w_ptr(&w, DNS_HDR_LEN);
	s = w_cname_open(&w, 100);
	c1 = w.len;
	w_name(&w, "restrict.l.example.test");
	w_cname_close(&w, s);
	/* restrict.l.example.test CNAME edge.example.test (a pointer) */
	w_ptr(&w, (unsigned)c1);
	s = w_cname_open(&w, 50);
	w_ptr(&w, (unsigned)c2);
	w_cname_close(&w, s);
	/* a CNAME off the chain */
	w_name(&w, "other.example.test");
	s = w_cname_open(&w, 1);
	w_ptr(&w, (unsigned)c2);
	w_cname_close(&w, s);

	r = parse(&w, 1, YT, DNS_T_A);
	cr_assert_eq(r.err, 0, "%s", sg_strerror(r.err));
	cr_assert_eq(r.n, 1);
	expect_v4(&r.a[0], 9);
	cr_assert_eq(r.ttl, 50, "the chain's smallest TTL");
}

/* The CNAME target points into the question's name. */
Test(safehosts_parse, compression_into_question)
{
	struct wire w;
	struct res r;
	size_t s, tgt;

	w_hdr(&w, 2, F_QR | F_RD | F_RA, 1, 2, 0, 0);
	w_q(&w, YT, DNS_T_A, DNS_C_IN);		/* 8restrict 7youtube 3com */
	w_ptr(&w, DNS_HDR_LEN);
	s = w_cname_open(&w, 300);
	tgt = w.len;
	w_u8(&w, 4);
	w_bytes(&w, "edge", 4);
	w_ptr(&w, DNS_HDR_LEN + 9);	/* "youtube.com" */
	w_cname_close(&w, s);
	w_ptr(&w, (unsigned)tgt);	/* edge.youtube.com */
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 300, (const uint8_t[]){ 192, 0, 2,
	    5 }, 4);
	r = parse(&w, 2, YT, DNS_T_A);
	cr_assert_eq(r.err, 0, "%s", sg_strerror(r.err));
	cr_assert_eq(r.n, 1);
	expect_v4(&r.a[0], 5);
}

/* A CNAME whose rdata holds a name at \p bytes: hostile names there. */
static void
cname_rdata(struct wire *w, const uint8_t *rdata, size_t len)
{
	size_t s;

	w_hdr(w, 3, F_QR | F_RD | F_RA, 1, 1, 0, 0);
	w_q(w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_ptr(w, DNS_HDR_LEN);
	s = w_cname_open(w, 300);
	w_bytes(w, rdata, len);
	w_cname_close(w, s);
}

Test(safehosts_parse, hostile_names_in_rdata)
{
	struct wire w;
	uint8_t b[64];
	size_t rd = DNS_HDR_LEN + 28 + 4 + 2 + 10;	/* rdata offset */

	/* a pointer to itself */
	b[0] = 0xc0 | (uint8_t)(rd >> 8);
	b[1] = (uint8_t)rd;
	cname_rdata(&w, b, 2);
	cr_assert_eq(w.len, rd + 2, "the offset above is right");
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	/* a pointer forward */
	b[1] = (uint8_t)(rd + 2);
	b[2] = 0;
	cname_rdata(&w, b, 3);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	/* into the header */
	b[0] = 0xc0;
	b[1] = 4;
	cname_rdata(&w, b, 2);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	/* label types 0x40 and 0x80 */
	b[0] = 0x41;
	cname_rdata(&w, b, 2);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	b[0] = 0x81;
	cname_rdata(&w, b, 2);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	/* a label that runs past the rdata, and past the message */
	b[0] = 20;
	memcpy(b + 1, "abc", 3);
	cname_rdata(&w, b, 4);
	cr_assert_neq(parse(&w, 3, GOOGLE, DNS_T_A).err, 0);
	/* a name shorter than its rdata */
	b[0] = 1;
	b[1] = 'a';
	b[2] = 0;
	b[3] = 0;
	cname_rdata(&w, b, 4);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
}

/*
 * A record of a private type holds pointers p0 -> "google.com" in the
 * question, pk -> pk-1; the CNAME's rdata points at one of them, so that
 * its name takes len pointers.  DNS_MAX_POINTERS pass, one more does not.
 */
static void
pointer_chain(struct wire *w, unsigned len)
{
	size_t p0, s;
	unsigned i;

	w_hdr(w, 3, F_QR | F_RD | F_RA, 1, 2, 0, 0);
	w_q(w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_ptr(w, DNS_HDR_LEN);
	w_u16(w, 0xff00);
	w_u16(w, DNS_C_IN);
	w_u32(w, 300);
	w_u16(w, 2 * DNS_MAX_POINTERS);
	p0 = w->len;
	for (i = 0; i < DNS_MAX_POINTERS; i++)
		w_ptr(w, i == 0 ? DNS_HDR_LEN + 16 :
		    (unsigned)(p0 + 2 * (i - 1)));
	w_ptr(w, DNS_HDR_LEN);
	s = w_cname_open(w, 300);
	/* the rdata's pointer, then len - 1 in the record above */
	w_ptr(w, (unsigned)(p0 + 2 * (len - 2)));
	w_cname_close(w, s);
}

Test(safehosts_parse, pointer_chain_limit)
{
	struct wire w;
	struct res r;

	pointer_chain(&w, DNS_MAX_POINTERS);
	r = parse(&w, 3, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, 0, "%s", sg_strerror(r.err));
	cr_assert_eq(r.n, 0);
	pointer_chain(&w, DNS_MAX_POINTERS + 1);
	cr_assert_eq(parse(&w, 3, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
}

Test(safehosts_parse, cname_loop)
{
	struct wire w;
	size_t s, a_off, b_off;

	/* GOOGLE -> a.test -> b.test -> a.test */
	w_hdr(&w, 4, F_QR | F_RD | F_RA, 1, 3, 0, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_ptr(&w, DNS_HDR_LEN);
	s = w_cname_open(&w, 300);
	a_off = w.len;
	w_name(&w, "a.test");
	w_cname_close(&w, s);
	w_ptr(&w, (unsigned)a_off);
	s = w_cname_open(&w, 300);
	b_off = w.len;
	w_name(&w, "b.test");
	w_cname_close(&w, s);
	w_ptr(&w, (unsigned)b_off);
	s = w_cname_open(&w, 300);
	w_ptr(&w, (unsigned)a_off);
	w_cname_close(&w, s);
	cr_assert_eq(parse(&w, 4, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
	/* the query name itself at the end of the chain, too */
	w.b[w.len - 1] = DNS_HDR_LEN;
	cr_assert_eq(parse(&w, 4, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
}

Test(safehosts_parse, every_prefix_fails)
{
	struct wire w;
	struct res r;
	size_t len, full;

	good_a(&w, 9);
	full = w.len;
	for (len = 0; len < full; len++) {
		w.len = len;
		r = parse(&w, 9, GOOGLE, DNS_T_A);
		cr_assert_lt(r.err, 0, "prefix of %zu bytes accepted", len);
		cr_assert_eq(r.n, 0);
	}
	/* and on the heap, exactly sized, for ASan */
	for (len = 0; len < full; len++) {
		uint8_t *p = malloc(len > 0 ? len : 1);
		size_t n;
		uint32_t ttl;
		struct sg_addr a[4];

		memcpy(p, w.b, len);
		cr_assert_lt(safehosts_parse_answer(p, len, 9, GOOGLE,
		    DNS_T_A, a, 4, &n, &ttl), 0);
		free(p);
	}
}

Test(safehosts_parse, not_our_answer)
{
	struct wire w;

	good_a(&w, 9);
	cr_assert_eq(parse(&w, 10, GOOGLE, DNS_T_A).err, -EBADMSG, "id");
	cr_assert_eq(parse(&w, 9, YT, DNS_T_A).err, -EBADMSG, "name");
	cr_assert_eq(parse(&w, 9, "google.com", DNS_T_A).err, -EBADMSG);
	cr_assert_eq(parse(&w, 9, "www." GOOGLE, DNS_T_A).err, -EBADMSG);
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_AAAA).err, -EBADMSG, "type");
	/* a query, not a response */
	w.b[2] &= 0x7f;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EBADMSG);
	/* another opcode */
	good_a(&w, 9);
	w.b[2] |= 0x10;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EBADMSG);
	/* two questions, or none */
	good_a(&w, 9);
	w.b[5] = 2;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EBADMSG);
	w.b[5] = 0;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EBADMSG);
	/* class CH */
	good_a(&w, 9);
	w.b[DNS_HDR_LEN + 28 + 3] = 3;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EBADMSG);
}

Test(safehosts_parse, nxdomain_and_nodata)
{
	struct wire w;
	struct res r;
	size_t rdl;

	/* NXDOMAIN: the SOA gives min(ttl, minimum) */
	w_hdr(&w, 5, F_QR | F_RD | F_RA | DNS_RCODE_NXDOMAIN, 1, 0, 1, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_soa(&w, DNS_HDR_LEN + 16, 900, 120);	/* owner google.com */
	r = parse(&w, 5, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, SG_ENOTFOUND);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.ttl, 120);
	/* NOERROR, no data: the same, with 0 */
	w.b[3] &= 0xf0;
	r = parse(&w, 5, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.ttl, 120);
	/* no SOA: no TTL */
	w_hdr(&w, 5, F_QR | F_RD | F_RA, 1, 0, 0, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	r = parse(&w, 5, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.ttl, 0);
	/* an SOA whose rdata is longer than its fields */
	w_hdr(&w, 5, F_QR | F_RD | F_RA, 1, 0, 1, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	rdl = w.len + 10;
	w_soa(&w, DNS_HDR_LEN, 900, 120);
	w_u8(&w, 0);
	w.b[rdl + 1]++;
	cr_assert_eq(parse(&w, 5, GOOGLE, DNS_T_A).err, SG_EMALFORMED);
}

Test(safehosts_parse, tc_and_rcodes)
{
	struct wire w;

	good_a(&w, 9);
	w.b[2] |= F_TC >> 8;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EMSGSIZE);
	/* TC on a cut message still reads as TC */
	w.len = DNS_HDR_LEN + 32;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EMSGSIZE);
	good_a(&w, 9);
	w.b[3] |= DNS_RCODE_SERVFAIL;
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EREMOTEIO);
	w.b[3] = (uint8_t)((w.b[3] & 0xf0) | DNS_RCODE_REFUSED);
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_A).err, -EREMOTEIO);
}

Test(safehosts_parse, cap_duplicates_and_odd_records)
{
	struct wire w;
	struct res r;
	unsigned i;

	/* 12 addresses, .1 twice: 8 kept, in order, .1 once */
	w_hdr(&w, 6, F_QR | F_RD | F_RA, 1, 13, 0, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_a_q(&w, 300, 1);
	for (i = 1; i <= 12; i++)
		w_a_q(&w, 300, i);
	r = parse_max(&w, 6, GOOGLE, DNS_T_A, SAFEHOSTS_MAX_PER_FAMILY);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, SAFEHOSTS_MAX_PER_FAMILY);
	for (i = 0; i < r.n; i++)
		expect_v4(&r.a[i], i + 1);
	/* max 0 */
	r = parse_max(&w, 6, GOOGLE, DNS_T_A, 0);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, 0);

	/* an A record of 5 bytes */
	w_hdr(&w, 6, F_QR | F_RD | F_RA, 1, 1, 0, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_ptr(&w, DNS_HDR_LEN);
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 300, "\300\0\2\1\1", 5);
	cr_assert_eq(parse(&w, 6, GOOGLE, DNS_T_A).err, SG_EMALFORMED);

	/* class CH is ignored; a TTL with the top bit set is 0 */
	w_hdr(&w, 6, F_QR | F_RD | F_RA, 1, 2, 0, 0);
	w_q(&w, GOOGLE, DNS_T_A, DNS_C_IN);
	w_ptr(&w, DNS_HDR_LEN);
	w_rr_tail(&w, DNS_T_A, 3, 300, "\300\0\2\7", 4);
	w_a_q(&w, 0x80000000u, 8);
	r = parse(&w, 6, GOOGLE, DNS_T_A);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(r.n, 1);
	expect_v4(&r.a[0], 8);
	cr_assert_eq(r.ttl, 0);
}

Test(safehosts_parse, bad_arguments)
{
	struct wire w;
	char longlabel[80];

	good_a(&w, 9);
	cr_assert_eq(parse(&w, 9, GOOGLE, DNS_T_MX).err, -EINVAL);
	cr_assert_eq(parse(&w, 9, "", DNS_T_A).err, -EINVAL);
	cr_assert_eq(parse(&w, 9, "a..b", DNS_T_A).err, -EINVAL);
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	cr_assert_eq(parse(&w, 9, longlabel, DNS_T_A).err, -EINVAL);
}

Test(safehosts_parse, ttl_clamp)
{
	cr_assert_eq(safehosts_clamp_ttl(0, 30, 86400), 30);
	cr_assert_eq(safehosts_clamp_ttl(29, 30, 86400), 30);
	cr_assert_eq(safehosts_clamp_ttl(300, 30, 86400), 300);
	cr_assert_eq(safehosts_clamp_ttl(86401, 30, 86400), 86400);
	cr_assert_eq(safehosts_clamp_ttl(UINT32_MAX, 30, 86400), 86400);
}

Test(safehosts, targets_cover_safesearch)
{
	static const struct safesearch_config mod = {
		.google = true, .bing = true, .duckduckgo = true,
		.brave = true, .ecosia = true,
		.youtube = SAFESEARCH_YT_MODERATE,
	}, strict = {
		.youtube = SAFESEARCH_YT_STRICT,
	};
	static const char *const hosts[] = {
		"www.google.com", "www.google.co.uk", "www.youtube.com",
		"www.bing.com", "duckduckgo.com", "search.brave.com",
		"www.ecosia.org",
	};
	const char *const *t;
	const char *want;
	size_t n, i, k;

	n = safesearch_targets(&t);
	cr_assert_eq(n, 7);
	for (i = 0; i < n; i++) {
		cr_assert(safesearch_is_safe_host(t[i], strlen(t[i])));
		if (i > 0)
			cr_assert_lt(strcmp(t[i - 1], t[i]), 0, "sorted");
	}
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		want = safesearch_target(hosts[i], strlen(hosts[i]), &mod);
		cr_assert_not_null(want);
		for (k = 0; k < n && strcmp(t[k], want) != 0; k++)
			;
		cr_assert_lt(k, n, "%s missing", want);
	}
	want = safesearch_target("m.youtube.com", 13, &strict);
	for (k = 0; k < n && strcmp(t[k], want) != 0; k++)
		;
	cr_assert_lt(k, n, "%s missing", want);
}

Test(safehosts, null_readers)
{
	struct sg_addr a[4];
	uint32_t ttl = 99;
	char buf[64];
	FILE *fp;

	cr_assert_eq(safehosts_get(NULL, GOOGLE, a, 4, &ttl), 0);
	cr_assert_eq(ttl, 0);
	cr_assert_not(safehosts_known(NULL, GOOGLE));
	cr_assert(addr_parse(&a[0], "192.0.2.1") == 0);
	cr_assert_not(safehosts_contains(NULL, GOOGLE, &a[0]));
	safehosts_stop(NULL);
	fp = fmemopen(buf, sizeof(buf), "w");
	safehosts_print_status(NULL, fp);
	fclose(fp);
	cr_assert_str_eq(buf, "safehosts: off\n");
}

Test(safehosts, start_refuses_no_resolver)
{
	struct sg_addr none = { .family = AF_UNSPEC };
	char err[128];

	cr_assert_null(safehosts_start(&none, 53, 0, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_neq(err[0], '\0');
	cr_assert_null(safehosts_start(NULL, 53, 0, err, sizeof(err)));
}

/* ------------------------------------------------------- fake resolver */

enum fake_mode { FAKE_GEN1 = 1, FAKE_GEN2 = 2, FAKE_GEN3 = 3,
    FAKE_SILENT = 0, FAKE_SERVFAIL = 15 };

struct fake {
	int		fd;
	uint16_t	port;
	pthread_t	thread;
	atomic_int	mode;		/* enum fake_mode */
	atomic_bool	stop;
	atomic_bool	spoof;	/* a wrong id, then the right */
	atomic_uint	ttl;
	atomic_uint	queries;
	atomic_uint	answered;
};

/*
 * Generation g answers A with 2+g addresses 192.0.2.(16g+i) and AAAA
 * with 1+g addresses 2001:db8::g:i.  The Google target is answered
 * through a CNAME to edge.example.test, as real resolvers do.
 */
static size_t
fake_answer(struct fake *f, const uint8_t *q, size_t qlen, uint8_t *out,
    bool spoof)
{
	struct dns_msg	m;
	struct wire	w;
	unsigned	g = (unsigned)atomic_load(&f->mode), i, n, owner;
	uint32_t	ttl = atomic_load(&f->ttl);
	uint8_t		a6[16];
	size_t		qend, s;
	bool		chain;

	if (dns_parse(&m, q, qlen) != 0 || m.nquestions != 1)
		return 0;
	qend = DNS_HDR_LEN + m.q[0].name_len + 2 + 4;
	if (g == FAKE_SERVFAIL) {	/* an upstream that is down */
		w_hdr(&w, m.id, F_QR | F_RD | F_RA | 2, 1, 0, 0, 0);
		w_bytes(&w, q + DNS_HDR_LEN, qend - DNS_HDR_LEN);
		memcpy(out, w.b, w.len);
		return w.len;
	}
	chain = strcmp(m.q[0].name, GOOGLE) == 0;
	n = m.q[0].qtype == DNS_T_A ? 2 + g : 1 + g;
	w_hdr(&w, spoof ? m.id ^ 0x5a5a : m.id, F_QR | F_RD | F_RA, 1,
	    n + chain, 0, 0);
	w_bytes(&w, q + DNS_HDR_LEN, qend - DNS_HDR_LEN);
	owner = DNS_HDR_LEN;
	if (chain) {
		w_ptr(&w, DNS_HDR_LEN);
		s = w_cname_open(&w, ttl);
		owner = (unsigned)w.len;
		w_name(&w, "edge.example.test");
		w_cname_close(&w, s);
	}
	for (i = 0; i < n; i++) {
		w_ptr(&w, owner);
		if (m.q[0].qtype == DNS_T_A)
			w_rr_tail(&w, DNS_T_A, DNS_C_IN, ttl,
			    (const uint8_t[]){ 192, 0, 2,
			    (uint8_t)(16 * g + i) }, 4);
		else {
			inet_pton(AF_INET6, "2001:db8::", a6);
			a6[13] = (uint8_t)g;
			a6[15] = (uint8_t)i;
			w_rr_tail(&w, DNS_T_AAAA, DNS_C_IN, ttl, a6, 16);
		}
	}
	memcpy(out, w.b, w.len);
	return w.len;
}

static void *
fake_main(void *arg)
{
	struct fake		*f = arg;
	struct sockaddr_in	 from;
	struct pollfd		 p = { .fd = f->fd, .events = POLLIN };
	socklen_t		 flen;
	uint8_t			 q[512], a[4096];
	ssize_t			 len;
	size_t			 alen;

	while (!atomic_load(&f->stop)) {
		if (poll(&p, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		len = recvfrom(f->fd, q, sizeof(q), 0,
		    (struct sockaddr *)&from, &flen);
		if (len <= 0)
			continue;
		atomic_fetch_add(&f->queries, 1);
		if (atomic_load(&f->mode) == FAKE_SILENT)
			continue;
		if (atomic_load(&f->spoof) &&
		    (alen = fake_answer(f, q, (size_t)len, a, true)) > 0)
			sendto(f->fd, a, alen, 0, (struct sockaddr *)&from,
			    flen);
		if ((alen = fake_answer(f, q, (size_t)len, a, false)) > 0) {
			sendto(f->fd, a, alen, 0, (struct sockaddr *)&from,
			    flen);
			atomic_fetch_add(&f->answered, 1);
		}
	}
	return NULL;
}

static void
fake_start(struct fake *f, enum fake_mode mode, uint32_t ttl)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	atomic_store(&f->mode, mode);
	atomic_store(&f->ttl, ttl);
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(f->fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(f->fd, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->fd);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Which generation target's set is, or -1 if it is not a whole set of
 * one generation in each family (a torn read), 0 if empty.  The two
 * families are asked separately, so each has its own generation; the
 * result is the IPv4 one's.
 */
static int
set_gen(const struct safehosts *sh, const char *target, uint32_t *ttl)
{
	struct sg_addr	a[SAFEHOSTS_MAX];
	size_t		n, i, n4 = 0, n6 = 0;
	int		g4 = -1, g6 = -1;

	n = safehosts_get(sh, target, a, SAFEHOSTS_MAX, ttl);
	for (i = 0; i < n; i++) {
		if (a[i].family == AF_INET) {
			if (n6 > 0 || a[i].u.b[0] != 192 ||
			    (g4 != -1 && g4 != a[i].u.b[3] / 16) ||
			    (size_t)(a[i].u.b[3] % 16) != n4)
				return -1;
			g4 = a[i].u.b[3] / 16;
			n4++;
		} else {
			if (a[i].u.b[0] != 0x20 ||
			    (g6 != -1 && g6 != a[i].u.b[13]) ||
			    a[i].u.b[15] != n6)
				return -1;
			g6 = a[i].u.b[13];
			n6++;
		}
	}
	if (n == 0)
		return 0;
	if ((g4 != -1 && n4 != (size_t)g4 + 2) ||
	    (g6 != -1 && n6 != (size_t)g6 + 1) || g4 == -1 || g6 == -1)
		return -1;
	return g4;
}

/* Waits up to secs for every target to show generation g (all families). */
static bool
wait_gen(const struct safehosts *sh, int g, double secs)
{
	const char *const *t;
	struct sg_addr a[SAFEHOSTS_MAX];
	size_t n = safesearch_targets(&t), i, k, m;
	double end = now_s() + secs;
	bool all;

	do {
		for (i = 0, all = true; i < n && all; i++) {
			m = safehosts_get(sh, t[i], a, SAFEHOSTS_MAX, NULL);
			for (k = 0; k < m && all; k++)
				all = a[k].family == AF_INET ?
				    a[k].u.b[3] / 16 == g : a[k].u.b[13] == g;
			all = all && m == (size_t)(2 + g + 1 + g);
		}
		if (all)
			return true;
		sleep_ms(20);
	} while (now_s() < end);
	return false;
}

struct reader {
	const struct safehosts	*sh;
	atomic_bool		*stop;
	unsigned long		 reads, torn, empty;
};

static void *
reader_main(void *arg)
{
	struct reader		*r = arg;
	const char *const	*t;
	size_t			 n = safesearch_targets(&t), i;
	int			 g;

	while (!atomic_load(r->stop)) {
		for (i = 0; i < n; i++) {
			g = set_gen(r->sh, t[i], NULL);
			r->reads++;
			if (g < 0)
				r->torn++;
			else if (g == 0)
				r->empty++;
		}
	}
	return NULL;
}

static const struct safehosts_opts fast = {
	.min_ttl = 1,
	.stale_limit = 2,
	.timeout_ms = 200,
	.retry_min_ms = 100,
	.retry_max_ms = 400,
};

static struct safehosts *
start_on(const struct fake *f, uint32_t mark)
{
	struct safehosts	*sh;
	struct sg_addr		 lo;
	char			 err[128];

	cr_assert_eq(addr_parse(&lo, "127.0.0.1"), 0);
	sh = safehosts_start_opts(&lo, f->port, mark, &fast, err, sizeof(err));
	cr_assert_not_null(sh, "%s", err);
	return sh;
}

/* --------------------------------------------------------- the thread */

/*
 * First resolution, refresh after the TTL, readers that never see a torn
 * set while refreshes go on, then the resolver falls silent: the
 * addresses outlive their TTL by the stale limit, then go.
 */
Test(safehosts_thread, resolve_refresh_stale)
{
	struct fake		 f;
	struct safehosts	*sh;
	struct safehosts_stats	 st;
	struct reader		 rd[3];
	pthread_t		 th[3];
	atomic_bool		 stop = false;
	struct sg_addr		 a[SAFEHOSTS_MAX], other;
	uint32_t		 ttl;
	unsigned		 q1;
	double			 silent;
	size_t			 i, n;

	fake_start(&f, FAKE_GEN1, 1);
	sh = start_on(&f, 0);
	cr_assert(wait_gen(sh, 1, 5), "first resolution");
	n = safehosts_get(sh, GOOGLE, a, SAFEHOSTS_MAX, &ttl);
	cr_assert_eq(n, 3 + 2);
	expect_v4(&a[0], 16);
	cr_assert_eq(a[3].family, AF_INET6);
	cr_assert(ttl >= 1 && ttl <= 1, "ttl %u", ttl);
	cr_assert(safehosts_contains(sh, GOOGLE, &a[4]));
	cr_assert(safehosts_known(sh, YT));
	cr_assert_eq(addr_parse(&other, "192.0.2.250"), 0);
	cr_assert_not(safehosts_contains(sh, GOOGLE, &other));
	cr_assert_not(safehosts_known(sh, "www.google.com"));
	/* a smaller buffer gets the first addresses */
	cr_assert_eq(safehosts_get(sh, GOOGLE, a, 2, NULL), 2);

	for (i = 0; i < 3; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].sh = sh;
		rd[i].stop = &stop;
		cr_assert_eq(pthread_create(&th[i], NULL, reader_main,
		    &rd[i]), 0);
	}
	/* refreshes of generation 1 for a while, then generation 2 */
	q1 = atomic_load(&f.queries);
	sleep_ms(1500);
	cr_assert_geq(atomic_load(&f.queries), q1 + 14,
	    "asked again before the TTL ran out");
	atomic_store(&f.mode, FAKE_GEN2);
	cr_assert(wait_gen(sh, 2, 3), "refresh after the TTL");
	sleep_ms(1000);
	atomic_store(&stop, true);
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		cr_assert_gt(rd[i].reads, 1000);
		cr_assert_eq(rd[i].torn, 0, "reader %zu: %lu torn of %lu",
		    i, rd[i].torn, rd[i].reads);
		cr_assert_eq(rd[i].empty, 0, "an address set went missing");
	}

	/* silence: stale, then dropped */
	atomic_store(&f.mode, FAKE_SILENT);
	silent = now_s();
	sleep_ms(1500);
	cr_assert(wait_gen(sh, 2, 0), "still there, stale");
	n = safehosts_get(sh, GOOGLE, a, SAFEHOSTS_MAX, &ttl);
	cr_assert_eq(n, 4 + 3);
	cr_assert_eq(ttl, 1, "stale: min_ttl");
	while (safehosts_known(sh, GOOGLE) && now_s() < silent + 8)
		sleep_ms(20);
	cr_assert_not(safehosts_known(sh, GOOGLE), "dropped at last");
	cr_assert_geq(now_s() - silent, 2.0, "dropped too early");
	cr_assert_eq(safehosts_get(sh, GOOGLE, a, SAFEHOSTS_MAX, &ttl), 0);
	cr_assert_eq(ttl, 0);

	safehosts_get_stats(sh, &st);
	cr_assert_geq(st.answers, 14 * 3);
	cr_assert_gt(st.timeouts, 0);
	cr_assert_geq(st.dropped, 1);
	cr_assert_geq(st.sent, st.answers + st.timeouts);
	safehosts_stop(sh);
	fake_stop(&f);
}

/* A resolver that never answers: attempts back off, nothing is known. */
Test(safehosts_thread, timeouts_back_off)
{
	struct fake		 f;
	struct safehosts	*sh;
	struct safehosts_stats	 st;
	unsigned		 q;

	fake_start(&f, FAKE_SILENT, 1);
	sh = start_on(&f, 0);
	sleep_ms(2000);
	q = atomic_load(&f.queries);
	safehosts_get_stats(sh, &st);
	cr_assert_not(safehosts_known(sh, GOOGLE));
	/*
	 * Per query: sends at 0, 0.3, 0.7, 1.3, 1.9 s (timeout 0.2 s,
	 * backoff 0.1, 0.2, 0.4, 0.4): five each; without backoff eight.
	 */
	cr_assert_geq(q, 14 * 3, "%u queries", q);
	cr_assert_leq(q, 14 * 6, "%u queries: no backoff?", q);
	cr_assert_geq(st.timeouts, 14 * 3);
	cr_assert_eq(st.answers, 0);
	/* it answers at last: the next attempt gets it */
	atomic_store(&f.mode, FAKE_GEN1);
	cr_assert(wait_gen(sh, 1, 3));
	safehosts_stop(sh);
	fake_stop(&f);
}

/* Answers with another id come first: they are counted and ignored. */
Test(safehosts_thread, spoofed_ids_ignored)
{
	struct fake		 f;
	struct safehosts	*sh;
	struct safehosts_stats	 st;

	fake_start(&f, FAKE_GEN1, 30);
	atomic_store(&f.spoof, true);
	sh = start_on(&f, 0);
	cr_assert(wait_gen(sh, 1, 5));
	safehosts_get_stats(sh, &st);
	cr_assert_geq(st.bad, 14);
	cr_assert_eq(st.answers, 14);
	safehosts_stop(sh);
	fake_stop(&f);
}

/*
 * Whether this thread may set SO_MARK: CAP_NET_ADMIN, or CAP_NET_RAW
 * since Linux 5.17.  Drops both first if drop.
 */
static bool
may_mark(bool drop)
{
	struct __user_cap_header_struct	h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct	d[2];
	const int			caps[] = {
		CAP_NET_ADMIN, CAP_NET_RAW,
	};
	bool				any = false;
	size_t				i;

	cr_assert_eq(syscall(SYS_capget, &h, d), 0);
	for (i = 0; i < 2; i++) {
		if (drop)
			d[caps[i] / 32].effective &= ~(1u << (caps[i] % 32));
		any |= (d[caps[i] / 32].effective & 1u << (caps[i] % 32)) != 0;
	}
	if (drop)
		cr_assert_eq(syscall(SYS_capset, &h, d), 0);
	return any;
}

/*
 * Without CAP_NET_ADMIN and CAP_NET_RAW (dropped from this test's
 * process, which Criterion forks for it) SO_MARK is refused: logged, and
 * the queries go unmarked and are answered all the same.
 */
Test(safehosts_thread, no_cap_net_admin)
{
	struct fake		 f;
	struct safehosts	*sh;
	struct safehosts_stats	 st;

	cr_assert_not(may_mark(true));
	fake_start(&f, FAKE_GEN1, 300);
	sh = start_on(&f, QUEUE_MARK_OWN);
	safehosts_get_stats(sh, &st);
	cr_assert_not(st.marked);
	cr_assert(wait_gen(sh, 1, 5));
	safehosts_get_stats(sh, &st);
	cr_assert_eq(st.failures, 0);
	safehosts_stop(sh);
	fake_stop(&f);
}

/* A reload points the thread at another resolver: asked again at once. */
Test(safehosts_thread, set_resolver)
{
	struct fake		 f1, f2;
	struct safehosts	*sh;
	struct safehosts_stats	 st;
	struct sg_addr		 lo;
	uint32_t		 ttl;
	char			 buf[2048];
	FILE			*fp;

	fake_start(&f1, FAKE_GEN1, 300);
	fake_start(&f2, FAKE_GEN3, 300);
	/* the daemon's own mark: set if the test may */
	sh = start_on(&f1, QUEUE_MARK_OWN);
	safehosts_get_stats(sh, &st);
	cr_assert_eq(st.marked, may_mark(false));
	cr_assert(wait_gen(sh, 1, 5));
	cr_assert_eq(set_gen(sh, GOOGLE, &ttl), 1);
	cr_assert(ttl > 290 && ttl <= 300, "ttl %u", ttl);
	cr_assert_eq(addr_parse(&lo, "127.0.0.1"), 0);
	cr_assert_eq(safehosts_set_resolver(sh, &lo, f2.port), 0);
	cr_assert(wait_gen(sh, 3, 2), "asked the new resolver at once");
	cr_assert_eq(atomic_load(&f2.answered), 14);
	cr_assert_eq(safehosts_set_resolver(sh, NULL, 53), -EINVAL);

	fp = fmemopen(buf, sizeof(buf), "w");
	safehosts_print_status(sh, fp);
	fclose(fp);
	cr_assert(strstr(buf, "safehosts: sent ") == buf, "%s", buf);
	cr_assert_not_null(strstr(buf, "safehosts: " GOOGLE " ttl "));
	cr_assert_not_null(strstr(buf, " 192.0.2.48 "), "%s", buf);
	safehosts_stop(sh);
	fake_stop(&f1);
	fake_stop(&f2);
}

/* Lines of the log captured in f from byte from on that hold needle. */
static unsigned
log_lines(FILE *f, long from, const char *needle)
{
	char line[512];
	unsigned n = 0;

	fflush(stderr);
	cr_assert_eq(fseek(f, from, SEEK_SET), 0);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	return n;
}

static long
log_end(FILE *f)
{
	fflush(stderr);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	return ftell(f);
}

/*
 * The resolver's upstream goes down (SERVFAIL, then silence) and comes
 * back (tests/faults/upstream_down.sh does it to the daemon): every name
 * fails every few hundred ms, yet the log says so once when the outage
 * starts and once when the last name is answered again.
 */
Test(safehosts_thread, outage_logged_once)
{
	struct fake		 f;
	struct safehosts	*sh;
	struct safehosts_stats	 st;
	FILE			*log;
	long			 down, up;
	int			 saved;

	cr_assert_not_null(log = tmpfile());
	fflush(stderr);
	cr_assert_geq(saved = dup(2), 0);
	cr_assert_eq(dup2(fileno(log), 2), 2);
	fake_start(&f, FAKE_GEN1, 1);
	sh = start_on(&f, 0);
	cr_assert(wait_gen(sh, 1, 5), "first resolution");

	down = log_end(log);
	atomic_store(&f.mode, FAKE_SERVFAIL);
	sleep_ms(1200);
	atomic_store(&f.mode, FAKE_SILENT);
	sleep_ms(800);
	up = log_end(log);
	atomic_store(&f.mode, FAKE_GEN2);
	cr_assert(wait_gen(sh, 2, 3), "answered again");
	sleep_ms(200);
	safehosts_get_stats(sh, &st);
	safehosts_stop(sh);
	fake_stop(&f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	cr_assert_gt(st.failures, 14, "SERVFAIL answers: %llu",
	    (unsigned long long)st.failures);
	cr_assert_gt(st.timeouts, 0);
	cr_assert_eq(log_lines(log, down, "asking again with backoff"), 1,
	    "the outage told once");
	cr_assert_eq(log_lines(log, down, "answers with an error"), 1);
	cr_assert_eq(log_lines(log, down, "answers again"), 1,
	    "its end told once");
	cr_assert_eq(log_lines(log, up, "asking again with backoff"), 0);
	cr_assert_eq(log_lines(log, up, "answers again"), 1,
	    "the end told when it ended");
	fclose(log);
}
