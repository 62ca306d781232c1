/* test_sys.h: harness of the system-instruction tests (test_system.c,
 * test_farxfer.c): an interpreter CPU over 4 MiB of guest RAM with a GDT,
 * two TSSs, an LDT and identity page tables built at fixed physical
 * addresses; run_bytes() decodes and executes one instruction and returns
 * the vector it raised (NOFAULT if none), with its error code in last_err.
 * Paging is off in legacy protected mode, so linear = physical there; the
 * 64-bit setup maps the first 4 MiB 1:1 with user-accessible 2 MiB pages.
 */
#ifndef CETVM_TEST_SYS_H
#define CETVM_TEST_SYS_H

#pragma GCC diagnostic ignored "-Wunused-function"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "unit.h"

#define RAM_SIZE (4u << 20)
#define GDT_PA 0x1000u
#define TSS_A 0x2000u  /* 32-bit TSS of the running task; 64-bit TSS in long mode */
#define TSS_B 0x3000u  /* 32-bit TSS of the other task */
#define LDT_PA 0x4000u
#define PML4_PA 0x10000u
#define PDPT_PA 0x11000u
#define PD_PA 0x12000u
#define IOMAP_OFF 0x80u /* I/O bitmap offset inside TSS_A */

/* GDT selectors. */
enum {
	SEL_CODE32_0 = 0x08, SEL_DATA32_0 = 0x10, SEL_CODE32_3 = 0x18, SEL_DATA32_3 = 0x20,
	SEL_CODE64_0 = 0x28, SEL_CODE64_3 = 0x30, SEL_TSS_A = 0x38, SEL_TSS_B = 0x40,
	SEL_GATE32 = 0x48,  /* 32-bit call gate, DPL 3 -> SEL_CODE32_0:GATE_TARGET, 2 params */
	SEL_TASK_GATE = 0x50, /* task gate, DPL 3 -> SEL_TSS_B */
	SEL_CONF0 = 0x58,   /* conforming 32-bit code, DPL 0 */
	SEL_TSS64 = 0x60,   /* 16 bytes */
	SEL_GATE64 = 0x70,  /* 16 bytes: 64-bit call gate, DPL 3 -> SEL_CODE64_0:GATE_TARGET */
	SEL_LDT = 0x80,
	SEL_DATA16_3 = 0x88, /* 16-bit data, DPL 3, limit 0xffff */
	SEL_CODE32_1 = 0x90, SEL_DATA32_1 = 0x98,
	SEL_GDT_END = 0xa0,
};
#define GATE_TARGET 0x40000u
#define NOFAULT (-1)
#define SIG VCPU_CPUID_SIGNIFICANT_INDEX

static u8 *ram;
static struct bus mmio, pio;
static struct accel_env env;
static struct decode_table *dt;
static u32 last_err;

static u64 rd64(u64 pa) { u64 v; memcpy(&v, ram + pa, 8); return v; }
static u32 rd32(u64 pa) { u32 v; memcpy(&v, ram + pa, 4); return v; }
static u16 rd16(u64 pa) { u16 v; memcpy(&v, ram + pa, 2); return v; }
static void wr64(u64 pa, u64 v) { memcpy(ram + pa, &v, 8); }
static void wr32(u64 pa, u32 v) { memcpy(ram + pa, &v, 4); }
static void wr16(u64 pa, u16 v) { memcpy(ram + pa, &v, 2); }

/* access: P DPL S type byte; fl: G DB L AVL nibble. */
static u64 mkdesc(u32 base, u32 limit, unsigned access, unsigned fl)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)fl << 52) | ((u64)(base >> 24) << 56);
}

/* Gate: selector:offset (low 32 bits), access byte, parameter count. */
static u64 mkgate(u16 sel, u32 off, unsigned access, unsigned params)
{
	return (off & 0xffff) | ((u64)sel << 16) | ((u64)params << 32) | ((u64)access << 40) |
	       ((u64)(off >> 16) << 48);
}

static u64 gdt(u16 sel) { return rd64(GDT_PA + (sel & ~7u)); }
static void set_gdt(u16 sel, u64 d) { wr64(GDT_PA + (sel & ~7u), d); }

