/* softint: events raised by software interrupts: INT3 and INT n at CPL 0
 * and 3, INT1, INT n through a not-present gate (#NP) and from CPL 3 to a
 * DPL 0 gate (#GP), and the DPL 3 INT 0x80 gate round trip from user mode
 * (SDM Vol. 3A, 6.12.1.1 and 6.13; Vol. 2A, INT n). */
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "report.h"
#include "x86.h"

static void expect(const struct fault *f, int vec, u64 err, u64 rip, const char *what)
{
	report(f->vector == vec, "%s: vector %s (got %s)", what, idt_vector_name(vec),
	       idt_vector_name(f->vector));
	report(f->error_code == err, "%s: error code %#lx (got %#lx)", what, err, f->error_code);
	report(f->rip == rip, "%s: RIP %#lx (got %#lx)", what, rip, f->rip);
}

static void test_kernel(void)
{
	struct fault f;

	/* #BP is a trap: the saved RIP is the next instruction. */
	asm volatile(FAULT_TRY("1f") "int3\n1:" ::: "memory");
	f = fault_take();
	expect(&f, BP_VECTOR, 0, f.insn + 1, "int3");

	asm volatile(FAULT_TRY("1f") ".byte 0xcd, 0x03\n1:" ::: "memory"); /* INT 3, 2 bytes */
	f = fault_take();
	expect(&f, BP_VECTOR, 0, f.insn + 2, "int $3 (CD 03)");

	asm volatile(FAULT_TRY("1f") ".byte 0xf1\n1:" ::: "memory"); /* INT1 */
	f = fault_take();
	report_tcg(f.vector == DB_VECTOR && f.rip == f.insn + 1, "ICEBP is #UD",
		   "int1 (F1): #DB trap (got %s at insn%+ld)", idt_vector_name(f.vector),
		   (long)(f.rip - f.insn));

	asm volatile(FAULT_TRY("1f") "int $0x70\n1:" ::: "memory");
	f = fault_take();
	expect(&f, 0x70, 0, f.insn + 2, "int $0x70 delivers vector 0x70");

	/* Error code: vector << 3 | IDT (SDM 6.13). */
	idt_set_present(0x70, false);
	asm volatile(FAULT_TRY("1f") "int $0x70\n1:" ::: "memory");
	f = fault_take();
	idt_set_present(0x70, true);
	report(f.vector == NP_VECTOR && f.rip == f.insn, "#NP for INT to not-present gate");
	report_tcg(f.error_code == (0x70 << 3 | ERR_IDT), "IDT error code scaled by 16",
		   "#NP error code %#x (got %#lx)", 0x70 << 3 | ERR_IDT, f.error_code);
}

static struct fault user_fault;

static u64 user_int3(u64 unused)
{
	(void)unused;
	asm volatile(FAULT_TRY("1f") "int3\n1:" ::: "memory");
	user_fault = fault_take();
	return 0;
}

static u64 user_int70(u64 unused)
{
	(void)unused;
	asm volatile(FAULT_TRY("1f") "int $0x70\n1:" ::: "memory");
	user_fault = fault_take();
	return 0;
}

/* INT 0x80 from CPL 3: the handler doubles RAX and records where it ran. */
static u64 seen_cs, seen_frame;

static void int80_handler(struct regs *r)
{
	seen_cs = r->cs;
	seen_frame = (u64)r;
	r->rax *= 2;
}

static u64 user_int80(u64 x)
{
	u64 v = x;
	asm volatile("int $0x80" : "+a"(v)::"memory");
	return v + 1;
}

static void test_user(void)
{
	struct fault f;
	u64 k = tss_kernel_stack_top();

	fault_run_user(user_int3, 0);
	expect(&user_fault, BP_VECTOR, 0, user_fault.insn + 1, "int3 at CPL3 (DPL 3 gate)");

	fault_run_user(user_int70, 0);
	report(user_fault.vector == GP_VECTOR && user_fault.rip == user_fault.insn,
	       "int $0x70 at CPL3 to DPL 0 gate: #GP at the INT");
	report_tcg(user_fault.error_code == (0x70 << 3 | ERR_IDT), "IDT error code scaled by 16",
		   "#GP error code %#x (got %#lx)", 0x70 << 3 | ERR_IDT, user_fault.error_code);

	idt_set_handler(SYSCALL_INT_VECTOR, int80_handler);
	f = fault_run_user(user_int80, 21);
	idt_set_handler(SYSCALL_INT_VECTOR, NULL);
	report(f.vector == FAULT_NONE && f.value == 43, "INT 0x80 round trip from CPL3 (got %lu)",
	       f.value);
	report(seen_cs == USER_CS, "INT 0x80 frame has the user CS %#x (got %#lx)", USER_CS, seen_cs);
	report(seen_frame < k && seen_frame > k - 4096, "INT 0x80 handler ran on TSS.RSP0");
}

int main(void)
{
	test_kernel();
	test_user();
	return report_summary();
}
