/*
 * test_queue.c - the reader of the kernel's queue table (queue.h): the
 * lines as net/netfilter/nfnetlink_queue.c writes them, and what is not.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "queue.h"

/* Two queues, as the kernel prints them ("%5u %6u %5u %1u %5u %5u %5u
 * %8u %2d\n"). */
static const char table[] =
    "   41  12345     3 2 65531     7     2    91040  1\n"
    "   42 4294967295     0 2 65531     0     0 4294967295  1\n";

Test(queue_kernel, reads_each_queue)
{
	struct queue_kernel_stats ks;

	cr_assert_eq(queue_kernel_parse(table, 41, &ks), 0);
	cr_assert_eq(ks.waiting, 3);
	cr_assert_eq(ks.full_dropped, 7);
	cr_assert_eq(ks.socket_dropped, 2);
	cr_assert_eq(ks.last_id, 91040);
	cr_assert_eq(queue_kernel_parse(table, 42, &ks), 0);
	cr_assert_eq(ks.waiting, 0);
	cr_assert_eq(ks.last_id, 4294967295u);
}

Test(queue_kernel, a_queue_not_bound)
{
	struct queue_kernel_stats ks;

	cr_assert_eq(queue_kernel_parse(table, 4, &ks), -ENOENT);
	cr_assert_eq(queue_kernel_parse(table, 410, &ks), -ENOENT);
	cr_assert_eq(queue_kernel_parse("", 41, &ks), -ENOENT);
	/* The last line without its newline is still read. */
	cr_assert_eq(queue_kernel_parse("    5 1 0 2 9 1 0 8  1", 5, &ks), 0);
	cr_assert_eq(ks.full_dropped, 1);
}

Test(queue_kernel, refuses_what_the_kernel_does_not_write)
{
	static const char *const bad[] = {
		"   41 1 0 2 9 0 0\n",			/* cut short */
		"   41 1 0 2 9 0 0 8 1 7\n",		/* one too many */
		"   41 1 0 2 9 0 0 8 1x\n",		/* junk */
		"   41 1 0 2 9 0 0 4294967296 1\n",	/* id past 32 bits */
		"   41 1 0 2 9 99999999999999999999 0 8 1\n", /* overflow */
		"   41 1 0 2 9 -1 0 8 1\n",		/* a sign */
	};
	struct queue_kernel_stats ks;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(queue_kernel_parse(bad[i], 41, &ks), -EINVAL,
		    "%s", bad[i]);
	/* A junk line of another queue is no reason to refuse ours. */
	cr_assert_eq(queue_kernel_parse("junk\n   41 1 0 2 9 0 0 8 1\n", 41,
	    &ks), 0);
}
