/* Covers: 1 2 3 4 5 6
 * cet_enum: CET enumeration as the guest sees it under the default CPU
 * model (spec/cet.md 1.1, 1.2; SDM Vol. 2A CPUID leaves 7 and 0xD): the
 * SHSTK, IBT and SSS bits, the XSS-settable bits, subleaves 11 and 12, and
 * CPUID.(0xD,1).EBX = size_cmp(XCR0 | XSS) after XSETBV and WRMSR XSS.
 * Items 5-6 name XCR0 = 0x7 / 0x207, which need AVX; without AVX the same
 * rule is checked with XCR0 = 0x3 / 0x203 (PKRU), the expected sizes
 * computed from CPUID.(0xD,i) as the spec's size_cmp does. The "CET off"
 * halves of items 1-2 are in cet_off and cet_enum_nosss. */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

#define X86_FEATURE_SSS X86_FEATURE(7, 1, CPUID_EDX, 18)
#define XSS_CET 0x1800ull

static bool leaf_is(u32 sub, u32 a, u32 b, u32 c, u32 d)
{
	struct cpuid r = cpuid_count(0xd, sub);
	return r.a == a && r.b == b && r.c == c && r.d == d;
}

/* spec 1.2 size_cmp(bv), from CPUID.(0xD,i). */
static u32 size_cmp(u64 bv)
{
	u32 r = 576;
	for (int i = 2; i < 63; i++) {
		if (!(bv & (1ull << i)))
			continue;
		struct cpuid c = cpuid_count(0xd, i);
		if (c.c & 2)
			r = (r + 63) & ~63u;
		r += c.a;
	}
	return r;
}

static u32 ebx_d1(void)
{
	return cpuid_count(0xd, 1).b;
}

/* EBX for XCR0 = xcr0 with XSS = 0, then 0x1800. */
static void check_sizes(const char *item, u64 xcr0, u32 want0, u32 want_cet)
{
	struct fault f;
	cet_xsetbv_try(0, xcr0, &f);
	if (!report(f.vector == FAULT_NONE, "%s: XSETBV XCR0=%#lx", item, xcr0))
		return;
	wrmsr(MSR_IA32_XSS, 0);
	u32 b0 = ebx_d1();
	report(b0 == want0 && b0 == size_cmp(xcr0),
	       "%s: XCR0=%#lx XSS=0: (0xD,1).EBX = %u (want %u)", item, xcr0, b0, want0);
	wrmsr(MSR_IA32_XSS, XSS_CET);
	u32 b1 = ebx_d1();
	report(b1 == want_cet && b1 == size_cmp(xcr0 | XSS_CET),
	       "%s: XCR0=%#lx XSS=0x1800: (0xD,1).EBX = %u (want %u)", item, xcr0, b1, want_cet);
}

static void test_sizes(void)
{
	u64 xcr0_ok = cpuid_count(0xd, 0).a | (u64)cpuid_count(0xd, 0).d << 32;
	bool avx = xcr0_ok & 4, pkru = xcr0_ok & (1ull << 9);
	u64 base = avx ? 7 : 3;
	u32 sb = size_cmp(base), pk = pkru ? cpuid_count(0xd, 9).a : 0;

	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	report_info("XCR0-settable %#lx; items 5-6 use XCR0 %#lx%s", xcr0_ok, base,
		    pkru ? " and | 0x200 (PKRU)" : "");
	check_sizes("5", base, avx ? 832 : sb, avx ? 872 : sb + 40);
	if (!pkru) {
		report_skip("6: XCR0 cannot hold PKRU (bit 9)");
	} else {
		check_sizes("6", base | 0x200, avx ? 832 + pk : sb + pk, avx ? 880 : sb + pk + 40);
		struct fault f;
		cet_xsetbv_try(0, base, &f);
		u32 b = ebx_d1();
		report(f.vector == FAULT_NONE && b == (avx ? 872u : sb + 40),
		       "6: XSETBV back to %#lx: (0xD,1).EBX = %u", base, b);
	}
	wrmsr(MSR_IA32_XSS, 0);
	xsetbv(0, 3);
}

int main(void)
{
	if (!cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("CPUID lacks XSAVES");
		return report_summary();
	}
	report(cet_has_shstk(), "1: CPUID.(7,0):ECX[7] (SHSTK) = 1");
	report(cet_has_ibt(), "1: CPUID.(7,0):EDX[20] (IBT) = 1");
	report(cpu_has(X86_FEATURE_SSS), "2: CPUID.(7,1):EDX[18] (SSS) = 1 under -cpu max");
	struct cpuid d1 = cpuid_count(0xd, 1), d0 = cpuid_count(0xd, 0);
	report(d1.c == 0x1800 && d1.d == 0, "3: CPUID.(0xD,1) ECX = %#x, EDX = %#x", d1.c, d1.d);
	report(!(d0.a & 0x1800), "3: CPUID.(0xD,0).EAX = %#x has no bit 11 or 12", d0.a);
	report(leaf_is(11, 16, 0, 1, 0), "4: CPUID.(0xD,11) = {16, 0, 1, 0}");
	report(leaf_is(12, 24, 0, 1, 0), "4: CPUID.(0xD,12) = {24, 0, 1, 0}");
	test_sizes();
	return report_summary();
}
