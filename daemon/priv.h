/*
 * priv.h - safegated's privileges: the user it runs as, the capabilities
 * each of its threads keeps and the system calls each may make.
 *
 * What it promises, once server_run() has called these in this order:
 *
 *   priv_init()      (safegated_main.c) the user to become, looked up
 *                    while name services still work; or -U: nothing below
 *                    changes anything.
 *   priv_own_dir()   for the folders safegated writes in after the switch
 *                    (events, state, control socket): one that is missing
 *                    is made now, 0750 and the user's.
 *   priv_own_file()  the events file and its rotated files are given to
 *                    the user (they are its own data; a folder that was
 *                    already there is never chowned, only checked).
 *   priv_confine()   while the process has one thread: the bounding set
 *                    is cut to CAP_NET_ADMIN and CAP_NET_RAW, no_new_privs
 *                    is set and the base seccomp filter loaded, so that
 *                    every thread and every child inherits them.
 *   priv_drop()      still one thread: it becomes the user (setgroups,
 *                    setresgid, setresuid) keeping CAP_NET_ADMIN and
 *                    CAP_NET_RAW in its permitted, effective, inheritable
 *                    and ambient sets, and CAP_NET_BIND_SERVICE, if it had
 *                    it, in permitted and effective only;
 *   priv_run()       a start step on a short-lived thread of its own,
 *                    named, keeping fewer capabilities (none, or only
 *                    CAP_NET_BIND_SERVICE) and with an added filter: the
 *                    threads it starts inherit all three;
 *   priv_finish()    the main thread lets CAP_NET_BIND_SERVICE go, checks
 *                    what the user must reach, and says what it runs as.
 *   priv_enter()     on a queue worker's own thread: its name and the
 *                    strict filter.
 *
 * The threads, and what each may do (docs/safegated.8, PRIVILEGES):
 *
 *   thread        user      capabilities         seccomp filters
 *   main          safegate  NET_ADMIN NET_RAW    base
 *                           (ambient too: the firewall tools)
 *   sg-queueN     safegate  NET_ADMIN NET_RAW    base + worker
 *   sg-blockpage  safegate  none                 base + blockpage
 *                           (NET_BIND_SERVICE while it binds a port
 *                           below 1024, then let go: priv_shed())
 *   sg-safehosts  safegate  NET_RAW (SO_MARK;    base
 *                           NET_ADMIN too before
 *                           Linux 5.17)
 *   sg-aux        safegate  none                 base
 *     (the event log's writer, which runs the alert command; the
 *     syslog sender)
 *
 * The threads a reload starts (a new syslog sender or alert command, the
 * safe-search resolver) are started the same way, through priv_run():
 * never with the main thread's capabilities.
 *
 * Started as another user (systemd's DynamicUser=, with ambient
 * capabilities), there is no user to switch and the bounding set is cut
 * only if CAP_SETPCAP is held (systemd's CapabilityBoundingSet= has done
 * it); the rest is the same.  Started as root with no such user, safegated
 * stays uid 0, says so, and is confined all the same.
 *
 * Errors are 0 or -errno, for the caller to log (priv_run() logs its
 * own).  Not thread-safe: the start sequence is one thread; priv_enter()
 * and the status functions may run anywhere.
 */
#ifndef SG_PRIV_H
#define SG_PRIV_H

#include <stdbool.h>

#include "err.h"

#define PRIV_USER	"safegate"	/* the default (-u); -U: no switch */

enum priv_filter {
	PRIV_FILTER_NONE,	/* priv_run(): no filter of its own */
	PRIV_FILTER_BASE,	/* every thread and child: a denylist */
	PRIV_FILTER_WORKER,	/* the queue workers: an allowlist */
	PRIV_FILTER_BLOCKPAGE,	/* the block page: an allowlist */
};

enum priv_caps {
	PRIV_CAPS_NONE,		/* none at all */
	PRIV_CAPS_BIND,		/* CAP_NET_BIND_SERVICE alone, if held */
	PRIV_CAPS_MARK,		/* what SO_MARK needs: CAP_NET_RAW alone
				   (Linux 5.17 on), else CAP_NET_ADMIN too */
};

/*
 * user: the user to become when started as root (NULL: PRIV_USER);
 * keep: -U, change nothing (no switch, no capability dropped, no filter).
 * A user that does not exist is no error here: priv_drop() warns and the
 * daemon stays uid 0, confined; a user whose uid is 0 (-u root) is asked
 * for, and not warned of.
 */
void	priv_init(const char *user, bool keep);

/* The parent folder of path: made (with any missing parents) and given to
 * the user if missing; checked for writing after the switch otherwise,
 * with a warning naming what will fail (what: "rotating the events").
 * A failure is logged: what then cannot be written says so itself. */
void	priv_own_dir(const char *path, const char *what);
/* path and, with rotated, its rotated files (evlog_rotated()), given to
 * the user: regular files only, symbolic links never followed. */
void	priv_own_file(const char *path, bool rotated);
/* path must stay readable after the switch: checked then, with a warning
 * naming what will fail (what: "reloading"). */
void	priv_need_read(const char *path, const char *what);

/* Bounding set, no_new_privs, base filter.  One thread only. */
int	priv_confine(void) SG_WUR;
/* The switch: the user, its group, CAP_NET_ADMIN and CAP_NET_RAW (and
 * CAP_NET_BIND_SERVICE until priv_finish()).  One thread only. */
int	priv_drop(void) SG_WUR;
/*
 * Runs fn(arg) on a new thread named name (at most 15 bytes), which first
 * keeps only caps and loads filter; waits for it and returns fn's result
 * (or its own -errno, logged).  The threads fn starts inherit the name,
 * the capabilities and the filters.
 */
int	priv_run(const char *name, enum priv_caps caps,
	    enum priv_filter filter, int (*fn)(void *), void *arg) SG_WUR;
/* CAP_NET_BIND_SERVICE goes; what the user cannot reach is warned of;
 * what it runs as is logged. */
int	priv_finish(void) SG_WUR;
/* The calling thread lets every capability go (the block page's, once
 * its ports are bound).  The filters allow it: it can only lower. */
int	priv_shed(void) SG_WUR;
/* Names the calling thread and loads filter on it. */
int	priv_enter(const char *name, enum priv_filter filter) SG_WUR;

/*
 * Loads filter on the calling thread (and so on what it starts later), as
 * the daemon does; exposed for tests.  0, -ENOTSUP when built without
 * libseccomp, or the kernel's -errno.
 */
int	priv_seccomp_install(enum priv_filter) SG_WUR;

/* Whether the allowlists refuse what they lack: not in a sanitizer build
 * (make SAN=1), whose runtime makes calls of its own, nor in the builds
 * that survey the lists; there they only log. */
bool	priv_allowlists_enforce(void);

/* For safegatectl status: the user name ("root" if it stayed so) and the
 * filters' state: "on", "off (-U)", "off (not built in)" or
 * "off (kernel: REASON)". */
const char *priv_user(void);
const char *priv_seccomp_state(void);

#endif
