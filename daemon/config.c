/*
 * config.c - libconfig text in, a validated struct config out, and the
 * canonical text back.
 *
 * Loading takes three steps, and a struct config is handed out only when
 * all of them pass:
 *
 *   1. check_syntax() reads the text with libconfig's own token rules and
 *      grammar.  It exists because libconfig 1.5 has habits a filter must
 *      not inherit: it opens any file an "@include" line names, it wraps an
 *      integer literal that does not fit an int ("ttl = 4294967596;" reads
 *      as 300), it takes a string with no closing quote for the end of the
 *      file, and it leaks memory on some syntax errors.  All of these are
 *      refused here, before libconfig sees the text, and syntax errors say
 *      what was expected.
 *   2. libconfig parses the text into its tree.
 *   3. The tree is checked against the schema in config.h, group by group,
 *      in the order of that schema (profiles before the devices that name
 *      them), while a fresh struct config is filled in.  The first
 *      problem found is the one reported, as "FILE:LINE: what is wrong",
 *      with the line of the setting at fault.  A service a profile or
 *      one of risk's lists names becomes a category after the lists' own,
 *      with a lists entry of its own marked implicit (see
 *      service_category()); risk comes after profiles, so that its
 *      defaults can take the services the profiles made categories.
 *
 * Files are read into memory by this module (at most CONFIG_MAX_SIZE
 * bytes), so files and strings go through one path and libconfig never
 * opens a file itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <libconfig.h>

#include "config.h"
#include "cursor.h"
#include "lists.h"
#include "syslogfwd.h"

/* config/safegate.conf, NUL-terminated; see default_conf.S. */
extern const char sg_default_conf[];

#define CONFIG_DEF_LISTS_DIR	"/usr/share/safegate/blocklists"
#define CONFIG_DEF_LISTS_DB	"/var/lib/safegate/lists.sgdb"
#define CONFIG_DEF_FEEDS	"feeds.conf"	/* under lists_dir */
#define CONFIG_DEF_EVENTS	"/var/log/safegate/events.jsonl"
#define CONFIG_DEF_SOCKET	"/run/safegate/control.sock"
#define CONFIG_DEF_STATE	"/var/lib/safegate/state"
#define CONFIG_DEF_LEASES	"/var/lib/misc/dnsmasq.leases"
#define CONFIG_DEF_RESOLVER	"\x7f\0\0\x01"	/* 127.0.0.1 */
#define CONFIG_DEF_DNS_PORT	53
#define CONFIG_DEF_MAX_LEN	4096
#define CONFIG_DEF_TTL		300
#define CONFIG_MAX_LEN		1048576	/* queue.max_len */
#define CONFIG_MAX_TTL		86400
#define CONFIG_SUN_PATH		sizeof(((struct sockaddr_un *)0)->sun_path)
/* issue 6: the record, alerts, the block page, the risk indicators */
#define CONFIG_DEF_ROTATE_SIZE	10485760	/* 10 MiB */
#define CONFIG_MIN_ROTATE_SIZE	65536
#define CONFIG_MAX_ROTATE_SIZE	(INT64_C(1) << 40)
#define CONFIG_DEF_RETENTION	90		/* log.retention_days */
#define CONFIG_MAX_RETENTION	3650
#define CONFIG_DEF_FACILITY	21		/* local5 */
#define CONFIG_DEF_ALERT_INTERVAL 300
#define CONFIG_MIN_ALERT_INTERVAL 10
#define CONFIG_MAX_ALERT_INTERVAL 86400
#define CONFIG_DEF_BLOCKPAGE_PORT 80
#define CONFIG_MAX_RISK_WINDOW	604800		/* a week */
#define CONFIG_MAX_AGE		25		/* profiles.NAME.age */
#define CONFIG_DEF_BEDTIME	"bedtime"

static const char *const backend_names[] = { "auto", "iptables", "nft", NULL };
static const char *const block_mode_names[] = { "nxdomain", "null", "address",
    NULL };
static const char *const level_names[] = { "warn", "info", "debug", NULL };
/* Indexed by the bools quic_block and no_sni_block. */
static const char *const quic_names[] = { "inspect", "block", NULL };
static const char *const no_sni_names[] = { "allow", "block", NULL };

/* The keys each group may hold, in the order config_print() writes them. */
static const char *const root_keys[] = { "queue", "firewall", "dns",
    "connections", "lists_dir", "lists_db", "feeds", "lists", "block",
    "dhcp_leases", "devices", "default_profile", "profiles", "always_allow",
    "alert", "blockpage", "risk", "log", "control", NULL };
static const char *const queue_keys[] = { "numbers", "fail_open", "max_len",
    NULL };
static const char *const firewall_keys[] = { "manage", "backend", NULL };
static const char *const dns_keys[] = { "block_response", "ttl", "block_page",
    "resolver", NULL };
static const char *const connections_keys[] = { "ports", "quic", "no_sni",
    NULL };
static const char *const list_keys[] = { "category", "confidential", "files",
    "feeds", NULL };
static const char *const device_keys[] = { "name", "mac", "ip", "cidr",
    "profile", NULL };
static const char *const profile_keys[] = { "block", "services", "allow",
    "deny", "schedules", "safe_search", "bypass", "fail", "age", NULL };
static const char *const schedule_keys[] = { "when", "block", "services",
    NULL };
static const char *const safe_search_keys[] = { "google", "bing",
    "duckduckgo", "brave", "ecosia", "youtube", NULL };
static const char *const bypass_keys[] = { "doh", "dot", "vpn", "ech",
    "outside_dns", NULL };
static const char *const alert_keys[] = { "command", "interval", NULL };
static const char *const blockpage_keys[] = { "serve", "port", NULL };
static const char *const risk_keys[] = { "anon_chat", "late_night",
    "first_seen", "messaging", "bypass", "repeated", "age", "abuse",
    "bedtime", "state", NULL };
/* The members of risk's rules: each has enabled and window, some more. */
static const char *const rule_keys[] = { "enabled", "window", NULL };
static const char *const anon_chat_keys[] = { "enabled", "window",
    "categories", NULL };
static const char *const first_seen_keys[] = { "enabled", "window",
    "baseline_days", NULL };
static const char *const repeated_keys[] = { "enabled", "window", "count",
    "minutes", "categories", NULL };
static const char *const log_keys[] = { "events", "level", "rotate_size",
    "rotate_daily", "retention_days", "syslog", NULL };
static const char *const syslog_keys[] = { "target", "ca", "facility",
    NULL };
static const char *const control_keys[] = { "socket", "state", NULL };

/* Indexed by enum safesearch_youtube. */
static const char *const youtube_names[] = { "off", "moderate", "strict",
    NULL };
/* Indexed by enum outside_dns. */
static const char *const outside_dns_names[] = { "allow", "redirect", "block",
    NULL };
/* Indexed by !fail_open. */
static const char *const fail_names[] = { "open", "closed", NULL };
/*
 * log.syslog.facility: indexed by the RFC 5424 facility number.  12 to 15
 * have no one name in syslog(3); these are RFC 5424's own words for them
 * (and rsyslog's).
 */
static const char *const facility_names[] = { "kern", "user", "mail",
    "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7", NULL };

/* blocklists/services/NAME.domains, sorted (test_config.c checks both). */
const char *const config_services[] = { "discord", "fortnite", "instagram",
    "minecraft", "roblox", "snapchat", "telegram", "tiktok", "twitch",
    "whatsapp", "youtube" };
const size_t config_nservices = sizeof(config_services) /
    sizeof(*config_services);

/*
 * The defaults of risk's lists.  A default never makes a category: of
 * these, only the names that are categories already (`lists` defines
 * them, or a profile names the service) are watched.  See load_risk().
 */
static const char *const def_anon_chat[] = { "anon-chat" };
static const char *const def_repeated[] = { "adult" };
static const char *const def_messaging[] = { "whatsapp", "snapchat",
    "discord", "telegram", "instagram", "tiktok", "roblox", "minecraft",
    "fortnite", "twitch" };
#define NELEM(a)	(sizeof(a) / sizeof(*(a)))

/* One load: where messages go and what they name. */
struct cfg_ctx {
	const char	*name;		/* the file, as messages name it */
	char		*err;
	size_t		 errlen;
	struct config	*cfg;
	size_t		 nexplicit;	/* categories `lists` defines: ids
					   below it; services' come after */
};

/* ------------------------------------------------------------ messages */

/*
 * Writes byte c as libconfig string syntax into out (5 bytes): itself, or
 * an escape.  Bytes from 0x80 up are kept, so UTF-8 stays readable.
 */
static const char *
escape_byte(unsigned char c, char out[5])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\f':
		return "\\f";
	}
	if (c < 0x20 || c == 0x7f)
		snprintf(out, 5, "\\x%02x", c);
	else {
		out[0] = (char)c;
		out[1] = '\0';
	}
	return out;
}

/*
 * A user's string made safe to quote in a message: escaped as above, cut
 * at about 64 bytes.  Writes into buf and returns it.
 */
static const char *
msg_str(const char *s, char *buf, size_t len)
{
	char tmp[5];
	const char *e;
	size_t used = 0, n;

	buf[0] = '\0';
	for (; *s != '\0'; s++) {
		e = escape_byte((unsigned char)*s, tmp);
		n = strlen(e);
		if (used + n + 4 >= len || used >= 64) {
			memcpy(buf + used, "...", 4);
			return buf;
		}
		memcpy(buf + used, e, n + 1);
		used += n;
	}
	return buf;
}

static int	cfg_err(struct cfg_ctx *, const config_setting_t *,
		    const char *, ...) SG_PRINTF(3, 4);

/*
 * Writes "FILE:LINE: message" for setting s (or "FILE: message" when there
 * is no setting or it has no line) and returns SG_ECONFIG.
 */
static int
cfg_err(struct cfg_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
	char msg[CONFIG_ERR_LEN];
	const char *file = ctx->name;
	unsigned line = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
		line = config_line(s);
	}
	if (line > 0)
		snprintf(ctx->err, ctx->errlen, "%s:%u: %s", file, line, msg);
	else
		snprintf(ctx->err, ctx->errlen, "%s: %s", file, msg);
	return SG_ECONFIG;
}

static int
cfg_nomem(struct cfg_ctx *ctx)
{
	snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
	return -ENOMEM;
}

/* -------------------------------------------------------------- syntax */

/*
 * The syntax check: libconfig 1.5's token rules (scanner.l) and grammar
 * (grammar.y), written out again so that libconfig only ever parses text
 * that is well-formed.  Besides refusing @include and wrapped numbers,
 * this keeps libconfig off its syntax-error path, which leaks the string
 * it was reading when a string is the token at fault, and it gives better
 * messages than "syntax error".
 *
 *   config   := setting* EOF
 *   setting  := NAME ('=' | ':') value (';' | ',')?
 *   value    := scalar | '[' [scalar (',' scalar)*] ']'
 *             | '(' [value (',' value)*] ')' | '{' setting* '}'
 *   scalar   := BOOLEAN | INTEGER | FLOAT | STRING+
 *
 * The check accepts exactly what libconfig accepts, but for two things
 * it refuses on purpose: nesting deeper than CONFIG_MAX_DEPTH, which no
 * valid safegate config has, and a string with no closing quote, which
 * libconfig takes for the end of the file, silently dropping the rest.
 */
#define CONFIG_MAX_DEPTH	32

enum tok {
	TOK_EOF,
	TOK_NAME,
	TOK_SCALAR,		/* a number or a boolean */
	TOK_STRING,
	TOK_EQUALS,		/* = or : */
	TOK_COMMA,
	TOK_SEMICOLON,
	TOK_GROUP_START,
	TOK_GROUP_END,
	TOK_ARRAY_START,
	TOK_ARRAY_END,
	TOK_LIST_START,
	TOK_LIST_END,
	TOK_GARBAGE,		/* a byte libconfig has no rule for */
	TOK_OPEN_STRING,	/* a string the text ends in */
	TOK_INCLUDE,		/* an @include line */
	TOK_WRAPS,		/* a number libconfig would wrap */
};

struct lexer {
	const char	*p;		/* the next byte to read */
	unsigned	 line;		/* the line p is on */
	bool		 bol;		/* p starts a line */
	enum tok	 tok;		/* the current token */
	const char	*start;		/* its bytes */
	size_t		 len;
	unsigned	 tline;		/* the line it starts on */
	unsigned	 last;		/* the line the one before ends on */
	unsigned	 split;		/* the token is a string with a line
					   break, starting on this line */
	unsigned	 split_before;	/* the same for the token before */
	char		*err;		/* the message, on the first error */
	size_t		 errlen;
	const char	*name;
	struct str_lines *sl;		/* where string elements start */
};

/*
 * The line each string element of an array or list starts on, in the
 * order of the text.  libconfig records such an element's line only after
 * it has read the token that follows it ("a" "b" is one string), so the
 * last element of a list written one to a line gets the line of the ']'.
 * check_syntax() notes the lines and fix_lines() puts them into libconfig's
 * settings, as their hooks.
 */
struct str_lines {
	unsigned	*line;
	size_t		 n, cap;
};

/* [A-Za-z], whatever the locale. */
static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t
count_digits(const char *p)
{
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

static size_t
count_xdigits(const char *p)
{
	size_t n = 0;

	while (cursor_hex_value((uint8_t)p[n]) >= 0)
		n++;
	return n;
}

/* Whether n digits at p, in base, add up to more than lim. */
static bool
exceeds(const char *p, size_t n, unsigned base, uint64_t lim)
{
	uint64_t v = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		d = (uint64_t)cursor_hex_value((uint8_t)p[i]);
		if (v > (lim - d) / base)
			return true;
		v = v * base + d;
	}
	return false;
}

/* [eE][-+]?[0-9]+ */
static size_t
match_exponent(const char *p)
{
	size_t i = 1, n;

	if (p[0] != 'e' && p[0] != 'E')
		return 0;
	if (p[i] == '-' || p[i] == '+')
		i++;
	n = count_digits(p + i);
	return n > 0 ? i + n : 0;
}

/*
 * libconfig's float:
 *   [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)?
 *   [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+
 */
static size_t
match_float(const char *p)
{
	size_t i = 0, d, j, best = 0;

	if (p[i] == '-' || p[i] == '+')
		i++;
	d = count_digits(p + i);
	if (p[i + d] == '.') {
		j = i + d + 1;
		j += count_digits(p + j);
		best = j + match_exponent(p + j);
	}
	if (d > 0) {
		j = i + d;
		if (p[j] == '.') {
			j++;
			j += count_digits(p + j);
		}
		if (match_exponent(p + j) > 0 && j + match_exponent(p + j) >
		    best)
			best = j + match_exponent(p + j);
	}
	return best;
}

/* "L" or "LL" */
static size_t
match_long(const char *p)
{
	if (p[0] != 'L')
		return 0;
	return p[1] == 'L' ? 2 : 1;
}

/*
 * The number token at p, as libconfig's scanner takes it (the longest of
 * its number rules), and whether libconfig would read it as some other
 * value than the one written: it keeps the low 32 bits of a decimal or
 * hex literal without an L, and parses L literals into 64 bits.  Returns
 * the token's length, 0 if p starts no number.
 */
static size_t
scan_number(const char *p, bool *wraps)
{
	size_t best, i = 0, d, len, l;
	uint64_t lim;

	*wraps = false;
	best = match_float(p);
	/* decimal: [-+]?[0-9]+(L|LL)? */
	if (p[0] == '-' || p[0] == '+')
		i++;
	if ((d = count_digits(p + i)) > 0) {
		l = match_long(p + i + d);
		len = i + d + l;
		if (len > best) {
			best = len;
			lim = l > 0 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
			if (p[0] == '-')
				lim++;
			*wraps = exceeds(p + i, d, 10, lim);
		}
	}
	/* hex: 0[xX][0-9a-fA-F]+(L|LL)? */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    (d = count_xdigits(p + 2)) > 0) {
		l = match_long(p + 2 + d);
		len = 2 + d + l;
		if (len > best) {
			best = len;
			lim = l > 0 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
			*wraps = exceeds(p + 2, d, 16, lim);
		}
	}
	return best;
}

