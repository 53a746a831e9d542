/*
 * test_config.c - config_load_*, the checks and their messages, the
 * canonical printer and config_list_path().
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "risk.h"

static char err[CONFIG_ERR_LEN];

static struct config *
load(const char *text)
{
	struct config *cfg;

	err[0] = '\0';
	cfg = config_load_string("t.conf", text, err, sizeof(err));
	cr_assert_not_null(cfg, "load failed: %s", err);
	return cfg;
}

/* Loading text must fail with exactly this message. */
static void
load_fails(const char *text, const char *want)
{
	struct config *cfg;

	err[0] = '\0';
	errno = 0;
	cfg = config_load_string("t.conf", text, err, sizeof(err));
	cr_assert_null(cfg, "loaded, but wanted: %s", want);
	cr_expect_eq(errno, EINVAL);
	cr_expect_str_eq(err, want);
}

/* config_print into a malloc'd string. */
static char *
print(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	config_print(cfg, fp);
	cr_assert_eq(fclose(fp), 0);
	return buf;
}

/* Prints cfg, loads the output, prints again: the two must be equal. */
static void
assert_round_trip(const struct config *cfg)
{
	struct config *again;
	char *a, *b;

	a = print(cfg);
	again = config_load_string(cfg->source, a, err, sizeof(err));
	cr_assert_not_null(again, "canonical text does not load: %s\n%s", err,
	    a);
	b = print(again);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	config_free(again);
}

