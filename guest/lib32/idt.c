/* idt.c (32-bit kit): IDT gates, per-vector handlers, the stubs' C side. */
#include "idt.h"

#include "boot.h"
#include "desc.h"
#include "fault.h"
#include "printf.h"
#include "x86.h"

/* 32-bit gate descriptor, SDM Vol. 3A, Figure 7-2. */
struct idt_gate {
	u16 off_lo, sel;
	u8 zero, attr; /* attr: P, DPL, type 0xe (32-bit interrupt gate) */
	u16 off_hi;
} __packed;

#define GATE_P 0x80
#define GATE_TASK 0x05
#define GATE_INTR32 0x0e

extern const u32 idt_stubs[256];

static struct idt_gate idt[256] __aligned(8);
static void (*handlers[256])(struct regs *r);

void idt_set_addr(int vec, u32 addr)
{
	idt[vec] = (struct idt_gate){ (u16)addr, KERNEL_CS, 0, GATE_P | GATE_INTR32,
				      (u16)(addr >> 16) };
}

void idt_set_task_gate(int vec, u16 tss_sel)
{
	idt[vec] = (struct idt_gate){ 0, tss_sel, 0, GATE_P | GATE_TASK, 0 };
}

u32 idt_stub(int vec)
{
	return idt_stubs[vec];
}

void idt_set_handler(int vec, void (*fn)(struct regs *r))
{
	handlers[vec] = fn;
}

void idt_init(void)
{
	struct dtr d = { sizeof(idt) - 1, (uintptr_t)idt };

	for (int v = 0; v < 256; v++)
		idt_set_addr(v, idt_stubs[v]);
	lidt(&d);
}

static __noreturn void unexpected(const struct regs *r)
{
	printf("FAIL: unexpected vector %u error %#x at eip %#x cs %#x eflags %#x cr2 %#llx\n",
	       r->vector, r->error_code, r->eip, r->cs, r->eflags, read_cr2());
	exit(3);
}

void idt_dispatch(struct regs *r)
{
	void (*fn)(struct regs *) = handlers[r->vector & 0xff];

	if (fn)
		fn(r);
	else if (!fault_catch(r))
		unexpected(r);
}