/* Reads the next token into lx->tok. */
static void
lex(struct lexer *lx)
{
	const char *p = lx->p, *q;
	bool wraps;
	size_t n;

	lx->last = lx->line;
	lx->split_before = lx->split;
	lx->split = 0;
	for (;;) {
		if (lx->bol) {
			/* ^[ \t]*@include[ \t]+\" */
			q = p + strspn(p, " \t");
			if (strncmp(q, "@include", 8) == 0 &&
			    (q[8] == ' ' || q[8] == '\t') &&
			    q[8 + strspn(q + 8, " \t")] == '"') {
				lx->tok = TOK_INCLUDE;
				lx->start = p;
				lx->len = 0;
				lx->tline = lx->line;
				return;
			}
			lx->bol = false;
		}
		if (*p == '\n') {
			lx->line++;
			lx->bol = true;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f')
			p++;
		else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
			p += strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*') {
			/* An unclosed comment runs to the end, as in
			   libconfig. */
			for (p += 2; *p != '\0' && !(p[0] == '*' &&
			    p[1] == '/'); p++)
				if (*p == '\n')
					lx->line++;
			if (*p != '\0')
				p += 2;
		} else
			break;
	}

	lx->start = p;
	lx->tline = lx->line;
	switch (*p) {
	case '\0':
		/* The end is where the last token was, not past the end. */
		lx->tok = TOK_EOF;
		lx->tline = lx->last;
		lx->len = 0;
		lx->p = p;
		return;
	case '"':
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\n') {
				lx->line++;
				lx->split = lx->tline;
			}
		}
		lx->tok = *p == '"' ? TOK_STRING : TOK_OPEN_STRING;
		if (*p == '"')
			p++;
		break;
	case '=':
	case ':':
		lx->tok = TOK_EQUALS;
		p++;
		break;
	case ',':
		lx->tok = TOK_COMMA;
		p++;
		break;
	case ';':
		lx->tok = TOK_SEMICOLON;
		p++;
		break;
	case '{':
		lx->tok = TOK_GROUP_START;
		p++;
		break;
	case '}':
		lx->tok = TOK_GROUP_END;
		p++;
		break;
	case '[':
		lx->tok = TOK_ARRAY_START;
		p++;
		break;
	case ']':
		lx->tok = TOK_ARRAY_END;
		p++;
		break;
	case '(':
		lx->tok = TOK_LIST_START;
		p++;
		break;
	case ')':
		lx->tok = TOK_LIST_END;
		p++;
		break;
	default:
		if (is_alpha(*p) || *p == '*') {
			/* [A-Za-z*][-A-Za-z0-9_*]*; true and false win ties */
			for (p++; is_alpha(*p) || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '_' || *p == '*'; p++)
				;
			n = (size_t)(p - lx->start);
			if ((n == 4 && !strncasecmp(lx->start, "true", 4)) ||
			    (n == 5 && !strncasecmp(lx->start, "false", 5)))
				lx->tok = TOK_SCALAR;
			else
				lx->tok = TOK_NAME;
		} else if ((n = scan_number(p, &wraps)) > 0) {
			lx->tok = wraps ? TOK_WRAPS : TOK_SCALAR;
			p += n;
		} else {
			lx->tok = TOK_GARBAGE;
			p++;
		}
	}
	lx->len = (size_t)(p - lx->start);
	lx->p = p;
}

/*
 * The current token, for a message: "'['", "'name'", or a string as it is
 * written, quotes and all.  Long tokens are cut, and so are tokens at a
 * line break; other control bytes are escaped.
 */
