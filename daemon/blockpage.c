/*
 * blockpage.c - the block page's parser, renderer and server (see
 * blockpage.h for the contract).
 *
 * The server is one thread around one epoll set.  Every connection lives
 * in a fixed slot and goes through three states, each with a deadline on
 * CLOCK_MONOTONIC:
 *
 *   accept --> READ ------------> WRITE ------------> LINGER --> close
 *              request whole:     answer sent:        EOF, error or
 *              render the answer  shutdown(SHUT_WR)   linger_ms
 *              |                  |
 *              deadline: 408      deadline or error: close
 *              (nothing read:
 *              close)
 *
 * The request is read into the slot's buffer (BLOCKPAGE_REQUEST_MAX), and
 * parsed again after each read: http_request_host() answers the same for
 * any split of the stream, so re-reading from the first byte is cheap and
 * exact.  The answer is rendered into the thread's scratch buffer and
 * copied into the slot, so a client that reads slowly holds its own
 * bytes only.  Slots are found through a stack of free indices; the few
 * scans (deadlines, a client's connections) cover at most max_conns slots
 * and run once a wake-up.
 *
 * Epoll events carry a tag and an index.  An event may be stale (its slot
 * closed and reused in the same batch): every handler acts on what
 * recv() and send() return, never on the event's flags alone, so a stale
 * event costs one EAGAIN.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "blockpage.h"
#include "schedule.h"
#include "cursor.h"
#include "log.h"
#include "sbuf.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND	78	/* Linux 4.15; before: IP_FREEBIND */
#endif

#define BODY_MAX	12288	/* the longest page is about 4 KiB */
#define BACKLOG		128
#define MAX_EVENTS	64
#define ACCEPT_RETRY_MS	100	/* after EMFILE and the like */
#define LINGER_READS	16	/* reads per wake-up while lingering */

/* ======================================================== the parser */

int
blockpage_parse_request(const uint8_t *buf, size_t len,
    struct blockpage_request *out)
{
	struct http_request hr;
	struct cursor c;
	const uint8_t *t;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = http_request_host(buf, len, &hr);
	if (rc == SG_ETRUNC && len < BLOCKPAGE_REQUEST_MAX)
		return SG_ETRUNC;
	if (rc == SG_ETRUNC || rc == SG_ELIMIT) {
		out->status = 431;
		return 0;
	}
	if (rc != 0) {
		out->status = 400;	/* SG_EUNSUPP, SG_EMALFORMED */
		return 0;
	}
	out->minor = hr.minor;
	if (hr.minor > 1) {
		out->status = 505;
		return 0;
	}
	if (hr.minor == 1 && !hr.has_host) {
		out->status = 400;	/* RFC 9112 §3.2 */
		return 0;
	}
	if (strcmp(hr.method, "HEAD") == 0)
		out->head = true;
	else if (strcmp(hr.method, "GET") != 0) {
		out->status = 405;
		return 0;
	}

	/* The target: http_request_host() checked the request line, so it
	 * is there, between the method's SP and the next. */
	cursor_init(&c, buf, len);
	cursor_skip(&c, strlen(hr.method) + 1);
	t = cursor_here(&c);
	while (cursor_left(&c) > 0 && cursor_u8(&c) != ' ')
		n++;
	if (c.err != 0 || n == 0) {
		out->status = 400;	/* unreachable */
		return 0;
	}
	out->target = (const char *)t;
	out->target_len = n;
	out->has_host = hr.has_host;
	memcpy(out->host, hr.host, hr.host_len + 1);
	out->host_len = hr.host_len;
	out->status = 200;
	return 0;
}

/* ======================================================== the page */

void
blockpage_info_add_category(struct blockpage_info *info, const char *id)
{
	size_t i;

	if (id == NULL || *id == '\0' ||
	    info->ncategories == BLOCKPAGE_CATEGORIES_MAX)
		return;
	for (i = 0; i < info->ncategories; i++)
		if (strncmp(info->categories[i], id, BLOCKPAGE_WORD_MAX) == 0)
			return;
	snprintf(info->categories[info->ncategories++],
	    sizeof(info->categories[0]), "%s", id);
}

void
blockpage_info_set_schedule(struct blockpage_info *info, const char *name,
    bool all, time_t until)
{
	info->kind = BLOCKPAGE_SCHEDULE;
	snprintf(info->schedule, sizeof(info->schedule), "%s",
	    name != NULL ? name : "");
	info->schedule_all = all;
	info->until = until;
}

void
blockpage_info_set_device(struct blockpage_info *info, const char *name)
{
	snprintf(info->device, sizeof(info->device), "%s",
	    name != NULL ? name : "");
}

/*
 * Category and service ids in words a child understands.  The ids are
 * the shipped config's and the usual ones of public lists; another id is
 * shown as itself, with '-' and '_' as spaces.
 */
