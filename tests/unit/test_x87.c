/* test_x87.c: x87 instructions in cetvm's interpreter compared with the host CPU running
 * the same bytes from the same state (fpu_oracle.h): random stacks with special values
 * (NaN, SNaN, inf, denormals, unsupported formats, -0), every rounding and precision
 * mode, stack underflow/overflow; plus #NM/#MF rules. */
#include "cpu/x87.h"
#include "fpu_oracle.h"

enum { M_NONE, M_F32, M_F64, M_F80, M_I16, M_I32, M_I64, M_BCD, M_CW, M_ENV };

#define CC_ALL 0xffffu
#define CC_ARITH (0xffffu & ~(FSW_C0 | FSW_C2 | FSW_C3)) /* C0, C2, C3 undefined */

struct xtest {
	const char *name;
	u8 op, modrm; /* modrm: register forms add a random i unless fixed */
	u8 mem;       /* M_*: memory form with ModRM.reg = modrm >> 3 and [rbx] */
	bool fixed;   /* the ModRM byte is complete */
	u16 fsw_mask;
	u16 skip_lo, skip_hi; /* memory bytes not compared (FIP/FDP fields) */
	u8 pfx;               /* 0 or 0x66 (16-bit environment formats) */
};

#define R(n, o, m, mask) { n, o, m, M_NONE, false, mask, 0, 0, 0 }
#define F(n, o, m, mask) { n, o, m, M_NONE, true, mask, 0, 0, 0 }
#define M(n, o, r, k, mask) { n, o, (u8)((r) << 3), k, true, mask, 0, 0, 0 }

static const struct xtest tests[] = {
	R("fadd st,st(i)", 0xd8, 0xc0, CC_ARITH), R("fmul st,st(i)", 0xd8, 0xc8, CC_ARITH),
	R("fcom st(i)", 0xd8, 0xd0, CC_ALL), R("fcomp st(i)", 0xd8, 0xd8, CC_ALL),
	R("fsub st,st(i)", 0xd8, 0xe0, CC_ARITH), R("fsubr st,st(i)", 0xd8, 0xe8, CC_ARITH),
	R("fdiv st,st(i)", 0xd8, 0xf0, CC_ARITH), R("fdivr st,st(i)", 0xd8, 0xf8, CC_ARITH),
	R("fadd st(i),st", 0xdc, 0xc0, CC_ARITH), R("fmul st(i),st", 0xdc, 0xc8, CC_ARITH),
	R("fsubr st(i),st", 0xdc, 0xe0, CC_ARITH), R("fsub st(i),st", 0xdc, 0xe8, CC_ARITH),
	R("fdivr st(i),st", 0xdc, 0xf0, CC_ARITH), R("fdiv st(i),st", 0xdc, 0xf8, CC_ARITH),
	R("faddp", 0xde, 0xc0, CC_ARITH), R("fmulp", 0xde, 0xc8, CC_ARITH),
	R("fsubrp", 0xde, 0xe0, CC_ARITH), R("fsubp", 0xde, 0xe8, CC_ARITH),
	R("fdivrp", 0xde, 0xf0, CC_ARITH), R("fdivp", 0xde, 0xf8, CC_ARITH),
	F("fcompp", 0xde, 0xd9, CC_ALL), F("fucompp", 0xda, 0xe9, CC_ALL),
	R("fld st(i)", 0xd9, 0xc0, CC_ALL), R("fxch", 0xd9, 0xc8, CC_ALL),
	R("ffree", 0xdd, 0xc0, CC_ALL), R("fst st(i)", 0xdd, 0xd0, CC_ALL),
	R("fstp st(i)", 0xdd, 0xd8, CC_ALL), R("fucom", 0xdd, 0xe0, CC_ALL),
	R("fucomp", 0xdd, 0xe8, CC_ALL),
	R("fcmovb", 0xda, 0xc0, CC_ARITH), R("fcmove", 0xda, 0xc8, CC_ARITH),
	R("fcmovbe", 0xda, 0xd0, CC_ARITH), R("fcmovu", 0xda, 0xd8, CC_ARITH),
	R("fcmovnb", 0xdb, 0xc0, CC_ARITH), R("fcmovne", 0xdb, 0xc8, CC_ARITH),
	R("fcmovnbe", 0xdb, 0xd0, CC_ARITH), R("fcmovnu", 0xdb, 0xd8, CC_ARITH),
	R("fucomi", 0xdb, 0xe8, CC_ARITH), R("fcomi", 0xdb, 0xf0, CC_ARITH),
	R("fucomip", 0xdf, 0xe8, CC_ARITH), R("fcomip", 0xdf, 0xf0, CC_ARITH),
	F("fnstsw ax", 0xdf, 0xe0, CC_ALL), F("fchs", 0xd9, 0xe0, CC_ALL), F("fabs", 0xd9, 0xe1, CC_ALL),
	F("ftst", 0xd9, 0xe4, CC_ALL), F("fxam", 0xd9, 0xe5, CC_ALL), F("fld1", 0xd9, 0xe8, CC_ALL),
	F("fldl2t", 0xd9, 0xe9, CC_ALL), F("fldl2e", 0xd9, 0xea, CC_ALL), F("fldpi", 0xd9, 0xeb, CC_ALL),
	F("fldlg2", 0xd9, 0xec, CC_ALL), F("fldln2", 0xd9, 0xed, CC_ALL), F("fldz", 0xd9, 0xee, CC_ALL),
	F("f2xm1", 0xd9, 0xf0, CC_ARITH), F("fyl2x", 0xd9, 0xf1, CC_ARITH),
	F("fptan", 0xd9, 0xf2, CC_ARITH | FSW_C2), F("fpatan", 0xd9, 0xf3, CC_ARITH),
	F("fxtract", 0xd9, 0xf4, CC_ARITH), F("fprem1", 0xd9, 0xf5, CC_ALL),
	F("fdecstp", 0xd9, 0xf6, CC_ARITH), F("fincstp", 0xd9, 0xf7, CC_ARITH),
	F("fprem", 0xd9, 0xf8, CC_ALL), F("fyl2xp1", 0xd9, 0xf9, CC_ARITH),
	F("fsqrt", 0xd9, 0xfa, CC_ARITH), F("fsincos", 0xd9, 0xfb, CC_ARITH | FSW_C2),
	F("frndint", 0xd9, 0xfc, CC_ARITH), F("fscale", 0xd9, 0xfd, CC_ARITH),
	F("fsin", 0xd9, 0xfe, CC_ARITH | FSW_C2), F("fcos", 0xd9, 0xff, CC_ARITH | FSW_C2),
	F("fnclex", 0xdb, 0xe2, CC_ALL), F("fninit", 0xdb, 0xe3, CC_ALL), F("fnop", 0xd9, 0xd0, CC_ALL),
	M("fadd m32", 0xd8, 0, M_F32, CC_ARITH), M("fmul m32", 0xd8, 1, M_F32, CC_ARITH),
	M("fcom m32", 0xd8, 2, M_F32, CC_ALL), M("fcomp m32", 0xd8, 3, M_F32, CC_ALL),
	M("fsub m32", 0xd8, 4, M_F32, CC_ARITH), M("fsubr m32", 0xd8, 5, M_F32, CC_ARITH),
	M("fdiv m32", 0xd8, 6, M_F32, CC_ARITH), M("fdivr m32", 0xd8, 7, M_F32, CC_ARITH),
	M("fadd m64", 0xdc, 0, M_F64, CC_ARITH), M("fcom m64", 0xdc, 2, M_F64, CC_ALL),
	M("fsubr m64", 0xdc, 5, M_F64, CC_ARITH), M("fdiv m64", 0xdc, 6, M_F64, CC_ARITH),
	M("fiadd m32", 0xda, 0, M_I32, CC_ARITH), M("fimul m32", 0xda, 1, M_I32, CC_ARITH),
	M("ficom m32", 0xda, 2, M_I32, CC_ALL), M("fisubr m32", 0xda, 5, M_I32, CC_ARITH),
	M("fidiv m16", 0xde, 6, M_I16, CC_ARITH), M("ficomp m16", 0xde, 3, M_I16, CC_ALL),
	M("fisub m16", 0xde, 4, M_I16, CC_ARITH),
	M("fld m32", 0xd9, 0, M_F32, CC_ARITH), M("fst m32", 0xd9, 2, M_F32, CC_ARITH),
	M("fstp m32", 0xd9, 3, M_F32, CC_ARITH), M("fld m64", 0xdd, 0, M_F64, CC_ARITH),
	M("fst m64", 0xdd, 2, M_F64, CC_ARITH), M("fstp m64", 0xdd, 3, M_F64, CC_ARITH),
	M("fld m80", 0xdb, 5, M_F80, CC_ARITH), M("fstp m80", 0xdb, 7, M_F80, CC_ARITH),
	M("fild m16", 0xdf, 0, M_I16, CC_ARITH), M("fild m32", 0xdb, 0, M_I32, CC_ARITH),
	M("fild m64", 0xdf, 5, M_I64, CC_ARITH), M("fist m16", 0xdf, 2, M_I16, CC_ARITH),
	M("fistp m16", 0xdf, 3, M_I16, CC_ARITH), M("fist m32", 0xdb, 2, M_I32, CC_ARITH),
	M("fistp m32", 0xdb, 3, M_I32, CC_ARITH), M("fistp m64", 0xdf, 7, M_I64, CC_ARITH),
	M("fisttp m16", 0xdf, 1, M_I16, CC_ARITH), M("fisttp m32", 0xdb, 1, M_I32, CC_ARITH),
	M("fisttp m64", 0xdd, 1, M_I64, CC_ARITH), M("fbld", 0xdf, 4, M_BCD, CC_ARITH),
	M("fbstp", 0xdf, 6, M_BCD, CC_ARITH), M("fldcw", 0xd9, 5, M_CW, CC_ALL),
	M("fnstcw", 0xd9, 7, M_NONE, CC_ALL), M("fnstsw m16", 0xdd, 7, M_NONE, CC_ALL),
	M("fldenv", 0xd9, 4, M_ENV, CC_ALL), M("frstor", 0xdd, 4, M_ENV, CC_ALL),
	{ "fnstenv", 0xd9, 6 << 3, M_NONE, true, CC_ALL, 12, 28, 0 },
	{ "fnsave", 0xdd, 6 << 3, M_NONE, true, CC_ALL, 12, 28, 0 },
	{ "fnstenv o16", 0xd9, 6 << 3, M_NONE, true, CC_ALL, 6, 14, 0x66 },
	{ "fnsave o16", 0xdd, 6 << 3, M_NONE, true, CC_ALL, 6, 14, 0x66 },
	{ "fldenv o16", 0xd9, 4 << 3, M_ENV, true, CC_ALL, 0, 0, 0x66 },
	{ "frstor o16", 0xdd, 4 << 3, M_ENV, true, CC_ALL, 0, 0, 0x66 },
};

