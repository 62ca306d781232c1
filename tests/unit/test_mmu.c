/* test_mmu.c: page walks, permission checks and #PF error codes of the
 * interpreter's MMU, including shadow-stack pages (spec/cet.md 5.2).
 * Covers: 48 49 50 51 52 (spec/cet.md §12, at the unit level)
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cpu/cpu.h"
#include "paging_cpu.h"
#include "unit.h"

#define RAM (16u << 20)
#define PML4 0x10000u
#define PDPT 0x11000u
#define PD 0x12000u
#define PT 0x13000u

static u8 *ram;
static struct bus mmio;

static u64 *pte(u64 pa)
{
	return (u64 *)(ram + pa);
}

/* Map linear 0..2 MiB through PT (4 KiB pages), 2..4 MiB as one 2 MiB page,
 * and 1 GiB..2 GiB as a 1 GiB page. */
static void build_tables(u64 pt_flags_default)
{
	memset(ram + PML4, 0, 0x4000);
	*pte(PML4) = PDPT | PTE_P | PTE_W | PTE_U;
	*pte(PDPT) = PD | PTE_P | PTE_W | PTE_U;
	*pte(PDPT + 8) = 0x40000000ull | PTE_P | PTE_W | PTE_U | PTE_PS;
	*pte(PD) = PT | PTE_P | PTE_W | PTE_U;
	*pte(PD + 8) = 0x200000ull | PTE_P | PTE_W | PTE_U | PTE_PS;
	for (u64 i = 0; i < 512; i++)
		*pte(PT + i * 8) = (i << 12) | pt_flags_default;
}

static struct cpu *new_cpu(struct accel_env *env)
{
	memset(env, 0, sizeof(*env));
	bus_init(&mmio, "mmio");
	env->mmio = &mmio;
	env->ram = ram;
	env->ram_size = RAM;
	return paging_cpu(env, PML4);
}

struct result {
	bool ok;
	u64 pa;
	int vector;
	u32 error;
	u64 cr2;
};

static struct result translate(struct cpu *cpu, u64 la, unsigned acc)
{
	jmp_buf jb;
	struct result r = { 0 };
	cpu->fault_jmp = &jb;
	cpu_tlb_flush(cpu);
	if (setjmp(jb)) {
		r.vector = cpu->fault.vector;
		r.error = cpu->fault.error;
		r.cr2 = cpu->cr2;
		return r;
	}
	r.pa = cpu_translate(cpu, la, acc);
	r.ok = true;
	return r;
}

static void expect_pf(struct cpu *cpu, u64 la, unsigned acc, u32 err, const char *what)
{
	struct result r = translate(cpu, la, acc);
	report(!r.ok && r.vector == X86_EXC_PF && r.error == err && r.cr2 == la,
	       "%s: #PF error %#x (got %s vector %d error %#x)", what, err,
	       r.ok ? "no fault," : "", r.vector, r.error);
}

static void expect_ok(struct cpu *cpu, u64 la, unsigned acc, u64 pa, const char *what)
{
	struct result r = translate(cpu, la, acc);
	report(r.ok && r.pa == pa, "%s: translates to %#llx (got %#llx, vector %d)", what,
	       (unsigned long long)pa, (unsigned long long)r.pa, r.ok ? -1 : r.vector);
}

static void test_basic(struct cpu *cpu)
{
	build_tables(PTE_P | PTE_W);
	expect_ok(cpu, 0x5123, ACC_READ, 0x5123, "4 KiB page read");
	report(*pte(PT + 5 * 8) & PTE_A, "accessed bit set by a read");
	report(!(*pte(PT + 5 * 8) & PTE_D), "dirty bit not set by a read");
	expect_ok(cpu, 0x5123, ACC_WRITE, 0x5123, "4 KiB page write");
	report(*pte(PT + 5 * 8) & PTE_D, "dirty bit set by a write");
	expect_ok(cpu, 0x234567, ACC_READ, 0x234567, "2 MiB page");
	expect_ok(cpu, 0x40001234ull, ACC_READ, 0x40001234ull, "1 GiB page");
	*pte(PT + 7 * 8) = 0;
	expect_pf(cpu, 0x7008, ACC_READ, 0, "not present, supervisor read");
	expect_pf(cpu, 0x7008, ACC_WRITE, PF_W, "not present, supervisor write");
	cpu->cpl = 3;
	expect_pf(cpu, 0x7008, ACC_READ, PF_U, "not present, user read");
	expect_pf(cpu, 0x6000, ACC_READ, PF_P | PF_U, "user read of a supervisor page");
	cpu->cpl = 0;
	*pte(PT + 7 * 8) = 0x7000 | PTE_P | (1ull << 50); /* above MAXPHYADDR */
	expect_pf(cpu, 0x7000, ACC_READ, PF_P | PF_RSVD, "reserved physical-address bit");
}

