/*
 * fuzz_dns.c - dns_parse() on anything; a query it accepts is answered in
 * every mode.  No answer may be larger than the buffer it was given, and
 * every answer must read back, in ldns (an independent implementation),
 * as a response to that query: same id, RD, questions and names.
 */
#include <assert.h>
#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "packet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_with_ldns(const struct dns_msg *q, const uint8_t *a, size_t len)
{
	struct dns_msg back;
	ldns_pkt *p = NULL;
	unsigned i;

	assert(ldns_wire2pkt(&p, a, len) == LDNS_STATUS_OK);
	assert(ldns_pkt_id(p) == q->id && ldns_pkt_qr(p) &&
	    ldns_pkt_rd(p) == q->rd);
	assert(ldns_pkt_qdcount(p) == q->nquestions);
	ldns_pkt_free(p);
	/* Our own parser reads the same names back, too. */
	assert(dns_parse(&back, a, len) == 0);
	assert(back.qr && back.nquestions == q->nquestions);
	for (i = 0; i < q->nquestions; i++)
		assert(back.q[i].name_len == q->q[i].name_len &&
		    memcmp(back.q[i].name, q->q[i].name,
		    q->q[i].name_len) == 0);
}

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
		    &len) == 0) {
			assert(len <= cap && len >= DNS_HDR_LEN &&
			    (msg.has_edns || len <= 512));
			check_with_ldns(&msg, out, len);
		}
	return 0;
}
