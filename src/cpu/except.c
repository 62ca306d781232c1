/* except.c: raising faults and delivering interrupts/exceptions through the IDT
 * (SDM Vol. 3 ch. 6), including the double-fault rules and triple fault. */
#include "cpu.h"

#include <stdio.h>
#include <string.h>

#include "../log.h"
#include "cet.h"
#include "cet_xfer.h"
#include "decode.h"
#include "task.h"

static __attribute__((noreturn)) void raise_event(struct cpu *cpu, int vector, bool has_err,
						  u32 err)
{
	cpu->fault.vector = (u8)vector;
	cpu->fault.has_error = has_err;
	cpu->fault.error = err;
	longjmp(*cpu->fault_jmp, 1);
}

/* Vectors that push an error code in protected mode (SDM Table 6-1). */
static bool pushes_error(int vector)
{
	switch (vector) {
	case X86_EXC_DF: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS:
	case X86_EXC_GP: case X86_EXC_PF: case X86_EXC_AC: case X86_EXC_CP:
		return true;
	default:
		return false;
	}
}

void cpu_fault(struct cpu *cpu, int vector, u32 error)
{
	raise_event(cpu, vector, pushes_error(vector), error);
}

void cpu_fault_noerr(struct cpu *cpu, int vector)
{
	raise_event(cpu, vector, false, 0);
}

void cpu_unimplemented(struct cpu *cpu, const struct insn *in)
{
	unsigned bit = in->map * 256u + in->op;
	if (bit < 512 && !(cpu->unimpl_logged[bit / 64] & (1ull << (bit % 64)))) {
		u8 bytes[15];
		char hex[64] = "";
		unsigned n = in->len ? in->len : 1;
		for (unsigned i = 0; i < n && i < 15; i++) {
			u64 pa;
			bytes[i] = cpu_probe(cpu, cpu->seg[SEG_CS].base + cpu->rip + i, ACC_EXEC, &pa)
					   ? (u8)cpu_phys_read(cpu, pa, 1)
					   : 0;
			snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%02x ", bytes[i]);
		}
		cpu->unimpl_logged[bit / 64] |= 1ull << (bit % 64);
		log_warn("unimplemented instruction at rip %#llx: %s(#UD)",
			 (unsigned long long)cpu->rip, hex);
	}
	cpu_ud(cpu);
}

/* ---- IDT delivery ---- */

struct gate {
	u16 sel;
	u64 offset;
	unsigned type, dpl, ist;
	bool present;
};

static u64 read_sup(struct cpu *cpu, u64 la, unsigned size)
{
	return cpu_read_slow(cpu, la, size, ACC_SUPER);
}

static void write_sup(struct cpu *cpu, u64 la, unsigned size, u64 v)
{
	cpu_write_slow(cpu, la, size, v, ACC_SUPER);
}

static u32 idt_error(int vector, bool ext)
{
	return (u32)vector * 8 + 2 + (ext ? 1 : 0);
}

static void read_gate(struct cpu *cpu, int vector, bool ext, struct gate *g)
{
	unsigned size = (cpu->efer & EFER_LMA) ? 16 : 8;
	if ((u32)vector * size + size - 1 > cpu->idtr.limit)
		cpu_gp(cpu, idt_error(vector, ext));
	u64 la = cpu->idtr.base + (u64)vector * size;
	u64 lo = read_sup(cpu, la, 8);
	g->sel = (u16)(lo >> 16);
	g->offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull);
	g->type = (lo >> 40) & 0xf;
	g->dpl = (lo >> 45) & 3;
	g->present = (lo >> 47) & 1;
	g->ist = (lo >> 32) & 7;
	if (size == 16)
		g->offset |= read_sup(cpu, la + 8, 4) << 32;
	else
		g->ist = 0;
}

