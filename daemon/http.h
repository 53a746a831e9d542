/*
 * http.h - the host the first HTTP/1.x request on a TCP stream is for.
 *
 * The caller gives the bytes the client sent so far, from the first one,
 * and is told to come back with more until the header block (request line,
 * header fields, the empty line) is complete.  Only that block is read; the
 * body and any pipelined request after it are not.  Nothing is kept: the
 * method and host are copied out, and the caller's buffer is only read,
 * through the cursor (cursor.h).
 *
 * What is accepted (RFC 9112), and strictly, because a filter that reads a
 * request differently from the server behind it can be walked past:
 *   - request line: method token (at most HTTP_METHOD_MAX bytes) SP
 *     request-target (visible ASCII) SP "HTTP/1." DIGIT CRLF; anything else
 *     is SG_EUNSUPP (not HTTP/1.x, so the flow is something else);
 *   - lines end in CRLF; a bare CR or LF is SG_EMALFORMED;
 *   - field names are tokens, matched case-insensitively, with no space
 *     before the colon; values are visible ASCII, obs-text, SP and HTAB;
 *   - obs-fold (a line starting with SP or HTAB) and a second Host field
 *     are SG_EMALFORMED: both are request-smuggling tools;
 *   - the host is a DNS-like name (letters, digits, '-', '_', '.', '~';
 *     one trailing dot dropped), an IPv4 literal, or an IPv6 literal in
 *     brackets; an optional ":port" (decimal, at most 65535) follows.
 *
 * Where the host comes from: a request-target in absolute form (a proxy
 * request, "GET http://host:port/path HTTP/1.1") or authority form
 * (CONNECT host:port) names the host itself, and then it wins over the Host
 * field, which is still checked: RFC 9112 §3.2.2 tells a server to ignore
 * Host for an absolute-form target, so the target is what the server
 * acts on.  Otherwise (origin and asterisk form) the Host field names it.
 * A request with neither (HTTP/1.0 without Host) is read with has_host
 * false.
 */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HTTP_HEADER_MAX	8192	/* request line + fields + empty line */
#define HTTP_METHOD_MAX	16
#define HTTP_HOST_MAX	253	/* text bytes of a host */

struct http_request {
	char		method[HTTP_METHOD_MAX + 1];	/* copied, as sent,
					   NUL-terminated */
	uint8_t		minor;		/* HTTP/1.minor */
	bool		has_host;
	char		host[HTTP_HOST_MAX + 1];	/* copied, lower case,
					   no port, no brackets, no trailing
					   dot, NUL-terminated; empty without
					   has_host */
	size_t		host_len;
	bool		is_ip;		/* host is an IPv4 or IPv6 literal */
	bool		from_target;	/* host came from the request-target */
	uint16_t	port;		/* 0 when none was given */
	size_t		need;		/* on SG_ETRUNC: stream bytes needed
					   before trying again (at most
					   HTTP_HEADER_MAX) */
};

/*
 * Reads the header block of the HTTP/1.x request at the start of buf (len
 * bytes from the first byte the client sent).  Returns 0 with *out filled;
 * SG_ETRUNC when the block is not complete yet (out->need says how many
 * bytes in all, at least); SG_EUNSUPP when the bytes do not start like an
 * HTTP/1.x request line; SG_EMALFORMED for a broken request (see above);
 * SG_ELIMIT when the block would be longer than HTTP_HEADER_MAX.  The
 * answer depends only on the bytes up to the end of the block, so it is
 * the same however the stream was split.
 */
int	http_request_host(const uint8_t *buf, size_t len,
	    struct http_request *out) SG_WUR;

#endif
