/* libFuzzer target: IP/UDP/TCP parsing (packet_parse). */
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet p;

	if (packet_parse(&p, data, size) == 0) {
		/* What the parser hands out must lie inside the input. */
		if (p.payload_len > 0 && (p.payload < data ||
		    p.payload + p.payload_len > data + size))
			__builtin_trap();
		if (p.ip_len > size)
			__builtin_trap();
	}
	return 0;
}
