/*
 * refmatch.c - the reference matcher of refmatch.h.  No tests here: every
 * file in tests/unit is linked into one Criterion binary, and this one
 * only holds helpers for test_sgdb_ref.c and test_sgdb_file.c.
 */
#include <criterion/criterion.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmatch.h"

struct rent {
	size_t		off, len;	/* into ref->text */
	unsigned	cat, list;
	bool		allow;
};

struct cent {
	uint8_t		sha[SGDB_SHA256_LEN];
	unsigned	cat, list;
};

struct ref {
	bool		 conf[SGDB_MAX_CATEGORIES];
	unsigned	 list_cat[SGDB_MAX_LISTS];
	char		*text;
	size_t		 ntext, text_cap;
	struct rent	*e;
	size_t		 ne, e_cap;
	struct cent	*c;
	size_t		 nc, c_cap;
	bool		 sorted;
};

static void *
xgrow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	while (*cap < need)
		*cap = *cap != 0 ? *cap * 2 : 1024;
	p = realloc(p, *cap * size);
	cr_assert_not_null(p, "out of memory");
	return p;
}

struct ref *
ref_new(void)
{
	struct ref *r = calloc(1, sizeof(*r));

	cr_assert_not_null(r);
	return r;
}

void
ref_free(struct ref *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r->e);
	free(r->c);
	free(r);
}

void
ref_category(struct ref *r, unsigned c, bool confidential)
{
	r->conf[c] = confidential;
}

void
ref_list(struct ref *r, unsigned list, unsigned category)
{
	r->list_cat[list] = category;
}

void
ref_add(struct ref *r, unsigned list, const char *name, size_t len,
    bool allow)
{
	struct rent *e;

	r->text = xgrow(r->text, &r->text_cap, r->ntext + len + 1, 1);
	r->e = xgrow(r->e, &r->e_cap, r->ne + 1, sizeof(*r->e));
	e = &r->e[r->ne++];
	e->off = r->ntext;
	e->len = len;
	e->cat = r->list_cat[list];
	e->list = list;
	e->allow = allow;
	memcpy(r->text + r->ntext, name, len);
	r->text[r->ntext + len] = '\0';
	r->ntext += len + 1;
	r->sorted = false;
}

void
ref_add_hash(struct ref *r, unsigned list, const uint8_t sha[SGDB_SHA256_LEN])
{
	struct cent *c;

	r->c = xgrow(r->c, &r->c_cap, r->nc + 1, sizeof(*r->c));
	c = &r->c[r->nc++];
	memcpy(c->sha, sha, SGDB_SHA256_LEN);
	c->cat = r->list_cat[list];
	c->list = list;
	r->sorted = false;
}

static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
rent_cmp(const void *x, const void *y, void *arg)
{
	const struct rent *a = x, *b = y;
	const char *text = arg;
	int c = name_cmp(text + a->off, a->len, text + b->off, b->len);

	if (c != 0)
		return c;
	if (a->cat != b->cat)
		return a->cat < b->cat ? -1 : 1;
	if (a->allow != b->allow)
		return a->allow ? 1 : -1;
	return a->list < b->list ? -1 : a->list > b->list;
}

static int
cent_cmp(const void *x, const void *y)
{
	const struct cent *a = x, *b = y;
	int c = memcmp(a->sha, b->sha, SGDB_SHA256_LEN);

	if (c != 0)
		return c;
	if (a->cat != b->cat)
		return a->cat < b->cat ? -1 : 1;
	return a->list < b->list ? -1 : a->list > b->list;
}

void
ref_finish(struct ref *r)
{
	if (r->ne > 1)
		qsort_r(r->e, r->ne, sizeof(*r->e), rent_cmp, r->text);
	if (r->nc > 1)
		qsort(r->c, r->nc, sizeof(*r->c), cent_cmp);
	r->sorted = true;
}

