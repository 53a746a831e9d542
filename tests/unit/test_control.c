/*
 * Unit tests: the control socket, both ends, over a real unix socket: the
 * protocol, the socket's mode and group, and who may run what (peer
 * credentials).  The credential tests fork children that drop to nobody,
 * so they need root and skip without it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static void *
serve(void *arg)
{
	struct control *c = arg;

	(void)control_serve(c, handler, NULL);
	(void)control_serve(c, handler, NULL);
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
	cr_assert_eq(control_serve(c, handler, &s), 0);
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
	cr_assert_eq(control_serve(c, handler, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(s.peer.uid, NOBODY);
	cr_assert_eq(s.peer.gid, NOBODY);
	cr_assert_not(s.peer.privileged);

	pid = child(path, NOBODY, NULL, 0, pause, 3, 1,
	    "error: 'pause' is not a read-only command: it needs root or "
	    "group safegate");
	cr_assert_eq(control_serve(c, handler, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1, "the handler never saw the refused pause");

	pid = child(path, NOBODY, NULL, 0, other, 1, 1, "error: 'frobnicate' "
	    "is not a read-only command");
	cr_assert_eq(control_serve(c, handler, &s), 0);
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
	cr_assert_eq(control_serve(c, handler, &s), 0);
	reap(pid);
	cr_assert_eq(s.calls, 1);
	cr_assert(s.peer.in_group);
	cr_assert(s.peer.privileged);

	/* The primary group. */
	pid = child(path, g, &none, 1, pause, 3, 0, "ok\n");
	cr_assert_eq(control_serve(c, handler, &s), 0);
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
