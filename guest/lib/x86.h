/* x86.h: architectural constants and one-instruction inline helpers.
 *
 * Constants are named as in the Intel SDM. Every helper here is a single
 * instruction (or a CPUID/MSR pair) with no side effects beyond it; helpers
 * that may fault and want the fault reported live in fault.h.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include "types.h"

/* Exception vectors (SDM Vol. 3A, 6.3.1, Table 6-1). */
#define DE_VECTOR 0
#define DB_VECTOR 1
#define NMI_VECTOR 2
#define BP_VECTOR 3
#define OF_VECTOR 4
#define BR_VECTOR 5
#define UD_VECTOR 6
#define NM_VECTOR 7
#define DF_VECTOR 8
#define TS_VECTOR 10
#define NP_VECTOR 11
#define SS_VECTOR 12
#define GP_VECTOR 13
#define PF_VECTOR 14
#define MF_VECTOR 16
#define AC_VECTOR 17
#define MC_VECTOR 18
#define XM_VECTOR 19
#define VE_VECTOR 20
#define CP_VECTOR 21

/* #PF error code bits (SDM Vol. 3A, 4.7, Figure 4-12). */
#define PFERR_P (1u << 0)
#define PFERR_W (1u << 1)
#define PFERR_U (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I (1u << 4)
#define PFERR_PK (1u << 5)
#define PFERR_SS (1u << 6)

/* Selector error code bits (SDM Vol. 3A, 6.13). */
#define ERR_EXT (1u << 0)
#define ERR_IDT (1u << 1)
#define ERR_TI (1u << 2)

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)

#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_CR4_PKE (1ull << 22)
#define X86_CR4_CET (1ull << 23)

