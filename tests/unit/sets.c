/*
 * sets.c - see sets.h.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/sha.h>

#include "sets.h"
#include "sgdb.h"

struct sgdb *
test_set(const struct test_entry *e, size_t n)
{
	struct sgdb_builder *b = sgdb_builder_new();
	uint8_t digest[SGDB_SHA256_LEN];
	struct sgdb *db;
	void *image;
	size_t len, i;
	int c, l;

	cr_assert_not_null(b);
	for (i = 0; i < n; i++) {
		c = sgdb_builder_category(b, e[i].category, e[i].confidential);
		cr_assert_geq(c, 0, "%s", e[i].category);
		l = sgdb_builder_list(b, (unsigned)c, e[i].category);
		cr_assert_geq(l, 0);
		if (e[i].confidential) {
			SHA256((const unsigned char *)e[i].name,
			    strlen(e[i].name), digest);
			cr_assert_eq(sgdb_builder_add_hash(b, (unsigned)l,
			    digest), 0);
		} else
			cr_assert_eq(sgdb_builder_add(b, (unsigned)l,
			    e[i].name, strlen(e[i].name), false), 0);
	}
	cr_assert_eq(sgdb_builder_finish(b, &image, &len, NULL), 0);
	cr_assert_eq(sgdb_open_image(image, len, &db, NULL, 0), 0);
	free(image);
	sgdb_builder_free(b);
	return db;
}
