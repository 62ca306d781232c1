/* bench_loop: the 13-instruction 64-bit loop for bench/: ADD, a store and
 * a load, a direct CALL/RET, an indirect CALL to an ENDBR64 target, DEC/JNZ.
 * Iterations from the command line ("iters=N", default 10000000). After N
 * iterations RAX = 2^N - 1 (mod 2^64) and both callees ran N times. */
#include "boot.h"
#include "printf.h"
#include "report.h"

struct loop_result {
	u64 rax, direct, indirect;
};

void bench_loop_run(u64 iters, struct loop_result *r);

asm(".pushsection .text\n"
    "	.globl bench_loop_run\n"
    "bench_loop_run:\n" /* (iters in RDI, result in RSI) */
    "	endbr64\n"
    "	mov %rdi, %rcx\n"
    "	lea loop_indirect(%rip), %r10\n"
    "	xor %eax, %eax\n"
    "	mov $1, %edx\n"
    "	xor %r8d, %r8d\n"
    "	xor %r9d, %r9d\n"
    "	test %rcx, %rcx\n"
    "	jz 2f\n"
    "1:	add %rdx, %rax\n"      /*  1 */
    "	mov %rax, (%rsi)\n"    /*  2 store */
    "	mov (%rsi), %rdx\n"    /*  3 load */
    "	call loop_direct\n"    /*  4, then 5 and 6 in the callee */
    "	call *%r10\n"          /*  7, then 8, 9 and 10 in the callee */
    "	inc %rdx\n"            /* 11 */
    "	dec %rcx\n"            /* 12 */
    "	jnz 1b\n"              /* 13 */
    "2:	mov %rax, 0(%rsi)\n"
    "	mov %r8, 8(%rsi)\n"
    "	mov %r9, 16(%rsi)\n"
    "	ret\n"
    "loop_direct:\n"
    "	inc %r8\n"             /*  5 */
    "	ret\n"                 /*  6 */
    "loop_indirect:\n"
    "	endbr64\n"             /*  8 */
    "	inc %r9\n"             /*  9 */
    "	ret\n"                 /* 10 */
    ".popsection\n");

int main(void)
{
	u64 iters = boot_cmdline_u64("iters", 10000000);
	u64 want = iters >= 64 ? ~0ull : (1ull << iters) - 1;
	struct loop_result r;

	bench_loop_run(iters, &r);
	printf("bench_loop: iterations %lu, 13 instructions each\n", iters);
	report(r.rax == want && r.direct == iters && r.indirect == iters,
	       "bench_loop: rax %#lx, %lu direct and %lu indirect calls", r.rax, r.direct, r.indirect);
	return report_summary();
}
