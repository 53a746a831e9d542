/*
 * test_dns.c - dns_parse(), dns_build_block() and dns_type_name().
 *
 * Queries are written byte by byte here, not with ldns, so that the parser
 * is not tested against the library it sits next to.  Answers are read back
 * with ldns, which is an independent reader of what dns_build_block() wrote.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ldns/ldns.h>

#include "dns.h"
#include "wire.h"

#define F_QR	0x8000
#define F_RD	0x0100

/* A name of exactly `wire` bytes on the wire (labels of 63, then the rest). */
static void
long_name(char *buf, size_t wire)
{
	size_t left = wire - 1, n, pos = 0;	/* minus the root */
	char c = 'a';

	while (left > 0) {
		n = left - 1 > 63 ? 63 : left - 1;
		if (pos > 0)
			buf[pos++] = '.';
		memset(buf + pos, c++, n);
		pos += n;
		left -= n + 1;
	}
	buf[pos] = '\0';
}

static void
simple_query(struct wire *w, const char *name, unsigned type)
{
	w_hdr(w, 0x1234, F_RD, 1, 0, 0, 0);
	w_q(w, name, type, DNS_C_IN);
}

static int
parse(struct dns_msg *m, const struct wire *w)
{
	return dns_parse(m, w->b, w->len);
}

/* ---------------------------------------------------------------- parse */

Test(dns_parse, normal_a_query)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "www.example.com", DNS_T_A);
	cr_assert_eq(w.len, 33);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.id, 0x1234);
	cr_assert(!m.qr);
	cr_assert_eq(m.opcode, 0);
	cr_assert(m.rd);
	cr_assert_eq(m.rcode, 0);
	cr_assert_eq(m.qdcount, 1);
	cr_assert_eq(m.nquestions, 1);
	cr_assert_eq(m.ancount + m.nscount + m.arcount, 0);
	cr_assert(!m.has_edns);
	cr_assert_str_eq(m.q[0].name, "www.example.com");
	cr_assert_eq(m.q[0].name_len, 15);
	cr_assert_eq(m.q[0].qtype, DNS_T_A);
	cr_assert_eq(m.q[0].qclass, DNS_C_IN);
}

Test(dns_parse, mixed_case_is_lowered_ascii_only)
{
	struct wire w;
	struct dns_msg m;

	/* 0xC3 0x89 is UTF-8 for E-acute: not ASCII, kept as it is */
	simple_query(&w, "WwW.ExAmPlE-Z09.\xc3\x89t\xc3\xa9.COM", DNS_T_AAAA);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_str_eq(m.q[0].name, "www.example-z09.\xc3\x89t\xc3\xa9.com");
	cr_assert_eq(m.q[0].qtype, DNS_T_AAAA);
}

Test(dns_parse, root_name)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "", DNS_T_NS);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_str_eq(m.q[0].name, "");
	cr_assert_eq(m.q[0].name_len, 0);
}

Test(dns_parse, multiple_questions_with_compression)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 7, 0, 3, 0, 0, 0);
	w_q(&w, "Example.com", DNS_T_A, DNS_C_IN);		/* at 12 */
	w_u8(&w, 3);
	w_bytes(&w, "WWW", 3);
	w_ptr(&w, 12);						/* -> example.com */
	w_u16(&w, DNS_T_HTTPS);
	w_u16(&w, DNS_C_IN);
	w_ptr(&w, 29);						/* -> the www name */
	w_u16(&w, DNS_T_MX);
	w_u16(&w, 3);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.nquestions, 3);
	cr_assert_str_eq(m.q[0].name, "example.com");
	cr_assert_str_eq(m.q[1].name, "www.example.com");
	cr_assert_eq(m.q[1].name_len, 15);
	cr_assert_eq(m.q[1].qtype, DNS_T_HTTPS);
	cr_assert_str_eq(m.q[2].name, "www.example.com");
	cr_assert_eq(m.q[2].qtype, DNS_T_MX);
	cr_assert_eq(m.q[2].qclass, 3);
}

Test(dns_parse, qdcount_zero)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 0, 0, 0, 0);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.nquestions, 0);
}

Test(dns_parse, edns_opt_detected)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.org", DNS_T_A);
	w_set16(&w, 10, 1);
	w_opt(&w, 4096, true);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert(m.has_edns);
	cr_assert_eq(m.edns_udp_size, 4096);
	cr_assert_eq(m.arcount, 1);
}

