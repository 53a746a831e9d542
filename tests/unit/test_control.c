/*
 * Unit tests: the control socket, both ends, over a real unix socket: the
 * protocol, the socket's mode and group, who may run what (peer
 * credentials), and the bounds (control.h): silent clients, a full table
 * of clients, over-long and broken requests, a flood of connections.  The
 * credential tests fork children that drop to nobody, so they need root
 * and skip without it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define NOBODY	65534

struct seen {
	int			calls;
	struct control_peer	peer;
};

static void
handler(void *arg, const struct control_peer *peer, int argc, char **argv,
    struct control_reply *r)
{
	struct seen *s = arg;

	if (s != NULL) {
		s->calls++;
		s->peer = *peer;
	}
	if (strcmp(argv[0], "echo") == 0 || strcmp(argv[0], "status") == 0 ||
	    strcmp(argv[0], "pause") == 0) {
		for (int i = 1; i < argc; i++)
			control_printf(r, "%s\n", argv[i]);
		return;
	}
	r->failed = true;
	control_printf(r, "unknown %s\n", argv[0]);
}

/*
 * Serves until `want` replies were sent; the same for the tests as the
 * daemon's main loop: poll control_fd(), then control_serve().  0, or -1
 * after 5 s without them.
 */
static int
serve_n(struct control *c, struct seen *s, int want)
{
	struct pollfd pfd = { .fd = control_fd(c), .events = POLLIN };
	int got = 0, n, i;

	for (i = 0; i < 500 && got < want; i++) {
		if (poll(&pfd, 1, 10) < 0)
			return -1;
		if ((n = control_serve(c, handler, s)) > 0)
			got += n;
	}
	return got >= want ? 0 : -1;
}

static int
serve_one(struct control *c, struct seen *s)
{
	return serve_n(c, s, 1);
}

static void *
serve(void *arg)
{
	struct control *c = arg;

	(void)serve_n(c, NULL, 2);
	return NULL;
}

static void
sock_path(char *path, size_t len)
{
	snprintf(path, len, "/tmp/sg-ctl-%d/control.sock", (int)getpid());
}

