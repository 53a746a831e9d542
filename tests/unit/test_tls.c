/*
 * test_tls.c - tls_client_hello_stream() and tls_client_hello_msg().
 *
 * ClientHellos are written byte by byte here (with the offset of every
 * length field noted, so that each can be made to lie), then the real
 * ClientHellos of the shared captures are read and held against what
 * tshark read in them (SHARED/corpus/oracle; skipped without SHARED).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "corpus.h"
#include "tls.h"
#include "wire.h"

struct hello_opts {
	const char	*sni;		/* NULL: no server_name */
	bool		 tls13;
	bool		 ech;
	size_t		 pad;		/* bytes of a padding extension */
	bool		 two_names;
	bool		 two_sni_exts;
	bool		 no_exts;
};

/* A ClientHello handshake message, header included. */
static void
hello(struct wire *w, const struct hello_opts *o)
{
	size_t hs, exts, e, l, n, i, k;

	w_reset(w);
	w_u8(w, 1);
	hs = w_open_len(w, 3);
	w_u16(w, 0x0303);
	for (i = 0; i < 32; i++)
		w_u8(w, i);
	l = w_open_len(w, 1);			/* session id */
	for (i = 0; i < 32; i++)
		w_u8(w, 0xa0 + i);
	w_close_len(w, l, 1);
	l = w_open_len(w, 2);			/* cipher suites */
	w_u16(w, 0x1301);
	w_u16(w, 0xc02f);
	w_close_len(w, l, 2);
	l = w_open_len(w, 1);			/* compression */
	w_u8(w, 0);
	w_close_len(w, l, 1);
	if (o->no_exts) {
		w_close_len(w, hs, 3);
		return;
	}
	exts = w_open_len(w, 2);
	w_u16(w, 0x0a0a);			/* GREASE, empty */
	w_u16(w, 0);
	for (k = 0; o->sni != NULL && k < (o->two_sni_exts ? 2u : 1u); k++) {
		w_u16(w, 0);
		e = w_open_len(w, 2);
		l = w_open_len(w, 2);
		for (i = 0; i < (o->two_names ? 2u : 1u); i++) {
			w_u8(w, 0);
			n = w_open_len(w, 2);
			w_bytes(w, o->sni, strlen(o->sni));
			w_close_len(w, n, 2);
		}
		w_close_len(w, l, 2);
		w_close_len(w, e, 2);
	}
	w_u16(w, 43);				/* supported_versions */
	e = w_open_len(w, 2);
	l = w_open_len(w, 1);
	w_u16(w, 0x3a3a);
	if (o->tls13)
		w_u16(w, 0x0304);
	w_u16(w, 0x0303);
	w_close_len(w, l, 1);
	w_close_len(w, e, 2);
	if (o->ech) {
		w_u16(w, 0xfe0d);
		e = w_open_len(w, 2);
		w_bytes(w, "\x00\x00\x01\x00\x01\x42\x00\x00", 8);
		w_close_len(w, e, 2);
	}
	if (o->pad > 0) {
		w_u16(w, 21);
		e = w_open_len(w, 2);
		for (i = 0; i < o->pad; i++)
			w_u8(w, 0);
		w_close_len(w, e, 2);
	}
	w_close_len(w, exts, 2);
	w_close_len(w, hs, 3);
}

/* The message in records: cuts[] are the offsets where a record ends. */
static size_t
records(uint8_t *out, size_t cap, const struct wire *m, const size_t *cuts,
    size_t ncuts)
{
	size_t pos = 0, n = 0, i, end;

	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : m->len;
		cr_assert_leq(n + 5 + end - pos, cap);
		out[n++] = 22;
		out[n++] = 3;
		out[n++] = 1;
		out[n++] = (uint8_t)((end - pos) >> 8);
		out[n++] = (uint8_t)(end - pos);
		memcpy(out + n, m->b + pos, end - pos);
		n += end - pos;
		pos = end;
	}
	return n;
}

