/* alu.h: inline helpers shared by the integer instruction families
 * (alu.c, flagops.c, shift.c, muldiv.c, bitops.c, bmi.c, string.c).
 *
 * - Register access with a fast path for 32/64-bit operands (no byte-register
 *   aliasing to worry about); 8/16-bit go through cpu_get_reg/cpu_set_reg.
 * - Read-modify-write memory operands: the address is translated once with
 *   write intent, the old value read, and the new value stored by
 *   alu_rmw_write(). Handlers store before they touch flags or registers, so
 *   a faulting store commits nothing (LOCK semantics, SDM Vol. 3 9.1.2).
 * - Eager flag helpers for operations the lazy scheme cannot express.
 */
#ifndef CETVM_ALU_H
#define CETVM_ALU_H

#include "cpu.h"

static inline u64 alu_get_reg(const struct cpu *cpu, const struct insn *in, unsigned reg,
			      unsigned size)
{
	if (likely(size == 8))
		return cpu->r[reg];
	if (likely(size == 4))
		return (u32)cpu->r[reg];
	return cpu_get_reg(cpu, reg, size, in->flags & IF_REX);
}

static inline void alu_set_reg(struct cpu *cpu, const struct insn *in, unsigned reg,
			       unsigned size, u64 v)
{
	if (likely(size == 8))
		cpu->r[reg] = v;
	else if (likely(size == 4))
		cpu->r[reg] = (u32)v; /* zero-extends (SDM Vol. 1 3.4.1.1) */
	else
		cpu_set_reg(cpu, reg, size, in->flags & IF_REX, v);
}

/* The ModRM r/m operand as a register (in->rm) or memory. */
static inline u64 alu_rm_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (likely(!(in->flags & IF_MEM)))
		return alu_get_reg(cpu, in, in->rm, size);
	return cpu_mem_read(cpu, in, size);
}

/* A read-modify-write memory operand. */
struct rmw {
	u64 la;
	u8 *host; /* host pointer of the operand (fast path), or NULL */
};

/* Read `size` bytes at seg:ea with write intent. */
static inline u64 alu_rmw_read_at(struct cpu *cpu, int seg, u64 ea, unsigned size,
				  struct rmw *m)
{
	u64 la = cpu_seg_lin(cpu, seg, ea, size, true);
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	m->la = la;
	if (likely(tlb_hit(e->wtag, la, size))) {
		m->host = tlb_ptr(e, la);
		return load_le(m->host, size);
	}
	m->host = NULL;
	/* Write intent: a read-only or absent page faults with #PF(W=1). */
	return cpu_read_slow(cpu, la, size, ACC_WRITE);
}

static inline u64 alu_rmw_read(struct cpu *cpu, const struct insn *in, unsigned size,
			       struct rmw *m)
{
	return alu_rmw_read_at(cpu, in->seg, cpu_ea(cpu, in), size, m);
}

static inline void alu_rmw_write(struct cpu *cpu, const struct rmw *m, unsigned size, u64 v)
{
	if (likely(m->host != NULL))
		store_le(m->host, size, v);
	else
		cpu_write_slow(cpu, m->la, size, v, ACC_WRITE);
}

static inline u64 alu_sign_bit(unsigned size)
{
	return 1ull << (size * 8 - 1);
}

static inline u64 alu_sext(u64 v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (u64)((s64)(v << sh) >> sh);
}

/* SF, ZF and PF of a result of `size` bytes. */
static inline u64 alu_szp(u64 r, unsigned size)
{
	u64 f = 0;
	r &= size_mask(size);
	if (r == 0)
		f |= X86_EFLAGS_ZF;
	if (r & alu_sign_bit(size))
		f |= X86_EFLAGS_SF;
	if (!__builtin_parity((unsigned)(r & 0xff)))
		f |= X86_EFLAGS_PF;
	return f;
}

/* BMI forms (VEX.LZ): #UD unless VEX.L = 0. VEX.W selects 64 bits only in
 * 64-bit mode ("VEX.W1 is ignored in non-64-bit modes", SDM Vol. 2 ANDN). */
static inline unsigned alu_vex_size(struct cpu *cpu, const struct insn *in)
{
	if (in->vex_l)
		cpu_ud(cpu);
	return cpu->m64 ? in->opsize : 4;
}

/* The VEX.vvvv register: only eight registers outside 64-bit mode. */
static inline unsigned alu_vex_reg(const struct cpu *cpu, const struct insn *in)
{
	return cpu->m64 ? in->vex_v : in->vex_v & 7u;
}

/* Replace all six arithmetic flags with `f` (no need to materialize). */
static inline void alu_flags_set_all(struct cpu *cpu, u64 f)
{
	cpu->eflags = (cpu->eflags & ~X86_EFLAGS_ARITH) | (f & X86_EFLAGS_ARITH);
	cpu->cc_op = CC_EAGER;
}

/* Replace the arithmetic flags in `mask` with those of `f`, keep the rest. */
static inline void alu_flags_set_some(struct cpu *cpu, u64 mask, u64 f)
{
	cpu_flags_materialize(cpu);
	cpu->eflags = (cpu->eflags & ~mask) | (f & mask);
}

#endif
