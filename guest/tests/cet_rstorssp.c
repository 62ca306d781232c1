/* Covers: 79 80 81 82
 * cet_rstorssp: RSTORSSP and SAVEPREVSSP, restore and previous-SSP tokens,
 * and a shadow-stack pivot A -> B -> A (spec/cet.md 5.3, 6; SDM Vol. 1
 * 17.2.3, Vol. 2 RSTORSSP, SAVEPREVSSP). 64-bit mode. */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

#define ARITH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
	       X86_EFLAGS_SF | X86_EFLAGS_OF)

static struct cet_ss a, b;

/* RSTORSSP (la) with ZF preset; returns SSP before and after, RFLAGS. */
static inline __attribute__((always_inline)) void rstorssp(u64 la, u64 *old, u64 *now, u64 *fl)
{
	u64 o = 0, n = 0, f;
	asm volatile("rdsspq %[o]\n\t"
		     "cmp %%eax, %%eax\n\t"
		     "rstorssp (%[la])\n\t"
		     "pushfq\n\tpopq %[f]\n\t"
		     "rdsspq %[n]"
		     : [o] "+&r"(o), [n] "+&r"(n), [f] "=&r"(f)
		     : [la] "r"(la)
		     : "rax", "memory", "cc");
	*old = o;
	*now = n;
	*fl = f;
}

/* Back to stack A: RSTORSSP on the restore token SAVEPREVSSP left at
 * old-8, then INCSSPQ 1 pops the previous-SSP token written there. */
static inline __attribute__((always_inline)) void back_to_a(u64 old)
{
	asm volatile("rstorssp (%0)\n\tincsspq %1" ::"r"(old - 8), "r"(1ull) : "memory", "cc");
}

/* 79, 81, 82: A -> B by RSTORSSP, SAVEPREVSSP, calls on B, B -> A. */
static void test_pivot(void)
{
	u64 la = b.va + 0xff8, old, now, fl, after = 0;
	cet_ss_put(&b, 0xff8, (b.va + 0x1000) | 1);
	rstorssp(la, &old, &now, &fl);
	report(now == la && cet_ss_get(&b, 0xff8) == (old | 3),
	       "RSTORSSP: SSP = operand, previous-SSP token old|1|2 written");
	report((fl & ARITH) == 0, "RSTORSSP: CF = token bit 2 = 0, ZF etc. 0 (%#lx)", fl);
	asm volatile("clc\n\tsaveprevssp\n\trdsspq %0" : "+r"(after)::"memory", "cc");
	report(after == b.va + 0x1000, "SAVEPREVSSP pops 8 bytes (SSP %#lx)", after);
	report(*(volatile u64 *)(old - 8) == (old | 1),
	       "SAVEPREVSSP: restore token old|1 at (old & ~7) - 8 on stack A");
	/* CALL/RET work on B; then back to A. */
	u64 in = 0;
	asm volatile("call 1f\n\tjmp 2f\n1:\trdsspq %0\n\tret\n2:" : "+r"(in)::"memory");
	report(in == b.va + 0xff8, "CALL on stack B pushes at %#lx", in);
	back_to_a(old);
	report(cet_rdssp() == old, "pivot A -> B -> A restores SSP %#lx", old);
}

/* 79 (CF=1) and 81 (CF=1 and token bit 1 = 0: #GP(0)). */
static void test_hole(void)
{
	u64 la = b.va + 0xf00, old, now, fl;
	cet_ss_put(&b, 0xf00, (la + 12) | 1); /* a 4-aligned saved SSP */
	rstorssp(la, &old, &now, &fl);
	report(now == la && (fl & ARITH) == X86_EFLAGS_CF,
	       "RSTORSSP of a token with bit 2 set: CF=1, other flags 0 (%#lx)", fl);
	asm volatile(FAULT_TRY("1f") "stc\n\tsaveprevssp\n1:" ::: "memory", "cc");
	struct fault f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0 && cet_rdssp() == la,
	       "SAVEPREVSSP with CF=1 in 64-bit mode: #GP(0), SSP unchanged");
	u64 prev = cet_ss_get(&b, 0xf00);
	asm volatile("wrssq %1, %0" : "=m"(*(u64 *)la) : "r"(prev & ~2ull));
	asm volatile(FAULT_TRY("1f") "clc\n\tsaveprevssp\n1:" ::: "memory", "cc");
	f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0 && cet_rdssp() == la,
	       "SAVEPREVSSP with token bit 1 = 0: #GP(0)");
	asm volatile("wrssq %1, %0" : "=m"(*(u64 *)la) : "r"(prev));
	asm volatile("clc\n\tsaveprevssp" ::: "memory", "cc");
	back_to_a(old);
	report(cet_rdssp() == old, "back on stack A");
}

/* 80: invalid restore tokens (#CP(4), token unchanged) and a misaligned
 * operand (#GP(0)). */
static void test_bad_tokens(void)
{
	static const struct {
		u64 off;
		const char *what;
	} bad[] = {
		{ 0x808, "mode bit 0 (not 64-bit)" },
		{ 0x809 | 2, "bit 1 set" },
		{ 0x811, "address mismatch" },
	};
	u64 ssp = cet_rdssp();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u64 tok = b.va + bad[i].off;
		cet_ss_put(&b, 0x800, tok);
		asm volatile(FAULT_TRY("1f") "rstorssp (%0)\n1:" ::"r"(b.va + 0x800)
			     : "memory", "cc");
		struct fault f = fault_take();
		report(f.vector == CP_VECTOR && f.error_code == CP_RSTORSSP && f.rip == f.insn &&
			       cet_ss_get(&b, 0x800) == tok && cet_rdssp() == ssp,
		       "RSTORSSP, %s: #CP(4), token and SSP unchanged (vector %d)", bad[i].what,
		       f.vector);
	}
	cet_ss_put(&b, 0x800, (b.va + 0x808) | 1);
	asm volatile(FAULT_TRY("1f") "rstorssp (%0)\n1:" ::"r"(b.va + 0x804) : "memory", "cc");
	struct fault f = fault_take();
	report(f.vector == GP_VECTOR && f.error_code == 0 && cet_rdssp() == ssp,
	       "RSTORSSP misaligned operand: #GP(0)");
}

static void supervisor_tests(void)
{
	u64 tok = cet_ss_token(&a);
	/* Nothing here may return until cet_sss_off() (see cet.h). */
	cet_sss_on(tok);
	test_pivot();
	test_hole();
	test_bad_tokens();
	cet_sss_off();
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): RSTORSSP/SAVEPREVSSP tests");
		return report_summary();
	}
	cet_init();
	a = cet_ss_page(false);
	b = cet_ss_page(false);
	supervisor_tests();
	cet_exit();
	return report_summary();
}
