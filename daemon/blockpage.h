/*
 * blockpage.h - the block page: a small HTTP server on the block-page
 * addresses (dns.block_page), for plain-HTTP visits to a blocked name and
 * for the DNS "address" mode, which sends every blocked name there.
 *
 * What it promises:
 *   - One thread and one epoll loop; non-blocking sockets listening on
 *     each address given (IPv4 and IPv6, IPv6 sockets IPv6-only), bound
 *     with IP_FREEBIND / IPV6_FREEBIND so that it starts before the
 *     address is up.  Binding happens in blockpage_start(): a port below
 *     1024 needs CAP_NET_BIND_SERVICE then, not later.
 *   - At most opts.max_conns connections at once (BLOCKPAGE_MAX_CONNS),
 *     at most opts.client_conns of them from one address (a device cannot
 *     take every slot; one over its share is closed at once).  When every
 *     slot is taken the listeners stop accepting and new connections wait
 *     in the kernel's backlog until one frees.
 *   - A request must arrive whole within opts.deadline_ms of the accept
 *     (BLOCKPAGE_DEADLINE_MS: a slow client is answered 408, or closed
 *     if it sent nothing) and within BLOCKPAGE_REQUEST_MAX bytes (431).
 *     The answer must be taken within another deadline_ms.
 *   - HTTP/1.0 and 1.1, GET and HEAD (anything else: 405), one request a
 *     connection, always "Connection: close"; after the answer the write
 *     side is shut and whatever else the client sends is read and dropped
 *     for up to opts.linger_ms, so that a client still sending is not
 *     reset before it has read the answer.
 *   - Nothing outlives the connection: no cache, no log of hosts.  The
 *     Host a client asks for is never written anywhere (it may be a name
 *     on a confidential list) and never shown on the page.
 *
 * Which page: the server asks the caller's blockpage_decide_fn, on its
 * own thread, with the client's address and the host it asked for, and
 * the callback fills a blockpage_info from that client's own decision.
 * A visit sent here from a blocked plain-HTTP request (pagelink.h) asks
 * for the page's own address, and its link names the host instead:
 * "?blocked=NAME" is decided as a request for NAME would be, and a good
 * "?notice=" is the confidential page; a link that is broken, stale or
 * made for another client gets the neutral page.
 * So the page a device sees for a name is built from that device's policy
 * only, never from another's; a name not blocked for it (the router's
 * address typed in, a DNS answer cached from before a pause ended) gets
 * the neutral page, which says nothing about any block.
 *
 * Status codes: a block is 403 Forbidden, which is honest to programs
 * (an app, a link previewer or a crawler is told the content was not
 * served, rather than handed our page as the site's content with 200),
 * and every browser renders a 403's body; the IWF's own good-practice
 * page gives "403: Access Denied" for its splash page.  The neutral page
 * is 200.  Every answer carries no-store caching headers and a CSP that
 * allows nothing but inline style and data: images; the page is
 * self-contained (inline CSS, no script, no outside asset) and its only
 * links are the help routes (CEOP, Childline, the IWF).
 *
 * Ownership: blockpage_start() copies the addresses; decide and arg must
 * stay valid until blockpage_stop() returns.  The parser and the
 * renderer are pure: they allocate nothing and keep nothing.
 */
#ifndef SG_BLOCKPAGE_H
#define SG_BLOCKPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "http.h"
#include "pagelink.h"

#define BLOCKPAGE_MAX_ADDRS	8	/* listening addresses */
#define BLOCKPAGE_MAX_CONNS	256	/* default opts.max_conns */
#define BLOCKPAGE_CLIENT_CONNS	32	/* default opts.client_conns */
#define BLOCKPAGE_DEADLINE_MS	5000	/* default opts.deadline_ms */
#define BLOCKPAGE_LINGER_MS	2000	/* default opts.linger_ms */
/* 8 KiB: request line, fields and the empty line */
#define BLOCKPAGE_REQUEST_MAX	HTTP_HEADER_MAX
#define BLOCKPAGE_RESPONSE_MAX	16384	/* any answer, with its headers */

#define BLOCKPAGE_CATEGORIES_MAX 8	/* shown at most; more are dropped */
#define BLOCKPAGE_WORD_MAX	32	/* a category's or schedule's id
					   (CONFIG_NAME_MAX) */
