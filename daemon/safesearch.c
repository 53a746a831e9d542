/*
 * safesearch.c - the safe search host table.
 *
 * Two static tables, each sorted by byte order so that a lookup is one
 * bsearch():
 *
 *   safesearch_google[]   the country suffixes X of "www.google.X"
 *   safesearch_hosts[]    every other search host, exactly, with its engine
 *
 *   name --+-- starts "www.google." --> bsearch(suffix, google) --> GOOGLE
 *          +-- otherwise -------------> bsearch(name, hosts) ----> engine
 *
 * The engine, then the settings, give the target.  Where each mapping
 * comes from is written next to it; keep that when editing.
 */
#include <stdlib.h>
#include <string.h>

#include "safesearch.h"

/* A (pointer, length) key: names may hold NUL bytes, strings may not. */
struct safesearch_key {
	const char	*s;
	size_t		 len;
};

/*
 * Google: "Block adult content at your school with SafeSearch", option 3
 * (https://support.google.com/websearch/answer/186669): to force SafeSearch
 * on a network, answer www.google.com, and every other Google domain the
 * network's users may use, with a CNAME to forcesafesearch.google.com.
 *
 * The suffixes below are Google's published list of its search domains,
 * https://www.google.com/supported_domains (".google.com", ".google.ad",
 * ...), taken from two copies of it, because that URL could not be
 * read from here: the 2019-04-23 copy in rfmarves/ForceSafeSearch
 * (hosts_permissive_youtube, 193 domains) and AdGuard Home's
 * internal/filtering/safesearch/rules/google.txt (commit 1011b8f9, 191
 * domains), which adds "co" and lacks "co.za", "co.zm", "co.zw": the union
 * is kept.  Do not fetch the list at run time: compare with the URL above
 * by hand when updating, and sort the table in byte order (LC_ALL=C sort).
 *
 * Only "www.google.X" is rewritten, as Google's page says: the bare
 * "google.X" serves a redirect to "www.google.X" and is left alone.
 */
static const char *const safesearch_google[] = {
	"ad", "ae", "al", "am", "as", "at", "az", "ba", "be", "bf", "bg",
	"bi", "bj", "bs", "bt", "by", "ca", "cat", "cd", "cf", "cg", "ch",
	"ci", "cl", "cm", "cn", "co", "co.ao", "co.bw", "co.ck", "co.cr",
	"co.id", "co.il", "co.in", "co.jp", "co.ke", "co.kr", "co.ls",
	"co.ma", "co.mz", "co.nz", "co.th", "co.tz", "co.ug", "co.uk",
	"co.uz", "co.ve", "co.vi", "co.za", "co.zm", "co.zw", "com", "com.af",
	"com.ag", "com.ai", "com.ar", "com.au", "com.bd", "com.bh", "com.bn",
	"com.bo", "com.br", "com.bz", "com.co", "com.cu", "com.cy", "com.do",
	"com.ec", "com.eg", "com.et", "com.fj", "com.gh", "com.gi", "com.gt",
	"com.hk", "com.jm", "com.kh", "com.kw", "com.lb", "com.ly", "com.mm",
	"com.mt", "com.mx", "com.my", "com.na", "com.nf", "com.ng", "com.ni",
	"com.np", "com.om", "com.pa", "com.pe", "com.pg", "com.ph", "com.pk",
	"com.pr", "com.py", "com.qa", "com.sa", "com.sb", "com.sg", "com.sl",
	"com.sv", "com.tj", "com.tr", "com.tw", "com.ua", "com.uy", "com.vc",
	"com.vn", "cv", "cz", "de", "dj", "dk", "dm", "dz", "ee", "es", "fi",
	"fm", "fr", "ga", "ge", "gg", "gl", "gm", "gp", "gr", "gy", "hn",
	"hr", "ht", "hu", "ie", "im", "iq", "is", "it", "je", "jo", "kg",
	"ki", "kz", "la", "li", "lk", "lt", "lu", "lv", "md", "me", "mg",
	"mk", "ml", "mn", "ms", "mu", "mv", "mw", "ne", "nl", "no", "nr",
	"nu", "pl", "pn", "ps", "pt", "ro", "rs", "ru", "rw", "sc", "se",
	"sh", "si", "sk", "sm", "sn", "so", "sr", "st", "td", "tg", "tk",
	"tl", "tm", "tn", "to", "tt", "vg", "vu", "ws",
};
#define SAFESEARCH_GOOGLE_PREFIX	"www.google."

