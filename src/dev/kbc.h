/* kbc.h: the 8042 keyboard controller's command port (0x64), reset only.
 *
 * There is no keyboard: the status register reads 0 (no data, ready for
 * input) and the data port 0x60 is left unmapped. The one command honoured
 * is 0xfe (pulse the reset line), which asks the owner to reset the machine,
 * as Linux does with reboot=k (its default fallback).
 */
#ifndef CETVM_DEV_KBC_H
#define CETVM_DEV_KBC_H

#include "../types.h"

#define KBC_CMD_PORT 0x64
#define KBC_CMD_RESET 0xfe

struct kbc {
	void (*request_reset)(void *opaque);
	void *opaque;
};

void kbc_init(struct kbc *k, void (*request_reset)(void *opaque), void *opaque);
u64 kbc_io_read(void *opaque, u64 offset, unsigned size);
void kbc_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
