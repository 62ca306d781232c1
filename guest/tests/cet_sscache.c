/* cet_sscache: CALL and RET must see the current mapping of the stack and
 * shadow-stack pages. cetvm's interpreter keeps the host address of the
 * last stack and shadow-stack page it used (one page each, in front of its
 * software TLB); these remap that page between a CALL and its RET, with
 * INVLPG or a CR3 reload (SDM Vol. 3A 4.10.4), and check that the RET and
 * later pushes go to the new frame: a shadow-stack frame holding another
 * return address makes RET raise #CP(1) (spec/cet.md 5.5), one holding
 * the same address lets it return, and a remapped ordinary stack page
 * gives RET the new frame's return address. */
#include "alloc.h"
#include "cet.h"
#include "fault.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

#define STACK_VA 0x360000000ull /* an ordinary stack page, own 2 MiB region */

enum flush { BY_INVLPG, BY_CR3 };
static const char *const flush_name[] = { "INVLPG", "a CR3 reload" };

/* CALL; in the callee store `pte_val` to *pte, flush va, RET. Returns the
 * fault of the RET (FAULT_NONE if it returned); *ret_at is the RET's
 * address, *ret_addr the CALL's return address. */
static struct fault call_remap_ret(volatile u64 *pte, u64 pte_val, u64 va, enum flush how,
				   u64 *ret_at, u64 *ret_addr)
{
	asm volatile("lea 5f(%%rip), %[at]\n\t"
		     "lea 6f(%%rip), %[ra]\n\t"
		     "mov %%rsp, %%r12\n\t" FAULT_TRY("1f")
		     "call 2f\n"
		     "6:\tjmp 1f\n"
		     "2:\tmov %[val], (%[pte])\n\t"
		     "cmp $0, %[how]\n\t"
		     "jne 3f\n\t"
		     "invlpg (%[va])\n\t"
		     "jmp 5f\n"
		     "3:\tmov %%cr3, %%rax\n\t"
		     "mov %%rax, %%cr3\n"
		     "5:\tret\n"
		     "1:\tmov %%r12, %%rsp"
		     : [at] "=&r"(*ret_at), [ra] "=&r"(*ret_addr)
		     : [pte] "r"(pte), [val] "r"(pte_val), [va] "r"(va), [how] "r"((u64)how)
		     : "rax", "r12", "memory", "cc");
	return fault_take();
}

/* The shadow-stack page of ss (SSP inside it) is remapped to frame `to`. */
static void test_shstk_remap(const struct cet_ss *ss, enum flush how)
{
	volatile u64 *pte = pt_entry(pt_root(), ss->va, PT_4K);
	u64 old = *pte, ssp0 = cet_rdssp(), at, ra;
	unsigned slot = (unsigned)((ssp0 - 8) & 0xfff);
	u64 *other = page_alloc(), *same = page_alloc();
	u64 ss_flags = PTE_P | PTE_A | PTE_D; /* leaf R/W=0, D=1 (spec 5.2) */

	other[slot / 8] = 0xbad;
	struct fault f = call_remap_ret(pte, (u64)other | ss_flags, ss->va, how, &at, &ra);
	*pte = old;
	invlpg((void *)ss->va);
	report(f.vector == CP_VECTOR && f.error_code == CP_NEAR_RET && f.rip == at,
	       "%s of the shadow-stack page between CALL and RET: RET raises #CP(1) "
	       "(vector %d error %#lx)", flush_name[how], f.vector, f.error_code);
	asm volatile("incsspq %0" ::"r"(1ull)); /* drop the CALL's entry */
	report(cet_rdssp() == ssp0, "%s: SSP back after INCSSPQ", flush_name[how]);

	/* The new frame holds the same return address: RET works, and the
	 * next CALL pushes into the new frame, not the old one. */
	u64 ra1, ra2;
	asm volatile("lea 6f(%%rip), %[ra1]\n\t"
		     "mov %[ra1], (%[slot])\n\t"
		     "call 2f\n"
		     "6:\tjmp 1f\n"
		     "2:\tmov %[val], (%[pte])\n\t"
		     "invlpg (%[va])\n\t"
		     "ret\n"
		     "1:\tlea 4f(%%rip), %[ra2]\n\t"
		     "call 3f\n"
		     "4:\tjmp 7f\n"
		     "3:\tret\n"
		     "7:"
		     : [ra1] "=&r"(ra1), [ra2] "=&r"(ra2)
		     : [pte] "r"(pte), [val] "r"((u64)same | ss_flags), [va] "r"(ss->va),
		       [slot] "r"(&same[slot / 8])
		     : "memory", "cc");
	u64 ssp1 = cet_rdssp(), in_new = same[slot / 8], in_old = cet_ss_get(ss, slot);
	*pte = old;
	invlpg((void *)ss->va);
	report(ssp1 == ssp0 && in_new == ra2 && in_old == ra1,
	       "remapped to a frame with the same return address: RET returns, the next "
	       "CALL pushes into the new frame");
}

