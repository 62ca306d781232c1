/* flagops.c: instructions on the flags register and on AL's decimal digits:
 * CLC STC CMC CLD STD, LAHF SAHF, DAA DAS AAA AAS AAM AAD (SDM Vol. 2). */
#include "alu.h"
#include "ops.h"

void op_clc(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	alu_flags_set_some(cpu, X86_EFLAGS_CF, 0);
}

void op_stc(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	alu_flags_set_some(cpu, X86_EFLAGS_CF, X86_EFLAGS_CF);
}

void op_cmc(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_flags_materialize(cpu);
	cpu->eflags ^= X86_EFLAGS_CF;
}

/* DF is not an arithmetic flag: eflags holds it whatever cc_op says. */
void op_cld(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->eflags &= ~X86_EFLAGS_DF;
}

void op_std(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->eflags |= X86_EFLAGS_DF;
}

#define LAHF_MASK (X86_EFLAGS_SF | X86_EFLAGS_ZF | X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF)

/* AH := SF:ZF:0:AF:0:PF:1:CF. In 64-bit mode hardware needs
 * CPUID.80000001H:ECX.LAHF-SAHF[bit 0], which every x86-64 CPU we model has. */
void op_lahf(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u64 f = cpu_get_rflags(cpu);
	cpu_set_reg(cpu, R_SP, 1, false, (f & LAHF_MASK) | X86_EFLAGS_FIXED); /* AH */
}

void op_sahf(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	alu_flags_set_some(cpu, LAHF_MASK, (cpu->r[R_AX] >> 8) & 0xff);
}

/* ---- decimal adjust (invalid in 64-bit mode: the table says OPF_INV64) ----
 * The flags the SDM leaves undefined are set from the result the cheap way:
 * SF/ZF/PF of AL, OF cleared. */

static u8 get_al(const struct cpu *cpu)
{
	return (u8)cpu->r[R_AX];
}

static void set_al(struct cpu *cpu, u64 v)
{
	cpu->r[R_AX] = (cpu->r[R_AX] & ~0xffull) | (v & 0xff);
}

/* DAA / DAS: SDM Vol. 2 "DAA" and "DAS", Operation. */
static void decimal_adjust(struct cpu *cpu, bool sub)
{
	u64 f = cpu_get_rflags(cpu);
	u8 al = get_al(cpu), old_al = al;
	bool old_cf = f & X86_EFLAGS_CF, cf = false, af = false;
	if ((al & 0xf) > 9 || (f & X86_EFLAGS_AF)) {
		cf = old_cf || (sub ? al < 6 : al > 0xf9);
		al = (u8)(sub ? al - 6 : al + 6);
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al = (u8)(sub ? al - 0x60 : al + 0x60);
		cf = true;
	} else if (!sub) {
		cf = false; /* DAS keeps the borrow of the first step */
	}
	set_al(cpu, al);
	alu_flags_set_all(cpu, alu_szp(al, 1) | (cf ? X86_EFLAGS_CF : 0) |
				       (af ? X86_EFLAGS_AF : 0));
}

void op_daa(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	decimal_adjust(cpu, false);
}

void op_das(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	decimal_adjust(cpu, true);
}

/* AAA / AAS: SDM Vol. 2 "AAA" and "AAS": AX := AX +/- 106H on adjust. */
static void ascii_adjust(struct cpu *cpu, bool sub)
{
	u64 f = cpu_get_rflags(cpu);
	u16 ax = (u16)cpu->r[R_AX];
	bool adj = (ax & 0xf) > 9 || (f & X86_EFLAGS_AF);
	if (adj)
		ax = (u16)(sub ? ax - 0x106 : ax + 0x106);
	ax &= 0xff0f;
	cpu_set_reg(cpu, R_AX, 2, false, ax);
	alu_flags_set_all(cpu, alu_szp(ax, 1) | (adj ? X86_EFLAGS_AF | X86_EFLAGS_CF : 0));
}

void op_aaa(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	ascii_adjust(cpu, false);
}

void op_aas(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	ascii_adjust(cpu, true);
}

/* AAM imm8: AH := AL / imm8; AL := AL MOD imm8; #DE if imm8 = 0. */
void op_aam(struct cpu *cpu, const struct insn *in)
{
	u8 base = (u8)in->imm, al = get_al(cpu);
	if (base == 0)
		cpu_fault_noerr(cpu, X86_EXC_DE);
	u8 r = al % base;
	cpu_set_reg(cpu, R_AX, 2, false, (u64)(al / base) << 8 | r);
	cpu_set_cc(cpu, CC_LOGIC, 1, r, 0, 0);
}

/* AAD imm8: AL := (AL + AH * imm8) AND FFH; AH := 0. The undefined OF, AF
 * and CF come from that 8-bit addition. */
void op_aad(struct cpu *cpu, const struct insn *in)
{
	u8 al = get_al(cpu), ah = (u8)(cpu->r[R_AX] >> 8);
	u8 prod = (u8)(ah * (u8)in->imm), r = (u8)(al + prod);
	cpu_set_reg(cpu, R_AX, 2, false, r);
	cpu_set_cc(cpu, CC_ADD, 1, r, prod, al);
}
