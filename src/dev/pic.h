/* pic.h: the PC's two cascaded 8259A interrupt controllers and their ELCR.
 *
 * Master at 0x20/0x21, slave at 0xa0/0xa1 on the master's IR2, edge/level
 * control (ELCR) at 0x4d0/0x4d1 as on PIIX. Inputs are ISA IRQ 0-15 levels
 * (pic_set_irq); an edge-triggered input latches IRR on a rising edge and
 * keeps it until INTA even if the line falls again (so a short pulse is not
 * lost, as on QEMU). The master's INTR output is read with pic_output(); the
 * CPU's interrupt-acknowledge cycle is pic_ack(). Reference: Intel 8259A
 * datasheet (ICW1-4, OCW1-3), Intel PIIX datasheet (ELCR).
 */
#ifndef CETVM_DEV_PIC_H
#define CETVM_DEV_PIC_H

#include "../types.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xa0
#define PIC_ELCR_BASE 0x4d0
#define PIC_IO_LEN 2

struct pic;

struct pic_chip {
	u8 irr, isr, imr;
	u8 lines;        /* current input levels */
	u8 elcr, elcr_mask;
	u8 base;         /* vector of IR0, from ICW2 */
	u8 priority_add; /* IR with the highest priority (rotation) */
	u8 init_state;   /* 0: ready; 1-3: expecting ICW2-ICW4 */
	bool init4, single;
	bool auto_eoi, rotate_aeoi, sfnm;
	bool special_mask, poll, read_isr;
	bool master;
	struct pic *pic;
};

struct pic {
	struct pic_chip chip[2]; /* [0] master, [1] slave */
};

void pic_init(struct pic *p);
void pic_reset(struct pic *p);

/* Drive ISA IRQ input `irq` (0-15). IRQ2 is the cascade and is ignored. */
void pic_set_irq(struct pic *p, int irq, bool level);
/* The master's INTR output. */
bool pic_output(const struct pic *p);
/* The vector an INTA cycle would return now, without side effects, or -1
 * when INTR is low. */
int pic_peek(const struct pic *p);
/* The INTA cycle: vector of the highest-priority request (moving it in
 * service), or the spurious vector (base + 7 of the chip) if none. */
int pic_ack(struct pic *p);

/* Bus handlers. opaque is &pic->chip[0] or &pic->chip[1] for the two
 * command/data port pairs; &pic itself for the ELCR pair. */
u64 pic_io_read(void *opaque, u64 offset, unsigned size);
void pic_io_write(void *opaque, u64 offset, unsigned size, u64 value);
u64 pic_elcr_read(void *opaque, u64 offset, unsigned size);
void pic_elcr_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
