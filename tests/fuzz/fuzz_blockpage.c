/*
 * fuzz_blockpage.c - blockpage_parse_request() on anything, then the
 * answer rendered for it.  The parser returns only SG_ETRUNC (below the
 * cap) or a documented status; what a 200 hands out lies inside the input
 * (the target) or is a clean host; a prefix of the input gives SG_ETRUNC
 * or the whole input's answer.  The answer always fits, its
 * Content-Length is its body's (none for HEAD), and strings cut from the
 * input and shown on the page (categories, device, schedule) never open
 * a tag of their own: every '<' in the body starts one of the page's own
 * tags.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockpage.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const tags[] = { "!DOCTYPE html>", "html ", "/html>",
	"head>", "/head>", "meta ", "title>", "/title>", "style>", "/style>",
	"body>", "/body>", "main>", "/main>", "h1>", "/h1>", "p>", "p ",
	"/p>", "strong>", "/strong>", "div ", "/div>", "a ", "/a>",
	"footer>", "/footer>" };

static void
check_request(const uint8_t *data, size_t size,
    const struct blockpage_request *r)
{
	size_t i;

	assert(r->status == 200 || r->status == 400 || r->status == 405 ||
	    r->status == 431 || r->status == 505);
	if (r->status != 200) {
		assert(r->target == NULL && r->target_len == 0);
		return;
	}
	assert(r->minor <= 1);
	assert(r->target != NULL && r->target_len > 0);
	assert((const uint8_t *)r->target >= data &&
	    (const uint8_t *)r->target + r->target_len <= data + size);
	for (i = 0; i < r->target_len; i++)
		assert(r->target[i] > 0x20 && r->target[i] < 0x7f);
	assert(r->has_host || r->minor == 0);
	assert(strlen(r->host) == r->host_len);
	assert(r->has_host == (r->host_len > 0));
	for (i = 0; i < r->host_len; i++)
		assert(r->host[i] > 0x20 && r->host[i] < 0x7f &&
		    r->host[i] != '<' && r->host[i] != '"' &&
		    !(r->host[i] >= 'A' && r->host[i] <= 'Z'));
}

/* Up to 32 bytes of the input as a string (a NUL ends it early). */
static void
cut(char *dst, const uint8_t *p, size_t n)
{
	if (n > 32)
		n = 32;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static void
check_answer(const struct blockpage_request *r, const char *out, size_t n)
{
	const char *body = strstr(out, "\r\n\r\n"), *cl, *p;
	size_t i, blen;

	assert(body != NULL && strncmp(out, "HTTP/1.1 ", 9) == 0);
	body += 4;
	blen = n - (size_t)(body - out);
	cl = strstr(out, "\r\nContent-Length: ");
	assert(cl != NULL && cl < body);
	if (r->head)
		assert(blen == 0);
	else
		assert(strtoul(cl + 18, NULL, 10) == blen);
	assert(strstr(out, "\r\nCache-Control: no-store") != NULL);
	for (p = body; (p = memchr(p, '<', blen - (size_t)(p - body))) !=
	    NULL; p++) {
		for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (strncmp(p + 1, tags[i], strlen(tags[i])) == 0)
				break;
		assert(i < sizeof(tags) / sizeof(tags[0]));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[BLOCKPAGE_RESPONSE_MAX];
	struct blockpage_request r, pr;
	struct blockpage_info info;
	char s1[33], s2[33];
	int rc, prc, n;

	rc = blockpage_parse_request(data, size, &r);
	assert(rc == 0 || rc == SG_ETRUNC);
	if (rc == SG_ETRUNC) {
		assert(size < BLOCKPAGE_REQUEST_MAX);
		assert(r.status == 0 && r.target == NULL);
		return 0;
	}
	check_request(data, size, &r);

	/* a prefix is incomplete, or already gives the same answer */
	prc = blockpage_parse_request(data, size / 2, &pr);
	assert(prc == SG_ETRUNC || (prc == 0 && pr.status == r.status));

	memset(&info, 0, sizeof(info));
	info.kind = size > 0 ? (enum blockpage_kind)(data[size - 1] % 6) :
	    BLOCKPAGE_NEUTRAL;
	cut(s1, data, size);
	cut(s2, size > 32 ? data + size - 32 : data, size);
	blockpage_info_add_category(&info, s1);
	blockpage_info_add_category(&info, s2);
	blockpage_info_add_category(&info, r.host);
	blockpage_info_set_device(&info, s2);
	snprintf(info.schedule, sizeof(info.schedule), "%s", s1);
	info.schedule_all = size > 1 && (data[size - 2] & 1);
	info.now = 1700000000;
	info.until = size > 2 ? info.now + (time_t)data[size - 3] * 7919 : 0;

	n = blockpage_render(&r, &info, 1700000000, out, sizeof(out));
	assert(n > 0 && (size_t)n < sizeof(out));
	check_answer(&r, out, (size_t)n);
	return 0;
}
