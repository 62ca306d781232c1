/* demo: the guest `make run` boots: a short, plain-words tour of what a
 * cetvm guest goes through, from the multiboot entry to a user-mode round
 * trip, ending with exit status 0. */
#include "boot.h"
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

/* Shadow stack / IBT attack demonstrations go here: a return-address
 * overwrite stopped by the shadow stack, and an indirect call to a
 * non-ENDBR64 gadget stopped by IBT. */
static void tour_attacks(void)
{
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
