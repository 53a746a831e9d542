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
 *   DNS over TLS (spec.dot: some profile refuses it), FORWARD only: the
 *   same first packets of TCP and UDP to port 853, in rules of their own
 *   (the multiport match is full); safegated refuses them per profile.
 *   Not OUTPUT: the router's own resolver may use DoT upstream.
 *
 * Failing open or closed: a queue rule with the bypass flag lets packets
 * through while nobody reads the queue; without it they stop.  OUTPUT,
 * the router's own traffic, follows spec.fail_open (queue.fail_open).
 * INPUT and FORWARD follow the default profile (spec.lan_fail), except
 * for devices whose profile fails the other way: a device rule sends
 * their packets to a copy of the queue rules with their own flag.
 *
 * DNS to resolvers outside (a profile's bypass.outside_dns "redirect"):
 * nat rules in PREROUTING turn a query to any address that is not the
 * router's into one to port 53 of the router, where INPUT queues it.
 * "block" and "allow" need no rule (safegated drops or judges the query
 * on FORWARD).  The client still believes it asked the outside resolver:
 * an answer safegated forges for a redirected query must come from the
 * query's original destination (the connection's), or it is ignored.
 *
 * Device rules: a device is matched by its MAC (INPUT, FORWARD and
 * PREROUTING only: the router's own packets have none) or by its source
 * address or CIDR (in that family's rules only), in devices_match()'s
 * order: MACs, then addresses, then CIDRs longest prefix first.  A device
 * gets a rule if its profile differs from the default profile's, or if it
 * is like the default but a later rule that differs would otherwise
 * catch it (192.168.2.5 of the default profile before 192.168.2.0/24 of
 * a fail-closed one).  firewall_spec_init() works that out.
 *
 * iptables, filter table: our chains SAFEGATE_INPUT, SAFEGATE_FORWARD and
 * SAFEGATE_OUTPUT, each jumped to from the first rule of its built-in
 * chain.  FORWARD and OUTPUT start with the mark rules; then INPUT and
 * FORWARD have one device rule per device, `-g SAFEGATE_<CHAIN>_OPEN` or
 * `_CLOSED` (the copies: declared only when some device goes there);
 * then come the queue rules for everyone else.  nat table (only when
 * something is redirected): SAFEGATE_PREROUTING, jumped to from
 * PREROUTING, with one device rule per device (`-j RETURN`, or
 * `-g SAFEGATE_REDIRECT` holding the REDIRECT rules), then the REDIRECT
 * rules themselves when the default profile redirects:
 *
 *   -p udp -m udp --dport 53 -m addrtype ! --dst-type LOCAL
 *       -j REDIRECT --to-ports 53                      (and the same, tcp)
 *
 * nft: our own table `inet safegate`, replaced in one transaction: base
 * chains input, forward and output (filter, priority filter - 5) and
 * prerouting (nat, priority dstnat, only when something is redirected),
 * the same rules in the same order (`ether saddr`, `ip saddr`, `ip6
 * saddr`; `ct original packets`, `ct mark`; `fib daddr type != local
 * redirect to :53`), and the regular chains input_open, input_closed,
 * forward_open, forward_closed and dns_redirect, declared first.  The nft
 * rules were checked with `nft -c` with the queue verdicts replaced, since
 * the kernel they were written on has no nft queue, and have not run with
 * traffic.
 *
 * Putting the rules up again replaces them and leaves exactly one copy
 * (chains a previous ruleset had and this one does not are removed);
 * taking them down removes everything of ours, nat included, from both
 * backends (a crash under one backend is cleaned up under either).
 *
 * The tools (nft, iptables-restore, iptables, ip6tables ...) are run with
 * fork/exec, no shell; their error output is logged.
 */
#ifndef SG_FIREWALL_H
#define SG_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "devices.h"
#include "err.h"

/* How a packet fares while nobody reads its queue. */
enum firewall_fail {
	FIREWALL_FAIL_QUEUE = 0,	/* as spec.fail_open says */
	FIREWALL_FAIL_OPEN,		/* it flows (the queue's bypass flag) */
	FIREWALL_FAIL_CLOSED,		/* it stops */
};

/* One device rule: how it matches and what its profile asks. */
struct firewall_device {
	enum devices_kind kind;		/* DEVICES_MAC, DEVICES_IP, _CIDR */
	uint8_t		 mac[6];	/* DEVICES_MAC */
	struct sg_addr	 addr;		/* DEVICES_IP, DEVICES_CIDR */
	unsigned	 prefix;	/* DEVICES_CIDR (DEVICES_IP: ignored) */
	bool		 fail_open;	/* spec.fail_devices: its queue flag */
	bool		 redirect;	/* spec.dns_devices: redirected (else
					   RETURN: left alone) */
};

struct firewall_spec {
	enum fw_backend	 backend;	/* FW_AUTO: firewall_detect() */
	uint16_t	 queue_first;
	uint16_t	 queue_count;
	bool		 fail_open;	/* queue.fail_open: the bypass flag of
					   OUTPUT (the router's own traffic),
					   and of everything else unless
					   lan_fail says otherwise */
	enum firewall_fail lan_fail;	/* the default profile's: INPUT and
					   FORWARD, but for fail_devices */
	bool		 redirect;	/* the default profile redirects DNS
					   to outside resolvers */
	bool		 dot;		/* queue TCP and UDP port 853 */
	/* TCP ports queued like 80 and 443 (config connections.ports) */
	uint16_t	 ports[CONFIG_MAX_CONN_PORTS];
	size_t		 nports;	/* at most CONFIG_MAX_CONN_PORTS */
	/*
	 * Device rules, each list in the order the rules are matched (see
	 * the top of this file); at most DEVICES_MAX each.  Owned by the
	 * spec when firewall_spec_init() built it: firewall_spec_free().
	 * A spec built by hand may point at memory of its own and skip
	 * firewall_spec_free().
	 */
	struct firewall_device *fail_devices;	/* fail_open read */
	size_t		 nfail_devices;
	struct firewall_device *dns_devices;	/* redirect read */
	size_t		 ndns_devices;
	int		 error;		/* sticky: -ENOMEM from init; then
					   render and up refuse the spec */
};

/*
 * The spec a config asks for: the queues, fail_open, the default
 * profile's fail and outside_dns (lan_fail, redirect), dot if any profile
 * refuses DNS over TLS, the ports, and the device rules (only those that
 * change something, in matching order).  A config without profiles
 * (nprofiles 0) gets what queue.fail_open says everywhere and no device
 * rules.  `spec` must not hold anything to free.  Returns 0, or -ENOMEM:
 * the spec then records the error, and firewall_render() and
 * firewall_up() refuse it, so a caller that goes on anyway puts up
 * nothing.  Free with firewall_spec_free() either way.
 */
int	firewall_spec_init(struct firewall_spec *, const struct config *);

/* Frees what firewall_spec_init() allocated and zeroes the spec. */
void	firewall_spec_free(struct firewall_spec *);

/*
 * Whether two specs put up the same rules (so a reload need not touch
 * them): the same backend, queues, ports, effective fail flags, redirect,
 * dot and device rules, in the same order.
 */
bool	firewall_spec_equal(const struct firewall_spec *,
	    const struct firewall_spec *);

/* FW_NFT if `nft` exists and the kernel accepts a queue rule, else
 * FW_IPTABLES.  Checks with `nft -c`, which commits nothing. */
enum fw_backend firewall_detect(void);

/*
 * The rules as text.  FW_NFT: an `nft -f` script (family ignored).
 * FW_IPTABLES: an `iptables-restore --noflush` script for AF_INET or
 * AF_INET6 (a *filter part, then a *nat part when something is
 * redirected), without the jumps from the built-in chains.  Returns the
 * length; SG_ELIMIT if buf is too small (or nports or a device list is
 * over its cap); -EINVAL for a device rule that is not one (unknown kind,
 * no address, prefix too long); spec.error if set.  The rules without
 * devices are about 3 KiB, and each device rule adds up to some 280 bytes
 * (DEVICES_MAX of them, in both lists: about 300 KiB):
 * firewall_render_alloc() sizes the buffer itself.
 */
int	firewall_render(const struct firewall_spec *, enum fw_backend,
	    int family, char *buf, size_t len) SG_WUR;

/*
 * The same text in memory of its own, NUL-terminated; the caller frees
 * it.  NULL with errno set when firewall_render() refuses the spec (its
 * error as a positive errno: EINVAL, ENOMEM, or E2BIG for SG_ELIMIT).
 */
char	*firewall_render_alloc(const struct firewall_spec *, enum fw_backend,
	    int family);

/* Puts the rules up; *used receives the backend chosen.  0 or -errno. */
int	firewall_up(const struct firewall_spec *, enum fw_backend *used)
	    SG_WUR;

/* Takes every rule of ours down, nat included, from both backends,
 * whatever spec put them up.  0 or -errno. */
int	firewall_down(void) SG_WUR;

#endif
