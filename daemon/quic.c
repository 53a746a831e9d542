/*
 * quic.c - client Initial packets: keys, header protection, AEAD, frames
 * and the CRYPTO stream.  See quic.h for the contract.
 *
 * A long-header packet (RFC 9000 section 17.2):
 *
 *   first byte | version (4) | DCID len, DCID | SCID len, SCID |
 *   [Initial: token length (varint), token] | Length (varint) |
 *   packet number (1-4, protected) | payload (AEAD, 16-byte tag last)
 *
 * Length covers the packet number and the payload, so a datagram is walked
 * packet by packet, each read through a sub-cursor of exactly its Length.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cursor.h"
#include "quic.h"

#define QUIC_TAG_LEN		16
#define QUIC_SAMPLE_LEN		16
#define QUIC_VARINT_MAX		((UINT64_C(1) << 62) - 1)

/* Long-header packet types, as numbered by version 1. */
enum quic_ptype { PT_INITIAL, PT_0RTT, PT_HANDSHAKE, PT_RETRY };

/* Frame types allowed in Initial packets (RFC 9000 section 12.4). */
#define FT_PADDING		0x00
#define FT_PING			0x01
#define FT_ACK			0x02
#define FT_ACK_ECN		0x03
#define FT_CRYPTO		0x06
#define FT_CLOSE		0x1c

struct quic_version {
	uint32_t	 first, last;	/* a range of version numbers */
	uint8_t		 salt[20];
	const char	*key_label, *iv_label, *hp_label;
	bool		 v2_types;	/* RFC 9369 long-header types */
};

static const struct quic_version quic_versions[] = {
	{ QUIC_V1, QUIC_V1,
	    { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
	    "quic key", "quic iv", "quic hp", false },
	{ QUIC_V2, QUIC_V2,
	    { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
	    "quicv2 key", "quicv2 iv", "quicv2 hp", true },
	/* draft-33 and -34 already had version 1's salt */
	{ 0xff000021, 0xff000022,
	    { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
	    "quic key", "quic iv", "quic hp", false },
	{ 0xff00001d, 0xff000020,	/* draft-29 to -32 */
	    { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 },
	    "quic key", "quic iv", "quic hp", false },
	{ 0xff000017, 0xff00001c,	/* draft-23 to -28 */
	    { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
	      0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 },
	    "quic key", "quic iv", "quic hp", false },
};

static const struct quic_version *
version_find(uint32_t v)
{
	size_t i;

	for (i = 0; i < sizeof(quic_versions) / sizeof(quic_versions[0]); i++)
		if (v >= quic_versions[i].first && v <= quic_versions[i].last)
			return &quic_versions[i];
	return NULL;
}

/* The type bits of a long header, renumbered as version 1 numbers them. */
static enum quic_ptype
packet_type(const struct quic_version *qv, uint8_t first)
{
	unsigned t = (first >> 4) & 3;

	if (qv->v2_types)	/* v2: Retry 0, Initial 1, 0-RTT 2, Handshake 3 */
		t = (t + 3) & 3;
	return (enum quic_ptype)t;
}

/* A variable-length integer (RFC 9000 section 16). */
static uint64_t
cursor_varint(struct cursor *c)
{
	uint8_t b = cursor_u8(c);
	uint64_t v = b & 0x3f;
	unsigned n = (1u << (b >> 6)) - 1, i;

	for (i = 0; i < n; i++)
		v = v << 8 | cursor_u8(c);
	return c->err ? 0 : v;
}

/* ---------------------------------------------------------------- keys */

/*
 * HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for
 * outputs of at most one SHA-256 block: T(1) = HMAC(secret, info | 0x01).
 */
static int
expand_label(const uint8_t secret[32], const char *label, uint8_t *out,
    size_t len)
{
	uint8_t info[2 + 1 + 255 + 1 + 1], md[EVP_MAX_MD_SIZE];
	size_t llen = strlen(label), n = 0;
	unsigned mdlen = 0;

	if (len > 32 || 6 + llen > 255)
		return -EINVAL;
	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + llen);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;		/* context: empty */
	info[n++] = 1;		/* the block counter */
	if (HMAC(EVP_sha256(), secret, 32, info, n, md, &mdlen) == NULL ||
	    mdlen != 32)
		return -EIO;
	memcpy(out, md, len);
	return 0;
}

int
quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
    struct quic_keys *out)
{
	const struct quic_version *qv = version_find(version);
	uint8_t initial[EVP_MAX_MD_SIZE], client[32];
	static const uint8_t empty[1];
	unsigned len = 0;
	int rc;

	if (qv == NULL)
		return SG_EUNSUPP;
	if (dcid_len > QUIC_CID_MAX)
		return SG_ELIMIT;
	/* HKDF-Extract(salt, DCID) */
	if (HMAC(EVP_sha256(), qv->salt, sizeof(qv->salt),
	    dcid_len > 0 ? dcid : empty, dcid_len, initial, &len) == NULL ||
	    len != 32)
		return -EIO;
	if ((rc = expand_label(initial, "client in", client, 32)) != 0 ||
	    (rc = expand_label(client, qv->key_label, out->key,
	    sizeof(out->key))) != 0 ||
	    (rc = expand_label(client, qv->iv_label, out->iv,
	    sizeof(out->iv))) != 0 ||
	    (rc = expand_label(client, qv->hp_label, out->hp,
	    sizeof(out->hp))) != 0)
		return rc;
	return 0;
}

/* AES-128-ECB of one block: the header protection mask. */
static int
hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16])
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_EncryptUpdate(ctx, mask, &n, sample, 16) == 1 && n == 16;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

