#include "attach.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct client clients[MAX_CLIENTS];

static void put_header(unsigned char h[FRAME_HEADER], unsigned type, size_t n)
{
	h[0] = (unsigned char)type;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(n >> 24);
	h[5] = (unsigned char)(n >> 16);
	h[6] = (unsigned char)(n >> 8);
	h[7] = (unsigned char)n;
}

int attach_listen(const char *path)
{
	for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
	return listen_unix(path);
}

struct client *attach_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) warn_errno("accept");
		return NULL;
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd < 0) {
			memset(&clients[i], 0, sizeof clients[i]);
			clients[i].fd = fd;
			clients[i].mask = 3;
			return &clients[i];
		}
	}
	warn_msg("too many attach clients (%d); refusing one", MAX_CLIENTS);
	close(fd);
	return NULL;
}

void attach_close(struct client *c)
{
	if (c->fd < 0) return;
	close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}

void attach_on_writable(struct client *c)
{
	while (buf_pending(&c->out) > 0) {
		ssize_t w = write(c->fd, c->out.data + c->out.off, buf_pending(&c->out));
		if (w < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN) return;
			attach_close(c); /* EPIPE, ECONNRESET: the client went away */
			return;
		}
		buf_consume(&c->out, (size_t)w);
	}
}

int attach_send(struct client *c, unsigned type, const void *payload, size_t n)
{
	unsigned char h[FRAME_HEADER];
	put_header(h, type, n);
	/* Try to write straight away when nothing is queued: the common case costs no copy. */
	if (buf_pending(&c->out) == 0) {
		struct iovec iov[2] = { { h, FRAME_HEADER }, { (void *)payload, n } };
		ssize_t w;
		do w = writev(c->fd, iov, n ? 2 : 1);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN) {
			attach_close(c);
			return -1;
		}
		size_t done = w < 0 ? 0 : (size_t)w;
		if (done == FRAME_HEADER + n) return 0;
		if (done < FRAME_HEADER) {
			if (buf_append(&c->out, h + done, FRAME_HEADER - done) < 0) goto oom;
			done = 0;
		} else {
			done -= FRAME_HEADER;
		}
		if (buf_append(&c->out, (const char *)payload + done, n - done) < 0) goto oom;
		return 0;
	}
	if (buf_append(&c->out, h, FRAME_HEADER) < 0 || buf_append(&c->out, payload, n) < 0) goto oom;
	return 0;
oom:
	warn_msg("out of memory queueing output for a client; dropping it");
	attach_close(c);
	return -1;
}

void attach_broadcast(unsigned type, const void *payload, size_t n)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd >= 0 && (c->mask & type)) (void)attach_send(c, type, payload, n);
	}
}

static void process_frames(struct client *c, frame_handler handle)
{
	while (c->fd >= 0 && buf_pending(&c->in) >= FRAME_HEADER) {
		const unsigned char *h = (const unsigned char *)c->in.data + c->in.off;
		size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
		if (n > FRAME_MAX_PAYLOAD) {
			warn_msg("client sent a %zu-byte frame (limit %u); closing it", n, FRAME_MAX_PAYLOAD);
			attach_close(c);
			return;
		}
		if (buf_pending(&c->in) < FRAME_HEADER + n) return;
		if (!handle(c, h[0], (const char *)h + FRAME_HEADER, n)) {
			c->stalled = true;
			return;
		}
		if (c->fd >= 0) buf_consume(&c->in, FRAME_HEADER + n);
	}
}

void attach_on_readable(struct client *c, frame_handler handle)
{
	char chunk[16384];
	ssize_t r = read_retry(c->fd, chunk, sizeof chunk);
	if (r < 0 && errno == EAGAIN) return;
	if (r <= 0) {
		attach_close(c);
		return;
	}
	if (buf_append(&c->in, chunk, (size_t)r) < 0) {
		warn_msg("out of memory reading a client; closing it");
		attach_close(c);
		return;
	}
	process_frames(c, handle);
}

void attach_unstall(frame_handler handle)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd >= 0 && c->stalled) {
			c->stalled = false;
			process_frames(c, handle);
		}
	}
}

size_t attach_max_pending(void)
{
	size_t max = 0;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && buf_pending(&clients[i].out) > max) max = buf_pending(&clients[i].out);
	return max;
}

bool attach_all_flushed(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && buf_pending(&clients[i].out) > 0) return false;
	return true;
}
