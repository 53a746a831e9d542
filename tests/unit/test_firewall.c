/* Unit tests: the rules safegate puts up, as text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall.h"

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

Test(firewall, iptables_one_queue_fail_open)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_first = 3, .queue_count = 1, .fail_open = true };
	char buf[8192];

	cr_assert_gt(firewall_render(&s, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), 0);
	cr_assert(strncmp(buf, "*filter\n", 8) == 0);
	cr_assert_eq(count(buf, ":SAFEGATE_"), 3);
	/* DNS on three chains, connections on FORWARD and OUTPUT. */
	cr_assert_eq(count(buf, "--queue-num 3 --queue-bypass"), 10);
	cr_assert_eq(count(buf, "-A SAFEGATE_INPUT ! -i lo -p udp -m udp "
	    "--dport 53 "), 1);
	cr_assert_eq(count(buf, "-A SAFEGATE_INPUT ! -i lo -p tcp -m tcp "
	    "--dport 53 "), 1);
	cr_assert_eq(count(buf, "-A SAFEGATE_FORWARD -p udp -m udp "
	    "--dport 53 "), 1);
	cr_assert_eq(count(buf, "-A SAFEGATE_OUTPUT -p tcp -m tcp "
	    "--dport 53 "), 1);
	cr_assert(strstr(buf, "COMMIT\n") != NULL);
}

Test(firewall, iptables_connections)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_first = 0, .queue_count = 1, .fail_open = false };
	char buf[8192];

	cr_assert_gt(firewall_render(&s, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), 0);
	/* The first packets of new connections, FORWARD and OUTPUT only. */
	cr_assert_eq(count(buf, "-p tcp -m multiport --dports 80,443 -m "
	    "connbytes --connbytes 0:12 --connbytes-dir original "
	    "--connbytes-mode packets -j NFQUEUE --queue-num 0\n"), 2);
	cr_assert_eq(count(buf, "-p udp -m udp --dport 443 -m connbytes "), 2);
	cr_assert_eq(count(buf, "-A SAFEGATE_INPUT -p tcp -m multiport"), 0);
	/* Ours out untouched, then the verdict's mark saved, blocked
	 * connections dropped and decided ones passed, before any queue. */
	cr_assert(strstr(buf, "-A SAFEGATE_FORWARD -m mark --mark "
	    "0x40000000/0x40000000 -j RETURN\n"
	    "-A SAFEGATE_FORWARD -m mark --mark 0x10000000/0x10000000 -j "
	    "CONNMARK --save-mark --nfmask 0x30000000 --ctmask 0x30000000\n"
	    "-A SAFEGATE_FORWARD -m connmark --mark 0x30000000/0x30000000 "
	    "-j DROP\n"
	    "-A SAFEGATE_FORWARD -m connmark --mark 0x10000000/0x10000000 "
	    "-j RETURN\n"
	    "-A SAFEGATE_FORWARD -p udp -m udp --dport 53 ") != NULL, "%s",
	    buf);
	cr_assert_eq(count(buf, "-j CONNMARK --save-mark"), 2);
}

Test(firewall, iptables_extra_ports)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_count = 1, .ports = { 8443, 8080 }, .nports = 2 };
	struct firewall_spec full = { .backend = FW_IPTABLES,
	    .queue_count = 1, .nports = CONFIG_MAX_CONN_PORTS };
	struct config *cfg;
	char buf[8192], err[CONFIG_ERR_LEN];
	size_t i;

	cr_assert_gt(firewall_render(&s, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), 0);
	cr_assert_eq(count(buf, "-p tcp -m multiport --dports "
	    "80,443,8443,8080 -m connbytes "), 2, "%s", buf);
	cr_assert_eq(count(buf, "--dports 80,443 "), 0);
	/* UDP is 443 alone: the extra ports are TCP. */
	cr_assert_eq(count(buf, "-p udp -m udp --dport 443 -m connbytes "), 2);
	/* nft: the same ports, in a set. */
	cr_assert_gt(firewall_render(&s, FW_NFT, 0, buf, sizeof(buf)), 0);
	cr_assert_eq(count(buf, "tcp dport { 80, 443, 8443, 8080 }"), 2);

	/* At the cap, multiport's 15 ports; past it, refused. */
	for (i = 0; i < CONFIG_MAX_CONN_PORTS; i++)
		full.ports[i] = (uint16_t)(1000 + i);
	cr_assert_gt(firewall_render(&full, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), 0);
	cr_assert_eq(count(buf, "80,443,1000,1001,1002,1003,1004,1005,1006,"
	    "1007,1008,1009,1010,1011,1012 -m connbytes"), 2, "%s", buf);
	full.nports++;
	cr_assert_eq(firewall_render(&full, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), SG_ELIMIT);

	/* The spec a config asks for. */
	cfg = config_load_string("t", "queue = { numbers = [ 5, 6 ]; "
	    "fail_open = false; };\n"
	    "connections = { ports = [ 8443, 8080 ]; };\n", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	firewall_spec_init(&full, cfg);
	cr_assert_eq(full.queue_first, 5);
	cr_assert_eq(full.queue_count, 2);
	cr_assert_not(full.fail_open);
	cr_assert_eq(full.nports, 2);
	cr_assert_eq(full.ports[0], 8443);
	cr_assert_eq(full.ports[1], 8080);
	config_free(cfg);
}