/* An ordinary stack page remapped between CALL and RET (shadow stacks off):
 * RET takes the return address from the new frame. */
static void test_stack_remap(enum flush how)
{
	u64 *a = page_alloc(), *b = page_alloc(), at;
	/* landed: 1 if RET went back to the CALL, 2 if to the new frame's
	 * address; RSP is elsewhere meanwhile, so only through a register. */
	u64 flags = PTE_P | PTE_W | PTE_A | PTE_D;
	volatile u64 *pte = pt_map(pt_root(), STACK_VA, (u64)a, PT_4K, flags);
	volatile u64 landed = 0;
	asm volatile("mov (%[pte]), %%rax\n\t" /* no TLB fill between CALL and RET */
		     "lea 8f(%%rip), %%rax\n\t"
		     "mov %%rax, 0x7f8(%[b])\n\t"
		     "lea 5f(%%rip), %[at]\n\t"
		     "mov %%rsp, %%r12\n\t"
		     "lea 0x800(%[va]), %%rsp\n\t"
		     "push %%rax\n\t" /* a PUSH, a POP and a CALL on the page first */
		     "pop %%rax\n\t"
		     "call 2f\n\t"
		     "movq $1, (%[lp])\n\t"
		     "jmp 9f\n"
		     "2:\tmov %[val], (%[pte])\n\t"
		     "cmp $0, %[how]\n\t"
		     "jne 3f\n\t"
		     "invlpg (%[va])\n\t"
		     "jmp 5f\n"
		     "3:\tmov %%cr3, %%rax\n\t"
		     "mov %%rax, %%cr3\n"
		     "5:\tret\n"
		     "8:\tmovq $2, (%[lp])\n"
		     "9:\tmov %%r12, %%rsp"
		     : [at] "=&r"(at)
		     : [lp] "r"(&landed), [pte] "r"(pte), [val] "r"((u64)b | flags), [va] "r"(STACK_VA), [b] "r"(b),
		       [how] "r"((u64)how)
		     : "rax", "r12", "memory", "cc");
	report(landed == 2, "%s of the stack page between CALL and RET: RET uses the new "
	       "frame's return address (%lu)", flush_name[how], landed);
}

int main(void)
{
	test_stack_remap(BY_INVLPG);
	test_stack_remap(BY_CR3);
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow-stack remaps");
		return report_summary();
	}
	cet_init();
	struct cet_ss ss = cet_ss_page(false);
	u64 tok = cet_ss_token(&ss);
	/* Nothing here may return until cet_sss_off() (see cet.h). */
	cet_sss_on(tok);
	test_shstk_remap(&ss, BY_INVLPG);
	test_shstk_remap(&ss, BY_CR3);
	cet_sss_off();
	cet_exit();
	return report_summary();
}
