/*
 * http.c - the host of the first HTTP/1.x request (see http.h for the
 * contract).
 *
 * One pass, in stream order, through a cursor capped at HTTP_HEADER_MAX:
 * the request line (checked byte by byte, so a stream that is not HTTP is
 * told apart from its first bytes), the target's authority if it has one,
 * then each header line as it completes.  Every verdict depends only on the
 * bytes already read, which is why a prefix of the stream gives either
 * SG_ETRUNC or the answer the whole stream gives.
 */
#include <arpa/inet.h>
#include <string.h>

#include "cursor.h"
#include "http.h"

#define HTTP_V6_MAX	45	/* INET6_ADDRSTRLEN - 1 */

struct host {
	char		name[HTTP_HOST_MAX + 1];
	size_t		len;
	bool		is_ip;
	uint16_t	port;
};

/* RFC 9110 §5.6.2 tchar. */
static bool
tchar(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	    (b >= '0' && b <= '9') || (b != 0 && strchr("!#$%&'*+-.^_`|~",
	    b) != NULL);
}

static uint8_t
lower(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
}

static bool
host_byte(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
	    b == '-' || b == '_' || b == '.' || b == '~';
}

static bool
digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

/* "[" IPv6 "]": the literal between the brackets, checked by inet_pton. */
static int
host_v6(struct cursor *c, struct host *h)
{
	struct in6_addr a;
	uint8_t b;

	cursor_skip(c, 1);			/* '[' */
	for (;;) {
		b = lower(cursor_u8(c));
		if (c->err)
			return SG_EMALFORMED;
		if (b == ']')
			break;
		if (h->len == HTTP_V6_MAX ||
		    !(digit(b) || (b >= 'a' && b <= 'f') || b == ':' ||
		    b == '.'))
			return SG_EMALFORMED;
		h->name[h->len++] = (char)b;
	}
	h->name[h->len] = '\0';
	if (inet_pton(AF_INET6, h->name, &a) != 1)
		return SG_EMALFORMED;
	h->is_ip = true;
	return 0;
}

/* A registered name or IPv4 literal, lower-cased. */
static int
host_name(struct cursor *c, struct host *h)
{
	struct in_addr a;
	size_t label = 0;
	uint8_t b;

	while (cursor_left(c) > 0 && cursor_peek_u8(c) != ':') {
		b = lower(cursor_u8(c));
		if (!host_byte(b) || h->len == HTTP_HOST_MAX + 1)
			return SG_EMALFORMED;
		if (b == '.') {
			if (label == 0)
				return SG_EMALFORMED;
			label = 0;
		} else if (++label > 63)
			return SG_EMALFORMED;
		h->name[h->len++] = (char)b;
	}
	/* One trailing dot names the same host: drop it. */
	if (h->len > 0 && label == 0)
		h->len--;
	if (h->len == 0 || h->len > HTTP_HOST_MAX)
		return SG_EMALFORMED;
	h->name[h->len] = '\0';
	h->is_ip = inet_pton(AF_INET, h->name, &a) == 1;
	return 0;
}

/* host [":" port], all of c; RFC 3986 allows the port to be empty. */
static int
host_parse(struct cursor *c, struct host *h)
{
	unsigned long port = 0;
	size_t digits = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	if (cursor_peek_u8(c) == '[')
		rc = host_v6(c, h);
	else
		rc = host_name(c, h);
	if (rc != 0)
		return rc;
	if (cursor_left(c) == 0)
		return 0;
	if (cursor_u8(c) != ':')
		return SG_EMALFORMED;
	while (cursor_left(c) > 0) {
		uint8_t b = cursor_u8(c);

		if (!digit(b) || ++digits > 5)
			return SG_EMALFORMED;
		port = port * 10 + (unsigned long)(b - '0');
	}
	if (port > 65535)
		return SG_EMALFORMED;
	h->port = (uint16_t)port;
	return 0;
}

/*
 * The request line, checked as far as the bytes go: 0 with c after its
 * CRLF, SG_ETRUNC while every byte so far fits, SG_EUNSUPP at the first
 * that does not.
 */
