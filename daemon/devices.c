/*
 * devices.c - the device table (see devices.h for the contract and the
 * layout) and dnsmasq's lease file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "devices.h"

/* ------------------------------------------------------ the hash table */

/*
 * Keys are a kind byte and 16 bytes (a MAC uses 6 of them, IPv4 4); the
 * value is an index + 1, 0 marking an empty slot.  The table is sized at
 * build time to a power of two at least twice the number of keys, so a
 * probe sequence always ends at an empty slot.
 */
#define HKEY_LEN	17
#define HK_MAC		1
#define HK_V4		4
#define HK_V6		6

struct hslot {
	uint8_t		key[HKEY_LEN];
	uint32_t	val;
};

struct htab {
	struct hslot	*slot;
	size_t		 mask;
};

static void
hkey_mac(uint8_t key[HKEY_LEN], const uint8_t mac[6])
{
	memset(key, 0, HKEY_LEN);
	key[0] = HK_MAC;
	memcpy(key + 1, mac, 6);
}

/* false for an unset address */
static bool
hkey_addr(uint8_t key[HKEY_LEN], const struct sg_addr *a)
{
	memset(key, 0, HKEY_LEN);
	if (a == NULL)
		return false;
	switch (a->family) {
	case AF_INET:
		key[0] = HK_V4;
		memcpy(key + 1, a->u.b, 4);
		return true;
	case AF_INET6:
		key[0] = HK_V6;
		memcpy(key + 1, a->u.b, 16);
		return true;
	}
	return false;
}

