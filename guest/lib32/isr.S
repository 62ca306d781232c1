/* isr.S (32-bit kit): 256 interrupt stubs (each starts with ENDBR32). */
#include "idt.h"

	.altmacro

/* Vectors whose exceptions push an error code (SDM Vol. 3A, Table 7-1). */
.macro isr vec
	.p2align 4
isr_\vec:
	endbr32
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \
	      \vec == 29 || \vec == 30)
	pushl $0
	.endif
	pushl $\vec
	jmp isr_common
.endm

.macro stub_addr vec
	.long isr_\vec
.endm

	.text
	.set vec, 0
	.rept 256
	isr %vec
	.set vec, vec + 1
	.endr

isr_common:
	pusha
	mov %esp, %eax
	push %eax
	cld
	call idt_dispatch
	add $4, %esp
	popa
	add $8, %esp
	iret

	.section .rodata
	.p2align 2
	.globl idt_stubs
idt_stubs:
	.set vec, 0
	.rept 256
	stub_addr %vec
	.set vec, vec + 1
	.endr
