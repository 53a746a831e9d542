/*
 * Unit tests: one packet through the pipeline against an in-memory
 * snapshot - the verdict, the reason, and the packets forged.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "dns.h"
#include "sgdb.h"
#include "hello.h"
#include "sets.h"
#include "pagelink.h"
#include "pipeline.h"
#include "snapshot.h"

static struct snapshot *snap;
static struct pipeline_result res;

/* A compiled set of names, each in the category of the same index. */
static struct sgdb *
make_set(const char *const *names, const char *const *cats, size_t n)
{
	struct test_entry e[8];
	size_t i;

	cr_assert_leq(n, 8);
	for (i = 0; i < n; i++)
		e[i] = (struct test_entry){ names[i], cats[i], false };
	return test_set(e, n);
}

static void
setup(void)
{
	static const char conf[] =
	    "dns = { block_response = \"nxdomain\"; ttl = 77; };\n"
	    "lists = ( { category = \"adult\"; files = [ \"a\" ]; },\n"
	    "          { category = \"games\"; files = [ \"g\" ]; } );\n"
	    "block = [ \"adult\" ];\n";
	static const char *const names[] = { "blocked.test", "game.test" };
	static const char *const cats[] = { "adult", "games" };
	struct config *cfg;
	char err[CONFIG_ERR_LEN];

	cfg = config_load_string("test", conf, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	snap = snapshot_new(cfg, make_set(names, cats, 2), err, sizeof(err));
	cr_assert_not_null(snap, "%s", err);
}

static void
teardown(void)
{
	snapshot_free(snap);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

/* A DNS query for name/type, wire format, into buf.  Returns its length. */
static size_t
query(uint8_t *buf, const char *name, uint16_t type, bool rd)
{
	size_t n = 12, l;
	const char *dot;

	memset(buf, 0, 12);
	buf[0] = 0xbe;
	buf[1] = 0xef;
	buf[2] = rd ? 0x01 : 0;
	buf[5] = 1;
	while (*name) {
		dot = strchr(name, '.');
		l = dot ? (size_t)(dot - name) : strlen(name);
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(type >> 8);
	buf[n++] = (uint8_t)type;
	buf[n++] = 0;
	buf[n++] = 1;
	return n;
}

static struct sg_addr
A(const char *s)
{
	struct sg_addr a;

	cr_assert_eq(addr_parse(&a, s), 0);
	return a;
}

static size_t
udp_query(uint8_t *pkt, const char *client, const char *server,
    const char *name, uint16_t type)
{
	struct sg_addr c = A(client), s = A(server);
	uint8_t q[512];
	size_t qlen = query(q, name, type, true);
	int n;

	n = packet_build_udp(pkt, PACKET_FORGE_MAX, &c, &s, 40000, 53, q,
	    qlen);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

static void
run(const uint8_t *pkt, size_t len)
{
	struct pipeline_meta meta = { 0 };

	pipeline_run(snap, NULL, &meta, pkt, len, &res);
}

Test(pipeline, allowed_name_is_accepted_untouched)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "allowed.test", 1);

	run(pkt, n);
	cr_assert_not(res.drop);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	cr_assert_eq(res.nout, 0);
}

Test(pipeline, listed_but_not_blocked_category_is_accepted)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "www.game.test", 1);

	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	cr_assert_eq(res.dec.matched, 2);
	cr_assert_eq(res.dec.blocked, 0);
}

Test(pipeline, blocked_udp_query_is_answered_from_the_server)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	struct dns_msg m;
	struct packet p;
	size_t n = udp_query(pkt, "fd00::2", "2001:db8::53", "WWW.Blocked.Test",
	    28);

	run(pkt, n);
	cr_assert(res.drop);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED);
	cr_assert_str_eq(res.name, "www.blocked.test");
	cr_assert_eq(res.dec.blocked, 1);
	cr_assert_eq(res.dec.rule_len, 12);
	cr_assert_eq(memcmp(res.dec.rule, "blocked.test", 12), 0);
	cr_assert_str_eq(res.action, "nxdomain");
	cr_assert_eq(res.nout, 1);
	cr_assert_eq(packet_parse(&p, res.out[0].pkt, res.out[0].len), 0);
	{
		struct sg_addr srv = A("2001:db8::53"), cli = A("fd00::2");

		cr_assert(addr_equal(&p.src, &srv), "from the server asked");
		cr_assert(addr_equal(&p.dst, &cli));
	}
	cr_assert_eq(p.sport, 53);
	cr_assert_eq(p.dport, 40000);
	cr_assert_eq(dns_parse(&m, p.payload, p.payload_len), 0);
	cr_assert(m.qr);
	cr_assert_eq(m.id, 0xbeef);
	cr_assert(m.rd);
	cr_assert_eq(m.rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(m.nquestions, 1);
	cr_assert_str_eq(m.q[0].name, "www.blocked.test");
	cr_assert_eq(m.q[0].qtype, 28);
}