/* The frame of an interrupted context, collected before anything commits. */
struct frame {
	u64 rsp, rflags, rip;
	u64 lip; /* CS.base + rip: the LIP of a shadow-stack frame (spec 5.4) */
	u16 cs, ss;
	u8 cpl;
};

static void push_sup(struct cpu *cpu, u64 *sp, u64 mask, unsigned size, u64 v, u64 ss_base)
{
	*sp = (*sp - size) & mask;
	write_sup(cpu, ss_base + *sp, size, v);
}

/* 64-bit TSS: RSP0-2 at 4 + 8n, IST1-7 at 36 + 8(n-1). */
static u64 tss64_stack(struct cpu *cpu, unsigned off)
{
	const struct seg *tr = &cpu->seg[SEG_TR];
	if (off + 7 > tr->limit)
		cpu_fault(cpu, X86_EXC_TS, tr->sel & 0xfffc);
	return read_sup(cpu, tr->base + off, 8);
}

static void check_target_cs(struct cpu *cpu, const struct gate *g, bool ext, u64 *desc)
{
	if ((g->sel & ~3u) == 0)
		cpu_gp(cpu, ext ? 1 : 0);
	u64 d = cpu_read_desc(cpu, g->sel, X86_EXC_GP);
	u32 attr = (u32)(d >> 40);
	unsigned dpl = (attr >> 5) & 3;
	if (!(attr & SEG_ATTR_S) || !(attr & 8) || dpl > cpu->cpl)
		cpu_gp(cpu, (g->sel & 0xfffc) | ext);
	if ((cpu->efer & EFER_LMA) && (!((d >> 53) & 1) || ((d >> 54) & 1)))
		cpu_gp(cpu, (g->sel & 0xfffc) | ext);
	if (!(attr & SEG_ATTR_P))
		cpu_fault(cpu, X86_EXC_NP, (g->sel & 0xfffc) | ext);
	*desc = d;
}

static void commit_cs(struct cpu *cpu, u16 sel, u64 desc, unsigned cpl)
{
	cpu_desc_to_seg(&cpu->seg[SEG_CS], (u16)((sel & ~3u) | cpl), desc);
	cpu->cpl = (u8)cpl;
	cpu_update_mode(cpu);
}

/* The SSP after the shadow-stack steps of a delivery to new_cpl (spec 5.9):
 * switch_to(n) when need_switch, then the CS/LIP/SSP frame unless the old
 * CPL was 3. Only shadow-stack memory changes; ss_commit() sets SSP. */
static u64 ss_deliver(struct cpu *cpu, const struct frame *fr, unsigned new_cpl, bool need_switch,
		      u64 n, bool new64)
{
	u64 ssp = cpu->cet.ssp;
	if (!cet_sse(cpu, new_cpl))
		return ssp;
	if (need_switch)
		ssp = cet_switch_to(cpu, n, new64);
	if (fr->cpl != 3)
		ssp = cet_push_frame(cpu, ssp, new_cpl, fr->cs, fr->lip, cpu->cet.ssp);
	return ssp;
}

/* PL3_SSP = the user SSP when leaving CPL 3 with SSE(3); SSP = ssp. */
static void ss_commit(struct cpu *cpu, unsigned old_cpl, u64 ssp)
{
	if (old_cpl == 3 && cet_sse(cpu, 3))
		cpu->cet.pl_ssp[3] = cpu->cet.ssp;
	cpu->cet.ssp = ssp;
}

/* The supervisor token of an IA-32e delivery (spec 5.9): IST k uses
 * INT_SSP_TAB[k] (read only with SSE(new CPL)), an inner stack without IST
 * PL[new]_SSP. False: the shadow stack does not switch. */
static bool ss_token_long(struct cpu *cpu, const struct gate *g, unsigned new_cpl, u64 *n)
{
	bool inner = new_cpl < cpu->cpl;
	*n = 0;
	if (g->ist) {
		if (cet_sse(cpu, new_cpl))
			*n = cet_ist_ssp(cpu, g->ist);
		return true;
	}
	if (inner)
		*n = cpu->cet.pl_ssp[new_cpl];
	return inner;
}

