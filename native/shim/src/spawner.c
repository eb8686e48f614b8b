/* berth-shim --spawner: starts short commands (mount, umount, ip, nft, runc, the shim itself)
 * for berthd. Node forks its whole process for every child, which costs milliseconds per spawn
 * with berthd's heap and blocks its event loop while it lasts (much more under a VM's TCG); this
 * process is tiny, so its fork is cheap, and berthd only writes a request and reads a reply.
 *
 * Protocol on stdin/stdout, integers in host byte order (berthd runs on the same machine):
 *   request: u32 length of what follows, u32 type, u32 job id, then
 *     type 1 (spawn): u32 argc, u32 stdin length, u32 cwd length, cwd bytes (no NUL; none when
 *                     0), argc NUL-terminated strings, stdin bytes
 *     type 2 (kill):  u32 signal (sent to the job's process, if it still runs)
 *   reply (once the job's process has exited and its stdout and stderr are closed):
 *     u32 length of what follows, u32 job id, i32 errno of a failed start (0: it ran),
 *     i32 exit code (-1 when killed), i32 signal, u32 stdout length, u32 stderr length, the bytes.
 * Children get the spawner's environment, stdin from the request (or /dev/null), and no other
 * descriptor. An argv[0] of "berth:NAME" runs a builtin instead (below). The spawner first writes "BSP1". At EOF on stdin the spawner exits once its running jobs have been answered. */
#include "shim.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum { REQ_SPAWN = 1, REQ_KILL = 2 };
/* Output kept per stream; what goes beyond is read and dropped (berthd caps its buffers too). */
#define OUTPUT_CAP (16u << 20)

struct job {
	uint32_t id;
	pid_t pid; /* 0 once reaped */
	int status;
	int in, out, err; /* -1 once closed */
	struct buf input, stdout_buf, stderr_buf;
};

/* Ignored by the spawner, restored for its children (ignored signals survive exec). */
static const int stop_signals[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static struct job *jobs;
static size_t njobs, jobs_cap;
static struct buf requests, replies;

static uint32_t get_u32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }

static void reply(uint32_t id, int start_errno, int status, const struct buf *out, const struct buf *err)
{
	size_t olen = out ? buf_pending(out) : 0, elen = err ? buf_pending(err) : 0;
	char head[28];
	put_u32(head, (uint32_t)(24 + olen + elen));
	put_u32(head + 4, id);
	put_u32(head + 8, (uint32_t)start_errno);
	put_u32(head + 12, (uint32_t)(start_errno == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1));
	put_u32(head + 16, (uint32_t)(start_errno == 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0));
	put_u32(head + 20, (uint32_t)olen);
	put_u32(head + 24, (uint32_t)elen);
	if (buf_append(&replies, head, sizeof head) < 0 || (olen && buf_append(&replies, out->data + out->off, olen) < 0) ||
	    (elen && buf_append(&replies, err->data + err->off, elen) < 0)) {
		warn_msg("spawner: out of memory for a reply");
		exit(1);
	}
}

/* Builtins: what berthd would otherwise exec util-linux or iproute2 for, done with the system
 * call in the forked child (a dynamically linked mount(8) alone takes ~3 ms to start here):
 *   berth:mount FSTYPE SOURCE TARGET DATA   mount(2), relative paths from the request's cwd
 *   berth:umount TARGET [--lazy]            umount2(2), MNT_DETACH with --lazy
 *   berth:netns FILE                        a new network namespace, loopback up, bound at FILE
 * Each answers like a command: exit 0, or 1 with the reason on stderr. */
static int builtin_failed(const char *what, const char *target)
{
	int err = errno;
	dprintf(2, "%s %s: %s\n", what, target, strerror(err));
	return 1;
}

static int netns_at(const char *file)
{
	int fd = open(file, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
	if (fd < 0) return builtin_failed("creating", file);
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) return builtin_failed("unshare(CLONE_NEWNET) for", file);
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return builtin_failed("reading the loopback flags in", file);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) return builtin_failed("setting loopback up in", file);
	if (mount("/proc/self/ns/net", file, NULL, MS_BIND, NULL) < 0) return builtin_failed("binding the namespace at", file);
	return 0;
}

static int run_builtin(char **argv)
{
	const char *name = argv[0] + 6;
	int argc = 0;
	while (argv[argc]) argc++;
	if (strcmp(name, "mount") == 0 && argc == 5) {
		if (mount(argv[2], argv[3], argv[1], 0, argv[4]) < 0) return builtin_failed("mount:", argv[3]);
		return 0;
	}
	if (strcmp(name, "umount") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "--lazy") == 0))) {
		if (umount2(argv[1], argc == 3 ? MNT_DETACH : 0) < 0) return builtin_failed("umount:", argv[1]);
		return 0;
	}
	if (strcmp(name, "netns") == 0 && argc == 2) return netns_at(argv[1]);
	dprintf(2, "berth-shim --spawner: unknown builtin or arguments: %s\n", argv[0]);
	return 2;
}

