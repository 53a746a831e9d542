/*
 * report.c - see report.h.
 *
 * Two halves: reading (report_add_line() checks each line's fields and
 * folds it into per-device tables) and writing (one pass per format over
 * the same sorted view).  Everything shown to a parent that is not from
 * the log is a static table below: the indicators' texts, the advice and
 * the help routes.
 *
 *   struct report
 *     devs[] ----> struct device  label, mac, client, profile
 *                    cats[]       category -> blocks
 *                    names[]      name -> blocks (never a confidential one)
 *                    inds[]       indicator -> count, severity, first, last
 *                    day_blocked[ndays], day_ind[ndays]
 *     abuse[]      one row per abuse-list hit: time, device, list, hash
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "jsonl.h"
#include "overrides.h"
#include "report.h"
#include "schedule.h"
#include "risk.h"

#define NAMES_SHOWN	5	/* most blocked names per device */
#define IND_NAMES	3	/* names kept per indicator */
#define TEXT_WIDTH	76
#define ABUSE_SAME_SECS	2	/* a block and its indicator: one hit */

/* ------------------------------------------------------------ the texts */

static const struct risk_text unknown_text = {
	NULL, NULL,
	"safegate recorded this indicator; this version of the report has "
	"no explanation for it.",
	"", ""
};

/* The texts of an indicator (risk.h), or NULL for an id unknown here. */
static const struct risk_text *
indicator_text(const char *id)
{
	return risk_text(id);
}

/* Where an id sorts: risk.h's order (the most severe first), then the
   ids this version does not know. */
static size_t
indicator_order(const char *id)
{
	size_t i;

	for (i = 0; risk_ids[i] != NULL; i++)
		if (strcmp(risk_ids[i], id) == 0)
			return i;
	return i;
}

/* The indicators that may be grooming (the advice to talk and report). */
static bool
is_grooming(const char *id)
{
	return strcmp(id, "anon-chat") == 0 ||
	    strcmp(id, "late-night-contact") == 0 ||
	    strcmp(id, "new-platform") == 0 ||
	    strcmp(id, "under-age-platform") == 0;
}

static int
severity_rank(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "critical") == 0)
		return 3;
	if (strcmp(s, "warning") == 0)
		return 2;
	if (strcmp(s, "notice") == 0 || strcmp(s, "info") == 0)
		return 1;
	return 0;
}

#define URL_CEOP	"https://www.ceop.police.uk/Safety-Centre/"
#define URL_REMOVE	"https://www.childline.org.uk/info-advice/" \
	"bullying-abuse-safety/online-mobile-safety/" \
	"remove-nude-image-shared-online/"
#define URL_RHC		"https://reportharmfulcontent.com/"

/* One piece of advice, shown when relevant (view_build()), in this order. */
enum advice_id { ADV_ABUSE, ADV_GROOMING, ADV_REMOVE, ADV_HARMFUL, ADV_N };

struct advice {
	const char	*id;		/* for JSON */
	const char	*title;
	const char	*points[7];	/* NULL-terminated */
};

static const struct advice advice[ADV_N] = {
	[ADV_ABUSE] = { "abuse-list",
	    "What to do now: a site on the child-abuse list", {
	    "Do not search for the site, visit it or try to see what it "
	    "holds. Viewing, downloading or sharing such images is a crime, "
	    "even to check.",
	    "Do not confront anyone, and do not warn the family or the "
	    "person you suspect: it can put a child at greater risk and lead "
	    "to evidence being destroyed.",
	    "Do not delete anything. Leave the device as it is, and keep "
	    "this report and safegate's event log as they are.",
	    "Report it to CEOP or to the police (101). If a child is in "
	    "immediate danger, call 999. CEOP: " URL_CEOP,
	    "In a school or college: tell your Designated Safeguarding Lead "
	    "(DSL) at once. The DSL refers it to the police and to "
	    "children's social care; do not look into it yourself.",
	    "safegate never records the name of a site on this list. The "
	    "list and rule hash above identify it for the police.",
	    NULL } },
	[ADV_GROOMING] = { "grooming",
	    "If you are worried about grooming", {
	    "Talk to your child, calmly and without blame. Ask which apps "
	    "and sites they use and who they talk to, and whether anyone has "
	    "asked them to keep a secret, to move to another app, to meet, "
	    "or to send pictures. Tell them they will not be in trouble for "
	    "telling you.",
	    "Keep the messages and note the usernames; do not delete "
	    "accounts or chats. Never copy or forward an image that may show "
	    "a child.",
	    "If you think someone is trying to groom your child, report it "
	    "to CEOP: " URL_CEOP,
	    "If a child is in immediate danger, call 999.",
	    NULL } },
	[ADV_REMOVE] = { "report-remove",
	    "If an image of your child has been shared", {
	    "If your child has shared a nude or sexual image of themselves, "
	    "or is being pressured or blackmailed over one, Childline and "
	    "the IWF can have it taken down (for anyone under 18): Report "
	    "Remove, " URL_REMOVE,
	    "Do not pay or reply to anyone making threats; report them to "
	    "CEOP.",
	    NULL } },
	[ADV_HARMFUL] = { "harmful-content",
	    "If harmful content got through", {
	    "If your child came across harmful content (bullying, threats, "
	    "self-harm, violence, pornography) on a site or app, report it "
	    "there first. If it is not taken down, Report Harmful Content "
	    "can help: " URL_RHC,
	    NULL } },
};

struct route {
	const char	*name, *what, *how;
};

static const struct route routes[] = {
	{ "Police", "a child in immediate danger",
	  "999; when it is not an emergency, 101" },
	{ "CEOP (National Crime Agency)",
	  "report online sexual abuse or grooming", URL_CEOP },
	{ "NSPCC helpline", "advice for adults worried about a child",
	  "0808 800 5000, https://www.nspcc.org.uk/" },
	{ "Childline", "for children and young people, free and private",
	  "0800 1111, https://www.childline.org.uk/" },
	{ "Report Remove (IWF and Childline)",
	  "get a nude image of someone under 18 taken down", URL_REMOVE },
	{ "Report Harmful Content", "harmful content a site will not remove",
	  URL_RHC },
	{ "UK Safer Internet Centre", "guides for parents and carers",
	  "https://saferinternet.org.uk/" },
	{ "Stop It Now",
	  "worried about an adult's behaviour towards children (or your own)",
	  "0808 1000 900" },
	{ "Schools and colleges", "safeguarding concerns",
	  "your Designated Safeguarding Lead (DSL)" },
};

/* Blocks with no category: why, in words. */
static const char *
reason_label(const char *reason)
{
	static const struct { const char *reason, *label; } labels[] = {
		{ "schedule", "schedule" },
		{ "pause", "paused" },
		{ "deny", "blocked by name" },
		{ "outside-dns", "outside DNS (bypass)" },
		{ "dot", "encrypted DNS (bypass)" },
		{ "no-sni", "unnamed connection" },
		{ "confidential", "confidential list" },
	};
	size_t i;

	if (reason != NULL)
		for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
			if (strcmp(labels[i].reason, reason) == 0)
				return labels[i].label;
	return "other";
}

/* ------------------------------------------------------------ the tables */

struct counter {
	char		*key;
	uint64_t	 n;
};

struct ind {
	char		*id;
	char		*severity;	/* the highest seen */
	int		 rank;
	uint64_t	 n;
	time_t		 first, last;
	char		*names[IND_NAMES];
	size_t		 nnames;
	bool		 names_more;
};

struct device {
	char		*label, *mac, *client, *profile;
	uint64_t	 blocked, indicators, confidential;
	struct counter	 cats[REPORT_CATEGORIES_MAX];
	size_t		 ncats;
	struct counter	*names;		/* REPORT_NAMES_MAX, on first use */
	size_t		 nnames;
	uint64_t	 names_more;	/* blocks of names past the cap */
	struct ind	 inds[REPORT_INDICATORS_MAX];
	size_t		 ninds;
	int		 rank;		/* highest indicator severity */
	uint64_t	*day_blocked, *day_ind;
};

struct abuse {
	time_t		 ts;
	char		*device, *list, *rule;
	bool		 hold, block, indicator;
};

struct report {
	time_t		 from, to;
	char		*filter;
	long		 day0;		/* civil day number of from, local */
	size_t		 ndays;
	struct device	*devs[REPORT_DEVICES_MAX];
	size_t		 ndevs;
	struct abuse	 abuse[REPORT_ABUSE_MAX];
	size_t		 nabuse;
	uint64_t	 abuse_more;	/* rows past the cap */
	uint64_t	 abuse_elsewhere; /* hidden by --device */
	uint64_t	 lost;		/* "log" "lost": events not recorded */
	uint64_t	 cut_short;	/* "log" "recovered": cut lines */
	bool		 any_grooming, any_harmful;
	struct report_counts c;
	struct jsonl	*j;
	char		 line[JSONL_LINE_MAX];	/* report_add_file() */
};



/* The local calendar day of t. */
static long
local_day(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return schedule_civil_days(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1,
	    (unsigned)tm.tm_mday);
}

/*
 * "2026-03-01T21:30:05.123456Z" (the fraction optional, any length up to
 * nine digits) to epoch seconds.  Strict: every field in range.
 */
