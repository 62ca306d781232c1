/* Covers: 53 54 55 56 67 71
 * cet_far: shadow stacks across far CALL, far JMP and far RET at the same
 * privilege (spec/cet.md 5.4, 5.6; SDM Vol. 1 17.2.3, Vol. 2A CALL, JMP,
 * Vol. 2B RET): the 24-byte CS/LIP/SSP frame, the far RET checks (#CP(2)),
 * the alignment hole of a compatibility-mode far CALL, the SSP[63:32]
 * check for compatibility-mode targets (#GP(0)), and a CALL whose
 * normal-stack push faults (no shadow-stack change). */
#include "alloc.h"
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "report.h"
#include "x86.h"

struct fp32 {
	u32 off;
	u16 sel;
} __attribute__((packed));

struct fp64 {
	u64 off;
	u16 sel;
} __attribute__((packed));

/* Where c_back (compatibility mode) far-jumps back to 64-bit code. */
struct fp32 back_ptr;
/* The SSP a far-call target saw, and the three entries there. */
volatile u64 rec_ssp, rec_f[3];

extern char far_rec[], far_tamper[], far_tamper_ret[], far_prev[], far_prev_ret[];
extern char far_mis[], far_mis_ret[], t67r[], t67r_ret[], c_back[], c56[], c56_ret[],
	c56_lip[], r56[], u71[], u71_call[];

asm(".pushsection .text\n"
    ".code32\n"
    /* Compatibility mode, CPL 0: back to 64-bit code (no shadow-stack effect). */
    "c_back:\n\tljmp *back_ptr\n"
    /* 56: a near CALL (SSP -= 4), then a far CALL from compatibility mode. */
    "c56:\n\tcall c56_sub\n"
    "c56_ret:\n\tlret\n"
    "c56_sub:\n\tlcall $0x08, $r56\n"
    "c56_lip:\n\tret\n"
    ".code64\n"
    /* 53: record SSP and return. */
    "far_rec:\n\tendbr64\n\trdsspq %rax\n\tmov %rax, rec_ssp(%rip)\n\t"
    "mov (%rax), %rcx\n\tmov %rcx, rec_f(%rip)\n\tmov 8(%rax), %rcx\n\tmov %rcx, rec_f+8(%rip)\n\t"
    "mov 16(%rax), %rcx\n\tmov %rcx, rec_f+16(%rip)\n\tlretq\n"
    /* 54: change the return offset on the normal stack. */
    "far_tamper:\n\tendbr64\n\tincq (%rsp)\n"
    "far_tamper_ret:\n\tlretq\n"
    /* 55: prevSSP with bit 1 set. */
    "far_prev:\n\tendbr64\n\trdsspq %rax\n\tmov (%rax), %rcx\n\tor $2, %rcx\n\t"
    "wrssq %rcx, (%rax)\n"
    "far_prev_ret:\n\tlretq\n"
    /* 55: SSP 4 bytes off 8-byte alignment (INCSSPD pops one dword). */
    "far_mis:\n\tendbr64\n\tmov $1, %eax\n\tincsspd %eax\n"
    "far_mis_ret:\n\tlretq\n"
    /* 67: turn the frame into one for a far RET to c_back in
     * compatibility mode; its prevSSP is the caller's SSP. */
    "t67r:\n\tendbr64\n\trdsspq %rax\n\tmov $c_back, %ecx\n\twrssq %rcx, 8(%rax)\n\t"
    "mov $0x18, %ecx\n\twrssq %rcx, 16(%rax)\n\t"
    "sub $8, %rsp\n\tmovl $c_back, (%rsp)\n\tmovl $0x18, 4(%rsp)\n"
    "t67r_ret:\n\tlretl\n"
    /* 56: the 64-bit target of c56_sub's far CALL. */
    "r56:\n\tendbr64\n\trdsspq %rax\n\tmov %rax, rec_ssp(%rip)\n\tlretl\n"
    /* 71 (CPL 3): RSI = SSP, RSP = R8, CALL (not the displacement-0
     * idiom), RDI = SSP at the target. */
    "u71:\n\tendbr64\n\trdsspq %rsi\n\tmov %r8, %rsp\n"
    "u71_call:\n\tcall 1f\n\tud2\n"
    "1:\trdsspq %rdi\n\tud2\n"
    ".popsection");

