/* farxfer.c: far JMP, far CALL (call gates, stack switch, task gates), far
 * RET, INT n / INT3 / INTO / INT1 and LDS/LES/LSS/LFS/LGS (SDM Vol. 2 JMP,
 * CALL, RET, INT n, LDS; Vol. 3 5.8 "Privilege level checking when
 * transferring program control between code segments"). */
#include "farxfer.h"

#include "cet.h"
#include "cet_xfer.h"
#include "ops.h"
#include "system.h"
#include "task.h"

/* ---- descriptors ---- */

u64 cpu_read_desc_hi(struct cpu *cpu, u16 sel, int vec)
{
	const struct seg *ldt = &cpu->seg[SEG_LDTR];
	bool local = sel & 4;
	u64 base = local ? ldt->base : cpu->gdtr.base;
	u32 limit = local ? ldt->limit : cpu->gdtr.limit;
	u32 off = (sel & ~7u) + 8;
	if ((local && (ldt->attr & SEG_ATTR_UNUSABLE)) || off + 7 > limit)
		cpu_fault(cpu, vec, sel_err(sel));
	return cpu_read_slow(cpu, base + off, 8, ACC_SUPER);
}

void cpu_desc_update(struct cpu *cpu, u16 sel, u64 old, u64 desc)
{
	if (((old ^ desc) >> 40) & 0xff) {
		u64 base = (sel & 4) ? cpu->seg[SEG_LDTR].base : cpu->gdtr.base;
		cpu_write_slow(cpu, base + (sel & ~7u) + 5, 1, (u8)(desc >> 40), ACC_SUPER);
	}
}

/* ---- stacks before commit ---- */

void cpu_far_stack_cur(struct cpu *cpu, struct far_stack *st)
{
	st->ss = cpu->seg[SEG_SS];
	st->sp = cpu->r[R_SP];
	st->mask = size_mask(cpu_stack_size(cpu));
	st->m64 = cpu->m64;
	st->acc = 0;
	st->err = 0;
}

