/*
 * Unit tests: the replay's line writer (JSON and readable) and its set of
 * settled flows.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "replay.h"
#include "snapshot.h"

static struct pipeline_result res;

static void
result(enum request_kind kind, const char *name, size_t len)
{
	memset(&res, 0, sizeof(res));
	res.decided = true;
	res.outcome = PL_ACCEPT_ALLOWED;
	res.req.kind = kind;
	if (name != NULL) {
		memcpy(res.name, name, len);
		res.name[len] = '\0';
		res.req.name = res.name;
		res.req.name_len = len;
	}
}

static const char *
fmt(bool json)
{
	static char line[REPLAY_LINE_MAX];
	int n;

	n = replay_format(NULL, 7, &res, json, line, sizeof(line));
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(line));
	return line;
}

Test(replay, json_dns_allowed)
{
	result(REQ_DNS, "www.example.com", 15);
	cr_assert_str_eq(fmt(true), "{\"frame\":7,\"kind\":\"dns\","
	    "\"name\":\"www.example.com\",\"action\":\"allow\","
	    "\"outcome\":\"accept_allowed\",\"categories\":[]}\n");
	cr_assert_str_eq(fmt(false),
	    "7\tdns\twww.example.com\tallow\t-\taccept_allowed\n");
}

Test(replay, json_escapes_any_byte)
{
	result(REQ_DNS, "a\"b\\c\001\x7f\xff.d", 10);
	cr_assert_str_eq(fmt(true), "{\"frame\":7,\"kind\":\"dns\","
	    "\"name\":\"a\\\"b\\\\c\\u0001\\u007f\\u00ff.d\","
	    "\"action\":\"allow\",\"outcome\":\"accept_allowed\","
	    "\"categories\":[]}\n");
	cr_assert_str_eq(fmt(false), "7\tdns\ta\"b\\134c\\001\\177\\377.d"
	    "\tallow\t-\taccept_allowed\n");
}

Test(replay, json_nul_in_name)
{
	result(REQ_DNS, "a\0b", 3);
	cr_assert(strstr(fmt(true), "\"name\":\"a\\u0000b\"") != NULL);
}

Test(replay, confidential_name_is_null)
{
	result(REQ_TLS, "secret.example", 14);
	res.dec.confidential = true;
	res.dec.action = ACTION_BLOCK;
	res.dec.matched = 1u << 2;
	res.outcome = PL_DROP_BLOCKED_RESET;
	res.drop = true;
	cr_assert_str_eq(fmt(true), "{\"frame\":7,\"kind\":\"tls\","
	    "\"name\":null,\"action\":\"block\","
	    "\"outcome\":\"drop_blocked_reset\",\"categories\":[\"#2\"]}\n");
	cr_assert(strstr(fmt(false), "secret") == NULL);
	cr_assert(strstr(fmt(true), "secret") == NULL);
}

Test(replay, no_sni_and_ech)
{
	result(REQ_QUIC, NULL, 0);
	res.flow.status = FLOW_NO_NAME;
	res.outcome = PL_ACCEPT_NO_SNI;
	cr_assert_str_eq(fmt(true), "{\"frame\":7,\"kind\":\"quic\","
	    "\"name\":null,\"action\":\"allow\",\"outcome\":\"accept_no_sni\","
	    "\"categories\":[],\"no_sni\":true}\n");
	result(REQ_TLS, "public.example", 14);
	res.flow.status = FLOW_NAME;
	res.flow.ech = true;
	cr_assert(strstr(fmt(true), ",\"ech\":true}\n") != NULL);
	cr_assert(strstr(fmt(false), "\tech\n") != NULL);
}

Test(replay, root_name)
{
	result(REQ_DNS, "", 0);
	cr_assert(strstr(fmt(true), "\"name\":\"\"") != NULL);
	cr_assert(strstr(fmt(false), "\t<root>\t") != NULL);
}

Test(replay, small_buffer)
{
	char line[16];

	result(REQ_DNS, "www.example.com", 15);
	cr_assert_eq(replay_format(NULL, 1, &res, true, line, sizeof(line)),
	    SG_ELIMIT);
	cr_assert_eq(replay_format(NULL, 1, &res, true, line, 0), SG_ELIMIT);
}

Test(replay, longest_line_fits)
{
	char name[DNS_TEXT_MAX];

	memset(name, 0xff, sizeof(name));
	result(REQ_DNS, name, sizeof(name) - 1);
	res.dec.matched = ~UINT64_C(0);
	(void)fmt(true);
	(void)fmt(false);
}

static struct packet
tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(addr_parse(&p.src, src), 0);
	cr_assert_eq(addr_parse(&p.dst, dst), 0);
	p.proto = IPPROTO_TCP;
	p.sport = sport;
	p.dport = dport;
	return p;
}

Test(replay, flows_both_directions)
{
	struct replay_flows *s = replay_flows_new(4);
	struct packet out = tcp("10.0.0.1", 40000, "192.0.2.1", 443);
	struct packet in = tcp("192.0.2.1", 443, "10.0.0.1", 40000);
	struct packet other = tcp("10.0.0.1", 40001, "192.0.2.1", 443);
	struct packet udp = out;

	cr_assert_not_null(s);
	udp.proto = IPPROTO_UDP;
	cr_assert_not(replay_flows_has(s, &out));
	cr_assert_not(replay_flows_add(s, &out));
	cr_assert(replay_flows_has(s, &out));
	cr_assert(replay_flows_has(s, &in));
	cr_assert_not(replay_flows_has(s, &other));
	cr_assert_not(replay_flows_has(s, &udp));
	/* Adding the reply direction is the same flow. */
	cr_assert_not(replay_flows_add(s, &in));
	cr_assert_eq(replay_flows_count(s), 1);
	replay_flows_free(s);
}

