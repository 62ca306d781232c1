/* debugcon.c: isa-debugcon, the port-0xe9 console. */
#include "debugcon.h"

void debugcon_init(struct debugcon *d, void (*out)(void *opaque, u8 byte), void *opaque)
{
	d->out = out;
	d->opaque = opaque;
}

u64 debugcon_io_read(void *opaque, u64 offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return DEBUGCON_READBACK;
}

void debugcon_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct debugcon *d = opaque;
	(void)offset;
	(void)size;
	if (d->out)
		d->out(d->opaque, (u8)value);
}
