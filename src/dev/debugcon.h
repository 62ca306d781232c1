/* debugcon.h: QEMU's isa-debugcon (Bochs' "port 0xe9 hack"): a write-only console.
 *
 * Every byte written to the port goes to the owner's `out` callback (QEMU
 * sends it to a chardev); a read returns the readback value 0xe9, which
 * is how guests detect the device. Byte accesses only, as in QEMU.
 */
#ifndef CETVM_DEV_DEBUGCON_H
#define CETVM_DEV_DEBUGCON_H

#include "../types.h"

#define DEBUGCON_DEFAULT_PORT 0xe9
#define DEBUGCON_READBACK 0xe9

struct debugcon {
	void (*out)(void *opaque, u8 byte);
	void *opaque;
};

void debugcon_init(struct debugcon *d, void (*out)(void *opaque, u8 byte), void *opaque);
u64 debugcon_io_read(void *opaque, u64 offset, unsigned size);
void debugcon_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
