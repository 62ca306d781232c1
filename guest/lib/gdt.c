/* gdt.c: GDT descriptor encoding and access, shared by the 64-bit kit and
 * the 32-bit kit (each defines its own `gdt` table in desc.c; SDM Vol.
 * 3A, 3.4.5). */
#include "desc.h"

u64 gdt_make_desc(u32 base, u32 limit, u8 access, u8 flags)
{
	return (limit & 0xffffull) | (u64)(base & 0xffffff) << 16 | (u64)access << 40 |
	       (u64)((limit >> 16) & 0xf) << 48 | (u64)(flags & 0xf) << 52 |
	       (u64)(base >> 24) << 56;
}

u16 gdt_set(int idx, u32 base, u32 limit, u8 access, u8 flags)
{
	gdt[idx] = gdt_make_desc(base, limit, access, flags);
	return (u16)(idx << 3);
}

u64 gdt_get_raw(int idx)
{
	return gdt[idx];
}

void gdt_set_raw(int idx, u64 desc)
{
	gdt[idx] = desc;
}
