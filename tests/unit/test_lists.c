/*
 * test_lists.c - reading hosts and plain-domain list files, with the quirks
 * of real lists (tests/data/lists/), and what FILE:LINE errors say.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domainset.h"
#include "lists.h"

#define DATA	"tests/data/lists/"

/* ---------------------------------------------------------------- helpers */

#define MAX_ERRS 64

struct errs {
	size_t		 n;
	size_t		 total;
	const char	*file[MAX_ERRS];
	size_t		 line[MAX_ERRS];
	const char	*reason[MAX_ERRS];
};

static void
collect(void *arg, const char *file, size_t line, const char *reason)
{
	struct errs *e = arg;

	cr_assert_not_null(reason);
	cr_assert_gt(strlen(reason), 0);
	e->total++;
	if (e->n < MAX_ERRS) {
		e->file[e->n] = file;
		e->line[e->n] = line;
		e->reason[e->n] = reason;
		e->n++;
	}
}

static void
expect_err(const struct errs *e, size_t i, size_t line, const char *reason)
{
	cr_assert_lt(i, e->n, "expected an error #%zu at line %zu (%s)", i,
	    line, reason);
	cr_expect_eq(e->line[i], line, "error #%zu: line %zu, expected %zu",
	    i, e->line[i], line);
	cr_expect_str_eq(e->reason[i], reason, "error #%zu (line %zu)", i,
	    e->line[i]);
}

static void
expect_stats(const struct lists_stats *st, size_t lines, size_t kept,
    size_t dup, size_t invalid, size_t skipped)
{
	cr_expect_eq(st->lines, lines, "lines %zu, expected %zu", st->lines,
	    lines);
	cr_expect_eq(st->kept, kept, "kept %zu, expected %zu", st->kept, kept);
	cr_expect_eq(st->duplicates, dup, "duplicates %zu, expected %zu",
	    st->duplicates, dup);
	cr_expect_eq(st->invalid, invalid, "invalid %zu, expected %zu",
	    st->invalid, invalid);
	cr_expect_eq(st->skipped, skipped, "skipped %zu, expected %zu",
	    st->skipped, skipped);
}

/* Reads one file into a fresh set (category 0). */
static struct domainset *
read_one(const char *path, struct lists_stats *st, struct errs *e)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;

	memset(st, 0, sizeof(*st));
	memset(e, 0, sizeof(*e));
	cr_assert_eq(lists_read_file(path, 0, b, st, collect, e), 0,
	    "reading %s", path);
	s = domainset_builder_finish(b);
	cr_assert_not_null(s);
	return s;
}

static struct domainset *
read_buf(const void *buf, size_t len, struct lists_stats *st, struct errs *e)
{
	struct domainset_builder *b = domainset_builder_new();
	struct domainset *s;

	memset(st, 0, sizeof(*st));
	memset(e, 0, sizeof(*e));
	cr_assert_eq(lists_read_buffer("buf", buf, len, 0, b, st, collect, e),
	    0);
	s = domainset_builder_finish(b);
	cr_assert_not_null(s);
	return s;
}

static bool
listed(const struct domainset *s, const char *name)
{
	return domainset_lookup(s, name, strlen(name), NULL);
}

static bool
listed_exactly(const struct domainset *s, const char *name)
{
	struct domainset_match m;

	return domainset_lookup(s, name, strlen(name), &m) &&
	    m.rule_len == strlen(name) && memcmp(m.rule, name, m.rule_len) == 0;
}

/* ---------------------------------------------------------------- normalize */

struct norm_case {
	const char	*in;
	const char	*out;		/* NULL: rejected with reason */
	const char	*reason;
};

