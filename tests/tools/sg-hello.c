/*
 * sg-hello - writes the first bytes a TLS or QUIC client sends, shaped the
 * way a bypass test asks, as hex on stdout.  A test tool (tests/bypass):
 * real clients cannot send an ECH extension, a QUIC Initial or a QUIC v2
 * Initial here, so their bytes are built.
 *
 *   sg-hello tls  [-s SNI] [-e] [-r CUT]...
 *	one line: the ClientHello in TLS records.  -r splits the handshake
 *	message into another record at byte CUT (repeatable, increasing).
 *   sg-hello quic [-s SNI] [-e] [-v 1|2|0xVERSION] [-n N] [-c] [-P BYTES]
 *	    [-d DCID]
 *	one line per UDP datagram of a client's first flight: Initial
 *	packets (RFC 9001; RFC 9369 for -v 2), each padded with PADDING
 *	frames to a 1200-byte datagram.  -n N spreads the CRYPTO stream over
 *	N Initial packets, one datagram each; -c coalesces instead: two
 *	Initial packets (the stream in two halves, the second half first)
 *	and a 0-RTT packet in one datagram; -P appends BYTES zero bytes
 *	after the last packet of every datagram (RFC 9000 section 14.1);
 *	-d sets the Destination Connection ID (hex, 1 to 20 bytes), so
 *	that a listener can tell one test's datagrams from another's.
 *
 * Common: -s SNI, as given (case, trailing dot; none without -s); -e adds
 * an encrypted_client_hello extension (0xfe0d) whose payload is noise, as
 * GREASE ECH is: SNI is then the outer, public name.
 *
 * The ClientHello offers TLS 1.3 with an x25519 key share of fixed bytes,
 * so a real TLS 1.3 server answers it with a ServerHello.  Nothing is
 * random: the same arguments always give the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "quic.h"

#define OUT_MAX		4096
#define DGRAM_MIN	1200
#define CUTS_MAX	16

struct wbuf {
	uint8_t		b[OUT_MAX];
	size_t		len;
};

static void
die(const char *why)
{
	fprintf(stderr, "sg-hello: %s\n", why);
	exit(2);
}

static void
put(struct wbuf *w, const void *p, size_t n)
{
	if (n > sizeof(w->b) - w->len)
		die("too long");
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void
put8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void
put16(struct wbuf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

/* A length field of n bytes, filled in by close_len(). */
static size_t
open_len(struct wbuf *w, size_t n)
{
	size_t at = w->len;

	while (n-- > 0)
		put8(w, 0);
	return at;
}

