/*
 * replay.c - see replay.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "config.h"
#include "replay.h"
#include "sbuf.h"
#include "snapshot.h"

/* ------------------------------------------------------------ the set */

/* A flow with its endpoints in a fixed order, so both directions match. */
struct flow_key {
	uint8_t		 proto;
	uint8_t		 family;
	uint16_t	 port[2];
	uint8_t		 addr[2][16];
};

#define NIL	SIZE_MAX

struct replay_flows {
	struct flow_key	*ring;		/* [max], in the order decided */
	size_t		*next;		/* [max], the bucket chain */
	size_t		*bucket;	/* [nbuckets], NIL when empty */
	size_t		 max, nbuckets;
	size_t		 head;		/* next ring slot to fill */
	size_t		 count;
};

/* false for a packet that is no flow of ours (a fragment, no ports). */
static bool
make_key(const struct packet *p, struct flow_key *k)
{
	size_t alen = addr_len(&p->src);
	int cmp;

	if (p->fragment || (p->proto != IPPROTO_TCP &&
	    p->proto != IPPROTO_UDP) || alen == 0)
		return false;
	memset(k, 0, sizeof(*k));
	k->proto = p->proto;
	k->family = p->src.family == AF_INET ? 4 : 6;
	cmp = memcmp(p->src.u.b, p->dst.u.b, alen);
	if (cmp < 0 || (cmp == 0 && p->sport <= p->dport)) {
		memcpy(k->addr[0], p->src.u.b, alen);
		memcpy(k->addr[1], p->dst.u.b, alen);
		k->port[0] = p->sport;
		k->port[1] = p->dport;
	} else {
		memcpy(k->addr[0], p->dst.u.b, alen);
		memcpy(k->addr[1], p->src.u.b, alen);
		k->port[0] = p->dport;
		k->port[1] = p->sport;
	}
	return true;
}

/* FNV-1a: the keys are not chosen to collide by anyone who gains by it
 * (a replay reads a file its user chose), and chains stay bounded. */
static size_t
key_hash(const struct flow_key *k, size_t nbuckets)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= b[i];
		h *= UINT64_C(1099511628211);
	}
	return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

struct replay_flows *
replay_flows_new(size_t max)
{
	struct replay_flows *s;
	size_t i;

	if (max == 0 || max > SIZE_MAX / 4) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->max = max;
	for (s->nbuckets = 1; s->nbuckets < 2 * max; s->nbuckets <<= 1)
		;
	s->ring = calloc(max, sizeof(*s->ring));
	s->next = calloc(max, sizeof(*s->next));
	s->bucket = calloc(s->nbuckets, sizeof(*s->bucket));
	if (s->ring == NULL || s->next == NULL || s->bucket == NULL) {
		replay_flows_free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < s->nbuckets; i++)
		s->bucket[i] = NIL;
	return s;
}

void
replay_flows_free(struct replay_flows *s)
{
	if (s == NULL)
		return;
	free(s->ring);
	free(s->next);
	free(s->bucket);
	free(s);
}

static bool
find(const struct replay_flows *s, const struct flow_key *k)
{
	size_t i;

	for (i = s->bucket[key_hash(k, s->nbuckets)]; i != NIL; i = s->next[i])
		if (memcmp(&s->ring[i], k, sizeof(*k)) == 0)
			return true;
	return false;
}

/* Unlinks ring slot i from its chain. */
static void
unlink_slot(struct replay_flows *s, size_t i)
{
	size_t *link = &s->bucket[key_hash(&s->ring[i], s->nbuckets)];

	while (*link != NIL && *link != i)
		link = &s->next[*link];
	if (*link == i)
		*link = s->next[i];
}

bool
replay_flows_add(struct replay_flows *s, const struct packet *p)
{
	struct flow_key k;
	bool evicted = false;
	size_t h, i;

	if (!make_key(p, &k) || find(s, &k))
		return false;
	i = s->head;
	if (s->count == s->max) {
		unlink_slot(s, i);
		evicted = true;
	} else
		s->count++;
	s->ring[i] = k;
	h = key_hash(&k, s->nbuckets);
	s->next[i] = s->bucket[h];
	s->bucket[h] = i;
	s->head = (i + 1) % s->max;
	return evicted;
}