Test(replay, flows_ipv6_and_non_flows)
{
	struct replay_flows *s = replay_flows_new(2);
	struct packet a = tcp("2001:db8::1", 5000, "2001:db8::2", 443);
	struct packet frag = tcp("10.0.0.1", 1, "10.0.0.2", 2);

	cr_assert_not_null(s);
	frag.fragment = true;
	cr_assert_not(replay_flows_add(s, &frag));
	cr_assert_not(replay_flows_has(s, &frag));
	cr_assert_eq(replay_flows_count(s), 0);
	cr_assert_not(replay_flows_add(s, &a));
	cr_assert(replay_flows_has(s, &a));
	replay_flows_free(s);
}

Test(replay, flows_bounded_forget_oldest)
{
	struct replay_flows *s = replay_flows_new(3);
	struct packet p[5];
	unsigned i;

	cr_assert_not_null(s);
	for (i = 0; i < 5; i++)
		p[i] = tcp("10.0.0.1", (uint16_t)(1000 + i), "192.0.2.1", 443);
	for (i = 0; i < 3; i++)
		cr_assert_not(replay_flows_add(s, &p[i]));
	cr_assert(replay_flows_add(s, &p[3]));		/* forgets p[0] */
	cr_assert_not(replay_flows_has(s, &p[0]));
	cr_assert(replay_flows_has(s, &p[1]));
	cr_assert(replay_flows_has(s, &p[3]));
	cr_assert(replay_flows_add(s, &p[4]));		/* forgets p[1] */
	cr_assert_not(replay_flows_has(s, &p[1]));
	cr_assert(replay_flows_has(s, &p[2]));
	cr_assert(replay_flows_has(s, &p[4]));
	cr_assert_eq(replay_flows_count(s), 3);
	/* Forgotten flows can come back. */
	cr_assert(replay_flows_add(s, &p[0]));
	cr_assert(replay_flows_has(s, &p[0]));
	replay_flows_free(s);
}

Test(replay, flows_zero_is_refused)
{
	cr_assert_null(replay_flows_new(0));
}

Test(replay, file_missing)
{
	struct replay_opts o = { .json = true };
	struct replay_stats st;
	char err[256];

	cr_assert_lt(replay_file(NULL, "/nonexistent/x.pcap", &o, stdout, &st,
	    err, sizeof(err)), 0);
	cr_assert_neq(err[0], '\0');
}