static uint8_t stream[60000];

Test(tls, sni_tls12)
{
	struct hello_opts o = { .sni = "www.Example.org" };
	struct tls_hello h;
	struct wire m;
	size_t n;

	hello(&m, &o);
	n = records(stream, sizeof(stream), &m, NULL, 0);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	cr_assert(h.has_sni);
	cr_assert_str_eq(h.sni, "www.Example.org");	/* as sent */
	cr_assert_eq(h.sni_len, 15);
	cr_assert_eq(h.legacy_version, 0x0303);
	cr_assert(!h.tls13);
	cr_assert(!h.ech);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), 0);
	cr_assert_str_eq(h.sni, "www.Example.org");
}

Test(tls, tls13_and_ech)
{
	struct hello_opts o = { .sni = "public.example", .tls13 = true,
	    .ech = true };
	struct tls_hello h;
	struct wire m;
	size_t n;

	hello(&m, &o);
	n = records(stream, sizeof(stream), &m, NULL, 0);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	cr_assert(h.tls13 && h.ech && h.has_sni);
	cr_assert_str_eq(h.sni, "public.example");
}

Test(tls, no_sni)
{
	struct hello_opts o = { .tls13 = true };
	struct hello_opts bare = { .no_exts = true };
	struct tls_hello h;
	struct wire m;
	size_t n;

	hello(&m, &o);
	n = records(stream, sizeof(stream), &m, NULL, 0);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	cr_assert(!h.has_sni);
	cr_assert_str_eq(h.sni, "");
	cr_assert(h.tls13);
	hello(&m, &bare);			/* no extensions at all */
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), 0);
	cr_assert(!h.has_sni && !h.tls13);
}

Test(tls, split_across_two_records)
{
	struct hello_opts o = { .sni = "split.example.net", .tls13 = true };
	struct tls_hello h;
	struct wire m;
	size_t n, cut;

	hello(&m, &o);
	for (cut = 1; cut < m.len; cut++) {
		n = records(stream, sizeof(stream), &m, &cut, 1);
		cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0,
		    "cut at %zu", cut);
		cr_assert_str_eq(h.sni, "split.example.net");
		/* Without the second record: told to come back. */
		cr_assert_eq(tls_client_hello_stream(stream, 5 + cut + 3, &h),
		    SG_ETRUNC);
		cr_assert_gt(h.need, 5 + cut + 3);
	}
}

Test(tls, one_byte_records_and_feeds)
{
	struct hello_opts o = { .sni = "a.b" };
	struct tls_hello h;
	struct wire m;
	size_t cuts[512], n, i, k;
	int rc;

	hello(&m, &o);
	cr_assert_lt(m.len, 512);
	for (i = 1; i < m.len; i++)
		cuts[i - 1] = i;
	n = records(stream, sizeof(stream), &m, cuts, m.len - 1);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	cr_assert_str_eq(h.sni, "a.b");
	/* Fed one byte at a time: SG_ETRUNC, need always ahead, then 0. */
	for (k = 0; k < n; k++) {
		rc = tls_client_hello_stream(stream, k, &h);
		cr_assert_eq(rc, SG_ETRUNC, "at %zu: %d", k, rc);
		cr_assert_gt(h.need, k);
		cr_assert_leq(h.need, n);
	}
	/* Following need alone gets there too. */
	k = 0;
	while ((rc = tls_client_hello_stream(stream, k, &h)) == SG_ETRUNC)
		k = h.need;
	cr_assert_eq(rc, 0);
	cr_assert_eq(k, n);
}

