/* debug_exit.h: QEMU's isa-debug-exit: a port write that ends the machine.
 *
 * Writing value v (of the access size) ends cetvm with exit status
 * (v << 1) | 1, so a guest can never exit 0 this way. The device only
 * reports the status to its owner through `on_exit`; the owner stops
 * the vCPU. Reads return all-ones (the bus does that: read is NULL).
 */
#ifndef CETVM_DEV_DEBUG_EXIT_H
#define CETVM_DEV_DEBUG_EXIT_H

#include "../types.h"

#define DEBUG_EXIT_DEFAULT_PORT 0xf4
#define DEBUG_EXIT_DEFAULT_SIZE 4

struct debug_exit {
	void (*on_exit)(void *opaque, int status);
	void *opaque;
};

void debug_exit_init(struct debug_exit *d, void (*on_exit)(void *opaque, int status), void *opaque);
void debug_exit_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
