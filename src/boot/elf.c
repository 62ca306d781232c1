/* elf.c: ELF32/ELF64 executable parsing into loadable segments (no RAM access). */
#include <elf.h>
#include <string.h>

#include "loader.h"

int boot_elf_class(const u8 *data, u64 size)
{
	if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
		return 0;
	if (size <= EI_CLASS)
		return -1;
	return data[EI_CLASS];
}

/* The fields both classes share, widened to 64 bits. */
struct elf_hdr {
	bool is64;
	u16 type, machine, phentsize, phnum;
	u64 entry, phoff;
};

static int elf_read_hdr(const struct boot_image *img, struct elf_hdr *h, char *err,
			size_t errlen)
{
	int cls = boot_elf_class(img->data, img->size);
	if (cls != ELFCLASS32 && cls != ELFCLASS64) {
		if (cls < 0)
			return boot_err(err, errlen, img->path, "truncated ELF header");
		return boot_err(err, errlen, img->path, "unsupported ELF class %d", cls);
	}
	h->is64 = cls == ELFCLASS64;
	if (img->size < (h->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return boot_err(err, errlen, img->path, "truncated ELF header");
	if (img->data[EI_DATA] != ELFDATA2LSB)
		return boot_err(err, errlen, img->path, "not a little-endian ELF");
	if (h->is64) {
		Elf64_Ehdr e;
		memcpy(&e, img->data, sizeof(e));
		*h = (struct elf_hdr){ true, e.e_type, e.e_machine, e.e_phentsize, e.e_phnum,
				       e.e_entry, e.e_phoff };
	} else {
		Elf32_Ehdr e;
		memcpy(&e, img->data, sizeof(e));
		*h = (struct elf_hdr){ false, e.e_type, e.e_machine, e.e_phentsize, e.e_phnum,
				       e.e_entry, e.e_phoff };
	}
	return 0;
}

static int elf_check_hdr(const struct boot_image *img, const struct elf_hdr *h, char *err,
			 size_t errlen)
{
	u16 want_machine = h->is64 ? EM_X86_64 : EM_386;
	u16 want_phent = h->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	u64 end;

	if (h->machine != want_machine)
		return boot_err(err, errlen, img->path, "not an %s ELF (e_machine %u)",
				h->is64 ? "x86-64" : "i386", h->machine);
	if (h->type != ET_EXEC)
		return boot_err(err, errlen, img->path, "not an executable ELF (e_type %u)",
				h->type);
	if (h->phnum == 0)
		return boot_err(err, errlen, img->path, "ELF has no program headers");
	if (h->phentsize != want_phent)
		return boot_err(err, errlen, img->path, "bad ELF program header size %u",
				h->phentsize);
	if (__builtin_add_overflow(h->phoff, (u64)h->phnum * h->phentsize, &end) ||
	    end > img->size)
		return boot_err(err, errlen, img->path,
				"ELF program headers extend past the end of the file");
	return 0;
}

/* Program header i, widened; returns its p_type. */
static u32 elf_phdr(const struct boot_image *img, const struct elf_hdr *h, int i,
		    struct boot_seg *s)
{
	const u8 *p = img->data + h->phoff + (u64)i * h->phentsize;
	if (h->is64) {
		Elf64_Phdr ph;
		memcpy(&ph, p, sizeof(ph));
		*s = (struct boot_seg){ ph.p_paddr, ph.p_vaddr, ph.p_offset, ph.p_filesz,
					ph.p_memsz };
		return ph.p_type;
	}
	Elf32_Phdr ph;
	memcpy(&ph, p, sizeof(ph));
	*s = (struct boot_seg){ ph.p_paddr, ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz };
	return ph.p_type;
}

static int elf_check_seg(const struct boot_image *img, int i, const struct boot_seg *s,
			 char *err, size_t errlen)
{
	u64 end;
	if (s->filesz > s->memsz)
		return boot_err(err, errlen, img->path,
				"segment %d: file size 0x%llx exceeds memory size 0x%llx", i,
				(unsigned long long)s->filesz, (unsigned long long)s->memsz);
	if (__builtin_add_overflow(s->offset, s->filesz, &end) || end > img->size)
		return boot_err(err, errlen, img->path,
				"segment %d extends past the end of the file", i);
	if (__builtin_add_overflow(s->paddr, s->memsz, &end))
		return boot_err(err, errlen, img->path,
				"segment %d: address 0x%llx + size 0x%llx overflows", i,
				(unsigned long long)s->paddr, (unsigned long long)s->memsz);
	return 0;
}

int boot_elf_parse(struct boot_image *img, char *err, size_t errlen)
{
	struct elf_hdr h = { 0 };
	if (elf_read_hdr(img, &h, err, errlen) || elf_check_hdr(img, &h, err, errlen))
		return -1;
	img->nseg = 0;
	img->entry = h.entry;
	img->long_mode = h.is64;
	for (int i = 0; i < h.phnum; i++) {
		struct boot_seg s;
		if (elf_phdr(img, &h, i, &s) != PT_LOAD || s.memsz == 0)
			continue;
		if (elf_check_seg(img, i, &s, err, errlen))
			return -1;
		if (img->nseg == BOOT_MAX_SEGS)
			return boot_err(err, errlen, img->path,
					"more than %d loadable segments", BOOT_MAX_SEGS);
		img->seg[img->nseg++] = s;
	}
	if (img->nseg == 0)
		return boot_err(err, errlen, img->path, "ELF has no loadable segments");
	return 0;
}
