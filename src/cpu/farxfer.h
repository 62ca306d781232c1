/* farxfer.h: pieces shared by the far control transfers (farxfer.c: far
 * JMP/CALL/RET, INT n, LxS; iret.c; syscall.c; task.c; sysseg.c):
 * descriptor fields, a stack that is built or unwound before it is
 * committed, and the checks and commit of a new CS.
 *
 * Handlers read and check everything first, then commit (cpu.h contract):
 * pushes go to memory through a struct far_stack, and RSP, SS, CS and CPL
 * change only after the last access that can fault.
 */
#ifndef CETVM_FARXFER_H
#define CETVM_FARXFER_H

#include "cpu.h"

/* ---- descriptor fields (SDM Vol. 3 3.4.5, 3.5, 5.8.3) ---- */

#define DESC_ACCESSED (1ull << 40)
#define DESC_BUSY (1ull << 41) /* TSS descriptor type bit 1 */

/* System descriptor types (S = 0). In IA-32e mode 9/11 are 64-bit TSSs
 * and 12 is the 64-bit call gate; 1, 3, 4 and 5 do not exist there. */
enum {
	DESC_TSS16 = 1, DESC_LDT = 2, DESC_TSS16_BUSY = 3, DESC_CALL16 = 4, DESC_TASK_GATE = 5,
	DESC_TSS32 = 9, DESC_TSS32_BUSY = 11, DESC_CALL32 = 12,
};

static inline unsigned desc_type(u64 d) { return (d >> 40) & 0xf; }
static inline bool desc_s(u64 d) { return (d >> 44) & 1; }
static inline unsigned desc_dpl(u64 d) { return (d >> 45) & 3; }
static inline bool desc_present(u64 d) { return (d >> 47) & 1; }
static inline bool desc_l(u64 d) { return (d >> 53) & 1; }
static inline bool desc_db(u64 d) { return (d >> 54) & 1; }
static inline bool desc_code(u64 d) { return desc_s(d) && (desc_type(d) & 8); }
static inline bool desc_conforming(u64 d) { return desc_code(d) && (desc_type(d) & 4); }
static inline bool desc_data(u64 d) { return desc_s(d) && !(desc_type(d) & 8); }
static inline bool desc_writable(u64 d) { return desc_data(d) && (desc_type(d) & 2); }
static inline bool desc_readable(u64 d) { return desc_data(d) || (desc_type(d) & 2); }

/* The 32-bit base of a code or data descriptor. */
static inline u64 desc_base(u64 d)
{
	return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
}

/* Byte-granular limit (G scales by 4 KiB). */
static inline u32 desc_limit(u64 d)
{
	u32 limit = (u32)(d & 0xffff) | (u32)((d >> 32) & 0xf0000);
	return ((d >> 55) & 1) ? (limit << 12) | 0xfff : limit;
}

/* Error code naming a selector (index and TI; EXT = 0 for instructions). */
static inline u32 sel_err(u16 sel)
{
	return sel & 0xfffcu;
}

/* Upper 8 bytes of a 16-byte system descriptor (IA-32e mode); `vec` and
 * the selector on a limit violation. */
u64 cpu_read_desc_hi(struct cpu *cpu, u16 sel, int vec);
/* Write the access byte (type, S, DPL, P) of descriptor `sel` in memory
 * as in `desc` if it differs from `old` (a supervisor write). */
void cpu_desc_update(struct cpu *cpu, u16 sel, u64 old, u64 desc);
/* Set bits (accessed, busy) in a descriptor in memory if they are clear. */
static inline void cpu_desc_set_bits(struct cpu *cpu, u16 sel, u64 desc, u64 bits)
{
	cpu_desc_update(cpu, sel, desc, desc | bits);
}

/* ---- a stack before commit ---- */

struct far_stack {
	struct seg ss; /* the segment the stack lives in */
	u64 sp;        /* the full RSP value to commit */
	u64 mask;      /* bits of sp that address the stack (16/32/64-bit) */
	bool m64;      /* 64-bit stack: canonical checks, no limits */
	unsigned acc;  /* extra ACC_* (ACC_SUPER for an inner stack) */
	u32 err;       /* #SS error code: 0, or the new SS selector */
};

/* The current SS:RSP at the current privilege. */
void cpu_far_stack_cur(struct cpu *cpu, struct far_stack *st);
/* A new stack (from the TSS, or popped): supervisor accesses if `inner`. */
void cpu_far_stack_new(struct far_stack *st, const struct seg *ss, u64 sp, bool m64,
		       bool inner, u32 err);
void cpu_far_push(struct cpu *cpu, struct far_stack *st, u64 v, unsigned size);
u64 cpu_far_pop(struct cpu *cpu, struct far_stack *st, unsigned size);
/* RSP += n within the stack's width (RET imm16). */
void cpu_far_stack_adjust(struct far_stack *st, u64 n);

/* ---- code segments ---- */

/* Does desc make a 64-bit code segment (EFER.LMA and CS.L)? */
static inline bool cpu_far_code64(const struct cpu *cpu, u64 desc)
{
	return (cpu->efer & EFER_LMA) && desc_l(desc);
}
/* The new RIP against the new CS: canonical for 64-bit code, else the
 * limit (#GP(0)). */
void cpu_far_check_target(struct cpu *cpu, u64 desc, u64 off);
/* CS checks of a far RET or IRET (SDM Vol. 2 RET, IRET): the descriptor. */
u64 cpu_far_check_ret_cs(struct cpu *cpu, u16 sel);
/* SS checks on a return to privilege `rpl`. False: a null SS that 64-bit
 * code at CPL < 3 may use (spec: *desc unset). */
bool cpu_far_check_ret_ss(struct cpu *cpu, u16 sel, unsigned rpl, bool target64, u64 *desc);
/* Commit CS (RPL forced to cpl), CPL, the mode, the MMU index; ends the block. */
void cpu_far_load_cs(struct cpu *cpu, u16 sel, u64 desc, unsigned cpl);
/* A null SS (selector `sel`) for CPL `cpl` in IA-32e mode. */
void cpu_far_null_ss(struct seg *s, u16 sel, unsigned cpl);
/* After a return to an outer level: DS, ES, FS, GS holding data or
 * non-conforming code with DPL < CPL become null (SDM Vol. 2 RET). */
void cpu_far_null_data_segs(struct cpu *cpu);

#endif
