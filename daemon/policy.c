/*
 * policy.c - see policy.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blockpage.h"
#include "config.h"
#include "devices.h"
#include "dns.h"
#include "lists.h"
#include "nameset.h"
#include "overrides.h"
#include "policy.h"
#include "safesearch.h"
#include "schedule.h"
#include "sgdb.h"
#include "snapshot.h"

#define QTYPE_SVCB	64
#define QTYPE_HTTPS	65

const char *const policy_help_routes[] = {
	"ceop.police.uk",		/* CEOP Safety Centre: report */
	"childline.org.uk",		/* Childline, and Report Remove */
	"nspcc.org.uk",			/* NSPCC helpline */
	"saferinternet.org.uk",		/* UK Safer Internet Centre */
	"iwf.org.uk",			/* Internet Watch Foundation */
	"reportharmfulcontent.com",	/* Report Harmful Content */
	"stopitnow.org.uk",		/* Stop It Now (Lucy Faithfull
					   Foundation), for adults worried
					   about their own or another's
					   behaviour towards children */
	NULL
};

static const char *const reason_names[REASON_COUNT] = {
	[REASON_NONE] = "not-listed",
	[REASON_CATEGORY] = "category",
	[REASON_SCHEDULE] = "schedule",
	[REASON_CONFIDENTIAL] = "confidential",
	[REASON_DENY] = "deny",
	[REASON_PAUSE] = "pause",
	[REASON_ALLOW_LIST] = "allow",
	[REASON_ALWAYS_ALLOW] = "always-allow",
	[REASON_TEMP_ALLOW] = "temporary-allow",
	[REASON_NO_SNI] = "no-sni",
	[REASON_OUTSIDE_DNS] = "outside-dns",
	[REASON_DOT] = "dot",
	[REASON_SAFE_SEARCH] = "safe-search",
};

const char *
policy_kind_name(enum request_kind k)
{
	switch (k) {
	case REQ_DNS:
		return "dns";
	case REQ_TLS:
		return "tls";
	case REQ_HTTP:
		return "http";
	case REQ_QUIC:
		return "quic";
	case REQ_DOT:
		return "dot";
	}
	return "?";
}

const char *
policy_reason_name(enum policy_reason r)
{
	return r < REASON_COUNT ? reason_names[r] : "?";
}

void
policy_identify(const struct snapshot *snap, struct request *req)
{
	const struct config *cfg = snap->cfg;
	struct devices_match m;
	uint8_t mac[6];
	const uint8_t *macp = req->has_mac ? req->mac : NULL;

	req->identified = true;
	req->named = false;
	req->device = NULL;
	/* Without a MAC (the router's own hooks, the block page's peer), a
	 * DHCP lease may still tell the device's MAC from its address. */
	if (macp == NULL && snap->leases != NULL &&
	    devices_leases_mac(snap->leases, &req->client, mac))
		macp = mac;
	req->by = devices_match(snap->devices, macp, &req->client, &m);
	if (req->by != DEVICES_BY_NONE) {
		req->profile = m.profile;
		req->device = m.name;
		req->named = true;
		return;
	}
	req->profile = cfg->default_profile;
	if (snap->leases == NULL)
		return;
	if (macp != NULL)
		req->device = devices_leases_hostname(snap->leases, macp);
}

/*
 * Whether schedule j of profile p is in force at t.  Reading local time
 * costs a localtime_r() (and glibc's time-zone lock), so the answer is
 * kept for the minute: windows begin and end on whole minutes, and so do
 * the time zones' offset changes.  Any thread may refresh the cache; one
 * 64-bit atomic word holds the minute and the answer together, so a
 * reader never pairs one minute with another's answer, and a clock that
 * jumps back finds its minute stale.
 */
