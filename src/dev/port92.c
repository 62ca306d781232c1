/* port92.c: System Control Port A (PS/2-style chipsets, e.g. Intel PIIX). */
#include "port92.h"

#define P92_RESET 0x01
#define P92_A20 0x02

void port92_init(struct port92 *p, void (*request_reset)(void *opaque), void *opaque)
{
	p->request_reset = request_reset;
	p->opaque = opaque;
	port92_reset(p);
}

void port92_reset(struct port92 *p)
{
	p->value = P92_A20; /* A20 is always enabled here */
}

u64 port92_io_read(void *opaque, u64 offset, unsigned size)
{
	struct port92 *p = opaque;
	(void)offset;
	(void)size;
	return p->value;
}

void port92_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct port92 *p = opaque;
	(void)offset;
	(void)size;
	p->value = (u8)value & ~P92_RESET;
	if ((value & P92_RESET) && p->request_reset)
		p->request_reset(p->opaque);
}
