/*
 * nameset.c - see nameset.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nameset.h"

#define NAMESET_NAME_MAX	253

struct entry {
	char		*name;
	size_t		 len;
	unsigned	 tag;
};

struct nameset {
	struct entry	*e;
	size_t		 n, cap;
	bool		 sealed;
};

struct nameset *
nameset_new(void)
{
	return calloc(1, sizeof(struct nameset));
}

void
nameset_free(struct nameset *ns)
{
	size_t i;

	if (ns == NULL)
		return;
	for (i = 0; i < ns->n; i++)
		free(ns->e[i].name);
	free(ns->e);
	free(ns);
}

int
nameset_add(struct nameset *ns, const char *name, size_t len, unsigned tag)
{
	struct entry *grown;
	char *copy;
	size_t cap;

	if (ns->sealed || len == 0 || len > NAMESET_NAME_MAX)
		return -EINVAL;
	if (ns->n == ns->cap) {
		cap = ns->cap ? ns->cap * 2 : 16;
		if ((grown = reallocarray(ns->e, cap, sizeof(*grown))) == NULL)
			return -ENOMEM;
		ns->e = grown;
		ns->cap = cap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(copy, name, len);
	copy[len] = '\0';
	ns->e[ns->n].name = copy;
	ns->e[ns->n].len = len;
	ns->e[ns->n].tag = tag;
	ns->n++;
	return 0;
}

/* Byte order, shorter first on a common prefix: what bsearch needs. */
static int
compare(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return compare(x->name, x->len, y->name, y->len);
}

void
nameset_seal(struct nameset *ns)
{
	size_t i, out;

	if (ns->n > 1)
		qsort(ns->e, ns->n, sizeof(*ns->e), entry_cmp);
	for (i = out = 0; i < ns->n; i++) {
		if (out > 0 && entry_cmp(&ns->e[out - 1], &ns->e[i]) == 0) {
			if (ns->e[i].tag > ns->e[out - 1].tag)
				ns->e[out - 1].tag = ns->e[i].tag;
			free(ns->e[i].name);
			continue;
		}
		ns->e[out++] = ns->e[i];
	}
	ns->n = out;
	ns->sealed = true;
}

size_t
nameset_count(const struct nameset *ns)
{
	return ns != NULL ? ns->n : 0;
}

static const struct entry *
find(const struct nameset *ns, const char *name, size_t len)
{
	size_t lo = 0, hi = ns->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = compare(name, len, ns->e[mid].name, ns->e[mid].len);
		if (c == 0)
			return &ns->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool
nameset_lookup(const struct nameset *ns, const char *name, size_t len,
    struct nameset_match *m)
{
	const struct entry *e;
	size_t off = 0;

	if (ns == NULL || ns->n == 0 || len == 0)
		return false;
	for (;;) {
		if ((e = find(ns, name + off, len - off)) != NULL) {
			m->tag = e->tag;
			m->entry = e->name;
			m->entry_len = e->len;
			return true;
		}
		while (off < len && name[off] != '.')
			off++;
		if (off++ >= len)
			return false;
	}
}
