/*
 * safegatectl - talks to a running safegated.  See safegatectl(8).
 *
 * Durations and local times are turned into epoch seconds here, on the
 * daemon's machine and clock, so the wire carries absolute times only
 * (control.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "err.h"
#include "evlog.h"
#include "overrides.h"
#if __has_include("report.h")
#include "report.h"
#define HAVE_REPORT 1
#endif

#define EPOCH_LEN	24

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: safegatectl [-c config | -s socket] command "
	    "[arguments]\n"
	    "  -c config  use the control socket this config names (default: "
	    "the\n             config safegated would run on)\n"
	    "  -s socket  use this control socket\n"
	    "commands:\n"
	    "  status     what is running: config, generation, queues, rules\n"
	    "  stats      counters: verdicts by outcome, queue, events\n"
	    "  reload     reload the config and lists (as SIGHUP does)\n"
	    "  pause DEVICE --for DURATION | --until TIME\n"
	    "             DEVICE gets nothing but always_allow until then\n"
	    "  allow DEVICE NAME --for DURATION | --until TIME\n"
	    "             unblock NAME and its subdomains for DEVICE until then\n"
	    "  resume DEVICE [--all]\n"
	    "             end DEVICE's pause; --all: its temporary allows too\n"
	    "  explain DEVICE NAME [--at TIME]\n"
	    "             the decision for NAME from DEVICE, and why\n"
	    "  overrides  the pauses and temporary allows in force\n"
	    "  hold SEQ [REASON]\n"
	    "             keep the events file that holds event SEQ past "
	    "retention\n"
	    "  verify-log [FILE...]\n"
	    "             check the events file's hash chain (no daemon "
	    "needed)\n"
#ifdef HAVE_REPORT
	    "  report     the parents' digest (see safegatectl report -h)\n"
#endif
	    "DEVICE    a device name from the config, a MAC "
	    "(aa:bb:cc:dd:ee:ff)\n"
	    "          or an IP address\n"
	    "DURATION  90s, 30m, 1h, 1h30m, 2d: at most 30d\n"
	    "TIME      local time: \"Sun 21:30\" (the next one), \"21:30\" "
	    "(today's,\n          or tomorrow's once past) or "
	    "\"2026-03-01 21:30\"\n");
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("safegatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see safegatectl -h)\n", stderr);
	exit(2);
}

/* "Sun 2026-03-01 21:30" in local time. */
static const char *
when(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%a %Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

/* Time left, to the minute once there is a minute or more. */
static const char *
left_text(time_t secs, char *buf, size_t len)
{
	if (secs >= 60)
		secs = (secs + 30) / 60 * 60;
	return overrides_format_duration(secs, buf, len);
}

/* What the user said after the command word. */
struct args {
	char		*pos[4];	/* positional words */
	int		 npos;
	const char	*dur;		/* --for */
	const char	*until;		/* --until */
	const char	*at;		/* --at */
	bool		 all;		/* --all */
	char		 joined[2][64];	/* "Sun" "21:30" given apart */
};

static bool
looks_like_hhmm(const char *s)
{
	size_t n = strlen(s);

	return (n == 4 || n == 5) && s[n - 3] == ':';
}

/*
 * A TIME may come as one word ("Sun 21:30", quoted) or as two ("--at Sun
 * 21:30"): a second word that looks like HH:MM is taken along.
 */
static const char *
time_value(struct args *a, int slot, int argc, char **argv, int *i)
{
	const char *v = argv[*i];

	if (strchr(v, ' ') == NULL && !looks_like_hhmm(v) && *i + 1 < argc &&
	    looks_like_hhmm(argv[*i + 1])) {
		snprintf(a->joined[slot], sizeof(a->joined[slot]), "%s %s", v,
		    argv[*i + 1]);
		(*i)++;
		return a->joined[slot];
	}
	return v;
}

/* Whether word is one of the comma-separated words in list. */
static bool
in_list(const char *list, const char *word)
{
	size_t n = strlen(word), k;

	while (*list != '\0') {
		k = strcspn(list, ",");
		if (k == n && strncmp(list, word, n) == 0)
			return true;
		list += k + (list[k] == ',');
	}
	return false;
}

/* Reads the words after the command, allowing the given options. */
static void
read_args(struct args *a, int argc, char **argv, const char *allowed)
{
	const char *opt, *eq;
	char name[16];
	bool options = true;
	size_t n;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = false;
			continue;
		}
		if (!options || strncmp(argv[i], "--", 2) != 0) {
			if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0])))
				bad_usage("%s: too many arguments", argv[0]);
			a->pos[a->npos++] = argv[i];
			continue;
		}
		opt = argv[i] + 2;
		n = (eq = strchr(opt, '=')) != NULL ? (size_t)(eq - opt) :
		    strlen(opt);
		snprintf(name, sizeof(name), "%.*s", (int)n, opt);
		if (n >= sizeof(name) || !in_list(allowed, name))
			bad_usage("%s: unknown option --%s", argv[0], name);
		if (strcmp(name, "all") == 0) {
			if (eq != NULL)
				bad_usage("--all takes no value");
			a->all = true;
			continue;
		}
		if (eq == NULL && i + 1 >= argc)
			bad_usage("--%s needs a value", name);
		if (eq != NULL)
			argv[i] = (char *)eq + 1;
		else
			i++;
		if (strcmp(name, "for") == 0)
			a->dur = argv[i];
		else if (strcmp(name, "until") == 0)
			a->until = time_value(a, 0, argc, argv, &i);
		else if (strcmp(name, "at") == 0)
			a->at = time_value(a, 1, argc, argv, &i);
		else
			bad_usage("%s: unknown option --%s", argv[0], name);
	}
}

