/* usermode: CPL 3 round trips through IRETQ (and back through an exception
 * gate), the stack switch to TSS.RSP0, a user access to a supervisor page
 * (#PF with U), and #GP(0) for privileged instructions at CPL 3 (SDM Vol. 3A,
 * 5.9; the INT 0x80 gate round trip is in softint.c). */
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

static u64 user_fib(u64 n)
{
	return n < 2 ? n : user_fib(n - 1) + user_fib(n - 2);
}

static u64 user_cs_ss(u64 unused)
{
	(void)unused;
	return (u64)read_cs() << 16 | read_ss();
}

static void test_round_trip(void)
{
	struct fault f = fault_run_user(user_fib, 20);

	report(f.vector == FAULT_NONE && f.value == 6765, "user-mode call returns fib(20)=%lu",
	       f.value);
	f = fault_run_user(user_cs_ss, 0);
	report(f.value >> 16 == USER_CS, "CS at user level is %#x (got %#lx)", USER_CS, f.value >> 16);
	report((f.value & 0xffff) == USER_DS, "SS at user level is %#x (got %#lx)", USER_DS,
	       f.value & 0xffff);
	report((read_cs() & 3) == 0, "back at CPL 0");
	f = fault_run_user(user_fib, 10);
	report(f.vector == FAULT_NONE && f.value == 55, "second round trip");
}

static u64 frame_addr;

static void record_frame(struct regs *r)
{
	frame_addr = (u64)r;
	fault_catch(r);
}

static u64 user_ud2(u64 unused)
{
	(void)unused;
	asm volatile("ud2");
	return 0;
}

static void test_stack_switch(void)
{
	u64 top = tss_kernel_stack_top();
	struct fault f;

	idt_set_handler(UD_VECTOR, record_frame);
	f = fault_run_user(user_ud2, 0);
	idt_set_handler(UD_VECTOR, NULL);
	report(f.vector == UD_VECTOR && (f.cs & 3) == 3, "#UD raised at CPL 3");
	report(frame_addr < top && frame_addr > top - 4096, "exception from CPL 3 runs on TSS.RSP0");
	report(f.ss == USER_DS, "frame holds the user SS (got %#lx)", f.ss);
}

static struct fault user_fault;
static volatile u64 supervisor_word[512] __aligned(4096);

static u64 user_read(u64 addr)
{
	asm volatile(FAULT_TRY("1f") "mov (%0), %%rax\n1:" ::"r"(addr) : "rax", "memory");
	user_fault = fault_take();
	return 0;
}

static void test_supervisor_page(void)
{
	u64 va = (u64)supervisor_word;
	u64 *pte = pt_entry(pt_root(), va, PT_4K);

	*pte &= ~PTE_U;
	invlpg((void *)va);
	fault_run_user(user_read, va);
	report(user_fault.vector == PF_VECTOR && user_fault.error_code == (PFERR_P | PFERR_U),
	       "user read of supervisor page: #PF error P|U (got %s %#lx)",
	       idt_vector_name(user_fault.vector), user_fault.error_code);
	report(user_fault.cr2 == va && user_fault.rip == user_fault.insn, "#PF CR2 and RIP");
	*pte |= PTE_U;
	invlpg((void *)va);
	fault_run_user(user_read, va);
	report(user_fault.vector == FAULT_NONE, "same read works with U=1");
}

/* One privileged instruction per function; each must raise #GP(0) at CPL 3. */
#define PRIV_INSN(name, ...)                                      \
	static void priv_##name(void)                             \
	{                                                         \
		asm volatile(FAULT_TRY("1f") __VA_ARGS__);        \
	}