static const struct norm_case norm_cases[] = {
	{ "example.com", "example.com", NULL },
	{ "Example.COM", "example.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "WWW.Example.Org.", "www.example.org", NULL },
	{ "under_score.example.net", "under_score.example.net", NULL },
	{ "a-b.c-d.test", "a-b.c-d.test", NULL },
	{ "1.example.com", "1.example.com", NULL },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ "", NULL, "empty name" },
	{ ".", NULL, "empty name" },
	{ "example.com..", NULL, "empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "a..example.com", NULL, "empty label" },
	{ "localhost", NULL, "a single label, not a domain" },
	{ "en", NULL, "a single label, not a domain" },
	{ "com.", NULL, "a single label, not a domain" },
	{ "-a.example.com", NULL, "label starts or ends with '-'" },
	{ "a-.example.com", NULL, "label starts or ends with '-'" },
	{ "example.com-", NULL, "label starts or ends with '-'" },
	{ "exa mple.com", NULL, "character not allowed in a name" },
	{ "*.example.com", NULL, "character not allowed in a name" },
	{ "bad!.example.com", NULL, "character not allowed in a name" },
	{ "ex\xc3\xa4mple.com", NULL, "character not allowed in a name" },
	{ "192.0.2.1", NULL, "the last label is all digits" },
	{ "example.123", NULL, "the last label is all digits" },
};

Test(lists, normalize_table)
{
	char out[256];
	const char *why;
	size_t i;
	int n;

	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];

		why = NULL;
		memset(out, 'Z', sizeof(out));
		n = lists_normalize(c->in, strlen(c->in), out, &why);
		if (c->out != NULL) {
			cr_expect_eq(n, (int)strlen(c->out), "%s: %d", c->in,
			    n);
			if (n >= 0)
				cr_expect_str_eq(out, c->out, "%s", c->in);
		} else {
			cr_expect_lt(n, 0, "%s: accepted as %s", c->in,
			    n >= 0 ? out : "");
			cr_expect(why != NULL && strcmp(why, c->reason) == 0,
			    "%s: reason %s, expected %s", c->in,
			    why != NULL ? why : "(null)", c->reason);
		}
	}
}

Test(lists, normalize_limits)
{
	char in[400], out[256];
	const char *why = NULL;

	/* A 63-byte label is fine, 64 is not. */
	memset(in, 'a', 63);
	memcpy(in + 63, ".test", 6);
	cr_expect_eq(lists_normalize(in, 68, out, &why), 68);
	memset(in, 'a', 64);
	memcpy(in + 64, ".test", 6);
	cr_expect_eq(lists_normalize(in, 69, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "label longer than 63 bytes");

	/* 253 bytes is fine (254 with the trailing dot), 254 is not. */
	memset(in, 'a', sizeof(in));
	in[63] = in[127] = in[191] = '.';
	cr_expect_eq(lists_normalize(in, 253, out, &why), 253);
	cr_expect_eq(strlen(out), 253);
	in[253] = '.';
	cr_expect_eq(lists_normalize(in, 254, out, &why), 253);
	in[253] = 'a';
	cr_expect_eq(lists_normalize(in, 254, out, &why), SG_ELIMIT);
	cr_expect_str_eq(why, "name longer than 253 bytes");
	cr_expect_eq(lists_normalize(in, sizeof(in), out, &why), SG_ELIMIT);

	/* Bytes are read by length: a NUL is just a bad byte. */
	cr_expect_eq(lists_normalize("a\0b.example.com", 15, out, &why),
	    SG_EMALFORMED);
	cr_expect_str_eq(why, "character not allowed in a name");
	cr_expect_eq(lists_normalize("example.comXX", 11, out, &why), 11);
	cr_expect_str_eq(out, "example.com");
}

/* ---------------------------------------------------------------- files */

Test(lists, hosts_file_quirks)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "hosts.hosts", &st, &e);

	/*
	 * 11 names; "ads.example.com" twice; "en" and "-bad.example.com"
	 * invalid; localhost x2, ip6-localhost, ip6-loopback, the bare IP
	 * 192.0.2.1, 0.0.0.0 and broadcasthost skipped.
	 */
	expect_stats(&st, 18, 11, 1, 2, 7);
	cr_assert_eq(e.n, 2);
	cr_expect_str_eq(e.file[0], DATA "hosts.hosts");
	expect_err(&e, 0, 10, "a single label, not a domain");
	expect_err(&e, 1, 16, "label starts or ends with '-'");

	cr_expect(listed_exactly(s, "ads.example.com"));
	cr_expect(listed_exactly(s, "tracker.example.net"));
	cr_expect(listed_exactly(s, "tab.example.org"));
	cr_expect(listed_exactly(s, "one.example.com"));
	cr_expect(listed_exactly(s, "two.example.com"));
	cr_expect(listed_exactly(s, "three.example.com"));
	cr_expect(listed_exactly(s, "stray.example.com"));
	cr_expect(listed_exactly(s, "upper.example.com"));
	cr_expect(listed_exactly(s, "zone.example.net"));
	cr_expect(listed_exactly(s, "v6.example.net"));
	cr_expect(listed_exactly(s, "glued.example.comnext.example.com"));
	cr_expect(listed(s, "www.ads.example.com"));
	cr_expect(!listed(s, "example.com"));
	cr_expect(!listed(s, "localhost"));
	cr_expect(!listed(s, "en"));
	cr_expect(!listed(s, "192.0.2.1"));
	cr_expect(!listed(s, "bad.example.com"));
	cr_expect_eq(domainset_count(s), 11);
	domainset_free(s);
}

