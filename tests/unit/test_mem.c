/* test_mem.c: the PC RAM layout and the guest-physical to host translation
 * (mem.h): region boundaries, ranges that straddle the hole, overflow. */
#include <string.h>

#include "mem.h"
#include "unit.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define G4 MEM_HIGH_BASE

static void test_layout_rule(void)
{
	static const struct {
		u64 size, high;
		const char *what;
	} cases[] = {
		{ 128 * MIB, 0, "128 MiB" },
		{ 3 * GIB, 0, "3 GiB" },
		{ 0xe0000000ull - 4096, 0, "3.5 GiB - 4 KiB" },
		{ 0xe0000000ull, GIB / 2, "3.5 GiB" },
		{ 4 * GIB, GIB, "4 GiB" },
		{ 5 * GIB, 2 * GIB, "5 GiB" },
		{ 8 * GIB, 5 * GIB, "8 GiB" },
		{ 64 * GIB, 61 * GIB, "64 GiB" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 high = mem_high_size(cases[i].size);
		report(high == cases[i].high && mem_layout_ok(cases[i].size, high),
		       "layout %s: %llu MiB above 4 GiB (want %llu)", cases[i].what,
		       (unsigned long long)(high / MIB), (unsigned long long)(cases[i].high / MIB));
	}
	report(!mem_layout_ok(MIB, 2 * MIB), "layout: more high RAM than RAM is refused");
	report(!mem_layout_ok(6 * GIB, GIB), "layout: low RAM over 4 GiB with high RAM is refused");
	report(mem_layout_ok(16 * MIB, 0), "layout: all-low RAM is fine");
}

/* 5 GiB: low [0, 3 GiB), high [4 GiB, 6 GiB) at host offset 3 GiB. */
static void test_offsets(void)
{
	const u64 low = 3 * GIB, high = 2 * GIB;
	static const struct {
		u64 gpa, len, want;
		const char *what;
	} cases[] = {
		{ 0, 1, 0, "gpa 0" },
		{ 0x1234, 8, 0x1234, "low RAM is identity" },
		{ 3 * GIB - 8, 8, 3 * GIB - 8, "last 8 bytes of low RAM" },
		{ 3 * GIB - 4, 8, MEM_NONE, "range straddling the end of low RAM" },
		{ 3 * GIB, 1, MEM_NONE, "first byte of the hole" },
		{ 0xfec00000, 4, MEM_NONE, "IOAPIC" },
		{ 0xfee00000, 4, MEM_NONE, "LAPIC" },
		{ G4 - 1, 1, MEM_NONE, "last byte of the hole" },
		{ G4 - 4, 8, MEM_NONE, "range straddling 4 GiB" },
		{ G4, 1, 3 * GIB, "first byte of high RAM" },
		{ G4 + 0x5000, 16, 3 * GIB + 0x5000, "high RAM is shifted" },
		{ 6 * GIB - 8, 8, 5 * GIB - 8, "last 8 bytes of high RAM" },
		{ 6 * GIB - 4, 8, MEM_NONE, "range straddling the end of high RAM" },
		{ 6 * GIB, 1, MEM_NONE, "past high RAM" },
		{ 0, 5 * GIB, MEM_NONE, "a range over all host bytes is not one region" },
		{ 2 * GIB, 2 * GIB + 4096, MEM_NONE, "a range from low RAM to high RAM" },
		{ ~0ull - 3, 8, MEM_NONE, "gpa + len overflows" },
		{ 8, ~0ull, MEM_NONE, "len overflows" },
		{ G4 + 8, ~0ull - G4, MEM_NONE, "huge len from high RAM" },
		{ 3 * GIB, 0, 3 * GIB, "empty range at the end of low RAM" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 off = mem_offset(low, high, cases[i].gpa, cases[i].len);
		report(off == cases[i].want, "offset: %s: %#llx+%#llx -> %#llx (want %#llx)",
		       cases[i].what, (unsigned long long)cases[i].gpa,
		       (unsigned long long)cases[i].len, (unsigned long long)off,
		       (unsigned long long)cases[i].want);
	}
}

static void test_flat(void)
{
	const u64 size = 128 * MIB;
	report(mem_offset(size, 0, size - 4096, 4096) == size - 4096, "flat: last page is RAM");
	report(mem_offset(size, 0, size - 4096, 4097) == MEM_NONE, "flat: past the end is not");
	report(mem_offset(size, 0, G4, 1) == MEM_NONE, "flat: nothing at 4 GiB");
}

/* guest_ptr() on a real (lazily mapped) 5 GiB allocation: only the pages
 * written below are touched. */
static void test_guest_ptr(void)
{
	struct guest_ram ram;
	if (!report(guest_ram_alloc(&ram, 5 * GIB) == 0, "alloc 5 GiB (lazily)"))
		return;
	report(ram.high == 2 * GIB && guest_ram_low(&ram) == 3 * GIB, "5 GiB: 3 GiB low, 2 high");
	u8 *lo = guest_ptr(&ram, 3 * GIB - 4096, 4096);
	u8 *hi = guest_ptr(&ram, G4, 4096);
	report(lo == ram.base + 3 * GIB - 4096 && hi == ram.base + 3 * GIB,
	       "guest_ptr: low RAM at gpa, high RAM right after it in the host");
	report(!guest_ptr(&ram, 0xfee00000, 4) && !guest_ptr(&ram, 3 * GIB - 4096, 8192) &&
		       !guest_ptr(&ram, 6 * GIB - 4096, 8192) && !guest_ptr(&ram, 6 * GIB, 1),
	       "guest_ptr: refuses the hole and ranges leaving a region");
	memset(hi, 0x5a, 4096);
	u8 *last = guest_ptr(&ram, 6 * GIB - 1, 1);
	report(last == ram.base + ram.size - 1, "guest_ptr: last byte of high RAM is the last host byte");
	*last = 0xa5;
	guest_ram_zero(&ram);
	report(hi[0] == 0 && *last == 0, "guest_ram_zero clears high RAM");
	guest_ram_free(&ram);
	report(!ram.base && !ram.size && !ram.high, "free resets the layout");
}

int main(void)
{
	test_layout_rule();
	test_offsets();
	test_flat();
	test_guest_ptr();
	return 0;
}
