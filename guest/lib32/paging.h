/* paging.h (32-bit kit): 32-bit paging (SDM Vol. 3A, 5.3), off at startup.
 *
 * paging_on() identity-maps 0-4 GiB with 4 MiB supervisor pages (CR4.PSE)
 * and turns paging on. pt_map_4k() splits the 4 MiB page holding va into
 * 4 KiB pages (identity, as before) and maps va to pa with the leaf flags
 * given (PTE_P included, or not for a not-present page).
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include "types.h"

#define PTE_P (1u << 0)
#define PTE_W (1u << 1)
#define PTE_U (1u << 2)
#define PTE_A (1u << 5)
#define PTE_D (1u << 6)
#define PTE_PS (1u << 7)

void paging_on(void);
void paging_off(void);
void pt_map_4k(u32 va, u32 pa, u32 flags);

/* A supervisor shadow-stack page (leaf R/W=0, D=1; spec/cet.md 5.2) for
 * one frame of the image: `va` is its shadow-stack mapping, `alias` the
 * frame's writable identity address. Needs paging_on(). */
struct ss_page {
	u32 va;
	volatile u32 *alias;
};
struct ss_page ss_page_new(void);
/* A free supervisor token in the top 8 bytes of the page; returns its va. */
u32 ss_page_token(const struct ss_page *p);

#endif
