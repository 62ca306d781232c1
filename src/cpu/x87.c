/* x87.c: x87 FPU state, loads and stores, stack and control instructions (SDM Vol. 1 ch. 8). */
#include "x87.h"

#include <string.h>

#include "ops.h"
#include "sse.h"

/* ---- state helpers (x87.h) ---- */

static unsigned classify_tag(const long double *v)
{
	u64 m;
	u16 se;
	memcpy(&m, v, 8);
	memcpy(&se, (const u8 *)v + 8, 2);
	unsigned exp = se & 0x7fff;
	if (exp == 0x7fff)
		return TAG_SPECIAL;
	if (exp == 0)
		return m ? TAG_SPECIAL : TAG_ZERO;
	return (m >> 63) ? TAG_VALID : TAG_SPECIAL; /* J = 0: unnormal */
}

static void set_tag(struct cpu *cpu, unsigned phys, unsigned tag)
{
	cpu->fpu.ftw = (u16)((cpu->fpu.ftw & ~(3u << (2 * phys))) | (tag << (2 * phys)));
}

static bool phys_empty(const struct cpu *cpu, unsigned r)
{
	return ((cpu->fpu.ftw >> (2 * r)) & 3) == TAG_EMPTY;
}

u16 x87_full_tag_word(const struct cpu *cpu)
{
	u16 t = 0;
	for (unsigned r = 0; r < 8; r++)
		t |= (u16)((phys_empty(cpu, r) ? TAG_EMPTY : classify_tag(&cpu->fpu.st[r])) << (2 * r));
	return t;
}

u8 x87_abridged_tag(const struct cpu *cpu)
{
	u8 t = 0;
	for (unsigned r = 0; r < 8; r++)
		t |= (u8)(!phys_empty(cpu, r) << r);
	return t;
}

void x87_set_abridged_tag(struct cpu *cpu, u8 tag)
{
	for (unsigned r = 0; r < 8; r++)
		set_tag(cpu, r, ((tag >> r) & 1) ? TAG_VALID : TAG_EMPTY);
}

void x87_set_full_tag_word(struct cpu *cpu, u16 ftw)
{
	for (unsigned r = 0; r < 8; r++)
		set_tag(cpu, r, ((ftw >> (2 * r)) & 3) == TAG_EMPTY ? TAG_EMPTY : TAG_VALID);
}

void x87_finit(struct cpu *cpu)
{
	cpu->fpu.fcw = FCW_DEFAULT;
	cpu->fpu.fsw = 0;
	cpu->fpu.top = 0;
	cpu->fpu.ftw = 0xffff;
	cpu->fpu.fip = cpu->fpu.fdp = 0;
	cpu->fpu.fop = 0;
}

void x87_init_component(struct cpu *cpu)
{
	x87_finit(cpu);
	memset(cpu->fpu.st, 0, sizeof(cpu->fpu.st));
}

bool x87_in_init_state(const struct cpu *cpu)
{
	const struct fpu_state *f = &cpu->fpu;
	static const u8 zero[10];
	if (f->fcw != FCW_DEFAULT || x87_get_fsw(cpu) || x87_abridged_tag(cpu) || f->fip ||
	    f->fdp || f->fop)
		return false;
	for (unsigned r = 0; r < 8; r++)
		if (memcmp(&f->st[r], zero, 10))
			return false;
	return true;
}

void x87_get_st80(const struct cpu *cpu, unsigned i, u8 out[10])
{
	memcpy(out, &cpu->fpu.st[x87_phys(cpu, i)], 10);
}

void x87_set_st80(struct cpu *cpu, unsigned i, const u8 in[10])
{
	memcpy(&cpu->fpu.st[x87_phys(cpu, i)], in, 10);
}

void x87_get(const struct cpu *cpu, unsigned i, long double *v)
{
	memcpy(v, &cpu->fpu.st[x87_phys(cpu, i)], 10);
}

void x87_put(struct cpu *cpu, unsigned i, const long double *v)
{
	unsigned r = x87_phys(cpu, i);
	memcpy(&cpu->fpu.st[r], v, 10);
	set_tag(cpu, r, TAG_VALID);
}

