/*
 * sgdb-seed.c - writes a few small, valid compiled sets into a directory,
 * as seeds for tests/fuzz/fuzz_sgdb.c.  Fixed hash seeds, so the same
 * program on the same machine writes the same bytes.
 *
 *	sgdb-seed DIR
 *
 * The committed seeds in tests/fuzz/seeds/sgdb/ came from this; run it
 * again if the format changes.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgdb.h"

static void
die(const char *what, int rc)
{
	fprintf(stderr, "sgdb-seed: %s: %s\n", what, sg_strerror(rc));
	exit(1);
}

static void
add(struct sgdb_builder *b, int list, const char *name, int allow)
{
	int rc = sgdb_builder_add(b, (unsigned)list, name, strlen(name),
	    allow != 0);

	if (rc < 0)
		die(name, rc);
}

static void
add_hash(struct sgdb_builder *b, int list, const char *name)
{
	uint8_t sha[SGDB_SHA256_LEN];
	int rc;

	SHA256((const unsigned char *)name, strlen(name), sha);
	if ((rc = sgdb_builder_add_hash(b, (unsigned)list, sha)) < 0)
		die(name, rc);
}

static int
must(int rc, const char *what)
{
	if (rc < 0)
		die(what, rc);
	return rc;
}

static void
emit(struct sgdb_builder *b, const char *dir, const char *file)
{
	char path[4096];
	size_t len;
	void *img;
	int rc;

	if ((rc = sgdb_builder_finish(b, &img, &len, NULL)) < 0)
		die(file, rc);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((rc = sgdb_write(path, img, len)) < 0)
		die(path, rc);
	printf("%s: %zu bytes\n", path, len);
	free(img);
	sgdb_builder_free(b);
}

static struct sgdb_builder *
builder(uint64_t seed)
{
	struct sgdb_builder *b = sgdb_builder_new();

	if (b == NULL)
		die("builder", -ENOMEM);
	sgdb_builder_seed(b, seed);
	return b;
}

int
main(int argc, char **argv)
{
	struct sgdb_builder *b;
	char name[64];
	int ads, abuse, la, lb, lc, i;

	if (argc != 2) {
		fprintf(stderr, "usage: sgdb-seed DIR\n");
		return 2;
	}
	/* Nothing at all. */
	emit(builder(1), argv[1], "empty.sgdb");

	/* One category, an exception under a block, a block under that. */
	b = builder(2);
	ads = must(sgdb_builder_category(b, "ads", false), "ads");
	la = must(sgdb_builder_list(b, (unsigned)ads, "ads.txt"), "list");
	add(b, la, "example.com", 0);
	add(b, la, "ok.example.com", 1);
	add(b, la, "bad.ok.example.com", 0);
	emit(b, argv[1], "nested.sgdb");

	/* Clear and confidential, enough keys for a directory. */
	b = builder(3);
	ads = must(sgdb_builder_category(b, "ads", false), "ads");
	abuse = must(sgdb_builder_category(b, "abuse", true), "abuse");
	la = must(sgdb_builder_list(b, (unsigned)ads, "ads.txt"), "list");
	lb = must(sgdb_builder_list(b, (unsigned)ads, "more-ads.txt"), "list");
	lc = must(sgdb_builder_list(b, (unsigned)abuse, "feed"), "list");
	add(b, la, "ads.example.net", 0);
	add(b, lb, "ads.example.net", 0);
	add(b, lb, "example.com", 0);
	add(b, la, "www.example.com", 1);
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof(name), "h%d.example.net", i);
		add(b, i % 2 ? la : lb, name, i % 5 == 0);
	}
	add_hash(b, lc, "abuse.example.org");
	add_hash(b, lc, "example.com");
	add_hash(b, lc, "x.example.org");
	emit(b, argv[1], "mixed.sgdb");
	return 0;
}