/* A far transfer under FAULT_TRY: SSP before and after, and the return
 * point (the LIP a far CALL pushes). RSP is restored after the label. */
struct xfer {
	struct fault f;
	u64 before, after, lip;
};

enum { LCALLQ, LCALL32, LJMP32 };

static struct xfer try_far(int kind, u64 target, u16 sel)
{
	struct fp64 p64 = { target, sel };
	struct fp32 p32 = { (u32)target, sel };
	struct xfer x = { 0 };
	u64 b = 0, a = 0, lip;

	/* back_ptr: c_back far-jumps to the label after the transfer. */
#define FAR_PRE                                                                     \
	"rdsspq %0\n\tlea 1f(%%rip), %2\n\tmov %%rsp, %%r12\n\t"                     \
	"mov %2, %%rax\n\tmov %%eax, back_ptr(%%rip)\n\tmovw $8, back_ptr+4(%%rip)\n\t"
#define FAR_POST "\n1:\tmov %%r12, %%rsp\n\trdsspq %1"
	if (kind == LCALLQ)
		asm volatile(FAR_PRE FAULT_TRY("1f") "rex64 lcall *%3" FAR_POST
			     : "+r"(b), "+r"(a), "=&r"(lip) : "m"(p64)
			     : "r12", "rax", "rcx", "memory");
	else if (kind == LCALL32)
		asm volatile(FAR_PRE FAULT_TRY("1f") "lcall *%3" FAR_POST
			     : "+r"(b), "+r"(a), "=&r"(lip) : "m"(p32)
			     : "r12", "rax", "rcx", "memory");
	else
		asm volatile(FAR_PRE FAULT_TRY("1f") "ljmp *%3" FAR_POST
			     : "+r"(b), "+r"(a), "=&r"(lip) : "m"(p32)
			     : "r12", "rax", "rcx", "memory");
	x.f = fault_take();
	/* A fault left SSP below the caller's: pop back to it here, as this
	 * function's own RET checks its shadow-stack entry. */
	if (a < b && b - a < 1024 && !((b - a) & 3))
		asm volatile("incsspd %0" ::"r"((u32)((b - a) / 4)) : "memory");
	x.before = b;
	x.after = a;
	x.lip = lip;
	return x;
}

/* Each test runs on the token of a fresh page, between cet_sss_on and
 * cet_sss_off in the same function (cet.h). */

/* 53 (and the good case of 54 and 55). */
static void test_frame(void)
{
	struct cet_ss s = cet_ss_page(false);
	cet_sss_on(cet_ss_token(&s));
	rec_ssp = 0;
	struct xfer x = try_far(LCALLQ, (u64)far_rec, KERNEL_CS);
	cet_sss_off();
	u64 b = x.before;
	report(x.f.vector == FAULT_NONE && rec_ssp == b - 24,
	       "53: far CALL lowers SSP by 24 (%#lx -> %#lx)", b, rec_ssp);
	report(rec_f[0] == b && rec_f[1] == x.lip && rec_f[2] == KERNEL_CS,
	       "53: [SSP]=old SSP, [SSP+8]=LIP, [SSP+16]=CS (%#lx %#lx %#lx)", rec_f[0], rec_f[1],
	       rec_f[2]);
	report(x.after == b, "53: the far RET pops the frame and restores SSP (%#lx)", x.after);
}

/* 54: a changed return offset. */
static void test_tamper(void)
{
	struct cet_ss s = cet_ss_page(false);
	cet_sss_on(cet_ss_token(&s));
	struct xfer x = try_far(LCALLQ, (u64)far_tamper, KERNEL_CS);
	cet_sss_off();
	report(x.f.vector == CP_VECTOR && x.f.error_code == CP_FAR_RET &&
		       x.f.rip == (u64)far_tamper_ret && x.f.cs == KERNEL_CS,
	       "54: far RET to a changed offset: #CP(2) at the RET (vector %d error %#lx rip %#lx)",
	       x.f.vector, x.f.error_code, x.f.rip);
	report(x.after == x.before - 24 && x.f.rsp == x.f.regs.r12 - 16,
	       "54: SSP (%#lx) and RSP stay as at the RET", x.after);
}

