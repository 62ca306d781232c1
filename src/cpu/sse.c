/* sse.c: SSE/MMX common rules (#UD/#NM/#MF/#XM), operands and MXCSR instructions. */
#include "sse.h"

#include "ops.h"
#include "x87.h"

void sse_check_slow(struct cpu *cpu, int feature)
{
	if (cpu->cr0 & X86_CR0_EM)
		cpu_ud(cpu);
	if (!(cpu->cr4 & X86_CR4_OSFXSR))
		cpu_ud(cpu);
	if (feature != SSE_NO_FEATURE && !cpu_has_feature(cpu, feature))
		cpu_ud(cpu);
	if (cpu->cr0 & X86_CR0_TS)
		cpu_fault_noerr(cpu, X86_EXC_NM);
}

/* SDM Vol. 3 6.15 (#MF): raised by the next waiting x87 or MMX instruction
 * while FSW.ES is set. With CR0.NE = 0 the legacy FERR# pin would signal an
 * external interrupt instead; cetvm models no FERR# line, so nothing happens. */
void fpu_check_pending(struct cpu *cpu)
{
	if (unlikely(cpu->fpu.fsw & FSW_ES) && (cpu->cr0 & X86_CR0_NE))
		cpu_fault_noerr(cpu, X86_EXC_MF);
}

/* SDM Vol. 1 9.5: any MMX instruction (except EMMS) sets TOP = 0 and tags
 * every register valid. */
void mmx_enter(struct cpu *cpu)
{
	cpu->fpu.top = 0;
	cpu->fpu.ftw = 0;
}

void mmx_check(struct cpu *cpu)
{
	if (unlikely(cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))) {
		if (cpu->cr0 & X86_CR0_EM)
			cpu_ud(cpu);
		cpu_fault_noerr(cpu, X86_EXC_NM);
	}
	fpu_check_pending(cpu);
}

u64 mmx_get(const struct cpu *cpu, unsigned n)
{
	u64 v;
	__builtin_memcpy(&v, &cpu->fpu.st[n & 7], 8);
	return v;
}

void mmx_set(struct cpu *cpu, unsigned n, u64 v)
{
	u8 *p = (u8 *)&cpu->fpu.st[n & 7];
	__builtin_memcpy(p, &v, 8);
	p[8] = 0xff;
	p[9] = 0xff;
	mmx_enter(cpu);
}

u64 sse_lin(struct cpu *cpu, const struct insn *in, unsigned size, bool write, unsigned align)
{
	u64 la = cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, write);
	if (align && (la & (align - 1)))
		cpu_gp(cpu, 0);
	return la;
}

static unsigned chunk_size(u64 left)
{
	return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

void sse_read_mem(struct cpu *cpu, u64 la, void *buf, unsigned size)
{
	u8 *p = buf;
	for (unsigned off = 0; off < size;) {
		unsigned n = chunk_size(size - off);
		store_le(p + off, n, cpu_read_lin(cpu, la + off, n));
		off += n;
	}
}

void sse_probe_write(struct cpu *cpu, u64 la, unsigned size)
{
	/* The first page faults on the first chunk, before anything is
	 * written; every later page is checked here, as a write. */
	u64 last = (la + size - 1) & ~0xfffull;
	for (u64 page = (la & ~0xfffull) + 0x1000; size && page <= last; page += 0x1000)
		cpu_translate(cpu, page, ACC_WRITE);
}

void sse_write_mem(struct cpu *cpu, u64 la, const void *buf, unsigned size)
{
	const u8 *p = buf;
	if (((la & 0xfff) + size) > 0x1000)
		sse_probe_write(cpu, la, size);
	for (unsigned off = 0; off < size;) {
		unsigned n = chunk_size(size - off);
		cpu_write_lin(cpu, la + off, n, load_le(p + off, n));
		off += n;
	}
}

void sse_read_rm(struct cpu *cpu, const struct insn *in, union vec *v, unsigned size,
		 bool unaligned)
{
	if (!(in->flags & IF_MEM)) {
		sse_get_xmm(cpu, in->rm, v);
		return;
	}
	u64 la = sse_lin(cpu, in, size, false, size == 16 && !unaligned ? 16 : 0);
	v->q[0] = v->q[1] = 0;
	if (size == 16) {
		v->q[0] = cpu_read_lin(cpu, la, 8);
		v->q[1] = cpu_read_lin(cpu, la + 8, 8);
	} else {
		v->q[0] = cpu_read_lin(cpu, la, size);
	}
}

void sse_write_rm(struct cpu *cpu, const struct insn *in, const union vec *v, unsigned size,
		  bool unaligned)
{
	if (!(in->flags & IF_MEM)) {
		sse_set_xmm(cpu, in->rm, v);
		return;
	}
	u64 la = sse_lin(cpu, in, size, true, size == 16 && !unaligned ? 16 : 0);
	sse_write_mem(cpu, la, v->b, size);
}

u64 mmx_read_rm(struct cpu *cpu, const struct insn *in)
{
	if (!(in->flags & IF_MEM))
		return mmx_get(cpu, in->rm);
	return cpu_mem_read(cpu, in, 8);
}

void sse_mxcsr_commit(struct cpu *cpu, u32 flags)
{
	flags &= MXCSR_FLAGS;
	if (likely(!flags))
		return;
	u32 unmasked = flags & ~(cpu->fpu.mxcsr >> 7) & MXCSR_FLAGS;
	if (unlikely(unmasked)) {
		/* SDM Vol. 1 11.5.2: an unmasked pre-computation exception
		 * (invalid, denormal, divide) stops the operation, so no
		 * post-computation flag is reported with it. */
		if (unmasked & (MXCSR_IE | MXCSR_DE | MXCSR_ZE))
			flags &= MXCSR_IE | MXCSR_DE | MXCSR_ZE;
		cpu->fpu.mxcsr |= flags;
		if (cpu->cr4 & X86_CR4_OSXMMEXCPT)
			cpu_fault_noerr(cpu, X86_EXC_XM);
		cpu_ud(cpu);
	}
	cpu->fpu.mxcsr |= flags;
}

/* 0F AE /2: LDMXCSR m32. Reserved bits -> #GP(0) (SDM Vol. 2 LDMXCSR). */
void op_ldmxcsr(struct cpu *cpu, const struct insn *in)
{
	sse_check(cpu, X86_FEATURE_SSE);
	u32 v = (u32)cpu_mem_read(cpu, in, 4);
	if (v & ~SSE_MXCSR_MASK)
		cpu_gp(cpu, 0);
	cpu->fpu.mxcsr = v;
}

/* 0F AE /3: STMXCSR m32. */
void op_stmxcsr(struct cpu *cpu, const struct insn *in)
{
	sse_check(cpu, X86_FEATURE_SSE);
	cpu_mem_write(cpu, in, 4, cpu->fpu.mxcsr);
}

/* 0F 77: EMMS marks every x87 register empty (SDM Vol. 2 EMMS). */
void op_emms(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)) {
		if (cpu->cr0 & X86_CR0_EM)
			cpu_ud(cpu);
		cpu_fault_noerr(cpu, X86_EXC_NM);
	}
	fpu_check_pending(cpu);
	cpu->fpu.ftw = 0xffff;
}