static void
cleanup(struct control *c, char *path)
{
	control_close(c);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

Test(control, split)
{
	char req[] = "  reload now\tplease \n", *argv[4];

	cr_assert_eq(control_split(req, argv, 4), 3);
	cr_assert_str_eq(argv[0], "reload");
	cr_assert_str_eq(argv[2], "please");
}

Test(control, roundtrip)
{
	char path[64], reply[256];
	char *ok[] = { "echo", "a", "b" }, *bad[] = { "nope" };
	struct control *c;
	pthread_t t;

	sock_path(path, sizeof(path));
	c = control_open(path);
	cr_assert_not_null(c);
	pthread_create(&t, NULL, serve, c);
	cr_assert_eq(control_request(path, 3, ok, reply, sizeof(reply)), 0);
	cr_assert_str_eq(reply, "ok\na\nb\n");
	cr_assert_eq(control_request(path, 1, bad, reply, sizeof(reply)), 1);
	cr_assert_str_eq(reply, "error: unknown nope\n");
	pthread_join(t, NULL);
	cr_assert_null(control_open(path), "a live socket is not stolen");
	control_close(c);
	cr_assert_eq(access(path, F_OK), -1, "closing unlinks the socket");
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

/* The longest wire request (control.h) fits; one byte more does not. */
Test(control, request_size)
{
	char big[CONTROL_REQ_MAX + 2], *argv[] = { big };

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(control_request("/nonexistent/sock", 1, argv, big,
	    sizeof(big)), -E2BIG);
	cr_assert_geq(CONTROL_REQ_MAX, (int)strlen("allow  ") + 63 + 1 + 253 +
	    20);
}

Test(control, state_changing_words)
{
	struct control_peer p = { .uid = 1000, .privileged = false };

	cr_assert_not(control_changes_state("status"));
	cr_assert_not(control_changes_state("stats"));
	cr_assert_not(control_changes_state("explain"));
	cr_assert_not(control_changes_state("overrides"));
	cr_assert(control_changes_state("pause"));
	cr_assert(control_changes_state("allow"));
	cr_assert(control_changes_state("resume"));
	cr_assert(control_changes_state("reload"));
	cr_assert(control_changes_state("something-new"),
	    "an unknown word is privileged");
	cr_assert(control_changes_state("Status"), "words are exact");
	cr_assert_not(control_peer_may_change(&p));
	p.privileged = true;
	cr_assert(control_peer_may_change(&p));
	cr_assert_not(control_peer_may_change(NULL));
}

/* Root is privileged, and the handler sees its credentials. */
Test(control, peer_root)
{
	char path[64], reply[256], *req[] = { "pause", "dev", "123" };
	struct seen s = { 0 };
	struct control *c;
	struct stat st;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
	if ((pid = fork()) == 0)
		_exit(control_request(path, 3, req, reply,
		    sizeof(reply)) == 0 && strcmp(reply, "ok\ndev\n123\n") ==
		    0 ? 0 : 1);
	cr_assert_eq(serve_one(c, &s), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(s.peer.uid, 0);
	cr_assert_eq(s.peer.pid, pid);
	cr_assert(s.peer.privileged);
	cr_assert_not(s.peer.in_group);
	cleanup(c, path);
}

/*
 * A child that becomes uid nobody with the given primary group and
 * supplementary groups, sends req, and exits with 0 when it got the
 * expected result (rc, and a reply starting with want).
 */
static pid_t
child(const char *path, gid_t gid, const gid_t *groups, size_t ngroups,
    char **req, int nreq, int want_rc, const char *want)
{
	char reply[512];
	pid_t pid;
	int rc;

	if ((pid = fork()) != 0)
		return pid;
	if (setgroups(ngroups, groups) == -1 || setgid(gid) == -1 ||
	    setuid(NOBODY) == -1)
		_exit(10);
	rc = control_request(path, nreq, req, reply, sizeof(reply));
	if (rc != want_rc) {
		fprintf(stderr, "child: rc %d, want %d\n", rc, want_rc);
		_exit(11);
	}
	if (want != NULL && strncmp(reply, want, strlen(want)) != 0) {
		fprintf(stderr, "child: reply \"%s\"\n", reply);
		_exit(12);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died");
	cr_assert_eq(WEXITSTATUS(status), 0, "child exit %d",
	    WEXITSTATUS(status));
}

/*
 * Anyone the file mode lets in may read; changing state needs privilege,
 * and control.c refuses it before the handler runs.
 */
Test(control, peer_unprivileged)
{
	char path[64], dir[64];
	char *st[] = { "status" }, *pause[] = { "pause", "dev", "123" };
	char *other[] = { "frobnicate" };
	struct seen s = { 0 };
	struct control *c;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);
	/* Let nobody in, as a group membership would. */
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(chmod(path, 0666), 0);

	pid = child(path, NOBODY, NULL, 0, st, 1, 0, "ok\n");
	cr_assert_eq(serve_one(c, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(s.peer.uid, NOBODY);
	cr_assert_eq(s.peer.gid, NOBODY);
	cr_assert_not(s.peer.privileged);

	pid = child(path, NOBODY, NULL, 0, pause, 3, 1,
	    "error: 'pause' is not a read-only command: it needs root or "
	    "group safegate");
	cr_assert_eq(serve_one(c, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1, "the handler never saw the refused pause");

	pid = child(path, NOBODY, NULL, 0, other, 1, 1, "error: 'frobnicate' "
	    "is not a read-only command");
	cr_assert_eq(serve_one(c, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1);
	cleanup(c, path);
}

/* The socket's group: members (primary or supplementary) are privileged,
   others cannot even connect. */
Test(control, peer_group)
{
	char path[64], *pause[] = { "pause", "dev", "123" };
	struct seen s = { 0 };
	struct control *c;
	struct group *gr;
	struct stat st;
	gid_t g, none = NOBODY;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	if ((gr = getgrnam("users")) == NULL)
		cr_skip_test("no group users to stand in for safegate");
	g = gr->gr_gid;
	sock_path(path, sizeof(path));
	c = control_open_group(path, "users");
	cr_assert_not_null(c);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660);
	cr_assert_eq(st.st_gid, g, "the socket belongs to the group");
	*strrchr(path, '/') = '\0';
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_gid, g, "and the folder made for it too");
	cr_assert_eq(st.st_mode & 07777, 0750);
	path[strlen(path)] = '/';

	/* A supplementary group: SO_PEERGROUPS. */
	pid = child(path, NOBODY, &g, 1, pause, 3, 0, "ok\ndev\n123\n");
	cr_assert_eq(serve_one(c, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1);
	cr_assert(s.peer.in_group);
	cr_assert(s.peer.privileged);

	/* The primary group. */
	pid = child(path, g, &none, 1, pause, 3, 0, "ok\n");
	cr_assert_eq(serve_one(c, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 2);
	cr_assert(s.peer.in_group && s.peer.privileged);

	/* Outside the group: the file mode keeps it out. */
	pid = child(path, NOBODY, NULL, 0, pause, 3, -EACCES, NULL);
	reap(pid);
	cleanup(c, path);
}

/* A group that does not exist is no error: the socket keeps ours. */
Test(control, missing_group)
{
	char path[64];
	struct control *c;
	struct stat st;

	sock_path(path, sizeof(path));
	c = control_open_group(path, "sg-no-such-group");
	cr_assert_not_null(c);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660);
	cr_assert_eq(st.st_gid, getegid());
	cleanup(c, path);
}

/* ---------------------------------------------------------------- bounds */

/* A client socket of our own, connected (the listen backlog takes it
   before any accept), for the tests that must misbehave. */
static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

/* What the daemon sent back within ms: the reply, "" for a close without
   one, or "(nothing)" while the connection is still open. */
static const char *
raw_reply(int fd, int ms, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return "(nothing)";
	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) /
	    1000000;
}

/*
 * A client that connects and sends nothing holds a slot until its
 * deadline, never the thread: another is served meanwhile, and the timer
 * wakes control_fd() at the deadline, which closes it, counted.
 */
Test(control, silent_client)
{
	char path[64], buf[256];
	struct control_stats st;
	struct pollfd pfd;
	struct timespec t0;
	struct seen s = { 0 };
	struct control *c;
	int silent, good;

	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);
	control_set_limits(c, 0, 300);
	pfd.fd = control_fd(c);
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 0), 0, "nothing to do yet");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	silent = raw_connect(path);
	cr_assert_eq(poll(&pfd, 1, 1000), 1, "a connection wakes it");
	cr_assert_eq(control_serve(c, handler, &s), 0);
	control_get_stats(c, &st);
	cr_assert_eq(st.clients, 1);

	good = raw_connect(path);
	cr_assert_eq(send(good, "echo hi", 7, 0), 7);
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	cr_assert_eq(control_serve(c, handler, &s), 1, "served at once");
	cr_assert_str_eq(raw_reply(good, 1000, buf, sizeof(buf)), "ok\nhi\n");
	cr_assert_lt(ms_since(&t0), 250, "not after the silent one's "
	    "deadline");
	cr_assert_str_eq(raw_reply(silent, 0, buf, sizeof(buf)), "(nothing)");

	/* Nothing else happens: only the timer can wake control_fd(). */
	while (poll(&pfd, 1, 2000) == 1 && ms_since(&t0) < 2000) {
		(void)control_serve(c, handler, &s);
		control_get_stats(c, &st);
		if (st.clients == 0)
			break;
	}
	cr_assert_geq(ms_since(&t0), 290, "closed at the deadline, %ld ms",
	    ms_since(&t0));
	cr_assert_lt(ms_since(&t0), 1500);
	cr_assert_str_eq(raw_reply(silent, 1000, buf, sizeof(buf)), "",
	    "closed without a reply");
	control_get_stats(c, &st);
	cr_assert_eq(st.timeouts, 1);
	cr_assert_eq(st.served, 1);
	cr_assert_eq(st.accepted, 2);
	cr_assert_eq(st.clients, 0);
	cr_assert_eq(poll(&pfd, 1, 100), 0, "idle again: the timer is off");
	close(silent);
	close(good);
	cleanup(c, path);
}

/*
 * Every slot taken by silent clients: a new one evicts the oldest, so a
 * well-behaved client always gets in; the evicted see their connection
 * closed, the others stay.
 */
Test(control, full_table_evicts_the_oldest)
{
	char path[64], buf[256];
	struct control_stats st;
	struct control *c;
	int fds[6], good, i;

	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);
	control_set_limits(c, 4, 10000);
	for (i = 0; i < 4; i++)
		fds[i] = raw_connect(path);
	cr_assert_eq(control_serve(c, handler, NULL), 0);
	control_get_stats(c, &st);
	cr_assert_eq(st.clients, 4);
	for (i = 4; i < 6; i++)
		fds[i] = raw_connect(path);
	cr_assert_eq(control_serve(c, handler, NULL), 0);
	good = raw_connect(path);
	cr_assert_eq(send(good, "status", 6, 0), 6);
	cr_assert_eq(control_serve(c, handler, NULL), 1);
	cr_assert_str_eq(raw_reply(good, 1000, buf, sizeof(buf)), "ok\n");
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(raw_reply(fds[i], 1000, buf, sizeof(buf)), "",
		    "client %d evicted", i);
	for (i = 3; i < 6; i++)
		cr_assert_str_eq(raw_reply(fds[i], 0, buf, sizeof(buf)),
		    "(nothing)", "client %d kept", i);
	control_get_stats(c, &st);
	cr_assert_eq(st.evicted, 3);
	cr_assert_eq(st.accepted, 7);
	cr_assert_eq(st.served, 1);
	cr_assert_eq(st.clients, 3);
	cr_assert_eq(st.timeouts, 0);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	close(good);
	/* Hang-ups free their slots: not a timeout, not an eviction. */
	cr_assert_eq(control_serve(c, handler, NULL), 0);
	control_get_stats(c, &st);
	cr_assert_eq(st.clients, 0);
	cr_assert_eq(st.evicted, 3);
	cleanup(c, path);
}

/* A request that has come is served, never evicted, even with one slot. */
Test(control, waiting_request_served_not_evicted)
{
	char path[64], buf[256];
	struct control_stats st;
	struct control *c;
	int a, b;

	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);
	control_set_limits(c, 1, 10000);
	a = raw_connect(path);
	cr_assert_eq(control_serve(c, handler, NULL), 0);
	cr_assert_eq(send(a, "echo a", 6, 0), 6);
	b = raw_connect(path);
	cr_assert_eq(send(b, "echo b", 6, 0), 6);
	cr_assert_eq(control_serve(c, handler, NULL), 2);
	cr_assert_str_eq(raw_reply(a, 1000, buf, sizeof(buf)), "ok\na\n");
	cr_assert_str_eq(raw_reply(b, 1000, buf, sizeof(buf)), "ok\nb\n");
	control_get_stats(c, &st);
	cr_assert_eq(st.evicted, 0);
	cr_assert_eq(st.served, 2);
	close(a);
	close(b);
	cleanup(c, path);
}

