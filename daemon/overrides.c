/*
 * overrides.c - see overrides.h for the contract and the read protocol.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "atomicfile.h"
#include "cursor.h"
#include "lists.h"
#include "overrides.h"

/*
 * One entry as the slots hold it: 42 words, the first HDR_WORDS of which
 * (until, kind and lengths, key) are all a pause lookup reads.  kind 0 is
 * a free slot.
 */
#define REC_WORDS	42
#define HDR_WORDS	10

union rec {
	struct {
		int64_t		until;
		uint8_t		kind;
		uint8_t		keylen;
		uint16_t	namelen;
		uint32_t	pad;
		char		key[64];
		char		name[256];
	} r;
	uint64_t	w[REC_WORDS];
};

_Static_assert(sizeof(union rec) == REC_WORDS * sizeof(uint64_t),
    "rec is whole words");
_Static_assert(offsetof(union rec, r.name) == HDR_WORDS * sizeof(uint64_t),
    "the header ends where the name starts");
_Static_assert(OVERRIDES_KEY_MAX < 64 && OVERRIDES_NAME_MAX < 256,
    "keys and names fit their fields");
_Static_assert(OVERRIDES_MAX <= UINT16_MAX, "slot indexes");

struct slot {
	_Atomic uint32_t	seq;	/* low bit: which copy readers use */
	_Atomic uint64_t	copy[2][REC_WORDS];
};

struct overrides {
	_Atomic size_t	used;	/* slots [0, used) may be live; all past
				   it are free */
	struct slot	slot[OVERRIDES_MAX];
	/* The writer's own plain copy of every slot: it never reads the
	   latches back.  Touched by the writer thread only. */
	union rec	shadow[OVERRIDES_MAX];
};

struct overrides *
overrides_new(void)
{
	struct overrides *ov;

	if ((ov = calloc(1, sizeof(*ov))) == NULL)
		return NULL;
	atomic_init(&ov->used, 0);
	return ov;
}

void
overrides_free(struct overrides *ov)
{
	free(ov);
}

/* ------------------------------------------------------------ the latch */

/*
 * Copies the first nwords of the slot's stable copy.  Retries only when
 * the writer completed a half-step meanwhile (see overrides.h).
 */
