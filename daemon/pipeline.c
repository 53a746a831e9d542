/*
 * pipeline.c - see pipeline.h.
 */
#include <netinet/in.h>
#include <string.h>

#include "cursor.h"
#include "pagelink.h"
#include "pipeline.h"
#include "safehosts.h"
#include "snapshot.h"

#define DNS_PORT	53
#define HTTP_PORT	80
#define HTTPS_PORT	443
#define DOT_PORT	853
#define SAFE_ADDRS_MAX	16

static const char *const outcome_names[PL_OUTCOME_COUNT] = {
	[PL_ACCEPT_NOT_DNS] = "accept_not_dns",
	[PL_ACCEPT_NO_PAYLOAD] = "accept_no_payload",
	[PL_ACCEPT_RESPONSE] = "accept_response",
	[PL_ACCEPT_NO_QUESTION] = "accept_no_question",
	[PL_ACCEPT_ALLOWED] = "accept_allowed",
	[PL_ACCEPT_PENDING] = "accept_pending",
	[PL_ACCEPT_NOT_OURS] = "accept_not_ours",
	[PL_ACCEPT_NO_SNI] = "accept_no_sni",
	[PL_ACCEPT_FLOW_FULL] = "accept_flow_full",
	[PL_DROP_MALFORMED] = "drop_malformed",
	[PL_DROP_FRAGMENT] = "drop_fragment",
	[PL_DROP_TCP_PARTIAL] = "drop_tcp_partial",
	[PL_DROP_BLOCKED] = "drop_blocked",
	[PL_DROP_BLOCKED_RESET] = "drop_blocked_reset",
	[PL_DROP_BLOCKED_QUIC] = "drop_blocked_quic",
	[PL_DROP_FLOW_FULL] = "drop_flow_full",
	[PL_DROP_QUIC_POLICY] = "drop_quic_policy",
	[PL_DROP_NO_SNI] = "drop_no_sni",
	[PL_DROP_SAFE_SEARCH] = "drop_safe_search",
	[PL_DROP_NODATA] = "drop_nodata",
	[PL_DROP_OUTSIDE_DNS] = "drop_outside_dns",
	[PL_DROP_DOT] = "drop_dot",
	[PL_DROP_BLOCKED_PAGE] = "drop_blocked_page",
	[PL_DROP_SEARCH_ADDRESS] = "drop_search_address",
};

const char *
pipeline_outcome_name(enum pipeline_outcome o)
{
	return o < PL_OUTCOME_COUNT ? outcome_names[o] : "?";
}

/*
 * Vendors' canary names: a browser or phone asks for one to learn whether
 * the network wants its encrypted DNS or relay switched off, and reads
 * only NXDOMAIN (or no address) as "yes".  An address such as 0.0.0.0
 * would read as "go ahead", so when a canary is blocked it is always
 * answered NXDOMAIN, whatever block_response says.
 */
static const char *const canaries[] = {
	"use-application-dns.net",	/* Firefox: DNS over HTTPS */
	"mask.icloud.com",		/* Apple: iCloud Private Relay */
	"mask-h2.icloud.com",
};

static bool
is_canary(const char *name, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++) {
		n = strlen(canaries[i]);
		if (len == n && memcmp(name, canaries[i], n) == 0)
			return true;
	}
	return false;
}

static void
set_outcome(struct pipeline_result *r, enum pipeline_outcome o)
{
	r->outcome = o;
	r->drop = o >= PL_DROP_MALFORMED;
}

enum verdict { V_ALLOW, V_BLOCK, V_ANSWER };

/*
 * Decides every question of one parsed query.  Returns V_BLOCK (r->req
 * and r->dec describe it) at the first blocked question; V_ANSWER when a
 * question is allowed but answered by policy (safe search, no data), and
 * it is the only one; otherwise V_ALLOW, r->req and r->dec describing the
 * last question.  Several questions with one to answer: SG_EUNSUPP.
 */
static int
decide_questions(const struct snapshot *snap, const struct pipeline_meta *meta,
    const struct dns_msg *msg, struct pipeline_result *r)
{
	bool answer = false;
	unsigned i;

	for (i = 0; i < msg->nquestions; i++) {
		const struct dns_question *q = &msg->q[i];

		memcpy(r->name, q->name, (size_t)q->name_len + 1);
		r->req.name = r->name;
		r->req.name_len = q->name_len;
		r->req.qtype = q->qtype;
		policy_decide(snap, meta->ov, &r->req, &r->dec);
		if (r->dec.action == ACTION_BLOCK)
			return V_BLOCK;
		if (r->dec.safe_target != NULL || r->dec.nodata) {
			if (msg->nquestions > 1)
				return SG_EUNSUPP;
			answer = true;
		}
	}
	return answer ? V_ANSWER : V_ALLOW;
}

