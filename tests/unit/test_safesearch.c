/*
 * test_safesearch.c - safesearch_*() and dns_build_cname().
 *
 * Queries are written byte by byte; answers are read back with ldns, an
 * independent reader of what dns_build_cname() wrote.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ldns/ldns.h>

#include "dns.h"
#include "safesearch.h"
#include "wire.h"

/* ------------------------------------------------------------- mapping */

static const struct safesearch_config all_on = {
	.google = true, .bing = true, .duckduckgo = true, .brave = true,
	.ecosia = true, .youtube = SAFESEARCH_YT_STRICT,
};

static const char *
target(const char *name, const struct safesearch_config *cfg)
{
	return safesearch_target(name, strlen(name), cfg);
}

static void
expect_target(const char *name, const struct safesearch_config *cfg,
    const char *want)
{
	const char *got = target(name, cfg);

	if (want == NULL)
		cr_assert_null(got, "%s -> %s, want none", name, got);
	else {
		cr_assert_not_null(got, "%s not mapped", name);
		cr_assert_str_eq(got, want, "%s", name);
	}
}

/* Google's list of suffixes as of writing, from the table's sources. */
static const char *const google_suffixes[] = {
	"com", "ad", "ae", "com.af", "com.ag", "com.ai", "al", "am", "co.ao",
	"com.ar", "as", "at", "com.au", "az", "ba", "com.bd", "be", "bf", "bg",
	"com.bh", "bi", "bj", "com.bn", "com.bo", "com.br", "bs", "bt", "co.bw",
	"by", "com.bz", "ca", "cd", "cf", "cg", "ch", "ci", "co.ck", "cl", "cm",
	"cn", "com.co", "co.cr", "com.cu", "cv", "com.cy", "cz", "de", "dj",
	"dk", "dm", "com.do", "dz", "com.ec", "ee", "com.eg", "es", "com.et",
	"fi", "com.fj", "fm", "fr", "ga", "ge", "gg", "com.gh", "com.gi", "gl",
	"gm", "gp", "gr", "com.gt", "gy", "com.hk", "hn", "hr", "ht", "hu",
	"co.id", "ie", "co.il", "im", "co.in", "iq", "is", "it", "je", "com.jm",
	"jo", "co.jp", "co.ke", "com.kh", "ki", "kg", "co.kr", "com.kw", "kz",
	"la", "com.lb", "li", "lk", "co.ls", "lt", "lu", "lv", "com.ly",
	"co.ma", "md", "me", "mg", "mk", "ml", "com.mm", "mn", "ms", "com.mt",
	"mu", "mv", "mw", "com.mx", "com.my", "co.mz", "com.na", "com.nf",
	"com.ng", "com.ni", "ne", "nl", "no", "com.np", "nr", "nu", "co.nz",
	"com.om", "com.pa", "com.pe", "com.pg", "com.ph", "com.pk", "pl", "pn",
	"com.pr", "ps", "pt", "com.py", "com.qa", "ro", "ru", "rw", "com.sa",
	"com.sb", "sc", "se", "com.sg", "sh", "si", "sk", "com.sl", "sn", "so",
	"sm", "sr", "st", "com.sv", "td", "tg", "co.th", "com.tj", "tk", "tl",
	"tm", "tn", "to", "com.tr", "tt", "com.tw", "co.tz", "com.ua", "co.ug",
	"co.uk", "com.uy", "co.uz", "com.vc", "co.ve", "vg", "co.vi", "com.vn",
	"vu", "ws", "rs", "co.za", "co.zm", "co.zw", "cat", "co",
};

Test(safesearch, every_google_country_domain)
{
	char name[64];
	size_t i;

	/* Unsorted here: a table out of order in safesearch.c fails this. */
	for (i = 0; i < sizeof(google_suffixes) / sizeof(google_suffixes[0]);
	    i++) {
		snprintf(name, sizeof(name), "www.google.%s", google_suffixes[i]);
		expect_target(name, &all_on, "forcesafesearch.google.com");
		cr_assert_eq(safesearch_engine_of(name, strlen(name)),
		    SAFESEARCH_GOOGLE, "%s", name);
	}
}

Test(safesearch, google_named_examples)
{
	expect_target("www.google.co.uk", &all_on, "forcesafesearch.google.com");
	expect_target("www.google.com.au", &all_on, "forcesafesearch.google.com");
	expect_target("www.google.de", &all_on, "forcesafesearch.google.com");
	expect_target("www.google.com", &all_on, "forcesafesearch.google.com");
	/* Bare google.X only redirects to www.google.X: not rewritten. */
	expect_target("google.com", &all_on, NULL);
	expect_target("google.co.uk", &all_on, NULL);
	cr_assert_eq(safesearch_engine_of("google.com", 10), SAFESEARCH_NONE);
}

