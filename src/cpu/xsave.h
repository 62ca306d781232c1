/* xsave.h: XSAVE-managed state layout (SDM Vol. 1 ch. 13, spec/cet.md §1.2
 * and §4), for the CPU's XSAVE instructions, CPUID leaf 0xD and the host
 * side (the emu accelerator's get_xsave/set_xsave, snapshots).
 *
 * Components cetvm implements: x87 (0), SSE (1), AVX (2: YMM upper halves),
 * PKRU (9), CET_U (11) and CET_S (12). Component sizes and standard offsets
 * are those of Intel hardware; CET components have no standard offset.
 */
#ifndef CETVM_XSAVE_H
#define CETVM_XSAVE_H

#include "cpu.h"

#define XSAVE_HDR_OFFSET 512
#define XSAVE_EXT_OFFSET 576
#define XSAVE_STD_IMAGE 4096 /* KVM_GET/SET_XSAVE region */
#define XSAVE_SUPPORTED (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_YMM | XFEATURE_PKRU | \
			 XFEATURE_CET_U | XFEATURE_CET_S)
#define XSAVE_SUPERVISOR (XFEATURE_CET_U | XFEATURE_CET_S) /* IA32_XSS bits */
#define XCOMP_BV_COMPACT (1ull << 63)

/* CPUID(0xD, i) for component i >= 2: EAX size, EBX standard offset (0 for
 * supervisor components), ECX (bit 0 supervisor, bit 1 64-byte aligned in
 * the compacted format). False if cetvm does not implement component i. */
bool xsave_component(unsigned i, u32 *size, u32 *offset, u32 *ecx);

/* Size of an XSAVE area holding the components in bv: standard format
 * (CPUID(0xD,0).EBX/ECX) and compacted format (CPUID(0xD,1).EBX). */
size_t xsave_size_std(u64 bv);
size_t xsave_size_cmp(u64 bv);
/* Offset of component i >= 2 in a compacted area with this XCOMP_BV. */
size_t xsave_offset_cmp(u64 xcomp_bv, unsigned i);

/* XINUSE: the components not in their init configuration (SDM Vol. 1 13.6). */
u64 xsave_xinuse(const struct cpu *cpu);

/* The KVM_GET_XSAVE / KVM_SET_XSAVE image: 4096 bytes, standard format,
 * x87 (64-bit layout) + SSE + AVX + PKRU. cpu_xsave_from_std() returns 0,
 * or -EINVAL (unsupported XSTATE_BV bits, XCOMP_BV != 0, reserved header
 * bytes or reserved MXCSR bits) and then changes nothing. */
void cpu_xsave_to_std(struct cpu *cpu, u8 *buf);
int cpu_xsave_from_std(struct cpu *cpu, const u8 *buf);

#endif
