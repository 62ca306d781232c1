/* clock.h: virtual time as devices see it.
 *
 * Devices count in guest TSC ticks. `now` returns the guest TSC at the
 * moment of the call (devices call it inside register accesses, e.g. to read
 * a counter). `rearm` tells the owner that the device's next deadline may
 * have moved, so a running vCPU can be told to stop earlier. `hz` is the
 * nominal TSC frequency.
 */
#ifndef CETVM_DEV_CLOCK_H
#define CETVM_DEV_CLOCK_H

#include "../types.h"

#define CLOCK_NEVER (~0ull)

struct dev_clock {
	u64 (*now)(void *opaque);
	void (*rearm)(void *opaque);
	void *opaque;
	u64 hz;
};

static inline u64 clock_now(const struct dev_clock *c)
{
	return c->now ? c->now(c->opaque) : 0;
}

static inline void clock_rearm(const struct dev_clock *c)
{
	if (c->rearm)
		c->rearm(c->opaque);
}

/* v * mul / div without intermediate overflow, rounded down / up. The
 * result saturates at CLOCK_NEVER. */
static inline u64 clock_scale(u64 v, u64 mul, u64 div)
{
	u128 r = (u128)v * mul / div;
	return r > CLOCK_NEVER ? CLOCK_NEVER : (u64)r;
}

static inline u64 clock_scale_up(u64 v, u64 mul, u64 div)
{
	u128 r = ((u128)v * mul + div - 1) / div;
	return r > CLOCK_NEVER ? CLOCK_NEVER : (u64)r;
}

/* a + b, saturating at CLOCK_NEVER. */
static inline u64 clock_add(u64 a, u64 b)
{
	u64 r;
	return __builtin_add_overflow(a, b, &r) ? CLOCK_NEVER : r;
}

#endif
