/* test_bus.c: the bus range table: overlap rules, lookup, size splitting. */
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "unit.h"

/* A device that answers 0xa0 + offset per byte and logs its accesses. */
struct probe {
	int reads, writes;
	u64 last_offset;
	unsigned last_size;
	u64 last_value;
	u8 written[16];
};

static u64 probe_read(void *opaque, u64 offset, unsigned size)
{
	struct probe *p = opaque;
	p->reads++;
	p->last_offset = offset;
	p->last_size = size;
	u64 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (u64)(0xa0 + offset + i) << (8 * i);
	return v | 0xdead000000000000ull * (size < 8); /* junk above size */
}

static void probe_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct probe *p = opaque;
	p->writes++;
	p->last_offset = offset;
	p->last_size = size;
	p->last_value = value;
	for (unsigned i = 0; i < size && offset + i < sizeof(p->written); i++)
		p->written[offset + i] = (u8)(value >> (8 * i));
}

static struct bus_range mk(const char *name, u64 base, u64 len, unsigned sizes, struct probe *p)
{
	struct bus_range r = {name, base, len, sizes, probe_read, probe_write, p};
	return r;
}

static void test_overlap(void)
{
	struct bus bus;
	struct probe p = {0};
	bus_init(&bus, "pio");
	struct bus_range a = mk("a", 0x10, 0x10, 1, &p);
	report(bus_add(&bus, &a) == 0, "add [0x10,0x20)");
	struct bus_range r = mk("r", 0x20, 0x10, 1, &p);
	report(bus_add(&bus, &r) == 0, "adjacent above [0x20,0x30) accepted");
	r = mk("r", 0x0, 0x10, 1, &p);
	report(bus_add(&bus, &r) == 0, "adjacent below [0x0,0x10) accepted");
	r = mk("r", 0x10, 0x10, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST, "identical range rejected");
	r = mk("r", 0x1f, 0x1, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST, "last byte of a range rejected");
	r = mk("r", 0x2f, 0x2, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST, "range straddling an end rejected");
	r = mk("r", 0x8, 0x100, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST, "range covering others rejected");
	r = mk("r", 0x30, 0x0, 1, &p);
	report(bus_add(&bus, &r) == -EINVAL, "zero length rejected");
	r = mk("r", ~0ull, 2, 1, &p);
	report(bus_add(&bus, &r) == -EINVAL, "wrapping range rejected");
	r = mk("r", ~0ull, 1, 1, &p);
	report(bus_add(&bus, &r) == 0, "range ending at the top of the space accepted");
	r = mk("r", 0xfffffffffffffff0ull, 0x10, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST, "range up to the top overlapping it rejected");
	report(bus.n == 4, "table holds 4 ranges (n=%d)", bus.n);
	int sorted = 1;
	for (int i = 1; i < bus.n; i++)
		sorted &= bus.r[i - 1].base < bus.r[i].base;
	report(sorted, "table is sorted by base");
}

static void test_full(void)
{
	struct bus bus;
	struct probe p = {0};
	bus_init(&bus, "mmio");
	int ok = 1;
	/* Insert in descending order to exercise insertion at the front. */
	for (int i = BUS_MAX_RANGES - 1; i >= 0; i--) {
		struct bus_range r = mk("x", (u64)i * 0x100, 0x80, 1, &p);
		ok &= bus_add(&bus, &r) == 0;
	}
	report(ok && bus.n == BUS_MAX_RANGES, "%d ranges fit", BUS_MAX_RANGES);
	struct bus_range r = mk("y", 0x100000, 0x10, 1, &p);
	report(bus_add(&bus, &r) == -ENOSPC, "one more is -ENOSPC");
	r = mk("y", 0x80, 0x10, 1, &p);
	report(bus_add(&bus, &r) == -EEXIST || bus_add(&bus, &r) == -ENOSPC,
	       "full table still refuses without corrupting");
	const struct bus_range *f = bus_find(&bus, 0x3f7f);
	report(f && f->base == 0x3f00, "lookup in a full table (base %#llx)",
	       f ? (unsigned long long)f->base : 0ull);
	report(bus_find(&bus, 0x3f80) == NULL, "gap between ranges is unmapped");
}

