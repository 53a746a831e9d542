/*
 * risk.c - the grooming-risk indicators (see risk.h for the contract).
 *
 * Layout:
 *
 *   struct risk
 *   +------------------------------------------------------------+
 *   | rc: a copy of struct config_risk (bedtime pointer cleared) |
 *   | cats: names[id] (copies), ages[id], bypass/confidential/   |
 *   |       valid masks                                          |
 *   | hash[RISK_MAX_DEVICES]   one u32 per slot, scanned first   |
 *   | dev[RISK_MAX_DEVICES] -> struct dev (calloc'd when first   |
 *   |                          used, reused on eviction)         |
 *   +------------------------------------------------------------+
 *
 *   struct dev (about 2 KiB)
 *   +-------------------------------------------------------------+
 *   | key, first (time first seen), seq (order last observed)     |
 *   | fired[indicator]        last fire, per device               |
 *   | seen[cat]               last allowed use (new-platform)     |
 *   | fired_new[cat], fired_age[cat]   last fire, per category    |
 *   | tries[RISK_REPEATED_MAX] ring of attempt times, head, n     |
 *   +-------------------------------------------------------------+
 *
 * A time of 0 means "never": observations before RISK_TIME_MIN are
 * refused, so no real time is 0.  Lookup scans the contiguous hash array
 * (4 KiB at most) and compares keys only on a hash match; a home has tens
 * of devices and the event writer sees a few hundred decisions a second
 * at most, so a scan beats the bookkeeping of a hash table here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cursor.h"
#include "risk.h"

enum ind {
	IND_ABUSE,
	IND_ANON_CHAT,
	IND_LATE_NIGHT,
	IND_BYPASS,
	IND_REPEATED,
	IND_AGE,
	IND_FIRST_SEEN,
	IND_COUNT
};

_Static_assert(IND_COUNT == RISK_NINDICATORS, "RISK_NINDICATORS");
_Static_assert(RISK_MAX_CATEGORIES == SGDB_MAX_CATEGORIES,
    "one id space with the compiled set");

/* ------------------------------------------------------------ the texts */

/*
 * Written for a parent reading an alert late in the evening: what the
 * filter saw, what it may mean, what it cannot tell, and what to do, with
 * the UK's routes (CEOP, the police, the NSPCC, Childline, the IWF and
 * Report Remove, Report Harmful Content, Stop It Now).  The filter sees
 * names of services, never messages, pictures or pages: every text says
 * so in its own way.  docs/indicators.md holds the same texts.
 */
