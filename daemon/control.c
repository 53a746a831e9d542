/*
 * control.c - see control.h.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

/* Linux 4.13; older headers lack the name, older kernels the option. */
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

struct control {
	int	 fd;
	char	*path;
	bool	 has_group;	/* group_name names an existing group */
	gid_t	 group;
	char	 group_name[64];
};

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
	int r, saved;

	if ((r = fill_sun(&sun, path)) < 0) {
		errno = -r;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
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
	if (listen(c->fd, 8) == -1)
		goto fail;
	return c;
fail:
	saved = errno;
	if (c->fd != -1)
		close(c->fd);
	free(c->path);
	free(c);
	errno = saved;
	return NULL;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	(void)unlink(c->path);
	free(c->path);
	free(c);
}

int
control_fd(const struct control *c)
{
	return c->fd;
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

int
control_serve(struct control *c, control_handler *handler, void *arg)
{
	static struct log_limit refusals = LOG_LIMIT_INIT;
	struct timeval tv = { 1, 0 };
	struct control_reply r;
	struct control_peer peer;
	char req[CONTROL_REQ_MAX + 1], *argv[CONTROL_ARGS_MAX], *out, word[33];
	int sndbuf = CONTROL_REPLY_MAX + 4096;
	uint64_t suppressed;
	ssize_t n;
	int fd, argc;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (!read_peer(c, fd, &peer)) {
		log_warn("control: a client's credentials");
		close(fd);
		return 0;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A datagram larger than the send buffer is refused (EMSGSIZE). */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* One byte more than allowed tells an over-long request apart. */
	n = recv(fd, req, sizeof(req), MSG_TRUNC);
	if (n <= 0 || n > CONTROL_REQ_MAX || memchr(req, '\0', (size_t)n)) {
		close(fd);
		return 0;
	}
	req[n] = '\0';
	if ((out = malloc(CONTROL_REPLY_MAX)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	memset(&r, 0, sizeof(r));
	r.buf = out;
	r.cap = CONTROL_REPLY_MAX;
	control_printf(&r, "ok\n");	/* rewritten below on failure */
	argc = control_split(req, argv, CONTROL_ARGS_MAX);
	if (argc == 0) {
		r.failed = true;
		control_printf(&r, "empty request\n");
	} else if (control_changes_state(argv[0]) &&
	    !control_peer_may_change(&peer)) {
		r.failed = true;
		quotable(argv[0], word, sizeof(word));
		control_printf(&r, "'%s' is not a read-only command: it "
		    "needs root or group %s%s (you are uid %u)\n", word,
		    c->has_group ? c->group_name : CONTROL_GROUP,
		    c->has_group ? "" : ", which does not exist here",
		    (unsigned)peer.uid);
		/* "%.0llu" writes nothing for 0. */
		if (log_ratelimited(&refusals, 1, 10, &suppressed))
			log_warnx("control: refused '%s' to uid %u pid %d"
			    "%s%.0llu%s", word, (unsigned)peer.uid,
			    (int)peer.pid, suppressed ? " (and " : "",
			    (unsigned long long)suppressed,
			    suppressed ? " refusals not logged)" : "");
	} else
		handler(arg, &peer, argc, argv, &r);
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
	(void)send(fd, out, r.len, MSG_NOSIGNAL);
	free(out);
	close(fd);
	return 0;
}

int
control_request(const char *path, int argc, char **argv, char *buf,
    size_t len)
{
	struct sockaddr_un sun;
	char req[CONTROL_REQ_MAX + 1];
	size_t used = 0, w;
	ssize_t n;
	int fd, i, r;

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
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    send(fd, req, used, MSG_NOSIGNAL) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	n = recv(fd, buf, len - 1, 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (n <= 0)
		return r < 0 ? r : -ECONNRESET;
	buf[n] = '\0';
	return strncmp(buf, "ok\n", 3) == 0 ? 0 : 1;
}
