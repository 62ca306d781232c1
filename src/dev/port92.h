/* port92.h: System Control Port A (0x92): fast A20 gate and fast reset.
 *
 * Bit 1 (A20) is stored and read back; cetvm never masks address line 20.
 * Writing bit 0 = 1 asks the owner to reset the machine.
 */
#ifndef CETVM_DEV_PORT92_H
#define CETVM_DEV_PORT92_H

#include "../types.h"

#define PORT92_IO_BASE 0x92

struct port92 {
	u8 value;
	void (*request_reset)(void *opaque);
	void *opaque;
};

void port92_init(struct port92 *p, void (*request_reset)(void *opaque), void *opaque);
void port92_reset(struct port92 *p);
u64 port92_io_read(void *opaque, u64 offset, unsigned size);
void port92_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
