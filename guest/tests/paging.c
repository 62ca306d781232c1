/* paging: 4 KiB, 2 MiB and 1 GiB pages, A/D bits set by the CPU, CR0.WP,
 * SMEP and SMAP (with STAC/CLAC), NX in a leaf and a non-leaf entry, global
 * pages and INVLPG, pages that collide in a TLB, PCID basics, and
 * protection keys (SDM Vol. 3A, 4.5-4.10). */
#include "alloc.h"
#include "fault.h"
#include "paging.h"
#include "report.h"
#include "string.h"
#include "x86.h"

#define TEST_VA 0x100000000ull  /* 4 GiB: above the identity map */
#define VA_2M 0x140000000ull
#define VA_1G 0x180000000ull
#define USER_VA 0x8000000000ull /* PML4 slot 1: unaffected by slot 0's U bit */

static u64 *root;

static u64 *map4k(u64 va, u64 pa, u64 flags)
{
	return pt_map(root, va, pa, PT_4K, flags);
}

static struct fault try_read(u64 va)
{
	asm volatile(FAULT_TRY("1f") "mov (%0), %%rax\n1:" ::"r"(va) : "rax", "memory");
	return fault_take();
}

static struct fault try_write(u64 va)
{
	asm volatile(FAULT_TRY("1f") "movb $0x5a, (%0)\n1:" ::"r"(va) : "memory");
	return fault_take();
}

static struct fault try_call(u64 va)
{
	FAULT_TRY_CALL(va);
	return fault_take();
}

static bool is_pf(struct fault f, u32 err, u64 va)
{
	return f.vector == PF_VECTOR && f.error_code == err && f.cr2 == va;
}

static void test_sizes(void)
{
	u64 *page = page_alloc();

	page[3] = 0x1234567890abcdefull;
	map4k(TEST_VA, (u64)page, PTE_W);
	report(*(volatile u64 *)(TEST_VA + 24) == page[3], "4 KiB page: alias reads memory");
	*(volatile u64 *)(TEST_VA + 32) = 42;
	report(page[4] == 42, "4 KiB page: alias writes memory");

	pt_map(root, VA_2M, 0, PT_2M, PTE_W);
	report(!memcmp((void *)(VA_2M + 0x100000), (void *)0x100000, 4096),
	       "2 MiB page maps physical 0..2 MiB");

	if (!cpu_has(X86_FEATURE_GBPAGES)) {
		report_skip("1 GiB pages not supported");
		return;
	}
	pt_map(root, VA_1G, 0, PT_1G, PTE_W);
	report(!memcmp((void *)(VA_1G + 0x100000), (void *)0x100000, 4096) &&
		       !memcmp((void *)(VA_1G + (u64)page), page, 64),
	       "1 GiB page maps physical 0..1 GiB");
	int level = 0;
	report(pt_lookup(root, VA_1G + 0x12345, &level) && level == PT_1G, "walk ends at a PDPTE");
}

