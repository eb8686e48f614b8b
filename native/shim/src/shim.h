/* The shim's state: one container (or one exec'd process) and everything attached to it. */
#ifndef BERTH_SHIM_SHIM_H
#define BERTH_SHIM_SHIM_H

#include "logfile.h"
#include "runtime.h"
#include "util.h"

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct options {
	const char *id;
	const char *bundle;
	const char *state_dir;
	const char *log_path;      /* NULL: no log (exec processes) */
	const char *exec_process;  /* process.json: this shim runs `runtime exec` instead of create */
	const char *native_exec;   /* with exec_process: try the native exec (nsexec.c) first */
	struct runtime rt;
	char pid_file[4096];       /* STATE_DIR/pid, absolute for the same reason */
	off_t log_max_size;
	int log_max_file;
	bool tty, stdin_open, no_pivot;
};

enum phase { PHASE_CREATED, PHASE_RUNNING, PHASE_EXITED };

struct shim {
	struct options o;
	enum phase phase;
	int sigfd;           /* signalfd for SIGCHLD */
	int listen_fd;       /* attach.sock */
	int out_fd[2];       /* stdout and stderr of the container (tty: out_fd[0] is the pty master) */
	int in_fd;           /* where stdin goes (pipe or a dup of the pty master), -1 if none */
	int master_fd;       /* the pty master, for resizes; -1 without a tty */
	struct buf stdin_q;  /* stdin from clients not yet taken by the container */
	bool close_stdin;    /* close in_fd once stdin_q is empty */
	bool stdin_done;     /* in_fd was closed: later stdin is dropped */
	pid_t pid;           /* the container's init (or the exec'd process); 0 before it exists */
	int wait_status;     /* valid in PHASE_EXITED unless exit_code_override >= 0 */
	int exit_code_override;
	char exit_error[1024];
	struct timespec exited_at;
	int64_t drain_deadline;
	char oom_file[512];  /* cgroup file with the oom_kill counter */
	long oom_before;
	struct logfile log;
};

extern struct shim S;

/* Runs `runtime create` (or `runtime exec`): sets up stdio, receives the pty, reads the pid.
 * On failure returns -1 with a message in err. */
int launch(const char *verb, char *err, size_t err_len);
/* Without a tty: the pipes for the process's stdio. child[] gets the process's ends (stdin only
 * with --stdin), the shim keeps the others in S.in_fd and S.out_fd. 0 or -1 (errno). */
int open_stdio_pipes(int child[3]);
/* Starts the exec'd process natively (nsexec.c). 0: it runs; -1: it failed (message in err);
 * 1: the native path does not apply here and nothing was done: use the runtime. */
int launch_native(char *err, size_t err_len);
/* launch.c: runc's start done by the shim (0), failed (-1), or not possible here (1). */
int start_through_fifo(char *msg, size_t msg_len);
/* The oom_kill counter in a cgroup file, or -1. */
long read_oom_kills(const char *file);
/* Reaps children; notes the container's exit. */
void reap_children(void);
/* Serves attach.sock and the container's stdio until the container exits. */
void run_loop(void);
/* Records the exit (runtime delete, exit file, exit frames), flushes clients and exits. */
void finish(void) __attribute__((noreturn));

/* spawner.c: `berth-shim --spawner`, berthd's process starter (see the protocol there). */
int spawner_main(void);

#endif
