/* crt0.S: multiboot v1 header, 32-bit entry, switch to long mode, call C. */
#include "desc.h"

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x3 /* bit 0: page-align modules, bit 1: memory info */

#define CR0_PE 0x1
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100

/* 2 MiB leaf: present, writable, user, page size. Everything is user
 * accessible by default so that user-mode tests can run any C function;
 * tests that need supervisor-only memory clear U on what they need. */
#define PDE_2M 0x87
#define PTE_TABLE 0x7
#define BOOT_MAP_GB 4 /* identity map 0..4 GiB: RAM plus the LAPIC page */

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %esi			/* multiboot magic */
	mov %ebx, %ebp			/* multiboot info (physical) */

	/* The loader zeroes bss, but another loader may not: do it here. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	/* Page directories: BOOT_MAP_GB * 512 entries of 2 MiB. */
	mov $boot_pd, %edi
	mov $PDE_2M, %eax
	mov $BOOT_MAP_GB * 512, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	mov $boot_pdpt, %edi
	mov $boot_pd + PTE_TABLE, %eax
	mov $BOOT_MAP_GB, %ecx
2:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 2b
	movl $boot_pdpt + PTE_TABLE, boot_pml4

	/* SDM Vol. 3A, 10.8.5: PAE, then CR3, then EFER.LME, then CR0.PG. */
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP | CR0_PE), %eax
	mov %eax, %cr0

	lgdt boot_gdtr
	ljmp $KERNEL_CS, $long_entry

	.code64
long_entry:
	endbr64
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $boot_stack_top, %rsp
	mov %esi, %edi			/* magic (ESI, EBP survive the switch) */
	mov %ebp, %esi			/* info pointer */
	xor %ebp, %ebp
	call guest_start
3:	cli
	hlt
	jmp 3b

	.data
	.p2align 3
boot_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.bss
	.p2align 12
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096 * BOOT_MAP_GB
	.p2align 4
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:
