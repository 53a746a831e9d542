/*
 * tls.h - the server name a TLS client asks for, read from its
 * ClientHello, without decrypting anything.
 *
 * Two entry points, for the two ways a ClientHello arrives:
 *   - over TCP, as the first bytes of the stream: TLS records (type 22,
 *     handshake), and a ClientHello may be split across records and across
 *     segments; the caller gives the stream bytes it has so far, from the
 *     first one, and is told to come back with more;
 *   - in QUIC, as the CRYPTO stream of Initial packets: the handshake
 *     message itself, with no record layer (quic.h reassembles it).
 *
 * Every length is checked against the bytes there are; a ClientHello is
 * read through the cursor (cursor.h) and never trusted.  Nothing is kept:
 * the name is copied out, and the caller's buffer is only read.
 */
#ifndef SG_TLS_H
#define SG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TLS_NAME_MAX		253	/* text bytes of a host name */
#define TLS_HELLO_MAX		16384	/* the most we ever wait for: one
					   handshake message of a ClientHello,
					   records included, is capped here */

struct tls_hello {
	bool		has_sni;	/* a server_name extension with a
					   host_name entry */
	char		sni[TLS_NAME_MAX + 1];	/* as sent, NUL-terminated;
					   empty without has_sni */
	size_t		sni_len;
	bool		ech;		/* encrypted_client_hello (0xfe0d)
					   present: sni is the outer, public
					   name */
	uint16_t	legacy_version;	/* client_version field */
	bool		tls13;		/* supported_versions offers 0x0304 */
	size_t		need;		/* on SG_ETRUNC: stream bytes needed
					   before trying again (at most
					   TLS_HELLO_MAX) */
};

/*
 * Reads the ClientHello at the start of a TLS stream (len bytes from the
 * first byte the client sent).  Returns 0 with *out filled; SG_ETRUNC when
 * more bytes are needed (out->need says how many in all); SG_EUNSUPP when
 * the stream is not TLS handshake records (so the flow is something else);
 * SG_EMALFORMED when it is TLS but broken; SG_ELIMIT when the ClientHello
 * would be longer than TLS_HELLO_MAX.
 */
int	tls_client_hello_stream(const uint8_t *buf, size_t len,
	    struct tls_hello *out) SG_WUR;

/*
 * Reads one ClientHello handshake message (type 1, its 4-byte header
 * included), as QUIC carries it.  The same returns, SG_ETRUNC meaning the
 * message is longer than len.
 */
int	tls_client_hello_msg(const uint8_t *msg, size_t len,
	    struct tls_hello *out) SG_WUR;

#endif
