/* alloc.h: zeroed 4 KiB pages from the RAM above the guest image. */
#ifndef GUEST_ALLOC_H
#define GUEST_ALLOC_H

#include "types.h"

/* ram_end: first byte past usable RAM (from the multiboot information). */
void alloc_init(u64 ram_end);

/* n zeroed, contiguous, 4 KiB-aligned pages; identity-mapped, so the
 * address is also the physical address. Never freed. Exits on OOM. */
void *page_alloc_n(size_t n);
void *page_alloc(void);

#endif