static const char *
tok_str(const struct lexer *lx, char *buf, size_t len)
{
	char text[48], tmp[5];
	const char *e;
	size_t i, used = 0, n;
	unsigned char c;

	if (lx->tok == TOK_EOF)
		return "the end of the file";
	for (i = 0; i < lx->len; i++) {
		c = (unsigned char)lx->start[i];
		if (c < 0x20 || c == 0x7f)
			e = escape_byte(c, tmp);
		else if (c >= 0x80 && lx->tok == TOK_GARBAGE) {
			/* one byte of what may be UTF-8: show its value */
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			e = tmp;
		} else {
			tmp[0] = (char)c;
			tmp[1] = '\0';
			e = tmp;
		}
		n = strlen(e);
		if (used + n + 4 > sizeof(text) || c == '\n') {
			memcpy(text + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(text + used, e, n);
		used += n;
	}
	text[used] = '\0';
	snprintf(buf, len, lx->tok == TOK_STRING ? "%s" : "'%s'", text);
	return buf;
}

static int	syntax_err(struct lexer *, unsigned, const char *, ...)
		    SG_PRINTF(3, 4);

/* Writes "NAME:LINE: message"; returns SG_ECONFIG. */
static int
syntax_err(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	char msg[CONFIG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(lx->err, lx->errlen, "%s:%u: %s", lx->name, line, msg);
	return SG_ECONFIG;
}

/*
 * Refuses the current token with "expected WHAT, not TOKEN", or with the
 * reason the lexer made it a token of its own.
 */
static int
unexpected(struct lexer *lx, const char *what)
{
	char buf[64];

	switch (lx->tok) {
	case TOK_INCLUDE:
		return syntax_err(lx, lx->tline, "@include is not supported; "
		    "keep the whole configuration in one file");
	case TOK_WRAPS:
		return syntax_err(lx, lx->tline, "number %.*s%s is out of "
		    "range", lx->len > 20 ? 20 : (int)lx->len, lx->start,
		    lx->len > 20 ? "..." : "");
	case TOK_OPEN_STRING:
		return syntax_err(lx, lx->tline, "syntax error: this string "
		    "has no closing \"");
	default:
		/* A missing closing quote shows up a line or more later. */
		if (lx->split_before > 0)
			return syntax_err(lx, lx->tline, "syntax error: "
			    "expected %s, not %s (does the string on line %u "
			    "lack its closing \"?)", what, tok_str(lx, buf,
			    sizeof(buf)), lx->split_before);
		return syntax_err(lx, lx->tline, "syntax error: expected %s, "
		    "not %s", what, tok_str(lx, buf, sizeof(buf)));
	}
}

static int	parse_settings(struct lexer *, enum tok, int);

/* The token that closes what tok opens. */
static enum tok
closer(enum tok tok)
{
	switch (tok) {
	case TOK_GROUP_START:
		return TOK_GROUP_END;
	case TOK_ARRAY_START:
		return TOK_ARRAY_END;
	default:
		return TOK_LIST_END;
	}
}

static int
note_line(struct lexer *lx, unsigned line)
{
	struct str_lines *sl = lx->sl;
	unsigned *p;
	size_t cap;

	if (sl->n == sl->cap) {
		cap = sl->cap ? sl->cap * 2 : 64;
		if ((p = reallocarray(sl->line, cap, sizeof(*p))) == NULL) {
			snprintf(lx->err, lx->errlen, "%s: out of memory",
			    lx->name);
			return -ENOMEM;
		}
		sl->line = p;
		sl->cap = cap;
	}
	sl->line[sl->n++] = line;
	return 0;
}

/*
 * value, inside depth levels of nesting: an element of an array or list
 * if `elem`, and a scalar only if `array`.  what says what was expected,
 * for the message.
 */
static int
parse_value(struct lexer *lx, int depth, bool elem, bool array,
    const char *what)
{
	enum tok close;
	unsigned line;
	int rc;

	switch (lx->tok) {
	case TOK_SCALAR:
		lex(lx);
		return 0;
	case TOK_STRING:
		if (elem && (rc = note_line(lx, lx->tline)) != 0)
			return rc;
		while (lx->tok == TOK_STRING)	/* "a" "b" is "ab" */
			lex(lx);
		return 0;
	case TOK_GROUP_START:
	case TOK_ARRAY_START:
	case TOK_LIST_START:
		if (array)
			break;
		if (depth >= CONFIG_MAX_DEPTH)
			return syntax_err(lx, lx->tline, "syntax error: "
			    "nested more than %d deep", CONFIG_MAX_DEPTH);
		line = lx->tline;
		close = closer(lx->tok);
		lex(lx);
		if (close == TOK_GROUP_END) {
			if ((rc = parse_settings(lx, TOK_GROUP_END,
			    depth + 1)) != 0)
				return rc;
		} else if (lx->tok != close) {
			for (;;) {
				if ((rc = parse_value(lx, depth + 1, true,
				    close == TOK_ARRAY_END, close ==
				    TOK_ARRAY_END ? "a number, string or "
				    "boolean in [ ]" : "a value in ( )")) != 0)
					return rc;
				if (lx->tok != TOK_COMMA)
					break;
				lex(lx);
			}
		}
		if (lx->tok == TOK_EOF)
			return syntax_err(lx, line, "syntax error: this '%c' "
			    "is never closed", close == TOK_GROUP_END ? '{' :
			    close == TOK_ARRAY_END ? '[' : '(');
		if (lx->tok != close)
			return unexpected(lx, close == TOK_GROUP_END ?
			    "a setting name or '}'" : close == TOK_ARRAY_END ?
			    "',' or ']'" : "',' or ')'");
		lex(lx);
		return 0;
	default:
		break;
	}
	return unexpected(lx, what);
}

/* setting* up to `end` (TOK_GROUP_END or TOK_EOF), which is not read. */
static int
parse_settings(struct lexer *lx, enum tok end, int depth)
{
	char name[48], buf[64];
	int rc;

	while (lx->tok != end) {
		if (lx->tok == TOK_EOF)
			return 0;	/* the caller names the open '{' */
		if (lx->tok != TOK_NAME)
			return unexpected(lx, end == TOK_EOF ?
			    "a setting name" : "a setting name or '}'");
		tok_str(lx, name, sizeof(name));
		lex(lx);
		if (lx->tok != TOK_EQUALS) {
			snprintf(buf, sizeof(buf), "'=' after %s", name);
			return unexpected(lx, buf);
		}
		lex(lx);
		snprintf(buf, sizeof(buf), "a value for %s", name);
		if ((rc = parse_value(lx, depth, false, false, buf)) != 0)
			return rc;
		if (lx->tok == TOK_SEMICOLON || lx->tok == TOK_COMMA)
			lex(lx);
	}
	return 0;
}

/*
 * Checks text, which ends in a newline, and notes the lines of string
 * elements in sl.  Returns 0, or SG_ECONFIG or -ENOMEM and a message.
 */
static int
check_syntax(const char *name, const char *text, struct str_lines *sl,
    char *err, size_t errlen)
{
	struct lexer lx;

	memset(&lx, 0, sizeof(lx));
	lx.sl = sl;
	lx.p = text;
	lx.line = 1;
	lx.bol = true;
	lx.err = err;
	lx.errlen = errlen;
	lx.name = name;
	lex(&lx);
	return parse_settings(&lx, TOK_EOF, 0);
}

/*
 * Walks libconfig's tree in the order of the text and gives each string
 * element the line check_syntax() noted for it, in its hook.
 */
static void
fix_lines(config_setting_t *s, const struct str_lines *sl, size_t *next)
{
	config_setting_t *e;
	unsigned i;

	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		if (config_setting_is_aggregate(e))
			fix_lines(e, sl, next);
		else if (config_setting_type(e) == CONFIG_TYPE_STRING &&
		    !config_setting_is_group(s) && *next < sl->n)
			config_setting_set_hook(e,
			    (void *)(uintptr_t)sl->line[(*next)++]);
	}
}

/* -------------------------------------------------------- schema checks */

static bool
is_sequence(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

/*
 * Every member of group g must be one of keys.  Messages read "unknown key
 * 'PREFIXname'SUFFIX".
 */
static int
check_keys(struct cfg_ctx *ctx, const config_setting_t *g, const char *prefix,
    const char *suffix, const char *const keys[])
{
	const config_setting_t *s;
	const char *name;
	char buf[80];
	int i, k;

	for (i = 0; (s = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		name = config_setting_name(s);
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(name, keys[k]) == 0)
				break;
		if (keys[k] == NULL)
			return cfg_err(ctx, s, "unknown key '%s%s'%s", prefix,
			    msg_str(name, buf, sizeof(buf)), suffix);
	}
	return 0;
}

/*
 * The member `key` of group g, which must be a group itself; *out is NULL
 * when it is absent.  path, when not NULL, is g's ("profiles.child").
 */
static int
get_group_in(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    const char *key, config_setting_t **out)
{
	*out = config_setting_get_member(g, key);
	if (*out != NULL && !config_setting_is_group(*out))
		return cfg_err(ctx, *out, "%s%s%s must be a group: %s = "
		    "{ ... };", path ? path : "", path ? "." : "", key, key);
	return 0;
}

static int
get_group(struct cfg_ctx *ctx, const config_setting_t *g, const char *key,
    config_setting_t **out)
{
	return get_group_in(ctx, g, NULL, key, out);
}

/*
 * The optional top-level list `key` of root, whose entries are groups
 * (`like` shows the members of one in the message): *n is its length, 0
 * when it is absent or empty.
 */
static int
get_group_list(struct cfg_ctx *ctx, const config_setting_t *root,
    const char *key, const char *like, const config_setting_t **out, int *n)
{
	*n = 0;
	if ((*out = config_setting_get_member(root, key)) == NULL)
		return 0;
	if (!is_sequence(*out))
		return cfg_err(ctx, *out, "%s must be a list of groups: %s = "
		    "( { %s } );", key, key, like);
	*n = config_setting_length(*out);
	return 0;
}

#define CFG_PATH_LEN	96	/* a group's path, for messages */

/*
 * The optional group `key` of g, as get_group_in(), with its members
 * checked against keys (not checked when keys is NULL: its members are
 * names, like the schedules').  When it is there and what is not NULL, its
 * own path ("profiles.child.bypass", or "dns" at the top) is written into
 * what, CFG_PATH_LEN bytes, for the messages about its members.
 */
static int
get_group_checked(struct cfg_ctx *ctx, const config_setting_t *g,
    const char *path, const char *key, const char *const keys[],
    config_setting_t **out, char *what)
{
	char here[CFG_PATH_LEN], prefix[CFG_PATH_LEN + 1];
	int rc;

	if ((rc = get_group_in(ctx, g, path, key, out)) != 0 || *out == NULL)
		return rc;
	if (what == NULL)
		what = here;
	snprintf(what, CFG_PATH_LEN, "%s%s%s", path ? path : "",
	    path ? "." : "", key);
	if (keys == NULL)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s.", what);
	return check_keys(ctx, *out, prefix, "", keys);
}

/* A boolean member; *out keeps its default when the key is absent. */
static int
get_bool(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    const char *key, bool *out)
{
	const config_setting_t *s;

	if (g == NULL || (s = config_setting_get_member(g, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_err(ctx, s, "%s.%s must be a boolean", path, key);
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* An integer setting in min..max. */
static int
check_int(struct cfg_ctx *ctx, const config_setting_t *s, const char *what,
    long long min, long long max, long long *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_err(ctx, s, "%s must be an integer", what);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return cfg_err(ctx, s, "%s must be %lld..%lld, not %lld", what,
		    min, max, v);
	*out = v;
	return 0;
}

static int
get_int(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    const char *key, long long min, long long max, long long *out)
{
	const config_setting_t *s;
	char what[192];		/* a group's path (CFG_ELEM_PATH_LEN), a key */

	if (g == NULL || (s = config_setting_get_member(g, key)) == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s.%s", path, key);
	return check_int(ctx, s, what, min, max, out);
}

/*
 * A string member; *out (pointing into libconfig's tree) keeps its
 * default when the key is absent.  path is NULL for top-level keys.
 */
static int
get_string(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    const char *key, const char **out, const config_setting_t **where)
{
	const config_setting_t *s;

	if (g == NULL || (s = config_setting_get_member(g, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, s, "%s%s%s must be a string",
		    path ? path : "", path ? "." : "", key);
	*out = config_setting_get_string(s);
	if (where != NULL)
		*where = s;
	return 0;
}

/* A string member that must be one of names[]; *out is its index. */
static int
get_enum(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    const char *key, const char *const names[], int *out,
    const config_setting_t **where)
{
	const char *v = NULL;
	char choices[128], buf[80];
	size_t used = 0;
	int i, rc;

	if ((rc = get_string(ctx, g, path, key, &v, where)) != 0 || v == NULL)
		return rc;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	/* "a", "b" or "c" */
	choices[0] = '\0';
	for (i = 0; names[i] != NULL; i++)
		used += (size_t)snprintf(choices + used, sizeof(choices) - used,
		    "%s\"%s\"", i == 0 ? "" : names[i + 1] == NULL ? " or " :
		    ", ", names[i]);
	return cfg_err(ctx, *where, "%s%s%s must be %s, not \"%s\"",
	    path ? path : "", path ? "." : "", key, choices,
	    msg_str(v, buf, sizeof(buf)));
}

/* A copy of s in *dst, freeing what was there. */
static int
set_string(struct cfg_ctx *ctx, char **dst, const char *s)
{
	char *copy;

	if ((copy = strdup(s)) == NULL)
		return cfg_nomem(ctx);
	free(*dst);
	*dst = copy;
	return 0;
}

/* ---------------------------------------------------------------- groups */

static int
load_queue(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	config_setting_t *g, *nums, *e;
	long long v, first = 0, maxlen;
	int rc, i, n;

	if ((rc = get_group_checked(ctx, root, NULL, "queue", queue_keys, &g,
	    NULL)) != 0 || g == NULL)
		return rc;

	if ((nums = config_setting_get_member(g, "numbers")) != NULL) {
		if (!is_sequence(nums))
			return cfg_err(ctx, nums, "queue.numbers must be a "
			    "list of integers, like [ 0, 1 ]");
		n = config_setting_length(nums);
		if (n == 0)
			return cfg_err(ctx, nums,
			    "queue.numbers must name at least one queue");
		if (n > CONFIG_MAX_QUEUES)
			return cfg_err(ctx, nums, "queue.numbers names %d "
			    "queues; at most %d", n, CONFIG_MAX_QUEUES);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(nums, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_INT &&
			    config_setting_type(e) != CONFIG_TYPE_INT64)
				return cfg_err(ctx, e, "queue.numbers must be "
				    "a list of integers, like [ 0, 1 ]");
			v = config_setting_get_int64(e);
			if (v < 0 || v > 65535)
				return cfg_err(ctx, e, "queue.numbers: %lld is "
				    "not a queue number (0..65535)", v);
			if (i == 0)
				first = v;
			else if (v != first + i)
				return cfg_err(ctx, e, "queue.numbers must be "
				    "consecutive and ascending, because the "
				    "kernel balances packets over one range of "
				    "queues; after %lld comes %lld, not %lld",
				    first + i - 1, first + i, v);
		}
		cfg->queue_first = (uint16_t)first;
		cfg->queue_count = (uint16_t)n;
	}
	if ((rc = get_bool(ctx, g, "queue", "fail_open", &cfg->fail_open)) != 0)
		return rc;
	maxlen = cfg->queue_max_len;
	if ((rc = get_int(ctx, g, "queue", "max_len", 1, CONFIG_MAX_LEN,
	    &maxlen)) != 0)
		return rc;
	cfg->queue_max_len = (uint32_t)maxlen;
	return 0;
}

static int
load_firewall(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	int rc, backend = (int)cfg->fw_backend;

	if ((rc = get_group_checked(ctx, root, NULL, "firewall", firewall_keys,
	    &g, NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_bool(ctx, g, "firewall", "manage", &cfg->fw_manage)) != 0)
		return rc;
	if ((rc = get_enum(ctx, g, "firewall", "backend", backend_names,
	    &backend, &where)) != 0)
		return rc;
	cfg->fw_backend = (enum fw_backend)backend;
	return 0;
}

static int
load_block_page(struct cfg_ctx *ctx, const config_setting_t *g)
{
	struct dns_block_spec *b = &ctx->cfg->block;
	config_setting_t *list, *e;
	struct sg_addr a;
	char buf[80];
	int i, n;

	if ((list = config_setting_get_member(g, "block_page")) == NULL)
		return 0;
	if (!is_sequence(list))
		return cfg_err(ctx, list, "dns.block_page must be a list of "
		    "addresses, like [ \"192.0.2.1\", \"2001:db8::1\" ]");
	n = config_setting_length(list);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "dns.block_page must be a list "
			    "of strings");
		if (addr_parse(&a, config_setting_get_string(e)) != 0)
			return cfg_err(ctx, e, "dns.block_page: \"%s\" is not "
			    "an IPv4 or IPv6 address",
			    msg_str(config_setting_get_string(e), buf,
			    sizeof(buf)));
		if (a.family == AF_INET) {
			if (b->page_v4.family != AF_UNSPEC)
				return cfg_err(ctx, e, "dns.block_page has two "
				    "IPv4 addresses; give at most one IPv4 and "
				    "one IPv6 address");
			b->page_v4 = a;
		} else {
			if (b->page_v6.family != AF_UNSPEC)
				return cfg_err(ctx, e, "dns.block_page has two "
				    "IPv6 addresses; give at most one IPv4 and "
				    "one IPv6 address");
			b->page_v6 = a;
		}
	}
	return 0;
}

/*
 * "IP" or "IP#PORT" into *a and *port (53 without a port).  Returns 0, or
 * -1 with *why saying what is wrong.
 */
static int
parse_resolver(const char *s, struct sg_addr *a, uint16_t *port,
    const char **why)
{
	char host[ADDR_STRLEN + 1];
	const char *hash = strchr(s, '#'), *p;
	size_t len = hash != NULL ? (size_t)(hash - s) : strlen(s);
	unsigned long v = 0;

	*why = "is not an IPv4 or IPv6 address, or one and a port like "
	    "\"127.0.0.1#5353\"";
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (addr_parse(a, host) != 0)
		return -1;
	*port = CONFIG_DEF_DNS_PORT;
	if (hash == NULL)
		return 0;
	*why = "has a port that is not 1..65535";
	for (p = hash + 1; *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == hash + 1 || *p != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* dns.resolver: the router's resolver, "IP" or "IP#PORT". */
static int
load_resolver(struct cfg_ctx *ctx, const config_setting_t *g)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	const char *s = NULL, *why;
	char buf[80];
	int rc;

	if ((rc = get_string(ctx, g, "dns", "resolver", &s, &where)) != 0 ||
	    s == NULL)
		return rc;
	if (parse_resolver(s, &cfg->resolver, &cfg->resolver_port, &why) != 0)
		return cfg_err(ctx, where, "dns.resolver: \"%s\" %s",
		    msg_str(s, buf, sizeof(buf)), why);
	return 0;
}

static int
load_dns(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct dns_block_spec *b = &ctx->cfg->block;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	long long ttl = b->ttl;
	int rc, mode = (int)b->mode;

	if ((rc = get_group_checked(ctx, root, NULL, "dns", dns_keys, &g,
	    NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_enum(ctx, g, "dns", "block_response", block_mode_names,
	    &mode, &where)) != 0)
		return rc;
	b->mode = (enum dns_block_mode)mode;
	if ((rc = get_int(ctx, g, "dns", "ttl", 0, CONFIG_MAX_TTL, &ttl)) != 0)
		return rc;
	b->ttl = (uint32_t)ttl;
	if ((rc = load_block_page(ctx, g)) != 0)
		return rc;
	if (b->mode == DNS_BLOCK_ADDRESS && b->page_v4.family == AF_UNSPEC &&
	    b->page_v6.family == AF_UNSPEC)
		return cfg_err(ctx, where, "dns.block_response \"address\" "
		    "needs the block page's address in dns.block_page, like "
		    "[ \"192.0.2.1\" ]");
	return load_resolver(ctx, g);
}

/* connections.ports: TCP ports judged like 80 and 443, each once. */
static int
load_conn_ports(struct cfg_ctx *ctx, const config_setting_t *g)
{
	struct config *cfg = ctx->cfg;
	config_setting_t *list, *e;
	long long v;
	size_t k;
	int i, n;

	if ((list = config_setting_get_member(g, "ports")) == NULL)
		return 0;
	if (!is_sequence(list))
		return cfg_err(ctx, list, "connections.ports must be a list of "
		    "TCP ports, like [ 8080, 8443 ]");
	n = config_setting_length(list);
	if (n > CONFIG_MAX_CONN_PORTS)
		return cfg_err(ctx, list, "connections.ports names %d ports; "
		    "at most %d, because iptables' multiport match takes 15 "
		    "and 80 and 443 are two of them", n, CONFIG_MAX_CONN_PORTS);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64)
			return cfg_err(ctx, e, "connections.ports must be a "
			    "list of integers, like [ 8080, 8443 ]");
		v = config_setting_get_int64(e);
		if (v < 1 || v > 65535)
			return cfg_err(ctx, e, "connections.ports: %lld is not "
			    "a port (1..65535)", v);
		if (v == 80 || v == 443)
			return cfg_err(ctx, e, "connections.ports: %lld is "
			    "always judged; leave it out", v);
		if (v == 53)
			return cfg_err(ctx, e, "connections.ports: 53 is DNS, "
			    "which is judged as DNS; leave it out");
		for (k = 0; k < cfg->conn_nports; k++)
			if (cfg->conn_ports[k] == v)
				return cfg_err(ctx, e, "connections.ports: "
				    "%lld is named twice", v);
		cfg->conn_ports[cfg->conn_nports++] = (uint16_t)v;
	}
	return 0;
}

static int
load_connections(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	int rc, quic = cfg->quic_block, no_sni = cfg->no_sni_block;

	if ((rc = get_group_checked(ctx, root, NULL, "connections",
	    connections_keys, &g, NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = load_conn_ports(ctx, g)) != 0)
		return rc;
	if ((rc = get_enum(ctx, g, "connections", "quic", quic_names, &quic,
	    &where)) != 0)
		return rc;
	cfg->quic_block = quic != 0;
	if ((rc = get_enum(ctx, g, "connections", "no_sni", no_sni_names,
	    &no_sni, &where)) != 0)
		return rc;
	cfg->no_sni_block = no_sni != 0;
	return 0;
}

bool
config_valid_name(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		    s[n] == '-'))
			return false;
	return n >= 1 && n <= CONFIG_NAME_MAX;
}

/*
 * Entry i (0-based) of category id says confidential or not: the first
 * entry of a category decides, and the others must agree, so that a list
 * of hashed entries never meets one in clear in a category.  where is the
 * entry's `confidential` setting, or the entry itself.
 */
static int
check_confidential(struct cfg_ctx *ctx, const config_setting_t *where,
    int i, unsigned id, bool first)
{
	struct config *cfg = ctx->cfg;
	const struct config_list *l = &cfg->lists[i];
	uint64_t bit = UINT64_C(1) << id;
	int k;

	if (first) {
		if (l->confidential)
			cfg->confidential_mask |= bit;
		return 0;
	}
	if (l->confidential == ((cfg->confidential_mask & bit) != 0))
		return 0;
	for (k = 0; k < i && cfg->lists[k].category_id != id; k++)
		;
	return cfg_err(ctx, where, "lists entry %d (%s): confidential is %s, "
	    "but lists entry %d made it %s; every entry of a category must "
	    "agree", i + 1, l->category, l->confidential ? "true" : "false",
	    k + 1, l->confidential ? "not confidential" : "confidential");
}

/* The feeds of entry i: names of the registry, each once. */
static int
load_entry_feeds(struct cfg_ctx *ctx, const config_setting_t *fs, int i)
{
	struct config_list *l = &ctx->cfg->lists[i];
	const config_setting_t *e;
	const char *name;
	char buf[80];
	size_t j;
	int k, n, rc;

	if (!is_sequence(fs))
		return cfg_err(ctx, fs, "lists entry %d (%s): feeds must be a "
		    "list of feed names, like [ \"ut1-gambling\" ]", i + 1,
		    l->category);
	if ((n = config_setting_length(fs)) == 0)
		return cfg_err(ctx, fs, "lists entry %d (%s): feeds must name "
		    "at least one feed", i + 1, l->category);
	if ((l->feeds = calloc((size_t)n, sizeof(*l->feeds))) == NULL)
		return cfg_nomem(ctx);
	for (k = 0; k < n; k++) {
		e = config_setting_get_elem(fs, (unsigned)k);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "lists entry %d (%s): feeds "
			    "must be strings", i + 1, l->category);
		name = config_setting_get_string(e);
		if (!config_valid_name(name))
			return cfg_err(ctx, e, "lists entry %d (%s): feed "
			    "\"%s\" is not a valid name (1 to %d of a-z, 0-9, _ "
			    "and -)", i + 1, l->category,
			    msg_str(name, buf, sizeof(buf)), CONFIG_NAME_MAX);
		for (j = 0; j < l->nfeeds; j++)
			if (strcmp(l->feeds[j], name) == 0)
				return cfg_err(ctx, e, "lists entry %d (%s): "
				    "feed \"%s\" is named twice", i + 1,
				    l->category, name);
		if ((rc = set_string(ctx, &l->feeds[l->nfeeds], name)) != 0)
			return rc;
		l->nfeeds++;
	}
	return 0;
}

/* Checks lists entry number i (0-based) and fills cfg->lists[i]. */
static int
load_list_entry(struct cfg_ctx *ctx, const config_setting_t *ent, int i)
{
	struct config *cfg = ctx->cfg;
	struct config_list *l = &cfg->lists[i];
	const config_setting_t *cs, *fs, *ds, *e;
	const char *cat;
	char buf[80];
	bool first = false;
	int id, k, n, rc;

	if (!config_setting_is_group(ent))
		return cfg_err(ctx, ent, "lists entry %d must be a group: "
		    "{ category = \"...\"; files = [ \"...\" ]; }", i + 1);
	snprintf(buf, sizeof(buf), " in lists entry %d", i + 1);
	if ((rc = check_keys(ctx, ent, "", buf, list_keys)) != 0)
		return rc;
	l->line = (int)config_setting_source_line(ent);

	if ((cs = config_setting_get_member(ent, "category")) == NULL)
		return cfg_err(ctx, ent, "lists entry %d has no category",
		    i + 1);
	if (config_setting_type(cs) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, cs, "lists entry %d: category must be a "
		    "string", i + 1);
	cat = config_setting_get_string(cs);
	if (!config_valid_name(cat))
		return cfg_err(ctx, cs, "lists entry %d: category \"%s\" is "
		    "not a valid name (1 to %d of a-z, 0-9, _ and -)", i + 1,
		    msg_str(cat, buf, sizeof(buf)), CONFIG_NAME_MAX);
	if ((id = config_category_id(cfg, cat)) < 0) {
		if (cfg->ncategories == SGDB_MAX_CATEGORIES)
			return cfg_err(ctx, cs, "lists: category \"%s\" is one "
			    "too many; at most %d categories", cat,
			    SGDB_MAX_CATEGORIES);
		if ((rc = set_string(ctx, &cfg->categories[cfg->ncategories],
		    cat)) != 0)
			return rc;
		id = (int)cfg->ncategories++;
		first = true;
	}
	if ((rc = set_string(ctx, &l->category, cat)) != 0)
		return rc;
	l->category_id = (unsigned)id;

	if ((ds = config_setting_get_member(ent, "confidential")) != NULL) {
		if (config_setting_type(ds) != CONFIG_TYPE_BOOL)
			return cfg_err(ctx, ds, "lists entry %d (%s): "
			    "confidential must be true or false", i + 1, cat);
		l->confidential = config_setting_get_bool(ds) != 0;
	}
	if ((rc = check_confidential(ctx, ds != NULL ? ds : ent, i,
	    (unsigned)id, first)) != 0)
		return rc;

	fs = config_setting_get_member(ent, "files");
	ds = config_setting_get_member(ent, "feeds");
	if (fs == NULL && ds == NULL)
		return cfg_err(ctx, ent, "lists entry %d (%s) has no files and "
		    "no feeds", i + 1, cat);
	if (ds != NULL && (rc = load_entry_feeds(ctx, ds, i)) != 0)
		return rc;
	if (fs == NULL)
		return 0;
	if (!is_sequence(fs))
		return cfg_err(ctx, fs, "lists entry %d (%s): files must be a "
		    "list of file names, like [ \"%s.domains\" ]", i + 1, cat,
		    cat);
	if ((n = config_setting_length(fs)) == 0)
		return cfg_err(ctx, fs, "lists entry %d (%s): files must name "
		    "at least one file", i + 1, cat);
	if ((l->files = calloc((size_t)n, sizeof(*l->files))) == NULL)
		return cfg_nomem(ctx);
	l->nfiles = (size_t)n;
	for (k = 0; k < n; k++) {
		e = config_setting_get_elem(fs, (unsigned)k);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "lists entry %d (%s): files "
			    "must be strings", i + 1, cat);
		if (config_setting_get_string(e)[0] == '\0')
			return cfg_err(ctx, e, "lists entry %d (%s): a file "
			    "name is empty", i + 1, cat);
		if ((rc = set_string(ctx, &l->files[k],
		    config_setting_get_string(e))) != 0)
			return rc;
	}
	return 0;
}

static int
load_lists(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL, *list;
	const char *dir = NULL;
	int i, n, rc;

	if ((rc = get_string(ctx, root, NULL, "lists_dir", &dir, &where)) != 0)
		return rc;
	if (dir != NULL) {
		if (dir[0] == '\0')
			return cfg_err(ctx, where,
			    "lists_dir must not be empty");
		/* safegated runs from /: a relative path would change
		 * meaning between start and reload. */
		if (dir[0] != '/')
			return cfg_err(ctx, where, "lists_dir must be an "
			    "absolute path (starting with /)");
		if ((rc = set_string(ctx, &cfg->lists_dir, dir)) != 0)
			return rc;
	}
	dir = NULL;
	if ((rc = get_string(ctx, root, NULL, "lists_db", &dir, &where)) != 0)
		return rc;
	if (dir != NULL) {
		/* Written by safegate-lists, mapped by safegated: both must
		 * mean the same file whatever their working directory. */
		if (dir[0] != '/')
			return cfg_err(ctx, where, "lists_db must be an "
			    "absolute path (starting with /)");
		if (dir[strlen(dir) - 1] == '/')
			return cfg_err(ctx, where, "lists_db must name a file, "
			    "not a folder");
		if ((rc = set_string(ctx, &cfg->lists_db, dir)) != 0)
			return rc;
	}
	dir = NULL;
	if ((rc = get_string(ctx, root, NULL, "feeds", &dir, &where)) != 0)
		return rc;
	if (dir != NULL) {
		if (dir[0] == '\0')
			return cfg_err(ctx, where, "feeds must not be empty");
		if ((rc = set_string(ctx, &cfg->feeds, dir)) != 0)
			return rc;
	}

	if ((rc = get_group_list(ctx, root, "lists", "category = \"...\"; "
	    "files = [ \"...\" ];", &list, &n)) != 0 || n == 0)
		return rc;
	if ((cfg->lists = calloc((size_t)n, sizeof(*cfg->lists))) == NULL)
		return cfg_nomem(ctx);
	cfg->nlists = (size_t)n;
	for (i = 0; i < n; i++)
		if ((rc = load_list_entry(ctx,
		    config_setting_get_elem(list, (unsigned)i), i)) != 0)
			return rc;
	return 0;
}

/*
 * n names for a message: "adult, gambling", cut with ", ..." when they do
 * not fit.
 */
static const char *
join_names(const char *const *names, size_t count, char *buf, size_t len)
{
	size_t i, used = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < count; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    names[i]);
		if (n < 0 || (size_t)n + 5 >= len - used) {
			snprintf(buf + used, len - used, ", ...");
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

/* The categories lists define, for a message: "adult, gambling". */
static const char *
category_names(const struct config *cfg, size_t count, char *buf, size_t len)
{
	return join_names((const char *const *)cfg->categories, count, buf,
	    len);
}

/*
 * A confidential category blocks everyone, whatever the profile: it must
 * be in the top-level block, so that no profile can leave it out.
 */
static int
check_confidential_blocked(struct cfg_ctx *ctx, const config_setting_t *root)
{
	const struct config *cfg = ctx->cfg;
	const config_setting_t *lists = config_setting_get_member(root,
	    "lists");
	uint64_t open = cfg->confidential_mask & ~cfg->block_mask;
	size_t i;

	if (open == 0)
		return 0;
	for (i = 0; i < cfg->nlists; i++)
		if (open & (UINT64_C(1) << cfg->lists[i].category_id))
			break;
	return cfg_err(ctx, config_setting_get_elem(lists, (unsigned)i),
	    "lists entry %zu (%s) is confidential, so \"%s\" must be in "
	    "block: a confidential category blocks everyone", i + 1,
	    cfg->lists[i].category, cfg->lists[i].category);
}

static int
load_block(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	config_setting_t *list, *e;
	char names[256], buf[80];
	const char *s;
	int i, n, id;

	if ((list = config_setting_get_member(root, "block")) == NULL)
		return check_confidential_blocked(ctx, root);
	if (!is_sequence(list))
		return cfg_err(ctx, list, "block must be a list of categories, "
		    "like [ \"adult\", \"gambling\" ]");
	n = config_setting_length(list);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "block must be a list of "
			    "strings");
		s = config_setting_get_string(e);
		if ((id = config_category_id(cfg, s)) < 0)
			return cfg_err(ctx, e, "block: unknown category '%s' "
			    "(%s%s)", msg_str(s, buf, sizeof(buf)),
			    cfg->ncategories ? "lists define: " :
			    "no lists are defined",
			    category_names(cfg, cfg->ncategories, names,
			    sizeof(names)));
		if (cfg->block_mask & (UINT64_C(1) << id))
			return cfg_err(ctx, e, "block: '%s' is named twice",
			    s);
		cfg->block_mask |= UINT64_C(1) << id;
	}
	return check_confidential_blocked(ctx, root);
}

/* ------------------------------------------------- profiles and devices */

/*
 * A profile or schedule name: 1..CONFIG_NAME_MAX of [A-Za-z0-9_-].  They
 * are libconfig setting names, which may also hold '*'; safegatectl and
 * the event log show them, so they keep to plain words.
 */
static bool
valid_group_name(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!(is_alpha(s[n]) || (s[n] >= '0' && s[n] <= '9') ||
		    s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= CONFIG_NAME_MAX;
}

/* A device name: 1..DEVICES_NAME_MAX of [A-Za-z0-9._-]. */
static bool
valid_device_name(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!(is_alpha(s[n]) || (s[n] >= '0' && s[n] <= '9') ||
		    s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= DEVICES_NAME_MAX;
}

static bool
is_service(const char *name)
{
	size_t i;

	for (i = 0; i < config_nservices; i++)
		if (strcmp(config_services[i], name) == 0)
			return true;
	return false;
}

/* The id of a category that `lists` defines (not a service's), or -1. */
static int
explicit_category(const struct cfg_ctx *ctx, const char *name)
{
	int id = config_category_id(ctx->cfg, name);

	return id >= 0 && (size_t)id < ctx->nexplicit ? id : -1;
}

/*
 * The category of service svc, named at `where`: the one `lists` defines
 * under that name if there is one, else a new implicit lists entry that
 * reads services/SVC.domains under lists_dir.
 */
static int
service_category(struct cfg_ctx *ctx, const config_setting_t *where,
    const char *svc, unsigned *id)
{
	struct config *cfg = ctx->cfg;
	struct config_list *l;
	char file[CONFIG_NAME_MAX + 32];
	int c, rc;

	if ((c = config_category_id(cfg, svc)) >= 0) {
		*id = (unsigned)c;
		return 0;
	}
	if (cfg->ncategories == SGDB_MAX_CATEGORIES)
		return cfg_err(ctx, where, "service '%s' is one category too "
		    "many; at most %d categories, the lists' and the services' "
		    "together", svc, SGDB_MAX_CATEGORIES);
	if ((l = reallocarray(cfg->lists, cfg->nlists + 1, sizeof(*l))) ==
	    NULL)
		return cfg_nomem(ctx);
	cfg->lists = l;
	l = &cfg->lists[cfg->nlists++];
	memset(l, 0, sizeof(*l));
	l->implicit = true;
	l->line = (int)config_line(where);
	if ((rc = set_string(ctx, &l->category, svc)) != 0)
		return rc;
	if ((l->files = calloc(1, sizeof(*l->files))) == NULL)
		return cfg_nomem(ctx);
	l->nfiles = 1;
	snprintf(file, sizeof(file), "services/%s.domains", svc);
	if ((rc = set_string(ctx, &l->files[0], file)) != 0 ||
	    (rc = set_string(ctx, &cfg->categories[cfg->ncategories], svc)) !=
	    0)
		return rc;
	l->category_id = (unsigned)cfg->ncategories++;
	*id = l->category_id;
	return 0;
}

/*
 * The list s of categories that `lists` defines or, if services, of
 * services (their categories made as needed), each once, into *mask.
 * what names s in messages ("profiles.child.block").
 */
static int
load_category_list(struct cfg_ctx *ctx, const config_setting_t *s,
    const char *what, bool services, uint64_t *mask)
{
	const config_setting_t *e;
	char names[256], buf[80];
	const char *name;
	unsigned id = 0;
	int i, n, c, rc;

	if (!is_sequence(s))
		return cfg_err(ctx, s, services ? "%s must be a list of "
		    "services, like [ \"tiktok\", \"roblox\" ]" : "%s must be "
		    "a list of categories, like [ \"adult\", \"gambling\" ]",
		    what);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "%s must be a list of strings",
			    what);
		name = config_setting_get_string(e);
		if (services) {
			if (!is_service(name))
				return cfg_err(ctx, e, "%s: unknown service "
				    "'%s' (services: %s)", what,
				    msg_str(name, buf, sizeof(buf)),
				    join_names(config_services,
				    config_nservices, names, sizeof(names)));
			if ((rc = service_category(ctx, e, name, &id)) != 0)
				return rc;
		} else {
			if ((c = explicit_category(ctx, name)) < 0 &&
			    is_service(name))
				return cfg_err(ctx, e, "%s: '%s' is a service, "
				    "not a category lists define; name it in "
				    "services", what, name);
			if (c < 0)
				return cfg_err(ctx, e, "%s: unknown category "
				    "'%s' (%s%s)", what,
				    msg_str(name, buf, sizeof(buf)),
				    ctx->nexplicit ? "lists define: " :
				    "no lists are defined",
				    category_names(ctx->cfg, ctx->nexplicit,
				    names, sizeof(names)));
			id = (unsigned)c;
		}
		if (*mask & (UINT64_C(1) << id))
			return cfg_err(ctx, e, "%s: '%s' is named twice", what,
			    name);
		*mask |= UINT64_C(1) << id;
	}
	return 0;
}

struct name_ref {
	const char	*name;
	size_t		 i;
};

static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * The list s of names (allow, deny, always_allow) into *out and *nout:
 * normalised as the names of list files are, a "*." prefix dropped (a
 * name covers its subdomains anyway), each once, at most
 * CONFIG_MAX_NAMES.  Duplicates are found by sorting, so that 4096 names
 * cost no 8 million comparisons.
 */
static int
load_names(struct cfg_ctx *ctx, const config_setting_t *s, const char *what,
    char ***out, size_t *nout)
{
	const config_setting_t *e;
	struct name_ref *refs;
	char norm[DNS_TEXT_MAX + 1], buf[80];
	const char *name, *why = NULL;
	size_t k, dup, first = 0;
	int i, n, len, rc;

	if (!is_sequence(s))
		return cfg_err(ctx, s, "%s must be a list of names, like "
		    "[ \"example.org\" ]", what);
	n = config_setting_length(s);
	if (n > CONFIG_MAX_NAMES)
		return cfg_err(ctx, s, "%s names %d names; at most %d", what, n,
		    CONFIG_MAX_NAMES);
	if (n == 0)
		return 0;
	if ((*out = calloc((size_t)n, sizeof(**out))) == NULL)
		return cfg_nomem(ctx);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "%s must be a list of strings",
			    what);
		name = config_setting_get_string(e);
		if (strncmp(name, "*.", 2) == 0)
			name += 2;
		len = lists_normalize(name, strlen(name), norm, &why);
		if (len == -ENOMEM)
			return cfg_nomem(ctx);
		if (len < 0)
			return cfg_err(ctx, e, "%s: \"%s\" is not a valid "
			    "name: %s", what,
			    msg_str(config_setting_get_string(e), buf,
			    sizeof(buf)), why);
		if ((rc = set_string(ctx, &(*out)[*nout], norm)) != 0)
			return rc;
		(*nout)++;
	}
	if ((refs = calloc((size_t)n, sizeof(*refs))) == NULL)
		return cfg_nomem(ctx);
	for (k = 0; k < (size_t)n; k++) {
		refs[k].name = (*out)[k];
		refs[k].i = k;
	}
	qsort(refs, (size_t)n, sizeof(*refs), name_ref_cmp);
	/* The earliest second mention, and the first of its name. */
	dup = (size_t)n;
	for (k = 1; k < (size_t)n; k++)
		if (strcmp(refs[k - 1].name, refs[k].name) == 0 &&
		    refs[k].i < dup) {
			dup = refs[k].i;
			first = refs[k - 1].i;
		}
	free(refs);
	if (dup < (size_t)n)
		return cfg_err(ctx, config_setting_get_elem(s, (unsigned)dup),
		    "%s: \"%s\" is named twice, first on line %u", what,
		    (*out)[dup], config_line(config_setting_get_elem(s,
		    (unsigned)first)));
	return 0;
}

#define CFG_ELEM_PATH_LEN	128	/* "profiles.NAME.schedules.NAME" */

/*
 * The checks every named group g in parent (its path, for messages) starts
 * with: its name is valid for a `noun`, it is a group (`like` shows the
 * members of one in the message) and it holds only keys.  Its own path,
 * "parent.NAME", is written into path, CFG_ELEM_PATH_LEN bytes.
 */
static int
check_named_group(struct cfg_ctx *ctx, const config_setting_t *g,
    const char *parent, const char *noun, const char *like,
    const char *const keys[], char *path)
{
	char prefix[CFG_ELEM_PATH_LEN + 1], buf[80];
	const char *name = config_setting_name(g);

	if (!valid_group_name(name))
		return cfg_err(ctx, g, "%s: '%s' is not a valid %s name (1 to "
		    "%d of A-Z, a-z, 0-9, _ and -)", parent,
		    msg_str(name, buf, sizeof(buf)), noun, CONFIG_NAME_MAX);
	snprintf(path, CFG_ELEM_PATH_LEN, "%s.%s", parent, name);
	if (!config_setting_is_group(g))
		return cfg_err(ctx, g, "%s must be a group: %s = { %s };", path,
		    name, like);
	snprintf(prefix, sizeof(prefix), "%s.", path);
	return check_keys(ctx, g, prefix, "", keys);
}

/* One schedule, g, of the profile whose schedules are at path. */
static int
load_schedule(struct cfg_ctx *ctx, const config_setting_t *g,
    const char *spath, struct config_schedule *sc)
{
	const config_setting_t *when, *b, *svc;
	struct schedule_error serr;
	char path[CFG_ELEM_PATH_LEN], what[160], buf[80];
	const char *text, *name = config_setting_name(g);
	int rc;

	if ((rc = check_named_group(ctx, g, spath, "schedule",
	    "when = \"...\"; block = \"all\";", schedule_keys, path)) != 0 ||
	    (rc = set_string(ctx, &sc->name, name)) != 0)
		return rc;
	sc->line = (int)config_setting_source_line(g);

	if ((when = config_setting_get_member(g, "when")) == NULL)
		return cfg_err(ctx, g, "%s has no when, like when = \"Sun-Thu "
		    "21:00-07:00\";", path);
	if (config_setting_type(when) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, when, "%s.when must be a string, like "
		    "\"Sun-Thu 21:00-07:00\"", path);
	text = config_setting_get_string(when);
	if (schedule_parse(&sc->when, text, strlen(text), &serr) != 0)
		return cfg_err(ctx, when, "%s: \"%s\" at column %zu: %s", name,
		    msg_str(text, buf, sizeof(buf)), serr.column, serr.reason);

	snprintf(what, sizeof(what), "%s.block", path);
	if ((b = config_setting_get_member(g, "block")) == NULL)
		;
	else if (config_setting_type(b) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(b), "all") != 0)
			return cfg_err(ctx, b, "%s must be \"all\" or a list "
			    "of categories, not \"%s\"", what,
			    msg_str(config_setting_get_string(b), buf,
			    sizeof(buf)));
		sc->all = true;
	} else if (!is_sequence(b))
		return cfg_err(ctx, b, "%s must be \"all\" or a list of "
		    "categories, like [ \"games\" ]", what);
	else if ((rc = load_category_list(ctx, b, what, false,
	    &sc->block_mask)) != 0)
		return rc;

	if ((svc = config_setting_get_member(g, "services")) != NULL) {
		if (sc->all)
			return cfg_err(ctx, svc, "%s: block = \"all\" blocks "
			    "every service already; leave services out", path);
		snprintf(what, sizeof(what), "%s.services", path);
		if ((rc = load_category_list(ctx, svc, what, true,
		    &sc->service_mask)) != 0)
			return rc;
	}
	if (!sc->all && sc->block_mask == 0 && sc->service_mask == 0)
		return cfg_err(ctx, g, "%s blocks nothing: give it block = "
		    "\"all\", categories in block, or services in services",
		    path);
	return 0;
}

