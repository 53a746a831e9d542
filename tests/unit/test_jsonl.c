/*
 * test_jsonl.c - the strict reader of event lines: what it takes, how it
 * decodes, and every way it refuses (malformed, truncated, unsupported,
 * past a limit), leaving an empty object behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "jsonl.h"

static struct jsonl *j;

static void
setup(void)
{
	j = jsonl_new();
	cr_assert_not_null(j);
}

static void
teardown(void)
{
	jsonl_free(j);
}

TestSuite(jsonl, .init = setup, .fini = teardown);

static int
parse(const char *s)
{
	return jsonl_parse(j, s, strlen(s));
}

/* The line evlog.c writes, with the fields issue 6 adds around it. */
static const char event_line[] =
    "{\"seq\":42,\"ts\":\"2026-03-03T21:14:05.250000Z\",\"kind\":\"dns\","
    "\"transport\":\"udp\",\"client\":\"192.168.1.77\","
    "\"mac\":\"02:00:00:00:00:03\",\"device\":null,\"profile\":\"default\","
    "\"name\":null,\"qtype\":\"A\",\"categories\":[\"abuse\",\"adult\"],"
    "\"rule\":\"hash:9f86\",\"list\":\"abuse\",\"reason\":\"confidential\","
    "\"action\":\"nxdomain\",\"hold\":true,\"prev\":\"aa\",\"hash\":\"bb\"}";

Test(jsonl, event_line)
{
	uint64_t seq;
	size_t len;
	bool hold;

	cr_assert_eq(parse(event_line), 0);
	cr_assert_eq(jsonl_nfields(j), 18);
	cr_assert_str_eq(jsonl_key(j, 0), "seq");
	cr_assert_str_eq(jsonl_key(j, 17), "hash");
	cr_assert_null(jsonl_key(j, 18));
	cr_assert(jsonl_u64(j, "seq", &seq));
	cr_assert_eq(seq, 42);
	cr_assert_str_eq(jsonl_string(j, "kind", &len), "dns");
	cr_assert_eq(len, 3);
	cr_assert_eq(jsonl_type(j, "device"), JSONL_NULL);
	cr_assert_eq(jsonl_type(j, "name"), JSONL_NULL);
	cr_assert_null(jsonl_string(j, "name", NULL));
	cr_assert_eq(jsonl_type(j, "nope"), JSONL_ABSENT);
	cr_assert(jsonl_bool(j, "hold", &hold));
	cr_assert(hold);
	cr_assert(!jsonl_bool(j, "kind", &hold));
	cr_assert_eq(jsonl_array_len(j, "categories"), 2);
	cr_assert_str_eq(jsonl_array_string(j, "categories", 0, NULL),
	    "abuse");
	cr_assert_str_eq(jsonl_array_string(j, "categories", 1, &len),
	    "adult");
	cr_assert_null(jsonl_array_string(j, "categories", 2, NULL));
	cr_assert_eq(jsonl_array_len(j, "kind"), 0);
	cr_assert_eq(jsonl_error_offset(j), 0);
}

Test(jsonl, empty_object_and_whitespace)
{
	cr_assert_eq(parse("{}"), 0);
	cr_assert_eq(jsonl_nfields(j), 0);
	cr_assert_eq(parse(" \t{ \"a\" :\t[ ] , \"b\" : false }\r"), 0);
	cr_assert_eq(jsonl_nfields(j), 2);
	cr_assert_eq(jsonl_type(j, "a"), JSONL_ARRAY);
	cr_assert_eq(jsonl_array_len(j, "a"), 0);
	cr_assert_eq(jsonl_type(j, "b"), JSONL_FALSE);
}

Test(jsonl, reuse_replaces)
{
	cr_assert_eq(parse("{\"a\":\"1\",\"b\":[\"x\"]}"), 0);
	cr_assert_eq(parse("{\"c\":2}"), 0);
	cr_assert_eq(jsonl_nfields(j), 1);
	cr_assert_eq(jsonl_type(j, "a"), JSONL_ABSENT);
	cr_assert_eq(jsonl_array_len(j, "b"), 0);
}