Test(lists, domains_file_quirks)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "plain.domains", &st, &e);

	expect_stats(&st, 13, 6, 1, 3, 2);
	cr_assert_eq(e.n, 3);
	expect_err(&e, 0, 9, "empty label");
	expect_err(&e, 1, 10, "empty name");
	expect_err(&e, 2, 11, "character not allowed in a name");

	cr_expect(listed_exactly(s, "example.com"));
	cr_expect(listed(s, "deep.www.example.com"));
	/* "*.wild.example.net" is the same rule as "wild.example.net". */
	cr_expect(listed_exactly(s, "wild.example.net"));
	cr_expect(listed(s, "a.wild.example.net"));
	cr_expect(!listed(s, "example.net"));
	cr_expect(listed_exactly(s, "sub.example.org"));
	cr_expect(!listed(s, "example.org"));
	cr_expect(listed_exactly(s, "padded.example.org"));
	cr_expect(listed_exactly(s, "x.test"));
	cr_expect(listed_exactly(s, "under_score.example.net"));
	cr_expect(!listed(s, "192.0.2.7"));
	domainset_free(s);
}

Test(lists, crlf_and_blank_first_lines)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "crlf.hosts", &st, &e);

	expect_stats(&st, 8, 3, 0, 1, 0);
	cr_assert_eq(e.n, 1);
	expect_err(&e, 0, 7, "character not allowed in a name");
	cr_expect(listed_exactly(s, "crlf.example.com"));
	cr_expect(listed_exactly(s, "crlf2.example.com"));
	cr_expect(listed_exactly(s, "crlf3.example.com"));
	domainset_free(s);
}

Test(lists, foreign_formats_are_reported)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "foreign.txt", &st, &e);

	expect_stats(&st, 9, 1, 0, 6, 0);
	cr_assert_eq(e.n, 6);
	expect_err(&e, 0, 3, "adblock syntax is not supported yet");
	expect_err(&e, 1, 4, "adblock syntax is not supported yet");
	expect_err(&e, 2, 5, "dnsmasq syntax is not supported yet");
	expect_err(&e, 3, 6, "dnsmasq syntax is not supported yet");
	expect_err(&e, 4, 7, "unbound syntax is not supported yet");
	expect_err(&e, 5, 8, "unbound syntax is not supported yet");
	cr_expect(listed_exactly(s, "ok.example.com"));
	cr_expect(!listed(s, "adblock.example.com"));
	cr_expect(!listed(s, "dnsmasq.example.com"));
	cr_expect(!listed(s, "unbound.example.com"));
	domainset_free(s);
}