/* Forks and execs argv; the child reports a failed exec through a close-on-exec pipe. */
static int start_job(struct job *j, char **argv, const char *cwd, bool with_input)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
	int e = 0;
	if (with_input ? pipe2(in, O_CLOEXEC) < 0 : (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) e = errno;
	if (!e && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)) e = errno;
	pid_t pid = e ? -1 : fork();
	if (!e && pid < 0) e = errno;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], SIG_DFL);
		if (cwd && chdir(cwd) < 0) e = errno;
		if (!e && (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)) e = errno;
		if (!e && strncmp(argv[0], "berth:", 6) == 0) {
			close(report[1]); /* started: the spawner goes on while the builtin runs */
			_exit(run_builtin(argv));
		}
		if (!e) {
			execvp(argv[0], argv);
			e = errno;
		}
		(void)!write(report[1], &e, sizeof e);
		_exit(127);
	}
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&report[1]);
	if (pid > 0) {
		/* EOF: the exec happened (the pipe is close-on-exec); an int: why it did not. */
		if (read_retry(report[0], &e, sizeof e) != (ssize_t)sizeof e) e = 0;
		j->pid = pid;
	}
	close_fd(&report[0]);
	j->in = in[1];
	j->out = out[0];
	j->err = err[0];
	if (j->out >= 0) set_nonblock(j->out);
	if (j->err >= 0) set_nonblock(j->err);
	if (j->in >= 0) set_nonblock(j->in);
	return e;
}

static void handle_spawn(uint32_t id, const char *p, size_t len)
{
	if (len < 12) return;
	uint32_t argc = get_u32(p), input_len = get_u32(p + 4), cwd_len = get_u32(p + 8);
	p += 12;
	len -= 12;
	if (argc == 0 || argc > 4096 || (size_t)cwd_len + input_len > len) {
		reply(id, EINVAL, 0, NULL, NULL);
		return;
	}
	char *cwd = cwd_len ? strndup(p, cwd_len) : NULL;
	p += cwd_len;
	len -= cwd_len;
	char **argv = calloc(argc + 1, sizeof *argv);
	size_t args_len = len - input_len;
	for (uint32_t i = 0; argv && i < argc; i++) {
		const char *end = memchr(p, '\0', args_len);
		if (!end) {
			argc = 0;
			break;
		}
		argv[i] = (char *)p;
		args_len -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	if (!argv || argc == 0) {
		reply(id, EINVAL, 0, NULL, NULL);
	} else {
		if (njobs == jobs_cap) {
			size_t cap = jobs_cap ? jobs_cap * 2 : 8;
			struct job *grown = realloc(jobs, cap * sizeof *grown);
			if (!grown) {
				warn_msg("spawner: out of memory");
				exit(1);
			}
			jobs = grown;
			jobs_cap = cap;
		}
		struct job *j = &jobs[njobs];
		memset(j, 0, sizeof *j);
		j->id = id;
		j->in = j->out = j->err = -1;
		int e = start_job(j, argv, cwd, input_len > 0);
		if (e != 0) {
			/* The child forked and failed to exec: reap it before answering. */
			if (j->pid > 0) (void)waitpid(j->pid, NULL, 0);
			close_fd(&j->in);
			close_fd(&j->out);
			close_fd(&j->err);
			reply(id, e, 0, NULL, NULL);
		} else {
			if (input_len) buf_append(&j->input, p + args_len, input_len);
			else close_fd(&j->in);
			njobs++;
		}
	}
	free(argv);
	free(cwd);
}

static void handle_requests(void)
{
	while (buf_pending(&requests) >= 4) {
		const char *p = requests.data + requests.off;
		uint32_t len = get_u32(p);
		if (buf_pending(&requests) < 4 + (size_t)len) return;
		if (len >= 8) {
			uint32_t type = get_u32(p + 4), id = get_u32(p + 8);
			if (type == REQ_SPAWN) {
				handle_spawn(id, p + 12, len - 8);
			} else if (type == REQ_KILL && len >= 12) {
				for (size_t i = 0; i < njobs; i++)
					if (jobs[i].id == id && jobs[i].pid > 0) (void)kill(jobs[i].pid, (int)get_u32(p + 12));
			}
		}
		buf_consume(&requests, 4 + (size_t)len);
	}
}

/* Reads what a child wrote; closes the fd at EOF. */
static void drain(int *fd, struct buf *into)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(*fd, chunk, sizeof chunk);
		if (n > 0) {
			if (buf_pending(into) + (size_t)n <= OUTPUT_CAP) buf_append(into, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EINTR)) continue;
		if (n < 0 && errno == EAGAIN) return;
		close_fd(fd);
		return;
	}
}

