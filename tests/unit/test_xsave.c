/* test_xsave.c: the XSAVE feature set in cetvm's interpreter: standard and compacted
 * layouts (spec/cet.md §1.2, §4 worked examples incl. the CET components), XSAVES/XRSTORS
 * with validation, XSETBV/XGETBV rules, FXSAVE/FXRSTOR, the KVM-style standard image,
 * and XSAVE/XSAVEC/XRSTOR/FXSAVE against the host CPU (fpu_oracle.h).
 * Covers: 38 39 40 41 42 43 (spec/cet.md §12, at the unit level)
 */
#include <errno.h>

#include "fpu_oracle.h"

static const u8 xsaves[] = { 0x0f, 0xc7, 0x2b };   /* xsaves [rbx] */
static const u8 xrstors[] = { 0x0f, 0xc7, 0x1b };  /* xrstors [rbx] */
static const u8 xsave[] = { 0x0f, 0xae, 0x23 };    /* xsave [rbx] */
static const u8 xsavec[] = { 0x0f, 0xc7, 0x23 };   /* xsavec [rbx] */
static const u8 xrstor[] = { 0x0f, 0xae, 0x2b };   /* xrstor [rbx] */
static const u8 xsave64[] = { 0x48, 0x0f, 0xae, 0x23 };
static const u8 xrstor64[] = { 0x48, 0x0f, 0xae, 0x2b };
static const u8 xsavec64[] = { 0x48, 0x0f, 0xc7, 0x23 };
static const u8 fxsave[] = { 0x0f, 0xae, 0x03 }, fxsave64[] = { 0x48, 0x0f, 0xae, 0x03 };
static const u8 fxrstor64[] = { 0x48, 0x0f, 0xae, 0x0b };
static const u8 xsetbv[] = { 0x0f, 0x01, 0xd1 }, xgetbv[] = { 0x0f, 0x01, 0xd0 };

static void layout(void)
{
	report(xsave_size_std(0x3) == 576 && xsave_size_std(0x7) == 832 &&
		       xsave_size_std(0x207) == 2696 && xsave_size_std(0x1803) == 576,
	       "standard sizes: 576, 832 (AVX), 2696 (PKRU); CET has no standard offset");
	report(xsave_size_cmp(0x1807) == 872 && xsave_size_cmp(0x7) == 832,
	       "compacted size: XCR0=0x7|XSS=0x1800 -> 872 (832 without XSS) (spec 4)");
	report(xsave_offset_cmp(0x8000000000001807ull, 2) == 576 &&
		       xsave_offset_cmp(0x8000000000001807ull, 11) == 832 &&
		       xsave_offset_cmp(0x8000000000001807ull, 12) == 848,
	       "compacted offsets: AVX@576, CET_U@832, CET_S@848 (spec 4)");
	report(xsave_offset_cmp(0x1a07, 11) == 840 && xsave_offset_cmp(0x1a07, 12) == 856 &&
		       xsave_size_cmp(0x1a07) == 880,
	       "XCR0=0x207: CET_U@840, CET_S@856, total 880 (spec 4)");
	report(xsave_offset_cmp(0x1000, 12) == 576 && xsave_size_cmp(0x1000) == 600 &&
		       xsave_offset_cmp(0x800, 11) == 576 && xsave_size_cmp(0x800) == 592,
	       "RFBM=0x1000 alone: CET_S@576 (600); 0x800 alone: CET_U@576 (592)");
	u32 sz, off, ecx;
	report(xsave_component(11, &sz, &off, &ecx) && sz == 16 && off == 0 && ecx == 1 &&
		       xsave_component(12, &sz, &off, &ecx) && sz == 24 && off == 0 && ecx == 1 &&
		       !xsave_component(3, &sz, &off, &ecx),
	       "CPUID(0xD,11/12) = {16,0,1} / {24,0,1}");
}

static void set_cet(struct cpu *c)
{
	c->cet.u_cet = CET_SHSTK_EN | CET_ENDBR_EN;
	c->cet.pl_ssp[3] = 0x7fff0000ff8ull;
	c->cet.pl_ssp[0] = 0xffff800000001000ull;
	c->cet.pl_ssp[1] = 0xffff800000002000ull;
	c->cet.pl_ssp[2] = 0xffff800000003000ull;
}

