/* alu.c: integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP, TEST,
 * INC DEC NEG NOT, XADD, CMPXCHG, CMPXCHG8B/16B (SDM Vol. 2).
 *
 * The eight classic ALU operations are one pure function, alu_calc(),
 * indexed by operation (the opcode's bits 5:3 / ModRM.reg); the operand
 * width only masks. Each (operation, form) pair gets its own handler so the
 * operation is a compile-time constant in the hot path: a 32/64-bit
 * register-register ADD is a few loads, one add and the lazy-flags record,
 * with no stack frame; byte/word and memory operands go out of line.
 */
#include "alu.h"
#include "ops.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ALU operations in opcode order (SDM Vol. 2 Table A-6, group 1). */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

static const u8 alu_cc_op[8] = {
	CC_ADD, CC_LOGIC, CC_ADC, CC_SBB, CC_LOGIC, CC_SUB, CC_LOGIC, CC_SUB,
};

/* The result of `a op b` (unmasked; callers store at the operand size). */
static ALWAYS_INLINE u64 alu_calc(struct cpu *cpu, unsigned op, u64 a, u64 b)
{
	switch (op) {
	case ALU_ADD: return a + b;
	case ALU_OR: return a | b;
	case ALU_ADC: return a + b + cpu_get_cf(cpu);
	case ALU_SBB: return a - b - cpu_get_cf(cpu);
	case ALU_AND: return a & b;
	case ALU_SUB: case ALU_CMP: return a - b;
	default: return a ^ b;
	}
}

/* Record the flags of `a op b = r` (flags.c: dst = r, src = b, src2 = a). */
static ALWAYS_INLINE void alu_record(struct cpu *cpu, unsigned op, unsigned size, u64 a, u64 b,
				     u64 r)
{
	cpu_set_cc(cpu, (enum cc_op)alu_cc_op[op], size, r, b, a);
}

/* Operand forms of the classic ALU opcodes. */
enum { F_RM_R, F_R_RM, F_A_IMM, F_RM_IMM };

/* dest = memory: a read-modify-write (CMP only reads). */
static void alu_to_mem(struct cpu *cpu, const struct insn *in, unsigned op, u64 b)
{
	unsigned size = in->opsize;
	struct rmw m;
	u64 a, r;
	if (op == ALU_CMP) {
		a = cpu_mem_read(cpu, in, size);
		alu_record(cpu, op, size, a, b, a - b);
		return;
	}
	a = alu_rmw_read(cpu, in, size, &m);
	r = alu_calc(cpu, op, a, b);
	alu_rmw_write(cpu, &m, size, r);
	alu_record(cpu, op, size, a, b, r);
}

/* Any form and size, register or memory; out of line so that the 32/64-bit
 * register fast path below needs no stack frame. */
static __attribute__((noinline)) void alu_general(struct cpu *cpu, const struct insn *in,
						  unsigned op, unsigned form)
{
	unsigned size = in->opsize, d;
	u64 a, b;
	switch (form) {
	case F_RM_R: b = alu_get_reg(cpu, in, in->reg, size); break;
	case F_R_RM: b = alu_rm_read(cpu, in, size); break;
	default: b = in->imm; break;
	}
	if ((form == F_RM_R || form == F_RM_IMM) && (in->flags & IF_MEM)) {
		alu_to_mem(cpu, in, op, b);
		return;
	}
	d = form == F_R_RM ? in->reg : form == F_A_IMM ? R_AX : in->rm;
	a = alu_get_reg(cpu, in, d, size);
	u64 r = alu_calc(cpu, op, a, b);
	alu_record(cpu, op, size, a, b, r);
	if (op != ALU_CMP)
		alu_set_reg(cpu, in, d, size, r);
}

/* The hot path: 32/64-bit operands in registers (or an immediate). */
static ALWAYS_INLINE void alu_form(struct cpu *cpu, const struct insn *in, unsigned op,
				   unsigned form)
{
	unsigned size = in->opsize;
	bool mem = (in->flags & IF_MEM) && form != F_A_IMM;
	if (unlikely(size < 4 || mem)) {
		alu_general(cpu, in, op, form);
		return;
	}
	unsigned d = form == F_R_RM ? in->reg : form == F_A_IMM ? R_AX : in->rm;
	u64 b = form == F_RM_R ? cpu->r[in->reg] : form == F_R_RM ? cpu->r[in->rm] : in->imm;
	u64 a = cpu->r[d];
	if (size == 4) {
		a = (u32)a;
		b = (u32)b;
	}
	u64 r = alu_calc(cpu, op, a, b);
	alu_record(cpu, op, size, a, b, r);
	if (op != ALU_CMP)
		cpu->r[d] = size == 8 ? r : (u32)r;
}

/* One handler per (operation, form): 00 /r (r/m, reg), 02 /r (reg, r/m),
 * 04 (AL/eAX, imm), 80/81/83 /n (r/m, imm). */
#define ALU_HANDLERS(name, op)                                                             \
	void op_##name##_rm_r(struct cpu *cpu, const struct insn *in)                      \
	{                                                                                  \
		alu_form(cpu, in, op, F_RM_R);                                             \
	}                                                                                  \
	void op_##name##_r_rm(struct cpu *cpu, const struct insn *in)                      \
	{                                                                                  \
		alu_form(cpu, in, op, F_R_RM);                                             \
	}                                                                                  \
	void op_##name##_a_imm(struct cpu *cpu, const struct insn *in)                     \
	{                                                                                  \
		alu_form(cpu, in, op, F_A_IMM);                                            \
	}                                                                                  \
	void op_##name##_rm_imm(struct cpu *cpu, const struct insn *in)                    \
	{                                                                                  \
		alu_form(cpu, in, op, F_RM_IMM);                                           \
	}

ALU_HANDLERS(add, ALU_ADD)
ALU_HANDLERS(or, ALU_OR)
ALU_HANDLERS(adc, ALU_ADC)
ALU_HANDLERS(sbb, ALU_SBB)
ALU_HANDLERS(and, ALU_AND)
ALU_HANDLERS(sub, ALU_SUB)
ALU_HANDLERS(xor, ALU_XOR)
ALU_HANDLERS(cmp, ALU_CMP)

/* ---- TEST (84/85, A8/A9, F6/F7 /0 /1): AND without a result ---- */

static __attribute__((noinline)) void test_general(struct cpu *cpu, const struct insn *in,
						   u64 b)
{
	u64 a = alu_rm_read(cpu, in, in->opsize);
	cpu_set_cc(cpu, CC_LOGIC, in->opsize, a & b, 0, 0);
}

void op_test_rm_r(struct cpu *cpu, const struct insn *in)
{
	if (likely(in->opsize >= 4 && !(in->flags & IF_MEM))) {
		cpu_set_cc(cpu, CC_LOGIC, in->opsize, cpu->r[in->rm] & cpu->r[in->reg], 0, 0);
		return;
	}
	test_general(cpu, in, alu_get_reg(cpu, in, in->reg, in->opsize));
}

void op_test_rm_imm(struct cpu *cpu, const struct insn *in)
{
	if (likely(in->opsize >= 4 && !(in->flags & IF_MEM))) {
		cpu_set_cc(cpu, CC_LOGIC, in->opsize, cpu->r[in->rm] & in->imm, 0, 0);
		return;
	}
	test_general(cpu, in, in->imm);
}

void op_test_a_imm(struct cpu *cpu, const struct insn *in)
{
	u64 a = alu_get_reg(cpu, in, R_AX, in->opsize);
	cpu_set_cc(cpu, CC_LOGIC, in->opsize, a & in->imm, 0, 0);
}

/* ---- INC/DEC (FE/FF /0 /1; 40-4F outside 64-bit mode): CF unchanged ---- */

