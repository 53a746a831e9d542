/*
 * hello.c - see hello.h.
 */
#include <string.h>

#include "hello.h"

size_t
test_client_hello(uint8_t *b, const char *sni, size_t pad)
{
	size_t n = 0, ext, hs, rec, sn = sni != NULL ? strlen(sni) : 0, i;

#define U8(v)	(b[n++] = (uint8_t)(v))
#define U16(v)	(U8((v) >> 8), U8((v) & 0xff))
	U8(0x16); U16(0x0301); rec = n; U16(0);
	U8(1); hs = n; U8(0); U16(0);
	U16(0x0303);
	for (i = 0; i < 32; i++)
		U8(i);				/* random */
	U8(0);					/* session id */
	U16(2); U16(0x1301);			/* cipher suites */
	U8(1); U8(0);				/* compression */
	ext = n; U16(0);
	if (sni != NULL) {
		U16(0); U16(sn + 5); U16(sn + 3); U8(0); U16(sn);
		memcpy(b + n, sni, sn);
		n += sn;
	}
	U16(43); U16(3); U8(2); U16(0x0304);	/* supported_versions */
	if (pad > 0) {
		U16(21); U16(pad);		/* padding */
		memset(b + n, 0, pad);
		n += pad;
	}
	b[ext] = (uint8_t)((n - ext - 2) >> 8);
	b[ext + 1] = (uint8_t)(n - ext - 2);
	b[hs] = (uint8_t)((n - hs - 3) >> 16);
	b[hs + 1] = (uint8_t)((n - hs - 3) >> 8);
	b[hs + 2] = (uint8_t)(n - hs - 3);
	b[rec] = (uint8_t)((n - rec - 2) >> 8);
	b[rec + 1] = (uint8_t)(n - rec - 2);
#undef U8
#undef U16
	return n;
}
