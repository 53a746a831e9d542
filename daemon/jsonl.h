/*
 * jsonl.h - a small, strict reader of one flat JSON object: a line of the
 * events file.
 *
 * The events file is read back by `safegatectl report` and is a file
 * anyone with access to the disk may have edited, so this reader treats
 * every byte as hostile.  It takes exactly the shapes evlog.c writes and
 * refuses everything else:
 *
 *   { "key": VALUE, ... }     one object, keys unique, nothing after it
 *   VALUE  := string | number | true | false | null | [ string, ... ]
 *
 * Strings must be valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) with no raw control characters; escapes are the eight of
 * RFC 8259 and \uXXXX, where a surrogate must come as a high-low pair.
 * Decoded values are UTF-8, NUL-terminated, and may hold U+0000 (evlog
 * writes any byte of a name as \u00XX): use the length, not strlen().
 * Keys may not hold U+0000.  Numbers follow RFC 8259's grammar.
 *
 * Hard limits, all checked before anything is stored: the line
 * (JSONL_LINE_MAX bytes), the fields (JSONL_FIELDS_MAX), array elements
 * in all (JSONL_ITEMS_MAX), a key (JSONL_KEY_MAX bytes decoded) and a
 * number (JSONL_NUMBER_MAX characters).  Nothing is allocated while
 * parsing: a struct jsonl holds a fixed arena that every decoded string
 * fits in, because a decoded string plus its NUL is never longer than the
 * quoted text it came from.
 *
 *   struct jsonl
 *   +--------------------------------------------------------------+
 *   | fields[0..n): key, type, value (points into arena) or items  |
 *   | items[0..m):  array elements (point into arena)              |
 *   | arena: "ts\0" "2026-..\0" "kind\0" "dns\0" "categories\0" .. |
 *   +--------------------------------------------------------------+
 *
 * Errors (0 or negative, err.h): SG_ETRUNC the line ends inside the object
 * (a write cut short); SG_EMALFORMED bytes that break the grammar, or a
 * key given twice; SG_EUNSUPP valid JSON this reader does not take (a
 * nested object, an array of anything but strings); SG_ELIMIT a limit
 * above.  After an error the object is empty: every getter says absent.
 *
 * Memory: the caller owns the struct (jsonl_new()/jsonl_free()).  Every
 * pointer a getter returns points into it and is valid until the next
 * jsonl_parse() or jsonl_free().  The input line is not kept.
 */
#ifndef SG_JSONL_H
#define SG_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define JSONL_LINE_MAX		16384	/* bytes, without the newline */
#define JSONL_FIELDS_MAX	32
#define JSONL_ITEMS_MAX		64	/* array elements, all arrays */
#define JSONL_KEY_MAX		64	/* bytes of a decoded key */
#define JSONL_NUMBER_MAX	32	/* characters of a number */

enum jsonl_type {
	JSONL_ABSENT,		/* no such key */
	JSONL_NULL,
	JSONL_FALSE,
	JSONL_TRUE,
	JSONL_NUMBER,
	JSONL_STRING,
	JSONL_ARRAY,		/* of strings */
};

struct jsonl;

/* An empty object, or NULL and errno. */
struct jsonl	*jsonl_new(void);
void		 jsonl_free(struct jsonl *);

/*
 * Parses len bytes (one line, without its newline; a final "\r" is
 * whitespace) into j, replacing what it held.  0 or a negative sg_err.
 */
int		 jsonl_parse(struct jsonl *j, const void *line, size_t len)
		    SG_WUR;
/* Where the last jsonl_parse() stopped: the offset of the first byte it
   could not take (len when the line ended too soon), or 0 after success. */
size_t		 jsonl_error_offset(const struct jsonl *);

/* The fields in the order of the line; key i is NUL-terminated. */
size_t		 jsonl_nfields(const struct jsonl *);
const char	*jsonl_key(const struct jsonl *, size_t i);

enum jsonl_type	 jsonl_type(const struct jsonl *, const char *key);
/* A string's decoded bytes (NUL-terminated) and length, or NULL if key is
   absent or not a string.  len may be NULL. */
const char	*jsonl_string(const struct jsonl *, const char *key,
		    size_t *len);
/* A number's text as written, or NULL. */
const char	*jsonl_number(const struct jsonl *, const char *key,
		    size_t *len);
/* True if key is an integer 0..UINT64_MAX written without fraction or
   exponent ("12", not "12.0" or "1e3"). */
bool		 jsonl_u64(const struct jsonl *, const char *key, uint64_t *);
/* True if key is true or false. */
bool		 jsonl_bool(const struct jsonl *, const char *key, bool *);
/* An array's length (0 if key is absent or not an array), and its
   element i (NULL past the end). */
size_t		 jsonl_array_len(const struct jsonl *, const char *key);
const char	*jsonl_array_string(const struct jsonl *, const char *key,
		    size_t i, size_t *len);

#endif
