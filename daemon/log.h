/*
 * log.h - the one log module.
 *
 * Messages go to stderr (foreground, tests and tools) or to syslog (daemon).
 * Every function keeps errno intact.  log_warn() and fatal() append
 * strerror(errno); the x variants do not.  fatal*() exits with status 1 and is
 * kept for broken invariants and start-up failures, never for bad input from
 * the network: that is rate-limited debug output (log_ratelimited()).
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define SG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* ident: the program name; to_syslog: use syslog instead of stderr. */
void	log_init(const char *ident, bool to_syslog);
void	log_set_level(enum log_level);
bool	log_debug_enabled(void);

void	log_warn(const char *, ...) SG_PRINTF(1, 2);
void	log_warnx(const char *, ...) SG_PRINTF(1, 2);
void	log_info(const char *, ...) SG_PRINTF(1, 2);
void	log_debug(const char *, ...) SG_PRINTF(1, 2);
void	fatal(const char *, ...) SG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) SG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * A token bucket for messages caused by outside input: at most `burst`
 * messages, refilled at `per_sec` a second.  Returns true when the caller may
 * log now.  Thread-safe; suppressed messages are counted, and when a message
 * is let through *suppressed (unless suppressed is NULL) says how many were
 * held back since the last one.
 */
struct log_limit {
	uint64_t	last_ns;
	double		tokens;
	uint64_t	suppressed;
	int		lock;
};
#define LOG_LIMIT_INIT { 0, -1.0, 0, 0 }

bool	log_ratelimited(struct log_limit *, double per_sec, double burst,
	    uint64_t *suppressed);

#endif
