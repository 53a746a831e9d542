/*
 * fuzz_sgdb.c - sgdb_open_image() on anything, with its checksums made
 * right first: random bytes never pass a 64-bit checksum, so without the
 * fix-up the fuzzer would only ever see "the header is damaged".  With it,
 * every structural check is in reach.  What opens is then asked about a
 * few names and about names cut from the input, and every accessor is
 * called; nothing may read outside the image (ASan), and every match must
 * keep the promises of sgdb.h.
 *
 * Seeds: tests/fuzz/seeds/sgdb/, written by tests/tools/sgdb-seed.c.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sgdb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Where struct hdr in sgdb.c keeps the file size: the one field set here;
 * sgdb_image_seal() does the checksums.
 */
#define HDR_SIZE	256
#define OFF_FILE_SIZE	72

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Asks about one name and checks what sgdb.h promises of the answer. */
static void
ask(const struct sgdb *db, const char *name, size_t len)
{
	struct sgdb_category c;
	struct sgdb_match m;
	uint64_t known, conf = 0;
	unsigned i;
	bool hit;

	hit = sgdb_lookup(db, name, len, &m);
	assert(hit == (m.categories != 0));
	assert(sgdb_lookup(db, name, len, NULL) == hit);
	known = sgdb_ncategories(db) >= 64 ? UINT64_MAX :
	    ((uint64_t)1 << sgdb_ncategories(db)) - 1;
	assert((m.categories & ~known) == 0 && (m.excepted & ~known) == 0);
	for (i = 0; i < sgdb_ncategories(db); i++) {
		sgdb_category(db, i, &c);
		if (c.confidential)
			conf |= (uint64_t)1 << i;
	}
	/* "confidential: those of them that are confidential"; no
	 * exception applies to them; a category is blocked or excepted. */
	assert((m.confidential & ~m.categories) == 0);
	assert(m.confidential == (m.categories & conf));
	assert((m.excepted & conf) == 0);
	assert((m.excepted & m.categories) == 0);
	/* The rule is a suffix of the name on a label boundary. */
	assert(m.rule_len <= len);
	if (m.rule_len != 0 && m.rule_len < len)
		assert(name[len - m.rule_len - 1] == '.');
	if (m.confidential != 0)
		assert(m.list < sgdb_nlists(db));
}

static void
about(const struct sgdb *db, size_t size)
{
	struct sgdb_category c;
	struct sgdb_list l;
	unsigned i, n;

	assert(sgdb_version(db) == SGDB_VERSION);
	assert(sgdb_bytes(db) == size);
	(void)sgdb_entries(db);
	n = sgdb_ncategories(db);
	assert(n <= SGDB_MAX_CATEGORIES);
	for (i = 0; i < n; i++) {
		sgdb_category(db, i, &c);
		assert(strlen(c.name) > 0 && strlen(c.name) <= SGDB_NAME_MAX);
		/* Names may repeat in a hostile file: the first one wins. */
		assert(sgdb_category_id(db, c.name) >= 0 &&
		    sgdb_category_id(db, c.name) <= (int)i);
	}
	assert(sgdb_category_id(db, "no-such-category") == -1 ||
	    n > 0);
	n = sgdb_nlists(db);
	assert(n <= SGDB_MAX_LISTS);
	for (i = 0; i < n; i++) {
		sgdb_list(db, i, &l);
		assert(strlen(l.label) <= SGDB_NAME_MAX);
		assert(l.category < sgdb_ncategories(db));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The names of tests/tools/sgdb-seed.c, and their neighbours. */
	static const char *const names[] = {
		"example.com", "www.example.com", "ok.example.com",
		"a.ok.example.com", "bad.ok.example.com", "ads.example.net",
		"x.y.ads.example.net", "abuse.example.org",
		"w.abuse.example.org", "com", "", "a..b", "example.com.",
	};
	struct sgdb *db;
	char why[256];
	uint8_t *img;
	size_t i, n;
	int rc;

	if ((img = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(img, data, size);
	/* Make the size and both checksums right; the rest is the input's. */
	if (size >= HDR_SIZE) {
		put64(img + OFF_FILE_SIZE, size);
		sgdb_image_seal(img, size);
	}
	why[0] = '\0';
	rc = sgdb_open_image(img, size, &db, why, sizeof(why));
	free(img);
	if (rc != 0) {
		assert(rc < 0 && db == NULL && why[0] != '\0');
		return 0;
	}
	about(db, size);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ask(db, names[i], strlen(names[i]));
	/* Names cut from the input's last bytes, as the network may send. */
	for (i = 0; i < 4 && size > HDR_SIZE; i++) {
		n = (size_t)data[size - 1 - i] % 260;
		if (n > size - HDR_SIZE)
			n = size - HDR_SIZE;
		ask(db, (const char *)data + size - n, n);
	}
	sgdb_close(db);
	return 0;
}