Test(firewall, iptables_balance_fail_closed)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_first = 4, .queue_count = 3, .fail_open = false };
	char buf[8192];

	cr_assert_gt(firewall_render(&s, FW_IPTABLES, AF_INET6, buf,
	    sizeof(buf)), 0);
	cr_assert_eq(count(buf, "--queue-balance 4:6\n"), 10);
	cr_assert_eq(count(buf, "bypass"), 0);
}

Test(firewall, nft_table)
{
	struct firewall_spec one = { .backend = FW_NFT,
	    .queue_first = 0, .queue_count = 1, .fail_open = true };
	struct firewall_spec many = { .backend = FW_NFT,
	    .queue_first = 2, .queue_count = 2, .fail_open = false };
	char buf[8192];

	cr_assert_gt(firewall_render(&one, FW_NFT, 0, buf, sizeof(buf)), 0);
	cr_assert(strncmp(buf, "table inet safegate {", 21) == 0);
	cr_assert_eq(count(buf, "type filter hook"), 3);
	/* DNS on three hooks, connections (TCP and UDP) on two. */
	cr_assert_eq(count(buf, "queue flags bypass num 0"), 7);
	cr_assert_eq(count(buf, "iifname != \"lo\""), 1);
	cr_assert_eq(count(buf, "th dport 53"), 3);
	cr_assert_gt(firewall_render(&many, FW_NFT, 0, buf, sizeof(buf)), 0);
	cr_assert_eq(count(buf, "queue num 2-3\n"), 7);
	cr_assert_eq(count(buf, "fanout"), 0, "flow hash, not CPU");
}

Test(firewall, too_small_buffer)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_first = 0, .queue_count = 1, .fail_open = true };
	char buf[40];

	cr_assert_eq(firewall_render(&s, FW_IPTABLES, AF_INET, buf,
	    sizeof(buf)), SG_ELIMIT);
	cr_assert_eq(firewall_render(&s, FW_NFT, 0, buf, sizeof(buf)),
	    SG_ELIMIT);
}

Test(firewall, nft_connections)
{
	struct firewall_spec s = { .backend = FW_NFT, .queue_first = 0,
	    .queue_count = 1, .fail_open = true };
	char buf[8192];

	s.ports[0] = 8443;
	s.nports = 1;
	cr_assert_gt(firewall_render(&s, FW_NFT, 0, buf, sizeof(buf)), 0);
	/* Forward and output, not input; the marks before any queue. */
	cr_assert_eq(count(buf, "tcp dport { 80, 443, 8443 } ct original "
	    "packets <= 12 queue flags bypass num 0\n"), 2);
	cr_assert_eq(count(buf, "udp dport 443 ct original packets <= 12 "), 2);
	cr_assert(strstr(buf, "policy accept;\n"
	    "\t\tmeta mark & 0x40000000 == 0x40000000 return\n"
	    "\t\tmeta mark & 0x30000000 == 0x30000000 ct mark set ct mark | "
	    "0x30000000\n"
	    "\t\tmeta mark & 0x30000000 == 0x10000000 ct mark set ct mark | "
	    "0x10000000\n"
	    "\t\tct mark & 0x30000000 == 0x30000000 drop\n"
	    "\t\tct mark & 0x10000000 == 0x10000000 return\n"
	    "\t\tmeta l4proto { udp, tcp } th dport 53 ") != NULL, "%s", buf);
	cr_assert_eq(count(buf, "ct mark set"), 4);
}

/* ------------------------------------------------ devices and profiles */

/*
 * A config built by hand, as config.c builds one from `profiles` and
 * `devices`: profile 0 is the default, P_OTHER fails the other way,
 * P_SAME like the default (an explicit profile that changes nothing).
 */
enum { P_DEFAULT, P_OTHER, P_SAME, P_COUNT };

struct hand {
	struct config		 cfg;
	struct config_profile	 prof[P_COUNT];
	struct config_device	 dev[16];
	struct firewall_spec	 spec;
};

static void
hand_init(struct hand *h, bool queue_fail_open, bool default_open)
{
	memset(h, 0, sizeof(*h));
	h->cfg.fw_backend = FW_IPTABLES;
	h->cfg.queue_count = 1;
	h->cfg.fail_open = queue_fail_open;
	h->prof[P_DEFAULT].name = "default";
	h->prof[P_DEFAULT].fail_open = default_open;
	h->prof[P_OTHER].name = "kid";
	h->prof[P_OTHER].fail_open = !default_open;
	h->prof[P_SAME].name = "same";
	h->prof[P_SAME].fail_open = default_open;
	h->cfg.profiles = h->prof;
	h->cfg.nprofiles = P_COUNT;
	h->cfg.default_profile = P_DEFAULT;
	h->cfg.devices = h->dev;
}

static struct devices_spec *
hand_dev(struct hand *h, enum devices_kind kind, unsigned profile)
{
	struct config_device *d;

	cr_assert_lt(h->cfg.ndevices, sizeof(h->dev) / sizeof(h->dev[0]));
	d = &h->dev[h->cfg.ndevices++];
	d->name = "dev";
	d->spec.name = d->name;
	d->spec.kind = kind;
	d->spec.profile = profile;
	return &d->spec;
}

static void
add_mac(struct hand *h, const char *mac, unsigned profile)
{
	struct devices_spec *s = hand_dev(h, DEVICES_MAC, profile);
	unsigned b[6];
	int i;

	cr_assert_eq(sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2],
	    &b[3], &b[4], &b[5]), 6);
	for (i = 0; i < 6; i++)
		s->mac[i] = (uint8_t)b[i];
}

