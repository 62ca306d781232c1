/* test_jit_gen.h: test_jit.c's random blocks: moves, loads, stores, ALU
 * operations, LEA, shifts, IMUL, SHLX/SHRX/SARX, SETcc, CMOVcc, Jcc, JMP,
 * PUSH, POP, CALL, RET, CALL/JMP r64 and instructions the native code runs through their
 * handlers ("call-outs"), and their layout: the guest's bytes and the
 * host's, whose taken branches go to the block end. */
#ifndef CETVM_TEST_JIT_GEN_H
#define CETVM_TEST_JIT_GEN_H

#include "test_jit.h"

static const u8 alu_ops[6] = { 0, 1, 4, 5, 6, 7 }; /* ADD OR AND SUB XOR CMP */

/* ADD OR AND SUB XOR CMP TEST: rm,r  r,rm  rm,imm8  rm,imm  A,imm. */
static struct gins gen_alu(const struct gblk *g, bool mem)
{
	unsigned size = rnd_size(), op = (unsigned)(rnd() % 7), form = (unsigned)(rnd() % 5);
	bool test = op == 6, w = size > 1;
	u8 alu = test ? 0 : alu_ops[op];
	bool writes = !test && alu != 7;
	bool legacy = size == 1 && !mem && rnd() % 4 == 0; /* AH..BH */
	unsigned ib = size == 1 ? 1 : size == 2 ? 2 : 4;
	u64 imm = rnd_val(size);
	struct mop m = mem ? mem_at(g, size) : (struct mop){ .base = -1 };
	const struct mop *mp = mem ? &m : NULL;
	unsigned rd = legacy ? dst_reg8_legacy(g) : dst_reg(g);
	unsigned rs = legacy ? (unsigned)(rnd() % 8) : src_reg();
	unsigned rs2 = legacy ? (unsigned)(rnd() % 8) : src_reg();
	u8 opc[1];
	struct gins gi;
	if (test && form == 1)
		form = 0;
	switch (form) {
	case 0: /* rm, r */
		opc[0] = (u8)(test ? 0x84 + w : alu * 8 + w);
		gi = enc_insn(size, size == 1 && !legacy, opc, 1, rs, writes ? rd : rs2, mp, 0, 0);
		break;
	case 1: /* r, rm */
		opc[0] = (u8)(alu * 8 + 2 + w);
		gi = enc_insn(size, size == 1 && !legacy, opc, 1, writes ? rd : rs, rs2, mp, 0, 0);
		break;
	case 2: /* rm, imm8 (sign-extended) */
		if (size > 1 && !test) {
			opc[0] = 0x83;
			gi = enc_insn(size, false, opc, 1, alu, writes ? rd : rs, mp, rnd() & 0xff,
				      1);
			break;
		}
		/* fall through */
	case 3: /* rm, imm */
		opc[0] = (u8)(test ? 0xf6 + w : w ? 0x81 : 0x80);
		gi = enc_insn(size, size == 1 && !legacy, opc, 1, alu, writes ? rd : rs, mp, imm,
			      ib);
		break;
	default: /* AL/AX/EAX/RAX, imm (RAX is never fixed) */
		opc[0] = (u8)(test ? 0xa8 + w : alu * 8 + 4 + w);
		gi = enc_insn(size, false, opc, 1, 0, NO_MODRM, NULL, imm, ib);
		break;
	}
	return fx(gi, test || alu == 1 || alu == 4 || alu == 6 ? FL_NOAF : FL_ALL, 0);
}

/* MOV r, r and MOV r, imm (B8+r imm32/imm64, C7 /0 imm32). */
static struct gins gen_mov_reg(const struct gblk *g, bool imm)
{
	unsigned size = rnd() & 1 ? 8 : 4, d = dst_reg(g);
	u8 opc[1] = { (u8)(rnd() & 1 ? 0x89 : 0x8b) };
	if (!imm)
		return opc[0] == 0x89 ? enc_insn(size, false, opc, 1, src_reg(), d, NULL, 0, 0)
				      : enc_insn(size, false, opc, 1, d, src_reg(), NULL, 0, 0);
	if (rnd() % 3 == 0) {
		opc[0] = 0xc7;
		return enc_insn(size, false, opc, 1, 0, d, NULL, rnd_val(4), 4);
	}
	opc[0] = 0xb8;
	return enc_insn(size, false, opc, 1, d, NO_MODRM, NULL, rnd_val(size), size);
}

