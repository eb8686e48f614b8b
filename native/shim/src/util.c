#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void vwarn(int err, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "berth-shim[%d]: ", (int)getpid());
	if (n < 0 || (size_t)n >= sizeof line) return;
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (m < 0) return;
	size_t len = strnlen(line, sizeof line - 2);
	if (err) len += (size_t)snprintf(line + len, sizeof line - 1 - len, ": %s", strerror(err));
	if (len > sizeof line - 2) len = sizeof line - 2;
	line[len++] = '\n';
	(void)write_all(STDERR_FILENO, line, len);
}

void warn_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vwarn(err, fmt, ap);
	va_end(ap);
	errno = err;
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
}

void close_fd(int *fd)
{
	if (*fd >= 0) close(*fd);
	*fd = -1;
}

ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;
	do r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0) return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Atomic against a crash of the shim or of berthd reading it (write a temporary file, rename it
 * over the target), not synced: the state dir is in the exec root, runtime state that a reboot
 * (the only event an fsync would guard against) makes meaningless anyway. */
int write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	if (write_all(fd, data, len) < 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		errno = err;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

void format_rfc3339nano(char out[RFC3339NANO_LEN + 1], const struct timespec *ts)
{
	/* Formatting the date is the slow part; lines arrive in bursts within one second. */
	static time_t cached_sec = -1;
	static char cached[20];
	if (ts->tv_sec != cached_sec) {
		struct tm tm;
		gmtime_r(&ts->tv_sec, &tm);
		strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts->tv_sec;
	}
	memcpy(out, cached, 19);
	out[19] = '.';
	long ns = ts->tv_nsec;
	for (int i = 28; i >= 20; i--) {
		out[i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	out[29] = 'Z';
	out[30] = '\0';
}

int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
	if (b->len + n > b->cap) {
		/* Reclaim consumed space before growing. */
		if (b->off > 0) {
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;
			while (cap < b->len + n) cap *= 2;
			char *p = realloc(b->data, cap);
			if (!p) return -1;
			b->data = p;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len) {
		b->off = b->len = 0;
		/* A burst for a slow client may have grown the buffer; give the memory back. */
		if (b->cap > 64 * 1024) buf_free(b);
	}
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

int listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
