/*
 * safehosts.c - the safe hosts' addresses: one resolver thread, lock-free
 * readers.
 *
 * Every target has one published record and two query slots (A, AAAA)
 * that only the thread touches:
 *
 *   thread:  sh_query A ----+                        readers (any thread):
 *            sh_query AAAA -+--> sh_publish() --> sh_target.seq
 *                                  (writes both      sh_target.slot[0|1]
 *                                   copies in turn)      |
 *                                                        +--> sh_read()
 *
 * Publication is a "latch" (Linux's seqcount_latch): two copies of the
 * record and one sequence number whose low bit says which copy readers
 * use.  The single writer
 *
 *   1. stores seq+1 (release), then a release fence: readers move to
 *      copy 1, which holds the previous record, whole;
 *   2. writes copy 0 (relaxed atomic stores, word by word);
 *   3. stores seq+2 (release), then a release fence: readers move back
 *      to copy 0, now the new record, whole;
 *   4. writes copy 1 the same way, ready for the next update.
 *
 * A reader loads seq (acquire), copies the words of copy seq&1 (relaxed
 * loads), issues an acquire fence and loads seq again; it keeps the copy
 * only if seq has not moved.  The acquire load pairs with the release
 * store of that seq value, so the reader sees the copy as it was written
 * before the switch.  If the reader saw any word written after a later
 * switch, the acquire fence pairs with the release fence that preceded
 * that word and the second load sees the later seq: the copy is thrown
 * away and read again.  The copy selected is never the one being written,
 * so a reader never waits for the writer, even one that is descheduled
 * in the middle of an update; it reads again only if an update happened
 * during its read, and updates come at most a few times a second.  All
 * shared words are _Atomic, so there is no data race in the C11 sense
 * either.
 *
 * The answer parser is pure and separate (safehosts_parse_answer()): the
 * whole message is first checked by dns_parse(), which holds the rules for
 * owner names and section counts; names inside rdata (CNAME targets, the
 * SOA's names), which dns_parse() skips, are read with dns_read_name(),
 * the same reader under the same limits.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cursor.h"
#include "dns.h"
#include "log.h"
#include "safehosts.h"
#include "safesearch.h"

#define SH_MAX_TARGETS		16
#define SH_MAX_CHAIN		8	/* CNAME links followed */
#define SH_MAX_CNAMES		32	/* CNAME records looked at */
#define SH_TTL_MAX_WIRE		0x7fffffffu	/* RFC 2181 8 */
#define SH_EDNS_SIZE		1232
#define SH_BUF_LEN		65536
#define SH_REFRESH_PCT		80	/* asked again at 80% of TTL */
#define SH_TELL_MS		60000	/* news of failures: once a minute */

#define SH_DEF_MIN_TTL		30
#define SH_DEF_MAX_TTL		86400
#define SH_DEF_STALE		3600
#define SH_DEF_TIMEOUT_MS	2000
#define SH_DEF_RETRY_MIN_MS	1000
#define SH_DEF_RETRY_MAX_MS	60000

#define F_QR	0x8000
#define F_TC	0x0200
#define F_RD	0x0100

/* ------------------------------------------------------------- parser */

/* A name in wire form, uncompressed, ASCII lower case. */
struct sh_wname {
	uint8_t		b[DNS_NAME_MAX];
	size_t		len;
};

/*
 * Reads the name at c's position into out with dns_read_name(), leaving c
 * just past the name's bytes in place; folded to lower case, so that
 * names compare with memcmp().  On error c->err is set and out->len is 0.
 */
static void
sh_read_name(struct cursor *c, struct sh_wname *out)
{
	size_t i;

	out->len = dns_read_name(c, NULL, out->b);
	/* Length bytes are at most 63, below 'A': only letters change. */
	for (i = 0; i < out->len; i++)
		if (out->b[i] >= 'A' && out->b[i] <= 'Z')
			out->b[i] += 'a' - 'A';
}

/* The name at offset off of msg; its end in *end.  0 or an sg_err. */
static int
sh_name_at(const uint8_t *msg, size_t len, size_t off, struct sh_wname *out,
    size_t *end)
{
	struct cursor c;

	cursor_init(&c, msg, len);
	cursor_seek(&c, off);
	sh_read_name(&c, out);
	if (end != NULL)
		*end = c.pos;
	return c.err;
}

/* A text name ("a.b", trailing dot optional) in lower-case wire form. */
static int
sh_encode(const char *text, struct sh_wname *out)
{
	size_t i;

	if (text == NULL || (out->len = dns_name_encode(text, out->b)) == 0)
		return -EINVAL;		/* the root (no safe host), or bad */
	for (i = 0; i < out->len; i++)	/* length bytes are at most 63 */
		if (out->b[i] >= 'A' && out->b[i] <= 'Z')
			out->b[i] += 'a' - 'A';
	return 0;
}