static ALWAYS_INLINE void incdec_rm(struct cpu *cpu, const struct insn *in, bool dec)
{
	unsigned size = in->opsize;
	enum cc_op cc = dec ? CC_DEC : CC_INC;
	u64 a, r;
	if (likely(!(in->flags & IF_MEM))) {
		a = alu_get_reg(cpu, in, in->rm, size);
		r = dec ? a - 1 : a + 1;
		alu_set_reg(cpu, in, in->rm, size, r);
	} else {
		struct rmw m;
		a = alu_rmw_read(cpu, in, size, &m);
		r = dec ? a - 1 : a + 1;
		alu_rmw_write(cpu, &m, size, r);
	}
	cpu_set_cc_incdec(cpu, cc, size, r);
}

void op_inc_rm(struct cpu *cpu, const struct insn *in)
{
	incdec_rm(cpu, in, false);
}

void op_dec_rm(struct cpu *cpu, const struct insn *in)
{
	incdec_rm(cpu, in, true);
}

/* 40+r / 48+r: register in the opcode (decoded into in->reg). */
void op_inc_r(struct cpu *cpu, const struct insn *in)
{
	u64 r = alu_get_reg(cpu, in, in->reg, in->opsize) + 1;
	alu_set_reg(cpu, in, in->reg, in->opsize, r);
	cpu_set_cc_incdec(cpu, CC_INC, in->opsize, r);
}

void op_dec_r(struct cpu *cpu, const struct insn *in)
{
	u64 r = alu_get_reg(cpu, in, in->reg, in->opsize) - 1;
	alu_set_reg(cpu, in, in->reg, in->opsize, r);
	cpu_set_cc_incdec(cpu, CC_DEC, in->opsize, r);
}

/* ---- NOT / NEG (F6/F7 /2 /3) ---- */

/* Apply a unary operation to r/m: returns the old value, stores f(old). */
static ALWAYS_INLINE u64 unary_rm(struct cpu *cpu, const struct insn *in, bool neg)
{
	unsigned size = in->opsize;
	u64 a;
	if (likely(!(in->flags & IF_MEM))) {
		a = alu_get_reg(cpu, in, in->rm, size);
		alu_set_reg(cpu, in, in->rm, size, neg ? -a : ~a);
	} else {
		struct rmw m;
		a = alu_rmw_read(cpu, in, size, &m);
		alu_rmw_write(cpu, &m, size, neg ? -a : ~a);
	}
	return a;
}

void op_not(struct cpu *cpu, const struct insn *in)
{
	unary_rm(cpu, in, false); /* flags unaffected */
}

void op_neg(struct cpu *cpu, const struct insn *in)
{
	u64 a = unary_rm(cpu, in, true);
	cpu_set_cc(cpu, CC_NEG, in->opsize, -a, 0, a);
}

/* ---- XADD (0F C0/C1): TEMP := SRC + DEST; SRC := DEST; DEST := TEMP ---- */

void op_xadd(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 b = alu_get_reg(cpu, in, in->reg, size), a, r;
	if (!(in->flags & IF_MEM)) {
		a = alu_get_reg(cpu, in, in->rm, size);
		r = a + b;
		alu_set_reg(cpu, in, in->reg, size, a);
		alu_set_reg(cpu, in, in->rm, size, r); /* last: wins if rm == reg */
	} else {
		struct rmw m;
		a = alu_rmw_read(cpu, in, size, &m);
		r = a + b;
		alu_rmw_write(cpu, &m, size, r);
		alu_set_reg(cpu, in, in->reg, size, a);
	}
	cpu_set_cc(cpu, CC_ADD, size, r, b, a);
}

/* ---- CMPXCHG (0F B0/B1) ----
 * Flags as CMP accumulator, DEST. A memory destination is always written
 * (the old value back on mismatch: SDM Vol. 2 CMPXCHG "the destination
 * operand is written back if the comparison fails"). With a register
 * destination only the register that changes is written, so a 32-bit
 * operation zero-extends DEST on a match and RAX on a mismatch, and leaves
 * the other untouched, as on hardware. */