static void
add_ip(struct hand *h, const char *ip, unsigned profile)
{
	struct devices_spec *s = hand_dev(h, DEVICES_IP, profile);

	cr_assert_eq(addr_parse(&s->addr, ip), 0, "%s", ip);
}

static void
add_cidr(struct hand *h, const char *net, unsigned prefix, unsigned profile)
{
	struct devices_spec *s = hand_dev(h, DEVICES_CIDR, profile);

	cr_assert_eq(addr_parse(&s->addr, net), 0, "%s", net);
	s->prefix = prefix;
}

static void
hand_spec(struct hand *h)
{
	cr_assert_eq(firewall_spec_init(&h->spec, &h->cfg), 0);
}

/* The rules as text; the caller frees them. */
static char *
text(const struct firewall_spec *s, enum fw_backend be, int family)
{
	char *t = firewall_render_alloc(s, be, family);

	cr_assert_not_null(t, "%s", strerror(errno));
	return t;
}

static bool
starts_with(const char *t, const char *head)
{
	return strncmp(t, head, strlen(head)) == 0;
}

/* Whether t ends with tail. */
static bool
ends_with(const char *t, const char *tail)
{
	size_t n = strlen(t), m = strlen(tail);

	return n >= m && strcmp(t + n - m, tail) == 0;
}

Test(firewall, devices_fail_closed_default_open)
{
	struct hand h;
	char *t;

	hand_init(&h, true, true);
	/* Config order; the rules follow devices_match()'s. */
	add_cidr(&h, "192.168.2.0", 24, P_OTHER);
	add_ip(&h, "10.77.0.2", P_OTHER);
	add_mac(&h, "02:00:00:00:00:01", P_OTHER);
	add_cidr(&h, "fd00:1::", 64, P_OTHER);
	add_ip(&h, "10.77.0.3", P_SAME);	/* nothing later holds it */
	hand_spec(&h);
	cr_assert_eq(h.spec.lan_fail, FIREWALL_FAIL_OPEN);
	cr_assert_eq(h.spec.nfail_devices, 4);
	cr_assert_eq(h.spec.ndns_devices, 0);

	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert(strstr(t, ":SAFEGATE_OUTPUT - [0:0]\n"
	    ":SAFEGATE_INPUT_CLOSED - [0:0]\n"
	    ":SAFEGATE_FORWARD_CLOSED - [0:0]\n"
	    "-A SAFEGATE_INPUT -m mac --mac-source 02:00:00:00:00:01 "
	    "-g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT -s 10.77.0.2/32 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT -s 192.168.2.0/24 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT ! -i lo -p udp -m udp --dport 53 -j NFQUEUE "
	    "--queue-num 0 --queue-bypass\n") != NULL, "%s", t);
	cr_assert_eq(count(t, "_OPEN"), 0);
	/* FORWARD: the marks first, then the devices, then everyone. */
	cr_assert(strstr(t, "-A SAFEGATE_FORWARD -m connmark --mark "
	    "0x10000000/0x10000000 -j RETURN\n"
	    "-A SAFEGATE_FORWARD -m mac --mac-source 02:00:00:00:00:01 "
	    "-g SAFEGATE_FORWARD_CLOSED\n"
	    "-A SAFEGATE_FORWARD -s 10.77.0.2/32 -g SAFEGATE_FORWARD_CLOSED\n"
	    "-A SAFEGATE_FORWARD -s 192.168.2.0/24 "
	    "-g SAFEGATE_FORWARD_CLOSED\n"
	    "-A SAFEGATE_FORWARD -p udp -m udp --dport 53 -j NFQUEUE "
	    "--queue-num 0 --queue-bypass\n") != NULL, "%s", t);
	/* Never in OUTPUT (no MAC there; the router's own traffic), never
	 * the other family, never a device that changes nothing. */
	cr_assert_eq(count(t, "--mac-source"), 2);
	cr_assert_eq(count(t, "-A SAFEGATE_OUTPUT -m mac"), 0);
	cr_assert_eq(count(t, "-A SAFEGATE_OUTPUT -s"), 0);
	cr_assert_eq(count(t, "fd00"), 0);
	cr_assert_eq(count(t, "10.77.0.3"), 0);
	/* The copies: no bypass, the same rules. */
	cr_assert_eq(count(t, "-A SAFEGATE_INPUT_CLOSED "), 2);
	cr_assert(strstr(t, "-A SAFEGATE_INPUT_CLOSED ! -i lo -p udp -m udp "
	    "--dport 53 -j NFQUEUE --queue-num 0\n"
	    "-A SAFEGATE_INPUT_CLOSED ! -i lo -p tcp -m tcp "
	    "--dport 53 -j NFQUEUE --queue-num 0\n") != NULL, "%s", t);
	cr_assert_eq(count(t, "-A SAFEGATE_FORWARD_CLOSED "), 4);
	cr_assert_eq(count(t, "-A SAFEGATE_FORWARD_CLOSED -p tcp -m multiport "
	    "--dports 80,443 -m connbytes --connbytes 0:12 --connbytes-dir "
	    "original --connbytes-mode packets -j NFQUEUE --queue-num 0\n"), 1);
	/* Everyone else as before: INPUT 2, FORWARD 4, OUTPUT 4. */
	cr_assert_eq(count(t, "--queue-bypass"), 10);
	cr_assert_eq(count(t, "*nat"), 0);
	cr_assert_eq(count(t, "COMMIT\n"), 1);
	cr_assert(ends_with(t, "COMMIT\n"));
	free(t);

	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert(strstr(t, "-A SAFEGATE_INPUT -m mac --mac-source "
	    "02:00:00:00:00:01 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT -s fd00:1::/64 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT ! -i lo ") != NULL, "%s", t);
	cr_assert_eq(count(t, "-s fd00:1::/64 -g SAFEGATE_FORWARD_CLOSED\n"),
	    1);
	cr_assert_eq(count(t, "10.77."), 0);
	cr_assert_eq(count(t, "192.168."), 0);
	cr_assert_eq(count(t, "--queue-bypass"), 10);
	free(t);

	/* nft: one table for both families, CIDRs longest first. */
	t = text(&h.spec, FW_NFT, 0);
	/* The copies come first, then the hooks that go to them. */
	cr_assert(starts_with(t, "table inet safegate {\n"
	    "\tchain input_closed {\n"
	    "\t\tiifname != \"lo\" meta l4proto { udp, tcp } th dport 53 "
	    "queue num 0\n"
	    "\t}\n"
	    "\tchain forward_closed {\n"
	    "\t\tmeta l4proto { udp, tcp } th dport 53 queue num 0\n"
	    "\t\ttcp dport { 80, 443 } ct original packets <= 12 queue num 0\n"
	    "\t\tudp dport 443 ct original packets <= 12 queue num 0\n"
	    "\t}\n"
	    "\tchain input {\n"), "%s", t);
	cr_assert(strstr(t, "policy accept;\n"
	    "\t\tether saddr 02:00:00:00:00:01 goto input_closed\n"
	    "\t\tip saddr 10.77.0.2 goto input_closed\n"
	    "\t\tip6 saddr fd00:1::/64 goto input_closed\n"
	    "\t\tip saddr 192.168.2.0/24 goto input_closed\n"
	    "\t\tiifname != \"lo\" meta l4proto { udp, tcp } th dport 53 "
	    "queue flags bypass num 0\n") != NULL, "%s", t);
	cr_assert(strstr(t, "\t\tct mark & 0x10000000 == 0x10000000 return\n"
	    "\t\tether saddr 02:00:00:00:00:01 goto forward_closed\n"
	    "\t\tip saddr 10.77.0.2 goto forward_closed\n"
	    "\t\tip6 saddr fd00:1::/64 goto forward_closed\n"
	    "\t\tip saddr 192.168.2.0/24 goto forward_closed\n"
	    "\t\tmeta l4proto { udp, tcp } th dport 53 queue flags bypass "
	    "num 0\n") != NULL, "%s", t);
	cr_assert_eq(count(t, "goto"), 8);
	cr_assert_eq(count(t, "queue flags bypass num 0\n"), 7);
	cr_assert_eq(count(t, "queue num 0\n"), 4);
	cr_assert_eq(count(t, "type nat"), 0);
	free(t);
	firewall_spec_free(&h.spec);
	cr_assert_null(h.spec.fail_devices);
}

