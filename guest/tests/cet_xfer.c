/* Covers: 57 58 59 60 61 62 63 64 70
 * cet_xfer: shadow stacks across interrupt delivery and IRETQ (spec/cet.md
 * 5.8-5.10; SDM Vol. 1 17.2.3-17.2.5, Vol. 3A 6.14): the CS/LIP/SSP frame
 * at CPL 0, IST tokens from INT_SSP_TAB, the PL0_SSP token and PL3_SSP
 * across CPL 3 <-> 0, the IRETQ checks, and a prematurely busy token. */
#include "alloc.h"
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

#define V_SAME 0x40 /* CPL 0 -> 0, no IST */
#define V_IST 0x41  /* CPL 0 -> 0 through IST 4 */
#define V_TAMPER 0x42 /* its handler changes the LIP on the shadow stack */
#define V_USER 0x43 /* DPL 3, asm handler (below) */
#define IST_K 4

/* What a C handler saw: the frame it found on the shadow stack. */
static volatile u64 h_at, h_prev, h_tok;
static u64 ist_tok; /* the IST token's address */

/* Find the CS/LIP/SSP frame of event r above the handler's SSP. */
static volatile u64 *find_frame(const struct regs *r)
{
	u64 ssp = cet_rdssp();
	for (u64 a = ssp; a + 24 <= ((ssp | 0xfff) + 1); a += 8) {
		volatile u64 *f = (volatile u64 *)a;
		if (f[1] == r->rip && f[2] == r->cs)
			return f;
	}
	return 0;
}

static void rec_handler(struct regs *r)
{
	volatile u64 *f = find_frame(r);
	h_at = (u64)f;
	h_prev = f ? f[0] : 0;
	h_tok = ist_tok ? *(volatile u64 *)ist_tok : 0;
}

static void tamper_handler(struct regs *r)
{
	volatile u64 *f = find_frame(r);
	if (f)
		asm volatile("wrssq %1, %0" : "=m"(f[1]) : "r"(f[1] + 1));
}

/* 61: INT at CPL 0 without IST; 62: through IST k. Returns the LIP. */
static u64 int_same(int ist, u64 *s0, u64 *s1)
{
	u64 a = 0, b = 0, lip;
	if (ist)
		asm volatile("rdsspq %0\n\tint %3\n1:\trdsspq %1\n\tlea 1b(%%rip), %2"
			     : "+r"(a), "+r"(b), "=r"(lip) : "i"(V_IST) : "memory");
	else
		asm volatile("rdsspq %0\n\tint %3\n1:\trdsspq %1\n\tlea 1b(%%rip), %2"
			     : "+r"(a), "+r"(b), "=r"(lip) : "i"(V_SAME) : "memory");
	*s0 = a;
	*s1 = b;
	return lip;
}

static void test_same(void)
{
	u64 s0, s1;
	h_at = 0;
	u64 lip = int_same(0, &s0, &s1);
	report(h_at == s0 - 24 && h_prev == s0,
	       "61: INT at CPL 0 pushes CS, LIP, SSP on the current shadow stack (%#lx)", h_at);
	report(s1 == s0, "61: IRETQ pops the frame and restores SSP (%#lx)", s1);
	(void)lip;
}

static void test_ist(const struct cet_ss *is)
{
	u64 s0, s1;
	ist_tok = cet_ss_token(is);
	h_at = 0;
	int_same(IST_K, &s0, &s1);
	report(h_at == ist_tok - 24 && h_prev == s0 && h_tok == (ist_tok | 1),
	       "62: IST delivery takes the INT_SSP_TAB token busy and pushes there (%#lx)", h_at);
	report(s1 == s0 && cet_ss_get(is, 0xff8) == ist_tok,
	       "62: IRETQ restores SSP and frees the IST token (%#lx)", cet_ss_get(is, 0xff8));
	/* 63: the token is busy. */
	cet_ss_put(is, 0xff8, ist_tok | 1);
	u64 before = cet_rdssp(), after = 0;
	asm volatile(FAULT_TRY("1f") "int %1\n1:\trdsspq %0" : "+r"(after) : "i"(V_IST) : "memory");
	struct fault f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0 && f.rip == f.insn && after == before,
	       "63: IST token busy: #GP(0) at the INT, SSP unchanged (vector %d)", f.vector);
	cet_ss_put(is, 0xff8, ist_tok);
}

