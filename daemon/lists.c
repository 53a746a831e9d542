/*
 * lists.c - reading block-list files, in every format real lists come in,
 * into a lists_sink.  See lists.h for the syntax accepted.
 *
 * A file is read into memory whole (one buffer, no per-line I/O) and walked
 * with the cursor, line by line.  Each line is told apart on its own, by its
 * first bytes and its first word, in this order:
 *
 *	blank, '#'               nothing (a comment)
 *	'!'                      an adblock comment
 *	confidential list        "sha256:HEX", or an invalid line
 *	"[...]", "[$...]..."     an adblock header, or a modifier rule
 *	'|', "@@"                an adblock network rule
 *	'/'                      an adblock regex or path rule
 *	"sha256:"                invalid here (not a confidential list)
 *	address name...          hosts (before "word:": "fe80::1" is one)
 *	"address=" "server=" "local=", other "word="     dnsmasq
 *	"local-zone:", other "word:"                     unbound
 *	name...                  domains (and unanchored adblock rules)
 *
 * Adblock rules without an anchor ("ads.", "example.com^", "ads$script")
 * cannot be told from garbage by their bytes alone, so the reader remembers
 * whether the file has shown adblock syntax before: after an adblock line a
 * line that is not a name is skipped as a rule a DNS filter cannot honour;
 * before one, it is invalid (that is how the broken dnsmasq list full of
 * "$0/" lines gets reported rather than silently skipped).
 *
 * Every name, whatever its format, goes through give_name(): "*." is
 * stripped, addresses and the machine's own names are skipped, the rest is
 * normalised and handed to the sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cursor.h"
#include "lists.h"

#define LISTS_NAME_MAX	253		/* text bytes, no trailing dot */
#define LISTS_LABEL_MAX	63
#define LISTS_UTF8_MAX	1024		/* UTF-8 bytes given to IDNA */
#define LISTS_FILE_MAX	((size_t)1 << 30)	/* larger is not a list */
#define LISTS_READ_MIN	((size_t)64 << 10)
#define ADDR_TOKEN_MAX	63		/* longest address token we try */
#define HASH_PREFIX	"sha256:"
#define HASH_HEX_LEN	(2 * LISTS_SHA256_LEN)
/* Bytes of adblock, dnsmasq or URL syntax: a token with one is no name. */
#define OTHER_SYNTAX	"$^|/=*:@,[]~?&"

struct reader {
	const char		*label;
	size_t			 lineno;
	bool			 confidential;
	bool			 adblock;	/* adblock syntax seen in the file */
	const struct lists_sink	*sink;
	struct lists_stats	*st;
	lists_error_fn		*err;
	void			*arg;
};

/* A run of bytes inside the line being read. */
struct span {
	const char	*p;
	size_t		 len;
};

/* Names hosts files carry for the machine itself, not for blocking. */
#define LOCAL(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} local_names[] = {
	LOCAL("localhost"), LOCAL("localhost.localdomain"), LOCAL("local"),
	LOCAL("broadcasthost"), LOCAL("ip6-localhost"), LOCAL("ip6-loopback"),
	LOCAL("ip6-localnet"), LOCAL("ip6-mcastprefix"), LOCAL("ip6-allnodes"),
	LOCAL("ip6-allrouters"), LOCAL("ip6-allhosts"), LOCAL("0.0.0.0"),
};
#undef LOCAL

/* $options of an adblock rule that change nothing for a DNS block. */
static const char *const adblock_harmless[] = {
	"important", "all", "document", "doc",
};

/* unbound local-zone types: the ones that block, the ones that do not. */
static const char *const zone_blocks[] = {
	"deny", "refuse", "static", "redirect", "always_refuse",
	"always_nxdomain", "always_null", "inform_deny", "inform_redirect",
};
static const char *const zone_passes[] = {
	"transparent", "typetransparent", "always_transparent", "inform",
	"block_a", "noview", "nodefault",
};

/* ---------------------------------------------------------------- names */

static inline bool
name_byte_ok(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '_';
}

