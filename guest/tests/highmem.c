/* highmem: with 5 GiB of RAM the machine has a PC layout: 3 GiB of RAM at 0,
 * the hole up to 4 GiB with the IOAPIC (0xfec00000) and the LAPIC
 * (0xfee00000) answering there, and 2 GiB of RAM at 4 GiB that loads,
 * stores, instruction fetches and self-modifying code can use. */
/* args: -m 5G */
#include "apic.h"
#include "boot.h"
#include "paging.h"
#include "report.h"
#include "string.h"
#include "x86.h"

#define GIB (1ull << 30)
#define LOW_END (3 * GIB)
#define HIGH (4 * GIB)
#define HIGH_END (6 * GIB)
#define IOAPIC 0xfec00000ull
#define HOLE_PROBE 0xd0000000ull

static u64 *root;

static volatile u64 *at(u64 pa)
{
	return (volatile u64 *)(uintptr_t)pa;
}

static void test_memory_map(void)
{
	const struct boot_info *bi = boot_info();
	bool high = false, in_hole = false;
	for (int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap *m = &bi->mmap[i];
		if (m->type != MB_MMAP_AVAILABLE)
			continue;
		if (m->addr == HIGH && m->len == HIGH_END - HIGH)
			high = true;
		if (m->addr < HIGH && m->addr + m->len > LOW_END)
			in_hole = true;
	}
	report(high, "memory map: 2 GiB available at 4 GiB");
	report(!in_hole, "memory map: nothing available between 3 GiB and 4 GiB");
	/* A BIOS may keep its tables in the top of low RAM (QEMU: 128 KiB). */
	report(bi->mem_upper <= (LOW_END - (1u << 20)) / 1024 &&
		       bi->mem_upper >= (LOW_END - (2u << 20)) / 1024,
	       "mem_upper: low RAM above 1 MiB, up to 3 GiB (%uk)", bi->mem_upper);
}

static void test_apics(void)
{
	u32 v = apic_read(APIC_VERSION);
	report((v & 0xff) >= 0x10 && ((v >> 16) & 0xff) >= 3,
	       "LAPIC answers at 0xfee00000 (version %#x)", v);
	volatile u32 *ioregsel = (volatile u32 *)(uintptr_t)IOAPIC;
	volatile u32 *iowin = (volatile u32 *)(uintptr_t)(IOAPIC + 0x10);
	*ioregsel = 1;
	u32 iv = *iowin;
	report((iv & 0xff) != 0 && ((iv >> 16) & 0xff) >= 23,
	       "IOAPIC answers at 0xfec00000 (version %#x)", iv);
}

static void test_hole(void)
{
	*at(HOLE_PROBE) = 0x1234567887654321ull;
	report(*at(HOLE_PROBE) != 0x1234567887654321ull, "0xd0000000 is not RAM (reads %#llx)",
	       (unsigned long long)*at(HOLE_PROBE));
}

static void test_high_ram(void)
{
	pt_map(root, HIGH, HIGH, PT_2M, PTE_W);
	pt_map(root, HIGH_END - 4096, HIGH_END - 4096, PT_4K, PTE_W);
	pt_map(root, HIGH_END, HIGH_END, PT_4K, PTE_W);
	*at(HIGH + 0x100) = 0x1111222233334444ull;
	*at(HIGH_END - 8) = 0x5555666677778888ull;
	*at(LOW_END - 8) = 0x9999aaaabbbbccccull;
	report(*at(HIGH + 0x100) == 0x1111222233334444ull, "RAM at 4 GiB keeps what is stored");
	report(*at(HIGH_END - 8) == 0x5555666677778888ull && *at(LOW_END - 8) == 0x9999aaaabbbbccccull,
	       "the last bytes of high and of low RAM are distinct RAM");
	*at(HIGH_END) = 42;
	report(*at(HIGH_END) != 42, "6 GiB (past RAM) is not RAM");
}

/* endbr64; mov eax, imm32; ret */
static const u8 ret_imm[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0x2a, 0, 0, 0, 0xc3 };

static void test_code(void)
{
	u8 *code = (u8 *)(uintptr_t)(HIGH + 0x3000);
	memcpy(code, ret_imm, sizeof(ret_imm));
	int (*fn)(void) = (int (*)(void))(uintptr_t)code;
	report(fn() == 42, "code runs from RAM at 4 GiB");
	code[5] = 43; /* the immediate of the instruction that just ran */
	report(fn() == 43, "a store to that code is seen by the next run");
	u8 *low = (u8 *)(uintptr_t)(LOW_END - 0x1000);
	pt_map(root, LOW_END - 0x1000, LOW_END - 0x1000, PT_4K, PTE_W);
	memcpy(low, ret_imm, sizeof(ret_imm));
	low[5] = 7;
	report(((int (*)(void))(uintptr_t)low)() == 7 && fn() == 43,
	       "code in the last page of low RAM is its own page");
}

int main(void)
{
	root = pt_root();
	test_memory_map();
	test_apics();
	test_hole();
	test_high_ram();
	test_code();
	return report_summary();
}