static bool
sh_name_eq(const struct sh_wname *a, const struct sh_wname *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* One resource record, as offsets into the message. */
struct sh_rr {
	size_t		owner;
	uint16_t	type, class, rdlen;
	uint32_t	ttl;
	size_t		rdata;
};

/* Reads the record at c, leaving c past it; owner may be NULL. */
static int
sh_rr_next(struct cursor *c, struct sh_rr *rr, struct sh_wname *owner)
{
	struct sh_wname skip;

	rr->owner = c->pos;
	sh_read_name(c, owner != NULL ? owner : &skip);
	rr->type = cursor_u16(c);
	rr->class = cursor_u16(c);
	rr->ttl = cursor_u32(c);
	rr->rdlen = cursor_u16(c);
	rr->rdata = c->pos;
	cursor_skip(c, rr->rdlen);
	if (rr->ttl > SH_TTL_MAX_WIRE)
		rr->ttl = 0;
	return c->err;
}

/*
 * The negative TTL of the first SOA in the authority section at c (nscount
 * records): min(its TTL, its MINIMUM), RFC 2308 5; 0 with no SOA.
 */
static int
sh_negative_ttl(const uint8_t *msg, size_t len, struct cursor *c,
    unsigned nscount, uint32_t *ttl)
{
	struct sh_wname	 skip;
	struct sh_rr	 rr;
	struct cursor	 rc;
	uint32_t	 minimum;
	unsigned	 i;
	int		 err;

	*ttl = 0;
	for (i = 0; i < nscount; i++) {
		if ((err = sh_rr_next(c, &rr, NULL)) != 0)
			return err;
		if (rr.type != DNS_T_SOA || rr.class != DNS_C_IN)
			continue;
		cursor_init(&rc, msg, len);
		cursor_seek(&rc, rr.rdata);
		sh_read_name(&rc, &skip);	/* mname */
		sh_read_name(&rc, &skip);	/* rname */
		cursor_skip(&rc, 16);		/* serial .. expire */
		minimum = cursor_u32(&rc);
		if (rc.err != 0)
			return rc.err;
		if (rc.pos != rr.rdata + rr.rdlen)
			return SG_EMALFORMED;
		if (minimum > SH_TTL_MAX_WIRE)
			minimum = 0;
		*ttl = rr.ttl < minimum ? rr.ttl : minimum;
		return 0;
	}
	return 0;
}

static bool
sh_in_chain(const struct sh_wname *chain, size_t n, const struct sh_wname *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sh_name_eq(&chain[i], w))
			return true;
	return false;
}

int
safehosts_parse_answer(const uint8_t *msg, size_t len, uint16_t id,
    const char *qname, uint16_t qtype, struct sg_addr *out, size_t max,
    size_t *n, uint32_t *ttl)
{
	struct sh_wname	 chain[SH_MAX_CHAIN + 1], w;
	struct sh_rr	 rr, cname[SH_MAX_CNAMES];
	struct dns_msg	 m;
	struct cursor	 c;
	struct sg_addr	 a;
	uint16_t	 got_id, flags, qd, an, ns, t, cl;
	size_t		 ncname = 0, nchain = 1, answers_at, i, k, end;
	uint32_t	 min_ttl = UINT32_MAX;
	bool		 dup;
	int		 err;

	*n = 0;
	*ttl = 0;
	if (msg == NULL || (qtype != DNS_T_A && qtype != DNS_T_AAAA) ||
	    (out == NULL && max > 0) || sh_encode(qname, &chain[0]) != 0)
		return -EINVAL;

	/* Whose answer is it?  Only the header and the question. */
	cursor_init(&c, msg, len);
	got_id = cursor_u16(&c);
	flags = cursor_u16(&c);
	qd = cursor_u16(&c);
	an = cursor_u16(&c);
	ns = cursor_u16(&c);
	(void)cursor_u16(&c);			/* arcount */
	if (c.err != 0)
		return c.err;
	if (got_id != id || (flags & F_QR) == 0 || ((flags >> 11) & 0xf) != 0)
		return -EBADMSG;
	if (qd != 1)
		return -EBADMSG;
	sh_read_name(&c, &w);
	t = cursor_u16(&c);
	cl = cursor_u16(&c);
	if (c.err != 0)
		return c.err;
	if (!sh_name_eq(&w, &chain[0]) || t != qtype || cl != DNS_C_IN)
		return -EBADMSG;
	if ((flags & F_TC) != 0)
		return -EMSGSIZE;
	/* The rest as strictly as the packet path reads DNS. */
	if ((err = dns_parse(&m, msg, len)) != 0)
		return err;
	answers_at = c.pos;

	if ((flags & 0xf) != DNS_RCODE_NOERROR &&
	    (flags & 0xf) != DNS_RCODE_NXDOMAIN)
		return -EREMOTEIO;
	if ((flags & 0xf) == DNS_RCODE_NXDOMAIN) {
		for (i = 0; i < an; i++)
			if ((err = sh_rr_next(&c, &rr, NULL)) != 0)
				return err;
		err = sh_negative_ttl(msg, len, &c, ns, ttl);
		return err != 0 ? err : SG_ENOTFOUND;
	}

	/* Pass 1: check every record's rdata we use, note the CNAMEs. */
	for (i = 0; i < an; i++) {
		if ((err = sh_rr_next(&c, &rr, NULL)) != 0)
			return err;
		if (rr.class != DNS_C_IN)
			continue;
		if (rr.type == DNS_T_CNAME) {
			if ((err = sh_name_at(msg, len, rr.rdata, &w, &end)) !=
			    0)
				return err;
			if (end != rr.rdata + rr.rdlen)
				return SG_EMALFORMED;
			if (ncname < SH_MAX_CNAMES)
				cname[ncname++] = rr;
		} else if (rr.type == qtype &&
		    rr.rdlen != (qtype == DNS_T_A ? 4 : 16))
			return SG_EMALFORMED;
	}

	/* The chain from qname: the first CNAME owned by each link. */
	while (nchain <= SH_MAX_CHAIN) {
		for (k = 0; k < ncname; k++) {
			if ((err = sh_name_at(msg, len, cname[k].owner, &w,
			    NULL)) != 0)
				return err;
			if (sh_name_eq(&w, &chain[nchain - 1]))
				break;
		}
		if (k == ncname)
			break;
		if ((err = sh_name_at(msg, len, cname[k].rdata,
		    &chain[nchain], NULL)) != 0)
			return err;
		if (sh_in_chain(chain, nchain, &chain[nchain]))
			return SG_EMALFORMED;		/* a loop */
		if (cname[k].ttl < min_ttl)
			min_ttl = cname[k].ttl;
		nchain++;
	}

	/* Pass 2: the addresses owned by a name of the chain. */
	cursor_init(&c, msg, len);
	cursor_seek(&c, answers_at);
	for (i = 0; i < an; i++) {
		if ((err = sh_rr_next(&c, &rr, &w)) != 0)
			return err;
		if (rr.type != qtype || rr.class != DNS_C_IN ||
		    !sh_in_chain(chain, nchain, &w))
			continue;
		addr_set(&a, qtype == DNS_T_A ? AF_INET : AF_INET6,
		    msg + rr.rdata);
		for (k = 0, dup = false; k < *n && !dup; k++)
			dup = addr_equal(&out[k], &a);
		if (dup || *n >= max)
			continue;
		out[(*n)++] = a;
		if (rr.ttl < min_ttl)
			min_ttl = rr.ttl;
	}
	if (*n > 0) {
		*ttl = min_ttl;
		return 0;
	}
	err = sh_negative_ttl(msg, len, &c, ns, ttl);
	if (err != 0)
		*n = 0;
	return err;
}

