/* fast_misc.c: register forms of SETcc, CMOVcc, IMUL, MUL, MOVZX, LEA r32,
 * SHLX/SHRX/SARX, BZHI and the NOPs, specialized for 64-bit code.
 *
 * These are frequent in compiled code (the kernel's decompressor and
 * crypto, compilers' branch-free idioms) and cannot fault in register form,
 * so each handler is the generic one's effect on registers and lazy flags
 * (alu.c, muldiv.c, shift.c, mov.c), then the rest of the block. Byte
 * registers AH..BH (no REX, register 4..7) stay with the generic handlers.
 */
#include "alu.h"
#include "fast_ops.h"
#include "ops.h"

/* NOP, NOP r/m (0F 1F, which does not access memory) and XCHG rAX, rAX. */
static void op_nop_fast(struct cpu *cpu, const struct insn *in)
{
	insn_next(cpu, in);
}

/* SETcc r8. */
static void op_setcc_r(struct cpu *cpu, const struct insn *in)
{
	u64 *r = &cpu->r[in->rm];
	*r = (*r & ~0xffull) | fast_cond(cpu, in->op & 15);
	insn_next(cpu, in);
}

/* CMOVcc r32/r64, r: a 32-bit destination is zero-extended either way. */
static void op_cmov64_rr(struct cpu *cpu, const struct insn *in)
{
	if (fast_cond(cpu, in->op & 15))
		cpu->r[in->reg] = cpu->r[in->rm];
	insn_next(cpu, in);
}

static void op_cmov32_rr(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u32)cpu->r[fast_cond(cpu, in->op & 15) ? in->rm : in->reg];
	insn_next(cpu, in);
}

/* IMUL r, r (0F AF): the truncated product; CF = OF = "did not fit". */
static void op_imul64_rr(struct cpu *cpu, const struct insn *in)
{
	s64 p;
	bool ovf = __builtin_mul_overflow((s64)cpu->r[in->reg], (s64)cpu->r[in->rm], &p);
	cpu->r[in->reg] = (u64)p;
	cpu_set_cc(cpu, CC_MUL, 8, (u64)p, ovf, 0);
	insn_next(cpu, in);
}

static void op_imul32_rr(struct cpu *cpu, const struct insn *in)
{
	s64 p = (s64)(s32)cpu->r[in->reg] * (s32)cpu->r[in->rm];
	cpu->r[in->reg] = (u32)p;
	cpu_set_cc(cpu, CC_MUL, 4, (u64)p, p != (s32)p, 0);
	insn_next(cpu, in);
}

/* MUL r64 / r32 (F7 /4): rDX:rAX := rAX * r; CF = OF = "high half not 0". */
static void op_mul64_r(struct cpu *cpu, const struct insn *in)
{
	u128 p = (u128)cpu->r[R_AX] * cpu->r[in->rm];
	u64 lo = (u64)p, hi = (u64)(p >> 64);
	cpu->r[R_AX] = lo;
	cpu->r[R_DX] = hi;
	cpu_set_cc(cpu, CC_MUL, 8, lo, hi != 0, 0);
	insn_next(cpu, in);
}

static void op_mul32_r(struct cpu *cpu, const struct insn *in)
{
	u64 p = (u64)(u32)cpu->r[R_AX] * (u32)cpu->r[in->rm];
	u64 lo = (u32)p, hi = p >> 32;
	cpu->r[R_AX] = lo;
	cpu->r[R_DX] = hi;
	cpu_set_cc(cpu, CC_MUL, 4, lo, hi != 0, 0);
	insn_next(cpu, in);
}

/* BZHI r, r, r (BMI2): the bits of r/m from the index in vvvv[7:0] up
 * cleared; CF if the index is past the operand; flags set eagerly from the
 * result as bmi.c does. */
#define BZHI(name, type, size)                                                            \
	static void name(struct cpu *cpu, const struct insn *in)                           \
	{                                                                                  \
		unsigned n = cpu->r[in->vex_v] & 0xff;                                     \
		type r = (type)cpu->r[in->rm];                                             \
		if (n < (size) * 8)                                                        \
			r &= ((type)1 << n) - 1;                                           \
		cpu->r[in->reg] = r;                                                       \
		alu_flags_set_all(cpu, alu_szp(r, size) |                                  \
					       (n > (size) * 8 - 1 ? X86_EFLAGS_CF : 0));  \
		insn_next(cpu, in);                                                        \
	}

