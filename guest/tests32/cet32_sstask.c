/* Covers: 69 112
 * cet32_sstask: task switches with CET active in legacy mode (spec/cet.md
 * 5.12; SDM Vol. 3A 8.3, Vol. 1 17.2.3): with supervisor shadow stacks on
 * (S_CET.SH_STK_EN, CPL 0), a CALL or INT through a task gate loads SSP
 * from the new TSS at 0x68 after taking its supervisor token busy, pushes
 * the old task's CS, LIP and SSP there, and the IRET back checks and pops
 * them and frees the token. After the commit point a busy token is #GP(0)
 * and a misaligned SSP #TS(new TSS), both in the new task (EIP = its first
 * instruction) with SSP unchanged; with S_CET.ENDBR_EN the new task must
 * start with ENDBR32, else #CP(3) there. */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "paging.h"
#include "report.h"
#include "task.h"
#include "x86.h"

#define SLOT_B GDT_FIRST_FREE
#define MAIN_SSP_MARK 0xdead0000u /* TSS+0x68 of the startup task: never written */

/* What task b saw: its SSP, the 3 entries there, and its token. */
volatile u32 tb_ssp, tb_f[6], tb_tok, tb_tok_addr;

void task_b_entry(void);
void task_noendbr(void);
void task_jmp_back(void);
#define TSS_SEL_STR "0x18"
_Static_assert(TSS_SEL == 0x18, "TSS_SEL_STR");
asm(".pushsection .text\n"
    "task_b_entry:\n\tendbr32\n\t"
    "xor %eax, %eax\n\trdsspd %eax\n\tmov %eax, tb_ssp\n\t"
    "test %eax, %eax\n\tjz 1f\n\t"
    "mov 0(%eax), %ecx\n\tmov %ecx, tb_f\n\tmov 4(%eax), %ecx\n\tmov %ecx, tb_f+4\n\t"
    "mov 8(%eax), %ecx\n\tmov %ecx, tb_f+8\n\tmov 12(%eax), %ecx\n\tmov %ecx, tb_f+12\n\t"
    "mov 16(%eax), %ecx\n\tmov %ecx, tb_f+16\n\tmov 20(%eax), %ecx\n\tmov %ecx, tb_f+20\n\t"
    "mov tb_tok_addr, %ecx\n\tmov (%ecx), %ecx\n\tmov %ecx, tb_tok\n"
    "1:\tiret\n\tjmp task_b_entry\n"
    "task_noendbr:\n\tnop\n\tiret\n\tjmp task_noendbr\n"
    /* Record SSP and the token, then JMP back to the startup task. */
    "task_jmp_back:\n\tendbr32\n\t"
    "xor %eax, %eax\n\trdsspd %eax\n\tmov %eax, tb_ssp\n\t"
    "mov tb_tok_addr, %ecx\n\tmov (%ecx), %ecx\n\tmov %ecx, tb_tok\n\t"
    "ljmp $" TSS_SEL_STR ", $0\n\tjmp task_jmp_back\n"
    ".popsection");

static struct task b;
static struct ss_page page_a, page_b;

struct run {
	struct fault f;
	u32 before, after; /* SSP around the switch */
	u32 lip;           /* the return address of the CALL/INT */
	u16 tr;            /* TR right after the switch (or its fault) */
};

static u32 rdssp(void)
{
	u32 ssp = 0;
	asm volatile("rdsspd %0" : "+r"(ssp));
	return ssp;
}

/* Task b on a fresh token of page b; its TSS+0x68 is that token plus skew. */
static u32 task_b_init(void (*entry)(void), u32 skew)
{
	task_init(&b, SLOT_B, entry, TSS32_LIMIT_CET);
	u32 tok = ss_page_token(&page_b);
	b.tss.ssp = tok + skew;
	tb_tok_addr = tok;
	tb_ssp = tb_tok = 0;
	for (int i = 0; i < 6; i++)
		tb_f[i] = ~0u;
	tss_main()->ssp = MAIN_SSP_MARK;
	return tok;
}

