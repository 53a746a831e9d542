/*
 * fuzz_lists.c - lists_read_buffer() on anything, into a set that is then
 * asked about.  Every error names a line that exists; the set holds exactly
 * the names counted as kept; every line that is one valid name on its own
 * is listed, and so are its children; a lookup only ever reports a suffix of
 * the name asked about, at a label boundary.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "domainset.h"
#include "lists.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct seen {
	size_t	 errors;
	size_t	 last_line;
};

static void
on_error(void *arg, const char *file, size_t line, const char *reason)
{
	struct seen *s = arg;

	assert(strcmp(file, "fuzz") == 0);
	assert(reason != NULL && reason[0] != '\0');
	assert(line >= 1 && line >= s->last_line);
	s->last_line = line;
	s->errors++;
}

static void
check_lookup(const struct domainset *set, const char *q, size_t len)
{
	struct domainset_match m;

	if (!domainset_lookup(set, q, len, &m))
		return;
	assert(m.categories != 0);
	assert(m.rule != NULL && m.rule_len > 0 && m.rule_len <= len);
	assert(memcmp(m.rule, q + len - m.rule_len, m.rule_len) == 0);
	assert(m.rule_len == len || q[len - m.rule_len - 1] == '.');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domainset_builder *b;
	struct domainset *set;
	struct domainset_match m;
	struct lists_stats st;
	struct seen seen = { 0, 0 };
	struct cursor c;
	const char *line, *why;
	char norm[256], again[256], child[300];
	unsigned cat = size % DOMAINSET_MAX_CATEGORIES;
	size_t n, lines = 0;
	int len, len2;

	if ((b = domainset_builder_new()) == NULL)
		return 0;
	memset(&st, 0, sizeof(st));
	assert(lists_read_buffer("fuzz", data, size, cat, b, &st, on_error,
	    &seen) == 0);
	set = domainset_builder_finish(b);
	assert(set != NULL);
	assert(domainset_count(set) == st.kept);
	assert(seen.errors == st.invalid);
	assert(seen.last_line <= st.lines);

	cursor_init(&c, data, size);
	while ((line = cursor_line(&c, &n)) != NULL && lines++ < 256) {
		check_lookup(set, line, n);
		if ((len = lists_normalize(line, n, norm, &why)) < 0) {
			assert(why != NULL);
			continue;
		}
		/* Normalising is idempotent. */
		len2 = lists_normalize(norm, (size_t)len, again, &why);
		assert(len2 == len && memcmp(norm, again, (size_t)len) == 0);
		if (strcmp(norm, "localhost.localdomain") == 0)
			continue;	/* skipped by design */
		/* A line that is one valid name was added, rule and all. */
		assert(domainset_lookup(set, norm, (size_t)len, &m));
		assert(m.rule_len == (size_t)len &&
		    memcmp(m.rule, norm, (size_t)len) == 0);
		assert(m.categories & (uint64_t)1 << cat);
		snprintf(child, sizeof(child), "x.%s", norm);
		assert(domainset_lookup(set, child, strlen(child), &m));
		check_lookup(set, child, strlen(child));
	}
	check_lookup(set, (const char *)data, size < 300 ? size : 300);
	domainset_free(set);
	return 0;
}
