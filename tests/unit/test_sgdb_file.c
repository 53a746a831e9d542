/*
 * test_sgdb_file.c - sgdb_open() on hostile files.  Damage the checksums
 * catch (truncation, flips, trailing bytes) and, with the checksums made
 * right again, damage only the structural checks can catch: indexes out
 * of range, directories out of order, sections outside the file, counts
 * far too large.  Every one must be refused with the right code and a
 * reason; none may crash (the SAN=1 build runs these too).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "refmatch.h"
#include "sgdb.h"

/* ---------------------------------------------------------------- format */

/*
 * The header as sgdb.c lays it out.  MUST MATCH struct hdr in sgdb.c: the
 * offsets are asserted below, and reseal_is_identity checks that a valid
 * image read through it is unchanged by sgdb_image_seal().
 */
struct t_hdr {
	char		magic[8];
	uint32_t	version, order, hdr_size, ncat, nlists, bits, cbits, pad;
	uint64_t	seed, nkeys, nmasks, nconf, file_size;
	uint64_t	cats_off, lists_off, masks_off, dir_off, keys_off,
			vals_off, cdir_off, conf_off;
	uint64_t	body_sum, hdr_sum;
	uint8_t		reserved[96];
};
_Static_assert(sizeof(struct t_hdr) == 256, "header size");
_Static_assert(offsetof(struct t_hdr, file_size) == 72, "file_size");
_Static_assert(offsetof(struct t_hdr, body_sum) == 144, "body_sum");

struct t_cat {
	char		name[48];
	uint64_t	entries, allows;
	uint32_t	flags, pad;
};
struct t_list {
	char		label[48];
	uint32_t	category, pad;
};
struct t_mask {
	uint64_t	block, allow;
};
struct t_conf {
	uint8_t		sha[32];
	uint32_t	mask, list;
};

/* Makes both checksums right again for the bytes as they are now. */
static void
fix_sums(uint8_t *img, size_t len)
{
	sgdb_image_seal(img, len);
}

/* ---------------------------------------------------------------- helpers */

/*
 * A set with something in every section: clear and confidential
 * categories, exceptions, enough keys for a directory of several bits.
 */
static uint8_t *
good_image(size_t *lenp)
{
	struct sgdb_builder *b = sgdb_builder_new();
	char name[64];
	uint8_t sha[SGDB_SHA256_LEN];
	void *img;
	int i, ads, adult, abuse, la, lb, lc;

	cr_assert_not_null(b);
	sgdb_builder_seed(b, 42);
	ads = sgdb_builder_category(b, "ads", false);
	adult = sgdb_builder_category(b, "adult", false);
	abuse = sgdb_builder_category(b, "abuse", true);
	cr_assert(ads >= 0 && adult >= 0 && abuse >= 0);
	la = sgdb_builder_list(b, (unsigned)ads, "ads.txt");
	lb = sgdb_builder_list(b, (unsigned)adult, "adult.txt");
	lc = sgdb_builder_list(b, (unsigned)abuse, "feed");
	cr_assert(la >= 0 && lb >= 0 && lc >= 0);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "host%d.example%d.com", i, i % 7);
		cr_assert_eq(sgdb_builder_add(b, (unsigned)(i % 2 ? la : lb),
		    name, strlen(name), i % 5 == 0), 0);
	}
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "bad%d.example.org", i);
		ref_sha256(name, strlen(name), sha);
		cr_assert_eq(sgdb_builder_add_hash(b, (unsigned)lc, sha), 0);
	}
	cr_assert_eq(sgdb_builder_finish(b, &img, lenp, NULL), 0);
	sgdb_builder_free(b);
	return img;
}

static uint8_t *
copy_of(const uint8_t *img, size_t len)
{
	uint8_t *c = malloc(len > 0 ? len : 1);

	cr_assert_not_null(c);
	memcpy(c, img, len);
	return c;
}

/* Opens bytes from memory; returns the code and why. */
static int
open_mem(const uint8_t *img, size_t len, char *why, size_t whylen)
{
	struct sgdb *db = (struct sgdb *)0x1;
	int rc;

	why[0] = '\0';
	rc = sgdb_open_image(img, len, &db, why, whylen);
	if (rc == 0) {
		cr_assert_not_null(db);
		/* It opened: whatever it holds, a lookup must be safe. */
		(void)sgdb_lookup(db, "a.b.example.com", 15, NULL);
		sgdb_close(db);
	} else
		cr_expect_null(db, "a refused open left *db set");
	return rc;
}

