/* berth-shim: one small monitor per container. It starts the OCI runtime on a bundle, holds the
 * container's stdio or pty, writes its log, serves attach.sock, records the exit, and outlives
 * berthd. The wire protocol and the files it leaves are described in PROTOCOL.md. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"

struct shim S = {
	.sigfd = -1, .listen_fd = -1, .out_fd = { -1, -1 }, .in_fd = -1, .master_fd = -1,
	.exit_code_override = -1, .oom_before = -1,
};

static void usage(void)
{
	fputs("usage: berth-shim --id ID --bundle DIR --state-dir DIR --runtime PATH [--runtime-root DIR]\n"
	      "                  [--log PATH [--log-max-size BYTES] [--log-max-file N]]\n"
	      "                  [--tty] [--stdin] [--no-pivot] [--exec PROCESS_JSON [--native FILE]]\n",
	      stderr);
	exit(2);
}

static bool valid_id(const char *id)
{
	if (!id[0] || strlen(id) > 128) return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

static void parse_args(int argc, char **argv)
{
	enum { ID = 1, BUNDLE, STATE, RUNTIME, ROOT, LOG, MAXSIZE, MAXFILE, TTY, STDIN, NOPIVOT, EXEC, NATIVE };
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, ID },
		{ "bundle", required_argument, NULL, BUNDLE },
		{ "state-dir", required_argument, NULL, STATE },
		{ "runtime", required_argument, NULL, RUNTIME },
		{ "runtime-root", required_argument, NULL, ROOT },
		{ "log", required_argument, NULL, LOG },
		{ "log-max-size", required_argument, NULL, MAXSIZE },
		{ "log-max-file", required_argument, NULL, MAXFILE },
		{ "tty", no_argument, NULL, TTY },
		{ "stdin", no_argument, NULL, STDIN },
		{ "no-pivot", no_argument, NULL, NOPIVOT },
		{ "exec", required_argument, NULL, EXEC },
		{ "native", required_argument, NULL, NATIVE },
		{ NULL, 0, NULL, 0 },
	};
	struct options *o = &S.o;
	o->log_max_file = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case ID: o->id = optarg; break;
		case BUNDLE: o->bundle = optarg; break;
		case STATE: o->state_dir = optarg; break;
		case RUNTIME: o->rt.path = optarg; break;
		case ROOT: o->rt.root = optarg; break;
		case LOG: o->log_path = optarg; break;
		case MAXSIZE:
			o->log_max_size = strtoll(optarg, &end, 10);
			if (*end || o->log_max_size < 0) usage();
			break;
		case MAXFILE:
			o->log_max_file = (int)strtol(optarg, &end, 10);
			if (*end || o->log_max_file < 1) usage();
			break;
		case TTY: o->tty = true; break;
		case STDIN: o->stdin_open = true; break;
		case NOPIVOT: o->no_pivot = true; break;
		case EXEC: o->exec_process = optarg; break;
		case NATIVE: o->native_exec = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !o->id || !o->state_dir || !o->rt.path || (!o->bundle && !o->exec_process)) usage();
	if (!valid_id(o->id)) {
		fprintf(stderr, "berth-shim: invalid container id %s\n", o->id);
		exit(2);
	}
	if (strlen(o->state_dir) > 4000) {
		fprintf(stderr, "berth-shim: state dir path too long\n");
		exit(2);
	}
	snprintf(o->rt.log, sizeof o->rt.log, "%s/runtime.log", o->state_dir);
	snprintf(o->pid_file, sizeof o->pid_file, "%s/pid", o->state_dir);
	/* The shim works from inside its state dir; every other path must not depend on the cwd. */
	const char *paths[] = { o->bundle, o->state_dir, o->rt.root, o->log_path, o->exec_process, o->native_exec };
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		if (paths[i] && paths[i][0] != '/') {
			fprintf(stderr, "berth-shim: %s must be an absolute path\n", paths[i]);
			exit(2);
		}
	}
}

/* Puts the shim outside berthd's process tree: a double fork under a new session, so neither a
 * berthd crash nor its process group's signals reach it. The first process waits on report_fd
 * for the outcome of create and exits with it. Returns the write end in the shim. */
