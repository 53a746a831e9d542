/*
 * safegate-lists - compiles block lists into a set, and reads sets.
 *
 *   safegate-lists compile [-n] [-v] [-o OUT] [-c CONFIG [-L DIR]]
 *       [--category NAME [--confidential] FILE...]...
 *   safegate-lists update [-c CONFIG] [-L DIR] [-o OUT]
 *   safegate-lists lookup DB NAME... | -
 *   safegate-lists stats DB
 *   safegate-lists check DB
 *
 * compile reads every FILE, in any format lists.h reads, into the category
 * before it; -c adds the lists and downloaded feeds a safegated config
 * names, as the daemon would (relative files under lists_dir, or DIR).  It
 * reports lines it cannot read as "FILE:LINE: reason" on stderr (the first
 * SHOW_PER_FILE of each file, or all with -v) and carries on, prints a
 * summary, and writes the set atomically to OUT (default with -c: the
 * config's lists_db; -n writes nothing).
 *
 * Nothing printed ever holds a confidential name: lookup prints a name
 * that matched a confidential category as the SHA-256 of the name, and
 * the rule as the entry's hash and list.
 *
 * Exit status: 0; 1 if a file could not be read or written, a set is
 * refused, or a feed failed to update; 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "compile.h"
#include "config.h"
#include "err.h"
#include "lists.h"
#include "log.h"
#include "sgdb.h"
#include "update.h"

#define EXIT_USAGE	2
#define SHOW_PER_FILE	20	/* invalid lines printed per file */
#define NAME_BUF	256	/* DNS_TEXT_MAX + 1 and then some */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: safegate-lists compile [-n] [-v] [-o OUT]\n"
	    "           [-c CONFIG [-L DIR]]\n"
	    "           [--category NAME [--confidential] FILE...]...\n"
	    "       safegate-lists update [-c CONFIG] [-L DIR] [-o OUT]\n"
	    "       safegate-lists lookup DB NAME... | -\n"
	    "       safegate-lists stats DB\n"
	    "       safegate-lists check DB\n"
	    "\n"
	    "compile  reads every FILE (hosts, domains, wildcards, adblock,\n"
	    "         dnsmasq, unbound, or sha256: lines for a confidential\n"
	    "         category) into the category before it, reports lines it\n"
	    "         cannot read as FILE:LINE: reason, prints a summary and\n"
	    "         writes the compiled set to OUT.  -c adds the lists and\n"
	    "         downloaded feeds of a safegated config (relative files\n"
	    "         under its lists_dir, or DIR), and OUT defaults to its\n"
	    "         lists_db.  -n: write nothing.  -v: every bad line.\n"
	    "update   downloads the feeds the config names, checks them, and\n"
	    "         compiles the config's lists into its lists_db (or OUT).\n"
	    "lookup   prints, for each NAME (or each line of standard input\n"
	    "         for -): the name, the categories it matches (or -) and\n"
	    "         the rule that matched (or -), separated by tabs.\n"
	    "stats    prints entries per category, lists, bytes and version.\n"
	    "check    verifies a compiled set.\n"
	    "\n"
	    "Exit status: 0 on success, 1 on a failure, 2 on a usage error.\n");
}

static bool
category_name_ok(const char *s)
{
	return config_valid_name(s);
}

/* ---------------------------------------------------------------- compile */

struct shown {
	const char	*file;
	size_t		 shown;
	size_t		 more;
	bool		 all;
};

static void
flush_more(struct shown *sh)
{
	if (sh->more > 0)
		fprintf(stderr, "%s: %zu more invalid lines\n", sh->file,
		    sh->more);
	sh->more = 0;
}

static void
show_error(void *arg, const char *file, size_t line, const char *reason)
{
	struct shown *sh = arg;

	if (sh->file == NULL || strcmp(sh->file, file) != 0) {
		flush_more(sh);
		sh->file = file;
		sh->shown = 0;
	}
	if (sh->all || sh->shown < SHOW_PER_FILE) {
		fprintf(stderr, "%s:%zu: %s\n", file, line, reason);
		sh->shown++;
	} else
		sh->more++;
}

static void
feed_missing(void *arg, const char *feed, const char *path)
{
	(void)arg;
	fprintf(stderr, "feed %s: not downloaded yet (%s): left out\n", feed,
	    path);
}

struct compile_args {
	struct compile_inputs	 cfg_inputs;	/* from -c */
	struct compile_input	*in;		/* all of them */
	size_t			 n;
	struct config		*cfg;
	const char		*out;
	const char		*dir;
	bool			 dry, all;
};

static void
compile_args_free(struct compile_args *a)
{
	compile_inputs_free(&a->cfg_inputs);
	free(a->in);
	config_free(a->cfg);
}