void x87_push(struct cpu *cpu, const long double *v)
{
	cpu->fpu.top = (cpu->fpu.top - 1) & 7;
	x87_put(cpu, 0, v);
}

void x87_pop(struct cpu *cpu)
{
	set_tag(cpu, x87_phys(cpu, 0), TAG_EMPTY);
	cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}

void x87_indefinite(long double *v)
{
	static const u8 qnan[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
	memset(v, 0, sizeof(*v));
	memcpy(v, qnan, 10);
}

bool x87_raise(struct cpu *cpu, u16 exc)
{
	exc &= FSW_EXC | FSW_SF;
	cpu->fpu.fsw |= exc;
	u16 unmasked = exc & ~cpu->fpu.fcw & FSW_EXC;
	if (!unmasked)
		return false;
	cpu->fpu.fsw |= FSW_ES | FSW_B;
	return unmasked & (FSW_IE | FSW_DE | FSW_ZE);
}

bool x87_underflow(struct cpu *cpu)
{
	x87_set_c1(cpu, false);
	return x87_raise(cpu, FSW_IE | FSW_SF);
}

bool x87_overflow(struct cpu *cpu)
{
	if (x87_empty(cpu, 7))
		return false;
	x87_set_c1(cpu, true);
	x87_raise(cpu, FSW_IE | FSW_SF);
	return true;
}

void x87_begin(struct cpu *cpu, const struct insn *in, unsigned how)
{
	if (unlikely(cpu->cr0 & (X86_CR0_EM | X86_CR0_TS)))
		cpu_fault_noerr(cpu, X86_EXC_NM);
	if (how & X87_WAIT)
		fpu_check_pending(cpu);
	if (how & X87_RECORD) {
		cpu->fpu.fop = (u16)(((in->op & 7u) << 8) | in->modrm);
		cpu->fpu.fip = cpu->rip;
		if (in->flags & IF_MEM)
			cpu->fpu.fdp = cpu_ea(cpu, in);
	}
}

/* ---- loads ---- */

struct memfmt {
	u8 op, reg, kind, size;
};
#define XM_F80 6
static const struct memfmt loads[] = {
	{ 0xd9, 0, XM_F32, 4 }, { 0xdd, 0, XM_F64, 8 }, { 0xdb, 5, XM_F80, 10 },
	{ 0xdf, 0, XM_I16, 2 }, { 0xdb, 0, XM_I32, 4 }, { 0xdf, 5, XM_I64, 8 },
	{ 0xdf, 4, XM_BCD, 10 },
};
static const struct memfmt stores[] = {
	{ 0xd9, 2, XM_F32, 4 }, { 0xd9, 3, XM_F32, 4 }, { 0xdd, 2, XM_F64, 8 },
	{ 0xdd, 3, XM_F64, 8 }, { 0xdb, 7, XM_F80, 10 }, { 0xdf, 2, XM_I16, 2 },
	{ 0xdf, 3, XM_I16, 2 }, { 0xdb, 2, XM_I32, 4 }, { 0xdb, 3, XM_I32, 4 },
	{ 0xdf, 7, XM_I64, 8 }, { 0xdf, 1, XM_I16, 2 }, { 0xdb, 1, XM_I32, 4 },
	{ 0xdd, 1, XM_I64, 8 }, { 0xdf, 6, XM_BCD, 10 },
};

static const struct memfmt *find_fmt(const struct memfmt *t, unsigned n, const struct insn *in)
{
	unsigned reg = (in->modrm >> 3) & 7;
	for (unsigned i = 0; i < n; i++)
		if (t[i].op == in->op && t[i].reg == reg)
			return &t[i];
	return &t[0]; /* unreachable: the opcode table only routes these */
}

/* FLD m32/m64/m80, FILD m16/m32/m64, FBLD m80. */
void op_x87_load(struct cpu *cpu, const struct insn *in)
{
	const struct memfmt *f = find_fmt(loads, ARRAY_SIZE(loads), in);
	u8 buf[10];
	long double v;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	sse_read_mem(cpu, sse_lin(cpu, in, f->size, false, 0), buf, f->size);
	if (x87_overflow(cpu)) {
		if (x87_masked_ie(cpu)) {
			x87_indefinite(&v);
			x87_push(cpu, &v);
		}
		return;
	}
	u16 sw = 0;
	if (f->kind == XM_F80) {
		memset(&v, 0, sizeof(v));
		memcpy(&v, buf, 10); /* FLD m80 converts nothing (SDM Vol. 2 FLD) */
	} else {
		sw = x87_host_load(cpu, f->kind, buf, &v);
	}
	if (x87_raise(cpu, sw))
		return;
	if (f->kind == XM_F80)
		x87_set_c1(cpu, false);
	else
		x87_set_cc(cpu, sw);
	x87_push(cpu, &v);
}

/* FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FISTTP, FBSTP. Unmasked
 * invalid, overflow or underflow store nothing (SDM Vol. 1 8.5). */
void op_x87_store(struct cpu *cpu, const struct insn *in)
{
	const struct memfmt *f = find_fmt(stores, ARRAY_SIZE(stores), in);
	unsigned reg = (in->modrm >> 3) & 7;
	bool pop = f->kind == XM_BCD || (reg & 1) || reg == 7;
	bool trunc = reg == 1;
	u8 buf[16];
	long double v;
	u16 sw = 0;
	if (trunc && !cpu_has_feature(cpu, X86_FEATURE_SSE3))
		cpu_ud(cpu); /* FISTTP is an SSE3 instruction */
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	u64 la = sse_lin(cpu, in, f->size, true, 0);
	if (x87_empty(cpu, 0)) {
		sw = FSW_IE | FSW_SF;
		x87_indefinite(&v);
	} else {
		x87_get(cpu, 0, &v);
	}
	if (f->kind == XM_F80)
		memcpy(buf, &v, 10);
	else
		sw |= x87_host_store(cpu, f->kind, trunc, &v, buf);
	u16 unmasked = sw & ~cpu->fpu.fcw & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE);
	if (!unmasked)
		sse_write_mem(cpu, la, buf, f->size);
	if (f->kind == XM_F80 || (sw & FSW_SF))
		x87_set_c1(cpu, false);
	else
		x87_set_cc(cpu, sw);
	x87_raise(cpu, sw);
	if (pop && !unmasked)
		x87_pop(cpu);
}

