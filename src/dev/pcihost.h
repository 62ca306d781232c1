/* pcihost.h: a PCI host bridge at ports 0xcf8-0xcff, alone on bus 0.
 *
 * Configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2):
 * CONFIG_ADDRESS (0xcf8, 32-bit) latches and reads back (enable bit, bus,
 * device, function, register; bits 30:24 and 1:0 read 0); byte and word
 * accesses to 0xcf8-0xcfb are not CONFIG_ADDRESS and are ignored (reads
 * all-ones), as on PC chipsets. CONFIG_DATA (0xcfc-0xcff, any size and
 * byte offset) reaches the configuration space CONFIG_ADDRESS selects when
 * its enable bit is set. Only bus 0, device 0, function 0 answers: the host
 * bridge itself, with the identity of the i440FX PMC (8086:1237, class
 * 06/00/00 host bridge, header type 0) whose PIIX companion's reset
 * register the board has at 0xcf9. Its command register keeps the bits a
 * host bridge implements; the rest of its space reads 0 and ignores
 * writes. Any other address reads all-ones: no device. The byte port 0xcf9
 * is the PIIX reset control register: writing it with bit 2 (RST_CPU) set
 * asks the owner to reset the machine (Linux reboot=pci, ACPI RESET_REG).
 */
#ifndef CETVM_DEV_PCIHOST_H
#define CETVM_DEV_PCIHOST_H

#include "../types.h"

#define PCIHOST_IO_BASE 0xcf8
#define PCIHOST_IO_LEN 8
#define PCIHOST_VENDOR 0x8086
#define PCIHOST_DEVICE 0x1237
#define PCIHOST_CLASS 0x060000 /* base class, subclass, programming interface */

struct pcihost {
	u32 config_address;
	u8 reset_control;
	u16 command; /* the host bridge's command register */
	void (*request_reset)(void *opaque);
	void *opaque;
};

void pcihost_init(struct pcihost *p, void (*request_reset)(void *opaque), void *opaque);
void pcihost_reset(struct pcihost *p);
u64 pcihost_io_read(void *opaque, u64 offset, unsigned size);
void pcihost_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
