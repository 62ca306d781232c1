/* debug_exit.c: isa-debug-exit, the test guests' way out. */
#include "debug_exit.h"

void debug_exit_init(struct debug_exit *d, void (*on_exit)(void *opaque, int status), void *opaque)
{
	d->on_exit = on_exit;
	d->opaque = opaque;
}

void debug_exit_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct debug_exit *d = opaque;
	(void)offset;
	(void)size;
	/* As QEMU: exit((val << 1) | 1); the host keeps the low 8 bits. */
	int status = (int)(((u32)value << 1) | 1);
	if (d->on_exit)
		d->on_exit(d->opaque, status);
}
