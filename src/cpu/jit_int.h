/* jit_int.h: what jit.c (the driver) and jit_ops.c and jit_flow.c (the
 * instruction translators) share.
 *
 * Generated code keeps the struct cpu pointer in RDI, the exec handlers'
 * first argument, and uses only caller-saved registers: it has no frame
 * and calls nothing but the exec handlers of call-outs (jit_call_out()).
 * It leaves by RET (a branch that ends the block, as FAST_END's handlers
 * do), by a tail jump to the exec handler of the instruction it stops at,
 * with RSI pointing at that instruction, or by a jump into the next
 * block's code (jit_end_block()). Conventions inside one instruction's
 * code: RAX a linear address, R8 the host address of a memory operand,
 * RCX and RDX operands, R9..R11 scratch.
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

/* jit_flow.c: translate in (t->insn[t->k]) into *r if it is a stack
 * operation, a branch, SETcc/CMOVcc or ENDBR; else false. */
bool jit_flow(struct jit_tr *t, const struct insn *in, enum jit_result *r);

/* ---- helpers of the translators ---- */

/* A byte register that is AH..BH stays with the generic handlers. */
static inline bool jit_byte_ok(const struct insn *in, unsigned reg)
{
	return (in->flags & IF_REX) || reg < 4;
}

static inline struct x64_m jit_greg(unsigned r)
{
	return xm(XDI, OFF_R(r));
}

#define JIT_HOST ((struct x64_m){ X8, X_NOREG, 0, 0 }) /* [R8] */

/* dst := the `size` bytes at m, zero-extended to 64 bits. */
static inline void jit_load_zx(struct x64 *e, unsigned size, unsigned dst, struct x64_m m)
{
	switch (size) {
	case 1: x64_rm(e, 4, XOP_MOVZX8, dst, m); break;
	case 2: x64_rm(e, 4, XOP_MOVZX16, dst, m); break;
	case 4: x64_rm(e, 4, XOP_MOV_LD, dst, m); break;
	default: x64_rm(e, 8, XOP_MOV_LD, dst, m); break;
	}
}

static inline bool jit_flags_live(const struct jit_tr *t)
{
	return t->flags_of >= 0 && (unsigned)t->flags_of + 1 == t->k;
}

enum { JIT_CC_B = 2 }; /* the condition "CF set" */

/* Host flags that may not be the guest's: OF after a shift by more than 1
 * (undefined), CF after INC/DEC (kept lazily by the guest, not the host). */
enum { JIT_OF = 1, JIT_CF = 2 };

/* The host flags decide condition cc as the guest's lazy flags would. */
static inline bool jit_cond_live(const struct jit_tr *t, unsigned cc)
{
	static const u8 reads[8] = { JIT_OF, JIT_CF, 0, JIT_CF, 0, 0, JIT_OF, JIT_OF };
	return jit_flags_live(t) && !(t->flags_unlike & reads[cc >> 1]);
}

/* Instruction k sets the host flags as the guest's, but `unlike`. */
static inline void jit_flags_set(struct jit_tr *t, unsigned unlike)
{
	t->flags_of = (int)t->k;
	t->flags_unlike = (u8)unlike;
}

/* Instruction k leaves the host flags alone. */
static inline void jit_flags_kept(struct jit_tr *t)
{
	if (jit_flags_live(t))
		t->flags_of = (int)t->k;
}

#endif
