/*
 * wire.c - see wire.h.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "dns.h"
#include "wire.h"

void
w_reset(struct wire *w)
{
	w->len = 0;
	w->nlens = 0;
}

void
w_u8(struct wire *w, unsigned v)
{
	cr_assert_lt(w->len, sizeof(w->b));
	w->b[w->len++] = (uint8_t)v;
}

void
w_u16(struct wire *w, unsigned v)
{
	w_u8(w, v >> 8);
	w_u8(w, v & 0xff);
}

void
w_u32(struct wire *w, uint32_t v)
{
	w_u16(w, v >> 16);
	w_u16(w, v & 0xffff);
}

void
w_bytes(struct wire *w, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		w_u8(w, s[i]);
}

void
w_set16(struct wire *w, size_t off, unsigned v)
{
	cr_assert_leq(off + 2, w->len);
	w->b[off] = (uint8_t)(v >> 8);
	w->b[off + 1] = (uint8_t)v;
}

size_t
w_open_len(struct wire *w, uint8_t size)
{
	size_t at = w->len, i;

	cr_assert_lt(w->nlens, WIRE_LENS);
	w->lens[w->nlens] = at;
	w->lsize[w->nlens++] = size;
	for (i = 0; i < size; i++)
		w_u8(w, 0);
	return at;
}

void
w_close_len(struct wire *w, size_t at, uint8_t size)
{
	size_t v = w->len - at - size, i;

	for (i = 0; i < size; i++)
		w->b[at + i] = (uint8_t)(v >> (8 * (size - 1 - i)));
}

void
w_name(struct wire *w, const char *name)
{
	const char *dot;
	size_t n;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		w_u8(w, (unsigned)n);
		w_bytes(w, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	w_u8(w, 0);
}

void
w_ptr(struct wire *w, unsigned off)
{
	w_u16(w, 0xc000 | off);
}

void
w_hdr(struct wire *w, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	w_reset(w);
	w_u16(w, id);
	w_u16(w, flags);
	w_u16(w, qd);
	w_u16(w, an);
	w_u16(w, ns);
	w_u16(w, ar);
}

void
w_q(struct wire *w, const char *name, unsigned type, unsigned class)
{
	w_name(w, name);
	w_u16(w, type);
	w_u16(w, class);
}

void
w_rr_tail(struct wire *w, unsigned type, unsigned class, uint32_t ttl,
    const void *rdata, unsigned rdlen)
{
	w_u16(w, type);
	w_u16(w, class);
	w_u32(w, ttl);
	w_u16(w, rdlen);
	w_bytes(w, rdata, rdlen);
}

void
w_opt(struct wire *w, unsigned udp, bool dobit)
{
	w_u8(w, 0);
	w_u16(w, DNS_T_OPT);
	w_u16(w, udp);
	w_u32(w, dobit ? 0x8000 : 0);
	w_u16(w, 0);
}
