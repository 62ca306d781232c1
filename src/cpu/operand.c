/* operand.c: effective addresses, register and r/m operands, the stack. */
#include "cpu.h"

u64 cpu_ea(struct cpu *cpu, const struct insn *in)
{
	u64 ea = (u64)(s64)in->disp;
	if (in->base == REG_RIP)
		ea += cpu->next_rip;
	else if (in->base != REG_NONE)
		ea += cpu->r[in->base];
	if (in->index != REG_NONE)
		ea += cpu->r[in->index] << in->scale;
	return ea & size_mask(in->addrsize);
}

/* Byte registers 4..7 without REX are AH, CH, DH, BH. */
u64 cpu_get_reg(const struct cpu *cpu, unsigned reg, unsigned size, bool rex)
{
	if (size == 1 && !rex && reg >= 4 && reg < 8)
		return (cpu->r[reg - 4] >> 8) & 0xff;
	return cpu->r[reg] & size_mask(size);
}

void cpu_set_reg(struct cpu *cpu, unsigned reg, unsigned size, bool rex, u64 v)
{
	u64 *r;
	switch (size) {
	case 1:
		if (!rex && reg >= 4 && reg < 8) {
			r = &cpu->r[reg - 4];
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		} else {
			r = &cpu->r[reg];
			*r = (*r & ~0xffull) | (v & 0xff);
		}
		break;
	case 2:
		r = &cpu->r[reg];
		*r = (*r & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		cpu->r[reg] = (u32)v; /* 32-bit writes zero-extend (SDM Vol. 1 3.4.1.1) */
		break;
	default:
		cpu->r[reg] = v;
		break;
	}
}

u64 cpu_mem_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	u64 la = cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, false);
	return cpu_read_lin(cpu, la, size);
}

void cpu_mem_write(struct cpu *cpu, const struct insn *in, unsigned size, u64 v)
{
	u64 la = cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, true);
	cpu_write_lin(cpu, la, size, v);
}

u64 cpu_rm_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (!(in->flags & IF_MEM))
		return cpu_get_reg(cpu, in->rm, size, in->flags & IF_REX);
	return cpu_mem_read(cpu, in, size);
}

void cpu_rm_write(struct cpu *cpu, const struct insn *in, unsigned size, u64 v)
{
	if (!(in->flags & IF_MEM))
		cpu_set_reg(cpu, in->rm, size, in->flags & IF_REX, v);
	else
		cpu_mem_write(cpu, in, size, v);
}

unsigned cpu_stack_size(const struct cpu *cpu)
{
	if (cpu->m64)
		return 8;
	return (cpu->seg[SEG_SS].attr & SEG_ATTR_DB) ? 4 : 2;
}

static void set_sp(struct cpu *cpu, u64 sp)
{
	unsigned ss = cpu_stack_size(cpu);
	if (ss == 8)
		cpu->r[R_SP] = sp;
	else
		cpu_set_reg(cpu, R_SP, ss, false, sp);
}

void cpu_push(struct cpu *cpu, u64 v, unsigned size)
{
	u64 sp = (cpu->r[R_SP] - size) & size_mask(cpu_stack_size(cpu));
	u64 la = cpu_seg_lin(cpu, SEG_SS, sp, size, true);
	cpu_write_lin(cpu, la, size, v);
	set_sp(cpu, sp);
}

u64 cpu_pop(struct cpu *cpu, unsigned size)
{
	u64 sp = cpu->r[R_SP] & size_mask(cpu_stack_size(cpu));
	u64 la = cpu_seg_lin(cpu, SEG_SS, sp, size, false);
	u64 v = cpu_read_lin(cpu, la, size);
	set_sp(cpu, sp + size);
	return v;
}
