/* flags.c: lazy arithmetic flags (CF PF AF ZF SF OF) computed on demand.
 *
 * An arithmetic instruction records (cc_op, size, result, operands) with
 * cpu_set_cc(); the flags are derived only when something reads them. The
 * recorded operands per op (dst = result):
 *   ADD/ADC/SUB/SBB: src = second operand, src2 = first operand
 *   LOGIC: -
 *   INC/DEC: src, src2 and cc_cf_op/cc_cf_size of the op before them, for CF
 *     (cpu_set_cc_incdec, cpu_kept_cf)
 *   SHL/SHR/SAR: src = count (1..width-1 masked, never 0), src2 = operand
 *   MUL: src = 1 if the high half is significant (CF = OF = src)
 *   NEG: src2 = operand
 *   ROL/ROR: CF and OF from cc_rot (the result) at cc_rot_size; the other
 *     flags those of cc_rot_prev, an op before them that was not CC_EAGER,
 *     whose dst, src, src2 and size are still in place (cpu_record_rotate)
 */
#include "cpu.h"

static u64 sign_bit(unsigned size)
{
	return 1ull << (size * 8 - 1);
}

static bool parity8(u64 v)
{
	return !__builtin_parity((unsigned)(v & 0xff));
}

static bool cc_cf(const struct cpu *cpu)
{
	unsigned size = cpu->cc_size;
	u64 m = size_mask(size);
	u64 res = cpu->cc_dst & m, b = cpu->cc_src & m, a = cpu->cc_src2 & m;
	switch (cpu->cc_op) {
	case CC_EAGER: return cpu->eflags & X86_EFLAGS_CF;
	case CC_ADD: return res < a;
	case CC_ADC: return ((res - a - b) & m) ? res <= a : res < a;
	case CC_SUB: return a < b;
	case CC_SBB: return ((a - b - res) & m) ? a <= b : a < b;
	case CC_LOGIC: return false;
	case CC_INC: case CC_DEC: return cpu_kept_cf(cpu);
	case CC_SHL: return (a >> (size * 8 - cpu->cc_src)) & 1;
	case CC_SHR: return (a >> (cpu->cc_src - 1)) & 1;
	case CC_SAR: {
		s64 sa = (s64)(a << (64 - size * 8)) >> (64 - size * 8);
		return ((u64)(sa >> (cpu->cc_src - 1))) & 1;
	}
	case CC_MUL: return cpu->cc_src & 1;
	case CC_NEG: return a != 0;
	case CC_ROL: case CC_ROR: return cpu_rot_cf(cpu->cc_op, cpu->cc_rot_size, cpu->cc_rot);
	default: return false;
	}
}

static bool cc_of(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return cpu->eflags & X86_EFLAGS_OF;
	unsigned size = cpu->cc_size;
	u64 sb = sign_bit(size);
	u64 res = cpu->cc_dst, b = cpu->cc_src, a = cpu->cc_src2;
	switch (cpu->cc_op) {
	case CC_ADD: case CC_ADC: return ((a ^ ~b) & (a ^ res)) & sb;
	case CC_SUB: case CC_SBB: return ((a ^ b) & (a ^ res)) & sb;
	case CC_LOGIC: return false;
	case CC_INC: return (res & size_mask(size)) == sb;
	case CC_DEC: return (res & size_mask(size)) == sb - 1;
	case CC_SHL: return !!(res & sb) ^ cc_cf(cpu);
	case CC_SHR: return a & sb ? cpu->cc_src == 1 : false;
	case CC_SAR: return false;
	case CC_MUL: return cpu->cc_src & 1;
	case CC_NEG: return (res & size_mask(size)) == sb;
	case CC_ROL: case CC_ROR: return cpu_rot_of(cpu->cc_op, cpu->cc_rot_size, cpu->cc_rot);
	default: return false;
	}
}

