/* sse_cvt.c: SSE/SSE2 conversions between integers, single and double precision (0F 2A/2C/2D/5A/5B/E6). */
#include "sse.h"

#include "ops.h"

SSE_HOST_OP(h_cvtps2pd, "cvtps2pd")
SSE_HOST_OP(h_cvtpd2ps, "cvtpd2ps")
SSE_HOST_OP(h_cvtss2sd, "cvtss2sd")
SSE_HOST_OP(h_cvtsd2ss, "cvtsd2ss")
SSE_HOST_OP(h_cvtdq2ps, "cvtdq2ps")
SSE_HOST_OP(h_cvtps2dq, "cvtps2dq")
SSE_HOST_OP(h_cvttps2dq, "cvttps2dq")
SSE_HOST_OP(h_cvttpd2dq, "cvttpd2dq")
SSE_HOST_OP(h_cvtdq2pd, "cvtdq2pd")
SSE_HOST_OP(h_cvtpd2dq, "cvtpd2dq")

/* Scalar float -> r32/r64 (CVTSS2SI, CVTTSD2SI, ...). */
#define TO_GPR(name, insn, T)                                                                \
	static u32 name(const union vec *s, u32 csr, u64 *r)                                 \
	{                                                                                    \
		u32 save, out;                                                               \
		T v;                                                                         \
		asm volatile("stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t" insn " %[y], %[g]\n\t"     \
			     "stmxcsr %[out]\n\tldmxcsr %[sv]"                               \
			     : [g] "=r"(v), [sv] "=m"(save), [out] "=m"(out)                 \
			     : [y] "x"(s->ps), [cs] "m"(csr));                               \
		*r = (u64)v;                                                                 \
		return out;                                                                  \
	}
TO_GPR(h_cvtss2si32, "cvtss2si", u32)
TO_GPR(h_cvtss2si64, "cvtss2si", u64)
TO_GPR(h_cvttss2si32, "cvttss2si", u32)
TO_GPR(h_cvttss2si64, "cvttss2si", u64)
TO_GPR(h_cvtsd2si32, "cvtsd2si", u32)
TO_GPR(h_cvtsd2si64, "cvtsd2si", u64)
TO_GPR(h_cvttsd2si32, "cvttsd2si", u32)
TO_GPR(h_cvttsd2si64, "cvttsd2si", u64)

/* r32/r64 -> scalar float, merged into the destination's low element. */
#define FROM_GPR(name, insn, T)                                                              \
	static u32 name(union vec *d, u64 g, u32 csr)                                        \
	{                                                                                    \
		u32 save, out;                                                               \
		sse_v4sf x = d->ps;                                                          \
		asm volatile("stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t" insn " %[g], %[x]\n\t"     \
			     "stmxcsr %[out]\n\tldmxcsr %[sv]"                               \
			     : [x] "+x"(x), [sv] "=m"(save), [out] "=m"(out)                 \
			     : [g] "r"((T)g), [cs] "m"(csr));                                \
		d->ps = x;                                                                   \
		return out;                                                                  \
	}
FROM_GPR(h_cvtsi2ss32, "cvtsi2ssl", u32)
FROM_GPR(h_cvtsi2ss64, "cvtsi2ssq", u64)
FROM_GPR(h_cvtsi2sd32, "cvtsi2sdl", u32)
FROM_GPR(h_cvtsi2sd64, "cvtsi2sdq", u64)

/* 0F 5A, 5B, E6: XMM <- XMM/m conversions. Indexed by prefix. */
static const sse_host_fn cvt_5a[4] = { h_cvtps2pd, h_cvtpd2ps, h_cvtss2sd, h_cvtsd2ss };
static const sse_host_fn cvt_5b[4] = { h_cvtdq2ps, h_cvtps2dq, h_cvttps2dq, NULL };
static const sse_host_fn cvt_e6[4] = { NULL, h_cvttpd2dq, h_cvtdq2pd, h_cvtpd2dq };

void op_sse_cvt(struct cpu *cpu, const struct insn *in)
{
	static const unsigned size_5a[4] = { 8, 16, 4, 8 };
	unsigned pfx = sse_pfx(in), size = 16;
	sse_host_fn fn;
	union vec d, s;
	if (in->op == 0x5a) {
		fn = cvt_5a[pfx];
		size = size_5a[pfx];
	} else if (in->op == 0x5b) {
		fn = cvt_5b[pfx];
	} else {
		fn = cvt_e6[pfx];
		size = pfx == SSE_F3 ? 8 : 16; /* CVTDQ2PD reads m64 */
	}
	sse_check(cpu, X86_FEATURE_SSE2);
	sse_read_rm(cpu, in, &s, size, false);
	sse_get_xmm(cpu, in->reg, &d);
	sse_mxcsr_commit(cpu, fn(&d, &s, sse_host_csr(cpu)));
	sse_set_xmm(cpu, in->reg, &d);
}

