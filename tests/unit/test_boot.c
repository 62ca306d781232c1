/* test_boot.c: unit tests of the kernel loaders (Multiboot v1, a.out kludge, ELF64) and their errors. */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/boot.h"
#include "mem.h"
#include "unit.h"

#define MIB (1ull << 20)
#define RAM_SIZE (16 * MIB)
#define IMG_MAX (64 * 1024)
#define MB_MAGIC 0x1BADB002u

struct ctx {
	char dir[64];
	struct guest_ram ram;
	int nfiles;
	char files[64][128];
};

struct tseg {
	u64 paddr, vaddr, filesz, memsz;
	u8 fill;
	u32 type; /* 0 = PT_LOAD */
};

static const char *write_file(struct ctx *c, const char *name, const void *d, size_t n)
{
	char *path = c->files[c->nfiles++], tmp[sizeof(c->files[0])];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s/%s", c->dir, name);
	memcpy(path, tmp, sizeof(tmp));
	f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	return path;
}

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static u32 rd32(const struct ctx *c, u64 a)
{
	u32 v;
	memcpy(&v, c->ram.base + a, 4);
	return v;
}

static u64 rd64(const struct ctx *c, u64 a)
{
	u64 v;
	memcpy(&v, c->ram.base + a, 8);
	return v;
}

/* A Multiboot header at `off`; with aout != NULL, flag 16 and its 5 fields. */
static void put_mb_header(u8 *img, size_t off, u32 flags, const u32 *aout)
{
	if (aout)
		flags |= 1u << 16;
	put32(img + off, MB_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, -(MB_MAGIC + flags));
	for (int i = 0; aout && i < 5; i++)
		put32(img + off + 12 + 4 * i, aout[i]);
}

/* An ELF image: headers at 0, an optional Multiboot header at 0x200,
 * segment i's bytes (filesz of `fill`) at file offset 0x1000 * (i + 1). */
static size_t mk_elf(u8 *img, bool is64, const struct tseg *s, int n, u64 entry, bool mb)
{
	size_t size = 0x1000 * (size_t)(n + 1);
	memset(img, 0, IMG_MAX);
	if (is64) {
		Elf64_Ehdr e = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = 1,
				 .e_entry = entry, .e_phoff = sizeof(e), .e_ehsize = sizeof(e),
				 .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = n };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		memcpy(img, &e, sizeof(e));
		for (int i = 0; i < n; i++) {
			Elf64_Phdr p = { s[i].type ? s[i].type : PT_LOAD, 7, 0x1000 * (u64)(i + 1),
					 s[i].vaddr, s[i].paddr, s[i].filesz, s[i].memsz, 0x1000 };
			memcpy(img + sizeof(e) + i * sizeof(p), &p, sizeof(p));
		}
	} else {
		Elf32_Ehdr e = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = 1,
				 .e_entry = (u32)entry, .e_phoff = sizeof(e), .e_ehsize = sizeof(e),
				 .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = n };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS32;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		memcpy(img, &e, sizeof(e));
		for (int i = 0; i < n; i++) {
			Elf32_Phdr p = { s[i].type ? s[i].type : PT_LOAD, 0x1000 * (u32)(i + 1),
					 (u32)s[i].vaddr, (u32)s[i].paddr, (u32)s[i].filesz,
					 (u32)s[i].memsz, 7, 0x1000 };
			memcpy(img + sizeof(e) + i * sizeof(p), &p, sizeof(p));
		}
	}
	for (int i = 0; i < n; i++)
		if (s[i].filesz <= 0x1000)
			memset(img + 0x1000 * (i + 1), s[i].fill, s[i].filesz);
	if (mb)
		put_mb_header(img, 0x200, 0x3, NULL);
	return size;
}

static int load(struct ctx *c, const char *kernel, const char *initrd, const char *append,
		struct boot_state *st, char *err, size_t errlen)
{
	struct boot_params p = { kernel, initrd, append };
	memset(c->ram.base, 0xaa, c->ram.size);
	memset(st, 0x55, sizeof(*st));
	return boot_load(&p, &c->ram, st, err, errlen);
}

static bool all_bytes(const struct ctx *c, u64 a, u64 n, u8 v)
{
	for (u64 i = 0; i < n; i++)
		if (c->ram.base[a + i] != v)
			return false;
	return true;
}

