/* sysseg.c: descriptor-table and segment-check instructions: LGDT, LIDT,
 * SGDT, SIDT, LLDT, LTR, SLDT, STR, LAR, LSL, VERR, VERW, ARPL (SDM Vol. 2;
 * Vol. 3 3.5 system descriptors, 7.2.4 TR, 8.2.3 16-byte descriptors). */
#include "farxfer.h"
#include "ops.h"
#include "system.h"

/* LLDT, LTR, SLDT, STR, LAR, LSL, VERR, VERW, ARPL: #UD in real and
 * virtual-8086 mode. */
static void require_pm(struct cpu *cpu)
{
	if (!cpu_prot_mode(cpu))
		cpu_ud(cpu);
}

static void set_zf(struct cpu *cpu, bool z)
{
	cpu_flags_materialize(cpu);
	cpu->eflags = z ? cpu->eflags | X86_EFLAGS_ZF : cpu->eflags & ~X86_EFLAGS_ZF;
}

/* ---- GDTR / IDTR ---- */

/* 0F 01 /0, /1: limit, then a 32-bit base (64-bit in 64-bit mode). */
void op_sgdt_sidt(struct cpu *cpu, const struct insn *in)
{
	const struct dtable *t = (in->reg & 7) == 0 ? &cpu->gdtr : &cpu->idtr;
	cpu_umip_check(cpu);
	cpu_mem_write(cpu, in, 2, t->limit);
	cpu_mem_write_off(cpu, in, 2, cpu->m64 ? 8 : 4, cpu->m64 ? t->base : (u32)t->base);
}

/* 0F 01 /2, /3: a 16-bit operand size loads a 24-bit base. */
void op_lgdt_lidt(struct cpu *cpu, const struct insn *in)
{
	cpu_require_cpl0(cpu);
	u16 limit = (u16)cpu_mem_read(cpu, in, 2);
	u64 base = cpu_mem_read_off(cpu, in, 2, cpu->m64 ? 8 : 4);
	if (!cpu->m64 && in->opsize == 2)
		base &= 0xffffff;
	if (cpu->m64 && !cpu_canonical_guest(cpu, base))
		cpu_gp(cpu, 0);
	struct dtable *t = (in->reg & 7) == 2 ? &cpu->gdtr : &cpu->idtr;
	t->base = base;
	t->limit = limit;
}

/* ---- LDTR / TR ---- */

void op_sldt_str(struct cpu *cpu, const struct insn *in)
{
	require_pm(cpu);
	cpu_umip_check(cpu);
	u16 sel = cpu->seg[(in->reg & 7) == 0 ? SEG_LDTR : SEG_TR].sel;
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, 2, sel);
	else
		cpu_set_reg(cpu, in->rm, in->opsize, true, sel);
}

/* An LDT or TSS descriptor for LLDT/LTR: in the GDT, one of `types`,
 * present; in IA-32e mode 16 bytes with a zero upper type field and a
 * canonical base. */
static u64 read_sys_desc(struct cpu *cpu, u16 sel, u32 types, struct seg *s)
{
	if (sel & 4)
		cpu_gp(cpu, sel_err(sel));
	u64 d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	if (desc_s(d) || !((types >> desc_type(d)) & 1))
		cpu_gp(cpu, sel_err(sel));
	if (!desc_present(d))
		cpu_fault(cpu, X86_EXC_NP, sel_err(sel));
	cpu_desc_to_seg(s, sel, d);
	if (cpu->efer & EFER_LMA) {
		u64 hi = cpu_read_desc_hi(cpu, sel, X86_EXC_GP);
		s->base |= (hi & 0xffffffffull) << 32;
		if (((hi >> 40) & 0x1f) || cpu_canonical(s->base) != s->base)
			cpu_gp(cpu, sel_err(sel));
	}
	return d;
}

void op_lldt(struct cpu *cpu, const struct insn *in)
{
	require_pm(cpu);
	cpu_require_cpl0(cpu);
	u16 sel = (u16)cpu_rm_read(cpu, in, 2);
	struct seg s = { .sel = sel, .attr = SEG_ATTR_UNUSABLE };
	if (sel & 0xfffc)
		read_sys_desc(cpu, sel, 1u << DESC_LDT, &s);
	cpu->seg[SEG_LDTR] = s;
}