/* Over-long, NUL-holding and empty requests: an error reply, counted;
   the longest allowed one is served. */
Test(control, bad_requests)
{
	char path[64], buf[256], big[CONTROL_REQ_MAX + 88];
	struct control_stats st;
	struct seen s = { 0 };
	struct control *c;
	int fd;

	sock_path(path, sizeof(path));
	c = control_open_group(path, NULL);
	cr_assert_not_null(c);

	memset(big, 'a', sizeof(big));
	fd = raw_connect(path);
	cr_assert_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	cr_assert_eq(control_serve(c, handler, &s), 1);
	cr_assert_str_eq(raw_reply(fd, 1000, buf, sizeof(buf)),
	    "error: the request is longer than 512 bytes\n");
	close(fd);

	fd = raw_connect(path);
	cr_assert_eq(send(fd, "stat\0us", 7, 0), 7);
	cr_assert_eq(control_serve(c, handler, &s), 1);
	cr_assert_str_eq(raw_reply(fd, 1000, buf, sizeof(buf)),
	    "error: the request holds a NUL byte\n");
	close(fd);

	fd = raw_connect(path);
	cr_assert_eq(send(fd, " \t\n", 3, 0), 3);
	cr_assert_eq(control_serve(c, handler, &s), 1);
	cr_assert_str_eq(raw_reply(fd, 1000, buf, sizeof(buf)),
	    "error: empty request\n");
	close(fd);
	cr_assert_eq(s.calls, 0, "none reached the handler");

	memcpy(big, "echo ", 5);
	fd = raw_connect(path);
	cr_assert_eq(send(fd, big, CONTROL_REQ_MAX, 0), CONTROL_REQ_MAX);
	cr_assert_eq(control_serve(c, handler, &s), 1);
	cr_assert_eq(strncmp(raw_reply(fd, 1000, buf, sizeof(buf)),
	    "ok\naaa", 6), 0);
	close(fd);
	cr_assert_eq(s.calls, 1);

	control_get_stats(c, &st);
	cr_assert_eq(st.bad, 3);
	cr_assert_eq(st.served, 4);
	cr_assert_eq(st.clients, 0);
	cleanup(c, path);
}