static bool cc_af(const struct cpu *cpu)
{
	u64 res = cpu->cc_dst, b = cpu->cc_src, a = cpu->cc_src2;
	unsigned op = cpu->cc_op;
	if (op == CC_ROL || op == CC_ROR)
		op = cpu->cc_rot_prev;
	switch (op) {
	case CC_EAGER: return cpu->eflags & X86_EFLAGS_AF;
	case CC_ADD: case CC_ADC: case CC_SUB: case CC_SBB: return (a ^ b ^ res) & 0x10;
	case CC_INC: return (res & 0xf) == 0;
	case CC_DEC: return (res & 0xf) == 0xf;
	case CC_NEG: return (a ^ res) & 0x10;
	default: return false;
	}
}

static bool cc_zf(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return cpu->eflags & X86_EFLAGS_ZF;
	return (cpu->cc_dst & size_mask(cpu->cc_size)) == 0;
}

static bool cc_sf(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return cpu->eflags & X86_EFLAGS_SF;
	return cpu->cc_dst & sign_bit(cpu->cc_size);
}

static bool cc_pf(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return cpu->eflags & X86_EFLAGS_PF;
	return parity8(cpu->cc_dst);
}

bool cpu_get_cf_slow(struct cpu *cpu)
{
	return cc_cf(cpu);
}

void cpu_keep_cf_eager(struct cpu *cpu)
{
	bool cf = cc_cf(cpu);
	cpu->eflags = (cpu->eflags & ~X86_EFLAGS_CF) | (cf ? X86_EFLAGS_CF : 0);
	cpu->cc_op = CC_EAGER;
}

void cpu_flags_materialize(struct cpu *cpu)
{
	if (cpu->cc_op == CC_EAGER)
		return;
	u64 f = cpu->eflags & ~X86_EFLAGS_ARITH;
	f |= cc_cf(cpu) ? X86_EFLAGS_CF : 0;
	f |= cc_pf(cpu) ? X86_EFLAGS_PF : 0;
	f |= cc_af(cpu) ? X86_EFLAGS_AF : 0;
	f |= cc_zf(cpu) ? X86_EFLAGS_ZF : 0;
	f |= cc_sf(cpu) ? X86_EFLAGS_SF : 0;
	f |= cc_of(cpu) ? X86_EFLAGS_OF : 0;
	cpu->eflags = f;
	cpu->cc_op = CC_EAGER;
}

u64 cpu_get_rflags(struct cpu *cpu)
{
	cpu_flags_materialize(cpu);
	return cpu->eflags | X86_EFLAGS_FIXED;
}

void cpu_set_rflags(struct cpu *cpu, u64 v)
{
	bool ac_changed = (cpu->eflags ^ v) & X86_EFLAGS_AC;
	if (v & ~cpu->eflags & X86_EFLAGS_IF)
		cpu_poll_irq(cpu); /* interrupts just got enabled */
	cpu->eflags = (v | X86_EFLAGS_FIXED) & ~(0x8028ull | (~0ull << 22));
	cpu->cc_op = CC_EAGER;
	if (ac_changed)
		cpu_update_mmu_idx(cpu);
}

/* Jcc/SETcc/CMOVcc conditions (SDM Vol. 1 Appendix B). */
bool cpu_cond(struct cpu *cpu, unsigned cc)
{
	bool r;
	if (cpu->cc_op == CC_SUB) {
		int c = cpu_sub_cond(cpu, cc); /* the common case */
		if (c >= 0)
			return c;
	}
	switch (cc >> 1) {
	case 0: r = cc_of(cpu); break;
	case 1: r = cc_cf(cpu); break;
	case 2: r = cc_zf(cpu); break;
	case 3: r = cc_cf(cpu) || cc_zf(cpu); break;
	case 4: r = cc_sf(cpu); break;
	case 5: r = cc_pf(cpu); break;
	case 6: r = cc_sf(cpu) != cc_of(cpu); break;
	default: r = cc_zf(cpu) || (cc_sf(cpu) != cc_of(cpu)); break;
	}
	return r ^ (cc & 1);
}
