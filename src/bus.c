/* bus.c: the sorted range table behind port I/O and MMIO (see bus.h). */
#include "bus.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static u64 size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Last byte of a range; bus_add guarantees base + len - 1 does not wrap. */
static u64 range_last(const struct bus_range *r)
{
	return r->base + (r->len - 1);
}

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

/* Index of the first range whose last byte is >= addr (binary search). */
static int lower_bound(const struct bus *bus, u64 addr)
{
	int lo = 0, hi = bus->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (range_last(&bus->r[mid]) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_add(struct bus *bus, const struct bus_range *range)
{
	u64 last;
	if (range->len == 0 || __builtin_add_overflow(range->base, range->len - 1, &last))
		return -EINVAL;
	int i = lower_bound(bus, range->base);
	/* The only candidate for overlap is the first range that ends at or
	 * after our base: ranges are sorted and disjoint. */
	if (i < bus->n && bus->r[i].base <= last) {
		log_debug("%s: %s [%#llx,+%#llx) overlaps %s", bus->name, range->name,
			  (unsigned long long)range->base, (unsigned long long)range->len,
			  bus->r[i].name);
		return -EEXIST;
	}
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	memmove(&bus->r[i + 1], &bus->r[i], (size_t)(bus->n - i) * sizeof(bus->r[0]));
	bus->r[i] = *range;
	bus->n++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, u64 addr)
{
	int i = lower_bound(bus, addr);
	if (i < bus->n && bus->r[i].base <= addr)
		return &bus->r[i];
	return NULL;
}

/* The range that takes an access of `size` at addr whole, or NULL. */
static const struct bus_range *whole_target(const struct bus *bus, u64 addr, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr);
	if (!r || !(r->sizes & size))
		return NULL;
	if (r->len < size || addr - r->base > r->len - size)
		return NULL; /* straddles the end */
	return r;
}

static u8 read_byte(struct bus *bus, u64 addr)
{
	const struct bus_range *r = whole_target(bus, addr, 1);
	if (!r || !r->read)
		return 0xff;
	return (u8)r->read(r->opaque, addr - r->base, 1);
}

static void write_byte(struct bus *bus, u64 addr, u8 value)
{
	const struct bus_range *r = whole_target(bus, addr, 1);
	if (r && r->write)
		r->write(r->opaque, addr - r->base, 1, value);
}

u64 bus_read(struct bus *bus, u64 addr, unsigned size)
{
	if (!valid_size(size))
		return ~0ull;
	const struct bus_range *r = whole_target(bus, addr, size);
	if (r)
		return r->read ? r->read(r->opaque, addr - r->base, size) & size_mask(size)
			       : size_mask(size);
	/* Split into bytes, little-endian; each byte is mapped or not on its
	 * own, as an ISA bus splits a wide cycle for an 8-bit device. */
	u64 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (u64)read_byte(bus, addr + i) << (8 * i);
	return v;
}

void bus_write(struct bus *bus, u64 addr, unsigned size, u64 value)
{
	if (!valid_size(size))
		return;
	value &= size_mask(size);
	const struct bus_range *r = whole_target(bus, addr, size);
	if (r) {
		if (r->write)
			r->write(r->opaque, addr - r->base, size, value);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		write_byte(bus, addr + i, (u8)(value >> (8 * i)));
}
