/*
 * test_lists.c - the list reader: name normalisation (IDNA included), every
 * format's good and bad lines, confidential lists, stats, FILE:LINE errors,
 * the quirks of the small files in tests/data/lists/, and the real lists of
 * SHARED/lists/formats (skipped when that folder is absent).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lists.h"

#define DATA	"tests/data/lists/"

/* ---------------------------------------------------------------- helpers */

#define MAX_ERRS	64
#define MAX_GOT		128
#define GOT_LEN		300

struct errs {
	size_t		 n;
	size_t		 total;
	const char	*file[MAX_ERRS];
	size_t		 line[MAX_ERRS];
	const char	*reason[MAX_ERRS];
};

/* What the sink was given, as lists-dump prints it: "block NAME" ... */
struct got {
	size_t		 n;
	size_t		 total;
	size_t		 fail_after;	/* 0: never fail */
	int		 fail_with;
	char		 e[MAX_GOT][GOT_LEN];
};

static void
collect(void *arg, const char *file, size_t line, const char *reason)
{
	struct errs *e = arg;

	cr_assert_not_null(reason);
	cr_assert_gt(strlen(reason), 0);
	e->total++;
	if (e->n < MAX_ERRS) {
		e->file[e->n] = file;
		e->line[e->n] = line;
		e->reason[e->n] = reason;
		e->n++;
	}
}

static int
got_add(struct got *g, const char *text)
{
	if (g->fail_after != 0 && g->total >= g->fail_after)
		return g->fail_with;
	if (g->n < MAX_GOT)
		snprintf(g->e[g->n++], GOT_LEN, "%s", text);
	g->total++;
	return 0;
}

static int
on_name(void *arg, const char *name, size_t len, bool allow)
{
	char text[GOT_LEN];
	char again[256];
	const char *why = NULL;

	/* Names arrive normalised, NUL-terminated, and normalise to themselves. */
	cr_assert_eq(strlen(name), len);
	cr_assert_leq(len, 253);
	cr_assert_eq(lists_normalize(name, len, again, &why), (int)len);
	cr_assert_str_eq(again, name);
	snprintf(text, sizeof(text), "%s %s", allow ? "allow" : "block", name);
	return got_add(arg, text);
}

static int
on_hash(void *arg, const uint8_t sha[LISTS_SHA256_LEN])
{
	char text[GOT_LEN] = "hash ";
	size_t i;

	for (i = 0; i < LISTS_SHA256_LEN; i++)
		snprintf(text + 5 + 2 * i, 3, "%02x", sha[i]);
	return got_add(arg, text);
}

static void
expect_err(const struct errs *e, size_t i, size_t line, const char *reason)
{
	cr_assert_lt(i, e->n, "expected an error #%zu at line %zu (%s)", i,
	    line, reason);
	cr_expect_eq(e->line[i], line, "error #%zu: line %zu, expected %zu",
	    i, e->line[i], line);
	cr_expect_str_eq(e->reason[i], reason, "error #%zu (line %zu)", i,
	    e->line[i]);
}

/* The entries, in order, then NULL. */
static void
expect_got(const struct got *g, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	va_start(ap, g);
	while ((want = va_arg(ap, const char *)) != NULL) {
		cr_expect_lt(i, g->n, "missing entry #%zu: %s", i, want);
		if (i < g->n)
			cr_expect_str_eq(g->e[i], want, "entry #%zu", i);
		i++;
	}
	va_end(ap);
	cr_expect_eq(g->n, i, "%zu entries, expected %zu (first extra: %s)",
	    g->n, i, g->n > i ? g->e[i] : "-");
}

static void
expect_stats(const struct lists_stats *st, size_t lines, size_t entries,
    size_t allows, size_t invalid, size_t skipped)
{
	cr_expect_eq(st->lines, lines, "lines %zu, expected %zu", st->lines,
	    lines);
	cr_expect_eq(st->entries, entries, "entries %zu, expected %zu",
	    st->entries, entries);
	cr_expect_eq(st->allows, allows, "allows %zu, expected %zu",
	    st->allows, allows);
	cr_expect_eq(st->invalid, invalid, "invalid %zu, expected %zu",
	    st->invalid, invalid);
	cr_expect_eq(st->skipped, skipped, "skipped %zu, expected %zu",
	    st->skipped, skipped);
}

static void
read_one(const char *path, bool confidential, struct lists_stats *st,
    struct errs *e, struct got *g)
{
	struct lists_sink sink = { on_name, on_hash, g };

	memset(st, 0, sizeof(*st));
	memset(e, 0, sizeof(*e));
	memset(g, 0, sizeof(*g));
	cr_assert_eq(lists_read_file(path, confidential, &sink, st, collect,
	    e), 0, "reading %s", path);
	cr_expect_eq(e->total, st->invalid);
}

static void
read_buf(const void *buf, size_t len, bool confidential,
    struct lists_stats *st, struct errs *e, struct got *g)
{
	struct lists_sink sink = { on_name, on_hash, g };

	memset(st, 0, sizeof(*st));
	memset(e, 0, sizeof(*e));
	memset(g, 0, sizeof(*g));
	cr_assert_eq(lists_read_buffer("buf", buf, len, confidential, &sink,
	    st, collect, e), 0);
	cr_expect_eq(e->total, st->invalid);
	cr_expect_eq(g->total, st->entries + st->allows);
}

/* A NUL-terminated text literal, read as a non-confidential list. */
#define READ(text, st, e, g) \
	read_buf(text, sizeof(text) - 1, false, st, e, g)

