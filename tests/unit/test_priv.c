/*
 * test_priv.c - the seccomp filters safegated loads (priv.h), loaded here
 * by the same priv_seccomp_install(): what each lets through and what it
 * refuses.  Each probe runs in a child process of its own, which loads one
 * filter and then makes one call: a filter cannot be taken back, and
 * Criterion's own reporting must not run under it.
 *
 * A refusal is told apart from the kernel's own answer: the calls chosen
 * succeed without the filter, as root or not (a UDP socket, fork, exec,
 * PTRACE_TRACEME, a user namespace where the system allows one), or the
 * filter's errno differs from the kernel's (EAFNOSUPPORT for AF_PACKET,
 * which the kernel answers EPERM or lets root have).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <criterion/criterion.h>

#include "priv.h"

#define NOT_LOADED	200	/* the child could not load the filter */

/* make SAN=1: the allowlists only log, and ptrace is let through for
 * LeakSanitizer (priv.c); the refusals are this build's to show. */
#define ENFORCING	priv_allowlists_enforce()

/* Each returns 0 when the call succeeded, else its errno (below 200). */
typedef int probe_fn(void);

static int
err(void)
{
	return errno > 0 && errno < NOT_LOADED ? errno : NOT_LOADED - 1;
}

static int
p_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : err();
}

/* An empty write to stderr: the call goes through, nothing is shown. */
static int
p_write(void)
{
	return write(STDERR_FILENO, "", 0) == 0 ? 0 : err();
}

static int
sock(int family, int type)
{
	int fd = socket(family, type, 0);

	return fd >= 0 ? 0 : err();
}

static int p_unix(void) { return sock(AF_UNIX, SOCK_DGRAM); }
static int p_udp(void) { return sock(AF_INET, SOCK_DGRAM); }
static int p_tcp6(void) { return sock(AF_INET6, SOCK_STREAM); }
static int p_netlink(void) { return sock(AF_NETLINK, SOCK_RAW); }
static int p_packet(void) { return sock(AF_PACKET, SOCK_RAW); }

/* Replaces the child with true(1) when allowed: its status is then 0. */
static int
p_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return err();
}

static int
p_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid == -1)
		return err();
	if (pid == 0)
		_exit(0);
	return waitpid(pid, &status, 0) == pid && status == 0 ? 0 :
	    NOT_LOADED - 1;
}

static void *
nothing(void *arg)
{
	return arg;
}

static int
p_thread(void)
{
	pthread_t t;
	int e;

	if ((e = pthread_create(&t, NULL, nothing, NULL)) != 0)
		return e;
	return pthread_join(t, NULL) == 0 ? 0 : NOT_LOADED - 1;
}

static int
p_userns(void)
{
	return unshare(CLONE_NEWUSER) == 0 ? 0 : err();
}

static int
p_traceme(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : err();
}

static int
p_mmap_rw(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0) != MAP_FAILED ? 0 : err();
}

static int
p_mmap_exec(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0) != MAP_FAILED ? 0 : err();
}

static int
p_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NOT_LOADED - 1;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : err();
}

static int
p_open_read(void)
{
	return openat(AT_FDCWD, "/dev/null", O_RDONLY) >= 0 ? 0 : err();
}

static int
p_open_write(void)
{
	return openat(AT_FDCWD, "/dev/null", O_WRONLY) >= 0 ? 0 : err();
}

static int
sockopt(int opt)
{
	struct timeval tv = { 1, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		return NOT_LOADED - 1;
	if (opt == SO_RCVTIMEO)
		return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == 0 ?
		    0 : err();
	return setsockopt(fd, SOL_SOCKET, opt, &one, sizeof(one)) == 0 ? 0 :
	    err();
}

static int p_rcvtimeo(void) { return sockopt(SO_RCVTIMEO); }
static int p_passcred(void) { return sockopt(SO_PASSCRED); }

/*
 * Runs fn in a child under filter (an allowlist stacked on the base
 * filter, as safegated loads it): fn's result (0 or an errno), or
 * NOT_LOADED, or 1000 + a signal that killed the child.
 */
static int
probe(enum priv_filter filter, probe_fn *fn)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* As safegated: no_new_privs, the base filter, and an
		 * allowlist on top of it. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    (filter != PRIV_FILTER_BASE && filter != PRIV_FILTER_NONE &&
		    priv_seccomp_install(PRIV_FILTER_BASE) < 0) ||
		    priv_seccomp_install(filter) < 0)
			_exit(NOT_LOADED);
		_exit(fn());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