static bool
sched_active(const struct snapshot *snap, size_t p, size_t j, time_t t)
{
	int64_t *slot = &snap->sched_cache[p * CONFIG_MAX_SCHEDULES + j];
	int64_t minute = (int64_t)(t >= 0 ? t / 60 : (t - 59) / 60);
	int64_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
	bool on;

	if (v != 0 && (v - 1) >> 1 == minute)
		return (v - 1) & 1;
	on = schedule_active(snap->profiles[p].sched[j].when, t);
	__atomic_store_n(slot, (minute << 1 | on) + 1, __ATOMIC_RELAXED);
	return on;
}

bool
policy_schedule_active(const struct snapshot *snap, unsigned profile,
    const char *name, time_t t)
{
	const struct config_profile *cp = snap->profiles[profile].cfg;
	size_t j;

	for (j = 0; j < cp->nschedules; j++)
		if (strcmp(cp->schedules[j].name, name) == 0)
			return sched_active(snap, profile, j, t);
	return false;
}

/* The keys a runtime override may name the device by: its config name,
 * its MAC and its address, as text. */
struct keys {
	const char	*k[3];
	size_t		 n;
	char		 mac[MAC_STRLEN];
	char		 ip[ADDR_STRLEN];
};

static void
device_keys(const struct request *req, struct keys *keys)
{
	keys->n = 0;
	if (req->named)
		keys->k[keys->n++] = req->device;
	if (req->has_mac)
		keys->k[keys->n++] = mac_ntop(req->mac, keys->mac,
		    sizeof(keys->mac));
	if (req->client.family != AF_UNSPEC)
		keys->k[keys->n++] = addr_ntop(&req->client, keys->ip,
		    sizeof(keys->ip));
}

static void
lookup(const struct snapshot *snap, const struct request *req,
    struct decision *d)
{
	struct sgdb_match m;

	if (!sgdb_lookup(snap->db, req->name, req->name_len, &m))
		return;
	d->matched = m.categories;
	if (m.confidential != 0) {
		d->confidential = true;
		d->list = m.list;
		memcpy(d->hash, m.hash, sizeof(d->hash));
	} else if (m.rule_len != 0) {
		d->rule = req->name + req->name_len - m.rule_len;
		d->rule_len = m.rule_len;
	}
}

static void
block(struct decision *d, enum policy_reason why)
{
	d->action = ACTION_BLOCK;
	d->reason = why;
}

static void
allow(struct decision *d, enum policy_reason why)
{
	d->action = ACTION_ALLOW;
	d->reason = why;
}

const char *
policy_safe_target(const struct snapshot *snap, const struct request *req)
{
	const struct config_profile *cp = snap->profiles[req->profile].cfg;

	return safesearch_target(req->name, req->name_len, &cp->safe_search);
}

/* What an allowed DNS question is answered with. */
static void
answer_allowed(const struct snapshot *snap, const struct request *req,
    struct decision *d)
{
	const struct config_profile *cp = snap->profiles[req->profile].cfg;

	if (req->kind != REQ_DNS)
		return;
	if (cp->bypass_ech &&
	    (req->qtype == QTYPE_HTTPS || req->qtype == QTYPE_SVCB)) {
		d->nodata = true;
		return;
	}
	d->safe_target = safesearch_target(req->name, req->name_len,
	    &cp->safe_search);
}

void
policy_decide(const struct snapshot *snap, const struct overrides *ov,
    struct request *req, struct decision *d)
{
	const struct snapshot_profile *sp;
	struct nameset_match nm;
	struct keys keys;
	uint64_t sched_block = 0;
	size_t j;

	memset(d, 0, sizeof(*d));
	d->schedule = -1;
	if (!req->identified)
		policy_identify(snap, req);
	sp = &snap->profiles[req->profile];
	lookup(snap, req, d);