static const struct {
	const char	*id;
	const char	*words;
} words[] = {
	{ "adult",	"adult content" },
	{ "porn",	"adult content" },
	{ "gambling",	"gambling" },
	{ "anon-chat",	"chat with strangers" },
	{ "vpn-proxy",	"tools that get round the filter" },
	{ "doh",	"tools that get round the filter" },
	{ "bypass",	"tools that get round the filter" },
	{ "proxy",	"tools that get round the filter" },
	{ "dating",	"dating sites" },
	{ "drugs",	"drugs" },
	{ "games",	"games" },
	{ "gaming",	"games" },
	{ "social",	"social media" },
	{ "social-media", "social media" },
	{ "messaging",	"messaging apps" },
	{ "streaming",	"video streaming" },
	{ "violence",	"violent content" },
	{ "weapons",	"weapons" },
	{ "hate",	"hateful content" },
	{ "self-harm",	"content about self-harm" },
	{ "malware",	"sites that could harm your device" },
	{ "phishing",	"sites that try to trick you" },
	{ "scam",	"sites that try to trick you" },
	{ "ads",	"adverts" },
	{ "shopping",	"shopping" },
	/* the services (config_services) by their own names */
	{ "discord",	"Discord" },
	{ "fortnite",	"Fortnite" },
	{ "instagram",	"Instagram" },
	{ "minecraft",	"Minecraft" },
	{ "roblox",	"Roblox" },
	{ "snapchat",	"Snapchat" },
	{ "telegram",	"Telegram" },
	{ "tiktok",	"TikTok" },
	{ "twitch",	"Twitch" },
	{ "whatsapp",	"WhatsApp" },
	{ "youtube",	"YouTube" },
};

/* Text as HTML: the five special characters as entities, controls as
 * '?'.  Everything shown that did not come from this file goes through
 * here. */
static void
html(struct sbuf *b, const char *s)
{
	const char *e;
	char ch;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default:
			ch = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
			sbuf_bytes(b, &ch, 1);
			continue;
		}
		sbuf_str(b, e);
	}
}

/* An id's words, escaped; '-' and '_' as spaces for an unknown id. */
static void
id_words(struct sbuf *b, const char *id, char *tmp, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].id, id) == 0) {
			sbuf_str(b, words[i].words);
			return;
		}
	snprintf(tmp, len, "%s", id);
	for (i = 0; tmp[i] != '\0'; i++)
		if (tmp[i] == '-' || tmp[i] == '_')
			tmp[i] = ' ';
	html(b, tmp);
}

/* "a", "a and b", "a, b and c", each in <strong>, the same words once. */
static void
category_list(struct sbuf *b, const struct blockpage_info *info)
{
	char items[BLOCKPAGE_CATEGORIES_MAX][128], tmp[BLOCKPAGE_WORD_MAX + 1];
	struct sbuf w;
	size_t i, j, n = 0;

	for (i = 0; i < info->ncategories; i++) {
		sbuf_init(&w, items[n], sizeof(items[n]));
		id_words(&w, info->categories[i], tmp, sizeof(tmp));
		for (j = 0; j < n; j++)
			if (strcmp(items[j], items[n]) == 0)
				break;
		if (j == n && !w.overflow)
			n++;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_str(b, i + 1 == n ? " and " : ", ");
		sbuf_printf(b, "<strong>%s</strong>", items[i]);
	}
}


/*
 * " until 7:00am", " until midnight", " until 7:00am tomorrow", " until
 * 7:00am on Monday", " until 7:00am on Monday 3 March"; " for now" when
 * the end is not known.  Local time.  Midnight belongs to the day it
 * ends, so a bedtime to 00:00 is "until midnight", not "tomorrow".
 */
