/* cet.c: CET setup for the cet_* guests (see cet.h). */
#include "cet.h"

#include "alloc.h"
#include "boot.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "printf.h"
#include "x86.h"

#define CET_SS_BASE 0x300000000ull /* shadow-stack mappings: above 4 GiB */

static u64 next_va = CET_SS_BASE;

bool cet_has_shstk(void)
{
	return cpu_has(X86_FEATURE_SHSTK);
}

bool cet_has_ibt(void)
{
	return cpu_has(X86_FEATURE_IBT);
}

void cet_cr4(bool on)
{
	u64 cr4 = read_cr4();
	write_cr4(on ? cr4 | X86_CR4_CET : cr4 & ~X86_CR4_CET);
}

/* A scan for the frame that delivery to CPL 0 pushes with SSE(0) (spec
 * 5.9: [SSP]=old SSP, [SSP+8]=LIP, [SSP+16]=CS) whose LIP is old_rip;
 * it becomes new_rip so that the IRETQ to the resume label passes the
 * LIP check (spec 5.10). Nothing happens where delivery pushes nothing. */
static void fix_frame(u64 old_rip, u64 new_rip, u64 cs)
{
	u64 s_cet = rdmsr(MSR_IA32_S_CET);
	if (!(s_cet & CET_SHSTK_EN) || (cs & 3))
		return;
	u64 ssp = cet_rdssp();
	for (u64 a = ssp; a + 24 <= ((ssp | 0xfff) + 1); a += 8) {
		const volatile u64 *f = (const volatile u64 *)a;
		if (f[1] != old_rip || f[2] != cs)
			continue;
		wrmsr(MSR_IA32_S_CET, s_cet | CET_WRSS_EN);
		asm volatile("wrssq %1, %0" : "=m"(*(u64 *)(a + 8)) : "r"(new_rip));
		wrmsr(MSR_IA32_S_CET, s_cet);
		return;
	}
}

/* An event from CPL 3 with SSE(0) entered CPL 0 on the PL0_SSP token
 * and pushed no frame (spec 5.9), so an IRETQ from there to a kernel
 * context has no frame to pop: turn supervisor shadow stacks off for the
 * unwind. The kernel context turns them on again if it wants them. */
static void sss_unwind(u64 from_cs, u64 to_cs)
{
	u64 s_cet = rdmsr(MSR_IA32_S_CET);
	if ((from_cs & 3) == 3 && !(to_cs & 3) && (s_cet & CET_SHSTK_EN))
		wrmsr(MSR_IA32_S_CET, s_cet & ~CET_SHSTK_EN);
}

static void cet_fault_hook(struct regs *r)
{
	u64 rip = r->rip, cs = r->cs;
	if (!fault_catch(r)) {
		printf("FAIL: unexpected %s (vector %lu) error %#lx at rip %#lx cr2 %#lx\n",
		       idt_vector_name(r->vector), r->vector, r->error_code, r->rip,
		       read_cr2());
		exit(3);
	}
	if (r->rip != rip)
		fix_frame(rip, r->rip, r->cs);
	sss_unwind(cs, r->cs);
}

void cet_init(void)
{
	static const int vecs[] = { UD_VECTOR, GP_VECTOR, PF_VECTOR, CP_VECTOR };
	for (unsigned i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		idt_set_handler(vecs[i], cet_fault_hook);
	write_cr0(read_cr0() | X86_CR0_WP);
	cet_cr4(true);
}

void cet_exit(void)
{
	wrmsr(MSR_IA32_S_CET, 0);
	wrmsr(MSR_IA32_U_CET, 0);
	cet_cr4(false);
}

void cet_remap(u64 va, u64 pa, u64 flags)
{
	pt_map(pt_root(), va, pa, PT_4K, flags);
}

struct cet_ss cet_ss_page(bool user)
{
	u8 *page = page_alloc();
	struct cet_ss ss = { .va = next_va, .alias = (volatile u64 *)page };
	next_va += 0x2000; /* an unmapped page after each one */
	/* Shadow-stack page: leaf R/W=0 and D=1 (spec 5.2). */
	cet_remap(ss.va, (u64)page, PTE_D | PTE_A | (user ? PTE_U : 0));
	return ss;
}

struct cet_ss cet_ss_page_low(bool user)
{
	u8 *page = page_alloc();
	struct cet_ss ss = { .va = (u64)page, .alias = (volatile u64 *)next_va };
	cet_remap(next_va, (u64)page, PTE_W | PTE_D | PTE_A);
	next_va += 0x2000;
	cet_remap(ss.va, (u64)page, PTE_D | PTE_A | (user ? PTE_U : 0));
	return ss;
}

void cet_ss_put(const struct cet_ss *ss, unsigned off, u64 v)
{
	ss->alias[off / 8] = v;
}

u64 cet_ss_get(const struct cet_ss *ss, unsigned off)
{
	return ss->alias[off / 8];
}

u64 cet_ss_token(const struct cet_ss *ss)
{
	u64 tok = ss->va + 0xff8;
	cet_ss_put(ss, 0xff8, tok);
	return tok;
}

void cet_wrmsr_try(u32 msr, u64 val, struct fault *f)
{
	asm volatile(FAULT_TRY("1f") "wrmsr\n1:"
		     ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(msr) : "memory");
	*f = fault_take();
}

void cet_rdmsr_try(u32 msr, u64 *val, struct fault *f)
{
	u32 lo = 0, hi = 0;
	asm volatile(FAULT_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*f = fault_take();
	if (f->vector == FAULT_NONE)
		*val = lo | (u64)hi << 32;
}

void cet_write_cr0_try(u64 val, struct fault *f)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr0\n1:" ::"r"(val) : "memory");
	*f = fault_take();
}

void cet_write_cr4_try(u64 val, struct fault *f)
{
	asm volatile(FAULT_TRY("1f") "mov %0, %%cr4\n1:" ::"r"(val) : "memory");
	*f = fault_take();
}

void cet_xsetbv_try(u32 index, u64 val, struct fault *f)
{
	asm volatile(FAULT_TRY("1f") "xsetbv\n1:"
		     ::"a"((u32)val), "d"((u32)(val >> 32)), "c"(index) : "memory");
	*f = fault_take();
}

bool cet_gp0_at_insn(const struct fault *f)
{
	return f->vector == GP_VECTOR && f->error_code == 0 && f->rip == f->insn;
}

bool cet_wrmsr_gp0(u32 msr, u64 val)
{
	struct fault r0, w, r1;
	u64 before = 0, after = 0;
	cet_rdmsr_try(msr, &before, &r0);
	cet_wrmsr_try(msr, val, &w);
	cet_rdmsr_try(msr, &after, &r1);
	return cet_gp0_at_insn(&w) && r0.vector == r1.vector && before == after;
}

bool cet_wrmsr_ok(u32 msr, u64 val)
{
	struct fault w, r;
	u64 got = ~val;
	cet_wrmsr_try(msr, val, &w);
	cet_rdmsr_try(msr, &got, &r);
	return w.vector == FAULT_NONE && r.vector == FAULT_NONE && got == val;
}

struct fault cet_cr4_cet_probe(u64 *got)
{
	u64 cr4 = read_cr4();
	struct fault f;
	write_cr0(read_cr0() | X86_CR0_WP);
	cet_write_cr4_try(cr4 | X86_CR4_CET, &f);
	*got = read_cr4();
	write_cr4(cr4);
	return f;
}
