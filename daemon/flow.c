/*
 * flow.c - see flow.h.
 *
 * Design.  Most flows never get here for more than one packet: their
 * first data segment or datagram holds the whole ClientHello or request,
 * and it is read from the packet itself.  A flow gets a slot when it must
 * wait: on its SYN (to learn where its stream starts, so that segments can
 * be placed by sequence number whatever order they come in), or when its
 * first piece is not the whole name.  Slots hang off a chained hash of the
 * flow's addresses and ports, and on a list in the order they were made,
 * so the oldest are expired first, a few at each call.
 *
 *	bucket[h] -> slot -> slot		oldest ... newest
 *	              |                          (live list, or tomb list)
 *	              +-- tcp: isn, stream[16 KiB], have-bitmap   (allocated
 *	              +-- quic: struct quic_crypto (18 KiB)        on demand)
 *
 * The stream buffer is allocated only when a piece must be kept, and freed
 * as soon as the flow is named, refused or expired.  The number of slots
 * is capped, so the memory is too: max_flows * (16 KiB + 2 KiB) at most.
 *
 * A flow that expires with pieces kept (it began its name and stalled),
 * or gives way to another flow with pieces kept (flow.h), stays in its
 * bucket as a tomb: no buffers, on a list of its own, for FLOW_TOMB_LIFE
 * seconds, at most max_flows of them (the oldest goes first).  Its next
 * packet is refused.  Without the tomb that packet would be read as the
 * start of a stream (the rest of a ClientHello: neither TLS nor HTTP, so
 * "not ours", and settled) or of a new QUIC flow (a piece, passed), and
 * the server would get the whole hello unjudged.
 *
 * Devices (flow.h: each holds at most its share; when the table is full
 * the busiest gives way).  A device is found by its address in a chained
 * hash, and holds the list of its live slots, oldest first, so that its
 * oldest is found at once.  rank[] holds the devices with live slots,
 * busiest first, and above[c] says how many of them hold more than c; so
 * the busiest is rank[0], and a device that gains or loses a slot moves
 * by one swap, with the first (or last) of those holding as many as it
 * did, and one above[] count changes:
 *
 *	rank[]   [ d7 | d2 | d5 | d1 | d9 ]	n:  9  4  4  1  1
 *	above[]  0: 5, 1: 3, 2: 3, 3: 3, 4: 1, 5..8: 1
 *	d5 gains one: swapped with d2 (the first of the 4s), above[4] = 2
 *	d5 loses one: swapped with d5 (the last of the 4s), above[3] = 2
 *
 * Devices come from a pool of max_flows, taken once (a device holds a
 * slot, so no more can be in use) and touched only as they are first
 * used; above[] has one count per flow a device may hold.  A device with
 * no live slot left goes back to the pool: a tomb belongs to no device.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "flow.h"
#include "http.h"
#include "log.h"
#include "quic.h"

#define EXPIRE_PER_CALL	8	/* old slots dropped per call, at most */
#define FLOW_TOMB_LIFE	300	/* seconds a stalled flow is remembered:
				   longer than servers wait for a hello */
#define STREAM_MAX	TLS_HELLO_MAX

struct tcp_stream {
	uint8_t		 buf[STREAM_MAX];
	uint8_t		 have[STREAM_MAX / 8];
	size_t		 ready;		/* contiguous bytes from offset 0 */
};

enum { BY_AGE, BY_DEVICE };		/* the two lists a live slot is on */

struct device;

struct slot {
	struct slot	*next;		/* in its bucket */
	struct slot	*older[2], *newer[2];	/* on the table's age list (or
					   the tombs'), and its device's */
	struct device	*dev;		/* NULL for a tomb */
	uint8_t		 proto;
	struct sg_addr	 src, dst;
	uint16_t	 sport, dport;
	time_t		 born;
	unsigned	 packets;	/* seen since the slot was made */
	bool		 tomb;		/* expired waiting: refuse the next */
	uint32_t	 isn;		/* TCP: the stream starts at isn + 1 */
	uint32_t	 ack;		/* TCP: the client's last ack, the
					   server's next sequence number */
	bool		 acked;		/* ack is one */
	struct tcp_stream *tcp;		/* NULL until a piece is kept */
	struct quic_crypto *quic;	/* NULL until a piece is kept */
};