static void
slot_read(const struct slot *s, union rec *out, size_t nwords)
{
	const _Atomic uint64_t *c;
	uint32_t q, q2;
	size_t i;

	do {
		q = atomic_load_explicit(&s->seq, memory_order_acquire);
		c = s->copy[q & 1];
		for (i = 0; i < nwords; i++)
			out->w[i] = atomic_load_explicit(&c[i],
			    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		q2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
	} while (q != q2);
}

/*
 * seq odd: readers use copy[1] while copy[0] is written; seq even: they
 * use copy[0] while copy[1] is written.  The release fence before each
 * bump publishes the copy written before it; the one after keeps the next
 * copy's stores from showing before the bump (a reader that sees one of
 * them then sees the bump and retries).
 */
static void
slot_write(struct overrides *ov, size_t i, const union rec *r)
{
	struct slot *s = &ov->slot[i];
	uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
	size_t half, k;

	for (half = 0; half < 2; half++) {
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&s->seq, ++q, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		for (k = 0; k < REC_WORDS; k++)
			atomic_store_explicit(&s->copy[half][k], r->w[k],
			    memory_order_relaxed);
	}
	ov->shadow[i] = *r;
}

static void
slot_clear(struct overrides *ov, size_t i)
{
	union rec r;

	memset(&r, 0, sizeof(r));
	slot_write(ov, i, &r);
}

/* Lowers the high-water mark past free slots at the end. */
static void
shrink(struct overrides *ov)
{
	size_t n = atomic_load_explicit(&ov->used, memory_order_relaxed);

	while (n > 0 && ov->shadow[n - 1].r.kind == 0)
		n--;
	atomic_store_explicit(&ov->used, n, memory_order_release);
}

/* ---------------------------------------------------------- normalising */

static bool
is_mac(const char *s, size_t len)
{
	size_t i;

	if (len != 17)
		return false;
	for (i = 0; i < len; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static bool
is_name_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

int
overrides_key_normalize(const char *in, size_t len, char *out)
{
	char tmp[OVERRIDES_KEY_MAX + 1];
	struct sg_addr a;
	size_t i;

	if (len == 0 || len > OVERRIDES_KEY_MAX || memchr(in, '\0', len))
		return -EINVAL;
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	if (is_mac(tmp, len)) {
		for (i = 0; i < len; i++)
			out[i] = (char)tolower((unsigned char)tmp[i]);
		out[len] = '\0';
		return (int)len;
	}
	if (addr_parse(&a, tmp) == 0) {
		addr_ntop(&a, out, OVERRIDES_KEY_MAX + 1);
		return (int)strlen(out);
	}
	for (i = 0; i < len; i++)
		if (!is_name_byte((unsigned char)tmp[i]))
			return -EINVAL;
	memcpy(out, tmp, len + 1);
	return (int)len;
}

int
overrides_name_normalize(const char *in, size_t len, char *out,
    const char **reason)
{
	const char *why = "bad name";
	int n;

	if (len >= 2 && in[0] == '*' && in[1] == '.') {
		in += 2;
		len -= 2;
	}
	if (len == 0 || len > 1024) {
		why = len == 0 ? "empty name" : "name too long";
		n = -EINVAL;
	} else if ((n = lists_normalize(in, len, out, &why)) >= 0 &&
	    (size_t)n > OVERRIDES_NAME_MAX) {
		why = "name longer than 253 bytes";
		n = -EINVAL;
	}
	if (n < 0) {
		if (reason != NULL)
			*reason = why;
		return n == -ENOMEM ? n : -EINVAL;
	}
	return n;
}

/* ------------------------------------------------------------- writing */

static bool
same_entry(const union rec *a, const union rec *b)
{
	return a->r.kind == b->r.kind && a->r.keylen == b->r.keylen &&
	    memcmp(a->r.key, b->r.key, a->r.keylen) == 0 &&
	    a->r.namelen == b->r.namelen &&
	    memcmp(a->r.name, b->r.name, a->r.namelen) == 0;
}

/*
 * Adds r, or replaces the entry of the same kind, key (and name): 0 added,
 * 1 replaced a live one, SG_ELIMIT no room.  An expired entry of the same
 * identity is rewritten in place (and counts as added).
 */
static int
put(struct overrides *ov, const union rec *r, time_t now)
{
	size_t i, used, freei = OVERRIDES_MAX, expired = OVERRIDES_MAX;
	const union rec *e;

	used = atomic_load_explicit(&ov->used, memory_order_relaxed);
	for (i = 0; i < used; i++) {
		e = &ov->shadow[i];
		if (e->r.kind == 0) {
			if (freei == OVERRIDES_MAX)
				freei = i;
			continue;
		}
		if (same_entry(e, r)) {
			bool live = e->r.until > now;

			slot_write(ov, i, r);
			return live ? 1 : 0;
		}
		if (e->r.until <= now && expired == OVERRIDES_MAX)
			expired = i;
	}
	if (freei == OVERRIDES_MAX && used < OVERRIDES_MAX)
		freei = used;
	if (freei == OVERRIDES_MAX)
		freei = expired;
	if (freei == OVERRIDES_MAX)
		return SG_ELIMIT;
	slot_write(ov, freei, r);
	if (freei >= used)
		atomic_store_explicit(&ov->used, freei + 1,
		    memory_order_release);
	return 0;
}

static int
make_rec(union rec *r, enum overrides_kind kind, const char *key,
    time_t until)
{
	int n;

	memset(r, 0, sizeof(*r));
	if (key == NULL || (n = overrides_key_normalize(key, strlen(key),
	    r->r.key)) < 0)
		return -EINVAL;
	r->r.kind = (uint8_t)kind;
	r->r.keylen = (uint8_t)n;
	r->r.until = (int64_t)until;
	return 0;
}

static int
check_until(time_t until, time_t now)
{
	if (until <= now || until - now > OVERRIDES_SPAN_MAX)
		return -ERANGE;
	return 0;
}

int
overrides_pause(struct overrides *ov, const char *key, time_t until,
    time_t now)
{
	union rec r;
	int rc;

	if ((rc = make_rec(&r, OVERRIDES_PAUSE, key, until)) < 0 ||
	    (rc = check_until(until, now)) < 0)
		return rc;
	return put(ov, &r, now);
}

int
overrides_allow(struct overrides *ov, const char *key, const char *name,
    time_t until, time_t now, const char **reason)
{
	char norm[DNS_TEXT_MAX + 1];
	union rec r;
	int rc, n;

	if ((rc = make_rec(&r, OVERRIDES_ALLOW, key, until)) < 0) {
		if (reason != NULL)
			*reason = "bad device (a name, MAC or IP address)";
		return rc;
	}
	if (name == NULL)
		return -EINVAL;
	if ((n = overrides_name_normalize(name, strlen(name), norm,
	    reason)) < 0)
		return n;
	if ((rc = check_until(until, now)) < 0)
		return rc;
	memcpy(r.r.name, norm, (size_t)n);
	r.r.namelen = (uint16_t)n;
	return put(ov, &r, now);
}

int
overrides_resume(struct overrides *ov, const char *key, bool all,
    time_t now, size_t *nallows)
{
	char k[OVERRIDES_KEY_MAX + 1];
	size_t i, used, allows = 0;
	const union rec *e;
	int n, ended = 0;

	if (nallows != NULL)
		*nallows = 0;
	if (key == NULL || (n = overrides_key_normalize(key, strlen(key),
	    k)) < 0)
		return -EINVAL;
	used = atomic_load_explicit(&ov->used, memory_order_relaxed);
	for (i = 0; i < used; i++) {
		e = &ov->shadow[i];
		if (e->r.kind == 0 || e->r.keylen != (size_t)n ||
		    memcmp(e->r.key, k, (size_t)n) != 0)
			continue;
		if (e->r.kind == OVERRIDES_ALLOW && !all)
			continue;
		if (e->r.until > now) {
			ended++;
			if (e->r.kind == OVERRIDES_ALLOW)
				allows++;
		}
		slot_clear(ov, i);
	}
	shrink(ov);
	if (nallows != NULL)
		*nallows = allows;
	return ended;
}

size_t
overrides_prune(struct overrides *ov, time_t now)
{
	size_t i, used, n = 0;

	used = atomic_load_explicit(&ov->used, memory_order_relaxed);
	for (i = 0; i < used; i++) {
		if (ov->shadow[i].r.kind != 0 &&
		    ov->shadow[i].r.until <= now) {
			slot_clear(ov, i);
			n++;
		}
	}
	shrink(ov);
	return n;
}

/* ------------------------------------------------------------- reading */

static bool
key_matches(const union rec *r, const char *const *keys, size_t nkeys)
{
	size_t i;

	if (r->r.keylen > OVERRIDES_KEY_MAX)
		return false;
	for (i = 0; i < nkeys; i++)
		if (keys[i] != NULL &&
		    strnlen(keys[i], OVERRIDES_KEY_MAX + 1) == r->r.keylen &&
		    memcmp(keys[i], r->r.key, r->r.keylen) == 0)
			return true;
	return false;
}

/* ASCII case-insensitive: b (an entry's name) is lower case already. */
static bool
name_eq(const char *a, const char *b, size_t n)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)a[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if (ch != (unsigned char)b[i])
			return false;
	}
	return true;
}

/* Whether the entry's name is name, or a parent of it. */
static bool
covers(const union rec *r, const char *name, size_t len)
{
	size_t m = r->r.namelen;

	if (m == 0 || m > OVERRIDES_NAME_MAX)
		return false;
	if (len == m)
		return name_eq(name, r->r.name, m);
	return len > m && name[len - m - 1] == '.' &&
	    name_eq(name + len - m, r->r.name, m);
}

/*
 * The latest end among the live entries of kind for one of keys (and, for
 * an allow, covering name, len bytes); false if there is none.  Only the
 * header of each slot is read, unless it is an allow's candidate: that one
 * is read whole and checked all again, as the slot may hold another entry
 * by now.
 */
static bool
latest(const struct overrides *ov, enum overrides_kind kind,
    const char *const *keys, size_t nkeys, const char *name, size_t len,
    time_t now, time_t *until)
{
	size_t i, used;
	time_t best = 0;
	bool found = false;
	union rec r;

	used = atomic_load_explicit(&ov->used, memory_order_acquire);
	for (i = 0; i < used && i < OVERRIDES_MAX; i++) {
		slot_read(&ov->slot[i], &r, HDR_WORDS);
		if (r.r.kind != kind || r.r.until <= now ||
		    !key_matches(&r, keys, nkeys))
			continue;
		if (kind == OVERRIDES_ALLOW) {
			slot_read(&ov->slot[i], &r, REC_WORDS);
			if (r.r.kind != kind || r.r.until <= now ||
			    !key_matches(&r, keys, nkeys) ||
			    !covers(&r, name, len))
				continue;
		}
		if (!found || r.r.until > best)
			best = (time_t)r.r.until;
		found = true;
	}
	if (found && until != NULL)
		*until = best;
	return found;
}

bool
overrides_paused(const struct overrides *ov, const char *const *keys,
    size_t nkeys, time_t now, time_t *until)
{
	return latest(ov, OVERRIDES_PAUSE, keys, nkeys, NULL, 0, now, until);
}

bool
overrides_allowed(const struct overrides *ov, const char *const *keys,
    size_t nkeys, const char *name, size_t len, time_t now, time_t *until)
{
	if (name == NULL)
		return false;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	return latest(ov, OVERRIDES_ALLOW, keys, nkeys, name, len, now, until);
}

bool
overrides_empty(const struct overrides *ov)
{
	return atomic_load_explicit(&ov->used, memory_order_relaxed) == 0;
}

size_t
overrides_count(const struct overrides *ov, time_t now)
{
	size_t i, used, n = 0;
	union rec r;

	used = atomic_load_explicit(&ov->used, memory_order_acquire);
	for (i = 0; i < used && i < OVERRIDES_MAX; i++) {
		slot_read(&ov->slot[i], &r, HDR_WORDS);
		if (r.r.kind != 0 && r.r.until > now)
			n++;
	}
	return n;
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct overrides_entry *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->key, b->key)) != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind == OVERRIDES_PAUSE ? -1 : 1;
	return strcmp(a->name, b->name);
}

