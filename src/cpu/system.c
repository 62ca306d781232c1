/* system.c: control and debug registers, EFER, CLTS/LMSW/SMSW, HLT, CLI/STI,
 * IN/OUT and the I/O permission check, TLB and cache control, fences, UD. */
#include "system.h"

#include "cet.h"
#include "ops.h"

/* ---- memory operands at an offset ---- */

u64 cpu_mem_read_off(struct cpu *cpu, const struct insn *in, u64 off, unsigned size)
{
	u64 ea = (cpu_ea(cpu, in) + off) & size_mask(in->addrsize);
	return cpu_read_lin(cpu, cpu_seg_lin(cpu, in->seg, ea, size, false), size);
}

void cpu_mem_write_off(struct cpu *cpu, const struct insn *in, u64 off, unsigned size, u64 v)
{
	u64 ea = (cpu_ea(cpu, in) + off) & size_mask(in->addrsize);
	cpu_write_lin(cpu, cpu_seg_lin(cpu, in->seg, ea, size, true), size, v);
}

/* ---- reserved bits (SDM Vol. 3 2.5, 2.2.1) ---- */

#define NO_FEAT (-1)

/* CR4 bits that exist only when the guest CPUID has one of two features. */
static const struct {
	u64 bit;
	int feat, feat2;
} cr4_gates[] = {
	{ X86_CR4_VME, X86_FEATURE_VME, NO_FEAT },
	{ X86_CR4_PVI, X86_FEATURE_VME, NO_FEAT },
	{ X86_CR4_TSD, X86_FEATURE_TSC, NO_FEAT },
	{ X86_CR4_DE, X86_FEATURE_DE, NO_FEAT },
	{ X86_CR4_PSE, X86_FEATURE_PSE, NO_FEAT },
	{ X86_CR4_PAE, X86_FEATURE_PAE, NO_FEAT },
	{ X86_CR4_MCE, X86_FEATURE_MCE, NO_FEAT },
	{ X86_CR4_PGE, X86_FEATURE_PGE, NO_FEAT },
	{ X86_CR4_OSFXSR, X86_FEATURE_FXSR, NO_FEAT },
	{ X86_CR4_UMIP, X86_FEATURE_UMIP, NO_FEAT },
	{ X86_CR4_LA57, X86_FEATURE_LA57, NO_FEAT },
	{ X86_CR4_VMXE, X86_FEATURE_VMX, NO_FEAT },
	{ X86_CR4_FSGSBASE, X86_FEATURE_FSGSBASE, NO_FEAT },
	{ X86_CR4_PCIDE, X86_FEATURE_PCID, NO_FEAT },
	{ X86_CR4_OSXSAVE, X86_FEATURE_XSAVE, NO_FEAT },
	{ X86_CR4_SMEP, X86_FEATURE_SMEP, NO_FEAT },
	{ X86_CR4_SMAP, X86_FEATURE_SMAP, NO_FEAT },
	{ X86_CR4_PKE, X86_FEATURE_PKU, NO_FEAT },
	/* spec 2: CR4.CET is reserved unless the guest has SHSTK or IBT. */
	{ X86_CR4_CET, X86_FEATURE_SHSTK, X86_FEATURE_IBT },
	{ X86_CR4_PKS, X86_FEATURE_PKS, NO_FEAT },
};

/* CR4 bits that exist on every CPU cetvm models. */
#define CR4_ALWAYS (X86_CR4_PCE | X86_CR4_OSXMMEXCPT)

static bool has_any(const struct cpu *cpu, int f, int f2)
{
	return cpu_has_feature(cpu, f) || (f2 != NO_FEAT && cpu_has_feature(cpu, f2));
}

u64 cpu_cr4_reserved(const struct cpu *cpu)
{
	u64 ok = CR4_ALWAYS;
	for (unsigned i = 0; i < ARRAY_SIZE(cr4_gates); i++)
		if (has_any(cpu, cr4_gates[i].feat, cr4_gates[i].feat2))
			ok |= cr4_gates[i].bit;
	return ~ok;
}