#define BLOCKPAGE_DEVICE_MAX	63	/* DEVICES_NAME_MAX */

/* ------------------------------------------------------------ the page */

enum blockpage_kind {
	BLOCKPAGE_NEUTRAL,	/* not blocked for this client: no details */
	BLOCKPAGE_CATEGORY,	/* categories or services block it */
	BLOCKPAGE_DENY,		/* the profile's deny list */
	BLOCKPAGE_SCHEDULE,	/* a schedule in force ("bedtime") */
	BLOCKPAGE_PAUSE,	/* the device is paused (safegatectl) */
	BLOCKPAGE_CONFIDENTIAL,	/* an abuse list: the IWF's wording only,
				   no category, no site, no device */
};

/*
 * What the callback says about one request.  The server zeroes it (kind
 * NEUTRAL) and sets `now` to the wall clock before the call.  Strings are
 * copied in (use the helpers below), so nothing points into the caller's
 * snapshot once the callback returns.
 */
struct blockpage_info {
	enum blockpage_kind kind;
	/* CATEGORY and SCHEDULE: the blocking categories' and services'
	   ids as the config names them ("adult", "anon-chat", "tiktok");
	   the page says them in plain words.  Up to the first
	   BLOCKPAGE_CATEGORIES_MAX. */
	char		 categories[BLOCKPAGE_CATEGORIES_MAX]
			    [BLOCKPAGE_WORD_MAX + 1];
	size_t		 ncategories;
	/* SCHEDULE: its name ("bedtime", "homework") and whether it blocks
	   everything (block = "all") or only the categories above */
	char		 schedule[BLOCKPAGE_WORD_MAX + 1];
	bool		 schedule_all;
	/* SCHEDULE and PAUSE: when it ends (0: not known); shown in local
	   time, with the day when that is not today */
	time_t		 until;
	time_t		 now;		/* the clock `until` is on */
	/* the device's name, if any ("" if none); not shown when
	   CONFIDENTIAL */
	char		 device[BLOCKPAGE_DEVICE_MAX + 1];
};

/* Copies id in (truncated to BLOCKPAGE_WORD_MAX); ignored once full or
 * when the same id is there already. */
void	blockpage_info_add_category(struct blockpage_info *,
	    const char *id);
/* Copies the schedule's name in and sets kind SCHEDULE. */
void	blockpage_info_set_schedule(struct blockpage_info *,
	    const char *name, bool all, time_t until);
/* Copies the device's name in (truncated). */
void	blockpage_info_set_device(struct blockpage_info *,
	    const char *name);

/*
 * The callback: host is the host the request asked for, normalised (lower
 * case, no port, no brackets, no trailing dot; http.h), or "" when the
 * request named none (HTTP/1.0).  It runs on the block page's thread,
 * once per page served, and must be thread-safe towards the rest of the
 * daemon (a snapshot reader slot of its own, for instance).  Leaving out
 * untouched serves the neutral page.
 */
typedef void blockpage_decide_fn(void *arg, const struct sg_addr *client,
	    const char *host, struct blockpage_info *out);

/* ------------------------------------------------------- the parser */

struct blockpage_request {
	int		 status;	/* 200: serve the page; else the
					   error to answer (400, 405, 431,
					   505) */
	bool		 head;		/* HEAD: headers only */
	uint8_t		 minor;		/* HTTP/1.minor */
	bool		 has_host;
	char		 host[HTTP_HOST_MAX + 1];	/* copied, as
					   http_request_host() gives it;
					   "" without has_host */
	size_t		 host_len;
	const char	*target;	/* points into the caller's bytes,
					   not NUL-terminated; NULL unless
					   status is 200 */
	size_t		 target_len;
};

/*
 * Reads the request at the start of buf (len bytes, from the first byte
 * of the connection).  Returns SG_ETRUNC while the header block is not
 * complete and may still be (len < BLOCKPAGE_REQUEST_MAX), else 0 with
 * out->status saying what to answer:
 *   431  the header block would be longer than BLOCKPAGE_REQUEST_MAX;
 *   400  not an HTTP/1.x request line, or a broken one (http.h: bare CR
 *        or LF, obs-fold, a second Host, a bad host), or HTTP/1.1
 *        without a Host;
 *   505  HTTP/1.2 to 1.9;
 *   405  a method other than GET and HEAD (methods are case-sensitive);
 *   200  a GET or HEAD to serve.
 * The header grammar is http_request_host()'s, the one the filter reads
 * requests with.  Pure: the same bytes give the same answer.
 */
