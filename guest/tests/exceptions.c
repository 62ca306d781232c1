/* exceptions: vector, error code, RIP (and CR2) of #DE #DB #UD #GP #PF #SS
 * #AC #NP, a per-vector handler override, and #DF when the #GP gate is not
 * present (SDM Vol. 3A, 6.15 and Table 6-5). Exceptions raised by INT n,
 * INT3 and INT1 are in softint.c. */
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "alloc.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

#define NONCANONICAL 0x8000000000000000ull
#define TEST_VA 0x100000000ull /* above the 4 GiB identity map */

/* As expect(), for a case QEMU TCG gets wrong for the reason `why`. */
static void expect_tcg(const struct fault *f, int vec, u64 err, u64 rip, const char *what,
		       const char *why)
{
	report_tcg(f->vector == vec, why, "%s: vector %s (got %s)", what, idt_vector_name(vec),
		   idt_vector_name(f->vector));
	report_tcg(f->error_code == err, why, "%s: error code %#lx (got %#lx)", what, err,
		   f->error_code);
	report_tcg(f->rip == rip, why, "%s: RIP %#lx (got %#lx)", what, rip, f->rip);
}

static void expect(const struct fault *f, int vec, u64 err, u64 rip, const char *what)
{
	report(f->vector == vec, "%s: vector %s (got %s)", what, idt_vector_name(vec),
	       idt_vector_name(f->vector));
	report(f->error_code == err, "%s: error code %#lx (got %#lx)", what, err, f->error_code);
	report(f->rip == rip, "%s: RIP %#lx (got %#lx)", what, rip, f->rip);
}

static void test_de_ud_db(void)
{
	struct fault f;
	u64 after;

	asm volatile(FAULT_TRY("1f") "divq %%rcx\n1:" ::"a"(1), "d"(0), "c"(0) : "memory");
	f = fault_take();
	expect(&f, DE_VECTOR, 0, f.insn, "#DE divide by zero");

	asm volatile(FAULT_TRY("1f") "idivq %%rcx\n1:"
		     ::"a"(NONCANONICAL), "d"(-1ull), "c"(-1ull) : "memory");
	f = fault_take();
	expect(&f, DE_VECTOR, 0, f.insn, "#DE quotient overflow");

	asm volatile(FAULT_TRY("1f") "ud2\n1:" ::: "memory");
	f = fault_take();
	expect(&f, UD_VECTOR, 0, f.insn, "#UD ud2");

	asm volatile(FAULT_TRY("1f") ".byte 0x06\n1:" ::: "memory"); /* PUSH ES */
	f = fault_take();
	expect(&f, UD_VECTOR, 0, f.insn, "#UD push es in 64-bit mode");

	asm volatile(FAULT_TRY("1f") ".byte 0xce\n1:" ::: "memory"); /* INTO */
	f = fault_take();
	expect(&f, UD_VECTOR, 0, f.insn, "#UD into in 64-bit mode");

	/* #DB single step: POPF sets TF, the trap follows the next instruction. */
	asm volatile(FAULT_TRY("1f") "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "nop\n"
		     "2:\n\t"
		     "nop\n"
		     "1:\n\t"
		     "lea 2b(%%rip), %0"
		     : "=r"(after)::"memory");
	f = fault_take();
	report(f.vector == DB_VECTOR && f.rip == after, "#DB single step after POPF (rip %#lx)",
	       f.rip);
	report(!(read_rflags() & X86_EFLAGS_TF), "TF clear after the #DB");
}