/* Run bytes with EDX:EAX = mask on the emulator; memory in/out. */
static int run(struct oracle *o, const u8 *b, unsigned n, u64 mask, u8 *mem)
{
	struct cpu *c = o->cpu;
	struct ostate st;
	u8 img[XSAVE_STD_IMAGE];
	memset(&st, 0, sizeof(st));
	cpu_xsave_to_std(c, img); /* keep the current x87/SSE state */
	memcpy(st.fx, img, 512);
	st.gpr[R_AX] = (u32)mask;
	st.gpr[R_DX] = mask >> 32;
	st.gpr[R_CX] = c->r[R_CX];
	return o_emu(o, b, n, &st, mem);
}

static void xsaves_cet(struct oracle *o)
{
	struct cpu *c = o->cpu;
	u8 mem[4096];
	o_reset_cpu(o);
	c->feat[FL_7_0][FR_ECX] |= 1u << 7; /* SHSTK */
	c->xcr0 = 0x7;
	c->xss = 0x1800;
	set_cet(c);
	c->fpu.xmm[3].q[0] = 0x1234;
	memset(mem, 0xcc, sizeof(mem));
	int v = run(o, xsaves, 3, ~0ull, mem);
	report(v == -1 && load_le(mem + 520, 8) == 0x8000000000001807ull,
	       "XSAVES XCR0=0x7 XSS=0x1800: XCOMP_BV = 0x8000000000001807");
	report(load_le(mem + 832, 8) == c->cet.u_cet && load_le(mem + 840, 8) == c->cet.pl_ssp[3] &&
		       load_le(mem + 848, 8) == c->cet.pl_ssp[0] &&
		       load_le(mem + 856, 8) == c->cet.pl_ssp[1] &&
		       load_le(mem + 864, 8) == c->cet.pl_ssp[2],
	       "XSAVES: U_CET@832 PL3_SSP@840 PL0@848 PL1@856 PL2@864");
	report(load_le(mem + 512, 8) == 0x1802 && mem[872] == 0xcc,
	       "XSAVES: XSTATE_BV = in-use components (0x1802), nothing past 872");

	memset(mem, 0, sizeof(mem));
	v = run(o, xsaves, 3, 0x1000, mem);
	report(v == -1 && load_le(mem + 576, 8) == c->cet.pl_ssp[0] &&
		       load_le(mem + 520, 8) == 0x8000000000001000ull && load_le(mem + 512, 8) == 0x1000,
	       "XSAVES RFBM=0x1000: PL0_SSP at 576");

	/* Round trip through XRSTORS. */
	u8 img[4096];
	memset(img, 0, sizeof(img));
	run(o, xsaves, 3, ~0ull, img);
	struct cet_state saved = c->cet;
	memset(&c->cet.pl_ssp, 0, sizeof(c->cet.pl_ssp));
	c->cet.u_cet = 0;
	c->fpu.xmm[3].q[0] = 0;
	memcpy(mem, img, sizeof(img));
	v = run(o, xrstors, 3, ~0ull, mem);
	report(v == -1 && !memcmp(c->cet.pl_ssp, saved.pl_ssp, sizeof(saved.pl_ssp)) &&
		       c->cet.u_cet == saved.u_cet && c->fpu.xmm[3].q[0] == 0x1234,
	       "XRSTORS restores U_CET, PL0..3_SSP and XMM");

	/* XSTATE_BV bit clear: the component is initialized (zeros). */
	memcpy(mem, img, sizeof(img));
	store_le(mem + 512, 8, load_le(img + 512, 8) & ~0x800ull);
	v = run(o, xrstors, 3, ~0ull, mem);
	report(v == -1 && c->cet.u_cet == 0 && c->cet.pl_ssp[3] == 0 && c->cet.pl_ssp[0] == saved.pl_ssp[0],
	       "XRSTORS with XSTATE_BV[11]=0 initializes CET_U only");
}

