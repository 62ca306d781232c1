/* bare_env.h: the accel_env for unit tests that drive accel_emu directly:
 * RAM and buses from the test, no interrupt source, no device MSRs. */
#ifndef CETVM_TEST_BARE_ENV_H
#define CETVM_TEST_BARE_ENV_H

#include "accel/accel.h"

static inline int bare_no_irq(void *ctx)
{
	(void)ctx;
	return -1;
}

static inline bool bare_no_msr_read(void *ctx, u32 index, u64 *v)
{
	(void)ctx;
	(void)index;
	*v = 0;
	return false;
}

static inline bool bare_no_msr_write(void *ctx, u32 index, u64 v)
{
	(void)ctx;
	(void)index;
	(void)v;
	return false;
}

static inline struct accel_env bare_env(u8 *mem, u64 size, struct bus *pio_bus, struct bus *mmio_bus,
					volatile bool *stop)
{
	return (struct accel_env){ .pio = pio_bus, .mmio = mmio_bus, .ram = mem, .ram_size = size,
				   .irq_peek = bare_no_irq, .irq_ack = bare_no_irq,
				   .msr_read = bare_no_msr_read, .msr_write = bare_no_msr_write,
				   .stop = stop };
}

#endif
