/* Bringing the container (or exec'd process) into existence through the runtime. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"

#define OUTPUT_PIPE_SIZE (1 << 20)

long read_oom_kills(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) return -1;
	char line[256];
	long n = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %ld", &n) == 1) break;
	fclose(f);
	return n;
}

/* Finds the container's memory cgroup from /proc/PID/cgroup, so the exit can tell whether the
 * kernel OOM-killed something in it: memory.oom_control on cgroup v1, memory.events on v2. */
static void find_oom_file(pid_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f) return;
	char v2[768] = "";
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *ctrls = strchr(line, ':');
		if (!ctrls) continue;
		char *cg = strchr(++ctrls, ':');
		if (!cg) continue;
		*cg++ = '\0';
		if (*ctrls == '\0') {
			snprintf(v2, sizeof v2, "%s", cg);
			continue;
		}
		for (char *save = NULL, *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			if (strcmp(c, "memory") == 0) {
				snprintf(S.oom_file, sizeof S.oom_file, "/sys/fs/cgroup/memory%.400s/memory.oom_control", cg);
				fclose(f);
				S.oom_before = read_oom_kills(S.oom_file);
				return;
			}
		}
	}
	fclose(f);
	if (v2[0]) {
		snprintf(S.oom_file, sizeof S.oom_file, "/sys/fs/cgroup%.400s/memory.events", v2);
		S.oom_before = read_oom_kills(S.oom_file);
	}
}

static pid_t read_pid_file(const char *file)
{
	char text[32];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = read_retry(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0) return -1;
	text[n] = '\0';
	long pid = strtol(text, NULL, 10);
	return pid > 0 ? (pid_t)pid : -1;
}