static int
load_schedules(struct cfg_ctx *ctx, const config_setting_t *g,
    const char *path, struct config_profile *p)
{
	config_setting_t *sub;
	char spath[CFG_PATH_LEN], buf[80];
	int i, n, rc;

	if ((rc = get_group_checked(ctx, g, path, "schedules", NULL, &sub,
	    spath)) != 0 || sub == NULL)
		return rc;
	if ((n = config_setting_length(sub)) > CONFIG_MAX_SCHEDULES)
		return cfg_err(ctx, config_setting_get_elem(sub,
		    CONFIG_MAX_SCHEDULES), "%s: '%s' is one schedule too many; "
		    "at most %d a profile", spath,
		    msg_str(config_setting_name(config_setting_get_elem(sub,
		    CONFIG_MAX_SCHEDULES)), buf, sizeof(buf)),
		    CONFIG_MAX_SCHEDULES);
	if (n == 0)
		return 0;
	if ((p->schedules = calloc((size_t)n, sizeof(*p->schedules))) == NULL)
		return cfg_nomem(ctx);
	for (i = 0; i < n; i++) {
		p->nschedules++;
		if ((rc = load_schedule(ctx, config_setting_get_elem(sub,
		    (unsigned)i), spath, &p->schedules[i])) != 0)
			return rc;
	}
	return 0;
}

