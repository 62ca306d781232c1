/* interp: what cetvm's interpreter must keep exact while it runs decoded
 * blocks with RIP implicit, links blocks to their successors and fuses
 * instruction pairs: the RIP and state of a fault in the middle of a
 * block (SDM Vol. 3 6.5: a fault reports the faulting instruction, with
 * the instructions before it retired), self-modifying code reached
 * through a block that ran before (Vol. 3 11.6), a store into the very
 * next instruction, and single-step traps after every instruction
 * (Vol. 3 18.3.1.4), including each half of a compare-and-branch pair.
 * A block also runs on past a Jcc and through a direct JMP or CALL whose
 * target is in the same page: faults, stores into code and single-steps
 * after those must be as exact. */
#include "fault.h"
#include "idt.h"
#include "report.h"
#include "x86.h"

#define NONCANONICAL 0x8000000000000000ull
#define UNMAPPED 0x8000000000ull /* 512 GiB: beyond the identity map */

static u64 cell;

/* A fault in the last of five instructions of one block. */
static void test_mid_block_fault(void)
{
	u64 at, rdx = 0;
	struct fault f;

	cell = 0;
	asm volatile(FAULT_TRY("1f") "mov $1, %%ecx\n\t"
		     "mov %%rcx, %%rdx\n\t"
		     "inc %%rdx\n\t"
		     "mov %%rdx, (%%rsi)\n\t"
		     "2: mov (%%rax), %%rbx\n\t"
		     "mov $99, %%edx\n"
		     "1:\n\t"
		     "lea 2b(%%rip), %0"
		     : "=r"(at), "+d"(rdx)
		     : "a"(NONCANONICAL), "S"(&cell)
		     : "rbx", "rcx", "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.rip == at && f.regs.rdx == 2 && cell == 2,
	       "#GP in a load after four instructions of the block: rip %#lx, rdx %lu, "
	       "memory %lu",
	       f.rip, f.regs.rdx, cell);

	cell = 0;
	asm volatile(FAULT_TRY("1f") "mov $7, %%ecx\n\t"
		     "mov %%rcx, (%%rsi)\n\t"
		     "2: mov %%rcx, (%%rax)\n\t"
		     "mov $8, %%ecx\n"
		     "1:\n\t"
		     "lea 2b(%%rip), %0"
		     : "=r"(at)
		     : "a"(UNMAPPED), "S"(&cell)
		     : "rcx", "memory");
	f = fault_take();
	report(f.vector == PF_VECTOR && f.rip == at && f.cr2 == UNMAPPED &&
		       (f.error_code & 2) && f.regs.rcx == 7 && cell == 7,
	       "#PF in a store after two instructions of the block: rip %#lx, cr2 %#lx, "
	       "error %#lx",
	       f.rip, f.cr2, f.error_code);

	asm volatile(FAULT_TRY("1f") "mov %%rsp, %%r12\n\t"
		     "push %%r12\n\t"
		     "pop %%r13\n\t"
		     "2: call *%%rax\n"
		     "1:\n\t"
		     "mov %%r12, %%rsp\n\t"
		     "lea 2b(%%rip), %0"
		     : "=r"(at)
		     : "a"(NONCANONICAL)
		     : "r12", "r13", "memory");
	f = fault_take();
	report_tcg(f.vector == GP_VECTOR && f.rip == at && f.regs.r13 == f.regs.r12 &&
			   f.rsp == f.regs.r12,
		   "#GP at the target of a CALL to a non-canonical address",
	       "#GP for an indirect CALL to a non-canonical target after a PUSH and a POP: "
	       "rip %#lx, nothing pushed",
	       f.rip);
}

