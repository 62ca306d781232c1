/* Covers: 2
 * cet_enum_nosss: with -cpu max,-sss, CPUID.(7,1):EDX[18] (SSS) reads 0
 * while SHSTK, IBT and the CET XSAVE enumeration stay as under -cpu max
 * (spec/cet.md 1.1). */
/* args: -cpu max,-sss */
#include "cet.h"
#include "report.h"
#include "x86.h"

#define X86_FEATURE_SSS X86_FEATURE(7, 1, CPUID_EDX, 18)

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK");
		return report_summary();
	}
	report(!cpu_has(X86_FEATURE_SSS), "2: CPUID.(7,1):EDX[18] (SSS) = 0 under -sss");
	report(cet_has_shstk() && cet_has_ibt(), "2: SHSTK and IBT still 1");
	struct cpuid d1 = cpuid_count(0xd, 1);
	report(d1.c == 0x1800 && d1.d == 0, "2: CPUID.(0xD,1) ECX = %#x, EDX = %#x", d1.c, d1.d);
	return report_summary();
}