static int
push_input(struct compile_args *a, const char *cat, bool conf,
    const char *path)
{
	struct compile_input *in;

	if ((in = realloc(a->in, (a->n + 1) * sizeof(*in))) == NULL)
		fatal("realloc");
	a->in = in;
	in[a->n].category = cat;
	in[a->n].confidential = conf;
	in[a->n].path = path;
	in[a->n].label = NULL;
	a->n++;
	return 0;
}

/* Resolves the config's inputs (now: feeds may have arrived) and adds them. */
static int
add_config_inputs(struct compile_args *a, bool quiet)
{
	size_t i;
	int rc;

	compile_inputs_free(&a->cfg_inputs);
	if ((rc = compile_config_inputs(a->cfg, a->dir, quiet ? NULL :
	    feed_missing, NULL, &a->cfg_inputs)) < 0) {
		log_warnx("%s: lists: %s", a->cfg->source, sg_strerror(rc));
		return 1;
	}
	for (i = 0; i < a->cfg_inputs.n; i++) {
		push_input(a, a->cfg_inputs.in[i].category,
		    a->cfg_inputs.in[i].confidential, a->cfg_inputs.in[i].path);
		a->in[a->n - 1].label = a->cfg_inputs.in[i].label;
	}
	return 0;
}

/*
 * Loads -c CONFIG and adds its inputs after those of --category (the order
 * only decides list ids).  quiet: do not report feeds not downloaded yet
 * (update reports them once it has tried).
 */
