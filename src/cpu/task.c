/* task.c: hardware task switches in legacy protected mode (SDM Vol. 3 7.3)
 * for JMP/CALL to a TSS or task gate, IRET with NT = 1 and IDT task gates;
 * 16- and 32-bit TSSs. */
#include "task.h"

#include <string.h>

#include "cet.h"
#include "cet_insn.h"
#include "cet_xfer.h"
#include "farxfer.h"

/* Where a TSS keeps each register (SDM Vol. 3 Figures 7-2 and 7-11). */
struct tss_layout {
	unsigned w; /* register width: 2 or 4 */
	unsigned eip, eflags, gpr, seg, nseg, ldt;
	u32 min_limit;
};
static const struct tss_layout tss32 = { 4, 0x20, 0x24, 0x28, 0x48, 6, 0x60, 0x67 };
static const struct tss_layout tss16 = { 2, 0x0e, 0x10, 0x12, 0x22, 4, 0x2a, 0x2b };
#define TSS32_CR3 0x1c
#define TSS_LINK 0x00
#define TSS32_SSP 0x68 /* CET: the new task's SSP (spec 5.12) */
#define TSS32_CET_MIN_LIMIT 0x6b

/* The state of the incoming task, read before anything commits. */
struct task_state {
	u64 eip, eflags, cr3;
	u64 gpr[8];
	u16 seg[6]; /* ES CS SS DS FS GS; a 16-bit TSS has no FS, GS (0) */
	u16 ldt;
};

static const struct tss_layout *layout(unsigned type)
{
	return (type & 8) ? &tss32 : &tss16;
}

static u64 tss_rd(struct cpu *cpu, u64 base, unsigned off, unsigned size)
{
	return cpu_read_slow(cpu, (base + off) & 0xffffffffull, size, ACC_SUPER);
}

static void tss_wr(struct cpu *cpu, u64 base, unsigned off, unsigned size, u64 v)
{
	cpu_write_slow(cpu, (base + off) & 0xffffffffull, size, v, ACC_SUPER);
}

/* The new TSS: type and busy state, present, limit. IRET wants a busy
 * TSS (#TS otherwise), JMP/CALL/INT an available one (#GP). */
static void check_new_tss(struct cpu *cpu, u16 sel, u64 desc, enum task_reason why)
{
	unsigned type = desc_type(desc), avail = type & ~2u;
	bool is_tss = !desc_s(desc) && (avail == DESC_TSS16 || avail == DESC_TSS32);
	bool busy = type & 2;
	int vec = why == TASK_IRET ? X86_EXC_TS : X86_EXC_GP;
	if (!is_tss || (why == TASK_IRET ? !busy : busy))
		cpu_fault(cpu, vec, sel_err(sel));
	if (!desc_present(desc))
		cpu_fault(cpu, X86_EXC_NP, sel_err(sel));
	if (desc_limit(desc) < layout(type)->min_limit)
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	/* CET: with CR4.CET, a 16-bit TSS or a limit below 0x6B is #TS(sel) (spec 5.12) */
	if ((cpu->cr4 & X86_CR4_CET) &&
	    (layout(type) != &tss32 || desc_limit(desc) < TSS32_CET_MIN_LIMIT))
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
}

static void read_task(struct cpu *cpu, u64 base, const struct tss_layout *l,
		      struct task_state *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->eip = tss_rd(cpu, base, l->eip, l->w);
	ts->eflags = tss_rd(cpu, base, l->eflags, l->w);
	for (unsigned i = 0; i < 8; i++)
		ts->gpr[i] = tss_rd(cpu, base, l->gpr + i * l->w, l->w);
	for (unsigned i = 0; i < l->nseg; i++)
		ts->seg[i] = (u16)tss_rd(cpu, base, l->seg + i * l->w, 2);
	ts->ldt = (u16)tss_rd(cpu, base, l->ldt, 2);
	if (l == &tss32)
		ts->cr3 = tss_rd(cpu, base, TSS32_CR3, 4);
}

