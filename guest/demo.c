/* demo: the guest `make run` boots: a short, plain-words tour of what a
 * cetvm guest goes through, from the multiboot entry to a user-mode round
 * trip and two attacks that CET stops (or, with CET hidden from CPUID,
 * does not), ending with exit status 0. */
#include "boot.h"
#include "cet.h"
#include "fault.h"
#include "idt.h"
#include "printf.h"
#include "x86.h"

static void tour_boot(void)
{
	const struct boot_info *bi = boot_info();

	printf("1. Boot. A multiboot loader put this program at 1 MiB and jumped to it\n"
	       "   in 32-bit protected mode (magic %#x, %u KiB of memory above 1 MiB).\n",
	       bi->magic, bi->mem_upper);
	printf("   The startup code built page tables for the first 4 GiB, turned on\n"
	       "   PAE, long mode and paging, and jumped into 64-bit code:\n");
	printf("   CR0=%#lx CR4=%#lx EFER=%#lx, running at privilege level %d.\n", read_cr0(),
	       read_cr4(), rdmsr(MSR_EFER), read_cs() & 3);
}

static u64 fib(u64 n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static u32 crc32(const char *s)
{
	u32 crc = ~0u;
	for (; *s; s++) {
		crc ^= (u8)*s;
		for (int i = 0; i < 8; i++)
			crc = crc >> 1 ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static int count_primes(int limit)
{
	int n = 0;
	for (int i = 2; i < limit; i++) {
		bool prime = true;
		for (int d = 2; d * d <= i && prime; d++)
			prime = i % d != 0;
		n += prime;
	}
	return n;
}

static void tour_compute(void)
{
	printf("2. Some arithmetic, done by the virtual CPU:\n");
	printf("   fib(25) = %lu (by plain recursion)\n", fib(25));
	printf("   there are %d primes below 10000\n", count_primes(10000));
	printf("   CRC-32 of \"cetvm\" is %#010x\n", crc32("cetvm"));
}

static u64 user_work(u64 n)
{
	u64 sum = 0;
	for (u64 i = 1; i <= n; i++)
		sum += i * i;
	return (u64)(read_cs() & 3) << 32 | sum;
}

static void tour_user(void)
{
	printf("3. A trip to user mode. IRETQ drops to privilege level 3; the user code\n"
	       "   computes and returns; its return lands on an instruction that traps\n"
	       "   back into the kernel, which picks up the result:\n");
	struct fault f = fault_run_user(user_work, 100);
	printf("   user code ran at level %lu and computed 1^2+...+100^2 = %lu\n", f.value >> 32,
	       f.value & 0xffffffff);
	printf("   back in the kernel at level %d\n", read_cs() & 3);
}

static void tour_exception(void)
{
	printf("4. An exception on purpose: the kernel runs UD2, the CPU raises\n"
	       "   an invalid-opcode exception, and the handler resumes after it:\n");
	asm volatile(FAULT_TRY("1f") "ud2\n1:" ::: "memory");
	struct fault f = fault_take();
	printf("   caught %s (vector %d) at %#lx\n", idt_vector_name(f.vector), f.vector, f.rip);
}

/* The attacks run at CPL 3, entered by IRETQ with the run's exit stub as
 * the return address on the stack (fault.h). */
u64 demo_ret_attack(u64 unused), demo_ptr_attack(u64 target);
extern char demo_victim_ret[], demo_unlock_granted[];
asm(".pushsection .text\n"
    ".globl demo_ret_attack, demo_ptr_attack, demo_victim_ret, demo_unlock_granted\n"
    "demo_ret_attack:\n\t"
    "test %rdi, %rdi\n\t"
    "jz 1f\n\t"
    "rstorssp (%rdi)\n"	/* switch to the user shadow stack (token at RDI) */
    "1:\tcall demo_victim\n\t"
    "mov $1, %eax\n\t"		/* the honest path: not taken */
    "ret\n"
    "demo_victim:\n\t"
    "lea demo_evil(%rip), %rax\n\t"
    "mov %rax, (%rsp)\n"	/* a "buffer overflow" overwrites the return address */
    "demo_victim_ret:\n\t"
    "ret\n"
    "demo_evil:\n\t"
    "mov $0xbad, %eax\n\t"
    "ret\n"
    /* unlock(pin): 0x600d only for the right PIN. */
    "demo_ptr_attack:\n\t"
    "xor %esi, %esi\n\t"	/* a wrong PIN */
    "call *%rdi\n\t"		/* through a corrupted function pointer */
    "ret\n"
    "demo_unlock:\n\t"
    "endbr64\n\t"
    "cmp $1234, %esi\n\t"
    "jne 1f\n"
    "demo_unlock_granted:\n\t"
    "mov $0x600d, %eax\n\t"
    "ret\n"
    "1:\txor %eax, %eax\n\t"
    "ret\n"
    ".popsection");

static struct fault run_attack(u64 (*fn)(u64), u64 arg, u64 u_cet)
{
	if (u_cet)
		wrmsr(MSR_IA32_U_CET, u_cet);
	struct fault f = fault_run_user(fn, arg);
	if (u_cet)
		wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

static void show(const struct fault *f, const char *why_not)
{
	if (f->vector == CP_VECTOR)
		printf("   -> stopped: control-protection exception #CP(%lu) at %#lx.\n",
		       f->error_code, f->rip);
	else if (f->vector == FAULT_NONE)
		printf("   -> NOT stopped: %s (it returned %#lx).\n", why_not, f->value);
	else
		printf("   -> unexpected %s at %#lx (error %#lx, cr2 %#lx)\n", idt_vector_name(f->vector), f->rip, f->error_code, f->cr2);
}

/* A user shadow stack: a shadow-stack page (R/W=0 D=1, SDM Vol. 3A 4.6)
 * with a restore token at its top for RSTORSSP (SDM Vol. 1 17.2.3):
 * the token's address + 8, bit 0 = 64-bit mode. */
static u64 user_shadow_stack(void)
{
	struct cet_ss ss = cet_ss_page(true);
	cet_ss_put(&ss, 0xff8, (ss.va + 0x1000) | 1);
	return ss.va + 0xff8;
}

static void tour_attacks(void)
{
	bool shstk = cpu_has(X86_FEATURE_SHSTK), ibt = cpu_has(X86_FEATURE_IBT);
	printf("5. Two classic attacks on user code, and the CET protections that stop\n"
	       "   them. This CPU has shadow stacks: %s; indirect branch tracking: %s.\n",
	       shstk ? "yes" : "no", ibt ? "yes" : "no");
	if (shstk || ibt) {
		write_cr0(read_cr0() | X86_CR0_WP);
		cet_cr4(true);
	}

	printf("   a) A function's return address is overwritten (as a buffer overflow\n"
	       "      would) to point at other code. The shadow stack keeps a second copy\n"
	       "      of each return address where ordinary stores cannot reach it, and\n"
	       "      RET compares the two (a mismatch is #CP(1), NEAR-RET; RET at %#lx).\n",
	       (u64)demo_victim_ret);
	u64 token = shstk ? user_shadow_stack() : 0;
	struct fault f = run_attack(demo_ret_attack, token, shstk ? CET_SHSTK_EN : 0);
	show(&f, "RET went to the attacker's code");

	printf("   b) A corrupted function pointer points into the middle of unlock(),\n"
	       "      past its PIN check. With IBT an indirect CALL or JMP must land on\n"
	       "      ENDBR64, which the compiler puts only at function entries (a miss\n"
	       "      is #CP(3), ENDBRANCH, at the target %#lx).\n",
	       (u64)demo_unlock_granted);
	f = run_attack(demo_ptr_attack, (u64)demo_unlock_granted, ibt ? CET_ENDBR_EN : 0);
	show(&f, "the call skipped the PIN check; 0x600d = unlocked");

	if (shstk || ibt)
		cet_cr4(false);
	if (!shstk || !ibt)
		printf("   This run hid CET from CPUID (cetvm's default CPU has both), so the\n"
		       "   program ran without that protection and the attack got through.\n");
	else
		printf("   Run with -cpu max,-shstk,-ibt to see the same program without CET.\n");
}

int main(void)
{
	printf("cetvm demo: a tour of a small 64-bit guest\n\n");
	tour_boot();
	tour_compute();
	tour_user();
	tour_exception();
	tour_attacks();
	printf("\nDone. Exiting through the debug-exit port with status 0.\n");
	return 0;
}
