/* Unit tests: the rules safegate puts up, as text. */
#include <criterion/criterion.h>
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