	if (d->matched & snap->confidential & snap->block_mask) {
		d->blocked = d->matched & snap->confidential &
		    snap->block_mask;
		block(d, REASON_CONFIDENTIAL);
		return;
	}
	if (nameset_lookup(snap->always, req->name, req->name_len, &nm)) {
		d->entry = nm.entry;
		allow(d, REASON_ALWAYS_ALLOW);
		answer_allowed(snap, req, d);
		return;
	}
	if (ov != NULL && !overrides_empty(ov)) {
		device_keys(req, &keys);
		if (overrides_paused(ov, keys.k, keys.n, req->time,
		    &d->until)) {
			block(d, REASON_PAUSE);
			return;
		}
		if (overrides_allowed(ov, keys.k, keys.n, req->name,
		    req->name_len, req->time, &d->until)) {
			allow(d, REASON_TEMP_ALLOW);
			answer_allowed(snap, req, d);
			return;
		}
	}
	if (nameset_lookup(sp->names, req->name, req->name_len, &nm)) {
		d->entry = nm.entry;
		if (nm.tag == NAMESET_DENY) {
			block(d, REASON_DENY);
			return;
		}
		allow(d, REASON_ALLOW_LIST);
		answer_allowed(snap, req, d);
		return;
	}
	for (j = 0; j < sp->nsched; j++) {
		if (!sched_active(snap, req->profile, j, req->time))
			continue;
		if (sp->sched[j].all) {
			d->schedule = (int)j;
			d->blocked = d->matched & (sp->block | sp->sched[j].block);
			block(d, REASON_SCHEDULE);
			return;
		}
		if ((d->matched & sp->sched[j].block & ~sp->block) != 0 &&
		    d->schedule < 0)
			d->schedule = (int)j;
		sched_block |= sp->sched[j].block;
	}
	d->blocked = d->matched & (sp->block | sched_block);
	if (d->blocked != 0) {
		block(d, d->schedule >= 0 && !(d->matched & sp->block) ?
		    REASON_SCHEDULE : REASON_CATEGORY);
		return;
	}
	d->schedule = -1;
	allow(d, REASON_NONE);
	answer_allowed(snap, req, d);
}

/* ---------------------------------------------------------------- explain */

/* Where a profile's block of category cid (config id) comes from. */
static const char *
block_source(const struct config *cfg, const struct config_profile *cp,
    int cid)
{
	uint64_t bit = (uint64_t)1 << cid;
	const char *name = cfg->categories[cid];

	if (cfg->block_mask & bit)
		return "blocked for everyone (top-level block)";
	if (cp->block_mask & bit)
		return "blocked by the profile";
	if (cp->service_mask & bit)
		return "blocked by the profile's services";
	if ((cp->bypass_doh && (strcmp(name, "doh") == 0 ||
	    strcmp(name, "bypass") == 0)) ||
	    (cp->bypass_vpn && strcmp(name, "vpn-proxy") == 0))
		return "blocked by the profile's bypass settings";
	return NULL;
}

static void
explain_device(const struct snapshot *snap, struct request *req,
    struct sbuf *out)
{
	const struct config *cfg = snap->cfg;
	static const char none[] = "no device entry matches: the default "
	    "profile";
	static const char *const by[] = {
		[DEVICES_BY_NONE] = none,
		[DEVICES_BY_MAC] = "by MAC", [DEVICES_BY_IP] = "by address",
		[DEVICES_BY_CIDR] = "by address range",
	};
	char mac[MAC_STRLEN], ip[ADDR_STRLEN];

	sbuf_printf(out, "device %s: %s", req->device != NULL ?
	    req->device : "(unnamed)", by[req->by]);
	if (req->has_mac)
		sbuf_printf(out, ", MAC %s", mac_ntop(req->mac, mac,
		    sizeof(mac)));
	if (req->client.family != AF_UNSPEC)
		sbuf_printf(out, ", address %s", addr_ntop(&req->client, ip,
		    sizeof(ip)));
	sbuf_printf(out, "\nprofile %s%s\n", cfg->profiles[req->profile].name,
	    req->profile == cfg->default_profile ? " (the default)" : "");
}

/* Fills req from the words safegatectl sends: a config device name, a
 * MAC or an address. */
static int
explain_request(const struct snapshot *snap, const char *device,
    struct request *req)
{
	const struct config *cfg = snap->cfg;
	unsigned b[6];
	char tail;
	size_t i;

