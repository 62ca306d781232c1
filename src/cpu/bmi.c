/* bmi.c: BMI1 ANDN BEXTR BLSI BLSMSK BLSR and BMI2 BZHI PDEP PEXT, the
 * VEX-encoded general-purpose bit manipulations (SDM Vol. 2; VEX.LZ: #UD
 * with VEX.L = 1). Shifts (SHLX...) are in shift.c, MULX in muldiv.c.
 * Undefined AF/PF are set from the result (CC_LOGIC) or cleared. */
#include "alu.h"
#include "ops.h"

static u64 vvvv(const struct cpu *cpu, const struct insn *in, unsigned size)
{
	return cpu->r[alu_vex_reg(cpu, in)] & size_mask(size);
}

/* ANDN (VEX.LZ.0F38 F2): reg := NOT vvvv AND r/m; SF ZF; CF OF := 0. */
void op_andn(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in);
	u64 r = ~vvvv(cpu, in, size) & alu_rm_read(cpu, in, size);
	alu_set_reg(cpu, in, in->reg, size, r);
	cpu_set_cc(cpu, CC_LOGIC, size, r, 0, 0);
}

/* BEXTR (VEX.LZ.0F38 F7): reg := r/m[start + len - 1 : start] with start
 * in vvvv[7:0] and len in vvvv[15:8]; ZF; CF OF := 0. */
void op_bextr(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), w = size * 8;
	u64 ctl = cpu->r[alu_vex_reg(cpu, in)], v = alu_rm_read(cpu, in, size);
	unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
	u64 r = start < w ? v >> start : 0;
	if (len < 64)
		r &= (1ull << len) - 1;
	alu_set_reg(cpu, in, in->reg, size, r);
	cpu_set_cc(cpu, CC_LOGIC, size, r, 0, 0);
}

/* BLSR /1, BLSMSK /2, BLSI /3 (VEX.LZ.0F38 F3): vvvv := f(r/m).
 * CF: source is zero (BLSR, BLSMSK), source is not zero (BLSI). OF := 0. */
static void blsx(struct cpu *cpu, const struct insn *in, unsigned kind)
{
	unsigned size = alu_vex_size(cpu, in);
	u64 s = alu_rm_read(cpu, in, size), r;
	bool cf;
	switch (kind) {
	case 1: r = (s - 1) & s; cf = s == 0; break;
	case 2: r = (s - 1) ^ s; cf = s == 0; break;
	default: r = (0 - s) & s; cf = s != 0; break;
	}
	alu_set_reg(cpu, in, alu_vex_reg(cpu, in), size, r);
	alu_flags_set_all(cpu, alu_szp(r, size) | (cf ? X86_EFLAGS_CF : 0));
}

void op_blsr(struct cpu *cpu, const struct insn *in) { blsx(cpu, in, 1); }
void op_blsmsk(struct cpu *cpu, const struct insn *in) { blsx(cpu, in, 2); }
void op_blsi(struct cpu *cpu, const struct insn *in) { blsx(cpu, in, 3); }

/* BZHI (VEX.LZ.0F38 F5): reg := r/m with bits n and up cleared, n =
 * vvvv[7:0]; CF := n > width - 1; SF ZF; OF := 0. */
void op_bzhi(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), w = size * 8;
	unsigned n = cpu->r[alu_vex_reg(cpu, in)] & 0xff;
	u64 r = alu_rm_read(cpu, in, size);
	if (n < w)
		r &= (1ull << n) - 1;
	alu_set_reg(cpu, in, in->reg, size, r);
	alu_flags_set_all(cpu, alu_szp(r, size) | (n > w - 1 ? X86_EFLAGS_CF : 0));
}

/* PDEP (F2): scatter the low bits of vvvv to the set bits of the r/m mask.
 * PEXT (F3): gather the bits of vvvv selected by the mask to the low end.
 * No flags. */
void op_pdep(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in);
	u64 src = vvvv(cpu, in, size), mask = alu_rm_read(cpu, in, size), r = 0;
	for (u64 k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & k)
			r |= mask & (0 - mask);
	alu_set_reg(cpu, in, in->reg, size, r);
}

void op_pext(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in);
	u64 src = vvvv(cpu, in, size), mask = alu_rm_read(cpu, in, size), r = 0;
	for (u64 k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & mask & (0 - mask))
			r |= k;
	alu_set_reg(cpu, in, in->reg, size, r);
}