/* Expects bytes to be refused with code, and a reason. */
static void
refused(const uint8_t *img, size_t len, int code, const char *what)
{
	char why[256];
	int rc = open_mem(img, len, why, sizeof(why));

	cr_expect_eq(rc, code, "%s: got %d (%s), expected %d (%s); why: %s",
	    what, rc, sg_strerror(rc), code, sg_strerror(code), why);
	if (rc != 0)
		cr_expect_gt(strlen(why), 5, "%s: no reason given", what);
}

static struct t_hdr *
hdr(uint8_t *img)
{
	return (struct t_hdr *)img;
}

static char tmpdir[64];

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sgdb-file-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
drop_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/* Writes bytes to a file in tmpdir and opens it with sgdb_open(). */
static int
open_file(const uint8_t *img, size_t len, char *why, size_t whylen)
{
	char path[128];
	struct sgdb *db = NULL;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/set.sgdb", tmpdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(img, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	why[0] = '\0';
	rc = sgdb_open(path, &db, why, whylen);
	if (rc == 0)
		sgdb_close(db);
	else
		cr_expect_null(db);
	return rc;
}

/* ---------------------------------------------------------------- basics */

Test(sgdb_file, reseal_is_identity)
{
	size_t len;
	uint8_t *img = good_image(&len), *c = copy_of(img, len);
	char why[256];

	/* Sealing a valid image changes nothing; the header layout here
	 * agrees with sgdb.c. */
	fix_sums(c, len);
	cr_assert(memcmp(img, c, len) == 0,
	    "sgdb_image_seal() changed a valid image");
	cr_assert_eq(open_mem(c, len, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(hdr(c)->file_size, len);
	free(img);
	free(c);
}

Test(sgdb_file, missing_empty_directory, .init = make_tmpdir,
    .fini = drop_tmpdir)
{
	char path[128], why[256] = "";
	struct sgdb *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/none.sgdb", tmpdir);
	cr_expect_eq(sgdb_open(path, &db, why, sizeof(why)), -ENOENT);
	cr_expect_null(db);
	cr_expect_gt(strlen(why), 0);

	rc = open_file((const uint8_t *)"", 0, why, sizeof(why));
	cr_expect_eq(rc, SG_ETRUNC, "empty: %d %s", rc, why);
	cr_expect_gt(strlen(why), 0);

	why[0] = '\0';
	cr_expect_eq(sgdb_open(tmpdir, &db, why, sizeof(why)), -EINVAL,
	    "a directory");
	cr_expect_null(db);
	cr_expect_gt(strlen(why), 0);

	why[0] = '\0';
	cr_expect_eq(sgdb_open("/dev/null", &db, why, sizeof(why)), -EINVAL,
	    "a device");
	cr_expect_gt(strlen(why), 0);

	/* A good one through the file, too; and why may be NULL. */
	{
		size_t len;
		uint8_t *img = good_image(&len);

		cr_expect_eq(open_file(img, len, why, sizeof(why)), 0, "%s",
		    why);
		cr_expect_eq(open_file(img, len - 1, why, sizeof(why)),
		    SG_ETRUNC);
		snprintf(path, sizeof(path), "%s/set.sgdb", tmpdir);
		cr_expect_eq(sgdb_open(path, &db, NULL, 0), SG_ETRUNC);
		free(img);
	}
	refused((const uint8_t *)"", 0, SG_ETRUNC, "empty image");
}

Test(sgdb_file, truncated_anywhere)
{
	size_t len, i, n = 0;
	uint8_t *img = good_image(&len);
	struct t_hdr *h = hdr(img);
	const uint64_t offs[] = { h->cats_off, h->lists_off, h->masks_off,
	    h->dir_off, h->keys_off, h->vals_off, h->cdir_off, h->conf_off };
	char what[64];

	/* At and around every section boundary. */
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t o;

		for (o = offs[i] - 1; o <= offs[i] + 1; o++) {
			if (o >= len)
				continue;
			snprintf(what, sizeof(what), "cut at %llu",
			    (unsigned long long)o);
			refused(img, (size_t)o, SG_ETRUNC, what);
			n++;
		}
	}
	/* And a sample of every other length, the small ones all. */
	for (i = 0; i < len; i += i < 300 ? 1 : 37) {
		snprintf(what, sizeof(what), "cut at %zu", i);
		refused(img, i, SG_ETRUNC, what);
		n++;
	}
	refused(img, len - 1, SG_ETRUNC, "one byte short");
	cr_log_info("sgdb_file: %zu truncations of %zu bytes", n, len);
	free(img);
}

Test(sgdb_file, every_header_byte_flipped)
{
	size_t len, i;
	uint8_t *img = good_image(&len), *c;
	char what[64];
	int bit;

	for (i = 0; i < sizeof(struct t_hdr); i++)
		for (bit = 0; bit < 8; bit += 7) {
			/* The version is read before the checksum, to name
			 * the problem; a damaged byte-order mark is damage,
			 * only its exact mirror image is the other order. */
			int want = i >= 8 && i < 12 ? SG_EUNSUPP :
			    SG_EMALFORMED;

			c = copy_of(img, len);
			c[i] ^= (uint8_t)(1u << bit);
			snprintf(what, sizeof(what), "header byte %zu bit %d",
			    i, bit);
			refused(c, len, want, what);
			free(c);
		}
	free(img);
}

Test(sgdb_file, a_flip_in_every_section)
{
	size_t len, i;
	uint8_t *img = good_image(&len), *c;
	struct t_hdr *h = hdr(img);
	const uint64_t offs[] = { h->cats_off, h->lists_off, h->masks_off,
	    h->dir_off, h->keys_off, h->vals_off, h->cdir_off, h->conf_off,
	    len - 1 };
	char what[64], why[256];

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		c = copy_of(img, len);
		c[offs[i] + (i + 1 < sizeof(offs) / sizeof(offs[0]) ? 3 : 0)]
		    ^= 0x10;
		snprintf(what, sizeof(what), "flip in section %zu", i);
		refused(c, len, SG_EMALFORMED, what);
		open_mem(c, len, why, sizeof(why));
		cr_expect(strstr(why, "checksum") != NULL, "%s: %s", what,
		    why);
		free(c);
	}
	/* A sample of all the body's bytes. */
	for (i = sizeof(struct t_hdr); i < len; i += 101) {
		c = copy_of(img, len);
		c[i] ^= 0x80;
		snprintf(what, sizeof(what), "flip at %zu", i);
		refused(c, len, SG_EMALFORMED, what);
		free(c);
	}
	free(img);
}

