/* syscall.c: SYSCALL/SYSRET MSR setup and the C side of the entry. */
#include "syscall.h"

#include "desc.h"
#include "x86.h"

void syscall_entry(void);

static void (*handler)(struct regs *r);

void syscall_enable(void (*fn)(struct regs *r), u64 fmask)
{
	handler = fn;
	/* STAR[47:32]: SYSCALL CS (SS = +8); STAR[63:48]: SYSRET base. */
	wrmsr(MSR_STAR, (u64)(USER_CS32 & ~3) << 48 | (u64)KERNEL_CS << 32);
	wrmsr(MSR_LSTAR, (u64)syscall_entry);
	wrmsr(MSR_FMASK, fmask);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void syscall_disable(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
}

void syscall_dispatch(struct regs *r)
{
	if (handler)
		handler(r);
}
