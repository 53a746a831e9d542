/*
 * config.h - the daemon's configuration: libconfig text in, a validated
 * struct config out, and the canonical text back (safegated -n).
 *
 * Every error names where it is: "FILE:LINE: what is wrong".  Unknown keys
 * are errors, so a misspelt key never silently does nothing.  A struct
 * config is immutable once loaded and owns all of its strings; callers free
 * it with config_free().
 *
 * The text is libconfig 1.5 syntax, one file: "@include" is refused, as
 * are integer literals libconfig would wrap and strings with no closing
 * quote.  Schema (every key is optional; the defaults are those of the
 * embedded config/safegate.conf, except that with no `lists` there are no
 * categories, and `block` must then be empty, and that the shipped file
 * writes risk.messaging out, which a default never does; see risk below):
 *
 *   queue = { numbers = [ 0 ]; fail_open = true; max_len = 4096; };
 *   firewall = { manage = true; backend = "auto"; };  # auto|iptables|nft
 *   dns = { block_response = "nxdomain";             # nxdomain|null|address
 *           ttl = 300; block_page = [ "192.0.2.1", "2001:db8::1" ]; };
 *   connections = { ports = [ 8080, 8443 ];     # extra TCP ports, see below
 *                   quic = "inspect";           # inspect|block
 *                   no_sni = "allow"; };        # allow|block
 *   lists_dir = "/usr/share/safegate/blocklists";
 *   lists_db = "/var/lib/safegate/lists.sgdb";   # the compiled set
 *   feeds = "feeds.conf";                        # the feed registry
 *   lists = ( { category = "adult"; files = [ "adult.domains" ];
 *               feeds = [ "blp-porn" ]; confidential = false; }, ... );
 *   block = [ "adult", "gambling" ];
 *   dhcp_leases, devices, default_profile, profiles, always_allow: below
 *   alert, blockpage, risk: below
 *   log = { events = "/var/log/safegate/events.jsonl"; level = "info";
 *           rotate_size, rotate_daily, retention_days, syslog: below };
 *   control = { socket = "/run/safegate/control.sock"; state = ...; };
 *
 * `feeds`, like each of `files`, is a path under lists_dir unless it starts
 * with "/" (config_list_path()).  A lists entry needs `files`, `feeds` or
 * both.  Feed names are only checked for form here: whether the registry
 * has them is the registry's business (update.h), because the registry is
 * another file that need not exist for safegated to run.  A category is
 * confidential (hashed entries only, sgdb.h) if its entries say so, and
 * every entry of it must then say so.
 *
 * connections.ports are TCP ports judged like 80 and 443 (TLS or HTTP,
 * told by the first bytes), each 1..65535 and named once, at most
 * CONFIG_MAX_CONN_PORTS; 53, 80 and 443 are refused (always judged, or
 * judged as DNS).  The firewall queues them (firewall.h) from the next
 * start: a reload changes what the pipeline reads, not the rules.
 * connections.quic "block" drops every datagram to UDP 443, so browsers
 * fall back to TCP, where the name is visible.  connections.no_sni
 * "block" refuses a ClientHello without SNI and a request without a host
 * (pipeline.h).  Defaults: no ports, "inspect", "allow".
 *
 * Parents' policy (issue 5):
 *
 *   dns = { ...; resolver = "127.0.0.1"; };  # the router's resolver, for
 *                                   # the safe-search hosts' addresses;
 *                                   # "IP" or "IP#PORT" (dnsmasq style)
 *   dhcp_leases = "/var/lib/misc/dnsmasq.leases";   # "" = none
 *   devices = ( { name = "amy-tablet"; mac = "02:00:00:00:00:01";
 *                 profile = "child"; },
 *               { name = "lounge-tv"; ip = "192.168.1.20"; profile = ...; },
 *               { name = "guests"; cidr = "192.168.2.0/24"; ... } );
 *   default_profile = "default";
 *   profiles = {
 *     child = {
 *       block = [ "adult", "gambling" ];     # categories
 *       services = [ "tiktok", "roblox" ];   # CONFIG_SERVICES
 *       allow = [ "bbc.co.uk" ];             # names (and their subdomains)
 *       deny = [ "example.com" ];
 *       schedules = {
 *         bedtime = { when = "Sun-Thu 21:00-07:00"; block = "all"; };
 *         homework = { when = "Mon-Fri 16:00-18:00";
 *                      block = [ "games" ]; services = [ "roblox" ]; };
 *       };
 *       safe_search = { google = true; bing = true; duckduckgo = true;
 *                       brave = true; ecosia = true; youtube = "strict"; };
 *       bypass = { doh = true; dot = true; vpn = true; ech = true;
 *                  outside_dns = "redirect"; };  # redirect|block|allow
 *       fail = "closed";                          # open|closed
 *     };
 *   };
 *   always_allow = [ "school.example" ];
 *   control = { ...; state = "/var/lib/safegate/state"; };
 *
 * devices: each entry has a name (1..DEVICES_NAME_MAX of [A-Za-z0-9._-],
 * the word safegatectl uses), exactly one of mac ("aa:bb:cc:dd:ee:ff",
 * any case), ip or cidr (bits past the prefix are an error), and a profile
 * that `profiles` defines.  Several entries may share a name (one device
 * known by MAC and by IP), and must then give the same profile; a MAC,
 * address or CIDR may be listed once.  At most DEVICES_MAX entries.
 *
 * profiles: named groups, at least one; a profile's or a schedule's name
 * is 1..CONFIG_NAME_MAX of [A-Za-z0-9_-] (a libconfig name without '*').
 * Without `profiles` there is one implicit profile "default" that adds
 * nothing to the top-level `block`, has safe search and every bypass
 * setting off, outside_dns "allow", and fails as queue.fail_open says
 * (devices may name it).  default_profile (default "default") must name a
 * profile; unknown devices get it.  At most CONFIG_MAX_PROFILES.  In a
 * profile every key is optional:
 *   block, services  categories `lists` defines / names of config_services,
 *                    each once (a service's own category is not one of
 *                    block's).  A service used anywhere becomes a
 *                    category of the same name, read from
 *                    services/NAME.domains under lists_dir, unless `lists`
 *                    already defines that category (then the lists'
 *                    files are used); such implicit lists entries have
 *                    `implicit` set and are not printed.
 *   allow, deny      names (lower-cased, a trailing dot dropped, "*."
 *                    prefix accepted, IDNA like lists); a name covers its
 *                    subdomains.  At most CONFIG_MAX_NAMES each.  The
 *                    most specific of allow and deny wins; equal, deny.
 *   schedules        named windows (schedule.h syntax in `when`), each
 *                    blocking "all" (everything but allow and
 *                    always_allow) or the categories in `block` and the
 *                    services in `services` (one of the two at least;
 *                    not `services` with "all").  At most
 *                    CONFIG_MAX_SCHEDULES per profile.
 *   safe_search      engines on or off (default off), youtube
 *                    "strict" | "moderate" | "off" (default "off").
 *   bypass           doh: block the categories "doh" and "bypass";
 *                    vpn: block "vpn-proxy" (each true needs the category
 *                    in `lists`: error otherwise); dot: refuse TCP and
 *                    UDP port 853; ech: answer HTTPS and SVCB queries
 *                    with no data; outside_dns: DNS from the device to
 *                    resolvers other than this router is "redirect"ed to
 *                    it (the firewall's nat rules), "block"ed (dropped)
 *                    or "allow"ed (and still judged).  Defaults: false,
 *                    "allow".
 *   fail             "open" | "closed": whether the device's traffic
 *                    flows or stops when safegated is not there (its own
 *                    queue rules, without --queue-bypass when closed).
 *                    Default: queue.fail_open.
 * always_allow: names (as allow) no category, schedule, deny or pause may
 * block, added to the built-in help routes (policy.h).  Only a
 * confidential category still blocks them.
 *
 * A confidential category blocks everyone: it must be in the top-level
 * `block`, and no allow list, always_allow or runtime allow overrides it.
 *
 * dns.resolver defaults to "127.0.0.1" (port 53), dhcp_leases to
 * "/var/lib/misc/dnsmasq.leases" (else an absolute path), control.state to
 * "/var/lib/safegate/state" (an absolute path).  Profiles are checked
 * before devices, which name them: of a config wrong in both, the
 * profiles' error is the one reported.
 *
 * The safeguarding record (issue 6):
 *
 *   profiles = { NAME = { ...; age = 0; }; };  # 0..25; 0 = not said
 *   alert = { command = ""; interval = 300; };
 *   blockpage = { serve = false; port = 80; };
 *   risk = {
 *     anon_chat  = { enabled = true; window = 86400;
 *                    categories = [ "anon-chat" ]; };
 *     late_night = { enabled = true; window = 3600; };
 *     first_seen = { enabled = true; window = 86400; baseline_days = 30; };
 *     messaging  = [ "whatsapp", "snapchat", "discord", "telegram",
 *                    "instagram", "tiktok", "roblox", "minecraft",
 *                    "fortnite", "twitch" ];
 *     bypass     = { enabled = true; window = 3600; };
 *     repeated   = { enabled = true; window = 3600; count = 5;
 *                    minutes = 10; categories = [ "adult" ]; };
 *     age        = { enabled = true; window = 86400; };
 *     abuse      = { enabled = true; window = 0; };
 *     bedtime    = "bedtime";
 *     state      = "/var/lib/safegate/risk.state";
 *   };
 *   log = { ...; rotate_size = 10485760; rotate_daily = true;
 *           retention_days = 90;
 *           syslog = { target = ""; ca = ""; facility = "local5"; }; };
 *
 * alert.command is "" (none) or an absolute path, run with no shell and
 * no arguments (alert.h); interval 10..86400 seconds.  blockpage.serve
 * true needs an address in dns.block_page (the error names serve's line);
 * port 1..65535.
 *
 * risk.state: "" (nothing kept) or an absolute path; left out, the file
 * CONFIG_RISK_STATE_NAME in control.state's folder.
 *
 * risk: every key optional.  windows 0..604800 seconds (0: every time);
 * baseline_days 1..365; count 1..CONFIG_RISK_MAX_COUNT (what risk.c can
 * count); minutes 1..1440; bedtime a schedule's name (as profiles'
 * names; no profile need have a schedule of it).  `categories` and
 * `messaging` name categories `lists` defines or services
 * (config_services), each once, at most CONFIG_RISK_MAX_WATCH; anything
 * else is an error.  A service named there becomes a category as a
 * profile's does (an implicit lists entry reading services/NAME.domains,
 * unless `lists` defines that category).  The defaults shown never make
 * a category: when a list is left out, only those of its default names
 * that are categories already when it is read are taken (the lists' own,
 * services a profile or schedule names, services an earlier list of
 * risk's names: risk is read after profiles, in the order above), the
 * others silently dropped; so a config that does not mention risk reads
 * no list file it did not read before.  A list written out, even with a
 * default's names, must name only defined categories or services.
 *
 * log.rotate_size is bytes, 0 (no rotation by size) or
 * 65536..(1 << 40); retention_days 0..3650, 0 = keep all.
 * log.syslog.target is "" (off) or "udp://HOST:PORT", "tcp://HOST:PORT"
 * or "tls://HOST:PORT": HOST a DNS name ([A-Za-z0-9_-] labels), an IPv4
 * address, or an IPv6 address in brackets; PORT 1..65535, and ":PORT"
 * may be left out (514, or 6514 for tls), as syslogfwd_parse_target()
 * reads it.  ca is "" (the system's store) or an absolute path, and only
 * for a tls:// target (an error with udp:// or tcp://, allowed with no
 * target).  facility: kern user mail daemon auth syslog lpr news uucp
 * cron authpriv ftp ntp audit alert clock local0..local7, RFC 5424's
 * 0..23.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "addr.h"
#include "devices.h"
#include "dns.h"
#include "safesearch.h"
#include "schedule.h"
#include "sgdb.h"
#include "err.h"
#include "log.h"

#define CONFIG_DEFAULT_PATH	"/etc/safegate/safegate.conf"
#define CONFIG_EMBEDDED_NAME	"<embedded>"
#define CONFIG_MAX_QUEUES	16
#define CONFIG_ERR_LEN		512
#define CONFIG_MAX_SIZE		(1024 * 1024)	/* bytes of a config file */
#define CONFIG_RISK_STATE_NAME	"risk.state"	/* risk.state left out */
#define CONFIG_NAME_MAX		32	/* bytes of a category or feed name */
/* connections.ports: iptables' multiport match takes at most 15 ports, and
 * 80 and 443 are two of them. */