Test(pipeline, blocked_tcp_query_resets_both_ways)
{
	struct sg_addr c = A("10.0.0.2"), s = A("10.0.0.1");
	uint8_t q[512], seg[PACKET_FORGE_MAX], pkt[PACKET_FORGE_MAX];
	struct packet p, r0, r1;
	size_t qlen = query(q + 2, "blocked.test", 1, true);
	int n, hl;

	q[0] = (uint8_t)(qlen >> 8);
	q[1] = (uint8_t)qlen;
	/* Build a bare segment, then append the data by hand. */
	n = packet_build_tcp(seg, sizeof(seg), &c, &s, 33333, 53, 1000, 5000,
	    TCP_ACK | TCP_PSH);
	hl = n;
	memcpy(pkt, seg, (size_t)n);
	memcpy(pkt + hl, q, qlen + 2);
	pkt[2] = (uint8_t)((hl + qlen + 2) >> 8);
	pkt[3] = (uint8_t)(hl + qlen + 2);
	run(pkt, (size_t)hl + qlen + 2);
	cr_assert(res.drop);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_RESET);
	cr_assert_eq(res.nout, 2);
	cr_assert_eq(packet_parse(&r0, res.out[0].pkt, res.out[0].len), 0);
	cr_assert_eq(packet_parse(&r1, res.out[1].pkt, res.out[1].len), 0);
	cr_assert_eq(packet_parse(&p, pkt, (size_t)hl + qlen + 2), 0);
	/* To the client, from the server, in its window. */
	cr_assert(addr_equal(&r0.dst, &c));
	cr_assert_eq(r0.dport, 33333);
	cr_assert(r0.tcp_flags & TCP_RST);
	cr_assert_eq(r0.seq, 5000);
	cr_assert_eq(r0.ack, 1000 + qlen + 2);
	/* To the server, from the client, at the dropped segment's seq. */
	cr_assert(addr_equal(&r1.dst, &s));
	cr_assert_eq(r1.dport, 53);
	cr_assert(r1.tcp_flags & TCP_RST);
	cr_assert_eq(r1.seq, 1000);
}

Test(pipeline, tcp_without_data_and_partial_messages)
{
	struct sg_addr c = A("10.0.0.2"), s = A("10.0.0.1");
	uint8_t pkt[PACKET_FORGE_MAX];
	int n;

	n = packet_build_tcp(pkt, sizeof(pkt), &c, &s, 33333, 53, 1, 0,
	    TCP_SYN);
	run(pkt, (size_t)n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NO_PAYLOAD);
	cr_assert_not(res.drop);
	/* Two bytes of data: a length, and no message. */
	pkt[n] = 0;
	pkt[n + 1] = 30;
	pkt[3] = (uint8_t)(n + 2);
	run(pkt, (size_t)n + 2);
	cr_assert_eq(res.outcome, PL_DROP_TCP_PARTIAL);
	cr_assert(res.drop);
}

Test(pipeline, malformed_dns_is_dropped)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "allowed.test", 1);

	/* Label length 0x3f past the end of the message. */
	pkt[28 + 12] = 0x3f;
	run(pkt, n);
	cr_assert(res.drop);
	cr_assert_eq(res.outcome, PL_DROP_MALFORMED);
	cr_assert_lt(res.err, 0);
	cr_assert_eq(res.nout, 0);
}

Test(pipeline, malformed_ip_is_dropped)
{
	static const uint8_t junk[] = { 0x45, 0, 0, 200, 1, 2, 3 };

	run(junk, sizeof(junk));
	cr_assert(res.drop);
	cr_assert_eq(res.outcome, PL_DROP_MALFORMED);
}

