/* Covers: 72 74 75 76 77 78 83
 * cet_ssinsn: INCSSP, WRSS, WRUSS, SETSSBSY and CLRSSBSY with their #UD,
 * #GP(0), #CP(5) and #PF cases, and LOCK on every CET instruction
 * (spec/cet.md 5.3, 6; SDM Vol. 2 INCSSP, WRSS, WRUSS, SETSSBSY, CLRSSBSY). */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

#define PF_SS_W (PFERR_P | PFERR_W | PFERR_SS)
#define ARITH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
	       X86_EFLAGS_SF | X86_EFLAGS_OF)
#define VAL 0x1122334455667788ull

static volatile u64 plain_slot;

/* CPL 3 bodies: one instruction, then UD2 (an #UD there means "ran"). */
void user_wruss(void), user_setssbsy(void), user_clrssbsy(void);
asm(".pushsection .text\n"
    ".globl user_wruss, user_setssbsy, user_clrssbsy\n"
    "user_wruss:\n\tendbr64\n\twrussq %rax, (%rdi)\n\tud2\n"
    "user_setssbsy:\n\tendbr64\n\tsetssbsy\n\tud2\n"
    "user_clrssbsy:\n\tendbr64\n\tclrssbsy (%rdi)\n\tud2\n"
    ".popsection");

static struct fault user_run(void (*fn)(void), u64 m)
{
	struct regs r = fault_user_regs((u64)fn, USER_CS);
	r.rdi = m;
	r.rax = VAL;
	return fault_run_regs(&r);
}

static const char *const names[] = {
	"INCSSPQ", "SAVEPREVSSP", "RSTORSSP", "WRSSQ", "SETSSBSY", "CLRSSBSY", "WRUSSQ",
};

/* Instruction i of names[] on memory operand m; returns the vector. */
static int run(int i, u64 m)
{
	switch (i) {
	case 0: asm volatile(FAULT_TRY("1f") "incsspq %0\n1:" ::"r"(0ull) : "memory"); break;
	case 1: asm volatile(FAULT_TRY("1f") "saveprevssp\n1:" ::: "memory", "cc"); break;
	case 2: asm volatile(FAULT_TRY("1f") "rstorssp (%0)\n1:" ::"r"(m) : "memory", "cc"); break;
	case 3: asm volatile(FAULT_TRY("1f") "wrssq %1, (%0)\n1:" ::"r"(m), "r"(VAL) : "memory"); break;
	case 4: asm volatile(FAULT_TRY("1f") "setssbsy\n1:" ::: "memory"); break;
	case 5: asm volatile(FAULT_TRY("1f") "clrssbsy (%0)\n1:" ::"r"(m) : "memory", "cc"); break;
	default: asm volatile(FAULT_TRY("1f") "wrussq %1, (%0)\n1:" ::"r"(m), "r"(VAL) : "memory"); break;
	}
	return fault_take().vector;
}

/* 72: #UD with CR4.CET=0, then with CR4.CET=1 and S_CET=0. */
static void test_ud(const struct cet_ss *s, const struct cet_ss *u)
{
	cet_cr4(false);
	for (int i = 0; i < 7; i++)
		report(run(i, s->va + 0x100) == UD_VECTOR, "%s with CR4.CET=0: #UD", names[i]);
	cet_cr4(true);
	for (int i = 0; i < 6; i++)
		report(run(i, s->va + 0x100) == UD_VECTOR, "%s with S_CET.SH_STK_EN=0: #UD",
		       names[i]);
	report(run(6, u->va + 0x100) == FAULT_NONE && cet_ss_get(u, 0x100) == VAL,
	       "WRUSSQ with CR4.CET=1 and S_CET=0 writes the user shadow stack");
}

/* 83: LOCK before each CET instruction (shadow stacks on, so that every
 * one of them would otherwise run or fault differently). */
static void test_lock(u64 m)
{
	int v[9];
#define LOCKED(k, insn)                                                           \
	asm volatile(FAULT_TRY("1f") ".byte 0xf0\n\t" insn "\n1:" ::"D"(m), "a"(0ull) \
		     : "memory", "cc");                                           \
	v[k] = fault_take().vector
	LOCKED(0, "incsspq %%rax");
	LOCKED(1, "rdsspq %%rax");
	LOCKED(2, "saveprevssp");
	LOCKED(3, "rstorssp (%%rdi)");
	LOCKED(4, "wrssq %%rax, (%%rdi)");
	LOCKED(5, "wrussq %%rax, (%%rdi)");
	LOCKED(6, "setssbsy");
	LOCKED(7, "clrssbsy (%%rdi)");
	LOCKED(8, "endbr64");
#undef LOCKED
	static const char *const n[] = { "INCSSPQ", "RDSSPQ", "SAVEPREVSSP", "RSTORSSP", "WRSSQ",
					 "WRUSSQ", "SETSSBSY", "CLRSSBSY", "ENDBR64" };
	for (int i = 0; i < 9; i++)
		report(v[i] == UD_VECTOR, "LOCK %s: #UD (vector %d)", n[i], v[i]);
}

