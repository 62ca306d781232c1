/* bench_call: a call/return-heavy workload for bench/, built with
 * -fcf-protection=full: direct recursion (fib), and indirect calls through a
 * table of functions that start with ENDBR64. Iterations from the command
 * line ("iters=N", default 20). Prints the iteration count and checks the
 * results. With "cet=1" and CPUID SHSTK+IBT, the loop runs at CPL 0 on a
 * supervisor shadow stack with IBT (S_CET = SH_STK_EN|WRSS_EN|ENDBR_EN|
 * NO_TRACK_EN), so bench/run can compare CET on and off. */
#include "boot.h"
#include "cet.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

#define FIB_N 22
#define FIB_VALUE 17711
#define CALLS 100000

static u64 fib(u64 n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static u64 op_add(u64 a, u64 b) { return a + b; }
static u64 op_xor(u64 a, u64 b) { return a ^ b; }
static u64 op_mul(u64 a, u64 b) { return a * (b | 1); }
static u64 op_rot(u64 a, u64 b) { return a << (b & 7) | a >> (64 - (b & 7)); }

/* volatile: keep every call indirect (no devirtualization). */
static u64 (*volatile const ops[4])(u64, u64) = { op_add, op_xor, op_mul, op_rot };

static u64 indirect_calls(u64 seed)
{
	u64 acc = seed;

	for (u64 i = 0; i < CALLS; i++)
		acc = ops[i & 3](acc, i);
	return acc;
}

int main(void)
{
	u64 iters = boot_cmdline_u64("iters", 20), first = 0;
	bool ok = true;
	bool cet = boot_cmdline_u64("cet", 0) && cet_has_shstk() && cet_has_ibt();

	/* cet_sss_on must be expanded here: main does not return until
	 * cet_sss_off (see cet.h). */
	if (cet) {
		cet_init();
		struct cet_ss ss = cet_ss_page(false);
		cet_sss_on(cet_ss_token(&ss));
		wrmsr(MSR_IA32_S_CET, CET_SHSTK_EN | CET_WRSS_EN | CET_ENDBR_EN | CET_NO_TRACK_EN);
	}

	for (u64 it = 0; it < iters; it++) {
		ok &= fib(FIB_N) == FIB_VALUE;
		u64 v = indirect_calls(12345);
		if (it == 0)
			first = v;
		ok &= v == first;
	}
	printf("bench_call: iterations %lu, CET %s\n", iters,
	       cet ? "on (supervisor shadow stack, IBT)" : "off");
	printf("bench_call: per iteration fib(%d) and %d indirect calls, result %#lx\n", FIB_N, CALLS,
	       first);
	report(ok, "bench_call: recursion and indirect call results");
	if (cet) {
		u64 s_cet = rdmsr(MSR_IA32_S_CET);
		cet_sss_off();
		cet_exit();
		report(s_cet & CET_SHSTK_EN, "bench_call: ran with CET on");
	}
	return report_summary();
}