#define X86_EFLAGS_CF (1ull << 0)
#define X86_EFLAGS_FIXED (1ull << 1)
#define X86_EFLAGS_PF (1ull << 2)
#define X86_EFLAGS_AF (1ull << 4)
#define X86_EFLAGS_ZF (1ull << 6)
#define X86_EFLAGS_SF (1ull << 7)
#define X86_EFLAGS_TF (1ull << 8)
#define X86_EFLAGS_IF (1ull << 9)
#define X86_EFLAGS_DF (1ull << 10)
#define X86_EFLAGS_OF (1ull << 11)
#define X86_EFLAGS_IOPL (3ull << 12)
#define X86_EFLAGS_NT (1ull << 14)
#define X86_EFLAGS_RF (1ull << 16)
#define X86_EFLAGS_AC (1ull << 18)
#define X86_EFLAGS_ID (1ull << 21)

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APICBASE 0x1b
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_IA32_XSS 0xda0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define XFEATURE_X87 (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define XFEATURE_YMM (1ull << 2)

/* CPUID feature bits: leaf, subleaf, register, bit packed in one u64. */
enum { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };
#define X86_FEATURE(leaf, sub, reg, bit) \
	((u64)(leaf) << 32 | (u64)(sub) << 16 | (u64)(reg) << 8 | (bit))

#define X86_FEATURE_APIC X86_FEATURE(1, 0, CPUID_EDX, 9)
#define X86_FEATURE_SSE2 X86_FEATURE(1, 0, CPUID_EDX, 26)
#define X86_FEATURE_CX16 X86_FEATURE(1, 0, CPUID_ECX, 13)
#define X86_FEATURE_PCID X86_FEATURE(1, 0, CPUID_ECX, 17)
#define X86_FEATURE_X2APIC X86_FEATURE(1, 0, CPUID_ECX, 21)
#define X86_FEATURE_MOVBE X86_FEATURE(1, 0, CPUID_ECX, 22)
#define X86_FEATURE_POPCNT X86_FEATURE(1, 0, CPUID_ECX, 23)
#define X86_FEATURE_TSC_DEADLINE X86_FEATURE(1, 0, CPUID_ECX, 24)
#define X86_FEATURE_XSAVE X86_FEATURE(1, 0, CPUID_ECX, 26)
#define X86_FEATURE_AVX X86_FEATURE(1, 0, CPUID_ECX, 28)
#define X86_FEATURE_RDRAND X86_FEATURE(1, 0, CPUID_ECX, 30)
#define X86_FEATURE_HYPERVISOR X86_FEATURE(1, 0, CPUID_ECX, 31)
#define X86_FEATURE_FSGSBASE X86_FEATURE(7, 0, CPUID_EBX, 0)
#define X86_FEATURE_BMI1 X86_FEATURE(7, 0, CPUID_EBX, 3)
#define X86_FEATURE_SMEP X86_FEATURE(7, 0, CPUID_EBX, 7)
#define X86_FEATURE_BMI2 X86_FEATURE(7, 0, CPUID_EBX, 8)
#define X86_FEATURE_INVPCID X86_FEATURE(7, 0, CPUID_EBX, 10)
#define X86_FEATURE_RDSEED X86_FEATURE(7, 0, CPUID_EBX, 18)
#define X86_FEATURE_ADX X86_FEATURE(7, 0, CPUID_EBX, 19)
#define X86_FEATURE_SMAP X86_FEATURE(7, 0, CPUID_EBX, 20)
#define X86_FEATURE_PKU X86_FEATURE(7, 0, CPUID_ECX, 3)
#define X86_FEATURE_OSPKE X86_FEATURE(7, 0, CPUID_ECX, 4)
#define X86_FEATURE_SHSTK X86_FEATURE(7, 0, CPUID_ECX, 7)
#define X86_FEATURE_IBT X86_FEATURE(7, 0, CPUID_EDX, 20)
#define X86_FEATURE_XSAVEOPT X86_FEATURE(0xd, 1, CPUID_EAX, 0)
#define X86_FEATURE_XSAVEC X86_FEATURE(0xd, 1, CPUID_EAX, 1)
#define X86_FEATURE_XSAVES X86_FEATURE(0xd, 1, CPUID_EAX, 3)
#define X86_FEATURE_LAHF_LM X86_FEATURE(0x80000001, 0, CPUID_ECX, 0)
#define X86_FEATURE_LZCNT X86_FEATURE(0x80000001, 0, CPUID_ECX, 5)
#define X86_FEATURE_SYSCALL X86_FEATURE(0x80000001, 0, CPUID_EDX, 11)
#define X86_FEATURE_NX X86_FEATURE(0x80000001, 0, CPUID_EDX, 20)
#define X86_FEATURE_GBPAGES X86_FEATURE(0x80000001, 0, CPUID_EDX, 26)
#define X86_FEATURE_RDTSCP X86_FEATURE(0x80000001, 0, CPUID_EDX, 27)
#define X86_FEATURE_LM X86_FEATURE(0x80000001, 0, CPUID_EDX, 29)

struct cpuid {
	u32 a, b, c, d;
};

static inline struct cpuid cpuid_count(u32 leaf, u32 sub)
{
	struct cpuid r;
	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
	return r;
}

static inline struct cpuid cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline bool cpu_has(u64 feature)
{
	u32 leaf = feature >> 32, sub = (feature >> 16) & 0xffff;
	u32 max = cpuid(leaf & 0x80000000).a;
	if (leaf > max)
		return false;
	struct cpuid r = cpuid_count(leaf, sub);
	u32 regs[4] = { r.a, r.b, r.c, r.d };
	return (regs[(feature >> 8) & 3] >> (feature & 31)) & 1;
}

/* The hypervisor vendor string of CPUID 0x40000000 ("" on bare metal),
 * e.g. "TCGTCGTCGTCG" under QEMU TCG, to skip checks it does not model. */
static inline void cpuid_hypervisor(char out[13])
{
	struct cpuid r = { 0 };
	if (cpu_has(X86_FEATURE_HYPERVISOR))
		r = cpuid(0x40000000);
	__builtin_memcpy(out, &r.b, 4);
	__builtin_memcpy(out + 4, &r.c, 4);
	__builtin_memcpy(out + 8, &r.d, 4);
	out[12] = '\0';
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return lo | (u64)hi << 32;
}

static inline void wrmsr(u32 msr, u64 val)
{
	asm volatile("wrmsr" ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(msr) : "memory");
}

/* Control registers are as wide as the mode (unsigned long: 32 bits in
 * the 32-bit kit, guest/lib32); the helpers take and return u64 in both. */
#define DEFINE_CR(n)                                                      \
	static inline u64 read_cr##n(void)                                \
	{                                                                 \
		unsigned long v;                                          \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v)::"memory");   \
		return v;                                                 \
	}                                                                 \
	static inline void write_cr##n(u64 v)                             \
	{                                                                 \
		unsigned long w = (unsigned long)v;                       \
		asm volatile("mov %0, %%cr" #n ::"r"(w) : "memory");      \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 xgetbv(u32 index)
{
	u32 lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | (u64)hi << 32;
}

static inline void xsetbv(u32 index, u64 val)
{
	asm volatile("xsetbv" ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(index) : "memory");
}

static inline void invlpg(const volatile void *va)
{
	asm volatile("invlpg (%0)" ::"r"(va) : "memory");
}

static inline u64 read_rflags(void)
{
	unsigned long f;
	asm volatile("pushf; pop %0" : "=r"(f)::"memory");
	return f;
}

static inline void write_rflags(u64 f)
{
	unsigned long w = (unsigned long)f;
	asm volatile("push %0; popf" ::"r"(w) : "memory", "cc");
}

static inline u16 read_cs(void)
{
	u16 v;
	asm volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static inline u16 read_ss(void)
{
	u16 v;
	asm volatile("mov %%ss, %0" : "=r"(v));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (u64)hi << 32;
}

static inline u32 rdpkru(void)
{
	u32 pkru, edx;
	asm volatile("rdpkru" : "=a"(pkru), "=d"(edx) : "c"(0));
	return pkru;
}

static inline void wrpkru(u32 pkru)
{
	asm volatile("wrpkru" ::"a"(pkru), "c"(0), "d"(0) : "memory");
}

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

static inline u8 inb(u16 port)
{
	u8 v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }
static inline void hlt(void) { asm volatile("hlt" ::: "memory"); }
static inline void pause(void) { asm volatile("pause" ::: "memory"); }
static inline void stac(void) { asm volatile("stac" ::: "memory", "cc"); }
static inline void clac(void) { asm volatile("clac" ::: "memory", "cc"); }

/* Descriptor-table registers: 10-byte operand (SDM Vol. 3A, 3.5.1). */
struct dtr {
	u16 limit;
	u64 base;
} __packed;

static inline void lgdt(const struct dtr *d) { asm volatile("lgdt %0" ::"m"(*d) : "memory"); }
static inline void lidt(const struct dtr *d) { asm volatile("lidt %0" ::"m"(*d) : "memory"); }
static inline void ltr(u16 sel) { asm volatile("ltr %0" ::"r"(sel) : "memory"); }

static inline void sgdt(struct dtr *d) { asm volatile("sgdt %0" : "=m"(*d)); }
static inline void sidt(struct dtr *d) { asm volatile("sidt %0" : "=m"(*d)); }

#endif