static bool
parse_ts(const char *s, size_t len, time_t *out)
{
	unsigned v[6] = { 0 };
	static const unsigned width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };
	static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	size_t p = 0, i, k;

	for (i = 0; i < 6; i++) {
		for (k = 0; k < width[i]; k++, p++) {
			if (p >= len || s[p] < '0' || s[p] > '9')
				return false;
			v[i] = v[i] * 10 + (unsigned)(s[p] - '0');
		}
		if (sep[i] != 0) {
			if (p >= len || s[p] != sep[i])
				return false;
			p++;
		}
	}
	if (p < len && s[p] == '.') {
		for (p++, k = 0; p < len && s[p] >= '0' && s[p] <= '9'; p++)
			k++;
		if (k == 0 || k > 9)
			return false;
	}
	if (p + 1 != len || s[p] != 'Z')
		return false;
	if (v[0] < 1970 || v[0] > 9999 || v[1] < 1 || v[1] > 12 ||
	    v[2] < 1 || v[2] > mdays[v[1] - 1] || v[3] > 23 || v[4] > 59 ||
	    v[5] > 60)
		return false;
	if (v[1] == 2 && v[2] == 29 &&
	    !(v[0] % 4 == 0 && (v[0] % 100 != 0 || v[0] % 400 == 0)))
		return false;
	*out = (time_t)schedule_civil_days(v[0], v[1], v[2]) * 86400 +
	    (time_t)v[3] * 3600 + (time_t)v[4] * 60 + (time_t)v[5];
	return true;
}

/*
 * A copy of at most REPORT_STRING_MAX bytes of a decoded string, cut at a
 * character's start, with U+0000 as U+FFFD so the copy is a C string.
 */