Test(jsonl, escapes)
{
	size_t len;
	const char *s;

	cr_assert_eq(parse("{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"}"), 0);
	s = jsonl_string(j, "s", &len);
	cr_assert_str_eq(s, "q\" b\\ s/ \b\f\n\r\t");
	cr_assert_eq(len, strlen(s));
	/* \u00XX is how evlog writes any byte of a name: U+00E9 is é. */
	cr_assert_eq(parse("{\"s\":\"caf\\u00e9 \\u20AC\"}"), 0);
	cr_assert_str_eq(jsonl_string(j, "s", NULL), "caf\xc3\xa9 \xe2\x82\xac");
	cr_assert_eq(parse("{\"s\":\"\\u001b[31m\"}"), 0);
	cr_assert_str_eq(jsonl_string(j, "s", NULL), "\x1b[31m");
}

Test(jsonl, nul_in_value_not_in_key)
{
	size_t len;
	const char *s;

	cr_assert_eq(parse("{\"s\":\"a\\u0000b\"}"), 0);
	s = jsonl_string(j, "s", &len);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(s, "a\0b", 4), 0);
	cr_assert_eq(parse("{\"k\\u0000x\":1}"), SG_EMALFORMED);
}

Test(jsonl, surrogates)
{
	/* U+1F600 as a pair, either case of hex. */
	cr_assert_eq(parse("{\"s\":\"\\ud83d\\uDE00\"}"), 0);
	cr_assert_str_eq(jsonl_string(j, "s", NULL), "\xf0\x9f\x98\x80");
	cr_assert_eq(parse("{\"s\":\"\\udbff\\udfff\"}"), 0);
	cr_assert_str_eq(jsonl_string(j, "s", NULL), "\xf4\x8f\xbf\xbf");
	/* Lone halves, a high one followed by something else, reversed. */
	cr_assert_eq(parse("{\"s\":\"\\ud800\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\ud800x\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\udc00\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\ude00\\ud83d\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\ud83d\\u0041\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\ud83d\\ud83d\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\ud83d\\n\"}"), SG_EMALFORMED);
	/* Cut inside the pair. */
	cr_assert_eq(parse("{\"s\":\"\\ud83d\\ude"), SG_ETRUNC);
	cr_assert_eq(parse("{\"s\":\"\\ud83d"), SG_ETRUNC);
}

Test(jsonl, bad_escapes)
{
	cr_assert_eq(parse("{\"s\":\"\\x41\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\u00g1\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\U0041\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\\'\"}"), SG_EMALFORMED);
}

Test(jsonl, raw_utf8)
{
	cr_assert_eq(parse("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
	    "\"}"), 0);
	cr_assert_eq(jsonl_nfields(j), 1);
	/* Overlong forms, surrogates, past U+10FFFF, stray and missing
	   continuation bytes, bytes UTF-8 never uses. */
	cr_assert_eq(parse("{\"s\":\"\xc0\x80\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xc1\xbf\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xe0\x80\xaf\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xf0\x80\x80\xaf\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xed\xa0\x80\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xf4\x90\x80\x80\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xf5\x80\x80\x80\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\x80\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xc3\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xe2\x82\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"\xff\"}"), SG_EMALFORMED);
	/* Outside strings, any byte >= 0x80 is not JSON. */
	cr_assert_eq(parse("{\"s\":1}\xc3\xa9"), SG_EMALFORMED);
	/* Cut inside a character. */
	cr_assert_eq(parse("{\"s\":\"\xe2\x82"), SG_ETRUNC);
}

Test(jsonl, raw_controls)
{
	cr_assert_eq(parse("{\"s\":\"a\tb\"}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"s\":\"a\nb\"}"), SG_EMALFORMED);
	cr_assert_eq(jsonl_parse(j, "{\"s\":\"a\0b\"}", 11), SG_EMALFORMED);
	cr_assert_eq(jsonl_parse(j, "{\"s\":1}\0", 8), SG_EMALFORMED);
	/* DEL is not a control character to JSON. */
	cr_assert_eq(parse("{\"s\":\"\x7f\"}"), 0);
}

Test(jsonl, numbers)
{
	static const char *const good[] = { "0", "-0", "7", "-12", "1.5",
	    "0.25", "1e3", "1E+3", "2.5e-3", "18446744073709551615" };
	static const char *const bad[] = { "01", "-", "+1", "1.", ".5", "1e",
	    "1e+", "--1", "0x10", "1.2.3", "Infinity", "NaN", "-a" };
	char line[64];
	size_t i, len;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "{\"n\":%s}", good[i]);
		cr_assert_eq(parse(line), 0, "%s", good[i]);
		cr_assert_str_eq(jsonl_number(j, "n", &len), good[i]);
		cr_assert_eq(len, strlen(good[i]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "{\"n\":%s}", bad[i]);
		cr_assert_neq(parse(line), 0, "%s", bad[i]);
	}
}

