/* test_jit.c: the native-code tier (jit.c) against the interpreter and the
 * host CPU. Random blocks of moves, loads, stores, ALU operations, LEA,
 * SETcc, CMOVcc and Jcc over registers and a memory window (with a
 * read-only and an absent page) are laid out as build_block() would (exec.c)
 * and run from the same state three ways: on the host, through the exec
 * handlers, and through jit_compile()'s code. Registers, flags, memory,
 * faults, where the block stopped and where it goes next must agree.
 *
 * The registers that address memory (pointers into the window, small
 * indexes) are never written by a block, so every address is known when
 * the block is generated. The host runs the block at the linear address
 * the interpreter gives it, so RIP-relative operands reach the same bytes;
 * a taken Jcc jumps, on the host, to the end of the block. A probe behind
 * each exec handler counts how far the JIT's code ran natively; a
 * mismatching block is reduced to the instructions it needs and printed. */
#include "test_alu.h"

#include "cpu/fast_ops.h"
#include "cpu/jit.h"

#define WIN_BYTES (WIN_PAGES * 4096u)
#define RO_PAGE 9    /* read-only on both sides */
#define NONE_PAGE 12 /* absent on both sides */
#define MAX_INSNS 12
#define CODE_MAX 256
#define N_BLOCKS 1200
#define JMP_ALWAYS 16
#define NO_MODRM 0x100
#define RC_SIGNAL 1000 /* struct res.rc: a host signal in the run */

/* What an instruction does to the arithmetic flags. */
enum { FX_NONE, FX_ARITH, FX_LOGIC /* AF undefined */ };

/* A memory operand: [base + index*2^scale + disp], [index*2^scale +
 * disp32], [disp32] or [rip + disp32] (disp set when laid out). */
struct mop {
	int base, index; /* register, or -1 */
	unsigned scale;
	s64 disp;
	unsigned dsize; /* bytes of displacement: 0, 1, 4 */
	bool rip;
	u64 target; /* RIP-relative: the address reached */
};

/* One generated instruction. */
struct gins {
	struct enc e;
	int disp_at; /* RIP-relative: offset of disp32 in e.b, else -1 */
	u64 rip_target;
	int jcc; /* Jcc: its condition, JMP_ALWAYS for a JMP, else -1 */
	unsigned rel_at, rel_size;
	unsigned pad; /* bytes a JMP in the middle jumps over */
	int fx;
};

/* A block and the state it starts from. */
struct gblk {
	struct gins in[MAX_INSNS];
	unsigned n;
	bool fixed[16]; /* registers the block must not write */
	unsigned ptr[3], nptr, idx[2], nidx;
	struct xs s;
	bool flush_emu, flush_jit; /* empty the software TLB before the run */
};

/* Instruction kinds and the mixes of them a group draws from. */
enum {
	K_MOVRR, K_MOVI, K_LOAD, K_STORE, K_ALUR, K_ALUM, K_LEA, K_SETCC, K_CMOV, K_JCC, K_MISC,
	K_COUNT
};

struct mix {
	const char *name;
	u8 w[K_COUNT];
	unsigned fault_pct; /* accesses aimed at the read-only or absent page */
};

static const struct mix mixes[] = {
	{ "registers", { 3, 2, 0, 0, 6, 0, 2, 1, 1, 1, 1 }, 0 },
	{ "memory", { 1, 1, 4, 4, 1, 4, 1, 1, 1, 0, 0 }, 3 },
	{ "mixed", { 2, 2, 2, 2, 3, 2, 2, 1, 1, 1, 1 }, 5 },
	{ "branches", { 1, 1, 1, 1, 4, 1, 0, 1, 1, 4, 1 }, 3 },
	{ "faults", { 1, 1, 3, 3, 1, 3, 1, 1, 1, 1, 0 }, 35 },
};

static const struct mix *M;
static u64 code_la; /* where the host runs a block's bytes; the block's RIP */
static struct jit *J;
static struct insn blk[MAX_INSNS + 1];
static u8 w_before[WIN_BYTES], w_host[WIN_BYTES], w_emu[WIN_BYTES], w_jit[WIN_BYTES];
static int win_prot[WIN_PAGES];
static char why[512], first[3 * CODE_MAX + sizeof(why) + 4];
static const u64 dummy_block; /* cpu->cur_block: any block */
static u64 win;                /* the window's linear address */
/* Group counters. */
static unsigned n_blocks, n_insns, n_run, n_native, n_compiled, n_faulting, n_taken, n_fails,
	n_shown;