/* 80-bit special values: significand, sign/exponent. */
static const struct { u64 m; u16 se; } specials[] = {
	{ 0, 0 }, { 0, 0x8000 }, { 1ull << 63, 0x3fff }, { 1ull << 63, 0xbfff },
	{ 1ull << 63, 0x7fff }, { 1ull << 63, 0xffff }, { 3ull << 62, 0x7fff },
	{ (1ull << 63) | 1, 0x7fff }, { 3ull << 62, 0xffff }, { 0x1234, 0 }, { 1ull << 63, 0 },
	{ 0x4000000000000000ull, 0x4000 }, { 0, 0x7fff }, { 0x1234, 0x7fff },
	{ ~0ull, 0x7ffe }, { 1ull << 63, 0x0001 }, { 1ull << 63, 0x403e }, { 1ull << 63, 0x403f },
	{ 1ull << 63, 0x3ffe }, { 0xc000000000000000ull, 0x4000 }, { 0xa000000000000000ull, 0x4000 },
	{ 0xc90fdaa22168c235ull, 0x4000 }, { 0xffffffffffffffffull, 0x403d }, { 1ull << 63, 0x4040 },
	{ 1ull << 63, 0x3fbf }, { 0x8000000000000800ull, 0x401e },
};

static void rand_f80(struct oracle *o, u8 *p)
{
	u64 m;
	u16 se;
	if (!(o_rand(o) & 3)) {
		unsigned k = (unsigned)(o_rand(o) % ARRAY_SIZE(specials));
		m = specials[k].m;
		se = specials[k].se;
	} else {
		m = o_rand(o) | (1ull << 63);
		if (!(o_rand(o) & 7))
			m &= ~0ull << (o_rand(o) % 64); /* short significands: exact cases */
		se = (u16)(0x3fff + (int)(o_rand(o) % 140) - 70);
		if (!(o_rand(o) & 15))
			se = (u16)(o_rand(o) & 0x7fff);
		se |= (u16)((o_rand(o) & 1) << 15);
	}
	store_le(p, 8, m);
	store_le(p + 8, 2, se);
	memset(p + 10, 0, 6);
}