Test(jsonl, u64)
{
	uint64_t v;

	cr_assert_eq(parse("{\"a\":18446744073709551615,\"b\":"
	    "18446744073709551616,\"c\":-1,\"d\":1.0,\"e\":1e3,\"f\":\"1\","
	    "\"g\":0}"), 0);
	cr_assert(jsonl_u64(j, "a", &v));
	cr_assert_eq(v, UINT64_MAX);
	cr_assert(!jsonl_u64(j, "b", &v));
	cr_assert(!jsonl_u64(j, "c", &v));
	cr_assert(!jsonl_u64(j, "d", &v));
	cr_assert(!jsonl_u64(j, "e", &v));
	cr_assert(!jsonl_u64(j, "f", &v));
	cr_assert(jsonl_u64(j, "g", &v));
	cr_assert_eq(v, 0);
}

Test(jsonl, literals)
{
	cr_assert_eq(parse("{\"t\":true,\"f\":false,\"n\":null}"), 0);
	cr_assert_eq(jsonl_type(j, "t"), JSONL_TRUE);
	cr_assert_eq(jsonl_type(j, "f"), JSONL_FALSE);
	cr_assert_eq(jsonl_type(j, "n"), JSONL_NULL);
	cr_assert_eq(parse("{\"t\":True}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"t\":nul}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"t\":truex}"), SG_EMALFORMED);
	cr_assert_eq(parse("{\"t\":undefined}"), SG_EMALFORMED);
}

Test(jsonl, malformed)
{
	static const char *const bad[] = {
		"",			/* nothing: truncated, below */
		"[]",
		"\"a\"",
		"{\"a\":1,}",
		"{,\"a\":1}",
		"{\"a\" 1}",
		"{\"a\":1 \"b\":2}",
		"{a:1}",
		"{'a':1}",
		"{\"a\":'x'}",
		"{\"a\":1}}",
		"{\"a\":1} {\"b\":2}",
		"{\"a\":1}x",
		"{\"a\":[\"x\",]}",
		"{\"a\":[,\"x\"]}",
		"{\"a\":[\"x\" \"y\"]}",
		"{\"a\":1,\"a\":2}",	/* a key twice */
		"{\"a\":1,\"b\":2,\"a\":\"x\"}",
		"{\"a\":\"\\u0061\",\"\\u0061\":1}",	/* the same, escaped */
	};
	size_t i;

	cr_assert_eq(parse(bad[0]), SG_ETRUNC);
	for (i = 1; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i]), SG_EMALFORMED, "%s", bad[i]);
		cr_assert_eq(jsonl_nfields(j), 0, "%s", bad[i]);
	}
}

