/* boot.h: startup, the multiboot information, the kernel command line, exit.
 *
 * crt0.S calls guest_start(), which copies the multiboot information (the
 * loader may have put it where the page allocator will hand out memory),
 * brings up serial, GDT/TSS, IDT, SSE and NX, masks the legacy PIC, and calls
 * main(). main's return value goes to exit().
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include "types.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP (1u << 6)
#define MB_MMAP_AVAILABLE 1

struct boot_mmap {
	u64 addr, len;
	u32 type;
};

/* What the loader told us, copied at startup. */
struct boot_info {
	u32 magic;              /* EAX at entry */
	u32 flags;              /* multiboot info flags */
	u32 mem_lower, mem_upper; /* KiB below 1 MiB / above 1 MiB */
	char cmdline[256];      /* "" without MB_INFO_CMDLINE */
	int mmap_count;
	struct boot_mmap mmap[32];
};

/* Each guest defines main(); returning 0 means every test passed. */
int main(void);

/* Called from crt0.S only. */
__noreturn void guest_start(u32 magic, u32 mbi);

const struct boot_info *boot_info(void);

/* The value of "key=N" on the command line (decimal or 0x hex), or def. */
u64 boot_cmdline_u64(const char *key, u64 def);

/* Leave through the isa-debug-exit port (0xf4): QEMU and cetvm exit with
 * status (code << 1) | 1. Halts forever when the device is missing. */
__noreturn void exit(int code);

#endif
