/* desc.c (32-bit kit): the GDT and the startup task's 32-bit TSS. */
#include "desc.h"

#include "x86.h"

static struct tss32 tss __aligned(128);

/* Access bytes have the accessed bit preset so the CPU never writes the
 * GDT for the flat segments. */
u64 gdt[GDT_ENTRIES] __aligned(16) = {
	[KERNEL_CS >> 3] = 0x00cf9b000000ffff,
	[KERNEL_DS >> 3] = 0x00cf93000000ffff,
};

static u8 stack_esp0[8192] __aligned(16);

struct tss32 *tss_main(void)
{
	return &tss;
}

void tss_back_to_main(void)
{
	gdt[TSS_SEL >> 3] &= ~((u64)DESC_TSS_BUSY << 40);
	ltr(TSS_SEL);
	write_rflags(read_rflags() & ~X86_EFLAGS_NT);
	asm volatile("clts" ::: "memory");
}

void desc_init(void)
{
	struct dtr d = { sizeof(gdt) - 1, (uintptr_t)gdt };

	tss.esp0 = (uintptr_t)stack_esp0 + sizeof(stack_esp0);
	tss.ss0 = KERNEL_DS;
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: past the limit */
	gdt_set(TSS_SEL >> 3, (uintptr_t)&tss, sizeof(tss) - 1, DESC_P | DESC_TSS32, 0);
	lgdt(&d);
	asm volatile("ljmp %0, $1f\n"
		     "1:\n\t"
		     "mov %1, %%ds\n\t"
		     "mov %1, %%es\n\t"
		     "mov %1, %%ss\n\t"
		     "mov %1, %%fs\n\t"
		     "mov %1, %%gs"
		     :
		     : "i"(KERNEL_CS), "r"(KERNEL_DS)
		     : "memory");
	ltr(TSS_SEL);
}
