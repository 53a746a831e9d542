/*
 * priv.c - see priv.h.
 *
 * The system call filters
 * -----------------------
 * The threads that read hostile bytes are the queue workers (every packet
 * a device sends or receives: DNS, TLS, QUIC, HTTP) and the block page's
 * server (HTTP from any device on the LAN).  A parser bug that a crafted
 * packet turns into code execution runs there, so those threads get an
 * allowlist of what they were seen to use and nothing else: no execve, no
 * fork, no new socket but AF_UNIX (syslog; the block page's TCP listeners
 * too, made under its filter), no mmap or mprotect with PROT_EXEC, no
 * ptrace, no open.  A worker still holds CAP_NET_ADMIN (the
 * kernel checks it on every verdict it sends) but can no longer open the
 * netlink or packet socket it would need to use it.
 *
 * A filter cannot be taken back and is inherited by every thread and
 * child started after it.  The main thread runs the firewall tools (nft,
 * iptables-restore, ...) at start and at every reload, and the event log's
 * writer runs the parents' alert command, which may be any script (curl,
 * msmtp, python ...).  An allowlist for them would be every system call a
 * shell script can make, so they get the base filter instead: a denylist
 * of what neither safegated nor such a tool ever needs, whose use would
 * mean an attack on the kernel or an escape - namespaces, mounts,
 * ptrace, bpf, io_uring, userfaultfd, keyrings, modules, kexec, the
 * clock, and every socket family but AF_UNIX, AF_INET, AF_INET6 and
 * AF_NETLINK (AF_PACKET above all: CAP_NET_RAW would let it read every
 * packet on the router).  The base filter is loaded before any thread
 * exists, so every thread and child has it; the allowlists are stacked on
 * it on their own threads (seccomp filters are per thread unless
 * SECCOMP_FILTER_FLAG_TSYNC, which is not used).
 *
 * What an unlisted call gets: EPERM, not death (SCMP_ACT_KILL_PROCESS).
 * A worker that an exploit controls can already accept every packet: the
 * filter is there to keep it from going further (a shell, the firewall,
 * the packets of others, the kernel), and EPERM stops that as surely as a
 * kill.  What a kill adds is an outage on a syscall the lists missed on
 * some rare path: the queues then fail open (every device unfiltered) or
 * closed (no Internet for the family) until systemd or procd restarts the
 * daemon, and a child who found which packet reaches that path could do it
 * at will.  EPERM turns the same miss into one failed operation, which the
 * code already handles as any other error.  SECCOMP_FILTER_FLAG_LOG (the
 * allowlists' CTL_LOG attribute) has the kernel log every call they
 * refuse, with the thread's name, so a miss or an attack is seen:
 *
 *   audit: type=1326 ... comm="sg-queue0" ... syscall=59 ... code=0x50001
 *
 * Where the lists come from: the whole end-to-end suite (tests/e2e) run
 * with a build whose allowlists are empty and log every call
 * (SCMP_ACT_LOG), so that the kernel's log holds each call the workers
 * and the block page's thread make:
 *
 *   sysctl kernel.printk_ratelimit=0     # else most lines are dropped
 *   dmesg -W -k >kmsg &                  # the ring buffer is small
 *   make BUILD=build/seccomp-survey \
 *       CFLAGS='-O2 -g -DPRIV_SECCOMP_SURVEY' e2e-test
 *   grep type=1326 kmsg | grep -E 'comm="sg-(queue|blockpage)'
 *
 * (leaving reload.sh out: its dnsperf runs log a line per call).
 *
 * -DPRIV_SECCOMP_LOG instead keeps the lists and logs only what they
 * lack.  With the allowlists enforcing, the suite passes and the kernel
 * logs no call refused to those threads (tests/e2e/priv.sh checks).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Without libseccomp's header (or with -DSG_NO_SECCOMP), no filters:
 * priv_seccomp_install() says -ENOTSUP and status "off (not built in)". */
