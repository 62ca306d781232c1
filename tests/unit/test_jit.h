/* test_jit.h: what the random blocks of test_jit.c are made of: generated
 * instructions, their encoding, and the registers, memory operands and
 * stack pointers they use (test_jit_gen.h makes the blocks).
 *
 * The registers that address memory (pointers into the window, small
 * indexes) and RSP are written by no instruction but the stack ones, so
 * every address is known when the block is generated. Each instruction
 * says which arithmetic flags it defines, keeps and reads, so that the
 * host comparison leaves out what the SDM leaves undefined. */
#ifndef CETVM_TEST_JIT_H
#define CETVM_TEST_JIT_H

#include "test_win.h"

#define SS_PAGE 14 /* a shadow-stack page: read-only in the guest, writable on the host */
#define MAX_INSNS 12
#define CODE_MAX 256
#define JMP_ALWAYS 16
#define NO_MODRM 0x100
#define FL_ALL ((u16)FL_ARITH)
#define FL_NOAF ((u16)(FL_ARITH & ~X86_EFLAGS_AF))

/* A memory operand: [base + index*2^scale + disp], [index*2^scale +
 * disp32], [disp32] or [rip + disp32] (disp set when laid out). */
struct mop {
	int base, index; /* register, or -1 */
	unsigned scale;
	s64 disp;
	unsigned dsize; /* bytes of displacement: 0, 1, 4 */
	bool rip;
	u64 target; /* RIP-relative: the address reached */
	u8 seg;     /* 0, or SEG_FS / SEG_GS: a 64/65 prefix */
};

/* Instruction kinds and the mixes of them a group draws from. */
enum {
	K_MOVRR, K_MOVI, K_LOAD, K_STORE, K_ALUR, K_ALUM, K_LEA, K_SETCC, K_CMOV, K_JCC, K_MISC,
	K_SHIFT, K_IMUL, K_BMI, K_STACK, K_CALL, K_OUT, K_COUNT
};

/* One generated instruction. */
struct gins {
	struct enc e;
	int disp_at; /* RIP-relative: offset of disp32 in e.b, else -1 */
	u64 rip_target;
	bool to_end;  /* RIP-relative to the block end / imm32 at end_at = the block end */
	int end_at;
	int jcc; /* Jcc: its condition; JMP and CALL: JMP_ALWAYS; else -1 */
	bool call, ret; /* CALL rel32; RET, CALL r or JMP r (a target from data) */
	bool seg; /* an FS or GS override: not for the host, whose FS is its TLS */
	unsigned rel_at, rel_size;
	unsigned pad;        /* bytes a JMP or CALL in the middle jumps over */
	u16 def, kept, reads; /* arithmetic flags defined, left alone, read */
	u8 kind;
};

/* A block and the state it starts from. */
struct gblk {
	struct gins in[MAX_INSNS];
	unsigned n;
	bool fixed[16]; /* registers the block must not write */
	bool rsp_lost;  /* a POP RSP: no stack operation after it */
	unsigned ptr[3], nptr, idx[2], nidx;
	struct xs s;
	bool flush_emu, flush_jit, fill_jit; /* the software TLB and stack cache */
	bool sse;                            /* shadow stacks on, SSP at ssp */
	u64 ssp;
	u64 seg_base[2]; /* FS, GS */
};

struct mix {
	const char *name;
	u8 w[K_COUNT];
	unsigned fault_pct; /* accesses aimed at the read-only or absent page */
	unsigned sse_pct;   /* blocks run with shadow stacks on */
};

static const struct mix *M;
static u64 code_la; /* where the host runs a block's bytes; the block's RIP */
static u64 win;     /* the window's linear address */
static bool host_bmi2;

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

static struct gins gins_new(void)
{
	return (struct gins){ .e = { .n = 0 }, .disp_at = -1, .end_at = -1, .jcc = -1,
			      .kept = FL_ALL };
}

/* [66] [REX] opcode ModRM(reg, rm or *m) [SIB] [disp] [imm]; `rex` forces
 * a REX prefix (SPL..DIL rather than AH..BH). With rm NO_MODRM, reg is
 * added to the last opcode byte instead (B8+r). */