/* spec 4: invalid CET values -> #GP(0) and XRSTORS loads nothing. */
static void xrstors_validation(struct oracle *o)
{
	struct cpu *c = o->cpu;
	static const struct { unsigned off; u64 v; const char *what; } bad[] = {
		{ 832, CET_SHSTK_EN | (1ull << 6), "U_CET reserved bit 6" },
		{ 832, CET_SUPPRESS | CET_WAIT_ENDBR, "U_CET SUPPRESS with TRACKER" },
		{ 832, 1ull << 12, "U_CET bitmap base bits 13:12" },
		{ 840, 0x0000800000000000ull, "PL3_SSP non-canonical" },
		{ 848, 0xffff800000001002ull, "PL0_SSP bits 1:0" },
		{ 864, 0x1234500000000000ull, "PL2_SSP non-canonical" },
	};
	u8 img[4096], mem[4096];
	o_reset_cpu(o);
	c->feat[FL_7_0][FR_ECX] |= 1u << 7;
	c->xcr0 = 0x7;
	c->xss = 0x1800;
	set_cet(c);
	memset(img, 0, sizeof(img));
	run(o, xsaves, 3, ~0ull, img);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(mem, img, sizeof(img));
		store_le(mem + 160, 8, 0xdeadbeef); /* XMM0 in the image */
		store_le(mem + bad[i].off, 8, bad[i].v);
		store_le(mem + 512, 8, 0x1803);
		struct cet_state before = c->cet;
		u64 x0 = c->fpu.xmm[0].q[0];
		int v = run(o, xrstors, 3, ~0ull, mem);
		report(v == X86_EXC_GP && !memcmp(&before, &c->cet, sizeof(before)) &&
			       c->fpu.xmm[0].q[0] == x0,
		       "XRSTORS %s -> #GP, nothing loaded", bad[i].what);
	}
	/* Without IBT in CPUID, ENDBR_EN in U_CET is invalid too. */
	c->feat[FL_7_0][FR_EDX] &= ~(1u << 20);
	memcpy(mem, img, sizeof(img));
	report(run(o, xrstors, 3, ~0ull, mem) == X86_EXC_GP, "XRSTORS ENDBR_EN without IBT -> #GP");
	o_reset_cpu(o);
	c->xcr0 = 0x7;
	c->xss = 0x1800;

	struct { u64 xstate, xcomp; unsigned rsvd; const char *what; } hdr[] = {
		{ 0x3, 0x3, 0, "standard-format header (XCOMP_BV[63]=0)" },
		{ 0x3, 0x8000000000000203ull, 0, "XCOMP_BV bit 9 outside XCR0|XSS" },
		{ 0x807, 0x8000000000000007ull, 0, "XSTATE_BV bit not in XCOMP_BV" },
		{ 0x3, 0x8000000000001807ull, 40, "reserved header bytes" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(hdr); i++) {
		memset(mem, 0, sizeof(mem));
		store_le(mem + 24, 4, 0x1f80);
		store_le(mem + 512, 8, hdr[i].xstate);
		store_le(mem + 520, 8, hdr[i].xcomp);
		if (hdr[i].rsvd)
			mem[512 + hdr[i].rsvd] = 1;
		report(run(o, xrstors, 3, ~0ull, mem) == X86_EXC_GP, "XRSTORS %s -> #GP", hdr[i].what);
	}
	memset(mem, 0, sizeof(mem));
	c->cpl = 3;
	report(run(o, xsaves, 3, ~0ull, mem) == X86_EXC_GP, "XSAVES at CPL 3 -> #GP");
	report(run(o, xrstors, 3, ~0ull, mem) == X86_EXC_GP, "XRSTORS at CPL 3 -> #GP");
	o_reset_cpu(o);
	c->cr4 &= ~X86_CR4_OSXSAVE;
	report(run(o, xsave, 3, ~0ull, mem) == X86_EXC_UD, "XSAVE with CR4.OSXSAVE=0 -> #UD");
	report(run(o, xgetbv, 3, 0, mem) == X86_EXC_UD, "XGETBV with CR4.OSXSAVE=0 -> #UD");
	o_reset_cpu(o);
	c->cr0 |= X86_CR0_TS;
	report(run(o, xsave, 3, ~0ull, mem) == X86_EXC_NM, "XSAVE with CR0.TS=1 -> #NM");
	report(run(o, fxsave, 3, 0, mem) == X86_EXC_NM, "FXSAVE with CR0.TS=1 -> #NM");
	o_reset_cpu(o);
	static const u8 xsave_mis[] = { 0x0f, 0xae, 0x63, 0x10 }; /* xsave [rbx+16] */
	static const u8 fxsave_mis[] = { 0x0f, 0xae, 0x43, 0x08 };
	report(run(o, xsave_mis, 4, ~0ull, mem) == X86_EXC_GP, "XSAVE not 64-byte aligned -> #GP");
	report(run(o, fxsave_mis, 4, 0, mem) == X86_EXC_GP, "FXSAVE not 16-byte aligned -> #GP");
}