u64 cpu_efer_reserved(const struct cpu *cpu)
{
	u64 ok = 0;
	if (cpu_has_feature(cpu, X86_FEATURE_SYSCALL) || cpu_has_feature(cpu, X86_FEATURE_LM))
		ok |= EFER_SCE;
	if (cpu_has_feature(cpu, X86_FEATURE_LM))
		ok |= EFER_LME | EFER_LMA;
	if (cpu_has_feature(cpu, X86_FEATURE_NX))
		ok |= EFER_NXE;
	return ~ok;
}

/* ---- control-register writes ---- */

/* CR0 bits that software can change; the others of 31:0 ignore writes,
 * ET reads 1, and 63:32 are reserved (#GP). */
#define CR0_WRITABLE (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE | \
		      X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)

/* MOV to CR0 (SDM Vol. 2 MOV CR; Vol. 3 2.5, 9.8.5 for IA-32e activation). */
static bool cr0_valid(const struct cpu *cpu, u64 v)
{
	u64 old = cpu->cr0;
	if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
		return false;
	if ((v & X86_CR0_NW) && !(v & X86_CR0_CD))
		return false;
	if ((v & X86_CR0_PG) && !(old & X86_CR0_PG) && (cpu->efer & EFER_LME)) {
		if (!(cpu->cr4 & X86_CR4_PAE) || (cpu->seg[SEG_CS].attr & SEG_ATTR_L))
			return false;
	}
	if (!(v & X86_CR0_PG) && (old & X86_CR0_PG) && cpu->m64)
		return false;
	if (!(v & X86_CR0_PG) && (cpu->cr4 & X86_CR4_PCIDE))
		return false;
	/* spec 2: the WP interlock, checked after the PG/PCIDE rules. */
	if (!(v & X86_CR0_WP) && (cpu->cr4 & X86_CR4_CET))
		return false;
	return true;
}

bool cpu_write_cr0(struct cpu *cpu, u64 v)
{
	if (v >> 32)
		return false;
	v = (v & CR0_WRITABLE) | X86_CR0_ET;
	if (!cr0_valid(cpu, v))
		return false;
	u64 changed = cpu->cr0 ^ v;
	cpu->cr0 = v;
	if (changed & X86_CR0_PG) {
		bool lma = (v & X86_CR0_PG) && (cpu->efer & EFER_LME);
		cpu->efer = lma ? cpu->efer | EFER_LMA : cpu->efer & ~EFER_LMA;
	}
	if (changed & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
		cpu_tlb_flush(cpu);
	if (changed & (X86_CR0_PE | X86_CR0_PG))
		cpu_update_mode(cpu);
	else if (changed & X86_CR0_AM)
		cpu_update_mmu_idx(cpu);
	return true;
}

/* MOV to CR3: bits above MAXPHYADDR are reserved in IA-32e mode; bit 63
 * with CR4.PCIDE asks not to flush and is not stored (SDM Vol. 3 4.10.4.1).
 * The software TLB is not tagged by PCID, so every load flushes it. */
bool cpu_write_cr3(struct cpu *cpu, u64 v)
{
	if (cpu->efer & EFER_LMA) {
		if (cpu->cr4 & X86_CR4_PCIDE)
			v &= ~(1ull << 63);
		if (v & ~cpu->phys_mask)
			return false;
	} else {
		v = (u32)v;
	}
	cpu->cr3 = v;
	cpu_tlb_flush(cpu);
	return true;
}

/* CR4 bits whose change alters translations or permissions in the TLB. */
#define CR4_FLUSH (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PCIDE | X86_CR4_SMEP | \
		   X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_LA57 | X86_CR4_CET | X86_CR4_PKS)

