/* jit_flow.c: host code for the stack, branches and the flags consumers
 * (jit_int.h): PUSH/POP, CALL/RET with the shadow stack, indirect CALL/JMP
 * with IBT, Jcc/JMP, SETcc/CMOVcc, ENDBR. As in jit_ops.c, each does what
 * its specialized handler does (fast_ops.c, fast_misc.c) and leaves to the
 * handler wherever that would fall back.
 */
#include "cet.h"
#include "jit_int.h"
#include "ops.h"

/* ---- the stack ---- */

/* la := [cpu + from] + delta and host := what makes [la + host] its host
 * address through the one-page cache at cpu + cache (cpu.h,
 * page_cache_hit()), or the exit. */
static void cached_slot(struct jit_tr *t, s32 from, s32 delta, s32 cache, unsigned la,
			unsigned host)
{
	struct x64 *e = &t->e;
	x64_rm(e, 8, XOP_MOV_LD, la, xm(XDI, from));
	if (delta)
		x64_rm(e, 8, XOP_LEA, la, xm(la, delta));
	x64_rr(e, 8, XOP_MOV_ST, la, host);
	x64_ri(e, 8, XOP_GRP1, 4, host, (u32)~0xff8u, 4);
	x64_rm(e, 8, 0x3b, host, xm(XDI, cache + (s32)offsetof(struct page_cache, page)));
	jit_exit_if(t, 5);
	x64_rm(e, 8, XOP_MOV_LD, host, xm(XDI, cache + (s32)offsetof(struct page_cache, addend)));
}

#define STACK_SLOT xmi(XAX, X8, 0, 0)  /* stack_slot()'s [RSP + delta] */
#define SHADOW_SLOT xmi(X9, X10, 0, 0) /* shadow_slot()'s [SSP + delta] */

/* RAX := RSP + delta, STACK_SLOT its host address through the stack's
 * page cache (cpu_stack_host()), or the exit. */
static void stack_slot(struct jit_tr *t, s32 delta)
{
	cached_slot(t, OFF_R(R_SP), delta, OFF(sp_cache), XAX, X8);
}

static enum jit_result tr_push_pop(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	if (in->opsize != 8)
		return JIT_NO;
	if (in->fn == op_push_r) {
		stack_slot(t, -8);
		x64_rm(e, 8, XOP_MOV_LD, XCX, jit_greg(in->reg)); /* PUSH RSP: the old value */
		x64_rm(e, 8, XOP_MOV_ST, XCX, STACK_SLOT);
		x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_SP));
	} else {
		stack_slot(t, 0);
		x64_rm(e, 8, XOP_MOV_LD, XCX, STACK_SLOT);
		x64_rm(e, 8, XOP_LEA, XAX, xm(XAX, 8));
		x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_SP));
		x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(in->reg)); /* POP RSP: the value */
	}
	return JIT_OK;
}

/* ---- branches and the flags consumers ---- */

/* RAX := the address `off` bytes after the block start, which must be
 * canonical (else the exit: the handler raises #GP). */
static void next_rip(struct jit_tr *t, s64 off, bool check)
{
	struct x64 *e = &t->e;
	x64_rm(e, 8, XOP_MOV_LD, XAX, xm(XDI, OFF(cur_block_rip)));
	if ((s32)off == off) {
		x64_rm(e, 8, XOP_LEA, XAX, xm(XAX, (s32)off));
	} else {
		x64_mov_imm(e, XCX, (u64)off);
		x64_rr(e, 8, XOP_ALU_RM_R, XCX, XAX);
	}
	if (check) {
		x64_rr(e, 8, XOP_MOV_ST, XAX, XCX);
		x64_ri(e, 8, XOP_SHIFT_I, 4, XCX, 16, 1); /* shl rcx, 16 */
		x64_ri(e, 8, XOP_SHIFT_I, 7, XCX, 16, 1); /* sar rcx, 16 */
		x64_rr(e, 8, 0x39, XAX, XCX);             /* cmp rcx, rax */
		jit_exit_if(t, 5);
	}
}

/* The block ends at in, going on at `off` from the block start. */
static enum jit_result leave(struct jit_tr *t, const struct insn *in, s64 off, bool check)
{
	next_rip(t, off, check);
	jit_end_block(t, in, false);
	return JIT_END;
}

/* Jcc: taken, the block ends; not taken, it ends too if in is its last
 * instruction, else it goes on (exec.c, follow()). */