/* Check one Multiboot mmap entry. */
static bool mmap_is(const struct ctx *c, u64 e, u64 base, u64 len, u32 type)
{
	return rd32(c, e) == 20 && rd64(c, e + 4) == base && rd64(c, e + 12) == len &&
	       rd32(c, e + 20) == type;
}

static void check_mmap(const struct ctx *c, u64 mbi, const char *what)
{
	u64 mm = rd32(c, mbi + 48);
	report(rd32(c, mbi + 44) == 6 * 24, "%s: mmap_length is 6 entries", what);
	report(mmap_is(c, mm, 0, 0x1000, 1) && mmap_is(c, mm + 24, 0x1000, 0x8000, 2) &&
		       mmap_is(c, mm + 48, 0x9000, 0x9fc00 - 0x9000, 1) &&
		       mmap_is(c, mm + 72, 0x9fc00, 0x400, 2) &&
		       mmap_is(c, mm + 96, 0xf0000, 0x10000, 2) &&
		       mmap_is(c, mm + 120, MIB, RAM_SIZE - MIB, 1),
	       "%s: mmap entries", what);
}

static const char *ram_str(const struct ctx *c, u64 a)
{
	return (const char *)c->ram.base + a;
}

static void test_multiboot_elf(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = {
		{ 0x100000, 0x100000, 0x100, 0x100, 0x11, 0 },
		{ 0x101000, 0x101000, 0x10, 0x2000, 0x22, 0 },
	};
	u8 initrd[5000];
	struct boot_state st;
	char err[256], want[300];
	size_t n = mk_elf(img, false, s, 2, 0x100010, true);
	const char *k = write_file(c, "mb.elf", img, n), *ird;
	u64 mbi, mods, mod_start;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (u8)(i * 7);
	ird = write_file(c, "initrd.img", initrd, sizeof(initrd));
	report(load(c, k, ird, "console=ttyS0 foo", &st, err, sizeof(err)) == 0,
	       "multiboot ELF32 loads (%s)", err);
	report(all_bytes(c, 0x100000, 0x100, 0x11) && all_bytes(c, 0x101000, 0x10, 0x22),
	       "multiboot: segments at p_paddr");
	report(all_bytes(c, 0x101010, 0x2000 - 0x10, 0) && c->ram.base[0x103000 - 0x1000] == 0,
	       "multiboot: bss zeroed");
	report(all_bytes(c, 0x2000, 0x7000, 0xaa), "multiboot: no page tables written");
	report(st.regs.rax == 0x2BADB002 && st.regs.rip == 0x100010 && st.regs.rsp == 0x9000 &&
		       st.regs.rflags == 2 && st.regs.rcx == 0 && st.regs.rdx == 0 &&
		       st.regs.rsi == 0 && st.regs.rdi == 0 && st.regs.r15 == 0,
	       "multiboot: EAX magic, EIP, ESP, EFLAGS, others 0");
	report(st.sregs.cr0 == 0x11 && st.sregs.cr3 == 0 && st.sregs.cr4 == 0 &&
		       st.sregs.efer == 0,
	       "multiboot: protected mode, paging off");
	report(st.sregs.cs.selector == 0x18 && st.sregs.cs.db && !st.sregs.cs.l &&
		       st.sregs.cs.type == 0xb && st.sregs.cs.limit == 0xffffffff &&
		       st.sregs.cs.g && st.sregs.cs.present && st.sregs.cs.s,
	       "multiboot: CS flat 32-bit code 0x18");
	report(st.sregs.ds.selector == 0x10 && st.sregs.ss.selector == 0x10 &&
		       st.sregs.es.type == 3 && st.sregs.gs.db && st.sregs.fs.base == 0,
	       "multiboot: data segments flat 0x10");
	report(st.sregs.gdt.base == 0x1000 && st.sregs.gdt.limit == 31 &&
		       rd64(c, 0x1018) == 0x00cf9b000000ffffull &&
		       rd64(c, 0x1010) == 0x00cf93000000ffffull && rd64(c, 0x1000) == 0,
	       "multiboot: GDT in RAM");
	report(st.sregs.tr.type == 0xb && st.sregs.tr.present &&
		       st.sregs.apic_base == 0xfee00900,
	       "multiboot: TR busy, APIC base");

	mbi = st.regs.rbx;
	report(mbi == 0x103000, "multiboot: info at the page after the kernel (0x%llx)",
	       (unsigned long long)mbi);
	report(rd32(c, mbi) == 0x24d, "multiboot: info flags 0x24d");
	report(rd32(c, mbi + 4) == 639 && rd32(c, mbi + 8) == (RAM_SIZE - MIB) / 1024,
	       "multiboot: mem_lower 639, mem_upper");
	snprintf(want, sizeof(want), "%s console=ttyS0 foo", k);
	report(strcmp(ram_str(c, rd32(c, mbi + 16)), want) == 0, "multiboot: cmdline '%s'",
	       ram_str(c, rd32(c, mbi + 16)));
	report(strcmp(ram_str(c, rd32(c, mbi + 64)), "cetvm") == 0, "multiboot: loader name");
	mods = rd32(c, mbi + 24);
	mod_start = rd32(c, mods);
	report(rd32(c, mbi + 20) == 1 && mods > mbi && mods < mbi + 4096,
	       "multiboot: one module");
	report(mod_start % 4096 == 0 && mod_start > rd32(c, mbi + 64) &&
		       rd32(c, mods + 4) - mod_start == sizeof(initrd) &&
		       memcmp(c->ram.base + mod_start, initrd, sizeof(initrd)) == 0,
	       "multiboot: module 0 is the initrd, page aligned, after the info");
	report(strcmp(ram_str(c, rd32(c, mods + 8)), ird) == 0 && rd32(c, mods + 12) == 0,
	       "multiboot: module string is the initrd path");
	check_mmap(c, mbi, "multiboot");
}

