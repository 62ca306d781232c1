/* idt.c: IDT gates, per-vector handlers and the C side of the stubs. */
#include "idt.h"

#include "boot.h"
#include "desc.h"
#include "fault.h"
#include "printf.h"
#include "x86.h"

/* 64-bit gate descriptor, SDM Vol. 3A, Figure 6-8. */
struct idt_gate {
	u16 off_lo, sel;
	u8 ist, attr; /* attr: P, DPL, type (0xe interrupt, 0xf trap) */
	u16 off_mid;
	u32 off_hi, reserved;
} __packed;

#define GATE_P 0x80
#define GATE_INTR 0x0e
#define GATE_TRAP 0x0f

extern const u64 idt_stubs[256];

static struct idt_gate idt[256] __aligned(16);
static void (*handlers[256])(struct regs *r);

void idt_set_addr(int vec, u64 addr)
{
	struct idt_gate *g = &idt[vec];
	g->off_lo = addr;
	g->off_mid = addr >> 16;
	g->off_hi = addr >> 32;
	g->sel = KERNEL_CS;
}

u64 idt_stub(int vec)
{
	return idt_stubs[vec];
}

void idt_set_dpl(int vec, int dpl)
{
	idt[vec].attr = (idt[vec].attr & ~0x60) | (dpl & 3) << 5;
}

void idt_set_present(int vec, bool present)
{
	idt[vec].attr = (idt[vec].attr & ~GATE_P) | (present ? GATE_P : 0);
}

void idt_set_ist(int vec, int ist)
{
	idt[vec].ist = ist & 7;
}

void idt_set_trap(int vec, bool trap)
{
	idt[vec].attr = (idt[vec].attr & ~0xf) | (trap ? GATE_TRAP : GATE_INTR);
}

void idt_set_handler(int vec, void (*fn)(struct regs *r))
{
	handlers[vec] = fn;
}

void idt_init(void)
{
	struct dtr d = { sizeof(idt) - 1, (u64)idt };

	for (int v = 0; v < 256; v++) {
		idt_set_addr(v, idt_stubs[v]);
		idt[v].attr = GATE_P | GATE_INTR;
	}
	idt_set_dpl(BP_VECTOR, 3);
	idt_set_dpl(OF_VECTOR, 3);
	idt_set_dpl(SYSCALL_INT_VECTOR, 3);
	idt_set_dpl(FAULT_EXIT_VECTOR, 3);
	idt_set_ist(DF_VECTOR, IST_DF);
	idt_set_ist(NMI_VECTOR, IST_NMI);
	idt_set_ist(MC_VECTOR, IST_MC);
	lidt(&d);
}

const char *idt_vector_name(int vec)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
		"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};
	if (vec < 0)
		return "none";
	return vec < 32 ? names[vec] : "INT";
}

static __noreturn void unexpected(const struct regs *r)
{
	printf("FAIL: unexpected %s (vector %lu) error %#lx at rip %#lx cs %#lx "
	       "rsp %#lx rflags %#lx cr2 %#lx\n",
	       idt_vector_name(r->vector), r->vector, r->error_code, r->rip, r->cs,
	       r->rsp, r->rflags, read_cr2());
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