static void
sha256_hex(const char *s, char out[2 * LISTS_SHA256_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	cr_assert(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL));
	cr_assert_eq(n, LISTS_SHA256_LEN);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---------------------------------------------------------------- normalize */

struct norm_case {
	const char	*in;
	const char	*out;		/* NULL: rejected with reason */
	const char	*reason;
};

static const struct norm_case norm_cases[] = {
	{ "example.com", "example.com", NULL },
	{ "Example.COM", "example.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "WWW.Example.Org.", "www.example.org", NULL },
	{ "under_score.example.net", "under_score.example.net", NULL },
	{ "a-b.c-d.test", "a-b.c-d.test", NULL },
	{ "1.example.com", "1.example.com", NULL },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ "XN--BCHER-KVA.example", "xn--bcher-kva.example", NULL },
	/* IDNA: UTF-8 names become punycode, lower case first. */
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example", NULL },
	{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example", NULL },
	{ "B\xc3\x9c" "CHER.example.", "xn--bcher-kva.example", NULL },
	{ "m\xc3\xbcnchen.example", "xn--mnchen-3ya.example", NULL },
	{ "ex\xc3\xa4mple.com", "xn--exmple-cua.com", NULL },
	{ "www.\xe4\xbe\x8b\xe5\xad\x90.example",
	    "www.xn--fsqu00a.example", NULL },
	/* nontransitional: sharp s is kept, not mapped to "ss" */
	{ "fa\xc3\x9f.example", "xn--fa-hia.example", NULL },
	/* NFC first: u + combining diaeresis is u-umlaut */
	{ "bu\xcc\x88" "cher.example", "xn--bcher-kva.example", NULL },
	/* an ideographic full stop is a dot */
	{ "b\xc3\xbc" "cher\xe3\x80\x82" "example", "xn--bcher-kva.example",
	    NULL },
	{ "xn--bcher-kva.m\xc3\xbcnchen.example",
	    "xn--bcher-kva.xn--mnchen-3ya.example", NULL },
	{ "", NULL, "empty name" },
	{ ".", NULL, "empty name" },
	{ "example.com..", NULL, "empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "a..example.com", NULL, "empty label" },
	{ "localhost", NULL, "a single label, not a domain" },
	{ "en", NULL, "a single label, not a domain" },
	{ "com.", NULL, "a single label, not a domain" },
	{ "b\xc3\xbc" "cher", NULL, "a single label, not a domain" },
	{ "-a.example.com", NULL, "label starts or ends with '-'" },
	{ "a-.example.com", NULL, "label starts or ends with '-'" },
	{ "example.com-", NULL, "label starts or ends with '-'" },
	{ "exa mple.com", NULL, "character not allowed in a name" },
	{ "*.example.com", NULL, "character not allowed in a name" },
	{ "bad!.example.com", NULL, "character not allowed in a name" },
	/* IDNA refuses what would not be a name anyway */
	{ "b\xc3\xbc" "cher!.example", NULL,
	    "not a valid internationalised name (IDNA)" },
	{ "a_b\xc3\xbc.example", "xn--a_b-joa.example", NULL },
	{ "192.0.2.1", NULL, "the last label is all digits" },
	{ "example.123", NULL, "the last label is all digits" },
	/* bad UTF-8: stray continuation, truncated, overlong, surrogate,
	   above U+10FFFF, a byte that never starts a sequence */
	{ "\x80" "a.example", NULL, "invalid UTF-8 in a name" },
	{ "a\xc3.example", NULL, "invalid UTF-8 in a name" },
	{ "a.example\xe4\xbe", NULL, "invalid UTF-8 in a name" },
	{ "\xc0\xaf" "a.example", NULL, "invalid UTF-8 in a name" },
	{ "\xe0\x80\xaf" "a.example", NULL, "invalid UTF-8 in a name" },
	{ "\xed\xa0\x80" "a.example", NULL, "invalid UTF-8 in a name" },
	{ "\xf4\x90\x80\x80" "a.example", NULL, "invalid UTF-8 in a name" },
	{ "\xff" "a.example", NULL, "invalid UTF-8 in a name" },
	/* valid UTF-8 that IDNA refuses: a leading combining mark, a zero
	   width joiner out of context, a disallowed code point */
	{ "\xcc\x88" "a.example", NULL,
	    "not a valid internationalised name (IDNA)" },
	{ "a\xe2\x80\x8d" "b.example", NULL,
	    "not a valid internationalised name (IDNA)" },
	{ "a\xe2\x80\xa8" "b.example", NULL,
	    "not a valid internationalised name (IDNA)" },
};

Test(lists, normalize_table)
{
	char out[256], again[256];
	const char *why;
	size_t i;
	int n;

	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];

		why = NULL;
		memset(out, 'Z', sizeof(out));
		n = lists_normalize(c->in, strlen(c->in), out, &why);
		if (c->out != NULL) {
			cr_expect_eq(n, (int)strlen(c->out), "#%zu %s: %d (%s)",
			    i, c->in, n, n < 0 && why ? why : "");
			if (n < 0)
				continue;
			cr_expect_str_eq(out, c->out, "#%zu %s", i, c->in);
			/* Normalising is idempotent. */
			cr_expect_eq(lists_normalize(out, (size_t)n, again,
			    &why), n);
			cr_expect_str_eq(again, out);
		} else {
			cr_expect_lt(n, 0, "#%zu %s: accepted as %s", i, c->in,
			    n >= 0 ? out : "");
			cr_expect(why != NULL && strcmp(why, c->reason) == 0,
			    "#%zu %s: reason %s, expected %s", i, c->in,
			    why != NULL ? why : "(null)", c->reason);
		}
	}
}

Test(lists, normalize_limits)
{
	char in[2000], out[256];
	const char *why = NULL;
	size_t i;

	/* A 63-byte label is fine, 64 is not. */
	memset(in, 'a', 63);
	memcpy(in + 63, ".test", 6);
	cr_expect_eq(lists_normalize(in, 68, out, &why), 68);
	memset(in, 'a', 64);
	memcpy(in + 64, ".test", 6);
	cr_expect_eq(lists_normalize(in, 69, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "label longer than 63 bytes");

	/* 253 bytes is fine (254 with the trailing dot), 254 is not. */
	memset(in, 'a', sizeof(in));
	in[63] = in[127] = in[191] = '.';
	cr_expect_eq(lists_normalize(in, 253, out, &why), 253);
	cr_expect_eq(strlen(out), 253);
	in[253] = '.';
	cr_expect_eq(lists_normalize(in, 254, out, &why), 253);
	in[253] = 'a';
	cr_expect_eq(lists_normalize(in, 254, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "name longer than 253 bytes");
	cr_expect_eq(lists_normalize(in, sizeof(in), out, &why), SG_ELIMIT);

	/* Bytes are read by length: a NUL is just a bad byte. */
	cr_expect_eq(lists_normalize("a\0b.example.com", 15, out, &why),
	    SG_EMALFORMED);
	cr_expect_str_eq(why, "character not allowed in a name");
	cr_expect_eq(lists_normalize("\xc3\xbc\0b.example.com", 16, out,
	    &why), SG_EMALFORMED);
	cr_expect_str_eq(why, "character not allowed in a name");
	cr_expect_eq(lists_normalize("example.comXX", 11, out, &why), 11);
	cr_expect_str_eq(out, "example.com");
	cr_expect_eq(lists_normalize("b\xc3\xbc" "cher.exampleXX", 15, out,
	    &why), 21);
	cr_expect_str_eq(out, "xn--bcher-kva.example");

	/* UTF-8 whose punycode label or name is too long. */
	for (i = 0; i < 40; i++)
		memcpy(in + 2 * i, "\xc3\xbc", 2);
	memcpy(in + 80, ".example", 8);
	cr_expect_eq(lists_normalize(in, 88, out, &why), 54);	/* 46 + 8 */
	for (i = 0; i < 60; i++)
		memcpy(in + 2 * i, "\xc3\xbc", 2);
	memcpy(in + 120, ".example", 8);
	why = NULL;
	cr_expect_eq(lists_normalize(in, 128, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "label longer than 63 bytes");
	for (i = 0; i < 1500; i++)
		memcpy(in + i, i % 40 == 39 ? "." : "a", 1);
	memcpy(in, "\xc3\xbc", 2);
	cr_expect_eq(lists_normalize(in, 1500, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "name longer than 253 bytes");
	cr_expect_eq(lists_normalize(in, 400, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "name longer than 253 bytes");
}

/* ---------------------------------------------------------------- hosts */

Test(lists, hosts_file_quirks)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "hosts.hosts", false, &st, &e, &g);
	/*
	 * 12 names ("ads.example.com" twice); "en" and "-bad.example.com"
	 * invalid; localhost x2, ip6-localhost, ip6-loopback, the bare IP
	 * 192.0.2.1, 0.0.0.0 and broadcasthost skipped.
	 */
	expect_stats(&st, 18, 12, 0, 2, 7);
	cr_assert_eq(e.n, 2);
	cr_expect_str_eq(e.file[0], DATA "hosts.hosts");
	expect_err(&e, 0, 10, "a single label, not a domain");
	expect_err(&e, 1, 16, "label starts or ends with '-'");
	expect_got(&g, "block ads.example.com", "block tracker.example.net",
	    "block tab.example.org", "block one.example.com",
	    "block two.example.com", "block three.example.com",
	    "block stray.example.com", "block upper.example.com",
	    "block zone.example.net", "block v6.example.net",
	    "block ads.example.com",
	    "block glued.example.comnext.example.com", NULL);
}

Test(lists, crlf_and_blank_first_lines)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "crlf.hosts", false, &st, &e, &g);
	expect_stats(&st, 8, 3, 0, 1, 0);
	cr_assert_eq(e.n, 1);
	expect_err(&e, 0, 7, "character not allowed in a name");
	expect_got(&g, "block crlf.example.com", "block crlf2.example.com",
	    "block crlf3.example.com", NULL);
}

Test(lists, addresses_and_local_names)
{
	static const char text[] =
	    "192.0.2.1\n"
	    "2001:db8::1\n"
	    "0.0.0.0\n"
	    "::\n"
	    "127.0.0.1 localhost.localdomain LOCALHOST local\n"
	    "ff02::1 ip6-allnodes\n"
	    "ff02::2 ip6-allrouters ip6-allhosts ip6-localnet\n"
	    "ff00::0 ip6-mcastprefix\n"
	    "0.0.0.0 localhost. 203.0.113.9 2001:db8::2\n"
	    "fe80::1%eth0 link.example.com\n"
	    "%eth0 x.example.com\n"		/* not an address */
	    "1.2.3 y.example.com\n"		/* not an address either */
	    "*.192.0.2.1\n"
	    "fe80::1%eth0\n";			/* a bare address too */
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 14, 3, 0, 2, 17);
	cr_assert_eq(e.n, 2);
	expect_err(&e, 0, 11, "character not allowed in a name");
	expect_err(&e, 1, 12, "the last label is all digits");
	expect_got(&g, "block link.example.com", "block x.example.com",
	    "block y.example.com", NULL);
}

Test(lists, comment_glued_to_a_name)
{
	static const char text[] = "0.0.0.0 a.example.com#comment\n"
	    "b.example.com#\n#c.example.com\n"
	    "0.0.0.0 d.example.com #[Wildcard DNS] e.example.com\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 4, 3, 0, 0, 0);
	expect_got(&g, "block a.example.com", "block b.example.com",
	    "block d.example.com", NULL);
}

/* ---------------------------------------------------------------- domains */

Test(lists, domains_file_quirks)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "plain.domains", false, &st, &e, &g);
	expect_stats(&st, 13, 7, 0, 3, 2);
	cr_assert_eq(e.n, 3);
	expect_err(&e, 0, 9, "empty label");
	expect_err(&e, 1, 10, "empty name");
	expect_err(&e, 2, 11, "not a name, nor a rule of a known list format");
	/* "*.wild.example.net" is the same rule as "wild.example.net". */
	expect_got(&g, "block example.com", "block wild.example.net",
	    "block sub.example.org", "block example.com",
	    "block padded.example.org", "block x.test",
	    "block under_score.example.net", NULL);
}

