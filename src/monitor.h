/* monitor.h: the control channel: a human monitor (HMP, text lines) and a
 * QMP monitor (JSON objects), each on a UNIX socket, the human one also on
 * stdio. QEMU's spelling and behaviour where they exist:
 *
 *   -monitor unix:PATH,server=on,wait=off   (or ,server,nowait)
 *   -monitor stdio                          (when -serial is not on stdio)
 *   -qmp unix:PATH,server=on,wait=off
 * Without wait=off the machine waits for a client before it starts.
 *
 * Human commands: help, stop, cont (c), savevm FILE, info status,
 * info registers, quit (q).
 * QMP commands: qmp_capabilities, query-status, stop, cont, quit,
 * savevm {"file": F}, human-monitor-command {"command-line": S},
 * query-commands. Replies echo "id".
 *
 * Single-threaded: the machine calls monitor_poll() between vCPU runs and
 * while paused; commands run right there, with the vCPU stopped.
 */
#ifndef CETVM_MONITOR_H
#define CETVM_MONITOR_H

#include <stddef.h>

#include "types.h"

/* What the monitor asks of the machine. Functions returning int give 0,
 * or -1 with a one-line reason in err. */
struct monitor_ops {
	void *ctx;
	int (*stop)(void *ctx, char *err, size_t errlen);
	int (*cont)(void *ctx, char *err, size_t errlen);
	int (*savevm)(void *ctx, const char *file, char *err, size_t errlen);
	void (*info_registers)(void *ctx, char *buf, size_t len);
	void (*quit)(void *ctx);
	bool (*running)(void *ctx);
};

struct monitor;

/* hmp and qmp: endpoint specs or NULL. stdio_busy: the serial port owns
 * stdio. Returns NULL with err set on a bad spec or a socket error. */
struct monitor *monitor_create(const char *hmp, const char *qmp, bool stdio_busy,
			       const struct monitor_ops *ops, char *err, size_t errlen);
void monitor_destroy(struct monitor *m);

/* Wait up to timeout_ms (-1: no limit) for monitor input or for extra_fd
 * (-1: none) to become readable, then run every complete command. */
void monitor_poll(struct monitor *m, int timeout_ms, int extra_fd);

/* Some endpoint is listening or connected: a command can still come. */
bool monitor_alive(const struct monitor *m);

/* One command, as the endpoints run them (reply text into out). */
void monitor_hmp_command(struct monitor *m, const char *line, char *out, size_t n);
void monitor_qmp_command(struct monitor *m, const char *json, size_t len, bool *negotiated,
			 char *out, size_t n);

/* The ops, for monitor_cmd.c. */
const struct monitor_ops *monitor_ops_of(const struct monitor *m);

#endif