static const struct risk_text texts[IND_COUNT] = {
	[IND_ABUSE] = {
		.id = "abuse-list",
		.title = "A site on a child sexual abuse list",
		.may_mean =
		    "A device on this network asked for a website whose name "
		    "is on a list of sites known to hold child sexual abuse "
		    "material. Someone may have been looking for such "
		    "material, or someone may have sent a child a link to it. "
		    "The filter blocked it and, by design, does not show or "
		    "keep the name. This is the most serious alert the filter "
		    "raises.",
		.may_not_mean =
		    "It does not prove that anyone looked for such material "
		    "or saw any: the connection was blocked, and a pop-up, a "
		    "redirect, a spam message, a malicious link or a mistake "
		    "in a list can cause a hit. It does not tell you who was "
		    "using the device. The filter cannot see whether the same "
		    "thing was reached another way, such as mobile data.",
		.what_to_do =
		    "Do not search for the site or try to find out what it "
		    "was, and do not look through the device: viewing or "
		    "downloading such material is a crime, even to check. Do "
		    "not delete anything, reset the device or clear its "
		    "history. Do not confront anyone or warn anyone in the "
		    "household who may be involved. If a child is in "
		    "immediate danger, call 999. Otherwise report it to the "
		    "police on 101 or to CEOP (ceop.police.uk), giving the "
		    "device, date and time from this alert. In a school or "
		    "organisation, tell your Designated Safeguarding Lead "
		    "(DSL) straight away and follow your child protection "
		    "policy. For confidential advice: the NSPCC helpline, "
		    "0808 800 5000; if you are worried about an adult's "
		    "behaviour, Stop It Now, 0808 1000 900.",
	},
	[IND_ANON_CHAT] = {
		.id = "anon-chat",
		.title = "Chat with strangers",
		.may_mean =
		    "A device tried to reach a site or app that puts people "
		    "in touch at random, often on camera. On such services "
		    "children meet adults they do not know, and sexual "
		    "content, and requests for it, are common.",
		.may_not_mean =
		    "It does not mean your child talked to anyone or saw "
		    "anything: if the site was blocked, it did not load on "
		    "this network. A link in a video, a game, a message or "
		    "an advert can open such a site once without anyone "
		    "choosing to. The filter sees only the name of the "
		    "service, never what was said or shown.",
		.what_to_do =
		    "Ask your child, calmly, whether they have used sites "
		    "like this and what happened there, and make clear they "
		    "will not be in trouble for telling you. If the site was "
		    "allowed, consider blocking the anon-chat category. If "
		    "anyone has asked your child for pictures, to go on "
		    "camera, to keep a secret or to meet, report it to CEOP "
		    "(ceop.police.uk); if a child is in immediate danger, "
		    "call 999. For advice: the NSPCC helpline, "
		    "0808 800 5000. Your child can talk to Childline on "
		    "0800 1111.",
	},
	[IND_LATE_NIGHT] = {
		.id = "late-night-contact",
		.title = "Messaging or social apps at bedtime",
		.may_mean =
		    "A messaging, social or game-chat service was used from "
		    "this device during its bedtime hours. Late at night is "
		    "when someone who wants to keep contact with a child "
		    "secret is most likely to message, and when a child is "
		    "least likely to ask an adult for help.",
		.may_not_mean =
		    "Apps connect by themselves to fetch messages and "
		    "notifications, even on a phone lying unused by the bed, "
		    "so this does not prove your child was awake or chatting. "
		    "It does not say who they talked to or what was said: the "
		    "filter sees only which service was reached. It may be an "
		    "ordinary message from a friend.",
		.what_to_do =
		    "Talk to your child about how they use their devices at "
		    "night, without accusing them. Many families keep devices "
		    "out of bedrooms overnight; the bedtime schedule can also "
		    "block these apps. If your child tells you someone is "
		    "pressuring them, asking for pictures or asking them to "
		    "keep secrets, report it to CEOP (ceop.police.uk). NSPCC "
		    "helpline: 0808 800 5000. Childline: 0800 1111.",
	},
	[IND_BYPASS] = {
		.id = "bypass-attempt",
		.title = "A way around the filter",
		.may_mean =
		    "Something on this device tried a way around the filter: "
		    "encrypted DNS (DNS over HTTPS or over TLS), a VPN, a web "
		    "proxy or Tor, or a DNS server other than this router's. "
		    "Where that works, the filter cannot see or block what "
		    "the device does. Children sometimes look for these after "
		    "a block, and someone grooming a child may tell them how, "
		    "to hide the contact.",
		.may_not_mean =
		    "Many devices do some of this by themselves: Firefox and "
		    "Apple devices ask a test name to learn whether to use "
		    "encrypted DNS or iCloud Private Relay, Android phones try "
		    "encrypted DNS on their own, some smart TVs and consoles "
		    "use their own DNS server, and work laptops use VPNs. One "
		    "alert from a device that has just joined the network is "
		    "often only that. It does not say what, if anything, was "
		    "reached.",
		.what_to_do =
		    "Find out which device it was and whether it has "
		    "encrypted DNS, Private Relay or a VPN app turned on. If "
		    "it is your child's, ask them about it calmly: a child "
		    "who wants to get around the filter usually wants "
		    "something in particular, and knowing what helps more "
		    "than a stronger block. Check that the profile's bypass "
		    "settings block DoH, DoT and VPNs, and use the device's "
		    "own controls (Screen Time, Family Link) to stop VPN apps "
		    "being installed.",
	},
	[IND_REPEATED] = {
		.id = "repeated-adult",
		.title = "Repeated tries at blocked adult sites",
		.may_mean =
		    "This device was refused several times within a few "
		    "minutes by a blocked category such as pornography. "
		    "Repeated tries, rather than one, suggest someone was "
		    "looking on purpose. Pornography can upset children, and "
		    "someone grooming a child may send it to make sexual talk "
		    "seem normal.",
		.may_not_mean =
		    "It does not prove anyone saw anything: each try was "
		    "blocked. Web pages, adverts, pop-ups and search results "
		    "can ask for blocked names by themselves, and an app "
		    "retrying in the background can look like many tries. "
		    "Curiosity about sex is a normal part of growing up. The "
		    "filter does not know who was holding the device.",
		.what_to_do =
		    "Talk to your child calmly and without shaming them, and "
		    "let them know they can come to you about anything they "
		    "have seen. Childline (0800 1111, childline.org.uk) has "
		    "advice for young people about pornography. If your child "
		    "has been sent sexual images or asked for them, report it "
		    "to CEOP (ceop.police.uk). If a nude image of your child "
		    "has been shared, under-18s can use Report Remove from "
		    "Childline and the IWF to get it taken down. For harmful "
		    "content that is not illegal, Report Harmful Content "
		    "(reportharmfulcontent.com) can help. NSPCC helpline: "
		    "0808 800 5000.",
	},
	[IND_AGE] = {
		.id = "under-age-platform",
		.title = "An app for older children",
		.may_mean =
		    "This device used a service whose own terms set a "
		    "minimum age above the age in the device's profile (most "
		    "social media is 13 and over; Telegram says 18). Below "
		    "that age, the service's protections for young users may "
		    "not apply, and contact from adults is easier.",
		.may_not_mean =
		    "It does not mean your child has an account: a web page "
		    "can show a video or a post from such a service, and some "
		    "(YouTube) can be watched without one. It does not tell "
		    "you whether the account was set up with a parent's "
		    "supervision. The age comes from the profile (the "
		    "youngest user of the device) and from the service's "
		    "published terms, which change.",
		.what_to_do =
		    "Ask your child whether they have an account. If you are "
		    "happy for them to use it, set it up together with the "
		    "service's family or supervised settings; if not, block "
		    "the service in their profile. The device's own controls "
		    "(app store age limits, Screen Time, Family Link) help "
		    "too. If anything on it worries your child, Childline is "
		    "on 0800 1111.",
	},
	[IND_FIRST_SEEN] = {
		.id = "new-platform",
		.title = "A new messaging or social app",
		.may_mean =
		    "This device used a messaging, social or game-chat "
		    "service it had not used for a while (30 days unless set "
		    "otherwise). New apps are a normal part of growing up; "
		    "moving a child to a new, more private app (\"add me "
		    "on...\") is also a common step in grooming.",
		.may_not_mean =
		    "It is not evidence of anything wrong. It can be a new "
		    "game with chat, an app a school or club asked for, an "
		    "update, or a web page showing something from that "
		    "service. The filter sees only the name of the service, "
		    "not the account, the contacts or the messages.",
		.what_to_do =
		    "Ask your child what the app is and who they talk to "
		    "there; look at it together and set its privacy and "
		    "contact settings. If you do not want them to use it, "
		    "block it in their profile. If someone your child met "
		    "online asked them to move to a private app, that is a "
		    "warning sign: report it to CEOP (ceop.police.uk). NSPCC "
		    "helpline: 0808 800 5000.",
	},
};

