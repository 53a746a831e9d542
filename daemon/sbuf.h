/*
 * sbuf.h - text into a fixed buffer the caller owns, with a sticky
 * overflow flag: write everything, check `overflow` once (the buffer then
 * holds a truncated, still NUL-terminated prefix).  No allocation, so the
 * event log can format on the packet path.  Used by the event log, the
 * firewall rules and the replay's lines.
 */
#ifndef SG_SBUF_H
#define SG_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 overflow;
};

/* Starts an empty text in buf (cap bytes; cap 0 is overflowed at once). */
void	sbuf_init(struct sbuf *, char *buf, size_t cap);
void	sbuf_bytes(struct sbuf *, const char *, size_t);
void	sbuf_str(struct sbuf *, const char *);
void	sbuf_printf(struct sbuf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A JSON string, quotes included, from arbitrary bytes: '"' and '\' are
 * escaped, and everything outside printable ASCII is written as \u00XX,
 * so the line stays valid JSON (and UTF-8) whatever the bytes held.
 */
void	sbuf_json_string(struct sbuf *, const char *, size_t);

#endif