/* MOV r64/r32, MOVZX r32 <- m8/m16, MOVSX r64 <- m8/m16, MOVSXD r64. */
static struct gins gen_load(const struct gblk *g)
{
	static const struct {
		u8 size, access, n, op[2];
	} forms[8] = {
		{ 8, 8, 1, { 0x8b } }, { 4, 4, 1, { 0x8b } }, { 4, 1, 2, { 0x0f, 0xb6 } },
		{ 4, 2, 2, { 0x0f, 0xb7 } }, { 8, 1, 2, { 0x0f, 0xbe } },
		{ 8, 2, 2, { 0x0f, 0xbf } }, { 8, 4, 1, { 0x63 } }, { 8, 1, 2, { 0x0f, 0xb6 } },
	};
	unsigned f = (unsigned)(rnd() % 8);
	struct mop m = mem_at(g, forms[f].access);
	return enc_insn(forms[f].size, false, forms[f].op, forms[f].n, dst_reg(g), 0, &m, 0, 0);
}

/* MOV m, r64/r32/r16/r8 and MOV m, imm8/imm16/imm32. */
static struct gins gen_store(const struct gblk *g)
{
	static const u8 sizes[4] = { 8, 4, 2, 1 };
	unsigned f = (unsigned)(rnd() % 8), size = sizes[f % 4];
	struct mop m = mem_at(g, size);
	u8 opc[1] = { (u8)(size == 1 ? 0x88 : 0x89) };
	if (f < 4)
		return enc_insn(size, true, opc, 1, src_reg(), 0, &m, 0, 0);
	opc[0] = (u8)(size == 1 ? 0xc6 : 0xc7);
	return enc_insn(size, false, opc, 1, 0, 0, &m, rnd_val(size), size == 8 ? 4 : size);
}

static struct gins gen_lea(const struct gblk *g)
{
	static const u8 op[1] = { 0x8d };
	struct mop m = lea_mop();
	return enc_insn(rnd() & 1 ? 8 : 4, false, op, 1, dst_reg(g), 0, &m, 0, 0);
}

/* SETcc r8/m8, CMOVcc r, r/m. */
static struct gins gen_cond(const struct gblk *g, bool cmov, bool mem)
{
	unsigned cc = (unsigned)(rnd() % 16), size = rnd() % 8 == 0 ? 2 : rnd() & 1 ? 8 : 4;
	struct mop m;
	u8 opc[2] = { 0x0f, (u8)((cmov ? 0x40 : 0x90) + cc) };
	struct gins gi;
	if (mem)
		m = mem_at(g, cmov ? size : 1);
	if (cmov)
		gi = enc_insn(size, false, opc, 2, dst_reg(g), src_reg(), mem ? &m : NULL, 0, 0);
	else if (!mem && rnd() % 4 == 0)
		gi = enc_insn(1, false, opc, 2, 0, dst_reg8_legacy(g), NULL, 0, 0);
	else
		gi = enc_insn(1, true, opc, 2, 0, dst_reg(g), mem ? &m : NULL, 0, 0);
	gi.reads = cond_reads(cc);
	return gi;
}

/* Jcc (cc 0..15) or JMP (JMP_ALWAYS), rel8 or rel32. */
static struct gins gen_branch(int cc, bool rel8, u64 rel)
{
	struct gins g = gins_new();
	g.jcc = cc;
	if (rel8) {
		enc_put(&g.e, (u8)(cc == JMP_ALWAYS ? 0xeb : 0x70 + cc));
	} else {
		if (cc != JMP_ALWAYS)
			enc_put(&g.e, 0x0f);
		enc_put(&g.e, (u8)(cc == JMP_ALWAYS ? 0xe9 : 0x80 + cc));
	}
	g.rel_at = g.e.n;
	g.rel_size = rel8 ? 1 : 4;
	enc_imm(&g.e, rel, g.rel_size);
	g.reads = cc == JMP_ALWAYS ? 0 : cond_reads((unsigned)cc);
	return g;
}