static void test_multiboot_minimal(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 } };
	struct boot_state st;
	char err[256], want[300];
	const char *k = write_file(c, "mb2.elf", img, mk_elf(img, false, s, 1, 0x100000, true));

	report(load(c, k, NULL, NULL, &st, err, sizeof(err)) == 0, "multiboot without initrd (%s)",
	       err);
	snprintf(want, sizeof(want), "%s ", k);
	report(strcmp(ram_str(c, rd32(c, st.regs.rbx + 16)), want) == 0,
	       "multiboot: cmdline is '<path> ' without -append");
	report(rd32(c, st.regs.rbx + 20) == 0 && (rd32(c, st.regs.rbx) & 8),
	       "multiboot: mods flag set, 0 modules");
}

static void test_aout(struct ctx *c, u8 *img)
{
	/* header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr */
	const u32 whole[5] = { 0x200040, 0x200000, 0, 0x203000, 0x200080 };
	const u32 part[5] = { 0x200040, 0x200000, 0x200800, 0x202000, 0x200080 };
	struct boot_state st;
	char err[256];
	const char *k;

	memset(img, 0x33, 0x1000);
	put_mb_header(img, 0x40, 0, whole);
	k = write_file(c, "aout.bin", img, 0x1000);
	report(load(c, k, NULL, "", &st, err, sizeof(err)) == 0, "a.out kludge loads (%s)", err);
	report(memcmp(c->ram.base + 0x200000, img, 0x1000) == 0 &&
		       all_bytes(c, 0x201000, 0x2000, 0) && c->ram.base[0x203000] != 0xaa,
	       "a.out kludge: whole file at load_addr, bss to bss_end_addr");
	report(st.regs.rip == 0x200080 && st.regs.rbx == 0x203000 && st.sregs.cr0 == 0x11,
	       "a.out kludge: entry_addr, info after bss");

	put_mb_header(img, 0x40, 0, part);
	k = write_file(c, "aout2.bin", img, 0x1000);
	report(load(c, k, NULL, "", &st, err, sizeof(err)) == 0 &&
		       memcmp(c->ram.base + 0x200000, img, 0x800) == 0 &&
		       all_bytes(c, 0x200800, 0x1800, 0) && st.regs.rbx == 0x202000,
	       "a.out kludge: load_end_addr limits the load (%s)", err);
}