static enum jit_result tr_jcc(struct jit_tr *t, const struct insn *in)
{
	if (!jit_cond_live(t, in->op & 0xf))
		return JIT_NO;
	u8 *not_taken = x64_jcc(&t->e, (in->op & 0xf) ^ 1);
	leave(t, in, (s64)in->next_off + (s64)in->imm, true);
	x64_patch(not_taken, t->e.p);
	if (t->k + 1 == t->n)
		return leave(t, in, in->next_off, false);
	jit_flags_kept(t);
	return JIT_OK;
}

static enum jit_result tr_jmp(struct jit_tr *t, const struct insn *in)
{
	if (t->k + 1 < t->n) { /* followed: the block goes on at the target */
		jit_flags_kept(t);
		return JIT_OK;
	}
	return leave(t, in, (s64)in->next_off + (s64)in->imm, true);
}

/* RCX must be canonical, else the exit (the handler's #GP). */
static void check_canonical(struct jit_tr *t)
{
	struct x64 *e = &t->e;
	x64_rr(e, 8, XOP_MOV_ST, XCX, XDX);
	x64_ri(e, 8, XOP_SHIFT_I, 4, XDX, 16, 1); /* shl rdx, 16 */
	x64_ri(e, 8, XOP_SHIFT_I, 7, XDX, 16, 1); /* sar rdx, 16 */
	x64_rr(e, 8, 0x39, XCX, XDX);             /* cmp rdx, rcx */
	jit_exit_if(t, 5);
}

/* With the shadow stack on at the current CPL (cpu->sse_cur), R9 := the
 * SSP a CALL (delta -8) or RET (0) uses and SHADOW_SLOT its host address
 * through the shadow stack's page cache (cpu.h, cpu_shstk_host()), or the
 * exit; returns the jump that skips this when it is off. */
static u8 *shadow_slot(struct jit_tr *t, s32 delta)
{
	x64_mi(&t->e, 1, 0x80, 7, xm(XDI, OFF(sse_cur)), 0, 1);
	u8 *off = x64_jcc(&t->e, 4); /* je */
	cached_slot(t, OFF(cet.ssp), delta, OFF(ss_cache), X9, X10);
	return off;
}

/* SSP := R9, SHADOW_SLOT written with RDX (CALL), before the stack. */
static void shadow_push(struct jit_tr *t)
{
	struct x64 *e = &t->e;
	x64_rm(e, 8, XOP_MOV_ST, XDX, SHADOW_SLOT);
	x64_rm(e, 8, XOP_MOV_ST, X9, xm(XDI, OFF(cet.ssp)));
}

/* CALL rel32 (fast_ops.c, call64()): the checks, then the pushes. */
static enum jit_result tr_call(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	s64 to = (s64)in->next_off + (s64)in->imm;
	if (in->opsize != 8 || (s32)to != to)
		return JIT_NO;
	stack_slot(t, -8);
	x64_rm(e, 8, XOP_MOV_LD, XCX, xm(XDI, OFF(cur_block_rip)));
	x64_rm(e, 8, XOP_LEA, XCX, xm(XCX, (s32)to));
	check_canonical(t);
	x64_rm(e, 8, XOP_MOV_LD, XDX, xm(XDI, OFF(cur_block_rip)));
	x64_rm(e, 8, XOP_LEA, XDX, xm(XDX, in->next_off));
	if (in->imm != 0) { /* a CALL to the next instruction leaves it alone */
		u8 *off = shadow_slot(t, -8);
		shadow_push(t);
		x64_patch(off, e->p);
	}
	x64_rm(e, 8, XOP_MOV_ST, XDX, STACK_SLOT);
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_SP));
	if (t->k + 1 < t->n)
		return JIT_OK; /* the block goes on at the target */
	x64_rr(e, 8, XOP_MOV_ST, XCX, XAX);
	jit_end_block(t, in, false);
	return JIT_END;
}

/* RET (C3): pop a canonical target, which must match the shadow stack's. */
static enum jit_result tr_ret(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	if (in->op != 0xc3 || in->opsize != 8)
		return JIT_NO;
	stack_slot(t, 0);
	x64_rm(e, 8, XOP_MOV_LD, XCX, STACK_SLOT);
	check_canonical(t);
	u8 *off = shadow_slot(t, 0); /* a mismatch is the handler's #CP */
	x64_rm(e, 8, 0x3b, XCX, SHADOW_SLOT);
	jit_exit_if(t, 5);
	x64_rm(e, 8, XOP_LEA, X9, xm(X9, 8));
	x64_rm(e, 8, XOP_MOV_ST, X9, xm(XDI, OFF(cet.ssp)));
	x64_patch(off, e->p);
	x64_rm(e, 8, XOP_LEA, XAX, xm(XAX, 8));
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_SP));
	x64_rr(e, 8, XOP_MOV_ST, XCX, XAX);
	jit_end_block(t, in, false);
	return JIT_END;
}