static void
until_words(struct sbuf *b, time_t until, time_t now)
{
	static const char *const days[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	static const char *const months[] = { "January", "February",
	    "March", "April", "May", "June", "July", "August", "September",
	    "October", "November", "December" };
	struct tm t, day, today;
	time_t d = until;
	long diff;
	int h;

	if (until == 0 || localtime_r(&until, &t) == NULL ||
	    localtime_r(&now, &today) == NULL) {
		sbuf_str(b, " for now");
		return;
	}
	if (t.tm_hour == 0 && t.tm_min == 0)
		d = until - 1;
	if (localtime_r(&d, &day) == NULL) {
		sbuf_str(b, " for now");
		return;
	}
	if (t.tm_hour == 0 && t.tm_min == 0)
		sbuf_str(b, " until midnight");
	else if (t.tm_hour == 12 && t.tm_min == 0)
		sbuf_str(b, " until midday");
	else {
		h = t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12;
		sbuf_printf(b, " until %d:%02d%s", h, t.tm_min,
		    t.tm_hour < 12 ? "am" : "pm");
	}
	diff = schedule_civil_days(day.tm_year + 1900L, (unsigned)day.tm_mon + 1,
	    (unsigned)day.tm_mday) - schedule_civil_days(today.tm_year + 1900L,
	    (unsigned)today.tm_mon + 1, (unsigned)today.tm_mday);
	if (diff == 1)
		sbuf_str(b, " tomorrow");
	else if (diff > 1 && diff < 7)
		sbuf_printf(b, " on %s", days[day.tm_wday % 7]);
	else if (diff != 0)
		sbuf_printf(b, " on %s %d %s", days[day.tm_wday % 7],
		    day.tm_mday, months[day.tm_mon % 12]);
}

/* "It's bedtime", "It's homework time". */
static void
schedule_words(struct sbuf *b, const char *name)
{
	char tmp[BLOCKPAGE_WORD_MAX + 1];
	size_t i, n;

	snprintf(tmp, sizeof(tmp), "%s", name);
	for (i = 0; tmp[i] != '\0'; i++)
		if (tmp[i] == '-' || tmp[i] == '_')
			tmp[i] = ' ';
	n = strlen(tmp);
	sbuf_str(b, "It&#39;s ");
	if (n == 0) {
		sbuf_str(b, "a quiet time");
		return;
	}
	html(b, tmp);
	if (n < 4 || strcmp(tmp + n - 4, "time") != 0)
		sbuf_str(b, " time");
}

static const char style[] =
    ":root{color-scheme:light dark}"
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\","
    "Roboto,Helvetica,Arial,sans-serif;font-size:1.125rem;"
    "line-height:1.5;background:#f4f6fb;color:#1b1f29}"
    "main{max-width:34rem;margin:0 auto;padding:1.5rem 1.25rem 2rem}"
    "h1{font-size:1.75rem;line-height:1.2;margin:.5rem 0 1rem;"
    "color:#17325c}"
    ".why{font-size:1.25rem}"
    ".help{margin-top:1.5rem;padding:.25rem 1.25rem 1rem;"
    "border-radius:.75rem;background:#fff;border:2px solid #d5dcea}"
    "a{color:#0b5cad}"
    ".button{display:inline-block;margin:.25rem 0;padding:.75rem 1.25rem;"
    "border-radius:.6rem;background:#0b5cad;color:#fff;font-weight:700;"
    "text-decoration:none}"
    ".button:hover,.button:focus{background:#08457f;color:#fff}"
    "footer{margin-top:1.5rem;font-size:.875rem;color:#5a6275}"
    "@media (prefers-color-scheme:dark){body{background:#111722;"
    "color:#e8ecf4}h1{color:#cfe0ff}.help{background:#1a2231;"
    "border-color:#2c3a52}a{color:#8cb8ff}.button{background:#1f6fc4}"
    "footer{color:#a0a8b8}}";

static void
page_head(struct sbuf *b, const char *title)
{
	sbuf_str(b, "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
	sbuf_str(b, title);
	sbuf_str(b, "</title>\n<style>");
	sbuf_str(b, style);
	sbuf_str(b, "</style>\n</head>\n<body>\n<main>\n");
}

/*
 * The help every page ends with: an adult, Childline, CEOP.  Its links
 * are help routes (policy_help_routes), which no block stops.
 */
static void
page_help(struct sbuf *b)
{
	sbuf_str(b, "<div class=\"help\">\n"
	    "<p><strong>If something online has worried or upset you, talk "
	    "to an adult you trust.</strong></p>\n"
	    "<p>You can talk to Childline, free and in private, on "
	    "<a href=\"tel:08001111\">0800 1111</a> or at "
	    "<a href=\"https://www.childline.org.uk/\">childline.org.uk</a>"
	    "</p>\n"
	    "<p>If someone online is making you feel unsafe, or has asked you "
	    "to do something you don&#39;t want to do, you can report it to "
	    "CEOP, who work with the police to keep children safe.</p>\n"
	    "<p><a class=\"button\" "
	    "href=\"https://www.ceop.police.uk/Safety-Centre/\">"
	    "Report to CEOP</a></p>\n</div>\n");
}

static void
page_tail(struct sbuf *b, const char *device)
{
	sbuf_str(b, "<footer>safegate, the filter on your home network");
	if (device != NULL && *device != '\0') {
		sbuf_str(b, " &middot; this device: ");
		html(b, device);
	}
	sbuf_str(b, "</footer>\n</main>\n</body>\n</html>\n");
}

/*
 * The abuse-list page.  Its first paragraph is the IWF's "agreed standard
 * text" for URL List splash pages, as the IWF gives it on "URL Blocking:
 * Good Practice"
 * (https://www.iwf.org.uk/our-technology/our-services/url-list/
 * url-blocking-good-practice/), checked word for word.  Of its second
 * paragraph only the opening "Deliberate attempts to acc..." could be
 * read there; the rest of that sentence is written from memory of the
 * IWF's wording and is NOT verified.  The "blocked in error" sentence is
 * from the IWF's earlier version of the same page ("Blocking Good
 * Practice", internetwatch.org.uk/services/blocking/blocking-good-practice,
 * which also gives the status, "403: Access Denied"), with its
 * "<your service provider>" filled in for a home network.  The page names
 * no site, no category and no device.
 */
static void
page_confidential(struct sbuf *b)
{
	page_head(b, "Access denied");
	sbuf_str(b, "<h1>Access denied</h1>\n"
	    "<p class=\"why\">Access has been denied by your internet access "
	    "provider because this page may contain indecent images of "
	    "children as identified by the Internet Watch Foundation.</p>\n"
	    "<p>Deliberate attempts to access this or related material may "
	    "result in you committing a criminal offence.</p>\n"
	    "<p>If you think this page has been blocked in error please "
	    "contact the person who looks after this internet connection."
	    "</p>\n"
	    "<p>You can report child sexual abuse images and videos to the "
	    "Internet Watch Foundation, and you don&#39;t have to give your "
	    "name.</p>\n"
	    "<p><a class=\"button\" href=\"https://report.iwf.org.uk/\">"
	    "Report to the IWF</a></p>\n");
	page_help(b);
	page_tail(b, NULL);
}

static void
page_neutral(struct sbuf *b)
{
	page_head(b, "safegate");
	sbuf_str(b, "<h1>This is the safegate filter on your home network"
	    "</h1>\n"
	    "<p class=\"why\">There is nothing to see here.  If you were "
	    "trying to open a website, try again in a minute.</p>\n");
	page_help(b);
	page_tail(b, NULL);
}

static void
page_blocked(struct sbuf *b, const struct blockpage_info *info)
{
	page_head(b, "This page is blocked");
	sbuf_str(b, "<h1>This page is blocked</h1>\n<p class=\"why\">");
	switch (info->kind) {
	case BLOCKPAGE_SCHEDULE:
		schedule_words(b, info->schedule);
		if (info->schedule_all || info->ncategories == 0)
			sbuf_str(b, ": the internet is paused");
		else {
			sbuf_str(b, ": pages on the list for ");
			category_list(b, info);
			sbuf_str(b, " are blocked");
		}
		until_words(b, info->until, info->now);
		sbuf_str(b, ".");
		break;
	case BLOCKPAGE_PAUSE:
		sbuf_str(b, "The internet is paused on this device");
		until_words(b, info->until, info->now);
		sbuf_str(b, ".");
		break;
	case BLOCKPAGE_DENY:
		sbuf_str(b, "The adults who look after your home&#39;s "
		    "internet have chosen to block this page.");
		break;
	default:
		if (info->ncategories == 0) {
			sbuf_str(b, "The filter on your home&#39;s internet "
			    "stopped this page.");
			break;
		}
		sbuf_str(b, "This page is on the list for ");
		category_list(b, info);
		sbuf_str(b, ", so the filter on your home&#39;s internet "
		    "stopped it.");
		break;
	}
	sbuf_str(b, "</p>\n");
	page_help(b);
	page_tail(b, info->device);
}

/* ======================================================== the answer */

static bool
is_favicon(const struct blockpage_request *req)
{
	static const char f[] = "/favicon.ico";
	size_t n = sizeof(f) - 1;

	return req->target != NULL && req->target_len >= n &&
	    memcmp(req->target + req->target_len - n, f, n) == 0;
}

int
blockpage_status(const struct blockpage_request *req,
    const struct blockpage_info *info)
{
	if (req->status != 200)
		return req->status;
	if (is_favicon(req))
		return 404;
	if (info == NULL || info->kind == BLOCKPAGE_NEUTRAL)
		return 200;
	return 403;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* IMF-fixdate, by hand: strftime's names follow the locale. */
static void
http_date(struct sbuf *b, time_t date)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm t;

	if (gmtime_r(&date, &t) == NULL)
		return;
	sbuf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
	    days[t.tm_wday % 7], t.tm_mday, months[t.tm_mon % 12],
	    t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
}

int
blockpage_render(const struct blockpage_request *req,
    const struct blockpage_info *info, time_t date, char *buf, size_t cap)
{
	static const struct blockpage_info neutral;
	char body[BODY_MAX];
	struct sbuf b, h;
	int status = blockpage_status(req, info);
	bool page = status == 200 || status == 403;

	if (info == NULL)
		info = &neutral;
	sbuf_init(&b, body, sizeof(body));
	if (status == 200)
		page_neutral(&b);
	else if (status == 403 && info->kind == BLOCKPAGE_CONFIDENTIAL)
		page_confidential(&b);
	else if (status == 403)
		page_blocked(&b, info);
	else
		sbuf_printf(&b, "%d %s\n", status, reason(status));
	if (b.overflow)
		return SG_ELIMIT;	/* unreachable: BODY_MAX holds any */

	sbuf_init(&h, buf, cap);
	sbuf_printf(&h, "HTTP/1.1 %d %s\r\n", status, reason(status));
	http_date(&h, date);
	sbuf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n",
	    page ? "text/html; charset=utf-8" : "text/plain; charset=utf-8",
	    b.len);
	sbuf_str(&h, "Cache-Control: no-store, no-cache, must-revalidate, "
	    "max-age=0\r\n"
	    "Pragma: no-cache\r\n"
	    "Expires: 0\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
	    "form-action 'none'; frame-ancestors 'none'\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: no-referrer\r\n");
	if (status == 405)
		sbuf_str(&h, "Allow: GET, HEAD\r\n");
	sbuf_str(&h, "Connection: close\r\n\r\n");
	if (!req->head)
		sbuf_bytes(&h, body, b.len);
	if (h.overflow)
		return SG_ELIMIT;
	return (int)h.len;
}

/* ======================================================== the server */

enum bp_state { BP_FREE, BP_READ, BP_WRITE, BP_LINGER };

struct bp_conn {
	int		 fd;
	enum bp_state	 state;
	struct sg_addr	 client;
	uint64_t	 deadline;	/* CLOCK_MONOTONIC, ms */
	size_t		 len;		/* READ: bytes read; WRITE: all */
	size_t		 off;		/* WRITE: bytes sent */
	char		*buf;		/* BLOCKPAGE_RESPONSE_MAX; READ and
					   WRITE only */
};

enum { TAG_WAKE, TAG_LISTEN, TAG_CONN };

struct blockpage {
	pthread_t		 thread;
	int			 epfd;
	int			 wakefd;	/* eventfd: stop */
	atomic_int		 stopping;
	int			 lfd[BLOCKPAGE_MAX_ADDRS];
	uint16_t		 lport[BLOCKPAGE_MAX_ADDRS];
	size_t			 nl;
	bool			 accepting;
	uint64_t		 accept_retry;	/* ms; 0: none pending */
	struct blockpage_opts	 o;
	blockpage_decide_fn	*decide;
	void			*arg;
	struct bp_conn		*conns;		/* o.max_conns */
	unsigned		*free_idx;	/* stack of free slots */
	unsigned		 nfree;
	char			 scratch[BLOCKPAGE_RESPONSE_MAX];
	_Atomic uint64_t	 c_accepted, c_refused, c_blocked, c_neutral,
				 c_errors, c_timeouts, c_active;
};

static struct log_limit bp_limit = LOG_LIMIT_INIT;
/* A client over its share, and the server full: each said at most once a
 * minute, with how many since the last time. */
static struct log_limit bp_share_limit = LOG_LIMIT_INIT;
static struct log_limit bp_full_limit = LOG_LIMIT_INIT;

static void
count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
ep_set(struct blockpage *bp, int op, int fd, uint32_t events, int tag,
    unsigned idx)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)tag << 32 | idx;
	return epoll_ctl(bp->epfd, op, fd, &ev) == -1 ? -errno : 0;
}