/* Read ST(i) for an operation; an empty register is an underflow whose
 * masked response uses the indefinite. Returns false to stop. */
static bool read_st(struct cpu *cpu, unsigned i, long double *v)
{
	if (!x87_empty(cpu, i)) {
		x87_get(cpu, i, v);
		return true;
	}
	if (x87_underflow(cpu))
		return false;
	x87_indefinite(v);
	return true;
}

/* D9 C0+i: FLD ST(i). A full stack and an empty source both fault; the
 * underflow is reported last (C1 = 0), as hardware does. */
void op_x87_fld_st(struct cpu *cpu, const struct insn *in)
{
	long double v;
	unsigned i = in->modrm & 7;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	bool bad = x87_overflow(cpu), empty = x87_empty(cpu, i);
	if (empty)
		x87_underflow(cpu);
	if (bad || empty) {
		if (!x87_masked_ie(cpu))
			return;
		x87_indefinite(&v);
	} else {
		x87_get(cpu, i, &v);
		x87_set_c1(cpu, false);
	}
	x87_push(cpu, &v);
}

/* DD D0+i FST ST(i); DD D8+i (and aliases D9 D8, DF D0, DF D8) FSTP ST(i). */
void op_x87_fst_st(struct cpu *cpu, const struct insn *in)
{
	long double v;
	bool pop = !(in->op == 0xdd && ((in->modrm >> 3) & 7) == 2);
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (!read_st(cpu, 0, &v))
		return;
	x87_set_c1(cpu, false);
	x87_put(cpu, in->modrm & 7, &v);
	if (pop)
		x87_pop(cpu);
}

/* D9 C8+i (and aliases DD C8, DF C8): FXCH ST(i). */
void op_x87_fxch(struct cpu *cpu, const struct insn *in)
{
	long double a, b;
	unsigned i = in->modrm & 7;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if ((x87_empty(cpu, 0) || x87_empty(cpu, i)) && x87_underflow(cpu))
		return;
	if (x87_empty(cpu, 0))
		x87_indefinite(&a);
	else
		x87_get(cpu, 0, &a);
	if (x87_empty(cpu, i))
		x87_indefinite(&b);
	else
		x87_get(cpu, i, &b);
	x87_set_c1(cpu, false);
	x87_put(cpu, 0, &b);
	x87_put(cpu, i, &a);
}