static char *
keep(const char *s, size_t len)
{
	size_t n = len, i, o = 0, nul = 0;
	char *p;

	if (n > REPORT_STRING_MAX) {
		n = REPORT_STRING_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		nul += s[i] == '\0';
	if ((p = malloc(n + 2 * nul + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0') {
			memcpy(p + o, "\xef\xbf\xbd", 3);
			o += 3;
		} else
			p[o++] = s[i];
	}
	p[o] = '\0';
	return p;
}

struct report *
report_new(time_t from, time_t to, const char *device)
{
	struct report *r;

	if (from >= to || to - from > (time_t)REPORT_DAYS_MAX * 86400 + 7200) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->from = from;
	r->to = to;
	r->day0 = local_day(from);
	r->ndays = (size_t)(local_day(to) - r->day0 + 1);
	if ((r->j = jsonl_new()) == NULL ||
	    (device != NULL && (r->filter = strdup(device)) == NULL)) {
		report_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

static void
device_free(struct device *d)
{
	size_t i, k;

	free(d->label);
	free(d->mac);
	free(d->client);
	free(d->profile);
	for (i = 0; i < d->ncats; i++)
		free(d->cats[i].key);
	for (i = 0; i < d->nnames; i++)
		free(d->names[i].key);
	free(d->names);
	for (i = 0; i < d->ninds; i++) {
		free(d->inds[i].id);
		free(d->inds[i].severity);
		for (k = 0; k < d->inds[i].nnames; k++)
			free(d->inds[i].names[k]);
	}
	free(d->day_blocked);
	free(d->day_ind);
	free(d);
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ndevs; i++)
		device_free(r->devs[i]);
	for (i = 0; i < r->nabuse; i++) {
		free(r->abuse[i].device);
		free(r->abuse[i].list);
		free(r->abuse[i].rule);
	}
	jsonl_free(r->j);
	free(r->filter);
	free(r);
}

/* The fields of one event line, checked. */
struct ev {
	time_t		 ts;
	const char	*kind, *label, *mac, *client, *profile, *name;
	const char	*rule, *list, *indicator, *severity, *reason;
	const char	*schedule, *action;
	size_t		 label_len, mac_len, client_len, profile_len, name_len;
	size_t		 rule_len, list_len, ind_len, sev_len, reason_len;
	size_t		 sched_len, action_len;
	bool		 hold, confidential;
};

/* An optional string field: absent, null (when allowed) or a string. */
static bool
opt_string(const struct jsonl *j, const char *key, bool null_ok,
    const char **s, size_t *len)
{
	enum jsonl_type t = jsonl_type(j, key);

	*s = NULL;
	*len = 0;
	if (t == JSONL_ABSENT || (null_ok && t == JSONL_NULL))
		return true;
	return (*s = jsonl_string(j, key, len)) != NULL;
}

static bool
has_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return s != NULL && len >= n && memcmp(s, p, n) == 0;
}

static bool
eq(const char *s, size_t len, const char *w)
{
	return s != NULL && strlen(w) == len && memcmp(s, w, len) == 0;
}

/*
 * Reads the fields an event may have; false if one has the wrong type or
 * a required one (ts, kind; indicator for kind "indicator") is missing.
 */
static bool
read_event(const struct jsonl *j, struct ev *e)
{
	const char *ts, *dev;
	size_t tslen, kindlen, devlen, i, n;
	enum jsonl_type t;

	memset(e, 0, sizeof(*e));
	if ((ts = jsonl_string(j, "ts", &tslen)) == NULL ||
	    !parse_ts(ts, tslen, &e->ts) ||
	    (e->kind = jsonl_string(j, "kind", &kindlen)) == NULL ||
	    kindlen == 0)
		return false;
	if (!opt_string(j, "device", true, &dev, &devlen) ||
	    !opt_string(j, "mac", true, &e->mac, &e->mac_len) ||
	    !opt_string(j, "client", false, &e->client, &e->client_len) ||
	    !opt_string(j, "profile", false, &e->profile, &e->profile_len) ||
	    !opt_string(j, "name", true, &e->name, &e->name_len) ||
	    !opt_string(j, "rule", false, &e->rule, &e->rule_len) ||
	    !opt_string(j, "list", false, &e->list, &e->list_len) ||
	    !opt_string(j, "indicator", false, &e->indicator, &e->ind_len) ||
	    !opt_string(j, "severity", false, &e->severity, &e->sev_len) ||
	    !opt_string(j, "reason", false, &e->reason, &e->reason_len) ||
	    !opt_string(j, "schedule", false, &e->schedule, &e->sched_len) ||
	    !opt_string(j, "action", false, &e->action, &e->action_len))
		return false;
	t = jsonl_type(j, "hold");
	if (t != JSONL_ABSENT && !jsonl_bool(j, "hold", &e->hold))
		return false;
	t = jsonl_type(j, "categories");
	if (t != JSONL_ABSENT && t != JSONL_ARRAY)
		return false;
	for (i = 0; i < jsonl_array_len(j, "categories"); i++) {
		jsonl_array_string(j, "categories", i, &n);
		if (n == 0)
			return false;
	}
	if (strcmp(e->kind, "indicator") == 0 &&
	    (e->indicator == NULL || e->ind_len == 0))
		return false;
	/* Who: the device's name, else its MAC, else its address. */
	if (dev != NULL && devlen > 0) {
		e->label = dev;
		e->label_len = devlen;
	} else if (e->mac != NULL && e->mac_len > 0) {
		e->label = e->mac;
		e->label_len = e->mac_len;
	} else if (e->client != NULL && e->client_len > 0) {
		e->label = e->client;
		e->label_len = e->client_len;
	} else {
		e->label = "(unknown device)";
		e->label_len = strlen(e->label);
	}
	e->confidential = has_prefix(e->rule, e->rule_len, "hash:") ||
	    e->list != NULL || eq(e->reason, e->reason_len, "confidential") ||
	    eq(e->indicator, e->ind_len, "abuse-list");
	return true;
}

static bool
matches_filter(const struct report *r, const struct ev *e)
{
	size_t n = strlen(r->filter);

	if (eq(e->label, e->label_len, r->filter) ||
	    eq(e->client, e->client_len, r->filter))
		return true;
	return e->mac != NULL && e->mac_len == n &&
	    strncasecmp(e->mac, r->filter, n) == 0;
}

/* Looks up (or adds, if there is room) key in a counter table. */
static struct counter *
counter(struct counter *t, size_t *n, size_t max, const char *key,
    size_t len)
{
	char *k;
	size_t i;

	if ((k = keep(key, len)) == NULL)
		return NULL;
	for (i = 0; i < *n; i++)
		if (strcmp(t[i].key, k) == 0) {
			free(k);
			return &t[i];
		}
	if (*n == max) {
		free(k);
		return NULL;
	}
	t[*n].key = k;
	t[*n].n = 0;
	return &t[(*n)++];
}

/* The device called label (kept), added if there is room. */
static struct device *
device_get(struct report *r, const char *label)
{
	struct device *d = NULL;
	size_t i;

	for (i = 0; i < r->ndevs; i++)
		if (strcmp(r->devs[i]->label, label) == 0)
			return r->devs[i];
	if (r->ndevs == REPORT_DEVICES_MAX ||
	    (d = calloc(1, sizeof(*d))) == NULL ||
	    (d->label = strdup(label)) == NULL) {
		free(d);
		return NULL;
	}
	d->day_blocked = calloc(r->ndays, sizeof(uint64_t));
	d->day_ind = calloc(r->ndays, sizeof(uint64_t));
	if (d->day_blocked == NULL || d->day_ind == NULL) {
		device_free(d);
		return NULL;
	}
	r->devs[r->ndevs++] = d;
	return d;
}

/* Who the device is, as first seen: its MAC, address and profile. */
static void
device_note(struct device *d, const struct ev *e)
{
	if (d->mac == NULL && e->mac != NULL && e->mac_len > 0)
		d->mac = keep(e->mac, e->mac_len);
	if (d->client == NULL && e->client != NULL && e->client_len > 0)
		d->client = keep(e->client, e->client_len);
	if (d->profile == NULL && e->profile != NULL && e->profile_len > 0)
		d->profile = keep(e->profile, e->profile_len);
}

/*
 * An abuse-list hit into the urgent rows.  A confidential block and the
 * indicator it fired are written as two lines a moment apart: one row.
 */
static void
abuse_add(struct report *r, const struct ev *e, const char *label,
    bool indicator)
{
	struct abuse *a;
	size_t i;

	for (i = 0; i < r->nabuse; i++) {
		a = &r->abuse[i];
		if (strcmp(a->device, label) != 0 ||
		    (indicator ? a->indicator : a->block) ||
		    (a->ts > e->ts ? a->ts - e->ts : e->ts - a->ts) >
		    ABUSE_SAME_SECS)
			continue;
		goto merge;
	}
	if (r->nabuse == REPORT_ABUSE_MAX) {
		r->abuse_more++;
		return;
	}
	a = &r->abuse[r->nabuse];
	memset(a, 0, sizeof(*a));
	a->ts = e->ts;
	if ((a->device = strdup(label)) == NULL)
		return;
	r->nabuse++;
merge:
	if (indicator)
		a->indicator = true;
	else {
		a->block = true;
		a->ts = e->ts;	/* the block is the moment of the hit */
	}
	a->hold |= e->hold;
	if (a->list == NULL && e->list != NULL)
		a->list = keep(e->list, e->list_len);
	if (a->rule == NULL && has_prefix(e->rule, e->rule_len, "hash:"))
		a->rule = keep(e->rule, e->rule_len);
}

static void
add_block(struct report *r, struct device *d, const struct ev *e,
    const struct jsonl *j, size_t day)
{
	struct counter *c;
	const char *cat;
	size_t i, n, ncat = jsonl_array_len(j, "categories");
	char label[80];

	d->blocked++;
	d->day_blocked[day]++;
	for (i = 0; i < ncat; i++) {
		cat = jsonl_array_string(j, "categories", i, &n);
		if ((c = counter(d->cats, &d->ncats, REPORT_CATEGORIES_MAX, cat,
		    n)) != NULL)
			c->n++;
		else
			r->c.not_stored++;
	}
	if (ncat == 0) {
		if (eq(e->reason, e->reason_len, "schedule") &&
		    e->schedule != NULL)
			snprintf(label, sizeof(label), "schedule: %.*s",
			    (int)(e->sched_len > 60 ? 60 : e->sched_len),
			    e->schedule);
		else
			snprintf(label, sizeof(label), "%s",
			    reason_label(e->confidential ? "confidential" :
			    e->reason));
		if ((c = counter(d->cats, &d->ncats, REPORT_CATEGORIES_MAX,
		    label, strlen(label))) != NULL)
			c->n++;
	}
	if (e->confidential) {
		/* Never the name: not even one a tampered line carries. */
		d->confidential++;
		d->rank = 3;
		return;
	}
	for (i = 0; i < ncat && !r->any_harmful; i++) {
		cat = jsonl_array_string(j, "categories", i, &n);
		r->any_harmful = !eq(cat, n, "bypass") && !eq(cat, n, "doh") &&
		    !eq(cat, n, "vpn-proxy");
	}
	if (e->name == NULL)
		return;
	if (d->names == NULL &&
	    (d->names = calloc(REPORT_NAMES_MAX, sizeof(*d->names))) == NULL)
		return;
	if ((c = counter(d->names, &d->nnames, REPORT_NAMES_MAX,
	    e->name_len > 0 ? e->name : "(no name)",
	    e->name_len > 0 ? e->name_len : 9)) != NULL)
		c->n++;
	else
		d->names_more++;
}

static void
add_indicator(struct report *r, struct device *d, const struct ev *e,
    size_t day)
{
	struct ind *in = NULL;
	char *id, *nm;
	size_t i;
	int rank;

	d->indicators++;
	d->day_ind[day]++;
	if ((id = keep(e->indicator, e->ind_len)) == NULL)
		return;
	for (i = 0; i < d->ninds; i++)
		if (strcmp(d->inds[i].id, id) == 0) {
			in = &d->inds[i];
			free(id);
			break;
		}
	if (in == NULL) {
		if (d->ninds == REPORT_INDICATORS_MAX) {
			free(id);
			r->c.not_stored++;
			return;
		}
		in = &d->inds[d->ninds++];
		memset(in, 0, sizeof(*in));
		in->id = id;
		in->first = in->last = e->ts;
		in->rank = -1;
	}
	in->n++;
	if (e->ts < in->first)
		in->first = e->ts;
	if (e->ts > in->last)
		in->last = e->ts;
	if (e->severity != NULL) {
		rank = severity_rank(e->severity);
		if (rank > in->rank) {
			free(in->severity);
			in->severity = keep(e->severity, e->sev_len);
			in->rank = rank;
		}
	}
	if (e->confidential && in->rank < 3) {
		/* The abuse list is critical whatever a line says. */
		free(in->severity);
		in->severity = strdup("critical");
		in->rank = 3;
	}
	if (in->rank > d->rank)
		d->rank = in->rank;
	if (is_grooming(in->id))
		r->any_grooming = true;
	if (e->confidential || e->name == NULL || e->name_len == 0)
		return;
	if ((nm = keep(e->name, e->name_len)) == NULL)
		return;
	for (i = 0; i < in->nnames; i++)
		if (strcmp(in->names[i], nm) == 0) {
			free(nm);
			return;
		}
	if (in->nnames == IND_NAMES) {
		in->names_more = true;
		free(nm);
		return;
	}
	in->names[in->nnames++] = nm;
}

void
report_add_line(struct report *r, const char *line, size_t len)
{
	struct device *d;
	struct ev e;
	char *label;
	size_t i;
	long day;
	bool indicator;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;		/* blank */
	r->c.lines++;
	if (jsonl_parse(r->j, line, len) != 0 || !read_event(r->j, &e)) {
		r->c.unreadable++;
		return;
	}
	if (strcmp(e.kind, "log") == 0 || strcmp(e.kind, "hold") == 0) {
		uint64_t n;

		r->c.bookkeeping++;
		if (e.ts < r->from || e.ts > r->to || strcmp(e.kind, "log") != 0)
			return;
		/* What the log says about itself, in this time. */
		if (eq(e.action, e.action_len, "lost") &&
		    jsonl_u64(r->j, "count", &n))
			r->lost = n > UINT64_MAX - r->lost ? UINT64_MAX :
			    r->lost + n;
		else if (eq(e.action, e.action_len, "recovered"))
			r->cut_short++;
		return;
	}
	if (e.ts < r->from || e.ts > r->to) {
		r->c.outside++;
		return;
	}
	indicator = strcmp(e.kind, "indicator") == 0;
	if (r->filter != NULL && !matches_filter(r, &e)) {
		if (e.confidential)
			r->abuse_elsewhere++;
		return;
	}
	if (!indicator && eq(e.action, e.action_len, "allow"))
		return;
	r->c.events++;
	if ((label = keep(e.label, e.label_len)) == NULL) {
		r->c.not_stored++;
		return;
	}
	if (e.confidential)
		abuse_add(r, &e, label, indicator);
	day = local_day(e.ts) - r->day0;
	if ((d = device_get(r, label)) == NULL || day < 0 ||
	    (size_t)day >= r->ndays)
		r->c.not_stored++;
	else {
		device_note(d, &e);
		if (indicator)
			add_indicator(r, d, &e, (size_t)day);
		else
			add_block(r, d, &e, r->j, (size_t)day);
	}
	free(label);
}

/* gzip, xz and zstd: rotated files a logrotate may have compressed. */
static bool
compressed(const unsigned char *p, size_t n)
{
	return (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	    (n >= 4 && memcmp(p, "\xfd" "7zX", 4) == 0) ||
	    (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0);
}

int
report_add_file(struct report *r, const char *path)
{
	char *line = r->line;
	unsigned char magic[4];
	size_t n = 0, got;
	bool too_long = false;
	FILE *f;
	int ch, err;

	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	got = fread(magic, 1, sizeof(magic), f);
	if (compressed(magic, got)) {
		fclose(f);
		r->c.compressed++;
		return 0;
	}
	rewind(f);
	r->c.files++;
	/* Bounded lines: a line past JSONL_LINE_MAX is skipped to its end
	   and counted, never read into memory whole. */
	while ((ch = getc_unlocked(f)) != EOF) {
		if (ch != '\n') {
			if (n < JSONL_LINE_MAX)
				line[n++] = (char)ch;
			else
				too_long = true;
			continue;
		}
		if (too_long) {
			r->c.lines++;
			r->c.unreadable++;
		} else
			report_add_line(r, line, n);
		n = 0;
		too_long = false;
	}
	if (too_long) {
		r->c.lines++;
		r->c.unreadable++;
	} else if (n > 0)
		report_add_line(r, line, n);
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	return err;
}

void
report_counts(const struct report *r, struct report_counts *c)
{
	*c = r->c;
	c->devices = r->ndevs;
}

static const struct device *
find_device(const struct report *r, const char *label)
{
	size_t i;

	for (i = 0; i < r->ndevs; i++)
		if (strcmp(r->devs[i]->label, label) == 0)
			return r->devs[i];
	return NULL;
}

uint64_t
report_blocked(const struct report *r, const char *device,
    const char *category)
{
	const struct device *d = find_device(r, device);
	size_t i;

	if (d == NULL)
		return 0;
	if (category == NULL)
		return d->blocked;
	for (i = 0; i < d->ncats; i++)
		if (strcmp(d->cats[i].key, category) == 0)
			return d->cats[i].n;
	return 0;
}

uint64_t
report_indicators(const struct report *r, const char *device,
    const char *indicator)
{
	const struct device *d = find_device(r, device);
	size_t i;

	if (d == NULL)
		return 0;
	if (indicator == NULL)
		return d->indicators;
	for (i = 0; i < d->ninds; i++)
		if (strcmp(d->inds[i].id, indicator) == 0)
			return d->inds[i].n;
	return 0;
}

size_t
report_abuse_count(const struct report *r)
{
	return r->nabuse;
}

/* ------------------------------------------------------------ the view */

/* What every format shows, sorted: built once per report_write(). */
#define VIEW_IDS_MAX	64
struct view {
	const struct device *devs[REPORT_DEVICES_MAX];
	const struct abuse *abuse[REPORT_ABUSE_MAX];
	const char	*ids[VIEW_IDS_MAX];	/* indicators seen, explained
						   once each */
	size_t		 nids;
	bool		 show[ADV_N];
};

static int
cmp_device(const void *a, const void *b)
{
	const struct device *x = *(const struct device *const *)a;
	const struct device *y = *(const struct device *const *)b;

	if (x->rank != y->rank)
		return y->rank - x->rank;
	if (x->indicators != y->indicators)
		return x->indicators < y->indicators ? 1 : -1;
	if (x->blocked != y->blocked)
		return x->blocked < y->blocked ? 1 : -1;
	return strcmp(x->label, y->label);
}

static int
cmp_abuse(const void *a, const void *b)
{
	const struct abuse *x = *(const struct abuse *const *)a;
	const struct abuse *y = *(const struct abuse *const *)b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return strcmp(x->device, y->device);
}

static int
cmp_counter(const void *a, const void *b)
{
	const struct counter *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
cmp_ind(const void *a, const void *b)
{
	const struct ind *x = a, *y = b;

	if (x->rank != y->rank)
		return y->rank - x->rank;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->id, y->id);
}

static int
cmp_id(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t ox = indicator_order(x), oy = indicator_order(y);

	if (ox != oy)
		return ox < oy ? -1 : 1;
	return strcmp(x, y);
}

static void
view_ids(const struct report *r, struct view *v)
{
	size_t i, k, n;

	for (i = 0; i < r->ndevs; i++)
		for (k = 0; k < r->devs[i]->ninds; k++) {
			const char *id = r->devs[i]->inds[k].id;

			for (n = 0; n < v->nids; n++)
				if (strcmp(v->ids[n], id) == 0)
					break;
			if (n == v->nids && v->nids < VIEW_IDS_MAX)
				v->ids[v->nids++] = id;
		}
	qsort(v->ids, v->nids, sizeof(v->ids[0]), cmp_id);
}

static void
view_build(const struct report *r, struct view *v)
{
	size_t i;

	for (i = 0; i < r->ndevs; i++) {
		struct device *d = r->devs[i];

		/* Sorting in place changes no count, only the order. */
		qsort(d->cats, d->ncats, sizeof(d->cats[0]), cmp_counter);
		if (d->names != NULL)
			qsort(d->names, d->nnames, sizeof(d->names[0]),
			    cmp_counter);
		qsort(d->inds, d->ninds, sizeof(d->inds[0]), cmp_ind);
		v->devs[i] = d;
	}
	qsort(v->devs, r->ndevs, sizeof(v->devs[0]), cmp_device);
	for (i = 0; i < r->nabuse; i++)
		v->abuse[i] = &r->abuse[i];
	qsort(v->abuse, r->nabuse, sizeof(v->abuse[0]), cmp_abuse);
	view_ids(r, v);
	v->show[ADV_ABUSE] = r->nabuse > 0 || r->abuse_more > 0;
	v->show[ADV_GROOMING] = r->any_grooming;
	v->show[ADV_REMOVE] = r->any_grooming || r->nabuse > 0;
	v->show[ADV_HARMFUL] = r->any_harmful;
}

static const char *const wday[7] = { "Thu", "Fri", "Sat", "Sun", "Mon",
	"Tue", "Wed" };
static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Tue 03 Mar" for a civil day number. */
static const char *
day_label(long z, char *buf, size_t len)
{
	long y;
	unsigned m, d;

	schedule_civil_from_days(z, &y, &m, &d);
	snprintf(buf, len, "%s %02u %s", wday[((z % 7) + 7) % 7], d,
	    mon[m - 1]);
	return buf;
}

static const char *
day_iso(long z, char *buf, size_t len)
{
	long y;
	unsigned m, d;

	schedule_civil_from_days(z, &y, &m, &d);
	snprintf(buf, len, "%04ld-%02u-%02u", y, m, d);
	return buf;
}

/* "Tue 03 Mar 2026 21:14" in local time. */
static const char *
local_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "@%lld", (long long)t);
	else
		snprintf(buf, len, "%s %02d %s %04d %02d:%02d",
		    wday[((local_day(t) % 7) + 7) % 7], tm.tm_mday,
		    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
	return buf;
}

static const char *
utc_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

/*
 * Decodes the UTF-8 character at s; its length.  Strings from the log are
 * valid (jsonl checked them, keep() cuts at a character's start), but
 * --device is any bytes: a byte that starts no valid character is
 * BAD_BYTE, length 1, and is printed escaped.
 */
#define BAD_BYTE	0xffffffffu
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (n == 0)
		goto bad;
	*cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return n;
bad:
	*cp = BAD_BYTE;
	return 1;
}

/* Controls (C0, DEL, C1) and the invisible format characters that can
   reorder or hide text (bidi overrides, zero-width, BOM). */
static bool
unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad ||
	    cp > 0x10ffff ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb);
}