void cpu_far_stack_new(struct far_stack *st, const struct seg *ss, u64 sp, bool m64,
		       bool inner, u32 err)
{
	st->ss = *ss;
	st->sp = sp;
	st->mask = m64 ? ~0ull : (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
	st->m64 = m64;
	st->acc = inner ? ACC_SUPER : 0;
	st->err = err;
}

/* Linear address of a stack access: canonical (64-bit) or limit checks
 * including expand-down stacks, #SS on violation. */
static u64 stack_la(struct cpu *cpu, const struct far_stack *st, u64 sp, unsigned size)
{
	const struct seg *s = &st->ss;
	u64 last = sp + size - 1;
	if (st->m64) {
		if (cpu_canonical(sp) != sp || cpu_canonical(last) != last)
			cpu_fault(cpu, X86_EXC_SS, st->err);
		return sp;
	}
	bool down = (s->attr & SEG_ATTR_S) && !(s->attr & 8) && (s->attr & 4);
	if (down ? (sp <= s->limit || last > st->mask) : last > s->limit)
		cpu_fault(cpu, X86_EXC_SS, st->err);
	return (s->base + sp) & 0xffffffffull;
}

void cpu_far_push(struct cpu *cpu, struct far_stack *st, u64 v, unsigned size)
{
	u64 sp = (st->sp - size) & st->mask;
	u64 la = stack_la(cpu, st, sp, size);
	if (st->acc)
		cpu_write_slow(cpu, la, size, v, st->acc);
	else
		cpu_write_lin(cpu, la, size, v);
	st->sp = (st->sp & ~st->mask) | sp;
}

u64 cpu_far_pop(struct cpu *cpu, struct far_stack *st, unsigned size)
{
	u64 sp = st->sp & st->mask;
	u64 la = stack_la(cpu, st, sp, size);
	u64 v = st->acc ? cpu_read_slow(cpu, la, size, st->acc) : cpu_read_lin(cpu, la, size);
	st->sp = (st->sp & ~st->mask) | ((sp + size) & st->mask);
	return v;
}

void cpu_far_stack_adjust(struct far_stack *st, u64 n)
{
	st->sp = (st->sp & ~st->mask) | ((st->sp + n) & st->mask);
}

/* ---- code segments ---- */

void cpu_far_check_target(struct cpu *cpu, u64 desc, u64 off)
{
	if (cpu_far_code64(cpu, desc) ? cpu_canonical(off) != off : off > desc_limit(desc))
		cpu_gp(cpu, 0);
}

u64 cpu_far_check_ret_cs(struct cpu *cpu, u16 sel)
{
	unsigned rpl = sel & 3;
	if (!(sel & 0xfffc))
		cpu_gp(cpu, 0);
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	if (!desc_code(d) || rpl < cpu->cpl)
		cpu_gp(cpu, sel_err(sel));
	if (desc_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
		cpu_gp(cpu, sel_err(sel));
	if ((cpu->efer & EFER_LMA) && desc_l(d) && desc_db(d))
		cpu_gp(cpu, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_NP, sel_err(sel));
	return d;
}

bool cpu_far_check_ret_ss(struct cpu *cpu, u16 sel, unsigned rpl, bool target64, u64 *desc)
{
	if (!(sel & 0xfffc)) {
		/* Null SS: only for a return to 64-bit code at CPL < 3. */
		if (target64 && rpl != 3)
			return false;
		cpu_gp(cpu, 0);
	}
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	if ((sel & 3u) != rpl || !desc_writable(d) || desc_dpl(d) != rpl)
		cpu_gp(cpu, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_SS, sel_err(sel));
	*desc = d;
	return true;
}

void cpu_far_load_cs(struct cpu *cpu, u16 sel, u64 desc, unsigned cpl)
{
	cpu_desc_to_seg(&cpu->seg[SEG_CS], (u16)((sel & ~3u) | cpl), desc | DESC_ACCESSED);
	cpu->cpl = (u8)cpl;
	cpu_update_mode(cpu); /* m64, CET predicates */
	cpu_update_mmu_idx(cpu);
	cpu_break(cpu);
}

void cpu_far_null_ss(struct seg *s, u16 sel, unsigned cpl)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->attr = SEG_ATTR_UNUSABLE | (cpl << SEG_ATTR_DPL_SHIFT);
}

void cpu_far_null_data_segs(struct cpu *cpu)
{
	static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
		struct seg *s = &cpu->seg[segs[i]];
		bool conforming = (s->attr & 8) && (s->attr & 4);
		unsigned dpl = (s->attr >> SEG_ATTR_DPL_SHIFT) & 3;
		if ((s->attr & SEG_ATTR_UNUSABLE) || conforming || dpl >= cpu->cpl)
			continue;
		s->sel = 0; /* the base stays: FS/GS bases survive in 64-bit mode */
		s->attr = SEG_ATTR_UNUSABLE;
	}
}

/* ---- far JMP / far CALL ---- */

/* The far pointer: ptr16:16/32 immediate (9A, EA) or m16:16/32/64 (FF /3, /5). */
static void far_pointer(struct cpu *cpu, const struct insn *in, u16 *sel, u64 *off)
{
	if (in->flags & IF_MEM) {
		*off = cpu_mem_read(cpu, in, in->opsize);
		*sel = (u16)cpu_mem_read_off(cpu, in, in->opsize, 2);
	} else {
		*off = in->imm & size_mask(in->opsize);
		*sel = in->imm2;
	}
}

/* Real-address and virtual-8086 mode: CS = sel, base sel << 4. */
static void far_real(struct cpu *cpu, u16 sel, u64 off, unsigned size, bool call)
{
	if (off > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0);
	if (call) {
		struct far_stack st;
		cpu_far_stack_cur(cpu, &st);
		cpu_far_push(cpu, &st, cpu->seg[SEG_CS].sel, size);
		cpu_far_push(cpu, &st, cpu->next_rip, size);
		cpu->r[R_SP] = st.sp;
	}
	cpu_set_seg_real(cpu, SEG_CS, sel);
	cpu->next_rip = off;
	cpu_break(cpu);
}