static void
close_len(struct wbuf *w, size_t at, size_t n)
{
	size_t v = w->len - at - n, i;

	for (i = 0; i < n; i++)
		w->b[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void
ext_begin(struct wbuf *w, unsigned type, size_t *at)
{
	put16(w, type);
	*at = open_len(w, 2);
}

/* The ClientHello handshake message, its 4-byte header included. */
static void
client_hello(struct wbuf *w, const char *sni, bool ech, bool quic)
{
	static const unsigned groups[] = { 0x001d, 0x0017 };
	static const unsigned sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503,
		0x0805, 0x0501, 0x0806, 0x0601 };
	size_t hs, exts, e, l, n, i;

	put8(w, 1);
	hs = open_len(w, 3);
	put16(w, 0x0303);
	for (i = 0; i < 32; i++)
		put8(w, 0x11 * (i % 16));
	l = open_len(w, 1);			/* legacy_session_id */
	for (i = 0; !quic && i < 32; i++)
		put8(w, 0xa0 + i);
	close_len(w, l, 1);
	put16(w, 6);				/* cipher_suites */
	put16(w, 0x1301);
	put16(w, 0x1302);
	put16(w, 0x1303);
	put8(w, 1);				/* compression: null */
	put8(w, 0);
	exts = open_len(w, 2);
	if (sni != NULL) {
		ext_begin(w, 0, &e);		/* server_name */
		l = open_len(w, 2);
		put8(w, 0);
		n = open_len(w, 2);
		put(w, sni, strlen(sni));
		close_len(w, n, 2);
		close_len(w, l, 2);
		close_len(w, e, 2);
	}
	ext_begin(w, 10, &e);			/* supported_groups */
	put16(w, 2 * (sizeof(groups) / sizeof(groups[0])));
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		put16(w, groups[i]);
	close_len(w, e, 2);
	ext_begin(w, 13, &e);			/* signature_algorithms */
	put16(w, 2 * (sizeof(sigs) / sizeof(sigs[0])));
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		put16(w, sigs[i]);
	close_len(w, e, 2);
	ext_begin(w, 43, &e);			/* supported_versions */
	put8(w, 2);
	put16(w, 0x0304);
	close_len(w, e, 2);
	ext_begin(w, 45, &e);			/* psk_key_exchange_modes */
	put8(w, 1);
	put8(w, 1);
	close_len(w, e, 2);
	ext_begin(w, 51, &e);			/* key_share: x25519 */
	l = open_len(w, 2);
	put16(w, 0x001d);
	put16(w, 32);
	for (i = 0; i < 32; i++)
		put8(w, 9 + i);
	close_len(w, l, 2);
	close_len(w, e, 2);
	if (quic) {
		ext_begin(w, 16, &e);		/* ALPN: h3 */
		put16(w, 3);
		put8(w, 2);
		put(w, "h3", 2);
		close_len(w, e, 2);
		ext_begin(w, 0x39, &e);		/* quic_transport_parameters */
		put8(w, 0x04);			/* initial_max_data */
		put8(w, 4);
		put8(w, 0x80);
		put8(w, 0x10);
		put16(w, 0);
		close_len(w, e, 2);
	}
	if (ech) {
		ext_begin(w, 0xfe0d, &e);	/* ECHClientHello, outer */
		put8(w, 0);			/* type outer */
		put16(w, 0x0001);		/* HKDF-SHA256 */
		put16(w, 0x0001);		/* AES-128-GCM */
		put8(w, 0x42);			/* config_id */
		put16(w, 32);			/* enc */
		for (i = 0; i < 32; i++)
			put8(w, 0x5a ^ i);
		put16(w, 144);			/* payload: noise */
		for (i = 0; i < 144; i++)
			put8(w, (uint8_t)(i * 7 + 3));
		close_len(w, e, 2);
	}
	close_len(w, exts, 2);
	close_len(w, hs, 3);
}

static void
hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* ---------------------------------------------------------------- tls */

static int
tls(const char *sni, bool ech, const size_t *cuts, size_t ncuts)
{
	struct wbuf m = { .len = 0 }, out = { .len = 0 };
	size_t pos = 0, end, i;

	client_hello(&m, sni, ech, false);
	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : m.len;
		if (end <= pos || end > m.len)
			die("cuts must increase, inside the message");
		put8(&out, 22);
		put16(&out, i == 0 ? 0x0301 : 0x0303);
		put16(&out, (unsigned)(end - pos));
		put(&out, m.b + pos, end - pos);
		pos = end;
	}
	hex(out.b, out.len);
	return 0;
}

/* --------------------------------------------------------------- quic */

static uint8_t dcid[QUIC_CID_MAX] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51,
	0x57, 0x08 };
static size_t dcid_len = 8;
static const uint8_t scid[4] = { 0xc1, 0x1e, 0x17, 0x70 };

/* A CRYPTO frame with 2-byte varints. */
static void
crypto_frame(struct wbuf *w, size_t off, const uint8_t *data, size_t len)
{
	put8(w, 0x06);
	put16(w, 0x4000 | (unsigned)off);
	put16(w, 0x4000 | (unsigned)len);
	put(w, data, len);
}

/*
 * One protected long-header packet of type `type` (v1 numbering: 0
 * Initial, 1 0-RTT) and packet number pn, its plaintext padded with
 * PADDING frames to `plen` bytes, appended to d.
 */
static void
packet(struct wbuf *d, uint32_t version, int type, uint32_t pn,
    const struct wbuf *plain, size_t plen)
{
	struct quic_keys k;
	uint8_t pt[OUT_MAX], nonce[12], mask[16], *h;
	EVP_CIPHER_CTX *ctx;
	size_t start = d->len, pn_off, i, hlen;
	unsigned bits;
	int n;

	if (plen < plain->len)
		plen = plain->len;
	if (plen > sizeof(pt))
		die("packet too long");
	memset(pt, 0, plen);
	memcpy(pt, plain->b, plain->len);
	/* A version safegate does not know gets version 1's keys: what
	 * matters then is only that it is not read. */
	if (quic_initial_keys(version, dcid, dcid_len, &k) != 0 &&
	    quic_initial_keys(QUIC_V1, dcid, dcid_len, &k) != 0)
		die("libcrypto: keys");
	/* RFC 9369 3.2: v2 numbers Initial 1, 0-RTT 2 */
	bits = version == QUIC_V2 ? (unsigned)(type + 1) & 3 : (unsigned)type;
	put8(d, 0xc0 | bits << 4 | 3);	/* 4-byte packet number */
	put8(d, version >> 24);
	put8(d, version >> 16);
	put8(d, version >> 8);
	put8(d, version);
	put8(d, dcid_len);
	put(d, dcid, dcid_len);
	put8(d, sizeof(scid));
	put(d, scid, sizeof(scid));
	if (type == 0)
		put8(d, 0);			/* token length */
	put16(d, 0x4000 | (unsigned)(4 + plen + 16));
	pn_off = d->len - start;
	put8(d, pn >> 24);
	put8(d, pn >> 16);
	put8(d, pn >> 8);
	put8(d, pn);
	hlen = d->len - start;
	if (plen + 16 > sizeof(d->b) - d->len)
		die("datagram too long");
	h = d->b + start;
	memcpy(nonce, k.iv, 12);
	for (i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, h, (int)hlen) != 1 ||
	    EVP_EncryptUpdate(ctx, h + hlen, &n, pt, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, h + hlen + plen, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    h + hlen + plen) != 1)
		die("libcrypto: seal");
	EVP_CIPHER_CTX_free(ctx);
	d->len += plen + 16;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp,
	    NULL) != 1 || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, mask, &n, h + pn_off + 4, 16) != 1)
		die("libcrypto: header protection");
	EVP_CIPHER_CTX_free(ctx);
	h[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		h[pn_off + i] ^= mask[1 + i];
}

