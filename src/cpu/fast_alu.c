/* fast_alu.c: ADD OR AND SUB XOR CMP TEST (and NEG, NOT) specialized by form and size.
 *
 * One handler per (operation, operand form, size) for 64-bit code, in the
 * style of fast_ops.c: RIP implicit, register operands complete (they
 * cannot fault), memory operands through a software-TLB hit at a DS/SS
 * address, anything else to the opcode table's handler before a change.
 * Byte registers AH..BH (no REX, register 4..7) stay with the generic
 * handlers. The lazy flags recorded are exactly alu.c's (flags.c): dst =
 * result, src = second operand, src2 = first operand, at the operand size;
 * the logic operations need only dst.
 */
#include "fast_ops.h"

#include "ops.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

enum { A_ADD, A_OR, A_AND, A_SUB, A_XOR, A_CMP, A_TEST };

static ALWAYS_INLINE u64 calc(unsigned op, u64 a, u64 b)
{
	switch (op) {
	case A_ADD: return a + b;
	case A_OR: return a | b;
	case A_AND: case A_TEST: return a & b;
	case A_SUB: case A_CMP: return a - b;
	default: return a ^ b;
	}
}

static ALWAYS_INLINE bool writes(unsigned op)
{
	return op != A_CMP && op != A_TEST;
}

static ALWAYS_INLINE u64 at_size(u64 v, unsigned size)
{
	return size == 8 ? v : v & size_mask(size);
}

static ALWAYS_INLINE void record(struct cpu *cpu, unsigned op, unsigned size, u64 a, u64 b,
				 u64 r)
{
	cpu->cc_size = (u8)size;
	cpu->cc_dst = r;
	if (op == A_ADD || op == A_SUB || op == A_CMP) {
		cpu->cc_op = op == A_ADD ? CC_ADD : CC_SUB;
		cpu->cc_src = b;
		cpu->cc_src2 = a;
	} else {
		cpu->cc_op = CC_LOGIC;
	}
}

/* Write r to register reg at size (1: the low byte; 4: zero-extended). */
static ALWAYS_INLINE void set_reg(struct cpu *cpu, unsigned reg, unsigned size, u64 r)
{
	if (size == 1)
		cpu->r[reg] = (cpu->r[reg] & ~0xffull) | (r & 0xff);
	else
		cpu->r[reg] = at_size(r, size);
}

/* dst op= src, both registers (or src an immediate). */
static ALWAYS_INLINE void alu_reg(struct cpu *cpu, unsigned op, unsigned size, unsigned dst,
				  u64 src)
{
	u64 a = at_size(cpu->r[dst], size), b = at_size(src, size), r = calc(op, a, b);
	record(cpu, op, size, a, b, r);
	if (writes(op))
		set_reg(cpu, dst, size, r);
}

/* Memory operands: any 64-bit DS/SS address form. */
static ALWAYS_INLINE u64 ea(const struct cpu *cpu, const struct insn *in)
{
	u64 v = (u64)(s64)in->disp;
	if (in->base < 16)
		v += cpu->r[in->base];
	else
		v += insn_next_rip(cpu, in); /* REG_RIP; no base is ea_form()'s EA_I */
	if (in->index != REG_NONE)
		v += cpu->r[in->index] << in->scale;
	return v;
}

static ALWAYS_INLINE u64 ea_nobase(const struct cpu *cpu, const struct insn *in)
{
	return (u64)(s64)in->disp + (cpu->r[in->index] << in->scale);
}

/* [mem] op= src (a read-modify-write unless CMP/TEST). */
static ALWAYS_INLINE bool alu_to_mem(struct cpu *cpu, unsigned op, unsigned size, u64 la,
				     u64 src)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (unlikely(!tlb_hit(writes(op) ? e->wtag : e->rtag, la, size)))
		return false;
	u8 *p = tlb_ptr(e, la);
	u64 a = load_le(p, size), b = at_size(src, size), r = calc(op, a, b);
	if (writes(op))
		store_le(p, size, r);
	record(cpu, op, size, a, b, r);
	return true;
}

/* reg op= [mem] */
static ALWAYS_INLINE bool alu_from_mem(struct cpu *cpu, const struct insn *in, unsigned op,
				       unsigned size, u64 la)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (unlikely(!tlb_hit(e->rtag, la, size)))
		return false;
	alu_reg(cpu, op, size, in->reg, load_le(tlb_ptr(e, la), size));
	return true;
}

/* Register forms cannot fail. */
static ALWAYS_INLINE bool alu_rr(struct cpu *cpu, unsigned op, unsigned size, unsigned dst,
				 u64 src)
{
	alu_reg(cpu, op, size, dst, src);
	return true;
}

/* Handlers for one operation at one size: register forms rm,r / r,rm /
 * rm,imm / A,imm, and memory forms m,r / r,m / m,imm, the latter with a
 * base register (or RIP) and without. */
