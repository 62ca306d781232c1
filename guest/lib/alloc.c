/* alloc.c: a bump allocator over the RAM after _end. */
#include "alloc.h"

#include "boot.h"
#include "printf.h"
#include "string.h"

extern char _end[];

static u64 heap_next, heap_end;

void alloc_init(u64 ram_end)
{
	heap_next = ALIGN_UP((uintptr_t)_end, 4096);
	/* The boot page tables identity-map 4 GiB; stay well inside. */
	heap_end = ram_end < (1ull << 30) ? ram_end : (1ull << 30);
}

void *page_alloc_n(size_t n)
{
	u64 p = heap_next;

	if (heap_next + n * 4096 > heap_end) {
		printf("FAIL: out of guest memory (%zu pages)\n", n);
		exit(3);
	}
	heap_next += n * 4096;
	return memset((void *)(uintptr_t)p, 0, n * 4096);
}

void *page_alloc(void)
{
	return page_alloc_n(1);
}
