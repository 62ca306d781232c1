/* Covers: 44 45 46 47 48 49 50 51 52 73
 * cet_shstk: near CALL/RET on a shadow stack, the shadow-stack page rules
 * and their #PF error codes, RDSSP (spec/cet.md 5.2, 5.5, 6; SDM Vol. 1
 * 17.2-17.3, Vol. 3A 4.6). Item 44's 32-bit half runs in compatibility
 * mode at CPL 3. */
#include "alloc.h"
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

#define PF_SS_W (PFERR_P | PFERR_W | PFERR_SS)
#define X_VA 0x340000000ull /* a shadow-stack page in its own 2 MiB region */

/* CPL 3: switch to the restore token at RDI, then CALL (spec 5.5). */
void user_pivot_call(void);
extern char user_call_insn[], user_call_ret[];
asm(".pushsection .text\n"
    ".globl user_pivot_call, user_call_insn, user_call_ret\n"
    "user_pivot_call:\n\t"
    "endbr64\n\t"
    "rstorssp (%rdi)\n"
    "user_call_insn:\n\t"
    "call 1f\n"
    "user_call_ret:\n\t"
    "ud2\n"
    "1:\tud2\n"
    ".popsection");

/* The same in compatibility mode: 4-byte shadow-stack elements. */
void user_pivot_call32(void);
extern char user_call32_ret[];
asm(".pushsection .text\n"
    ".globl user_pivot_call32, user_call32_ret\n"
    ".code32\n"
    "user_pivot_call32:\n\t"
    "push %ss\n\tpop %ds\n\t" /* DS = the user data segment */
    "rstorssp (%edi)\n\t"
    "call 1f\n"
    "user_call32_ret:\n\t"
    "ud2\n"
    "1:\trdsspd %eax\n\t"
    "ud2\n"
    ".code64\n"
    ".popsection");

static void test_rdssp(u64 tok)
{
	u64 q = 0x1234, d = ~0ull;
	asm volatile("rdsspq %0\n\trdsspd %k1" : "+r"(q), "+r"(d));
	report(q == tok, "RDSSPQ returns SSP (%#lx)", q);
	report(d == (u32)tok, "RDSSPD zero-extends SSP[31:0] (%#lx)", d);
}

static void test_call_push(void)
{
	u64 ssp0 = cet_rdssp(), in = 0, top = 0, ret, after = 0;
	asm volatile("lea 1f(%%rip), %[ret]\n\t"
		     "call 2f\n"
		     "1:\tjmp 3f\n"
		     "2:\trdsspq %[in]\n\t"
		     "mov (%[in]), %[top]\n\t"
		     "ret\n"
		     "3:\trdsspq %[after]"
		     : [ret] "=&r"(ret), [in] "+&r"(in), [top] "=&r"(top), [after] "+&r"(after)
		     :
		     : "memory");
	/* 52: an ordinary read of a shadow-stack page works (before the
	 * next CALL reuses the slot). */
	u64 slot = *(volatile u64 *)(ssp0 - 8);
	report(in == ssp0 - 8 && top == ret, "CALL: SSP -8 and [SSP] = return RIP");
	report(after == ssp0, "RET: SSP back to %#lx", after);
	report(slot == ret, "ordinary read of the shadow stack");
}

static void test_call_next(void)
{
	u64 ssp0 = cet_rdssp();
	u64 below = *(volatile u64 *)(ssp0 - 8);
	asm volatile("call 1f\n1:\tpop %%rax" ::: "rax", "memory");
	report(cet_rdssp() == ssp0 && *(volatile u64 *)(ssp0 - 8) == below,
	       "CALL with displacement 0 leaves SSP and the shadow stack");
}

