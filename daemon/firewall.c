/*
 * firewall.c - see firewall.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firewall.h"
#include "sbuf.h"
#include "queue.h"
#include "log.h"

#define NFT_TABLE	"safegate"
#define OUT_MAX		4096
/* A script's first buffer: the rules without devices are some 3 KiB, and
 * a device rule adds two lines (INPUT, FORWARD) or one (nat) of at most
 * some 140 bytes; past SCRIPT_MAX, firewall_render_alloc() gives up. */
#define SCRIPT_BASE	16384
#define SCRIPT_PER_DEV	512
#define SCRIPT_MAX	(4 * 1024 * 1024)

extern char **environ;

/* The filter hooks, as iptables and nft name them; device rules go in the
 * first two (LAN traffic), never in OUTPUT (the router's own). */
static const char *const chains[] = { "INPUT", "FORWARD", "OUTPUT" };
static const char *const hooks[] = { "input", "forward", "output" };
#define HOOK_INPUT	0
#define HOOK_OUTPUT	2

/*
 * Every iptables chain of ours, in the order they are declared: its
 * table, and the built-in chain that jumps to it (NULL: only our chains
 * reach it).  firewall_down() removes them all; firewall_up() removes
 * those its script does not declare.
 */
static const struct ipt_chain {
	const char	*table;
	const char	*name;
	const char	*from;
} ipt_chains[] = {
	{ "filter", "SAFEGATE_INPUT", "INPUT" },
	{ "filter", "SAFEGATE_FORWARD", "FORWARD" },
	{ "filter", "SAFEGATE_OUTPUT", "OUTPUT" },
	{ "filter", "SAFEGATE_INPUT_OPEN", NULL },
	{ "filter", "SAFEGATE_INPUT_CLOSED", NULL },
	{ "filter", "SAFEGATE_FORWARD_OPEN", NULL },
	{ "filter", "SAFEGATE_FORWARD_CLOSED", NULL },
	{ "nat", "SAFEGATE_PREROUTING", "PREROUTING" },
	{ "nat", "SAFEGATE_REDIRECT", NULL },
};
#define NIPT_CHAINS	(sizeof(ipt_chains) / sizeof(ipt_chains[0]))

/*
 * Packets of a new connection queued at most, in its original direction:
 * enough for a SYN and a ClientHello in several segments or Initials; a
 * connection not decided by then goes on unjudged (counted as pending).
 */
#define CONN_PACKETS	12

/*
 * Runs argv (looked up in PATH), feeding it `in` on stdin.  Its stdout and
 * stderr land in out (NUL-terminated, cut at outlen).  Returns its exit
 * status, or -errno when it could not be run at all.
 */
static int
run(char *const argv[], const char *in, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int inpipe[2] = { -1, -1 }, outpipe[2] = { -1, -1 }, status, ret;
	size_t used = 0, inlen = in != NULL ? strlen(in) : 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(inpipe, O_CLOEXEC) == -1 || pipe2(outpipe, O_CLOEXEC) == -1) {
		ret = -errno;
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, inpipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outpipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, outpipe[1], 2);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(inpipe[0]);
	close(outpipe[1]);
	inpipe[0] = outpipe[1] = -1;
	if (ret != 0) {
		ret = -ret;
		goto done;
	}
	/* A script may pass a pipe's capacity (many devices): the tools
	 * read all of it before they say more than an error line, so
	 * writing it all first cannot deadlock.  A tool that exits early
	 * gives EPIPE (safegated ignores SIGPIPE). */
	while (inlen > 0) {
		n = write(inpipe[1], in, inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		in += n;
		inlen -= (size_t)n;
	}
	close(inpipe[1]);
	inpipe[1] = -1;
	for (;;) {
		char discard[512];

		if (used + 1 < outlen)
			n = read(outpipe[0], out + used, outlen - 1 - used);
		else
			n = read(outpipe[0], discard, sizeof(discard));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used + 1 < outlen)
			used += (size_t)n;
	}
	out[used] = '\0';
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			ret = -errno;
			goto done;
		}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else
		ret = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
done:
	if (inpipe[0] != -1)
		close(inpipe[0]);
	if (inpipe[1] != -1)
		close(inpipe[1]);
	if (outpipe[0] != -1)
		close(outpipe[0]);
	if (outpipe[1] != -1)
		close(outpipe[1]);
	return ret;
}

/* Chomps trailing newlines so a tool's message fits on one log line. */
static const char *
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* ---------------------------------------------------------------- spec */

static bool
lan_bypass(const struct firewall_spec *s)
{
	if (s->lan_fail == FIREWALL_FAIL_QUEUE)
		return s->fail_open;
	return s->lan_fail == FIREWALL_FAIL_OPEN;
}

/* The bits of an address or CIDR a rule compares. */
static unsigned
device_prefix(const struct firewall_device *d)
{
	return d->kind == DEVICES_CIDR ? d->prefix :
	    (unsigned)addr_len(&d->addr) * 8;
}