/* The plaintext size that makes a datagram of `have` bytes so far plus
 * one packet of this version reach DGRAM_MIN. */
static size_t
pad_to_min(size_t have, int type)
{
	/* first byte, version, CIDs, token (Initial), Length, pn, tag */
	size_t over = 1 + 4 + 1 + dcid_len + 1 + sizeof(scid) +
	    (type == 0 ? 1 : 0) + 2 + 4 + 16;

	return have + over >= DGRAM_MIN ? 0 : DGRAM_MIN - have - over;
}

static int
quic(const char *sni, bool ech, uint32_t version, size_t npkts, bool coal,
    size_t tail)
{
	struct wbuf m = { .len = 0 }, f, d, junk = { .len = 0 };
	size_t per, off, len, i, half;

	client_hello(&m, sni, ech, true);
	if (coal) {
		/* second half first, then the first: order is the reader's
		 * problem, as RFC 9000 19.6 allows */
		half = m.len / 2;
		d.len = 0;
		f.len = 0;
		crypto_frame(&f, half, m.b + half, m.len - half);
		packet(&d, version, 0, 0, &f, 0);
		f.len = 0;
		crypto_frame(&f, 0, m.b, half);
		put8(&junk, 0x01);		/* PING, in the 0-RTT packet */
		put(&junk, "0-RTT", 5);
		packet(&d, version, 0, 1, &f, 0);
		packet(&d, version, 1, 2, &junk, 0);
		while (d.len < DGRAM_MIN)
			put8(&d, 0);
		for (i = 0; i < tail; i++)
			put8(&d, 0);
		hex(d.b, d.len);
		return 0;
	}
	if (npkts == 0 || npkts > m.len)
		die("bad -n");
	per = (m.len + npkts - 1) / npkts;
	for (i = 0, off = 0; off < m.len; i++, off += len) {
		len = m.len - off < per ? m.len - off : per;
		d.len = 0;
		f.len = 0;
		crypto_frame(&f, off, m.b + off, len);
		packet(&d, version, 0, (uint32_t)i, &f, pad_to_min(0, 0));
		for (size_t j = 0; j < tail; j++)
			put8(&d, 0);
		hex(d.b, d.len);
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sg-hello tls [-s sni] [-e] [-r cut]...\n"
	    "       sg-hello quic [-s sni] [-e] [-v 1|2|0xversion] [-n n] "
	    "[-c] [-P bytes] [-d dcid]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *sni = NULL;
	size_t cuts[CUTS_MAX], ncuts = 0, npkts = 1, tail = 0;
	uint32_t version = QUIC_V1;
	bool ech = false, coal = false;
	unsigned long v;
	int ch;

	if (argc < 2)
		usage();
	optind = 2;
	while ((ch = getopt(argc, argv, "s:er:v:n:cP:d:")) != -1) {
		switch (ch) {
		case 's':
			sni = optarg;
			break;
		case 'e':
			ech = true;
			break;
		case 'r':
			if (ncuts == CUTS_MAX)
				usage();
			cuts[ncuts++] = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			v = strtoul(optarg, NULL, 0);
			version = v == 2 ? QUIC_V2 : (uint32_t)v;
			break;
		case 'n':
			npkts = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			coal = true;
			break;
		case 'P':
			tail = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			for (dcid_len = 0; optarg[0] != '\0' &&
			    optarg[1] != '\0'; optarg += 2) {
				if (dcid_len == sizeof(dcid) || sscanf(optarg,
				    "%2hhx", &dcid[dcid_len]) != 1)
					usage();
				dcid_len++;
			}
			if (dcid_len == 0 || optarg[0] != '\0')
				usage();
			break;
		default:
			usage();
		}
	}
	if (strcmp(argv[1], "tls") == 0)
		return tls(sni, ech, cuts, ncuts);
	if (strcmp(argv[1], "quic") == 0)
		return quic(sni, ech, version, npkts, coal, tail);
	usage();
	return 2;
}