static void xsetbv_rules(struct oracle *o)
{
	struct cpu *c = o->cpu;
	u8 mem[4096];
	static const struct { u64 v; const char *what; } bad[] = {
		{ 0x803, "bit 11 (CET_U)" }, { 0x1003, "bit 12 (CET_S)" }, { 0x2, "bit 0 clear" },
		{ 0x5, "AVX without SSE" }, { 0x13, "bit 4 outside the mask" },
	};
	o_reset_cpu(o);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		c->r[R_CX] = 0;
		report(run(o, xsetbv, 3, bad[i].v, mem) == X86_EXC_GP && c->xcr0 == 3,
		       "XSETBV %s -> #GP", bad[i].what);
	}
	c->r[R_CX] = 1;
	report(run(o, xsetbv, 3, 0x3, mem) == X86_EXC_GP, "XSETBV ECX=1 -> #GP");
	c->r[R_CX] = 0;
	c->cpl = 3;
	report(run(o, xsetbv, 3, 0x3, mem) == X86_EXC_GP, "XSETBV at CPL 3 -> #GP");
	c->cpl = 0;
	report(run(o, xsetbv, 3, 0x207, mem) == -1 && c->xcr0 == 0x207, "XSETBV 0x207 is accepted");
	c->r[R_CX] = 0;
	struct ostate st;
	memset(&st, 0, sizeof(st));
	store_le(st.fx, 2, 0x37f);
	store_le(st.fx + 24, 4, 0x1f80);
	st.gpr[R_CX] = 0;
	int v = o_emu(o, xgetbv, 3, &st, mem);
	report(v == -1 && st.gpr[R_AX] == 0x207 && st.gpr[R_DX] == 0, "XGETBV ECX=0 returns XCR0");
	st.gpr[R_CX] = 1;
	st.fx[160] = 1; /* XMM0 != 0: SSE in use; x87 and PKRU in their init state */
	v = o_emu(o, xgetbv, 3, &st, mem);
	report(v == -1 && st.gpr[R_AX] == 0x2, "XGETBV ECX=1 returns XCR0 & XINUSE");
}

static void xrstor_rules(struct oracle *o)
{
	struct cpu *c = o->cpu;
	u8 mem[4096];
	o_reset_cpu(o);
	memset(mem, 0, sizeof(mem));
	store_le(mem + 24, 4, 0x1f80);
	store_le(mem + 512, 8, 0x4); /* AVX not in XCR0 = 3 */
	report(run(o, xrstor, 3, ~0ull, mem) == X86_EXC_GP, "XRSTOR XSTATE_BV outside XCR0 -> #GP");
	store_le(mem + 512, 8, 0x3);
	store_le(mem + 520, 8, 0x3);
	report(run(o, xrstor, 3, ~0ull, mem) == X86_EXC_GP, "XRSTOR XCOMP_BV without bit 63 -> #GP");
	store_le(mem + 520, 8, 0);
	store_le(mem + 24, 4, 0x10000);
	report(run(o, xrstor, 3, ~0ull, mem) == X86_EXC_GP, "XRSTOR reserved MXCSR bits -> #GP");
	store_le(mem + 24, 4, 0x1f80);
	store_le(mem + 512, 8, 0);
	c->fpu.xmm[5].q[1] = 77;
	c->fpu.fcw = 0x27f;
	report(run(o, xrstor, 3, ~0ull, mem) == -1 && c->fpu.xmm[5].q[1] == 0 && c->fpu.fcw == 0x37f,
	       "XRSTOR XSTATE_BV=0 initializes x87 and SSE");
	memset(mem, 0, sizeof(mem));
	store_le(mem + 24, 4, 0x20000);
	report(run(o, fxrstor64, 4, 0, mem) == X86_EXC_GP, "FXRSTOR reserved MXCSR bits -> #GP");
}