/*
 * AES-128-GCM open.  The associated data is the unprotected header, given
 * in three pieces so that the packet is never copied: its first byte, the
 * bytes up to the packet number as they are, and the packet number.
 * SG_EMALFORMED if the tag does not match.
 */
static int
aead_open(const struct quic_keys *k, uint64_t pn, uint8_t first,
    const uint8_t *hdr, size_t hdr_len, const uint8_t *pnb, size_t pn_len,
    const uint8_t *ct, size_t ct_len, const uint8_t *tag, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[12];
	int n = 0, ok, i;

	memcpy(nonce, k->iv, sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, nonce) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, &first, 1) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, hdr, (int)hdr_len) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, pnb, (int)pn_len) == 1 &&
	    (ct_len == 0 ||
	    EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) == 1) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
	    (void *)(uintptr_t)tag) == 1;
	if (ok)
		ok = EVP_DecryptFinal_ex(ctx, out + ct_len, &n) == 1 ? 1 : -1;
	EVP_CIPHER_CTX_free(ctx);
	if (ok == 1)
		return 0;
	return ok < 0 ? SG_EMALFORMED : -EIO;
}

/* ---------------------------------------------------------- reassembly */

void
quic_crypto_init(struct quic_crypto *qc)
{
	memset(qc, 0, sizeof(*qc));
}

size_t
quic_crypto_ready(const struct quic_crypto *qc)
{
	return qc->ready;
}

static bool
have_bit(const struct quic_crypto *qc, size_t off)
{
	return (qc->have[off / 8] >> (off % 8)) & 1;
}

/*
 * Stores len bytes at stream offset off; all or nothing.  The caller has
 * checked that off + len <= QUIC_CRYPTO_MAX.
 */
static int
crypto_store(struct quic_crypto *qc, size_t off, const uint8_t *data,
    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (have_bit(qc, off + i) && qc->buf[off + i] != data[i])
			return SG_EMALFORMED;
	if (len > 0)
		memcpy(qc->buf + off, data, len);
	for (i = off; i < off + len; i++)
		qc->have[i / 8] |= (uint8_t)(1u << (i % 8));
	if (off + len > qc->high)
		qc->high = off + len;
	while (qc->ready < QUIC_CRYPTO_MAX && have_bit(qc, qc->ready))
		qc->ready++;
	return 0;
}