/* ------------------------------------------------------------ text */

/* A string from the log, for a terminal: unsafe characters as \u{XXXX}. */
static void
text_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p != '\0') {
		n = utf8_next(p, &cp);
		if (cp == BAD_BYTE)
			fprintf(f, "\\x{%02x}", *p);
		else if (unsafe_cp(cp))
			fprintf(f, "\\u{%04x}", (unsigned)cp);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
}

/* Static text, wrapped at TEXT_WIDTH: the first line after `first`, the
   rest indented by `indent` spaces.  A word longer than a line (an
   address) is never broken. */
static void
text_wrap(FILE *f, const char *first, int indent, const char *s)
{
	int col = (int)strlen(first), w;
	bool fresh = true;	/* nothing on this line but the margin */
	const char *e;

	fputs(first, f);
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		if ((e = strchr(s, ' ')) == NULL)
			e = s + strlen(s);
		w = (int)(e - s);
		if (!fresh && col + 1 + w > TEXT_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			fresh = true;
		}
		if (!fresh) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, (size_t)w, f);
		col += w;
		fresh = false;
		s = e;
	}
	fputc('\n', f);
}

static void
text_rule(FILE *f, char ch)
{
	int i;

	for (i = 0; i < TEXT_WIDTH; i++)
		fputc(ch, f);
	fputc('\n', f);
}

static void
text_heading(FILE *f, const char *title)
{
	size_t i, n = strlen(title);

	fprintf(f, "\n%s\n", title);
	for (i = 0; i < n; i++)
		fputc('-', f);
	fputc('\n', f);
}

static void
text_advice(FILE *f, const struct advice *a)
{
	char num[8];
	size_t i;

	text_heading(f, a->title);
	for (i = 0; a->points[i] != NULL; i++) {
		snprintf(num, sizeof(num), "  %zu. ", i + 1);
		text_wrap(f, num, (int)strlen(num), a->points[i]);
	}
}

static void
text_header(const struct report *r, FILE *f)
{
	char a[40], b[40];

	fputs("safegate: the parents' digest\n", f);
	fprintf(f, "From %s to %s", local_time(r->from, a, sizeof(a)),
	    local_time(r->to, b, sizeof(b)));
	if (r->filter != NULL) {
		fputs(", device ", f);
		text_put(f, r->filter);
	}
	fputs("\n", f);
	fprintf(f, "%llu events from %u file%s.\n",
	    (unsigned long long)r->c.events, r->c.files,
	    r->c.files == 1 ? "" : "s");
	if (r->c.unreadable > 0)
		fprintf(f, "%llu line%s could not be read and %s skipped.\n",
		    (unsigned long long)r->c.unreadable,
		    r->c.unreadable == 1 ? "" : "s",
		    r->c.unreadable == 1 ? "was" : "were");
	if (r->cut_short > 0)
		fprintf(f, "%llu line%s cut short by a crash or power cut.\n",
		    (unsigned long long)r->cut_short,
		    r->cut_short == 1 ? " was" : "s were");
	if (r->lost > 0)
		fprintf(f, "safegate could not record %llu event%s in this "
		    "time.\n", (unsigned long long)r->lost,
		    r->lost == 1 ? "" : "s");
	if (r->c.compressed > 0)
		fprintf(f, "%u compressed file%s skipped.\n", r->c.compressed,
		    r->c.compressed == 1 ? " was" : "s were");
	if (r->c.not_stored > 0)
		fprintf(f, "%llu events were counted but not listed "
		    "(too many devices or categories).\n",
		    (unsigned long long)r->c.not_stored);
}