Test(firewall, devices_fail_open_default_closed)
{
	struct hand h;
	char *t;

	/* The router's own traffic fails open (queue.fail_open), the LAN
	 * closed, but for three devices. */
	hand_init(&h, true, false);
	add_ip(&h, "10.77.0.2", P_OTHER);
	add_cidr(&h, "10.77.1.0", 24, P_OTHER);
	add_mac(&h, "02:00:00:00:00:0a", P_OTHER);
	hand_spec(&h);
	cr_assert_eq(h.spec.lan_fail, FIREWALL_FAIL_CLOSED);
	cr_assert(h.spec.fail_open);

	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert(strstr(t, ":SAFEGATE_INPUT_OPEN - [0:0]\n"
	    ":SAFEGATE_FORWARD_OPEN - [0:0]\n"
	    "-A SAFEGATE_INPUT -m mac --mac-source 02:00:00:00:00:0a "
	    "-g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT -s 10.77.0.2/32 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT -s 10.77.1.0/24 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT ! -i lo -p udp -m udp --dport 53 -j NFQUEUE "
	    "--queue-num 0\n") != NULL, "%s", t);
	cr_assert_eq(count(t, "_CLOSED"), 0);
	cr_assert(strstr(t, "-A SAFEGATE_FORWARD -s 10.77.1.0/24 "
	    "-g SAFEGATE_FORWARD_OPEN\n"
	    "-A SAFEGATE_FORWARD -p udp -m udp --dport 53 -j NFQUEUE "
	    "--queue-num 0\n") != NULL, "%s", t);
	/* OUTPUT keeps queue.fail_open; the copies have the bypass. */
	cr_assert(strstr(t, "-A SAFEGATE_OUTPUT -p udp -m udp --dport 53 "
	    "-j NFQUEUE --queue-num 0 --queue-bypass\n") != NULL, "%s", t);
	cr_assert_eq(count(t, "-A SAFEGATE_OUTPUT -p tcp -m multiport "
	    "--dports 80,443 -m connbytes --connbytes 0:12 --connbytes-dir "
	    "original --connbytes-mode packets -j NFQUEUE --queue-num 0 "
	    "--queue-bypass\n"), 1);
	cr_assert(strstr(t, "-A SAFEGATE_FORWARD_OPEN -p udp -m udp --dport 53 "
	    "-j NFQUEUE --queue-num 0 --queue-bypass\n") != NULL, "%s", t);
	/* OUTPUT 4, INPUT_OPEN 2, FORWARD_OPEN 4. */
	cr_assert_eq(count(t, "--queue-bypass"), 10);
	cr_assert_eq(count(t, "-A SAFEGATE_INPUT_OPEN "), 2);
	cr_assert_eq(count(t, "-A SAFEGATE_FORWARD_OPEN "), 4);
	free(t);

	/* IPv6: the MAC only. */
	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert_eq(count(t, " -g SAFEGATE_"), 2);
	cr_assert_eq(count(t, "-m mac --mac-source 02:00:00:00:00:0a "), 2);
	free(t);

	t = text(&h.spec, FW_NFT, 0);
	cr_assert(strstr(t, "\tchain forward_open {\n"
	    "\t\tmeta l4proto { udp, tcp } th dport 53 queue flags bypass "
	    "num 0\n") != NULL, "%s", t);
	cr_assert(strstr(t, "\t\tip saddr 10.77.1.0/24 goto forward_open\n"
	    "\t\tmeta l4proto { udp, tcp } th dport 53 queue num 0\n") != NULL,
	    "%s", t);
	cr_assert_eq(count(t, "_closed"), 0);
	/* input_open 1, forward_open 3, output 3. */
	cr_assert_eq(count(t, "queue flags bypass num 0\n"), 7);
	free(t);
	firewall_spec_free(&h.spec);
}