bool cpu_write_cr4(struct cpu *cpu, u64 v)
{
	u64 old = cpu->cr4, changed = old ^ v;
	if (v & cpu_cr4_reserved(cpu))
		return false;
	if ((cpu->efer & EFER_LMA) && (!(v & X86_CR4_PAE) || (changed & X86_CR4_LA57)))
		return false;
	if ((v & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!(cpu->efer & EFER_LMA) || (cpu->cr3 & 0xfff)))
		return false;
	/* spec 2: setting (or keeping) CR4.CET needs CR0.WP = 1. */
	if ((v & X86_CR4_CET) && !(cpu->cr0 & X86_CR0_WP))
		return false;
	cpu->cr4 = v;
	if (changed & CR4_FLUSH)
		cpu_tlb_flush(cpu);
	if (changed & (X86_CR4_PAE | X86_CR4_LA57))
		cpu_update_mode(cpu);
	if (changed & X86_CR4_CET)
		cet_refresh(cpu); /* CET: SSE/IBTE of the current CPL follow CR4.CET */
	return true;
}

/* EFER (WRMSR 0xC0000080): LMA is read-only; LME cannot change while
 * paging is on (SDM Vol. 3 9.8.5). */
bool cpu_write_efer(struct cpu *cpu, u64 v)
{
	if (v & cpu_efer_reserved(cpu))
		return false;
	if ((cpu->cr0 & X86_CR0_PG) && ((v ^ cpu->efer) & EFER_LME))
		return false;
	v = (v & ~EFER_LMA) | (cpu->efer & EFER_LMA);
	u64 changed = cpu->efer ^ v;
	cpu->efer = v;
	if (changed & EFER_NXE)
		cpu_tlb_flush(cpu);
	return true;
}

/* ---- MOV CR / MOV DR (0F 20-23) ---- */

static bool cr_exists(const struct cpu *cpu, unsigned n)
{
	return n == 0 || n == 2 || n == 3 || n == 4 || (n == 8 && cpu->m64);
}

u64 cpu_read_cr8(const struct cpu *cpu)
{
	const struct accel_env *e = cpu->env;
	return e && e->tpr_read ? (u64)(e->tpr_read(e->ctx) >> 4) : cpu->cr8;
}

static u64 read_cr(const struct cpu *cpu, unsigned n)
{
	switch (n) {
	case 0: return cpu->cr0;
	case 2: return cpu->cr2;
	case 3: return cpu->cr3;
	case 4: return cpu->cr4;
	default: return cpu_read_cr8(cpu);
	}
}

void op_mov_r_cr(struct cpu *cpu, const struct insn *in)
{
	if (!cr_exists(cpu, in->reg))
		cpu_ud(cpu);
	cpu_require_cpl0(cpu);
	cpu_set_reg(cpu, in->rm, cpu->m64 ? 8 : 4, true, read_cr(cpu, in->reg));
}

/* SDM Vol. 3A 11.8.6.1: a write sets TPR[7:4] = CR8[3:0], TPR[3:0] = 0. */
bool cpu_write_cr8(struct cpu *cpu, u64 v)
{
	const struct accel_env *e = cpu->env;
	if (v & ~0xfull)
		return false;
	cpu->cr8 = v;
	if (e && e->tpr_write)
		e->tpr_write(e->ctx, (u8)(v << 4));
	cpu_poll_irq(cpu); /* a lower TPR may unmask a pending interrupt */
	return true;
}

void op_mov_cr_r(struct cpu *cpu, const struct insn *in)
{
	bool ok = true;
	if (!cr_exists(cpu, in->reg))
		cpu_ud(cpu);
	cpu_require_cpl0(cpu);
	u64 v = cpu_get_reg(cpu, in->rm, cpu->m64 ? 8 : 4, true);
	switch (in->reg) {
	case 0: ok = cpu_write_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: ok = cpu_write_cr3(cpu, v); break;
	case 4: ok = cpu_write_cr4(cpu, v); break;
	default: ok = cpu_write_cr8(cpu, v); break;
	}
	if (!ok)
		cpu_gp(cpu, 0);
	cpu_break(cpu);
}

