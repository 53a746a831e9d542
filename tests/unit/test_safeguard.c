/*
 * test_safeguard.c - what the safeguarding record feeds, around the
 * engines (test_risk.c, test_alert.c and test_syslogfwd.c have those):
 * which requests are observed, the syslog severity of a line, and the
 * alert command run from the event log's writer thread on a request time
 * that is not the wall clock's.  Regression tests for three bugs the
 * end-to-end test (tests/e2e/safeguard.sh) found.  Files go in a folder
 * of the test's own under /tmp; the syslog receiver is a UDP socket of
 * the test's own on an ephemeral port of 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "evlog.h"
#include "pipeline.h"
#include "risk.h"
#include "safeguard.h"
#include "sets.h"
#include "snapshot.h"

static struct config *
load(const char *text)
{
	struct config *cfg;
	char err[CONFIG_ERR_LEN];

	cfg = config_load_string("test", text, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	return cfg;
}

/* The snapshot's id of a category, which need not be the config's. */
static unsigned
snap_id(const struct snapshot *snap, const char *name)
{
	size_t c;

	for (c = 0; c < snap->ncategories; c++)
		if (strcmp(snap->category_names[c], name) == 0)
			return (unsigned)c;
	cr_assert_fail("no category %s", name);
	return 0;
}

/*
 * bypass-attempt fires on a DoH name allowed as well as blocked (risk.h,
 * docs/indicators.md); safeguard_observation() passed on allowed names of
 * anon-chat and messaging only, so a profile that allows DoH never had
 * one reported.
 */
Test(safeguard, allowed_bypass_names_are_observed)
{
	static const char conf[] =
	    "lists = ( { category = \"doh\"; files = [ \"d\" ]; },\n"
	    "          { category = \"games\"; files = [ \"g\" ]; } );\n";
	static const struct test_entry e[] = {
		{ "doh.test", "doh", false },
		{ "game.test", "games", false },
	};
	struct pipeline_result r;
	struct safeguard_obs o;
	struct snapshot *snap;
	struct safeguard *sg;
	char err[256];

	snap = snapshot_new(load(conf), test_set(e, 2), err, sizeof(err));
	cr_assert_not_null(snap, "%s", err);
	sg = safeguard_new(snap->cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);

	memset(&r, 0, sizeof(r));
	r.decided = true;
	r.req.kind = REQ_DNS;
	r.req.time = RISK_TIME_MIN + 86400;
	r.req.client.family = AF_INET;
	r.req.name = "doh.test";
	r.req.name_len = 8;
	r.dec.action = ACTION_ALLOW;
	r.dec.matched = UINT64_C(1) << snap_id(snap, "doh");
	cr_assert(safeguard_observation(sg, snap, &r, &o),
	    "an allowed DoH name is observed");
	cr_assert_eq(o.ncategories, 1);
	cr_assert_str_eq(o.categories[0], "doh");
	cr_assert_str_eq(o.name, "doh.test");

	r.req.name = "game.test";
	r.req.name_len = 9;
	r.dec.matched = UINT64_C(1) << snap_id(snap, "games");
	cr_assert_not(safeguard_observation(sg, snap, &r, &o),
	    "an allowed name no indicator watches is not");

	safeguard_free(sg);
	snapshot_free(snap);
}

