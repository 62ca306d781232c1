/* Covers: 84 85 86 87 88 91 92 94 95
 * cet_ibt: the user-mode (U_CET) IBT tracker: near indirect JMP targets,
 * NOTRACK, ENDBR32 vs ENDBR64 by mode, branches that never arm, the legacy
 * code-page bitmap and SUPPRESS, CR4.CET=0, and gcc -fcf-protection code
 * at CPL 3 (spec/cet.md 7; SDM Vol. 1 17.3, Vol. 2A ENDBR32/ENDBR64). */
#include "cet.h"
#include "desc.h"
#include "fault.h"
#include "printf.h"
#include "report.h"
#include "string.h"
#include "syscall.h"
#include "x86.h"

/* CPL 3 code, entered by IRETQ (which never arms the tracker, spec 7.2),
 * so the entry points need no ENDBR. ibt_jmp jumps to RDI; the targets
 * return to the run's exit stub. */
u64 ibt_jmp(u64 target), ibt_jmp_nt(u64 target), ibt_direct(u64 unused);
u64 ibt_sys(u64 unused), ibt_jmp32(u64 target), ibt_step(u64 target);
extern char ibt_plain[], ibt_endbr64[], ibt_endbr32[];
extern char ibt32_plain[], ibt32_endbr32[], ibt32_endbr64[];
asm(".pushsection .text\n"
    ".globl ibt_jmp, ibt_jmp_nt, ibt_direct, ibt_sys, ibt_jmp32, ibt_step\n"
    ".globl ibt_plain, ibt_endbr64, ibt_endbr32\n"
    ".globl ibt32_plain, ibt32_endbr32, ibt32_endbr64\n"
    "ibt_jmp:\tjmp *%rdi\n"
    "ibt_jmp_nt:\tnotrack jmp *%rdi\n"
    /* TF set by POPFQ traps after the JMP. */
    "ibt_step:\tpushfq\n\torq $0x100, (%rsp)\n\tpopfq\n\tjmp *%rdi\n"
    "ibt_plain:\tnop\n\tret\n"
    "ibt_endbr64:\tendbr64\n\tret\n"
    "ibt_endbr32:\tendbr32\n\tret\n"
    /* Direct JMP, CALL and RET: none of the targets has an ENDBR. */
    "ibt_direct:\tjmp 1f\n"
    "1:\tcall 2f\n\tjmp 3f\n"
    "2:\tret\n"
    "3:\tret\n"
    /* SYSRET returns to the NOP after the SYSCALL. */
    "ibt_sys:\tsyscall\n\tnop\n\tret\n"
    ".code32\n"
    "ibt_jmp32:\tjmp *%edi\n"
    "ibt32_plain:\tnop\n\tret\n"
    "ibt32_endbr32:\tendbr32\n\tret\n"
    "ibt32_endbr64:\tendbr64\n\tret\n"
    ".code64\n"
    ".popsection");

static u8 leg_bitmap[4096] __aligned(16384); /* U_CET 63:12, 13:12 = 0 */

static u64 u_cet(void)
{
	return rdmsr(MSR_IA32_U_CET);
}

/* Run fn(arg) at CPL 3 with U_CET = ctl; returns the fault and leaves
 * U_CET as the run left it in *after, then clears U_CET. */
