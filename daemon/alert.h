/*
 * alert.h - a parent's own alert command, run for every critical
 * indicator (issue 6): email, a push service, whatever the command does.
 *
 * The command (config alert.command, an absolute path) is started with
 * posix_spawn(), no shell and no arguments, with the alert's JSON summary
 * on its standard input, /dev/null as its standard output and safegated's
 * standard error as its own.  Nothing here waits for it: the JSON goes
 * into the pipe at once (a summary is far smaller than a pipe's buffer)
 * and the child is reaped later by alert_reap(), which the caller runs
 * now and then.  A child still running after ALERT_TIMEOUT seconds is
 * killed.
 *
 * Rate limit: at most one alert per `interval` seconds; alerts in between
 * are not run but counted (alert_suppressed()), so the next summary can
 * say how many were held back.  At most ALERT_CHILDREN children run at
 * once; past that an alert is refused and counted as failed, so a command
 * that hangs can never pile up processes.
 *
 * One thread only (the event log's writer): no locking.
 */
#ifndef SG_ALERT_H
#define SG_ALERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define ALERT_CHILDREN	4
#define ALERT_TIMEOUT	60	/* seconds a command may run */
#define ALERT_JSON_MAX	4096	/* bytes of a summary */

struct alert;

struct alert_stats {
	uint64_t	run;		/* commands started */
	uint64_t	suppressed;	/* held back by the rate limit */
	uint64_t	failed;		/* could not start, too many running,
					   or exited non-zero or killed */
};

/* NULL and errno (EINVAL: not an absolute path). */
struct alert *alert_new(const char *command, unsigned interval);
/* Reaps or kills what still runs, then frees. */
void	alert_free(struct alert *);

/*
 * Runs the command with json (len bytes, at most ALERT_JSON_MAX) on its
 * standard input, if the rate limit allows.  Returns 1 when it started it,
 * 0 when the rate limit held it back, or a negative sg_err (-E2BIG,
 * -EAGAIN: ALERT_CHILDREN already running, or posix_spawn()'s error).
 */
int	alert_fire(struct alert *, const char *json, size_t len, time_t now)
	    SG_WUR;

/* Alerts held back since the last one that ran. */
uint64_t alert_suppressed(const struct alert *);

/* Reaps finished children and kills those past ALERT_TIMEOUT; never
 * blocks. */
void	alert_reap(struct alert *, time_t now);

void	alert_get_stats(const struct alert *, struct alert_stats *);

#endif
