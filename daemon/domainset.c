/*
 * domainset.c - the in-memory domain set: every name in one arena, one
 * open-addressing hash table of arena offsets over it.
 *
 * Why this shape.  A lookup has to ask "is this suffix listed?" once for
 * each label boundary of the query (www.example.com: www.example.com,
 * example.com, com), so the set must answer exact-match questions fast.  A
 * hash table answers a miss in about one cache miss and a hit in about two
 * (the slot, then the record it points at).  There is no per-name malloc:
 * names live back to back in one arena and the table holds 32-bit offsets
 * into it, which keeps 1.2 million names in tens of megabytes and is a
 * layout a compiled, mmap-able file can keep as it is.
 *
 * Layout:
 *
 *   slots[]: 2^k of them, load <= 1/2      arena: one allocation
 *   +------------+------------+            +-----------------------------+
 *   | off  (u32) | hash (u32) |            | 8 reserved bytes, so that   |
 *   +------------+------------+            | offset 0 can mean "empty"   |
 *   |     0      |     -      | empty      +-----------+-----+-----------+
 *   +------------+------------+  +-------> | mask (u64)| len | name      |
 *   |    off  -------------------+         +-----------+-----+-----------+
 *   +------------+------------+            | mask (u64)| len | name ...  |
 *   |    ...     |    ...     |            +-----------+-----+-----------+
 *   +------------+------------+
 *
 *   mask: the categories of this exact name (bit n = category n), stored
 *   unaligned and read with memcpy; len: 1..253; name: len bytes, no NUL.
 *
 * The slot keeps the full 32-bit hash: probing compares it first, so a miss
 * almost never touches the arena, and growing the table never rehashes a
 * name.  Collisions are resolved by linear probing.  The hash is seeded at
 * random per set, so a list written to collide cannot build long probe
 * chains (a compiled set will have to store its seed).
 *
 * Hashing runs from the last label towards the first, one label at a time,
 * so one pass over a query yields the hash of every one of its suffixes:
 * the state after "com" is the hash of "com", after "example" that of
 * "example.com", and so on.  Each label is read eight bytes at a time; words
 * are read little-endian, so a seed gives the same hash on any host.
 *
 * The set reads a name's bytes directly, within the length it is given: it
 * does not parse them (that was done by whoever produced the name), it only
 * hashes and compares them, so the cursor is not needed here.
 *
 * A 64-bit map of the label counts present (bit n: some entry has n labels,
 * bit 63: 63 or more) lets a lookup skip suffixes no entry could match; with
 * real lists this skips the top-level domain.
 *
 * The builder is the set under construction: it grows the arena by doubling
 * and the table whenever the load would pass 1/2.  finish() gives the arena
 * back its slack and hands the same memory over as the immutable set.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "domainset.h"

#define DOMAINSET_NAME_MAX	253
#define ARENA_RESERVED		8	/* offset 0 means "empty slot" */
#define REC_HDR			9	/* mask (8) + len (1) */
#define TABLE_MIN		16
#define ARENA_MIN		4096

struct slot {
	uint32_t	 off;	/* record in the arena; 0 = empty */
	uint32_t	 hash;	/* hash_final() of the name */
};

struct domainset {
	uint8_t		*arena;
	size_t		 arena_len;	/* bytes used */
	size_t		 arena_cap;	/* bytes allocated */
	struct slot	*slots;
	size_t		 mask;		/* number of slots - 1 */
	size_t		 count;		/* names */
	uint64_t	 labelmap;	/* label counts present, see above */
	uint64_t	 seed;		/* of the hash, random per set */
};

/* The builder is the set it will become. */
struct domainset_builder {
	struct domainset set;
};

/* ---------------------------------------------------------------- hashing */

#define HASH_SEED	0x9e3779b97f4a7c15ULL	/* if getrandom() fails */
#define HASH_MUL	0xff51afd7ed558ccdULL

/* The n (< 8) bytes at p as a little-endian word. */
static inline uint64_t
load_tail(const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	while (n > 0) {
		n--;
		w = w << 8 | p[n];
	}
	return w;
}

/* Folds one label (n bytes at p) into the hash of the labels to its right. */
static inline uint64_t
hash_label(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	/* The length keeps "a" apart from "a\0" and label runs apart. */
	h = (h ^ (n + 1)) * HASH_MUL;
	while (n >= 8) {
		memcpy(&w, p, sizeof(w));
		h = (h ^ le64toh(w)) * HASH_MUL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		h = (h ^ load_tail(p, n)) * HASH_MUL;
		h ^= h >> 29;
	}
	return h;
}

