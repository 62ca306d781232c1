/* cet.h: Control-flow Enforcement Technology in one place (spec/cet.md).
 *
 * The predicates (shadow stack / IBT enabled at a CPL), the IBT tracker and
 * its check, and the shadow-stack operations. Instructions that CET affects
 * call these hooks, one line each.
 */
#ifndef CETVM_CET_H
#define CETVM_CET_H

#include "cpu.h"

/* CTL(c) of spec 0: U_CET at CPL 3, else S_CET. */
static inline u64 *cet_ctl(struct cpu *cpu, unsigned cpl)
{
	return cpl == 3 ? &cpu->cet.u_cet : &cpu->cet.s_cet;
}

static inline bool cet_pm(const struct cpu *cpu)
{
	return (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_EFLAGS_VM);
}

/* SSE(c): shadow stack enabled at CPL c. */
static inline bool cet_sse(struct cpu *cpu, unsigned cpl)
{
	return (cpu->cr4 & X86_CR4_CET) && cet_pm(cpu) && (*cet_ctl(cpu, cpl) & CET_SHSTK_EN);
}

/* IBTE(c): indirect branch tracking enabled at CPL c. */
static inline bool cet_ibte(struct cpu *cpu, unsigned cpl)
{
	return (cpu->cr4 & X86_CR4_CET) && cet_pm(cpu) && (*cet_ctl(cpu, cpl) & CET_ENDBR_EN);
}

/* The validity predicates of spec 3.3, shared by WRMSR, the host MSR API
 * and XRSTORS. canon() uses MAXLA of the supported CPUID, never the
 * guest's (spec 3.4). */
bool cet_canon(u64 v);
bool cet_valid_ctl(const struct cpu *cpu, u64 v); /* valid_cet: U_CET, S_CET */
bool cet_valid_ssp(u64 v);                        /* PL0..3_SSP, SSP */

/* Recompute the cached predicates after CR0/CR4/EFLAGS.VM/CPL/MSR changes. */
void cet_refresh(struct cpu *cpu);

/* True when the tracker of the current CPL waits for an ENDBR. */
static inline bool cet_tracker_armed(const struct cpu *cpu)
{
	return cpu->ibt_wait;
}

/* An indirect CALL or JMP that a specialized handler ran (fast_ops.c) may
 * leave its WAIT_FOR_ENDBRANCH pending instead of writing it into U_CET or
 * S_CET: if the next block starts with ENDBR, which would clear it again,
 * the run loop just drops it (exec.c). Whatever else happens first makes it
 * architectural here, before any other code can see the tracker. */
static inline void cet_settle(struct cpu *cpu)
{
	if (unlikely(cpu->ibt_pending)) {
		cpu->ibt_pending = false;
		*cet_ctl(cpu, cpu->cpl) |= CET_WAIT_ENDBR;
		cpu->ibt_wait = true;
	}
}

/* Near CALL / RET shadow-stack steps (spec 5.5). pop compares with the
 * return address from the normal stack and raises #CP(1) on mismatch.
 * SSP moves only when the access succeeds. The inline versions take the
 * 64-bit case through the TLB's shadow-stack tag (mmu.c). */
void cet_push_ret_slow(struct cpu *cpu, u64 ret);
void cet_pop_ret_slow(struct cpu *cpu, u64 ret);

static inline u8 *cet_ss_fast(struct cpu *cpu, u64 la, unsigned n)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	return tlb_host(e, e->sstag, la, n);
}

static inline void cet_push_ret(struct cpu *cpu, u64 ret)
{
	u64 la = cpu->cet.ssp - 8;
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (likely(cpu->m64 && tlb_hit(e->sstag, la, 8))) {
		store_le(tlb_ptr(e, la), 8, ret);
		cpu->cet.ssp = la;
		return;
	}
	cet_push_ret_slow(cpu, ret);
}

static inline void cet_pop_ret(struct cpu *cpu, u64 ret)
{
	u64 la = cpu->cet.ssp;
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (likely(cpu->m64 && tlb_hit(e->sstag, la, 8) && load_le(tlb_ptr(e, la), 8) == ret)) {
		cpu->cet.ssp = la + 8;
		return;
	}
	cet_pop_ret_slow(cpu, ret); /* also raises the #CP(1) with its evidence */
}

/* The far rule (spec 7.2): after a far CALL/JMP, call gate, INT n,
 * exception or interrupt delivery, SYSCALL, SYSENTER or task switch has
 * loaded the new CPL, arm that CPL's tracker (NOTRACK and SUPPRESS are
 * ignored; SUPPRESS is cleared). */
void cet_far_branch(struct cpu *cpu);

/* Near indirect CALL/JMP completed: arm the tracker (spec 7.2) unless IBT
 * is off or SUPPRESSed at this CPL, or NOTRACK applies. */
static inline void cet_indirect_branch(struct cpu *cpu, const struct insn *in)
{
	if (likely(!cpu->ibt_arm))
		return;
	u64 *ctl = cet_ctl(cpu, cpu->cpl);
	if ((in->flags & IF_NOTRACK) && (*ctl & CET_NO_TRACK_EN))
		return;
	*ctl |= CET_WAIT_ENDBR;
	cpu->ibt_wait = true;
}

/* The IBT check before the first instruction of a block (spec 7.3) when
 * that instruction is not the mode-correct ENDBR: INT3, the legacy
 * bitmap, or #CP(3). */
void cet_check_endbr(struct cpu *cpu, const struct insn *first);

/* The whole check, its common case inline: the branch target is the
 * mode-correct ENDBR, which runs next and cannot fault, so the tracker
 * retires now (TRACKER = IDLE, SUPPRESS = 0; spec 7.3 rule 1). */
static inline bool cet_is_endbr(const struct cpu *cpu, const struct insn *in)
{
	/* ENDBR64 (F3 0F 1E FA) in 64-bit mode, ENDBR32 (F3 0F 1E FB) outside it. */
	return in->map == 1 && in->op == 0x1e && (in->flags & IF_REP) &&
	       in->modrm == (cpu->m64 ? 0xfa : 0xfb);
}

static inline void cet_endbr_retire(struct cpu *cpu)
{
	*cet_ctl(cpu, cpu->cpl) &= ~(CET_WAIT_ENDBR | CET_SUPPRESS);
	cpu->ibt_wait = false;
	cpu->ibt_arm = true; /* IBT is on here (the tracker was waiting) */
}

static inline void cet_block_start(struct cpu *cpu, const struct insn *first)
{
	if (likely(cet_is_endbr(cpu, first))) {
		cet_endbr_retire(cpu);
		return;
	}
	cet_check_endbr(cpu, first);
}

#endif
