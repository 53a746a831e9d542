/*
 * dns.c - DNS message parsing (the hot path) and blocked answers (ldns).
 *
 * The parser walks the whole message once through a cursor and copies out
 * only the question names.  A name is read label by label; a compression
 * pointer is followed on a copy of the cursor, so the caller's cursor always
 * ends just past the name's bytes in place.  Every pointer must land in the
 * message body (after the header) and strictly before the segment that
 * holds it, so each jump goes backwards and no chain can loop; the pointer
 * count is capped as well, as Unbound does.
 *
 * The answer builder hands ldns only the header and the question section
 * (with the other counts zeroed), so records ldns would not parse, such as
 * odd additional data that dns_parse() skips without reading, never stop a
 * blocked query from being answered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "cursor.h"
#include "dns.h"

#define DNS_QUESTION_MIN	5	/* root name, type, class */
#define DNS_RR_MIN		11	/* root name, type, class, ttl, rdlength */
#define DNS_PTR_BITS		0xc0	/* a compression pointer's top bits */
#define DNS_UDP_MIN		512	/* what any client accepts */
#define DNS_UDP_MAX		1232	/* what we advertise and send at most */

/* The longest question on the wire: labels, a pointer, type and class. */
#define DNS_WIRE_Q_MAX		(DNS_NAME_MAX + 1 + 4)
#define DNS_WIRE_QS_MAX		(DNS_HDR_LEN + DNS_MAX_QUESTIONS * \
				    DNS_WIRE_Q_MAX)

#define DNS_SOA_MNAME		"safegate.invalid."
#define DNS_SOA_RNAME		"hostmaster.safegate.invalid."
#define DNS_SOA_SERIAL		1
#define DNS_SOA_REFRESH		3600
#define DNS_SOA_RETRY		600
#define DNS_SOA_EXPIRE		86400

/*
 * Reads the name at c's position and leaves c just past it.  When out is
 * not NULL the name is written there as lower-case text (DNS_TEXT_MAX + 1
 * bytes at most, NUL-terminated).  Returns the name's uncompressed wire
 * length (1 for the root), or 0 with c->err set.
 */
static size_t
dns_name(struct cursor *c, char *out)
{
	struct cursor	 jc, *r = c;
	const uint8_t	*label;
	size_t		 seg = c->pos, wire = 0, tlen = 0, i;
	unsigned	 nptr = 0;
	uint16_t	 off;
	uint8_t		 b, ch;

	for (;;) {
		b = cursor_u8(r);
		if (r->err != 0)
			break;
		if ((b & DNS_PTR_BITS) == DNS_PTR_BITS) {
			off = (uint16_t)((b & 0x3f) << 8 |
			    cursor_u8(r));
			if (r->err != 0)
				break;
			if (++nptr > DNS_MAX_POINTERS || off < DNS_HDR_LEN ||
			    off >= seg) {
				cursor_fail(r, SG_EMALFORMED);
				break;
			}
			if (r == c) {
				jc = *c;
				r = &jc;
			}
			cursor_seek(r, off);
			seg = off;
			continue;
		}
		/* 0x40 (extended) and 0x80 (reserved) label types */
		if (b > DNS_LABEL_MAX) {
			cursor_fail(r, SG_EMALFORMED);
			break;
		}
		if (b == 0) {
			wire++;
			break;
		}
		/* this label, its length byte and the root still to come */
		if (wire + 1 + b + 1 > DNS_NAME_MAX) {
			cursor_fail(r, SG_EMALFORMED);
			break;
		}
		if ((label = cursor_bytes(r, b)) == NULL)
			break;
		if (out != NULL) {
			if (wire > 0)
				out[tlen++] = '.';
			for (i = 0; i < b; i++) {
				ch = label[i];
				if (ch >= 'A' && ch <= 'Z')
					ch += 'a' - 'A';
				out[tlen++] = (char)ch;
			}
		}
		wire += 1 + (size_t)b;
	}
	if (r != c)
		cursor_fail(c, r->err);
	if (out != NULL)
		out[tlen] = '\0';
	return c->err != 0 ? 0 : wire;
}

/* Can nq questions and nrr records still fit in what is left? */
static bool
dns_fits(const struct cursor *c, size_t nq, size_t nrr)
{
	return nq * DNS_QUESTION_MIN + nrr * DNS_RR_MIN <= cursor_left(c);
}

