/*
 * fuzz_lists.c - lists_read_buffer() on anything.  The first byte picks a
 * confidential list (odd) or not (even); the rest is the list.
 *
 * Checked: every name the sink gets is at most 253 bytes, NUL-terminated,
 * and normalises to itself; a confidential list gives hashes only, and a
 * list that is not confidential names only; the stats agree with what the
 * sink and the error callback saw; every error names a line that exists,
 * in order; the reader counts the lines there are; and every line that is
 * one valid name on its own (not a local name) reaches the sink as a block
 * of a non-confidential list, and is an invalid line of a confidential one.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "lists.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define KEPT_MAX	4096	/* names remembered for the line check */
#define LINES_CHECKED	256

struct seen {
	size_t	 errors;
	size_t	 last_line;
	size_t	 blocks, allows, hashes;
	size_t	 nkept;
	char	*kept[KEPT_MAX];	/* blocks, in order */
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

static int
on_name(void *arg, const char *name, size_t len, bool allow)
{
	struct seen *s = arg;
	char again[256];
	const char *why = NULL;

	assert(len > 0 && len <= 253);
	assert(strlen(name) == len);
	assert(lists_normalize(name, len, again, &why) == (int)len);
	assert(memcmp(again, name, len + 1) == 0);
	if (allow) {
		s->allows++;
		return 0;
	}
	s->blocks++;
	if (s->nkept < KEPT_MAX && (s->kept[s->nkept] = strdup(name)) != NULL)
		s->nkept++;
	return 0;
}

static int
on_hash(void *arg, const uint8_t sha[LISTS_SHA256_LEN])
{
	struct seen *s = arg;

	(void)sha;
	s->hashes++;
	return 0;
}

static bool
was_kept(const struct seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nkept; i++)
		if (strcmp(s->kept[i], name) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen *seen;
	struct lists_stats st;
	struct lists_sink sink;
	struct cursor c;
	const char *line, *why;
	char norm[256];
	bool confidential;
	size_t n, lines = 0, i;
	int len;

	if (size == 0)
		return 0;
	confidential = data[0] & 1;
	data++;
	size--;
	if ((seen = calloc(1, sizeof(*seen))) == NULL)
		return 0;
	sink = (struct lists_sink){ on_name, on_hash, seen };
	memset(&st, 0, sizeof(st));
	assert(lists_read_buffer("fuzz", data, size, confidential, &sink, &st,
	    on_error, seen) == 0);
	assert(seen->errors == st.invalid);
	assert(seen->blocks + seen->hashes == st.entries);
	assert(seen->allows == st.allows);
	if (confidential)
		assert(seen->blocks == 0 && seen->allows == 0);
	else
		assert(seen->hashes == 0);

	/* A byte order mark at the start is no line of its own. */
	cursor_init(&c, data, size);
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		cursor_skip(&c, 3);
	while ((line = cursor_line(&c, &n)) != NULL)
		lines++;
	assert(st.lines == lines);
	assert(seen->last_line <= st.lines);

	/* A line that is one valid name is read as one. */
	cursor_init(&c, data, size);
	for (lines = 0; (line = cursor_line(&c, &n)) != NULL &&
	    lines < LINES_CHECKED && seen->nkept < KEPT_MAX; lines++) {
		if ((len = lists_normalize(line, n, norm, &why)) < 0) {
			assert(why != NULL);
			continue;
		}
		if (strcmp(norm, "localhost.localdomain") == 0)
			continue;	/* skipped by design */
		if (confidential)
			assert(st.invalid > 0);
		else
			assert(was_kept(seen, norm));
	}
	for (i = 0; i < seen->nkept; i++)
		free(seen->kept[i]);
	free(seen);
	return 0;
}
