/* task.c (32-bit kit): a second task and the switches to it. */
#include "task.h"

#include "idt.h"
#include "string.h"
#include "x86.h"

/* Named in the asm below: the caller's ESP and EBP, for the resume after
 * a fault in the task, and the return address of the switch. */
static volatile u32 saved_esp __attribute__((used)), saved_ebp __attribute__((used));
static volatile u32 switch_lip __attribute__((used));

void task_init(struct task *t, int slot, void (*entry)(void), u32 limit)
{
	memset(&t->tss, 0, sizeof(t->tss));
	t->tss.cr3 = read_cr3();
	t->tss.eip = (uintptr_t)entry;
	t->tss.eflags = X86_EFLAGS_FIXED;
	t->tss.esp = (uintptr_t)t->stack + sizeof(t->stack);
	t->tss.cs = KERNEL_CS;
	t->tss.ss = t->tss.ds = t->tss.es = t->tss.fs = t->tss.gs = KERNEL_DS;
	t->tss.iomap_base = sizeof(t->tss);
	t->sel = gdt_set(slot, (uintptr_t)&t->tss, limit, DESC_P | DESC_TSS32, 0);
	/* The startup task is returned to by IRET: it needs its CR3 too (a
	 * task switch never saves CR3). */
	tss_main()->cr3 = read_cr3();
}

/* Everything but ESP and EBP may come back from the other task. */
#define SWITCH(insn)                                                            \
	asm volatile("mov %%esp, saved_esp\n\t"                                 \
		     "mov %%ebp, saved_ebp\n\t"                                 \
		     "movl $1f, switch_lip\n\t" FAULT_TRY("1f") insn "\n"       \
		     "1:\n\t"                                                   \
		     "mov saved_esp, %%esp\n\t"                                 \
		     "mov saved_ebp, %%ebp"                                     \
		     :                                                          \
		     : "m"(fp), "i"(TASK_GATE_VECTOR)                           \
		     : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc")

struct fault task_switch(u16 sel, enum task_how how, u32 *lip)
{
	struct {
		u32 off;
		u16 sel;
	} __packed fp = { 0, sel };

	if (how == TASK_BY_CALL)
		SWITCH("lcall *%0");
	else if (how == TASK_BY_JMP)
		SWITCH("ljmp *%0");
	else
		SWITCH("int %1");
	if (lip)
		*lip = switch_lip;
	return fault_take();
}

bool task_busy(u16 sel)
{
	return (gdt_get_raw(sel >> 3) >> 40) & DESC_TSS_BUSY;
}

u16 task_tr(void)
{
	u16 tr;
	asm volatile("str %0" : "=r"(tr));
	return tr;
}