/* ------------------------------------------------------------- encoding */

static void enc_modrm_mem(struct gins *g, unsigned reg, const struct mop *m)
{
	struct enc *e = &g->e;
	u8 rf = (u8)((reg & 7) << 3);
	if (m->rip) {
		enc_put(e, rf | 5);
		g->disp_at = (int)e->n;
		g->rip_target = m->target;
		enc_imm(e, 0, 4);
		return;
	}
	unsigned idx = m->index < 0 ? 4 : (unsigned)m->index & 7;
	if (m->base < 0) {
		enc_put(e, rf | 4);
		enc_put(e, (u8)(m->scale << 6 | idx << 3 | 5));
		enc_imm(e, (u64)m->disp, 4);
		return;
	}
	u8 mod = m->dsize == 0 ? 0 : m->dsize == 1 ? 0x40 : 0x80;
	if (m->index < 0 && (m->base & 7) != 4) {
		enc_put(e, (u8)(mod | rf | (m->base & 7)));
	} else {
		enc_put(e, (u8)(mod | rf | 4));
		enc_put(e, (u8)(m->scale << 6 | idx << 3 | (m->base & 7)));
	}
	enc_imm(e, (u64)m->disp, m->dsize);
}

/* [66] [REX] opcode ModRM(reg, rm or *m) [SIB] [disp] [imm]; `rex` forces
 * a REX prefix (SPL..DIL rather than AH..BH). With rm NO_MODRM, reg is
 * added to the last opcode byte instead (B8+r). */
