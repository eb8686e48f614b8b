/* The shim's life after launch: one poll loop over the container's stdio, attach clients and
 * SIGCHLD, then the exit record. */
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"

#define STDIN_HIGH_WATER (64u * 1024)
#define DRAIN_AFTER_EXIT_MS 2000
#define FLUSH_AT_END_MS 5000

static void reply(struct client *c, bool ok, const char *msg)
{
	(void)attach_send(c, ok ? FRAME_OK : FRAME_ERROR, msg, strlen(msg));
}

static void send_hello(struct client *c)
{
	static const char *names[] = { "created", "running", "exited" };
	char hello[512];
	int n = snprintf(hello, sizeof hello,
			 "{\"id\":\"%s\",\"pid\":%d,\"status\":\"%s\",\"tty\":%s,\"stdin\":%s,\"exec\":%s}",
			 S.o.id, (int)S.pid, names[S.phase], S.o.tty ? "true" : "false",
			 S.o.stdin_open && !S.stdin_done ? "true" : "false", S.o.exec_process ? "true" : "false");
	(void)attach_send(c, FRAME_HELLO, hello, (size_t)n);
}

void reap_children(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR) continue;
		if (pid <= 0) return;
		/* Other pids are processes orphaned to us as subreaper (host pid namespace). */
		if (pid == S.pid && S.phase != PHASE_EXITED) {
			S.wait_status = status;
			S.phase = PHASE_EXITED;
			clock_gettime(CLOCK_REALTIME, &S.exited_at);
			S.drain_deadline = monotonic_ms() + DRAIN_AFTER_EXIT_MS;
		}
	}
}

static void close_stdin_now(void)
{
	if (S.in_fd >= 0) close(S.in_fd);
	S.in_fd = -1;
	S.stdin_done = true;
	buf_free(&S.stdin_q);
}

/* Whether stdin frames are taken: the container's stdin is open, or (exec) will be at start,
 * so that what a client sends right after attaching is not lost. */
static bool stdin_accepting(void)
{
	if (!S.o.stdin_open || S.stdin_done || S.close_stdin) return false;
	return S.in_fd >= 0 || (S.phase == PHASE_CREATED && S.o.exec_process);
}

static bool handle_frame(struct client *c, unsigned type, const char *p, size_t n);

static void flush_stdin(void)
{
	while (S.in_fd >= 0 && buf_pending(&S.stdin_q) > 0) {
		ssize_t w = write(S.in_fd, S.stdin_q.data + S.stdin_q.off, buf_pending(&S.stdin_q));
		if (w < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN) return;
			/* EPIPE: the container closed its stdin; what is left has no reader. */
			close_stdin_now();
			break;
		}
		buf_consume(&S.stdin_q, (size_t)w);
	}
	if (S.close_stdin && S.in_fd >= 0 && buf_pending(&S.stdin_q) == 0) close_stdin_now();
	attach_unstall(handle_frame);
}