#define DR6_BD (1ull << 13)
#define DR6_FIXED_1 0xffff0ff0ull /* reads as 1 (bit 16: no RTM) */
#define DR6_VOLATILE 0xe00full    /* B0-B3, BD, BS, BT */
#define DR7_GD (1ull << 13)
#define DR7_FIXED_1 0x400ull
#define DR7_VOLATILE 0xffff2bffull

/* DR4/DR5 alias DR6/DR7 unless CR4.DE; then #UD (SDM Vol. 3 18.2.2). */
static unsigned dr_index(struct cpu *cpu, unsigned reg)
{
	if (reg > 7)
		cpu_ud(cpu);
	if (reg == 4 || reg == 5) {
		if (cpu->cr4 & X86_CR4_DE)
			cpu_ud(cpu);
		reg += 2;
	}
	cpu_require_cpl0(cpu);
	if (cpu->dr[7] & DR7_GD) {
		/* General detect: #DB (a fault) with DR6.BD; GD clears so the
		 * handler can use the debug registers (SDM Vol. 3 18.2.4). */
		cpu->dr[6] |= DR6_BD;
		cpu->dr[7] &= ~DR7_GD;
		cpu_fault_noerr(cpu, X86_EXC_DB);
	}
	return reg;
}

void op_mov_r_dr(struct cpu *cpu, const struct insn *in)
{
	unsigned n = dr_index(cpu, in->reg);
	cpu_set_reg(cpu, in->rm, cpu->m64 ? 8 : 4, true, cpu->dr[n]);
}

void op_mov_dr_r(struct cpu *cpu, const struct insn *in)
{
	unsigned n = dr_index(cpu, in->reg);
	u64 v = cpu_get_reg(cpu, in->rm, cpu->m64 ? 8 : 4, true);
	if (n >= 6 && (v >> 32))
		cpu_gp(cpu, 0);
	if (n == 6)
		v = (v & DR6_VOLATILE) | DR6_FIXED_1;
	else if (n == 7)
		v = (v & DR7_VOLATILE) | DR7_FIXED_1;
	cpu->dr[n] = v;
	cpu_break(cpu);
}

/* ---- CLTS, LMSW, SMSW ---- */

void op_clts(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_require_cpl0(cpu);
	cpu->cr0 &= ~X86_CR0_TS;
}

/* LMSW loads CR0[3:0] and can set PE but not clear it; WP and CET are
 * out of its reach (spec 2). */
void op_lmsw(struct cpu *cpu, const struct insn *in)
{
	cpu_require_cpl0(cpu);
	u64 msw = cpu_rm_read(cpu, in, 2) & 0xf;
	u64 v = (cpu->cr0 & ~0xeull) | msw;
	if (!cpu_write_cr0(cpu, v))
		cpu_gp(cpu, 0);
}

void op_smsw(struct cpu *cpu, const struct insn *in)
{
	cpu_umip_check(cpu);
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, 2, cpu->cr0 & 0xffff);
	else
		cpu_set_reg(cpu, in->rm, in->opsize, true, cpu->cr0 & size_mask(in->opsize));
}

/* ---- HLT, CLI, STI ---- */

void op_hlt(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_require_cpl0(cpu);
	cpu->halted = true;
	cpu_break(cpu);
}

/* Which flag CLI/STI changes: IF when IOPL allows, else VIF under PVI
 * (CPL 3) or VME (VM86), else #GP(0) (SDM Vol. 2 CLI, STI; Vol. 3 20.4). */
