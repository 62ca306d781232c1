/* system.h: helpers of the system-instruction family (system.c, sysinfo.c,
 * sysseg.c, farxfer.c, iret.c, syscall.c, task.c, msr.c) that other files
 * may use too: reserved-bit masks of the control registers, CPUID as the
 * guest sees it, and memory operands at an offset (far pointers, 10-byte
 * descriptor-table images). cpu.h holds the main API (cpu_write_cr0...).
 */
#ifndef CETVM_SYSTEM_H
#define CETVM_SYSTEM_H

#include "cpu.h"

/* CPUID bits the system family tests that x86.h does not name yet. */
#ifndef X86_FEATURE_VME
#define X86_FEATURE_VME X86_FEAT(FL_1, FR_EDX, 1)
#endif
#ifndef X86_FEATURE_DE
#define X86_FEATURE_DE X86_FEAT(FL_1, FR_EDX, 2)
#endif
#ifndef X86_FEATURE_MSR
#define X86_FEATURE_MSR X86_FEAT(FL_1, FR_EDX, 5)
#endif
#ifndef X86_FEATURE_MCE
#define X86_FEATURE_MCE X86_FEAT(FL_1, FR_EDX, 7)
#endif
#ifndef X86_FEATURE_MTRR
#define X86_FEATURE_MTRR X86_FEAT(FL_1, FR_EDX, 12)
#endif
#ifndef X86_FEATURE_CLFSH
#define X86_FEATURE_CLFSH X86_FEAT(FL_1, FR_EDX, 19)
#endif
#ifndef X86_FEATURE_MONITOR
#define X86_FEATURE_MONITOR X86_FEAT(FL_1, FR_ECX, 3)
#endif
#ifndef X86_FEATURE_VMX
#define X86_FEATURE_VMX X86_FEAT(FL_1, FR_ECX, 5)
#endif
#ifndef X86_FEATURE_TSC_ADJUST
#define X86_FEATURE_TSC_ADJUST X86_FEAT(FL_7_0, FR_EBX, 1)
#endif
#ifndef X86_FEATURE_PKS
#define X86_FEATURE_PKS X86_FEAT(FL_7_0, FR_ECX, 31)
#endif
#ifndef X86_FEATURE_SPEC_CTRL
#define X86_FEATURE_SPEC_CTRL X86_FEAT(FL_7_0, FR_EDX, 26) /* IBRS and IBPB */
#endif
#ifndef X86_FEATURE_STIBP
#define X86_FEATURE_STIBP X86_FEAT(FL_7_0, FR_EDX, 27)
#endif
#ifndef X86_FEATURE_ARCH_CAPABILITIES
#define X86_FEATURE_ARCH_CAPABILITIES X86_FEAT(FL_7_0, FR_EDX, 29)
#endif
#ifndef X86_FEATURE_SSBD
#define X86_FEATURE_SSBD X86_FEAT(FL_7_0, FR_EDX, 31)
#endif

/* Protected mode: CR0.PE = 1 and EFLAGS.VM = 0. */
static inline bool cpu_prot_mode(const struct cpu *cpu)
{
	return (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_EFLAGS_VM);
}

/* Canonical for the guest's linear-address width: 57 bits if its CPUID
 * has LA57, else 48, whatever CR4.LA57 says (WRMSR, WRFSBASE, LGDT). */
static inline bool cpu_canonical_guest(const struct cpu *cpu, u64 v)
{
	unsigned sh = cpu_has_feature(cpu, X86_FEATURE_LA57) ? 7 : 16;
	return (u64)((s64)(v << sh) >> sh) == v;
}

/* #GP(0) unless CPL = 0 (privileged instructions; VM86 runs at CPL 3). */
static inline void cpu_require_cpl0(struct cpu *cpu)
{
	if (cpu->cpl)
		cpu_gp(cpu, 0);
}

/* UMIP: SGDT, SIDT, SLDT, SMSW and STR fault at CPL > 0 (SDM Vol. 3 2.5). */
static inline void cpu_umip_check(struct cpu *cpu)
{
	if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl)
		cpu_gp(cpu, 0);
}

/* Bits of CR4 / EFER that are reserved for this vCPU's guest CPUID; a
 * guest or host write setting one of them fails (spec 2: CR4.CET is
 * reserved unless the guest CPUID has SHSTK or IBT). */
u64 cpu_cr4_reserved(const struct cpu *cpu);
u64 cpu_efer_reserved(const struct cpu *cpu);

/* CPUID as the guest sees it: the configured table, out-of-range leaves
 * clamped to the highest basic leaf, and the dynamic bits (APIC ID,
 * OSXSAVE, OSPKE, XSAVE sizes). out = { EAX, EBX, ECX, EDX }. */
void cpu_cpuid(struct cpu *cpu, u32 leaf, u32 sub, u32 out[4]);

/* The memory operand of `in`, `off` bytes further (wrapping at the address
 * size), e.g. the selector of an m16:32 far pointer. */
u64 cpu_mem_read_off(struct cpu *cpu, const struct insn *in, u64 off, unsigned size);
void cpu_mem_write_off(struct cpu *cpu, const struct insn *in, u64 off, unsigned size, u64 v);

#endif