static int detach(void)
{
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0) {
		perror("berth-shim: pipe");
		exit(1);
	}
	pid_t mid = fork();
	if (mid < 0) {
		perror("berth-shim: fork");
		exit(1);
	}
	if (mid > 0) {
		close(sync[1]);
		char msg[2048];
		size_t len = 0;
		for (;;) {
			ssize_t r = read_retry(sync[0], msg + len, sizeof msg - 1 - len);
			if (r <= 0) break;
			len += (size_t)r;
			if (len == sizeof msg - 1) break;
		}
		msg[len] = '\0';
		(void)wait_child(mid);
		int shim_pid = 0, pid = 0;
		if (sscanf(msg, "ok %d %d", &shim_pid, &pid) == 2) {
			printf("{\"shimPid\":%d,\"pid\":%d}\n", shim_pid, pid);
			exit(0);
		}
		if (strncmp(msg, "error ", 6) == 0) fprintf(stderr, "%s\n", msg + 6);
		else fprintf(stderr, "berth-shim exited before reporting\n");
		exit(1);
	}
	close(sync[0]);
	if (setsid() < 0) _exit(1);
	pid_t shim = fork();
	if (shim < 0) {
		dprintf(sync[1], "error fork: %s", strerror(errno));
		_exit(1);
	}
	if (shim > 0) _exit(0);
	return sync[1];
}

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
	if (n > 0) (void)write_all(fd, msg, (size_t)n);
	/* After an error the pipe is left to close as the shim exits: the first process returns
	 * only then, so whoever started us sees no shim left behind. */
	if (strncmp(msg, "ok ", 3) == 0) close(fd);
}

/* Whether shim.pid names a shim that still runs: a second one must not take over its files. */
static pid_t live_shim(void)
{
	char text[32], path[64], cmd[256];
	int fd = open("shim.pid", O_RDONLY | O_CLOEXEC);
	if (fd < 0) return 0;
	ssize_t n = read_retry(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0) return 0;
	text[n] = '\0';
	pid_t pid = (pid_t)strtol(text, NULL, 10);
	if (pid <= 0 || pid == getpid()) return 0;
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return 0;
	n = read_retry(fd, cmd, sizeof cmd - 1);
	close(fd);
	if (n <= 0) return 0; /* a zombie has no command line */
	cmd[n] = '\0';
	return strstr(cmd, "berth-shim") ? pid : 0;
}

static void fail_setup(int report_fd, const char *what)
{
	report(report_fd, "error %s: %s", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--spawner") == 0) return spawner_main();
	parse_args(argc, argv);
	if (mkdir(S.o.state_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "berth-shim: cannot create %s: %s\n", S.o.state_dir, strerror(errno));
		return 1;
	}
	int report_fd = detach();

	if (chdir(S.o.state_dir) < 0) fail_setup(report_fd, "chdir to the state dir");
	pid_t other = live_shim();
	if (other > 0) {
		report(report_fd, "error a shim (pid %d) already runs for %s", (int)other, S.o.state_dir);
		return 1;
	}
	/* Our own messages go to shim.log; stdin and stdout to nothing. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int own_log = open("shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (null < 0 || own_log < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(own_log, 2) < 0)
		fail_setup(report_fd, "redirecting stdio");
	close(null);
	close(own_log);

	/* Orphans of the container (its init, once the runtime exits) are re-parented to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail_setup(report_fd, "prctl(PR_SET_CHILD_SUBREAPER)");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) fail_setup(report_fd, "sigprocmask");
	S.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (S.sigfd < 0) fail_setup(report_fd, "signalfd");

	char pid_text[32];
	int len = snprintf(pid_text, sizeof pid_text, "%d\n", (int)getpid());
	(void)unlink("exit");
	if (write_file_atomic("shim.pid", pid_text, (size_t)len) < 0) fail_setup(report_fd, "writing shim.pid");
	S.listen_fd = attach_listen("attach.sock");
	if (S.listen_fd < 0) fail_setup(report_fd, "listening on attach.sock");
	if (logfile_open(&S.log, S.o.log_path, S.o.log_max_size, S.o.log_max_file) < 0)
		fail_setup(report_fd, "opening the log file");

	if (!S.o.exec_process) {
		char err[1024];
		if (launch("create", err, sizeof err) < 0) {
			/* The runtime may have got as far as creating it: leave nothing behind. */
			const char *del[RUNTIME_MAX_ARGS];
			int n = runtime_base_args(&S.o.rt, del);
			del[n++] = "delete";
			del[n++] = "--force";
			del[n++] = S.o.id;
			del[n] = NULL;
			char ignored[256];
			(void)run_captured(del, ignored, sizeof ignored);
			report(report_fd, "error %s", err);
			(void)unlink("attach.sock");
			(void)unlink("shim.pid");
			return 1;
		}
	}
	S.phase = PHASE_CREATED;
	report(report_fd, "ok %d %d", (int)getpid(), (int)S.pid);
	reap_children(); /* the create may have consumed a SIGCHLD meant for the loop */
	run_loop();
	finish();
}
