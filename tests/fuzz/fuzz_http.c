/*
 * fuzz_http.c - http_request_host() on anything.  Every return is one of
 * the documented ones; a host read is NUL-terminated, within HTTP_HOST_MAX,
 * lower case and printable; and the stream, fed in pieces whose sizes come
 * from the input, gives the same answer as fed whole (SG_ETRUNC always
 * asks for more than it was given, and never more than the cap).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int rc, const struct http_request *r, size_t len)
{
	size_t i;

	assert(rc == 0 || rc == SG_ETRUNC || rc == SG_EUNSUPP ||
	    rc == SG_EMALFORMED || rc == SG_ELIMIT);
	if (rc == SG_ETRUNC)
		assert(r->need > len && r->need <= HTTP_HEADER_MAX);
	if (rc != 0) {
		assert(!r->has_host && r->host[0] == '\0');
		return;
	}
	assert(strlen(r->method) > 0 && strlen(r->method) <= HTTP_METHOD_MAX);
	if (!r->has_host) {
		assert(r->host_len == 0 && r->host[0] == '\0');
		return;
	}
	assert(r->host_len > 0 && r->host_len <= HTTP_HOST_MAX);
	assert(strlen(r->host) == r->host_len);
	for (i = 0; i < r->host_len; i++)
		assert(r->host[i] > 0x20 && r->host[i] < 0x7f &&
		    !(r->host[i] >= 'A' && r->host[i] <= 'Z'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request whole, part;
	size_t have = 0, step;
	int rc, prc, krc;

	rc = http_request_host(data, size, &whole);
	check(rc, &whole, size);
	for (;;) {
		step = 1 + (have < size ? data[have] % 64 : 0);
		have = have + step < size ? have + step : size;
		prc = http_request_host(data, have, &part);
		check(prc, &part, have);
		if (prc != SG_ETRUNC || have == size)
			break;
		/*
		 * need is a lower bound: before it, more bytes may only show
		 * the stream broken, never give another answer than whole.
		 */
		if (part.need <= size) {
			krc = http_request_host(data, part.need - 1, &part);
			assert(krc == SG_ETRUNC || krc == rc);
		}
	}
	assert(prc == rc);
	if (rc == 0)
		assert(memcmp(&part, &whole, sizeof(part)) == 0);
	return 0;
}