Test(lists, domains_idna_and_garbage)
{
	static const char text[] =
	    "B\xc3\x9c" "CHER.example\n"
	    "*.m\xc3\xbcnchen.example.\n"
	    "a\xc3.example\n"			/* 3 */
	    "a\xe2\x80\x8d" "b.example\n"	/* 4 */
	    "$0/\n"				/* 5 */
	    "ads.\n"				/* 6 */
	    "a.example^\n"			/* 7 */
	    "http://a.example/\n"		/* 8 */
	    "*a.example\n";			/* 9 */
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 9, 2, 0, 7, 0);
	expect_got(&g, "block xn--bcher-kva.example",
	    "block xn--mnchen-3ya.example", NULL);
	expect_err(&e, 0, 3, "invalid UTF-8 in a name");
	expect_err(&e, 1, 4, "not a valid internationalised name (IDNA)");
	expect_err(&e, 2, 5, "not a name, nor a rule of a known list format");
	expect_err(&e, 3, 6, "a single label, not a domain");
	expect_err(&e, 4, 7, "not a name, nor a rule of a known list format");
	expect_err(&e, 5, 8, "not a name, nor a rule of a known list format");
	expect_err(&e, 6, 9, "not a name, nor a rule of a known list format");
}

/* ---------------------------------------------------------------- adblock */

Test(lists, adblock_blocks_and_allows)
{
	static const char text[] =
	    "[Adblock Plus 2.0]\n"
	    "! Title: a list\n"
	    "||a.example^\n"
	    "@@||b.example^\n"
	    "||c.example^|\n"
	    "||*.d.example^\n"
	    "||e.example^$important\n"
	    "||f.example^$all,document,doc\n"
	    "@@||g.example^$important\n"
	    "||h.example\n"
	    "||I.Example.\n"
	    "||j.example.^\n"
	    "  ||k.example^  \t\n"
	    "||b\xc3\xbc" "cher.example^\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 14, 10, 2, 0, 0);
	expect_got(&g, "block a.example", "allow b.example", "block c.example",
	    "block d.example", "block e.example", "block f.example",
	    "allow g.example", "block h.example", "block i.example",
	    "block j.example", "block k.example", "block xn--bcher-kva.example",
	    NULL);
}

