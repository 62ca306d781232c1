/* Covers: 10 17
 * cet_msr_shstk: a CPU model with SHSTK but no IBT (spec/cet.md 2, 3.3):
 * MOV CR4 setting CET works (CR0.WP=1); U_CET rejects the IBT bit
 * ENDBR_EN and takes SH_STK_EN. */
/* args: -cpu max,-ibt */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

int main(void)
{
	if (!cet_has_shstk() || cet_has_ibt()) {
		report_skip("needs SHSTK without IBT");
		return report_summary();
	}
	u64 got;
	struct fault f = cet_cr4_cet_probe(&got);
	report(f.vector == FAULT_NONE && (got & X86_CR4_CET),
	       "10: MOV CR4.CET=1 with SHSTK only works (v%d, CR4 %#lx)", f.vector, got);

	report(cet_wrmsr_gp0(MSR_IA32_U_CET, CET_ENDBR_EN), "17: WRMSR U_CET = 4 → #GP(0)");
	report(cet_wrmsr_ok(MSR_IA32_U_CET, CET_SHSTK_EN), "17: WRMSR U_CET = 1 works, reads back");
	wrmsr(MSR_IA32_U_CET, 0);
	return report_summary();
}