static int
load_config(struct compile_args *a, const char *path, bool quiet)
{
	char err[CONFIG_ERR_LEN];

	if ((a->cfg = config_load_file(path, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	return add_config_inputs(a, quiet);
}

/*
 * Parses the compile options; update takes the same but no --category.
 * Returns 0, 1 when the config does not load, or EXIT_USAGE.
 */
static int
parse_compile(int argc, char **argv, struct compile_args *a, bool update)
{
	const char *conf = NULL, *cat = NULL;
	bool confidential = false;
	int i;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(arg, "-L") == 0 && i + 1 < argc)
			a->dir = argv[++i];
		else if (strcmp(arg, "-o") == 0 && i + 1 < argc)
			a->out = argv[++i];
		else if (!update && strcmp(arg, "-n") == 0)
			a->dry = true;
		else if (!update && strcmp(arg, "-v") == 0)
			a->all = true;
		else if (!update && strcmp(arg, "--category") == 0 &&
		    i + 1 < argc) {
			cat = argv[++i];
			confidential = false;
			if (!category_name_ok(cat)) {
				log_warnx("category \"%s\": 1 to 32 of "
				    "[a-z0-9_-]", cat);
				return EXIT_USAGE;
			}
			if (i + 1 < argc &&
			    strcmp(argv[i + 1], "--confidential") == 0) {
				confidential = true;
				i++;
			}
		} else if (arg[0] == '-' && arg[1] != '\0') {
			log_warnx("unexpected option: %s", arg);
			return EXIT_USAGE;
		} else if (cat == NULL) {
			log_warnx("%s: which category? (--category NAME "
			    "before the files)", arg);
			return EXIT_USAGE;
		} else
			push_input(a, cat, confidential, arg);
	}
	if (update && conf == NULL)
		conf = CONFIG_DEFAULT_PATH;
	if (a->dir != NULL && conf == NULL) {
		log_warnx("-L needs -c");
		return EXIT_USAGE;
	}
	if (conf != NULL && load_config(a, conf, update) != 0)
		return 1;
	if (a->out == NULL && a->cfg != NULL && !a->dry)
		a->out = a->cfg->lists_db;
	if (a->n == 0 && a->cfg == NULL) {
		log_warnx("nothing to compile: give -c CONFIG or --category "
		    "NAME FILE...");
		return EXIT_USAGE;
	}
	if (a->out == NULL && !a->dry) {
		log_warnx("where to? give -o OUT (or -n for a dry run)");
		return EXIT_USAGE;
	}
	return 0;
}

static void
print_row(const char *name, const struct compile_category *cc)
{
	printf("%-16s %5zu %10zu %10zu %8zu %10zu %8zu %8zu\n", name,
	    cc->files, cc->read.lines, cc->built.entries, cc->built.allows,
	    cc->built.duplicates, cc->read.invalid, cc->read.skipped);
}

static void
print_report(const struct compile_report *rep)
{
	struct compile_category total;
	unsigned c;

	memset(&total, 0, sizeof(total));
	printf("%-16s %5s %10s %10s %8s %10s %8s %8s\n", "category", "files",
	    "lines", "kept", "allows", "duplicates", "invalid", "skipped");
	for (c = 0; c < rep->ncat; c++) {
		const struct compile_category *cc = &rep->cat[c];
		char label[CONFIG_NAME_MAX + 4];

		snprintf(label, sizeof(label), "%s%s", cc->name,
		    cc->confidential ? " *" : "");
		print_row(label, cc);
		total.files += cc->files;
		total.read.lines += cc->read.lines;
		total.built.entries += cc->built.entries;
		total.built.allows += cc->built.allows;
		total.built.duplicates += cc->built.duplicates;
		total.read.invalid += cc->read.invalid;
		total.read.skipped += cc->read.skipped;
	}
	print_row("total", &total);
	printf("%zu distinct entries, %zu bytes (%.1f bytes each), "
	    "compiled in %.3f s%s\n", rep->entries, rep->bytes,
	    rep->entries > 0 ? (double)rep->bytes / (double)rep->entries : 0.0,
	    rep->seconds, rep->ncat > 0 && total.built.entries > 0 ?
	    "" : "; the set is empty");
	for (c = 0; c < rep->ncat; c++)
		if (rep->cat[c].confidential) {
			printf("* confidential: compiled from hashes only\n");
			break;
		}
}

/* Compiles a's inputs and writes the set.  Returns an exit status. */
static int
compile_and_write(struct compile_args *a)
{
	struct compile_report rep;
	struct shown sh = { .all = a->all };
	void *image = NULL;
	size_t len = 0;
	int rc;

	rc = compile_lists(a->in, a->n, show_error, &sh, &rep, &image, &len);
	flush_more(&sh);
	if (rc < 0) {
		if (rc == SG_ECONFIG)
			log_warnx("a category is given both as confidential "
			    "and not");
		else
			log_warnx("%s: %s", rep.failed_path != NULL ?
			    rep.failed_path : "compile", sg_strerror(rc));
		return 1;
	}
	print_report(&rep);
	if (!a->dry) {
		if ((rc = sgdb_write(a->out, image, len)) < 0) {
			log_warnx("%s: %s", a->out, sg_strerror(rc));
			free(image);
			return 1;
		}
		printf("wrote %s\n", a->out);
	}
	free(image);
	return 0;
}

static int
cmd_compile(int argc, char **argv)
{
	struct compile_args a;
	int status;

	memset(&a, 0, sizeof(a));
	if ((status = parse_compile(argc, argv, &a, false)) == 0)
		status = compile_and_write(&a);
	if (status == EXIT_USAGE)
		usage(stderr);
	compile_args_free(&a);
	return status;
}

static void
print_update(void *arg, const struct update_result *res)
{
	(void)arg;
	printf("%s\n", res->line);
	fflush(stdout);
}

/*
 * Downloads the feeds the config names (update.h), then compiles its
 * lists, with whatever feeds are now in place, into its set: a feed that
 * failed keeps its previous copy, so the set never loses a list because a
 * download went wrong.
 */
static int
cmd_update(int argc, char **argv)
{
	struct update_opts uo = { .report = print_update };
	struct update_registry *reg = NULL;
	struct update_summary sum = { 0 };
	struct compile_args a;
	char path[4096], err[CONFIG_ERR_LEN];
	int status, rc;

	memset(&a, 0, sizeof(a));
	if ((status = parse_compile(argc, argv, &a, true)) != 0)
		goto out;
	status = 1;
	if (config_list_path(a.cfg, a.cfg->feeds, a.dir, path,
	    sizeof(path)) == NULL) {
		log_warnx("%s: feeds: path too long", a.cfg->source);
		goto out;
	}
	if ((reg = update_registry_load(path, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	if ((rc = update_config(reg, a.cfg, &uo, &sum, err,
	    sizeof(err))) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	/* The feeds in place now, which parse_compile() could not know. */
	a.n = 0;
	if (add_config_inputs(&a, false) != 0)
		goto out;
	status = compile_and_write(&a);
	if (status == 0 && sum.failed > 0) {
		printf("%zu of %zu feeds failed: see above\n", sum.failed,
		    sum.n);
		status = 1;
	}
out:
	if (status == EXIT_USAGE)
		usage(stderr);
	update_summary_free(&sum);
	update_registry_free(reg);
	compile_args_free(&a);
	return status;
}

/* ---------------------------------------------------------------- reading */

static struct sgdb *
open_db(const char *path)
{
	struct sgdb *db;
	char why[256];

	if (sgdb_open(path, &db, why, sizeof(why)) < 0) {
		log_warnx("%s: %s", path, why);
		return NULL;
	}
	return db;
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

static void
print_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/*
 * Looks a name up as safegated does with a name from the wire: ASCII
 * lower-cased, one trailing dot dropped, otherwise as it is; a name with
 * bytes above 0x7f is taken as UTF-8 and IDNA-encoded, as lists are.
 */
static void
lookup_one(const struct sgdb *db, const char *name, size_t len)
{
	struct sgdb_match m;
	struct sgdb_category sc;
	struct sgdb_list sl;
	char buf[NAME_BUF];
	const char *why;
	uint8_t sha[SHA256_DIGEST_LENGTH];
	size_t i, n = len;
	unsigned c;
	bool first = true, high = false;
	int r;

	for (i = 0; i < len; i++)
		high |= (unsigned char)name[i] >= 0x80;
	if (high && (r = lists_normalize(name, len, buf, &why)) > 0)
		n = (size_t)r;
	else {
		if (n > 0 && name[n - 1] == '.')
			n--;
		if (n > sizeof(buf) - 1)
			n = 0;
		for (i = 0; i < n; i++)
			buf[i] = name[i] >= 'A' && name[i] <= 'Z' ?
			    (char)(name[i] - 'A' + 'a') : name[i];
	}
	if (n == 0 || !sgdb_lookup(db, buf, n, &m)) {
		print_safe(name, len);
		printf("\t-\t-\n");
		return;
	}
	if (m.confidential != 0) {
		/* Not even the asked name: it may be a child of the entry. */
		SHA256((const unsigned char *)buf, n, sha);
		printf("sha256:");
		print_hex(sha, sizeof(sha));
	} else
		print_safe(name, len);
	putchar('\t');
	for (c = 0; c < sgdb_ncategories(db); c++) {
		if ((m.categories & (uint64_t)1 << c) == 0)
			continue;
		sgdb_category(db, c, &sc);
		printf("%s%s", first ? "" : ",", sc.name);
		first = false;
	}
	putchar('\t');
	if (m.confidential != 0) {
		sgdb_list(db, m.list, &sl);
		printf("hash:");
		print_hex(m.hash, sizeof(m.hash));
		printf(" list:%u(%s)", m.list, sl.label);
	} else
		print_safe(buf + n - m.rule_len, m.rule_len);
	putchar('\n');
}

static void
lookup_stdin(const struct sgdb *db)
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
			lookup_one(db, line + start, end - start);
	}
	free(line);
}

static int
cmd_lookup(int argc, char **argv)
{
	struct sgdb *db;
	int i, status = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = open_db(argv[0])) == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			lookup_stdin(db);
		else
			lookup_one(db, argv[i], strlen(argv[i]));
	}
	if (fflush(stdout) == EOF) {
		log_warn("stdout");
		status = 1;
	}
	sgdb_close(db);
	return status;
}

static int
cmd_stats(int argc, char **argv)
{
	struct sgdb_category sc;
	struct sgdb_list sl;
	struct sgdb *db;
	size_t *files;
	unsigned c, l;

	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = open_db(argv[0])) == NULL)
		return 1;
	if ((files = calloc(SGDB_MAX_CATEGORIES, sizeof(*files))) == NULL)
		fatal("calloc");
	for (l = 0; l < sgdb_nlists(db); l++) {
		sgdb_list(db, l, &sl);
		files[sl.category]++;
	}
	printf("%s: format version %u, %zu bytes, %zu entries (%.1f bytes "
	    "each)\n", argv[0], sgdb_version(db), sgdb_bytes(db),
	    sgdb_entries(db), sgdb_entries(db) > 0 ?
	    (double)sgdb_bytes(db) / (double)sgdb_entries(db) : 0.0);
	printf("%-16s %-12s %10s %8s %5s\n", "category", "confidential",
	    "entries", "allows", "lists");
	for (c = 0; c < sgdb_ncategories(db); c++) {
		sgdb_category(db, c, &sc);
		printf("%-16s %-12s %10zu %8zu %5zu\n", sc.name,
		    sc.confidential ? "yes" : "no", sc.entries, sc.allows,
		    files[c]);
	}
	printf("lists:\n");
	for (l = 0; l < sgdb_nlists(db); l++) {
		sgdb_list(db, l, &sl);
		sgdb_category(db, sl.category, &sc);
		printf("%5u  %-16s %s\n", l, sc.name, sl.label);
	}
	free(files);
	sgdb_close(db);
	return fflush(stdout) == EOF ? 1 : 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct sgdb *db;

	if (argc != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = open_db(argv[0])) == NULL)
		return 1;
	printf("%s: ok: format version %u, %zu entries in %u categories, "
	    "%zu bytes, checksums and indexes verified\n", argv[0],
	    sgdb_version(db), sgdb_entries(db), sgdb_ncategories(db),
	    sgdb_bytes(db));
	sgdb_close(db);
	return 0;
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
	if (argc >= 2 && strcmp(argv[1], "compile") == 0)
		return cmd_compile(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "update") == 0)
		return cmd_update(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "lookup") == 0)
		return cmd_lookup(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2)
		log_warnx("unknown command: %s", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