Test(lists, adblock_rules_a_dns_filter_cannot_honour)
{
	static const char text[] =
	    "||a.example/ads\n"
	    "||a.example^/ads\n"
	    "||a.example^*\n"
	    "||a.example|\n"
	    "||a.example:8080^\n"
	    "||ads*.example^\n"
	    "||*^\n"
	    "||a.example^$third-party\n"
	    "||a.example^$~third-party\n"
	    "||a.example^$3p\n"
	    "||a.example^$domain=b.example\n"
	    "||a.example^$script\n"
	    "||a.example^$image\n"
	    "||a.example^$popup\n"
	    "||a.example^$denyallow=b.example\n"
	    "||a.example^$badfilter\n"
	    "||a.example^$important,third-party\n"
	    "||a.example^$dnstype=AAAA\n"
	    "||a.example^$client=192.0.2.1\n"
	    "||a.example^$\n"
	    "||a.example^$Important\n"
	    "|http://a.example/\n"
	    "|a.example^\n"
	    "@@a.example\n"
	    "@@|a.example^\n"
	    "a.example##.ad\n"
	    "a.example#@#.ad\n"
	    "a.example#?#.ad:has(x)\n"
	    "a.example#$#body { x }\n"
	    "a.example#%#window.x=1\n"
	    "/banner[0-9]+/\n"
	    "/ads/\n"
	    "[$path=/x]a.example##.ad\n"
	    "||1.2.3.4^\n"
	    "||localhost^\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 35, 0, 0, 0, 35);
	expect_got(&g, NULL);
	cr_expect_eq(e.n, 0);
}

Test(lists, adblock_bad_names_are_invalid)
{
	static const char text[] =
	    "||-a.example^\n"
	    "@@||a-.example^\n"
	    "||\n"
	    "||^\n"
	    "||a..example^$important\n"
	    "||single^\n"
	    "||a b.example^\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 7, 0, 0, 7, 0);
	expect_err(&e, 0, 1, "label starts or ends with '-'");
	expect_err(&e, 1, 2, "label starts or ends with '-'");
	expect_err(&e, 2, 3, "empty name");
	expect_err(&e, 3, 4, "empty name");
	expect_err(&e, 4, 5, "empty label");
	expect_err(&e, 5, 6, "a single label, not a domain");
	expect_err(&e, 6, 7, "character not allowed in a name");
}

/*
 * Unanchored rules are skipped once the file has shown adblock syntax, and
 * invalid before: the same bytes, two verdicts.
 */
Test(lists, adblock_unanchored_rules_need_an_adblock_file)
{
	static const char text[] =
	    "ads.\n"			/* 1: invalid, no adblock yet */
	    "ads$script\n"		/* 2: invalid */
	    "! an adblock comment\n"
	    "ads.\n"			/* skipped */
	    "-ad-banner.\n"		/* skipped */
	    "ads$script\n"		/* skipped */
	    "a.example^\n"		/* skipped */
	    "plain.example\n"		/* a name, still */
	    "two.example ads.\n";	/* 9: two tokens: names, one bad */
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 9, 2, 0, 3, 4);
	expect_err(&e, 0, 1, "a single label, not a domain");
	expect_err(&e, 1, 2, "not a name, nor a rule of a known list format");
	expect_err(&e, 2, 9, "a single label, not a domain");
	expect_got(&g, "block plain.example", "block two.example", NULL);
}

/* ---------------------------------------------------------------- dnsmasq */

Test(lists, dnsmasq_rules)
{
	static const char text[] =
	    "address=/a.example/#\n"
	    "address=/b.example/0.0.0.0\n"
	    "address=/c.example/::\n"
	    "address=/d.example/127.0.0.1\n"
	    "address=/e.example/::1\n"
	    "address=/f.example/\n"
	    "address=/g.example/h.example/i.example/#\n"
	    "server=/j.example/\n"
	    "local=/k.example/\n"
	    "server=/l.example/m.example/\n"
	    "address=/*.n.example/#\n"
	    "address=/O.Example./#\n"
	    "address=/p.example/#   # comment\n"
	    "  address=/q.example/#\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 14, 17, 0, 0, 0);
	expect_got(&g, "block a.example", "block b.example", "block c.example",
	    "block d.example", "block e.example", "block f.example",
	    "block g.example", "block h.example", "block i.example",
	    "block j.example", "block k.example", "block l.example",
	    "block m.example", "block n.example", "block o.example",
	    "block p.example", "block q.example", NULL);
}

Test(lists, dnsmasq_not_blocks_and_bad_lines)
{
	static const char text[] =
	    "server=/a.example/192.0.2.53\n"		/* skipped */
	    "server=/a.example/#\n"			/* skipped */
	    "local=/a.example/192.0.2.53#5353\n"	/* skipped */
	    "server=192.0.2.53\n"			/* skipped */
	    "address=/a.example/192.0.2.1\n"		/* skipped */
	    "address=/#/0.0.0.0\n"			/* skipped */
	    "ipset=/a.example/set\n"			/* skipped */
	    "address=/a.example/nonsense\n"		/* 8 */
	    "address=a.example\n"			/* 9 */
	    "address=/a.example\n"			/* 10 */
	    "address=/a.example/# junk\n"		/* 11 */
	    "address=/-a.example/b.example//#\n"	/* 12 */
	    "$0/\n";					/* 13 */
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	/* line 12: one bad name, one good, one empty domain (skipped) */
	expect_stats(&st, 13, 1, 0, 6, 8);
	expect_err(&e, 0, 8, "dnsmasq address= with a value that is not an "
	    "address");
	expect_err(&e, 1, 9, "dnsmasq address= without /domain/");
	expect_err(&e, 2, 10, "dnsmasq rule without a closing '/'");
	expect_err(&e, 3, 11, "text after a dnsmasq rule");
	expect_err(&e, 4, 12, "label starts or ends with '-'");
	expect_err(&e, 5, 13, "not a name, nor a rule of a known list format");
	expect_got(&g, "block b.example", NULL);
}

/* ---------------------------------------------------------------- unbound */