int
dns_parse(struct dns_msg *msg, const void *buf, size_t len)
{
	struct cursor		 c;
	struct dns_question	*q;
	uint16_t		 flags, type, class, rdlen, count[3];
	size_t			 wire, nrr;
	unsigned		 i, s;

	cursor_init(&c, buf, len);
	msg->id = cursor_u16(&c);
	flags = cursor_u16(&c);
	msg->qdcount = cursor_u16(&c);
	msg->ancount = cursor_u16(&c);
	msg->nscount = cursor_u16(&c);
	msg->arcount = cursor_u16(&c);
	if (c.err != 0)
		return c.err;
	msg->qr = (flags >> 15) != 0;
	msg->opcode = (flags >> 11) & 0xf;
	msg->rd = ((flags >> 8) & 1) != 0;
	msg->rcode = flags & 0xf;
	msg->has_edns = false;
	msg->edns_udp_size = 0;
	msg->nquestions = 0;

	count[0] = msg->ancount;
	count[1] = msg->nscount;
	count[2] = msg->arcount;
	nrr = (size_t)count[0] + count[1] + count[2];

	/* Counts that cannot fit are a lie: reject before reading on. */
	if (!dns_fits(&c, msg->qdcount, nrr))
		return SG_ETRUNC;
	if (msg->qdcount > DNS_MAX_QUESTIONS)
		return SG_ELIMIT;
	for (i = 0; i < msg->qdcount; i++) {
		q = &msg->q[i];
		wire = dns_name(&c, q->name);
		q->qtype = cursor_u16(&c);
		q->qclass = cursor_u16(&c);
		if (c.err != 0)
			return c.err;
		q->name_len = (uint8_t)(wire > 1 ? wire - 2 : 0);
	}
	msg->nquestions = msg->qdcount;

	for (s = 0; s < 3; s++) {
		if (!dns_fits(&c, 0, nrr))
			return SG_ETRUNC;
		for (i = 0; i < count[s]; i++) {
			wire = dns_name(&c, NULL);
			type = cursor_u16(&c);
			class = cursor_u16(&c);
			(void)cursor_u32(&c);	/* ttl */
			rdlen = cursor_u16(&c);
			cursor_skip(&c, rdlen);
			if (c.err != 0)
				return c.err;
			if (type != DNS_T_OPT)
				continue;
			/* RFC 6891 6.1.1: one OPT, owned by the root, in
			 * additional only */
			if (s != 2 || wire != 1 || msg->has_edns)
				return SG_EMALFORMED;
			msg->has_edns = true;
			msg->edns_udp_size = class;
		}
		nrr -= count[s];
	}
	return 0;
}

/* ---------------------------------------------------------------- answers */

enum dns_outcome {
	DNS_ANSWER,	/* address records */
	DNS_NODATA,	/* NOERROR, no records, SOA */
	DNS_NXDOMAIN,	/* NXDOMAIN, SOA */
};

static int
dns_ldns_err(ldns_status st)
{
	return st == LDNS_STATUS_MEM_ERR ? -ENOMEM : SG_EMALFORMED;
}

/* A new record of the given type owned by a copy of owner, class IN. */
static ldns_rr *
dns_rr_new(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr		*rr;
	ldns_rdf	*o;

	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	if ((o = ldns_rdf_clone(owner)) == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* Appends rdf to rr; takes rdf, and frees it if that fails. */
static bool
dns_rr_add(ldns_rr *rr, ldns_rdf *rdf)
{
	if (rdf == NULL)
		return false;
	if (!ldns_rr_push_rdf(rr, rdf)) {
		ldns_rdf_deep_free(rdf);
		return false;
	}
	return true;
}

/* Adds rr to a section of p; takes rr, and frees it if that fails. */
static int
dns_push(ldns_pkt *p, ldns_pkt_section section, ldns_rr *rr)
{
	if (rr == NULL)
		return -ENOMEM;
	if (!ldns_pkt_push_rr(p, section, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static int
dns_push_addr(ldns_pkt *p, const ldns_rdf *owner, const struct sg_addr *a,
    uint32_t ttl)
{
	ldns_rr		*rr;
	bool		 v4 = a->family == AF_INET;

	rr = dns_rr_new(owner, v4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA, ttl);
	if (rr == NULL)
		return -ENOMEM;
	if (!dns_rr_add(rr, ldns_rdf_new_frm_data(v4 ? LDNS_RDF_TYPE_A :
	    LDNS_RDF_TYPE_AAAA, addr_len(a), a->u.b))) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return dns_push(p, LDNS_SECTION_ANSWER, rr);
}

/* The negative-answer SOA: owned by the queried name, minimum = TTL = ttl. */
static int
dns_push_soa(ldns_pkt *p, const ldns_rdf *owner, uint32_t ttl)
{
	ldns_rr		*rr;
	bool		 ok;

	if ((rr = dns_rr_new(owner, LDNS_RR_TYPE_SOA, ttl)) == NULL)
		return -ENOMEM;
	ok = dns_rr_add(rr, ldns_dname_new_frm_str(DNS_SOA_MNAME)) &&
	    dns_rr_add(rr, ldns_dname_new_frm_str(DNS_SOA_RNAME)) &&
	    dns_rr_add(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32,
	    DNS_SOA_SERIAL)) &&
	    dns_rr_add(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD,
	    DNS_SOA_REFRESH)) &&
	    dns_rr_add(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD,
	    DNS_SOA_RETRY)) &&
	    dns_rr_add(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD,
	    DNS_SOA_EXPIRE)) &&
	    dns_rr_add(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, ttl));
	if (!ok) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return dns_push(p, LDNS_SECTION_AUTHORITY, rr);
}

