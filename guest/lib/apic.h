/* apic.h: the local APIC in xAPIC mode (MMIO at 0xfee00000) and its timer,
 * and masking of the legacy 8259 PICs (SDM Vol. 3A, chapter 11). */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "types.h"

#define APIC_DEFAULT_BASE 0xfee00000ull

#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SPIV 0xf0
#define APIC_ISR 0x100 /* 8 registers, 16 bytes apart */
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380 /* initial count */
#define APIC_TIMER_CCR 0x390 /* current count */
#define APIC_TIMER_DCR 0x3e0 /* divide configuration */

#define APIC_SPIV_ENABLE (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_TIMER_ONESHOT (0u << 17)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)

#define APIC_SPURIOUS_VECTOR 0xff
#define PIC_VECTOR_BASE 0xe0 /* legacy PIC remapped here, all lines masked */

u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 val);

/* Globally enable the APIC (IA32_APIC_BASE), map its page uncached,
 * software-enable it with the spurious vector, TPR 0. */
void apic_enable(void);
void apic_eoi(void);

/* Timer; divide by 1. apic_timer_deadline() only selects the mode: arm it
 * with wrmsr(MSR_IA32_TSC_DEADLINE, tsc). */
void apic_timer_oneshot(u8 vec, u32 count);
void apic_timer_periodic(u8 vec, u32 count);
void apic_timer_deadline(u8 vec);
void apic_timer_stop(void);

/* Remap both PICs to PIC_VECTOR_BASE and mask every line. */
void pic_disable(void);

#endif