	for (i = 0; i < cfg->ndevices; i++) {
		const struct devices_spec *sp = &cfg->devices[i].spec;

		if (strcmp(cfg->devices[i].name, device) != 0)
			continue;
		req->identified = req->named = true;
		req->device = cfg->devices[i].name;
		req->profile = sp->profile;
		req->by = sp->kind == DEVICES_MAC ? DEVICES_BY_MAC :
		    sp->kind == DEVICES_IP ? DEVICES_BY_IP : DEVICES_BY_CIDR;
		if (sp->kind == DEVICES_MAC) {
			req->has_mac = true;
			memcpy(req->mac, sp->mac, 6);
		} else
			req->client = sp->addr;
		return 0;
	}
	if (sscanf(device, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
	    &b[3], &b[4], &b[5], &tail) == 6 && strlen(device) == 17) {
		req->has_mac = true;
		for (i = 0; i < 6; i++)
			req->mac[i] = (uint8_t)b[i];
	} else if (addr_parse(&req->client, device) < 0)
		return -EINVAL;
	policy_identify(snap, req);
	return 0;
}

static void
explain_schedules(const struct snapshot *snap, const struct request *req,
    struct sbuf *out)
{
	const struct config_profile *cp = &snap->cfg->profiles[req->profile];
	char text[SCHEDULE_FORMAT_MAX];
	size_t j;

	for (j = 0; j < cp->nschedules; j++) {
		const struct config_schedule *cs = &cp->schedules[j];
		bool on = schedule_active(&cs->when, req->time);

		if (schedule_format(&cs->when, text, sizeof(text)) < 0)
			text[0] = '\0';
		sbuf_printf(out, "schedule %s (%s): %s, blocks %s\n",
		    cs->name, text, on ? "in force" : "not in force",
		    cs->all ? "everything but the allow lists" :
		    "its categories and services");
	}
}

static void
explain_categories(const struct snapshot *snap, const struct request *req,
    const struct decision *d, struct sbuf *out)
{
	const struct config *cfg = snap->cfg;
	const struct config_profile *cp = &cfg->profiles[req->profile];
	const char *src;
	unsigned c;
	size_t j;
	int cid;

	if (d->matched == 0) {
		sbuf_str(out, "lists: in no category\n");
		return;
	}
	for (c = 0; c < snap->ncategories; c++) {
		if (!(d->matched & (uint64_t)1 << c))
			continue;
		sbuf_printf(out, "category %s: ", snap->category_names[c]);
		if (snap->confidential & (uint64_t)1 << c) {
			char hex[65];

			for (j = 0; j < 32; j++)
				snprintf(hex + 2 * j, 3, "%02x", d->hash[j]);
			sbuf_printf(out, "confidential list %u, entry hash:%s "
			    "(the name is never shown); blocked for everyone, "
			    "nothing overrides it\n", d->list, hex);
			continue;
		}
		if (d->rule != NULL)
			sbuf_printf(out, "listed as %.*s; ", (int)d->rule_len,
			    d->rule);
		cid = config_category_id(cfg, snap->category_names[c]);
		src = cid >= 0 ? block_source(cfg, cp, cid) : NULL;
		for (j = 0; src == NULL && cid >= 0 && j < cp->nschedules;
		    j++) {
			const struct config_schedule *cs = &cp->schedules[j];

			if ((cs->block_mask | cs->service_mask) &
			    (uint64_t)1 << cid)
				src = "blocked while one of its schedules is "
				    "in force";
		}
		sbuf_printf(out, "%s\n", src != NULL ? src :
		    "not blocked for this profile");
	}
}