Test(safesearch, lookalikes_not_mapped)
{
	static const char *const names[] = {
		"www.google.co.uk.evil.test", "notgoogle.com", "www.google.invalid",
		"www.google.", "www.google", "www.google.co", "wwww.google.com",
		"ww.google.com", "www.google.com.", "www.google.co.u",
		"www.google.co.ukk", "evil.www.google.com", "xwww.google.com",
		"www.googlecom", "www.google.com.evil", "images.google.com",
		"bing.com", "www.bing.com.evil.test", "www.youtube.co",
		"youtube.com", "www.duckduckgo.co", "brave.com",
		"search.brave.com.evil", "ecosia.org", "duckduckgo.com.",
		"WWW.GOOGLE.COM", "", "com",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* "www.google.co" is a real entry: skip it here. */
		if (strcmp(names[i], "www.google.co") == 0)
			continue;
		expect_target(names[i], &all_on, NULL);
		cr_assert_eq(safesearch_engine_of(names[i], strlen(names[i])),
		    SAFESEARCH_NONE, "%s", names[i]);
	}
}

Test(safesearch, embedded_nul_does_not_match)
{
	static const char n1[] = "www.google.com\0.evil";
	static const char n2[] = "www.bing.com\0";

	cr_assert_null(safesearch_target(n1, sizeof(n1) - 1, &all_on));
	cr_assert_null(safesearch_target(n2, sizeof(n2) - 1, &all_on));
	cr_assert_null(safesearch_target(NULL, 0, &all_on));
	/* A length shorter than the string reads only that many bytes. */
	cr_assert_str_eq(safesearch_target("www.bing.com.evil", 12, &all_on),
	    "strict.bing.com");
}

Test(safesearch, youtube_modes)
{
	static const char *const hosts[] = {
		"www.youtube.com", "m.youtube.com", "youtubei.googleapis.com",
		"youtube.googleapis.com", "www.youtube-nocookie.com",
	};
	struct safesearch_config c = { 0 };
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		c.youtube = SAFESEARCH_YT_STRICT;
		expect_target(hosts[i], &c, "restrict.youtube.com");
		c.youtube = SAFESEARCH_YT_MODERATE;
		expect_target(hosts[i], &c, "restrictmoderate.youtube.com");
		c.youtube = SAFESEARCH_YT_OFF;
		expect_target(hosts[i], &c, NULL);
		cr_assert_eq(safesearch_engine_of(hosts[i], strlen(hosts[i])),
		    SAFESEARCH_YOUTUBE);
	}
	c.youtube = (enum safesearch_youtube)42;	/* garbage is off */
	expect_target("www.youtube.com", &c, NULL);
}

Test(safesearch, other_engines)
{
	expect_target("www.bing.com", &all_on, "strict.bing.com");
	expect_target("duckduckgo.com", &all_on, "safe.duckduckgo.com");
	expect_target("www.duckduckgo.com", &all_on, "safe.duckduckgo.com");
	expect_target("start.duckduckgo.com", &all_on, "safe.duckduckgo.com");
	expect_target("search.brave.com", &all_on, "forcesafe.search.brave.com");
	expect_target("www.ecosia.org", &all_on,
	    "strict-safe-search.ecosia.org");
}

Test(safesearch, each_setting_is_independent)
{
	struct safesearch_config c;

	memset(&c, 0, sizeof(c));
	expect_target("www.google.de", &c, NULL);
	expect_target("www.bing.com", &c, NULL);
	expect_target("duckduckgo.com", &c, NULL);
	expect_target("search.brave.com", &c, NULL);
	expect_target("www.ecosia.org", &c, NULL);
	expect_target("www.youtube.com", &c, NULL);
	expect_target("www.google.de", NULL, NULL);

	c.bing = true;
	expect_target("www.bing.com", &c, "strict.bing.com");
	expect_target("www.google.de", &c, NULL);
	expect_target("www.youtube.com", &c, NULL);
	c.bing = false;
	c.google = true;
	expect_target("www.google.de", &c, "forcesafesearch.google.com");
	/* YouTube is a setting of its own, even though Google owns it. */
	expect_target("www.youtube.com", &c, NULL);
	c.google = false;
	c.duckduckgo = true;
	expect_target("duckduckgo.com", &c, "safe.duckduckgo.com");
	expect_target("search.brave.com", &c, NULL);
	c.duckduckgo = false;
	c.brave = true;
	expect_target("search.brave.com", &c, "forcesafe.search.brave.com");
	expect_target("www.ecosia.org", &c, NULL);
	c.brave = false;
	c.ecosia = true;
	expect_target("www.ecosia.org", &c, "strict-safe-search.ecosia.org");

	cr_assert(safesearch_enabled(&all_on, SAFESEARCH_GOOGLE));
	cr_assert_not(safesearch_enabled(&all_on, SAFESEARCH_NONE));
	cr_assert_not(safesearch_enabled(NULL, SAFESEARCH_BING));
}

