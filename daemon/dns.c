/*
 * dns.c - DNS message parsing (the hot path) and blocked answers.
 *
 * The parser walks the whole message once through a cursor and copies out
 * only the question names.  A name is read label by label; a compression
 * pointer is followed on a copy of the cursor, so the caller's cursor always
 * ends just past the name's bytes in place.  Every pointer must land in the
 * message body (after the header) and strictly before the segment that
 * holds it, so each jump goes backwards and no chain can loop; the pointer
 * count is capped as well, as Unbound does.
 *
 * The answer builder reads only the header and the question section again,
 * so records after them (odd additional data that dns_parse() skips
 * without reading) never stop a blocked query from being answered.  It
 * writes the answer directly, with no allocation: it is on the path of
 * every blocked query.  The tests and the fuzzer read every answer back
 * with ldns, an independent DNS implementation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "dns.h"

#define DNS_QUESTION_MIN	5	/* root name, type, class */
#define DNS_RR_MIN		11	/* root name, type, class, ttl, rdlength */
#define DNS_PTR_BITS		0xc0	/* a compression pointer's top bits */
#define DNS_UDP_MIN		512	/* what any client accepts */
#define DNS_UDP_MAX		1232	/* what we advertise and send at most */

#define DNS_SOA_MNAME		"safegate.invalid."
#define DNS_SOA_RNAME		"hostmaster.safegate.invalid."
#define DNS_SOA_SERIAL		1
#define DNS_SOA_REFRESH		3600
#define DNS_SOA_RETRY		600
#define DNS_SOA_EXPIRE		86400

size_t
dns_read_name(struct cursor *c, char *out, uint8_t *wout)
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
			if (wout != NULL)
				wout[wire] = 0;
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
		if (wout != NULL) {
			wout[wire] = b;
			memcpy(wout + wire + 1, label, b);
		}
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
		wire = dns_read_name(&c, q->name, NULL);
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
			wire = dns_read_name(&c, NULL, NULL);
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

/*
 * The answer is written straight into the caller's buffer.  Its sizes are
 * worked out first, so what is written always fits; writes go through a
 * small writer that refuses to pass the end all the same.
 */
struct dns_writer {
	uint8_t		*p;
	size_t		 len, cap;
	bool		 overflow;
};

static void
dns_put(struct dns_writer *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
dns_put16(struct dns_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	dns_put(w, b, 2);
}

static void
dns_put32(struct dns_writer *w, uint32_t v)
{
	dns_put16(w, (uint16_t)(v >> 16));
	dns_put16(w, (uint16_t)v);
}

enum dns_outcome {
	DNS_ANSWER,	/* address records */
	DNS_NODATA,	/* NOERROR, no records, SOA */
	DNS_NXDOMAIN,	/* NXDOMAIN, SOA */
};

/* The SOA's names, in wire form: mname, then rname's own label, which
 * points back at mname ("hostmaster" + "safegate.invalid."). */
static const uint8_t dns_soa_mname[] = "\010safegate\007invalid";	/* + 0 */
static const uint8_t dns_soa_rlabel[] = "\012hostmaster";
#define DNS_SOA_MNAME_LEN	(sizeof(dns_soa_mname))		/* with 0 */
#define DNS_SOA_RNAME_LEN	(sizeof(dns_soa_rlabel) - 1 + 2)
#define DNS_SOA_RDLEN(first)	((first) ? DNS_SOA_MNAME_LEN + \
				    DNS_SOA_RNAME_LEN + 20 : 2 + 2 + 20)
#define DNS_OPT_LEN		11

struct dns_qplan {
	uint8_t			 name[DNS_NAME_MAX];	/* uncompressed */
	size_t			 name_len;
	uint16_t		 qtype, qclass;
	uint16_t		 offset;	/* of the name in the answer */
	bool			 root;
	enum dns_outcome	 outcome;
	const struct sg_addr	*v4, *v6;
};

static const struct sg_addr dns_null_v4 = { .family = AF_INET };
static const struct sg_addr dns_null_v6 = { .family = AF_INET6 };