Test(jsonl, unsupported)
{
	cr_assert_eq(parse("{\"a\":{}}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":{\"b\":1}}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":[1]}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":[\"x\",null]}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":[[\"x\"]]}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":[{}]}"), SG_EUNSUPP);
	cr_assert_eq(parse("{\"a\":[true]}"), SG_EUNSUPP);
}

/* Every proper prefix of a good line is a line cut short. */
Test(jsonl, every_prefix_truncated)
{
	static const char line[] =
	    "{\"seq\":7,\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\xe2\x82\xac\","
	    "\"n\":-1.5e+3,\"t\":true,\"f\":false,\"z\":null,"
	    "\"a\":[\"x\", \"y\"],\"e\":[]}";
	size_t n = strlen(line), i;

	cr_assert_eq(jsonl_parse(j, line, n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(jsonl_parse(j, line, i), SG_ETRUNC, "prefix %zu",
		    i);
		cr_assert_eq(jsonl_nfields(j), 0);
		cr_assert_leq(jsonl_error_offset(j), i);
	}
}

Test(jsonl, error_empties_and_offset)
{
	cr_assert_eq(parse("{\"a\":\"x\",\"b\":01}"), SG_EMALFORMED);
	cr_assert_eq(jsonl_nfields(j), 0);
	cr_assert_eq(jsonl_type(j, "a"), JSONL_ABSENT);
	cr_assert_null(jsonl_string(j, "a", NULL));
	cr_assert_eq(jsonl_error_offset(j), 14);	/* the "1" after "0" */
}

Test(jsonl, limit_line)
{
	char *line = malloc(JSONL_LINE_MAX + 2);
	size_t n;

	cr_assert_not_null(line);
	/* Exactly JSONL_LINE_MAX bytes: {"s":"xxx...x"} */
	n = JSONL_LINE_MAX;
	memcpy(line, "{\"s\":\"", 6);
	memset(line + 6, 'x', n - 8);
	memcpy(line + n - 2, "\"}", 2);
	cr_assert_eq(jsonl_parse(j, line, n), 0);
	cr_assert_eq(strlen(jsonl_string(j, "s", NULL)), n - 8);
	/* One more byte is too many, whatever it holds. */
	memcpy(line, "{\"s\":\"", 6);
	memset(line + 6, 'x', n - 7);
	memcpy(line + n - 1, "\"}", 2);
	cr_assert_eq(jsonl_parse(j, line, n + 1), SG_ELIMIT);
	free(line);
}

Test(jsonl, limit_fields)
{
	char line[1024];
	size_t o = 0;
	int i;

	line[o++] = '{';
	for (i = 0; i < JSONL_FIELDS_MAX; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s\"k%d\":%d",
		    i > 0 ? "," : "", i, i);
	snprintf(line + o, sizeof(line) - o, "}");
	cr_assert_eq(parse(line), 0);
	cr_assert_eq(jsonl_nfields(j), JSONL_FIELDS_MAX);
	snprintf(line + o, sizeof(line) - o, ",\"one-more\":1}");
	cr_assert_eq(parse(line), SG_ELIMIT);
	cr_assert_eq(jsonl_nfields(j), 0);
}

Test(jsonl, limit_items)
{
	char line[1024];
	size_t o = 0;
	int i;

	o += (size_t)snprintf(line, sizeof(line), "{\"a\":[");
	for (i = 0; i < JSONL_ITEMS_MAX - 1; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s\"x\"",
		    i > 0 ? "," : "");
	/* The limit is for all arrays together. */
	snprintf(line + o, sizeof(line) - o, "],\"b\":[\"y\"]}");
	cr_assert_eq(parse(line), 0);
	cr_assert_eq(jsonl_array_len(j, "a"), JSONL_ITEMS_MAX - 1);
	cr_assert_str_eq(jsonl_array_string(j, "b", 0, NULL), "y");
	snprintf(line + o, sizeof(line) - o, "],\"b\":[\"y\",\"z\"]}");
	cr_assert_eq(parse(line), SG_ELIMIT);
}

Test(jsonl, limit_key_and_number)
{
	char line[256], key[JSONL_KEY_MAX + 2], num[JSONL_NUMBER_MAX + 2];

	memset(key, 'k', JSONL_KEY_MAX);
	key[JSONL_KEY_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"%s\":1}", key);
	cr_assert_eq(parse(line), 0);
	cr_assert_eq(jsonl_type(j, key), JSONL_NUMBER);
	key[JSONL_KEY_MAX] = 'k';
	key[JSONL_KEY_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "{\"%s\":1}", key);
	cr_assert_eq(parse(line), SG_ELIMIT);

	memset(num, '9', JSONL_NUMBER_MAX);
	num[JSONL_NUMBER_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"n\":%s}", num);
	cr_assert_eq(parse(line), 0);
	num[JSONL_NUMBER_MAX] = '9';
	num[JSONL_NUMBER_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "{\"n\":%s}", num);
	cr_assert_eq(parse(line), SG_ELIMIT);
}

/* Escapes shrink, never grow: the worst case still fits the arena. */
Test(jsonl, arena_worst_case)
{
	char *line = malloc(JSONL_LINE_MAX + 1);
	size_t n = 0, len;
	int i;

	cr_assert_not_null(line);
	/* As many one-byte strings in an array as the items allow, then
	   a string of U+0000 escapes (6 bytes in, 1 out) to the end. */
	n += (size_t)snprintf(line, JSONL_LINE_MAX, "{\"a\":[");
	for (i = 0; i < JSONL_ITEMS_MAX; i++)
		n += (size_t)snprintf(line + n, JSONL_LINE_MAX - n, "%s\"\"",
		    i > 0 ? "," : "");
	n += (size_t)snprintf(line + n, JSONL_LINE_MAX - n, "],\"s\":\"");
	while (n + 6 + 2 <= JSONL_LINE_MAX) {
		memcpy(line + n, "\\u0000", 6);
		n += 6;
	}
	memcpy(line + n, "\"}", 2);
	n += 2;
	cr_assert_eq(jsonl_parse(j, line, n), 0);
	cr_assert_not_null(jsonl_string(j, "s", &len));
	cr_assert_gt(len, 2000);
	free(line);
}
