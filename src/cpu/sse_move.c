/* sse_move.c: SSE/SSE2/SSE3/SSE4.1 data movement: loads, stores, MOVD/MOVQ, shuffles, inserts and extracts. */
#include "sse.h"

#include <string.h>

#include "ops.h"

static bool is_store(const struct insn *in)
{
	switch (in->op) {
	case 0x11: case 0x29: case 0x2b: case 0x7f: case 0xe7:
		return in->map == 1;
	default:
		return false;
	}
}

/* Feature of a full-register move by opcode and prefix. */
static int move_feature(const struct insn *in)
{
	if (in->map == 2)
		return X86_FEATURE_SSE41; /* MOVNTDQA */
	if (in->op == 0xf0)
		return X86_FEATURE_SSE3;  /* LDDQU */
	return sse_pfx(in) == SSE_NP ? X86_FEATURE_SSE : X86_FEATURE_SSE2;
}

/* MOVSS/MOVSD: register forms merge the low element; a load from memory
 * zero-extends it (SDM Vol. 2 MOVSS). */
static void movs(struct cpu *cpu, const struct insn *in, unsigned size)
{
	union vec d, s;
	if (in->op == 0x11) {
		sse_get_xmm(cpu, in->reg, &s);
		if (in->flags & IF_MEM) {
			cpu_mem_write(cpu, in, size, s.q[0]);
			return;
		}
		sse_get_xmm(cpu, in->rm, &d);
		memcpy(d.b, s.b, size);
		sse_set_xmm(cpu, in->rm, &d);
		return;
	}
	sse_read_rm(cpu, in, &s, size, true);
	if (in->flags & IF_MEM) {
		sse_set_xmm(cpu, in->reg, &s);
		return;
	}
	sse_get_xmm(cpu, in->reg, &d);
	memcpy(d.b, s.b, size);
	sse_set_xmm(cpu, in->reg, &d);
}

/* Full 128-bit moves: MOVUPS/MOVUPD/MOVAPS/MOVAPD/MOVDQA/MOVDQU, LDDQU,
 * MOVNTPS/MOVNTPD/MOVNTDQ/MOVNTDQA, and MOVSS/MOVSD (F3/F2 0F 10/11). */
void op_sse_mov(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	union vec v;
	if (in->map == 1 && (in->op == 0x10 || in->op == 0x11) && pfx >= SSE_F3) {
		sse_check(cpu, pfx == SSE_F3 ? X86_FEATURE_SSE : X86_FEATURE_SSE2);
		movs(cpu, in, pfx == SSE_F3 ? 4 : 8);
		return;
	}
	bool unaligned = in->map == 1 && (in->op == 0x10 || in->op == 0x11 || in->op == 0xf0 ||
					  ((in->op == 0x6f || in->op == 0x7f) && pfx == SSE_F3));
	sse_check(cpu, move_feature(in));
	if (is_store(in)) {
		sse_get_xmm(cpu, in->reg, &v);
		sse_write_rm(cpu, in, &v, 16, unaligned);
	} else {
		sse_read_rm(cpu, in, &v, 16, unaligned);
		sse_set_xmm(cpu, in->reg, &v);
	}
}

/* 0F 12/13/16/17: MOVLPS/MOVLPD/MOVHPS/MOVHPD (memory), MOVHLPS/MOVLHPS
 * (NP register forms); F3 0F 12/16 MOVSLDUP/MOVSHDUP, F2 0F 12 MOVDDUP. */
void op_sse_movhl(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in), hi = (in->op >> 2) & 1;
	union vec d, s;
	if (pfx >= SSE_F3) {
		sse_check(cpu, X86_FEATURE_SSE3);
		sse_read_rm(cpu, in, &s, pfx == SSE_F2 ? 8 : 16, false);
		if (pfx == SSE_F2) {
			d.q[0] = d.q[1] = s.q[0];
		} else {
			for (unsigned i = 0; i < 4; i++)
				d.d[i] = s.d[(i & ~1u) + hi];
		}
		sse_set_xmm(cpu, in->reg, &d);
		return;
	}
	sse_check(cpu, pfx == SSE_NP ? X86_FEATURE_SSE : X86_FEATURE_SSE2);
	sse_get_xmm(cpu, in->reg, &d);
	if (in->op & 1) { /* store the low or high quadword */
		cpu_mem_write(cpu, in, 8, d.q[hi]);
		return;
	}
	if (in->flags & IF_MEM) {
		d.q[hi] = cpu_mem_read(cpu, in, 8);
	} else {
		sse_get_xmm(cpu, in->rm, &s);
		d.q[hi] = s.q[!hi]; /* MOVHLPS: low = src high; MOVLHPS: high = src low */
	}
	sse_set_xmm(cpu, in->reg, &d);
}

