/* xsave: XSAVE/XRSTOR round trip of x87, SSE (and AVX) state, the XSAVE
 * header (XSTATE_BV, XCOMP_BV), partial RFBM, init on restore, XSAVEOPT and
 * XSAVEC, CPUID.(0xD,0).EBX sizes, and the faults: XSETBV with invalid
 * values and XRSTOR of a bad header → #GP(0), CR4.OSXSAVE=0 → #UD (SDM Vol.
 * 1, chapter 13; Vol. 2C XSAVE, XRSTOR, XSETBV). Built with SSE enabled. */
#include "fault.h"
#include "report.h"
#include "string.h"
#include "x86.h"

#define XSTATE_BV 512 /* offsets in the XSAVE area */
#define XCOMP_BV 520
#define MXCSR 24
#define XMM0 160
#define COMPACTED (1ull << 63)

static u8 area[4096] __aligned(64);
static u8 area2[4096] __aligned(64);
static u8 pattern[512], readback[512]; /* 16 XMM then 16 YMM upper halves */
static u64 xcr0;

static u64 header(const u8 *a, int off)
{
	return *(const u64 *)(a + off);
}

static void fill_pattern(void)
{
	for (int i = 0; i < 512; i++)
		pattern[i] = i * 7 + 1;
}

/* Load x87 (pi, 1), MXCSR, XMM0-15 (and YMM uppers), then XSAVE into a. */
static void load_and_save(u8 *a, u64 rfbm, bool avx)
{
	u32 mxcsr = 0x3f80; /* all masked, round toward -inf */

	asm volatile("fninit; fldpi; fld1\n\t"
		     "ldmxcsr %[mx]\n\t"
		     "movdqu 0(%[p]), %%xmm0\n\t movdqu 16(%[p]), %%xmm1\n\t"
		     "movdqu 32(%[p]), %%xmm2\n\t movdqu 48(%[p]), %%xmm3\n\t"
		     "movdqu 64(%[p]), %%xmm4\n\t movdqu 80(%[p]), %%xmm5\n\t"
		     "movdqu 96(%[p]), %%xmm6\n\t movdqu 112(%[p]), %%xmm7\n\t"
		     "movdqu 128(%[p]), %%xmm8\n\t movdqu 144(%[p]), %%xmm9\n\t"
		     "movdqu 160(%[p]), %%xmm10\n\t movdqu 176(%[p]), %%xmm11\n\t"
		     "movdqu 192(%[p]), %%xmm12\n\t movdqu 208(%[p]), %%xmm13\n\t"
		     "movdqu 224(%[p]), %%xmm14\n\t movdqu 240(%[p]), %%xmm15\n\t"
		     "test %[avx], %[avx]\n\t"
		     "jz 1f\n\t"
		     "vinserti128 $1, 256(%[p]), %%ymm0, %%ymm0\n\t"
		     "vinserti128 $1, 272(%[p]), %%ymm15, %%ymm15\n"
		     "1:\n\t"
		     "xsave64 (%[a])"
		     :
		     : [p] "r"(pattern), [a] "r"(a), [mx] "m"(mxcsr), [avx] "r"((u64)avx),
		       "a"((u32)rfbm), "d"((u32)(rfbm >> 32))
		     : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* Clobber everything, XRSTOR from a (with rfbm), store the registers. */
static void clobber_and_restore(const u8 *a, u64 rfbm, bool avx, u32 *mxcsr, long double *st)
{
	asm volatile("fninit\n\t"
		     "pxor %%xmm0, %%xmm0\n\t pcmpeqb %%xmm15, %%xmm15\n\t"
		     "ldmxcsr %[defmx]\n\t"
		     "test %[avx], %[avx]\n\t"
		     "jz 1f\n\t"
		     "vzeroall\n"
		     "1:\n\t"
		     "xrstor64 (%[a])\n\t"
		     "movdqu %%xmm0, 0(%[r])\n\t movdqu %%xmm1, 16(%[r])\n\t"
		     "movdqu %%xmm7, 112(%[r])\n\t movdqu %%xmm15, 240(%[r])\n\t"
		     "test %[avx], %[avx]\n\t"
		     "jz 2f\n\t"
		     "vextracti128 $1, %%ymm0, 256(%[r])\n\t"
		     "vextracti128 $1, %%ymm15, 272(%[r])\n"
		     "2:\n\t"
		     "stmxcsr %[mx]\n\t"
		     "fstpt 0(%[st])\n\t"
		     "fstpt 16(%[st])"
		     : [mx] "=m"(*mxcsr)
		     : [a] "r"(a), [r] "r"(readback), [st] "r"(st), [avx] "r"((u64)avx),
		       [defmx] "m"((u32){ 0x1f80 }), "a"((u32)rfbm), "d"((u32)(rfbm >> 32))
		     : "memory", "xmm0", "xmm1", "xmm7", "xmm15");
}

static bool regs_match(bool avx)
{
	static const int xmm[] = { 0, 1, 7, 15 };
	bool ok = true;

	for (unsigned i = 0; i < ARRAY_SIZE(xmm); i++)
		ok &= !memcmp(readback + 16 * xmm[i], pattern + 16 * xmm[i], 16);
	if (avx)
		ok &= !memcmp(readback + 256, pattern + 256, 32);
	return ok;
}

static void check_round_trip(const char *what, u8 *a, void (*save)(u8 *a, u64 rfbm))
{
	bool avx = xcr0 & XFEATURE_YMM;
	long double st[2];
	u32 mxcsr = 0;

	memset(a, 0, 4096);
	load_and_save(a, xcr0, avx);
	if (save) /* save again with the variant under test */
		save(a, xcr0);
	memset(readback, 0, sizeof(readback));
	clobber_and_restore(a, xcr0, avx, &mxcsr, st);
	report(regs_match(avx), "%s: XMM%s registers restored", what, avx ? "/YMM" : "");
	report(mxcsr == 0x3f80, "%s: MXCSR restored (%#x)", what, mxcsr);
	report(st[0] == 1.0L && st[1] > 3.14159L && st[1] < 3.1416L, "%s: x87 stack restored", what);
}

static void xsaveopt(u8 *a, u64 rfbm)
{
	asm volatile("xsaveopt64 (%0)" ::"r"(a), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}

static void xsavec(u8 *a, u64 rfbm)
{
	asm volatile("xsavec64 (%0)" ::"r"(a), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}

static int xrstor_fault(const u8 *a, u64 rfbm)
{
	asm volatile(FAULT_TRY("1f") "xrstor64 (%0)\n1:"
		     ::"r"(a), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
	return fault_take().vector;
}

static void test_disabled(void)
{
	struct fault f;

	write_cr4(read_cr4() & ~X86_CR4_OSXSAVE);
	report(!(cpuid(1).c & (1u << 27)), "CPUID.1:ECX.OSXSAVE=0 with CR4.OSXSAVE=0");
	asm volatile(FAULT_TRY("1f") "xgetbv\n1:" ::"c"(0) : "rax", "rdx", "memory");
	f = fault_take();
	report(f.vector == UD_VECTOR && f.rip == f.insn, "XGETBV with CR4.OSXSAVE=0: #UD");
	report(xsetbv_safe(0, 3) == UD_VECTOR, "XSETBV with CR4.OSXSAVE=0: #UD");
	asm volatile(FAULT_TRY("1f") "xsave64 (%0)\n1:" ::"r"(area), "a"(3), "d"(0) : "memory");
	report(fault_take().vector == UD_VECTOR, "XSAVE with CR4.OSXSAVE=0: #UD");
}

static u64 user_xsetbv(u64 v)
{
	return xsetbv_safe(0, v);
}

static void test_xsetbv(u64 supported)
{
	u64 before = xgetbv(0), bad = 0;
	for (int b = 62; b > 2; b--)
		if (!(supported & (1ull << b)))
			bad = 1ull << b;

	report(xsetbv_safe(0, 0) == GP_VECTOR, "XSETBV XCR0=0 (no x87): #GP");
	report(xsetbv_safe(0, 2) == GP_VECTOR, "XSETBV XCR0=2 (no x87): #GP");
	if (supported & XFEATURE_YMM)
		report(xsetbv_safe(0, 5) == GP_VECTOR, "XSETBV XCR0=5 (AVX without SSE): #GP");
	report(xsetbv_safe(0, 3 | bad) == GP_VECTOR, "XSETBV unsupported bit %#lx: #GP", bad);
	report(xsetbv_safe(1, 3) == GP_VECTOR, "XSETBV ECX=1: #GP");
	report(fault_run_user(user_xsetbv, 3).value == GP_VECTOR, "XSETBV at CPL 3: #GP");
	report(xgetbv(0) == before, "XCR0 unchanged by the faults");
}

static void test_header(void)
{
	bool avx = xcr0 & XFEATURE_YMM;
	u64 bv;

	memset(area, 0, sizeof(area));
	load_and_save(area, xcr0, avx);
	bv = header(area, XSTATE_BV);
	report((bv & 3) == 3, "XSTATE_BV has x87 and SSE after use (%#lx)", bv);
	if (avx)
		report(bv & XFEATURE_YMM, "XSTATE_BV has AVX after use");
	report(header(area, XCOMP_BV) == 0, "XSAVE writes the standard form (XCOMP_BV=0)");
	report(*(u32 *)(area + MXCSR) == 0x3f80, "MXCSR at offset 24");
	report(!memcmp(area + XMM0, pattern, 256), "XMM0-15 at offset 160");

	/* RFBM=SSE only: the x87 part of the legacy area is not written. */
	memset(area2, 0xcc, 512);
	memset(area2 + 512, 0, 64);
	load_and_save(area2, XFEATURE_SSE, false);
	report(*(u16 *)area2 == 0xcccc && !memcmp(area2 + XMM0, pattern, 256),
	       "XSAVE with RFBM=SSE leaves the x87 fields alone");
	report(header(area2, XSTATE_BV) == XFEATURE_SSE, "... and sets only XSTATE_BV.SSE (%#lx)",
	       header(area2, XSTATE_BV));

	/* XSTATE_BV.SSE=0 with RFBM.SSE=1: XRSTOR puts XMM in init state (0),
	 * MXCSR still comes from memory (SDM 13.8.1). */
	u32 mxcsr;
	long double st[2];
	*(u64 *)(area + XSTATE_BV) &= ~XFEATURE_SSE;
	clobber_and_restore(area, XFEATURE_X87 | XFEATURE_SSE, false, &mxcsr, st);
	static const u8 zero[16];
	report(!memcmp(readback, zero, 16) && !memcmp(readback + 240, zero, 16),
	       "XRSTOR with XSTATE_BV.SSE=0 zeroes XMM");
	report(mxcsr == 0x3f80, "... and loads MXCSR from memory (%#x)", mxcsr);
}

static void test_xrstor_faults(void)
{
	memset(area, 0, sizeof(area));
	load_and_save(area, xcr0, false);
	memcpy(area2, area, sizeof(area));
	*(u64 *)(area2 + XSTATE_BV) |= 1ull << 9; /* PKRU: never in our XCR0 */
	report(xrstor_fault(area2, xcr0) == GP_VECTOR, "XRSTOR XSTATE_BV bit outside XCR0: #GP");
	memcpy(area2, area, sizeof(area));
	*(u64 *)(area2 + 528) = 1; /* header bytes 23:16 must be 0 */
	report(xrstor_fault(area2, xcr0) == GP_VECTOR, "XRSTOR reserved header bytes: #GP");
	memcpy(area2, area, sizeof(area));
	*(u32 *)(area2 + MXCSR) = 0xffff0000;
	report_tcg(xrstor_fault(area2, xcr0) == GP_VECTOR, "MXCSR not checked by XRSTOR",
		   "XRSTOR reserved MXCSR bits: #GP");
	report(xrstor_fault(area + 8, xcr0) == GP_VECTOR, "XRSTOR misaligned area: #GP");
	report(xrstor_fault(area, xcr0) == FAULT_NONE, "XRSTOR of the good image works");
}

static void test_sizes(void)
{
	report(cpuid_count(0xd, 0).b == 576, "CPUID.(0xD,0).EBX = 576 with XCR0=3 (got %u)",
	       cpuid_count(0xd, 0).b);
	if (xcr0 & XFEATURE_YMM)
		report(cpuid_count(0xd, 2).a == 256 && cpuid_count(0xd, 2).b == 576,
		       "CPUID.(0xD,2) = AVX: 256 bytes at 576");
}

int main(void)
{
	if (!cpu_has(X86_FEATURE_XSAVE)) {
		report_skip("XSAVE not supported");
		return report_summary();
	}
	u64 supported = cpuid_count(0xd, 0).a | (u64)cpuid_count(0xd, 0).d << 32;
	fill_pattern();
	test_disabled();

	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	report(cpuid(1).c & (1u << 27), "CPUID.1:ECX.OSXSAVE=1 with CR4.OSXSAVE=1");
	report(xgetbv(0) == 1, "XCR0 starts as 1 (x87)");
	xcr0 = 3;
	xsetbv(0, xcr0);
	test_sizes();
	xcr0 = supported & 7;
	test_xsetbv(supported);
	xsetbv(0, xcr0);
	report(xgetbv(0) == xcr0, "XCR0 = %#lx reads back", xcr0);

	check_round_trip("XSAVE", area, NULL);
	test_header();
	test_xrstor_faults();
	if (cpu_has(X86_FEATURE_XSAVEOPT))
		check_round_trip("XSAVEOPT", area2, xsaveopt);
	else
		report_skip("XSAVEOPT not supported");
	if (cpu_has(X86_FEATURE_XSAVEC)) {
		check_round_trip("XSAVEC", area2, xsavec);
		report(header(area2, XCOMP_BV) == (COMPACTED | xcr0), "XSAVEC XCOMP_BV = %#llx (got %#lx)",
		       COMPACTED | xcr0, header(area2, XCOMP_BV));
	} else {
		report_skip("XSAVEC not supported");
	}
	return report_summary();
}