/* The switch with S_CET = SH_STK_EN | WRSS_EN | extra, on a fresh token of
 * page a. Shadow stacks go on and off in this function (cet.h). */
static struct run run_sse(enum task_how how, u64 extra)
{
	struct run r;
	cet_sss_on(ss_page_token(&page_a));
	wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN | CET_WRSS_EN | extra);
	r.before = rdssp();
	r.f = task_switch(b.sel, how, &r.lip);
	r.tr = task_tr();
	r.after = rdssp();
	cet_sss_off();
	return r;
}

static u32 token_b(u32 tok)
{
	return page_b.alias[(tok & 0xfff) / 4];
}

/* 69: the CALL, the new shadow stack, the IRET back (IBT on as well). */
static void test_call(enum task_how how, const char *what)
{
	u32 tok = task_b_init(task_b_entry, 0);
	struct run r = run_sse(how, CET_ENDBR_EN | CET_NO_TRACK_EN);
	report(r.f.vector == FAULT_NONE && r.tr == TSS_SEL && tb_ssp == tok - 24,
	       "69: %s to a task with SSE: SSP = TSS+0x68 - 24 in the task (%#x, token %#x; "
	       "vector %d)", what, tb_ssp, tok, r.f.vector);
	report(tb_tok == (tok | 1), "69: %s: the new task's token is busy while it runs (%#x)",
	       what, tb_tok);
	/* The old SSP is the one at the CALL/INT, inside task_switch(): its
	 * own near CALL pushed a 4-byte entry (spec 5.4, not 64-bit mode). */
	report(tb_f[0] == r.before - 4 && tb_f[2] == r.lip && tb_f[4] == KERNEL_CS &&
		       !tb_f[1] && !tb_f[3] && !tb_f[5],
	       "69: %s: [SSP] = old SSP %#x, [SSP+8] = LIP %#x, [SSP+16] = CS %#x", what,
	       tb_f[0], tb_f[2], tb_f[4]);
	report(r.after == r.before && token_b(tok) == tok && !task_busy(b.sel),
	       "69: %s: the IRET back restores SSP (%#x) and frees the token (%#x)", what,
	       r.after, token_b(tok));
	report(tss_main()->ssp == MAIN_SSP_MARK && b.tss.ssp == tok,
	       "69: %s: no SSP is written to either TSS", what);
}

/* 112: JMP there and back with SSE and IBT: each JMP takes the token at
 * the new TSS+0x68 and pushes no frame; nothing frees a token (only IRET
 * does, spec 5.12). The JMP back lands after this JMP, which must be an
 * ENDBR32 (the far-branch IBT rule). One asm: registers come back from
 * the startup TSS as they were at the JMP. */
static void test_jmp(void)
{
	struct ss_page c = ss_page_new();
	u32 tok_b = task_b_init(task_jmp_back, 0), tok_c = ss_page_token(&c);
	u32 tok_a = ss_page_token(&page_a), after = 0;
	tss_main()->ssp = tok_c;
	cet_sss_on(tok_a);
	wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN | CET_WRSS_EN | CET_ENDBR_EN | CET_NO_TRACK_EN);
	asm volatile("ljmp %1, $0\n\tendbr32\n\trdsspd %0"
		     : "+r"(after) : "i"(SLOT_B << 3) : "memory", "cc");
	cet_sss_off();
	asm volatile("clts" ::: "memory");
	report(tb_ssp == tok_b && tb_tok == (tok_b | 1),
	       "112: JMP to a task with SSE: SSP = its busy token, no frame (%#x)", tb_ssp);
	report(after == tok_c && c.alias[1022] == (tok_c | 1) && task_tr() == TSS_SEL &&
		       !task_busy(b.sel),
	       "112: JMP back: SSP = the startup TSS's token %#x, now busy (SSP %#x)", tok_c,
	       after);
	report(page_a.alias[1022] == (tok_a | 1) && token_b(tok_b) == (tok_b | 1),
	       "112: the tokens left by JMP stay busy (%#x %#x)", page_a.alias[1022],
	       token_b(tok_b));
}