static void
listeners(struct blockpage *bp, bool on)
{
	size_t i;

	if (bp->accepting == on)
		return;
	for (i = 0; i < bp->nl; i++)
		if (ep_set(bp, EPOLL_CTL_MOD, bp->lfd[i], on ? EPOLLIN : 0,
		    TAG_LISTEN, (unsigned)i) < 0)
			log_warn("block page: epoll");
	bp->accepting = on;
}

static void
conn_close(struct blockpage *bp, struct bp_conn *c)
{
	close(c->fd);		/* leaves the epoll set with it */
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
	c->state = BP_FREE;
	bp->free_idx[bp->nfree++] = (unsigned)(c - bp->conns);
	atomic_fetch_sub_explicit(&bp->c_active, 1, memory_order_relaxed);
	if (!bp->accepting && bp->accept_retry == 0)
		listeners(bp, true);
}

/* Sends what is left; on the last byte, shuts the write side and
 * lingers. */
static void
conn_write(struct blockpage *bp, struct bp_conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(c->fd, c->buf + c->off, c->len - c->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ep_set(bp, EPOLL_CTL_MOD, c->fd, EPOLLOUT,
			    TAG_CONN, (unsigned)(c - bp->conns)) < 0)
				conn_close(bp, c);
			return;
		}
		conn_close(bp, c);	/* reset, or gone */
		return;
	}
	free(c->buf);
	c->buf = NULL;
	if (shutdown(c->fd, SHUT_WR) == -1 ||
	    ep_set(bp, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, TAG_CONN,
	    (unsigned)(c - bp->conns)) < 0) {
		conn_close(bp, c);
		return;
	}
	c->state = BP_LINGER;
	c->deadline = now_ms() + bp->o.linger_ms;
}

