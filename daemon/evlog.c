/*
 * evlog.c - see evlog.h.
 *
 * In order: the BODY formatter (packet path), SHA-256, the line parser and
 * the tail reader (untrusted bytes, through the cursor), the ring, the
 * writer (file, chain, batches, recovery, rotation, retention), the
 * producers' and the main thread's entry points, the rotated files'
 * listing and the verifier.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cursor.h"
#include "dns.h"
#include "atomicfile.h"
#include "evlog.h"
#include "log.h"
#include "sbuf.h"

#define ZERO_HASH	"00000000000000000000000000000000" \
			"00000000000000000000000000000000"
/* The longest line a reader takes whole; longer is not an event. */
#define LINE_READ_MAX	(EVLOG_LINE_MAX + EVLOG_FRAME_MAX)
#define BATCH_CAP	(256 * 1024)	/* the writer's write() */
#define QUEUE_MIN	(16 * 1024)
#define REQUEST_WAIT_MS	10000	/* the main thread waits no longer */
#define TAIL_FIRST	(64 * 1024)	/* recovery reads this much, */
#define TAIL_MAX	(16 * 1024 * 1024)	/* and at most this much */
#define PURGE_EVERY	3600	/* seconds between retention checks */
#define ROTATE_RETRY	60	/* seconds after a failed rotation */
#define MAX_GAPS	64	/* unbridged gaps a verify carries */
#define MAX_TARGETS	(1024 * 1024)	/* hold targets a purge reads */
#define BACKOFF_MIN_MS	100	/* the first try after a refused write */
#define BACKOFF_MAX_MS	5000	/* doubling up to this */
/* Room an observation needs in the batch: a few indicators' lines. */
#define OBSERVE_ROOM	(4 * (EVLOG_LINE_MAX + EVLOG_FRAME_MAX))

/* ================================================================ BODY */

/* ".uuuuuuZ\"" - without printf: events are formatted on the packet path. */
static void
frac_usec(long nsec, char out[10])
{
	long us = nsec / 1000;
	int i;

	if (us < 0 || us > 999999)
		us = 0;
	out[0] = '.';
	for (i = 6; i >= 1; i--) {
		out[i] = (char)('0' + us % 10);
		us /= 10;
	}
	out[7] = 'Z';
	out[8] = '"';
	out[9] = '\0';
}

/* "ts":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
static void
put_ts(struct sbuf *b, const struct timespec *ts)
{
	/* The second changes far less often than events come. */
	static __thread time_t cached_sec = -1;
	static __thread char cached[32];
	char frac[10];
	struct tm tm;
	time_t t = ts->tv_sec;

	if (t != cached_sec) {
		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = t;
	}
	sbuf_str(b, "\"ts\":\"");
	sbuf_str(b, cached);
	frac_usec(ts->tv_nsec, frac);
	sbuf_str(b, frac);
}

bool
evlog_critical(const struct event *ev)
{
	return ev->confidential || ev->hold || (ev->severity != NULL &&
	    strcmp(ev->severity, "critical") == 0);
}

int
evlog_format(const struct event *ev, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct sbuf b;
	char tmp[64], addr[ADDR_STRLEN];
	bool first = true;
	size_t i;

	sbuf_init(&b, buf, len);
	put_ts(&b, &ev->ts);
	sbuf_str(&b, ",\"kind\":");
	sbuf_json_string(&b, ev->kind, strlen(ev->kind));
	if (ev->transport != NULL) {
		sbuf_str(&b, ",\"transport\":");
		sbuf_json_string(&b, ev->transport, strlen(ev->transport));
	}
	sbuf_str(&b, ",\"client\":\"");
	sbuf_str(&b, addr_ntop(&ev->client, addr, sizeof(addr)));
	sbuf_str(&b, "\",\"mac\":");
	if (ev->mac != NULL) {
		sbuf_str(&b, "\"");
		sbuf_str(&b, mac_ntop(ev->mac, tmp, sizeof(tmp)));
		sbuf_str(&b, "\"");
	} else
		sbuf_str(&b, "null");
	if (ev->profile != NULL) {
		sbuf_str(&b, ",\"device\":");
		if (ev->device != NULL)
			sbuf_json_string(&b, ev->device, strlen(ev->device));
		else
			sbuf_str(&b, "null");
		sbuf_str(&b, ",\"profile\":");
		sbuf_json_string(&b, ev->profile, strlen(ev->profile));
	}
	sbuf_str(&b, ",\"name\":");
	if (ev->confidential || ev->name == NULL)
		sbuf_str(&b, "null");
	else
		sbuf_json_string(&b, ev->name, ev->name_len);
	if (ev->qtype != 0) {
		sbuf_str(&b, ",\"qtype\":\"");
		sbuf_str(&b, dns_type_name(ev->qtype, tmp, sizeof(tmp)));
		sbuf_str(&b, "\"");
	}
	sbuf_str(&b, ",\"categories\":[");
	for (i = 0; i < 64; i++) {
		if (!(ev->categories & (UINT64_C(1) << i)))
			continue;
		if (!first)
			sbuf_str(&b, ",");
		first = false;
		if (i < ev->ncategory_names && ev->category_names[i] != NULL)
			sbuf_json_string(&b, ev->category_names[i],
			    strlen(ev->category_names[i]));
		else {
			snprintf(tmp, sizeof(tmp), "\"#%zu\"", i);
			sbuf_str(&b, tmp);
		}
	}
	sbuf_str(&b, "],\"rule\":");
	if (ev->confidential) {
		sbuf_str(&b, "\"hash:");
		for (i = 0; i < 32; i++) {
			tmp[0] = hex[ev->hash[i] >> 4];
			tmp[1] = hex[ev->hash[i] & 15];
			sbuf_bytes(&b, tmp, 2);
		}
		sbuf_str(&b, "\",\"list\":");
		sbuf_json_string(&b, ev->list, strlen(ev->list));
	} else
		sbuf_json_string(&b, ev->rule != NULL ? ev->rule : "",
		    ev->rule != NULL ? ev->rule_len : 0);
	if (ev->ech)
		sbuf_str(&b, ",\"ech\":true");
	if (ev->reason != NULL) {
		sbuf_str(&b, ",\"reason\":");
		sbuf_json_string(&b, ev->reason, strlen(ev->reason));
	}
	if (ev->schedule != NULL) {
		sbuf_str(&b, ",\"schedule\":");
		sbuf_json_string(&b, ev->schedule, strlen(ev->schedule));
	}
	if (ev->action != NULL) {
		sbuf_str(&b, ",\"action\":");
		sbuf_json_string(&b, ev->action, strlen(ev->action));
	}
	if (ev->indicator != NULL) {
		sbuf_str(&b, ",\"indicator\":");
		sbuf_json_string(&b, ev->indicator, strlen(ev->indicator));
		sbuf_str(&b, ",\"severity\":");
		sbuf_json_string(&b, ev->severity != NULL ? ev->severity :
		    "info", strlen(ev->severity != NULL ? ev->severity :
		    "info"));
	}
	if (ev->confidential || ev->hold)
		sbuf_str(&b, ",\"hold\":true");
	return b.overflow ? SG_ELIMIT : (int)b.len;
}