/* D9 E8..EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. The
 * constants are rounded per FCW.RC (SDM Vol. 1 8.3.8). */
void op_x87_fldconst(struct cpu *cpu, const struct insn *in)
{
	long double v;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (x87_overflow(cpu)) {
		if (x87_masked_ie(cpu)) {
			x87_indefinite(&v);
			x87_push(cpu, &v);
		}
		return;
	}
	x87_set_cc(cpu, x87_host_const(cpu, (in->modrm & 7u), &v));
	x87_push(cpu, &v);
}

/* DA/DB C0..DF: FCMOVcc ST(0), ST(i) (B E BE U, NB NE NBE NU). */
void op_x87_fcmov(struct cpu *cpu, const struct insn *in)
{
	static const u8 cc[4] = { 2, 4, 6, 10 }; /* CF, ZF, CF|ZF, PF */
	unsigned reg = (in->modrm >> 3) & 3;
	long double v;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (x87_empty(cpu, 0) || x87_empty(cpu, in->modrm & 7)) {
		if (x87_underflow(cpu))
			return;
		x87_indefinite(&v);
		x87_put(cpu, 0, &v);
		return;
	}
	if (cpu_cond(cpu, cc[reg] | (in->op == 0xdb))) {
		x87_get(cpu, in->modrm & 7, &v);
		x87_put(cpu, 0, &v);
	}
}

/* DD C0+i FFREE; DF C0+i FFREEP (undocumented: free and pop). The
 * condition codes are undefined; C1 is cleared as hardware does. */
void op_x87_ffree(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	x87_set_c1(cpu, false);
	set_tag(cpu, x87_phys(cpu, in->modrm & 7), TAG_EMPTY);
	if (in->op == 0xdf)
		cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}

/* D9 F6 FDECSTP, D9 F7 FINCSTP. */
void op_x87_fstp_inc(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	cpu->fpu.top = (cpu->fpu.top + ((in->modrm & 1) ? 1 : 7)) & 7;
	x87_set_c1(cpu, false);
}

/* D9 D0 FNOP; DB E0/E1/E4 FNENI/FNDISI/FNSETPM are no-ops since the 387. */
void op_x87_fnop(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, in->op == 0xd9 ? X87_WAIT | X87_RECORD : X87_CONTROL);
}

/* ---- control ---- */

/* DB E3 FNINIT, DB E2 FNCLEX. */
void op_x87_fninit(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_CONTROL);
	if ((in->modrm & 7) == 3)
		x87_finit(cpu);
	else
		cpu->fpu.fsw &= ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

/* FCW bit 6 reads as 1 and bits 15:13 as 0 (reserved). */
static void set_fcw(struct cpu *cpu, u16 v)
{
	cpu->fpu.fcw = (v & 0x1f3f) | 0x40;
	if (cpu->fpu.fsw & ~cpu->fpu.fcw & FSW_EXC)
		cpu->fpu.fsw |= FSW_ES | FSW_B;
	else
		cpu->fpu.fsw &= ~(FSW_ES | FSW_B);
}

/* D9 /5: FLDCW m16. */
void op_x87_fldcw(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_WAIT);
	set_fcw(cpu, (u16)cpu_mem_read(cpu, in, 2));
}

/* D9 /7: FNSTCW m16. */
void op_x87_fnstcw(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_CONTROL);
	cpu_mem_write(cpu, in, 2, cpu->fpu.fcw);
}

/* DD /7: FNSTSW m16; DF E0: FNSTSW AX. */
void op_x87_fnstsw(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_CONTROL);
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, 2, x87_get_fsw(cpu));
	else
		cpu_set_reg(cpu, R_AX, 2, false, x87_get_fsw(cpu));
}

