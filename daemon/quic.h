/*
 * quic.h - the ClientHello a QUIC client sends in its Initial packets.
 *
 * Initial packets are encrypted, but with keys anyone can derive from the
 * packet's Destination Connection ID (RFC 9001 section 5.2; RFC 9369 for
 * QUIC version 2).  This module derives them, removes header protection,
 * decrypts and authenticates each client Initial packet of a UDP datagram
 * (several packets may be coalesced in one datagram: other types are
 * skipped, a short header or padding ends the walk), reads its frames and
 * puts the CRYPTO stream back together, in whatever order its pieces come
 * and across as many datagrams as it takes.  The stream's first message is
 * the ClientHello, which tls.h reads.
 *
 * Versions: 1 (0x00000001), 2 (0x6b3343cf), and the IETF drafts 23 to 34
 * (0xff000017-0xff000022), which only differ from version 1 by their salt.
 * Anything else - gQUIC, version negotiation, unknown versions - is
 * SG_EUNSUPP.
 *
 * Reassembly, per connection (the caller keeps one struct quic_crypto per
 * client flow and feeds it only that client's datagrams):
 *
 *    offset 0                         ready            QUIC_CRYPTO_MAX
 *    |################################|....####..##....|
 *     received, contiguous from 0       holes  later pieces
 *
 * buf holds the bytes at their stream offset and `have` is a bitmap of the
 * offsets received.  A piece that overlaps bytes already there must carry
 * the same bytes (SG_EMALFORMED otherwise); a piece that ends beyond
 * QUIC_CRYPTO_MAX is SG_ELIMIT.  No length read off the wire ever sizes an
 * allocation: every length is checked through the cursor (cursor.h)
 * against the bytes there are, and nothing here allocates but libcrypto's
 * cipher contexts.
 *
 * Ownership: the datagram is only read, during the call.  A struct
 * quic_crypto owns copies of the stream bytes; it holds no pointer and no
 * resource, so it may be zeroed, copied or thrown away at any time.
 * Nothing is logged and no payload leaves the struct.
 */
#ifndef SG_QUIC_H
#define SG_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tls.h"

#define QUIC_V1			0x00000001u
#define QUIC_V2			0x6b3343cfu
#define QUIC_CID_MAX		20	/* connection ID bytes (RFC 9000) */
#define QUIC_CRYPTO_MAX		TLS_HELLO_MAX	/* CRYPTO stream bytes kept */
#define QUIC_PAYLOAD_MAX	4096	/* plaintext of one Initial packet;
					   a longer one is SG_ELIMIT */

/*
 * Per-connection reassembly state.  The fields are private to quic.c: they
 * are here only so that callers can embed the struct (about 18 KiB)
 * without an allocation.  quic_crypto_init() before first use.
 */
struct quic_crypto {
	uint8_t		buf[QUIC_CRYPTO_MAX];
	uint8_t		have[QUIC_CRYPTO_MAX / 8];	/* bit per offset */
	size_t		ready;		/* contiguous bytes from offset 0 */
	size_t		high;		/* one past the highest offset seen */
	uint32_t	version;	/* of the last Initial read, or 0 */
	uint8_t		odcid[QUIC_CID_MAX];	/* the DCID the keys come
					   from (RFC 9001 section 5.2) */
	uint8_t		odcid_len;
	bool		closed;		/* a CONNECTION_CLOSE was read */
};

/* What one datagram brought. */
struct quic_info {
	uint32_t	version;	/* of the first long-header packet */
	uint8_t		dcid[QUIC_CID_MAX];	/* of the first Initial read
					   (copied) */
	size_t		dcid_len;
	unsigned	initials;	/* Initial packets decrypted */
	size_t		ready;		/* contiguous CRYPTO bytes from 0 */
	bool		complete;	/* the first handshake message (the
					   ClientHello) is all there */
	bool		closed;		/* a CONNECTION_CLOSE was read */
};

/* The keys of one direction of an Initial packet protection. */
struct quic_keys {
	uint8_t		key[16];	/* AEAD_AES_128_GCM */
	uint8_t		iv[12];
	uint8_t		hp[16];		/* AES-128-ECB header protection */
};

void	quic_crypto_init(struct quic_crypto *);

/*
 * Derives the client's Initial keys for a version and a Destination
 * Connection ID (at most QUIC_CID_MAX bytes).  0, SG_EUNSUPP for a version
 * not listed above, SG_ELIMIT for a longer ID, or -EIO if libcrypto fails.
 */
int	quic_initial_keys(uint32_t version, const uint8_t *dcid,
	    size_t dcid_len, struct quic_keys *out) SG_WUR;

/*
 * Reads one UDP datagram from the client.  Every client Initial packet in
 * it is decrypted and its frames read; CRYPTO data goes into qc.  The keys
 * come from the DCID of the first Initial qc decrypted (later Initials
 * keep those keys even when their DCID changes, RFC 9001 section 5.2), or
 * else from the packet's own DCID (after a Retry).  info (which may be
 * NULL) is filled in on every return.
 *
 * Returns 0 when at least one Initial packet was read and all went well;
 * SG_EUNSUPP when the datagram is not a long-header packet of a version
 * listed above (so the flow is not QUIC we can read); SG_ENOTFOUND when it
 * is, but holds no Initial packet (0-RTT, Handshake, Retry); SG_ETRUNC
 * when a packet claims more bytes than the datagram has; SG_EMALFORMED for
 * broken headers, a packet that does not authenticate (say, one from the
 * server, whose keys differ) or broken frames; SG_EUNSUPP also for a frame
 * type that has no place in an Initial packet; SG_ELIMIT as
 * quic_frames_feed().  On an error, what earlier packets of the datagram
 * brought stays in qc.
 */
int	quic_initial_feed(struct quic_crypto *qc, const uint8_t *dgram,
	    size_t len, struct quic_info *info) SG_WUR;

/*
 * The ClientHello, once the CRYPTO stream holds all of it: 0 with *out
 * filled (tls_client_hello_msg()); SG_ETRUNC until then (out->need is
 * the stream bytes needed, when known); SG_EMALFORMED when the stream does
 * not start with a ClientHello; SG_ELIMIT when the message is longer than
 * QUIC_CRYPTO_MAX; or tls_client_hello_msg()'s errors.
 */
int	quic_client_hello(const struct quic_crypto *qc, struct tls_hello *out)
	    SG_WUR;

/* Contiguous CRYPTO bytes from offset 0 (they start at qc->buf). */
size_t	quic_crypto_ready(const struct quic_crypto *qc);

/*
 * Internal entry point, exposed for the fuzzer and the unit tests only:
 * reads the frames of one decrypted Initial packet payload into qc, as
 * quic_initial_feed() does after decryption.  0, SG_EMALFORMED,
 * SG_EUNSUPP (a frame not allowed in Initial packets), or SG_ELIMIT (a
 * CRYPTO frame ending beyond QUIC_CRYPTO_MAX).  The daemon never calls it.
 */
int	quic_frames_feed(struct quic_crypto *qc, const uint8_t *plain,
	    size_t len) SG_WUR;

#endif