size_t
overrides_list(const struct overrides *ov, time_t now,
    struct overrides_entry *out, size_t max)
{
	size_t i, used, n = 0;
	union rec r;

	used = atomic_load_explicit(&ov->used, memory_order_acquire);
	for (i = 0; i < used && i < OVERRIDES_MAX && n < max; i++) {
		slot_read(&ov->slot[i], &r, REC_WORDS);
		if (r.r.kind == 0 || r.r.until <= now ||
		    r.r.keylen > OVERRIDES_KEY_MAX ||
		    r.r.namelen > OVERRIDES_NAME_MAX)
			continue;
		out[n].kind = (enum overrides_kind)r.r.kind;
		memcpy(out[n].key, r.r.key, r.r.keylen);
		out[n].key[r.r.keylen] = '\0';
		memcpy(out[n].name, r.r.name, r.r.namelen);
		out[n].name[r.r.namelen] = '\0';
		out[n].until = (time_t)r.r.until;
		n++;
	}
	qsort(out, n, sizeof(*out), entry_cmp);
	return n;
}

int
overrides_format(const struct overrides *ov, time_t now, char *buf,
    size_t len)
{
	struct overrides_entry *e;
	char line[OVERRIDES_LINE_MAX + 1];
	size_t i, n, pos = 0, need = 0;
	bool full = false;
	int l;

	if (len > 0)
		buf[0] = '\0';
	if ((e = calloc(OVERRIDES_MAX, sizeof(*e))) == NULL)
		return -ENOMEM;
	n = overrides_list(ov, now, e, OVERRIDES_MAX);
	for (i = 0; i < n; i++) {
		if (e[i].kind == OVERRIDES_PAUSE)
			l = snprintf(line, sizeof(line), "pause %s %lld\n",
			    e[i].key, (long long)e[i].until);
		else
			l = snprintf(line, sizeof(line), "allow %s %s %lld\n",
			    e[i].key, e[i].name, (long long)e[i].until);
		if (l < 0 || (size_t)l >= sizeof(line))
			continue;	/* cannot happen: see LINE_MAX */
		need += (size_t)l;
		if (!full && pos + (size_t)l < len) {
			memcpy(buf + pos, line, (size_t)l);
			pos += (size_t)l;
			buf[pos] = '\0';
		} else
			full = true;
	}
	free(e);
	return (int)need;
}

