/* test_linux_boot.c: the Linux boot protocol loader on synthetic bzImages:
 * where the kernel and initrd land, the zero page (setup header, command
 * line, E820 map, initrd fields), the 64-bit entry state, and refusals. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "mem.h"
#include "unit.h"

#define RAM (64u << 20)
#define KSIZE 0x3000u /* protected-mode part of the fake kernel */

static char dir[] = "/tmp/cetvm-linuxboot-XXXXXX";

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static u32 get32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

/* A bzImage with 2 setup sectors, protocol 2.15, 64-bit entry. */
static const char *make_bzimage(const char *name, u16 version, u8 xloadflags)
{
	static char path[256];
	u8 *img = calloc(1, 3 * 512 + KSIZE);
	img[0x1f1] = 2;                       /* setup_sects */
	img[0x201] = 0x6a;                    /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = (u8)version;
	img[0x207] = (u8)(version >> 8);
	img[0x211] = 0x01;                    /* LOADED_HIGH */
	put32(img + 0x22c, 0x7fffffff);       /* initrd_addr_max */
	put32(img + 0x230, 0x200000);         /* kernel_alignment */
	img[0x234] = 1;                       /* relocatable */
	img[0x236] = xloadflags;
	put32(img + 0x238, 2047);             /* cmdline_size */
	put32(img + 0x258, 0x1000000);        /* pref_address */
	put32(img + 0x260, 0x400000);         /* init_size */
	memset(img + 3 * 512, 0xab, KSIZE);   /* the "kernel" */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fwrite(img, 1, 3 * 512 + KSIZE, f);
	fclose(f);
	free(img);
	return path;
}

static void test_good(struct guest_ram *ram)
{
	char initrd[256], err[256];
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	FILE *f = fopen(initrd, "wb");
	for (int i = 0; i < 5000; i++)
		fputc(i & 0xff, f);
	fclose(f);
	struct boot_params p = { make_bzimage("vmlinuz", 0x20f, 1), initrd, "console=ttyS0 quiet" };
	struct boot_state st;
	memset(ram->base, 0, ram->size);
	int r = boot_load(&p, ram, &st, err, sizeof(err));
	report(r == 0, "bzImage 2.15 with a 64-bit entry loads (%s)", r ? err : "ok");
	if (r)
		return;
	const u8 *zp = ram->base + st.regs.rsi;
	report(ram->base[0x1000000] == 0xab && ram->base[0x1000000 + KSIZE - 1] == 0xab,
	       "protected-mode kernel at pref_address 16 MiB");
	report(st.regs.rip == 0x1000200 && st.sregs.cs.selector == 0x10 && st.sregs.cs.l &&
		       st.sregs.ds.selector == 0x18 && (st.sregs.efer & 0x400) && st.regs.rsi == 0x9000,
	       "64-bit entry at load + 0x200, CS 0x10, DS 0x18, RSI = zero page");
	report(!memcmp(zp + 0x202, "HdrS", 4) && zp[0x210] == 0xff && (zp[0x211] & 0x81) == 0x81,
	       "zero page: setup header copied, type_of_loader 0xff, CAN_USE_HEAP");
	report(!strcmp((const char *)ram->base + get32(zp + 0x228), "console=ttyS0 quiet"),
	       "command line at cmd_line_ptr");
	report(!memcmp(ram->base + 0xf0000, "RSD PTR ", 8) && ram->base[0xf0000 + 15] == 2,
	       "ACPI RSDP (revision 2) at 0xf0000, in the BIOS area");
	u32 rd = get32(zp + 0x218), rs = get32(zp + 0x21c);
	report(rs == 5000 && rd % 4096 == 0 && rd + rs <= RAM && rd >= 0x1400000 &&
		       ram->base[rd + 4999] == (4999 & 0xff),
	       "initrd at the top of RAM, page aligned, above the kernel (0x%x)", rd);
	u8 n = zp[0x1e8];
	u64 last_addr, last_size;
	memcpy(&last_addr, zp + 0x2d0 + 20 * (n - 1), 8);
	memcpy(&last_size, zp + 0x2d0 + 20 * (n - 1) + 8, 8);
	report(n == 4 && last_addr == 0x100000 && last_addr + last_size == RAM &&
		       get32(zp + 0x2d0 + 20 * (n - 1) + 16) == 1,
	       "E820: 4 entries, RAM from 1 MiB to the end");
}

