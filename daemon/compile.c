/*
 * compile.c - list files in, one compiled set out.
 *
 * Each input becomes one list of its category in the set, labelled as the
 * config writes it (or with the file's base name); the reader (lists.c) hands every entry straight to the
 * builder (sgdb.c), so a compile holds 16 bytes per entry read and never a
 * name.  Should the builder find two names sharing a 64-bit key (about one
 * compile in ten million at two million names), the inputs are read again
 * with a new seed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "compile.h"
#include "config.h"

#define COMPILE_TRIES	3

struct sink_ctx {
	struct sgdb_builder	*b;
	unsigned		 list;
};

static int
sink_name(void *arg, const char *name, size_t len, bool allow)
{
	struct sink_ctx *s = arg;

	return sgdb_builder_add(s->b, s->list, name, len, allow);
}

static int
sink_hash(void *arg, const uint8_t sha[LISTS_SHA256_LEN])
{
	struct sink_ctx *s = arg;

	return sgdb_builder_add_hash(s->b, s->list, sha);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
compile_once(const struct compile_input *in, size_t n, lists_error_fn *err,
    void *arg, struct compile_report *rep, struct sgdb_builder *b,
    void **image, size_t *len)
{
	struct sgdb_build_stats built[SGDB_MAX_CATEGORIES];
	struct sink_ctx ctx = { .b = b };
	struct lists_sink sink = {
		.name = sink_name, .hash = sink_hash, .arg = &ctx,
	};
	struct compile_category *cc;
	size_t i;
	int id, rc;
	unsigned c;

	for (i = 0; i < n; i++) {
		if ((id = sgdb_builder_category(b, in[i].category,
		    in[i].confidential)) < 0) {
			rep->failed_path = in[i].path;
			return id;
		}
		cc = &rep->cat[id];
		if ((unsigned)id >= rep->ncat) {
			rep->ncat = (unsigned)id + 1;
			cc->name = in[i].category;
			cc->confidential = in[i].confidential;
		}
		if (in[i].path == NULL)
			continue;
		cc->files++;
		if ((rc = sgdb_builder_list(b, (unsigned)id,
		    in[i].label != NULL ? in[i].label :
		    base_name(in[i].path))) < 0) {
			rep->failed_path = in[i].path;
			return rc;
		}
		ctx.list = (unsigned)rc;
		if ((rc = lists_read_file(in[i].path, in[i].confidential,
		    &sink, &cc->read, err, arg)) < 0) {
			rep->failed_path = in[i].path;
			return rc;
		}
	}
	if ((rc = sgdb_builder_finish(b, image, len, built)) < 0)
		return rc;
	for (c = 0; c < rep->ncat; c++) {
		cc = &rep->cat[c];
		cc->built = built[c];
		rep->total.lines += cc->read.lines;
		rep->total.entries += cc->read.entries;
		rep->total.allows += cc->read.allows;
		rep->total.invalid += cc->read.invalid;
		rep->total.skipped += cc->read.skipped;
		rep->duplicates += built[c].duplicates;
	}
	return 0;
}

int
compile_lists(const struct compile_input *in, size_t n, lists_error_fn *err,
    void *arg, struct compile_report *repp, void **image, size_t *len)
{
	struct compile_report dummy;
	struct compile_report *rep = repp != NULL ? repp : &dummy;
	struct sgdb_builder *b;
	double t0 = now();
	int tries, rc = -EINVAL;
	struct sgdb *db;

	*image = NULL;
	*len = 0;
	for (tries = 0; tries < COMPILE_TRIES; tries++) {
		memset(rep, 0, sizeof(*rep));
		if ((b = sgdb_builder_new()) == NULL)
			return -errno;
		rc = compile_once(in, n, tries == 0 ? err : NULL, arg, rep, b,
		    image, len);
		sgdb_builder_free(b);
		if (rc != SG_ELIMIT || rep->failed_path != NULL)
			break;
	}
	if (rc < 0)
		return rc;
	/* The entries the set ended with, as a reader of it sees them. */
	if ((rc = sgdb_open_image(*image, *len, &db, NULL, 0)) < 0) {
		free(*image);
		*image = NULL;
		return rc;
	}
	rep->entries = sgdb_entries(db);
	rep->bytes = *len;
	sgdb_close(db);
	rep->seconds = now() - t0;
	return 0;
}

static int
add_input(struct compile_inputs *out, const struct config_list *l,
    const char *path, const char *label)
{
	struct compile_input *in;
	char **paths, *copy = NULL;

	if (path != NULL && (copy = strdup(path)) == NULL)
		return -ENOMEM;
	in = realloc(out->in, (out->n + 1) * sizeof(*in));
	if (in != NULL)
		out->in = in;
	paths = realloc(out->paths, (out->n + 1) * sizeof(*paths));
	if (paths != NULL)
		out->paths = paths;
	if (in == NULL || paths == NULL) {
		free(copy);
		return -ENOMEM;
	}
	out->paths[out->n] = copy;
	in[out->n].category = l->category;
	in[out->n].confidential = l->confidential;
	in[out->n].path = copy;
	in[out->n].label = label;
	out->n++;
	return 0;
}

int
compile_config_inputs(const struct config *cfg, const char *dir,
    compile_missing_fn *missing, void *arg, struct compile_inputs *out)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t i, j;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < cfg->nlists; i++)
		if ((rc = add_input(out, &cfg->lists[i], NULL, NULL)) < 0)
			return rc;
	for (i = 0; i < cfg->nlists; i++) {
		const struct config_list *l = &cfg->lists[i];

		for (j = 0; j < l->nfiles; j++) {
			if (config_list_path(cfg, l->files[j], dir, path,
			    sizeof(path)) == NULL)
				return -ENAMETOOLONG;
			if ((rc = add_input(out, l, path, l->files[j])) < 0)
				return rc;
		}
		for (j = 0; j < l->nfeeds; j++) {
			if (config_feed_path(cfg, l->feeds[j], path,
			    sizeof(path)) == NULL)
				return -ENAMETOOLONG;
			if (stat(path, &sb) == -1 && errno == ENOENT) {
				if (missing != NULL)
					missing(arg, l->feeds[j], path);
				continue;
			}
			if ((rc = add_input(out, l, path, l->feeds[j])) < 0)
				return rc;
		}
	}
	return 0;
}

void
compile_inputs_free(struct compile_inputs *ci)
{
	size_t i;

	for (i = 0; i < ci->n; i++)
		free(ci->paths[i]);
	free(ci->paths);
	free(ci->in);
	memset(ci, 0, sizeof(*ci));
}