static inline uint32_t
hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Where the label that ends at end starts: after the last '.' before end. */
static inline size_t
label_start(const uint8_t *name, size_t end)
{
	while (end > 0 && name[end - 1] != '.')
		end--;
	return end;
}

static inline unsigned
label_bit(unsigned nlabels)
{
	return nlabels < 63 ? nlabels : 63;
}

/*
 * The hash of a whole name, as a lookup computes it for the suffix that is
 * the whole name, and its number of labels.
 */
static uint32_t
hash_name(uint64_t seed, const uint8_t *name, size_t len, unsigned *nlabels)
{
	uint64_t h = seed;
	size_t end = len, start;
	unsigned n = 0;

	for (;;) {
		start = label_start(name, end);
		h = hash_label(h, name + start, end - start);
		n++;
		if (start == 0)
			break;
		end = start - 1;
	}
	*nlabels = n;
	return hash_final(h);
}

/* ---------------------------------------------------------------- table */

static inline size_t
rec_len(const struct domainset *s, uint32_t off)
{
	return s->arena[off + 8];
}

static inline const uint8_t *
rec_name(const struct domainset *s, uint32_t off)
{
	return s->arena + off + REC_HDR;
}

static inline uint64_t
rec_mask(const struct domainset *s, uint32_t off)
{
	uint64_t m;

	memcpy(&m, s->arena + off, sizeof(m));
	return m;
}

/* The slot holding name, or the empty slot where it would go. */
static inline struct slot *
find_slot(const struct domainset *s, const uint8_t *name, size_t len,
    uint32_t h)
{
	struct slot *sl;
	size_t i = h & s->mask;

	for (;;) {
		sl = &s->slots[i];
		if (sl->off == 0)
			return sl;
		if (sl->hash == h && rec_len(s, sl->off) == len &&
		    memcmp(rec_name(s, sl->off), name, len) == 0)
			return sl;
		i = (i + 1) & s->mask;
	}
}

static int
table_grow(struct domainset *s)
{
	struct slot *old = s->slots, *nslots;
	size_t oldn = s->mask + 1, n, i, j;

	if (oldn > SIZE_MAX / 2 / sizeof(*nslots))
		return -ENOMEM;
	n = oldn * 2;
	if ((nslots = calloc(n, sizeof(*nslots))) == NULL)
		return -ENOMEM;
	for (i = 0; i < oldn; i++) {
		if (old[i].off == 0)
			continue;
		for (j = old[i].hash & (n - 1); nslots[j].off != 0;
		    j = (j + 1) & (n - 1))
			;
		nslots[j] = old[i];
	}
	free(old);
	s->slots = nslots;
	s->mask = n - 1;
	return 0;
}

static int
arena_reserve(struct domainset *s, size_t need)
{
	uint8_t *a;
	size_t cap;

	if (need <= s->arena_cap - s->arena_len)
		return 0;
	/* Offsets are 32 bits. */
	if (need > (size_t)UINT32_MAX - s->arena_len)
		return SG_ELIMIT;
	cap = s->arena_cap;
	while (cap - s->arena_len < need)
		cap = cap > (size_t)UINT32_MAX / 2 ? (size_t)UINT32_MAX :
		    cap * 2;
	if ((a = realloc(s->arena, cap)) == NULL)
		return -ENOMEM;
	s->arena = a;
	s->arena_cap = cap;
	return 0;
}

/* ---------------------------------------------------------------- builder */

struct domainset_builder *
domainset_builder_new(void)
{
	struct domainset_builder *b;
	struct domainset *s;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	s = &b->set;
	s->slots = calloc(TABLE_MIN, sizeof(*s->slots));
	s->arena = calloc(1, ARENA_MIN);
	if (s->slots == NULL || s->arena == NULL) {
		free(s->slots);
		free(s->arena);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	s->mask = TABLE_MIN - 1;
	s->arena_cap = ARENA_MIN;
	s->arena_len = ARENA_RESERVED;
	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(s->seed))
		s->seed = HASH_SEED;
	return b;
}

