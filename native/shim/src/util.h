/* Small helpers every part of the shim uses: error reporting, EINTR-safe I/O, atomic files,
 * timestamps and a growable byte buffer. */
#ifndef BERTH_SHIM_UTIL_H
#define BERTH_SHIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Writes "berth-shim: <message>[: strerror(errno)]" to stderr (the shim's own log once detached). */
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* read(2)/write(2) retrying on EINTR; write_all loops until everything is written (blocking fds). */
ssize_t read_retry(int fd, void *buf, size_t n);
int write_all(int fd, const void *buf, size_t n);

int set_nonblock(int fd);
/* Closes *fd if open and marks it closed (-1). */
void close_fd(int *fd);
/* A listening, non-blocking unix stream socket at path (replacing a stale one). */
int listen_unix(const char *path);
int set_cloexec(int fd);

/* Writes path atomically (path.tmp, then rename), unsynced: exec-root state. 0 or -1 (errno). */
int write_file_atomic(const char *path, const char *data, size_t len);

/* Formats ts as RFC 3339 with nanoseconds in UTC, always RFC3339NANO_LEN characters plus a NUL. */
#define RFC3339NANO_LEN 30
void format_rfc3339nano(char out[RFC3339NANO_LEN + 1], const struct timespec *ts);

/* Milliseconds on the monotonic clock, for deadlines. */
int64_t monotonic_ms(void);

/* A byte queue: data is appended at len and consumed from off. */
struct buf {
	char *data;
	size_t off, len, cap;
};
static inline size_t buf_pending(const struct buf *b) { return b->len - b->off; }
int buf_append(struct buf *b, const void *data, size_t n);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