static u64 if_flag(struct cpu *cpu, bool sti)
{
	u64 fl = cpu->eflags;
	unsigned iopl = (fl >> 12) & 3;
	bool vif_ok;
	if (!(cpu->cr0 & X86_CR0_PE))
		return X86_EFLAGS_IF;
	if (!(fl & X86_EFLAGS_VM)) {
		if (cpu->cpl <= iopl)
			return X86_EFLAGS_IF;
		vif_ok = cpu->cpl == 3 && (cpu->cr4 & X86_CR4_PVI);
	} else {
		if (iopl == 3)
			return X86_EFLAGS_IF;
		vif_ok = cpu->cr4 & X86_CR4_VME;
	}
	if (!vif_ok || (sti && (fl & X86_EFLAGS_VIP)))
		cpu_gp(cpu, 0);
	return X86_EFLAGS_VIF;
}

void op_cli(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->eflags &= ~if_flag(cpu, false);
}

/* STI: interrupts stay blocked until after the next instruction when IF
 * was 0 (SDM Vol. 3 6.8.3). */
void op_sti(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u64 f = if_flag(cpu, true);
	if (f == X86_EFLAGS_IF && !(cpu->eflags & X86_EFLAGS_IF))
		cpu_set_irq_shadow(cpu);
	cpu->eflags |= f;
	cpu_poll_irq(cpu);
}

/* ---- IN / OUT ---- */

static u64 tss_read16(struct cpu *cpu, u32 off)
{
	return cpu_read_slow(cpu, cpu->seg[SEG_TR].base + off, 2, ACC_SUPER);
}

/* I/O permission (SDM Vol. 1 19.5): IOPL, then the TSS I/O bitmap, whose
 * offset is the word at TSS+0x66. Every bit for port .. port+size-1 must be
 * 0; the two bytes read must lie within the TSS limit. */
void cpu_io_check(struct cpu *cpu, u16 port, unsigned size)
{
	unsigned iopl = (cpu->eflags >> 12) & 3;
	if (!(cpu->cr0 & X86_CR0_PE))
		return;
	if (!(cpu->eflags & X86_EFLAGS_VM) && cpu->cpl <= iopl)
		return;
	const struct seg *tr = &cpu->seg[SEG_TR];
	unsigned type = tr->attr & SEG_ATTR_TYPE;
	if ((tr->attr & SEG_ATTR_UNUSABLE) || (type != 9 && type != 11) || tr->limit < 0x67)
		cpu_gp(cpu, 0);
	u32 off = (u32)tss_read16(cpu, 0x66) + port / 8;
	if (off + 1 > tr->limit)
		cpu_gp(cpu, 0);
	u32 mask = ((1u << size) - 1) << (port & 7);
	if (tss_read16(cpu, off) & mask)
		cpu_gp(cpu, 0);
}

static void do_in(struct cpu *cpu, const struct insn *in, u16 port)
{
	cpu_io_check(cpu, port, in->opsize);
	u64 v = cpu_port_read(cpu, port, in->opsize);
	cpu_set_reg(cpu, R_AX, in->opsize, false, v);
}

static void do_out(struct cpu *cpu, const struct insn *in, u16 port)
{
	cpu_io_check(cpu, port, in->opsize);
	cpu_port_write(cpu, port, in->opsize, cpu_get_reg(cpu, R_AX, in->opsize, false));
}

void op_in_imm(struct cpu *cpu, const struct insn *in)
{
	do_in(cpu, in, (u16)(in->imm & 0xff));
}

void op_in_dx(struct cpu *cpu, const struct insn *in)
{
	do_in(cpu, in, (u16)cpu->r[R_DX]);
}

void op_out_imm(struct cpu *cpu, const struct insn *in)
{
	do_out(cpu, in, (u16)(in->imm & 0xff));
}

void op_out_dx(struct cpu *cpu, const struct insn *in)
{
	do_out(cpu, in, (u16)cpu->r[R_DX]);
}

/* ---- TLB and cache control ---- */

/* Linear address of the memory operand without limit or canonical
 * checks (INVLPG never faults on the address). */
