/* syscall: SYSCALL/SYSRET round trip from CPL 3: RCX = return RIP, R11 =
 * RFLAGS, FMASK applied in the kernel, RFLAGS restored from R11, CS/SS from
 * STAR; #UD with EFER.SCE=0 and #GP(0) for SYSRET at CPL 3 (SDM Vol. 2B,
 * SYSCALL and SYSRET). */
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "report.h"
#include "syscall.h"
#include "x86.h"

#define FMASK (X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_TF | X86_EFLAGS_AC)

/* What the kernel side saw. */
static u64 k_rcx, k_r11, k_rflags, k_cs, k_ss, k_rsp;

static void handler(struct regs *r)
{
	k_rcx = r->rip;
	k_r11 = r->rflags;
	k_rsp = r->rsp;
	k_rflags = read_rflags();
	k_cs = read_cs();
	k_ss = read_ss();
	r->rax = r->rdi * 3;
}

/* What the user side saw after SYSRET. */
static u64 u_rcx, u_r11, u_next, u_rflags, u_cs, u_rsp;

static u64 user_syscall(u64 x)
{
	register u64 r11 asm("r11");
	u64 ret, rcx, next, flags;

	asm volatile("lea 1f(%%rip), %[next]\n\t"
		     "mov %%rsp, %[rsp]\n\t"
		     "std\n\t"
		     "syscall\n"
		     "1:\n\t"
		     "pushfq\n\t"
		     "popq %[flags]\n\t"
		     "cld"
		     : "=a"(ret), "=c"(rcx), "=r"(r11), [next] "=&r"(next), [flags] "=&r"(flags),
		       [rsp] "=m"(u_rsp)
		     : "a"(0), "D"(x)
		     : "memory", "cc");
	u_rcx = rcx;
	u_r11 = r11;
	u_next = next;
	u_rflags = flags;
	u_cs = read_cs();
	return ret;
}

static void test_round_trip(void)
{
	struct fault f = fault_run_user(user_syscall, 14);

	report(f.vector == FAULT_NONE && f.value == 42, "SYSCALL/SYSRET round trip (got %lu)",
	       f.value);
	report(k_rcx == u_next, "kernel RCX = return RIP %#lx (got %#lx)", u_next, k_rcx);
	report((k_r11 & X86_EFLAGS_DF) && (k_r11 & X86_EFLAGS_IF), "kernel R11 = user RFLAGS (%#lx)",
	       k_r11);
	report(!(k_rflags & FMASK), "FMASK cleared IF/DF/TF/AC in the kernel (RFLAGS %#lx)",
	       k_rflags);
	report(k_cs == KERNEL_CS && k_ss == KERNEL_DS, "kernel CS/SS from STAR[47:32] (%#lx/%#lx)",
	       k_cs, k_ss);
	report(k_rsp == u_rsp, "SYSCALL leaves RSP alone (%#lx)", k_rsp);
	report(u_rcx == u_next && u_r11 == k_r11, "RCX and R11 hold RIP and RFLAGS after SYSRET");
	report((u_rflags & X86_EFLAGS_DF) && (u_rflags & X86_EFLAGS_IF),
	       "SYSRET restored RFLAGS from R11 (%#lx)", u_rflags);
	report(u_cs == USER_CS, "SYSRET CS = STAR[63:48]+16 | 3 = %#x (got %#lx)", USER_CS, u_cs);
}

static u64 user_sysret(u64 unused)
{
	(void)unused;
	asm volatile(FAULT_TRY("1f") "sysretq\n1:" ::: "rcx", "r11", "memory");
	return fault_take().vector;
}

static u64 user_syscall_ud(u64 unused)
{
	(void)unused;
	asm volatile(FAULT_TRY("1f") "syscall\n1:" ::: "rcx", "r11", "memory");
	return fault_take().vector;
}

static void test_faults(void)
{
	struct fault f = fault_run_user(user_sysret, 0);

	report(f.vector == FAULT_NONE && f.value == GP_VECTOR, "SYSRET at CPL 3: #GP (got %s)",
	       idt_vector_name(f.value));
	syscall_disable();
	f = fault_run_user(user_syscall_ud, 0);
	report(f.vector == FAULT_NONE && f.value == UD_VECTOR, "SYSCALL with EFER.SCE=0: #UD (got %s)",
	       idt_vector_name(f.value));
}

int main(void)
{
	if (!cpu_has(X86_FEATURE_SYSCALL)) {
		report_skip("SYSCALL not supported");
		return report_summary();
	}
	syscall_enable(handler, FMASK);
	test_round_trip();
	test_faults();
	return report_summary();
}