Test(firewall, devices_precedence)
{
	struct hand h, none;
	char *t, *u;

	hand_init(&h, true, true);
	add_cidr(&h, "192.168.0.0", 16, P_OTHER);
	add_cidr(&h, "192.168.2.0", 24, P_SAME);  /* held by the /16 */
	add_ip(&h, "192.168.2.7", P_OTHER);
	add_ip(&h, "192.168.3.5", P_SAME);	/* held by the /16 */
	add_ip(&h, "10.1.1.1", P_SAME);		/* held by nothing */
	add_cidr(&h, "10.2.0.0", 16, P_SAME);	/* held by nothing */
	add_mac(&h, "02:00:00:00:00:02", P_DEFAULT); /* any address */
	hand_spec(&h);
	cr_assert_eq(h.spec.nfail_devices, 5);
	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert(strstr(t, "-A SAFEGATE_INPUT -m mac --mac-source "
	    "02:00:00:00:00:02 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT -s 192.168.2.7/32 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT -s 192.168.3.5/32 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT -s 192.168.2.0/24 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT -s 192.168.0.0/16 -g SAFEGATE_INPUT_CLOSED\n"
	    "-A SAFEGATE_INPUT ! -i lo ") != NULL, "%s", t);
	cr_assert_eq(count(t, "10.1.1.1"), 0);
	cr_assert_eq(count(t, "10.2.0.0"), 0);
	cr_assert_eq(count(t, ":SAFEGATE_INPUT_OPEN"), 1);
	cr_assert_eq(count(t, ":SAFEGATE_INPUT_CLOSED"), 1);
	free(t);
	/* IPv6 has only the MAC, which changes nothing there: it still
	 * goes to the copy with the default's flag, harmlessly. */
	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert(strstr(t, "-A SAFEGATE_INPUT -m mac --mac-source "
	    "02:00:00:00:00:02 -g SAFEGATE_INPUT_OPEN\n"
	    "-A SAFEGATE_INPUT ! -i lo ") != NULL, "%s", t);
	cr_assert_eq(count(t, "_CLOSED"), 0);
	free(t);
	firewall_spec_free(&h.spec);

	/* Devices that change nothing: no rule at all, the same text as
	 * a config without devices, and equal specs. */
	hand_init(&h, true, false);
	add_mac(&h, "02:00:00:00:00:03", P_SAME);
	add_ip(&h, "10.77.0.4", P_DEFAULT);
	add_cidr(&h, "10.77.0.0", 24, P_SAME);
	hand_spec(&h);
	cr_assert_eq(h.spec.nfail_devices, 0);
	cr_assert_null(h.spec.fail_devices);
	hand_init(&none, true, false);
	cr_assert_eq(firewall_spec_init(&none.spec, &none.cfg), 0);
	cr_assert(firewall_spec_equal(&h.spec, &none.spec));
	t = text(&h.spec, FW_IPTABLES, AF_INET);
	u = text(&none.spec, FW_IPTABLES, AF_INET);
	cr_assert_str_eq(t, u);
	free(t);
	free(u);
	firewall_spec_free(&h.spec);
	firewall_spec_free(&none.spec);
}