int	blockpage_parse_request(const uint8_t *buf, size_t len,
	    struct blockpage_request *out) SG_WUR;

/*
 * Writes the whole answer to a parsed request into buf (cap bytes; at
 * least BLOCKPAGE_RESPONSE_MAX is always enough): status line, headers,
 * and the body unless the request is HEAD (whose Content-Length is the
 * GET body's).  info (may be NULL: neutral) is used only when
 * req->status is 200; date is the Date header's time.  Errors get a short
 * text/plain body; a 200 request for /favicon.ico gets 404 (a browser
 * asks for it with every page).  Returns the length, or SG_ELIMIT if cap
 * is too small.
 */
int	blockpage_render(const struct blockpage_request *req,
	    const struct blockpage_info *info, time_t date, char *buf,
	    size_t cap) SG_WUR;

/* The HTTP status blockpage_render() answers with (200, 403, 404, ...). */
int	blockpage_status(const struct blockpage_request *req,
	    const struct blockpage_info *info);

/* ------------------------------------------------------- the server */

struct blockpage;

/* Knobs, for tests above all: a zero field takes the default. */
struct blockpage_opts {
	unsigned	 max_conns;	/* BLOCKPAGE_MAX_CONNS */
	unsigned	 client_conns;	/* BLOCKPAGE_CLIENT_CONNS */
	unsigned	 deadline_ms;	/* BLOCKPAGE_DEADLINE_MS */
	unsigned	 linger_ms;	/* BLOCKPAGE_LINGER_MS */
	/* the links plain-HTTP visits are sent with (pagelink.h); NULL:
	   none is read.  Must outlive the server. */
	const struct pagelink *link;
	time_t		 clock_offset;	/* seconds added to the clock the
					   links are read on (safegated -T) */
	/* NULL, or called first on the server's own thread, before it
	   reads a byte: safegated lets the capability that bound its
	   ports go there (priv_shed()). */
	void		(*on_thread)(void);
};

/*
 * Listens on port of every address (1..BLOCKPAGE_MAX_ADDRS, AF_INET or
 * AF_INET6; port 0 takes an ephemeral port per address, for tests) and
 * starts the thread.  Returns NULL and sets errno, with a message naming
 * the address in err (errlen bytes), when an address cannot be bound
 * (EADDRINUSE: something else has the port, a web interface on the
 * wildcard address for instance; EACCES: port < 1024 without
 * CAP_NET_BIND_SERVICE), or a thread or memory cannot be had.
 */
struct blockpage *blockpage_start(const struct sg_addr *addrs, size_t naddrs,
	    uint16_t port, blockpage_decide_fn *decide, void *arg, char *err,
	    size_t errlen);
struct blockpage *blockpage_start_opts(const struct sg_addr *addrs,
	    size_t naddrs, uint16_t port, const struct blockpage_opts *opts,
	    blockpage_decide_fn *decide, void *arg, char *err, size_t errlen);

/* Stops and joins the thread, closes every socket, frees everything.
 * NULL is a no-op. */
void	blockpage_stop(struct blockpage *);

/* The port the i-th address listens on (the ephemeral one with port 0). */
uint16_t blockpage_port(const struct blockpage *, size_t i);

/* Counters since start, for stats; safe from any thread. */
struct blockpage_stats {
	uint64_t	accepted;	/* connections taken */
	uint64_t	refused;	/* closed at once: over a client's
					   share */
	uint64_t	blocked;	/* block pages served (403) */
	uint64_t	neutral;	/* neutral pages served (200) */
	uint64_t	errors;		/* 400, 404, 405, 431, 505 sent */
	uint64_t	timeouts;	/* past the deadline (408 or closed) */
	uint64_t	active;		/* connections open now */
};

void	blockpage_get_stats(const struct blockpage *,
	    struct blockpage_stats *);

#endif