Test(safesearch, safe_hosts_are_not_search_hosts)
{
	static const char *const safe[] = {
		"forcesafesearch.google.com", "restrict.youtube.com",
		"restrictmoderate.youtube.com", "strict.bing.com",
		"safe.duckduckgo.com", "forcesafe.search.brave.com",
		"strict-safe-search.ecosia.org",
	};
	size_t i;

	for (i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
		cr_assert(safesearch_is_safe_host(safe[i], strlen(safe[i])),
		    "%s", safe[i]);
		cr_assert_null(target(safe[i], &all_on), "%s", safe[i]);
		cr_assert_eq(safesearch_engine_of(safe[i], strlen(safe[i])),
		    SAFESEARCH_NONE);
	}
	cr_assert_not(safesearch_is_safe_host("www.google.com", 14));
	cr_assert_not(safesearch_is_safe_host("strict.bing.co", 14));
	cr_assert_not(safesearch_is_safe_host(NULL, 0));
}

Test(safesearch, engine_names)
{
	cr_assert_str_eq(safesearch_engine_name(SAFESEARCH_GOOGLE), "google");
	cr_assert_str_eq(safesearch_engine_name(SAFESEARCH_YOUTUBE), "youtube");
	cr_assert_str_eq(safesearch_engine_name(SAFESEARCH_ECOSIA), "ecosia");
	cr_assert_str_eq(safesearch_engine_name(SAFESEARCH_NONE), "none");
}

/* ------------------------------------------------------- dns_build_cname */

/* One question; udp > 0 adds an OPT record advertising that size. */
static void
query(struct wire *w, unsigned id, bool rd, const char *name, unsigned type,
    unsigned class, unsigned udp)
{
	w_hdr(w, id, rd ? 0x0100 : 0, 1, 0, 0, udp > 0 ? 1 : 0);
	w_q(w, name, type, class);
	if (udp > 0)
		w_opt(w, udp, false);
}

#define TARGET	"forcesafesearch.google.com"

static struct sg_addr addrs[4];
static struct dns_cname_spec spec;

static void
setup_spec(void)
{
	cr_assert_eq(addr_parse(&addrs[0], "216.239.38.120"), 0);
	cr_assert_eq(addr_parse(&addrs[1], "2001:4860:4802:32::78"), 0);
	cr_assert_eq(addr_parse(&addrs[2], "216.239.38.121"), 0);
	cr_assert_eq(addr_parse(&addrs[3], "2001:4860:4802:32::79"), 0);
	memset(&spec, 0, sizeof(spec));
	spec.target = TARGET;
	spec.cname_ttl = 3600;
	spec.addrs = addrs;
	spec.naddrs = 4;
	spec.addr_ttl = 120;
}

static ldns_pkt *
build(const struct wire *q, size_t cap, size_t *len)
{
	static uint8_t out[4096];
	struct dns_msg m;
	ldns_pkt *p = NULL;

	cr_assert_leq(cap, sizeof(out));
	cr_assert_eq(dns_parse(&m, q->b, q->len), 0);
	cr_assert_eq(dns_build_cname(q->b, q->len, &m, &spec, out, cap, len),
	    0);
	cr_assert_leq(*len, cap);
	cr_assert_eq(ldns_wire2pkt(&p, out, *len), LDNS_STATUS_OK);
	return p;
}

static void
check_name(const ldns_rdf *rdf, const char *want)
{
	char *s = ldns_rdf2str(rdf);

	cr_assert_str_eq(s, want);
	free(s);
}