uint32_t
safehosts_clamp_ttl(uint32_t ttl, uint32_t min_ttl, uint32_t max_ttl)
{
	if (ttl > max_ttl)
		ttl = max_ttl;
	if (ttl < min_ttl)
		ttl = min_ttl;
	return ttl;
}

/* ---------------------------------------------------------- published */

/* What readers see of one target; only uint32_t words (see the latch). */
struct sh_snap {
	uint32_t	n[2];		/* [0] IPv4, [1] IPv6 */
	uint32_t	exp_lo[2];	/* expiry, CLOCK_MONOTONIC ms */
	uint32_t	exp_hi[2];
	uint32_t	v4[SAFEHOSTS_MAX_PER_FAMILY];
	uint32_t	v6[SAFEHOSTS_MAX_PER_FAMILY][4];
};
#define SH_WORDS	(sizeof(struct sh_snap) / sizeof(uint32_t))
_Static_assert(sizeof(struct sh_snap) % sizeof(uint32_t) == 0,
    "sh_snap is whole words");

struct sh_target {
	const char		*name;		/* static, immutable */
	_Atomic uint32_t	 seq;		/* even: copy 0, odd: 1 */
	_Atomic uint32_t	 slot[2][SH_WORDS];
};

/* One name, one type: the thread's own, never read by readers. */
struct sh_query {
	struct sh_target	*t;
	uint16_t		 qtype;
	int			 fd;		/* -1: not waiting */
	uint16_t		 id;
	uint64_t		 due;		/* ms: send, or give up */
	unsigned		 attempt;	/* failed attempts in a row */
	const char		*why;		/* the last failure (static) */
	bool			 told;		/* its failing is in the log */
	struct sg_addr		 addrs[SAFEHOSTS_MAX_PER_FAMILY];
	size_t			 n;
	uint64_t		 expires;	/* ms; 0: nothing held */
};

struct safehosts {
	struct sh_target	 targets[SH_MAX_TARGETS];
	size_t			 ntargets;
	struct sh_query		 q[2 * SH_MAX_TARGETS];
	struct safehosts_opts	 o;
	uint32_t		 mark;
	bool			 use_mark;

	pthread_t		 thread;
	int			 wakefd;	/* eventfd: stop, resolver */
	pthread_mutex_t		 lock;	/* for the next three */
	bool			 stopping;
	bool			 changed;
	struct sockaddr_storage	 next_ss;

	struct sockaddr_storage	 ss;		/* the thread's */
	socklen_t		 sslen;

	/* the thread's: what the log was told of failures (sh_tell()) */
	unsigned		 nrecovered;	/* told, answered since */
	uint64_t		 warn_after, info_after;	/* ms */
	_Atomic uint64_t	 c_sent, c_answers, c_timeouts, c_bad,
				 c_failures, c_dropped;
	uint8_t			 buf[SH_BUF_LEN];	/* answers */
};

