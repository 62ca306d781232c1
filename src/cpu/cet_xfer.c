/* cet_xfer.c: shadow-stack frames and stack switches of far transfers
 * (spec/cet.md 5.4; SDM Vol. 1 17.2.3-17.2.5). */
#include "cet_xfer.h"

#include "../log.h"
#include "cet.h"
#include "cet_insn.h"

void cet_cp_far(struct cpu *cpu, const char *why, u64 a, u64 b)
{
	if (cpu->trace & CPU_TRACE_CET)
		log_info("#CP(2) FAR-RET/IRET at rip %#llx, cpl %d: %s (%#llx, %#llx)",
			 (unsigned long long)cpu->rip, cpu->cpl, why, (unsigned long long)a,
			 (unsigned long long)b);
	cpu_fault(cpu, X86_EXC_CP, CP_FAR_RET);
}

void cet_check_ssp32(struct cpu *cpu, u64 ssp, bool target64)
{
	if (!target64 && (ssp >> 32))
		cpu_gp(cpu, 0);
}

u64 cet_switch_to(struct cpu *cpu, u64 n, bool target64)
{
	if (n & 7)
		cpu_gp(cpu, 0);
	cet_check_ssp32(cpu, n, target64);
	/* Busy or not a token: #GP(0), never #CP (SDM Vol. 1 17.2.3). */
	if (!cet_token_acquire(cpu, n)) {
		if (cpu->trace & CPU_TRACE_CET)
			log_info("#GP(0): no free supervisor shadow-stack token at %#llx",
				 (unsigned long long)n);
		cpu_gp(cpu, 0);
	}
	return n;
}

static u64 ss_push8(struct cpu *cpu, u64 ssp, unsigned cpl, u64 v)
{
	ssp -= 8;
	cpu_write_slow(cpu, ssp, 8, v, cet_ss_acc(cpl) | ACC_WRITE);
	return ssp;
}

u64 cet_push_frame(struct cpu *cpu, u64 ssp, unsigned cpl, u16 cs, u64 lip, u64 old)
{
	if (ssp & 7) {
		/* The alignment hole (only possible outside 64-bit mode). */
		cpu_write_slow(cpu, ssp - 4, 4, 0, cet_ss_acc(cpl) | ACC_WRITE);
		ssp &= ~7ull;
	}
	ssp = ss_push8(cpu, ssp, cpl, cs);
	ssp = ss_push8(cpu, ssp, cpl, lip);
	return ss_push8(cpu, ssp, cpl, old);
}

u64 cet_restore_frame(struct cpu *cpu, u64 *ssp, unsigned cpl, u16 cs, u64 lip,
		      bool target64)
{
	u64 at = *ssp;
	unsigned acc = cet_ss_acc(cpl);
	if (at & 7)
		cet_cp_far(cpu, "SSP not 8-aligned", at, 0);
	u64 prev = cpu_read_slow(cpu, at, 8, acc);
	u64 slip = cpu_read_slow(cpu, at + 8, 8, acc);
	u64 scs = cpu_read_slow(cpu, at + 16, 8, acc);
	if (scs != cs)
		cet_cp_far(cpu, "CS differs from the shadow stack", cs, scs);
	if (slip != lip)
		cet_cp_far(cpu, "LIP differs from the shadow stack", lip, slip);
	if (prev & 3)
		cet_cp_far(cpu, "saved SSP not 4-aligned", prev, at);
	cet_check_ssp32(cpu, prev, target64);
	*ssp = at + 24;
	return prev;
}

u64 cet_ist_ssp(struct cpu *cpu, unsigned ist)
{
	return cpu_read_slow(cpu, cpu->cet.int_ssp_tab + 8ull * ist, 8, ACC_SUPER);
}

/* Far RET / IRET to an outer privilege (spec 5.8). The token release comes
 * before the commit here, so that its #PF finds the old state intact. */
u64 cet_ret_outer(struct cpu *cpu, u16 sel, u64 lip, bool t64)
{
	unsigned old = cpu->cpl, rpl = sel & 3;
	u64 ssp = cpu->cet.ssp, new_ssp = cpu->cet.pl_ssp[3];
	bool sse_old = cet_sse(cpu, old);
	if (sse_old) {
		if (ssp & 7)
			cet_cp_far(cpu, "SSP not 8-aligned", ssp, 0);
		if (rpl != 3)
			new_ssp = cet_restore_frame(cpu, &ssp, old, sel, lip, t64);
	}
	u64 tok = ssp;
	if (cet_sse(cpu, rpl))
		cet_check_ssp32(cpu, new_ssp, t64);
	else
		new_ssp = ssp;
	if (sse_old)
		cet_token_release(cpu, tok);
	return new_ssp;
}