Test(lists, unbound_local_zones)
{
	static const char text[] =
	    "server:\n"
	    "local-zone: \"a.example.\" always_null\n"
	    "local-zone: \"b.example.\" always_nxdomain\n"
	    "local-zone: \"c.example.\" always_refuse\n"
	    "local-zone: \"d.example.\" refuse\n"
	    "local-zone: \"e.example.\" deny\n"
	    "local-zone: \"f.example.\" static\n"
	    "local-zone: \"g.example.\" redirect\n"
	    "local-zone: h.example inform_deny\n"
	    "local-zone:\"i.example.\" static\n"
	    "\tlocal-zone: \"J.Example.\" static # comment\n"
	    "local-zone: \"k.example.\" transparent\n"
	    "local-zone: \"k.example.\" typetransparent\n"
	    "local-zone: \"k.example.\" always_transparent\n"
	    "local-zone: \"k.example.\" inform\n"
	    "local-data: \"g.example. A 0.0.0.0\"\n"
	    "local-data-ptr: \"192.0.2.1 g.example\"\n"
	    "forward-zone:\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 18, 10, 0, 0, 8);
	expect_got(&g, "block a.example", "block b.example", "block c.example",
	    "block d.example", "block e.example", "block f.example",
	    "block g.example", "block h.example", "block i.example",
	    "block j.example", NULL);
}

Test(lists, unbound_bad_lines)
{
	static const char text[] =
	    "local-zone: \"a.example.\" always_deny\n"
	    "local-zone: \"a.example. always_null\n"
	    "local-zone: \"a.example.\"\n"
	    "local-zone:\n"
	    "local-zone: \"-a.example.\" static\n"
	    "local-zone: \"a.example.\" static extra\n"
	    "local-zone: \".\" static\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 7, 0, 0, 7, 0);
	expect_err(&e, 0, 1, "unknown local-zone type");
	expect_err(&e, 1, 2, "local-zone name without its closing quote");
	expect_err(&e, 2, 3, "local-zone without a type");
	expect_err(&e, 3, 4, "local-zone without a name");
	expect_err(&e, 4, 5, "label starts or ends with '-'");
	expect_err(&e, 5, 6, "text after the local-zone type");
	expect_err(&e, 6, 7, "empty name");
}

/* ---------------------------------------------------------------- hashed */

Test(lists, confidential_list)
{
	char ha[65], hb[65], hc[65], text[1024], want[3][80];
	struct lists_stats st;
	struct errs e;
	struct got g;
	size_t i;
	int n;

	sha256_hex("a.example", ha);
	sha256_hex("b.example", hb);
	sha256_hex("xn--bcher-kva.example", hc);
	for (i = 0; i < 64; i++)
		if (hb[i] >= 'a' && hb[i] <= 'f')
			hb[i] -= 'a' - 'A';
	n = snprintf(text, sizeof(text),
	    "# a confidential list\n"
	    "sha256:%s\n"
	    "SHA256:%s   # a comment\n"
	    "! a comment\n"
	    "\n"
	    "sha256:%s\n"
	    "secret.example\n"			/* 7 */
	    "0.0.0.0 secret.example\n"		/* 8 */
	    "||secret.example^\n"		/* 9 */
	    "sha256:%.63s\n"			/* 10 */
	    "sha256:%.63sx\n"			/* 11 */
	    "sha256:%s0\n"			/* 12 */
	    "sha256:%s secret.example\n"	/* 13 */
	    "sha256:\n",			/* 14 */
	    ha, hb, hc, ha, ha, ha, ha);
	cr_assert_lt(n, (int)sizeof(text));
	read_buf(text, (size_t)n, true, &st, &e, &g);
	expect_stats(&st, 14, 3, 0, 8, 0);
	sha256_hex("a.example", ha);
	sha256_hex("b.example", hb);
	snprintf(want[0], sizeof(want[0]), "hash %s", ha);
	snprintf(want[1], sizeof(want[1]), "hash %s", hb);
	snprintf(want[2], sizeof(want[2]), "hash %s", hc);
	expect_got(&g, want[0], want[1], want[2], NULL);
	expect_err(&e, 0, 7, "a confidential list holds only sha256: entries");
	expect_err(&e, 1, 8, "a confidential list holds only sha256: entries");
	expect_err(&e, 2, 9, "a confidential list holds only sha256: entries");
	expect_err(&e, 3, 10, "a sha256: entry needs exactly 64 hex digits");
	expect_err(&e, 4, 11, "a sha256: entry needs exactly 64 hex digits");
	expect_err(&e, 5, 12, "a sha256: entry needs exactly 64 hex digits");
	expect_err(&e, 6, 13, "text after a sha256: entry");
	expect_err(&e, 7, 14, "a sha256: entry needs exactly 64 hex digits");
	/* No reason ever quotes what it refused. */
	for (i = 0; i < e.n; i++)
		cr_expect_null(strstr(e.reason[i], "secret"), "%s",
		    e.reason[i]);
}

Test(lists, hashes_need_a_confidential_list)
{
	char ha[65], text[256];
	struct lists_stats st;
	struct errs e;
	struct got g;
	int n;

	sha256_hex("a.example", ha);
	n = snprintf(text, sizeof(text), "sha256:%s\nok.example\n", ha);
	read_buf(text, (size_t)n, false, &st, &e, &g);
	expect_stats(&st, 2, 1, 0, 1, 0);
	expect_err(&e, 0, 1, "hashed entry in a list not marked confidential");
	expect_got(&g, "block ok.example", NULL);
}

/* ---------------------------------------------------------------- files */

Test(lists, mixed_formats_in_one_file)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "mixed.txt", false, &st, &e, &g);
	expect_stats(&st, 10, 8, 1, 0, 1);
	cr_expect_eq(e.n, 0);
	expect_got(&g, "block adblock.example.com", "allow allow.example.com",
	    "block dnsmasq.example.com", "block dnsmasq2.example.com",
	    "block unbound.example.com", "block ok.example.com",
	    "block hosts.example.com", "block wild.example.com",
	    "block bare.example.com", NULL);
}

Test(lists, empty_file)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "empty.domains", false, &st, &e, &g);
	expect_stats(&st, 0, 0, 0, 0, 0);
	cr_expect_eq(e.n, 0);
	expect_got(&g, NULL);
}

Test(lists, no_trailing_newline)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "no-newline.domains", false, &st, &e, &g);
	expect_stats(&st, 2, 2, 0, 0, 0);
	expect_got(&g, "block first.example.com", "block last.example.com",
	    NULL);
}

Test(lists, only_comments)
{
	struct lists_stats st;
	struct errs e;
	struct got g;

	read_one(DATA "comments.domains", false, &st, &e, &g);
	expect_stats(&st, 5, 0, 0, 0, 0);
	cr_expect_eq(e.n, 0);
}

