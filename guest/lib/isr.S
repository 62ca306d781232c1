/* isr.S: 256 interrupt stubs (each starts with ENDBR64) and the common path. */
#include "idt.h"

	.altmacro

/* Vectors whose exceptions push an error code (SDM Vol. 3A, Table 6-1). */
.macro isr vec
	.p2align 4
isr_\vec:
	endbr64
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \
	      \vec == 29 || \vec == 30)
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

.macro stub_addr vec
	.quad isr_\vec
.endm

	.text
	.set vec, 0
	.rept 256
	isr %vec
	.set vec, vec + 1
	.endr

/* Stack: vector, error code, then the CPU's frame. 15 pushes keep RSP
 * 16-byte aligned for the call (the CPU aligned it before its frame). */
isr_common:
	REGS_SAVE
	mov %rsp, %rdi
	cld
	call idt_dispatch
	REGS_RESTORE
	add $16, %rsp
	iretq

	.section .rodata
	.p2align 3
	.globl idt_stubs
idt_stubs:
	.set vec, 0
	.rept 256
	stub_addr %vec
	.set vec, vec + 1
	.endr
