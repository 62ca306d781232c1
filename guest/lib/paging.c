/* paging.c: page-table walks, table creation and large-page splitting. */
#include "paging.h"

#include "alloc.h"
#include "x86.h"

static unsigned index_of(u64 va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

u64 *pt_root(void)
{
	return (u64 *)(read_cr3() & PTE_ADDR);
}

void pt_flush(void)
{
	u64 cr4 = read_cr4();

	/* Toggling CR4.PGE flushes global entries too (SDM Vol. 3A, 4.10.4.1). */
	if (cr4 & X86_CR4_PGE) {
		write_cr4(cr4 & ~X86_CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

/* Replace the large-page entry *e (mapping level-`level` pages) by a table
 * of 512 smaller pages with the same translation and permissions. */
static void split(u64 *e, int level)
{
	u64 *t = page_alloc();
	u64 small = pt_level_size(level - 1);
	u64 addr_mask = PTE_ADDR & ~(pt_level_size(level) - 1);
	u64 base = *e & addr_mask;
	u64 flags = *e & ~addr_mask & ~PTE_PS;

	if (level - 1 > PT_4K)
		flags |= PTE_PS;
	for (int i = 0; i < 512; i++)
		t[i] = (base + i * small) | flags;
	*e = (u64)t | PTE_P | PTE_W | PTE_U | (*e & (PTE_A | PTE_D));
	pt_flush();
}

u64 *pt_entry(u64 *root, u64 va, int level)
{
	u64 *table = root;

	for (int l = PT_PML4; l > level; l--) {
		u64 *e = &table[index_of(va, l)];
		if (!(*e & PTE_P))
			*e = (u64)page_alloc() | PTE_P | PTE_W | PTE_U;
		else if (*e & PTE_PS)
			split(e, l);
		table = (u64 *)(*e & PTE_ADDR);
	}
	return &table[index_of(va, level)];
}

u64 *pt_lookup(u64 *root, u64 va, int *level)
{
	u64 *table = root;

	for (int l = PT_PML4; l >= PT_4K; l--) {
		u64 *e = &table[index_of(va, l)];
		if (!(*e & PTE_P))
			return NULL;
		if (l == PT_4K || (l <= PT_1G && (*e & PTE_PS))) {
			if (level)
				*level = l;
			return e;
		}
		table = (u64 *)(*e & PTE_ADDR);
	}
	return NULL;
}

u64 *pt_map(u64 *root, u64 va, u64 pa, int level, u64 flags)
{
	u64 *e = pt_entry(root, va, level);

	*e = pa | flags | PTE_P | (level > PT_4K ? PTE_PS : 0);
	invlpg((void *)va);
	return e;
}