static const enum risk_severity severities[IND_COUNT] = {
	[IND_ABUSE] = RISK_CRITICAL,
	[IND_ANON_CHAT] = RISK_WARNING,
	[IND_LATE_NIGHT] = RISK_WARNING,
	[IND_BYPASS] = RISK_WARNING,
	[IND_REPEATED] = RISK_WARNING,
	[IND_AGE] = RISK_NOTICE,
	[IND_FIRST_SEEN] = RISK_NOTICE,
};

const char *const risk_ids[] = {
	"abuse-list",
	"anon-chat",
	"late-night-contact",
	"bypass-attempt",
	"repeated-adult",
	"under-age-platform",
	"new-platform",
	NULL
};

const struct risk_text *
risk_text(const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < IND_COUNT; i++)
		if (strcmp(texts[i].id, id) == 0)
			return &texts[i];
	return NULL;
}

const char *
risk_severity_name(enum risk_severity s)
{
	switch (s) {
	case RISK_NOTICE:
		return "notice";
	case RISK_WARNING:
		return "warning";
	case RISK_CRITICAL:
		return "critical";
	}
	return "?";
}

/* ------------------------------------------------------ services' ages */

/*
 * blocklists/services/README.md, "Services and ages": the age the terms
 * set for the UK, 0 where they set none (a PEGI rating is not a minimum
 * age).  YouTube's 13 is for an account; watching without one is allowed,
 * which under-age-platform's text says.  test_risk.c checks that every
 * entry of config_services has a line here.
 */
static const struct {
	const char	*name;
	int		 age;
} service_ages[] = {
	{ "discord", 13 },
	{ "fortnite", 0 },	/* PEGI 12; consent under 13 */
	{ "instagram", 13 },
	{ "minecraft", 0 },	/* PEGI 7; consent under 13 */
	{ "roblox", 0 },	/* permission under 13; voice 13+ */
	{ "snapchat", 13 },
	{ "telegram", 18 },
	{ "tiktok", 13 },
	{ "twitch", 13 },
	{ "whatsapp", 13 },	/* UK/EU since 2024 */
	{ "youtube", 13 },	/* an account; Kids / supervised below */
};

int
risk_service_age(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(service_ages) / sizeof(service_ages[0]); i++)
		if (strcmp(service_ages[i].name, name) == 0)
			return service_ages[i].age;
	return -1;
}

/* The categories bypass-attempt watches, by name (config.h, bypass). */
static const char *const bypass_names[] = { "doh", "bypass", "vpn-proxy" };

/* ------------------------------------------------------------ the engine */

struct cats {
	char		*name[RISK_MAX_CATEGORIES];
	size_t		 n;
	int		 age[RISK_MAX_CATEGORIES];	/* -1: not a service */
	uint64_t	 valid;		/* ids 0..n-1 */
	uint64_t	 bypass;
	uint64_t	 confidential;
};

struct dev {
	char		 key[RISK_KEY_MAX + 1];
	time_t		 first;		/* first observation */
	uint64_t	 seq;		/* order of the last observation */
	time_t		 fired[IND_COUNT];
	time_t		 seen[RISK_MAX_CATEGORIES];
	time_t		 fired_new[RISK_MAX_CATEGORIES];
	time_t		 fired_age[RISK_MAX_CATEGORIES];
	time_t		 tries[RISK_REPEATED_MAX];	/* ring */
	unsigned	 ntries;	/* how many are set */
	unsigned	 head;		/* the next to write */
};

struct risk {
	struct config_risk rc;
	const struct config_risk_rule *rule[IND_COUNT];	/* into rc */
	struct cats	 cats;
	size_t		 ndev;
	uint64_t	 seq;
	struct risk_stats st;
	uint32_t	 hash[RISK_MAX_DEVICES];
	struct dev	*dev[RISK_MAX_DEVICES];
};

static void
cats_clear(struct cats *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->name[i]);
	memset(c, 0, sizeof(*c));
}

static int
cats_build(struct cats *c, char *const *names, size_t n,
    uint64_t confidential)
{
	size_t i, j;

	memset(c, 0, sizeof(*c));
	if (n > RISK_MAX_CATEGORIES || (n > 0 && names == NULL))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (names[i] == NULL)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		if ((c->name[i] = strdup(names[i])) == NULL) {
			c->n = i;
			cats_clear(c);
			return -ENOMEM;
		}
		c->age[i] = risk_service_age(names[i]);
		for (j = 0; j < sizeof(bypass_names) / sizeof(bypass_names[0]);
		    j++)
			if (strcmp(names[i], bypass_names[j]) == 0)
				c->bypass |= UINT64_C(1) << i;
	}
	c->n = n;
	c->valid = n == RISK_MAX_CATEGORIES ? UINT64_MAX :
	    (UINT64_C(1) << n) - 1;
	c->confidential = confidential & c->valid;
	return 0;
}

static bool
rc_valid(const struct config_risk *rc)
{
	if (rc == NULL)
		return false;
	if (rc->repeated.enabled && (rc->repeated_count == 0 ||
	    rc->repeated_count > RISK_REPEATED_MAX ||
	    rc->repeated_minutes == 0))
		return false;
	if (rc->first_seen.enabled && rc->first_seen_days == 0)
		return false;
	return true;
}

static void
rc_set(struct risk *r, const struct config_risk *rc)
{
	r->rc = *rc;
	r->rc.bedtime = NULL;	/* the config's; not ours to keep */
	r->rule[IND_ABUSE] = &r->rc.abuse;
	r->rule[IND_ANON_CHAT] = &r->rc.anon_chat;
	r->rule[IND_LATE_NIGHT] = &r->rc.late_night;
	r->rule[IND_BYPASS] = &r->rc.bypass;
	r->rule[IND_REPEATED] = &r->rc.repeated;
	r->rule[IND_AGE] = &r->rc.age;
	r->rule[IND_FIRST_SEEN] = &r->rc.first_seen;
}

