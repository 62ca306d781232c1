/* fast.c: specialized handlers for the hottest instruction forms in 64-bit mode.
 *
 * The decoder picks a generic handler from the opcode table; fast_variant()
 * then swaps in a handler specialized for the operand form (register or
 * base+displacement memory, 32/64-bit size) when one exists. Each
 * specialized handler has exactly the generic one's semantics: the unit
 * and guest tests run both.
 */
#include "fast.h"

#include "cet.h"
#include "ops.h"

/* [base + disp] with no index, DS/SS segment (base 0 in 64-bit mode). */
static inline u64 base_la(const struct cpu *cpu, const struct insn *in)
{
	return cpu->r[in->base] + (u64)(s64)in->disp;
}

static inline u64 check_la(struct cpu *cpu, const struct insn *in, u64 la)
{
	if (unlikely(cpu_canonical(la) != la))
		cpu_fault(cpu, in->seg == SEG_SS ? X86_EXC_SS : X86_EXC_GP, 0);
	return la;
}

static void op_mov_store64_b(struct cpu *cpu, const struct insn *in)
{
	cpu_write_lin(cpu, check_la(cpu, in, base_la(cpu, in)), 8, cpu->r[in->reg]);
}

static void op_mov_load64_b(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = cpu_read_lin(cpu, check_la(cpu, in, base_la(cpu, in)), 8);
}

static void op_mov_store32_b(struct cpu *cpu, const struct insn *in)
{
	cpu_write_lin(cpu, check_la(cpu, in, base_la(cpu, in)), 4, cpu->r[in->reg]);
}

static void op_mov_load32_b(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u32)cpu_read_lin(cpu, check_la(cpu, in, base_la(cpu, in)), 4);
}

/* 89 /r, register form: rm <- reg. */
static void op_mov_rr64_st(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = cpu->r[in->reg];
}

static void op_mov_rr32_st(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = (u32)cpu->r[in->reg];
}

/* 8B /r, register form: reg <- rm. */
static void op_mov_rr64_ld(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = cpu->r[in->rm];
}

static void op_mov_rr32_ld(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u32)cpu->r[in->rm];
}

static void op_lea64_b(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = base_la(cpu, in);
}

static void op_push64_r(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, cpu->r[in->reg], 8);
}

static void op_pop64_r(struct cpu *cpu, const struct insn *in)
{
	u64 v = cpu_pop(cpu, 8);
	cpu->r[in->reg] = v;
}

/* JZ/JNZ (74/75, 0F 84/85): ZF straight from the lazy result. */
static inline bool zf(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return cpu->eflags & X86_EFLAGS_ZF;
	return (cpu->cc_dst & size_mask(cpu->cc_size)) == 0;
}

/* A taken or fall-through near branch: the branch handlers here always
 * write cpu->next_rip (RUN_NEXT). */
static inline void jump64(struct cpu *cpu, const struct insn *in, bool taken)
{
	u64 next = insn_next_rip(cpu, in), target = next + in->imm;
	if (!taken) {
		cpu->next_rip = next;
	} else if (likely(cpu_canonical(target) == target)) {
		cpu->next_rip = target;
	} else {
		cpu_sync_rip(cpu);
		cpu_jump_slow(cpu, target, 8);
	}
}

static void op_jz64(struct cpu *cpu, const struct insn *in)
{
	jump64(cpu, in, zf(cpu));
}

static void op_jnz64(struct cpu *cpu, const struct insn *in)
{
	jump64(cpu, in, !zf(cpu));
}

/* CALL rel32 / RET in 64-bit mode, shadow stacks included (spec 5.5).
 * Nothing is committed before the last access that can fault: the normal
 * stack write, then the shadow-stack push (which moves SSP only when it
 * succeeds), then RSP. */
static void op_call_rel64(struct cpu *cpu, const struct insn *in)
{
	u64 ret = insn_next_rip(cpu, in), target = ret + in->imm, sp = cpu->r[R_SP] - 8;
	if (unlikely(cpu_canonical(sp) != sp)) {
		cpu_sync_rip(cpu);
		op_call_rel(cpu, in);
		return;
	}
	if (unlikely(cpu_canonical(target) != target))
		cpu_gp(cpu, 0);
	cpu_write_lin(cpu, sp, 8, ret);
	if (cpu->sse_cur && in->imm != 0)
		cet_push_ret(cpu, ret);
	cpu->r[R_SP] = sp;
	cpu->next_rip = target;
}