static void
sh_read(const struct sh_target *t, struct sh_snap *s)
{
	uint32_t	w[SH_WORDS], seq;
	size_t		i;

	for (;;) {
		seq = atomic_load_explicit(&t->seq, memory_order_acquire);
		for (i = 0; i < SH_WORDS; i++)
			w[i] = atomic_load_explicit(&t->slot[seq & 1][i],
			    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&t->seq, memory_order_relaxed) == seq)
			break;
	}
	memcpy(s, w, sizeof(*s));
}

/* The single writer: the thread (see the latch at the top). */
static void
sh_write(struct sh_target *t, const struct sh_snap *s)
{
	uint32_t	w[SH_WORDS], seq;
	size_t		i, k;

	memcpy(w, s, sizeof(w));
	seq = atomic_load_explicit(&t->seq, memory_order_relaxed);
	for (k = 0; k < 2; k++) {
		atomic_store_explicit(&t->seq, seq + 1 + (uint32_t)k,
		    memory_order_release);
		atomic_thread_fence(memory_order_release);
		for (i = 0; i < SH_WORDS; i++)
			atomic_store_explicit(&t->slot[k][i], w[i],
			    memory_order_relaxed);
	}
}

static uint64_t
sh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const struct sh_target *
sh_find(const struct safehosts *sh, const char *target)
{
	size_t i;

	if (sh == NULL || target == NULL)
		return NULL;
	for (i = 0; i < sh->ntargets; i++)
		if (sh->targets[i].name == target ||
		    strcmp(sh->targets[i].name, target) == 0)
			return &sh->targets[i];
	return NULL;
}

static uint64_t
sh_snap_exp(const struct sh_snap *s, int fam)
{
	return (uint64_t)s->exp_hi[fam] << 32 | s->exp_lo[fam];
}

size_t
safehosts_get(const struct safehosts *sh, const char *target,
    struct sg_addr *out, size_t max, uint32_t *ttl_left)
{
	const struct sh_target	*t = sh_find(sh, target);
	struct sh_snap		 s;
	uint64_t		 now = 0, exp, left, best = UINT64_MAX;
	size_t			 n = 0, i;
	int			 fam;

	if (ttl_left != NULL)
		*ttl_left = 0;
	if (t == NULL)
		return 0;
	sh_read(t, &s);
	if (ttl_left != NULL && s.n[0] + s.n[1] > 0)
		now = sh_now_ms();
	for (fam = 0; fam < 2; fam++) {
		if (s.n[fam] == 0)
			continue;
		for (i = 0; i < s.n[fam] && i < SAFEHOSTS_MAX_PER_FAMILY &&
		    n < max; i++, n++) {
			if (fam == 0)
				addr_set(&out[n], AF_INET, &s.v4[i]);
			else
				addr_set(&out[n], AF_INET6, s.v6[i]);
		}
		exp = sh_snap_exp(&s, fam);
		left = exp > now ? (exp - now + 999) / 1000 :
		    sh->o.min_ttl;
		if (left < best)
			best = left;
	}
	if (ttl_left != NULL && n > 0)
		*ttl_left = best > UINT32_MAX ? UINT32_MAX :
		    best == 0 ? 1 : (uint32_t)best;
	return n;
}

bool
safehosts_contains(const struct safehosts *sh, const char *target,
    const struct sg_addr *addr)
{
	const struct sh_target	*t = sh_find(sh, target);
	struct sh_snap		 s;
	size_t			 i;

	if (t == NULL || addr == NULL)
		return false;
	sh_read(t, &s);
	if (addr->family == AF_INET) {
		for (i = 0; i < s.n[0] && i < SAFEHOSTS_MAX_PER_FAMILY; i++)
			if (memcmp(&s.v4[i], addr->u.b, 4) == 0)
				return true;
	} else if (addr->family == AF_INET6) {
		for (i = 0; i < s.n[1] && i < SAFEHOSTS_MAX_PER_FAMILY; i++)
			if (memcmp(s.v6[i], addr->u.b, 16) == 0)
				return true;
	}
	return false;
}

bool
safehosts_known(const struct safehosts *sh, const char *target)
{
	const struct sh_target	*t = sh_find(sh, target);
	struct sh_snap		 s;

	if (t == NULL)
		return false;
	sh_read(t, &s);
	return s.n[0] + s.n[1] > 0;
}

/* Publishes target t from its two queries. */
static void
sh_publish(struct safehosts *sh, struct sh_target *t)
{
	struct sh_snap		 s;
	const struct sh_query	*q;
	size_t			 i, fam;

	memset(&s, 0, sizeof(s));
	for (fam = 0; fam < 2; fam++) {
		q = &sh->q[2 * (size_t)(t - sh->targets) + fam];
		s.n[fam] = (uint32_t)q->n;
		s.exp_lo[fam] = (uint32_t)q->expires;
		s.exp_hi[fam] = (uint32_t)(q->expires >> 32);
		for (i = 0; i < q->n; i++) {
			if (fam == 0)
				memcpy(&s.v4[i], q->addrs[i].u.b, 4);
			else
				memcpy(s.v6[i], q->addrs[i].u.b, 16);
		}
	}
	sh_write(t, &s);
}

