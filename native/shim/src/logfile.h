/* The container log: one record per line, "<RFC3339 nano> <stdout|stderr> <F|P> <bytes>\n",
 * rotated by size into path.1 … path.(max_file-1). See PROTOCOL.md. */
#ifndef BERTH_SHIM_LOGFILE_H
#define BERTH_SHIM_LOGFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Longest content of one record; a longer line is split into P records. */
#define LOG_MAX_RECORD 16384

struct logfile {
	int fd;          /* -1 when logging is off */
	const char *path;
	off_t size;      /* bytes in the current file */
	off_t max_size;  /* 0: never rotate */
	int max_file;    /* files kept, current one included (≥ 1) */
	char *out;       /* records formatted for one write(2) */
	size_t out_len;
};

int logfile_open(struct logfile *lf, const char *path, off_t max_size, int max_file);
/* Logs one chunk read from the container: full lines become F records, the rest a P record. */
int logfile_write(struct logfile *lf, int stream, const char *data, size_t n);
void logfile_close(struct logfile *lf);

#endif