static void test_elf64(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = {
		{ 0x200000, 0xffffffff80200000ull, 0x100, 0x1000, 0x44, 0 },
		{ 0x300000, 0xffffffff80300000ull, 0, 0x3000, 0, 0 },
	};
	struct boot_state st;
	char err[256], want[300];
	const char *k =
		write_file(c, "k64.elf", img, mk_elf(img, true, s, 2, 0xffffffff80200020ull, false));

	report(load(c, k, NULL, "quiet", &st, err, sizeof(err)) == 0, "ELF64 loads (%s)", err);
	report(all_bytes(c, 0x200000, 0x100, 0x44) && all_bytes(c, 0x200100, 0xf00, 0) &&
		       all_bytes(c, 0x300000, 0x3000, 0),
	       "ELF64: segments at p_paddr, bss zeroed");
	report(st.regs.rip == 0x200020, "ELF64: higher-half entry translated to 0x200020");
	report(st.sregs.cr0 == 0x80010033 && st.sregs.cr3 == 0x2000 && st.sregs.cr4 == 0x20 &&
		       st.sregs.efer == 0x500,
	       "ELF64: CR0 PE|MP|ET|NE|WP|PG, CR3, CR4.PAE, EFER LME|LMA");
	report(st.sregs.cs.selector == 8 && st.sregs.cs.l && !st.sregs.cs.db &&
		       st.sregs.ss.selector == 0x10 && st.sregs.ds.selector == 0x10,
	       "ELF64: CS 0x08 64-bit, data 0x10");
	report(rd64(c, 0x1008) == 0x00af9b000000ffffull && st.sregs.gdt.base == 0x1000,
	       "ELF64: GDT 64-bit code descriptor");
	report(st.regs.rax == 0x2BADB002 && st.regs.rbx == 0x303000 && st.regs.rsp == 0x9000 &&
		       st.regs.rdi == 0 && st.regs.rsi == 0 && st.regs.rflags == 2,
	       "ELF64: RAX magic, RBX info, RSP, RDI=RSI=0");
	report(rd64(c, 0x2000) == 0x3003 && rd64(c, 0x2008) == 0 && rd64(c, 0x3000) == 0x4003 &&
		       rd64(c, 0x3018) == 0x7003 && rd64(c, 0x3020) == 0,
	       "ELF64: PML4 and PDPT");
	report(rd64(c, 0x4000) == 0x83 && rd64(c, 0x4008) == 0x200083 &&
		       rd64(c, 0x7ff8) == 0xffe00083ull,
	       "ELF64: 2 MiB identity map of 4 GiB");
	snprintf(want, sizeof(want), "%s quiet", k);
	report(strcmp(ram_str(c, rd32(c, st.regs.rbx + 16)), want) == 0,
	       "ELF64: Multiboot info with cmdline");
	check_mmap(c, st.regs.rbx, "ELF64");
}

static void test_mb_placement(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = {
		{ 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 },
		{ 0x101000, 0x101000, 0x20, 0x20, 0x91, 0 },
	};
	const u32 aout[5] = { 0x300200, 0x300000, 0, 0, 0x300010 };
	struct boot_state st;
	char err[256];
	size_t n = mk_elf(img, false, s, 2, 0x100000, false);
	const char *k;

	put_mb_header(img, 0x200, 0, aout);
	k = write_file(c, "elfaout", img, n);
	report(load(c, k, NULL, "", &st, err, sizeof(err)) == 0 &&
		       memcmp(c->ram.base + 0x300000, img, n) == 0 && st.regs.rip == 0x300010 &&
		       all_bytes(c, 0x100000, 0x20, 0xaa),
	       "ELF32 with flag 16: the a.out fields win over the ELF (%s)", err);
	n = mk_elf(img, false, s, 2, 0x100000, false);
	put_mb_header(img, 0x2000, 0x3, NULL);
	k = write_file(c, "mbfar", img, n);
	report(load(c, k, NULL, "", &st, err, sizeof(err)) == -1 &&
		       strstr(err, "without a Multiboot header"),
	       "Multiboot header beyond the first 8 KiB is not found (%s)", err);
	put_mb_header(img, 0x1ff8, 0x3, NULL);
	k = write_file(c, "mbedge", img, n);
	report(load(c, k, NULL, "", &st, err, sizeof(err)) == -1,
	       "Multiboot header straddling 8 KiB is not found");
}

/* Expect boot_load to fail with a message holding `path` and `what`. */
static void expect_err(struct ctx *c, const char *kernel, const char *initrd, const char *what,
		       const char *name)
{
	struct boot_state st;
	char err[256];
	const char *named = initrd && strstr(name, "initrd") ? initrd : kernel;
	int r = load(c, kernel, initrd, "", &st, err, sizeof(err));
	report(r == -1 && strstr(err, what) && strstr(err, named) && !strchr(err, '\n'),
	       "error: %s -> '%s'", name, err);
}

