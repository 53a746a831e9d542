/*
 * test_flow.c - names from the first packets of connections, with the
 * pieces of a split ClientHello kept in a bounded table, shared between
 * the devices that send them.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "hello.h"

static struct packet
tcp_from(const char *src, uint16_t sport, uint32_t seq, uint8_t flags,
    const uint8_t *data, size_t len)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(addr_parse(&p.src, src), 0, "%s", src);
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

static struct packet
tcp(uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *data,
    size_t len)
{
	return tcp_from("10.0.0.2", sport, seq, flags, data, len);
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

	/* One device, a table of two (its share, then, is all of it): its
	 * third flow takes the place of its first. */
	for (port = 1; port <= 3; port++) {
		p = tcp(port, 100, TCP_ACK, b, 600);
		flow_classify(t, &p, 0, &r);
		cr_assert_eq(r.status, FLOW_NEED_MORE, "port %u", port);
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 2);
	cr_assert_eq(st.device_full, 1);
	cr_assert_eq(st.full, 0);
	cr_assert_eq(st.tombs, 1, "the first kept a piece: a tomb");
	/* Another device: the table is full, and the busiest gives way. */
	p = tcp_from("10.0.0.3", 1, 100, TCP_ACK, b, 600);
	flow_classify(t, &p, 0, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 2);
	cr_assert_eq(st.full, 1);
	cr_assert_eq(st.devices, 2);
	/* Five seconds on, the two are gone and a new flow fits. */
	p = tcp(4, 100, TCP_ACK, b, 600);
	flow_classify(t, &p, 5, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE);
	flow_table_stats(t, &st);
	cr_assert_eq(st.expired, 2);
	cr_assert_eq(st.active, 1);
	cr_assert_eq(st.devices, 1);
	/* Without a table, what needs one is FLOW_FULL. */
	flow_classify(NULL, &p, 5, &r);
	cr_assert_eq(r.status, FLOW_FULL);
	(void)n;
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

/* ---------------------------------------------------------------- devices */

/*
 * Sends the first 600 bytes of hello b from src:port (a flow that must
 * wait for the rest), and expects FLOW_NEED_MORE.
 */
static void
half(struct flow_table *t, const char *src, uint16_t port, const uint8_t *b,
    time_t now)
{
	struct flow_result r;
	struct packet p = tcp_from(src, port, 100, TCP_ACK, b, 600);

	flow_classify(t, &p, now, &r);
	cr_assert_eq(r.status, FLOW_NEED_MORE, "%s port %u: status %d", src,
	    port, r.status);
}

/* The rest of that hello: its status (FLOW_NAME while the flow kept its
 * slot; FLOW_MALFORMED, SG_ELIMIT, once it gave way with its piece). */
static enum flow_status
rest(struct flow_table *t, const char *src, uint16_t port, const uint8_t *b,
    size_t n, time_t now)
{
	struct flow_result r;
	struct packet p = tcp_from(src, port, 700, TCP_ACK, b + 600, n - 600);

	flow_classify(t, &p, now, &r);
	if (r.status == FLOW_MALFORMED)
		cr_assert_eq(r.err, SG_ELIMIT);
	return r.status;
}

/* A table of 256: a device's share is FLOW_SHARE_MIN (64). */
#define SHARED_MAX	256
#define SHARE		FLOW_SHARE_MIN

/*
 * Regression (tests/faults/flood.sh): one device filling the table with
 * half ClientHellos made another device's split ClientHello FLOW_FULL,
 * failed open, unjudged.  A device now holds at most its share, its own
 * oldest flows giving way to its new ones, so the others keep theirs.
 */
Test(flow, a_device_holds_at_most_its_share)
{
	struct flow_table *t = flow_table_new(SHARED_MAX, 10);
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "blocked.test", 1800);
	uint16_t port;

	cr_assert_eq(SHARE, SHARED_MAX / FLOW_SHARE_DIV);
	for (port = 1; port <= 100; port++)
		half(t, "10.0.0.2", port, b, 0);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARE, "active %zu", st.active);
	cr_assert_eq(st.device_full, 100 - SHARE);
	cr_assert_eq(st.full, 0);
	cr_assert_eq(st.devices, 1);
	cr_assert_eq(st.tombs, 100 - SHARE);
	/* Those that gave way had kept a piece: the rest of each is refused,
	 * not read alone and let through.  The newest are still read. */
	cr_assert_eq(rest(t, "10.0.0.2", 1, b, n, 0), FLOW_MALFORMED);
	cr_assert_eq(rest(t, "10.0.0.2", 100 - SHARE, b, n, 0),
	    FLOW_MALFORMED);
	cr_assert_eq(rest(t, "10.0.0.2", 100 - SHARE + 1, b, n, 0),
	    FLOW_NAME);
	cr_assert_eq(rest(t, "10.0.0.2", 100, b, n, 0), FLOW_NAME);
	/* Another device's split hello gets a slot, and is read. */
	half(t, "10.0.0.3", 40000, b, 0);
	cr_assert_eq(rest(t, "10.0.0.3", 40000, b, n, 0), FLOW_NAME);
	flow_table_stats(t, &st);
	cr_assert_eq(st.device_full, 100 - SHARE, "nothing of the other's");
	cr_assert_eq(st.active, SHARE - 2);
	flow_table_free(t);
}

