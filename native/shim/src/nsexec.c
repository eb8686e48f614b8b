/* Native exec: a process started inside a running container by the shim itself, as `runc exec`
 * would start it, without the runtime's own start-up (a Go binary that also recompiles the
 * container's seccomp profile: about 30 ms of every `docker exec` here).
 *
 * The shim joins the container's pid namespace for its children, forks, and the child joins the
 * init's cgroups and other namespaces, takes the process's rlimits, user, capabilities,
 * no_new_privs and the init's own seccomp filter (read from the init with
 * PTRACE_SECCOMP_GET_FILTER, so it is exactly the program the runtime installed), then execs.
 * Whatever it cannot do the same way (a user namespace, no ptrace) makes it step aside before
 * anything has run, and the shim falls back to `runtime exec`.
 *
 * The description berthd writes (--native FILE) is NUL-separated "key=value" records:
 *   pid=N            the container's init (host pid)
 *   cgroup=DIR       a cgroup directory of the init (each hierarchy), joined through cgroup.procs
 *   cwd=DIR uid=N gid=N groups=N,N umask=N nnp=0|1 oom=N
 *   cap.bounding|effective|permitted|inheritable|ambient=HEX   capability masks (bit = number)
 *   rlimit=RESOURCE:SOFT:HARD   numbers, -1 for unlimited
 *   seccomp=1        install the init's first seccomp filter
 *   rows=N cols=N    the tty's first size
 *   env=K=V, arg=A   in order
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define SECCOMP_MODE_FILTER 2
#define LAST_CAP 63

/* The kernel's classic BPF program for seccomp (linux/filter.h, not in musl's headers). */
struct bpf_insn {
	unsigned short code;
	unsigned char jt, jf;
	unsigned int k;
};
struct bpf_prog {
	unsigned short len;
	struct bpf_insn *insns;
};

