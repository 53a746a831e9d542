/*
 * sgdb.c - compiled domain sets.
 *
 * Design.  A router has little memory and a lookup sits in the packet path,
 * so the set is one file that is mapped and used as it lies: no parsing, no
 * allocation, pages shared from the page cache by every process that maps
 * it.  Names are not stored.  Each listed name becomes a 64-bit key, a hash
 * keyed with secrets drawn from the set's seed, computed label by label
 * from the right:
 *
 *	k(com)             = step(seed,            "com")
 *	k(example.com)     = step(k(com),          "example")
 *	k(www.example.com) = step(k(example.com),  "www")
 *
 * so one pass over a name yields the keys of all its suffixes.  The keys
 * are sorted; a directory indexed by a key's top bits gives the run of keys
 * that share them (eight to sixteen), so finding a key reads one directory
 * slot, small enough to stay cached, and one or two adjacent cache lines
 * of keys.  A lookup computes
 * the keys of every suffix of two labels or more, prefetches their
 * directory slots together, then walks them from the most specific: for
 * each category the first entry that mentions it decides, block or allow.
 *
 * Confidential categories cannot use the keyed hash: their lists arrive as
 * SHA-256 digests of names nobody here may read.  They live in a second
 * table of whole digests, sorted, with its own directory over the first
 * eight bytes; a lookup computes the SHA-256 of each suffix only when that
 * table is not empty.
 *
 * Two different names sharing a 64-bit key would merge their entries.  The
 * builder keeps a second 32-bit hash of every name, keyed with another
 * seed, and refuses to finish when two entries share a key but not that
 * check (odds about n^2 / 2^65 of a collision, caught all but 2^-32 of the
 * time); the compiler then starts again with a new seed.
 * A lookup of an unlisted name whose key equals a listed one's (2^-64 per
 * probe) would be blocked; nothing else can go wrong that way.
 *
 * The file, in native byte order (a file of the other order is refused;
 * compile it where it runs), every section 8-byte aligned:
 *
 *	+--------------------------------------------------------------+
 *	| header: magic, version, byte order, counts, section offsets,  |
 *	|         hash seed, file size, checksums of header and body    |
 *	+--------------------------------------------------------------+
 *	| categories[64]  { name[48], entries, allows, flags }          |
 *	| lists[nlists]   { label[48], category }                       |
 *	| masks[nmasks]   { block bits, allow bits }                    |
 *	| dir[2^bits + 1] u32: dir[b] = first key whose top bits are b  |
 *	| keys[nkeys]     u64, ascending                                |
 *	| vals[nkeys]     u32: index into masks                         |
 *	| cdir[2^cbits+1] u32: the same over the digests' first 8 bytes |
 *	| conf[nconf]     { sha256[32], mask index, list }, ascending   |
 *	+--------------------------------------------------------------+
 *
 * Per entry that is 8 + 4 bytes plus a quarter to half a byte of
 * directory.  Opening checks
 * everything a lookup will rely on, so a hostile file is refused at open
 * and a lookup never reads outside the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "atomicfile.h"
#include "sgdb.h"

#define SGDB_MAGIC	"\x89SGDB\r\n\x1a"
#define SGDB_ORDER	0x01020304u
#define NAME_MAX_TEXT	253
#define LABELS_MAX	127
#define CAT_CONFIDENTIAL 0x1u

/* ---------------------------------------------------------------- layout */

struct hdr {
	char		magic[8];
	uint32_t	version;
	uint32_t	order;
	uint32_t	hdr_size;
	uint32_t	ncat;
	uint32_t	nlists;
	uint32_t	bits;		/* directory bits, clear table */
	uint32_t	cbits;		/* directory bits, confidential table */
	uint32_t	pad;
	uint64_t	seed;
	uint64_t	nkeys;
	uint64_t	nmasks;
	uint64_t	nconf;
	uint64_t	file_size;
	uint64_t	cats_off, lists_off, masks_off, dir_off, keys_off,
			vals_off, cdir_off, conf_off;
	uint64_t	body_sum;	/* over [hdr_size, file_size) */
	uint64_t	hdr_sum;	/* over the header with this field 0 */
	uint8_t		reserved[256 - 160];
};

struct cat_rec {
	char		name[SGDB_NAME_MAX + 1];
	uint64_t	entries;
	uint64_t	allows;
	uint32_t	flags;
	uint32_t	pad;
};

struct list_rec {
	char		label[SGDB_NAME_MAX + 1];
	uint32_t	category;
	uint32_t	pad;
};

struct mask_rec {
	uint64_t	block;
	uint64_t	allow;
};

struct conf_rec {
	uint8_t		sha[SGDB_SHA256_LEN];
	uint32_t	mask;
	uint32_t	list;
};

_Static_assert(sizeof(struct hdr) == 256, "header is 256 bytes");
_Static_assert(sizeof(struct cat_rec) == 72, "category record");
_Static_assert(sizeof(struct list_rec) == 56, "list record");
_Static_assert(sizeof(struct conf_rec) == 40, "confidential record");

/* The secrets of one set, derived from its seed. */
struct keys {
	uint64_t	s[3];
};

struct sgdb {
	const uint8_t		*base;
	size_t			 size;
	bool			 mapped;
	const struct hdr	*h;
	const struct cat_rec	*cats;
	const struct list_rec	*lists;
	const struct mask_rec	*masks;
	const uint32_t		*dir;
	const uint64_t		*keys;
	const uint32_t		*vals;
	const uint32_t		*cdir;
	const struct conf_rec	*conf;
	unsigned		 shift, cshift;	/* 64 - bits, or 64 */
	struct keys		 k;
};

