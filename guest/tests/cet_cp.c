/* Covers: 96 97
 * cet_cp: the #CP exception itself: vector 21, a pushed error code with
 * bits 31:16 (and 63:32 of the slot) zero and no EXT bit, fault class (RIP
 * at the faulting instruction, RSP as before it), and #CP as a contributory
 * exception: a not-present #CP gate gives #DF (spec/cet.md 8; SDM Vol. 3A
 * 6.15 "Interrupt 21", Table 6-5). Raised here through IBT, #CP(3). */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

u64 cp_jmp(u64 target);
extern char cp_target[];
asm(".pushsection .text\n"
    ".globl cp_jmp, cp_target\n"
    "cp_jmp:\tjmp *%rdi\n"
    "cp_target:\tnop\n\tret\n"
    ".popsection");

static void test_user(void)
{
	struct regs r = fault_user_regs((u64)cp_jmp, USER_CS);
	r.rdi = (u64)cp_target;
	wrmsr(MSR_IA32_U_CET, CET_ENDBR_EN);
	struct fault f = fault_run_regs(&r);
	wrmsr(MSR_IA32_U_CET, 0);
	report(f.vector == CP_VECTOR, "96: #CP is vector 21 (got %d)", f.vector);
	report(f.error_code == CP_ENDBRANCH,
	       "96: error code pushed, bits 63:16 zero, no EXT (%#lx)", f.error_code);
	report(f.rip == (u64)cp_target && f.cs == USER_CS && f.rsp == r.rsp && f.ss == USER_DS,
	       "96: fault frame at the target, RSP unchanged (rip %#lx rsp %#lx)", f.rip, f.rsp);
}

/* JMP at CPL 0 to cp_target under FAULT_TRY; returns the event. */
static struct fault kernel_cp(void)
{
	u64 rsp_before, rsp_after = 0;
	wrmsr(MSR_IA32_S_CET, CET_ENDBR_EN | CET_NO_TRACK_EN);
	asm volatile("mov %%rsp, %[b]\n\t" FAULT_TRY("1f") "jmp *%[t]\n"
		     "1:\tmov %%rsp, %[a]"
		     : [b] "=&r"(rsp_before), [a] "+r"(rsp_after)
		     : [t] "r"(cp_target)
		     : "memory");
	struct fault f = fault_take();
	wrmsr(MSR_IA32_S_CET, 0);
	f.value = rsp_before == rsp_after;
	return f;
}

static void test_kernel(void)
{
	struct fault f = kernel_cp();
	report(f.vector == CP_VECTOR && f.error_code == CP_ENDBRANCH && f.rip == (u64)cp_target &&
		       f.cs == KERNEL_CS && f.value,
	       "96: CPL 0 #CP(3): vector 21, error 3, RIP at the target (%d %#lx %#lx)", f.vector,
	       f.error_code, f.rip);

	/* 97: delivering #CP through a not-present gate raises #NP, and
	 * contributory on contributory is #DF (error code 0). */
	idt_set_present(CP_VECTOR, false);
	f = kernel_cp();
	idt_set_present(CP_VECTOR, true);
	report(f.vector == DF_VECTOR && f.error_code == 0,
	       "97: #CP with a not-present gate: #DF (vector %d error %#lx)", f.vector,
	       f.error_code);
}

int main(void)
{
	if (!cet_has_ibt()) {
		report_skip("IBT not in CPUID (this test raises #CP through IBT)");
		return report_summary();
	}
	write_cr0(read_cr0() | X86_CR0_WP);
	cet_cr4(true);
	test_user();
	test_kernel();
	cet_exit();
	return report_summary();
}
