/* fault.c (32-bit kit): FAULT_TRY expectations. */
#include "fault.h"

#include "x86.h"

#define MSR_IA32_S_CET 0x6a2
#define CET_SHSTK_EN 1u
#define CET_WRSS_EN 2u

volatile u32 fault_resume, fault_insn;
static struct fault fault_last = { .vector = FAULT_NONE };

/* The CS/LIP/SSP frame that delivery at CPL 0 pushed with SSE(0) (spec
 * 5.9: three 8-byte entries, old SSP lowest) for the event at old_eip:
 * make its LIP new_eip. Nothing to do when delivery pushed no frame. */
static void fix_frame(u32 old_eip, u32 new_eip, u32 cs)
{
	if (!(read_cr4() & X86_CR4_CET))
		return; /* (S_CET may not even exist) */
	u64 s_cet = rdmsr(MSR_IA32_S_CET);
	u32 ssp = 0;
	if (!(s_cet & CET_SHSTK_EN))
		return;
	asm volatile("rdsspd %0" : "+r"(ssp));
	for (u32 a = (ssp + 7) & ~7u; a + 24 <= ((ssp | 0xfff) + 1); a += 8) {
		const volatile u32 *f = (const volatile u32 *)(uintptr_t)a;
		if (f[2] != old_eip || f[3] || f[4] != cs || f[5])
			continue;
		wrmsr(MSR_IA32_S_CET, s_cet | CET_WRSS_EN);
		asm volatile("wrssd %1, %0" : "=m"(*(u32 *)(uintptr_t)(a + 8)) : "r"(new_eip));
		wrmsr(MSR_IA32_S_CET, s_cet);
		return;
	}
}

bool fault_catch(struct regs *r)
{
	if (!fault_resume)
		return false;
	fault_last = (struct fault){
		.vector = r->vector, .error_code = r->error_code, .eip = r->eip, .cs = r->cs,
		.eflags = r->eflags, .cr2 = read_cr2(), .insn = fault_insn, .regs = *r,
	};
	fix_frame(r->eip, fault_resume, r->cs);
	r->eip = fault_resume;
	r->eflags &= ~X86_EFLAGS_TF;
	fault_resume = 0;
	return true;
}

struct fault fault_take(void)
{
	struct fault f = fault_last;

	if (fault_resume)
		f = (struct fault){ .vector = FAULT_NONE, .insn = fault_insn };
	fault_resume = 0;
	fault_last.vector = FAULT_NONE;
	return f;
}