#if !defined(SG_NO_SECCOMP) && defined(__has_include)
#if __has_include(<seccomp.h>)
#define HAVE_SECCOMP	1
#include <seccomp.h>
#endif
#endif
#ifndef HAVE_SECCOMP
#define HAVE_SECCOMP	0
#endif

#include "evlog.h"
#include "log.h"
#include "priv.h"

#define KEEP_CAPS	((UINT64_C(1) << CAP_NET_ADMIN) | \
			 (UINT64_C(1) << CAP_NET_RAW))
#define BIND_CAP	(UINT64_C(1) << CAP_NET_BIND_SERVICE)
#define MAX_CHECKS	8

struct check {
	char		*path;
	int		 mode;		/* access(2) */
	const char	*what;		/* what fails without it */
};

static struct {
	bool		 keep;		/* -U */
	bool		 root;		/* started with euid 0 */
	bool		 has_user;
	bool		 stay_root;	/* -u root */
	char		 user[64];	/* to become */
	char		 name[64];	/* what it runs as, for status */
	uid_t		 uid;
	gid_t		 gid;
	int		 seccomp;	/* 0: not tried, 1: on, or -errno */
	struct check	 checks[MAX_CHECKS];
	size_t		 nchecks;
} ps;

/* ------------------------------------------------------- capabilities */

static int
caps_get(uint64_t *prm, uint64_t *eff, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return -errno;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int
caps_set(uint64_t prm, uint64_t eff, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	d[0].permitted = (uint32_t)prm;
	d[1].permitted = (uint32_t)(prm >> 32);
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	return syscall(SYS_capset, &h, d) == -1 ? -errno : 0;
}

/* Keeps (of what the calling thread holds) only keep in P and E, and of
 * those only amb in I and the ambient set, for the programs it runs (I
 * must stay within the bounding set). */
static int
caps_limit(uint64_t keep, uint64_t amb)
{
	uint64_t p, e, i;
	unsigned c;
	int rc;

	if ((rc = caps_get(&p, &e, &i)) < 0)
		return rc;
	p &= keep;
	amb &= p;
	if ((rc = caps_set(p, p, amb)) < 0)
		return rc;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -errno;
	for (c = 0; c < 64; c++)
		if ((amb & (UINT64_C(1) << c)) != 0 && prctl(PR_CAP_AMBIENT,
		    PR_CAP_AMBIENT_RAISE, c, 0, 0) == -1)
			return -errno;
	return 0;
}

/* The bounding set down to KEEP_CAPS: needs CAP_SETPCAP. */
static int
bounding_limit(void)
{
	unsigned c;

	for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if ((KEEP_CAPS & (UINT64_C(1) << c)) == 0 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
			return -errno;
	return 0;
}

/* ------------------------------------------------------------ seccomp */

/*
 * Built with AddressSanitizer (make SAN=1), the sanitizer's runtime makes
 * calls of its own on every thread (sigaltstack() as one starts and ends,
 * and more when it reports), and LeakSanitizer ptraces the threads at the
 * exit: there the allowlists only log what they would refuse, and the base
 * filter leaves ptrace alone.  The filters are still loaded, in the same
 * places; the enforcing ones are what the normal build tests.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

bool
priv_allowlists_enforce(void)
{
#if defined(SANITIZED) || defined(PRIV_SECCOMP_LOG) || \
    defined(PRIV_SECCOMP_SURVEY) || !HAVE_SECCOMP
	return false;
#else
	return true;
#endif
}

#if HAVE_SECCOMP


#if defined(PRIV_SECCOMP_LOG) || defined(PRIV_SECCOMP_SURVEY)
#define DENY(e)		SCMP_ACT_LOG	/* building the lists */
#else
#define DENY(e)		SCMP_ACT_ERRNO(e)
#endif
#ifdef SANITIZED
#define REFUSE		SCMP_ACT_LOG	/* what an allowlist lacks */
#else
#define REFUSE		DENY(EPERM)
#endif

/* Every thread and child: refused. */
static const char *const base_deny[] = {
	/* namespaces (clone's flags: below) */
	"unshare", "setns",
	/* other processes' memory */
#ifndef SANITIZED
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev", "kcmp",
	"pidfd_getfd", "perf_event_open",
	/* kernel attack surface nothing here uses */
	"bpf", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "keyctl", "add_key", "request_key",
	"open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
	"fanotify_init", "uselib", "vhangup",
	/* mounts */
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
	"fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	/* the system */
	"reboot", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "swapon", "swapoff", "acct",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname", "syslog", "quotactl", "iopl",
	"ioperm",
};

/*
 * The allowlists: what the survey (above) saw each thread make over the
 * whole end-to-end suite, and, marked so, what it did not see but a path
 * the tests do not take needs.  mmap, mprotect, socket, setsockopt, clone
 * and tgkill are allowed below, with their arguments checked.
 */
static const char *const worker_allow[] = {
	/* seen: the queue's batch and verdicts, the forged answers, the
	 * event log's wake-up, stderr, locks; the thread's end */
	"recvmmsg", "sendto", "sendmmsg", "write", "futex", "madvise",
	"rt_sigprocmask", "exit",
	/* not seen: malloc's larger blocks, the vDSO's fallbacks, abort(),
	 * a signal's return, fatal() */
	"brk", "munmap", "mremap", "clock_gettime", "gettimeofday",
	"getpid", "gettid", "rt_sigreturn", "exit_group",
	/* not seen (the tests log to stderr): syslog(3), which may
	 * reconnect to /dev/log */
	"connect", "close",
};

static const char *const blockpage_allow[] = {
	/* seen: its sockets, made on this thread at start, and its loop */
	"bind", "listen", "getsockname", "epoll_create1", "epoll_ctl",
	"epoll_wait", "eventfd2", "accept4", "recvfrom", "sendto",
	"shutdown", "read", "write", "close",
	/* seen: its thread, memory, the page link's key */
	"set_robust_list", "rseq", "madvise", "munmap", "rt_sigprocmask",
	"exit", "getrandom",
	/* its thread's first act, priv_shed(): capabilities can only be
	 * lowered with these, never raised past what the thread holds */
	"capget", "capset",
	/* not seen: as the workers' */
	"brk", "mremap", "futex", "clock_gettime", "gettimeofday", "getpid",
	"gettid", "rt_sigreturn", "exit_group", "connect",
};

static int
add(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr, rc;

	/* A name this architecture lacks is nothing to filter. */
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return 0;
	rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	return rc == -EEXIST ? 0 : rc;
}

static int
add_list(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
    size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = add(ctx, action, names[i], 0, NULL)) < 0)
			return rc;
	return 0;
}

