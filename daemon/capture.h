/*
 * capture.h - packets from libpcap (pcap and pcapng files), stripped to the
 * IP packet the pipeline reads, as NFQUEUE hands it over.
 *
 * Link layers read: Ethernet (with 802.1Q/802.1ad tags), Linux cooked
 * capture v1 and v2, BSD loopback/null, and raw IP.  Frames of other
 * protocols (ARP, ...) are skipped and counted.  Link headers are read
 * through the cursor like every other untrusted byte.
 */
#ifndef SG_CAPTURE_H
#define SG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

struct capture;

struct capture_packet {
	uint64_t	 frame;		/* 1-based frame number in the file */
	struct timespec	 ts;
	const uint8_t	*data;		/* the IP packet; valid until next */
	size_t		 len;
	bool		 truncated;	/* the capture's snap length cut it */
	bool		 has_mac;
	uint8_t		 mac[6];	/* Ethernet source, when there is one */
};

/* Opens a capture file.  NULL with the reason in err on failure. */
struct capture *capture_open_file(const char *path, char *err, size_t len);
void	capture_close(struct capture *);

/*
 * The next IP packet.  Returns 1 and fills *p, 0 at the end of the file,
 * or a negative sg_err if the file is damaged.
 */
int	capture_next(struct capture *, struct capture_packet *p) SG_WUR;

/* Frames skipped because they carried no IP packet. */
uint64_t capture_skipped(const struct capture *);

/*
 * Strips a link-layer header of the given DLT_* type from a frame.
 * Returns 1 and the IP packet in *ip and *iplen, 0 for a frame without IP.
 */
int	capture_strip_link(int dlt, const uint8_t *frame, size_t len,
	    const uint8_t **ip, size_t *iplen, uint8_t mac[6], bool *has_mac);

#endif