#define CONFIG_MAX_CONN_PORTS	13
#define CONFIG_MAX_PROFILES	32
#define CONFIG_MAX_SCHEDULES	8	/* per profile */
#define CONFIG_MAX_NAMES	4096	/* allow, deny, always_allow: each */
#define CONFIG_DEFAULT_PROFILE	"default"

enum fw_backend { FW_AUTO, FW_IPTABLES, FW_NFT };

struct config_list {
	char		*category;
	unsigned	 category_id;	/* index into config.categories */
	bool		 confidential;	/* the same for every entry of a
					   category: config.confidential_mask */
	char		**files;	/* as written; see config_list_path() */
	size_t		 nfiles;	/* 0 if the entry has feeds only */
	char		**feeds;	/* feed names, [a-z0-9_-]; see
					   config_feed_path() */
	size_t		 nfeeds;
	int		 line;		/* where the entry starts */
	bool		 implicit;	/* a service's list, added because a
					   profile names the service */
};

/* The services a profile may name: blocklists/services/NAME.domains,
   sorted (test_config.c holds the two together). */
extern const char *const config_services[];
extern const size_t config_nservices;

enum outside_dns { OUTSIDE_DNS_ALLOW, OUTSIDE_DNS_REDIRECT, OUTSIDE_DNS_BLOCK };

