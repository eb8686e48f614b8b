/* The attach socket: clients connected to state-dir/attach.sock and the frames they exchange
 * with the shim. Framing and frame types are specified in PROTOCOL.md. */
#ifndef BERTH_SHIM_ATTACH_H
#define BERTH_SHIM_ATTACH_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>

enum frame_type {
	/* client → shim */
	FRAME_STDIN = 0,
	FRAME_CLOSE_STDIN = 16,
	FRAME_RESIZE = 17,
	FRAME_START = 18,
	FRAME_KILL = 19,
	FRAME_SUBSCRIBE = 20,
	/* shim → client */
	FRAME_STDOUT = 1,
	FRAME_STDERR = 2,
	FRAME_EXIT = 3,
	FRAME_OK = 4,
	FRAME_ERROR = 5,
	FRAME_HELLO = 6,
};

#define FRAME_HEADER 8
#define FRAME_MAX_PAYLOAD (1u << 20)
#define MAX_CLIENTS 64
/* Output queued for one client beyond which the shim stops reading the container's output. */
#define CLIENT_HIGH_WATER 1u

struct client {
	int fd;            /* -1: free slot */
	struct buf in, out;
	unsigned mask;     /* which of stdout (1) and stderr (2) the client receives */
	bool stalled;      /* its stdin could not be queued: stop reading it until stdin drains */
};

extern struct client clients[MAX_CLIENTS];

/* A frame handler returns false when it cannot take the frame now (stdin full); the frame is
 * kept and offered again after attach_unstall(). */
typedef bool (*frame_handler)(struct client *c, unsigned type, const char *payload, size_t n);

int attach_listen(const char *path);
struct client *attach_accept(int listen_fd);
int attach_send(struct client *c, unsigned type, const void *payload, size_t n);
/* Sends an output frame (FRAME_STDOUT or FRAME_STDERR) to every subscribed client. */
void attach_broadcast(unsigned type, const void *payload, size_t n);
void attach_on_readable(struct client *c, frame_handler handle);
void attach_on_writable(struct client *c);
void attach_unstall(frame_handler handle);
void attach_close(struct client *c);
size_t attach_max_pending(void);
bool attach_all_flushed(void);

#endif