/* Same privilege: push CS:rIP on a CALL, then load CS with RPL = CPL. */
static void far_commit_same(struct cpu *cpu, u16 sel, u64 d, u64 off, unsigned size, bool call)
{
	struct far_stack st;
	cpu_far_stack_cur(cpu, &st);
	if (call) {
		cpu_far_push(cpu, &st, cpu->seg[SEG_CS].sel, size);
		cpu_far_push(cpu, &st, cpu->next_rip, size);
	}
	/* CET (spec 5.6): SSP[63:32] check for a non-64-bit target; a CALL
	 * pushes the CS/LIP/SSP frame. */
	u64 ssp = cpu->cet.ssp;
	if (cet_sse(cpu, cpu->cpl)) {
		cet_check_ssp32(cpu, ssp, cpu_far_code64(cpu, d));
		if (call)
			ssp = cet_push_frame(cpu, ssp, cpu->cpl, cpu->seg[SEG_CS].sel,
					     cet_lip(cpu->seg[SEG_CS].base, cpu->next_rip, cpu->m64),
					     ssp);
	}
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu->cet.ssp = ssp;
	cpu->r[R_SP] = st.sp;
	cpu_far_load_cs(cpu, sel, d, cpu->cpl);
	cpu->next_rip = off;
	cet_far_branch(cpu); /* spec 7.2 */
}

/* A code segment named directly by the far pointer. */
static void far_code(struct cpu *cpu, u16 sel, u64 d, u64 off, unsigned size, bool call)
{
	unsigned rpl = sel & 3;
	if ((cpu->efer & EFER_LMA) && desc_l(d) && desc_db(d))
		cpu_gp(cpu, sel_err(sel));
	if (desc_conforming(d) ? desc_dpl(d) > cpu->cpl
			       : (rpl > cpu->cpl || desc_dpl(d) != cpu->cpl))
		cpu_gp(cpu, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_NP, sel_err(sel));
	cpu_far_check_target(cpu, d, off);
	far_commit_same(cpu, sel, d, off, size, call);
}

/* A decoded call gate with its target code segment. */
struct gate {
	u16 sel;     /* target code segment */
	u64 off;
	unsigned size;   /* 2, 4 or 8: 16-, 32- or 64-bit gate */
	unsigned params; /* dwords/words copied to an inner stack */
	u64 cs_desc;
};

static void read_gate(struct cpu *cpu, u16 gsel, u64 gd, struct gate *g)
{
	bool lma = cpu->efer & EFER_LMA;
	if (desc_dpl(gd) < cpu->cpl || desc_dpl(gd) < (gsel & 3u))
		cpu_gp(cpu, sel_err(gsel));
	if (!desc_present(gd))
		cpu_fault(cpu, X86_EXC_NP, sel_err(gsel));
	g->sel = (u16)(gd >> 16);
	g->off = (gd & 0xffff) | ((gd >> 32) & 0xffff0000ull);
	g->params = (gd >> 32) & 0x1f;
	g->size = desc_type(gd) == DESC_CALL16 ? 2 : 4;
	if (g->size == 2)
		g->off &= 0xffff;
	if (lma) {
		/* 64-bit call gate: 16 bytes, upper type field 0 (SDM Vol. 3 5.8.3.1). */
		u64 hi = cpu_read_desc_hi(cpu, gsel, X86_EXC_GP);
		if ((hi >> 40) & 0x1f)
			cpu_gp(cpu, sel_err(gsel));
		g->off |= (hi & 0xffffffffull) << 32;
		g->size = 8;
		g->params = 0;
	}
	if (!(g->sel & 0xfffc))
		cpu_gp(cpu, 0);
	u64 d = cpu_read_desc(cpu, g->sel, X86_EXC_GP);
	if (!desc_code(d) || desc_dpl(d) > cpu->cpl)
		cpu_gp(cpu, sel_err(g->sel));
	if (lma && (!desc_l(d) || desc_db(d)))
		cpu_gp(cpu, sel_err(g->sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_NP, sel_err(g->sel));
	g->cs_desc = d;
}

static u64 tss_read(struct cpu *cpu, u32 off, unsigned size)
{
	const struct seg *tr = &cpu->seg[SEG_TR];
	if (off + size - 1 > tr->limit)
		cpu_fault(cpu, X86_EXC_TS, sel_err(tr->sel));
	return cpu_read_slow(cpu, tr->base + off, size, ACC_SUPER);
}

/* The stack of CPL `cpl` from the current TSS (SDM Vol. 3 5.8.5; IA-32e:
 * RSPn of the 64-bit TSS with a null SS, 5.8.5.1). */
static void inner_stack(struct cpu *cpu, unsigned cpl, struct far_stack *st)
{
	struct seg ss;
	if (cpu->efer & EFER_LMA) {
		cpu_far_null_ss(&ss, (u16)cpl, cpl);
		cpu_far_stack_new(st, &ss, tss_read(cpu, 4 + 8 * cpl, 8), true, true, 0);
		return;
	}
	bool tss32 = cpu->seg[SEG_TR].attr & 8;
	u64 sp = tss32 ? tss_read(cpu, 4 + 8 * cpl, 4) : tss_read(cpu, 2 + 4 * cpl, 2);
	u16 sel = (u16)(tss32 ? tss_read(cpu, 8 + 8 * cpl, 2) : tss_read(cpu, 4 + 4 * cpl, 2));
	if (!(sel & 0xfffc))
		cpu_fault(cpu, X86_EXC_TS, 0);
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_TS);
	if ((sel & 3u) != cpl || desc_dpl(d) != cpl || !desc_writable(d))
		cpu_fault(cpu, X86_EXC_TS, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_SS, sel_err(sel));
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu_desc_to_seg(&ss, sel, d | DESC_ACCESSED);
	cpu_far_stack_new(st, &ss, sp, false, true, sel_err(sel));
}