struct ages {
	struct slot	*oldest, *newest;
};

struct device {
	struct device	*next;		/* in its bucket, or in the pool */
	struct sg_addr	 addr;
	struct ages	 flows;		/* its live slots (BY_DEVICE) */
	size_t		 n;		/* how many: 1 .. share */
	size_t		 rank;		/* where it is in rank[] */
};

struct flow_table {
	struct slot	**bucket;
	size_t		 nbuckets;	/* a power of two; devices' too */
	uint64_t	 seed;		/* the hashes' secret: a device cannot
					   choose addresses that share a
					   bucket */
	size_t		 max;
	size_t		 share;		/* slots a device may hold */
	unsigned	 timeout;
	struct ages	 live, tombs;
	size_t		 ntombs;
	struct device	**dbucket;
	struct device	*devs;		/* [max], the pool */
	struct device	*dfree;		/* returned to it */
	size_t		 dused;		/* devs[] touched so far */
	struct device	**rank;		/* [max]: busiest first */
	size_t		*above;		/* [share]: devices holding more than
					   c slots; above[0], how many hold
					   any */
	struct flow_stats st;
	flow_gone_fn	*gone;		/* flow_table_on_gone() */
	void		*gone_arg;
};

static struct log_limit share_limit = LOG_LIMIT_INIT;
static struct log_limit full_limit = LOG_LIMIT_INIT;
static struct log_limit nomem_limit = LOG_LIMIT_INIT;

static const char *const kind_names[] = {
	[FLOW_KIND_TLS] = "tls", [FLOW_KIND_HTTP] = "http",
	[FLOW_KIND_QUIC] = "quic",
};

const char *
flow_kind_name(enum flow_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ?
	    kind_names[k] : "?";
}

/* ---------------------------------------------------------------- table */

struct flow_table *
flow_table_new(size_t max_flows, unsigned timeout)
{
	struct flow_table *t;
	size_t n = 16;

	if (max_flows == 0 || max_flows > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < max_flows * 2)
		n *= 2;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nbuckets = n;
	t->max = max_flows;
	t->share = max_flows / FLOW_SHARE_DIV;
	if (t->share < FLOW_SHARE_MIN)
		t->share = FLOW_SHARE_MIN;
	if (t->share > max_flows)
		t->share = max_flows;
	t->timeout = timeout;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ (uint64_t)time(NULL);
	if ((t->bucket = calloc(n, sizeof(*t->bucket))) == NULL ||
	    (t->dbucket = calloc(n, sizeof(*t->dbucket))) == NULL ||
	    (t->devs = calloc(max_flows, sizeof(*t->devs))) == NULL ||
	    (t->rank = calloc(max_flows, sizeof(*t->rank))) == NULL ||
	    (t->above = calloc(t->share, sizeof(*t->above))) == NULL) {
		flow_table_free(t);
		return NULL;
	}
	return t;
}

static void
slot_free(struct slot *s)
{
	free(s->tcp);
	free(s->quic);
	free(s);
}

void
flow_table_free(struct flow_table *t)
{
	struct slot *s, *next;

	if (t == NULL)
		return;
	for (s = t->live.oldest; s != NULL; s = next) {
		next = s->newer[BY_AGE];
		slot_free(s);
	}
	for (s = t->tombs.oldest; s != NULL; s = next) {
		next = s->newer[BY_AGE];
		slot_free(s);
	}
	free(t->bucket);
	free(t->dbucket);
	free(t->devs);
	free(t->rank);
	free(t->above);
	free(t);
}

void
flow_table_stats(const struct flow_table *t, struct flow_stats *st)
{
	*st = t->st;
	st->devices = t->above[0];
	st->tombs = t->ntombs;
}

static size_t
hash_tuple(const struct flow_table *t, uint8_t proto,
    const struct sg_addr *src, const struct sg_addr *dst, uint16_t sport,
    uint16_t dport)
{
	uint64_t h = 0xcbf29ce484222325ull ^ t->seed, w;
	size_t i, n = addr_len(src);

	for (i = 0; i < n; i++)
		h = (h ^ src->u.b[i]) * 0x100000001b3ull;
	for (i = 0; i < n; i++)
		h = (h ^ dst->u.b[i]) * 0x100000001b3ull;
	w = (uint64_t)sport << 24 | (uint64_t)dport << 8 | proto;
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (t->nbuckets - 1);
}

