/*
 * fuzz_tls.c - tls_client_hello_stream() and tls_client_hello_msg() on
 * anything.  Every return is one of the documented ones; a name read is
 * NUL-terminated, within TLS_NAME_MAX and printable; and the stream, fed
 * in pieces whose sizes come from the input, gives the same answer as fed
 * whole (SG_ETRUNC always asks for more than it was given).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int rc, const struct tls_hello *h, size_t len)
{
	size_t i;

	assert(rc == 0 || rc == SG_ETRUNC || rc == SG_EUNSUPP ||
	    rc == SG_EMALFORMED || rc == SG_ELIMIT);
	if (rc == SG_ETRUNC)
		assert(h->need > len && h->need <= TLS_HELLO_MAX);
	if (rc != 0 || !h->has_sni) {
		assert(!h->has_sni && h->sni[0] == '\0');
		return;
	}
	assert(h->sni_len > 0 && h->sni_len <= TLS_NAME_MAX);
	assert(strlen(h->sni) == h->sni_len);
	for (i = 0; i < h->sni_len; i++)
		assert(h->sni[i] > 0x20 && h->sni[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello whole, part;
	size_t have = 0, step;
	int rc, prc, krc;

	rc = tls_client_hello_msg(data, size, &whole);
	check(rc, &whole, size);
	rc = tls_client_hello_stream(data, size, &whole);
	check(rc, &whole, size);
	/* Pieces: sizes from the input's own bytes, 1 to 64. */
	for (;;) {
		step = 1 + (have < size ? data[have] % 64 : 0);
		have = have + step < size ? have + step : size;
		prc = tls_client_hello_stream(data, have, &part);
		check(prc, &part, have);
		if (prc != SG_ETRUNC || have == size)
			break;
		/*
		 * need is a lower bound: before it, more bytes may only show
		 * the stream broken, never give another answer than whole.
		 */
		if (part.need <= size) {
			krc = tls_client_hello_stream(data, part.need - 1, &part);
			assert(krc == SG_ETRUNC || krc == rc);
		}
	}
	assert(prc == rc);
	if (rc == 0)
		assert(memcmp(&part, &whole, sizeof(part)) == 0);
	return 0;
}
