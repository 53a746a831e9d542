/*
 * fuzz_evlog.c - the event log's readers on anything: the line parser
 * (evlog_parse_line()), the crash-recovery tail reader (evlog_tail()) and
 * the chain verifier (evlog_verify_mem()), over the input as one file and,
 * split at its first '\f', as two.
 *
 * A line that parses has a seq from 1, and prev and hash of 64 lowercase
 * hex digits inside it, the hash just after the bytes it covers.  The tail
 * reader finds only lines that parse, never says more than it was given,
 * and asks for more only when it was not given the whole file.  The
 * verifier either calls the files intact, with a first seq no greater
 * than the last, or names a line inside them with a reason; an empty file
 * after the others changes nothing.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evlog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
hex64(const char *p)
{
	size_t i;

	for (i = 0; i < EVLOG_HASH_HEX; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' &&
		    p[i] <= 'f')))
			return false;
	return true;
}

static void
check_parse(const char *line, size_t len)
{
	struct evlog_line l;

	if (evlog_parse_line(line, len, &l) != 0)
		return;
	assert(l.seq >= 1);
	assert(l.prev >= line && l.prev + EVLOG_HASH_HEX <= line + len);
	assert(l.hash >= line && l.hash + EVLOG_HASH_HEX <= line + len);
	assert(hex64(l.prev) && hex64(l.hash));
	assert(l.hashed_len + 9 + EVLOG_HASH_HEX + 2 == len);
	assert(memcmp(line + l.hashed_len, ",\"hash\":\"", 9) == 0);
	assert(l.ts != NULL && l.ts + l.ts_len <= line + len);
	assert(l.kind != NULL && l.kind_len > 0);
	if (evlog_line_is(&l, "log", "purged"))
		assert(hex64(l.after_hash) && hex64(l.before_prev));
	if (evlog_line_is(&l, "hold", NULL))
		assert(l.hold);
	(void)evlog_line_hash_ok(line, &l);
}

static size_t
lines_in(const char *p, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i < n; i++)
		k += p[i] == '\n';
	return k + (n > 0 && p[n - 1] != '\n');
}

static void
check_report(const struct evlog_report *r, const size_t *lens,
    const char *const *bufs, size_t n)
{
	if (r->intact) {
		assert(r->why[0] == '\0' && r->line == 0);
		if (r->events > 0)
			assert(r->first_seq <= r->last_seq &&
			    r->first_seq >= 1);
		assert(r->torn <= r->events);
		return;
	}
	assert(r->why[0] != '\0');
	assert(r->file < n);
	assert(r->line >= 1 && r->line <= lines_in(bufs[r->file],
	    lens[r->file]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl, *ff;
	const char *bufs[3];
	size_t lens[3], start, n;
	struct evlog_report r1, r2;
	struct evlog_tail t;

	/* Every line, as the parser sees it. */
	for (start = 0; start < size; start += n + 1) {
		nl = memchr(p + start, '\n', size - start);
		n = nl != NULL ? (size_t)(nl - (p + start)) : size - start;
		check_parse(p + start, n);
	}

	/* The tail, whole and not. */
	evlog_tail(p, size, true, &t);
	assert(!t.need_more);
	assert(t.partial <= size);
	if (t.found)
		assert(t.seq >= 1 && hex64(t.hash) && t.hash[64] == '\0');
	evlog_tail(p, size, false, &t);
	assert(t.partial <= size);
	if (t.need_more)
		assert(!t.found);

	/* The verifier: one file, the same with an empty one after it. */
	bufs[0] = p;
	lens[0] = size;
	bufs[1] = "";
	lens[1] = 0;
	evlog_verify_mem(bufs, lens, 1, &r1);
	check_report(&r1, lens, bufs, 1);
	evlog_verify_mem(bufs, lens, 2, &r2);
	check_report(&r2, lens, bufs, 2);
	assert(r1.intact == r2.intact && r1.line == r2.line &&
	    r1.events == r2.events && strcmp(r1.why, r2.why) == 0);

	/* Two files, split at the first form feed. */
	if ((ff = memchr(p, '\f', size)) != NULL) {
		lens[0] = (size_t)(ff - p);
		bufs[1] = ff + 1;
		lens[1] = size - lens[0] - 1;
		evlog_verify_mem(bufs, lens, 2, &r1);
		check_report(&r1, lens, bufs, 2);
	}
	return 0;
}