/*
 * Every other search host.  Sources:
 *
 * YouTube, "Manage your organization's YouTube settings", network method
 *   (https://support.google.com/a/answer/6214622): www.youtube.com,
 *   m.youtube.com, youtubei.googleapis.com, youtube.googleapis.com and
 *   www.youtube-nocookie.com get a CNAME to restrict.youtube.com (strict)
 *   or restrictmoderate.youtube.com (moderate).  The same five names are
 *   in the Netsweeper and kiwidget guides read while writing this.
 * Bing, Microsoft's "Block adult content with SafeSearch" for networks:
 *   www.bing.com gets a CNAME to strict.bing.com.  Seen in AdGuard's
 *   engines_safe_search.txt, CleanBrowsing's and Umbrella's docs; the page
 *   at Microsoft itself could not be read from here.
 * DuckDuckGo, help.duckduckgo.com "Safe search": "set the DNS entry for
 *   duckduckgo.com to the safe.duckduckgo.com CNAME" (quoted in
 *   diladele/dnssafety#278).  The page names only duckduckgo.com;
 *   www.duckduckgo.com and start.duckduckgo.com (DuckDuckGo's own start
 *   page host) are served the same search and are mapped as AdGuard's
 *   engines_safe_search.txt does.
 * Brave Search: search.brave.com gets a CNAME to forcesafe.search.brave.com
 *   (Brave's help page https://search.brave.com/help/safesearch, cited in
 *   brave/brave-browser#56918, could not be read from here; the name is the
 *   one the OpenWrt adblock package and firewalla#9134 use).  Other names
 *   have been reported (safesearch.brave.com, safe.search.brave.com:
 *   AdGuardDNS#751): check the help page before relying on it.
 * Ecosia: www.ecosia.org gets a CNAME to strict-safe-search.ecosia.org, as
 *   in AdGuard's engines_safe_search.txt (AdGuardHome#5009, 2024) and
 *   Ecosia's help article 174 "Does Ecosia have safe search" (cited in
 *   nextdns/metadata#1021, not read from here).
 */
struct safesearch_host {
	const char		*name;
	enum safesearch_engine	 engine;
};

static const struct safesearch_host safesearch_hosts[] = {	/* sorted */
	{ "duckduckgo.com",		SAFESEARCH_DUCKDUCKGO },
	{ "m.youtube.com",		SAFESEARCH_YOUTUBE },
	{ "search.brave.com",		SAFESEARCH_BRAVE },
	{ "start.duckduckgo.com",	SAFESEARCH_DUCKDUCKGO },
	{ "www.bing.com",		SAFESEARCH_BING },
	{ "www.duckduckgo.com",		SAFESEARCH_DUCKDUCKGO },
	{ "www.ecosia.org",		SAFESEARCH_ECOSIA },
	{ "www.youtube-nocookie.com",	SAFESEARCH_YOUTUBE },
	{ "www.youtube.com",		SAFESEARCH_YOUTUBE },
	{ "youtube.googleapis.com",	SAFESEARCH_YOUTUBE },
	{ "youtubei.googleapis.com",	SAFESEARCH_YOUTUBE },
};

#define SS_GOOGLE_TARGET	"forcesafesearch.google.com"
#define SS_YT_STRICT		"restrict.youtube.com"
#define SS_YT_MODERATE		"restrictmoderate.youtube.com"
#define SS_BING_TARGET		"strict.bing.com"
#define SS_DDG_TARGET		"safe.duckduckgo.com"
#define SS_BRAVE_TARGET		"forcesafe.search.brave.com"
#define SS_ECOSIA_TARGET	"strict-safe-search.ecosia.org"

