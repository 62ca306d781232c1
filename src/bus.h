/* bus.h: address-range dispatch shared by port I/O and MMIO.
 *
 * A bus is a sorted table of non-overlapping ranges. Each range names a
 * device's read and write functions and the access sizes it accepts (a
 * bitmask of 1, 2, 4, 8). An access of another size, or to no range, is
 * handled by the bus itself: reads return all-ones, writes are dropped.
 * Both accelerators call the same bus: the interpreter from IN/OUT and
 * memory accesses outside RAM, kvm from KVM_EXIT_IO / KVM_EXIT_MMIO.
 */
#ifndef CETVM_BUS_H
#define CETVM_BUS_H

#include "types.h"

/* `addr` passed to a device is the offset within its range. */
typedef u64 (*bus_read_fn)(void *opaque, u64 offset, unsigned size);
typedef void (*bus_write_fn)(void *opaque, u64 offset, unsigned size, u64 value);

struct bus_range {
	const char *name;
	u64 base;
	u64 len;
	unsigned sizes; /* bitmask: 1 | 2 | 4 | 8 */
	bus_read_fn read;
	bus_write_fn write;
	void *opaque;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	int n;
	struct bus_range r[BUS_MAX_RANGES];
};

void bus_init(struct bus *bus, const char *name);
/* Add a range. Returns 0, or -EEXIST if it overlaps an existing range,
 * -EINVAL if len is 0 or base+len wraps, -ENOSPC if the table is full. */
int bus_add(struct bus *bus, const struct bus_range *range);
/* Find the range that holds addr, or NULL. */
const struct bus_range *bus_find(const struct bus *bus, u64 addr);
/* Dispatch an access. An access that straddles the end of a range, or has a
 * size the device does not accept, is split into byte accesses when the
 * device accepts bytes, else treated as unmapped. */
u64 bus_read(struct bus *bus, u64 addr, unsigned size);
void bus_write(struct bus *bus, u64 addr, unsigned size, u64 value);

#endif
