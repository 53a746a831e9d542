/*
 * test_flow.c - names from the first packets of connections, with the
 * pieces of a split ClientHello kept in a bounded table.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "flow.h"
#include "hello.h"

static struct packet
tcp(uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *data,
    size_t len)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(addr_parse(&p.src, "10.0.0.2"), 0);
	cr_assert_eq(addr_parse(&p.dst, "192.0.2.1"), 0);
	p.proto = IPPROTO_TCP;
	p.sport = sport;
	p.dport = 443;
	p.seq = seq;
	p.tcp_flags = flags;
	p.payload = data;
	p.payload_len = len;
	return p;
}

Test(flow, whole_hello_in_one_segment_needs_no_slot)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "WWW.Blocked.Test", 100);
	struct packet p = tcp(40000, 1001, TCP_ACK | 0x08, b, n);

	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	cr_assert_eq(r.kind, FLOW_KIND_TLS);
	cr_assert_str_eq(r.name, "www.blocked.test");
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0);
	cr_assert_eq(st.created, 0);
	flow_table_free(t);
}

Test(flow, split_hello_in_any_order_after_the_syn)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "split.test", 1800), cut = 1200;
	struct packet syn = tcp(40001, 5000, TCP_SYN, NULL, 0);
	struct packet second = tcp(40001, 5001 + cut, TCP_ACK, b + cut,
	    n - cut);
	struct packet first = tcp(40001, 5001, TCP_ACK, b, cut);

	flow_classify(t, &syn, 0, &r);
	cr_assert_eq(r.status, FLOW_NO_PAYLOAD);
	flow_classify(t, &second, 0, &r);	/* the later piece first */
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_classify(t, &first, 0, &r);
	cr_assert_eq(r.status, FLOW_NAME, "status %d err %d", r.status,
	    r.err);
	cr_assert_str_eq(r.name, "split.test");
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0, "the slot is freed once named");
	cr_assert_eq(st.completed, 1);
	flow_table_free(t);
}

Test(flow, split_hello_without_the_syn)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "late.test", 1800), cut = 700;
	struct packet first = tcp(40002, 77, TCP_ACK, b, cut);
	struct packet second = tcp(40002, 77 + cut, TCP_ACK, b + cut,
	    n - cut);

	flow_classify(t, &first, 0, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_classify(t, &second, 0, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	cr_assert_str_eq(r.name, "late.test");
	flow_table_free(t);
}

Test(flow, a_retransmission_with_other_bytes_is_refused)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	uint8_t b[4096], evil[4096];
	size_t n = test_client_hello(b, "allowed.test", 1800), cut = 1000;
	struct packet syn = tcp(40003, 9, TCP_SYN, NULL, 0);
	struct packet first = tcp(40003, 10, TCP_ACK, b, cut);
	struct packet again;

	memcpy(evil, b, n);
	evil[cut - 1] ^= 0x55;
	again = tcp(40003, 10, TCP_ACK, evil, cut);
	flow_classify(t, &syn, 0, &r);
	flow_classify(t, &first, 0, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_classify(t, &again, 0, &r);
	cr_assert_eq(r.status, FLOW_MALFORMED);
	cr_assert_eq(r.err, SG_EMALFORMED);
	flow_table_free(t);
}

Test(flow, the_table_is_bounded_and_expires)
{
	struct flow_table *t = flow_table_new(2, 5);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "a.test", 1800);
	struct packet p;
	uint16_t port;

	(void)n;
	for (port = 1; port <= 3; port++) {
		p = tcp(port, 100, TCP_ACK, b, 600);
		flow_classify(t, &p, 0, &r);
		cr_assert_eq(r.status, port <= 2 ? FLOW_NEED_MORE : FLOW_FULL,
		    "port %u", port);
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 2);
	cr_assert_eq(st.full, 1);
	/* Five seconds on, the two are gone and a new flow fits. */
	p = tcp(4, 100, TCP_ACK, b, 600);
	flow_classify(t, &p, 5, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_table_stats(t, &st);
	cr_assert_eq(st.expired, 2);
	cr_assert_eq(st.active, 1);
	/* Without a table, what needs one is FLOW_FULL. */
	flow_classify(NULL, &p, 5, &r);
	cr_assert_eq(r.status, FLOW_FULL);
	flow_table_free(t);
}

Test(flow, a_hello_longer_than_the_cap_is_refused)
{
	struct flow_table *t = flow_table_new(2, 5);
	struct flow_result r;
	static uint8_t b[40000];
	size_t n = test_client_hello(b, "big.test", 20000), off = 0;
	size_t step = 1400;
	struct packet p;

	do {
		size_t len = n - off < step ? n - off : step;

		p = tcp(5, 1 + (uint32_t)off, TCP_ACK, b + off, len);
		flow_classify(t, &p, 0, &r);
		off += len;
	} while (r.status == FLOW_NEED_MORE && off < n);
	cr_assert_eq(r.status, FLOW_MALFORMED);
	flow_table_free(t);
}

Test(flow, http_host_and_other_protocols)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: Shop.Example:8080\r\n"
	    "\r\n";
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2\r\n";
	struct flow_result r;
	struct packet p = tcp(6, 1, TCP_ACK, (const uint8_t *)req,
	    sizeof(req) - 1);

	flow_classify(NULL, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	cr_assert_eq(r.kind, FLOW_KIND_HTTP);
	cr_assert_str_eq(r.name, "shop.example");
	p = tcp(7, 1, TCP_ACK, (const uint8_t *)ssh, sizeof(ssh) - 1);
	flow_classify(NULL, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NOT_OURS);
	p = tcp(8, 1, TCP_ACK, (const uint8_t *)"\x80\x01", 2);
	flow_classify(NULL, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NOT_OURS);
}

Test(flow, tcp_fast_open_data_on_the_syn)
{
	struct flow_table *t = flow_table_new(2, 5);
	struct flow_result r;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "tfo.test", 50);
	struct packet p = tcp(9, 500, TCP_SYN, b, n);

	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	cr_assert_str_eq(r.name, "tfo.test");
	flow_table_free(t);
}