int
policy_explain(const struct snapshot *snap, const struct overrides *ov,
    const char *device, const char *name, time_t at, struct sbuf *out)
{
	char norm[DNS_TEXT_MAX + 1], when[64];
	const char *why;
	struct request req;
	struct decision d;
	struct tm tm;
	int n;

	memset(&req, 0, sizeof(req));
	if (explain_request(snap, device, &req) < 0) {
		sbuf_printf(out, "%s: not a device of the config, a MAC or an "
		    "address", device);
		return -EINVAL;
	}
	if ((n = lists_normalize(name, strlen(name), norm, &why)) < 0) {
		sbuf_printf(out, "%s: not a name: %s", name, why);
		return -EINVAL;
	}
	req.kind = REQ_DNS;
	req.qtype = 1;
	req.name = norm;
	req.name_len = (size_t)n;
	req.time = at;
	if (localtime_r(&at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)at);

	policy_decide(snap, ov, &req, &d);
	explain_device(snap, &req, out);
	/* A name an abuse list holds is not echoed, as safegate-lists
	 * lookup does not: the category line gives its entry's hash. */
	sbuf_printf(out, "name %s\ntime %s\n", d.confidential ?
	    "(in a confidential list: not shown)" : norm, when);
	explain_schedules(snap, &req, out);
	explain_categories(snap, &req, &d, out);
	switch (d.reason) {
	case REASON_ALWAYS_ALLOW:
	case REASON_ALLOW_LIST:
	case REASON_DENY:
		sbuf_printf(out, "%s list: entry %s\n", d.reason ==
		    REASON_DENY ? "deny" : d.reason == REASON_ALLOW_LIST ?
		    "allow" : "always_allow (help routes and the config's)",
		    d.entry);
		break;
	case REASON_PAUSE:
	case REASON_TEMP_ALLOW:
		if (localtime_r(&d.until, &tm) == NULL ||
		    strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M %Z",
		    &tm) == 0)
			snprintf(when, sizeof(when), "%lld",
			    (long long)d.until);
		sbuf_printf(out, "%s until %s (safegatectl)\n", d.reason ==
		    REASON_PAUSE ? "paused" : "allowed for now", when);
		break;
	default:
		break;
	}
	if (d.safe_target != NULL)
		sbuf_printf(out, "safe search: answered with %s\n",
		    d.safe_target);
	sbuf_printf(out, "decision: %s (%s", d.action == ACTION_BLOCK ?
	    "block" : "allow", policy_reason_name(d.reason));
	if (d.schedule >= 0)
		sbuf_printf(out, " %s", snap->cfg->profiles[req.profile].
		    schedules[d.schedule].name);
	sbuf_str(out, ")\n");
	return 0;
}

/* ------------------------------------------------------------ block page */

void
policy_blockpage(const struct snapshot *snap, const struct overrides *ov,
    const struct sg_addr *client, const char *host, time_t now,
    struct blockpage_info *out)
{
	const struct config_profile *cp;
	struct request req;
	struct decision d;
	unsigned c;

	if (host == NULL || host[0] == '\0')
		return;
	memset(&req, 0, sizeof(req));
	req.kind = REQ_HTTP;
	req.name = host;
	req.name_len = strlen(host);
	req.client = *client;
	req.time = now;
	policy_decide(snap, ov, &req, &d);
	if (d.action != ACTION_BLOCK)
		return;		/* not this device's block: the neutral page */
	cp = &snap->cfg->profiles[req.profile];
	if (d.reason == REASON_CONFIDENTIAL) {
		out->kind = BLOCKPAGE_CONFIDENTIAL;
		return;
	}
	if (req.device != NULL)
		blockpage_info_set_device(out, req.device);
	switch (d.reason) {
	case REASON_DENY:
		out->kind = BLOCKPAGE_DENY;
		return;
	case REASON_PAUSE:
		out->kind = BLOCKPAGE_PAUSE;
		out->until = d.until;
		return;
	case REASON_SCHEDULE:
		blockpage_info_set_schedule(out, d.schedule >= 0 ?
		    cp->schedules[d.schedule].name : "schedule",
		    d.schedule >= 0 && cp->schedules[d.schedule].all,
		    d.schedule >= 0 ? schedule_next_change(
		    &cp->schedules[d.schedule].when, now) : 0);
		break;
	default:
		out->kind = BLOCKPAGE_CATEGORY;
		break;
	}
	for (c = 0; c < snap->ncategories; c++)
		if (d.blocked & (uint64_t)1 << c)
			blockpage_info_add_category(out,
			    snap->category_names[c]);
}