static void
text_abuse(const struct report *r, const struct view *v, FILE *f)
{
	char when[40];
	size_t i;

	fputc('\n', f);
	text_rule(f, '=');
	fputs("URGENT: a site on the child-abuse list was blocked\n", f);
	text_rule(f, '=');
	fprintf(f, "safegate blocked %zu attempt%s to reach a site on a "
	    "child-abuse list:\n", r->nabuse + (size_t)r->abuse_more,
	    r->nabuse + r->abuse_more == 1 ? "" : "s");
	for (i = 0; i < r->nabuse; i++) {
		const struct abuse *a = v->abuse[i];

		fprintf(f, "  %s  ", local_time(a->ts, when, sizeof(when)));
		text_put(f, a->device);
		if (a->list != NULL) {
			fputs("  list ", f);
			text_put(f, a->list);
		}
		if (a->rule != NULL) {
			fputs("\n      rule ", f);
			text_put(f, a->rule);
		}
		if (a->hold)
			fputs("\n      kept as evidence (held from deletion)", f);
		fputc('\n', f);
	}
	if (r->abuse_more > 0)
		fprintf(f, "  and %llu more.\n",
		    (unsigned long long)r->abuse_more);
	text_advice(f, &advice[ADV_ABUSE]);
	text_rule(f, '=');
}

static void
text_device(const struct report *r, const struct device *d, FILE *f)
{
	char when[40], when2[40], day[16];
	uint64_t max = 0;
	size_t i, k, bar;

	fputc('\n', f);
	text_rule(f, '-');
	text_put(f, d->label);
	if (d->mac != NULL && strcmp(d->mac, d->label) != 0) {
		fputs("  MAC ", f);
		text_put(f, d->mac);
	} else if (d->mac == NULL && d->client != NULL &&
	    strcmp(d->client, d->label) != 0) {
		fputs("  address ", f);
		text_put(f, d->client);
	}
	if (d->profile != NULL) {
		fputs("  profile ", f);
		text_put(f, d->profile);
	}
	fputc('\n', f);
	text_rule(f, '-');

	if (d->ninds > 0) {
		fprintf(f, "Risk indicators (%llu):\n",
		    (unsigned long long)d->indicators);
		for (i = 0; i < d->ninds; i++) {
			const struct ind *in = &d->inds[i];
			const struct risk_text *t = indicator_text(in->id);

			fputs("  [", f);
			text_put(f, in->severity != NULL ? in->severity : "?");
			fputs("] ", f);
			if (t != NULL)
				fputs(t->title, f);
			else
				text_put(f, in->id);
			fprintf(f, " (");
			text_put(f, in->id);
			fprintf(f, ")\n    %llu time%s, ",
			    (unsigned long long)in->n, in->n == 1 ? "" : "s");
			if (in->n == 1)
				fprintf(f, "%s\n",
				    local_time(in->first, when, sizeof(when)));
			else
				fprintf(f, "%s to %s\n",
				    local_time(in->first, when, sizeof(when)),
				    local_time(in->last, when2,
				    sizeof(when2)));
			if (in->nnames > 0) {
				fputs("    names: ", f);
				for (k = 0; k < in->nnames; k++) {
					if (k > 0)
						fputs(", ", f);
					text_put(f, in->names[k]);
				}
				fputs(in->names_more ? ", ...\n" : "\n", f);
			}
		}
	} else
		fputs("Risk indicators: none\n", f);

	fprintf(f, "Blocked: %llu\n", (unsigned long long)d->blocked);
	for (i = 0; i < d->ncats; i++) {
		fputs("  ", f);
		text_put(f, d->cats[i].key);
		fprintf(f, "%*s%6llu\n",
		    (int)(strlen(d->cats[i].key) < 24 ?
		    24 - strlen(d->cats[i].key) : 1), "",
		    (unsigned long long)d->cats[i].n);
	}
	if (d->nnames > 0) {
		fputs("Most blocked:\n", f);
		for (i = 0; i < d->nnames && i < NAMES_SHOWN; i++) {
			fprintf(f, "  %6llu  ",
			    (unsigned long long)d->names[i].n);
			text_put(f, d->names[i].key);
			fputc('\n', f);
		}
	}
	if (d->confidential > 0)
		fprintf(f, "  (%llu on the confidential list: no names "
		    "shown)\n", (unsigned long long)d->confidential);

	for (i = 0; i < r->ndays; i++)
		if (d->day_blocked[i] > max)
			max = d->day_blocked[i];
	fputs("By day:        blocked  indicators  (# blocked, ! an "
	    "indicator)\n", f);
	for (i = 0; i < r->ndays; i++) {
		fprintf(f, "  %s  %7llu  %10llu",
		    day_label(r->day0 + (long)i, day, sizeof(day)),
		    (unsigned long long)d->day_blocked[i],
		    (unsigned long long)d->day_ind[i]);
		bar = max > 0 ? (size_t)((d->day_blocked[i] * 30 + max - 1) /
		    max) : 0;
		if (bar > 0 || d->day_ind[i] > 0)
			fputs("  ", f);
		for (k = 0; k < bar; k++)
			fputc('#', f);
		if (d->day_ind[i] > 0)
			fputs(bar > 0 ? " !" : "!", f);
		fputc('\n', f);
	}
}

/* Each indicator seen, explained once. */
static void
text_meanings(const struct view *v, FILE *f)
{
	const struct risk_text *t;
	size_t i;

	fputc('\n', f);
	text_rule(f, '=');
	fputs("WHAT THE INDICATORS MEAN\n", f);
	text_rule(f, '=');
	for (i = 0; i < v->nids; i++) {
		fputc('\n', f);
		if ((t = indicator_text(v->ids[i])) != NULL)
			fprintf(f, "%s (%s)\n", t->title, t->id);
		else {
			text_put(f, v->ids[i]);
			fputc('\n', f);
			t = &unknown_text;
		}
		text_wrap(f, "  It may mean: ", 4, t->may_mean);
		if (t->may_not_mean[0] != '\0')
			text_wrap(f, "  It may NOT mean: ", 4, t->may_not_mean);
		if (t->what_to_do[0] != '\0')
			text_wrap(f, "  What to do: ", 4, t->what_to_do);
	}
}

static void
write_text(const struct report *r, const struct view *v, FILE *f)
{
	size_t i;
	int a;

	text_header(r, f);
	if (v->show[ADV_ABUSE])
		text_abuse(r, v, f);
	if (r->abuse_elsewhere > 0)
		fprintf(f, "\nNOTE: %llu abuse-list record%s on other devices "
		    "%s not shown: run the report without --device.\n",
		    (unsigned long long)r->abuse_elsewhere,
		    r->abuse_elsewhere == 1 ? "" : "s",
		    r->abuse_elsewhere == 1 ? "is" : "are");
	if (r->ndevs == 0)
		fputs("\nNothing was blocked and no indicator fired in this "
		    "time.\n", f);
	for (i = 0; i < r->ndevs; i++)
		text_device(r, v->devs[i], f);
	if (v->nids > 0)
		text_meanings(v, f);
	fputc('\n', f);
	text_rule(f, '=');
	fputs("WHAT TO DO\n", f);
	text_rule(f, '=');
	if (v->show[ADV_ABUSE])
		fputs("\nA site on the child-abuse list: see \"What to do "
		    "now\" at the top.\n", f);
	for (a = ADV_GROOMING; a < ADV_N; a++)
		if (v->show[a])
			text_advice(f, &advice[a]);
	if (!v->show[ADV_GROOMING] && !v->show[ADV_REMOVE] &&
	    !v->show[ADV_HARMFUL] && !v->show[ADV_ABUSE])
		fputs("\nNothing here needs action. The help below is there "
		    "whenever you need it.\n", f);
	text_heading(f, "Help and reporting (UK)");
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char first[80];

		snprintf(first, sizeof(first), "  %s: ", routes[i].name);
		text_wrap(f, first, 6, routes[i].what);
		text_wrap(f, "      ", 6, routes[i].how);
	}
}

/* ------------------------------------------------------------ HTML */

/* A string from the log in HTML text: markup characters as entities,
   unsafe characters as visible \u{XXXX}. */
static void
html_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p != '\0') {
		n = utf8_next(p, &cp);
		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (cp == BAD_BYTE)
				fprintf(f, "\\x{%02x}", *p);
			else if (unsafe_cp(cp))
				fprintf(f, "\\u{%04x}", (unsigned)cp);
			else
				fwrite(p, 1, n, f);
		}
		p += n;
	}
}

/* Static text, escaped, its https:// addresses as links (trailing
   punctuation left out of the link). */
static void
html_static(FILE *f, const char *s)
{
	const char *u, *e;
	char *url;

	while ((u = strstr(s, "https://")) != NULL) {
		char *pre = strndup(s, (size_t)(u - s));

		if (pre != NULL)
			html_put(f, pre);
		free(pre);
		for (e = u; *e != '\0' && *e != ' ' && *e != ','; e++)
			;
		while (e > u && (e[-1] == '.' || e[-1] == ')'))
			e--;
		if ((url = strndup(u, (size_t)(e - u))) != NULL) {
			fputs("<a href=\"", f);
			html_put(f, url);
			fputs("\">", f);
			html_put(f, url);
			fputs("</a>", f);
		}
		free(url);
		s = e;
	}
	html_put(f, s);
}

