/* jit_int.h: what jit.c (the driver) and jit_ops.c (the instruction
 * translators) share.
 *
 * Generated code keeps the struct cpu pointer in RDI, the exec handlers'
 * first argument, and uses only caller-saved registers: it has no frame,
 * calls nothing, and leaves by RET (a branch that ends the block, as
 * FAST_END's handlers do) or by a tail jump to the exec handler of the
 * instruction it stops at, with RSI pointing at that instruction.
 * Conventions inside one instruction's code: RAX a linear address, R8 the
 * host address of a memory operand, RCX and RDX operands.
 */
#ifndef CETVM_JIT_INT_H
#define CETVM_JIT_INT_H

#include <stddef.h>

#include "cpu.h"
#include "x64.h"

#define JIT_MAX_FIX 256
#define JIT_MAX_STUB 64
#define JIT_MAX_CALL 32

#define OFF_R(n) ((s32)(offsetof(struct cpu, r) + 8 * (unsigned)(n)))
#define OFF(field) ((s32)offsetof(struct cpu, field))

/* A jump to the exit of instruction k, patched when the exits are laid out. */
struct jit_fix {
	u8 *at;
	unsigned k;
};

/* The cold half of a TLB check for an access that may be misaligned. */
struct jit_stub {
	u8 *at, *back;
	unsigned k, size;
	s32 tag;
};

/* An instruction run through its exec handler from a copy of it (jit.c,
 * jit_call_out()): the field that gets the copy's address. */
struct jit_call {
	u8 *field;
	unsigned k;
};

/* One block's translation. */
struct jit_tr {
	struct x64 e;
	const struct insn *insn;
	const struct block *block; /* or NULL: no going on to linked blocks */
	unsigned n, k;     /* k: the instruction being translated */
	int flags_of;      /* the instruction whose flags the host flags hold, or -1 */
	u8 flags_unlike;   /* ...except these (JIT_OF, JIT_CF: see jit_ops.c) */
	int cc_now;        /* cpu->cc_op as the code so far left it, or -1 */
	u8 cc_size_now;    /* and cpu->cc_size */
	struct jit_fix fix[JIT_MAX_FIX];
	unsigned nfix;
	struct jit_stub stub[JIT_MAX_STUB];
	unsigned nstub;
	struct jit_call call[JIT_MAX_CALL];
	unsigned ncall;
};

enum jit_result { JIT_NO, JIT_OK, JIT_END };

/* jit.c */
void jit_exit_if(struct jit_tr *t, unsigned cc);  /* to instruction k's exit on cc */
void jit_exit_jmp(struct jit_tr *t);
/* R8 := host address of the `size` bytes at linear RAX through the
 * current TLB's tag at tag_off (rtag or wtag), or instruction k's exit. */
void jit_tlb(struct jit_tr *t, unsigned size, s32 tag_off);
/* RAX := the effective address of in's memory operand (64-bit); false if
 * that changed the host flags. */
bool jit_ea(struct jit_tr *t, const struct insn *in);
/* RAX := the linear address of in's memory operand (64-bit mode). */
void jit_la(struct jit_tr *t, const struct insn *in);
/* cpu->cur_insn := in. */
void jit_set_cur(struct jit_tr *t, const struct insn *in);
/* The block ends after in with the next RIP in RAX: on to the linked
 * block, or back to the run loop. After an indirect branch, R11B says
 * whether IBT's WAIT_FOR_ENDBRANCH is pending. */
void jit_end_block(struct jit_tr *t, const struct insn *in, bool indirect);

/* Run instruction k through its exec handler and come back, or end the
 * block there if it asked to stop (cpu_break()); false if it cannot be. */
bool jit_call_out(struct jit_tr *t);

/* jit_ops.c: translate t->insn[t->k]. */
enum jit_result jit_insn(struct jit_tr *t);

#endif