PRIV_INSN(hlt, "hlt\n1:" ::: "memory")
PRIV_INSN(cli, "cli\n1:" ::: "memory")
PRIV_INSN(sti, "sti\n1:" ::: "memory")
PRIV_INSN(rd_cr0, "mov %%cr0, %%rax\n1:" ::: "rax", "memory")
PRIV_INSN(wr_cr3, "mov %%rax, %%cr3\n1:" ::"a"(0) : "memory")
PRIV_INSN(rdmsr, "rdmsr\n1:" ::"c"(MSR_EFER) : "rax", "rdx", "memory")
PRIV_INSN(wrmsr, "wrmsr\n1:" ::"c"(MSR_EFER), "a"(0), "d"(0) : "memory")
PRIV_INSN(lgdt, "lgdt (%%rsp)\n1:" ::: "memory")
PRIV_INSN(lidt, "lidt (%%rsp)\n1:" ::: "memory")
PRIV_INSN(ltr, "ltr %%ax\n1:" ::"a"(TSS_SEL) : "memory")
PRIV_INSN(invlpg, "invlpg (%%rsp)\n1:" ::: "memory")
PRIV_INSN(wbinvd, "wbinvd\n1:" ::: "memory")
PRIV_INSN(clts, "clts\n1:" ::: "memory")
PRIV_INSN(rd_dr7, "mov %%dr7, %%rax\n1:" ::: "rax", "memory")
PRIV_INSN(swapgs, "swapgs\n1:" ::: "memory")
PRIV_INSN(rdpmc, "rdpmc\n1:" ::"c"(0) : "rax", "rdx", "memory")

#define PRIV(name) { #name, priv_##name }
static const struct {
	const char *name;
	void (*fn)(void);
} privileged[] = {
	PRIV(hlt), PRIV(cli), PRIV(sti), PRIV(rd_cr0), PRIV(wr_cr3), PRIV(rdmsr),
	PRIV(wrmsr), PRIV(lgdt), PRIV(lidt), PRIV(ltr), PRIV(invlpg), PRIV(wbinvd),
	PRIV(clts), PRIV(rd_dr7), PRIV(swapgs), PRIV(rdpmc),
};

static u64 user_priv(u64 i)
{
	privileged[i].fn();
	user_fault = fault_take();
	return 0;
}

static void test_privileged(void)
{
	for (u64 i = 0; i < ARRAY_SIZE(privileged); i++) {
		fault_run_user(user_priv, i);
		report(user_fault.vector == GP_VECTOR && user_fault.error_code == 0 &&
			       user_fault.rip == user_fault.insn,
		       "%s at CPL 3: #GP(0) at the instruction (got %s %#lx)", privileged[i].name,
		       idt_vector_name(user_fault.vector), user_fault.error_code);
	}
}

/* With IOPL=0, POPF at CPL 3 leaves IF alone without faulting (SDM POPF). */
static u64 user_popf_if(u64 unused)
{
	(void)unused;
	u64 f = read_rflags();
	write_rflags(f & ~X86_EFLAGS_IF);
	return read_rflags();
}

static u64 user_cli_sti(u64 unused)
{
	(void)unused;
	asm volatile(FAULT_TRY("1f") "cli\n\tsti\n1:" ::: "memory");
	return fault_take().vector;
}

static void test_iopl(void)
{
	struct fault f = fault_run_user(user_popf_if, 0);
	struct regs r;

	report(f.vector == FAULT_NONE && (f.value & X86_EFLAGS_IF), "POPF at CPL 3 cannot clear IF");
	r = fault_user_regs((u64)user_cli_sti, USER_CS);
	r.rflags |= X86_EFLAGS_IOPL;
	f = fault_run_regs(&r);
	report(f.vector == FAULT_NONE && (int)f.value == FAULT_NONE,
	       "CLI/STI at CPL 3 with IOPL=3 (got %s / %s)", idt_vector_name(f.vector),
	       idt_vector_name(f.value));
}

int main(void)
{
	test_round_trip();
	test_stack_switch();
	test_supervisor_page();
	test_privileged();
	test_iopl();
	return report_summary();
}
