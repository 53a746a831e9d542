/*
 * safegated - the filter daemon.  See safegated(8).
 */
#include <getopt.h>
#include <time.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "firewall.h"
#include "log.h"
#include "replay.h"
#include "overrides.h"
#include "priv.h"
#include "server.h"
#include "snapshot.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: safegated [-dfnU] [-c file] [-D file] [-L dir] "
	    "[-R up|down|show] [-T time] [-u user]\n"
	    "       safegated -r file [--json] [-d] [-c file] [-D file] "
	    "[-L dir]\n"
	    "  -c file  configuration (default " CONFIG_DEFAULT_PATH
	    ", else the embedded default)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -d       log debug output\n"
	    "  -n       check the configuration, print it in canonical form\n"
	    "  -D file  the compiled set to map (overrides lists_db)\n"
	    "  -L dir   read relative list files from dir (overrides "
	    "lists_dir)\n"
	    "  -R op    firewall rules only: put them up, take them down,\n"
	    "           or show them; then exit\n"
	    "  -r file, --replay file\n"
	    "           run a pcap or pcapng file through the filter and\n"
	    "           print one line per decision; opens no queue, no\n"
	    "           rules, no control socket, writes no event log\n"
	    "  --json   with -r: JSON lines\n"
	    "  -T time  test clock: run the policy as if it were this local\n"
	    "           time now (\"YYYY-MM-DD HH:MM\", \"Sun 21:30\" or\n"
	    "           @EPOCH), the clock then running on from there;\n"
	    "           for tests only\n"
	    "  -u user  started as root, become user (default " PRIV_USER ");\n"
	    "           root: stay uid 0, confined all the same\n"
	    "  -U       keep the user and capabilities it was started with\n"
	    "           and load no system call filter; for debugging only\n");
	exit(2);
}

/*
 * -T: the offset from the wall clock to the time given, as the local time
 * forms safegatectl takes (overrides_parse_at()) or "@" and epoch seconds
 * for a test that needs the second.
 */
static int
test_clock(const char *text, time_t *offset)
{
	const char *why = "not a time";
	time_t now = time(NULL), at;

	if ((text[0] == '@' && overrides_parse_epoch(text + 1, &at) == 0) ||
	    (text[0] != '@' && overrides_parse_at(text, now, &at, &why) == 0)) {
		*offset = at - now;
		return 0;
	}
	log_warnx("-T %s: %s", text, why);
	return -1;
}

