/* test_mmu_high.c: the interpreter's physical accesses with the PC layout
 * of 5 GiB (mem.h): low RAM [0, 3 GiB), MMIO hole [3 GiB, 4 GiB), high RAM
 * [4 GiB, 6 GiB) at host offset 3 GiB. Data accesses through the TLB and the
 * slow path, page walks that read tables in high RAM, the hole and the
 * space past RAM going to the MMIO bus, and code-page bookkeeping indexed
 * by host offset. The RAM is mapped lazily: only a few pages are touched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cpu/cpu.h"
#include "mem.h"
#include "paging_cpu.h"
#include "unit.h"

#define GIB (1ull << 30)
#define G4 MEM_HIGH_BASE
#define PML4 0x10000u
#define PDPT 0x11000u
#define HIGH_PD (G4 + 0x200000) /* a page directory in high RAM */
#define LAPIC 0xfee00000ull

static struct guest_ram ram;
static struct bus mmio;

struct probe {
	int reads, writes;
	u64 last_write;
};
static struct probe lapic;

static u64 probe_read(void *opaque, u64 offset, unsigned size)
{
	(void)size;
	((struct probe *)opaque)->reads++;
	return 0x50014 + offset; /* a LAPIC version-like value */
}

static void probe_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	(void)offset, (void)size;
	((struct probe *)opaque)->writes++;
	((struct probe *)opaque)->last_write = value;
}

static u64 *host64(u64 gpa)
{
	return guest_ptr(&ram, gpa, 8);
}

/* 1 GiB pages: la 0 -> 0, la 1G -> 4G (high), la 2G -> 5G (high),
 * la 3G -> 3G (the hole, with the APICs), la 4G -> 6G (past RAM); la 5G
 * through HIGH_PD: one 2 MiB page -> 4G + 4 MiB. */
static void build_tables(void)
{
	const u64 f = PTE_P | PTE_W;
	static const u64 gib_pages[] = { 0, G4, G4 + GIB, 3 * GIB, G4 + 2 * GIB };
	*host64(PML4) = PDPT | f;
	for (unsigned i = 0; i < ARRAY_SIZE(gib_pages); i++)
		*host64(PDPT + 8 * i) = gib_pages[i] | f | PTE_PS;
	*host64(PDPT + 8 * 5) = HIGH_PD | f;
	*host64(HIGH_PD) = (G4 + 0x400000) | f | PTE_PS;
}

static struct cpu *new_cpu(struct accel_env *env)
{
	memset(env, 0, sizeof(*env));
	bus_init(&mmio, "mmio");
	struct bus_range r = { "lapic", LAPIC, 0x1000, 1 | 2 | 4 | 8, probe_read, probe_write, &lapic };
	if (bus_add(&mmio, &r))
		abort();
	env->mmio = &mmio;
	env->ram = ram.base;
	env->ram_size = ram.size;
	env->ram_high = ram.high;
	return paging_cpu(env, PML4);
}

static void test_high_ram(struct cpu *cpu)
{
	*host64(G4 + 0x10) = 0x1122334455667788ull;
	report(cpu_read_lin(cpu, GIB + 0x10, 8) == 0x1122334455667788ull,
	       "read of gpa 4 GiB + 0x10 sees host offset 3 GiB + 0x10");
	report(cpu_read_lin(cpu, GIB + 0x10, 8) == 0x1122334455667788ull, "again through the TLB");
	cpu_write_lin(cpu, GIB + 0x20, 8, 0xabcdef);
	cpu_write_lin(cpu, GIB + 0x28, 8, 0x123456);
	report(*host64(G4 + 0x20) == 0xabcdef && *host64(G4 + 0x28) == 0x123456 &&
		       *(u64 *)(ram.base + 0x20) == 0,
	       "writes to high RAM land after low RAM in the host, not at the gpa's low bits");
	cpu_write_lin(cpu, 2 * GIB + GIB - 8, 8, 0x77);
	report(ram.base[ram.size - 8] == 0x77, "last 8 bytes of high RAM are the last host bytes");
	cpu_tlb_flush(cpu);
	*host64(G4 + 0x400000 + 0x30) = 0x5a5a;
	report(cpu_read_lin(cpu, 5 * GIB + 0x30, 8) == 0x5a5a,
	       "walk through a page directory in high RAM");
	report(*host64(HIGH_PD) & PTE_A, "the walk set the accessed bit in high RAM");
}

