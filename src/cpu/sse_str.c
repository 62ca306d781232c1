/* sse_str.c: SSE4.2 PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM and CRC32 (SDM Vol. 2 ch. 4.1, CRC32). */
#include "sse.h"

#include <string.h>

#include "ops.h"

/* imm8 fields (SDM Vol. 2 4.1.1..4.1.6). */
#define STR_WORDS 0x01
#define STR_SIGNED 0x02
#define STR_AGG(imm) (((imm) >> 2) & 3)
enum { AGG_EQ_ANY, AGG_RANGES, AGG_EQ_EACH, AGG_EQ_ORDERED };
#define STR_POL(imm) (((imm) >> 4) & 3)
#define STR_MSB 0x40

static s32 elem(const union vec *v, unsigned imm, unsigned i)
{
	switch (imm & 3) {
	case 0: return v->b[i];
	case 1: return v->w[i];
	case 2: return v->sb[i];
	default: return v->sw[i];
	}
}

/* Implicit length: index of the first zero element. */
static unsigned implicit_len(const union vec *v, unsigned imm, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!elem(v, imm, i))
			return i;
	return n;
}

/* Explicit length: |EAX| or |EDX| (RAX/RDX with REX.W) saturated to n. */
static unsigned explicit_len(u64 r, bool w, unsigned n)
{
	s64 v = w ? (s64)r : (s32)r;
	if (v < 0)
		v = v < -(s64)n ? (s64)n : -v;
	return v > (s64)n ? n : (unsigned)v;
}

/* BoolRes with the overrides for invalid elements (SDM Table 4-7). j
 * indexes the first operand (register), i the second (r/m). */
static bool boolres(const union vec *a, const union vec *b, unsigned imm, unsigned j,
		    unsigned i, unsigned la, unsigned lb)
{
	bool va = j < la, vb = i < lb;
	unsigned agg = STR_AGG(imm);
	if (!va || !vb) {
		if (agg == AGG_EQ_EACH)
			return !va && !vb;
		if (agg == AGG_EQ_ORDERED)
			return !va;
		return false;
	}
	if (agg == AGG_RANGES)
		return (j & 1) ? elem(b, imm, i) <= elem(a, imm, j) : elem(b, imm, i) >= elem(a, imm, j);
	return elem(a, imm, j) == elem(b, imm, i);
}

static u32 intres1(const union vec *a, const union vec *b, unsigned imm, unsigned n,
		   unsigned la, unsigned lb)
{
	u32 r = 0;
	for (unsigned i = 0; i < n; i++) {
		bool bit = false;
		switch (STR_AGG(imm)) {
		case AGG_EQ_ANY:
			for (unsigned j = 0; j < n && !bit; j++)
				bit = boolres(a, b, imm, j, i, la, lb);
			break;
		case AGG_RANGES:
			for (unsigned j = 0; j + 1 < n && !bit; j += 2)
				bit = boolres(a, b, imm, j, i, la, lb) &&
				      boolres(a, b, imm, j + 1, i, la, lb);
			break;
		case AGG_EQ_EACH:
			bit = boolres(a, b, imm, i, i, la, lb);
			break;
		default:
			bit = true;
			for (unsigned k = 0; k < n - i && bit; k++)
				bit = boolres(a, b, imm, k, i + k, la, lb);
			break;
		}
		r |= (u32)bit << i;
	}
	return r;
}

/* 66 0F 3A 60 PCMPESTRM, 61 PCMPESTRI, 62 PCMPISTRM, 63 PCMPISTRI. The
 * memory operand need not be aligned. */
void op_sse_pcmpstr(struct cpu *cpu, const struct insn *in)
{
	unsigned imm = in->imm & 0xff, n = (imm & STR_WORDS) ? 8 : 16;
	bool explicit = in->op < 0x62, index = in->op & 1, w = in->opsize == 8;
	union vec a, b;
	unsigned la, lb;
	sse_check(cpu, X86_FEATURE_SSE42);
	sse_read_rm(cpu, in, &b, 16, true);
	sse_get_xmm(cpu, in->reg, &a);
	if (explicit) {
		la = explicit_len(cpu->r[R_AX], w, n);
		lb = explicit_len(cpu->r[R_DX], w, n);
	} else {
		la = implicit_len(&a, imm, n);
		lb = implicit_len(&b, imm, n);
	}
	u32 mask = (1u << n) - 1, r = intres1(&a, &b, imm, n, la, lb);
	switch (STR_POL(imm)) {
	case 1: r ^= mask; break;
	case 3: r ^= mask & ((1u << lb) - 1); break;
	default: break;
	}
	if (index) {
		unsigned idx = n;
		if (r)
			idx = (imm & STR_MSB) ? 31 - (unsigned)__builtin_clz(r) : (unsigned)__builtin_ctz(r);
		cpu_set_reg(cpu, R_CX, 4, false, idx);
	} else {
		union vec m = { .q = { 0, 0 } };
		if (!(imm & STR_MSB))
			m.d[0] = r;
		for (unsigned i = 0; (imm & STR_MSB) && i < n; i++)
			if ((r >> i) & 1)
				memset(m.b + i * (16 / n), 0xff, 16 / n);
		sse_set_xmm(cpu, 0, &m);
	}
	cpu_flags_materialize(cpu);
	cpu->eflags &= ~X86_EFLAGS_ARITH;
	cpu->eflags |= (r ? X86_EFLAGS_CF : 0) | (lb < n ? X86_EFLAGS_ZF : 0) |
		       (la < n ? X86_EFLAGS_SF : 0) | ((r & 1) ? X86_EFLAGS_OF : 0);
}

/* F2 0F 38 F0 CRC32 r32/r64, r/m8; F2 0F 38 F1 CRC32 r32/r64, r/m16/32/64:
 * CRC-32C (polynomial 0x11EDC6F41), bit-reflected, no final inversion.
 * Not an SSE instruction: only CPUID.SSE4_2 gates it. */
void op_crc32(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_SSE42))
		cpu_ud(cpu);
	unsigned size = in->op == 0xf0 ? 1 : in->opsize;
	u64 src = cpu_rm_read(cpu, in, size);
	u32 crc = (u32)cpu->r[in->reg];
	for (unsigned i = 0; i < size; i++) {
		crc ^= (u8)(src >> (8 * i));
		for (unsigned k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	cpu_set_reg(cpu, in->reg, 4, false, crc); /* r64 form: zero-extended too */
}