/* F3/F2 0F 2A: CVTSI2SS/CVTSI2SD xmm, r/m32 (r/m64 with REX.W). */
static void cvtsi2s(struct cpu *cpu, const struct insn *in, bool sd)
{
	union vec d;
	unsigned size = in->opsize == 8 ? 8 : 4;
	sse_check(cpu, sd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	u64 g = cpu_rm_read(cpu, in, size);
	sse_get_xmm(cpu, in->reg, &d);
	u32 csr = sse_host_csr(cpu), out;
	if (sd)
		out = size == 8 ? h_cvtsi2sd64(&d, g, csr) : h_cvtsi2sd32(&d, g, csr);
	else
		out = size == 8 ? h_cvtsi2ss64(&d, g, csr) : h_cvtsi2ss32(&d, g, csr);
	sse_mxcsr_commit(cpu, out);
	sse_set_xmm(cpu, in->reg, &d);
}

/* NP/66 0F 2A: CVTPI2PS xmm, mm/m64 (low half only) / CVTPI2PD xmm, mm/m64.
 * An MMX register source switches the x87 unit to MMX mode. */
static void cvtpi2p(struct cpu *cpu, const struct insn *in, bool pd)
{
	union vec d, s = { .q = { 0, 0 } }, r;
	sse_check(cpu, pd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	if (!(in->flags & IF_MEM))
		fpu_check_pending(cpu);
	s.q[0] = mmx_read_rm(cpu, in);
	sse_get_xmm(cpu, in->reg, &d);
	r = d;
	sse_mxcsr_commit(cpu, (pd ? h_cvtdq2pd : h_cvtdq2ps)(&r, &s, sse_host_csr(cpu)));
	if (pd)
		d = r;
	else
		d.q[0] = r.q[0];
	sse_set_xmm(cpu, in->reg, &d);
	if (!(in->flags & IF_MEM))
		mmx_enter(cpu);
}

void op_sse_cvt_2a(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	if (pfx >= SSE_F3)
		cvtsi2s(cpu, in, pfx == SSE_F2);
	else
		cvtpi2p(cpu, in, pfx == SSE_66);
}

/* F3/F2 0F 2C/2D: CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m. Out of range
 * and NaN give the integer indefinite with #I (host behaviour). */
static void cvts2si(struct cpu *cpu, const struct insn *in, bool sd)
{
	static const u8 idx[2][2] = { { 0, 1 }, { 2, 3 } };
	static u32 (*const fns[2][4])(const union vec *, u32, u64 *) = {
		{ h_cvttss2si32, h_cvttss2si64, h_cvtss2si32, h_cvtss2si64 },
		{ h_cvttsd2si32, h_cvttsd2si64, h_cvtsd2si32, h_cvtsd2si64 },
	};
	union vec s;
	u64 r;
	bool w = in->opsize == 8;
	sse_check(cpu, sd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, sd ? 8 : 4, false);
	unsigned k = idx[in->op == 0x2d][w];
	sse_mxcsr_commit(cpu, fns[sd][k](&s, sse_host_csr(cpu), &r));
	cpu_set_reg(cpu, in->reg, w ? 8 : 4, false, r);
}

/* NP/66 0F 2C/2D: CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128. */
static void cvtp2pi(struct cpu *cpu, const struct insn *in, bool pd)
{
	union vec d = { .q = { 0, 0 } }, s;
	bool trunc = in->op == 0x2c;
	sse_check(cpu, pd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	fpu_check_pending(cpu);
	sse_read_rm(cpu, in, &s, pd ? 16 : 8, false);
	if (!pd)
		s.q[1] = 0; /* lanes 2, 3 convert 0.0: exact, no flags */
	sse_host_fn fn = pd ? (trunc ? h_cvttpd2dq : h_cvtpd2dq) : (trunc ? h_cvttps2dq : h_cvtps2dq);
	sse_mxcsr_commit(cpu, fn(&d, &s, sse_host_csr(cpu)));
	mmx_set(cpu, in->reg, d.q[0]);
}

void op_sse_cvt_2c(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	if (pfx >= SSE_F3)
		cvts2si(cpu, in, pfx == SSE_F2);
	else
		cvtp2pi(cpu, in, pfx == SSE_66);
}