struct config_schedule {
	char		*name;
	struct schedule	 when;
	bool		 all;		/* blocks everything but allow lists */
	uint64_t	 block_mask;	/* categories, config ids */
	uint64_t	 service_mask;	/* services' categories, config ids */
	int		 line;
};

struct config_profile {
	char		*name;
	int		 line;
	uint64_t	 block_mask;	/* categories, config ids */
	uint64_t	 service_mask;	/* services' categories, config ids */
	char		**allow;	/* normalised names */
	size_t		 nallow;
	char		**deny;
	size_t		 ndeny;
	struct config_schedule *schedules;
	size_t		 nschedules;
	struct safesearch_config safe_search;
	bool		 bypass_doh;	/* block "doh" and "bypass" */
	bool		 bypass_vpn;	/* block "vpn-proxy" */
	bool		 bypass_dot;	/* refuse port 853 */
	bool		 bypass_ech;	/* HTTPS/SVCB: no data */
	enum outside_dns outside_dns;
	bool		 fail_open;
	unsigned	 age;		/* the youngest user's age; 0 = not
					   said (no age indicator) */
};

/*
 * The grooming-risk indicators (issue 6, risk.h): each can be turned off,
 * and fires at most once per `window` seconds per device.
 */
#define CONFIG_RISK_MAX_WATCH	32	/* names in a list of risk's */
/* risk.repeated.count: the attempts risk.c remembers a device
   (RISK_REPEATED_MAX; test_config.c holds the two together) */
