/* linux.c: the Linux x86 boot protocol: a bzImage entered at its 64-bit entry.
 *
 * Documentation/arch/x86/boot.rst: the protected-mode kernel (after the
 * real-mode setup sectors) is loaded at its preferred address, a "zero page"
 * (struct boot_params) carries the setup header, the command line, the
 * initrd and the E820 memory map, and the CPU enters startup_64 (load
 * address + 0x200) in 64-bit mode with RSI pointing at the zero page,
 * CS = __BOOT_CS (0x10), DS/ES/SS = __BOOT_DS (0x18) and the memory it
 * needs identity-mapped.
 *
 * Guest-physical layout (below the kernel):
 *   0x1000  GDT: 0x10 64-bit code, 0x18 flat data
 *   0x2000  identity map of 0-4 GiB (boot.c)
 *   0x9000  the zero page
 *   0xa000  the command line (up to 4 KiB)
 *   kernel  at its preferred address (pref_address, aligned to
 *           kernel_alignment), init_size bytes reserved for it
 *   initrd  at the top of low RAM (mem.h) and initrd_addr_max
 *   0xf0000 the ACPI tables, RSDP first (acpi.h), in the BIOS area the
 *           E820 map reserves, where the kernel searches for the RSDP
 */
#include <string.h>

#include "acpi.h"
#include "loader.h"

#define ZERO_PAGE 0x9000ull
#define CMDLINE 0xa000ull
#define CMDLINE_MAX 4096u
#define LINUX_CS 0x10
#define LINUX_DS 0x18

/* Offsets in the setup header / zero page (boot.rst, "The real-mode kernel header"). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_MAX 0x22c
#define HDR_KERNEL_ALIGN 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define E820_RAM 1
#define E820_RESERVED 2

bool boot_is_bzimage(const u8 *d, u64 size)
{
	return size >= 0x206 && memcmp(d + HDR_MAGIC, "HdrS", 4) == 0;
}

struct linux_image {
	u64 setup_size; /* bytes before the protected-mode kernel */
	u64 load;       /* where the protected-mode kernel goes */
	u64 init_size;  /* memory it needs from `load` on */
	u64 initrd_max;
	u32 cmdline_max;
};

static int check_header(const u8 *d, u64 size, const char *path, struct linux_image *li,
			char *err, size_t errlen)
{
	u16 version = (u16)(d[HDR_VERSION] | d[HDR_VERSION + 1] << 8);
	if (size < 0x268 || version < 0x20c)
		return boot_err(err, errlen, path,
				"Linux boot protocol %u.%02u is too old (2.12 or later needed)",
				version >> 8, version & 0xff);
	if (!(d[HDR_XLOADFLAGS] & XLF_KERNEL_64) || !(d[HDR_LOADFLAGS] & LOADED_HIGH))
		return boot_err(err, errlen, path, "not a 64-bit bzImage (no 64-bit entry point)");
	unsigned sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
	li->setup_size = (sects + 1) * 512ull;
	if (li->setup_size >= size)
		return boot_err(err, errlen, path, "truncated: no protected-mode kernel");
	u64 align = boot_get32(d + HDR_KERNEL_ALIGN);
	li->load = boot_get64(d + HDR_PREF_ADDRESS);
	if (d[HDR_RELOCATABLE] && align && (align & (align - 1)) == 0)
		li->load = (li->load + align - 1) & ~(align - 1);
	li->init_size = boot_get32(d + HDR_INIT_SIZE);
	if (li->init_size < size - li->setup_size)
		li->init_size = size - li->setup_size;
	li->initrd_max = boot_get32(d + HDR_INITRD_MAX);
	li->cmdline_max = boot_get32(d + HDR_CMDLINE_SIZE);
	if (li->cmdline_max == 0 || li->cmdline_max >= CMDLINE_MAX)
		li->cmdline_max = CMDLINE_MAX - 1;
	return 0;
}

static void put_e820(u8 *zp, unsigned n, u64 addr, u64 size, u32 type)
{
	u8 *e = zp + BP_E820_TABLE + 20 * n;
	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	boot_put32(e + 16, type);
}

/* The E820 map: the low 640 KiB minus the EBDA, low RAM from 1 MiB, and
 * RAM above 4 GiB if any (mem.h). The loader's own pages below 0xb000 are
 * left usable: the kernel copies the zero page and command line before it
 * reuses low memory. */
static void write_e820(u8 *zp, const struct guest_ram *ram)
{
	static const struct { u64 addr, size; u32 type; } fixed[] = {
		{ 0, 0x9fc00, E820_RAM },
		{ 0x9fc00, 0x400, E820_RESERVED },
		{ 0xf0000, 0x10000, E820_RESERVED },
	};
	unsigned n = 0;
	for (; n < 3; n++)
		put_e820(zp, n, fixed[n].addr, fixed[n].size, fixed[n].type);
	put_e820(zp, n++, 0x100000, guest_ram_low(ram) - 0x100000, E820_RAM);
	if (ram->high)
		put_e820(zp, n++, MEM_HIGH_BASE, ram->high, E820_RAM);
	zp[BP_E820_ENTRIES] = (u8)n;
}

