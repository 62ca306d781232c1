/* Covers: 7
 * cet_state: the CET state after RESET as the guest sees it (spec/cet.md
 * 1.3; SDM Vol. 3A 10.1 (Table 10-1)): U_CET, S_CET, PL0..3_SSP,
 * INT_SSP_TAB and XSS read 0, CR4.CET is 0, and SSP is 0. Read at entry
 * to main, before anything touches CET. The startup code (crt0.S) has set
 * CR4.PAE and friends for long mode, so of CR4 only the CET bit is
 * checked here; tests/unit/test_cet_host.c checks CR4 = 0 from the host.
 * SSP has no MSR: shadow stacks are switched on at CPL 0 for one RDSSPQ,
 * with no CALL in between (a push would go below SSP 0). */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

#define MSR_IA32_PL1_SSP 0x6a5
#define MSR_IA32_PL2_SSP 0x6a6

int main(void)
{
	bool shstk = cet_has_shstk(), ibt = cet_has_ibt();
	u64 cr4 = read_cr4();
	if (!shstk && !ibt) {
		report(!(cr4 & X86_CR4_CET), "7: CR4.CET = 0 (%#lx)", cr4);
		report_skip("CPUID lacks SHSTK and IBT: no CET MSRs");
		return report_summary();
	}
	u64 v[8] = { 0 };
	int vec[8];
	static const u32 msr[] = { MSR_IA32_U_CET,   MSR_IA32_S_CET,   MSR_IA32_PL0_SSP,
				   MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP, MSR_IA32_PL3_SSP,
				   MSR_IA32_INT_SSP_TAB };
	unsigned n = shstk ? 7 : 2;
	for (unsigned i = 0; i < n; i++)
		vec[i] = rdmsr_safe(msr[i], &v[i]);
	u64 xss = 0;
	int xv = cpu_has(X86_FEATURE_XSAVES) ? rdmsr_safe(MSR_IA32_XSS, &xss) : FAULT_NONE;

	report(!(cr4 & X86_CR4_CET), "7: CR4.CET = 0 after RESET (%#lx)", cr4);
	report(vec[0] == FAULT_NONE && vec[1] == FAULT_NONE && v[0] == 0 && v[1] == 0,
	       "7: U_CET = %#lx, S_CET = %#lx", v[0], v[1]);
	if (shstk) {
		bool ok = true;
		for (unsigned i = 2; i < 7; i++)
			ok &= vec[i] == FAULT_NONE && v[i] == 0;
		report(ok, "7: PL0..3_SSP and INT_SSP_TAB read 0 (%#lx %#lx %#lx %#lx %#lx)", v[2],
		       v[3], v[4], v[5], v[6]);
	}
	report(xv == FAULT_NONE && xss == 0, "7: XSS = %#lx", xss);
	if (!shstk) {
		report_skip("CPUID lacks SHSTK: no SSP to read");
		return report_summary();
	}

	cet_init(); /* CR0.WP, CR4.CET */
	u64 ssp = cet_rdssp_sss();
	cet_exit();
	report(ssp == 0, "7: SSP = 0 after RESET (RDSSPQ %#lx)", ssp);
	return report_summary();
}