Test(pipeline, responses_and_empty_queries_pass)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "blocked.test", 1);

	pkt[28 + 2] |= 0x80;			/* QR */
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_RESPONSE);
	cr_assert_not(res.drop);
}

Test(pipeline, fragments_are_dropped)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "allowed.test", 1);

	pkt[6] = 0x20;				/* MF */
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_FRAGMENT);
	cr_assert(res.drop);
}

Test(pipeline, not_port_53_is_not_ours)
{
	struct sg_addr c = A("10.0.0.2"), s = A("10.0.0.1");
	uint8_t pkt[PACKET_FORGE_MAX];
	int n;

	n = packet_build_udp(pkt, sizeof(pkt), &c, &s, 53, 4000, "zz", 2);
	run(pkt, (size_t)n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NOT_DNS);
	cr_assert_not(res.drop);
}

Test(pipeline, truncated_capture_is_dropped)
{
	struct pipeline_meta meta = { .truncated = true };
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "allowed.test", 1);

	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_DROP_MALFORMED);
}

Test(pipeline, canaries_are_always_nxdomain)
{
	static const char *const names[] = { "use-application-dns.net",
	    "blocked.test" };
	static const char *const cats[] = { "adult", "adult" };
	uint8_t pkt[PACKET_FORGE_MAX];
	struct dns_msg m;
	struct packet p;
	size_t n;

	/* An address-mode snapshot with the Firefox canary listed. */
	snapshot_free(snap);
	setup();
	snap->cfg->block.mode = DNS_BLOCK_NULL;
	sgdb_close(snap->db);
	snap->db = make_set(names, cats, 2);

	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "use-application-dns.net", 1);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED);
	cr_assert_str_eq(res.action, "nxdomain");
	cr_assert_eq(packet_parse(&p, res.out[0].pkt, res.out[0].len), 0);
	cr_assert_eq(dns_parse(&m, p.payload, p.payload_len), 0);
	cr_assert_eq(m.rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(m.ancount, 0);

	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "blocked.test", 1);
	run(pkt, n);
	cr_assert_str_eq(res.action, "null");
	cr_assert_eq(packet_parse(&p, res.out[0].pkt, res.out[0].len), 0);
	cr_assert_eq(dns_parse(&m, p.payload, p.payload_len), 0);
	cr_assert_eq(m.rcode, DNS_RCODE_NOERROR);
	cr_assert_eq(m.ancount, 1);
}

/* ------------------------------------------------- connections settings */

/* The snapshot again, with the setup's lists and `extra` config text. */
static void
use_config(const char *extra)
{
	static const char *const names[] = { "blocked.test", "game.test" };
	static const char *const cats[] = { "adult", "games" };
	char text[1024], err[CONFIG_ERR_LEN];
	struct config *cfg;

	snprintf(text, sizeof(text), "lists = ( { category = \"adult\"; "
	    "files = [ \"a\" ]; },\n { category = \"games\"; files = "
	    "[ \"g\" ]; } );\nblock = [ \"adult\" ];\n%s\n", extra);
	cfg = config_load_string("test", text, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	snapshot_free(snap);
	snap = snapshot_new(cfg, make_set(names, cats, 2), err, sizeof(err));
	cr_assert_not_null(snap, "%s", err);
}

/* An IPv4 TCP segment from 10.0.0.2 to 192.0.2.1:dport carrying data. */
static size_t
tcp_data(uint8_t *pkt, uint16_t dport, const void *data, size_t len)
{
	struct sg_addr c = A("10.0.0.2"), s = A("192.0.2.1");
	int hl;

	hl = packet_build_tcp_data(pkt, PACKET_FORGE_MAX, &c, &s, 40001,
	    dport, 1000, 5000, TCP_ACK | TCP_PSH, data, len);
	cr_assert_gt(hl, 0);
	return (size_t)hl;
}

static size_t
http_get(uint8_t *pkt, uint16_t dport, const char *host)
{
	char req[256];

	if (host != NULL)
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n"
		    "\r\n", host);
	else
		snprintf(req, sizeof(req), "GET / HTTP/1.0\r\n\r\n");
	return tcp_data(pkt, dport, req, strlen(req));
}