#define ALU_FAST(name, op, size)                                                           \
	FAST(op_##name##size##_rr, alu_rr(cpu, op, size, in->rm, cpu->r[in->reg]))         \
	FAST(op_##name##size##_rr2, alu_rr(cpu, op, size, in->reg, cpu->r[in->rm]))        \
	FAST(op_##name##size##_ri, alu_rr(cpu, op, size, in->rm, in->imm))                  \
	FAST(op_##name##size##_ai, alu_rr(cpu, op, size, R_AX, in->imm))                    \
	FAST(op_##name##size##_mr, alu_to_mem(cpu, op, size, ea(cpu, in), cpu->r[in->reg])) \
	FAST(op_##name##size##_rm, alu_from_mem(cpu, in, op, size, ea(cpu, in)))            \
	FAST(op_##name##size##_mi, alu_to_mem(cpu, op, size, ea(cpu, in), in->imm))         \
	FAST(op_##name##size##_mr_i,                                                        \
	     alu_to_mem(cpu, op, size, ea_nobase(cpu, in), cpu->r[in->reg]))                \
	FAST(op_##name##size##_rm_i, alu_from_mem(cpu, in, op, size, ea_nobase(cpu, in)))   \
	FAST(op_##name##size##_mi_i, alu_to_mem(cpu, op, size, ea_nobase(cpu, in), in->imm))

#define ALU_SIZES(name, op) ALU_FAST(name, op, 1) ALU_FAST(name, op, 4) ALU_FAST(name, op, 8)

ALU_SIZES(add, A_ADD)
ALU_SIZES(or, A_OR)
ALU_SIZES(and, A_AND)
ALU_SIZES(sub, A_SUB)
ALU_SIZES(xor, A_XOR)
ALU_SIZES(cmp, A_CMP)
ALU_SIZES(test, A_TEST)

/* Forms, in the order of a table row. */
enum { RR, RR2, RI, AI, MR, RM, MI, MR_I, RM_I, MI_I, FORMS };

#define ROW(name, size)                                                                    \
	{ op_##name##size##_rr, op_##name##size##_rr2, op_##name##size##_ri,                \
	  op_##name##size##_ai, op_##name##size##_mr, op_##name##size##_rm,                 \
	  op_##name##size##_mi, op_##name##size##_mr_i, op_##name##size##_rm_i,             \
	  op_##name##size##_mi_i }
#define ROWS(name) { ROW(name, 1), ROW(name, 4), ROW(name, 8) }

static const insn_fn table[7][3][FORMS] = {
	ROWS(add), ROWS(or), ROWS(and), ROWS(sub), ROWS(xor), ROWS(cmp), ROWS(test),
};

/* The generic handlers by (operation, form kind): 0 rm,r  1 r,rm
 * 2 rm,imm  3 A,imm. */
static const insn_fn generic[7][4] = {
	{ op_add_rm_r, op_add_r_rm, op_add_rm_imm, op_add_a_imm },
	{ op_or_rm_r, op_or_r_rm, op_or_rm_imm, op_or_a_imm },
	{ op_and_rm_r, op_and_r_rm, op_and_rm_imm, op_and_a_imm },
	{ op_sub_rm_r, op_sub_r_rm, op_sub_rm_imm, op_sub_a_imm },
	{ op_xor_rm_r, op_xor_r_rm, op_xor_rm_imm, op_xor_a_imm },
	{ op_cmp_rm_r, op_cmp_r_rm, op_cmp_rm_imm, op_cmp_a_imm },
	{ op_test_rm_r, NULL, op_test_rm_imm, op_test_a_imm },
};

/* NEG and NOT r32/r64 (F7 /3 /2, register form). */
static ALWAYS_INLINE bool neg_reg(struct cpu *cpu, const struct insn *in, unsigned size)
{
	u64 a = at_size(cpu->r[in->rm], size), r = at_size(-a, size);
	cpu->r[in->rm] = r;
	cpu_set_cc(cpu, CC_NEG, size, r, 0, a);
	return true;
}

static ALWAYS_INLINE bool not_reg(struct cpu *cpu, const struct insn *in, unsigned size)
{
	cpu->r[in->rm] = at_size(~cpu->r[in->rm], size);
	return true;
}

FAST(op_neg4_r, neg_reg(cpu, in, 4))
FAST(op_neg8_r, neg_reg(cpu, in, 8))
FAST(op_not4_r, not_reg(cpu, in, 4))
FAST(op_not8_r, not_reg(cpu, in, 8))

static insn_fn unary_variant(const struct insn *in)
{
	bool q = in->opsize == 8;
	if ((in->flags & IF_MEM) || (in->opsize != 4 && !q))
		return NULL;
	if (in->fn == op_neg)
		return q ? op_neg8_r : op_neg4_r;
	if (in->fn == op_not)
		return q ? op_not8_r : op_not4_r;
	return NULL;
}

/* A byte register that is AH..BH needs the generic handler. */
static bool high_byte(const struct insn *in, unsigned reg)
{
	return in->opsize == 1 && !(in->flags & IF_REX) && reg >= 4 && reg < 8;
}

insn_fn fast_alu_variant(const struct insn *in, bool mem_ok)
{
	unsigned op, kind, size = in->opsize;
	for (op = 0; op < 7; op++)
		for (kind = 0; kind < 4; kind++)
			if (generic[op][kind] && in->fn == generic[op][kind])
				goto found;
	return unary_variant(in);
found:
	if (size != 1 && size != 4 && size != 8)
		return NULL;
	unsigned si = size == 1 ? 0 : size == 4 ? 1 : 2;
	bool mem = (in->flags & IF_MEM) && kind != 3;
	if (high_byte(in, in->reg) && kind < 2)
		return NULL;
	if (!mem) {
		if (kind != 3 && high_byte(in, in->rm))
			return NULL;
		static const u8 reg_form[4] = { RR, RR2, RI, AI };
		return table[op][si][reg_form[kind]];
	}
	if (!mem_ok)
		return NULL;
	static const u8 mem_form[3] = { MR, RM, MI };
	unsigned f = mem_form[kind];
	if (in->base == REG_NONE)
		f += MR_I - MR; /* index and displacement only */
	return table[op][si][f];
}