/* The checks of lists_normalize() on ASCII: see lists.h. */
static int
normalize_ascii(const char *in, size_t len, char *out, const char **reason)
{
	struct cursor c;
	size_t n = 0, label = 0, labels = 0;
	bool digits = true;
	uint8_t ch, prev = 0;

	/* One trailing dot is the root label, written out. */
	if (len > 0) {
		cursor_init(&c, in, len);
		cursor_seek(&c, len - 1);
		if (cursor_u8(&c) == '.')
			len--;
	}
	if (len == 0) {
		*reason = "empty name";
		return SG_EMALFORMED;
	}
	if (len > LISTS_NAME_MAX) {
		*reason = "name longer than 253 bytes";
		return SG_ELIMIT;
	}
	cursor_init(&c, in, len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch == '.') {
			if (label == 0) {
				*reason = "empty label";
				return SG_EMALFORMED;
			}
			if (prev == '-') {
				*reason = "label starts or ends with '-'";
				return SG_EMALFORMED;
			}
			labels++;
			label = 0;
			digits = true;
			out[n++] = '.';
			prev = ch;
			continue;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (!name_byte_ok(ch)) {
			*reason = "character not allowed in a name";
			return SG_EMALFORMED;
		}
		if (label == 0 && ch == '-') {
			*reason = "label starts or ends with '-'";
			return SG_EMALFORMED;
		}
		if (++label > LISTS_LABEL_MAX) {
			*reason = "label longer than 63 bytes";
			return SG_ELIMIT;
		}
		if (ch < '0' || ch > '9')
			digits = false;
		out[n++] = (char)ch;
		prev = ch;
	}
	if (label == 0) {
		*reason = "empty label";
		return SG_EMALFORMED;
	}
	if (prev == '-') {
		*reason = "label starts or ends with '-'";
		return SG_EMALFORMED;
	}
	labels++;
	if (labels < 2) {
		*reason = "a single label, not a domain";
		return SG_EMALFORMED;
	}
	if (digits) {
		*reason = "the last label is all digits";
		return SG_EMALFORMED;
	}
	out[n] = '\0';
	return (int)n;
}

/*
 * True if the bytes are well-formed UTF-8: no stray continuation bytes, no
 * truncated or overlong sequences, no surrogates, nothing above U+10FFFF.
 * libidn2 checks too, but its error would not say which rule was broken.
 */
