/*
 * pipeline.c - see pipeline.h.
 */
#include <netinet/in.h>
#include <string.h>

#include "cursor.h"
#include "pipeline.h"
#include "snapshot.h"

#define DNS_PORT	53
#define HTTP_PORT	80
#define HTTPS_PORT	443

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

/*
 * Decides every question of one parsed query.  Returns true (and fills
 * r->req and r->dec) at the first blocked question; otherwise r->req and
 * r->dec describe the last question, allowed.
 */
static bool
decide_questions(const struct snapshot *snap, const struct dns_msg *msg,
    struct pipeline_result *r)
{
	unsigned i;

	for (i = 0; i < msg->nquestions; i++) {
		const struct dns_question *q = &msg->q[i];

		memcpy(r->name, q->name, (size_t)q->name_len + 1);
		r->req.name = r->name;
		r->req.name_len = q->name_len;
		r->req.qtype = q->qtype;
		policy_decide(snap, &r->req, &r->dec);
		if (r->dec.action == ACTION_BLOCK)
			return true;
	}
	return false;
}

static void
dns_udp(const struct snapshot *snap, struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	uint8_t answer[PACKET_FORGE_MAX];
	struct dns_block_spec spec;
	struct dns_msg msg;
	size_t alen;
	int n;

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
	r->decided = true;
	if (!decide_questions(snap, &msg, r)) {
		set_outcome(r, PL_ACCEPT_ALLOWED);
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
	n = packet_build_udp(r->out[0].pkt, sizeof(r->out[0].pkt), &p->dst,
	    &p->src, p->dport, p->sport, answer, alen);
	if (n < 0) {
		r->err = n;
		return;
	}
	r->out[0].len = (size_t)n;
	r->nout = 1;
}

/* A reset each way: the client stops waiting, the server lets go. */
static void
tcp_resets(struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	int n;

	n = packet_build_tcp(r->out[0].pkt, sizeof(r->out[0].pkt), &p->dst,
	    &p->src, p->dport, p->sport, p->ack,
	    p->seq + (uint32_t)p->payload_len, TCP_RST | TCP_ACK);
	if (n < 0) {
		r->err = n;
		return;
	}
	r->out[0].len = (size_t)n;
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

/*
 * DNS over TCP: the segment must hold whole messages, each with its
 * two-byte length.  Every message is checked; one blocked question resets
 * the connection.  Data that is not whole messages is dropped: we have no
 * stream reassembly yet, and a partial query is one we cannot judge.
 */
static void
dns_tcp(const struct snapshot *snap, struct pipeline_result *r)
{
	const struct packet *p = &r->pkt;
	struct cursor c, m;
	struct dns_msg msg;
	bool any_query = false;
	size_t len;

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
		if (decide_questions(snap, &msg, r)) {
			set_outcome(r, PL_DROP_BLOCKED_RESET);
			r->action = "reset";
			tcp_resets(r);
			return;
		}
	}
	set_outcome(r, any_query ? PL_ACCEPT_ALLOWED : PL_ACCEPT_RESPONSE);
}

static const enum request_kind req_kinds[] = {
	[FLOW_KIND_TLS] = REQ_TLS, [FLOW_KIND_HTTP] = REQ_HTTP,
	[FLOW_KIND_QUIC] = REQ_QUIC,
};

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
		set_outcome(r, snap->cfg->fail_open ? PL_ACCEPT_FLOW_FULL :
		    PL_DROP_FLOW_FULL);
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
		set_outcome(r, PL_DROP_NO_SNI);
		if (tcp) {
			r->action = "reset";
			tcp_resets(r);
		} else
			r->action = "drop";
		return;
	case FLOW_NAME:
		break;
	}
	r->req.kind = req_kinds[f->kind];
	memcpy(r->name, f->name, f->name_len + 1);
	r->req.name = r->name;
	r->req.name_len = f->name_len;
	policy_decide(snap, &r->req, &r->dec);
	r->decided = r->settled = true;
	if (r->dec.action != ACTION_BLOCK) {
		set_outcome(r, PL_ACCEPT_ALLOWED);
		return;
	}
	if (tcp) {
		set_outcome(r, PL_DROP_BLOCKED_RESET);
		r->action = "reset";
		tcp_resets(r);
	} else {
		set_outcome(r, PL_DROP_BLOCKED_QUIC);
		r->action = "drop";
	}
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
	bool conn;

	r->nout = 0;
	r->err = 0;
	r->action = NULL;
	r->decided = r->settled = false;
	memset(&r->flow, 0, sizeof(r->flow));
	r->ifindex = meta->indev != 0 ? meta->indev : meta->outdev;
	memset(&r->req, 0, sizeof(r->req));
	memset(&r->dec, 0, sizeof(r->dec));
	r->name[0] = '\0';

	if ((r->err = packet_parse(p, bytes, len)) < 0) {
		set_outcome(r, PL_DROP_MALFORMED);
		return;
	}
	conn = !p->fragment && ((p->proto == IPPROTO_TCP &&
	    judged_tcp_port(snap->cfg, p->dport)) ||
	    (p->proto == IPPROTO_UDP && p->dport == HTTPS_PORT));
	if ((p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP) ||
	    (!p->fragment && p->dport != DNS_PORT && !conn)) {
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

	if (conn)
		connection(snap, flows, meta, r);
	else if (p->proto == IPPROTO_UDP)
		dns_udp(snap, r);
	else if (p->payload_len == 0)
		set_outcome(r, PL_ACCEPT_NO_PAYLOAD);
	else
		dns_tcp(snap, r);
}