/* The forged answer goes back from the resolver's address. */
static void
send_answer(struct pipeline_result *r, const uint8_t *answer, size_t alen)
{
	const struct packet *p = &r->pkt;
	int n;

	n = packet_build_udp(r->out[0].pkt, sizeof(r->out[0].pkt), &p->dst,
	    &p->src, p->dport, p->sport, answer, alen);
	if (n < 0) {
		r->err = n;
		return;
	}
	r->out[0].len = (size_t)n;
	r->nout = 1;
}

/* An allowed question answered by policy: safe search or no data. */
static void
dns_policy_answer(const struct snapshot *snap,
    const struct pipeline_meta *meta, const struct dns_msg *msg,
    struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	uint8_t answer[PACKET_FORGE_MAX];
	struct sg_addr addrs[SAFE_ADDRS_MAX];
	struct dns_cname_spec cs;
	struct dns_block_spec bs;
	uint32_t ttl = 0;
	size_t alen;

	if (r->dec.nodata) {
		set_outcome(r, PL_DROP_NODATA);
		r->action = "nodata";
		bs = snap->cfg->block;
		bs.mode = DNS_BLOCK_NULL;	/* HTTPS, SVCB: no data */
		r->err = dns_build_block(p->payload, p->payload_len, msg, &bs,
		    answer, sizeof(answer) - 48, &alen);
	} else {
		set_outcome(r, PL_DROP_SAFE_SEARCH);
		r->action = "safe-search";
		memset(&cs, 0, sizeof(cs));
		cs.target = r->dec.safe_target;
		cs.cname_ttl = snap->cfg->block.ttl;
		cs.addrs = addrs;
		cs.naddrs = safehosts_get(meta->sh, cs.target, addrs,
		    SAFE_ADDRS_MAX, &ttl);
		cs.addr_ttl = ttl;
		if (cs.naddrs > 0 && ttl < cs.cname_ttl)
			cs.cname_ttl = ttl;
		r->err = dns_build_cname(p->payload, p->payload_len, msg, &cs,
		    answer, sizeof(answer) - 48, &alen);
	}
	if (r->err < 0)
		return;	/* still dropped: the client retries, then fails */
	send_answer(r, answer, alen);
}

/* Refused by the profile, with the first question's name to record. */
static void
refuse_query(const struct dns_msg *msg, enum policy_reason why,
    struct pipeline_result *r)
{
	const struct dns_question *q = &msg->q[0];

	memcpy(r->name, q->name, (size_t)q->name_len + 1);
	r->req.name = r->name;
	r->req.name_len = q->name_len;
	r->req.qtype = q->qtype;
	memset(&r->dec, 0, sizeof(r->dec));
	r->dec.schedule = -1;
	r->dec.action = ACTION_BLOCK;
	r->dec.reason = why;
	r->decided = true;
}

static bool
outside_blocked(const struct snapshot *snap, const struct pipeline_meta *meta,
    const struct request *req)
{
	return meta->forwarded &&
	    snap->cfg->profiles[req->profile].outside_dns == OUTSIDE_DNS_BLOCK;
}

static void
dns_udp(const struct snapshot *snap, const struct pipeline_meta *meta,
    struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	uint8_t answer[PACKET_FORGE_MAX];
	struct dns_block_spec spec;
	struct dns_msg msg;
	size_t alen;
	int v;

	if ((r->err = dns_parse(&msg, p->payload, p->payload_len)) < 0) {
		set_outcome(r, PL_DROP_MALFORMED);
		return;
	}
	if (msg.qr) {
		set_outcome(r, PL_ACCEPT_RESPONSE);
		return;
	}
	if (msg.nquestions == 0) {
		set_outcome(r, PL_ACCEPT_NO_QUESTION);
		return;
	}
	if (outside_blocked(snap, meta, &r->req)) {
		refuse_query(&msg, REASON_OUTSIDE_DNS, r);
		set_outcome(r, PL_DROP_OUTSIDE_DNS);
		r->action = "drop";
		return;
	}
	r->decided = true;
	if ((v = decide_questions(snap, meta, &msg, r)) < 0) {
		r->err = v;
		set_outcome(r, PL_DROP_MALFORMED);
		return;
	}
	if (v == V_ALLOW) {
		set_outcome(r, PL_ACCEPT_ALLOWED);
		return;
	}
	if (v == V_ANSWER) {
		dns_policy_answer(snap, meta, &msg, r);
		return;
	}
	/* Blocked: answer in the resolver's name, drop the query. */
	set_outcome(r, PL_DROP_BLOCKED);
	spec = snap->cfg->block;
	if (is_canary(r->req.name, r->req.name_len))
		spec.mode = DNS_BLOCK_NXDOMAIN;
	r->action = config_block_mode_name(spec.mode);
	r->err = dns_build_block(p->payload, p->payload_len, &msg, &spec,
	    answer, sizeof(answer) - 48, &alen);
	if (r->err < 0)
		return;	/* still dropped: the client retries, then fails */
	send_answer(r, answer, alen);
}

