/* crt0.S (32-bit kit): multiboot v1 header; stay in 32-bit protected mode. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x3 /* bit 0: page-align modules, bit 1: memory info */

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

/* The loader enters here in 32-bit protected mode with flat CS/DS,
 * paging off, EAX = magic and EBX = the information structure. */
	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %esi
	mov %ebx, %ebp

	/* The loader zeroes bss, but another loader may not: do it here. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	mov $boot_stack_top, %esp
	push %ebp			/* guest_start(magic, info) */
	push %esi
	call guest_start
1:	cli
	hlt
	jmp 1b

	.bss
	.p2align 4
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:
