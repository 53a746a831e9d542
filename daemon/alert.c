/*
 * alert.c - see alert.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"

extern char **environ;

struct child {
	pid_t	 pid;		/* 0: free */
	time_t	 started;
};

struct alert {
	char		*command;
	unsigned	 interval;
	time_t		 last;		/* when the last alert ran */
	bool		 ran;
	uint64_t	 held;		/* suppressed since the last run */
	struct child	 kids[ALERT_CHILDREN];
	struct alert_stats st;
};

struct alert *
alert_new(const char *command, unsigned interval)
{
	struct alert *a;

	if (command == NULL || command[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->command = strdup(command)) == NULL) {
		free(a);
		return NULL;
	}
	a->interval = interval;
	return a;
}

static struct child *
free_slot(struct alert *a)
{
	size_t i;

	for (i = 0; i < ALERT_CHILDREN; i++)
		if (a->kids[i].pid == 0)
			return &a->kids[i];
	return NULL;
}

/* Starts the command with the read end of a pipe as its stdin. */
static int
spawn(struct alert *a, int in, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { a->command, NULL };
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return -rc;
	if ((rc = posix_spawn_file_actions_adddup2(&fa, in, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
	    O_WRONLY, 0)) == 0)
		rc = posix_spawn(pid, a->command, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

int
alert_fire(struct alert *a, const char *json, size_t len, time_t now)
{
	struct child *c;
	int pfd[2], rc;
	pid_t pid;
	ssize_t n;

	if (len > ALERT_JSON_MAX)
		return -E2BIG;
	if (a->ran && now < a->last + (time_t)a->interval) {
		a->held++;
		a->st.suppressed++;
		return 0;
	}
	alert_reap(a, now);
	if ((c = free_slot(a)) == NULL) {
		a->st.failed++;
		return -EAGAIN;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		a->st.failed++;
		return -errno;
	}
	if ((rc = spawn(a, pfd[0], &pid)) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		a->st.failed++;
		return rc;
	}
	close(pfd[0]);
	/* Far less than a pipe holds: written whole, without waiting. */
	n = write(pfd[1], json, len);
	if (n != (ssize_t)len)
		log_warnx("alert %s: its input was cut short", a->command);
	close(pfd[1]);
	c->pid = pid;
	c->started = now;
	a->st.run++;
	a->ran = true;
	a->last = now;
	a->held = 0;
	return 1;
}

uint64_t
alert_suppressed(const struct alert *a)
{
	return a->held;
}

void
alert_reap(struct alert *a, time_t now)
{
	struct child *c;
	int status;
	size_t i;
	pid_t r;

	for (i = 0; i < ALERT_CHILDREN; i++) {
		c = &a->kids[i];
		if (c->pid == 0)
			continue;
		if (now >= c->started + ALERT_TIMEOUT) {
			kill(c->pid, SIGKILL);
			log_warnx("alert %s: still running after %d s, killed",
			    a->command, ALERT_TIMEOUT);
		}
		r = waitpid(c->pid, &status, now >= c->started +
		    ALERT_TIMEOUT ? 0 : WNOHANG);
		if (r == 0)
			continue;
		if (r == c->pid && (!WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)) {
			a->st.failed++;
			log_warnx("alert %s: %s %d", a->command,
			    WIFEXITED(status) ? "exited with" : "killed by signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) :
			    WTERMSIG(status));
		}
		c->pid = 0;
	}
}

void
alert_free(struct alert *a)
{
	size_t i;

	if (a == NULL)
		return;
	/* A command still running at stop has had its input: let it be
	 * killed rather than wait for it. */
	for (i = 0; i < ALERT_CHILDREN; i++)
		if (a->kids[i].pid != 0) {
			kill(a->kids[i].pid, SIGKILL);
			(void)waitpid(a->kids[i].pid, NULL, 0);
		}
	free(a->command);
	free(a);
}

void
alert_get_stats(const struct alert *a, struct alert_stats *st)
{
	*st = a->st;
}