/* Decides one question's answer, following the table in dns.h. */
static void
dns_plan_one(const struct dns_question *q, const struct dns_block_spec *spec,
    struct dns_qplan *pl)
{
	pl->v4 = pl->v6 = NULL;
	pl->outcome = DNS_NXDOMAIN;
	if (spec->mode == DNS_BLOCK_NXDOMAIN || q->qclass != DNS_C_IN)
		return;
	switch (q->qtype) {
	case DNS_T_A:
	case DNS_T_AAAA:
	case DNS_T_ANY:
		if (spec->mode == DNS_BLOCK_NULL) {
			pl->v4 = &dns_null_v4;
			pl->v6 = &dns_null_v6;
		} else {
			if (spec->page_v4.family == AF_INET)
				pl->v4 = &spec->page_v4;
			if (spec->page_v6.family == AF_INET6)
				pl->v6 = &spec->page_v6;
		}
		if (q->qtype == DNS_T_A)
			pl->v6 = NULL;
		if (q->qtype == DNS_T_AAAA)
			pl->v4 = NULL;
		pl->outcome = pl->v4 != NULL || pl->v6 != NULL ? DNS_ANSWER :
		    DNS_NODATA;
		break;
	case DNS_T_HTTPS:
	case DNS_T_SVCB:
	case DNS_T_CNAME:
		pl->outcome = DNS_NODATA;
		break;
	}
}

/*
 * Reads the questions of query again, each name uncompressed and in its
 * own case, for the answer to echo.  A question's name may point anywhere
 * before it, even at bytes past the question section, so copying the
 * section as it stands could change a name: it is written out whole.
 */
static int
dns_question_copy(const uint8_t *query, size_t qlen,
    const struct dns_msg *msg, struct dns_qplan *plan)
{
	struct cursor	 c;
	unsigned	 i;

	cursor_init(&c, query, qlen);
	cursor_seek(&c, 4);
	if (cursor_u16(&c) != msg->nquestions)
		cursor_fail(&c, SG_EMALFORMED);
	cursor_seek(&c, DNS_HDR_LEN);
	for (i = 0; i < msg->nquestions; i++) {
		plan[i].name_len = dns_read_name(&c, NULL, plan[i].name);
		plan[i].root = plan[i].name_len == 1;
		plan[i].qtype = cursor_u16(&c);
		plan[i].qclass = cursor_u16(&c);
	}
	return c.err;
}

/* The owner of a record: a pointer to the question's name, or the root. */
static void
dns_put_owner(struct dns_writer *w, const struct dns_qplan *pl)
{
	uint8_t root = 0;

	if (pl->root)
		dns_put(w, &root, 1);
	else
		dns_put16(w, (uint16_t)(0xc000 | pl->offset));
}

static void
dns_put_addr(struct dns_writer *w, const struct dns_qplan *pl,
    const struct sg_addr *a, uint32_t ttl)
{
	dns_put_owner(w, pl);
	dns_put16(w, a->family == AF_INET ? DNS_T_A : DNS_T_AAAA);
	dns_put16(w, DNS_C_IN);
	dns_put32(w, ttl);
	dns_put16(w, (uint16_t)addr_len(a));
	dns_put(w, a->u.b, addr_len(a));
}

/* The negative-answer SOA; the first one carries the names in full, later
 * ones point at them. */
static void
dns_put_soa(struct dns_writer *w, const struct dns_qplan *pl, uint32_t ttl,
    size_t *mname_at)
{
	bool first = *mname_at == 0;

	dns_put_owner(w, pl);
	dns_put16(w, DNS_T_SOA);
	dns_put16(w, DNS_C_IN);
	dns_put32(w, ttl);
	dns_put16(w, (uint16_t)DNS_SOA_RDLEN(first));
	if (first) {
		*mname_at = w->len;
		dns_put(w, dns_soa_mname, DNS_SOA_MNAME_LEN);
		dns_put(w, dns_soa_rlabel, sizeof(dns_soa_rlabel) - 1);
		dns_put16(w, (uint16_t)(0xc000 | *mname_at));
	} else {
		dns_put16(w, (uint16_t)(0xc000 | *mname_at));
		dns_put16(w, (uint16_t)(0xc000 | (*mname_at +
		    DNS_SOA_MNAME_LEN)));
	}
	dns_put32(w, DNS_SOA_SERIAL);
	dns_put32(w, DNS_SOA_REFRESH);
	dns_put32(w, DNS_SOA_RETRY);
	dns_put32(w, DNS_SOA_EXPIRE);
	dns_put32(w, ttl);
}

/* Bytes of one record whose owner is the question's name. */
static size_t
dns_owner_len(const struct dns_qplan *pl)
{
	return pl->root ? 1 : 2;
}

