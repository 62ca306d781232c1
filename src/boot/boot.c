/* boot.c: boot_load(): read the kernel, pick the format, place everything in RAM, set the entry state. */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

#define PAGE 4096ull
#define MIB (1ull << 20)
#define GIB4 (1ull << 32)
#define MAX_KERNEL_FILE (1ull << 30)
#define EBDA_START 0x9fc00ull

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define APIC_DEFAULT_BASE 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

int boot_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (errlen == 0)
		return -1;
	n = snprintf(err, errlen, "%s: ", path);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Loaders place everything in low RAM (mem.h): below 4 GiB, and with
 * 3.5 GiB or more of RAM, below 3 GiB. */
static int err_ram(char *err, size_t errlen, const char *path, u64 need_end,
		   const struct guest_ram *ram)
{
	unsigned long long need = need_end / MIB + (need_end % MIB != 0);
	if (ram->high)
		return boot_err(err, errlen, path,
				"needs RAM up to %llu MiB, but RAM below 4 GiB ends at %llu MiB", need,
				(unsigned long long)(guest_ram_low(ram) / MIB));
	return boot_err(err, errlen, path, "needs %llu MiB of RAM, have %llu MiB; try -m", need,
			(unsigned long long)(ram->size / MIB));
}

/* Open `path` as a regular file; returns the fd, or -1 with err set. */
static int open_regular(const char *path, u64 *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return boot_err(err, errlen, path, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return boot_err(err, errlen, path, "%s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return boot_err(err, errlen, path, "%s",
				S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
	}
	*size = (u64)st.st_size;
	return fd;
}

static int read_all(int fd, u8 *buf, u64 len, const char *path, char *err, size_t errlen)
{
	u64 done = 0;
	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return boot_err(err, errlen, path, "read error: %s", strerror(errno));
		if (r == 0)
			return boot_err(err, errlen, path, "file shrank while reading");
		done += (u64)r;
	}
	return 0;
}

/* Read the whole kernel file into a malloc'ed buffer. */
static int read_kernel(const char *path, u8 **data, u64 *size, char *err, size_t errlen)
{
	int fd = open_regular(path, size, err, errlen), r;
	if (fd < 0)
		return -1;
	if (*size == 0) {
		close(fd);
		return boot_err(err, errlen, path, "is empty");
	}
	if (*size > MAX_KERNEL_FILE) {
		close(fd);
		return boot_err(err, errlen, path, "is too large (%llu MiB)",
				(unsigned long long)(*size / MIB));
	}
	*data = malloc(*size);
	if (!*data) {
		close(fd);
		return boot_err(err, errlen, path, "out of memory reading the file");
	}
	r = read_all(fd, *data, *size, path, err, errlen);
	close(fd);
	return r;
}

static int parse_kernel(struct boot_image *img, char *err, size_t errlen)
{
	int cls = boot_elf_class(img->data, img->size), mb;

	if (cls != 0 && cls != 1) /* ELF64, or an ELF it will report on */
		return boot_elf_parse(img, err, errlen);
	mb = boot_mb_parse(img, err, errlen);
	if (mb < 0)
		return -1;
	if (mb == BOOT_MB_AOUT)
		return 0;
	if (cls == 1 && mb == BOOT_MB_ELF)
		return boot_elf_parse(img, err, errlen);
	if (cls == 1) {
		if (boot_elf_parse(img, err, errlen))
			return -1; /* a header problem says more than "no Multiboot" */
		return boot_err(err, errlen, img->path,
				"32-bit ELF without a Multiboot header");
	}
	if (mb == BOOT_MB_ELF)
		return boot_err(err, errlen, img->path,
				"Multiboot header without address fields (flag 16) in a non-ELF file");
	return boot_err(err, errlen, img->path, "not an ELF or Multiboot image");
}

/* Paging is off (or an identity map) at entry: an entry point inside a
 * segment's virtual range becomes its physical address. */
static u64 entry_phys(const struct boot_image *img)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct boot_seg *s = &img->seg[i];
		if (img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			return s->paddr + (img->entry - s->vaddr);
	}
	return img->entry;
}

static int load_segments(const struct boot_image *img, struct guest_ram *ram, u64 *end,
			 char *err, size_t errlen)
{
	*end = 0;
	for (int i = 0; i < img->nseg; i++) {
		const struct boot_seg *s = &img->seg[i];
		u64 send = s->paddr + s->memsz; /* no overflow: checked by the parsers */
		u8 *dst;
		if (s->paddr < BOOT_AREA_END && send > BOOT_AREA_START)
			return boot_err(err, errlen, img->path,
					"segment at 0x%llx-0x%llx overlaps the loader area 0x%x-0x%x",
					(unsigned long long)s->paddr,
					(unsigned long long)(send - 1), BOOT_AREA_START,
					BOOT_AREA_END - 1);
		dst = guest_ptr(ram, s->paddr, s->memsz);
		if (!dst)
			return err_ram(err, errlen, img->path, send, ram);
		memcpy(dst, img->data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
		if (send > *end)
			*end = send;
	}
	return 0;
}

/* Where the info area goes: after the kernel, but not across the EBDA and
 * BIOS hole when a kernel sits in low memory. */
static u64 info_addr(u64 kernel_end, u64 info_size)
{
	u64 a = align_up(kernel_end > BOOT_AREA_END ? kernel_end : BOOT_AREA_END, PAGE);
	if (a < MIB && a + info_size > EBDA_START)
		a = MIB;
	return a;
}

/* Read the initrd straight into guest RAM at addr (page aligned by the caller). */
int boot_load_initrd(const char *path, struct guest_ram *ram, u64 addr, u64 *size,
		     char *err, size_t errlen)
{
	int fd = open_regular(path, size, err, errlen), r;
	u8 *dst;
	if (fd < 0)
		return -1;
	dst = guest_ptr(ram, addr, *size);
	if (!dst || addr + *size > GIB4) {
		close(fd);
		if (addr + *size > GIB4 && *size < GIB4)
			return boot_err(err, errlen, path, "does not fit below 4 GiB at 0x%llx",
					(unsigned long long)addr);
		return err_ram(err, errlen, path, addr + *size, ram);
	}
	r = read_all(fd, dst, *size, path, err, errlen);
	close(fd);
	return r;
}

/* The modules, each at the next page after the one before. */
static int load_modules(struct boot_mb_info *mi, struct guest_ram *ram, u64 end, char *err,
			size_t errlen)
{
	for (unsigned i = 0; i < mi->nmods; i++) {
		struct boot_mb_module *m = &mi->mod[i];
		m->addr = align_up(end, PAGE);
		if (boot_load_initrd(m->path, ram, m->addr, &m->size, err, errlen))
			return -1;
		end = m->addr + m->size;
	}
	return 0;
}

static int place_info(const struct boot_params *p, struct guest_ram *ram, u64 kernel_end,
		      u64 *mbi, char *err, size_t errlen)
{
	struct boot_mb_info mi = { .kernel_path = p->kernel, .append = p->append ? p->append : "" };
	u64 size, end;
	int r = -1;

	if (p->initrd && boot_mb_parse_modules(p->initrd, &mi, err, errlen))
		goto out;
	size = boot_mb_info_size(&mi);
	*mbi = info_addr(kernel_end, size);
	end = *mbi + size;
	if (end > guest_ram_low(ram))
		r = err_ram(err, errlen, p->kernel, end, ram);
	else if (end > GIB4)
		r = boot_err(err, errlen, p->kernel,
			     "ends above 4 GiB; no room for the Multiboot information");
	else if (!load_modules(&mi, ram, end, err, errlen))
		r = boot_mb_write_info(&mi, ram, *mbi, err, errlen);
out:
	boot_mb_free_modules(&mi);
	return r;
}

/* GDT (SDM Vol. 3 §3.4.5): null, 64-bit code, flat data, flat 32-bit code. */
static int write_gdt(struct guest_ram *ram)
{
	static const u64 gdt[4] = {
		0,
		0x00af9b000000ffffull, /* 0x08: code, L=1, G=1, DPL 0, accessed */
		0x00cf93000000ffffull, /* 0x10: data, D/B=1, G=1, writable, accessed */
		0x00cf9b000000ffffull, /* 0x18: code, D=1, G=1 */
	};
	u8 *p = guest_ptr(ram, BOOT_GDT_ADDR, sizeof(gdt));
	if (!p)
		return -1;
	memcpy(p, gdt, sizeof(gdt));
	return 0;
}

/* Identity map of 0-4 GiB with 2 MiB pages (SDM Vol. 3 §4.5). */
int boot_write_page_tables(struct guest_ram *ram)
{
	u64 *pml4 = guest_ptr(ram, BOOT_PML4_ADDR, PAGE);
	u64 *pdpt = guest_ptr(ram, BOOT_PDPT_ADDR, PAGE);
	u64 *pd = guest_ptr(ram, BOOT_PD_ADDR, 4 * PAGE);
	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
	for (u64 i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE) | PTE_P | PTE_RW;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

struct vcpu_segment boot_flat_seg(u16 sel, u8 type, bool code64)
{
	return (struct vcpu_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				      .type = type, .present = 1, .dpl = 0, .db = !code64,
				      .s = 1, .l = code64, .g = 1 };
}

/* System state shared by every entry: TR/LDTR as after RESET, the APIC
 * base, and for long mode paging through the identity map. */
void boot_entry_sregs(struct vcpu_sregs *s, bool lm)
{
	/* TR and LDTR as after RESET (SDM Vol. 3 §10.1.1); KVM wants TR busy. */
	s->tr = (struct vcpu_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->ldt = (struct vcpu_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s->idt = (struct vcpu_dtable){ 0, 0 };
	s->apic_base = APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
	if (lm) {
		s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
			 X86_CR0_PG;
		s->cr3 = BOOT_PML4_ADDR;
		s->cr4 = X86_CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	} else {
		s->cr0 = X86_CR0_PE | X86_CR0_ET;
	}
}

static void set_entry_state(struct boot_state *st, bool lm, u64 entry, u64 mbi)
{
	struct vcpu_sregs *s = &st->sregs;
	struct vcpu_segment data = boot_flat_seg(BOOT_SEL_DATA, 3, false);

	memset(st, 0, sizeof(*st));
	st->regs.rax = BOOT_MB_BOOTLOADER_MAGIC;
	st->regs.rbx = mbi;
	st->regs.rsp = BOOT_STACK_TOP;
	st->regs.rip = entry;
	st->regs.rflags = 0x2;
	s->cs = lm ? boot_flat_seg(BOOT_SEL_CODE64, 0xb, true) : boot_flat_seg(BOOT_SEL_CODE32, 0xb, false);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt = (struct vcpu_dtable){ BOOT_GDT_ADDR, 4 * 8 - 1 };
	boot_entry_sregs(s, lm);
}

static int check_entry(const struct boot_image *img, u64 entry, const struct guest_ram *ram,
		       char *err, size_t errlen)
{
	if (img->long_mode && entry >= GIB4)
		return boot_err(err, errlen, img->path,
				"entry point 0x%llx is outside the 4 GiB identity map",
				(unsigned long long)entry);
	if (!guest_ptr(ram, entry, 1))
		return boot_err(err, errlen, img->path, "entry point 0x%llx is outside RAM",
				(unsigned long long)entry);
	return 0;
}

static int load_image(const struct boot_params *p, struct boot_image *img,
		      struct guest_ram *ram, struct boot_state *st, char *err, size_t errlen)
{
	u64 kernel_end, mbi, entry;

	if (parse_kernel(img, err, errlen))
		return -1;
	entry = entry_phys(img);
	if (load_segments(img, ram, &kernel_end, err, errlen) ||
	    check_entry(img, entry, ram, err, errlen) ||
	    place_info(p, ram, kernel_end, &mbi, err, errlen))
		return -1;
	if (write_gdt(ram) || (img->long_mode && boot_write_page_tables(ram)))
		return err_ram(err, errlen, p->kernel, BOOT_MIN_RAM, ram);
	set_entry_state(st, img->long_mode, entry, mbi);
	return 0;
}

int boot_load(const struct boot_params *p, struct guest_ram *ram, struct boot_state *st,
	      char *err, size_t errlen)
{
	struct boot_image img = { .path = p->kernel };
	u8 *data = NULL;
	int r;

	if (errlen)
		err[0] = '\0';
	if (ram->size < BOOT_MIN_RAM)
		return err_ram(err, errlen, p->kernel, BOOT_MIN_RAM, ram);
	r = read_kernel(p->kernel, &data, &img.size, err, errlen);
	if (r == 0 && boot_is_bzimage(data, img.size) && boot_elf_class(data, img.size) == 0) {
		r = boot_linux_load(p, data, img.size, ram, st, err, errlen);
	} else if (r == 0) {
		img.data = data;
		r = load_image(p, &img, ram, st, err, errlen);
	}
	free(data);
	return r;
}