static int write_zero_page(const u8 *d, const struct linux_image *li, struct guest_ram *ram,
			   const char *append, u64 initrd, u64 initrd_size)
{
	u8 *zp = guest_ptr(ram, ZERO_PAGE, 4096);
	char *cl = guest_ptr(ram, CMDLINE, CMDLINE_MAX);
	if (!zp || !cl)
		return -1;
	memset(zp, 0, 4096);
	/* The setup header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	u64 hdr_end = HDR_MAGIC + d[HDR_JUMP + 1];
	memcpy(zp + HDR_SETUP_SECTS, d + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	zp[HDR_VID_MODE] = 0xff; /* "normal": no video mode change */
	zp[HDR_VID_MODE + 1] = 0xff;
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined loader */
	zp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	zp[HDR_HEAP_END] = 0x00;
	zp[HDR_HEAP_END + 1] = 0xfe;
	boot_put32(zp + HDR_CMD_LINE_PTR, (u32)CMDLINE);
	boot_put32(zp + HDR_RAMDISK_IMAGE, (u32)initrd);
	boot_put32(zp + HDR_RAMDISK_SIZE, (u32)initrd_size);
	memset(cl, 0, CMDLINE_MAX);
	strncpy(cl, append ? append : "", li->cmdline_max);
	write_e820(zp, ram);
	return 0;
}

static void set_linux_state(struct boot_state *st, u64 entry)
{
	struct vcpu_sregs *s = &st->sregs;
	memset(st, 0, sizeof(*st));
	st->regs.rsi = ZERO_PAGE;
	st->regs.rip = entry;
	st->regs.rsp = BOOT_STACK_TOP;
	st->regs.rflags = 0x2;
	s->cs = boot_flat_seg(LINUX_CS, 0xb, true);
	s->ds = s->es = s->fs = s->gs = s->ss = boot_flat_seg(LINUX_DS, 3, false);
	s->gdt = (struct vcpu_dtable){ BOOT_GDT_ADDR, 4 * 8 - 1 };
	boot_entry_sregs(s, true);
}

static int write_linux_gdt(struct guest_ram *ram)
{
	static const u64 gdt[4] = {
		0, 0,
		0x00af9b000000ffffull, /* 0x10 __BOOT_CS: 64-bit code */
		0x00cf93000000ffffull, /* 0x18 __BOOT_DS: flat data */
	};
	u8 *p = guest_ptr(ram, BOOT_GDT_ADDR, sizeof(gdt));
	if (!p)
		return -1;
	memcpy(p, gdt, sizeof(gdt));
	return 0;
}

/* The initrd at the top of RAM below 4 GiB and initrd_addr_max. */
static int place_initrd(const struct boot_params *p, const struct linux_image *li,
			struct guest_ram *ram, u64 *addr, u64 *size, char *err, size_t errlen)
{
	*addr = *size = 0;
	if (!p->initrd)
		return 0;
	u64 top = guest_ram_low(ram) < (1ull << 32) ? guest_ram_low(ram) : (1ull << 32);
	if (li->initrd_max && top > li->initrd_max + 1)
		top = li->initrd_max + 1;
	/* Read it once at the kernel's end to learn its size, then move it up. */
	u64 tmp = (li->load + li->init_size + 0xfff) & ~0xfffull;
	if (boot_load_initrd(p->initrd, ram, tmp, size, err, errlen))
		return -1;
	if (*size > top || ((top - *size) & ~0xfffull) < tmp)
		return boot_err(err, errlen, p->initrd, "does not fit in RAM above the kernel; try -m");
	*addr = (top - *size) & ~0xfffull;
	memmove(guest_ptr(ram, *addr, *size), guest_ptr(ram, tmp, *size), *size);
	return 0;
}

static int write_acpi(struct guest_ram *ram)
{
	u8 *p = guest_ptr(ram, ACPI_TABLES_ADDR, ACPI_TABLES_ROOM);
	return p && acpi_build(p, ACPI_TABLES_ROOM, ACPI_TABLES_ADDR) ? 0 : -1;
}

int boot_linux_load(const struct boot_params *p, const u8 *data, u64 size,
		    struct guest_ram *ram, struct boot_state *st, char *err, size_t errlen)
{
	struct linux_image li = { 0 };
	u64 initrd, initrd_size;
	if (check_header(data, size, p->kernel, &li, err, errlen))
		return -1;
	u64 pm_size = size - li.setup_size;
	u8 *dst = guest_ptr(ram, li.load, li.init_size);
	if (!dst || li.load + li.init_size > (1ull << 32))
		return boot_err(err, errlen, p->kernel,
				"needs RAM up to 0x%llx (%llu MiB); have %llu MiB; try -m",
				(unsigned long long)(li.load + li.init_size),
				(unsigned long long)((li.load + li.init_size + (1 << 20) - 1) >> 20),
				(unsigned long long)(ram->size >> 20));
	memcpy(dst, data + li.setup_size, pm_size);
	if (place_initrd(p, &li, ram, &initrd, &initrd_size, err, errlen))
		return -1;
	if (write_zero_page(data, &li, ram, p->append, initrd, initrd_size) ||
	    write_linux_gdt(ram) || boot_write_page_tables(ram) || write_acpi(ram))
		return boot_err(err, errlen, p->kernel, "RAM too small for the boot data");
	set_linux_state(st, li.load + 0x200);
	return 0;
}
