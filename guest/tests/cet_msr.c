/* Covers: 18 19 20 21 22 23 26 27 30 37
 * cet_msr: guest RDMSR/WRMSR of the CET MSRs and IA32_XSS with SHSTK and
 * IBT both present: the valid_cet/valid_ssp/valid_ssptab rules, the
 * KVM-internal SSP index, XSS bits, and the IBT tracker bit left in U_CET
 * by a user #CP(3) (spec/cet.md 3.3, 3.4, 7.3; SDM Vol. 4 table 2-2).
 * Every rejected write must be #GP(0) at the WRMSR with the MSR unchanged.
 * cetvm offers no LA57, so MAXLA is 48 (item 27). */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

#define X86_FEATURE_LA57 X86_FEATURE(7, 0, CPUID_ECX, 16)

static const u32 pl_ssp[] = { MSR_IA32_PL0_SSP, MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP,
			      MSR_IA32_PL3_SSP };

static void test_u_cet(void)
{
	for (int b = 6; b <= 9; b++)
		report(cet_wrmsr_gp0(MSR_IA32_U_CET, 1ull << b), "18: WRMSR U_CET bit %d → #GP(0)",
		       b);
	report(cet_wrmsr_gp0(MSR_IA32_U_CET, CET_SUPPRESS | CET_WAIT_ENDBR),
	       "19: WRMSR U_CET bits 10+11 → #GP(0)");
	report(cet_wrmsr_ok(MSR_IA32_U_CET, CET_SUPPRESS), "19: WRMSR U_CET bit 10 alone works");
	report(cet_wrmsr_ok(MSR_IA32_U_CET, CET_WAIT_ENDBR), "19: WRMSR U_CET bit 11 alone works");
	wrmsr(MSR_IA32_U_CET, 0);
	report(cet_wrmsr_gp0(MSR_IA32_U_CET, 1ull << 12), "20: WRMSR U_CET bit 12 → #GP(0)");
	report(cet_wrmsr_gp0(MSR_IA32_U_CET, 1ull << 13), "20: WRMSR U_CET bit 13 → #GP(0)");
	report(cet_wrmsr_ok(MSR_IA32_U_CET, 0x4000), "20: WRMSR U_CET = 0x4000 works");
	wrmsr(MSR_IA32_U_CET, 0);
}

static void test_ssp(void)
{
	for (int i = 0; i < 4; i++) {
		report(cet_wrmsr_ok(pl_ssp[i], 0x123456789000),
		       "21: WRMSR PL%d_SSP = 0x123456789000", i);
		report(cet_wrmsr_gp0(pl_ssp[i], 0xaaaaaaaaaaaaaaaa),
		       "21: WRMSR PL%d_SSP non-canonical → #GP(0)", i);
		report(cet_wrmsr_gp0(pl_ssp[i], 0x123456789001),
		       "21: WRMSR PL%d_SSP misaligned → #GP(0)", i);
		wrmsr(pl_ssp[i], 0);
	}
	report(cet_wrmsr_gp0(MSR_IA32_PL3_SSP, 1), "22: WRMSR PL3_SSP = 1 → #GP(0)");
	report(cet_wrmsr_ok(MSR_IA32_INT_SSP_TAB, 0x123456789001),
	       "23: WRMSR INT_SSP_TAB = 0x123456789001 works");
	report(cet_wrmsr_gp0(MSR_IA32_INT_SSP_TAB, 0x8000000000000000),
	       "23: WRMSR INT_SSP_TAB non-canonical → #GP(0)");
	wrmsr(MSR_IA32_INT_SSP_TAB, 0);
	if (cpu_has(X86_FEATURE_LA57)) {
		report_skip("27: CPUID offers LA57 (cetvm does not)");
		return;
	}
	report(cet_wrmsr_gp0(MSR_IA32_PL0_SSP, 0x0000800000000000),
	       "27: without LA57, WRMSR PL0_SSP = 0x800000000000 → #GP(0)");
}

static void test_kvm_ssp(void)
{
	struct fault f;
	u64 v = 0;
	cet_rdmsr_try(MSR_KVM_INTERNAL_GUEST_SSP, &v, &f);
	report(cet_gp0_at_insn(&f), "26: RDMSR 0x4B564DFF → #GP(0) (v%d e%lu)", f.vector,
	       f.error_code);
	report(cet_wrmsr_gp0(MSR_KVM_INTERNAL_GUEST_SSP, 0), "26: WRMSR 0x4B564DFF → #GP(0)");
}

static void test_xss(void)
{
	report(cet_wrmsr_ok(MSR_IA32_XSS, 0x800), "30: WRMSR XSS = 0x800 works");
	report(cet_wrmsr_ok(MSR_IA32_XSS, 0x1000), "30: WRMSR XSS = 0x1000 works");
	report(cet_wrmsr_gp0(MSR_IA32_XSS, 1), "30: WRMSR XSS bit 0 → #GP(0)");
	wrmsr(MSR_IA32_XSS, 0);
}

/* CPL 3: an indirect JMP to a NOP (no ENDBR64). Entered by IRETQ, which
 * does not arm the tracker (spec 7.2). */
u64 msr_jmp(u64 target);
extern char msr_plain[];
asm(".pushsection .text\n"
    ".globl msr_jmp, msr_plain\n"
    "msr_jmp:\tjmp *%rdi\n"
    "msr_plain:\tnop\n\tret\n"
    ".popsection");

static void test_tracker(void)
{
	cet_init();
	wrmsr(MSR_IA32_U_CET, CET_ENDBR_EN);
	struct fault f = fault_run_user(msr_jmp, (u64)msr_plain);
	u64 u_cet = 0;
	struct fault r;
	cet_rdmsr_try(MSR_IA32_U_CET, &u_cet, &r);
	wrmsr(MSR_IA32_U_CET, 0);
	cet_exit();
	report(f.vector == CP_VECTOR && f.error_code == CP_ENDBRANCH && f.rip == (u64)msr_plain &&
		       (f.cs & 3) == 3,
	       "37: user JMP to no ENDBR64 → #CP(3) at the target (v%d e%lu)", f.vector,
	       f.error_code);
	report(r.vector == FAULT_NONE && (u_cet & CET_WAIT_ENDBR),
	       "37: RDMSR U_CET after the #CP shows bit 11 (%#lx)", u_cet);
}

int main(void)
{
	if (!cet_has_shstk() || !cet_has_ibt() || !cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("CPUID lacks SHSTK, IBT or XSAVES");
		return report_summary();
	}
	test_u_cet();
	test_ssp();
	test_kvm_ssp();
	test_xss();
	test_tracker();
	return report_summary();
}
