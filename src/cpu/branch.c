/* branch.c: near control transfers: Jcc, JMP, CALL, RET, LOOP/JCXZ. */
#include "cet.h"
#include "ops.h"

void cpu_jump_slow(struct cpu *cpu, u64 target, unsigned opsize)
{
	if (cpu->m64) {
		if (cpu_canonical(target) != target)
			cpu_gp(cpu, 0);
	} else {
		target &= size_mask(opsize);
		if (target > cpu->seg[SEG_CS].limit && (cpu->cr0 & X86_CR0_PE))
			cpu_gp(cpu, 0);
	}
	cpu->next_rip = target;
}

/* Target check without the jump (CALL checks before it pushes). */
static u64 check_target(struct cpu *cpu, u64 target, unsigned opsize)
{
	if (likely(cpu->m64 && cpu_canonical(target) == target))
		return target;
	u64 saved = cpu->next_rip;
	cpu_jump(cpu, target, opsize);
	target = cpu->next_rip;
	cpu->next_rip = saved;
	return target;
}

void op_jcc(struct cpu *cpu, const struct insn *in)
{
	if (cpu_cond(cpu, in->op & 0xf))
		cpu_jump(cpu, cpu->next_rip + in->imm, in->opsize);
}

void op_jmp_rel(struct cpu *cpu, const struct insn *in)
{
	cpu_jump(cpu, cpu->next_rip + in->imm, in->opsize);
}

/* Push the return address (and its shadow-stack copy), then branch. */
static void call_near(struct cpu *cpu, const struct insn *in, u64 target, bool shadow)
{
	u64 ret = cpu->next_rip;
	target = check_target(cpu, target, in->opsize);
	if (likely(!shadow)) {
		cpu_push(cpu, ret, in->opsize);
	} else {
		cpu_save_rollback(cpu);
		cpu_push(cpu, ret, in->opsize);
		cet_push_ret(cpu, ret);
		cpu->rollback.valid = false;
	}
	cpu->next_rip = target;
}

void op_call_rel(struct cpu *cpu, const struct insn *in)
{
	/* CALL to the next instruction leaves the shadow stack alone (spec 5.5). */
	call_near(cpu, in, cpu->next_rip + in->imm, cpu->sse_cur && in->imm != 0);
}

void op_call_rm(struct cpu *cpu, const struct insn *in)
{
	call_near(cpu, in, cpu_rm_read(cpu, in, in->opsize), cpu->sse_cur);
	cet_indirect_branch(cpu, in);
}

void op_jmp_rm(struct cpu *cpu, const struct insn *in)
{
	cpu_jump(cpu, cpu_rm_read(cpu, in, in->opsize), in->opsize);
	cet_indirect_branch(cpu, in);
}

void op_ret(struct cpu *cpu, const struct insn *in)
{
	unsigned n = in->opsize;
	u64 adj = in->op == 0xc2 ? in->imm : 0;
	if (likely(cpu->m64 && !cpu->sse_cur)) {
		u64 sp = cpu->r[R_SP];
		u64 ret = cpu_read_lin(cpu, cpu_seg_lin(cpu, SEG_SS, sp, n, false), n);
		cpu_jump(cpu, ret, n);
		cpu->r[R_SP] = sp + n + adj;
		return;
	}
	u64 sp = cpu->r[R_SP] & size_mask(cpu_stack_size(cpu));
	u64 ret = cpu_read_lin(cpu, cpu_seg_lin(cpu, SEG_SS, sp, n, false), n);
	if (cpu->sse_cur) {
		cpu_save_rollback(cpu);
		cet_pop_ret(cpu, ret); /* #CP(1) before the target check (spec 5.5) */
	}
	cpu_jump(cpu, ret, n);
	cpu->rollback.valid = false;
	cpu_set_sp(cpu, (sp + n + adj) & size_mask(cpu_stack_size(cpu)));
}

void op_loop(struct cpu *cpu, const struct insn *in)
{
	unsigned as = in->addrsize;
	u64 count = cpu->r[R_CX] & size_mask(as);
	bool taken;
	if (in->op == 0xe3) {
		taken = count == 0;
	} else {
		count = (count - 1) & size_mask(as);
		cpu_set_reg(cpu, R_CX, as, false, count);
		taken = count != 0;
		if (in->op == 0xe0)
			taken = taken && !cpu_cond(cpu, 4); /* LOOPNE: ZF = 0 */
		else if (in->op == 0xe1)
			taken = taken && cpu_cond(cpu, 4); /* LOOPE: ZF = 1 */
	}
	if (taken)
		cpu_jump(cpu, cpu->next_rip + in->imm, in->opsize);
}
