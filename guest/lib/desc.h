/* desc.h: the GDT, the 64-bit TSS (RSP0, IST stacks, I/O bitmap) and selectors. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

/* GDT layout. The user entries follow the order SYSRET expects with
 * STAR[63:48] = USER_CS32: SS = +8, 64-bit CS = +16 (SDM Vol. 2B, SYSRET). */
#define KERNEL_CS 0x08   /* 64-bit code, DPL 0 */
#define KERNEL_DS 0x10   /* data, DPL 0 */
#define KERNEL_CS32 0x18 /* 32-bit code, DPL 0 (compatibility mode) */
#define USER_CS32 0x23   /* 32-bit code, DPL 3 */
#define USER_DS 0x2b     /* data, DPL 3 */
#define USER_CS 0x33     /* 64-bit code, DPL 3 */
#define TSS_SEL 0x38     /* 64-bit TSS, two slots */
#define GDT_FIRST_FREE 9 /* first slot tests may use: selector 0x48 */
#define GDT_ENTRIES 16

/* Interrupt stack table slots (1-based as in the TSS). */
#define IST_DF 1
#define IST_NMI 2
#define IST_MC 3

#ifndef __ASSEMBLER__
#include "types.h"

/* Descriptor fields for gdt_set(): access byte and the flags nibble. */
#define DESC_P 0x80
#define DESC_DPL(n) ((n) << 5)
#define DESC_S 0x10           /* code or data (not system) */
#define DESC_CODE 0x0a        /* execute/read */
#define DESC_DATA 0x02        /* read/write */
#define DESC_ACCESSED 0x01
#define DESC_FLAG_G 0x8       /* limit in 4 KiB units */
#define DESC_FLAG_DB 0x4      /* 32-bit default operand size */
#define DESC_FLAG_L 0x2       /* 64-bit code */

/* Install the GDT and TSS and load TR. Called once by the startup code. */
void desc_init(void);

/* Write an 8-byte code/data descriptor into slot idx (>= GDT_FIRST_FREE for
 * tests) and return its selector with RPL 0. */
/* The GDT (desc.c) and its accessors (gdt.c, shared by both kits). */
extern u64 gdt[GDT_ENTRIES];
u64 gdt_make_desc(u32 base, u32 limit, u8 access, u8 flags);
u16 gdt_set(int idx, u32 base, u32 limit, u8 access, u8 flags);

/* The raw 8-byte descriptor at slot idx, to save and restore. */
u64 gdt_get_raw(int idx);
void gdt_set_raw(int idx, u64 desc);

/* Set the stack loaded on a transition to CPL 0 / through IST slot n. */
void tss_set_rsp0(u64 rsp);
void tss_set_ist(int n, u64 rsp);

/* Allow or deny a CPL 3 access to one I/O port through the TSS bitmap
 * (SDM Vol. 1, 19.5.2). All ports start denied. */
void tss_io_allow(u16 port, bool allow);

/* Offset of the I/O bitmap inside the TSS (field at 0x66). Tests move it
 * past the TSS limit to make every port denied. */
u16 tss_iomap_base(void);
void tss_set_iomap_base(u16 off);
u32 tss_limit(void);

/* Top of the stack used for traps from CPL 3 (TSS.RSP0). */
u64 tss_kernel_stack_top(void);
#endif

#endif