/* 0F 14/15: UNPCKLPS/UNPCKHPS (NP), UNPCKLPD/UNPCKHPD (66). */
void op_sse_unpckp(struct cpu *cpu, const struct insn *in)
{
	bool pd = sse_pfx(in) == SSE_66, high = in->op & 1;
	union vec d, s, r;
	sse_check(cpu, pd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	if (pd) {
		r.q[0] = d.q[high];
		r.q[1] = s.q[high];
	} else {
		unsigned b = high ? 2 : 0;
		r.d[0] = d.d[b];
		r.d[1] = s.d[b];
		r.d[2] = d.d[b + 1];
		r.d[3] = s.d[b + 1];
	}
	sse_set_xmm(cpu, in->reg, &r);
}

/* 0F 54..57: ANDPS ANDNPS ORPS XORPS (NP) and the PD forms (66). */
void op_sse_logicp(struct cpu *cpu, const struct insn *in)
{
	union vec d, s;
	sse_check(cpu, sse_pfx(in) == SSE_66 ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	for (unsigned i = 0; i < 2; i++) {
		switch (in->op) {
		case 0x54: d.q[i] &= s.q[i]; break;
		case 0x55: d.q[i] = ~d.q[i] & s.q[i]; break;
		case 0x56: d.q[i] |= s.q[i]; break;
		default: d.q[i] ^= s.q[i]; break;
		}
	}
	sse_set_xmm(cpu, in->reg, &d);
}

/* ---- MOVD / MOVQ and the MMX moves ---- */

/* 0F 6E/7E: MOVD/MOVQ between r/m32 (r/m64 with REX.W) and MM (NP) or
 * XMM (66, zero-extended); F3 0F 7E: MOVQ xmm, xmm/m64. */
void op_sse_movd(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in), size = in->opsize == 8 ? 8 : 4;
	union vec v = { .q = { 0, 0 } };
	if (pfx == SSE_NP)
		mmx_check(cpu);
	else
		sse_check(cpu, X86_FEATURE_SSE2);
	if (pfx == SSE_F3) {
		sse_read_rm(cpu, in, &v, 8, true);
		v.q[1] = 0;
		sse_set_xmm(cpu, in->reg, &v);
	} else if (in->op == 0x6e) {
		v.q[0] = cpu_rm_read(cpu, in, size);
		if (pfx == SSE_NP)
			mmx_set(cpu, in->reg, v.q[0]);
		else
			sse_set_xmm(cpu, in->reg, &v);
	} else {
		u64 x = pfx == SSE_NP ? mmx_get(cpu, in->reg) : cpu->fpu.xmm[in->reg].q[0];
		cpu_rm_write(cpu, in, size, x);
		if (pfx == SSE_NP)
			mmx_enter(cpu);
	}
}

/* 0F 6F/7F NP: MOVQ mm, mm/m64 and back; 0F E7 NP: MOVNTQ m64, mm. */
void op_mmx_movq(struct cpu *cpu, const struct insn *in)
{
	if (in->op == 0xe7 && !cpu_has_feature(cpu, X86_FEATURE_SSE))
		cpu_ud(cpu);
	mmx_check(cpu);
	if (in->op == 0x6f) {
		mmx_set(cpu, in->reg, mmx_read_rm(cpu, in));
		return;
	}
	u64 v = mmx_get(cpu, in->reg);
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, 8, v);
	else
		mmx_set(cpu, in->rm, v);
	mmx_enter(cpu);
}

/* 0F D6: 66 MOVQ xmm/m64, xmm; F3 MOVQ2DQ xmm, mm; F2 MOVDQ2Q mm, xmm. */
void op_sse_movq_d6(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in);
	union vec v = { .q = { 0, 0 } };
	sse_check(cpu, X86_FEATURE_SSE2);
	if (pfx == SSE_66) {
		v.q[0] = cpu->fpu.xmm[in->reg].q[0];
		if (in->flags & IF_MEM)
			cpu_mem_write(cpu, in, 8, v.q[0]);
		else
			sse_set_xmm(cpu, in->rm, &v);
		return;
	}
	fpu_check_pending(cpu);
	if (pfx == SSE_F3) {
		v.q[0] = mmx_get(cpu, in->rm);
		sse_set_xmm(cpu, in->reg, &v);
		mmx_enter(cpu);
	} else {
		mmx_set(cpu, in->reg, cpu->fpu.xmm[in->rm].q[0]);
	}
}

