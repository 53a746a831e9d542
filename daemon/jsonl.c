/*
 * jsonl.c - see jsonl.h.
 *
 * One pass over the line through a cursor: every value is checked and
 * decoded straight into the arena, and the fields are appended as they
 * come.  Any error empties the object, so a caller can never act on half a
 * line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "jsonl.h"

struct jsonl_field {
	const char	*key;
	enum jsonl_type	 type;
	const char	*str;		/* string or number text */
	size_t		 len;
	size_t		 first, n;	/* array: items[first .. first+n) */
};

struct jsonl_item {
	const char	*str;
	size_t		 len;
};

struct jsonl {
	struct jsonl_field fields[JSONL_FIELDS_MAX];
	size_t		 nfields;
	struct jsonl_item items[JSONL_ITEMS_MAX];
	size_t		 nitems;
	size_t		 err_off;
	size_t		 used;
	char		 arena[JSONL_LINE_MAX + 1];
};

struct jsonl *
jsonl_new(void)
{
	return calloc(1, sizeof(struct jsonl));
}

void
jsonl_free(struct jsonl *j)
{
	free(j);
}

/* The next byte, if there is one; the cursor stays put. */
static bool
peek(const struct cursor *c, uint8_t *ch)
{
	if (cursor_left(c) == 0)
		return false;
	*ch = cursor_peek_u8(c);
	return true;
}