void op_cmpxchg(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 acc = alu_get_reg(cpu, in, R_AX, size), src = alu_get_reg(cpu, in, in->reg, size);
	u64 d;
	if (!(in->flags & IF_MEM)) {
		d = alu_get_reg(cpu, in, in->rm, size);
		if (d == acc)
			alu_set_reg(cpu, in, in->rm, size, src);
	} else {
		struct rmw m;
		d = alu_rmw_read(cpu, in, size, &m);
		alu_rmw_write(cpu, &m, size, d == acc ? src : d);
	}
	if (d != acc)
		alu_set_reg(cpu, in, R_AX, size, d);
	cpu_set_cc(cpu, CC_SUB, size, acc - d, d, acc);
}

/* ---- CMPXCHG8B / CMPXCHG16B (0F C7 /1, memory only) ----
 * Compare EDX:EAX (RDX:RAX) with m64 (m128); ZF only. 16B: #GP(0) unless
 * the operand is 16-byte aligned (SDM Vol. 2 CMPXCHG8B/CMPXCHG16B). */
void op_cmpxchg8b(struct cpu *cpu, const struct insn *in)
{
	unsigned half = in->opsize == 8 ? 8 : 4;
	u64 ea = cpu_ea(cpu, in);
	struct rmw lo, hi;
	if (half == 8 && (ea & 15))
		cpu_gp(cpu, 0);
	u64 vlo = alu_rmw_read_at(cpu, in->seg, ea, half, &lo);
	u64 vhi = alu_rmw_read_at(cpu, in->seg, (ea + half) & size_mask(in->addrsize), half, &hi);
	u64 m = size_mask(half);
	bool eq = vlo == (cpu->r[R_AX] & m) && vhi == (cpu->r[R_DX] & m);
	if (eq) {
		alu_rmw_write(cpu, &lo, half, cpu->r[R_BX]);
		alu_rmw_write(cpu, &hi, half, cpu->r[R_CX]);
	} else {
		alu_rmw_write(cpu, &lo, half, vlo);
		alu_rmw_write(cpu, &hi, half, vhi);
		cpu->r[R_AX] = vlo; /* a 32-bit write zero-extends */
		cpu->r[R_DX] = vhi;
	}
	alu_flags_set_some(cpu, X86_EFLAGS_ZF, eq ? X86_EFLAGS_ZF : 0);
}

/* ---- SETcc (0F 90-9F), CMOVcc (0F 40-4F), BSWAP (0F C8+r) ---- */

void op_setcc(struct cpu *cpu, const struct insn *in)
{
	u64 v = cpu_cond(cpu, in->op & 15);
	if (likely(!(in->flags & IF_MEM)))
		cpu_set_reg(cpu, in->rm, 1, in->flags & IF_REX, v);
	else
		cpu_mem_write(cpu, in, 1, v);
}

/* The source is read (and may fault) whatever the condition; a 32-bit
 * CMOV zero-extends the destination even when the condition is false
 * (SDM Vol. 2 CMOVcc, "Operation"). */
void op_cmovcc(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 v = alu_rm_read(cpu, in, size);
	if (cpu_cond(cpu, in->op & 15))
		alu_set_reg(cpu, in, in->reg, size, v);
	else if (size == 4)
		cpu->r[in->reg] = (u32)cpu->r[in->reg];
}

/* BSWAP with a 16-bit operand is undefined (SDM); Intel and AMD hardware
 * clear the low word, which is what we do. */
void op_bswap(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 v = cpu->r[in->reg];
	if (size == 8)
		cpu->r[in->reg] = __builtin_bswap64(v);
	else if (size == 4)
		cpu->r[in->reg] = __builtin_bswap32((u32)v);
	else
		cpu->r[in->reg] = v & ~0xffffull;
}
