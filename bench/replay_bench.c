/*
 * replay_bench.c - builds the synthetic capture bench/conn.sh replays, and
 * counts what is in a capture.
 *
 *   replay-bench mix OUT COPIES FILE...
 *	Reads every IP packet of each FILE (pcap or pcapng, any link layer
 *	capture.h reads) and writes them, COPIES times over, to OUT: one
 *	Ethernet pcap (DLT_EN10MB, a fixed MAC pair), which both safegated
 *	--replay and ndpiReader read.  Copy k (0-based) rewrites every
 *	address so that its flows are distinct from every other copy's:
 *	k is added (one's complement) to the address's first (IPv4) or
 *	second (IPv6) 16-bit word and subtracted from its last, so the
 *	address's sum, and with it
 *	every IPv4 header and TCP/UDP checksum, is unchanged, and the same
 *	address maps to the same address in both directions of a flow.
 *	Times are rewritten to run forward: each packet follows the one
 *	before by its own capture's gap, clamped to 0..1 s.
 *   replay-bench count FILE
 *	Prints packets=N and flows=N: IP packets, and distinct TCP/UDP flows
 *	(protocol and both endpoints, either direction; fragments and other
 *	protocols are not flows).
 *
 * It links libsafegate.a and reads every packet through capture.h and
 * packet.h, as the replay does.  Output is "key=value" lines.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "packet.h"

#define MAX_IP	65535

static void
usage(void)
{
	fprintf(stderr, "usage: replay-bench mix OUT COPIES FILE...\n"
	    "       replay-bench count FILE\n");
	exit(2);
}

/* x + k in one's complement, on 16 bits. */
static uint16_t
oc_add(uint16_t x, uint16_t k)
{
	uint32_t s = (uint32_t)x + k;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Rewrites one address of alen bytes for copy k; see the top. */
static void
rewrite_addr(uint8_t *a, size_t alen, uint16_t k)
{
	uint8_t *w1 = alen == 4 ? a : a + 2, *wl = a + alen - 2;

	put16(w1, oc_add(get16(w1), k));
	put16(wl, oc_add(get16(wl), (uint16_t)~k));
}

/* Both addresses of the IP packet in buf, if its header is whole. */
static void
rewrite(uint8_t *buf, size_t len, uint16_t k)
{
	if (k == 0 || len < 1)
		return;
	if ((buf[0] >> 4) == 4 && len >= 20) {
		rewrite_addr(buf + 12, 4, k);
		rewrite_addr(buf + 16, 4, k);
	} else if ((buf[0] >> 4) == 6 && len >= 40) {
		rewrite_addr(buf + 8, 16, k);
		rewrite_addr(buf + 24, 16, k);
	}
}

static int
mix(const char *out, unsigned long copies, char **files, int nfiles)
{
	static uint8_t frame[14 + MAX_IP];
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0,
	    0, 1 };
	pcap_t *dead;
	pcap_dumper_t *d;
	struct pcap_pkthdr h;
	uint64_t written = 0;
	int64_t clock_us = 1700000000LL * 1000000;
	char err[256];

	if ((dead = pcap_open_dead(DLT_EN10MB, 14 + MAX_IP)) == NULL ||
	    (d = pcap_dump_open(dead, out)) == NULL) {
		fprintf(stderr, "replay-bench: %s: %s\n", out,
		    dead ? pcap_geterr(dead) : "pcap_open_dead");
		return 1;
	}
	memcpy(frame, macs, sizeof(macs));
	for (unsigned long k = 0; k < copies; k++) {
		for (int i = 0; i < nfiles; i++) {
			struct capture *c;
			struct capture_packet p;
			int64_t prev = -1;
			int r;

			if ((c = capture_open_file(files[i], err,
			    sizeof(err))) == NULL) {
				fprintf(stderr, "replay-bench: %s\n", err);
				return 1;
			}
			while ((r = capture_next(c, &p)) == 1) {
				int64_t t = (int64_t)p.ts.tv_sec * 1000000 +
				    p.ts.tv_nsec / 1000;
				int64_t gap = prev < 0 ? 0 : t - prev;
				size_t n = p.len > MAX_IP ? MAX_IP : p.len;

				if (n == 0)
					continue;
				prev = t;
				clock_us += gap < 0 ? 0 :
				    gap > 1000000 ? 1000000 : gap;
				memcpy(frame + 14, p.data, n);
				put16(frame + 12, (p.data[0] >> 4) == 6 ?
				    0x86dd : 0x0800);
				rewrite(frame + 14, n, (uint16_t)k);
				h.ts.tv_sec = clock_us / 1000000;
				h.ts.tv_usec = clock_us % 1000000;
				h.caplen = h.len = (bpf_u_int32)(14 + n);
				pcap_dump((u_char *)d, &h, frame);
				written++;
			}
			capture_close(c);
			if (r < 0) {
				fprintf(stderr, "replay-bench: %s: damaged\n",
				    files[i]);
				return 1;
			}
		}
	}
	if (pcap_dump_flush(d) != 0) {
		fprintf(stderr, "replay-bench: %s: write failed\n", out);
		return 1;
	}
	pcap_dump_close(d);
	pcap_close(dead);
	printf("packets=%llu\n", (unsigned long long)written);
	return 0;
}

