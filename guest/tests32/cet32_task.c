/* Covers: 68
 * cet32_task: the TSS checks that CR4.CET adds to task switches in legacy
 * mode (spec/cet.md 5.12; SDM Vol. 3A 8.3 step 3): a 16-bit TSS, or a
 * 32-bit TSS whose limit is below 0x6B (no room for the SSP at 0x68), is
 * #TS(new TSS selector) before the commit point: at the CALL or JMP, with
 * TR and the busy bits unchanged. The same switches work with CR4.CET=0,
 * and a limit of exactly 0x6B works with CR4.CET=1. */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "paging.h"
#include "report.h"
#include "task.h"
#include "x86.h"

#define SLOT_B GDT_FIRST_FREE
#define SLOT_16 (GDT_FIRST_FREE + 1)
#define SLOT_CS16 (GDT_FIRST_FREE + 2)

void task_ret(void);
void task16_entry(void);
asm(".pushsection .text\n"
    /* Both tasks only go back to the task that called them. */
    "task_ret:\n\tendbr32\n\tiret\n\tjmp task_ret\n"
    "\t.p2align 4\n"
    "task16_entry:\n\tendbr32\n\tiret\n\tjmp task16_entry\n"
    ".popsection");

static struct task b;
static struct tss16 t16 __aligned(64);

/* A 16-bit TSS: IP is 16 bits, so CS (32-bit code) gets the base of the
 * 64 KiB that hold task16_entry. */
static u16 task16_init(void)
{
	u32 entry = (uintptr_t)task16_entry, base = entry & ~0xffffu;
	u16 cs = gdt_set(SLOT_CS16, base, 0xffff, DESC_P | DESC_S | DESC_CODE | DESC_ACCESSED,
			 DESC_FLAG_DB);
	t16 = (struct tss16){ .ip = (u16)entry, .flags = X86_EFLAGS_FIXED, .cs = cs,
			      .ss = KERNEL_DS, .ds = KERNEL_DS, .es = KERNEL_DS, .sp = 0xfff0 };
	tss_main()->cr3 = read_cr3();
	return gdt_set(SLOT_16, (uintptr_t)&t16, sizeof(t16) - 1, DESC_P | DESC_TSS16, 0);
}

static bool ts_at_switch(const struct fault *f, u16 sel)
{
	return f->vector == TS_VECTOR && f->error_code == sel && f->eip == f->insn &&
	       task_tr() == TSS_SEL && !task_busy(sel);
}

/* The task ran to its IRET (its TSS keeps the EIP after ENDBR32, IRET)
 * and came back: TR is the startup TSS again and the task's is free. */
static bool round_trip(const struct fault *f, u16 sel, u32 eip, u32 entry)
{
	return f->vector == FAULT_NONE && task_tr() == TSS_SEL && !task_busy(sel) &&
	       eip == entry + 5;
}

/* CR4.CET=0: both TSS kinds work (the faults below are CET's). */
static void test_without_cet(void)
{
	task_init(&b, SLOT_B, task_ret, TSS32_LIMIT_MIN);
	struct fault f = task_switch(b.sel, TASK_BY_CALL, NULL);
	report(round_trip(&f, b.sel, b.tss.eip, (uintptr_t)task_ret) && b.tss.link == TSS_SEL,
	       "68: CR4.CET=0: CALL to a 32-bit TSS with limit 0x67 and IRET back (vector %d)",
	       f.vector);
	u16 sel16 = task16_init();
	f = task_switch(sel16, TASK_BY_CALL, NULL);
	report(round_trip(&f, sel16, t16.ip, (u16)(uintptr_t)task16_entry) && t16.link == TSS_SEL,
	       "68: CR4.CET=0: CALL to a 16-bit TSS and IRET back (vector %d)", f.vector);
}

static void test_with_cet(void)
{
	task_init(&b, SLOT_B, task_ret, TSS32_LIMIT_MIN);
	struct fault f = task_switch(b.sel, TASK_BY_CALL, NULL);
	report(ts_at_switch(&f, b.sel),
	       "68: CALL to a 32-bit TSS with limit 0x67: #TS(%#x) at the CALL (vector %d error "
	       "%#x eip %#x insn %#x)", b.sel, f.vector, f.error_code, f.eip, f.insn);
	task_init(&b, SLOT_B, task_ret, TSS32_LIMIT_CET - 1);
	f = task_switch(b.sel, TASK_BY_JMP, NULL);
	report(ts_at_switch(&f, b.sel),
	       "68: JMP to a 32-bit TSS with limit 0x6A: #TS(%#x) at the JMP (vector %d error %#x)",
	       b.sel, f.vector, f.error_code);
	u16 sel16 = task16_init();
	f = task_switch(sel16, TASK_BY_CALL, NULL);
	report(ts_at_switch(&f, sel16),
	       "68: CALL to a 16-bit TSS: #TS(%#x) at the CALL (vector %d error %#x)", sel16,
	       f.vector, f.error_code);
	f = task_switch(sel16, TASK_BY_JMP, NULL);
	report(ts_at_switch(&f, sel16), "68: JMP to a 16-bit TSS: #TS(%#x) at the JMP (vector %d)",
	       sel16, f.vector);
	task_init(&b, SLOT_B, task_ret, TSS32_LIMIT_CET);
	f = task_switch(b.sel, TASK_BY_CALL, NULL);
	report(round_trip(&f, b.sel, b.tss.eip, (uintptr_t)task_ret) && b.tss.link == TSS_SEL,
	       "68: CALL to a 32-bit TSS with limit 0x6B and IRET back (vector %d)", f.vector);
}

int main(void)
{
	paging_on();
	test_without_cet();
	if (!cpu_has(X86_FEATURE_SHSTK) && !cpu_has(X86_FEATURE_IBT)) {
		report_skip("68: CPUID has neither SHSTK nor IBT: CR4.CET cannot be set");
		return report_summary();
	}
	write_cr0(read_cr0() | X86_CR0_WP);
	write_cr4(read_cr4() | X86_CR4_CET);
	test_with_cet();
	write_cr4(read_cr4() & ~X86_CR4_CET);
	return report_summary();
}