static u64 operand_la(struct cpu *cpu, const struct insn *in)
{
	u64 ea = cpu_ea(cpu, in);
	if (cpu->m64)
		return ea + (in->seg >= SEG_FS ? cpu->seg[in->seg].base : 0);
	return (cpu->seg[in->seg].base + ea) & 0xffffffffull;
}

void op_invlpg(struct cpu *cpu, const struct insn *in)
{
	cpu_require_cpl0(cpu);
	cpu_tlb_flush_page(cpu, operand_la(cpu, in));
	cpu_break(cpu); /* the rest of this block may now translate differently */
}

/* INVPCID (SDM Vol. 2): the TLB is not tagged by PCID, so types 1-3 flush
 * everything and type 0 one page, after the architectural checks. */
void op_invpcid(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_INVPCID))
		cpu_ud(cpu);
	if ((cpu->eflags & X86_EFLAGS_VM) || cpu->cpl)
		cpu_gp(cpu, 0);
	u64 type = cpu_get_reg(cpu, in->reg, cpu->m64 ? 8 : 4, true);
	u64 pcid = cpu_mem_read(cpu, in, 8);
	u64 la = cpu_mem_read_off(cpu, in, 8, 8);
	if (type > 3 || (pcid >> 12))
		cpu_gp(cpu, 0);
	if (type <= 1 && pcid && !(cpu->cr4 & X86_CR4_PCIDE))
		cpu_gp(cpu, 0);
	if (type == 0 && cpu_canonical(la) != la)
		cpu_gp(cpu, 0);
	if (type == 0)
		cpu_tlb_flush_page(cpu, la);
	else
		cpu_tlb_flush(cpu);
	cpu_break(cpu);
}

/* WBINVD / INVD: caches are not modelled. */
void op_wbinvd(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_require_cpl0(cpu);
}

/* CLFLUSH, CLFLUSHOPT, CLWB: the access checks of a byte read only. */
void op_clflush(struct cpu *cpu, const struct insn *in)
{
	int f = X86_FEATURE_CLFSH;
	if (in->flags & IF_OPSIZE)
		f = in->reg == 7 ? X86_FEATURE_CLFLUSHOPT : X86_FEATURE_CLWB;
	if (!cpu_has_feature(cpu, f))
		cpu_ud(cpu);
	cpu_mem_read(cpu, in, 1);
}

/* LFENCE, MFENCE (SSE2) and SFENCE (SSE): one CPU, in order. */
void op_fence(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, in->reg == 7 ? X86_FEATURE_SSE : X86_FEATURE_SSE2))
		cpu_ud(cpu);
}

/* UD0, UD1, UD2. */
void op_ud(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

/* ---- CLAC/STAC, MONITOR/MWAIT ---- */

/* CLAC / STAC (0F 01 CA / CB): #UD without SMAP or at CPL > 0. */
void op_clac_stac(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_SMAP) || cpu->cpl)
		cpu_ud(cpu);
	u64 f = cpu_get_rflags(cpu) & ~X86_EFLAGS_AC;
	cpu_set_rflags(cpu, (in->modrm & 1) ? f | X86_EFLAGS_AC : f);
}

/* MONITOR / MWAIT (0F 01 C8 / C9): #UD unless the guest CPUID has them.
 * MWAIT may return at any time, so returning at once is a correct MWAIT. */
void op_monitor_mwait(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_MONITOR) || cpu->cpl)
		cpu_ud(cpu);
	bool mwait = in->modrm & 1;
	if ((u32)cpu->r[R_CX] > (mwait ? 1u : 0u))
		cpu_gp(cpu, 0);
	if (!mwait) {
		u64 off = cpu->r[R_AX] & size_mask(in->addrsize);
		cpu_read_lin(cpu, cpu_seg_lin(cpu, in->seg, off, 1, false), 1);
	}
}
