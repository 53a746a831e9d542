/*
 * tls.c - the server name in a TLS ClientHello (see tls.h for the contract).
 *
 * Over TCP the ClientHello is a handshake message carried in one or more
 * records of type 22:
 *
 *   stream:  | 16 03 0x LL LL | fragment ... | 16 03 0x LL LL | fragment |
 *                 record header                   record header
 *   message: | 01 | LLLLLL | legacy_version random session_id suites
 *                            compression extensions |
 *
 * The fragments are copied, in order, into a local buffer of TLS_HELLO_MAX
 * bytes (the cap on the whole stream prefix we wait for, record headers
 * included), so no wire length ever sizes anything.  The message is then
 * read as QUIC hands it over.  Nothing is kept between calls: the caller
 * gives the stream from its first byte each time, and the answer depends
 * only on the bytes up to the end of the ClientHello.
 */
#include <string.h>

#include "cursor.h"
#include "tls.h"

#define TLS_CT_HANDSHAKE	22
#define TLS_HS_CLIENT_HELLO	1
#define TLS_REC_HDR		5
#define TLS_REC_MAX		(16384 + 2048)	/* TLSCiphertext bound */

#define EXT_SERVER_NAME		0
#define EXT_SUPPORTED_VERSIONS	43
#define EXT_ECH			0xfe0d

#define SNI_HOST_NAME		0

/* A byte a host name may hold: letters, digits, '-', '_' and '.'. */
static bool
name_byte(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	    (b >= '0' && b <= '9') || b == '-' || b == '_' || b == '.';
}

/*
 * Checks that n bytes at c are a plausible DNS name: 1..TLS_NAME_MAX bytes
 * of name_byte(), labels of 1..63 bytes, no trailing dot (RFC 6066 §3), and
 * copies it into out.  Returns 0 or SG_EMALFORMED.
 */
static int
name_take(struct cursor *c, size_t n, struct tls_hello *out)
{
	struct cursor nc = cursor_sub(c, n);
	size_t label = 0, i;
	uint8_t b;

	if (nc.err || n == 0 || n > TLS_NAME_MAX)
		return SG_EMALFORMED;
	for (i = 0; i < n; i++) {
		b = cursor_u8(&nc);
		if (!name_byte(b))
			return SG_EMALFORMED;
		if (b == '.') {
			if (label == 0)
				return SG_EMALFORMED;
			label = 0;
		} else if (++label > 63)
			return SG_EMALFORMED;
		out->sni[i] = (char)b;
	}
	if (label == 0)
		return SG_EMALFORMED;
	out->sni[n] = '\0';
	out->sni_len = n;
	out->has_sni = true;
	return 0;
}

/*
 * server_name (RFC 6066 §3): a ServerNameList of at least one entry, each
 * a name_type byte and a 16-bit-length name.  The first host_name is kept;
 * a second host_name is refused, as the RFC forbids it and a server may
 * read the other one.  Entries of other types are skipped.
 */
static int
ext_server_name(struct cursor *ext, struct tls_hello *out)
{
	struct cursor list;
	uint16_t llen, nlen;
	uint8_t type;
	int rc;

	llen = cursor_u16(ext);
	list = cursor_sub(ext, llen);
	if (list.err || llen == 0 || cursor_left(ext) != 0)
		return SG_EMALFORMED;
	while (cursor_left(&list) > 0) {
		type = cursor_u8(&list);
		nlen = cursor_u16(&list);
		if (list.err || nlen > cursor_left(&list))
			return SG_EMALFORMED;
		if (type != SNI_HOST_NAME) {
			cursor_skip(&list, nlen);
			continue;
		}
		if (out->has_sni)
			return SG_EMALFORMED;
		if ((rc = name_take(&list, nlen, out)) != 0)
			return rc;
	}
	return list.err ? SG_EMALFORMED : 0;
}

/* supported_versions (RFC 8446 §4.2.1), the ClientHello form. */
static int
ext_supported_versions(struct cursor *ext, struct tls_hello *out)
{
	uint8_t n = cursor_u8(ext);
	uint16_t v;

	if (ext->err || n < 2 || n % 2 != 0 || cursor_left(ext) != n)
		return SG_EMALFORMED;
	while (cursor_left(ext) > 0) {
		v = cursor_u16(ext);
		if (v == 0x0304)
			out->tls13 = true;
	}
	return ext->err ? SG_EMALFORMED : 0;
}

static int
extensions(struct cursor *c, struct tls_hello *out)
{
	struct cursor ext;
	uint16_t type, elen;
	bool seen_sn = false, seen_sv = false;
	int rc;

	while (cursor_left(c) > 0) {
		type = cursor_u16(c);
		elen = cursor_u16(c);
		ext = cursor_sub(c, elen);
		if (ext.err)
			return SG_EMALFORMED;
		/* RFC 8446 §4.2: no two extensions of one type. */
		switch (type) {
		case EXT_SERVER_NAME:
			if (seen_sn)
				return SG_EMALFORMED;
			seen_sn = true;
			if ((rc = ext_server_name(&ext, out)) != 0)
				return rc;
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (seen_sv)
				return SG_EMALFORMED;
			seen_sv = true;
			if ((rc = ext_supported_versions(&ext, out)) != 0)
				return rc;
			break;
		case EXT_ECH:
			if (out->ech)
				return SG_EMALFORMED;
			out->ech = true;
			break;
		default:
			break;
		}
	}
	return c->err ? SG_EMALFORMED : 0;
}