static int
load_safe_search(struct cfg_ctx *ctx, const config_setting_t *g,
    const char *path, struct safesearch_config *ss)
{
	const config_setting_t *where = NULL;
	config_setting_t *sub;
	char what[CFG_PATH_LEN];
	int rc, yt = (int)ss->youtube;

	if ((rc = get_group_checked(ctx, g, path, "safe_search",
	    safe_search_keys, &sub, what)) != 0 || sub == NULL)
		return rc;
	if ((rc = get_bool(ctx, sub, what, "google", &ss->google)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "bing", &ss->bing)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "duckduckgo", &ss->duckduckgo)) !=
	    0 ||
	    (rc = get_bool(ctx, sub, what, "brave", &ss->brave)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "ecosia", &ss->ecosia)) != 0 ||
	    (rc = get_enum(ctx, sub, what, "youtube", youtube_names, &yt,
	    &where)) != 0)
		return rc;
	ss->youtube = (enum safesearch_youtube)yt;
	return 0;
}

static int
load_bypass(struct cfg_ctx *ctx, const config_setting_t *g, const char *path,
    struct config_profile *p)
{
	const config_setting_t *where = NULL;
	config_setting_t *sub;
	char what[CFG_PATH_LEN];
	int rc, od = (int)p->outside_dns;

	if ((rc = get_group_checked(ctx, g, path, "bypass", bypass_keys, &sub,
	    what)) != 0 || sub == NULL)
		return rc;
	if ((rc = get_bool(ctx, sub, what, "doh", &p->bypass_doh)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "dot", &p->bypass_dot)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "vpn", &p->bypass_vpn)) != 0 ||
	    (rc = get_bool(ctx, sub, what, "ech", &p->bypass_ech)) != 0 ||
	    (rc = get_enum(ctx, sub, what, "outside_dns", outside_dns_names,
	    &od, &where)) != 0)
		return rc;
	p->outside_dns = (enum outside_dns)od;
	/* The policy adds these categories: they must exist. */
	if (p->bypass_doh && explicit_category(ctx, "doh") < 0)
		return cfg_err(ctx, config_setting_get_member(sub, "doh"),
		    "%s.doh needs the category \"doh\" in lists: it blocks the "
		    "categories \"doh\" and \"bypass\"", what);
	if (p->bypass_doh && explicit_category(ctx, "bypass") < 0)
		return cfg_err(ctx, config_setting_get_member(sub, "doh"),
		    "%s.doh needs the category \"bypass\" in lists: it blocks "
		    "the categories \"doh\" and \"bypass\"", what);
	if (p->bypass_vpn && explicit_category(ctx, "vpn-proxy") < 0)
		return cfg_err(ctx, config_setting_get_member(sub, "vpn"),
		    "%s.vpn needs the category \"vpn-proxy\" in lists: it "
		    "blocks that category", what);
	return 0;
}

/* Profile g (a member of `profiles`) into p. */
static int
load_profile(struct cfg_ctx *ctx, const config_setting_t *g,
    struct config_profile *p)
{
	const config_setting_t *sub, *where = NULL;
	char path[CFG_ELEM_PATH_LEN], what[160];
	const char *name = config_setting_name(g);
	long long age = 0;
	int rc, fail;

	if ((rc = check_named_group(ctx, g, "profiles", "profile",
	    "block = [ ... ]; ...", profile_keys, path)) != 0 ||
	    (rc = set_string(ctx, &p->name, name)) != 0)
		return rc;
	p->line = (int)config_setting_source_line(g);
	p->fail_open = ctx->cfg->fail_open;

	if ((sub = config_setting_get_member(g, "block")) != NULL) {
		snprintf(what, sizeof(what), "%s.block", path);
		if ((rc = load_category_list(ctx, sub, what, false,
		    &p->block_mask)) != 0)
			return rc;
	}
	if ((sub = config_setting_get_member(g, "services")) != NULL) {
		snprintf(what, sizeof(what), "%s.services", path);
		if ((rc = load_category_list(ctx, sub, what, true,
		    &p->service_mask)) != 0)
			return rc;
	}
	if ((sub = config_setting_get_member(g, "allow")) != NULL) {
		snprintf(what, sizeof(what), "%s.allow", path);
		if ((rc = load_names(ctx, sub, what, &p->allow, &p->nallow)) !=
		    0)
			return rc;
	}
	if ((sub = config_setting_get_member(g, "deny")) != NULL) {
		snprintf(what, sizeof(what), "%s.deny", path);
		if ((rc = load_names(ctx, sub, what, &p->deny, &p->ndeny)) != 0)
			return rc;
	}
	if ((rc = load_schedules(ctx, g, path, p)) != 0 ||
	    (rc = load_safe_search(ctx, g, path, &p->safe_search)) != 0 ||
	    (rc = load_bypass(ctx, g, path, p)) != 0)
		return rc;
	fail = !p->fail_open;
	if ((rc = get_enum(ctx, g, path, "fail", fail_names, &fail,
	    &where)) != 0)
		return rc;
	p->fail_open = fail == 0;
	if ((rc = get_int(ctx, g, path, "age", 0, CONFIG_MAX_AGE, &age)) != 0)
		return rc;
	p->age = (unsigned)age;
	return 0;
}

/* The profiles' names, for a message: "child, teen". */
static const char *
profile_names(const struct config *cfg, char *buf, size_t len)
{
	const char *names[CONFIG_MAX_PROFILES];
	size_t i;

	for (i = 0; i < cfg->nprofiles && i < CONFIG_MAX_PROFILES; i++)
		names[i] = cfg->profiles[i].name;
	return join_names(names, i, buf, len);
}

/*
 * profiles and default_profile.  Without `profiles` there is one implicit
 * profile, "default", that adds nothing to the top-level block.
 */
static int
load_profiles(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	const char *def = NULL;
	char names[256], buf[80];
	int i, n, id, rc;

	if ((rc = get_group(ctx, root, "profiles", &g)) != 0)
		return rc;
	if (g == NULL) {
		if ((cfg->profiles = calloc(1, sizeof(*cfg->profiles))) ==
		    NULL)
			return cfg_nomem(ctx);
		cfg->nprofiles = 1;
		cfg->profiles_implicit = true;
		cfg->profiles[0].fail_open = cfg->fail_open;
		if ((rc = set_string(ctx, &cfg->profiles[0].name,
		    CONFIG_DEFAULT_PROFILE)) != 0)
			return rc;
	} else {
		if ((n = config_setting_length(g)) == 0)
			return cfg_err(ctx, g, "profiles must define at least "
			    "one profile, like profiles = { default = { block "
			    "= [ \"adult\" ]; }; };");
		if (n > CONFIG_MAX_PROFILES)
			return cfg_err(ctx, config_setting_get_elem(g,
			    CONFIG_MAX_PROFILES), "profiles: '%s' is one "
			    "profile too many; at most %d",
			    msg_str(config_setting_name(config_setting_get_elem(
			    g, CONFIG_MAX_PROFILES)), buf, sizeof(buf)),
			    CONFIG_MAX_PROFILES);
		if ((cfg->profiles = calloc((size_t)n,
		    sizeof(*cfg->profiles))) == NULL)
			return cfg_nomem(ctx);
		for (i = 0; i < n; i++) {
			cfg->nprofiles++;
			if ((rc = load_profile(ctx, config_setting_get_elem(g,
			    (unsigned)i), &cfg->profiles[i])) != 0)
				return rc;
		}
	}

	if ((rc = get_string(ctx, root, NULL, "default_profile", &def,
	    &where)) != 0)
		return rc;
	if ((id = config_profile_id(cfg, def != NULL ? def :
	    CONFIG_DEFAULT_PROFILE)) >= 0) {
		cfg->default_profile = (unsigned)id;
		return 0;
	}
	if (def == NULL)
		return cfg_err(ctx, g, "profiles has no profile \""
		    CONFIG_DEFAULT_PROFILE "\", which devices not listed in "
		    "devices get; add one, or name another in "
		    "default_profile");
	if (cfg->profiles_implicit)
		return cfg_err(ctx, where, "default_profile: no profile \"%s\" "
		    "(without profiles, the only profile is \""
		    CONFIG_DEFAULT_PROFILE "\")", msg_str(def, buf,
		    sizeof(buf)));
	return cfg_err(ctx, where, "default_profile: no profile \"%s\" "
	    "(profiles: %s)", msg_str(def, buf, sizeof(buf)),
	    profile_names(cfg, names, sizeof(names)));
}

