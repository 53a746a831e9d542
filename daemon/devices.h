/*
 * devices.h - which device sent a packet, and names from DHCP leases.
 *
 * A device table is built once (at config load) from a list of device
 * specs and is then read-only: any number of threads may match against it
 * concurrently, and a reload builds a new table and swaps one pointer.
 *
 * Each spec names a device by exactly one of
 *   - a MAC address (6 bytes),
 *   - an exact IP address (IPv4 or IPv6),
 *   - a CIDR block (an address and a prefix length),
 * and gives it a profile index (opaque here; the caller's policy maps it).
 * One device known several ways is several specs with the same name.
 *
 * Matching a packet (its MAC, when the kernel gave one, and its source IP):
 *
 *   1. by MAC, when a MAC is given and listed;
 *   2. else by exact source IP;
 *   3. else by the CIDR with the longest prefix that holds the source IP;
 *      between CIDRs of equal length, the first in config order;
 *   4. else no device: DEVICES_BY_NONE, the caller uses its default
 *      profile.
 *
 * A MAC that is given but not listed falls through to the IP steps.
 *
 *   +----------------------+   MACs and exact IPs: one open-addressing
 *   | slot[0..cap-1]       |   hash (linear probing, load <= 1/2), key =
 *   |  key: kind+16 bytes  |   kind byte + the MAC or address bytes,
 *   |  val: spec index + 1 |   value = spec index + 1 (0: empty slot)
 *   +----------------------+
 *   | cidr[]: spec indexes |   CIDRs: longest prefix first, config order
 *   +----------------------+   within one length; scanned linearly
 *
 * Limits: at most DEVICES_MAX specs in all (so at most 2 * DEVICES_MAX hash
 * slots), names of at most DEVICES_NAME_MAX bytes.  A match costs one hash
 * probe sequence for the MAC, one for the IP, then a linear scan of the
 * CIDRs: fine for the tens of CIDRs a home has; the whole 1024 would still
 * be a few microseconds.
 *
 * IPv6 privacy (temporary) addresses change every day, so a device is
 * best listed by MAC: NFQUEUE gives the source MAC of traffic that the
 * router receives from the LAN (FORWARD, INPUT), and the MAC wins over any
 * address.  Traffic without a MAC (OUTPUT: the router's own packets, or
 * queues on interfaces without link-layer headers) is matched by IP and
 * CIDR only, so such a device is then found by its CIDR, or not at all.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv6 here, as the kernel
 * delivers them; they do not match IPv4 specs.
 *
 * DHCP leases: devices_leases_parse() reads dnsmasq's lease database
 * (/var/lib/misc/dnsmasq.leases), so that devices not named in the config
 * can be shown with the names they ask DHCP for.  Which name wins is the
 * caller's choice; this module only reads the file.  Format (one lease a
 * line, fields separated by blanks, as dnsmasq's lease.c writes it):
 *
 *   EXPIRY MAC IPV4 HOSTNAME CLIENTID          an IPv4 lease
 *   duid XX:XX:...                             the server's DUID, once,
 *                                              before the IPv6 leases
 *   EXPIRY [T]IAID IPV6 HOSTNAME CLIENTID      an IPv6 lease (T: temporary
 *                                              address), no MAC: the
 *                                              CLIENTID field is the DUID
 *
 *   - EXPIRY: seconds since the epoch (or, on dnsmasq built with
 *     HAVE_BROKEN_RTC, the lease length); 0 = never expires.
 *   - MAC: hex bytes joined by ':'.  Other hardware types are written
 *     "TT-xx:xx..."; only Ethernet (6 bytes, no type) is accepted.
 *   - HOSTNAME: "*" when the client sent none.  Accepted: 1 to
 *     DEVICES_HOSTNAME_MAX bytes of letters, digits, '-', '_' and '.'.
 *   - CLIENTID: "*" or hex bytes joined by ':' (checked, not kept).
 * The family of the address field says which kind of line it is, as in
 * dnsmasq.  Blank lines are skipped.  Any other line is reported through
 * the error callback with its 1-based line number and a static reason, and
 * skipped: one bad line never spoils the rest.
 */
#ifndef SG_DEVICES_H
#define SG_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

#define DEVICES_MAX		1024
#define DEVICES_NAME_MAX	63	/* bytes, without the NUL */

enum devices_kind {
	DEVICES_MAC = 1,
	DEVICES_IP,
	DEVICES_CIDR,
};

/* One device spec, as the config gives it.  Nothing in it is kept: the
   table copies the name. */
struct devices_spec {
	const char		*name;	 /* 1..DEVICES_NAME_MAX bytes */
	enum devices_kind	 kind;
	uint8_t			 mac[6]; /* DEVICES_MAC */
	struct sg_addr		 addr;	 /* DEVICES_IP, DEVICES_CIDR */
	unsigned		 prefix; /* DEVICES_CIDR: 0..32 or 0..128 */
	unsigned		 profile;
};

/* Why devices_new() refused the specs. */
struct devices_error {
	const char	*reason;	/* static, no trailing period */
	size_t		 index;		/* the offending spec, 0-based */
};

