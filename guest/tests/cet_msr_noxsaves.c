/* Covers: 31
 * cet_msr_noxsaves: without XSAVES in the guest CPUID, IA32_XSS does not
 * exist for the guest: RDMSR and WRMSR → #GP(0) (spec/cet.md 3.4). The
 * model also loses SHSTK and IBT, which need XSAVES (spec 1.1). */
/* args: -cpu max,-xsaves */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

int main(void)
{
	if (cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("CPUID still has XSAVES");
		return report_summary();
	}
	struct fault f;
	u64 v = 0;
	cet_rdmsr_try(MSR_IA32_XSS, &v, &f);
	report(cet_gp0_at_insn(&f), "31: RDMSR XSS without XSAVES → #GP(0) (v%d e%lu)", f.vector,
	       f.error_code);
	report(cet_wrmsr_gp0(MSR_IA32_XSS, 0), "31: WRMSR XSS = 0 without XSAVES → #GP(0)");
	return report_summary();
}