/* 55: SSP not 8-aligned, and a prevSSP with bits 1:0 != 0. */
static void test_ret_checks(void)
{
	struct cet_ss s = cet_ss_page(false);
	cet_sss_on(cet_ss_token(&s));
	struct xfer m = try_far(LCALLQ, (u64)far_mis, KERNEL_CS);
	struct xfer p = try_far(LCALLQ, (u64)far_prev, KERNEL_CS);
	struct xfer g = try_far(LCALLQ, (u64)far_rec, KERNEL_CS);
	cet_sss_off();
	report(m.f.vector == CP_VECTOR && m.f.error_code == CP_FAR_RET &&
		       m.f.rip == (u64)far_mis_ret && m.after == m.before - 20,
	       "55: far RET with SSP 4 mod 8: #CP(2) at the RET, SSP kept (vector %d error %#lx "
	       "ssp %#lx)", m.f.vector, m.f.error_code, m.after);
	report(p.f.vector == CP_VECTOR && p.f.error_code == CP_FAR_RET &&
		       p.f.rip == (u64)far_prev_ret && p.after == p.before - 24,
	       "55: far RET with prevSSP bit 1 set: #CP(2) at the RET, SSP kept (vector %d "
	       "error %#lx ssp %#lx)", p.f.vector, p.f.error_code, p.after);
	report(g.f.vector == FAULT_NONE && g.after == g.before && g.before == m.before,
	       "55: an aligned frame with a clean prevSSP returns (%#lx)", g.after);
}

/* 56: compatibility mode with SSP = 4 mod 8. The page is below 4 GiB. */
static void test_hole(void)
{
	struct cet_ss s = cet_ss_page_low(false);
	u64 tok = cet_ss_token(&s);
	for (unsigned o = 0xf00; o < 0xff8; o += 8)
		s.alias[o / 8] = ~0ull;
	rec_ssp = 0;
	cet_sss_on(tok);
	struct xfer x = try_far(LCALL32, (u64)c56, KERNEL_CS32);
	/* b = SSP at the 64-bit far CALL. Its frame: b-24. c56's near CALL:
	 * b-28. Hole: the dword at b-32; frame from there down: b-56. Read
	 * it at once, before later CALLs reuse the stack. */
	u64 b = x.before, o = b - s.va;
	u64 hole = s.alias[(o - 32) / 8], f0 = s.alias[(o - 56) / 8];
	u64 f1 = s.alias[(o - 48) / 8], f2 = s.alias[(o - 40) / 8];
	cet_sss_off();
	report(x.f.vector == FAULT_NONE && rec_ssp == b - 56,
	       "56: compatibility-mode far CALL at SSP 4 mod 8: frame at %#lx (want %#lx)", rec_ssp,
	       b - 56);
	report((u32)hole == 0 && hole >> 32 == (u32)(u64)c56_ret,
	       "56: a zero dword at SSP-4, the near CALL's entry above it (%#lx)", hole);
	report(f0 == b - 28 && f1 == (u64)c56_lip && f2 == KERNEL_CS32,
	       "56: the frame holds the unaligned old SSP, LIP and CS (%#lx %#lx %#lx)", f0, f1,
	       f2);
	report(x.after == b, "56: both far RETs restore SSP (%#lx)", x.after);
}

