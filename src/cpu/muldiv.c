/* muldiv.c: MUL IMUL DIV IDIV (F6/F7 /4-/7), IMUL 0F AF / 69 / 6B, and BMI2
 * MULX (SDM Vol. 2). Multiplies set CF = OF = "the result does not fit the
 * destination"; SF ZF AF PF are undefined and come from the low half
 * (CC_MUL). Divides leave all flags alone (undefined) and raise #DE before
 * writing anything when the divisor is 0 or the quotient does not fit. */
#include "alu.h"
#include "ops.h"

typedef __int128 s128;

/* Write a double-width result: AX for bytes, else rDX:rAX. */
static void set_pair(struct cpu *cpu, unsigned size, u64 lo, u64 hi)
{
	if (size == 1) {
		cpu_set_reg(cpu, R_AX, 2, false, (lo & 0xff) | (hi & 0xff) << 8);
		return;
	}
	cpu_set_reg(cpu, R_AX, size, false, lo);
	cpu_set_reg(cpu, R_DX, size, false, hi);
}

/* Unsigned a * b of `size`-byte operands split into its low and high halves. */
static void mul_wide(u64 a, u64 b, unsigned size, u64 *lo, u64 *hi)
{
	if (size == 8) {
		u128 p = (u128)a * b;
		*lo = (u64)p;
		*hi = (u64)(p >> 64);
	} else {
		u64 p = a * b;
		*lo = p & size_mask(size);
		*hi = p >> (size * 8);
	}
}

/* F6/F7 /4: unsigned rDX:rAX := rAX * r/m. */
void op_mul(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 b = alu_rm_read(cpu, in, size), a = cpu->r[R_AX] & size_mask(size), lo, hi;
	mul_wide(a, b, size, &lo, &hi);
	set_pair(cpu, size, lo, hi);
	cpu_set_cc(cpu, CC_MUL, size, lo, hi != 0, 0);
}

/* F6/F7 /5: signed rDX:rAX := rAX * r/m. */
void op_imul1(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	s64 b = (s64)alu_sext(alu_rm_read(cpu, in, size), size);
	s64 a = (s64)alu_sext(cpu->r[R_AX], size);
	u64 lo, hi;
	bool ovf;
	if (size == 8) {
		s128 p = (s128)a * b;
		lo = (u64)p;
		hi = (u64)((u128)p >> 64);
		ovf = p != (s128)(s64)lo;
	} else {
		s64 p = a * b; /* |a|, |b| <= 2^31: no overflow */
		lo = (u64)p & size_mask(size);
		hi = (u64)p >> (size * 8);
		ovf = p != (s64)alu_sext((u64)p, size);
	}
	set_pair(cpu, size, lo, hi);
	cpu_set_cc(cpu, CC_MUL, size, lo, ovf, 0);
}

/* Truncated signed product of two `size`-byte values; *ovf if it does not fit. */
static u64 imul_trunc(unsigned size, u64 x, u64 y, bool *ovf)
{
	s64 a = (s64)alu_sext(x, size), b = (s64)alu_sext(y, size), p;
	if (size == 8) {
		*ovf = __builtin_mul_overflow(a, b, &p);
		return (u64)p;
	}
	p = a * b;
	*ovf = p != (s64)alu_sext((u64)p, size);
	return (u64)p;
}

/* 0F AF: reg := reg * r/m. */
void op_imul2(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 b = alu_rm_read(cpu, in, size), a = alu_get_reg(cpu, in, in->reg, size);
	bool ovf;
	u64 r = imul_trunc(size, a, b, &ovf);
	alu_set_reg(cpu, in, in->reg, size, r);
	cpu_set_cc(cpu, CC_MUL, size, r, ovf, 0);
}

/* 69 /r iz, 6B /r ib: reg := r/m * imm. */
void op_imul3(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	bool ovf;
	u64 r = imul_trunc(size, alu_rm_read(cpu, in, size), in->imm, &ovf);
	alu_set_reg(cpu, in, in->reg, size, r);
	cpu_set_cc(cpu, CC_MUL, size, r, ovf, 0);
}

/* The dividend: AX for bytes, else rDX:rAX. */
static u128 dividend(const struct cpu *cpu, unsigned size)
{
	if (size == 1)
		return cpu->r[R_AX] & 0xffff;
	u64 m = size_mask(size);
	return ((u128)(cpu->r[R_DX] & m) << (size * 8)) | (cpu->r[R_AX] & m);
}

/* Write quotient and remainder: AL/AH for bytes, else rAX/rDX. */
static void set_quot_rem(struct cpu *cpu, unsigned size, u64 q, u64 r)
{
	if (size == 1)
		cpu_set_reg(cpu, R_AX, 2, false, (q & 0xff) | (r & 0xff) << 8);
	else
		set_pair(cpu, size, q, r);
}

/* F6/F7 /6 (SDM Vol. 2 DIV): #DE if the divisor is 0 or the quotient is
 * wider than the operand, i.e. the high half of the dividend >= divisor. */
void op_div(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 d = alu_rm_read(cpu, in, size);
	u128 n = dividend(cpu, size);
	if (d == 0 || (n >> (size * 8)) >= d)
		cpu_fault_noerr(cpu, X86_EXC_DE);
	if (size == 8)
		set_quot_rem(cpu, size, (u64)(n / d), (u64)(n % d));
	else
		set_quot_rem(cpu, size, (u64)n / d, (u64)n % d);
}

/* F6/F7 /7 (SDM Vol. 2 IDIV): truncating signed division; #DE if the
 * divisor is 0 or the quotient is outside the signed operand range. */
void op_idiv(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize, w = size * 8;
	s64 d = (s64)alu_sext(alu_rm_read(cpu, in, size), size);
	u128 un = dividend(cpu, size);
	s128 n = (s128)(un << (128 - 2 * w)) >> (128 - 2 * w);
	if (d == 0)
		cpu_fault_noerr(cpu, X86_EXC_DE);
	/* -n wraps only for n = -2^127 (64-bit operands): -2^127 then fails
	 * the range check, as it must. */
	s128 q = d == -1 ? (s128)(0 - (u128)n) : n / d;
	s128 r = d == -1 ? 0 : n % d;
	s128 lim = (s128)1 << (w - 1);
	if (q >= lim || q < -lim)
		cpu_fault_noerr(cpu, X86_EXC_DE);
	set_quot_rem(cpu, size, (u64)q, (u64)r);
}

/* MULX (VEX.LZ.F2.0F38 F6): reg:vvvv := rDX * r/m, unsigned, no flags. The
 * low half goes to vvvv first, so reg = vvvv keeps the high half. */
void op_mulx(struct cpu *cpu, const struct insn *in)
{
	unsigned size = alu_vex_size(cpu, in);
	u64 b = alu_rm_read(cpu, in, size), a = cpu->r[R_DX] & size_mask(size), lo, hi;
	mul_wide(a, b, size, &lo, &hi);
	alu_set_reg(cpu, in, alu_vex_reg(cpu, in), size, lo);
	alu_set_reg(cpu, in, in->reg, size, hi);
}
