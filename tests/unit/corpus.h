/*
 * corpus.h - for the tests that read ../shared: where it is, and the
 * tab-separated oracle files tshark wrote of the captures.  Helpers only;
 * no test lives in corpus.c.
 */
#ifndef SG_TEST_CORPUS_H
#define SG_TEST_CORPUS_H

#include <stddef.h>

/* $SHARED, else "../shared" (the tests run from the repository's top). */
const char *corpus_shared_dir(void);
/* Field i (0-based) of a tab-separated line, copied into out (cap). */
void	corpus_tsv_field(const char *line, int i, char *out, size_t cap);
/* The index of the column called name in a header line, or -1. */
int	corpus_tsv_col(const char *header, const char *name);

#endif