/* One comparison: (argument arg op a), or for SCMP_CMP_MASKED_EQ
 * (argument arg & a) == b.  The whole 64-bit register is compared, so an
 * allowlist's EQ refuses an int argument with junk in its upper half, and
 * the denylist's "above AF_NETLINK" catches it. */
static struct scmp_arg_cmp
cmp(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	struct scmp_arg_cmp c = { arg, op, a, b };

	return c;
}

static int
base_rules(scmp_filter_ctx ctx)
{
	static const unsigned long ns[] = { CLONE_NEWUSER, CLONE_NEWNS,
	    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC,
	    CLONE_NEWCGROUP };
	struct scmp_arg_cmp c;
	unsigned fam;
	size_t i;
	int rc;

	if ((rc = add_list(ctx, DENY(EPERM), base_deny,
	    sizeof(base_deny) / sizeof(base_deny[0]))) < 0)
		return rc;
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		c = cmp(0, SCMP_CMP_MASKED_EQ, ns[i], ns[i]);
		if ((rc = add(ctx, DENY(EPERM), "clone", 1, &c)) < 0)
			return rc;
	}
	/* Socket families: AF_UNIX (1), AF_INET (2), AF_INET6 (10) and
	 * AF_NETLINK (16) only.  One comparison a rule: 0, 3-9, 11-15 and
	 * above 16 are refused one by one. */
	for (fam = 0; fam < AF_NETLINK; fam++) {
		if (fam == AF_UNIX || fam == AF_INET || fam == AF_INET6)
			continue;
		c = cmp(0, SCMP_CMP_EQ, fam, 0);
		if ((rc = add(ctx, DENY(EAFNOSUPPORT), "socket", 1, &c)) < 0)
			return rc;
	}
	c = cmp(0, SCMP_CMP_GT, AF_NETLINK, 0);
	return add(ctx, DENY(EAFNOSUPPORT), "socket", 1, &c);
}