Test(sgdb_file, magic_version_order_trailing)
{
	size_t len;
	uint8_t *img = good_image(&len), *c;
	struct t_hdr *h;
	char why[256];

	c = copy_of(img, len);
	memcpy(c, "\x89SGDX\r\n\x1a", 8);
	fix_sums(c, len);
	refused(c, len, SG_EMALFORMED, "wrong magic");
	free(c);

	c = copy_of(img, len);
	memcpy(c, "\x89SGDB\n\x1a\n", 8);	/* a text-mode transfer */
	refused(c, len, SG_EMALFORMED, "mangled line ends");
	free(c);

	c = copy_of(img, len);
	hdr(c)->version = 2;
	fix_sums(c, len);
	refused(c, len, SG_EUNSUPP, "version 2");
	open_mem(c, len, why, sizeof(why));
	cr_expect(strstr(why, "version 2") != NULL, "%s", why);
	free(c);

	c = copy_of(img, len);
	hdr(c)->version = 0;
	fix_sums(c, len);
	refused(c, len, SG_EUNSUPP, "version 0");
	free(c);

	/* The other byte order: every integer of the header swapped. */
	c = copy_of(img, len);
	h = hdr(c);
	{
		uint32_t *w32 = &h->version;
		uint64_t *w64 = &h->seed;
		int i;

		for (i = 0; i < 8; i++)
			w32[i] = __builtin_bswap32(w32[i]);
		for (i = 0; i < 15; i++)
			w64[i] = __builtin_bswap64(w64[i]);
	}
	refused(c, len, SG_EUNSUPP, "other byte order");
	open_mem(c, len, why, sizeof(why));
	cr_expect(strstr(why, "byte order") != NULL, "%s", why);
	free(c);

	c = malloc(len + 8);
	memcpy(c, img, len);
	memset(c + len, 0, 8);
	refused(c, len + 8, SG_EMALFORMED, "8 trailing bytes");
	refused(c, len + 1, SG_EMALFORMED, "1 trailing byte");
	open_mem(c, len + 1, why, sizeof(why));
	cr_expect(strstr(why, "trailing") != NULL, "%s", why);
	/* ...even when the header is made to agree, the sections are
	 * still where they were: that one is fine. */
	hdr(c)->file_size = len + 8;
	fix_sums(c, len + 8);
	cr_expect_eq(open_mem(c, len + 8, why, sizeof(why)), 0,
	    "slack after the last section, sealed: %s", why);
	free(c);
	free(img);
}