/* A host that is an address: the page's own, typed in or linked to. */
static bool
host_is_address(const char *host)
{
	struct sg_addr a;

	return host[0] == '\0' || addr_parse(&a, host) == 0;
}

/* Whose decision the page shows: the Host's, or a link's (pagelink.h). */
static void
page_decide(struct blockpage *bp, const struct bp_conn *c,
    const struct blockpage_request *req, struct blockpage_info *info)
{
	char name[PAGELINK_NAME_MAX + 1];

	info->now = time(NULL);
	if (!host_is_address(req->host)) {
		bp->decide(bp->arg, &c->client, req->host, info);
		return;
	}
	switch (pagelink_read(bp->o.link, &c->client, req->target,
	    req->target_len, info->now + bp->o.clock_offset, name)) {
	case PAGELINK_NONE:
		bp->decide(bp->arg, &c->client, req->host, info);
		break;
	case PAGELINK_BLOCKED:
		bp->decide(bp->arg, &c->client, name, info);
		break;
	case PAGELINK_NOTICE:
		info->kind = BLOCKPAGE_CONFIDENTIAL;
		break;
	case PAGELINK_BAD:
		break;	/* neutral */
	}
}

/* Decides (for a page), renders and starts sending the answer. */
static void
conn_answer(struct blockpage *bp, struct bp_conn *c,
    const struct blockpage_request *req)
{
	struct blockpage_info info;
	char client[ADDR_STRLEN];
	int n, status;

	memset(&info, 0, sizeof(info));
	if (req->status == 200 && !is_favicon(req))
		page_decide(bp, c, req, &info);
	status = blockpage_status(req, &info);
	n = blockpage_render(req, &info, time(NULL), bp->scratch,
	    sizeof(bp->scratch));
	if (n < 0) {
		conn_close(bp, c);	/* unreachable: scratch holds any */
		return;
	}
	if (status == 403)
		count(&bp->c_blocked);
	else if (status == 200)
		count(&bp->c_neutral);
	else if (status != 408)
		count(&bp->c_errors);
	/* Never the host: it may be a confidential name. */
	if (status != 200 && status != 403 && log_debug_enabled() &&
	    log_ratelimited(&bp_limit, 2, 10, NULL))
		log_debug("block page: %s: %d %s",
		    addr_ntop(&c->client, client, sizeof(client)), status,
		    reason(status));
	memcpy(c->buf, bp->scratch, (size_t)n);
	c->len = (size_t)n;
	c->off = 0;
	c->state = BP_WRITE;
	c->deadline = now_ms() + bp->o.deadline_ms;
	conn_write(bp, c);
}

