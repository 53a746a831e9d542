/*
 * test_http.c - http_request_host().
 *
 * Requests are written by hand here, then the first request of every TCP
 * stream in the shared captures is read and held against tshark's
 * http.host (SHARED/corpus/oracle; skipped without SHARED).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "corpus.h"
#include "http.h"

static int
req(const char *s, struct http_request *r)
{
	return http_request_host((const uint8_t *)s, strlen(s), r);
}

Test(http, origin_form)
{
	struct http_request r;

	cr_assert_eq(req("GET /x HTTP/1.1\r\nUser-Agent: t\r\n"
	    "hOsT:  WWW.Example.COM  \r\nAccept: */*\r\n\r\nbody", &r), 0);
	cr_assert_str_eq(r.method, "GET");
	cr_assert_eq(r.minor, 1);
	cr_assert(r.has_host && !r.is_ip && !r.from_target);
	cr_assert_str_eq(r.host, "www.example.com");
	cr_assert_eq(r.host_len, 15);
	cr_assert_eq(r.port, 0);
	cr_assert_eq(req("POST / HTTP/1.0\r\nHost: toni.lan:31337\r\n\r\n",
	    &r), 0);
	cr_assert_str_eq(r.host, "toni.lan");
	cr_assert_eq(r.port, 31337);
	cr_assert_eq(r.minor, 0);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n", &r),
	    0);
	cr_assert_str_eq(r.host, "example.com");
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: a.b:\r\n\r\n", &r), 0);
	cr_assert_eq(r.port, 0);
}

Test(http, ip_literals)
{
	struct http_request r;

	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n", &r),
	    0);
	cr_assert_str_eq(r.host, "::1");
	cr_assert(r.is_ip);
	cr_assert_eq(r.port, 8000);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: [2001:DB8::A]\r\n\r\n", &r),
	    0);
	cr_assert_str_eq(r.host, "2001:db8::a");
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: 10.0.0.149:8008\r\n\r\n",
	    &r), 0);
	cr_assert_str_eq(r.host, "10.0.0.149");
	cr_assert(r.is_ip);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", &r),
	    SG_EMALFORMED);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", &r),
	    SG_EMALFORMED);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: [1.2.3.4]\r\n\r\n", &r),
	    SG_EMALFORMED);
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", &r),
	    SG_EMALFORMED);
}

Test(http, target_wins)
{
	struct http_request r;

	cr_assert_eq(req("GET http://Proxy.Example:8080/a?b HTTP/1.1\r\n\r\n",
	    &r), 0);
	cr_assert_str_eq(r.host, "proxy.example");
	cr_assert_eq(r.port, 8080);
	cr_assert(r.from_target);
	/* RFC 9112 §3.2.2: the target's authority, not Host. */
	cr_assert_eq(req("GET http://real.example/ HTTP/1.1\r\n"
	    "Host: decoy.example\r\n\r\n", &r), 0);
	cr_assert_str_eq(r.host, "real.example");
	cr_assert_eq(req("GET HTTPS://[::2]:1/ HTTP/1.1\r\n\r\n", &r), 0);
	cr_assert_str_eq(r.host, "::2");
	cr_assert_eq(req("CONNECT apache.org:443 HTTP/1.1\r\n"
	    "Host: apache.org:443\r\n\r\n", &r), 0);
	cr_assert_str_eq(r.host, "apache.org");
	cr_assert_eq(r.port, 443);
	cr_assert(r.from_target);
	cr_assert_eq(req("OPTIONS * HTTP/1.1\r\nHost: o.example\r\n\r\n",
	    &r), 0);
	cr_assert_str_eq(r.host, "o.example");
	/* The Host field is still checked. */
	cr_assert_eq(req("GET http://a.example/ HTTP/1.1\r\nHost: a b\r\n\r\n",
	    &r), SG_EMALFORMED);
	cr_assert_eq(req("GET http://u@a.example/ HTTP/1.1\r\n\r\n", &r),
	    SG_EMALFORMED);
	cr_assert_eq(req("GET http:/a.example/ HTTP/1.1\r\n\r\n", &r),
	    SG_EMALFORMED);
	cr_assert_eq(req("GET http:///x HTTP/1.1\r\n\r\n", &r), SG_EMALFORMED);
}

Test(http, no_host)
{
	struct http_request r;

	cr_assert_eq(req("GET / HTTP/1.0\r\n\r\n", &r), 0);
	cr_assert(!r.has_host);
	cr_assert_str_eq(r.host, "");
	cr_assert_eq(req("GET / HTTP/1.1\r\nHost:\r\n\r\n", &r), 0);
	cr_assert(!r.has_host);
}

Test(http, smuggling)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n",
		"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a..b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
	};
	struct http_request r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(req(bad[i], &r), SG_EMALFORMED, "%zu", i);
		cr_assert(!r.has_host);
	}
}

Test(http, not_http)
{
	static const char *other[] = { "HTTP/1.1 200 OK\r\n\r\n",
	    "\x16\x03\x01", "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n",
	    "GET / HTTP/1.1\n\n", "GET /a b HTTP/1.1\r\n", " GET",
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "GET / HTTP/1.1 \r\n",
	    "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n" };
	struct http_request r;
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_assert_eq(req(other[i], &r), SG_EUNSUPP, "%zu", i);
}

