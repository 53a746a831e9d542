/*
 * control.h - the unix socket safegatectl talks to.
 *
 * SOCK_SEQPACKET, so message boundaries are the protocol: the client sends
 * one request of at most CONTROL_REQ_MAX bytes (a command word and its
 * arguments, ASCII, separated by blanks), and gets one reply of at most
 * CONTROL_REPLY_MAX bytes: "ok\n" or "error: ...\n", followed by the
 * command's text.  Requests are served one at a time by the daemon's main
 * thread, which never waits on a client.
 *
 * Hard bounds, so that no client (slow, silent, hostile or just many)
 * can hold the main thread or the socket:
 *   - at most CONTROL_CLIENTS_MAX connections open at once.  When one
 *     more comes, the oldest that has not sent its request is closed to
 *     make room (counted as evicted): a flood of connections that send
 *     nothing cannot keep a well-behaved client out, it only pushes out
 *     its own; a request already waiting is served first, never evicted
 *     (and one evicted unread, in the instant between its client's
 *     connect() and send(), control_request() sends again);
 *   - a client has CONTROL_DEADLINE_MS from its accept to send its
 *     request: then it is closed without a reply (counted as a timeout);
 *   - a request is one message of at most CONTROL_REQ_MAX bytes, no NUL:
 *     a longer one, or one holding a NUL, gets "error: ..." (counted as
 *     bad);
 *   - at most CONTROL_ACCEPT_BATCH connections are taken per
 *     control_serve(), so a flood of them cannot keep the main thread
 *     from its signals; the rest wait in the listen backlog
 *     (CONTROL_BACKLOG), where connect() waits for room;
 *   - a reply is sent without waiting: one the client's socket cannot
 *     take at once is lost (counted as a send error).
 * Every one of these is counted (control_get_stats()) and logged, rate-
 * limited, with the running count.  The control socket has no fail-open
 * or fail-closed setting: whatever happens to it, the packet path, which
 * runs on the workers' threads, is untouched, and a refused client is
 * told so (an error reply) or sees its connection closed.
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
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* "allow", a 63-byte key, a 253-byte name and an until fit. */
#define CONTROL_REQ_MAX		512
/* A full overrides listing (OVERRIDES_FORMAT_MAX) fits. */
#define CONTROL_REPLY_MAX	(128 * 1024)
#define CONTROL_GROUP		"safegate"
/* Words in a request, the command word included; more are dropped. */
#define CONTROL_ARGS_MAX	8
/* Connections open at once (control_set_limits() may lower it). */
#define CONTROL_CLIENTS_MAX	16
/* From a connection's accept to its whole request, milliseconds. */
#define CONTROL_DEADLINE_MS	1000
/* Connections accepted per control_serve() call, at most. */
#define CONTROL_ACCEPT_BATCH	64
/* listen(2) backlog: connections waiting to be accepted. */
#define CONTROL_BACKLOG		64
/* control_request()'s tries again for a request closed unread. */
#define CONTROL_RETRIES		4

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

/*
 * The descriptor to poll for POLLIN: readable whenever control_serve()
 * has something to do (a connection to accept, a request that came, a
 * client past its deadline).  It is not the listening socket itself.
 */
int	control_fd(const struct control *);

/*
 * Does what is ready, without waiting on any client: serves every request
 * that has come, closes the clients past their deadline, and accepts the
 * connections waiting (up to CONTROL_ACCEPT_BATCH), reading each peer's
 * credentials as it is accepted and serving its request at once if it is
 * there already.  A state-changing command from an unprivileged peer gets
 * "error: ... needs root or group safegate" without the handler.  Returns
 * the number of replies sent (0 when nothing was ready), or -errno when
 * accepting failed for a reason of our own (EMFILE...): then accepting
 * pauses for a moment, counted as a failed accept.
 */
int	control_serve(struct control *, control_handler *, void *arg);

/* Counters, for the thread that calls control_serve() (the handler may
 * report them). */
struct control_stats {
	uint64_t	accepted;	/* connections taken */
	uint64_t	served;		/* replies sent, errors included */
	uint64_t	refused;	/* state-changing commands refused to an
					   unprivileged peer */
	uint64_t	bad;		/* requests too long or holding a NUL,
					   empty, or peers without readable
					   credentials */
	uint64_t	timeouts;	/* closed: no request by the deadline */
	uint64_t	evicted;	/* closed to make room for a newer one */
	uint64_t	send_errors;	/* replies the client could not take */
	uint64_t	accept_errors;	/* accept(2) failed for want of fds or
					   memory */
	size_t		clients;	/* connections open now (asked from
					   the handler: the asking one too) */
};

void	control_get_stats(const struct control *, struct control_stats *);

/*
 * Lowers the bounds (tests): max_clients in 1..CONTROL_CLIENTS_MAX,
 * deadline_ms >= 1; 0 keeps the current value.
 */
void	control_set_limits(struct control *, unsigned max_clients,
	    unsigned deadline_ms);

/*
 * Client side: sends one request (argv joined by spaces) and writes the
 * reply into buf.  Returns 0 if the daemon said "ok", 1 if it said
 * "error", or -errno if it could not be reached.  A request the daemon
 * closed without reading (evicted from a table full of newer clients, in
 * the moment between this connect() and send()) is sent again, up to
 * CONTROL_RETRIES times, 10 ms apart and doubling; one it may have read
 * never is.
 */
int	control_request(const char *path, int argc, char **argv, char *buf,
	    size_t len) SG_WUR;

/* Splits a request into words, in place.  Returns argc (0 if empty). */
int	control_split(char *req, char **argv, int max);

#endif