static const struct sg_addr dns_null_v4 = { .family = AF_INET };
static const struct sg_addr dns_null_v6 = { .family = AF_INET6 };

/*
 * Answers one question into p, following the table in dns.h.  The type and
 * class come from the question as ldns read it, so the records always match
 * the question echoed.  Only class IN gets addresses; another class is
 * answered as an unknown type.
 */
static int
dns_answer_one(ldns_pkt *p, const ldns_rr *q,
    const struct dns_block_spec *spec, enum dns_outcome *outcome)
{
	const ldns_rdf		*owner = ldns_rr_owner(q);
	uint16_t		 qtype = (uint16_t)ldns_rr_get_type(q);
	const struct sg_addr	*v4 = NULL, *v6 = NULL;
	int			 rv = 0;

	*outcome = DNS_NXDOMAIN;
	if (spec->mode == DNS_BLOCK_NXDOMAIN ||
	    ldns_rr_get_class(q) != LDNS_RR_CLASS_IN)
		return dns_push_soa(p, owner, spec->ttl);

	switch (qtype) {
	case DNS_T_A:
	case DNS_T_AAAA:
	case DNS_T_ANY:
		if (spec->mode == DNS_BLOCK_NULL) {
			v4 = &dns_null_v4;
			v6 = &dns_null_v6;
		} else {
			if (spec->page_v4.family == AF_INET)
				v4 = &spec->page_v4;
			if (spec->page_v6.family == AF_INET6)
				v6 = &spec->page_v6;
		}
		if (qtype == DNS_T_A)
			v6 = NULL;
		if (qtype == DNS_T_AAAA)
			v4 = NULL;
		break;
	case DNS_T_HTTPS:
	case DNS_T_SVCB:
	case DNS_T_CNAME:
		break;
	default:
		return dns_push_soa(p, owner, spec->ttl);
	}
	if (v4 == NULL && v6 == NULL) {
		*outcome = DNS_NODATA;
		return dns_push_soa(p, owner, spec->ttl);
	}
	*outcome = DNS_ANSWER;
	if (v4 != NULL)
		rv = dns_push_addr(p, owner, v4, spec->ttl);
	if (rv == 0 && v6 != NULL)
		rv = dns_push_addr(p, owner, v6, spec->ttl);
	return rv;
}

/* Drops the authority section (the SOAs) of p. */
static void
dns_drop_authority(ldns_pkt *p)
{
	ldns_rr	*rr;

	while ((rr = ldns_rr_list_pop_rr(ldns_pkt_authority(p))) != NULL)
		ldns_rr_free(rr);
	ldns_pkt_set_nscount(p, 0);
}

/*
 * Copies the header and the question section of query into buf with the
 * record counts zeroed, and sets *len.  The questions' pointers can only
 * point backwards, so the copy is self-contained.
 */
static int
dns_questions(const uint8_t *query, size_t qlen, const struct dns_msg *msg,
    uint8_t *buf, size_t cap, size_t *len)
{
	struct cursor	 c;
	unsigned	 i;

	cursor_init(&c, query, qlen);
	cursor_seek(&c, 4);
	if (cursor_u16(&c) != msg->nquestions)
		cursor_fail(&c, SG_EMALFORMED);
	cursor_seek(&c, DNS_HDR_LEN);
	for (i = 0; i < msg->nquestions; i++) {
		(void)dns_name(&c, NULL);
		cursor_skip(&c, 4);	/* type, class */
	}
	if (c.err != 0)
		return c.err;
	if (c.pos > cap)
		return SG_ELIMIT;
	*len = c.pos;
	cursor_seek(&c, 0);
	cursor_copy(&c, buf, *len);
	memset(buf + 6, 0, 6);	/* ancount, nscount, arcount */
	return c.err;
}