Test(firewall, redirect_default_with_exempt_devices)
{
	struct hand h;
	char *t;

	hand_init(&h, true, true);
	h.prof[P_DEFAULT].outside_dns = OUTSIDE_DNS_REDIRECT;
	h.prof[P_OTHER].fail_open = true;	/* DNS only here */
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_ALLOW;
	h.prof[P_SAME].outside_dns = OUTSIDE_DNS_BLOCK;
	add_ip(&h, "10.77.0.3", P_OTHER);
	add_mac(&h, "02:00:00:00:00:03", P_OTHER);
	add_ip(&h, "fd77::3", P_OTHER);
	add_ip(&h, "10.77.0.9", P_SAME);	/* block: no redirect either */
	add_ip(&h, "10.77.0.10", P_DEFAULT);	/* redirected as everyone */
	hand_spec(&h);
	cr_assert(h.spec.redirect);
	cr_assert_eq(h.spec.nfail_devices, 0);
	cr_assert_eq(h.spec.ndns_devices, 4);

	t = text(&h.spec, FW_IPTABLES, AF_INET);
	/* The filter rules as without devices, then the nat table. */
	cr_assert_eq(count(t, "--queue-bypass"), 10);
	cr_assert_eq(count(t, " -g SAFEGATE_"), 0);
	cr_assert(ends_with(t, "COMMIT\n*nat\n"
	    ":SAFEGATE_PREROUTING - [0:0]\n"
	    "-A SAFEGATE_PREROUTING -m mac --mac-source 02:00:00:00:00:03 "
	    "-j RETURN\n"
	    "-A SAFEGATE_PREROUTING -s 10.77.0.3/32 -j RETURN\n"
	    "-A SAFEGATE_PREROUTING -s 10.77.0.9/32 -j RETURN\n"
	    "-A SAFEGATE_PREROUTING -p udp -m udp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "-A SAFEGATE_PREROUTING -p tcp -m tcp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "COMMIT\n"), "%s", t);
	cr_assert(strncmp(t, "*filter\n", 8) == 0);
	free(t);

	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert(ends_with(t, "COMMIT\n*nat\n"
	    ":SAFEGATE_PREROUTING - [0:0]\n"
	    "-A SAFEGATE_PREROUTING -m mac --mac-source 02:00:00:00:00:03 "
	    "-j RETURN\n"
	    "-A SAFEGATE_PREROUTING -s fd77::3/128 -j RETURN\n"
	    "-A SAFEGATE_PREROUTING -p udp -m udp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "-A SAFEGATE_PREROUTING -p tcp -m tcp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "COMMIT\n"), "%s", t);
	free(t);

	t = text(&h.spec, FW_NFT, 0);
	cr_assert(ends_with(t, "\tchain prerouting {\n"
	    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	    "\t\tether saddr 02:00:00:00:00:03 return\n"
	    "\t\tip saddr 10.77.0.3 return\n"
	    "\t\tip6 saddr fd77::3 return\n"
	    "\t\tip saddr 10.77.0.9 return\n"
	    "\t\tudp dport 53 fib daddr type != local redirect to :53\n"
	    "\t\ttcp dport 53 fib daddr type != local redirect to :53\n"
	    "\t}\n}\n"), "%s", t);
	cr_assert_eq(count(t, "chain dns_redirect"), 0);
	free(t);
	firewall_spec_free(&h.spec);
}

Test(firewall, redirect_devices_only)
{
	struct hand h;
	char *t;

	hand_init(&h, true, true);
	h.prof[P_OTHER].fail_open = true;
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_REDIRECT;
	h.prof[P_SAME].outside_dns = OUTSIDE_DNS_BLOCK;
	add_cidr(&h, "10.77.0.0", 24, P_OTHER);
	add_ip(&h, "10.77.0.2", P_OTHER);
	add_ip(&h, "10.77.0.5", P_DEFAULT);	/* inside the CIDR */
	add_ip(&h, "10.78.0.5", P_SAME);	/* nothing to leave */
	hand_spec(&h);
	cr_assert_not(h.spec.redirect);
	cr_assert_eq(h.spec.ndns_devices, 3);

	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert(ends_with(t, "COMMIT\n*nat\n"
	    ":SAFEGATE_PREROUTING - [0:0]\n"
	    ":SAFEGATE_REDIRECT - [0:0]\n"
	    "-A SAFEGATE_PREROUTING -s 10.77.0.2/32 -g SAFEGATE_REDIRECT\n"
	    "-A SAFEGATE_PREROUTING -s 10.77.0.5/32 -j RETURN\n"
	    "-A SAFEGATE_PREROUTING -s 10.77.0.0/24 -g SAFEGATE_REDIRECT\n"
	    "-A SAFEGATE_REDIRECT -p udp -m udp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "-A SAFEGATE_REDIRECT -p tcp -m tcp --dport 53 -m addrtype ! "
	    "--dst-type LOCAL -j REDIRECT --to-ports 53\n"
	    "COMMIT\n"), "%s", t);
	cr_assert_eq(count(t, "10.78.0.5"), 0);
	free(t);
	/* No IPv6 device: no nat table there. */
	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert_eq(count(t, "*nat"), 0);
	cr_assert_eq(count(t, "REDIRECT"), 0);
	free(t);

	t = text(&h.spec, FW_NFT, 0);
	cr_assert(strstr(t, "\tchain dns_redirect {\n"
	    "\t\tudp dport 53 fib daddr type != local redirect to :53\n"
	    "\t\ttcp dport 53 fib daddr type != local redirect to :53\n"
	    "\t}\n\tchain input {\n") != NULL, "%s", t);
	cr_assert(ends_with(t, "\t\ttype nat hook prerouting priority dstnat; "
	    "policy accept;\n"
	    "\t\tip saddr 10.77.0.2 goto dns_redirect\n"
	    "\t\tip saddr 10.77.0.5 return\n"
	    "\t\tip saddr 10.77.0.0/24 goto dns_redirect\n"
	    "\t}\n}\n"), "%s", t);
	free(t);
	firewall_spec_free(&h.spec);

	/* "block" and "allow" alone need no nat rule. */
	hand_init(&h, true, true);
	h.prof[P_DEFAULT].outside_dns = OUTSIDE_DNS_BLOCK;
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_ALLOW;
	add_ip(&h, "10.77.0.2", P_OTHER);
	hand_spec(&h);
	cr_assert_eq(h.spec.ndns_devices, 0);
	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert_eq(count(t, "*nat"), 0);
	free(t);
	t = text(&h.spec, FW_NFT, 0);
	cr_assert_eq(count(t, "nat"), 0);
	free(t);
	firewall_spec_free(&h.spec);
}