/* 67: SSP[63:32] != 0 and a compatibility-mode target. */
static void test_ssp32(void)
{
	struct cet_ss hi = cet_ss_page(false), lo = cet_ss_page_low(false);
	struct cet_ss hi2 = cet_ss_page(false);
	cet_sss_on(cet_ss_token(&hi));
	struct xfer j = try_far(LJMP32, (u64)c_back, KERNEL_CS32);
	struct xfer c = try_far(LCALL32, (u64)c56, KERNEL_CS32);
	struct xfer r = try_far(LCALLQ, (u64)t67r, KERNEL_CS);
	cet_sss_off();
	cet_sss_on(cet_ss_token(&lo));
	struct xfer jl = try_far(LJMP32, (u64)c_back, KERNEL_CS32);
	struct xfer rl = try_far(LCALLQ, (u64)t67r, KERNEL_CS);
	cet_sss_off();
	/* A far JMP to 64-bit code with a high SSP is fine. */
	cet_sss_on(cet_ss_token(&hi2));
	struct xfer j64 = try_far(LCALLQ, (u64)far_rec, KERNEL_CS);
	cet_sss_off();

	report(j.f.vector == GP_VECTOR && j.f.error_code == 0 && j.f.rip == j.f.insn &&
		       j.after == j.before && j.before >> 32,
	       "67: far JMP to compatibility mode with SSP %#lx: #GP(0) at the JMP (vector %d)",
	       j.before, j.f.vector);
	report(c.f.vector == GP_VECTOR && c.f.error_code == 0 && c.f.rip == c.f.insn &&
		       c.after == c.before && c.f.rsp == c.f.regs.r12,
	       "67: far CALL to compatibility mode: #GP(0) at the CALL, SSP and RSP kept "
	       "(vector %d)", c.f.vector);
	report(r.f.vector == GP_VECTOR && r.f.error_code == 0 && r.f.rip == (u64)t67r_ret &&
		       r.after == r.before - 24,
	       "67: far RET to compatibility mode with prevSSP %#lx: #GP(0) at the RET "
	       "(vector %d error %#lx)", r.before, r.f.vector, r.f.error_code);
	report(jl.f.vector == FAULT_NONE && jl.after == jl.before && !(jl.before >> 32),
	       "67: the same far JMP with SSP %#lx below 4 GiB runs (vector %d)", jl.before,
	       jl.f.vector);
	report(rl.f.vector == FAULT_NONE && rl.after == rl.before,
	       "67: the same far RET with prevSSP below 4 GiB runs, SSP = prevSSP (vector %d)",
	       rl.f.vector);
	report(j64.f.vector == FAULT_NONE && j64.after == j64.before,
	       "67: a far CALL/RET between 64-bit segments with a high SSP runs");
}

/* 71: CPL 3, U_CET.SH_STK_EN, the CALL's normal-stack push faults. */
static void test_call_pf(void)
{
	struct cet_ss u = cet_ss_page(true);
	u64 ssp0 = u.va + 0x800, bad = 0x400000001000ull;
	cet_ss_put(&u, 0x7f8, 0x5a5a5a5a5a5a5a5aull);

	wrmsr(MSR_IA32_PL3_SSP, ssp0);
	wrmsr(MSR_IA32_U_CET, CET_SHSTK_EN);
	struct regs r = fault_user_regs((u64)u71, USER_CS);
	r.r8 = bad;
	struct fault f = fault_run_regs(&r);
	u64 pl3 = rdmsr(MSR_IA32_PL3_SSP);
	report(f.vector == PF_VECTOR && f.error_code == (PFERR_W | PFERR_U) &&
		       f.cr2 == bad - 8 && f.rip == (u64)u71_call && f.rsp == bad,
	       "71: CALL with RSP on an unmapped page: #PF (error %#lx cr2 %#lx) at the CALL",
	       f.error_code, f.cr2);
	report(f.regs.rsi == ssp0 && pl3 == ssp0,
	       "71: SSP unchanged (PL3_SSP saved by the #PF: %#lx)", pl3);
	report(cet_ss_get(&u, 0x7f8) == 0x5a5a5a5a5a5a5a5aull,
	       "71: shadow-stack memory unchanged (%#lx)", cet_ss_get(&u, 0x7f8));

	wrmsr(MSR_IA32_PL3_SSP, ssp0);
	r = fault_user_regs((u64)u71, USER_CS);
	r.r8 = r.rsp;
	f = fault_run_regs(&r);
	wrmsr(MSR_IA32_U_CET, 0);
	report(f.vector == UD_VECTOR && f.regs.rdi == ssp0 - 8 &&
		       cet_ss_get(&u, 0x7f8) == (u64)u71_call + 5,
	       "71: the same CALL with a good RSP pushes the return address (SSP %#lx)",
	       f.regs.rdi);
}

int main(void)
{
	if (!cet_has_shstk()) {
		report_skip("CPUID lacks SHSTK (7.0:ECX[7]): shadow stacks across far transfers");
		return report_summary();
	}
	cet_init();
	test_frame();
	test_tamper();
	test_ret_checks();
	test_hole();
	test_ssp32();
	test_call_pf();
	cet_exit();
	return report_summary();
}
