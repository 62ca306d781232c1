/* bench_call: a call/return-heavy workload for bench/, built with
 * -fcf-protection=full: direct recursion (fib), and indirect calls through a
 * table of functions that start with ENDBR64. Iterations from the command
 * line ("iters=N", default 20). Prints the iteration count and checks the
 * results. */
#include "boot.h"
#include "printf.h"
#include "report.h"

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

	for (u64 it = 0; it < iters; it++) {
		ok &= fib(FIB_N) == FIB_VALUE;
		u64 v = indirect_calls(12345);
		if (it == 0)
			first = v;
		ok &= v == first;
	}
	printf("bench_call: iterations %lu\n", iters);
	printf("bench_call: per iteration fib(%d) and %d indirect calls, result %#lx\n", FIB_N, CALLS,
	       first);
	report(ok, "bench_call: recursion and indirect call results");
	return report_summary();
}
