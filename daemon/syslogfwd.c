/*
 * syslogfwd.c - see syslogfwd.h.
 *
 * The queue is one byte ring, allocated at start, of records laid end to
 * end (a record may wrap around the end of the buffer):
 *
 *        tail (oldest, tail_id)                head (next, head_id)
 *          |                                     |
 *   buf:  [..|hdr kind hash line|hdr kind hash line|hdr ...|........]
 *             `------------ count records -------'
 *
 * Callers append at head under the lock; when the ring is out of records
 * or bytes, the record at tail is dropped first.  The thread copies a
 * batch of records from tail into its own staging buffer under the lock,
 * and formats and writes them without it, so a caller never waits for the
 * network.  The batch stays in the ring while it is written (its ids are
 * [inflight_lo, inflight_hi)), and only what was written whole is removed
 * afterwards, so a broken connection loses nothing that the queue could
 * keep.  A record of the batch that a caller pushes out meanwhile is not
 * counted as dropped then, but as sent or dropped once the write's fate
 * is known, so that sent + dropped + queued is what was accepted.
 *
 * The thread sleeps in poll() on an eventfd (woken by stop, and by a
 * caller when the thread said it was idle) and on the socket, which a
 * receiver never writes to: readable means closed (or TLS records to
 * swallow, such as session tickets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "sbuf.h"
#include "syslogfwd.h"

#define SF_DEF_RETRY_MIN_MS	1000
#define SF_DEF_RETRY_MAX_MS	60000
#define SF_DEF_TIMEOUT_MS	10000
#define SF_DEF_STOP_MS		2000
#define SF_MIN_QUEUE_BYTES	(64u * 1024)
#define SF_BATCH		64		/* records per batch */
#define SF_STAGE_BYTES		(32u * 1024)	/* raw records per batch */
/*
 * Everything of a message but its line: "<191>1 " (7), the time (28),
 * HOSTNAME (256), "safegated " (10), PROCID (21), MSGID (33), the SD
 * ("[" SD-ID (32) " seq=\"" (6) 20 "\" hash=\"" (8) 2 * 128 "\"] " (3))
 * and the octet count (6): 690 bytes, rounded up.
 */
#define SF_OVERHEAD		1024
#define SF_MSG_MAX		(SYSLOGFWD_LINE_MAX + SF_OVERHEAD)
#define SF_OUT_BYTES		(SF_STAGE_BYTES + SF_BATCH * SF_OVERHEAD)
#define SF_SD_ID_MAX		32
#define SF_FOREVER		UINT64_MAX

/* One queued message; kind, hash and line follow it in the ring. */
struct sf_rec {
	uint32_t	len;		/* bytes of the line */
	uint8_t		severity;
	uint8_t		kind_len;	/* 0: "event" */
	uint8_t		hash_len;	/* 0: no SD */
	uint8_t		pad;
	uint64_t	seq;
	int64_t		sec;
	int64_t		nsec;
};

#define SF_REC_MAX	(sizeof(struct sf_rec) + SYSLOGFWD_MSGID_MAX + \
			 SYSLOGFWD_HASH_MAX + SYSLOGFWD_LINE_MAX)

struct syslogfwd {
	struct syslogfwd_target	 t;
	char			 name[8 + SYSLOGFWD_HOST_MAX + 8];
					/* "tls://host:port", for the log */
	char			 hostname[SYSLOGFWD_HOST_MAX + 1];
	char			 sd_id[SF_SD_ID_MAX + 1];
	unsigned		 facility;
	long			 pid;
	struct syslogfwd_opts	 o;
	SSL_CTX			*ctx;		/* TLS only */

	pthread_t		 thread;
	int			 wakefd;	/* eventfd */
	atomic_bool		 stopping;
	_Atomic uint64_t	 stop_deadline;	/* ms, CLOCK_MONOTONIC */

	pthread_mutex_t		 lock;		/* for the ring and the
						   counters */
	char			*buf;
	size_t			 cap;
	uint64_t		 head, tail;	/* byte positions, ever
						   growing */
	uint64_t		 head_id, tail_id;
	size_t			 count;
	uint64_t		 inflight_lo, inflight_hi;
	bool			 idle;		/* the thread sleeps: wake it */
	uint64_t		 sent, dropped, reconnects, errors;
	bool			 connected;

	/* the thread's alone */
	int			 fd;
	SSL			*ssl;
	bool			 ever_connected;
	bool			 last_try;	/* made, stopping */
	uint64_t		 next_try;	/* ms */
	uint64_t		 connected_at;	/* ms */
	unsigned		 backoff;	/* ms */
	char			*stage;		/* SF_STAGE_BYTES, and one
						   record more */
	size_t			 stage_off[SF_BATCH];
	char			*out;		/* SF_OUT_BYTES */
	char			*msg;		/* SF_MSG_MAX */
	struct log_limit	 limit;
	struct log_limit	 drop_limit;	/* the queue full: its own,
						   as another thread says it */
	struct log_limit	 long_limit;	/* a line too long */
};