/* Save the outgoing task in its TSS, then the busy bits and back link
 * (SDM Vol. 3 7.3 steps 8-10, Table 7-2). */
static void leave_old_task(struct cpu *cpu, u16 sel, u64 desc, u64 new_base,
			   enum task_reason why, u64 ret_eip)
{
	const struct seg *tr = &cpu->seg[SEG_TR];
	const struct tss_layout *l = layout(tr->attr & SEG_ATTR_TYPE);
	u64 fl = cpu_get_rflags(cpu);
	if (why == TASK_IRET)
		fl &= ~X86_EFLAGS_NT;
	tss_wr(cpu, tr->base, l->eip, l->w, ret_eip);
	tss_wr(cpu, tr->base, l->eflags, l->w, fl);
	for (unsigned i = 0; i < 8; i++)
		tss_wr(cpu, tr->base, l->gpr + i * l->w, l->w, cpu->r[i]);
	for (unsigned i = 0; i < l->nseg; i++)
		tss_wr(cpu, tr->base, l->seg + i * l->w, 2, cpu->seg[i].sel);
	if (why == TASK_JMP || why == TASK_IRET) {
		u64 od = cpu_read_desc(cpu, tr->sel, X86_EXC_GP);
		cpu_desc_update(cpu, tr->sel, od, od & ~DESC_BUSY);
	}
	if (why == TASK_CALL || why == TASK_INT)
		tss_wr(cpu, new_base, TSS_LINK, 2, tr->sel);
	if (why != TASK_IRET)
		cpu_desc_set_bits(cpu, sel, desc, DESC_BUSY);
}

/* Commit point: TR, CR0.TS, CR3, EFLAGS, EIP and the registers of the
 * new task. Faults after this are raised in the new task. */
static void enter_new_task(struct cpu *cpu, u16 sel, u64 desc, const struct tss_layout *l,
			   const struct task_state *ts, enum task_reason why)
{
	u64 fl = ts->eflags;
	cpu_desc_to_seg(&cpu->seg[SEG_TR], sel, desc | DESC_BUSY);
	cpu->cr0 |= X86_CR0_TS;
	if (l == &tss32 && (cpu->cr0 & X86_CR0_PG) && !cpu_write_cr3(cpu, ts->cr3))
		cpu_gp(cpu, 0);
	if (why == TASK_CALL || why == TASK_INT)
		fl |= X86_EFLAGS_NT;
	cpu_set_rflags(cpu, l->w == 2 ? fl & 0xffff : fl);
	for (unsigned i = 0; i < 8; i++)
		cpu->r[i] = l->w == 2 ? (cpu->r[i] & ~0xffffull) | ts->gpr[i] : ts->gpr[i];
	for (unsigned i = 0; i < 6; i++)
		cpu->seg[i].sel = ts->seg[i];
	cpu->rip = cpu->next_rip = ts->eip;
	cpu->cpl = (cpu->eflags & X86_EFLAGS_VM) ? 3 : ts->seg[SEG_CS] & 3;
	cpu_update_mode(cpu);
	cpu_save_rollback(cpu);
}

static void load_ldt(struct cpu *cpu, u16 sel)
{
	struct seg *ldtr = &cpu->seg[SEG_LDTR];
	if (!(sel & 0xfffc)) {
		*ldtr = (struct seg){ .sel = sel, .attr = SEG_ATTR_UNUSABLE };
		return;
	}
	if (sel & 4)
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_TS);
	if (desc_s(d) || desc_type(d) != DESC_LDT || !desc_present(d))
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	cpu_desc_to_seg(ldtr, sel, d);
}