static void test_hole(struct cpu *cpu)
{
	int reads = lapic.reads;
	u64 v1 = cpu_read_lin(cpu, 3 * GIB + (LAPIC - 3 * GIB) + 0x30, 4);
	u64 v2 = cpu_read_lin(cpu, 3 * GIB + (LAPIC - 3 * GIB) + 0x30, 4);
	report(v1 == 0x50044 && v2 == v1 && lapic.reads == reads + 2,
	       "LAPIC window reads reach the bus every time (%#llx, %d reads)",
	       (unsigned long long)v1, lapic.reads - reads);
	cpu_write_lin(cpu, LAPIC + 0x80, 4, 0x20);
	report(lapic.writes == 1 && lapic.last_write == 0x20, "LAPIC window writes reach the bus");
	cpu_write_lin(cpu, 0xd0000000ull, 8, 0x99);
	report(cpu_read_lin(cpu, 0xd0000000ull, 8) == ~0ull,
	       "the hole is not RAM: an unassigned read gives all ones");
	report(*(u64 *)(ram.base + 0xd0000000ull) == 0,
	       "a write into the hole does not reach the host byte at that offset");
	report(cpu_phys_read(cpu, 3 * GIB - 4, 8) == ~0ull,
	       "a physical read straddling the end of low RAM goes to the bus");
	cpu_write_lin(cpu, 4 * GIB + 0x100, 8, 0x42);
	report(cpu_read_lin(cpu, 4 * GIB + 0x100, 8) == ~0ull, "past high RAM is not RAM either");
}

static void test_code_pages(struct cpu *cpu)
{
	u64 off = 3 * GIB + 0x5000, pfn = off >> 12;
	cpu->code_pages[pfn] = 1;
	u32 gen = cpu->page_gen[pfn], low_gen = cpu->page_gen[0x5];
	cpu_phys_write(cpu, G4 + 0x5008, 4, 0x90909090);
	report(cpu->page_gen[pfn] == gen + 1 && !cpu->code_pages[pfn] &&
		       cpu->page_gen[0x5] == low_gen,
	       "a write to code in high RAM invalidates its page by host offset");
	cpu->code_pages[pfn] = 1;
	cpu_tlb_flush(cpu);
	cpu_write_lin(cpu, GIB + 0x5010, 4, 1);
	report(cpu->page_gen[pfn] == gen + 2, "also through a linear write (no fast-path entry)");
	cpu->code_pages[pfn] = 0;
}

int main(void)
{
	struct accel_env env;
	jmp_buf jb;
	if (!report(guest_ram_alloc(&ram, 5 * GIB) == 0 && ram.high == 2 * GIB,
		    "5 GiB of RAM, 2 GiB of it at 4 GiB"))
		return 0;
	struct cpu *cpu = new_cpu(&env);
	build_tables();
	cpu->fault_jmp = &jb;
	if (setjmp(jb)) {
		report(0, "unexpected fault: vector %d error %#x", cpu->fault.vector, cpu->fault.error);
	} else {
		test_high_ram(cpu);
		test_hole(cpu);
		test_code_pages(cpu);
	}
	cpu_destroy(cpu);
	env.ram_high = env.ram_size + 1;
	report(cpu_create(&cpu, &env) == -EINVAL, "cpu_create refuses an impossible layout");
	env.ram_high = 0;
	env.ram_size = (16u << 20) + 100;
	report(cpu_create(&cpu, &env) == -EINVAL,
	       "cpu_create refuses RAM that ends inside a page (the TLB maps whole pages)");
	guest_ram_free(&ram);
	return 0;
}
