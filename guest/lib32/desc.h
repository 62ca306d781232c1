/* desc.h (32-bit kit): the GDT, the 32-bit TSS of the startup task, selectors. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#define KERNEL_CS 0x08   /* 32-bit code, DPL 0 */
#define KERNEL_DS 0x10   /* data, DPL 0 */
#define TSS_SEL 0x18     /* 32-bit TSS of the startup task */
#define GDT_FIRST_FREE 4 /* first slot tests may use: selector 0x20 */
#define GDT_ENTRIES 16

#ifndef __ASSEMBLER__
#include "types.h"

#define DESC_P 0x80
#define DESC_DPL(n) ((n) << 5)
#define DESC_S 0x10
#define DESC_CODE 0x0a
#define DESC_DATA 0x02
#define DESC_ACCESSED 0x01
#define DESC_FLAG_G 0x8
#define DESC_FLAG_DB 0x4
#define DESC_TSS16 0x01 /* available 16-bit TSS (system type 1) */
#define DESC_TSS32 0x09 /* available 32-bit TSS (system type 9) */
#define DESC_TSS_BUSY 0x02

/* 32-bit TSS (SDM Vol. 3A, Figure 8-2), with the CET SSP at 0x68. */
struct tss32 {
	u16 link, r0;
	u32 esp0;
	u16 ss0, r1;
	u32 esp1;
	u16 ss1, r2;
	u32 esp2;
	u16 ss2, r3;
	u32 cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u16 es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
	u16 trap, iomap_base;
	u32 ssp;
} __packed;

_Static_assert(__builtin_offsetof(struct tss32, eip) == 0x20, "TSS layout");
_Static_assert(__builtin_offsetof(struct tss32, ssp) == 0x68, "TSS layout");

/* 16-bit TSS (SDM Vol. 3A, Figure 8-12). */
struct tss16 {
	u16 link, sp0, ss0, sp1, ss1, sp2, ss2;
	u16 ip, flags, ax, cx, dx, bx, sp, bp, si, di;
	u16 es, cs, ss, ds, ldt;
} __packed;

_Static_assert(sizeof(struct tss16) == 0x2c, "TSS16 layout");

/* Install the GDT and the startup TSS, load TR. Called once at startup. */
void desc_init(void);

/* Write a descriptor into slot idx and return its selector (RPL 0). For
 * a TSS, access is DESC_P | DESC_TSS16 or DESC_TSS32 and flags 0. */
/* The GDT (desc.c) and its accessors (gdt.c, shared by both kits). */
extern u64 gdt[GDT_ENTRIES];
u64 gdt_make_desc(u32 base, u32 limit, u8 access, u8 flags);
u16 gdt_set(int idx, u32 base, u32 limit, u8 access, u8 flags);
u64 gdt_get_raw(int idx);
void gdt_set_raw(int idx, u64 desc);

/* The startup task's TSS (limit 0x6B: it has the SSP field). */
struct tss32 *tss_main(void);

/* Make the startup task current again after a task switch that did not
 * return (a fault after the commit point): mark its TSS available, LTR
 * it, clear EFLAGS.NT and CR0.TS. */
void tss_back_to_main(void);
#endif

#endif