static int
request_line(struct cursor *c, struct http_request *out, struct cursor *target)
{
	static const char version[] = "HTTP/1.";
	const uint8_t *t;
	size_t n = 0, i;
	uint8_t b;

	for (;;) {
		if (cursor_left(c) == 0)
			return SG_ETRUNC;
		b = cursor_u8(c);
		if (b == ' ' && n > 0)
			break;
		if (!tchar(b) || n == HTTP_METHOD_MAX)
			return SG_EUNSUPP;
		out->method[n++] = (char)b;
	}
	out->method[n] = '\0';
	t = cursor_here(c);
	for (n = 0;; n++) {
		if (cursor_left(c) == 0)
			return SG_ETRUNC;
		b = cursor_u8(c);
		if (b == ' ' && n > 0)
			break;
		if (b < 0x21 || b > 0x7e)
			return SG_EUNSUPP;
	}
	cursor_init(target, t, n);
	for (i = 0; i < sizeof(version) - 1; i++) {
		if (cursor_left(c) == 0)
			return SG_ETRUNC;
		if (cursor_u8(c) != (uint8_t)version[i])
			return SG_EUNSUPP;
	}
	if (cursor_left(c) == 0)
		return SG_ETRUNC;
	b = cursor_u8(c);
	if (!digit(b))
		return SG_EUNSUPP;
	out->minor = (uint8_t)(b - '0');
	if (cursor_left(c) == 0)
		return SG_ETRUNC;
	if (cursor_u8(c) != '\r')
		return SG_EUNSUPP;
	if (cursor_left(c) == 0)
		return SG_ETRUNC;
	if (cursor_u8(c) != '\n')
		return SG_EUNSUPP;
	return 0;
}

/*
 * The authority a request-target carries, if any: all of it in authority
 * form (CONNECT), the part after "scheme://" in absolute form.  Returns 1
 * with *auth set, 0 for origin and asterisk form, or SG_EMALFORMED.
 */
static int
target_authority(const char *method, struct cursor *t, struct cursor *auth)
{
	const uint8_t *p;
	size_t n = 0;
	uint8_t b;

	b = cursor_peek_u8(t);
	if (strcmp(method, "CONNECT") == 0) {
		*auth = *t;
		return 1;
	}
	if (b == '/')
		return 0;
	if (b == '*' && cursor_left(t) == 1)
		return 0;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	b = lower(cursor_u8(t));
	if (!(b >= 'a' && b <= 'z'))
		return SG_EMALFORMED;
	while (cursor_left(t) > 0 && cursor_peek_u8(t) != ':') {
		b = lower(cursor_u8(t));
		if (!((b >= 'a' && b <= 'z') || digit(b) || b == '+' ||
		    b == '-' || b == '.'))
			return SG_EMALFORMED;
	}
	if (cursor_u8(t) != ':' || cursor_u8(t) != '/' || cursor_u8(t) != '/')
		return SG_EMALFORMED;
	p = cursor_here(t);
	while (cursor_left(t) > 0) {
		b = cursor_peek_u8(t);
		if (b == '/' || b == '?' || b == '#')
			break;
		/* userinfo: RFC 9110 §4.2.4 says treat it as an error. */
		if (b == '@')
			return SG_EMALFORMED;
		cursor_skip(t, 1);
		n++;
	}
	if (t->err)
		return SG_EMALFORMED;
	cursor_init(auth, p, n);
	return 1;
}

/*
 * The next line, ending in CRLF: 0 with *line over it, SG_ETRUNC with *need
 * (the line's end, and the empty line after it unless this is that line),
 * or SG_EMALFORMED for a bare CR or LF.
 */