static void test_file_errors(struct ctx *c, u8 *img)
{
	static const u8 elf_short[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/does-not-exist", c->dir);
	expect_err(c, path, NULL, "No such file", "missing kernel");
	expect_err(c, write_file(c, "empty", "", 0), NULL, "is empty", "empty kernel");
	expect_err(c, c->dir, NULL, "is a directory", "directory as kernel");
	expect_err(c, write_file(c, "text", "hello, world, this is not a kernel\n", 35), NULL,
		   "not an ELF or Multiboot image", "garbage kernel");
	expect_err(c, write_file(c, "elf4", elf_short, 4), NULL, "truncated ELF header",
		   "ELF magic only");
	expect_err(c, write_file(c, "elf10", elf_short, sizeof(elf_short)), NULL,
		   "truncated ELF header", "truncated ELF64 header");
	memset(img, 0, 0x400);
	memcpy(img + 0x202, "HdrS", 4);
	expect_err(c, write_file(c, "bzImage", img, 0x400), NULL,
		   "Linux boot protocol 0.00 is too old", "bzImage");
	memset(img, 0, 0x400);
	put_mb_header(img, 0x100, 0, NULL);
	img[0x108] ^= 1;
	expect_err(c, write_file(c, "badsum", img, 0x400), NULL, "not an ELF or Multiboot image",
		   "Multiboot bad checksum");
	img[0x108] ^= 1;
	expect_err(c, write_file(c, "noaout", img, 0x400), NULL, "without address fields",
		   "Multiboot without flag 16 in a flat file");
	memset(img, 0, 0x400);
	put_mb_header(img, 0x100, 1u << 3, NULL);
	expect_err(c, write_file(c, "mbflags", img, 0x400), NULL, "unsupported features",
		   "Multiboot unknown required flag");
}

static void test_aout_errors(struct ctx *c, u8 *img)
{
	const u32 above[5] = { 0x200000, 0x200100, 0, 0, 0x200000 };
	const u32 past[5] = { 0x200040, 0x200000, 0x300000, 0, 0x200080 };
	const u32 bss[5] = { 0x200040, 0x200000, 0x200800, 0x200400, 0x200080 };
	const u32 low[5] = { 0x8040, 0x8000, 0, 0, 0x8040 };
	const u32 top[5] = { 0xfffff040, 0xfffff000, 0, 0xfffff001, 0xfffff040 };

	memset(img, 0, 0x1000);
	put_mb_header(img, 0x40, 0, above);
	expect_err(c, write_file(c, "a1", img, 0x1000), NULL, "does not fit header_addr",
		   "a.out load_addr above header_addr");
	put_mb_header(img, 0x40, 0, past);
	expect_err(c, write_file(c, "a2", img, 0x1000), NULL, "past the end of the file",
		   "a.out load_end_addr past the file");
	put_mb_header(img, 0x40, 0, bss);
	expect_err(c, write_file(c, "a3", img, 0x1000), NULL, "bss_end_addr",
		   "a.out bss_end_addr below load end");
	put_mb_header(img, 0x40, 0, low);
	expect_err(c, write_file(c, "a4", img, 0x1000), NULL, "overlaps the loader area",
		   "a.out image over the loader area");
	put_mb_header(img, 0x40, 0, top);
	expect_err(c, write_file(c, "a6", img, 0x2000), NULL, "does not fit below 4 GiB",
		   "a.out whole file from 0xfffff000 crosses 4 GiB");
	memset(img, 0, 0x1000);
	put_mb_header(img, 0, 0, NULL);
	put32(img + 4, 1u << 16);
	put32(img + 8, -(MB_MAGIC + (1u << 16)));
	expect_err(c, write_file(c, "a5", img, 16), NULL, "truncated Multiboot header",
		   "a.out header cut by the end of file");
}

static void test_elf_errors(struct ctx *c, u8 *img)
{
	struct tseg s = { 0x200000, 0x200000, 0x100, 0x100, 1, 0 };
	size_t n;

	n = mk_elf(img, true, &s, 1, 0x200000, false);
	put32(img + offsetof(Elf64_Ehdr, e_phnum), 200); /* also clobbers e_shentsize */
	expect_err(c, write_file(c, "e1", img, n), NULL, "program headers extend past",
		   "ELF64 program headers past EOF");
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	expect_err(c, write_file(c, "e2", img, 0x1080), NULL, "segment 0 extends past the end",
		   "ELF64 segment past EOF");
	s.filesz = 0x200;
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	expect_err(c, write_file(c, "e3", img, n), NULL, "exceeds memory size",
		   "ELF64 p_filesz > p_memsz");
	s = (struct tseg){ 0xf00000, 0xf00000, 0x100, 0x200000, 1, 0 };
	n = mk_elf(img, true, &s, 1, 0xf00000, false);
	expect_err(c, write_file(c, "e4", img, n), NULL, "needs 17 MiB of RAM, have 16 MiB; try -m",
		   "ELF64 segment beyond RAM");
	s = (struct tseg){ 0xfff000, 0xfff000, 0x100, 0x1000, 1, 0 };
	n = mk_elf(img, true, &s, 1, 0xfff000, false);
	expect_err(c, write_file(c, "e5", img, n), NULL, "needs 17 MiB of RAM",
		   "no room for the info area after the kernel");
	s = (struct tseg){ 0x7000, 0x7000, 0x100, 0x100, 1, 0 };
	n = mk_elf(img, true, &s, 1, 0x7000, false);
	expect_err(c, write_file(c, "e6", img, n), NULL, "overlaps the loader area",
		   "ELF64 segment over the page tables");
	s = (struct tseg){ 0xffffffffffff0000ull, 0xffffffffffff0000ull, 0, 0x20000, 1, 0 };
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	expect_err(c, write_file(c, "e7", img, n), NULL, "overflows", "ELF64 address overflow");
	s = (struct tseg){ 0x200000, 0x200000, 0x100, 0x100, 1, 0 };
	n = mk_elf(img, true, &s, 1, 0x100000000ull, false);
	expect_err(c, write_file(c, "e8", img, n), NULL, "identity map", "ELF64 entry above 4 GiB");
	n = mk_elf(img, false, &s, 1, 0x2000000, true);
	expect_err(c, write_file(c, "e9", img, n), NULL, "outside RAM",
		   "Multiboot entry outside RAM");
}

static void test_elf_header_errors(struct ctx *c, u8 *img)
{
	struct tseg s = { 0x200000, 0x200000, 0x100, 0x100, 1, 0 };
	size_t n = mk_elf(img, true, &s, 1, 0x200000, false);

	put32(img + offsetof(Elf64_Ehdr, e_machine), EM_386 | (1u << 16)); /* + e_version */
	expect_err(c, write_file(c, "h1", img, n), NULL, "not an x86-64 ELF", "ELF64 for i386");
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	img[offsetof(Elf64_Ehdr, e_type)] = ET_DYN;
	expect_err(c, write_file(c, "h2", img, n), NULL, "not an executable ELF", "ELF64 ET_DYN");
	s.type = PT_NOTE;
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	expect_err(c, write_file(c, "h3", img, n), NULL, "no loadable segments",
		   "ELF64 without PT_LOAD");
	s.type = 0;
	n = mk_elf(img, false, &s, 1, 0x200000, false);
	expect_err(c, write_file(c, "h4", img, n), NULL, "without a Multiboot header",
		   "ELF32 without Multiboot header");
	n = mk_elf(img, true, &s, 1, 0x200000, false);
	img[EI_DATA] = ELFDATA2MSB;
	expect_err(c, write_file(c, "h5", img, n), NULL, "little-endian", "big-endian ELF");
	img[EI_DATA] = ELFDATA2LSB;
	img[EI_CLASS] = 7;
	expect_err(c, write_file(c, "h6", img, n), NULL, "unsupported ELF class",
		   "bad ELF class");
}

/* -initrd as a Multiboot module list: "a x,,y,b,a" is three modules. */
static void test_multiboot_modules(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 } };
	const char *k = write_file(c, "mods.elf", img, mk_elf(img, false, s, 1, 0x100000, true));
	const char *a = write_file(c, "mod-a", "AAAAA", 5), *b = write_file(c, "mod-b", "BB", 2);
	char list[600], want[3][300], err[256];
	struct boot_state st;
	u64 mbi, mods, prev_end = 0;
	bool ok = true;

	snprintf(list, sizeof(list), "%s x,,y z,%s,%s", a, b, a);
	snprintf(want[0], sizeof(want[0]), "%s x,y z", a);
	snprintf(want[1], sizeof(want[1]), "%s", b);
	snprintf(want[2], sizeof(want[2]), "%s", a);
	report(load(c, k, list, "", &st, err, sizeof(err)) == 0, "modules: three load (%s)", err);
	mbi = st.regs.rbx;
	mods = rd32(c, mbi + 24);
	report(rd32(c, mbi + 20) == 3 && (rd32(c, mbi) & 8), "modules: mods_count 3");
	for (int i = 0; i < 3; i++) {
		u32 start = rd32(c, mods + 16 * i), end = rd32(c, mods + 16 * i + 4);
		const char *data = i == 1 ? "BB" : "AAAAA";
		ok = ok && start % 4096 == 0 && start >= prev_end && end - start == strlen(data) &&
		     memcmp(c->ram.base + start, data, strlen(data)) == 0 &&
		     !strcmp(ram_str(c, rd32(c, mods + 16 * i + 8)), want[i]) &&
		     rd32(c, mods + 16 * i + 12) == 0;
		prev_end = end;
	}
	report(ok, "modules: in order, page aligned, contents, strings with args and ',,' as ','");
	report(prev_end <= RAM_SIZE && mods + 48 <= rd32(c, mbi + 48),
	       "modules: the list does not run into the memory map");

	snprintf(list, sizeof(list), "%s,", a);
	expect_err(c, k, list, "module 1 has no file name", "initrd: empty module after ','");
	snprintf(list, sizeof(list), "%s, x", a);
	expect_err(c, k, list, "module 1 has no file name", "initrd: module without a file");
	snprintf(list, sizeof(list), "%s,%s/no-mod arg", a, c->dir);
	snprintf(want[0], sizeof(want[0]), "%s/no-mod: No such file", c->dir);
	report(load(c, k, list, "", &st, err, sizeof(err)) == -1 && strstr(err, want[0]) &&
		       !strstr(err, "arg"),
	       "initrd: a missing module file is named without its arguments -> '%s'", err);
}

