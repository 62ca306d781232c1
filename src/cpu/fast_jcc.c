/* fast_jcc.c: Jcc specialized for the instruction that set its flags.
 *
 * A block is only ever entered at its first instruction, so when a Jcc
 * follows a flag-setting instruction in the same block, the lazy flags
 * the Jcc sees are always the ones that instruction recorded: its cc_op
 * and operand size are known when the block is decoded. (If the block is
 * cut between the two -- single-step, an interrupt shadow, a break -- the
 * Jcc runs later as the first instruction of another block, which has no
 * such predecessor.) The Jcc then tests the recorded operands directly,
 * one handler per (condition, producer, size), with no dispatch on cc_op.
 */
#include "fast_ops.h"
#include "ops.h"


/* After CMP/SUB (CC_SUB: src2 = first operand a, src = second operand b,
 * dst = a - b), with the operands shifted to the top of 64 bits. */
#define SUB_A(size) (cpu->cc_src2 << (64 - (size) * 8))
#define SUB_B(size) (cpu->cc_src << (64 - (size) * 8))
/* The result, sign and zero tests valid after any lazy op. */
#define RES(size) ((s64)(cpu->cc_dst << (64 - (size) * 8)))

/* The handler for a block that ends at the Jcc, and the one for a block
 * that goes on past it (exec.c). */
#define JCC(name, size, taken)                                                  \
	static void op_j##name##size(struct cpu *cpu, const struct insn *in)     \
	{                                                                       \
		fast_jcc(cpu, in, taken, false);                                \
	}                                                                       \
	static void op_j##name##size##_on(struct cpu *cpu, const struct insn *in) \
	{                                                                       \
		fast_jcc(cpu, in, taken, true);                                 \
	}

#define SUB_JCCS(size)                                               \
	JCC(b_sub, size, SUB_A(size) < SUB_B(size))                  \
	JCC(ae_sub, size, SUB_A(size) >= SUB_B(size))                \
	JCC(be_sub, size, SUB_A(size) <= SUB_B(size))                \
	JCC(a_sub, size, SUB_A(size) > SUB_B(size))                  \
	JCC(l_sub, size, (s64)SUB_A(size) < (s64)SUB_B(size))        \
	JCC(ge_sub, size, (s64)SUB_A(size) >= (s64)SUB_B(size))      \
	JCC(le_sub, size, (s64)SUB_A(size) <= (s64)SUB_B(size))      \
	JCC(g_sub, size, (s64)SUB_A(size) > (s64)SUB_B(size))        \
	JCC(e_res, size, RES(size) == 0)                             \
	JCC(ne_res, size, RES(size) != 0)                            \
	JCC(s_res, size, RES(size) < 0)                              \
	JCC(ns_res, size, RES(size) >= 0)                            \
	JCC(le_logic, size, RES(size) <= 0)                          \
	JCC(g_logic, size, RES(size) > 0)

SUB_JCCS(1)
SUB_JCCS(2)
SUB_JCCS(4)
SUB_JCCS(8)

/* By condition code (SDM Vol. 1 Appendix B order): O NO B AE E NE BE A
 * S NS P NP L GE LE G. NULL: use the generic fast Jcc. */
#define SUB_TABLE(size, on)                                                                \
	{ NULL, NULL, op_jb_sub##size##on, op_jae_sub##size##on, op_je_res##size##on,       \
	  op_jne_res##size##on, op_jbe_sub##size##on, op_ja_sub##size##on,                  \
	  op_js_res##size##on, op_jns_res##size##on, NULL, NULL, op_jl_sub##size##on,       \
	  op_jge_sub##size##on, op_jle_sub##size##on, op_jg_sub##size##on }
/* Logic results have CF = OF = 0: L is S, GE is NS, BE is E, A is NE. */
#define LOGIC_TABLE(size, on)                                                              \
	{ NULL, NULL, NULL, NULL, op_je_res##size##on, op_jne_res##size##on,                \
	  op_je_res##size##on, op_jne_res##size##on, op_js_res##size##on,                   \
	  op_jns_res##size##on, NULL, NULL, op_js_res##size##on, op_jns_res##size##on,      \
	  op_jle_logic##size##on, op_jg_logic##size##on }
/* Any other lazy op: ZF and SF come from the result alone. */
#define RES_TABLE(size, on)                                                                \
	{ NULL, NULL, NULL, NULL, op_je_res##size##on, op_jne_res##size##on, NULL, NULL,    \
	  op_js_res##size##on, op_jns_res##size##on, NULL, NULL, NULL, NULL, NULL, NULL }
#define TABLES(kind)                                                                       \
	{ { kind(1, ), kind(2, ), kind(4, ), kind(8, ) },                                  \
	  { kind(1, _on), kind(2, _on), kind(4, _on), kind(8, _on) } }

/* [on][size][condition] */
static const insn_fn after_sub[2][4][16] = TABLES(SUB_TABLE);
static const insn_fn after_logic[2][4][16] = TABLES(LOGIC_TABLE);
static const insn_fn after_res[2][4][16] = TABLES(RES_TABLE);

enum { P_NONE, P_SUB, P_LOGIC, P_RES };

/* What the flags look like after prev: these handlers always record
 * their cc_op with their operand size when they complete. */
static unsigned producer(const struct insn *prev)
{
	static const struct {
		insn_fn fn;
		u8 kind;
	} table[] = {
		{ op_cmp_rm_r, P_SUB }, { op_cmp_r_rm, P_SUB }, { op_cmp_a_imm, P_SUB },
		{ op_cmp_rm_imm, P_SUB }, { op_sub_rm_r, P_SUB }, { op_sub_r_rm, P_SUB },
		{ op_sub_a_imm, P_SUB }, { op_sub_rm_imm, P_SUB },
		{ op_and_rm_r, P_LOGIC }, { op_and_r_rm, P_LOGIC }, { op_and_a_imm, P_LOGIC },
		{ op_and_rm_imm, P_LOGIC }, { op_or_rm_r, P_LOGIC }, { op_or_r_rm, P_LOGIC },
		{ op_or_a_imm, P_LOGIC }, { op_or_rm_imm, P_LOGIC }, { op_xor_rm_r, P_LOGIC },
		{ op_xor_r_rm, P_LOGIC }, { op_xor_a_imm, P_LOGIC }, { op_xor_rm_imm, P_LOGIC },
		{ op_test_rm_r, P_LOGIC }, { op_test_a_imm, P_LOGIC }, { op_test_rm_imm, P_LOGIC },
		{ op_add_rm_r, P_RES }, { op_add_r_rm, P_RES }, { op_add_a_imm, P_RES },
		{ op_add_rm_imm, P_RES }, { op_inc_rm, P_RES }, { op_dec_rm, P_RES },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
		if (prev->fn == table[i].fn)
			return table[i].kind;
	return P_NONE;
}

insn_fn fast_jcc_after(const struct insn *prev, const struct insn *jcc, bool on)
{
	static const u8 size_idx[9] = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 };
	unsigned cc = jcc->op & 0xf, size = prev->opsize;
	if (jcc->fn != op_jcc || (size != 1 && size != 2 && size != 4 && size != 8))
		return NULL;
	switch (producer(prev)) {
	case P_SUB: return after_sub[on][size_idx[size]][cc];
	case P_LOGIC: return after_logic[on][size_idx[size]][cc];
	case P_RES: return after_res[on][size_idx[size]][cc];
	default: return NULL;
	}
}
