/* fast_ops.h: handlers specialized for the hottest 64-bit instruction forms. */
#ifndef CETVM_FAST_OPS_H
#define CETVM_FAST_OPS_H

#include "cpu.h"

/* The specialized handler for a 64-bit-mode instruction, or NULL. Sets
 * *run to the RUN_* flags it needs (RUN_NEXT for branches). */
insn_fn fast_ops_variant(const struct insn *in, u8 *run);

/* For a direct JMP or CALL whose exec is fast_ops_variant()'s, the handler
 * for a block that goes on at its target; else NULL. */
insn_fn fast_ops_through(const struct insn *in);

/* A Jcc handler for `jcc` when `prev`, the instruction before it in the
 * same block, sets the flags it tests, or NULL (fast_jcc.c). */
insn_fn fast_jcc_after(const struct insn *prev, const struct insn *jcc);

/* An ALU handler (ADD OR AND SUB XOR CMP TEST; NEG, NOT) specialized for in's
 * operation, form and size, or NULL; memory forms only if mem_ok (an
 * address form of 64-bit DS/SS: fast_alu.c). */
insn_fn fast_alu_variant(const struct insn *in, bool mem_ok);

/* Leave the fast path: the opcode table's handler with cpu->rip and
 * next_rip set, then the rest of the block (fast.c; out of line, so that
 * the fast paths need no stack frame). */
void fast_slow(struct cpu *cpu, const struct insn *in);

/* Specialized handlers are written as a fast path, a bool expression that
 * is false when it does not cover the case and has then changed nothing,
 * wrapped into an exec handler by one of these:
 * FAST for an instruction that goes on to the rest of its block,
 * FAST_END for a branch, which ends its block (cpu.h, insn_next()). */
#define FAST(name, fast_path)                                    \
	static void name(struct cpu *cpu, const struct insn *in) \
	{                                                        \
		if (likely(fast_path))                           \
			insn_next(cpu, in);                      \
		else                                             \
			fast_slow(cpu, in);                      \
	}
#define FAST_END(name, fast_path)                                \
	static void name(struct cpu *cpu, const struct insn *in) \
	{                                                        \
		if (likely(fast_path))                           \
			cpu->cur_insn = in;                      \
		else                                             \
			fast_slow(cpu, in);                      \
	}

#endif
