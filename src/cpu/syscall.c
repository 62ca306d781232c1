/* syscall.c: fast system calls SYSCALL/SYSRET (64-bit mode) and
 * SYSENTER/SYSEXIT (SDM Vol. 2 SYSCALL, SYSRET, SYSENTER, SYSEXIT). The
 * segments are loaded flat from the MSRs without reading descriptors. */
#include "cet.h"
#include "cet_xfer.h"
#include "farxfer.h"
#include "ops.h"
#include "system.h"

#define SEG_TYPE_CODE 0xb /* execute/read, accessed */
#define SEG_TYPE_DATA 0x3 /* read/write, accessed */

/* A flat 4 GiB segment as these instructions load it. */
static void flat_seg(struct seg *s, u16 sel, unsigned type, unsigned dpl, bool l, bool db)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->attr = type | SEG_ATTR_S | (dpl << SEG_ATTR_DPL_SHIFT) | SEG_ATTR_P | SEG_ATTR_G |
		  (l ? SEG_ATTR_L : 0) | (db ? SEG_ATTR_DB : 0);
}

/* CS/SS, CPL and the mode after the flat loads. */
/* SYSCALL / SYSENTER after CPL = 0 (spec 5.11): if SSE(old CPL), PL3_SSP
 * = SSP (whatever the old CPL); if SSE(0), SSP = 0 (the kernel then runs
 * SETSSBSY); then the IBT far rule for CPL 0 (spec 7.2). Nothing here can
 * fault. */
static void cet_enter_kernel(struct cpu *cpu, unsigned old_cpl)
{
	if (cet_sse(cpu, old_cpl))
		cpu->cet.pl_ssp[3] = cpu->cet.ssp;
	if (cet_sse(cpu, 0))
		cpu->cet.ssp = 0;
	cet_far_branch(cpu);
}

/* SYSRET / SYSEXIT after CPL = 3: SSP = PL3_SSP if SSE(3); no IBT effect. */
static void cet_leave_kernel(struct cpu *cpu)
{
	if (cet_sse(cpu, 3))
		cpu->cet.ssp = cpu->cet.pl_ssp[3];
}

static void enter_cpl(struct cpu *cpu, unsigned cpl, u64 rip)
{
	cpu->cpl = (u8)cpl;
	cpu_update_mode(cpu);
	cpu_update_mmu_idx(cpu);
	cpu->next_rip = rip;
	cpu_break(cpu);
}

/* Intel: SYSCALL and SYSRET exist in 64-bit mode only (#UD elsewhere, and
 * without EFER.SCE); IA32_CSTAR is storage only. */
static void check_syscall_mode(struct cpu *cpu)
{
	if (!cpu->m64 || !(cpu->efer & EFER_SCE))
		cpu_ud(cpu);
}

void op_syscall(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	check_syscall_mode(cpu);
	u16 sel = (u16)(cpu->star >> 32) & 0xfffc;
	u64 fl = cpu_get_rflags(cpu);
	cpu->r[R_CX] = cpu->next_rip;
	cpu->r[R_R11] = fl;
	cpu_set_rflags(cpu, fl & ~((u32)cpu->fmask | X86_EFLAGS_RF));
	flat_seg(&cpu->seg[SEG_CS], sel, SEG_TYPE_CODE, 0, true, false);
	flat_seg(&cpu->seg[SEG_SS], (u16)(sel + 8), SEG_TYPE_DATA, 0, false, true);
	unsigned old_cpl = cpu->cpl;
	enter_cpl(cpu, 0, cpu->lstar);
	cet_enter_kernel(cpu, old_cpl);
}

/* SYSRET: to 64-bit code with REX.W (RCX must be canonical), else to
 * compatibility mode; RFLAGS from R11 (SDM Vol. 2 SYSRET). */