/* Header, question and the CNAME; returns the answer section. */
static const ldns_rr_list *
check_common(const ldns_pkt *p, unsigned id, bool rd, const char *qname,
    ldns_rr_type qtype, size_t nanswers)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	const ldns_rr *q, *c;

	cr_assert_eq(ldns_pkt_id(p), id);
	cr_assert(ldns_pkt_qr(p));
	cr_assert(ldns_pkt_aa(p));
	cr_assert(ldns_pkt_ra(p));
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(ldns_pkt_rd(p), rd);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	cr_assert_eq(ldns_pkt_nscount(p), 0);
	q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	check_name(ldns_rr_owner(q), qname);
	cr_assert_eq(ldns_rr_get_type(q), qtype);
	cr_assert_eq(ldns_rr_list_rr_count(an), nanswers);
	c = ldns_rr_list_rr(an, 0);
	cr_assert_eq(ldns_rr_get_type(c), LDNS_RR_TYPE_CNAME);
	cr_assert_eq(ldns_rr_get_class(c), LDNS_RR_CLASS_IN);
	cr_assert_eq(ldns_rr_ttl(c), 3600);
	check_name(ldns_rr_owner(c), qname);
	check_name(ldns_rr_rdf(c, 0), TARGET ".");
	return an;
}

static void
check_addr(const ldns_rr *rr, int af, const char *want)
{
	uint8_t b[16];
	const ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
	size_t n = af == AF_INET ? 4 : 16;

	cr_assert_eq(ldns_rr_get_type(rr), af == AF_INET ? LDNS_RR_TYPE_A :
	    LDNS_RR_TYPE_AAAA);
	if (spec.target != NULL && strcmp(spec.target, TARGET) == 0)
		check_name(ldns_rr_owner(rr), TARGET ".");
	cr_assert_eq(ldns_rr_ttl(rr), 120);
	cr_assert_eq(inet_pton(af, want, b), 1);
	cr_assert_eq(ldns_rdf_size(rdf), n);
	cr_assert_eq(memcmp(ldns_rdf_data(rdf), b, n), 0);
}