/* out[1]: a reset to the server, which never saw the segment; out[0]
 * holds what the client gets. */
static void
reset_server(struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	int n;

	n = packet_build_tcp(r->out[1].pkt, sizeof(r->out[1].pkt), &p->src,
	    &p->dst, p->sport, p->dport, p->seq, 0, TCP_RST);
	if (n < 0) {
		r->err = n;
		r->nout = 1;
		return;
	}
	r->out[1].len = (size_t)n;
	r->nout = 2;
}

/* A reset each way: the client stops waiting, the server lets go. */
static void
tcp_resets(struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	int n;

	/* A SYN counts one: a client in SYN-SENT takes only a reset that
	 * acknowledges it (refused DoT is judged on its SYN). */
	n = packet_build_tcp(r->out[0].pkt, sizeof(r->out[0].pkt), &p->dst,
	    &p->src, p->dport, p->sport, p->ack,
	    p->seq + (uint32_t)p->payload_len +
	    (p->tcp_flags & TCP_SYN ? 1 : 0), TCP_RST | TCP_ACK);
	if (n < 0) {
		r->err = n;
		return;
	}
	r->out[0].len = (size_t)n;
	reset_server(r);
}

/*
 * DNS over TCP: the segment must hold whole messages, each with its
 * two-byte length.  Every message is checked; one blocked question resets
 * the connection.  Data that is not whole messages is dropped: we have no
 * stream reassembly yet, and a partial query is one we cannot judge.
 */
static void
dns_tcp(const struct snapshot *snap, const struct pipeline_meta *meta,
    struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	struct cursor c, m;
	struct dns_msg msg;
	bool any_query = false;
	size_t len;
	int v;

	cursor_init(&c, p->payload, p->payload_len);
	while (cursor_left(&c) > 0) {
		len = cursor_u16(&c);
		m = cursor_sub(&c, len);
		if (c.err || len == 0) {
			r->err = c.err ? c.err : SG_EMALFORMED;
			set_outcome(r, PL_DROP_TCP_PARTIAL);
			return;
		}
		if ((r->err = dns_parse(&msg, m.base, m.len)) < 0) {
			set_outcome(r, PL_DROP_MALFORMED);
			return;
		}
		if (msg.qr || msg.nquestions == 0)
			continue;
		any_query = true;
		r->decided = true;
		if (outside_blocked(snap, meta, &r->req)) {
			refuse_query(&msg, REASON_OUTSIDE_DNS, r);
			set_outcome(r, PL_DROP_OUTSIDE_DNS);
			r->action = "reset";
			tcp_resets(r);
			return;
		}
		if ((v = decide_questions(snap, meta, &msg, r)) < 0) {
			r->err = v;
			set_outcome(r, PL_DROP_MALFORMED);
			tcp_resets(r);
			return;
		}
		if (v == V_ANSWER) {
			/* No answer can be forged into the stream. */
			set_outcome(r, r->dec.nodata ? PL_DROP_NODATA :
			    PL_DROP_SAFE_SEARCH);
			r->action = "reset";
			tcp_resets(r);
			return;
		}
		if (v == V_BLOCK) {
			set_outcome(r, PL_DROP_BLOCKED_RESET);
			r->action = "reset";
			tcp_resets(r);
			return;
		}
	}
	set_outcome(r, any_query ? PL_ACCEPT_ALLOWED : PL_ACCEPT_RESPONSE);
}

/* A refused connection: TCP reset both ways, UDP dropped. */
static void
refuse(struct pipeline_result *r, enum pipeline_outcome tcp,
    enum pipeline_outcome udp)
{
	if (r->pkt.proto == IPPROTO_TCP) {
		set_outcome(r, tcp);
		r->action = "reset";
		tcp_resets(r);
	} else {
		set_outcome(r, udp);
		r->action = "drop";
	}
}

/*
 * Safe search on, and the connection names a search host but goes to an
 * address that is not its safe host's: the DNS rewrite was gone around
 * (another resolver, DoH, a hard-coded address).  Only judged once the
 * safe host's addresses are known.
 */
