/* pcihost.h: a PCI host bridge with no devices, at ports 0xcf8-0xcff.
 *
 * CONFIG_ADDRESS (0xcf8, 32-bit) latches and reads back (enable bit, bus,
 * device, function, register; bits 30:24 and 1:0 read 0). CONFIG_DATA
 * (0xcfc-0xcff) reads all-ones at every address: no device answers. The byte
 * port 0xcf9 is the PIIX reset control register: writing it with bit 2
 * (RST_CPU) set asks the owner to reset the machine (Linux reboot=pci).
 */
#ifndef CETVM_DEV_PCIHOST_H
#define CETVM_DEV_PCIHOST_H

#include "../types.h"

#define PCIHOST_IO_BASE 0xcf8
#define PCIHOST_IO_LEN 8

struct pcihost {
	u32 config_address;
	u8 reset_control;
	void (*request_reset)(void *opaque);
	void *opaque;
};

void pcihost_init(struct pcihost *p, void (*request_reset)(void *opaque), void *opaque);
void pcihost_reset(struct pcihost *p);
u64 pcihost_io_read(void *opaque, u64 offset, unsigned size);
void pcihost_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