static void
skip_ws(struct cursor *c)
{
	uint8_t ch;

	while (peek(c, &ch) &&
	    (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'))
		cursor_skip(c, 1);
}

/* Takes ch or fails: SG_ETRUNC at the end, SG_EMALFORMED otherwise. */
static void
expect(struct cursor *c, uint8_t want)
{
	uint8_t ch;

	if (!peek(c, &ch))
		cursor_fail(c, SG_ETRUNC);
	else if (ch != want)
		cursor_fail(c, SG_EMALFORMED);
	else
		cursor_skip(c, 1);
}

/* Takes the exact word (true, false, null). */
static void
expect_word(struct cursor *c, const char *w)
{
	for (; *w != '\0'; w++)
		expect(c, (uint8_t)*w);
}

/* Appends bytes to the arena; the arena always has room (see jsonl.h),
   but a broken invariant must not write past it either. */
static void
put(struct jsonl *j, struct cursor *c, const void *p, size_t n)
{
	if (c->err)
		return;
	if (n > sizeof(j->arena) - j->used) {
		cursor_fail(c, SG_ELIMIT);
		return;
	}
	memcpy(j->arena + j->used, p, n);
	j->used += n;
}

static size_t
utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Four hex digits after "\u". */
static uint32_t
hex4(struct cursor *c)
{
	uint32_t v = 0;
	uint8_t ch;
	int i, d;

	for (i = 0; i < 4; i++) {
		if (!peek(c, &ch)) {
			cursor_fail(c, SG_ETRUNC);
			return 0;
		}
		if ((d = cursor_hex_value(ch)) < 0) {
			cursor_fail(c, SG_EMALFORMED);
			return 0;
		}
		cursor_skip(c, 1);
		v = v << 4 | (uint32_t)d;
	}
	return v;
}

/* The escape after a backslash, decoded into out; its length. */
static size_t
escape(struct cursor *c, uint8_t out[4])
{
	uint32_t cp, lo;
	uint8_t ch;

	if (!peek(c, &ch)) {
		cursor_fail(c, SG_ETRUNC);
		return 0;
	}
	cursor_skip(c, 1);
	switch (ch) {
	case '"': case '\\': case '/':
		out[0] = ch;
		return 1;
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u':
		break;
	default:
		cursor_fail(c, SG_EMALFORMED);
		return 0;
	}
	cp = hex4(c);
	if (c->err)
		return 0;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		/* A low surrogate with no high one before it. */
		cursor_fail(c, SG_EMALFORMED);
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		expect(c, '\\');
		expect(c, 'u');
		lo = hex4(c);
		if (c->err)
			return 0;
		if (lo < 0xdc00 || lo > 0xdfff) {
			cursor_fail(c, SG_EMALFORMED);
			return 0;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return utf8_encode(cp, out);
}

/*
 * One raw UTF-8 character whose lead byte is `lead` (>= 0x80, already
 * taken) into out; its length.  Strict: the shortest form only, no
 * surrogates, at most U+10FFFF (RFC 3629, table 3-7 of Unicode).
 */
static size_t
utf8_char(struct cursor *c, uint8_t lead, uint8_t out[4])
{
	uint8_t lo = 0x80, hi = 0xbf, ch;
	size_t n, i;

	if (lead >= 0xc2 && lead <= 0xdf)
		n = 2;
	else if (lead >= 0xe0 && lead <= 0xef) {
		n = 3;
		if (lead == 0xe0)
			lo = 0xa0;
		else if (lead == 0xed)
			hi = 0x9f;
	} else if (lead >= 0xf0 && lead <= 0xf4) {
		n = 4;
		if (lead == 0xf0)
			lo = 0x90;
		else if (lead == 0xf4)
			hi = 0x8f;
	} else {
		cursor_fail(c, SG_EMALFORMED);
		return 0;
	}
	out[0] = lead;
	for (i = 1; i < n; i++) {
		if (!peek(c, &ch)) {
			cursor_fail(c, SG_ETRUNC);
			return 0;
		}
		if (ch < lo || ch > hi) {
			cursor_fail(c, SG_EMALFORMED);
			return 0;
		}
		cursor_skip(c, 1);
		out[i] = ch;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * A string, opening quote next, decoded into the arena with a NUL after
 * it.  Returns its start in the arena (NULL on error) and its length.
 */
static const char *
string(struct jsonl *j, struct cursor *c, size_t *len)
{
	size_t start = j->used, n;
	uint8_t ch, buf[4];

	expect(c, '"');
	for (;;) {
		if (c->err)
			return NULL;
		if (!peek(c, &ch)) {
			cursor_fail(c, SG_ETRUNC);
			return NULL;
		}
		if (ch < 0x20) {
			cursor_fail(c, SG_EMALFORMED);
			return NULL;
		}
		cursor_skip(c, 1);
		if (ch == '"')
			break;
		if (ch == '\\')
			n = escape(c, buf);
		else if (ch >= 0x80)
			n = utf8_char(c, ch, buf);
		else {
			buf[0] = ch;
			n = 1;
		}
		put(j, c, buf, n);
	}
	*len = j->used - start;
	put(j, c, "", 1);
	return c->err ? NULL : j->arena + start;
}

static bool
is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

/* Takes one or more digits. */
static void
digits(struct cursor *c)
{
	uint8_t ch;

	if (!peek(c, &ch)) {
		cursor_fail(c, SG_ETRUNC);
		return;
	}
	if (!is_digit(ch)) {
		cursor_fail(c, SG_EMALFORMED);
		return;
	}
	while (peek(c, &ch) && is_digit(ch))
		cursor_skip(c, 1);
}

/* A number (RFC 8259 section 6), its text copied into the arena. */
static const char *
number(struct jsonl *j, struct cursor *c, size_t *len)
{
	const uint8_t *start = cursor_here(c);
	size_t from = c->pos;
	const char *p;
	uint8_t ch;

	if (peek(c, &ch) && ch == '-')
		cursor_skip(c, 1);
	if (peek(c, &ch) && ch == '0')
		cursor_skip(c, 1);	/* no leading zeros: "01" fails below */
	else
		digits(c);
	if (peek(c, &ch) && ch == '.') {
		cursor_skip(c, 1);
		digits(c);
	}
	if (peek(c, &ch) && (ch == 'e' || ch == 'E')) {
		cursor_skip(c, 1);
		if (peek(c, &ch) && (ch == '+' || ch == '-'))
			cursor_skip(c, 1);
		digits(c);
	}
	if (c->err)
		return NULL;
	*len = c->pos - from;
	if (*len > JSONL_NUMBER_MAX) {
		cursor_fail(c, SG_ELIMIT);
		return NULL;
	}
	p = j->arena + j->used;
	put(j, c, start, *len);
	put(j, c, "", 1);
	return c->err ? NULL : p;
}

/* An array of strings, "[" next. */
static void
array(struct jsonl *j, struct cursor *c, struct jsonl_field *f)
{
	uint8_t ch;

	expect(c, '[');
	f->first = j->nitems;
	f->n = 0;
	skip_ws(c);
	if (peek(c, &ch) && ch == ']') {
		cursor_skip(c, 1);
		return;
	}
	for (;;) {
		struct jsonl_item *it;

		skip_ws(c);
		if (c->err)
			return;
		if (!peek(c, &ch)) {
			cursor_fail(c, SG_ETRUNC);
			return;
		}
		if (ch != '"') {
			/* Valid JSON perhaps, but not an evlog shape. */
			cursor_fail(c, ch == '[' || ch == '{' || ch == '-' ||
			    is_digit(ch) || ch == 't' || ch == 'f' ||
			    ch == 'n' ? SG_EUNSUPP : SG_EMALFORMED);
			return;
		}
		if (j->nitems == JSONL_ITEMS_MAX) {
			cursor_fail(c, SG_ELIMIT);
			return;
		}
		it = &j->items[j->nitems];
		if ((it->str = string(j, c, &it->len)) == NULL)
			return;
		j->nitems++;
		f->n++;
		skip_ws(c);
		if (!peek(c, &ch)) {
			cursor_fail(c, SG_ETRUNC);
			return;
		}
		if (ch != ']' && ch != ',') {
			cursor_fail(c, SG_EMALFORMED);
			return;
		}
		cursor_skip(c, 1);
		if (ch == ']')
			return;
	}
}

static void
value(struct jsonl *j, struct cursor *c, struct jsonl_field *f)
{
	uint8_t ch;

	if (!peek(c, &ch)) {
		cursor_fail(c, SG_ETRUNC);
		return;
	}
	switch (ch) {
	case '"':
		f->type = JSONL_STRING;
		f->str = string(j, c, &f->len);
		break;
	case '[':
		f->type = JSONL_ARRAY;
		array(j, c, f);
		break;
	case '{':
		cursor_fail(c, SG_EUNSUPP);
		break;
	case 't':
		f->type = JSONL_TRUE;
		expect_word(c, "true");
		break;
	case 'f':
		f->type = JSONL_FALSE;
		expect_word(c, "false");
		break;
	case 'n':
		f->type = JSONL_NULL;
		expect_word(c, "null");
		break;
	default:
		if (ch != '-' && !is_digit(ch)) {
			cursor_fail(c, SG_EMALFORMED);
			break;
		}
		f->type = JSONL_NUMBER;
		f->str = number(j, c, &f->len);
		break;
	}
}

static const struct jsonl_field *
find(const struct jsonl *j, const char *key)
{
	size_t i;

	for (i = 0; i < j->nfields; i++)
		if (strcmp(j->fields[i].key, key) == 0)
			return &j->fields[i];
	return NULL;
}

/* One "key": value pair, '"' next. */
static void
member(struct jsonl *j, struct cursor *c)
{
	struct jsonl_field *f;
	const char *key;
	size_t klen;

	if (j->nfields == JSONL_FIELDS_MAX) {
		cursor_fail(c, SG_ELIMIT);
		return;
	}
	if ((key = string(j, c, &klen)) == NULL)
		return;
	if (klen > JSONL_KEY_MAX) {
		cursor_fail(c, SG_ELIMIT);
		return;
	}
	/* A key is looked up as a C string: no NUL, and never twice (which
	   of two values would a reader believe?). */
	if (memchr(key, '\0', klen) != NULL || find(j, key) != NULL) {
		cursor_fail(c, SG_EMALFORMED);
		return;
	}
	skip_ws(c);
	expect(c, ':');
	skip_ws(c);
	f = &j->fields[j->nfields];
	memset(f, 0, sizeof(*f));
	f->key = key;
	value(j, c, f);
	if (c->err == 0)
		j->nfields++;
}

int
jsonl_parse(struct jsonl *j, const void *line, size_t len)
{
	struct cursor c;
	uint8_t ch;

	j->nfields = j->nitems = j->used = j->err_off = 0;
	if (len > JSONL_LINE_MAX)
		return SG_ELIMIT;
	cursor_init(&c, line, len);
	skip_ws(&c);
	expect(&c, '{');
	skip_ws(&c);
	if (peek(&c, &ch) && ch == '}')
		cursor_skip(&c, 1);
	else {
		for (;;) {
			skip_ws(&c);
			member(j, &c);
			skip_ws(&c);
			if (c.err)
				break;
			if (!peek(&c, &ch)) {
				cursor_fail(&c, SG_ETRUNC);
				break;
			}
			if (ch != '}' && ch != ',') {
				cursor_fail(&c, SG_EMALFORMED);
				break;
			}
			cursor_skip(&c, 1);
			if (ch == '}')
				break;
		}
	}
	skip_ws(&c);
	if (c.err == 0 && cursor_left(&c) != 0)
		cursor_fail(&c, SG_EMALFORMED);
	if (c.err != 0) {
		/* c.pos is where the failing read stood. */
		j->err_off = c.pos;
		j->nfields = j->nitems = j->used = 0;
		return c.err;
	}
	return 0;
}

size_t
jsonl_error_offset(const struct jsonl *j)
{
	return j->err_off;
}

size_t
jsonl_nfields(const struct jsonl *j)
{
	return j->nfields;
}

const char *
jsonl_key(const struct jsonl *j, size_t i)
{
	return i < j->nfields ? j->fields[i].key : NULL;
}

enum jsonl_type
jsonl_type(const struct jsonl *j, const char *key)
{
	const struct jsonl_field *f = find(j, key);

	return f != NULL ? f->type : JSONL_ABSENT;
}

const char *
jsonl_string(const struct jsonl *j, const char *key, size_t *len)
{
	const struct jsonl_field *f = find(j, key);

	if (f == NULL || f->type != JSONL_STRING)
		return NULL;
	if (len != NULL)
		*len = f->len;
	return f->str;
}

const char *
jsonl_number(const struct jsonl *j, const char *key, size_t *len)
{
	const struct jsonl_field *f = find(j, key);

	if (f == NULL || f->type != JSONL_NUMBER)
		return NULL;
	if (len != NULL)
		*len = f->len;
	return f->str;
}

bool
jsonl_u64(const struct jsonl *j, const char *key, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	size_t len, i;

	if ((s = jsonl_number(j, key, &len)) == NULL)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (!is_digit((uint8_t)s[i]))
			return false;	/* '-', '.', 'e' */
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool
jsonl_bool(const struct jsonl *j, const char *key, bool *out)
{
	enum jsonl_type t = jsonl_type(j, key);

	if (t != JSONL_TRUE && t != JSONL_FALSE)
		return false;
	*out = t == JSONL_TRUE;
	return true;
}

size_t
jsonl_array_len(const struct jsonl *j, const char *key)
{
	const struct jsonl_field *f = find(j, key);

	return f != NULL && f->type == JSONL_ARRAY ? f->n : 0;
}

const char *
jsonl_array_string(const struct jsonl *j, const char *key, size_t i,
    size_t *len)
{
	const struct jsonl_field *f = find(j, key);
	const struct jsonl_item *it;

	if (f == NULL || f->type != JSONL_ARRAY || i >= f->n)
		return NULL;
	it = &j->items[f->first + i];
	if (len != NULL)
		*len = it->len;
	return it->str;
}
