/*
 * pagelink.h - sending a plain-HTTP visit to the block page, and reading
 * the link back.
 *
 * With the DNS "address" mode, a blocked name already leads the browser
 * to the block page.  Otherwise a blocked plain-HTTP request is caught in
 * the packet path (pipeline.c), on the segment that completed its Host:
 * that segment is dropped, the server is reset, and the client is sent,
 * in the server's name, one segment holding a whole HTTP answer, "302
 * Found" with a Location on the block page, and FIN.  The browser follows
 * it to the page (blockpage.h), which decides again, for that client, and
 * shows the page.  An HTTPS visit cannot be answered so: nothing can be
 * said inside TLS without the site's key, so it is reset.
 *
 * The link carries what the page needs to decide, and no more:
 *
 *   http://PAGE[:PORT]/?blocked=NAME     the blocked name, percent-encoded
 *                                        (it is in the browser's address
 *                                        bar already); the page asks the
 *                                        policy again for this client and
 *                                        this name, so a link made up or
 *                                        passed to another device shows
 *                                        that device's own decision only.
 *   http://PAGE[:PORT]/?notice=T.MAC     a confidential (abuse-list) block:
 *                                        no name at all.  T is the time of
 *                                        the block (epoch seconds) and MAC
 *                                        the first PAGELINK_MAC_LEN bytes,
 *                                        in hex, of HMAC-SHA256 under a
 *                                        key drawn at start over the
 *                                        client's address and T.  The page
 *                                        shows the IWF's wording only to
 *                                        the client the link was made for,
 *                                        within PAGELINK_NOTICE_TTL
 *                                        seconds; any other visit gets the
 *                                        neutral page.
 *
 * PAGE is the block-page address of the client's family (dns.block_page),
 * else the other one; IPv6 in brackets.  The answer is never cached
 * (no-store) and closes the connection.
 *
 * Everything here but pagelink_init() is pure and thread-safe on a
 * const link: workers build answers, the page's thread reads links.
 */
#ifndef SG_PAGELINK_H
#define SG_PAGELINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

#define PAGELINK_KEY_LEN	32
#define PAGELINK_MAC_LEN	16	/* bytes of the HMAC kept: 128 bits */
#define PAGELINK_NOTICE_TTL	600	/* seconds a notice link is good */
#define PAGELINK_ANSWER_MAX	1200	/* the longest 302 answer */
#define PAGELINK_NAME_MAX	253	/* a DNS name, no trailing dot */

struct pagelink {
	struct sg_addr	 v4, v6;	/* the page's addresses; AF_UNSPEC:
					   none of that family */
	uint16_t	 port;
	uint8_t		 key[PAGELINK_KEY_LEN];
};

/*
 * Fills link with the page's addresses and port, and a fresh key from
 * getrandom().  Returns 0, or -errno when no randomness could be had (the
 * link is then unusable: the caller resets blocked visits instead).
 */
int	pagelink_init(struct pagelink *link, const struct sg_addr *v4,
	    const struct sg_addr *v6, uint16_t port);

/*
 * Writes the whole HTTP/1.1 302 answer sending client to the page for
 * name (name_len bytes, as the filter read it from the Host; ignored when
 * confidential) into buf.  now is the block's time (a notice's T).
 * Returns its length, or -1 when the link has no address, name is empty
 * or longer than PAGELINK_NAME_MAX, or cap is too small
 * (PAGELINK_ANSWER_MAX is always enough).
 */
int	pagelink_answer(const struct pagelink *link,
	    const struct sg_addr *client, const char *name, size_t name_len,
	    bool confidential, time_t now, char *buf, size_t cap);

enum pagelink_kind {
	PAGELINK_NONE,		/* no link: the Host decides */
	PAGELINK_BLOCKED,	/* ?blocked=NAME: decide for *name */
	PAGELINK_NOTICE,	/* ?notice=..., good for this client now */
	PAGELINK_BAD,		/* a link, but broken, stale or not this
				   client's: the neutral page */
};

/*
 * Reads a request's target (target_len bytes, as blockpage_parse_request()
 * gives it) for a link.  PAGELINK_BLOCKED puts the decoded name, lower
 * case, NUL-terminated, in name (at least PAGELINK_NAME_MAX + 1 bytes);
 * only letters, digits, '-', '_' and '.' are taken.  Any other kind
 * leaves name "".  link may be NULL (no notice is then good).
 */
enum pagelink_kind pagelink_read(const struct pagelink *link,
	    const struct sg_addr *client, const char *target,
	    size_t target_len, time_t now, char *name);

#endif
