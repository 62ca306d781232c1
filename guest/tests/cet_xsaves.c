/* Covers: 38 39 40 41 42 43
 * cet_xsaves: the CET_U (XSS bit 11) and CET_S (bit 12) supervisor XSAVE
 * components through XSAVES/XRSTORS at CPL 0 (spec/cet.md 4; SDM Vol. 1
 * 13.5.7, 13.11-13.12). Item 38 names XCR0 = 0x7, which needs AVX; cetvm's
 * default model has none, so XCR0 = 0x3 (x87|SSE) is used and the expected
 * compacted offsets are computed from CPUID.(0xD,i) as in the spec
 * (CET_U @576, CET_S @592, XCOMP_BV = 0x8000000000001803 for XCR0 = 0x3).
 * SSP is not checked in item 39 (it cannot be read with shadow stacks off;
 * XRSTORS has no path to it); S_CET and INT_SSP_TAB are. */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "string.h"
#include "x86.h"

#define XSTATE_BV 512
#define XCOMP_BV 520
#define COMPACTED ((u64)1 << 63)
#define XSS_CET_U ((u64)0x800)
#define XSS_CET_S ((u64)0x1000)
#define XCR0_USED ((u64)0x3)

static u8 area[4096] __aligned(64);
static u8 image[4096] __aligned(64);

static u64 *at(u8 *a, unsigned off)
{
	return (u64 *)(a + off);
}

/* spec 4: the compacted offset of component c for XCOMP_BV bits bv. */
static unsigned comp_off(u64 bv, int c)
{
	unsigned r = 576;
	for (int i = 2; i < c; i++) {
		if (!(bv & (1ull << i)))
			continue;
		struct cpuid d = cpuid_count(0xd, i);
		if (d.c & 2)
			r = (r + 63) & ~63u;
		r += d.a;
	}
	if (cpuid_count(0xd, c).c & 2)
		r = (r + 63) & ~63u;
	return r;
}