struct cap_header {
	unsigned int version;
	int pid;
};
struct cap_data {
	unsigned int effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522

#define MAX_LIST 1024
#define MAX_RLIMITS 32

struct native {
	pid_t init;
	const char *cgroups[32];
	int ncgroups;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t groups[256];
	int ngroups;
	long umask_value; /* -1: keep */
	bool nnp, seccomp;
	long oom; /* LONG_MIN: keep */
	uint64_t caps[5]; /* bounding, effective, permitted, inheritable, ambient */
	struct {
		int resource;
		struct rlimit limit;
	} rlimits[MAX_RLIMITS];
	int nrlimits;
	unsigned short rows, cols;
	char *env[MAX_LIST + 1];
	int nenv;
	char *args[MAX_LIST + 1];
	int nargs;
	char *text; /* the file's bytes, which the pointers above point into */
};

enum { CAP_BOUNDING, CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE, CAP_AMBIENT };
static const char *const cap_keys[] = { "cap.bounding", "cap.effective", "cap.permitted", "cap.inheritable", "cap.ambient" };

/* Namespaces joined, in this order: the mount namespace last, since it changes what paths mean. */
static const char *const ns_names[] = { "cgroup", "ipc", "uts", "net", "mnt" };

/* An errno as Go (and so runc) words it: strerror's text, lower case. */
static const char *go_error(int err)
{
	static char text[128];
	snprintf(text, sizeof text, "%s", strerror(err));
	if (text[0] >= 'A' && text[0] <= 'Z') text[0] = (char)(text[0] - 'A' + 'a');
	return text;
}

static rlim_t rlim_of(const char *s)
{
	return strcmp(s, "-1") == 0 ? RLIM_INFINITY : (rlim_t)strtoull(s, NULL, 10);
}

static int parse_native(const char *file, struct native *n, char *err, size_t err_len)
{
	memset(n, 0, sizeof *n);
	n->umask_value = -1;
	n->oom = LONG_MIN;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (1 << 22)) {
		snprintf(err, err_len, "cannot read %s: %s", file, go_error(errno));
		if (fd >= 0) close(fd);
		return -1;
	}
	n->text = malloc((size_t)st.st_size + 1);
	ssize_t got = n->text ? read_retry(fd, n->text, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size) {
		snprintf(err, err_len, "cannot read %s", file);
		return -1;
	}
	n->text[got] = '\0';
	for (char *rec = n->text, *next; rec < n->text + got; rec = next) {
		next = rec + strlen(rec) + 1; /* before the '=' below becomes the key's end */
		char *eq = strchr(rec, '=');
		if (!eq) continue;
		*eq = '\0';
		char *v = eq + 1;
		if (strcmp(rec, "pid") == 0) n->init = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(rec, "cgroup") == 0 && n->ncgroups < 32) n->cgroups[n->ncgroups++] = v;
		else if (strcmp(rec, "cwd") == 0) n->cwd = v;
		else if (strcmp(rec, "uid") == 0) n->uid = (uid_t)strtoul(v, NULL, 10);
		else if (strcmp(rec, "gid") == 0) n->gid = (gid_t)strtoul(v, NULL, 10);
		else if (strcmp(rec, "groups") == 0) {
			for (char *save = NULL, *g = strtok_r(v, ",", &save); g && n->ngroups < 256; g = strtok_r(NULL, ",", &save))
				n->groups[n->ngroups++] = (gid_t)strtoul(g, NULL, 10);
		} else if (strcmp(rec, "umask") == 0) n->umask_value = strtol(v, NULL, 10);
		else if (strcmp(rec, "nnp") == 0) n->nnp = strcmp(v, "1") == 0;
		else if (strcmp(rec, "seccomp") == 0) n->seccomp = strcmp(v, "1") == 0;
		else if (strcmp(rec, "oom") == 0) n->oom = strtol(v, NULL, 10);
		else if (strcmp(rec, "rows") == 0) n->rows = (unsigned short)strtoul(v, NULL, 10);
		else if (strcmp(rec, "cols") == 0) n->cols = (unsigned short)strtoul(v, NULL, 10);
		else if (strcmp(rec, "rlimit") == 0 && n->nrlimits < MAX_RLIMITS) {
			char *soft = strchr(v, ':');
			char *hard = soft ? strchr(soft + 1, ':') : NULL;
			if (!hard) continue;
			*soft++ = '\0';
			*hard++ = '\0';
			n->rlimits[n->nrlimits].resource = (int)strtol(v, NULL, 10);
			n->rlimits[n->nrlimits].limit.rlim_cur = rlim_of(soft);
			n->rlimits[n->nrlimits].limit.rlim_max = rlim_of(hard);
			n->nrlimits++;
		} else if (strcmp(rec, "env") == 0 && n->nenv < MAX_LIST) n->env[n->nenv++] = v;
		else if (strcmp(rec, "arg") == 0 && n->nargs < MAX_LIST) n->args[n->nargs++] = v;
		else {
			for (int i = 0; i < 5; i++)
				if (strcmp(rec, cap_keys[i]) == 0) n->caps[i] = strtoull(v, NULL, 16);
		}
	}
	if (n->init <= 0 || n->nargs == 0 || !n->cwd) {
		snprintf(err, err_len, "%s lacks the init's pid, the command or the working directory", file);
		return -1;
	}
	return 0;
}

/* The init's first seccomp filter (the runtime's), or NULL with *len 0 when it has none. The init
 * stops for the few microseconds of the read. NULL with *len -1: it could not be read. */
