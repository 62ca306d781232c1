/* pic.c: the legacy 8259A pair, remapped and masked (shared by both kits). */
#include "apic.h"

#include "idt.h"
#include "x86.h"

/* A spurious IRQ 7 or 15 needs no EOI. */
static void ignore(struct regs *r)
{
	(void)r;
}

void pic_disable(void)
{
	/* ICW1..ICW4 then OCW1 (8259A datasheet): remap so that a spurious
	 * IRQ 7/15 cannot look like an exception, then mask all lines. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, PIC_VECTOR_BASE);
	outb(0xa1, PIC_VECTOR_BASE + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	idt_set_handler(PIC_VECTOR_BASE + 7, ignore);
	idt_set_handler(PIC_VECTOR_BASE + 15, ignore);
}