static bool
search_elsewhere(const struct snapshot *snap, const struct pipeline_meta *meta,
    const struct pipeline_result *r)
{
	const char *target;

	if ((target = policy_safe_target(snap, &r->req)) == NULL ||
	    !safehosts_known(meta->sh, target))
		return false;
	return !safehosts_contains(meta->sh, target, &r->pkt.dst);
}

static const enum request_kind req_kinds[] = {
	[FLOW_KIND_TLS] = REQ_TLS, [FLOW_KIND_HTTP] = REQ_HTTP,
	[FLOW_KIND_QUIC] = REQ_QUIC,
};

/*
 * A blocked plain-HTTP request, on the segment that completed its name: in
 * the server's name, one segment to the client with a whole 302 answer to
 * the block page and FIN, acknowledging everything the client sent; the
 * server is reset as for any block (pagelink.h).  False when no answer
 * can be made (no page address, a name too long): reset instead.
 */
static bool
to_page(const struct pipeline_meta *meta, struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	char answer[PAGELINK_ANSWER_MAX];
	int alen, n;

	alen = pagelink_answer(meta->page, &p->src, r->req.name,
	    r->req.name_len, r->dec.confidential, meta->ts.tv_sec, answer,
	    sizeof(answer));
	if (alen < 0)
		return false;
	n = packet_build_tcp_data(r->out[0].pkt, sizeof(r->out[0].pkt),
	    &p->dst, &p->src, p->dport, p->sport, p->ack,
	    p->seq + (uint32_t)p->payload_len, TCP_PSH | TCP_ACK | TCP_FIN,
	    answer, (size_t)alen);
	if (n < 0)
		return false;
	r->out[0].len = (size_t)n;
	reset_server(r);
	set_outcome(r, PL_DROP_BLOCKED_PAGE);
	r->action = "redirect";
	return true;
}

/*
 * The first packets of a connection: its name, once whole, is judged as a
 * DNS name is.  A blocked TCP connection is reset (the segment that
 * completed the name is dropped, so the server never reads it whole); a
 * blocked QUIC connection is dropped.  Whatever is decided settles the
 * connection, so that its later packets stay in the kernel.
 */
static void
connection(const struct snapshot *snap, struct flow_table *flows,
    const struct pipeline_meta *meta, struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	struct flow_result *f = &r->flow;
	bool tcp = p->proto == IPPROTO_TCP;

	flow_classify(flows, p, meta->mono, f);
	switch (f->status) {
	case FLOW_NO_PAYLOAD:
		set_outcome(r, PL_ACCEPT_NO_PAYLOAD);
		return;
	case FLOW_NEED_MORE:
		set_outcome(r, PL_ACCEPT_PENDING);
		return;
	case FLOW_NOT_OURS:
		/* TCP: the stream's own first bytes say what it is.  A UDP
		 * datagram says nothing of the next one (junk first, then an
		 * Initial), so it settles nothing: the rules stop queueing
		 * such a flow after its first few packets anyway. */
		r->settled = tcp;
		set_outcome(r, PL_ACCEPT_NOT_OURS);
		return;
	case FLOW_FULL:
		set_outcome(r, snap->cfg->profiles[r->req.profile].fail_open ?
		    PL_ACCEPT_FLOW_FULL : PL_DROP_FLOW_FULL);
		return;
	case FLOW_MALFORMED:
		/* A ClientHello or request we cannot read is one the server
		 * might read differently: refuse the connection. */
		r->err = f->err;
		r->settled = true;
		set_outcome(r, PL_DROP_MALFORMED);
		if (tcp)
			tcp_resets(r);
		return;
	case FLOW_NO_NAME:
		r->req.kind = req_kinds[f->kind];
		r->decided = r->settled = true;
		if (!snap->cfg->no_sni_block) {
			set_outcome(r, PL_ACCEPT_NO_SNI);
			return;
		}
		/* Refused by policy, with no name to show (pipeline.h). */
		r->req.name = r->name;
		r->req.name_len = 0;
		r->dec.action = ACTION_BLOCK;
		r->dec.reason = REASON_NO_SNI;
		refuse(r, PL_DROP_NO_SNI, PL_DROP_NO_SNI);
		return;
	case FLOW_NAME:
		break;
	}
	r->req.kind = req_kinds[f->kind];
	memcpy(r->name, f->name, f->name_len + 1);
	r->req.name = r->name;
	r->req.name_len = f->name_len;
	policy_decide(snap, meta->ov, &r->req, &r->dec);
	r->decided = r->settled = true;
	if (r->dec.action != ACTION_BLOCK && !search_elsewhere(snap, meta, r)) {
		set_outcome(r, PL_ACCEPT_ALLOWED);
		return;
	}
	if (r->dec.action != ACTION_BLOCK) {
		r->dec.action = ACTION_BLOCK;
		r->dec.reason = REASON_SAFE_SEARCH;
		refuse(r, PL_DROP_SEARCH_ADDRESS, PL_DROP_SEARCH_ADDRESS);
		return;
	}
	if (f->kind == FLOW_KIND_HTTP && tcp && meta->page != NULL &&
	    to_page(meta, r))
		return;
	refuse(r, PL_DROP_BLOCKED_RESET, PL_DROP_BLOCKED_QUIC);
}