static struct gins enc_insn(unsigned size, bool rex, const u8 *op, unsigned nop, unsigned reg,
			    unsigned rm, const struct mop *m, u64 imm, unsigned ib)
{
	struct gins g = gins_new();
	u8 r = (u8)(0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 4 : 0));
	if (rm == NO_MODRM)
		r = (u8)((r & ~4) | (reg >= 8 ? 1 : 0));
	else if (m)
		r |= (u8)((m->index >= 8 ? 2 : 0) | (m->base >= 8 ? 1 : 0));
	else
		r |= rm >= 8 ? 1 : 0;
	if (m && m->seg)
		enc_put(&g.e, m->seg == SEG_FS ? 0x64 : 0x65);
	g.seg = m && m->seg;
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

/* What an instruction does to the flags: defines def, keeps kept. */
static struct gins fx(struct gins g, u16 def, u16 kept)
{
	g.def = def;
	g.kept = kept;
	return g;
}

/* The flags condition cc (Jcc, SETcc, CMOVcc) reads. */
static u16 cond_reads(unsigned cc)
{
	static const u16 r[8] = { X86_EFLAGS_OF, X86_EFLAGS_CF, X86_EFLAGS_ZF,
				  X86_EFLAGS_CF | X86_EFLAGS_ZF, X86_EFLAGS_SF, X86_EFLAGS_PF,
				  X86_EFLAGS_SF | X86_EFLAGS_OF,
				  X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF };
	return r[(cc >> 1) & 7];
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

/* A writable page k of the window whose neighbour above is writable too. */
static unsigned rw_page(void)
{
	unsigned k;
	do
		k = (unsigned)(rnd() % (WIN_PAGES - 1));
	while (win_prot[k] != (PROT_READ | PROT_WRITE) ||
	       win_prot[k + 1] != (PROT_READ | PROT_WRITE) || k == SS_PAGE || k + 1 == SS_PAGE);
	return k;
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
	k = rw_page();
	switch (rnd() % 8) {
	case 0: case 1: case 2: off = (unsigned)(rnd() % (4096 / size)) * size; break;
	case 3: off = cross ? 4096 - cross : 4096 - size; break;
	default: off = (unsigned)(rnd() % (4096 - size + 1)); break;
	}
	return win + k * 4096u + off;
}

/* RSP: in a writable page, aligned or not, at a page's start or end (the
 * neighbour may be read-only or absent), or in the read-only or absent
 * page. At least 128 bytes inside the window either way. */
static u64 rnd_stack(void)
{
	unsigned k = rw_page(), mis = rnd() % 4 == 0 ? 1 + (unsigned)(rnd() % 7) : 0;
	u64 page = win + k * 4096u;
	switch (rnd() % 10) {
	case 0: case 1: /* pushes cross into the page below */
		k = rnd() % 3 ? (rnd() & 1 ? RO_PAGE + 1 : NONE_PAGE + 1) : k + 1;
		return win + k * 4096u + 8 * (rnd() % 4) + mis;
	case 2: case 3: /* pops cross into the page above */
		k = rnd() % 3 ? (rnd() & 1 ? RO_PAGE - 1 : NONE_PAGE - 1) : k;
		return win + (k + 1) * 4096u - 8 * (rnd() % 4) - mis;
	case 4: return win + RO_PAGE * 4096u + 128 + 8 * (rnd() % 480) + mis;
	case 5: return win + NONE_PAGE * 4096u + 128 + 8 * (rnd() % 480) + mis;
	default: return page + 128 + 8 * (rnd() % 480) + mis;
	}
}

/* The block's registers: pointers into the window and small indexes. */
static u64 reg_val(const struct gblk *g, int r)
{
	return r < 0 ? 0 : g->s.r[r];
}

/* A memory operand for an access of `size` bytes; now and then through FS
 * or GS, whose base the target allows for (or, if that base is not
 * canonical, does not). */
static struct mop mem_at(const struct gblk *g, unsigned size)
{
	struct mop m = { .base = -1, .index = -1, .scale = 0, .disp = 0, .dsize = 4 };
	unsigned form = (unsigned)(rnd() % 8);
	if (M->fault_pct && rnd() % 16 == 0)
		m.seg = rnd() & 1 ? SEG_FS : SEG_GS;
	u64 b = m.seg ? g->seg_base[m.seg == SEG_GS] : 0;
	u64 t = rnd_target(size) - (b >> 63 ? 0 : b);
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
	if (m.base >= 0 && form >= 4 && !m.seg) {
		/* No or an 8-bit displacement, where it lands in the window. */
		s64 d = form == 4 && (m.base & 7) != 5 ? 0 : (s8)rnd();
		u64 a = at + (u64)d, ss = win + SS_PAGE * 4096u;
		if (a >= win && a + size <= win + WIN_BYTES && (a + size <= ss || a >= ss + 4096)) {
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

#endif