static const char html_css[] =
	":root{--ink:#1b1f24;--muted:#5b6470;--line:#d5d9de;--bar:#3a6ea5;"
	"--ind:#c0392b;--urgent:#8b0000;--urgent-bg:#fdecea}\n"
	"*{box-sizing:border-box}\n"
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"Helvetica,Arial,sans-serif;color:var(--ink);background:#fff;"
	"max-width:52rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45}\n"
	"h1{font-size:1.6rem;margin:0 0 .3rem}\n"
	"h2{font-size:1.25rem;margin:1.6rem 0 .5rem;border-bottom:2px solid "
	"var(--line);padding-bottom:.2rem}\n"
	"h3{font-size:1.05rem;margin:1rem 0 .3rem}\n"
	".meta{color:var(--muted);margin:.1rem 0}\n"
	".warn{color:var(--urgent)}\n"
	".urgent{border:3px solid var(--urgent);background:var(--urgent-bg);"
	"padding:.6rem 1rem 1rem;margin:1rem 0;border-radius:6px}\n"
	".urgent h2{color:var(--urgent);border:0;margin-top:.4rem}\n"
	".device{border:1px solid var(--line);border-radius:6px;"
	"padding:.4rem 1rem 1rem;margin:1rem 0}\n"
	".device h2{border:0;margin:.4rem 0}\n"
	".ind{border-left:4px solid var(--bar);padding:.1rem .8rem;"
	"margin:.6rem 0}\n"
	".ind.critical{border-color:var(--urgent)}\n"
	".ind.warning{border-color:#d35400}\n"
	".sev{display:inline-block;font-size:.75rem;font-weight:600;"
	"text-transform:uppercase;padding:0 .4rem;border-radius:3px;"
	"background:#e8eef5;margin-right:.4rem}\n"
	".critical .sev{background:var(--urgent);color:#fff}\n"
	".warning .sev{background:#f6d7c3}\n"
	".ind p{margin:.2rem 0}\n"
	"table{border-collapse:collapse;margin:.4rem 0}\n"
	"th,td{text-align:left;padding:.15rem .6rem .15rem 0;"
	"vertical-align:middle}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"th{color:var(--muted);font-weight:600;font-size:.85rem}\n"
	".track{width:16rem;background:#eef1f4;height:.8rem;"
	"border-radius:2px}\n"
	".bar{display:block;height:.8rem;background:var(--bar);"
	"border-radius:2px}\n"
	".mark{color:var(--ind);font-weight:700}\n"
	"td.t{white-space:nowrap}\n"
	"code{font-size:.85em;word-break:break-all}\n"
	"ol li,ul li{margin:.25rem 0}\n"
	"footer{margin-top:2rem;border-top:2px solid var(--line)}\n"
	"footer dt{font-weight:600;margin-top:.4rem}\n"
	"footer dd{margin:0 0 0 1rem}\n"
	"a{color:#1a4f8b}\n"
	"@media print{body{max-width:none;margin:0;padding:0;"
	"font-size:10.5pt}\n"
	"a{color:inherit;text-decoration:none}\n"
	".device,.ind,.urgent,table,footer dl{break-inside:avoid}\n"
	"h2,h3{break-after:avoid}\n"
	".urgent,.bar,.track,.sev{-webkit-print-color-adjust:exact;"
	"print-color-adjust:exact}}\n";

static void
html_advice(FILE *f, const struct advice *a, const char *tag)
{
	size_t i;

	fprintf(f, "<%s>", tag);
	html_static(f, a->title);
	fprintf(f, "</%s>\n<ol>\n", tag);
	for (i = 0; a->points[i] != NULL; i++) {
		fputs("<li>", f);
		html_static(f, a->points[i]);
		fputs("</li>\n", f);
	}
	fputs("</ol>\n", f);
}

static void
html_device(const struct report *r, const struct device *d, FILE *f)
{
	char when[40], when2[40], day[16];
	uint64_t max = 0;
	size_t i, k;

	fputs("<section class=\"device\">\n<h2>", f);
	html_put(f, d->label);
	fputs("</h2>\n<p class=\"meta\">", f);
	if (d->mac != NULL && strcmp(d->mac, d->label) != 0) {
		fputs("MAC ", f);
		html_put(f, d->mac);
		fputs(" &middot; ", f);
	} else if (d->mac == NULL && d->client != NULL &&
	    strcmp(d->client, d->label) != 0) {
		fputs("address ", f);
		html_put(f, d->client);
		fputs(" &middot; ", f);
	}
	if (d->profile != NULL) {
		fputs("profile ", f);
		html_put(f, d->profile);
		fputs(" &middot; ", f);
	}
	fprintf(f, "%llu blocked &middot; %llu indicator%s</p>\n",
	    (unsigned long long)d->blocked,
	    (unsigned long long)d->indicators, d->indicators == 1 ? "" : "s");

	if (d->ninds > 0) {
		fputs("<h3>Risk indicators</h3>\n", f);
		for (i = 0; i < d->ninds; i++) {
			const struct ind *in = &d->inds[i];
			const struct risk_text *t = indicator_text(in->id);
			const char *sev = in->severity != NULL ?
			    in->severity : "?";

			fprintf(f, "<div class=\"ind %s\">\n<p><span "
			    "class=\"sev\">", in->rank == 3 ? "critical" :
			    in->rank == 2 ? "warning" : "notice");
			html_put(f, sev);
			fputs("</span><strong>", f);
			if (t != NULL)
				html_put(f, t->title);
			else
				html_put(f, in->id);
			fputs("</strong> <code>", f);
			html_put(f, in->id);
			fprintf(f, "</code> &mdash; %llu time%s, ",
			    (unsigned long long)in->n, in->n == 1 ? "" : "s");
			if (in->n == 1)
				fprintf(f, "%s</p>\n",
				    local_time(in->first, when, sizeof(when)));
			else
				fprintf(f, "%s to %s</p>\n",
				    local_time(in->first, when, sizeof(when)),
				    local_time(in->last, when2,
				    sizeof(when2)));
			if (in->nnames > 0) {
				fputs("<p>Names: ", f);
				for (k = 0; k < in->nnames; k++) {
					if (k > 0)
						fputs(", ", f);
					fputs("<code>", f);
					html_put(f, in->names[k]);
					fputs("</code>", f);
				}
				fputs(in->names_more ? ", &hellip;</p>\n" :
				    "</p>\n", f);
			}
			fputs("</div>\n", f);
		}
	}

	fprintf(f, "<h3>Blocked: %llu</h3>\n", (unsigned long long)d->blocked);
	if (d->ncats > 0) {
		fputs("<table class=\"cats\">\n<tr><th>Category</th>"
		    "<th>Blocked</th></tr>\n", f);
		for (i = 0; i < d->ncats; i++) {
			fputs("<tr><td>", f);
			html_put(f, d->cats[i].key);
			fprintf(f, "</td><td class=\"n\">%llu</td></tr>\n",
			    (unsigned long long)d->cats[i].n);
		}
		fputs("</table>\n", f);
	}
	if (d->nnames > 0) {
		fputs("<table class=\"names\">\n<tr><th>Most blocked</th>"
		    "<th>Times</th></tr>\n", f);
		for (i = 0; i < d->nnames && i < NAMES_SHOWN; i++) {
			fputs("<tr><td><code>", f);
			html_put(f, d->names[i].key);
			fprintf(f, "</code></td><td class=\"n\">%llu</td>"
			    "</tr>\n", (unsigned long long)d->names[i].n);
		}
		fputs("</table>\n", f);
	}
	if (d->confidential > 0)
		fprintf(f, "<p class=\"meta\">%llu on the confidential list: "
		    "no names shown.</p>\n",
		    (unsigned long long)d->confidential);

	for (i = 0; i < r->ndays; i++)
		if (d->day_blocked[i] > max)
			max = d->day_blocked[i];
	fputs("<h3>By day</h3>\n<table class=\"days\">\n<tr><th>Day</th>"
	    "<th>Blocked</th><th></th><th>Indicators</th></tr>\n", f);
	for (i = 0; i < r->ndays; i++) {
		unsigned pct = max > 0 ? (unsigned)((d->day_blocked[i] * 100 +
		    max - 1) / max) : 0;

		fprintf(f, "<tr><td class=\"t\">%s</td><td class=\"n\">%llu</td>"
		    "<td><div class=\"track\"><span class=\"bar\" "
		    "style=\"width:%u%%\"></span></div></td>"
		    "<td class=\"n\">%s%llu%s</td></tr>\n",
		    day_label(r->day0 + (long)i, day, sizeof(day)),
		    (unsigned long long)d->day_blocked[i], pct,
		    d->day_ind[i] > 0 ? "<span class=\"mark\">" : "",
		    (unsigned long long)d->day_ind[i],
		    d->day_ind[i] > 0 ? "</span>" : "");
	}
	fputs("</table>\n</section>\n", f);
}

static void
html_meanings(const struct view *v, FILE *f)
{
	const struct risk_text *t;
	size_t i;

	fputs("<section class=\"meanings\">\n<h2>What the indicators "
	    "mean</h2>\n", f);
	for (i = 0; i < v->nids; i++) {
		fputs("<div class=\"ind\">\n<h3>", f);
		if ((t = indicator_text(v->ids[i])) != NULL)
			html_static(f, t->title);
		else
			t = &unknown_text;
		fputs(" <code>", f);
		html_put(f, v->ids[i]);
		fputs("</code></h3>\n<p><strong>It may mean:</strong> ", f);
		html_static(f, t->may_mean);
		fputs("</p>\n", f);
		if (t->may_not_mean[0] != '\0') {
			fputs("<p><strong>It may NOT mean:</strong> ", f);
			html_static(f, t->may_not_mean);
			fputs("</p>\n", f);
		}
		if (t->what_to_do[0] != '\0') {
			fputs("<p><strong>What to do:</strong> ", f);
			html_static(f, t->what_to_do);
			fputs("</p>\n", f);
		}
		fputs("</div>\n", f);
	}
	fputs("</section>\n", f);
}