Test(priv, filters_load)
{
	cr_assert_eq(priv_seccomp_install(PRIV_FILTER_NONE), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_getpid), 0);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_getpid), 0);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_getpid), 0);
}

/* Without a filter, these succeed: the refusals below are the filters'. */
Test(priv, unfiltered_baseline)
{
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_udp), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_execve), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_fork), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_traceme), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_mmap_exec), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_open_write), 0);
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_passcred), 0);
	cr_assert_neq(probe(PRIV_FILTER_NONE, p_packet), EAFNOSUPPORT);
}

/* The base filter: what the main thread and every child (the firewall
 * tools, the alert command) run under. */
Test(priv, base_lets_tools_work)
{
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_write), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_unix), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_udp), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_tcp6), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_netlink), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_execve), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_fork), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_thread), 0);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_mmap_exec), 0);
}

Test(priv, base_refuses)
{
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_packet), EAFNOSUPPORT);
	cr_assert_eq(probe(PRIV_FILTER_BASE, p_userns), EPERM);
	if (ENFORCING)
		cr_assert_eq(probe(PRIV_FILTER_BASE, p_traceme), EPERM);
}

/* The queue workers: what a parser bug exploited by a packet could do. */
Test(priv, worker_allows_its_calls)
{
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_write), 0);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_unix), 0);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_mmap_rw), 0);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_rcvtimeo), 0);
}

Test(priv, worker_refuses)
{
	if (!ENFORCING)
		cr_skip_test("the sanitizer build's allowlists only log");
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_execve), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_fork), EPERM);
	cr_assert_neq(probe(PRIV_FILTER_WORKER, p_thread), 0);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_udp), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_netlink), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_packet), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_traceme), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_mmap_exec), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_mprotect_exec), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_open_read), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_WORKER, p_passcred), EPERM);
}

/* The block page's server: its sockets and its own thread, no more. */
Test(priv, blockpage_allows_its_calls)
{
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_write), 0);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_tcp6), 0);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_thread), 0);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_passcred), 0);
}

Test(priv, blockpage_refuses)
{
	if (!ENFORCING)
		cr_skip_test("the sanitizer build's allowlists only log");
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_execve), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_fork), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_netlink), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_udp), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_packet), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_traceme), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_mmap_exec), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_open_read), EPERM);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_open_write), EPERM);
}

/* The calling thread's permitted set, or ~0 on error. */
static uint64_t
permitted(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return ~UINT64_C(0);
	return d[0].permitted | (uint64_t)d[1].permitted << 32;
}

/* The block page's first act under its filter: every capability goes. */
static int
p_shed(void)
{
	int rc;

	if ((rc = priv_shed()) < 0)
		return -rc < NOT_LOADED ? -rc : NOT_LOADED - 1;
	return permitted() == 0 ? 0 : NOT_LOADED - 2;
}

Test(priv, blockpage_sheds_its_capabilities)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: nothing to shed");
	cr_assert_neq(permitted(), 0);
	cr_assert_eq(probe(PRIV_FILTER_BLOCKPAGE, p_shed), 0);
}

static int
mark_fn(void *arg)
{
	*(uint64_t *)arg = permitted();
	return 0;
}

/* The safe-search resolver's thread keeps what SO_MARK needs, no more
 * (CAP_NET_RAW on Linux 5.17 and later, which this test runs on; CAP_NET_ADMIN
 * too before), and can set the mark with it; the caller keeps its own. */
static int
p_mark(void)
{
	uint64_t before = permitted(), got = ~UINT64_C(0);

	priv_init(NULL, false);
	if (priv_run("t-mark", PRIV_CAPS_MARK, PRIV_FILTER_NONE, mark_fn,
	    &got) < 0)
		return NOT_LOADED - 1;
	if (permitted() != before)
		return NOT_LOADED - 2;
	if (got == (UINT64_C(1) << CAP_NET_RAW))
		return 0;
	if (got == ((UINT64_C(1) << CAP_NET_RAW) |
	    (UINT64_C(1) << CAP_NET_ADMIN)))
		return 1;	/* a kernel before 5.17 */
	return NOT_LOADED - 3;
}

Test(priv, mark_thread_keeps_only_what_so_mark_needs)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: no capability to keep");
	cr_assert_eq(probe(PRIV_FILTER_NONE, p_mark), 0,
	    "1: CAP_NET_ADMIN kept (a kernel before 5.17?); 197-199: wrong");
}