/* --------------------------------------------------------- persistence */

static const char state_header[] =
    "# safegate runtime overrides, written by safegated: "
    "\"pause KEY UNTIL\" or\n"
    "# \"allow KEY NAME UNTIL\", UNTIL in seconds since the epoch (UTC)\n";

int
overrides_save(const struct overrides *ov, const char *path, time_t now)
{
	char *text;
	size_t hl = sizeof(state_header) - 1;
	int n, rc;

	if ((text = malloc(hl + OVERRIDES_FORMAT_MAX)) == NULL)
		return -ENOMEM;
	memcpy(text, state_header, hl);
	/* A full table needs less than OVERRIDES_FORMAT_MAX: no truncation
	   (checked anyway: a truncated state file would lose entries). */
	n = overrides_format(ov, now, text + hl, OVERRIDES_FORMAT_MAX);
	if (n < 0 || n >= OVERRIDES_FORMAT_MAX) {
		free(text);
		return n < 0 ? n : -EOVERFLOW;
	}
	rc = atomicfile_write(path, text, hl + (size_t)n, 0600);
	free(text);
	return rc;
}

int
overrides_load(struct overrides *ov, const char *path, time_t now,
    overrides_error_fn *err, void *arg)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO put there must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) == -1)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else
		rc = 0;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (st.st_size > OVERRIDES_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	/* One byte more than allowed tells a file that grew apart. */
	if ((buf = malloc(OVERRIDES_FILE_MAX + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		n = read(fd, buf + len, OVERRIDES_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > OVERRIDES_FILE_MAX)
			break;
	}
	rc = n == -1 ? -errno : 0;
	close(fd);
	if (rc == 0 && len > OVERRIDES_FILE_MAX)
		rc = -EFBIG;
	if (rc == 0)
		rc = overrides_parse(ov, buf, len, now, err, arg);
	free(buf);
	return rc;
}

/* The next blank-separated field of a line, or a zero length at its end. */
static const char *
next_field(struct cursor *c, size_t *len)
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

const char *
overrides_parse_line(const char *p, size_t len, struct overrides_entry *e)
{
	char tmp[16], name[DNS_TEXT_MAX + 1];
	const char *kind, *key, *nm = NULL, *until, *why = "bad name";
	size_t klen, keylen, nmlen = 0, ulen, xlen;
	struct cursor c;
	time_t t;
	int n;

	cursor_init(&c, p, len);
	memset(e, 0, sizeof(*e));
	kind = next_field(&c, &klen);
	if (field_is(kind, klen, "pause"))
		e->kind = OVERRIDES_PAUSE;
	else if (field_is(kind, klen, "allow"))
		e->kind = OVERRIDES_ALLOW;
	else
		return "unknown entry (want pause or allow)";
	key = next_field(&c, &keylen);
	if (keylen == 0)
		return "missing device";
	if (overrides_key_normalize(key, keylen, e->key) < 0)
		return "bad device (want a name, MAC or IP address)";
	if (e->kind == OVERRIDES_ALLOW) {
		nm = next_field(&c, &nmlen);
		if (nmlen == 0)
			return "missing name";
	}
	until = next_field(&c, &ulen);
	if (ulen == 0)
		return "missing until";
	(void)next_field(&c, &xlen);
	if (xlen != 0)
		return "trailing text after the entry";
	if (ulen >= sizeof(tmp))
		return "bad until (want seconds since the epoch)";
	memcpy(tmp, until, ulen);
	tmp[ulen] = '\0';
	if (overrides_parse_epoch(tmp, &t) < 0)
		return "bad until (want seconds since the epoch)";
	e->until = t;
	if (e->kind == OVERRIDES_ALLOW) {
		if ((n = overrides_name_normalize(nm, nmlen, name, &why)) < 0)
			return n == -ENOMEM ? "out of memory" : why;
		memcpy(e->name, name, (size_t)n + 1);
	}
	return NULL;
}

int
overrides_parse(struct overrides *ov, const void *buf, size_t len,
    time_t now, overrides_error_fn *err, void *arg)
{
	struct overrides_entry e;
	struct cursor c, lc;
	const char *line, *why, *f;
	size_t n, flen, lineno = 0;
	union rec r;
	int taken = 0;

	cursor_init(&c, buf, len);
	while ((line = cursor_line(&c, &n)) != NULL) {
		lineno++;
		cursor_init(&lc, line, n);
		f = next_field(&lc, &flen);
		if (flen == 0 || f[0] == '#')
			continue;
		if ((why = overrides_parse_line(line, n, &e)) == NULL) {
			if (e.until <= now)
				continue;
			memset(&r, 0, sizeof(r));
			r.r.kind = (uint8_t)e.kind;
			r.r.keylen = (uint8_t)strlen(e.key);
			memcpy(r.r.key, e.key, r.r.keylen);
			r.r.namelen = (uint16_t)strlen(e.name);
			memcpy(r.r.name, e.name, r.r.namelen);
			r.r.until = (int64_t)e.until;
			if (put(ov, &r, now) < 0)
				why = "no room: the table is full";
			else
				taken++;
		}
		if (why != NULL && err != NULL)
			err(arg, lineno, why);
	}
	return taken;
}

/* ------------------------------------------------------ words and times */

int
overrides_parse_epoch(const char *s, time_t *out)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 12 || s[i] < '0' || s[i] > '9')
			return SG_EMALFORMED;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return SG_EMALFORMED;
	*out = (time_t)v;
	return 0;
}