/* ============================================================== SHA-256 */

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_init(void)
{
	/* Fetched once: an implicit fetch on every digest costs more than
	   the digest of a line. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha256_once, sha256_init);
	return sha256_md != NULL ? sha256_md : EVP_sha256();
}

/* Lowercase hex of the SHA-256 of p[0..n), NUL-terminated.  false when
   libcrypto fails (out of memory). */
static bool
digest_hex(EVP_MD_CTX *ctx, const void *p, size_t n,
    char out[EVLOG_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		memset(out, 'x', EVLOG_HASH_HEX);
		out[EVLOG_HASH_HEX] = '\0';
		return false;
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[EVLOG_HASH_HEX] = '\0';
	return true;
}

/* ============================================================ parsing */

/* Whether the next bytes are s; they are skipped if so, else an error. */
static void
expect(struct cursor *c, const char *s)
{
	size_t n = strlen(s);
	const uint8_t *p = cursor_bytes(c, n);

	if (p != NULL && memcmp(p, s, n) != 0)
		cursor_fail(c, SG_EMALFORMED);
}

/* A decimal without a sign or leading zeros, at most 2^63. */
static uint64_t
read_u64(struct cursor *c)
{
	uint64_t v = 0;
	size_t digits = 0;
	uint8_t ch;

	while ((ch = cursor_peek_u8(c)) >= '0' && ch <= '9') {
		if (digits == 19 || (digits == 1 && v == 0)) {
			cursor_fail(c, SG_EMALFORMED);
			return 0;
		}
		v = v * 10 + (uint64_t)(ch - '0');
		digits++;
		cursor_skip(c, 1);
	}
	if (digits == 0)
		cursor_fail(c, SG_EMALFORMED);
	return v;
}

/* 64 lowercase hex digits; returns where they are. */
static const char *
read_hex64(struct cursor *c)
{
	const uint8_t *p = cursor_bytes(c, EVLOG_HASH_HEX);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < EVLOG_HASH_HEX; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f'))) {
			cursor_fail(c, SG_EMALFORMED);
			return NULL;
		}
	return (const char *)p;
}

/*
 * The inside of a JSON string as evlog writes it (after its opening
 * quote; the closing one is skipped): printable ASCII, with \" \\ and
 * \u00XX escapes.  Returns where it starts; *n is its raw length.
 */
static const char *
read_string(struct cursor *c, size_t max, size_t *n)
{
	const uint8_t *start = cursor_here(c);
	size_t len = 0;
	uint8_t ch;

	for (;;) {
		ch = cursor_u8(c);
		if (c->err)
			return NULL;
		if (ch == '"')
			break;
		if (ch < 0x20 || ch >= 0x7f || ++len > max) {
			cursor_fail(c, SG_EMALFORMED);
			return NULL;
		}
		if (ch == '\\') {
			ch = cursor_u8(c);
			len++;
			if (ch == 'u') {
				cursor_skip(c, 4);
				len += 4;
			} else if (ch != '"' && ch != '\\')
				cursor_fail(c, SG_EMALFORMED);
		}
	}
	*n = (size_t)(cursor_here(c) - start) - 1;
	return (const char *)start;
}

/*
 * The inside of a string of 1..max bytes of `set` (after its opening
 * quote; the closing one is skipped): a kind, an action, a time.
 */
static const char *
read_token(struct cursor *c, size_t max, const char *set, size_t *n)
{
	const uint8_t *start = cursor_here(c);
	size_t len = 0;
	uint8_t ch;

	while ((ch = cursor_u8(c)) != '"' && c->err == 0) {
		if (ch == '\0' || strchr(set, ch) == NULL || ++len > max) {
			cursor_fail(c, SG_EMALFORMED);
			return NULL;
		}
	}
	if (c->err != 0 || len == 0) {
		cursor_fail(c, SG_EMALFORMED);
		return NULL;
	}
	*n = len;
	return (const char *)start;
}

#define WORD_CHARS	"abcdefghijklmnopqrstuvwxyz-"
#define TS_CHARS	"0123456789-T:.Z"

static bool
is_word(const char *p, size_t n, const char *w)
{
	return p != NULL && n == strlen(w) && memcmp(p, w, n) == 0;
}

bool
evlog_line_is(const struct evlog_line *l, const char *kind,
    const char *action)
{
	return is_word(l->kind, l->kind_len, kind) && (action == NULL ||
	    is_word(l->action, l->action_len, action));
}

/* The members of the log's own events and of holds, exactly. */
static void
parse_own(struct cursor *c, struct evlog_line *l)
{
	size_t n;

	expect(c, ",\"action\":\"");
	l->action = read_token(c, 16, WORD_CHARS, &l->action_len);
	if (c->err)
		return;
	if (evlog_line_is(l, "log", "lost")) {
		expect(c, ",\"count\":");
		l->count = read_u64(c);
	} else if (evlog_line_is(l, "log", "recovered")) {
		expect(c, ",\"length\":");
		l->length = read_u64(c);
	} else if (evlog_line_is(l, "log", "purged")) {
		expect(c, ",\"after\":");
		l->after = read_u64(c);
		expect(c, ",\"after_hash\":\"");
		l->after_hash = read_hex64(c);
		expect(c, "\",\"before\":");
		l->before = read_u64(c);
		expect(c, ",\"before_prev\":\"");
		l->before_prev = read_hex64(c);
		expect(c, "\"");
	} else if (evlog_line_is(l, "hold", "hold")) {
		expect(c, ",\"target\":");
		l->target = read_u64(c);
		expect(c, ",\"reason\":\"");
		(void)read_string(c, 6 * EVLOG_REASON_MAX, &n);
	} else if (!evlog_line_is(l, "log", "reopened"))
		cursor_fail(c, SG_EMALFORMED);
}

int
evlog_parse_line(const char *line, size_t len, struct evlog_line *l)
{
	/* ,"prev":"<64>","hash":"<64>"} */
	static const size_t tail = 9 + 64 + 1 + 9 + 64 + 2;
	static const char hold[] = ",\"hold\":true";
	struct cursor c, t;
	size_t body_end;

	memset(l, 0, sizeof(*l));
	if (len < tail)
		return SG_EMALFORMED;
	body_end = len - tail;
	l->hold = body_end >= sizeof(hold) - 1 && memcmp(line + body_end -
	    (sizeof(hold) - 1), hold, sizeof(hold) - 1) == 0;

	/* The end: prev and hash at fixed places. */
	cursor_init(&t, line + body_end, tail);
	expect(&t, ",\"prev\":\"");
	l->prev = read_hex64(&t);
	expect(&t, "\",\"hash\":\"");
	l->hash = read_hex64(&t);
	expect(&t, "\"}");
	if (t.err)
		return SG_EMALFORMED;
	l->hashed_len = body_end + 9 + 64 + 1;

	/* The start: seq, ts, kind; then the log's own events whole. */
	cursor_init(&c, line, body_end - (l->hold ? sizeof(hold) - 1 : 0));
	expect(&c, "{\"seq\":");
	l->seq = read_u64(&c);
	expect(&c, ",\"ts\":\"");
	l->ts = read_token(&c, 39, TS_CHARS, &l->ts_len);
	expect(&c, ",\"kind\":\"");
	l->kind = read_token(&c, 16, WORD_CHARS, &l->kind_len);
	if (c.err == 0 && l->seq == 0)
		cursor_fail(&c, SG_EMALFORMED);
	/* Another member follows, or the frame's end. */
	if (c.err == 0 && cursor_left(&c) > 0 && (cursor_left(&c) < 2 ||
	    memcmp(cursor_here(&c), ",\"", 2) != 0))
		cursor_fail(&c, SG_EMALFORMED);
	if (c.err == 0 && (evlog_line_is(l, "log", NULL) ||
	    evlog_line_is(l, "hold", NULL))) {
		parse_own(&c, l);
		if (c.err == 0 && cursor_left(&c) != 0)
			cursor_fail(&c, SG_EMALFORMED);
		/* A hold event is always held; the log's own never are. */
		if (c.err == 0 && l->hold != evlog_line_is(l, "hold", NULL))
			cursor_fail(&c, SG_EMALFORMED);
	}
	return c.err != 0 ? SG_EMALFORMED : 0;
}

static bool
line_hash_ok(EVP_MD_CTX *ctx, const char *line, const struct evlog_line *l)
{
	char hex[EVLOG_HASH_HEX + 1];

	return digest_hex(ctx, line, l->hashed_len, hex) &&
	    memcmp(hex, l->hash, EVLOG_HASH_HEX) == 0;
}

bool
evlog_line_hash_ok(const char *line, const struct evlog_line *l)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = line_hash_ok(ctx, line, l);

	EVP_MD_CTX_free(ctx);
	return ok;
}

void
evlog_tail(const char *buf, size_t len, bool whole, struct evlog_tail *t)
{
	struct evlog_line l;
	const char *end, *start, *nl;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return;
	nl = memrchr(buf, '\n', len);
	if (nl == NULL) {
		t->partial = len;
		t->need_more = !whole;
		return;
	}
	t->partial = len - (size_t)(nl - buf) - 1;
	end = nl;		/* the newline that ends the line looked at */
	for (;;) {
		start = end > buf ? memrchr(buf, '\n', (size_t)(end - buf)) :
		    NULL;
		if (start == NULL && !whole) {
			t->need_more = true;	/* its start is further back */
			return;
		}
		start = start != NULL ? start + 1 : buf;
		if (evlog_parse_line(start, (size_t)(end - start), &l) == 0) {
			t->found = true;
			t->seq = l.seq;
			memcpy(t->hash, l.hash, EVLOG_HASH_HEX);
			t->hash[EVLOG_HASH_HEX] = '\0';
			return;
		}
		t->skipped++;
		if (start == buf)
			return;
		end = start - 1;
	}
}

/* ================================================================ ring */

/*
 * A record: an 8-byte header, then len bytes, padded to 8.  The header's
 * first word is 0 until the producer commits; the writer zeroes what it
 * has consumed before it gives the room back, so a header never seen
 * committed is always 0.
 */
#define REC_COMMITTED	0x80000000u
enum rec_type {
	REC_EVENT = 1,
	REC_CRITICAL = 2,	/* an event synced at once */
	REC_REQUEST = 3,	/* a struct request * from the main thread */
	REC_OBSERVE = 4,	/* for the observe hook */
};

static size_t
rec_total(size_t len)
{
	return (8 + len + 7) & ~(size_t)7;
}

/* ============================================================ writer */

enum req_op { REQ_SYNC, REQ_HOLD, REQ_REOPEN };

/* A main-thread request: lives until both sides let go of it. */
struct request {
	enum req_op	 op;
	int		 refs;		/* under evlog.mu */
	bool		 done;
	int		 err;
	uint64_t	 seq;		/* the hold event's */
	uint64_t	 target;
	char		 reason[EVLOG_REASON_MAX + 1];
	int		 fd;		/* REOPEN: taken by the writer */
	char		*path;
};

/*
 * The lines chained but not yet in the file.  While the file refuses
 * writes the batch is kept as it is (the chain, log->seq and log->hash,
 * runs ahead of the file by exactly its lines) and written whole later.
 */
struct batch {
	char		*buf;		/* BATCH_CAP, + 1 for a newline put
					   in front (batch_newline_first()) */
	size_t		 len;
	size_t		 done;		/* bytes of it already in the file: a
					   write cut short that ftruncate()
					   could not take back */
	uint64_t	 lines;		/* events in buf */
	uint64_t	 gap;		/* of which a "lost" of this many */
	uint64_t	 start_seq;	/* the chain before buf */
	char		 start_hash[EVLOG_HASH_HEX + 1];
	bool		 critical;
};

struct evlog {
	/* ---- producers */
	uint8_t		*ring;
	size_t		 ring_size;
	uint64_t	 head __attribute__((aligned(64)));
	uint64_t	 tail __attribute__((aligned(64)));
	int		 sleeping __attribute__((aligned(64)));
	int		 efd;
	int		 open;		/* events are wanted (atomic) */
	uint64_t	 lost_pending;	/* atomics */
	uint64_t	 lost_total;
	uint64_t	 lost_obs;	/* observations: no events, so not in
					   a "lost" event */
	/* ---- the writer's (the opening thread's until start) */
	char		*path;
	int		 fd;		/* -1: closed by reopen(NULL) */
	uint64_t	 size;
	uint64_t	 seq;		/* of the last line written */
	char		 hash[EVLOG_HASH_HEX + 1];
	EVP_MD_CTX	*md;
	struct batch	 b;
	char		 scratch[EVLOG_LINE_MAX + 64];
	struct evlog_opts opts;
	uint64_t	 fail_lost;	/* lost to a refusing file, not yet in
					   a "lost" event */
	bool		 dirty;		/* written since the last sync */
	int		 fault;		/* 0, or the -errno the file refuses
					   writes with: the writer drains
					   nothing until a try works */
	int64_t		 fault_since;	/* CLOCK_MONOTONIC ms */
	int64_t		 retry_at;	/* the next try */
	unsigned	 backoff_ms;
	int		 refusing;	/* fault, for the other threads
					   (atomic) */
	dev_t		 dev;		/* the file system the file was on */
	bool		 have_dev;	/* (when fault() closed it) */
	struct timespec	 last_sync;	/* CLOCK_MONOTONIC */
	time_t		 next_midnight;	/* on the policy clock */
	time_t		 day_start;	/* the midnight before it */
	time_t		 rotate_after;	/* after a failed rotation */
	time_t		 next_purge;	/* CLOCK_MONOTONIC seconds */
	char		**held;		/* kept by holds at the last purge */
	size_t		 nheld;
	/* ---- stats (atomics; the writer writes) */
	uint64_t	 st_written, st_errors, st_rotations, st_purged;
	uint64_t	 st_seq;
	uint64_t	 st_write_errors, st_outages, st_held;
	int64_t		 st_fault_since;
	/* ---- the thread and the main thread's requests */
	pthread_t	 thread;
	bool		 started;
	int		 stop;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 opts_changed;	/* under mu */
	struct evlog_opts new_opts;	/* under mu */
	struct request	*urgent;	/* under mu: a reopen while the file
					   refuses, ahead of the queue */
	struct evlog_hooks hooks;	/* set before the thread starts */
};

static struct log_limit write_limit = LOG_LIMIT_INIT;
static struct log_limit fault_limit = LOG_LIMIT_INIT;

static void
store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint64_t
load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static time_t
mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Now on the policy clock (safegated -T). */
static struct timespec
policy_now(const struct evlog *log)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += log->opts.clock_offset;
	return ts;
}