Test(lists, missing_file)
{
	struct got g;
	struct lists_sink sink = { on_name, on_hash, &g };
	struct lists_stats st;

	memset(&st, 0, sizeof(st));
	cr_expect_eq(lists_read_file(DATA "no-such-file", false, &sink, &st,
	    NULL, NULL), -ENOENT);
	cr_expect_eq(lists_read_file(DATA, false, &sink, &st, NULL, NULL),
	    -EISDIR);
	expect_stats(&st, 0, 0, 0, 0, 0);
}

Test(lists, bad_arguments)
{
	struct got g;
	struct lists_sink sink = { on_name, on_hash, &g };
	struct lists_sink nohash = { on_name, NULL, &g };
	struct lists_sink noname = { NULL, on_hash, &g };

	memset(&g, 0, sizeof(g));
	cr_expect_eq(lists_read_buffer("x", "a.test\n", 7, false, NULL, NULL,
	    NULL, NULL), -EINVAL);
	cr_expect_eq(lists_read_buffer("x", "a.test\n", 7, false, &noname,
	    NULL, NULL, NULL), -EINVAL);
	cr_expect_eq(lists_read_buffer("x", "a.test\n", 7, true, &nohash,
	    NULL, NULL, NULL), -EINVAL);
	cr_expect_eq(lists_read_file(DATA "plain.domains", true, &nohash,
	    NULL, NULL, NULL), -EINVAL);
	/* No hash callback is fine for a list that cannot hold hashes. */
	cr_expect_eq(lists_read_buffer("x", "a.test\n", 7, false, &nohash,
	    NULL, NULL, NULL), 0);
	/* No stats and no callback are fine. */
	cr_expect_eq(lists_read_buffer(NULL, "a.test\nbad\n", 11, false,
	    &sink, NULL, NULL, NULL), 0);
	cr_expect_eq(lists_read_buffer("x", NULL, 0, false, &sink, NULL, NULL,
	    NULL), 0);
	cr_expect_eq(g.total, 2);
}

/* A sink's error stops the read there and is returned. */
Test(lists, sink_errors_stop_the_read)
{
	static const char text[] = "a.example\nb.example\nc.example\n"
	    "d.example\n";
	struct lists_sink sink;
	struct lists_stats st;
	struct got g;

	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	g.fail_after = 2;
	g.fail_with = SG_ELIMIT;
	sink = (struct lists_sink){ on_name, on_hash, &g };
	cr_expect_eq(lists_read_buffer("x", text, sizeof(text) - 1, false,
	    &sink, &st, NULL, NULL), SG_ELIMIT);
	expect_stats(&st, 3, 2, 0, 0, 0);
	expect_got(&g, "block a.example", "block b.example", NULL);

	/* The same for hashes. */
	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	g.fail_after = 1;
	g.fail_with = -ENOMEM;
	cr_expect_eq(lists_read_buffer("x", "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000\n"
	    "sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\n",
	    2 * 72, true, &sink, &st, NULL, NULL), -ENOMEM);
	expect_stats(&st, 2, 1, 0, 0, 0);
}

/* Counts add up across files. */
Test(lists, stats_add_up)
{
	struct got g;
	struct lists_sink sink = { on_name, on_hash, &g };
	struct lists_stats st;

	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	cr_assert_eq(lists_read_file(DATA "plain.domains", false, &sink, &st,
	    NULL, NULL), 0);
	cr_assert_eq(lists_read_file(DATA "hosts.hosts", false, &sink, &st,
	    NULL, NULL), 0);
	expect_stats(&st, 13 + 18, 7 + 12, 0, 3 + 2, 2 + 7);
}

/* ---------------------------------------------------------------- buffers */

Test(lists, line_numbers_count_every_line)
{
	static const char text[] =
	    "\n"
	    "\r\n"
	    "# comment\r\n"
	    "bad\r\n"			/* 4 */
	    "   \t \r\n"
	    "ok.example.com\r\n"
	    "\n"
	    "0.0.0.0 a.example.com b c.example.com\n"	/* 8 */
	    "also bad\n";		/* 9: two tokens, two errors */
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 9, 3, 0, 4, 0);
	cr_assert_eq(e.n, 4);
	cr_expect_str_eq(e.file[0], "buf");
	expect_err(&e, 0, 4, "a single label, not a domain");
	expect_err(&e, 1, 8, "a single label, not a domain");
	expect_err(&e, 2, 9, "a single label, not a domain");
	expect_err(&e, 3, 9, "a single label, not a domain");
	expect_got(&g, "block ok.example.com", "block a.example.com",
	    "block c.example.com", NULL);
}

Test(lists, nul_bytes_in_a_line)
{
	static const char text[] =
	    "a\0b.example.com\n"
	    "0.0.0.0 x.example.com\0 y.example.com\n"
	    "\0\n"
	    "ok.example.com # \0 in a comment\n"
	    "||n\0.example^\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	READ(text, &st, &e, &g);
	expect_stats(&st, 5, 2, 0, 4, 0);
	cr_assert_eq(e.n, 4);
	expect_err(&e, 0, 1, "character not allowed in a name");
	expect_err(&e, 1, 2, "character not allowed in a name");
	expect_err(&e, 2, 3, "character not allowed in a name");
	expect_err(&e, 3, 5, "character not allowed in a name");
	expect_got(&g, "block y.example.com", "block ok.example.com", NULL);
}

Test(lists, byte_order_mark)
{
	static const char text[] = "\xef\xbb\xbf" "bom.example.com\n"
	    "\xef\xbb\xbf" "#not a comment.example.com\n";
	struct lists_stats st;
	struct errs e;
	struct got g;

	/*
	 * Only a mark at the very start is skipped as one; later, U+FEFF is
	 * in a name, where IDNA drops it (UTS #46 maps it to nothing), so
	 * the second line is a name and a comment.
	 */
	READ(text, &st, &e, &g);
	expect_stats(&st, 2, 1, 0, 1, 0);
	expect_got(&g, "block bom.example.com", NULL);
	expect_err(&e, 0, 2, "empty name");

	/* A mark alone is no line (found by fuzz_lists). */
	READ("\xef\xbb\xbf", &st, &e, &g);
	expect_stats(&st, 0, 0, 0, 0, 0);
	READ("\xef\xbb\xbf\n", &st, &e, &g);
	expect_stats(&st, 1, 0, 0, 0, 0);
}

