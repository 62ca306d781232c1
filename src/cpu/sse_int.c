/* sse_int.c: MMX/SSE2/SSSE3/SSE4.1 packed integer arithmetic, compares, shifts, packs and blends. */
#include "sse.h"

#include <string.h>

#include "ops.h"

typedef void (*vec_fn)(union vec *d, const union vec *s, unsigned len);

static int sat_s8(int v) { return v > 127 ? 127 : v < -128 ? -128 : v; }
static int sat_u8(int v) { return v > 255 ? 255 : v < 0 ? 0 : v; }
static int sat_s16(int v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
static int sat_u16(s64 v) { return v > 65535 ? 65535 : v < 0 ? 0 : (int)v; }

/* One element-wise operation: d.F[i] = expr(a = d.F[i], b = s.F[i]). */
#define EW(name, F, expr)                                                                    \
	static void name(union vec *d, const union vec *s, unsigned len)                     \
	{                                                                                    \
		for (unsigned i = 0; i < len / sizeof(d->F[0]); i++) {                       \
			__typeof__(d->F[0]) a = d->F[i], b = s->F[i];                        \
			(void)a;                                                             \
			(void)b;                                                             \
			d->F[i] = (__typeof__(d->F[0]))(expr);                               \
		}                                                                            \
	}

EW(padd_b, b, a + b)
EW(padd_w, w, a + b)
EW(padd_d, d, a + b)
EW(padd_q, q, a + b)
EW(psub_b, b, a - b)
EW(psub_w, w, a - b)
EW(psub_d, d, a - b)
EW(psub_q, q, a - b)
EW(padds_b, sb, sat_s8(a + b))
EW(padds_w, sw, sat_s16(a + b))
EW(paddus_b, b, sat_u8(a + b))
EW(paddus_w, w, sat_u16(a + b))
EW(psubs_b, sb, sat_s8(a - b))
EW(psubs_w, sw, sat_s16(a - b))
EW(psubus_b, b, sat_u8(a - b))
EW(psubus_w, w, sat_u16(a - b))
EW(pcmpeq_b, b, -(a == b))
EW(pcmpeq_w, w, -(a == b))
EW(pcmpeq_d, d, -(u32)(a == b))
EW(pcmpeq_q, q, -(u64)(a == b))
EW(pcmpgt_b, sb, -(a > b))
EW(pcmpgt_w, sw, -(a > b))
EW(pcmpgt_d, sd, -(a > b))
EW(pcmpgt_q, sq, -(s64)(a > b))
EW(pand, q, a & b)
EW(pandn, q, ~a & b)
EW(por, q, a | b)
EW(pxor, q, a ^ b)
EW(pmullw, sw, a * b)
EW(pmulhw, sw, (a * b) >> 16)
EW(pmulhuw, w, ((u32)a * b) >> 16)
EW(pmulld, d, a * b)
EW(pmulhrsw, sw, (((a * b) >> 14) + 1) >> 1)
EW(pminub, b, a < b ? a : b)
EW(pmaxub, b, a > b ? a : b)
EW(pminuw, w, a < b ? a : b)
EW(pmaxuw, w, a > b ? a : b)
EW(pminud, d, a < b ? a : b)
EW(pmaxud, d, a > b ? a : b)
EW(pminsb, sb, a < b ? a : b)
EW(pmaxsb, sb, a > b ? a : b)
EW(pminsw, sw, a < b ? a : b)
EW(pmaxsw, sw, a > b ? a : b)
EW(pminsd, sd, a < b ? a : b)
EW(pmaxsd, sd, a > b ? a : b)
EW(pavgb, b, (a + b + 1) >> 1)
EW(pavgw, w, (a + b + 1) >> 1)
EW(psign_b, sb, b < 0 ? -a : b ? a : 0)
EW(psign_w, sw, b < 0 ? -a : b ? a : 0)
EW(psign_d, sd, b < 0 ? -(u32)a : b ? (u32)a : 0)
EW(pabs_b, sb, b < 0 ? -b : b)
EW(pabs_w, sw, b < 0 ? -b : b)
EW(pabs_d, sd, b < 0 ? -(u32)b : (u32)b)

static void pmuludq(union vec *d, const union vec *s, unsigned len)
{
	for (unsigned i = 0; i < len / 8; i++)
		d->q[i] = (u64)d->d[2 * i] * s->d[2 * i];
}

static void pmuldq(union vec *d, const union vec *s, unsigned len)
{
	for (unsigned i = 0; i < len / 8; i++)
		d->sq[i] = (s64)d->sd[2 * i] * s->sd[2 * i];
}

static void pmaddwd(union vec *d, const union vec *s, unsigned len)
{
	for (unsigned i = 0; i < len / 4; i++)
		d->d[i] = (u32)(d->sw[2 * i] * s->sw[2 * i]) + (u32)(d->sw[2 * i + 1] * s->sw[2 * i + 1]);
}

/* PMADDUBSW: unsigned bytes of the destination times signed bytes of the source. */
static void pmaddubsw(union vec *d, const union vec *s, unsigned len)
{
	for (unsigned i = 0; i < len / 2; i++)
		d->sw[i] = (s16)sat_s16(d->b[2 * i] * s->sb[2 * i] + d->b[2 * i + 1] * s->sb[2 * i + 1]);
}

static void psadbw(union vec *d, const union vec *s, unsigned len)
{
	for (unsigned g = 0; g < len / 8; g++) {
		unsigned sum = 0;
		for (unsigned i = 8 * g; i < 8 * g + 8; i++)
			sum += d->b[i] > s->b[i] ? d->b[i] - s->b[i] : s->b[i] - d->b[i];
		d->q[g] = sum;
	}
}

static void pshufb(union vec *d, const union vec *s, unsigned len)
{
	union vec a = *d;
	for (unsigned i = 0; i < len; i++)
		d->b[i] = (s->b[i] & 0x80) ? 0 : a.b[s->b[i] & (len - 1)];
}

/* PHMINPOSUW: minimum unsigned word of the source and its index. */
static void phminposuw(union vec *d, const union vec *s, unsigned len)
{
	unsigned idx = 0;
	(void)len;
	for (unsigned i = 1; i < 8; i++)
		if (s->w[i] < s->w[idx])
			idx = i;
	u16 min = s->w[idx];
	memset(d, 0, sizeof(*d));
	d->w[0] = min;
	d->w[1] = (u16)idx;
}

/* ---- unpack, pack, horizontal ---- */

static void unpack(union vec *d, const union vec *s, unsigned len, unsigned es, bool high)
{
	union vec r;
	unsigned base = high ? len / 2 : 0;
	for (unsigned i = 0; i < len / (2 * es); i++) {
		memcpy(r.b + 2 * i * es, d->b + base + i * es, es);
		memcpy(r.b + (2 * i + 1) * es, s->b + base + i * es, es);
	}
	memcpy(d->b, r.b, len);
}

#define UNPACK(name, es, high)                                                               \
	static void name(union vec *d, const union vec *s, unsigned len)                     \
	{                                                                                    \
		unpack(d, s, len, es, high);                                                 \
	}
UNPACK(punpcklbw, 1, false)
UNPACK(punpcklwd, 2, false)
UNPACK(punpckldq, 4, false)
UNPACK(punpcklqdq, 8, false)
UNPACK(punpckhbw, 1, true)
UNPACK(punpckhwd, 2, true)
UNPACK(punpckhdq, 4, true)
UNPACK(punpckhqdq, 8, true)

/* Narrow every element of d, then of s, with saturation (SDM PACKSSWB...). */
enum { PK_SSWB, PK_USWB, PK_SSDW, PK_USDW };
static void pack(union vec *d, const union vec *s, unsigned len, int kind)
{
	union vec r;
	bool words = kind == PK_SSWB || kind == PK_USWB;
	unsigned n = words ? len / 2 : len / 4;
	for (unsigned i = 0; i < 2 * n; i++) {
		const union vec *src = i < n ? d : s;
		unsigned k = i % n;
		switch (kind) {
		case PK_SSWB: r.sb[i] = (s8)sat_s8(src->sw[k]); break;
		case PK_USWB: r.b[i] = (u8)sat_u8(src->sw[k]); break;
		case PK_SSDW: r.sw[i] = (s16)(src->sd[k] > 32767 ? 32767 : src->sd[k] < -32768 ? -32768 : src->sd[k]); break;
		default: r.w[i] = (u16)sat_u16(src->sd[k]); break;
		}
	}
	memcpy(d->b, r.b, len);
}

#define PACK(name, kind)                                                                     \
	static void name(union vec *d, const union vec *s, unsigned len)                     \
	{                                                                                    \
		pack(d, s, len, kind);                                                       \
	}
PACK(packsswb, PK_SSWB)
PACK(packuswb, PK_USWB)
PACK(packssdw, PK_SSDW)
PACK(packusdw, PK_USDW)

/* PHADD/PHSUB: pairs of d fill the low half, pairs of s the high half. */
enum { H_ADDW, H_ADDD, H_ADDSW, H_SUBW, H_SUBD, H_SUBSW };
static void hop(union vec *d, const union vec *s, unsigned len, int kind)
{
	union vec r;
	bool dw = kind == H_ADDD || kind == H_SUBD;
	unsigned n = len / (dw ? 4 : 2) / 2;
	for (unsigned i = 0; i < 2 * n; i++) {
		const union vec *src = i < n ? d : s;
		unsigned k = 2 * (i % n);
		s64 a = dw ? src->sd[k] : src->sw[k], b = dw ? src->sd[k + 1] : src->sw[k + 1];
		s64 v = kind >= H_SUBW ? a - b : a + b;
		if (dw)
			r.d[i] = (u32)v;
		else
			r.sw[i] = (s16)(kind == H_ADDSW || kind == H_SUBSW ? sat_s16((int)v) : v);
	}
	memcpy(d->b, r.b, len);
}

#define HOP(name, kind)                                                                      \
	static void name(union vec *d, const union vec *s, unsigned len)                     \
	{                                                                                    \
		hop(d, s, len, kind);                                                        \
	}
HOP(phaddw, H_ADDW)
HOP(phaddd, H_ADDD)
HOP(phaddsw, H_ADDSW)
HOP(phsubw, H_SUBW)
HOP(phsubd, H_SUBD)
HOP(phsubsw, H_SUBSW)

/* ---- shifts ---- */

enum { SH_LL, SH_RL, SH_RA };
static void shift(union vec *d, u64 count, unsigned len, unsigned es, int kind)
{
	unsigned width = 8 * es;
	for (unsigned off = 0; off < len; off += es) {
		u64 v = load_le(d->b + off, es);
		if (kind == SH_RA) {
			s64 sv = (s64)(v << (64 - width)) >> (64 - width);
			v = (u64)(sv >> (count >= width ? width - 1 : count));
		} else if (count >= width) {
			v = 0;
		} else {
			v = kind == SH_LL ? v << count : v >> count;
		}
		store_le(d->b + off, es, v);
	}
}

#define SHIFT(name, es, kind)                                                                \
	static void name(union vec *d, const union vec *s, unsigned len)                     \
	{                                                                                    \
		shift(d, s->q[0], len, es, kind);                                            \
	}
SHIFT(psllw, 2, SH_LL)
SHIFT(pslld, 4, SH_LL)
SHIFT(psllq, 8, SH_LL)
SHIFT(psrlw, 2, SH_RL)
SHIFT(psrld, 4, SH_RL)
SHIFT(psrlq, 8, SH_RL)
SHIFT(psraw, 2, SH_RA)
SHIFT(psrad, 4, SH_RA)

/* ---- the table ---- */

#define F_SSE X86_FEATURE_SSE
#define F_SSE2 X86_FEATURE_SSE2
#define F_SSSE3 X86_FEATURE_SSSE3
#define F_SSE41 X86_FEATURE_SSE41
#define F_SSE42 X86_FEATURE_SSE42
#define NONE SSE_NO_FEATURE

/* fn, CPUID feature of the MMX (NP) form, of the XMM (66) form. */
struct pint {
	vec_fn fn;
	s16 mmx_feat, xmm_feat;
};
#define MX(fn) { fn, NONE, F_SSE2 }         /* MMX original, SSE2 XMM form */
#define MS(fn) { fn, F_SSE, F_SSE2 }        /* MMX form added by SSE */
#define M2(fn) { fn, F_SSE2, F_SSE2 }       /* MMX form added by SSE2 */
#define S3(fn) { fn, F_SSSE3, F_SSSE3 }
#define S41(fn) { fn, NONE, F_SSE41 }
static const struct pint pint_0f[256] = {
	[0x60] = MX(punpcklbw), [0x61] = MX(punpcklwd), [0x62] = MX(punpckldq),
	[0x63] = MX(packsswb), [0x64] = MX(pcmpgt_b), [0x65] = MX(pcmpgt_w),
	[0x66] = MX(pcmpgt_d), [0x67] = MX(packuswb), [0x68] = MX(punpckhbw),
	[0x69] = MX(punpckhwd), [0x6a] = MX(punpckhdq), [0x6b] = MX(packssdw),
	[0x6c] = MX(punpcklqdq), [0x6d] = MX(punpckhqdq),
	[0x74] = MX(pcmpeq_b), [0x75] = MX(pcmpeq_w), [0x76] = MX(pcmpeq_d),
	[0xd1] = MX(psrlw), [0xd2] = MX(psrld), [0xd3] = MX(psrlq), [0xd4] = M2(padd_q),
	[0xd5] = MX(pmullw), [0xd8] = MX(psubus_b), [0xd9] = MX(psubus_w),
	[0xda] = MS(pminub), [0xdb] = MX(pand), [0xdc] = MX(paddus_b), [0xdd] = MX(paddus_w),
	[0xde] = MS(pmaxub), [0xdf] = MX(pandn),
	[0xe0] = MS(pavgb), [0xe1] = MX(psraw), [0xe2] = MX(psrad), [0xe3] = MS(pavgw),
	[0xe4] = MS(pmulhuw), [0xe5] = MX(pmulhw), [0xe8] = MX(psubs_b), [0xe9] = MX(psubs_w),
	[0xea] = MS(pminsw), [0xeb] = MX(por), [0xec] = MX(padds_b), [0xed] = MX(padds_w),
	[0xee] = MS(pmaxsw), [0xef] = MX(pxor),
	[0xf1] = MX(psllw), [0xf2] = MX(pslld), [0xf3] = MX(psllq), [0xf4] = M2(pmuludq),
	[0xf5] = MX(pmaddwd), [0xf6] = MS(psadbw), [0xf8] = MX(psub_b), [0xf9] = MX(psub_w),
	[0xfa] = MX(psub_d), [0xfb] = M2(psub_q), [0xfc] = MX(padd_b), [0xfd] = MX(padd_w),
	[0xfe] = MX(padd_d),
};
static const struct pint pint_0f38[256] = {
	[0x00] = S3(pshufb), [0x01] = S3(phaddw), [0x02] = S3(phaddd), [0x03] = S3(phaddsw),
	[0x04] = S3(pmaddubsw), [0x05] = S3(phsubw), [0x06] = S3(phsubd), [0x07] = S3(phsubsw),
	[0x08] = S3(psign_b), [0x09] = S3(psign_w), [0x0a] = S3(psign_d), [0x0b] = S3(pmulhrsw),
	[0x1c] = S3(pabs_b), [0x1d] = S3(pabs_w), [0x1e] = S3(pabs_d),
	[0x28] = S41(pmuldq), [0x29] = S41(pcmpeq_q), [0x2b] = S41(packusdw),
	[0x37] = { pcmpgt_q, NONE, F_SSE42 },
	[0x38] = S41(pminsb), [0x39] = S41(pminsd), [0x3a] = S41(pminuw), [0x3b] = S41(pminud),
	[0x3c] = S41(pmaxsb), [0x3d] = S41(pmaxsd), [0x3e] = S41(pmaxuw), [0x3f] = S41(pmaxud),
	[0x40] = S41(pmulld), [0x41] = S41(phminposuw),
};

/* Every "dst = f(dst, src)" integer instruction of maps 0F and 0F38: NP
 * selects the MMX form, 66 the XMM form (the table routes no others). */
void op_sse_pint(struct cpu *cpu, const struct insn *in)
{
	const struct pint *p = in->map == 1 ? &pint_0f[in->op] : &pint_0f38[in->op];
	union vec d, s;
	if (sse_pfx(in) == SSE_NP) {
		if (p->mmx_feat != NONE && !cpu_has_feature(cpu, p->mmx_feat))
			cpu_ud(cpu);
		mmx_check(cpu);
		s.q[0] = mmx_read_rm(cpu, in);
		d.q[0] = mmx_get(cpu, in->reg);
		p->fn(&d, &s, 8);
		mmx_set(cpu, in->reg, d.q[0]);
		return;
	}
	sse_check(cpu, p->xmm_feat);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	p->fn(&d, &s, 16);
	sse_set_xmm(cpu, in->reg, &d);
}

/* 0F 71/72/73 (register forms): shifts by imm8 of MM(rm) or XMM(rm);
 * 66 0F 73 /3 PSRLDQ and /7 PSLLDQ shift the whole register by bytes. */
void op_sse_shift_imm(struct cpu *cpu, const struct insn *in)
{
	static const u8 kinds[8] = { [2] = SH_RL, [4] = SH_RA, [6] = SH_LL };
	unsigned reg = (in->modrm >> 3) & 7, es = in->op == 0x71 ? 2 : in->op == 0x72 ? 4 : 8;
	union vec d;
	if (sse_pfx(in) == SSE_NP) {
		mmx_check(cpu);
		d.q[0] = mmx_get(cpu, in->rm);
		shift(&d, in->imm & 0xff, 8, es, kinds[reg]);
		mmx_set(cpu, in->rm, d.q[0]);
		return;
	}
	sse_check(cpu, F_SSE2);
	sse_get_xmm(cpu, in->rm, &d);
	if (reg == 3 || reg == 7) {
		unsigned n = in->imm > 16 ? 16 : (unsigned)in->imm;
		union vec r = { .q = { 0, 0 } };
		if (reg == 3)
			memcpy(r.b, d.b + n, 16 - n);
		else
			memcpy(r.b + n, d.b, 16 - n);
		d = r;
	} else {
		shift(&d, in->imm & 0xff, 16, es, kinds[reg]);
	}
	sse_set_xmm(cpu, in->rm, &d);
}

/* 0F 3A 0F: PALIGNR (NP: MMX, 66: XMM): the byte-concatenation
 * dst:src shifted right by imm8 bytes. */
void op_sse_palignr(struct cpu *cpu, const struct insn *in)
{
	u8 cat[64] = { 0 };
	unsigned imm = in->imm & 0xff;
	union vec d, s;
	bool mmx = sse_pfx(in) == SSE_NP;
	unsigned len = mmx ? 8 : 16;
	if (mmx) {
		if (!cpu_has_feature(cpu, F_SSSE3))
			cpu_ud(cpu);
		mmx_check(cpu);
		s.q[0] = mmx_read_rm(cpu, in);
		d.q[0] = mmx_get(cpu, in->reg);
	} else {
		sse_check(cpu, F_SSSE3);
		sse_read_rm(cpu, in, &s, 16, false);
		sse_get_xmm(cpu, in->reg, &d);
	}
	memcpy(cat, s.b, len);
	memcpy(cat + len, d.b, len);
	for (unsigned i = 0; i < len; i++)
		d.b[i] = imm + i < 2 * len ? cat[imm + i] : 0;
	if (mmx)
		mmx_set(cpu, in->reg, d.q[0]);
	else
		sse_set_xmm(cpu, in->reg, &d);
}

/* 66 0F 3A 0C BLENDPS, 0D BLENDPD, 0E PBLENDW: imm8 selects source elements;
 * 66 0F 38 10 PBLENDVB, 14 BLENDVPS, 15 BLENDVPD: the sign bits of XMM0
 * select (SDM Vol. 2). Blends copy bits and raise no FP exceptions. */
void op_sse_blend(struct cpu *cpu, const struct insn *in)
{
	union vec d, s, m;
	unsigned es;
	sse_check(cpu, F_SSE41);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	sse_get_xmm(cpu, 0, &m);
	switch (in->map == 3 ? in->op : in->op + 0x100) {
	case 0x0c: es = 4; break;
	case 0x0d: es = 8; break;
	case 0x0e: es = 2; break;
	case 0x110: es = 1; break;
	case 0x114: es = 4; break;
	default: es = 8; break;
	}
	for (unsigned i = 0; i < 16 / es; i++) {
		bool take = in->map == 3 ? (in->imm >> i) & 1 : m.b[i * es + es - 1] >> 7;
		if (take)
			memcpy(d.b + i * es, s.b + i * es, es);
	}
	sse_set_xmm(cpu, in->reg, &d);
}

/* 66 0F 3A 42: MPSADBW xmm, xmm/m128, imm8 (SDM Vol. 2 MPSADBW). */
void op_sse_mpsadbw(struct cpu *cpu, const struct insn *in)
{
	union vec d, s, r;
	sse_check(cpu, F_SSE41);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	unsigned doff = ((in->imm >> 2) & 1) * 4, soff = (in->imm & 3) * 4;
	for (unsigned i = 0; i < 8; i++) {
		unsigned sum = 0;
		for (unsigned k = 0; k < 4; k++) {
			int a = d.b[doff + i + k], b = s.b[soff + k];
			sum += (unsigned)(a > b ? a - b : b - a);
		}
		r.w[i] = (u16)sum;
	}
	sse_set_xmm(cpu, in->reg, &r);
}

/* 66 0F 38 17: PTEST sets ZF = (dst & src) == 0, CF = (~dst & src) == 0,
 * and clears OF, SF, AF, PF. */
void op_sse_ptest(struct cpu *cpu, const struct insn *in)
{
	union vec d, s;
	sse_check(cpu, F_SSE41);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	cpu_flags_materialize(cpu);
	cpu->eflags &= ~X86_EFLAGS_ARITH;
	if (!((d.q[0] & s.q[0]) | (d.q[1] & s.q[1])))
		cpu->eflags |= X86_EFLAGS_ZF;
	if (!((~d.q[0] & s.q[0]) | (~d.q[1] & s.q[1])))
		cpu->eflags |= X86_EFLAGS_CF;
}

/* 66 0F 38 20..25 PMOVSX, 30..35 PMOVZX: widen the low elements of the
 * source (memory: only the bytes needed, unaligned). */
void op_sse_pmovx(struct cpu *cpu, const struct insn *in)
{
	static const u8 from[6] = { 1, 1, 1, 2, 2, 4 }, to[6] = { 2, 4, 8, 4, 8, 8 };
	unsigned k = in->op & 0xf, fs = from[k], ts = to[k];
	bool sx = in->op < 0x30;
	union vec s, r;
	sse_check(cpu, F_SSE41);
	sse_read_rm(cpu, in, &s, 16 / ts * fs, true);
	for (unsigned i = 0; i < 16 / ts; i++) {
		u64 v = load_le(s.b + i * fs, fs);
		if (sx)
			v = (u64)((s64)(v << (64 - 8 * fs)) >> (64 - 8 * fs));
		store_le(r.b + i * ts, ts, v);
	}
	sse_set_xmm(cpu, in->reg, &r);
}
