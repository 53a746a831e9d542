/*
 * test_syslogfwd.c - syslog forwarding: the target's forms, the RFC 5424
 * message and RFC 6587 framing byte for byte, and the thread against
 * receivers of the test's own on ephemeral ports of 127.0.0.1 (UDP, TCP,
 * and TLS with a throwaway self-signed certificate made here with the
 * OpenSSL API).  Nothing is sent anywhere else.  The receivers read the
 * framing themselves rather than through syslogfwd's code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "errcap.h"
#include "syslogfwd.h"

#define HOST	"gw1"
#define FAC	16		/* local0 */
#define SEV	6		/* info */

/* ---------------------------------------------------------------- forms */

Test(syslogfwd_target, good_forms)
{
	static const struct {
		const char	*s;
		int		 proto;
		const char	*host;
		unsigned	 port;
		bool		 ip;
	} ok[] = {
		{ "udp://192.0.2.1:514", SYSLOGFWD_UDP, "192.0.2.1", 514, 1 },
		{ "tcp://logs.example.org:1514", SYSLOGFWD_TCP,
		    "logs.example.org", 1514, 0 },
		{ "tls://[2001:db8::1]:6514", SYSLOGFWD_TLS, "2001:db8::1",
		    6514, 1 },
		{ "tls://graylog", SYSLOGFWD_TLS, "graylog", 6514, 0 },
		{ "udp://[::1]", SYSLOGFWD_UDP, "::1", 514, 1 },
		{ "tcp://log_1.example:65535", SYSLOGFWD_TCP, "log_1.example",
		    65535, 0 },
	};
	struct syslogfwd_target t;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(syslogfwd_parse_target(ok[i].s, &t, err,
		    sizeof(err)), 0, "%s: %s", ok[i].s, err);
		cr_assert_eq((int)t.proto, ok[i].proto, "%s", ok[i].s);
		cr_assert_str_eq(t.host, ok[i].host);
		cr_assert_eq(t.port, ok[i].port, "%s", ok[i].s);
		cr_assert_eq(t.host_is_ip, ok[i].ip, "%s", ok[i].s);
	}
}

Test(syslogfwd_target, bad_forms)
{
	static const char *const bad[] = {
		"", "127.0.0.1:514", "syslog://h:514", "UDP://h:514",
		"udp://", "udp://:514", "udp://h:", "udp://h:0",
		"udp://h:65536", "udp://h:123456", "udp://h:+5", "udp://h:5x",
		"udp://::1:514", "udp://[::1:514", "udp://[]:514",
		"udp://[192.0.2.1]:514", "udp://[fe80::1%eth0]:514",
		"udp://h:514/path", "udp://user@h:514", "udp://a..b:514",
		"udp://.a:514", "udp://a.:514", "udp://h h:514",
		"udp://256.1.1.1:514", "udp://1.2.3:514", "tcp://h:514?x",
	};
	struct syslogfwd_target t;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(syslogfwd_parse_target(bad[i], &t, err,
		    sizeof(err)), -EINVAL, "\"%s\" accepted", bad[i]);
		cr_assert_not_null(strstr(err, "syslog target: "), "%s", err);
	}
	cr_assert_eq(syslogfwd_parse_target(NULL, &t, err, sizeof(err)),
	    -EINVAL);
	cr_assert_eq(syslogfwd_parse_target("ftp://h", &t, err, sizeof(err)),
	    -EINVAL);
	cr_assert_str_eq(err,
	    "syslog target: expected udp://, tcp:// or tls://");
}

static struct syslogfwd_msg
sample(void)
{
	struct syslogfwd_msg m;

	memset(&m, 0, sizeof(m));
	m.ts.tv_sec = 1700000000;
	m.ts.tv_nsec = 123456789;
	m.facility = FAC;
	m.severity = SEV;
	m.hostname = HOST;
	m.pid = 4242;
	m.msg = "{\"kind\":\"dns\"}";
	m.msg_len = strlen(m.msg);
	return m;
}