/* Copy the gate's parameters from the caller's stack, keeping their order. */
static void copy_params(struct cpu *cpu, const struct far_stack *os, struct far_stack *ns,
			unsigned count, unsigned size)
{
	for (unsigned i = count; i-- > 0;) {
		struct far_stack p = *os;
		cpu_far_stack_adjust(&p, (u64)i * size);
		cpu_far_push(cpu, ns, cpu_far_pop(cpu, &p, size), size);
	}
}

/* The shadow-stack steps of a call gate to inner privilege cpl (spec 5.7):
 * switch to the PL[cpl]_SSP token and, unless coming from CPL 3, push the
 * CS/LIP/SSP frame there. Returns the new SSP; nothing is committed. */
static u64 gate_inner_ssp(struct cpu *cpu, const struct gate *g, unsigned cpl)
{
	u64 old = cpu->cet.ssp;
	if (!cet_sse(cpu, cpl))
		return old;
	u64 ssp = cet_switch_to(cpu, cpu->cet.pl_ssp[cpl], cpu_far_code64(cpu, g->cs_desc));
	if (cpu->cpl == 3)
		return ssp;
	u64 lip = cet_lip(cpu->seg[SEG_CS].base, cpu->next_rip, cpu->m64);
	return cet_push_frame(cpu, ssp, cpl, cpu->seg[SEG_CS].sel, lip, old);
}

/* CALL through a gate to a more privileged non-conforming segment:
 * switch to the TSS stack, push SS:rSP, the parameters and CS:rIP. */
static void call_gate_inner(struct cpu *cpu, const struct gate *g)
{
	unsigned cpl = desc_dpl(g->cs_desc);
	struct far_stack ns, os;
	inner_stack(cpu, cpl, &ns);
	cpu_far_stack_cur(cpu, &os);
	cpu_far_push(cpu, &ns, cpu->seg[SEG_SS].sel, g->size);
	cpu_far_push(cpu, &ns, cpu->r[R_SP], g->size);
	copy_params(cpu, &os, &ns, g->params, g->size);
	cpu_far_push(cpu, &ns, cpu->seg[SEG_CS].sel, g->size);
	cpu_far_push(cpu, &ns, cpu->next_rip, g->size);
	u64 ssp = gate_inner_ssp(cpu, g, cpl);
	cpu_desc_set_bits(cpu, g->sel, g->cs_desc, DESC_ACCESSED);
	if (cpu->cpl == 3 && cet_sse(cpu, 3))
		cpu->cet.pl_ssp[3] = cpu->cet.ssp;
	cpu->cet.ssp = ssp;
	cpu->seg[SEG_SS] = ns.ss;
	cpu->r[R_SP] = ns.sp;
	cpu_far_load_cs(cpu, g->sel, g->cs_desc, cpl);
	cpu->next_rip = g->off;
	cet_far_branch(cpu); /* spec 7.2 */
}

