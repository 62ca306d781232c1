/* ioapic.h: an 82093AA-style I/O APIC with 24 pins at 0xfec00000.
 *
 * IOREGSEL at offset 0x00 and IOWIN at 0x10 reach the ID (0), version (1),
 * arbitration (2) and redirection table (0x10 + 2n, 0x11 + 2n) registers.
 * Version 0x11: no EOI register; level-triggered pins are re-armed by the
 * local APIC's EOI broadcast (ioapic_eoi). Every entry starts masked. The
 * interrupt message goes to the owner's `deliver` hook; the IOAPIC does
 * not know the local APIC. Pin inputs are logical "asserted" levels (the
 * polarity bit is stored but the board's devices drive active-high lines).
 * Reference: Intel 82093AA I/O APIC datasheet.
 */
#ifndef CETVM_DEV_IOAPIC_H
#define CETVM_DEV_IOAPIC_H

#include "../types.h"

#define IOAPIC_MMIO_BASE 0xfec00000ull
#define IOAPIC_MMIO_LEN 0x1000
#define IOAPIC_NPINS 24

/* Redirection entry fields (datasheet "I/O Redirection Table Registers"). */
#define IOAPIC_RTE_VECTOR 0xffull
#define IOAPIC_RTE_DM_SHIFT 8
#define IOAPIC_RTE_LOGICAL (1ull << 11)
#define IOAPIC_RTE_PENDING (1ull << 12) /* delivery status */
#define IOAPIC_RTE_POLARITY (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct ioapic_msg {
	u8 vector;
	u8 delivery_mode; /* 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
	bool logical;
	bool level;
	u8 dest;
};

struct ioapic {
	u32 regsel;
	u8 id;
	u32 lines;   /* input levels */
	u32 pending; /* edge seen while it could not be delivered */
	u64 rte[IOAPIC_NPINS];
	/* Returns true if some local APIC accepted the message. */
	bool (*deliver)(void *opaque, const struct ioapic_msg *msg);
	void *opaque;
};

void ioapic_init(struct ioapic *io, bool (*deliver)(void *opaque, const struct ioapic_msg *msg),
		 void *opaque);
void ioapic_reset(struct ioapic *io);
void ioapic_set_irq(struct ioapic *io, int pin, bool level);
/* EOI broadcast for `vector` from a local APIC. */
void ioapic_eoi(struct ioapic *io, u8 vector);

u64 ioapic_mmio_read(void *opaque, u64 offset, unsigned size);
void ioapic_mmio_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