/* Direct JMPs and CALLs to targets in the same page, then a fault. */
static void test_followed_branches(void)
{
	u64 at, ret, pushed;
	struct fault f;

	/* Forward, backward (the fault is before the JMP that reached it),
	 * forward again. */
	asm volatile(FAULT_TRY("1f") "mov $1, %%ecx\n\t"
		     "jmp 3f\n\t"
		     "2: inc %%ecx\n\t"
		     "4: mov (%%rax), %%rbx\n\t"
		     "jmp 1f\n\t"
		     "3: add $4, %%ecx\n\t"
		     "jmp 2b\n"
		     "1:\n\t"
		     "lea 4b(%%rip), %0"
		     : "=r"(at)
		     : "a"(NONCANONICAL)
		     : "rbx", "rcx", "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.rip == at && f.regs.rcx == 6,
	       "#GP after a forward and a backward JMP in one block: rip %#lx (want %#lx), "
	       "rcx %lu",
	       f.rip, at, f.regs.rcx);

	/* A CALL to a near function that faults: the return address is the
	 * CALL's next instruction, RSP moved by 8. */
	asm volatile(FAULT_TRY("1f") "mov %%rsp, %%r12\n\t"
		     "call 2f\n\t"
		     "3: jmp 1f\n\t"
		     "2: mov $9, %%ecx\n\t"
		     "4: mov (%%rax), %%rbx\n"
		     "1:\n\t"
		     "mov -8(%%r12), %2\n\t"
		     "mov %%r12, %%rsp\n\t"
		     "lea 4b(%%rip), %0\n\t"
		     "lea 3b(%%rip), %1"
		     : "=r"(at), "=r"(ret), "=r"(pushed)
		     : "a"(NONCANONICAL)
		     : "rbx", "rcx", "r12", "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.rip == at && f.rsp == f.regs.r12 - 8 &&
		       f.regs.rcx == 9 && pushed == ret,
	       "#GP in a function a direct CALL reached in one block: rip %#lx (want %#lx), "
	       "return address %#lx (want %#lx)",
	       f.rip, at, pushed, ret);

	/* Past a Jcc not taken, and out of the middle through one taken. */
	asm volatile(FAULT_TRY("1f") "mov $3, %%ecx\n\t"
		     "cmp $4, %%ecx\n\t"
		     "je 1f\n\t"
		     "inc %%ecx\n\t"
		     "2: mov (%%rax), %%rbx\n"
		     "1:\n\t"
		     "lea 2b(%%rip), %0"
		     : "=r"(at)
		     : "a"(NONCANONICAL)
		     : "rbx", "rcx", "memory", "cc");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.rip == at && f.regs.rcx == 4,
	       "#GP after a Jcc not taken in one block: rip %#lx (want %#lx), rcx %lu", f.rip,
	       at, f.regs.rcx);
	u64 rcx;
	asm volatile("mov $5, %%ecx\n\t"
		     "cmp $5, %%ecx\n\t"
		     "je 3f\n\t"
		     "mov $99, %%ecx\n\t"
		     "3: inc %%ecx"
		     : "=c"(rcx)
		     :
		     : "cc");
	report(rcx == 6, "a Jcc taken from the middle of a block skips the rest (%lu)", rcx);
}

/* Code written at run time: ENDBR64 (IBT may be on), MOV EAX, imm32, RET. */
static u8 code[64] __attribute__((aligned(64)));

static void emit_mov_ret(u32 imm)
{
	static const u8 head[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8 };
	for (unsigned i = 0; i < sizeof(head); i++)
		code[i] = head[i];
	for (unsigned i = 0; i < 4; i++)
		code[5 + i] = (u8)(imm >> (8 * i));
	code[9] = 0xc3;
}