struct risk *
risk_new(const struct config_risk *rc, char *const *names, size_t n,
    uint64_t confidential)
{
	struct risk *r;
	int e;

	if (!rc_valid(rc)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((e = cats_build(&r->cats, names, n, confidential)) < 0) {
		free(r);
		errno = -e;
		return NULL;
	}
	rc_set(r, rc);
	return r;
}

void
risk_free(struct risk *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ndev; i++)
		free(r->dev[i]);
	cats_clear(&r->cats);
	free(r);
}

/* Moves a per-category array to the new ids: map[old] is the new id or
   -1; a new id no old one maps to starts at 0 ("never"). */
static void
remap(time_t *a, const int *map, size_t nold)
{
	time_t tmp[RISK_MAX_CATEGORIES];
	size_t i;

	memset(tmp, 0, sizeof(tmp));
	for (i = 0; i < nold; i++)
		if (map[i] >= 0)
			tmp[map[i]] = a[i];
	memcpy(a, tmp, sizeof(tmp));
}

int
risk_reconfigure(struct risk *r, const struct config_risk *rc,
    char *const *names, size_t n, uint64_t confidential)
{
	struct cats nc;
	int map[RISK_MAX_CATEGORIES];
	size_t i, j;
	int e;

	if (r == NULL || !rc_valid(rc))
		return -EINVAL;
	if ((e = cats_build(&nc, names, n, confidential)) < 0)
		return e;
	/* Nothing can fail from here on. */
	for (i = 0; i < r->cats.n; i++) {
		map[i] = -1;
		for (j = 0; j < nc.n; j++)
			if (strcmp(r->cats.name[i], nc.name[j]) == 0) {
				map[i] = (int)j;
				break;
			}
	}
	for (i = 0; i < r->ndev; i++) {
		remap(r->dev[i]->seen, map, r->cats.n);
		remap(r->dev[i]->fired_new, map, r->cats.n);
		remap(r->dev[i]->fired_age, map, r->cats.n);
	}
	cats_clear(&r->cats);
	r->cats = nc;
	rc_set(r, rc);
	return 0;
}

void
risk_stats(const struct risk *r, struct risk_stats *st)
{
	*st = r->st;
	st->devices = r->ndev;
}

/* FNV-1a: a filter before the key compare, nothing more. */
static uint32_t
key_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * The device's state, made (or taken from the least recently observed
 * device) when new.  NULL only when a first allocation fails with no
 * device to take over.
 */
static struct dev *
dev_get(struct risk *r, const char *key, size_t len, time_t now)
{
	uint32_t h = key_hash(key, len);
	struct dev *d;
	size_t i, slot = 0;

	for (i = 0; i < r->ndev; i++)
		if (r->hash[i] == h && strcmp(r->dev[i]->key, key) == 0) {
			r->dev[i]->seq = ++r->seq;
			return r->dev[i];
		}
	d = NULL;
	if (r->ndev < RISK_MAX_DEVICES &&
	    (d = calloc(1, sizeof(*d))) != NULL)
		slot = r->ndev++;
	if (d == NULL) {
		if (r->ndev == 0)
			return NULL;
		/* Evict: the smallest seq is the least recently observed;
		   seqs are unique, so the choice is deterministic. */
		slot = 0;
		for (i = 1; i < r->ndev; i++)
			if (r->dev[i]->seq < r->dev[slot]->seq)
				slot = i;
		d = r->dev[slot];
		memset(d, 0, sizeof(*d));
		r->st.evicted++;
	}
	memcpy(d->key, key, len);
	d->key[len] = '\0';
	d->first = now;
	d->seq = ++r->seq;
	r->hash[slot] = h;
	r->dev[slot] = d;
	return d;
}

/*
 * Whether a rule whose last fire was *last may fire again at now.  A
 * clock stepped back moves *last back to now, so the wait is never longer
 * than the window from the step.
 */
static bool
due(time_t *last, time_t now, unsigned window)
{
	if (*last == 0 || window == 0)
		return true;
	if (now < *last) {
		*last = now;
		return false;
	}
	return now - *last >= (time_t)window;
}

static int
lowest(uint64_t mask)
{
	return mask == 0 ? -1 : __builtin_ctzll(mask);
}

struct sink {
	struct risk_fire *v;
	size_t		 n;
	size_t		 max;
};

static void
emit(struct risk *r, struct sink *o, enum ind i, int cat, unsigned count)
{
	struct risk_fire *f;

	r->st.fired++;
	if (o->n >= o->max) {
		r->st.dropped++;
		return;
	}
	f = &o->v[o->n++];
	f->indicator = texts[i].id;
	f->severity = severities[i];
	f->severity_name = risk_severity_name(severities[i]);
	f->category = cat >= 0 ? r->cats.name[cat] : NULL;
	f->count = count;
	f->text = &texts[i];
}

/* A per-device indicator: fires if enabled and due. */
static void
fire(struct risk *r, struct dev *d, struct sink *o, enum ind i, time_t now,
    int cat, unsigned count)
{
	const struct config_risk_rule *rule = r->rule[i];

	if (!rule->enabled || !due(&d->fired[i], now, rule->window))
		return;
	d->fired[i] = now;
	emit(r, o, i, cat, count);
}

/*
 * A per-category indicator over the categories in q: those that are due
 * fire as one (the lowest id named), and all of them start their window.
 */
static void
fire_cats(struct risk *r, struct sink *o, enum ind i, time_t *last,
    uint64_t q, time_t now)
{
	const struct config_risk_rule *rule = r->rule[i];
	uint64_t due_mask = 0;
	int c;

	if (!rule->enabled)
		return;
	while (q != 0) {
		c = lowest(q);
		q &= q - 1;
		if (due(&last[c], now, rule->window))
			due_mask |= UINT64_C(1) << c;
	}
	if (due_mask == 0)
		return;
	for (q = due_mask; q != 0; q &= q - 1)
		last[lowest(q)] = now;
	emit(r, o, i, lowest(due_mask), 1);
}

