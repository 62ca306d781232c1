/* Covers: 8
 * cet_after_init: the CET state after INIT (spec/cet.md 1.3; SDM Vol. 3A
 * 10.1, Table 10-1): U_CET, S_CET, PL0..3_SSP, INT_SSP_TAB and SSP are 0,
 * IA32_XSS keeps its value. On a PC, System Control Port A (0x92) bit 0
 * and the 8042's command 0xFE pulse the CPU's INIT# (the chipset's fast
 * INIT and RCIN#), not RESET#; the machine then starts the boot loader
 * again, which here is the VMM's Multiboot loader (it does not touch MSRs).
 * The guest sets every CET register, leaves a mark in CMOS NVRAM (which a
 * reset keeps), pulls INIT one way, then the other, and checks after each
 * start. Runs without -no-reboot (the "reboots" line below). */
/* reboots */
#include "cet.h"
#include "fault.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_MAGIC_AT 0x48 /* NVRAM bytes no firmware of ours uses */
#define CMOS_STAGE_AT 0x49
#define CMOS_MAGIC 0xc5
#define XSS_CET 0x1800ull /* CET_U | CET_S */

static const u32 msrs[] = { MSR_IA32_U_CET,   MSR_IA32_S_CET,   MSR_IA32_PL0_SSP,
			    MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP, MSR_IA32_PL3_SSP,
			    MSR_IA32_INT_SSP_TAB };
static const char *const names[] = { "U_CET",	 "S_CET",    "PL0_SSP",	   "PL1_SSP",
				     "PL2_SSP", "PL3_SSP", "INT_SSP_TAB" };

static u8 cmos_read(u8 idx)
{
	outb(CMOS_INDEX, idx);
	return inb(CMOS_DATA);
}

static void cmos_write(u8 idx, u8 v)
{
	outb(CMOS_INDEX, idx);
	outb(CMOS_DATA, v);
}

/* Every CET register but S_CET and SSP (set on the way out). */
static void set_state(void)
{
	wrmsr(MSR_IA32_XSS, XSS_CET);
	wrmsr(MSR_IA32_U_CET, CET_SHSTK_EN | CET_ENDBR_EN | CET_WAIT_ENDBR);
	wrmsr(MSR_IA32_PL1_SSP, 0x1000);
	wrmsr(MSR_IA32_PL2_SSP, 0x2000);
	wrmsr(MSR_IA32_PL3_SSP, 0x3000);
	wrmsr(MSR_IA32_INT_SSP_TAB, 0x4000);
}

/* With S_CET.SH_STK_EN and SSP on a token, pulse INIT by port 0x92 bit 0
 * (how = 0) or 8042 command 0xFE (how = 1). Shadow stacks stay on until
 * the INIT, so this function must not return before it (cet.h). */
static void pull_init(int how)
{
	struct cet_ss s = cet_ss_page(false);
	u64 tok = cet_ss_token(&s), v[ARRAY_SIZE(msrs)];
	cet_sss_on(tok);
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		v[i] = rdmsr(msrs[i]);
	u64 ssp = cet_rdssp(), xss = rdmsr(MSR_IA32_XSS);
	report(v[0] && v[1] && v[2] == tok && v[3] && v[4] && v[5] && v[6] && ssp == tok &&
		       xss == XSS_CET,
	       "8: before INIT: U_CET %#lx S_CET %#lx PL0..3_SSP %#lx %#lx %#lx %#lx "
	       "INT_SSP_TAB %#lx SSP %#lx XSS %#lx", v[0], v[1], v[2], v[3], v[4], v[5], v[6],
	       ssp, xss);
	if (how == 0)
		outb(0x92, inb(0x92) | 1);
	else
		outb(0x64, 0xfe);
	for (long i = 0; i < 100000000; i++)
		pause();
	cet_sss_off();
	report(false, "8: INIT by %s: the machine did not restart",
	       how ? "8042 command 0xFE" : "port 0x92 bit 0");
}

static void check_state(const char *how)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
		u64 v = ~0ull;
		int vec = rdmsr_safe(msrs[i], &v);
		report(vec == FAULT_NONE && v == 0, "8: after INIT by %s: %s = %#lx", how, names[i],
		       v);
	}
	u64 xss = rdmsr(MSR_IA32_XSS);
	report_tcg(xss == XSS_CET, "its system reset is a RESET",
		   "8: after INIT by %s: XSS keeps %#llx (%#lx)", how, XSS_CET, xss);
	cet_init();
	u64 ssp = cet_rdssp_sss();
	cet_exit();
	report(ssp == 0, "8: after INIT by %s: SSP = 0 (RDSSPQ %#lx)", how, ssp);
}

int main(void)
{
	if (!cet_has_shstk() || !cpu_has(X86_FEATURE_XSAVES)) {
		report_skip("8: CPUID lacks SHSTK or XSAVES");
		return report_summary();
	}
	int stage = cmos_read(CMOS_MAGIC_AT) == CMOS_MAGIC ? cmos_read(CMOS_STAGE_AT) : 0;
	report_info("8: start %d", stage + 1);
	cmos_write(CMOS_MAGIC_AT, CMOS_MAGIC);
	cmos_write(CMOS_STAGE_AT, stage + 1);
	if (stage == 1)
		check_state("port 0x92");
	if (stage == 2) {
		check_state("the 8042");
		cmos_write(CMOS_MAGIC_AT, 0);
		return report_summary();
	}
	if (stage > 2) {
		report(false, "8: unexpected start %d", stage + 1);
		return report_summary();
	}
	cet_init();
	set_state();
	pull_init(stage);
	return report_summary();
}
