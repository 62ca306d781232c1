/* apic.c: xAPIC MMIO access, timer modes, and the legacy PIC mask. */
#include "apic.h"

#include "idt.h"
#include "paging.h"
#include "x86.h"

#define APICBASE_ENABLE (1ull << 11)

static volatile u32 *reg_ptr(u32 reg)
{
	return (volatile u32 *)(APIC_DEFAULT_BASE + reg);
}

u32 apic_read(u32 reg)
{
	return *reg_ptr(reg);
}

void apic_write(u32 reg, u32 val)
{
	*reg_ptr(reg) = val;
}

static void ignore(struct regs *r)
{
	(void)r;
}

void apic_enable(void)
{
	u64 base = rdmsr(MSR_IA32_APICBASE);

	/* Uncached 4 KiB mapping of the register page (SDM 11.4.1). */
	pt_map(pt_root(), APIC_DEFAULT_BASE, APIC_DEFAULT_BASE, PT_4K,
	       PTE_W | PTE_PCD | PTE_PWT | PTE_NX);
	wrmsr(MSR_IA32_APICBASE, (base & ~0xfffull & ~(1ull << 10)) | APIC_DEFAULT_BASE |
					 APICBASE_ENABLE);
	idt_set_handler(APIC_SPURIOUS_VECTOR, ignore); /* no EOI for spurious */
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static void timer_setup(u32 lvt, u32 count)
{
	apic_write(APIC_TIMER_ICR, 0);
	apic_write(APIC_TIMER_DCR, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, lvt);
	apic_write(APIC_TIMER_ICR, count);
}

void apic_timer_oneshot(u8 vec, u32 count)
{
	timer_setup(APIC_TIMER_ONESHOT | vec, count);
}

void apic_timer_periodic(u8 vec, u32 count)
{
	timer_setup(APIC_TIMER_PERIODIC | vec, count);
}

void apic_timer_deadline(u8 vec)
{
	/* Mode switch to TSC-deadline needs the ICR unused (SDM 11.5.4.1). */
	apic_write(APIC_TIMER_ICR, 0);
	apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | vec);
}

void apic_timer_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TIMER_ICR, 0);
}
