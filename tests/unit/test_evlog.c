/* Unit tests: event lines are valid JSON with only metadata in them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evlog.h"

static const char *names[] = { "adult", "gambling", "bypass" };

static struct event
sample(void)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts.tv_sec = 1700000000;
	ev.ts.tv_nsec = 123456789;
	ev.kind = "dns";
	ev.transport = "udp";
	cr_assert_eq(addr_parse(&ev.client, "fd00::2"), 0);
	ev.mac = mac;
	ev.name = "www.blocked.test";
	ev.name_len = 16;
	ev.qtype = 28;
	ev.categories = 5;
	ev.category_names = names;
	ev.ncategory_names = 3;
	ev.rule = "blocked.test";
	ev.rule_len = 12;
	ev.action = "nxdomain";
	return ev;
}

Test(evlog, format)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];
	int n;

	n = evlog_format(&ev, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "{\"ts\":\"2023-11-14T22:13:20.123456Z\","
	    "\"kind\":\"dns\",\"transport\":\"udp\",\"client\":\"fd00::2\","
	    "\"mac\":\"02:00:00:00:00:01\",\"name\":\"www.blocked.test\","
	    "\"qtype\":\"AAAA\",\"categories\":[\"adult\",\"bypass\"],"
	    "\"rule\":\"blocked.test\",\"action\":\"nxdomain\"}\n");
	cr_assert_eq((size_t)n, strlen(buf));
}

Test(evlog, ech_is_recorded)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];

	ev.kind = "tls";
	ev.transport = "tcp";
	ev.qtype = 0;
	ev.ech = true;
	ev.action = "reset";
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "\"kind\":\"tls\""), "%s", buf);
	cr_assert_null(strstr(buf, "qtype"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"rule\":\"blocked.test\",\"ech\":true,"
	    "\"action\":\"reset\"}"), "%s", buf);
}

Test(evlog, confidential_match_writes_no_name)
{
	struct event ev = sample();
	uint8_t hash[32];
	char buf[EVLOG_LINE_MAX];
	size_t i;

	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (uint8_t)i;
	ev.confidential = true;
	ev.hash = hash;
	ev.list = "abuse.hashes";
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "blocked"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"name\":null,"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"rule\":\"hash:000102030405060708090a"
	    "0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"list\":"
	    "\"abuse.hashes\""), "%s", buf);
}

Test(evlog, hostile_names_are_escaped)
{
	struct event ev = sample();
	char buf[EVLOG_LINE_MAX];

	ev.name = "a\"b\\c\nd\x01\xff.test";
	ev.name_len = 14;
	ev.mac = NULL;
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "\"name\":\"a\\\"b\\\\c\\u000ad\\u0001"
	    "\\u00ff.test\"") != NULL, "%s", buf);
	cr_assert(strstr(buf, "\"mac\":null") != NULL);
	cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1,
	    "one line, whatever the name held");
}

Test(evlog, worst_case_fits)
{
	static const char *many[64];
	struct event ev = sample();
	char name[255], buf[EVLOG_LINE_MAX];
	size_t i;

	for (i = 0; i < 64; i++)
		many[i] = "abcdefghijklmnopqrstuvwxyz012345";
	memset(name, 0xff, sizeof(name));
	ev.name = ev.rule = name;
	ev.name_len = ev.rule_len = 254;
	ev.categories = UINT64_MAX;
	ev.category_names = many;
	ev.ncategory_names = 64;
	cr_assert_gt(evlog_format(&ev, buf, sizeof(buf)), 0);
	cr_assert_eq(evlog_format(&ev, buf, 100), SG_ELIMIT);
}

Test(evlog, append)
{
	char dir[] = "/tmp/sg-evlog-XXXXXX", path[64], line[512];
	struct event ev = sample();
	struct evlog *log;
	FILE *f;
	int lines = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/events.jsonl", dir);
	log = evlog_open(path);
	cr_assert_not_null(log, "parent directories are created");
	cr_assert_eq(evlog_write(log, &ev), 0);
	cr_assert_eq(evlog_write(log, &ev), 0);
	evlog_close(log);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	fclose(f);
	cr_assert_eq(lines, 2);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}