/* 74: INCSSP pops n = r[7:0] elements, reading the first and the last. */
static void test_incssp(u64 tok)
{
	u64 before = 0, after = 0;
	asm volatile("call 1f\n\tud2\n"
		     "1:\tcall 2f\n\tud2\n"
		     "2:\tcall 3f\n\tud2\n"
		     "3:\tadd $24, %%rsp\n\t"
		     "rdsspq %[b]\n\t"
		     "incsspq %[n]\n\t"
		     "rdsspq %[a]"
		     : [b] "+r"(before), [a] "+r"(after)
		     : [n] "r"(0x103ull)
		     : "memory");
	report(before == tok - 24 && after == tok, "INCSSPQ 0x103: SSP +0x18 (%#lx -> %#lx)",
	       before, after);
	asm volatile("incsspq %0" ::"r"(0ull));
	report(cet_rdssp() == tok, "INCSSPQ 0: SSP unchanged");
	asm volatile(FAULT_TRY("1f") "incsspq %0\n1:" ::"r"(0x103ull) : "memory");
	struct fault f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == PFERR_SS && f.cr2 == tok + 0x10 &&
		       f.rip == f.insn && cet_rdssp() == tok,
	       "INCSSPQ reads SSP+(n-1)*8: #PF(0x40) at %#lx, SSP unchanged", f.cr2);
	asm volatile("call 1f\n\tud2\n"
		     "1:\tcall 2f\n\tud2\n"
		     "2:\tadd $16, %%rsp\n\t"
		     "incsspd %[n]\n\t"
		     "rdsspq %[a]\n\t"
		     "incsspd %[n]"
		     : [a] "+r"(after)
		     : [n] "r"(2u)
		     : "memory");
	report(after == tok - 8 && cet_rdssp() == tok, "INCSSPD 2: SSP +8 (4-byte elements)");
}

/* 75: WRSS to a shadow-stack slot, misaligned, and to an ordinary page. */
static void test_wrss(const struct cet_ss *s)
{
	report(run(3, s->va + 0x100) == FAULT_NONE && cet_ss_get(s, 0x100) == VAL,
	       "WRSSQ to an aligned shadow-stack slot");
	asm volatile(FAULT_TRY("1f") "wrssd %1, (%0)\n1:" ::"r"(s->va + 0x10c), "r"(0xabcdu)
		     : "memory");
	report(fault_take().vector == FAULT_NONE && cet_ss_get(s, 0x108) >> 32 == 0xabcd,
	       "WRSSD to a 4-aligned slot");
	asm volatile(FAULT_TRY("1f") "wrssq %1, (%0)\n1:" ::"r"(s->va + 0x104), "r"(VAL)
		     : "memory");
	struct fault f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0 && f.rip == f.insn,
	       "WRSSQ misaligned: #GP(0)");
	asm volatile(FAULT_TRY("1f") "wrssd %1, (%0)\n1:" ::"r"(s->va + 0x102), "r"(1u)
		     : "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0, "WRSSD misaligned: #GP(0)");
	asm volatile(FAULT_TRY("1f") "wrssq %1, (%0)\n1:" ::"r"(&plain_slot), "r"(VAL)
		     : "memory");
	f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == PF_SS_W && f.cr2 == (u64)&plain_slot,
	       "WRSSQ to an ordinary page: #PF with bit 6 (%#lx)", f.error_code);
	wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN);
	report(run(3, s->va + 0x100) == UD_VECTOR, "WRSSQ with WRSS_EN=0: #UD");
	wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN | CET_WRSS_EN);
}

/* 76: WRUSS at CPL 0 to a user and to a supervisor shadow-stack page. */
static void test_wruss(const struct cet_ss *s, const struct cet_ss *u)
{
	cet_ss_put(u, 0x200, 0);
	report(run(6, u->va + 0x200) == FAULT_NONE && cet_ss_get(u, 0x200) == VAL,
	       "WRUSSQ at CPL 0 writes a user shadow-stack page");
	asm volatile(FAULT_TRY("1f") "wrussq %1, (%0)\n1:" ::"r"(s->va + 0x200), "r"(VAL)
		     : "memory");
	struct fault f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == (PF_SS_W | PFERR_U) &&
		       f.cr2 == s->va + 0x200,
	       "WRUSSQ to a supervisor shadow-stack page: #PF bits 6 and 2 (%#lx)",
	       f.error_code);
	asm volatile(FAULT_TRY("1f") "wrussq %1, (%0)\n1:" ::"r"(u->va + 0x204), "r"(VAL)
		     : "memory");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0, "WRUSSQ misaligned: #GP(0)");
}

/* 77: SETSSBSY success (done by cet_sss_on), busy token, misaligned
 * PL0_SSP. */
