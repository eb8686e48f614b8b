#include "logfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Header: timestamp, space, "stdout"/"stderr", space, F|P, space. */
#define HEADER_LEN (RFC3339NANO_LEN + 1 + 6 + 1 + 1 + 1)
#define OUT_CAP (64 * 1024)

static int open_current(struct logfile *lf, int extra_flags)
{
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0640);
	if (lf->fd < 0) return -1;
	struct stat st;
	if (fstat(lf->fd, &st) < 0) return -1;
	lf->size = st.st_size;
	return 0;
}

int logfile_open(struct logfile *lf, const char *path, off_t max_size, int max_file)
{
	memset(lf, 0, sizeof *lf);
	lf->fd = -1;
	lf->path = path;
	lf->max_size = max_size;
	lf->max_file = max_file < 1 ? 1 : max_file;
	if (!path) return 0;
	lf->out = malloc(OUT_CAP);
	if (!lf->out) return -1;
	return open_current(lf, 0);
}

static int flush_out(struct logfile *lf)
{
	if (lf->out_len == 0) return 0;
	int r = write_all(lf->fd, lf->out, lf->out_len);
	if (r == 0) lf->size += (off_t)lf->out_len;
	lf->out_len = 0;
	return r;
}

/* path → path.1 → … → path.(max_file-1); the oldest falls off. With max_file 1 the file is
 * truncated in place, as json-file does. Followers notice the new inode or the shrink. */
static int rotate(struct logfile *lf)
{
	if (close(lf->fd) < 0 && errno != EINTR) warn_errno("close %s", lf->path);
	lf->fd = -1;
	if (lf->max_file == 1) return open_current(lf, O_TRUNC);
	char from[4096], to[4096];
	for (int i = lf->max_file - 1; i >= 1; i--) {
		if (i == 1) snprintf(from, sizeof from, "%s", lf->path);
		else snprintf(from, sizeof from, "%s.%d", lf->path, i - 1);
		snprintf(to, sizeof to, "%s.%d", lf->path, i);
		if (rename(from, to) < 0 && errno != ENOENT) warn_errno("rotate %s", from);
	}
	return open_current(lf, O_TRUNC);
}

static int add_record(struct logfile *lf, const char *ts, int stream, char kind,
		      const char *data, size_t n)
{
	size_t rec = HEADER_LEN + n + 1;
	if (lf->max_size > 0 && lf->size + (off_t)lf->out_len + (off_t)rec > lf->max_size &&
	    lf->size + (off_t)lf->out_len > 0) {
		if (flush_out(lf) < 0 || rotate(lf) < 0) return -1;
	}
	if (lf->out_len + rec > OUT_CAP && flush_out(lf) < 0) return -1;
	char *p = lf->out + lf->out_len;
	memcpy(p, ts, RFC3339NANO_LEN);
	p += RFC3339NANO_LEN;
	*p++ = ' ';
	memcpy(p, stream == 2 ? "stderr" : "stdout", 6);
	p += 6;
	*p++ = ' ';
	*p++ = kind;
	*p++ = ' ';
	memcpy(p, data, n);
	p += n;
	*p++ = '\n';
	lf->out_len += rec;
	return 0;
}

int logfile_write(struct logfile *lf, int stream, const char *data, size_t n)
{
	if (lf->fd < 0) return 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[RFC3339NANO_LEN + 1];
	format_rfc3339nano(ts, &now);
	while (n > 0) {
		size_t take = n < LOG_MAX_RECORD ? n : LOG_MAX_RECORD;
		const char *nl = memchr(data, '\n', take);
		int r;
		if (nl) {
			size_t line = (size_t)(nl - data);
			r = add_record(lf, ts, stream, 'F', data, line);
			take = line + 1;
		} else {
			r = add_record(lf, ts, stream, 'P', data, take);
		}
		if (r < 0) return -1;
		data += take;
		n -= take;
	}
	return flush_out(lf);
}

void logfile_close(struct logfile *lf)
{
	if (lf->fd >= 0) {
		(void)flush_out(lf);
		close(lf->fd);
	}
	lf->fd = -1;
	free(lf->out);
	lf->out = NULL;
}