static void test_initrd_errors(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 } };
	const char *k = write_file(c, "ik.elf", img, mk_elf(img, false, s, 1, 0x100000, true));
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/no-initrd", c->dir);
	expect_err(c, k, path, "No such file", "missing initrd");
	snprintf(path, sizeof(path), "%s/big-initrd", c->dir);
	memcpy(c->files[c->nfiles++], path, sizeof(path));
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 20 * MIB) < 0)
		perror(path);
	close(fd);
	expect_err(c, k, path, "needs 22 MiB of RAM, have 16 MiB; try -m", "initrd beyond RAM");
}

static void test_misc_errors(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 } };
	const char *k = write_file(c, "m.elf", img, mk_elf(img, false, s, 1, 0x100000, true));
	struct boot_params p = { k, NULL, NULL };
	struct guest_ram small = { .base = c->ram.base, .size = MIB };
	struct boot_state st;
	char err[256], tiny[8];
	struct guest_ram save = c->ram;

	report(boot_load(&p, &small, &st, err, sizeof(err)) == -1 &&
		       strstr(err, "needs 2 MiB of RAM"),
	       "error: RAM below 2 MiB -> '%s'", err);
	p.kernel = "/nonexistent/kernel/with/a/long/name";
	memset(tiny, 'x', sizeof(tiny));
	report(boot_load(&p, &save, &st, tiny, sizeof(tiny)) == -1 && strlen(tiny) == 7,
	       "error: message truncated to a small buffer");
	report(boot_load(&p, &save, &st, NULL, 0) == -1, "error: errlen 0 is fine");
}