/* CALL r64 (FF /2, register form): as op_call_rel64, then IBT (spec 7.2). */
static void op_call_r64(struct cpu *cpu, const struct insn *in)
{
	u64 ret = insn_next_rip(cpu, in), target = cpu->r[in->rm], sp = cpu->r[R_SP] - 8;
	if (unlikely(cpu_canonical(sp) != sp)) {
		cpu_sync_rip(cpu);
		op_call_rm(cpu, in);
		return;
	}
	if (unlikely(cpu_canonical(target) != target))
		cpu_gp(cpu, 0);
	cpu_write_lin(cpu, sp, 8, ret);
	if (cpu->sse_cur)
		cet_push_ret(cpu, ret);
	cpu->r[R_SP] = sp;
	cpu->next_rip = target;
	cet_indirect_branch(cpu, in);
}

static void op_ret64(struct cpu *cpu, const struct insn *in)
{
	u64 sp = cpu->r[R_SP], ssp = cpu->cet.ssp;
	if (unlikely(cpu_canonical(sp) != sp)) {
		cpu_sync_rip(cpu);
		op_ret(cpu, in);
		return;
	}
	u64 target = cpu_read_lin(cpu, sp, 8);
	if (cpu->sse_cur)
		cet_pop_ret(cpu, target); /* #CP(1) before the target check */
	if (unlikely(cpu_canonical(target) != target)) {
		cpu->cet.ssp = ssp;
		cpu_gp(cpu, 0);
	}
	cpu->r[R_SP] = sp + 8;
	cpu->next_rip = target;
}

/* INC/DEC r64 (FF /0 /1, register form): CF is preserved. */
static void op_inc64_r(struct cpu *cpu, const struct insn *in)
{
	u64 cf = cpu_get_cf(cpu), r = cpu->r[in->rm] + 1;
	cpu->r[in->rm] = r;
	cpu_set_cc(cpu, CC_INC, 8, r, cf, r - 1);
}

static void op_dec64_r(struct cpu *cpu, const struct insn *in)
{
	u64 cf = cpu_get_cf(cpu), r = cpu->r[in->rm] - 1;
	cpu->r[in->rm] = r;
	cpu_set_cc(cpu, CC_DEC, 8, r, cf, r + 1);
}

static bool base_form(const struct insn *in)
{
	return (in->flags & IF_MEM) && in->base < 16 && in->index == REG_NONE &&
	       (in->seg == SEG_DS || in->seg == SEG_SS) && in->addrsize == 8;
}

static insn_fn mov_variant(const struct insn *in)
{
	bool mem = in->flags & IF_MEM;
	if (in->opsize != 8 && in->opsize != 4)
		return NULL;
	bool q = in->opsize == 8;
	if (!mem)
		return in->exec == op_mov_rm_r ? (q ? op_mov_rr64_st : op_mov_rr32_st)
					       : (q ? op_mov_rr64_ld : op_mov_rr32_ld);
	if (!base_form(in))
		return NULL;
	return in->exec == op_mov_rm_r ? (q ? op_mov_store64_b : op_mov_store32_b)
				       : (q ? op_mov_load64_b : op_mov_load32_b);
}

/* The specialization for a 64-bit-mode instruction, or NULL. Branches
 * come back with *run = RUN_NEXT. */
static insn_fn variant64(const struct insn *in, u8 *run)
{
	if (in->exec == op_mov_rm_r || in->exec == op_mov_r_rm)
		return mov_variant(in);
	if (in->exec == op_lea && in->opsize == 8 && base_form(in))
		return op_lea64_b;
	if (in->exec == op_push_r && in->opsize == 8)
		return op_push64_r;
	if (in->exec == op_pop_r && in->opsize == 8)
		return op_pop64_r;
	if (in->exec == op_inc_rm && in->opsize == 8 && !(in->flags & IF_MEM))
		return op_inc64_r;
	if (in->exec == op_dec_rm && in->opsize == 8 && !(in->flags & IF_MEM))
		return op_dec64_r;
	*run = RUN_NEXT;
	if (in->exec == op_call_rel)
		return op_call_rel64;
	if (in->exec == op_call_rm && !(in->flags & IF_MEM))
		return op_call_r64;
	if (in->exec == op_ret && in->op == 0xc3)
		return op_ret64;
	if (in->exec == op_jcc && (in->op & 0xf) == 4)
		return op_jz64;
	if (in->exec == op_jcc && (in->op & 0xf) == 5)
		return op_jnz64;
	return NULL;
}

bool fast_variant(struct insn *in, unsigned code_size)
{
	u8 run = 0;
	insn_fn fn = code_size == 8 ? variant64(in, &run) : NULL;
	if (!fn)
		return false;
	in->exec = fn;
	in->run = run;
	return true;
}
