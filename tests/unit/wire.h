/*
 * wire.h - messages written byte by byte for tests: DNS queries and
 * answers, TLS handshakes.  The tests write their input with these rather
 * than with a library, so that a parser is never tested against the code
 * it sits next to.
 *
 * A struct wire is the message and its length; every write checks the
 * room left with a Criterion assertion, so a test that overflows fails.
 * w_open_len() / w_close_len() write a length field that is filled in
 * once what it covers is written, and note where each one is, so that a
 * test can make any of them lie.
 */
#ifndef SG_TEST_WIRE_H
#define SG_TEST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the largest ClientHello of the TLS tests. */
#define WIRE_MAX	40000
#define WIRE_LENS	32

struct wire {
	uint8_t	b[WIRE_MAX];
	size_t	len;
	size_t	lens[WIRE_LENS];	/* offsets of the length fields */
	uint8_t	lsize[WIRE_LENS];	/* their widths */
	size_t	nlens;
};

/* Empties w: no bytes and no length fields. */
void	w_reset(struct wire *w);

/* Multi-byte values in network (big-endian) order. */
void	w_u8(struct wire *w, unsigned v);
void	w_u16(struct wire *w, unsigned v);
void	w_u32(struct wire *w, uint32_t v);
void	w_bytes(struct wire *w, const void *p, size_t n);
/* Overwrites the 16-bit value at off, written before. */
void	w_set16(struct wire *w, size_t off, unsigned v);

/* Opens a length field of 1, 2 or 3 bytes; returns its offset. */
size_t	w_open_len(struct wire *w, uint8_t size);
/* Fills in the field at `at` with the number of bytes written after it. */
void	w_close_len(struct wire *w, size_t at, uint8_t size);

/* DNS.  A dotted name, uncompressed, labels as given; "" is the root. */
void	w_name(struct wire *w, const char *name);
/* A compression pointer to off. */
void	w_ptr(struct wire *w, unsigned off);
/* Starts the message again with a header: id, flags and the four counts. */
void	w_hdr(struct wire *w, unsigned id, unsigned flags, unsigned qd,
	    unsigned an, unsigned ns, unsigned ar);
/* A question. */
void	w_q(struct wire *w, const char *name, unsigned type, unsigned class);
/* A record's fixed part after its owner name, and its rdata. */
void	w_rr_tail(struct wire *w, unsigned type, unsigned class, uint32_t ttl,
	    const void *rdata, unsigned rdlen);
/* An OPT record (owned by the root) advertising udp, with the DO bit. */
void	w_opt(struct wire *w, unsigned udp, bool dobit);

#endif
