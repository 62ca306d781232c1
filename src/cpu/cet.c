/* cet.c: CET predicates, the IBT tracker and ENDBR (spec/cet.md 7). */
#include "cet.h"

#include "../log.h"
#include "ops.h"

bool cet_canon(u64 v)
{
	struct vcpu_cpuid sup;
	cpu_supported_cpuid(&sup);
	bool la57 = false;
	for (int i = 0; i < sup.n; i++)
		if (sup.e[i].function == 7 && sup.e[i].index == 0)
			la57 = (sup.e[i].ecx >> 16) & 1;
	unsigned sh = la57 ? 7 : 16;
	return (u64)((s64)(v << sh) >> sh) == v;
}

bool cet_valid_ctl(const struct cpu *cpu, u64 v)
{
	if (v & CET_RESERVED)
		return false;
	if (!cpu_has_feature(cpu, X86_FEATURE_SHSTK) && (v & (CET_SHSTK_EN | CET_WRSS_EN)))
		return false;
	if (!cpu_has_feature(cpu, X86_FEATURE_IBT) && (v & 0xfffffffffffffc3cull))
		return false;
	if ((v >> 12) & 3)
		return false; /* the legacy bitmap base is 16 KiB aligned */
	return !((v & CET_SUPPRESS) && (v & CET_WAIT_ENDBR));
}

bool cet_valid_ssp(u64 v)
{
	return cet_canon(v) && !(v & 3);
}

void cet_refresh(struct cpu *cpu)
{
	bool ibte = cet_ibte(cpu, cpu->cpl);
	u64 ctl = *cet_ctl(cpu, cpu->cpl);
	cpu->sse_cur = cet_sse(cpu, cpu->cpl);
	cpu->ibt_wait = ibte && (ctl & CET_WAIT_ENDBR);
	cpu->ibt_arm = ibte && !(ctl & CET_SUPPRESS);
}

/* Legacy code-page bitmap lookup (spec 7.3 step 2): an implicit supervisor
 * data read of the bit for the page holding la. */
static bool legacy_page(struct cpu *cpu, u64 ctl, u64 la)
{
	u64 base = ctl & ~0xfffull;
	u64 byte = cpu_read_slow(cpu, base + ((la & 0xffffffffffffull) >> 15), 1, ACC_SUPER);
	return (byte >> ((la >> 12) & 7)) & 1;
}

void cet_check_endbr(struct cpu *cpu, const struct insn *first)
{
	u64 *ctl = cet_ctl(cpu, cpu->cpl);
	if (first->map == 0 && first->op == 0xcc)
		return; /* INT3 is exempt (spec 7.3, open question: Bochs) */
	u64 la = cpu->seg[SEG_CS].base + cpu->rip;
	if ((*ctl & CET_LEG_IW_EN) && legacy_page(cpu, *ctl, la)) {
		*ctl &= ~(CET_WAIT_ENDBR | CET_SUPPRESS);
		if (!(*ctl & CET_SUPPRESS_DIS))
			*ctl |= CET_SUPPRESS;
		cet_refresh(cpu);
		return;
	}
	if (cpu->trace & CPU_TRACE_CET)
		log_info("#CP(3) ENDBRANCH: missing ENDBR at rip %#llx, cpl %d",
			 (unsigned long long)cpu->rip, cpu->cpl);
	cpu_fault(cpu, X86_EXC_CP, CP_ENDBRANCH);
}

/* ENDBR32/ENDBR64 (F3 0F 1E FB/FA): the mode-correct form ends a WAIT. */
void op_endbr(struct cpu *cpu, const struct insn *in)
{
	if (!(*cet_ctl(cpu, cpu->cpl) & (CET_WAIT_ENDBR | CET_SUPPRESS)))
		return; /* already IDLE and not suppressed: nothing to change */
	if (!cet_is_endbr(cpu, in) || !cet_ibte(cpu, cpu->cpl))
		return;
	*cet_ctl(cpu, cpu->cpl) &= ~(CET_WAIT_ENDBR | CET_SUPPRESS);
	cet_refresh(cpu);
}

static unsigned ss_width(const struct cpu *cpu)
{
	return cpu->m64 ? 8 : 4;
}

void cet_push_ret_slow(struct cpu *cpu, u64 ret)
{
	unsigned n = ss_width(cpu);
	u64 ssp = cpu->cet.ssp - n;
	if (n == 4)
		ssp &= 0xffffffffull;
	u8 *p = cet_ss_fast(cpu, ssp, n);
	if (p)
		store_le(p, n, ret);
	else
		cpu_write_slow(cpu, ssp, n, ret, ACC_SHSTK | ACC_WRITE);
	cpu->cet.ssp = ssp;
}

void cet_pop_ret_slow(struct cpu *cpu, u64 ret)
{
	unsigned n = ss_width(cpu);
	u64 ssp = cpu->cet.ssp;
	cpu_sync_rip(cpu); /* for the trace line */
	const u8 *p = cet_ss_fast(cpu, ssp, n);
	u64 shadow = p ? load_le(p, n) : cpu_read_slow(cpu, ssp, n, ACC_SHSTK);
	if (shadow != (ret & size_mask(n))) {
		if (cpu->trace & CPU_TRACE_CET)
			log_info("#CP(1) NEAR-RET at rip %#llx, cpl %d: return address %#llx, "
				 "shadow stack has %#llx at ssp %#llx",
				 (unsigned long long)cpu->rip, cpu->cpl, (unsigned long long)ret,
				 (unsigned long long)shadow, (unsigned long long)ssp);
		cpu_fault(cpu, X86_EXC_CP, CP_NEAR_RET);
	}
	cpu->cet.ssp = n == 4 ? (ssp + n) & 0xffffffffull : ssp + n;
}

void cet_far_branch(struct cpu *cpu)
{
	if (!cet_ibte(cpu, cpu->cpl))
		return;
	u64 *ctl = cet_ctl(cpu, cpu->cpl);
	*ctl = (*ctl & ~CET_SUPPRESS) | CET_WAIT_ENDBR;
	cet_refresh(cpu);
}

