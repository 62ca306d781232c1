/* mem.h: guest RAM, its PC layout and its one bounds-checked translation.
 *
 * Guest RAM is one host mapping of `size` bytes, laid out in guest-physical
 * space as on a PC (and QEMU's "pc" machine), which leaves a hole below
 * 4 GiB for the APICs, PCI and firmware:
 *   low RAM   gpa [0, low)                  host offset = gpa
 *   high RAM  gpa [4 GiB, 4 GiB + high)     host offset = gpa - 4 GiB + low
 * with low + high = size. mem_high_size() is the rule: with 3.5 GiB or more,
 * 3 GiB stay below 4 GiB (i440fx gigabyte alignment) and the rest goes
 * above; with less, all of it is low RAM. The hole [low, 4 GiB) is never
 * RAM: the interpreter sends it to the MMIO bus, kvm has no slot there.
 *
 * Every host-side access to guest memory (loaders, devices, snapshots, the
 * interpreter, the kvm slots) goes through mem_offset() or guest_ptr(),
 * which refuse any range that is not wholly inside one region, using
 * overflow-checked arithmetic. The interpreter's TLB caches the pointers
 * it got from the same check. Snapshots walk RAM by host offset.
 */
#ifndef CETVM_MEM_H
#define CETVM_MEM_H

#include "types.h"

#define MEM_HIGH_BASE (1ull << 32) /* where high RAM starts */
#define MEM_NONE (~0ull)           /* mem_offset(): not RAM */

struct guest_ram {
	u8 *base;
	u64 size; /* all of it: host offsets 0 .. size */
	u64 high; /* the last `high` bytes sit at MEM_HIGH_BASE; 0: all low */
};

/* How many of `size` bytes of RAM a PC puts above 4 GiB. */
u64 mem_high_size(u64 size);

/* Host offset of guest-physical [gpa, gpa + len) when all of it is RAM of
 * one region (low RAM [0, low), high RAM at MEM_HIGH_BASE of `high` bytes),
 * else MEM_NONE. The caller guarantees low <= MEM_HIGH_BASE when high != 0
 * (mem_layout_ok). */
static inline u64 mem_offset(u64 low, u64 high, u64 gpa, u64 len)
{
	u64 end;
	if (__builtin_add_overflow(gpa, len, &end))
		return MEM_NONE;
	if (end <= low)
		return gpa;
	if (gpa >= MEM_HIGH_BASE && end - MEM_HIGH_BASE <= high)
		return gpa - MEM_HIGH_BASE + low;
	return MEM_NONE;
}

/* A layout mem_offset() can use: high within size, low RAM below 4 GiB
 * when there is high RAM. */
static inline bool mem_layout_ok(u64 size, u64 high)
{
	return high <= size && (high == 0 || size - high <= MEM_HIGH_BASE);
}

static inline u64 guest_ram_low(const struct guest_ram *ram)
{
	return ram->size - ram->high;
}

/* Host pointer to [gpa, gpa+len) if it lies inside RAM, else NULL. */
static inline void *guest_ptr(const struct guest_ram *ram, u64 gpa, u64 len)
{
	u64 off = mem_offset(guest_ram_low(ram), ram->high, gpa, len);
	return off == MEM_NONE ? NULL : ram->base + off;
}

/* Allocate `size` bytes of zeroed RAM (anonymous mmap, touched lazily) in
 * the PC layout of mem_high_size(). Returns 0 or -errno. */
int guest_ram_alloc(struct guest_ram *ram, u64 size);
void guest_ram_free(struct guest_ram *ram);
/* Make all of RAM read as zero again (a reboot) without touching it: the
 * pages go back to the kernel and fault in as zero pages, so a large -m
 * costs no host memory until the guest uses it. */
void guest_ram_zero(struct guest_ram *ram);

#endif