static const char *const safesearch_safe_hosts[] = {	/* sorted */
	SS_BRAVE_TARGET,
	SS_GOOGLE_TARGET,
	SS_YT_STRICT,
	SS_YT_MODERATE,
	SS_DDG_TARGET,
	SS_ECOSIA_TARGET,
	SS_BING_TARGET,
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Byte order, a shorter string before its extensions. */
static int
safesearch_cmp(const struct safesearch_key *k, const char *s)
{
	size_t	n = strlen(s);
	int	c = memcmp(k->s, s, k->len < n ? k->len : n);

	if (c != 0)
		return c;
	return k->len < n ? -1 : k->len > n;
}

static int
safesearch_cmp_str(const void *key, const void *elem)
{
	return safesearch_cmp(key, *(const char *const *)elem);
}

static int
safesearch_cmp_host(const void *key, const void *elem)
{
	return safesearch_cmp(key, ((const struct safesearch_host *)elem)->name);
}

enum safesearch_engine
safesearch_engine_of(const char *name, size_t len)
{
	struct safesearch_key		 k;
	const struct safesearch_host	*h;
	size_t				 plen = strlen(SAFESEARCH_GOOGLE_PREFIX);

	if (name == NULL || len == 0)
		return SAFESEARCH_NONE;
	if (len > plen && memcmp(name, SAFESEARCH_GOOGLE_PREFIX, plen) == 0) {
		k.s = name + plen;
		k.len = len - plen;
		return bsearch(&k, safesearch_google, NELEM(safesearch_google),
		    sizeof(safesearch_google[0]), safesearch_cmp_str) != NULL ?
		    SAFESEARCH_GOOGLE : SAFESEARCH_NONE;
	}
	k.s = name;
	k.len = len;
	h = bsearch(&k, safesearch_hosts, NELEM(safesearch_hosts),
	    sizeof(safesearch_hosts[0]), safesearch_cmp_host);
	return h != NULL ? h->engine : SAFESEARCH_NONE;
}

bool
safesearch_enabled(const struct safesearch_config *cfg,
    enum safesearch_engine engine)
{
	if (cfg == NULL)
		return false;
	switch (engine) {
	case SAFESEARCH_GOOGLE:
		return cfg->google;
	case SAFESEARCH_YOUTUBE:
		return cfg->youtube == SAFESEARCH_YT_MODERATE ||
		    cfg->youtube == SAFESEARCH_YT_STRICT;
	case SAFESEARCH_BING:
		return cfg->bing;
	case SAFESEARCH_DUCKDUCKGO:
		return cfg->duckduckgo;
	case SAFESEARCH_BRAVE:
		return cfg->brave;
	case SAFESEARCH_ECOSIA:
		return cfg->ecosia;
	case SAFESEARCH_NONE:
		break;
	}
	return false;
}

const char *
safesearch_target(const char *name, size_t len,
    const struct safesearch_config *cfg)
{
	enum safesearch_engine e = safesearch_engine_of(name, len);

	if (!safesearch_enabled(cfg, e))
		return NULL;
	switch (e) {
	case SAFESEARCH_GOOGLE:
		return SS_GOOGLE_TARGET;
	case SAFESEARCH_YOUTUBE:
		return cfg->youtube == SAFESEARCH_YT_STRICT ? SS_YT_STRICT :
		    SS_YT_MODERATE;
	case SAFESEARCH_BING:
		return SS_BING_TARGET;
	case SAFESEARCH_DUCKDUCKGO:
		return SS_DDG_TARGET;
	case SAFESEARCH_BRAVE:
		return SS_BRAVE_TARGET;
	case SAFESEARCH_ECOSIA:
		return SS_ECOSIA_TARGET;
	case SAFESEARCH_NONE:
		break;
	}
	return NULL;
}

bool
safesearch_is_safe_host(const char *name, size_t len)
{
	struct safesearch_key k = { name, len };

	if (name == NULL)
		return false;
	return bsearch(&k, safesearch_safe_hosts, NELEM(safesearch_safe_hosts),
	    sizeof(safesearch_safe_hosts[0]), safesearch_cmp_str) != NULL;
}

size_t
safesearch_targets(const char *const **out)
{
	*out = safesearch_safe_hosts;
	return NELEM(safesearch_safe_hosts);
}

const char *
safesearch_engine_name(enum safesearch_engine engine)
{
	switch (engine) {
	case SAFESEARCH_GOOGLE:
		return "google";
	case SAFESEARCH_YOUTUBE:
		return "youtube";
	case SAFESEARCH_BING:
		return "bing";
	case SAFESEARCH_DUCKDUCKGO:
		return "duckduckgo";
	case SAFESEARCH_BRAVE:
		return "brave";
	case SAFESEARCH_ECOSIA:
		return "ecosia";
	case SAFESEARCH_NONE:
		break;
	}
	return "none";
}