/* ------------------------------------------------------------- thread */

static struct log_limit sh_log_limit = LOG_LIMIT_INIT;

static void
sh_count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint16_t
sh_random16(void)
{
	static _Thread_local uint64_t	x;
	uint16_t			v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == sizeof(v))
		return v;
	/* No entropy yet (early boot): splitmix64 from the clock. */
	if (x == 0)
		x = sh_now_ms() ^ (uint64_t)getpid() << 32 ^ (uintptr_t)&v;
	x += 0x9e3779b97f4a7c15ull;
	return (uint16_t)((x ^ x >> 31) * 0xbf58476d1ce4e5b9ull >> 48);
}

static bool
sh_from_resolver(const struct safehosts *sh,
    const struct sockaddr_storage *from, socklen_t len)
{
	const struct sockaddr_in	*a = (const void *)from;
	const struct sockaddr_in	*b = (const void *)&sh->ss;
	const struct sockaddr_in6	*a6 = (const void *)from;
	const struct sockaddr_in6	*b6 = (const void *)&sh->ss;

	if (len != sh->sslen || from->ss_family != sh->ss.ss_family)
		return false;
	if (from->ss_family == AF_INET)
		return a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

static void
sh_close(struct sh_query *q)
{
	if (q->fd != -1) {
		close(q->fd);
		q->fd = -1;
	}
}

static const char *
sh_qtype(const struct sh_query *q)
{
	return q->qtype == DNS_T_A ? "A" : "AAAA";
}

/*
 * An attempt failed (why, a static string, says how: for the log): the
 * next one after a backoff that doubles.  sh_tell() reports it.
 */
static void
sh_retry(struct safehosts *sh, struct sh_query *q, uint64_t now,
    const char *why)
{
	uint64_t delay = sh->o.retry_min_ms;
	unsigned i;

	q->why = why;
	if (log_debug_enabled())
		log_debug("safehosts: %s %s: %s (attempt %u)", q->t->name,
		    sh_qtype(q), why, q->attempt + 1);
	sh_close(q);
	for (i = 0; i < q->attempt && delay < sh->o.retry_max_ms; i++)
		delay *= 2;
	if (delay > sh->o.retry_max_ms)
		delay = sh->o.retry_max_ms;
	q->attempt++;
	q->due = now + delay;
}

static size_t
sh_build_query(const struct sh_query *q, uint8_t *b, size_t cap)
{
	struct sh_wname	w;
	size_t		len = 0;

	if (sh_encode(q->t->name, &w) != 0 ||
	    DNS_HDR_LEN + w.len + 4 + 11 > cap)
		return 0;
	b[len++] = (uint8_t)(q->id >> 8);
	b[len++] = (uint8_t)q->id;
	b[len++] = F_RD >> 8;
	b[len++] = 0;
	memcpy(b + len, "\0\1\0\0\0\0\0\1", 8);	/* qd 1, ar 1 (OPT) */
	len += 8;
	memcpy(b + len, w.b, w.len);
	len += w.len;
	b[len++] = 0;
	b[len++] = (uint8_t)q->qtype;
	b[len++] = 0;
	b[len++] = DNS_C_IN;
	/* OPT: root owner, type 41, class = UDP size, ttl 0, rdlen 0 */
	b[len++] = 0;
	b[len++] = 0;
	b[len++] = DNS_T_OPT;
	b[len++] = SH_EDNS_SIZE >> 8;
	b[len++] = SH_EDNS_SIZE & 0xff;
	memset(b + len, 0, 6);
	len += 6;
	return len;
}

static void
sh_send(struct safehosts *sh, struct sh_query *q, uint64_t now)
{
	uint8_t	msg[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	size_t	len;
	int	fd;

	q->id = sh_random16();
	if ((len = sh_build_query(q, msg, sizeof(msg))) == 0) {
		sh_count(&sh->c_failures);
		sh_retry(sh, q, now, "cannot build the query");
		return;
	}
	/* A fresh socket: the kernel picks a random source port. */
	fd = socket(sh->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (sh->use_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &sh->mark,
	    sizeof(sh->mark)) == -1 &&
	    log_ratelimited(&sh_log_limit, 0.1, 1, NULL))
		log_warn("safehosts: SO_MARK");
	/* Connected: the kernel takes datagrams from the resolver only. */
	if (connect(fd, (struct sockaddr *)&sh->ss, sh->sslen) == -1 ||
	    send(fd, msg, len, 0) != (ssize_t)len) {
		close(fd);
		goto fail;
	}
	sh_count(&sh->c_sent);
	q->fd = fd;
	q->due = now + sh->o.timeout_ms;
	return;
fail:
	if (log_ratelimited(&sh_log_limit, 0.1, 1, NULL))
		log_warn("safehosts: query for %s", q->t->name);
	sh_count(&sh->c_failures);
	sh_retry(sh, q, now, "cannot send the query");
}

/* Reads what q's socket holds; settles q on a usable answer. */
static void
sh_recv(struct safehosts *sh, struct sh_query *q, uint64_t now)
{
	struct sockaddr_storage	 from;
	struct sg_addr		 addrs[SAFEHOSTS_MAX_PER_FAMILY];
	socklen_t		 flen;
	ssize_t			 len;
	size_t			 n;
	uint32_t		 ttl;
	int			 err;

	while (q->fd != -1) {
		flen = sizeof(from);
		len = recvfrom(q->fd, sh->buf, sizeof(sh->buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (len == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ECONNREFUSED: nothing listens at the resolver */
			if (log_ratelimited(&sh_log_limit, 0.1, 1, NULL))
				log_warn("safehosts: answer for %s",
				    q->t->name);
			sh_count(&sh->c_failures);
			sh_retry(sh, q, now, "the resolver is unreachable");
			return;
		}
		if (!sh_from_resolver(sh, &from, flen)) {
			sh_count(&sh->c_bad);
			continue;
		}
		err = safehosts_parse_answer(sh->buf, (size_t)len, q->id,
		    q->t->name, q->qtype, addrs, SAFEHOSTS_MAX_PER_FAMILY, &n,
		    &ttl);
		switch (err) {
		case -EBADMSG:		/* not ours: wait on */
			sh_count(&sh->c_bad);
			continue;
		case 0:
		case SG_ENOTFOUND:
			break;
		case -EREMOTEIO:
			sh_count(&sh->c_failures);
			sh_retry(sh, q, now, "the resolver answers with an "
			    "error (SERVFAIL, REFUSED, ...)");
			return;
		default:
			if (log_ratelimited(&sh_log_limit, 0.1, 1, NULL))
				log_debug("safehosts: answer for %s: %s",
				    q->t->name, sg_strerror(err));
			sh_count(&sh->c_bad);
			sh_retry(sh, q, now, "a broken answer");
			return;
		}
		sh_count(&sh->c_answers);
		if (q->told) {
			q->told = false;
			sh->nrecovered++;
		}
		sh_close(q);
		ttl = safehosts_clamp_ttl(ttl, sh->o.min_ttl, sh->o.max_ttl);
		memcpy(q->addrs, addrs, n * sizeof(addrs[0]));
		q->n = n;
		q->attempt = 0;
		q->expires = now + (uint64_t)ttl * 1000;
		q->due = now + (uint64_t)ttl * 10 * SH_REFRESH_PCT;
		sh_publish(sh, q->t);
		if (log_debug_enabled())
			log_debug("safehosts: %s %s: %zu addresses, ttl %u",
			    q->t->name, sh_qtype(q), n, ttl);
		return;
	}
}

/* Sends what is due, gives up on what timed out, drops what is stale. */
static void
sh_tick(struct safehosts *sh, struct sh_query *q, uint64_t now)
{
	if (q->fd != -1 && now >= q->due) {
		sh_count(&sh->c_timeouts);
		sh_retry(sh, q, now, "no answer in time");
	}
	if (q->fd == -1 && now >= q->due)
		sh_send(sh, q, now);
	if (q->expires != 0 &&
	    now >= q->expires + (uint64_t)sh->o.stale_limit * 1000) {
		q->expires = 0;
		if (q->n == 0)		/* a negative answer that aged */
			return;
		log_info("safehosts: %s %s: no answer since it expired, "
		    "addresses dropped", q->t->name, sh_qtype(q));
		q->n = 0;
		sh_count(&sh->c_dropped);
		sh_publish(sh, q->t);
	}
}

/*
 * What the log hears of failures.  An upstream that is down fails every
 * name, A and AAAA, every few seconds: a line each would bury the log.
 * So lookups that started failing are told together, in one warning, and
 * the ones answered again after that in one line; each kind at most once
 * a minute (what comes in between waits for the next).  Returns when it
 * next has news to tell (ms), or UINT64_MAX.
 */
static uint64_t
sh_tell(struct safehosts *sh, uint64_t now)
{
	const struct sh_query	*eg = NULL;
	uint64_t		 next = UINT64_MAX;
	unsigned		 failing = 0, fresh = 0;
	size_t			 nq = 2 * sh->ntargets, i;

	for (i = 0; i < nq; i++) {
		if (sh->q[i].attempt == 0)
			continue;
		failing++;
		if (!sh->q[i].told && fresh++ == 0)
			eg = &sh->q[i];
	}
	if (fresh > 0 && now < sh->warn_after)
		next = sh->warn_after;
	else if (fresh > 0) {
		log_warnx("safehosts: %u of %zu lookups failing (%s %s: %s); "
		    "asking again with backoff (up to %us); what was known is "
		    "kept up to %us past its expiry", failing, nq,
		    eg->t->name, sh_qtype(eg), eg->why,
		    sh->o.retry_max_ms / 1000, sh->o.stale_limit);
		for (i = 0; i < nq; i++)
			if (sh->q[i].attempt > 0)
				sh->q[i].told = true;
		sh->warn_after = now + SH_TELL_MS;
	}
	if (sh->nrecovered > 0 && now < sh->info_after) {
		if (sh->info_after < next)
			next = sh->info_after;
	} else if (sh->nrecovered > 0) {
		log_info("safehosts: the resolver answers again (%u of %zu "
		    "lookups so far, %u failing)", sh->nrecovered, nq,
		    failing);
		sh->nrecovered = 0;
		sh->info_after = now + SH_TELL_MS;
	}
	return next;
}

static socklen_t
sh_sockaddr(const struct sg_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a == NULL || port == 0)
		return 0;
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->u.v4;
		return sizeof(*s4);
	}
	if (a->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->u.v6;
		return sizeof(*s6);
	}
	return 0;
}

static void *
sh_main(void *arg)
{
	struct safehosts	*sh = arg;
	struct pollfd		 pfd[1 + 2 * SH_MAX_TARGETS];
	struct sh_query		*who[1 + 2 * SH_MAX_TARGETS];
	sigset_t		 all;
	uint64_t		 now, next, v, drop;
	size_t			 nq = 2 * sh->ntargets, i, np;
	int			 timeout;
	bool			 stop, changed;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		stop = sh->stopping;
		changed = sh->changed;
		if (changed) {
			sh->ss = sh->next_ss;
			sh->sslen = sh->ss.ss_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6);
			sh->changed = false;
		}
		pthread_mutex_unlock(&sh->lock);
		if (stop)
			break;
		now = sh_now_ms();
		for (i = 0; i < nq; i++) {
			if (changed) {
				sh_close(&sh->q[i]);
				sh->q[i].attempt = 0;
				sh->q[i].due = now;
				sh->q[i].told = false;
			}
			sh_tick(sh, &sh->q[i], now);
		}
		if (changed)
			sh->nrecovered = 0;
		next = sh_tell(sh, now);

		pfd[0].fd = sh->wakefd;
		pfd[0].events = POLLIN;
		np = 1;
		for (i = 0; i < nq; i++) {
			if (sh->q[i].fd != -1) {
				pfd[np].fd = sh->q[i].fd;
				pfd[np].events = POLLIN;
				who[np++] = &sh->q[i];
			}
			if (sh->q[i].due < next)
				next = sh->q[i].due;
			drop = sh->q[i].expires +
			    (uint64_t)sh->o.stale_limit * 1000;
			if (sh->q[i].expires != 0 && drop < next)
				next = drop;
		}
		timeout = next == UINT64_MAX ? -1 : next <= now ? 0 :
		    next - now > 60000 ? 60000 : (int)(next - now);
		if (poll(pfd, np, timeout) == -1) {
			if (errno != EINTR)
				fatal("safehosts: poll");
			continue;
		}
		if (pfd[0].revents & POLLIN)
			(void)!read(sh->wakefd, &v, sizeof(v));
		now = sh_now_ms();
		for (i = 1; i < np; i++)
			if (pfd[i].revents != 0)
				sh_recv(sh, who[i], now);
	}
	for (i = 0; i < nq; i++)
		sh_close(&sh->q[i]);
	return NULL;
}

