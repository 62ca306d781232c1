/* stack.c: PUSH/POP forms, PUSHF/POPF, ENTER/LEAVE, PUSHA/POPA. */
#include "ops.h"

void op_push_r(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, cpu_get_reg(cpu, in->reg, in->opsize, false), in->opsize);
}

void op_pop_r(struct cpu *cpu, const struct insn *in)
{
	u64 v = cpu_pop(cpu, in->opsize);
	cpu_set_reg(cpu, in->reg, in->opsize, false, v);
}

void op_push_imm(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, in->imm, in->opsize);
}

void op_push_rm(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, cpu_rm_read(cpu, in, in->opsize), in->opsize);
}

/* POP r/m: the address is computed with the incremented RSP (SDM POP). */
void op_pop_rm(struct cpu *cpu, const struct insn *in)
{
	cpu_save_rollback(cpu);
	u64 v = cpu_pop(cpu, in->opsize);
	cpu_rm_write(cpu, in, in->opsize, v);
	cpu->rollback.valid = false;
}

void op_pushf(struct cpu *cpu, const struct insn *in)
{
	u64 f = cpu_get_rflags(cpu);
	if ((f & X86_EFLAGS_VM) && ((f & X86_EFLAGS_IOPL) >> 12) < 3)
		cpu_gp(cpu, 0);
	cpu_push(cpu, f & ~(X86_EFLAGS_VM | X86_EFLAGS_RF), in->opsize);
}

/* POPF (SDM Vol. 2): which bits may change depends on CPL and IOPL. */
void op_popf(struct cpu *cpu, const struct insn *in)
{
	u64 old = cpu_get_rflags(cpu);
	unsigned iopl = (old & X86_EFLAGS_IOPL) >> 12;
	if ((old & X86_EFLAGS_VM) && iopl < 3)
		cpu_gp(cpu, 0);
	u64 v = cpu_pop(cpu, in->opsize);
	u64 mask = X86_EFLAGS_ARITH | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_NT |
		   X86_EFLAGS_AC | X86_EFLAGS_ID;
	if (cpu->cpl == 0)
		mask |= X86_EFLAGS_IOPL;
	if (cpu->cpl <= iopl)
		mask |= X86_EFLAGS_IF;
	if (in->opsize == 2)
		mask &= 0xffff;
	cpu_set_rflags(cpu, (old & ~mask) | (v & mask));
	cpu_poll_irq(cpu);
	cpu_break(cpu); /* IF or TF may have changed */
}

void op_enter(struct cpu *cpu, const struct insn *in)
{
	unsigned n = in->opsize, level = in->imm2 & 31, ss = cpu_stack_size(cpu);
	u64 bp = cpu->r[R_BP];
	cpu_save_rollback(cpu);
	cpu_push(cpu, bp, n);
	u64 frame = cpu->r[R_SP] & size_mask(ss);
	for (unsigned i = 1; i < level; i++) {
		bp = (bp - n) & size_mask(ss);
		cpu_push(cpu, cpu_read_lin(cpu, cpu_seg_lin(cpu, SEG_SS, bp, n, false), n), n);
	}
	if (level)
		cpu_push(cpu, frame, n);
	u64 sp = (cpu->r[R_SP] - in->imm) & size_mask(ss);
	cpu_seg_lin(cpu, SEG_SS, sp, 1, true); /* the new top must be addressable */
	cpu->rollback.valid = false;
	cpu_set_reg(cpu, R_BP, n, false, frame);
	cpu_set_reg(cpu, R_SP, ss, false, sp);
}

void op_leave(struct cpu *cpu, const struct insn *in)
{
	unsigned ss = cpu_stack_size(cpu);
	u64 sp = cpu->r[R_BP] & size_mask(ss);
	u64 v = cpu_read_lin(cpu, cpu_seg_lin(cpu, SEG_SS, sp, in->opsize, false), in->opsize);
	cpu_set_reg(cpu, R_SP, ss, false, sp + in->opsize);
	cpu_set_reg(cpu, R_BP, in->opsize, false, v);
}

void op_pusha(struct cpu *cpu, const struct insn *in)
{
	u64 sp = cpu->r[R_SP];
	cpu_save_rollback(cpu);
	for (unsigned r = R_AX; r <= R_DI; r++)
		cpu_push(cpu, r == R_SP ? sp : cpu->r[r], in->opsize);
	cpu->rollback.valid = false;
}

void op_popa(struct cpu *cpu, const struct insn *in)
{
	u64 v[8];
	cpu_save_rollback(cpu);
	for (int r = R_DI; r >= R_AX; r--)
		v[r] = cpu_pop(cpu, in->opsize);
	cpu->rollback.valid = false;
	for (unsigned r = R_AX; r <= R_DI; r++)
		if (r != R_SP)
			cpu_set_reg(cpu, r, in->opsize, false, v[r]);
}

static int sreg_of(const struct insn *in)
{
	if (in->map == 1)
		return (in->op & 0x08) ? SEG_GS : SEG_FS;
	return (in->op >> 3) & 3;
}

void op_push_sreg(struct cpu *cpu, const struct insn *in)
{
	cpu_push(cpu, cpu->seg[sreg_of(in)].sel, in->opsize);
}

void op_pop_sreg(struct cpu *cpu, const struct insn *in)
{
	int s = sreg_of(in);
	unsigned sp_size = cpu_stack_size(cpu);
	u64 sp = cpu->r[R_SP] & size_mask(sp_size);
	u16 sel = (u16)cpu_read_lin(cpu, cpu_seg_lin(cpu, SEG_SS, sp, 2, false), 2);
	cpu_load_seg(cpu, s, sel);
	cpu_set_reg(cpu, R_SP, sp_size, false, sp + in->opsize);
	if (s == SEG_SS)
		cpu_set_irq_shadow(cpu);
}