static void test_gp(void)
{
	u64 v;
	struct fault f;

	asm volatile(FAULT_TRY("1f") "mov (%%rax), %%rbx\n1:" ::"a"(NONCANONICAL) : "rbx", "memory");
	f = fault_take();
	expect(&f, GP_VECTOR, 0, f.insn, "#GP non-canonical load");

	asm volatile(FAULT_TRY("1f") "mov %%rbx, (%%rax)\n1:" ::"a"(NONCANONICAL), "b"(0) : "memory");
	f = fault_take();
	expect(&f, GP_VECTOR, 0, f.insn, "#GP non-canonical store");

	/* #GP(selector) for a selector past the GDT limit. */
	asm volatile(FAULT_TRY("1f") "mov %0, %%ds\n1:" ::"r"(0x100) : "memory");
	f = fault_take();
	expect(&f, GP_VECTOR, 0x100, f.insn, "#GP load DS beyond GDT limit");

	asm volatile(FAULT_TRY("1f") "rdmsr\n1:" : "=a"(v) : "c"(0x12345678) : "rdx", "memory");
	f = fault_take();
	expect_tcg(&f, GP_VECTOR, 0, f.insn, "#GP rdmsr of a bad MSR", "unknown MSRs do not fault");
	report_tcg(wrmsr_safe(0x12345678, 0) == GP_VECTOR, "unknown MSRs do not fault",
		   "#GP wrmsr of a bad MSR");
}

/* Each #PF case: fault at TEST_VA with the page set up as `pte`. */
static struct fault pf_access(u64 pte, bool write)
{
	u64 *e = pt_entry(pt_root(), TEST_VA, PT_4K);

	*e = pte;
	invlpg((void *)TEST_VA);
	if (write)
		asm volatile(FAULT_TRY("1f") "movb $1, (%0)\n1:" ::"r"(TEST_VA) : "memory");
	else
		asm volatile(FAULT_TRY("1f") "movb (%0), %%al\n1:" ::"r"(TEST_VA) : "rax", "memory");
	return fault_take();
}

static void expect_pf(const struct fault *f, u32 err, u64 rip, const char *what)
{
	if (err & PFERR_RSVD)
		expect_tcg(f, PF_VECTOR, err, rip, what, "no P bit with RSVD in the error code");
	else
		expect(f, PF_VECTOR, err, rip, what);
	report(f->cr2 == TEST_VA, "%s: CR2 %#llx (got %#lx)", what, TEST_VA, f->cr2);
}

static struct fault user_fault;

static u64 user_access(u64 write)
{
	if (write)
		asm volatile(FAULT_TRY("1f") "movb $1, (%0)\n1:" ::"r"(TEST_VA) : "memory");
	else
		asm volatile(FAULT_TRY("1f") "movb (%0), %%al\n1:" ::"r"(TEST_VA) : "rax", "memory");
	user_fault = fault_take();
	return 0;
}

static void test_pf(void)
{
	u64 page = (u64)page_alloc();
	u32 maxphy = cpuid(0x80000008).a & 0xff;
	struct fault f;

	f = pf_access(page, false);
	expect_pf(&f, 0, f.insn, "#PF not-present read");
	f = pf_access(page, true);
	expect_pf(&f, PFERR_W, f.insn, "#PF not-present write");
	f = pf_access(page | PTE_P, true);
	expect_pf(&f, PFERR_P | PFERR_W, f.insn, "#PF write to read-only page (CR0.WP=1)");
	f = pf_access(page | PTE_P | PTE_W, true);
	report(f.vector == FAULT_NONE, "no #PF on writable page");
	if (maxphy < 52) {
		f = pf_access(page | PTE_P | PTE_W | (1ull << maxphy), false);
		expect_pf(&f, PFERR_P | PFERR_RSVD, f.insn, "#PF reserved bit in PTE");
	}

	pf_access(page | PTE_P | PTE_W, false); /* supervisor-only page */
	fault_run_user(user_access, 0);
	expect_pf(&user_fault, PFERR_P | PFERR_U, user_fault.insn, "#PF user read of supervisor page");
	fault_run_user(user_access, 1);
	expect_pf(&user_fault, PFERR_P | PFERR_W | PFERR_U, user_fault.insn,
		  "#PF user write to supervisor page");

	if (!cpu_has(X86_FEATURE_NX)) {
		report_skip("#PF NX fetch: no NX");
		return;
	}
	pf_access(page | PTE_P | PTE_W | PTE_NX, false);
	*(u8 *)page = 0xc3; /* RET */
	FAULT_TRY_CALL(TEST_VA);
	f = fault_take();
	expect_pf(&f, PFERR_P | PFERR_I, TEST_VA, "#PF fetch from NX page");
	*pt_entry(pt_root(), TEST_VA, PT_4K) = 0;
	invlpg((void *)TEST_VA);
}

