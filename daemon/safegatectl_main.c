/*
 * safegatectl - talks to a running safegated.  See safegatectl(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "control.h"
#include "err.h"

#define DEFAULT_SOCKET	"/run/safegate/control.sock"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: safegatectl [-s socket] command\n"
	    "commands:\n"
	    "  status   what is running: config, generation, queues, rules\n"
	    "  stats    counters: verdicts by outcome, queue, events\n"
	    "  reload   reload the config and lists (as SIGHUP does)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *path = DEFAULT_SOCKET;
	static char reply[CONTROL_REPLY_MAX];
	int ch, r;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	r = control_request(path, argc, argv, reply, sizeof(reply));
	if (r < 0) {
		fprintf(stderr, "safegatectl: %s: %s\n", path, sg_strerror(r));
		return 1;
	}
	/* Drop the "ok" line; keep "error: ..." for the user. */
	if (r == 0)
		fputs(reply + 3, stdout);
	else
		fputs(reply, stderr);
	return r == 0 ? 0 : 1;
}
