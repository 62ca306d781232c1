/* paging_cpu.h: a CPU of the MMU unit tests, in 4-level paging at CPL 0. */
#ifndef CETVM_TEST_PAGING_CPU_H
#define CETVM_TEST_PAGING_CPU_H

#include <stdlib.h>

#include "cpu/cpu.h"

/* cpu_create() for env, then long mode with 4-level paging and CR3 = cr3
 * (CR0.WP, EFER.NXE), CPL 0, an empty TLB; aborts if it cannot. */
static inline struct cpu *paging_cpu(const struct accel_env *env, u64 cr3)
{
	struct cpu *cpu;
	if (cpu_create(&cpu, env))
		abort();
	cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = EFER_LME | EFER_LMA | EFER_NXE;
	cpu->cr3 = cr3;
	cpu->cpl = 0;
	cpu_update_mmu_idx(cpu);
	cpu_tlb_flush(cpu);
	return cpu;
}

#endif