Test(tls, truncated_everywhere)
{
	struct hello_opts o = { .sni = "cut.example", .tls13 = true,
	    .ech = true };
	struct tls_hello h;
	struct wire m;
	size_t n, k;
	int rc;

	hello(&m, &o);
	n = records(stream, sizeof(stream), &m, NULL, 0);
	for (k = 0; k < m.len; k++) {
		rc = tls_client_hello_msg(m.b, k, &h);
		cr_assert_eq(rc, SG_ETRUNC, "msg at %zu", k);
		cr_assert_eq(h.need, k < 4 ? 4 : m.len);
	}
	for (k = 0; k < n; k++) {
		rc = tls_client_hello_stream(stream, k, &h);
		cr_assert_eq(rc, SG_ETRUNC, "stream at %zu", k);
		cr_assert_eq(h.need, k < 9 ? (k < 5 ? 5u : 9u) : n);
		cr_assert(!h.has_sni);
	}
}

/* Every length field of the message, one more and one less than true. */
Test(tls, lengths_lie)
{
	struct hello_opts o = { .sni = "liar.example", .tls13 = true,
	    .ech = true };
	struct tls_hello h;
	struct wire m, bad;
	size_t i, at;
	int d, rc;
	unsigned v;

	hello(&m, &o);
	for (i = 1; i < m.nlens; i++) {		/* 0 is the message's */
		for (d = -1; d <= 1; d += 2) {
			bad = m;
			at = m.lens[i];
			if (m.lsize[i] == 1) {
				bad.b[at] = (uint8_t)(bad.b[at] + d);
			} else {
				v = (unsigned)(bad.b[at] << 8 | bad.b[at + 1]);
				v = (unsigned)((int)v + d) & 0xffff;
				bad.b[at] = (uint8_t)(v >> 8);
				bad.b[at + 1] = (uint8_t)v;
			}
			rc = tls_client_hello_msg(bad.b, bad.len, &h);
			cr_assert_eq(rc, SG_EMALFORMED,
			    "field %zu at %zu by %d: %d", i, at, d, rc);
			cr_assert(!h.has_sni);
		}
	}
	/* The message length: longer waits, shorter breaks what is in it. */
	bad = m;
	bad.b[3]++;
	cr_assert_eq(tls_client_hello_msg(bad.b, bad.len, &h), SG_ETRUNC);
	cr_assert_eq(h.need, m.len + 1);
	bad.b[3] -= 2;
	cr_assert_eq(tls_client_hello_msg(bad.b, bad.len, &h), SG_EMALFORMED);
}

Test(tls, record_lengths_lie)
{
	struct hello_opts o = { .sni = "rec.example" };
	struct tls_hello h;
	struct wire m;
	size_t n;

	hello(&m, &o);
	n = records(stream, sizeof(stream), &m, NULL, 0);
	/* A record longer than the hello: the hello is all we wait for. */
	stream[4]++;
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	/* Shorter: the rest must come in another record... */
	stream[4] -= 2;
	cr_assert_eq(tls_client_hello_stream(stream, n - 1, &h), SG_ETRUNC);
	cr_assert_eq(h.need, n - 1 + 5);
	/* ...and what follows (the hello's last byte) is not one. */
	cr_assert_neq(stream[n - 1], 22);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), SG_EMALFORMED);
	/* An empty record, and one larger than TLS allows. */
	stream[3] = 0, stream[4] = 0;
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), SG_EMALFORMED);
	stream[3] = 0x50;
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), SG_EMALFORMED);
}

Test(tls, not_tls)
{
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00,
	    0x15, 0x00, 0x00, 0x00, 0x10 };
	static const uint8_t appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x01, 0 };
	static const uint8_t shello[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 2, 0,
	    0, 0 };
	static const uint8_t major[] = { 0x16, 0x02 };
	struct tls_hello h;

	cr_assert_eq(tls_client_hello_stream(sslv2, sizeof(sslv2), &h),
	    SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream((const uint8_t *)"GET / HTTP/1.1",
	    14, &h), SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream(appdata, sizeof(appdata), &h),
	    SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream(shello, sizeof(shello), &h),
	    SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream(major, sizeof(major), &h),
	    SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream(sslv2, 1, &h), SG_EUNSUPP);
	cr_assert_eq(tls_client_hello_stream(NULL, 0, &h), SG_ETRUNC);
	cr_assert_eq(h.need, 5);
	cr_assert_eq(tls_client_hello_msg(shello + 5, 4, &h), SG_EUNSUPP);
}

