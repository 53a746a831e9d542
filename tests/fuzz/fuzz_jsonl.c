/*
 * fuzz_jsonl.c - jsonl_parse() on anything, and the parents' digest over
 * the same bytes taken as an events file.
 *
 * The whole input, as one line, either parses or gives one of the four
 * documented codes with an empty object and an offset inside the line.
 * A line that parses has at most JSONL_FIELDS_MAX unique keys of at most
 * JSONL_KEY_MAX bytes, no NUL in a key, every string NUL-terminated at its
 * length, valid UTF-8, and no longer than the input; numbers are the
 * input's own characters.
 *
 * Then the input, split into lines, goes through report_add_line() and
 * all three formats are written: nothing may crash or leak, every line is
 * counted exactly once, and neither the HTML nor the text holds a raw
 * markup tag or terminal control from the input.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "report.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Strict UTF-8 (RFC 3629), U+0000 allowed. */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4;
		else
			return false;
		if (n - i < len)
			return false;
		cp = s[i] & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static void
check_object(const struct jsonl *j, size_t size)
{
	size_t i, k, n, len, total = 0;
	const char *key, *s;
	uint64_t v;
	bool b;

	n = jsonl_nfields(j);
	assert(n <= JSONL_FIELDS_MAX);
	assert(jsonl_key(j, n) == NULL);
	for (i = 0; i < n; i++) {
		key = jsonl_key(j, i);
		assert(key != NULL && strlen(key) <= JSONL_KEY_MAX);
		for (k = 0; k < i; k++)
			assert(strcmp(jsonl_key(j, k), key) != 0);
		switch (jsonl_type(j, key)) {
		case JSONL_STRING:
			s = jsonl_string(j, key, &len);
			assert(s != NULL && s[len] == '\0' && len <= size);
			assert(utf8_valid((const unsigned char *)s, len));
			break;
		case JSONL_NUMBER:
			s = jsonl_number(j, key, &len);
			assert(s != NULL && len >= 1 && len <= JSONL_NUMBER_MAX);
			assert(s[len] == '\0');
			if (jsonl_u64(j, key, &v))
				assert(s[0] != '-');
			break;
		case JSONL_TRUE:
		case JSONL_FALSE:
			assert(jsonl_bool(j, key, &b));
			break;
		case JSONL_NULL:
			break;
		case JSONL_ARRAY:
			len = jsonl_array_len(j, key);
			total += len;
			for (k = 0; k < len; k++) {
				size_t l;

				s = jsonl_array_string(j, key, k, &l);
				assert(s != NULL && s[l] == '\0' && l <= size);
				assert(utf8_valid((const unsigned char *)s, l));
			}
			assert(jsonl_array_string(j, key, len, NULL) == NULL);
			break;
		case JSONL_ABSENT:
			assert(!"a listed key is absent");
		}
	}
	assert(total <= JSONL_ITEMS_MAX);
}

static void
check_report(const uint8_t *data, size_t size)
{
	/* 2026-03-01T00:00:00Z .. 2026-03-07T18:00:00Z, as the goldens. */
	struct report *r = report_new(1772323200, 1772906400, NULL);
	struct report_counts c;
	const uint8_t *p = data, *end = data + size, *nl;
	enum report_format f;
	uint64_t lines = 0;
	char *out;
	size_t len, i;
	FILE *mf;

	assert(r != NULL);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		for (i = 0; i < len; i++)
			if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
				break;
		lines += i < len;
		report_add_line(r, (const char *)p, len);
		p += len + (nl != NULL);
	}
	report_counts(r, &c);
	assert(c.lines == lines);
	assert(c.unreadable + c.events + c.outside + c.bookkeeping <= lines);
	for (f = REPORT_TEXT; f <= REPORT_JSON; f++) {
		out = NULL;
		mf = open_memstream(&out, &len);
		assert(mf != NULL);
		assert(report_write(r, f, mf) == 0);
		fclose(mf);
		assert(strlen(out) == len);
		if (f == REPORT_HTML) {
			assert(strstr(out, "<script") == NULL);
			assert(strstr(out, "<img") == NULL);
			assert(strstr(out, "<iframe") == NULL);
		}
		assert(memchr(out, 0x1b, len) == NULL);
		free(out);
	}
	report_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jsonl *j;
	int rc;

	if (j == NULL && (j = jsonl_new()) == NULL)
		abort();
	rc = jsonl_parse(j, data, size);
	if (rc != 0) {
		assert(rc == SG_EMALFORMED || rc == SG_ETRUNC ||
		    rc == SG_EUNSUPP || rc == SG_ELIMIT);
		assert(jsonl_nfields(j) == 0);
		assert(jsonl_error_offset(j) <= size);
	} else
		check_object(j, size);
	check_report(data, size);
	return 0;
}
