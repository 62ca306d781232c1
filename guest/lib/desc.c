/* desc.c: the GDT and the 64-bit TSS (SDM Vol. 3A, 3.4.5 and 8.7). */
#include "desc.h"

#include "string.h"
#include "x86.h"

/* 64-bit TSS, SDM Vol. 3A, Figure 8-11, followed by the I/O permission
 * bitmap and the all-ones byte the CPU may read past its end (19.5.2). */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7]; /* IST1..IST7 */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
	u8 iomap[65536 / 8 + 1];
} __packed;

_Static_assert(__builtin_offsetof(struct tss64, ist) == 0x24, "TSS layout");
_Static_assert(__builtin_offsetof(struct tss64, iomap) == 0x68, "TSS layout");

static struct tss64 tss __aligned(16);

/* Access bytes have the accessed bit preset so the CPU never writes the
 * GDT (it may sit on a read-only page in some tests). */
u64 gdt[GDT_ENTRIES] __aligned(16) = {
	[KERNEL_CS >> 3] = 0x00af9b000000ffff,
	[KERNEL_DS >> 3] = 0x00cf93000000ffff,
	[KERNEL_CS32 >> 3] = 0x00cf9b000000ffff,
	[USER_CS32 >> 3] = 0x00cffb000000ffff,
	[USER_DS >> 3] = 0x00cff3000000ffff,
	[USER_CS >> 3] = 0x00affb000000ffff,
};

/* Separate stacks: traps from CPL 3 (RSP0), #DF, NMI and #MC (IST). */
static u8 stack_rsp0[16384] __aligned(16);
static u8 stack_df[8192] __aligned(16);
static u8 stack_nmi[8192] __aligned(16);
static u8 stack_mc[8192] __aligned(16);

static void load_tss(void)
{
	u64 base = (u64)&tss;
	int i = TSS_SEL >> 3;
	/* Type 9 = available 64-bit TSS; 16-byte system descriptor. */
	gdt[i] = gdt_make_desc(base, sizeof(tss) - 1, DESC_P | 0x9, 0);
	gdt[i + 1] = base >> 32;
	ltr(TSS_SEL);
}

void desc_init(void)
{
	struct dtr d = { sizeof(gdt) - 1, (u64)gdt };

	memset(tss.iomap, 0xff, sizeof(tss.iomap));
	tss.iomap_base = __builtin_offsetof(struct tss64, iomap);
	tss.rsp[0] = (u64)stack_rsp0 + sizeof(stack_rsp0);
	tss.ist[IST_DF - 1] = (u64)stack_df + sizeof(stack_df);
	tss.ist[IST_NMI - 1] = (u64)stack_nmi + sizeof(stack_nmi);
	tss.ist[IST_MC - 1] = (u64)stack_mc + sizeof(stack_mc);

	lgdt(&d);
	/* Reload CS through a far return, and the data segments. */
	asm volatile("pushq %0\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %1, %%ds\n\t"
		     "mov %1, %%es\n\t"
		     "mov %1, %%ss"
		     :
		     : "i"(KERNEL_CS), "r"(KERNEL_DS)
		     : "rax", "memory");
	load_tss();
}

void tss_set_rsp0(u64 rsp)
{
	tss.rsp[0] = rsp;
}

void tss_set_ist(int n, u64 rsp)
{
	tss.ist[n - 1] = rsp;
}

u64 tss_kernel_stack_top(void)
{
	return (u64)stack_rsp0 + sizeof(stack_rsp0);
}

void tss_io_allow(u16 port, bool allow)
{
	if (allow)
		tss.iomap[port / 8] &= ~(1u << (port % 8));
	else
		tss.iomap[port / 8] |= 1u << (port % 8);
}

u16 tss_iomap_base(void)
{
	return tss.iomap_base;
}

void tss_set_iomap_base(u16 off)
{
	tss.iomap_base = off;
}

u32 tss_limit(void)
{
	return sizeof(tss) - 1;
}