/* A flow's key: protocol, then the lesser endpoint, then the greater. */
struct key {
	uint8_t		 b[1 + 2 * 19];
};

static void
endpoint(uint8_t out[19], const struct sg_addr *a, uint16_t port)
{
	memset(out, 0, 19);
	out[0] = (uint8_t)(a->family == AF_INET6 ? 6 : 4);
	memcpy(out + 1, a->u.b, 16);
	put16(out + 17, port);
}

static uint64_t
hash(const struct key *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 1099511628211ULL;
	return h;
}

static int
count(const char *path)
{
	size_t cap = 1 << 20, used = 0;
	struct key *tab = calloc(cap, sizeof(*tab));
	bool *full = calloc(cap, sizeof(*full));
	uint64_t packets = 0;
	struct capture *c;
	struct capture_packet p;
	char err[256];
	int r;

	if (tab == NULL || full == NULL)
		return 1;
	if ((c = capture_open_file(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "replay-bench: %s\n", err);
		return 1;
	}
	while ((r = capture_next(c, &p)) == 1) {
		struct packet pk;
		uint8_t e1[19], e2[19];
		struct key k;
		size_t i;

		packets++;
		if (packet_parse(&pk, p.data, p.len) != 0 || pk.fragment ||
		    (pk.proto != IPPROTO_TCP && pk.proto != IPPROTO_UDP))
			continue;
		endpoint(e1, &pk.src, pk.sport);
		endpoint(e2, &pk.dst, pk.dport);
		k.b[0] = pk.proto;
		if (memcmp(e1, e2, 19) <= 0) {
			memcpy(k.b + 1, e1, 19);
			memcpy(k.b + 20, e2, 19);
		} else {
			memcpy(k.b + 1, e2, 19);
			memcpy(k.b + 20, e1, 19);
		}
		for (i = hash(&k) & (cap - 1); full[i];
		    i = (i + 1) & (cap - 1))
			if (memcmp(&tab[i], &k, sizeof(k)) == 0)
				break;
		if (!full[i]) {
			if (used * 2 >= cap) {
				fprintf(stderr, "replay-bench: too many flows\n");
				return 1;
			}
			full[i] = true;
			tab[i] = k;
			used++;
		}
	}
	capture_close(c);
	if (r < 0) {
		fprintf(stderr, "replay-bench: %s: damaged\n", path);
		return 1;
	}
	printf("packets=%llu\nflows=%zu\n", (unsigned long long)packets, used);
	free(tab);
	free(full);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 5 && strcmp(argv[1], "mix") == 0) {
		char *end;
		unsigned long copies;

		errno = 0;
		copies = strtoul(argv[3], &end, 10);
		if (errno != 0 || *end != '\0' || copies < 1 ||
		    copies > 65535)
			usage();
		return mix(argv[2], copies, argv + 4, argc - 4);
	}
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return count(argv[2]);
	usage();
}
