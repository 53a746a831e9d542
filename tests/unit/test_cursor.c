/* Unit tests: the cursor every parser reads through. */
#include <criterion/criterion.h>
#include <string.h>

#include "cursor.h"

Test(cursor, reads_in_network_order)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct cursor c;

	cursor_init(&c, b, sizeof(b));
	cr_assert_eq(cursor_u8(&c), 1);
	cr_assert_eq(cursor_u16(&c), 0x0203);
	cr_assert_eq(cursor_u24(&c), 0x040506);
	cr_assert_eq(cursor_u32(&c), 0x0708090a);
	cr_assert_eq(c.err, 0);
	cr_assert_eq(cursor_left(&c), 0);
}

Test(cursor, error_is_sticky)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct cursor c;
	uint8_t dst[2] = { 7, 7 };

	cursor_init(&c, b, sizeof(b));
	cr_assert_eq(cursor_u16(&c), 0xaabb);
	cr_assert_eq(cursor_u16(&c), 0, "a short read gives zero");
	cr_assert_eq(c.err, SG_ETRUNC);
	/* Every later read is a no-op that gives zero, even one that
	 * would have fitted. */
	cr_assert_eq(cursor_u8(&c), 0);
	cr_assert_null(cursor_bytes(&c, 1));
	cursor_copy(&c, dst, 1);
	cr_assert_eq(dst[0], 7, "copy leaves dst alone on error");
	cr_assert_eq(cursor_left(&c), 0);
	cursor_fail(&c, SG_EMALFORMED);
	cr_assert_eq(c.err, SG_ETRUNC, "the first error wins");
}

Test(cursor, lengths_near_overflow)
{
	static const uint8_t b[4] = { 0 };
	struct cursor c;

	cursor_init(&c, b, sizeof(b));
	cursor_skip(&c, 2);
	cr_assert_null(cursor_bytes(&c, SIZE_MAX), "no wrap-around");
	cr_assert_eq(c.err, SG_ETRUNC);
	cursor_init(&c, b, sizeof(b));
	cursor_seek(&c, 5);
	cr_assert_eq(c.err, SG_ETRUNC);
	cursor_init(&c, b, sizeof(b));
	cursor_seek(&c, 4);
	cr_assert_eq(c.err, 0);
	cr_assert_eq(cursor_left(&c), 0);
	cr_assert_eq(cursor_peek_u8(&c), 0);
	cr_assert_eq(c.err, 0, "peeking at the end is not an error");
}

Test(cursor, null_buffer_is_empty)
{
	struct cursor c;

	cursor_init(&c, NULL, 100);
	cr_assert_eq(cursor_left(&c), 0);
	cr_assert_eq(cursor_u8(&c), 0);
	cr_assert_eq(c.err, SG_ETRUNC);
}

Test(cursor, sub_cursors)
{
	static const uint8_t b[] = { 0, 3, 'a', 'b', 'c', 9 };
	struct cursor c, s;

	cursor_init(&c, b, sizeof(b));
	s = cursor_sub(&c, cursor_u16(&c));
	cr_assert_eq(s.err, 0);
	cr_assert_eq(s.len, 3);
	cr_assert_eq(cursor_u8(&s), 'a');
	cr_assert_eq(cursor_u8(&c), 9, "the parent skipped the sub-cursor");
	/* A sub-cursor longer than what is left carries the error. */
	cursor_init(&c, b, sizeof(b));
	cursor_skip(&c, 4);
	s = cursor_sub(&c, 10);
	cr_assert_eq(s.err, SG_ETRUNC);
	cr_assert_eq(cursor_left(&s), 0);
	cr_assert_eq(c.err, SG_ETRUNC);
}

Test(cursor, lines)
{
	static const char text[] = "one\r\n\ntwo\nthree";
	struct cursor c;
	const char *l;
	size_t n;

	cursor_init(&c, text, strlen(text));
	l = cursor_line(&c, &n);
	cr_assert(n == 3 && memcmp(l, "one", 3) == 0, "CRLF is stripped");
	l = cursor_line(&c, &n);
	cr_assert_eq(n, 0, "an empty line");
	l = cursor_line(&c, &n);
	cr_assert(n == 3 && memcmp(l, "two", 3) == 0);
	l = cursor_line(&c, &n);
	cr_assert(n == 5 && memcmp(l, "three", 5) == 0, "last line, no LF");
	cr_assert_null(cursor_line(&c, &n));
	cr_assert_eq(c.err, 0);
}

Test(cursor, line_with_nul_bytes)
{
	static const char text[] = { 'a', '\0', 'b', '\n', 'c' };
	struct cursor c;
	const char *l;
	size_t n;

	cursor_init(&c, text, sizeof(text));
	l = cursor_line(&c, &n);
	cr_assert_eq(n, 3, "a NUL does not end a line");
	cr_assert_eq(l[2], 'b');
}
