/* test_dev_intc.c: the 8259 PIC pair and the IOAPIC. */
#include <string.h>

#include "dev/ioapic.h"
#include "dev/pic.h"
#include "unit.h"

static void cmd(struct pic *p, int chip, u8 v)
{
	pic_io_write(&p->chip[chip], 0, 1, v);
}

static void data(struct pic *p, int chip, u8 v)
{
	pic_io_write(&p->chip[chip], 1, 1, v);
}

static u8 rd_cmd(struct pic *p, int chip)
{
	return (u8)pic_io_read(&p->chip[chip], 0, 1);
}

/* The init sequence Linux' init_8259A() uses. */
static void linux_init(struct pic *p, bool aeoi)
{
	cmd(p, 0, 0x11);
	data(p, 0, 0x20);
	data(p, 0, 0x04);
	data(p, 0, aeoi ? 0x03 : 0x01);
	cmd(p, 1, 0x11);
	data(p, 1, 0x28);
	data(p, 1, 0x02);
	data(p, 1, 0x01);
	data(p, 0, 0x00);
	data(p, 1, 0x00);
}

static void pulse(struct pic *p, int irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

static void test_pic_basic(void)
{
	struct pic p;
	pic_init(&p);
	linux_init(&p, false);
	report(!pic_output(&p) && pic_peek(&p) == -1, "after init: INTR low, nothing to peek");
	pulse(&p, 1);
	report(pic_output(&p), "edge pulse on IRQ1 is latched: INTR high");
	report(rd_cmd(&p, 0) == 0x02, "IRR reads 0x02 (OCW3 default)");
	report(pic_peek(&p) == 0x21, "peek = vector 0x21 (ICW2 base 0x20)");
	report(pic_ack(&p) == 0x21, "ack = 0x21");
	cmd(&p, 0, 0x0b);
	report(rd_cmd(&p, 0) == 0x02, "ISR (OCW3 0x0b) = 0x02 after ack");
	cmd(&p, 0, 0x0a);
	report(rd_cmd(&p, 0) == 0x00, "IRR (OCW3 0x0a) = 0 after ack");
	report(!pic_output(&p), "INTR low while IRQ1 in service");

	pulse(&p, 3);
	report(!pic_output(&p), "lower-priority IRQ3 blocked by IRQ1 in service");
	pulse(&p, 0);
	report(pic_ack(&p) == 0x20, "higher-priority IRQ0 nests: 0x20");
	cmd(&p, 0, 0x20); /* non-specific EOI: clears IRQ0, the highest */
	cmd(&p, 0, 0x0b);
	report(rd_cmd(&p, 0) == 0x02, "non-specific EOI cleared the highest ISR bit only");
	report(!pic_output(&p), "IRQ3 still blocked");
	cmd(&p, 0, 0x61); /* specific EOI for IRQ1 */
	report(pic_output(&p) && pic_ack(&p) == 0x23, "after specific EOI 1: IRQ3 delivered");
	cmd(&p, 0, 0x20);

	data(&p, 0, 0x10);
	pulse(&p, 4);
	report(!pic_output(&p), "OCW1 mask 0x10 hides IRQ4");
	report((u8)pic_io_read(&p.chip[0], 1, 1) == 0x10, "IMR reads back 0x10");
	data(&p, 0, 0x00);
	report(pic_output(&p) && pic_ack(&p) == 0x24, "unmasking delivers the latched IRQ4");
	cmd(&p, 0, 0x20);

	report(pic_ack(&p) == 0x27, "ack with nothing pending: spurious IRQ7 (0x27)");
	cmd(&p, 0, 0x0b);
	report(rd_cmd(&p, 0) == 0x00, "spurious IRQ7 sets no ISR bit");
}

static void test_pic_cascade(void)
{
	struct pic p;
	pic_init(&p);
	linux_init(&p, false);
	pic_set_irq(&p, 10, true);
	report(pic_output(&p) && pic_peek(&p) == 0x2a, "IRQ10 via cascade: peek 0x2a");
	report(pic_ack(&p) == 0x2a, "ack IRQ10 = 0x2a");
	cmd(&p, 0, 0x0b);
	cmd(&p, 1, 0x0b);
	report(rd_cmd(&p, 0) == 0x04 && rd_cmd(&p, 1) == 0x04, "ISR: master bit 2, slave bit 2");
	pic_set_irq(&p, 10, false);
	pulse(&p, 9);
	report(!pic_output(&p), "IRQ9 waits for the master's cascade EOI");
	cmd(&p, 1, 0x20);
	cmd(&p, 0, 0x20);
	report(pic_output(&p) && pic_ack(&p) == 0x29, "after both EOIs IRQ9 (0x29) arrives");
	cmd(&p, 1, 0x20);
	cmd(&p, 0, 0x20);
	data(&p, 1, 0x02);
	pulse(&p, 9);
	report(!pic_output(&p), "slave IMR masks IRQ9");
	data(&p, 0, 0x04);
	data(&p, 1, 0x00);
	report(!pic_output(&p), "master IMR bit 2 masks the whole slave");
}

static void test_pic_level_and_elcr(void)
{
	struct pic p;
	pic_init(&p);
	linux_init(&p, false);
	pic_elcr_write(&p, 0, 1, 0xff);
	pic_elcr_write(&p, 1, 1, 0xff);
	report(pic_elcr_read(&p, 0, 1) == 0xf8 && pic_elcr_read(&p, 1, 1) == 0xde,
	       "ELCR: IRQ0-2, 8, 13 stay edge (0xf8/0xde)");
	pic_elcr_write(&p, 0, 1, 0x20);
	pic_set_irq(&p, 5, true);
	report(pic_ack(&p) == 0x25, "level IRQ5 delivered");
	cmd(&p, 0, 0x20);
	report(pic_output(&p), "still asserted after EOI: requested again");
	pic_set_irq(&p, 5, false);
	report(!pic_output(&p), "level IRQ5 dropped: request gone");
	pic_set_irq(&p, 5, true);
	report(pic_peek(&p) == 0x25, "level IRQ5 requested");
	pic_set_irq(&p, 5, false);
	report(pic_ack(&p) == 0x27, "line fell before INTA: spurious 0x27");
}

static void test_pic_modes(void)
{
	struct pic p;
	pic_init(&p);
	linux_init(&p, true);
	pulse(&p, 6);
	report(pic_ack(&p) == 0x26, "auto-EOI: IRQ6 delivered");
	cmd(&p, 0, 0x0b);
	report(rd_cmd(&p, 0) == 0x00, "auto-EOI: ISR stays 0");

	linux_init(&p, false);
	cmd(&p, 0, 0xc2); /* set priority: IR2 lowest, IR3 highest */
	pulse(&p, 1);
	pulse(&p, 4);
	report(pic_ack(&p) == 0x24, "rotated priority: IRQ4 beats IRQ1");
	cmd(&p, 0, 0x20);
	report(pic_ack(&p) == 0x21, "then IRQ1");
	cmd(&p, 0, 0x20);
	cmd(&p, 0, 0xc7); /* back to IR7 lowest */

	pulse(&p, 5);
	cmd(&p, 0, 0x0c); /* poll */
	report(rd_cmd(&p, 0) == 0x85, "poll command returns 0x80 | 5");
	cmd(&p, 0, 0x0b);
	report(rd_cmd(&p, 0) == 0x20, "poll read acknowledged IRQ5 (ISR 0x20)");
	cmd(&p, 0, 0x65);

	data(&p, 0, 0xff);
	pulse(&p, 3);
	cmd(&p, 0, 0x11);
	report((u8)pic_io_read(&p.chip[0], 1, 1) == 0x00, "ICW1 clears IMR");
	data(&p, 0, 0x30);
	data(&p, 0, 0x04);
	data(&p, 0, 0x01);
	report(!pic_output(&p), "ICW1 cleared the edge latch of IRQ3");
	pulse(&p, 3);
	report(pic_ack(&p) == 0x33, "new ICW2 base 0x30 used (IRQ3 = 0x33)");
}

struct msgs {
	struct ioapic_msg m[16];
	int n;
	bool refuse;
};

static bool collect(void *opaque, const struct ioapic_msg *msg)
{
	struct msgs *ms = opaque;
	if (ms->n < 16)
		ms->m[ms->n++] = *msg;
	return !ms->refuse;
}

static u32 io_rd(struct ioapic *io, u32 reg)
{
	ioapic_mmio_write(io, 0x00, 4, reg);
	return (u32)ioapic_mmio_read(io, 0x10, 4);
}

static void io_wr(struct ioapic *io, u32 reg, u32 v)
{
	ioapic_mmio_write(io, 0x00, 4, reg);
	ioapic_mmio_write(io, 0x10, 4, v);
}

static void test_ioapic(void)
{
	struct ioapic io;
	struct msgs ms;
	memset(&ms, 0, sizeof(ms));
	ioapic_init(&io, collect, &ms);
	report(io_rd(&io, 1) == 0x00170011, "version: 24 entries, version 0x11");
	io_wr(&io, 0, 0x0a000000);
	report(io_rd(&io, 0) == 0x0a000000, "ID is writable (bits 27:24)");
	report(io_rd(&io, 0x10) == 0x00010000 && io_rd(&io, 0x3e) == 0x00010000,
	       "every entry starts masked");
	report(ioapic_mmio_read(&io, 0, 4) == 0x3e, "IOREGSEL reads back");

	ioapic_set_irq(&io, 1, true);
	report(ms.n == 0, "masked pin: no message");
	io_wr(&io, 0x12, 0x31); /* pin 1: vector 0x31, edge, unmasked */
	report(ms.n == 1 && ms.m[0].vector == 0x31 && !ms.m[0].level,
	       "unmasking delivers the pending edge (vector 0x31)");
	ioapic_set_irq(&io, 1, true);
	report(ms.n == 1, "no edge while the line stays high");
	ioapic_set_irq(&io, 1, false);
	ioapic_set_irq(&io, 1, true);
	report(ms.n == 2, "a new rising edge sends again");

	io_wr(&io, 0x12 + 2 * 8, 0x0000a839); /* pin 9: level, logical, vector 0x39 */
	io_wr(&io, 0x13 + 2 * 8, 0x01000000);
	ioapic_set_irq(&io, 9, true);
	report(ms.n == 3 && ms.m[2].vector == 0x39 && ms.m[2].level && ms.m[2].logical &&
		       ms.m[2].dest == 1,
	       "level pin 9: message with trigger, logical dest 1");
	report(io_rd(&io, 0x22) & (1u << 14), "remote IRR set after delivery");
	ioapic_set_irq(&io, 9, true);
	report(ms.n == 3, "no resend while remote IRR is set");
	io_wr(&io, 0x22, 0x0000a839 | (1u << 12));
	report((io_rd(&io, 0x22) & (1u << 14)) && !(io_rd(&io, 0x22) & (1u << 12)),
	       "remote IRR / delivery status are read-only");
	ioapic_eoi(&io, 0x38);
	report(ms.n == 3, "EOI of another vector does nothing");
	ioapic_eoi(&io, 0x39);
	report(ms.n == 4, "EOI while still asserted: delivered again");
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x39);
	report(ms.n == 4 && !(io_rd(&io, 0x22) & (1u << 14)), "EOI after deassert: remote IRR clear");

	ms.refuse = true;
	io_wr(&io, 0x14, 0x0000a840);
	ioapic_set_irq(&io, 2, true);
	report(!(io_rd(&io, 0x14) & (1u << 14)), "refused level message leaves remote IRR clear");
	ms.refuse = false;
	io_wr(&io, 0x14, 0x00010040);
	report(!(io_rd(&io, 0x14) & (1u << 14)), "switching to edge clears remote IRR");
	ioapic_reset(&io);
	report(io_rd(&io, 0x12) == 0x00010000, "reset masks entries again");
}

int main(void)
{
	test_pic_basic();
	test_pic_cascade();
	test_pic_level_and_elcr();
	test_pic_modes();
	test_ioapic();
	return 0;
}
