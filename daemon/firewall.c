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
#define SCRIPT_MAX	8192

extern char **environ;

static const char *const chains[] = { "INPUT", "FORWARD", "OUTPUT" };

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
	/* Our scripts are far below a pipe's capacity.  A tool that exits
	 * early gives EPIPE (safegated ignores SIGPIPE). */
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

/* ---------------------------------------------------------------- render */

/* The queue target's arguments, for iptables or nft. */
static void
queue_args(struct sbuf *b, const struct firewall_spec *s, enum fw_backend be)
{
	unsigned first = s->queue_first;
	unsigned last = s->queue_first + s->queue_count - 1;

	if (be == FW_NFT) {
		/* A range is balanced by flow hash, as iptables'
		 * --queue-balance does: a flow stays on one queue. */
		if (s->queue_count > 1)
			sbuf_printf(b, "queue%s num %u-%u",
			    s->fail_open ? " flags bypass" : "", first, last);
		else
			sbuf_printf(b, "queue%s num %u",
			    s->fail_open ? " flags bypass" : "", first);
		return;
	}
	if (s->queue_count > 1)
		sbuf_printf(b, "-j NFQUEUE --queue-balance %u:%u", first, last);
	else
		sbuf_printf(b, "-j NFQUEUE --queue-num %u", first);
	if (s->fail_open)
		sbuf_printf(b, " --queue-bypass");
}

void
firewall_spec_init(struct firewall_spec *fw, const struct config *cfg)
{
	memset(fw, 0, sizeof(*fw));
	fw->backend = cfg->fw_backend;
	fw->queue_first = cfg->queue_first;
	fw->queue_count = cfg->queue_count;
	fw->fail_open = cfg->fail_open;
	fw->nports = cfg->conn_nports;
	memcpy(fw->ports, cfg->conn_ports, sizeof(fw->ports));
}

