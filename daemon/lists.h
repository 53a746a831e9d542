/*
 * lists.h - reading block-list files, in every format real lists come in,
 * into entries for the set compiler (sgdb).
 *
 * Formats are told apart per line, so a file that mixes them still reads.
 * Lines end in "\n" or "\r\n"; a UTF-8 byte order mark at the very start
 * is ignored; blanks are spaces and tabs; blank lines and lines starting
 * with '#' are comments everywhere.  What is read, per format:
 *
 *   hosts     "0.0.0.0 a.example b.example  # comment": an IPv4 or IPv6
 *             address (an IPv6 zone, "%eth0", is allowed), then names; '#'
 *             starts a comment anywhere, even glued to a name.  A line that
 *             is only an address, an address where a name should be, and
 *             the machine's own names (localhost, broadcasthost,
 *             ip6-localhost, ...) are skipped.
 *   domains   "a.example" (several on a line are several names), and
 *             wildcards "*.a.example", the same rule as "a.example": every
 *             entry matches its subdomains.
 *   adblock   "||a.example^" blocks, "@@||a.example^" is an allow exception.
 *             Accepted forms: "[@@]||[*.]NAME[^[|]][$OPTIONS]" where every
 *             option is one of important, all, document, doc (they change
 *             nothing for a DNS block); "||*.a.example^" is read as
 *             "||a.example^", and a rule without '^' as if it had one.
 *             "!" lines and "[...]" headers ("[Adblock Plus 2.0]") are
 *             comments.  Skipped and counted, as rules a DNS filter cannot
 *             honour: paths ("||a.example/ads"), "|http://..." and other
 *             anchors, '*' or ':' inside the name, regexes and paths
 *             ("/ads/"), cosmetic rules ("a.example##.ad", "#@#", "#?#",
 *             "#$#", "#%#"), "[$...]" modifier rules, and any other
 *             $option (third-party, domain=, script, image, popup,
 *             denyallow, badfilter, dnstype, client, ...: they restrict the
 *             rule, so blocking the whole name would block too much).
 *             Unanchored rules ("ads.", "a.example^", "ads$script") are
 *             skipped only once the file has shown adblock syntax (a "!"
 *             or "[...]" line, a "|", "@@", "/" or cosmetic rule) and are
 *             invalid before that, so garbage in another format is still
 *             reported.  A plain name in an adblock file is a domains line.
 *   dnsmasq   "address=/a.example/[b.example/...]VALUE" blocks when VALUE
 *             is empty (NXDOMAIN), "#", or a sinkhole address (0.0.0.0,
 *             ::, 127.x.x.x, ::1); any other address is a redirect
 *             (skipped); anything else is invalid.  "server=/a.example/"
 *             and "local=/a.example/" with nothing after the last '/' block
 *             (answered locally); with a server after it they forward
 *             (skipped), and "server=1.2.3.4" is an upstream (skipped).  An
 *             empty or "#" domain between slashes is skipped.  Other
 *             "word=..." lines (ipset=, nftset=, ...) are skipped.  Only a
 *             '#' comment may follow the rule.
 *   unbound   "local-zone: "a.example." TYPE" (quotes optional) blocks for
 *             TYPE deny, refuse, static, redirect, always_refuse,
 *             always_nxdomain, always_null, inform_deny, inform_redirect;
 *             transparent, typetransparent, always_transparent, inform,
 *             block_a, noview and nodefault are skipped; another TYPE is
 *             invalid.  "server:", "local-data:" and every other "word:"
 *             line are skipped.
 *   hashed    "sha256:HEX" (64 hex digits, either case; the prefix in any
 *             case), the SHA-256 of the name in lower-case ASCII
 *             (punycode), no trailing dot; only in confidential lists.
 *
 * Names are normalised with lists_normalize() (UTF-8 names are IDNA-encoded
 * to punycode); a name that is an address is skipped, not invalid.
 *
 * A line that cannot be read is reported through the error callback as
 * (file, line, reason): reasons are static strings, lines count from 1 and
 * count every line, blank or not.  The read carries on; a bad name on a
 * hosts or dnsmasq line does not lose the other names on it.  Only a file
 * that cannot be opened or read, or a sink that fails, fails the call.
 *
 * A confidential list holds hashed lines only: any other line that is not
 * blank or a comment ('#' or '!') is invalid (and the reason never quotes
 * it), and a hashed line in a list that is not confidential is invalid too.
 */
#ifndef SG_LISTS_H
#define SG_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define LISTS_SHA256_LEN	32

/* Counts are added to, never reset, so one struct can sum many files. */
struct lists_stats {
	size_t	lines;		/* lines read */
	size_t	entries;	/* block entries given to the sink */
	size_t	allows;		/* allow exceptions given to the sink */
	size_t	invalid;	/* lines or names reported as errors */
	size_t	skipped;	/* addresses, local names, rules a DNS filter
				   cannot honour, unbound "server:" lines */
};

/*
 * Where entries go.  Names are normalised (lower case, no trailing dot,
 * punycode) and NUL-terminated; they are only valid during the call.  A
 * callback returns 0, or a negative sg_err that stops the read and is
 * returned by it (-ENOMEM, SG_ELIMIT).
 */
struct lists_sink {
	int	(*name)(void *arg, const char *name, size_t len, bool allow);
	int	(*hash)(void *arg, const uint8_t sha256[LISTS_SHA256_LEN]);
	void	*arg;
};

typedef void lists_error_fn(void *arg, const char *file, size_t line,
    const char *reason);

/*
 * Normalises a name for the set: lower case, one trailing dot removed, and
 * checked; a name with bytes above 0x7f is read as UTF-8 and IDNA-encoded
 * (UTS #46, nontransitional, NFC) to punycode first ("xn--" labels already
 * in punycode are kept as they are).  Then: labels of 1-63 bytes from
 * [a-z0-9_-], not starting or ending with '-', at least two labels, a last
 * label that is not all digits (so an IPv4 address is never a name), at
 * most 253 bytes.  Reads exactly len bytes (a NUL among them is a bad
 * byte; invalid UTF-8 and names IDNA refuses are bad names).  Writes it
 * NUL-terminated to out (at least DNS_TEXT_MAX + 1 = 255 bytes).  Returns
 * its length, or a negative sg_err (SG_EMALFORMED, SG_ELIMIT for the length
 * limits, -ENOMEM) with *reason set to a static message.
 */
int	lists_normalize(const char *in, size_t len, char *out,
	    const char **reason) SG_WUR;

/*
 * Reads one file into the sink, adding to *st (which may be NULL); err may
 * be NULL.  The file is read whole into memory (at most 1 GiB) and freed
 * before the call returns.  Returns 0 or -errno (-ENOENT, -EISDIR, -EFBIG,
 * -ENOMEM, ...; -EINVAL without sink->name, or without sink->hash for a
 * confidential list), or the sink's error.
 */
int	lists_read_file(const char *path, bool confidential,
	    const struct lists_sink *sink, struct lists_stats *st,
	    lists_error_fn *err, void *arg) SG_WUR;

/*
 * The same over bytes in memory; `label` names them in error reports
 * ("<buffer>" if NULL).  The bytes are only read, never kept.
 */
int	lists_read_buffer(const char *label, const void *buf, size_t len,
	    bool confidential, const struct lists_sink *sink,
	    struct lists_stats *st, lists_error_fn *err, void *arg) SG_WUR;

#endif