static struct gins enc_insn(unsigned size, bool rex, const u8 *op, unsigned nop, unsigned reg,
			    unsigned rm, const struct mop *m, u64 imm, unsigned ib)
{
	struct gins g = { .e = { .n = 0 }, .disp_at = -1, .jcc = -1, .fx = FX_NONE };
	u8 r = (u8)(0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 4 : 0));
	if (rm == NO_MODRM)
		r = (u8)((r & ~4) | (reg >= 8 ? 1 : 0));
	else if (m)
		r |= (u8)((m->index >= 8 ? 2 : 0) | (m->base >= 8 ? 1 : 0));
	else
		r |= rm >= 8 ? 1 : 0;
	if (size == 2)
		enc_put(&g.e, 0x66);
	if (r != 0x40 || rex)
		enc_put(&g.e, r);
	for (unsigned i = 0; i < nop; i++)
		enc_put(&g.e, op[i]);
	if (rm == NO_MODRM)
		g.e.b[g.e.n - 1] = (u8)(g.e.b[g.e.n - 1] + (reg & 7));
	else if (m)
		enc_modrm_mem(&g, reg, m);
	else
		enc_put(&g.e, (u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
	enc_imm(&g.e, imm, ib);
	return g;
}

/* ------------------------------------------------------ registers, memory */

static unsigned src_reg(void)
{
	return rnd_reg(8, true);
}

static unsigned dst_reg(const struct gblk *g)
{
	for (;;) {
		unsigned r = src_reg();
		if (!g->fixed[r])
			return r;
	}
}

/* Byte register numbers 0..7 without REX (4..7: AH..BH) for a destination
 * whose full register the block may write. */
static unsigned dst_reg8_legacy(const struct gblk *g)
{
	for (;;) {
		unsigned r = (unsigned)(rnd() % 8);
		if (!g->fixed[r < 4 ? r : r - 4])
			return r;
	}
}

static unsigned rnd_size(void)
{
	static const u8 sizes[10] = { 8, 8, 8, 4, 4, 4, 1, 1, 1, 2 };
	return sizes[rnd() % 10];
}

/* An address for an access of `size` bytes: aligned, unaligned or crossing
 * a page between writable pages, or touching the read-only or absent page. */
static u64 rnd_target(unsigned size)
{
	unsigned k, off, cross = size > 1 ? 1 + (unsigned)(rnd() % (size - 1)) : 0;
	if (rnd() % 100 < M->fault_pct) {
		k = rnd() & 1 ? RO_PAGE : NONE_PAGE;
		switch (cross ? rnd() % 3 : 0) {
		case 0: return win + k * 4096u + rnd() % (4096 - size + 1);
		case 1: return win + k * 4096u - cross;
		default: return win + k * 4096u + 4096 - cross;
		}
	}
	do
		k = (unsigned)(rnd() % (WIN_PAGES - 1));
	while (k == RO_PAGE || k == NONE_PAGE || k + 1 == RO_PAGE || k + 1 == NONE_PAGE);
	switch (rnd() % 8) {
	case 0: case 1: case 2: off = (unsigned)(rnd() % (4096 / size)) * size; break;
	case 3: off = cross ? 4096 - cross : 4096 - size; break;
	default: off = (unsigned)(rnd() % (4096 - size + 1)); break;
	}
	return win + k * 4096u + off;
}

/* The block's registers: pointers into the window and small indexes. */
static u64 reg_val(const struct gblk *g, int r)
{
	return r < 0 ? 0 : g->s.r[r];
}

/* A memory operand for an access of `size` bytes. */
static struct mop mem_at(const struct gblk *g, unsigned size)
{
	u64 t = rnd_target(size);
	struct mop m = { .base = -1, .index = -1, .scale = 0, .disp = 0, .dsize = 4 };
	unsigned form = (unsigned)(rnd() % 8);
	if (form == 0 || (form == 1 && t >= 0x80000000ull)) {
		m.rip = true;
		m.target = t;
		return m;
	}
	if (form >= 2 || g->nidx == 0)
		m.base = (int)g->ptr[rnd() % g->nptr];
	if (g->nidx && form != 1 && (form == 2 || (rnd() & 1))) {
		m.index = (int)g->idx[rnd() % g->nidx];
		m.scale = (unsigned)(rnd() % 4);
	}
	u64 at = reg_val(g, m.base) + (reg_val(g, m.index) << m.scale);
	if (m.base >= 0 && form >= 4) {
		/* No or an 8-bit displacement, where it lands in the window. */
		s64 d = form == 4 && (m.base & 7) != 5 ? 0 : (s8)rnd();
		if (at + (u64)d >= win && at + (u64)d + size <= win + WIN_BYTES) {
			m.disp = d;
			m.dsize = form == 4 && (m.base & 7) != 5 ? 0 : 1;
			return m;
		}
	}
	m.disp = (s64)(t - at);
	if (m.disp != (s32)m.disp) { /* an index with no base too far: [base + disp32] */
		m.index = -1;
		m.base = (int)g->ptr[0];
		m.disp = (s64)(t - reg_val(g, m.base));
	}
	return m;
}

/* LEA's operand: any registers, any displacement, nothing accessed. */
static struct mop lea_mop(void)
{
	struct mop m = { .base = -1, .index = -1, .scale = (unsigned)(rnd() % 4), .dsize = 4 };
	switch (rnd() % 6) {
	case 0:
		m.rip = true;
		m.target = win + rnd() % (1u << 24);
		return m;
	case 1: m.index = (int)src_reg(); break;
	case 2: m.base = (int)src_reg(); break;
	default: m.base = (int)src_reg(), m.index = (int)src_reg(); break;
	}
	if (rnd() & 1)
		m.dsize = m.base >= 0 ? (unsigned)(rnd() % 2) : 4;
	if (m.dsize == 0 && (m.base & 7) == 5)
		m.dsize = 1;
	m.disp = m.dsize == 4 ? (s32)rnd_val(4) : m.dsize == 1 ? (s8)rnd() : 0;
	return m;
}

/* ----------------------------------------------------------- instructions */

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
	gi.fx = test || alu == 1 || alu == 4 || alu == 6 ? FX_LOGIC : FX_ARITH;
	return gi;
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
	unsigned cc = (unsigned)(rnd() % 16);
	struct mop m;
	u8 opc[2] = { 0x0f, (u8)((cmov ? 0x40 : 0x90) + cc) };
	if (!cmov) {
		if (mem)
			m = mem_at(g, 1);
		if (!mem && rnd() % 4 == 0)
			return enc_insn(1, false, opc, 2, 0, dst_reg8_legacy(g), NULL, 0, 0);
		return enc_insn(1, true, opc, 2, 0, dst_reg(g), mem ? &m : NULL, 0, 0);
	}
	unsigned size = rnd() % 8 == 0 ? 2 : rnd() & 1 ? 8 : 4;
	if (mem)
		m = mem_at(g, size);
	return enc_insn(size, false, opc, 2, dst_reg(g), src_reg(), mem ? &m : NULL, 0, 0);
}