int
firewall_render(const struct firewall_spec *s, enum fw_backend be, int family,
    char *buf, size_t len)
{
	static const char *const protos[] = { "udp", "tcp" };
	struct sbuf b;
	size_t i, j;

	if (len == 0 || s->nports > CONFIG_MAX_CONN_PORTS)
		return SG_ELIMIT;
	sbuf_init(&b, buf, len);
	if (be == FW_NFT) {
		sbuf_printf(&b, "table inet " NFT_TABLE " {\n");
		for (i = 0; i < 3; i++) {
			const char *hook = i == 0 ? "input" :
			    i == 1 ? "forward" : "output";

			sbuf_printf(&b, "\tchain %s {\n"
			    "\t\ttype filter hook %s priority filter - 5; "
			    "policy accept;\n", hook, hook);
			if (i > 0) {
				/* As the iptables rules below: ours out, the
				 * verdict's bits saved on the connection. */
				sbuf_printf(&b, "\t\tmeta mark & 0x%x == 0x%x "
				    "return\n", QUEUE_MARK_OWN, QUEUE_MARK_OWN);
				sbuf_printf(&b, "\t\tmeta mark & 0x%x == 0x%x "
				    "ct mark set ct mark | 0x%x\n",
				    QUEUE_MARK_MASK, QUEUE_MARK_MASK,
				    QUEUE_MARK_MASK);
				sbuf_printf(&b, "\t\tmeta mark & 0x%x == 0x%x "
				    "ct mark set ct mark | 0x%x\n",
				    QUEUE_MARK_MASK, QUEUE_MARK_DECIDED,
				    QUEUE_MARK_DECIDED);
				sbuf_printf(&b, "\t\tct mark & 0x%x == 0x%x "
				    "drop\n", QUEUE_MARK_MASK, QUEUE_MARK_MASK);
				sbuf_printf(&b, "\t\tct mark & 0x%x == 0x%x "
				    "return\n", QUEUE_MARK_DECIDED,
				    QUEUE_MARK_DECIDED);
			}
			sbuf_printf(&b, "\t\t");
			if (i == 0)
				sbuf_printf(&b, "iifname != \"lo\" ");
			sbuf_printf(&b, "meta l4proto { udp, tcp } "
			    "th dport 53 ");
			queue_args(&b, s, be);
			sbuf_printf(&b, "\n");
			if (i > 0) {
				sbuf_printf(&b, "\t\ttcp dport { 80, 443");
				for (j = 0; j < s->nports; j++)
					sbuf_printf(&b, ", %u",
					    (unsigned)s->ports[j]);
				sbuf_printf(&b, " } ct original packets <= %u ",
				    CONN_PACKETS);
				queue_args(&b, s, be);
				sbuf_printf(&b, "\n\t\tudp dport 443 ct original "
				    "packets <= %u ", CONN_PACKETS);
				queue_args(&b, s, be);
				sbuf_printf(&b, "\n");
			}
			sbuf_printf(&b, "\t}\n");
		}
		sbuf_printf(&b, "}\n");
		return b.overflow ? SG_ELIMIT : (int)b.len;
	}
	(void)family;	/* the same rules serve both families */
	sbuf_printf(&b, "*filter\n");
	for (i = 0; i < 3; i++)
		sbuf_printf(&b, ":SAFEGATE_%s - [0:0]\n", chains[i]);
	for (i = 0; i < 3; i++) {
		const char *c = chains[i];

		if (i > 0) {
			/* Connections: ours out untouched; a verdict's mark
			 * saved on the connection; blocked ones dropped,
			 * decided ones never queued again. */
			sbuf_printf(&b, "-A SAFEGATE_%s -m mark --mark "
			    "0x%x/0x%x -j RETURN\n", c, QUEUE_MARK_OWN,
			    QUEUE_MARK_OWN);
			sbuf_printf(&b, "-A SAFEGATE_%s -m mark --mark "
			    "0x%x/0x%x -j CONNMARK --save-mark --nfmask 0x%x "
			    "--ctmask 0x%x\n", c, QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED, QUEUE_MARK_MASK,
			    QUEUE_MARK_MASK);
			sbuf_printf(&b, "-A SAFEGATE_%s -m connmark --mark "
			    "0x%x/0x%x -j DROP\n", c, QUEUE_MARK_MASK,
			    QUEUE_MARK_MASK);
			sbuf_printf(&b, "-A SAFEGATE_%s -m connmark --mark "
			    "0x%x/0x%x -j RETURN\n", c, QUEUE_MARK_DECIDED,
			    QUEUE_MARK_DECIDED);
		}
		for (j = 0; j < 2; j++) {
			sbuf_printf(&b, "-A SAFEGATE_%s %s-p %s -m %s "
			    "--dport 53 ", c, i == 0 ? "! -i lo " : "",
			    protos[j], protos[j]);
			queue_args(&b, s, be);
			sbuf_printf(&b, "\n");
		}
		if (i == 0)
			continue;
		/* The first packets of each new connection, until decided. */
		sbuf_printf(&b, "-A SAFEGATE_%s -p tcp -m multiport --dports "
		    "80,443", c);
		for (j = 0; j < s->nports; j++)
			sbuf_printf(&b, ",%u", (unsigned)s->ports[j]);
		sbuf_printf(&b, " -m connbytes --connbytes 0:%u "
		    "--connbytes-dir original --connbytes-mode packets ",
		    CONN_PACKETS);
		queue_args(&b, s, be);
		sbuf_printf(&b, "\n-A SAFEGATE_%s -p udp -m udp --dport 443 "
		    "-m connbytes --connbytes 0:%u --connbytes-dir original "
		    "--connbytes-mode packets ", c, CONN_PACKETS);
		queue_args(&b, s, be);
		sbuf_printf(&b, "\n");
	}
	sbuf_printf(&b, "COMMIT\n");
	return b.overflow ? SG_ELIMIT : (int)b.len;
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
	char *const argv[] = { "nft", "-f", "-", NULL };
	char script[SCRIPT_MAX], out[OUT_MAX];
	int n, r;

	/* add + delete + define: one transaction, whatever was there. */
	n = snprintf(script, sizeof(script), "add table inet " NFT_TABLE "\n"
	    "delete table inet " NFT_TABLE "\n");
	r = firewall_render(s, FW_NFT, AF_UNSPEC, script + n,
	    sizeof(script) - (size_t)n);
	if (r < 0)
		return r;
	r = run(argv, script, out, sizeof(out));
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

/* Counts "-A CHAIN -j SAFEGATE_CHAIN" lines in `-S CHAIN` output. */
static int
ipt_count_jumps(int family, const char *chain)
{
	char *const argv[] = { (char *)ipt_tool(family), "-w", "5", "-S",
	    (char *)chain, NULL };
	char out[16384], want[64], *line, *save;
	int r, n = 0;

	r = run(argv, NULL, out, sizeof(out));
	if (r != 0)
		return r < 0 ? r : -EIO;
	snprintf(want, sizeof(want), "-A %s -j SAFEGATE_%s", chain, chain);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strcmp(line, want) == 0)
			n++;
	return n;
}

