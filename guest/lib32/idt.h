/* idt.h (32-bit kit): the IDT, one ENDBR32 stub per vector, C handlers.
 *
 * As in the 64-bit kit (guest/lib/idt.h): every vector has a stub that
 * saves the registers into a struct regs and calls the dispatcher, which
 * calls the handler installed with idt_set_handler(), else lets a fault
 * expectation (fault.h) catch the event, else prints a FAIL line and
 * exits. Gates are 32-bit interrupt gates, DPL 0.
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#define REGS_SIZE 52

#ifndef __ASSEMBLER__
#include "types.h"

/* PUSHA order, lowest address first; then vector, error code and the
 * frame of a same-privilege event (SDM Vol. 3A, 7.12.1). Handlers may
 * change any field: the stub restores the registers from it and IRETs. */
struct regs {
	u32 edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
	u32 vector, error_code;
	u32 eip, cs, eflags;
};

_Static_assert(sizeof(struct regs) == REGS_SIZE, "regs layout");

void idt_init(void);
void idt_set_handler(int vec, void (*fn)(struct regs *r));
/* Point a gate at any code (e.g. a handler without ENDBR32). */
void idt_set_addr(int vec, u32 addr);
u32 idt_stub(int vec);
/* A task gate (SDM Vol. 3A, 8.2.5): the event switches to the TSS at
 * tss_sel; idt_set_addr() makes the vector an interrupt gate again. */
void idt_set_task_gate(int vec, u16 tss_sel);

/* Called by the stubs only. */
void idt_dispatch(struct regs *r);
#endif

#endif