static size_t
hkey_hash(const uint8_t key[HKEY_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, then a final mix */
	int i;

	for (i = 0; i < HKEY_LEN; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h;
}

static int
htab_init(struct htab *t, size_t nkeys)
{
	size_t cap = 8;

	while (cap < nkeys * 2)
		cap <<= 1;
	if ((t->slot = calloc(cap, sizeof(*t->slot))) == NULL)
		return -ENOMEM;
	t->mask = cap - 1;
	return 0;
}

/* The slot holding key, or the empty slot where it would go. */
static struct hslot *
htab_find(const struct htab *t, const uint8_t key[HKEY_LEN])
{
	size_t i;

	if (t->slot == NULL)
		return NULL;
	for (i = hkey_hash(key) & t->mask;; i = (i + 1) & t->mask)
		if (t->slot[i].val == 0 ||
		    memcmp(t->slot[i].key, key, HKEY_LEN) == 0)
			return &t->slot[i];
}

static uint32_t
htab_get(const struct htab *t, const uint8_t key[HKEY_LEN])
{
	const struct hslot *s = htab_find(t, key);

	return s != NULL ? s->val : 0;
}

/* ------------------------------------------------------- device table */

struct devices {
	size_t		 n;
	struct htab	 h;		/* MACs and exact IPs */
	size_t		 ncidr;
	uint16_t	*cidr;		/* spec indexes, longest prefix first */
	struct sg_addr	*net;		/* per spec (CIDRs only) */
	uint8_t		*plen;		/* per spec (CIDRs only) */
	unsigned	*profile;	/* per spec */
	char		(*name)[DEVICES_NAME_MAX + 1];	/* per spec */
};

static bool
prefix_holds(const struct sg_addr *net, unsigned plen,
    const struct sg_addr *a)
{
	size_t whole = plen / 8;
	unsigned rest = plen % 8;
	uint8_t mask;

	if (a->family != net->family)
		return false;
	if (memcmp(net->u.b, a->u.b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((net->u.b[whole] ^ a->u.b[whole]) & mask) == 0;
}

/* Whether a has no bits set past plen. */
static bool
host_bits_clear(const struct sg_addr *a, unsigned plen)
{
	size_t i, len = addr_len(a);

	for (i = 0; i < len; i++) {
		unsigned keep = plen >= (i + 1) * 8 ? 8 :
		    plen > i * 8 ? plen - (unsigned)i * 8 : 0;
		uint8_t mask = (uint8_t)(0xff << (8 - keep));

		if (keep == 0)
			mask = 0;
		if ((a->u.b[i] & (uint8_t)~mask) != 0)
			return false;
	}
	return true;
}

static const char *
spec_check(const struct devices_spec *s)
{
	size_t len;

	if (s->name == NULL || (len = strlen(s->name)) == 0)
		return "no name";
	if (len > DEVICES_NAME_MAX)
		return "name too long";
	switch (s->kind) {
	case DEVICES_MAC:
		return NULL;
	case DEVICES_IP:
	case DEVICES_CIDR:
		if (s->addr.family != AF_INET && s->addr.family != AF_INET6)
			return "no address";
		if (s->kind == DEVICES_IP)
			return NULL;
		if (s->prefix > addr_len(&s->addr) * 8)
			return "prefix length too long";
		if (!host_bits_clear(&s->addr, s->prefix))
			return "address has bits set past the prefix length";
		return NULL;
	}
	return "unknown kind";
}

static struct devices *
devices_fail(struct devices *d, struct devices_error *err, size_t index,
    const char *reason, int errnum)
{
	devices_free(d);
	if (err != NULL) {
		err->reason = reason;
		err->index = index;
	}
	errno = errnum;
	return NULL;
}

struct devices *
devices_new(const struct devices_spec *specs, size_t n,
    struct devices_error *err)
{
	struct devices *d;
	uint8_t key[HKEY_LEN];
	struct hslot *slot;
	const char *why;
	size_t i, j, k, nhash = 0;

	if (n > DEVICES_MAX)
		return devices_fail(NULL, err, DEVICES_MAX,
		    "too many devices", E2BIG);
	for (i = 0; i < n; i++) {
		if ((why = spec_check(&specs[i])) != NULL)
			return devices_fail(NULL, err, i, why, EINVAL);
		if (specs[i].kind != DEVICES_CIDR)
			nhash++;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return devices_fail(NULL, err, 0, "out of memory", ENOMEM);
	d->n = n;
	if (htab_init(&d->h, nhash) != 0 ||
	    (d->cidr = calloc(n + 1, sizeof(*d->cidr))) == NULL ||
	    (d->net = calloc(n + 1, sizeof(*d->net))) == NULL ||
	    (d->plen = calloc(n + 1, sizeof(*d->plen))) == NULL ||
	    (d->profile = calloc(n + 1, sizeof(*d->profile))) == NULL ||
	    (d->name = calloc(n + 1, sizeof(*d->name))) == NULL)
		return devices_fail(d, err, 0, "out of memory", ENOMEM);

	for (i = 0; i < n; i++) {
		const struct devices_spec *s = &specs[i];

		memcpy(d->name[i], s->name, strlen(s->name) + 1);
		d->profile[i] = s->profile;
		if (s->kind == DEVICES_CIDR) {
			for (j = 0; j < d->ncidr; j++) {
				k = d->cidr[j];
				if (d->plen[k] == s->prefix &&
				    addr_equal(&d->net[k], &s->addr))
					return devices_fail(d, err, i,
					    "CIDR listed twice", EINVAL);
			}
			d->net[i] = s->addr;
			d->plen[i] = (uint8_t)s->prefix;
			/* Insertion keeps config order within a length. */
			for (j = d->ncidr; j > 0 &&
			    d->plen[d->cidr[j - 1]] < s->prefix; j--)
				d->cidr[j] = d->cidr[j - 1];
			d->cidr[j] = (uint16_t)i;
			d->ncidr++;
			continue;
		}
		if (s->kind == DEVICES_MAC)
			hkey_mac(key, s->mac);
		else
			(void)hkey_addr(key, &s->addr);
		slot = htab_find(&d->h, key);
		if (slot->val != 0)
			return devices_fail(d, err, i, s->kind == DEVICES_MAC ?
			    "MAC address listed twice" :
			    "address listed twice", EINVAL);
		memcpy(slot->key, key, HKEY_LEN);
		slot->val = (uint32_t)i + 1;
	}
	return d;
}

void
devices_free(struct devices *d)
{
	int save = errno;

	if (d == NULL)
		return;
	free(d->h.slot);
	free(d->cidr);
	free(d->net);
	free(d->plen);
	free(d->profile);
	free(d->name);
	free(d);
	errno = save;
}

size_t
devices_count(const struct devices *d)
{
	return d != NULL ? d->n : 0;
}

static enum devices_by
found(const struct devices *d, size_t i, enum devices_by by,
    struct devices_match *out)
{
	out->by = by;
	out->index = i;
	out->profile = d->profile[i];
	out->name = d->name[i];
	return by;
}

enum devices_by
devices_match(const struct devices *d, const uint8_t *mac,
    const struct sg_addr *src, struct devices_match *out)
{
	uint8_t key[HKEY_LEN];
	uint32_t v;
	size_t j;

	out->by = DEVICES_BY_NONE;
	out->index = 0;
	out->profile = 0;
	out->name = NULL;
	if (d == NULL)
		return DEVICES_BY_NONE;
	if (mac != NULL) {
		hkey_mac(key, mac);
		if ((v = htab_get(&d->h, key)) != 0)
			return found(d, v - 1, DEVICES_BY_MAC, out);
	}
	if (!hkey_addr(key, src))
		return DEVICES_BY_NONE;
	if ((v = htab_get(&d->h, key)) != 0)
		return found(d, v - 1, DEVICES_BY_IP, out);
	for (j = 0; j < d->ncidr; j++)
		if (prefix_holds(&d->net[d->cidr[j]], d->plen[d->cidr[j]], src))
			return found(d, d->cidr[j], DEVICES_BY_CIDR, out);
	return DEVICES_BY_NONE;
}

/* ------------------------------------------------------------- leases */

/* A field of a line: a sub-cursor over its bytes. */
static bool
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void
skip_blanks(struct cursor *c)
{
	while (cursor_left(c) > 0 && is_blank(cursor_peek_u8(c)))
		cursor_skip(c, 1);
}

/* The next field, or an empty cursor at the end of the line. */
static struct cursor
next_field(struct cursor *line)
{
	size_t start, n = 0;

	skip_blanks(line);
	start = line->pos;
	while (cursor_left(line) > 0 && !is_blank(cursor_peek_u8(line))) {
		cursor_skip(line, 1);
		n++;
	}
	cursor_seek(line, start);
	return cursor_sub(line, n);
}

static bool
field_is(const struct cursor *f, const char *word)
{
	size_t n = strlen(word);

	return cursor_left(f) == n && memcmp(cursor_here(f), word, n) == 0;
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Decimal, 1..20 digits, no overflow past max. */
static bool
parse_uint(struct cursor f, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	uint8_t ch;

	if (cursor_left(&f) == 0 || cursor_left(&f) > 20)
		return false;
	while (cursor_left(&f) > 0) {
		ch = cursor_u8(&f);
		if (!is_digit(ch) || v > (max - (uint64_t)(ch - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(ch - '0');
	}
	*out = v;
	return f.err == 0;
}

/*
 * Hex bytes joined by ':' ("01:0a:ff"), each of one or two digits, as
 * dnsmasq's parse_hex() reads them.  Returns the number of bytes, or -1.
 * Up to max bytes are stored in out (NULL: checked only).
 */
static int
parse_hexbytes(struct cursor f, uint8_t *out, size_t max)
{
	size_t n = 0;
	int digits, hi, lo;
	uint8_t ch;

	if (cursor_left(&f) == 0)
		return -1;
	for (;;) {
		digits = 0;
		hi = 0;
		while (cursor_left(&f) > 0 && cursor_peek_u8(&f) != ':') {
			lo = cursor_hex_value(cursor_u8(&f));
			if (lo < 0 || ++digits > 2)
				return -1;
			hi = hi << 4 | lo;
		}
		if (digits == 0 || n >= max)
			return -1;
		if (out != NULL)
			out[n] = (uint8_t)hi;
		n++;
		if (cursor_left(&f) == 0)
			break;
		ch = cursor_u8(&f);	/* the ':' */
		if (ch != ':' || cursor_left(&f) == 0)
			return -1;
	}
	return (int)n;
}

/* Copies an address field out (it has no NUL) and parses it. */
static bool
parse_addr_field(struct cursor f, struct sg_addr *a)
{
	char text[ADDR_STRLEN];
	size_t n = cursor_left(&f);

	if (n == 0 || n >= sizeof(text))
		return false;
	cursor_copy(&f, text, n);
	text[n] = '\0';
	return f.err == 0 && memchr(text, '\0', n) == NULL &&
	    addr_parse(a, text) == 0;
}

static const char *
parse_hostname(struct cursor f, char out[DEVICES_HOSTNAME_MAX + 1])
{
	size_t n = cursor_left(&f), i;
	uint8_t ch;

	if (field_is(&f, "*")) {
		out[0] = '\0';
		return NULL;
	}
	if (n > DEVICES_HOSTNAME_MAX)
		return "hostname too long";
	for (i = 0; i < n; i++) {
		ch = cursor_u8(&f);
		if (!(is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_' ||
		    ch == '.'))
			return "bad hostname";
		out[i] = (char)ch;
	}
	out[n] = '\0';
	return NULL;
}

/* The MAC field of an IPv4 lease. */
static const char *
parse_mac(struct cursor f, uint8_t mac[6])
{
	uint8_t buf[64];
	int n;

	/* "TT-..." : a hardware type other than Ethernet */
	if (memchr(cursor_here(&f), '-', cursor_left(&f)) != NULL)
		return "not an Ethernet MAC address";
	if ((n = parse_hexbytes(f, buf, sizeof(buf))) < 0)
		return "bad MAC address";
	if (n != 6)
		return "not an Ethernet MAC address";
	memcpy(mac, buf, 6);
	return NULL;
}

/* One non-blank line: NULL and *l filled, or the reason it is bad. */
static const char *
parse_lease_line(struct cursor *line, struct devices_lease *l, bool *isduid)
{
	struct cursor f[5];
	const char *why;
	uint64_t iaid;
	int i;

	*isduid = false;
	memset(l, 0, sizeof(*l));
	f[0] = next_field(line);
	if (field_is(&f[0], "duid")) {
		*isduid = true;
		f[1] = next_field(line);
		/* DUIDs are 2..130 bytes (RFC 8415, 11.1). */
		i = parse_hexbytes(f[1], NULL, 130);
		if (i < 2)
			return "bad duid";
		skip_blanks(line);
		if (cursor_left(line) != 0)
			return "too many fields";
		return NULL;
	}
	for (i = 1; i < 5; i++) {
		f[i] = next_field(line);
		if (cursor_left(&f[i]) == 0)
			return "missing field";
	}
	skip_blanks(line);
	if (cursor_left(line) != 0)
		return "too many fields";
	if (!parse_uint(f[0], UINT64_MAX, &l->expiry))
		return "bad expiry";
	if (!parse_addr_field(f[2], &l->addr))
		return "bad address";
	if (l->addr.family == AF_INET) {
		if ((why = parse_mac(f[1], l->mac)) != NULL)
			return why;
		l->has_mac = true;
	} else {
		if (cursor_peek_u8(&f[1]) == 'T') {
			l->temporary = true;
			cursor_skip(&f[1], 1);
		}
		if (!parse_uint(f[1], UINT32_MAX, &iaid))
			return "bad IAID";
		l->iaid = (uint32_t)iaid;
	}
	if ((why = parse_hostname(f[3], l->hostname)) != NULL)
		return why;
	if (!field_is(&f[4], "*") && parse_hexbytes(f[4], NULL, 255) < 0)
		return "bad client id";
	return NULL;
}

int
devices_leases_parse(const void *buf, size_t len, devices_lease_fn fn,
    devices_lease_err_fn errfn, void *arg)
{
	struct devices_lease l;
	struct cursor c, line;
	const char *text, *why;
	size_t n, lineno = 0;
	bool isduid;
	int rc;

	cursor_init(&c, buf, len);
	while ((text = cursor_line(&c, &n)) != NULL) {
		lineno++;
		cursor_init(&line, text, n);
		skip_blanks(&line);
		if (cursor_left(&line) == 0)
			continue;
		if (n > DEVICES_LEASE_LINE_MAX)
			why = "line too long";
		else
			why = parse_lease_line(&line, &l, &isduid);
		if (why != NULL) {
			if (errfn != NULL)
				errfn(arg, lineno, why);
			continue;
		}
		l.line = lineno;
		if (!isduid && fn != NULL && (rc = fn(arg, &l)) != 0)
			return rc;
	}
	return 0;
}

int
devices_leases_read(const char *path, devices_lease_fn fn,
    devices_lease_err_fn errfn, void *arg)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size > (off_t)DEVICES_LEASES_FILE_MAX) {
		close(fd);
		return SG_ELIMIT;
	}
	/* One byte more than the limit: a file that grew is caught too. */
	if ((buf = malloc(DEVICES_LEASES_FILE_MAX + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len <= DEVICES_LEASES_FILE_MAX) {
		r = read(fd, buf + len, DEVICES_LEASES_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > DEVICES_LEASES_FILE_MAX)
		rc = SG_ELIMIT;
	else
		rc = devices_leases_parse(buf, len, fn, errfn, arg);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ------------------------------------------------------- lease table */

struct devices_leases {
	size_t			 n, cap;
	struct devices_lease	*l;
	struct htab		 h;	/* MAC -> lease, IPv4 -> lease */
	devices_lease_err_fn	 errfn;	/* while building */
	void			*arg;
};

static int
collect(void *arg, const struct devices_lease *l)
{
	struct devices_leases *t = arg;
	struct devices_lease *grown;
	size_t cap;

	if (!l->has_mac)
		return 0;
	if (t->n == DEVICES_LEASES_MAX) {
		if (t->errfn != NULL)
			t->errfn(t->arg, l->line, "too many leases");
		return 0;
	}
	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 16;
		if ((grown = reallocarray(t->l, cap, sizeof(*grown))) == NULL)
			return -ENOMEM;
		t->l = grown;
		t->cap = cap;
	}
	t->l[t->n++] = *l;
	return 0;
}

static void
collect_err(void *arg, size_t line, const char *reason)
{
	struct devices_leases *t = arg;

	if (t->errfn != NULL)
		t->errfn(t->arg, line, reason);
}

/* Whether lease a should replace b for the same MAC. */
static bool
better(const struct devices_lease *a, const struct devices_lease *b)
{
	if ((a->hostname[0] != '\0') != (b->hostname[0] != '\0'))
		return a->hostname[0] != '\0';
	if (a->expiry == b->expiry)
		return false;
	return a->expiry == 0 || (b->expiry != 0 && a->expiry > b->expiry);
}

struct devices_leases *
devices_leases_new(const void *buf, size_t len, devices_lease_err_fn errfn,
    void *arg)
{
	struct devices_leases *t;
	uint8_t key[HKEY_LEN];
	struct hslot *s;
	size_t i;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->errfn = errfn;
	t->arg = arg;
	rc = devices_leases_parse(buf, len, collect, collect_err, t);
	if (rc != 0 || htab_init(&t->h, t->n * 2) != 0) {
		devices_leases_free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		hkey_mac(key, t->l[i].mac);
		s = htab_find(&t->h, key);
		if (s->val == 0 || better(&t->l[i], &t->l[s->val - 1])) {
			memcpy(s->key, key, HKEY_LEN);
			s->val = (uint32_t)i + 1;
		}
		(void)hkey_addr(key, &t->l[i].addr);
		s = htab_find(&t->h, key);
		if (s->val == 0 || better(&t->l[i], &t->l[s->val - 1])) {
			memcpy(s->key, key, HKEY_LEN);
			s->val = (uint32_t)i + 1;
		}
	}
	t->errfn = NULL;
	t->arg = NULL;
	return t;
}

void
devices_leases_free(struct devices_leases *t)
{
	int save = errno;

	if (t == NULL)
		return;
	free(t->h.slot);
	free(t->l);
	free(t);
	errno = save;
}

size_t
devices_leases_count(const struct devices_leases *t)
{
	return t != NULL ? t->n : 0;
}

const char *
devices_leases_hostname(const struct devices_leases *t, const uint8_t mac[6])
{
	uint8_t key[HKEY_LEN];
	uint32_t v;

	if (t == NULL)
		return NULL;
	hkey_mac(key, mac);
	if ((v = htab_get(&t->h, key)) == 0 || t->l[v - 1].hostname[0] == '\0')
		return NULL;
	return t->l[v - 1].hostname;
}

bool
devices_leases_mac(const struct devices_leases *t, const struct sg_addr *addr,
    uint8_t mac[6])
{
	uint8_t key[HKEY_LEN];
	uint32_t v;

	if (t == NULL || !hkey_addr(key, addr) ||
	    (v = htab_get(&t->h, key)) == 0)
		return false;
	memcpy(mac, t->l[v - 1].mac, 6);
	return true;
}