/* A 10 MB line: one token, then one made of many names. */
Test(lists, ten_megabyte_lines)
{
	const size_t big = 10 << 20;
	struct lists_stats st;
	struct errs e;
	struct got g;
	char *buf = malloc(2 * big + 64), *p;
	size_t n, names = 0;

	cr_assert_not_null(buf);
	memset(buf, 'a', big);
	p = buf + big;
	p += sprintf(p, "\nafter.example.com\n");
	/* "n123.example.com " repeated to 10 MB on one line. */
	for (n = 0; (size_t)(p - buf) < 2 * big; n++) {
		p += sprintf(p, "n%zu.example.com ", n);
		names++;
	}
	*p++ = '\n';
	p += sprintf(p, "last.example.com");
	read_buf(buf, (size_t)(p - buf), false, &st, &e, &g);
	expect_stats(&st, 4, 2 + names, 0, 1, 0);
	expect_err(&e, 0, 1, "name longer than 253 bytes");
	cr_expect_str_eq(g.e[0], "block after.example.com");
	cr_expect_str_eq(g.e[1], "block n0.example.com");
	free(buf);
}

/* The same, from a file, through the file reader. */
Test(lists, ten_megabyte_line_file)
{
	const size_t big = 10 << 20;
	char path[] = "/tmp/test_lists.XXXXXX", *buf;
	struct lists_stats st;
	struct errs e;
	struct got g;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	buf = malloc(big);
	cr_assert_not_null(buf);
	memset(buf, 'x', big);
	cr_assert_eq(write(fd, buf, big), (ssize_t)big);
	cr_assert_eq(write(fd, "\nz.example.com\n", 15), 15);
	close(fd);
	read_one(path, false, &st, &e, &g);
	unlink(path);
	expect_stats(&st, 2, 1, 0, 1, 0);
	expect_err(&e, 0, 1, "name longer than 253 bytes");
	cr_expect_str_eq(e.file[0], path);
	expect_got(&g, "block z.example.com", NULL);
	free(buf);
}

/* A pipe has no size to trust: the reader must read to EOF. */
Test(lists, reads_a_pipe)
{
	char path[64];
	struct lists_stats st;
	struct errs e;
	struct got g;
	int fds[2], status;
	pid_t pid;
	size_t i;

	cr_assert_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		FILE *f = fdopen(fds[1], "w");

		close(fds[0]);
		for (i = 0; i < 20000; i++)
			fprintf(f, "0.0.0.0 p%zu.example.com\n", i);
		fclose(f);
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	read_one(path, false, &st, &e, &g);
	close(fds[0]);
	waitpid(pid, &status, 0);
	expect_stats(&st, 20000, 20000, 0, 0, 0);
	cr_expect_eq(g.total, 20000);
}

/* The bundled lists read cleanly. */
Test(lists, bundled_lists)
{
	static const char *const files[] = {
		"blocklists/adult.domains", "blocklists/gambling.domains",
		"blocklists/seed/adult.domains",
		"blocklists/seed/bypass-canaries.domains",
	};
	struct lists_stats st;
	struct errs e;
	struct got g;
	size_t i, read = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK) != 0)
			continue;
		read_one(files[i], false, &st, &e, &g);
		cr_expect_eq(st.invalid, 0, "%s", files[i]);
		cr_expect_gt(st.entries, 0, "%s", files[i]);
		read++;
	}
	cr_expect_gt(read, 0, "no bundled list found");
}

/* ------------------------------------------------------------- real lists */

/*
 * The real lists of SHARED/lists/formats (the repository's ../shared, or
 * $SHARED).  Their MANIFEST.md gives each file's lines and the distinct
 * names its generator parsed, with the same normalisation; the reader must
 * find the same, and each list in several formats must give one set.
 */
struct bag {
	char	**names;
	size_t	  n, cap;
	size_t	  allows;
};

static int
bag_name(void *arg, const char *name, size_t len, bool allow)
{
	struct bag *b = arg;
	char **nn;

	if (allow) {
		b->allows++;
		return 0;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		nn = realloc(b->names, b->cap * sizeof(*nn));
		cr_assert_not_null(nn);
		b->names = nn;
	}
	b->names[b->n] = strndup(name, len);
	cr_assert_not_null(b->names[b->n]);
	b->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and removes duplicates. */
static void
bag_distinct(struct bag *b)
{
	size_t i, j = 0;

	if (b->n == 0)
		return;
	qsort(b->names, b->n, sizeof(*b->names), cmp_str);
	for (i = 1; i < b->n; i++) {
		if (strcmp(b->names[i], b->names[j]) == 0)
			free(b->names[i]);
		else
			b->names[++j] = b->names[i];
	}
	b->n = j + 1;
}

static bool
bag_has(const struct bag *b, const char *name)
{
	return bsearch(&name, b->names, b->n, sizeof(*b->names),
	    cmp_str) != NULL;
}

static void
bag_free(struct bag *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->names[i]);
	free(b->names);
	memset(b, 0, sizeof(*b));
}

static const char *
formats_dir(void)
{
	static char dir[512];
	const char *shared = getenv("SHARED");
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/lists/formats",
	    shared != NULL && *shared != '\0' ? shared : "../shared");
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return NULL;
	return dir;
}

/* Reads dir/file into b (distinct names).  Returns its stats. */
static struct lists_stats
read_real(const char *dir, const char *file, struct bag *b, struct errs *e)
{
	struct lists_sink sink = { bag_name, NULL, b };
	struct lists_stats st;
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	memset(&st, 0, sizeof(st));
	memset(b, 0, sizeof(*b));
	memset(e, 0, sizeof(*e));
	cr_assert_eq(lists_read_file(path, false, &sink, &st, collect, e), 0,
	    "%s", path);
	bag_distinct(b);
	return st;
}

