/* mov.c: data movement: MOV forms, LEA, XCHG, MOVZX/MOVSX, CBW/CWD, XLAT, NOPs. */
#include "ops.h"

#define REX(in) ((in)->flags & IF_REX)

void op_mov_rm_r(struct cpu *cpu, const struct insn *in)
{
	cpu_rm_write(cpu, in, in->opsize, cpu_get_reg(cpu, in->reg, in->opsize, REX(in)));
}

void op_mov_r_rm(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, REX(in), cpu_rm_read(cpu, in, in->opsize));
}

void op_mov_rm_sreg(struct cpu *cpu, const struct insn *in)
{
	unsigned s = in->reg & 7;
	if (s > SEG_GS)
		cpu_ud(cpu);
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, 2, cpu->seg[s].sel);
	else
		cpu_set_reg(cpu, in->rm, in->opsize, false, cpu->seg[s].sel);
}

void op_mov_sreg_rm(struct cpu *cpu, const struct insn *in)
{
	unsigned s = in->reg & 7;
	if (s == SEG_CS || s > SEG_GS)
		cpu_ud(cpu);
	cpu_load_seg(cpu, (int)s, (u16)cpu_rm_read(cpu, in, 2));
	if (s == SEG_SS)
		cpu_set_irq_shadow(cpu); /* SDM Vol. 3 6.8.3 */
}

void op_lea(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, false, cpu_ea(cpu, in));
}

void op_mov_a_moffs(struct cpu *cpu, const struct insn *in)
{
	u64 la = cpu_seg_lin(cpu, in->seg, in->imm, in->opsize, false);
	cpu_set_reg(cpu, R_AX, in->opsize, false, cpu_read_lin(cpu, la, in->opsize));
}

void op_mov_moffs_a(struct cpu *cpu, const struct insn *in)
{
	u64 la = cpu_seg_lin(cpu, in->seg, in->imm, in->opsize, true);
	cpu_write_lin(cpu, la, in->opsize, cpu->r[R_AX]);
}

void op_mov_r_imm(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, REX(in), in->imm);
}

void op_mov_rm_imm(struct cpu *cpu, const struct insn *in)
{
	cpu_rm_write(cpu, in, in->opsize, in->imm);
}

void op_xchg_rm_r(struct cpu *cpu, const struct insn *in)
{
	u64 a = cpu_rm_read(cpu, in, in->opsize);
	cpu_rm_write(cpu, in, in->opsize, cpu_get_reg(cpu, in->reg, in->opsize, REX(in)));
	cpu_set_reg(cpu, in->reg, in->opsize, REX(in), a);
}

void op_xchg_ax_r(struct cpu *cpu, const struct insn *in)
{
	if (in->reg == R_AX)
		return; /* 90 is NOP, even with a 32-bit operand in 64-bit mode */
	u64 a = cpu_get_reg(cpu, R_AX, in->opsize, false);
	cpu_set_reg(cpu, R_AX, in->opsize, false, cpu_get_reg(cpu, in->reg, in->opsize, false));
	cpu_set_reg(cpu, in->reg, in->opsize, false, a);
}

/* The TSC ticks PAUSE takes: "as many as 140 cycles" since Skylake
 * (Intel Optimization Reference Manual, "Pause Latency in Skylake
 * Microarchitecture"); one instruction is otherwise one tick. A spin-wait
 * loop on the TSC thus runs about as many iterations as on hardware. */
#define PAUSE_TSC_TICKS 140

void op_pause(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_add_tsc(cpu, PAUSE_TSC_TICKS - 1);
}

void op_nop(struct cpu *cpu, const struct insn *in)
{
	(void)cpu;
	(void)in;
}

static u64 sext(u64 v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;
	return (u64)((s64)(v << sh) >> sh);
}

void op_movzx_b(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, false, cpu_rm_read(cpu, in, 1));
}

void op_movzx_w(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, false, cpu_rm_read(cpu, in, 2));
}

void op_movsx_b(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, false, sext(cpu_rm_read(cpu, in, 1), 1));
}

void op_movsx_w(struct cpu *cpu, const struct insn *in)
{
	cpu_set_reg(cpu, in->reg, in->opsize, false, sext(cpu_rm_read(cpu, in, 2), 2));
}

void op_movsxd(struct cpu *cpu, const struct insn *in)
{
	unsigned src = in->opsize == 8 ? 4 : in->opsize;
	cpu_set_reg(cpu, in->reg, in->opsize, false, sext(cpu_rm_read(cpu, in, src), src));
}

void op_cbw(struct cpu *cpu, const struct insn *in)
{
	unsigned half = in->opsize / 2;
	cpu_set_reg(cpu, R_AX, in->opsize, false, sext(cpu->r[R_AX], half));
}

void op_cwd(struct cpu *cpu, const struct insn *in)
{
	u64 a = cpu->r[R_AX] & size_mask(in->opsize);
	bool neg = a >> (in->opsize * 8 - 1);
	cpu_set_reg(cpu, R_DX, in->opsize, false, neg ? ~0ull : 0);
}

void op_xlat(struct cpu *cpu, const struct insn *in)
{
	u64 off = (cpu->r[R_BX] + (cpu->r[R_AX] & 0xff)) & size_mask(in->addrsize);
	u64 la = cpu_seg_lin(cpu, in->seg, off, 1, false);
	cpu_set_reg(cpu, R_AX, 1, false, cpu_read_lin(cpu, la, 1));
}
