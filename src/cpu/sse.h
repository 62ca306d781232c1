/* sse.h: helpers shared by the SSE/MMX (sse*.c), x87 (x87*.c) and XSAVE
 * (xsave.c) families: the 128-bit vector view of registers, the #UD/#NM
 * rules, multi-byte memory operands and the MXCSR exception model.
 *
 * Every helper that can fault does so before any architectural state
 * changes, so handlers follow the pattern: check, read operands, compute,
 * sse_mxcsr_commit() (may raise #XM), then write the destination.
 */
#ifndef CETVM_SSE_H
#define CETVM_SSE_H

#include "cpu.h"

typedef float sse_v4sf __attribute__((vector_size(16)));
typedef double sse_v2df __attribute__((vector_size(16)));
typedef long long sse_v2di __attribute__((vector_size(16)));

/* One XMM (or, in its low 8 bytes, MMX) value. The host is little-endian
 * like the guest, so every view indexes elements in architectural order. */
union vec {
	u8 b[16];
	s8 sb[16];
	u16 w[8];
	s16 sw[8];
	u32 d[4];
	s32 sd[4];
	u64 q[2];
	s64 sq[2];
	float f[4];
	double fd[2];
	sse_v4sf ps;
	sse_v2df pd;
	sse_v2di pi;
};

/* Mandatory prefix as the decoder chose it (decode.c mandatory_prefix). */
enum { SSE_NP, SSE_66, SSE_F3, SSE_F2 };
static inline unsigned sse_pfx(const struct insn *in)
{
	if (in->flags & IF_REP)
		return SSE_F3;
	if (in->flags & IF_REPNE)
		return SSE_F2;
	return (in->flags & IF_OPSIZE) ? SSE_66 : SSE_NP;
}

/* MXCSR (SDM Vol. 1 10.2.3). */
#define MXCSR_IE 0x0001u
#define MXCSR_DE 0x0002u
#define MXCSR_ZE 0x0004u
#define MXCSR_OE 0x0008u
#define MXCSR_UE 0x0010u
#define MXCSR_PE 0x0020u
#define MXCSR_FLAGS 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC_SHIFT 13
#define MXCSR_RC 0x6000u
#define MXCSR_FZ 0x8000u
#define MXCSR_DEFAULT 0x1f80u
/* Writable MXCSR bits (MXCSR_MASK in FXSAVE images): DAZ is supported. */
#define SSE_MXCSR_MASK 0xffffu

#define SSE_NO_FEATURE (-1)

/* ---- fault rules (sse.c) ---- */
/* SSE instruction: CR0.EM or !CR4.OSFXSR or the CPUID feature missing -> #UD;
 * CR0.TS -> #NM (SDM Vol. 2 ch. 3 "SIMD exceptions", class 1..5). */
void sse_check_slow(struct cpu *cpu, int feature);
static inline void sse_check(struct cpu *cpu, int feature)
{
	if (unlikely((cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)) || !(cpu->cr4 & X86_CR4_OSFXSR) ||
		     (feature != SSE_NO_FEATURE && !cpu_has_feature(cpu, feature))))
		sse_check_slow(cpu, feature);
}
/* MMX instruction: CR0.EM -> #UD, CR0.TS -> #NM, pending x87 exception ->
 * #MF. An SSE instruction with an MMX register operand (CVTPI2PS,
 * MOVQ2DQ...) uses sse_check() and then fpu_check_pending(). */
void mmx_check(struct cpu *cpu);
/* The x87 unit enters MMX mode (TOP = 0, all tags valid; SDM Vol. 1 9.5.1).
 * mmx_set() does it; an instruction that only reads MMX registers calls it
 * after its last access that can fault. */
void mmx_enter(struct cpu *cpu);
/* x87 pending-exception check (#MF) used by x87 and MMX instructions. */
void fpu_check_pending(struct cpu *cpu);

