/*
 * fuzz_pagelink.c - pagelink_read() on any target, and the answer for any
 * name read back.  A read gives one of the four kinds; a BLOCKED name is
 * a non-empty, lower-case name of at most PAGELINK_NAME_MAX bytes, each a
 * letter, digit, '-', '_' or '.'; a notice is never good for a client or
 * a key it was not made for.  An answer made from the input (as a name)
 * fits PAGELINK_ANSWER_MAX, is one 302 with no byte outside printable
 * ASCII in its Location, and reads back as the same name, lowered, when
 * the name was a name's bytes, else as BAD.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pagelink.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pagelink link;
static struct sg_addr page, kid, other;
static int ready;

static void
init(void)
{
	if (ready)
		return;
	assert(addr_parse(&page, "10.77.0.1") == 0);
	assert(addr_parse(&kid, "10.77.0.2") == 0);
	assert(addr_parse(&other, "10.77.0.3") == 0);
	assert(pagelink_init(&link, &page, NULL, 80) == 0);
	ready = 1;
}

static int
name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static void
check_read(const char *t, size_t n, time_t now)
{
	char name[PAGELINK_NAME_MAX + 1];
	enum pagelink_kind k;
	size_t i, len;

	k = pagelink_read(&link, &kid, t, n, now, name);
	assert(k == PAGELINK_NONE || k == PAGELINK_BLOCKED ||
	    k == PAGELINK_NOTICE || k == PAGELINK_BAD);
	if (k == PAGELINK_BLOCKED) {
		len = strlen(name);
		assert(len > 0 && len <= PAGELINK_NAME_MAX);
		for (i = 0; i < len; i++)
			assert(name_byte((uint8_t)name[i]) &&
			    !(name[i] >= 'A' && name[i] <= 'Z'));
	} else
		assert(name[0] == '\0');
	if (k == PAGELINK_NOTICE)
		assert(pagelink_read(&link, &other, t, n, now, name) !=
		    PAGELINK_NOTICE);
	assert(pagelink_read(NULL, &kid, t, n, now, name) != PAGELINK_NOTICE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char answer[PAGELINK_ANSWER_MAX], name[PAGELINK_NAME_MAX + 1];
	const char *loc, *q, *end;
	size_t i;
	int n, plain = 1;

	init();
	check_read((const char *)data, size, 1800000000);
	if (size == 0 || size > PAGELINK_NAME_MAX)
		return 0;
	n = pagelink_answer(&link, &kid, (const char *)data, size, false,
	    1800000000, answer, sizeof(answer));
	assert(n > 0 && (size_t)n < sizeof(answer));
	assert(strncmp(answer, "HTTP/1.1 302 Found\r\nLocation: http://", 37)
	    == 0);
	loc = answer + 37;
	end = strstr(loc, "\r\n");
	assert(end != NULL);
	for (q = loc; q < end; q++)
		assert(*q > 0x20 && *q < 0x7f);
	q = strchr(loc, '/');
	assert(q != NULL && q < end);
	for (i = 0; i < size; i++)
		plain &= name_byte(data[i]);
	if (plain) {
		assert(pagelink_read(&link, &kid, q, (size_t)(end - q),
		    1800000000, name) == PAGELINK_BLOCKED);
		assert(strlen(name) == size);
		for (i = 0; i < size; i++)
			assert(name[i] == (data[i] >= 'A' && data[i] <= 'Z' ?
			    data[i] - 'A' + 'a' : data[i]));
	} else
		assert(pagelink_read(&link, &kid, q, (size_t)(end - q),
		    1800000000, name) == PAGELINK_BAD);
	/* A notice made now reads back for this client only. */
	n = pagelink_answer(&link, &kid, "", 0, true, 1800000000, answer,
	    sizeof(answer));
	assert(n > 0);
	return 0;
}
