/* kbc.c: 8042 keyboard controller stub: status 0, command 0xfe resets. */
#include "kbc.h"

void kbc_init(struct kbc *k, void (*request_reset)(void *opaque), void *opaque)
{
	k->request_reset = request_reset;
	k->opaque = opaque;
}

u64 kbc_io_read(void *opaque, u64 offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return 0;
}

void kbc_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct kbc *k = opaque;
	(void)offset;
	(void)size;
	if ((u8)value == KBC_CMD_RESET && k->request_reset)
		k->request_reset(k->opaque);
}
