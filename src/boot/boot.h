/* boot.h: kernel loaders (Multiboot v1 and ELF64) and the initial vCPU state.
 *
 * boot_load() reads the -kernel file (and -initrd), writes them into guest
 * RAM through guest_ptr() only, builds a Multiboot v1 information structure
 * and returns the vCPU state the machine must set before the first run().
 *
 * Formats, tried in this order:
 *   1. ELF64 (ELFCLASS64, EM_X86_64, ET_EXEC): entered in 64-bit mode, even
 *      if it also carries a Multiboot header (convert it to elf32-i386, as
 *      kvm-unit-tests does, to be entered in 32-bit mode as GRUB would).
 *   2. Linux bzImage ("HdrS" at 0x202): the Linux boot protocol, entered at
 *      its 64-bit entry (linux.c has the layout and state).
 *   3. Multiboot v1 (header in the first 8 KiB): the a.out kludge address
 *      fields when header flag 16 is set, else ELF32 (EM_386) segments.
 * Segments are loaded at their physical address (p_paddr), bss is zeroed.
 *
 * Guest-physical layout:
 *   0x1000-0x1fff  GDT: 0x08 64-bit code, 0x10 flat data, 0x18 flat 32-bit
 *                  code (all DPL 0, base 0, limit 4 GiB)
 *   0x2000-0x7fff  ELF64 only: identity map of the first 4 GiB with 2 MiB
 *                  pages (PML4 0x2000, PDPT 0x3000, four PDs 0x4000-0x7fff)
 *   0x8000-0x8fff  boot stack (ESP/RSP = 0x9000 at entry)
 *   kernel         where its segments say; must not touch 0x1000-0x8fff
 *   info area      next 4 KiB boundary after the kernel's highest byte:
 *                  Multiboot info, module list, memory map, strings
 *   modules        from the next 4 KiB boundary after the info area, each
 *                  at the next 4 KiB boundary after the one before
 * Everything the guest is told about (info, initrd) lies in low RAM.
 *
 * RAM is laid out as on a PC (mem.h): low RAM from 0 (all of it below
 * 3.5 GiB, else 3 GiB), the rest from 4 GiB; the hole between holds the
 * IOAPIC and the LAPIC. Loaders write through guest_ptr(), which refuses
 * the hole.
 *
 * Memory map given to the guest (Multiboot mmap, type 1 = available):
 *   0-0x1000 avail, 0x1000-0x9000 reserved (the loader area above),
 *   0x9000-0x9fc00 avail, 0x9fc00-0xa0000 reserved, 0xf0000-0x100000
 *   reserved, 0x100000-low RAM end avail, and with RAM above 4 GiB
 *   0x100000000-its end avail. mem_lower = 639, mem_upper = (low RAM end -
 *   1 MiB) / 1 KiB. The info area and the initrd lie in "available"
 *   memory, as with every Multiboot loader: the guest must not reuse them
 *   before it has read them.
 *
 * Multiboot information (flags 0x24d): mem_lower/mem_upper (bit 0),
 * cmdline (bit 2) = "<kernel path> <append>" exactly as QEMU builds it,
 * mods (bit 3): the -initrd list split as QEMU does (',' between modules,
 * ",," for a literal comma, each "<file>[ <args>]"; mod_end exclusive,
 * string = the whole entry, 4 KiB aligned), mmap (bit 6), boot_loader_name
 * (bit 9) = "cetvm".
 *
 * Initial state, Multiboot (Multiboot v1 spec §3.2):
 *   32-bit protected mode, paging off: CR0 = 0x11 (PE|ET), CR3 = CR4 = 0,
 *   EFER = 0. CS = 0x18 (flat 32-bit code), DS = ES = FS = GS = SS = 0x10
 *   (flat data). GDTR = {0x1000, 0x1f}, IDTR = {0, 0}: the guest must load
 *   its own IDT before it takes an exception. TR and LDTR as after RESET.
 *   EFLAGS = 0x2 (IF = 0). EAX = 0x2BADB002, EBX = info address,
 *   ESP = 0x9000, EIP = entry, every other register 0. A20 is always on.
 *   APIC base MSR = 0xfee00900 (enabled, BSP).
 *
 * Initial state, ELF64:
 *   64-bit long mode: CR0 = 0x80010033 (PE|MP|ET|NE|WP|PG), CR3 = 0x2000,
 *   CR4 = 0x20 (PAE), EFER = 0x500 (LME|LMA). CS = 0x08 (L = 1),
 *   DS = ES = FS = GS = SS = 0x10. GDTR = {0x1000, 0x1f}, IDTR = {0, 0}.
 *   EFLAGS = 0x2. RAX = 0x2BADB002, RBX = info address (the same Multiboot
 *   info), RSP = 0x9000, RDI = RSI = 0, RIP = entry, the rest 0. The guest
 *   enables SSE (CR4.OSFXSR), XSAVE and CET itself.
 * An entry address that lies inside a segment's virtual range is translated
 * to the physical address of that segment (paging is off, or identity).
 */
#ifndef CETVM_BOOT_H
#define CETVM_BOOT_H

#include <stddef.h>

#include "../accel/accel.h"
#include "../mem.h"
#include "../types.h"

#define BOOT_GDT_ADDR 0x1000u
#define BOOT_PML4_ADDR 0x2000u
#define BOOT_PDPT_ADDR 0x3000u
#define BOOT_PD_ADDR 0x4000u /* four pages */
#define BOOT_STACK_TOP 0x9000u
#define BOOT_AREA_START 0x1000u /* loader area: GDT, page tables, stack */
#define BOOT_AREA_END 0x9000u

#define BOOT_SEL_CODE64 0x08
#define BOOT_SEL_DATA 0x10
#define BOOT_SEL_CODE32 0x18

#define BOOT_MB_BOOTLOADER_MAGIC 0x2BADB002u
#define BOOT_MIN_RAM (2ull << 20)

struct boot_params {
	const char *kernel; /* required */
	const char *initrd; /* Linux: the initrd; Multiboot: the module list; NULL: none */
	const char *append; /* NULL or "": empty command line */
};

/* The initial vCPU state; the machine passes it to set_regs/set_sregs. */
struct boot_state {
	struct vcpu_regs regs;
	struct vcpu_sregs sregs;
};

/* Load the kernel (and initrd) into `ram` and fill `st`. Returns 0, or -1
 * with a one-line message naming the file and the problem in `err` (always
 * NUL-terminated when errlen > 0). RAM may have been partly written on
 * error. */
int boot_load(const struct boot_params *p, struct guest_ram *ram, struct boot_state *st,
	      char *err, size_t errlen);

#endif
