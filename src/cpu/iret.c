/* iret.c: IRET / IRETD / IRETQ (CF) in real, virtual-8086, protected and
 * IA-32e mode, with the NT = 1 task return (SDM Vol. 2 IRET; Vol. 3 6.14.3,
 * 7.3). */
#include "farxfer.h"

#include "cet.h"
#include "cet_insn.h"
#include "cet_xfer.h"
#include "ops.h"
#include "system.h"
#include "task.h"

/* EFLAGS an IRET in real mode may load: all but VM, VIF, VIP (SDM Vol. 2
 * IRET: "tempEFLAGS AND 257FD5H"). */
#define IRET_REAL_FLAGS 0x257fd5ull

static void iret_done(struct cpu *cpu, u64 rip)
{
	cpu->next_rip = rip;
	cpu_poll_irq(cpu); /* IF may have become 1 */
	cpu_break(cpu);
	/* NMI blocking would end here; the core has no NMI-blocked state yet. */
}

/* Real mode, and virtual-8086 mode with IOPL = 3 (IOPL then stays). */
static void iret_real(struct cpu *cpu, unsigned size, bool vm86)
{
	struct far_stack st;
	cpu_far_stack_cur(cpu, &st);
	u64 ip = cpu_far_pop(cpu, &st, size);
	u16 cs = (u16)cpu_far_pop(cpu, &st, size);
	u64 fl = cpu_far_pop(cpu, &st, size);
	if (ip > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0);
	u64 cur = cpu_get_rflags(cpu);
	u64 load = size == 2 ? 0xffff : IRET_REAL_FLAGS;
	if (vm86)
		load &= ~X86_EFLAGS_IOPL;
	cpu->r[R_SP] = st.sp;
	cpu_set_rflags(cpu, (cur & ~load) | (fl & load));
	cpu_set_seg_real(cpu, SEG_CS, cs);
	iret_done(cpu, ip);
}

/* The EFLAGS an IRET loads in protected mode, by the CPL and IOPL before
 * it (SDM Vol. 2 IRET, "RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL"). */
static u64 iret_flags(struct cpu *cpu, u64 fl, unsigned size)
{
	u64 cur = cpu_get_rflags(cpu);
	unsigned iopl = (cur >> 12) & 3;
	u64 mask = X86_EFLAGS_ARITH | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_NT;
	if (size > 2)
		mask |= X86_EFLAGS_RF | X86_EFLAGS_AC | X86_EFLAGS_ID;
	if (cpu->cpl <= iopl)
		mask |= X86_EFLAGS_IF;
	if (cpu->cpl == 0) {
		mask |= X86_EFLAGS_IOPL;
		if (size > 2)
			mask |= X86_EFLAGS_VIF | X86_EFLAGS_VIP;
	}
	return (cur & ~mask) | (fl & mask);
}

/* From CPL 0 of legacy protected mode to virtual-8086 mode: a 32-bit frame
 * with ESP, SS, ES, DS, FS, GS after EFLAGS. */
static void iret_to_vm86(struct cpu *cpu, struct far_stack *st, u64 ip, u16 cs, u64 fl)
{
	static const int segs[] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	u16 sel[ARRAY_SIZE(segs)];
	u64 sp = cpu_far_pop(cpu, st, 4);
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++)
		sel[i] = (u16)cpu_far_pop(cpu, st, 4);
	/* CET: with CR4.CET, no return to VM86 under U_CET.SH_STK_EN|ENDBR_EN
	 * (spec 5.8; SDM Vol. 2 IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
	if ((cpu->cr4 & X86_CR4_CET) && (cpu->cet.u_cet & (CET_SHSTK_EN | CET_ENDBR_EN)))
		cpu_gp(cpu, 0);
	cpu_set_rflags(cpu, fl);
	cpu->r[R_SP] = (u32)sp;
	cpu_set_seg_real(cpu, SEG_CS, cs);
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++)
		cpu_set_seg_real(cpu, segs[i], sel[i]);
	cpu->cpl = 3;
	cpu_update_mode(cpu);
	cpu_update_mmu_idx(cpu);
	iret_done(cpu, ip & 0xffff);
}

/* IRET to the same CPL (spec 5.10): pop and check the frame; leaving an
 * IST or other switched-to stack frees its token. At CPL 3 delivery
 * pushed nothing, so SSP = PL3_SSP. */