static void test_ret_imm(void)
{
	u64 ssp0 = cet_rdssp(), in = 0, after = 0, rsp0, rsp1;
	asm volatile("mov %%rsp, %[rsp0]\n\t"
		     "sub $16, %%rsp\n\t"
		     "call 2f\n\t"
		     "jmp 3f\n"
		     "2:\trdsspq %[in]\n\t"
		     "ret $16\n"
		     "3:\tmov %%rsp, %[rsp1]\n\t"
		     "rdsspq %[after]"
		     : [rsp0] "=&r"(rsp0), [rsp1] "=&r"(rsp1), [in] "+&r"(in), [after] "+&r"(after)
		     :
		     : "memory");
	report(in == ssp0 - 8 && after == ssp0 && rsp1 == rsp0,
	       "RET imm16: SSP +8, RSP +8+16");
}

static void test_ret_mismatch(void)
{
	u64 ssp0 = cet_rdssp(), ret_at, rsp_at = 0, after = 0;
	asm volatile("lea 5f(%%rip), %[at]\n\t"
		     "mov %%rsp, %%r12\n\t" FAULT_TRY("1f")
		     "call 2f\n\t"
		     "jmp 1f\n"
		     "2:\tlea 1f(%%rip), %%rax\n\t"
		     "mov %%rax, (%%rsp)\n\t"
		     "mov %%rsp, %[rsp]\n"
		     "5:\tret\n"
		     "1:\tmov %%r12, %%rsp\n\t"
		     "rdsspq %[after]"
		     : [at] "=&r"(ret_at), [rsp] "+&r"(rsp_at), [after] "+&r"(after)
		     :
		     : "rax", "r12", "memory", "cc");
	struct fault f = fault_take();
	report(f.vector == CP_VECTOR && f.error_code == CP_NEAR_RET,
	       "RET mismatch: #CP(1) (vector %d error %#lx)", f.vector, f.error_code);
	report(f.rip == ret_at && f.rsp == rsp_at && after == ssp0 - 8,
	       "#CP(1): RIP at the RET, RSP and SSP unchanged");
	asm volatile("incsspq %0" ::"r"(1ull)); /* drop the CALL's entry */
	report(cet_rdssp() == ssp0, "INCSSPQ 1 pops it");
}

static void test_plain_store(u64 va)
{
	asm volatile(FAULT_TRY("1f") "movq $0, (%0)\n1:" ::"r"(va) : "memory");
	struct fault f = fault_take();
	report(f.vector == PF_VECTOR && f.error_code == (PFERR_P | PFERR_W) && f.cr2 == va,
	       "ordinary store to a shadow-stack page: #PF W=1, bit 6 clear (%#lx)",
	       f.error_code);
}

/* 51: WRSS through a PDE with R/W=0 faults; with R/W=1 it works. */
static void test_nonleaf_rw(void)
{
	u64 *pde = pt_entry(pt_root(), X_VA, PT_2M);
	*pde &= ~PTE_W;
	pt_flush();
	asm volatile(FAULT_TRY("1f") "wrssq %1, %0\n1:" : "=m"(*(u64 *)X_VA) : "r"(7ull));
	struct fault f = fault_take();
	*pde |= PTE_W;
	pt_flush();
	report(f.vector == PF_VECTOR && f.error_code == PF_SS_W && f.cr2 == X_VA,
	       "non-leaf R/W=0: #PF with bit 6 (%#lx)", f.error_code);
	asm volatile(FAULT_TRY("1f") "wrssq %1, %0\n1:" : "=m"(*(u64 *)X_VA) : "r"(7ull));
	f = fault_take();
	report(f.vector == FAULT_NONE, "non-leaf R/W=1: WRSS works");
}

static void supervisor_tests(const struct cet_ss *ss)
{
	u64 tok = cet_ss_token(ss);
	cet_remap(X_VA, (u64)page_alloc(), PTE_D | PTE_A);
	/* Nothing here may return until cet_sss_off() (see cet.h). */
	cet_sss_on(tok);
	test_rdssp(tok);
	test_call_push();
	test_call_next();
	test_ret_imm();
	test_ret_mismatch();
	test_plain_store(ss->va);
	test_nonleaf_rw();
	cet_sss_off();
}

