/* lapic.h: the local APIC of the (single) vCPU, xAPIC MMIO and x2APIC MSRs.
 *
 * Registers as in Intel SDM Vol. 3A ch. 11 ("Advanced Programmable
 * Interrupt Controller"; ch. 10 in older editions). The timer runs in
 * virtual time on a bus clock equal to the TSC frequency: one-shot, periodic
 * and TSC-deadline modes. lapic_advance() fires what is due at a TSC value;
 * lapic_next_deadline() says when the next expiry is.
 *
 * Interrupt flow: fixed interrupts (IOAPIC messages, IPIs, local timer and
 * error LVTs) enter IRR through lapic_accept(); lapic_peek()/lapic_ack() give
 * the highest IRR vector whose priority class is above PPR and move it to
 * ISR; an EOI clears the highest ISR bit and, for a level-triggered vector
 * (TMR), calls the eoi_broadcast hook (for the IOAPIC's remote IRR).
 * ExtINT (the 8259 through LINT0, "virtual wire") is not queued here: the
 * owner asks lapic_extint_enabled() and acknowledges the PIC itself.
 */
#ifndef CETVM_DEV_LAPIC_H
#define CETVM_DEV_LAPIC_H

#include "../types.h"
#include "clock.h"

#define LAPIC_MMIO_BASE 0xfee00000ull
#define LAPIC_MMIO_LEN 0x1000

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)   /* global enable */
#define APIC_BASE_RESET (LAPIC_MMIO_BASE | APIC_BASE_EN | APIC_BASE_BSP)

#define APIC_VERSION 0x00050014 /* version 0x14, 6 LVT entries */

enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LAPIC_NLVT };

struct lapic {
	u64 apic_base;
	u32 id;
	u32 tpr, spiv, ldr, dfr;
	u32 esr, esr_pending;
	u32 icr_lo, icr_hi;
	u32 irr[8], isr[8], tmr[8];
	u32 lvt[LAPIC_NLVT];
	u32 timer_initial, timer_dcr;
	u64 timer_expiry; /* next expiry (one-shot/periodic), CLOCK_NEVER if stopped */
	u64 tsc_deadline; /* armed IA32_TSC_DEADLINE, 0 if none */
	bool warned_base;
	struct dev_clock clk;
	void (*eoi_broadcast)(void *opaque, u8 vector);
	void *eoi_opaque;
};

void lapic_init(struct lapic *l, const struct dev_clock *clk,
		void (*eoi_broadcast)(void *opaque, u8 vector), void *eoi_opaque);
/* Power-on state: APIC ID 0, base 0xfee00900, software-disabled, every LVT
 * masked except LINT0 = ExtINT (as KVM and QEMU set up the BSP), so the PIC
 * reaches the CPU before and after the guest enables the APIC. */
void lapic_reset(struct lapic *l);

void lapic_advance(struct lapic *l, u64 now);
u64 lapic_next_deadline(const struct lapic *l);

/* A fixed-delivery interrupt message for `vector`. */
void lapic_accept(struct lapic *l, u8 vector, bool level);
/* Is this APIC a destination of `dest` (physical ID or logical mask, in
 * the width of the current mode: 8 bits xAPIC, 32 bits x2APIC)? */
bool lapic_match_dest(const struct lapic *l, u32 dest, bool logical);
bool lapic_x2apic_mode(const struct lapic *l);

int lapic_peek(const struct lapic *l);
int lapic_ack(struct lapic *l);
u8 lapic_ppr(const struct lapic *l);
/* Does the PIC's INTR reach the CPU: APIC globally or software disabled,
 * or LINT0 unmasked in ExtINT mode. */
bool lapic_extint_enabled(const struct lapic *l);

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range; false: #GP. */
bool lapic_msr_read(struct lapic *l, u32 index, u64 *value);
bool lapic_msr_write(struct lapic *l, u32 index, u64 value);

u64 lapic_mmio_read(void *opaque, u64 offset, unsigned size);
void lapic_mmio_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