Test(config, empty_gives_defaults)
{
	struct config *cfg = load("");
	char buf[ADDR_STRLEN];

	cr_expect_str_eq(cfg->source, "t.conf");
	cr_expect_eq(cfg->queue_first, 0);
	cr_expect_eq(cfg->queue_count, 1);
	cr_expect(cfg->fail_open);
	cr_expect_eq(cfg->queue_max_len, 4096);
	cr_expect(cfg->fw_manage);
	cr_expect_eq(cfg->fw_backend, FW_AUTO);
	cr_expect_eq(cfg->block.mode, DNS_BLOCK_NXDOMAIN);
	cr_expect_eq(cfg->block.ttl, 300);
	cr_expect_eq(cfg->block.page_v4.family, AF_UNSPEC);
	cr_expect_eq(cfg->block.page_v6.family, AF_UNSPEC);
	cr_expect_str_eq(cfg->lists_dir, "/usr/share/safegate/blocklists");
	cr_expect_eq(cfg->nlists, 0);
	cr_expect_eq(cfg->ncategories, 0);
	cr_expect_eq(cfg->block_mask, 0);
	cr_expect_str_eq(cfg->events_path, "/var/log/safegate/events.jsonl");
	cr_expect_eq(cfg->log_level, LOG_LEVEL_INFO);
	cr_expect_str_eq(cfg->control_socket, "/run/safegate/control.sock");
	cr_expect_str_eq(cfg->state_path, "/var/lib/safegate/state");
	cr_expect_str_eq(cfg->dhcp_leases, "/var/lib/misc/dnsmasq.leases");
	cr_expect_str_eq(addr_ntop(&cfg->resolver, buf, sizeof(buf)),
	    "127.0.0.1");
	cr_expect_eq(cfg->resolver_port, 53);
	cr_expect_eq(cfg->ndevices, 0);
	cr_expect_eq(cfg->nalways_allow, 0);
	/* The implicit profile: nothing beyond block, everything off. */
	cr_assert_eq(cfg->nprofiles, 1);
	cr_expect(cfg->profiles_implicit);
	cr_expect_eq(cfg->default_profile, 0);
	cr_expect_str_eq(cfg->profiles[0].name, "default");
	cr_expect_eq(cfg->profiles[0].block_mask, 0);
	cr_expect_eq(cfg->profiles[0].service_mask, 0);
	cr_expect_eq(cfg->profiles[0].nschedules, 0);
	cr_expect_not(cfg->profiles[0].safe_search.google);
	cr_expect_eq(cfg->profiles[0].safe_search.youtube, SAFESEARCH_YT_OFF);
	cr_expect_not(cfg->profiles[0].bypass_doh);
	cr_expect_eq(cfg->profiles[0].outside_dns, OUTSIDE_DNS_ALLOW);
	cr_expect(cfg->profiles[0].fail_open);
	cr_expect_eq(cfg->profiles[0].age, 0);
	cr_expect_eq(config_profile_id(cfg, "default"), 0);
	/* issue 6 */
	cr_expect_eq(cfg->events_rotate_bytes, 10485760);
	cr_expect(cfg->events_rotate_daily);
	cr_expect_eq(cfg->events_keep_days, 90);
	cr_expect_str_eq(cfg->syslog_target, "");
	cr_expect_str_eq(cfg->syslog_ca, "");
	cr_expect_eq(cfg->syslog_facility, 21);	/* local5 */
	cr_expect_str_eq(cfg->alert_command, "");
	cr_expect_eq(cfg->alert_interval, 300);
	cr_expect_not(cfg->blockpage_serve);
	cr_expect_eq(cfg->blockpage_port, 80);
	cr_expect(cfg->risk.anon_chat.enabled);
	cr_expect_eq(cfg->risk.anon_chat.window, 86400);
	cr_expect(cfg->risk.late_night.enabled);
	cr_expect_eq(cfg->risk.late_night.window, 3600);
	cr_expect(cfg->risk.first_seen.enabled);
	cr_expect_eq(cfg->risk.first_seen.window, 86400);
	cr_expect(cfg->risk.bypass.enabled);
	cr_expect_eq(cfg->risk.bypass.window, 3600);
	cr_expect(cfg->risk.repeated.enabled);
	cr_expect_eq(cfg->risk.repeated.window, 3600);
	cr_expect(cfg->risk.age.enabled);
	cr_expect_eq(cfg->risk.age.window, 86400);
	cr_expect(cfg->risk.abuse.enabled);
	cr_expect_eq(cfg->risk.abuse.window, 0);
	cr_expect_eq(cfg->risk.first_seen_days, 30);
	cr_expect_eq(cfg->risk.repeated_count, 5);
	cr_expect_eq(cfg->risk.repeated_minutes, 10);
	cr_expect_str_eq(cfg->risk.bedtime, "bedtime");
	/* No categories, so nothing to watch: the defaults make none. */
	cr_expect_eq(cfg->risk.anon_chat_mask, 0);
	cr_expect_eq(cfg->risk.messaging_mask, 0);
	cr_expect_eq(cfg->risk.repeated_mask, 0);
	cr_expect_eq(config_profile_id(cfg, "child"), -1);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, default_is_the_shipped_file)
{
	struct config *cfg;

	cfg = config_load_default(err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_str_eq(cfg->source, CONFIG_EMBEDDED_NAME);
	/* The lists' 6, then the 10 services risk.messaging names. */
	cr_expect_eq(cfg->ncategories, 16);
	cr_expect_str_eq(cfg->categories[0], "adult");
	cr_expect_str_eq(cfg->categories[1], "gambling");
	cr_expect_str_eq(cfg->categories[5], "bypass");
	cr_expect_str_eq(cfg->categories[6], "whatsapp");
	cr_expect_str_eq(cfg->categories[15], "twitch");
	cr_expect_eq(cfg->risk.anon_chat_mask, 0x4);	/* anon-chat */
	cr_expect_eq(cfg->risk.repeated_mask, 0x1);	/* adult */
	cr_expect_eq(cfg->risk.messaging_mask, 0xffc0);
	cr_expect_str_eq(cfg->risk.bedtime, "bedtime");
	cr_expect_not(cfg->blockpage_serve);
	cr_expect_str_eq(cfg->alert_command, "");
	cr_expect_str_eq(cfg->syslog_target, "");
	/* Nothing for everyone: the profile "default" protects every device. */
	cr_expect_eq(cfg->block_mask, 0);
	cr_assert_eq(cfg->nprofiles, 1);
	cr_expect_not(cfg->profiles_implicit);
	cr_expect_eq(cfg->default_profile, 0);
	cr_expect_str_eq(cfg->profiles[0].name, "default");
	cr_expect_eq(cfg->profiles[0].block_mask, 0x7);	/* adult, gambling,
							   anon-chat */
	cr_expect_eq(cfg->profiles[0].service_mask, 0);
	cr_expect(cfg->profiles[0].bypass_doh);
	cr_expect(cfg->profiles[0].bypass_vpn);
	cr_expect(cfg->profiles[0].bypass_dot);
	cr_expect(cfg->profiles[0].bypass_ech);
	cr_expect_eq(cfg->profiles[0].outside_dns, OUTSIDE_DNS_REDIRECT);
	cr_expect(cfg->profiles[0].safe_search.google);
	cr_expect(cfg->profiles[0].safe_search.bing);
	cr_expect(cfg->profiles[0].safe_search.duckduckgo);
	cr_expect(cfg->profiles[0].safe_search.brave);
	cr_expect(cfg->profiles[0].safe_search.ecosia);
	cr_expect_eq(cfg->profiles[0].safe_search.youtube,
	    SAFESEARCH_YT_STRICT);
	cr_expect(cfg->profiles[0].fail_open);
	cr_expect_eq(cfg->ndevices, 0);
	cr_expect_eq(cfg->nalways_allow, 0);
	cr_expect_eq(cfg->confidential_mask, 0);
	cr_expect_eq(cfg->nlists, 16);
	cr_expect_not(cfg->lists[5].implicit);
	cr_expect(cfg->lists[6].implicit);
	cr_expect_str_eq(cfg->lists[6].files[0], "services/whatsapp.domains");
	cr_expect_str_eq(cfg->lists[5].files[0], "seed/bypass-canaries.domains");
	cr_expect_eq(cfg->lists[5].nfeeds, 0);
	cr_expect_eq(cfg->lists[0].nfeeds, 2);
	cr_expect_str_eq(cfg->lists[0].feeds[0], "blp-porn");
	cr_expect_str_eq(cfg->lists_db, "/var/lib/safegate/lists.sgdb");
	cr_expect_str_eq(cfg->feeds, "feeds.conf");
	cr_expect_eq(config_category_id(cfg, "gambling"), 1);
	cr_expect_eq(config_category_id(cfg, "games"), -1);
	cr_expect(strstr(config_default_text(), "lists_dir = ") != NULL);
	assert_round_trip(cfg);
	config_free(cfg);
}

static bool
same_rule(const struct config_risk_rule *a, const struct config_risk_rule *b)
{
	return a->enabled == b->enabled && a->window == b->window;
}

/* The defaults of an empty config are the values the shipped file gives. */
Test(config, defaults_match_shipped_file)
{
	struct config *def, *empty;

	def = config_load_default(err, sizeof(err));
	cr_assert_not_null(def, "%s", err);
	empty = load("lists = ( { category = \"adult\"; files = "
	    "[ \"adult.domains\" ]; }, { category = \"gambling\"; files = "
	    "[ \"gambling.domains\" ]; }, { category = \"bypass\"; files = "
	    "[ \"bypass-canaries.domains\" ]; } );\n"
	    "block = [ \"adult\", \"gambling\", \"bypass\" ];\n");
	cr_expect_eq(memcmp(&def->block, &empty->block, sizeof(def->block)),
	    0);
	cr_expect_eq(def->queue_first, empty->queue_first);
	cr_expect_eq(def->queue_count, empty->queue_count);
	cr_expect_eq(def->fail_open, empty->fail_open);
	cr_expect_eq(def->queue_max_len, empty->queue_max_len);
	cr_expect_eq(def->fw_manage, empty->fw_manage);
	cr_expect_eq(def->fw_backend, empty->fw_backend);
	cr_expect_str_eq(def->lists_dir, empty->lists_dir);
	cr_expect_str_eq(def->lists_db, empty->lists_db);
	cr_expect_str_eq(def->feeds, empty->feeds);
	cr_expect_str_eq(def->events_path, empty->events_path);
	cr_expect_eq(def->log_level, empty->log_level);
	cr_expect_str_eq(def->control_socket, empty->control_socket);
	cr_expect_str_eq(def->state_path, empty->state_path);
	cr_expect_str_eq(def->dhcp_leases, empty->dhcp_leases);
	cr_expect(addr_equal(&def->resolver, &empty->resolver));
	cr_expect_eq(def->resolver_port, empty->resolver_port);
	cr_expect_eq(def->events_rotate_bytes, empty->events_rotate_bytes);
	cr_expect_eq(def->events_rotate_daily, empty->events_rotate_daily);
	cr_expect_eq(def->events_keep_days, empty->events_keep_days);
	cr_expect_str_eq(def->syslog_target, empty->syslog_target);
	cr_expect_str_eq(def->syslog_ca, empty->syslog_ca);
	cr_expect_eq(def->syslog_facility, empty->syslog_facility);
	cr_expect_str_eq(def->alert_command, empty->alert_command);
	cr_expect_eq(def->alert_interval, empty->alert_interval);
	cr_expect_eq(def->blockpage_serve, empty->blockpage_serve);
	cr_expect_eq(def->blockpage_port, empty->blockpage_port);
	/* The rules and numbers; the lists differ (no categories here). */
	cr_expect(same_rule(&def->risk.anon_chat, &empty->risk.anon_chat));
	cr_expect(same_rule(&def->risk.late_night, &empty->risk.late_night));
	cr_expect(same_rule(&def->risk.first_seen, &empty->risk.first_seen));
	cr_expect(same_rule(&def->risk.bypass, &empty->risk.bypass));
	cr_expect(same_rule(&def->risk.repeated, &empty->risk.repeated));
	cr_expect(same_rule(&def->risk.age, &empty->risk.age));
	cr_expect(same_rule(&def->risk.abuse, &empty->risk.abuse));
	cr_expect_eq(def->risk.first_seen_days, empty->risk.first_seen_days);
	cr_expect_eq(def->risk.repeated_count, empty->risk.repeated_count);
	cr_expect_eq(def->risk.repeated_minutes, empty->risk.repeated_minutes);
	cr_expect_str_eq(def->risk.bedtime, empty->risk.bedtime);
	config_free(def);
	config_free(empty);
}

Test(config, every_key)
{
	struct config *cfg;
	char buf[ADDR_STRLEN];

	cfg = load(
	    "queue = { numbers = [ 4, 5, 6 ]; fail_open = false; "
	    "max_len = 1048576; };\n"
	    "firewall = { manage = false; backend = \"iptables\"; };\n"
	    "dns = { block_response = \"address\"; ttl = 86400;\n"
	    "  block_page = [ \"2001:db8::7\", \"198.51.100.7\" ]; };\n"
	    "lists_dir = \"/lists\";\n"
	    "lists = ( { category = \"a\"; files = [ \"1\", \"2\" ]; },\n"
	    "  { category = \"b-2\"; files = [ \"/abs/3\" ]; },\n"
	    "  { category = \"a\"; files = [ \"4\" ]; } );\n"
	    "block = [ \"b-2\" ];\n"
	    "alert = { command = \"/bin/alert\"; interval = 60; };\n"
	    "blockpage = { serve = true; port = 8080; };\n"
	    "risk = { anon_chat = { enabled = false; window = 1;\n"
	    "  categories = [ \"b-2\", \"discord\" ]; };\n"
	    "  late_night = { window = 2; }; first_seen = { window = 3;\n"
	    "  baseline_days = 7; }; messaging = [ \"tiktok\", \"a\" ];\n"
	    "  bypass = { window = 4; }; repeated = { window = 5; count = 2;\n"
	    "  minutes = 3; categories = [ \"a\" ]; };\n"
	    "  age = { enabled = false; }; abuse = { window = 6; };\n"
	    "  bedtime = \"night\"; };\n"
	    "log = { events = \"/ev.jsonl\"; level = \"warn\";\n"
	    "  rotate_size = 4294967296L; rotate_daily = false;\n"
	    "  retention_days = 7; syslog = { target = \"tls://[::1]\";\n"
	    "  ca = \"/ca.pem\"; facility = \"local7\"; }; };\n"
	    "control = { socket = \"/tmp/x.sock\"; };\n");
	cr_expect_eq(cfg->queue_first, 4);
	cr_expect_eq(cfg->queue_count, 3);
	cr_expect_not(cfg->fail_open);
	cr_expect_eq(cfg->queue_max_len, 1048576);
	cr_expect_not(cfg->fw_manage);
	cr_expect_eq(cfg->fw_backend, FW_IPTABLES);
	cr_expect_eq(cfg->block.mode, DNS_BLOCK_ADDRESS);
	cr_expect_eq(cfg->block.ttl, 86400);
	cr_expect_str_eq(addr_ntop(&cfg->block.page_v4, buf, sizeof(buf)),
	    "198.51.100.7");
	cr_expect_str_eq(addr_ntop(&cfg->block.page_v6, buf, sizeof(buf)),
	    "2001:db8::7");
	cr_expect_str_eq(cfg->lists_dir, "/lists");
	cr_expect_eq(cfg->nlists, 5);		/* and 2 of risk's services */
	cr_expect_eq(cfg->ncategories, 4);
	cr_expect_eq(cfg->lists[0].category_id, 0);
	cr_expect_eq(cfg->lists[1].category_id, 1);
	cr_expect_eq(cfg->lists[2].category_id, 0);
	cr_expect_str_eq(cfg->lists[2].category, "a");
	cr_expect_eq(cfg->lists[0].nfiles, 2);
	cr_expect_str_eq(cfg->lists[0].files[1], "2");
	cr_expect_eq(cfg->lists[1].line, 7);
	cr_expect_eq(cfg->block_mask, 2);
	cr_expect_str_eq(cfg->events_path, "/ev.jsonl");
	cr_expect_eq(cfg->log_level, LOG_LEVEL_WARN);
	cr_expect_str_eq(cfg->control_socket, "/tmp/x.sock");
	cr_expect_str_eq(cfg->alert_command, "/bin/alert");
	cr_expect_eq(cfg->alert_interval, 60);
	cr_expect(cfg->blockpage_serve);
	cr_expect_eq(cfg->blockpage_port, 8080);
	/* Services risk names become categories after the lists' own. */
	cr_expect_str_eq(cfg->categories[2], "discord");
	cr_expect_str_eq(cfg->categories[3], "tiktok");
	cr_expect(cfg->lists[3].implicit);
	cr_expect_eq(cfg->lists[3].line, 13);	/* discord, in anon_chat */
	cr_expect_not(cfg->risk.anon_chat.enabled);
	cr_expect_eq(cfg->risk.anon_chat.window, 1);
	cr_expect_eq(cfg->risk.anon_chat_mask, 0x6);
	cr_expect_eq(cfg->risk.late_night.window, 2);
	cr_expect(cfg->risk.late_night.enabled);
	cr_expect_eq(cfg->risk.first_seen.window, 3);
	cr_expect_eq(cfg->risk.first_seen_days, 7);
	cr_expect_eq(cfg->risk.messaging_mask, 0x9);
	cr_expect_eq(cfg->risk.bypass.window, 4);
	cr_expect_eq(cfg->risk.repeated.window, 5);
	cr_expect_eq(cfg->risk.repeated_count, 2);
	cr_expect_eq(cfg->risk.repeated_minutes, 3);
	cr_expect_eq(cfg->risk.repeated_mask, 0x1);
	cr_expect_not(cfg->risk.age.enabled);
	cr_expect_eq(cfg->risk.age.window, 86400);
	cr_expect_eq(cfg->risk.abuse.window, 6);
	cr_expect_str_eq(cfg->risk.bedtime, "night");
	cr_expect_eq(cfg->events_rotate_bytes, UINT64_C(4294967296));
	cr_expect_not(cfg->events_rotate_daily);
	cr_expect_eq(cfg->events_keep_days, 7);
	cr_expect_str_eq(cfg->syslog_target, "tls://[::1]");
	cr_expect_str_eq(cfg->syslog_ca, "/ca.pem");
	cr_expect_eq(cfg->syslog_facility, 23);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, canonical_text)
{
	struct config *cfg;
	char *out;

	cfg = load("block = [ \"y\", \"x\" ];\n"
	    "lists = ( { category = \"x\"; files = [ \"q\\\"\\\\\\t.d\" ]; },"
	    " { category = \"y\"; files = [ \"y.d\" ]; } );\n"
	    "dns = { block_page = [ \"::1\" ]; };\n");
	out = print(cfg);
	cr_expect_str_eq(out,
	    "# safegate configuration (canonical form of t.conf)\n"
	    "queue = {\n"
	    "  numbers = [ 0 ];\n"
	    "  fail_open = true;\n"
	    "  max_len = 4096;\n"
	    "};\n"
	    "firewall = {\n"
	    "  manage = true;\n"
	    "  backend = \"auto\";\n"
	    "};\n"
	    "dns = {\n"
	    "  block_response = \"nxdomain\";\n"
	    "  ttl = 300;\n"
	    "  block_page = [ \"::1\" ];\n"
	    "  resolver = \"127.0.0.1\";\n"
	    "};\n"
	    "connections = {\n"
	    "  ports = [ ];\n"
	    "  quic = \"inspect\";\n"
	    "  no_sni = \"allow\";\n"
	    "};\n"
	    "lists_dir = \"/usr/share/safegate/blocklists\";\n"
	    "lists_db = \"/var/lib/safegate/lists.sgdb\";\n"
	    "feeds = \"feeds.conf\";\n"
	    "lists = (\n"
	    "  { category = \"x\"; files = [ \"q\\\"\\\\\\t.d\" ]; },\n"
	    "  { category = \"y\"; files = [ \"y.d\" ]; }\n"
	    ");\n"
	    "block = [ \"x\", \"y\" ];\n"
	    "dhcp_leases = \"/var/lib/misc/dnsmasq.leases\";\n"
	    "devices = ( );\n"
	    "always_allow = [ ];\n"
	    "alert = {\n"
	    "  command = \"\";\n"
	    "  interval = 300;\n"
	    "};\n"
	    "blockpage = {\n"
	    "  serve = false;\n"
	    "  port = 80;\n"
	    "};\n"
	    "risk = {\n"
	    "  anon_chat = {\n"
	    "    enabled = true;\n"
	    "    window = 86400;\n"
	    "    categories = [ ];\n"
	    "  };\n"
	    "  late_night = {\n"
	    "    enabled = true;\n"
	    "    window = 3600;\n"
	    "  };\n"
	    "  first_seen = {\n"
	    "    enabled = true;\n"
	    "    window = 86400;\n"
	    "    baseline_days = 30;\n"
	    "  };\n"
	    "  messaging = [ ];\n"
	    "  bypass = {\n"
	    "    enabled = true;\n"
	    "    window = 3600;\n"
	    "  };\n"
	    "  repeated = {\n"
	    "    enabled = true;\n"
	    "    window = 3600;\n"
	    "    count = 5;\n"
	    "    minutes = 10;\n"
	    "    categories = [ ];\n"
	    "  };\n"
	    "  age = {\n"
	    "    enabled = true;\n"
	    "    window = 86400;\n"
	    "  };\n"
	    "  abuse = {\n"
	    "    enabled = true;\n"
	    "    window = 0;\n"
	    "  };\n"
	    "  bedtime = \"bedtime\";\n"
	    "  state = \"/var/lib/safegate/risk.state\";\n"
	    "};\n"
	    "log = {\n"
	    "  events = \"/var/log/safegate/events.jsonl\";\n"
	    "  level = \"info\";\n"
	    "  rotate_size = 10485760;\n"
	    "  rotate_daily = true;\n"
	    "  retention_days = 90;\n"
	    "  syslog = {\n"
	    "    target = \"\";\n"
	    "    ca = \"\";\n"
	    "    facility = \"local5\";\n"
	    "  };\n"
	    "};\n"
	    "control = {\n"
	    "  socket = \"/run/safegate/control.sock\";\n"
	    "  state = \"/var/lib/safegate/state\";\n"
	    "};\n");
	cr_expect_str_eq(cfg->lists[0].files[0], "q\"\\\t.d");
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);
}