/* What both allowlists share past their lists. */
static int
strict_common(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp c;
	int rc;

	/* Memory, but never executable. */
	c = cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if ((rc = add(ctx, SCMP_ACT_ALLOW, "mmap", 1, &c)) < 0 ||
	    (rc = add(ctx, SCMP_ACT_ALLOW, "mprotect", 1, &c)) < 0)
		return rc;
	/* A signal to this process only (abort(), glibc's own). */
	c = cmp(0, SCMP_CMP_EQ, (uint32_t)getpid(), 0);
	if ((rc = add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &c)) < 0)
		return rc;
	/* AF_UNIX only: syslog(3) reconnecting to /dev/log. */
	c = cmp(0, SCMP_CMP_EQ, AF_UNIX, 0);
	return add(ctx, SCMP_ACT_ALLOW, "socket", 1, &c);
}

static int
worker_rules(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp c[2];
	int rc;

	if ((rc = add_list(ctx, SCMP_ACT_ALLOW, worker_allow,
	    sizeof(worker_allow) / sizeof(worker_allow[0]))) < 0 ||
	    (rc = strict_common(ctx)) < 0)
		return rc;
	/* The queue's receive timeout (queue_run()), and nothing else. */
	c[0] = cmp(1, SCMP_CMP_EQ, SOL_SOCKET, 0);
	c[1] = cmp(2, SCMP_CMP_EQ, SO_RCVTIMEO, 0);
	return add(ctx, SCMP_ACT_ALLOW, "setsockopt", 2, c);
}

static int
blockpage_rules(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp c, tcp[2];
	int rc;

	if ((rc = add_list(ctx, SCMP_ACT_ALLOW, blockpage_allow,
	    sizeof(blockpage_allow) / sizeof(blockpage_allow[0]))) < 0 ||
	    (rc = strict_common(ctx)) < 0)
		return rc;
	/* Its listening sockets, made after the filter is in: TCP only
	 * (the type's low bits; the high ones are SOCK_NONBLOCK and
	 * SOCK_CLOEXEC). */
	tcp[1] = cmp(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM);
	tcp[0] = cmp(0, SCMP_CMP_EQ, AF_INET, 0);
	if ((rc = add(ctx, SCMP_ACT_ALLOW, "socket", 2, tcp)) < 0)
		return rc;
	tcp[0] = cmp(0, SCMP_CMP_EQ, AF_INET6, 0);
	if ((rc = add(ctx, SCMP_ACT_ALLOW, "socket", 2, tcp)) < 0)
		return rc;
	if ((rc = add(ctx, SCMP_ACT_ALLOW, "setsockopt", 0, NULL)) < 0)
		return rc;
	/* Its own thread, started after the filter is in: threads only,
	 * never a process. */
	c = cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	return add(ctx, SCMP_ACT_ALLOW, "clone", 1, &c);
}