/* -------------------------------------------------------------- frames */

static void
skip_ack(struct cursor *c, bool ecn)
{
	uint64_t ranges;

	(void)cursor_varint(c);		/* largest acknowledged */
	(void)cursor_varint(c);		/* ACK delay */
	ranges = cursor_varint(c);
	(void)cursor_varint(c);		/* first ACK range */
	/* Each range takes two bytes at least: the cursor ends the loop. */
	while (ranges-- > 0 && c->err == 0) {
		(void)cursor_varint(c);	/* gap */
		(void)cursor_varint(c);	/* ACK range length */
	}
	if (ecn) {
		(void)cursor_varint(c);	/* ECT0, ECT1, ECN-CE counts */
		(void)cursor_varint(c);
		(void)cursor_varint(c);
	}
}

int
quic_frames_feed(struct quic_crypto *qc, const uint8_t *plain, size_t len)
{
	struct cursor c;
	uint64_t type, off, n;
	const uint8_t *data;
	int rc;

	cursor_init(&c, plain, len);
	while (cursor_left(&c) > 0) {
		type = cursor_varint(&c);
		switch (type) {
		case FT_PADDING:
		case FT_PING:
			break;
		case FT_ACK:
		case FT_ACK_ECN:
			skip_ack(&c, type == FT_ACK_ECN);
			break;
		case FT_CRYPTO:
			off = cursor_varint(&c);
			n = cursor_varint(&c);
			if (c.err == 0 && n > cursor_left(&c))
				return SG_EMALFORMED;
			data = cursor_bytes(&c, (size_t)n);
			if (c.err)
				break;
			if (off > QUIC_VARINT_MAX - n)
				return SG_EMALFORMED;
			if (off + n > QUIC_CRYPTO_MAX)
				return SG_ELIMIT;
			if ((rc = crypto_store(qc, (size_t)off, data,
			    (size_t)n)) != 0)
				return rc;
			break;
		case FT_CLOSE:
			(void)cursor_varint(&c);	/* error code */
			(void)cursor_varint(&c);	/* frame type */
			n = cursor_varint(&c);		/* reason length */
			if (c.err == 0 && n > cursor_left(&c))
				return SG_EMALFORMED;
			cursor_skip(&c, (size_t)n);
			if (c.err == 0)
				qc->closed = true;
			break;
		default:
			/* Not allowed in an Initial packet, and its length
			   is unknown to us: nothing after it can be read. */
			return c.err ? SG_EMALFORMED : SG_EUNSUPP;
		}
		if (c.err)
			return SG_EMALFORMED;	/* a frame cut short */
	}
	return 0;
}

/*
 * The length of the stream's first handshake message, its 4-byte header
 * included: 0, SG_ETRUNC before the header is there, SG_EMALFORMED if it
 * is not a ClientHello, SG_ELIMIT if it would not fit.
 */
static int
hello_len(const struct quic_crypto *qc, size_t *len)
{
	struct cursor c;
	uint8_t type;
	size_t mlen;

	cursor_init(&c, qc->buf, qc->ready);
	type = cursor_u8(&c);
	mlen = cursor_u24(&c);
	if (c.err)
		return SG_ETRUNC;
	if (type != 1)
		return SG_EMALFORMED;
	if (mlen > QUIC_CRYPTO_MAX - 4)
		return SG_ELIMIT;
	*len = 4 + mlen;
	return 0;
}

/* ------------------------------------------------------------- packets */

/*
 * Removes header protection from and decrypts one Initial packet into
 * plain (QUIC_PAYLOAD_MAX bytes).  pkt is the whole packet (first byte to
 * the end of its Length) and pn_off the offset of its packet number.
 */
