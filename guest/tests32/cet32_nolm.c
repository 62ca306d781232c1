/* Covers: 24
 * cet32_nolm: IA32_INTERRUPT_SSP_TABLE_ADDR on a vCPU whose CPUID has no
 * long mode (spec/cet.md 3.4: a write is UNSUP without LM, a read is not
 * checked; KVM's rule): WRMSR → #GP(0) at the WRMSR with the MSR
 * unchanged, RDMSR works, and the other shadow-stack MSRs still work. */
/* args: -cpu max,-lm */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

static struct fault wrmsr_try(u32 msr, u64 val)
{
	asm volatile(FAULT_TRY("1f") "wrmsr\n1:"
		     ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(msr) : "memory");
	return fault_take();
}

static struct fault rdmsr_try(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	asm volatile(FAULT_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = lo | (u64)hi << 32;
	return fault_take();
}

static bool gp0_at_insn(const struct fault *f)
{
	return f->vector == GP_VECTOR && f->error_code == 0 && f->eip == f->insn;
}

static void test_int_ssp_tab(void)
{
	u64 v = ~0ull;
	struct fault r = rdmsr_try(MSR_IA32_INT_SSP_TAB, &v);
	report(r.vector == FAULT_NONE && v == 0, "24: RDMSR INT_SSP_TAB works without LM (%#llx)",
	       v);
	static const u64 vals[] = { 0x1000, 0, 0x123456789001 };
	for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
		struct fault w = wrmsr_try(MSR_IA32_INT_SSP_TAB, vals[i]);
		report(gp0_at_insn(&w), "24: WRMSR INT_SSP_TAB = %#llx → #GP(0) at the WRMSR "
		       "(vector %d error %#x eip %#x)", vals[i], w.vector, w.error_code, w.eip);
	}
	r = rdmsr_try(MSR_IA32_INT_SSP_TAB, &v);
	report(r.vector == FAULT_NONE && v == 0, "24: INT_SSP_TAB unchanged (%#llx)", v);
}

/* The other shadow-stack MSRs exist: the #GP is the LM rule, not SHSTK. */
static void test_others(void)
{
	u64 v = 0;
	struct fault w = wrmsr_try(MSR_IA32_PL0_SSP, 0x1000);
	struct fault r = rdmsr_try(MSR_IA32_PL0_SSP, &v);
	report(w.vector == FAULT_NONE && r.vector == FAULT_NONE && v == 0x1000,
	       "24: WRMSR PL0_SSP = 0x1000 works and reads back (%#llx)", v);
	wrmsr(MSR_IA32_PL0_SSP, 0);
	w = wrmsr_try(MSR_IA32_S_CET, CET_SHSTK_EN);
	report(w.vector == FAULT_NONE, "24: WRMSR S_CET = SH_STK_EN works");
	wrmsr(MSR_IA32_S_CET, 0);
}

int main(void)
{
	if (cpu_has(X86_FEATURE_LM)) {
		report_skip("24: CPUID reports long mode (run with -cpu max,-lm)");
		return report_summary();
	}
	if (!cpu_has(X86_FEATURE_SHSTK)) {
		report_skip("24: CPUID lacks SHSTK");
		return report_summary();
	}
	report_info("24: CPUID 0x80000001:EDX[29] (LM) = 0, 7.0:ECX[7] (SHSTK) = 1");
	test_int_ssp_tab();
	test_others();
	return report_summary();
}