static void
sh_wake(struct safehosts *sh)
{
	uint64_t one = 1;

	(void)!write(sh->wakefd, &one, sizeof(one));
}

/* Whether SO_MARK can be set here; logs once when it cannot. */
static bool
sh_probe_mark(int family, uint32_t mark)
{
	int	fd, saved;
	bool	ok;

	if (mark == 0)
		return false;
	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return true;	/* try on each query, then */
	ok = setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0;
	saved = errno;
	close(fd);
	if (!ok && saved == EPERM)
		log_warnx("safehosts: cannot set SO_MARK 0x%x (needs "
		    "CAP_NET_ADMIN, or CAP_NET_RAW since Linux 5.17): queries "
		    "to the resolver go unmarked", mark);
	else if (!ok) {
		errno = saved;
		log_warn("safehosts: SO_MARK 0x%x: queries go unmarked", mark);
	}
	return ok;
}

struct safehosts *
safehosts_start(const struct sg_addr *resolver, uint16_t port, uint32_t mark,
    char *err, size_t errlen)
{
	return safehosts_start_opts(resolver, port, mark, NULL, err, errlen);
}

struct safehosts *
safehosts_start_opts(const struct sg_addr *resolver, uint16_t port,
    uint32_t mark, const struct safehosts_opts *opts, char *err,
    size_t errlen)
{
	struct safehosts	*sh;
	const char *const	*names;
	size_t			 n, i;
	int			 e;

	if (errlen > 0)
		err[0] = '\0';
	if (opts != NULL && opts->targets != NULL) {
		names = opts->targets;
		n = opts->ntargets;
	} else
		n = safesearch_targets(&names);
	if (n == 0 || n > SH_MAX_TARGETS) {
		snprintf(err, errlen, "safehosts: %zu targets (1..%d)", n,
		    SH_MAX_TARGETS);
		errno = EINVAL;
		return NULL;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL) {
		snprintf(err, errlen, "safehosts: %s", strerror(errno));
		return NULL;
	}
	if ((sh->sslen = sh_sockaddr(resolver, port, &sh->ss)) == 0) {
		snprintf(err, errlen, "safehosts: the resolver is not an "
		    "address and port");
		free(sh);
		errno = EINVAL;
		return NULL;
	}
	if (opts != NULL)
		sh->o = *opts;
	sh->o.targets = NULL;
	sh->o.ntargets = 0;
#define SH_DEFAULT(f, v)	if (sh->o.f == 0) sh->o.f = (v)
	SH_DEFAULT(min_ttl, SH_DEF_MIN_TTL);
	SH_DEFAULT(max_ttl, SH_DEF_MAX_TTL);
	SH_DEFAULT(stale_limit, SH_DEF_STALE);
	SH_DEFAULT(timeout_ms, SH_DEF_TIMEOUT_MS);
	SH_DEFAULT(retry_min_ms, SH_DEF_RETRY_MIN_MS);
	SH_DEFAULT(retry_max_ms, SH_DEF_RETRY_MAX_MS);
#undef SH_DEFAULT
	if (sh->o.max_ttl < sh->o.min_ttl)
		sh->o.max_ttl = sh->o.min_ttl;
	if (sh->o.retry_max_ms < sh->o.retry_min_ms)
		sh->o.retry_max_ms = sh->o.retry_min_ms;

	sh->ntargets = n;
	for (i = 0; i < n; i++) {
		sh->targets[i].name = names[i];
		sh->q[2 * i].t = sh->q[2 * i + 1].t = &sh->targets[i];
		sh->q[2 * i].qtype = DNS_T_A;
		sh->q[2 * i + 1].qtype = DNS_T_AAAA;
		sh->q[2 * i].fd = sh->q[2 * i + 1].fd = -1;
	}
	sh->mark = mark;
	sh->use_mark = sh_probe_mark(sh->ss.ss_family, mark);
	if ((e = pthread_mutex_init(&sh->lock, NULL)) != 0) {
		free(sh);
		snprintf(err, errlen, "safehosts: %s", strerror(e));
		errno = e;
		return NULL;
	}
	if ((sh->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		e = errno;
		goto fail;
	}
	if ((e = pthread_create(&sh->thread, NULL, sh_main, sh)) != 0) {
		close(sh->wakefd);
		goto fail;
	}
	return sh;
fail:
	pthread_mutex_destroy(&sh->lock);
	free(sh);
	snprintf(err, errlen, "safehosts: %s", strerror(e));
	errno = e;
	return NULL;
}

void
safehosts_stop(struct safehosts *sh)
{
	if (sh == NULL)
		return;
	pthread_mutex_lock(&sh->lock);
	sh->stopping = true;
	pthread_mutex_unlock(&sh->lock);
	sh_wake(sh);
	pthread_join(sh->thread, NULL);
	close(sh->wakefd);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

int
safehosts_set_resolver(struct safehosts *sh, const struct sg_addr *resolver,
    uint16_t port)
{
	struct sockaddr_storage ss;

	if (sh == NULL || sh_sockaddr(resolver, port, &ss) == 0)
		return -EINVAL;
	pthread_mutex_lock(&sh->lock);
	sh->next_ss = ss;
	sh->changed = true;
	pthread_mutex_unlock(&sh->lock);
	sh_wake(sh);
	return 0;
}

void
safehosts_get_stats(const struct safehosts *sh, struct safehosts_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (sh == NULL)
		return;
	st->sent = atomic_load_explicit(&sh->c_sent, memory_order_relaxed);
	st->answers = atomic_load_explicit(&sh->c_answers,
	    memory_order_relaxed);
	st->timeouts = atomic_load_explicit(&sh->c_timeouts,
	    memory_order_relaxed);
	st->bad = atomic_load_explicit(&sh->c_bad, memory_order_relaxed);
	st->failures = atomic_load_explicit(&sh->c_failures,
	    memory_order_relaxed);
	st->dropped = atomic_load_explicit(&sh->c_dropped,
	    memory_order_relaxed);
	st->marked = sh->use_mark;
}

void
safehosts_print_status(const struct safehosts *sh, FILE *fp)
{
	struct safehosts_stats	st;
	struct sg_addr		a[SAFEHOSTS_MAX];
	char			buf[ADDR_STRLEN];
	uint32_t		ttl;
	size_t			i, k, n;

	if (sh == NULL) {
		fprintf(fp, "safehosts: off\n");
		return;
	}
	safehosts_get_stats(sh, &st);
	fprintf(fp, "safehosts: sent %llu answers %llu timeouts %llu bad %llu "
	    "failures %llu dropped %llu mark %s\n",
	    (unsigned long long)st.sent, (unsigned long long)st.answers,
	    (unsigned long long)st.timeouts, (unsigned long long)st.bad,
	    (unsigned long long)st.failures, (unsigned long long)st.dropped,
	    st.marked ? "on" : "off");
	for (i = 0; i < sh->ntargets; i++) {
		n = safehosts_get(sh, sh->targets[i].name, a, SAFEHOSTS_MAX,
		    &ttl);
		fprintf(fp, "safehosts: %s ttl %u", sh->targets[i].name, ttl);
		if (n == 0)
			fprintf(fp, " none");
		for (k = 0; k < n; k++)
			fprintf(fp, " %s", addr_ntop(&a[k], buf, sizeof(buf)));
		fputc('\n', fp);
	}
}