static void feed(struct job *j)
{
	while (buf_pending(&j->input) > 0) {
		ssize_t n = write(j->in, j->input.data + j->input.off, buf_pending(&j->input));
		if (n > 0) {
			buf_consume(&j->input, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno == EAGAIN) return;
		break; /* EPIPE: the command stopped reading */
	}
	close_fd(&j->in);
	buf_free(&j->input);
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < njobs; i++) {
			if (jobs[i].pid == pid) {
				jobs[i].pid = 0;
				jobs[i].status = status;
			}
		}
	}
}

/* Answers the jobs whose process has exited and whose output is closed. */
static void finish_jobs(void)
{
	for (size_t i = 0; i < njobs;) {
		struct job *j = &jobs[i];
		if (j->pid != 0 || j->out >= 0 || j->err >= 0) {
			i++;
			continue;
		}
		close_fd(&j->in);
		reply(j->id, 0, j->status, &j->stdout_buf, &j->stderr_buf);
		buf_free(&j->input);
		buf_free(&j->stdout_buf);
		buf_free(&j->stderr_buf);
		jobs[i] = jobs[--njobs];
	}
}

int spawner_main(void)
{
	/* berthd runs commands while it shuts down: a SIGTERM or ^C meant for it (sent to its process
	 * group, as timeout(1) and terminals do) must not end the spawner; EOF on stdin does. */
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], SIG_IGN);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) return 1;
	int sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) return 1;
	set_cloexec(0);
	set_cloexec(1);
	if (write_all(1, "BSP1", 4) < 0) return 1; /* hello: berthd sends nothing before it */
	set_nonblock(0);
	set_nonblock(1);
	bool input_open = true;
	struct pollfd *fds = NULL;
	size_t fds_cap = 0;
	while (input_open || njobs > 0 || buf_pending(&replies) > 0) {
		size_t want = 3 + njobs * 3;
		if (want > fds_cap) {
			fds_cap = want * 2;
			fds = realloc(fds, fds_cap * sizeof *fds);
			if (!fds) return 1;
		}
		size_t n = 0;
		fds[n++] = (struct pollfd){.fd = input_open ? 0 : -1, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = buf_pending(&replies) ? 1 : -1, .events = POLLOUT};
		fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		for (size_t i = 0; i < njobs; i++) {
			fds[n++] = (struct pollfd){.fd = jobs[i].out, .events = POLLIN};
			fds[n++] = (struct pollfd){.fd = jobs[i].err, .events = POLLIN};
			fds[n++] = (struct pollfd){.fd = buf_pending(&jobs[i].input) ? jobs[i].in : -1, .events = POLLOUT};
		}
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR) continue;
			return 1;
		}
		if (fds[2].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
			}
			reap();
		}
		/* Job fds first: the requests below may add jobs and move the array. */
		for (size_t i = 0; i < njobs; i++) {
			struct pollfd *f = &fds[3 + i * 3];
			if (f[0].revents) drain(&jobs[i].out, &jobs[i].stdout_buf);
			if (f[1].revents) drain(&jobs[i].err, &jobs[i].stderr_buf);
			if (f[2].revents) feed(&jobs[i]);
		}
		reap();
		finish_jobs();
		if (fds[0].revents) {
			char chunk[65536];
			for (;;) {
				ssize_t r = read(0, chunk, sizeof chunk);
				if (r > 0) {
					buf_append(&requests, chunk, (size_t)r);
					continue;
				}
				if (r < 0 && (errno == EINTR)) continue;
				if (r == 0 || (errno != EAGAIN)) input_open = false;
				break;
			}
			handle_requests();
			/* A job fed its input at start, when its pipe has room. */
			for (size_t i = 0; i < njobs; i++)
				if (jobs[i].in >= 0 && buf_pending(&jobs[i].input)) feed(&jobs[i]);
			finish_jobs();
		}
		if (buf_pending(&replies)) {
			ssize_t w = write(1, replies.data + replies.off, buf_pending(&replies));
			if (w > 0) buf_consume(&replies, (size_t)w);
			else if (w < 0 && errno != EAGAIN && errno != EINTR) return 1; /* berthd is gone */
		}
	}
	return 0;
}
