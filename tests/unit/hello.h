/*
 * hello.h - a TLS ClientHello record for tests: one cipher suite,
 * supported_versions (TLS 1.3), a server_name for sni (none if NULL), and
 * a padding extension of pad bytes when pad > 0, as the post-quantum key
 * shares of real browsers make them larger than one segment.  b must hold
 * pad + 256 bytes or more.  Returns the record's length.
 */
#ifndef SG_TEST_HELLO_H
#define SG_TEST_HELLO_H

#include <stddef.h>
#include <stdint.h>

size_t	test_client_hello(uint8_t *b, const char *sni, size_t pad);

#endif
