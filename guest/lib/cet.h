/* cet.h: CET helpers for the cet_* guests (spec/cet.md 2, 3, 5; SDM Vol. 1
 * ch. 17): MSRs and enable bits, shadow-stack pages and tokens, SSP.
 *
 * A supervisor shadow stack is switched on with cet_sss_on(), which must be
 * expanded in the function that later calls cet_sss_off(): while it is on,
 * every near CALL/RET is checked, so that function must not return in
 * between (its own return address is not on the shadow stack).
 */
#ifndef GUEST_CET_H
#define GUEST_CET_H

#include "types.h"

#define MSR_IA32_U_CET 0x6a0
#define MSR_IA32_S_CET 0x6a2
#define MSR_IA32_PL0_SSP 0x6a4
#define MSR_IA32_PL3_SSP 0x6a7
#define MSR_IA32_INT_SSP_TAB 0x6a8

#define CET_SHSTK_EN (1ull << 0)
#define CET_WRSS_EN (1ull << 1)
#define CET_ENDBR_EN (1ull << 2)
#define CET_LEG_IW_EN (1ull << 3)
#define CET_NO_TRACK_EN (1ull << 4)
#define CET_SUPPRESS_DIS (1ull << 5)
#define CET_SUPPRESS (1ull << 10)
#define CET_WAIT_ENDBR (1ull << 11) /* IBT tracker: 1 = WAIT_FOR_ENDBRANCH */

#define CP_NEAR_RET 1
#define CP_FAR_RET 2
#define CP_ENDBRANCH 3
#define CP_RSTORSSP 4
#define CP_SETSSBSY 5

/* A shadow-stack page: `va` is its shadow-stack mapping (leaf R/W=0, D=1,
 * U as asked; upper levels R/W=1), `alias` an ordinary writable mapping
 * of the same frame for setting it up. */
struct cet_ss {
	u64 va;
	volatile u64 *alias;
};

/* True when CPUID reports shadow stacks (7.0:ECX[7]). */
bool cet_has_shstk(void);
/* True when CPUID reports indirect branch tracking (7.0:EDX[20]). */
bool cet_has_ibt(void);
/* CR0.WP=1 and CR4.CET=1; installs the fault hooks below. */
void cet_init(void);
/* CR4.CET=0 (and U_CET = S_CET = 0). */
void cet_exit(void);
/* Set or clear CR4.CET only. */
void cet_cr4(bool on);

/* A new zeroed shadow-stack page above 4 GiB. */
struct cet_ss cet_ss_page(bool user);
/* The same below 4 GiB (for compatibility-mode code, whose SSP[63:32]
 * must be 0): `va` is the frame's identity address remapped as a
 * shadow-stack page, `alias` a writable mapping of it above 4 GiB. */
struct cet_ss cet_ss_page_low(bool user);
/* Remap the page at va with leaf flags (P is added) and flush it. */
void cet_remap(u64 va, u64 pa, u64 flags);
/* Write the 8 bytes at page offset off through the alias. */
void cet_ss_put(const struct cet_ss *ss, unsigned off, u64 v);
u64 cet_ss_get(const struct cet_ss *ss, unsigned off);
/* Put a free supervisor token at the top of the page; returns its va. */
u64 cet_ss_token(const struct cet_ss *ss);

static inline u64 cet_rdssp(void)
{
	u64 ssp = 0;
	asm volatile("rdsspq %0" : "+r"(ssp));
	return ssp;
}

/* SSP read at CPL 0 with S_CET = SH_STK_EN set only around the RDSSPQ
 * (a NOP while shadow stacks are off): one asm, so that no CALL or RET runs
 * with shadow stacks on. 0x5a5a if RDSSPQ did not write (S_CET left 0). */
static inline u64 cet_rdssp_sss(void)
{
	u64 ssp = 0x5a5a;
	asm volatile("wrmsr\n\t"
		     "rdsspq %[ssp]\n\t"
		     "xor %%eax, %%eax\n\t"
		     "wrmsr"
		     : [ssp] "+r"(ssp)
		     : "c"(MSR_IA32_S_CET), "a"((u32)CET_SHSTK_EN), "d"(0)
		     : "memory");
	return ssp;
}

/* Enable supervisor shadow stacks on the token at `token` (WRSS allowed):
 * PL0_SSP = token, S_CET = SH_STK_EN|WRSS_EN, SETSSBSY, in one asm so that
 * no CALL runs with S_CET on and SSP not yet set. Always inlined: see the
 * comment at the top. */
static inline __attribute__((always_inline)) void cet_sss_on(u64 token)
{
	u32 c = MSR_IA32_PL0_SSP, a = (u32)token, d = (u32)(token >> 32);
	asm volatile("wrmsr\n\t"
		     "mov %[s], %%eax\n\t"
		     "xor %%edx, %%edx\n\t"
		     "mov %[scet], %%ecx\n\t"
		     "wrmsr\n\t"
		     "setssbsy"
		     : "+c"(c), "+a"(a), "+d"(d)
		     : [s] "i"(CET_SHSTK_EN | CET_WRSS_EN), [scet] "i"(MSR_IA32_S_CET)
		     : "memory");
}

/* S_CET = 0 again (SSP keeps its value; the token stays busy). */
static inline __attribute__((always_inline)) void cet_sss_off(void)
{
	asm volatile("wrmsr" ::"c"(MSR_IA32_S_CET), "a"(0), "d"(0) : "memory");
}

/* MSR and CR accesses for the cet_* enumeration and MSR guests: each runs
 * one instruction under FAULT_TRY and stores the event in *f (f->insn is
 * that instruction; vector FAULT_NONE when it completed). */
struct fault;
#define MSR_IA32_PL1_SSP 0x6a5
#define MSR_IA32_PL2_SSP 0x6a6
#define MSR_KVM_INTERNAL_GUEST_SSP 0x4b564dff
void cet_wrmsr_try(u32 msr, u64 val, struct fault *f);
/* *val is written only when the RDMSR completed. */
void cet_rdmsr_try(u32 msr, u64 *val, struct fault *f);
void cet_write_cr0_try(u64 val, struct fault *f);
void cet_write_cr4_try(u64 val, struct fault *f);
/* With CR0.WP set, try MOV CR4 with CET added, read CR4 back into *got,
 * then restore the old CR4. Returns the fault of the MOV (FAULT_NONE). */
struct fault cet_cr4_cet_probe(u64 *got);
void cet_xsetbv_try(u32 index, u64 val, struct fault *f);
/* True when *f is #GP(0) raised at the instruction under test. */
bool cet_gp0_at_insn(const struct fault *f);

/* WRMSR msr=val raised #GP(0) at the WRMSR, and RDMSR gives what it gave
 * before (the same value, or the same fault). */
bool cet_wrmsr_gp0(u32 msr, u64 val);
/* WRMSR msr=val completed and RDMSR reads val back. */
bool cet_wrmsr_ok(u32 msr, u64 val);

#endif