struct loop {
	struct control	*c;
	struct seen	 s;
	int		 stop;
};

/* The daemon's main loop, in a thread, until told to stop. */
static void *
loop_main(void *arg)
{
	struct loop *l = arg;
	struct pollfd pfd = { .fd = control_fd(l->c), .events = POLLIN };

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		(void)poll(&pfd, 1, 10);
		(void)control_serve(l->c, handler, &l->s);
	}
	return NULL;
}

/*
 * Hundreds of connections that send nothing, all held open: the table
 * never grows past its cap, and a well-behaved client is served among
 * them, through control_request().
 */
Test(control, connection_flood)
{
	enum { FLOOD = 300, CAP = 8 };
	char path[64], reply[256], *req[] = { "echo", "through" };
	struct control_stats st;
	struct loop l;
	pthread_t t;
	int fds[FLOOD], i;

	sock_path(path, sizeof(path));
	memset(&l, 0, sizeof(l));
	l.c = control_open_group(path, NULL);
	cr_assert_not_null(l.c);
	control_set_limits(l.c, CAP, 5000);
	pthread_create(&t, NULL, loop_main, &l);
	for (i = 0; i < FLOOD; i++)
		fds[i] = raw_connect(path);
	cr_assert_eq(control_request(path, 2, req, reply, sizeof(reply)), 0);
	cr_assert_str_eq(reply, "ok\nthrough\n");
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	control_get_stats(l.c, &st);
	cr_assert_eq(st.accepted, FLOOD + 1);
	cr_assert_eq(st.served, 1);
	cr_assert_leq(st.clients, CAP);
	cr_assert_eq(st.evicted, FLOOD - st.clients, "evicted %llu",
	    (unsigned long long)st.evicted);
	cr_assert_eq(l.s.calls, 1);
	for (i = 0; i < FLOOD; i++)
		close(fds[i]);
	cleanup(l.c, path);
}