static void far_gate(struct cpu *cpu, u16 gsel, u64 gd, bool call)
{
	struct gate g;
	read_gate(cpu, gsel, gd, &g);
	u64 d = g.cs_desc;
	bool inner = !desc_conforming(d) && desc_dpl(d) < cpu->cpl;
	if (!call && !desc_conforming(d) && desc_dpl(d) != cpu->cpl)
		cpu_gp(cpu, sel_err(g.sel)); /* JMP never changes privilege */
	cpu_far_check_target(cpu, d, g.off);
	if (call && inner)
		call_gate_inner(cpu, &g);
	else
		far_commit_same(cpu, g.sel, d, g.off, g.size, call);
}

/* JMP/CALL to a TSS or through a task gate (legacy mode only). */
static void far_task(struct cpu *cpu, u16 sel, u64 d, bool call)
{
	if (desc_dpl(d) < cpu->cpl || desc_dpl(d) < (sel & 3u))
		cpu_gp(cpu, sel_err(sel));
	if (desc_type(d) == DESC_TASK_GATE) {
		if (!desc_present(d))
			cpu_fault(cpu, X86_EXC_NP, sel_err(sel));
		sel = (u16)(d >> 16);
		if (sel & 4)
			cpu_gp(cpu, sel_err(sel));
		d = cpu_read_desc(cpu, sel, X86_EXC_GP);
		if (desc_s(d) || (desc_type(d) != DESC_TSS16 && desc_type(d) != DESC_TSS32))
			cpu_gp(cpu, sel_err(sel));
	}
	cpu_task_switch(cpu, sel, d, call ? TASK_CALL : TASK_JMP, cpu->next_rip, false, 0);
}

static void far_prot(struct cpu *cpu, u16 sel, u64 off, unsigned size, bool call)
{
	bool lma = cpu->efer & EFER_LMA;
	if (!(sel & 0xfffc))
		cpu_gp(cpu, 0);
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	if (desc_code(d)) {
		far_code(cpu, sel, d, off, size, call);
		return;
	}
	unsigned type = desc_s(d) ? 0 : desc_type(d);
	if (type == DESC_CALL32 || (type == DESC_CALL16 && !lma))
		far_gate(cpu, sel, d, call);
	else if (!lma && (type == DESC_TASK_GATE || type == DESC_TSS16 || type == DESC_TSS32))
		far_task(cpu, sel, d, call);
	else
		cpu_gp(cpu, sel_err(sel));
}

static void far_branch(struct cpu *cpu, const struct insn *in, bool call)
{
	u16 sel;
	u64 off;
	far_pointer(cpu, in, &sel, &off);
	if (cpu_prot_mode(cpu))
		far_prot(cpu, sel, off, in->opsize, call);
	else
		far_real(cpu, sel, off, in->opsize, call);
}

/* JMP ptr16:16/32 (EA), JMP m16:16/32/64 (FF /5). */
void op_jmp_far(struct cpu *cpu, const struct insn *in)
{
	far_branch(cpu, in, false);
}

/* CALL ptr16:16/32 (9A), CALL m16:16/32/64 (FF /3). */
void op_call_far(struct cpu *cpu, const struct insn *in)
{
	far_branch(cpu, in, true);
}

/* ---- far RET (CB, CA iw) ---- */

static void ret_same(struct cpu *cpu, const struct far_stack *st, u16 sel, u64 d, u64 off)
{
	cpu_far_check_target(cpu, d, off);
	/* CET: same-privilege far RET restore_frame (spec 5.6) */
	u64 ssp = cpu->cet.ssp;
	if (cet_sse(cpu, cpu->cpl)) {
		bool t64 = cpu_far_code64(cpu, d);
		ssp = cet_restore_frame(cpu, &ssp, cpu->cpl, sel, cet_lip(desc_base(d), off, t64), t64);
	}
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu->cet.ssp = ssp;
	cpu->r[R_SP] = st->sp;
	cpu_far_load_cs(cpu, sel, d, cpu->cpl);
	cpu->next_rip = off;
}

/* Return to an outer privilege: pop SS:rSP too, then null the data
 * segments the new CPL may not use (SDM Vol. 2 RET, "RETURN-TO-OUTER-
 * PRIVILEGE-LEVEL"). */
