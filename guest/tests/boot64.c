/* boot64: the startup code reached long mode with paging, and the multiboot
 * information (magic, memory, command line, memory map) arrived intact. */
#include "boot.h"
#include "report.h"
#include "string.h"
#include "x86.h"

static void check_mode(void)
{
	report(rdmsr(MSR_EFER) & EFER_LMA, "EFER.LMA set");
	report(rdmsr(MSR_EFER) & EFER_LME, "EFER.LME set");
	report(read_cr0() & X86_CR0_PG, "CR0.PG set");
	report(read_cr0() & X86_CR0_PE, "CR0.PE set");
	report(read_cr4() & X86_CR4_PAE, "CR4.PAE set");
	report((read_cs() & 3) == 0, "running at CPL 0");
	report(cpu_has(X86_FEATURE_LM), "CPUID reports long mode");
}

static void check_multiboot(void)
{
	const struct boot_info *bi = boot_info();
	u64 upper = (u64)bi->mem_upper * 1024;

	report(bi->magic == MULTIBOOT_BOOTLOADER_MAGIC, "EAX magic %#x", bi->magic);
	report(bi->flags & MB_INFO_MEMORY, "memory info present");
	report(upper >= (8ull << 20) && upper <= (1ull << 40), "mem_upper sane (%u KiB)",
	       bi->mem_upper);
	report(bi->mem_lower >= 256 && bi->mem_lower <= 640, "mem_lower sane (%u KiB)",
	       bi->mem_lower);
	report((bi->flags & MB_INFO_CMDLINE) && strstr(bi->cmdline, "boot64"),
	       "cmdline holds the kernel path (\"%s\")", bi->cmdline);
	report((bi->flags & MB_INFO_MMAP) && bi->mmap_count > 0, "memory map present (%d entries)",
	       bi->mmap_count);

	bool covers = false;
	for (int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap *m = &bi->mmap[i];
		if (m->type == MB_MMAP_AVAILABLE && m->addr <= 0x100000 &&
		    m->addr + m->len >= 0x100000 + upper)
			covers = true;
	}
	report(covers, "memory map has RAM from 1 MiB to mem_upper");
}

int main(void)
{
	check_mode();
	check_multiboot();
	return report_summary();
}
