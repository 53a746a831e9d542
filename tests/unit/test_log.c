/*
 * test_log.c - the rate limiter of messages caused by outside input.
 */
#include <criterion/criterion.h>

#include "log.h"

Test(log, ratelimited_counts_what_it_held_back)
{
	struct log_limit l = LOG_LIMIT_INIT;
	uint64_t suppressed = 99;
	int i;

	cr_assert(log_ratelimited(&l, 0.001, 2, &suppressed));
	cr_assert_eq(suppressed, 0);
	cr_assert(log_ratelimited(&l, 0.001, 2, &suppressed));
	for (i = 0; i < 5; i++)
		cr_assert_not(log_ratelimited(&l, 0.001, 2, &suppressed));
	l.tokens = 1.0;		/* as if time had refilled one */
	cr_assert(log_ratelimited(&l, 0.001, 2, &suppressed));
	cr_assert_eq(suppressed, 5);
}

/* A caller that does not want the count passes NULL (safehosts does). */
Test(log, ratelimited_takes_null)
{
	struct log_limit l = LOG_LIMIT_INIT;

	cr_assert(log_ratelimited(&l, 0.001, 1, NULL));
	cr_assert_not(log_ratelimited(&l, 0.001, 1, NULL));
}
