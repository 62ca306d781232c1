/* cpumodel.h: CPU models and named CPUID features for -cpu.
 *
 * The guest CPUID is data the machine configures: cpumodel_build() turns a
 * -cpu string into the table passed to accel_ops.set_cpuid().
 *
 * Spec: MODEL[,ITEM...] where ITEM is +feat, -feat, feat=on|off, or a bare
 * feat (= on). Items apply left to right; the last word on a feature wins.
 * Feature names follow QEMU (sse4.1, lahf_lm, sha-ni, ...); '_' and '-'
 * are interchangeable, and a few QEMU aliases are accepted (sse3, lzcnt).
 *
 * Models:
 *   max, host   everything the accelerator supports (its supported CPUID,
 *               unnamed bits included); the default.
 *   base, qemu64  a minimal x86-64 (QEMU's qemu64 without svm): fpu de pse
 *               tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36
 *               clflush mmx fxsr sse sse2 pni cx16 syscall nx lm lahf_lm.
 *               Feature registers hold nothing else; the other leaves
 *               (vendor, family, cache, XSAVE sizes) come from the
 *               accelerator.
 *
 * Rules applied after the items (spec/cet.md §1.1):
 *   - Dependencies: shstk, ibt need xsaves; sss needs shstk; xsaveopt,
 *     xsavec, xgetbv1, xsaves, avx need xsave; avx2, fma, f16c need avx.
 *     A feature whose requirement is off is dropped, or is an error if the
 *     spec asked for it by name.
 *   - CET XSAVE state: (0xD,1).ECX bits 11 and 12 (CET_U, CET_S) and the
 *     subleaves 0xD.11 and 0xD.12 are present iff shstk or ibt remains.
 *     shstk and ibt count as unsupported unless the accelerator offers
 *     xsaves and both XSS bits.
 *   - (0xD,0).EAX never has bits 11 or 12. osxsave and ospke mirror CR4
 *     and are never set in the table (not settable).
 * Named features are limited to the accelerator's supported set: asking
 * for one it lacks is an error ("... is not supported by accelerator kvm;
 * try -machine accel=emu").
 */
#ifndef CETVM_CPUMODEL_H
#define CETVM_CPUMODEL_H

#include <stddef.h>
#include <stdio.h>

#include "accel/accel.h"

/* Build the guest CPUID table for `spec` (e.g. "max", "max,-shstk,+sss",
 * "base"), restricted to `supported` (accel_ops.get_supported_cpuid).
 * accel_name is only used in messages (NULL: "the accelerator"). Returns 0,
 * or -1 with a one-line message naming the model or feature in err. */
int cpumodel_build(const char *spec, const struct vcpu_cpuid *supported, const char *accel_name,
		   struct vcpu_cpuid *out, char *err, size_t errlen);

/* A saved guest CPUID (a snapshot's) against what the accelerator
 * supports: 0, or -1 with a message naming the first missing feature. */
int cpumodel_check(const struct vcpu_cpuid *guest, const struct vcpu_cpuid *supported,
		   const char *accel_name, char *err, size_t errlen);

/* List the models and feature names (for -cpu help). */
void cpumodel_help(FILE *f);

#endif