/* One E820 entry of the zero page. */
static bool e820_is(const u8 *zp, unsigned i, u64 addr, u64 size, u32 type)
{
	u64 a, s;
	memcpy(&a, zp + 0x2d0 + 20 * i, 8);
	memcpy(&s, zp + 0x2d0 + 20 * i + 8, 8);
	return a == addr && s == size && get32(zp + 0x2d0 + 20 * i + 16) == type;
}

/* A bzImage whose initrd may go anywhere below 4 GiB (initrd_addr_max). */
static const char *make_bzimage_initrd_4g(void)
{
	const char *path = make_bzimage("vmlinuz-4g", 0x20f, 1);
	u8 v[4];
	put32(v, 0xffffffff);
	FILE *f = fopen(path, "r+b");
	if (!f || fseek(f, 0x22c, SEEK_SET) || fwrite(v, 1, 4, f) != 4)
		perror(path);
	if (f)
		fclose(f);
	return path;
}

/* The E820 map follows the PC layout (mem.h): RAM from 1 MiB to the end of
 * low RAM, then RAM at 4 GiB; nothing in the hole. The initrd goes to the
 * top of low RAM, never into the hole. RAM is mapped lazily: boot_load
 * touches a few pages only. */
static void test_e820_layouts(const char *initrd)
{
	static const struct {
		u64 size, low;
		const char *what;
	} cases[] = {
		{ 128ull << 20, 128ull << 20, "128 MiB" },
		{ 3ull << 30, 3ull << 30, "3 GiB" },
		{ 0xe0000000ull, 3ull << 30, "3.5 GiB" },
		{ 4ull << 30, 3ull << 30, "4 GiB" },
		{ 8ull << 30, 3ull << 30, "8 GiB" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct guest_ram ram;
		char err[256];
		struct boot_params p = { make_bzimage_initrd_4g(), initrd, "" };
		struct boot_state st;
		u64 low = cases[i].low, high = cases[i].size - low;
		if (guest_ram_alloc(&ram, cases[i].size)) {
			report(0, "E820 %s: allocation", cases[i].what);
			continue;
		}
		int r = boot_load(&p, &ram, &st, err, sizeof(err));
		const u8 *zp = ram.base + 0x9000;
		u32 rd = get32(zp + 0x218), rs = get32(zp + 0x21c);
		report(r == 0 && zp[0x1e8] == (high ? 5 : 4) &&
			       e820_is(zp, 3, 0x100000, low - 0x100000, 1) &&
			       (!high || e820_is(zp, 4, 1ull << 32, high, 1)),
		       "E820 %s: RAM 1 MiB-%#llx%s", cases[i].what, (unsigned long long)low,
		       high ? " and above 4 GiB" : "");
		report(r == 0 && rs == 5000 && rd == ((low - rs) & ~0xfffull),
		       "E820 %s: initrd at the top of low RAM (%#x)", cases[i].what, rd);
		guest_ram_free(&ram);
	}
}

static void expect_refused(struct guest_ram *ram, const char *name, u16 version, u8 xlf,
			   const char *want)
{
	char err[256];
	struct boot_params p = { make_bzimage(name, version, xlf), NULL, "" };
	struct boot_state st;
	int r = boot_load(&p, ram, &st, err, sizeof(err));
	report(r != 0 && strstr(err, want), "%s refused: \"%s\"", name, err);
}

int main(void)
{
	struct guest_ram ram, small;
	if (!mkdtemp(dir) || guest_ram_alloc(&ram, RAM) || guest_ram_alloc(&small, 16u << 20))
		return report(0, "setup"), 0;
	test_good(&ram);
	char initrd[256];
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	test_e820_layouts(initrd);
	expect_refused(&ram, "old-protocol", 0x20b, 1, "too old");
	expect_refused(&ram, "32-bit-only", 0x20f, 0, "not a 64-bit bzImage");
	expect_refused(&small, "needs-ram", 0x20f, 1, "try -m");
	guest_ram_free(&ram);
	guest_ram_free(&small);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 0;
	return 0;
}
