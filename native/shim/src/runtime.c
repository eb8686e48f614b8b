#include "runtime.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int runtime_base_args(const struct runtime *rt, const char *argv[RUNTIME_MAX_ARGS])
{
	int n = 0;
	argv[n++] = rt->path;
	if (rt->root) {
		argv[n++] = "--root";
		argv[n++] = rt->root;
	}
	/* Warnings go to the file, not to the container's stderr pipe the runtime writes through. */
	argv[n++] = "--log";
	argv[n++] = rt->log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	return n;
}

pid_t spawn(const char *const argv[], int in, int out, int err)
{
	pid_t pid = fork();
	if (pid != 0) {
		if (pid < 0) warn_errno("fork %s", argv[0]);
		return pid;
	}
	/* The shim blocks SIGCHLD for its signalfd and ignores SIGPIPE; both survive execve. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int fds[3] = { in, out, err };
	for (int i = 0; i < 3; i++) {
		int src = fds[i] >= 0 ? fds[i] : null;
		if (src < 0 || dup2(src, i) < 0) _exit(127);
	}
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int wait_child(pid_t pid)
{
	int status;
	pid_t r;
	do r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : status;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
}

int run_captured(const char *const argv[], char *msg, size_t msg_len)
{
	int p[2];
	msg[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0) return -1;
	pid_t pid = spawn(argv, -1, -1, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	size_t len = 0;
	for (;;) {
		char chunk[512];
		ssize_t r = read_retry(p[0], chunk, sizeof chunk);
		if (r <= 0) break;
		size_t take = (size_t)r;
		if (len + take > msg_len - 1) take = msg_len - 1 - len;
		memcpy(msg + len, chunk, take);
		len += take;
	}
	msg[len] = '\0';
	close(p[0]);
	trim(msg);
	return wait_child(pid);
}

int receive_console_fd(int listen_fd)
{
	int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) return -1;
	int fd = receive_fd(conn);
	int err = errno;
	close(conn);
	errno = err;
	return fd;
}

int receive_fd(int conn)
{
	char name[4096];
	struct iovec iov = { name, sizeof name };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof control.buf,
	};
	ssize_t r;
	do r = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0) return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

void last_runtime_error(const char *log_path, char *msg, size_t msg_len)
{
	msg[0] = '\0';
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return;
	/* The error is among the last lines; 8 KiB from the end is plenty. */
	char tail[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof tail - 1, from);
	close(fd);
	if (n <= 0) return;
	tail[n] = '\0';
	/* Lines look like {"level":"error","msg":"…","time":"…"}; take the last error's msg. */
	char *found = NULL;
	for (char *p = tail; (p = strstr(p, "\"level\":\"error\"")) != NULL; p++) found = p;
	if (!found) return;
	char *m = strstr(found, "\"msg\":\"");
	if (!m) return;
	m += 7;
	size_t len = 0;
	for (; *m && *m != '"' && len < msg_len - 1; m++) {
		if (*m == '\\' && m[1]) {
			m++;
			msg[len++] = *m == 'n' ? ' ' : *m == 't' ? ' ' : *m;
		} else {
			msg[len++] = *m;
		}
	}
	msg[len] = '\0';
}