/* ---------------------------------------------------------------- hashing */

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define K0	0xa0761d6478bd642full
#define K1	0xe7037ed1a0b428dbull
#define K2	0x8ebc6af09c88c6e3ull
#define K3	0x589965cc75374cc3ull

static inline uint64_t
load_le(const char *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n);	/* n <= 8; the key is defined on the host */
	return w;
}

static void
keys_init(struct keys *k, uint64_t seed)
{
	k->s[0] = mum(seed ^ K0, K1);
	k->s[1] = mum(seed ^ K2, K3);
	k->s[2] = mum(k->s[0] ^ K3, k->s[1] ^ K0);
}

/*
 * The key of label.suffix, given h, the key of suffix.  Every round adds
 * to the state rather than replacing it, so no chosen bytes can wipe out
 * what came before (a multiply by zero would), and the words are mixed
 * with secrets of the set, not public constants.
 */
static inline uint64_t
step(const struct keys *k, uint64_t h, const char *p, size_t n)
{
	h ^= (uint64_t)n * K0;
	while (n > 8) {
		h ^= mum(load_le(p, 8) ^ k->s[0], h ^ k->s[1]);
		p += 8;
		n -= 8;
	}
	h ^= mum(load_le(p, n) ^ k->s[2], h ^ k->s[0]);
	return h ^ mum(h ^ k->s[1], K1);
}

/*
 * Splits name into labels; starts[i] is where label i begins.  Returns the
 * number of labels, or 0 for a name that cannot be listed (empty, too
 * long, too many labels, an empty label).
 */
static size_t
split(const char *name, size_t len, uint16_t starts[LABELS_MAX + 1])
{
	const char *p = name, *end = name + len, *dot;
	size_t n = 0;

	if (len == 0 || len > NAME_MAX_TEXT)
		return 0;
	for (;;) {
		if (n == LABELS_MAX)
			return 0;
		starts[n++] = (uint16_t)(p - name);
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL)
			break;
		if (dot == p || dot + 1 == end)
			return 0;
		p = dot + 1;
	}
	starts[n] = (uint16_t)(len + 1);	/* as if a dot followed */
	return n;
}

/* keys[i] = key of the suffix that starts at label i. */
static void
suffix_keys(const struct keys *k, uint64_t seed, const char *name,
    const uint16_t *starts, size_t n, uint64_t *keys)
{
	uint64_t h = seed;
	size_t i = n;

	while (i-- > 0) {
		h = step(k, h, name + starts[i],
		    (size_t)(starts[i + 1] - starts[i] - 1));
		keys[i] = h;
	}
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* The low-level interface: no EVP context or provider fetch per call. */
static void
sha256(const char *p, size_t n, uint8_t out[SGDB_SHA256_LEN])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, p, n);
	SHA256_Final(out, &c);
}
#pragma GCC diagnostic pop

static inline uint64_t
load_be(const uint8_t *p)
{
	uint64_t w = 0;
	int i;

	for (i = 0; i < 8; i++)
		w = w << 8 | p[i];
	return w;
}

/* A fast checksum for accidental damage, four lanes of 64 bits. */
static uint64_t
checksum(const uint8_t *p, size_t n)
{
	uint64_t a = K0, b = K1, c = K2, d = K3, w[4], len = n;

	for (; n >= 32; p += 32, n -= 32) {
		memcpy(w, p, 32);
		a = mum(a ^ w[0], K1);
		b = mum(b ^ w[1], K2);
		c = mum(c ^ w[2], K3);
		d = mum(d ^ w[3], K0);
	}
	for (; n > 0; p++, n--)
		a = mum(a ^ *p, K1);
	return mum(a ^ mum(b, K0), c ^ mum(d, K2)) ^ len;
}

static uint64_t
hdr_checksum(const struct hdr *h)
{
	struct hdr copy;

	memcpy(&copy, h, sizeof(copy));
	copy.hdr_sum = 0;
	return checksum((const uint8_t *)&copy, sizeof(copy));
}

/* ---------------------------------------------------------------- builder */

struct rec {
	uint64_t	key;
	uint32_t	check;
	uint16_t	list;
	uint8_t		allow;
	uint8_t		pad;
};

struct crec {
	uint8_t		sha[SGDB_SHA256_LEN];
	uint16_t	list;
};

struct sgdb_builder {
	uint64_t	 seed, seed2;
	struct keys	 k, k2;
	struct cat_rec	 cats[SGDB_MAX_CATEGORIES];
	unsigned	 ncat;
	struct list_rec	*lists;
	unsigned	 nlists, lists_cap;
	struct rec	*recs;
	size_t		 nrecs, recs_cap;
	struct crec	*crecs;
	size_t		 ncrecs, crecs_cap;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap != 0 ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -ENOMEM;
		ncap *= 2;
	}
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

struct sgdb_builder *
sgdb_builder_new(void)
{
	struct sgdb_builder *b;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	sgdb_builder_seed(b, seed);
	return b;
}

void
sgdb_builder_seed(struct sgdb_builder *b, uint64_t seed)
{
	b->seed = seed;
	b->seed2 = mum(seed ^ K3, K0) | 1;
	keys_init(&b->k, b->seed);
	keys_init(&b->k2, b->seed2);
}

