/*
 * corpus.c - see corpus.h.
 */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

const char *
corpus_shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL ? s : "../shared";
}

void
corpus_tsv_field(const char *line, int i, char *out, size_t cap)
{
	const char *e;
	size_t n;

	while (i-- > 0 && (line = strchr(line, '\t')) != NULL)
		line++;
	out[0] = '\0';
	if (line == NULL)
		return;
	e = strpbrk(line, "\t\n");
	n = e != NULL ? (size_t)(e - line) : strlen(line);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, line, n);
	out[n] = '\0';
}

int
corpus_tsv_col(const char *header, const char *name)
{
	char f[128];
	int i;

	for (i = 0; i < 64; i++) {
		corpus_tsv_field(header, i, f, sizeof(f));
		if (strcmp(f, name) == 0)
			return i;
	}
	return -1;
}