static void ret_outer(struct cpu *cpu, struct far_stack *st, u16 sel, u64 d, u64 off,
		      unsigned size, u64 imm)
{
	unsigned rpl = sel & 3;
	bool t64 = cpu_far_code64(cpu, d);
	u64 sp = cpu_far_pop(cpu, st, size);
	u16 ss_sel = (u16)cpu_far_pop(cpu, st, size);
	u64 ssd = 0;
	struct seg ss;
	bool have_ss = cpu_far_check_ret_ss(cpu, ss_sel, rpl, t64, &ssd);
	cpu_far_check_target(cpu, d, off);
	/* CET: far RET to an outer privilege (spec 5.8) */
	u64 ssp = cet_ret_outer(cpu, sel, cet_lip(desc_base(d), off, t64), t64);
	cpu_desc_set_bits(cpu, sel, d, DESC_ACCESSED);
	cpu->cet.ssp = ssp;
	if (have_ss) {
		cpu_desc_set_bits(cpu, ss_sel, ssd, DESC_ACCESSED);
		cpu_desc_to_seg(&ss, ss_sel, ssd | DESC_ACCESSED);
	} else {
		cpu_far_null_ss(&ss, ss_sel, rpl);
	}
	u64 mask = t64 ? ~0ull : (ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
	cpu->seg[SEG_SS] = ss;
	cpu->r[R_SP] = (sp & ~mask) | ((sp + imm) & mask);
	cpu_far_load_cs(cpu, sel, d, rpl);
	cpu_far_null_data_segs(cpu);
	cpu->next_rip = off;
}

void op_ret_far(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 imm = in->op == 0xca ? (in->imm & 0xffff) : 0;
	struct far_stack st;
	cpu_far_stack_cur(cpu, &st);
	u64 off = cpu_far_pop(cpu, &st, size);
	u16 sel = (u16)cpu_far_pop(cpu, &st, size);
	cpu_far_stack_adjust(&st, imm);
	if (!cpu_prot_mode(cpu)) {
		if (off > cpu->seg[SEG_CS].limit)
			cpu_gp(cpu, 0);
		cpu->r[R_SP] = st.sp;
		cpu_set_seg_real(cpu, SEG_CS, sel);
		cpu->next_rip = off;
		cpu_break(cpu);
		return;
	}
	u64 d = cpu_far_check_ret_cs(cpu, sel);
	if ((sel & 3u) == cpu->cpl)
		ret_same(cpu, &st, sel, d, off);
	else
		ret_outer(cpu, &st, sel, d, off, size, imm);
}

/* ---- INT n, INT3, INTO, INT1 ---- */

/* The IDT delivery (except.c) does the gate checks, stack switch and the
 * CET steps of spec 5.9 and 7.2. */
void op_int(struct cpu *cpu, const struct insn *in)
{
	/* VM86 without VME: INT n is IOPL-sensitive (SDM Vol. 3 20.3.3). */
	if ((cpu->eflags & X86_EFLAGS_VM) && ((cpu->eflags >> 12) & 3) < 3)
		cpu_gp(cpu, 0);
	cpu_deliver(cpu, (int)(in->imm & 0xff), false, 0, EV_SOFT, cpu->next_rip);
}

void op_int3(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_deliver(cpu, X86_EXC_BP, false, 0, EV_SOFT_EXC, cpu->next_rip);
}

/* INTO (CE; #UD in 64-bit mode by the decoder): #OF trap if OF = 1. */
void op_into(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu_get_rflags(cpu) & X86_EFLAGS_OF)
		cpu_deliver(cpu, X86_EXC_OF, false, 0, EV_SOFT_EXC, cpu->next_rip);
}

/* INT1 / ICEBP (F1): #DB without the gate DPL check. */
void op_int1(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_deliver(cpu, X86_EXC_DB, false, 0, EV_PRIV_SOFT, cpu->next_rip);
}

/* ---- LDS, LES (C5, C4 outside 64-bit mode), LSS, LFS, LGS (0F B2/B4/B5) ---- */

void op_lxs(struct cpu *cpu, const struct insn *in)
{
	int seg;
	if (in->map == 0)
		seg = in->op == 0xc4 ? SEG_ES : SEG_DS;
	else
		seg = in->op == 0xb2 ? SEG_SS : in->op == 0xb4 ? SEG_FS : SEG_GS;
	u64 off = cpu_mem_read(cpu, in, in->opsize);
	u16 sel = (u16)cpu_mem_read_off(cpu, in, in->opsize, 2);
	cpu_load_seg(cpu, seg, sel);
	cpu_set_reg(cpu, in->reg, in->opsize, true, off);
}