static void
device_word(const char *in, char *out)
{
	if (overrides_key_normalize(in, strlen(in), out) < 0)
		bad_usage("'%s' is not a device: give a device name from the "
		    "config, a MAC (aa:bb:cc:dd:ee:ff) or an IP address", in);
}

static void
name_word(const char *in, char *out)
{
	const char *why = "bad name";

	if (overrides_name_normalize(in, strlen(in), out, &why) < 0)
		bad_usage("'%s' is not a domain name: %s", in, why);
}

/* --for or --until into an absolute until. */
static time_t
until_of(const struct args *a, const char *cmd, time_t now)
{
	const char *why = NULL;
	time_t t;

	if ((a->dur != NULL) == (a->until != NULL))
		bad_usage("%s needs --for DURATION or --until TIME (one of "
		    "them)", cmd);
	if (a->dur != NULL) {
		if (overrides_parse_duration(a->dur, &t, &why) < 0)
			bad_usage("--for %s: %s", a->dur, why);
		return now + t;
	}
	if (overrides_parse_at(a->until, now, &t, &why) < 0)
		bad_usage("--until %s: %s", a->until, why);
	if (t <= now)
		bad_usage("--until %s: that time has passed", a->until);
	if (t - now > OVERRIDES_SPAN_MAX)
		bad_usage("--until %s: more than 30 days ahead", a->until);
	return t;
}

/*
 * A hold's reason goes as one word: its words joined by blanks, then
 * every byte that is not printable ASCII, a blank or '%' as %XX.
 */
static void
encode_reason(int argc, char **argv, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char raw[EVLOG_REASON_MAX + 1];
	size_t n = 0, k, i;
	int w;

	for (w = 0; w < argc; w++) {
		k = strlen(argv[w]);
		if (n + (w > 0) + k > EVLOG_REASON_MAX)
			bad_usage("the reason is too long: at most %d bytes",
			    EVLOG_REASON_MAX);
		if (w > 0)
			raw[n++] = ' ';
		memcpy(raw + n, argv[w], k);
		n += k;
	}
	for (i = 0, k = 0; i < n; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if (ch > ' ' && ch < 0x7f && ch != '%') {
			out[k++] = (char)ch;
			continue;
		}
		out[k++] = '%';
		out[k++] = hex[ch >> 4];
		out[k++] = hex[ch & 15];
	}
	out[k] = '\0';
	if (k > CONTROL_REQ_MAX - 32)
		bad_usage("the reason is too long once encoded for the control "
		    "socket: shorten it");
}

/*
 * Turns the user's words into the wire request (control.h) in out[].
 * Returns the number of words.  Commands this client does not know are
 * sent as they are, for the daemon to judge.
 */
