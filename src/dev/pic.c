/* pic.c: dual 8259A PIC (Intel 8259A datasheet) with PIIX ELCR. */
#include "pic.h"

#include <string.h>

#define CASCADE_IRQ 2

/* Priority level (0 = highest) of the best request in `mask`, or 8. */
static int priority(const struct pic_chip *c, u8 mask)
{
	if (!mask)
		return 8;
	int p = 0;
	while (!(mask & (1u << ((p + c->priority_add) & 7))))
		p++;
	return p;
}

/* The IR the chip would raise INT for, or -1 (datasheet "Interrupt
 * Sequence": a request beats the in-service level if its priority is
 * higher). */
static int chip_pending(const struct pic_chip *c)
{
	int p = priority(c, c->irr & ~c->imr);
	if (p == 8)
		return -1;
	u8 in = c->isr;
	if (c->special_mask)
		in &= ~c->imr; /* masked in-service levels do not inhibit */
	if (c->sfnm && c->master)
		in &= ~(1u << CASCADE_IRQ); /* slave may nest (special fully nested) */
	if (p < priority(c, in))
		return (p + c->priority_add) & 7;
	return -1;
}

/* The slave's INT drives master IR2. We treat that input as level-sensitive
 * so a slave that still requests after an INTA is seen again. */
static void update_cascade(struct pic *p)
{
	struct pic_chip *m = &p->chip[0];
	if (chip_pending(&p->chip[1]) >= 0)
		m->irr |= 1u << CASCADE_IRQ;
	else
		m->irr &= ~(1u << CASCADE_IRQ);
}

static void chip_reset(struct pic_chip *c)
{
	c->irr &= c->elcr; /* the edge sense latches are cleared */
	c->isr = 0;
	c->imr = 0;
	c->priority_add = 0;
	c->base = 0;
	c->init_state = 0;
	c->init4 = c->single = false;
	c->auto_eoi = c->rotate_aeoi = c->sfnm = false;
	c->special_mask = c->poll = c->read_isr = false;
}

void pic_init(struct pic *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		p->chip[i].pic = p;
		p->chip[i].master = i == 0;
	}
	/* IRQ0, 1, 2, 8 and 13 are always edge-triggered (PIIX ELCR). */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
	pic_reset(p);
}

void pic_reset(struct pic *p)
{
	for (int i = 0; i < 2; i++) {
		p->chip[i].elcr = 0;
		chip_reset(&p->chip[i]);
	}
	update_cascade(p);
}

void pic_set_irq(struct pic *p, int irq, bool level)
{
	if (irq < 0 || irq > 15 || irq == CASCADE_IRQ)
		return;
	struct pic_chip *c = &p->chip[irq >> 3];
	u8 bit = (u8)(1u << (irq & 7));
	if (c->elcr & bit) {
		c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	c->lines = level ? (c->lines | bit) : (c->lines & ~bit);
	update_cascade(p);
}

bool pic_output(const struct pic *p)
{
	return chip_pending(&p->chip[0]) >= 0;
}

int pic_peek(const struct pic *p)
{
	int irq = chip_pending(&p->chip[0]);
	if (irq < 0)
		return -1;
	if (irq != CASCADE_IRQ)
		return p->chip[0].base + irq;
	int irq2 = chip_pending(&p->chip[1]);
	return p->chip[1].base + (irq2 < 0 ? 7 : irq2);
}

static void chip_intack(struct pic_chip *c, int irq)
{
	u8 bit = (u8)(1u << irq);
	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->priority_add = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit))
		c->irr &= ~bit; /* edge: the latch is consumed by INTA */
}

int pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_pending(m), vector;
	if (irq < 0) {
		vector = m->base + 7; /* spurious IRQ7: no ISR bit set */
	} else {
		chip_intack(m, irq);
		if (irq == CASCADE_IRQ) {
			int irq2 = chip_pending(s);
			if (irq2 >= 0)
				chip_intack(s, irq2);
			vector = s->base + (irq2 < 0 ? 7 : irq2); /* else spurious IRQ15 */
		} else {
			vector = m->base + irq;
		}
	}
	update_cascade(p);
	return vector & 0xff;
}

/* OCW2 (datasheet table "Operation Command Word 2"): R, SL, EOI bits. */
static void write_ocw2(struct pic_chip *c, u8 v)
{
	int irq;
	switch (v >> 5) {
	case 0: /* rotate in automatic EOI mode: clear */
	case 4: /* rotate in automatic EOI mode: set */
		c->rotate_aeoi = v >> 7;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		irq = priority(c, c->isr);
		if (irq == 8)
			break;
		irq = (irq + c->priority_add) & 7;
		c->isr &= ~(1u << irq);
		if (v >> 7)
			c->priority_add = (irq + 1) & 7;
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		irq = v & 7;
		c->isr &= ~(1u << irq);
		if (v >> 7)
			c->priority_add = (irq + 1) & 7;
		break;
	case 6: /* set priority: IR (v & 7) becomes the lowest */
		c->priority_add = (v + 1) & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct pic_chip *c, u8 v)
{
	if (v & 0x04)
		c->poll = true;
	if (v & 0x02)
		c->read_isr = v & 0x01;
	if (v & 0x40)
		c->special_mask = (v >> 5) & 1;
}

static void write_command(struct pic_chip *c, u8 v)
{
	if (v & 0x10) { /* ICW1 */
		chip_reset(c);
		c->init_state = 1;
		c->init4 = v & 0x01;
		c->single = v & 0x02;
		/* LTIM (bit 3) is ignored: PC trigger modes come from ELCR. */
	} else if (v & 0x08) {
		write_ocw3(c, v);
	} else {
		write_ocw2(c, v);
	}
}

static void write_data(struct pic_chip *c, u8 v)
{
	switch (c->init_state) {
	case 0: /* OCW1 */
		c->imr = v;
		break;
	case 1: /* ICW2: vector base */
		c->base = v & 0xf8;
		c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
		break;
	case 2: /* ICW3: cascade wiring, fixed on a PC */
		c->init_state = c->init4 ? 3 : 0;
		break;
	default: /* ICW4 */
		c->auto_eoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_state = 0;
		break;
	}
}

void pic_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct pic_chip *c = opaque;
	(void)size;
	if (offset == 0)
		write_command(c, (u8)value);
	else
		write_data(c, (u8)value);
	update_cascade(c->pic);
}

/* Poll command: the read acts as INTA and returns 0x80 | level. */
static u8 poll_read(struct pic_chip *c)
{
	c->poll = false;
	int irq = chip_pending(c);
	if (irq < 0)
		return 0;
	chip_intack(c, irq);
	update_cascade(c->pic);
	return (u8)(0x80 | irq);
}

u64 pic_io_read(void *opaque, u64 offset, unsigned size)
{
	struct pic_chip *c = opaque;
	(void)size;
	if (c->poll)
		return poll_read(c);
	if (offset == 0)
		return c->read_isr ? c->isr : c->irr;
	return c->imr;
}

u64 pic_elcr_read(void *opaque, u64 offset, unsigned size)
{
	struct pic *p = opaque;
	(void)size;
	return p->chip[offset & 1].elcr;
}

void pic_elcr_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct pic *p = opaque;
	struct pic_chip *c = &p->chip[offset & 1];
	(void)size;
	c->elcr = (u8)value & c->elcr_mask;
	/* A line switched to level now requests exactly while it is high. */
	c->irr = (u8)((c->irr & ~c->elcr) | (c->lines & c->elcr));
	update_cascade(p);
}