int
dns_build_block(const uint8_t *query, size_t qlen, const struct dns_msg *msg,
    const struct dns_block_spec *spec, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint8_t			 qbuf[DNS_WIRE_QS_MAX];
	ldns_pkt		*qp = NULL, *rp = NULL;
	ldns_rr_list		*qs;
	ldns_rr			*qrr;
	uint8_t			*wire = NULL;
	size_t			 qbuflen, wlen = 0, limit;
	enum dns_outcome	 outcome;
	bool			 nx;
	unsigned		 i;
	ldns_status		 st;
	int			 rv;

	if (query == NULL || msg == NULL || spec == NULL || out == NULL ||
	    outlen == NULL || msg->nquestions > DNS_MAX_QUESTIONS)
		return -EINVAL;
	rv = dns_questions(query, qlen, msg, qbuf, sizeof(qbuf), &qbuflen);
	if (rv != 0)
		return rv;
	if ((st = ldns_wire2pkt(&qp, qbuf, qbuflen)) != LDNS_STATUS_OK) {
		qp = NULL;
		rv = dns_ldns_err(st);
		goto done;
	}
	qs = ldns_pkt_question(qp);
	if (qs == NULL || ldns_rr_list_rr_count(qs) != msg->nquestions) {
		rv = SG_EMALFORMED;
		goto done;
	}
	if ((rp = ldns_pkt_new()) == NULL) {
		rv = -ENOMEM;
		goto done;
	}
	ldns_pkt_set_id(rp, msg->id);
	ldns_pkt_set_opcode(rp, (ldns_pkt_opcode)(msg->opcode & 0xf));
	ldns_pkt_set_rd(rp, msg->rd);
	ldns_pkt_set_qr(rp, true);
	ldns_pkt_set_aa(rp, true);
	ldns_pkt_set_ra(rp, true);

	nx = spec->mode == DNS_BLOCK_NXDOMAIN;
	for (i = 0; i < msg->nquestions; i++) {
		qrr = ldns_rr_list_rr(qs, i);
		rv = dns_push(rp, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
		if (rv != 0)
			goto done;
		rv = dns_answer_one(rp, qrr, spec, &outcome);
		if (rv != 0)
			goto done;
		if (outcome == DNS_NXDOMAIN)
			nx = true;
	}
	ldns_pkt_set_rcode(rp, nx ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR);
	if (msg->has_edns) {
		ldns_pkt_set_edns_udp_size(rp, DNS_UDP_MAX);
		ldns_pkt_set_edns_do(rp, false);
	}

	limit = DNS_UDP_MIN;
	if (msg->has_edns && msg->edns_udp_size > limit)
		limit = msg->edns_udp_size < DNS_UDP_MAX ?
		    msg->edns_udp_size : DNS_UDP_MAX;
	if (cap < limit)
		limit = cap;

	if ((st = ldns_pkt2wire(&wire, rp, &wlen)) != LDNS_STATUS_OK) {
		wire = NULL;
		rv = dns_ldns_err(st);
		goto done;
	}
	if (wlen > limit && ldns_pkt_nscount(rp) > 0) {
		/* Negative caching is worth less than an answer. */
		free(wire);
		dns_drop_authority(rp);
		st = ldns_pkt2wire(&wire, rp, &wlen);
		if (st != LDNS_STATUS_OK) {
			wire = NULL;
			rv = dns_ldns_err(st);
			goto done;
		}
	}
	if (wlen > limit) {
		rv = SG_ELIMIT;
		goto done;
	}
	memcpy(out, wire, wlen);
	*outlen = wlen;
	rv = 0;
done:
	free(wire);
	ldns_pkt_free(rp);
	ldns_pkt_free(qp);
	return rv;
}

const char *
dns_type_name(uint16_t type, char *buf, size_t len)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_NS:
		return "NS";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_SOA:
		return "SOA";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_MX:
		return "MX";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_OPT:
		return "OPT";
	case DNS_T_SVCB:
		return "SVCB";
	case DNS_T_HTTPS:
		return "HTTPS";
	case DNS_T_ANY:
		return "ANY";
	}
	if (buf == NULL || len == 0)
		return "?";
	(void)snprintf(buf, len, "%u", (unsigned)type);
	return buf;
}