static void test_write_protect(struct cpu *cpu)
{
	build_tables(PTE_P | PTE_U);
	expect_pf(cpu, 0x3000, ACC_WRITE, PF_P | PF_W, "CR0.WP=1: supervisor write to read-only");
	cpu->cr0 &= ~X86_CR0_WP;
	expect_ok(cpu, 0x3000, ACC_WRITE, 0x3000, "CR0.WP=0: supervisor write to read-only");
	report(!(*pte(PT + 3 * 8) & PTE_D), "D never set through an R/W=0 entry");
	cpu->cr0 |= X86_CR0_WP;
	cpu->cpl = 3;
	expect_pf(cpu, 0x3000, ACC_WRITE, PF_P | PF_W | PF_U, "user write to read-only");
	cpu->cpl = 0;
}

static void test_nx_smep_smap(struct cpu *cpu)
{
	build_tables(PTE_P | PTE_W | PTE_U);
	*pte(PT + 9 * 8) |= PTE_NX;
	expect_pf(cpu, 0x9000, ACC_EXEC, PF_P | PF_I, "NX fetch");
	cpu->cr4 |= X86_CR4_SMEP;
	expect_pf(cpu, 0x8000, ACC_EXEC, PF_P | PF_I, "SMEP: supervisor fetch from a user page");
	cpu->cr4 &= ~X86_CR4_SMEP;
	cpu->cr4 |= X86_CR4_SMAP;
	expect_pf(cpu, 0x8000, ACC_READ, PF_P, "SMAP: supervisor read of a user page, AC=0");
	cpu->eflags |= X86_EFLAGS_AC;
	expect_ok(cpu, 0x8000, ACC_READ, 0x8000, "SMAP: allowed with AC=1");
	expect_pf(cpu, 0x8000, ACC_READ | ACC_SUPER, PF_P, "SMAP: implicit access ignores AC");
	cpu->eflags &= ~X86_EFLAGS_AC;
	cpu->cr4 &= ~X86_CR4_SMAP;
}

static void test_pkeys(struct cpu *cpu)
{
	build_tables(PTE_P | PTE_W | PTE_U);
	*pte(PT + 4 * 8) |= 3ull << 59; /* key 3 */
	cpu->cr4 |= X86_CR4_PKE;
	cpu->pkru = 1u << 6; /* AD for key 3 */
	cpu->cpl = 3;
	expect_pf(cpu, 0x4000, ACC_READ, PF_P | PF_U | PF_PK, "PKRU access-disable");
	cpu->pkru = 2u << 6; /* WD for key 3 */
	expect_ok(cpu, 0x4000, ACC_READ, 0x4000, "PKRU write-disable allows reads");
	expect_pf(cpu, 0x4000, ACC_WRITE, PF_P | PF_W | PF_U | PF_PK, "PKRU write-disable");
	cpu->cpl = 0;
	cpu->cr4 &= ~X86_CR4_PKE;
	cpu->pkru = 0;
}

/* Shadow-stack pages: non-leaf R/W=1, leaf R/W=0 and D=1 (spec 5.2). */
static void test_shadow_stack(struct cpu *cpu)
{
	build_tables(PTE_P | PTE_W | PTE_U);
	*pte(PT + 0x10 * 8) = 0x10000 | PTE_P | PTE_D;          /* supervisor shadow stack */
	*pte(PT + 0x11 * 8) = 0x11000 | PTE_P | PTE_D | PTE_U;  /* user shadow stack */
	expect_ok(cpu, 0x10ff8, ACC_WRITE | ACC_SHSTK, 0x10ff8, "supervisor shadow-stack push");
	expect_ok(cpu, 0x10ff8, ACC_READ, 0x10ff8, "ordinary read of a shadow-stack page");
	expect_pf(cpu, 0x10ff8, ACC_WRITE, PF_P | PF_W, "ordinary write to a shadow-stack page");
	expect_pf(cpu, 0x5000, ACC_WRITE | ACC_SHSTK, PF_P | PF_W | PF_SS,
		  "shadow-stack push to a writable page");
	expect_pf(cpu, 0x5000, ACC_READ | ACC_SHSTK, PF_P | PF_SS,
		  "shadow-stack pop from a writable page");
	cpu->cpl = 3;
	expect_ok(cpu, 0x11ff8, ACC_WRITE | ACC_SHSTK, 0x11ff8, "user shadow-stack push");
	expect_pf(cpu, 0x10ff8, ACC_WRITE | ACC_SHSTK, PF_P | PF_W | PF_U | PF_SS,
		  "user shadow-stack push to a supervisor shadow-stack page");
	cpu->cpl = 0;
	expect_pf(cpu, 0x11ff8, ACC_WRITE | ACC_SHSTK, PF_P | PF_W | PF_SS,
		  "supervisor shadow-stack push to a user shadow-stack page");
	expect_ok(cpu, 0x11ff8, ACC_WRITE | ACC_SHSTK | ACC_USER, 0x11ff8,
		  "WRUSS-style user access at CPL 0");
	*pte(PT + 0x12 * 8) = 0x12000 | PTE_P; /* R/W=0 but D=0: not a shadow-stack page */
	expect_pf(cpu, 0x12000, ACC_READ | ACC_SHSTK, PF_P | PF_SS, "read-only page with D=0");
	*pte(PD) &= ~PTE_W; /* a non-leaf entry with R/W=0 */
	expect_pf(cpu, 0x10ff8, ACC_READ | ACC_SHSTK, PF_P | PF_SS, "non-leaf R/W=0");
}