static void
conn_read(struct blockpage *bp, struct bp_conn *c)
{
	struct blockpage_request req;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->buf + c->len, BLOCKPAGE_REQUEST_MAX - c->len,
		    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(bp, c);	/* gone before asking whole */
			return;
		}
		c->len += (size_t)n;
		if (blockpage_parse_request((const uint8_t *)c->buf, c->len,
		    &req) == SG_ETRUNC)
			continue;
		/* req.target points into c->buf, which conn_answer()
		 * overwrites only after rendering into the scratch. */
		conn_answer(bp, c, &req);
		return;
	}
}

static void
conn_linger(struct blockpage *bp, struct bp_conn *c)
{
	char sink[4096];
	ssize_t n;
	int i;

	for (i = 0; i < LINGER_READS; i++) {
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;
	}
	if (i < LINGER_READS)
		conn_close(bp, c);	/* EOF or error: done */
}

static void
conn_event(struct blockpage *bp, unsigned idx)
{
	struct bp_conn *c;

	if (idx >= bp->o.max_conns)
		return;
	c = &bp->conns[idx];
	switch (c->state) {
	case BP_READ:
		conn_read(bp, c);
		break;
	case BP_WRITE:
		conn_write(bp, c);
		break;
	case BP_LINGER:
		conn_linger(bp, c);
		break;
	case BP_FREE:
		break;
	}
}

static void
sockaddr_to_addr(const struct sockaddr_storage *ss, struct sg_addr *a)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
		addr_set(a, AF_INET,
		    &((const struct sockaddr_in *)ss)->sin_addr);
	else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		addr_set(a, AF_INET, &s6->sin6_addr.s6_addr[12]);
	else if (ss->ss_family == AF_INET6)
		addr_set(a, AF_INET6, &s6->sin6_addr);
}

static unsigned
client_conns(const struct blockpage *bp, const struct sg_addr *a)
{
	unsigned i, n = 0;

	for (i = 0; i < bp->o.max_conns; i++)
		if (bp->conns[i].state != BP_FREE &&
		    addr_equal(&bp->conns[i].client, a))
			n++;
	return n;
}

