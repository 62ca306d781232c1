/* msr.h: model-specific registers of the interpreter CPU (msr.c).
 *
 * The guest's RDMSR/WRMSR use cpu_msr_read()/cpu_msr_write() (cpu.h). The
 * vCPU interface (accel emu: GET/SET_MSRS, ONE_REG, snapshots) uses the
 * host-initiated calls below, which follow KVM's rules (spec/cet.md 3.4):
 * the same existence and validity checks as the guest, except that an MSR
 * the vCPU does not have but that is *advertised* (in the MSR index list
 * of the supported CPUID, spec 3.6) reads as 0 and accepts a write of 0,
 * and IA32_XSS can always be read.
 */
#ifndef CETVM_MSR_H
#define CETVM_MSR_H

#include "cpu.h"

/* KVM_GET/SET_MSRS for one entry: 0, or -EINVAL when KVM would fail it.
 * MSR_KVM_INTERNAL_GUEST_SSP (0x4B564DFF) is refused (spec 3.4 default). */
int cpu_msr_host_read(struct cpu *cpu, u32 index, u64 *value);
int cpu_msr_host_write(struct cpu *cpu, u32 index, u64 value);

/* The live SSP as MSR 0x4B564DFF with host-initiated semantics, for the
 * ONE_REG GUEST_SSP id and SMM (spec 3.7): -EINVAL if the guest CPUID
 * lacks SHSTK (no zero leniency) or the value is not canonical and
 * 4-byte aligned. */
int cpu_guest_ssp_read(struct cpu *cpu, u64 *value);
int cpu_guest_ssp_write(struct cpu *cpu, u64 value);

/* KVM_GET_MSR_INDEX_LIST (spec 3.6, from cpu_supported_cpuid()): stores
 * up to `max` indices in out[] and returns how many there are in all.
 * Never lists 0x4B564DFF. */
int cpu_msr_index_list(u32 *out, int max);

#endif
