/* fwcfg.h: QEMU's firmware configuration device, traditional I/O interface.
 *
 * Port 0x510 (16-bit write) selects an item, port 0x511 (byte read) streams
 * it; past the end, and for unknown items, reads return 0. No DMA interface
 * (FW_CFG_ID reports 1: traditional only), no files, data writes ignored.
 * Keys follow QEMU's numbering, except FWCFG_MAX_RAM: cetvm answers key
 * 0x11 (QEMU's FW_CFG_KERNEL_DATA, unused here since FW_CFG_KERNEL_SIZE
 * reads 0) with the highest RAM address + 1, as the project's issue asks.
 */
#ifndef CETVM_DEV_FWCFG_H
#define CETVM_DEV_FWCFG_H

#include "../types.h"

#define FWCFG_IO_BASE 0x510
#define FWCFG_IO_LEN 2

#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID 0x01
#define FWCFG_RAM_SIZE 0x03
#define FWCFG_NB_CPUS 0x05
#define FWCFG_MAX_CPUS 0x0f
#define FWCFG_MAX_RAM 0x11
#define FWCFG_ENTRY_MASK 0x3fff /* without the write and arch-local bits */

#define FWCFG_MAX_ITEMS 8
#define FWCFG_ITEM_MAX 8

struct fwcfg_item {
	u16 key;
	u8 len;
	u8 data[FWCFG_ITEM_MAX];
};

struct fwcfg {
	struct fwcfg_item items[FWCFG_MAX_ITEMS];
	int n;
	u16 selector;
	u32 offset; /* read position within the selected item */
};

void fwcfg_init(struct fwcfg *f, u64 ram_size, int ncpus);
void fwcfg_reset(struct fwcfg *f);
u64 fwcfg_io_read(void *opaque, u64 offset, unsigned size);
void fwcfg_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