/* Jcc (cc 0..15) or JMP (JMP_ALWAYS), rel8 or rel32. */
static struct gins gen_branch(int cc, bool rel8, u64 rel)
{
	struct gins g = { .e = { .n = 0 }, .disp_at = -1, .jcc = cc, .fx = FX_NONE };
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
	struct gins gi = { .e = { .n = 0 }, .disp_at = -1, .jcc = -1, .fx = FX_NONE };
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

static struct gins gen_one(const struct gblk *g, unsigned kind)
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

/* The block's address registers (never RAX), then 2..12 instructions. */
static void gen_block(struct gblk *g)
{
	memset(g->fixed, 0, sizeof(g->fixed));
	g->fixed[R_SP] = true;
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
	g->n = 2 + (unsigned)(rnd() % (MAX_INSNS - 1));
	for (unsigned k = 0; k < g->n; k++)
		g->in[k] = gen_one(g, rnd_kind());
	if (M->w[K_JCC] && rnd() % 3 == 0)
		g->in[g->n - 1] = rnd_branch(rnd() % 6 ? (int)(rnd() % 16) : JMP_ALWAYS);
	g->flush_emu = rnd() % 4 == 0;
	g->flush_jit = rnd() % 4 == 0;
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

/* The guest bytes, and the host's, whose taken Jcc go to the block end.
 * A block whose rel8 Jcc cannot reach its end on the host ends there. */
static void lay_out(struct gblk *g, struct layout *L)
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
	memset(L->guest, 0xcc, L->len);
	for (unsigned k = 0; k < g->n; k++) {
		const struct gins *gi = &g->in[k];
		u8 *p = L->guest + L->off[k];
		memcpy(p, gi->e.b, gi->e.n);
		if (gi->disp_at >= 0) {
			s64 d = (s64)(gi->rip_target - (code_la + L->end[k]));
			if (d != (s32)d) {
				fprintf(stderr, "test_jit: RIP-relative target out of reach\n");
				exit(1);
			}
			put_le(p + gi->disp_at, (u64)d, 4);
		}
	}
	memcpy(L->host, L->guest, L->len);
	for (unsigned k = 0; k < g->n; k++)
		if (g->in[k].jcc >= 0 && (g->in[k].jcc != JMP_ALWAYS || k + 1 == g->n))
			put_le(L->host + L->off[k] + g->in[k].rel_at, L->len - L->end[k],
			       g->in[k].rel_size);
}

/* exec.c's wrapper for a handler that expects cpu->rip and next_rip. */
static void op_wrapped(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in;
	cpu->next_rip = insn_next_rip(cpu, in);
	cpu->rip = cpu->next_rip - in->len;
	in->fn(cpu, in);
	insn_next(cpu, in);
}

/* The instructions as build_block() prepares them (exec.c). */
static bool decode_block(const struct gblk *g, const struct layout *L)
{
	for (unsigned k = 0; k < g->n; k++) {
		struct insn *in = &blk[k];
		int r = decode_insn(T.dt, L->guest + L->off[k], L->len - L->off[k], 8, in);
		if (r != (int)g->in[k].e.n)
			return false;
		in->next_off = (s16)L->end[k];
		in->nth = (u8)(k + 1);
		in->run = 0;
		if (!fast_variant(in, 8)) {
			in->exec = op_wrapped;
			in->run = RUN_WRAPPED | RUN_NEXT;
		}
		bool on = k + 1 < g->n;
		if (on && g->in[k].jcc >= 0 && !fast_can_go_on(in))
			return false;
		fast_after(k ? in - 1 : NULL, in, 8, on);
	}
	exec_set_terminator(&blk[g->n]);
	return true;
}

/* ------------------------------------------------------------------- runs */

/* The outcome of one run of a block. */
struct res {
	int rc; /* 0, or EMU_FAULT(vector) */
	struct xs s;
	u32 error;
	u64 cr2;
	int last;      /* cpu->cur_insn's index: where the block stopped */
	bool has_next; /* it has RUN_NEXT: next_rip says where the block goes */
	u64 next_rip;
};

static void win_save(u8 *dst)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] != PROT_NONE)
			memcpy(dst + k * 4096, T.win + k * 4096, 4096);
}

