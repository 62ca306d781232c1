/* task.h: hardware task switches in legacy protected mode (task.c). */
#ifndef CETVM_TASK_H
#define CETVM_TASK_H

#include "cpu.h"

/* What started the switch: it decides the busy bits, NT and the back link
 * (SDM Vol. 3 Table 7-2). TASK_INT is an interrupt or exception through a
 * task gate in the IDT. */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

/* Switch to the task of TSS descriptor `desc` (selector `sel`, from the
 * GDT), SDM Vol. 3 7.3. The caller did the privilege checks of its
 * instruction or gate; this checks the TSS (type/busy, present, limit),
 * saves the current task with EIP = ret_eip, and loads the new one. With
 * has_error (TASK_INT only) the error code is pushed on the new stack.
 * Faults after the commit point are raised in the new task's context.
 * On return cpu->rip and cpu->next_rip hold the new EIP. */
void cpu_task_switch(struct cpu *cpu, u16 sel, u64 desc, enum task_reason why, u64 ret_eip,
		     bool has_error, u32 error);

#endif