/* 0F C3: MOVNTI m32/m64, r32/r64 (SSE2; no CR0/CR4 checks). */
void op_sse_movnti(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_SSE2))
		cpu_ud(cpu);
	cpu_mem_write(cpu, in, in->opsize, cpu_get_reg(cpu, in->reg, in->opsize, true));
}

/* ---- sign masks ---- */

/* 0F 50: MOVMSKPS/MOVMSKPD r32, xmm; 0F D7: PMOVMSKB r32, mm/xmm. */
void op_sse_movmsk(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in), es, len = 16;
	union vec s;
	if (in->op == 0xd7 && pfx == SSE_NP) {
		if (!cpu_has_feature(cpu, X86_FEATURE_SSE))
			cpu_ud(cpu);
		mmx_check(cpu);
		s.q[0] = mmx_get(cpu, in->rm);
		len = 8;
	} else {
		sse_check(cpu, pfx == SSE_NP ? X86_FEATURE_SSE : X86_FEATURE_SSE2);
		sse_get_xmm(cpu, in->rm, &s);
	}
	es = in->op == 0xd7 ? 1 : pfx == SSE_66 ? 8 : 4;
	u32 m = 0;
	for (unsigned i = 0; i < len / es; i++)
		m |= (u32)(s.b[i * es + es - 1] >> 7) << i;
	cpu_set_reg(cpu, in->reg, 4, false, m);
	if (len == 8)
		mmx_enter(cpu);
}

/* 0F F7: MASKMOVQ mm, mm (NP) / MASKMOVDQU xmm, xmm (66): store the bytes
 * whose mask byte has bit 7 set to DS:rDI (segment override allowed). */
void op_sse_maskmov(struct cpu *cpu, const struct insn *in)
{
	bool mmx = sse_pfx(in) == SSE_NP;
	unsigned len = mmx ? 8 : 16;
	union vec d, m;
	if (mmx) {
		if (!cpu_has_feature(cpu, X86_FEATURE_SSE))
			cpu_ud(cpu);
		mmx_check(cpu);
		d.q[0] = mmx_get(cpu, in->reg);
		m.q[0] = mmx_get(cpu, in->rm);
	} else {
		sse_check(cpu, X86_FEATURE_SSE2);
		sse_get_xmm(cpu, in->reg, &d);
		sse_get_xmm(cpu, in->rm, &m);
	}
	u64 di = cpu->r[R_DI] & size_mask(in->addrsize);
	u64 la = cpu_seg_lin(cpu, in->seg, di, len, true);
	sse_probe_write(cpu, la, len);
	for (unsigned i = 0; i < len; i++)
		if (m.b[i] & 0x80)
			cpu_write_lin(cpu, la + i, 1, d.b[i]);
	if (mmx)
		mmx_enter(cpu);
}

/* ---- shuffles ---- */

/* 0F 70: PSHUFW (NP, MMX), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2). */
void op_sse_pshuf(struct cpu *cpu, const struct insn *in)
{
	unsigned pfx = sse_pfx(in), imm = in->imm & 0xff;
	union vec s, r;
	if (pfx == SSE_NP) {
		if (!cpu_has_feature(cpu, X86_FEATURE_SSE))
			cpu_ud(cpu);
		mmx_check(cpu);
		s.q[0] = mmx_read_rm(cpu, in);
		for (unsigned i = 0; i < 4; i++)
			r.w[i] = s.w[(imm >> (2 * i)) & 3];
		mmx_set(cpu, in->reg, r.q[0]);
		return;
	}
	sse_check(cpu, X86_FEATURE_SSE2);
	sse_read_rm(cpu, in, &s, 16, false);
	r = s;
	for (unsigned i = 0; i < 4; i++) {
		unsigned sel = (imm >> (2 * i)) & 3;
		if (pfx == SSE_66)
			r.d[i] = s.d[sel];
		else if (pfx == SSE_F3)
			r.w[4 + i] = s.w[4 + sel];
		else
			r.w[i] = s.w[sel];
	}
	sse_set_xmm(cpu, in->reg, &r);
}