static void rand_mem(struct oracle *o, u8 *mem, int kind)
{
	o_rand_vec(o, mem, kind == M_F32 ? 1 : kind == M_F64 ? 2 : 0);
	o_rand_vec(o, mem + 16, 0);
	switch (kind) {
	case M_F80: rand_f80(o, mem); break;
	case M_I16: store_le(mem, 2, o_rand(o) & 1 ? o_rand(o) : o_rand(o) % 5 - 2); break;
	case M_I32: store_le(mem, 4, o_rand(o) & 1 ? o_rand(o) : o_rand(o) % 5 - 2); break;
	case M_I64: store_le(mem, 8, o_rand(o) >> (o_rand(o) % 64)); break;
	case M_BCD:
		for (int i = 0; i < 9; i++)
			mem[i] = (u8)((o_rand(o) % 10) | ((o_rand(o) % 10) << 4));
		mem[9] = (u8)(o_rand(o) & 0x80);
		break;
	case M_CW: store_le(mem, 2, (o_rand(o) & 0x0f3f) | 0x40); break;
	case M_ENV:
		store_le(mem, 4, (o_rand(o) & 0x0f00) | 0x7f);
		store_le(mem + 4, 4, o_rand(o) & 0x7f7f);
		store_le(mem + 8, 4, o_rand(o));
		for (int i = 0; i < 8; i++)
			rand_f80(o, mem + 28 + 10 * i);
		break;
	default: break;
	}
}

/* Random x87 state: TOP, tags, register values, FCW with every exception
 * masked and a random RC and PC (not the reserved PC = 1). */
static void make_state(struct oracle *o, const struct xtest *t, struct ostate *st, u8 *mem)
{
	static const u16 pc[3] = { 0x000, 0x200, 0x300 };
	o_rand_state(o, st, mem, 0);
	unsigned top = (unsigned)(o_rand(o) & 7);
	unsigned nvalid = (unsigned)(o_rand(o) % 9);
	if (o_rand(o) & 1)
		nvalid = o_rand(o) & 1 ? 8 : 2 + (unsigned)(o_rand(o) % 3);
	u8 tags = 0;
	for (unsigned i = 0; i < 8; i++) {
		rand_f80(o, st->fx + 32 + 16 * i);
		if (i < nvalid)
			tags |= (u8)(1u << ((top + i) & 7));
	}
	if (!(o_rand(o) & 7))
		tags ^= (u8)(1u << (o_rand(o) & 7)); /* a hole in the stack */
	st->fx[4] = tags;
	u16 fcw = (u16)(0x7f | pc[o_rand(o) % 3] | (o_rand(o) & 0xc00));
	store_le(st->fx, 2, fcw);
	store_le(st->fx + 2, 2, (top << 11) | (o_rand(o) & 0x473f & ~0x80u));
	rand_mem(o, mem, t->mem);
}

static void run_group(struct oracle *o, const struct xtest *t, int cases)
{
	struct ocmp m = { .fsw_mask = t->fsw_mask, .flags_mask = X86_EFLAGS_ARITH, .x87_regs = true };
	char why[160] = "";
	u8 mem[4096], b[3];
	struct ostate st;
	bool ok = true;
	unsigned n = t->pfx ? 3 : 2;
	for (int i = 0; i < cases && ok; i++) {
		u8 modrm = t->modrm;
		if (t->mem != M_NONE || t->skip_hi || (t->fixed && (t->modrm & 0xc0) != 0xc0))
			modrm = (u8)((t->modrm & 0x38) | 3);
		else if (!t->fixed)
			modrm = (u8)(modrm + (o_rand(o) & 7));
		b[0] = t->pfx;
		b[n - 2] = t->op;
		b[n - 1] = modrm;
		make_state(o, t, &st, mem);
		if (t->pfx && t->mem == M_ENV) { /* 16-bit image: FCW FSW FTW, then 80-byte regs */
			store_le(mem, 2, (o_rand(o) & 0x0f00) | 0x7f);
			store_le(mem + 2, 2, o_rand(o) & 0x7f7f);
			store_le(mem + 4, 2, o_rand(o));
			for (int k = 0; k < 8; k++)
				memcpy(mem + 14 + 10 * k, mem + 28 + 10 * k, 10);
		}
		if (t->skip_hi) {
			struct ostate e = st, h = st;
			u8 me[4096], mh[4096];
			memcpy(me, mem, 4096);
			memcpy(mh, mem, 4096);
			ok = o_emu(o, b, n, &e, me) == -1;
			o_host(o, b, n, &h, mh);
			memset(me + t->skip_lo, 0, t->skip_hi - t->skip_lo);
			memset(mh + t->skip_lo, 0, t->skip_hi - t->skip_lo);
			ok = ok && o_same(&e, &h, me, mh, &m, why, sizeof(why));
		} else {
			ok = o_check(o, b, n, &st, mem, &m, why, sizeof(why));
		}
		if (!ok) {
			snprintf(why + strlen(why), sizeof(why) - strlen(why), " (case %d modrm %02x)", i,
				 modrm);
			if (getenv("ORACLE_VERBOSE")) {
				struct ostate e = st, h = st;
				u8 me[4096], mh[4096];
				memcpy(me, mem, 4096);
				memcpy(mh, mem, 4096);
				o_dump_x87("start", &st, mem);
				o_emu(o, b, n, &e, me);
				o_host(o, b, n, &h, mh);
				o_dump_x87("emu", &e, me);
				o_dump_x87("host", &h, mh);
			}
		}
	}
	report(ok, "%s matches the host%s%s", t->name, ok ? "" : ": ", ok ? "" : why);
}

