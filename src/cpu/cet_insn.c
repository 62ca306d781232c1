/* cet_insn.c: the shadow-stack instructions and supervisor tokens
 * (spec/cet.md 5.3 and 6; SDM Vol. 1 ch. 17, Vol. 2 INCSSP ... WRUSS).
 *
 * Every handler computes its result first and commits SSP, memory-visible
 * state and flags only after the last access that can fault, so a fault
 * leaves SSP as it was at the start (spec 5.1). A LOCK prefix never reaches
 * these handlers: the table entries do not allow it, so decode gives #UD.
 */
#include "cet_insn.h"

#include <stdarg.h>
#include <stdio.h>

#include "../log.h"
#include "cet.h"
#include "ops.h"

/* A 64-bit value outside 64-bit mode only uses SSP[31:0] (spec 5.1). */
static u64 ssp_la(const struct cpu *cpu, u64 v)
{
	return cpu->m64 ? v : v & 0xffffffffull;
}

static u64 ss_read(struct cpu *cpu, u64 la, unsigned size)
{
	return cpu_read_slow(cpu, ssp_la(cpu, la), size, ACC_SHSTK);
}

static void ss_write(struct cpu *cpu, u64 la, unsigned size, u64 v)
{
	cpu_write_slow(cpu, ssp_la(cpu, la), size, v, ACC_SHSTK | ACC_WRITE);
}

/* Raise #CP(code); under -trace cet, log RIP, CPL, the code and why. */
__attribute__((noreturn, format(printf, 3, 4))) static void cp_fault(struct cpu *cpu, u32 code, const char *fmt, ...)
{
	if (cpu->trace & CPU_TRACE_CET) {
		char why[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		log_info("#CP(%u) at rip %#llx, cpl %d: %s", code, (unsigned long long)cpu->rip,
			 cpu->cpl, why);
	}
	cpu_fault(cpu, X86_EXC_CP, code);
}

/* #UD unless SSE(CPL). Covers CR4.CET = 0, real and virtual-8086 mode. */
static void need_sse(struct cpu *cpu)
{
	if (!cet_sse(cpu, cpu->cpl))
		cpu_ud(cpu);
}

/* SETSSBSY and CLRSSBSY: #UD unless SSE(0), then #GP(0) unless CPL 0. */
static void need_sse0_cpl0(struct cpu *cpu)
{
	if (!cet_sse(cpu, 0))
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

/* Linear address of the memory operand for a `size`-byte write. */
static u64 operand_la(struct cpu *cpu, const struct insn *in, unsigned size)
{
	return cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, true);
}

/* Arithmetic flags after RSTORSSP and CLRSSBSY: CF as given, ZF, PF, AF,
 * OF and SF cleared. */
static void set_cf_only(struct cpu *cpu, bool cf)
{
	cpu_flags_materialize(cpu);
	cpu->eflags &= ~X86_EFLAGS_ARITH;
	if (cf)
		cpu->eflags |= X86_EFLAGS_CF;
}

/* ---- supervisor shadow-stack tokens (spec 5.3) ---- */

bool cet_token_acquire(struct cpu *cpu, u64 la)
{
	/* One locked supervisor shadow-stack read-modify-write: only a
	 * free token ([X] == X) is written, as X | BUSY. */
	u64 tok = cpu_read_slow(cpu, la, 8, ACC_SHSTK | ACC_SUPER | ACC_WRITE);
	if (tok != la)
		return false;
	cpu_write_slow(cpu, la, 8, la | 1, ACC_SHSTK | ACC_SUPER | ACC_WRITE);
	return true;
}

bool cet_token_release(struct cpu *cpu, u64 la)
{
	/* Frees a busy token ([X] == X | 1); anything else stays as it is. */
	u64 tok = cpu_read_slow(cpu, la, 8, ACC_SHSTK | ACC_SUPER | ACC_WRITE);
	if (tok != (la | 1))
		return false;
	cpu_write_slow(cpu, la, 8, la, ACC_SHSTK | ACC_SUPER | ACC_WRITE);
	return true;
}

/* ---- the instructions (spec 6) ---- */

/* INCSSPD r32 / INCSSPQ r64 (F3 [REX.W] 0F AE /5, mod = 11). */
void op_incssp(struct cpu *cpu, const struct insn *in)
{
	need_sse(cpu);
	unsigned s = in->opsize;
	u64 n = cpu->r[in->rm] & 0xff;
	u64 ssp = cpu->cet.ssp;
	/* Reads at SSP and at the last popped element, for their #PF. */
	ss_read(cpu, ssp, s);
	if (n > 0)
		ss_read(cpu, ssp + (n - 1) * s, s);
	cpu->cet.ssp = ssp_la(cpu, ssp + n * s);
}

/* RDSSPD r32 / RDSSPQ r64 (F3 [REX.W] 0F 1E /1, mod = 11): a NOP unless
 * SSE(CPL), so that code using it runs where shadow stacks are off. */
void op_rdssp(struct cpu *cpu, const struct insn *in)
{
	if (!cet_sse(cpu, cpu->cpl))
		return;
	cpu_set_reg(cpu, in->rm, in->opsize, false, cpu->cet.ssp);
}

/* SAVEPREVSSP (F3 0F 01 EA): pop the previous-SSP token (and an alignment
 * hole when CF = 1) and push a restore token on the previous stack. The
 * SDM order: the pop comes before the CF test, so its #PF comes first. */
void op_saveprevssp(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	need_sse(cpu);
	u64 ssp = cpu->cet.ssp;
	if (ssp & 7)
		cpu_gp(cpu, 0);
	u64 tok = ss_read(cpu, ssp, 8);
	ssp += 8;
	if (cpu_get_cf(cpu)) {
		if (cpu->m64)
			cpu_gp(cpu, 0); /* no alignment holes in 64-bit mode */
		if (ss_read(cpu, ssp, 4) != 0)
			cpu_gp(cpu, 0);
		ssp += 4;
	}
	if (!(tok & 2))
		cpu_gp(cpu, 0); /* not a previous-SSP token */
	if (!cpu->m64 && (tok >> 32))
		cpu_gp(cpu, 0);
	u64 old = tok & ~3ull;
	ss_write(cpu, old - 4, 4, 0);
	ss_write(cpu, (old & ~7ull) - 8, 8, old | cpu->m64);
	cpu->cet.ssp = ssp_la(cpu, ssp);
}

/* Validity of a restore token for RSTORSSP at la (spec 5.3). */
static bool restore_token_valid(const struct cpu *cpu, u64 tok, u64 la)
{
	if ((tok & 3) != (u64)cpu->m64)
		return false;
	if (!cpu->m64 && (tok >> 32))
		return false;
	return (((tok & ~1ull) - 8) & ~7ull) == la;
}

/* RSTORSSP m64 (F3 0F 01 /5, memory only). */
void op_rstorssp(struct cpu *cpu, const struct insn *in)
{
	need_sse(cpu);
	u64 la = operand_la(cpu, in, 8);
	if (la & 7)
		cpu_gp(cpu, 0);
	/* One locked shadow-stack read-modify-write: an invalid token is
	 * written back unchanged before the #CP (SDM RSTORSSP). */
	u64 tok = cpu_read_slow(cpu, la, 8, ACC_SHSTK | ACC_WRITE);
	bool ok = restore_token_valid(cpu, tok, la);
	u64 prev = ssp_la(cpu, cpu->cet.ssp) | cpu->m64 | 2;
	ss_write(cpu, la, 8, ok ? prev : tok);
	if (!ok)
		cp_fault(cpu, CP_RSTORSSP, "restore token %#llx at %#llx is not valid (m64 %d)",
			 (unsigned long long)tok, (unsigned long long)la, cpu->m64);
	cpu->cet.ssp = la;
	set_cf_only(cpu, tok & 4); /* 1: the saved SSP had an alignment hole */
}

/* A WRSS/WRUSS destination: #GP(0) unless aligned to its size. */
static u64 wrss_dest(struct cpu *cpu, const struct insn *in)
{
	u64 la = operand_la(cpu, in, in->opsize);
	if (la & (in->opsize - 1))
		cpu_gp(cpu, 0);
	return la;
}

/* WRSSD/WRSSQ m, r (0F 38 F6, no mandatory prefix): a shadow-stack write
 * with the privilege of the current CPL. */
void op_wrss(struct cpu *cpu, const struct insn *in)
{
	if (!cet_sse(cpu, cpu->cpl) || !(*cet_ctl(cpu, cpu->cpl) & CET_WRSS_EN))
		cpu_ud(cpu); /* WSE(CPL) */
	u64 la = wrss_dest(cpu, in);
	cpu_write_slow(cpu, la, in->opsize, cpu->r[in->reg], ACC_SHSTK | ACC_WRITE);
}

/* WRUSSD/WRUSSQ m, r (66 0F 38 F5): a user shadow-stack write from CPL 0,
 * allowed whatever the SH_STK_EN bits say. */
void op_wruss(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & X86_CR4_CET) || !cet_pm(cpu))
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	u64 la = wrss_dest(cpu, in);
	cpu_write_slow(cpu, la, in->opsize, cpu->r[in->reg], ACC_SHSTK | ACC_USER | ACC_WRITE);
}

