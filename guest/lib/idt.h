/* idt.h: the IDT, one ENDBR64 stub per vector, and per-vector C handlers.
 *
 * Every vector has a stub that saves all general registers into a
 * struct regs and calls the C dispatcher. The dispatcher calls the handler
 * installed with idt_set_handler() if any; otherwise it lets the innermost
 * fault expectation (fault.h) catch the event; otherwise it prints the
 * event as a FAIL line and exits.
 *
 * Gates are 64-bit interrupt gates (IF cleared on entry), DPL 0, except
 * #BP, #OF, 0x80 and 0x81 (DPL 3). #DF, NMI and #MC use IST stacks.
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

/* struct regs offsets, for the assembly files. */
#define REGS_R15 0
#define REGS_R14 8
#define REGS_R13 16
#define REGS_R12 24
#define REGS_R11 32
#define REGS_R10 40
#define REGS_R9 48
#define REGS_R8 56
#define REGS_RBP 64
#define REGS_RDI 72
#define REGS_RSI 80
#define REGS_RDX 88
#define REGS_RCX 96
#define REGS_RBX 104
#define REGS_RAX 112
#define REGS_VECTOR 120
#define REGS_ERROR 128
#define REGS_RIP 136
#define REGS_CS 144
#define REGS_RFLAGS 152
#define REGS_RSP 160
#define REGS_SS 168
#define REGS_SIZE 176

#ifdef __ASSEMBLER__
/* Push the general registers below a frame that ends with vector and
 * error code, lowest address first as struct regs has them; and back. */
.macro REGS_SAVE
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
.endm

.macro REGS_RESTORE
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
.endm
#endif

#define SYSCALL_INT_VECTOR 0x80 /* DPL 3, free for tests ("int $0x80") */

#ifndef __ASSEMBLER__
#include "types.h"

/* The interrupted state, lowest address first; the last five fields are
 * the frame the CPU pushed (SDM Vol. 3A, 6.14.2). Handlers may change any
 * field: the stub restores registers from it and IRETQs. */
struct regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;
};

_Static_assert(__builtin_offsetof(struct regs, rax) == REGS_RAX, "regs layout");
_Static_assert(__builtin_offsetof(struct regs, ss) == REGS_SS, "regs layout");
_Static_assert(sizeof(struct regs) == REGS_SIZE, "regs layout");

void idt_init(void);

/* Install (or with NULL remove) the C handler for one vector. */
void idt_set_handler(int vec, void (*fn)(struct regs *r));

void idt_set_dpl(int vec, int dpl);
void idt_set_present(int vec, bool present);
void idt_set_ist(int vec, int ist);   /* 0: no stack switch */
void idt_set_trap(int vec, bool trap); /* trap gate: IF not cleared */

/* Point a gate at any code (e.g. a handler without ENDBR64); the default
 * stub's address is idt_stub(vec). */
void idt_set_addr(int vec, u64 addr);
u64 idt_stub(int vec);

/* "#GP" for 13 and so on; "INT" for vectors >= 32. */
const char *idt_vector_name(int vec);

/* Called by the stubs only. */
void idt_dispatch(struct regs *r);
#endif

#endif