static void fault_rules(struct oracle *o)
{
	static const u8 fadd[] = { 0xd8, 0xc1 }, fwait[] = { 0x9b }, fninit[] = { 0xdb, 0xe3 };
	struct cpu *c = o->cpu;
	struct ostate st;
	u8 mem[4096];
	struct xtest none = { "", 0, 0, M_NONE, true, 0, 0, 0, 0 };
	make_state(o, &none, &st, mem);
	c->cr0 |= X86_CR0_EM;
	report(o_emu(o, fadd, 2, &st, mem) == X86_EXC_NM, "CR0.EM=1: fadd -> #NM");
	o_reset_cpu(o);
	c->cr0 |= X86_CR0_TS;
	report(o_emu(o, fadd, 2, &st, mem) == X86_EXC_NM, "CR0.TS=1: fadd -> #NM");
	report(o_emu(o, fwait, 1, &st, mem) == X86_EXC_NM, "CR0.TS=1, MP=1: fwait -> #NM");
	c->cr0 &= ~X86_CR0_MP;
	report(o_emu(o, fwait, 1, &st, mem) == -1, "CR0.TS=1, MP=0: fwait runs");
	o_reset_cpu(o);

	/* An unmasked exception sets ES/B and is delivered as #MF by the next
	 * waiting instruction, not by the one that raised it (SDM Vol. 1 8.6). */
	store_le(st.fx, 2, 0x37f & ~FSW_ZE); /* unmask ZE */
	store_le(st.fx + 2, 2, 0);
	st.fx[4] = 0xff;
	store_le(st.fx + 32, 8, 1ull << 63);
	store_le(st.fx + 40, 2, 0x3fff); /* ST0 = 1.0 */
	store_le(mem, 4, 0);             /* m32 = +0.0 */
	struct ostate s2 = st;
	static const u8 fdiv_m[] = { 0xd8, 0x33 };
	int v = o_emu(o, fdiv_m, 2, &s2, mem); /* ST0 / 0 */
	u16 fsw = (u16)load_le(s2.fx + 2, 2);
	report(v == -1 && (fsw & FSW_ZE) && (fsw & FSW_ES) && (fsw & FSW_B) &&
		       load_le(s2.fx + 32, 8) == 1ull << 63,
	       "unmasked ZE: fdiv sets ZE, ES, B and leaves ST0");
	report(o_emu(o, fadd, 2, &s2, mem) == X86_EXC_MF, "pending exception: next fadd -> #MF");
	report(o_emu(o, fwait, 1, &s2, mem) == X86_EXC_MF, "pending exception: fwait -> #MF");
	report(o_emu(o, fninit, 2, &s2, mem) == -1 && !(load_le(s2.fx + 2, 2) & FSW_ES),
	       "fninit does not wait and clears ES");
}

int main(void)
{
	struct oracle o;
	if (o_init(&o)) {
		report(0, "oracle setup");
		return 1;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		run_group(&o, &tests[i], 400);
	fault_rules(&o);
	o_fini(&o);
	return 0;
}
