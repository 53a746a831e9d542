/*
 * cursor.h - bounds-checked reads over untrusted bytes, with a sticky error.
 *
 * Every parser in safegate (packets, DNS, list files, ...) reads through a
 * cursor.  A read past the end sets `err` to SG_ETRUNC and returns zero; every
 * later read is a no-op that also returns zero.  A parser therefore reads all
 * the fields it needs and checks `err` once, before it acts on them.
 *
 * A cursor never owns its bytes: they belong to the caller and must outlive it.
 * Pointers returned by cursor_bytes() point into those bytes.
 */
#ifndef SG_CURSOR_H
#define SG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

struct cursor {
	const uint8_t	*base;
	size_t		 len;
	size_t		 pos;
	int		 err;	/* 0, or the first error (sticky) */
};

static inline void
cursor_init(struct cursor *c, const void *buf, size_t len)
{
	c->base = buf;
	c->len = buf != NULL ? len : 0;
	c->pos = 0;
	c->err = 0;
}

/* Sets the error if none is set yet; the first error wins. */
static inline void
cursor_fail(struct cursor *c, int err)
{
	if (c->err == 0)
		c->err = err;
}

static inline size_t
cursor_left(const struct cursor *c)
{
	return c->err ? 0 : c->len - c->pos;
}

static inline bool
cursor_need(struct cursor *c, size_t n)
{
	if (c->err)
		return false;
	if (n > c->len - c->pos) {
		c->err = SG_ETRUNC;
		return false;
	}
	return true;
}

static inline uint8_t
cursor_u8(struct cursor *c)
{
	if (!cursor_need(c, 1))
		return 0;
	return c->base[c->pos++];
}

/* Multi-byte reads are in network (big-endian) order. */
static inline uint16_t
cursor_u16(struct cursor *c)
{
	uint16_t v;

	if (!cursor_need(c, 2))
		return 0;
	v = (uint16_t)(c->base[c->pos] << 8 | c->base[c->pos + 1]);
	c->pos += 2;
	return v;
}

static inline uint32_t
cursor_u24(struct cursor *c)
{
	uint32_t v;

	if (!cursor_need(c, 3))
		return 0;
	v = (uint32_t)c->base[c->pos] << 16 | (uint32_t)c->base[c->pos + 1] << 8 |
	    c->base[c->pos + 2];
	c->pos += 3;
	return v;
}

static inline uint32_t
cursor_u32(struct cursor *c)
{
	uint32_t v;

	if (!cursor_need(c, 4))
		return 0;
	v = (uint32_t)c->base[c->pos] << 24 |
	    (uint32_t)c->base[c->pos + 1] << 16 |
	    (uint32_t)c->base[c->pos + 2] << 8 | c->base[c->pos + 3];
	c->pos += 4;
	return v;
}

/* Returns a pointer to the next n bytes and skips them, or NULL. */
static inline const uint8_t *
cursor_bytes(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (!cursor_need(c, n))
		return NULL;
	p = c->base + c->pos;
	c->pos += n;
	return p;
}

static inline void
cursor_skip(struct cursor *c, size_t n)
{
	(void)cursor_bytes(c, n);
}

/* Copies the next n bytes into dst; on error dst is left untouched. */
static inline void
cursor_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *p = cursor_bytes(c, n);

	if (p != NULL && n > 0)
		memcpy(dst, p, n);
}

/* The next byte without consuming it; 0 (and no error) at the end. */
static inline uint8_t
cursor_peek_u8(const struct cursor *c)
{
	if (c->err || c->pos >= c->len)
		return 0;
	return c->base[c->pos];
}

static inline const uint8_t *
cursor_here(const struct cursor *c)
{
	return c->base + c->pos;
}

/* Moves to an absolute offset within the buffer. */
static inline void
cursor_seek(struct cursor *c, size_t pos)
{
	if (c->err)
		return;
	if (pos > c->len) {
		c->err = SG_ETRUNC;
		return;
	}
	c->pos = pos;
}

/*
 * Splits off the next n bytes as a cursor of their own and skips them in c.
 * On error the sub-cursor carries the error too.
 */
static inline struct cursor
cursor_sub(struct cursor *c, size_t n)
{
	struct cursor s;
	const uint8_t *p = cursor_bytes(c, n);

	cursor_init(&s, p, p != NULL ? n : 0);
	if (p == NULL)
		s.err = c->err;
	return s;
}

/*
 * Text: the next line, without its terminator ("\n" or "\r\n"), or NULL at
 * the end of the input.  A final line without a newline is returned too.
 * *len receives the line's length.  Lines are never copied.
 */
static inline const char *
cursor_line(struct cursor *c, size_t *len)
{
	const uint8_t *start, *end, *nl;
	size_t n;

	if (c->err || c->pos >= c->len)
		return NULL;
	start = c->base + c->pos;
	end = c->base + c->len;
	nl = memchr(start, '\n', (size_t)(end - start));
	if (nl == NULL)
		nl = end;
	n = (size_t)(nl - start);
	c->pos += n + (nl < end ? 1 : 0);
	if (n > 0 && start[n - 1] == '\r')
		n--;
	*len = n;
	return (const char *)start;
}

/* The value of an ASCII hex digit, either case, or -1. */
static inline int
cursor_hex_value(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

#endif
