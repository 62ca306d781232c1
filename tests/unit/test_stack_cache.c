/* test_stack_cache.c: the one-page caches in front of the software TLB for
 * the stack and the shadow stack (cpu.h: sp_cache, ss_cache), as the fast
 * PUSH/POP/CALL/RET handlers use them. Every change to the TLB or to the
 * access class must empty them, and a page remapped (with the TLB flushed
 * for it, as INVLPG does) between a push and a pop must be seen by the pop
 * through the new mapping. */
#include "test_alu.h"

#include "cpu/cet.h"

#define PUSH_RAX 0x50
#define POP_RBX 0x5b

static u64 win_la(unsigned k)
{
	return (u64)(uintptr_t)T.win + k * 4096ull;
}

static u64 *win_pte(unsigned k)
{
	return pt_at(0x3000) + ((win_la(k) >> 12) & 511);
}

/* Run one instruction through the handler the run loop would pick. */
static int run1(const u8 *code, unsigned len, struct xs *s)
{
	T.fast = true;
	return emu_run_mode(code, len, s, 8);
}

/* RSP in window page 1; a PUSH that hits the TLB fills the stack cache
 * (the first may take the slow path, which fills the TLB). */
static void fill_sp_cache(struct xs *s)
{
	static const u8 push[] = { PUSH_RAX };
	s->r[R_AX] = 0x1111;
	for (int i = 0; i < 2; i++) {
		s->r[R_SP] = win_la(1) + 0x800;
		run1(push, 1, s);
	}
}

static void test_invalidation(void)
{
	struct cpu *c = T.cpu;
	struct xs s = { 0 };
	static const char *const what[] = { "TLB flush", "INVLPG of another page",
					    "dropping write entries", "access-class update",
					    "a TLB fill" };
	for (unsigned i = 0; i < ARRAY_SIZE(what); i++) {
		fill_sp_cache(&s);
		bool filled = c->sp_cache.page == win_la(1);
		switch (i) {
		case 0: cpu_tlb_flush(c); break;
		case 1: cpu_tlb_flush_page(c, win_la(5)); break;
		case 2: cpu_tlb_drop_writes(c); break;
		case 3: cpu_update_mmu_idx(c); break;
		default: cpu_read_slow(c, win_la(6), 8, ACC_READ); break;
		}
		report(filled && c->sp_cache.page == ~0ull && c->ss_cache.page == ~0ull,
		       "stack caches: a PUSH fills, %s empties", what[i]);
	}
}

/* PUSH, remap the stack page to another frame and flush it, POP: the POP
 * reads the other frame. */
static void test_remap_stack(void)
{
	static const u8 pop[] = { POP_RBX };
	struct xs s = { 0 };
	u64 old = *win_pte(1);
	*(u64 *)(T.win + 2 * 4096 + 0x7f8) = 0x2222;
	fill_sp_cache(&s);
	*win_pte(1) = (T.win_pa + 2 * 4096ull) | PTE_FLAGS;
	cpu_tlb_flush_page(T.cpu, win_la(1));
	int r = run1(pop, 1, &s);
	report(r == 0 && s.r[R_BX] == 0x2222 && *(u64 *)(T.win + 4096 + 0x7f8) == 0x1111,
	       "POP after remapping the stack page reads the new frame (%#llx)",
	       (unsigned long long)s.r[R_BX]);
	*win_pte(1) = old;
	cpu_tlb_flush(T.cpu);
}

/* Supervisor shadow stack in window page 3 (leaf R/W=0, D=1), SSP in it. */
static void shstk_on(u64 ssp)
{
	struct cpu *c = T.cpu;
	*win_pte(3) = (T.win_pa + 3 * 4096ull) | PTE_P | PTE_A | PTE_D;
	*win_pte(4) = (T.win_pa + 4 * 4096ull) | PTE_P | PTE_A | PTE_D;
	cpu_tlb_flush(c);
	c->cr4 |= X86_CR4_CET;
	c->cet.s_cet = CET_SHSTK_EN;
	c->cet.ssp = ssp;
	cet_refresh(c);
}

static void shstk_off(void)
{
	struct cpu *c = T.cpu;
	c->cr4 &= ~X86_CR4_CET;
	c->cet.s_cet = 0;
	cet_refresh(c);
	*win_pte(3) = (T.win_pa + 3 * 4096ull) | PTE_FLAGS;
	*win_pte(4) = (T.win_pa + 4 * 4096ull) | PTE_FLAGS;
	cpu_tlb_flush(c);
}

/* CALL pushes on both stacks; the shadow-stack page is remapped to a frame
 * holding `other` in that slot; RET must compare with the new frame. */
static int call_remap_ret(u64 other, u64 *ret_addr)
{
	static const u8 call[] = { 0xe8, 0x10, 0, 0, 0 }, ret[] = { 0xc3 };
	struct cpu *c = T.cpu;
	struct xs s = { 0 };
	u64 ssp = win_la(3) + 0x800;
	shstk_on(ssp);
	int r = 0;
	for (int i = 0; i < 2 && r == 0; i++) { /* the second hits the TLB */
		c->cet.ssp = ssp;
		s.r[R_SP] = win_la(1) + 0x800;
		r = run1(call, sizeof(call), &s);
	}
	*ret_addr = *(u64 *)(T.win + 3 * 4096 + 0x7f8);
	bool pushed = r == 0 && c->cet.ssp == ssp - 8 && c->ss_cache.page == win_la(3) &&
		      *ret_addr == *(u64 *)(T.win + 4096 + 0x7f8);
	*(u64 *)(T.win + 4 * 4096 + 0x7f8) = other;
	*win_pte(3) = (T.win_pa + 4 * 4096ull) | PTE_P | PTE_A | PTE_D;
	cpu_tlb_flush_page(c, win_la(3));
	r = pushed ? run1(ret, 1, &s) : -2;
	shstk_off();
	return r;
}

static void test_remap_shstk(void)
{
	u64 ra;
	int r = call_remap_ret(0xbad, &ra);
	report(r == EMU_FAULT(X86_EXC_CP) && T.cpu->fault.error == 1,
	       "RET after remapping the shadow-stack page to other contents: #CP(1) (%d)", r);
	r = call_remap_ret(0x400005, &ra);
	report(r == 0 && ra == 0x400005,
	       "RET after remapping it to a frame with the same return address (%d)", r);
}

int main(void)
{
	harness_init();
	test_invalidation();
	test_remap_stack();
	test_remap_shstk();
	return 0;
}
