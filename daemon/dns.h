/*
 * dns.h - DNS query parsing and blocked-answer building.
 *
 * dns_parse() is the hot path.  It reads a whole message through the cursor
 * and checks it as strictly as a resolver would: the header, every question
 * and every resource record of the answer, authority and additional
 * sections.  Names obey hard limits (label <= 63 bytes, name <= 255 bytes on
 * the wire, at most DNS_MAX_POINTERS compression pointers, each pointing
 * strictly backwards).  Counts are checked against the bytes that remain
 * before anything is read.  A message that breaks any rule is rejected: the
 * daemon then drops it, because a parser that reads a name other than the one
 * the resolver reads would be a way around the filter.
 *
 * Question names are returned in lower case (ASCII only), as labels joined by
 * '.', without a trailing dot; the root name is the empty string.  Label bytes
 * are kept as they are otherwise: a label that itself contains a '.' can only
 * make the name match more list entries, never fewer.  Names are copied into
 * struct dns_msg, which owns them.
 *
 * dns_build_block() writes the forged answer for a blocked query straight
 * into the caller's buffer, with no allocation.  The tests and fuzzers read
 * every answer back with ldns, an independent implementation.
 */
#ifndef SG_DNS_H
#define SG_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

#define DNS_HDR_LEN		12
#define DNS_NAME_MAX		255	/* wire bytes, including the root label */
#define DNS_TEXT_MAX		254	/* text bytes of the longest name, + NUL */
#define DNS_LABEL_MAX		63
#define DNS_MAX_POINTERS	16
#define DNS_MAX_QUESTIONS	4	/* more than this is rejected */

/* RR types safegate names. */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_OPT	41
#define DNS_T_SVCB	64
#define DNS_T_HTTPS	65
#define DNS_T_ANY	255

#define DNS_C_IN	1

#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_FORMERR	1
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_REFUSED	5

struct dns_question {
	char		name[DNS_TEXT_MAX + 1];	/* NUL-terminated, see above */
	uint8_t		name_len;		/* strlen, but NULs may occur */
	uint16_t	qtype;
	uint16_t	qclass;
};

struct dns_msg {
	uint16_t	id;
	bool		qr;		/* a response, not a query */
	uint8_t		opcode;
	bool		rd;
	uint8_t		rcode;
	uint16_t	qdcount, ancount, nscount, arcount;
	bool		has_edns;	/* an OPT record in additional */
	uint16_t	edns_udp_size;	/* its advertised size, if has_edns */
	unsigned	nquestions;	/* == qdcount */
	struct dns_question q[DNS_MAX_QUESTIONS];
};

/*
 * Parses and checks a whole DNS message (without the TCP length prefix).
 * Returns 0, or:
 *   SG_ETRUNC      the bytes end early, or the section counts ask for more
 *                  records than the bytes left could hold (5 bytes at least
 *                  a question, 11 a record);
 *   SG_EMALFORMED  a broken rule: label type 0x40 or 0x80, a name over 255
 *                  bytes, more than DNS_MAX_POINTERS pointers in a name, a
 *                  pointer into the header or not strictly backwards, an
 *                  OPT outside additional, not owned by the root, or twice;
 *   SG_ELIMIT      only for more than DNS_MAX_QUESTIONS questions.
 * Rdata is skipped unread.  Bytes after the last record are ignored, as
 * resolvers ignore them.  Responses (qr) are parsed the same way.  On error
 * *msg is unspecified.  No allocation; about 35 ns for a plain query.
 */
int	dns_parse(struct dns_msg *msg, const void *buf, size_t len) SG_WUR;

struct cursor;

/*
 * Reads one name at c's position, with dns_parse()'s rules and limits, and
 * leaves c just past the name's bytes in place (a compression pointer is
 * followed on a copy of c).  c must cover the whole message from its
 * header, since pointers are offsets into it.  When out is not NULL the
 * name is written there as lower-case text, as in struct dns_question
 * (DNS_TEXT_MAX + 1 bytes at most, NUL-terminated).  When wout is not NULL
 * the name is written there uncompressed, in wire form and its own case
 * (DNS_NAME_MAX bytes at most).  Either may be NULL, to skip a name.
 * Returns the name's uncompressed wire length (1 for the root), or 0 with
 * c->err set (SG_ETRUNC, SG_EMALFORMED); on error out and wout hold
 * unspecified bytes.  For names inside rdata, which dns_parse() skips.
 */
size_t	dns_read_name(struct cursor *c, char *out, uint8_t *wout);

/*
 * Encodes a text name (labels joined by '.', an optional trailing dot) in
 * wire form, as written, into wout (DNS_NAME_MAX bytes).  Returns the wire
 * length, or 0 for the root, an empty label, a label over 63 bytes or a
 * name over 255.
 */
size_t	dns_name_encode(const char *text, uint8_t *wout);