#define CONFIG_RISK_MAX_COUNT	32
struct config_risk_rule {
	bool		 enabled;
	unsigned	 window;	/* seconds */
};
struct config_risk {
	struct config_risk_rule anon_chat;	/* categories/services below */
	struct config_risk_rule late_night;	/* messaging in a bedtime */
	struct config_risk_rule first_seen;	/* a platform new to a device */
	struct config_risk_rule bypass;		/* DoH, VPN, canaries, DoT,
						   outside DNS */
	struct config_risk_rule repeated;	/* blocked adult, N in M min */
	struct config_risk_rule age;		/* platform's age > profile's */
	struct config_risk_rule abuse;		/* abuse-list hit: critical */
	unsigned	 first_seen_days;	/* baseline, default 30 */
	unsigned	 repeated_count;	/* default 5 */
	unsigned	 repeated_minutes;	/* default 10 */
	/* category ids (config) watched by anon_chat and by late_night /
	   first_seen (messaging, social, gaming chat) */
	uint64_t	 anon_chat_mask;
	uint64_t	 messaging_mask;
	uint64_t	 repeated_mask;		/* default: "adult" */
	char		*bedtime;		/* the schedule name that means
					   bedtime in every profile; default
					   "bedtime" */
};

struct config_device {
	struct devices_spec spec;	/* spec.name points at name;
					   spec.profile indexes profiles */
	char		*name;
	int		 line;
};

