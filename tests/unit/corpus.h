/*
 * corpus.h - for the tests that read ../shared: where it is, and the
 * tab-separated oracle files tshark wrote of the captures.  Helpers only;
 * no test lives in corpus.c.
 */
#ifndef SG_TEST_CORPUS_H
#define SG_TEST_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* $SHARED, else "../shared" (the tests run from the repository's top). */
const char *corpus_shared_dir(void);
/* Field i (0-based) of a tab-separated line, copied into out (cap). */
void	corpus_tsv_field(const char *line, int i, char *out, size_t cap);
/* The index of the column called name in a header line, or -1. */
int	corpus_tsv_col(const char *header, const char *name);

/*
 * Called as a followed TCP stream grows: its bytes so far (from its first
 * data segment), and the frame that brought the last of them.  Returns
 * true when done with that stream.
 */
typedef bool corpus_stream_fn(void *arg, const uint8_t *stream, size_t len,
    uint64_t frame);

/*
 * Reads corpus capture `pcap` (a file name under SHARED/corpus/pcap) and
 * follows up to 256 TCP streams from their first data segment, in order
 * only (a segment out of order is skipped), keeping at most cap bytes of
 * each.  Fails the test if the capture does not open.
 */
void	corpus_tcp_streams(const char *pcap, size_t cap, corpus_stream_fn *fn,
	    void *arg);

#endif
