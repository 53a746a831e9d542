/*
 * test_alert.c - the alert command: its input, the rate limit, a command
 * that fails, one that hangs, and the cap on children.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "alert.h"

static char dir[] = "/tmp/sg-alert.XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(alert, .init = setup, .fini = teardown);

/* A script at dir/name with body; returns its path (static). */
static const char *
script(const char *name, const char *body)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	return path;
}

/* Reaps until nothing runs or 5 s pass. */
static void
drain(struct alert *a, time_t now)
{
	struct alert_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		alert_reap(a, now);
		alert_get_stats(a, &st);
		usleep(10000);
	}
}

static char *
slurp(const char *name)
{
	static char buf[8192];
	char path[256];
	size_t n = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (i = 0; i < 300 && (f = fopen(path, "r")) == NULL; i++)
		usleep(10000);
	if (f == NULL)
		return NULL;
	usleep(50000);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(alert, runs_the_command_with_the_summary_on_stdin)
{
	char body[512];
	struct alert *a;
	struct alert_stats st;
	const char *json = "{\"indicator\":\"abuse-list\",\"device\":\"amy\"}";
	char *got;

	snprintf(body, sizeof(body), "cat > %s/got.tmp && mv %s/got.tmp "
	    "%s/got", dir, dir, dir);
	cr_assert_not_null(a = alert_new(script("notify", body), 300));
	cr_assert_eq(alert_fire(a, json, strlen(json), 1000), 1);
	cr_assert_not_null(got = slurp("got"));
	cr_assert_str_eq(got, json);
	drain(a, 1001);
	alert_get_stats(a, &st);
	cr_assert_eq(st.run, 1);
	cr_assert_eq(st.failed, 0);
	alert_free(a);
}

Test(alert, rate_limited_and_counted)
{
	struct alert *a;
	struct alert_stats st;

	cr_assert_not_null(a = alert_new(script("ok", "cat >/dev/null"), 300));
	cr_assert_eq(alert_fire(a, "{}", 2, 1000), 1);
	cr_assert_eq(alert_fire(a, "{}", 2, 1100), 0);
	cr_assert_eq(alert_fire(a, "{}", 2, 1299), 0);
	cr_assert_eq(alert_suppressed(a), 2);
	cr_assert_eq(alert_fire(a, "{}", 2, 1300), 1);
	cr_assert_eq(alert_suppressed(a), 0);
	drain(a, 1301);
	alert_get_stats(a, &st);
	cr_assert_eq(st.run, 2);
	cr_assert_eq(st.suppressed, 2);
	alert_free(a);
}

Test(alert, a_failing_command_is_counted)
{
	struct alert *a;
	struct alert_stats st;

	cr_assert_not_null(a = alert_new(script("bad", "cat >/dev/null; "
	    "exit 3"), 10));
	cr_assert_eq(alert_fire(a, "{}", 2, 1000), 1);
	drain(a, 1001);
	alert_get_stats(a, &st);
	cr_assert_eq(st.failed, 1);
	alert_free(a);
	/* a path that does not exist: posix_spawn fails or the child does */
	cr_assert_not_null(a = alert_new("/nonexistent/notify", 10));
	cr_assert_leq(alert_fire(a, "{}", 2, 1000), 1);
	drain(a, 1001);
	alert_get_stats(a, &st);
	cr_assert_eq(st.failed, 1);
	alert_free(a);
}

Test(alert, hung_commands_are_capped_and_killed)
{
	struct alert *a;
	struct alert_stats st;
	int i;

	cr_assert_not_null(a = alert_new(script("hang", "sleep 600"), 0));
	for (i = 0; i < ALERT_CHILDREN; i++)
		cr_assert_eq(alert_fire(a, "{}", 2, 1000 + i), 1);
	cr_assert_eq(alert_fire(a, "{}", 2, 1010), -EAGAIN);
	alert_reap(a, 1000 + ALERT_TIMEOUT + 10);	/* kills them all */
	cr_assert_eq(alert_fire(a, "{}", 2, 1000 + ALERT_TIMEOUT + 11), 1);
	alert_get_stats(a, &st);
	cr_assert_geq(st.failed, ALERT_CHILDREN + 1);
	alert_free(a);
}

Test(alert, refuses_bad_input)
{
	static char big[ALERT_JSON_MAX + 1];
	struct alert *a;

	cr_assert_null(alert_new("relative/notify", 10));
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(a = alert_new(script("ok", "cat >/dev/null"), 10));
	cr_assert_eq(alert_fire(a, big, sizeof(big), 1000), -E2BIG);
	alert_free(a);
}