/*
 * The flood of tests/faults/flood.sh: eight addresses, each within its
 * share, fill the table together.  A new device's split hello still gets
 * a slot (the busiest device's oldest flow gives way), and the table ends
 * shared evenly between the nine.
 */
Test(flow, a_full_table_makes_room_for_a_device_holding_fewer)
{
	struct flow_table *t = flow_table_new(SHARED_MAX, 10);
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "blocked.test", 1800);
	size_t kept[8] = { 0 }, i;
	char src[8][32];
	uint16_t port;

	for (i = 0; i < 8; i++) {
		snprintf(src[i], sizeof(src[i]), "10.0.0.%zu", 10 + i);
		for (port = 1; port <= SHARE; port++)
			half(t, src[i], port, b, 0);
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARED_MAX);
	cr_assert_eq(st.devices, 8);
	cr_assert_eq(st.device_full, 0);
	cr_assert_eq(st.full, 8 * SHARE - SHARED_MAX, "full %llu",
	    (unsigned long long)st.full);
	half(t, "10.0.0.2", 443, b, 0);
	cr_assert_eq(rest(t, "10.0.0.2", 443, b, n, 0), FLOW_NAME);
	/* Each of the eight kept its newest, a share of the table within
	 * one of the others'. */
	for (i = 0; i < 8; i++) {
		for (port = 1; port <= SHARE; port++)
			if (rest(t, src[i], port, b, n, 0) == FLOW_NAME)
				kept[i]++;
		cr_assert(kept[i] >= SHARED_MAX / 8 - 1 &&
		    kept[i] <= SHARED_MAX / 8, "%s kept %zu", src[i], kept[i]);
		cr_assert_eq(rest(t, src[i], SHARE, b, n, 0), FLOW_NOT_OURS,
		    "its newest was read above");
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0);
	cr_assert_eq(st.devices, 0);
	flow_table_free(t);
}

/* A device's count goes down as its flows are named, forgotten, reset,
 * time out or become tombs: it gets its whole share again each time. */
Test(flow, a_devices_count_follows_its_flows)
{
	struct flow_table *t = flow_table_new(SHARED_MAX, 10);
	struct flow_result r;
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "ok.test", 1800), i;
	struct packet p;
	uint16_t port;

	/* bare SYNs: named, forgotten or reset, they free their places */
	for (port = 1; port <= SHARE; port++) {
		p = tcp(port, 1000, TCP_SYN, NULL, 0);
		flow_classify(t, &p, 0, &r);
	}
	for (port = 1; port <= SHARE / 2; port++) {
		p = tcp(port, 1001, TCP_ACK, b, n);
		flow_classify(t, &p, 0, &r);
		cr_assert_eq(r.status, FLOW_NAME);
	}
	p = tcp(SHARE / 2 + 1, 1001, TCP_ACK, NULL, 0);
	flow_forget(t, &p);
	p = tcp(SHARE / 2 + 2, 1001, TCP_RST, NULL, 0);
	flow_classify(t, &p, 0, &r);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARE / 2 - 2);
	for (port = 1; port <= SHARE / 2 + 2; port++) {
		p = tcp((uint16_t)(1000 + port), 1000, TCP_SYN, NULL, 0);
		flow_classify(t, &p, 0, &r);
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARE);
	cr_assert_eq(st.device_full, 0);
	/* Timed out: the table expires a few at each call. */
	p = tcp_from("10.0.0.3", 9, 1, TCP_ACK, b, n);	/* needs no slot */
	for (i = 0; i < SHARE; i++)
		flow_classify(t, &p, 10, &r);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0);
	cr_assert_eq(st.devices, 0);
	cr_assert_eq(st.expired, SHARE);
	/* Half hellos that time out become tombs, which count for no one. */
	for (port = 1; port <= SHARE; port++)
		half(t, "10.0.0.2", port, b, 20);
	for (i = 0; i < SHARE; i++)
		flow_classify(t, &p, 30, &r);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, 0);
	cr_assert_eq(st.tombs, SHARE);
	cr_assert_eq(st.devices, 0);
	for (port = 2001; port <= 2000 + SHARE; port++)
		half(t, "10.0.0.2", port, b, 30);
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARE);
	cr_assert_eq(st.device_full, 0);
	flow_table_free(t);
}

