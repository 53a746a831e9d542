/*
 * report.h - the parents' digest: `safegatectl report`.
 *
 * Reads the events file (and its rotated siblings) line by line through
 * jsonl.h and sums up, per device, over a window of days:
 *
 *   what was blocked, by category     block events (kind dns, tls, ...)
 *   the risk indicators, explained    kind "indicator"
 *   the trend, day by day             both, by local calendar day
 *   abuse-list hits, first of all     a confidential block (name null,
 *                                     rule "hash:...", "list") or the
 *                                     indicator "abuse-list"
 *
 * and writes it as text (a terminal), HTML (one self-contained page, no
 * scripts, nothing fetched, prints cleanly) or JSON (a stable summary),
 * always ending with the UK's help and reporting routes.  Lines of kind
 * "log" and "hold" are bookkeeping (evlog.h), except that the log's own
 * "lost" (count) and "recovered" events in the window are said in the
 * header.  Severities rank critical > warning > notice (or "info").
 *
 * The events file is evidence that someone may have tampered with, and
 * device names come from DHCP, so every byte from it is hostile: a line
 * that is not a well-formed event is counted ("N lines could not be
 * read") and skipped; everything printed from the log is escaped for its
 * output (terminal controls, HTML, JSON); tables have hard caps
 * (REPORT_DEVICES_MAX, ...) past which events are counted, not stored.
 * The name of a confidential match is never printed, even if a line
 * carries one: only its list and rule hash, which identify the entry for
 * the police without disclosing the list.
 *
 * Memory: a struct report owns copies of everything it keeps.
 */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "err.h"

#define REPORT_DEVICES_MAX	256
#define REPORT_CATEGORIES_MAX	64	/* per device */
#define REPORT_NAMES_MAX	256	/* distinct names tracked per device */
#define REPORT_INDICATORS_MAX	32	/* distinct indicators per device */
#define REPORT_ABUSE_MAX	64	/* abuse-list records listed */
#define REPORT_STRING_MAX	256	/* bytes kept of any string */
#define REPORT_DAYS_MAX		366	/* the longest window */

enum report_format { REPORT_TEXT, REPORT_HTML, REPORT_JSON };

struct report;

/*
 * An empty report over events with from <= ts <= to (epoch seconds;
 * from < to, at most REPORT_DAYS_MAX days apart), for one device only if
 * device is not NULL (matched against the device's name, MAC or address;
 * copied).  NULL and errno (EINVAL, ENOMEM).
 */
struct report	*report_new(time_t from, time_t to, const char *device);
void		 report_free(struct report *);

/* One line of an events file, without its newline.  Never fails: a line
   that cannot be read is counted. */
void		 report_add_line(struct report *, const char *line,
		    size_t len);
/*
 * Every line of the file at path.  A compressed file (gzip, xz, zstd) is
 * skipped and counted.  0, or -errno if it cannot be opened or read.
 */
int		 report_add_file(struct report *, const char *path) SG_WUR;

/* Writes the report.  0, or -errno (EIO) if the stream failed. */
int		 report_write(const struct report *, enum report_format,
		    FILE *) SG_WUR;

struct report_counts {
	uint64_t	lines;		/* non-blank lines read */
	uint64_t	unreadable;	/* malformed or not an event */
	uint64_t	events;		/* in the window (and device) */
	uint64_t	outside;	/* well-formed, outside the window */
	uint64_t	bookkeeping;	/* kinds "log" and "hold" */
	uint64_t	not_stored;	/* past a cap: counted, not shown */
	unsigned	files, compressed;
	size_t		devices;
};
void		 report_counts(const struct report *, struct report_counts *);

/*
 * What the report holds for one device (its name, else MAC, else
 * address): blocks in a category (category NULL: blocks in all), or
 * indicators of an id (NULL: all).  0 for an unknown device.
 */
uint64_t	 report_blocked(const struct report *, const char *device,
		    const char *category);
uint64_t	 report_indicators(const struct report *, const char *device,
		    const char *indicator);
/* Abuse-list records kept for the urgent section, after merging. */
size_t		 report_abuse_count(const struct report *);

/*
 * `safegatectl report [options]`, argv[0] being "report":
 *   -c FILE             the config that names the events file
 *   --since DURATION    Nd or Nw (whole local days, today included) or
 *                       Nh; default 7d, at most 366d
 *   --device NAME       one device (name, MAC or address)
 *   --format text|html|json
 *   --events FILE...    these files instead of the config's events file
 *                       and its rotated siblings PATH.*
 *   --now EPOCH         the time the report is made at (tests)
 *   -o FILE             write there instead of stdout
 * Returns the exit status: 0, 1 (a file could not be read), 2 (usage).
 * `config` is the global -c of safegatectl, or NULL; a -c after
 * "report" wins.
 */
int		 report_main_config(const char *config, int argc,
		    char **argv);
/* The same with no global -c. */
int		 report_main(int argc, char **argv);

#endif