void
sgdb_builder_free(struct sgdb_builder *b)
{
	if (b == NULL)
		return;
	free(b->lists);
	free(b->recs);
	free(b->crecs);
	free(b);
}

static bool
label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SGDB_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return false;
	return true;
}

/* Bytes of a normalised name: [a-z0-9_-] and the dots between labels. */
static bool
label_ok_dns(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

int
sgdb_builder_category(struct sgdb_builder *b, const char *name,
    bool confidential)
{
	size_t n = strlen(name);
	unsigned i;

	if (!label_ok(name, n))
		return SG_EMALFORMED;
	for (i = 0; i < b->ncat; i++) {
		if (strcmp(b->cats[i].name, name) != 0)
			continue;
		if (!!(b->cats[i].flags & CAT_CONFIDENTIAL) != confidential)
			return SG_ECONFIG;
		return (int)i;
	}
	if (b->ncat == SGDB_MAX_CATEGORIES)
		return SG_ELIMIT;
	memcpy(b->cats[i].name, name, n + 1);
	b->cats[i].flags = confidential ? CAT_CONFIDENTIAL : 0;
	b->ncat++;
	return (int)i;
}

int
sgdb_builder_list(struct sgdb_builder *b, unsigned category,
    const char *label)
{
	size_t cap = b->lists_cap, n;
	struct list_rec *l;
	int rc;

	if (category >= b->ncat)
		return -EINVAL;
	if (b->nlists == SGDB_MAX_LISTS)
		return SG_ELIMIT;
	if ((rc = grow((void **)&b->lists, &cap, b->nlists + 1,
	    sizeof(*b->lists))) < 0)
		return rc;
	b->lists_cap = (unsigned)cap;
	l = &b->lists[b->nlists];
	memset(l, 0, sizeof(*l));
	n = strnlen(label, SGDB_NAME_MAX);
	memcpy(l->label, label, n);
	l->category = category;
	return (int)b->nlists++;
}

static bool
list_confidential(const struct sgdb_builder *b, unsigned list)
{
	return b->cats[b->lists[list].category].flags & CAT_CONFIDENTIAL;
}

int
sgdb_builder_add(struct sgdb_builder *b, unsigned list, const char *name,
    size_t len, bool allow)
{
	uint16_t starts[LABELS_MAX + 1];
	uint64_t k1 = b->seed, k2 = b->seed2;
	size_t n, i;
	struct rec *r;
	int rc;

	if (list >= b->nlists || list_confidential(b, list))
		return -EINVAL;
	/* What lists_normalize() lets through, and nothing else. */
	if ((n = split(name, len, starts)) < 2 || !label_ok_dns(name, len))
		return SG_EMALFORMED;
	for (i = n; i-- > 0;) {
		size_t ll = (size_t)(starts[i + 1] - starts[i] - 1);

		k1 = step(&b->k, k1, name + starts[i], ll);
		k2 = step(&b->k2, k2, name + starts[i], ll);
	}
	if ((rc = grow((void **)&b->recs, &b->recs_cap, b->nrecs + 1,
	    sizeof(*b->recs))) < 0)
		return rc;
	r = &b->recs[b->nrecs++];
	r->key = k1;
	r->check = (uint32_t)(k2 >> 32);
	r->list = (uint16_t)list;
	r->allow = allow;
	r->pad = 0;
	return 0;
}

int
sgdb_builder_add_hash(struct sgdb_builder *b, unsigned list,
    const uint8_t sha[SGDB_SHA256_LEN])
{
	struct crec *r;
	int rc;

	if (list >= b->nlists || !list_confidential(b, list))
		return -EINVAL;
	if ((rc = grow((void **)&b->crecs, &b->crecs_cap, b->ncrecs + 1,
	    sizeof(*b->crecs))) < 0)
		return rc;
	r = &b->crecs[b->ncrecs++];
	memcpy(r->sha, sha, SGDB_SHA256_LEN);
	r->list = (uint16_t)list;
	return 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return (int)x->allow - (int)y->allow;
}

static int
crec_cmp(const void *a, const void *b)
{
	const struct crec *x = a, *y = b;
	int c = memcmp(x->sha, y->sha, SGDB_SHA256_LEN);

	if (c != 0)
		return c;
	return x->list < y->list ? -1 : x->list > y->list;
}

/*
 * Sorts by key: one counting pass on the top 16 bits into a scratch array,
 * then each run (a few dozen records for millions of keys) on its own.
 */
static int
sort_recs(struct rec *r, size_t n)
{
	size_t *count, i, pos;
	struct rec *tmp;
	unsigned bk;

	if (n < 2)
		return 0;	/* qsort() wants a non-NULL array */
	if (n < 4096) {
		qsort(r, n, sizeof(*r), rec_cmp);
		return 0;
	}
	if ((count = calloc(65537, sizeof(*count))) == NULL)
		return -ENOMEM;
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL) {
		free(count);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		count[(r[i].key >> 48) + 1]++;
	for (bk = 1; bk <= 65536; bk++)
		count[bk] += count[bk - 1];
	for (i = 0; i < n; i++) {
		pos = count[r[i].key >> 48]++;
		tmp[pos] = r[i];
	}
	/* count[b] is now the end of run b, which starts at count[b - 1]. */
	for (bk = 0; bk < 65536; bk++) {
		size_t lo = bk == 0 ? 0 : count[bk - 1], hi = count[bk];

		if (hi - lo > 1)
			qsort(tmp + lo, hi - lo, sizeof(*tmp), rec_cmp);
	}
	memcpy(r, tmp, n * sizeof(*r));
	free(tmp);
	free(count);
	return 0;
}

/* Distinct (block, allow) pairs: a small open-addressing table. */
struct masks {
	struct mask_rec	*v;
	uint32_t	*slot;		/* index + 1, 0 = empty */
	size_t		 n, cap, nslots;
};

static int
masks_index(struct masks *m, uint64_t block, uint64_t allow, uint32_t *out)
{
	size_t i, j, ns;
	uint32_t *nslot;
	int rc;

	if (m->n * 2 >= m->nslots) {
		ns = m->nslots != 0 ? m->nslots * 2 : 256;
		if ((nslot = calloc(ns, sizeof(*nslot))) == NULL)
			return -ENOMEM;
		for (i = 0; i < m->n; i++) {
			j = mum(m->v[i].block ^ K0, m->v[i].allow ^ K1) &
			    (ns - 1);
			while (nslot[j] != 0)
				j = (j + 1) & (ns - 1);
			nslot[j] = (uint32_t)i + 1;
		}
		free(m->slot);
		m->slot = nslot;
		m->nslots = ns;
	}
	j = mum(block ^ K0, allow ^ K1) & (m->nslots - 1);
	while (m->slot[j] != 0) {
		const struct mask_rec *v = &m->v[m->slot[j] - 1];

		if (v->block == block && v->allow == allow) {
			*out = m->slot[j] - 1;
			return 0;
		}
		j = (j + 1) & (m->nslots - 1);
	}
	if ((rc = grow((void **)&m->v, &m->cap, m->n + 1, sizeof(*m->v))) < 0)
		return rc;
	m->v[m->n].block = block;
	m->v[m->n].allow = allow;
	m->slot[j] = (uint32_t)m->n + 1;
	*out = (uint32_t)m->n++;
	return 0;
}

static unsigned
dir_bits(size_t n)
{
	unsigned bits = 0;

	/*
	 * Eight to sixteen keys per directory slot: a directory of half a
	 * byte to one byte per entry stays in the caches (512 KiB for a
	 * million names), and a run is one or two adjacent cache lines.
	 */
	while (bits < 30 && ((size_t)1 << (bits + 4)) <= n)
		bits++;
	return bits;
}

static void
fill_dir(uint32_t *dir, unsigned bits, const uint64_t *keys, size_t n,
    size_t stride)
{
	size_t slots = (size_t)1 << bits, b, i = 0;
	unsigned shift = 64 - bits;
	uint64_t k;

	for (b = 0; b < slots; b++) {
		dir[b] = (uint32_t)i;
		while (i < n) {
			k = *(const uint64_t *)((const uint8_t *)keys +
			    i * stride);
			if (bits != 0 && (k >> shift) != b)
				break;
			i++;
		}
	}
	dir[slots] = (uint32_t)n;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int
sgdb_builder_finish(struct sgdb_builder *b, void **imagep, size_t *lenp,
    struct sgdb_build_stats stats[SGDB_MAX_CATEGORIES])
{
	struct sgdb_build_stats st[SGDB_MAX_CATEGORIES];
	struct masks m = { 0 };
	uint64_t *keys = NULL, *ckeys = NULL;
	uint32_t *vals = NULL;
	struct conf_rec *conf = NULL;
	size_t nkeys = 0, nconf = 0, i, j, off;
	unsigned bits, cbits, c;
	struct hdr *h;
	uint8_t *img = NULL;
	int rc;

	memset(st, 0, sizeof(st));
	if (b->nrecs > UINT32_MAX || b->ncrecs > UINT32_MAX)
		return SG_ELIMIT;
	if ((rc = sort_recs(b->recs, b->nrecs)) < 0)
		return rc;
	if (b->ncrecs > 1)
		qsort(b->crecs, b->ncrecs, sizeof(*b->crecs), crec_cmp);

	rc = -ENOMEM;
	if ((keys = malloc((b->nrecs + 1) * sizeof(*keys))) == NULL ||
	    (vals = malloc((b->nrecs + 1) * sizeof(*vals))) == NULL ||
	    (conf = calloc(b->ncrecs + 1, sizeof(*conf))) == NULL ||
	    (ckeys = malloc((b->ncrecs + 1) * sizeof(*ckeys))) == NULL)
		goto out;

	/* Clear entries: one key per run of equal keys. */
	for (i = 0; i < b->nrecs; i = j) {
		uint64_t block = 0, allow = 0, bit;

		for (j = i; j < b->nrecs && b->recs[j].key == b->recs[i].key;
		    j++) {
			if (b->recs[j].check != b->recs[i].check) {
				rc = SG_ELIMIT;	/* two names, one key */
				goto out;
			}
			c = b->lists[b->recs[j].list].category;
			bit = (uint64_t)1 << c;
			if ((b->recs[j].allow ? allow : block) & bit)
				st[c].duplicates++;
			if (b->recs[j].allow)
				allow |= bit;
			else
				block |= bit;
		}
		block &= ~allow;	/* an exception beside its block wins */
		for (c = 0; c < b->ncat; c++) {
			st[c].entries += (block >> c) & 1;
			st[c].allows += (allow >> c) & 1;
		}
		keys[nkeys] = b->recs[i].key;
		if ((rc = masks_index(&m, block, allow, &vals[nkeys])) < 0)
			goto out;
		nkeys++;
	}
	/* Confidential entries: one record per digest. */
	for (i = 0; i < b->ncrecs; i = j) {
		uint64_t mask = 0, bit;

		for (j = i; j < b->ncrecs && memcmp(b->crecs[j].sha,
		    b->crecs[i].sha, SGDB_SHA256_LEN) == 0; j++) {
			c = b->lists[b->crecs[j].list].category;
			bit = (uint64_t)1 << c;
			if (mask & bit)
				st[c].duplicates++;
			mask |= bit;
		}
		for (c = 0; c < b->ncat; c++)
			st[c].entries += (mask >> c) & 1;
		memcpy(conf[nconf].sha, b->crecs[i].sha, SGDB_SHA256_LEN);
		conf[nconf].list = b->crecs[i].list;	/* the lowest id */
		if ((rc = masks_index(&m, mask, 0, &conf[nconf].mask)) < 0)
			goto out;
		ckeys[nconf] = load_be(conf[nconf].sha);
		nconf++;
	}

	bits = dir_bits(nkeys);
	cbits = dir_bits(nconf);
	{
		struct hdr hh;

		memset(&hh, 0, sizeof(hh));
		off = sizeof(hh);
		hh.cats_off = off;
		off += SGDB_MAX_CATEGORIES * sizeof(struct cat_rec);
		hh.lists_off = off;
		off = align8(off + b->nlists * sizeof(struct list_rec));
		hh.masks_off = off;
		off += m.n * sizeof(struct mask_rec);
		hh.dir_off = off;
		off = align8(off + (((size_t)1 << bits) + 1) * 4);
		hh.keys_off = off;
		off += nkeys * 8;
		hh.vals_off = off;
		off = align8(off + nkeys * 4);
		hh.cdir_off = off;
		off = align8(off + (((size_t)1 << cbits) + 1) * 4);
		hh.conf_off = off;
		off += nconf * sizeof(struct conf_rec);
		hh.file_size = off;
		if ((img = calloc(1, off)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		h = (struct hdr *)img;
		*h = hh;
	}
	memcpy(h->magic, SGDB_MAGIC, sizeof(h->magic));
	h->version = SGDB_VERSION;
	h->order = SGDB_ORDER;
	h->hdr_size = sizeof(*h);
	h->ncat = b->ncat;
	h->nlists = b->nlists;
	h->bits = bits;
	h->cbits = cbits;
	h->seed = b->seed;
	h->nkeys = nkeys;
	h->nmasks = m.n;
	h->nconf = nconf;
	for (c = 0; c < b->ncat; c++) {
		b->cats[c].entries = st[c].entries;
		b->cats[c].allows = st[c].allows;
	}
	memcpy(img + h->cats_off, b->cats, sizeof(b->cats));
	if (b->nlists > 0)
		memcpy(img + h->lists_off, b->lists,
		    b->nlists * sizeof(struct list_rec));
	if (m.n > 0)
		memcpy(img + h->masks_off, m.v, m.n * sizeof(struct mask_rec));
	fill_dir((uint32_t *)(img + h->dir_off), bits, keys, nkeys, 8);
	if (nkeys > 0) {
		memcpy(img + h->keys_off, keys, nkeys * 8);
		memcpy(img + h->vals_off, vals, nkeys * 4);
	}
	fill_dir((uint32_t *)(img + h->cdir_off), cbits, ckeys, nconf, 8);
	if (nconf > 0)
		memcpy(img + h->conf_off, conf, nconf * sizeof(*conf));
	sgdb_image_seal(img, h->file_size);

	if (stats != NULL)
		memcpy(stats, st, sizeof(st));
	*imagep = img;
	*lenp = h->file_size;
	img = NULL;
	rc = 0;
out:
	free(img);
	free(keys);
	free(ckeys);
	free(vals);
	free(conf);
	free(m.v);
	free(m.slot);
	return rc;
}

void
sgdb_image_seal(void *image, size_t len)
{
	struct hdr *h = image;

	if (len < sizeof(*h))
		return;
	if (h->hdr_size == sizeof(*h) && h->file_size == len)
		h->body_sum = checksum((uint8_t *)image + sizeof(*h),
		    len - sizeof(*h));
	h->hdr_sum = hdr_checksum(h);
}

int
sgdb_write(const char *path, const void *image, size_t len)
{
	return atomicfile_write(path, image, len, 0644);
}

/* ---------------------------------------------------------------- open */

static int
refuse(char *why, size_t whylen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* True if [off, off + count * size) lies inside the file, 8-aligned. */
static bool
section_ok(const struct sgdb *db, uint64_t off, uint64_t count, size_t size)
{
	if (off % 8 != 0 || off < db->h->hdr_size || off > db->size)
		return false;
	if (count > (db->size - off) / size)
		return false;
	return true;
}

/*
 * A directory of 2^bits slots over n entries starts at 0, ends at n and
 * never goes down, so that every run lies inside the entries.  Checked
 * before any run is read.
 */
static bool
dir_ordered(const uint32_t *dir, unsigned bits, uint64_t n)
{
	size_t slots = (size_t)1 << bits, s;

	if (dir[0] != 0 || dir[slots] != n)
		return false;
	for (s = 0; s < slots; s++)
		if (dir[s] > dir[s + 1])
			return false;
	return true;
}

/* The digests: each in its slot, all ascending. */
static bool
digests_ok(const uint32_t *dir, unsigned bits, const uint8_t *keys,
    size_t stride, uint64_t n)
{
	size_t slots = (size_t)1 << bits, s, i;
	unsigned shift = 64 - bits;
	uint64_t k, prev = 0;

	if (!dir_ordered(dir, bits, n))
		return false;
	for (s = 0; s < slots; s++) {
		for (i = dir[s]; i < dir[s + 1]; i++) {
			k = load_be(keys + i * stride);
			if (bits != 0 && (k >> shift) != s)
				return false;
			if (i > 0 && k < prev)
				return false;
			prev = k;
		}
	}
	return true;
}

/*
 * The keys of the clear table, cheaply enough for millions of them: all
 * keys ascending, and the first and last of each run in their slot, say
 * that every key is in its slot.
 */
static bool
keys_ok(const uint32_t *dir, unsigned bits, const uint64_t *keys, uint64_t n)
{
	size_t slots = (size_t)1 << bits, s;
	unsigned shift = 64 - bits;
	uint64_t i, bad = 0;

	if (!dir_ordered(dir, bits, n))
		return false;
	for (s = 0; s < slots; s++) {
		if (bits != 0 && dir[s] < dir[s + 1] &&
		    ((keys[dir[s]] >> shift) != s ||
		    (keys[dir[s + 1] - 1] >> shift) != s))
			return false;
	}
	for (i = 1; i < n; i++)
		bad |= keys[i] < keys[i - 1];
	return bad == 0;
}

static int
check_image(struct sgdb *db, char *why, size_t whylen)
{
	const struct hdr *h = db->h;
	uint64_t used = 0, conf = 0, i;
	unsigned c;

	if (db->size < sizeof(struct hdr))
		return refuse(why, whylen, SG_ETRUNC,
		    "%zu bytes, shorter than a header: not a compiled set",
		    db->size);
	if (memcmp(h->magic, SGDB_MAGIC, sizeof(h->magic)) != 0)
		return refuse(why, whylen, SG_EMALFORMED,
		    "not a compiled set (bad magic)");
	if (h->order == __builtin_bswap32(SGDB_ORDER))
		return refuse(why, whylen, SG_EUNSUPP, "compiled on a "
		    "machine of the other byte order; compile it here");
	if (h->order != SGDB_ORDER)
		return refuse(why, whylen, SG_EMALFORMED,
		    "the header is damaged (byte order mark)");
	if (h->version != SGDB_VERSION)
		return refuse(why, whylen, SG_EUNSUPP,
		    "format version %u, this program reads version %u; "
		    "compile it again", h->version, SGDB_VERSION);
	if (h->hdr_size != sizeof(struct hdr))
		return refuse(why, whylen, SG_EMALFORMED,
		    "the header is damaged (header size %u)", h->hdr_size);
	if (h->hdr_sum != hdr_checksum(h))
		return refuse(why, whylen, SG_EMALFORMED,
		    "the header is damaged (checksum mismatch)");
	if (h->file_size != db->size)
		return refuse(why, whylen, h->file_size > db->size ?
		    SG_ETRUNC : SG_EMALFORMED, "%zu bytes where the header "
		    "says %llu: %s", db->size,
		    (unsigned long long)h->file_size,
		    h->file_size > db->size ? "truncated" : "trailing bytes");
	if (h->body_sum != checksum(db->base + h->hdr_size,
	    db->size - h->hdr_size))
		return refuse(why, whylen, SG_EMALFORMED,
		    "the body is damaged (checksum mismatch)");

	/* From here on the bytes are what the compiler wrote, unless someone
	 * wrote them on purpose: check every bound a lookup relies on. */
	if (h->ncat > SGDB_MAX_CATEGORIES || h->nlists > SGDB_MAX_LISTS ||
	    h->bits > 30 || h->cbits > 30 || h->nkeys > UINT32_MAX ||
	    h->nconf > UINT32_MAX || h->nmasks > UINT32_MAX)
		return refuse(why, whylen, SG_EMALFORMED, "counts out of range");
	if (!section_ok(db, h->cats_off, SGDB_MAX_CATEGORIES,
	    sizeof(struct cat_rec)) ||
	    !section_ok(db, h->lists_off, h->nlists, sizeof(struct list_rec)) ||
	    !section_ok(db, h->masks_off, h->nmasks, sizeof(struct mask_rec)) ||
	    !section_ok(db, h->dir_off, ((uint64_t)1 << h->bits) + 1, 4) ||
	    !section_ok(db, h->keys_off, h->nkeys, 8) ||
	    !section_ok(db, h->vals_off, h->nkeys, 4) ||
	    !section_ok(db, h->cdir_off, ((uint64_t)1 << h->cbits) + 1, 4) ||
	    !section_ok(db, h->conf_off, h->nconf, sizeof(struct conf_rec)))
		return refuse(why, whylen, SG_EMALFORMED,
		    "a section lies outside the file");
	db->cats = (const void *)(db->base + h->cats_off);
	db->lists = (const void *)(db->base + h->lists_off);
	db->masks = (const void *)(db->base + h->masks_off);
	db->dir = (const void *)(db->base + h->dir_off);
	db->keys = (const void *)(db->base + h->keys_off);
	db->vals = (const void *)(db->base + h->vals_off);
	db->cdir = (const void *)(db->base + h->cdir_off);
	db->conf = (const void *)(db->base + h->conf_off);
	db->shift = 64 - h->bits;
	db->cshift = 64 - h->cbits;
	keys_init(&db->k, h->seed);

	for (c = 0; c < SGDB_MAX_CATEGORIES; c++) {
		const struct cat_rec *r = &db->cats[c];
		size_t n = strnlen(r->name, sizeof(r->name));

		if (n == sizeof(r->name) || (c < h->ncat && !label_ok(r->name,
		    n)) || (c >= h->ncat && n != 0))
			return refuse(why, whylen, SG_EMALFORMED,
			    "category %u has a bad name", c);
		if (c < h->ncat)
			used |= (uint64_t)1 << c;
	}
	for (i = 0; i < h->nlists; i++)
		if (db->lists[i].category >= h->ncat ||
		    strnlen(db->lists[i].label, sizeof(db->lists[i].label)) ==
		    sizeof(db->lists[i].label))
			return refuse(why, whylen, SG_EMALFORMED,
			    "list %llu is damaged", (unsigned long long)i);
	for (c = 0; c < h->ncat; c++)
		if (db->cats[c].flags & CAT_CONFIDENTIAL)
			conf |= (uint64_t)1 << c;
	for (i = 0; i < h->nmasks; i++) {
		const struct mask_rec *r = &db->masks[i];

		if ((r->block | r->allow) & ~used || r->allow & conf ||
		    r->block & r->allow)
			return refuse(why, whylen, SG_EMALFORMED,
			    "category mask %llu is damaged",
			    (unsigned long long)i);
	}
	/* A clear entry never carries a confidential category, and a hashed
	 * one carries only confidential blocks: else a lookup could report
	 * a name in clear for a confidential match, or the reverse. */
	{
		uint32_t top = 0;
		uint64_t mixed = 0;

		for (i = 0; i < h->nkeys; i++)
			top = db->vals[i] > top ? db->vals[i] : top;
		if (h->nkeys > 0 && top >= h->nmasks)
			return refuse(why, whylen, SG_EMALFORMED,
			    "an entry names no mask");
		for (i = 0; conf != 0 && i < h->nkeys; i++)
			mixed |= db->masks[db->vals[i]].block & conf;
		if (mixed != 0)
			return refuse(why, whylen, SG_EMALFORMED,
			    "a clear entry carries a confidential category");
	}
	for (i = 0; i < h->nconf; i++) {
		const struct mask_rec *r;

		if (db->conf[i].mask >= h->nmasks ||
		    db->conf[i].list >= h->nlists)
			return refuse(why, whylen, SG_EMALFORMED,
			    "hashed entry %llu is damaged",
			    (unsigned long long)i);
		r = &db->masks[db->conf[i].mask];
		if (r->block == 0 || r->block & ~conf || r->allow != 0 ||
		    !(r->block & (uint64_t)1 <<
		    db->lists[db->conf[i].list].category))
			return refuse(why, whylen, SG_EMALFORMED,
			    "hashed entry %llu is damaged",
			    (unsigned long long)i);
	}
	if (!keys_ok(db->dir, h->bits, db->keys, h->nkeys) ||
	    !digests_ok(db->cdir, h->cbits, (const uint8_t *)db->conf,
	    sizeof(struct conf_rec), h->nconf))
		return refuse(why, whylen, SG_EMALFORMED,
		    "the key index is damaged");
	return 0;
}

/* Checks the bytes db is given; on failure frees them and db. */
static int
adopt(struct sgdb *db, const void *base, size_t size, struct sgdb **dbp,
    char *why, size_t whylen)
{
	int rc;

	db->base = base;
	db->size = size;
	db->h = base;
	if ((rc = check_image(db, why, whylen)) < 0) {
		sgdb_close(db);
		return rc;
	}
	*dbp = db;
	return 0;
}

int
sgdb_open(const char *path, struct sgdb **dbp, char *why, size_t whylen)
{
	struct sgdb *db;
	struct stat sb;
	void *p;
	int fd, rc;

	*dbp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = -errno;
		return refuse(why, whylen, rc, "%s", strerror(-rc));
	}
	if (fstat(fd, &sb) == -1) {
		rc = -errno;
		close(fd);
		return refuse(why, whylen, rc, "%s", strerror(-rc));
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return refuse(why, whylen, -EINVAL, "not a regular file");
	}
	if ((uintmax_t)sb.st_size < sizeof(struct hdr)) {
		close(fd);
		return refuse(why, whylen, SG_ETRUNC, "%jd bytes, shorter "
		    "than a header: not a compiled set", (intmax_t)sb.st_size);
	}
	if ((uintmax_t)sb.st_size > SIZE_MAX) {
		close(fd);
		return refuse(why, whylen, -EFBIG, "too large");
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	rc = -errno;
	close(fd);
	if (p == MAP_FAILED)
		return refuse(why, whylen, rc, "mmap: %s", strerror(-rc));
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		munmap(p, (size_t)sb.st_size);
		return refuse(why, whylen, -ENOMEM, "out of memory");
	}
	db->mapped = true;
	return adopt(db, p, (size_t)sb.st_size, dbp, why, whylen);
}

int
sgdb_open_image(const void *image, size_t len, struct sgdb **dbp, char *why,
    size_t whylen)
{
	struct sgdb *db;
	void *copy;

	*dbp = NULL;
	/* malloc's alignment is enough for every section. */
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return refuse(why, whylen, -ENOMEM, "out of memory");
	if (len > 0)
		memcpy(copy, image, len);
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		free(copy);
		return refuse(why, whylen, -ENOMEM, "out of memory");
	}
	return adopt(db, copy, len, dbp, why, whylen);
}

void
sgdb_close(struct sgdb *db)
{
	if (db == NULL)
		return;
	if (db->mapped)
		munmap((void *)db->base, db->size);
	else
		free((void *)db->base);
	free(db);
}

/* ---------------------------------------------------------------- lookup */

static inline size_t
slot_of(const struct sgdb *db, uint64_t k)
{
	return db->shift == 64 ? 0 : (size_t)(k >> db->shift);
}

/* The key k in the run [lo, hi) of the keys, or NULL. */
static inline const uint64_t *
find_key(const struct sgdb *db, uint64_t k, uint32_t lo, uint32_t hi)
{
	const uint64_t *p = db->keys + lo, *end = db->keys + hi;

	for (; p < end; p++)
		if (*p >= k)
			return *p == k ? p : NULL;
	return NULL;
}

static const struct conf_rec *
find_conf(const struct sgdb *db, const uint8_t sha[SGDB_SHA256_LEN])
{
	uint64_t k = load_be(sha);
	size_t s = db->cshift == 64 ? 0 : (size_t)(k >> db->cshift);
	const struct conf_rec *p = db->conf + db->cdir[s];
	const struct conf_rec *end = db->conf + db->cdir[s + 1];
	int c;

	for (; p < end; p++) {
		if ((c = memcmp(p->sha, sha, SGDB_SHA256_LEN)) >= 0)
			return c == 0 ? p : NULL;
	}
	return NULL;
}

bool
sgdb_lookup(const struct sgdb *db, const char *name, size_t len,
    struct sgdb_match *m)
{
	uint16_t starts[LABELS_MAX + 1];
	uint64_t keys[LABELS_MAX], decided = 0;
	uint32_t lo[LABELS_MAX], hi[LABELS_MAX];
	struct sgdb_match r;
	const uint64_t *hit;
	size_t n, i;

	memset(&r, 0, sizeof(r));
	if ((n = split(name, len, starts)) < 2)
		goto out;
	suffix_keys(&db->k, db->h->seed, name, starts, n, keys);
	/*
	 * Three passes, so that the memory reads of all the suffixes overlap
	 * instead of waiting on each other: their directory slots, then the
	 * runs of keys those point to, then the compares.
	 */
	for (i = 0; i + 1 < n; i++)
		__builtin_prefetch(&db->dir[slot_of(db, keys[i])]);
	for (i = 0; i + 1 < n; i++) {
		lo[i] = db->dir[slot_of(db, keys[i])];
		hi[i] = db->dir[slot_of(db, keys[i]) + 1];
		if (lo[i] == hi[i])
			continue;
		/* The run, and the values a hit in it would read. */
		__builtin_prefetch(&db->keys[lo[i]]);
		__builtin_prefetch(&db->keys[hi[i] - 1]);
		__builtin_prefetch(&db->vals[lo[i]]);
	}
	for (i = 0; i + 1 < n; i++) {
		const struct mask_rec *mk;
		uint64_t fresh;

		if ((hit = find_key(db, keys[i], lo[i], hi[i])) == NULL)
			continue;
		mk = &db->masks[db->vals[hit - db->keys]];
		fresh = mk->block & ~decided;
		if (fresh != 0 && r.rule_len == 0)
			r.rule_len = len - starts[i];
		r.categories |= fresh;
		r.excepted |= mk->allow & ~decided;
		decided |= mk->block | mk->allow;
	}
	if (db->h->nconf > 0) {
		uint8_t sha[SGDB_SHA256_LEN];
		const struct conf_rec *c;

		for (i = 0; i + 1 < n; i++) {
			sha256(name + starts[i], len - starts[i], sha);
			if ((c = find_conf(db, sha)) == NULL)
				continue;
			if (r.confidential == 0) {
				r.list = c->list;
				memcpy(r.hash, c->sha, SGDB_SHA256_LEN);
			}
			r.confidential |= db->masks[c->mask].block;
		}
		r.categories |= r.confidential;
	}
out:
	if (m != NULL)
		*m = r;
	return r.categories != 0;
}

/* ---------------------------------------------------------------- about */

uint32_t
sgdb_version(const struct sgdb *db)
{
	return db->h->version;
}

size_t
sgdb_bytes(const struct sgdb *db)
{
	return db->size;
}

size_t
sgdb_entries(const struct sgdb *db)
{
	return (size_t)(db->h->nkeys + db->h->nconf);
}

unsigned
sgdb_ncategories(const struct sgdb *db)
{
	return db->h->ncat;
}

int
sgdb_category_id(const struct sgdb *db, const char *name)
{
	unsigned c;

	for (c = 0; c < db->h->ncat; c++)
		if (strcmp(db->cats[c].name, name) == 0)
			return (int)c;
	return -1;
}

void
sgdb_category(const struct sgdb *db, unsigned id, struct sgdb_category *out)
{
	const struct cat_rec *r = &db->cats[id];

	out->name = r->name;
	out->confidential = r->flags & CAT_CONFIDENTIAL;
	out->entries = (size_t)r->entries;
	out->allows = (size_t)r->allows;
}

unsigned
sgdb_nlists(const struct sgdb *db)
{
	return db->h->nlists;
}

void
sgdb_list(const struct sgdb *db, unsigned id, struct sgdb_list *out)
{
	out->label = db->lists[id].label;
	out->category = db->lists[id].category;
}
