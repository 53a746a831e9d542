/*
 * fuzz_dns.c - dns_parse() on anything; a query it accepts is answered in
 * every mode.  No answer may be larger than the buffer it was given, and
 * every answer must read back, in ldns (an independent implementation),
 * as a response to that query: same id, RD, questions and names.
 *
 * And the parser is held against ldns: whatever question names dns_parse()
 * reads, ldns must read the same (dns_parse() may refuse more than ldns -
 * forward pointers, say - never less, and never read another name).
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

/* Our text form of a wire name: labels joined by '.', ASCII lower case. */
static size_t
text_of(const uint8_t *w, size_t wlen, char *out)
{
	size_t i = 0, n = 0, l, k;

	while (i < wlen && w[i] != 0) {
		l = w[i++];
		if (n > 0)
			out[n++] = '.';
		for (k = 0; k < l && i < wlen; k++, i++)
			out[n++] = (char)(w[i] >= 'A' && w[i] <= 'Z' ?
			    w[i] + 32 : w[i]);
	}
	return n;
}

static void
same_questions_as_ldns(const struct dns_msg *msg, const uint8_t *data,
    size_t size)
{
	static uint8_t copy[65536];
	char text[DNS_NAME_MAX + 1];
	ldns_pkt *p = NULL;
	const ldns_rdf *owner;
	unsigned i;
	size_t n;

	/* The questions only: ldns checks rdata dns_parse() skips. */
	memcpy(copy, data, size);
	memset(copy + 6, 0, 6);
	assert(ldns_wire2pkt(&p, copy, size) == LDNS_STATUS_OK);
	assert(ldns_pkt_qdcount(p) == msg->nquestions);
	for (i = 0; i < msg->nquestions; i++) {
		owner = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), i));
		n = text_of(ldns_rdf_data(owner), ldns_rdf_size(owner), text);
		assert(n == msg->q[i].name_len &&
		    memcmp(text, msg->q[i].name, n) == 0);
	}
	ldns_pkt_free(p);
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

	if (dns_parse(&msg, data, size) != 0)
		return 0;
	same_questions_as_ldns(&msg, data, size);
	if (msg.qr)
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