int
dns_build_block(const uint8_t *query, size_t qlen, const struct dns_msg *msg,
    const struct dns_block_spec *spec, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct dns_qplan	 plan[DNS_MAX_QUESTIONS];
	struct dns_writer	 w;
	size_t			 qend = DNS_HDR_LEN, ans = 0, soa = 0, opt;
	size_t			 limit, mname_at;
	unsigned		 i, nan = 0, nns = 0;
	bool			 nx, with_soa;
	int			 rv;

	if (query == NULL || msg == NULL || spec == NULL || out == NULL ||
	    outlen == NULL || msg->nquestions > DNS_MAX_QUESTIONS)
		return -EINVAL;
	if ((rv = dns_question_copy(query, qlen, msg, plan)) != 0)
		return rv;

	/* Plan every record, and its size, before writing anything. */
	nx = spec->mode == DNS_BLOCK_NXDOMAIN;
	for (i = 0; i < msg->nquestions; i++) {
		dns_plan_one(&msg->q[i], spec, &plan[i]);
		plan[i].offset = (uint16_t)qend;
		qend += plan[i].name_len + 4;
		if (plan[i].outcome == DNS_NXDOMAIN)
			nx = true;
		if (plan[i].v4 != NULL) {
			ans += dns_owner_len(&plan[i]) + 10 + 4;
			nan++;
		}
		if (plan[i].v6 != NULL) {
			ans += dns_owner_len(&plan[i]) + 10 + 16;
			nan++;
		}
		if (plan[i].outcome != DNS_ANSWER) {
			soa += dns_owner_len(&plan[i]) + 10 +
			    DNS_SOA_RDLEN(nns == 0);
			nns++;
		}
	}
	opt = msg->has_edns ? DNS_OPT_LEN : 0;
	limit = DNS_UDP_MIN;
	if (msg->has_edns && msg->edns_udp_size > limit)
		limit = msg->edns_udp_size < DNS_UDP_MAX ?
		    msg->edns_udp_size : DNS_UDP_MAX;
	if (cap < limit)
		limit = cap;
	/* Negative caching is worth less than an answer: the SOAs go
	 * first when the answer would not fit. */
	with_soa = qend + ans + soa + opt <= limit;
	if (!with_soa && qend + ans + opt > limit)
		return SG_ELIMIT;

	w.p = out;
	w.len = 0;
	w.cap = limit;
	w.overflow = false;
	dns_put16(&w, msg->id);
	dns_put16(&w, (uint16_t)(0x8000 | (msg->opcode & 0xf) << 11 |
	    0x0400 | (msg->rd ? 0x0100 : 0) | 0x0080 |
	    (nx ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR)));
	dns_put16(&w, (uint16_t)msg->nquestions);
	dns_put16(&w, (uint16_t)nan);
	dns_put16(&w, (uint16_t)(with_soa ? nns : 0));
	dns_put16(&w, msg->has_edns ? 1 : 0);
	for (i = 0; i < msg->nquestions; i++) {
		dns_put(&w, plan[i].name, plan[i].name_len);
		dns_put16(&w, plan[i].qtype);
		dns_put16(&w, plan[i].qclass);
	}
	for (i = 0; i < msg->nquestions; i++) {
		if (plan[i].v4 != NULL)
			dns_put_addr(&w, &plan[i], plan[i].v4, spec->ttl);
		if (plan[i].v6 != NULL)
			dns_put_addr(&w, &plan[i], plan[i].v6, spec->ttl);
	}
	mname_at = 0;
	for (i = 0; with_soa && i < msg->nquestions; i++)
		if (plan[i].outcome != DNS_ANSWER)
			dns_put_soa(&w, &plan[i], spec->ttl, &mname_at);
	if (msg->has_edns) {
		uint8_t root = 0;

		dns_put(&w, &root, 1);
		dns_put16(&w, DNS_T_OPT);
		dns_put16(&w, DNS_UDP_MAX);	/* our UDP size */
		dns_put32(&w, 0);		/* rcode, version, DO clear */
		dns_put16(&w, 0);
	}
	if (w.overflow)
		return SG_ELIMIT;	/* the plan above makes this unreachable */
	*outlen = w.len;
	return 0;
}

size_t
dns_name_encode(const char *text, uint8_t *wout)
{
	size_t	len = 0, n;

	if (text == NULL || *text == '\0')
		return 0;
	while (*text != '\0') {
		for (n = 0; text[n] != '\0' && text[n] != '.'; n++)
			if (n >= DNS_LABEL_MAX)
				return 0;
		if (n == 0 || len + 1 + n + 1 > DNS_NAME_MAX)
			return 0;
		wout[len++] = (uint8_t)n;
		memcpy(wout + len, text, n);
		len += n;
		text += n;
		if (*text == '.')
			text++;
	}
	wout[len++] = 0;
	return len;
}