Test(dns_parse, extra_rr_in_additional)
{
	struct wire w;
	struct dns_msg m;
	static const uint8_t a[4] = { 192, 0, 2, 1 };

	simple_query(&w, "example.org", DNS_T_A);
	w_set16(&w, 10, 3);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 300, a, 4);
	w_opt(&w, 1232, false);
	w_name(&w, "cookie.example");
	w_rr_tail(&w, DNS_T_TXT, DNS_C_IN, 0, "\003abc", 4);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert(m.has_edns);
	cr_assert_eq(m.edns_udp_size, 1232);
	cr_assert_str_eq(m.q[0].name, "example.org");
}

Test(dns_parse, response_parsed_too)
{
	struct wire w;
	struct dns_msg m;
	static const uint8_t a[4] = { 192, 0, 2, 1 };

	w_hdr(&w, 9, F_QR | F_RD | 0x0080 | 3, 1, 1, 1, 0);
	w_q(&w, "example.net", DNS_T_A, DNS_C_IN);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 60, a, 4);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_NS, DNS_C_IN, 60, "\002ns\300\014", 5);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert(m.qr);
	cr_assert_eq(m.rcode, 3);
	cr_assert_eq(m.ancount, 1);
	cr_assert_eq(m.nscount, 1);
}

/* A message that uses every feature; every proper prefix must fail. */
Test(dns_parse, every_prefix_fails)
{
	struct wire w;
	struct dns_msg m;
	size_t n;
	int rv;
	static const uint8_t a[4] = { 192, 0, 2, 1 };

	w_hdr(&w, 0xbeef, F_RD, 2, 1, 1, 1);
	w_q(&w, "www.example.com", DNS_T_A, DNS_C_IN);
	w_u8(&w, 1);
	w_u8(&w, 'm');
	w_ptr(&w, 16);
	w_u16(&w, DNS_T_AAAA);
	w_u16(&w, DNS_C_IN);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 1, a, 4);
	w_name(&w, "ns.example");
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 1, a, 4);
	w_opt(&w, 1400, false);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_str_eq(m.q[1].name, "m.example.com");
	for (n = 0; n < w.len; n++) {
		rv = dns_parse(&m, w.b, n);
		cr_assert(rv == SG_ETRUNC || rv == SG_EMALFORMED,
		    "prefix of %zu bytes gave %d", n, rv);
	}
	cr_assert_eq(dns_parse(&m, NULL, 0), SG_ETRUNC);
}

Test(dns_parse, label_64_bytes_rejected)
{
	struct wire w;
	struct dns_msg m;
	char label[65];

	memset(label, 'x', 64);
	label[64] = '\0';
	simple_query(&w, label, DNS_T_A);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
	label[63] = '\0';
	simple_query(&w, label, DNS_T_A);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.q[0].name_len, 63);
}

Test(dns_parse, name_255_accepted_256_rejected)
{
	struct wire w;
	struct dns_msg m;
	char name[300];

	long_name(name, 255);
	simple_query(&w, name, DNS_T_A);
	cr_assert_eq(w.len, DNS_HDR_LEN + 255 + 4);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.q[0].name_len, 253);
	cr_assert_str_eq(m.q[0].name, name);

	long_name(name, 256);
	simple_query(&w, name, DNS_T_A);
	cr_assert_eq(w.len, DNS_HDR_LEN + 256 + 4);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

/* The limit is on the name as decompressed, across pointers. */
Test(dns_parse, name_256_through_pointer_rejected)
{
	struct wire w;
	struct dns_msg m;
	char name[300], label[64];

	long_name(name, 193);		/* 63.63.63 + root */
	memset(label, 'z', 63);
	w_hdr(&w, 1, 0, 2, 0, 0, 0);
	w_q(&w, name, DNS_T_A, DNS_C_IN);
	w_u8(&w, 62);			/* 62 + 1 + 193 = 256 */
	w_bytes(&w, label, 62);
	w_ptr(&w, 12);
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);

	w_hdr(&w, 1, 0, 2, 0, 0, 0);
	w_q(&w, name, DNS_T_A, DNS_C_IN);
	w_u8(&w, 61);			/* 255 */
	w_bytes(&w, label, 61);
	w_ptr(&w, 12);
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.q[1].name_len, 253);
}

