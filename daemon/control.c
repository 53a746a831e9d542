/*
 * control.c - see control.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

/* Linux 4.13; older headers lack the name, older kernels the option. */
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* How long accepting pauses after accept(2) failed for want of fds. */
#define ACCEPT_PAUSE_MS	100

/*
 * Design.  The main thread polls one descriptor, control_fd(): an epoll
 * set holding the listening socket, a timerfd and every open client.  It
 * is readable when any of them is: a connection waiting, a request come,
 * or the timer, armed for the oldest client's deadline (or the end of a
 * pause in accepting).  control_serve() then scans the few client slots
 * and never blocks: every socket here is non-blocking.
 *
 *	listening fd --accept--> clients[0..max)  --request--> handler
 *	                          fd, deadline, seq, peer        reply, close
 *	timerfd: the earliest deadline     a full table: the oldest silent
 *	                                   client is evicted for the new one
 */
struct client {
	int			 fd;		/* -1: a free slot */
	uint64_t		 deadline;	/* monotonic ms */
	uint64_t		 seq;		/* accept order */
	struct control_peer	 peer;
};

struct control {
	int		 fd;		/* listening */
	int		 ep;		/* epoll: fd, timer and the clients */
	int		 timer;		/* timerfd, CLOCK_MONOTONIC */
	char		*path;
	bool		 has_group;	/* group_name names an existing group */
	gid_t		 group;
	char		 group_name[64];
	unsigned	 max_clients;
	unsigned	 deadline_ms;
	uint64_t	 next_seq;
	uint64_t	 paused_until;	/* accepting paused (ms), or 0 */
	struct control_stats st;
	struct client	 clients[CONTROL_CLIENTS_MAX];
};

static struct log_limit control_limit = LOG_LIMIT_INIT;

/*
 * The commands anyone who can connect may run.  Everything else needs a
 * privileged peer: a command added to the server without being added here
 * is privileged, which is the safe way to forget.
 */
static const char *const read_only[] = {
	"status", "stats", "explain", "overrides",
};

bool
control_changes_state(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
		if (strcmp(word, read_only[i]) == 0)
			return false;
	return true;
}

bool
control_peer_may_change(const struct control_peer *p)
{
	return p != NULL && p->privileged;
}

void
control_printf(struct control_reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len + 1 >= r->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->len += (size_t)n < r->cap - r->len ? (size_t)n :
	    r->cap - r->len - 1;
}

static int
fill_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Adds fd to the epoll set, for reading. */
static int
watch(struct control *c, int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	return epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) == -1 ? -errno : 0;
}

struct control *
control_open(const char *path)
{
	return control_open_group(path, CONTROL_GROUP);
}

struct control *
control_open_group(const char *path, const char *group)
{
	struct sockaddr_un sun;
	struct control *c;
	struct group *gr;
	char dir[sizeof(sun.sun_path)], *slash;
	bool made_dir = false;
	size_t i;
	int r, saved;

	if ((r = fill_sun(&sun, path)) < 0) {
		errno = -r;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = c->ep = c->timer = -1;
	c->max_clients = CONTROL_CLIENTS_MAX;
	c->deadline_ms = CONTROL_DEADLINE_MS;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		c->clients[i].fd = -1;
	if ((c->path = strdup(path)) == NULL)
		goto fail;
	/* No such group is no error: the socket keeps the daemon's group,
	   and root and the daemon's user can still use it. */
	if (group != NULL)
		snprintf(c->group_name, sizeof(c->group_name), "%s", group);
	if (group != NULL && (gr = getgrnam(group)) != NULL) {
		c->has_group = true;
		c->group = gr->gr_gid;
	} else if (group != NULL)
		log_debug("control: no group %s: the socket keeps the "
		    "daemon's group", group);
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == 0)
			made_dir = true;
		else if (errno != EEXIST)
			goto fail;
	}
	/* The group must be able to reach the socket: a folder made here
	   gets it too (one that was there is the admin's to set). */
	if (made_dir && c->has_group && chown(dir, (uid_t)-1, c->group) == -1)
		log_warn("control: chown %s to group %s", dir, group);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		goto fail;
	/* A socket left by a daemon that died is stale: nobody listens. */
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		errno = EADDRINUSE;
		goto fail;
	}
	(void)unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	if (chmod(path, 0660) == -1)
		goto fail;
	if (c->has_group && chown(path, (uid_t)-1, c->group) == -1)
		log_warn("control: chown %s to group %s", path, group);
	if (listen(c->fd, CONTROL_BACKLOG) == -1)
		goto fail;
	/* Non-blocking only now: the probe above must wait for a live
	   daemon's answer, not mistake a full backlog for a stale socket. */
	if ((r = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, r | O_NONBLOCK) == -1)
		goto fail;
	if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (c->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1 || watch(c, c->fd) < 0 ||
	    watch(c, c->timer) < 0)
		goto fail;
	return c;
