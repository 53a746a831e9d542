/*
 * control.h - the unix socket safegatectl talks to.
 *
 * SOCK_SEQPACKET, so message boundaries are the protocol: the client sends
 * one request of at most CONTROL_REQ_MAX bytes (a command word and its
 * arguments, ASCII), and gets one reply of at most CONTROL_REPLY_MAX bytes:
 * "ok\n" or "error: ...\n", followed by the command's text.  Only root and
 * the daemon's own user may connect (SO_PEERCRED); others get no reply.
 * Requests are served one at a time by the daemon's main thread.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CONTROL_REQ_MAX		256
#define CONTROL_REPLY_MAX	65536

struct control;

/* A growing reply buffer handed to the command handler. */
struct control_reply {
	char	*buf;
	size_t	 len, cap;
	bool	 failed;	/* the handler reports an error */
};

void	control_printf(struct control_reply *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* argv[0] is the command word; argc >= 1. */
typedef void control_handler(void *arg, int argc, char **argv,
    struct control_reply *);

/* Listens on path (replacing a stale socket).  NULL and errno. */
struct control *control_open(const char *path);
void	control_close(struct control *);	/* also unlinks the socket */
int	control_fd(const struct control *);

/* Accepts one connection and serves its request.  0 or -errno. */
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