static void
write_html(const struct report *r, const struct view *v, FILE *f)
{
	char a[40], b[40];
	size_t i;
	int k;

	fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    /* Nothing may load or run, even if an escape were missed. */
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>safegate: the parents' digest</title>\n<style>\n", f);
	fputs(html_css, f);
	fputs("</style>\n</head>\n<body>\n<header>\n"
	    "<h1>safegate: the parents&#39; digest</h1>\n", f);
	fprintf(f, "<p class=\"meta\">From %s to %s",
	    local_time(r->from, a, sizeof(a)), local_time(r->to, b, sizeof(b)));
	if (r->filter != NULL) {
		fputs(", device ", f);
		html_put(f, r->filter);
	}
	fprintf(f, ". %llu events from %u file%s.</p>\n",
	    (unsigned long long)r->c.events, r->c.files,
	    r->c.files == 1 ? "" : "s");
	if (r->c.unreadable > 0)
		fprintf(f, "<p class=\"meta warn\">%llu line%s could not be "
		    "read and %s skipped.</p>\n",
		    (unsigned long long)r->c.unreadable,
		    r->c.unreadable == 1 ? "" : "s",
		    r->c.unreadable == 1 ? "was" : "were");
	if (r->cut_short > 0)
		fprintf(f, "<p class=\"meta\">%llu line%s cut short by a "
		    "crash or power cut.</p>\n",
		    (unsigned long long)r->cut_short,
		    r->cut_short == 1 ? " was" : "s were");
	if (r->lost > 0)
		fprintf(f, "<p class=\"meta warn\">safegate could not record "
		    "%llu event%s in this time.</p>\n",
		    (unsigned long long)r->lost, r->lost == 1 ? "" : "s");
	if (r->c.compressed > 0)
		fprintf(f, "<p class=\"meta\">%u compressed file%s "
		    "skipped.</p>\n", r->c.compressed,
		    r->c.compressed == 1 ? " was" : "s were");
	if (r->c.not_stored > 0)
		fprintf(f, "<p class=\"meta\">%llu events were counted but "
		    "not listed (too many devices or categories).</p>\n",
		    (unsigned long long)r->c.not_stored);
	fputs("</header>\n", f);

	if (v->show[ADV_ABUSE]) {
		fputs("<section class=\"urgent\" id=\"urgent\">\n"
		    "<h2>Urgent: a site on the child-abuse list was "
		    "blocked</h2>\n", f);
		fprintf(f, "<p>safegate blocked %zu attempt%s to reach a site "
		    "on a child-abuse list.</p>\n<table>\n<tr><th>When</th>"
		    "<th>Device</th><th>List</th><th>Rule</th><th>Record</th>"
		    "</tr>\n", r->nabuse + (size_t)r->abuse_more,
		    r->nabuse + r->abuse_more == 1 ? "" : "s");
		for (i = 0; i < r->nabuse; i++) {
			const struct abuse *ab = v->abuse[i];

			fprintf(f, "<tr><td class=\"t\">%s</td><td>",
			    local_time(ab->ts, a, sizeof(a)));
			html_put(f, ab->device);
			fputs("</td><td>", f);
			html_put(f, ab->list != NULL ? ab->list : "");
			fputs("</td><td><code>", f);
			html_put(f, ab->rule != NULL ? ab->rule : "");
			fprintf(f, "</code></td><td>%s</td></tr>\n",
			    ab->hold ? "kept as evidence" : "");
		}
		fputs("</table>\n", f);
		if (r->abuse_more > 0)
			fprintf(f, "<p>And %llu more.</p>\n",
			    (unsigned long long)r->abuse_more);
		html_advice(f, &advice[ADV_ABUSE], "h3");
		fputs("</section>\n", f);
	}
	if (r->abuse_elsewhere > 0)
		fprintf(f, "<p class=\"warn\"><strong>%llu abuse-list "
		    "record%s on other devices %s not shown: make the report "
		    "without --device.</strong></p>\n",
		    (unsigned long long)r->abuse_elsewhere,
		    r->abuse_elsewhere == 1 ? "" : "s",
		    r->abuse_elsewhere == 1 ? "is" : "are");
	if (r->ndevs == 0)
		fputs("<p>Nothing was blocked and no indicator fired in this "
		    "time.</p>\n", f);
	for (i = 0; i < r->ndevs; i++)
		html_device(r, v->devs[i], f);
	if (v->nids > 0)
		html_meanings(v, f);

	fputs("<section class=\"todo\">\n<h2>What to do</h2>\n", f);
	if (v->show[ADV_ABUSE])
		fputs("<p><strong>A site on the child-abuse list: see <a "
		    "href=\"#urgent\">the advice at the top</a>.</strong></p>\n",
		    f);
	for (k = ADV_GROOMING; k < ADV_N; k++)
		if (v->show[k])
			html_advice(f, &advice[k], "h3");
	if (!v->show[ADV_GROOMING] && !v->show[ADV_REMOVE] &&
	    !v->show[ADV_HARMFUL] && !v->show[ADV_ABUSE])
		fputs("<p>Nothing here needs action. The help below is there "
		    "whenever you need it.</p>\n", f);
	fputs("</section>\n<footer>\n<h2>Help and reporting (UK)</h2>\n<dl>\n",
	    f);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		fputs("<dt>", f);
		html_static(f, routes[i].name);
		fputs("</dt>\n<dd>", f);
		html_static(f, routes[i].what);
		fputs(": ", f);
		html_static(f, routes[i].how);
		fputs("</dd>\n", f);
	}
	fputs("</dl>\n</footer>\n</body>\n</html>\n", f);
}