/* Waits for the runtime to connect to the console socket, or to exit without doing so. */
static int await_console(int console_listen, pid_t runtime_pid, int *runtime_status)
{
	for (;;) {
		struct pollfd p[2] = { { console_listen, POLLIN, 0 }, { S.sigfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		if (p[0].revents & POLLIN) return receive_console_fd(console_listen);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			(void)read_retry(S.sigfd, &si, sizeof si);
			if (waitpid(runtime_pid, runtime_status, WNOHANG) == 0) continue;
			/* Exited (and reaped) without sending a pty: its error is on stderr. */
			return -2;
		}
	}
}

int open_stdio_pipes(int child[3])
{
	int p[2];
	if (S.o.stdin_open) {
		if (pipe2(p, O_CLOEXEC) < 0) return -1;
		child[0] = p[0];
		S.in_fd = p[1];
	}
	for (int i = 0; i < 2; i++) {
		if (pipe2(p, O_CLOEXEC) < 0) return -1;
		/* A deeper pipe lets a chatty container run ahead while the log is written; it may be
		 * refused (pipe-max-size, pipe-user-pages-soft), which only costs speed. */
		(void)fcntl(p[0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
		S.out_fd[i] = p[0];
		child[i + 1] = p[1];
	}
	return 0;
}

int launch(const char *verb, char *err, size_t err_len)
{
	const char *argv[RUNTIME_MAX_ARGS];
	int n = runtime_base_args(&S.o.rt, argv);
	bool exec = strcmp(verb, "exec") == 0;
	argv[n++] = verb;
	if (exec) {
		argv[n++] = "--process";
		argv[n++] = S.o.exec_process;
		argv[n++] = "--detach";
	} else {
		argv[n++] = "--bundle";
		argv[n++] = S.o.bundle;
		if (S.o.no_pivot) argv[n++] = "--no-pivot";
	}
	argv[n++] = "--pid-file";
	argv[n++] = S.o.pid_file;
	char console_path[4096];
	if (S.o.tty) {
		/* runc dials this after moving into the bundle, so a relative name will not do, and
		 * the state dir's full path may not fit in a unix socket address (107 bytes). Our own
		 * working directory, seen through /proc, is the state dir under a short name. */
		snprintf(console_path, sizeof console_path, "/proc/%d/cwd/console.sock", (int)getpid());
		argv[n++] = "--console-socket";
		argv[n++] = console_path;
	}
	argv[n++] = S.o.id;
	argv[n] = NULL;
	(void)unlink(S.o.pid_file);

	/* child[] are the runtime's stdio; the shim keeps the other ends. With a tty the container
	 * gets the pty and the runtime's stderr is only for its own error message. */
	int child[3] = { -1, -1, -1 }, p[2], console = -1;
	int errpipe = -1;
	if (S.o.tty) {
		console = listen_unix("console.sock");
		if (console < 0) {
			snprintf(err, err_len, "cannot listen on console.sock: %s", strerror(errno));
			return -1;
		}
		if (pipe2(p, O_CLOEXEC) < 0) goto sys_fail;
		errpipe = p[0];
		child[2] = p[1];
	} else {
		if (open_stdio_pipes(child) < 0) goto sys_fail;
		errpipe = S.out_fd[1];
	}
	pid_t rt = spawn(argv, child[0], child[1], child[2]);
	for (int i = 0; i < 3; i++) close_fd(&child[i]);
	if (rt < 0) goto sys_fail;

	int status = 0;
	bool reaped = false;
	if (S.o.tty) {
		int master = await_console(console, rt, &status);
		if (master == -2) {
			reaped = true;
		} else if (master < 0) {
			warn_errno("receiving the pty from the runtime");
		} else {
			S.master_fd = master;
			S.out_fd[0] = master;
			if (S.o.stdin_open) S.in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
		}
		close_fd(&console);
		(void)unlink("console.sock");
	}
	if (!reaped) status = wait_child(rt);
	if (status != 0 || (S.o.tty && S.master_fd < 0)) {
		/* The runtime prints its error on stderr (a pipe we hold); crun only logs it. */
		if (errpipe >= 0 && set_nonblock(errpipe) == 0) {
			ssize_t r = read_retry(errpipe, err, err_len - 1);
			err[r > 0 ? r : 0] = '\0';
			err[strcspn(err, "\n")] = '\0';
		}
		if (!err[0]) last_runtime_error(S.o.rt.log, err, err_len);
		if (!err[0]) snprintf(err, err_len, "%s %s failed (wait status %d)", S.o.rt.path, verb, status);
		if (S.o.tty) close_fd(&errpipe);
		return -1;
	}
	if (S.o.tty) close_fd(&errpipe);
	S.pid = read_pid_file(S.o.pid_file);
	if (S.pid < 0) {
		snprintf(err, err_len, "%s %s did not write the pid file", S.o.rt.path, verb);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (S.out_fd[i] >= 0 && set_nonblock(S.out_fd[i]) < 0) warn_errno("nonblock");
	if (S.in_fd >= 0 && set_nonblock(S.in_fd) < 0) warn_errno("nonblock");
	if (!exec) find_oom_file(S.pid);
	return 0;

sys_fail:
	snprintf(err, err_len, "cannot start %s %s: %s", S.o.rt.path, verb, strerror(errno));
	for (int i = 0; i < 3; i++) close_fd(&child[i]);
	close_fd(&console);
	return -1;
}

/* What `runc start` does, without starting runc (a Go program: ~8 ms here). runc's create leaves
 * the container's init blocked opening ROOT/ID/exec.fifo for writing; start opens it for reading,
 * which lets the init write a byte and exec the process, reads the byte and removes the fifo
 * (runc then reports the container running). Returns 0 when started, -1 with msg when it cannot
 * have started (the init is gone), 1 when this runtime has no such fifo: run `RUNTIME start`. */
int start_through_fifo(char *msg, size_t msg_len)
{
	const char *base = strrchr(S.o.rt.path, '/');
	base = base ? base + 1 : S.o.rt.path;
	if (!S.o.rt.root || strcmp(base, "runc") != 0 || S.pid <= 0) return 1;
	char fifo[4096];
	snprintf(fifo, sizeof fifo, "%s/%s/exec.fifo", S.o.rt.root, S.o.id);
	/* Non-blocking: an init that died before opening its end must not hang the shim. */
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) return 1;
	int64_t deadline = monotonic_ms() + 10000;
	int result = -1;
	for (;;) {
		char byte;
		ssize_t n = read(fd, &byte, 1);
		if (n == 1) {
			result = 0;
			break;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(msg, msg_len, "reading %s: %s", fifo, strerror(errno));
			break;
		}
		/* n == 0 is no writer yet (or one that closed without writing): wait and look again. */
		siginfo_t si = { 0 };
		bool gone = waitid(P_PID, (id_t)S.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == S.pid;
		if (gone || monotonic_ms() > deadline) {
			snprintf(msg, msg_len, "the container's init (pid %d) did not take the start", (int)S.pid);
			break;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		(void)poll(&p, 1, 5);
	}
	close(fd);
	if (result == 0) (void)unlink(fifo);
	return result;
}