static struct bpf_insn *init_seccomp_filter(pid_t init, long *len)
{
	*len = -1;
	if (ptrace(PTRACE_SEIZE, init, NULL, NULL) < 0) return NULL;
	struct bpf_insn *insns = NULL;
	int status;
	if (ptrace(PTRACE_INTERRUPT, init, NULL, NULL) < 0 || waitpid(init, &status, __WALL) < 0) goto out;
	/* Index 0 is the newest filter; the runtime's is the oldest. */
	long oldest = -1, count;
	for (long i = 0; (count = ptrace(PTRACE_SECCOMP_GET_FILTER, init, (void *)i, NULL)) > 0; i++) {
		oldest = i;
		*len = count;
	}
	if (oldest < 0) {
		*len = errno == ENOENT || errno == EINVAL ? 0 : -1;
		goto out;
	}
	insns = calloc((size_t)*len, sizeof *insns);
	if (!insns || ptrace(PTRACE_SECCOMP_GET_FILTER, init, (void *)oldest, insns) != *len) {
		free(insns);
		insns = NULL;
		*len = -1;
	}
out:
	(void)ptrace(PTRACE_DETACH, init, NULL, NULL);
	return insns;
}

/* In the child: report a failure to the shim on errfd as runc words it, and exit. */
static void child_fail(int errfd, int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void child_fail(int errfd, int code, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "unable to start container process: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	(void)write_all(errfd, msg, strlen(msg));
	_exit(code);
}

static const char *env_value(char *const env[], const char *name)
{
	size_t len = strlen(name);
	for (int i = 0; env[i]; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') return env[i] + len + 1;
	return NULL;
}

/* execve of the command, found in the process's own PATH as runc (Go's LookPath) finds it. */
static void child_exec(int errfd, char *const args[], char *const env[])
{
	const char *cmd = args[0];
	if (strchr(cmd, '/')) {
		execve(cmd, args, env);
		if (errno == ENOENT) child_fail(errfd, 127, "exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
		child_fail(errfd, 126, "exec: \"%s\": %s", cmd, go_error(errno));
	}
	const char *path = env_value(env, "PATH");
	if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int denied = 0;
	for (const char *dir = path;; dir = strchr(dir, ':') + 1) {
		size_t dlen = strcspn(dir, ":");
		char full[PATH_MAX];
		if ((size_t)snprintf(full, sizeof full, "%.*s/%s", (int)dlen, dlen ? dir : ".", cmd) < sizeof full) {
			struct stat st;
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
				execve(full, args, env);
				if (errno == EACCES) denied = 1;
				else child_fail(errfd, 126, "exec: \"%s\": %s", cmd, go_error(errno));
			}
		}
		if (!strchr(dir, ':')) break;
	}
	if (denied) child_fail(errfd, 126, "exec: \"%s\": permission denied", cmd);
	child_fail(errfd, 127, "exec: \"%s\": executable file not found in $PATH", cmd);
}

static int send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return sendmsg(sock, &m, 0) < 0 ? -1 : 0;
}

static void install_filter(int errfd, struct bpf_insn *insns, long len)
{
	struct bpf_prog prog = { (unsigned short)len, insns };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) child_fail(errfd, 126, "error loading seccomp filter: %s", go_error(errno));
}