Test(firewall, dot)
{
	struct firewall_spec s = { .backend = FW_IPTABLES,
	    .queue_count = 1, .fail_open = true, .dot = true,
	    .nports = CONFIG_MAX_CONN_PORTS };
	struct hand h;
	char *t;
	size_t i;

	for (i = 0; i < CONFIG_MAX_CONN_PORTS; i++)
		s.ports[i] = (uint16_t)(1000 + i);
	t = text(&s, FW_IPTABLES, AF_INET);
	/* multiport stays at its 15 ports; 853 has rules of its own, on
	 * FORWARD only (the router's own DoT upstream is its business). */
	cr_assert_eq(count(t, "80,443,1000,1001,1002,1003,1004,1005,1006,"
	    "1007,1008,1009,1010,1011,1012 -m connbytes"), 2, "%s", t);
	cr_assert_eq(count(t, "-p tcp -m tcp --dport 853 -m connbytes "
	    "--connbytes 0:12 --connbytes-dir original --connbytes-mode "
	    "packets -j NFQUEUE --queue-num 0 --queue-bypass\n"), 1, "%s", t);
	cr_assert_eq(count(t, "-p udp -m udp --dport 853 -m connbytes "
	    "--connbytes 0:12 --connbytes-dir original --connbytes-mode "
	    "packets -j NFQUEUE --queue-num 0 --queue-bypass\n"), 1, "%s", t);
	cr_assert_eq(count(t, "-A SAFEGATE_FORWARD -p tcp -m tcp --dport 853 "),
	    1);
	cr_assert_eq(count(t, "-A SAFEGATE_OUTPUT -p udp -m udp --dport 853 "),
	    0);
	cr_assert_eq(count(t, "-A SAFEGATE_INPUT -p tcp -m tcp --dport 853"),
	    0);
	free(t);
	t = text(&s, FW_NFT, 0);
	cr_assert_eq(count(t, "\t\tmeta l4proto { udp, tcp } th dport 853 "
	    "ct original packets <= 12 queue flags bypass num 0\n"), 1, "%s",
	    t);
	free(t);
	s.dot = false;
	t = text(&s, FW_IPTABLES, AF_INET);
	cr_assert_eq(count(t, "853"), 0);
	free(t);

	/* From the config: one profile refusing DoT queues it for all
	 * (safegated refuses per profile), device copies included. */
	hand_init(&h, true, true);
	add_ip(&h, "10.77.0.2", P_OTHER);
	hand_spec(&h);
	cr_assert_not(h.spec.dot);
	firewall_spec_free(&h.spec);
	h.prof[P_OTHER].bypass_dot = true;
	hand_spec(&h);
	cr_assert(h.spec.dot);
	t = text(&h.spec, FW_IPTABLES, AF_INET);
	cr_assert_eq(count(t, "--dport 853 "), 4, "%s", t);
	cr_assert(strstr(t, "-A SAFEGATE_FORWARD_CLOSED -p tcp -m tcp "
	    "--dport 853 -m connbytes --connbytes 0:12 --connbytes-dir "
	    "original --connbytes-mode packets -j NFQUEUE --queue-num 0\n")
	    != NULL, "%s", t);
	free(t);
	firewall_spec_free(&h.spec);
}