/* The first clear entry whose name is not below name, by bisection. */
static size_t
lower_clear(const struct ref *r, const char *name, size_t len)
{
	size_t lo = 0, hi = r->ne, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (name_cmp(r->text + r->e[mid].off, r->e[mid].len, name,
		    len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
lower_conf(const struct ref *r, const uint8_t *sha)
{
	size_t lo = 0, hi = r->nc, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(r->c[mid].sha, sha, SGDB_SHA256_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
ref_sha256(const char *name, size_t len, uint8_t out[SGDB_SHA256_LEN])
{
	SHA256((const unsigned char *)name, len, out);
}

/*
 * Where each label of a listable name starts; 0 if the name cannot be
 * listed.
 */
static size_t
ref_labels(const char *name, size_t len, size_t starts[256])
{
	size_t n = 0, i, from = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (i == from)		/* an empty label */
			return 0;
		if (n == 127)
			return 0;
		starts[n++] = from;
		from = i + 1;
	}
	return n;
}

bool
ref_lookup(const struct ref *r, const char *name, size_t len,
    struct sgdb_match *m)
{
	size_t starts[256], n, i, j, first_block = SIZE_MAX;
	uint64_t blk[256], alw[256];
	unsigned c;

	cr_assert(r->sorted, "ref_lookup before ref_finish");
	memset(m, 0, sizeof(*m));
	n = ref_labels(name, len, starts);
	if (n < 2)
		return false;
	/* Suffix i starts at label i; those of two labels or more. */
	for (i = 0; i + 1 < n; i++) {
		const char *s = name + starts[i];
		size_t slen = len - starts[i];

		blk[i] = alw[i] = 0;
		for (j = lower_clear(r, s, slen); j < r->ne &&
		    name_cmp(r->text + r->e[j].off, r->e[j].len, s, slen) == 0;
		    j++) {
			if (r->e[j].allow)
				alw[i] |= (uint64_t)1 << r->e[j].cat;
			else
				blk[i] |= (uint64_t)1 << r->e[j].cat;
		}
		blk[i] &= ~alw[i];
	}
	/* Per category, the most specific suffix that mentions it decides. */
	for (c = 0; c < SGDB_MAX_CATEGORIES; c++) {
		uint64_t bit = (uint64_t)1 << c;

		for (i = 0; i + 1 < n; i++) {
			if (alw[i] & bit) {
				m->excepted |= bit;
				break;
			}
			if (blk[i] & bit) {
				m->categories |= bit;
				if (i < first_block)
					first_block = i;
				break;
			}
		}
	}
	if (first_block != SIZE_MAX)
		m->rule_len = len - starts[first_block];
	/* Confidential: every suffix, united; the most specific reports. */
	for (i = 0; i + 1 < n; i++) {
		uint8_t sha[SGDB_SHA256_LEN];
		unsigned lowest = UINT32_MAX;
		uint64_t cats = 0;

		ref_sha256(name + starts[i], len - starts[i], sha);
		for (j = lower_conf(r, sha); j < r->nc &&
		    memcmp(r->c[j].sha, sha, SGDB_SHA256_LEN) == 0; j++) {
			cats |= (uint64_t)1 << r->c[j].cat;
			if (r->c[j].list < lowest)
				lowest = r->c[j].list;
		}
		if (cats != 0 && m->confidential == 0) {
			m->list = lowest;
			memcpy(m->hash, sha, SGDB_SHA256_LEN);
		}
		m->confidential |= cats;
	}
	m->categories |= m->confidential;
	return m->categories != 0;
}

void
ref_stats(const struct ref *r, struct sgdb_build_stats st[SGDB_MAX_CATEGORIES])
{
	size_t i, j, nb, na;

	cr_assert(r->sorted, "ref_stats before ref_finish");
	memset(st, 0, SGDB_MAX_CATEGORIES * sizeof(*st));
	/* Runs of one (name, category): blocks sort before allows. */
	for (i = 0; i < r->ne; i = j) {
		nb = na = 0;
		for (j = i; j < r->ne && r->e[j].cat == r->e[i].cat &&
		    name_cmp(r->text + r->e[j].off, r->e[j].len,
		    r->text + r->e[i].off, r->e[i].len) == 0; j++) {
			if (r->e[j].allow)
				na++;
			else
				nb++;
		}
		if (na > 0)
			st[r->e[i].cat].allows++;
		else
			st[r->e[i].cat].entries++;
		st[r->e[i].cat].duplicates += (nb > 0 ? nb - 1 : 0) +
		    (na > 0 ? na - 1 : 0);
	}
	for (i = 0; i < r->nc; i = j) {
		for (j = i; j < r->nc && r->c[j].cat == r->c[i].cat &&
		    memcmp(r->c[j].sha, r->c[i].sha, SGDB_SHA256_LEN) == 0; j++)
			;
		st[r->c[i].cat].entries++;
		st[r->c[i].cat].duplicates += j - i - 1;
	}
}

size_t
ref_entries(const struct ref *r)
{
	size_t i, n = 0;

	cr_assert(r->sorted, "ref_entries before ref_finish");
	for (i = 0; i < r->ne; i++)
		if (i == 0 || name_cmp(r->text + r->e[i].off, r->e[i].len,
		    r->text + r->e[i - 1].off, r->e[i - 1].len) != 0)
			n++;
	for (i = 0; i < r->nc; i++)
		if (i == 0 || memcmp(r->c[i].sha, r->c[i - 1].sha,
		    SGDB_SHA256_LEN) != 0)
			n++;
	return n;
}

const char *
ref_fmt(const struct sgdb_match *m, char *buf, size_t len)
{
	snprintf(buf, len, "{categories %#llx confidential %#llx excepted "
	    "%#llx rule_len %zu list %u hash %02x%02x%02x%02x..}",
	    (unsigned long long)m->categories,
	    (unsigned long long)m->confidential,
	    (unsigned long long)m->excepted, m->rule_len, m->list,
	    m->hash[0], m->hash[1], m->hash[2], m->hash[3]);
	return buf;
}

bool
ref_same(const struct sgdb_match *a, const struct sgdb_match *b)
{
	return a->categories == b->categories &&
	    a->confidential == b->confidential &&
	    a->excepted == b->excepted && a->rule_len == b->rule_len &&
	    a->list == b->list &&
	    memcmp(a->hash, b->hash, SGDB_SHA256_LEN) == 0;
}