BZHI(op_bzhi64, u64, 8)
BZHI(op_bzhi32, u32, 4)

/* MOVZX r32/r64, r8 / r16 (the upper half of a 64-bit destination is 0
 * either way). */
static void op_movzx8_rr(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u8)cpu->r[in->rm];
	insn_next(cpu, in);
}

static void op_movzx16_rr(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u16)cpu->r[in->rm];
	insn_next(cpu, in);
}

/* LEA r32 with a 64-bit address: the address truncated. */
static void op_lea32(struct cpu *cpu, const struct insn *in)
{
	u64 v = (u64)(s64)in->disp;
	if (in->base < 16)
		v += cpu->r[in->base];
	else if (in->base == REG_RIP)
		v += insn_next_rip(cpu, in);
	if (in->index != REG_NONE)
		v += cpu->r[in->index] << in->scale;
	cpu->r[in->reg] = (u32)v;
	insn_next(cpu, in);
}

/* SHLX / SHRX / SARX r, r, r (BMI2): no flags. The count is VEX.vvvv;
 * the operand is taken as `type`, the result written as `out`. */
#define SHIFTX(name, type, out, op, size)                                     \
	static void name(struct cpu *cpu, const struct insn *in)               \
	{                                                                      \
		unsigned c = (unsigned)cpu->r[in->vex_v] & ((size) * 8 - 1);  \
		cpu->r[in->reg] = (out)((type)cpu->r[in->rm] op c);            \
		insn_next(cpu, in);                                            \
	}

SHIFTX(op_shlx64, u64, u64, <<, 8)
SHIFTX(op_shrx64, u64, u64, >>, 8)
SHIFTX(op_sarx64, s64, u64, >>, 8)
SHIFTX(op_shlx32, u32, u32, <<, 4)
SHIFTX(op_shrx32, u32, u32, >>, 4)
SHIFTX(op_sarx32, s32, u32, >>, 4)

static insn_fn bmi2_variant(const struct insn *in)
{
	bool q = in->opsize == 8;
	if (in->vex_l || in->vex_v >= 16)
		return NULL; /* #UD, or no count register: the generic handler */
	if (in->fn == op_shlx)
		return q ? op_shlx64 : op_shlx32;
	if (in->fn == op_shrx)
		return q ? op_shrx64 : op_shrx32;
	if (in->fn == op_sarx)
		return q ? op_sarx64 : op_sarx32;
	if (in->fn == op_bzhi)
		return q ? op_bzhi64 : op_bzhi32;
	return NULL;
}

static bool byte_reg_ok(const struct insn *in, unsigned reg)
{
	return (in->flags & IF_REX) || reg < 4;
}

insn_fn fast_misc_variant(const struct insn *in)
{
	if (in->fn == op_nop || (in->fn == op_xchg_ax_r && in->reg == R_AX))
		return op_nop_fast;
	if (in->fn == op_lea && in->opsize == 4 && in->addrsize == 8)
		return op_lea32;
	if (in->flags & IF_MEM)
		return NULL;
	if (in->fn == op_setcc)
		return byte_reg_ok(in, in->rm) ? op_setcc_r : NULL;
	if (in->opsize != 4 && in->opsize != 8)
		return NULL;
	bool q = in->opsize == 8;
	if (in->fn == op_cmovcc)
		return q ? op_cmov64_rr : op_cmov32_rr;
	if (in->fn == op_imul2)
		return q ? op_imul64_rr : op_imul32_rr;
	if (in->fn == op_mul)
		return q ? op_mul64_r : op_mul32_r;
	if (in->fn == op_movzx_b)
		return byte_reg_ok(in, in->rm) ? op_movzx8_rr : NULL;
	if (in->fn == op_movzx_w)
		return op_movzx16_rr;
	return bmi2_variant(in);
}