static void
accept_all(struct blockpage *bp, size_t li)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sg_addr a;
	struct bp_conn *c;
	int fd;

	for (;;) {
		if (bp->nfree == 0) {
			uint64_t held;

			if (log_ratelimited(&bp_full_limit, 1.0 / 60, 1,
			    &held))
				log_warnx("block page: %u connections open, "
				    "the most it serves: new ones wait in the "
				    "backlog (said %" PRIu64 " more times since "
				    "the last)", bp->o.max_conns, held);
			listeners(bp, false);	/* full: backlog waits */
			return;
		}
		sl = sizeof(ss);
		fd = accept4(bp->lfd[li], (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
#if EAGAIN != EWOULDBLOCK
			case EWOULDBLOCK:
#endif
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				if (log_ratelimited(&bp_limit, 1, 5, NULL))
					log_warn("block page: accept");
				listeners(bp, false);
				bp->accept_retry = now_ms() + ACCEPT_RETRY_MS;
				return;
			default:
				if (log_ratelimited(&bp_limit, 1, 5, NULL))
					log_warn("block page: accept");
				return;
			}
		}
		sockaddr_to_addr(&ss, &a);
		if (client_conns(bp, &a) >= bp->o.client_conns) {
			char astr[ADDR_STRLEN];
			uint64_t held;

			count(&bp->c_refused);
			if (log_ratelimited(&bp_share_limit, 1.0 / 60, 1,
			    &held))
				log_warnx("block page: %s has %u connections "
				    "open, its share: another refused (%" PRIu64
				    " more refused since the last)",
				    addr_ntop(&a, astr, sizeof(astr)),
				    bp->o.client_conns, held);
			close(fd);
			continue;
		}
		c = &bp->conns[bp->free_idx[bp->nfree - 1]];
		if ((c->buf = malloc(BLOCKPAGE_RESPONSE_MAX)) == NULL ||
		    ep_set(bp, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP,
		    TAG_CONN, (unsigned)(c - bp->conns)) < 0) {
			free(c->buf);
			c->buf = NULL;
			close(fd);
			continue;
		}
		bp->nfree--;
		c->fd = fd;
		c->client = a;
		c->state = BP_READ;
		c->len = c->off = 0;
		c->deadline = now_ms() + bp->o.deadline_ms;
		count(&bp->c_accepted);
		atomic_fetch_add_explicit(&bp->c_active, 1,
		    memory_order_relaxed);
	}
}

/* Connections past their deadline: 408 to a request begun, else close. */
static void
expire(struct blockpage *bp, uint64_t now)
{
	struct blockpage_request req;
	struct bp_conn *c;
	unsigned i;

	for (i = 0; i < bp->o.max_conns; i++) {
		c = &bp->conns[i];
		if (c->state == BP_FREE || c->deadline > now)
			continue;
		if (c->state == BP_READ)
			count(&bp->c_timeouts);
		if (c->state == BP_READ && c->len > 0) {
			memset(&req, 0, sizeof(req));
			req.status = 408;
			conn_answer(bp, c, &req);
		} else
			conn_close(bp, c);
	}
	if (bp->accept_retry != 0 && bp->accept_retry <= now) {
		bp->accept_retry = 0;
		if (bp->nfree > 0)
			listeners(bp, true);
	}
}

static int
next_timeout(const struct blockpage *bp, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned i;

	for (i = 0; i < bp->o.max_conns; i++)
		if (bp->conns[i].state != BP_FREE &&
		    bp->conns[i].deadline < next)
			next = bp->conns[i].deadline;
	if (bp->accept_retry != 0 && bp->accept_retry < next)
		next = bp->accept_retry;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now < 60000 ? next - now :
	    60000);
}

static void *
bp_main(void *arg)
{
	struct blockpage *bp = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t v;
	unsigned i;
	int n, k;

	if (bp->o.on_thread != NULL)
		bp->o.on_thread();
	while (!atomic_load_explicit(&bp->stopping, memory_order_acquire)) {
		n = epoll_wait(bp->epfd, ev, MAX_EVENTS,
		    next_timeout(bp, now_ms()));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("block page: epoll_wait");
			break;
		}
		for (k = 0; k < n; k++) {
			unsigned tag = (unsigned)(ev[k].data.u64 >> 32);
			unsigned idx = (unsigned)ev[k].data.u64;

			if (tag == TAG_WAKE) {
				if (read(bp->wakefd, &v, sizeof(v)) < 0)
					(void)0;	/* EAGAIN: woken */
			} else if (tag == TAG_LISTEN && idx < bp->nl)
				accept_all(bp, idx);
			else if (tag == TAG_CONN)
				conn_event(bp, idx);
		}
		expire(bp, now_ms());
	}
	for (i = 0; i < bp->o.max_conns; i++)
		if (bp->conns[i].state != BP_FREE)
			conn_close(bp, &bp->conns[i]);
	return NULL;
}