/*
 * Regression (replay of quic_0RTT.pcap): a 0-RTT packet that arrives
 * before the Initial must not settle the flow, or the Initial carrying
 * the name would never be judged.  Nor may a datagram that is not QUIC:
 * junk first, then a real Initial, is a way around the filter.
 */
Test(flow, quic_without_an_initial_yet_waits)
{
	static const uint8_t zero_rtt[] = {
		0xd0, 0x00, 0x00, 0x00, 0x01,	/* long header, 0-RTT, v1 */
		0x08, 1, 2, 3, 4, 5, 6, 7, 8,	/* DCID */
		0x00,				/* SCID */
		0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,	/* length, payload */
	};
	struct flow_table *t = flow_table_new(2, 5);
	struct flow_result r;
	struct flow_stats st;
	struct packet p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(addr_parse(&p.src, "10.0.0.2"), 0);
	cr_assert_eq(addr_parse(&p.dst, "192.0.2.1"), 0);
	p.proto = IPPROTO_UDP;
	p.sport = 50000;
	p.dport = 443;
	p.payload = zero_rtt;
	p.payload_len = sizeof(zero_rtt);
	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	cr_assert_eq(r.kind, FLOW_KIND_QUIC);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0, "nothing is kept for it");
	flow_table_free(t);
}

/*
 * Regression (tests/bypass, tls_quic.sh): a ClientHello sent one byte per
 * segment outlasted the firewall's queue window (the first 12 packets of
 * a connection) and was finished past it, unjudged.  A flow still waiting
 * after FLOW_PACKETS_MAX packets, the SYN included, is refused.
 */
Test(flow, a_hello_dribbled_past_the_queue_window_is_refused)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "blocked.test", 100), i;
	struct packet p = tcp(41000, 700, TCP_SYN, NULL, 0);

	flow_classify(t, &p, 0, &r);			/* packet 1 */
	cr_assert_eq(r.status, FLOW_NO_PAYLOAD);
	flow_classify(t, &p, 0, &r);			/* the SYN again */
	cr_assert_eq(r.status, FLOW_NO_PAYLOAD);
	p = tcp(41000, 701, TCP_ACK, NULL, 0);		/* packet 3 */
	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NO_PAYLOAD);
	for (i = 0; i < FLOW_PACKETS_MAX - 4; i++) {	/* packets 4..7 */
		p = tcp(41000, 701 + (uint32_t)i, TCP_ACK, b + i, 1);
		flow_classify(t, &p, 0, &r);
		cr_assert_eq(r.status, FLOW_NEED_MORE, "byte %zu", i);
	}
	p = tcp(41000, 701 + (uint32_t)i, TCP_ACK, b + i, 1);
	flow_classify(t, &p, 0, &r);			/* packet 8 */
	cr_assert_eq(r.status, FLOW_MALFORMED);
	cr_assert_eq(r.err, SG_ELIMIT);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0, "the slot is gone");
	cr_assert_lt(i + 1, n);
	flow_table_free(t);
}

/* The same split in two, or in FLOW_PACKETS_MAX - 3 pieces after the
 * handshake, is read: the cap costs no real client anything. */
Test(flow, a_hello_in_a_few_pieces_is_still_read)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "few.test", 1800), per, off, k;
	struct packet p = tcp(41001, 900, TCP_SYN, NULL, 0);

	flow_classify(t, &p, 0, &r);
	p = tcp(41001, 901, TCP_ACK, NULL, 0);
	flow_classify(t, &p, 0, &r);
	k = FLOW_PACKETS_MAX - 3;
	per = (n + k - 1) / k;
	for (off = 0; off < n; off += per) {
		size_t len = n - off < per ? n - off : per;

		p = tcp(41001, 901 + (uint32_t)off, TCP_ACK, b + off, len);
		flow_classify(t, &p, 0, &r);
	}
	cr_assert_eq(r.status, FLOW_NAME, "status %d err %d", r.status,
	    r.err);
	cr_assert_str_eq(r.name, "few.test");
	flow_table_free(t);
}