/* 9B: FWAIT. #NM only when CR0.MP and CR0.TS are both set. */
void op_fwait(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if ((cpu->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
		cpu_fault_noerr(cpu, X86_EXC_NM);
	fpu_check_pending(cpu);
}

/* ---- environment and full state (SDM Vol. 1 Figures 8-9 to 8-12) ---- */

static bool real_format(const struct cpu *cpu)
{
	return !(cpu->cr0 & X86_CR0_PE) || (cpu->eflags & X86_EFLAGS_VM);
}

static unsigned env_size(const struct insn *in)
{
	return in->opsize == 2 ? 14 : 28;
}

/* Reserved upper halves of the 32-bit image are written as ones, as Intel
 * processors do. FCS and FDS are stored as 0. */
static void env_put(const struct cpu *cpu, u8 *p, bool o16)
{
	u64 ip = cpu->fpu.fip, dp = cpu->fpu.fdp, fop = cpu->fpu.fop & 0x7ffu;
	u64 w[7] = { cpu->fpu.fcw, x87_get_fsw(cpu), x87_full_tag_word(cpu), ip, 0, dp, 0 };
	if (real_format(cpu)) {
		w[3] = ip & 0xffff;
		w[4] = ((ip >> 16) << 12) | fop;
		w[5] = dp & 0xffff;
		w[6] = (dp >> 16) << 12;
	} else if (!o16) {
		w[4] = fop << 16;
	}
	bool real = real_format(cpu);
	for (unsigned k = 0; k < 7; k++) {
		if (o16)
			store_le(p + 2 * k, 2, w[k]);
		else
			store_le(p + 4 * k, 4, (u32)w[k] | (k < 3 || (k == 6 && !real) ? 0xffff0000u : 0));
	}
}

static void env_get(struct cpu *cpu, const u8 *p, bool o16)
{
	u64 w[7];
	for (unsigned k = 0; k < 7; k++)
		w[k] = o16 ? load_le(p + 2 * k, 2) : load_le(p + 4 * k, 4);
	cpu->fpu.fcw = (u16)((w[0] & 0x1f3f) | 0x40);
	x87_set_fsw(cpu, (u16)w[1]);
	x87_set_full_tag_word(cpu, (u16)w[2]);
	if (real_format(cpu)) {
		cpu->fpu.fip = (w[3] & 0xffff) | ((w[4] >> 12) << 16);
		cpu->fpu.fop = w[4] & 0x7ff;
		cpu->fpu.fdp = (w[5] & 0xffff) | ((w[6] >> 12) << 16);
	} else {
		cpu->fpu.fip = w[3] & (o16 ? 0xffff : 0xffffffff);
		cpu->fpu.fop = o16 ? cpu->fpu.fop : (u16)((w[4] >> 16) & 0x7ff);
		cpu->fpu.fdp = w[5] & (o16 ? 0xffff : 0xffffffff);
	}
}

/* D9 /6 FNSTENV, DD /6 FNSAVE: store, then mask all exceptions (FNSTENV)
 * or reinitialize (FNSAVE). */
void op_x87_fnstenv(struct cpu *cpu, const struct insn *in)
{
	bool save = in->op == 0xdd;
	unsigned n = env_size(in), total = n + (save ? 80 : 0);
	u8 buf[108];
	x87_begin(cpu, in, X87_CONTROL);
	u64 la = sse_lin(cpu, in, total, true, 0);
	env_put(cpu, buf, n == 14);
	for (unsigned i = 0; save && i < 8; i++)
		x87_get_st80(cpu, i, buf + n + 10 * i);
	sse_write_mem(cpu, la, buf, total);
	if (save)
		x87_finit(cpu);
	else
		cpu->fpu.fcw |= FCW_EXC_MASKS;
}

/* D9 /4 FLDENV, DD /4 FRSTOR. */
void op_x87_fldenv(struct cpu *cpu, const struct insn *in)
{
	bool rstor = in->op == 0xdd;
	unsigned n = env_size(in), total = n + (rstor ? 80 : 0);
	u8 buf[108];
	x87_begin(cpu, in, X87_WAIT);
	sse_read_mem(cpu, sse_lin(cpu, in, total, false, 0), buf, total);
	env_get(cpu, buf, n == 14);
	for (unsigned i = 0; rstor && i < 8; i++)
		x87_set_st80(cpu, i, buf + n + 10 * i);
}