void op_sysret(struct cpu *cpu, const struct insn *in)
{
	check_syscall_mode(cpu);
	cpu_require_cpl0(cpu);
	bool to64 = in->opsize == 8;
	u64 rip = to64 ? cpu->r[R_CX] : (u32)cpu->r[R_CX];
	if (to64 && cpu_canonical(rip) != rip)
		cpu_gp(cpu, 0);
	/* CET: SYSRET to compatibility mode: #GP(0) if PL3_SSP[63:32] != 0 (spec 5.11) */
	if (cet_sse(cpu, 3))
		cet_check_ssp32(cpu, cpu->cet.pl_ssp[3], to64);
	u16 base = (u16)(cpu->star >> 48);
	if (to64)
		flat_seg(&cpu->seg[SEG_CS], (u16)((base + 16) | 3), SEG_TYPE_CODE, 3, true, false);
	else
		flat_seg(&cpu->seg[SEG_CS], base | 3, SEG_TYPE_CODE, 3, false, true);
	flat_seg(&cpu->seg[SEG_SS], (u16)((base + 8) | 3), SEG_TYPE_DATA, 3, false, true);
	cpu_set_rflags(cpu, (cpu->r[R_R11] & 0x3c7fd7ull) | X86_EFLAGS_FIXED);
	enter_cpl(cpu, 3, rip);
	cet_leave_kernel(cpu); /* SSP = PL3_SSP if SSE(3) (spec 5.11) */
	cpu_poll_irq(cpu);
}

/* SYSENTER: CPL 0 flat segments from IA32_SYSENTER_CS; 64-bit code when
 * IA-32e mode is active. */
void op_sysenter(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u16 sel = (u16)cpu->sysenter_cs & 0xfffc;
	bool lma = cpu->efer & EFER_LMA;
	if (!(cpu->cr0 & X86_CR0_PE) || !sel)
		cpu_gp(cpu, 0);
	cpu_set_rflags(cpu, cpu_get_rflags(cpu) &
				    ~(X86_EFLAGS_VM | X86_EFLAGS_IF | X86_EFLAGS_RF));
	flat_seg(&cpu->seg[SEG_CS], sel, SEG_TYPE_CODE, 0, lma, !lma);
	flat_seg(&cpu->seg[SEG_SS], (u16)(sel + 8), SEG_TYPE_DATA, 0, false, true);
	cpu->r[R_SP] = lma ? cpu->sysenter_esp : (u32)cpu->sysenter_esp;
	unsigned old_cpl = cpu->cpl;
	enter_cpl(cpu, 0, lma ? cpu->sysenter_eip : (u32)cpu->sysenter_eip);
	cet_enter_kernel(cpu, old_cpl);
}

/* SYSEXIT: to CPL 3; REX.W selects 64-bit code (RCX, RDX canonical). */
void op_sysexit(struct cpu *cpu, const struct insn *in)
{
	u16 cs = (u16)cpu->sysenter_cs;
	bool to64 = in->opsize == 8;
	if (!(cpu->cr0 & X86_CR0_PE) || !(cs & 0xfffc) || cpu->cpl)
		cpu_gp(cpu, 0);
	u64 sp = to64 ? cpu->r[R_CX] : (u32)cpu->r[R_CX];
	u64 rip = to64 ? cpu->r[R_DX] : (u32)cpu->r[R_DX];
	if (to64 && (cpu_canonical(sp) != sp || cpu_canonical(rip) != rip))
		cpu_gp(cpu, 0);
	/* CET: SYSEXIT to 32-bit code: #GP(0) if PL3_SSP[63:32] != 0 (spec 5.11 default) */
	if (cet_sse(cpu, 3))
		cet_check_ssp32(cpu, cpu->cet.pl_ssp[3], to64);
	unsigned off = to64 ? 32 : 16;
	flat_seg(&cpu->seg[SEG_CS], (u16)((cs + off) | 3), SEG_TYPE_CODE, 3, to64, !to64);
	flat_seg(&cpu->seg[SEG_SS], (u16)((cs + off + 8) | 3), SEG_TYPE_DATA, 3, false, true);
	cpu->r[R_SP] = sp;
	enter_cpl(cpu, 3, rip);
	cet_leave_kernel(cpu); /* SSP = PL3_SSP if SSE(3) (spec 5.11) */
}
