/* shift.c: shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR (C0/C1, D0-D3),
 * SHLD SHRD (0F A4/A5/AC/AD), BMI2 SARX SHLX SHRX RORX (SDM Vol. 2).
 *
 * The count is masked to 5 bits (6 with a 64-bit operand); a masked count
 * of 0 changes nothing, not even the flags. SHL/SHR/SAR with a count below
 * the operand width record lazy flags; the rest compute them eagerly.
 * Flags the SDM leaves undefined for counts above 1 follow the count-1
 * formulas (OF from the result, AF cleared), as Intel hardware does.
 */
#include "alu.h"
#include "ops.h"

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* The raw count of group 2: D0/D1 by 1, D2/D3 by CL, C0/C1 by imm8. */
static unsigned shift_count(const struct cpu *cpu, const struct insn *in)
{
	unsigned mask = in->opsize == 8 ? 63 : 31;
	switch (in->op) {
	case 0xd0: case 0xd1: return 1;
	case 0xd2: case 0xd3: return (unsigned)cpu->r[R_CX] & mask;
	default: return (unsigned)in->imm & mask;
	}
}

static u64 msb(u64 v, unsigned size)
{
	return (v >> (size * 8 - 1)) & 1;
}

static u64 flag_if(bool cond, u64 flag)
{
	return cond ? flag : 0;
}

/* RCL/RCR: a rotation of the (w+1)-bit value CF:operand; the count is
 * taken MOD 9 / MOD 17 for 8/16-bit operands. Returns the operand part and
 * the new CF in *cf. */
static u64 rotate_carry(unsigned op, unsigned size, u64 a, unsigned c, u64 *cf)
{
	unsigned w = size * 8, n = w + 1;
	unsigned k = size < 4 ? c % n : c;
	u128 m = ((u128)1 << n) - 1;
	u128 v = ((u128)*cf << w) | (a & size_mask(size));
	if (op == SH_RCR)
		k = (n - k) % n; /* right by k == left by n - k */
	if (k)
		v = ((v << k) | (v >> (n - k))) & m;
	*cf = (u64)(v >> w) & 1;
	return (u64)v & size_mask(size);
}

/* The result of a group-2 operation (pure: no flags). */
static u64 shift_result(unsigned op, unsigned size, u64 a, unsigned c, u64 cf)
{
	unsigned w = size * 8, k = c & (w - 1);
	u64 m = size_mask(size);
	a &= m;
	switch (op) {
	case SH_ROL: return k ? ((a << k) | (a >> (w - k))) & m : a;
	case SH_ROR: return k ? ((a >> k) | (a << (w - k))) & m : a;
	case SH_RCL: case SH_RCR: return rotate_carry(op, size, a, c, &cf);
	case SH_SHR: return c < w ? a >> c : 0;
	case SH_SAR: return (u64)((s64)alu_sext(a, size) >> (c < w ? c : w - 1)) & m;
	default: return c < w ? (a << c) & m : 0;
	}
}

/* Rotates change only CF and OF (SDM "RCL/RCR/ROL/ROR" Flags Affected):
 * ROL and ROR lazily (cpu_record_rotate()); RCL and RCR here, OF the MSB
 * XOR CF after RCL, the two top bits' XOR after RCR. */
static void rotate_flags(struct cpu *cpu, unsigned op, unsigned size, u64 a, unsigned c,
			 u64 r, u64 cf_in)
{
	unsigned w = size * 8;
	u64 cf;
	if (op == SH_ROL || op == SH_ROR) {
		cpu_record_rotate(cpu, op == SH_ROL ? CC_ROL : CC_ROR, size, r);
		return;
	}
	cf = cf_in;
	rotate_carry(op, size, a, c, &cf);
	bool left = op == SH_RCL;
	u64 of = msb(r, size) ^ (left ? cf : (r >> (w - 2)) & 1);
	alu_flags_set_some(cpu, X86_EFLAGS_CF | X86_EFLAGS_OF,
			   flag_if(cf, X86_EFLAGS_CF) | flag_if(of, X86_EFLAGS_OF));
}

/* SHL/SHR/SAR of an 8/16-bit operand by its width or more (count <= 31):
 * bits shift out one at a time, so CF is the last one out (SDM
 * "SAL/SAR/SHL/SHR" Operation), the result 0 or all sign. */
static void shift_wide_flags(struct cpu *cpu, unsigned op, unsigned size, u64 a, unsigned c,
			     u64 r)
{
	unsigned w = size * 8;
	u64 cf;
	if (op == SH_SHL)
		cf = ((a & size_mask(size)) << c >> w) & 1;
	else if (op == SH_SHR)
		cf = ((a & size_mask(size)) >> (c - 1)) & 1;
	else
		cf = msb(a, size);
	u64 of = op == SH_SHL ? msb(r, size) ^ cf : 0;
	alu_flags_set_all(cpu, alu_szp(r, size) | flag_if(cf, X86_EFLAGS_CF) |
				       flag_if(of, X86_EFLAGS_OF));
}

static void shift_flags(struct cpu *cpu, unsigned op, unsigned size, u64 a, unsigned c, u64 r,
			u64 cf_in)
{
	static const u8 cc[8] = { [SH_SHL] = CC_SHL, [SH_SHR] = CC_SHR, [SH_SAR] = CC_SAR };
	if (op < SH_SHL)
		rotate_flags(cpu, op, size, a, c, r, cf_in);
	else if (unlikely(c >= size * 8u))
		shift_wide_flags(cpu, op, size, a, c, r);
	else
		cpu_set_cc(cpu, (enum cc_op)cc[op], size, r, c, a & size_mask(size));
}

/* A masked count of 0 changes no flags and no value, but hardware still
 * accesses the destination: a 32-bit register is zero-extended, and a
 * memory operand is read with write intent (and may fault). */