Test(dns_parse, pointer_to_itself)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_ptr(&w, 12);
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, pointer_into_header)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_u8(&w, 1);
	w_u8(&w, 'a');
	w_ptr(&w, 11);		/* the low byte of arcount: 0, the root */
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, forward_pointer)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_ptr(&w, 18);
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	w_name(&w, "example.com");	/* at 18, as trailing bytes */
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

/* Two questions whose names point at each other. */
Test(dns_parse, pointers_at_each_other_in_questions)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 2, 0, 0, 0);
	w_ptr(&w, 18);			/* at 12 -> 18 */
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	w_ptr(&w, 12);			/* at 18 -> 12 */
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

/*
 * A loop the parser reaches backwards: an owner name points back into
 * rdata (which is skipped, never checked), and that rdata points forward at
 * the owner name again.
 */
Test(dns_parse, pointers_at_each_other_through_rdata)
{
	struct wire w;
	struct dns_msg m;
	static const uint8_t loop[2] = { 0xc0, 33 };

	w_hdr(&w, 1, 0, 1, 2, 0, 0);
	w_q(&w, "a", DNS_T_A, DNS_C_IN);	/* 12..18 */
	w_ptr(&w, 12);				/* 19 */
	w_rr_tail(&w, DNS_T_TXT, DNS_C_IN, 0, loop, 2);	/* rdata at 31 */
	cr_assert_eq(w.len, 33);
	w_ptr(&w, 31);				/* 33 -> 31 -> 33 */
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 0, "abcd", 4);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

/* Answer k's owner points at answer k-1's owner: k+1 pointers. */
static void
pointer_chain(struct wire *w, unsigned n)
{
	size_t prev = 12, here;
	unsigned i;

	w_hdr(w, 1, 0, 1, n, 0, 0);
	w_q(w, "chain.example", DNS_T_A, DNS_C_IN);
	for (i = 0; i < n; i++) {
		here = w->len;
		w_ptr(w, (unsigned)prev);
		w_rr_tail(w, DNS_T_A, DNS_C_IN, 0, "abcd", 4);
		prev = here;
	}
}

Test(dns_parse, pointer_chain_limit)
{
	struct wire w;
	struct dns_msg m;

	pointer_chain(&w, DNS_MAX_POINTERS);
	cr_assert_eq(parse(&m, &w), 0);
	pointer_chain(&w, DNS_MAX_POINTERS + 1);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, label_types_0x40_0x80)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_u8(&w, 0x41);
	w_bytes(&w, "\x01xyzzy\0\0\1\0\1", 11);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
	w.b[12] = 0x81;
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, qdcount_that_lies)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 0xffff, 0, 0, 0);
	w_q(&w, "", DNS_T_A, DNS_C_IN);
	cr_assert_eq(w.len, 17);
	cr_assert_eq(parse(&m, &w), SG_ETRUNC);
}

Test(dns_parse, arcount_that_lies)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_opt(&w, 512, false);
	w_set16(&w, 10, 0xffff);
	cr_assert_eq(parse(&m, &w), SG_ETRUNC);
	w_set16(&w, 10, 2);	/* fits the first check, not the walk */
	cr_assert_eq(parse(&m, &w), SG_ETRUNC);
	w_set16(&w, 10, 1);
	cr_assert_eq(parse(&m, &w), 0);
}

Test(dns_parse, qdcount_5_is_over_the_limit)
{
	struct wire w;
	struct dns_msg m;
	unsigned i;

	w_hdr(&w, 1, 0, 5, 0, 0, 0);
	for (i = 0; i < 5; i++)
		w_q(&w, "example.com", DNS_T_A, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), SG_ELIMIT);
	w_set16(&w, 4, 4);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.nquestions, 4);
}

Test(dns_parse, rdlength_past_the_end)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_set16(&w, 6, 1);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_A, DNS_C_IN, 0, "abcd", 4);
	w_set16(&w, w.len - 6, 100);
	cr_assert_eq(parse(&m, &w), SG_ETRUNC);
	w_set16(&w, w.len - 6, 5);
	cr_assert_eq(parse(&m, &w), SG_ETRUNC);
	w_set16(&w, w.len - 6, 4);
	cr_assert_eq(parse(&m, &w), 0);
}