/* How a blocked query is answered. */
enum dns_block_mode {
	DNS_BLOCK_NXDOMAIN,	/* NXDOMAIN for every type */
	DNS_BLOCK_NULL,		/* A 0.0.0.0, AAAA :: */
	DNS_BLOCK_ADDRESS,	/* A/AAAA the block page's addresses */
};

struct dns_block_spec {
	enum dns_block_mode mode;
	uint32_t	ttl;		/* of answers, and the SOA's minimum */
	struct sg_addr	page_v4;	/* AF_UNSPEC when not configured */
	struct sg_addr	page_v6;	/* AF_UNSPEC when not configured */
};

/*
 * Builds the answer to a blocked query into out (cap bytes): a response with
 * the query's id, opcode, RD bit and question section, AA and RA set, and:
 *   NXDOMAIN mode: RCODE NXDOMAIN and an SOA in authority (negative TTL).
 *   NULL / ADDRESS modes, per question type:
 *     A      one A record (0.0.0.0, or the block page's IPv4 address;
 *            NOERROR and no data if ADDRESS mode has no IPv4 address);
 *     AAAA   one AAAA record (::, or the block page's IPv6 address; NOERROR
 *            and no data if ADDRESS mode has no IPv6 address);
 *     ANY    both of the above;
 *     HTTPS, SVCB, CNAME   NOERROR with no data and the SOA in authority;
 *     any other type       NXDOMAIN, as in NXDOMAIN mode.
 *   Only class IN gets addresses; a question of another class is answered
 *   as "any other type".
 * The questions are echoed as sent (case included, for 0x20 checks); each
 * SOA (mname safegate.invalid., TTL and minimum spec->ttl) is owned by its
 * question's name.  With several questions each is answered as above, and
 * one NXDOMAIN makes the whole answer NXDOMAIN.  With no question the
 * answer is NXDOMAIN in NXDOMAIN mode, else NOERROR, and empty.
 * If the query carried EDNS, the answer carries an OPT record too (size
 * 1232, DO clear).  The answer never exceeds the client's UDP size: 512
 * without EDNS, else the advertised size clamped to [512, 1232]; nor cap.
 * If it would, the SOAs are dropped; if it still would, SG_ELIMIT.
 * `query` must be a message that dns_parse() accepted as `msg`; only its
 * header and questions are read again.  Names in the answer point at the
 * question (compression); the SOAs share one copy of their names.
 * Returns 0 and sets *outlen, or a negative sg_err (-EINVAL, SG_EMALFORMED,
 * SG_ETRUNC, SG_ELIMIT).  Allocates nothing.
 */
int	dns_build_block(const uint8_t *query, size_t qlen,
	    const struct dns_msg *msg, const struct dns_block_spec *spec,
	    uint8_t *out, size_t cap, size_t *outlen) SG_WUR;

/* What a rewritten (safe search) query is answered with. */
struct dns_cname_spec {
	const char		*target;	/* text name, trailing dot optional */
	uint32_t		 cname_ttl;
	const struct sg_addr	*addrs;		/* the target's addresses */
	size_t			 naddrs;	/* AF_INET and AF_INET6, mixed */
	uint32_t		 addr_ttl;
};

/*
 * Builds the answer to a query for a rewritten name into out (cap bytes):
 * a response with the query's id, opcode, RD bit and its one question as
 * sent (case included), AA and RA set, RCODE NOERROR, and in the answer
 * section a CNAME from the question's name to spec->target (TTL
 * spec->cname_ttl), then, for qtype A, AAAA or ANY, the target's addresses
 * of that family from spec->addrs (owned by the target, TTL
 * spec->addr_ttl; ANY gets both families).  Any other qtype (HTTPS, MX,
 * ...) gets the CNAME alone, and so does a family with no address: the
 * client then asks for the target itself.  If the query carried EDNS the
 * answer carries an OPT record (size 1232, DO clear).  The size limit is
 * dns_build_block()'s; if the addresses would pass it they are all left
 * out and the CNAME is sent alone; if even that would not fit, SG_ELIMIT.
 * `query` must be a message dns_parse() accepted as `msg` with exactly one
 * question, of class IN.  The target is checked: labels of 1..63 bytes, at
 * most DNS_NAME_MAX bytes on the wire, not the root.
 * Returns 0 and sets *outlen, or -EINVAL (bad arguments, a bad target,
 * not one question), SG_EUNSUPP (class not IN), SG_EMALFORMED, SG_ETRUNC,
 * SG_ELIMIT.  Allocates nothing; spec is only read.
 */
int	dns_build_cname(const uint8_t *query, size_t qlen,
	    const struct dns_msg *msg, const struct dns_cname_spec *spec,
	    uint8_t *out, size_t cap, size_t *outlen) SG_WUR;

/*
 * "A", "AAAA", ... (a static string) or the number in decimal written into
 * buf, which needs 8 bytes.
 */
const char *dns_type_name(uint16_t type, char *buf, size_t len);

#endif