/* Is `d` wrong for segment register `seg` of the new task (#TS)? */
static bool seg_bad(const struct cpu *cpu, int seg, u16 sel, u64 d)
{
	unsigned rpl = sel & 3, dpl = desc_dpl(d);
	if (seg == SEG_CS)
		return !desc_code(d) || (desc_conforming(d) ? dpl > rpl : dpl != rpl);
	if (seg == SEG_SS)
		return !desc_writable(d) || rpl != cpu->cpl || dpl != cpu->cpl;
	return !desc_s(d) || !desc_readable(d) ||
	       (!desc_conforming(d) && (dpl < cpu->cpl || dpl < rpl));
}

/* Descriptor loads of the new task (SDM Vol. 3 7.3 step 13: #TS, #NP, #SS
 * in the context of the new task). */
static void load_seg(struct cpu *cpu, int seg, u16 sel)
{
	struct seg *s = &cpu->seg[seg];
	if (!(sel & 0xfffc)) {
		if (seg == SEG_CS || seg == SEG_SS)
			cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
		*s = (struct seg){ .sel = sel, .attr = SEG_ATTR_UNUSABLE };
		return;
	}
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_TS);
	if (seg_bad(cpu, seg, sel, d))
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, seg == SEG_SS ? X86_EXC_SS : X86_EXC_NP, sel_err(sel));
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu_desc_to_seg(s, sel, d | DESC_ACCESSED);
}

static void load_segments(struct cpu *cpu, const struct task_state *ts)
{
	static const int order[] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	load_ldt(cpu, ts->ldt);
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
		if (cpu->eflags & X86_EFLAGS_VM)
			cpu_set_seg_real(cpu, order[i], ts->seg[order[i]]);
		else
			load_seg(cpu, order[i], ts->seg[order[i]]);
	}
	cpu_update_mode(cpu);
}

/* The shadow-stack side of a task switch (spec 5.12), gathered before the
 * commit point and finished after the new state is loaded. */
struct task_cet {
	bool frame;     /* CALL/INT: push (cs, lip, ssp) on the new stack */
	u16 cs;
	u64 lip, ssp;
	bool popped;    /* IRET: the frame to check against the new CS:EIP */
	u64 pcs, plip;
	u64 temp_ssp;   /* IRET: the SSP of the task returned to */
	u64 new_ssp;    /* CALL/JMP/INT: TSS+0x68 */
};

/* Before the commit point: read the new SSP, and for IRET pop and check
 * alignment of the frame and free the token the current task runs on.
 * Only shadow-stack memory changes here. */
static void task_cet_before(struct cpu *cpu, struct task_cet *tc, u64 new_base,
			    const struct task_state *ts, enum task_reason why, u64 ret_eip)
{
	unsigned cpl = cpu->cpl;
	unsigned ncpl = (ts->eflags & X86_EFLAGS_VM) ? 3 : ts->seg[SEG_CS] & 3;
	memset(tc, 0, sizeof(*tc));
	tc->temp_ssp = cpu->cet.ssp;
	if (!(cpu->cr4 & X86_CR4_CET))
		return;
	if (why != TASK_IRET)
		tc->new_ssp = tss_rd(cpu, new_base, TSS32_SSP, 4);
	if (!cet_sse(cpu, cpl))
		return;
	u64 ssp = cpu->cet.ssp;
	if (why == TASK_CALL || why == TASK_INT) {
		if (!(ncpl < cpl && cpl == 3)) {
			tc->frame = true;
			tc->cs = cpu->seg[SEG_CS].sel;
			tc->lip = cet_lip(cpu->seg[SEG_CS].base, ret_eip, false);
			tc->ssp = ssp;
		}
	} else if (why == TASK_IRET) {
		if (ncpl == cpl || ncpl < 3) {
			unsigned acc = cet_ss_acc(cpl);
			if (ssp & 7)
				cet_cp_far(cpu, "SSP not 8-aligned", ssp, 0);
			tc->temp_ssp = cpu_read_slow(cpu, ssp, 8, acc);
			tc->plip = cpu_read_slow(cpu, ssp + 8, 8, acc);
			tc->pcs = cpu_read_slow(cpu, ssp + 16, 8, acc);
			tc->popped = true;
			ssp += 24;
		} else {
			tc->temp_ssp = cpu->cet.pl_ssp[3];
		}
		cet_token_release(cpu, ssp);
	}
}