Test(dns_parse, trailing_bytes_ignored)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_bytes(&w, "\xc0\xff\x41junk", 7);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_str_eq(m.q[0].name, "example.com");
}

Test(dns_parse, label_with_dot_and_nul)
{
	struct wire w;
	struct dns_msg m;

	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_bytes(&w, "\005a.B\0c\003com\0", 11);
	w_u16(&w, DNS_T_A);
	w_u16(&w, DNS_C_IN);
	cr_assert_eq(parse(&m, &w), 0);
	cr_assert_eq(m.q[0].name_len, 9);
	cr_assert_eq(memcmp(m.q[0].name, "a.b\0c.com", 10), 0);
}

Test(dns_parse, opt_owner_must_be_root)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_set16(&w, 10, 1);
	w_ptr(&w, 12);
	w_rr_tail(&w, DNS_T_OPT, 1232, 0, NULL, 0);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, two_opts_rejected)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_set16(&w, 10, 2);
	w_opt(&w, 1232, false);
	w_opt(&w, 4096, false);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

Test(dns_parse, opt_outside_additional_rejected)
{
	struct wire w;
	struct dns_msg m;

	simple_query(&w, "example.com", DNS_T_A);
	w_set16(&w, 8, 1);
	w_opt(&w, 1232, false);
	cr_assert_eq(parse(&m, &w), SG_EMALFORMED);
}

/* ---------------------------------------------------------------- build */

#define V4_PAGE		"192.0.2.80"
#define V6_PAGE		"2001:db8::80"
#define TTL		300

enum spec_kind { S_NX, S_NULL, S_ADDR, S_ADDR4, S_ADDR0 };

static struct dns_block_spec
mkspec(enum spec_kind k)
{
	struct dns_block_spec s;

	memset(&s, 0, sizeof(s));
	s.ttl = TTL;
	s.page_v4.family = AF_UNSPEC;
	s.page_v6.family = AF_UNSPEC;
	switch (k) {
	case S_NX:
		s.mode = DNS_BLOCK_NXDOMAIN;
		break;
	case S_NULL:
		s.mode = DNS_BLOCK_NULL;
		break;
	case S_ADDR:
		cr_assert_eq(addr_parse(&s.page_v6, V6_PAGE), 0);
		/* FALLTHROUGH */
	case S_ADDR4:
		cr_assert_eq(addr_parse(&s.page_v4, V4_PAGE), 0);
		/* FALLTHROUGH */
	case S_ADDR0:
		s.mode = DNS_BLOCK_ADDRESS;
		break;
	}
	return s;
}

/* Parses q, builds the answer into out (cap bytes) and reads it back. */
static ldns_pkt *
answer(const struct wire *q, const struct dns_block_spec *spec, size_t cap,
    size_t *len)
{
	struct dns_msg m;
	static uint8_t out[4096];
	ldns_pkt *p = NULL;

	cr_assert_leq(cap, sizeof(out));
	cr_assert_eq(parse(&m, q), 0);
	cr_assert_eq(dns_build_block(q->b, q->len, &m, spec, out, cap, len),
	    0);
	cr_assert_leq(*len, cap);
	cr_assert_eq(ldns_wire2pkt(&p, out, *len), LDNS_STATUS_OK);
	return p;
}

static void
check_owner(const ldns_rr *rr, const char *want)
{
	char *s = ldns_rdf2str(ldns_rr_owner(rr));

	cr_assert_str_eq(s, want);
	free(s);
}

static void
check_addr(const ldns_rr *rr, int af, const char *want)
{
	uint8_t b[16];
	const ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
	size_t n = af == AF_INET ? 4 : 16;

	cr_assert_eq(inet_pton(af, want, b), 1);
	cr_assert_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	cr_assert_eq(ldns_rr_ttl(rr), TTL);
	cr_assert_eq(ldns_rr_rd_count(rr), 1);
	cr_assert_eq(ldns_rdf_size(rdf), n);
	cr_assert_eq(memcmp(ldns_rdf_data(rdf), b, n), 0);
}

