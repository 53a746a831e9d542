/*
 * lists.c - reading hosts and plain-domain list files into a domain set.
 *
 * A file is read into memory whole (one buffer, no per-line I/O) and walked
 * with the cursor, line by line and then token by token.  A line is
 *
 *	[address] name... [# comment]
 *
 * which covers both formats: a hosts line starts with an address, a domains
 * line does not, and a line that is only an address (UT1 mixes bare IPv4
 * addresses into its domain files) is skipped.  Lines of the formats this
 * module does not read yet (adblock, dnsmasq, unbound) are recognised by
 * their first token and reported as such, so a user who points safegate at
 * the wrong kind of file is told so instead of getting an empty category.
 */
#include <errno.h>
#include <fcntl.h>
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
#define LISTS_FILE_MAX	((size_t)1 << 30)	/* larger is not a list */
#define LISTS_READ_MIN	((size_t)64 << 10)
#define ADDR_TOKEN_MAX	63		/* longest address token we try */

struct reader {
	const char		*label;
	size_t			 lineno;
	unsigned		 category;
	struct domainset_builder *b;
	struct lists_stats	*st;
	lists_error_fn		*err;
	void			*arg;
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

/* ---------------------------------------------------------------- names */

static inline bool
name_byte_ok(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '_';
}

int
lists_normalize(const char *in, size_t len, char *out, const char **reason)
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

static bool
has_prefix(const char *tok, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(tok, prefix, n) == 0;
}

static bool
has_suffix(const char *tok, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(tok + len - n, suffix, n) == 0;
}

static bool
contains(const char *tok, size_t len, const char *needle)
{
	return memmem(tok, len, needle, strlen(needle)) != NULL;
}

/*
 * True if the token is an IPv4 or IPv6 literal (an IPv6 zone, "%eth0", is
 * allowed).  Only tokens made of address characters reach inet_pton, so
 * names cost a scan, not a parse.
 */
static bool
is_address(const char *tok, size_t len)
{
	struct cursor c;
	struct sg_addr a;
	char buf[ADDR_TOKEN_MAX + 1];
	size_t n = 0;
	bool colon = false, hex = false;
	uint8_t ch;

	if (len == 0 || len > ADDR_TOKEN_MAX)
		return false;
	cursor_init(&c, tok, len);
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
	return addr_parse(&a, buf) == 0;
}

static bool
is_local_name(const char *tok, size_t len)
{
	size_t i;

	if (has_suffix(tok, len, "."))
		len--;
	for (i = 0; i < sizeof(local_names) / sizeof(local_names[0]); i++)
		if (local_names[i].len == len &&
		    strncasecmp(tok, local_names[i].name, len) == 0)
			return true;
	return false;
}

/*
 * Why a line's first token belongs to a format this module does not read,
 * or NULL.
 */
static const char *
foreign_syntax(const char *tok, size_t len)
{
	if (has_prefix(tok, len, "|") || has_prefix(tok, len, "@@") ||
	    has_prefix(tok, len, "[") || contains(tok, len, "^"))
		return "adblock syntax is not supported yet";
	if (contains(tok, len, "=/"))
		return "dnsmasq syntax is not supported yet";
	if (has_suffix(tok, len, ":"))
		return "unbound syntax is not supported yet";
	return NULL;
}

/* ---------------------------------------------------------------- lines */

static inline bool
is_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	    ch == '\f';
}

/* The line's next token, or NULL at its end or at a '#'. */
static const char *
next_token(struct cursor *c, size_t *len)
{
	const uint8_t *start;
	uint8_t ch;

	while (cursor_left(c) > 0 && is_blank(cursor_peek_u8(c)))
		cursor_skip(c, 1);
	if (cursor_left(c) == 0 || cursor_peek_u8(c) == '#')
		return NULL;
	start = cursor_here(c);
	while (cursor_left(c) > 0) {
		ch = cursor_peek_u8(c);
		if (ch == '#' || is_blank(ch))
			break;
		cursor_skip(c, 1);
	}
	*len = (size_t)(cursor_here(c) - start);
	return (const char *)start;
}

static void
report(struct reader *r, const char *reason)
{
	r->st->invalid++;
	if (r->err != NULL)
		r->err(r->arg, r->label, r->lineno, reason);
}

static int
read_name(struct reader *r, const char *tok, size_t len)
{
	char name[LISTS_NAME_MAX + 2];
	const char *why = NULL;
	int n, rc;

	/* "*.example.com" is the rule every entry is: the name and below. */
	if (has_prefix(tok, len, "*.")) {
		tok += 2;
		len -= 2;
	}
	if (is_address(tok, len) || is_local_name(tok, len)) {
		r->st->skipped++;
		return 0;
	}
	if ((n = lists_normalize(tok, len, name, &why)) < 0) {
		report(r, why);
		return 0;
	}
	if ((rc = domainset_builder_add(r->b, name, (size_t)n,
	    r->category)) < 0)
		return rc;
	if (rc > 0)
		r->st->kept++;
	else
		r->st->duplicates++;
	return 0;
}

static int
read_line(struct reader *r, const char *line, size_t len)
{
	struct cursor c;
	const char *tok, *why;
	size_t tlen = 0;
	int rc;

	cursor_init(&c, line, len);
	if ((tok = next_token(&c, &tlen)) == NULL)
		return 0;			/* blank or a comment */
	if (has_prefix(tok, tlen, "!"))
		return 0;			/* an adblock comment */
	if (is_address(tok, tlen)) {
		if ((tok = next_token(&c, &tlen)) == NULL) {
			r->st->skipped++;	/* a bare address */
			return 0;
		}
	} else if ((why = foreign_syntax(tok, tlen)) != NULL) {
		report(r, why);
		return 0;
	}
	for (; tok != NULL; tok = next_token(&c, &tlen))
		if ((rc = read_name(r, tok, tlen)) < 0)
			return rc;
	return 0;
}

int
lists_read_buffer(const char *label, const void *buf, size_t len,
    unsigned category, struct domainset_builder *b, struct lists_stats *st,
    lists_error_fn *err, void *arg)
{
	static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };
	struct lists_stats dummy;
	struct reader r;
	struct cursor c;
	const char *line;
	size_t n;
	int rc;

	if (b == NULL || category >= DOMAINSET_MAX_CATEGORIES)
		return -EINVAL;
	if (st == NULL) {
		memset(&dummy, 0, sizeof(dummy));
		st = &dummy;
	}
	r.label = label != NULL ? label : "<buffer>";
	r.lineno = 0;
	r.category = category;
	r.b = b;
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
lists_read_file(const char *path, unsigned category,
    struct domainset_builder *b, struct lists_stats *st,
    lists_error_fn *err, void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (b == NULL || category >= DOMAINSET_MAX_CATEGORIES)
		return -EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (rc != 0)
		return rc;
	rc = lists_read_buffer(path, buf, len, category, b, st, err, arg);
	free(buf);
	return rc;
}