Test(pipeline, extra_tcp_ports_are_judged_like_443)
{
	uint8_t pkt[PACKET_FORGE_MAX], hello[512];
	size_t n;

	/* Not configured: 8443 is none of ours. */
	n = http_get(pkt, 8443, "blocked.test");
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NOT_DNS);
	cr_assert_not(res.drop);

	use_config("connections = { ports = [ 8080, 8443 ]; };");
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_RESET);
	cr_assert_eq(res.req.kind, REQ_HTTP);
	cr_assert_str_eq(res.name, "blocked.test");
	cr_assert_eq(res.nout, 2);
	cr_assert(res.decided && res.settled);
	/* TLS or HTTP by content, whatever the port. */
	n = tcp_data(pkt, 8080, hello,
	    test_client_hello(hello, "www.blocked.test", 0));
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_RESET);
	cr_assert_eq(res.req.kind, REQ_TLS);
	n = tcp_data(pkt, 8443, hello,
	    test_client_hello(hello, "allowed.test", 0));
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	cr_assert(res.decided && res.settled);
	cr_assert_not(res.drop);
	/* Other ports stay out of it. */
	n = http_get(pkt, 8081, "blocked.test");
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NOT_DNS);
}

Test(pipeline, blocked_http_is_sent_to_the_block_page)
{
	struct sg_addr page = A("10.0.0.1");
	struct pipeline_meta meta = { 0 };
	struct pagelink link;
	struct packet to_client, to_server;
	uint8_t pkt[PACKET_FORGE_MAX], hello[512];
	size_t n, reqlen;
	static const char loc[] = "HTTP/1.1 302 Found\r\n"
	    "Location: http://10.0.0.1/?blocked=blocked.test\r\n";

	cr_assert_eq(pagelink_init(&link, &page, NULL, 80), 0);
	meta.page = &link;
	meta.ts.tv_sec = 1800000000;
	n = http_get(pkt, 80, "blocked.test");
	reqlen = strlen("GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n");
	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_PAGE);
	cr_assert_str_eq(res.action, "redirect");
	cr_assert(res.drop && res.decided && res.settled);
	cr_assert_eq(res.nout, 2);
	/* To the client, in the server's name: the whole answer and FIN,
	 * acknowledging the request. */
	cr_assert_eq(packet_parse(&to_client, res.out[0].pkt, res.out[0].len),
	    0);
	cr_assert_str_eq(addr_ntop(&to_client.src, (char[ADDR_STRLEN]){ 0 },
	    ADDR_STRLEN), "192.0.2.1");
	cr_assert_eq(to_client.sport, 80);
	cr_assert_eq(to_client.dport, 40001);
	cr_assert_eq(to_client.seq, 5000);
	cr_assert_eq(to_client.ack, 1000 + reqlen);
	cr_assert_eq(to_client.tcp_flags, TCP_PSH | TCP_ACK | TCP_FIN);
	cr_assert_gt(to_client.window, 0);
	cr_assert_geq(to_client.payload_len, sizeof(loc) - 1);
	cr_assert_eq(memcmp(to_client.payload, loc, sizeof(loc) - 1), 0);
	cr_assert_eq(packet_csum_fold(packet_csum_add(0,
	    res.out[0].pkt, 20)), 0xffff, "IPv4 header checksum");
	/* To the server: a reset where the request would have been. */
	cr_assert_eq(packet_parse(&to_server, res.out[1].pkt, res.out[1].len),
	    0);
	cr_assert_eq(to_server.dport, 80);
	cr_assert_eq(to_server.seq, 1000);
	cr_assert_eq(to_server.tcp_flags, TCP_RST);
	cr_assert_eq(to_server.payload_len, 0);

	/* Allowed: untouched.  TLS cannot be answered: reset. */
	n = http_get(pkt, 80, "allowed.test");
	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	cr_assert_eq(res.nout, 0);
	n = tcp_data(pkt, 443, hello,
	    test_client_hello(hello, "blocked.test", 0));
	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_RESET);
	/* No page served (replay, blockpage.serve off): reset. */
	meta.page = NULL;
	n = http_get(pkt, 80, "blocked.test");
	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED_RESET);
	cr_assert_str_eq(res.action, "reset");
}