static uint64_t
sf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- forms */

static int
sf_fail_parse(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "syslog target: %s", what);
	return -EINVAL;
}

static bool
sf_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A DNS name: labels of 1..63 of [A-Za-z0-9_-], dots between. */
static bool
sf_valid_dns(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!sf_name_char(s[i]) || ++label > 63)
			return false;
	}
	return label > 0;
}

int
syslogfwd_parse_target(const char *s, struct syslogfwd_target *t,
    char *err, size_t errlen)
{
	static const struct {
		const char		*scheme;
		enum syslogfwd_proto	 proto;
		uint16_t		 port;
	} schemes[] = {
		{ "udp://", SYSLOGFWD_UDP, 514 },
		{ "tcp://", SYSLOGFWD_TCP, 514 },
		{ "tls://", SYSLOGFWD_TLS, 6514 },
	};
	const char *p, *host, *end;
	struct in6_addr a6;
	struct in_addr a4;
	size_t i, hlen;
	unsigned long port;

	memset(t, 0, sizeof(*t));
	if (s == NULL)
		return sf_fail_parse(err, errlen, "missing");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(s, schemes[i].scheme, 6) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return sf_fail_parse(err, errlen,
		    "expected udp://, tcp:// or tls://");
	t->proto = schemes[i].proto;
	t->port = schemes[i].port;
	p = s + 6;
	if (*p == '[') {
		host = p + 1;
		if ((end = strchr(host, ']')) == NULL)
			return sf_fail_parse(err, errlen, "no closing ']'");
		hlen = (size_t)(end - host);
		if (hlen == 0 || hlen >= INET6_ADDRSTRLEN)
			return sf_fail_parse(err, errlen,
			    "not an IPv6 address in brackets");
		memcpy(t->host, host, hlen);
		t->host[hlen] = '\0';
		if (inet_pton(AF_INET6, t->host, &a6) != 1)
			return sf_fail_parse(err, errlen,
			    "not an IPv6 address in brackets");
		t->host_is_ip = true;
		p = end + 1;
	} else {
		host = p;
		hlen = strcspn(host, ":/?#@");
		p = host + hlen;
		if (hlen == 0)
			return sf_fail_parse(err, errlen, "no host");
		if (*p == ':' && strchr(p + 1, ':') != NULL)
			return sf_fail_parse(err, errlen,
			    "an IPv6 address goes in brackets");
		if (hlen > SYSLOGFWD_HOST_MAX)
			return sf_fail_parse(err, errlen, "host too long");
		memcpy(t->host, host, hlen);
		t->host[hlen] = '\0';
		if (inet_pton(AF_INET, t->host, &a4) == 1)
			t->host_is_ip = true;
		else if (strspn(t->host, "0123456789.") == hlen)
			return sf_fail_parse(err, errlen,
			    "not an IPv4 address");
		else if (!sf_valid_dns(t->host, hlen))
			return sf_fail_parse(err, errlen,
			    "host is not a DNS name or an address");
	}
	if (*p == ':') {
		p++;
		if (*p < '0' || *p > '9' || strspn(p, "0123456789") > 5)
			return sf_fail_parse(err, errlen, "bad port");
		port = 0;
		while (*p >= '0' && *p <= '9')
			port = port * 10 + (unsigned long)(*p++ - '0');
		if (port == 0 || port > 65535)
			return sf_fail_parse(err, errlen,
			    "port out of 1..65535");
		t->port = (uint16_t)port;
	}
	if (*p != '\0')
		return sf_fail_parse(err, errlen,
		    "unexpected text after HOST:PORT");
	return 0;
}

/* 1..max bytes of PRINTUSASCII (33..126), none of `not`. */
static bool
sf_printusascii(const char *s, size_t n, size_t max, const char *not)
{
	size_t i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || strchr(not, s[i]) != NULL)
			return false;
	return true;
}