static bool
utf8_valid(const char *s, size_t len)
{
	struct cursor c;
	uint32_t cp, min;
	uint8_t ch;
	int more;

	cursor_init(&c, s, len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch < 0x80)
			continue;
		if (ch >= 0xc2 && ch <= 0xdf) {
			cp = ch & 0x1f;
			more = 1;
			min = 0x80;
		} else if (ch >= 0xe0 && ch <= 0xef) {
			cp = ch & 0x0f;
			more = 2;
			min = 0x800;
		} else if (ch >= 0xf0 && ch <= 0xf4) {
			cp = ch & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return false;
		while (more-- > 0) {
			if (cursor_left(&c) == 0)
				return false;
			ch = cursor_u8(&c);
			if ((ch & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (ch & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/* UTF-8 to punycode with libidn2, then the ASCII checks. */
static int
normalize_idna(const char *in, size_t len, char *out, const char **reason)
{
	char buf[LISTS_UTF8_MAX + 1];
	char *ascii = NULL;
	struct cursor c;
	int rc;

	cursor_init(&c, in, len);
	cursor_seek(&c, len - 1);
	if (cursor_u8(&c) == '.')
		len--;
	if (len > LISTS_UTF8_MAX) {
		*reason = "name longer than 253 bytes";
		return SG_ELIMIT;
	}
	if (memchr(in, '\0', len) != NULL) {
		*reason = "character not allowed in a name";
		return SG_EMALFORMED;
	}
	if (!utf8_valid(in, len)) {
		*reason = "invalid UTF-8 in a name";
		return SG_EMALFORMED;
	}
	cursor_init(&c, in, len);
	cursor_copy(&c, buf, len);
	buf[len] = '\0';
	rc = idn2_to_ascii_8z(buf, &ascii,
	    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	switch (rc) {
	case IDN2_OK:
		break;
	case IDN2_MALLOC:
		*reason = "out of memory";
		return -ENOMEM;
	case IDN2_TOO_BIG_DOMAIN:
		*reason = "name longer than 253 bytes";
		return SG_ELIMIT;
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT:	/* what a long label gives */
		*reason = "label longer than 63 bytes";
		return SG_ELIMIT;
	case IDN2_ENCODING_ERROR:
		*reason = "invalid UTF-8 in a name";
		return SG_EMALFORMED;
	default:
		*reason = "not a valid internationalised name (IDNA)";
		return SG_EMALFORMED;
	}
	rc = normalize_ascii(ascii, strlen(ascii), out, reason);
	idn2_free(ascii);
	return rc;
}

int
lists_normalize(const char *in, size_t len, char *out, const char **reason)
{
	struct cursor c;

	cursor_init(&c, in, len);
	while (cursor_left(&c) > 0)
		if (cursor_u8(&c) >= 0x80)
			return normalize_idna(in, len, out, reason);
	return normalize_ascii(in, len, out, reason);
}

/* ---------------------------------------------------------------- bytes */

static bool
has_prefix(struct span s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && memcmp(s.p, prefix, n) == 0;
}

static bool
span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

static bool
in_table(struct span s, const char *const *table, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (span_is(s, table[i]))
			return true;
	return false;
}

static struct span
span_skip(struct span s, size_t n)
{
	struct span r = { s.p + n, s.len - n };

	return r;
}

/* The span's last byte, or 0 if it is empty. */
static uint8_t
last_byte(struct span s)
{
	struct cursor c;

	if (s.len == 0)
		return 0;
	cursor_init(&c, s.p, s.len);
	cursor_seek(&c, s.len - 1);
	return cursor_u8(&c);
}

/* Is ch one of the bytes of set?  (NUL never is.) */
static bool
byte_in(uint8_t ch, const char *set)
{
	return ch != '\0' && strchr(set, ch) != NULL;
}

/* The length of s up to its first byte from set (all of it if none). */
static size_t
span_until(struct span s, const char *set)
{
	struct cursor c;

	cursor_init(&c, s.p, s.len);
	while (cursor_left(&c) > 0 && !byte_in(cursor_peek_u8(&c), set))
		cursor_skip(&c, 1);
	return (size_t)(cursor_here(&c) - (const uint8_t *)s.p);
}

/* Does s contain a byte from set? */
static bool
has_any(struct span s, const char *set)
{
	return span_until(s, set) < s.len;
}

/*
 * True if the span is a word of an option name and then `end`:
 * [a-z][a-z0-9-]* followed by '=' (dnsmasq) or ':' (unbound).  After ':'
 * the word must end or a quote follow, so "http://..." is no keyword.
 * *klen gets the length before `end`.
 */
static bool
is_keyword(struct span s, char end, size_t *klen)
{
	struct cursor c;
	uint8_t ch;
	size_t n = 0;

	cursor_init(&c, s.p, s.len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch == (uint8_t)end && n > 0) {
			if (end == ':' && cursor_left(&c) > 0 &&
			    cursor_peek_u8(&c) != '"')
				return false;
			*klen = n;
			return true;
		}
		if (!((ch >= 'a' && ch <= 'z') ||
		    (n > 0 && ((ch >= '0' && ch <= '9') || ch == '-'))))
			return false;
		n++;
	}
	return false;
}

/*
 * True if the token is an IPv4 or IPv6 literal (an IPv6 zone, "%eth0", is
 * allowed).  Only tokens made of address characters reach inet_pton, so
 * names cost a scan, not a parse.  The address goes to *a if not NULL.
 */
static bool
parse_address(struct span s, struct sg_addr *a)
{
	struct cursor c;
	struct sg_addr dummy;
	char buf[ADDR_TOKEN_MAX + 1];
	size_t n = 0;
	bool colon = false, hex = false;
	uint8_t ch;

	if (s.len == 0 || s.len > ADDR_TOKEN_MAX)
		return false;
	cursor_init(&c, s.p, s.len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch == '%' && colon && n > 0)
			break;	/* the zone is not part of the address */
		if (ch == ':')
			colon = true;
		else if ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
			hex = true;
		else if ((ch < '0' || ch > '9') && ch != '.')
			return false;
		buf[n++] = (char)ch;
	}
	if (hex && !colon)
		return false;
	buf[n] = '\0';
	return addr_parse(a != NULL ? a : &dummy, buf) == 0;
}

static bool
is_address(struct span s)
{
	return parse_address(s, NULL);
}

/* 0.0.0.0, ::, 127.x.x.x, ::1: where hosts files and dnsmasq sinkhole. */
static bool
is_sinkhole(const struct sg_addr *a)
{
	static const uint8_t zero[16], one[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return memcmp(a->u.b, zero, 4) == 0 || a->u.b[0] == 127;
	return memcmp(a->u.b, zero, 16) == 0 || memcmp(a->u.b, one, 16) == 0;
}

static bool
is_local_name(struct span s)
{
	size_t i, len = s.len;

	if (last_byte(s) == '.')
		len--;
	for (i = 0; i < sizeof(local_names) / sizeof(local_names[0]); i++)
		if (local_names[i].len == len &&
		    strncasecmp(s.p, local_names[i].name, len) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- lines */

static inline bool
is_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	    ch == '\f';
}

static void
skip_blanks(struct cursor *c)
{
	while (cursor_left(c) > 0 && is_blank(cursor_peek_u8(c)))
		cursor_skip(c, 1);
}

/*
 * The line's next token, or false at its end (or at a '#' when hash is
 * set: then '#' also ends a token, so a comment may be glued to a name).
 */
static bool
next_token(struct cursor *c, bool hash, struct span *t)
{
	const uint8_t *start;
	uint8_t ch;

	skip_blanks(c);
	if (cursor_left(c) == 0 || (hash && cursor_peek_u8(c) == '#'))
		return false;
	start = cursor_here(c);
	while (cursor_left(c) > 0) {
		ch = cursor_peek_u8(c);
		if (is_blank(ch) || (hash && ch == '#'))
			break;
		cursor_skip(c, 1);
	}
	t->p = (const char *)start;
	t->len = (size_t)(cursor_here(c) - start);
	return true;
}

/* True if only blanks, or blanks and a '#' comment, are left. */
static bool
at_end(struct cursor *c)
{
	skip_blanks(c);
	return cursor_left(c) == 0 || cursor_peek_u8(c) == '#';
}

static void
report(struct reader *r, const char *reason)
{
	r->st->invalid++;
	if (r->err != NULL)
		r->err(r->arg, r->label, r->lineno, reason);
}

static void
skip(struct reader *r)
{
	r->st->skipped++;
}

/*
 * One name of any format to the sink.  "*.a.example" is the same rule as
 * "a.example".  With `lenient`, a name that does not normalise is skipped
 * instead of reported (an unanchored adblock rule such as "ads.").
 */
static int
give_name(struct reader *r, struct span s, bool allow, bool lenient)
{
	char name[LISTS_NAME_MAX + 2];
	const char *why = "bad name";
	int n, rc;

	if (has_prefix(s, "*."))
		s = span_skip(s, 2);
	if (is_address(s) || is_local_name(s)) {
		skip(r);
		return 0;
	}
	if ((n = lists_normalize(s.p, s.len, name, &why)) < 0) {
		if (n == -ENOMEM)
			return n;
		if (lenient)
			skip(r);
		else
			report(r, why);
		return 0;
	}
	if ((rc = r->sink->name(r->sink->arg, name, (size_t)n, allow)) < 0)
		return rc;
	if (allow)
		r->st->allows++;
	else
		r->st->entries++;
	return 0;
}

/* "sha256:HEX" in a confidential list; t is the line's first token. */
static int
read_hash(struct reader *r, struct span t, struct cursor *line)
{
	uint8_t sha[LISTS_SHA256_LEN];
	struct cursor c;
	size_t i;
	int hi, lo, rc;

	t = span_skip(t, strlen(HASH_PREFIX));
	if (t.len != HASH_HEX_LEN) {
		report(r, "a sha256: entry needs exactly 64 hex digits");
		return 0;
	}
	cursor_init(&c, t.p, t.len);
	for (i = 0; i < LISTS_SHA256_LEN; i++) {
		hi = cursor_hex_value(cursor_u8(&c));
		lo = cursor_hex_value(cursor_u8(&c));
		if (hi < 0 || lo < 0) {
			report(r, "a sha256: entry needs exactly 64 hex "
			    "digits");
			return 0;
		}
		sha[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!at_end(line)) {
		report(r, "text after a sha256: entry");
		return 0;
	}
	if ((rc = r->sink->hash(r->sink->arg, sha)) < 0)
		return rc;
	r->st->entries++;
	return 0;
}

/* A line of a confidential list: a hash, or an error that quotes nothing. */
static int
read_confidential(struct reader *r, struct cursor *c)
{
	struct span t;

	if (!next_token(c, true, &t))
		return 0;
	if (t.len >= strlen(HASH_PREFIX) &&
	    strncasecmp(t.p, HASH_PREFIX, strlen(HASH_PREFIX)) == 0)
		return read_hash(r, t, c);
	report(r, "a confidential list holds only sha256: entries");
	return 0;
}

/* Are all of an adblock rule's $options harmless for a DNS block? */
static bool
adblock_options_ok(struct span opts)
{
	struct span o;
	const char *comma;

	for (;;) {
		comma = memchr(opts.p, ',', opts.len);
		o.p = opts.p;
		o.len = comma != NULL ? (size_t)(comma - opts.p) : opts.len;
		if (!in_table(o, adblock_harmless, sizeof(adblock_harmless) /
		    sizeof(adblock_harmless[0])))
			return false;
		if (comma == NULL)
			return true;
		opts = span_skip(opts, o.len + 1);
	}
}

/*
 * An adblock network rule: the line (blanks trimmed) starts with '|' or
 * "@@".  Only "[@@]||name[^[|]][$harmless,...]" is a rule for a name.
 */
static int
read_adblock(struct reader *r, struct span rule)
{
	struct span name, rest;
	bool allow = false;
	size_t n;

	r->adblock = true;
	if (has_prefix(rule, "@@")) {
		allow = true;
		rule = span_skip(rule, 2);
	}
	if (!has_prefix(rule, "||")) {
		skip(r);		/* "|http://...", "@@ads." */
		return 0;
	}
	rule = span_skip(rule, 2);
	if (has_prefix(rule, "*."))
		rule = span_skip(rule, 2);
	n = span_until(rule, "^$/|");
	name.p = rule.p;
	name.len = n;
	rest = span_skip(rule, n);
	if (has_any(name, "*:?=&%,~")) {
		skip(r);		/* wildcards inside, ports, URLs */
		return 0;
	}
	if (has_prefix(rest, "^"))
		rest = span_skip(rest, 1);
	else if (rest.len > 0 && !has_prefix(rest, "$")) {
		skip(r);		/* a path, or "|" without "^" */
		return 0;
	}
	if (has_prefix(rest, "|"))
		rest = span_skip(rest, 1);
	if (rest.len > 0 && (!has_prefix(rest, "$") ||
	    !adblock_options_ok(span_skip(rest, 1)))) {
		skip(r);		/* restricting options, or more path */
		return 0;
	}
	return give_name(r, name, allow, false);
}

/*
 * dnsmasq: kw is the word before '=' ("address", "server", "local"), word
 * the whole first word, "KW=/d1/d2/.../VALUE".
 */
static int
read_dnsmasq(struct reader *r, size_t klen, struct span word,
    struct cursor *line)
{
	struct span v, d, doms;
	struct sg_addr a;
	const char *slash, *last;
	bool address = klen == strlen("address");
	int rc;

	v = span_skip(word, klen + 1);
	if (!has_prefix(v, "/")) {
		if (address)
			report(r, "dnsmasq address= without /domain/");
		else
			skip(r);	/* server=1.2.3.4: an upstream */
		return 0;
	}
	v = span_skip(v, 1);
	last = memrchr(v.p, '/', v.len);
	if (last == NULL) {
		report(r, "dnsmasq rule without a closing '/'");
		return 0;
	}
	doms.p = v.p;
	doms.len = (size_t)(last - v.p);
	v = span_skip(v, doms.len + 1);		/* the value */
	if (!at_end(line)) {
		report(r, "text after a dnsmasq rule");
		return 0;
	}
	if (!address) {
		if (v.len > 0) {
			skip(r);	/* forwards the domain to a server */
			return 0;
		}
	} else if (v.len > 0 && !span_is(v, "#")) {
		if (!parse_address(v, &a)) {
			report(r, "dnsmasq address= with a value that is not "
			    "an address");
			return 0;
		}
		if (!is_sinkhole(&a)) {
			skip(r);	/* a redirect, not a block */
			return 0;
		}
	}
	for (;;) {
		slash = memchr(doms.p, '/', doms.len);
		d.p = doms.p;
		d.len = slash != NULL ? (size_t)(slash - doms.p) : doms.len;
		if (d.len == 0 || span_is(d, "#"))
			skip(r);	/* unqualified names, every name */
		else if ((rc = give_name(r, d, false, false)) < 0)
			return rc;
		if (slash == NULL)
			return 0;
		doms = span_skip(doms, d.len + 1);
	}
}

/* unbound: `local-zone: "name." type`; c is after "local-zone:". */
static int
read_local_zone(struct reader *r, struct cursor *c)
{
	struct span name, type;
	const uint8_t *start;

	skip_blanks(c);
	if (cursor_peek_u8(c) == '"') {
		cursor_skip(c, 1);
		start = cursor_here(c);
		while (cursor_left(c) > 0 && cursor_peek_u8(c) != '"')
			cursor_skip(c, 1);
		if (cursor_left(c) == 0) {
			report(r, "local-zone name without its closing quote");
			return 0;
		}
		name.p = (const char *)start;
		name.len = (size_t)(cursor_here(c) - start);
		cursor_skip(c, 1);
	} else if (!next_token(c, true, &name)) {
		report(r, "local-zone without a name");
		return 0;
	}
	if (!next_token(c, true, &type)) {
		report(r, "local-zone without a type");
		return 0;
	}
	if (!at_end(c)) {
		report(r, "text after the local-zone type");
		return 0;
	}
	if (in_table(type, zone_passes, sizeof(zone_passes) /
	    sizeof(zone_passes[0]))) {
		skip(r);
		return 0;
	}
	if (!in_table(type, zone_blocks, sizeof(zone_blocks) /
	    sizeof(zone_blocks[0]))) {
		report(r, "unknown local-zone type");
		return 0;
	}
	return give_name(r, name, false, false);
}

/*
 * Two characters after a name that start an adblock cosmetic rule:
 * "a.example##.ad", "#@#", "#?#", "#$#", "#%#" and their "#@" forms.
 */
static bool
cosmetic_follows(struct cursor *c)
{
	struct cursor p = *c;

	if (cursor_u8(&p) != '#')
		return false;
	return byte_in(cursor_peek_u8(&p), "#@?$%");
}

/* hosts and domains lines, and unanchored adblock rules. */
static int
read_names(struct reader *r, struct cursor *c)
{
	struct span t;
	bool lenient = false;
	int rc;

	if (!next_token(c, true, &t))
		return 0;
	if (is_address(t)) {
		if (!next_token(c, true, &t)) {
			skip(r);	/* a bare address */
			return 0;
		}
	} else {
		if (cosmetic_follows(c)) {
			r->adblock = true;
			skip(r);
			return 0;
		}
		/*
		 * The syntax of another format, not a name with a bad
		 * byte: an adblock rule, or garbage ("$0/").
		 */
		if (has_any(has_prefix(t, "*.") ? span_skip(t, 2) : t,
		    OTHER_SYNTAX)) {
			if (r->adblock)
				skip(r);
			else
				report(r, "not a name, nor a rule of a known "
				    "list format");
			return 0;
		}
		/* In an adblock file, "ads." alone is a substring rule. */
		lenient = r->adblock && at_end(c);
	}
	do {
		if ((rc = give_name(r, t, false, lenient)) < 0)
			return rc;
	} while (next_token(c, true, &t));
	return 0;
}

static int
read_line(struct reader *r, const char *line, size_t len)
{
	struct cursor c, w;
	struct span rule, word;
	size_t klen;
	uint8_t ch;

	cursor_init(&c, line, len);
	skip_blanks(&c);
	if (cursor_left(&c) == 0)
		return 0;			/* blank */
	rule.p = (const char *)cursor_here(&c);
	rule.len = cursor_left(&c);
	while (rule.len > 0 && is_blank(last_byte(rule)))
		rule.len--;
	ch = cursor_peek_u8(&c);
	if (ch == '#')
		return 0;			/* a comment */
	if (ch == '!') {
		r->adblock = true;		/* an adblock comment */
		return 0;
	}
	if (r->confidential)
		return read_confidential(r, &c);
	if (ch == '[') {
		r->adblock = true;
		if (last_byte(rule) != ']')
			skip(r);		/* "[$path=...]rule" */
		return 0;			/* "[Adblock Plus 2.0]" */
	}
	if (ch == '|' || has_prefix(rule, "@@"))
		return read_adblock(r, rule);
	if (ch == '/') {
		r->adblock = true;		/* "/regex/", "/path/" */
		skip(r);
		return 0;
	}

	w = c;
	if (!next_token(&w, false, &word))
		return 0;
	if (word.len >= strlen(HASH_PREFIX) &&
	    strncasecmp(word.p, HASH_PREFIX, strlen(HASH_PREFIX)) == 0) {
		report(r, "hashed entry in a list not marked confidential");
		return 0;
	}
	if (is_address(word))
		return read_names(r, &c);	/* hosts, even "fe80::1" */
	if (is_keyword(word, '=', &klen)) {
		if (span_is((struct span){ word.p, klen }, "address") ||
		    span_is((struct span){ word.p, klen }, "server") ||
		    span_is((struct span){ word.p, klen }, "local"))
			return read_dnsmasq(r, klen, word, &w);
		skip(r);			/* ipset=, nftset=, ... */
		return 0;
	}
	if (is_keyword(word, ':', &klen)) {
		if (span_is((struct span){ word.p, klen }, "local-zone")) {
			cursor_skip(&c, klen + 1);
			return read_local_zone(r, &c);
		}
		skip(r);		/* server:, local-data:, ... */
		return 0;
	}
	return read_names(r, &c);
}

int
lists_read_buffer(const char *label, const void *buf, size_t len,
    bool confidential, const struct lists_sink *sink, struct lists_stats *st,
    lists_error_fn *err, void *arg)
{
	static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };
	struct lists_stats dummy;
	struct reader r;
	struct cursor c;
	const char *line;
	size_t n;
	int rc;

	if (sink == NULL || sink->name == NULL ||
	    (confidential && sink->hash == NULL))
		return -EINVAL;
	if (st == NULL) {
		memset(&dummy, 0, sizeof(dummy));
		st = &dummy;
	}
	memset(&r, 0, sizeof(r));
	r.label = label != NULL ? label : "<buffer>";
	r.confidential = confidential;
	r.sink = sink;
	r.st = st;
	r.err = err;
	r.arg = arg;

	cursor_init(&c, buf, len);
	/* A UTF-8 byte order mark, as editors on Windows write it. */
	if (cursor_left(&c) >= sizeof(bom) &&
	    memcmp(cursor_here(&c), bom, sizeof(bom)) == 0)
		cursor_skip(&c, sizeof(bom));
	while ((line = cursor_line(&c, &n)) != NULL) {
		r.lineno++;
		st->lines++;
		if ((rc = read_line(&r, line, n)) < 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- files */

/* Reads all of fd into a new buffer; *buf is the caller's to free. */
static int
read_all(int fd, char **bufp, size_t *lenp)
{
	struct stat sb;
	char *buf = NULL, *nbuf;
	size_t cap, len = 0;
	ssize_t n;

	if (fstat(fd, &sb) == -1)
		return -errno;
	if (S_ISDIR(sb.st_mode))
		return -EISDIR;
	if (S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > LISTS_FILE_MAX)
		return -EFBIG;
	/* The size is a hint: the file may change under us, so read to EOF. */
	cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : LISTS_READ_MIN;
	for (;;) {
		if (buf == NULL || len == cap) {
			if (buf != NULL) {
				if (cap >= LISTS_FILE_MAX) {
					free(buf);
					return -EFBIG;
				}
				cap *= 2;
			}
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
lists_read_file(const char *path, bool confidential,
    const struct lists_sink *sink, struct lists_stats *st,
    lists_error_fn *err, void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (sink == NULL || sink->name == NULL ||
	    (confidential && sink->hash == NULL))
		return -EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (rc != 0)
		return rc;
	rc = lists_read_buffer(path, buf, len, confidential, sink, st, err,
	    arg);
	free(buf);
	return rc;
}