static void finish_flags(struct cpu *cpu, const struct gate *g)
{
	u64 f = cpu_get_rflags(cpu);
	f &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM);
	if (!(g->type & 1))
		f &= ~X86_EFLAGS_IF; /* interrupt gate */
	cpu_set_rflags(cpu, f);
}

/* IA-32e mode delivery (SDM Vol. 3 6.14). */
static void deliver_long(struct cpu *cpu, int vector, bool has_err, u32 err, bool ext,
			 const struct frame *fr, const struct gate *g)
{
	u64 desc;
	if (g->type != 0xe && g->type != 0xf)
		cpu_gp(cpu, idt_error(vector, ext));
	if (!g->present)
		cpu_fault(cpu, X86_EXC_NP, idt_error(vector, ext));
	check_target_cs(cpu, g, ext, &desc);
	unsigned dpl = (desc >> 45) & 3;
	bool conforming = (desc >> 42) & 1;
	unsigned new_cpl = conforming ? cpu->cpl : dpl;
	u64 sp = fr->rsp;
	if (new_cpl < cpu->cpl)
		sp = g->ist ? tss64_stack(cpu, 36 + 8 * (g->ist - 1)) : tss64_stack(cpu, 4 + 8 * new_cpl);
	else if (g->ist)
		sp = tss64_stack(cpu, 36 + 8 * (g->ist - 1));
	if (cpu_canonical(sp) != sp)
		cpu_fault(cpu, X86_EXC_SS, ext);
	u64 token;
	bool ss_switch = ss_token_long(cpu, g, new_cpl, &token);
	sp &= ~0xfull;
	push_sup(cpu, &sp, ~0ull, 8, fr->ss, 0);
	push_sup(cpu, &sp, ~0ull, 8, fr->rsp, 0);
	push_sup(cpu, &sp, ~0ull, 8, fr->rflags, 0);
	push_sup(cpu, &sp, ~0ull, 8, fr->cs, 0);
	push_sup(cpu, &sp, ~0ull, 8, fr->rip, 0);
	if (has_err)
		push_sup(cpu, &sp, ~0ull, 8, err, 0);
	u64 ssp = ss_deliver(cpu, fr, new_cpl, ss_switch, token, true);
	/* Commit. */
	ss_commit(cpu, fr->cpl, ssp);
	if (new_cpl < cpu->cpl) {
		cpu->seg[SEG_SS].sel = (u16)new_cpl;
		cpu->seg[SEG_SS].base = 0;
		cpu->seg[SEG_SS].limit = 0;
		cpu->seg[SEG_SS].attr = SEG_ATTR_UNUSABLE | (new_cpl << SEG_ATTR_DPL_SHIFT);
	}
	cpu->r[R_SP] = sp;
	finish_flags(cpu, g);
	commit_cs(cpu, g->sel, desc, new_cpl);
	cpu->rip = cpu->next_rip = g->offset;
}