fail:
	saved = errno;
	if (c->fd != -1)
		close(c->fd);
	if (c->ep != -1)
		close(c->ep);
	if (c->timer != -1)
		close(c->timer);
	free(c->path);
	free(c);
	errno = saved;
	return NULL;
}

void
control_close(struct control *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (c->clients[i].fd != -1)
			close(c->clients[i].fd);
	close(c->fd);
	close(c->ep);
	close(c->timer);
	(void)unlink(c->path);
	free(c->path);
	free(c);
}

int
control_fd(const struct control *c)
{
	return c->ep;
}

void
control_get_stats(const struct control *c, struct control_stats *st)
{
	*st = c->st;
}

void
control_set_limits(struct control *c, unsigned max_clients,
    unsigned deadline_ms)
{
	if (max_clients > 0 && max_clients <= CONTROL_CLIENTS_MAX)
		c->max_clients = max_clients;
	if (deadline_ms > 0)
		c->deadline_ms = deadline_ms;
}

int
control_split(char *req, char **argv, int max)
{
	char *save, *w;
	int argc = 0;

	for (w = strtok_r(req, " \t\n", &save); w != NULL && argc < max;
	    w = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = w;
	return argc;
}

/*
 * Whether the peer has group g among its supplementary groups, as they
 * were when it connected.  A kernel without SO_PEERGROUPS (before 4.13)
 * leaves the primary group only.
 */
static bool
peer_has_group(int fd, gid_t g)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	size_t i, n;
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		/* ERANGE: len now says how much the list needs. */
		if (errno != ERANGE || len == 0 ||
		    len > (socklen_t)(NGROUPS_MAX * sizeof(gid_t)) ||
		    (groups = malloc(len)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) == -1) {
			free(groups);
			return false;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == g;
	if (groups != small)
		free(groups);
	return found;
}

static bool
read_peer(struct control *c, int fd, struct control_peer *p)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    clen != sizeof(cred))
		return false;
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	p->in_group = c->has_group && (cred.gid == c->group ||
	    peer_has_group(fd, c->group));
	p->privileged = cred.uid == 0 || cred.uid == geteuid() || p->in_group;
	return true;
}

