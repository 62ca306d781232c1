/* fast_ops.h: handlers specialized for the hottest 64-bit instruction forms. */
#ifndef CETVM_FAST_OPS_H
#define CETVM_FAST_OPS_H

#include "cpu.h"
#include "exec.h"

/* The specialized handler for a 64-bit-mode instruction, or NULL. Sets
 * *run to the RUN_* flags it needs (RUN_NEXT for branches). */
insn_fn fast_ops_variant(const struct insn *in, u8 *run);

/* For a direct JMP or CALL, or a Jcc, whose exec is fast_ops_variant()'s,
 * the handler for a block that goes on at the target (past the Jcc); else
 * NULL. */
insn_fn fast_ops_through(const struct insn *in);

/* A Jcc handler for `jcc` when `prev`, the instruction before it in the
 * same block, sets the flags it tests, or NULL (fast_jcc.c); `on` if the
 * block goes on past the Jcc. */
insn_fn fast_jcc_after(const struct insn *prev, const struct insn *jcc, bool on);

/* An ALU handler (ADD OR AND SUB XOR CMP TEST; NEG, NOT) specialized for in's
 * operation, form and size, or NULL; memory forms only if mem_ok (an
 * address form of 64-bit DS/SS: fast_alu.c). */
insn_fn fast_alu_variant(const struct insn *in, bool mem_ok);

/* Handlers for SETcc, CMOVcc, IMUL, MUL, MOVZX, SHLX/SHRX/SARX, BZHI and the
 * NOPs in register form, and LEA r32, or NULL (fast_misc.c). */
insn_fn fast_misc_variant(const struct insn *in);

/* A fast path that does not apply leaves through exec.c's exec_wrapped():
 * the opcode table's handler with cpu->rip and next_rip set, then the rest
 * of the block (out of line, so that the fast paths need no stack frame). */

/* Condition cc from the arithmetic flags in f (SDM Vol. 1 Appendix B). */
static inline bool fast_eflags_cond(u64 f, unsigned cc)
{
	bool of = f & X86_EFLAGS_OF, cf = f & X86_EFLAGS_CF, zf = f & X86_EFLAGS_ZF;
	bool sf = f & X86_EFLAGS_SF, r;
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = f & X86_EFLAGS_PF; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return r ^ (cc & 1);
}

/* Condition cc (Jcc, SETcc, CMOVcc) straight from the lazy flags of
 * CMP/SUB, of the logic operations and of ADD (the carry), or from eager
 * flags; cpu_cond() for the rest. */
static inline bool fast_cond(struct cpu *cpu, unsigned cc)
{
	unsigned sh = 64 - cpu->cc_size * 8;
	bool r;
	if (cpu->cc_op == CC_SUB) {
		int c = cpu_sub_cond(cpu, cc);
		if (c >= 0)
			return c;
	} else if (cpu->cc_op == CC_LOGIC) {
		/* CF = OF = 0: B is never, L is S, LE is Z or S. */
		s64 v = (s64)(cpu->cc_dst << sh);
		switch (cc >> 1) {
		case 0: case 1: return cc & 1;
		case 2: r = v == 0; return r ^ (cc & 1);
		case 3: r = v == 0; return r ^ (cc & 1);
		case 4: case 6: r = v < 0; return r ^ (cc & 1);
		case 7: r = v <= 0; return r ^ (cc & 1);
		default: break;
		}
	} else if (cpu->cc_op == CC_EAGER) {
		return fast_eflags_cond(cpu->eflags, cc);
	} else if (cpu->cc_op == CC_ADD && ((cc >> 1) == 1 || (cc >> 1) == 3)) {
		u64 res = cpu->cc_dst << sh;
		r = res < (cpu->cc_src2 << sh) || ((cc >> 1) == 3 && res == 0);
		return r ^ (cc & 1);
	} else if ((cc >> 1) == 2) {
		r = (cpu->cc_dst << sh) == 0;
		return r ^ (cc & 1);
	}
	return cpu_cond(cpu, cc);
}

/* Jcc by `taken`, then, not taken, on to the rest of the block (`on`: it
 * continues past the Jcc, exec.c) or back to the run loop; taken, the
 * block ends. A non-canonical target is the generic handler's #GP. */
static inline void fast_jcc(struct cpu *cpu, const struct insn *in, bool taken, bool on)
{
	u64 next = insn_next_rip(cpu, in), target = next + in->imm;
	if (!taken) {
		cpu->next_rip = next; /* for a Jcc run alone (exec.c, run_first()) */
		if (on) {
			insn_next(cpu, in);
			return;
		}
	} else if (likely(cpu_canonical(target) == target)) {
		cpu->next_rip = target;
	} else {
		exec_wrapped(cpu, in);
		return;
	}
	cpu->cur_insn = in;
}

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
			exec_wrapped(cpu, in);                      \
	}
#define FAST_END(name, fast_path)                                \
	static void name(struct cpu *cpu, const struct insn *in) \
	{                                                        \
		if (likely(fast_path))                           \
			cpu->cur_insn = in;                      \
		else                                             \
			exec_wrapped(cpu, in);                      \
	}

#endif