/* Legacy protected-mode delivery through a 16/32-bit interrupt/trap gate. */
static void deliver_prot(struct cpu *cpu, int vector, bool has_err, u32 err, bool ext,
			 const struct frame *fr, const struct gate *g)
{
	u64 desc;
	if (g->type == 5) { /* task gate (SDM Vol. 3 7.3, 6.12.2) */
		if (!g->present)
			cpu_fault(cpu, X86_EXC_NP, idt_error(vector, ext));
		if (g->sel & 4)
			cpu_gp(cpu, (g->sel & 0xfffc) | ext);
		desc = cpu_read_desc(cpu, g->sel, X86_EXC_GP);
		cpu_task_switch(cpu, g->sel, desc, TASK_INT, fr->rip, has_err, err);
		return;
	}
	if (g->type != 6 && g->type != 7 && g->type != 0xe && g->type != 0xf)
		cpu_gp(cpu, idt_error(vector, ext));
	if (!g->present)
		cpu_fault(cpu, X86_EXC_NP, idt_error(vector, ext));
	if (cpu->eflags & X86_EFLAGS_VM)
		cpu_gp(cpu, idt_error(vector, ext)); /* VM86 delivery unsupported */
	check_target_cs(cpu, g, ext, &desc);
	unsigned dpl = (desc >> 45) & 3;
	bool conforming = (desc >> 42) & 1;
	unsigned new_cpl = conforming ? cpu->cpl : dpl;
	unsigned size = (g->type & 8) ? 4 : 2;
	struct seg new_ss = cpu->seg[SEG_SS];
	u64 sp = fr->rsp;
	if (new_cpl < cpu->cpl) {
		const struct seg *tr = &cpu->seg[SEG_TR];
		if (8 * new_cpl + 8 + 3 > tr->limit)
			cpu_fault(cpu, X86_EXC_TS, tr->sel & 0xfffc);
		sp = read_sup(cpu, tr->base + 4 + 8 * new_cpl, 4);
		u16 ss_sel = (u16)read_sup(cpu, tr->base + 8 + 8 * new_cpl, 2);
		u64 sd = cpu_read_desc(cpu, ss_sel, X86_EXC_TS);
		cpu_desc_to_seg(&new_ss, ss_sel, sd);
	}
	u64 mask = (new_ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
	if (new_cpl < cpu->cpl) {
		push_sup(cpu, &sp, mask, size, fr->ss, new_ss.base);
		push_sup(cpu, &sp, mask, size, fr->rsp, new_ss.base);
	}
	push_sup(cpu, &sp, mask, size, fr->rflags, new_ss.base);
	push_sup(cpu, &sp, mask, size, fr->cs, new_ss.base);
	push_sup(cpu, &sp, mask, size, fr->rip, new_ss.base);
	if (has_err)
		push_sup(cpu, &sp, mask, size, err, new_ss.base);
	/* No IST here: an inner stack switches to PL[new]_SSP (spec 5.9). */
	bool inner = new_cpl < cpu->cpl;
	u64 ssp = ss_deliver(cpu, fr, new_cpl, inner, inner ? cpu->cet.pl_ssp[new_cpl] : 0, false);
	ss_commit(cpu, fr->cpl, ssp);
	cpu->seg[SEG_SS] = new_ss;
	cpu->r[R_SP] = (cpu->r[R_SP] & ~mask) | (sp & mask);
	finish_flags(cpu, g);
	commit_cs(cpu, g->sel, desc, new_cpl);
	cpu->rip = cpu->next_rip = size == 2 ? g->offset & 0xffff : g->offset & 0xffffffffull;
}

/* Real-address mode: the IVT at IDTR.base (SDM Vol. 3 20.1.4). */
static void deliver_real(struct cpu *cpu, int vector, const struct frame *fr)
{
	if ((u32)vector * 4 + 3 > cpu->idtr.limit)
		cpu_gp(cpu, 0);
	u32 ent = (u32)read_sup(cpu, cpu->idtr.base + (u64)vector * 4, 4);
	u64 sp = cpu->r[R_SP];
	u64 ss = cpu->seg[SEG_SS].base;
	push_sup(cpu, &sp, 0xffff, 2, fr->rflags, ss);
	push_sup(cpu, &sp, 0xffff, 2, fr->cs, ss);
	push_sup(cpu, &sp, 0xffff, 2, fr->rip, ss);
	cpu->r[R_SP] = (cpu->r[R_SP] & ~0xffffull) | sp;
	cpu_set_rflags(cpu, fr->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_AC));
	cpu_set_seg_real(cpu, SEG_CS, (u16)(ent >> 16));
	cpu->rip = cpu->next_rip = ent & 0xffff;
	cpu_break(cpu);
}