static void
check_soa(const ldns_rr *rr, const char *owner)
{
	char *s;

	cr_assert_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	check_owner(rr, owner);
	cr_assert_eq(ldns_rr_ttl(rr), TTL);
	cr_assert_eq(ldns_rr_rd_count(rr), 7);
	s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	cr_assert_str_eq(s, "safegate.invalid.");
	free(s);
	s = ldns_rdf2str(ldns_rr_rdf(rr, 1));
	cr_assert_str_eq(s, "hostmaster.safegate.invalid.");
	free(s);
	cr_assert_eq(ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)), TTL);
}

/* The header and question checks every answer must pass. */
static void
check_common(const ldns_pkt *p, unsigned id, bool rd, const char *qname,
    ldns_rr_type qtype)
{
	const ldns_rr *q;

	cr_assert_eq(ldns_pkt_id(p), id);
	cr_assert(ldns_pkt_qr(p));
	cr_assert(ldns_pkt_aa(p));
	cr_assert(ldns_pkt_ra(p));
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(ldns_pkt_rd(p), rd);
	cr_assert_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	check_owner(q, qname);
	cr_assert_eq(ldns_rr_get_type(q), qtype);
	cr_assert_eq(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
}

struct expect {
	enum spec_kind	 spec;
	uint16_t	 qtype;
	uint8_t		 rcode;
	const char	*a;	/* expected A record, or NULL */
	const char	*aaaa;	/* expected AAAA record, or NULL */
	bool		 soa;
};

#define NX	DNS_RCODE_NXDOMAIN
#define OK	DNS_RCODE_NOERROR

static const struct expect expects[] = {
	{ S_NX, DNS_T_A, NX, NULL, NULL, true },
	{ S_NX, DNS_T_AAAA, NX, NULL, NULL, true },
	{ S_NX, DNS_T_ANY, NX, NULL, NULL, true },
	{ S_NX, DNS_T_HTTPS, NX, NULL, NULL, true },
	{ S_NX, DNS_T_SVCB, NX, NULL, NULL, true },
	{ S_NX, DNS_T_CNAME, NX, NULL, NULL, true },
	{ S_NX, DNS_T_MX, NX, NULL, NULL, true },
	{ S_NX, DNS_T_TXT, NX, NULL, NULL, true },

	{ S_NULL, DNS_T_A, OK, "0.0.0.0", NULL, false },
	{ S_NULL, DNS_T_AAAA, OK, NULL, "::", false },
	{ S_NULL, DNS_T_ANY, OK, "0.0.0.0", "::", false },
	{ S_NULL, DNS_T_HTTPS, OK, NULL, NULL, true },
	{ S_NULL, DNS_T_SVCB, OK, NULL, NULL, true },
	{ S_NULL, DNS_T_CNAME, OK, NULL, NULL, true },
	{ S_NULL, DNS_T_MX, NX, NULL, NULL, true },
	{ S_NULL, DNS_T_TXT, NX, NULL, NULL, true },

	{ S_ADDR, DNS_T_A, OK, V4_PAGE, NULL, false },
	{ S_ADDR, DNS_T_AAAA, OK, NULL, V6_PAGE, false },
	{ S_ADDR, DNS_T_ANY, OK, V4_PAGE, V6_PAGE, false },
	{ S_ADDR, DNS_T_HTTPS, OK, NULL, NULL, true },
	{ S_ADDR, DNS_T_SVCB, OK, NULL, NULL, true },
	{ S_ADDR, DNS_T_CNAME, OK, NULL, NULL, true },
	{ S_ADDR, DNS_T_MX, NX, NULL, NULL, true },
	{ S_ADDR, DNS_T_TXT, NX, NULL, NULL, true },

	{ S_ADDR4, DNS_T_A, OK, V4_PAGE, NULL, false },
	{ S_ADDR4, DNS_T_AAAA, OK, NULL, NULL, true },
	{ S_ADDR4, DNS_T_ANY, OK, V4_PAGE, NULL, false },
	{ S_ADDR4, DNS_T_HTTPS, OK, NULL, NULL, true },
	{ S_ADDR4, DNS_T_SVCB, OK, NULL, NULL, true },
	{ S_ADDR4, DNS_T_CNAME, OK, NULL, NULL, true },
	{ S_ADDR4, DNS_T_MX, NX, NULL, NULL, true },
	{ S_ADDR4, DNS_T_TXT, NX, NULL, NULL, true },

	{ S_ADDR0, DNS_T_A, OK, NULL, NULL, true },
	{ S_ADDR0, DNS_T_AAAA, OK, NULL, NULL, true },
	{ S_ADDR0, DNS_T_ANY, OK, NULL, NULL, true },
	{ S_ADDR0, DNS_T_TXT, NX, NULL, NULL, true },
};

Test(dns_build, every_mode_and_type)
{
	const struct expect *e;
	struct dns_block_spec spec;
	struct wire q;
	ldns_pkt *p;
	ldns_rr_list *an;
	size_t i, len, k;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		e = &expects[i];
		spec = mkspec(e->spec);
		simple_query(&q, "WwW.ExAmple.COM", e->qtype);
		p = answer(&q, &spec, 512, &len);
		check_common(p, 0x1234, true, "WwW.ExAmple.COM.", e->qtype);
		cr_assert_eq(ldns_pkt_get_rcode(p), e->rcode,
		    "case %zu: rcode %d", i, ldns_pkt_get_rcode(p));
		an = ldns_pkt_answer(p);
		k = 0;
		if (e->a != NULL) {
			cr_assert_eq(ldns_rr_get_type(ldns_rr_list_rr(an, k)),
			    LDNS_RR_TYPE_A, "case %zu", i);
			check_owner(ldns_rr_list_rr(an, k), "WwW.ExAmple.COM.");
			check_addr(ldns_rr_list_rr(an, k++), AF_INET, e->a);
		}
		if (e->aaaa != NULL) {
			cr_assert_eq(ldns_rr_get_type(ldns_rr_list_rr(an, k)),
			    LDNS_RR_TYPE_AAAA, "case %zu", i);
			check_addr(ldns_rr_list_rr(an, k++), AF_INET6, e->aaaa);
		}
		cr_assert_eq(ldns_pkt_ancount(p), k, "case %zu", i);
		cr_assert_eq(ldns_pkt_nscount(p), e->soa ? 1 : 0,
		    "case %zu", i);
		if (e->soa)
			check_soa(ldns_rr_list_rr(ldns_pkt_authority(p), 0),
			    "WwW.ExAmple.COM.");
		cr_assert_eq(ldns_pkt_arcount(p), 0);
		cr_assert(!ldns_pkt_edns(p), "case %zu", i);
		ldns_pkt_free(p);
	}
}

