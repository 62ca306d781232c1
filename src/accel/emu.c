/* emu.c: the "emu" accelerator: cetvm's own CPU behind the vCPU interface. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/cet.h"
#include "../cpu/cpu.h"
#include "../cpu/exec.h"
#include "../cpu/msr.h"
#include "emu.h"

static const char *emu_unavailable(void)
{
	return NULL;
}

static int emu_create(struct vcpu **out, const struct accel_env *env, int id)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (id != 0) {
		free(v);
		return -EINVAL;
	}
	v->env = *env;
	int r = cpu_create(&v->cpu, &v->env);
	if (r) {
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

static void emu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	cpu_destroy(v->cpu);
	free(v);
}

static int emu_supported_cpuid(struct vcpu_cpuid *out)
{
	cpu_supported_cpuid(out);
	return 0;
}

static int emu_set_cpuid(struct vcpu *v, const struct vcpu_cpuid *c)
{
	if (c->n < 0 || c->n > VCPU_MAX_CPUID)
		return -E2BIG;
	cpu_set_cpuid(v->cpu, c);
	return 0;
}

static int emu_get_regs(struct vcpu *v, struct vcpu_regs *r)
{
	const u64 *g = v->cpu->r;
	*r = (struct vcpu_regs){
		g[R_AX], g[R_BX], g[R_CX], g[R_DX], g[R_SI], g[R_DI], g[R_SP], g[R_BP],
		g[R_R8], g[R_R9], g[R_R10], g[R_R11], g[R_R12], g[R_R13], g[R_R14], g[R_R15],
		v->cpu->rip, cpu_get_rflags(v->cpu),
	};
	return 0;
}

static int emu_set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
	struct cpu *cpu = v->cpu;
	const u64 in[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
			     r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	memcpy(cpu->r, in, sizeof(in));
	cpu->rip = cpu->next_rip = r->rip;
	cpu_set_rflags(cpu, r->rflags);
	cpu_update_mode(cpu);
	return 0;
}

static void seg_out(const struct seg *s, struct vcpu_segment *o)
{
	*o = (struct vcpu_segment){
		.base = s->base, .limit = s->limit, .selector = s->sel,
		.type = s->attr & 0xf, .s = !!(s->attr & SEG_ATTR_S),
		.dpl = (s->attr >> SEG_ATTR_DPL_SHIFT) & 3, .present = !!(s->attr & SEG_ATTR_P),
		.avl = !!(s->attr & SEG_ATTR_AVL), .l = !!(s->attr & SEG_ATTR_L),
		.db = !!(s->attr & SEG_ATTR_DB), .g = !!(s->attr & SEG_ATTR_G),
		.unusable = !!(s->attr & SEG_ATTR_UNUSABLE),
	};
}

static void seg_in(struct seg *s, const struct vcpu_segment *i)
{
	s->base = i->base;
	s->limit = i->limit;
	s->sel = i->selector;
	s->attr = (i->type & 0xfu) | (i->s ? SEG_ATTR_S : 0) |
		  ((u32)(i->dpl & 3) << SEG_ATTR_DPL_SHIFT) | (i->present ? SEG_ATTR_P : 0) |
		  (i->avl ? SEG_ATTR_AVL : 0) | (i->l ? SEG_ATTR_L : 0) |
		  (i->db ? SEG_ATTR_DB : 0) | (i->g ? SEG_ATTR_G : 0) |
		  (i->unusable ? SEG_ATTR_UNUSABLE : 0);
}

static int emu_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	struct cpu *cpu = v->cpu;
	struct vcpu_segment *out[SEG_COUNT] = { &s->es, &s->cs, &s->ss, &s->ds,
						&s->fs, &s->gs, &s->ldt, &s->tr };
	for (int i = 0; i < SEG_COUNT; i++)
		seg_out(&cpu->seg[i], out[i]);
	s->gdt = (struct vcpu_dtable){ cpu->gdtr.base, cpu->gdtr.limit };
	s->idt = (struct vcpu_dtable){ cpu->idtr.base, cpu->idtr.limit };
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->cr8 = cpu_read_cr8(cpu);
	s->efer = cpu->efer;
	u64 apic = 0;
	if (cpu->env->msr_read)
		cpu->env->msr_read(cpu->env->ctx, MSR_IA32_APIC_BASE, &apic);
	s->apic_base = apic;
	return 0;
}

/* Host SET_SREGS checks only reserved bits (spec/cet.md 2): CR4.CET is
 * reserved without SHSTK and IBT, but CET with WP=0 is accepted. */