int
priv_seccomp_install(enum priv_filter which)
{
	scmp_filter_ctx ctx;
	uint32_t def;
	int rc;

	if (which == PRIV_FILTER_NONE)
		return 0;
	def = which == PRIV_FILTER_BASE ? SCMP_ACT_ALLOW : REFUSE;
	if ((ctx = seccomp_init(def)) == NULL)
		return -ENOMEM;
	/* Another ABI's calls (x32, i386) would pass by the rules. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    DENY(ENOSYS))) < 0)
		goto out;
	/*
	 * clone3's flags are out of reach (a pointer): the base filter
	 * answers it ENOSYS, which sends glibc to clone, whose flags the rules
	 * read (even when building the lists: the fallback is part of what is
	 * measured).  Every pthread_create() and posix_spawn() does that, so
	 * the base filter logs nothing; the allowlists, which refuse only
	 * what their threads never do, have the kernel log each refusal (a
	 * kernel that cannot is no reason to go unfiltered), and let clone3
	 * through to the base filter's ENOSYS, unlogged.
	 */
	if (which == PRIV_FILTER_BASE)
		rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
	else {
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		rc = add(ctx, SCMP_ACT_ALLOW, "clone3", 0, NULL);
	}
	if (rc < 0)
		goto out;
#ifdef PRIV_SECCOMP_SURVEY
	/* Every call the allowlists' threads make, logged. */
	if (which != PRIV_FILTER_BASE)
		which = PRIV_FILTER_NONE;
#endif
	switch (which) {
	case PRIV_FILTER_NONE:
		break;
	case PRIV_FILTER_BASE:
		rc = base_rules(ctx);
		break;
	case PRIV_FILTER_WORKER:
		rc = worker_rules(ctx);
		break;
	case PRIV_FILTER_BLOCKPAGE:
		rc = blockpage_rules(ctx);
		break;
	default:
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return rc;
}

#else /* !HAVE_SECCOMP */

int
priv_seccomp_install(enum priv_filter which)
{
	return which == PRIV_FILTER_NONE ? 0 : -ENOTSUP;
}

#endif

/* ------------------------------------------------------------ the user */

void
priv_init(const char *user, bool keep)
{
	struct passwd *pw;

	memset(&ps, 0, sizeof(ps));
	ps.keep = keep;
	ps.root = geteuid() == 0;
	snprintf(ps.user, sizeof(ps.user), "%s", user != NULL ? user :
	    PRIV_USER);
	if (keep || !ps.root)
		return;
	errno = 0;
	if ((pw = getpwnam(ps.user)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			log_warn("user %s", ps.user);
		return;
	}
	if (pw->pw_uid == 0) {
		ps.stay_root = true;	/* -u root: asked for */
		return;
	}
	ps.has_user = true;
	ps.uid = pw->pw_uid;
	ps.gid = pw->pw_gid;
}

/* Whether there is a switch ahead, for which files must be readied. */
static bool
switching(void)
{
	return !ps.keep && ps.root && ps.has_user;
}

static void
need(const char *path, int mode, const char *what)
{
	size_t i;

	for (i = 0; i < ps.nchecks; i++)
		if (strcmp(ps.checks[i].path, path) == 0)
			return;
	if (ps.nchecks == MAX_CHECKS ||
	    (ps.checks[ps.nchecks].path = strdup(path)) == NULL)
		return;
	ps.checks[ps.nchecks].mode = mode;
	ps.checks[ps.nchecks++].what = what;
}

void
priv_need_read(const char *path, const char *what)
{
	struct stat st;

	/* A path not there (the built-in config, a set compiled at load)
	 * is nothing to check. */
	if (switching() && path != NULL && path[0] != '\0' &&
	    stat(path, &st) == 0)
		need(path, S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK, what);
}

static int
own_dir(const char *path, const char *what)
{
	char dir[PATH_MAX], *p;
	struct stat st;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == dir)
		return 0;	/* "/": not ours to give */
	*p = '\0';
	need(dir, W_OK | X_OK, what);
	if (stat(dir, &st) == 0)
		return 0;	/* the admin's: checked, never chowned */
	if (errno != ENOENT)
		return -errno;
	/* Missing parents are the system's (0755); the folder itself is
	 * the user's. */
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return -errno;
	if (chown(dir, ps.uid, ps.gid) == -1)
		return -errno;
	return 0;
}

void
priv_own_dir(const char *path, const char *what)
{
	int rc;

	if (switching() && path != NULL && path[0] == '/' &&
	    (rc = own_dir(path, what)) < 0)
		log_warnx("privileges: the folder of %s for user %s: %s", path,
		    ps.user, sg_strerror(rc));
}

static void
own(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid == ps.uid && st.st_gid == ps.gid))
		return;
	if (fchownat(AT_FDCWD, path, ps.uid, ps.gid,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("chown %s to %s", path, ps.user);
}

void
priv_own_file(const char *path, bool rotated)
{
	char **names;
	size_t i, n;

	if (!switching() || path == NULL || path[0] == '\0')
		return;
	own(path);
	if (!rotated || evlog_rotated(path, &names, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		own(names[i]);
	evlog_names_free(names, n);
}

/* ------------------------------------------------------------ confine */

int
priv_confine(void)
{
	uint64_t p, e, i;
	int rc;

	if (ps.keep)
		return 0;
	if ((rc = caps_get(&p, &e, &i)) < 0)
		return rc;
	if (e & (UINT64_C(1) << CAP_SETPCAP)) {
		if ((rc = bounding_limit()) < 0)
			return rc;
	} else
		log_debug("privileges: no CAP_SETPCAP: the bounding set "
		    "stays as it was given");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -errno;
	/* What libc and libcrypto read from files on first use, read now,
	 * while any thread may: a filtered thread cannot open
	 * /etc/localtime (the block page's times) or openssl.cnf (the
	 * workers' QUIC keys) later. */
	tzset();
	(void)OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	rc = priv_seccomp_install(PRIV_FILTER_BASE);
	ps.seccomp = rc == 0 ? 1 : rc;
	if (rc == -ENOTSUP)
		log_warnx("privileges: built without libseccomp: no system "
		    "call filter");
	else if (rc < 0)
		log_warnx("privileges: the kernel refused the system call "
		    "filter (%s): running without one", sg_strerror(rc));
	return 0;
}

struct run {
	const char	*name;
	enum priv_caps	 caps;
	enum priv_filter filter;
	int		(*fn)(void *);
	void		*arg;
	int		 rc;
};

/*
 * What SO_MARK needs here: CAP_NET_RAW alone since Linux 5.17, else
 * CAP_NET_ADMIN.  Tried with CAP_NET_RAW alone in effect, before the
 * calling thread lets anything go.
 */
static uint64_t
mark_caps(void)
{
	const uint64_t raw = UINT64_C(1) << CAP_NET_RAW;
	uint64_t p, e, i;
	int fd, one = 1;
	bool ok = false;

	if (caps_get(&p, &e, &i) < 0 || caps_set(p, e & raw, i) < 0)
		return KEEP_CAPS;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		ok = setsockopt(fd, SOL_SOCKET, SO_MARK, &one,
		    sizeof(one)) == 0;
		close(fd);
	}
	(void)caps_set(p, e, i);
	return ok ? raw : KEEP_CAPS;
}

static uint64_t
run_caps(enum priv_caps caps)
{
	switch (caps) {
	case PRIV_CAPS_BIND:
		return BIND_CAP;
	case PRIV_CAPS_MARK:
		return mark_caps();
	default:
		return 0;
	}
}

static void *
run_main(void *arg)
{
	struct run *r = arg;

	(void)prctl(PR_SET_NAME, r->name, 0, 0, 0);
	if (!ps.keep) {
		if ((r->rc = caps_limit(run_caps(r->caps), 0)) < 0) {
			log_warnx("privileges: %s: capabilities: %s", r->name,
			    sg_strerror(r->rc));
			return NULL;
		}
		if (ps.seccomp == 1 &&
		    (r->rc = priv_seccomp_install(r->filter)) < 0) {
			log_warnx("privileges: %s: system call filter: %s",
			    r->name, sg_strerror(r->rc));
			return NULL;
		}
	}
	r->rc = r->fn(r->arg);
	return NULL;
}

int
priv_run(const char *name, enum priv_caps caps, enum priv_filter filter,
    int (*fn)(void *), void *arg)
{
	struct run r = { name, caps, filter, fn, arg, 0 };
	pthread_t t;
	int e;

	if ((e = pthread_create(&t, NULL, run_main, &r)) != 0) {
		log_warnx("privileges: %s: %s", name, strerror(e));
		return -e;
	}
	pthread_join(t, NULL);
	return r.rc;
}

int
priv_shed(void)
{
	if (ps.keep)
		return 0;
	/* Ambient and inheritable go with permitted. */
	return caps_set(0, 0, 0);
}

int
priv_enter(const char *name, enum priv_filter filter)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	if (ps.keep || ps.seccomp != 1)
		return 0;
	return priv_seccomp_install(filter);
}

/* After the switch: what the user cannot reach is said now, not at the
 * first rotation or reload. */
static void
check_access(void)
{
	size_t i;

	for (i = 0; i < ps.nchecks; i++) {
		if (access(ps.checks[i].path, ps.checks[i].mode) == -1)
			log_warn("privileges: user %s cannot %s %s: %s will "
			    "fail", ps.user, ps.checks[i].mode & W_OK ?
			    "write in" : "read", ps.checks[i].path,
			    ps.checks[i].what);
		free(ps.checks[i].path);
	}
	ps.nchecks = 0;
}

/* The name status shows; looked up here, on the main thread, once. */
static void
name_self(void)
{
	struct passwd *pw;
	uid_t u = geteuid();

	if ((pw = getpwuid(u)) != NULL)
		snprintf(ps.name, sizeof(ps.name), "%s", pw->pw_name);
	else
		snprintf(ps.name, sizeof(ps.name), "%u", (unsigned)u);
}

int
priv_drop(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	name_self();
	if (ps.keep) {
		log_warnx("-U: keeping user %s and every capability, with no "
		    "system call filter (for debugging only)", ps.name);
		return 0;
	}
	if (switching()) {
		/* One thread: glibc has no other to apply the ids to. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
		    setgroups(1, &ps.gid) == -1 ||
		    setresgid(ps.gid, ps.gid, ps.gid) == -1 ||
		    setresuid(ps.uid, ps.uid, ps.uid) == -1)
			return -errno;
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (getresuid(&ru, &eu, &su) == -1 ||
		    getresgid(&rg, &eg, &sg) == -1 || ru != ps.uid ||
		    eu != ps.uid || su != ps.uid || rg != ps.gid ||
		    eg != ps.gid || sg != ps.gid)
			return -EPERM;
		name_self();
	} else if (ps.root && !ps.stay_root)
		log_warnx("privileges: no user %s: staying root, with only "
		    "CAP_NET_ADMIN and CAP_NET_RAW (useradd --system %s)",
		    ps.user, ps.user);
	/* CAP_NET_BIND_SERVICE, if held, stays for priv_run() until
	 * priv_finish(); never ambient. */
	return caps_limit(KEEP_CAPS | BIND_CAP, KEEP_CAPS);
}

int
priv_finish(void)
{
	int rc;

	if (ps.keep)
		return 0;
	if ((rc = caps_limit(KEEP_CAPS, KEEP_CAPS)) < 0)
		return rc;
	check_access();
	log_info("privileges: user %s, CAP_NET_ADMIN and CAP_NET_RAW, "
	    "system call filters %s", priv_user(), priv_seccomp_state());
	return 0;
}

const char *
priv_user(void)
{
	return ps.name[0] != '\0' ? ps.name : ps.user;
}

const char *
priv_seccomp_state(void)
{
	static char buf[96];

	if (ps.keep)
		return "off (-U)";
	if (ps.seccomp == 1)
		return "on";
	if (ps.seccomp == -ENOTSUP)
		return "off (not built in)";
	if (ps.seccomp == 0)
		return "off";
	snprintf(buf, sizeof(buf), "off (kernel: %s)",
	    sg_strerror(ps.seccomp));
	return buf;
}
