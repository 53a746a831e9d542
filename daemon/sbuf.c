/*
 * sbuf.c - see sbuf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sbuf.h"

void
sbuf_init(struct sbuf *b, char *buf, size_t cap)
{
	b->p = buf;
	b->len = 0;
	b->cap = cap;
	b->overflow = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

void
sbuf_bytes(struct sbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_bytes(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

void
sbuf_json_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t i;

	sbuf_bytes(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char two[2] = { '\\', (char)ch };

			sbuf_bytes(b, two, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			sbuf_bytes(b, esc, 6);
		} else
			sbuf_bytes(b, (const char *)&ch, 1);
	}
	sbuf_bytes(b, "\"", 1);
}