Test(safesearch, cname_a, .init = setup_spec)
{
	struct wire q;
	const ldns_rr_list *an;
	ldns_pkt *p;
	size_t len;

	query(&q, 0xbeef, true, "www.google.co.uk", DNS_T_A, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	an = check_common(p, 0xbeef, true, "www.google.co.uk.", LDNS_RR_TYPE_A,
	    3);
	check_addr(ldns_rr_list_rr(an, 1), AF_INET, "216.239.38.120");
	check_addr(ldns_rr_list_rr(an, 2), AF_INET, "216.239.38.121");
	cr_assert_eq(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
}

Test(safesearch, cname_aaaa_case_and_rd_echoed, .init = setup_spec)
{
	struct wire q;
	const ldns_rr_list *an;
	ldns_pkt *p;
	size_t len;

	query(&q, 7, false, "WwW.GoOgLe.De", DNS_T_AAAA, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	an = check_common(p, 7, false, "WwW.GoOgLe.De.", LDNS_RR_TYPE_AAAA, 3);
	check_addr(ldns_rr_list_rr(an, 1), AF_INET6, "2001:4860:4802:32::78");
	check_addr(ldns_rr_list_rr(an, 2), AF_INET6, "2001:4860:4802:32::79");
	ldns_pkt_free(p);
}

Test(safesearch, cname_any_gets_both, .init = setup_spec)
{
	struct wire q;
	ldns_pkt *p;
	size_t len;

	query(&q, 8, true, "www.bing.com", DNS_T_ANY, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	(void)check_common(p, 8, true, "www.bing.com.", LDNS_RR_TYPE_ANY, 5);
	ldns_pkt_free(p);
}

Test(safesearch, cname_https_alone, .init = setup_spec)
{
	struct wire q;
	ldns_pkt *p;
	size_t len;

	query(&q, 9, true, "www.google.com", DNS_T_HTTPS, DNS_C_IN, 1232);
	p = build(&q, 1232, &len);
	(void)check_common(p, 9, true, "www.google.com.", LDNS_RR_TYPE_HTTPS,
	    1);
	cr_assert_eq(ldns_pkt_arcount(p), 0);	/* ldns keeps OPT aside */
	cr_assert_not_null(ldns_pkt_edns(p) ? p : NULL);
	cr_assert_eq(ldns_pkt_edns_udp_size(p), 1232);
	ldns_pkt_free(p);
}

Test(safesearch, cname_no_address_of_that_family, .init = setup_spec)
{
	struct wire q;
	ldns_pkt *p;
	size_t len;

	spec.naddrs = 1;	/* IPv4 only */
	query(&q, 10, true, "www.google.com", DNS_T_AAAA, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	(void)check_common(p, 10, true, "www.google.com.", LDNS_RR_TYPE_AAAA,
	    1);
	ldns_pkt_free(p);
	spec.naddrs = 0;
	spec.addrs = NULL;
	query(&q, 11, true, "www.google.com", DNS_T_A, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	(void)check_common(p, 11, true, "www.google.com.", LDNS_RR_TYPE_A, 1);
	ldns_pkt_free(p);
}

Test(safesearch, cname_addresses_dropped_when_too_big, .init = setup_spec)
{
	static struct sg_addr many[40];
	struct wire q;
	ldns_pkt *p;
	size_t len, i;
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	for (i = 0; i < 40; i++) {
		b[15] = (uint8_t)i;
		addr_set(&many[i], AF_INET6, b);
	}
	spec.addrs = many;
	spec.naddrs = 40;	/* 40 * 28 bytes: over 512 */
	query(&q, 12, true, "www.google.com", DNS_T_AAAA, DNS_C_IN, 0);
	p = build(&q, 4096, &len);
	cr_assert_leq(len, 512);
	(void)check_common(p, 12, true, "www.google.com.", LDNS_RR_TYPE_AAAA,
	    1);
	ldns_pkt_free(p);
	/* With EDNS 1232 they all fit. */
	query(&q, 13, true, "www.google.com", DNS_T_AAAA, DNS_C_IN, 4096);
	p = build(&q, 4096, &len);
	cr_assert_leq(len, 1232);
	(void)check_common(p, 13, true, "www.google.com.", LDNS_RR_TYPE_AAAA,
	    41);
	ldns_pkt_free(p);
	/* And a small cap drops them again. */
	p = build(&q, 600, &len);
	(void)check_common(p, 13, true, "www.google.com.", LDNS_RR_TYPE_AAAA,
	    1);
	ldns_pkt_free(p);
}

Test(safesearch, cname_limits_and_errors, .init = setup_spec)
{
	uint8_t out[512];
	struct wire q;
	struct dns_msg m;
	size_t len;
	char longlabel[80];

	query(&q, 14, true, "www.google.com", DNS_T_A, DNS_C_IN, 0);
	cr_assert_eq(dns_parse(&m, q.b, q.len), 0);
	/* Not even the CNAME fits. */
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 40, &len),
	    SG_ELIMIT);
	cr_assert_eq(dns_build_cname(NULL, q.len, &m, &spec, out, 512, &len),
	    -EINVAL);
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, NULL, out, 512, &len),
	    -EINVAL);
	spec.target = "";
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    -EINVAL);
	spec.target = "a..b";
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    -EINVAL);
	memset(longlabel, 'x', 64);
	strcpy(longlabel + 64, ".com");
	spec.target = longlabel;
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    -EINVAL);
	longlabel[1] = '.';	/* now labels of 1 and 62 */
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    0);
	spec.target = TARGET ".";	/* a trailing dot is allowed */
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    0);

	/* Class CH is not answered. */
	query(&q, 15, true, "www.google.com", DNS_T_A, 3, 0);
	cr_assert_eq(dns_parse(&m, q.b, q.len), 0);
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    SG_EUNSUPP);

	/* Two questions are refused. */
	query(&q, 16, true, "www.google.com", DNS_T_A, DNS_C_IN, 0);
	q.b[5] = 2;
	w_name(&q, "www.google.de");
	w_u16(&q, DNS_T_A);
	w_u16(&q, DNS_C_IN);
	cr_assert_eq(dns_parse(&m, q.b, q.len), 0);
	cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out, 512, &len),
	    -EINVAL);
}

Test(safesearch, cname_max_target_fits, .init = setup_spec)
{
	char t[260];
	struct wire q;
	ldns_pkt *p;
	size_t len;

	/* 63+1 * 3 + 61+1 + root = 255 wire bytes. */
	memset(t, 'a', sizeof(t));
	t[63] = t[127] = t[191] = '.';
	t[253] = '\0';
	spec.target = t;
	query(&q, 17, true, "www.google.com", DNS_T_A, DNS_C_IN, 0);
	p = build(&q, 512, &len);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 3);
	check_addr(ldns_rr_list_rr(ldns_pkt_answer(p), 1), AF_INET,
	    "216.239.38.120");
	ldns_pkt_free(p);
	t[253] = 'a';
	t[254] = '\0';	/* 256 wire bytes */
	{
		uint8_t out[512];
		struct dns_msg m;

		cr_assert_eq(dns_parse(&m, q.b, q.len), 0);
		cr_assert_eq(dns_build_cname(q.b, q.len, &m, &spec, out,
		    sizeof(out), &len), -EINVAL);
	}
}