struct devices;

/*
 * Builds a table from n specs (n may be 0).  Returns NULL and sets errno:
 * EINVAL when a spec is invalid (no or too long a name, unknown kind, no
 * address, prefix too long, bits set past the prefix, a MAC, address or
 * CIDR listed twice), E2BIG when n > DEVICES_MAX, ENOMEM; *err (if not
 * NULL) then says which spec and why.  The caller frees the table with
 * devices_free().
 */
struct devices *devices_new(const struct devices_spec *specs, size_t n,
	    struct devices_error *err);
void	devices_free(struct devices *);
size_t	devices_count(const struct devices *);

enum devices_by {
	DEVICES_BY_NONE = 0,	/* no device: use the default profile */
	DEVICES_BY_MAC,
	DEVICES_BY_IP,
	DEVICES_BY_CIDR,
};

struct devices_match {
	enum devices_by	 by;
	size_t		 index;		/* the spec's index in config order */
	unsigned	 profile;
	const char	*name;		/* the table's copy: valid until
					   devices_free() */
};

/*
 * Matches a packet: mac is its source MAC or NULL (the kernel gave none),
 * src its source address (may be NULL or AF_UNSPEC: MAC only).  Fills *out
 * and returns out->by; on DEVICES_BY_NONE out->name is NULL and
 * out->profile 0.  No allocation, no locks: safe on the packet path.
 */
enum devices_by devices_match(const struct devices *d, const uint8_t *mac,
	    const struct sg_addr *src, struct devices_match *out);

/* ------------------------------------------------------------- leases */

#define DEVICES_HOSTNAME_MAX	63	/* bytes, without the NUL */
#define DEVICES_LEASE_LINE_MAX	1024	/* longer lines are reported */
#define DEVICES_LEASES_FILE_MAX	(4u << 20)	/* devices_leases_read() */
#define DEVICES_LEASES_MAX	4096	/* entries in a devices_leases */

/* One lease line, copied out of the input. */
struct devices_lease {
	size_t		line;		/* 1-based, in the input */
	uint64_t	expiry;		/* 0: never expires */
	struct sg_addr	addr;		/* AF_INET or AF_INET6 */
	bool		has_mac;	/* IPv4 leases; never for IPv6 */
	uint8_t		mac[6];
	uint32_t	iaid;		/* IPv6 leases */
	bool		temporary;	/* IPv6: a temporary address (IA_TA) */
	char		hostname[DEVICES_HOSTNAME_MAX + 1];	/* "" if none */
};

/* Called for every good lease; a non-zero return stops the parse and is
   returned by it (use a negative sg_err). */
typedef int	(*devices_lease_fn)(void *arg, const struct devices_lease *);
/* Called for every bad line: 1-based line number, static reason. */
typedef void	(*devices_lease_err_fn)(void *arg, size_t line,
		    const char *reason);

/*
 * Parses len bytes of a dnsmasq lease file (no NUL needed).  Calls fn for
 * each good lease in order and errfn (may be NULL) for each bad line.
 * Returns 0 (bad lines are no failure), or the first non-zero value fn
 * returned.  Reasons: "line too long", "bad expiry", "missing field",
 * "too many fields", "bad MAC address", "not an Ethernet MAC address",
 * "bad address", "bad IAID", "bad hostname", "hostname too long",
 * "bad client id", "bad duid".
 */
int	devices_leases_parse(const void *buf, size_t len, devices_lease_fn fn,
	    devices_lease_err_fn errfn, void *arg) SG_WUR;

/*
 * devices_leases_parse() over the file at path, read whole (at most
 * DEVICES_LEASES_FILE_MAX bytes).  Returns what the parse returns, -errno
 * when the file cannot be read, SG_ELIMIT when it is larger than the
 * limit (nothing is then parsed).
 */
int	devices_leases_read(const char *path, devices_lease_fn fn,
	    devices_lease_err_fn errfn, void *arg) SG_WUR;

/*
 * A lease table: MAC -> hostname and IP -> MAC, for naming devices that
 * the config does not.  Built from a parse, read-only afterwards.  When
 * several leases share a MAC, one with a hostname beats one without, then
 * the later expiry (0 counts as latest) wins, then the first.  IPv6 leases
 * carry no MAC and add nothing.  Leases past DEVICES_LEASES_MAX are
 * reported as bad lines ("too many leases").
 */
struct devices_leases;

/* NULL and errno (ENOMEM) on failure; bad lines go to errfn. */
struct devices_leases *devices_leases_new(const void *buf, size_t len,
	    devices_lease_err_fn errfn, void *arg);
void	devices_leases_free(struct devices_leases *);
size_t	devices_leases_count(const struct devices_leases *);
/* The hostname leased to mac, or NULL (unknown, or no hostname).  Valid
   until devices_leases_free(). */
const char *devices_leases_hostname(const struct devices_leases *,
	    const uint8_t mac[6]);
/* Whether addr has an IPv4 lease; its MAC into mac. */
bool	devices_leases_mac(const struct devices_leases *,
	    const struct sg_addr *addr, uint8_t mac[6]);

#endif