/* The local midnight that began t's day. */
static time_t
this_midnight(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* The next local midnight after t. */
static time_t
next_midnight(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* mkdir -p of path's parent directory. */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX], *p;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Opens (creating) path for appending and reading its end. */
static int
open_file(const char *path)
{
	int r, fd;

	if (path[0] == '\0')
		return -EINVAL;
	if ((r = make_parent(path)) < 0)
		return r;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd == -1 ? -errno : fd;
}

/* ------------------------------------------------------ the file's I/O */

/* The test's fault, if any, for the call about to be made. */
static long
injected(struct evlog *log, enum evlog_io op, size_t len)
{
	if (log->opts.io_fault == NULL)
		return 0;
	return log->opts.io_fault(log->opts.io_fault_arg, op,
	    op == EVLOG_IO_OPEN ? -1 : log->fd, len);
}

/* write(2) of at most len bytes: what it returns, errno set. */
static ssize_t
io_write(struct evlog *log, const void *p, size_t len)
{
	long r = injected(log, EVLOG_IO_WRITE, len);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	if (r > 0 && (size_t)r < len)
		len = (size_t)r;
	return write(log->fd, p, len);
}

static int
io_sync(struct evlog *log)
{
	long r = injected(log, EVLOG_IO_SYNC, 0);

	if (r < 0)
		return (int)r;
	return fdatasync(log->fd) == -1 ? -errno : 0;
}

static int
io_truncate(struct evlog *log, uint64_t size)
{
	long r = injected(log, EVLOG_IO_TRUNCATE, 0);

	if (r < 0)
		return (int)r;
	return ftruncate(log->fd, (off_t)size) == -1 ? -errno : 0;
}

/* Committed events in the ring, from its tail (the writer's only). */
static uint64_t
ring_events(struct evlog *log)
{
	uint64_t t = log->tail, n = 0;
	uint32_t word, len;
	uint8_t *hdr;

	while (t - log->tail < log->ring_size) {
		hdr = log->ring + (t & (log->ring_size - 1));
		word = __atomic_load_n((uint32_t *)(void *)hdr,
		    __ATOMIC_ACQUIRE);
		if (!(word & REC_COMMITTED))
			break;
		memcpy(&len, hdr + 4, 4);
		if ((word & 0xff) == REC_EVENT || (word & 0xff) == REC_CRITICAL)
			n++;
		t += rec_total(len);
	}
	return n;
}

/* Events waiting for the file: the kept batch's and the ring's. */
static uint64_t
held_events(struct evlog *log)
{
	return log->b.lines - (log->b.gap > 0) + ring_events(log);
}

/*
 * The file refused a write, a sync or a reopen with err: the writer stops
 * draining and tries again after the backoff.  EROFS and EIO close the
 * file at once: a file system that says so stays so for the descriptors
 * open on it (ext4's errors=remount-ro), and an open descriptor would keep
 * it from being remounted or unmounted.
 */
static void
fault(struct evlog *log, int err, const char *what)
{
	int64_t now = mono_ms();
	uint64_t supp = 0;
	struct stat st;

	store64(&log->st_write_errors, load64(&log->st_write_errors) + 1);
	if (log->fault == 0) {
		log->fault_since = now;
		log->backoff_ms = BACKOFF_MIN_MS;
		store64(&log->st_outages, load64(&log->st_outages) + 1);
		__atomic_store_n(&log->st_fault_since, now, __ATOMIC_RELAXED);
		if (log_ratelimited(&fault_limit, 0.1, 5, &supp))
			log_warnx("events %s: %s: %s: events wait in the queue "
			    "(%zu KiB) until it takes writes again; what does "
			    "not fit is lost, and counted (%" PRIu64
			    " messages like this held back)", log->path, what,
			    sg_strerror(err), log->ring_size / 1024, supp);
	} else {
		log->backoff_ms = log->backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : log->backoff_ms * 2;
		if (err != log->fault && log_ratelimited(&fault_limit, 0.1, 5,
		    NULL))
			log_warnx("events %s: %s: %s now", log->path, what,
			    sg_strerror(err));
	}
	log->fault = err;
	log->retry_at = now + log->backoff_ms;
	__atomic_store_n(&log->refusing, err, __ATOMIC_RELEASE);
	if ((err == -EROFS || err == -EIO) && log->fd != -1) {
		log->have_dev = fstat(log->fd, &st) == 0;
		log->dev = st.st_dev;
		close(log->fd);
		log->fd = -1;
		log->dirty = false;	/* nothing to sync any more */
	}
	store64(&log->st_held, held_events(log));
}

/* The file takes writes again (say: tell the log so). */
static void
fault_end(struct evlog *log, bool say)
{
	if (say && log_ratelimited(&fault_limit, 0.1, 5, NULL))
		log_info("events %s: takes writes again, after %.1f s: the "
		    "events held are written, then a \"lost\" event for %"
		    PRIu64 " the full queue refused", log->path,
		    (double)(mono_ms() - log->fault_since) / 1000.0,
		    load64(&log->lost_pending) + log->fail_lost);
	log->fault = 0;
	log->backoff_ms = 0;
	__atomic_store_n(&log->refusing, 0, __ATOMIC_RELEASE);
	store64(&log->st_held, 0);
}

/* fdatasync() if anything was written since the last.  0 or -errno. */
static int
file_sync(struct evlog *log)
{
	int err;

	if (log->fd != -1 && log->dirty && (err = io_sync(log)) < 0) {
		/* Still dirty: synced again when the file takes writes. */
		fault(log, err, "fdatasync");
		return err;
	}
	log->dirty = false;
	clock_gettime(CLOCK_MONOTONIC, &log->last_sync);
	return 0;
}

static void
batch_reset(struct evlog *log)
{
	struct batch *b = &log->b;

	b->len = 0;
	b->done = 0;
	b->lines = 0;
	b->gap = 0;
	b->critical = false;
	b->start_seq = log->seq;
	memcpy(b->start_hash, log->hash, sizeof(b->start_hash));
}

/*
 * A newline before the batch, to end a line the file was left with (cut
 * short by a crash, or by whoever wrote there): once only.
 */
static void
batch_newline_first(struct evlog *log)
{
	struct batch *b = &log->b;

	if (b->len > 0 && b->buf[0] == '\n')
		return;		/* a line never starts with one */
	memmove(b->buf + 1, b->buf, b->len);
	b->buf[0] = '\n';
	b->len++;
}

/*
 * The batch is given up (the file is closed for good, or the daemon stops
 * while it refuses, or a hold is refused): the chain goes back to the
 * file's end; count: the events are counted as lost to errors.
 */
static uint64_t
batch_drop(struct evlog *log, bool count)
{
	struct batch *b = &log->b;
	uint64_t real = b->lines - (b->gap > 0);

	if (count)
		store64(&log->st_errors, load64(&log->st_errors) + real);
	log->seq = b->start_seq;
	memcpy(log->hash, b->start_hash, sizeof(log->hash));
	batch_reset(log);
	return real;
}

/* The line hook, for each line of the batch just written. */
static void
tell_lines(struct evlog *log)
{
	struct evlog_line l;
	const char *p = log->b.buf, *end = p + log->b.len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if (evlog_parse_line(p, (size_t)(nl - p), &l) == 0)
			log->hooks.line(log->hooks.arg, p, (size_t)(nl - p),
			    l.seq, l.hash, l.kind, l.kind_len);
	}
}

/*
 * The first keep bytes of the batch, whole lines, are in the file: they
 * leave the batch, which now starts after them (a file with room for part
 * of the batch takes that part).
 */
static void
batch_commit_front(struct evlog *log, size_t keep)
{
	struct batch *b = &log->b;
	struct evlog_line l;
	const char *p = b->buf, *end = p + keep, *nl;
	uint64_t lines = 0;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if (evlog_parse_line(p, (size_t)(nl - p), &l) != 0)
			continue;	/* the newline put in front */
		lines++;
		b->start_seq = l.seq;
		memcpy(b->start_hash, l.hash, EVLOG_HASH_HEX);
		if (evlog_line_is(&l, "log", "lost"))
			b->gap = 0;
		if (log->hooks.line != NULL)
			log->hooks.line(log->hooks.arg, p, (size_t)(nl - p),
			    l.seq, l.hash, l.kind, l.kind_len);
	}
	log->size += keep;
	memmove(b->buf, b->buf + keep, b->len - keep);
	b->len -= keep;
	b->done -= keep;
	b->lines -= lines;
	store64(&log->st_written, load64(&log->st_written) + lines);
	store64(&log->st_seq, b->start_seq);
	log->dirty = true;
}

/*
 * After a write refused or cut short: the whole lines that went in stay,
 * the part of a line after them is taken back, so that the file ends with
 * its last whole line.  If it cannot be, b->done remembers it, and the
 * rest of the batch completes it later.
 */
static void
take_back(struct evlog *log)
{
	struct batch *b = &log->b;
	const char *nl;
	size_t keep;
	int err;

	if (b->done == 0 || log->fd == -1)
		return;
	nl = memrchr(b->buf, '\n', b->done);
	keep = nl != NULL ? (size_t)(nl - b->buf) + 1 : 0;
	if (keep < b->done) {
		if ((err = io_truncate(log, log->size + keep)) == 0)
			b->done = keep;
		else if (log_ratelimited(&write_limit, 1, 5, NULL))
			log_warnx("events %s: cannot take back the %zu bytes "
			    "of a line cut short (ftruncate: %s): the rest "
			    "follows them when the file takes writes again",
			    log->path, b->done - keep, sg_strerror(err));
	}
	if (keep > 0)
		batch_commit_front(log, keep);
}

/*
 * Writes the batch (what of it is not in the file yet).  A write refused
 * or cut short is taken back, the batch is kept for the next try, and the
 * writer stops draining (fault()).  The chain's steps stay: the kept lines
 * are the next ones the file gets.  0 or -errno.
 */
