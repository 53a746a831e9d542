/*
 * server.h - safegated's life: start, filter, reload, stop.
 *
 * Start: load the config, build the first snapshot, open the raw sockets
 * and the control socket, bind the queues and start one worker thread a
 * queue, then put the rules up (the queues are bound first, so nothing
 * queued is ever lost to an unbound queue).  Then the main thread waits for
 * signals (SIGHUP reloads; SIGTERM and SIGINT stop) and control requests.
 * A start that fails part-way takes down whatever rules it put up.
 *
 * Stop: the rules come down first, then each worker drains what the kernel
 * already queued, giving every packet its verdict, and only then do the
 * queues close.
 */
#ifndef SG_SERVER_H
#define SG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct server_opts {
	const char	*config_path;	/* NULL: default file or embedded */
	const char	*lists_dir;	/* -L: overrides lists_dir */
	const char	*lists_db;	/* -D: overrides lists_db */
	bool		 foreground;
	bool		 debug;
	/* -T: seconds added to the wall clock for every policy decision
	   (schedules, pauses, allows, event times); 0 normally.  A test
	   clock for the end-to-end tests, never for real use. */
	time_t		 clock_offset;
};

/* Runs the daemon until it is told to stop.  Returns the exit status. */
int	server_run(const struct server_opts *);

#endif