/* The ClientHello body, all of it present: any short read is malformed. */
static int
hello_body(struct cursor *c, struct tls_hello *out)
{
	struct cursor exts;
	uint16_t n;
	uint8_t sid;

	out->legacy_version = cursor_u16(c);
	cursor_skip(c, 32);			/* random */
	sid = cursor_u8(c);
	cursor_skip(c, sid);
	n = cursor_u16(c);			/* cipher_suites */
	cursor_skip(c, n);
	if (c->err || sid > 32 || n < 2 || n % 2 != 0 ||
	    out->legacy_version >> 8 != 3)
		return SG_EMALFORMED;
	n = cursor_u8(c);			/* compression_methods */
	cursor_skip(c, n);
	if (c->err || n < 1)
		return SG_EMALFORMED;
	if (cursor_left(c) == 0)		/* no extensions (SSL 3.0) */
		return 0;
	n = cursor_u16(c);
	exts = cursor_sub(c, n);
	if (exts.err || cursor_left(c) != 0)
		return SG_EMALFORMED;
	return extensions(&exts, out);
}

int
tls_client_hello_msg(const uint8_t *msg, size_t len, struct tls_hello *out)
{
	struct cursor c, body;
	uint32_t blen;
	uint8_t type;
	int rc;

	memset(out, 0, sizeof(*out));
	cursor_init(&c, msg, len);
	type = cursor_u8(&c);
	if (c.err) {
		out->need = 4;
		return SG_ETRUNC;
	}
	if (type != TLS_HS_CLIENT_HELLO)
		return SG_EUNSUPP;
	blen = cursor_u24(&c);
	if (c.err) {
		out->need = 4;
		return SG_ETRUNC;
	}
	if (blen > TLS_HELLO_MAX - 4)
		return SG_ELIMIT;
	body = cursor_sub(&c, blen);
	if (body.err) {
		out->need = 4 + (size_t)blen;
		return SG_ETRUNC;
	}
	rc = hello_body(&body, out);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}

/*
 * Checks what a record header's bytes allow so far (any of them may be
 * missing): content type 22 and a major version of 3, else the stream is
 * not TLS handshake records.  SSLv2-compatible hellos start with a byte
 * whose high bit is set, and fail here too.
 */
static int
record_header_check(const struct cursor *c)
{
	struct cursor h = *c;
	size_t have = cursor_left(&h);

	if (have >= 1 && cursor_u8(&h) != TLS_CT_HANDSHAKE)
		return SG_EUNSUPP;
	if (have >= 2 && cursor_u8(&h) != 3)
		return SG_EUNSUPP;
	return 0;
}

int
tls_client_hello_stream(const uint8_t *buf, size_t len, struct tls_hello *out)
{
	uint8_t hs[TLS_HELLO_MAX];
	struct cursor c;
	size_t have = 0, want = 4, rem, take, avail, need;
	bool known = false;		/* want is the message's length */
	int rc;

	memset(out, 0, sizeof(*out));
	cursor_init(&c, buf, len);
	for (;;) {
		if ((rc = record_header_check(&c)) != 0)
			/* A record of another type inside the hello: broken. */
			return have == 0 ? rc : SG_EMALFORMED;
		if (cursor_left(&c) < TLS_REC_HDR) {
			need = c.pos + TLS_REC_HDR;
			goto trunc;
		}
		cursor_skip(&c, 3);
		rem = cursor_u16(&c);
		/* RFC 8446 §5.1: no empty handshake fragments. */
		if (rem == 0 || rem > TLS_REC_MAX)
			return SG_EMALFORMED;
		while (rem > 0) {
			take = want - have < rem ? want - have : rem;
			if (c.pos + take > TLS_HELLO_MAX)
				return SG_ELIMIT;
			avail = cursor_left(&c) < take ? cursor_left(&c) : take;
			cursor_copy(&c, hs + have, avail);
			have += avail;
			rem -= avail;
			if (avail < take) {
				need = c.pos + (take - avail);
				goto trunc;
			}
			if (!known && have == 4) {
				/* The message header: now its length is known. */
				rc = tls_client_hello_msg(hs, have, out);
				if (rc != SG_ETRUNC)
					return rc;
				want = out->need;
				known = true;
				memset(out, 0, sizeof(*out));
			}
			if (have == want)
				return tls_client_hello_msg(hs, have, out);
		}
	}
trunc:
	if (need > TLS_HELLO_MAX)
		return SG_ELIMIT;
	out->need = need;
	return SG_ETRUNC;
}
