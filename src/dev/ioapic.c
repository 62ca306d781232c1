/* ioapic.c: I/O APIC redirection and level/edge semantics (82093AA datasheet). */
#include "ioapic.h"

#include <string.h>

#define IOREGSEL 0x00
#define IOWIN 0x10

#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_RTE0 0x10
#define IOAPIC_VERSION ((IOAPIC_NPINS - 1) << 16 | 0x11)

/* Bits the guest may write in an entry (not delivery status, remote IRR). */
#define RTE_WRITABLE (~(IOAPIC_RTE_PENDING | IOAPIC_RTE_REMOTE_IRR))

void ioapic_init(struct ioapic *io, bool (*deliver)(void *opaque, const struct ioapic_msg *msg),
		 void *opaque)
{
	memset(io, 0, sizeof(*io));
	io->deliver = deliver;
	io->opaque = opaque;
	ioapic_reset(io);
}

void ioapic_reset(struct ioapic *io)
{
	io->regsel = 0;
	io->id = 0;
	io->pending = 0;
	for (int i = 0; i < IOAPIC_NPINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

static bool send(struct ioapic *io, u64 rte)
{
	struct ioapic_msg m = {
		.vector = (u8)(rte & IOAPIC_RTE_VECTOR),
		.delivery_mode = (u8)((rte >> IOAPIC_RTE_DM_SHIFT) & 7),
		.logical = rte & IOAPIC_RTE_LOGICAL,
		.level = rte & IOAPIC_RTE_LEVEL,
		.dest = (u8)(rte >> IOAPIC_RTE_DEST_SHIFT),
	};
	return io->deliver && io->deliver(io->opaque, &m);
}

/* Deliver what pin `pin` has to deliver now, if anything. */
static void service(struct ioapic *io, int pin)
{
	u64 *rte = &io->rte[pin];
	u32 bit = 1u << pin;
	if (*rte & IOAPIC_RTE_MASKED)
		return; /* an edge stays pending until unmasked */
	if (*rte & IOAPIC_RTE_LEVEL) {
		/* Remote IRR: sent and not yet EOIed; no resend meanwhile. */
		if ((io->lines & bit) && !(*rte & IOAPIC_RTE_REMOTE_IRR) && send(io, *rte))
			*rte |= IOAPIC_RTE_REMOTE_IRR;
	} else if (io->pending & bit) {
		io->pending &= ~bit;
		send(io, *rte);
	}
}

void ioapic_set_irq(struct ioapic *io, int pin, bool level)
{
	if (pin < 0 || pin >= IOAPIC_NPINS)
		return;
	u32 bit = 1u << pin;
	bool rising = level && !(io->lines & bit);
	io->lines = level ? (io->lines | bit) : (io->lines & ~bit);
	if (rising && !(io->rte[pin] & IOAPIC_RTE_LEVEL))
		io->pending |= bit;
	service(io, pin);
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
	for (int pin = 0; pin < IOAPIC_NPINS; pin++) {
		u64 *rte = &io->rte[pin];
		if ((*rte & IOAPIC_RTE_LEVEL) && (*rte & IOAPIC_RTE_REMOTE_IRR) &&
		    (u8)(*rte & IOAPIC_RTE_VECTOR) == vector) {
			*rte &= ~IOAPIC_RTE_REMOTE_IRR;
			service(io, pin); /* still asserted: deliver again */
		}
	}
}

static u32 read_reg(const struct ioapic *io)
{
	u32 sel = io->regsel & 0xff;
	if (sel == REG_ID)
		return (u32)io->id << 24;
	if (sel == REG_VER)
		return IOAPIC_VERSION;
	if (sel == REG_ARB)
		return (u32)io->id << 24;
	if (sel >= REG_RTE0 && sel < REG_RTE0 + 2 * IOAPIC_NPINS) {
		u64 rte = io->rte[(sel - REG_RTE0) / 2];
		return (sel & 1) ? (u32)(rte >> 32) : (u32)rte;
	}
	return 0;
}

static void write_rte(struct ioapic *io, int pin, bool high, u32 v)
{
	u64 *rte = &io->rte[pin];
	u64 old = *rte;
	u64 nv = high ? ((u64)v << 32) | (old & 0xffffffffull) : (old & ~0xffffffffull) | v;
	*rte = (nv & RTE_WRITABLE) | (old & ~RTE_WRITABLE);
	if (!(*rte & IOAPIC_RTE_LEVEL))
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
	service(io, pin);
}

static void write_reg(struct ioapic *io, u32 v)
{
	u32 sel = io->regsel & 0xff;
	if (sel == REG_ID)
		io->id = (v >> 24) & 0xf;
	else if (sel >= REG_RTE0 && sel < REG_RTE0 + 2 * IOAPIC_NPINS)
		write_rte(io, (int)(sel - REG_RTE0) / 2, sel & 1, v);
	/* version and arbitration are read-only */
}

u64 ioapic_mmio_read(void *opaque, u64 offset, unsigned size)
{
	struct ioapic *io = opaque;
	(void)size;
	if (offset == IOREGSEL)
		return io->regsel;
	if (offset == IOWIN)
		return read_reg(io);
	return 0;
}

void ioapic_mmio_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct ioapic *io = opaque;
	(void)size;
	if (offset == IOREGSEL)
		io->regsel = (u32)value & 0xff;
	else if (offset == IOWIN)
		write_reg(io, (u32)value);
}