static size_t
hash(const struct flow_table *t, const struct packet *p)
{
	return hash_tuple(t, p->proto, &p->src, &p->dst, p->sport, p->dport);
}

static bool
same(const struct slot *s, const struct packet *p)
{
	return s->proto == p->proto && s->sport == p->sport &&
	    s->dport == p->dport && addr_equal(&s->src, &p->src) &&
	    addr_equal(&s->dst, &p->dst);
}

static struct slot *
find(struct flow_table *t, const struct packet *p)
{
	struct slot *s;

	for (s = t->bucket[hash(t, p)]; s != NULL; s = s->next)
		if (same(s, p))
			return s;
	return NULL;
}

/* k: which of the slot's two lists a is (BY_AGE, BY_DEVICE). */
static void
ages_remove(struct ages *a, struct slot *s, int k)
{
	if (s->older[k] != NULL)
		s->older[k]->newer[k] = s->newer[k];
	else
		a->oldest = s->newer[k];
	if (s->newer[k] != NULL)
		s->newer[k]->older[k] = s->older[k];
	else
		a->newest = s->older[k];
	s->older[k] = s->newer[k] = NULL;
}

static void
ages_append(struct ages *a, struct slot *s, int k)
{
	s->older[k] = a->newest;
	s->newer[k] = NULL;
	if (a->newest != NULL)
		a->newest->newer[k] = s;
	else
		a->oldest = s;
	a->newest = s;
}

/* ---------------------------------------------------------------- devices */

static size_t
hash_addr(const struct flow_table *t, const struct sg_addr *a)
{
	uint64_t h = 0xcbf29ce484222325ull ^ t->seed;
	size_t i, n = addr_len(a);

	for (i = 0; i < n; i++)
		h = (h ^ a->u.b[i]) * 0x100000001b3ull;
	h = (h ^ a->family) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (t->nbuckets - 1);
}

/* The device of this address, or NULL when it holds no slot. */
static struct device *
dev_find(const struct flow_table *t, const struct sg_addr *a)
{
	struct device *d;

	for (d = t->dbucket[hash_addr(t, a)]; d != NULL; d = d->next)
		if (addr_equal(&d->addr, a))
			return d;
	return NULL;
}

/* Puts d at rank[i], and what was there where d was. */
static void
rank_swap(struct flow_table *t, struct device *d, size_t i)
{
	struct device *o = t->rank[i];

	t->rank[d->rank] = o;
	o->rank = d->rank;
	t->rank[i] = d;
	d->rank = i;
}

/*
 * The device of this address, taken from the pool if it holds no slot:
 * the caller has made room for one more slot, so fewer than max devices
 * hold one, and the pool is never empty here.  It goes last in rank[].
 */
static struct device *
dev_get(struct flow_table *t, const struct sg_addr *a)
{
	struct device *d;
	size_t h;

	if ((d = dev_find(t, a)) != NULL)
		return d;
	if ((d = t->dfree) != NULL)
		t->dfree = d->next;
	else
		d = &t->devs[t->dused++];
	memset(d, 0, sizeof(*d));
	d->addr = *a;
	h = hash_addr(t, a);
	d->next = t->dbucket[h];
	t->dbucket[h] = d;
	d->rank = t->above[0];
	t->rank[d->rank] = d;
	return d;
}

/* A live slot joins its device, which holds fewer than its share: the
 * device goes first among those holding as many as it did (above). */
static void
dev_hold(struct flow_table *t, struct device *d, struct slot *s)
{
	rank_swap(t, d, t->above[d->n]);
	t->above[d->n]++;
	d->n++;
	s->dev = d;
	ages_append(&d->flows, s, BY_DEVICE);
}

/* A live slot leaves its device (it ends, or becomes a tomb): the device
 * goes last among those holding as many as it did, and back to the pool
 * when it holds none. */
