/* Unit tests: the control socket, both ends, over a real unix socket. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control.h"

static void
handler(void *arg, int argc, char **argv, struct control_reply *r)
{
	(void)arg;
	if (strcmp(argv[0], "echo") == 0) {
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

	snprintf(path, sizeof(path), "/tmp/sg-ctl-%d/control.sock",
	    (int)getpid());
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