static void test_ss(void)
{
	struct fault f;
	u16 sel;

	/* A non-canonical address through RSP uses SS: #SS(0), not #GP. */
	asm volatile(FAULT_TRY("1f") "mov (%%rsp,%%rax), %%rbx\n1:"
		     ::"a"(NONCANONICAL) : "rbx", "memory");
	f = fault_take();
	expect_tcg(&f, SS_VECTOR, 0, f.insn, "#SS non-canonical stack access",
		   "raises #GP for non-canonical SS references");

	sel = gdt_set(GDT_FIRST_FREE, 0, 0xfffff, DESC_S | DESC_DATA | DESC_ACCESSED,
		      DESC_FLAG_G | DESC_FLAG_DB); /* P = 0 */
	asm volatile(FAULT_TRY("1f") "mov %0, %%ss\n1:" ::"r"(sel) : "memory");
	f = fault_take();
	expect(&f, SS_VECTOR, sel, f.insn, "#SS load SS with not-present segment");
}

static u64 user_misaligned(u64 addr)
{
	asm volatile("pushfq; orq %0, (%%rsp); popfq" ::"i"(X86_EFLAGS_AC) : "memory", "cc");
	asm volatile(FAULT_TRY("1f") "movl (%0), %%eax\n1:" ::"r"(addr) : "rax", "memory");
	user_fault = fault_take();
	asm volatile("pushfq; andq %0, (%%rsp); popfq" ::"i"(~X86_EFLAGS_AC) : "memory", "cc");
	return 0;
}

static void test_ac(void)
{
	static u64 buf[2];

	/* AM=0 first: some nested KVM hosts keep raising #AC after CR0.AM
	 * is cleared again, which would make the order matter. */
	fault_run_user(user_misaligned, (u64)buf + 1);
	report(user_fault.vector == FAULT_NONE, "no #AC with CR0.AM=0 (got %s)",
	       idt_vector_name(user_fault.vector));
	write_cr0(read_cr0() | X86_CR0_AM);
	fault_run_user(user_misaligned, (u64)buf + 1);
	expect_tcg(&user_fault, AC_VECTOR, 0, user_fault.insn, "#AC misaligned load at CPL3",
		   "no alignment checking");
	write_cr0(read_cr0() & ~X86_CR0_AM);
}

static void test_np(void)
{
	struct fault f;
	u16 sel;

	sel = gdt_set(GDT_FIRST_FREE, 0, 0xfffff, DESC_S | DESC_DATA | DESC_ACCESSED,
		      DESC_FLAG_G | DESC_FLAG_DB);
	asm volatile(FAULT_TRY("1f") "mov %0, %%ds\n1:" ::"r"(sel) : "memory");
	f = fault_take();
	expect(&f, NP_VECTOR, sel, f.insn, "#NP load DS with not-present segment");
}

static int ud_skipped;

static void skip_ud2(struct regs *r)
{
	ud_skipped++;
	r->rip += 2;
}

static void test_override_and_df(void)
{
	struct fault f;

	idt_set_handler(UD_VECTOR, skip_ud2);
	asm volatile(FAULT_TRY("1f") "ud2\n\tud2\n1:" ::: "memory");
	f = fault_take();
	idt_set_handler(UD_VECTOR, NULL);
	report(ud_skipped == 2 && f.vector == FAULT_NONE, "per-vector handler override");

	/* Delivering #GP through a not-present gate raises #NP; both are
	 * contributory, so the CPU raises #DF(0) instead (Table 6-5). */
	idt_set_present(GP_VECTOR, false);
	asm volatile(FAULT_TRY("1f") "mov (%%rax), %%rbx\n1:" ::"a"(NONCANONICAL) : "rbx", "memory");
	f = fault_take();
	idt_set_present(GP_VECTOR, true);
	report(f.vector == DF_VECTOR, "#DF on #GP with not-present gate (got %s)",
	       idt_vector_name(f.vector));
	report(f.error_code == 0, "#DF error code 0 (got %#lx)", f.error_code);
}

int main(void)
{
	test_de_ud_db();
	test_gp();
	test_pf();
	test_ss();
	test_ac();
	test_np();
	test_override_and_df();
	return report_summary();
}