bool
replay_flows_has(const struct replay_flows *s, const struct packet *p)
{
	struct flow_key k;

	return make_key(p, &k) && find(s, &k);
}

size_t
replay_flows_count(const struct replay_flows *s)
{
	return s->count;
}

/* ------------------------------------------------------ the writer */

/* Readable: printable ASCII as is, the rest (and '\') as \ooo, the way
 * tshark shows a name. */
static void
put_text(struct sbuf *b, const char *s, size_t n)
{
	unsigned char ch;
	size_t i;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '\\')
			sbuf_printf(b, "\\%03o", ch);
		else
			sbuf_bytes(b, (const char *)&ch, 1);
	}
}

static const char *
action_name(const struct pipeline_result *r)
{
	if (r->dec.action == ACTION_BLOCK)
		return "block";
	return r->drop ? "drop" : "allow";
}

static void
put_categories(struct sbuf *b, const struct snapshot *snap, uint64_t mask,
    bool json)
{
	bool first = true;
	unsigned i;

	for (i = 0; i < 64; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		if (!first)
			sbuf_str(b, ",");
		first = false;
		if (snap != NULL && i < snap->ncategories &&
		    snap->category_names[i] != NULL) {
			if (json)
				sbuf_json_string(b, snap->category_names[i],
				    strlen(snap->category_names[i]));
			else
				sbuf_str(b, snap->category_names[i]);
		} else
			sbuf_printf(b, json ? "\"#%u\"" : "#%u", i);
	}
	if (first && !json)
		sbuf_str(b, "-");
}

int
replay_format(const struct snapshot *snap, uint64_t frame,
    const struct pipeline_result *r, bool json, char *buf, size_t len)
{
	struct sbuf b;
	/* A root DNS name is "", a name; a flow without one has none. */
	bool has_name = r->req.name != NULL &&
	    (r->req.name_len > 0 || r->req.kind == REQ_DNS);
	bool no_sni = r->req.kind != REQ_DNS &&
	    r->flow.status == FLOW_NO_NAME;
	bool ech = r->req.kind != REQ_DNS && r->flow.ech;

	sbuf_init(&b, buf, len);
	if (json) {
		sbuf_printf(&b, "{\"frame\":%llu,\"kind\":\"%s\",\"name\":",
		    (unsigned long long)frame, policy_kind_name(r->req.kind));
		if (r->dec.confidential || !has_name)
			sbuf_str(&b, "null");
		else
			sbuf_json_string(&b, r->req.name, r->req.name_len);
		sbuf_printf(&b, ",\"action\":\"%s\",\"outcome\":\"%s\","
		    "\"categories\":[", action_name(r),
		    pipeline_outcome_name(r->outcome));
		put_categories(&b, snap, r->dec.matched, true);
		sbuf_str(&b, "]");
		if (ech)
			sbuf_str(&b, ",\"ech\":true");
		if (no_sni)
			sbuf_str(&b, ",\"no_sni\":true");
		sbuf_str(&b, "}\n");
	} else {
		sbuf_printf(&b, "%llu\t%s\t", (unsigned long long)frame,
		    policy_kind_name(r->req.kind));
		if (r->dec.confidential)
			sbuf_str(&b, "(confidential)");
		else if (!has_name)
			sbuf_str(&b, "-");
		else if (r->req.name_len == 0)
			sbuf_str(&b, "<root>");
		else
			put_text(&b, r->req.name, r->req.name_len);
		sbuf_printf(&b, "\t%s\t", action_name(r));
		put_categories(&b, snap, r->dec.matched, false);
		sbuf_printf(&b, "\t%s", pipeline_outcome_name(r->outcome));
		if (ech)
			sbuf_str(&b, "\tech");
		if (no_sni)
			sbuf_str(&b, "\tno_sni");
		sbuf_str(&b, "\n");
	}
	return b.overflow ? SG_ELIMIT : (int)b.len;
}

