/* seg.c: segment registers, descriptors and segmented address checks (SDM Vol. 3 ch. 3, 5). */
#include "cpu.h"

#include "cet.h"

static bool is_expand_down(u32 attr)
{
	/* Data segment (type bit 3 clear) with E (bit 2) set. */
	return (attr & SEG_ATTR_S) && !(attr & 8) && (attr & 4);
}

static __attribute__((noreturn)) void seg_fault(struct cpu *cpu, int seg)
{
	cpu_fault(cpu, seg == SEG_SS ? X86_EXC_SS : X86_EXC_GP, 0);
}

/* Limit and type checks outside 64-bit mode; canonical checks inside it. */
u64 cpu_seg_lin_slow(struct cpu *cpu, int seg, u64 off, unsigned size, bool write)
{
	const struct seg *s = &cpu->seg[seg];
	if (cpu->m64) {
		u64 la = off + (seg >= SEG_FS ? s->base : 0);
		if (cpu_canonical(la) != la)
			seg_fault(cpu, seg);
		return la;
	}
	bool pm = (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_EFLAGS_VM);
	if (pm && (s->attr & SEG_ATTR_UNUSABLE))
		seg_fault(cpu, seg);
	if (pm && write && ((s->attr & 8) || !(s->attr & 2)))
		seg_fault(cpu, seg); /* code segment, or read-only data */
	u64 last = off + size - 1;
	if (is_expand_down(s->attr)) {
		u64 top = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
		if (off <= s->limit || last > top)
			seg_fault(cpu, seg);
	} else if (last > s->limit) {
		seg_fault(cpu, seg);
	}
	return (s->base + off) & 0xffffffffull;
}

void cpu_desc_to_seg(struct seg *s, u16 sel, u64 d)
{
	u32 lo = (u32)d, hi = (u32)(d >> 32);
	u32 limit = (lo & 0xffff) | (hi & 0xf0000);
	s->sel = sel;
	s->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
	s->attr = (hi >> 8) & 0xf0ff;
	if (s->attr & SEG_ATTR_G)
		limit = (limit << 12) | 0xfff;
	s->limit = limit;
}

u64 cpu_read_desc(struct cpu *cpu, u16 sel, int err_vec)
{
	const struct dtable *t = &cpu->gdtr;
	u64 base;
	u32 limit;
	if (sel & 4) {
		if (cpu->seg[SEG_LDTR].attr & SEG_ATTR_UNUSABLE)
			cpu_fault(cpu, err_vec, sel & 0xfffc);
		base = cpu->seg[SEG_LDTR].base;
		limit = cpu->seg[SEG_LDTR].limit;
	} else {
		base = t->base;
		limit = t->limit;
	}
	if ((u32)(sel & ~7u) + 7 > limit)
		cpu_fault(cpu, err_vec, sel & 0xfffc);
	return cpu_read_slow(cpu, base + (sel & ~7u), 8, ACC_SUPER);
}

/* Set the accessed bit of a descriptor in memory if it is clear. */
static void set_accessed(struct cpu *cpu, u16 sel, u64 d)
{
	if (d & (1ull << 40))
		return;
	u64 base = (sel & 4) ? cpu->seg[SEG_LDTR].base : cpu->gdtr.base;
	cpu_write_slow(cpu, base + (sel & ~7u) + 5, 1, (u8)((d >> 40) | 1), ACC_SUPER);
}

void cpu_set_seg_real(struct cpu *cpu, int seg, u16 sel)
{
	struct seg *s = &cpu->seg[seg];
	if (seg == SEG_CS)
		cpu->jc_epoch++; /* decoded blocks are looked up by CS-relative RIP */
	s->sel = sel;
	s->base = (u64)sel << 4;
	if (cpu->eflags & X86_EFLAGS_VM) {
		s->limit = 0xffff;
		s->attr = SEG_ATTR_P | SEG_ATTR_S | (3 << SEG_ATTR_DPL_SHIFT) | 3;
	}
}

static void load_null(struct cpu *cpu, int seg, u16 sel)
{
	struct seg *s = &cpu->seg[seg];
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->attr = SEG_ATTR_UNUSABLE | (seg == SEG_SS ? (u32)(cpu->cpl << SEG_ATTR_DPL_SHIFT) : 0);
}

/* MOV/POP to SS (SDM Vol. 2 MOV, "IF SS is loaded"). */
static void check_ss(struct cpu *cpu, u16 sel, u64 d)
{
	u32 attr = (u32)(d >> 40) & 0xff;
	unsigned dpl = (attr >> 5) & 3;
	if ((sel & 3) != cpu->cpl || dpl != cpu->cpl)
		cpu_gp(cpu, sel & 0xfffc);
	if (!(attr & SEG_ATTR_S) || (attr & 8) || !(attr & 2))
		cpu_gp(cpu, sel & 0xfffc);
	if (!(attr & SEG_ATTR_P))
		cpu_fault(cpu, X86_EXC_SS, sel & 0xfffc);
}

/* MOV/POP to DS, ES, FS, GS. */
static void check_data(struct cpu *cpu, u16 sel, u64 d)
{
	u32 attr = (u32)(d >> 40) & 0xff;
	unsigned dpl = (attr >> 5) & 3, rpl = sel & 3;
	bool code = attr & 8, readable = attr & 2, conforming = attr & 4;
	if (!(attr & SEG_ATTR_S) || (code && !readable))
		cpu_gp(cpu, sel & 0xfffc);
	if ((!code || !conforming) && (dpl < cpu->cpl || dpl < rpl))
		cpu_gp(cpu, sel & 0xfffc);
	if (!(attr & SEG_ATTR_P))
		cpu_fault(cpu, X86_EXC_NP, sel & 0xfffc);
}

void cpu_load_seg(struct cpu *cpu, int seg, u16 sel)
{
	if (!(cpu->cr0 & X86_CR0_PE) || (cpu->eflags & X86_EFLAGS_VM)) {
		cpu_set_seg_real(cpu, seg, sel);
		return;
	}
	if ((sel & ~3u) == 0) {
		/* A null SS is allowed only in 64-bit mode at CPL < 3. */
		if (seg == SEG_SS && (!cpu->m64 || cpu->cpl == 3 || (sel & 3) != cpu->cpl))
			cpu_gp(cpu, 0);
		load_null(cpu, seg, sel);
		return;
	}
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	if (seg == SEG_SS)
		check_ss(cpu, sel, d);
	else
		check_data(cpu, sel, d);
	set_accessed(cpu, sel, d);
	cpu_desc_to_seg(&cpu->seg[seg], sel, d | (1ull << 40));
}

void cpu_update_mode(struct cpu *cpu)
{
	cpu->m64 = (cpu->efer & EFER_LMA) && (cpu->seg[SEG_CS].attr & SEG_ATTR_L);
	if (!(cpu->cr0 & X86_CR0_PE))
		cpu->cpl = 0;
	else if (cpu->eflags & X86_EFLAGS_VM)
		cpu->cpl = 3;
	cpu_update_mmu_idx(cpu);
	cet_refresh(cpu);
	cpu->jc_epoch++;
	cpu_break(cpu);
}
