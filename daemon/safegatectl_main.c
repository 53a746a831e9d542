/*
 * safegatectl - talks to a running safegated.  See safegatectl(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "err.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: safegatectl [-c config | -s socket] command\n"
	    "  -c config  use the control socket this config names (default: "
	    "the\n             config safegated would run on)\n"
	    "  -s socket  use this control socket\n"
	    "commands:\n"
	    "  status   what is running: config, generation, queues, rules\n"
	    "  stats    counters: verdicts by outcome, queue, events\n"
	    "  reload   reload the config and lists (as SIGHUP does)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *path = NULL, *conf = NULL;
	static char reply[CONTROL_REPLY_MAX], sock[CONTROL_REQ_MAX];
	char err[CONFIG_ERR_LEN];
	struct config *cfg;
	int ch, r;

	while ((ch = getopt(argc, argv, "c:s:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (conf != NULL && path != NULL))
		usage();
	if (path == NULL) {
		if ((cfg = config_load(conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "safegatectl: %s\n", err);
			return 1;
		}
		snprintf(sock, sizeof(sock), "%s", cfg->control_socket);
		config_free(cfg);
		path = sock;
	}
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