/* 0F C6: SHUFPS (NP), SHUFPD (66). */
void op_sse_shufp(struct cpu *cpu, const struct insn *in)
{
	bool pd = sse_pfx(in) == SSE_66;
	unsigned imm = in->imm & 0xff;
	union vec d, s, r;
	sse_check(cpu, pd ? X86_FEATURE_SSE2 : X86_FEATURE_SSE);
	sse_read_rm(cpu, in, &s, 16, false);
	sse_get_xmm(cpu, in->reg, &d);
	if (pd) {
		r.q[0] = d.q[imm & 1];
		r.q[1] = s.q[(imm >> 1) & 1];
	} else {
		r.d[0] = d.d[imm & 3];
		r.d[1] = d.d[(imm >> 2) & 3];
		r.d[2] = s.d[(imm >> 4) & 3];
		r.d[3] = s.d[(imm >> 6) & 3];
	}
	sse_set_xmm(cpu, in->reg, &r);
}

/* ---- element insert / extract ---- */

/* 0F C5 PEXTRW r32, mm/xmm (ModRM.reg is the GPR); 0F 3A 14 PEXTRB,
 * 15 PEXTRW, 16 PEXTRD/PEXTRQ, 17 EXTRACTPS to r/m (ModRM.reg is the XMM).
 * A register destination is zero-extended. */
void op_sse_pextr(struct cpu *cpu, const struct insn *in)
{
	unsigned imm = in->imm & 0xff, es, gpr, vreg;
	union vec s;
	if (in->map == 1) {
		es = 2;
		gpr = in->reg;
		vreg = in->rm;
		if (sse_pfx(in) == SSE_NP) {
			if (!cpu_has_feature(cpu, X86_FEATURE_SSE))
				cpu_ud(cpu);
			mmx_check(cpu);
			s.q[0] = mmx_get(cpu, vreg);
			cpu_set_reg(cpu, gpr, 4, false, s.w[imm & 3]);
			mmx_enter(cpu);
			return;
		}
		sse_check(cpu, X86_FEATURE_SSE2);
	} else {
		es = in->op == 0x14 ? 1 : in->op == 0x15 ? 2 : in->op == 0x16 ? in->opsize : 4;
		gpr = in->rm;
		vreg = in->reg;
		sse_check(cpu, X86_FEATURE_SSE41);
	}
	sse_get_xmm(cpu, vreg, &s);
	u64 v = load_le(s.b + (imm & (16 / es - 1)) * es, es);
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, es, v);
	else
		cpu_set_reg(cpu, gpr, es == 8 ? 8 : 4, false, v);
}

/* 0F C4 PINSRW mm/xmm, r32/m16; 0F 3A 20 PINSRB, 22 PINSRD/PINSRQ. */
void op_sse_pinsr(struct cpu *cpu, const struct insn *in)
{
	unsigned imm = in->imm & 0xff;
	unsigned es = in->map == 1 ? 2 : in->op == 0x20 ? 1 : in->opsize;
	bool mmx = in->map == 1 && sse_pfx(in) == SSE_NP;
	union vec d;
	if (mmx) {
		if (!cpu_has_feature(cpu, X86_FEATURE_SSE))
			cpu_ud(cpu);
		mmx_check(cpu);
	} else {
		sse_check(cpu, in->map == 1 ? X86_FEATURE_SSE2 : X86_FEATURE_SSE41);
	}
	u64 v = (in->flags & IF_MEM) ? cpu_mem_read(cpu, in, es) : cpu->r[in->rm];
	if (mmx) {
		d.q[0] = mmx_get(cpu, in->reg);
		d.w[imm & 3] = (u16)v;
		mmx_set(cpu, in->reg, d.q[0]);
		return;
	}
	sse_get_xmm(cpu, in->reg, &d);
	store_le(d.b + (imm & (16 / es - 1)) * es, es, v);
	sse_set_xmm(cpu, in->reg, &d);
}

/* 66 0F 3A 21: INSERTPS xmm, xmm/m32, imm8 (SDM Vol. 2 INSERTPS). */
void op_sse_insertps(struct cpu *cpu, const struct insn *in)
{
	unsigned imm = in->imm & 0xff;
	union vec d, s;
	sse_check(cpu, X86_FEATURE_SSE41);
	u32 v;
	if (in->flags & IF_MEM) {
		v = (u32)cpu_mem_read(cpu, in, 4);
	} else {
		sse_get_xmm(cpu, in->rm, &s);
		v = s.d[imm >> 6];
	}
	sse_get_xmm(cpu, in->reg, &d);
	d.d[(imm >> 4) & 3] = v;
	for (unsigned i = 0; i < 4; i++)
		if ((imm >> i) & 1)
			d.d[i] = 0;
	sse_set_xmm(cpu, in->reg, &d);
}