static int
build_request(int argc, char **argv, char **out, time_t now,
    char *epoch, char *device, char *name, char *reason)
{
	const char *cmd = argv[0], *why = NULL;
	struct args a;
	time_t t;
	size_t i;

	if (strcmp(cmd, "hold") == 0) {
		if (argc < 2 || argv[1][0] == '\0')
			bad_usage("usage: hold SEQ [REASON]");
		for (i = 0; argv[1][i] != '\0'; i++)
			if (argv[1][i] < '0' || argv[1][i] > '9' ||
			    (i == 0 && argv[1][i] == '0') || i >= 19)
				bad_usage("'%s' is not an event's seq: give "
				    "the \"seq\" of an event in the events "
				    "file", argv[1]);
		out[0] = "hold";
		out[1] = argv[1];
		if (argc == 2)
			return 2;
		encode_reason(argc - 2, argv + 2, reason);
		out[2] = reason;
		return 3;
	}

	if (strcmp(cmd, "pause") == 0) {
		read_args(&a, argc, argv, "for,until");
		if (a.npos != 1)
			bad_usage("usage: pause DEVICE --for DURATION | "
			    "--until TIME");
		device_word(a.pos[0], device);
		snprintf(epoch, EPOCH_LEN, "%lld",
		    (long long)until_of(&a, cmd, now));
		out[0] = "pause";
		out[1] = device;
		out[2] = epoch;
		return 3;
	}
	if (strcmp(cmd, "allow") == 0) {
		read_args(&a, argc, argv, "for,until");
		if (a.npos != 2)
			bad_usage("usage: allow DEVICE NAME --for DURATION | "
			    "--until TIME");
		device_word(a.pos[0], device);
		name_word(a.pos[1], name);
		snprintf(epoch, EPOCH_LEN, "%lld",
		    (long long)until_of(&a, cmd, now));
		out[0] = "allow";
		out[1] = device;
		out[2] = name;
		out[3] = epoch;
		return 4;
	}
	if (strcmp(cmd, "resume") == 0) {
		read_args(&a, argc, argv, "all");
		if (a.npos != 1)
			bad_usage("usage: resume DEVICE [--all]");
		device_word(a.pos[0], device);
		out[0] = "resume";
		out[1] = device;
		out[2] = "all";
		return a.all ? 3 : 2;
	}
	if (strcmp(cmd, "explain") == 0) {
		read_args(&a, argc, argv, "at");
		if (a.npos != 2)
			bad_usage("usage: explain DEVICE NAME [--at TIME]");
		device_word(a.pos[0], device);
		name_word(a.pos[1], name);
		out[0] = "explain";
		out[1] = device;
		out[2] = name;
		if (a.at == NULL)
			return 3;
		if (overrides_parse_at(a.at, now, &t, &why) < 0)
			bad_usage("--at %s: %s", a.at, why);
		snprintf(epoch, EPOCH_LEN, "%lld", (long long)t);
		out[3] = epoch;
		return 4;
	}
	if (strcmp(cmd, "overrides") == 0 && argc > 1)
		bad_usage("overrides takes no arguments");
	if (argc > CONTROL_ARGS_MAX)
		bad_usage("too many arguments");
	memcpy(out, argv, (size_t)argc * sizeof(*out));
	return argc;
}

/* The "overrides" reply: one line an entry, in local time. */
static void
print_overrides(const char *body, time_t now)
{
	struct overrides_entry e;
	const char *p = body, *nl;
	char until[64], left[32];
	size_t len;
	bool any = false;

	for (; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		len = (size_t)(nl - p);
		if (len == 0)
			continue;
		any = true;
		if (overrides_parse_line(p, len, &e) != NULL) {
			printf("%.*s\n", (int)len, p);	/* not ours: as is */
			continue;
		}
		when(e.until, until, sizeof(until));
		left_text(e.until > now ? e.until - now : 0, left,
		    sizeof(left));
		if (e.kind == OVERRIDES_PAUSE)
			printf("%s: paused until %s (%s left)\n", e.key, until,
			    left);
		else
			printf("%s: %s allowed until %s (%s left)\n", e.key,
			    e.name, until, left);
	}
	if (!any)
		printf("no pauses or temporary allows\n");
}

/*
 * verify-log [FILE...]: the files given, or the config's events file after
 * its rotated files.  Exit 0 intact, 1 broken or unreadable, 2 usage.
 */
