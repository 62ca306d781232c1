/* multiboot.c: Multiboot v1 header parsing (incl. the a.out kludge) and the info structure. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "loader.h"

/* Multiboot v1 spec §3.1 (header) and §3.3 (information structure). */
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_SEARCH_LEN 8192u
#define MB_HDR_LEN 12u      /* magic, flags, checksum */
#define MB_HDR_AOUT_LEN 32u /* + header/load/load_end/bss_end/entry addr */
#define MB_FLAG_PAGE_ALIGN (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE (1u << 2) /* accepted, no framebuffer given (as QEMU) */
#define MB_FLAG_AOUT_KLUDGE (1u << 16)
#define MB_FLAGS_KNOWN_REQUIRED (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

/* Information structure: offsets and flag bits. */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE 128 /* the v1 struct is 116 bytes; the rest stays 0 */
#define MBI_F_MEM (1u << 0)
#define MBI_F_CMDLINE (1u << 2)
#define MBI_F_MODS (1u << 3)
#define MBI_F_MMAP (1u << 6)
#define MBI_F_LOADER_NAME (1u << 9)
#define MB_MOD_SIZE 16
#define MB_MMAP_ENTRY_SIZE 24 /* u32 size (= 20, not counting itself), u64 base, len, u32 type */
#define MB_MMAP_MAX 7
#define MB_MEM_AVAILABLE 1
#define MB_MEM_RESERVED 2
#define MB_LOADER_NAME "cetvm"

#define LOW_MEM_END 0x9fc00ull /* start of the EBDA */
#define MIB (1ull << 20)
#define GIB4 (1ull << 32)

/* Offset of the first valid header (4-aligned, whole 12 bytes inside the
 * first 8 KiB, checksum right), or -1. */