int
syslogfwd_format(const struct syslogfwd_msg *m, char *buf, size_t len)
{
	struct sbuf b;
	struct tm tm;
	time_t sec = m->ts.tv_sec;
	size_t i;

	if (m->facility > SYSLOGFWD_FACILITY_MAX || m->severity < 0 ||
	    m->severity > 7 || m->ts.tv_nsec < 0 ||
	    m->ts.tv_nsec >= 1000000000L || gmtime_r(&sec, &tm) == NULL ||
	    tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -EINVAL;
	sbuf_init(&b, buf, len);
	sbuf_printf(&b, "<%u>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s "
	    "safegated %ld %s ", m->facility * 8 + (unsigned)m->severity,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, m->ts.tv_nsec / 1000,
	    m->hostname != NULL && *m->hostname != '\0' ? m->hostname : "-",
	    m->pid, m->msgid != NULL ? m->msgid : "event");
	if (m->hash != NULL) {
		sbuf_printf(&b, "[%s seq=\"%" PRIu64 "\" hash=\"",
		    m->sd_id != NULL ? m->sd_id : SYSLOGFWD_SD_ID, m->seq);
		for (i = 0; i < m->hash_len; i++) {
			if (m->hash[i] == '"' || m->hash[i] == '\\' ||
			    m->hash[i] == ']')
				sbuf_bytes(&b, "\\", 1);
			sbuf_bytes(&b, &m->hash[i], 1);
		}
		sbuf_str(&b, "\"] ");
	} else
		sbuf_str(&b, "- ");
	sbuf_bytes(&b, m->msg, m->msg_len);
	if (b.overflow || b.len > INT32_MAX)
		return SG_ELIMIT;
	return (int)b.len;
}

int
syslogfwd_frame(const char *msg, size_t msg_len, char *buf, size_t len)
{
	char num[24];
	int n;

	n = snprintf(num, sizeof(num), "%zu ", msg_len);
	if (n < 0 || msg_len > INT32_MAX || (size_t)n > len ||
	    msg_len > len - (size_t)n || (size_t)n + msg_len > INT32_MAX)
		return SG_ELIMIT;
	memcpy(buf, num, (size_t)n);
	memcpy(buf + n, msg, msg_len);
	return n + (int)msg_len;
}

/* ---------------------------------------------------------------- ring */

static void
sf_ring_write(struct syslogfwd *f, uint64_t pos, const void *p, size_t n)
{
	size_t off = (size_t)(pos % f->cap), first;

	first = f->cap - off < n ? f->cap - off : n;
	memcpy(f->buf + off, p, first);
	memcpy(f->buf, (const char *)p + first, n - first);
}

static void
sf_ring_read(const struct syslogfwd *f, uint64_t pos, void *p, size_t n)
{
	size_t off = (size_t)(pos % f->cap), first;

	first = f->cap - off < n ? f->cap - off : n;
	memcpy(p, f->buf + off, first);
	memcpy((char *)p + first, f->buf, n - first);
}

static size_t
sf_rec_size(const struct sf_rec *r)
{
	return sizeof(*r) + r->kind_len + r->hash_len + r->len;
}

/* Removes the record at tail, sent or dropped.  Lock held. */
static void
sf_pop(struct syslogfwd *f, bool sent)
{
	struct sf_rec r;

	sf_ring_read(f, f->tail, &r, sizeof(r));
	f->tail += sf_rec_size(&r);
	f->count--;
	/* One being written is counted when the write is over. */
	if (!sent && (f->tail_id < f->inflight_lo ||
	    f->tail_id >= f->inflight_hi))
		f->dropped++;
	f->tail_id++;
}

static void
sf_wake(struct syslogfwd *f)
{
	uint64_t one = 1;

	if (write(f->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_debug("syslog: waking the thread: %s", strerror(errno));
}

int
syslogfwd_send_meta(struct syslogfwd *f, const char *line, size_t len,
    int severity, const struct syslogfwd_meta *meta)
{
	struct timespec ts;
	struct sf_rec r;
	size_t need, klen = 0, hlen = 0;
	uint64_t dropped;
	bool wake;

	if (f == NULL)
		return 0;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (severity < 0 || severity > 7 || len == 0)
		return -EINVAL;
	if (meta != NULL && meta->kind != NULL) {
		klen = strnlen(meta->kind, SYSLOGFWD_MSGID_MAX + 1);
		if (!sf_printusascii(meta->kind, klen, SYSLOGFWD_MSGID_MAX,
		    ""))
			return -EINVAL;
	}
	if (meta != NULL && meta->hash != NULL) {
		hlen = strnlen(meta->hash, SYSLOGFWD_HASH_MAX + 1);
		if (!sf_printusascii(meta->hash, hlen, SYSLOGFWD_HASH_MAX, ""))
			return -EINVAL;
	}
	if (len > SYSLOGFWD_LINE_MAX) {
		pthread_mutex_lock(&f->lock);
		dropped = ++f->dropped;
		pthread_mutex_unlock(&f->lock);
		if (log_ratelimited(&f->long_limit, 1.0 / 60, 1, NULL))
			log_warnx("syslog %s: a line of %zu bytes, over %u, "
			    "dropped; %" PRIu64 " dropped so far", f->name,
			    len, SYSLOGFWD_LINE_MAX, dropped);
		return SG_ELIMIT;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&r, 0, sizeof(r));
	r.len = (uint32_t)len;
	r.severity = (uint8_t)severity;
	r.kind_len = (uint8_t)klen;
	r.hash_len = (uint8_t)hlen;
	r.seq = hlen > 0 ? meta->seq : 0;
	r.sec = ts.tv_sec;
	r.nsec = ts.tv_nsec;
	need = sf_rec_size(&r);

	pthread_mutex_lock(&f->lock);
	dropped = f->dropped;
	while (f->count > 0 && (f->count >= f->o.queue_msgs ||
	    f->cap - (size_t)(f->head - f->tail) < need))
		sf_pop(f, false);
	if (f->dropped != dropped)
		dropped = f->dropped;
	else
		dropped = 0;
	sf_ring_write(f, f->head, &r, sizeof(r));
	if (klen > 0)
		sf_ring_write(f, f->head + sizeof(r), meta->kind, klen);
	if (hlen > 0)
		sf_ring_write(f, f->head + sizeof(r) + klen, meta->hash, hlen);
	sf_ring_write(f, f->head + sizeof(r) + klen + hlen, line, len);
	f->head += need;
	f->head_id++;
	f->count++;
	wake = f->idle;
	f->idle = false;
	pthread_mutex_unlock(&f->lock);
	if (wake)
		sf_wake(f);
	/* Said at most once a minute, with the running count. */
	if (dropped > 0 && log_ratelimited(&f->drop_limit, 1.0 / 60, 1,
	    NULL))
		log_warnx("syslog %s: the queue is full (%zu messages or %zu "
		    "bytes): the oldest are dropped, %" PRIu64 " so far",
		    f->name, f->o.queue_msgs, f->cap, dropped);
	return 0;
}

int
syslogfwd_send(struct syslogfwd *f, const char *line, size_t len,
    int severity)
{
	return syslogfwd_send_meta(f, line, len, severity, NULL);
}

void
syslogfwd_stats(const struct syslogfwd *cf, struct syslogfwd_stats *st)
{
	struct syslogfwd *f = (struct syslogfwd *)cf;	/* the lock */

	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	st->sent = f->sent;
	st->dropped = f->dropped;
	st->reconnects = f->reconnects;
	st->errors = f->errors;
	st->queued = f->count;
	st->connected = f->connected;
	pthread_mutex_unlock(&f->lock);
}

/* ---------------------------------------------------------------- thread */

static void sf_fail(struct syslogfwd *, const char *, ...) SG_PRINTF(2, 3);

/* Counts an error and logs it, rate-limited. */
static void
sf_fail(struct syslogfwd *f, const char *fmt, ...)
{
	char msg[512];
	uint64_t held = 0;
	va_list ap;

	pthread_mutex_lock(&f->lock);
	f->errors++;
	pthread_mutex_unlock(&f->lock);
	if (!log_ratelimited(&f->limit, 1.0 / 60, 5, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (held > 0)
		log_warnx("syslog %s: %s (and %" PRIu64 " more errors)",
		    f->name, msg, held);
	else
		log_warnx("syslog %s: %s", f->name, msg);
}

enum { SF_READY = 1, SF_TIMEOUT = 0, SF_WOKEN = -1 };

/*
 * Waits until fd (if not -1) has `events` or the deadline passes.  If
 * `wakeable`, the eventfd ends the wait (SF_WOKEN); otherwise it only
 * brings a stop's deadline in.
 */
static int
sf_wait(struct syslogfwd *f, int fd, short events, uint64_t deadline,
    bool wakeable)
{
	struct pollfd pfd[2];
	uint64_t now, d, v;
	int n, ms;

	for (;;) {
		d = deadline;
		if (!wakeable && atomic_load(&f->stopping) &&
		    atomic_load(&f->stop_deadline) < d)
			d = atomic_load(&f->stop_deadline);
		now = sf_now();
		if (d != SF_FOREVER && now >= d)
			return SF_TIMEOUT;
		ms = d == SF_FOREVER ? -1 :
		    d - now > INT32_MAX ? INT32_MAX : (int)(d - now);
		pfd[0].fd = f->wakefd;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = events;
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, fd == -1 ? 1 : 2, ms);
		if (n == -1 && errno != EINTR) {
			log_warn("syslog %s: poll", f->name);
			return SF_TIMEOUT;
		}
		if (n <= 0)
			continue;
		if (fd != -1 && pfd[1].revents != 0)
			return SF_READY;
		if (pfd[0].revents != 0) {
			if (read(f->wakefd, &v, sizeof(v)) == -1 &&
			    errno != EAGAIN)
				log_warn("syslog %s: eventfd", f->name);
			if (wakeable)
				return SF_WOKEN;
		}
	}
}

static void
sf_set_connected(struct syslogfwd *f, bool up)
{
	pthread_mutex_lock(&f->lock);
	f->connected = up;
	if (up && f->ever_connected)
		f->reconnects++;
	pthread_mutex_unlock(&f->lock);
	if (up)
		f->ever_connected = true;
}

/* Closes the connection; close_notify first if it still works. */
static void
sf_close(struct syslogfwd *f, bool clean)
{
	if (f->ssl != NULL) {
		if (clean) {
			ERR_clear_error();
			(void)SSL_shutdown(f->ssl);
		}
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd != -1) {
		close(f->fd);
		f->fd = -1;
	}
	sf_set_connected(f, false);
}

/* A working connection broke: try again now, but not more than once per
 * retry_min_ms, so a receiver that accepts and hangs up is not hammered. */
static void
sf_lost(struct syslogfwd *f)
{
	sf_close(f, false);
	f->next_try = f->connected_at + f->o.retry_min_ms;
}

static void
sf_backoff(struct syslogfwd *f)
{
	f->next_try = sf_now() + f->backoff;
	f->backoff = f->backoff > f->o.retry_max_ms / 2 ?
	    f->o.retry_max_ms : f->backoff * 2;
}

static const char *
sf_ssl_reason(SSL *ssl, int e, char *buf, size_t len)
{
	unsigned long code;
	long v;

	v = SSL_get_verify_result(ssl);
	if (v != X509_V_OK) {
		snprintf(buf, len, "certificate refused: %s",
		    X509_verify_cert_error_string(v));
		return buf;
	}
	if ((code = ERR_peek_last_error()) != 0) {
		ERR_error_string_n(code, buf, len);
		return buf;
	}
	if (e == SSL_ERROR_SYSCALL && errno != 0)
		return strerror(errno);
	if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
		return "closed by the receiver";
	return "TLS error";
}

static int
sf_handshake(struct syslogfwd *f)
{
	X509_VERIFY_PARAM *vp;
	uint64_t deadline = sf_now() + f->o.timeout_ms;
	char why[256];
	int r, e, w;

	ERR_clear_error();
	if ((f->ssl = SSL_new(f->ctx)) == NULL ||
	    SSL_set_fd(f->ssl, f->fd) != 1)
		goto fail;
	vp = SSL_get0_param(f->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (f->t.host_is_ip) {
		/* No SNI for an address (RFC 6066 3): its IP SAN is checked. */
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, f->t.host) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(f->ssl, f->t.host) != 1 ||
	    SSL_set1_host(f->ssl, f->t.host) != 1)
		goto fail;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(f->ssl)) == 1)
			return 0;
		e = SSL_get_error(f->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			w = sf_wait(f, f->fd, POLLIN, deadline, false);
		else if (e == SSL_ERROR_WANT_WRITE)
			w = sf_wait(f, f->fd, POLLOUT, deadline, false);
		else {
			sf_fail(f, "TLS handshake: %s",
			    sf_ssl_reason(f->ssl, e, why, sizeof(why)));
			return -1;
		}
		if (w != SF_READY) {
			sf_fail(f, "TLS handshake: timed out");
			return -1;
		}
	}
fail:
	ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
	sf_fail(f, "TLS setup: %s", why);
	return -1;
}

/* Connects to the target's first address that answers.  0 or -1. */
static int
sf_connect(struct syslogfwd *f)
{
	struct addrinfo hints, *res, *ai;
	char port[8];
	socklen_t elen;
	int fd, r, e = 0, one = 1;
	bool stream = f->t.proto != SYSLOGFWD_UDP;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = f->t.host_is_ip ? AI_NUMERICHOST : 0;
	snprintf(port, sizeof(port), "%u", f->t.port);
	if ((r = getaddrinfo(f->t.host, port, &hints, &res)) != 0) {
		sf_fail(f, "resolving %s: %s", f->t.host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			if (sf_wait(f, fd, POLLOUT, sf_now() + f->o.timeout_ms,
			    false) != SF_READY)
				e = ETIMEDOUT;
			else {
				elen = sizeof(e);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
				    &elen) == -1)
					e = errno;
				if (e == 0)
					break;
			}
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		sf_fail(f, "connecting: %s", strerror(e));
		return -1;
	}
	if (stream) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
		    sizeof(one));
	}
	f->fd = fd;
	if (f->t.proto == SYSLOGFWD_TLS && sf_handshake(f) != 0) {
		sf_close(f, false);
		return -1;
	}
	f->connected_at = sf_now();
	f->backoff = f->o.retry_min_ms;
	sf_set_connected(f, true);
	if (log_ratelimited(&f->limit, 1.0 / 60, 5, NULL))
		log_info("syslog %s: connected", f->name);
	return 0;
}