static void
dev_release(struct flow_table *t, struct slot *s)
{
	struct device *d = s->dev, **pp;

	ages_remove(&d->flows, s, BY_DEVICE);
	s->dev = NULL;
	d->n--;
	t->above[d->n]--;
	rank_swap(t, d, t->above[d->n]);
	if (d->n > 0)
		return;
	for (pp = &t->dbucket[hash_addr(t, &d->addr)]; *pp != d;
	    pp = &(*pp)->next)
		;
	*pp = d->next;
	d->next = t->dfree;
	t->dfree = d;
}

static void
unlink_slot(struct flow_table *t, struct slot *s)
{
	struct slot **pp;

	for (pp = &t->bucket[hash_tuple(t, s->proto, &s->src, &s->dst,
	    s->sport, s->dport)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->tomb) {
		ages_remove(&t->tombs, s, BY_AGE);
		t->ntombs--;
	} else {
		ages_remove(&t->live, s, BY_AGE);
		dev_release(t, s);
		t->st.active--;
	}
	slot_free(s);
}

void
flow_table_on_gone(struct flow_table *t, flow_gone_fn *fn, void *arg)
{
	t->gone = fn;
	t->gone_arg = arg;
}

/* A flow that expired, or gave way, with pieces kept becomes a tomb (see
 * above), and the caller hears of it. */
static void
entomb(struct flow_table *t, struct slot *s, time_t now)
{
	if (t->gone != NULL) {
		struct flow_gone g = { s->proto, s->src, s->dst, s->sport,
		    s->dport, s->tcp != NULL ? s->isn + 1 +
		    (uint32_t)s->tcp->ready : 0, s->ack, s->acked };

		t->gone(t->gone_arg, &g);
	}
	if (t->ntombs >= t->max)
		unlink_slot(t, t->tombs.oldest);
	ages_remove(&t->live, s, BY_AGE);
	dev_release(t, s);
	t->st.active--;
	free(s->tcp);
	free(s->quic);
	s->tcp = NULL;
	s->quic = NULL;
	s->tomb = true;
	s->born = now;
	ages_append(&t->tombs, s, BY_AGE);
	t->ntombs++;
}

/* A live slot goes, for its timeout or to make room: with pieces of its
 * name kept it becomes a tomb, else nothing of it is kept. */
static void
drop(struct flow_table *t, struct slot *s, time_t now)
{
	if (s->tcp != NULL || s->quic != NULL)
		entomb(t, s, now);
	else
		unlink_slot(t, s);
}

/*
 * No slot for a flow from src: there was no memory for one.  The caller
 * answers FLOW_FULL, and fails the flow in the configured direction.
 */
static void
no_slot(struct flow_table *t, const struct sg_addr *src)
{
	char a[ADDR_STRLEN];
	uint64_t held;

	t->st.full++;
	if (log_ratelimited(&nomem_limit, 1, 1, &held))
		log_warnx("flows: no memory for a flow from %s to wait for "
		    "its name: failed in the configured direction (%" PRIu64
		    " so far%s%.0" PRIu64 "%s)", addr_ntop(src, a, sizeof(a)),
		    t->st.full, held ? "; " : "", held,
		    held ? " lines not logged" : "");
}

/*
 * Makes room for one more slot from src, when its device holds its share
 * or the table is full, by dropping the oldest flow of that device, or of
 * the busiest (flow.h).  The device may then hold none, and be gone.
 */
static void
make_room(struct flow_table *t, const struct sg_addr *src, time_t now)
{
	struct device *d = dev_find(t, src), *big;
	size_t n = d != NULL ? d->n : 0;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	uint64_t held;

	if (n >= t->share) {
		t->st.device_full++;
		if (log_ratelimited(&share_limit, 1, 1, &held))
			log_warnx("flows: %s holds its share, %zu flows "
			    "waiting for their names: its oldest gave way "
			    "(%" PRIu64 " so far%s%.0" PRIu64 "%s)",
			    addr_ntop(src, a, sizeof(a)), n,
			    t->st.device_full, held ? "; " : "", held,
			    held ? " lines not logged" : "");
		drop(t, d->flows.oldest, now);
		return;
	}
	if (t->st.active < t->max)
		return;
	t->st.full++;
	big = t->rank[0];
	if (big->n <= n)
		big = d;	/* none holds more than src's own device */
	if (log_ratelimited(&full_limit, 1, 1, &held))
		log_warnx("flows: table full, %zu flows from %zu devices "
		    "waiting for their names: the oldest of %s's %zu gave "
		    "way to one from %s (%" PRIu64 " so far%s%.0" PRIu64
		    "%s)", t->st.active, t->above[0], addr_ntop(&big->addr, a,
		    sizeof(a)), big->n, addr_ntop(src, b, sizeof(b)),
		    t->st.full, held ? "; " : "", held,
		    held ? " lines not logged" : "");
	drop(t, big->flows.oldest, now);
}

/* A slot for this packet's flow, or NULL (FLOW_FULL) without memory. */
static struct slot *
add(struct flow_table *t, const struct packet *p, time_t now)
{
	struct slot *s;
	size_t h;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		no_slot(t, &p->src);
		return NULL;
	}
	make_room(t, &p->src, now);
	s->proto = p->proto;
	s->src = p->src;
	s->dst = p->dst;
	s->sport = p->sport;
	s->dport = p->dport;
	s->born = now;
	h = hash(t, p);
	s->next = t->bucket[h];
	t->bucket[h] = s;
	ages_append(&t->live, s, BY_AGE);
	dev_hold(t, dev_get(t, &p->src), s);
	t->st.active++;
	t->st.created++;
	return s;
}