Test(lists, empty_file)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "empty.domains", &st, &e);

	expect_stats(&st, 0, 0, 0, 0, 0);
	cr_expect_eq(e.n, 0);
	cr_expect_eq(domainset_count(s), 0);
	domainset_free(s);
}

Test(lists, no_trailing_newline)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "no-newline.domains", &st, &e);

	expect_stats(&st, 2, 2, 0, 0, 0);
	cr_expect(listed_exactly(s, "first.example.com"));
	cr_expect(listed_exactly(s, "last.example.com"));
	domainset_free(s);
}

Test(lists, only_comments)
{
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_one(DATA "comments.domains", &st, &e);

	expect_stats(&st, 5, 0, 0, 0, 0);
	cr_expect_eq(e.n, 0);
	domainset_free(s);
}

Test(lists, missing_file)
{
	struct domainset_builder *b = domainset_builder_new();
	struct lists_stats st;

	memset(&st, 0, sizeof(st));
	cr_expect_eq(lists_read_file(DATA "no-such-file", 0, b, &st, NULL,
	    NULL), -ENOENT);
	cr_expect_eq(lists_read_file(DATA, 0, b, &st, NULL, NULL), -EISDIR);
	expect_stats(&st, 0, 0, 0, 0, 0);
	domainset_builder_free(b);
}

Test(lists, bad_arguments)
{
	struct domainset_builder *b = domainset_builder_new();

	cr_expect_eq(lists_read_buffer("x", "a.test\n", 7, 64, b, NULL, NULL,
	    NULL), -EINVAL);
	cr_expect_eq(lists_read_file(DATA "plain.domains", 64, b, NULL, NULL,
	    NULL), -EINVAL);
	/* No stats and no callback are fine. */
	cr_expect_eq(lists_read_buffer(NULL, "a.test\nbad\n", 11, 0, b, NULL,
	    NULL, NULL), 0);
	cr_expect_eq(lists_read_buffer("x", NULL, 0, 0, b, NULL, NULL, NULL),
	    0);
	domainset_builder_free(b);
}

Test(lists, categories_across_files)
{
	struct domainset_builder *b = domainset_builder_new();
	struct lists_stats st[2];
	struct domainset_match m;
	struct domainset *s;

	memset(st, 0, sizeof(st));
	cr_assert_eq(lists_read_file(DATA "plain.domains", 3, b, &st[0], NULL,
	    NULL), 0);
	cr_assert_eq(lists_read_file(DATA "hosts.hosts", 9, b, &st[1], NULL,
	    NULL), 0);
	s = domainset_builder_finish(b);
	cr_expect_eq(st[1].kept, 11);
	cr_assert(domainset_lookup(s, "www.ads.example.com", 19, &m));
	cr_expect_eq(m.categories, (1 << 3) | (1 << 9));
	cr_expect_eq(m.rule_len, 15);
	cr_expect(memcmp(m.rule, "ads.example.com", 15) == 0);
	domainset_free(s);
}

/* ---------------------------------------------------------------- buffers */

Test(lists, line_numbers_count_every_line)
{
	static const char text[] =
	    "\n"
	    "\r\n"
	    "# comment\r\n"
	    "bad\r\n"			/* 4 */
	    "   \t \r\n"
	    "ok.example.com\r\n"
	    "\n"
	    "0.0.0.0 a.example.com b c.example.com\n"	/* 8 */
	    "also bad\n";		/* 9: two tokens, two errors */
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_buf(text, sizeof(text) - 1, &st, &e);

	expect_stats(&st, 9, 3, 0, 4, 0);
	cr_assert_eq(e.n, 4);
	cr_expect_str_eq(e.file[0], "buf");
	expect_err(&e, 0, 4, "a single label, not a domain");
	expect_err(&e, 1, 8, "a single label, not a domain");
	expect_err(&e, 2, 9, "a single label, not a domain");
	expect_err(&e, 3, 9, "a single label, not a domain");
	cr_expect(listed(s, "c.example.com"));
	domainset_free(s);
}