/* The Multiboot map and mem_upper follow the PC layout (mem.h): available
 * RAM from 1 MiB to the end of low RAM, then at 4 GiB; the hole between is
 * not in the map. RAM is mapped lazily and boot_load touches a few pages,
 * so this does not cost gigabytes. */
static void test_mmap_layouts(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0x100000, 0x100000, 0x20, 0x20, 0x90, 0 } };
	static const struct {
		u64 size, low;
		const char *what;
	} cases[] = {
		{ 128 * MIB, 128 * MIB, "128 MiB" },
		{ 3072 * MIB, 3072 * MIB, "3 GiB" },
		{ 3584 * MIB, 3072 * MIB, "3.5 GiB" },
		{ 4096 * MIB, 3072 * MIB, "4 GiB" },
		{ 8192 * MIB, 3072 * MIB, "8 GiB" },
	};
	const char *k = write_file(c, "layout.elf", img, mk_elf(img, false, s, 1, 0x100000, true));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ctx rc = *c;
		struct boot_params p = { k, NULL, NULL };
		struct boot_state st;
		char err[256];
		u64 low = cases[i].low, high = cases[i].size - low;
		if (guest_ram_alloc(&rc.ram, cases[i].size)) {
			report(0, "mmap %s: allocation", cases[i].what);
			continue;
		}
		int r = boot_load(&p, &rc.ram, &st, err, sizeof(err));
		u64 mbi = st.regs.rbx, mm = r ? 0 : rd32(&rc, mbi + 48);
		report(r == 0 && rd32(&rc, mbi + 44) == (high ? 7 : 6) * 24 &&
			       mmap_is(&rc, mm + 120, MIB, low - MIB, 1) &&
			       (!high || mmap_is(&rc, mm + 144, 1ull << 32, high, 1)),
		       "mmap %s: available 1 MiB-%#llx%s", cases[i].what, (unsigned long long)low,
		       high ? " and from 4 GiB" : "");
		report(r == 0 && rd32(&rc, mbi + 8) == (low - MIB) / 1024,
		       "mmap %s: mem_upper %uk is low RAM above 1 MiB", cases[i].what,
		       r ? 0 : rd32(&rc, mbi + 8));
		guest_ram_free(&rc.ram);
	}
}