static void test_accessed_dirty(void)
{
	u64 *pte = map4k(TEST_VA, (u64)page_alloc(), PTE_W);
	u64 *pde = pt_entry(root, TEST_VA, PT_2M);

	*pde &= ~PTE_A;
	*pte &= ~(PTE_A | PTE_D);
	invlpg((void *)TEST_VA);
	try_read(TEST_VA);
	report((*pte & (PTE_A | PTE_D)) == PTE_A, "read sets A, not D (PTE %#lx)", *pte);
	report(*pde & PTE_A, "walk sets A in the PDE");
	try_write(TEST_VA);
	report((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "write sets D (PTE %#lx)", *pte);
}

static void test_wp(void)
{
	map4k(TEST_VA, (u64)page_alloc(), 0); /* read-only */
	report(is_pf(try_write(TEST_VA), PFERR_P | PFERR_W, TEST_VA),
	       "CR0.WP=1: supervisor write to read-only page: #PF(P|W)");
	write_cr0(read_cr0() & ~X86_CR0_WP);
	report(try_write(TEST_VA).vector == FAULT_NONE, "CR0.WP=0: the write succeeds");
	write_cr0(read_cr0() | X86_CR0_WP);
	report(try_write(TEST_VA).vector == PF_VECTOR, "CR0.WP=1 again: #PF");
}

static void test_nx(void)
{
	u8 *page = page_alloc();
	u64 *pde;

	if (!cpu_has(X86_FEATURE_NX)) {
		report_skip("NX not supported");
		return;
	}
	page[0] = 0xc3; /* RET */
	map4k(TEST_VA, (u64)page, PTE_W | PTE_NX);
	report(is_pf(try_call(TEST_VA), PFERR_P | PFERR_I, TEST_VA), "fetch from NX page: #PF(P|I)");
	map4k(TEST_VA, (u64)page, PTE_W);
	report(try_call(TEST_VA).vector == FAULT_NONE, "same page without NX executes");
	pde = pt_entry(root, TEST_VA, PT_2M);
	*pde |= PTE_NX;
	invlpg((void *)TEST_VA);
	report(is_pf(try_call(TEST_VA), PFERR_P | PFERR_I, TEST_VA), "NX in the PDE: #PF(P|I)");
	*pde &= ~PTE_NX;
	invlpg((void *)TEST_VA);
}

/* Make all of PML4 slot 0 (this program included) supervisor-only. */
static void kernel_supervisor(bool on)
{
	if (on)
		root[0] &= ~PTE_U;
	else
		root[0] |= PTE_U;
	pt_flush();
}

static void test_smep_smap(void)
{
	u8 *page = page_alloc();
	bool smep = cpu_has(X86_FEATURE_SMEP), smap = cpu_has(X86_FEATURE_SMAP);

	page[0] = 0xc3;
	map4k(USER_VA, (u64)page, PTE_W | PTE_U);
	kernel_supervisor(true);
	if (smep) {
		report(try_call(USER_VA).vector == FAULT_NONE, "SMEP off: kernel runs user page");
		write_cr4(read_cr4() | X86_CR4_SMEP);
		report(is_pf(try_call(USER_VA), PFERR_P | PFERR_I, USER_VA),
		       "SMEP: kernel fetch from user page: #PF(P|I)");
		write_cr4(read_cr4() & ~X86_CR4_SMEP);
	} else {
		report_skip("SMEP not supported");
	}
	if (smap) {
		write_cr4(read_cr4() | X86_CR4_SMAP);
		report(is_pf(try_read(USER_VA), PFERR_P, USER_VA), "SMAP: kernel read of user page: #PF(P)");
		report(is_pf(try_write(USER_VA), PFERR_P | PFERR_W, USER_VA),
		       "SMAP: kernel write to user page: #PF(P|W)");
		stac();
		report(try_read(USER_VA).vector == FAULT_NONE, "SMAP: allowed after STAC");
		clac();
		report(try_read(USER_VA).vector == PF_VECTOR, "SMAP: faults again after CLAC");
		write_cr4(read_cr4() & ~X86_CR4_SMAP);
	} else {
		report_skip("SMAP not supported");
	}
	kernel_supervisor(false);
}

static void test_global_invlpg(void)
{
	u64 *a = page_alloc(), *b = page_alloc();
	volatile u64 *va = (volatile u64 *)TEST_VA;
	u64 *pte;

	a[0] = 0xaaaa;
	b[0] = 0xbbbb;
	write_cr4(read_cr4() | X86_CR4_PGE);
	pte = map4k(TEST_VA, (u64)a, PTE_W | PTE_G);
	report(*va == 0xaaaa, "global page maps A");
	*pte = (u64)b | PTE_P | PTE_W | PTE_G; /* no invalidation yet */
	invlpg((void *)TEST_VA);
	report(*va == 0xbbbb, "INVLPG makes the new global mapping visible");
	*pte = (u64)a | PTE_P | PTE_W | PTE_G;
	pt_flush(); /* CR4.PGE toggle */
	report(*va == 0xaaaa, "CR4.PGE toggle flushes global entries");
	*pte = (u64)b | PTE_P | PTE_W;
	invlpg((void *)TEST_VA);
	report(*va == 0xbbbb, "non-global mapping of B");
	*pte = (u64)a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	report(*va == 0xaaaa, "MOV CR3 flushes non-global entries");
	write_cr4(read_cr4() & ~X86_CR4_PGE);
}

/* Two pages whose TLB entries collide in any direct-mapped TLB of up to
 * 16384 entries; cetvm keeps the one pushed out in a victim TLB, which
 * INVLPG, MOV CR3 and code execution must invalidate like the TLB. */
#define VA_C1 0x1c0000000ull
#define VA_C2 (VA_C1 + (64ull << 20))

static u32 call_page(u64 va)
{
	return ((u32(*)(void))va)();
}

static void test_tlb_conflict(void)
{
	u64 *a = page_alloc(), *b = page_alloc(), *c = page_alloc();
	volatile u64 *v1 = (volatile u64 *)VA_C1, *v2 = (volatile u64 *)VA_C2;
	u64 *pte1 = map4k(VA_C1, (u64)a, PTE_W);
	map4k(VA_C2, (u64)b, PTE_W);
	a[0] = 0xa0;
	b[0] = 0xb0;
	c[0] = 0xc0;
	bool ok = true;
	for (u64 i = 0; i < 64; i++) {
		v1[1] = i;
		v2[1] = i + 1;
		ok &= *v1 == 0xa0 && *v2 == 0xb0 && v1[1] == i && v2[1] == i + 1;
	}
	report(ok && a[1] == 63 && b[1] == 64, "pages with the same TLB index, accessed in turn");

	(void)*v1;
	(void)*v2; /* v1's entry pushed out */
	*pte1 = (u64)c | PTE_P | PTE_W;
	invlpg((void *)VA_C1);
	report(*v1 == 0xc0, "INVLPG of a pushed-out entry: the new mapping is used");
	(void)*v2;
	*pte1 = (u64)c | PTE_P;
	invlpg((void *)VA_C1);
	report(is_pf(try_write(VA_C1), PFERR_P | PFERR_W, VA_C1),
	       "INVLPG after write access is revoked: #PF(P|W)");
	(void)*v1;
	(void)*v2;
	*pte1 = (u64)a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	report(*v1 == 0xa0, "MOV CR3 flushes pushed-out entries");

	/* MOV EAX, imm32; RET written through v1, which is then pushed out
	 * while still writable, and executed at its identity address. */
	static const u8 stub[] = { 0xb8, 0x11, 0, 0, 0, 0xc3 };
	for (unsigned i = 0; i < sizeof(stub); i++)
		((volatile u8 *)v1)[i] = stub[i];
	(void)*v2;
	u32 first = call_page((u64)a);
	((volatile u8 *)v1)[1] = 0x22;
	(void)*v2;
	u32 second = call_page((u64)a);
	report(first == 0x11 && second == 0x22,
	       "code written through a pushed-out writable entry is seen (%#x, %#x)", first,
	       second);

	/* REP MOVSQ between the two pages, both ways, with the other one
	 * remapped (and invalidated) in between. */
	for (unsigned i = 0; i < 512; i++)
		b[i] = 0xb000 + i, c[i] = 0;
	u64 n = 512;
	asm volatile("rep movsq" : "+S"(v2), "+D"(v1), "+c"(n) : : "memory");
	ok = n == 0 && !memcmp(a, b, 4096);
	*pte1 = (u64)c | PTE_P | PTE_W;
	invlpg((void *)VA_C1);
	v1 = (volatile u64 *)VA_C1, v2 = (volatile u64 *)VA_C2, n = 512;
	asm volatile("rep movsq" : "+S"(v2), "+D"(v1), "+c"(n) : : "memory");
	ok &= n == 0 && !memcmp(c, b, 4096);
	report(ok, "REP MOVSQ between pages with the same TLB index, and after INVLPG");
}

static void test_pcid(void)
{
	u64 cr3 = read_cr3();
	int v;

	if (!cpu_has(X86_FEATURE_PCID)) {
		report_skip("PCID not supported");
		return;
	}
	write_cr3(cr3 | 1); /* bits 11:0 ignored with PCIDE=0 */
	report(write_cr4_safe(read_cr4() | X86_CR4_PCIDE) == GP_VECTOR,
	       "setting CR4.PCIDE with CR3[11:0]!=0: #GP");
	write_cr3(cr3);
	report(write_cr4_safe(read_cr4() | X86_CR4_PCIDE) == FAULT_NONE, "CR4.PCIDE set");
	write_cr3(cr3 | 5);
	report(read_cr3() == (cr3 | 5), "CR3 holds PCID 5 (%#lx)", read_cr3());
	report(*(volatile u64 *)0x100000 == *(u64 *)0x100000, "translation works under PCID 5");
	v = write_cr3_safe(cr3 | 5 | 1ull << 63);
	report(v == FAULT_NONE && read_cr3() == (cr3 | 5),
	       "MOV CR3 with bit 63 (no flush): bit not stored");
	if (cpu_has(X86_FEATURE_INVPCID)) {
		struct { u64 pcid, addr; } desc = { 5, 0 };
		asm volatile(FAULT_TRY("1f") "invpcid %0, %1\n1:" ::"m"(desc), "r"(2ull) : "memory");
		report(fault_take().vector == FAULT_NONE, "INVPCID type 2 (all, with globals)");
		asm volatile(FAULT_TRY("1f") "invpcid %0, %1\n1:" ::"m"(desc), "r"(4ull) : "memory");
		report(fault_take().vector == GP_VECTOR, "INVPCID type 4: #GP");
	} else {
		report_skip("INVPCID not supported");
	}
	write_cr3(cr3);
	write_cr4(read_cr4() & ~X86_CR4_PCIDE);
}

static struct fault user_fault;

static u64 user_access(u64 write)
{
	user_fault = write ? try_write(USER_VA) : try_read(USER_VA);
	return 0;
}

static void test_pku(void)
{
	if (!cpu_has(X86_FEATURE_PKU)) {
		report_skip("protection keys not supported");
		return;
	}
	write_cr4(read_cr4() | X86_CR4_PKE);
	report(cpu_has(X86_FEATURE_OSPKE), "CPUID.7.ECX.OSPKE follows CR4.PKE");
	map4k(USER_VA, (u64)page_alloc(), PTE_W | PTE_U | PTE_PKEY(1));
	wrpkru(1u << 2); /* AD for key 1 */
	report(rdpkru() == 4, "WRPKRU/RDPKRU");
	report(is_pf(try_read(USER_VA), PFERR_P | PFERR_PK, USER_VA),
	       "key 1 access-disabled: kernel read #PF(P|PK)");
	fault_run_user(user_access, 0);
	report(is_pf(user_fault, PFERR_P | PFERR_U | PFERR_PK, USER_VA),
	       "key 1 access-disabled: user read #PF(P|U|PK) (got %#lx)", user_fault.error_code);
	wrpkru(1u << 3); /* WD for key 1 */
	fault_run_user(user_access, 0);
	report(user_fault.vector == FAULT_NONE, "key 1 write-disabled: user read works");
	fault_run_user(user_access, 1);
	report(is_pf(user_fault, PFERR_P | PFERR_W | PFERR_U | PFERR_PK, USER_VA),
	       "key 1 write-disabled: user write #PF(P|W|U|PK)");
	wrpkru(0);
	fault_run_user(user_access, 1);
	report(user_fault.vector == FAULT_NONE, "PKRU=0: user write works");

	/* Those accesses succeeded, so a TLB may hold the page as readable
	 * and writable: a new PKRU must still apply to the very next one. */
	wrpkru(1u << 2);
	fault_run_user(user_access, 0);
	report(is_pf(user_fault, PFERR_P | PFERR_U | PFERR_PK, USER_VA),
	       "AD set after allowed user accesses: the next user read #PF(P|U|PK)");
	wrpkru(0);
	report(try_write(USER_VA).vector == FAULT_NONE, "PKRU=0: kernel write works");
	wrpkru(1u << 3);
	report(try_read(USER_VA).vector == FAULT_NONE &&
		       is_pf(try_write(USER_VA), PFERR_P | PFERR_W | PFERR_PK, USER_VA),
	       "WD set after an allowed kernel write (CR0.WP=1): kernel read works, write "
	       "#PF(P|W|PK)");
	wrpkru(0);
	write_cr4(read_cr4() & ~X86_CR4_PKE);
}

int main(void)
{
	root = pt_root();
	test_sizes();
	test_accessed_dirty();
	test_wp();
	test_nx();
	test_smep_smap();
	test_global_invlpg();
	test_tlb_conflict();
	test_pcid();
	test_pku();
	return report_summary();
}
