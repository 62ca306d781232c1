/* sse_fp.c: SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic, compares, RCP/RSQRT, ROUND and DP. */
#include "sse.h"

#include <math.h>
#include <string.h>

#include "ops.h"

SSE_HOST_OP(h_sqrtps, "sqrtps")
SSE_HOST_OP(h_sqrtpd, "sqrtpd")
SSE_HOST_OP(h_sqrtss, "sqrtss")
SSE_HOST_OP(h_sqrtsd, "sqrtsd")
SSE_HOST_OP(h_addps, "addps")
SSE_HOST_OP(h_addpd, "addpd")
SSE_HOST_OP(h_addss, "addss")
SSE_HOST_OP(h_addsd, "addsd")
SSE_HOST_OP(h_mulps, "mulps")
SSE_HOST_OP(h_mulpd, "mulpd")
SSE_HOST_OP(h_mulss, "mulss")
SSE_HOST_OP(h_mulsd, "mulsd")
SSE_HOST_OP(h_subps, "subps")
SSE_HOST_OP(h_subpd, "subpd")
SSE_HOST_OP(h_subss, "subss")
SSE_HOST_OP(h_subsd, "subsd")
SSE_HOST_OP(h_minps, "minps")
SSE_HOST_OP(h_minpd, "minpd")
SSE_HOST_OP(h_minss, "minss")
SSE_HOST_OP(h_minsd, "minsd")
SSE_HOST_OP(h_divps, "divps")
SSE_HOST_OP(h_divpd, "divpd")
SSE_HOST_OP(h_divss, "divss")
SSE_HOST_OP(h_divsd, "divsd")
SSE_HOST_OP(h_maxps, "maxps")
SSE_HOST_OP(h_maxpd, "maxpd")
SSE_HOST_OP(h_maxss, "maxss")
SSE_HOST_OP(h_maxsd, "maxsd")
SSE_HOST_OP(h_haddps, "haddps")
SSE_HOST_OP(h_haddpd, "haddpd")
SSE_HOST_OP(h_hsubps, "hsubps")
SSE_HOST_OP(h_hsubpd, "hsubpd")
SSE_HOST_OP(h_addsubps, "addsubps")
SSE_HOST_OP(h_addsubpd, "addsubpd")

/* Indexed by opcode - 0x50 and prefix (NP, 66, F3, F2). */
static const sse_host_fn arith[16][4] = {
	[0x1] = { h_sqrtps, h_sqrtpd, h_sqrtss, h_sqrtsd },
	[0x8] = { h_addps, h_addpd, h_addss, h_addsd },
	[0x9] = { h_mulps, h_mulpd, h_mulss, h_mulsd },
	[0xc] = { h_subps, h_subpd, h_subss, h_subsd },
	[0xd] = { h_minps, h_minpd, h_minss, h_minsd },
	[0xe] = { h_divps, h_divpd, h_divss, h_divsd },
	[0xf] = { h_maxps, h_maxpd, h_maxss, h_maxsd },
};

static const unsigned src_size[4] = { 16, 16, 4, 8 };

static sse_host_fn arith_fn(const struct insn *in, unsigned pfx, int *feature)
{
	*feature = X86_FEATURE_SSE3;
	switch (in->op) {
	case 0x7c: return pfx == SSE_66 ? h_haddpd : h_haddps;
	case 0x7d: return pfx == SSE_66 ? h_hsubpd : h_hsubps;
	case 0xd0: return pfx == SSE_66 ? h_addsubpd : h_addsubps;
	default: break;
	}
	*feature = pfx == SSE_66 || pfx == SSE_F2 ? X86_FEATURE_SSE2 : X86_FEATURE_SSE;
	return arith[in->op & 0xf][pfx];
}

/* Run a host operation, merge its MXCSR flags (may raise #XM/#UD before
 * anything is written) and write the destination register. */
static void run_host(struct cpu *cpu, const struct insn *in, sse_host_fn fn, union vec *d,
		     const union vec *s)
{
	u32 out = fn(d, s, sse_host_csr(cpu));
	sse_mxcsr_commit(cpu, out);
	sse_set_xmm(cpu, in->reg, d);
}

/* 0F 51, 58, 59, 5C..5F (PS/PD/SS/SD by prefix); 0F 7C/7D HADD/HSUB,
 * 0F D0 ADDSUB (SSE3). */