/* The child, between fork and exec: everything runc's exec does to the process, in its order. */
static void child(const struct native *n, const int ns_fds[], struct bpf_insn *filter, long filter_len,
		  int errfd, int stdio[3], int console_sock)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);

	for (int i = 0; i < n->ncgroups; i++) {
		char procs[PATH_MAX];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", n->cgroups[i]);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) child_fail(errfd, 126, "joining cgroup %s: %s", n->cgroups[i], go_error(errno));
		close(fd);
	}
	for (size_t i = 0; i < sizeof ns_names / sizeof ns_names[0]; i++)
		if (ns_fds[i] >= 0 && setns(ns_fds[i], 0) < 0) child_fail(errfd, 126, "joining the %s namespace: %s", ns_names[i], go_error(errno));
	if (chdir(n->cwd) < 0) child_fail(errfd, 126, "chdir to cwd (\"%s\") set in config.json failed: %s", n->cwd, go_error(errno));

	if (console_sock >= 0) {
		/* The pty comes from the container's own devpts, as the runtime makes it. */
		int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		int unlock = 0;
		if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail(errfd, 126, "opening /dev/ptmx: %s", go_error(errno));
		int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
		if (slave < 0) child_fail(errfd, 126, "opening the pty's peer: %s", go_error(errno));
		if (n->rows && n->cols) {
			struct winsize ws = { .ws_row = n->rows, .ws_col = n->cols };
			(void)ioctl(slave, TIOCSWINSZ, &ws);
		}
		if (fchown(slave, n->uid, (gid_t)-1) < 0) { /* devpts may refuse; the runtime ignores it too */ }
		if (send_fd(console_sock, master) < 0) child_fail(errfd, 126, "sending the pty: %s", go_error(errno));
		close(master);
		close(console_sock);
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) child_fail(errfd, 126, "making the pty the controlling terminal: %s", go_error(errno));
		stdio[0] = stdio[1] = stdio[2] = slave;
	}
	for (int i = 0; i < 3; i++) {
		int fd = stdio[i] >= 0 ? stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0 || dup2(fd, i) < 0) child_fail(errfd, 126, "setting up stdio: %s", go_error(errno));
	}

	for (int i = 0; i < n->nrlimits; i++)
		if (setrlimit(n->rlimits[i].resource, &n->rlimits[i].limit) < 0) child_fail(errfd, 126, "setrlimit %d: %s", n->rlimits[i].resource, go_error(errno));
	if (n->oom != LONG_MIN) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		char text[32];
		int len = snprintf(text, sizeof text, "%ld", n->oom);
		if (fd < 0 || write(fd, text, (size_t)len) != len) child_fail(errfd, 126, "writing oom_score_adj: %s", go_error(errno));
		close(fd);
	}
	if (n->umask_value >= 0) umask((mode_t)n->umask_value);
	/* Without no_new_privs a filter needs CAP_SYS_ADMIN: load it while we have it. */
	if (filter && !n->nnp) install_filter(errfd, filter, filter_len);

	for (int cap = 0; cap <= LAST_CAP; cap++)
		if (!(n->caps[CAP_BOUNDING] & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap) < 0 && errno != EINVAL)
			child_fail(errfd, 126, "dropping capability %d from the bounding set: %s", cap, go_error(errno));
	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups((size_t)n->ngroups, n->groups) < 0 ||
	    setresgid(n->gid, n->gid, n->gid) < 0 || setresuid(n->uid, n->uid, n->uid) < 0 || prctl(PR_SET_KEEPCAPS, 0) < 0)
		child_fail(errfd, 126, "setting the user %u:%u: %s", (unsigned)n->uid, (unsigned)n->gid, go_error(errno));
	struct cap_header h = { CAP_VERSION_3, 0 };
	struct cap_data d[2];
	for (int i = 0; i < 2; i++) {
		d[i].effective = (unsigned)(n->caps[CAP_EFFECTIVE] >> (32 * i));
		d[i].permitted = (unsigned)(n->caps[CAP_PERMITTED] >> (32 * i));
		d[i].inheritable = (unsigned)(n->caps[CAP_INHERITABLE] >> (32 * i));
	}
	/* A capability the host took from us too (a sandboxed host) fails here, as in the runtime. */
	if (syscall(SYS_capset, &h, d) < 0) child_fail(errfd, 126, "unable to apply caps: %s", go_error(errno));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int cap = 0; cap <= LAST_CAP; cap++)
		if ((n->caps[CAP_AMBIENT] & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			child_fail(errfd, 126, "raising ambient capability %d: %s", cap, go_error(errno));
	if (n->nnp) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(errfd, 126, "setting no_new_privs: %s", go_error(errno));
		/* As late as possible: the filter need not allow what came before. */
		if (filter) install_filter(errfd, filter, filter_len);
	}
	child_exec(errfd, n->args, n->env);
}