static int emu_set_sregs(struct vcpu *v, const struct vcpu_sregs *s)
{
	struct cpu *cpu = v->cpu;
	bool cet_ok = cpu_has_feature(cpu, X86_FEATURE_SHSTK) || cpu_has_feature(cpu, X86_FEATURE_IBT);
	if ((s->cr4 & X86_CR4_CET) && !cet_ok)
		return -EINVAL;
	const struct vcpu_segment *in[SEG_COUNT] = { &s->es, &s->cs, &s->ss, &s->ds,
						     &s->fs, &s->gs, &s->ldt, &s->tr };
	for (int i = 0; i < SEG_COUNT; i++)
		seg_in(&cpu->seg[i], in[i]);
	cpu->gdtr = (struct dtable){ s->gdt.base, s->gdt.limit };
	cpu->idtr = (struct dtable){ s->idt.base, s->idt.limit };
	cpu->cr0 = s->cr0;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu_write_cr8(cpu, s->cr8 & 0xf);
	cpu->efer = s->efer;
	cpu->cpl = (cpu->seg[SEG_SS].attr >> SEG_ATTR_DPL_SHIFT) & 3;
	if (cpu->env->msr_write && s->apic_base)
		cpu->env->msr_write(cpu->env->ctx, MSR_IA32_APIC_BASE, s->apic_base);
	cpu_tlb_flush(cpu);
	exec_cache_flush(cpu);
	cpu_update_mode(cpu);
	return 0;
}

static int emu_get_msrs(struct vcpu *v, struct vcpu_msr *m, int n)
{
	for (int i = 0; i < n; i++)
		if (cpu_msr_host_read(v->cpu, m[i].index, &m[i].data))
			return i;
	return n;
}

static int emu_set_msrs(struct vcpu *v, const struct vcpu_msr *m, int n)
{
	for (int i = 0; i < n; i++)
		if (cpu_msr_host_write(v->cpu, m[i].index, m[i].data))
			return i;
	return n;
}

static int emu_get_xcr0(struct vcpu *v, u64 *xcr0)
{
	*xcr0 = v->cpu->xcr0;
	return 0;
}

static int emu_set_xcr0(struct vcpu *v, u64 xcr0)
{
	if (!(xcr0 & 1) || (xcr0 & ~v->cpu->xcr0_mask))
		return -EINVAL;
	v->cpu->xcr0 = xcr0;
	return 0;
}

static u64 emu_get_tsc(struct vcpu *v)
{
	return cpu_tsc(v->cpu);
}

static void emu_set_tsc(struct vcpu *v, u64 tsc)
{
	v->cpu->tsc_offset = tsc - v->cpu->icount;
}

/* One guest instruction is one TSC tick of a nominal 1 GHz clock. */
static u64 emu_tsc_hz(struct vcpu *v)
{
	(void)v;
	return 1000000000ull;
}

static void emu_set_deadline(struct vcpu *v, u64 tsc)
{
	struct cpu *cpu = v->cpu;
	/* A deadline before icount 0 (the TSC ran ahead of the instruction
	 * count: idle time, PAUSE) is due now, not 2^64 - x instructions away. */
	bool past = (s64)cpu->tsc_offset > 0 && tsc < cpu->tsc_offset;
	cpu_set_deadline(cpu, tsc == ~0ull ? ~0ull : past ? 0 : tsc - cpu->tsc_offset);
}

static u64 emu_icount(struct vcpu *v)
{
	return v->cpu->icount;
}

static int emu_run(struct vcpu *v, struct vcpu_exit *exit)
{
	cpu_run(v->cpu, exit);
	return 0;
}

static int emu_init(struct vcpu *v)
{
	cpu_reset(v->cpu, true);
	return 0;
}

const struct accel_ops accel_emu = {
	.name = "emu",
	.virtual_time = true,
	.unavailable = emu_unavailable,
	.create = emu_create,
	.destroy = emu_destroy,
	.get_supported_cpuid = emu_supported_cpuid,
	.set_cpuid = emu_set_cpuid,
	.get_regs = emu_get_regs,
	.set_regs = emu_set_regs,
	.get_sregs = emu_get_sregs,
	.set_sregs = emu_set_sregs,
	.get_msrs = emu_get_msrs,
	.set_msrs = emu_set_msrs,
	.get_xsave = emu_get_xsave,
	.set_xsave = emu_set_xsave,
	.get_xcr0 = emu_get_xcr0,
	.set_xcr0 = emu_set_xcr0,
	.get_one_reg = emu_get_one_reg,
	.set_one_reg = emu_set_one_reg,
	.get_reg_list = emu_get_reg_list,
	.get_events = emu_get_events,
	.set_events = emu_set_events,
	.get_debugregs = emu_get_debugregs,
	.set_debugregs = emu_set_debugregs,
	.get_msr_index_list = emu_msr_index_list,
	.get_tsc = emu_get_tsc,
	.set_tsc = emu_set_tsc,
	.set_deadline = emu_set_deadline,
	.tsc_hz = emu_tsc_hz,
	.icount = emu_icount,
	.run = emu_run,
	.init = emu_init,
};