/* ------------------------------------------------------- the loop */

struct snapshot *
replay_snapshot(const char *config_path, const char *lists_dir,
    const char *lists_db, char *err, size_t errlen)
{
	struct config *cfg;

	if ((cfg = config_load(config_path, err, errlen)) == NULL)
		return NULL;
	/* A replay records nothing: without a path, snapshot_build()
	 * opens (and creates) no event log. */
	free(cfg->events_path);
	cfg->events_path = NULL;
	return snapshot_build(cfg, lists_dir, lists_db, err, errlen);
}

int
replay_file(const struct snapshot *snap, const char *path,
    const struct replay_opts *opts, FILE *out, struct replay_stats *st,
    char *err, size_t errlen)
{
	struct replay_stats local;
	struct replay_flows *decided = NULL;
	struct flow_table *ft = NULL;
	struct pipeline_result *r = NULL;
	struct pipeline_meta meta;
	struct capture_packet cp;
	struct capture *cap;
	struct packet pkt;
	char line[REPLAY_LINE_MAX];
	int rc = 0, n;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof(*st));
	if ((cap = capture_open_file(path, err, errlen)) == NULL)
		return -EINVAL;
	decided = replay_flows_new(opts->max_decided != 0 ?
	    opts->max_decided : REPLAY_DECIDED_DEFAULT);
	ft = flow_table_new(opts->max_flows != 0 ? opts->max_flows :
	    REPLAY_FLOWS_DEFAULT, opts->flow_timeout != 0 ?
	    opts->flow_timeout : REPLAY_FLOW_TIMEOUT);
	r = malloc(sizeof(*r));		/* ~4 KiB of forged packets */
	if (decided == NULL || ft == NULL || r == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s", sg_strerror(rc));
		goto out;
	}
	while ((n = capture_next(cap, &cp)) == 1) {
		st->packets++;
		/* What the connmark does live: a decided flow is not seen
		 * again.  (The pipeline parses the packet again: it must
		 * see exactly what a queue worker sees.) */
		if (packet_parse(&pkt, cp.data, cp.len) == 0 &&
		    replay_flows_has(decided, &pkt)) {
			st->decided_skipped++;
			continue;
		}
		memset(&meta, 0, sizeof(meta));
		meta.ts = cp.ts;
		meta.has_mac = cp.has_mac;
		memcpy(meta.mac, cp.mac, 6);
		meta.truncated = cp.truncated;
		meta.mono = cp.ts.tv_sec;	/* capture time runs the
						   timeouts */
		pipeline_run(snap, ft, &meta, cp.data, cp.len, r);
		st->outcomes[r->outcome < PL_OUTCOME_COUNT ? r->outcome : 0]++;
		if (r->settled) {
			st->settled++;
			if (replay_flows_add(decided, &r->pkt))
				st->decided_evicted++;
		}
		if (!r->decided)
			continue;
		st->decisions++;
		st->blocked += r->dec.action == ACTION_BLOCK;
		if ((n = replay_format(snap, cp.frame, r, opts->json, line,
		    sizeof(line))) < 0 ||
		    fwrite(line, 1, (size_t)n, out) != (size_t)n) {
			rc = n < 0 ? n : -EIO;
			snprintf(err, errlen, "frame %llu: %s",
			    (unsigned long long)cp.frame, n < 0 ?
			    sg_strerror(n) : "cannot write the output");
			goto out;
		}
	}
	if (n < 0) {
		rc = n;
		snprintf(err, errlen, "%s: after %llu packets: %s", path,
		    (unsigned long long)st->packets, sg_strerror(n));
	}
out:
	st->link_skipped = capture_skipped(cap);
	if (ft != NULL)
		flow_table_stats(ft, &st->flows);
	free(r);
	flow_table_free(ft);
	replay_flows_free(decided);
	capture_close(cap);
	return rc;
}
