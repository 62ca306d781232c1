/* cet_rows.c: the CET rows of KVM's MSR test table, walked from inside a
 * guest for whatever CPU model it runs on (cet_rows.h). CR4.CET stays 0,
 * so the S_CET values written here never take effect. */
#include "cet_rows.h"

#include "cet.h"
#include "report.h"
#include "x86.h"

static const u32 pl_ssp[] = { MSR_IA32_PL0_SSP, MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP,
			      MSR_IA32_PL3_SSP };

/* `val` written to `msr` is accepted (and reads back) iff `ok`; when it is
 * refused, the refusal is #GP(0) at the WRMSR with the MSR unchanged. */
static void row(const char *model, u32 msr, u64 val, bool ok, const char *what)
{
	bool good = ok ? cet_wrmsr_ok(msr, val) : cet_wrmsr_gp0(msr, val);
	if (ok)
		wrmsr(msr, 0);
	report(good, "[%s] %s %#x = %#lx %s", model, what, msr, val, ok ? "accepted" : "#GP(0)");
}

static void ssp_rows(const char *model, bool shstk)
{
	for (int i = 0; i < 4; i++) {
		row(model, pl_ssp[i], 0x123456789000, shstk, "canonical PLx_SSP");
		row(model, pl_ssp[i], 0xaaaaaaaaaaaaaaaa, false, "non-canonical PLx_SSP");
		row(model, pl_ssp[i], 0x123456789001, false, "misaligned PLx_SSP");
	}
	row(model, MSR_IA32_INT_SSP_TAB, 0x123456789001, shstk, "INT_SSP_TAB");
	row(model, MSR_IA32_INT_SSP_TAB, 0xaaaaaaaaaaaaaaaa, false, "non-canonical INT_SSP_TAB");
}

static void cet_ctl_rows(const char *model, bool shstk, bool ibt)
{
	static const u32 ctl[] = { MSR_IA32_U_CET, MSR_IA32_S_CET };
	for (int i = 0; i < 2; i++) {
		row(model, ctl[i], CET_SHSTK_EN | CET_WRSS_EN, shstk, "SHSTK bits of");
		row(model, ctl[i], CET_ENDBR_EN | CET_NO_TRACK_EN | 0x4000, ibt, "IBT bits of");
		row(model, ctl[i], 0x3c0, false, "reserved bits 9:6 of");
		row(model, ctl[i], 0x1000, false, "bitmap base bit 12 of");
		row(model, ctl[i], CET_SUPPRESS | CET_WAIT_ENDBR, false, "SUPPRESS with TRACKER in");
		row(model, ctl[i], 0, shstk || ibt, "zero in");
	}
}

void cet_msr_rows(const char *model)
{
	bool shstk = cet_has_shstk(), ibt = cet_has_ibt();
	report_info("[%s] CPUID: SHSTK %d, IBT %d", model, shstk, ibt);
	ssp_rows(model, shstk);
	cet_ctl_rows(model, shstk, ibt);
}