/* CALL r64 and JMP r64 (fast_ops.c, indirect()): with IBT armed, the
 * tracker's WAIT_FOR_ENDBRANCH is pending (R11B = ibt_arm) for
 * jit_end_block(). NOTRACK, when IBT is armed, is the handler's. */
static enum jit_result tr_indirect(struct jit_tr *t, const struct insn *in, bool call)
{
	struct x64 *e = &t->e;
	if (in->opsize != 8 || (in->flags & IF_MEM))
		return JIT_NO;
	if (in->flags & IF_NOTRACK) {
		x64_mi(e, 1, 0x80, 7, xm(XDI, OFF(ibt_arm)), 0, 1);
		jit_exit_if(t, 5);
	}
	if (call)
		stack_slot(t, -8);
	x64_rm(e, 8, XOP_MOV_LD, XCX, jit_greg(in->rm));
	check_canonical(t);
	if (call) {
		x64_rm(e, 8, XOP_MOV_LD, XDX, xm(XDI, OFF(cur_block_rip)));
		x64_rm(e, 8, XOP_LEA, XDX, xm(XDX, in->next_off));
		u8 *off = shadow_slot(t, -8);
		shadow_push(t);
		x64_patch(off, e->p);
		x64_rm(e, 8, XOP_MOV_ST, XDX, STACK_SLOT);
		x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_SP));
	}
	x64_rm(e, 4, XOP_MOVZX8, X11, xm(XDI, OFF(ibt_arm)));
	x64_rr(e, 8, XOP_MOV_ST, XCX, XAX);
	jit_end_block(t, in, true);
	return JIT_END;
}

static enum jit_result tr_setcc_cmov(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned cc = in->op & 0xf, size = in->opsize;
	if (!jit_cond_live(t, cc) || (in->flags & IF_MEM))
		return JIT_NO;
	if (in->fn == op_setcc) {
		if (!jit_byte_ok(in, in->rm))
			return JIT_NO;
		x64_rm(e, 1, XOP_SETCC + cc, 0, jit_greg(in->rm));
	} else {
		if (size != 4 && size != 8)
			return JIT_NO;
		jit_load_zx(e, size, XCX, jit_greg(in->reg));
		x64_rm(e, size, XOP_CMOVCC + cc, XCX, jit_greg(in->rm));
		x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(in->reg));
	}
	jit_flags_kept(t);
	return JIT_OK;
}

/* ENDBR with the tracker idle and not suppressed at the current CPL changes
 * nothing (fast_ops.c, endbr_idle()); otherwise the exit. */
static enum jit_result tr_endbr(struct jit_tr *t)
{
	struct x64 *e = &t->e;
	u32 busy = (u32)(CET_WAIT_ENDBR | CET_SUPPRESS);
	x64_mi(e, 1, 0x80, 7, xm(XDI, OFF(cpl)), 3, 1); /* cmp byte [cpl], 3 */
	u8 *sup = x64_jcc(e, 5);
	x64_mi(e, 8, 0xf7, 0, xm(XDI, OFF(cet.u_cet)), busy, 4); /* test */
	u8 *done = x64_jmp(e);
	x64_patch(sup, e->p);
	x64_mi(e, 8, 0xf7, 0, xm(XDI, OFF(cet.s_cet)), busy, 4);
	x64_patch(done, e->p);
	jit_exit_if(t, 5);
	return JIT_OK;
}

bool jit_flow(struct jit_tr *t, const struct insn *in, enum jit_result *r)
{
	if (in->fn == op_jcc)
		*r = tr_jcc(t, in);
	else if (in->fn == op_setcc || in->fn == op_cmovcc)
		*r = tr_setcc_cmov(t, in);
	else if (in->fn == op_jmp_rel)
		*r = tr_jmp(t, in);
	else if (in->fn == op_endbr)
		*r = tr_endbr(t);
	else if (in->fn == op_push_r || in->fn == op_pop_r)
		*r = tr_push_pop(t, in);
	else if (in->fn == op_call_rel)
		*r = tr_call(t, in);
	else if (in->fn == op_ret)
		*r = tr_ret(t, in);
	else if (in->fn == op_call_rm || in->fn == op_jmp_rm)
		*r = tr_indirect(t, in, in->fn == op_call_rm);
	else
		return false;
	return true;
}