static void build_gdt(void)
{
	memset(ram + GDT_PA, 0, 0x100);
	set_gdt(SEL_CODE32_0, mkdesc(0, 0xfffff, 0x9b, 0xc));
	set_gdt(SEL_DATA32_0, mkdesc(0, 0xfffff, 0x93, 0xc));
	set_gdt(SEL_CODE32_3, mkdesc(0, 0xfffff, 0xfb, 0xc));
	set_gdt(SEL_DATA32_3, mkdesc(0, 0xfffff, 0xf3, 0xc));
	set_gdt(SEL_CODE64_0, mkdesc(0, 0xfffff, 0x9b, 0xa));
	set_gdt(SEL_CODE64_3, mkdesc(0, 0xfffff, 0xfb, 0xa));
	set_gdt(SEL_TSS_A, mkdesc(TSS_A, IOMAP_OFF + 0x2000 / 8, 0x89, 0));
	set_gdt(SEL_TSS_B, mkdesc(TSS_B, 0x67, 0x89, 0));
	set_gdt(SEL_GATE32, mkgate(SEL_CODE32_0, GATE_TARGET, 0xec, 2));
	set_gdt(SEL_TASK_GATE, mkgate(SEL_TSS_B, 0, 0xe5, 0));
	set_gdt(SEL_CONF0, mkdesc(0, 0xfffff, 0x9f, 0xc));
	set_gdt(SEL_TSS64, mkdesc(TSS_A, 0x67, 0x89, 0));
	set_gdt(SEL_GATE64, mkgate(SEL_CODE64_0, GATE_TARGET, 0xec, 0));
	set_gdt(SEL_LDT, mkdesc(LDT_PA, 0x17, 0x82, 0));
	set_gdt(SEL_DATA16_3, mkdesc(0, 0xffff, 0xf3, 0));
	set_gdt(SEL_CODE32_1, mkdesc(0, 0xfffff, 0xbb, 0xc));
	set_gdt(SEL_DATA32_1, mkdesc(0, 0xfffff, 0xb3, 0xc));
}

/* A guest CPUID with everything the system family looks at. */
static void make_cpuid(struct vcpu_cpuid *c, bool shstk, bool ibt)
{
	const struct vcpu_cpuid_entry e[] = {
		{ 0x0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 },
		/* ECX: PCID x2APIC XSAVE RDRAND; EDX: FPU VME DE PSE TSC MSR PAE
		 * MCE APIC SEP MTRR PGE PAT CLFSH FXSR SSE SSE2. APIC ID 5. */
		{ 0x1, 0, 0, 0x806c1, 0x05010800, 0x44220000, 0x0789bbff },
		/* EBX: FSGSBASE SMEP INVPCID RDSEED SMAP CLFLUSHOPT CLWB; ECX:
		 * UMIP PKU RDPID (+CET_SS); EDX: (+CET_IBT). */
		{ 0x7, 0, SIG, 0, 0x01940481, 0x0040000c | (shstk ? 0x80 : 0), ibt ? 0x00100000 : 0 },
		{ 0xd, 0, SIG, 0x7, 0, 832, 0 },
		{ 0xd, 1, SIG, 0xf, 0, 0x1800, 0 },
		{ 0xd, 2, SIG, 256, 576, 0, 0 },
		{ 0xd, 11, SIG, 16, 0, 1, 0 },
		{ 0xd, 12, SIG, 24, 0, 1, 0 },
		{ 0x80000000, 0, 0, 0x80000008, 0, 0, 0 },
		{ 0x80000001, 0, 0, 0, 0, 1, 0x28100800 }, /* SYSCALL NX RDTSCP LM */
		{ 0x80000008, 0, 0, 0x3027, 0, 0, 0 },
	};
	memset(c, 0, sizeof(*c));
	c->n = (int)ARRAY_SIZE(e);
	memcpy(c->e, e, sizeof(e));
}

static struct cpu *new_cpu(bool shstk, bool ibt)
{
	struct cpu *cpu;
	struct vcpu_cpuid c;
	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		bus_init(&mmio, "mmio");
		bus_init(&pio, "pio");
		dt = decode_table_create();
	}
	memset(ram, 0, RAM_SIZE);
	memset(&env, 0, sizeof(env));
	env.mmio = &mmio;
	env.pio = &pio;
	env.ram = ram;
	env.ram_size = RAM_SIZE;
	if (cpu_create(&cpu, &env))
		abort();
	make_cpuid(&c, shstk, ibt);
	cpu_set_cpuid(cpu, &c);
	build_gdt();
	return cpu;
}