/*
 * DNS over TLS, port 853 (TCP, and UDP for DNS over QUIC): refused for a
 * profile with bypass.dot, with no name to record; otherwise the
 * connection is not ours and settles.
 */
static void
dot(const struct snapshot *snap, struct pipeline_result *r)
{
	r->settled = true;
	if (!snap->cfg->profiles[r->req.profile].bypass_dot) {
		set_outcome(r, PL_ACCEPT_NOT_OURS);
		return;
	}
	r->req.kind = REQ_DOT;
	r->req.name = r->name;
	r->req.name_len = 0;
	r->dec.action = ACTION_BLOCK;
	r->dec.reason = REASON_DOT;
	r->decided = true;
	refuse(r, PL_DROP_DOT, PL_DROP_DOT);
}

/* TCP to this port is a connection to judge by its name. */
static bool
judged_tcp_port(const struct config *cfg, uint16_t port)
{
	size_t i;

	if (port == HTTP_PORT || port == HTTPS_PORT)
		return true;
	for (i = 0; i < cfg->conn_nports; i++)
		if (cfg->conn_ports[i] == port)
			return true;
	return false;
}

void
pipeline_run(const struct snapshot *snap, struct flow_table *flows,
    const struct pipeline_meta *meta, const uint8_t *bytes, size_t len,
    struct pipeline_result *r)
{
	struct packet *p = &r->pkt;
	bool conn, dotp;

	r->nout = 0;
	r->err = 0;
	r->action = NULL;
	r->decided = r->settled = false;
	r->forwarded = meta->forwarded;
	memset(&r->flow, 0, sizeof(r->flow));
	r->ifindex = meta->indev != 0 ? meta->indev : meta->outdev;
	memset(&r->req, 0, sizeof(r->req));
	memset(&r->dec, 0, sizeof(r->dec));
	r->dec.schedule = -1;
	r->name[0] = '\0';

	if ((r->err = packet_parse(p, bytes, len)) < 0) {
		set_outcome(r, PL_DROP_MALFORMED);
		return;
	}
	conn = !p->fragment && ((p->proto == IPPROTO_TCP &&
	    judged_tcp_port(snap->cfg, p->dport)) ||
	    (p->proto == IPPROTO_UDP && p->dport == HTTPS_PORT));
	dotp = !p->fragment && p->dport == DOT_PORT;
	if ((p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP) ||
	    (!p->fragment && p->dport != DNS_PORT && !conn && !dotp)) {
		/* The rules send us only these ports; anything else is not
		 * ours to judge (a fragment's port is unknown: below). */
		set_outcome(r, PL_ACCEPT_NOT_DNS);
		return;
	}
	if (p->fragment) {
		set_outcome(r, PL_DROP_FRAGMENT);
		return;
	}
	if (conn && p->proto == IPPROTO_UDP && snap->cfg->quic_block) {
		/* Unread, whatever it holds: the browser's TCP retry is
		 * where the name is judged (pipeline.h). */
		r->settled = true;
		set_outcome(r, PL_DROP_QUIC_POLICY);
		return;
	}
	if (meta->truncated) {
		r->err = SG_ETRUNC;
		set_outcome(r, PL_DROP_MALFORMED);
		return;
	}
	r->req.kind = REQ_DNS;
	r->req.client = p->src;
	r->req.time = meta->ts.tv_sec;
	r->req.has_mac = meta->has_mac;
	if (meta->has_mac)
		memcpy(r->req.mac, meta->mac, 6);
	policy_identify(snap, &r->req);

	if (dotp)
		dot(snap, r);
	else if (conn)
		connection(snap, flows, meta, r);
	else if (p->proto == IPPROTO_UDP)
		dns_udp(snap, meta, r);
	else if (p->payload_len == 0)
		set_outcome(r, PL_ACCEPT_NO_PAYLOAD);
	else
		dns_tcp(snap, meta, r);
}