/*
 * Regression (tests/bypass, tls_quic.sh, tlsc.py pause): the hello's
 * record header, then 11 s of nothing, then the rest.  The slot expired
 * at 10 s, the rest was read as a stream of its own, found neither TLS
 * nor HTTP, and settled the connection as not ours: the server got the
 * whole hello, unjudged.  A flow that expires with pieces kept is now
 * remembered (a tomb), and its next packet refused.
 */
Test(flow, the_rest_of_a_hello_after_a_pause_is_refused)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "blocked.test", 100);
	struct packet p = tcp(42000, 300, TCP_SYN, NULL, 0);
	struct packet rest = tcp(42000, 306, TCP_ACK, b + 5, n - 5);

	flow_classify(t, &p, 0, &r);
	p = tcp(42000, 301, TCP_ACK, b, 5);	/* the record header */
	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_classify(t, &rest, 11, &r);	/* the slot has expired */
	cr_assert_eq(r.status, FLOW_MALFORMED);
	cr_assert_eq(r.err, SG_ELIMIT);
	flow_table_stats(t, &st);
	cr_assert_eq(st.tombs, 0, "the tomb goes with its refusal");
	cr_assert_eq(st.active, 0);

	/* The same with a FIN on the rest (a half-closed HTTP request is
	 * still answered): refused too. */
	p = tcp(42001, 300, TCP_SYN, NULL, 0);
	flow_classify(t, &p, 20, &r);
	p = tcp(42001, 301, TCP_ACK, b, 5);
	flow_classify(t, &p, 20, &r);
	p = tcp(42001, 306, TCP_ACK | TCP_FIN, b + 5, n - 5);
	flow_classify(t, &p, 31, &r);
	cr_assert_eq(r.status, FLOW_MALFORMED);

	/* Without a table each packet stands alone, as before. */
	flow_classify(NULL, &rest, 11, &r);
	cr_assert_eq(r.status, FLOW_NOT_OURS);
	flow_table_free(t);
}

/* A tomb lasts its life, a new SYN replaces it, and an idle connection
 * (nothing kept) leaves none. */
Test(flow, tombs_are_bounded)
{
	struct flow_table *t = flow_table_new(2, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "late.test", 100);
	struct packet p;
	uint16_t port;

	/* three stalled flows in a table of two: two tombs at most */
	for (port = 1; port <= 3; port++) {
		p = tcp(port, 300, TCP_SYN, NULL, 0);
		flow_classify(t, &p, port * 20, &r);
		p = tcp(port, 301, TCP_ACK, b, 5);
		flow_classify(t, &p, port * 20, &r);
		cr_assert_eq(r.status, FLOW_NEED_MORE);
	}
	p = tcp(9, 300, TCP_SYN, NULL, 0);
	flow_classify(t, &p, 100, &r);		/* expires the third */
	flow_table_stats(t, &st);
	cr_assert_eq(st.tombs, 2, "tombs %zu", st.tombs);
	/* port 1's tomb was the oldest, and went: its rest is read alone */
	p = tcp(1, 306, TCP_ACK, b + 5, n - 5);
	flow_classify(t, &p, 100, &r);
	cr_assert_eq(r.status, FLOW_NOT_OURS);
	/* port 2's: a new connection on its ports replaces it */
	p = tcp(2, 9000, TCP_SYN, NULL, 0);
	flow_classify(t, &p, 100, &r);
	cr_assert_eq(r.status, FLOW_NO_PAYLOAD);
	p = tcp(2, 9001, TCP_ACK, b, n);
	flow_classify(t, &p, 100, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	/* port 3's, past its life: gone */
	p = tcp(3, 306, TCP_ACK, b + 5, n - 5);
	flow_classify(t, &p, 100 + 300, &r);	/* its tomb was made at 100 */
	cr_assert_eq(r.status, FLOW_NOT_OURS);
	flow_table_stats(t, &st);
	cr_assert_eq(st.tombs, 0);
	flow_table_free(t);
}

/* An idle connection whose whole hello comes after the wait is read. */
Test(flow, a_hello_after_an_idle_wait_is_still_read)
{
	struct flow_table *t = flow_table_new(4, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "late.test", 100);
	struct packet p = tcp(42002, 300, TCP_SYN, NULL, 0);

	flow_classify(t, &p, 0, &r);
	p = tcp(42002, 301, TCP_ACK, b, n);
	flow_classify(t, &p, 30, &r);
	cr_assert_eq(r.status, FLOW_NAME);
	cr_assert_str_eq(r.name, "late.test");
	flow_table_stats(t, &st);
	cr_assert_eq(st.tombs, 0);
	flow_table_free(t);
}
