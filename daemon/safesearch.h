/*
 * safesearch.h - which query names safe search rewrites, and to what.
 *
 * The search engines that support network-enforced safe search publish a
 * "safe" host name; a resolver that answers the engine's own host with a
 * CNAME to that name switches safe search on for every client behind it
 * (Google SafeSearch, YouTube Restricted Mode, Bing strict, ...).  This
 * module only knows the mapping: the pipeline resolves the target's
 * addresses and builds the answer (dns_build_cname() in dns.h).
 *
 * Names are given as dns_parse() returns them: lower case, labels joined by
 * '.', no trailing dot, with an explicit length (a label may hold a NUL,
 * which then matches nothing).  Matching is exact, host by host: no suffix
 * or wildcard matching, so "www.google.co.uk.evil.test" or "notgoogle.com"
 * never match.  Google is matched as "www.google." followed by one of the
 * country suffixes of Google's published list (see safesearch.c); the bare
 * "google.<tld>" names only redirect to "www.google.<tld>" and are left
 * alone.
 *
 * All data is static and read-only; every function is thread-safe, does no
 * allocation and costs one binary search over a table of ~200 entries.
 * Targets returned are static strings.
 */
#ifndef SG_SAFESEARCH_H
#define SG_SAFESEARCH_H

#include <stdbool.h>
#include <stddef.h>

enum safesearch_engine {
	SAFESEARCH_NONE = 0,	/* not a search host safegate knows */
	SAFESEARCH_GOOGLE,
	SAFESEARCH_YOUTUBE,
	SAFESEARCH_BING,
	SAFESEARCH_DUCKDUCKGO,
	SAFESEARCH_BRAVE,
	SAFESEARCH_ECOSIA,
};

enum safesearch_youtube {
	SAFESEARCH_YT_OFF = 0,
	SAFESEARCH_YT_MODERATE,	/* restrictmoderate.youtube.com */
	SAFESEARCH_YT_STRICT,	/* restrict.youtube.com */
};

/* Per-engine settings; all zero means safe search off everywhere. */
struct safesearch_config {
	bool			google;
	bool			bing;
	bool			duckduckgo;
	bool			brave;
	bool			ecosia;
	enum safesearch_youtube	youtube;
};

/*
 * The safe host a query for name (len bytes) is to be answered with, as a
 * CNAME, under cfg: a static string without a trailing dot, or NULL when
 * the name is not a search host or its engine is off in cfg.  A NULL cfg
 * is treated as all off.
 */
const char	*safesearch_target(const char *name, size_t len,
		    const struct safesearch_config *cfg);

/*
 * The engine whose search host name is (one safesearch_target() would
 * rewrite with that engine on), whatever the settings; SAFESEARCH_NONE if
 * none.  For "connections by SNI to a non-safe search host are reset when
 * safe search is on": the caller checks the engine's setting.
 */
enum safesearch_engine safesearch_engine_of(const char *name, size_t len);

/* Whether cfg turns safe search on for engine. */
bool		safesearch_enabled(const struct safesearch_config *cfg,
		    enum safesearch_engine engine);

/*
 * Whether name is one of the safe hosts themselves (for example
 * forcesafesearch.google.com): a name never to be rewritten or reset.
 */
bool		safesearch_is_safe_host(const char *name, size_t len);

/*
 * Every distinct safe host a target can be (forcesafesearch.google.com,
 * restrict.youtube.com, ...), whatever the settings: *out is set to a
 * static array of static strings, sorted, and its length is returned.  For
 * the resolver that keeps their addresses (safehosts.h).
 */
size_t		safesearch_targets(const char *const **out);

/* "google", "youtube", ... or "none"; a static string. */
const char	*safesearch_engine_name(enum safesearch_engine engine);

#endif
