/*
 * safegate-lists - checks block-list files and looks names up in them.
 *
 *   safegate-lists check [-c CONFIG [-L DIR]] [--category NAME FILE...]...
 *   safegate-lists lookup [-c CONFIG [-L DIR]] [--category NAME FILE...]...
 *       -- NAME... | -
 *
 * Both read every FILE into one domain set, each under its category; -c
 * adds the lists a safegated config names, exactly as the daemon reads
 * them (relative files under lists_dir, or under DIR with -L).
 * check prints each line it could not read as "FILE:LINE: reason" on
 * stderr, then a summary; lookup prints "name<TAB>categories<TAB>rule" for
 * every name.  Exit status: 0, 1 if a file could not be read, 2 on a usage
 * error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "domainset.h"
#include "err.h"
#include "lists.h"
#include "log.h"

#define EXIT_USAGE	2
#define SHOW_PER_FILE	20	/* invalid lines printed per file */
#define NAME_BUF	256	/* DNS_TEXT_MAX + 1 and then some */

struct input {
	const char	*path;
	unsigned	 category;
};

struct load {
	const char	*categories[DOMAINSET_MAX_CATEGORIES];
	size_t		 ncategories;
	size_t		 nfiles[DOMAINSET_MAX_CATEGORIES];
	struct input	*inputs;
	size_t		 ninputs;
	struct lists_stats stats[DOMAINSET_MAX_CATEGORIES];
	struct domainset *set;
	struct config	*cfg;		/* -c */
	char		**paths;	/* list paths resolved from cfg */
	double		 seconds;
	bool		 quiet;		/* lookup: do not show bad lines */
};

/* Invalid lines of one file: the first few are shown, the rest counted. */
struct shown {
	size_t		 shown;
	size_t		 more;
	bool		 quiet;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: safegate-lists check [-c CONFIG [-L DIR]] "
	    "[--category NAME FILE...]...\n"
	    "       safegate-lists lookup [-c CONFIG [-L DIR]] "
	    "[--category NAME FILE...]... -- NAME... | -\n"
	    "\n"
	    "-c      also read the lists CONFIG names, as safegated does\n"
	    "        (relative files under its lists_dir, or under DIR)\n"
	    "check   reads every FILE (hosts or plain-domain format) into the\n"
	    "        category before it, reports lines it cannot read as\n"
	    "        FILE:LINE: reason, and prints a summary.\n"
	    "lookup  reads the files the same way, then prints, for each\n"
	    "        NAME (or each line of standard input for -), the name,\n"
	    "        the categories it matches (or -) and the most specific\n"
	    "        listed entry that matched (or -), separated by tabs.\n"
	    "\n"
	    "Exit status: 0 on success, 1 if a file could not be read,\n"
	    "2 on a usage error.\n");
}

/* The names safegate.conf allows: [a-z0-9_-]{1,32}. */
static bool
category_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_'))
			return false;
	return true;
}

/*
 * Parses [-c CONFIG [-L DIR]] [--category NAME FILE...]... from argv[*i],
 * stopping at "--" or the end.  Returns 0, or after printing what is
 * wrong -1 (usage) or -2 (the config does not load).
 */