static void xsaves(u8 *a, u64 rfbm)
{
	asm volatile("xsaves64 (%0)" ::"r"(a), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}

static struct fault xrstors(u8 *a, u64 rfbm)
{
	asm volatile(FAULT_TRY("1f") "xrstors64 (%0)\n1:" ::"r"(a), "a"((u32)rfbm),
		     "d"((u32)(rfbm >> 32))
		     : "memory");
	return fault_take();
}

/* U_CET, PL3_SSP, PL0..2_SSP as RDMSR sees them. */
struct cet_regs {
	u64 u_cet, pl3, pl0, pl1, pl2;
};

static struct cet_regs cet_read(void)
{
	return (struct cet_regs){ rdmsr(MSR_IA32_U_CET), rdmsr(MSR_IA32_PL3_SSP),
				  rdmsr(MSR_IA32_PL0_SSP), rdmsr(MSR_IA32_PL1_SSP),
				  rdmsr(MSR_IA32_PL2_SSP) };
}

static void cet_write(const struct cet_regs *r)
{
	wrmsr(MSR_IA32_U_CET, r->u_cet);
	wrmsr(MSR_IA32_PL3_SSP, r->pl3);
	wrmsr(MSR_IA32_PL0_SSP, r->pl0);
	wrmsr(MSR_IA32_PL1_SSP, r->pl1);
	wrmsr(MSR_IA32_PL2_SSP, r->pl2);
}

static bool cet_eq(const struct cet_regs *a, const struct cet_regs *b)
{
	return a->u_cet == b->u_cet && a->pl3 == b->pl3 && a->pl0 == b->pl0 && a->pl1 == b->pl1 &&
	       a->pl2 == b->pl2;
}

/* Put r into an image at the CET_U / CET_S offsets u and s. */
static void image_put(u8 *a, unsigned u, unsigned s, const struct cet_regs *r)
{
	*at(a, u) = r->u_cet;
	*at(a, u + 8) = r->pl3;
	*at(a, s) = r->pl0;
	*at(a, s + 8) = r->pl1;
	*at(a, s + 16) = r->pl2;
}

static const struct cet_regs set_a = { CET_ENDBR_EN, 0x7ffff000, 0x111000, 0x222000, 0x333008 };
static const struct cet_regs set_b = { CET_SHSTK_EN | CET_ENDBR_EN, 0x555000, 0x666000, 0x777000,
				       0x888008 };

static void test_save(unsigned u, unsigned s)
{
	u64 bv = XCR0_USED | XSS_CET_U | XSS_CET_S;
	cet_write(&set_a);
	memset(area, 0, sizeof(area));
	xsaves(area, ~0ull);
	report(*at(area, XCOMP_BV) == (COMPACTED | bv), "38: XCOMP_BV = %#lx (want %#lx)",
	       *at(area, XCOMP_BV), COMPACTED | bv);
	report((*at(area, XSTATE_BV) & 0x1800) == 0x1800, "38: XSTATE_BV %#lx has bits 11, 12",
	       *at(area, XSTATE_BV));
	report(*at(area, u) == set_a.u_cet && *at(area, u + 8) == set_a.pl3,
	       "38: U_CET @%u, PL3_SSP @%u", u, u + 8);
	report(*at(area, s) == set_a.pl0 && *at(area, s + 8) == set_a.pl1 &&
		       *at(area, s + 16) == set_a.pl2,
	       "38: PL0_SSP @%u, PL1_SSP @%u, PL2_SSP @%u", s, s + 8, s + 16);
}

static void test_restore(unsigned u, unsigned s)
{
	memcpy(image, area, sizeof(image));
	image_put(image, u, s, &set_b);
	wrmsr(MSR_IA32_S_CET, CET_ENDBR_EN);
	wrmsr(MSR_IA32_INT_SSP_TAB, 0x123456789000);
	struct fault f = xrstors(image, ~0ull);
	struct cet_regs r = cet_read();
	report(f.vector == FAULT_NONE && cet_eq(&r, &set_b),
	       "39: XRSTORS loads U_CET %#lx, PL3 %#lx, PL0..2 %#lx %#lx %#lx (v%d)", r.u_cet,
	       r.pl3, r.pl0, r.pl1, r.pl2, f.vector);
	report(rdmsr(MSR_IA32_S_CET) == CET_ENDBR_EN &&
		       rdmsr(MSR_IA32_INT_SSP_TAB) == 0x123456789000,
	       "39: S_CET and INT_SSP_TAB untouched");
	wrmsr(MSR_IA32_S_CET, 0);
	wrmsr(MSR_IA32_INT_SSP_TAB, 0);

	/* 40: RFBM has CET_U, XSTATE_BV does not: init state (zeros). */
	*at(image, XSTATE_BV) &= ~XSS_CET_U;
	f = xrstors(image, XSS_CET_U);
	r = cet_read();
	report(f.vector == FAULT_NONE && r.u_cet == 0 && r.pl3 == 0 && r.pl0 == set_b.pl0,
	       "40: XSTATE_BV[11]=0 zeroes U_CET (%#lx) and PL3_SSP (%#lx), not PL0 (%#lx)",
	       r.u_cet, r.pl3, r.pl0);
}

static void bad_restore(const char *what, unsigned u, unsigned s, u64 u_cet, u64 pl3)
{
	struct cet_regs bad = set_b;
	bad.u_cet = u_cet;
	bad.pl3 = pl3;
	cet_write(&set_a);
	memcpy(image, area, sizeof(image));
	image_put(image, u, s, &bad);
	struct fault f = xrstors(image, ~0ull);
	struct cet_regs r = cet_read();
	report(cet_gp0_at_insn(&f), "42: XRSTORS with %s → #GP(0) at the XRSTORS (v%d e%lu)", what,
	       f.vector, f.error_code);
	report(cet_eq(&r, &set_a), "42: %s: nothing loaded (PL0 %#lx)", what, r.pl0);
}

static void test_xcr0(void)
{
	struct fault f;
	for (u64 b = XSS_CET_U; b <= XSS_CET_S; b <<= 1) {
		cet_xsetbv_try(0, XCR0_USED | b, &f);
		report(cet_gp0_at_insn(&f) && xgetbv(0) == XCR0_USED,
		       "41: XSETBV XCR0 bit %d → #GP(0), XCR0 unchanged (v%d e%lu)",
		       b == XSS_CET_U ? 11 : 12, f.vector, f.error_code);
	}
}

static void test_cet_s_alone(void)
{
	cet_write(&set_a);
	memset(area, 0, sizeof(area));
	xsaves(area, XSS_CET_S);
	report(*at(area, XCOMP_BV) == (COMPACTED | XSS_CET_S) && *at(area, 576) == set_a.pl0 &&
		       *at(area, 584) == set_a.pl1 && *at(area, 592) == set_a.pl2,
	       "43: XSAVES RFBM=0x1000: PL0_SSP @576 (%#lx), XCOMP_BV %#lx", *at(area, 576),
	       *at(area, XCOMP_BV));
}

int main(void)
{
	if (!cet_has_shstk() || !cet_has_ibt() || !cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("CPUID lacks SHSTK, IBT or XSAVES");
		return report_summary();
	}
	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	xsetbv(0, XCR0_USED);
	wrmsr(MSR_IA32_XSS, XSS_CET_U | XSS_CET_S);
	u64 bv = XCR0_USED | XSS_CET_U | XSS_CET_S;
	unsigned u = comp_off(bv, 11), s = comp_off(bv, 12);
	report(u == 576 && s == 592, "XCR0=0x3: CET_U @%u, CET_S @%u from CPUID", u, s);

	test_save(u, s);
	test_restore(u, s);
	bad_restore("U_CET bit 6", u, s, 0x40, set_b.pl3);
	bad_restore("U_CET bit 9", u, s, 0x200, set_b.pl3);
	bad_restore("PL3_SSP misaligned", u, s, set_b.u_cet, 0x555001);
	test_xcr0();
	test_cet_s_alone();

	static const struct cet_regs zero;
	cet_write(&zero);
	wrmsr(MSR_IA32_XSS, 0);
	return report_summary();
}