static int
flush(struct evlog *log)
{
	struct batch *b = &log->b;
	bool critical;
	ssize_t n;
	int err;

	if (b->len == 0)
		return 0;
	if (log->fd == -1)
		return log->fault != 0 ? log->fault : -EBADF;
	while (b->done < b->len) {
		n = io_write(log, b->buf + b->done, b->len - b->done);
		if (n > 0) {
			b->done += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		err = n == 0 ? -EIO : -errno;
		take_back(log);
		fault(log, err, "write");
		return err;
	}
	log->size += b->len;
	if (log->hooks.line != NULL)
		tell_lines(log);
	store64(&log->st_written, load64(&log->st_written) + b->lines);
	store64(&log->st_seq, log->seq);
	log->dirty = true;
	critical = b->critical;
	batch_reset(log);
	return critical ? file_sync(log) : 0;
}

/* Whether the folder that holds path is on the file system dev. */
static bool
folder_on(const char *path, dev_t dev)
{
	char dir[PATH_MAX], *p;
	struct stat st;

	if (strlen(path) >= sizeof(dir))
		return false;
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (p == dir)
		dir[1] = '\0';
	else
		*p = '\0';
	return stat(dir, &st) == 0 && st.st_dev == dev;
}

/*
 * After EROFS or EIO: PATH again, as the file system now has it, but only
 * on the file system it was on: an unmounted one leaves the folder it was
 * mounted on, and what was written there would be hidden when it is
 * mounted again.  (So the file is made again only if it is gone from a
 * folder still on that file system.)  The file should end where the kept
 * batch begins (or with the part of it written); if it does not (the file
 * system lost what it had, or someone wrote there), the chain carries on
 * after whatever it ends with, and verify-log shows where.  0 or -errno.
 */
static int
reattach(struct evlog *log)
{
	struct batch *b = &log->b;
	struct stat st;
	uint64_t size;
	long r;
	int fd, err;
	char c;

	if ((r = injected(log, EVLOG_IO_OPEN, 0)) < 0)
		return (int)r;
	if ((fd = open(log->path, O_RDWR | O_APPEND | O_CLOEXEC)) == -1) {
		err = -errno;
		if (err != -ENOENT || !log->have_dev ||
		    !folder_on(log->path, log->dev))
			return err;
		if ((fd = open_file(log->path)) < 0)
			return fd;
		log_warnx("events %s: was gone: made again", log->path);
	}
	if (fstat(fd, &st) == -1) {
		err = -errno;
		close(fd);
		return err;
	}
	if (log->have_dev && st.st_dev != log->dev) {
		close(fd);
		if (log_ratelimited(&fault_limit, 0.1, 5, NULL))
			log_warnx("events %s: is on another file system than "
			    "before (the one it was on not mounted again "
			    "yet?): waiting for that one; to take this one, "
			    "restart safegated or move the log", log->path);
		return -EXDEV;
	}
	size = (uint64_t)st.st_size;
	if (size == log->size)
		b->done = 0;
	else if (size != log->size + b->done) {
		log_warnx("events %s: is not as it was left (%" PRIu64
		    " bytes, not %" PRIu64 "): the chain carries on after its "
		    "end, and verify-log will show where they join", log->path,
		    size, log->size + b->done);
		b->done = 0;
		log->size = size;
		if (size > 0 && pread(fd, &c, 1, (off_t)size - 1) == 1 &&
		    c != '\n')
			batch_newline_first(log);
	}
	log->fd = fd;
	return 0;
}

/*
 * One try while the file refuses (force: now, not at the backoff's end):
 * open it again if it was closed, sync what was not, write the kept batch.
 */
static void
retry(struct evlog *log, bool force)
{
	int err;

	if (!force && mono_ms() < log->retry_at)
		return;
	if (log->fd == -1 && (err = reattach(log)) < 0) {
		fault(log, err, "open");
		return;
	}
	if (file_sync(log) < 0 || flush(log) < 0)
		return;
	fault_end(log, true);
}

static size_t
u64_digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int rotate(struct evlog *log);

/*
 * Appends one event to the batch: numbers it, chains it, hashes it.  A
 * rotation by size comes first when this line would take the file past
 * the limit.  Returns the event's seq, or 0 when the log is closed or,
 * the file refusing writes, the batch has no room for it (it is lost, and
 * counted).
 */
static uint64_t
append(struct evlog *log, const char *body, size_t blen, bool critical)
{
	struct batch *b = &log->b;
	char num[24];
	size_t line, start;
	uint64_t limit = log->opts.rotate_bytes;

	if (log->fd == -1 && log->fault == 0)
		return 0;	/* closed (evlog_reopen(NULL)) */
	line = 7 + u64_digits(log->seq + 1) + 1 + blen + 9 + 64 + 1 + 9 +
	    64 + 3;
	if (limit > 0 && log->size + b->len > 0 &&
	    log->size + b->len + line > limit && log->fault == 0 &&
	    mono_sec() >= log->rotate_after && flush(log) == 0) {
		(void)rotate(log);	/* a purge may append: seq moves */
		line = 7 + u64_digits(log->seq + 1) + 1 + blen + 9 + 64 + 1 +
		    9 + 64 + 3;
	}
	/* (b->len may be BATCH_CAP + 1: batch_newline_first()) */
	if (b->len + line > BATCH_CAP && (log->fault != 0 ||
	    flush(log) < 0)) {
		log->fail_lost++;
		store64(&log->st_errors, load64(&log->st_errors) + 1);
		return 0;
	}
	start = b->len;
	snprintf(num, sizeof(num), "%" PRIu64, log->seq + 1);
	b->len += (size_t)sprintf(b->buf + b->len, "{\"seq\":%s,", num);
	memcpy(b->buf + b->len, body, blen);
	b->len += blen;
	b->len += (size_t)sprintf(b->buf + b->len, ",\"prev\":\"%s\"",
	    log->hash);
	(void)digest_hex(log->md, b->buf + start, b->len - start, log->hash);
	b->len += (size_t)sprintf(b->buf + b->len, ",\"hash\":\"%s\"}\n",
	    log->hash);
	log->seq++;
	b->lines++;
	b->critical |= critical;
	return log->seq;
}

/* The BODY of the log's own events: "ts", "kind", "action" and rest. */
static size_t
own_body(struct evlog *log, char *buf, size_t len, const char *kind,
    const char *action, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static size_t
own_body(struct evlog *log, char *buf, size_t len, const char *kind,
    const char *action, const char *fmt, ...)
{
	struct timespec now = policy_now(log);
	struct sbuf b;
	va_list ap;
	int n;

	sbuf_init(&b, buf, len);
	put_ts(&b, &now);
	sbuf_printf(&b, ",\"kind\":\"%s\",\"action\":\"%s\"", kind, action);
	if (!b.overflow) {
		va_start(ap, fmt);
		n = vsnprintf(b.p + b.len, b.cap - b.len, fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= b.cap - b.len)
			b.overflow = true;
		else
			b.len += (size_t)n;
	}
	return b.overflow ? 0 : b.len;
}

/* A "lost" event for what the queue and failed writes lost meanwhile. */
static void
tell_lost(struct evlog *log)
{
	char body[512];
	uint64_t n;
	size_t len;

	if (log->fault != 0)
		return;		/* after the events held, when it is over */
	n = __atomic_exchange_n(&log->lost_pending, 0, __ATOMIC_ACQ_REL) +
	    log->fail_lost;
	log->fail_lost = 0;
	if (n == 0)
		return;
	if (log->fd == -1)
		return;
	len = own_body(log, body, sizeof(body), "log", "lost",
	    ",\"count\":%" PRIu64, n);
	if (append(log, body, len, false) != 0)
		log->b.gap = n;
	(void)flush(log);
}

/* ------------------------------------------------------ reading files */

/*
 * Lines of a file or of memory, a chunk at a time.  A line longer than
 * LINE_READ_MAX is not kept: only its length is.
 */
struct reader {
	int		 fd;		/* -1: memory */
	char		*buf;
	size_t		 cap, start, end;
	bool		 eof;
	bool		 own;		/* buf is ours */
};

static int
reader_open(struct reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	r->cap = 4 * LINE_READ_MAX;
	if ((r->buf = malloc(r->cap)) == NULL) {
		close(r->fd);
		return -ENOMEM;
	}
	r->own = true;
	return 0;
}

static void
reader_mem(struct reader *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->buf = (char *)buf;
	r->cap = r->end = len;
	r->eof = true;
}

static void
reader_close(struct reader *r)
{
	if (r->fd != -1)
		close(r->fd);
	if (r->own)
		free(r->buf);
}

/* Reads more; false at the end or on error (*err). */
static bool
reader_fill(struct reader *r, int *err)
{
	ssize_t n;

	if (r->eof)
		return false;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		r->eof = true;
		if (n < 0)
			*err = -errno;
		return false;
	}
	r->end += (size_t)n;
	return true;
}

/*
 * The next line, without its newline: *line is NULL when it was too long
 * to keep (its length is still *len).  *nl says whether a newline ended
 * it.  false at the end of the input.  Read errors land in *err.
 */
static bool
reader_next(struct reader *r, const char **line, size_t *len, bool *nl,
    int *err)
{
	const char *p;
	size_t skipped = 0, n;

	for (;;) {
		n = r->end - r->start;
		p = memchr(r->buf + r->start, '\n', n);
		if (p != NULL) {
			n = (size_t)(p - (r->buf + r->start));
			*line = skipped == 0 && (r->fd == -1 ||
			    n <= LINE_READ_MAX) ? r->buf + r->start : NULL;
			*len = skipped + n;
			*nl = true;
			r->start += n + 1;
			return true;
		}
		if (r->fd != -1 && n > LINE_READ_MAX) {
			skipped += n;	/* too long: keep its length only */
			r->start = r->end;
		}
		if (!reader_fill(r, err)) {
			n = r->end - r->start;
			if (n == 0 && skipped == 0)
				return false;
			*line = skipped == 0 ? r->buf + r->start : NULL;
			*len = skipped + n;
			*nl = false;
			r->start = r->end;
			return true;
		}
	}
}

/* What retention needs of a file: its ends, whether it holds a hold. */
struct summary {
	bool		 empty;
	bool		 first_ok, last_ok;
	uint64_t	 first_seq, last_seq;
	char		 first_prev[EVLOG_HASH_HEX + 1];
	char		 last_hash[EVLOG_HASH_HEX + 1];
	bool		 hold;
	time_t		 mtime;
};

struct targets {
	uint64_t	*v;
	size_t		 n, cap;
};

static void
targets_add(struct targets *t, uint64_t seq)
{
	uint64_t *v;

	if (t->n == t->cap) {
		if (t->cap >= MAX_TARGETS)
			return;
		v = realloc(t->v, (t->cap ? 2 * t->cap : 64) * sizeof(*v));
		if (v == NULL)
			return;
		t->v = v;
		t->cap = t->cap ? 2 * t->cap : 64;
	}
	t->v[t->n++] = seq;
}

static int
scan(const char *path, struct summary *s, struct targets *t)
{
	struct evlog_line l;
	struct reader r;
	const char *line;
	size_t len;
	bool nl, first = true, ok;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->empty = true;
	if ((err = reader_open(&r, path)) < 0)
		return err;
	while (reader_next(&r, &line, &len, &nl, &err)) {
		ok = line != NULL && nl && evlog_parse_line(line, len, &l) ==
		    0;
		s->empty = false;
		if (first) {
			s->first_ok = ok;
			if (ok) {
				s->first_seq = l.seq;
				memcpy(s->first_prev, l.prev, EVLOG_HASH_HEX);
			}
			first = false;
		}
		s->last_ok = ok;
		if (!ok)
			continue;
		s->last_seq = l.seq;
		memcpy(s->last_hash, l.hash, EVLOG_HASH_HEX);
		s->hold |= l.hold;
		if (t != NULL && evlog_line_is(&l, "hold", "hold"))
			targets_add(t, l.target);
	}
	reader_close(&r);
	return err;
}

/* ---------------------------------------------------------- rotated */

/* "PATH.YYYYMMDD-HHMMSS" or the same with "-NN": the suffix after '.' */
static bool
rotated_suffix(const char *s)
{
	size_t i, n = strlen(s);

	if (n != 15 && n != 18)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 15) {
			if (s[i] != '-')
				return false;
		} else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
evlog_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n && names != NULL; i++)
		free(names[i]);
	free(names);
}