static void test_setssbsy(const struct cet_ss *s, u64 tok)
{
	report(cet_rdssp() == tok && cet_ss_get(s, 0xff8) == (tok | 1),
	       "SETSSBSY: [PL0_SSP] = PL0_SSP|1 and SSP = PL0_SSP");
	asm volatile(FAULT_TRY("1f") "setssbsy\n1:" ::: "memory");
	struct fault f = fault_take();
	report(f.vector == CP_VECTOR && f.error_code == CP_SETSSBSY && f.rip == f.insn &&
		       cet_rdssp() == tok,
	       "SETSSBSY on a busy token: #CP(5), SSP unchanged (vector %d)", f.vector);
	wrmsr(MSR_IA32_PL0_SSP, tok - 4);
	asm volatile(FAULT_TRY("1f") "setssbsy\n1:" ::: "memory");
	f = fault_take();
	wrmsr(MSR_IA32_PL0_SSP, tok);
	report(f.vector == GP_VECTOR && f.error_code == 0, "SETSSBSY, PL0_SSP & 7 = 4: #GP(0)");
}

/* 78: CLRSSBSY on an invalid and on the valid busy token; SSP is 0 after
 * each, so SETSSBSY restores it before any CALL. */
static void test_clrssbsy(const struct cet_ss *s, u64 tok)
{
	u64 inv = s->va + 0x800, f1, f2, v2, s1 = 0x1234, s2 = 0x1234;
	cet_ss_put(s, 0x800, 0x5555000);
	asm volatile("cmp %%eax, %%eax\n\t"
		     "clrssbsy (%[inv])\n\t"
		     "pushfq\n\tpopq %[f1]\n\t"
		     "rdsspq %[s1]\n\t"
		     "cmp %%eax, %%eax\n\tstc\n\t"
		     "clrssbsy (%[tok])\n\t"
		     "pushfq\n\tpopq %[f2]\n\t"
		     "mov (%[tok]), %[v2]\n\t"
		     "rdsspq %[s2]\n\t"
		     "setssbsy"
		     : [f1] "=&r"(f1), [f2] "=&r"(f2), [v2] "=&r"(v2), [s1] "+&r"(s1),
		       [s2] "+&r"(s2)
		     : [inv] "r"(inv), [tok] "r"(tok)
		     : "rax", "memory", "cc");
	report((f1 & ARITH) == X86_EFLAGS_CF && cet_ss_get(s, 0x800) == 0x5555000 && s1 == 0,
	       "CLRSSBSY on an invalid token: CF=1 only, memory unchanged, SSP=0 (%#lx)", f1);
	report((f2 & ARITH) == 0 && v2 == tok && s2 == 0,
	       "CLRSSBSY on a busy token frees it: CF=0 etc., SSP=0 (%#lx)", f2);
	report(cet_rdssp() == tok, "SETSSBSY takes it again");
}

/* A CPL 3 run with supervisor shadow stacks on: the event that ends it
 * enters CPL 0 on the free token at the top of h (spec 5.9), and the fault
 * hook turns S_CET.SH_STK_EN off for the unwind (guest/lib/cet.c). */
static struct fault user_run_sss(const struct cet_ss *h, void (*fn)(void), u64 m)
{
	wrmsr(MSR_IA32_PL0_SSP, cet_ss_token(h));
	wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN | CET_WRSS_EN);
	return user_run(fn, m);
}

/* Runs after cet_sss_off(): since delivery from CPL 3 switches shadow
 * stacks (spec 5.9), each run gets its own token. */
static void test_cpl3(const struct cet_ss *u)
{
	struct cet_ss h = cet_ss_page(false);
	struct fault f = user_run_sss(&h, user_wruss, u->va + 0x100);
	report(f.vector == GP_VECTOR && f.error_code == 0 && f.rip == (u64)user_wruss + 4,
	       "WRUSSQ at CPL 3: #GP(0)");
	f = user_run_sss(&h, user_setssbsy, 0);
	report(f.vector == GP_VECTOR && f.error_code == 0 && f.rip == (u64)user_setssbsy + 4,
	       "SETSSBSY at CPL 3: #GP(0)");
	f = user_run_sss(&h, user_clrssbsy, u->va + 0x100);
	report(f.vector == GP_VECTOR && f.error_code == 0, "CLRSSBSY at CPL 3: #GP(0)");
}

static void supervisor_tests(const struct cet_ss *s, const struct cet_ss *u)
{
	u64 tok = cet_ss_token(s);
	/* Nothing here may return until cet_sss_off() (see cet.h). */
	cet_sss_on(tok);
	test_setssbsy(s, tok);
	test_incssp(tok);
	test_wrss(s);
	test_wruss(s, u);
	test_clrssbsy(s, tok);
	test_lock(s->va + 0x100);
	cet_sss_off();
	test_cpl3(u);
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow-stack instruction tests");
		return report_summary();
	}
	cet_init();
	struct cet_ss s = cet_ss_page(false), u = cet_ss_page(true);
	test_ud(&s, &u);
	supervisor_tests(&s, &u);
	cet_exit();
	return report_summary();
}
