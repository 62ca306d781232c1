/* Covers: 65 66
 * cet_sys: shadow stacks across SYSCALL/SYSRET and SYSENTER/SYSEXIT
 * (spec/cet.md 5.11; SDM Vol. 2B SYSCALL, SYSRET, SYSENTER, SYSEXIT):
 * entry from CPL 3 saves SSP in PL3_SSP when U_CET.SH_STK_EN and sets
 * SSP = 0 when S_CET.SH_STK_EN; the return sets SSP = PL3_SSP. */
#include "alloc.h"
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "report.h"
#include "syscall.h"
#include "x86.h"

#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176

extern char u_sys[], u_sysenter[], k_sys[], k_sysenter[];

/* User: RSI = SSP, enter the kernel, RDI = SSP after the return, UD2.
 * Kernel: R8 = RDSSPQ (0x77 if it is a NOP), R9 = PL3_SSP, then
 * PL3_SSP -= 16 so that the return visibly loads SSP from it. */
#define K_BODY                                                                  \
	"mov $0x77, %r8d\n\trdsspq %r8\n\t"                                     \
	"mov $0x6a7, %ecx\n\trdmsr\n\tshl $32, %rdx\n\tor %rax, %rdx\n\t"       \
	"mov %rdx, %r9\n\tlea -16(%rdx), %rax\n\tmov %rax, %rdx\n\tshr $32, %rdx\n\t" \
	"wrmsr\n\t"
asm(".pushsection .text\n"
    "u_sys:\n\tendbr64\n\trdsspq %rsi\n\tsyscall\n\trdsspq %rdi\n\tud2\n"
    "u_sysenter:\n\tendbr64\n\trdsspq %rsi\n\tmov %rsp, %rcx\n\tlea 1f(%rip), %rdx\n\t"
    "sysenter\n1:\trdsspq %rdi\n\tud2\n"
    "k_sys:\n\tendbr64\n\tmov %rcx, %r10\n\t" K_BODY
    "mov %r10, %rcx\n\tsysretq\n"
    "k_sysenter:\n\tendbr64\n\tmov %rcx, %r10\n\tmov %rdx, %r11\n\t" K_BODY
    "mov %r10, %rcx\n\tmov %r11, %rdx\n\trex64 sysexit\n"
    ".popsection");

#define SENTINEL 0x123450ull

/* One run of code at CPL 3 with the given U_CET/S_CET shadow-stack
 * enables. With sss, the kernel first runs on a token of its own (for the
 * IRETQ to CPL 3) and events from CPL 3 take the token at PL0_SSP. */
static struct fault user_run(u64 code, bool ushstk, bool sss, u64 ssp0)
{
	wrmsr(MSR_IA32_PL3_SSP, ushstk ? ssp0 : SENTINEL);
	wrmsr(MSR_IA32_U_CET, ushstk ? CET_SHSTK_EN : 0);
	if (sss) {
		struct cet_ss ks = cet_ss_page(false), k = cet_ss_page(false);
		cet_sss_on(cet_ss_token(&ks));
		wrmsr(MSR_IA32_PL0_SSP, cet_ss_token(&k));
	}
	struct regs r = fault_user_regs(code, USER_CS);
	r.rsi = r.rdi = 0x55;
	struct fault f = fault_run_regs(&r);
	wrmsr(MSR_IA32_S_CET, 0);
	wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

static void test_one(const char *name, u64 code)
{
	struct cet_ss u = cet_ss_page(true);
	u64 ssp0 = u.va + 0x800;

	/* Both enables: SSP -> PL3_SSP, SSP = 0 in the kernel, back from PL3_SSP. */
	struct fault f = user_run(code, true, true, ssp0);
	report(f.vector == UD_VECTOR && f.regs.rsi == ssp0 && f.regs.r9 == ssp0,
	       "%s from CPL 3 with U_CET.SH_STK_EN saves SSP in PL3_SSP (%#lx)", name, f.regs.r9);
	report(f.regs.r8 == 0, "%s with S_CET.SH_STK_EN sets SSP = 0 (RDSSPQ %#lx)", name,
	       f.regs.r8);
	report(f.regs.rdi == ssp0 - 16, "%s: the return sets SSP = PL3_SSP (%#lx)", name,
	       f.regs.rdi);

	/* U_CET only: the save and the load, and SSP untouched at CPL 0. */
	f = user_run(code, true, false, ssp0);
	report(f.vector == UD_VECTOR && f.regs.r9 == ssp0 && f.regs.r8 == 0x77 &&
		       f.regs.rdi == ssp0 - 16,
	       "%s with U_CET only: PL3_SSP saved (%#lx) and loaded back (%#lx), no kernel SSP",
	       name, f.regs.r9, f.regs.rdi);

	/* S_CET only: PL3_SSP is not written, user RDSSPQ stays a NOP. */
	f = user_run(code, false, true, ssp0);
	report(f.vector == UD_VECTOR && f.regs.r9 == SENTINEL && f.regs.r8 == 0 &&
		       f.regs.rsi == 0x55 && f.regs.rdi == 0x55,
	       "%s with S_CET only: PL3_SSP untouched (%#lx), kernel SSP = 0 (%#lx)", name,
	       f.regs.r9, f.regs.r8);

	/* Neither. */
	f = user_run(code, false, false, ssp0);
	report(f.vector == UD_VECTOR && f.regs.r9 == SENTINEL && f.regs.r8 == 0x77,
	       "%s without shadow stacks: no SSP change (%#lx)", name, f.regs.r9);
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow stacks across SYSCALL/SYSENTER");
		return report_summary();
	}
	cet_init();
	syscall_enable(0, X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_TF | X86_EFLAGS_AC);
	wrmsr(MSR_LSTAR, (u64)k_sys);
	test_one("65: SYSCALL", (u64)u_sys);
	syscall_disable();

	/* SYSENTER needs CPUID.1:EDX.SEP[11] (its MSRs #GP without it). */
	if (!cpu_has(X86_FEATURE(1, 0, CPUID_EDX, 11))) {
		report_skip("CPUID lacks SEP (1:EDX[11]): 66 (SYSENTER/SYSEXIT) is in "
			    "tests/unit/test_cet_host.c");
		cet_exit();
		return report_summary();
	}
	wrmsr(MSR_IA32_SYSENTER_CS, KERNEL_CS);
	wrmsr(MSR_IA32_SYSENTER_ESP, (u64)page_alloc() + 4096);
	wrmsr(MSR_IA32_SYSENTER_EIP, (u64)k_sysenter);
	test_one("66: SYSENTER", (u64)u_sysenter);
	wrmsr(MSR_IA32_SYSENTER_CS, 0);
	cet_exit();
	return report_summary();
}
