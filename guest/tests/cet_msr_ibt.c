/* Covers: 10 16 25
 * cet_msr_ibt: a CPU model with IBT but no SHSTK (spec/cet.md 2, 3.3,
 * 3.4): MOV CR4 setting CET works (CR0.WP=1); S_CET reads, rejects the
 * SHSTK bit SH_STK_EN and takes ENDBR_EN; PL0..3_SSP and INT_SSP_TAB are
 * absent, so RDMSR and WRMSR → #GP(0). */
/* args: -cpu max,-shstk */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

static const u32 ssp_msrs[] = { MSR_IA32_PL0_SSP, MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP,
				MSR_IA32_PL3_SSP, MSR_IA32_INT_SSP_TAB };

int main(void)
{
	if (!cet_has_ibt() || cet_has_shstk()) {
		report_skip("needs IBT without SHSTK");
		return report_summary();
	}
	u64 got;
	struct fault f = cet_cr4_cet_probe(&got);
	report(f.vector == FAULT_NONE && (got & X86_CR4_CET),
	       "10: MOV CR4.CET=1 with IBT only works (v%d, CR4 %#lx)", f.vector, got);

	u64 v = ~0ull;
	cet_rdmsr_try(MSR_IA32_S_CET, &v, &f);
	report(f.vector == FAULT_NONE && v == 0, "16: RDMSR S_CET works (%#lx)", v);
	report(cet_wrmsr_gp0(MSR_IA32_S_CET, CET_SHSTK_EN), "16: WRMSR S_CET = 1 → #GP(0)");
	report(cet_wrmsr_ok(MSR_IA32_S_CET, CET_ENDBR_EN), "16: WRMSR S_CET = 4 works, reads back");
	wrmsr(MSR_IA32_S_CET, 0);

	for (int i = 0; i < 5; i++) {
		cet_rdmsr_try(ssp_msrs[i], &v, &f);
		report(cet_gp0_at_insn(&f), "25: RDMSR %#x without SHSTK → #GP(0)", ssp_msrs[i]);
		report(cet_wrmsr_gp0(ssp_msrs[i], 0), "25: WRMSR %#x without SHSTK → #GP(0)",
		       ssp_msrs[i]);
	}
	return report_summary();
}