int
domainset_builder_add(struct domainset_builder *b, const char *name,
    size_t len, unsigned category)
{
	struct domainset *s = &b->set;
	const uint8_t *p = (const uint8_t *)name;
	struct slot *sl;
	uint64_t mask;
	unsigned nlabels;
	uint32_t h;
	uint8_t *rec;
	int r;

	if (category >= DOMAINSET_MAX_CATEGORIES)
		return SG_ELIMIT;
	if (len == 0 || len > DOMAINSET_NAME_MAX)
		return SG_EMALFORMED;
	h = hash_name(s->seed, p, len, &nlabels);
	sl = find_slot(s, p, len, h);
	if (sl->off != 0) {
		mask = rec_mask(s, sl->off) | (uint64_t)1 << category;
		memcpy(s->arena + sl->off, &mask, sizeof(mask));
		return 0;
	}

	/* Make room for both before changing either. */
	if ((r = arena_reserve(s, REC_HDR + len)) != 0)
		return r;
	if ((s->count + 1) * 2 > s->mask + 1) {
		if ((r = table_grow(s)) != 0)
			return r;
		sl = find_slot(s, p, len, h);
	}

	rec = s->arena + s->arena_len;
	mask = (uint64_t)1 << category;
	memcpy(rec, &mask, sizeof(mask));
	rec[8] = (uint8_t)len;
	memcpy(rec + REC_HDR, p, len);
	sl->off = (uint32_t)s->arena_len;
	sl->hash = h;
	s->arena_len += REC_HDR + len;
	s->count++;
	s->labelmap |= (uint64_t)1 << label_bit(nlabels);
	return 1;
}

struct domainset *
domainset_builder_finish(struct domainset_builder *b)
{
	struct domainset *s;
	uint8_t *a;

	if (b == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = &b->set;
	/* The table is already at its size; give the arena its slack back. */
	if (s->arena_len < s->arena_cap &&
	    (a = realloc(s->arena, s->arena_len)) != NULL) {
		s->arena = a;
		s->arena_cap = s->arena_len;
	}
	return s;
}

void
domainset_builder_free(struct domainset_builder *b)
{
	if (b != NULL)
		domainset_free(&b->set);
}

/* ---------------------------------------------------------------- the set */

void
domainset_free(struct domainset *s)
{
	if (s == NULL)
		return;
	free(s->arena);
	free(s->slots);
	/* s is the first member of the builder that was allocated. */
	free(s);
}

/*
 * A lookup first hashes every suffix it has to ask about and prefetches
 * their slots, then asks: the slots of one name are in unrelated places, so
 * their cache misses are taken together instead of one after another.
 */
#define PROBE_BATCH	16

struct probe {
	size_t		 start;		/* the suffix is name[start, len) */
	uint32_t	 hash;
};

bool
domainset_lookup(const struct domainset *s, const char *name, size_t len,
    struct domainset_match *m)
{
	const uint8_t *p = (const uint8_t *)name;
	const struct slot *sl;
	struct probe pr[PROBE_BATCH];
	uint64_t h = s->seed, cats = 0;
	size_t end = len, start, rule = 0, rule_len = 0, np, i;
	unsigned nlabels = 0;
	bool found = false, more = len > 0;

	while (more) {
		/* Last label first; each step's hash is that of the suffix. */
		for (np = 0; more && np < PROBE_BATCH;) {
			start = label_start(p, end);
			h = hash_label(h, p + start, end - start);
			nlabels++;
			if (start < len && (s->labelmap &
			    (uint64_t)1 << label_bit(nlabels)) != 0) {
				pr[np].start = start;
				pr[np].hash = hash_final(h);
				__builtin_prefetch(&s->slots[pr[np].hash &
				    s->mask]);
				np++;
			}
			if (start == 0)
				more = false;
			else
				end = start - 1;
		}
		for (i = 0; i < np; i++) {
			sl = find_slot(s, p + pr[i].start, len - pr[i].start,
			    pr[i].hash);
			if (sl->off == 0)
				continue;
			cats |= rec_mask(s, sl->off);
			/* Later suffixes are longer: more specific. */
			rule = sl->off;
			rule_len = len - pr[i].start;
			found = true;
		}
	}
	if (m != NULL) {
		m->categories = cats;
		m->rule = found ? (const char *)rec_name(s, (uint32_t)rule) :
		    NULL;
		m->rule_len = rule_len;
	}
	return found;
}

size_t
domainset_count(const struct domainset *s)
{
	return s->count;
}

size_t
domainset_bytes(const struct domainset *s)
{
	return sizeof(struct domainset_builder) + s->arena_cap +
	    (s->mask + 1) * sizeof(struct slot);
}