static void
expire(struct flow_table *t, time_t now)
{
	struct slot *s;
	unsigned n;

	for (n = 0; n < EXPIRE_PER_CALL && (s = t->live.oldest) != NULL &&
	    now - s->born >= (time_t)t->timeout; n++) {
		t->st.expired++;
		drop(t, s, now);
	}
	for (n = 0; n < EXPIRE_PER_CALL && (s = t->tombs.oldest) != NULL &&
	    now - s->born >= FLOW_TOMB_LIFE; n++)
		unlink_slot(t, s);
}

/*
 * The next packet of a flow that stalled: refused, and the tomb goes (the
 * caller settles the flow as refused).
 */
static void
refuse_tomb(struct flow_table *t, struct slot *s, struct flow_result *out)
{
	out->status = FLOW_MALFORMED;
	out->err = SG_ELIMIT;
	unlink_slot(t, s);
}

void
flow_forget(struct flow_table *t, const struct packet *p)
{
	struct slot *s;

	if (t != NULL && (s = find(t, p)) != NULL)
		unlink_slot(t, s);
}

/*
 * Counts one more packet of a waiting flow; at FLOW_PACKETS_MAX it is
 * refused (flow.h): the queue is about to stop showing us its packets,
 * and what it has not named by then would go on unjudged.  True when it
 * was refused (the slot is gone).
 */
static bool
too_many(struct flow_table *t, struct slot *s, struct flow_result *out)
{
	if (++s->packets < FLOW_PACKETS_MAX)
		return false;
	out->status = FLOW_MALFORMED;
	out->err = SG_ELIMIT;
	unlink_slot(t, s);
	return true;
}

/* ---------------------------------------------------------------- names */

/* Copies a name, lower case, one trailing dot dropped. */
static void
set_name(struct flow_result *out, const char *name, size_t len)
{
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len > TLS_NAME_MAX)
		len = TLS_NAME_MAX;
	for (i = 0; i < len; i++)
		out->name[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	out->name[len] = '\0';
	out->name_len = len;
	out->status = len > 0 ? FLOW_NAME : FLOW_NO_NAME;
}

static void
from_hello(int rc, const struct tls_hello *h, struct flow_result *out)
{
	switch (rc) {
	case 0:
		out->ech = h->ech;
		if (h->has_sni)
			set_name(out, h->sni, h->sni_len);
		else
			out->status = FLOW_NO_NAME;
		break;
	case SG_ETRUNC:
		out->status = FLOW_NEED_MORE;
		break;
	case SG_EUNSUPP:
		out->status = FLOW_NOT_OURS;
		break;
	default:
		out->status = FLOW_MALFORMED;
		out->err = rc;
		break;
	}
}