/* ---- registers ---- */
static inline void sse_get_xmm(const struct cpu *cpu, unsigned n, union vec *v)
{
	v->q[0] = cpu->fpu.xmm[n].q[0];
	v->q[1] = cpu->fpu.xmm[n].q[1];
}
static inline void sse_set_xmm(struct cpu *cpu, unsigned n, const union vec *v)
{
	cpu->fpu.xmm[n].q[0] = v->q[0];
	cpu->fpu.xmm[n].q[1] = v->q[1];
}
/* MMX register n is the significand of physical x87 register Rn; writing
 * it sets the exponent field to all ones (SDM Vol. 1 9.5.1). */
u64 mmx_get(const struct cpu *cpu, unsigned n);
void mmx_set(struct cpu *cpu, unsigned n, u64 v);

/* ---- memory ---- */
/* Linear address of the memory operand (size bytes). align: 0, or the
 * required alignment, checked on the linear address -> #GP(0). */
u64 sse_lin(struct cpu *cpu, const struct insn *in, unsigned size, bool write, unsigned align);
/* Copy size bytes from/to guest linear memory. A write first checks that
 * every page it touches is writable, so a fault leaves memory unchanged. */
void sse_read_mem(struct cpu *cpu, u64 la, void *buf, unsigned size);
void sse_write_mem(struct cpu *cpu, u64 la, const void *buf, unsigned size);
/* Check that [la, la+size) is writable (faults as a write would). */
void sse_probe_write(struct cpu *cpu, u64 la, unsigned size);

/* ---- operands ---- */
/* The r/m operand as an XMM source: register, or `size` bytes of memory
 * zero-extended into *v. 16-byte memory operands must be 16-byte aligned
 * unless `unaligned` (MOVUPS class; SDM Vol. 1 11.6.7). */
void sse_read_rm(struct cpu *cpu, const struct insn *in, union vec *v, unsigned size,
		 bool unaligned);
/* Store the low `size` bytes of *v to the r/m operand (register: all 16). */
void sse_write_rm(struct cpu *cpu, const struct insn *in, const union vec *v, unsigned size,
		  bool unaligned);
/* MMX r/m source: register MM(rm & 7) or 8 bytes of memory. */
u64 mmx_read_rm(struct cpu *cpu, const struct insn *in);

/* ---- MXCSR exceptions (SDM Vol. 1 11.5) ---- */
/* MXCSR value for the host while running a guest operation: the guest's
 * controls with every exception masked and no flags. */
static inline u32 sse_host_csr(const struct cpu *cpu)
{
	return (cpu->fpu.mxcsr & ~MXCSR_FLAGS) | MXCSR_MASKS;
}
/* Merge the exception flags an operation raised. If one is unmasked, the
 * instruction faults (#XM with CR4.OSXMMEXCPT, else #UD) and its
 * destination must not have been written yet. */
void sse_mxcsr_commit(struct cpu *cpu, u32 flags);

/* Host execution of one SSE instruction "insn src, dst" on XMM values with
 * the MXCSR value csr (sse_host_csr()); returns the host MXCSR after it,
 * whose low 6 bits are the exception flags raised. The host is x86-64, so
 * IEEE results, NaN rules, DAZ/FTZ and flags are the guest's exactly. */
typedef u32 (*sse_host_fn)(union vec *d, const union vec *s, u32 csr);
#define SSE_HOST_OP(name, insn)                                                              \
	static u32 name(union vec *d, const union vec *s, u32 csr)                           \
	{                                                                                    \
		u32 save, out;                                                               \
		sse_v4sf x = d->ps, y = s->ps;                                               \
		asm volatile("stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t" insn " %[y], %[x]\n\t"     \
			     "stmxcsr %[out]\n\tldmxcsr %[sv]"                               \
			     : [x] "+x"(x), [sv] "=m"(save), [out] "=m"(out)                 \
			     : [y] "x"(y), [cs] "m"(csr));                                   \
		d->ps = x;                                                                   \
		return out;                                                                  \
	}

#endif
