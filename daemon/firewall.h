/*
 * firewall.h - the rules that feed safegate's queues, put up and taken down
 * idempotently, with nft where the kernel has its `queue` expression and
 * iptables' NFQUEUE target otherwise.
 *
 * What is queued, IPv4 and IPv6:
 *   DNS, UDP and TCP port 53:
 *     INPUT    queries to this router (except over loopback: those were
 *              already seen on OUTPUT);
 *     FORWARD  queries from LAN devices to resolvers outside;
 *     OUTPUT   this machine's own queries.
 *   Connections, FORWARD and OUTPUT: the first CONN_PACKETS packets in
 *   the original direction (connbytes) of TCP to ports 80 and 443 (and to
 *   the spec's extra ports: one multiport match, at most 15 ports) and of
 *   UDP to port 443, so that safegated reads their names.  Its verdict on
 *   the packet that decides a connection carries QUEUE_MARK_DECIDED (and
 *   QUEUE_MARK_BLOCK) and re-enters the hook (queue.h); the rules save
 *   those bits on the connection, drop a blocked connection's packets in
 *   the kernel and let a decided one through without queueing it again.
 *   Packets safegated forges carry QUEUE_MARK_OWN and are let out first.
 *   nft has the same rules (ct original packets, ct mark); they were
 *   checked with `nft -c` with the queue verdicts replaced, since the
 *   kernel they were written on has no nft queue, and have not run with
 *   traffic.
 *
 * iptables: our own chains SAFEGATE_INPUT, SAFEGATE_FORWARD and
 * SAFEGATE_OUTPUT in the filter table, each jumped to from the first rule of
 * its built-in chain.  nft: our own table `inet safegate`, replaced in one
 * transaction.  Putting the rules up again replaces them and leaves exactly
 * one copy; taking them down removes everything of ours from both backends
 * (a crash under one backend is cleaned up under either).
 *
 * The tools (nft, iptables-restore, iptables, ip6tables ...) are run with
 * fork/exec, no shell; their error output is logged.
 */
#ifndef SG_FIREWALL_H
#define SG_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct firewall_spec {
	enum fw_backend	 backend;	/* FW_AUTO: firewall_detect() */
	uint16_t	 queue_first;
	uint16_t	 queue_count;
	bool		 fail_open;	/* queue bypass when nobody listens */
	/* TCP ports queued like 80 and 443 (config connections.ports) */
	uint16_t	 ports[CONFIG_MAX_CONN_PORTS];
	size_t		 nports;	/* at most CONFIG_MAX_CONN_PORTS */
};

/* The spec a config asks for. */
void	firewall_spec_init(struct firewall_spec *, const struct config *);

/* FW_NFT if `nft` exists and the kernel accepts a queue rule, else
 * FW_IPTABLES.  Checks with `nft -c`, which commits nothing. */
enum fw_backend firewall_detect(void);

/*
 * The rules as text.  FW_NFT: an `nft -f` script (family ignored).
 * FW_IPTABLES: an `iptables-restore --noflush` script for AF_INET or
 * AF_INET6, without the jumps from the built-in chains.  Returns the length
 * or SG_ELIMIT if buf is too small (or nports is over the cap).
 */
int	firewall_render(const struct firewall_spec *, enum fw_backend,
	    int family, char *buf, size_t len) SG_WUR;

/* Puts the rules up; *used receives the backend chosen.  0 or -errno. */
int	firewall_up(const struct firewall_spec *, enum fw_backend *used)
	    SG_WUR;

/* Takes every rule of ours down, from both backends.  0 or -errno. */
int	firewall_down(void) SG_WUR;

#endif