Test(pipeline, quic_block_drops_udp_443_unread)
{
	struct sg_addr c = A("10.0.0.2"), s = A("192.0.2.1");
	uint8_t pkt[PACKET_FORGE_MAX], junk[64];
	size_t n, d;
	int len;

	memset(junk, 0x5a, sizeof(junk));
	len = packet_build_udp(pkt, sizeof(pkt), &c, &s, 50000, 443, junk,
	    sizeof(junk));
	cr_assert_gt(len, 0);
	run(pkt, (size_t)len);
	cr_assert_eq(res.outcome, PL_ACCEPT_NOT_OURS);	/* "inspect" */
	cr_assert_not(res.drop);

	use_config("connections = { quic = \"block\"; };");
	run(pkt, (size_t)len);
	cr_assert_eq(res.outcome, PL_DROP_QUIC_POLICY);
	cr_assert(res.drop);
	cr_assert(res.settled, "the kernel drops the rest");
	cr_assert_not(res.decided, "no decision on a name, no event");
	cr_assert_eq(res.nout, 0);
	cr_assert_str_eq(pipeline_outcome_name(res.outcome),
	    "drop_quic_policy");
	/* DNS and TCP 443 are untouched. */
	d = udp_query(pkt, "10.0.0.2", "10.0.0.1", "allowed.test", 1);
	run(pkt, d);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	n = http_get(pkt, 443, "allowed.test");
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
}

Test(pipeline, no_sni_allow_and_block)
{
	uint8_t pkt[PACKET_FORGE_MAX], hello[512];
	size_t n;

	n = tcp_data(pkt, 443, hello, test_client_hello(hello, NULL, 0));
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NO_SNI);	/* "allow" */
	cr_assert_not(res.drop);
	cr_assert(res.decided && res.settled);
	cr_assert_eq(res.nout, 0);

	use_config("connections = { no_sni = \"block\"; };");
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_NO_SNI);
	cr_assert(res.drop);
	cr_assert(res.decided && res.settled);
	cr_assert_eq(res.req.kind, REQ_TLS);
	cr_assert_not_null(res.req.name);
	cr_assert_eq(res.req.name_len, 0);
	cr_assert_eq(res.dec.action, ACTION_BLOCK);
	cr_assert_eq(res.dec.blocked, 0);
	cr_assert_str_eq(res.action, "reset");
	cr_assert_eq(res.nout, 2);
	cr_assert_str_eq(pipeline_outcome_name(res.outcome), "drop_no_sni");
	/* An HTTP request without a host is the same. */
	n = http_get(pkt, 80, NULL);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_NO_SNI);
	cr_assert_eq(res.req.kind, REQ_HTTP);
	/* A name is still judged by the lists. */
	n = tcp_data(pkt, 443, hello, test_client_hello(hello, "allowed.test", 0));
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
}

/* ------------------------------------------------- the profile's answers */

static const char profile_text[] =
    "profiles = { default = {\n"
    "  safe_search = { google = true; youtube = \"moderate\"; };\n"
    "  bypass = { ech = true; dot = true; outside_dns = \"block\"; };\n"
    "}; };";

/* The answer the pipeline forged, parsed, with its payload in *payload. */
static struct dns_msg
forged_answer(const uint8_t **payload, size_t *len)
{
	struct dns_msg m;
	struct packet p;

	cr_assert_eq(res.nout, 1);
	cr_assert_eq(packet_parse(&p, res.out[0].pkt, res.out[0].len), 0);
	cr_assert_eq(p.sport, 53);
	cr_assert_eq(dns_parse(&m, p.payload, p.payload_len), 0);
	cr_assert(m.qr);
	*payload = p.payload;
	*len = p.payload_len;
	return m;
}

