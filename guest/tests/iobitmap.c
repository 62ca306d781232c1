/* iobitmap: the TSS I/O permission bitmap at CPL 3 with IOPL=0: an allowed
 * port works, a denied port (or a multi-byte access touching one) gives
 * #GP(0) at the IN/OUT, IOPL=3 and CPL 0 bypass the bitmap, and a bitmap
 * beyond the TSS limit denies everything (SDM Vol. 1, 19.5). */
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "report.h"
#include "x86.h"

#define PORT_OK 0x80        /* POST port: writes are harmless */
#define PORT_DENIED 0x81
#define PORT_SCRATCH 0x3ff  /* COM1 scratch register, reads back */

static struct fault user_fault;
static u64 user_in;

static u64 user_outb(u64 port)
{
	asm volatile(FAULT_TRY("1f") "outb %%al, %%dx\n1:" ::"a"(0x5a), "d"(port) : "memory");
	user_fault = fault_take();
	return 0;
}

static u64 user_outw(u64 port)
{
	asm volatile(FAULT_TRY("1f") "outw %%ax, %%dx\n1:" ::"a"(0), "d"(port) : "memory");
	user_fault = fault_take();
	return 0;
}

static u64 user_inb(u64 port)
{
	u64 v = 0;
	asm volatile(FAULT_TRY("1f") "inb %%dx, %%al\n1:" : "+a"(v) : "d"(port) : "memory");
	user_fault = fault_take();
	user_in = v;
	return 0;
}

static bool user_io(u64 (*fn)(u64), u16 port, u64 rflags_set)
{
	struct regs r = fault_user_regs((u64)fn, USER_CS);

	r.rdi = port;
	r.rflags |= rflags_set;
	fault_run_regs(&r);
	return user_fault.vector == FAULT_NONE;
}

static bool gp0_at_insn(void)
{
	return user_fault.vector == GP_VECTOR && user_fault.error_code == 0 &&
	       user_fault.rip == user_fault.insn;
}

int main(void)
{
	tss_io_allow(PORT_OK, true);
	tss_io_allow(PORT_SCRATCH, true);
	tss_io_allow(0x84, true); /* 0x85 stays denied */

	report(user_io(user_outb, PORT_OK, 0), "OUT to allowed port at CPL 3");
	report(user_io(user_outb, PORT_SCRATCH, 0) && user_io(user_inb, PORT_SCRATCH, 0),
	       "OUT/IN of allowed port at CPL 3");
	report(user_in == 0x5a, "IN reads back the scratch register (%#lx)", user_in);
	report(!user_io(user_outb, PORT_DENIED, 0) && gp0_at_insn(),
	       "OUT to denied port: #GP(0) at the OUT (got %s %#lx)",
	       idt_vector_name(user_fault.vector), user_fault.error_code);
	report(!user_io(user_inb, PORT_DENIED, 0) && gp0_at_insn(), "IN from denied port: #GP(0)");
	report(user_io(user_outb, 0x84, 0), "OUTB to allowed port 0x84");
	report(!user_io(user_outw, 0x84, 0) && gp0_at_insn(),
	       "OUTW to 0x84 touches denied 0x85: #GP(0)");
	report(user_io(user_outb, PORT_DENIED, X86_EFLAGS_IOPL), "IOPL=3: denied port allowed");
	outb(PORT_DENIED, 0);
	report(true, "CPL 0 ignores the bitmap");

	/* The CPU reads the bitmap base from the TSS on every check. */
	u16 base = tss_iomap_base();
	tss_set_iomap_base(tss_limit() + 1);
	report(!user_io(user_outb, PORT_OK, 0) && gp0_at_insn(), "bitmap beyond TSS limit: #GP(0)");
	tss_set_iomap_base(base);
	report(user_io(user_outb, PORT_OK, 0), "allowed again after restoring the base");
	return report_summary();
}