struct config {
	char		*source;	/* file name, or CONFIG_EMBEDDED_NAME */

	/* queue */
	uint16_t	 queue_first;	/* numbers are consecutive: */
	uint16_t	 queue_count;	/* first .. first + count - 1 */
	bool		 fail_open;
	uint32_t	 queue_max_len;

	/* firewall */
	bool		 fw_manage;
	enum fw_backend	 fw_backend;

	/* dns */
	struct dns_block_spec block;	/* mode, ttl, block-page addresses */

	/* connections */
	uint16_t	 conn_ports[CONFIG_MAX_CONN_PORTS];	/* extra TCP
					   ports, as written, none twice */
	size_t		 conn_nports;
	bool		 quic_block;	/* quic = "block": drop UDP 443 */
	bool		 no_sni_block;	/* no_sni = "block" */

	/* lists */
	char		*lists_dir;
	char		*lists_db;	/* the compiled set (sgdb), absolute */
	char		*feeds;		/* the feed registry, as written; see
					   config_list_path() */
	struct config_list *lists;
	size_t		 nlists;
	/* distinct category names, in order of first appearance in `lists`;
	   a category's id is its index here */
	char		*categories[SGDB_MAX_CATEGORIES];
	size_t		 ncategories;
	/* bit id set: category id is confidential (hashed entries only) */
	uint64_t	 confidential_mask;

	/* block: categories blocked for everyone */
	uint64_t	 block_mask;

	/* the router's resolver (dns.resolver), for safe-search hosts */
	struct sg_addr	 resolver;
	uint16_t	 resolver_port;

	/* devices and profiles */
	char		*dhcp_leases;	/* "" = none */
	struct config_device *devices;
	size_t		 ndevices;
	struct config_profile *profiles;	/* at least one */
	size_t		 nprofiles;
	unsigned	 default_profile;	/* index into profiles */
	bool		 profiles_implicit;	/* no `profiles` in the file */
	char		**always_allow;	/* the config's, normalised; the
					   built-in help routes are policy's */
	size_t		 nalways_allow;

	/* log */
	char		*events_path;
	enum log_level	 log_level;
	/* issue 6, the safeguarding record (see the schema comment) */
	uint64_t	 events_rotate_bytes;	/* log.rotate_size; 0: never */
	bool		 events_rotate_daily;	/* log.rotate_daily */
	unsigned	 events_keep_days;	/* log.retention_days; 0: all */
	char		*syslog_target;		/* log.syslog.target; "" = off */
	char		*syslog_ca;		/* log.syslog.ca; "" = system */
	unsigned	 syslog_facility;	/* log.syslog.facility, 0..23 */
	char		*risk_state;		/* risk.state: what the indicators
					   learned, kept across restarts;
					   "" = not kept; default
					   CONFIG_RISK_STATE_NAME beside
					   control.state */
	char		*alert_command;		/* alert.command; "" = none */
	unsigned	 alert_interval;	/* alert.interval, seconds */
	bool		 blockpage_serve;	/* blockpage.serve */
	uint16_t	 blockpage_port;	/* blockpage.port */
	struct config_risk risk;

	/* control */
	char		*control_socket;
	char		*state_path;	/* control.state: runtime pauses and
					   allows, kept across restarts */
};

/*
 * Loads and validates a config file (at most CONFIG_MAX_SIZE bytes).  On
 * error returns NULL, sets errno (EINVAL: the config is invalid; ENOMEM;
 * or the errno of opening or reading the file) and writes "FILE:LINE: what
 * is wrong" (or "FILE: what is wrong" when there is no line) into err
 * (CONFIG_ERR_LEN bytes is enough).  "@include" is refused: a config is one
 * file.  The caller frees the result with config_free().
 */
struct config *config_load_file(const char *path, char *err, size_t errlen);
/*
 * The same for text in memory; `name` stands for the file in messages and
 * is copied into cfg->source.
 */