/* ---------------------------------------------------------------- sealed */

/*
 * Damage the checksums cannot catch: each edit is made, the checksums are
 * recomputed, and the open must still refuse.
 */
typedef void (*edit_fn)(uint8_t *img, size_t len);

static uint32_t *
dir_of(uint8_t *img)
{
	return (uint32_t *)(img + hdr(img)->dir_off);
}

static uint32_t *
cdir_of(uint8_t *img)
{
	return (uint32_t *)(img + hdr(img)->cdir_off);
}

static uint64_t *
keys_of(uint8_t *img)
{
	return (uint64_t *)(img + hdr(img)->keys_off);
}

static size_t
slots_of(uint8_t *img)
{
	return (size_t)1 << hdr(img)->bits;
}

/* The first directory slot with two keys or more. */
static size_t
busy_slot(uint8_t *img)
{
	uint32_t *d = dir_of(img);
	size_t s;

	for (s = 0; s < slots_of(img); s++)
		if (d[s + 1] - d[s] >= 2)
			return s;
	cr_assert_fail("no slot holds two keys");
	return 0;
}

static void e_dir_not_monotonic(uint8_t *i, size_t l)
{
	uint32_t *d = dir_of(i);
	size_t s;

	(void)l;
	/* One slot starts after the next one does, inside nkeys. */
	for (s = 1; s + 1 < slots_of(i); s++)
		if (d[s + 1] > d[s]) {
			d[s] = d[s + 1] + 1;
			return;
		}
	cr_assert_fail("no slot to edit");
}
static void e_dir_last_past_nkeys(uint8_t *i, size_t l)
{
	(void)l;
	dir_of(i)[slots_of(i)] = (uint32_t)hdr(i)->nkeys + 1;
}
static void e_dir_mid_past_nkeys(uint8_t *i, size_t l)
{
	uint32_t *d = dir_of(i);
	size_t s;

	(void)l;
	for (s = slots_of(i) / 2; s <= slots_of(i); s++)
		d[s] = 0x7fffffff;
}
static void e_dir_first_not_zero(uint8_t *i, size_t l)
{
	(void)l;
	dir_of(i)[0] = 1;
}
static void e_key_in_wrong_slot(uint8_t *i, size_t l)
{
	uint64_t *k = keys_of(i), t;
	uint64_t n = hdr(i)->nkeys;

	(void)l;
	t = k[0], k[0] = k[n - 1], k[n - 1] = t;
}
static void e_keys_unsorted_in_slot(uint8_t *i, size_t l)
{
	uint64_t *k = keys_of(i), t;
	uint32_t s = dir_of(i)[busy_slot(i)];

	(void)l;
	t = k[s], k[s] = k[s + 1], k[s + 1] = t;
}
static void e_val_past_masks(uint8_t *i, size_t l)
{
	uint32_t *v = (uint32_t *)(i + hdr(i)->vals_off);

	(void)l;
	v[hdr(i)->nkeys - 1] = (uint32_t)hdr(i)->nmasks;
}
static void e_val_huge(uint8_t *i, size_t l)
{
	uint32_t *v = (uint32_t *)(i + hdr(i)->vals_off);

	(void)l;
	v[0] = UINT32_MAX;
}
static void e_conf_list_past_lists(uint8_t *i, size_t l)
{
	struct t_conf *c = (struct t_conf *)(i + hdr(i)->conf_off);

	(void)l;
	c[0].list = hdr(i)->nlists;
}
static void e_conf_mask_past_masks(uint8_t *i, size_t l)
{
	struct t_conf *c = (struct t_conf *)(i + hdr(i)->conf_off);

	(void)l;
	c[hdr(i)->nconf - 1].mask = (uint32_t)hdr(i)->nmasks;
}
static void e_conf_unsorted(uint8_t *i, size_t l)
{
	struct t_conf *c = (struct t_conf *)(i + hdr(i)->conf_off), t;

	(void)l;
	t = c[0], c[0] = c[hdr(i)->nconf - 1], c[hdr(i)->nconf - 1] = t;
}
static void e_cdir_past_nconf(uint8_t *i, size_t l)
{
	(void)l;
	cdir_of(i)[(size_t)1 << hdr(i)->cbits] = (uint32_t)hdr(i)->nconf + 1;
}
static void e_list_category_past_ncat(uint8_t *i, size_t l)
{
	struct t_list *ls = (struct t_list *)(i + hdr(i)->lists_off);

	(void)l;
	ls[1].category = hdr(i)->ncat;
}
static void e_list_label_unterminated(uint8_t *i, size_t l)
{
	struct t_list *ls = (struct t_list *)(i + hdr(i)->lists_off);

	(void)l;
	memset(ls[0].label, 'x', sizeof(ls[0].label));
}
static void e_cat_name_unterminated(uint8_t *i, size_t l)
{
	struct t_cat *c = (struct t_cat *)(i + hdr(i)->cats_off);

	(void)l;
	memset(c[0].name, 'x', sizeof(c[0].name));
}
static void e_cat_name_bad_bytes(uint8_t *i, size_t l)
{
	struct t_cat *c = (struct t_cat *)(i + hdr(i)->cats_off);

	(void)l;
	memcpy(c[1].name, "Ad/ult", 7);
}
static void e_cat_name_empty(uint8_t *i, size_t l)
{
	struct t_cat *c = (struct t_cat *)(i + hdr(i)->cats_off);

	(void)l;
	memset(c[1].name, 0, sizeof(c[1].name));
}
static void e_cat_past_ncat_named(uint8_t *i, size_t l)
{
	struct t_cat *c = (struct t_cat *)(i + hdr(i)->cats_off);

	(void)l;
	memcpy(c[63].name, "ghost", 6);
}
static void e_mask_unknown_category(uint8_t *i, size_t l)
{
	struct t_mask *m = (struct t_mask *)(i + hdr(i)->masks_off);

	(void)l;
	m[0].block |= (uint64_t)1 << 40;
}
static void e_mask_allow_confidential(uint8_t *i, size_t l)
{
	struct t_mask *m = (struct t_mask *)(i + hdr(i)->masks_off);

	(void)l;
	m[0].allow |= (uint64_t)1 << 2;		/* "abuse" */
	m[0].block &= ~((uint64_t)1 << 2);
}
static void e_mask_block_and_allow(uint8_t *i, size_t l)
{
	struct t_mask *m = (struct t_mask *)(i + hdr(i)->masks_off);

	(void)l;
	m[0].block |= 1;
	m[0].allow |= 1;
}
static void e_ncat_65(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->ncat = 65;
}
static void e_nlists_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nlists = SGDB_MAX_LISTS + 1;
}
static void e_nlists_past_section(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nlists = (uint32_t)((l - hdr(i)->lists_off) /
	    sizeof(struct t_list) + 1);
}
static void e_nkeys_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nkeys = (uint64_t)1 << 61;
}
static void e_nkeys_u32_max(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nkeys = UINT32_MAX;
}
static void e_nkeys_one_more(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nkeys++;
}
static void e_nmasks_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nmasks = UINT64_MAX;
}
static void e_nconf_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->nconf = (uint64_t)1 << 35;
}
static void e_nconf_past_end(uint8_t *i, size_t l)
{
	hdr(i)->nconf = (l - hdr(i)->conf_off) / sizeof(struct t_conf) + 1;
}
static void e_bits_31(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->bits = 31;
}
static void e_bits_64(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->bits = 64;
}
static void e_bits_30(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->bits = 30;
}
static void e_bits_one_more(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->bits++;
}
static void e_cbits_one_less(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->cbits = hdr(i)->cbits > 0 ? hdr(i)->cbits - 1 : 1;
}
static void e_keys_off_past_end(uint8_t *i, size_t l)
{
	hdr(i)->keys_off = l + 8;
}
static void e_conf_off_past_end(uint8_t *i, size_t l)
{
	hdr(i)->conf_off = (l & ~(size_t)7) + 64;
}
static void e_keys_off_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->keys_off = UINT64_MAX - 7;
}
static void e_keys_off_unaligned(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->keys_off += 4;
}
static void e_cats_off_in_header(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->cats_off = 0;
}
static void e_masks_off_at_end(uint8_t *i, size_t l)
{
	hdr(i)->masks_off = l & ~(size_t)7;
}
static void e_dir_off_at_end(uint8_t *i, size_t l)
{
	hdr(i)->dir_off = (l - 8) & ~(size_t)7;
}
static void e_hdr_size_small(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->hdr_size = 128;
}
static void e_file_size_zero(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->file_size = 0;
}
static void e_file_size_huge(uint8_t *i, size_t l)
{
	(void)l;
	hdr(i)->file_size = UINT64_MAX;
}