/* 70: the IST token sits at the bottom of its page with nothing mapped
 * below, so the frame push after acquire() faults. */
static void test_premature(const struct cet_ss *is, u64 *tab)
{
	u64 tok = is->va;
	cet_ss_put(is, 0, tok);
	tab[IST_K] = tok;
	ist_tok = 0;
	u64 before = cet_rdssp(), after = 0;
	asm volatile(FAULT_TRY("1f") "int %1\n1:\trdsspq %0" : "+r"(after) : "i"(V_IST) : "memory");
	struct fault f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == (PFERR_W | PFERR_SS) &&
		       f.cr2 == tok - 8 && f.rip == f.insn && after == before,
	       "70: frame push #PF (error %#lx, cr2 %#lx), SSP rolled back", f.error_code, f.cr2);
	report(cet_ss_get(is, 0) == (tok | 1), "70: the token stays busy (%#lx)",
	       cet_ss_get(is, 0));
	asm volatile(FAULT_TRY("1f") "int %0\n1:" ::"i"(V_IST) : "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0, "70: its next use: #GP(0) (vector %d)",
	       f.vector);
	tab[IST_K] = ist_tok = cet_ss_token(is);
}

/* 64: IRETQ with a changed LIP in its frame: #CP(2) at the IRETQ. The
 * resume point undoes the 24-byte frame that stays on the shadow stack. */
static void test_tamper(void)
{
	u64 before = cet_rdssp(), after = 0;
	asm volatile("mov %%rsp, %%r12\n\t" FAULT_TRY("1f") "int %1\n1:\t"
		     "mov %%r12, %%rsp\n\t"
		     "rdsspq %0"
		     : "+r"(after) : "i"(V_TAMPER) : "r12", "memory");
	struct fault f = fault_take();
	report(f.vector == CP_VECTOR && f.error_code == CP_FAR_RET && f.cs == KERNEL_CS,
	       "64: IRETQ to CPL 0 with a tampered LIP: #CP(2) (vector %d error %#lx)", f.vector,
	       f.error_code);
	report(after == before - 24, "64: SSP still at the frame (%#lx)", after);
	if (after == before - 24)
		asm volatile("incsspq %0" ::"r"(3ull));
}

static void supervisor_tests(const struct cet_ss *s, const struct cet_ss *is, u64 *tab)
{
	u64 tok = cet_ss_token(s);
	/* Nothing here may return until cet_sss_off() (see cet.h). */
	cet_sss_on(tok);
	test_same();
	test_ist(is);
	test_premature(is, tab);
	test_tamper();
	cet_sss_off();
}

/* CPL 3: CALL (SSP - 8), INT V_USER, then RDSSPQ into RDI. The handler
 * (CPL 0) returns RDSSPQ in R8, PL3_SSP in R9 and the PL0_SSP token in
 * R10. */
void user_int(void), user_int_handler(void);
extern u64 user_tok_addr;
asm(".pushsection .text\n"
    ".globl user_int, user_int_handler\n"
    "user_int:\n\tendbr64\n\t"
    "call 1f\n\t" /* not the displacement-0 idiom: it pushes */
    "ud2\n"
    "1:\trdsspq %rsi\n\t"
    "int $0x43\n\t"
    "rdsspq %rdi\n\t"
    "ud2\n"
    "user_int_handler:\n\tendbr64\n\t"
    "rdsspq %r8\n\t"
    "mov $0x6a7, %ecx\n\trdmsr\n\tshl $32, %rdx\n\tor %rax, %rdx\n\tmov %rdx, %r9\n\t"
    "mov user_tok_addr(%rip), %r10\n\tmov (%r10), %r10\n\t"
    "iretq\n"
    ".popsection");
