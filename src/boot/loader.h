/* loader.h: the interface between the files of src/boot/ (not for other layers).
 *
 * A kernel file is parsed into a struct boot_image: a list of segments
 * (where in the file, where in guest memory) and an entry point. boot.c
 * then loads the segments, places the Multiboot info and the initrd, and
 * sets the entry state. Parsers only look at the file bytes; they never
 * touch guest RAM.
 */
#ifndef CETVM_BOOT_LOADER_H
#define CETVM_BOOT_LOADER_H

#include <stddef.h>
#include <string.h>

#include "../mem.h"
#include "boot.h"
#include "../types.h"

#define BOOT_MAX_SEGS 32

struct boot_seg {
	u64 paddr, vaddr; /* guest physical / linked virtual address */
	u64 offset;       /* in the file */
	u64 filesz, memsz; /* filesz <= memsz; the rest is zeroed */
};

struct boot_image {
	const char *path; /* for messages */
	const u8 *data;   /* the whole file */
	u64 size;
	int nseg;
	struct boot_seg seg[BOOT_MAX_SEGS];
	u64 entry;      /* as the file says; boot.c translates it */
	bool long_mode; /* ELF64: enter in 64-bit mode */
};

/* Write "<path>: <message>" into err; returns -1. */
int boot_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* elf.c. The ELF class byte if data starts with the ELF magic (0 if it
 * does not, -1 if the file ends inside e_ident). */
/* Little-endian fields of boot structures. */
static inline u32 boot_get32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

static inline u64 boot_get64(const u8 *p)
{
	u64 v;
	memcpy(&v, p, 8);
	return v;
}

static inline void boot_put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static inline void boot_put64(u8 *p, u64 v)
{
	memcpy(p, &v, 8);
}

/* Shared by the loaders (boot.c). */
int boot_load_initrd(const char *path, struct guest_ram *ram, u64 addr, u64 *size,
		     char *err, size_t errlen);
int boot_write_page_tables(struct guest_ram *ram);
struct vcpu_segment boot_flat_seg(u16 sel, u8 type, bool code64);
void boot_entry_sregs(struct vcpu_sregs *s, bool lm);

/* Linux boot protocol (linux.c): a bzImage entered at its 64-bit entry. */
bool boot_is_bzimage(const u8 *data, u64 size);
int boot_linux_load(const struct boot_params *p, const u8 *data, u64 size,
		    struct guest_ram *ram, struct boot_state *st, char *err, size_t errlen);

int boot_elf_class(const u8 *data, u64 size);
/* Fill img->seg and img->entry from an ELF32 (EM_386) or ELF64 (EM_X86_64)
 * executable, checking every header against the file size. */
int boot_elf_parse(struct boot_image *img, char *err, size_t errlen);

/* multiboot.c. */
enum boot_mb_kind {
	BOOT_MB_NONE, /* no valid header in the first 8 KiB */
	BOOT_MB_ELF,  /* header without the a.out kludge: load the ELF */
	BOOT_MB_AOUT, /* header flag 16: img already holds the one segment */
};
/* Find and check the Multiboot header; for the a.out kludge fill img.
 * Returns a boot_mb_kind, or -1 with err set. */
int boot_mb_parse(struct boot_image *img, char *err, size_t errlen);

/* A Multiboot module from -initrd. */
struct boot_mb_module {
	const char *string; /* "<file>[ <args>]": the module string the guest sees */
	const char *path;   /* <file>: the string up to its first space */
	u64 addr, size;     /* where boot.c loaded it */
};

#define BOOT_MB_MAX_MODS 64

/* Everything the info area needs to know. */
struct boot_mb_info {
	const char *kernel_path, *append;
	unsigned nmods;
	struct boot_mb_module mod[BOOT_MB_MAX_MODS];
	char *strings; /* owns the module strings and paths */
};
/* Split -initrd as QEMU does for Multiboot: modules separated by ',', with
 * ",," standing for a literal comma; each module is "<file>[ <args>]".
 * Fills mi->nmods and the strings of mi->mod (free with
 * boot_mb_free_modules). Returns 0, or -1 with err set. */
int boot_mb_parse_modules(const char *list, struct boot_mb_info *mi, char *err, size_t errlen);
void boot_mb_free_modules(struct boot_mb_info *mi);
/* Bytes the info area needs (before the modules). */
u64 boot_mb_info_size(const struct boot_mb_info *mi);
/* Write the info area at `addr` (room checked by the caller; re-checked
 * here). Returns 0 or -1 with err set. */
int boot_mb_write_info(const struct boot_mb_info *mi, struct guest_ram *ram, u64 addr,
		       char *err, size_t errlen);

#endif