static int
replay(const struct server_opts *opts, const char *path, bool json)
{
	struct replay_opts ro = { .json = json };
	struct replay_stats st;
	struct snapshot *snap;
	char err[CONFIG_ERR_LEN];
	unsigned i;
	int rc;

	snap = replay_snapshot(opts->config_path, opts->lists_dir,
	    opts->lists_db, err, sizeof(err));
	if (snap == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	rc = replay_file(snap, path, &ro, stdout, &st, err, sizeof(err));
	snapshot_free(snap);
	if (fflush(stdout) != 0 && rc == 0) {
		log_warn("stdout");
		return 1;
	}
	if (rc < 0) {
		log_warnx("%s", err);
		return 1;
	}
	log_info("%s: %llu packets, %llu decisions (%llu blocked), "
	    "%llu flows settled, %llu packets of settled flows skipped, "
	    "%llu frames without IP", path,
	    (unsigned long long)st.packets, (unsigned long long)st.decisions,
	    (unsigned long long)st.blocked, (unsigned long long)st.settled,
	    (unsigned long long)st.decided_skipped,
	    (unsigned long long)st.link_skipped);
	for (i = 0; i < PL_OUTCOME_COUNT; i++)
		if (st.outcomes[i] != 0)
			log_debug("%s: %llu", pipeline_outcome_name(i),
			    (unsigned long long)st.outcomes[i]);
	return 0;
}

static int
rules(const struct config *cfg, const char *op)
{
	struct firewall_spec fw;
	enum fw_backend be;
	char *text = NULL, *text6 = NULL;
	int status = 1;

	if (firewall_spec_init(&fw, cfg) < 0) {
		log_warnx("firewall: out of memory");
		goto out;
	}
	if (strcmp(op, "up") == 0) {
		if (firewall_up(&fw, &be) < 0)
			goto out;
		printf("rules up (%s)\n", config_backend_name(be));
		status = 0;
	} else if (strcmp(op, "down") == 0)
		status = firewall_down() < 0 ? 1 : 0;
	else if (strcmp(op, "show") == 0) {
		be = fw.backend == FW_AUTO ? firewall_detect() : fw.backend;
		if (be == FW_NFT) {
			if ((text = firewall_render_alloc(&fw, be, 0)) == NULL)
				goto out;
			printf("# nft -f -\n%s", text);
			status = 0;
			goto out;
		}
		if ((text = firewall_render_alloc(&fw, be, AF_INET)) == NULL ||
		    (text6 = firewall_render_alloc(&fw, be, AF_INET6)) == NULL)
			goto out;
		printf("# iptables-restore --noflush, then a jump from each "
		    "built-in chain (and PREROUTING, if a nat section is "
		    "there):\n%s"
		    "-I INPUT 1 -j SAFEGATE_INPUT\n"
		    "-I FORWARD 1 -j SAFEGATE_FORWARD\n"
		    "-I OUTPUT 1 -j SAFEGATE_OUTPUT\n"
		    "-t nat -I PREROUTING 1 -j SAFEGATE_PREROUTING\n"
		    "# ip6tables-restore --noflush, and the same jumps:\n%s",
		    text, text6);
		status = 0;
	} else
		usage();
out:
	free(text);
	free(text6);
	firewall_spec_free(&fw);
	return status;
}

int
main(int argc, char *argv[])
{
	struct server_opts opts = { 0 };
	struct config *cfg;
	const char *rules_op = NULL;
	char err[CONFIG_ERR_LEN], conf_abs[PATH_MAX], lists_abs[PATH_MAX];
	char db_abs[PATH_MAX], cwd[PATH_MAX];
	static const struct option longopts[] = {
		{ "replay", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *replay_path = NULL, *user = PRIV_USER;
	bool check = false, json = false, keep = false;
	int ch, status;

	log_init("safegated", false);
	while ((ch = getopt_long(argc, argv, "c:dD:fnL:r:R:T:u:U", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'r':
			replay_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			opts.config_path = optarg;
			break;
		case 'd':
			opts.debug = true;
			break;
		case 'f':
			opts.foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'D':
			opts.lists_db = optarg;
			break;
		case 'L':
			opts.lists_dir = optarg;
			break;
		case 'R':
			rules_op = optarg;
			break;
		case 'T':
			if (test_clock(optarg, &opts.clock_offset) < 0)
				return 2;
			break;
		case 'u':
			user = optarg;
			break;
		case 'U':
			keep = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (json && replay_path == NULL) ||
	    (replay_path != NULL && (check || rules_op != NULL)))
		usage();
	if (opts.debug)
		log_set_level(LOG_LEVEL_DEBUG);
	if (replay_path != NULL)
		return replay(&opts, replay_path, json);

	if (check || rules_op != NULL) {
		cfg = config_load(opts.config_path, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		if (check) {
			config_print(cfg, stdout);
			status = fflush(stdout) == 0 ? 0 : 1;
		} else
			status = rules(cfg, rules_op);
		config_free(cfg);
		return status;
	}
	/* The daemon runs from /, and reloads long after the start: keep
	 * the paths it was given meaning what they meant here. */
	if (opts.config_path != NULL &&
	    realpath(opts.config_path, conf_abs) != NULL)
		opts.config_path = conf_abs;
	/* The set may not exist yet (it is compiled at load then). */
	if (opts.lists_db != NULL && opts.lists_db[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(db_abs, sizeof(db_abs), "%s/%s", cwd,
		    opts.lists_db) >= sizeof(db_abs)) {
			log_warnx("-D %s: path too long", opts.lists_db);
			return 1;
		}
		opts.lists_db = db_abs;
	}
	if (opts.lists_dir != NULL) {
		if (realpath(opts.lists_dir, lists_abs) == NULL) {
			log_warn("-L %s", opts.lists_dir);
			return 1;
		}
		opts.lists_dir = lists_abs;
	}
	if (geteuid() != 0)
		log_info("not root: the queues, raw sockets and rules need "
		    "CAP_NET_ADMIN and CAP_NET_RAW");
	/* Looked up now, while the name services are all there. */
	priv_init(user, keep);
	return server_run(&opts);
}