static void test_find(void)
{
	struct bus bus;
	struct probe p = {0};
	bus_init(&bus, "pio");
	struct bus_range r1 = mk("b", 0x3f8, 8, 1, &p), r2 = mk("a", 0x20, 2, 1, &p);
	struct bus_range r3 = mk("c", 0xcf8, 8, 1 | 2 | 4, &p);
	bus_add(&bus, &r1);
	bus_add(&bus, &r2);
	bus_add(&bus, &r3);
	const struct bus_range *f = bus_find(&bus, 0x3f8);
	report(f && !strcmp(f->name, "b"), "find at base");
	f = bus_find(&bus, 0x3ff);
	report(f && !strcmp(f->name, "b"), "find at last byte");
	report(bus_find(&bus, 0x400) == NULL, "byte after a range is unmapped");
	report(bus_find(&bus, 0x1f) == NULL, "byte before the first range is unmapped");
	report(bus_find(&bus, ~0ull) == NULL, "top address is unmapped");
	f = bus_find(&bus, 0x21);
	report(f && !strcmp(f->name, "a"), "find in a range added later but lower");
}

static void test_dispatch(void)
{
	struct bus bus;
	struct probe bytes = {0}, dwords = {0}, all = {0};
	bus_init(&bus, "pio");
	struct bus_range rb = mk("bytes", 0x100, 4, 1, &bytes);
	struct bus_range rd = mk("dwords", 0x200, 8, 4, &dwords);
	struct bus_range ra = mk("all", 0x300, 4, 1 | 2 | 4 | 8, &all);
	bus_add(&bus, &rb);
	bus_add(&bus, &rd);
	bus_add(&bus, &ra);

	report(bus_read(&bus, 0x50, 1) == 0xff, "unmapped byte reads 0xff");
	report(bus_read(&bus, 0x50, 2) == 0xffff, "unmapped word reads 0xffff");
	report(bus_read(&bus, 0x50, 4) == 0xffffffff, "unmapped dword reads all-ones");
	report(bus_read(&bus, 0x50, 8) == ~0ull, "unmapped qword reads all-ones");
	report(bus_read(&bus, 0x100, 3) == ~0ull, "size 3 is refused: all-ones");

	u64 v = bus_read(&bus, 0x302, 2);
	report(v == 0xa3a2 && all.last_offset == 2 && all.last_size == 2,
	       "accepted size goes whole with the offset in the range (%#llx)", (unsigned long long)v);
	v = bus_read(&bus, 0x300, 1);
	report(v == 0xa0, "read is masked to the access size (%#llx)", (unsigned long long)v);

	bytes.reads = 0;
	v = bus_read(&bus, 0x101, 2);
	report(v == 0xa2a1 && bytes.reads == 2 && bytes.last_size == 1,
	       "word on a byte device splits into 2 byte reads (%#llx)", (unsigned long long)v);
	v = bus_read(&bus, 0x102, 4);
	report(v == 0xffffa3a2, "dword straddling the end: device bytes + 0xff (%#llx)",
	       (unsigned long long)v);
	v = bus_read(&bus, 0xfe, 4);
	report(v == 0xa1a0ffff, "dword straddling the start is split too (%#llx)", (unsigned long long)v);

	dwords.reads = 0;
	report(bus_read(&bus, 0x200, 1) == 0xff && dwords.reads == 0,
	       "byte on a dword-only device is unmapped");
	report(bus_read(&bus, 0x206, 4) == 0xffffffff && dwords.reads == 0,
	       "straddling dword on a dword-only device is unmapped");
	v = bus_read(&bus, 0x204, 4);
	report(v == 0xa7a6a5a4 && dwords.reads == 1, "aligned dword reaches the device");

	bus_write(&bus, 0x300, 2, 0x12345678);
	report(all.last_value == 0x5678 && all.last_size == 2, "write value masked to size");
	bytes.writes = 0;
	bus_write(&bus, 0x102, 4, 0x11223344);
	report(bytes.writes == 2 && bytes.written[2] == 0x44 && bytes.written[3] == 0x33,
	       "straddling write splits; bytes outside are dropped");
	dwords.writes = 0;
	bus_write(&bus, 0x200, 2, 0xffff);
	report(dwords.writes == 0, "unaccepted write size on dword device dropped");
	bus_write(&bus, 0x50, 4, 1); /* must not crash */
	report(1, "unmapped write ignored");
}

static void test_null_handlers(void)
{
	struct bus bus;
	bus_init(&bus, "pio");
	struct bus_range r = {"sink", 0x80, 1, 1 | 2 | 4, NULL, NULL, NULL};
	report(bus_add(&bus, &r) == 0, "range without handlers added");
	report(bus_read(&bus, 0x80, 1) == 0xff, "range without read reads all-ones");
	bus_write(&bus, 0x80, 1, 0x12);
	report(1, "range without write drops writes");
}

int main(void)
{
	test_overlap();
	test_full();
	test_find();
	test_dispatch();
	test_null_handlers();
	return 0;
}