/* Register side effects right before the commit point. */
static void task_cet_commit(struct cpu *cpu, const struct task_state *ts,
			    enum task_reason why)
{
	unsigned cpl = cpu->cpl;
	unsigned ncpl = (ts->eflags & X86_EFLAGS_VM) ? 3 : ts->seg[SEG_CS] & 3;
	if (!cet_sse(cpu, cpl))
		return;
	if ((why == TASK_CALL || why == TASK_INT) && ncpl < cpl && cpl == 3)
		cpu->cet.pl_ssp[3] = cpu->cet.ssp;
	if (why == TASK_IRET)
		cpu->cet.ssp = 0;
}

/* After the new state is loaded (faults are in the new task). */
static void task_cet_after(struct cpu *cpu, const struct task_cet *tc, u16 sel,
			   enum task_reason why)
{
	if (!(cpu->cr4 & X86_CR4_CET))
		return;
	unsigned cpl = cpu->cpl;
	bool sse = cet_sse(cpu, cpl);
	if ((cpu->eflags & X86_EFLAGS_VM) &&
	    (cpu->cet.u_cet & (CET_SHSTK_EN | CET_ENDBR_EN)))
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	if (why != TASK_IRET) {
		if (sse) {
			if (tc->new_ssp & 7)
				cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
			u64 ssp = cet_switch_to(cpu, tc->new_ssp, false);
			if (tc->frame)
				ssp = cet_push_frame(cpu, ssp, cpl, tc->cs, tc->lip, tc->ssp);
			cpu->cet.ssp = ssp;
		}
		cet_far_branch(cpu); /* spec 7.2 */
		return;
	}
	if (tc->popped) {
		u64 lip = cet_lip(cpu->seg[SEG_CS].base, cpu->rip, false);
		if (tc->pcs != cpu->seg[SEG_CS].sel)
			cet_cp_far(cpu, "CS differs from the shadow stack", cpu->seg[SEG_CS].sel,
				   tc->pcs);
		if (tc->plip != lip)
			cet_cp_far(cpu, "LIP differs from the shadow stack", lip, tc->plip);
	}
	if (sse) {
		if ((tc->temp_ssp & 3) || (tc->temp_ssp >> 32))
			cet_cp_far(cpu, "task SSP misaligned or above 4 GiB", tc->temp_ssp, 0);
		cpu->cet.ssp = tc->temp_ssp;
	}
}

void cpu_task_switch(struct cpu *cpu, u16 sel, u64 desc, enum task_reason why, u64 ret_eip,
		     bool has_error, u32 error)
{
	check_new_tss(cpu, sel, desc, why);
	const struct tss_layout *l = layout(desc_type(desc));
	struct seg nt;
	struct task_state ts;
	cpu_desc_to_seg(&nt, sel, desc);
	read_task(cpu, nt.base, l, &ts);
	/* CET: shadow-stack steps before the commit point (spec 5.12) */
	struct task_cet tc;
	task_cet_before(cpu, &tc, nt.base, &ts, why, ret_eip);
	leave_old_task(cpu, sel, desc, nt.base, why, ret_eip);
	task_cet_commit(cpu, &ts, why);
	enter_new_task(cpu, sel, desc, l, &ts, why);
	load_segments(cpu, &ts);
	if (ts.eip > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0);
	if (has_error)
		cpu_push(cpu, error, l->w);
	/* CET: new SSP from TSS+0x68, token, frame, IBT far rule (spec 5.12) */
	task_cet_after(cpu, &tc, sel, why);
	cpu->rollback.valid = false;
	cpu_break(cpu);
}