static const struct {
	const char	*what;
	edit_fn		 edit;
	int		 code;
} edits[] = {
	{ "dir not monotonic", e_dir_not_monotonic, SG_EMALFORMED },
	{ "dir ends past nkeys", e_dir_last_past_nkeys, SG_EMALFORMED },
	{ "dir half past nkeys", e_dir_mid_past_nkeys, SG_EMALFORMED },
	{ "dir starts at 1", e_dir_first_not_zero, SG_EMALFORMED },
	{ "a key in the wrong slot", e_key_in_wrong_slot, SG_EMALFORMED },
	{ "keys out of order in a slot", e_keys_unsorted_in_slot,
	    SG_EMALFORMED },
	{ "mask index = nmasks", e_val_past_masks, SG_EMALFORMED },
	{ "mask index huge", e_val_huge, SG_EMALFORMED },
	{ "hashed entry's list = nlists", e_conf_list_past_lists,
	    SG_EMALFORMED },
	{ "hashed entry's mask = nmasks", e_conf_mask_past_masks,
	    SG_EMALFORMED },
	{ "hashed entries out of order", e_conf_unsorted, SG_EMALFORMED },
	{ "cdir ends past nconf", e_cdir_past_nconf, SG_EMALFORMED },
	{ "list's category = ncat", e_list_category_past_ncat,
	    SG_EMALFORMED },
	{ "list label unterminated", e_list_label_unterminated,
	    SG_EMALFORMED },
	{ "category name unterminated", e_cat_name_unterminated,
	    SG_EMALFORMED },
	{ "category name with bad bytes", e_cat_name_bad_bytes,
	    SG_EMALFORMED },
	{ "category name empty", e_cat_name_empty, SG_EMALFORMED },
	{ "a category past ncat named", e_cat_past_ncat_named,
	    SG_EMALFORMED },
	{ "mask names category 40", e_mask_unknown_category, SG_EMALFORMED },
	{ "mask allows a confidential category", e_mask_allow_confidential,
	    SG_EMALFORMED },
	{ "mask blocks and allows one category", e_mask_block_and_allow,
	    SG_EMALFORMED },
	{ "ncat 65", e_ncat_65, SG_EMALFORMED },
	{ "nlists past the limit", e_nlists_huge, SG_EMALFORMED },
	{ "nlists past its section", e_nlists_past_section, SG_EMALFORMED },
	{ "nkeys 2^61", e_nkeys_huge, SG_EMALFORMED },
	{ "nkeys 2^32-1", e_nkeys_u32_max, SG_EMALFORMED },
	{ "nkeys one more", e_nkeys_one_more, SG_EMALFORMED },
	{ "nmasks 2^64-1", e_nmasks_huge, SG_EMALFORMED },
	{ "nconf 2^35", e_nconf_huge, SG_EMALFORMED },
	{ "nconf past the end", e_nconf_past_end, SG_EMALFORMED },
	{ "bits 31", e_bits_31, SG_EMALFORMED },
	{ "bits 64", e_bits_64, SG_EMALFORMED },
	{ "bits 30", e_bits_30, SG_EMALFORMED },
	{ "bits one more", e_bits_one_more, SG_EMALFORMED },
	{ "cbits one less", e_cbits_one_less, SG_EMALFORMED },
	{ "keys past the end", e_keys_off_past_end, SG_EMALFORMED },
	{ "hashed entries past the end", e_conf_off_past_end,
	    SG_EMALFORMED },
	{ "keys at 2^64-8", e_keys_off_huge, SG_EMALFORMED },
	{ "keys unaligned", e_keys_off_unaligned, SG_EMALFORMED },
	{ "categories over the header", e_cats_off_in_header,
	    SG_EMALFORMED },
	{ "masks at the end", e_masks_off_at_end, SG_EMALFORMED },
	{ "dir at the end", e_dir_off_at_end, SG_EMALFORMED },
	{ "header size 128", e_hdr_size_small, SG_EMALFORMED },
	{ "file size 0", e_file_size_zero, SG_EMALFORMED },
	{ "file size 2^64-1", e_file_size_huge, SG_ETRUNC },
};