/* LTR marks the TSS busy in the GDT (SDM Vol. 2 LTR). */
void op_ltr(struct cpu *cpu, const struct insn *in)
{
	require_pm(cpu);
	cpu_require_cpl0(cpu);
	u16 sel = (u16)cpu_rm_read(cpu, in, 2);
	u32 types = 1u << DESC_TSS32;
	struct seg s;
	if (!(sel & 0xfffc))
		cpu_gp(cpu, 0);
	if (!(cpu->efer & EFER_LMA))
		types |= 1u << DESC_TSS16;
	u64 d = read_sys_desc(cpu, sel, types, &s);
	cpu_desc_set_bits(cpu, sel, d, DESC_BUSY);
	s.attr |= 2;
	cpu->seg[SEG_TR] = s;
}

/* ---- LAR, LSL, VERR, VERW ---- */

/* The descriptor for LAR/LSL/VERR/VERW: false (ZF = 0) for a null
 * selector or one beyond its table; a page fault on the read faults. */
static bool probe_desc(struct cpu *cpu, u16 sel, u64 *d)
{
	const struct seg *ldt = &cpu->seg[SEG_LDTR];
	bool local = sel & 4;
	u32 limit = local ? ldt->limit : cpu->gdtr.limit;
	if (!(sel & 0xfffc) || (local && (ldt->attr & SEG_ATTR_UNUSABLE)) || (u32)(sel | 7) > limit)
		return false;
	*d = cpu_read_desc(cpu, sel, X86_EXC_GP);
	return true;
}

/* Conforming code is visible at any privilege; anything else needs
 * DPL >= CPL and DPL >= RPL. */
static bool visible(const struct cpu *cpu, u16 sel, u64 d)
{
	return desc_conforming(d) || (desc_dpl(d) >= cpu->cpl && desc_dpl(d) >= (sel & 3u));
}

/* System descriptor types LAR and LSL accept (SDM Vol. 2 LAR, LSL). */
#define T(x) (1u << (x))
#define LAR_LEGACY (T(1) | T(2) | T(3) | T(4) | T(5) | T(9) | T(11) | T(12))
#define LAR_LONG (T(2) | T(9) | T(11) | T(12))
#define LSL_LEGACY (T(1) | T(2) | T(3) | T(9) | T(11))
#define LSL_LONG (T(2) | T(9) | T(11))

static bool type_ok(const struct cpu *cpu, u64 d, bool lsl)
{
	bool lma = cpu->efer & EFER_LMA;
	u32 ok = lsl ? (lma ? LSL_LONG : LSL_LEGACY) : (lma ? LAR_LONG : LAR_LEGACY);
	return desc_s(d) || ((ok >> desc_type(d)) & 1);
}

static bool lar_lsl_check(struct cpu *cpu, const struct insn *in, bool lsl, u64 *d)
{
	require_pm(cpu);
	u16 sel = (u16)cpu_rm_read(cpu, in, 2);
	bool ok = probe_desc(cpu, sel, d) && type_ok(cpu, *d, lsl) && visible(cpu, sel, *d);
	set_zf(cpu, ok);
	return ok;
}

/* LAR: access rights, the second descriptor dword masked by 00FxFF00h. */
void op_lar(struct cpu *cpu, const struct insn *in)
{
	u64 d;
	if (lar_lsl_check(cpu, in, false, &d))
		cpu_set_reg(cpu, in->reg, in->opsize, true,
			    (d >> 32) & (in->opsize == 2 ? 0xff00 : 0x00f0ff00));
}

/* LSL: the byte-granular limit. */
void op_lsl(struct cpu *cpu, const struct insn *in)
{
	u64 d;
	if (lar_lsl_check(cpu, in, true, &d))
		cpu_set_reg(cpu, in->reg, in->opsize, true, desc_limit(d) & size_mask(in->opsize));
}

/* VERR (/4): readable at this privilege; VERW (/5): writable data. */
void op_verr_verw(struct cpu *cpu, const struct insn *in)
{
	require_pm(cpu);
	u16 sel = (u16)cpu_rm_read(cpu, in, 2);
	bool write = (in->reg & 7) == 5;
	u64 d;
	bool ok = probe_desc(cpu, sel, &d) && desc_s(d) &&
		  (write ? desc_writable(d) : desc_readable(d)) && visible(cpu, sel, d);
	set_zf(cpu, ok);
}

/* ARPL r/m16, r16 (63, outside 64-bit mode): raise the RPL of the
 * destination to that of the source; ZF says whether it changed. */
void op_arpl(struct cpu *cpu, const struct insn *in)
{
	require_pm(cpu);
	u16 dst = (u16)cpu_rm_read(cpu, in, 2);
	u16 src = (u16)cpu_get_reg(cpu, in->reg, 2, true);
	bool adjust = (dst & 3) < (src & 3);
	if (adjust)
		cpu_rm_write(cpu, in, 2, (dst & ~3u) | (src & 3u));
	set_zf(cpu, adjust);
}