Test(dns_build, rd_clear_is_copied)
{
	struct dns_block_spec spec = mkspec(S_NULL);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	w_hdr(&q, 0xffff, 0, 1, 0, 0, 0);
	w_q(&q, "example.com", DNS_T_A, DNS_C_IN);
	p = answer(&q, &spec, 512, &len);
	check_common(p, 0xffff, false, "example.com.", LDNS_RR_TYPE_A);
	ldns_pkt_free(p);
}

Test(dns_build, edns_echoed_without_do)
{
	struct dns_block_spec spec = mkspec(S_NULL);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	simple_query(&q, "example.com", DNS_T_A);
	w_set16(&q, 10, 1);
	w_opt(&q, 4096, true);
	p = answer(&q, &spec, 4096, &len);
	check_common(p, 0x1234, true, "example.com.", LDNS_RR_TYPE_A);
	cr_assert(ldns_pkt_edns(p));
	cr_assert_eq(ldns_pkt_edns_udp_size(p), 1232);
	cr_assert(!ldns_pkt_edns_do(p));
	cr_assert_eq(ldns_pkt_edns_version(p), 0);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

/* Additional data ldns could not parse does not stop the answer. */
Test(dns_build, odd_additional_ignored)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	simple_query(&q, "example.com", DNS_T_A);
	w_set16(&q, 10, 2);
	w_ptr(&q, 12);
	w_rr_tail(&q, DNS_T_A, DNS_C_IN, 0, "abc", 3);	/* A of 3 bytes */
	w_opt(&q, 1232, false);
	p = answer(&q, &spec, 1232, &len);
	check_common(p, 0x1234, true, "example.com.", LDNS_RR_TYPE_A);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

Test(dns_build, multiple_questions)
{
	struct dns_block_spec spec = mkspec(S_NULL);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	w_hdr(&q, 5, F_RD, 2, 0, 0, 0);
	w_q(&q, "a.example", DNS_T_A, DNS_C_IN);
	w_q(&q, "b.example", DNS_T_AAAA, DNS_C_IN);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_qdcount(p), 2);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(p), 2);
	check_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0), "a.example.");
	check_addr(ldns_rr_list_rr(ldns_pkt_answer(p), 0), AF_INET,
	    "0.0.0.0");
	check_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 1), "b.example.");
	check_addr(ldns_rr_list_rr(ldns_pkt_answer(p), 1), AF_INET6, "::");
	cr_assert_eq(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);

	/* one NXDOMAIN question makes the whole answer NXDOMAIN */
	w_hdr(&q, 5, F_RD, 2, 0, 0, 0);
	w_q(&q, "a.example", DNS_T_A, DNS_C_IN);
	w_q(&q, "b.example", DNS_T_MX, DNS_C_IN);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	cr_assert_eq(ldns_pkt_nscount(p), 1);
	check_soa(ldns_rr_list_rr(ldns_pkt_authority(p), 0), "b.example.");
	ldns_pkt_free(p);
}

