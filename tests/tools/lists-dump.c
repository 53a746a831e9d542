/*
 * lists-dump - reads one list file with lists_read_file() and prints what
 * the reader made of it, for golden tests (tests/lists/run.sh):
 *
 *	block NAME | allow NAME | hash HEX	each entry, in order
 *	FILE:LINE: reason			each diagnostic, in order
 *	stats lines N entries N allows N invalid N skipped N
 *
 * all on standard output, so entries and diagnostics interleave as they
 * happen.  Usage: lists-dump [-C] FILE (-C: the list is confidential).
 * Exit status 0, 1 if the file could not be read, 2 on a usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lists.h"

static int
on_name(void *arg, const char *name, size_t len, bool allow)
{
	(void)arg;
	printf("%s %.*s\n", allow ? "allow" : "block", (int)len, name);
	return 0;
}

static int
on_hash(void *arg, const uint8_t sha[LISTS_SHA256_LEN])
{
	size_t i;

	(void)arg;
	printf("hash ");
	for (i = 0; i < LISTS_SHA256_LEN; i++)
		printf("%02x", sha[i]);
	printf("\n");
	return 0;
}

static void
on_error(void *arg, const char *file, size_t line, const char *reason)
{
	(void)arg;
	printf("%s:%zu: %s\n", file, line, reason);
}

int
main(int argc, char **argv)
{
	struct lists_sink sink = { on_name, on_hash, NULL };
	struct lists_stats st;
	bool confidential = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "C")) != -1) {
		if (ch != 'C') {
			fprintf(stderr, "usage: lists-dump [-C] FILE\n");
			return 2;
		}
		confidential = true;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: lists-dump [-C] FILE\n");
		return 2;
	}
	memset(&st, 0, sizeof(st));
	rc = lists_read_file(argv[optind], confidential, &sink, &st, on_error,
	    NULL);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "%s: %s\n", argv[optind], sg_strerror(rc));
		return 1;
	}
	printf("stats lines %zu entries %zu allows %zu invalid %zu skipped "
	    "%zu\n", st.lines, st.entries, st.allows, st.invalid, st.skipped);
	return 0;
}
