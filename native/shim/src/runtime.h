/* Running the OCI runtime (runc, crun): its command lines, its children, and the pty master it
 * hands over on the console socket. */
#ifndef BERTH_SHIM_RUNTIME_H
#define BERTH_SHIM_RUNTIME_H

#include <stddef.h>
#include <sys/types.h>

struct runtime {
	const char *path;  /* runc or crun binary */
	const char *root;  /* --root, or NULL for the runtime's default */
	char log[4096];    /* STATE_DIR/runtime.log: absolute, crun works from the bundle dir */
};

#define RUNTIME_MAX_ARGS 24
/* "runtime [--root R] --log runtime.log --log-format json": argv[0..n); returns n. */
int runtime_base_args(const struct runtime *rt, const char *argv[RUNTIME_MAX_ARGS]);

/* Forks and execs argv with the given stdio (-1: /dev/null), with the signal mask and
 * dispositions a fresh process expects. Returns the child's pid or -1. */
pid_t spawn(const char *const argv[], int in, int out, int err);

/* waitpid for one child, retrying on EINTR; returns its wait status or -1. */
int wait_child(pid_t pid);

/* Runs argv to completion with stderr captured into msg (NUL-terminated, trimmed). Returns its
 * wait status, or -1 if it could not run. */
int run_captured(const char *const argv[], char *msg, size_t msg_len);

/* Receives the pty master sent with SCM_RIGHTS by a runtime that connected to listen_fd. */
int receive_console_fd(int listen_fd);
/* Receives one descriptor sent with SCM_RIGHTS on a connected socket (-1, errno EPROTO if the
 * message carried none). */
int receive_fd(int conn);

/* The last error message the runtime wrote to its JSON log file, for runtimes that do not also
 * print it to stderr. */
void last_runtime_error(const char *log_path, char *msg, size_t msg_len);

#endif