static void test_legacy_modes(struct cpu *cpu)
{
	/* 32-bit paging with a 4 MiB page, then paging off. */
	u32 *pd32 = (u32 *)(ram + 0x20000);
	memset(pd32, 0, 4096);
	pd32[1] = 0x400000 | PTE_P | PTE_W | PTE_PS;
	cpu->efer = 0;
	cpu->cr4 = X86_CR4_PSE;
	cpu->cr3 = 0x20000;
	expect_ok(cpu, 0x401234, ACC_READ, 0x401234, "32-bit paging, 4 MiB page");
	expect_pf(cpu, 0x801234, ACC_READ, 0, "32-bit paging, not present");
	cpu->cr0 &= ~X86_CR0_PG;
	expect_ok(cpu, 0xabcdef, ACC_WRITE, 0xabcdef, "paging off: identity");
}

/* Two 4 KiB pages with the same TLB index: the one a fill pushes out serves
 * the next access from the victim TLB (no walk: its A bit stays clear), and
 * INVLPG of it or a flush drops it there too. */
static void test_victim(struct cpu *cpu)
{
	u64 pt2 = 0x14000, a = 0x5000, b = a + ((u64)TLB_SIZE << 12) * 2;
	jmp_buf jb;
	build_tables(PTE_P | PTE_W);
	*pte(PD + 16) = pt2 | PTE_P | PTE_W;
	for (u64 i = 0; i < 512; i++)
		*pte(pt2 + i * 8) = ((0x400000 + (i << 12)) & ~0xfffull) | PTE_P | PTE_W;
	*(u64 *)(ram + 0x5000) = 0xaaaa;
	*(u64 *)(ram + 0x9000) = 0x9999;
	*(u64 *)(ram + b) = 0xbbbb;
	cpu->fault_jmp = &jb;
	if (setjmp(jb)) {
		report(false, "victim TLB: unexpected fault %d", cpu->fault.vector);
		return;
	}
	cpu_tlb_flush(cpu);
	bool ok = cpu_read_lin(cpu, a, 8) == 0xaaaa && cpu_read_lin(cpu, b, 8) == 0xbbbb;
	*pte(PT + 5 * 8) &= ~PTE_A;
	ok &= cpu_read_lin(cpu, a, 8) == 0xaaaa && cpu_read_lin(cpu, b, 8) == 0xbbbb;
	report(ok && !(*pte(PT + 5 * 8) & PTE_A) && !cpu->tlb_large,
	       "colliding pages in turn: the pushed-out entry serves without a walk");
	*pte(PT + 5 * 8) = 0x9000 | PTE_P | PTE_W;
	cpu_tlb_flush_page(cpu, a);
	report(cpu_read_lin(cpu, a, 8) == 0x9999, "INVLPG drops a pushed-out entry");
	(void)cpu_read_lin(cpu, b, 8);
	*pte(PT + 5 * 8) = 0x5000 | PTE_P | PTE_W;
	cpu_tlb_flush(cpu);
	report(cpu_read_lin(cpu, a, 8) == 0xaaaa, "a flush drops pushed-out entries");
	cpu->fault_jmp = NULL;
}

int main(void)
{
	struct accel_env env;
	ram = calloc(1, RAM);
	struct cpu *cpu = new_cpu(&env);
	test_basic(cpu);
	test_write_protect(cpu);
	test_nx_smep_smap(cpu);
	test_pkeys(cpu);
	test_shadow_stack(cpu);
	test_victim(cpu);
	test_legacy_modes(cpu);
	cpu_destroy(cpu);
	free(ram);
	return 0;
}