/* MACs, then addresses, then CIDRs longest first: devices_match()'s
 * order.  `index` (config order) breaks ties, qsort being unstable. */
struct ordered {
	struct firewall_device	 d;
	size_t			 index;
};

static int
device_order(const void *va, const void *vb)
{
	const struct ordered *a = va, *b = vb;

	if (a->d.kind != b->d.kind)
		return a->d.kind < b->d.kind ? -1 : 1;
	if (a->d.kind == DEVICES_CIDR && a->d.prefix != b->d.prefix)
		return a->d.prefix > b->d.prefix ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Whether CIDR `net` holds every address `d` matches. */
static bool
cidr_holds(const struct firewall_device *net, const struct firewall_device *d)
{
	unsigned bits = net->prefix, full = bits / 8, rest = bits % 8;

	if (net->kind != DEVICES_CIDR || d->kind == DEVICES_MAC ||
	    net->addr.family != d->addr.family || bits > device_prefix(d))
		return false;
	if (memcmp(net->addr.u.b, d->addr.u.b, full) != 0)
		return false;
	return rest == 0 || ((net->addr.u.b[full] ^ d->addr.u.b[full]) &
	    (0xff << (8 - rest))) == 0;
}

/* Whether a packet that `early`'s rule matches could also match `late`'s,
 * which comes after it. */
static bool
overlaps(const struct firewall_device *early,
    const struct firewall_device *late)
{
	if (early->kind == DEVICES_MAC)
		return late->kind != DEVICES_MAC;	/* any address */
	return cidr_holds(late, early);
}

/*
 * Keeps, of v[0..n-1] in matching order, the devices whose rule changes
 * something: those that differ from the default (differ[i]), and those
 * like the default that a later differing rule would otherwise catch.
 * Compacts them to the front, in order; returns how many.
 */
static size_t
prune(struct firewall_device *v, size_t n, const bool *differ)
{
	size_t i, j, kept = 0;
	bool keep;

	for (i = 0; i < n; i++) {
		keep = differ[i];
		for (j = i + 1; !keep && j < n; j++)
			keep = differ[j] && overlaps(&v[i], &v[j]);
		if (keep)
			v[kept++] = v[i];
	}
	return kept;
}

int
firewall_spec_init(struct firewall_spec *fw, const struct config *cfg)
{
	const struct config_profile *def = NULL, *p;
	struct ordered *ord = NULL;
	bool *differ = NULL;
	size_t i, n = cfg->ndevices;

	memset(fw, 0, sizeof(*fw));
	fw->backend = cfg->fw_backend;
	fw->queue_first = cfg->queue_first;
	fw->queue_count = cfg->queue_count;
	fw->fail_open = cfg->fail_open;
	fw->nports = cfg->conn_nports;
	memcpy(fw->ports, cfg->conn_ports, sizeof(fw->ports));
	if (cfg->nprofiles > 0 && cfg->default_profile < cfg->nprofiles)
		def = &cfg->profiles[cfg->default_profile];
	fw->lan_fail = def == NULL ? FIREWALL_FAIL_QUEUE :
	    def->fail_open ? FIREWALL_FAIL_OPEN : FIREWALL_FAIL_CLOSED;
	fw->redirect = def != NULL && def->outside_dns == OUTSIDE_DNS_REDIRECT;
	for (i = 0; i < cfg->nprofiles; i++)
		fw->dot |= cfg->profiles[i].bypass_dot;
	if (def == NULL || n == 0)
		return 0;

	ord = calloc(n, sizeof(*ord));
	differ = calloc(n, sizeof(*differ));
	fw->fail_devices = calloc(n, sizeof(*fw->fail_devices));
	fw->dns_devices = calloc(n, sizeof(*fw->dns_devices));
	if (ord == NULL || differ == NULL || fw->fail_devices == NULL ||
	    fw->dns_devices == NULL) {
		free(ord);
		free(differ);
		firewall_spec_free(fw);
		fw->error = -ENOMEM;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct devices_spec *ds = &cfg->devices[i].spec;

		/* A profile the config does not have is the default's (the
		 * config refuses it; devices_match() knows no better). */
		p = ds->profile < cfg->nprofiles ? &cfg->profiles[ds->profile] :
		    def;
		ord[i].index = i;
		ord[i].d.kind = ds->kind;
		memcpy(ord[i].d.mac, ds->mac, sizeof(ord[i].d.mac));
		ord[i].d.addr = ds->addr;
		ord[i].d.prefix = ds->prefix;
		ord[i].d.fail_open = p->fail_open;
		ord[i].d.redirect = p->outside_dns == OUTSIDE_DNS_REDIRECT;
	}
	qsort(ord, n, sizeof(*ord), device_order);

	for (i = 0; i < n; i++) {
		fw->fail_devices[i] = ord[i].d;
		differ[i] = ord[i].d.fail_open != def->fail_open;
	}
	fw->nfail_devices = prune(fw->fail_devices, n, differ);
	for (i = 0; i < n; i++) {
		fw->dns_devices[i] = ord[i].d;
		differ[i] = ord[i].d.redirect != fw->redirect;
	}
	fw->ndns_devices = prune(fw->dns_devices, n, differ);
	free(ord);
	free(differ);
	if (fw->nfail_devices == 0) {
		free(fw->fail_devices);
		fw->fail_devices = NULL;
	}
	if (fw->ndns_devices == 0) {
		free(fw->dns_devices);
		fw->dns_devices = NULL;
	}
	return 0;
}

void
firewall_spec_free(struct firewall_spec *fw)
{
	free(fw->fail_devices);
	free(fw->dns_devices);
	memset(fw, 0, sizeof(*fw));
}

/* The same rule: the match the kind uses, and the flag the list reads. */
static bool
device_equal(const struct firewall_device *a, const struct firewall_device *b,
    bool fail)
{
	if (a->kind != b->kind)
		return false;
	if (fail ? a->fail_open != b->fail_open : a->redirect != b->redirect)
		return false;
	if (a->kind == DEVICES_MAC)
		return memcmp(a->mac, b->mac, sizeof(a->mac)) == 0;
	return addr_equal(&a->addr, &b->addr) &&
	    device_prefix(a) == device_prefix(b);
}

bool
firewall_spec_equal(const struct firewall_spec *a,
    const struct firewall_spec *b)
{
	size_t i;

	if (a->error != 0 || b->error != 0)
		return false;
	if (a->backend != b->backend || a->queue_first != b->queue_first ||
	    a->queue_count != b->queue_count || a->fail_open != b->fail_open ||
	    lan_bypass(a) != lan_bypass(b) || a->redirect != b->redirect ||
	    a->dot != b->dot || a->nports != b->nports ||
	    a->nfail_devices != b->nfail_devices ||
	    a->ndns_devices != b->ndns_devices)
		return false;
	if (a->nports > CONFIG_MAX_CONN_PORTS ||
	    memcmp(a->ports, b->ports, a->nports * sizeof(a->ports[0])) != 0)
		return false;
	for (i = 0; i < a->nfail_devices; i++)
		if (!device_equal(&a->fail_devices[i], &b->fail_devices[i],
		    true))
			return false;
	for (i = 0; i < a->ndns_devices; i++)
		if (!device_equal(&a->dns_devices[i], &b->dns_devices[i],
		    false))
			return false;
	return true;
}

/* ---------------------------------------------------------------- render */

/* The queue target's arguments, for iptables or nft. */
static void
queue_args(struct sbuf *b, const struct firewall_spec *s, enum fw_backend be,
    bool bypass)
{
	unsigned first = s->queue_first;
	unsigned last = s->queue_first + s->queue_count - 1;

	if (be == FW_NFT) {
		/* A range is balanced by flow hash, as iptables'
		 * --queue-balance does: a flow stays on one queue. */
		if (s->queue_count > 1)
			sbuf_printf(b, "queue%s num %u-%u",
			    bypass ? " flags bypass" : "", first, last);
		else
			sbuf_printf(b, "queue%s num %u",
			    bypass ? " flags bypass" : "", first);
		return;
	}
	if (s->queue_count > 1)
		sbuf_printf(b, "-j NFQUEUE --queue-balance %u:%u", first, last);
	else
		sbuf_printf(b, "-j NFQUEUE --queue-num %u", first);
	if (bypass)
		sbuf_printf(b, " --queue-bypass");
}

static int
device_check(const struct firewall_device *d)
{
	switch (d->kind) {
	case DEVICES_MAC:
		return 0;
	case DEVICES_IP:
		return addr_len(&d->addr) > 0 ? 0 : -EINVAL;
	case DEVICES_CIDR:
		return addr_len(&d->addr) > 0 &&
		    d->prefix <= addr_len(&d->addr) * 8 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* What firewall_render() refuses before writing anything. */
static int
spec_check(const struct firewall_spec *s)
{
	size_t i;
	int r;

	if (s->error < 0)
		return s->error;
	if (s->nports > CONFIG_MAX_CONN_PORTS ||
	    s->nfail_devices > DEVICES_MAX || s->ndns_devices > DEVICES_MAX)
		return SG_ELIMIT;
	if ((s->nfail_devices > 0 && s->fail_devices == NULL) ||
	    (s->ndns_devices > 0 && s->dns_devices == NULL))
		return -EINVAL;
	for (i = 0; i < s->nfail_devices; i++)
		if ((r = device_check(&s->fail_devices[i])) < 0)
			return r;
	for (i = 0; i < s->ndns_devices; i++)
		if ((r = device_check(&s->dns_devices[i])) < 0)
			return r;
	return 0;
}

/* Whether the family's rules hold the device (nft: one table, all). */
static bool
in_family(const struct firewall_device *d, enum fw_backend be, int family)
{
	return be == FW_NFT || d->kind == DEVICES_MAC ||
	    d->addr.family == family;
}

/* Whether some device rule sends packets to the queue rules whose bypass
 * flag is `open` (SAFEGATE_<HOOK>_OPEN or _CLOSED; nft <hook>_open ...). */
static bool
fail_chain_used(const struct firewall_spec *s, enum fw_backend be,
    int family, bool open)
{
	size_t i;

	for (i = 0; i < s->nfail_devices; i++)
		if (s->fail_devices[i].fail_open == open &&
		    in_family(&s->fail_devices[i], be, family))
			return true;
	return false;
}

/* Whether the family has nat rules: the default redirects, or some
 * device's DNS is redirected or exempt. */
static bool
nat_used(const struct firewall_spec *s, enum fw_backend be, int family)
{
	size_t i;

	if (s->redirect)
		return true;
	for (i = 0; i < s->ndns_devices; i++)
		if (in_family(&s->dns_devices[i], be, family))
			return true;
	return false;
}

/* Whether some device rule goes to the redirect chain (SAFEGATE_REDIRECT,
 * nft dns_redirect). */
static bool
redirect_chain_used(const struct firewall_spec *s, enum fw_backend be,
    int family)
{
	size_t i;

	for (i = 0; i < s->ndns_devices; i++)
		if (s->dns_devices[i].redirect &&
		    in_family(&s->dns_devices[i], be, family))
			return true;
	return false;
}

/* A device's match, with a space after it. */
static void
device_match(struct sbuf *b, const struct firewall_device *d,
    enum fw_backend be)
{
	char a[ADDR_STRLEN];

	if (d->kind == DEVICES_MAC) {
		mac_ntop(d->mac, a, sizeof(a));
		if (be == FW_NFT)
			sbuf_printf(b, "ether saddr %s ", a);
		else
			sbuf_printf(b, "-m mac --mac-source %s ", a);
		return;
	}
	addr_ntop(&d->addr, a, sizeof(a));
	if (be != FW_NFT)
		sbuf_printf(b, "-s %s/%u ", a, device_prefix(d));
	else if (d->kind == DEVICES_CIDR)
		sbuf_printf(b, "%s saddr %s/%u ",
		    d->addr.family == AF_INET ? "ip" : "ip6", a, d->prefix);
	else
		sbuf_printf(b, "%s saddr %s ",
		    d->addr.family == AF_INET ? "ip" : "ip6", a);
}

/* The queue rules of one hook, into iptables chain `chain`. */
static void
ipt_queue_rules(struct sbuf *b, const struct firewall_spec *s,
    const char *chain, int hook, bool bypass)
{
	static const char *const protos[] = { "udp", "tcp" };
	size_t j;

	for (j = 0; j < 2; j++) {
		sbuf_printf(b, "-A %s %s-p %s -m %s --dport 53 ", chain,
		    hook == HOOK_INPUT ? "! -i lo " : "", protos[j],
		    protos[j]);
		queue_args(b, s, FW_IPTABLES, bypass);
		sbuf_printf(b, "\n");
	}
	if (hook == HOOK_INPUT)
		return;
	/* The first packets of each new connection, until decided. */
	sbuf_printf(b, "-A %s -p tcp -m multiport --dports 80,443", chain);
	for (j = 0; j < s->nports; j++)
		sbuf_printf(b, ",%u", (unsigned)s->ports[j]);
	sbuf_printf(b, " -m connbytes --connbytes 0:%u --connbytes-dir "
	    "original --connbytes-mode packets ", CONN_PACKETS);
	queue_args(b, s, FW_IPTABLES, bypass);
	sbuf_printf(b, "\n-A %s -p udp -m udp --dport 443 -m connbytes "
	    "--connbytes 0:%u --connbytes-dir original --connbytes-mode "
	    "packets ", chain, CONN_PACKETS);
	queue_args(b, s, FW_IPTABLES, bypass);
	sbuf_printf(b, "\n");
	if (!s->dot || hook == HOOK_OUTPUT)
		return;
	/* DNS over TLS and over QUIC: rules of their own, as multiport
	 * may already hold its 15 ports.  Not on OUTPUT: the router's own
	 * resolver may well use DoT upstream, and bypass.dot is about the
	 * devices of the LAN. */
	for (j = 2; j-- > 0;) {
		sbuf_printf(b, "-A %s -p %s -m %s --dport 853 -m connbytes "
		    "--connbytes 0:%u --connbytes-dir original "
		    "--connbytes-mode packets ", chain, protos[j], protos[j],
		    CONN_PACKETS);
		queue_args(b, s, FW_IPTABLES, bypass);
		sbuf_printf(b, "\n");
	}
}

/* The same for nft, inside a chain block. */
static void
nft_queue_rules(struct sbuf *b, const struct firewall_spec *s, int hook,
    bool bypass)
{
	size_t j;

	sbuf_printf(b, "\t\t");
	if (hook == HOOK_INPUT)
		sbuf_printf(b, "iifname != \"lo\" ");
	sbuf_printf(b, "meta l4proto { udp, tcp } th dport 53 ");
	queue_args(b, s, FW_NFT, bypass);
	sbuf_printf(b, "\n");
	if (hook == HOOK_INPUT)
		return;
	sbuf_printf(b, "\t\ttcp dport { 80, 443");
	for (j = 0; j < s->nports; j++)
		sbuf_printf(b, ", %u", (unsigned)s->ports[j]);
	sbuf_printf(b, " } ct original packets <= %u ", CONN_PACKETS);
	queue_args(b, s, FW_NFT, bypass);
	sbuf_printf(b, "\n\t\tudp dport 443 ct original packets <= %u ",
	    CONN_PACKETS);
	queue_args(b, s, FW_NFT, bypass);
	sbuf_printf(b, "\n");
	if (!s->dot || hook == HOOK_OUTPUT)
		return;
	sbuf_printf(b, "\t\tmeta l4proto { udp, tcp } th dport 853 "
	    "ct original packets <= %u ", CONN_PACKETS);
	queue_args(b, s, FW_NFT, bypass);
	sbuf_printf(b, "\n");
}

static void
nft_render(struct sbuf *b, const struct firewall_spec *s)
{
	const struct firewall_device *d;
	size_t i, j;
	int open;

	sbuf_printf(b, "table inet " NFT_TABLE " {\n");
	/* The chains device rules jump to come first: nft before 0.9.x
	 * resolves a goto only to a chain it has already seen. */
	for (i = 0; i < HOOK_OUTPUT; i++)
		for (open = 1; open >= 0; open--) {
			if (!fail_chain_used(s, FW_NFT, AF_UNSPEC, open))
				continue;
			sbuf_printf(b, "\tchain %s_%s {\n", hooks[i],
			    open ? "open" : "closed");
			nft_queue_rules(b, s, (int)i, open);
			sbuf_printf(b, "\t}\n");
		}
	if (redirect_chain_used(s, FW_NFT, AF_UNSPEC))
		sbuf_printf(b, "\tchain dns_redirect {\n"
		    "\t\tudp dport 53 fib daddr type != local redirect to :53\n"
		    "\t\ttcp dport 53 fib daddr type != local redirect to :53\n"
		    "\t}\n");
	for (i = 0; i < 3; i++) {
		sbuf_printf(b, "\tchain %s {\n"
		    "\t\ttype filter hook %s priority filter - 5; "
		    "policy accept;\n", hooks[i], hooks[i]);
		if (i != HOOK_INPUT) {
			/* As the iptables rules below: ours out, the
			 * verdict's bits saved on the connection. */
			sbuf_printf(b, "\t\tmeta mark & 0x%x == 0x%x "
			    "return\n", QUEUE_MARK_OWN, QUEUE_MARK_OWN);
			sbuf_printf(b, "\t\tmeta mark & 0x%x == 0x%x "
			    "ct mark set ct mark | 0x%x\n",
			    QUEUE_MARK_MASK, QUEUE_MARK_MASK,
			    QUEUE_MARK_MASK);
			sbuf_printf(b, "\t\tmeta mark & 0x%x == 0x%x "
			    "ct mark set ct mark | 0x%x\n",
			    QUEUE_MARK_MASK, QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED);
			sbuf_printf(b, "\t\tct mark & 0x%x == 0x%x "
			    "drop\n", QUEUE_MARK_MASK, QUEUE_MARK_MASK);
			sbuf_printf(b, "\t\tct mark & 0x%x == 0x%x "
			    "return\n", QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED);
		}
		for (j = 0; i != HOOK_OUTPUT && j < s->nfail_devices; j++) {
			d = &s->fail_devices[j];
			sbuf_printf(b, "\t\t");
			device_match(b, d, FW_NFT);
			sbuf_printf(b, "goto %s_%s\n", hooks[i],
			    d->fail_open ? "open" : "closed");
		}
		nft_queue_rules(b, s, (int)i,
		    i == HOOK_OUTPUT ? s->fail_open : lan_bypass(s));
		sbuf_printf(b, "\t}\n");
	}
	if (nat_used(s, FW_NFT, AF_UNSPEC)) {
		sbuf_printf(b, "\tchain prerouting {\n"
		    "\t\ttype nat hook prerouting priority dstnat; "
		    "policy accept;\n");
		for (j = 0; j < s->ndns_devices; j++) {
			d = &s->dns_devices[j];
			sbuf_printf(b, "\t\t");
			device_match(b, d, FW_NFT);
			sbuf_printf(b, "%s\n", d->redirect ?
			    "goto dns_redirect" : "return");
		}
		if (s->redirect)
			sbuf_printf(b, "\t\tudp dport 53 fib daddr type != "
			    "local redirect to :53\n"
			    "\t\ttcp dport 53 fib daddr type != local "
			    "redirect to :53\n");
		sbuf_printf(b, "\t}\n");
	}
	sbuf_printf(b, "}\n");
}

static void
ipt_redirect_rules(struct sbuf *b, const char *chain)
{
	static const char *const protos[] = { "udp", "tcp" };
	size_t j;

	for (j = 0; j < 2; j++)
		sbuf_printf(b, "-A %s -p %s -m %s --dport 53 -m addrtype ! "
		    "--dst-type LOCAL -j REDIRECT --to-ports 53\n", chain,
		    protos[j], protos[j]);
}

static void
ipt_render(struct sbuf *b, const struct firewall_spec *s, int family)
{
	const struct firewall_device *d;
	char sub[32];
	size_t i, j;
	int open;

	sbuf_printf(b, "*filter\n");
	for (i = 0; i < 3; i++)
		sbuf_printf(b, ":SAFEGATE_%s - [0:0]\n", chains[i]);
	for (i = 0; i < HOOK_OUTPUT; i++)
		for (open = 1; open >= 0; open--)
			if (fail_chain_used(s, FW_IPTABLES, family, open))
				sbuf_printf(b, ":SAFEGATE_%s_%s - [0:0]\n",
				    chains[i], open ? "OPEN" : "CLOSED");
	for (i = 0; i < 3; i++) {
		const char *c = chains[i];

		if (i != HOOK_INPUT) {
			/* Connections: ours out untouched; a verdict's mark
			 * saved on the connection; blocked ones dropped,
			 * decided ones never queued again. */
			sbuf_printf(b, "-A SAFEGATE_%s -m mark --mark "
			    "0x%x/0x%x -j RETURN\n", c, QUEUE_MARK_OWN,
			    QUEUE_MARK_OWN);
			sbuf_printf(b, "-A SAFEGATE_%s -m mark --mark "
			    "0x%x/0x%x -j CONNMARK --save-mark --nfmask 0x%x "
			    "--ctmask 0x%x\n", c, QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED, QUEUE_MARK_MASK,
			    QUEUE_MARK_MASK);
			sbuf_printf(b, "-A SAFEGATE_%s -m connmark --mark "
			    "0x%x/0x%x -j DROP\n", c, QUEUE_MARK_MASK,
			    QUEUE_MARK_MASK);
			sbuf_printf(b, "-A SAFEGATE_%s -m connmark --mark "
			    "0x%x/0x%x -j RETURN\n", c, QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED);
		}
		/* A device that fails its own way goes to the copy of the
		 * queue rules with its flag, and does not come back. */
		for (j = 0; i != HOOK_OUTPUT && j < s->nfail_devices; j++) {
			d = &s->fail_devices[j];
			if (!in_family(d, FW_IPTABLES, family))
				continue;
			sbuf_printf(b, "-A SAFEGATE_%s ", c);
			device_match(b, d, FW_IPTABLES);
			sbuf_printf(b, "-g SAFEGATE_%s_%s\n", c,
			    d->fail_open ? "OPEN" : "CLOSED");
		}
		snprintf(sub, sizeof(sub), "SAFEGATE_%s", c);
		ipt_queue_rules(b, s, sub, (int)i,
		    i == HOOK_OUTPUT ? s->fail_open : lan_bypass(s));
	}
	for (i = 0; i < HOOK_OUTPUT; i++)
		for (open = 1; open >= 0; open--) {
			if (!fail_chain_used(s, FW_IPTABLES, family, open))
				continue;
			snprintf(sub, sizeof(sub), "SAFEGATE_%s_%s",
			    chains[i], open ? "OPEN" : "CLOSED");
			ipt_queue_rules(b, s, sub, (int)i, open);
		}
	sbuf_printf(b, "COMMIT\n");
	if (!nat_used(s, FW_IPTABLES, family))
		return;
	sbuf_printf(b, "*nat\n:SAFEGATE_PREROUTING - [0:0]\n");
	if (redirect_chain_used(s, FW_IPTABLES, family))
		sbuf_printf(b, ":SAFEGATE_REDIRECT - [0:0]\n");
	for (j = 0; j < s->ndns_devices; j++) {
		d = &s->dns_devices[j];
		if (!in_family(d, FW_IPTABLES, family))
			continue;
		sbuf_printf(b, "-A SAFEGATE_PREROUTING ");
		device_match(b, d, FW_IPTABLES);
		sbuf_printf(b, "%s\n", d->redirect ? "-g SAFEGATE_REDIRECT" :
		    "-j RETURN");
	}
	if (s->redirect)
		ipt_redirect_rules(b, "SAFEGATE_PREROUTING");
	if (redirect_chain_used(s, FW_IPTABLES, family))
		ipt_redirect_rules(b, "SAFEGATE_REDIRECT");
	sbuf_printf(b, "COMMIT\n");
}

int
firewall_render(const struct firewall_spec *s, enum fw_backend be, int family,
    char *buf, size_t len)
{
	struct sbuf b;
	int r;

	if ((r = spec_check(s)) < 0)
		return r;
	if (len == 0)
		return SG_ELIMIT;
	sbuf_init(&b, buf, len);
	if (be == FW_NFT)
		nft_render(&b, s);
	else
		ipt_render(&b, s, family);
	return b.overflow ? SG_ELIMIT : (int)b.len;
}

char *
firewall_render_alloc(const struct firewall_spec *s, enum fw_backend be,
    int family)
{
	size_t len;
	char *buf;
	int r;

	if ((r = spec_check(s)) < 0) {
		errno = r == SG_ELIMIT ? E2BIG : -r;
		return NULL;
	}
	len = SCRIPT_BASE + (s->nfail_devices + s->ndns_devices) *
	    SCRIPT_PER_DEV;
	for (;;) {
		if ((buf = malloc(len)) == NULL)
			return NULL;
		r = firewall_render(s, be, family, buf, len);
		if (r >= 0)
			return buf;
		free(buf);
		if (r != SG_ELIMIT || len >= SCRIPT_MAX) {
			errno = r == SG_ELIMIT ? E2BIG : -r;
			return NULL;
		}
		len *= 2;
	}
}

/* ---------------------------------------------------------------- nft */

enum fw_backend
firewall_detect(void)
{
	static const char probe[] =
	    "add table inet safegate_probe\n"
	    "add chain inet safegate_probe c "
	    "{ type filter hook output priority 0; }\n"
	    "add rule inet safegate_probe c meta l4proto udp "
	    "queue flags bypass num 0\n";
	char *const argv[] = { "nft", "-c", "-f", "-", NULL };
	char out[OUT_MAX];
	int r;

	r = run(argv, probe, out, sizeof(out));
	if (r == 0)
		return FW_NFT;
	log_debug("firewall: nft has no queue expression here (%s); "
	    "using iptables", r < 0 ? sg_strerror(r) : chomp(out));
	return FW_IPTABLES;
}

static int
nft_up(const struct firewall_spec *s)
{
	static const char head[] = "add table inet " NFT_TABLE "\n"
	    "delete table inet " NFT_TABLE "\n";
	char *const argv[] = { "nft", "-f", "-", NULL };
	char out[OUT_MAX], *rules, *script;
	int r;

	if ((rules = firewall_render_alloc(s, FW_NFT, AF_UNSPEC)) == NULL)
		return -errno;
	/* add + delete + define: one transaction, whatever was there. */
	if (asprintf(&script, "%s%s", head, rules) == -1) {
		free(rules);
		return -ENOMEM;
	}
	free(rules);
	r = run(argv, script, out, sizeof(out));
	free(script);
	if (r != 0) {
		log_warnx("firewall: nft -f failed: %s",
		    r < 0 ? sg_strerror(r) : chomp(out));
		return -EIO;
	}
	return 0;
}

static bool
nft_present(void)
{
	char *const argv[] = { "nft", "list", "table", "inet", NFT_TABLE,
	    NULL };
	char out[OUT_MAX];

	return run(argv, NULL, out, sizeof(out)) == 0;
}

static int
nft_down(void)
{
	char *const argv[] = { "nft", "delete", "table", "inet", NFT_TABLE,
	    NULL };
	char out[OUT_MAX];
	int r;

	if (!nft_present())
		return 0;
	r = run(argv, NULL, out, sizeof(out));
	if (r != 0) {
		log_warnx("firewall: nft delete table failed: %s",
		    r < 0 ? sg_strerror(r) : chomp(out));
		return -EIO;
	}
	return 0;
}

/* ---------------------------------------------------------------- iptables */

static const char *
ipt_tool(int family)
{
	return family == AF_INET ? "iptables" : "ip6tables";
}

/* Counts "-A FROM -j NAME" lines in `-S FROM` output. */
static int
ipt_count_jumps(int family, const struct ipt_chain *c)
{
	char *const argv[] = { (char *)ipt_tool(family), "-w", "5", "-t",
	    (char *)c->table, "-S", (char *)c->from, NULL };
	char out[16384], want[64], *line, *save;
	int r, n = 0;

	r = run(argv, NULL, out, sizeof(out));
	if (r != 0)
		return r < 0 ? r : -EIO;
	snprintf(want, sizeof(want), "-A %s -j %s", c->from, c->name);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strcmp(line, want) == 0)
			n++;
	return n;
}

/* Inserts (op "-I") or deletes ("-D") one jump from c->from to c. */
static int
ipt_jump(int family, const char *op, const struct ipt_chain *c)
{
	char out[OUT_MAX];
	char *const insert[] = { (char *)ipt_tool(family), "-w", "5", "-t",
	    (char *)c->table, (char *)op, (char *)c->from, "1", "-j",
	    (char *)c->name, NULL };
	char *const del[] = { (char *)ipt_tool(family), "-w", "5", "-t",
	    (char *)c->table, (char *)op, (char *)c->from, "-j",
	    (char *)c->name, NULL };

	return run(strcmp(op, "-I") == 0 ? insert : del, NULL, out,
	    sizeof(out));
}

/* Runs `TOOL -t TABLE OP NAME`; 0, the exit status, or -errno. */
static int
ipt_chain_op(int family, const struct ipt_chain *c, const char *op,
    char *out, size_t outlen)
{
	char *const argv[] = { (char *)ipt_tool(family), "-w", "5", "-t",
	    (char *)c->table, (char *)op, (char *)c->name, NULL };

	return run(argv, NULL, out, outlen);
}

/* Whether the script declares chain c (":NAME - [0:0]"). */
static bool
ipt_declared(const char *script, const struct ipt_chain *c)
{
	char want[40];

	if (script == NULL)
		return false;
	snprintf(want, sizeof(want), "\n:%s ", c->name);
	return strstr(script, want) != NULL;
}

/*
 * Removes every chain of ours the script does not declare (script NULL:
 * all of them): the jumps to it, however many someone added, then its
 * rules, then the chain, emptying all before deleting any, since our
 * chains jump to one another.
 */
static int
ipt_remove(int family, const char *script)
{
	bool exists[NIPT_CHAINS];
	char out[OUT_MAX];
	size_t i;
	int n, ret = 0;

	for (i = 0; i < NIPT_CHAINS; i++) {
		const struct ipt_chain *c = &ipt_chains[i];

		exists[i] = !ipt_declared(script, c) &&
		    ipt_chain_op(family, c, "-S", out, sizeof(out)) == 0;
		/* No chain, no jump: iptables refuses a jump to nowhere. */
		for (n = 0; exists[i] && c->from != NULL && n < 64; n++)
			if (ipt_jump(family, "-D", c) != 0)
				break;
	}
	for (i = 0; i < NIPT_CHAINS; i++)
		if (exists[i] && ipt_chain_op(family, &ipt_chains[i], "-F",
		    out, sizeof(out)) != 0) {
			log_warnx("firewall: %s: cannot empty %s: %s",
			    ipt_tool(family), ipt_chains[i].name, chomp(out));
			ret = -EIO;
		}
	for (i = 0; i < NIPT_CHAINS; i++)
		if (exists[i] && ipt_chain_op(family, &ipt_chains[i], "-X",
		    out, sizeof(out)) != 0) {
			log_warnx("firewall: %s: cannot remove %s: %s",
			    ipt_tool(family), ipt_chains[i].name, chomp(out));
			ret = -EIO;
		}
	return ret;
}

static int
ipt_up(const struct firewall_spec *s, int family)
{
	char *const argv[] = { family == AF_INET ? "iptables-restore" :
	    "ip6tables-restore", "-w", "5", "--noflush", NULL };
	char out[OUT_MAX], *script;
	size_t i;
	int n, r;

	if ((script = firewall_render_alloc(s, FW_IPTABLES, family)) == NULL)
		return -errno;
	/* Declaring our chains in --noflush mode creates or flushes them. */
	r = run(argv, script, out, sizeof(out));
	if (r != 0) {
		log_warnx("firewall: %s failed: %s", argv[0],
		    r < 0 ? sg_strerror(r) : chomp(out));
		free(script);
		return -EIO;
	}
	for (i = 0; i < NIPT_CHAINS; i++) {
		const struct ipt_chain *c = &ipt_chains[i];

		if (c->from == NULL || !ipt_declared(script, c))
			continue;
		if ((n = ipt_count_jumps(family, c)) < 0) {
			free(script);
			return n;
		}
		if (n == 0 && ipt_jump(family, "-I", c) != 0) {
			log_warnx("firewall: %s: cannot insert the jump to "
			    "%s", ipt_tool(family), c->name);
			free(script);
			return -EIO;
		}
		/* Someone else added ours twice: keep exactly one. */
		for (; n > 1; n--)
			(void)ipt_jump(family, "-D", c);
	}
	/* What an earlier ruleset had and this one has not (a copy of the
	 * queue rules no device uses now, the nat chains). */
	r = ipt_remove(family, script);
	free(script);
	return r;
}

static int
ipt_down(int family)
{
	return ipt_remove(family, NULL);
}

/* ---------------------------------------------------------------- public */

int
firewall_up(const struct firewall_spec *s, enum fw_backend *used)
{
	enum fw_backend be = s->backend;
	int r;

	if (be == FW_AUTO)
		be = firewall_detect();
	*used = be;
	if (be == FW_NFT) {
		/* Leftovers of the other backend would queue twice. */
		for (r = AF_INET; r != -1; r = r == AF_INET ? AF_INET6 : -1)
			(void)ipt_down(r);
		return nft_up(s);
	}
	(void)nft_down();
	if ((r = ipt_up(s, AF_INET)) < 0)
		return r;
	if (ipt_up(s, AF_INET6) < 0)
		log_warnx("firewall: IPv6 rules could not be put up; IPv6 "
		    "DNS is not filtered");
	return 0;
}

int
firewall_down(void)
{
	int r4, r6, rn;

	r4 = ipt_down(AF_INET);
	r6 = ipt_down(AF_INET6);
	rn = nft_down();
	return r4 < 0 ? r4 : r6 < 0 ? r6 : rn;
}