static struct fault run_user(u64 ctl, u64 (*fn)(u64), u64 arg, u64 *after)
{
	wrmsr(MSR_IA32_U_CET, ctl);
	struct fault f = fault_run_user(fn, arg);
	*after = u_cet();
	wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

static bool cp3_at(const struct fault *f, const void *target)
{
	return f->vector == CP_VECTOR && f->error_code == CP_ENDBRANCH &&
	       f->rip == (u64)target && (f->cs & 3) == 3;
}

static void test_jmp(void)
{
	u64 after;
	struct fault f = run_user(CET_ENDBR_EN, ibt_jmp, (u64)ibt_plain, &after);
	report(cp3_at(&f, ibt_plain), "84: JMP to no ENDBR64: #CP(3) at the target (v%d e%lu rip %#lx)",
	       f.vector, f.error_code, f.rip);
	report(after & CET_WAIT_ENDBR, "84: U_CET bit 11 = 1 after the #CP (%#lx)", after);

	f = run_user(CET_ENDBR_EN, ibt_jmp, (u64)ibt_endbr64, &after);
	report(f.vector == FAULT_NONE, "85: JMP to ENDBR64 runs (vector %d)", f.vector);
	report(!(after & CET_WAIT_ENDBR), "85: U_CET bit 11 = 0 after the ENDBR64 (%#lx)", after);

	f = run_user(CET_ENDBR_EN | CET_NO_TRACK_EN, ibt_jmp_nt, (u64)ibt_plain, &after);
	report(f.vector == FAULT_NONE && !(after & CET_WAIT_ENDBR),
	       "86: NOTRACK JMP with NO_TRACK_EN does not arm (vector %d)", f.vector);
	f = run_user(CET_ENDBR_EN, ibt_jmp_nt, (u64)ibt_plain, &after);
	report(cp3_at(&f, ibt_plain), "86: NOTRACK JMP without NO_TRACK_EN: #CP(3)");
	f = run_user(CET_ENDBR_EN | CET_NO_TRACK_EN, ibt_jmp, (u64)ibt_plain, &after);
	report(cp3_at(&f, ibt_plain), "86: plain JMP with NO_TRACK_EN still arms: #CP(3)");
}

/* Run the compatibility-mode JMP to target at CPL 3 (spec 7.3: the
 * mode-correct ENDBR outside 64-bit mode is ENDBR32). */
static struct fault run_user32(const void *target, u64 *after)
{
	struct regs r = fault_user_regs((u64)ibt_jmp32, USER_CS32);
	r.rdi = (u64)target;
	wrmsr(MSR_IA32_U_CET, CET_ENDBR_EN);
	struct fault f = fault_run_regs(&r);
	*after = u_cet();
	wrmsr(MSR_IA32_U_CET, 0);
	return f;
}

/* 87: ENDBR32 is a NOP in 64-bit mode; in compatibility mode it is the
 * ENDBR that counts, and ENDBR64 is the NOP. */
static void test_endbr32(void)
{
	u64 after;
	struct fault f = run_user(CET_ENDBR_EN, ibt_jmp, (u64)ibt_endbr32, &after);
	report(cp3_at(&f, ibt_endbr32), "87: ENDBR32 in 64-bit mode: #CP(3) at it");

	f = run_user32(ibt32_endbr32, &after);
	report(f.vector == FAULT_NONE && !(after & CET_WAIT_ENDBR),
	       "87: ENDBR32 in compatibility mode satisfies the tracker (vector %d)", f.vector);
	f = run_user32(ibt32_endbr64, &after);
	report(cp3_at(&f, ibt32_endbr64) && f.cs == USER_CS32,
	       "87: ENDBR64 in compatibility mode: #CP(3) at it");
	f = run_user32(ibt32_plain, &after);
	report(cp3_at(&f, ibt32_plain), "87: compatibility-mode JMP to no ENDBR: #CP(3)");
}

static void sys_nop(struct regs *r)
{
	(void)r;
}

/* 88: IRETQ enters each run at code without ENDBR; its RETs end it at the
 * exit stub's UD2 (a #CP(3) there would mean RET armed the tracker). */
static void test_never_arm(void)
{
	u64 after;
	struct fault f = run_user(CET_ENDBR_EN, ibt_direct, 0, &after);
	report(f.vector == FAULT_NONE && !(after & CET_WAIT_ENDBR),
	       "88: IRETQ, direct JMP/CALL and RET do not arm (vector %d)", f.vector);
	/* Nor do they disarm: IRETQ to CPL 3 with U_CET still WAIT traps at
	 * the return target (spec 7.2, "never tracked"). */
	f = run_user(CET_ENDBR_EN | CET_WAIT_ENDBR, ibt_direct, 0, &after);
	report(cp3_at(&f, ibt_direct), "88: IRETQ keeps a waiting U_CET tracker: #CP(3) at the target");

	syscall_enable(sys_nop, X86_EFLAGS_IF);
	f = run_user(CET_ENDBR_EN, ibt_sys, 0, &after);
	syscall_disable();
	report(f.vector == FAULT_NONE && !(after & CET_WAIT_ENDBR),
	       "88: SYSRET does not arm (vector %d)", f.vector);
}

static void leg_mark(const void *code, bool on)
{
	u64 la = (u64)code;
	u8 bit = 1u << ((la >> 12) & 7);
	if (on)
		leg_bitmap[la >> 15] |= bit;
	else
		leg_bitmap[la >> 15] &= ~bit;
}

/* 91, 92: the legacy code-page bitmap and SUPPRESS (spec 7.3 step 2). */
static void test_legacy(void)
{
	u64 after, leg = CET_ENDBR_EN | CET_LEG_IW_EN | (u64)leg_bitmap;
	leg_mark(ibt_plain, true);
	struct fault f = run_user(leg, ibt_jmp, (u64)ibt_plain, &after);
	report(f.vector == FAULT_NONE && (after & (CET_SUPPRESS | CET_WAIT_ENDBR)) == CET_SUPPRESS,
	       "91: legacy page tolerated, SUPPRESS = 1 (vector %d, U_CET %#lx)", f.vector, after);
	f = run_user(leg | CET_SUPPRESS_DIS, ibt_jmp, (u64)ibt_plain, &after);
	report(f.vector == FAULT_NONE && !(after & (CET_SUPPRESS | CET_WAIT_ENDBR)),
	       "91: with SUPPRESS_DIS, SUPPRESS stays 0 (U_CET %#lx)", after);
	leg_mark(ibt_plain, false);
	f = run_user(leg, ibt_jmp, (u64)ibt_plain, &after);
	report(cp3_at(&f, ibt_plain), "91: bitmap bit clear: #CP(3)");

	f = run_user(CET_ENDBR_EN | CET_SUPPRESS, ibt_jmp, (u64)ibt_plain, &after);
	report(f.vector == FAULT_NONE && (after & (CET_SUPPRESS | CET_WAIT_ENDBR)) == CET_SUPPRESS,
	       "92: SUPPRESS = 1: JMP does not arm (vector %d, U_CET %#lx)", f.vector, after);
	f = run_user(CET_ENDBR_EN | CET_SUPPRESS, ibt_jmp, (u64)ibt_endbr64, &after);
	report(f.vector == FAULT_NONE && !(after & CET_SUPPRESS),
	       "92: ENDBR64 clears SUPPRESS (U_CET %#lx)", after);
}

static void test_cr4_off(void)
{
	u64 after;
	cet_cr4(false);
	struct fault f = run_user(CET_ENDBR_EN, ibt_jmp, (u64)ibt_plain, &after);
	cet_cr4(true);
	report(f.vector == FAULT_NONE && !(after & CET_WAIT_ENDBR),
	       "94: CR4.CET=0 with ENDBR_EN: no #CP (vector %d)", f.vector);
}

/* 95: ordinary gcc -fcf-protection=full code: calls through pointers to
 * address-taken functions (ENDBR64), a switch with a NOTRACK jump table,
 * and snprintf, whose formatter switches on the conversion. */
static __attribute__((noinline)) u64 op_add(u64 a, u64 b) { return a + b; }
static __attribute__((noinline)) u64 op_xor(u64 a, u64 b) { return a ^ b; }
static __attribute__((noinline)) u64 op_mul(u64 a, u64 b) { return a * b; }
static u64 (*const volatile ops[])(u64, u64) = { op_add, op_xor, op_mul };
static volatile u64 sink;

static __attribute__((noinline)) u64 pick(u64 i)
{
	switch (i % 8) {
	case 0: sink = 1; return 3;
	case 1: sink = 2; return 17;
	case 2: sink = 3; return 5;
	case 3: sink = 4; return 40;
	case 4: sink = 5; return 9;
	case 5: sink = 6; return 77;
	case 6: sink = 7; return 13;
	default: sink = 8; return 2;
	}
}

static char gcc_buf[128];

static u64 gcc_code(u64 n)
{
	u64 acc = 1;
	for (u64 i = 0; i < n; i++)
		acc = ops[i % 3](acc, pick(i));
	int len = snprintf(gcc_buf, sizeof(gcc_buf), "%lu %x %s %c %5d %p", acc, 0xbeefu,
			   "str", 'c', -42, (void *)gcc_buf);
	return acc + (u64)len + gcc_buf[0];
}

static void test_gcc(void)
{
	u64 want = gcc_code(40), after;
	struct fault f = run_user(CET_ENDBR_EN | CET_NO_TRACK_EN, gcc_code, 40, &after);
	report(f.vector == FAULT_NONE && f.value == want,
	       "95: gcc -fcf-protection code with snprintf at CPL 3 (vector %d rip %#lx)",
	       f.vector, f.rip);

	/* CPL 0: the same code, then this report's printf, with S_CET on. */
	u64 (*volatile fn)(u64) = gcc_code;
	wrmsr(MSR_IA32_S_CET, CET_ENDBR_EN | CET_NO_TRACK_EN);
	u64 got = fn(40);
	report(got == want, "95: the same code and printf at CPL 0 with S_CET.ENDBR_EN");
	after = rdmsr(MSR_IA32_S_CET);
	wrmsr(MSR_IA32_S_CET, 0);
	report(!(after & CET_WAIT_ENDBR), "95: S_CET tracker idle afterwards (%#lx)", after);
}

/* The single-step #DB after an indirect JMP: taken at the target with
 * U_CET's tracker in WAIT, which the target's ENDBR64 then ends (or its
 * absence turns into #CP). */
static volatile u64 steps, step_rip, step_ucet;

static void on_step(struct regs *r)
{
	if (steps++ == 0) {
		step_rip = r->rip;
		step_ucet = u_cet();
	}
	r->rflags &= ~(u64)X86_EFLAGS_TF;
}

static void test_single_step(void)
{
	u64 after;
	idt_set_handler(DB_VECTOR, on_step);
	steps = 0;
	struct fault f = run_user(CET_ENDBR_EN, ibt_step, (u64)ibt_endbr64, &after);
	report(f.vector == FAULT_NONE && steps == 1 && step_rip == (u64)ibt_endbr64 &&
		       (step_ucet & CET_WAIT_ENDBR) && !(after & CET_WAIT_ENDBR),
	       "84: single-stepped JMP to ENDBR64: #DB at the target with U_CET in WAIT "
	       "(%#lx), then the ENDBR64 ends it",
	       step_ucet);
	steps = 0;
	f = run_user(CET_ENDBR_EN, ibt_step, (u64)ibt_plain, &after);
	report(cp3_at(&f, ibt_plain) && steps == 1 && (step_ucet & CET_WAIT_ENDBR),
	       "84: single-stepped JMP to no ENDBR64: #DB in WAIT, then #CP(3) at the target");
	idt_set_handler(DB_VECTOR, NULL);
}

int main(void)
{
	if (!cet_has_ibt()) {
		report_skip("IBT not in CPUID");
		return report_summary();
	}
	cet_init();
	test_jmp();
	test_single_step();
	test_endbr32();
	test_never_arm();
	test_legacy();
	test_cr4_off();
	test_gcc();
	cet_exit();
	return report_summary();
}
