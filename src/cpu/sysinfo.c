/* sysinfo.c: CPUID, time stamp and random numbers (RDTSC, RDTSCP, RDPID,
 * RDRAND, RDSEED, RDPMC), SWAPGS and RD/WR FS/GS BASE. */
#include "system.h"

#include "ops.h"
#include "xsave.h"

/* ---- CPUID ---- */

static u32 range_max(const struct cpu *cpu, u32 base)
{
	const struct vcpu_cpuid_entry *e = cpu_cpuid_entry(cpu, base, 0);
	return e ? e->eax : 0;
}

/* A leaf above the maximum of its range (basic, hypervisor 0x4000_00xx,
 * extended 0x8000_00xx) returns the data of the highest basic leaf, as
 * Intel CPUs do (SDM Vol. 2 CPUID). */
static u32 effective_leaf(const struct cpu *cpu, u32 leaf)
{
	u32 base = 0;
	if (leaf >= 0x80000000u)
		base = leaf & 0xf0000000u;
	else if (leaf >= 0x40000000u && leaf <= 0x4fffffffu)
		base = 0x40000000u;
	u32 max = range_max(cpu, base);
	if (leaf <= max && (base == 0 || max >= base))
		return leaf;
	return range_max(cpu, 0);
}

#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_7_ECX_OSPKE (1u << 4)
#define CPUID_D1_EAX_XSAVEC (1u << 1)
#define CPUID_D1_EAX_XSAVES (1u << 3)

static u32 set_bit_if(u32 v, u32 bit, bool on)
{
	return on ? v | bit : v & ~bit;
}

/* Bits that follow the vCPU's state, not the configured table. */
static void dynamic_bits(struct cpu *cpu, u32 leaf, u32 sub, u32 r[4])
{
	if (leaf == 1) {
		r[1] &= 0x00ffffffu; /* initial APIC ID: one vCPU, ID 0 */
		r[2] = set_bit_if(r[2], CPUID_1_ECX_OSXSAVE, cpu->cr4 & X86_CR4_OSXSAVE);
	} else if (leaf == 7 && sub == 0) {
		r[2] = set_bit_if(r[2], CPUID_7_ECX_OSPKE, cpu->cr4 & X86_CR4_PKE);
	} else if (leaf == 0xb || leaf == 0x1f) {
		r[3] = 0; /* x2APIC ID */
	} else if (leaf == 0xd && sub == 0) {
		r[1] = (u32)xsave_size_std(cpu->xcr0); /* spec 1.2 */
	} else if (leaf == 0xd && sub == 1 &&
		   (r[0] & (CPUID_D1_EAX_XSAVEC | CPUID_D1_EAX_XSAVES))) {
		r[1] = (u32)xsave_size_cmp(cpu->xcr0 | cpu->xss);
	}
}

void cpu_cpuid(struct cpu *cpu, u32 leaf, u32 sub, u32 out[4])
{
	leaf = effective_leaf(cpu, leaf);
	const struct vcpu_cpuid_entry *e = cpu_cpuid_entry(cpu, leaf, sub);
	out[0] = e ? e->eax : 0;
	out[1] = e ? e->ebx : 0;
	out[2] = e ? e->ecx : 0;
	out[3] = e ? e->edx : 0;
	dynamic_bits(cpu, leaf, sub, out);
}

void op_cpuid(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u32 r[4];
	cpu_cpuid(cpu, (u32)cpu->r[R_AX], (u32)cpu->r[R_CX], r);
	cpu->r[R_AX] = r[0];
	cpu->r[R_BX] = r[1];
	cpu->r[R_CX] = r[2];
	cpu->r[R_DX] = r[3];
}

/* ---- time stamp counter ---- */

/* CR4.TSD makes RDTSC/RDTSCP privileged (SDM Vol. 2 RDTSC). */
static void check_tsd(struct cpu *cpu)
{
	if ((cpu->cr4 & X86_CR4_TSD) && cpu->cpl)
		cpu_gp(cpu, 0);
}

static void tsc_to_edx_eax(struct cpu *cpu)
{
	u64 t = cpu_tsc(cpu);
	cpu->r[R_AX] = (u32)t;
	cpu->r[R_DX] = t >> 32;
}

void op_rdtsc(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	check_tsd(cpu);
	tsc_to_edx_eax(cpu);
}

void op_rdtscp(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (!cpu_has_feature(cpu, X86_FEATURE_RDTSCP))
		cpu_ud(cpu);
	check_tsd(cpu);
	tsc_to_edx_eax(cpu);
	cpu->r[R_CX] = (u32)cpu->tsc_aux;
}

/* RDPID (F3 0F C7 /7): IA32_TSC_AUX, not affected by CR4.TSD. */
void op_rdpid(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_RDPID))
		cpu_ud(cpu);
	cpu_set_reg(cpu, in->rm, cpu->m64 ? 8 : 4, true, cpu->tsc_aux);
}

/* RDPMC: cetvm has no performance counters (no CPUID leaf 0xA), so every
 * counter index is invalid: #GP(0) (SDM Vol. 2 RDPMC). */
void op_rdpmc(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_gp(cpu, 0);
}

/* ---- RDRAND / RDSEED ---- */

/* Deterministic "random" numbers: a splitmix64 step over the instruction
 * count and RIP, so a run replays exactly (DESIGN.md: determinism) while
 * two RDRANDs in one block still differ. `salt` separates RDRAND/RDSEED. */
static u64 det_random(const struct cpu *cpu, unsigned salt)
{
	u64 z = cpu->icount * 0x9e3779b97f4a7c15ull + cpu->rip + ((u64)salt << 56) +
		0x6365747672616e64ull; /* "cetvrand" */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* RDRAND (0F C7 /6) and RDSEED (0F C7 /7), register form: always succeed,
 * CF = 1 and OF SF ZF AF PF = 0. */
void op_rdrand(struct cpu *cpu, const struct insn *in)
{
	bool seed = (in->reg & 7) == 7;
	if (!cpu_has_feature(cpu, seed ? X86_FEATURE_RDSEED : X86_FEATURE_RDRAND))
		cpu_ud(cpu);
	cpu_set_reg(cpu, in->rm, in->opsize, true, det_random(cpu, seed));
	cpu->eflags = (cpu->eflags & ~X86_EFLAGS_ARITH) | X86_EFLAGS_CF;
	cpu->cc_op = CC_EAGER;
}

/* ---- SWAPGS, RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE ---- */

/* SWAPGS (0F 01 F8): 64-bit mode only (decoder), CPL 0. */
void op_swapgs(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_require_cpl0(cpu);
	u64 t = cpu->seg[SEG_GS].base;
	cpu->seg[SEG_GS].base = cpu->kernel_gs_base;
	cpu->kernel_gs_base = t;
}

/* F3 0F AE /0../3 (register form, 64-bit mode only): ModRM.reg bit 0
 * selects GS, bit 1 a write. #UD unless CR4.FSGSBASE. */
void op_fsgsbase(struct cpu *cpu, const struct insn *in)
{
	if (!(cpu->cr4 & X86_CR4_FSGSBASE))
		cpu_ud(cpu);
	struct seg *s = &cpu->seg[(in->reg & 1) ? SEG_GS : SEG_FS];
	if (!(in->reg & 2)) {
		cpu_set_reg(cpu, in->rm, in->opsize, true, s->base & size_mask(in->opsize));
		return;
	}
	u64 v = cpu_get_reg(cpu, in->rm, in->opsize, true);
	if (!cpu_canonical_guest(cpu, v))
		cpu_gp(cpu, 0);
	s->base = v;
}