static const struct real_case {
	const char	*file;
	size_t		 lines;		/* MANIFEST: lines */
	size_t		 distinct;	/* MANIFEST: distinct domains parsed */
	size_t		 invalid;	/* MANIFEST: dropped, "invalid"/"other" */
	size_t		 skipped;	/* MANIFEST: dropped "ip", or server: */
} real_cases[] = {
	{ "blocklistproject-tiktok.hosts", 3738, 3725, 0, 0 },
	{ "blocklistproject-tiktok.domains", 3738, 3725, 0, 0 },
	{ "blocklistproject-tiktok.adblock", 3738, 3725, 0, 0 },
	{ "blocklistproject-tiktok.dnsmasq", 3738, 3725, 0, 0 },
	{ "blocklistproject-gambling.hosts", 2514, 2499, 0, 0 },
	{ "blocklistproject-porn-alpha.adblock", 9, 9, 0, 0 },
	{ "blocklistproject-abuse-2020.hosts", 1238, 1220, 0, 0 },
	{ "blocklistproject-gambling-2020.hosts", 58616, 58599, 0, 0 },
	{ "blocklistproject-phishing-2021-broken.dnsmasq", 189991, 0, 189991,
	    0 },
	{ "hagezi-light.adblock", 122690, 122680, 0, 0 },
	{ "hagezi-light.wildcard", 122690, 122680, 0, 0 },
	{ "hagezi-personal.dnsmasq", 9681, 9671, 0, 0 },
	{ "hagezi-fake.unbound", 7366, 7355, 0, 1 },
	{ "hagezi-doh-vpn-proxy-bypass.domains", 1216, 1205, 0, 0 },
	{ "hagezi-doh-vpn-proxy-bypass.hosts", 1216, 1205, 0, 0 },
	{ "hagezi-doh-vpn-proxy-bypass.adblock", 725, 714, 0, 0 },
	{ "hagezi-doh-vpn-proxy-bypass.dnsmasq", 725, 714, 0, 0 },
	{ "hagezi-doh-vpn-proxy-bypass.wildcard", 725, 714, 0, 0 },
	{ "hagezi-doh-vpn-proxy-bypass.unbound", 726, 714, 0, 1 },
	{ "sinfonietta-pornography.hosts", 61188, 61157, 1, 5 },
	{ "sinfonietta-social.hosts", 3290, 3244, 1, 0 },
	{ "ut1-gambling.domains", 32247, 32233, 0, 14 },
	{ "ut1-doh.domains", 3015, 2996, 0, 19 },
	{ "ut1-chat.domains", 268, 195, 0, 73 },
	{ "ut1-vpn.domains", 6039, 6039, 0, 0 },
};

Test(lists_real, manifest_counts)
{
	const char *dir = formats_dir();
	struct lists_stats st;
	struct errs e;
	struct bag b;
	size_t i;

	if (dir == NULL)
		cr_skip_test("../shared/lists/formats not found (set SHARED)");
	for (i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++) {
		const struct real_case *c = &real_cases[i];

		st = read_real(dir, c->file, &b, &e);
		cr_expect_eq(st.lines, c->lines, "%s: lines %zu", c->file,
		    st.lines);
		cr_expect_eq(b.n, c->distinct, "%s: distinct %zu", c->file,
		    b.n);
		cr_expect_eq(st.invalid, c->invalid, "%s: invalid %zu",
		    c->file, st.invalid);
		cr_expect_eq(st.skipped, c->skipped, "%s: skipped %zu",
		    c->file, st.skipped);
		cr_expect_eq(st.allows, 0, "%s", c->file);
		bag_free(&b);
	}
}

/* One list in several formats is one set of names. */
static void
same_set(const char *dir, const char *const *files, size_t n)
{
	struct bag first, b;
	struct errs e;
	size_t i, j;

	(void)read_real(dir, files[0], &first, &e);
	cr_assert_gt(first.n, 0);
	for (i = 1; i < n; i++) {
		(void)read_real(dir, files[i], &b, &e);
		cr_expect_eq(b.n, first.n, "%s: %zu names, %s: %zu", files[i],
		    b.n, files[0], first.n);
		for (j = 0; j < b.n && j < first.n; j++)
			if (strcmp(b.names[j], first.names[j]) != 0) {
				cr_expect_fail("%s and %s differ at %s / %s",
				    files[0], files[i], first.names[j],
				    b.names[j]);
				break;
			}
		bag_free(&b);
	}
	bag_free(&first);
}

Test(lists_real, one_list_in_every_format)
{
	static const char *const tiktok[] = {
		"blocklistproject-tiktok.hosts",
		"blocklistproject-tiktok.domains",
		"blocklistproject-tiktok.adblock",
		"blocklistproject-tiktok.dnsmasq",
	};
	static const char *const bypass[] = {
		"hagezi-doh-vpn-proxy-bypass.adblock",
		"hagezi-doh-vpn-proxy-bypass.dnsmasq",
		"hagezi-doh-vpn-proxy-bypass.wildcard",
		"hagezi-doh-vpn-proxy-bypass.unbound",
	};
	static const char *const bypass_full[] = {
		"hagezi-doh-vpn-proxy-bypass.domains",
		"hagezi-doh-vpn-proxy-bypass.hosts",
	};
	static const char *const light[] = {
		"hagezi-light.adblock", "hagezi-light.wildcard",
	};
	const char *dir = formats_dir();

	if (dir == NULL)
		cr_skip_test("../shared/lists/formats not found (set SHARED)");
	same_set(dir, tiktok, 4);
	same_set(dir, bypass, 4);
	same_set(dir, bypass_full, 2);
	same_set(dir, light, 2);
}

Test(lists_real, quirks_of_real_hosts_files)
{
	const char *dir = formats_dir();
	struct lists_stats st;
	struct errs e;
	struct bag b;

	if (dir == NULL)
		cr_skip_test("../shared/lists/formats not found (set SHARED)");

	/* Sinfonietta: bare IPs as names, a stray token, glued names. */
	st = read_real(dir, "sinfonietta-pornography.hosts", &b, &e);
	cr_expect_eq(st.skipped, 5);
	cr_assert_eq(e.n, 1);
	expect_err(&e, 0, 60925, "a single label, not a domain");
	cr_expect(bag_has(&b, "xxxhindi.to"));
	cr_expect(!bag_has(&b, "en"));
	cr_expect(!bag_has(&b, "85.17.187.83"));
	cr_expect(bag_has(&b, "rahaporn.commanhwax.top"));
	cr_expect(bag_has(&b, "www.rahaporn.com"));
	bag_free(&b);

	/* Sinfonietta social: 127.0.0.1 lines, one invalid name. */
	st = read_real(dir, "sinfonietta-social.hosts", &b, &e);
	cr_assert_eq(e.n, 1);
	expect_err(&e, 0, 3228, "a single label, not a domain");
	cr_expect(bag_has(&b, "0-act.channel.facebook.com"));
	bag_free(&b);

	/* BLP 2020: tab-separated, inline "#[Wildcard DNS]" comments. */
	st = read_real(dir, "blocklistproject-gambling-2020.hosts", &b, &e);
	cr_expect(bag_has(&b, "___id___.c.mystat-in.net"));
	cr_expect(bag_has(&b, "0.0.0.0.beeglivesex.com"));
	bag_free(&b);
	st = read_real(dir, "blocklistproject-abuse-2020.hosts", &b, &e);
	cr_expect(bag_has(&b, "3.zhzy999.net3.zhzy999.net"));
	bag_free(&b);

	/* The broken dnsmasq build: every line reported, with a reason. */
	st = read_real(dir, "blocklistproject-phishing-2021-broken.dnsmasq",
	    &b, &e);
	cr_expect_eq(b.n, 0);
	expect_err(&e, 0, 1, "not a name, nor a rule of a known list format");
	expect_err(&e, 1, 2, "not a name, nor a rule of a known list format");
	bag_free(&b);
}