/* A listening socket on a:port; -errno on failure. */
static int
listen_on(const struct sg_addr *a, uint16_t port, int *fdp, uint16_t *bound)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1, e;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->u.v4;
		sl = sizeof(*s4);
	} else if (a->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->u.v6;
		sl = sizeof(*s6);
	} else
		return -EAFNOSUPPORT;
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (a->family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
		    sizeof(one)) == -1)
			goto fail;
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one)) == -1)
			goto fail;
		/* Before Linux 4.15, IP_FREEBIND covers IPv6 sockets too. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
		    sizeof(one)) == -1 && (errno != ENOPROTOOPT ||
		    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
		    sizeof(one)) == -1))
			goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, BACKLOG) == -1)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto fail;
	*bound = ntohs(a->family == AF_INET ? s4->sin_port : s6->sin6_port);
	*fdp = fd;
	return 0;
fail:
	e = errno;
	close(fd);
	return -e;
}

static void
bp_free(struct blockpage *bp)
{
	size_t i;

	for (i = 0; i < bp->nl; i++)
		close(bp->lfd[i]);
	if (bp->wakefd != -1)
		close(bp->wakefd);
	if (bp->epfd != -1)
		close(bp->epfd);
	free(bp->conns);
	free(bp->free_idx);
	free(bp);
}

struct blockpage *
blockpage_start(const struct sg_addr *addrs, size_t naddrs, uint16_t port,
    blockpage_decide_fn *decide, void *arg, char *err, size_t errlen)
{
	return blockpage_start_opts(addrs, naddrs, port, NULL, decide, arg,
	    err, errlen);
}

struct blockpage *
blockpage_start_opts(const struct sg_addr *addrs, size_t naddrs,
    uint16_t port, const struct blockpage_opts *opts,
    blockpage_decide_fn *decide, void *arg, char *err, size_t errlen)
{
	struct blockpage *bp;
	char astr[ADDR_STRLEN];
	unsigned i;
	int e;

	if (naddrs == 0 || naddrs > BLOCKPAGE_MAX_ADDRS || decide == NULL) {
		snprintf(err, errlen, "block page: %s",
		    decide == NULL ? "no callback" : naddrs == 0 ?
		    "no address" : "too many addresses");
		errno = EINVAL;
		return NULL;
	}
	if ((bp = calloc(1, sizeof(*bp))) == NULL) {
		snprintf(err, errlen, "block page: %s", strerror(errno));
		return NULL;
	}
	bp->epfd = bp->wakefd = -1;
	if (opts != NULL)
		bp->o = *opts;
#define BP_DEFAULT(f, v)	if (bp->o.f == 0) bp->o.f = (v)
	BP_DEFAULT(max_conns, BLOCKPAGE_MAX_CONNS);
	BP_DEFAULT(client_conns, BLOCKPAGE_CLIENT_CONNS);
	BP_DEFAULT(deadline_ms, BLOCKPAGE_DEADLINE_MS);
	BP_DEFAULT(linger_ms, BLOCKPAGE_LINGER_MS);
#undef BP_DEFAULT
	bp->decide = decide;
	bp->arg = arg;
	bp->accepting = true;
	bp->conns = calloc(bp->o.max_conns, sizeof(*bp->conns));
	bp->free_idx = calloc(bp->o.max_conns, sizeof(*bp->free_idx));
	if (bp->conns == NULL || bp->free_idx == NULL) {
		e = ENOMEM;
		goto fail;
	}
	for (i = 0; i < bp->o.max_conns; i++) {
		bp->conns[i].fd = -1;
		bp->free_idx[i] = bp->o.max_conns - 1 - i;
	}
	bp->nfree = bp->o.max_conns;
	if ((bp->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (bp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		e = errno;
		goto fail;
	}
	if ((e = -ep_set(bp, EPOLL_CTL_ADD, bp->wakefd, EPOLLIN, TAG_WAKE,
	    0)) != 0)
		goto fail;
	for (bp->nl = 0; bp->nl < naddrs; bp->nl++) {
		if ((e = -listen_on(&addrs[bp->nl], port, &bp->lfd[bp->nl],
		    &bp->lport[bp->nl])) != 0) {
			snprintf(err, errlen, "block page: %s port %u: %s",
			    addr_ntop(&addrs[bp->nl], astr, sizeof(astr)),
			    port, strerror(e));
			goto fail_quiet;
		}
		if ((e = -ep_set(bp, EPOLL_CTL_ADD, bp->lfd[bp->nl], EPOLLIN,
		    TAG_LISTEN, (unsigned)bp->nl)) != 0) {
			close(bp->lfd[bp->nl]);
			goto fail;
		}
	}
	if ((e = pthread_create(&bp->thread, NULL, bp_main, bp)) != 0)
		goto fail;
	return bp;
fail:
	snprintf(err, errlen, "block page: %s", strerror(e));
fail_quiet:
	bp_free(bp);
	errno = e;
	return NULL;
}

void
blockpage_stop(struct blockpage *bp)
{
	uint64_t one = 1;

	if (bp == NULL)
		return;
	atomic_store_explicit(&bp->stopping, 1, memory_order_release);
	if (write(bp->wakefd, &one, sizeof(one)) != sizeof(one))
		log_warn("block page: wake");	/* cannot fail: eventfd */
	pthread_join(bp->thread, NULL);
	bp_free(bp);
}

uint16_t
blockpage_port(const struct blockpage *bp, size_t i)
{
	return bp != NULL && i < bp->nl ? bp->lport[i] : 0;
}

void
blockpage_get_stats(const struct blockpage *bp, struct blockpage_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (bp == NULL)
		return;
#define BP_LOAD(f, c)	st->f = atomic_load_explicit(&bp->c, \
	memory_order_relaxed)
	BP_LOAD(accepted, c_accepted);
	BP_LOAD(refused, c_refused);
	BP_LOAD(blocked, c_blocked);
	BP_LOAD(neutral, c_neutral);
	BP_LOAD(errors, c_errors);
	BP_LOAD(timeouts, c_timeouts);
	BP_LOAD(active, c_active);
#undef BP_LOAD
}
