/* boot.c: from crt0.S to main(): multiboot information, CPU setup, exit. */
#include "boot.h"

#include "alloc.h"
#include "apic.h"
#include "desc.h"
#include "idt.h"
#include "serial.h"
#include "string.h"
#include "x86.h"

/* Multiboot v1 information structure (the fields we use). */
struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __packed;

struct mb_mmap_entry {
	u32 size; /* of the rest of the entry */
	u64 addr, len;
	u32 type;
} __packed;

static struct boot_info info;

const struct boot_info *boot_info(void)
{
	return &info;
}

static void copy_info(u32 magic, const struct mb_info *mb)
{
	info.magic = magic;
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || !mb)
		return;
	info.flags = mb->flags;
	if (mb->flags & MB_INFO_MEMORY) {
		info.mem_lower = mb->mem_lower;
		info.mem_upper = mb->mem_upper;
	}
	if (mb->flags & MB_INFO_CMDLINE) {
		const char *s = (const char *)(uintptr_t)mb->cmdline;
		size_t n = strlen(s);
		if (n >= sizeof(info.cmdline))
			n = sizeof(info.cmdline) - 1;
		memcpy(info.cmdline, s, n);
	}
	if (mb->flags & MB_INFO_MMAP) {
		u64 p = mb->mmap_addr, end = p + mb->mmap_length;
		while (p < end && info.mmap_count < (int)ARRAY_SIZE(info.mmap)) {
			const struct mb_mmap_entry *e = (const void *)(uintptr_t)p;
			info.mmap[info.mmap_count++] = (struct boot_mmap){ e->addr, e->len, e->type };
			p += e->size + 4;
		}
	}
}

static u64 ram_end(void)
{
	if (info.mem_upper)
		return (1ull << 20) + (u64)info.mem_upper * 1024;
	return 32ull << 20; /* no memory information: assume 32 MiB */
}

u64 boot_cmdline_u64(const char *key, u64 def)
{
	size_t n = strlen(key);

	for (const char *p = info.cmdline; (p = strstr(p, key)); p++) {
		if ((p != info.cmdline && p[-1] != ' ') || p[n] != '=')
			continue;
		p += n + 1;
		u64 v = 0, base = 10;
		if (p[0] == '0' && p[1] == 'x')
			base = 16, p += 2;
		for (;; p++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0'
			      : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : 99;
			if (d >= (int)base)
				return v;
			v = v * base + d;
		}
	}
	return def;
}

/* x87/SSE usable (SDM Vol. 3A, 14.1.3) and NX usable when present. */
static void cpu_init(void)
{
	write_cr0((read_cr0() & ~(X86_CR0_EM | X86_CR0_TS)) | X86_CR0_MP | X86_CR0_NE);
	write_cr4(read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	asm volatile("fninit");
	if (cpu_has(X86_FEATURE_NX))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

void exit(int code)
{
	outl(0xf4, code);
	for (;;) {
		cli();
		hlt();
	}
}

void guest_start(u32 magic, u32 mbi)
{
	copy_info(magic, (const struct mb_info *)(uintptr_t)mbi);
	serial_init();
	desc_init();
	idt_init();
	cpu_init();
	pic_disable();
	alloc_init(ram_end());
	exit(main());
}