Test(tls, bad_names)
{
	static const char *bad[] = { "a..b", ".a", "a.", "a b", "a\x01",
	    "a/b", "caf\xc3\xa9.fr", "[::1]", "" };
	char big[300];
	struct hello_opts o = { 0 };
	struct tls_hello h;
	struct wire m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.sni = bad[i];
		hello(&m, &o);
		cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h),
		    SG_EMALFORMED, "%s", bad[i]);
		cr_assert(!h.has_sni);
	}
	/* 253 bytes in labels of 63 or less: the longest name there is. */
	memset(big, 'a', sizeof(big));
	for (i = 63; i < 253; i += 64)
		big[i] = '.';
	big[253] = '\0';
	o.sni = big;
	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), 0);
	cr_assert_eq(h.sni_len, 253);
	cr_assert_eq(strlen(h.sni), 253);
	big[253] = 'a', big[254] = '\0';
	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), SG_EMALFORMED);
	memset(big, 'a', 64);			/* a 64-byte label */
	big[64] = '\0';
	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), SG_EMALFORMED);
}

Test(tls, two_names_refused)
{
	struct hello_opts o = { .sni = "one.example", .two_names = true };
	struct tls_hello h;
	struct wire m;

	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), SG_EMALFORMED);
	o.two_names = false;
	o.two_sni_exts = true;
	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), SG_EMALFORMED);
}

Test(tls, limit)
{
	struct hello_opts o = { .sni = "big.example", .pad = 15000 };
	struct tls_hello h;
	struct wire m;
	size_t n, cuts[2] = { 5000, 10000 };

	hello(&m, &o);				/* fits, even in 3 records */
	n = records(stream, sizeof(stream), &m, cuts, 2);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), 0);
	cr_assert_str_eq(h.sni, "big.example");
	o.pad = 16500;				/* does not */
	hello(&m, &o);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), SG_ELIMIT);
	n = records(stream, sizeof(stream), &m, cuts, 2);
	cr_assert_eq(tls_client_hello_stream(stream, 9, &h), SG_ELIMIT);
	/* Fits as a message, but not with its record headers. */
	o.pad = 16384 - 4 - (m.len - 4 - 16500) - 2;
	hello(&m, &o);
	cr_assert_leq(m.len, TLS_HELLO_MAX);
	cr_assert_eq(tls_client_hello_msg(m.b, m.len, &h), 0);
	n = records(stream, sizeof(stream), &m, cuts, 2);
	cr_assert_eq(tls_client_hello_stream(stream, n, &h), SG_ELIMIT);
}

/* ---------------------------------------------------------------- corpus */

struct oracle_row {
	uint64_t	frame;
	bool		tcp;
	bool		client_hello;
	char		sni[512];
};

static size_t
oracle_load(const char *pcap, struct oracle_row *rows, size_t cap)
{
	char path[4096], line[8192], f[512];
	int cf, ct, cs, cport;
	size_t n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/corpus/oracle/%s.tsv", corpus_shared_dir(),
	    pcap);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return 0;
	}
	cf = corpus_tsv_col(line, "frame.number");
	ct = corpus_tsv_col(line, "tls.handshake.type");
	cs = corpus_tsv_col(line, "tls.handshake.extensions_server_name");
	cport = corpus_tsv_col(line, "tcp.srcport");
	while (n < cap && fgets(line, sizeof(line), fp) != NULL) {
		corpus_tsv_field(line, cf, f, sizeof(f));
		rows[n].frame = strtoull(f, NULL, 10);
		corpus_tsv_field(line, cport, f, sizeof(f));
		rows[n].tcp = f[0] != '\0';
		corpus_tsv_field(line, ct, f, sizeof(f));
		rows[n].client_hello = strcmp(f, "1") == 0 ||
		    strncmp(f, "1|", 2) == 0;
		corpus_tsv_field(line, cs, rows[n].sni, sizeof(rows[n].sni));
		n++;
	}
	fclose(fp);
	return n;
}

