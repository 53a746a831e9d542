/*
 * fuzz_quic.c - quic.h on anything.  The first byte picks what the rest is:
 *
 *   0  one UDP datagram, to quic_initial_feed();
 *   1  several datagrams ([2-byte length][bytes]...) into one quic_crypto;
 *   2  several decrypted Initial payloads, the same way, straight into
 *      quic_frames_feed() (the internal entry point quic.h exposes for
 *      this): random bytes never authenticate, so this is how the frame
 *      parser and the reassembly get fuzzed;
 *   3  one payload, encrypted here as a version 1 client Initial with the
 *      RFC 9001 appendix A DCID, then fed as a datagram: it must decrypt,
 *      and do exactly what mode 2 does with the same bytes.
 *
 * Whatever comes in: no crash, no read out of bounds, ready never beyond
 * QUIC_CRYPTO_MAX, and a "complete" ClientHello is never SG_ETRUNC.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "cursor.h"
#include "quic.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct quic_crypto qc, qc2;

static void
check(const struct quic_crypto *q, bool complete)
{
	struct tls_hello h;
	int rc;

	assert(quic_crypto_ready(q) <= QUIC_CRYPTO_MAX);
	rc = quic_client_hello(q, &h);
	assert(!complete || rc != SG_ETRUNC);
	if (rc == 0)
		assert(!h.has_sni || strlen(h.sni) == h.sni_len);
}

/* A v1 client Initial around a payload padded to 1162 bytes. */
static size_t
seal(const uint8_t *plain, size_t plen, uint8_t *out)
{
	static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51,
		0x57, 0x08 };
	static const uint8_t hdr[] = { 0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8,
		0xf0, 0x3e, 0x51, 0x57, 0x08, 0, 0, 0x44, 0x9e, 0, 0, 0, 2 };
	uint8_t pt[1162] = { 0 }, nonce[12], mask[16];
	struct quic_keys k;
	EVP_CIPHER_CTX *ctx;
	int n, i;

	memcpy(pt, plain, plen < sizeof(pt) ? plen : sizeof(pt));
	assert(quic_initial_keys(QUIC_V1, dcid, 8, &k) == 0);
	memcpy(out, hdr, sizeof(hdr));
	memcpy(nonce, k.iv, 12);
	nonce[11] ^= 2;
	ctx = EVP_CIPHER_CTX_new();
	assert(ctx != NULL);
	assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key,
	    nonce) == 1);
	assert(EVP_EncryptUpdate(ctx, NULL, &n, hdr, sizeof(hdr)) == 1);
	assert(EVP_EncryptUpdate(ctx, out + sizeof(hdr), &n, pt,
	    sizeof(pt)) == 1);
	assert(EVP_EncryptFinal_ex(ctx, out + sizeof(hdr) + sizeof(pt),
	    &n) == 1);
	assert(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    out + sizeof(hdr) + sizeof(pt)) == 1);
	EVP_CIPHER_CTX_free(ctx);
	ctx = EVP_CIPHER_CTX_new();
	assert(ctx != NULL);
	assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp,
	    NULL) == 1);
	assert(EVP_EncryptUpdate(ctx, mask, &n, out + 18 + 4, 16) == 1);
	EVP_CIPHER_CTX_free(ctx);
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		out[18 + i] ^= mask[1 + i];
	return sizeof(hdr) + sizeof(pt) + 16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sealed[1200];
	struct quic_info info;
	struct cursor c;
	const uint8_t *p;
	size_t n;
	int rc, rc2;

	if (size < 1)
		return 0;
	quic_crypto_init(&qc);
	cursor_init(&c, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		(void)quic_initial_feed(&qc, data + 1, size - 1, &info);
		check(&qc, info.complete);
		break;
	case 1:
	case 2:
		while (cursor_left(&c) > 0) {
			n = cursor_u16(&c);
			if (n > cursor_left(&c))
				n = cursor_left(&c);
			p = cursor_bytes(&c, n);
			if (data[0] % 4 == 1) {
				(void)quic_initial_feed(&qc, p, n, &info);
				check(&qc, info.complete);
			} else {
				(void)quic_frames_feed(&qc, p, n);
				check(&qc, false);
			}
		}
		break;
	case 3:
		n = size - 1 < 1162 ? size - 1 : 1162;
		assert(seal(data + 1, n, sealed) == sizeof(sealed));
		rc = quic_initial_feed(&qc, sealed, sizeof(sealed), &info);
		quic_crypto_init(&qc2);
		{
			static uint8_t pt[1162];

			memset(pt, 0, sizeof(pt));
			memcpy(pt, data + 1, n);
			rc2 = quic_frames_feed(&qc2, pt, sizeof(pt));
		}
		assert(rc == rc2);
		assert(qc.ready == qc2.ready &&
		    memcmp(qc.buf, qc2.buf, qc.ready) == 0);
		check(&qc, info.complete);
		break;
	}
	return 0;
}