Test(firewall, spec_equal)
{
	struct hand h;
	struct firewall_spec a, b;
	struct firewall_spec q = { .queue_count = 1, .fail_open = true };
	struct firewall_spec o = q;

	hand_init(&h, true, true);
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_REDIRECT;
	add_mac(&h, "02:00:00:00:00:01", P_OTHER);
	add_ip(&h, "10.77.0.2", P_OTHER);
	cr_assert_eq(firewall_spec_init(&a, &h.cfg), 0);
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert(firewall_spec_equal(&a, &b));
	cr_assert(firewall_spec_equal(&a, &a));

	/* A device that changes nothing: the same rules. */
	firewall_spec_free(&b);
	add_ip(&h, "10.77.0.99", P_SAME);
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert(firewall_spec_equal(&a, &b));

	/* Another profile, another address, another MAC: not. */
	firewall_spec_free(&b);
	h.dev[1].spec.profile = P_SAME;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.dev[1].spec.profile = P_OTHER;
	h.dev[1].spec.addr.u.b[3] = 3;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.dev[1].spec.addr.u.b[3] = 2;
	h.dev[0].spec.mac[5] = 9;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.dev[0].spec.mac[5] = 1;

	/* Only the redirect differs: the DNS rules change. */
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_BLOCK;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_eq(b.nfail_devices, a.nfail_devices);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_REDIRECT;

	/* Queues, ports (in order), fail flags, DoT. */
	h.cfg.queue_first = 1;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.cfg.queue_first = 0;
	h.cfg.fail_open = false;	/* OUTPUT */
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.cfg.fail_open = true;
	h.prof[P_SAME].bypass_dot = true;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert_not(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	h.prof[P_SAME].bypass_dot = false;
	cr_assert_eq(firewall_spec_init(&b, &h.cfg), 0);
	cr_assert(firewall_spec_equal(&a, &b));
	firewall_spec_free(&b);
	firewall_spec_free(&a);

	q.ports[0] = 8080;
	q.ports[1] = 8443;
	q.nports = 2;
	o = q;
	cr_assert(firewall_spec_equal(&q, &o));
	o.ports[0] = 8443;
	o.ports[1] = 8080;
	cr_assert_not(firewall_spec_equal(&q, &o));
	/* lan_fail as queue.fail_open says, or said outright: the same. */
	o = q;
	o.lan_fail = FIREWALL_FAIL_OPEN;
	cr_assert(firewall_spec_equal(&q, &o));
	o.lan_fail = FIREWALL_FAIL_CLOSED;
	cr_assert_not(firewall_spec_equal(&q, &o));
	/* A spec whose init failed equals nothing, itself included. */
	o = q;
	o.error = -ENOMEM;
	cr_assert_not(firewall_spec_equal(&o, &o));
}

Test(firewall, spec_without_profiles)
{
	struct hand h;

	/* Until config.c has parsed profiles, or with none: queue.fail_open
	 * everywhere, no device rules, whatever the devices. */
	hand_init(&h, false, true);
	add_ip(&h, "10.77.0.2", P_OTHER);
	h.cfg.nprofiles = 0;
	h.cfg.profiles = NULL;
	hand_spec(&h);
	cr_assert_eq(h.spec.lan_fail, FIREWALL_FAIL_QUEUE);
	cr_assert_not(h.spec.fail_open);
	cr_assert_eq(h.spec.nfail_devices, 0);
	cr_assert_eq(h.spec.ndns_devices, 0);
	cr_assert_not(h.spec.redirect);
	cr_assert_not(h.spec.dot);
	firewall_spec_free(&h.spec);
}

Test(firewall, many_devices_and_refusals)
{
	struct config_device *dev;
	struct hand h;
	char *t, small[8192];
	size_t i;

	/* DEVICES_MAX of them: past a fixed 8 KiB, fine in memory. */
	dev = calloc(DEVICES_MAX, sizeof(*dev));
	cr_assert_not_null(dev);
	hand_init(&h, true, true);
	h.prof[P_OTHER].outside_dns = OUTSIDE_DNS_REDIRECT;
	for (i = 0; i < DEVICES_MAX; i++) {
		dev[i].spec.kind = i % 2 ? DEVICES_IP : DEVICES_MAC;
		dev[i].spec.profile = P_OTHER;
		dev[i].spec.mac[0] = 2;
		dev[i].spec.mac[4] = (uint8_t)(i >> 8);
		dev[i].spec.mac[5] = (uint8_t)i;
		dev[i].spec.addr.family = AF_INET6;
		dev[i].spec.addr.u.b[0] = 0xfd;
		dev[i].spec.addr.u.b[14] = (uint8_t)(i >> 8);
		dev[i].spec.addr.u.b[15] = (uint8_t)i;
	}
	h.cfg.devices = dev;
	h.cfg.ndevices = DEVICES_MAX;
	hand_spec(&h);
	cr_assert_eq(h.spec.nfail_devices, DEVICES_MAX);
	cr_assert_eq(firewall_render(&h.spec, FW_IPTABLES, AF_INET6, small,
	    sizeof(small)), SG_ELIMIT);
	t = text(&h.spec, FW_IPTABLES, AF_INET6);
	cr_assert_eq(count(t, "-g SAFEGATE_INPUT_CLOSED\n"), DEVICES_MAX);
	cr_assert_eq(count(t, "-g SAFEGATE_REDIRECT\n"), DEVICES_MAX);
	free(t);
	t = text(&h.spec, FW_IPTABLES, AF_INET);	/* the MACs only */
	cr_assert_eq(count(t, "-g SAFEGATE_FORWARD_CLOSED\n"),
	    DEVICES_MAX / 2);
	free(t);
	t = text(&h.spec, FW_NFT, 0);
	cr_assert_eq(count(t, "goto dns_redirect\n"), DEVICES_MAX);
	free(t);

	/* Past the cap, a bad prefix, a failed init: refused. */
	h.spec.nfail_devices = DEVICES_MAX + 1;
	cr_assert_eq(firewall_render(&h.spec, FW_NFT, 0, small,
	    sizeof(small)), SG_ELIMIT);
	errno = 0;
	cr_assert_null(firewall_render_alloc(&h.spec, FW_NFT, 0));
	cr_assert_eq(errno, E2BIG);
	h.spec.nfail_devices = DEVICES_MAX;
	h.spec.dns_devices[7].kind = DEVICES_CIDR;
	h.spec.dns_devices[7].prefix = 129;
	cr_assert_eq(firewall_render(&h.spec, FW_IPTABLES, AF_INET6, small,
	    sizeof(small)), -EINVAL);
	h.spec.dns_devices[7].prefix = 128;
	h.spec.error = -ENOMEM;
	cr_assert_eq(firewall_render(&h.spec, FW_IPTABLES, AF_INET6, small,
	    sizeof(small)), -ENOMEM);
	firewall_spec_free(&h.spec);
	free(dev);
}