/* Later SOAs point at the first one's names; each must still read whole. */
Test(dns_build, several_soas_share_their_names)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	w_hdr(&q, 9, F_RD, 3, 0, 0, 0);
	w_q(&q, "a.example", DNS_T_A, DNS_C_IN);
	w_q(&q, "B.Example", DNS_T_MX, DNS_C_IN);
	w_q(&q, "", DNS_T_A, DNS_C_IN);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_pkt_nscount(p), 3);
	check_soa(ldns_rr_list_rr(ldns_pkt_authority(p), 0), "a.example.");
	check_soa(ldns_rr_list_rr(ldns_pkt_authority(p), 1), "B.Example.");
	check_soa(ldns_rr_list_rr(ldns_pkt_authority(p), 2), ".");
	ldns_pkt_free(p);
}

/*
 * Found by fuzz_dns: question 2's name points into question 1's class
 * field and runs on past the question section, into bytes the parser
 * otherwise ignores.  Copying the section as it stood changed that name in
 * the answer; the answer must echo every name as the query meant it.
 */
Test(dns_build, regression_pointer_past_questions)
{
	static const uint8_t q[] = {
		0x85, 0xef, 0x00, 0x80, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x01, 0xc0, 0x10, 0x00,
		0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
	};
	struct dns_block_spec spec = mkspec(S_NX);
	struct dns_msg m, back;
	uint8_t out[512];
	size_t len;
	unsigned i;

	cr_assert_eq(dns_parse(&m, q, sizeof(q)), 0);
	cr_assert_eq(m.nquestions, 4);
	cr_assert_eq(dns_build_block(q, sizeof(q), &m, &spec, out,
	    sizeof(out), &len), 0);
	cr_assert_eq(dns_parse(&back, out, len), 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(back.q[i].name_len, m.q[i].name_len, "q %u", i);
		cr_assert_eq(memcmp(back.q[i].name, m.q[i].name,
		    m.q[i].name_len), 0, "q %u", i);
	}
}

Test(dns_build, no_question)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	w_hdr(&q, 5, F_RD, 0, 0, 0, 0);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_qdcount(p), 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	spec = mkspec(S_NULL);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(len, DNS_HDR_LEN);
	ldns_pkt_free(p);
}