/* SETSSBSY (F3 0F 01 E8): make the token at PL0_SSP busy and switch to it. */
void op_setssbsy(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	need_sse0_cpl0(cpu);
	u64 la = cpu->cet.pl_ssp[0];
	if (la & 7)
		cpu_gp(cpu, 0);
	/* SDM: #CP(SETSSBSY) also when outside 64-bit mode the token
	 * address is not below 4 GiB; checked before the token changes. */
	if (!cpu->m64 && (la >> 32))
		cp_fault(cpu, CP_SETSSBSY, "PL0_SSP %#llx is above 4 GiB outside 64-bit mode",
			 (unsigned long long)la);
	if (!cet_token_acquire(cpu, la))
		cp_fault(cpu, CP_SETSSBSY, "no free supervisor token at PL0_SSP %#llx",
			 (unsigned long long)la);
	cpu->cet.ssp = la;
}

/* CLRSSBSY m64 (F3 0F AE /6, memory only): free a busy supervisor token;
 * CF = 1 reports an invalid one (spec 6, SDM polarity). SSP becomes 0. */
void op_clrssbsy(struct cpu *cpu, const struct insn *in)
{
	need_sse0_cpl0(cpu);
	u64 la = operand_la(cpu, in, 8);
	if (la & 7)
		cpu_gp(cpu, 0);
	bool freed = cet_token_release(cpu, la);
	cpu->cet.ssp = 0;
	set_cf_only(cpu, !freed);
}