static u64 iret_ss_same(struct cpu *cpu, u16 sel, u64 lip, bool t64)
{
	u64 ssp = cpu->cet.ssp;
	if (!cet_sse(cpu, cpu->cpl))
		return ssp;
	if (cpu->cpl == 3)
		return cpu->cet.pl_ssp[3];
	u64 prev = cet_restore_frame(cpu, &ssp, cpu->cpl, sel, lip, t64);
	if (ssp != prev)
		cet_token_release(cpu, ssp);
	return prev;
}

/* The SS:rSP of an outer-level (or any 64-bit-mode) IRET. */
static void iret_pop_ss(struct cpu *cpu, struct far_stack *st, unsigned size, unsigned rpl,
			bool t64, struct seg *ss, u64 *sp)
{
	u64 ssd = 0;
	*sp = cpu_far_pop(cpu, st, size);
	u16 ss_sel = (u16)cpu_far_pop(cpu, st, size);
	if (cpu_far_check_ret_ss(cpu, ss_sel, rpl, t64, &ssd)) {
		cpu_desc_set_bits(cpu, ss_sel, ssd, DESC_ACCESSED);
		cpu_desc_to_seg(ss, ss_sel, ssd | DESC_ACCESSED);
	} else {
		cpu_far_null_ss(ss, ss_sel, rpl);
	}
}

/* Protected and IA-32e mode. In 64-bit mode IRET always pops SS:RSP. */
static void iret_prot(struct cpu *cpu, unsigned size)
{
	struct far_stack st;
	cpu_far_stack_cur(cpu, &st);
	u64 ip = cpu_far_pop(cpu, &st, size);
	u16 sel = (u16)cpu_far_pop(cpu, &st, size);
	u64 fl = cpu_far_pop(cpu, &st, size);
	if (size == 4 && (fl & X86_EFLAGS_VM) && cpu->cpl == 0 && !(cpu->efer & EFER_LMA)) {
		iret_to_vm86(cpu, &st, ip, sel, fl);
		return;
	}
	u64 d = cpu_far_check_ret_cs(cpu, sel);
	unsigned rpl = sel & 3, old_cpl = cpu->cpl;
	bool t64 = cpu_far_code64(cpu, d);
	bool pop_ss = rpl > old_cpl || cpu->m64;
	struct seg ss = cpu->seg[SEG_SS];
	u64 sp = st.sp;
	if (pop_ss)
		iret_pop_ss(cpu, &st, size, rpl, t64, &ss, &sp);
	cpu_far_check_target(cpu, d, ip);
	u64 nf = iret_flags(cpu, fl, size);
	/* CET: IRET shadow stack: same privilege spec 5.10, outer privilege spec 5.8 */
	u64 lip = cet_lip(desc_base(d), ip, t64);
	u64 ssp = rpl == old_cpl ? iret_ss_same(cpu, sel, lip, t64) : cet_ret_outer(cpu, sel, lip, t64);
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu->cet.ssp = ssp;
	cpu->seg[SEG_SS] = ss;
	cpu->r[R_SP] = sp;
	cpu_set_rflags(cpu, nf);
	cpu_far_load_cs(cpu, sel, d, rpl);
	if (rpl > old_cpl)
		cpu_far_null_data_segs(cpu);
	iret_done(cpu, ip);
}

/* NT = 1 in legacy protected mode: return to the task in the back link
 * of the current TSS (SDM Vol. 2 IRET, "TASK-RETURN"). */
static void iret_task(struct cpu *cpu)
{
	const struct seg *tr = &cpu->seg[SEG_TR];
	u16 link = (u16)cpu_read_slow(cpu, tr->base, 2, ACC_SUPER);
	if (link & 4)
		cpu_fault(cpu, X86_EXC_TS, sel_err(link));
	u64 d = cpu_read_desc(cpu, link, X86_EXC_TS);
	cpu_task_switch(cpu, link, d, TASK_IRET, cpu->next_rip, false, 0);
}

void op_iret(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr0 & X86_CR0_PE)) {
		iret_real(cpu, in->opsize, false);
	} else if (cpu->eflags & X86_EFLAGS_VM) {
		if (((cpu->eflags >> 12) & 3) < 3)
			cpu_gp(cpu, 0); /* no VME: IRET is IOPL-sensitive in VM86 */
		iret_real(cpu, in->opsize, true);
	} else if (cpu->eflags & X86_EFLAGS_NT) {
		if (cpu->efer & EFER_LMA)
			cpu_gp(cpu, 0);
		iret_task(cpu);
	} else {
		iret_prot(cpu, in->opsize);
	}
}
