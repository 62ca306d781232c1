/* cpuid.c: the CPUID features cetvm's own CPU supports (its "KVM_GET_SUPPORTED_CPUID"). */
#include "cpu.h"

#include <string.h>

#define E(fn, idx, fl, a, b, c, d) { fn, idx, fl, a, b, c, d }
#define SIG VCPU_CPUID_SIGNIFICANT_INDEX

/* "GenuineIntel": Linux's CET code does not care, but guests that probe
 * Intel-only features (VMX, the CET XSAVE layout) expect it. */
static const struct vcpu_cpuid_entry supported[] = {
	E(0x0, 0, 0, 0x16, 0x756e6547, 0x6c65746e, 0x49656e69),
	/* Family 6 model 0x8c (Tiger Lake, the first CET parts). ECX: SSE3
	 * SSSE3 CX16 PCID SSE4.1 SSE4.2 x2APIC MOVBE POPCNT TSC-deadline
	 * XSAVE RDRAND hypervisor. EDX: FPU PSE TSC MSR PAE CX8 APIC SEP MTRR
	 * PGE CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2. */
	E(0x1, 0, 0, 0x000806c1, 0x00010800, 0xc5fa2201, 0x078bbb79),
	E(0x6, 0, 0, 0x4, 0, 0, 0), /* ARAT: the APIC timer runs in C-states */
	/* EBX: FSGSBASE BMI1 SMEP BMI2 ERMS INVPCID RDSEED ADX SMAP
	 * CLFLUSHOPT CLWB. ECX: PKU CET_SS RDPID. EDX: CET_IBT, SPEC_CTRL
	 * (IBRS, IBPB), STIBP, ARCH_CAPABILITIES (msr.c: not affected by the
	 * speculative-execution issues, so guests skip their mitigations). */
	E(0x7, 0, SIG, 1, 0x019c0789, 0x00400088, 0x2c100000),
	E(0x7, 1, SIG, 0, 0, 0, 0x00040000), /* CET_SSS */
	/* XCR0: x87 SSE PKRU. Sizes in EBX are computed at CPUID time. */
	E(0xd, 0, SIG, 0x203, 0, 2696, 0),
	E(0xd, 1, SIG, 0xf, 0, 0x1800, 0), /* XSAVEOPT XSAVEC XGETBV1 XSAVES; XSS CET_U|CET_S */
	E(0xd, 9, SIG, 8, 2688, 0, 0),
	E(0xd, 11, SIG, 16, 0, 1, 0),
	E(0xd, 12, SIG, 24, 0, 1, 0),
	E(0x15, 0, 0, 1, 1, 1000000000, 0), /* TSC = 1 GHz crystal x 1/1 */
	E(0x16, 0, 0, 1000, 1000, 100, 0),
	E(0x80000000, 0, 0, 0x80000008, 0, 0, 0),
	/* ECX: LAHF_LM ABM PREFETCHW. EDX: SYSCALL NX PDPE1GB RDTSCP LM. */
	E(0x80000001, 0, 0, 0, 0, 0x00000121, 0x2c100800),
	/* Brand string: "cetvm virtual CPU with CET". */
	E(0x80000002, 0, 0, 0x76746563, 0x6976206d, 0x61757472, 0x5043206c),
	E(0x80000003, 0, 0, 0x69772055, 0x43206874, 0x20205445, 0x20202020),
	E(0x80000004, 0, 0, 0x20202020, 0x20202020, 0x20202020, 0x00202020),
	E(0x80000007, 0, 0, 0, 0, 0, 0x100), /* invariant TSC */
	E(0x80000008, 0, 0, 0x3027, 0, 0, 0), /* 39 physical, 48 linear bits */
};

void cpu_supported_cpuid(struct vcpu_cpuid *out)
{
	memset(out, 0, sizeof(*out));
	out->n = (int)ARRAY_SIZE(supported);
	memcpy(out->e, supported, sizeof(supported));
}