/* ------------------------------------------------------------ JSON */

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	fputc('"', f);
	while (*p != '\0') {
		n = utf8_next(p, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp == BAD_BYTE)
			fputs("\\ufffd", f);
		else if (unsafe_cp(cp))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

static void
json_str_or_null(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		json_str(f, s);
}

static void
json_device(const struct report *r, const struct device *d, FILE *f)
{
	char a[40], b[40];
	size_t i, k;

	fputs("    {\n      \"device\": ", f);
	json_str(f, d->label);
	fputs(",\n      \"mac\": ", f);
	json_str_or_null(f, d->mac);
	fputs(",\n      \"client\": ", f);
	json_str_or_null(f, d->client);
	fputs(",\n      \"profile\": ", f);
	json_str_or_null(f, d->profile);
	fprintf(f, ",\n      \"blocked\": %llu,\n      \"confidential\": %llu,"
	    "\n      \"categories\": [", (unsigned long long)d->blocked,
	    (unsigned long long)d->confidential);
	for (i = 0; i < d->ncats; i++) {
		fputs(i > 0 ? ",\n        {\"category\": " :
		    "\n        {\"category\": ", f);
		json_str(f, d->cats[i].key);
		fprintf(f, ", \"count\": %llu}",
		    (unsigned long long)d->cats[i].n);
	}
	fputs(d->ncats > 0 ? "\n      ],\n      \"names\": [" :
	    "],\n      \"names\": [", f);
	for (i = 0; i < d->nnames && i < NAMES_SHOWN; i++) {
		fputs(i > 0 ? ",\n        {\"name\": " :
		    "\n        {\"name\": ", f);
		json_str(f, d->names[i].key);
		fprintf(f, ", \"count\": %llu}",
		    (unsigned long long)d->names[i].n);
	}
	fputs(d->nnames > 0 ? "\n      ],\n      \"indicators\": [" :
	    "],\n      \"indicators\": [", f);
	for (i = 0; i < d->ninds; i++) {
		const struct ind *in = &d->inds[i];
		const struct risk_text *t = indicator_text(in->id);

		fputs(i > 0 ? ",\n        {\"indicator\": " :
		    "\n        {\"indicator\": ", f);
		json_str(f, in->id);
		fputs(", \"title\": ", f);
		json_str_or_null(f, t != NULL ? t->title : NULL);
		fputs(", \"severity\": ", f);
		json_str_or_null(f, in->severity);
		fprintf(f, ", \"count\": %llu, \"first\": \"%s\", "
		    "\"last\": \"%s\", \"names\": [",
		    (unsigned long long)in->n,
		    utc_time(in->first, a, sizeof(a)),
		    utc_time(in->last, b, sizeof(b)));
		for (k = 0; k < in->nnames; k++) {
			if (k > 0)
				fputs(", ", f);
			json_str(f, in->names[k]);
		}
		fputs("]}", f);
	}
	fputs(d->ninds > 0 ? "\n      ],\n      \"days\": [" :
	    "],\n      \"days\": [", f);
	for (i = 0; i < r->ndays; i++)
		fprintf(f, "%s\n        {\"date\": \"%s\", \"blocked\": %llu, "
		    "\"indicators\": %llu}", i > 0 ? "," : "",
		    day_iso(r->day0 + (long)i, a, sizeof(a)),
		    (unsigned long long)d->day_blocked[i],
		    (unsigned long long)d->day_ind[i]);
	fputs(r->ndays > 0 ? "\n      ]\n    }" : "]\n    }", f);
}

static void
write_json(const struct report *r, const struct view *v, FILE *f)
{
	char a[40], b[40];
	bool first = true;
	size_t i;
	int k;

	fprintf(f, "{\n  \"report\": \"safegate-digest\",\n  \"version\": 1,\n"
	    "  \"from\": \"%s\",\n  \"to\": \"%s\",\n  \"device_filter\": ",
	    utc_time(r->from, a, sizeof(a)), utc_time(r->to, b, sizeof(b)));
	json_str_or_null(f, r->filter);
	fprintf(f, ",\n  \"files\": %u,\n  \"compressed_files_skipped\": %u,\n"
	    "  \"lines\": %llu,\n  \"unreadable\": %llu,\n"
	    "  \"events\": %llu,\n  \"outside_window\": %llu,\n"
	    "  \"bookkeeping\": %llu,\n  \"not_listed\": %llu,\n"
	    "  \"abuse_list_elsewhere\": %llu,\n  \"lost_events\": %llu,\n"
	    "  \"cut_short\": %llu,\n  \"advice\": [",
	    r->c.files, r->c.compressed, (unsigned long long)r->c.lines,
	    (unsigned long long)r->c.unreadable,
	    (unsigned long long)r->c.events, (unsigned long long)r->c.outside,
	    (unsigned long long)r->c.bookkeeping,
	    (unsigned long long)r->c.not_stored,
	    (unsigned long long)r->abuse_elsewhere,
	    (unsigned long long)r->lost, (unsigned long long)r->cut_short);
	for (k = 0; k < ADV_N; k++) {
		if (!v->show[k])
			continue;
		fprintf(f, "%s\"%s\"", first ? "" : ", ", advice[k].id);
		first = false;
	}
	fprintf(f, "],\n  \"abuse_list\": {\"count\": %llu, \"records\": [",
	    (unsigned long long)(r->nabuse + r->abuse_more));
	for (i = 0; i < r->nabuse; i++) {
		const struct abuse *ab = v->abuse[i];

		fprintf(f, "%s\n    {\"ts\": \"%s\", \"device\": ",
		    i > 0 ? "," : "", utc_time(ab->ts, a, sizeof(a)));
		json_str(f, ab->device);
		fputs(", \"list\": ", f);
		json_str_or_null(f, ab->list);
		fputs(", \"rule\": ", f);
		json_str_or_null(f, ab->rule);
		fprintf(f, ", \"hold\": %s}", ab->hold ? "true" : "false");
	}
	fputs(r->nabuse > 0 ? "\n  ]},\n  \"devices\": [" :
	    "]},\n  \"devices\": [", f);
	for (i = 0; i < r->ndevs; i++) {
		fputs(i > 0 ? ",\n" : "\n", f);
		json_device(r, v->devs[i], f);
	}
	fputs(r->ndevs > 0 ? "\n  ]\n}\n" : "]\n}\n", f);
}

int
report_write(const struct report *r, enum report_format fmt, FILE *f)
{
	struct view *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	view_build(r, v);
	switch (fmt) {
	case REPORT_TEXT:
		write_text(r, v, f);
		break;
	case REPORT_HTML:
		write_html(r, v, f);
		break;
	case REPORT_JSON:
		write_json(r, v, f);
		break;
	}
	free(v);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/* ------------------------------------------------------------ the CLI */

static void
report_usage(FILE *f)
{
	fputs("usage: safegatectl report [-c config] [--since DURATION] "
	    "[--device NAME]\n"
	    "           [--format text|html|json] [--events FILE...] "
	    "[--now EPOCH] [-o FILE]\n"
	    "  --since   Nd or Nw: whole days, today included (default 7d); "
	    "Nh: hours\n"
	    "  --events  these files instead of the config's events file "
	    "and PATH.*\n", f);
}

/*
 * "7d", "2w", "36h": the window's start, for days and weeks local
 * midnight of the first of the last N days (today counts as one).
 */
static int
since_start(const char *s, time_t now, time_t *from)
{
	char *end;
	unsigned long n;
	struct tm tm;

	if (*s < '0' || *s > '9')
		return SG_EMALFORMED;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || end == s || end[0] == '\0' || end[1] != '\0')
		return SG_EMALFORMED;
	if (n == 0 || n > (unsigned long)REPORT_DAYS_MAX * 24)
		return SG_ELIMIT;
	if (*end == 'w')
		n *= 7;
	else if (*end == 'h') {
		if (n > (unsigned long)REPORT_DAYS_MAX * 24)
			return SG_ELIMIT;
		*from = now - (time_t)n * 3600;
		return 0;
	}
	else if (*end != 'd')
		return SG_EMALFORMED;
	if (n > REPORT_DAYS_MAX)
		return SG_ELIMIT;
	if (localtime_r(&now, &tm) == NULL)
		return -EINVAL;
	tm.tm_mday -= (int)n - 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if ((*from = mktime(&tm)) == (time_t)-1 || *from >= now)
		return -EINVAL;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The events file's rotated siblings, PATH.* in its folder, sorted.
 * Returns how many (at most max) were put in out (caller frees each).
 */
static size_t
siblings(const char *path, char **out, size_t max)
{
	char dir[4096];
	const char *base, *slash = strrchr(path, '/');
	struct dirent *de;
	struct stat st;
	size_t n = 0, blen;
	DIR *d;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) +
		    (slash == path), path);
		base = slash + 1;
	}
	blen = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char *p;

		if (strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] != '.' || de->d_name[blen + 1] == '\0')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			break;
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		out[n++] = p;
	}
	closedir(d);
	qsort(out, n, sizeof(out[0]), cmp_str);
	return n;
}

#define FILES_MAX	256

int
report_main_config(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "events", required_argument, NULL, 'e' },
		{ "now", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *since = "7d", *device = NULL, *out = NULL;
	char *files[FILES_MAX], *sib[FILES_MAX], err[CONFIG_ERR_LEN];
	enum report_format fmt = REPORT_TEXT;
	size_t nfiles = 0, nsib = 0, i;
	struct report *r = NULL;
	struct config *cfg = NULL;
	time_t now = time(NULL), from;
	bool explicit = false;
	FILE *f = stdout;
	int ch, rc, status = 0;

	/* The digest shares the router with the filter: it takes the CPU
	 * last (bench/RESULTS.md, the digest and the packet path). */
	(void)setpriority(PRIO_PROCESS, 0, 19);
	optind = 0;	/* glibc: start afresh after safegatectl's getopt */
	while ((ch = getopt_long(argc, argv, "+c:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = REPORT_TEXT;
			else if (strcmp(optarg, "html") == 0)
				fmt = REPORT_HTML;
			else if (strcmp(optarg, "json") == 0)
				fmt = REPORT_JSON;
			else {
				fprintf(stderr, "safegatectl report: --format "
				    "is text, html or json\n");
				return 2;
			}
			break;
		case 'e':
			/* --events FILE... : the words up to the next option. */
			explicit = true;
			if (nfiles == FILES_MAX)
				goto toomany;
			files[nfiles++] = optarg;
			while (optind < argc && argv[optind][0] != '-') {
				if (nfiles == FILES_MAX)
					goto toomany;
				files[nfiles++] = argv[optind++];
			}
			break;
		case 'n':
			if (overrides_parse_epoch(optarg, &now) != 0) {
				fprintf(stderr, "safegatectl report: --now "
				    "takes seconds since 1970\n");
				return 2;
			}
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		report_usage(stderr);
		return 2;
	}
	if ((rc = since_start(since, now, &from)) != 0) {
		fprintf(stderr, "safegatectl report: --since %s: use Nd, Nw or "
		    "Nh, at most %dd\n", since, REPORT_DAYS_MAX);
		return 2;
	}
	if (!explicit) {
		if ((cfg = config_load(config, err, sizeof(err))) == NULL) {
			fprintf(stderr, "safegatectl report: %s\n", err);
			return 1;
		}
		files[nfiles++] = cfg->events_path;
		nsib = siblings(cfg->events_path, sib, FILES_MAX - 1);
		for (i = 0; i < nsib; i++)
			files[nfiles++] = sib[i];
	}
	if ((r = report_new(from, now, device)) == NULL) {
		fprintf(stderr, "safegatectl report: %s\n", strerror(errno));
		status = 1;
		goto done;
	}
	for (i = 0; i < nfiles; i++) {
		if ((rc = report_add_file(r, files[i])) == 0)
			continue;
		/* No events file yet is no events, not an error. */
		if (!explicit && i == 0 && rc == -ENOENT)
			continue;
		fprintf(stderr, "safegatectl report: %s: %s\n", files[i],
		    sg_strerror(rc));
		status = 1;
	}
	if (out != NULL && (f = fopen(out, "we")) == NULL) {
		fprintf(stderr, "safegatectl report: %s: %s\n", out,
		    strerror(errno));
		status = 1;
		goto done;
	}
	if (report_write(r, fmt, f) != 0) {
		fprintf(stderr, "safegatectl report: writing failed\n");
		status = 1;
	}
	if (f != stdout && fclose(f) != 0)
		status = 1;
done:
	report_free(r);
	for (i = 0; i < nsib; i++)
		free(sib[i]);
	config_free(cfg);
	return status;
toomany:
	fprintf(stderr, "safegatectl report: at most %d files\n", FILES_MAX);
	return 2;
}

int
report_main(int argc, char **argv)
{
	return report_main_config(NULL, argc, argv);
}