/*
 * IPv6: a device is its whole address, not its /64, which a home LAN's
 * devices share.  Another address in the same /64 keeps its flows while
 * the first gives way to itself; and a flood from a new address a flow
 * (a child rotating privacy addresses), filling the table, still leaves
 * a slot for a device's split hello, IPv6 or IPv4.
 */
Test(flow, ipv6_devices_are_whole_addresses)
{
	struct flow_table *t = flow_table_new(SHARED_MAX, 10);
	struct flow_stats st;
	uint8_t b[4096];
	size_t n = test_client_hello(b, "blocked.test", 1800), i;
	char src[64];
	uint16_t port;

	for (port = 1; port <= 100; port++)
		half(t, "2001:db8:1:2::1", port, b, 0);
	for (port = 1; port <= 10; port++)
		half(t, "2001:db8:1:2::2", port, b, 0);
	flow_table_stats(t, &st);
	cr_assert_eq(st.devices, 2);
	cr_assert_eq(st.active, SHARE + 10);
	cr_assert_eq(st.device_full, 100 - SHARE);
	for (port = 1; port <= 10; port++)
		cr_assert_eq(rest(t, "2001:db8:1:2::2", port, b, n, 0),
		    FLOW_NAME);

	for (i = 0; i < 2 * SHARED_MAX; i++) {
		snprintf(src, sizeof(src), "2001:db8:1:2:%zx::1", 0x100 + i);
		half(t, src, 443, b, 0);
	}
	flow_table_stats(t, &st);
	cr_assert_eq(st.active, SHARED_MAX);
	half(t, "2001:db8:1:2::2", 443, b, 0);
	half(t, "10.0.0.2", 443, b, 0);
	cr_assert_eq(rest(t, "2001:db8:1:2::2", 443, b, n, 0), FLOW_NAME);
	cr_assert_eq(rest(t, "10.0.0.2", 443, b, n, 0), FLOW_NAME);
	flow_table_free(t);
}

/* What flow_table_on_gone() heard. */
struct gone_log {
	unsigned	 n;
	struct flow_gone last;
};

static void
gone(void *arg, const struct flow_gone *g)
{
	struct gone_log *l = arg;

	l->n++;
	l->last = *g;
}

/*
 * Regression (tests/bypass/tls_quic.sh, the tomb flush): tombs are
 * bounded, so a device could push its own stalled hello's tomb out and
 * have the rest read as a new stream.  The caller now hears of each flow
 * as it becomes a tomb, to mark its connection in the kernel, with the
 * client's next sequence number for a reset the server takes; a flow that
 * kept nothing is not reported.
 */
Test(flow, the_caller_hears_of_each_tomb)
{
	struct flow_table *t = flow_table_new(SHARED_MAX, 10);
	struct gone_log g;
	struct flow_result r;
	struct packet p;
	uint8_t b[4096];
	unsigned i;

	memset(&g, 0, sizeof(g));
	test_client_hello(b, "blocked.test", 1200);
	flow_table_on_gone(t, gone, &g);

	/* A stall past the wait: the first 5 bytes after the SYN. */
	p = tcp(42000, 300, TCP_SYN, NULL, 0);
	flow_classify(t, &p, 0, &r);
	p = tcp(42000, 301, TCP_ACK, b, 5);
	p.ack = 7001;
	flow_classify(t, &p, 0, &r);
	/* An idle SYN alone keeps nothing. */
	p = tcp(42001, 900, TCP_SYN, NULL, 0);
	flow_classify(t, &p, 0, &r);
	cr_assert_eq(g.n, 0);
	p = tcp(42002, 500, TCP_SYN, NULL, 0);	/* expires the others */
	flow_classify(t, &p, 11, &r);
	cr_assert_eq(g.n, 1, "only the flow with a piece kept");
	cr_assert_eq(g.last.proto, IPPROTO_TCP);
	cr_assert(addr_equal(&g.last.src, &p.src));
	cr_assert(addr_equal(&g.last.dst, &p.dst));
	cr_assert_eq(g.last.sport, 42000);
	cr_assert_eq(g.last.dport, 443);
	cr_assert_eq(g.last.client_seq, 306, "isn 300 + 1 + the 5 bytes kept");
	cr_assert(g.last.server_seq_known);
	cr_assert_eq(g.last.server_seq, 7001, "the client's last ack");

	/* Giving way at the share: each half hello the device pushes out
	 * is reported as it goes. */
	memset(&g, 0, sizeof(g));
	for (i = 0; i < SHARE + 10; i++)
		half(t, "10.0.0.9", (uint16_t)(20000 + i), b, 12);
	cr_assert_eq(g.n, 10);
	cr_assert_eq(g.last.sport, 20009, "the device's own oldest, in order");
	cr_assert_eq(g.last.client_seq, 100 + 600, "no SYN: from the first data");
	flow_table_free(t);
}