int
overrides_parse_duration(const char *s, time_t *secs, const char **reason)
{
	static const char units[] = "dhms";
	static const time_t mult[] = { 86400, 3600, 60, 1 };
	const char *u;
	time_t total = 0, v;
	int last = -1, digits;

	if (*s == '\0') {
		*reason = "empty duration (as in 30m, 1h30m, 2d)";
		return SG_EMALFORMED;
	}
	while (*s != '\0') {
		if (*s < '0' || *s > '9') {
			*reason = "expected a number (as in 30m, 1h30m, 2d)";
			return SG_EMALFORMED;
		}
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++) {
			if (++digits > 7) {
				*reason = "too long: at most 30 days (30d)";
				return SG_ELIMIT;
			}
			v = v * 10 + (*s - '0');
		}
		if (*s == '\0') {
			*reason = "a number needs a unit: d, h, m or s";
			return SG_EMALFORMED;
		}
		if ((u = strchr(units, *s)) == NULL) {
			*reason = "unknown unit (want d, h, m or s)";
			return SG_EMALFORMED;
		}
		if (u - units <= last) {
			*reason = "each unit once, largest first (as in 1h30m)";
			return SG_EMALFORMED;
		}
		last = (int)(u - units);
		total += v * mult[last];
		s++;
	}
	if (total == 0) {
		*reason = "a duration must be longer than 0s";
		return SG_ELIMIT;
	}
	if (total > OVERRIDES_SPAN_MAX) {
		*reason = "too long: at most 30 days (30d)";
		return SG_ELIMIT;
	}
	*secs = total;
	return 0;
}