/* Control bytes in strings and the source name survive the round trip. */
Test(config, escapes)
{
	struct config *cfg;
	char *out;

	cfg = config_load_string("odd\nname", "log = { events = "
	    "\"/a\\x01b\\x7f\\n\\r\\f\\xc3\\xa9\"; };", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_str_eq(cfg->events_path, "/a\001b\177\n\r\f\xc3\xa9");
	out = print(cfg);
	cr_expect(strncmp(out, "# safegate configuration (canonical form of "
	    "odd?name)\n", 53) == 0, "%s", out);
	cr_expect(strstr(out, "events = \"/a\\x01b\\x7f\\n\\r\\f\xc3\xa9\";") !=
	    NULL, "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, loose_syntax)
{
	struct config *cfg;

	/* libconfig's other spellings all mean the same thing. */
	cfg = load("queue: { numbers: ( 0x1, 2L ); fail_open: FALSE; };\n"
	    "dns = { ttl = 0x3c; }\n"
	    "# a comment on the last line, with no newline");
	cr_expect_eq(cfg->queue_first, 1);
	cr_expect_eq(cfg->queue_count, 2);
	cr_expect_not(cfg->fail_open);
	cr_expect_eq(cfg->block.ttl, 60);
	config_free(cfg);
}

Test(config, errors)
{
	load_fails("queue = {\n numbers [ 0 ];\n};", "t.conf:2: syntax error: "
	    "expected '=' after 'numbers', not '['");
	load_fails("\n\nblok = [ ];", "t.conf:3: unknown key 'blok'");
	load_fails("dns = {\n ttl = 1;\n  blockpage = [ ];\n};",
	    "t.conf:3: unknown key 'dns.blockpage'");
	load_fails("queue = { fail_open = 1; };",
	    "t.conf:1: queue.fail_open must be a boolean");
	load_fails("queue = { max_len = \"4096\"; };",
	    "t.conf:1: queue.max_len must be an integer");
	load_fails("queue = { max_len = 1048577; };",
	    "t.conf:1: queue.max_len must be 1..1048576, not 1048577");
	load_fails("queue = { numbers = 0; };", "t.conf:1: queue.numbers must "
	    "be a list of integers, like [ 0, 1 ]");
	load_fails("queue = { numbers = [ 5,\n 7 ]; };", "t.conf:2: "
	    "queue.numbers must be consecutive and ascending, because the "
	    "kernel balances packets over one range of queues; after 5 comes "
	    "6, not 7");
	load_fails("queue = { numbers = [ -1 ]; };", "t.conf:1: queue.numbers: "
	    "-1 is not a queue number (0..65535)");
	load_fails("firewall = { backend = \"nftables\"; };", "t.conf:1: "
	    "firewall.backend must be \"auto\", \"iptables\" or \"nft\", not "
	    "\"nftables\"");
	load_fails("dns = { block_response = \"refuse\"; };", "t.conf:1: "
	    "dns.block_response must be \"nxdomain\", \"null\" or \"address\", "
	    "not \"refuse\"");
	load_fails("dns = {\n block_response = \"address\";\n};", "t.conf:2: "
	    "dns.block_response \"address\" needs the block page's address in "
	    "dns.block_page, like [ \"192.0.2.1\" ]");
	load_fails("dns = { ttl = -1; };",
	    "t.conf:1: dns.ttl must be 0..86400, not -1");
	load_fails("dns = { block_page = [ \"10.0.0.1\", \"10.0.0.2\" ]; };",
	    "t.conf:1: dns.block_page has two IPv4 addresses; give at most "
	    "one IPv4 and one IPv6 address");
	load_fails("dns = { block_page = [ \"fe80::1%eth0\" ]; };", "t.conf:1: "
	    "dns.block_page: \"fe80::1%eth0\" is not an IPv4 or IPv6 address");
	load_fails("lists_dir = 5;", "t.conf:1: lists_dir must be a string");
	load_fails("lists_dir = \"\";",
	    "t.conf:1: lists_dir must not be empty");
	load_fails("lists = ( \"adult\" );", "t.conf:1: lists entry 1 must be "
	    "a group: { category = \"...\"; files = [ \"...\" ]; }");
	load_fails("lists = ( { category = \"a b\"; files = [ \"x\" ]; } );",
	    "t.conf:1: lists entry 1: category \"a b\" is not a valid name "
	    "(1 to 32 of a-z, 0-9, _ and -)");
	load_fails("lists = ( { category = "
	    "\"abcdefghijklmnopqrstuvwxyz0123456\"; files = [ \"x\" ]; } );",
	    "t.conf:1: lists entry 1: category "
	    "\"abcdefghijklmnopqrstuvwxyz0123456\" is not a valid name "
	    "(1 to 32 of a-z, 0-9, _ and -)");
	load_fails("lists = ( { category = \"a\"; } );",
	    "t.conf:1: lists entry 1 (a) has no files and no feeds");
	load_fails("lists = ( { category = \"a\"; files = \"x\"; } );",
	    "t.conf:1: lists entry 1 (a): files must be a list of file names, "
	    "like [ \"a.domains\" ]");
	load_fails("lists = ( { category = \"a\"; files = [ 1 ]; } );",
	    "t.conf:1: lists entry 1 (a): files must be strings");
	load_fails("lists = ( { category = \"a\"; files = [ \"x\" ];\n"
	    " size = 1; } );", "t.conf:2: unknown key 'size' in lists entry 1");
	load_fails("lists = ( { category = \"a\"; files = [ \"x\" ]; } );\n"
	    "block = [ \"a\", \"b\" ];",
	    "t.conf:2: block: unknown category 'b' (lists define: a)");
	load_fails("block = [ \"a\" ];",
	    "t.conf:1: block: unknown category 'a' (no lists are defined)");
	load_fails("lists = ( { category = \"a\"; files = [ \"x\" ]; } );\n"
	    "block = [ \"a\", \"a\" ];", "t.conf:2: block: 'a' is named twice");
	load_fails("block = \"a\";", "t.conf:1: block must be a list of "
	    "categories, like [ \"adult\", \"gambling\" ]");
	load_fails("log = { level = \"error\"; };", "t.conf:1: log.level must "
	    "be \"warn\", \"info\" or \"debug\", not \"error\"");
	load_fails("log = { events = \"\"; };",
	    "t.conf:1: log.events must not be empty");
	load_fails("log = { events = \"e.jsonl\"; };",
	    "t.conf:1: log.events must be an absolute path (starting with /)");
	load_fails("lists_dir = \"lists\";",
	    "t.conf:1: lists_dir must be an absolute path (starting with /)");
	load_fails("control = { socket = \"x.sock\"; };", "t.conf:1: "
	    "control.socket must be an absolute path (starting with /)");
	load_fails("control = 1;",
	    "t.conf:1: control must be a group: control = { ... };");
	load_fails("dns = { ttl = 4294967596; };",
	    "t.conf:1: number 4294967596 is out of range");
	load_fails("dns = { ttl = 0x10000012c; };",
	    "t.conf:1: number 0x10000012c is out of range");
	load_fails("\n@include \"/etc/passwd\"\n", "t.conf:2: @include is not "
	    "supported; keep the whole configuration in one file");
}

/* Unknown names are quoted safely, whatever bytes they hold. */
Test(config, message_quoting)
{
	load_fails("log = { level = \"a\\nb\\\"\"; };", "t.conf:1: log.level "
	    "must be \"warn\", \"info\" or \"debug\", not \"a\\nb\\\"\"");
}

Test(config, numbers_are_not_wrapped)
{
	struct config *cfg;

	/* Looks like numbers, but inside strings and comments. */
	cfg = load("# ttl = 99999999999\n"
	    "log = { events = \"/var/99999999999\"; };\n"
	    "/* 0xffffffffffff */\n"
	    "dns = { ttl = 86400L; };\n");
	cr_expect_eq(cfg->block.ttl, 86400);
	config_free(cfg);
	load_fails("dns = { ttl = 99999999999999999999L; };",
	    "t.conf:1: number 99999999999999999999... is out of range");
	/* A wrapped number anywhere, even under an unknown key, is refused. */
	load_fails("x = 2147483648;",
	    "t.conf:1: number 2147483648 is out of range");
	/* ...but a float is not an integer literal, and an int64 fits. */
	load_fails("x = 2147483648.0;", "t.conf:1: unknown key 'x'");
	load_fails("x = -2147483648;", "t.conf:1: unknown key 'x'");
	load_fails("x = 0x7fffffff;", "t.conf:1: unknown key 'x'");
}

Test(config, categories_limit)
{
	char text[8192];
	size_t used = 0;
	struct config *cfg;
	int i;

	used += (size_t)snprintf(text, sizeof(text), "lists = (\n");
	for (i = 0; i < 64; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "{ category = \"c%d\"; files = [ \"f\" ]; },\n", i);
	/* The same 64 again are fine: entries may repeat a category. */
	for (i = 0; i < 64; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "{ category = \"c%d\"; files = [ \"g\" ]; },\n", i);
	snprintf(text + used, sizeof(text) - used, "{ category = \"c63\"; "
	    "files = [ \"f\" ]; } );\nblock = [ \"c63\", \"c0\" ];\n");
	cfg = load(text);
	cr_expect_eq(cfg->ncategories, 64);
	cr_expect_eq(cfg->nlists, 129);
	cr_expect_eq(cfg->block_mask, (UINT64_C(1) << 63) | 1);
	assert_round_trip(cfg);
	config_free(cfg);

	snprintf(text + used, sizeof(text) - used, "{ category = \"c64\"; "
	    "files = [ \"f\" ]; } );\n");
	load_fails(text, "t.conf:130: lists: category \"c64\" is one too "
	    "many; at most 64 categories");
}

Test(config, socket_length)
{
	char text[256], path[128];
	struct config *cfg;

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[107] = '\0';	/* 107 bytes and the NUL fit sun_path */
	snprintf(text, sizeof(text), "control = { socket = \"%s\"; };", path);
	cfg = load(text);
	cr_expect_eq(strlen(cfg->control_socket), 107);
	config_free(cfg);
	path[107] = 'a';
	path[108] = '\0';
	snprintf(text, sizeof(text), "control = { socket = \"%s\"; };", path);
	load_fails(text, "t.conf:1: control.socket is 108 bytes long; a unix "
	    "socket path must be shorter than 108");
}

Test(config, list_path)
{
	struct config *cfg;
	char buf[64], small[8];

	cfg = load("lists_dir = \"/srv/lists\";");
	cr_expect_str_eq(config_list_path(cfg, "a.domains", NULL, buf,
	    sizeof(buf)), "/srv/lists/a.domains");
	cr_expect_str_eq(config_list_path(cfg, "/etc/b.domains", NULL, buf,
	    sizeof(buf)), "/etc/b.domains");
	cr_expect_str_eq(config_list_path(cfg, "a.domains", "blocklists", buf,
	    sizeof(buf)), "blocklists/a.domains");
	cr_expect_str_eq(config_list_path(cfg, "a.domains", "/x/", buf,
	    sizeof(buf)), "/x/a.domains");
	cr_expect_str_eq(config_list_path(cfg, "/etc/b.domains", "/x", buf,
	    sizeof(buf)), "/etc/b.domains");
	cr_expect_null(config_list_path(cfg, "a.domains", NULL, small,
	    sizeof(small)));
	cr_expect_null(config_list_path(cfg, "a.domains", NULL, buf, 20));
	cr_expect_str_eq(config_list_path(cfg, "a.domains", NULL, buf, 21),
	    "/srv/lists/a.domains");
	config_free(cfg);
}

Test(config, names)
{
	cr_expect_str_eq(config_backend_name(FW_AUTO), "auto");
	cr_expect_str_eq(config_backend_name(FW_IPTABLES), "iptables");
	cr_expect_str_eq(config_backend_name(FW_NFT), "nft");
	cr_expect_str_eq(config_backend_name((enum fw_backend)7), "unknown");
	cr_expect_str_eq(config_block_mode_name(DNS_BLOCK_NXDOMAIN),
	    "nxdomain");
	cr_expect_str_eq(config_block_mode_name(DNS_BLOCK_NULL), "null");
	cr_expect_str_eq(config_block_mode_name(DNS_BLOCK_ADDRESS), "address");
}

Test(config, files)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct config *cfg;
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	fputs("dns = {\n  ttl = 7;\n};\n", fp);
	fclose(fp);
	cfg = config_load_file(path, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_str_eq(cfg->source, path);
	cr_expect_eq(cfg->block.ttl, 7);
	config_free(cfg);

	/* A NUL byte: not a text file, and the message says where. */
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fwrite("dns = {\n\0};\n", 1, 12, fp);
	fclose(fp);
	errno = 0;
	cr_expect_null(config_load_file(path, err, sizeof(err)));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(err, ":2: a NUL byte") != NULL, "%s", err);

	/* Too big: CONFIG_MAX_SIZE bytes of comment and one more. */
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	for (int i = 0; i < CONFIG_MAX_SIZE / 64; i++)
		fprintf(fp, "#%62s\n", "");
	fputc('\n', fp);
	fclose(fp);
	errno = 0;
	cr_expect_null(config_load_file(path, err, sizeof(err)));
	cr_expect_eq(errno, EFBIG);
	cr_expect(strstr(err, ": larger than 1048576 bytes") != NULL, "%s",
	    err);

	unlink(path);
	errno = 0;
	cr_expect_null(config_load_file(path, err, sizeof(err)));
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(err, ": No such file or directory") != NULL, "%s",
	    err);

	errno = 0;
	cr_expect_null(config_load_file("/", err, sizeof(err)));
	cr_expect_eq(errno, EISDIR);
	cr_expect_str_eq(err, "/: Is a directory");
}

/* A short err buffer is cut, never overrun. */
Test(config, short_error_buffer)
{
	char small[12];

	memset(small, 'x', sizeof(small));
	cr_expect_null(config_load_string("t.conf", "blok = 1;", small,
	    sizeof(small)));
	cr_expect_str_eq(small, "t.conf:1: u");
}

/*
 * Regression (fuzz_config, leak-ba89004b): libconfig 1.5 leaks the string
 * it has just read when that string is the token at fault.  check_syntax()
 * must refuse such text before libconfig reads it; under LSan this test
 * fails if it does not.
 */
Test(config, regression_string_at_fault_leaks)
{
	load_fails("# A unix socket path must fit sun_path: 107 bytes and the "
	    "NUL.\ncontrol = {\n  socsocket\"/run/safegate/a-very-long-"
	    "directory-name-that-goes-on-and-on/and-on-and-on-and-on/and-on-"
	    "and-on/control.sock\";\n};\n", "t.conf:3: syntax error: expected "
	    "'=' after 'socsocket', not \"/run/safegate/a-very-long-"
	    "directory-name-th...");
	load_fails("a = 1 \"x\";", "t.conf:1: syntax error: expected a setting "
	    "name, not \"x\"");
	load_fails("a = [ 1 \"x\" ];", "t.conf:1: syntax error: expected ',' "
	    "or ']', not \"x\"");
}

/*
 * Regression (differential fuzzing against libconfig): libconfig takes a
 * string with no closing quote for the end of the file and accepts the
 * file, so one stray quote silently dropped the rest of the config.
 */
Test(config, regression_open_string_drops_rest)
{
	load_fails("queue = { numbers = [ 0 ]; };\n\" a stray quote\n"
	    "block = [ \"adult\" ];\n", "t.conf:2: syntax error: expected a "
	    "setting name, not \" a stray quote...");
	load_fails("queue = { numbers = [ 0 ]; };\n\" a stray quote\n",
	    "t.conf:2: syntax error: this string has no closing \"");
}

/* "a = " and a value in n levels of ( ). */
static const char *
nest(int n)
{
	static char buf[128];
	int i;

	strcpy(buf, "a = ");
	for (i = 0; i < n; i++)
		strcat(buf, "(");
	strcat(buf, "1");
	for (i = 0; i < n; i++)
		strcat(buf, ")");
	strcat(buf, ";");
	return buf;
}

Test(config, syntax_messages)
{
	load_fails("a = {\n b = 1;\n\n", "t.conf:1: syntax error: this '{' is "
	    "never closed");
	load_fails("a = ( 1,\n 2", "t.conf:1: syntax error: this '(' is never "
	    "closed");
	load_fails("a = 1 b\n\n\n", "t.conf:1: syntax error: expected '=' "
	    "after 'b', not the end of the file");
	load_fails("a = [ 1, ];", "t.conf:1: syntax error: expected a number, "
	    "string or boolean in [ ], not ']'");
	load_fails("a = [ [ 1 ] ];", "t.conf:1: syntax error: expected a "
	    "number, string or boolean in [ ], not '['");
	load_fails("a = 1;;", "t.conf:1: syntax error: expected a setting "
	    "name, not ';'");
	load_fails("true = 1;", "t.conf:1: syntax error: expected a setting "
	    "name, not 'true'");
	load_fails("a = \x01;", "t.conf:1: syntax error: expected a value for "
	    "'a', not '\\x01'");
	load_fails(nest(32), "t.conf:1: unknown key 'a'");
	load_fails(nest(33), "t.conf:1: syntax error: nested more than 32 "
	    "deep");
	/* libconfig's own checks, which come after the syntax. */
	load_fails("a = [ 1, 2L ];",
	    "t.conf:1: mismatched element type in array");
	load_fails("dns = {\n ttl = 1;\n ttl = 2;\n};",
	    "t.conf:3: duplicate setting name");
	/* An unclosed comment runs to the end, as libconfig has it. */
	config_free(load("dns = { ttl = 1; }; /* the rest\n is comment"));
}

/*
 * libconfig gives a string element the line of the token after it; the
 * message must name the element's own line (see fix_lines()).
 */
Test(config, string_element_lines)
{
	load_fails("lists = ( { category = \"a\"; files = [ \"x\" ]; } );\n"
	    "block = [\n  \"a\",\n  \"b\"\n\n];\n", "t.conf:4: block: unknown "
	    "category 'b' (lists define: a)");
	load_fails("dns = { block_page = [\n \"10.0.0.1\",\n \"10.0.0.2\"\n"
	    "];\n};\n", "t.conf:3: dns.block_page has two IPv4 addresses; give "
	    "at most one IPv4 and one IPv6 address");
	load_fails("lists = (\n  { category = \"a\"; files = [ \"x\",\n"
	    "    \"\"\n  ]; }\n);\n",
	    "t.conf:3: lists entry 1 (a): a file name is empty");
}

Test(config, feeds_and_confidential)
{
	struct config *cfg;
	char buf[256];

	cfg = load("lists_dir = \"/l\";\n"
	    "lists_db = \"/db/x.sgdb\";\n"
	    "feeds = \"/etc/feeds.conf\";\n"
	    "lists = (\n"
	    "  { category = \"adult\"; feeds = [ \"f1\", \"f2\" ]; },\n"
	    "  { category = \"abuse\"; confidential = true;\n"
	    "    files = [ \"a.sha256\" ]; },\n"
	    "  { category = \"adult\"; confidential = false;\n"
	    "    files = [ \"x\" ]; feeds = [ \"f3\" ]; },\n"
	    "  { category = \"abuse\"; confidential = true; feeds = [ \"h\" ]; }\n"
	    ");\n"
	    "block = [ \"abuse\" ];\n");
	cr_expect_str_eq(cfg->lists_db, "/db/x.sgdb");
	cr_expect_str_eq(cfg->feeds, "/etc/feeds.conf");
	cr_expect_eq(cfg->ncategories, 2);
	cr_expect_eq(cfg->confidential_mask, 2);
	cr_expect_eq(cfg->block_mask, 2);
	cr_expect_eq(cfg->lists[0].nfiles, 0);
	cr_expect_eq(cfg->lists[0].nfeeds, 2);
	cr_expect_str_eq(cfg->lists[0].feeds[1], "f2");
	cr_expect(!cfg->lists[0].confidential);
	cr_expect(cfg->lists[1].confidential);
	cr_expect(cfg->lists[3].confidential);
	cr_expect_eq(cfg->lists[3].category_id, 1);
	cr_expect_eq(cfg->lists[2].nfiles, 1);
	cr_expect_eq(cfg->lists[2].nfeeds, 1);
	cr_expect_str_eq(config_feed_path(cfg, "f1", buf, sizeof(buf)),
	    "/db/feeds/f1.list");
	cr_expect_null(config_feed_path(cfg, "../x", buf, sizeof(buf)));
	cr_expect_null(config_feed_path(cfg, "f1", buf, 10));
	cr_expect_str_eq(config_list_path(cfg, cfg->feeds, NULL, buf,
	    sizeof(buf)), "/etc/feeds.conf");
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, feed_errors)
{
	load_fails("lists = ( { category = \"a\"; confidential = true;\n"
	    "  files = [ \"x\" ]; },\n"
	    "  { category = \"a\"; feeds = [ \"f\" ]; } );\n",
	    "t.conf:3: lists entry 2 (a): confidential is false, but lists "
	    "entry 1 made it confidential; every entry of a category must "
	    "agree");
	load_fails("lists = ( { category = \"a\"; feeds = [ \"F\" ]; } );\n",
	    "t.conf:1: lists entry 1 (a): feed \"F\" is not a valid name (1 to "
	    "32 of a-z, 0-9, _ and -)");
	load_fails("lists_db = \"x.sgdb\";\n",
	    "t.conf:1: lists_db must be an absolute path (starting with /)");
	load_fails("feeds = \"\";\n", "t.conf:1: feeds must not be empty");
}

/* ---------------------------------------------------- parents' policy */

/* The lists the policy tests share: ids adult 0 .. bypass 4. */
#define POLICY_LISTS \
	"lists = (\n" \
	"  { category = \"adult\"; files = [ \"a\" ]; },\n" \
	"  { category = \"gambling\"; files = [ \"g\" ]; },\n" \
	"  { category = \"vpn-proxy\"; files = [ \"v\" ]; },\n" \
	"  { category = \"doh\"; files = [ \"d\" ]; },\n" \
	"  { category = \"bypass\"; files = [ \"b\" ]; }\n" \
	");\n"

static uint64_t
bit(const struct config *cfg, const char *category)
{
	int id = config_category_id(cfg, category);

	cr_assert_geq(id, 0, "no category %s", category);
	return UINT64_C(1) << id;
}

Test(config, profiles)
{
	struct config *cfg;
	const struct config_profile *p;
	const struct config_schedule *sc;
	const struct config_list *l;

	cfg = load("queue = { fail_open = false; };\n"
	    POLICY_LISTS
	    "block = [ \"adult\" ];\n"
	    "default_profile = \"teen\";\n"
	    "profiles = {\n"
	    "  child = {\n"
	    "    block = [ \"gambling\", \"adult\" ];\n"
	    "    services = [ \"tiktok\", \"roblox\" ];\n"
	    "    allow = [ \"*.BBC.co.uk.\", \"xn--bcher-kva.example\" ];\n"
	    "    deny = [ \"example.com\" ];\n"
	    "    schedules = {\n"
	    "      bedtime = { when = \"Sun-Thu 21:00-07:00\";\n"
	    "                  block = \"all\"; };\n"
	    "      homework = { when = \"Mon-Fri 16:00-18:00\";\n"
	    "                   block = [ \"gambling\" ];\n"
	    "                   services = [ \"discord\", \"roblox\" ]; };\n"
	    "    };\n"
	    "    safe_search = { google = true; ecosia = true;\n"
	    "                    youtube = \"moderate\"; };\n"
	    "    bypass = { doh = true; vpn = true; dot = true;\n"
	    "               outside_dns = \"block\"; };\n"
	    "    fail = \"open\";\n"
	    "  };\n"
	    "  teen = { bypass = { ech = true;\n"
	    "                      outside_dns = \"redirect\"; }; };\n"
	    "};\n");

	cr_assert_eq(cfg->nprofiles, 2);
	cr_expect_not(cfg->profiles_implicit);
	cr_expect_eq(cfg->default_profile, 1);
	cr_expect_eq(config_profile_id(cfg, "child"), 0);
	cr_expect_eq(config_profile_id(cfg, "teen"), 1);
	cr_expect_eq(config_profile_id(cfg, "Teen"), -1);

	/* Services became categories after the lists', in order of first
	   naming; the implicit entries read services/NAME.domains. */
	cr_assert_eq(cfg->ncategories, 8);
	cr_expect_str_eq(cfg->categories[5], "tiktok");
	cr_expect_str_eq(cfg->categories[6], "roblox");
	cr_expect_str_eq(cfg->categories[7], "discord");
	cr_assert_eq(cfg->nlists, 8);
	for (size_t i = 0; i < 5; i++)
		cr_expect_not(cfg->lists[i].implicit);
	l = &cfg->lists[7];
	cr_expect(l->implicit);
	cr_expect_str_eq(l->category, "discord");
	cr_expect_eq(l->category_id, 7);
	cr_expect_not(l->confidential);
	cr_assert_eq(l->nfiles, 1);
	cr_expect_str_eq(l->files[0], "services/discord.domains");
	cr_expect_eq(l->nfeeds, 0);
	cr_expect_eq(l->line, 22);	/* where discord is first named */
	cr_expect_eq(cfg->block_mask, bit(cfg, "adult"));

	p = &cfg->profiles[0];
	cr_expect_str_eq(p->name, "child");
	cr_expect_eq(p->line, 12);
	cr_expect_eq(p->block_mask, bit(cfg, "adult") | bit(cfg, "gambling"));
	cr_expect_eq(p->service_mask, bit(cfg, "tiktok") | bit(cfg, "roblox"));
	cr_assert_eq(p->nallow, 2);
	cr_expect_str_eq(p->allow[0], "bbc.co.uk");
	cr_expect_str_eq(p->allow[1], "xn--bcher-kva.example");
	cr_assert_eq(p->ndeny, 1);
	cr_expect_str_eq(p->deny[0], "example.com");
	cr_assert_eq(p->nschedules, 2);
	sc = &p->schedules[0];
	cr_expect_str_eq(sc->name, "bedtime");
	cr_expect(sc->all);
	cr_expect_eq(sc->block_mask, 0);
	cr_expect_eq(sc->service_mask, 0);
	cr_expect_eq(sc->line, 18);
	cr_expect_eq(sc->when.n, 1);
	sc = &p->schedules[1];
	cr_expect_str_eq(sc->name, "homework");
	cr_expect_not(sc->all);
	cr_expect_eq(sc->block_mask, bit(cfg, "gambling"));
	cr_expect_eq(sc->service_mask, bit(cfg, "discord") |
	    bit(cfg, "roblox"));
	cr_expect(p->safe_search.google);
	cr_expect_not(p->safe_search.bing);
	cr_expect(p->safe_search.ecosia);
	cr_expect_eq(p->safe_search.youtube, SAFESEARCH_YT_MODERATE);
	/* The bypass categories stay out of the masks: the policy adds
	   them. */
	cr_expect(p->bypass_doh);
	cr_expect(p->bypass_vpn);
	cr_expect(p->bypass_dot);
	cr_expect_not(p->bypass_ech);
	cr_expect_eq(p->outside_dns, OUTSIDE_DNS_BLOCK);
	cr_expect(p->fail_open);	/* said so, over queue.fail_open */

	p = &cfg->profiles[1];
	cr_expect_eq(p->block_mask, 0);
	cr_expect_eq(p->service_mask, 0);
	cr_expect_eq(p->nallow + p->ndeny + p->nschedules, 0);
	cr_expect(p->bypass_ech);
	cr_expect_not(p->bypass_doh);
	cr_expect_eq(p->outside_dns, OUTSIDE_DNS_REDIRECT);
	cr_expect_eq(p->safe_search.youtube, SAFESEARCH_YT_OFF);
	cr_expect_not(p->fail_open);	/* queue.fail_open */
	assert_round_trip(cfg);
	config_free(cfg);
}

/* A service that lists defines is that category: no implicit entry. */
Test(config, service_explicit_category)
{
	struct config *cfg;
	char *out;

	cfg = load("lists = (\n"
	    "  { category = \"youtube\"; files = [ \"/etc/yt.domains\" ]; },\n"
	    "  { category = \"adult\"; files = [ \"a\" ]; } );\n"
	    "profiles = { default = { services = [ \"tiktok\", \"youtube\" ];\n"
	    "  block = [ \"youtube\" ]; }; };\n");
	cr_expect_eq(cfg->nlists, 3);
	cr_expect_eq(cfg->ncategories, 3);
	cr_expect_eq(config_category_id(cfg, "youtube"), 0);
	cr_expect_eq(config_category_id(cfg, "tiktok"), 2);
	cr_expect_not(cfg->lists[0].implicit);
	cr_expect(cfg->lists[2].implicit);
	cr_expect_eq(cfg->profiles[0].service_mask, 5);
	cr_expect_eq(cfg->profiles[0].block_mask, 1);
	out = print(cfg);
	/* Implicit entries are not written; services in their own order. */
	cr_expect(strstr(out, "services/") == NULL, "%s", out);
	cr_expect(strstr(out, "services = [ \"tiktok\", \"youtube\" ];") !=
	    NULL, "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, implicit_profile)
{
	struct config *cfg;
	char *out;

	cfg = load("queue = { fail_open = false; };\n"
	    "devices = ( { name = \"tv\"; ip = \"192.0.2.20\";\n"
	    "              profile = \"default\"; } );\n");
	cr_assert_eq(cfg->nprofiles, 1);
	cr_expect(cfg->profiles_implicit);
	cr_expect_str_eq(cfg->profiles[0].name, CONFIG_DEFAULT_PROFILE);
	cr_expect_not(cfg->profiles[0].fail_open);	/* queue.fail_open */
	cr_expect_eq(cfg->devices[0].spec.profile, 0);
	out = print(cfg);
	cr_expect(strstr(out, "profiles") == NULL, "%s", out);
	cr_expect(strstr(out, "default_profile") == NULL, "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, devices)
{
	static const uint8_t mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
	struct config *cfg;
	const struct config_device *d;
	char buf[ADDR_STRLEN];

	cfg = load("devices = (\n"
	    "  { name = \"amy-tablet\"; mac = \"02:AB:cd:00:00:01\";\n"
	    "    profile = \"child\"; },\n"
	    "  { name = \"amy-tablet\"; ip = \"192.168.1.21\"; profile = "
	    "\"child\"; },\n"
	    "  { name = \"tv\"; ip = \"2001:db8::20\"; profile = "
	    "\"default\"; },\n"
	    "  { name = \"guests\"; cidr = \"2001:db8:2::/48\"; profile = "
	    "\"default\"; },\n"
	    "  { name = \"Lab_1.x\"; cidr = \"10.0.0.0/8\"; profile = "
	    "\"child\"; }\n"
	    ");\n"
	    "profiles = { default = { }; child = { }; };\n");
	cr_assert_eq(cfg->ndevices, 5);
	d = &cfg->devices[0];
	cr_expect_str_eq(d->name, "amy-tablet");
	cr_expect_eq(d->spec.name, d->name);
	cr_expect_eq(d->spec.kind, DEVICES_MAC);
	cr_expect_eq(memcmp(d->spec.mac, mac, 6), 0);
	cr_expect_eq(d->spec.profile, 1);
	cr_expect_eq(d->line, 2);
	d = &cfg->devices[1];
	cr_expect_eq(d->spec.kind, DEVICES_IP);
	cr_expect_eq(d->spec.addr.family, AF_INET);
	cr_expect_str_eq(addr_ntop(&d->spec.addr, buf, sizeof(buf)),
	    "192.168.1.21");
	cr_expect_eq(d->spec.profile, 1);
	cr_expect_eq(d->line, 4);
	d = &cfg->devices[2];
	cr_expect_eq(d->spec.addr.family, AF_INET6);
	cr_expect_eq(d->spec.profile, 0);
	d = &cfg->devices[3];
	cr_expect_eq(d->spec.kind, DEVICES_CIDR);
	cr_expect_eq(d->spec.prefix, 48);
	cr_expect_str_eq(addr_ntop(&d->spec.addr, buf, sizeof(buf)),
	    "2001:db8:2::");
	d = &cfg->devices[4];
	cr_expect_str_eq(d->spec.name, "Lab_1.x");
	cr_expect_eq(d->spec.prefix, 8);
	cr_expect_eq(d->spec.profile, 1);
	assert_round_trip(cfg);
	config_free(cfg);
}

Test(config, resolver)
{
	struct config *cfg;
	char buf[ADDR_STRLEN], *out;

	cfg = load("dns = { resolver = \"2001:DB8::53#5353\"; };");
	cr_expect_str_eq(addr_ntop(&cfg->resolver, buf, sizeof(buf)),
	    "2001:db8::53");
	cr_expect_eq(cfg->resolver_port, 5353);
	out = print(cfg);
	cr_expect(strstr(out, "  resolver = \"2001:db8::53#5353\";\n") !=
	    NULL, "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);

	cfg = load("dns = { resolver = \"192.0.2.53#53\"; };");
	cr_expect_eq(cfg->resolver_port, 53);
	out = print(cfg);
	cr_expect(strstr(out, "  resolver = \"192.0.2.53\";\n") != NULL, "%s",
	    out);
	free(out);
	config_free(cfg);

	cfg = load("dns = { resolver = \"10.0.0.1#65535\"; };");
	cr_expect_eq(cfg->resolver_port, 65535);
	config_free(cfg);

	load_fails("dns = { resolver = \"10.0.0.1#\"; };", "t.conf:1: "
	    "dns.resolver: \"10.0.0.1#\" has a port that is not 1..65535");
	load_fails("dns = { resolver = \"10.0.0.1#99999999999\"; };",
	    "t.conf:1: dns.resolver: \"10.0.0.1#99999999999\" has a port that "
	    "is not 1..65535");
	load_fails("dns = { resolver = \"#53\"; };", "t.conf:1: dns.resolver: "
	    "\"#53\" is not an IPv4 or IPv6 address, or one and a port like "
	    "\"127.0.0.1#5353\"");
	load_fails("dns = { resolver = \"\"; };", "t.conf:1: dns.resolver: "
	    "\"\" is not an IPv4 or IPv6 address, or one and a port like "
	    "\"127.0.0.1#5353\"");
}

Test(config, policy_errors)
{
	load_fails(POLICY_LISTS "profiles = { default = { block = [ \"adult\","
	    " \"tiktok\" ]; }; };", "t.conf:8: profiles.default.block: "
	    "'tiktok' is a service, not a category lists define; name it in "
	    "services");
	/* Only the lists' categories are categories of block, even once a
	   service has made its own. */
	load_fails(POLICY_LISTS "profiles = { a = { services = [ \"tiktok\" ]; "
	    "};\n default = { block = [ \"tiktok\" ]; }; };", "t.conf:9: "
	    "profiles.default.block: 'tiktok' is a service, not a category "
	    "lists define; name it in services");
	load_fails("profiles = { default = { block = [ \"adult\" ]; }; };",
	    "t.conf:1: profiles.default.block: unknown category 'adult' (no "
	    "lists are defined)");
	load_fails("profiles = { default = { services = [ \"TikTok\" ]; }; };",
	    "t.conf:1: profiles.default.services: unknown service 'TikTok' "
	    "(services: discord, fortnite, instagram, minecraft, roblox, "
	    "snapchat, telegram, tiktok, twitch, whatsapp, youtube)");
	load_fails("profiles = { default = { schedules = { b = {\n"
	    " when = \"Mon-Mon 21:00-22:00\"; block = \"all\"; }; }; }; };",
	    "t.conf:2: b: \"Mon-Mon 21:00-22:00\" at column 1: a range must "
	    "end on another day than it starts");
	load_fails("profiles = { default = { fail = \"open\"; }; a = { "
	    "bypass = { doh = 1; }; }; };",
	    "t.conf:1: profiles.a.bypass.doh must be a boolean");
	load_fails("devices = ( { name = \"x\"; cidr = \"2001:db8::/129\"; "
	    "profile = \"default\"; } );", "t.conf:1: devices entry 1 (x): "
	    "cidr \"2001:db8::/129\" has a prefix length over 128");
	load_fails("devices = ( { name = \"x\"; cidr = \"10.0.0.0/\"; "
	    "profile = \"default\"; } );", "t.conf:1: devices entry 1 (x): "
	    "cidr \"10.0.0.0/\" is not an address and a prefix length, like "
	    "\"192.168.2.0/24\"");
	load_fails("devices = ( { name = \"x\"; mac = \"02:00:00:00:00:0g\"; "
	    "profile = \"default\"; } );", "t.conf:1: devices entry 1 (x): mac "
	    "\"02:00:00:00:00:0g\" is not a MAC address like "
	    "\"02:00:00:00:00:01\"");
	load_fails("devices = ( { name = \"x\"; mac = \"02:00:00:00:00:011\"; "
	    "profile = \"default\"; } );", "t.conf:1: devices entry 1 (x): mac "
	    "\"02:00:00:00:00:011\" is not a MAC address like "
	    "\"02:00:00:00:00:01\"");
	load_fails("devices = ( { name = \"\"; ip = \"10.0.0.1\"; "
	    "profile = \"default\"; } );", "t.conf:1: devices entry 1: name "
	    "\"\" is not a valid device name (1 to 63 of A-Z, a-z, 0-9, ., _ "
	    "and -)");
	load_fails("devices = ( { name = \"x\"; ip = \"10.0.0.1\";\n"
	    "  cidr = \"10.0.0.0/8\"; mac = \"02:00:00:00:00:01\"; "
	    "profile = \"default\"; } );", "t.conf:2: devices entry 1 (x) has "
	    "both mac and ip; give exactly one of mac, ip and cidr");
	load_fails("lists = ( { category = \"abuse\"; confidential = true; "
	    "files = [ \"h\" ]; } );\nblock = [ ];\n", "t.conf:1: lists entry "
	    "1 (abuse) is confidential, so \"abuse\" must be in block: a "
	    "confidential category blocks everyone");
	load_fails("dhcp_leases = 1;", "t.conf:1: dhcp_leases must be a "
	    "string");
	load_fails("always_allow = \"a.example\";", "t.conf:1: always_allow "
	    "must be a list of names, like [ \"example.org\" ]");
}

/*
 * risk's lists: a default takes only names that are categories already
 * (it never makes one, so a config without risk reads no more list files
 * than before); a name written out must be a category or a service, and a
 * service becomes a category as a profile's does.
 */
Test(config, risk_lists)
{
	struct config *cfg;
	char *out;

	/* adult is a list, anon-chat is not: dropped from the default. */
	cfg = load(POLICY_LISTS "profiles = { default = { services = "
	    "[ \"youtube\", \"roblox\" ]; }; };\n");
	cr_expect_eq(cfg->risk.anon_chat_mask, 0);
	cr_expect_eq(cfg->risk.repeated_mask, bit(cfg, "adult"));
	/* Of the default messaging services only roblox is a category;
	   youtube is one but not a messaging service. */
	cr_expect_eq(cfg->risk.messaging_mask, bit(cfg, "roblox"));
	cr_expect_eq(cfg->ncategories, 7);
	assert_round_trip(cfg);
	config_free(cfg);

	/* Written out, a service becomes a category of its own. */
	cfg = load(POLICY_LISTS "risk = { messaging = [ \"twitch\", "
	    "\"gambling\" ];\n anon_chat = { categories = [ \"telegram\" ]; };"
	    "\n repeated = { categories = [ \"twitch\", \"adult\" ]; }; };\n");
	cr_assert_eq(cfg->ncategories, 7);
	/* In the order of the schema, anon_chat before messaging. */
	cr_expect_str_eq(cfg->categories[5], "telegram");
	cr_expect_str_eq(cfg->categories[6], "twitch");
	cr_expect(cfg->lists[5].implicit);
	cr_expect_eq(cfg->lists[5].line, 9);
	cr_expect_str_eq(cfg->lists[5].files[0], "services/telegram.domains");
	cr_expect_eq(cfg->risk.messaging_mask, bit(cfg, "twitch") |
	    bit(cfg, "gambling"));
	cr_expect_eq(cfg->risk.anon_chat_mask, bit(cfg, "telegram"));
	cr_expect_eq(cfg->risk.repeated_mask, bit(cfg, "twitch") |
	    bit(cfg, "adult"));
	/* The lists' categories first, then the services. */
	out = print(cfg);
	cr_expect(strstr(out, "  messaging = [ \"gambling\", \"twitch\" ];\n") !=
	    NULL, "%s", out);
	cr_expect(strstr(out, "    categories = [ \"adult\", \"twitch\" ];\n") !=
	    NULL, "%s", out);
	cr_expect(strstr(out, "services/") == NULL, "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);

	/* Empty is empty, whatever the default would take. */
	cfg = load(POLICY_LISTS "risk = { messaging = [ ]; repeated = { "
	    "categories = [ ]; }; };\nprofiles = { default = { services = "
	    "[ \"tiktok\" ]; }; };\n");
	cr_expect_eq(cfg->risk.messaging_mask, 0);
	cr_expect_eq(cfg->risk.repeated_mask, 0);
	assert_round_trip(cfg);
	config_free(cfg);

	/* A default's name, written out, must be defined. */
	load_fails(POLICY_LISTS "risk = { anon_chat = {\n categories = [ "
	    "\"anon-chat\" ]; }; };", "t.conf:9: risk.anon_chat.categories: "
	    "'anon-chat' is neither a category lists define nor a service "
	    "(lists define: adult, gambling, vpn-proxy, doh, bypass; services: "
	    "discord, fortnite, instagram, minecraft, roblox, snapchat, "
	    "telegram, tiktok, twitch, whatsapp, youtube)");
	load_fails(POLICY_LISTS "risk = { repeated = { categories = [ "
	    "\"adult\",\n \"adult\" ]; }; };", "t.conf:9: "
	    "risk.repeated.categories: 'adult' is named twice");
	/* A service a profile made a category is the same category. */
	load_fails(POLICY_LISTS "profiles = { default = { services = "
	    "[ \"tiktok\" ]; }; };\nrisk = { messaging = [ \"tiktok\", "
	    "\"TikTok\" ]; };", "t.conf:9: risk.messaging: 'TikTok' is neither "
	    "a category lists define nor a service (lists define: adult, "
	    "gambling, vpn-proxy, doh, bypass; services: discord, fortnite, "
	    "instagram, minecraft, roblox, snapchat, telegram, tiktok, twitch, "
	    "whatsapp, youtube)");
}

/* The risk engine remembers this many attempts: no more can be asked. */
Test(config, risk_count_fits_the_engine)
{
	cr_expect_eq(CONFIG_RISK_MAX_COUNT, RISK_REPEATED_MAX);
	load_fails("risk = { repeated = { count = 33; }; };", "t.conf:1: "
	    "risk.repeated.count must be 1..32, not 33");
}

Test(config, issue6_errors)
{
	load_fails("risk = { late_night = { enabled = true; window = 604801; "
	    "}; };", "t.conf:1: risk.late_night.window must be 0..604800, not "
	    "604801");
	load_fails("risk = { first_seen = { baseline_days = 0; }; };",
	    "t.conf:1: risk.first_seen.baseline_days must be 1..365, not 0");
	load_fails("risk = { repeated = { minutes = 0; }; };",
	    "t.conf:1: risk.repeated.minutes must be 1..1440, not 0");
	load_fails("risk = { age = { count = 1; }; };",
	    "t.conf:1: unknown key 'risk.age.count'");
	load_fails("risk = { bedtime = \"a.b\"; };", "t.conf:1: risk.bedtime: "
	    "'a.b' is not a valid schedule name (1 to 32 of A-Z, a-z, 0-9, _ "
	    "and -)");
	load_fails("profiles = { default = { age = 26; }; };",
	    "t.conf:1: profiles.default.age must be 0..25, not 26");
	load_fails("alert = { command = \"mail\"; };", "t.conf:1: "
	    "alert.command must be an absolute path (starting with /), or \"\" "
	    "for none");
	load_fails("alert = { interval = 0; };",
	    "t.conf:1: alert.interval must be 10..86400, not 0");
	load_fails("blockpage = {\n serve = true; };", "t.conf:2: "
	    "blockpage.serve needs the block page's address in "
	    "dns.block_page, like [ \"192.0.2.1\" ]: the page is served there");
	load_fails("blockpage = { port = 0; };",
	    "t.conf:1: blockpage.port must be 1..65535, not 0");
	load_fails("log = { rotate_size = 65535; };", "t.conf:1: "
	    "log.rotate_size must be 0 (no rotation by size) or "
	    "65536..1099511627776 bytes, not 65535");
	load_fails("log = { rotate_size = 0x10000000001L; };", "t.conf:1: "
	    "log.rotate_size must be 0 (no rotation by size) or "
	    "65536..1099511627776 bytes, not 1099511627777");
	load_fails("log = { retention_days = -1; };",
	    "t.conf:1: log.retention_days must be 0..3650, not -1");
	load_fails("log = { syslog = { facility = \"LOCAL5\"; }; };",
	    "t.conf:1: log.syslog.facility must be a syslog facility (kern, "
	    "user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, "
	    "ftp, ntp, audit, alert, clock, local0 to local7), not \"LOCAL5\"");
	load_fails("log = { syslog = { target = \"tcp://h:514\";\n"
	    " ca = \"/ca.pem\"; }; };", "t.conf:2: log.syslog.ca is only for "
	    "a tls:// target; udp:// and tcp:// are not encrypted");
	load_fails("log = { syslog = { ca = \"ca.pem\"; }; };", "t.conf:1: "
	    "log.syslog.ca must be an absolute path (starting with /), or \"\" "
	    "for the system's certificates");
}

/* log.syslog.target: what syslogfwd_parse_target() takes, and no more. */
Test(config, syslog_targets)
{
	static const char *const good[] = {
		"", "udp://192.0.2.1:514", "udp://192.0.2.1", "tcp://h",
		"tcp://logs.example.org:1", "tls://[2001:db8::1]:6514",
		"tls://[::1]", "tls://LOGS.Example:65535", "udp://a_b-c.d:9",
	};
	static const struct {
		const char *target, *why;
	} bad[] = {
	/* syslogfwd_parse_target()'s reasons: config.c reads targets with it */
		{ "logs.example:514", "expected udp://, tcp:// or tls://" },
		{ "UDP://h:514", "expected udp://, tcp:// or tls://" },
		{ "udp://", "no host" },
		{ "udp://:514", "no host" },
		{ "tls://[2001:db8::1:6514", "no closing ']'" },
		{ "tls://[]:6514", "not an IPv6 address in brackets" },
		{ "tls://[fe80::1%eth0]:6514", "not an IPv6 address in brackets" },
		{ "tls://[10.0.0.1]:6514", "not an IPv6 address in brackets" },
		{ "tls://2001:db8::1", "an IPv6 address goes in brackets" },
		{ "udp://10.0.0.256:514", "not an IPv4 address" },
		{ "udp://10.0.0:514", "not an IPv4 address" },
		{ "udp://a..b:514", "host is not a DNS name or an address" },
		{ "udp://a.b.:514", "host is not a DNS name or an address" },
		{ "udp://a b:514", "host is not a DNS name or an address" },
		{ "udp://h:0", "port out of 1..65535" },
		{ "udp://h:65536", "port out of 1..65535" },
		{ "udp://h:000514", "bad port" },
		{ "udp://h:", "bad port" },
		{ "udp://h:51x", "unexpected text after HOST:PORT" },
		{ "udp://h/x", "unexpected text after HOST:PORT" },
		{ "udp://u@h:514", "unexpected text after HOST:PORT" },
	};
	struct config *cfg;
	char text[256], want[512];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		snprintf(text, sizeof(text), "log = { syslog = { target = "
		    "\"%s\"; }; };", good[i]);
		cfg = load(text);
		cr_expect_str_eq(cfg->syslog_target, good[i]);
		assert_round_trip(cfg);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "log = { syslog = { target = "
		    "\"%s\"; }; };", bad[i].target);
		snprintf(want, sizeof(want), "t.conf:1: log.syslog.target: "
		    "\"%s\": %s", bad[i].target, bad[i].why);
		load_fails(text, want);
	}
}

/* The facilities are RFC 5424's numbers. */
Test(config, syslog_facilities)
{
	static const struct {
		const char	*name;
		unsigned	 n;
	} f[] = { { "kern", 0 }, { "user", 1 }, { "daemon", 3 },
	    { "auth", 4 }, { "authpriv", 10 }, { "ntp", 12 }, { "audit", 13 },
	    { "alert", 14 }, { "clock", 15 }, { "local0", 16 },
	    { "local5", 21 }, { "local7", 23 } };
	struct config *cfg;
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		snprintf(text, sizeof(text), "log = { syslog = { facility = "
		    "\"%s\"; }; };", f[i].name);
		cfg = load(text);
		cr_expect_eq(cfg->syslog_facility, f[i].n, "%s", f[i].name);
		assert_round_trip(cfg);
		config_free(cfg);
	}
}

/* A rotate_size past 32 bits is written with libconfig's L, or it would
   not load again. */
Test(config, rotate_size_64_bits)
{
	struct config *cfg;
	char *out;

	cfg = load("log = { rotate_size = 1099511627776L; };");
	cr_expect_eq(cfg->events_rotate_bytes, UINT64_C(1) << 40);
	out = print(cfg);
	cr_expect(strstr(out, "  rotate_size = 1099511627776L;\n") != NULL,
	    "%s", out);
	free(out);
	assert_round_trip(cfg);
	config_free(cfg);
	cfg = load("log = { rotate_size = 2147483647; };");
	out = print(cfg);
	cr_expect(strstr(out, "  rotate_size = 2147483647;\n") != NULL, "%s",
	    out);
	free(out);
	config_free(cfg);
}

/* A printf'd config text in a growing buffer. */
struct text {
	char	*buf;
	size_t	 len;
	FILE	*fp;
};

static void
text_open(struct text *t)
{
	t->buf = NULL;
	t->fp = open_memstream(&t->buf, &t->len);
	cr_assert_not_null(t->fp);
}

static char *
text_close(struct text *t)
{
	cr_assert_eq(fclose(t->fp), 0);
	return t->buf;
}

Test(config, policy_limits)
{
	struct config *cfg;
	struct text t;
	char *s;
	int i;

	/* DEVICES_MAX devices load; one more does not. */
	text_open(&t);
	fputs("devices = (\n", t.fp);
	for (i = 0; i < DEVICES_MAX; i++)
		fprintf(t.fp, "{ name = \"d%d\"; ip = \"10.0.%d.%d\"; "
		    "profile = \"default\"; },\n", i, i / 256, i % 256);
	fputs("{ name = \"last\"; ip = \"10.9.9.9\"; profile = \"default\"; "
	    "} );\n", t.fp);
	s = text_close(&t);
	load_fails(s, "t.conf:1: devices has 1025 entries; at most 1024");
	*strstr(s, "{ name = \"last\"") = '\0';
	strcpy(strrchr(s, ','), " );\n");
	cfg = load(s);
	cr_expect_eq(cfg->ndevices, DEVICES_MAX);
	config_free(cfg);
	free(s);

	/* CONFIG_MAX_NAMES names each; one more is refused. */
	text_open(&t);
	fputs("always_allow = [\n", t.fp);
	for (i = 0; i < CONFIG_MAX_NAMES; i++)
		fprintf(t.fp, "\"n%d.example\",\n", i);
	fputs("\"last.example\" ];\n", t.fp);
	s = text_close(&t);
	load_fails(s, "t.conf:1: always_allow names 4097 names; at most "
	    "4096");
	*strstr(s, "\"last.example\"") = '\0';
	strcpy(strrchr(s, ','), " ];\n");
	cfg = load(s);
	cr_expect_eq(cfg->nalways_allow, CONFIG_MAX_NAMES);
	cr_expect_str_eq(cfg->always_allow[4095], "n4095.example");
	assert_round_trip(cfg);
	config_free(cfg);
	free(s);

	/* A duplicate among many is found, with both lines. */
	text_open(&t);
	fputs("profiles = { default = { deny = [\n", t.fp);
	for (i = 0; i < 3000; i++)
		fprintf(t.fp, "\"n%d.example\",\n", i % 2500);
	fputs("\"x.example\" ]; }; };\n", t.fp);
	s = text_close(&t);
	load_fails(s, "t.conf:2502: profiles.default.deny: \"n0.example\" is "
	    "named twice, first on line 2");
	free(s);

	/* 64 categories with the services' own. */
	text_open(&t);
	fputs("lists = (\n", t.fp);
	for (i = 0; i < 62; i++)
		fprintf(t.fp, "{ category = \"c%d\"; files = [ \"f\" ]; },\n",
		    i);
	fputs("{ category = \"c62\"; files = [ \"f\" ]; } );\n"
	    "profiles = { default = { services = [ \"tiktok\" ];\n"
	    "  schedules = { s = { when = \"daily 10:00-11:00\";\n"
	    "    services = [ \"tiktok\", \"roblox\" ]; }; }; }; };\n", t.fp);
	s = text_close(&t);
	load_fails(s, "t.conf:67: service 'roblox' is one category too many; "
	    "at most 64 categories, the lists' and the services' together");
	*strstr(s, ", \"roblox\"") = ' ';
	memcpy(strstr(s, "\"roblox\""), "        ", 8);
	cfg = load(s);
	cr_expect_eq(cfg->ncategories, 64);
	cr_expect(cfg->lists[63].implicit);
	assert_round_trip(cfg);
	config_free(cfg);
	free(s);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* blocklists/services/ holds exactly config_services, as NAME.domains. */
Test(config, services_are_the_shipped_lists)
{
	char *names[64];
	struct dirent *e;
	size_t n = 0, i, len;
	DIR *d;

	d = opendir("blocklists/services");
	cr_assert_not_null(d, "blocklists/services: %s (run from the "
	    "repository root)", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len <= 8 || strcmp(e->d_name + len - 8, ".domains") != 0)
			continue;
		cr_assert_lt(n, 64);
		names[n++] = strndup(e->d_name, len - 8);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	cr_expect_eq(n, config_nservices);
	for (i = 0; i < n && i < config_nservices; i++)
		cr_expect_str_eq(names[i], config_services[i]);
	for (i = 1; i < config_nservices; i++)
		cr_expect_lt(strcmp(config_services[i - 1], config_services[i]),
		    0, "config_services is not sorted");
	for (i = 0; i < n; i++)
		free(names[i]);
}

/*
 * Every key of the schema (config.h), as a path of names: a profile's or a
 * schedule's own name is "*", and a lists or devices entry adds nothing.
 */
static const char *const schema_keys[] = {
	"queue", "queue.numbers", "queue.fail_open", "queue.max_len",
	"firewall", "firewall.manage", "firewall.backend",
	"dns", "dns.block_response", "dns.ttl", "dns.block_page",
	"dns.resolver",
	"connections", "connections.ports", "connections.quic",
	"connections.no_sni",
	"lists_dir", "lists_db", "feeds",
	"lists", "lists.category", "lists.files", "lists.feeds",
	"block", "dhcp_leases",
	"devices", "devices.name", "devices.mac", "devices.ip", "devices.cidr",
	"devices.profile",
	"default_profile", "profiles", "profiles.*",
	"profiles.*.block", "profiles.*.services", "profiles.*.allow",
	"profiles.*.deny", "profiles.*.schedules", "profiles.*.schedules.*",
	"profiles.*.schedules.*.when", "profiles.*.schedules.*.block",
	"profiles.*.schedules.*.services",
	"profiles.*.safe_search", "profiles.*.safe_search.google",
	"profiles.*.safe_search.bing", "profiles.*.safe_search.duckduckgo",
	"profiles.*.safe_search.brave", "profiles.*.safe_search.ecosia",
	"profiles.*.safe_search.youtube",
	"profiles.*.bypass", "profiles.*.bypass.doh", "profiles.*.bypass.dot",
	"profiles.*.bypass.vpn", "profiles.*.bypass.ech",
	"profiles.*.bypass.outside_dns", "profiles.*.fail", "profiles.*.age",
	"always_allow",
	"alert", "alert.command", "alert.interval",
	"blockpage", "blockpage.serve", "blockpage.port",
	"risk",
	"risk.anon_chat", "risk.anon_chat.enabled", "risk.anon_chat.window",
	"risk.anon_chat.categories",
	"risk.late_night", "risk.late_night.enabled", "risk.late_night.window",
	"risk.first_seen", "risk.first_seen.enabled", "risk.first_seen.window",
	"risk.first_seen.baseline_days",
	"risk.messaging",
	"risk.bypass", "risk.bypass.enabled", "risk.bypass.window",
	"risk.repeated", "risk.repeated.enabled", "risk.repeated.window",
	"risk.repeated.count", "risk.repeated.minutes",
	"risk.repeated.categories",
	"risk.age", "risk.age.enabled", "risk.age.window",
	"risk.abuse", "risk.abuse.enabled", "risk.abuse.window",
	"risk.bedtime",
	"risk.state",
	"log", "log.events", "log.level", "log.rotate_size", "log.rotate_daily",
	"log.retention_days", "log.syslog", "log.syslog.target",
	"log.syslog.ca", "log.syslog.facility",
	"control", "control.socket", "control.state",
};

/*
 * Keys no shipped file can set: a confidential list needs a licensed file
 * of hashes that safegate does not ship, so safegate.conf only shows the
 * key in a comment (the goldens load it).
 */
static const char *const schema_keys_unshown[] = { "lists.confidential" };

#define MAX_SEEN	128

static bool
in_list(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
collect_keys(const config_setting_t *s, const char *path, char **seen,
    size_t *n)
{
	const config_setting_t *e;
	const char *name;
	size_t plen = strlen(path);
	char p[256];
	unsigned i;

	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		if ((name = config_setting_name(e)) == NULL) {
			/* an element: a lists or devices entry, or a value */
			if (config_setting_is_group(e))
				collect_keys(e, path, seen, n);
			continue;
		}
		if (strcmp(path, "profiles") == 0 || (plen > 10 &&
		    strcmp(path + plen - 10, ".schedules") == 0))
			name = "*";
		snprintf(p, sizeof(p), "%s%s%s", path, plen ? "." : "", name);
		if (!in_list((const char *const *)seen, *n, p)) {
			cr_assert_lt(*n, MAX_SEEN);
			seen[(*n)++] = strdup(p);
		}
		if (config_setting_is_group(e) || config_setting_is_list(e))
			collect_keys(e, p, seen, n);
	}
}

/*
 * The shipped file and the examples, between them, set every key of the
 * schema: each key is shown to the reader somewhere, with a value.
 */
Test(config, shipped_files_use_every_key)
{
	char *seen[MAX_SEEN];
	size_t n = 0, i, k;
	glob_t g;
	config_t lc;

	cr_assert_eq(glob("config/examples/*.conf", 0, NULL, &g), 0,
	    "no config/examples/*.conf (run from the repository root)");
	for (k = 0; k <= g.gl_pathc; k++) {
		const char *path = k == 0 ? "config/safegate.conf" :
		    g.gl_pathv[k - 1];
		struct config *cfg;

		cfg = config_load_file(path, err, sizeof(err));
		cr_assert_not_null(cfg, "%s", err);
		config_free(cfg);
		cr_assert_eq(config_read_other(path, &lc, err, sizeof(err)), 0,
		    "%s", err);
		collect_keys(config_root_setting(&lc), "", seen, &n);
		config_destroy(&lc);
	}
	cr_expect_geq(g.gl_pathc, 2);
	globfree(&g);
	for (i = 0; i < sizeof(schema_keys) / sizeof(*schema_keys); i++)
		cr_expect(in_list((const char *const *)seen, n, schema_keys[i]),
		    "no shipped file sets %s", schema_keys[i]);
	for (i = 0; i < n; i++) {
		cr_expect(in_list(schema_keys, sizeof(schema_keys) /
		    sizeof(*schema_keys), seen[i]) ||
		    in_list(schema_keys_unshown, sizeof(schema_keys_unshown) /
		    sizeof(*schema_keys_unshown), seen[i]),
		    "%s is missing from schema_keys", seen[i]);
		free(seen[i]);
	}
}
