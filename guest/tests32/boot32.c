/* boot32: the 32-bit kit itself: legacy protected mode (CR0.PE=1, EFER.LMA=0),
 * exceptions caught with vector, error code and EIP, and 32-bit paging. */
#include "desc.h"
#include "fault.h"
#include "paging.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

#define MSR_EFER_LMA (1u << 10)

static void test_mode(void)
{
	u64 efer = 0;
	int v = rdmsr_safe(MSR_EFER, &efer);
	report((read_cr0() & X86_CR0_PE) && !(read_cr0() & X86_CR0_PG) &&
		       (v != FAULT_NONE || !(efer & EFER_LMA)) && read_cs() == KERNEL_CS,
	       "32-bit protected mode, paging off, CS %#x", read_cs());
	u16 tr;
	asm volatile("str %0" : "=r"(tr));
	report(tr == TSS_SEL, "TR holds the startup TSS (%#x)", tr);
	report(sizeof(void *) == 4, "32-bit code");
}

static void test_faults(void)
{
	asm volatile(FAULT_TRY("1f") "ud2\n1:" ::: "memory");
	struct fault f = fault_take();
	report(f.vector == UD_VECTOR && f.eip == f.insn && f.cs == KERNEL_CS,
	       "#UD at the UD2 (vector %d eip %#x insn %#x)", f.vector, f.eip, f.insn);
	asm volatile(FAULT_TRY("1f") "mov %0, %%ds\n1:" ::"r"(0x7ff8) : "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0x7ff8 && f.eip == f.insn,
	       "#GP(0x7ff8) loading DS past the GDT limit (vector %d error %#x)", f.vector,
	       f.error_code);
	asm volatile(FAULT_TRY("1f") "nop\n1:" ::: "memory");
	report(fault_take().vector == FAULT_NONE, "no fault: FAULT_NONE");
	char buf[32];
	snprintf(buf, sizeof(buf), "%llx %lu %zu %d", 0x123456789abcull, 4000000000ul,
		 (size_t)7, -5);
	report(!__builtin_strcmp(buf, "123456789abc 4000000000 7 -5"), "printf: %s", buf);
}

/* va is in RAM (12 MiB, above the image); its 4 MiB page becomes 4 KiB
 * pages, and only va itself moves to another frame. */
static void test_paging(void)
{
	static volatile u32 probe = 0x5a5a5a5a;
	u32 va = 0x00c00000, off = (uintptr_t)&probe & 0xfff;
	volatile u32 *next = (volatile u32 *)(uintptr_t)(va + 0x1000);
	*next = 0xc0ffee;
	paging_on();
	pt_map_4k(va, (uintptr_t)&probe, PTE_P | PTE_W);
	u32 got = *(volatile u32 *)(uintptr_t)(va + off);
	report(got == 0x5a5a5a5a, "32-bit paging: a 4 KiB mapping reads its frame (%#x)", got);
	report(*next == 0xc0ffee, "32-bit paging: the next page keeps its identity mapping");
	pt_map_4k(va, (uintptr_t)&probe, 0);
	asm volatile(FAULT_TRY("1f") "movl (%0), %%eax\n1:" ::"r"(va + off) : "eax", "memory");
	struct fault f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == 0 && f.cr2 == va + off &&
		       f.eip == f.insn,
	       "32-bit paging: a read of a not-present page: #PF(0) cr2 %#x", f.cr2);
	paging_off();
}

int main(void)
{
	test_mode();
	test_faults();
	test_paging();
	return report_summary();
}