static struct gins rnd_branch(int cc)
{
	return gen_branch(cc, rnd() & 1, rnd() & 1 ? (u64)(s64)(s16)rnd() : rnd());
}

/* NOP, NOP r/m, ENDBR64, MOVZX/MOVSXD from a register, JMP over a few
 * bytes (the block goes on at its target: exec.c, follow()). */
static struct gins gen_misc(const struct gblk *g)
{
	static const u8 nop[1] = { 0x90 }, endbr[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	u8 op[2] = { 0x0f, (u8)(0xb6 + (rnd() & 1)) };
	struct gins gi = gins_new();
	struct mop m = lea_mop();
	switch (rnd() % 6) {
	case 0: gi.e.n = 1, memcpy(gi.e.b, nop, 1); return gi;
	case 1: gi.e.n = 4, memcpy(gi.e.b, endbr, 4); return gi;
	case 2:
		op[1] = 0x1f;
		return enc_insn(4, false, op, 2, 0, src_reg(), rnd() & 1 ? &m : NULL, 0, 0);
	case 3:
		if (rnd() & 1) { /* from AH..BH: no REX at all */
			unsigned d;
			do
				d = dst_reg(g);
			while (d >= 8);
			op[1] = 0xb6;
			return enc_insn(4, false, op, 2, d, (unsigned)(rnd() % 8), NULL, 0, 0);
		}
		return enc_insn(rnd() & 1 ? 8 : 4, true, op, 2, dst_reg(g), src_reg(), NULL, 0, 0);
	case 4: op[0] = 0x63; return enc_insn(8, false, op, 1, dst_reg(g), src_reg(), NULL, 0, 0);
	default: {
		unsigned pad = (unsigned)(rnd() % 3) * (unsigned)(rnd() % 8);
		gi = gen_branch(JMP_ALWAYS, rnd() & 1, pad);
		gi.pad = pad;
		return gi;
	}
	}
}

/* ----------------------------------------- shifts, multiplication, BMI2 */

/* SHL/SHR/SAR (ROL/ROR with `rot`) r32/r64 by 1 (D1), imm8 (C1) or, when
 * the block keeps RCX fixed (its count known), by CL (D3): counts 0..63
 * and now and then above, masked to the width. The flags a count defines
 * (SDM "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR"): none for 0; AF never; OF for
 * 1 only. */
static struct gins gen_shift(const struct gblk *g, bool rot)
{
	static const u8 sh[3] = { 4, 5, 7 };
	unsigned size = rnd() & 1 ? 8 : 4, d = dst_reg(g), digit = rot ? rnd() & 1 : sh[rnd() % 3];
	unsigned c = rnd() % 4 == 0 ? 1 : (unsigned)(rnd() % 8 ? rnd() % 64 : rnd() % 256);
	bool by1 = c == 1 && (rnd() & 1), by_cl = !rot && g->fixed[R_CX] && rnd() % 3 == 0;
	u8 op[1] = { (u8)(by_cl ? 0xd3 : by1 ? 0xd1 : 0xc1) };
	if (by_cl)
		c = (u8)g->s.r[R_CX];
	struct gins gi = enc_insn(size, false, op, 1, digit, d, NULL, by_cl ? 0 : c,
				  by1 || by_cl ? 0 : 1);
	c &= size == 8 ? 63 : 31;
	if (c == 0)
		return gi;
	u16 of = X86_EFLAGS_OF, cf = X86_EFLAGS_CF;
	if (rot)
		return fx(gi, (u16)(c == 1 ? cf | of : cf), (u16)(FL_ALL & ~cf & ~of));
	return fx(gi, (u16)(c == 1 ? FL_NOAF : FL_NOAF & ~of), 0);
}

/* IMUL r, r/m (0F AF): only CF and OF are defined. Small operands now
 * and then, so that the product fits. */
static struct gins gen_imul(struct gblk *g)
{
	static const u8 op[2] = { 0x0f, 0xaf };
	unsigned size = rnd() & 1 ? 8 : 4, d = dst_reg(g), s = src_reg();
	bool mem = rnd() % 6 == 0;
	struct mop m;
	if (mem)
		m = mem_at(g, size);
	if (rnd() & 1) {
		g->s.r[d] = (g->s.r[d] & ~0xffffffffull) | (u32)(s32)(s16)rnd();
		if (!g->fixed[s])
			g->s.r[s] = (u64)(s64)(s8)rnd();
	}
	struct gins gi = enc_insn(size, false, op, 2, d, s, mem ? &m : NULL, 0, 0);
	return fx(gi, X86_EFLAGS_CF | X86_EFLAGS_OF, 0);
}

/* SHLX/SHRX/SARX r, r, r (VEX.0F38 F7: 66 SHLX, F2 SHRX, F3 SARX). */
static struct gins gen_bmi(const struct gblk *g)
{
	struct gins gi = gins_new();
	unsigned pp = 1 + (unsigned)(rnd() % 3);
	gi.e = enc_vex(2, pp, rnd() & 1, src_reg(), 0xf7, dst_reg(g), src_reg(), false);
	return gi;
}

/* ------------------------------------------------------------- the stack */

/* PUSH r (any, RSP too) or POP r (a free register, or RSP, after which
 * no stack operation follows), as 50+r / 58+r with or without REX.W. */
static struct gins gen_stack(struct gblk *g)
{
	bool pop = rnd() & 1;
	unsigned r = pop ? dst_reg(g) : rnd() % 8 == 0 ? R_SP : src_reg();
	u8 op[1] = { (u8)(pop ? 0x58 : 0x50) };
	if (pop && rnd() % 10 == 0) {
		r = R_SP;
		g->rsp_lost = true;
	}
	return enc_insn(rnd() % 4 ? 4 : 8, false, op, 1, r, NO_MODRM, NULL, 0, 0);
}

/* CALL rel32: in the middle, over a few bytes to the next instruction (the
 * block goes on there: exec.c, follow()); at the end, anywhere. */
static struct gins gen_call(bool last)
{
	unsigned pad = last ? 0 : (unsigned)(rnd() % 3) * (unsigned)(rnd() % 8);
	struct gins gi = gen_branch(JMP_ALWAYS, false, last ? rnd() : pad);
	gi.e.b[0] = 0xe8;
	gi.call = true;
	gi.pad = pad;
	return gi;
}

/* RET, often after pushing the block end (PUSH imm32, or LEA r, [rip] and
 * PUSH r), so that the host can run it too. Appends to g. */
static void gen_ret(struct gblk *g)
{
	static const u8 lea[1] = { 0x8d }, push[1] = { 0x50 }, ret = 0xc3;
	struct mop m = { .base = -1, .index = -1, .dsize = 4, .rip = true };
	unsigned r = dst_reg(g);
	switch (rnd() % 3) {
	case 0:
		g->in[g->n] = gins_new();
		enc_put(&g->in[g->n].e, 0x68);
		g->in[g->n].end_at = 1;
		g->in[g->n].to_end = true;
		enc_imm(&g->in[g->n++].e, 0, 4);
		break;
	case 1:
		g->in[g->n] = enc_insn(8, false, lea, 1, r, 0, &m, 0, 0);
		g->in[g->n++].to_end = true;
		g->in[g->n++] = enc_insn(4, false, push, 1, r, NO_MODRM, NULL, 0, 0);
		break;
	default:
		break;
	}
	g->in[g->n] = gins_new();
	g->in[g->n].ret = true;
	enc_put(&g->in[g->n++].e, ret);
}

/* CALL r64 / JMP r64 (FF /2, FF /4), often after LEA r, [rip] of the
 * block end. Appends to g. */
static void gen_indirect(struct gblk *g)
{
	static const u8 lea[1] = { 0x8d }, ff[1] = { 0xff };
	struct mop m = { .base = -1, .index = -1, .dsize = 4, .rip = true };
	unsigned r = rnd() % 3 ? dst_reg(g) : src_reg();
	if (!g->fixed[r] && rnd() % 3) {
		g->in[g->n] = enc_insn(8, false, lea, 1, r, 0, &m, 0, 0);
		g->in[g->n++].to_end = true;
	}
	g->in[g->n] = enc_insn(4, false, ff, 1, rnd() & 1 ? 2 : 4, r, NULL, 0, 0);
	g->in[g->n++].ret = true;
}

/* ------------------------------------------------------------- call-outs */

/* ADC/SBB, INC/DEC, NEG/NOT r/m; BT r/m, imm8; ROL/ROR. */
static struct gins gen_out_rm(const struct gblk *g, bool mem)
{
	unsigned size = rnd_size(), w = size > 1, op = (unsigned)(rnd() % 6);
	struct mop m;
	if (mem)
		m = mem_at(g, op == 4 && size == 1 ? 2 : size);
	const struct mop *mp = mem ? &m : NULL;
	unsigned d = dst_reg(g);
	u8 opc[2] = { (u8)(w ? 0x83 : 0x80), 0 };
	const u16 cf = X86_EFLAGS_CF;
	struct gins gi;
	switch (op) {
	case 0: case 1: /* ADC, SBB rm, imm8 / rm, r */
		if (rnd() & 1) {
			gi = enc_insn(size, size == 1, opc, 1, 2 + op, d, mp, rnd() & 0xff, 1);
		} else {
			opc[0] = (u8)(0x10 + op * 8 + w);
			gi = enc_insn(size, size == 1, opc, 1, src_reg(), d, mp, 0, 0);
		}
		gi.reads = cf;
		return fx(gi, FL_ALL, 0);
	case 2: /* INC, DEC (translated as r64) */
		if (rnd() & 1)
			size = 8, w = 1, mp = NULL;
		opc[0] = (u8)(0xfe + w);
		gi = enc_insn(size, size == 1, opc, 1, rnd() & 1, d, mp, 0, 0);
		return fx(gi, (u16)(FL_ALL & ~cf), cf);
	case 3: /* NEG, NOT */
		opc[0] = (u8)(0xf6 + w);
		op = 2 + (rnd() & 1);
		gi = enc_insn(size, size == 1, opc, 1, op, d, mp, 0, 0);
		return op == 3 ? fx(gi, FL_ALL, 0) : gi;
	case 4: /* BT rm, imm8: CF; ZF kept; OF SF AF PF undefined */
		opc[0] = 0x0f, opc[1] = 0xba;
		gi = enc_insn(size == 1 ? 2 : size, false, opc, 2, 4, d, mp, rnd() & 0xff, 1);
		return fx(gi, cf, X86_EFLAGS_ZF);
	default:
		return gen_shift(g, true);
	}
}

/* XCHG, MOVSX r32, MOV r8 with AH..BH, BSWAP, BT r, r, MUL and DIV (which
 * may raise #DE in the middle of the block). */
static struct gins gen_out_reg(const struct gblk *g)
{
	u8 op[2] = { 0x0f, 0 };
	unsigned size = rnd() & 1 ? 8 : 4, d = dst_reg(g), form = (unsigned)(rnd() % 7);
	if (form >= 5 && g->fixed[R_DX])
		form = 3;
	switch (form) {
	case 0: op[0] = 0x87; return enc_insn(size, false, op, 1, dst_reg(g), d, NULL, 0, 0);
	case 1:
		op[1] = (u8)(0xbe + (rnd() & 1));
		return enc_insn(4, rnd() & 1, op, 2, d, src_reg(), NULL, 0, 0);
	case 2:
		op[0] = 0x88 + (rnd() & 1) * 2;
		d = dst_reg8_legacy(g);
		return enc_insn(1, false, op, 1, dst_reg8_legacy(g), d, NULL, 0, 0);
	case 3: op[1] = 0xc8; return enc_insn(size, false, op, 2, d, NO_MODRM, NULL, 0, 0);
	case 4:
		op[1] = 0xa3;
		return fx(enc_insn(size, false, op, 2, src_reg(), src_reg(), NULL, 0, 0),
			  X86_EFLAGS_CF, X86_EFLAGS_ZF);
	default: /* MUL r/m, DIV: RDX:RAX */
		op[0] = 0xf7;
		if (rnd() & 1) {
			struct mop m;
			bool mem = rnd() & 1;
			if (mem)
				m = mem_at(g, size);
			return fx(enc_insn(size, false, op, 1, 4, src_reg(), mem ? &m : NULL, 0, 0),
				  X86_EFLAGS_CF | X86_EFLAGS_OF, 0);
		}
		return fx(enc_insn(size, false, op, 1, 6, src_reg(), NULL, 0, 0), 0, 0);
	}
}

/* ------------------------------------------------------------ the block */

static struct gins gen_one(struct gblk *g, unsigned kind, bool last)
{
	bool mem = M->w[K_LOAD] && (rnd() & 1);
	switch (kind) {
	case K_MOVRR: return gen_mov_reg(g, false);
	case K_MOVI: return gen_mov_reg(g, true);
	case K_LOAD: return gen_load(g);
	case K_STORE: return gen_store(g);
	case K_ALUR: return gen_alu(g, false);
	case K_ALUM: return gen_alu(g, true);
	case K_LEA: return gen_lea(g);
	case K_SETCC: return gen_cond(g, false, mem);
	case K_CMOV: return gen_cond(g, true, mem);
	case K_MISC: return gen_misc(g);
	case K_SHIFT: return gen_shift(g, false);
	case K_IMUL: return gen_imul(g);
	case K_BMI: return host_bmi2 ? gen_bmi(g) : gen_shift(g, false);
	case K_STACK: return g->rsp_lost ? gen_mov_reg(g, false) : gen_stack(g);
	case K_CALL: return g->rsp_lost ? gen_misc(g) : gen_call(last);
	case K_OUT: return rnd() % 3 ? gen_out_rm(g, M->fault_pct && (rnd() & 1)) : gen_out_reg(g);
	default: return rnd_branch((int)(rnd() % 16));
	}
}

static unsigned rnd_kind(void)
{
	unsigned sum = 0, k;
	for (k = 0; k < K_COUNT; k++)
		sum += M->w[k];
	unsigned r = (unsigned)(rnd() % sum);
	for (k = 0; r >= M->w[k]; k++)
		r -= M->w[k];
	return k;
}

/* The block's address registers (never RAX), RSP, shadow stacks. */
static void gen_regs(struct gblk *g)
{
	memset(g->fixed, 0, sizeof(g->fixed));
	g->fixed[R_SP] = true;
	g->rsp_lost = false;
	rnd_state(&g->s);
	g->nptr = 1 + (unsigned)(rnd() % 3);
	g->nidx = (unsigned)(rnd() % 3);
	for (unsigned i = 0; i < g->nptr + g->nidx; i++) {
		unsigned r;
		do
			r = src_reg();
		while (g->fixed[r] || r == R_AX);
		g->fixed[r] = true;
		if (i < g->nptr) {
			g->ptr[i] = r;
			g->s.r[r] = rnd_target(8) + (rnd() % 4 == 0 ? 4096 - rnd() % 24 : 0);
			g->s.r[r] -= g->s.r[r] >= win + WIN_BYTES - 64 ? 4096 : 0;
		} else {
			g->idx[i - g->nptr] = r;
			g->s.r[r] = rnd() % 3 == 0 ? (u64)-(s64)(rnd() % 64)
						   : rnd() % (rnd() & 1 ? 8 : 512);
		}
	}
	if (M->w[K_SHIFT] && !g->fixed[R_CX] && (rnd() & 1)) { /* a count for D3 */
		g->fixed[R_CX] = true;
		g->s.r[R_CX] = rnd() % 3 ? rnd() : rnd() % 70;
	}
	bool stack = M->w[K_STACK] || M->w[K_CALL];
	g->s.r[R_SP] = stack ? rnd_stack() : 0;
	g->sse = stack && rnd() % 100 < M->sse_pct;
	g->ssp = win + SS_PAGE * 4096u + 8 * (rnd() % 512);
	for (unsigned i = 0; i < 2; i++)
		g->seg_base[i] = rnd() % 16 == 0 ? 0x8000000000000000ull + rnd() % 4096
							: rnd() % 0x40000;
}

/* 2..12 instructions; a Jcc, SETcc or CMOVcc often right after a shift or
 * IMUL; at the end now and then a Jcc, JMP, CALL or RET. */
static void gen_block(struct gblk *g)
{
	gen_regs(g);
	unsigned n = 2 + (unsigned)(rnd() % (MAX_INSNS - 1)), end = rnd() % 6;
	bool calls = M->w[K_CALL] != 0;
	if (calls && end < 3)
		n = n > MAX_INSNS - 3 ? MAX_INSNS - 3 : n;
	for (g->n = 0; g->n < n; g->n++) {
		unsigned kind = rnd_kind();
		u8 before = g->n ? g->in[g->n - 1].kind : K_COUNT;
		if ((before == K_SHIFT || before == K_IMUL || before == K_OUT) && (rnd() & 1))
			kind = rnd() % 3 == 0 ? K_JCC : rnd() & 1 ? K_SETCC : K_CMOV;
		g->in[g->n] = gen_one(g, kind, g->n + 1 == n && !(calls && end < 3));
		g->in[g->n].kind = (u8)kind;
	}
	if (calls && end < 3 && !g->rsp_lost) {
		if (end == 0)
			gen_ret(g);
		else if (end == 2)
			gen_indirect(g);
		else
			g->in[g->n - 1] = gen_call(true);
		g->in[g->n - 1].kind = K_CALL;
	} else if (M->w[K_JCC] && end < 2) {
		g->in[g->n - 1] = rnd_branch(end ? (int)(rnd() % 16) : JMP_ALWAYS);
	}
	g->flush_emu = rnd() % 4 == 0;
	g->flush_jit = rnd() % 4 == 0;
	g->fill_jit = !g->flush_jit && rnd() % 3 == 0;
}

/* -------------------------------------------------------------- layout */

struct layout {
	u8 guest[CODE_MAX], host[CODE_MAX];
	unsigned len, off[MAX_INSNS], end[MAX_INSNS]; /* where each starts, ends */
};

static void put_le(u8 *p, u64 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* Where each instruction goes; a block whose rel8 Jcc cannot reach its end
 * on the host ends there. */
static void lay_out_offsets(struct gblk *g, struct layout *L)
{
	g->in[g->n - 1].pad = 0;
	for (unsigned k = 0, at = 0; k < g->n; at = L->end[k] + g->in[k].pad, k++) {
		L->off[k] = at;
		L->end[k] = at + g->in[k].e.n;
	}
	for (unsigned k = 0; k + 1 < g->n; k++)
		if (g->in[k].jcc >= 0 && g->in[k].jcc != JMP_ALWAYS && g->in[k].rel_size == 1 &&
		    L->end[g->n - 1] - L->end[k] > 127) {
			g->n = k + 1;
			g->in[k].pad = 0;
			break;
		}
	L->len = L->end[g->n - 1];
}

/* The guest bytes, and the host's, whose taken Jcc (and final JMP or CALL)
 * go to the block end. */
static void lay_out(struct gblk *g, struct layout *L)
{
	lay_out_offsets(g, L);
	memset(L->guest, 0xcc, L->len);
	for (unsigned k = 0; k < g->n; k++) {
		const struct gins *gi = &g->in[k];
		u8 *p = L->guest + L->off[k];
		memcpy(p, gi->e.b, gi->e.n);
		u64 to = gi->to_end ? code_la + L->len : gi->rip_target;
		if (gi->disp_at >= 0) {
			s64 d = (s64)(to - (code_la + L->end[k]));
			if (d != (s32)d) {
				fprintf(stderr, "test_jit: RIP-relative target out of reach\n");
				exit(1);
			}
			put_le(p + gi->disp_at, (u64)d, 4);
		}
		if (gi->end_at >= 0)
			put_le(p + gi->end_at, to, 4);
	}
	memcpy(L->host, L->guest, L->len);
	for (unsigned k = 0; k < g->n; k++)
		if (g->in[k].jcc >= 0 && (g->in[k].jcc != JMP_ALWAYS || k + 1 == g->n))
			put_le(L->host + L->off[k] + g->in[k].rel_at, L->len - L->end[k],
			       g->in[k].rel_size);
}

#endif