/* Addresses are only for class IN. */
Test(dns_build, other_class_is_nxdomain)
{
	struct dns_block_spec spec = mkspec(S_NULL);
	struct wire q;
	ldns_pkt *p;
	size_t len;

	w_hdr(&q, 5, 0, 1, 0, 0, 0);
	w_q(&q, "version.bind", DNS_T_A, 3);
	p = answer(&q, &spec, 512, &len);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

/* A long name in a plain query still fits in 512, SOA or not. */
Test(dns_build, long_name_fits_512)
{
	struct dns_block_spec spec;
	struct wire q;
	ldns_pkt *p;
	char name[300], dotted[302];
	size_t len, wire;
	enum spec_kind k;

	for (wire = 250; wire <= 255; wire += 5) {
		long_name(name, wire);
		snprintf(dotted, sizeof(dotted), "%s.", name);
		for (k = S_NX; k <= S_NULL; k++) {
			spec = mkspec(k);
			simple_query(&q, name, DNS_T_A);
			p = answer(&q, &spec, 512, &len);
			cr_assert_leq(len, 512);
			check_common(p, 0x1234, true, dotted, LDNS_RR_TYPE_A);
			if (k == S_NX) {
				cr_assert_eq(ldns_pkt_get_rcode(p),
				    LDNS_RCODE_NXDOMAIN);
				if (ldns_pkt_nscount(p) == 1)
					check_soa(ldns_rr_list_rr(
					    ldns_pkt_authority(p), 0), dotted);
			} else
				cr_assert_eq(ldns_pkt_ancount(p), 1);
			ldns_pkt_free(p);
		}
	}
}

/* With room (EDNS) the SOA stays; the answer stays within 1232. */
Test(dns_build, edns_sizes)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct wire q;
	ldns_pkt *p;
	char name[300];
	size_t len;

	long_name(name, 255);
	simple_query(&q, name, DNS_T_TXT);
	w_set16(&q, 10, 1);
	w_opt(&q, 65535, false);
	p = answer(&q, &spec, 4096, &len);
	cr_assert_leq(len, 1232);
	cr_assert_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);

	/* an advertised size under 512 means 512 */
	q.b[q.len - 8] = 0;
	q.b[q.len - 7] = 100;
	p = answer(&q, &spec, 4096, &len);
	cr_assert_leq(len, 512);
	cr_assert_gt(len, 100);
	ldns_pkt_free(p);
}

/* Four different 255-byte names: 1048 bytes of questions alone. */
Test(dns_build, too_big_is_elimit)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct dns_msg m;
	struct wire q;
	uint8_t out[4096];
	char name[300];
	size_t len;
	unsigned i;
	ldns_pkt *p;

	long_name(name, 255);
	w_hdr(&q, 1, 0, 4, 0, 0, 0);
	for (i = 0; i < 4; i++) {
		name[252] = (char)('p' + i);	/* unlike names: no compression */
		w_q(&q, name, DNS_T_A, DNS_C_IN);
	}
	cr_assert_eq(parse(&m, &q), 0);
	cr_assert_eq(dns_build_block(q.b, q.len, &m, &spec, out, sizeof(out),
	    &len), SG_ELIMIT);

	/* with EDNS they fit once the SOAs go (1048 + 11 for the OPT) */
	w_set16(&q, 10, 1);
	w_opt(&q, 1100, false);
	p = answer(&q, &spec, sizeof(out), &len);
	cr_assert_leq(len, 1100);
	cr_assert_eq(ldns_pkt_qdcount(p), 4);
	cr_assert_eq(ldns_pkt_nscount(p), 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* and a buffer too small for anything */
	simple_query(&q, "example.com", DNS_T_A);
	cr_assert_eq(parse(&m, &q), 0);
	cr_assert_eq(dns_build_block(q.b, q.len, &m, &spec, out, 20, &len),
	    SG_ELIMIT);
}

Test(dns_build, bad_arguments)
{
	struct dns_block_spec spec = mkspec(S_NX);
	struct dns_msg m;
	struct wire q;
	uint8_t out[512];
	size_t len;

	simple_query(&q, "example.com", DNS_T_A);
	cr_assert_eq(parse(&m, &q), 0);
	cr_assert_eq(dns_build_block(NULL, 0, &m, &spec, out, sizeof(out),
	    &len), -EINVAL);
	/* a query that is not the one parsed */
	cr_assert_lt(dns_build_block(q.b, 20, &m, &spec, out, sizeof(out),
	    &len), 0);
	m.nquestions = 2;
	cr_assert_lt(dns_build_block(q.b, q.len, &m, &spec, out, sizeof(out),
	    &len), 0);
}

/* ---------------------------------------------------------------- names */

Test(dns_type_name, known_and_numeric)
{
	char buf[8];

	cr_assert_str_eq(dns_type_name(DNS_T_A, buf, sizeof(buf)), "A");
	cr_assert_str_eq(dns_type_name(DNS_T_AAAA, buf, sizeof(buf)), "AAAA");
	cr_assert_str_eq(dns_type_name(DNS_T_HTTPS, buf, sizeof(buf)),
	    "HTTPS");
	cr_assert_str_eq(dns_type_name(DNS_T_ANY, buf, sizeof(buf)), "ANY");
	cr_assert_str_eq(dns_type_name(65535, buf, sizeof(buf)), "65535");
	cr_assert_str_eq(dns_type_name(0, buf, sizeof(buf)), "0");
}