/* Adds the lists of a safegated config as inputs. */
static int
add_config(struct load *ld, const char *path, const char *dir)
{
	char err[CONFIG_ERR_LEN], buf[4096];
	struct input *in;
	size_t i, j, k, n = 0;

	if ((ld->cfg = config_load_file(path, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return -2;
	}
	for (i = 0; i < ld->cfg->nlists; i++)
		n += ld->cfg->lists[i].nfiles;
	in = realloc(ld->inputs, (ld->ninputs + n + 1) * sizeof(*in));
	ld->paths = calloc(n + 1, sizeof(*ld->paths));
	if (in == NULL || ld->paths == NULL)
		fatal("realloc");
	ld->inputs = in;
	for (i = 0, k = 0; i < ld->cfg->nlists; i++) {
		const struct config_list *l = &ld->cfg->lists[i];

		for (j = 0; j < l->nfiles; j++, k++) {
			if (config_list_path(ld->cfg, l->files[j], dir, buf,
			    sizeof(buf)) == NULL ||
			    (ld->paths[k] = strdup(buf)) == NULL) {
				log_warnx("%s: path too long", l->files[j]);
				return -1;
			}
			in[ld->ninputs].path = ld->paths[k];
			in[ld->ninputs++].category = l->category_id;
			ld->nfiles[l->category_id]++;
		}
	}
	for (i = 0; i < ld->cfg->ncategories; i++)
		ld->categories[i] = ld->cfg->categories[i];
	ld->ncategories = ld->cfg->ncategories;
	return 0;
}

static void
load_free(struct load *ld)
{
	size_t i;

	domainset_free(ld->set);
	free(ld->inputs);
	for (i = 0; ld->paths != NULL && ld->paths[i] != NULL; i++)
		free(ld->paths[i]);
	free(ld->paths);
	config_free(ld->cfg);
}

static int
parse_lists(int argc, char **argv, int *i, struct load *ld)
{
	const char *conf = NULL, *dir = NULL;
	size_t c;
	int r;

	/* -c and -L come first, so config categories come first too. */
	while (*i + 1 < argc && (strcmp(argv[*i], "-c") == 0 ||
	    strcmp(argv[*i], "-L") == 0)) {
		if (argv[*i][1] == 'c')
			conf = argv[*i + 1];
		else
			dir = argv[*i + 1];
		*i += 2;
	}
	if (conf == NULL && dir != NULL) {
		log_warnx("-L needs -c");
		return -1;
	}
	if ((ld->inputs = calloc((size_t)argc + 1, sizeof(*ld->inputs))) ==
	    NULL)
		fatal("calloc");
	if (conf != NULL && (r = add_config(ld, conf, dir)) < 0)
		return r;
	while (*i < argc && strcmp(argv[*i], "--") != 0) {
		if (strcmp(argv[*i], "--category") != 0) {
			log_warnx("unexpected argument: %s", argv[*i]);
			return -1;
		}
		if (++*i >= argc || !category_name_ok(argv[*i])) {
			log_warnx("--category needs a NAME of 1-32 lower-case "
			    "letters, digits, '-' or '_'");
			return -1;
		}
		for (c = 0; c < ld->ncategories; c++)
			if (strcmp(ld->categories[c], argv[*i]) == 0)
				break;
		if (c == ld->ncategories) {
			if (c == DOMAINSET_MAX_CATEGORIES) {
				log_warnx("more than %d categories",
				    DOMAINSET_MAX_CATEGORIES);
				return -1;
			}
			ld->categories[ld->ncategories++] = argv[*i];
		}
		if (++*i >= argc || strncmp(argv[*i], "--", 2) == 0) {
			log_warnx("--category %s: no files", ld->categories[c]);
			return -1;
		}
		ld->inputs = realloc(ld->inputs, (ld->ninputs + (size_t)argc +
		    1) * sizeof(*ld->inputs));
		if (ld->inputs == NULL)
			fatal("realloc");
		for (; *i < argc && strncmp(argv[*i], "--", 2) != 0; ++*i) {
			ld->inputs[ld->ninputs].path = argv[*i];
			ld->inputs[ld->ninputs++].category = (unsigned)c;
			ld->nfiles[c]++;
		}
	}
	if (ld->ninputs == 0) {
		log_warnx("no lists given");
		return -1;
	}
	return 0;
}

static void
show_invalid(void *arg, const char *file, size_t line, const char *reason)
{
	struct shown *sh = arg;

	if (!sh->quiet && sh->shown < SHOW_PER_FILE) {
		fprintf(stderr, "%s:%zu: %s\n", file, line, reason);
		sh->shown++;
	} else
		sh->more++;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads every input into ld->set.  Returns 0, or 1 if a file failed. */
static int
load_lists(struct load *ld)
{
	struct domainset_builder *b;
	struct shown sh;
	const struct input *in;
	double t0 = now();
	size_t i;
	int rc, status = 0;

	if ((b = domainset_builder_new()) == NULL)
		fatal("domainset_builder_new");
	for (i = 0; i < ld->ninputs; i++) {
		in = &ld->inputs[i];
		memset(&sh, 0, sizeof(sh));
		sh.quiet = ld->quiet;
		rc = lists_read_file(in->path, in->category, b,
		    &ld->stats[in->category], show_invalid, &sh);
		if (sh.more > 0 && ld->quiet)
			fprintf(stderr, "%s: %zu invalid lines or names (see "
			    "safegate-lists check)\n", in->path, sh.more);
		else if (sh.more > 0)
			fprintf(stderr, "%s: ... %zu more\n", in->path,
			    sh.more);
		if (rc != 0) {
			log_warnx("%s: %s", in->path, sg_strerror(rc));
			status = 1;
		}
	}
	if ((ld->set = domainset_builder_finish(b)) == NULL)
		fatal("domainset_builder_finish");
	ld->seconds = now() - t0;
	return status;
}

static void
print_row(const char *name, size_t files, const struct lists_stats *st)
{
	printf("%-16s %6zu %10zu %10zu %10zu %8zu %8zu\n", name, files,
	    st->lines, st->kept, st->duplicates, st->invalid, st->skipped);
}

static int
cmd_check(int argc, char **argv)
{
	struct load ld;
	struct lists_stats total;
	size_t c, files = 0;
	int i = 0, r, status;

	memset(&ld, 0, sizeof(ld));
	if ((r = parse_lists(argc, argv, &i, &ld)) == -2) {
		load_free(&ld);
		return 1;
	}
	if (r != 0 || i != argc) {
		if (i != argc && ld.ninputs > 0)
			log_warnx("unexpected argument: %s", argv[i]);
		load_free(&ld);
		usage(stderr);
		return EXIT_USAGE;
	}
	status = load_lists(&ld);

	memset(&total, 0, sizeof(total));
	printf("%-16s %6s %10s %10s %10s %8s %8s\n", "category", "files",
	    "lines", "kept", "duplicates", "invalid", "skipped");
	for (c = 0; c < ld.ncategories; c++) {
		print_row(ld.categories[c], ld.nfiles[c], &ld.stats[c]);
		files += ld.nfiles[c];
		total.lines += ld.stats[c].lines;
		total.kept += ld.stats[c].kept;
		total.duplicates += ld.stats[c].duplicates;
		total.invalid += ld.stats[c].invalid;
		total.skipped += ld.stats[c].skipped;
	}
	print_row("total", files, &total);
	printf("distinct names %zu, set %zu bytes (%.1f MiB), "
	    "loaded in %.3f s\n", domainset_count(ld.set),
	    domainset_bytes(ld.set),
	    (double)domainset_bytes(ld.set) / (1024.0 * 1024.0), ld.seconds);

	load_free(&ld);
	return status;
}

/* Writes bytes a terminal or a script can take: others as \xHH. */
static void
print_safe(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

/*
 * Looks a name up as safegated does with a name from a DNS question: ASCII
 * lower-cased, one trailing dot dropped, and otherwise taken as it is, so
 * an odd name under a listed parent is reported as the daemon blocks it.
 */
static void
lookup_one(const struct load *ld, const char *name, size_t len)
{
	struct domainset_match m;
	char buf[NAME_BUF];
	size_t c, i;
	bool first = true;

	print_safe(name, len);
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i < len && i < sizeof(buf); i++)
		buf[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	if (len == 0 || len > NAME_BUF - 2 ||
	    !domainset_lookup(ld->set, buf, len, &m)) {
		printf("\t-\t-\n");
		return;
	}
	putchar('\t');
	for (c = 0; c < ld->ncategories; c++) {
		if ((m.categories & (uint64_t)1 << c) == 0)
			continue;
		printf("%s%s", first ? "" : ",", ld->categories[c]);
		first = false;
	}
	putchar('\t');
	print_safe(m.rule, m.rule_len);
	putchar('\n');
}

static void
lookup_stdin(const struct load *ld)
{
	char *line = NULL;
	size_t cap = 0, start, end;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		/* Trim blanks and the line end; skip empty lines. */
		for (start = 0; start < (size_t)n &&
		    strchr(" \t\r\n", line[start]) != NULL; start++)
			;
		for (end = (size_t)n; end > start &&
		    strchr(" \t\r\n", line[end - 1]) != NULL; end--)
			;
		if (end > start)
			lookup_one(ld, line + start, end - start);
	}
	free(line);
}

static int
cmd_lookup(int argc, char **argv)
{
	struct load ld;
	int i = 0, r, status;

	memset(&ld, 0, sizeof(ld));
	ld.quiet = true;
	if ((r = parse_lists(argc, argv, &i, &ld)) == -2) {
		load_free(&ld);
		return 1;
	}
	if (r != 0 || i >= argc - 1) {
		if (i >= argc - 1 && ld.ninputs > 0)
			log_warnx("lookup needs -- and the names to look up");
		load_free(&ld);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((status = load_lists(&ld)) != 0)
		goto done;
	for (i++; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			lookup_stdin(&ld);
		else
			lookup_one(&ld, argv[i], strlen(argv[i]));
	}
	if (fflush(stdout) == EOF) {
		log_warn("stdout");
		status = 1;
	}
done:
	load_free(&ld);
	return status;
}

int
main(int argc, char **argv)
{
	log_init("safegate-lists", false);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "lookup") == 0)
		return cmd_lookup(argc - 2, argv + 2);
	if (argc >= 2)
		log_warnx("unknown command: %s", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