/*
 * Whether a stream connection still stands: a receiver sends nothing, so
 * end of file or an error means it went away.  What it does send (TLS
 * session tickets, or bytes it should not send) is read and ignored.
 */
static bool
sf_alive(struct syslogfwd *f)
{
	char junk[512];
	ssize_t n;
	int i, e;

	for (i = 0; i < 16; i++) {
		if (f->ssl != NULL) {
			ERR_clear_error();
			if ((n = SSL_read(f->ssl, junk, sizeof(junk))) > 0)
				continue;
			e = SSL_get_error(f->ssl, (int)n);
			return e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE;
		}
		n = recv(f->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return true;	/* a chatty receiver, but there */
}

/*
 * Writes len bytes of buf to the stream; *done gets how many went.  0, or
 * -1 with the error counted.  A write that makes no progress for
 * timeout_ms (or past a stop's deadline) fails.
 */
static int
sf_write(struct syslogfwd *f, const char *buf, size_t len, size_t *done)
{
	char why[256];
	uint64_t deadline = sf_now() + f->o.timeout_ms;
	ssize_t n;
	short ev;
	int e;

	*done = 0;
	while (*done < len) {
		ev = POLLOUT;
		if (f->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			n = SSL_write(f->ssl, buf + *done,
			    (int)(len - *done > INT32_MAX ? INT32_MAX :
			    len - *done));
			if (n <= 0) {
				e = SSL_get_error(f->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ)
					ev = POLLIN;
				else if (e != SSL_ERROR_WANT_WRITE) {
					sf_fail(f, "writing: %s",
					    sf_ssl_reason(f->ssl, e, why,
					    sizeof(why)));
					return -1;
				}
			}
		} else {
			n = send(f->fd, buf + *done, len - *done,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno != EAGAIN &&
			    errno != EWOULDBLOCK) {
				sf_fail(f, "writing: %s", strerror(errno));
				return -1;
			}
		}
		if (n > 0) {
			*done += (size_t)n;
			deadline = sf_now() + f->o.timeout_ms;
			continue;
		}
		if (sf_wait(f, f->fd, ev, deadline, false) != SF_READY) {
			sf_fail(f, "writing: timed out");
			return -1;
		}
	}
	return 0;
}

/* One datagram.  0, or -1 with the error counted. */
static int
sf_send_datagram(struct syslogfwd *f, const char *buf, size_t len)
{
	uint64_t deadline = sf_now() + f->o.timeout_ms;

	for (;;) {
		if (send(f->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) != -1)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			sf_fail(f, "sending: %s", strerror(errno));
			return -1;
		}
		if (sf_wait(f, f->fd, POLLOUT, deadline, false) != SF_READY) {
			sf_fail(f, "sending: timed out");
			return -1;
		}
	}
}

/* Copies a batch from tail into the staging buffer.  Lock held. */
static size_t
sf_stage(struct syslogfwd *f)
{
	struct sf_rec r;
	uint64_t pos = f->tail;
	size_t k, used = 0, size;

	for (k = 0; k < f->count && k < SF_BATCH; k++) {
		sf_ring_read(f, pos, &r, sizeof(r));
		size = sf_rec_size(&r);
		if (k > 0 && used + size > SF_STAGE_BYTES)
			break;
		sf_ring_read(f, pos, f->stage + used, size);
		f->stage_off[k] = used;
		used += size;
		pos += size;
	}
	return k;
}

/* Formats staged record i into f->msg; returns its length. */
static size_t
sf_format_staged(struct syslogfwd *f, size_t i)
{
	struct syslogfwd_msg m;
	struct sf_rec r;
	const char *p = f->stage + f->stage_off[i];
	char kind[SYSLOGFWD_MSGID_MAX + 1];
	int n;

	memcpy(&r, p, sizeof(r));
	p += sizeof(r);
	memset(&m, 0, sizeof(m));
	m.ts.tv_sec = (time_t)r.sec;
	m.ts.tv_nsec = (long)r.nsec;
	m.facility = f->facility;
	m.severity = r.severity;
	m.hostname = f->hostname;
	m.pid = f->pid;
	m.sd_id = f->sd_id;
	/* The kind is not NUL-terminated in the ring. */
	if (r.kind_len > 0) {
		memcpy(kind, p, r.kind_len);
		kind[r.kind_len] = '\0';
		m.msgid = kind;
	}
	p += r.kind_len;
	if (r.hash_len > 0) {
		m.hash = p;
		m.hash_len = r.hash_len;
		m.seq = r.seq;
	}
	p += r.hash_len;
	m.msg = p;
	m.msg_len = r.len;
	if ((n = syslogfwd_format(&m, f->msg, SF_MSG_MAX)) < 0)
		fatalx("syslogfwd: a queued message does not format (%d)", n);
	return (size_t)n;
}

/*
 * Ends a batch of k records from id lo, of which the first ok were
 * written: those leave the queue, and the rest stay for the next
 * connection unless a caller pushed them out meanwhile (then they are
 * lost, and counted so).
 */
static void
sf_commit(struct syslogfwd *f, uint64_t lo, size_t k, size_t ok)
{
	uint64_t done = lo + ok, hi = lo + k;

	pthread_mutex_lock(&f->lock);
	f->sent += ok;
	while (f->count > 0 && f->tail_id < done)
		sf_pop(f, true);
	if (f->tail_id > done)
		f->dropped += (f->tail_id < hi ? f->tail_id : hi) - done;
	f->inflight_lo = f->inflight_hi = 0;
	pthread_mutex_unlock(&f->lock);
}

/* Writes one batch.  false when the connection failed. */
static bool
sf_flush(struct syslogfwd *f)
{
	size_t k, i, ok = 0, n, outlen = 0, ends[SF_BATCH], done;
	uint64_t lo;
	int r;

	pthread_mutex_lock(&f->lock);
	k = sf_stage(f);
	lo = f->inflight_lo = f->tail_id;
	f->inflight_hi = lo + k;
	pthread_mutex_unlock(&f->lock);

	if (f->t.proto == SYSLOGFWD_UDP) {
		for (ok = 0; ok < k; ok++) {
			n = sf_format_staged(f, ok);
			if (sf_send_datagram(f, f->msg, n) != 0)
				break;
		}
	} else {
		for (i = 0; i < k; i++) {
			n = sf_format_staged(f, i);
			r = syslogfwd_frame(f->msg, n, f->out + outlen,
			    SF_OUT_BYTES - outlen);
			if (r < 0)
				fatalx("syslogfwd: a batch does not fit");
			outlen += (size_t)r;
			ends[i] = outlen;
		}
		(void)sf_write(f, f->out, outlen, &done);
		while (ok < k && ends[ok] <= done)
			ok++;
	}
	sf_commit(f, lo, k, ok);
	return ok == k;
}

static void *
sf_main(void *arg)
{
	struct syslogfwd *f = arg;
	sigset_t all;
	uint64_t now;
	size_t n;
	bool stopping, stream = f->t.proto != SYSLOGFWD_UDP;

	/* SIGPIPE too: OpenSSL writes with write(2), not send(MSG_NOSIGNAL)
	   (safegated ignores it anyway; a test program may not). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		stopping = atomic_load(&f->stopping);
		now = sf_now();
		pthread_mutex_lock(&f->lock);
		n = f->count;
		pthread_mutex_unlock(&f->lock);
		if (stopping && (n == 0 ||
		    now >= atomic_load(&f->stop_deadline)))
			break;
		if (f->fd == -1) {
			if (stopping) {
				/* One more try, backoff or not. */
				if (f->last_try)
					break;
				f->last_try = true;
			} else if (now < f->next_try) {
				(void)sf_wait(f, -1, 0, f->next_try, true);
				continue;
			}
			if (sf_connect(f) != 0)
				sf_backoff(f);
			continue;
		}
		if (n == 0) {
			pthread_mutex_lock(&f->lock);
			n = f->count;
			f->idle = n == 0;
			pthread_mutex_unlock(&f->lock);
			if (n > 0)
				continue;
			if (sf_wait(f, stream ? f->fd : -1,
			    POLLIN | POLLRDHUP, SF_FOREVER, true) == SF_READY &&
			    !sf_alive(f)) {
				sf_fail(f, "closed by the receiver");
				sf_lost(f);
			}
			pthread_mutex_lock(&f->lock);
			f->idle = false;
			pthread_mutex_unlock(&f->lock);
			continue;
		}
		if (stream && !sf_alive(f)) {
			sf_fail(f, "closed by the receiver");
			sf_lost(f);
			continue;
		}
		if (!sf_flush(f))
			sf_lost(f);
	}
	if (f->fd != -1)
		sf_close(f, true);
	OPENSSL_thread_stop();
	return NULL;
}