Test(sgdb_file, sealed_damage_is_refused)
{
	size_t len, i;
	uint8_t *img = good_image(&len), *c;
	struct t_hdr *h = hdr(img);
	char why[256];

	/* The edits need a real directory and hashed entries. */
	cr_assert_geq(h->bits, 3);
	cr_assert_geq(h->nconf, 2);
	cr_assert_gt(h->nmasks, 1);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		c = copy_of(img, len);
		edits[i].edit(c, len);
		cr_assert(memcmp(c, img, len) != 0, "%s: no change",
		    edits[i].what);
		fix_sums(c, len);
		refused(c, len, edits[i].code, edits[i].what);
		/* Caught by a structural check, not by a checksum (sgdb.c
		 * words a bad header size as a checksum mismatch). */
		(void)open_mem(c, len, why, sizeof(why));
		cr_expect(edits[i].edit == e_hdr_size_small ||
		    strstr(why, "checksum") == NULL, "%s: %s", edits[i].what,
		    why);
		free(c);
	}
	free(img);
}

/*
 * BUG (reported to the lead; fails until sgdb.c checks it): open checks
 * that every mask index is in range, not that the mask fits the table
 * that uses it.  A hashed entry whose mask blocks a clear category, or a
 * clear entry whose mask blocks a confidential one, opens, and lookups
 * then break sgdb.h's promises: "confidential" holds a clear category,
 * "excepted" and "categories" share a bit, or a confidential category
 * comes back as a clear hit with the name as its rule (which policy.c
 * then logs).  fuzz_sgdb found the first (an edit of mixed.sgdb); these
 * are the same edits, made on purpose.
 */