void op_sse_fp_arith(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	int feature;
	sse_host_fn fn = arith_fn(in, pfx, &feature);
	union vec d, s;
	sse_check(cpu, feature);
	sse_read_rm(cpu, in, &s, feature == X86_FEATURE_SSE3 ? 16 : src_size[pfx], false);
	sse_get_xmm(cpu, in->reg, &d);
	run_host(cpu, in, fn, &d, &s);
}

/* ---- CMPPS/CMPPD/CMPSS/CMPSD (0F C2 ib): all 8 predicates ---- */

#define CMP8(f)                                                                              \
	SSE_HOST_OP(h_##f##0, #f " $0,")                                                     \
	SSE_HOST_OP(h_##f##1, #f " $1,")                                                     \
	SSE_HOST_OP(h_##f##2, #f " $2,")                                                     \
	SSE_HOST_OP(h_##f##3, #f " $3,")                                                     \
	SSE_HOST_OP(h_##f##4, #f " $4,")                                                     \
	SSE_HOST_OP(h_##f##5, #f " $5,")                                                     \
	SSE_HOST_OP(h_##f##6, #f " $6,")                                                     \
	SSE_HOST_OP(h_##f##7, #f " $7,")
CMP8(cmpps)
CMP8(cmppd)
CMP8(cmpss)
CMP8(cmpsd)
#define CMPROW(f) { h_##f##0, h_##f##1, h_##f##2, h_##f##3, h_##f##4, h_##f##5, h_##f##6, h_##f##7 }
static const sse_host_fn cmp[4][8] = { CMPROW(cmpps), CMPROW(cmppd), CMPROW(cmpss),
				       CMPROW(cmpsd) };

void op_sse_cmp(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	union vec d, s;
	sse_check(cpu, pfx == SSE_66 || pfx == SSE_F2 ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, src_size[pfx], false);
	sse_get_xmm(cpu, in->reg, &d);
	run_host(cpu, in, cmp[pfx][in->imm & 7], &d, &s);
}

/* ---- COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF; OF, SF, AF cleared ---- */

#define COMI(name, insn)                                                                     \
	static u32 name(const union vec *d, const union vec *s, u32 csr, u8 f[3])            \
	{                                                                                    \
		u32 save, out;                                                               \
		asm volatile("stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t" insn " %[y], %[x]\n\t"     \
			     "setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\t"                       \
			     "stmxcsr %[out]\n\tldmxcsr %[sv]"                               \
			     : [z] "=qm"(f[0]), [p] "=qm"(f[1]), [c] "=qm"(f[2]),            \
			       [sv] "=m"(save), [out] "=m"(out)                              \
			     : [x] "x"(d->ps), [y] "x"(s->ps), [cs] "m"(csr)                 \
			     : "cc");                                                        \
		return out;                                                                  \
	}
COMI(h_ucomiss, "ucomiss")
COMI(h_comiss, "comiss")
COMI(h_ucomisd, "ucomisd")
COMI(h_comisd, "comisd")

/* 0F 2E UCOMISS/UCOMISD, 0F 2F COMISS/COMISD (NP/66). */
void op_sse_comis(struct cpu *cpu, const struct insn *in)
{
	bool pd = sse_pfx(in) == SSE_66;
	union vec d, s;
	u8 f[3];
	sse_check(cpu, pd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, pd ? 8 : 4, false);
	sse_get_xmm(cpu, in->reg, &d);
	u32 csr = sse_host_csr(cpu), out;
	if (in->op == 0x2e)
		out = pd ? h_ucomisd(&d, &s, csr, f) : h_ucomiss(&d, &s, csr, f);
	else
		out = pd ? h_comisd(&d, &s, csr, f) : h_comiss(&d, &s, csr, f);
	sse_mxcsr_commit(cpu, out);
	cpu_flags_materialize(cpu);
	cpu->eflags &= ~X86_EFLAGS_ARITH;
	cpu->eflags |= (f[0] ? X86_EFLAGS_ZF : 0) | (f[1] ? X86_EFLAGS_PF : 0) |
		       (f[2] ? X86_EFLAGS_CF : 0);
}

/* ---- RCPPS/RCPSS/RSQRTPS/RSQRTSS ---- */

/* The architecture only bounds the relative error (1.5 * 2^-12); cetvm
 * returns the correctly rounded value, the same on every host. Denormal
 * inputs count as zero, tiny results flush to zero, no MXCSR flags. */
static float approx(float x, bool rsqrt)
{
	u32 b;
	memcpy(&b, &x, 4);
	u32 sign = b & 0x80000000u, exp = (b >> 23) & 0xff;
	float r;
	if (exp == 0xff && (b & 0x7fffff)) {
		b |= 0x400000; /* QNaN */
	} else if (exp == 0) {
		b = sign | 0x7f800000; /* +-0 or denormal -> +-inf */
	} else if (rsqrt && sign) {
		b = 0xffc00000; /* negative: the QNaN indefinite */
	} else if (exp == 0xff) {
		b = sign; /* +-inf -> +-0 */
	} else {
		double v = rsqrt ? 1.0 / sqrt((double)x) : 1.0 / (double)x;
		if (fabs(v) < 0x1p-126)
			v = copysign(0.0, v);
		r = (float)v;
		memcpy(&b, &r, 4);
	}
	memcpy(&r, &b, 4);
	return r;
}

/* 0F 52 RSQRTPS (NP) / RSQRTSS (F3); 0F 53 RCPPS / RCPSS. */
void op_sse_rcp(struct cpu *cpu, const struct insn *in)
{
	bool scalar = sse_pfx(in) == SSE_F3;
	union vec d, s;
	sse_check(cpu, X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, scalar ? 4 : 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	for (unsigned i = 0; i < (scalar ? 1u : 4u); i++)
		d.f[i] = approx(s.f[i], in->op == 0x52);
	sse_set_xmm(cpu, in->reg, &d);
}

/* ---- ROUNDPS/PD/SS/SD (66 0F 3A 08..0B ib) ---- */

SSE_HOST_OP(h_roundps, "roundps $4,")
SSE_HOST_OP(h_roundpd, "roundpd $4,")
SSE_HOST_OP(h_roundss, "roundss $4,")
SSE_HOST_OP(h_roundsd, "roundsd $4,")

/* imm8[2] selects MXCSR.RC, else imm8[1:0]; imm8[3] suppresses the
 * precision exception (SDM Vol. 2 ROUNDPS). The host runs with the
 * rounding mode placed in the MXCSR it is given. */
void op_sse_round(struct cpu *cpu, const struct insn *in)
{
	static const sse_host_fn fns[4] = { h_roundps, h_roundpd, h_roundss, h_roundsd };
	static const unsigned size[4] = { 16, 16, 4, 8 };
	unsigned k = in->op & 3, imm = in->imm & 0xff;
	union vec d, s;
	sse_check(cpu, X86_FEATURE_SSE41);
	sse_read_rm(cpu, in, &s, size[k], false);
	sse_get_xmm(cpu, in->reg, &d);
	u32 csr = sse_host_csr(cpu);
	if (!(imm & 4))
		csr = (csr & ~MXCSR_RC) | ((imm & 3u) << MXCSR_RC_SHIFT);
	u32 out = fns[k](&d, &s, csr);
	if (imm & 8)
		out &= ~MXCSR_PE;
	sse_mxcsr_commit(cpu, out);
	sse_set_xmm(cpu, in->reg, &d);
}

/* ---- DPPS/DPPD (66 0F 3A 40/41 ib) ---- */

/* Products of the lanes selected by imm8[7:4] (others +0.0, which raise
 * nothing), summed pairwise as the SDM's pseudo-code, then broadcast to the
 * lanes of imm8[3:0]. HADD gives exactly that pairing and rounding. */
void op_sse_dpp(struct cpu *cpu, const struct insn *in)
{
	bool pd = in->op == 0x41;
	unsigned imm = in->imm & 0xff, n = pd ? 2 : 4, es = pd ? 8 : 4;
	union vec d, s, t;
	sse_check(cpu, X86_FEATURE_SSE41);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	for (unsigned i = 0; i < n; i++) {
		if (!((imm >> (4 + i)) & 1)) {
			memset(d.b + i * es, 0, es);
			memset(s.b + i * es, 0, es);
		}
	}
	u32 csr = sse_host_csr(cpu);
	u32 out = (pd ? h_mulpd : h_mulps)(&d, &s, csr);
	t = d;
	out |= (pd ? h_haddpd : h_haddps)(&d, &t, csr);
	if (!pd) {
		t = d;
		out |= h_haddps(&d, &t, csr);
	}
	sse_mxcsr_commit(cpu, out);
	for (unsigned i = 0; i < n; i++)
		if (!((imm >> i) & 1))
			memset(d.b + i * es, 0, es);
	sse_set_xmm(cpu, in->reg, &d);
}
