/* paging.h: build and change 4-level page tables (SDM Vol. 3A, 4.5).
 *
 * At boot, 0..4 GiB is identity-mapped with 2 MiB pages, writable and user
 * accessible. pt_entry() walks to the entry of any level for an address,
 * creating missing tables and splitting large pages on the way, so a test
 * can change one 4 KiB page inside the identity map or map new addresses
 * (e.g. above 4 GiB). Levels: 1 = PTE (4 KiB), 2 = PDE (2 MiB),
 * 3 = PDPTE (1 GiB), 4 = PML4E.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include "types.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_PKEY(k) ((u64)(k) << 59)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PT_4K 1
#define PT_2M 2
#define PT_1G 3
#define PT_PML4 4

/* The current PML4 (from CR3). */
u64 *pt_root(void);

/* The level-`level` entry for va, creating tables (P|W|U) and splitting
 * large pages above it as needed. */
u64 *pt_entry(u64 *root, u64 va, int level);

/* The present leaf entry for va and its level, or NULL. */
u64 *pt_lookup(u64 *root, u64 va, int *level);

/* Map one page of the given level: entry = pa | flags | P (| PS above 4 KiB),
 * then INVLPG va. Returns the entry. */
u64 *pt_map(u64 *root, u64 va, u64 pa, int level, u64 flags);

/* Flush the whole TLB, global entries included. */
void pt_flush(void);

/* Bytes covered by one entry of a level. */
static inline u64 pt_level_size(int level)
{
	return 1ull << (12 + 9 * (level - 1));
}

#endif