Test(syslogfwd_format, exact_bytes)
{
	static const char want[] = "<134>1 2023-11-14T22:13:20.123456Z gw1 "
	    "safegated 4242 event - {\"kind\":\"dns\"}";
	struct syslogfwd_msg m = sample();
	char buf[512];
	int n;

	n = syslogfwd_format(&m, buf, sizeof(buf));
	cr_assert_eq(n, (int)strlen(want), "%d: %s", n, buf);
	cr_assert_str_eq(buf, want);

	/* exactly enough room (with the NUL), and one byte less */
	cr_assert_eq(syslogfwd_format(&m, buf, strlen(want) + 1), n);
	cr_assert_eq(syslogfwd_format(&m, buf, strlen(want)), SG_ELIMIT);

	/* kern.emerg, no hostname, a time with no fraction */
	m.facility = 0;
	m.severity = 0;
	m.hostname = NULL;
	m.ts.tv_sec = 0;
	m.ts.tv_nsec = 999;
	cr_assert_gt(syslogfwd_format(&m, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "<0>1 1970-01-01T00:00:00.000000Z - "
	    "safegated 4242 event - {\"kind\":\"dns\"}");

	m.facility = 23;
	m.severity = 7;
	cr_assert_gt(syslogfwd_format(&m, buf, sizeof(buf)), 0);
	cr_assert_eq(strncmp(buf, "<191>1 ", 7), 0, "%s", buf);
	m.facility = 24;
	cr_assert_eq(syslogfwd_format(&m, buf, sizeof(buf)), -EINVAL);
	m.facility = 0;
	m.severity = 8;
	cr_assert_eq(syslogfwd_format(&m, buf, sizeof(buf)), -EINVAL);
	m.severity = -1;
	cr_assert_eq(syslogfwd_format(&m, buf, sizeof(buf)), -EINVAL);
}

Test(syslogfwd_format, structured_data)
{
	struct syslogfwd_msg m = sample();
	char buf[512];

	m.msgid = "dns";
	m.hash = "00ff]x\"y\\z";
	m.hash_len = strlen(m.hash);
	m.seq = 18446744073709551615u;
	cr_assert_gt(syslogfwd_format(&m, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "<134>1 2023-11-14T22:13:20.123456Z gw1 "
	    "safegated 4242 dns [safegate@32473 seq=\"18446744073709551615\" "
	    "hash=\"00ff\\]x\\\"y\\\\z\"] {\"kind\":\"dns\"}");

	m.sd_id = "sg@99999";
	m.hash = "ab";
	m.hash_len = 2;
	m.seq = 7;
	cr_assert_gt(syslogfwd_format(&m, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, " dns [sg@99999 seq=\"7\" hash=\"ab\"] "
	    "{"), "%s", buf);
}

Test(syslogfwd_format, octet_counting)
{
	char buf[32];

	cr_assert_eq(syslogfwd_frame("hello world", 11, buf, sizeof(buf)), 14);
	cr_assert_eq(memcmp(buf, "11 hello world", 14), 0);
	cr_assert_eq(syslogfwd_frame("x", 1, buf, 3), 3);
	cr_assert_eq(memcmp(buf, "1 x", 3), 0);
	cr_assert_eq(syslogfwd_frame("x", 1, buf, 2), SG_ELIMIT);
	cr_assert_eq(syslogfwd_frame("hello world", 11, buf, 13), SG_ELIMIT);
}

Test(syslogfwd_start, bad_arguments)
{
	char err[256];

	cr_assert_null(syslogfwd_start("udp://h:0", NULL, FAC, HOST, err,
	    sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(syslogfwd_start("udp://127.0.0.1:9", NULL, 24, HOST,
	    err, sizeof(err)));
	cr_assert_str_eq(err, "syslog facility 24: out of 0..23");
	cr_assert_null(syslogfwd_start("udp://127.0.0.1:9", NULL, FAC,
	    "gw 1", err, sizeof(err)));
	cr_assert_null(syslogfwd_start("tls://127.0.0.1:9",
	    "/nonexistent/ca.pem", FAC, HOST, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(strstr(err, "syslog CA /nonexistent/ca.pem: "),
	    "%s", err);
	/* forwarding off: a NULL forwarder takes lines and does nothing */
	cr_assert_eq(syslogfwd_send(NULL, "{}\n", 3, SEV), 0);
	syslogfwd_stop(NULL);
}

/* ---------------------------------------------------------------- live */

static struct syslogfwd_opts
fast(void)
{
	struct syslogfwd_opts o;

	memset(&o, 0, sizeof(o));
	o.retry_min_ms = 100;
	o.retry_max_ms = 400;
	o.timeout_ms = 3000;
	o.stop_ms = 3000;
	return o;
}

/* A socket on an ephemeral port of 127.0.0.1; *port gets the port. */
static int
local_socket(int type, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(*port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
listener(uint16_t *port)
{
	int fd = local_socket(SOCK_STREAM, port);

	cr_assert_eq(listen(fd, 16), 0);
	return fd;
}

static void
wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	cr_assert_eq(poll(&pfd, 1, ms), 1, "nothing came in %d ms", ms);
}

static int
accept_one(int lfd)
{
	struct timeval tv = { 5, 0 };
	int fd;

	wait_readable(lfd, 5000);
	fd = accept(lfd, NULL, NULL);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static struct syslogfwd *
start(const char *proto, const char *host, uint16_t port, const char *ca,
    const struct syslogfwd_opts *o)
{
	struct syslogfwd *f;
	char target[128], err[256];

	snprintf(target, sizeof(target), "%s://%s:%u", proto, host, port);
	f = syslogfwd_start_opts(target, ca, FAC, HOST, o, err, sizeof(err));
	cr_assert_not_null(f, "%s", err);
	return f;
}

static void
line(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "{\"n\":%u,\"name\":\"x%u.example\"}", i, i);
}

static void
send_lines(struct syslogfwd *f, unsigned from, unsigned to)
{
	char l[128], nl[130];
	unsigned i;

	for (i = from; i < to; i++) {
		line(l, sizeof(l), i);
		snprintf(nl, sizeof(nl), "%s\n", l);	/* as evlog has it */
		cr_assert_eq(syslogfwd_send(f, nl, strlen(nl), SEV), 0);
	}
}

/*
 * Checks one received message: "<134>1 ", a time of the right shape and
 * near now, then " gw1 safegated PID event - " and line i.
 */
static void
check_msg(const char *m, size_t len, unsigned i)
{
	char want[256], l[128];
	struct tm tm;
	time_t t;
	int n;

	cr_assert_gt(len, 7 + 27);
	cr_assert_eq(memcmp(m, "<134>1 ", 7), 0, "%.*s", (int)len, m);
	memset(&tm, 0, sizeof(tm));
	cr_assert_not_null(strptime(m + 7, "%Y-%m-%dT%H:%M:%S.", &tm),
	    "%.*s", (int)len, m);
	cr_assert_eq(strspn(m + 27, "0123456789"), 6);
	cr_assert_eq(m[33], 'Z');
	t = timegm(&tm);
	cr_assert_leq(labs((long)(t - time(NULL))), 60);
	line(l, sizeof(l), i);
	n = snprintf(want, sizeof(want), " " HOST " safegated %ld event - %s",
	    (long)getpid(), l);
	cr_assert_eq(len - 34, (size_t)n, "%.*s", (int)len, m);
	cr_assert_eq(memcmp(m + 34, want, (size_t)n), 0, "got %.*s, want %s",
	    (int)len, m, want);
}

/* A stream receiver: a socket, maybe TLS, and what came but was not read
 * as a frame yet. */
struct rx {
	int	 fd;
	SSL	*ssl;
	char	 buf[1 << 16];
	size_t	 len;
};

static void
rx_fill(struct rx *r)
{
	ssize_t n;

	cr_assert_lt(r->len, sizeof(r->buf));
	if (r->ssl != NULL)
		n = SSL_read(r->ssl, r->buf + r->len,
		    (int)(sizeof(r->buf) - r->len));
	else
		n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
	cr_assert_gt(n, 0, "the stream ended or timed out after %zu bytes",
	    r->len);
	r->len += (size_t)n;
}

/* Reads one octet-counted frame into m (NUL-terminated); its length. */
static size_t
rx_frame(struct rx *r, char *m, size_t cap)
{
	size_t i, n;

	for (;;) {
		for (i = 0; i < r->len && r->buf[i] >= '0' &&
		    r->buf[i] <= '9'; i++)
			;
		if (i < r->len) {
			cr_assert(i > 0 && i < 6 && r->buf[i] == ' ' &&
			    r->buf[0] != '0', "bad frame: %.*s",
			    (int)(r->len < 40 ? r->len : 40), r->buf);
			n = strtoul(r->buf, NULL, 10);
			cr_assert_lt(n, cap);
			if (r->len >= i + 1 + n) {
				memcpy(m, r->buf + i + 1, n);
				m[n] = '\0';
				memmove(r->buf, r->buf + i + 1 + n,
				    r->len - (i + 1 + n));
				r->len -= i + 1 + n;
				return n;
			}
		}
		rx_fill(r);
	}
}

static void
rx_expect(struct rx *r, unsigned from, unsigned to)
{
	char m[1024];
	size_t n;
	unsigned i;

	for (i = from; i < to; i++) {
		n = rx_frame(r, m, sizeof(m));
		check_msg(m, n, i);
	}
}

static void
wait_stats(struct syslogfwd *f, struct syslogfwd_stats *st,
    bool (*ok)(const struct syslogfwd_stats *, uint64_t), uint64_t arg)
{
	int i;

	for (i = 0; i < 500; i++) {
		syslogfwd_stats(f, st);
		if (ok(st, arg))
			return;
		usleep(10000);
	}
	cr_assert_fail("stats: sent %lu dropped %lu reconnects %lu errors "
	    "%lu queued %lu", (unsigned long)st->sent,
	    (unsigned long)st->dropped, (unsigned long)st->reconnects,
	    (unsigned long)st->errors, (unsigned long)st->queued);
}

static bool
sent_is(const struct syslogfwd_stats *st, uint64_t n)
{
	return st->sent == n && st->queued == 0;
}

static bool
errors_at_least(const struct syslogfwd_stats *st, uint64_t n)
{
	return st->errors >= n;
}

static bool
connected(const struct syslogfwd_stats *st, uint64_t n)
{
	(void)n;
	return st->connected;
}

Test(syslogfwd_live, udp_datagrams_in_order, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	uint16_t port = 0;
	char m[1024];
	ssize_t n;
	unsigned i;
	int fd;

	fd = local_socket(SOCK_DGRAM, &port);
	f = start("udp", "127.0.0.1", port, NULL, &o);
	send_lines(f, 0, 20);
	for (i = 0; i < 20; i++) {
		wait_readable(fd, 5000);
		n = recv(fd, m, sizeof(m) - 1, 0);
		cr_assert_gt(n, 0);
		m[n] = '\0';
		check_msg(m, (size_t)n, i);	/* one message a datagram */
	}
	wait_stats(f, &st, sent_is, 20);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.errors, 0);
	syslogfwd_stop(f);
	close(fd);
}

Test(syslogfwd_live, udp_meta_gives_msgid_and_sd, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_meta meta = { "risk", "0123abcd", 42 };
	struct syslogfwd *f;
	uint16_t port = 0;
	char m[1024], want[256];
	ssize_t n;
	int fd;

	fd = local_socket(SOCK_DGRAM, &port);
	f = start("udp", "127.0.0.1", port, NULL, &o);
	cr_assert_eq(syslogfwd_send_meta(f, "{}\n", 3, 4, &meta), 0);
	wait_readable(fd, 5000);
	n = recv(fd, m, sizeof(m) - 1, 0);
	cr_assert_gt(n, 34);
	m[n] = '\0';
	cr_assert_eq(memcmp(m, "<132>1 ", 7), 0, "%s", m);
	snprintf(want, sizeof(want), " gw1 safegated %ld risk "
	    "[safegate@32473 seq=\"42\" hash=\"0123abcd\"] {}", (long)getpid());
	cr_assert_str_eq(m + 34, want);

	/* out of form: refused, nothing queued */
	meta.kind = "two words";
	cr_assert_eq(syslogfwd_send_meta(f, "{}", 2, 4, &meta), -EINVAL);
	meta.kind = "123456789012345678901234567890123";	/* 33 */
	cr_assert_eq(syslogfwd_send_meta(f, "{}", 2, 4, &meta), -EINVAL);
	meta.kind = NULL;
	meta.hash = "";
	cr_assert_eq(syslogfwd_send_meta(f, "{}", 2, 4, &meta), -EINVAL);
	cr_assert_eq(syslogfwd_send(f, "{}", 2, 8), -EINVAL);
	cr_assert_eq(syslogfwd_send(f, "\n", 1, 6), -EINVAL);
	syslogfwd_stop(f);
	close(fd);
}

Test(syslogfwd_live, tcp_octet_counted_in_order, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	uint16_t port = 0;
	int lfd;

	lfd = listener(&port);
	f = start("tcp", "127.0.0.1", port, NULL, &o);
	r->fd = accept_one(lfd);
	send_lines(f, 0, 500);
	rx_expect(r, 0, 500);
	wait_stats(f, &st, sent_is, 500);
	cr_assert_eq(st.dropped + st.errors + st.reconnects, 0);
	syslogfwd_stop(f);
	close(r->fd);
	close(lfd);
	free(r);
}

Test(syslogfwd_live, stop_flushes, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	uint16_t port = 0;
	int lfd;

	lfd = listener(&port);
	f = start("tcp", "127.0.0.1", port, NULL, &o);
	send_lines(f, 0, 50);
	syslogfwd_stop(f);	/* the kernel holds what was written */
	r->fd = accept_one(lfd);
	rx_expect(r, 0, 50);
	close(r->fd);
	close(lfd);
	free(r);
}

Test(syslogfwd_live, tcp_receiver_goes_and_comes_back, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	uint16_t port = 0;
	int lfd;

	lfd = listener(&port);
	f = start("tcp", "127.0.0.1", port, NULL, &o);
	r->fd = accept_one(lfd);
	send_lines(f, 0, 3);
	rx_expect(r, 0, 3);
	wait_stats(f, &st, sent_is, 3);

	/* the receiver goes away; what comes meanwhile is kept */
	close(lfd);
	close(r->fd);
	wait_stats(f, &st, errors_at_least, 2);	/* closed, then refused */
	cr_assert(!st.connected);
	send_lines(f, 3, 10);

	lfd = listener(&port);	/* the same port */
	r->fd = accept_one(lfd);
	r->len = 0;
	rx_expect(r, 3, 10);
	wait_stats(f, &st, sent_is, 10);
	cr_assert_eq(st.reconnects, 1);
	cr_assert_eq(st.dropped, 0);
	syslogfwd_stop(f);
	close(r->fd);
	close(lfd);
	free(r);
}

Test(syslogfwd_live, full_queue_drops_the_oldest, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	char big[SYSLOGFWD_LINE_MAX + 2];
	uint16_t port = 0;
	int lfd;

	char logged[4096];

	/* bound, not listening: connections are refused */
	lfd = local_socket(SOCK_STREAM, &port);
	o.queue_msgs = 8;
	f = start("tcp", "127.0.0.1", port, NULL, &o);
	/* What the daemon's log says of the drops (stderr, caught). */
	errcap_start();
	send_lines(f, 0, 20);
	syslogfwd_stats(f, &st);
	cr_assert_eq(st.queued, 8);
	cr_assert_eq(st.dropped, 12);
	cr_assert_eq(st.sent, 0);

	memset(big, 'x', sizeof(big));
	cr_assert_eq(syslogfwd_send(f, big, sizeof(big), SEV), SG_ELIMIT);
	syslogfwd_stats(f, &st);
	cr_assert_eq(st.dropped, 13);
	cr_assert_eq(st.queued, 8);
	errcap_end(logged, sizeof(logged));
	/* Once for the full queue, however many went (rate-limited), and
	 * once for the line too long. */
	cr_assert_not_null(strstr(logged, "the queue is full (8 messages"),
	    "%s", logged);
	cr_assert_not_null(strstr(logged, "the oldest are dropped, 1 so far"),
	    "%s", logged);
	cr_assert_null(strstr(logged, "2 so far"), "%s", logged);
	cr_assert_not_null(strstr(logged, "a line of 8194 bytes, over 8192, "
	    "dropped; 13 dropped so far"), "%s", logged);

	/* the receiver comes: the newest 8 arrive, in order */
	cr_assert_eq(listen(lfd, 16), 0);
	r->fd = accept_one(lfd);
	rx_expect(r, 12, 20);
	wait_stats(f, &st, sent_is, 8);
	cr_assert_eq(st.dropped, 13);
	cr_assert_eq(st.reconnects, 0);		/* the first connection */
	syslogfwd_stop(f);
	close(r->fd);
	close(lfd);
	free(r);
}

Test(syslogfwd_live, byte_cap_drops_too, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	char *l = malloc(8001);
	uint16_t port = 0;
	int lfd, i;

	lfd = local_socket(SOCK_STREAM, &port);
	o.queue_bytes = 64 * 1024;	/* 8 lines of 8000 bytes fit, not 9 */
	f = start("tcp", "127.0.0.1", port, NULL, &o);
	memset(l, 'y', 8000);
	for (i = 0; i < 10; i++)
		cr_assert_eq(syslogfwd_send(f, l, 8000, SEV), 0);
	syslogfwd_stats(f, &st);
	cr_assert_eq(st.queued, 8);
	cr_assert_eq(st.dropped, 2);
	syslogfwd_stop(f);
	close(lfd);
	free(l);
}

/* ---------------------------------------------------------------- TLS */

struct cert {
	X509		*x;
	EVP_PKEY	*key;
	char		 path[64];	/* its PEM, for the client's CA */
};

/* A self-signed certificate for the names in san ("DNS:a,IP:b"). */
static void
make_cert(struct cert *c, const char *san)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_NAME *name;
	FILE *fp;
	int fd;
	struct {
		int		 nid;
		const char	*value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,digitalSignature,keyCertSign" },
		{ NID_subject_alt_name, san },
	};
	size_t i;

	c->key = EVP_EC_gen("P-256");
	cr_assert_not_null(c->key);
	c->x = X509_new();
	cr_assert_not_null(c->x);
	X509_set_version(c->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), (long)random());
	X509_gmtime_adj(X509_getm_notBefore(c->x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c->x), 3600);
	X509_set_pubkey(c->x, c->key);
	name = X509_get_subject_name(c->x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"safegate test receiver", -1, -1, 0);
	X509_set_issuer_name(c->x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, c->x, c->x, NULL, NULL, 0);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, exts[i].nid,
		    exts[i].value);
		cr_assert_not_null(ext);
		cr_assert_eq(X509_add_ext(c->x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	cr_assert_gt(X509_sign(c->x, c->key, EVP_sha256()), 0);

	strcpy(c->path, "/tmp/syslogfwd-ca-XXXXXX");
	fd = mkstemp(c->path);
	cr_assert_geq(fd, 0);
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(PEM_write_X509(fp, c->x), 1);
	fclose(fp);
}

static void
free_cert(struct cert *c)
{
	unlink(c->path);
	X509_free(c->x);
	EVP_PKEY_free(c->key);
}

static SSL_CTX *
server_ctx(const struct cert *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	cr_assert_not_null(ctx);
	cr_assert_eq(SSL_CTX_use_certificate(ctx, c->x), 1);
	cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, c->key), 1);
	return ctx;
}

/* Accepts one TLS connection; 0, or -1 if the handshake failed. */
static int
tls_accept(SSL_CTX *ctx, int lfd, struct rx *r)
{
	r->fd = accept_one(lfd);
	r->ssl = SSL_new(ctx);
	cr_assert_not_null(r->ssl);
	SSL_set_fd(r->ssl, r->fd);
	return SSL_accept(r->ssl) == 1 ? 0 : -1;
}

static void
tls_close(struct rx *r)
{
	SSL_free(r->ssl);
	r->ssl = NULL;
	close(r->fd);
}

Test(syslogfwd_tls, verified_and_in_order, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	struct cert c;
	SSL_CTX *ctx;
	uint16_t port = 0;
	int lfd;

	make_cert(&c, "DNS:localhost,IP:127.0.0.1");
	ctx = server_ctx(&c);
	lfd = listener(&port);
	f = start("tls", "127.0.0.1", port, c.path, &o);
	send_lines(f, 0, 200);
	cr_assert_eq(tls_accept(ctx, lfd, r), 0);
	cr_assert_geq(SSL_version(r->ssl), TLS1_2_VERSION);
	/* an address: no SNI (RFC 6066), the IP SAN is checked */
	cr_assert_null(SSL_get_servername(r->ssl, TLSEXT_NAMETYPE_host_name));
	rx_expect(r, 0, 200);
	wait_stats(f, &st, sent_is, 200);
	cr_assert_eq(st.errors, 0);
	syslogfwd_stop(f);
	tls_close(r);
	close(lfd);
	SSL_CTX_free(ctx);
	free_cert(&c);
	free(r);
}

Test(syslogfwd_tls, by_name_with_sni_and_reconnect, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	struct cert c;
	SSL_CTX *ctx;
	const char *sni;
	uint16_t port = 0;
	int lfd;

	make_cert(&c, "DNS:localhost");
	ctx = server_ctx(&c);
	lfd = listener(&port);
	/* localhost may be ::1 first, where nothing listens: the next
	   address is tried */
	f = start("tls", "localhost", port, c.path, &o);
	send_lines(f, 0, 2);
	cr_assert_eq(tls_accept(ctx, lfd, r), 0);
	sni = SSL_get_servername(r->ssl, TLSEXT_NAMETYPE_host_name);
	cr_assert_not_null(sni);
	cr_assert_str_eq(sni, "localhost");
	rx_expect(r, 0, 2);
	wait_stats(f, &st, sent_is, 2);

	/* close_notify and hang up: the forwarder comes back */
	SSL_shutdown(r->ssl);
	tls_close(r);
	wait_stats(f, &st, errors_at_least, 1);
	send_lines(f, 2, 5);
	cr_assert_eq(tls_accept(ctx, lfd, r), 0);
	r->len = 0;
	rx_expect(r, 2, 5);
	wait_stats(f, &st, sent_is, 5);
	cr_assert_eq(st.reconnects, 1);
	syslogfwd_stop(f);
	tls_close(r);
	close(lfd);
	SSL_CTX_free(ctx);
	free_cert(&c);
	free(r);
}

/* The handshake must fail; nothing is sent and the message stays. */
static void
refused(const char *host, const char *san, bool other_ca)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	struct cert c, other;
	SSL_CTX *ctx;
	uint16_t port = 0;
	int lfd;

	/* stop's last try would wait for a handshake the test never does */
	o.stop_ms = 200;
	make_cert(&c, san);
	make_cert(&other, san);
	ctx = server_ctx(&c);
	lfd = listener(&port);
	f = start("tls", host, port, other_ca ? other.path : c.path, &o);
	send_lines(f, 0, 1);
	cr_assert_eq(tls_accept(ctx, lfd, r), -1);
	wait_stats(f, &st, errors_at_least, 1);
	cr_assert_eq(st.sent, 0);
	cr_assert_eq(st.queued, 1);
	cr_assert(!st.connected);
	/* and again after the backoff, refused the same way */
	tls_close(r);
	cr_assert_eq(tls_accept(ctx, lfd, r), -1);
	syslogfwd_stats(f, &st);
	cr_assert_eq(st.sent, 0);
	syslogfwd_stop(f);
	tls_close(r);
	close(lfd);
	SSL_CTX_free(ctx);
	free_cert(&c);
	free_cert(&other);
	free(r);
}

Test(syslogfwd_tls, wrong_ca_is_refused, .timeout = 20)
{
	refused("127.0.0.1", "IP:127.0.0.1", true);
}

Test(syslogfwd_tls, wrong_name_is_refused, .timeout = 20)
{
	refused("127.0.0.1", "DNS:logs.example.org", false);
	refused("localhost", "DNS:logs.example.org,IP:127.0.0.1", false);
}

Test(syslogfwd_tls, connected_stat, .timeout = 20)
{
	struct syslogfwd_opts o = fast();
	struct syslogfwd_stats st;
	struct syslogfwd *f;
	struct rx *r = calloc(1, sizeof(*r));
	struct cert c;
	SSL_CTX *ctx;
	uint16_t port = 0;
	int lfd, n;

	make_cert(&c, "IP:127.0.0.1");
	ctx = server_ctx(&c);
	lfd = listener(&port);
	f = start("tls", "127.0.0.1", port, c.path, &o);
	cr_assert_eq(tls_accept(ctx, lfd, r), 0);
	wait_stats(f, &st, connected, 0);
	syslogfwd_stop(f);	/* sends close_notify */
	n = SSL_read(r->ssl, r->buf, sizeof(r->buf));
	cr_assert_eq(n, 0);
	cr_assert_eq(SSL_get_error(r->ssl, n), SSL_ERROR_ZERO_RETURN);
	tls_close(r);
	close(lfd);
	SSL_CTX_free(ctx);
	free_cert(&c);
	free(r);
}
