/*
 * safegatectl - talks to a running safegated.  See safegatectl(8).
 *
 * Durations and local times are turned into epoch seconds here, on the
 * daemon's machine and clock, so the wire carries absolute times only
 * (control.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "err.h"
#include "overrides.h"

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
 * Turns the user's words into the wire request (control.h) in out[].
 * Returns the number of words.  Commands this client does not know are
 * sent as they are, for the daemon to judge.
 */
static int
build_request(int argc, char **argv, char **out, time_t now,
    char *epoch, char *device, char *name)
{
	const char *cmd = argv[0], *why = NULL;
	struct args a;
	time_t t;

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

int
main(int argc, char *argv[])
{
	const char *path = NULL, *conf = NULL, *body;
	static char reply[CONTROL_REPLY_MAX], sock[CONTROL_REQ_MAX];
	char err[CONFIG_ERR_LEN], epoch[EPOCH_LEN], until[64], left[32];
	char device[OVERRIDES_KEY_MAX + 1], name[DNS_TEXT_MAX + 1];
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
	now = time(NULL);
	nreq = build_request(argc, argv, req, now, epoch, device, name);
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