Test(pipeline, safe_search_answers_with_the_safe_host)
{
	static const char target[] = "\017forcesafesearch\006google\003com";
	uint8_t pkt[PACKET_FORGE_MAX];
	const uint8_t *body;
	struct dns_msg m;
	size_t n, len;

	use_config(profile_text);
	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "www.google.co.uk", 1);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_SAFE_SEARCH);
	cr_assert(res.drop);
	cr_assert(res.decided);
	cr_assert_eq(res.dec.action, ACTION_ALLOW);
	cr_assert_str_eq(res.action, "safe-search");
	m = forged_answer(&body, &len);
	cr_assert_eq(m.rcode, 0);
	/* no resolver in a unit test: the CNAME alone */
	cr_assert_eq(m.ancount, 1);
	cr_assert_not_null(memmem(body, len, target, sizeof(target) - 1));

	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "www.youtube.com", 28);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_SAFE_SEARCH);
	forged_answer(&body, &len);
	cr_assert_not_null(memmem(body, len, "\020restrictmoderate", 17));

	/* Bing is off in this profile; the safe host itself is left alone */
	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "www.bing.com", 1);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
	n = udp_query(pkt, "10.0.0.2", "10.0.0.1",
	    "forcesafesearch.google.com", 1);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
}

Test(pipeline, https_questions_get_no_data)
{
	uint8_t pkt[PACKET_FORGE_MAX];
	const uint8_t *body;
	struct dns_msg m;
	size_t n, len;

	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "www.example.test", 65);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);	/* ech off */
	use_config(profile_text);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_NODATA);
	cr_assert_str_eq(res.action, "nodata");
	m = forged_answer(&body, &len);
	cr_assert_eq(m.rcode, 0);
	cr_assert_eq(m.ancount, 0);
	/* a blocked name keeps its block answer */
	n = udp_query(pkt, "10.0.0.2", "10.0.0.1", "blocked.test", 65);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_BLOCKED);
}

Test(pipeline, outside_dns_block_drops_forwarded_queries)
{
	struct pipeline_meta meta = { .forwarded = true };
	uint8_t pkt[PACKET_FORGE_MAX];
	size_t n = udp_query(pkt, "10.0.0.2", "192.0.2.53", "www.example.test",
	    1);

	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);	/* "allow" */
	use_config(profile_text);
	pipeline_run(snap, NULL, &meta, pkt, n, &res);
	cr_assert_eq(res.outcome, PL_DROP_OUTSIDE_DNS);
	cr_assert_eq(res.nout, 0);
	cr_assert(res.decided);
	cr_assert_eq(res.dec.action, ACTION_BLOCK);
	cr_assert_eq(res.dec.reason, REASON_OUTSIDE_DNS);
	cr_assert_str_eq(res.req.name, "www.example.test");
	/* to this router: judged as usual */
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_ACCEPT_ALLOWED);
}

Test(pipeline, dot_is_reset_on_its_syn)
{
	struct sg_addr c = A("10.0.0.2"), s = A("192.0.2.1");
	uint8_t pkt[PACKET_FORGE_MAX];
	struct packet p;
	int n;

	n = packet_build_tcp(pkt, sizeof(pkt), &c, &s, 40002, 853, 7000, 0,
	    TCP_SYN);
	cr_assert_gt(n, 0);
	run(pkt, (size_t)n);
	cr_assert_eq(res.outcome, PL_ACCEPT_NOT_OURS);
	cr_assert(res.settled);
	cr_assert_not(res.decided);

	use_config(profile_text);
	run(pkt, (size_t)n);
	cr_assert_eq(res.outcome, PL_DROP_DOT);
	cr_assert(res.settled && res.decided);
	cr_assert_eq(res.dec.reason, REASON_DOT);
	cr_assert_eq(res.dec.schedule, -1, "no schedule to name");
	cr_assert_eq(res.req.kind, REQ_DOT);
	cr_assert_eq(res.nout, 2);
	cr_assert_eq(packet_parse(&p, res.out[0].pkt, res.out[0].len), 0);
	cr_assert_eq(p.dport, 40002);
	cr_assert_eq(p.ack, 7001, "the reset acknowledges the SYN");
	cr_assert(p.tcp_flags & TCP_RST);
}

Test(pipeline, safe_search_over_tcp_dns_is_reset)
{
	uint8_t pkt[PACKET_FORGE_MAX], q[512 + 2];
	size_t qlen, n;

	use_config(profile_text);
	qlen = query(q + 2, "www.google.com", 1, true);
	q[0] = (uint8_t)(qlen >> 8);
	q[1] = (uint8_t)qlen;
	n = tcp_data(pkt, 53, q, qlen + 2);
	run(pkt, n);
	cr_assert_eq(res.outcome, PL_DROP_SAFE_SEARCH);
	cr_assert_str_eq(res.action, "reset");
	cr_assert_eq(res.nout, 2);
}