static int
initial_open(const struct quic_keys *k, const uint8_t *pkt, size_t pkt_len,
    size_t pn_off, uint8_t *plain, size_t *plain_len)
{
	uint8_t mask[16], pnb[4], first;
	const uint8_t *sample, *ct, *tag, *pnp;
	struct cursor c;
	size_t pn_len, ct_len, i;
	uint64_t pn = 0;
	int rc;

	/* The sample starts 4 bytes after the packet number's start. */
	cursor_init(&c, pkt, pkt_len);
	cursor_seek(&c, pn_off + 4);
	sample = cursor_bytes(&c, QUIC_SAMPLE_LEN);
	if (sample == NULL)
		return SG_EMALFORMED;	/* too short to be protected */
	if ((rc = hp_mask(k->hp, sample, mask)) != 0)
		return rc;
	cursor_init(&c, pkt, pkt_len);
	first = (uint8_t)(cursor_u8(&c) ^ (mask[0] & 0x0f));
	pn_len = (size_t)(first & 3) + 1;
	cursor_seek(&c, pn_off);
	pnp = cursor_bytes(&c, pn_len);
	if (pnp == NULL)
		return SG_EMALFORMED;
	for (i = 0; i < pn_len; i++) {
		pnb[i] = pnp[i] ^ mask[1 + i];
		pn = pn << 8 | pnb[i];
	}
	if (cursor_left(&c) < QUIC_TAG_LEN)
		return SG_EMALFORMED;
	ct_len = cursor_left(&c) - QUIC_TAG_LEN;
	if (ct_len > QUIC_PAYLOAD_MAX)
		return SG_ELIMIT;
	ct = cursor_bytes(&c, ct_len);
	tag = cursor_bytes(&c, QUIC_TAG_LEN);
	if (c.err)
		return SG_EMALFORMED;
	/*
	 * The full packet number would be decoded against the largest one
	 * received; a client's first Initials are numbered from 0, so the
	 * truncated number is the number (RFC 9000 appendix A.3).
	 */
	if ((rc = aead_open(k, pn, first, pkt + 1, pn_off - 1, pnb, pn_len,
	    ct, ct_len, tag, plain)) != 0)
		return rc;
	/* Reserved bits must be zero once protection is off. */
	if (first & 0x0c)
		return SG_EMALFORMED;
	*plain_len = ct_len;
	return 0;
}

/*
 * Decrypts an Initial packet.  Its keys come from the Destination
 * Connection ID of the client's first Initial packet, whatever DCID later
 * ones carry (RFC 9001 section 5.2), until a Retry makes the client start
 * again with the DCID the server chose: so the first DCID is tried first,
 * then the packet's own, which becomes the first one if it works.
 */
static int
initial_decrypt(struct quic_crypto *qc, uint32_t version,
    const uint8_t *dcid, size_t dcid_len, const uint8_t *pkt,
    size_t pkt_len, size_t pn_off, uint8_t *plain, size_t *plain_len)
{
	struct quic_keys k;
	int rc = SG_EMALFORMED;

	if (qc->odcid_len > 0 && (rc = quic_initial_keys(version, qc->odcid,
	    qc->odcid_len, &k)) == 0) {
		rc = initial_open(&k, pkt, pkt_len, pn_off, plain, plain_len);
		if (rc != SG_EMALFORMED)
			return rc;
		if (dcid_len == qc->odcid_len &&
		    memcmp(dcid, qc->odcid, dcid_len) == 0)
			return rc;
	}
	if ((rc = quic_initial_keys(version, dcid, dcid_len, &k)) != 0)
		return rc;
	if ((rc = initial_open(&k, pkt, pkt_len, pn_off, plain,
	    plain_len)) != 0)
		return rc;
	if (dcid_len > 0)
		memcpy(qc->odcid, dcid, dcid_len);
	qc->odcid_len = (uint8_t)dcid_len;
	return 0;
}