Test(lists, nul_bytes_in_a_line)
{
	static const char text[] =
	    "a\0b.example.com\n"
	    "0.0.0.0 x.example.com\0 y.example.com\n"
	    "\0\n"
	    "ok.example.com # \0 in a comment\n";
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_buf(text, sizeof(text) - 1, &st, &e);

	expect_stats(&st, 4, 2, 0, 3, 0);
	cr_assert_eq(e.n, 3);
	expect_err(&e, 0, 1, "character not allowed in a name");
	expect_err(&e, 1, 2, "character not allowed in a name");
	expect_err(&e, 2, 3, "character not allowed in a name");
	cr_expect(listed_exactly(s, "y.example.com"));
	cr_expect(listed_exactly(s, "ok.example.com"));
	cr_expect(!listed(s, "b.example.com"));
	cr_expect(!listed(s, "x.example.com"));
	domainset_free(s);
}

Test(lists, byte_order_mark)
{
	static const char text[] = "\xef\xbb\xbf" "bom.example.com\n"
	    "\xef\xbb\xbf" "notbom.example.com\n";
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_buf(text, sizeof(text) - 1, &st, &e);

	/* Only a mark at the very start is one. */
	expect_stats(&st, 2, 1, 0, 1, 0);
	cr_expect(listed_exactly(s, "bom.example.com"));
	domainset_free(s);
}

Test(lists, addresses_and_local_names)
{
	static const char text[] =
	    "192.0.2.1\n"
	    "2001:db8::1\n"
	    "0.0.0.0\n"
	    "::\n"
	    "127.0.0.1 localhost.localdomain LOCALHOST local\n"
	    "ff02::1 ip6-allnodes\n"
	    "ff02::2 ip6-allrouters ip6-allhosts ip6-localnet\n"
	    "ff00::0 ip6-mcastprefix\n"
	    "0.0.0.0 localhost. 203.0.113.9 2001:db8::2\n"
	    "fe80::1%eth0 link.example.com\n"
	    "%eth0 x.example.com\n"		/* not an address */
	    "1.2.3 y.example.com\n"		/* not an address either */
	    "*.192.0.2.1\n";
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_buf(text, sizeof(text) - 1, &st, &e);

	expect_stats(&st, 13, 3, 0, 2, 16);
	cr_assert_eq(e.n, 2);
	expect_err(&e, 0, 11, "character not allowed in a name");
	expect_err(&e, 1, 12, "the last label is all digits");
	cr_expect(listed_exactly(s, "link.example.com"));
	cr_expect(listed_exactly(s, "x.example.com"));
	cr_expect(listed_exactly(s, "y.example.com"));
	domainset_free(s);
}

Test(lists, comment_glued_to_a_name)
{
	static const char text[] = "0.0.0.0 a.example.com#comment\n"
	    "b.example.com#\n#c.example.com\n";
	struct lists_stats st;
	struct errs e;
	struct domainset *s = read_buf(text, sizeof(text) - 1, &st, &e);

	expect_stats(&st, 3, 2, 0, 0, 0);
	cr_expect(listed_exactly(s, "a.example.com"));
	cr_expect(listed_exactly(s, "b.example.com"));
	cr_expect(!listed(s, "c.example.com"));
	domainset_free(s);
}