/* The name at the start of a TCP stream: TLS, HTTP, or neither. */
static void
read_stream(const uint8_t *buf, size_t len, struct flow_result *out)
{
	struct tls_hello hello;
	struct http_request req;
	int rc;

	if (buf[0] == 0x16) {
		out->kind = FLOW_KIND_TLS;
		from_hello(tls_client_hello_stream(buf, len, &hello), &hello,
		    out);
		return;
	}
	if (buf[0] >= 'A' && buf[0] <= 'Z') {
		out->kind = FLOW_KIND_HTTP;
		rc = http_request_host(buf, len, &req);
		if (rc == 0) {
			out->is_ip = req.is_ip;
			if (req.has_host)
				set_name(out, req.host, req.host_len);
			else
				out->status = FLOW_NO_NAME;
			return;
		}
		from_hello(rc, NULL, out);	/* the same codes */
		return;
	}
	out->status = FLOW_NOT_OURS;
}

/* ---------------------------------------------------------------- tcp */

/*
 * Puts a segment's data at its place in the slot's stream.  0, or
 * SG_ELIMIT past the cap, SG_EMALFORMED when it rewrites bytes already
 * there (a retransmission must carry the same bytes: different ones are
 * how a filter is fooled into reading one ClientHello while the server
 * reads another).
 */
static int
place(struct tcp_stream *ts, uint32_t off, const uint8_t *p, size_t len)
{
	size_t i;

	if (off >= STREAM_MAX || len > STREAM_MAX - off)
		return SG_ELIMIT;
	for (i = 0; i < len; i++) {
		size_t at = off + i;
		uint8_t bit = (uint8_t)(1u << (at & 7));

		if (ts->have[at >> 3] & bit) {
			if (ts->buf[at] != p[i])
				return SG_EMALFORMED;
			continue;
		}
		ts->buf[at] = p[i];
		ts->have[at >> 3] |= bit;
	}
	while (ts->ready < STREAM_MAX &&
	    (ts->have[ts->ready >> 3] & (1u << (ts->ready & 7))))
		ts->ready++;
	return 0;
}

static void
tcp_classify(struct flow_table *t, const struct packet *p, time_t now,
    struct flow_result *out)
{
	struct slot *s = t != NULL ? find(t, p) : NULL;
	uint32_t off, seq = p->seq;
	bool read = false;		/* read_stream() saw this piece alone */
	int rc;

	if (s != NULL && s->tomb &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
		/* A stalled flow: its data is refused, even with a FIN
		 * (an HTTP server answers a half-closed request); an
		 * empty FIN or RST only ends it.  A SYN is a new one. */
		if (p->payload_len == 0 &&
		    (p->tcp_flags & (TCP_RST | TCP_FIN))) {
			unlink_slot(t, s);
			out->status = FLOW_NO_PAYLOAD;
		} else
			refuse_tomb(t, s, out);
		return;
	}
	if (p->tcp_flags & (TCP_RST | TCP_FIN)) {
		if (s != NULL)
			unlink_slot(t, s);
		s = NULL;
		if (p->payload_len == 0) {
			out->status = FLOW_NO_PAYLOAD;
			return;
		}
	}
	if ((p->tcp_flags & TCP_SYN) && !(p->tcp_flags & TCP_ACK)) {
		/* A new connection: its stream starts at isn + 1.  Data on
		 * the SYN itself (TCP Fast Open) starts there too.  A SYN
		 * sent again with the same ISN is the same connection: its
		 * slot, and its count of packets, stay. */
		if (s != NULL && (s->tomb || s->isn != p->seq ||
		    s->tcp != NULL)) {
			unlink_slot(t, s);
			s = NULL;
		}
		if (s == NULL && t != NULL && (s = add(t, p, now)) != NULL)
			s->isn = p->seq;
		seq = p->seq + 1;
	}
	if (s != NULL && (p->tcp_flags & TCP_ACK)) {
		s->ack = p->ack;
		s->acked = true;
	}
	if (p->payload_len == 0) {
		out->status = FLOW_NO_PAYLOAD;
		if (s != NULL)
			(void)too_many(t, s, out);
		return;
	}
	if (s == NULL || (s->tcp == NULL && seq == s->isn + 1)) {
		/* The stream's first bytes (or, without a SYN seen, taken
		 * as such): the name is often whole in this one segment. */
		read_stream(p->payload, p->payload_len, out);
		read = true;
		if (out->status != FLOW_NEED_MORE) {
			if (s != NULL) {
				t->st.completed++;
				unlink_slot(t, s);
			}
			return;
		}
		if (s == NULL) {
			if (t == NULL || (s = add(t, p, now)) == NULL) {
				out->status = FLOW_FULL;
				return;
			}
			s->isn = seq - 1;
			s->ack = p->ack;
			s->acked = (p->tcp_flags & TCP_ACK) != 0;
		}
	}
	if (s->tcp == NULL && (s->tcp = calloc(1, sizeof(*s->tcp))) == NULL) {
		no_slot(t, &p->src);
		unlink_slot(t, s);
		out->status = FLOW_FULL;
		return;
	}
	off = seq - (s->isn + 1);
	if ((rc = place(s->tcp, off, p->payload, p->payload_len)) < 0) {
		out->status = FLOW_MALFORMED;
		out->err = rc;
		out->kind = s->tcp->ready > 0 && s->tcp->buf[0] != 0x16 ?
		    FLOW_KIND_HTTP : FLOW_KIND_TLS;
		unlink_slot(t, s);
		return;
	}
	if (s->tcp->ready == 0) {
		out->status = FLOW_NEED_MORE;	/* a later piece came first */
		out->kind = FLOW_KIND_TLS;
	} else if (!read || s->tcp->ready != p->payload_len) {
		/* else the same bytes, already read: more needed */
		read_stream(s->tcp->buf, s->tcp->ready, out);
		if (out->status == FLOW_NEED_MORE &&
		    s->tcp->ready == STREAM_MAX) {
			out->status = FLOW_MALFORMED;
			out->err = SG_ELIMIT;
		}
		if (out->status != FLOW_NEED_MORE) {
			t->st.completed++;
			unlink_slot(t, s);
			return;
		}
	}
	(void)too_many(t, s, out);
}