int
evlog_rotated(const char *path, char ***names, size_t *n)
{
	char dir[PATH_MAX], **v = NULL, **nv;
	const char *base, *slash;
	struct dirent *de;
	size_t blen, cap = 0, dlen;
	DIR *d;
	int err = 0;

	*names = NULL;
	*n = 0;
	slash = strrchr(path, '/');
	base = slash != NULL ? slash + 1 : path;
	dlen = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= sizeof(dir))
		return -ENAMETOOLONG;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)dlen, path);
	blen = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] != '.' ||
		    !rotated_suffix(de->d_name + blen + 1))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (asprintf(&v[*n], "%s%s%s", slash == NULL ? "" : dir,
		    slash == NULL ? "" : slash == path ? "" : "/",
		    de->d_name) == -1) {
			err = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (err < 0) {
		evlog_names_free(v, *n);
		*n = 0;
		return err;
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	*names = v;
	return 0;
}

/* PATH.YYYYMMDD-HHMMSS of now (UTC, policy clock), or with -NN when
   taken; prefix replaces "" before the stamp ("unchained-"). */
static int
aside_name(struct evlog *log, const char *prefix, char *out, size_t len)
{
	struct timespec now = policy_now(log);
	char stamp[32];
	struct tm tm;
	int k, n;

	if (prefix[0] == '\0') {
		/* After the clock went back, now's stamp could sort before
		   the newest rotated file's: verify-log reads them in name
		   order, so take that stamp (and a -NN) instead. */
		char **v = NULL;
		size_t nv = 0;

		if (evlog_rotated(log->path, &v, &nv) == 0 && nv > 0) {
			const char *sfx = strrchr(v[nv - 1], '.') + 1;

			memset(&tm, 0, sizeof(tm));
			if (strptime(sfx, "%Y%m%d-%H%M%S", &tm) != NULL &&
			    timegm(&tm) > now.tv_sec)
				now.tv_sec = timegm(&tm);
		}
		evlog_names_free(v, nv);
	}
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (k = 0; k < 100; k++) {
		if (k == 0)
			n = snprintf(out, len, "%s.%s%s", log->path, prefix,
			    stamp);
		else
			n = snprintf(out, len, "%s.%s%s-%02d", log->path,
			    prefix, stamp, k);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (access(out, F_OK) == -1 && errno == ENOENT)
			return 0;
	}
	return -EEXIST;
}

/* ------------------------------------------------------------ rotation */

static void purge(struct evlog *log);

/*
 * PATH becomes PATH.STAMP and a new PATH is started; the chain carries
 * on.  On failure the old file is kept (and renamed back if it was
 * renamed), and rotation waits ROTATE_RETRY seconds.
 */
static int
rotate(struct evlog *log)
{
	char to[PATH_MAX];
	int fd, err;

	if ((err = file_sync(log)) < 0)
		return err;	/* the file refuses: not now */
	if ((err = aside_name(log, "", to, sizeof(to))) < 0)
		goto fail;
	if (rename(log->path, to) == -1) {
		err = -errno;
		goto fail;
	}
	if ((fd = open_file(log->path)) < 0) {
		err = fd;
		if (rename(to, log->path) == -1)
			log_warn("events: %s stays %s", log->path, to);
		goto fail;
	}
	atomicfile_sync_dir(log->path);
	close(log->fd);
	log->fd = fd;
	log->size = 0;
	store64(&log->st_rotations, load64(&log->st_rotations) + 1);
	log_info("events: rotated %s to %s at seq %" PRIu64, log->path, to,
	    log->seq);
	if (log->opts.keep_days > 0)
		purge(log);
	return 0;
fail:
	log->rotate_after = mono_sec() + ROTATE_RETRY;
	log_warnx("events: cannot rotate %s: %s; trying again in %ds",
	    log->path, sg_strerror(err), ROTATE_RETRY);
	return err;
}

/* ----------------------------------------------------------- retention */

static bool
in_list(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool
held_by_target(const struct summary *s, const struct targets *t)
{
	size_t i;

	if (!s->first_ok || !s->last_ok)
		return false;
	for (i = 0; i < t->n; i++)
		if (t->v[i] >= s->first_seq && t->v[i] <= s->last_seq)
			return true;
	return false;
}

/* Whether a ends where b begins. */
static bool
links(const struct summary *a, const struct summary *b)
{
	return a->last_ok && b->first_ok && b->first_seq == a->last_seq + 1 &&
	    memcmp(a->last_hash, b->first_prev, EVLOG_HASH_HEX) == 0;
}

/*
 * Deletes the rotated files last written more than keep_days ago, but for
 * those that hold a hold.  Where a run of deleted files leaves kept files
 * on both sides, a "purged" event bridges the gap, if the run was whole.
 */
static void
purge(struct evlog *log)
{
	struct summary *s = NULL, cur;
	struct targets t = { NULL, 0, 0 };
	struct stat st;
	char body[512], **names = NULL, **held = NULL;
	bool *gone = NULL, any = false, scanned = false, whole;
	time_t cutoff;
	size_t n = 0, i, j, k, nheld = 0, len;
	int err;

	if (log->fault != 0)
		return;		/* when the file takes writes again */
	log->next_purge = mono_sec() + PURGE_EVERY;
	if (log->opts.keep_days == 0 || log->path == NULL)
		return;
	if ((err = evlog_rotated(log->path, &names, &n)) < 0) {
		log_warnx("events: retention: %s", sg_strerror(err));
		return;
	}
	cutoff = time(NULL) - (time_t)log->opts.keep_days * 86400;
	if ((s = calloc(n + 1, sizeof(*s))) == NULL ||
	    (gone = calloc(n + 1, sizeof(*gone))) == NULL ||
	    (held = calloc(n + 1, sizeof(*held))) == NULL)
		goto out;
	/* Only old files cost a scan, and only new ones since last time. */
	for (i = 0; i < n; i++)
		if (stat(names[i], &st) == 0 && st.st_mtime < cutoff &&
		    !in_list(log->held, log->nheld, names[i]))
			any = true;
	if (!any)
		goto out;
	for (i = 0; i < n; i++) {
		(void)scan(names[i], &s[i], &t);
		s[i].mtime = stat(names[i], &st) == 0 ? st.st_mtime :
		    (time_t)-1;
	}
	(void)scan(log->path, &cur, &t);
	scanned = true;
	for (i = 0; i < n; i++) {
		if (s[i].mtime == (time_t)-1 || s[i].mtime >= cutoff)
			continue;
		if (s[i].hold || held_by_target(&s[i], &t)) {
			if (!in_list(log->held, log->nheld, names[i]))
				log_info("events: %s is past retention but "
				    "holds a hold: kept", names[i]);
			held[nheld++] = names[i];
			continue;
		}
		if (unlink(names[i]) == -1) {
			log_warn("events: retention: %s", names[i]);
			continue;
		}
		gone[i] = true;
		store64(&log->st_purged, load64(&log->st_purged) + 1);
		log_info("events: %s deleted (older than %u days)", names[i],
		    log->opts.keep_days);
	}
	/* The current file: its first event, or the next one if empty. */
	if (cur.empty || !cur.first_ok) {
		cur.first_ok = cur.empty;
		cur.first_seq = log->seq + 1;
		memcpy(cur.first_prev, log->hash, EVLOG_HASH_HEX);
	}
	s[n] = cur;
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (!gone[i])
			continue;
		while (j < n && gone[j])
			j++;
		/* gone: i .. j-1; kept: i-1 (if any) and j (n: PATH) */
		if (i == 0)
			continue;
		whole = links(&s[i - 1], &s[i]);
		for (k = i; k < j && whole; k++)
			whole = links(&s[k], &s[k + 1]);
		if (!whole) {
			log_warnx("events: the deleted files after %s did not "
			    "chain: no purge event bridges them", names[i - 1]);
			continue;
		}
		len = own_body(log, body, sizeof(body), "log", "purged",
		    ",\"after\":%" PRIu64 ",\"after_hash\":\"%s\",\"before\":%"
		    PRIu64 ",\"before_prev\":\"%s\"", s[i - 1].last_seq,
		    s[i - 1].last_hash, s[j].first_seq, s[j].first_prev);
		/* With PATH empty, this is its first event: the far side. */
		(void)append(log, body, len, false);
	}
	(void)flush(log);
out:
	if (scanned) {
		/* Remember what holds kept, so they cost no scan hourly. */
		for (i = 0; i < log->nheld; i++)
			free(log->held[i]);
		free(log->held);
		log->held = NULL;
		log->nheld = 0;
		if (nheld > 0 && (log->held = calloc(nheld,
		    sizeof(char *))) != NULL)
			for (i = 0; i < nheld; i++)
				if ((log->held[log->nheld] =
				    strdup(held[i])) != NULL)
					log->nheld++;
	}
	free(t.v);
	free(s);
	free(gone);
	free(held);
	evlog_names_free(names, n);
}

/* ------------------------------------------------------------ recovery */

/*
 * Reads the end of fd (size bytes long) into *buf, more and more of it
 * until evlog_tail() finds an event or the whole file (up to TAIL_MAX) is
 * read.  0 or -errno.
 */
static int
read_tail(int fd, uint64_t size, struct evlog_tail *t)
{
	size_t want = TAIL_FIRST, n;
	ssize_t r;
	char *buf;

	memset(t, 0, sizeof(*t));
	for (;;) {
		n = size < want ? (size_t)size : want;
		if ((buf = malloc(n > 0 ? n : 1)) == NULL)
			return -ENOMEM;
		do
			r = pread(fd, buf, n, (off_t)(size - n));
		while (r == -1 && errno == EINTR);
		if (r < 0 || (size_t)r != n) {
			free(buf);
			return r < 0 ? -errno : -EIO;
		}
		evlog_tail(buf, n, n == size, t);
		free(buf);
		if (!t->need_more || want >= TAIL_MAX)
			return 0;
		want *= 4;
	}
}

/* The chain's end in the newest rotated file, if there is one. */
static void
chain_from_rotated(struct evlog *log)
{
	struct evlog_tail t;
	struct stat st;
	char **names;
	size_t n;
	int fd;

	log->seq = 0;
	memcpy(log->hash, ZERO_HASH, sizeof(log->hash));
	if (evlog_rotated(log->path, &names, &n) < 0 || n == 0)
		return;
	if ((fd = open(names[n - 1], O_RDONLY | O_CLOEXEC)) != -1 &&
	    fstat(fd, &st) == 0 && read_tail(fd, (uint64_t)st.st_size,
	    &t) == 0 && t.found) {
		log->seq = t.seq;
		memcpy(log->hash, t.hash, sizeof(log->hash));
		if (t.partial > 0)
			log_warnx("events: %s ends with a line cut short "
			    "(%zu bytes)", names[n - 1], t.partial);
		log_info("events: %s continues the chain of %s at seq %"
		    PRIu64, log->path, names[n - 1], log->seq + 1);
	} else
		log_warnx("events: no event at the end of %s: a new chain "
		    "starts at seq 1", names[n - 1]);
	if (fd != -1)
		close(fd);
	evlog_names_free(names, n);
}

/* The "recovered" event after a line cut short, its newline first. */
static void
tell_recovered(struct evlog *log, size_t partial)
{
	char body[512];
	size_t len;

	log_warnx("events %s: the last line was cut short (%zu bytes, no "
	    "newline), by a crash: a \"recovered\" event records it, and "
	    "the chain carries on from seq %" PRIu64, log->path, partial,
	    log->seq);
	batch_newline_first(log);	/* written with the event */
	len = own_body(log, body, sizeof(body), "log", "recovered",
	    ",\"length\":%zu", partial);
	(void)append(log, body, len, true);
	(void)flush(log);
}

/* Moves a file that holds no chain aside and starts PATH anew. */
static int
move_aside(struct evlog *log)
{
	char to[PATH_MAX];
	int fd, err;

	if ((err = aside_name(log, "unchained-", to, sizeof(to))) < 0 ||
	    rename(log->path, to) == -1) {
		err = err < 0 ? err : -errno;
		log_warnx("events %s: holds no event chain, and cannot be "
		    "moved aside (%s): appending to it", log->path,
		    sg_strerror(err));
		return 0;
	}
	if ((fd = open_file(log->path)) < 0)
		return fd;
	close(log->fd);
	log->fd = fd;
	log->size = 0;
	atomicfile_sync_dir(log->path);
	log_warnx("events %s: its end holds no event chain (a file of an "
	    "older safegate?): moved to %s, kept as it is", log->path, to);
	return 0;
}

static int
recover(struct evlog *log)
{
	struct evlog_tail t;
	struct stat st;
	int err;

	if (fstat(log->fd, &st) == -1)
		return -errno;
	log->size = (uint64_t)st.st_size;
	if (log->size == 0) {
		chain_from_rotated(log);
		return 0;
	}
	if ((err = read_tail(log->fd, log->size, &t)) < 0)
		return err;
	if (t.found) {
		log->seq = t.seq;
		memcpy(log->hash, t.hash, sizeof(log->hash));
		if (t.skipped > 0)
			log_warnx("events %s: %zu lines after the event of seq "
			    "%" PRIu64 " are not events (verify-log points at "
			    "them); the chain carries on from it", log->path,
			    t.skipped, t.seq);
	} else if (t.skipped == 0 && !t.need_more) {
		/* One line, cut short: the chain is the rotated files'. */
		chain_from_rotated(log);
	} else {
		if ((err = move_aside(log)) < 0)
			return err;
		chain_from_rotated(log);
		t.partial = 0;
	}
	batch_reset(log);
	if (t.partial > 0)
		tell_recovered(log, t.partial);
	return 0;
}

/* ---------------------------------------------------------- the loop */

static void request_done(struct evlog *log, struct request *q, int err,
	    uint64_t seq);

static void
handle_request(struct evlog *log, struct request *q)
{
	char body[8 * EVLOG_REASON_MAX + 256], reason[6 * EVLOG_REASON_MAX + 3];
	struct sbuf rb;
	struct evlog_tail t;
	struct stat st;
	uint64_t seq = 0, dropped;
	size_t len;
	int err;
	bool ours;
	char c;

	err = log->fault != 0 ? log->fault : flush(log);
	switch (q->op) {
	case REQ_SYNC:
		if (err == 0) {
			log->dirty = log->fd != -1;
			err = file_sync(log);
		}
		break;
	case REQ_HOLD:
		if (err < 0)
			break;	/* the file refuses: no hold written */
		if (log->fd == -1) {
			err = -EBADF;
			break;
		}
		if (q->target == 0 || q->target > log->seq) {
			err = -ERANGE;
			break;
		}
		sbuf_init(&rb, reason, sizeof(reason));
		sbuf_json_string(&rb, q->reason, strlen(q->reason));
		len = own_body(log, body, sizeof(body), "hold", "hold",
		    ",\"target\":%" PRIu64 ",\"reason\":%s,\"hold\":true",
		    q->target, reason);
		seq = append(log, body, len, true);
		if ((err = flush(log)) == 0 && seq == 0)
			err = -EIO;
		if (err < 0 && log->b.lines == 1 && log->b.done == 0) {
			/* Refused, so not written at all, as the caller is
			   told (the batch held the hold alone). */
			(void)batch_drop(log, false);
			store64(&log->st_held, held_events(log));
		}
		break;
	case REQ_REOPEN:
		/* What the old file refused goes to the new one. */
		if (log->fault == 0)
			(void)file_sync(log);
		if (log->b.done > 0)
			log_warnx("events %s: left with %zu bytes of a line "
			    "cut short", log->path, log->b.done);
		log->b.done = 0;
		if (log->fd != -1)
			close(log->fd);
		free(log->path);
		log->path = q->path;
		log->fd = q->fd;
		q->path = NULL;
		q->fd = -1;
		if (log->fault != 0)
			fault_end(log, false);	/* a new file, a new try */
		err = 0;
		if (log->fd == -1) {
			__atomic_store_n(&log->open, 0, __ATOMIC_RELEASE);
			if ((dropped = batch_drop(log, true)) > 0)
				log_warnx("events: closed, with %" PRIu64 " "
				    "events the file refused", dropped);
			else
				log_info("events: closed");
			break;
		}
		log->size = fstat(log->fd, &st) == 0 ? (uint64_t)st.st_size :
		    0;
		/* Back to a file whose end is this chain's: no news. */
		ours = log->size > 0 && read_tail(log->fd, log->size,
		    &t) == 0 && t.found && t.partial == 0 && t.skipped == 0 &&
		    t.seq == log->b.start_seq && memcmp(t.hash,
		    log->b.start_hash, EVLOG_HASH_HEX) == 0;
		if (log->size > 0 && !ours) {
			log_warnx("events %s: already holds events; the chain "
			    "carries on from seq %" PRIu64 " after them, and "
			    "verify-log will show where they join", log->path,
			    log->b.start_seq + 1);
			if (pread(log->fd, &c, 1, (off_t)log->size - 1) == 1 &&
			    c != '\n')
				batch_newline_first(log);
		}
		log->next_midnight = next_midnight(policy_now(log).tv_sec);
		log->day_start = this_midnight(policy_now(log).tv_sec);
		__atomic_store_n(&log->open, 1, __ATOMIC_RELEASE);
		len = own_body(log, body, sizeof(body), "log", "reopened",
		    "%s", "");
		seq = append(log, body, len, true);
		/* Moved: if the new file refuses too, the events wait. */
		(void)flush(log);
		log_info("events: now %s, from seq %" PRIu64, log->path, seq);
		break;
	}
	if (log->fault == 0)
		(void)file_sync(log);
	request_done(log, q, err, seq);
}

/*
 * Empties the ring without writing (the file refused to the end): its
 * events are counted as lost to errors, and a request in it is answered
 * with the file's error.  Returns how many events.
 */
static uint64_t
ring_drop(struct evlog *log)
{
	struct request *q;
	uint64_t n = 0;
	uint32_t word, len;
	uint8_t *hdr;
	size_t off, first;

	for (;;) {
		hdr = log->ring + (log->tail & (log->ring_size - 1));
		word = __atomic_load_n((uint32_t *)(void *)hdr,
		    __ATOMIC_ACQUIRE);
		if (!(word & REC_COMMITTED))
			break;
		memcpy(&len, hdr + 4, 4);
		if ((word & 0xff) == REC_REQUEST) {
			off = (size_t)((log->tail + 8) & (log->ring_size - 1));
			first = sizeof(q) < log->ring_size - off ? sizeof(q) :
			    log->ring_size - off;
			memcpy(&q, log->ring + off, first);
			memcpy((char *)&q + first, log->ring,
			    sizeof(q) - first);
			request_done(log, q, log->fault, 0);
		} else if ((word & 0xff) != REC_OBSERVE)
			n++;
		memset(hdr, 0, 4);
		log->tail += rec_total(len);
	}
	store64(&log->st_errors, load64(&log->st_errors) + n);
	return n;
}

/* Takes what the producers committed, in order.  Returns how many. */
static size_t
drain(struct evlog *log)
{
	uint64_t t = log->tail;
	struct request *q;
	uint32_t word, len;
	uint8_t *hdr;
	size_t total, off, first, room, n = 0;

	for (;;) {
		if (log->fault != 0)
			break;	/* held in the ring until a try works */
		hdr = log->ring + (t & (log->ring_size - 1));
		word = __atomic_load_n((uint32_t *)(void *)hdr,
		    __ATOMIC_ACQUIRE);
		if (!(word & REC_COMMITTED))
			break;
		memcpy(&len, hdr + 4, 4);
		total = rec_total(len);
		/* Room for what it writes, or it stays in the ring. */
		room = (word & 0xff) == REC_OBSERVE ? OBSERVE_ROOM :
		    (word & 0xff) == REC_REQUEST ? 0 : len + EVLOG_FRAME_MAX;
		if (log->b.len + room > BATCH_CAP && flush(log) < 0)
			break;
		/* The body, out of the ring whole (it may wrap). */
		off = (size_t)((t + 8) & (log->ring_size - 1));
		first = len < log->ring_size - off ? len : log->ring_size - off;
		memcpy(log->scratch, log->ring + off, first);
		memcpy(log->scratch + first, log->ring, len - first);
		/* Zeroed before the room goes back (see REC_COMMITTED). */
		off = (size_t)(t & (log->ring_size - 1));
		first = total < log->ring_size - off ? total :
		    log->ring_size - off;
		memset(log->ring + off, 0, first);
		memset(log->ring, 0, total - first);
		t += total;
		__atomic_store_n(&log->tail, t, __ATOMIC_RELEASE);
		n++;
		switch (word & 0xff) {
		case REC_EVENT:
		case REC_CRITICAL:
			(void)append(log, log->scratch, len,
			    (word & 0xff) == REC_CRITICAL);
			break;
		case REC_REQUEST:
			memcpy(&q, log->scratch, sizeof(q));
			handle_request(log, q);
			break;
		case REC_OBSERVE:
			if (log->hooks.observe != NULL)
				log->hooks.observe(log->hooks.arg, log,
				    log->scratch, len);
			break;
		}
	}
	return n;
}

static bool
ring_ready(struct evlog *log)
{
	uint8_t *hdr = log->ring + (log->tail & (log->ring_size - 1));

	return __atomic_load_n((uint32_t *)(void *)hdr, __ATOMIC_ACQUIRE) &
	    REC_COMMITTED;
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Timed work: the second's sync, midnight, retention, new settings. */
static void
periodic(struct evlog *log)
{
	struct timespec now;

	pthread_mutex_lock(&log->mu);
	if (log->opts_changed) {
		log->opts.rotate_bytes = log->new_opts.rotate_bytes;
		log->opts.rotate_daily = log->new_opts.rotate_daily;
		log->opts.keep_days = log->new_opts.keep_days;
		log->opts.clock_offset = log->new_opts.clock_offset;
		if (log->new_opts.sync_ms > 0)
			log->opts.sync_ms = log->new_opts.sync_ms;
		log->opts_changed = false;
		log->next_purge = 0;
	}
	pthread_mutex_unlock(&log->mu);
	if (log->fd == -1 || log->fault != 0)
		return;
	if (log->dirty && ms_since(&log->last_sync) >=
	    (long)log->opts.sync_ms && file_sync(log) < 0)
		return;
	now = policy_now(log);
	if (now.tv_sec >= log->next_midnight) {
		if (log->opts.rotate_daily && log->size > 0)
			(void)rotate(log);
		log->next_midnight = next_midnight(now.tv_sec);
		log->day_start = this_midnight(now.tv_sec);
	} else if (now.tv_sec < log->day_start) {
		/* The clock went back past midnight: the midnight to come
		   is the one after the new now, not the one we waited for. */
		log->next_midnight = next_midnight(now.tv_sec);
		log->day_start = this_midnight(now.tv_sec);
	}
	if (log->opts.keep_days > 0 && mono_sec() >= log->next_purge)
		purge(log);
}

static void
writer_wait(struct evlog *log)
{
	struct pollfd pfd = { log->efd, POLLIN, 0 };
	int64_t ms;
	uint64_t v;

	if (log->fault != 0) {
		/* Not "sleeping": producers need not kick a writer that
		   drains nothing until the next try. */
		ms = log->retry_at - mono_ms();
		ms = ms < 1 ? 1 : ms > 1000 ? 1000 : ms;
		if (!__atomic_load_n(&log->stop, __ATOMIC_ACQUIRE))
			(void)poll(&pfd, 1, (int)ms);
		if (read(log->efd, &v, sizeof(v)) == -1) {
			/* EAGAIN: nobody kicked */
		}
		return;
	}
	__atomic_store_n(&log->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!ring_ready(log) && !__atomic_load_n(&log->stop,
	    __ATOMIC_ACQUIRE) && load64(&log->lost_pending) == 0)
		(void)poll(&pfd, 1, (int)(log->opts.sync_ms < 1000 ?
		    log->opts.sync_ms : 1000));
	__atomic_store_n(&log->sleeping, 0, __ATOMIC_RELAXED);
	if (read(log->efd, &v, sizeof(v)) == -1) {
		/* EAGAIN: nobody kicked */
	}
}

/* A reopen the file's refusal put ahead of the queue (request()). */
static void
take_urgent(struct evlog *log)
{
	struct request *q;

	pthread_mutex_lock(&log->mu);
	q = log->urgent;
	log->urgent = NULL;
	pthread_mutex_unlock(&log->mu);
	if (q != NULL)
		handle_request(log, q);
}

/*
 * The last of it, at evlog_close(): everything queued is written and
 * synced; if the file refuses even one more try, what waits for it is
 * lost, and said so.
 */
static void
finish(struct evlog *log)
{
	uint64_t n;

	take_urgent(log);
	if (log->fault != 0)
		retry(log, true);
	if (log->fault == 0) {
		(void)drain(log);
		tell_lost(log);
		(void)flush(log);
		(void)file_sync(log);
	}
	if (log->fault == 0)
		return;
	n = batch_drop(log, true) + ring_drop(log);
	n += load64(&log->lost_pending) + log->fail_lost;
	log_warnx("events %s: %s: %" PRIu64 " events never written (the "
	    "file refused them to the end)", log->path, sg_strerror(log->fault),
	    n);
}

static void *
writer_main(void *arg)
{
	struct evlog *log = arg;

	for (;;) {
		take_urgent(log);
		if (log->fault != 0)
			retry(log, false);
		if (log->fault == 0) {
			(void)drain(log);
			tell_lost(log);
			(void)flush(log);
		}
		periodic(log);
		if (log->hooks.tick != NULL)
			log->hooks.tick(log->hooks.arg, log);
		if (__atomic_load_n(&log->stop, __ATOMIC_ACQUIRE) &&
		    (log->fault != 0 || !ring_ready(log)))
			break;
		if (log->fault != 0)
			store64(&log->st_held, held_events(log));
		writer_wait(log);
	}
	finish(log);
	return NULL;
}

/* ====================================================== the public face */

struct evlog *
evlog_open(const char *path, const struct evlog_opts *opts)
{
	struct evlog *log;
	size_t size;
	int err;

	/* aligned_alloc(): the ring's cursors sit on cache lines of their
	   own, which malloc() does not promise. */
	if ((log = aligned_alloc(64, (sizeof(*log) + 63) & ~(size_t)63)) ==
	    NULL)
		return NULL;
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->efd = -1;
	if (opts != NULL)
		log->opts = *opts;
	if (log->opts.sync_ms == 0)
		log->opts.sync_ms = 1000;
	size = log->opts.queue_bytes ? log->opts.queue_bytes :
	    EVLOG_QUEUE_DEFAULT;
	if (size < QUEUE_MIN)
		size = QUEUE_MIN;
	for (log->ring_size = QUEUE_MIN; log->ring_size < size;)
		log->ring_size *= 2;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	if ((log->ring = aligned_alloc(64, log->ring_size)) == NULL ||
	    (log->b.buf = malloc(BATCH_CAP + 1)) == NULL ||
	    (log->md = EVP_MD_CTX_new()) == NULL ||
	    (log->path = strdup(path)) == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	memset(log->ring, 0, log->ring_size);
	if ((log->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		err = -errno;
		goto fail;
	}
	if ((log->fd = open_file(path)) < 0) {
		err = log->fd;
		log->fd = -1;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &log->last_sync);
	if ((err = recover(log)) < 0)
		goto fail;
	if (log->b.len == 0)
		batch_reset(log);	/* else kept: the file refused it */
	store64(&log->st_seq, log->b.start_seq);
	log->next_midnight = next_midnight(policy_now(log).tv_sec);
	log->day_start = this_midnight(policy_now(log).tv_sec);
	if (log->opts.keep_days > 0)
		purge(log);
	log->open = 1;
	return log;
fail:
	evlog_close(log);
	errno = -err;
	return NULL;
}

int
evlog_start(struct evlog *log)
{
	sigset_t all, old;
	int err;

	if (log->started)
		return 0;
	/* The writer takes no signal: they are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&log->thread, NULL, writer_main, log);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		return -err;
	log->started = true;
	return 0;
}

void
evlog_close(struct evlog *log)
{
	uint64_t one = 1;
	size_t i;

	if (log == NULL)
		return;
	if (log->started) {
		__atomic_store_n(&log->stop, 1, __ATOMIC_RELEASE);
		(void)!write(log->efd, &one, sizeof(one));
		pthread_join(log->thread, NULL);
	} else if (log->ring != NULL && log->b.buf != NULL &&
	    log->md != NULL) {
		/* Never started: what was put is written all the same. */
		finish(log);
	}
	if (log->fd != -1)
		close(log->fd);
	if (log->efd != -1)
		close(log->efd);
	for (i = 0; i < log->nheld; i++)
		free(log->held[i]);
	free(log->held);
	EVP_MD_CTX_free(log->md);
	free(log->b.buf);
	free(log->ring);
	free(log->path);
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv);
	free(log);
}

/* Reserves room with one CAS, copies, commits.  0 or SG_ELIMIT. */
static int
ring_put(struct evlog *log, enum rec_type type, const void *p, size_t n)
{
	size_t total = rec_total(n), off, first;
	uint64_t h, t;
	uint32_t len = (uint32_t)n;
	uint8_t *hdr;

	h = __atomic_load_n(&log->head, __ATOMIC_RELAXED);
	do {
		t = __atomic_load_n(&log->tail, __ATOMIC_ACQUIRE);
		if (h + total - t > log->ring_size)
			return SG_ELIMIT;
	} while (!__atomic_compare_exchange_n(&log->head, &h, h + total, true,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	hdr = log->ring + (h & (log->ring_size - 1));
	memcpy(hdr + 4, &len, 4);
	off = (size_t)((h + 8) & (log->ring_size - 1));
	first = n < log->ring_size - off ? n : log->ring_size - off;
	memcpy(log->ring + off, p, first);
	memcpy(log->ring, (const uint8_t *)p + first, n - first);
	__atomic_store_n((uint32_t *)(void *)hdr, REC_COMMITTED | type,
	    __ATOMIC_RELEASE);
	return 0;
}

int
evlog_put(struct evlog *log, const struct event *ev)
{
	char body[EVLOG_LINE_MAX];
	int n;

	if (!__atomic_load_n(&log->open, __ATOMIC_ACQUIRE))
		return 0;
	if ((n = evlog_format(ev, body, sizeof(body))) < 0)
		return n;
	if (ring_put(log, evlog_critical(ev) ? REC_CRITICAL : REC_EVENT, body,
	    (size_t)n) == 0)
		return 0;
	__atomic_fetch_add(&log->lost_pending, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&log->lost_total, 1, __ATOMIC_RELAXED);
	return SG_ELIMIT;
}

int
evlog_observe(struct evlog *log, const void *obs, size_t len)
{
	if (!__atomic_load_n(&log->open, __ATOMIC_ACQUIRE) ||
	    log->hooks.observe == NULL)
		return 0;
	if (len > EVLOG_LINE_MAX)
		return SG_ELIMIT;
	if (ring_put(log, REC_OBSERVE, obs, len) == 0)
		return 0;
	__atomic_fetch_add(&log->lost_obs, 1, __ATOMIC_RELAXED);
	return SG_ELIMIT;
}

int
evlog_emit(struct evlog *log, const struct event *ev)
{
	char body[EVLOG_LINE_MAX];
	int n;

	if ((n = evlog_format(ev, body, sizeof(body))) < 0)
		return n;
	(void)append(log, body, (size_t)n, evlog_critical(ev));
	return 0;
}

void
evlog_set_hooks(struct evlog *log, const struct evlog_hooks *h)
{
	log->hooks = *h;
}

void
evlog_kick(struct evlog *log)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&log->sleeping, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&log->sleeping, 0, __ATOMIC_ACQ_REL))
		(void)!write(log->efd, &one, sizeof(one));
}

int
evlog_submit(struct evlog *log, const struct event *ev)
{
	int r = evlog_put(log, ev);

	evlog_kick(log);
	return r;
}

/* ------------------------------------------------ the main thread's asks */

static void
request_unref(struct evlog *log, struct request *q)
{
	bool last;

	pthread_mutex_lock(&log->mu);
	last = --q->refs == 0;
	pthread_mutex_unlock(&log->mu);
	if (!last)
		return;
	if (q->fd != -1)
		close(q->fd);
	free(q->path);
	free(q);
}

static void
request_done(struct evlog *log, struct request *q, int err, uint64_t seq)
{
	pthread_mutex_lock(&log->mu);
	q->done = true;
	q->err = err;
	q->seq = seq;
	pthread_cond_broadcast(&log->cv);
	pthread_mutex_unlock(&log->mu);
	request_unref(log, q);
}

/*
 * Queues q for the writer and waits until it is done.  Without a writer
 * thread (before evlog_start()), the caller does the writer's part.
 */
static int
request(struct evlog *log, struct request *q, uint64_t *seq)
{
	struct timespec until, pause = { 0, 1000 * 1000 };
	uint64_t one = 1;
	int err, tries;
	bool busy;

	q->refs = 2;
	if (!log->started) {
		(void)drain(log);
		handle_request(log, q);
	} else {
		for (tries = 0;; tries++) {
			/* The file refuses: no waiting behind the events it
			   holds up.  A reopen (to a file that may take them)
			   goes ahead of them; the rest fail. */
			err = __atomic_load_n(&log->refusing, __ATOMIC_ACQUIRE);
			if (err != 0 && q->op == REQ_REOPEN) {
				pthread_mutex_lock(&log->mu);
				if (!(busy = log->urgent != NULL))
					log->urgent = q;
				pthread_mutex_unlock(&log->mu);
				if (busy)
					err = -EBUSY;
				else {
					(void)!write(log->efd, &one,
					    sizeof(one));
					break;
				}
			}
			if (err != 0 || tries == REQUEST_WAIT_MS) {
				q->refs = 1;
				request_unref(log, q);
				return err != 0 ? err : -EAGAIN;
			}
			if (ring_put(log, REC_REQUEST, &q, sizeof(q)) == 0) {
				evlog_kick(log);
				break;
			}
			evlog_kick(log);
			nanosleep(&pause, NULL);
		}
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += REQUEST_WAIT_MS / 1000;
	pthread_mutex_lock(&log->mu);
	while (!q->done && pthread_cond_timedwait(&log->cv, &log->mu,
	    &until) != ETIMEDOUT)
		;
	err = q->done ? q->err : -ETIMEDOUT;
	if (seq != NULL)
		*seq = q->seq;
	pthread_mutex_unlock(&log->mu);
	request_unref(log, q);
	return err;
}

int
evlog_hold(struct evlog *log, uint64_t target, const char *reason,
    uint64_t *hold_seq)
{
	struct request *q;

	if (reason == NULL)
		reason = "";
	if (strlen(reason) > EVLOG_REASON_MAX)
		return -E2BIG;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -ENOMEM;
	q->op = REQ_HOLD;
	q->fd = -1;
	q->target = target;
	strcpy(q->reason, reason);
	return request(log, q, hold_seq);
}

int
evlog_sync(struct evlog *log)
{
	struct request *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -ENOMEM;
	q->op = REQ_SYNC;
	q->fd = -1;
	return request(log, q, NULL);
}

int
evlog_reopen(struct evlog *log, const char *path)
{
	struct request *q;
	int fd = -1;

	if (path != NULL && path[0] != '\0' && (fd = open_file(path)) < 0)
		return fd;
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		if (fd != -1)
			close(fd);
		return -ENOMEM;
	}
	q->op = REQ_REOPEN;
	q->fd = fd;
	if (fd != -1 && (q->path = strdup(path)) == NULL) {
		close(fd);
		free(q);
		return -ENOMEM;
	}
	return request(log, q, NULL);
}

void
evlog_set_opts(struct evlog *log, const struct evlog_opts *o)
{
	pthread_mutex_lock(&log->mu);
	log->new_opts = *o;
	log->opts_changed = true;
	pthread_mutex_unlock(&log->mu);
	if (!log->started)
		periodic(log);
}

void
evlog_get_stats(struct evlog *log, struct evlog_stats *st)
{
	st->written = load64(&log->st_written);
	st->errors = load64(&log->st_errors);
	st->lost = load64(&log->lost_total);
	st->observe_lost = load64(&log->lost_obs);
	st->rotations = load64(&log->st_rotations);
	st->purged = load64(&log->st_purged);
	st->seq = load64(&log->st_seq);
	st->write_errors = load64(&log->st_write_errors);
	st->outages = load64(&log->st_outages);
	st->held = load64(&log->st_held);
	st->queue_bytes = log->ring_size;
	st->queued_bytes = (size_t)(__atomic_load_n(&log->head,
	    __ATOMIC_ACQUIRE) - __atomic_load_n(&log->tail, __ATOMIC_ACQUIRE));
	st->refusing = __atomic_load_n(&log->refusing, __ATOMIC_ACQUIRE);
	st->refusing_ms = st->refusing == 0 ? 0 : (uint64_t)(mono_ms() -
	    __atomic_load_n(&log->st_fault_since, __ATOMIC_RELAXED));
}

/* ============================================================ verifying */

struct gap {
	uint64_t	 after, before;
	char		 after_hash[EVLOG_HASH_HEX + 1];
	char		 before_prev[EVLOG_HASH_HEX + 1];
	size_t		 file;
	uint64_t	 line;
	bool		 bridged;
	uint64_t	 events;	/* verified before it */
};

struct verifier {
	struct evlog_report *r;
	EVP_MD_CTX	*md;
	bool		 have;		/* a chain to link to */
	uint64_t	 seq;
	char		 hash[EVLOG_HASH_HEX + 1];
	size_t		 file;
	uint64_t	 line;
	bool		 first_in_file;
	bool		 stopped;
	/* a line that is no event, waiting for a "recovered" after it */
	bool		 bad;
	size_t		 bad_file;
	uint64_t	 bad_line;
	uint64_t	 bad_len;
	char		 bad_why[160];
	struct gap	 gaps[MAX_GAPS];
	size_t		 ngaps;
};

static void
verifier_init(struct verifier *v, struct evlog_report *r)
{
	memset(v, 0, sizeof(*v));
	memset(r, 0, sizeof(*r));
	v->r = r;
	v->md = EVP_MD_CTX_new();
}

/* Stops at the first bad line: an unbridged gap before it comes first. */
static void
verifier_fail(struct verifier *v, size_t file, uint64_t line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
verifier_fail(struct verifier *v, size_t file, uint64_t line,
    const char *fmt, ...)
{
	struct evlog_report *r = v->r;
	struct gap *g;
	va_list ap;
	size_t i;

	if (v->stopped)
		return;
	v->stopped = true;
	r->intact = false;
	for (i = 0; i < v->ngaps; i++) {
		g = &v->gaps[i];
		if (g->bridged)
			continue;
		r->file = g->file;
		r->line = g->line;
		r->events = g->events;
		r->last_seq = g->after;
		snprintf(r->why, sizeof(r->why), "the chain breaks between "
		    "files: this event (seq %" PRIu64 ") does not follow the "
		    "last one of the file before (seq %" PRIu64 "), and no "
		    "\"purged\" event bridges the gap", g->before, g->after);
		return;
	}
	r->file = file;
	r->line = line;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* A good event: it is the chain's new end. */
static void
accept_line(struct verifier *v, const struct evlog_line *l)
{
	struct evlog_report *r = v->r;
	struct gap *g;
	size_t i, n;

	if (r->events == 0) {
		r->first_seq = l->seq;
		n = l->ts_len < sizeof(r->first_ts) ? l->ts_len :
		    sizeof(r->first_ts) - 1;
		memcpy(r->first_ts, l->ts, n);
		r->first_ts[n] = '\0';
	}
	r->events++;
	r->last_seq = l->seq;
	n = l->ts_len < sizeof(r->last_ts) ? l->ts_len :
	    sizeof(r->last_ts) - 1;
	memcpy(r->last_ts, l->ts, n);
	r->last_ts[n] = '\0';
	r->holds += l->hold;
	if (evlog_line_is(l, "log", "lost"))
		r->lost += l->count;
	if (evlog_line_is(l, "log", "purged"))
		for (i = 0; i < v->ngaps; i++) {
			g = &v->gaps[i];
			if (!g->bridged && g->after == l->after &&
			    g->before == l->before &&
			    memcmp(g->after_hash, l->after_hash,
			    EVLOG_HASH_HEX) == 0 &&
			    memcmp(g->before_prev, l->before_prev,
			    EVLOG_HASH_HEX) == 0) {
				g->bridged = true;
				r->bridged++;
			}
		}
	v->have = true;
	v->seq = l->seq;
	memcpy(v->hash, l->hash, EVLOG_HASH_HEX);
	v->hash[EVLOG_HASH_HEX] = '\0';
}

static bool
follows(const struct verifier *v, const struct evlog_line *l)
{
	return memcmp(l->prev, v->hash, EVLOG_HASH_HEX) == 0 &&
	    l->seq == v->seq + 1;
}

static void
verifier_line(struct verifier *v, const char *line, size_t len, bool nl)
{
	struct evlog_line l;
	bool parsed, first = v->first_in_file;
	struct gap *g;

	if (v->stopped)
		return;
	v->line++;
	v->first_in_file = false;
	parsed = line != NULL && evlog_parse_line(line, len, &l) == 0;

	if (v->bad) {
		/* Only a "recovered" event of its length, in the chain,
		   excuses a line that is no event. */
		if (parsed && evlog_line_is(&l, "log", "recovered") &&
		    l.length == v->bad_len && line_hash_ok(v->md, line, &l) &&
		    (!v->have || follows(v, &l))) {
			v->bad = false;
			v->r->torn++;
			accept_line(v, &l);
			return;
		}
		verifier_fail(v, v->bad_file, v->bad_line, "%s", v->bad_why);
		return;
	}
	if (!parsed) {
		v->bad = true;
		v->bad_file = v->file;
		v->bad_line = v->line;
		v->bad_len = len;
		if (!nl)
			snprintf(v->bad_why, sizeof(v->bad_why), "cut short: "
			    "the last line has no newline (%zu bytes): a crash "
			    "or a truncation (safegated, when it next starts, "
			    "records a line a crash cut short)", len);
		else if (line == NULL)
			snprintf(v->bad_why, sizeof(v->bad_why), "not an "
			    "event: a line of %zu bytes, longer than any "
			    "event", len);
		else
			snprintf(v->bad_why, sizeof(v->bad_why), "not an "
			    "event: unparseable (seq, ts, kind, prev or hash "
			    "missing or malformed)");
		return;
	}
	if (!line_hash_ok(v->md, line, &l)) {
		verifier_fail(v, v->file, v->line, "bad hash: the line is "
		    "not what was written (seq %" PRIu64 ")", l.seq);
		return;
	}
	if (!v->have) {
		if (l.seq == 1 && memcmp(l.prev, ZERO_HASH,
		    EVLOG_HASH_HEX) != 0) {
			verifier_fail(v, v->file, v->line, "broken link: the "
			    "first event (seq 1) must have prev 0...0");
			return;
		}
	} else if (!follows(v, &l)) {
		if (first && v->ngaps < MAX_GAPS) {
			/* Between files: a later "purged" may bridge it. */
			g = &v->gaps[v->ngaps++];
			g->after = v->seq;
			g->before = l.seq;
			memcpy(g->after_hash, v->hash, sizeof(g->after_hash));
			memcpy(g->before_prev, l.prev, EVLOG_HASH_HEX);
			g->before_prev[EVLOG_HASH_HEX] = '\0';
			g->file = v->file;
			g->line = v->line;
			g->bridged = false;
			g->events = v->r->events;
		} else if (memcmp(l.prev, v->hash, EVLOG_HASH_HEX) != 0) {
			verifier_fail(v, v->file, v->line, "broken link: prev "
			    "is not the hash of the event before (seq %" PRIu64
			    ")%s", v->seq, l.seq != v->seq + 1 ?
			    "; and seq does not follow it" : "");
			return;
		} else {
			verifier_fail(v, v->file, v->line, "seq %" PRIu64
			    " does not follow seq %" PRIu64, l.seq, v->seq);
			return;
		}
	}
	accept_line(v, &l);
}

static void
verifier_file(struct verifier *v, size_t file)
{
	v->file = file;
	v->line = 0;
	v->first_in_file = true;
}

static void
verifier_end(struct verifier *v)
{
	size_t i;

	if (v->bad)
		verifier_fail(v, v->bad_file, v->bad_line, "%s", v->bad_why);
	/* verifier_fail() names the first unbridged gap itself. */
	for (i = 0; i < v->ngaps && !v->stopped; i++)
		if (!v->gaps[i].bridged)
			verifier_fail(v, 0, 0, "%s", "unbridged gap");
	v->r->intact = !v->stopped;
	EVP_MD_CTX_free(v->md);
}

int
evlog_verify(const char *const paths[], size_t n, struct evlog_report *r)
{
	struct verifier v;
	struct reader rd;
	const char *line;
	size_t i, len;
	bool nl;
	int err = 0;

	verifier_init(&v, r);
	for (i = 0; i < n && !v.stopped; i++) {
		if ((err = reader_open(&rd, paths[i])) < 0)
			break;
		verifier_file(&v, i);
		while (!v.stopped && reader_next(&rd, &line, &len, &nl, &err))
			verifier_line(&v, line, len, nl);
		reader_close(&rd);
		if (err < 0)
			break;
	}
	if (err < 0) {
		EVP_MD_CTX_free(v.md);
		memset(r, 0, sizeof(*r));
		r->file = i;
		snprintf(r->why, sizeof(r->why), "%s", sg_strerror(err));
		return err;
	}
	verifier_end(&v);
	return 0;
}

void
evlog_verify_mem(const char *const bufs[], const size_t lens[], size_t n,
    struct evlog_report *r)
{
	struct verifier v;
	struct reader rd;
	const char *line;
	size_t i, len;
	bool nl;
	int err = 0;

	verifier_init(&v, r);
	for (i = 0; i < n && !v.stopped; i++) {
		reader_mem(&rd, bufs[i], lens[i]);
		verifier_file(&v, i);
		while (!v.stopped && reader_next(&rd, &line, &len, &nl, &err))
			verifier_line(&v, line, len, nl);
	}
	verifier_end(&v);
}