/* ---------------------------------------------------------------- start */

static SSL_CTX *
sf_tls_ctx(const char *ca, char *err, size_t errlen)
{
	struct stat st;
	SSL_CTX *ctx;
	char why[256];
	int ok;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ca == NULL || *ca == '\0')
		ok = SSL_CTX_set_default_verify_paths(ctx);
	else if (stat(ca, &st) == 0 && S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_locations(ctx, NULL, ca);
	else
		ok = SSL_CTX_load_verify_locations(ctx, ca, NULL);
	if (ok != 1) {
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		snprintf(err, errlen, "syslog CA %s: %s",
		    ca != NULL && *ca != '\0' ? ca : "(system)", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
fail:
	ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
	snprintf(err, errlen, "syslog TLS: %s", why);
	SSL_CTX_free(ctx);
	return NULL;
}

static void
sf_free(struct syslogfwd *f)
{
	SSL_CTX_free(f->ctx);
	free(f->buf);
	free(f->stage);
	free(f->out);
	free(f->msg);
	free(f);
}

struct syslogfwd *
syslogfwd_start_opts(const char *target, const char *ca, unsigned facility,
    const char *hostname, const struct syslogfwd_opts *opts, char *err,
    size_t errlen)
{
	static const char *const scheme[] = { "udp", "tcp", "tls" };
	struct syslogfwd *f;
	int e;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "syslog: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	f->fd = -1;
	f->wakefd = -1;
	if (syslogfwd_parse_target(target, &f->t, err, errlen) != 0)
		goto invalid;
	snprintf(f->name, sizeof(f->name), strchr(f->t.host, ':') == NULL ?
	    "%s://%s:%u" : "%s://[%s]:%u",
	    scheme[f->t.proto], f->t.host, f->t.port);
	if (facility > SYSLOGFWD_FACILITY_MAX) {
		snprintf(err, errlen, "syslog facility %u: out of 0..23",
		    facility);
		goto invalid;
	}
	f->facility = facility;
	if (hostname == NULL) {
		if (gethostname(f->hostname, sizeof(f->hostname)) != 0 ||
		    !sf_printusascii(f->hostname, strnlen(f->hostname,
		    sizeof(f->hostname)), SYSLOGFWD_HOST_MAX, ""))
			strcpy(f->hostname, "-");
	} else if (sf_printusascii(hostname, strnlen(hostname,
	    SYSLOGFWD_HOST_MAX + 1), SYSLOGFWD_HOST_MAX, ""))
		strcpy(f->hostname, hostname);
	else {
		snprintf(err, errlen, "syslog hostname: not 1..255 printable "
		    "ASCII characters");
		goto invalid;
	}
	if (opts != NULL)
		f->o = *opts;
#define SF_DEFAULT(x, v)	if (f->o.x == 0) f->o.x = (v)
	SF_DEFAULT(queue_msgs, SYSLOGFWD_QUEUE_MSGS);
	SF_DEFAULT(queue_bytes, SYSLOGFWD_QUEUE_BYTES);
	SF_DEFAULT(retry_min_ms, SF_DEF_RETRY_MIN_MS);
	SF_DEFAULT(retry_max_ms, SF_DEF_RETRY_MAX_MS);
	SF_DEFAULT(timeout_ms, SF_DEF_TIMEOUT_MS);
	SF_DEFAULT(stop_ms, SF_DEF_STOP_MS);
	SF_DEFAULT(sd_id, SYSLOGFWD_SD_ID);
#undef SF_DEFAULT
	if (f->o.queue_bytes < SF_MIN_QUEUE_BYTES)
		f->o.queue_bytes = SF_MIN_QUEUE_BYTES;
	if (f->o.retry_max_ms < f->o.retry_min_ms)
		f->o.retry_max_ms = f->o.retry_min_ms;
	/* RFC 5424 SD-NAME: no '=', SP, ']' or '"'. */
	if (!sf_printusascii(f->o.sd_id, strnlen(f->o.sd_id, SF_SD_ID_MAX + 1),
	    SF_SD_ID_MAX, "= ]\"")) {
		snprintf(err, errlen, "syslog SD-ID: not an SD-NAME");
		goto invalid;
	}
	strcpy(f->sd_id, f->o.sd_id);
	f->o.sd_id = f->sd_id;
	f->pid = (long)getpid();
	f->backoff = f->o.retry_min_ms;
	f->limit = (struct log_limit)LOG_LIMIT_INIT;
	f->drop_limit = (struct log_limit)LOG_LIMIT_INIT;
	f->long_limit = (struct log_limit)LOG_LIMIT_INIT;
	f->cap = f->o.queue_bytes;
	if ((f->buf = malloc(f->cap)) == NULL ||
	    (f->stage = malloc(SF_STAGE_BYTES + SF_REC_MAX)) == NULL ||
	    (f->out = malloc(SF_OUT_BYTES)) == NULL ||
	    (f->msg = malloc(SF_MSG_MAX)) == NULL) {
		e = ENOMEM;
		snprintf(err, errlen, "syslog: %s", strerror(e));
		sf_free(f);
		errno = e;
		return NULL;
	}
	if (f->t.proto == SYSLOGFWD_TLS &&
	    (f->ctx = sf_tls_ctx(ca, err, errlen)) == NULL)
		goto invalid;
	if ((e = pthread_mutex_init(&f->lock, NULL)) != 0) {
		snprintf(err, errlen, "syslog: %s", strerror(e));
		sf_free(f);
		errno = e;
		return NULL;
	}
	if ((f->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		e = errno;
		goto fail;
	}
	if ((e = pthread_create(&f->thread, NULL, sf_main, f)) != 0) {
		close(f->wakefd);
		goto fail;
	}
	return f;
fail:
	snprintf(err, errlen, "syslog: %s", strerror(e));
	pthread_mutex_destroy(&f->lock);
	sf_free(f);
	errno = e;
	return NULL;
invalid:
	sf_free(f);
	errno = EINVAL;
	return NULL;
}

struct syslogfwd *
syslogfwd_start(const char *target, const char *ca, unsigned facility,
    const char *hostname, char *err, size_t errlen)
{
	return syslogfwd_start_opts(target, ca, facility, hostname, NULL, err,
	    errlen);
}

void
syslogfwd_stop(struct syslogfwd *f)
{
	size_t left;

	if (f == NULL)
		return;
	atomic_store(&f->stop_deadline, sf_now() + f->o.stop_ms);
	atomic_store(&f->stopping, true);
	sf_wake(f);
	pthread_join(f->thread, NULL);
	left = f->count;
	if (left > 0)
		log_warnx("syslog %s: stopping with %zu message%s not sent",
		    f->name, left, left == 1 ? "" : "s");
	close(f->wakefd);
	pthread_mutex_destroy(&f->lock);
	sf_free(f);
}