static void zero_count(struct cpu *cpu, const struct insn *in)
{
	struct rmw m;
	if (in->flags & IF_MEM)
		alu_rmw_read(cpu, in, in->opsize, &m);
	else if (in->opsize == 4)
		cpu->r[in->rm] = (u32)cpu->r[in->rm];
}

/* Group 2 (C0/C1/D0-D3 /0-7). /6 is an alias of /4 (SAL = SHL). A memory
 * destination is stored before the flags change. */
static void group2(struct cpu *cpu, const struct insn *in, unsigned op)
{
	unsigned size = in->opsize, c = shift_count(cpu, in);
	u64 a, r, cf = 0;
	if (c == 0) {
		zero_count(cpu, in);
		return;
	}
	if (op == SH_RCL || op == SH_RCR)
		cf = cpu_get_cf(cpu);
	if (likely(!(in->flags & IF_MEM))) {
		a = alu_get_reg(cpu, in, in->rm, size);
		r = shift_result(op, size, a, c, cf);
		alu_set_reg(cpu, in, in->rm, size, r);
	} else {
		struct rmw m;
		a = alu_rmw_read(cpu, in, size, &m);
		r = shift_result(op, size, a, c, cf);
		alu_rmw_write(cpu, &m, size, r);
	}
	shift_flags(cpu, op, size, a, c, r, cf);
}

void op_rol(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_ROL); }
void op_ror(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_ROR); }
void op_rcl(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_RCL); }
void op_rcr(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_RCR); }
void op_shl(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_SHL); }
void op_shr(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_SHR); }
void op_sar(struct cpu *cpu, const struct insn *in) { group2(cpu, in, SH_SAR); }

/* ---- SHLD / SHRD: shift r/m, filling from a register ----
 * A 16-bit operand with a count above 16 is undefined (SDM); Intel P6 and
 * later shift the 48-bit value dest:src:dest, which is what we do.
 * Returns the result, the last bit shifted out in *cf. */
static u64 double_shift(bool left, unsigned size, u64 a, u64 b, unsigned c, u64 *cf)
{
	unsigned w = size * 8;
	u64 m = size_mask(size);
	a &= m;
	b &= m;
	if (size == 2) {
		u128 v = ((u128)a << 32) | (b << 16) | a;
		*cf = left ? (u64)(v >> (48 - c)) & 1 : (u64)(v >> (c - 1)) & 1;
		return left ? (u64)((v << c) >> 32) & m : (u64)(v >> c) & m;
	}
	*cf = left ? (a >> (w - c)) & 1 : (a >> (c - 1)) & 1;
	return left ? ((a << c) | (b >> (w - c))) & m : ((a >> c) | (b << (w - c))) & m;
}

static void shxd(struct cpu *cpu, const struct insn *in, bool left)
{
	unsigned size = in->opsize, mask = size == 8 ? 63 : 31;
	bool by_cl = (in->op & 1) != 0; /* A5 / AD */
	unsigned c = (unsigned)(by_cl ? cpu->r[R_CX] : in->imm) & mask;
	u64 b = alu_get_reg(cpu, in, in->reg, size), a, r, cf;
	if (c == 0) {
		zero_count(cpu, in);
		return;
	}
	if (!(in->flags & IF_MEM)) {
		a = alu_get_reg(cpu, in, in->rm, size);
		r = double_shift(left, size, a, b, c, &cf);
		alu_set_reg(cpu, in, in->rm, size, r);
	} else {
		struct rmw m;
		a = alu_rmw_read(cpu, in, size, &m);
		r = double_shift(left, size, a, b, c, &cf);
		alu_rmw_write(cpu, &m, size, r);
	}
	/* OF: sign change for a 1-bit shift (SDM); the same formula otherwise. */
	u64 of = left ? msb(r, size) ^ cf : msb(r, size) ^ msb(a, size);
	alu_flags_set_all(cpu, alu_szp(r, size) | flag_if(cf, X86_EFLAGS_CF) |
				       flag_if(of, X86_EFLAGS_OF));
}

void op_shld(struct cpu *cpu, const struct insn *in)
{
	shxd(cpu, in, true);
}

void op_shrd(struct cpu *cpu, const struct insn *in)
{
	shxd(cpu, in, false);
}

/* ---- BMI2 (VEX.LZ 0F38 F7 /r, 0F3A F0 /r ib): no flags ----
 * SHLX (66), SARX (F3), SHRX (F2): reg := r/m shifted by vvvv (masked).
 * RORX (F2 0F3A F0): reg := r/m rotated right by imm8; vvvv must be 1111b. */
void op_shlx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), c = (unsigned)cpu->r[alu_vex_reg(cpu, in)];
	u64 a = alu_rm_read(cpu, in, size);
	alu_set_reg(cpu, in, in->reg, size, a << (c & (size * 8 - 1)));
}

void op_shrx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), c = (unsigned)cpu->r[alu_vex_reg(cpu, in)];
	u64 a = alu_rm_read(cpu, in, size);
	alu_set_reg(cpu, in, in->reg, size, a >> (c & (size * 8 - 1)));
}

void op_sarx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), c = (unsigned)cpu->r[alu_vex_reg(cpu, in)];
	u64 a = alu_sext(alu_rm_read(cpu, in, size), size);
	alu_set_reg(cpu, in, in->reg, size, (u64)((s64)a >> (c & (size * 8 - 1))));
}

void op_rorx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in), w = size * 8, k = (unsigned)in->imm & (w - 1);
	if (in->vex_v != 0)
		cpu_ud(cpu);
	u64 a = alu_rm_read(cpu, in, size);
	alu_set_reg(cpu, in, in->reg, size, k ? (a >> k) | (a << (w - k)) : a);
}