static int
line_take(struct cursor *c, struct cursor *line, size_t *need)
{
	const uint8_t *p = cursor_here(c);
	size_t n = 0;
	uint8_t b;

	for (;;) {
		if (cursor_left(c) == 0) {
			*need = c->pos + (n == 0 ? 2 : 4);
			return SG_ETRUNC;
		}
		b = cursor_u8(c);
		if (b == '\r') {
			if (cursor_left(c) == 0) {
				*need = c->pos + (n == 0 ? 1 : 3);
				return SG_ETRUNC;
			}
			if (cursor_u8(c) != '\n')
				return SG_EMALFORMED;
			cursor_init(line, p, n);
			return 0;
		}
		if (b == '\n')
			return SG_EMALFORMED;
		n++;
	}
}

/*
 * One field line.  Returns 1 with *value over a Host field's value (OWS
 * trimmed), 0 for any other field, or SG_EMALFORMED.
 */
static int
field(struct cursor *line, struct cursor *value)
{
	static const char host[] = "host";
	const uint8_t *p;
	size_t n = 0, i, first = 0, last = 0;
	bool is_host = true, any = false;
	uint8_t b;

	b = cursor_peek_u8(line);
	if (b == ' ' || b == '\t')		/* obs-fold */
		return SG_EMALFORMED;
	for (;;) {
		if (cursor_left(line) == 0)
			return SG_EMALFORMED;	/* no colon */
		b = cursor_u8(line);
		if (b == ':')
			break;
		if (!tchar(b))
			return SG_EMALFORMED;
		if (n >= 4 || lower(b) != (uint8_t)host[n])
			is_host = false;
		n++;
	}
	if (n == 0)
		return SG_EMALFORMED;
	is_host = is_host && n == 4;
	p = cursor_here(line);
	for (i = 0; cursor_left(line) > 0; i++) {
		b = cursor_u8(line);
		if (b == ' ' || b == '\t')
			continue;
		if (b < 0x21 || b == 0x7f)
			return SG_EMALFORMED;
		if (!any)
			first = i;
		any = true;
		last = i;
	}
	if (!is_host)
		return 0;
	cursor_init(value, p + first, any ? last - first + 1 : 0);
	return 1;
}

static void
host_out(struct http_request *out, const struct host *h, bool from_target)
{
	memcpy(out->host, h->name, h->len);
	out->host[h->len] = '\0';
	out->host_len = h->len;
	out->is_ip = h->is_ip;
	out->port = h->port;
	out->has_host = true;
	out->from_target = from_target;
}

int
http_request_host(const uint8_t *buf, size_t len, struct http_request *out)
{
	struct cursor c, target, auth, line, value;
	struct host th, hh;
	bool has_target = false, seen_host = false, has_field = false;
	size_t need;
	int rc;

	memset(out, 0, sizeof(*out));
	cursor_init(&c, buf, len < HTTP_HEADER_MAX ? len : HTTP_HEADER_MAX);
	rc = request_line(&c, out, &target);
	if (rc == SG_ETRUNC) {
		need = c.pos + 1;
		goto trunc;
	}
	if (rc != 0)
		goto fail;
	rc = target_authority(out->method, &target, &auth);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		if ((rc = host_parse(&auth, &th)) != 0)
			goto fail;
		has_target = true;
	}
	for (;;) {
		rc = line_take(&c, &line, &need);
		if (rc == SG_ETRUNC)
			goto trunc;
		if (rc != 0)
			goto fail;
		if (cursor_left(&line) == 0)
			break;			/* the empty line: done */
		rc = field(&line, &value);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			continue;
		if (seen_host) {
			rc = SG_EMALFORMED;
			goto fail;
		}
		seen_host = true;
		/* An empty Host is allowed when there is no authority. */
		if (cursor_left(&value) == 0)
			continue;
		if ((rc = host_parse(&value, &hh)) != 0)
			goto fail;
		has_field = true;
	}
	if (has_target)
		host_out(out, &th, true);
	else if (has_field)
		host_out(out, &hh, false);
	return 0;
trunc:
	if (need > HTTP_HEADER_MAX) {
		rc = SG_ELIMIT;
		goto fail;
	}
	memset(out, 0, sizeof(*out));
	out->need = need;
	return SG_ETRUNC;
fail:
	memset(out, 0, sizeof(*out));
	return rc;
}
