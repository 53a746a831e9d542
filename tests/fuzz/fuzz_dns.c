/*
 * fuzz_dns.c - dns_parse() on anything; a query it accepts is answered in
 * every mode, and no answer may be larger than the buffer it was given.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dns_block_spec specs[] = {
		{ DNS_BLOCK_NXDOMAIN, 60, { AF_UNSPEC }, { AF_UNSPEC } },
		{ DNS_BLOCK_NULL, 60, { AF_UNSPEC }, { AF_UNSPEC } },
		{ DNS_BLOCK_ADDRESS, 60, { AF_INET, { { 192, 0, 2, 1 } } },
		    { AF_UNSPEC } },
	};
	struct dns_msg msg;
	uint8_t out[1232];
	size_t cap, len, i;

	if (dns_parse(&msg, data, size) != 0 || msg.qr)
		return 0;
	cap = size % 2 ? sizeof(out) : 512;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (dns_build_block(data, size, &msg, &specs[i], out, cap,
		    &len) == 0)
			assert(len <= cap && len >= DNS_HDR_LEN &&
			    (msg.has_edns || len <= 512));
	return 0;
}