static long mb_find_header(const u8 *d, u64 size)
{
	u64 lim = size < MB_SEARCH_LEN ? size : MB_SEARCH_LEN;
	for (u64 off = 0; off + MB_HDR_LEN <= lim; off += 4) {
		u32 magic = boot_get32(d + off), flags = boot_get32(d + off + 4);
		if (magic == MB_HEADER_MAGIC && magic + flags + boot_get32(d + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

/* The a.out kludge (flag 16): the header names where the file goes. */
static int mb_parse_aout(struct boot_image *img, u64 off, char *err, size_t errlen)
{
	const u8 *h = img->data + off;
	u32 header_addr, load_addr, load_end, bss_end;
	u64 text_off, load_size, mem_size;

	if (off + MB_HDR_AOUT_LEN > MB_SEARCH_LEN || off + MB_HDR_AOUT_LEN > img->size)
		return boot_err(err, errlen, img->path, "truncated Multiboot header");
	header_addr = boot_get32(h + 12);
	load_addr = boot_get32(h + 16);
	load_end = boot_get32(h + 20);
	bss_end = boot_get32(h + 24);
	if (load_addr > header_addr || header_addr - load_addr > off)
		return boot_err(err, errlen, img->path,
				"Multiboot load_addr 0x%x does not fit header_addr 0x%x", load_addr,
				header_addr);
	text_off = off - (header_addr - load_addr);
	if (load_end == 0) {
		load_size = img->size - text_off;
	} else {
		if (load_end < load_addr)
			return boot_err(err, errlen, img->path,
					"Multiboot load_end_addr 0x%x is below load_addr 0x%x",
					load_end, load_addr);
		load_size = load_end - load_addr;
		if (load_size > img->size - text_off)
			return boot_err(err, errlen, img->path,
					"Multiboot load range extends past the end of the file");
	}
	/* 32-bit load addresses: the image must end at or below 4 GiB. */
	if ((u64)load_addr + load_size > GIB4)
		return boot_err(err, errlen, img->path,
				"Multiboot image at load_addr 0x%x does not fit below 4 GiB",
				load_addr);
	mem_size = load_size;
	if (bss_end != 0) {
		if ((u64)bss_end < load_addr + load_size)
			return boot_err(err, errlen, img->path,
					"Multiboot bss_end_addr 0x%x is below the loaded image",
					bss_end);
		mem_size = bss_end - (u64)load_addr;
	}
	if (mem_size == 0)
		return boot_err(err, errlen, img->path, "Multiboot image is empty");
	img->nseg = 1;
	img->seg[0] = (struct boot_seg){ load_addr, load_addr, text_off, load_size, mem_size };
	img->entry = boot_get32(h + 28);
	img->long_mode = false;
	return 0;
}

int boot_mb_parse(struct boot_image *img, char *err, size_t errlen)
{
	long off = mb_find_header(img->data, img->size);
	u32 flags;

	if (off < 0)
		return BOOT_MB_NONE;
	flags = boot_get32(img->data + off + 4);
	/* Bits 0-15 are requirements: refuse any we do not know (§3.1.2). */
	if (flags & 0xffffu & ~MB_FLAGS_KNOWN_REQUIRED)
		return boot_err(err, errlen, img->path,
				"Multiboot header requires unsupported features (flags 0x%x)",
				flags);
	if (!(flags & MB_FLAG_AOUT_KLUDGE))
		return BOOT_MB_ELF;
	return mb_parse_aout(img, (u64)off, err, errlen) ? -1 : BOOT_MB_AOUT;
}

int boot_mb_parse_modules(const char *list, struct boot_mb_info *mi, char *err, size_t errlen)
{
	size_t len = strlen(list);
	char *out, *start;

	mi->nmods = 0;
	/* Unescaped strings, then the paths: each at most as long as the list. */
	mi->strings = start = out = malloc(2 * (len + 1));
	if (!out)
		return boot_err(err, errlen, list, "out of memory");
	for (const char *p = list;; p++) {
		if (*p == ',' && p[1] == ',') {
			*out++ = *p++;
		} else if (*p && *p != ',') {
			*out++ = *p;
		} else {
			*out++ = '\0';
			if (mi->nmods == BOOT_MB_MAX_MODS)
				return boot_err(err, errlen, list, "more than %d Multiboot modules",
						BOOT_MB_MAX_MODS);
			mi->mod[mi->nmods++].string = start;
			start = out;
			if (!*p)
				break;
		}
	}
	for (unsigned i = 0; i < mi->nmods; i++) {
		const char *s = mi->mod[i].string;
		size_t n = strcspn(s, " ");
		if (n == 0)
			return boot_err(err, errlen, list, "Multiboot module %u has no file name", i);
		memcpy(out, s, n);
		out[n] = '\0';
		mi->mod[i].path = out;
		out += n + 1;
	}
	return 0;
}

void boot_mb_free_modules(struct boot_mb_info *mi)
{
	free(mi->strings);
	mi->strings = NULL;
	mi->nmods = 0;
}

/* Layout of the info area, relative to its start. */
struct mb_layout {
	u64 mods, mmap, cmdline, modstr, loader, end;
};

static void mb_layout(const struct boot_mb_info *mi, struct mb_layout *l)
{
	l->mods = MBI_SIZE;
	l->mmap = l->mods + mi->nmods * MB_MOD_SIZE;
	l->cmdline = l->mmap + MB_MMAP_MAX * MB_MMAP_ENTRY_SIZE;
	l->modstr = l->cmdline + strlen(mi->kernel_path) + 1 + strlen(mi->append) + 1;
	l->loader = l->modstr;
	for (unsigned i = 0; i < mi->nmods; i++)
		l->loader += strlen(mi->mod[i].string) + 1;
	l->end = l->loader + sizeof(MB_LOADER_NAME);
}

u64 boot_mb_info_size(const struct boot_mb_info *mi)
{
	struct mb_layout l;
	mb_layout(mi, &l);
	return l.end;
}

static void mb_mmap_entry(u8 *p, u64 base, u64 len, u32 type)
{
	boot_put32(p, MB_MMAP_ENTRY_SIZE - 4);
	boot_put64(p + 4, base);
	boot_put64(p + 12, len);
	boot_put32(p + 20, type);
}

/* The memory map of boot.h; returns its length in bytes. */
static u32 mb_write_mmap(u8 *p, const struct guest_ram *ram)
{
	static const struct {
		u64 base, end;
		u32 type;
	} low[] = {
		{ 0, BOOT_AREA_START, MB_MEM_AVAILABLE },
		{ BOOT_AREA_START, BOOT_AREA_END, MB_MEM_RESERVED },
		{ BOOT_AREA_END, LOW_MEM_END, MB_MEM_AVAILABLE },
		{ LOW_MEM_END, 0xa0000, MB_MEM_RESERVED },
		{ 0xf0000, MIB, MB_MEM_RESERVED },
	};
	u32 n = 0;
	for (; n < ARRAY_SIZE(low); n++)
		mb_mmap_entry(p + n * MB_MMAP_ENTRY_SIZE, low[n].base, low[n].end - low[n].base,
			      low[n].type);
	mb_mmap_entry(p + n++ * MB_MMAP_ENTRY_SIZE, MIB, guest_ram_low(ram) - MIB, MB_MEM_AVAILABLE);
	if (ram->high)
		mb_mmap_entry(p + n++ * MB_MMAP_ENTRY_SIZE, MEM_HIGH_BASE, ram->high, MB_MEM_AVAILABLE);
	return n * MB_MMAP_ENTRY_SIZE;
}

static void mb_write_strings(u8 *base, const struct boot_mb_info *mi, const struct mb_layout *l)
{
	size_t klen = strlen(mi->kernel_path);
	memcpy(base + l->cmdline, mi->kernel_path, klen);
	base[l->cmdline + klen] = ' ';
	memcpy(base + l->cmdline + klen + 1, mi->append, strlen(mi->append) + 1);
	u64 at = l->modstr;
	for (unsigned i = 0; i < mi->nmods; i++) {
		memcpy(base + at, mi->mod[i].string, strlen(mi->mod[i].string) + 1);
		at += strlen(mi->mod[i].string) + 1;
	}
	memcpy(base + l->loader, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
}

int boot_mb_write_info(const struct boot_mb_info *mi, struct guest_ram *ram, u64 addr,
		       char *err, size_t errlen)
{
	struct mb_layout l;
	u8 *p;
	u64 upper_end = guest_ram_low(ram) < GIB4 ? guest_ram_low(ram) : GIB4;

	mb_layout(mi, &l);
	p = guest_ptr(ram, addr, l.end);
	if (!p || addr + l.end > GIB4 || guest_ram_low(ram) < BOOT_MIN_RAM)
		return boot_err(err, errlen, mi->kernel_path,
				"no room for the Multiboot information at 0x%llx",
				(unsigned long long)addr);
	memset(p, 0, l.end);
	boot_put32(p + MBI_FLAGS,
	      MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP | MBI_F_LOADER_NAME);
	boot_put32(p + MBI_MEM_LOWER, LOW_MEM_END >> 10);
	boot_put32(p + MBI_MEM_UPPER, (u32)((upper_end - MIB) >> 10));
	boot_put32(p + MBI_CMDLINE, (u32)(addr + l.cmdline));
	boot_put32(p + MBI_MODS_COUNT, mi->nmods);
	boot_put32(p + MBI_MODS_ADDR, (u32)(addr + l.mods));
	boot_put32(p + MBI_MMAP_LENGTH, mb_write_mmap(p + l.mmap, ram));
	boot_put32(p + MBI_MMAP_ADDR, (u32)(addr + l.mmap));
	boot_put32(p + MBI_BOOT_LOADER_NAME, (u32)(addr + l.loader));
	for (unsigned i = 0, str = (u32)(addr + l.modstr); i < mi->nmods; i++) {
		const struct boot_mb_module *m = &mi->mod[i];
		boot_put32(p + l.mods + i * MB_MOD_SIZE, (u32)m->addr);
		boot_put32(p + l.mods + i * MB_MOD_SIZE + 4, (u32)(m->addr + m->size));
		boot_put32(p + l.mods + i * MB_MOD_SIZE + 8, str);
		str += (u32)strlen(m->string) + 1;
	}
	mb_write_strings(p, mi, &l);
	return 0;
}
