/* ctx.S: kernel contexts for fault.c: save, call or IRETQ away, land back. */
#include "fault.h"
#include "idt.h"

.macro save_kctx k
	mov %rbx, KCTX_RBX(\k)
	mov %rbp, KCTX_RBP(\k)
	mov %r12, KCTX_R12(\k)
	mov %r13, KCTX_R13(\k)
	mov %r14, KCTX_R14(\k)
	mov %r15, KCTX_R15(\k)
	mov %rsp, KCTX_RSP(\k)		/* points at our return address */
	pushfq
	popq KCTX_RFLAGS(\k)
.endm

	.text
/* u64 ctx_call(struct kctx *k, u64 (*fn)(u64), u64 arg) */
	.globl ctx_call
ctx_call:
	endbr64
	save_kctx %rdi
	mov %rsi, %rax
	mov %rdx, %rdi
	sub $8, %rsp			/* ABI: RSP+8 16-byte aligned at fn entry */
	call *%rax
	add $8, %rsp
	ret

/* u64 ctx_enter(struct kctx *k, const struct regs *r): IRETQ to r. Returns
 * only through ctx_landing. */
	.globl ctx_enter
ctx_enter:
	endbr64
	save_kctx %rdi
	pushq REGS_SS(%rsi)
	pushq REGS_RSP(%rsi)
	pushq REGS_RFLAGS(%rsi)
	pushq REGS_CS(%rsi)
	pushq REGS_RIP(%rsi)
	mov REGS_RAX(%rsi), %rax
	mov REGS_RBX(%rsi), %rbx
	mov REGS_RCX(%rsi), %rcx
	mov REGS_RDX(%rsi), %rdx
	mov REGS_RDI(%rsi), %rdi
	mov REGS_RBP(%rsi), %rbp
	mov REGS_R8(%rsi), %r8
	mov REGS_R9(%rsi), %r9
	mov REGS_R10(%rsi), %r10
	mov REGS_R11(%rsi), %r11
	mov REGS_R12(%rsi), %r12
	mov REGS_R13(%rsi), %r13
	mov REGS_R14(%rsi), %r14
	mov REGS_R15(%rsi), %r15
	mov REGS_RSI(%rsi), %rsi
	iretq

/* Reached by IRETQ from a handler (fault.c) at CPL 0 with RDI = the kctx
 * and RAX = the value to return from ctx_call/ctx_enter. */
	.globl ctx_landing
ctx_landing:
	endbr64
	mov KCTX_RBX(%rdi), %rbx
	mov KCTX_RBP(%rdi), %rbp
	mov KCTX_R12(%rdi), %r12
	mov KCTX_R13(%rdi), %r13
	mov KCTX_R14(%rdi), %r14
	mov KCTX_R15(%rdi), %r15
	mov KCTX_RSP(%rdi), %rsp
	ret

/* Return address of fault_run_user/regs runs (64-bit and 32-bit RET both
 * land here). A hardware #UD, not INT n: some nested KVM hosts mis-emulate
 * software interrupts, and an exception works at every CPL and mode. */
	.globl fault_exit_stub
fault_exit_stub:
	ud2
