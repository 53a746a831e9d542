/*
 * control.c - see control.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define CONTROL_ARGS	8

struct control {
	int	 fd;
	char	*path;
};

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
	struct sockaddr_un sun;
	struct control *c;
	char dir[sizeof(sun.sun_path)], *slash;
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
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			goto fail;
	}
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
	if (chmod(path, 0660) == -1 || listen(c->fd, 8) == -1)
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

int
control_serve(struct control *c, control_handler *handler, void *arg)
{
	struct timeval tv = { 1, 0 };
	struct control_reply r;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char req[CONTROL_REQ_MAX + 1], *argv[CONTROL_ARGS], *out;
	ssize_t n;
	int fd, argc;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: refused a client (uid %d)",
		    clen == sizeof(cred) ? (int)cred.uid : -1);
		close(fd);
		return 0;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
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
	argc = control_split(req, argv, CONTROL_ARGS);
	if (argc == 0) {
		r.failed = true;
		control_printf(&r, "empty request\n");
	} else
		handler(arg, argc, argv, &r);
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