const char *
overrides_format_duration(time_t secs, char *buf, size_t len)
{
	static const char units[] = "dhms";
	static const long long mult[] = { 86400, 3600, 60, 1 };
	long long v = secs < 0 ? 0 : (long long)secs, q;
	size_t pos = 0;
	int i, l;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (v == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < 4; i++) {
		q = v / mult[i];
		v %= mult[i];
		if (q == 0)
			continue;
		l = snprintf(buf + pos, len - pos, "%lld%c", q, units[i]);
		if (l < 0 || (size_t)l >= len - pos)
			break;
		pos += (size_t)l;
	}
	return buf;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/*
 * The local time y-m-d h:mi as epoch seconds.  mktime() is asked with
 * tm_isdst 0 and 1 and each answer is kept only if it reads back as the
 * same wall-clock minute: none is a skipped minute (false), two is a
 * repeated one, of which the earlier wins.
 */
static bool
local_time(int y, int m, int d, int h, int mi, time_t *out)
{
	struct tm tm, back;
	bool found = false;
	time_t t;
	int dst;

	for (dst = 0; dst <= 1; dst++) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_isdst = dst;
		t = mktime(&tm);
		if (t == (time_t)-1 || localtime_r(&t, &back) == NULL)
			continue;
		if (back.tm_year != y - 1900 || back.tm_mon != m - 1 ||
		    back.tm_mday != d || back.tm_hour != h ||
		    back.tm_min != mi)
			continue;
		if (!found || t < *out)
			*out = t;
		found = true;
	}
	return found;
}

/* "HH:MM" or "H:MM" exactly. */
static bool
parse_hhmm(const char *s, size_t len, int *h, int *mi)
{
	size_t i = 0;

	*h = 0;
	while (i < len && i < 2 && s[i] >= '0' && s[i] <= '9')
		*h = *h * 10 + (s[i++] - '0');
	if (i == 0 || i >= len || s[i] != ':' || len - i - 1 != 2 ||
	    s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] < '0' ||
	    s[i + 2] > '9')
		return false;
	*mi = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	return *h <= 23 && *mi <= 59;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
