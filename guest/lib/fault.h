/* fault.h: run code and find out which exception it raised.
 *
 * Two forms, after kvm-unit-tests:
 *
 * 1. One instruction, in extended inline asm (at least one ':'):
 *
 *	asm volatile(FAULT_TRY("1f") "ud2\n1:" ::: "memory");
 *	struct fault f = fault_take();
 *	report(f.vector == UD_VECTOR && f.rip == f.insn, "#UD at ud2");
 *
 *    FAULT_TRY arms a resume label; any exception (or unhandled interrupt)
 *    before fault_take() resumes there with every register as it was at the
 *    fault except RIP (and RFLAGS.TF, cleared). f.insn is the address of
 *    the instruction right after FAULT_TRY. Works at any CPL (64-bit code;
 *    labels below 2 GiB). Always call fault_take() after a FAULT_TRY.
 *    Registers are as at the fault: a CALL whose target faults has already
 *    pushed its return address, so keep RSP in a callee-saved register and
 *    restore it after the label (see FAULT_TRY_CALL).
 *
 * 2. A whole function, at CPL 0, at CPL 3 or from any register state:
 *
 *	struct fault f = fault_run_user(fn, arg);
 *
 *    fn runs until it returns (f.vector == FAULT_NONE, f.value = its return
 *    value; the return goes to a UD2 the handler recognizes), executes
 *    "int $0x81" (FAULT_EXIT_VECTOR: same, with RAX as the value), or raises
 *    an exception (f.vector etc.). The caller's stack and callee-saved
 *    registers are restored either way. These nest.
 *
 * Handlers installed with idt_set_handler() see events first; they may call
 * fault_catch() to end the innermost expectation as if r had faulted.
 *
 * Later CET work: the unwind returns through IRETQ to a different RIP, so
 * with supervisor shadow stacks enabled it must also fix the shadow-stack
 * frame (the saved LIP) or it will #CP.
 */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

#define FAULT_EXIT_VECTOR 0x81

/* struct kctx offsets, for ctx.S. */
#define KCTX_RBX 0
#define KCTX_RBP 8
#define KCTX_R12 16
#define KCTX_R13 24
#define KCTX_R14 32
#define KCTX_R15 40
#define KCTX_RSP 48
#define KCTX_RFLAGS 56

#ifndef __ASSEMBLER__
#include "idt.h"
#include "types.h"

#define FAULT_NONE (-1)

struct fault {
	int vector;     /* FAULT_NONE: nothing faulted */
	u64 error_code; /* 0 for vectors without one */
	u64 rip, cs, rflags, rsp, ss; /* the frame pushed for the event */
	u64 cr2;        /* CR2 as read by the handler */
	u64 insn;       /* FAULT_TRY: address of the instruction under test */
	u64 value;      /* fault_run*: return value or RAX at INT 0x81 */
	struct regs regs; /* every register at the event (or at the end of a
			   * fault_run_regs/user run that ended normally) */
};

/* Callee-saved state of a kernel context (ctx.S). */
struct kctx {
	u64 rbx, rbp, r12, r13, r14, r15, rsp, rflags;
};

_Static_assert(__builtin_offsetof(struct kctx, rflags) == KCTX_RFLAGS, "kctx layout");

extern volatile u64 fault_resume, fault_insn;

#define FAULT_TRY(resume_label)                                 \
	"movq $" resume_label ", fault_resume(%%rip)\n\t"       \
	"movq $7770f, fault_insn(%%rip)\n"                      \
	"7770:\n\t"

/* Call the code at `target` (a register operand) under FAULT_TRY. */
#define FAULT_TRY_CALL(target)                                                  \
	asm volatile("mov %%rsp, %%r12\n\t" FAULT_TRY("1f") "call *%0\n1:\n\t"   \
		     "mov %%r12, %%rsp" ::"r"(target)                           \
		     : "r12", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",    \
		       "r11", "memory", "cc")

struct fault fault_take(void);

struct fault fault_run(u64 (*fn)(u64), u64 arg);
struct fault fault_run_user(u64 (*fn)(u64), u64 arg);
/* IRETQ to the state in r (CS, SS, RIP, RSP, RFLAGS and all GPRs). */
struct fault fault_run_regs(const struct regs *r);

/* A CPL 3 register state: CS (USER_CS or USER_CS32), RIP, RFLAGS.IF=1, SS
 * USER_DS, RSP on the user stack, whose return address is the exit stub
 * (a plain RET from 64-bit or 32-bit code ends the run). */
struct regs fault_user_regs(u64 rip, u16 cs);

bool fault_catch(struct regs *r);

/* The UD2 that ends runs (a RET target below 4 GiB): for register states
 * built by hand, e.g. CPL 0 compatibility-mode code. */
void fault_exit_stub(void);

/* Single-instruction helpers returning the vector or FAULT_NONE. */
static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	asm volatile(FAULT_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = lo | (u64)hi << 32;
	return fault_take().vector;
}

static inline int wrmsr_safe(u32 msr, u64 val)
{
	asm volatile(FAULT_TRY("1f") "wrmsr\n1:"
		     ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(msr) : "memory");
	return fault_take().vector;
}

static inline int xsetbv_safe(u32 index, u64 val)
{
	asm volatile(FAULT_TRY("1f") "xsetbv\n1:"
		     ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(index) : "memory");
	return fault_take().vector;
}

static inline int write_cr0_safe(u64 v)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr0\n1:" ::"r"(v) : "memory");
	return fault_take().vector;
}

static inline int write_cr3_safe(u64 v)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr3\n1:" ::"r"(v) : "memory");
	return fault_take().vector;
}

static inline int write_cr4_safe(u64 v)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr4\n1:" ::"r"(v) : "memory");
	return fault_take().vector;
}
#endif

#endif