static int
ipt_jump(int family, const char *op, const char *chain)
{
	char target[32], out[OUT_MAX];
	char *const insert[] = { (char *)ipt_tool(family), "-w", "5",
	    (char *)op, (char *)chain, "1", "-j", target, NULL };
	char *const del[] = { (char *)ipt_tool(family), "-w", "5",
	    (char *)op, (char *)chain, "-j", target, NULL };

	snprintf(target, sizeof(target), "SAFEGATE_%s", chain);
	return run(strcmp(op, "-I") == 0 ? insert : del, NULL, out,
	    sizeof(out));
}

static int
ipt_up(const struct firewall_spec *s, int family)
{
	char *const argv[] = { family == AF_INET ? "iptables-restore" :
	    "ip6tables-restore", "-w", "5", "--noflush", NULL };
	char script[SCRIPT_MAX], out[OUT_MAX];
	int i, n, r;

	r = firewall_render(s, FW_IPTABLES, family, script, sizeof(script));
	if (r < 0)
		return r;
	/* Declaring our chains in --noflush mode creates or flushes them. */
	r = run(argv, script, out, sizeof(out));
	if (r != 0) {
		log_warnx("firewall: %s failed: %s", argv[0],
		    r < 0 ? sg_strerror(r) : chomp(out));
		return -EIO;
	}
	for (i = 0; i < 3; i++) {
		if ((n = ipt_count_jumps(family, chains[i])) < 0)
			return n;
		if (n == 0 && ipt_jump(family, "-I", chains[i]) != 0) {
			log_warnx("firewall: %s: cannot insert the jump to "
			    "SAFEGATE_%s", ipt_tool(family), chains[i]);
			return -EIO;
		}
		/* Someone else added ours twice: keep exactly one. */
		for (; n > 1; n--)
			(void)ipt_jump(family, "-D", chains[i]);
	}
	return 0;
}

static bool
ipt_chain_exists(int family, const char *chain)
{
	char target[32], out[OUT_MAX];
	char *const argv[] = { (char *)ipt_tool(family), "-w", "5", "-S",
	    target, NULL };

	snprintf(target, sizeof(target), "SAFEGATE_%s", chain);
	return run(argv, NULL, out, sizeof(out)) == 0;
}

static int
ipt_down(int family)
{
	char target[32], out[OUT_MAX];
	char *const flush[] = { (char *)ipt_tool(family), "-w", "5", "-F",
	    target, NULL };
	char *const del[] = { (char *)ipt_tool(family), "-w", "5", "-X",
	    target, NULL };
	int i, n, ret = 0;

	for (i = 0; i < 3; i++) {
		/* Every jump, however many someone added. */
		for (n = 0; n < 64; n++)
			if (ipt_jump(family, "-D", chains[i]) != 0)
				break;
		if (!ipt_chain_exists(family, chains[i]))
			continue;
		snprintf(target, sizeof(target), "SAFEGATE_%s", chains[i]);
		if (run(flush, NULL, out, sizeof(out)) != 0 ||
		    run(del, NULL, out, sizeof(out)) != 0) {
			log_warnx("firewall: %s: cannot remove %s: %s",
			    ipt_tool(family), target, chomp(out));
			ret = -EIO;
		}
	}
	return ret;
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