int launch_native(char *err, size_t err_len)
{
	struct native n;
	if (parse_native(S.o.native_exec, &n, err, err_len) < 0) return 1;

	/* Namespaces that differ from ours; a user namespace is the runtime's business. */
	int ns_fds[sizeof ns_names / sizeof ns_names[0]];
	int pid_ns = -1, rc = 1;
	for (size_t i = 0; i < sizeof ns_fds / sizeof ns_fds[0]; i++) ns_fds[i] = -1;
	struct bpf_insn *filter = NULL;
	const char *all[] = { "user", "pid", "cgroup", "ipc", "uts", "net", "mnt" };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char theirs[64], ours[64];
		snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)n.init, all[i]);
		snprintf(ours, sizeof ours, "/proc/self/ns/%s", all[i]);
		struct stat a, b;
		if (stat(theirs, &a) < 0) {
			if (errno == ENOENT && i == 2) continue; /* a kernel without cgroup namespaces */
			snprintf(err, err_len, "the container's init (pid %d) is gone: %s", (int)n.init, go_error(errno));
			goto out;
		}
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
		if (i == 0) goto out; /* user namespace: fall back */
		int fd = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fd < 0) goto out;
		if (i == 1) pid_ns = fd;
		else ns_fds[i - 2] = fd;
	}
	long filter_len = 0;
	if (n.seccomp) {
		filter = init_seccomp_filter(n.init, &filter_len);
		if (filter_len < 0) goto out; /* traced already, or no ptrace: fall back */
	}
	/* From here on the native path owns the exec: no fallback. */
	rc = -1;
	int stdio[3] = { -1, -1, -1 }, errp[2], console[2] = { -1, -1 };
	if (pipe2(errp, O_CLOEXEC) < 0) goto sys_fail;
	if (S.o.tty) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) goto sys_fail;
	} else if (open_stdio_pipes(stdio) < 0) {
		goto sys_fail;
	}
	/* Our children are born in the container's pid namespace; we stay where we are. */
	if (pid_ns >= 0 && setns(pid_ns, CLONE_NEWPID) < 0) goto sys_fail;
	pid_t pid = fork();
	if (pid < 0) goto sys_fail;
	if (pid == 0) {
		close(errp[0]);
		if (console[0] >= 0) close(console[0]);
		child(&n, ns_fds, filter, filter_len, errp[1], stdio, console[1]);
	}
	close(errp[1]);
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0) close(stdio[i]);
	if (console[1] >= 0) close(console[1]);
	if (S.o.tty) {
		int master = receive_fd(console[0]);
		close(console[0]);
		if (master >= 0) {
			S.master_fd = master;
			S.out_fd[0] = master;
			if (S.o.stdin_open) S.in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
		}
	}
	/* The error pipe closes on a successful execve; a message means the child failed. */
	ssize_t got = read_retry(errp[0], err, err_len - 1);
	close(errp[0]);
	err[got > 0 ? got : 0] = '\0';
	if (got > 0 || (S.o.tty && S.master_fd < 0)) {
		(void)wait_child(pid);
		if (!err[0]) snprintf(err, err_len, "unable to start container process: the pty was not received");
		rc = -1;
		goto out;
	}
	S.pid = pid;
	char text[32];
	int len = snprintf(text, sizeof text, "%d", (int)pid);
	if (write_file_atomic(S.o.pid_file, text, (size_t)len) < 0) warn_errno("writing the pid file");
	for (int i = 0; i < 2; i++)
		if (S.out_fd[i] >= 0 && set_nonblock(S.out_fd[i]) < 0) warn_errno("nonblock");
	if (S.in_fd >= 0 && set_nonblock(S.in_fd) < 0) warn_errno("nonblock");
	rc = 0;
	goto out;

sys_fail:
	snprintf(err, err_len, "cannot start the exec: %s", go_error(errno));
	rc = -1;
out:
	free(filter);
	free(n.text);
	if (pid_ns >= 0) close(pid_ns);
	for (size_t i = 0; i < sizeof ns_fds / sizeof ns_fds[0]; i++)
		if (ns_fds[i] >= 0) close(ns_fds[i]);
	return rc;
}
