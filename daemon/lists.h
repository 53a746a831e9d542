/*
 * lists.h - reading block-list files into a domain set.
 *
 * Two formats are read today, line by line, told apart per line:
 *   hosts    "0.0.0.0 a.example b.example  # comment" - an IPv4 or IPv6
 *            address (an IPv6 zone, "%eth0", is allowed), then one or more
 *            names;
 *   domains  "a.example", or "*.a.example" (the wildcard is the same rule:
 *            every list entry matches its subdomains).
 * '#' starts a comment anywhere, even glued to a name; blank lines, lines
 * starting with '!' (adblock comments) and a leading UTF-8 byte order mark
 * are ignored; tokens are separated by spaces or tabs; lines end in "\n" or
 * "\r\n".  Names are normalised with lists_normalize().  Names a hosts file
 * carries for the machine itself (localhost, broadcasthost, ip6-localhost,
 * ...) and bare addresses (a line that is only an address, or an address
 * where a name should be) are skipped and counted, never added.
 *
 * A line that cannot be read is reported through the error callback as
 * (file, line, reason) and the read carries on; a bad name on a hosts line
 * does not lose the other names on it.  Lines of formats not read yet
 * (adblock "||a.example^", dnsmasq "address=/a.example/", unbound
 * "local-zone:") are reported as such.  Reasons are static strings; line
 * numbers count from 1 and count every line, blank or not.  Only a file that
 * cannot be opened or read fails the call.
 */
#ifndef SG_LISTS_H
#define SG_LISTS_H

#include <stddef.h>

#include "domainset.h"
#include "err.h"

/* Counts are added to, never reset, so one struct can sum many files. */
struct lists_stats {
	size_t	lines;		/* lines read */
	size_t	kept;		/* names added that were new to the set */
	size_t	duplicates;	/* names already in the set */
	size_t	invalid;	/* lines or names reported as errors */
	size_t	skipped;	/* addresses, local names */
};

typedef void lists_error_fn(void *arg, const char *file, size_t line,
    const char *reason);

/*
 * Normalises a name for the set: lower case, one trailing dot removed, and
 * checked: labels of 1-63 bytes from [a-z0-9_-], not starting or ending with
 * '-', at least two labels, a last label that is not all digits (so an IPv4
 * address is never a name), at most 253 bytes.  Reads exactly len bytes (a
 * NUL among them is a bad byte).  Writes it NUL-terminated to out (at least
 * DNS_TEXT_MAX + 1 = 255 bytes).  Returns its length, or a negative sg_err
 * (SG_EMALFORMED, SG_ELIMIT for the length limits) with *reason set to a
 * static message.
 */
int	lists_normalize(const char *in, size_t len, char *out,
	    const char **reason) SG_WUR;

/*
 * Reads one file into category of b, adding to *st (which may be NULL); err
 * may be NULL.  The file is read whole into memory (at most 1 GiB) and
 * freed before the call returns.  Returns 0 or -errno (-ENOENT, -EISDIR,
 * -EFBIG, -ENOMEM, ...; -EINVAL for a category out of range), or the
 * builder's error (SG_ELIMIT when the set is full).
 */
int	lists_read_file(const char *path, unsigned category,
	    struct domainset_builder *b, struct lists_stats *st,
	    lists_error_fn *err, void *arg) SG_WUR;

/*
 * The same over bytes in memory; `label` names them in error reports
 * ("<buffer>" if NULL).  The bytes are only read, never kept.
 */
int	lists_read_buffer(const char *label, const void *buf, size_t len,
	    unsigned category, struct domainset_builder *b,
	    struct lists_stats *st, lists_error_fn *err, void *arg) SG_WUR;

#endif