/*
 * A stand-in daemon for control_request(): accepts `closes` connections
 * and closes each, after reading its request when `read_first`, else
 * unread; then answers the next one "ok".  It counts the connections.
 */
struct fake {
	int	 fd;
	int	 closes;
	bool	 read_first;
	int	 conns;
};

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	char buf[CONTROL_REQ_MAX];
	struct pollfd pfd;
	int c;

	for (;;) {
		pfd.fd = f->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 2000) != 1)
			return NULL;
		if ((c = accept(f->fd, NULL, NULL)) == -1)
			return NULL;
		f->conns++;
		pfd.fd = c;
		(void)poll(&pfd, 1, 1000);	/* the request is there */
		if (f->conns <= f->closes) {
			if (f->read_first)
				(void)!recv(c, buf, sizeof(buf), 0);
			close(c);
			if (f->read_first)
				return NULL;
			continue;
		}
		(void)!recv(c, buf, sizeof(buf), 0);
		(void)!send(c, "ok\nagain\n", 9, MSG_NOSIGNAL);
		close(c);
		return NULL;
	}
}

static void
fake_listen(struct fake *f, const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	(void)unlink(path);
	f->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert_geq(f->fd, 0);
	cr_assert_eq(bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(f->fd, 8), 0);
}

/* Closed unread (evicted): sent again, and the answer comes. */
Test(control, request_evicted_unread_is_sent_again)
{
	char path[64], reply[64], *req[] = { "status" };
	struct fake f = { .closes = 2, .read_first = false };
	pthread_t t;

	snprintf(path, sizeof(path), "/tmp/sg-ctl-fake-%d", (int)getpid());
	fake_listen(&f, path);
	pthread_create(&t, NULL, fake_main, &f);
	cr_assert_eq(control_request(path, 1, req, reply, sizeof(reply)), 0);
	cr_assert_str_eq(reply, "ok\nagain\n");
	pthread_join(t, NULL);
	cr_assert_eq(f.conns, 3, "two closed unread, the third answered");
	close(f.fd);
	unlink(path);
}

/* Read, then closed without a reply: it may have run, so never again. */
Test(control, request_read_is_not_sent_again)
{
	char path[64], reply[64], *req[] = { "pause", "dev", "1" };
	struct fake f = { .closes = 1, .read_first = true };
	pthread_t t;

	snprintf(path, sizeof(path), "/tmp/sg-ctl-fake-%d", (int)getpid());
	fake_listen(&f, path);
	pthread_create(&t, NULL, fake_main, &f);
	cr_assert_eq(control_request(path, 3, req, reply, sizeof(reply)),
	    -ECONNRESET);
	pthread_join(t, NULL);
	cr_assert_eq(f.conns, 1);
	close(f.fd);
	unlink(path);
}
