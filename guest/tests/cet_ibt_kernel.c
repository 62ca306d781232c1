/* Covers: 88 89 90 93
 * cet_ibt_kernel: the supervisor (S_CET) IBT tracker: IRETQ and direct
 * branches at CPL 0 never arm it, exception delivery does (the far rule,
 * also with SUPPRESS=1) so a handler must start with ENDBR64, and the
 * kernel's #CP(3) handler can IRETQ to the faulting target without a
 * second #CP (spec/cet.md 7.2, 7.3; SDM Vol. 1 17.3.1-17.3.3). */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

/* ibt_direct: direct JMP/CALL/RET only. ibt_nohandler: a gate target
 * without ENDBR64 (its #CP(3) fires before it runs). */
u64 ibt_direct(u64 unused);
extern char ibt_nohandler[];
asm(".pushsection .text\n"
    ".globl ibt_direct, ibt_nohandler\n"
    "ibt_direct:\tjmp 1f\n"
    "1:\tcall 2f\n\tjmp 3f\n"
    "2:\tret\n"
    "3:\tret\n"
    "ibt_nohandler:\tnop\n\tiretq\n"
    ".popsection");

static void s_cet(u64 v)
{
	wrmsr(MSR_IA32_S_CET, v);
}

/* 88: IRETQ to CPL 0 code without ENDBR64, which ends with RET into the
 * exit stub's UD2 (a #CP(3) there would mean RET armed). */
static void test_never_arm(void)
{
	struct regs r = fault_user_regs((u64)ibt_direct, KERNEL_CS);
	r.ss = KERNEL_DS;
	s_cet(CET_ENDBR_EN | CET_NO_TRACK_EN);
	struct fault f = fault_run_regs(&r);
	u64 after = rdmsr(MSR_IA32_S_CET);
	s_cet(0);
	report(f.vector == FAULT_NONE,
	       "88: CPL 0 IRETQ, direct JMP/CALL and RET do not arm (vector %d rip %#lx)",
	       f.vector, f.rip);
	report(!(after & CET_WAIT_ENDBR), "88: S_CET tracker idle (%#lx)", after);
}

/* UD2 at CPL 0 with S_CET = ctl, its #UD gate pointing at `handler`; the
 * frames of nested events are dropped by restoring RSP and RFLAGS. */
static struct fault ud_via(u64 handler, u64 ctl, u64 *after)
{
	idt_set_addr(UD_VECTOR, handler);
	s_cet(ctl);
	asm volatile("pushfq\n\tpop %%r13\n\tmov %%rsp, %%r12\n\t" FAULT_TRY("1f") "ud2\n"
		     "1:\tmov %%r12, %%rsp\n\tpush %%r13\n\tpopfq" ::
			     : "r12", "r13", "memory", "cc");
	struct fault f = fault_take();
	*after = rdmsr(MSR_IA32_S_CET);
	s_cet(0);
	idt_set_addr(UD_VECTOR, idt_stub(UD_VECTOR));
	return f;
}

/* Far CALL (FF /3, m16:32) at CPL 0 to ibt_nohandler in KERNEL_CS. */
static struct fault far_call(u64 ctl, u64 *after)
{
	static struct __attribute__((packed)) { u32 off; u16 sel; } ptr;
	ptr.off = (u32)(u64)ibt_nohandler;
	ptr.sel = KERNEL_CS;
	s_cet(ctl);
	asm volatile("mov %%rsp, %%r12\n\t" FAULT_TRY("1f") "lcall *%0\n"
		     "1:\tmov %%r12, %%rsp" ::"m"(ptr)
		     : "r12", "memory");
	struct fault f = fault_take();
	*after = rdmsr(MSR_IA32_S_CET);
	s_cet(0);
	return f;
}

static bool cp3_at(const struct fault *f, const void *target)
{
	return f->vector == CP_VECTOR && f->error_code == CP_ENDBRANCH &&
	       f->rip == (u64)target && f->cs == KERNEL_CS;
}

static void test_delivery(void)
{
	const u64 on = CET_ENDBR_EN | CET_NO_TRACK_EN;
	u64 after;
	struct fault f = ud_via(idt_stub(UD_VECTOR), on, &after);
	report(f.vector == UD_VECTOR && !(after & CET_WAIT_ENDBR),
	       "89: #UD to a handler with ENDBR64 runs (vector %d, S_CET %#lx)", f.vector, after);
	f = ud_via((u64)ibt_nohandler, on, &after);
	report(cp3_at(&f, ibt_nohandler),
	       "89: #UD to a handler without ENDBR64: #CP(3) at its first instruction "
	       "(v%d e%lu rip %#lx)", f.vector, f.error_code, f.rip);

	/* 90 (the far rule): delivery arms even with SUPPRESS=1. */
	f = far_call(on | CET_SUPPRESS, &after);
	report(cp3_at(&f, ibt_nohandler) && !(after & CET_SUPPRESS),
	       "90: far CALL with SUPPRESS=1 arms and clears SUPPRESS (v%d rip %#lx S_CET %#lx)",
	       f.vector, f.rip, after);
	f = ud_via((u64)ibt_nohandler, on | CET_SUPPRESS, &after);
	report(cp3_at(&f, ibt_nohandler) && !(after & CET_SUPPRESS),
	       "90: exception delivery with SUPPRESS=1 arms it too (S_CET %#lx)",
	       after);
}

static volatile int cp_count;
static volatile u64 cp_rip;

/* A kernel #CP handler (its stub starts with ENDBR64) that only counts and
 * IRETQs back to the faulting target. */
static void cp_resume(struct regs *r)
{
	cp_count++;
	cp_rip = r->rip;
}

static void test_cp_resume(void)
{
	u64 target, done = 0;
	cp_count = 0;
	idt_set_handler(CP_VECTOR, cp_resume);
	s_cet(CET_ENDBR_EN | CET_NO_TRACK_EN);
	asm volatile("lea 1f(%%rip), %[t]\n\t"
		     "jmp *%[t]\n"
		     "1:\tmov $1, %[d]"
		     : [t] "=&r"(target), [d] "+r"(done)::"memory");
	u64 after = rdmsr(MSR_IA32_S_CET);
	s_cet(0);
	idt_set_handler(CP_VECTOR, NULL);
	report(cp_count == 1 && cp_rip == target && done == 1,
	       "93: #CP(3) at CPL 0, ENDBR64 handler IRETQs to the target: one #CP (%d at %#lx)",
	       cp_count, cp_rip);
	report(!(after & CET_WAIT_ENDBR), "93: S_CET tracker idle after (%#lx)", after);
}

int main(void)
{
	if (!cet_has_ibt()) {
		report_skip("IBT not in CPUID");
		return report_summary();
	}
	write_cr0(read_cr0() | X86_CR0_WP);
	cet_cr4(true);
	test_never_arm();
	test_delivery();
	test_cp_resume();
	cet_exit();
	return report_summary();
}
