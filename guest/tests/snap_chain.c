/* run-by: tests/tier-snapshot
 * snap_chain: a guest to be saved deep in a call chain with a live
 * supervisor shadow stack, and resumed from the file (issue: snapshots).
 * At CPL 0 with S_CET.SH_STK_EN it recurses DEPTH levels, prints the SSP at
 * the bottom and waits for one byte on COM1: the moment tests/tier-snapshot
 * saves the machine. Then it unwinds (every RET checked against the shadow
 * stack), printing each level's result and SSP, checks that SSP is back at
 * its start, and finally overwrites a return address: the RET must raise
 * #CP(1) at that RET. A resumed snapshot prints exactly what an
 * uninterrupted run prints after the waiting line. On a CPU without shadow
 * stacks the chain runs unprotected (for moving snapshots between
 * accelerators). */
#include "boot.h"
#include "cet.h"
#include "idt.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

#define DEPTH 12
#define COM1 0x3f8
#define LSR_DR 0x01

/* snap_attack(): a call whose return address is overwritten before its RET. */
void snap_attack(void);
extern char snap_attack_ret[];
asm(".pushsection .text\n"
    ".globl snap_attack, snap_attack_ret\n"
    "snap_attack:\n\t"
    "endbr64\n\t"
    "call 1f\n\t"
    "ud2\n"
    "1:\tlea 2f(%rip), %rax\n\t"
    "mov %rax, (%rsp)\n"
    "snap_attack_ret:\n\t"
    "ret\n"
    "2:\tud2\n"
    ".popsection");

static bool shstk;

/* RDSSP is a NOP without CET, but not every hypervisor's emulator knows
 * that encoding: only run it with shadow stacks. */
static u64 ssp(void)
{
	return shstk ? cet_rdssp() : 0;
}

static u8 wait_byte(void)
{
	while (!(inb(COM1 + 5) & LSR_DR))
		pause();
	return inb(COM1);
}

static u64 chain(int depth)
{
	volatile u64 local = (u64)depth * 3 + 1; /* a frame worth having */
	if (depth == 0) {
		printf("snap_chain: bottom of %d calls, SSP %#lx; waiting for a byte on COM1\n",
		       DEPTH, ssp());
		u8 c = wait_byte();
		printf("snap_chain: got %#x, unwinding\n", c);
		return c;
	}
	u64 r = chain(depth - 1) * 31 + local;
	printf("snap_chain: level %d returns %#lx, SSP %#lx\n", depth, r, ssp());
	return r;
}

/* The #CP of snap_attack, delivered at CPL 0 on the same shadow stack. */
static void on_cp(struct regs *r)
{
	report(r->vector == CP_VECTOR && r->error_code == CP_NEAR_RET,
	       "the overwritten return raises #CP(1) (vector %lu, error %lu)", r->vector,
	       r->error_code);
	report(r->rip == (u64)snap_attack_ret, "#CP at the RET (%#lx)", r->rip);
	exit(report_summary());
}

/* Without shadow stacks (a CPU model for moving snapshots between
 * accelerators), the same chain runs unprotected. */
static void plain_run(void)
{
	report_skip("snap_chain: no shadow stacks in CPUID; the chain runs without them");
	u64 r = chain(DEPTH);
	report(r != 0, "the chain's result %#lx", r);
}

int main(void)
{
	shstk = cet_has_shstk();
	if (!shstk) {
		plain_run();
		return report_summary();
	}
	cet_init();
	struct cet_ss ss = cet_ss_page(false);
	u64 token = cet_ss_token(&ss);
	idt_set_handler(CP_VECTOR, on_cp);
	/* cet_sss_on must be expanded here: main never returns while it is on. */
	cet_sss_on(token);
	u64 start = cet_rdssp();
	u64 r = chain(DEPTH);
	u64 end = cet_rdssp();
	report(end == start, "SSP back at %#lx after %d calls and returns", end, DEPTH);
	report(r != 0, "the chain's result %#lx", r);
	snap_attack();
	report(false, "the overwritten return address was followed");
	cet_sss_off();
	return report_summary();
}
