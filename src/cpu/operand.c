/* operand.c: effective addresses, register and r/m operands, the stack. */
#include "cpu.h"

unsigned cpu_stack_size(const struct cpu *cpu)
{
	if (cpu->m64)
		return 8;
	return (cpu->seg[SEG_SS].attr & SEG_ATTR_DB) ? 4 : 2;
}

void cpu_set_sp(struct cpu *cpu, u64 sp)
{
	unsigned ss = cpu_stack_size(cpu);
	if (ss == 8)
		cpu->r[R_SP] = sp;
	else
		cpu_set_reg(cpu, R_SP, ss, false, sp);
}

void cpu_push_slow(struct cpu *cpu, u64 v, unsigned size)
{
	u64 sp = (cpu->r[R_SP] - size) & size_mask(cpu_stack_size(cpu));
	u64 la = cpu_seg_lin(cpu, SEG_SS, sp, size, true);
	cpu_write_lin(cpu, la, size, v);
	cpu_set_sp(cpu, sp);
}

u64 cpu_pop_slow(struct cpu *cpu, unsigned size)
{
	u64 sp = cpu->r[R_SP] & size_mask(cpu_stack_size(cpu));
	u64 la = cpu_seg_lin(cpu, SEG_SS, sp, size, false);
	u64 v = cpu_read_lin(cpu, la, size);
	cpu_set_sp(cpu, sp + size);
	return v;
}