int
quic_initial_feed(struct quic_crypto *qc, const uint8_t *dgram, size_t len,
    struct quic_info *info)
{
	struct quic_info dummy;
	const struct quic_version *qv;
	uint8_t plain[QUIC_PAYLOAD_MAX];
	size_t start, pn_off, plain_len = 0;
	struct cursor c, pc;
	const uint8_t *dcid, *pkt;
	uint8_t first, dcid_len, scid_len;
	uint32_t version;
	uint64_t n;
	size_t mlen = 0;
	int rc = 0;

	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	cursor_init(&c, dgram, len);
	while (cursor_left(&c) > 0) {
		start = c.pos;
		if ((cursor_peek_u8(&c) & 0x80) == 0)
			break;		/* a short header, or padding: done */
		first = cursor_u8(&c);
		version = cursor_u32(&c);
		if (c.err) {
			rc = SG_ETRUNC;
			break;
		}
		if ((qv = version_find(version)) == NULL) {
			if (start == 0)
				rc = SG_EUNSUPP;
			break;		/* not ours to read further */
		}
		if (info->version == 0)
			info->version = version;
		dcid_len = cursor_u8(&c);
		dcid = cursor_bytes(&c, dcid_len);
		scid_len = cursor_u8(&c);
		cursor_skip(&c, scid_len);
		if (c.err == 0 && (dcid_len > QUIC_CID_MAX ||
		    scid_len > QUIC_CID_MAX)) {
			rc = SG_EMALFORMED;
			break;
		}
		if (packet_type(qv, first) == PT_RETRY)
			break;		/* no Length: it takes the rest */
		if (packet_type(qv, first) == PT_INITIAL) {
			n = cursor_varint(&c);	/* token length */
			if (c.err == 0 && n > cursor_left(&c)) {
				rc = SG_ETRUNC;
				break;
			}
			cursor_skip(&c, (size_t)n);
		}
		n = cursor_varint(&c);		/* Length */
		if (c.err == 0 && n > cursor_left(&c)) {
			rc = SG_ETRUNC;
			break;
		}
		pn_off = c.pos - start;
		cursor_skip(&c, (size_t)n);
		if (c.err) {
			rc = SG_ETRUNC;
			break;
		}
		if (packet_type(qv, first) != PT_INITIAL)
			continue;	/* 0-RTT, Handshake: skipped */
		/* The whole packet, through a cursor of its own. */
		pc = c;
		cursor_seek(&pc, start);
		pkt = cursor_bytes(&pc, pn_off + (size_t)n);
		if (pkt == NULL) {
			rc = SG_ETRUNC;
			break;
		}
		if ((rc = initial_decrypt(qc, version, dcid, dcid_len, pkt,
		    pn_off + (size_t)n, pn_off, plain, &plain_len)) != 0 ||
		    (rc = quic_frames_feed(qc, plain, plain_len)) != 0)
			break;
		if (info->initials++ == 0) {
			memcpy(info->dcid, dcid, dcid_len);
			info->dcid_len = dcid_len;
		}
		qc->version = version;
	}
	if (rc == 0 && c.err)
		rc = SG_ETRUNC;
	if (rc == 0 && info->initials == 0)
		rc = info->version != 0 ? SG_ENOTFOUND : SG_EUNSUPP;
	info->ready = qc->ready;
	info->closed = qc->closed;
	info->complete = hello_len(qc, &mlen) == 0 && qc->ready >= mlen;
	return rc;
}

int
quic_client_hello(const struct quic_crypto *qc, struct tls_hello *out)
{
	size_t mlen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = hello_len(qc, &mlen)) != 0) {
		if (rc == SG_ETRUNC)
			out->need = 4;
		return rc;
	}
	if (qc->ready < mlen) {
		out->need = mlen;
		return SG_ETRUNC;
	}
	return tls_client_hello_msg(qc->buf, mlen, out);
}
