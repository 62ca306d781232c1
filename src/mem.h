/* mem.h: guest RAM and its one bounds-checked accessor.
 *
 * Guest-physical RAM is one host mapping from gpa 0 to size. Every host-side
 * access to guest memory (loaders, devices, snapshots, the kvm accelerator)
 * goes through guest_ptr(), which refuses ranges that leave RAM, using
 * overflow-checked arithmetic. The interpreter's TLB caches the pointers it
 * got from the same check.
 */
#ifndef CETVM_MEM_H
#define CETVM_MEM_H

#include "types.h"

struct guest_ram {
	u8 *base;
	u64 size;
};

/* Host pointer to [gpa, gpa+len) if it lies inside RAM, else NULL. */
static inline void *guest_ptr(const struct guest_ram *ram, u64 gpa, u64 len)
{
	u64 end;
	if (__builtin_add_overflow(gpa, len, &end) || end > ram->size)
		return NULL;
	return ram->base + gpa;
}

/* Allocate zeroed RAM (anonymous mmap). Returns 0 or -errno. */
int guest_ram_alloc(struct guest_ram *ram, u64 size);
void guest_ram_free(struct guest_ram *ram);
/* Make all of RAM read as zero again (a reboot) without touching it: the
 * pages go back to the kernel and fault in as zero pages, so a large -m
 * costs no host memory until the guest uses it. */
void guest_ram_zero(struct guest_ram *ram);

#endif
