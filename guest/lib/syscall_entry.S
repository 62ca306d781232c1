/* syscall_entry.S: the LSTAR target; builds a struct regs, calls C, SYSRETQ. */
#include "idt.h"

	.bss
	.p2align 4
syscall_stack:
	.skip 8192
syscall_stack_top:
syscall_user_rsp:
	.skip 8

	.text
	.globl syscall_entry
syscall_entry:
	endbr64				/* SYSCALL arms IBT at CPL 0 */
	mov %rsp, syscall_user_rsp(%rip)
	lea syscall_stack_top(%rip), %rsp
	pushq $0			/* ss */
	pushq syscall_user_rsp(%rip)	/* rsp */
	push %r11			/* rflags */
	pushq $0			/* cs */
	push %rcx			/* rip */
	pushq $0			/* error code */
	pushq $-1			/* vector: not an event */
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	call syscall_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	mov REGS_RIP - REGS_VECTOR(%rsp), %rcx	/* fn may redirect */
	mov REGS_RFLAGS - REGS_VECTOR(%rsp), %r11
	mov REGS_RSP - REGS_VECTOR(%rsp), %rsp
	sysretq
