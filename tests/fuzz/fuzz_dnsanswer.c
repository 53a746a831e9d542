/*
 * fuzz_dnsanswer.c - safehosts_parse_answer() on anything.
 *
 * The input is taken as the answer to the query it holds itself (its id,
 * and its first question's name and type when dns_parse() reads one, A or
 * AAAA), so the fuzzer gets past the checks of whose answer it is; it is
 * also read as an answer about forcesafesearch.google.com.  The output
 * room is the input's size modulo 9 addresses.  Every return is one of the
 * documented ones; on success the addresses are of the type asked for,
 * all different and within the room; on error there are none.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "safehosts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const uint8_t *data, size_t size, uint16_t id, const char *qname,
    uint16_t qtype)
{
	struct sg_addr	out[SAFEHOSTS_MAX_PER_FAMILY + 1];
	size_t		max = size % (SAFEHOSTS_MAX_PER_FAMILY + 1);
	size_t		n = 99, i, k;
	uint32_t	ttl = 99;
	int		rc;

	rc = safehosts_parse_answer(data, size, id, qname, qtype, out, max,
	    &n, &ttl);
	assert(rc == 0 || rc == SG_ENOTFOUND || rc == -EBADMSG ||
	    rc == -EMSGSIZE || rc == -EREMOTEIO || rc == SG_ETRUNC ||
	    rc == SG_EMALFORMED || rc == SG_ELIMIT || rc == -EINVAL);
	if (rc != 0) {
		assert(n == 0);
		return;
	}
	assert(n <= max);
	assert(ttl <= 0x7fffffffu);
	for (i = 0; i < n; i++) {
		assert(out[i].family ==
		    (qtype == DNS_T_A ? AF_INET : AF_INET6));
		for (k = 0; k < i; k++)
			assert(!addr_equal(&out[i], &out[k]));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg	m;
	uint16_t	id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	check(data, size, id, "forcesafesearch.google.com", DNS_T_A);
	check(data, size, id, "forcesafesearch.google.com", DNS_T_AAAA);
	if (dns_parse(&m, data, size) != 0 || m.nquestions < 1 ||
	    (m.q[0].qtype != DNS_T_A && m.q[0].qtype != DNS_T_AAAA) ||
	    strlen(m.q[0].name) != m.q[0].name_len)
		return 0;
	check(data, size, id, m.q[0].name, m.q[0].qtype);
	return 0;
}
