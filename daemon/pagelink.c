/*
 * pagelink.c - the 302 answer that sends a blocked plain-HTTP visit to the
 * block page, and the reading of its link (see pagelink.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pagelink.h"
#include "sbuf.h"

#define NOTICE_SKEW	60	/* seconds a notice may be ahead of now */

int
pagelink_init(struct pagelink *link, const struct sg_addr *v4,
    const struct sg_addr *v6, uint16_t port)
{
	size_t off = 0;
	ssize_t n;

	memset(link, 0, sizeof(*link));
	if (v4 != NULL)
		link->v4 = *v4;
	if (v6 != NULL)
		link->v6 = *v6;
	link->port = port;
	while (off < sizeof(link->key)) {
		n = getrandom(link->key + off, sizeof(link->key) - off, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* The MAC of a notice: HMAC-SHA256(key, family, address, T), cut. */
static bool
notice_mac(const struct pagelink *link, const struct sg_addr *client,
    uint64_t t, uint8_t mac[PAGELINK_MAC_LEN])
{
	uint8_t msg[1 + 16 + 8], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t alen = addr_len(client), i;

	if (alen == 0)
		return false;
	msg[0] = client->family == AF_INET ? 4 : 6;
	memcpy(msg + 1, client->u.b, alen);
	for (i = 0; i < 8; i++)
		msg[1 + alen + i] = (uint8_t)(t >> (56 - 8 * i));
	if (HMAC(EVP_sha256(), link->key, sizeof(link->key), msg, 1 + alen + 8,
	    md, &mdlen) == NULL || mdlen < PAGELINK_MAC_LEN)
		return false;
	memcpy(mac, md, PAGELINK_MAC_LEN);
	return true;
}

static bool
plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.';
}

int
pagelink_answer(const struct pagelink *link, const struct sg_addr *client,
    const char *name, size_t name_len, bool confidential, time_t now,
    char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const struct sg_addr *page;
	char astr[ADDR_STRLEN];
	uint8_t mac[PAGELINK_MAC_LEN];
	struct sbuf b;
	size_t i;

	page = client->family == AF_INET6 ? &link->v6 : &link->v4;
	if (page->family == AF_UNSPEC)
		page = page == &link->v6 ? &link->v4 : &link->v6;
	if (page->family == AF_UNSPEC)
		return -1;
	if (!confidential && (name_len == 0 || name_len > PAGELINK_NAME_MAX))
		return -1;
	if (confidential && !notice_mac(link, client, (uint64_t)now, mac))
		return -1;
	sbuf_init(&b, buf, cap);
	sbuf_str(&b, "HTTP/1.1 302 Found\r\nLocation: http://");
	addr_ntop(page, astr, sizeof(astr));
	sbuf_printf(&b, page->family == AF_INET6 ? "[%s]" : "%s", astr);
	if (link->port != 80)
		sbuf_printf(&b, ":%u", link->port);
	if (confidential) {
		sbuf_printf(&b, "/?notice=%llu.", (unsigned long long)now);
		for (i = 0; i < sizeof(mac); i++)
			sbuf_printf(&b, "%c%c", hex[mac[i] >> 4],
			    hex[mac[i] & 15]);
	} else {
		sbuf_str(&b, "/?blocked=");
		for (i = 0; i < name_len; i++) {
			unsigned char c = (unsigned char)name[i];

			if (plain(c))
				sbuf_printf(&b, "%c", c);
			else
				sbuf_printf(&b, "%%%c%c", hex[c >> 4],
				    hex[c & 15]);
		}
	}
	sbuf_str(&b, "\r\nCache-Control: no-store\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	if (b.overflow)
		return -1;
	return (int)b.len;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* blocked=VALUE: percent-decoded, lower case, only a name's bytes. */
static bool
read_name(const char *v, size_t n, char *name)
{
	size_t i, len = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = v[i];
		if (c == '%') {
			if (n - i < 3 || (hi = unhex(v[i + 1])) < 0 ||
			    (lo = unhex(v[i + 2])) < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!plain((unsigned char)c) || len == PAGELINK_NAME_MAX)
			goto bad;
		name[len++] = c;
	}
	name[len] = '\0';
	return len > 0;
bad:
	name[0] = '\0';
	return false;
}

/* notice=T.MAC: this client's, made in the last PAGELINK_NOTICE_TTL s. */
static bool
read_notice(const struct pagelink *link, const struct sg_addr *client,
    const char *v, size_t n, time_t now)
{
	uint8_t want[PAGELINK_MAC_LEN], got[PAGELINK_MAC_LEN];
	uint64_t t = 0;
	size_t i = 0, j;
	int hi, lo;

	if (link == NULL)
		return false;
	for (; i < n && i < 20 && v[i] >= '0' && v[i] <= '9'; i++)
		t = t * 10 + (uint64_t)(v[i] - '0');
	if (i == 0 || i == 20 || i == n || v[i] != '.' ||
	    n - i - 1 != 2 * PAGELINK_MAC_LEN)
		return false;
	for (j = 0; j < PAGELINK_MAC_LEN; j++) {
		if ((hi = unhex(v[i + 1 + 2 * j])) < 0 ||
		    (lo = unhex(v[i + 2 + 2 * j])) < 0)
			return false;
		got[j] = (uint8_t)(hi << 4 | lo);
	}
	if (now < 0 || t > (uint64_t)now + NOTICE_SKEW ||
	    ((uint64_t)now > t && (uint64_t)now - t > PAGELINK_NOTICE_TTL))
		return false;
	return notice_mac(link, client, t, want) &&
	    CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

enum pagelink_kind
pagelink_read(const struct pagelink *link, const struct sg_addr *client,
    const char *target, size_t target_len, time_t now, char *name)
{
	const char *q, *end = target + target_len, *amp, *eq;
	size_t klen;

	name[0] = '\0';
	if ((q = memchr(target, '?', target_len)) == NULL)
		return PAGELINK_NONE;
	/* Parameters a&b&c; the first of ours that is there decides. */
	for (q++; q < end; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		klen = (size_t)((eq != NULL ? eq : amp) - q);
		if (eq != NULL && klen == 7 && memcmp(q, "blocked", 7) == 0)
			return read_name(eq + 1, (size_t)(amp - eq - 1), name) ?
			    PAGELINK_BLOCKED : PAGELINK_BAD;
		if (eq != NULL && klen == 6 && memcmp(q, "notice", 6) == 0)
			return read_notice(link, client, eq + 1,
			    (size_t)(amp - eq - 1), now) ?
			    PAGELINK_NOTICE : PAGELINK_BAD;
		if (amp == end)
			break;
	}
	return PAGELINK_NONE;
}