/* Every prefix waits (need ahead of it), and following need gets there. */
Test(http, truncated_everywhere)
{
	static const char s[] = "GET http://t.example/ HTTP/1.1\r\n"
	    "Host: t.example\r\nX: y\r\n\r\n";
	struct http_request r;
	size_t k, n = sizeof(s) - 1;
	int rc;

	for (k = 0; k < n; k++) {
		rc = http_request_host((const uint8_t *)s, k, &r);
		cr_assert_eq(rc, SG_ETRUNC, "at %zu: %d", k, rc);
		cr_assert_gt(r.need, k);
		cr_assert_leq(r.need, n);
	}
	k = 0;
	while ((rc = http_request_host((const uint8_t *)s, k, &r)) ==
	    SG_ETRUNC)
		k = r.need;
	cr_assert_eq(rc, 0);
	cr_assert_eq(k, n);
	cr_assert_str_eq(r.host, "t.example");
}

Test(http, limit)
{
	static uint8_t big[HTTP_HEADER_MAX + 100];
	struct http_request r;
	size_t n;

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	cr_assert_eq(http_request_host(big, sizeof(big), &r), SG_ELIMIT);
	cr_assert_eq(http_request_host(big, HTTP_HEADER_MAX, &r), SG_ELIMIT);
	cr_assert_eq(http_request_host(big, 100, &r), SG_ETRUNC);
	/* Exactly HTTP_HEADER_MAX bytes with the empty line: fine. */
	n = HTTP_HEADER_MAX;
	memcpy(big + n - 4, "\r\n\r\n", 4);
	cr_assert_eq(http_request_host(big, sizeof(big), &r), 0);
	memcpy(big + n - 4, "aa\r\n", 4);	/* one more line: too many */
	cr_assert_eq(http_request_host(big, sizeof(big), &r), SG_ELIMIT);
	/* A target longer than the block may be. */
	memcpy(big, "GET /", 5);
	cr_assert_eq(http_request_host(big, sizeof(big), &r), SG_ELIMIT);
}

/* ---------------------------------------------------------------- corpus */

struct oracle_row {
	uint64_t	frame;
	bool		tcp;
	char		host[512];
};

static size_t
oracle_load(const char *pcap, struct oracle_row *rows, size_t cap)
{
	char path[4096], line[8192], f[512];
	int cf, ch, cport;
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
	ch = corpus_tsv_col(line, "http.host");
	cport = corpus_tsv_col(line, "tcp.srcport");
	while (n < cap && fgets(line, sizeof(line), fp) != NULL) {
		corpus_tsv_field(line, cf, f, sizeof(f));
		rows[n].frame = strtoull(f, NULL, 10);
		corpus_tsv_field(line, cport, f, sizeof(f));
		rows[n].tcp = f[0] != '\0';
		corpus_tsv_field(line, ch, rows[n].host, sizeof(rows[n].host));
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

struct http_corpus {
	const char		*pcap;
	const struct oracle_row	*rows;
	size_t			 nrows;
	unsigned		 same, bad, seen;
};

static bool
http_stream(void *arg, const uint8_t *buf, size_t len, uint64_t frame)
{
	struct http_corpus *t = arg;
	const struct oracle_row *r;
	struct http_request h;
	char want[600];
	int rc;

	if ((rc = http_request_host(buf, len, &h)) == SG_ETRUNC)
		return false;
	if (rc != 0) {
		if (rc != SG_EUNSUPP)
			cr_log_warn("%s frame %llu: %s", t->pcap,
			    (unsigned long long)frame, sg_strerror(rc));
		return true;
	}
	t->seen++;
	r = oracle_find(t->rows, t->nrows, frame);
	/* tshark keeps the port and the brackets. */
	if (!h.has_host)
		want[0] = '\0';
	else if (strchr(h.host, ':') != NULL)
		snprintf(want, sizeof(want), "[%s]", h.host);
	else
		snprintf(want, sizeof(want), "%s", h.host);
	if (h.port != 0)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    ":%u", h.port);
	if (r == NULL || strcasecmp(r->host, want) != 0) {
		t->bad++;
		cr_log_error("%s frame %llu: '%s', tshark '%s'", t->pcap,
		    (unsigned long long)frame, want,
		    r != NULL ? r->host : "(no row)");
	} else
		t->same++;
	return true;
}

Test(http, corpus)
{
	static struct oracle_row rows[4096];
	static const char *pcaps[] = { "android.pcap", "anyconnect-vpn.pcap",
	    "http-ipv6__input.pcap", "http-lower-case.pcap",
	    "http-manipulated.pcap", "http.pcapng", "http_connect.pcap",
	    "http_ua_splitted_in_two_pkts.pcapng", "ocsp.pcapng",
	    "pipelined-requests.pcap", "windowsupdate_over_http.pcap",
	    "tls_port_80.pcapng", "443-curl.pcap" };
	struct http_corpus t = { .rows = rows };
	char path[4096];
	unsigned oracle_hosts = 0;
	size_t i, k;

	snprintf(path, sizeof(path), "%s/corpus/pcap", corpus_shared_dir());
	if (access(path, R_OK) != 0)
		cr_skip_test("%s not found (set SHARED): skipped", path);
	for (i = 0; i < sizeof(pcaps) / sizeof(pcaps[0]); i++) {
		t.pcap = pcaps[i];
		t.nrows = oracle_load(pcaps[i], rows, 4096);
		for (k = 0; k < t.nrows; k++)
			if (rows[k].tcp && rows[k].host[0] != '\0')
				oracle_hosts++;
		corpus_tcp_streams(pcaps[i], HTTP_HEADER_MAX, http_stream, &t);
	}
	fprintf(stderr, "http corpus: %u first requests read, %u hosts agree "
	    "with tshark, %u differ; tshark TCP hosts %u\n", t.seen, t.same,
	    t.bad, oracle_hosts);
	cr_assert_eq(t.bad, 0);
	cr_assert_geq(t.same, 20, "too few hosts read: %u", t.same);
}
