/* Covers: 1 9 15 25 30
 * cet_off: a CPU model without SHSTK and IBT (spec/cet.md 1.1, 2, 3.4):
 * CPUID shows neither (nor XSS bits 11/12); MOV CR4 setting CET → #GP(0)
 * with CR4 unchanged; every CET MSR is absent, so RDMSR and WRMSR → #GP(0);
 * WRMSR XSS with bit 11 → #GP(0) since (0xD,1).ECX lacks it. These are the
 * "without" halves of items 1, 25 and 30. */
/* args: -cpu max,-shstk,-ibt */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

static const u32 cet_msrs[] = { MSR_IA32_U_CET,	     MSR_IA32_S_CET,   MSR_IA32_PL0_SSP,
				MSR_IA32_PL1_SSP,    MSR_IA32_PL2_SSP, MSR_IA32_PL3_SSP,
				MSR_IA32_INT_SSP_TAB };

static void check_absent(const char *item, u32 msr)
{
	struct fault f;
	u64 v = 0;
	cet_rdmsr_try(msr, &v, &f);
	report(cet_gp0_at_insn(&f), "%s: RDMSR %#x → #GP(0) (v%d e%lu)", item, msr, f.vector,
	       f.error_code);
	report(cet_wrmsr_gp0(msr, 0), "%s: WRMSR %#x = 0 → #GP(0)", item, msr);
}

int main(void)
{
	struct cpuid d1 = cpuid_count(0xd, 1);
	report(!cet_has_shstk() && !cet_has_ibt(), "1: CET off: SHSTK = IBT = 0");
	report(!(d1.c & 0x1800), "1: CET off: CPUID.(0xD,1).ECX = %#x lacks bits 11/12", d1.c);

	u64 cr4 = read_cr4(), got;
	struct fault f = cet_cr4_cet_probe(&got);
	report(cet_gp0_at_insn(&f), "9: MOV CR4.CET=1 without SHSTK/IBT → #GP(0) (v%d e%lu)",
	       f.vector, f.error_code);
	report(got == cr4, "9: CR4 unchanged");

	for (int i = 0; i < 7; i++)
		check_absent(i < 2 ? "15" : "25", cet_msrs[i]);

	if (!cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("30: CPUID lacks XSAVES");
		return report_summary();
	}
	report(cet_wrmsr_gp0(MSR_IA32_XSS, 0x800),
	       "30: WRMSR XSS bit 11 without it in CPUID → #GP(0)");
	report(cet_wrmsr_gp0(MSR_IA32_XSS, 0x1000),
	       "30: WRMSR XSS bit 12 without it in CPUID → #GP(0)");
	return report_summary();
}