number(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* A weekday, short or long, any case: tm_wday, or -1. */
static int
weekday(const char *s, size_t n)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday" };
	size_t i;

	for (i = 0; i < 7; i++)
		if ((n == 3 || n == strlen(days[i])) &&
		    strncasecmp(s, days[i], n) == 0)
			return (int)i;
	return -1;
}

int
overrides_parse_at(const char *s, time_t now, time_t *at,
    const char **reason)
{
	const char *a, *b;
	size_t alen, blen, len;
	struct tm today, cal;
	int wday = -1, h, mi, y, mo, d;
	bool any_day = false;
	time_t t, base;
	int k;

	/* Two words at most: A [B]. */
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	a = s;
	alen = strcspn(a, " \t");
	if (alen > len)
		alen = len;
	b = a + alen;
	while (b < s + len && (*b == ' ' || *b == '\t'))
		b++;
	blen = (size_t)(s + len - b);
	if (blen > 0 && strcspn(b, " \t") < blen) {
		*reason = "trailing text after the time";
		return SG_EMALFORMED;
	}
	if (alen == 0) {
		*reason = "expected a time: \"Sun 21:30\", \"21:30\" or "
		    "\"2026-03-01 21:30\"";
		return SG_EMALFORMED;
	}

	if (blen == 0) {
		if (!parse_hhmm(a, alen, &h, &mi)) {
			*reason = "expected a time: \"Sun 21:30\", \"21:30\" "
			    "or \"2026-03-01 21:30\"";
			return SG_EMALFORMED;
		}
		any_day = true;
	} else if (alen == 10 && a[4] == '-' && a[7] == '-' &&
	    all_digits(a, 4) && all_digits(a + 5, 2) &&
	    all_digits(a + 8, 2)) {
		y = number(a, 4);
		mo = number(a + 5, 2);
		d = number(a + 8, 2);
		if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
		    d > days_in_month(y, mo)) {
			*reason = "bad date (YYYY-MM-DD, from 1970)";
			return SG_EMALFORMED;
		}
		if (!parse_hhmm(b, blen, &h, &mi)) {
			*reason = "bad time of day (HH:MM, 00:00 to 23:59)";
			return SG_EMALFORMED;
		}
		if (!local_time(y, mo, d, h, mi, at)) {
			*reason = "no such local time: the clocks go forward "
			    "over it";
			return SG_EMALFORMED;
		}
		return 0;
	} else {
		if ((wday = weekday(a, alen)) < 0) {
			*reason = "unknown day (Mon, Tue, Wed, Thu, Fri, Sat, "
			    "Sun) or date (YYYY-MM-DD)";
			return SG_EMALFORMED;
		}
		if (!parse_hhmm(b, blen, &h, &mi)) {
			*reason = "bad time of day (HH:MM, 00:00 to 23:59)";
			return SG_EMALFORMED;
		}
	}

	/* Walk the calendar from today: noon UTC of each date, so that
	   adding days never meets a DST change. */
	if (localtime_r(&now, &today) == NULL) {
		*reason = "the clock is out of range";
		return SG_EMALFORMED;
	}
	for (k = 0; k <= 8; k++) {
		memset(&cal, 0, sizeof(cal));
		cal.tm_year = today.tm_year;
		cal.tm_mon = today.tm_mon;
		cal.tm_mday = today.tm_mday + k;
		cal.tm_hour = 12;
		base = timegm(&cal);
		if (base == (time_t)-1 || gmtime_r(&base, &cal) == NULL)
			break;
		if (!any_day && cal.tm_wday != wday)
			continue;
		if (!local_time(cal.tm_year + 1900, cal.tm_mon + 1,
		    cal.tm_mday, h, mi, &t)) {
			/* Skipped by the clocks, but over anyway. */
			if (k == 0 && h * 60 + mi < today.tm_hour * 60 +
			    today.tm_min)
				continue;
			*reason = "no such local time: the clocks go forward "
			    "over it";
			return SG_EMALFORMED;
		}
		if (t + 60 > now) {
			*at = t;
			return 0;
		}
	}
	*reason = "the clock is out of range";
	return SG_EMALFORMED;
}
