/* syscall.h: SYSCALL/SYSRET in 64-bit mode (SDM Vol. 2B, SYSCALL, SYSRET).
 *
 * syscall_enable() sets EFER.SCE, STAR (kernel CS 0x08; SYSRET bases on
 * USER_CS32), LSTAR (the entry in syscall_entry.S) and FMASK. The entry
 * switches to a kernel stack, saves every register in a struct regs
 * (rip = RCX, rflags = R11, rsp = the user RSP, cs/ss = 0), calls fn, then
 * restores the registers from the struct and executes SYSRETQ with
 * RCX = r->rip, R11 = r->rflags, RSP = r->rsp (fn may change any of them;
 * the rcx and r11 fields are what the user had and are not used).
 */
#ifndef GUEST_SYSCALL_H
#define GUEST_SYSCALL_H

#include "idt.h"
#include "types.h"

void syscall_enable(void (*fn)(struct regs *r), u64 fmask);
void syscall_disable(void);

/* Called by the entry code only. */
void syscall_dispatch(struct regs *r);

#endif
