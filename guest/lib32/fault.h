/* fault.h (32-bit kit): run one instruction and find out which exception
 * it raised. The FAULT_TRY / fault_take form of the 64-bit kit
 * (guest/lib/fault.h), in 32-bit code at CPL 0:
 *
 *	asm volatile(FAULT_TRY("1f") "ud2\n1:" ::: "memory");
 *	struct fault f = fault_take();
 *	report(f.vector == UD_VECTOR && f.eip == f.insn, "#UD at ud2");
 *
 * Any exception before fault_take() resumes at the label with every
 * register as it was at the fault except EIP. With supervisor shadow
 * stacks on (S_CET.SH_STK_EN), the resume also rewrites the LIP of the
 * event's shadow-stack frame so that the handler's IRET passes its check
 * (spec/cet.md 5.4 restore_frame).
 */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

#include "idt.h"
#include "types.h"

#define FAULT_NONE (-1)

struct fault {
	int vector;     /* FAULT_NONE: nothing faulted */
	u32 error_code; /* 0 for vectors without one */
	u32 eip, cs, eflags; /* the frame pushed for the event */
	u32 cr2;
	u32 insn;       /* address of the instruction under test */
	struct regs regs;
};

extern volatile u32 fault_resume, fault_insn;

#define FAULT_TRY(resume_label)                         \
	"movl $" resume_label ", fault_resume\n\t"      \
	"movl $7770f, fault_insn\n"                     \
	"7770:\n\t"

struct fault fault_take(void);
bool fault_catch(struct regs *r);

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

static inline int write_cr4_safe(u32 v)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr4\n1:" ::"r"(v) : "memory");
	return fault_take().vector;
}

#endif