/* ---------------------------------------------------------------- quic */

static void
quic_classify(struct flow_table *t, const struct packet *p, time_t now,
    struct flow_result *out)
{
	struct slot *s = t != NULL ? find(t, p) : NULL;
	struct quic_crypto *qc, local;
	struct quic_info info;
	struct tls_hello hello;
	int rc;

	out->kind = FLOW_KIND_QUIC;
	if (p->payload_len == 0) {
		out->status = FLOW_NO_PAYLOAD;
		return;
	}
	if (s != NULL && s->tomb) {
		refuse_tomb(t, s, out);
		return;
	}
	if (s != NULL && s->quic != NULL)
		qc = s->quic;
	else {
		quic_crypto_init(&local);
		qc = &local;
	}
	rc = quic_initial_feed(qc, p->payload, p->payload_len, &info);
	out->quic_version = info.version;
	if (rc == SG_ENOTFOUND) {
		/* QUIC without an Initial (0-RTT or Handshake first, or a
		 * short header): the name may still come; keep nothing
		 * new, but count it against a flow already waiting. */
		out->status = FLOW_NEED_MORE;
		if (s != NULL)
			(void)too_many(t, s, out);
		return;
	}
	if (rc == SG_EUNSUPP) {
		out->status = FLOW_NOT_OURS;	/* not QUIC we read */
	} else if (rc < 0) {
		out->status = FLOW_MALFORMED;
		out->err = rc;
	} else
		from_hello(quic_client_hello(qc, &hello), &hello, out);
	if (out->status != FLOW_NEED_MORE) {
		if (s != NULL) {
			t->st.completed++;
			unlink_slot(t, s);
		}
		return;
	}
	/* Part of a ClientHello: keep it for the next Initial. */
	if (s == NULL && (t == NULL || (s = add(t, p, now)) == NULL)) {
		out->status = FLOW_FULL;
		return;
	}
	if (too_many(t, s, out))
		return;
	if (s->quic == NULL) {
		if ((s->quic = malloc(sizeof(*s->quic))) == NULL) {
			no_slot(t, &p->src);
			unlink_slot(t, s);
			out->status = FLOW_FULL;
			return;
		}
		*s->quic = local;
	}
}

void
flow_classify(struct flow_table *t, const struct packet *p, time_t now,
    struct flow_result *out)
{
	memset(out, 0, sizeof(*out));
	if (t != NULL)
		expire(t, now);
	if (p->proto == IPPROTO_UDP)
		quic_classify(t, p, now, out);
	else if (p->proto == IPPROTO_TCP)
		tcp_classify(t, p, now, out);
	else
		out->status = FLOW_NOT_OURS;
}
