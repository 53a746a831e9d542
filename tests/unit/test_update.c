/*
 * test_update.c - the feed registry, its checks against a config, and
 * update_feed()'s checks, with a stand-in for curl (a shell script that
 * "downloads" files from a folder) so that no test touches a network.
 * tests/e2e/update.sh runs the real curl against a real HTTP server.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "update.h"

static char tmpdir[] = "/tmp/sg-update-XXXXXX";
static char err[CONFIG_ERR_LEN];
static char path[512];

/*
 * The stand-in for curl: finds --output and --url, writes its arguments to
 * args.txt, and copies www/<last part of the URL> to the output, or exits
 * as the file www/<name>.exit says (with www/<name>.code on stdout).
 */
static const char fake_curl[] =
    "#!/bin/sh\n"
    "d=$(dirname \"$0\")\n"
    "printf '%s\\n' \"$@\" > \"$d/args.txt\"\n"
    "while [ $# -gt 0 ]; do\n"
    "  case $1 in\n"
    "  --output) out=$2; shift ;;\n"
    "  --url) url=$2; shift ;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "n=${url##*/}\n"
    "if [ -e \"$d/www/$n.exit\" ]; then\n"
    "  cat \"$d/www/$n.code\" 2>/dev/null\n"
    "  exit $(cat \"$d/www/$n.exit\")\n"
    "fi\n"
    "[ -e \"$d/www/$n\" ] || { printf 404; exit 22; }\n"
    "cat \"$d/www/$n\" > \"$out\"\n"
    "printf 200\n";

static const char *
at(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	return path;
}

static void
write_file(const char *rel, const char *text)
{
	FILE *fp = fopen(at(rel), "w");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

/* n names, one a line, "nI.example". */
static void
write_names(const char *rel, int n)
{
	FILE *fp = fopen(at(rel), "w");
	int i;

	cr_assert_not_null(fp);
	fputs("# a test list\n", fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "n%d.example\n", i);
	cr_assert_eq(fclose(fp), 0);
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	cr_assert_eq(mkdir(at("www"), 0755), 0);
	cr_assert_eq(mkdir(at("feeds"), 0755), 0);
	write_file("curl", fake_curl);
	cr_assert_eq(chmod(at("curl"), 0755), 0);
}

static void
teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/* A registry of one feed "t" with the given extra keys. */
static struct update_registry *
registry(const char *extra)
{
	char text[1024];
	struct update_registry *reg;

	snprintf(text, sizeof(text), "feeds = ( { name = \"t\"; url = "
	    "\"https://feeds.test/t.txt\"; format = \"domains\"; category = "
	    "\"adult\"; licence = \"MIT\"; %s } );\n", extra);
	write_file("reg.conf", text);
	reg = update_registry_load(at("reg.conf"), err, sizeof(err));
	cr_assert_not_null(reg, "%s", err);
	return reg;
}

/* Runs feed "t" of reg through the stand-in curl. */
static void
run(const struct update_registry *reg, struct update_result *res)
{
	char dir[512], curl[512];
	struct update_opts opts = { NULL, 5, NULL, NULL };

	snprintf(curl, sizeof(curl), "%s/curl", tmpdir);
	snprintf(dir, sizeof(dir), "%s/feeds", tmpdir);
	opts.curl = curl;
	cr_assert_eq(update_feed(update_registry_find(reg, "t"), dir, &opts,
	    res), 0);
}

/* No temporary file is left in feeds/. */
static void
assert_no_temp(void)
{
	struct dirent *de;
	DIR *d = opendir(at("feeds"));

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		cr_expect(strncmp(de->d_name, ".t.list.", 8) != 0,
		    "left behind: %s", de->d_name);
	closedir(d);
}

/* ------------------------------------------------------------ registry */

Test(update, shipped_registry_loads)
{
	struct update_registry *reg;
	const struct update_feed *f;
	size_t i;

	reg = update_registry_load("blocklists/feeds.conf", err, sizeof(err));
	cr_assert_not_null(reg, "%s", err);
	cr_expect_geq(update_registry_count(reg), 10);
	for (i = 0; (f = update_registry_feed(reg, i)) != NULL; i++) {
		cr_expect(strncmp(f->url, "https://", 8) == 0, "%s", f->name);
		cr_expect(f->licence[0] != '\0');
		cr_expect(!f->hashed);
		cr_expect_leq(f->min_bytes, f->max_bytes);
	}
	f = update_registry_find(reg, "ut1-gambling");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->licence, "CC-BY-SA-4.0");
	cr_expect_str_eq(f->category, "gambling");
	cr_expect_eq(f->min_entries, 10000);
	cr_expect_float_eq(f->max_change, 0.25, 1e-9);
	cr_expect_eq(f->max_bytes, UPDATE_DEF_MAX_BYTES);
	cr_expect_null(update_registry_find(reg, "no-such-feed"));
	update_registry_free(reg);
}

Test(update, shipped_config_names_shipped_feeds)
{
	struct update_registry *reg;
	struct config *cfg;

	cfg = config_load_default(err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_str_eq(cfg->feeds, "feeds.conf");
	reg = update_registry_load("blocklists/feeds.conf", err, sizeof(err));
	cr_assert_not_null(reg, "%s", err);
	cr_expect_eq(update_check_config(reg, cfg, err, sizeof(err)), 0,
	    "%s", err);
	update_registry_free(reg);
	config_free(cfg);
}

Test(update, defaults, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("");
	const struct update_feed *f = update_registry_find(reg, "t");

	cr_assert_not_null(f);
	cr_expect_eq(f->min_bytes, 1);
	cr_expect_eq(f->max_bytes, UPDATE_DEF_MAX_BYTES);
	cr_expect_eq(f->min_entries, 1);
	cr_expect_float_eq(f->max_change, 0.5, 1e-9);
	cr_expect_float_eq(f->max_invalid, 0.1, 1e-9);
	cr_expect_null(f->source);
	cr_expect_eq(f->line, 1);
	update_registry_free(reg);
}

/* Loading the registry text must fail with exactly want (after "DIR/"). */
static void
registry_fails(const char *text, const char *want)
{
	char full[CONFIG_ERR_LEN];

	write_file("bad.conf", text);
	errno = 0;
	cr_assert_null(update_registry_load(at("bad.conf"), err, sizeof(err)),
	    "loaded, but wanted: %s", want);
	cr_expect_eq(errno, EINVAL);
	snprintf(full, sizeof(full), "%s/bad.conf:%s", tmpdir, want);
	cr_expect_str_eq(err, full);
}

#define FEED(extra) "feeds = (\n  { name = \"t\"; url = \"https://a.test/t\"; " \
	"format = \"domains\";\n    category = \"adult\"; licence = \"MIT\";" \
	"\n    " extra " }\n);\n"

Test(update, registry_errors, .init = setup, .fini = teardown)
{
	registry_fails("feed = ( );\n", "1: unknown key 'feed'");
	registry_fails("allow_http = 1;\n", "1: allow_http must be true or false");
	registry_fails("feeds = { name = \"t\"; };\n", "1: feeds must be a list "
	    "of groups: feeds = ( { name = \"...\"; ... } );");
	registry_fails(FEED("mirror = \"x\";"), "4: unknown key 'mirror' in "
	    "feed t");
	registry_fails("feeds = ( { url = \"https://a.test/\"; } );\n",
	    "1: feed entry 1 has no name");
	registry_fails("feeds = ( { name = \"T\"; } );\n", "1: feeds entry 1: "
	    "name must be 1 to 32 of a-z, 0-9, _ and -");
	registry_fails("feeds = (\n { name = \"t\"; url = \"https://a.test/\";"
	    " format = \"hosts\"; category = \"c\"; licence = \"MIT\"; },\n"
	    " { name = \"t\"; } );\n", "3: feed t is defined twice (first on "
	    "line 2)");
	registry_fails("feeds = ( { name = \"t\"; url = \"https://a.test/\"; "
	    "format = \"hosts\"; category = \"c\"; } );\n",
	    "1: feed t has no licence");
	registry_fails(FEED("url = \"x\";"), "4: duplicate setting name");
	    /* libconfig's own words */
	registry_fails("feeds = ( { name = \"t\";\n url = \"http://a.test/t\"; "
	    "format = \"hosts\"; category = \"c\"; licence = \"MIT\"; } );\n",
	    "2: feed t: url must be https:// (plain http:// needs allow_http "
	    "= true)");
	registry_fails("feeds = ( { name = \"t\";\n url = \"ftp://a.test/t\"; "
	    "format = \"hosts\"; category = \"c\"; licence = \"MIT\"; } );\n",
	    "2: feed t: url must start with https://");
	registry_fails("feeds = ( { name = \"t\";\n url = \"https://a.test/a "
	    "b\"; format = \"hosts\"; category = \"c\"; licence = \"MIT\"; } "
	    ");\n", "2: feed t: url must be a host and path of printable ASCII "
	    "without spaces, at most 2048 bytes");
	registry_fails("feeds = ( { name = \"t\"; url = \"https://a.test/\";\n "
	    "format = \"rpz\"; category = \"c\"; licence = \"MIT\"; } );\n",
	    "2: feed t: format must be \"domains\", \"hosts\", \"adblock\", "
	    "\"dnsmasq\", \"unbound\" or \"hashed\"");
	registry_fails(FEED("max_change = -0.5;"), "4: feed t: max_change must "
	    "be 0..100, not -0.5");
	registry_fails(FEED("max_invalid = 2;"), "4: feed t: max_invalid must "
	    "be 0..1, not 2");
	registry_fails(FEED("min_entries = \"10\";"), "4: feed t: min_entries "
	    "must be an integer");
	registry_fails(FEED("max_bytes = 2000000000;"), "4: feed t: max_bytes "
	    "must be 0..1073741824, not 2000000000");
	registry_fails(FEED("min_bytes = 10; max_bytes = 5;"), "2: feed t: "
	    "min_bytes (10) is more than max_bytes (5)");
	registry_fails("@include \"/etc/passwd\"\n", "1: @include is not "
	    "supported; keep the whole configuration in one file");
}

Test(update, registry_file_missing, .init = setup, .fini = teardown)
{
	errno = 0;
	cr_assert_null(update_registry_load(at("none.conf"), err,
	    sizeof(err)));
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(err, "none.conf: No such file") != NULL, "%s", err);
}

Test(update, check_config, .init = setup, .fini = teardown)
{
	struct update_registry *reg;
	struct config *cfg;

	write_file("reg.conf", "feeds = (\n"
	    "  { name = \"clear\"; url = \"https://a.test/c\"; format = "
	    "\"hosts\"; category = \"adult\"; licence = \"MIT\"; },\n"
	    "  { name = \"hashes\"; url = \"https://a.test/h\"; format = "
	    "\"hashed\"; category = \"abuse\"; licence = \"licensed\"; }\n);\n");
	reg = update_registry_load(at("reg.conf"), err, sizeof(err));
	cr_assert_not_null(reg, "%s", err);
	cr_expect(update_registry_find(reg, "hashes")->hashed);

	cfg = config_load_string("t.conf", "lists = (\n"
	    "  { category = \"adult\"; feeds = [ \"clear\" ]; },\n"
	    "  { category = \"abuse\"; confidential = true; feeds = "
	    "[ \"hashes\" ]; }\n);\nblock = [ \"abuse\" ];\n", err,
	    sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(update_check_config(reg, cfg, err, sizeof(err)), 0,
	    "%s", err);
	config_free(cfg);

	cfg = config_load_string("t.conf", "lists = (\n"
	    "  { category = \"adult\"; feeds = [ \"clear\" ]; },\n"
	    "  { category = \"adult\"; feeds = [ \"nope\" ]; }\n);\n", err,
	    sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(update_check_config(reg, cfg, err, sizeof(err)),
	    SG_ECONFIG);
	cr_expect_str_eq(err, "t.conf:3: lists entry 2 (adult): no feed "
	    "\"nope\" in the registry");
	config_free(cfg);

	cfg = config_load_string("t.conf", "lists = (\n"
	    "  { category = \"adult\"; feeds = [ \"hashes\" ]; }\n);\n", err,
	    sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(update_check_config(reg, cfg, err, sizeof(err)),
	    SG_ECONFIG);
	cr_expect_str_eq(err, "t.conf:2: lists entry 1 (adult): feed "
	    "\"hashes\" is hashed, but the category is not confidential");
	config_free(cfg);

	cfg = config_load_string("t.conf", "lists = (\n"
	    "  { category = \"abuse\"; confidential = true;\n"
	    "    feeds = [ \"clear\" ]; }\n);\nblock = [ \"abuse\" ];\n",
	    err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(update_check_config(reg, cfg, err, sizeof(err)),
	    SG_ECONFIG);
	cr_expect_str_eq(err, "t.conf:2: lists entry 1 (abuse): feed "
	    "\"clear\" is not hashed, but the category is confidential");
	config_free(cfg);
	update_registry_free(reg);
}

/* -------------------------------------------------------------- fetch */

Test(update, good_download_goes_into_place, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("min_entries = 100;");
	struct update_result res;
	struct stat sb;

	write_names("www/t.txt", 150);
	run(reg, &res);
	cr_expect(res.updated);
	cr_expect_eq(res.error, 0);
	cr_expect(!res.had_previous);
	cr_expect_eq(res.entries, 150);
	cr_expect_str_eq(res.line, "t: updated, 150 entries, 1854 bytes (new)");
	cr_assert_eq(stat(at("feeds/t.list"), &sb), 0);
	cr_expect_eq(sb.st_size, 1854);
	cr_expect_eq(sb.st_mode & 0777, 0644);
	assert_no_temp();

	/* Again, a little bigger: replaces it and says what it was. */
	write_names("www/t.txt", 160);
	run(reg, &res);
	cr_expect(res.updated);
	cr_expect_str_eq(res.line, "t: updated, 160 entries, 1984 bytes (was "
	    "150 entries)");
	update_registry_free(reg);
}

Test(update, curl_arguments, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("max_bytes = 12345;");
	struct update_result res;
	char args[2048];
	size_t n;
	FILE *fp;

	write_names("www/t.txt", 3);
	run(reg, &res);
	cr_expect(res.updated, "%s", res.line);
	fp = fopen(at("args.txt"), "r");
	cr_assert_not_null(fp);
	n = fread(args, 1, sizeof(args) - 1, fp);
	args[n] = '\0';
	fclose(fp);
	/* -q must come first to keep ~/.curlrc out */
	cr_expect(strncmp(args, "-q\n--fail\n", 10) == 0, "%s", args);
	cr_expect(strstr(args, "\n--globoff\n") != NULL);
	cr_expect(strstr(args, "\n--proto\n=https\n") != NULL);
	cr_expect(strstr(args, "\n--proto-redir\n=https\n") != NULL);
	cr_expect(strstr(args, "\n--max-time\n5\n") != NULL);
	cr_expect(strstr(args, "\n--max-filesize\n12345\n") != NULL);
	cr_expect(strstr(args, "\n--url\nhttps://feeds.test/t.txt\n") != NULL);
	update_registry_free(reg);
}

/* A failure with a good copy in place: the copy stays as it was. */
static void
fails_keeping(const char *extra, const char *want)
{
	struct update_registry *reg = registry(extra);
	struct update_result res;
	struct stat sb;

	write_names("feeds/t.list", 100);	/* 1204 bytes */
	run(reg, &res);
	cr_expect(!res.updated);
	cr_expect_neq(res.error, 0);
	cr_expect(res.had_previous);
	cr_expect_eq(res.previous, 100);
	cr_expect_str_eq(res.line, want);
	cr_assert_eq(stat(at("feeds/t.list"), &sb), 0);
	cr_expect_eq(sb.st_size, 1204, "the previous copy was changed");
	assert_no_temp();
	update_registry_free(reg);
}

Test(update, http_404, .init = setup, .fini = teardown)
{
	fails_keeping("", "t: failed: download: HTTP 404; kept the previous "
	    "copy (100 entries)");
}

Test(update, cannot_connect, .init = setup, .fini = teardown)
{
	write_file("www/t.txt.exit", "7\n");
	write_file("www/t.txt.code", "000");
	fails_keeping("", "t: failed: download: cannot connect; kept the "
	    "previous copy (100 entries)");
}

Test(update, timed_out, .init = setup, .fini = teardown)
{
	write_file("www/t.txt.exit", "28\n");
	fails_keeping("", "t: failed: download: timed out after 5 s; kept the "
	    "previous copy (100 entries)");
}

Test(update, too_small, .init = setup, .fini = teardown)
{
	write_file("www/t.txt", "a.example\n");
	fails_keeping("min_bytes = 1000;", "t: failed: too small: 10 bytes, at "
	    "least 1000; kept the previous copy (100 entries)");
}

Test(update, too_big, .init = setup, .fini = teardown)
{
	/* curl enforces max_bytes only when the server says the size */
	write_names("www/t.txt", 110);
	fails_keeping("max_bytes = 1000;", "t: failed: too big: 1334 bytes, at "
	    "most 1000; kept the previous copy (100 entries)");
}

Test(update, garbage, .init = setup, .fini = teardown)
{
	write_file("www/t.txt", "<!DOCTYPE html>\n<html><head><title>Rate "
	    "limited</title></head>\n<body>Try again later.</body>\n</html>\n"
	    "a.example\n");
	fails_keeping("", "t: failed: too many invalid lines: 8 of 9, at most "
	    "10%; kept the previous copy (100 entries)");
}

Test(update, too_few_entries, .init = setup, .fini = teardown)
{
	write_names("www/t.txt", 90);
	fails_keeping("min_entries = 95;", "t: failed: too few entries: 90, at "
	    "least 95; kept the previous copy (100 entries)");
}

Test(update, change_too_big, .init = setup, .fini = teardown)
{
	write_names("www/t.txt", 40);
	fails_keeping("max_change = 0.25;", "t: failed: entry count changed by "
	    "60% (100 -> 40), at most 25%; kept the previous copy (100 "
	    "entries)");
}

Test(update, change_within_bounds, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("max_change = 0.25;");
	struct update_result res;

	write_names("feeds/t.list", 100);
	write_names("www/t.txt", 125);
	run(reg, &res);
	cr_expect(res.updated, "%s", res.line);
	update_registry_free(reg);
}

Test(update, no_previous_copy, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("");
	struct update_result res;

	run(reg, &res);
	cr_expect(!res.updated);
	cr_expect_str_eq(res.line, "t: failed: download: HTTP 404; there is no "
	    "previous copy");
	cr_expect_eq(access(at("feeds/t.list"), F_OK), -1);
	assert_no_temp();
	update_registry_free(reg);
}

Test(update, curl_missing, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("");
	struct update_opts opts = { NULL, 5, NULL, NULL };
	struct update_result res;
	char dir[512], curl[512];

	snprintf(curl, sizeof(curl), "%s/no-curl-here", tmpdir);
	snprintf(dir, sizeof(dir), "%s/feeds", tmpdir);
	opts.curl = curl;
	cr_assert_eq(update_feed(update_registry_find(reg, "t"), dir, &opts,
	    &res), 0);
	cr_expect(!res.updated);
	cr_expect_str_eq(res.line, "t: failed: download: cannot run curl: No "
	    "such file or directory; there is no previous copy");
	update_registry_free(reg);
}

/* ------------------------------------------------------------- config */

static int reports;

static void
count_report(void *arg, const struct update_result *r)
{
	(void)arg;
	(void)r;
	reports++;
}

Test(update, config_fetches_each_feed_once, .init = setup, .fini = teardown)
{
	struct update_opts opts = { NULL, 5, count_report, NULL };
	struct update_registry *reg;
	struct update_summary sum;
	struct config *cfg;
	char text[1024], curl[512];

	write_file("reg.conf", "feeds = (\n"
	    "  { name = \"a\"; url = \"https://a.test/a.txt\"; format = "
	    "\"domains\"; category = \"adult\"; licence = \"MIT\"; },\n"
	    "  { name = \"b\"; url = \"https://a.test/b.txt\"; format = "
	    "\"domains\"; category = \"adult\"; licence = \"MIT\"; }\n);\n");
	write_names("www/a.txt", 5);
	reg = update_registry_load(at("reg.conf"), err, sizeof(err));
	cr_assert_not_null(reg, "%s", err);
	snprintf(text, sizeof(text), "lists_dir = \"%s\";\n"
	    "lists_db = \"%s/lists.sgdb\";\nlists = (\n"
	    "  { category = \"adult\"; feeds = [ \"a\", \"b\" ]; },\n"
	    "  { category = \"gambling\"; feeds = [ \"a\" ]; }\n);\n", tmpdir,
	    tmpdir);
	cfg = config_load_string("t.conf", text, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	snprintf(curl, sizeof(curl), "%s/curl", tmpdir);
	opts.curl = curl;

	cr_assert_eq(update_config(reg, cfg, &opts, &sum, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(sum.n, 2);
	cr_expect_eq(sum.failed, 1);
	cr_expect_eq(reports, 2);
	cr_expect_str_eq(sum.results[0].line, "a: updated, 5 entries, 69 "
	    "bytes (new)");
	cr_expect_str_eq(sum.results[1].line, "b: failed: download: HTTP 404; "
	    "there is no previous copy");
	cr_expect_eq(access(at("feeds/a.list"), F_OK), 0);
	update_summary_free(&sum);
	config_free(cfg);
	update_registry_free(reg);
}

Test(update, one_update_at_a_time, .init = setup, .fini = teardown)
{
	struct update_registry *reg = registry("");
	struct update_summary sum;
	struct config *cfg;
	char text[512];
	int fd;

	snprintf(text, sizeof(text), "lists_dir = \"%s\";\n"
	    "lists_db = \"%s/lists.sgdb\";\nlists = ( { "
	    "category = \"adult\"; feeds = [ \"t\" ]; } );\n", tmpdir, tmpdir);
	cfg = config_load_string("t.conf", text, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	fd = open(at("feeds/.lock"), O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	cr_expect_eq(update_config(reg, cfg, NULL, &sum, err,
	    sizeof(err)), -EBUSY);
	cr_expect(strstr(err, "another update is running") != NULL, "%s", err);
	cr_expect_eq(sum.n, 0);
	close(fd);
	config_free(cfg);
	update_registry_free(reg);
}