struct config *config_load_string(const char *name, const char *text,
	    char *err, size_t errlen);
/* The embedded default (config/safegate.conf at build time). */
struct config *config_load_default(char *err, size_t errlen);
/*
 * The config safegated runs on: path if given, else CONFIG_DEFAULT_PATH if
 * it exists, else the embedded default.  Errors as config_load_file().
 */
struct config *config_load(const char *path, char *err, size_t errlen);
/* The embedded text itself: static, NUL-terminated. */
const char *config_default_text(void);

void	config_free(struct config *);

/*
 * Writes the canonical form: a "# safegate configuration (canonical form of
 * SOURCE)" line, then every key, defaults filled in, in the order of the
 * schema above, indented by two spaces.  Loading the output gives the same
 * config, and printing that gives the same text after the first line.
 * Lists entries keep their order, and write confidential, files and feeds
 * only when set; the services' implicit entries are not written (the
 * services bring them back).  block (top-level, a profile's, a
 * schedule's) is written in category order, services in the order of
 * config_services, names normalised in the order given; a list too long
 * for 80 columns is written one element a line.  Without `profiles` in the
 * source, neither default_profile nor profiles is written.  The new
 * top-level keys come after block: dhcp_leases, devices, default_profile,
 * profiles, always_allow; then alert, blockpage and risk, before log.  A
 * profile's age comes after its fail; log's new keys after level, syslog
 * last.  risk's lists are written as lists the categories `lists`
 * defines, in category order, then services in the order of
 * config_services (so the text does not depend on the services' ids), a
 * default written out as the names it took.  A rotate_size past
 * INT32_MAX is written with libconfig's "L".
 */
void	config_print(const struct config *, FILE *);

/* The category's id, or -1 if no list names it. */
int	config_category_id(const struct config *, const char *name);

/* The profile's index, or -1. */
int	config_profile_id(const struct config *, const char *name);

/*
 * The path of one list file: as written if absolute, else lists_dir/file.
 * lists_dir_override, when not NULL, stands in for cfg->lists_dir
 * (safegated -L).  Writes into buf; returns buf, or NULL if it is too long.
 */
const char *config_list_path(const struct config *, const char *file,
	    const char *lists_dir_override, char *buf, size_t len);

/*
 * Where `safegate-lists update` keeps downloaded feeds: the folder "feeds"
 * beside lists_db (/var/lib/safegate/feeds by default), which is written
 * to, unlike lists_dir that may be read-only (/usr/share, a squashfs).
 * Returns buf, or NULL if it is too long.
 */
const char *config_feeds_dir(const struct config *, char *buf, size_t len);

/*
 * Feed `name` there: <feeds dir>/<name>.list.  The file may not exist:
 * feeds are downloaded on demand, and safegated runs with none.  Returns
 * buf, or NULL if the name is not a valid name or the path is too long.
 */
const char *config_feed_path(const struct config *, const char *name,
	    char *buf, size_t len);

/* Whether a category or feed name is 1..CONFIG_NAME_MAX of [a-z0-9_-]. */
bool	config_valid_name(const char *);

/*
 * Reads another libconfig file of the project (the feed registry,
 * update.h) the way config files are read: at most CONFIG_MAX_SIZE bytes,
 * the same syntax check first (no @include, no wrapped numbers, no open
 * strings).  On success *lc is ready (the call config_init()s it; the
 * caller config_destroy()s it) and config_line() gives a setting's line.
 * Returns 0, or SG_ECONFIG or -errno with "FILE:LINE: what is wrong" (or
 * "FILE: ...") in err, and *lc then needs no destroy.
 */
int	config_read_other(const char *path, config_t *lc, char *err,
	    size_t errlen) SG_WUR;

/*
 * The line a setting of a config_read_other() tree starts on: libconfig's
 * own, corrected for string elements of lists (libconfig gives the last
 * one the line after it).
 */
unsigned config_line(const config_setting_t *);

/* The names config files use ("nft", "address"); "unknown" if out of range. */
const char *config_backend_name(enum fw_backend);
const char *config_block_mode_name(enum dns_block_mode);

#endif