/* Records a blocked attempt; returns how many fall in the last minutes. */
static unsigned
attempts(struct dev *d, time_t now, unsigned minutes)
{
	time_t prev, span = (time_t)minutes * 60;
	unsigned i, n = 0;

	prev = d->ntries == 0 ? 0 :
	    d->tries[(d->head + RISK_REPEATED_MAX - 1) % RISK_REPEATED_MAX];
	if (prev == 0 || now < prev || now - prev >= RISK_ATTEMPT_GAP) {
		d->tries[d->head] = now;
		d->head = (d->head + 1) % RISK_REPEATED_MAX;
		if (d->ntries < RISK_REPEATED_MAX)
			d->ntries++;
	}
	for (i = 0; i < d->ntries; i++)
		if (now - d->tries[i] < span)
			n++;
	return n;
}

size_t
risk_observe(struct risk *r, const struct risk_obs *obs,
    struct risk_fire *out, size_t max)
{
	const struct config_risk *rc = &r->rc;
	struct sink o = { .v = out, .n = 0, .max = out == NULL ? 0 : max };
	uint64_t matched, msg, q, m;
	struct dev *d;
	time_t now;
	size_t len;
	bool allowed, learning;
	unsigned n;
	int c;

	if (obs == NULL || obs->device == NULL || obs->time < RISK_TIME_MIN ||
	    (len = strnlen(obs->device, RISK_KEY_MAX + 1)) == 0 ||
	    len > RISK_KEY_MAX) {
		r->st.ignored++;
		return 0;
	}
	now = obs->time;
	if ((d = dev_get(r, obs->device, len, now)) == NULL) {
		r->st.ignored++;
		return 0;
	}
	r->st.observed++;
	matched = obs->matched & r->cats.valid;
	allowed = obs->action == ACTION_ALLOW;
	msg = allowed ? matched & rc->messaging_mask : 0;

	if (obs->confidential)
		fire(r, d, &o, IND_ABUSE, now,
		    lowest(matched & r->cats.confidential), 1);

	if ((c = lowest(matched & rc->anon_chat_mask)) >= 0)
		fire(r, d, &o, IND_ANON_CHAT, now, c, 1);

	if (msg != 0 && obs->bedtime)
		fire(r, d, &o, IND_LATE_NIGHT, now, lowest(msg), 1);

	if ((matched & r->cats.bypass) != 0 || obs->kind == RISK_DOT ||
	    obs->kind == RISK_OUTSIDE_DNS || obs->reason == REASON_DOT ||
	    obs->reason == REASON_OUTSIDE_DNS)
		fire(r, d, &o, IND_BYPASS, now,
		    lowest(matched & r->cats.bypass), 1);

	if (obs->action == ACTION_BLOCK &&
	    (matched & rc->repeated_mask) != 0) {
		n = attempts(d, now, rc->repeated_minutes);
		if (rc->repeated_count > 0 && n >= rc->repeated_count)
			fire(r, d, &o, IND_REPEATED, now,
			    lowest(matched & rc->repeated_mask), n);
	}

	if (msg != 0 && obs->profile_age > 0) {
		q = 0;
		for (m = msg; m != 0; m &= m - 1) {
			c = lowest(m);
			if (r->cats.age[c] > (int)obs->profile_age)
				q |= UINT64_C(1) << c;
		}
		if (q != 0)
			fire_cats(r, &o, IND_AGE, d->fired_age, q, now);
	}

	/* new-platform: which categories are new, then the use is noted
	   (during learning, and with the rule off, too). */
	if (msg != 0) {
		learning = now < d->first || now - d->first <
		    (time_t)rc->first_seen_days * 86400;
		q = 0;
		for (m = msg; m != 0; m &= m - 1) {
			c = lowest(m);
			if (d->seen[c] == 0 || (now > d->seen[c] &&
			    now - d->seen[c] >=
			    (time_t)rc->first_seen_days * 86400))
				q |= UINT64_C(1) << c;
			d->seen[c] = now;
		}
		if (q != 0 && !learning)
			fire_cats(r, &o, IND_FIRST_SEEN, d->fired_new, q,
			    now);
	}
	return o.n;
}

/* ------------------------------------------------------- the state file */

/*
 * Format in risk.h.  Writing walks the devices in the order they were
 * last observed, so that loading (seq 1, 2, ... in file order) keeps the
 * order eviction goes by.  Reading builds every device apart, in a
 * struct load, and swaps them in only once the end line has checked out:
 * a bad file changes nothing.
 */
#define STATE_MAGIC	"safegate-risk-state"
#define STATE_VERSION	1
#define TIME_DIGITS	19	/* INT64_MAX has 19 */

/* The longest text one device can take: its lines with every field at its
   longest (a key all escaped, 20 bytes per time, 18 the longest
   indicator id, "late-night-contact"). */
#define DEV_TEXT_MAX	(sizeof("device ") + 3 * RISK_KEY_MAX + 1 + 20 + \
	    IND_COUNT * (sizeof("fired ") + 18 + 1 + 20) + \
	    RISK_MAX_CATEGORIES * (sizeof("cat ") + CONFIG_NAME_MAX + \
	    3 * (1 + 20)) + \
	    sizeof("tries") + RISK_REPEATED_MAX * (1 + 20))
_Static_assert(1024 + RISK_MAX_DEVICES * DEV_TEXT_MAX <= RISK_STATE_FILE_MAX,
    "RISK_STATE_FILE_MAX holds the largest state");

static const char state_comment[] =
    "# safegate grooming-risk indicators' learning, written by safegated\n"
    "# (risk.h): device keys, category names and times, no names asked\n";

