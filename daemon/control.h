/*
 * control.h - the unix socket safegatectl talks to.
 *
 * SOCK_SEQPACKET, so message boundaries are the protocol: the client sends
 * one request of at most CONTROL_REQ_MAX bytes (a command word and its
 * arguments, ASCII, separated by blanks), and gets one reply of at most
 * CONTROL_REPLY_MAX bytes: "ok\n" or "error: ...\n", followed by the
 * command's text.  Requests are served one at a time by the daemon's main
 * thread.
 *
 * Who may do what.  The socket is mode 0660, owned by the daemon's user and
 * by group CONTROL_GROUP ("safegate") when that group exists (else the
 * daemon's group; and a daemon that is neither root nor a member cannot
 * give it that group: a warning, and it keeps its own); a folder
 * control_open() creates for it is 0750 with the same group.  Anyone the file permissions let connect may run the
 * read-only commands (control_changes_state() false: status, stats,
 * explain, overrides).  Every other command word, the state-changing ones
 * (pause, allow, resume, reload) and any word not known to be read-only,
 * needs a privileged peer (control_peer_may_change(): uid 0, the daemon's
 * own euid, or CONTROL_GROUP as the primary or a supplementary group, from
 * SO_PEERCRED and SO_PEERGROUPS).  control_serve() enforces this itself
 * before the handler runs, so a new command cannot forget it: it is
 * privileged until added to the read-only table in control.c.  A peer
 * whose credentials cannot be read gets no reply.
 *
 * Wire format, requests (DEVICE: a config device name, a MAC or an IP
 * address; NAME: a domain name; UNTIL and AT: decimal seconds since the
 * epoch, UTC; safegatectl turns durations and local times into those, as
 * it runs on the daemon's machine and clock):
 *
 *   status                     what is running (key value lines)
 *   stats                      counters (name value lines)
 *   reload                     reload config and lists, as SIGHUP does
 *   pause DEVICE UNTIL         DEVICE gets nothing but always_allow until
 *                              UNTIL (replaces an earlier pause's UNTIL)
 *   allow DEVICE NAME UNTIL    NAME and its subdomains unblocked for DEVICE
 *                              until UNTIL
 *   resume DEVICE [all]        ends DEVICE's pause; with "all", also its
 *                              temporary allows
 *   explain DEVICE NAME [AT]   the decision for NAME from DEVICE, now or at
 *                              AT, and every reason for it
 *   overrides                  the live pauses and allows
 *
 * The daemon checks now < UNTIL <= now + OVERRIDES_SPAN_MAX (30 days) and
 * normalises DEVICE and NAME as overrides.h says.  Reply bodies after
 * "ok\n":
 *   pause, allow, resume, explain: free text for people, printed as is
 *     (safegatectl prints its own confirmation of pause and allow first);
 *   overrides: state-file lines, "pause KEY UNTIL" and "allow KEY NAME
 *     UNTIL" (overrides_format()), which safegatectl shows in local time;
 *     nothing when there are none.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* "allow", a 63-byte key, a 253-byte name and an until fit. */
#define CONTROL_REQ_MAX		512
/* A full overrides listing (OVERRIDES_FORMAT_MAX) fits. */
#define CONTROL_REPLY_MAX	(128 * 1024)
#define CONTROL_GROUP		"safegate"
/* Words in a request, the command word included; more are dropped. */
#define CONTROL_ARGS_MAX	8

struct control;

/* A growing reply buffer handed to the command handler. */
struct control_reply {
	char	*buf;
	size_t	 len, cap;
	bool	 failed;	/* the handler reports an error */
};

void	control_printf(struct control_reply *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS). */
struct control_peer {
	uid_t	uid;
	gid_t	gid;		/* primary group */
	pid_t	pid;
	bool	in_group;	/* the socket's group (CONTROL_GROUP) is its
				   primary or a supplementary group */
	bool	privileged;	/* uid 0, the daemon's euid, or in_group */
};

/* Whether the peer may run commands that change state. */
bool	control_peer_may_change(const struct control_peer *);

/* Whether a command word needs a privileged peer: true for every word but
   the read-only ones (status, stats, explain, overrides). */
bool	control_changes_state(const char *word);

/*
 * argv[0] is the command word; argc >= 1.  peer is valid during the call;
 * when control_changes_state(argv[0]), peer->privileged is true.
 */
typedef void control_handler(void *arg, const struct control_peer *peer,
    int argc, char **argv, struct control_reply *);

/*
 * Listens on path (replacing a stale socket), mode 0660, group
 * CONTROL_GROUP when it exists.  NULL and errno.
 */
struct control *control_open(const char *path);
/* The same with another group (NULL: none; tests use an existing group). */
struct control *control_open_group(const char *path, const char *group);
void	control_close(struct control *);	/* also unlinks the socket */
int	control_fd(const struct control *);

/*
 * Accepts one connection, reads its peer's credentials, and serves its
 * request: a state-changing command from an unprivileged peer gets "error:
 * ... needs root or group safegate" without the handler.  0 or -errno.
 */
int	control_serve(struct control *, control_handler *, void *arg);

/*
 * Client side: sends one request (argv joined by spaces) and writes the
 * reply into buf.  Returns 0 if the daemon said "ok", 1 if it said
 * "error", or -errno if it could not be reached.
 */
int	control_request(const char *path, int argc, char **argv, char *buf,
	    size_t len) SG_WUR;

/* Splits a request into words, in place.  Returns argc (0 if empty). */
int	control_split(char *req, char **argv, int max);

#endif
