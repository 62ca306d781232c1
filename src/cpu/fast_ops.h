/* fast_ops.h: handlers specialized for the hottest 64-bit instruction forms. */
#ifndef CETVM_FAST_OPS_H
#define CETVM_FAST_OPS_H

#include "cpu.h"

/* The specialized handler for a 64-bit-mode instruction, or NULL. Sets
 * *run to the RUN_* flags it needs (RUN_NEXT for branches). */
insn_fn fast_ops_variant(const struct insn *in, u8 *run);

/* A Jcc handler for `jcc` when `prev`, the instruction before it in the
 * same block, sets the flags it tests, or NULL (fast_jcc.c). */
insn_fn fast_jcc_after(const struct insn *prev, const struct insn *jcc);

/* An ALU handler (ADD OR AND SUB XOR CMP TEST; NEG, NOT) specialized for in's
 * operation, form and size, or NULL; memory forms only if mem_ok (an
 * address form of 64-bit DS/SS: fast_alu.c). */
insn_fn fast_alu_variant(const struct insn *in, bool mem_ok);

/* Leave the fast path: the opcode table's handler with cpu->rip and
 * next_rip set, as a tail call, before the specialized handler has
 * changed anything. */
static inline void fast_slow(struct cpu *cpu, const struct insn *in)
{
	cpu->next_rip = insn_next_rip(cpu, in);
	cpu->rip = cpu->next_rip - in->len;
	in->fn(cpu, in);
}

#endif
