#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "safegate";
static bool log_syslog;
static enum log_level log_level = LOG_LEVEL_INFO;

void
log_init(const char *ident, bool to_syslog)
{
	log_ident = ident;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_debug_enabled(void)
{
	return log_level >= LOG_LEVEL_DEBUG;
}

static void vlog(int, const char *, va_list, int)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int prio, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (errnum)
			syslog(prio, "%s: %s", msg, strerror(errnum));
		else
			syslog(prio, "%s", msg);
	} else {
		if (errnum)
			fprintf(stderr, "%s: %s: %s\n", log_ident, msg,
			    strerror(errnum));
		else
			fprintf(stderr, "%s: %s\n", log_ident, msg);
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, errnum);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, errnum);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool
log_ratelimited(struct log_limit *l, double per_sec, double burst,
    uint64_t *suppressed)
{
	uint64_t t;
	bool ok;

	while (__atomic_exchange_n(&l->lock, 1, __ATOMIC_ACQUIRE))
		;
	t = now_ns();
	if (l->tokens < 0)
		l->tokens = burst;
	else
		l->tokens += (double)(t - l->last_ns) / 1e9 * per_sec;
	if (l->tokens > burst)
		l->tokens = burst;
	l->last_ns = t;
	ok = l->tokens >= 1.0;
	if (ok) {
		l->tokens -= 1.0;
		if (suppressed != NULL)
			*suppressed = l->suppressed;
		l->suppressed = 0;
	} else
		l->suppressed++;
	__atomic_store_n(&l->lock, 0, __ATOMIC_RELEASE);
	return ok;
}
