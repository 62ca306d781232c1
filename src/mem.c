/* mem.c: guest RAM allocation. */
#include "mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* QEMU's pc machine: RAM below 4 GiB ends at 3.5 GiB at most; from
 * 3.5 GiB on, only 3 GiB stay low so that the hole is 1 GiB aligned. */
#define PC_LOW_MAX 0xe0000000ull
#define PC_LOW_ALIGNED 0xc0000000ull

u64 mem_high_size(u64 size)
{
	return size >= PC_LOW_MAX ? size - PC_LOW_ALIGNED : 0;
}

int guest_ram_alloc(struct guest_ram *ram, u64 size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	ram->base = p;
	ram->size = size;
	ram->high = mem_high_size(size);
	return 0;
}

void guest_ram_free(struct guest_ram *ram)
{
	if (ram->base)
		munmap(ram->base, ram->size);
	ram->base = NULL;
	ram->size = ram->high = 0;
}

void guest_ram_zero(struct guest_ram *ram)
{
	/* MADV_DONTNEED on a private anonymous mapping: the next access sees
	 * zero-filled pages (madvise(2)). */
	if (ram->size && madvise(ram->base, ram->size, MADV_DONTNEED) != 0)
		memset(ram->base, 0, ram->size);
}