static void win_load(const u8 *src)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] & PROT_WRITE)
			memcpy(T.win + k * 4096, src + k * 4096, 4096);
}

static void win_fill_random(void)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] & PROT_WRITE)
			for (unsigned i = 0; i < 4096; i += 8) {
				u64 v = rnd();
				memcpy(T.win + k * 4096 + i, &v, 8);
			}
}

static bool same_mem(const char *who, const u8 *a, const u8 *b)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] != PROT_NONE && memcmp(a + k * 4096, b + k * 4096, 4096))
			for (unsigned i = k * 4096;; i++)
				if (a[i] != b[i]) {
					snprintf(why, sizeof(why),
						 "%s: memory at window+%#x: %02x vs %02x",
						 who, i, a[i], b[i]);
					return false;
				}
	return true;
}

static void host_block(const struct layout *L, const struct xs *s0, struct res *o)
{
	o->s = *s0;
	int sig = host_run(L->host, L->len, &o->s);
	o->rc = sig == 0			    ? 0
		: sig == SIGSEGV || sig == SIGBUS ? EMU_FAULT(X86_EXC_PF)
						  : RC_SIGNAL + sig;
}

/* Run blk from s0 through fn: insn[0].exec, or the JIT's code. */
static void emu_block(insn_fn fn, const struct xs *s0, struct res *o)
{
	struct cpu *c = T.cpu;
	jmp_buf jb;
	memcpy(c->r, s0->r, sizeof(c->r));
	c->eflags = (s0->fl & FL_ARITH) | X86_EFLAGS_FIXED;
	c->cc_op = CC_EAGER;
	c->cur_block = (const struct block *)(const void *)&dummy_block;
	c->rip = c->cur_block_rip = code_la;
	c->next_rip = 0;
	c->cur_insn = NULL;
	c->cr2 = 0;
	c->fault.error = 0;
	c->fault_jmp = &jb;
	o->rc = 0;
	if (setjmp(jb)) {
		o->rc = EMU_FAULT(c->fault.vector);
	} else if (sigsetjmp(host_jb, 1)) {
		o->rc = RC_SIGNAL + host_signal; /* a host fault: wrong host address */
	} else {
		in_host = 1;
		fn(c, blk);
	}
	in_host = 0;
	c->cur_block = NULL;
	c->fault_jmp = NULL;
	memcpy(o->s.r, c->r, sizeof(c->r));
	o->s.fl = cpu_get_rflags(c);
	o->error = c->fault.error;
	o->cr2 = c->cr2;
	o->last = c->cur_insn ? (int)(c->cur_insn - blk) : -1;
	o->has_next = !o->rc && c->cur_insn && (c->cur_insn->run & RUN_NEXT);
	o->next_rip = o->has_next ? c->next_rip : 0;
}

static const char *const reg_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
					    "rsi", "rdi", "r8",	 "r9",	"r10", "r11",
					    "r12", "r13", "r14", "r15" };

static bool same_state(const char *who, const struct xs *a, const struct xs *b, u64 flmask)
{
	for (int r = 0; r < 16; r++)
		if (a->r[r] != b->r[r]) {
			snprintf(why, sizeof(why), "%s: %s %#llx vs %#llx", who, reg_names[r],
				 (unsigned long long)a->r[r], (unsigned long long)b->r[r]);
			return false;
		}
	if (!((a->fl ^ b->fl) & flmask))
		return true;
	snprintf(why, sizeof(why), "%s: rflags %#llx vs %#llx", who, (unsigned long long)a->fl,
		 (unsigned long long)b->fl);
	return false;
}

static const char *rc_name(int rc)
{
	static char b[4][24];
	static unsigned i;
	char *p = b[i++ % 4];
	if (rc >= RC_SIGNAL)
		snprintf(p, sizeof(b[0]), "signal %d", rc - RC_SIGNAL);
	else if (rc)
		snprintf(p, sizeof(b[0]), "fault %d", rc - 100);
	else
		snprintf(p, sizeof(b[0]), "ok");
	return p;
}