static void std_image(struct oracle *o)
{
	struct cpu *c = o->cpu;
	u8 img[XSAVE_STD_IMAGE], img2[XSAVE_STD_IMAGE];
	o_reset_cpu(o);
	for (int i = 0; i < 16; i++) {
		c->fpu.xmm[i].q[0] = 0x1111111111111111ull * (u64)i;
		c->fpu.ymmh[i].q[1] = (u64)i << 40;
	}
	c->fpu.mxcsr = 0x7fc0;
	c->pkru = 0x55555554;
	c->fpu.fcw = 0x27f;
	cpu_xsave_to_std(c, img);
	report(load_le(img + 512, 8) == 0x207 && load_le(img + 2688, 4) == 0x55555554 &&
		       load_le(img + 576 + 16 * 3 + 8, 8) == 3ull << 40,
	       "standard image: XSTATE_BV 0x207, PKRU@2688, YMM_H@576");
	o_reset_cpu(o);
	report(cpu_xsave_from_std(c, img) == 0, "standard image loads");
	cpu_xsave_to_std(c, img2);
	report(!memcmp(img, img2, sizeof(img)) && c->pkru == 0x55555554 && c->fpu.mxcsr == 0x7fc0,
	       "standard image round trip");
	memcpy(img2, img, sizeof(img));
	store_le(img2 + 512, 8, 0x1803);
	report(cpu_xsave_from_std(c, img2) == -EINVAL, "standard image with CET bits -> -EINVAL");
	memcpy(img2, img, sizeof(img));
	store_le(img2 + 520, 8, 0x8000000000000003ull);
	report(cpu_xsave_from_std(c, img2) == -EINVAL, "standard image with XCOMP_BV -> -EINVAL");
	memcpy(img2, img, sizeof(img));
	store_le(img2 + 24, 4, 0x10000);
	report(cpu_xsave_from_std(c, img2) == -EINVAL && c->fpu.mxcsr == 0x7fc0,
	       "standard image with bad MXCSR -> -EINVAL, unchanged");
}

/* 32-bit protected mode: FXSAVE and XSAVE save XMM0-7 only and leave the
 * XMM8-15 area alone; FXRSTOR loads XMM0-7 only (SDM Vol. 1 13.13). */
static int run32(struct oracle *o, const u8 *b, unsigned n)
{
	return o_exec(o, b, n, 4);
}

static void legacy_mode(struct oracle *o)
{
	static const u8 fxsave32[] = { 0x0f, 0xae, 0x03 }, fxrstor32[] = { 0x0f, 0xae, 0x0b };
	static const u8 xsave32[] = { 0x0f, 0xae, 0x23 };
	struct cpu *c = o->cpu;
	u8 *m = o->ram + ORACLE_MEM;
	o_reset_cpu(o);
	c->efer = 0;
	c->seg[SEG_CS].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0xb;
	c->seg[SEG_CS].limit = c->seg[SEG_DS].limit = 0xffffffff;
	c->seg[SEG_DS].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0x3;
	cpu_update_mode(c);
	for (int i = 0; i < 16; i++)
		c->fpu.xmm[i].q[0] = c->fpu.xmm[i].q[1] = 0x0101010101010101ull * (u64)(i + 1);
	c->r[R_BX] = ORACLE_MEM;
	c->r[R_AX] = 3;
	c->r[R_DX] = 0;
	memset(m, 0xee, 1024);
	int v = run32(o, fxsave32, 3);
	report(v == -1 && !c->m64 && load_le(m + 160 + 16 * 7, 8) == 0x0808080808080808ull &&
		       m[288] == 0xee && m[415] == 0xee,
	       "32-bit FXSAVE stores XMM0-7 only");
	memset(m, 0xee, 1024);
	memset(m + 512, 0, 64);
	v = run32(o, xsave32, 3);
	report(v == -1 && m[288] == 0xee && load_le(m + 512, 8) == 2,
	       "32-bit XSAVE stores XMM0-7 only; XSTATE_BV = 2 (x87 in init state)");
	memset(m + 160, 0, 256);
	v = run32(o, fxrstor32, 3);
	report(v == -1 && c->fpu.xmm[7].q[0] == 0 && c->fpu.xmm[8].q[0] == 0x0909090909090909ull,
	       "32-bit FXRSTOR loads XMM0-7 only");
}