static void do_start(struct client *c)
{
	if (S.phase != PHASE_CREATED || (S.pid == 0 && !S.o.exec_process)) {
		reply(c, false, S.phase == PHASE_RUNNING ? "container is already running" : "container has exited");
		return;
	}
	char msg[1024];
	if (S.o.exec_process) {
		if (S.pid != 0) {
			reply(c, false, "exec process is already running");
			return;
		}
		int native = S.o.native_exec ? launch_native(msg, sizeof msg) : 1;
		if (native == 1) native = launch("exec", msg, sizeof msg);
		if (native < 0) {
			/* Nothing runs: record the failure as the exit, with dockerd's codes. */
			S.phase = PHASE_EXITED;
			S.exit_code_override = strstr(msg, "not found") || strstr(msg, "no such file") ? 127 : 126;
			snprintf(S.exit_error, sizeof S.exit_error, "%s", msg);
			clock_gettime(CLOCK_REALTIME, &S.exited_at);
			S.drain_deadline = monotonic_ms();
			reply(c, false, msg);
			return;
		}
		S.phase = PHASE_RUNNING;
		flush_stdin(); /* what clients sent before the start */
		reap_children(); /* it may have exited before we read its pid */
		reply(c, true, "");
		return;
	}
	msg[0] = '\0';
	int through_fifo = start_through_fifo(msg, sizeof msg);
	if (through_fifo == 0) {
		S.phase = PHASE_RUNNING;
		reply(c, true, "");
		return;
	}
	if (through_fifo < 0) {
		reply(c, false, msg);
		return;
	}
	const char *argv[RUNTIME_MAX_ARGS];
	int n = runtime_base_args(&S.o.rt, argv);
	argv[n++] = "start";
	argv[n++] = S.o.id;
	argv[n] = NULL;
	int status = run_captured(argv, msg, sizeof msg);
	if (status != 0) {
		if (!msg[0]) last_runtime_error(S.o.rt.log, msg, sizeof msg);
		if (!msg[0]) snprintf(msg, sizeof msg, "%s start failed (wait status %d)", S.o.rt.path, status);
		reply(c, false, msg);
		return;
	}
	if (S.phase == PHASE_CREATED) S.phase = PHASE_RUNNING;
	reply(c, true, "");
}

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static bool handle_frame(struct client *c, unsigned type, const char *p, size_t n)
{
	switch (type) {
	case FRAME_STDIN:
		if (!stdin_accepting()) return true; /* no stdin: dropped, as dockerd does */
		if (buf_pending(&S.stdin_q) > 0 && buf_pending(&S.stdin_q) + n > STDIN_HIGH_WATER) return false;
		if (buf_append(&S.stdin_q, p, n) < 0) {
			warn_msg("out of memory queueing stdin");
			return true;
		}
		flush_stdin();
		return true;
	case FRAME_CLOSE_STDIN:
		if (stdin_accepting()) {
			/* A pty has no half-close: the line discipline's EOF character ends a read. */
			if (S.o.tty) (void)buf_append(&S.stdin_q, "\x04", 1);
			else S.close_stdin = true;
			flush_stdin();
		}
		reply(c, true, "");
		return true;
	case FRAME_RESIZE: {
		if (n != 4) {
			reply(c, false, "resize takes 4 bytes: rows and columns, 16 bits each");
			return true;
		}
		if (S.master_fd < 0) {
			reply(c, false, "the container has no tty");
			return true;
		}
		const unsigned char *u = (const unsigned char *)p;
		struct winsize ws = { .ws_row = (unsigned short)(u[0] << 8 | u[1]),
				      .ws_col = (unsigned short)(u[2] << 8 | u[3]) };
		if (ioctl(S.master_fd, TIOCSWINSZ, &ws) < 0) reply(c, false, strerror(errno));
		else reply(c, true, "");
		return true;
	}
	case FRAME_START:
		do_start(c);
		return true;
	case FRAME_KILL: {
		if (n != 4) {
			reply(c, false, "kill takes a 4-byte signal number");
			return true;
		}
		if (S.o.exec_process && S.pid == 0 && S.phase == PHASE_CREATED) {
			/* An exec that was never started: nothing runs, the shim just goes. */
			S.phase = PHASE_EXITED;
			S.exit_code_override = 128 + (int)be32(p);
			snprintf(S.exit_error, sizeof S.exit_error, "killed before it was started");
			clock_gettime(CLOCK_REALTIME, &S.exited_at);
			S.drain_deadline = monotonic_ms();
			reply(c, true, "");
			return true;
		}
		/* We are its parent (subreaper) until we reap it, so the pid cannot have been reused. */
		if (S.pid <= 0 || S.phase == PHASE_EXITED) reply(c, false, "container is not running");
		else if (kill(S.pid, (int)be32(p)) < 0) reply(c, false, strerror(errno));
		else reply(c, true, "");
		return true;
	}
	case FRAME_SUBSCRIBE:
		if (n != 1) {
			reply(c, false, "subscribe takes one byte: 1 stdout, 2 stderr");
			return true;
		}
		c->mask = (unsigned char)p[0] & 3u;
		reply(c, true, "");
		return true;
	default: {
		char msg[64];
		snprintf(msg, sizeof msg, "unknown frame type %u", type);
		reply(c, false, msg);
		return true;
	}
	}
}

static void read_output(int i)
{
	static char chunk[32768];
	ssize_t r = read_retry(S.out_fd[i], chunk, sizeof chunk);
	if (r < 0 && errno == EAGAIN) return;
	if (r <= 0) {
		/* EOF on a pipe, EIO on a pty master once the last slave closes. */
		if (r < 0 && errno != EIO) warn_errno("reading the container's output");
		if (S.out_fd[i] == S.master_fd) S.master_fd = -1;
		close(S.out_fd[i]);
		S.out_fd[i] = -1;
		return;
	}
	/* A full disk would fail every write: say so once per failure streak. */
	static bool log_failing;
	if (logfile_write(&S.log, i + 1, chunk, (size_t)r) < 0) {
		if (!log_failing) warn_errno("writing the log (output is still sent to attached clients)");
		log_failing = true;
	} else {
		log_failing = false;
	}
	attach_broadcast((unsigned)(i + 1), chunk, (size_t)r);
}