/* A UDP socket on an ephemeral port of 127.0.0.1; its port in *port. */
static int
udp_receiver(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* One datagram into buf (NUL-terminated), within 5 s. */
static void
receive(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	cr_assert_eq(poll(&p, 1, 5000), 1, "no datagram within 5 s");
	n = recv(fd, buf, len - 1, 0);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
}

/*
 * An indicator line that is a notice goes out as a notice (5), not info:
 * line_severity() compared 19 bytes for the 18 of "kind":"indicator",
 * the NUL included, which no line holds.
 */
Test(safeguard, syslog_severity_of_lines)
{
	static const struct {
		const char	*line;
		const char	*pri;	/* local5: 21 * 8 + severity */
	} c[] = {
		{ "{\"seq\":1,\"kind\":\"indicator\",\"indicator\":"
		    "\"new-platform\",\"severity\":\"notice\"}", "<173>1 " },
		{ "{\"seq\":2,\"kind\":\"indicator\",\"indicator\":"
		    "\"anon-chat\",\"severity\":\"warning\"}", "<172>1 " },
		{ "{\"seq\":3,\"kind\":\"indicator\",\"indicator\":"
		    "\"abuse-list\",\"severity\":\"critical\",\"hold\":true}",
		    "<170>1 " },
		{ "{\"seq\":4,\"kind\":\"dns\",\"action\":\"nxdomain\","
		    "\"hold\":true}", "<170>1 " },
		{ "{\"seq\":5,\"kind\":\"dns\",\"action\":\"nxdomain\"}",
		    "<174>1 " },
	};
	static const char hash[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	struct evlog_hooks h;
	struct safeguard *sg;
	struct config *cfg;
	char conf[512], err[256], buf[2048];
	unsigned port;
	size_t i;
	int fd;

	fd = udp_receiver(&port);
	snprintf(conf, sizeof(conf), "log = { syslog = { target = "
	    "\"udp://127.0.0.1:%u\"; facility = \"local5\"; }; };\n", port);
	cfg = load(conf);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	safeguard_hooks(sg, &h);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		h.line(h.arg, c[i].line, strlen(c[i].line), i + 1, hash,
		    i < 3 ? "indicator" : "dns", i < 3 ? 9 : 3);
		receive(fd, buf, sizeof(buf));
		cr_assert_eq(strncmp(buf, c[i].pri, strlen(c[i].pri)), 0,
		    "%s: got %.8s, wanted %s", c[i].line, buf, c[i].pri);
	}
	safeguard_free(sg);
	config_free(cfg);
	close(fd);
}

/*
 * The alert command, run for an abuse-list hit whose request time is far
 * from the wall clock (safegated -T, or a clock stepped since), is not
 * killed by the writer's next tick: alert_fire() was given the request's
 * time and alert_reap() the wall clock's, so a child started "in the
 * past" looked ALERT_TIMEOUT seconds old at once and was killed before it
 * had read its input.
 */
Test(safeguard, alert_runs_on_a_request_time_in_the_past)
{
	char dir[] = "/tmp/sg-unit-safeguard-XXXXXX";
	char script[128], out[160], evpath[160], conf[1024], err[256];
	struct evlog_opts eo;
	struct evlog_hooks h;
	struct safeguard_stats st;
	struct safeguard_obs o;
	struct safeguard *sg;
	struct config *cfg;
	struct evlog *log;
	struct stat sb;
	FILE *fp;
	int i;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/alert.sh", dir);
	snprintf(out, sizeof(out), "%s/alert.json", dir);
	snprintf(evpath, sizeof(evpath), "%s/events.jsonl", dir);
	fp = fopen(script, "w");
	cr_assert_not_null(fp);
	/* Slower than a tick: the old code killed it before it wrote. */
	fprintf(fp, "#!/bin/sh\nsleep 1.5\ncat >%s.tmp && mv %s.tmp %s\n",
	    out, out, out);
	fclose(fp);
	cr_assert_eq(chmod(script, 0755), 0);

	snprintf(conf, sizeof(conf),
	    "lists = ( { category = \"abuse\"; confidential = true;\n"
	    "            files = [ \"h\" ]; } );\n"
	    "block = [ \"abuse\" ];\n"
	    "alert = { command = \"%s\"; interval = 10; };\n", script);
	cfg = load(conf);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	memset(&eo, 0, sizeof(eo));
	log = evlog_open(evpath, &eo);
	cr_assert_not_null(log);
	safeguard_hooks(sg, &h);
	evlog_set_hooks(log, &h);
	cr_assert_eq(evlog_start(log), 0);

	memset(&o, 0, sizeof(o));
	o.time = RISK_TIME_MIN + 86400;	/* 2024-01-02: long ago */
	o.client.family = AF_INET;
	snprintf(o.key, sizeof(o.key), "dev1");
	snprintf(o.device, sizeof(o.device), "dev1");
	snprintf(o.profile, sizeof(o.profile), "default");
	o.kind = RISK_DNS;
	o.action = ACTION_BLOCK;
	o.reason = REASON_CONFIDENTIAL;
	o.confidential = true;
	snprintf(o.categories[0], sizeof(o.categories[0]), "abuse");
	o.ncategories = 1;
	cr_assert_eq(evlog_observe(log, &o, sizeof(o)), 0);
	evlog_kick(log);

	for (i = 0; i < 100 && stat(out, &sb) != 0; i++)
		usleep(100 * 1000);
	cr_assert_eq(stat(out, &sb), 0, "the alert command never wrote");
	cr_assert_gt(sb.st_size, 0);
	safeguard_get_stats(sg, &st);
	cr_assert_eq(st.fired, 1);
	cr_assert_eq(st.alerts, 1);

	evlog_close(log);
	safeguard_get_stats(sg, &st);
	cr_assert_eq(st.alerts_failed, 0, "the command was killed");
	safeguard_free(sg);
	config_free(cfg);
	unlink(out);
	unlink(script);
	unlink(evpath);
	rmdir(dir);
}

/*
 * risk.state: what the engine learned survives a stop and a start; a
 * file that cannot be read is set aside as PATH.bad (not overwritten by
 * the next save) and learning starts afresh; "" keeps nothing.
 */
Test(safeguard, risk_state_saved_loaded_and_bad_files_set_aside)
{
	char dir[] = "/tmp/sg-sgstate.XXXXXX", conf[512], path[300];
	char bad[320], err[256], buf[256];
	struct safeguard *sg;
	struct config *cfg;
	struct stat st;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/risk.state", dir);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	snprintf(conf, sizeof(conf), "risk = { state = \"%s\"; };\n", path);
	cfg = load(conf);

	/* A good file: its devices are loaded. */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "safegate-risk-state 1\ndevice kid 1780000000\n"
	    "device teen 1780000100\nend 2\n");
	fclose(f);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_eq(safeguard_load(sg, 1790000000), 2);
	/* Saved again: the same devices, mode 0600. */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(safeguard_save(sg), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	safeguard_free(sg);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_eq(safeguard_load(sg, 1790000000), 2);
	safeguard_free(sg);

	/* A bad one: refused, kept aside whole, and a fresh start. */
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "safegate-risk-state 1\ndevice kid 1780000000\n");
	fclose(f);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_lt(safeguard_load(sg, 1790000000), 0);
	cr_assert_neq(access(path, F_OK), 0, "the bad file is moved away");
	f = fopen(bad, "r");
	cr_assert_not_null(f, "and kept as PATH.bad");
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	cr_assert_str_eq(buf, "safegate-risk-state 1\n");
	fclose(f);
	cr_assert_eq(safeguard_save(sg), 0);
	safeguard_free(sg);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_eq(safeguard_load(sg, 1790000000), 0, "nothing learned yet");
	safeguard_free(sg);
	config_free(cfg);

	/* "" keeps nothing: no file, no error. */
	cfg = load("risk = { state = \"\"; };\n");
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_eq(safeguard_load(sg, 1790000000), 0);
	cr_assert_eq(safeguard_save(sg), 0);
	safeguard_free(sg);
	config_free(cfg);
	unlink(path);
	unlink(bad);
	rmdir(dir);
}

