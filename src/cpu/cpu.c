/* cpu.c: creating, resetting and configuring the interpreter CPU. */
#include "cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cet.h"
#include "exec.h"

int cpu_create(struct cpu **out, const struct accel_env *env)
{
	struct cpu *cpu = calloc(1, sizeof(*cpu));
	u64 pages = (env->ram_size + 0xfff) >> 12;
	if (!cpu)
		return -ENOMEM;
	cpu->n_touched = TLB_TOUCHED + 1; /* the first flush empties every entry */
	/* Whole pages only: the TLB, the fetch path and the block decoder map
	 * RAM a page at a time. */
	if (!mem_layout_ok(env->ram_size, env->ram_high) || env->ram_size % 4096 ||
	    env->ram_high % 4096) {
		free(cpu);
		return -EINVAL;
	}
	cpu->env = env;
	cpu->trace = env->trace;
	cpu->ram = env->ram;
	cpu->ram_size = env->ram_size;
	cpu->ram_high = env->ram_high;
	cpu->phys_mask = (1ull << 46) - 1;
	cpu->code_pages = calloc(pages + 1, 1);
	cpu->page_gen = calloc(pages + 1, sizeof(u32));
	if (!cpu->code_pages || !cpu->page_gen || exec_cache_create(cpu)) {
		cpu_destroy(cpu);
		return -ENOMEM;
	}
	cpu_reset(cpu, false);
	*out = cpu;
	return 0;
}

void cpu_destroy(struct cpu *cpu)
{
	if (!cpu)
		return;
	exec_cache_destroy(cpu);
	free(cpu->code_pages);
	free(cpu->page_gen);
	free(cpu);
}

static void reset_seg(struct seg *s, u16 sel, u64 base, u32 attr)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = attr;
}

static void reset_fpu(struct fpu_state *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = 0x37f;
	f->ftw = 0xffff;
	f->mxcsr = 0x1f80;
}

/* Power-on / INIT state (SDM Vol. 3 Table 10-1; spec/cet.md 1.3). */
void cpu_reset(struct cpu *cpu, bool init)
{
	u64 xss = cpu->xss;
	memset(cpu->r, 0, sizeof(cpu->r));
	cpu->r[R_DX] = 0x600; /* family 6 */
	cpu->rip = cpu->next_rip = 0xfff0;
	cpu->eflags = X86_EFLAGS_FIXED;
	cpu->cc_op = CC_EAGER;
	cpu->cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	cpu->xcr0 = XFEATURE_X87;
	cpu->xss = init ? xss : 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;
	for (int i = 0; i < SEG_COUNT; i++)
		reset_seg(&cpu->seg[i], 0, 0, SEG_ATTR_P | SEG_ATTR_S | 3);
	reset_seg(&cpu->seg[SEG_CS], 0xf000, 0xffff0000ull, SEG_ATTR_P | SEG_ATTR_S | 0xb);
	cpu->seg[SEG_LDTR].attr = SEG_ATTR_P | 2;
	cpu->seg[SEG_TR].attr = SEG_ATTR_P | 0xb;
	cpu->gdtr = (struct dtable){ 0, 0xffff };
	cpu->idtr = (struct dtable){ 0, 0xffff };
	cpu->cpl = 0;
	cpu->pat = 0x0007040600070406ull;
	cpu->star = cpu->lstar = cpu->cstar = cpu->fmask = cpu->kernel_gs_base = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	cpu->pkru = 0;
	/* SDM Vol. 4 Table 2-2: fast strings are enabled by default; BTS and
	 * PEBS are reported unavailable (read-only bits). INIT keeps MSRs. */
	if (!init)
		cpu->misc_enable = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL |
				   MISC_ENABLE_PEBS_UNAVAIL;
	cpu->smbase = 0x30000;
	memset(&cpu->cet, 0, sizeof(cpu->cet));
	reset_fpu(&cpu->fpu);
	cpu->halted = cpu->irq_shadow = cpu->shutdown = false;
	cpu->fault_nesting = 0;
	cpu->rollback.valid = false;
	/* RAM may be rewritten behind the CPU's back (the loader after a
	 * reset): forget decoded code. */
	exec_cache_flush(cpu);
	cpu_tlb_flush(cpu);
	cpu_update_mode(cpu);
}

static void cache_features(struct cpu *cpu)
{
	static const u32 leaves[5][2] = {
		[FL_1] = { 1, 0 }, [FL_7_0] = { 7, 0 }, [FL_7_1] = { 7, 1 },
		[FL_80000001] = { 0x80000001, 0 }, [FL_D_1] = { 0xd, 1 },
	};
	memset(cpu->feat, 0, sizeof(cpu->feat));
	for (int i = 0; i < 5; i++) {
		const struct vcpu_cpuid_entry *e = cpu_cpuid_entry(cpu, leaves[i][0], leaves[i][1]);
		if (!e)
			continue;
		cpu->feat[i][FR_EAX] = e->eax;
		cpu->feat[i][FR_EBX] = e->ebx;
		cpu->feat[i][FR_ECX] = e->ecx;
		cpu->feat[i][FR_EDX] = e->edx;
	}
}

void cpu_set_cpuid(struct cpu *cpu, const struct vcpu_cpuid *cpuid)
{
	cpu->cpuid = *cpuid;
	cache_features(cpu);
	const struct vcpu_cpuid_entry *d0 = cpu_cpuid_entry(cpu, 0xd, 0);
	const struct vcpu_cpuid_entry *d1 = cpu_cpuid_entry(cpu, 0xd, 1);
	cpu->xcr0_mask = d0 ? (d0->eax | (u64)d0->edx << 32) : XFEATURE_X87;
	/* guest_supported_xss (spec 1.1): the guest's bits within what cetvm
	 * supports. */
	cpu->xss_mask = d1 ? ((d1->ecx | (u64)d1->edx << 32) & (XFEATURE_CET_U | XFEATURE_CET_S)) : 0;
	const struct vcpu_cpuid_entry *pa = cpu_cpuid_entry(cpu, 0x80000008, 0);
	unsigned bits = pa ? (pa->eax & 0xff) : 36;
	cpu->phys_mask = (1ull << (bits ? bits : 36)) - 1;
	cpu_tlb_flush(cpu);
}

const struct vcpu_cpuid_entry *cpu_cpuid_entry(const struct cpu *cpu, u32 leaf, u32 sub)
{
	for (int i = 0; i < cpu->cpuid.n; i++) {
		const struct vcpu_cpuid_entry *e = &cpu->cpuid.e[i];
		if (e->function != leaf)
			continue;
		if (!(e->flags & VCPU_CPUID_SIGNIFICANT_INDEX) || e->index == sub)
			return e;
	}
	return NULL;
}

u64 cpu_tsc(const struct cpu *cpu)
{
	return cpu->icount + cpu->tsc_offset;
}

void cpu_add_tsc(struct cpu *cpu, u64 ticks)
{
	cpu->tsc_offset += ticks;
	if (cpu->deadline != ~0ull)
		cpu_set_deadline(cpu, cpu->deadline > ticks ? cpu->deadline - ticks : 0);
}