static const struct oracle_row *
oracle_find(const struct oracle_row *rows, size_t n, uint64_t frame)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].frame == frame)
			return &rows[i];
	return NULL;
}

struct tls_corpus {
	const char		*pcap;
	const struct oracle_row	*rows;
	size_t			 nrows;
	unsigned		 names, nosni, bad, seen;
};

static bool
tls_stream(void *arg, const uint8_t *buf, size_t len, uint64_t frame)
{
	struct tls_corpus *t = arg;
	const struct oracle_row *r;
	struct tls_hello h;
	int rc;

	if ((rc = tls_client_hello_stream(buf, len, &h)) == SG_ETRUNC)
		return false;
	if (rc != 0)
		return true;
	t->seen++;
	r = oracle_find(t->rows, t->nrows, frame);
	if (r == NULL || !r->client_hello) {
		t->bad++;
		cr_log_error("%s frame %llu: %s, tshark: no ClientHello",
		    t->pcap, (unsigned long long)frame, h.sni);
	} else if (strcmp(r->sni, h.sni) != 0) {
		t->bad++;
		cr_log_error("%s frame %llu: '%s', tshark '%s'", t->pcap,
		    (unsigned long long)frame, h.sni, r->sni);
	} else if (h.has_sni)
		t->names++;
	else
		t->nosni++;
	return true;
}

Test(tls, corpus)
{
	static struct oracle_row rows[4096];
	static const char *pcaps[] = { "443-curl.pcap", "android.pcap",
	    "anyconnect-vpn.pcap", "discord.pcap", "dns_doh.pcap",
	    "dns_dot.pcap", "encrypted_sni.pcap", "http_connect.pcap",
	    "ja4-tls__input.pcap", "no_sni.pcap", "ssl-v2.pcap",
	    "tls-client-hello-frag-01__dump_mtu300.pcap",
	    "tls-esni-fuzzed.pcap", "tls_esni_sni_both.pcap",
	    "tls_invalid_reads.pcap", "tor.pcap", "doh.pcapng",
	    "tls_1.3_unidirectional_client.pcapng", "tls_2_reasms.pcapng",
	    "tls_ech.pcapng", "tls_port_80.pcapng", "tls_with_huge_ch.pcapng",
	    "tls_missing_ch_frag.pcap", "whatsapp_login_chat.pcap" };
	struct tls_corpus t = { .rows = rows };
	char path[4096];
	unsigned oracle_names = 0;
	size_t i, k;

	snprintf(path, sizeof(path), "%s/corpus/pcap", corpus_shared_dir());
	if (access(path, R_OK) != 0)
		cr_skip_test("%s not found (set SHARED): skipped", path);
	for (i = 0; i < sizeof(pcaps) / sizeof(pcaps[0]); i++) {
		t.pcap = pcaps[i];
		t.nrows = oracle_load(pcaps[i], rows, 4096);
		for (k = 0; k < t.nrows; k++)
			if (rows[k].tcp && rows[k].client_hello &&
			    rows[k].sni[0] != '\0')
				oracle_names++;
		corpus_tcp_streams(pcaps[i], TLS_HELLO_MAX, tls_stream, &t);
	}
	fprintf(stderr, "tls corpus: %u ClientHellos read, %u names and %u "
	    "without SNI agree with tshark, %u differ; tshark names %u\n",
	    t.seen, t.names, t.nosni, t.bad, oracle_names);
	cr_assert_eq(t.bad, 0);
	cr_assert_geq(t.names, 35, "too few names read: %u", t.names);
}