/* "aa:bb:cc:dd:ee:ff", in any case, into mac. */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	/* Each step reads s[2] only when s[0] and s[1] were digits. */
	for (i = 0; i < 6; i++, s += 3) {
		hi = cursor_hex_value((uint8_t)s[0]);
		lo = hi < 0 ? -1 : cursor_hex_value((uint8_t)s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * "ADDR/LEN" into *a and *prefix; NULL, or what is wrong.  Bits set past
 * the prefix are left for the caller, who can then name the network.
 */
static const char *
parse_cidr(const char *s, struct sg_addr *a, unsigned *prefix)
{
	static const char bad[] = "is not an address and a prefix length, "
	    "like \"192.168.2.0/24\"";
	char host[ADDR_STRLEN + 1];
	const char *slash = strchr(s, '/'), *p;
	size_t len;
	unsigned v = 0;

	if (slash == NULL || (len = (size_t)(slash - s)) == 0 ||
	    len >= sizeof(host))
		return bad;
	memcpy(host, s, len);
	host[len] = '\0';
	if (addr_parse(a, host) != 0)
		return bad;
	for (p = slash + 1; *p >= '0' && *p <= '9' && v <= 128; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (p == slash + 1 || *p != '\0')
		return bad;
	if (v > addr_len(a) * 8)
		return a->family == AF_INET ? "has a prefix length over 32" :
		    "has a prefix length over 128";
	*prefix = v;
	return NULL;
}

/* a with the bits past the first plen cleared. */
static struct sg_addr
addr_network(const struct sg_addr *a, unsigned plen)
{
	struct sg_addr net = *a;
	size_t i;

	for (i = 0; i < addr_len(a); i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		net.u.b[i] &= (uint8_t)(0xff << (8 - plen));	/* 0 at 0 */
		plen = 0;
	}
	return net;
}

/* Devices entry number i (0-based), ent, into d. */
static int
load_device(struct cfg_ctx *ctx, const config_setting_t *ent, int i,
    struct config_device *d)
{
	static const char *const kinds[] = { "mac", "ip", "cidr" };
	const struct config *cfg = ctx->cfg;
	const config_setting_t *ns, *ps, *k[3], *at = NULL;
	struct sg_addr net;
	char names[256], buf[80];
	const char *s, *why;
	int j, which = -1, id, rc;

	if (!config_setting_is_group(ent))
		return cfg_err(ctx, ent, "devices entry %d must be a group: "
		    "{ name = \"...\"; mac = \"...\"; profile = \"...\"; }",
		    i + 1);
	snprintf(buf, sizeof(buf), " in devices entry %d", i + 1);
	if ((rc = check_keys(ctx, ent, "", buf, device_keys)) != 0)
		return rc;
	d->line = (int)config_setting_source_line(ent);

	if ((ns = config_setting_get_member(ent, "name")) == NULL)
		return cfg_err(ctx, ent, "devices entry %d has no name", i + 1);
	if (config_setting_type(ns) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, ns, "devices entry %d: name must be a "
		    "string", i + 1);
	s = config_setting_get_string(ns);
	if (!valid_device_name(s))
		return cfg_err(ctx, ns, "devices entry %d: name \"%s\" is not "
		    "a valid device name (1 to %d of A-Z, a-z, 0-9, ., _ and "
		    "-)",
		    i + 1, msg_str(s, buf, sizeof(buf)), DEVICES_NAME_MAX);
	if ((rc = set_string(ctx, &d->name, s)) != 0)
		return rc;
	d->spec.name = d->name;

	for (j = 0; j < 3; j++) {
		if ((k[j] = config_setting_get_member(ent, kinds[j])) == NULL)
			continue;
		if (which >= 0) {
			at = config_line(k[j]) >= config_line(k[which]) ?
			    k[j] : k[which];
			return cfg_err(ctx, at, "devices entry %d (%s) has "
			    "both %s and %s; give exactly one of mac, ip and "
			    "cidr",
			    i + 1, d->name, kinds[which], kinds[j]);
		}
		which = j;
	}
	if (which < 0)
		return cfg_err(ctx, ent, "devices entry %d (%s) has no mac, ip "
		    "or cidr; give exactly one", i + 1, d->name);
	if (config_setting_type(k[which]) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, k[which], "devices entry %d (%s): %s must "
		    "be a string", i + 1, d->name, kinds[which]);
	s = config_setting_get_string(k[which]);
	switch (which) {
	case 0:
		d->spec.kind = DEVICES_MAC;
		if (!parse_mac(s, d->spec.mac))
			return cfg_err(ctx, k[0], "devices entry %d (%s): mac "
			    "\"%s\" is not a MAC address like "
			    "\"02:00:00:00:00:01\"", i + 1, d->name,
			    msg_str(s, buf, sizeof(buf)));
		break;
	case 1:
		d->spec.kind = DEVICES_IP;
		if (addr_parse(&d->spec.addr, s) != 0)
			return cfg_err(ctx, k[1], "devices entry %d (%s): ip "
			    "\"%s\" is not an IPv4 or IPv6 address", i + 1,
			    d->name, msg_str(s, buf, sizeof(buf)));
		break;
	default:
		d->spec.kind = DEVICES_CIDR;
		if ((why = parse_cidr(s, &d->spec.addr, &d->spec.prefix)) !=
		    NULL)
			return cfg_err(ctx, k[2], "devices entry %d (%s): cidr "
			    "\"%s\" %s", i + 1, d->name,
			    msg_str(s, buf, sizeof(buf)), why);
		net = addr_network(&d->spec.addr, d->spec.prefix);
		if (!addr_equal(&net, &d->spec.addr))
			return cfg_err(ctx, k[2], "devices entry %d (%s): cidr "
			    "\"%s\" has bits set past the prefix length; the "
			    "network is %s/%u", i + 1, d->name,
			    msg_str(s, buf, sizeof(buf)), addr_ntop(&net, names,
			    sizeof(names)), d->spec.prefix);
		break;
	}

	if ((ps = config_setting_get_member(ent, "profile")) == NULL)
		return cfg_err(ctx, ent, "devices entry %d (%s) has no profile",
		    i + 1, d->name);
	if (config_setting_type(ps) != CONFIG_TYPE_STRING)
		return cfg_err(ctx, ps, "devices entry %d (%s): profile must "
		    "be a string", i + 1, d->name);
	s = config_setting_get_string(ps);
	if ((id = config_profile_id(cfg, s)) < 0)
		return cfg_err(ctx, ps, "devices entry %d (%s): no profile "
		    "\"%s\" (%s%s)", i + 1, d->name, msg_str(s, buf,
		    sizeof(buf)), cfg->profiles_implicit ? "without profiles, "
		    "the only profile is \"" CONFIG_DEFAULT_PROFILE "\"" :
		    "profiles: ", cfg->profiles_implicit ? "" :
		    profile_names(cfg, names, sizeof(names)));
	d->spec.profile = (unsigned)id;
	/* One device known several ways is still one device. */
	for (j = 0; j < i; j++)
		if (strcmp(cfg->devices[j].name, d->name) == 0 &&
		    cfg->devices[j].spec.profile != d->spec.profile)
			return cfg_err(ctx, ps, "devices entry %d (%s): "
			    "profile \"%s\", but devices entry %d gives %s the "
			    "profile \"%s\"; entries of one name share one "
			    "profile",
			    i + 1, d->name, s, j + 1, d->name,
			    cfg->profiles[cfg->devices[j].spec.profile].name);
	return 0;
}

/* Whether specs a and b name the same MAC, address or CIDR. */
static bool
same_spec(const struct devices_spec *a, const struct devices_spec *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == DEVICES_MAC)
		return memcmp(a->mac, b->mac, sizeof(a->mac)) == 0;
	return addr_equal(&a->addr, &b->addr) && (a->kind == DEVICES_IP ||
	    a->prefix == b->prefix);
}

static int
load_devices(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *list;
	struct devices_spec *specs;
	struct devices_error derr = { NULL, 0 };
	struct devices *table;
	size_t k, first;
	int i, n, rc;

	if ((rc = get_group_list(ctx, root, "devices", "name = \"...\"; mac = "
	    "\"...\"; profile = \"...\";", &list, &n)) != 0 || n == 0)
		return rc;
	if (n > DEVICES_MAX)
		return cfg_err(ctx, list, "devices has %d entries; at most %d",
		    n, DEVICES_MAX);
	if ((cfg->devices = calloc((size_t)n, sizeof(*cfg->devices))) == NULL)
		return cfg_nomem(ctx);
	for (i = 0; i < n; i++) {
		cfg->ndevices++;
		if ((rc = load_device(ctx, config_setting_get_elem(list,
		    (unsigned)i), i, &cfg->devices[i])) != 0)
			return rc;
	}

	/* What only the whole table shows: a MAC, address or CIDR listed
	   twice, bits set past a prefix.  The table itself is built again
	   from cfg->devices by whoever matches packets. */
	if ((specs = calloc((size_t)n, sizeof(*specs))) == NULL)
		return cfg_nomem(ctx);
	for (k = 0; k < (size_t)n; k++)
		specs[k] = cfg->devices[k].spec;
	table = devices_new(specs, (size_t)n, &derr);
	free(specs);
	if (table != NULL) {
		devices_free(table);
		return 0;
	}
	if (errno == ENOMEM || derr.index >= (size_t)n)
		return cfg_nomem(ctx);
	for (first = 0; first < derr.index; first++)
		if (same_spec(&cfg->devices[first].spec,
		    &cfg->devices[derr.index].spec))
			break;
	if (first < derr.index)
		return cfg_err(ctx, config_setting_get_elem(list,
		    (unsigned)derr.index), "devices entry %zu (%s): %s, first "
		    "in devices entry %zu (%s)", derr.index + 1,
		    cfg->devices[derr.index].name, derr.reason, first + 1,
		    cfg->devices[first].name);
	return cfg_err(ctx, config_setting_get_elem(list, (unsigned)derr.index),
	    "devices entry %zu (%s): %s", derr.index + 1,
	    cfg->devices[derr.index].name, derr.reason);
}

/*
 * dhcp_leases, profiles and default_profile, devices, always_allow.
 * Profiles come before devices, which name them.
 */
static int
load_policy(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL, *aa;
	const char *s = NULL;
	int rc;

	if ((rc = get_string(ctx, root, NULL, "dhcp_leases", &s, &where)) != 0)
		return rc;
	if (s != NULL) {
		if (s[0] != '\0' && s[0] != '/')
			return cfg_err(ctx, where, "dhcp_leases must be an "
			    "absolute path (starting with /), or \"\" for "
			    "none");
		if ((rc = set_string(ctx, &cfg->dhcp_leases, s)) != 0)
			return rc;
	}
	if ((rc = load_profiles(ctx, root)) != 0 ||
	    (rc = load_devices(ctx, root)) != 0)
		return rc;
	if ((aa = config_setting_get_member(root, "always_allow")) != NULL)
		return load_names(ctx, aa, "always_allow", &cfg->always_allow,
		    &cfg->nalways_allow);
	return 0;
}

/* ------------------------------------------------ alert and blockpage */

static int
load_alert(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	const char *cmd = NULL;
	long long interval = cfg->alert_interval;
	int rc;

	if ((rc = get_group_checked(ctx, root, NULL, "alert", alert_keys, &g,
	    NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_string(ctx, g, "alert", "command", &cmd, &where)) != 0)
		return rc;
	if (cmd != NULL) {
		/* Started with no shell and no PATH search (alert.h): a
		 * program, by its absolute path, with no arguments. */
		if (cmd[0] != '\0' && cmd[0] != '/')
			return cfg_err(ctx, where, "alert.command must be an "
			    "absolute path (starting with /), or \"\" for "
			    "none");
		if (cmd[0] != '\0' && cmd[strlen(cmd) - 1] == '/')
			return cfg_err(ctx, where, "alert.command must name a "
			    "program, not a folder");
		if ((rc = set_string(ctx, &cfg->alert_command, cmd)) != 0)
			return rc;
	}
	if ((rc = get_int(ctx, g, "alert", "interval",
	    CONFIG_MIN_ALERT_INTERVAL, CONFIG_MAX_ALERT_INTERVAL,
	    &interval)) != 0)
		return rc;
	cfg->alert_interval = (unsigned)interval;
	return 0;
}

/* blockpage: after dns, whose block_page addresses it listens on. */
static int
load_blockpage(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	config_setting_t *g;
	long long port = cfg->blockpage_port;
	int rc;

	if ((rc = get_group_checked(ctx, root, NULL, "blockpage",
	    blockpage_keys, &g, NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_bool(ctx, g, "blockpage", "serve",
	    &cfg->blockpage_serve)) != 0 ||
	    (rc = get_int(ctx, g, "blockpage", "port", 1, 65535, &port)) != 0)
		return rc;
	cfg->blockpage_port = (uint16_t)port;
	if (cfg->blockpage_serve && cfg->block.page_v4.family == AF_UNSPEC &&
	    cfg->block.page_v6.family == AF_UNSPEC)
		return cfg_err(ctx, config_setting_get_member(g, "serve"),
		    "blockpage.serve needs the block page's address in "
		    "dns.block_page, like [ \"192.0.2.1\" ]: the page is "
		    "served there");
	return 0;
}

/* ----------------------------------------------------------------- risk */

/* The ids of those of names[] that are categories already. */
static uint64_t
existing_mask(const struct config *cfg, const char *const *names, size_t n)
{
	uint64_t mask = 0;
	size_t i;
	int id;

	for (i = 0; i < n; i++)
		if ((id = config_category_id(cfg, names[i])) >= 0)
			mask |= UINT64_C(1) << id;
	return mask;
}

/*
 * A list of risk's, s (what names it: "risk.messaging"): categories that
 * `lists` defines and services, each once, at most CONFIG_RISK_MAX_WATCH,
 * into *mask.  A service becomes a category as a profile's does
 * (service_category()).
 */
static int
load_watch_list(struct cfg_ctx *ctx, const config_setting_t *s,
    const char *what, uint64_t *mask)
{
	const config_setting_t *e;
	char names[160], svcs[160], buf[80];
	const char *name;
	unsigned id = 0;
	int i, n, c, rc;

	*mask = 0;
	if (!is_sequence(s))
		return cfg_err(ctx, s, "%s must be a list of categories and "
		    "services, like [ \"anon-chat\", \"discord\" ]", what);
	if ((n = config_setting_length(s)) > CONFIG_RISK_MAX_WATCH)
		return cfg_err(ctx, s, "%s names %d categories and services; "
		    "at most %d", what, n, CONFIG_RISK_MAX_WATCH);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_err(ctx, e, "%s must be a list of strings",
			    what);
		name = config_setting_get_string(e);
		if ((c = explicit_category(ctx, name)) >= 0)
			id = (unsigned)c;
		else if (!is_service(name))
			return cfg_err(ctx, e, "%s: '%s' is neither a category "
			    "lists define nor a service (%s%s; services: %s)",
			    what, msg_str(name, buf, sizeof(buf)),
			    ctx->nexplicit ? "lists define: " :
			    "no lists are defined",
			    category_names(ctx->cfg, ctx->nexplicit, names,
			    sizeof(names)),
			    join_names(config_services, config_nservices,
			    svcs, sizeof(svcs)));
		else if ((rc = service_category(ctx, e, name, &id)) != 0)
			return rc;
		if (*mask & (UINT64_C(1) << id))
			return cfg_err(ctx, e, "%s: '%s' is named twice", what,
			    name);
		*mask |= UINT64_C(1) << id;
	}
	return 0;
}

/*
 * Rule `key` of risk (g, NULL when there is no risk): its group, checked
 * against keys, into *sub (NULL when absent) and its path into what
 * (CFG_PATH_LEN bytes); enabled and window into *r.
 */
static int
load_rule(struct cfg_ctx *ctx, const config_setting_t *g, const char *key,
    const char *const keys[], struct config_risk_rule *r,
    config_setting_t **sub, char *what)
{
	long long window = r->window;
	int rc;

	*sub = NULL;
	if (g == NULL)
		return 0;
	if ((rc = get_group_checked(ctx, g, "risk", key, keys, sub, what)) !=
	    0 || *sub == NULL)
		return rc;
	if ((rc = get_bool(ctx, *sub, what, "enabled", &r->enabled)) != 0 ||
	    (rc = get_int(ctx, *sub, what, "window", 0, CONFIG_MAX_RISK_WINDOW,
	    &window)) != 0)
		return rc;
	r->window = (unsigned)window;
	return 0;
}

/*
 * The list `key` of group g (path what), or, when either is absent, the
 * default: those of def[] that are categories already.
 */
static int
load_watch(struct cfg_ctx *ctx, const config_setting_t *g, const char *what,
    const char *key, const char *const *def, size_t ndef, uint64_t *mask)
{
	const config_setting_t *s;
	char path[CFG_PATH_LEN + 16];

	if (g == NULL || (s = config_setting_get_member(g, key)) == NULL) {
		*mask = existing_mask(ctx->cfg, def, ndef);
		return 0;
	}
	snprintf(path, sizeof(path), "%s.%s", what, key);
	return load_watch_list(ctx, s, path, mask);
}

/*
 * risk: after profiles, so that the default messaging list can take the
 * services they made categories.  A default list never makes a category
 * (a config without `risk` reads no services/ file it did not read
 * before); a name written in a list does, as a profile's service does.
 */
/* risk.state: "" (not kept) or an absolute path; left out, beside
 * control.state (config_load's end). */
static int
load_risk_state(struct cfg_ctx *ctx, const config_setting_t *g)
{
	const config_setting_t *where = NULL;
	const char *path = NULL;
	int rc;

	if (g == NULL || (rc = get_string(ctx, g, "risk", "state", &path,
	    &where)) != 0 || path == NULL)
		return g == NULL ? 0 : rc;
	if (path[0] != '\0' && path[0] != '/')
		return cfg_err(ctx, where, "risk.state must be an absolute "
		    "path (starting with /), or \"\" to keep nothing");
	return set_string(ctx, &ctx->cfg->risk_state, path);
}

static int
load_risk(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config_risk *r = &ctx->cfg->risk;
	const config_setting_t *where = NULL;
	config_setting_t *g, *sub;
	char what[CFG_PATH_LEN], buf[80];
	const char *bedtime = NULL;
	long long v;
	int rc;

	if ((rc = get_group_checked(ctx, root, NULL, "risk", risk_keys, &g,
	    NULL)) != 0)
		return rc;

	if ((rc = load_rule(ctx, g, "anon_chat", anon_chat_keys,
	    &r->anon_chat, &sub, what)) != 0 ||
	    (rc = load_watch(ctx, sub, what, "categories", def_anon_chat,
	    NELEM(def_anon_chat), &r->anon_chat_mask)) != 0 ||
	    (rc = load_rule(ctx, g, "late_night", rule_keys, &r->late_night,
	    &sub, what)) != 0 ||
	    (rc = load_rule(ctx, g, "first_seen", first_seen_keys,
	    &r->first_seen, &sub, what)) != 0)
		return rc;
	v = r->first_seen_days;
	if ((rc = get_int(ctx, sub, what, "baseline_days", 1, 365, &v)) != 0)
		return rc;
	r->first_seen_days = (unsigned)v;

	if ((rc = load_watch(ctx, g, "risk", "messaging", def_messaging,
	    NELEM(def_messaging), &r->messaging_mask)) != 0 ||
	    (rc = load_rule(ctx, g, "bypass", rule_keys, &r->bypass, &sub,
	    what)) != 0 ||
	    (rc = load_rule(ctx, g, "repeated", repeated_keys, &r->repeated,
	    &sub, what)) != 0)
		return rc;
	v = r->repeated_count;
	if ((rc = get_int(ctx, sub, what, "count", 1, CONFIG_RISK_MAX_COUNT,
	    &v)) != 0)
		return rc;
	r->repeated_count = (unsigned)v;
	v = r->repeated_minutes;
	if ((rc = get_int(ctx, sub, what, "minutes", 1, 1440, &v)) != 0)
		return rc;
	r->repeated_minutes = (unsigned)v;
	if ((rc = load_watch(ctx, sub, what, "categories", def_repeated,
	    NELEM(def_repeated), &r->repeated_mask)) != 0 ||
	    (rc = load_rule(ctx, g, "age", rule_keys, &r->age, &sub,
	    what)) != 0 ||
	    (rc = load_rule(ctx, g, "abuse", rule_keys, &r->abuse, &sub,
	    what)) != 0)
		return rc;

	if ((rc = get_string(ctx, g, "risk", "bedtime", &bedtime, &where)) !=
	    0)
		return rc;
	if (bedtime == NULL)
		return load_risk_state(ctx, g);
	/* A schedule's name; no profile need have one of it. */
	if (!valid_group_name(bedtime))
		return cfg_err(ctx, where, "risk.bedtime: '%s' is not a valid "
		    "schedule name (1 to %d of A-Z, a-z, 0-9, _ and -)",
		    msg_str(bedtime, buf, sizeof(buf)), CONFIG_NAME_MAX);
	if ((rc = set_string(ctx, &r->bedtime, bedtime)) != 0)
		return rc;
	return load_risk_state(ctx, g);
}

/* ------------------------------------------------------------------ log */

/* log.syslog: forwarding the record to a syslog receiver. */
static int
load_syslog(struct cfg_ctx *ctx, const config_setting_t *g)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL, *cwhere = NULL;
	config_setting_t *sub;
	char what[CFG_PATH_LEN], buf[80];
	const char *target = NULL, *ca = NULL, *fac = NULL;
	struct syslogfwd_target st;
	char why[160];
	bool tls = false;
	int rc, i;

	if ((rc = get_group_checked(ctx, g, "log", "syslog", syslog_keys, &sub,
	    what)) != 0 || sub == NULL)
		return rc;
	if ((rc = get_string(ctx, sub, what, "target", &target, &where)) != 0)
		return rc;
	if (target != NULL) {
		/* The forwarder's own reading of it: one grammar. */
		if (target[0] != '\0' && syslogfwd_parse_target(target, &st,
		    why, sizeof(why)) < 0)
			return cfg_err(ctx, where, "log.syslog.target: \"%s\": "
			    "%s", msg_str(target, buf, sizeof(buf)),
			    strncmp(why, "syslog target: ", 15) == 0 ?
			    why + 15 : why);
		tls = target[0] != '\0' && st.proto == SYSLOGFWD_TLS;
		if ((rc = set_string(ctx, &cfg->syslog_target, target)) != 0)
			return rc;
	}
	if ((rc = get_string(ctx, sub, what, "ca", &ca, &cwhere)) != 0)
		return rc;
	if (ca != NULL) {
		if (ca[0] != '\0' && ca[0] != '/')
			return cfg_err(ctx, cwhere, "log.syslog.ca must be an "
			    "absolute path (starting with /), or \"\" for the "
			    "system's certificates");
		if ((rc = set_string(ctx, &cfg->syslog_ca, ca)) != 0)
			return rc;
	}
	/* A CA that nothing reads would look like protection that is not
	   there.  With no target at all, it may wait for one. */
	if (cfg->syslog_ca[0] != '\0' && cfg->syslog_target[0] != '\0' &&
	    !tls)
		return cfg_err(ctx, cwhere, "log.syslog.ca is only for a "
		    "tls:// target; udp:// and tcp:// are not encrypted");
	if ((rc = get_string(ctx, sub, what, "facility", &fac, &where)) != 0 ||
	    fac == NULL)
		return rc;
	for (i = 0; facility_names[i] != NULL; i++)
		if (strcmp(fac, facility_names[i]) == 0) {
			cfg->syslog_facility = (unsigned)i;
			return 0;
		}
	return cfg_err(ctx, where, "log.syslog.facility must be a syslog "
	    "facility (kern, user, mail, daemon, auth, syslog, lpr, news, "
	    "uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0 to "
	    "local7), not \"%s\"", msg_str(fac, buf, sizeof(buf)));
}

static int
load_log(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL, *s;
	config_setting_t *g;
	const char *events = NULL;
	long long v;
	int rc, level = (int)cfg->log_level;

	if ((rc = get_group_checked(ctx, root, NULL, "log", log_keys, &g,
	    NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_string(ctx, g, "log", "events", &events, &where)) != 0)
		return rc;
	if (events != NULL) {
		if (events[0] == '\0')
			return cfg_err(ctx, where, "log.events must not be "
			    "empty");
		if (events[0] != '/')
			return cfg_err(ctx, where, "log.events must be an "
			    "absolute path (starting with /)");
		if ((rc = set_string(ctx, &cfg->events_path, events)) != 0)
			return rc;
	}
	if ((rc = get_enum(ctx, g, "log", "level", level_names, &level,
	    &where)) != 0)
		return rc;
	cfg->log_level = (enum log_level)level;

	if ((s = config_setting_get_member(g, "rotate_size")) != NULL) {
		if ((rc = check_int(ctx, s, "log.rotate_size", LLONG_MIN,
		    LLONG_MAX, &v)) != 0)
			return rc;
		if (v != 0 && (v < CONFIG_MIN_ROTATE_SIZE ||
		    v > CONFIG_MAX_ROTATE_SIZE))
			return cfg_err(ctx, s, "log.rotate_size must be 0 (no "
			    "rotation by size) or %d..%" PRId64 " bytes, not "
			    "%lld", CONFIG_MIN_ROTATE_SIZE,
			    CONFIG_MAX_ROTATE_SIZE, v);
		cfg->events_rotate_bytes = (uint64_t)v;
	}
	if ((rc = get_bool(ctx, g, "log", "rotate_daily",
	    &cfg->events_rotate_daily)) != 0)
		return rc;
	v = cfg->events_keep_days;
	if ((rc = get_int(ctx, g, "log", "retention_days", 0,
	    CONFIG_MAX_RETENTION, &v)) != 0)
		return rc;
	cfg->events_keep_days = (unsigned)v;
	return load_syslog(ctx, g);
}

static int
load_control(struct cfg_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *where = NULL;
	config_setting_t *g;
	const char *sock = NULL;
	int rc;

	if ((rc = get_group_checked(ctx, root, NULL, "control", control_keys,
	    &g, NULL)) != 0 || g == NULL)
		return rc;
	if ((rc = get_string(ctx, g, "control", "socket", &sock, &where)) != 0)
		return rc;
	if (sock != NULL) {
		if (sock[0] != '/')
			return cfg_err(ctx, where, "control.socket must be an "
			    "absolute path (starting with /)");
		if (strlen(sock) >= CONFIG_SUN_PATH)
			return cfg_err(ctx, where, "control.socket is %zu "
			    "bytes long; a unix socket path must be shorter "
			    "than %zu",
			    strlen(sock), CONFIG_SUN_PATH);
		if ((rc = set_string(ctx, &cfg->control_socket, sock)) != 0)
			return rc;
	}
	sock = NULL;
	if ((rc = get_string(ctx, g, "control", "state", &sock, &where)) != 0 ||
	    sock == NULL)
		return rc;
	if (sock[0] != '/')
		return cfg_err(ctx, where, "control.state must be an absolute "
		    "path (starting with /)");
	return set_string(ctx, &cfg->state_path, sock);
}

/* ----------------------------------------------------------------- load */

/* A struct config holding the defaults, or NULL (ENOMEM). */
static struct config *
config_new(const char *source)
{
	struct config *cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->queue_first = 0;
	cfg->queue_count = 1;
	cfg->fail_open = true;
	cfg->queue_max_len = CONFIG_DEF_MAX_LEN;
	cfg->fw_manage = true;
	cfg->fw_backend = FW_AUTO;
	cfg->block.mode = DNS_BLOCK_NXDOMAIN;
	cfg->block.ttl = CONFIG_DEF_TTL;
	cfg->block.page_v4.family = AF_UNSPEC;
	cfg->block.page_v6.family = AF_UNSPEC;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->source = strdup(source);
	cfg->lists_dir = strdup(CONFIG_DEF_LISTS_DIR);
	cfg->lists_db = strdup(CONFIG_DEF_LISTS_DB);
	cfg->feeds = strdup(CONFIG_DEF_FEEDS);
	cfg->events_path = strdup(CONFIG_DEF_EVENTS);
	cfg->control_socket = strdup(CONFIG_DEF_SOCKET);
	cfg->state_path = strdup(CONFIG_DEF_STATE);
	cfg->dhcp_leases = strdup(CONFIG_DEF_LEASES);
	addr_set(&cfg->resolver, AF_INET, CONFIG_DEF_RESOLVER);
	cfg->resolver_port = CONFIG_DEF_DNS_PORT;
	cfg->events_rotate_bytes = CONFIG_DEF_ROTATE_SIZE;
	cfg->events_rotate_daily = true;
	cfg->events_keep_days = CONFIG_DEF_RETENTION;
	cfg->syslog_target = strdup("");
	cfg->syslog_ca = strdup("");
	cfg->syslog_facility = CONFIG_DEF_FACILITY;
	cfg->alert_command = strdup("");
	cfg->alert_interval = CONFIG_DEF_ALERT_INTERVAL;
	cfg->blockpage_serve = false;
	cfg->blockpage_port = CONFIG_DEF_BLOCKPAGE_PORT;
	cfg->risk = (struct config_risk){
		.anon_chat = { true, 86400 },
		.late_night = { true, 3600 },
		.first_seen = { true, 86400 },
		.bypass = { true, 3600 },
		.repeated = { true, 3600 },
		.age = { true, 86400 },
		.abuse = { true, 0 },
		.first_seen_days = 30,
		.repeated_count = 5,
		.repeated_minutes = 10,
		.bedtime = strdup(CONFIG_DEF_BEDTIME),
	};
	if (cfg->source == NULL || cfg->lists_dir == NULL ||
	    cfg->lists_db == NULL || cfg->feeds == NULL ||
	    cfg->events_path == NULL || cfg->control_socket == NULL ||
	    cfg->state_path == NULL || cfg->dhcp_leases == NULL ||
	    cfg->syslog_target == NULL || cfg->syslog_ca == NULL ||
	    cfg->alert_command == NULL || cfg->risk.bedtime == NULL) {
		config_free(cfg);
		errno = ENOMEM;
		return NULL;
	}
	return cfg;
}

/* risk.state left out: RISK_STATE_NAME in control.state's folder, so that
 * moving one moves both. */
static int
default_risk_state(struct cfg_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *slash;
	char *p;
	int n;

	if (cfg->risk_state != NULL)
		return 0;
	slash = strrchr(cfg->state_path, '/');
	n = slash == NULL ? 0 : (int)(slash - cfg->state_path);
	if (asprintf(&p, "%.*s/%s", n, cfg->state_path,
	    CONFIG_RISK_STATE_NAME) < 0)
		return cfg_err(ctx, NULL, "out of memory");
	cfg->risk_state = p;
	return 0;
}

/* Checks libconfig's tree into ctx->cfg, group by group. */
static int
load_tree(struct cfg_ctx *ctx, const config_setting_t *root)
{
	int rc;

	if ((rc = check_keys(ctx, root, "", "", root_keys)) != 0 ||
	    (rc = load_queue(ctx, root)) != 0 ||
	    (rc = load_firewall(ctx, root)) != 0 ||
	    (rc = load_dns(ctx, root)) != 0 ||
	    (rc = load_connections(ctx, root)) != 0 ||
	    (rc = load_lists(ctx, root)) != 0 ||
	    (rc = load_block(ctx, root)) != 0)
		return rc;
	/* Categories from here on are services'. */
	ctx->nexplicit = ctx->cfg->ncategories;
	if ((rc = load_policy(ctx, root)) != 0 ||
	    (rc = load_alert(ctx, root)) != 0 ||
	    (rc = load_blockpage(ctx, root)) != 0 ||
	    (rc = load_risk(ctx, root)) != 0 ||
	    (rc = load_log(ctx, root)) != 0 ||
	    (rc = load_control(ctx, root)) != 0)
		return rc;
	return default_risk_state(ctx);
}

/*
 * text must end in a newline: libconfig 1.5 takes a '#' comment on a last
 * line without one as a syntax error.
 */
static struct config *
load_text(const char *name, const char *text, char *err, size_t errlen)
{
	struct cfg_ctx ctx = { name, err, errlen, NULL, 0 };
	struct str_lines sl = { NULL, 0, 0 };
	config_t lc;
	size_t next = 0;
	int rc;

	if ((rc = check_syntax(name, text, &sl, err, errlen)) != 0) {
		free(sl.line);
		errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	if ((ctx.cfg = config_new(name)) == NULL) {
		free(sl.line);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		/* Only what check_syntax() cannot see: duplicate names, mixed
		   types in an array, no memory. */
		if (config_error_line(&lc) > 0)
			snprintf(err, errlen, "%s:%d: %s", name,
			    config_error_line(&lc), config_error_text(&lc));
		else
			snprintf(err, errlen, "%s: %s", name,
			    config_error_text(&lc));
		rc = SG_ECONFIG;
	} else {
		fix_lines(config_root_setting(&lc), &sl, &next);
		rc = load_tree(&ctx, config_root_setting(&lc));
	}
	free(sl.line);
	config_destroy(&lc);
	if (rc != 0) {
		config_free(ctx.cfg);
		errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	return ctx.cfg;
}

struct config *
config_load_string(const char *name, const char *text, char *err,
    size_t errlen)
{
	struct config *cfg;
	char *copy;
	size_t len;

	if (name == NULL)
		name = "<string>";
	if (text == NULL) {
		snprintf(err, errlen, "%s: no text", name);
		errno = EINVAL;
		return NULL;
	}
	len = strlen(text);
	if (len > 0 && text[len - 1] == '\n')
		return load_text(name, text, err, errlen);
	if ((copy = malloc(len + 2)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	memcpy(copy, text, len);
	memcpy(copy + len, "\n", 2);
	cfg = load_text(name, copy, err, errlen);
	free(copy);
	return cfg;
}

/*
 * Reads a text file of at most CONFIG_MAX_SIZE bytes with no NUL byte into
 * *text (the caller frees it), NUL-terminated and ending in a newline.
 * Returns 0, or SG_ECONFIG or -errno with a message.
 */
static int
read_text(const char *path, char **text, char *err, size_t errlen)
{
	char *buf = NULL, *nul;
	size_t len = 0, n, i;
	unsigned line;
	FILE *fp;
	int rc = 0;

	*text = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* One byte more than allowed tells a file that is too big. */
	if ((buf = malloc(CONFIG_MAX_SIZE + 2)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -ENOMEM;
		goto done;
	}
	while (len <= CONFIG_MAX_SIZE &&
	    (n = fread(buf + len, 1, CONFIG_MAX_SIZE + 1 - len, fp)) > 0)
		len += n;
	if (ferror(fp)) {
		rc = errno != 0 ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", path, sg_strerror(rc));
		goto done;
	}
	if (len > CONFIG_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_MAX_SIZE);
		rc = -EFBIG;
		goto done;
	}
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (line = 1, i = 0; buf + i < nul; i++)
			line += buf[i] == '\n';
		snprintf(err, errlen, "%s:%u: a NUL byte; this is not a text "
		    "file", path, line);
		rc = SG_ECONFIG;
		goto done;
	}
	if (len == 0 || buf[len - 1] != '\n')
		buf[len++] = '\n';
	buf[len] = '\0';
	*text = buf;
	buf = NULL;
done:
	free(buf);
	fclose(fp);
	return rc;
}

/* The file's identity and last change, as read_settled() compares them. */
static int
file_id(const char *path, struct stat *st)
{
	return stat(path, st) == -1 ? -errno : 0;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

#define SETTLE_MS	50
#define SETTLE_TRIES	6

/*
 * read_text() of a file that may be being written in place (truncated,
 * then written in pieces): a read between the pieces sees a prefix that
 * may well parse.  A file changed less than a second ago is read again
 * SETTLE_MS later, and taken only when two reads in a row found the same
 * bytes in the same, unchanged file.  An empty file is refused: it is
 * what a reader sees between an editor's truncate and its write, for as
 * long as the editor takes; a config of defaults has at least a comment.
 */
static int
read_settled(const char *path, char **text, char *err, size_t errlen)
{
	struct timespec pause = { 0, SETTLE_MS * 1000000L }, now;
	struct stat a, b;
	char *again;
	int rc, i;

	*text = NULL;
	for (i = 0; i < SETTLE_TRIES; i++) {
		if ((rc = file_id(path, &a)) < 0 ||
		    (rc = read_text(path, text, err, errlen)) != 0 ||
		    (rc = file_id(path, &b)) < 0)
			goto fail;
		clock_gettime(CLOCK_REALTIME, &now);
		if (same_file(&a, &b) && now.tv_sec - b.st_ctim.tv_sec > 1)
			break;
		nanosleep(&pause, NULL);
		if ((rc = read_text(path, &again, err, errlen)) != 0)
			goto fail;
		if ((rc = file_id(path, &a)) < 0) {
			free(again);
			goto fail;
		}
		rc = same_file(&a, &b) && strcmp(*text, again) == 0;
		free(again);
		if (rc)
			break;
		free(*text);
		*text = NULL;
	}
	if (i == SETTLE_TRIES) {
		snprintf(err, errlen, "%s: changed while being read; "
		    "write it to another file and rename it", path);
		return SG_ECONFIG;
	}
	if (b.st_size == 0) {
		snprintf(err, errlen, "%s:1: the file is empty (being "
		    "written?); a config of defaults needs at least a "
		    "comment", path);
		free(*text);
		*text = NULL;
		return SG_ECONFIG;
	}
	return 0;
fail:
	if (rc < 0 && rc != SG_ECONFIG && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	free(*text);
	*text = NULL;
	return rc;
}

struct config *
config_load_file(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	char *text;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if ((rc = read_settled(path, &text, err, errlen)) != 0) {
		errno = rc == SG_ECONFIG ? EINVAL : -rc;
		return NULL;
	}
	cfg = load_text(path, text, err, errlen);
	rc = errno;
	free(text);
	errno = rc;
	return cfg;
}

int
config_read_other(const char *path, config_t *lc, char *err, size_t errlen)
{
	struct str_lines sl = { NULL, 0, 0 };
	char *text;
	size_t next = 0;
	int rc;

	if ((rc = read_text(path, &text, err, errlen)) != 0)
		return rc;
	if ((rc = check_syntax(path, text, &sl, err, errlen)) != 0)
		goto done;
	config_init(lc);
	if (config_read_string(lc, text) != CONFIG_TRUE) {
		if (config_error_line(lc) > 0)
			snprintf(err, errlen, "%s:%d: %s", path,
			    config_error_line(lc), config_error_text(lc));
		else
			snprintf(err, errlen, "%s: %s", path,
			    config_error_text(lc));
		config_destroy(lc);
		rc = SG_ECONFIG;
		goto done;
	}
	fix_lines(config_root_setting(lc), &sl, &next);
done:
	free(sl.line);
	free(text);
	return rc;
}

struct config *
config_load_default(char *err, size_t errlen)
{
	return config_load_string(CONFIG_EMBEDDED_NAME, sg_default_conf, err,
	    errlen);
}

const char *
config_default_text(void)
{
	return sg_default_conf;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_profile(struct config_profile *p)
{
	size_t i;

	free(p->name);
	free_strings(p->allow, p->nallow);
	free_strings(p->deny, p->ndeny);
	for (i = 0; i < p->nschedules; i++)
		free(p->schedules[i].name);
	free(p->schedules);
}

void
config_free(struct config *cfg)
{
	size_t i, k;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nprofiles; i++)
		free_profile(&cfg->profiles[i]);
	free(cfg->profiles);
	for (i = 0; i < cfg->ndevices; i++)
		free(cfg->devices[i].name);
	free(cfg->devices);
	free_strings(cfg->always_allow, cfg->nalways_allow);
	free(cfg->dhcp_leases);
	free(cfg->state_path);
	free(cfg->risk_state);
	for (i = 0; i < cfg->nlists; i++) {
		free(cfg->lists[i].category);
		for (k = 0; k < cfg->lists[i].nfiles; k++)
			free(cfg->lists[i].files[k]);
		free(cfg->lists[i].files);
		for (k = 0; k < cfg->lists[i].nfeeds; k++)
			free(cfg->lists[i].feeds[k]);
		free(cfg->lists[i].feeds);
	}
	free(cfg->lists);
	for (i = 0; i < cfg->ncategories; i++)
		free(cfg->categories[i]);
	free(cfg->source);
	free(cfg->lists_dir);
	free(cfg->lists_db);
	free(cfg->feeds);
	free(cfg->events_path);
	free(cfg->syslog_target);
	free(cfg->syslog_ca);
	free(cfg->alert_command);
	free(cfg->risk.bedtime);
	free(cfg->control_socket);
	free(cfg);
}

/* ---------------------------------------------------------------- print */

/* s as a libconfig string literal, quotes included. */
static void
print_str(FILE *fp, const char *s)
{
	char tmp[5];

	fputc('"', fp);
	for (; *s != '\0'; s++)
		fputs(escape_byte((unsigned char)*s, tmp), fp);
	fputc('"', fp);
}

/*
 * Sequences are written "[ a, b ]", and "[ ]" when empty: sep() gives what
 * goes before element i.
 */
static const char *
sep(size_t i)
{
	return i == 0 ? " " : ", ";
}

/*
 * "KEY = [ names ];" at indent: on one line when it fits 80 columns, else
 * one name a line.  The names are normalised names, categories or
 * services: nothing in them needs escaping.
 */
static void
print_names(int indent, const char *key, const char *const *names, size_t n,
    FILE *fp)
{
	size_t i, width = (size_t)indent + strlen(key) + 7;

	for (i = 0; i < n; i++)
		width += strlen(names[i]) + 4;
	fprintf(fp, "%*s%s = [", indent, "", key);
	if (width <= 80) {
		for (i = 0; i < n; i++)
			fprintf(fp, "%s\"%s\"", sep(i), names[i]);
		fputs(" ];\n", fp);
		return;
	}
	for (i = 0; i < n; i++)
		fprintf(fp, "\n%*s\"%s\"%s", indent + 2, "", names[i],
		    i + 1 < n ? "," : "");
	fprintf(fp, "\n%*s];\n", indent, "");
}

/* A set of category ids as their names, in id order. */
static void
print_mask(const struct config *cfg, int indent, const char *key,
    uint64_t mask, FILE *fp)
{
	const char *names[SGDB_MAX_CATEGORIES];
	size_t i, n = 0;

	for (i = 0; i < cfg->ncategories; i++)
		if (mask & (UINT64_C(1) << i))
			names[n++] = cfg->categories[i];
	print_names(indent, key, names, n, fp);
}

/*
 * The services of mask (category ids), in the order of config_services:
 * not by id, which depends on where each service is first named.
 */
static void
print_services(const struct config *cfg, int indent, uint64_t mask, FILE *fp)
{
	const char *names[sizeof(config_services) / sizeof(*config_services)];
	size_t i, n = 0;
	int id;

	for (i = 0; i < config_nservices; i++)
		if ((id = config_category_id(cfg, config_services[i])) >= 0 &&
		    (mask & (UINT64_C(1) << id)))
			names[n++] = config_services[i];
	print_names(indent, "services", names, n, fp);
}

/* The lists entries, but not the services' implicit ones. */
static void
print_lists(const struct config *cfg, FILE *fp)
{
	const struct config_list *l;
	size_t i, k, n, last = 0;

	for (i = 0, n = 0; i < cfg->nlists; i++)
		if (!cfg->lists[i].implicit) {
			n++;
			last = i;
		}
	if (n == 0) {
		fputs("lists = ( );\n", fp);
		return;
	}
	fputs("lists = (\n", fp);
	for (i = 0; i < cfg->nlists; i++) {
		l = &cfg->lists[i];
		if (l->implicit)
			continue;
		fprintf(fp, "  { category = \"%s\";%s", l->category,
		    l->confidential ? " confidential = true;" : "");
		if (l->nfiles > 0) {
			fputs(" files = [", fp);
			for (k = 0; k < l->nfiles; k++) {
				fputs(sep(k), fp);
				print_str(fp, l->files[k]);
			}
			fputs(" ];", fp);
		}
		if (l->nfeeds > 0) {
			fputs(" feeds = [", fp);
			for (k = 0; k < l->nfeeds; k++)
				fprintf(fp, "%s\"%s\"", sep(k), l->feeds[k]);
			fputs(" ];", fp);
		}
		fprintf(fp, " }%s\n", i < last ? "," : "");
	}
	fputs(");\n", fp);
}

static void
print_devices(const struct config *cfg, FILE *fp)
{
	const struct config_device *d;
	char buf[ADDR_STRLEN];
	size_t i;

	if (cfg->ndevices == 0) {
		fputs("devices = ( );\n", fp);
		return;
	}
	fputs("devices = (\n", fp);
	for (i = 0; i < cfg->ndevices; i++) {
		d = &cfg->devices[i];
		fprintf(fp, "  { name = \"%s\"; ", d->name);
		switch (d->spec.kind) {
		case DEVICES_MAC:
			fprintf(fp, "mac = \"%s\";", mac_ntop(d->spec.mac, buf,
			    sizeof(buf)));
			break;
		case DEVICES_IP:
			fprintf(fp, "ip = \"%s\";", addr_ntop(&d->spec.addr,
			    buf, sizeof(buf)));
			break;
		case DEVICES_CIDR:
			fprintf(fp, "cidr = \"%s/%u\";",
			    addr_ntop(&d->spec.addr, buf, sizeof(buf)),
			    d->spec.prefix);
			break;
		}
		fprintf(fp, " profile = \"%s\"; }%s\n",
		    cfg->profiles[d->spec.profile].name,
		    i + 1 < cfg->ndevices ? "," : "");
	}
	fputs(");\n", fp);
}

static const char *
bool_name(bool b)
{
	return b ? "true" : "false";
}

static void
print_schedule(const struct config *cfg, const struct config_schedule *sc,
    FILE *fp)
{
	char when[SCHEDULE_FORMAT_MAX];

	if (schedule_format(&sc->when, when, sizeof(when)) < 0)
		when[0] = '\0';	/* SCHEDULE_FORMAT_MAX always fits */
	fprintf(fp, "      %s = {\n        when = ", sc->name);
	print_str(fp, when);
	fputs(";\n", fp);
	if (sc->all)
		fputs("        block = \"all\";\n", fp);
	else {
		print_mask(cfg, 8, "block", sc->block_mask, fp);
		print_services(cfg, 8, sc->service_mask, fp);
	}
	fputs("      };\n", fp);
}

static void
print_profile(const struct config *cfg, const struct config_profile *p,
    FILE *fp)
{
	const struct safesearch_config *ss = &p->safe_search;
	size_t i;

	fprintf(fp, "  %s = {\n", p->name);
	print_mask(cfg, 4, "block", p->block_mask, fp);
	print_services(cfg, 4, p->service_mask, fp);
	print_names(4, "allow", (const char *const *)p->allow, p->nallow, fp);
	print_names(4, "deny", (const char *const *)p->deny, p->ndeny, fp);
	if (p->nschedules == 0)
		fputs("    schedules = { };\n", fp);
	else {
		fputs("    schedules = {\n", fp);
		for (i = 0; i < p->nschedules; i++)
			print_schedule(cfg, &p->schedules[i], fp);
		fputs("    };\n", fp);
	}
	fprintf(fp, "    safe_search = {\n      google = %s;\n"
	    "      bing = %s;\n      duckduckgo = %s;\n      brave = %s;\n"
	    "      ecosia = %s;\n      youtube = \"%s\";\n    };\n",
	    bool_name(ss->google), bool_name(ss->bing),
	    bool_name(ss->duckduckgo), bool_name(ss->brave),
	    bool_name(ss->ecosia), youtube_names[ss->youtube <=
	    SAFESEARCH_YT_STRICT ? ss->youtube : SAFESEARCH_YT_OFF]);
	fprintf(fp, "    bypass = {\n      doh = %s;\n      dot = %s;\n"
	    "      vpn = %s;\n      ech = %s;\n      outside_dns = \"%s\";\n"
	    "    };\n    fail = \"%s\";\n    age = %u;\n  };\n",
	    bool_name(p->bypass_doh), bool_name(p->bypass_dot),
	    bool_name(p->bypass_vpn), bool_name(p->bypass_ech),
	    outside_dns_names[p->outside_dns <= OUTSIDE_DNS_BLOCK ?
	    p->outside_dns : OUTSIDE_DNS_ALLOW], fail_names[!p->fail_open],
	    p->age);
}

/*
 * One of risk's lists: the categories `lists` defines, in id order, then
 * the services' own, in the order of config_services (their ids depend
 * on where each service is first named, which printing moves).
 */
static void
print_watch(const struct config *cfg, int indent, const char *key,
    uint64_t mask, FILE *fp)
{
	const char *names[SGDB_MAX_CATEGORIES];
	uint64_t expl = 0;
	size_t i, n = 0;
	int id;

	for (i = 0; i < cfg->nlists; i++)
		if (!cfg->lists[i].implicit)
			expl |= UINT64_C(1) << cfg->lists[i].category_id;
	for (i = 0; i < cfg->ncategories; i++)
		if (mask & expl & (UINT64_C(1) << i))
			names[n++] = cfg->categories[i];
	for (i = 0; i < config_nservices; i++)
		if ((id = config_category_id(cfg, config_services[i])) >= 0 &&
		    (mask & ~expl & (UINT64_C(1) << id)))
			names[n++] = config_services[i];
	print_names(indent, key, names, n, fp);
}

/* "  KEY = {", enabled and window; the caller closes it. */
static void
print_rule(const char *key, const struct config_risk_rule *r, FILE *fp)
{
	fprintf(fp, "  %s = {\n    enabled = %s;\n    window = %u;\n", key,
	    bool_name(r->enabled), r->window);
}

static void
print_risk(const struct config *cfg, FILE *fp)
{
	const struct config_risk *r = &cfg->risk;

	fputs("risk = {\n", fp);
	print_rule("anon_chat", &r->anon_chat, fp);
	print_watch(cfg, 4, "categories", r->anon_chat_mask, fp);
	fputs("  };\n", fp);
	print_rule("late_night", &r->late_night, fp);
	fputs("  };\n", fp);
	print_rule("first_seen", &r->first_seen, fp);
	fprintf(fp, "    baseline_days = %u;\n  };\n", r->first_seen_days);
	print_watch(cfg, 2, "messaging", r->messaging_mask, fp);
	print_rule("bypass", &r->bypass, fp);
	fputs("  };\n", fp);
	print_rule("repeated", &r->repeated, fp);
	fprintf(fp, "    count = %u;\n    minutes = %u;\n", r->repeated_count,
	    r->repeated_minutes);
	print_watch(cfg, 4, "categories", r->repeated_mask, fp);
	fputs("  };\n", fp);
	print_rule("age", &r->age, fp);
	fputs("  };\n", fp);
	print_rule("abuse", &r->abuse, fp);
	fputs("  };\n  bedtime = ", fp);
	print_str(fp, r->bedtime);
	fputs(";\n  state = ", fp);
	print_str(fp, cfg->risk_state);
	fputs(";\n};\n", fp);
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const char *s;
	char buf[ADDR_STRLEN];
	size_t i, n;

	/* The header is a comment: keep the name on its line. */
	fputs("# safegate configuration (canonical form of ", fp);
	for (s = cfg->source; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
	fputs(")\n", fp);

	fputs("queue = {\n  numbers = [", fp);
	for (i = 0; i < cfg->queue_count; i++)
		fprintf(fp, "%s%u", sep(i),
		    (unsigned)cfg->queue_first + (unsigned)i);
	fprintf(fp, " ];\n  fail_open = %s;\n  max_len = %" PRIu32 ";\n};\n",
	    cfg->fail_open ? "true" : "false", cfg->queue_max_len);

	fprintf(fp, "firewall = {\n  manage = %s;\n  backend = \"%s\";\n};\n",
	    cfg->fw_manage ? "true" : "false",
	    config_backend_name(cfg->fw_backend));

	fprintf(fp, "dns = {\n  block_response = \"%s\";\n  ttl = %" PRIu32
	    ";\n  block_page = [", config_block_mode_name(cfg->block.mode),
	    cfg->block.ttl);
	n = 0;
	if (cfg->block.page_v4.family != AF_UNSPEC)
		fprintf(fp, "%s\"%s\"", sep(n++), addr_ntop(&cfg->block.page_v4,
		    buf, sizeof(buf)));
	if (cfg->block.page_v6.family != AF_UNSPEC)
		fprintf(fp, "%s\"%s\"", sep(n++), addr_ntop(&cfg->block.page_v6,
		    buf, sizeof(buf)));
	fprintf(fp, " ];\n  resolver = \"%s", addr_ntop(&cfg->resolver, buf,
	    sizeof(buf)));
	if (cfg->resolver_port != CONFIG_DEF_DNS_PORT)
		fprintf(fp, "#%u", (unsigned)cfg->resolver_port);
	fputs("\";\n};\n", fp);

	fputs("connections = {\n  ports = [", fp);
	for (i = 0; i < cfg->conn_nports; i++)
		fprintf(fp, "%s%u", sep(i), (unsigned)cfg->conn_ports[i]);
	fprintf(fp, " ];\n  quic = \"%s\";\n  no_sni = \"%s\";\n};\n",
	    quic_names[cfg->quic_block], no_sni_names[cfg->no_sni_block]);

	fputs("lists_dir = ", fp);
	print_str(fp, cfg->lists_dir);
	fputs(";\nlists_db = ", fp);
	print_str(fp, cfg->lists_db);
	fputs(";\nfeeds = ", fp);
	print_str(fp, cfg->feeds);
	fputs(";\n", fp);

	print_lists(cfg, fp);
	print_mask(cfg, 0, "block", cfg->block_mask, fp);
	fputs("dhcp_leases = ", fp);
	print_str(fp, cfg->dhcp_leases);
	fputs(";\n", fp);
	print_devices(cfg, fp);
	if (!cfg->profiles_implicit) {
		fprintf(fp, "default_profile = \"%s\";\nprofiles = {\n",
		    cfg->profiles[cfg->default_profile].name);
		for (i = 0; i < cfg->nprofiles; i++)
			print_profile(cfg, &cfg->profiles[i], fp);
		fputs("};\n", fp);
	}
	print_names(0, "always_allow", (const char *const *)cfg->always_allow,
	    cfg->nalways_allow, fp);

	fputs("alert = {\n  command = ", fp);
	print_str(fp, cfg->alert_command);
	fprintf(fp, ";\n  interval = %u;\n};\n", cfg->alert_interval);
	fprintf(fp, "blockpage = {\n  serve = %s;\n  port = %u;\n};\n",
	    bool_name(cfg->blockpage_serve), (unsigned)cfg->blockpage_port);
	print_risk(cfg, fp);

	fputs("log = {\n  events = ", fp);
	print_str(fp, cfg->events_path);
	/* A size past 32 bits needs libconfig's L, or it would wrap. */
	fprintf(fp, ";\n  level = \"%s\";\n  rotate_size = %" PRIu64 "%s;\n"
	    "  rotate_daily = %s;\n  retention_days = %u;\n"
	    "  syslog = {\n    target = ",
	    level_names[cfg->log_level <= LOG_LEVEL_DEBUG ? cfg->log_level :
	    LOG_LEVEL_INFO], cfg->events_rotate_bytes,
	    cfg->events_rotate_bytes > INT32_MAX ? "L" : "",
	    bool_name(cfg->events_rotate_daily), cfg->events_keep_days);
	print_str(fp, cfg->syslog_target);
	fputs(";\n    ca = ", fp);
	print_str(fp, cfg->syslog_ca);
	fprintf(fp, ";\n    facility = \"%s\";\n  };\n};\n",
	    facility_names[cfg->syslog_facility < NELEM(facility_names) - 1 ?
	    cfg->syslog_facility : CONFIG_DEF_FACILITY]);

	fputs("control = {\n  socket = ", fp);
	print_str(fp, cfg->control_socket);
	fputs(";\n  state = ", fp);
	print_str(fp, cfg->state_path);
	fputs(";\n};\n", fp);
}

/* --------------------------------------------------------------- lookups */

int
config_category_id(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ncategories; i++)
		if (strcmp(cfg->categories[i], name) == 0)
			return (int)i;
	return -1;
}

int
config_profile_id(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
config_list_path(const struct config *cfg, const char *file,
    const char *lists_dir_override, char *buf, size_t len)
{
	const char *dir;
	size_t dlen;
	int n;

	dir = lists_dir_override != NULL ? lists_dir_override : cfg->lists_dir;
	if (file[0] == '/' || dir == NULL || dir[0] == '\0')
		n = snprintf(buf, len, "%s", file);
	else {
		dlen = strlen(dir);
		n = snprintf(buf, len, "%s%s%s", dir,
		    dir[dlen - 1] == '/' ? "" : "/", file);
	}
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

const char *
config_feeds_dir(const struct config *cfg, char *buf, size_t len)
{
	const char *slash = strrchr(cfg->lists_db, '/');
	size_t dir;

	/* lists_db is absolute, so there is a slash; "/x" gives "/feeds". */
	dir = slash != NULL ? (size_t)(slash - cfg->lists_db) : 0;
	if ((size_t)snprintf(buf, len, "%.*s/feeds", (int)dir,
	    cfg->lists_db) >= len)
		return NULL;
	return buf;
}

const char *
config_feed_path(const struct config *cfg, const char *name, char *buf,
    size_t len)
{
	char dir[PATH_MAX];

	if (!config_valid_name(name) ||
	    config_feeds_dir(cfg, dir, sizeof(dir)) == NULL ||
	    (size_t)snprintf(buf, len, "%s/%s.list", dir, name) >= len)
		return NULL;
	return buf;
}

unsigned
config_line(const config_setting_t *s)
{
	if (config_setting_get_hook(s) != NULL)	/* see fix_lines() */
		return (unsigned)(uintptr_t)config_setting_get_hook(s);
	return config_setting_source_line(s);
}

const char *
config_backend_name(enum fw_backend b)
{
	if ((unsigned)b < sizeof(backend_names) / sizeof(*backend_names) - 1)
		return backend_names[b];
	return "unknown";
}

const char *
config_block_mode_name(enum dns_block_mode m)
{
	if ((unsigned)m < sizeof(block_mode_names) / sizeof(*block_mode_names) -
	    1)
		return block_mode_names[m];
	return "unknown";
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	if (path != NULL)
		return config_load_file(path, err, errlen);
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return config_load_file(CONFIG_DEFAULT_PATH, err, errlen);
	return config_load_default(err, errlen);
}