/* The interpreter against the JIT's code: everything. */
static bool jit_agrees(const struct res *e, const struct res *x)
{
	const char *who = "interpreter/jit";
	if (e->rc != x->rc || e->last != x->last)
		snprintf(why, sizeof(why), "%s: %s at insn %d vs %s at insn %d", who,
			 rc_name(e->rc), e->last, rc_name(x->rc), x->last);
	else if (e->rc && (e->error != x->error || e->cr2 != x->cr2))
		snprintf(why, sizeof(why), "%s: error %#x cr2 %#llx vs error %#x cr2 %#llx", who,
			 e->error, (unsigned long long)e->cr2, x->error,
			 (unsigned long long)x->cr2);
	else if (e->has_next != x->has_next || e->next_rip != x->next_rip)
		snprintf(why, sizeof(why), "%s: next_rip %#llx (%d) vs %#llx (%d)", who,
			 (unsigned long long)e->next_rip, e->has_next,
			 (unsigned long long)x->next_rip, x->has_next);
	else
		return same_state(who, &e->s, &x->s, ~0ull) && same_mem(who, w_emu, w_jit);
	return false;
}

/* Flags the host defines at the end of what ran (AF after a logic op is not). */
static u64 host_flmask(const struct gblk *g, const struct res *e)
{
	int end = e->rc ? e->last : e->last + 1;
	u64 m = FL_ARITH;
	for (int k = 0; k < end; k++)
		if (g->in[k].fx != FX_NONE)
			m = g->in[k].fx == FX_LOGIC ? FL_ARITH & ~X86_EFLAGS_AF : FL_ARITH;
	return m;
}

/* The host against the interpreter; where a block that ended at a Jcc
 * goes, from the host's flags. */
static bool host_agrees(const struct gblk *g, const struct layout *L, const struct res *h,
			const struct res *e)
{
	const char *who = "host/interpreter";
	if (h->rc != e->rc) {
		snprintf(why, sizeof(why), "%s: %s vs %s at insn %d", who, rc_name(h->rc),
			 rc_name(e->rc), e->last);
		return false;
	}
	if (!same_state(who, &h->s, &e->s, host_flmask(g, e)) || !same_mem(who, w_host, w_emu))
		return false;
	if (e->rc || e->last < 0 || g->in[e->last].jcc < 0)
		return true;
	const struct gins *j = &g->in[e->last];
	u64 next = code_la + L->end[e->last];
	const u8 *r = L->guest + L->off[e->last] + j->rel_at;
	u64 rel = j->rel_size == 1 ? (u64)(s8)r[0] : (u64)(s64)(s32)load_le(r, 4);
	bool taken = j->jcc == JMP_ALWAYS || fast_eflags_cond(h->s.fl, (unsigned)j->jcc);
	u64 want = taken ? next + rel : next;
	if (e->has_next && e->next_rip == want)
		return true;
	snprintf(why, sizeof(why), "%s: Jcc at insn %d goes to %#llx, host flags say %#llx", who,
		 e->last, (unsigned long long)e->next_rip, (unsigned long long)want);
	return false;
}

/* Which instruction the JIT's code left to: each exec handler, behind a
 * probe for the JIT's run (the code calls insn[k].exec to go on). */
static insn_fn real_exec[MAX_INSNS + 1];
static int first_exit;

static void op_probe(struct cpu *cpu, const struct insn *in)
{
	unsigned k = (unsigned)(in - blk);
	if (first_exit < 0)
		first_exit = (int)k;
	real_exec[k](cpu, in);
}

static void probe(unsigned n, bool on)
{
	first_exit = on ? -1 : first_exit;
	for (unsigned k = 0; k <= n; k++) {
		if (on)
			real_exec[k] = blk[k].exec;
		blk[k].exec = on ? op_probe : real_exec[k];
	}
}

/* Run g three ways; false with why[] set on a mismatch. `count`: add to
 * the group's numbers. */