void run_loop(void)
{
	struct pollfd p[5 + MAX_CLIENTS];
	struct client *who[5 + MAX_CLIENTS];
	for (;;) {
		bool outputs_open = S.out_fd[0] >= 0 || S.out_fd[1] >= 0;
		if (S.phase == PHASE_EXITED) {
			if (S.in_fd >= 0) close_stdin_now();
			if (!outputs_open || monotonic_ms() >= S.drain_deadline) return;
		}
		int n = 0;
		p[n++] = (struct pollfd){ S.sigfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ S.listen_fd, POLLIN, 0 };
		/* Back-pressure: a client that does not read holds the container's output. */
		short out_events = attach_max_pending() < CLIENT_HIGH_WATER ? POLLIN : 0;
		int out_at = n;
		for (int i = 0; i < 2; i++) p[n++] = (struct pollfd){ S.out_fd[i], out_events, 0 };
		int in_at = n;
		p[n++] = (struct pollfd){ buf_pending(&S.stdin_q) ? S.in_fd : -1, POLLOUT, 0 };
		int clients_at = n;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0) continue;
			short ev = (short)((c->stalled ? 0 : POLLIN) | (buf_pending(&c->out) ? POLLOUT : 0));
			who[n] = c;
			p[n++] = (struct pollfd){ c->fd, ev, 0 };
		}
		int timeout = -1;
		if (S.phase == PHASE_EXITED) {
			int64_t left = S.drain_deadline - monotonic_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR) continue;
			warn_errno("poll");
			return;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read_retry(S.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {}
			reap_children();
		}
		for (int i = 0; i < 2; i++)
			if (p[out_at + i].revents & (POLLIN | POLLHUP | POLLERR)) read_output(i);
		if (p[in_at].revents & (POLLOUT | POLLERR | POLLHUP)) flush_stdin();
		for (int i = clients_at; i < n; i++) {
			struct client *c = who[i];
			if (c->fd < 0) continue;
			if (p[i].revents & POLLOUT) attach_on_writable(c);
			if (c->fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) attach_on_readable(c, handle_frame);
		}
		if (p[1].revents & POLLIN) {
			struct client *c = attach_accept(S.listen_fd);
			if (c) send_hello(c);
		}
	}
}

static int exit_code(void)
{
	if (S.exit_code_override >= 0) return S.exit_code_override;
	if (WIFEXITED(S.wait_status)) return WEXITSTATUS(S.wait_status);
	if (WIFSIGNALED(S.wait_status)) return 128 + WTERMSIG(S.wait_status);
	return 255;
}

/* The error message goes into JSON: escape what JSON requires, drop other control bytes. */
static void json_escape(char *out, size_t out_len, const char *in)
{
	size_t o = 0;
	for (; *in && o + 3 < out_len; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch >= 0x20) {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

void finish(void)
{
	bool oom = false;
	if (S.oom_file[0] && S.oom_before >= 0) oom = read_oom_kills(S.oom_file) > S.oom_before;
	logfile_close(&S.log);
	char at[RFC3339NANO_LEN + 1], error[1100], record[1400];
	format_rfc3339nano(at, &S.exited_at);
	json_escape(error, sizeof error, S.exit_error);
	int sig = S.exit_code_override < 0 && WIFSIGNALED(S.wait_status) ? WTERMSIG(S.wait_status) : 0;
	int len = snprintf(record, sizeof record,
			   "{\"exitCode\":%d,\"signal\":%d,\"exitedAt\":\"%s\",\"oomKilled\":%s,\"error\":\"%s\"}\n",
			   exit_code(), sig, at, oom ? "true" : "false", error);
	if (write_file_atomic("exit", record, (size_t)len) < 0) warn_errno("writing the exit file");
	close(S.listen_fd);
	(void)unlink("attach.sock");
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0) (void)attach_send(&clients[i], FRAME_EXIT, record, (size_t)len - 1);
	/* The exit is reported first so that waiters learn it at once; the runtime's state goes
	 * after. berthd waits for the shim to be gone before it reuses the id. */
	if (!S.o.exec_process) {
		const char *argv[RUNTIME_MAX_ARGS];
		int n = runtime_base_args(&S.o.rt, argv);
		argv[n++] = "delete";
		argv[n++] = "--force";
		argv[n++] = S.o.id;
		argv[n] = NULL;
		char msg[1024];
		if (run_captured(argv, msg, sizeof msg) != 0) warn_msg("%s delete %s: %s", S.o.rt.path, S.o.id, msg);
	}
	/* Give attached clients the tail of the output and the exit frame, then go. */
	int64_t deadline = monotonic_ms() + FLUSH_AT_END_MS;
	while (!attach_all_flushed() && monotonic_ms() < deadline) {
		struct pollfd p[MAX_CLIENTS];
		struct client *who[MAX_CLIENTS];
		int n = 0;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd < 0 || buf_pending(&clients[i].out) == 0) continue;
			who[n] = &clients[i];
			p[n++] = (struct pollfd){ clients[i].fd, POLLOUT, 0 };
		}
		int r = poll(p, (nfds_t)n, (int)(deadline - monotonic_ms()));
		if (r < 0 && errno != EINTR) break;
		for (int i = 0; i < n; i++)
			if (p[i].revents) attach_on_writable(who[i]);
	}
	for (int i = 0; i < MAX_CLIENTS; i++) attach_close(&clients[i]);
	(void)unlink("shim.pid");
	_exit(0);
}