static void load(struct cpu *cpu, int seg, u16 sel)
{
	cpu_desc_to_seg(&cpu->seg[seg], sel, gdt(sel) | (1ull << 40));
}

/* Flat 32-bit protected mode at `cpl`, paging off, TR = TSS_A (busy). */
static void setup_pm32(struct cpu *cpu, unsigned cpl)
{
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_WP;
	cpu->cr4 = 0;
	cpu->efer = 0;
	cpu->gdtr = (struct dtable){ GDT_PA, SEL_GDT_END - 1 };
	cpu->eflags = X86_EFLAGS_FIXED;
	cpu->cc_op = CC_EAGER;
	load(cpu, SEG_CS, cpl ? SEL_CODE32_3 | 3 : SEL_CODE32_0);
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			load(cpu, s, cpl ? SEL_DATA32_3 | 3 : SEL_DATA32_0);
	set_gdt(SEL_TSS_A, gdt(SEL_TSS_A) | (2ull << 40));
	load(cpu, SEG_TR, SEL_TSS_A);
	cpu->seg[SEG_LDTR] = (struct seg){ .attr = SEG_ATTR_UNUSABLE };
	wr16(TSS_A + 0x66, IOMAP_OFF);
	cpu->cpl = (u8)cpl;
	cpu->rip = 0x1000;
	cpu->r[R_SP] = 0x8000;
	cpu_update_mode(cpu);
	cpu_tlb_flush(cpu);
}

/* 64-bit mode at `cpl`: 4-level paging, 0-4 MiB identity (user pages). */
static void setup_long(struct cpu *cpu, unsigned cpl)
{
	setup_pm32(cpu, cpl);
	memset(ram + PML4_PA, 0, 0x3000);
	wr64(PML4_PA, PDPT_PA | PTE_P | PTE_W | PTE_U);
	wr64(PDPT_PA, PD_PA | PTE_P | PTE_W | PTE_U);
	wr64(PD_PA, 0 | PTE_P | PTE_W | PTE_U | PTE_PS);
	wr64(PD_PA + 8, 0x200000 | PTE_P | PTE_W | PTE_U | PTE_PS);
	cpu->cr3 = PML4_PA;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
	cpu->cr0 |= X86_CR0_PG;
	load(cpu, SEG_CS, cpl ? SEL_CODE64_3 | 3 : SEL_CODE64_0);
	set_gdt(SEL_TSS64, gdt(SEL_TSS64) | (2ull << 40));
	wr64(GDT_PA + SEL_TSS64 + 8, 0);
	load(cpu, SEG_TR, SEL_TSS64);
	cpu->cpl = (u8)cpl;
	cpu_update_mode(cpu);
	cpu_tlb_flush(cpu);
}

static unsigned code_size(const struct cpu *cpu)
{
	if (cpu->m64)
		return 8;
	if ((cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_EFLAGS_VM) &&
	    (cpu->seg[SEG_CS].attr & SEG_ATTR_DB))
		return 4;
	return 2;
}

/* Decode and execute one instruction as the run loop does; a fault rolls
 * back what cpu_save_rollback() recorded and returns the vector. */
static int run_bytes(struct cpu *cpu, const u8 *b, unsigned n)
{
	struct insn in;
	jmp_buf jb;
	int len = decode_insn(dt, b, n, code_size(cpu), &in);
	last_err = 0;
	if (len == DEC_UD || len == DEC_INVALID)
		return X86_EXC_UD;
	if (len < 0)
		return 100 - len;
	cpu->fault_jmp = &jb;
	cpu->rollback.valid = false;
	if (setjmp(jb)) {
		if (cpu->rollback.valid) {
			cpu->r[R_SP] = cpu->rollback.rsp;
			cpu->cet.ssp = cpu->rollback.ssp;
			cpu->cpl = cpu->rollback.cpl;
			cpu->rollback.valid = false;
		}
		last_err = cpu->fault.error;
		return cpu->fault.vector;
	}
	cpu->next_rip = cpu->rip + (u64)len;
	in.exec(cpu, &in);
	cpu->rip = cpu->next_rip;
	return NOFAULT;
}

#define RUN(cpu, ...) run_bytes(cpu, (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }))

/* "ran without a fault" / "raised vector v with error e" reports. */
#define EXPECT_OK(r, ...) report((r) == NOFAULT, __VA_ARGS__)
#define EXPECT_FAULT(r, v, e, ...) report((r) == (v) && last_err == (u32)(e), __VA_ARGS__)

#endif