static bool check_block(struct gblk *g, bool count)
{
	struct layout L;
	struct res h, e, x;
	lay_out(g, &L);
	if (!decode_block(g, &L)) {
		snprintf(why, sizeof(why), "the block does not decode as generated");
		return false;
	}
	if (!jit_room(J))
		jit_reset(J);
	insn_fn fn = jit_compile(J, blk, g->n);
	win_save(w_before);
	host_block(&L, &g->s, &h);
	win_save(w_host);
	win_load(w_before);
	if (g->flush_emu)
		cpu_tlb_flush(T.cpu);
	emu_block(blk[0].exec, &g->s, &e);
	win_save(w_emu);
	win_load(w_before);
	bool ok = true;
	if (fn) {
		if (g->flush_jit)
			cpu_tlb_flush(T.cpu);
		probe(g->n, true);
		emu_block(fn, &g->s, &x);
		probe(g->n, false);
		win_save(w_jit);
		win_load(w_before);
		ok = jit_agrees(&e, &x);
	}
	ok = ok && host_agrees(g, &L, &h, &e);
	if (count) {
		n_blocks++;
		n_insns += g->n;
		n_compiled += fn != NULL;
		n_run += (unsigned)(e.last + (e.rc == 0));
		n_native += !fn ? 0 : first_exit >= 0 ? (unsigned)first_exit : (unsigned)x.last + 1;
		n_faulting += e.rc != 0;
		n_taken += e.has_next && e.last + 1 < (int)g->n;
	}
	return ok;
}

/* Drop the instructions the mismatch does not need. */
static void shrink(struct gblk *g)
{
	for (unsigned k = 0; k < g->n && g->n > 1;) {
		struct gblk t = *g;
		memmove(&t.in[k], &t.in[k + 1], (t.n - k - 1) * sizeof(t.in[0]));
		t.n--;
		if (!check_block(&t, false))
			*g = t;
		else
			k++;
	}
	check_block(g, false);
}

static void report_mismatch(struct gblk *g)
{
	char bytes[3 * CODE_MAX + 1], regs[512] = "";
	struct layout L;
	shrink(g);
	lay_out(g, &L);
	hex_bytes(bytes, sizeof(bytes), L.guest, L.len);
	if (n_fails++ == 0)
		snprintf(first, sizeof(first), "[%s] %s", bytes, why);
	if (n_shown >= 6)
		return;
	n_shown++;
	for (int r = 0; r < 16; r++)
		if (r != R_SP)
			snprintf(regs + strlen(regs), sizeof(regs) - strlen(regs), "%s=%#llx ",
				 reg_names[r], (unsigned long long)g->s.r[r]);
	printf("  jit %s mismatch: [%s] %s\n    from %sfl=%#llx rip=%#llx window=%#llx\n",
	       M->name, bytes, why, regs, (unsigned long long)g->s.fl,
	       (unsigned long long)code_la, (unsigned long long)win);
}

static void run_group(const struct mix *mx)
{
	M = mx;
	n_blocks = n_insns = n_run = n_native = n_compiled = n_faulting = n_taken = 0;
	n_fails = n_shown = 0;
	first[0] = 0;
	win_fill_random();
	for (unsigned i = 0; i < N_BLOCKS; i++) {
		struct gblk g;
		gen_block(&g);
		if (!check_block(&g, true))
			report_mismatch(&g);
	}
	report(n_fails == 0,
	       "jit %s: %u blocks of %u instructions (%u run, %u natively), %u compiled, %u "
	       "faulting, %u left at a taken Jcc%s%s",
	       mx->name, n_blocks, n_insns, n_run, n_native, n_compiled, n_faulting, n_taken,
	       n_fails ? ", first mismatch: " : "", first);
	report(n_compiled > 0, "jit %s: some blocks compile", mx->name);
}

/* Where host_run() puts a block's first byte: LEA RAX, [RIP] tells. */
static u64 host_code_la(void)
{
	static const u8 lea[7] = { 0x48, 0x8d, 0x05, 0, 0, 0, 0 };
	struct xs s;
	memset(&s, 0, sizeof(s));
	host_run(lea, sizeof(lea), &s);
	return s.r[R_AX] - sizeof(lea);
}

int main(void)
{
	harness_init();
	/* Host code below 2 GiB, as the window is: RIP-relative operands reach it. */
	munmap(T.jit, 4096);
	T.jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (T.jit == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	code_la = host_code_la();
	win = (u64)(uintptr_t)T.win;
	for (unsigned k = 0; k < WIN_PAGES; k++) {
		win_prot[k] = k == RO_PAGE     ? PROT_READ
			      : k == NONE_PAGE ? PROT_NONE
					       : PROT_READ | PROT_WRITE;
		win_protect(k, win_prot[k]);
	}
	J = jit_create(1u << 20);
	if (!report(J != NULL, "jit_create"))
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(mixes); i++)
		run_group(&mixes[i]);
	jit_destroy(J);
	return 0;
}
