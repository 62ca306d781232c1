/* Covers: 11 12
 * cet_cr: the CR0.WP / CR4.CET interlock (spec/cet.md 2; SDM Vol. 3A
 * 2.5): MOV CR4 setting CET while CR0.WP=0, and MOV CR0 clearing WP while
 * CR4.CET=1, each → #GP(0) at the MOV with the target register unchanged.
 * Item 9 (CET reserved without SHSTK and IBT) is in cet_off; item 10 (CET
 * with only one feature) in cet_msr_ibt and cet_msr_shstk. */
#include "cet.h"
#include "fault.h"
#include "report.h"
#include "x86.h"

static void test_cet_without_wp(void)
{
	u64 cr0 = read_cr0(), cr4 = read_cr4();
	struct fault f;
	write_cr0(cr0 & ~X86_CR0_WP);
	cet_write_cr4_try(cr4 | X86_CR4_CET, &f);
	u64 cr4_after = read_cr4();
	write_cr0(cr0);
	report(cet_gp0_at_insn(&f),
	       "11: MOV CR4.CET=1 with CR0.WP=0 → #GP(0) at the MOV (v%d e%lu)", f.vector,
	       f.error_code);
	report(cr4_after == cr4, "11: CR4 unchanged (%#lx, was %#lx)", cr4_after, cr4);
}

static void test_clear_wp(void)
{
	u64 cr0 = read_cr0() | X86_CR0_WP, cr4 = read_cr4();
	struct fault f;
	write_cr0(cr0);
	write_cr4(cr4 | X86_CR4_CET);
	cet_write_cr0_try(cr0 & ~X86_CR0_WP, &f);
	u64 cr0_after = read_cr0();
	write_cr4(cr4);
	report(cet_gp0_at_insn(&f), "12: MOV CR0 clearing WP with CR4.CET=1 → #GP(0) (v%d e%lu)",
	       f.vector, f.error_code);
	report(cr0_after == cr0, "12: CR0 unchanged (%#lx, was %#lx)", cr0_after, cr0);
}

int main(void)
{
	if (!cet_has_shstk() && !cet_has_ibt()) {
		report_skip("CPUID lacks SHSTK and IBT");
		return report_summary();
	}
	test_cet_without_wp();
	test_clear_wp();
	return report_summary();
}