static u32 call_code(u32 edx, u64 rsi)
{
	u32 eax;
	asm volatile("call *%1" : "=a"(eax) : "r"((u64)code), "d"(edx), "S"(rsi)
		     : "rcx", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
	return eax;
}

static void test_self_modifying(void)
{
	bool ok = true;

	/* The caller's block has run into this code many times (and may
	 * jump straight to its decoded form) before the code changes. */
	for (u32 v = 1; v <= 3; v++) {
		emit_mov_ret(0x1000 + v);
		for (int i = 0; i < 4; i++)
			ok &= call_code(0, 0) == 0x1000 + v;
	}
	report(ok, "rewritten code called through a block that called it before");

	/* MOV [RSI], EDX writes the immediate of the next instruction. */
	static const u8 smc[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x89, 0x16, /* mov %edx, (%rsi) */
				  0xb8, 0x11, 0x00, 0x00, 0x00, 0xc3 };
	for (unsigned i = 0; i < sizeof(smc); i++)
		code[i] = smc[i];
	u32 a = call_code(0x42, (u64)&code[7]);
	u32 b = call_code(0x43, (u64)&code[7]);
	report(a == 0x42 && b == 0x43, "a store into the next instruction of the block (%#x, %#x)",
	       a, b);

	/* The same after a JMP: the store is to the JMP's target. */
	static const u8 smc_jmp[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x89, 0x16, /* mov %edx, (%rsi) */
				      0xeb, 0x01, 0xcc, /* jmp over an int3 */
				      0xb8, 0x11, 0x00, 0x00, 0x00, 0xc3 };
	for (unsigned i = 0; i < sizeof(smc_jmp); i++)
		code[i] = smc_jmp[i];
	a = call_code(0x44, (u64)&code[10]);
	b = call_code(0x45, (u64)&code[10]);
	report(a == 0x44 && b == 0x45,
	       "a store into the target of the JMP after it, in one block (%#x, %#x)", a, b);
}

static volatile u64 steps;

static void count_step(struct regs *r)
{
	(void)r;
	steps++;
}

/* Single-step traps while the code between the labels runs. */
#define STEP(body)                                                                  \
	({                                                                          \
		steps = 0;                                                          \
		asm volatile("pushfq\n\t"                                           \
			     "orq $0x100, (%%rsp)\n\t"                              \
			     "popfq\n\t" body "\n\t"                                \
			     "pushfq\n\t"                                           \
			     "andq $~0x100, (%%rsp)\n\t"                            \
			     "popfq" ::: "rax", "rcx", "rdx", "memory", "cc");      \
		steps;                                                              \
	})

static void test_single_step(void)
{
	idt_set_handler(DB_VECTOR, count_step);
	u64 base = STEP("nop");
	u64 alu = STEP("nop\n\tmov $3, %%ecx\n\tadd %%rcx, %%rax\n\tinc %%rdx\n\t"
		       "sub $1, %%rcx\n\tshl $2, %%rdx");
	u64 loop = STEP("nop\n\tmov $3, %%ecx\n\t"
			"1: dec %%ecx\n\tcmp $0, %%ecx\n\tjne 1b");
	u64 past = STEP("nop\n\tmov $1, %%ecx\n\tcmp $2, %%ecx\n\tje 1f\n\t"
			"inc %%ecx\n1: inc %%edx");
	u64 jumps = STEP("nop\n\tjmp 1f\n\t"
			 "2: inc %%ecx\n\tjmp 3f\n\t"
			 "4: ret\n\t"
			 "1: call 4b\n\tjmp 2b\n\t"
			 "3: inc %%edx");
	idt_set_handler(DB_VECTOR, 0);
	report(alu - base == 5, "one #DB per instruction in a straight block (%lu)", alu - base);
	/* MOV, then 3 x (DEC, CMP, JNE): CMP and JNE trap separately. */
	report(loop - base == 10, "one #DB after each of CMP and Jcc in a loop (%lu)",
	       loop - base);
	report(past - base == 5, "one #DB per instruction past a Jcc not taken (%lu)",
	       past - base);
	/* JMP, CALL, RET, JMP, INC, JMP, INC. */
	report(jumps - base == 7, "one #DB per instruction through direct JMPs and a CALL (%lu)",
	       jumps - base);
}

int main(void)
{
	test_mid_block_fault();
	test_followed_branches();
	test_self_modifying();
	test_single_step();
	return report_summary();
}