/* 69: a busy token is #GP(0) after the commit point. */
static void test_busy(void)
{
	u32 tok = task_b_init(task_b_entry, 0);
	page_b.alias[1022] = tok | 1;
	struct run r = run_sse(TASK_BY_CALL, 0);
	tss_back_to_main();
	report(r.f.vector == GP_VECTOR && r.f.error_code == 0 &&
		       r.f.eip == (uintptr_t)task_b_entry && r.tr == b.sel,
	       "69: CALL to a task whose token is busy: #GP(0) at the new task's first "
	       "instruction (vector %d error %#x eip %#x tr %#x)", r.f.vector, r.f.error_code,
	       r.f.eip, r.tr);
	report(r.after == r.before && token_b(tok) == (tok | 1) && !tb_ssp,
	       "69: ... SSP unchanged (%#x), the token unchanged (%#x), the task not run",
	       r.after, token_b(tok));
}

/* 5.12: new SSP & 7 → #TS(new TSS) after the commit point. */
static void test_misaligned(void)
{
	u32 tok = task_b_init(task_b_entry, 4);
	struct run r = run_sse(TASK_BY_CALL, 0);
	tss_back_to_main();
	report(r.f.vector == TS_VECTOR && r.f.error_code == b.sel &&
		       r.f.eip == (uintptr_t)task_b_entry && r.tr == b.sel,
	       "69: TSS+0x68 = token + 4: #TS(%#x) at the new task's first instruction (vector "
	       "%d error %#x eip %#x)", b.sel, r.f.vector, r.f.error_code, r.f.eip);
	report(r.after == r.before && token_b(tok) == tok,
	       "69: ... SSP unchanged (%#x), the token still free", r.after);
}

/* 112: the IBT far rule on a task switch (spec 5.12, 7.2), no SSE. */
static void test_ibt(void)
{
	task_b_init(task_noendbr, 0);
	wrmsr(MSR_IA32_S_CET, CET_ENDBR_EN | CET_NO_TRACK_EN);
	struct fault f = task_switch(b.sel, TASK_BY_CALL, NULL);
	u16 tr = task_tr();
	wrmsr(MSR_IA32_S_CET, 0);
	tss_back_to_main();
	report(f.vector == CP_VECTOR && f.error_code == CP_ENDBRANCH &&
		       f.eip == (uintptr_t)task_noendbr && tr == b.sel,
	       "112: S_CET.ENDBR_EN: a CALL to a task without ENDBR32: #CP(3) at its first "
	       "instruction (vector %d error %#x eip %#x)", f.vector, f.error_code, f.eip);
	task_b_init(task_b_entry, 0);
	wrmsr(MSR_IA32_S_CET, CET_ENDBR_EN | CET_NO_TRACK_EN);
	f = task_switch(b.sel, TASK_BY_CALL, NULL);
	wrmsr(MSR_IA32_S_CET, 0);
	report(f.vector == FAULT_NONE && task_tr() == TSS_SEL,
	       "112: the same CALL to a task starting with ENDBR32 runs (vector %d)", f.vector);
}

int main(void)
{
	if (!cpu_has(X86_FEATURE_SHSTK) || !cpu_has(X86_FEATURE_IBT)) {
		report_skip("69: CPUID lacks SHSTK or IBT");
		return report_summary();
	}
	paging_on();
	write_cr0(read_cr0() | X86_CR0_WP);
	write_cr4(read_cr4() | X86_CR4_CET);
	page_a = ss_page_new();
	page_b = ss_page_new();
	test_call(TASK_BY_CALL, "CALL");
	idt_set_task_gate(TASK_GATE_VECTOR, b.sel);
	test_call(TASK_BY_INT, "INT through a task gate");
	test_busy();
	test_misaligned();
	test_ibt();
	test_jmp();
	write_cr4(read_cr4() & ~X86_CR4_CET);
	return report_summary();
}