static int
verify_log(const char *conf, int argc, char **argv)
{
	struct evlog_report rep;
	struct config *cfg = NULL;
	struct stat st;
	char err[CONFIG_ERR_LEN], **rot = NULL;
	const char **paths;
	size_t n = 0, nrot = 0, i;
	int r, status = 1;

	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
		bad_usage("usage: verify-log [FILE...]");
	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argc--;
		argv++;
	}
	if ((paths = calloc((size_t)argc + 1, sizeof(*paths))) == NULL) {
		fprintf(stderr, "safegatectl: out of memory\n");
		return 1;
	}
	for (i = 1; i < (size_t)argc; i++)
		paths[n++] = argv[i];
	if (n == 0) {
		if ((cfg = config_load(conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "safegatectl: %s\n", err);
			goto out;
		}
		if (cfg->events_path == NULL || cfg->events_path[0] == '\0') {
			fprintf(stderr, "safegatectl: %s names no events file "
			    "(log.events)\n", cfg->source);
			goto out;
		}
		if ((r = evlog_rotated(cfg->events_path, &rot, &nrot)) < 0) {
			fprintf(stderr, "safegatectl: %s: %s\n",
			    cfg->events_path, sg_strerror(r));
			goto out;
		}
		free(paths);
		if ((paths = calloc(nrot + 1, sizeof(*paths))) == NULL)
			goto out;
		for (i = 0; i < nrot; i++)
			paths[n++] = rot[i];
		if (stat(cfg->events_path, &st) == 0 || n == 0)
			paths[n++] = cfg->events_path;
	}
	if ((r = evlog_verify(paths, n, &rep)) < 0) {
		fprintf(stderr, "safegatectl: %s: %s\n", paths[rep.file],
		    sg_strerror(r));
		goto out;
	}
	if (!rep.intact) {
		printf("%s:%" PRIu64 ": %s\n", paths[rep.file], rep.line,
		    rep.why);
		if (rep.events > 0)
			printf("(the %" PRIu64 " event%s before it, seq %"
			    PRIu64 "..%" PRIu64 ", %s intact)\n", rep.events,
			    rep.events == 1 ? "" : "s", rep.first_seq,
			    rep.last_seq, rep.events == 1 ? "is" : "are");
		goto out;
	}
	if (rep.events == 0)
		printf("chain intact: 0 events\n");
	else
		printf("chain intact: %" PRIu64 " event%s, seq %" PRIu64 "..%"
		    PRIu64 ", from %s to %s\n", rep.events,
		    rep.events == 1 ? "" : "s", rep.first_seq, rep.last_seq,
		    rep.first_ts, rep.last_ts);
	if (rep.events > 0 && rep.first_seq > 1)
		printf("the chain starts at seq %" PRIu64 ": the files before "
		    "it are gone (retention)\n", rep.first_seq);
	if (rep.torn > 0)
		printf("%" PRIu64 " line%s cut short by a crash, each followed "
		    "by its \"recovered\" event\n", rep.torn,
		    rep.torn == 1 ? "" : "s");
	if (rep.bridged > 0)
		printf("%" PRIu64 " gap%s between files left by retention, "
		    "bridged by \"purged\" events\n", rep.bridged,
		    rep.bridged == 1 ? "" : "s");
	if (rep.lost > 0)
		printf("%" PRIu64 " event%s lost before writing (\"lost\" "
		    "events say when)\n", rep.lost, rep.lost == 1 ? "" : "s");
	if (rep.holds > 0)
		printf("%" PRIu64 " held event%s (abuse-list hits and holds)\n",
		    rep.holds, rep.holds == 1 ? "" : "s");
	status = 0;
out:
	free(paths);
	evlog_names_free(rot, nrot);
	config_free(cfg);
	return status;
}

int
main(int argc, char *argv[])
{
	const char *path = NULL, *conf = NULL, *body;
	static char reply[CONTROL_REPLY_MAX], sock[CONTROL_REQ_MAX];
	char err[CONFIG_ERR_LEN], epoch[EPOCH_LEN], until[64], left[32];
	char device[OVERRIDES_KEY_MAX + 1], name[DNS_TEXT_MAX + 1];
	char reason[3 * EVLOG_REASON_MAX + 1];
	char *req[CONTROL_ARGS_MAX];
	struct config *cfg;
	time_t now;
	int ch, r, nreq;

	/* '+': options end at the command, whose own options follow it. */
	while ((ch = getopt(argc, argv, "+c:hs:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (conf != NULL && path != NULL))
		usage();
	/* The commands that read files here, with no daemon. */
	if (strcmp(argv[0], "verify-log") == 0) {
		if (path != NULL)
			bad_usage("verify-log reads files: -s does not apply");
		return verify_log(conf, argc, argv);
	}
	if (strcmp(argv[0], "report") == 0) {
#ifdef HAVE_REPORT
		if (path != NULL)
			bad_usage("report reads files: -s does not apply");
		return report_main_config(conf, argc, argv);
#else
		bad_usage("report: not built in");
#endif
	}
	now = time(NULL);
	nreq = build_request(argc, argv, req, now, epoch, device, name,
	    reason);
	if (path == NULL) {
		if ((cfg = config_load(conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "safegatectl: %s\n", err);
			return 1;
		}
		snprintf(sock, sizeof(sock), "%s", cfg->control_socket);
		config_free(cfg);
		path = sock;
	}
	r = control_request(path, nreq, req, reply, sizeof(reply));
	if (r < 0) {
		fprintf(stderr, "safegatectl: %s: %s\n", path, sg_strerror(r));
		return 1;
	}
	if (r != 0) {
		/* Keep "error: ..." for the user. */
		fputs(reply, stderr);
		return 1;
	}
	/* Drop the "ok" line. */
	body = reply + 3;
	if (strcmp(req[0], "overrides") == 0) {
		print_overrides(body, now);
		return 0;
	}
	if (strcmp(req[0], "pause") == 0 || strcmp(req[0], "allow") == 0) {
		time_t t = (time_t)strtoll(epoch, NULL, 10);

		when(t, until, sizeof(until));
		left_text(t - now, left, sizeof(left));
		if (req[0][0] == 'p')
			printf("%s paused until %s (%s)\n", device, until,
			    left);
		else
			printf("%s allowed for %s until %s (%s)\n", name,
			    device, until, left);
	}
	fputs(body, stdout);
	return 0;
}