static bool
opens_consistent(uint8_t *img, size_t len, const char *name, const char *what)
{
	struct sgdb_category cat;
	struct sgdb_match r;
	struct sgdb *db;
	uint64_t conf = 0;
	unsigned c;
	char why[256];
	int rc;

	fix_sums(img, len);
	if ((rc = sgdb_open_image(img, len, &db, why, sizeof(why))) != 0) {
		cr_expect_eq(rc, SG_EMALFORMED, "%s: %s", what, why);
		return true;
	}
	for (c = 0; c < sgdb_ncategories(db); c++) {
		sgdb_category(db, c, &cat);
		if (cat.confidential)
			conf |= (uint64_t)1 << c;
	}
	(void)sgdb_lookup(db, name, strlen(name), &r);
	sgdb_close(db);
	cr_expect_fail("%s: opened, and %s gives categories %#llx "
	    "confidential %#llx excepted %#llx rule_len %zu, where the "
	    "confidential categories are %#llx", what, name,
	    (unsigned long long)r.categories,
	    (unsigned long long)r.confidential,
	    (unsigned long long)r.excepted, r.rule_len,
	    (unsigned long long)conf);
	return false;
}

Test(sgdb_file, masks_never_cross_confidentiality)
{
	size_t len, k;
	uint8_t *img = good_image(&len), *c;
	struct t_mask *m;
	struct t_conf *cf;
	struct t_hdr *h = hdr(img);
	uint8_t sha[SGDB_SHA256_LEN];
	uint32_t *vals;
	uint64_t i;

	/* 1. Hashed entries point at the mask of a clear block ("ads"). */
	c = copy_of(img, len);
	m = (struct t_mask *)(c + h->masks_off);
	cf = (struct t_conf *)(c + h->conf_off);
	for (k = 0; k < h->nmasks; k++)
		if (m[k].block == 1 && m[k].allow == 0)
			break;
	cr_assert_lt(k, h->nmasks);
	for (i = 0; i < h->nconf; i++)
		cf[i].mask = (uint32_t)k;
	(void)opens_consistent(c, len, "bad3.example.org",
	    "hashed entries with a clear category's mask");
	free(c);

	/* 2. The same with an exception above: "excepted" meets
	 * "categories".  host5.example5.com is an "ads" exception (5 % 5 ==
	 * 0, odd); make its hash a hashed entry of "ads" too. */
	c = copy_of(img, len);
	m = (struct t_mask *)(c + h->masks_off);
	cf = (struct t_conf *)(c + h->conf_off);
	ref_sha256("host5.example5.com", 18, sha);
	for (i = 0; i < h->nconf; i++)
		cf[i].mask = (uint32_t)k;
	/* Keep the digests sorted: replace the one that sorts the same. */
	memcpy(cf[0].sha, sha, sizeof(sha));
	for (i = 1; i < h->nconf && memcmp(cf[i].sha, sha, 32) < 0; i++) {
		struct t_conf t = cf[i];

		cf[i] = cf[i - 1];
		cf[i - 1] = t;
	}
	/* The directory of the digests: rebuilt, one slot per top bits. */
	{
		uint32_t *cd = (uint32_t *)(c + h->cdir_off);
		size_t slots = (size_t)1 << h->cbits, s, j = 0;

		for (s = 0; s < slots; s++) {
			cd[s] = (uint32_t)j;
			while (j < h->nconf && (h->cbits == 0 ||
			    ((uint64_t)cf[j].sha[0] << 56 |
			    (uint64_t)cf[j].sha[1] << 48 |
			    (uint64_t)cf[j].sha[2] << 40 |
			    (uint64_t)cf[j].sha[3] << 32 |
			    (uint64_t)cf[j].sha[4] << 24 |
			    (uint64_t)cf[j].sha[5] << 16 |
			    (uint64_t)cf[j].sha[6] << 8 |
			    (uint64_t)cf[j].sha[7]) >> (64 - h->cbits) == s))
				j++;
		}
		cd[slots] = (uint32_t)h->nconf;
	}
	(void)opens_consistent(c, len, "www.host5.example5.com",
	    "an exception and a hashed block of one clear category");
	free(c);

	/* 3. Clear entries point at a mask that blocks "abuse". */
	c = copy_of(img, len);
	m = (struct t_mask *)(c + h->masks_off);
	vals = (uint32_t *)(c + h->vals_off);
	for (k = 0; k < h->nmasks; k++)
		if (m[k].block == (1u << 2))
			break;
	cr_assert_lt(k, h->nmasks);
	for (i = 0; i < h->nkeys; i++)
		vals[i] = (uint32_t)k;
	(void)opens_consistent(c, len, "host1.example1.com",
	    "clear entries with a confidential category's mask");
	free(c);
	free(img);
}

/*
 * Regressions from fuzz_sgdb, the bytes kept in tests/fuzz/seeds/sgdb/:
 * a hashed entry pointing at a clear category's mask (refused now), and a
 * directory whose slots went past the keys before coming back down (the
 * per-slot checks read keys out of bounds before the order was checked).
 */
Test(sgdb_file, regressions_from_fuzzing)
{
	static const char *const files[] = {
		"tests/fuzz/seeds/sgdb/regress-masks-cross-confidentiality.sgdb",
		"tests/fuzz/seeds/sgdb/regress-directory-out-of-order.sgdb",
	};
	uint8_t buf[65536];
	char why[256];
	size_t i, n;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		f = fopen(files[i], "rb");
		cr_assert_not_null(f, "%s", files[i]);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		cr_assert_gt(n, 0);
		fix_sums(buf, n);	/* as the fuzzer did */
		cr_expect_eq(open_mem(buf, n, why, sizeof(why)), SG_EMALFORMED,
		    "%s: %s", files[i], why);
	}
}