/* A word from the peer, fit to quote in a log line: printable ASCII. */
static const char *
quotable(const char *w, char *buf, size_t len)
{
	size_t i;

	for (i = 0; w[i] != '\0' && i + 1 < len; i++)
		buf[i] = w[i] > ' ' && w[i] < 0x7f ? w[i] : '?';
	buf[i] = '\0';
	return buf;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * One warning line for an outside client's doing, rate-limited, with the
 * running count, so that the log says how much even when it says little.
 */
static void
note(const char *what, uint64_t total)
{
	uint64_t suppressed = 0;

	if (log_ratelimited(&control_limit, 1, 5, &suppressed))
		log_warnx("control: %s (%" PRIu64 " so far%s%.0" PRIu64 "%s)",
		    what, total, suppressed ? "; " : "", suppressed,
		    suppressed ? " lines not logged" : "");
}

static void
drop_client(struct control *c, struct client *cl)
{
	(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	cl->fd = -1;
	c->st.clients--;
}

/* Sends the reply without waiting, and closes the client. */
static void
reply(struct control *c, struct client *cl, const char *buf, size_t len)
{
	if (send(cl->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		c->st.send_errors++;
		note("a reply the client could not take", c->st.send_errors);
	}
	c->st.served++;
	drop_client(c, cl);
}

/* "error: TEXT" for a request that never reached the handler. */
static void
reply_error(struct control *c, struct client *cl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(struct control *c, struct client *cl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	memcpy(buf, "error: ", 7);
	va_start(ap, fmt);
	n = vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	reply(c, cl, buf, 7 + ((size_t)n < sizeof(buf) - 7 ? (size_t)n :
	    sizeof(buf) - 8));
}

/* Runs a well-formed request and replies. */
static void
run(struct control *c, struct client *cl, char *req, control_handler *handler,
    void *arg)
{
	const struct control_peer *peer = &cl->peer;
	struct control_reply r;
	char *argv[CONTROL_ARGS_MAX], *out, word[33];
	uint64_t suppressed;
	int argc;

	if ((out = malloc(CONTROL_REPLY_MAX)) == NULL) {
		reply_error(c, cl, "out of memory\n");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.buf = out;
	r.cap = CONTROL_REPLY_MAX;
	control_printf(&r, "ok\n");	/* rewritten below on failure */
	argc = control_split(req, argv, CONTROL_ARGS_MAX);
	if (argc == 0) {
		r.failed = true;
		c->st.bad++;
		control_printf(&r, "empty request\n");
	} else if (control_changes_state(argv[0]) &&
	    !control_peer_may_change(peer)) {
		r.failed = true;
		c->st.refused++;
		quotable(argv[0], word, sizeof(word));
		control_printf(&r, "'%s' is not a read-only command: it "
		    "needs root or group %s%s (you are uid %u)\n", word,
		    c->has_group ? c->group_name : CONTROL_GROUP,
		    c->has_group ? "" : ", which does not exist here",
		    (unsigned)peer->uid);
		/* "%.0llu" writes nothing for 0. */
		if (log_ratelimited(&control_limit, 1, 5, &suppressed))
			log_warnx("control: refused '%s' to uid %u pid %d"
			    " (%" PRIu64 " so far%s%.0llu%s)", word,
			    (unsigned)peer->uid, (int)peer->pid,
			    c->st.refused, suppressed ? "; " : "",
			    (unsigned long long)suppressed,
			    suppressed ? " lines not logged" : "");
	} else
		handler(arg, peer, argc, argv, &r);
	if (r.failed) {
		/* "ok\n" becomes "error: " + the handler's text. */
		char *tmp = malloc(CONTROL_REPLY_MAX);

		if (tmp != NULL) {
			snprintf(tmp, CONTROL_REPLY_MAX, "error: %s",
			    out + 3);
			free(out);
			out = tmp;
			r.len = strlen(out);
		}
	}
	reply(c, cl, out, r.len);
	free(out);
}

/*
 * Reads the client's request if it has come, and serves it.  Returns true
 * when the client is done with (served, or gone), false while it has sent
 * nothing yet.
 */
static bool
try_request(struct control *c, struct client *cl, control_handler *handler,
    void *arg)
{
	char req[CONTROL_REQ_MAX + 1];
	ssize_t n;

	/* One byte more than allowed, and MSG_TRUNC's true length, tell an
	   over-long request apart. */
	n = recv(cl->fd, req, sizeof(req), MSG_TRUNC | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return false;
	if (n <= 0) {			/* hung up, or reset */
		drop_client(c, cl);
		return true;
	}
	if (n > CONTROL_REQ_MAX) {
		c->st.bad++;
		note("a request too long", c->st.bad);
		reply_error(c, cl, "the request is longer than %d bytes\n",
		    CONTROL_REQ_MAX);
		return true;
	}
	if (memchr(req, '\0', (size_t)n) != NULL) {
		c->st.bad++;
		note("a request holding a NUL byte", c->st.bad);
		reply_error(c, cl, "the request holds a NUL byte\n");
		return true;
	}
	req[n] = '\0';
	run(c, cl, req, handler, arg);
	return true;
}

/*
 * A free slot for a new client: when every slot is taken, the oldest
 * client is served if its request is there, else evicted.
 */
static struct client *
free_slot(struct control *c, control_handler *handler, void *arg)
{
	struct client *oldest = NULL;
	size_t i;

	for (i = 0; i < c->max_clients; i++) {
		if (c->clients[i].fd == -1)
			return &c->clients[i];
		if (oldest == NULL || c->clients[i].seq < oldest->seq)
			oldest = &c->clients[i];
	}
	if (!try_request(c, oldest, handler, arg)) {
		c->st.evicted++;
		note("closed a silent client to make room for a new one",
		    c->st.evicted);
		drop_client(c, oldest);
	}
	return oldest;
}

/* Accepts what is waiting, up to CONTROL_ACCEPT_BATCH; 0 or -errno. */
static int
accept_some(struct control *c, uint64_t now, control_handler *handler,
    void *arg)
{
	struct client *cl;
	int sndbuf = CONTROL_REPLY_MAX + 4096;
	int fd, n, err;

	for (n = 0; n < CONTROL_ACCEPT_BATCH; n++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			err = errno;
			if (err == EAGAIN || err == EWOULDBLOCK ||
			    err == EINTR || err == ECONNABORTED)
				return 0;
			/* Out of descriptors or memory: the listening socket
			   stays readable, so stop watching it for a moment
			   rather than spin. */
			c->st.accept_errors++;
			if (log_ratelimited(&control_limit, 1, 5, NULL))
				log_warnx("control: accept: %s (%" PRIu64
				    " so far); pausing %d ms", strerror(err),
				    c->st.accept_errors, ACCEPT_PAUSE_MS);
			(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->paused_until = now + ACCEPT_PAUSE_MS;
			return -err;
		}
		c->st.accepted++;
		cl = free_slot(c, handler, arg);
		cl->fd = fd;
		cl->seq = c->next_seq++;
		cl->deadline = now + c->deadline_ms;
		c->st.clients++;
		if (!read_peer(c, fd, &cl->peer)) {
			c->st.bad++;
			note("a client whose credentials could not be read",
			    c->st.bad);
			cl->fd = -1;
			c->st.clients--;
			close(fd);
			continue;
		}
		/* A datagram larger than the send buffer is refused
		   (EMSGSIZE): make room for the largest reply. */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf));
		if (watch(c, fd) < 0) {
			cl->fd = -1;
			c->st.clients--;
			close(fd);
			continue;
		}
		/* A client usually sends its request with its connect. */
		(void)try_request(c, cl, handler, arg);
	}
	return 0;
}

/* Arms the timer for the earliest deadline (or the pause's end). */
static void
arm(struct control *c)
{
	struct itimerspec its;
	uint64_t when = c->paused_until;
	size_t i;

	for (i = 0; i < c->max_clients; i++)
		if (c->clients[i].fd != -1 && (when == 0 ||
		    c->clients[i].deadline < when))
			when = c->clients[i].deadline;
	memset(&its, 0, sizeof(its));
	if (when != 0) {
		/* 0 would disarm it: a deadline just past is 1 ns away. */
		its.it_value.tv_sec = (time_t)(when / 1000);
		its.it_value.tv_nsec = (long)(when % 1000) * 1000000 + 1;
	}
	(void)timerfd_settime(c->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

int
control_serve(struct control *c, control_handler *handler, void *arg)
{
	struct epoll_event evs[8];
	uint64_t now = now_ms(), served = c->st.served, ticks;
	size_t i;
	int err = 0;

	/* Level-triggered: this only clears the ready list; the slots are
	   scanned below, ready or not. */
	(void)epoll_wait(c->ep, evs, 8, 0);
	(void)!read(c->timer, &ticks, sizeof(ticks));
	for (i = 0; i < c->max_clients; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd == -1 || try_request(c, cl, handler, arg))
			continue;
		if (now >= cl->deadline) {
			c->st.timeouts++;
			note("closed a client that sent no request in time",
			    c->st.timeouts);
			drop_client(c, cl);
		}
	}
	if (c->paused_until != 0 && now >= c->paused_until) {
		c->paused_until = 0;
		(void)watch(c, c->fd);
	}
	if (c->paused_until == 0)
		err = accept_some(c, now, handler, arg);
	arm(c);
	return err < 0 ? err : (int)(c->st.served - served);
}

/*
 * One try of control_request().  *unread is set when the daemon closed
 * the connection without reading the request (send() refused, or recv()
 * reset: the request was still in its socket), so that it can be sent
 * again.
 */
static int
request_once(const struct sockaddr_un *sun, const char *req, size_t used,
    char *buf, size_t len, bool *unread)
{
	ssize_t n;
	int fd, r;

	*unread = false;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	if (send(fd, req, used, MSG_NOSIGNAL) == -1) {
		r = -errno;
		*unread = r == -EPIPE || r == -ECONNRESET;
		close(fd);
		return r;
	}
	n = recv(fd, buf, len - 1, 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (n <= 0) {
		*unread = r == -ECONNRESET;
		return r < 0 ? r : -ECONNRESET;
	}
	buf[n] = '\0';
	return strncmp(buf, "ok\n", 3) == 0 ? 0 : 1;
}

int
control_request(const char *path, int argc, char **argv, char *buf,
    size_t len)
{
	struct sockaddr_un sun;
	struct timespec ts;
	char req[CONTROL_REQ_MAX + 1];
	size_t used = 0, w;
	bool unread;
	int i, r, tries;

	if ((r = fill_sun(&sun, path)) < 0)
		return r;
	for (i = 0; i < argc; i++) {
		w = strlen(argv[i]);
		if (used + w + 1 > CONTROL_REQ_MAX)
			return -E2BIG;
		if (i > 0)
			req[used++] = ' ';
		memcpy(req + used, argv[i], w);
		used += w;
	}
	for (tries = 0;; tries++) {
		r = request_once(&sun, req, used, buf, len, &unread);
		if (!unread || tries == CONTROL_RETRIES)
			return r;
		ts.tv_sec = 0;
		ts.tv_nsec = (10L << tries) * 1000000;	/* 10, 20, 40, 80 ms */
		nanosleep(&ts, NULL);
	}
}
