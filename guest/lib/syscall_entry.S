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
	REGS_SAVE
	mov %rsp, %rdi
	call syscall_dispatch
	REGS_RESTORE
	mov REGS_RIP - REGS_VECTOR(%rsp), %rcx	/* fn may redirect */
	mov REGS_RFLAGS - REGS_VECTOR(%rsp), %r11
	mov REGS_RSP - REGS_VECTOR(%rsp), %rsp
	sysretq