u64 user_tok_addr;

/* A run at CPL 3 with U_CET.SH_STK_EN; with sss, the kernel first runs on
 * the token of ks and events from CPL 3 enter on the token k_tok. The fault
 * hook turns S_CET.SH_STK_EN off when the run ends (guest/lib/cet.c). */
static struct fault user_run(const struct cet_ss *u, const struct cet_ss *ks, u64 k_tok)
{
	wrmsr(MSR_IA32_PL3_SSP, u->va + 0x800);
	wrmsr(MSR_IA32_U_CET, CET_SHSTK_EN);
	if (ks) {
		cet_sss_on(cet_ss_token(ks));
		wrmsr(MSR_IA32_PL0_SSP, k_tok);
	}
	struct regs r = fault_user_regs((u64)user_int, USER_CS);
	r.r8 = 0x88;
	struct fault f = fault_run_regs(&r);
	wrmsr(MSR_IA32_S_CET, 0);
	wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

static void user_tests(const struct cet_ss *u, const struct cet_ss *k, const struct cet_ss *ks)
{
	u64 usp = u->va + 0x800 - 8; /* after user_int's CALL */
	/* 58: S_CET = 0: the user SSP goes to PL3_SSP, SSP keeps it. */
	struct fault f = user_run(u, 0, 0);
	report(f.vector == UD_VECTOR && f.regs.r9 == usp && f.regs.r8 == 0x88,
	       "58: INT from CPL 3 with S_CET=0 saves SSP in PL3_SSP (%#lx)", f.regs.r9);
	report(f.regs.rsi == usp && f.regs.rdi == usp,
	       "57: IRETQ to CPL 3 loads SSP from PL3_SSP (%#lx)", f.regs.rdi);
	/* 59, 60: S_CET.SH_STK_EN: the PL0_SSP token. */
	u64 tok = cet_ss_token(k);
	user_tok_addr = tok;
	f = user_run(u, ks, tok);
	report(f.regs.r8 == tok && f.regs.r10 == (tok | 1) && f.regs.r9 == usp,
	       "59: INT from CPL 3 takes the PL0_SSP token busy, SSP = PL0_SSP, no push "
	       "(%#lx, %#lx)", f.regs.r8, f.regs.r10);
	report(f.regs.rdi == usp, "60: IRETQ to CPL 3 sets SSP = PL3_SSP (%#lx)", f.regs.rdi);
	/* The UD2 that ended the run took the token again. */
	report(f.vector == UD_VECTOR && cet_ss_get(k, 0xff8) == (tok | 1),
	       "60: the IRETQ freed the token (the next event took it again)");
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow stacks across interrupts");
		return report_summary();
	}
	cet_init();
	struct cet_ss s = cet_ss_page(false), is = cet_ss_page(false);
	struct cet_ss u = cet_ss_page(true), k = cet_ss_page(false);
	u64 *tab = page_alloc();
	tss_set_ist(IST_K, (u64)page_alloc() + 4096);
	idt_set_ist(V_IST, IST_K);
	idt_set_handler(V_SAME, rec_handler);
	idt_set_handler(V_IST, rec_handler);
	idt_set_handler(V_TAMPER, tamper_handler);
	idt_set_addr(V_USER, (u64)user_int_handler);
	idt_set_dpl(V_USER, 3);
	tab[IST_K] = cet_ss_token(&is);
	wrmsr(MSR_IA32_INT_SSP_TAB, (u64)tab);
	supervisor_tests(&s, &is, tab);
	struct cet_ss ks = cet_ss_page(false);
	user_tests(&u, &k, &ks);
	cet_exit();
	return report_summary();
}