/* A 10 MB line: one token, then one made of many names. */
Test(lists, ten_megabyte_lines)
{
	const size_t big = 10 << 20;
	struct lists_stats st;
	struct errs e;
	struct domainset *s;
	char *buf = malloc(2 * big + 64), *p;
	size_t n, names = 0;

	cr_assert_not_null(buf);
	memset(buf, 'a', big);
	p = buf + big;
	p += sprintf(p, "\nafter.example.com\n");
	/* "n123.example.com " repeated to 10 MB on one line. */
	for (n = 0; (size_t)(p - buf) < 2 * big; n++) {
		p += sprintf(p, "n%zu.example.com ", n);
		names++;
	}
	*p++ = '\n';
	p += sprintf(p, "last.example.com");
	s = read_buf(buf, (size_t)(p - buf), &st, &e);
	expect_stats(&st, 4, 2 + names, 0, 1, 0);
	expect_err(&e, 0, 1, "name longer than 253 bytes");
	cr_expect(listed_exactly(s, "after.example.com"));
	cr_expect(listed_exactly(s, "n0.example.com"));
	cr_expect(listed_exactly(s, "last.example.com"));
	domainset_free(s);
	free(buf);
}

/* The same, from a file, through the file reader. */
Test(lists, ten_megabyte_line_file)
{
	const size_t big = 10 << 20;
	char path[] = "/tmp/test_lists.XXXXXX", *buf;
	struct lists_stats st;
	struct errs e;
	struct domainset *s;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	buf = malloc(big);
	memset(buf, 'x', big);
	cr_assert_eq(write(fd, buf, big), (ssize_t)big);
	cr_assert_eq(write(fd, "\nz.example.com\n", 15), 15);
	close(fd);
	s = read_one(path, &st, &e);
	unlink(path);
	expect_stats(&st, 2, 1, 0, 1, 0);
	expect_err(&e, 0, 1, "name longer than 253 bytes");
	cr_expect_str_eq(e.file[0], path);
	cr_expect(listed_exactly(s, "z.example.com"));
	domainset_free(s);
	free(buf);
}

/* A pipe has no size to trust: the reader must read to EOF. */
Test(lists, reads_a_pipe)
{
	char path[64];
	struct lists_stats st;
	struct errs e;
	struct domainset *s;
	int fds[2], status;
	pid_t pid;
	size_t i;

	cr_assert_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		FILE *f = fdopen(fds[1], "w");

		close(fds[0]);
		for (i = 0; i < 20000; i++)
			fprintf(f, "0.0.0.0 p%zu.example.com\n", i);
		fclose(f);
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	s = read_one(path, &st, &e);
	close(fds[0]);
	waitpid(pid, &status, 0);
	expect_stats(&st, 20000, 20000, 0, 0, 0);
	cr_expect(listed(s, "www.p19999.example.com"));
	domainset_free(s);
}

/* The bundled lists read cleanly. */
Test(lists, bundled_lists)
{
	struct domainset_builder *b = domainset_builder_new();
	struct lists_stats st[3];
	struct domainset *s;
	struct domainset_match m;

	memset(st, 0, sizeof(st));
	cr_assert_eq(lists_read_file("blocklists/adult.domains", 0, b, &st[0],
	    NULL, NULL), 0);
	cr_assert_eq(lists_read_file("blocklists/gambling.domains", 1, b,
	    &st[1], NULL, NULL), 0);
	cr_assert_eq(lists_read_file("blocklists/seed/bypass-canaries.domains", 2, b,
	    &st[2], NULL, NULL), 0);
	s = domainset_builder_finish(b);
	expect_stats(&st[0], 61160, 61160, 0, 0, 0);
	cr_expect_eq(st[1].invalid, 0);
	cr_expect_eq(st[1].kept + st[1].duplicates, 34764);
	cr_expect_eq(st[2].kept, 3);
	cr_expect_eq(st[2].invalid, 0);
	cr_assert(domainset_lookup(s, "use-application-dns.net", 23, &m));
	cr_expect_eq(m.categories, 1 << 2);
	cr_assert(domainset_lookup(s, "mask-h2.icloud.com", 18, &m));
	cr_expect(!domainset_lookup(s, "icloud.com", 10, &m));
	domainset_free(s);
}