/* With 5 GiB, a segment in the hole is refused: the hole is not RAM. */
static void test_hole_segment(struct ctx *c, u8 *img)
{
	static const struct tseg s[] = { { 0xd0000000, 0xd0000000, 0x20, 0x20, 0x90, 0 } };
	const char *k = write_file(c, "hole.elf", img, mk_elf(img, false, s, 1, 0xd0000000, true));
	struct ctx rc = *c;
	struct boot_params p = { k, NULL, NULL };
	struct boot_state st;
	char err[256];
	if (guest_ram_alloc(&rc.ram, 5120 * MIB)) {
		report(0, "hole: allocation");
		return;
	}
	report(boot_load(&p, &rc.ram, &st, err, sizeof(err)) == -1 &&
		       strstr(err, "RAM below 4 GiB ends at 3072 MiB"),
	       "error: a segment in the hole below 4 GiB -> '%s'", err);
	guest_ram_free(&rc.ram);
}

/* Zeroing RAM for a (re)boot gives the pages back instead of writing them. */
static void test_ram_zero(void)
{
	struct guest_ram r;
	unsigned char vec[4];
	bool zero = true;

	if (guest_ram_alloc(&r, 64 * MIB)) {
		report(0, "guest_ram_alloc 64 MiB");
		return;
	}
	for (u64 a = 0; a < r.size; a += MIB)
		r.base[a] = 0x5a;
	guest_ram_zero(&r);
	report(mincore(r.base, 4 * 4096, vec) == 0 && !(vec[0] & 1) && !(vec[3] & 1),
	       "guest_ram_zero: touched pages are no longer resident");
	for (u64 a = 0; a < r.size && zero; a += MIB / 2)
		zero = r.base[a] == 0;
	report(zero, "guest_ram_zero: RAM reads as zero");
	guest_ram_free(&r);
}

int main(void)
{
	static struct ctx c;
	u8 *img = calloc(1, IMG_MAX);

	snprintf(c.dir, sizeof(c.dir), "/tmp/cetvm-test-boot-XXXXXX");
	if (!img || !mkdtemp(c.dir) || guest_ram_alloc(&c.ram, RAM_SIZE) < 0) {
		perror("setup");
		return 1;
	}
	test_multiboot_elf(&c, img);
	test_multiboot_minimal(&c, img);
	test_multiboot_modules(&c, img);
	test_aout(&c, img);
	test_elf64(&c, img);
	test_mb_placement(&c, img);
	test_file_errors(&c, img);
	test_aout_errors(&c, img);
	test_elf_errors(&c, img);
	test_elf_header_errors(&c, img);
	test_initrd_errors(&c, img);
	test_misc_errors(&c, img);
	test_mmap_layouts(&c, img);
	test_hole_segment(&c, img);
	test_ram_zero();
	for (int i = 0; i < c.nfiles; i++)
		unlink(c.files[i]);
	rmdir(c.dir);
	guest_ram_free(&c.ram);
	free(img);
	return 0;
}