/* Valid random x87/SSE state for the host: a consistent tag word. */
static void rand_fpu(struct oracle *o, struct ostate *st, u8 *mem)
{
	o_rand_state(o, st, mem, 0);
	st->fx[4] = (u8)o_rand(o);
	store_le(st->fx + 2, 2, o_rand(o) & 0x3f00);
	for (int i = 0; i < 8; i++) {
		u8 *r = st->fx + 32 + 16 * i;
		store_le(r, 8, o_rand(o) | (1ull << 63));
		store_le(r + 8, 2, 0x3fff + o_rand(o) % 64);
		memset(r + 10, 0, 6);
	}
	memset(mem + 512, 0, 64);
}

/* The host and cetvm save the same state; FOP/FIP/FDP (bytes 6..23) and
 * MXCSR_MASK (28..31) are the host's own and skipped. */
static void oracle_runs(struct oracle *o)
{
	static const struct { const u8 *b; unsigned n; const char *name; bool restore; } ops[] = {
		{ fxsave, 3, "fxsave", false }, { fxsave64, 4, "fxsave64", false },
		{ xsave, 3, "xsave", false }, { xsave64, 4, "xsave64", false },
		{ xsavec, 3, "xsavec", false }, { xsavec64, 4, "xsavec64", false },
		{ fxrstor64, 4, "fxrstor64", true }, { xrstor64, 4, "xrstor64", true },
	};
	struct ocmp m = { .fsw_mask = 0xffff, .flags_mask = 0, .x87_regs = true };
	o_reset_cpu(o);
	for (unsigned k = 0; k < ARRAY_SIZE(ops); k++) {
		bool ok = true;
		char why[160] = "";
		for (int i = 0; i < 200 && ok; i++) {
			struct ostate st, e, h;
			u8 mem[4096], me[4096], mh[4096];
			rand_fpu(o, &st, mem);
			st.gpr[R_AX] = 3;
			st.gpr[R_DX] = 0;
			if (ops[k].restore) {
				struct ostate src;
				rand_fpu(o, &src, mem);
				memcpy(mem, src.fx, 512);
				store_le(mem + 512, 8, o_rand(o) & 3);
				if (ops[k].b == xrstor64 && (o_rand(o) & 1))
					store_le(mem + 520, 8, 0x8000000000000003ull);
			}
			e = h = st;
			memcpy(me, mem, 4096);
			memcpy(mh, mem, 4096);
			ok = o_emu(o, ops[k].b, ops[k].n, &e, me) == -1;
			o_host(o, ops[k].b, ops[k].n, &h, mh);
			memset(me + 6, 0, 18);
			memset(mh + 6, 0, 18);
			memset(me + 28, 0, 4); /* MXCSR_MASK: the host's own (AMD: bit 17) */
			memset(mh + 28, 0, 4);
			ok = ok && o_same(&e, &h, me, mh, &m, why, sizeof(why));
		}
		report(ok, "%s matches the host%s%s", ops[k].name, ok ? "" : ": ", why);
	}
}

int main(void)
{
	struct oracle o;
	if (o_init(&o)) {
		report(0, "oracle setup");
		return 1;
	}
	layout();
	xsaves_cet(&o);
	xrstors_validation(&o);
	xsetbv_rules(&o);
	xrstor_rules(&o);
	std_image(&o);
	legacy_mode(&o);
	oracle_runs(&o);
	o_fini(&o);
	return 0;
}