void cpu_deliver(struct cpu *cpu, int vector, bool has_error, u32 error, enum ev_kind kind,
		 u64 return_rip)
{
	struct frame fr = {
		.rsp = cpu->r[R_SP],
		.rflags = cpu_get_rflags(cpu),
		.rip = return_rip,
		.cs = cpu->seg[SEG_CS].sel,
		.ss = cpu->seg[SEG_SS].sel,
		.cpl = cpu->cpl,
		.lip = cet_lip(cpu->seg[SEG_CS].base, return_rip, cpu->m64),
	};
	bool ext = kind == EV_EXCEPTION || kind == EV_EXTERNAL;
	struct gate g;
	cpu->halted = false;
	cpu->delivered = true;
	if (!(cpu->cr0 & X86_CR0_PE)) {
		deliver_real(cpu, vector, &fr);
		return;
	}
	read_gate(cpu, vector, ext, &g);
	/* INT n, INT3, INTO check the gate DPL; INT1 and exceptions do not. */
	if ((kind == EV_SOFT || kind == EV_SOFT_EXC) && g.dpl < cpu->cpl)
		cpu_gp(cpu, idt_error(vector, false));
	if (cpu->efer & EFER_LMA)
		deliver_long(cpu, vector, has_error, error, ext, &fr, &g);
	else
		deliver_prot(cpu, vector, has_error, error, ext, &fr, &g);
	cet_far_branch(cpu); /* the handler must begin with ENDBR (spec 7.2) */
	cpu_break(cpu);
}

/* ---- fault handling with the double-fault rules (SDM Vol. 3 Table 6-5) ---- */

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE };

static enum exc_class classify(int vector)
{
	switch (vector) {
	case X86_EXC_DE: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS:
	case X86_EXC_GP: case X86_EXC_CP:
		return EXC_CONTRIBUTORY;
	case X86_EXC_PF:
		return EXC_PAGE;
	default:
		return EXC_BENIGN;
	}
}

static bool makes_double(int first, int second)
{
	enum exc_class a = classify(first), b = classify(second);
	if (a == EXC_CONTRIBUTORY && b == EXC_CONTRIBUTORY)
		return true;
	return a == EXC_PAGE && b != EXC_BENIGN;
}

static void rollback(struct cpu *cpu)
{
	if (!cpu->rollback.valid)
		return;
	cpu->r[R_SP] = cpu->rollback.rsp;
	cpu->cet.ssp = cpu->rollback.ssp;
	if (cpu->cpl != cpu->rollback.cpl) {
		cpu->cpl = cpu->rollback.cpl;
		cpu_update_mode(cpu);
	}
	cpu->rollback.valid = false;
}

/* Called by the run loop after cpu_fault() unwound to it. Delivers the
 * fault (possibly as #DF); a fault while delivering #DF shuts down. */
void cpu_handle_fault(struct cpu *cpu)
{
	struct cpu_event ev = cpu->fault;
	rollback(cpu);
	if (cpu->trace & CPU_TRACE_EXC)
		log_info("exception %d error %#x at rip %#llx (cpl %d)", ev.vector, ev.error,
			 (unsigned long long)cpu->rip, cpu->cpl);
	if (cpu->fault_nesting == 2) {
		cpu->shutdown = true;
		return;
	}
	if (cpu->fault_nesting == 1 && makes_double(cpu->delivering.vector, ev.vector)) {
		ev.vector = X86_EXC_DF;
		ev.has_error = true;
		ev.error = 0;
		cpu->fault_nesting = 2;
	} else if (cpu->fault_nesting == 1 && cpu->delivering.vector == X86_EXC_DF) {
		cpu->shutdown = true;
		return;
	} else {
		cpu->fault_nesting = 1;
	}
	cpu->delivering = ev;
	bool err = ev.has_error && (cpu->cr0 & X86_CR0_PE);
	cpu_deliver(cpu, ev.vector, err, ev.error, EV_EXCEPTION, cpu->rip);
	cpu->fault_nesting = 0;
}