/*
 * Regression: with no folder for it (a first `make run`, /var/lib/safegate
 * not there yet), the risk state was never saved ("risk state: No such
 * file or directory" at every stop).  Its folder is made, 0750, as
 * control.state's is; a folder further up that is missing is still an
 * error, not made.
 */
Test(safeguard, risk_state_folder_made_if_missing)
{
	char dir[] = "/tmp/sg-sgdir.XXXXXX", conf[512], sub[300], path[320];
	char err[256];
	struct safeguard *sg;
	struct config *cfg;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/risk.state", sub);
	snprintf(conf, sizeof(conf), "risk = { state = \"%s\"; };\n", path);
	cfg = load(conf);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_eq(safeguard_save(sg), 0);
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 0027, 0, "no more than 0750");
	cr_assert_eq(stat(path, &st), 0);
	safeguard_free(sg);
	config_free(cfg);
	unlink(path);
	rmdir(sub);

	snprintf(path, sizeof(path), "%s/a/b/risk.state", dir);
	snprintf(conf, sizeof(conf), "risk = { state = \"%s\"; };\n", path);
	cfg = load(conf);
	sg = safeguard_new(cfg, err, sizeof(err));
	cr_assert_not_null(sg, "%s", err);
	cr_assert_eq(safeguard_save(sg), -ENOENT);
	safeguard_free(sg);
	config_free(cfg);
	rmdir(dir);
}