int
dns_build_cname(const uint8_t *query, size_t qlen, const struct dns_msg *msg,
    const struct dns_cname_spec *spec, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct dns_qplan	 plan[DNS_MAX_QUESTIONS];
	struct dns_writer	 w;
	uint8_t			 target[DNS_NAME_MAX];
	size_t			 tlen, qend, cname, ans = 0, opt, limit, i;
	size_t			 target_at;
	unsigned		 nan = 0;
	bool			 want4 = false, want6 = false, with_addrs;
	int			 rv;

	if (query == NULL || msg == NULL || spec == NULL || out == NULL ||
	    outlen == NULL || msg->nquestions != 1 ||
	    (spec->naddrs > 0 && spec->addrs == NULL))
		return -EINVAL;
	if ((tlen = dns_name_encode(spec->target, target)) == 0)
		return -EINVAL;
	if (msg->q[0].qclass != DNS_C_IN)
		return SG_EUNSUPP;
	if ((rv = dns_question_copy(query, qlen, msg, plan)) != 0)
		return rv;

	switch (msg->q[0].qtype) {
	case DNS_T_A:
		want4 = true;
		break;
	case DNS_T_AAAA:
		want6 = true;
		break;
	case DNS_T_ANY:
		want4 = want6 = true;
		break;
	}
	plan[0].offset = DNS_HDR_LEN;
	qend = DNS_HDR_LEN + plan[0].name_len + 4;
	cname = dns_owner_len(&plan[0]) + 10 + tlen;
	target_at = qend + dns_owner_len(&plan[0]) + 10;
	for (i = 0; i < spec->naddrs; i++) {
		if ((want4 && spec->addrs[i].family == AF_INET) ||
		    (want6 && spec->addrs[i].family == AF_INET6)) {
			ans += 2 + 10 + addr_len(&spec->addrs[i]);
			nan++;
			if (ans > DNS_UDP_MAX)
				break;	/* will not fit: stop counting */
		}
	}
	opt = msg->has_edns ? DNS_OPT_LEN : 0;
	limit = DNS_UDP_MIN;
	if (msg->has_edns && msg->edns_udp_size > limit)
		limit = msg->edns_udp_size < DNS_UDP_MAX ?
		    msg->edns_udp_size : DNS_UDP_MAX;
	if (cap < limit)
		limit = cap;
	/* The addresses only save the client a query: they go first. */
	with_addrs = qend + cname + ans + opt <= limit;
	if (!with_addrs && qend + cname + opt > limit)
		return SG_ELIMIT;
	if (!with_addrs)
		nan = 0;

	w.p = out;
	w.len = 0;
	w.cap = limit;
	w.overflow = false;
	dns_put16(&w, msg->id);
	dns_put16(&w, (uint16_t)(0x8000 | (msg->opcode & 0xf) << 11 |
	    0x0400 | (msg->rd ? 0x0100 : 0) | 0x0080 | DNS_RCODE_NOERROR));
	dns_put16(&w, 1);
	dns_put16(&w, (uint16_t)(1 + nan));
	dns_put16(&w, 0);
	dns_put16(&w, msg->has_edns ? 1 : 0);
	dns_put(&w, plan[0].name, plan[0].name_len);
	dns_put16(&w, plan[0].qtype);
	dns_put16(&w, plan[0].qclass);

	dns_put_owner(&w, &plan[0]);
	dns_put16(&w, DNS_T_CNAME);
	dns_put16(&w, DNS_C_IN);
	dns_put32(&w, spec->cname_ttl);
	dns_put16(&w, (uint16_t)tlen);
	dns_put(&w, target, tlen);
	for (i = 0; with_addrs && i < spec->naddrs; i++) {
		const struct sg_addr *a = &spec->addrs[i];

		if (!(want4 && a->family == AF_INET) &&
		    !(want6 && a->family == AF_INET6))
			continue;
		dns_put16(&w, (uint16_t)(0xc000 | target_at));
		dns_put16(&w, a->family == AF_INET ? DNS_T_A : DNS_T_AAAA);
		dns_put16(&w, DNS_C_IN);
		dns_put32(&w, spec->addr_ttl);
		dns_put16(&w, (uint16_t)addr_len(a));
		dns_put(&w, a->u.b, addr_len(a));
	}
	if (msg->has_edns) {
		uint8_t root = 0;

		dns_put(&w, &root, 1);
		dns_put16(&w, DNS_T_OPT);
		dns_put16(&w, DNS_UDP_MAX);
		dns_put32(&w, 0);
		dns_put16(&w, 0);
	}
	if (w.overflow)
		return SG_ELIMIT;	/* the plan above makes this unreachable */
	*outlen = w.len;
	return 0;
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