/* Bytes of a key written as they are: names, MACs and addresses. */
static bool
key_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	    ch == ':' || ch == '-';
}

static void
put_key(FILE *f, const char *key)
{
	const unsigned char *p;

	for (p = (const unsigned char *)key; *p != '\0'; p++)
		if (key_plain(*p))
			putc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
}

static void
put_time(FILE *f, time_t t)
{
	if (t == 0)
		fputs(" -", f);
	else
		fprintf(f, " %lld", (long long)t);
}

/* Whether category c is written: a config name, not an earlier one's. */
static bool
cat_saved(const struct cats *cats, size_t c)
{
	size_t i;

	if (strlen(cats->name[c]) > CONFIG_NAME_MAX ||
	    !config_valid_name(cats->name[c]))
		return false;
	for (i = 0; i < c; i++)
		if (strcmp(cats->name[i], cats->name[c]) == 0)
			return false;
	return true;
}

static int
by_seq(const void *a, const void *b)
{
	const struct dev *x = *(const struct dev *const *)a;
	const struct dev *y = *(const struct dev *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
put_dev(FILE *f, const struct risk *r, const struct dev *d,
    uint64_t saved)
{
	unsigned i, start;
	size_t c;

	fputs("device ", f);
	put_key(f, d->key);
	fprintf(f, " %lld\n", (long long)d->first);
	for (i = 0; i < IND_COUNT; i++)
		if (d->fired[i] != 0)
			fprintf(f, "fired %s %lld\n", texts[i].id,
			    (long long)d->fired[i]);
	for (c = 0; c < r->cats.n; c++) {
		if (!(saved & UINT64_C(1) << c) || (d->seen[c] == 0 &&
		    d->fired_new[c] == 0 && d->fired_age[c] == 0))
			continue;
		fprintf(f, "cat %s", r->cats.name[c]);
		put_time(f, d->seen[c]);
		put_time(f, d->fired_new[c]);
		put_time(f, d->fired_age[c]);
		putc('\n', f);
	}
	if (d->ntries == 0)
		return;
	/* The ring from its oldest: loading writes them in this order, so
	   the newest is again the one before head. */
	start = (d->head + RISK_REPEATED_MAX - d->ntries) % RISK_REPEATED_MAX;
	fputs("tries", f);
	for (i = 0; i < d->ntries; i++)
		fprintf(f, " %lld",
		    (long long)d->tries[(start + i) % RISK_REPEATED_MAX]);
	putc('\n', f);
}

int
risk_format(const struct risk *r, char **text, size_t *len)
{
	const struct dev **v = NULL;
	uint64_t saved = 0;
	size_t i, n = 0;
	char *buf = NULL;
	FILE *f;
	int rc;

	*text = NULL;
	*len = 0;
	if (r->ndev > 0 && (v = malloc(r->ndev * sizeof(*v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < r->ndev; i++)
		v[i] = r->dev[i];
	if (r->ndev > 0)
		qsort(v, r->ndev, sizeof(*v), by_seq);
	for (i = 0; i < r->cats.n; i++)
		if (cat_saved(&r->cats, i))
			saved |= UINT64_C(1) << i;
	if ((f = open_memstream(&buf, &n)) == NULL) {
		free(v);
		return -ENOMEM;
	}
	fprintf(f, "%s %d\n%s", STATE_MAGIC, STATE_VERSION, state_comment);
	for (i = 0; i < r->ndev; i++)
		put_dev(f, r, v[i], saved);
	fprintf(f, "end %zu\n", r->ndev);
	rc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0)
		rc = -ENOMEM;
	free(v);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

int
risk_save(const struct risk *r, const char *path)
{
	char *text;
	size_t len;
	int rc;

	if ((rc = risk_format(r, &text, &len)) < 0)
		return rc;
	rc = atomicfile_write(path, text, len, 0600);
	free(text);
	return rc;
}

/* What is being read: the devices so far, apart from the engine's. */
struct load {
	const struct risk *r;
	int64_t		 hi;		/* the latest time allowed */
	struct dev	*dev[RISK_MAX_DEVICES];
	uint32_t	 hash[RISK_MAX_DEVICES];
	size_t		 ndev;
	/* The lines of the last device so far: */
	uint64_t	 cats;		/* cat, known categories */
	unsigned	 ncats;		/* cat, known or not */
	unsigned	 fired;		/* fired, by indicator bit */
	bool		 tries;
	bool		 ended;
	const char	*why;		/* static: the first error */
};

static int
bad(struct load *l, int err, const char *why)
{
	l->why = why;
	return err;
}

/* The next blank-separated field of a line, or a zero length at its end. */
static const char *
field(struct cursor *c, size_t *len)
{
	const char *start;
	uint8_t ch;

	while (cursor_left(c) > 0 && ((ch = cursor_peek_u8(c)) == ' ' ||
	    ch == '\t'))
		cursor_skip(c, 1);
	start = (const char *)cursor_here(c);
	*len = 0;
	while (cursor_left(c) > 0 && (ch = cursor_peek_u8(c)) != ' ' &&
	    ch != '\t') {
		cursor_skip(c, 1);
		(*len)++;
	}
	return start;
}

static bool
field_is(const char *p, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(p, word, len) == 0;
}

/* A field as a NUL-terminated word of at most max bytes, or false. */
static bool
word(const char *p, size_t len, char *out, size_t max)
{
	if (len == 0 || len > max || memchr(p, '\0', len) != NULL)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* A time field: decimal, in [RISK_TIME_MIN, l->hi]; "-" (0, never) only
   when dash. */
static int
parse_time(struct load *l, const char *p, size_t len, bool dash,
    time_t *out)
{
	struct cursor c;
	int64_t v = 0;
	uint8_t ch;

	if (len == 0)
		return bad(l, SG_EMALFORMED, "missing time");
	if (dash && len == 1 && p[0] == '-') {
		*out = 0;
		return 0;
	}
	if (len > TIME_DIGITS)
		return bad(l, SG_EMALFORMED, "bad time (want seconds since "
		    "the epoch)");
	cursor_init(&c, p, len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch < '0' || ch > '9')
			return bad(l, SG_EMALFORMED, "bad time (want seconds "
			    "since the epoch)");
		if (v > (INT64_MAX - (ch - '0')) / 10)
			return bad(l, -ERANGE, "time out of range");
		v = v * 10 + (ch - '0');
	}
	if ((int64_t)(time_t)v != v)
		return bad(l, -ERANGE, "time out of range");
	if (v < RISK_TIME_MIN)
		return bad(l, -ERANGE, "time before 2024-01-01 "
		    "(RISK_TIME_MIN)");
	if (v > l->hi)
		return bad(l, -ERANGE, "time in the future (more than a day "
		    "past the clock)");
	*out = (time_t)v;
	return 0;
}

/* KEY: 1..RISK_KEY_MAX bytes once %XX is decoded; no NUL. */
static bool
parse_key(const char *p, size_t len, char *out, size_t *olen)
{
	struct cursor c;
	size_t n = 0;
	uint8_t ch;
	int hi, lo;

	cursor_init(&c, p, len);
	while (cursor_left(&c) > 0) {
		ch = cursor_u8(&c);
		if (ch == '%') {
			hi = cursor_hex_value(cursor_u8(&c));
			lo = cursor_hex_value(cursor_u8(&c));
			if (c.err || hi < 0 || lo < 0)
				return false;
			ch = (uint8_t)(hi << 4 | lo);
			if (ch == '\0')
				return false;
		} else if (!key_plain(ch))
			return false;
		if (n >= RISK_KEY_MAX)
			return false;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	*olen = n;
	return n > 0;
}

static int
line_device(struct load *l, struct cursor *c)
{
	char key[RISK_KEY_MAX + 1];
	const char *p;
	struct dev *d;
	size_t len, klen, i;
	uint32_t h;
	time_t first;
	int rc;

	p = field(c, &len);
	if (len == 0)
		return bad(l, SG_EMALFORMED, "missing device key");
	if (!parse_key(p, len, key, &klen))
		return bad(l, SG_EMALFORMED, "bad device key (1 to 63 bytes, "
		    "[A-Za-z0-9._:-] or %XX)");
	p = field(c, &len);
	if ((rc = parse_time(l, p, len, false, &first)) < 0)
		return rc;
	h = key_hash(key, klen);
	for (i = 0; i < l->ndev; i++)
		if (l->hash[i] == h && strcmp(l->dev[i]->key, key) == 0)
			return bad(l, SG_EMALFORMED, "duplicate device");
	if (l->ndev >= RISK_MAX_DEVICES)
		return bad(l, SG_ELIMIT, "too many devices (more than "
		    "RISK_MAX_DEVICES)");
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return bad(l, -ENOMEM, "out of memory");
	memcpy(d->key, key, klen + 1);
	d->first = first;
	d->seq = l->ndev + 1;
	l->hash[l->ndev] = h;
	l->dev[l->ndev++] = d;
	l->cats = 0;
	l->ncats = 0;
	l->fired = 0;
	l->tries = false;
	return 0;
}

static int
line_fired(struct load *l, struct dev *d, struct cursor *c)
{
	char id[CONFIG_NAME_MAX + 1];
	const char *p;
	size_t len;
	time_t t;
	int rc, i;

	p = field(c, &len);
	if (!word(p, len, id, CONFIG_NAME_MAX) || !config_valid_name(id))
		return bad(l, SG_EMALFORMED, "bad indicator");
	p = field(c, &len);
	if ((rc = parse_time(l, p, len, false, &t)) < 0)
		return rc;
	for (i = 0; i < IND_COUNT; i++)
		if (strcmp(texts[i].id, id) == 0)
			break;
	if (i == IND_COUNT)
		return 0;	/* an indicator this build has not */
	if (l->fired & 1u << i)
		return bad(l, SG_EMALFORMED, "duplicate indicator");
	l->fired |= 1u << i;
	d->fired[i] = t;
	return 0;
}

static int
line_cat(struct load *l, struct dev *d, struct cursor *c)
{
	char name[CONFIG_NAME_MAX + 1];
	const char *p;
	time_t t[3];
	size_t len, i;
	int rc, id = -1;

	p = field(c, &len);
	if (!word(p, len, name, CONFIG_NAME_MAX) || !config_valid_name(name))
		return bad(l, SG_EMALFORMED, "bad category name");
	for (i = 0; i < 3; i++) {
		p = field(c, &len);
		if ((rc = parse_time(l, p, len, true, &t[i])) < 0)
			return rc;
	}
	if (++l->ncats > RISK_MAX_CATEGORIES)
		return bad(l, SG_ELIMIT, "too many categories in a device");
	for (i = 0; i < l->r->cats.n; i++)
		if (strcmp(l->r->cats.name[i], name) == 0) {
			id = (int)i;
			break;
		}
	if (id < 0)
		return 0;	/* gone from the config: forgotten */
	if (l->cats & UINT64_C(1) << id)
		return bad(l, SG_EMALFORMED, "duplicate category");
	l->cats |= UINT64_C(1) << id;
	d->seen[id] = t[0];
	d->fired_new[id] = t[1];
	d->fired_age[id] = t[2];
	return 0;
}

static int
line_tries(struct load *l, struct dev *d, struct cursor *c)
{
	const char *p;
	size_t len;
	time_t t;
	int rc;

	if (l->tries)
		return bad(l, SG_EMALFORMED, "duplicate tries line");
	l->tries = true;
	for (p = field(c, &len); len > 0; p = field(c, &len)) {
		if (d->ntries >= RISK_REPEATED_MAX)
			return bad(l, SG_ELIMIT, "too many tries (more than "
			    "RISK_REPEATED_MAX)");
		if ((rc = parse_time(l, p, len, false, &t)) < 0)
			return rc;
		d->tries[d->ntries++] = t;
	}
	if (d->ntries == 0)
		return bad(l, SG_EMALFORMED, "missing time");
	d->head = d->ntries % RISK_REPEATED_MAX;
	return 0;
}

static int
line_end(struct load *l, struct cursor *c)
{
	char num[8];
	const char *p;
	size_t len, i;
	unsigned long n = 0;

	p = field(c, &len);
	if (!word(p, len, num, sizeof(num) - 1))
		return bad(l, SG_EMALFORMED, "bad device count");
	for (i = 0; i < len; i++) {
		if (num[i] < '0' || num[i] > '9')
			return bad(l, SG_EMALFORMED, "bad device count");
		n = n * 10 + (unsigned long)(num[i] - '0');
	}
	if (n != l->ndev)
		return bad(l, SG_EMALFORMED, "device count does not match the "
		    "device lines");
	l->ended = true;
	return 0;
}

/* One line, not a comment; cursor c over it. */
static int
line(struct load *l, struct cursor *c)
{
	struct dev *d = l->ndev > 0 ? l->dev[l->ndev - 1] : NULL;
	const char *kw;
	size_t len;
	int rc;

	kw = field(c, &len);
	if (l->ended)
		return bad(l, SG_EMALFORMED, "text after the end line");
	if (field_is(kw, len, "device"))
		rc = line_device(l, c);
	else if (!field_is(kw, len, "fired") && !field_is(kw, len, "cat") &&
	    !field_is(kw, len, "tries") && !field_is(kw, len, "end"))
		return bad(l, SG_EMALFORMED, "unknown line (want device, "
		    "fired, cat, tries or end)");
	else if (field_is(kw, len, "end"))
		rc = line_end(l, c);
	else if (d == NULL)
		return bad(l, SG_EMALFORMED, "a device's line before any "
		    "device line");
	else if (field_is(kw, len, "fired"))
		rc = line_fired(l, d, c);
	else if (field_is(kw, len, "cat"))
		rc = line_cat(l, d, c);
	else
		rc = line_tries(l, d, c);
	if (rc < 0)
		return rc;
	(void)field(c, &len);
	if (len != 0)
		return bad(l, SG_EMALFORMED, "trailing text after the line");
	return 0;
}

/* The first line: the magic and a version this build reads. */
static int
header(struct load *l, struct cursor *c)
{
	const char *p;
	size_t len;

	p = field(c, &len);
	if (!field_is(p, len, STATE_MAGIC))
		return bad(l, SG_EMALFORMED, "not a safegate risk state file "
		    "(want \"" STATE_MAGIC " 1\" first)");
	p = field(c, &len);
	if (len == 0)
		return bad(l, SG_EMALFORMED, "missing version");
	if (!field_is(p, len, "1"))
		return bad(l, SG_EUNSUPP, "unsupported version (this build "
		    "reads version 1)");
	(void)field(c, &len);
	if (len != 0)
		return bad(l, SG_EMALFORMED, "trailing text after the line");
	return 0;
}

int
risk_parse(struct risk *r, const void *buf, size_t len, time_t now,
    risk_error_fn *err, void *arg)
{
	struct load *l;
	struct cursor c, lc;
	const char *p, *f;
	size_t n, flen, lineno = 0, i;
	int rc = 0;

	if (len > RISK_STATE_FILE_MAX) {
		if (err != NULL)
			err(arg, 1, "file too large");
		return -EFBIG;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->r = r;
	l->hi = now < RISK_TIME_MIN ? INT64_MAX :
	    (int64_t)now + RISK_STATE_SKEW;
	cursor_init(&c, buf, len);
	while (rc == 0 && (p = cursor_line(&c, &n)) != NULL) {
		lineno++;
		cursor_init(&lc, p, n);
		if (lineno == 1) {
			rc = header(l, &lc);
			continue;
		}
		f = field(&lc, &flen);
		if (flen == 0 || f[0] == '#')
			continue;
		cursor_init(&lc, p, n);
		rc = line(l, &lc);
	}
	if (rc == 0 && !l->ended) {
		rc = bad(l, SG_ETRUNC, lineno == 0 ? "empty file" :
		    "truncated: no end line");
		lineno = lineno == 0 ? 1 : lineno;
	}
	if (rc < 0) {
		if (err != NULL)
			err(arg, lineno, l->why);
		for (i = 0; i < l->ndev; i++)
			free(l->dev[i]);
		free(l);
		return rc;
	}
	/* Nothing can fail from here on. */
	for (i = 0; i < r->ndev; i++)
		free(r->dev[i]);
	memset(r->dev, 0, sizeof(r->dev));
	memcpy(r->dev, l->dev, l->ndev * sizeof(l->dev[0]));
	memcpy(r->hash, l->hash, l->ndev * sizeof(l->hash[0]));
	r->ndev = l->ndev;
	r->seq = l->ndev;
	rc = (int)l->ndev;
	free(l);
	return rc;
}

int
risk_load(struct risk *r, const char *path, time_t now, risk_error_fn *err,
    void *arg)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO put there must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) == -1)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else if (st.st_size > RISK_STATE_FILE_MAX)
		rc = -EFBIG;
	/* One byte more than the size tells a file that grew meanwhile. */
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size)
			break;
	}
	rc = n == -1 ? -errno : 0;
	close(fd);
	if (rc == 0 && len > (size_t)st.st_size)
		rc = -EAGAIN;	/* written under our feet: not ours */
	if (rc == 0)
		rc = risk_parse(r, buf, len, now, err, arg);
	free(buf);
	return rc;
}
