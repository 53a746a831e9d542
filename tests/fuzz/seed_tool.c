/*
 * seed-tool - turns capture files into fuzzing seeds, through the same
 * capture module safegated's replay uses: every IP packet goes to PKTDIR,
 * and every UDP or TCP port-53 payload (TCP without its length prefix) to
 * DNSDIR.  Files are named by a hash of their bytes, so seeds are unique.
 *
 *   seed-tool PKTDIR DNSDIR FILE.pcap...
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture.h"
#include "packet.h"

static void
save(const char *dir, const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	char path[4096];
	FILE *f;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	snprintf(path, sizeof(path), "%s/%016llx", dir, (unsigned long long)h);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(p, 1, len, f);
	fclose(f);
}

int
main(int argc, char *argv[])
{
	struct capture_packet cp;
	struct capture *c;
	struct packet p;
	char err[256];
	int i, n = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: seed-tool pktdir dnsdir file...\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if ((c = capture_open_file(argv[i], err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			continue;
		}
		while (capture_next(c, &cp) == 1) {
			save(argv[1], cp.data, cp.len);
			n++;
			if (packet_parse(&p, cp.data, cp.len) != 0 ||
			    (p.sport != 53 && p.dport != 53))
				continue;
			if (p.proto == IPPROTO_UDP)
				save(argv[2], p.payload, p.payload_len);
			else if (p.proto == IPPROTO_TCP && p.payload_len > 2)
				save(argv[2], p.payload + 2,
				    p.payload_len - 2);
		}
		capture_close(c);
	}
	printf("seed-tool: %d packets\n", n);
	return 0;
}