/* 49, 50: CPL 3 with U_CET.SH_STK_EN pivots to a restore token at the
 * bottom of a user shadow-stack page and CALLs, pushing into the page
 * below, mapped as `below`. */
static struct fault user_call(const struct cet_ss *u, u64 below)
{
	cet_ss_put(u, 0, (u->va + 8) | 1);
	cet_remap(u->va - 0x1000, (u64)page_alloc(), below);
	wrmsr(MSR_IA32_PL3_SSP, u->va + 0x800);
	wrmsr(MSR_IA32_U_CET, CET_SHSTK_EN);
	struct regs r = fault_user_regs((u64)user_pivot_call, USER_CS);
	r.rdi = u->va;
	struct fault f = fault_run_regs(&r);
	wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

static void user_tests(void)
{
	struct cet_ss u = cet_ss_page(true);
	struct regs r0 = fault_user_regs(0, USER_CS);
	struct fault f = user_call(&u, PTE_U | PTE_D | PTE_A);
	report(f.vector == UD_VECTOR && f.rip == (u64)user_call_ret + 2 &&
		       *(volatile u64 *)(u.va - 8) == (u64)user_call_ret,
	       "CPL 3 CALL onto a user shadow-stack page works (vector %d)", f.vector);
	f = user_call(&u, PTE_U | PTE_W | PTE_D | PTE_A);
	report(f.vector == PF_VECTOR && f.error_code == (PF_SS_W | PFERR_U) &&
		       f.cr2 == u.va - 8,
	       "CALL with SSP on an ordinary page: #PF bits 6, 2, 1, 0 (%#lx)", f.error_code);
	report(f.rip == (u64)user_call_insn && f.rsp == r0.rsp,
	       "#PF: RIP at the CALL, RSP unchanged");
	f = user_call(&u, PTE_D | PTE_A);
	report(f.vector == PF_VECTOR && f.error_code == (PF_SS_W | PFERR_U) &&
		       f.cr2 == u.va - 8,
	       "user push to a supervisor shadow-stack page: #PF bits 6 and 2 (%#lx)",
	       f.error_code);
}

/* 44 (32-bit): a CALL in compatibility mode lowers SSP by 4. The user
 * shadow-stack page is identity-mapped below 4 GiB. */
static void test_call32(void)
{
	u8 *page = page_alloc();
	u64 la = (u64)page + 0x800;
	cet_remap((u64)page, (u64)page, PTE_U | PTE_D | PTE_A);
	/* A 32-bit restore token: bit 0 (64-bit) clear. */
	asm volatile("wrussq %1, %0" : "=m"(*(u64 *)la) : "r"(la + 8));
	/* IRET to compatibility mode loads SSP = PL3_SSP and needs its
	 * bits 63:32 clear (spec 5.8). */
	wrmsr(MSR_IA32_PL3_SSP, 0);
	wrmsr(MSR_IA32_U_CET, CET_SHSTK_EN);
	struct regs r = fault_user_regs((u64)user_pivot_call32, USER_CS32);
	r.rdi = la;
	r.rax = 0x1234;
	struct fault f = fault_run_regs(&r);
	wrmsr(MSR_IA32_U_CET, 0);
	report(f.vector == UD_VECTOR && f.regs.rax == la - 4 &&
		       *(volatile u32 *)(la - 4) == (u32)(u64)user_call32_ret,
	       "compatibility mode CALL: SSP -4 and [SSP] = return EIP (SSP %#lx)",
	       f.regs.rax);
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow-stack tests");
		return report_summary();
	}
	u64 q = 0x1234;
	asm volatile("rdsspq %0" : "+r"(q));
	report(q == 0x1234, "RDSSPQ with shadow stacks off leaves the register");
	cet_init();
	struct cet_ss ss = cet_ss_page(false);
	supervisor_tests(&ss);
	user_tests();
	test_call32();
	cet_exit();
	return report_summary();
}
