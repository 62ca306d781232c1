/* pku.c: protection keys for user pages: RDPKRU and WRPKRU (SDM Vol. 3 4.6.2). */
#include "ops.h"

static void check_pku(struct cpu *cpu)
{
	if (!(cpu->cr4 & X86_CR4_PKE))
		cpu_ud(cpu);
	if ((u32)cpu->r[R_CX] != 0)
		cpu_gp(cpu, 0);
}

void op_rdpkru(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	check_pku(cpu);
	cpu->r[R_AX] = cpu->pkru;
	cpu->r[R_DX] = 0;
}

void op_wrpkru(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	check_pku(cpu);
	if ((u32)cpu->r[R_DX] != 0)
		cpu_gp(cpu, 0);
	cpu_set_pkru(cpu, (u32)cpu->r[R_AX]);
}
