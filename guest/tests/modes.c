/* modes: 32-bit compatibility mode under IA-32e: far CALL/RET and far JMP
 * between 64-bit and 32-bit code segments, 32-bit decoding (0x48 is DEC EAX,
 * PUSH moves ESP by 4), CPL 3 compatibility code, and segment limit checks
 * that 64-bit mode ignores: DS beyond its limit → #GP(0), SS → #SS(0)
 * (SDM Vol. 3A, 5.3 and 9.8.5; Vol. 1, 3.2.1). */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "report.h"
#include "x86.h"

/* 32-bit code: called by far CALL (return with LRET) or entered by IRETQ
 * from fault_run_regs (return with RET to the exit stub). */
u32 compat_call(u32 target, u32 a, u32 b);
u32 compat_jmp_round_trip(void);
void compat_add_dec(void), compat_push_size(void), compat_read_cs(void);
void compat_user_sum(void), compat_ds_limit(void), compat_ss_limit(void);

asm(".pushsection .text\n"
    /* u32 compat_call(u32 target, u32 a, u32 b): far call KERNEL_CS32:target
     * with EDI=a, ESI=b. The upper halves of registers are undefined after a
     * trip through compatibility mode (SDM Vol. 1, 3.4.1.1): save them. */
    "	.globl compat_call\n"
    "compat_call:\n"
    "	endbr64\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %edi, far_ptr(%rip)\n"
    "	movw $0x18, far_ptr+4(%rip)\n"
    "	mov %esi, %edi\n"
    "	mov %edx, %esi\n"
    "	lcall *far_ptr(%rip)\n" /* m16:32: pushes 4-byte CS and EIP */
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n"
    /* u32 compat_jmp_round_trip(void): far JMP to 32-bit code and back. */
    "	.globl compat_jmp_round_trip\n"
    "compat_jmp_round_trip:\n"
    "	endbr64\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	movl $compat_jmp_target, far_ptr(%rip)\n"
    "	movw $0x18, far_ptr+4(%rip)\n"
    "	ljmp *far_ptr(%rip)\n"
    "compat_jmp_back:\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n"
    "	.code32\n"
    "compat_jmp_target:\n"
    "	mov $0x32, %eax\n"
    "	ljmp $0x08, $compat_jmp_back\n"
    /* EAX = a + b - 1: 0x48 decodes as DEC EAX here, REX.W in 64-bit mode. */
    "	.globl compat_add_dec\n"
    "compat_add_dec:\n"
    "	lea (%edi,%esi), %eax\n"
    "	.byte 0x48\n"
    "	lret\n"
    /* EAX = bytes moved by one PUSH. */
    "	.globl compat_push_size\n"
    "compat_push_size:\n"
    "	mov %esp, %eax\n"
    "	push %ebx\n"
    "	sub %esp, %eax\n"
    "	pop %ebx\n"
    "	lret\n"
    "	.globl compat_read_cs\n"
    "compat_read_cs:\n"
    "	mov %cs, %eax\n"
    "	lret\n"
    /* At CPL 3 from IRETQ: EAX = CS << 16 | EDI + ESI. */
    "	.globl compat_user_sum\n"
    "compat_user_sum:\n"
    "	mov %cs, %eax\n"
    "	shl $16, %eax\n"
    "	add %edi, %eax\n"
    "	add %esi, %eax\n"
    "	ret\n"
    /* DS = EDI (limit 0xfff): a read inside works, one beyond faults. */
    "	.globl compat_ds_limit\n"
    "compat_ds_limit:\n"
    "	mov %edi, %ds\n"
    "	mov 0x800, %eax\n"
    "	mov $1, %ebx\n"
    "	mov 0x2000, %eax\n"
    "	ret\n"
    /* SS = EDI (limit 0xfff), ESP above it: PUSH faults. */
    "	.globl compat_ss_limit\n"
    "compat_ss_limit:\n"
    "	mov %edi, %ss\n"
    "	push %eax\n"
    "	pop %eax\n"
    "	ret\n"
    "	.code64\n"
    ".popsection\n"
    ".pushsection .data\n"
    "far_ptr: .long 0\n"
    "	.word 0\n"
    ".popsection\n");

static void test_far_transfers(void)
{
	u32 v = compat_call((u32)(u64)compat_add_dec, 40, 3);

	report(v == 42, "far CALL into compatibility mode and LRET back (%u)", v);
	report((read_cs() & ~3) == KERNEL_CS, "back in 64-bit CS %#x", read_cs());
	report(compat_call((u32)(u64)compat_push_size, 0, 0) == 4, "PUSH moves ESP by 4");
	report(compat_call((u32)(u64)compat_read_cs, 0, 0) == KERNEL_CS32, "CS is %#x in there",
	       KERNEL_CS32);
	report(compat_jmp_round_trip() == 0x32, "far JMP to compatibility mode and back");
}

static void test_user(void)
{
	struct regs r = fault_user_regs((u64)compat_user_sum, USER_CS32);
	struct fault f;

	r.rdi = 1000;
	r.rsi = 234;
	f = fault_run_regs(&r);
	report(f.vector == FAULT_NONE && (f.value & 0xffff) == 1234,
	       "CPL 3 compatibility-mode code runs and returns (%#lx)", f.value);
	report((f.value >> 16 & 0xffff) == USER_CS32, "with CS %#x", USER_CS32);
}

/* Run 32-bit code at CPL 0 on a fresh stack page below 4 GiB. */
static struct fault run_compat0(void (*fn)(void), u64 rdi)
{
	u32 *stack = (u32 *)((u8 *)page_alloc() + 4096) - 1;

	*stack = (u32)(u64)fault_exit_stub;
	struct regs r = {
		.rip = (u64)fn, .cs = KERNEL_CS32, .rflags = X86_EFLAGS_FIXED,
		.rsp = (u64)stack, .ss = KERNEL_DS, .rdi = rdi,
	};
	return fault_run_regs(&r);
}

static void test_limits(void)
{
	u16 small = gdt_set(GDT_FIRST_FREE, 0, 0xfff, DESC_P | DESC_S | DESC_DATA | DESC_ACCESSED,
			    DESC_FLAG_DB);
	struct fault f;

	f = run_compat0(compat_ds_limit, small);
	report(f.regs.rbx == 1, "read inside the DS limit works");
	report_tcg(f.vector == GP_VECTOR && f.error_code == 0, "no segment limit checks",
		   "read beyond the DS limit: #GP(0) (got %s)", idt_vector_name(f.vector));
	report_tcg(f.cs == KERNEL_CS32, "no segment limit checks", "fault taken in compatibility mode");
	asm volatile("mov %0, %%ds" ::"r"(KERNEL_DS));

	f = run_compat0(compat_ss_limit, small);
	report_tcg(f.vector == SS_VECTOR && f.error_code == 0, "no segment limit checks",
		   "PUSH beyond the SS limit: #SS(0) (got %s)", idt_vector_name(f.vector));

	u64 x;
	asm volatile("mov %1, %%ds\n\tmov 0x100000, %0\n\tmov %2, %%ds"
		     : "=r"(x) : "r"(small), "r"(KERNEL_DS) : "memory");
	report(x == *(u64 *)0x100000, "64-bit mode ignores the DS limit");
}

int main(void)
{
	test_far_transfers();
	test_user();
	test_limits();
	return report_summary();
}
