/* task.h (32-bit kit): a second task to switch to (SDM Vol. 3A, ch. 8).
 *
 * task_init() prepares a 32-bit TSS that starts at `entry` on its own
 * stack with the flat segments and the current CR3, and installs it as
 * an available TSS in a GDT slot. task_switch() goes there by CALL, JMP
 * or INT through a task gate, under FAULT_TRY; the task comes back with
 * IRET (EFLAGS.NT=1 after CALL and INT). A fault before or after the
 * commit point resumes after the switch with the caller's ESP and EBP
 * restored; after the commit point TR is the new task's: call
 * tss_back_to_main() (desc.h) before the next switch.
 */
#ifndef GUEST_TASK_H
#define GUEST_TASK_H

#include "desc.h"
#include "fault.h"

#define TASK_GATE_VECTOR 0x40

struct task {
	struct tss32 tss;
	u16 sel;
	u8 stack[8192] __aligned(16);
};

enum task_how { TASK_BY_CALL, TASK_BY_JMP, TASK_BY_INT };

/* TSS limit 0x6B covers the CET SSP field; 0x67 is the pre-CET minimum. */
#define TSS32_LIMIT_CET 0x6b
#define TSS32_LIMIT_MIN 0x67

void task_init(struct task *t, int slot, void (*entry)(void), u32 limit);
/* Switch to the TSS at sel. *lip (if not NULL) receives the address after
 * the CALL/JMP/INT: the return EIP that the old TSS keeps. */
struct fault task_switch(u16 sel, enum task_how how, u32 *lip);
/* Is the TSS descriptor at sel busy? */
bool task_busy(u16 sel);
u16 task_tr(void);

#endif
