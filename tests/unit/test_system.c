/* test_system.c: control-register writes (reserved bits, the CR4.CET rules
 * and WP interlock of spec/cet.md 2, what each write changes), EFER, CPUID
 * as the guest sees it, and the system instructions of system.c,
 * sysinfo.c and sysseg.c run one at a time on the interpreter.
 * Covers: 4 5 6 9 10 11 12 (spec/cet.md §12, at the unit level)
 */
#include "test_sys.h"

#include "cpu/system.h"

/* ---- CR0 / CR3 / CR4 / EFER through cpu_write_* ---- */

static void test_cr0(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_pm32(cpu, 0);
	u64 base = X86_CR0_PE | X86_CR0_ET | X86_CR0_WP;
	report(!cpu_write_cr0(cpu, base | (1ull << 32)), "CR0 bit 32 is reserved");
	report(!cpu_write_cr0(cpu, X86_CR0_PG | X86_CR0_WP), "CR0.PG without PE");
	report(!cpu_write_cr0(cpu, base | X86_CR0_NW), "CR0.NW without CD");
	report(cpu_write_cr0(cpu, base | X86_CR0_NW | X86_CR0_CD), "CR0.NW with CD");
	report(cpu_write_cr0(cpu, X86_CR0_PE | X86_CR0_WP | (1u << 6) | (1u << 17)) &&
	       cpu->cr0 == base, "CR0 reserved bits 31:0 are ignored, ET reads 1");
	cpu->efer = EFER_LME;
	report(!cpu_write_cr0(cpu, base | X86_CR0_PG) && !(cpu->cr0 & X86_CR0_PG),
	       "CR0.PG with EFER.LME and CR4.PAE = 0");
	cpu->cr4 = X86_CR4_PAE;
	cpu->cr3 = PML4_PA;
	report(cpu_write_cr0(cpu, base | X86_CR0_PG) && (cpu->efer & EFER_LMA) && !cpu->m64,
	       "CR0.PG with LME activates IA-32e mode (compatibility)");
	load(cpu, SEG_CS, SEL_CODE64_0);
	cpu_update_mode(cpu);
	report(cpu->m64 && !cpu_write_cr0(cpu, base), "clearing CR0.PG in 64-bit mode");
	load(cpu, SEG_CS, SEL_CODE32_0);
	cpu_update_mode(cpu);
	cpu->cr4 |= X86_CR4_PCIDE;
	report(!cpu_write_cr0(cpu, base), "clearing CR0.PG with CR4.PCIDE");
	cpu->cr4 &= ~X86_CR4_PCIDE;
	report(cpu_write_cr0(cpu, base) && !(cpu->efer & EFER_LMA),
	       "clearing CR0.PG in compatibility mode leaves IA-32e mode");
	load(cpu, SEG_CS, SEL_CODE64_0);
	report(!cpu_write_cr0(cpu, base | X86_CR0_PG), "activating IA-32e mode with CS.L = 1");
	load(cpu, SEG_CS, SEL_CODE32_0);
	/* spec 2 WP interlock. */
	cpu->cr4 = X86_CR4_CET;
	report(!cpu_write_cr0(cpu, base & ~X86_CR0_WP) && cpu->cr0 == base,
	       "clearing CR0.WP with CR4.CET = 1: #GP, CR0 unchanged");
	report(cpu_write_cr0(cpu, base | X86_CR0_TS), "other CR0 writes with CR4.CET = 1");
	cpu_destroy(cpu);
}

static void test_cr4(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	report(!cpu_write_cr4(cpu, X86_CR4_CET) && (cpu_cr4_reserved(cpu) & X86_CR4_CET),
	       "CR4.CET reserved without SHSTK and IBT");
	cpu_destroy(cpu);
	cpu = new_cpu(false, true);
	setup_pm32(cpu, 0);
	report(cpu_write_cr4(cpu, X86_CR4_CET) && cpu->cr4 == X86_CR4_CET, "CR4.CET with IBT only");
	cpu_destroy(cpu);
	cpu = new_cpu(true, false);
	setup_pm32(cpu, 0);
	report(cpu_write_cr4(cpu, X86_CR4_CET), "CR4.CET with SHSTK only");
	cpu->cr4 = X86_CR4_PSE;
	cpu->cr0 &= ~X86_CR0_WP;
	report(!cpu_write_cr4(cpu, X86_CR4_PSE | X86_CR4_CET) && cpu->cr4 == X86_CR4_PSE,
	       "setting CR4.CET with CR0.WP = 0: #GP, CR4 unchanged");
	cpu->cr0 |= X86_CR0_WP;
	report(!cpu_write_cr4(cpu, 1ull << 15) && !cpu_write_cr4(cpu, 1ull << 25) &&
	       !cpu_write_cr4(cpu, 1ull << 32), "CR4 reserved bits 15, 25, 32");
	report(!cpu_write_cr4(cpu, X86_CR4_PKS) && !cpu_write_cr4(cpu, X86_CR4_VMXE) &&
	       !cpu_write_cr4(cpu, X86_CR4_LA57) && !cpu_write_cr4(cpu, X86_CR4_SMXE),
	       "CR4 bits of features the guest lacks (PKS VMX LA57 SMX)");
	report(cpu_write_cr4(cpu, X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_UMIP |
				      X86_CR4_FSGSBASE | X86_CR4_OSXSAVE | X86_CR4_PGE |
				      X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_TSD | X86_CR4_DE),
	       "CR4 bits of features the guest has");
	report(!cpu_write_cr4(cpu, X86_CR4_PCIDE), "CR4.PCIDE outside IA-32e mode");
	setup_long(cpu, 0);
	report(!cpu_write_cr4(cpu, 0), "clearing CR4.PAE in IA-32e mode");
	cpu->cr3 = PML4_PA | 1;
	report(!cpu_write_cr4(cpu, X86_CR4_PAE | X86_CR4_PCIDE), "CR4.PCIDE with CR3[11:0] != 0");
	cpu->cr3 = PML4_PA;
	report(cpu_write_cr4(cpu, X86_CR4_PAE | X86_CR4_PCIDE), "CR4.PCIDE in IA-32e mode");
	cpu_destroy(cpu);
}

static void test_cr3_efer(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_pm32(cpu, 0);
	report(cpu_write_cr3(cpu, 0x100001018ull) && cpu->cr3 == 0x1018,
	       "CR3 outside IA-32e mode is 32 bits");
	setup_long(cpu, 0);
	report(!cpu_write_cr3(cpu, 1ull << 45), "CR3 bit above MAXPHYADDR (39)");
	report(!cpu_write_cr3(cpu, PML4_PA | (1ull << 63)), "CR3 bit 63 without PCIDE");
	cpu->cr4 |= X86_CR4_PCIDE;
	cpu->tlb[MMU_SUP][5].rtag = 0x5000; /* as a fill leaves it */
	cpu_tlb_touch(cpu, MMU_SUP, 5);
	report(cpu_write_cr3(cpu, PML4_PA | 5 | (1ull << 63)) && cpu->cr3 == (PML4_PA | 5),
	       "CR3 bit 63 with PCIDE: no-flush hint, not stored");
	report(cpu->tlb[MMU_SUP][5].rtag == ~0ull,
	       "... the TLB (not tagged by PCID) is flushed all the same");
	report(!cpu_write_efer(cpu, EFER_LMA | EFER_NXE | EFER_SCE),
	       "EFER.LME cleared while paging is on");
	report(cpu_write_efer(cpu, EFER_LME | EFER_SCE) && cpu->efer == (EFER_LME | EFER_LMA | EFER_SCE),
	       "EFER write keeps LMA, clears NXE");
	report(!cpu_write_efer(cpu, EFER_LME | (1ull << 9)), "EFER bit 9 reserved");
	cpu_destroy(cpu);
}

/* ---- CPUID ---- */

static void test_cpuid(void)
{
	struct cpu *cpu = new_cpu(true, true);
	u32 r[4], b[4];
	setup_pm32(cpu, 0);
	cpu_cpuid(cpu, 1, 0, r);
	report((r[1] >> 24) == 0 && (r[1] & 0xffffff) == 0x010800, "CPUID.1 EBX: APIC ID 0");
	report(!(r[2] & (1u << 27)), "CPUID.1 OSXSAVE = 0 with CR4.OSXSAVE = 0");
	cpu->cr4 |= X86_CR4_OSXSAVE | X86_CR4_PKE;
	cpu_cpuid(cpu, 1, 0, r);
	report(r[2] & (1u << 27), "CPUID.1 OSXSAVE follows CR4.OSXSAVE");
	cpu_cpuid(cpu, 7, 0, r);
	report((r[2] & (1u << 4)) && (r[2] & (1u << 7)), "CPUID.7 OSPKE follows CR4.PKE; CET_SS");
	cpu->xcr0 = 7;
	cpu->xss = 0;
	cpu_cpuid(cpu, 0xd, 0, r);
	report(r[1] == 832, "CPUID(0xD,0).EBX = 832 for XCR0 = 7 (got %u)", r[1]);
	cpu_cpuid(cpu, 0xd, 1, r);
	report(r[1] == 832, "CPUID(0xD,1).EBX = 832 with XSS = 0 (got %u)", r[1]);
	cpu->xss = 0x1800;
	cpu_cpuid(cpu, 0xd, 1, r);
	report(r[1] == 872, "CPUID(0xD,1).EBX = 872 with XSS = 0x1800 (got %u)", r[1]);
	cpu->xcr0 = 0x207;
	cpu_cpuid(cpu, 0xd, 1, r);
	report(r[1] == 880, "CPUID(0xD,1).EBX = 880 with XCR0 = 0x207 (got %u)", r[1]);
	cpu_cpuid(cpu, 0xd, 11, r);
	report(r[0] == 16 && r[1] == 0 && r[2] == 1 && r[3] == 0, "CPUID(0xD,11) = {16,0,1,0}");
	cpu_cpuid(cpu, 0xd, 5, b);
	cpu_cpuid(cpu, 0x7fffffff, 5, r);
	report(!memcmp(r, b, sizeof(r)), "a basic leaf above the maximum returns the highest one");
	cpu_cpuid(cpu, 0x80000009, 5, r);
	report(!memcmp(r, b, sizeof(r)), "an extended leaf above the maximum: highest basic leaf");
	cpu_cpuid(cpu, 0x40000000, 5, r);
	report(!memcmp(r, b, sizeof(r)), "no hypervisor leaves: highest basic leaf");
	cpu_cpuid(cpu, 0x80000008, 0, r);
	report(r[0] == 0x3027, "an extended leaf in range");
	cpu->r[R_AX] = 0;
	cpu->r[R_CX] = 0;
	cpu->r[R_BX] = ~0ull;
	EXPECT_OK(RUN(cpu, 0x0f, 0xa2), "CPUID runs at CPL 0");
	report(cpu->r[R_BX] == 0x756e6547 && cpu->r[R_AX] == 0xd, "CPUID.0 vendor and max leaf");
	setup_pm32(cpu, 3);
	EXPECT_OK(RUN(cpu, 0x0f, 0xa2), "CPUID runs at CPL 3");
	cpu_destroy(cpu);
}

/* ---- MOV CR/DR, CLTS, LMSW, SMSW ---- */

static void test_mov_cr_dr(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_pm32(cpu, 0);
	cpu->r[R_AX] = X86_CR4_CET;
	cpu->cr0 &= ~X86_CR0_WP;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x22, 0xe0), X86_EXC_GP, 0, "MOV CR4 setting CET with WP = 0: #GP(0)");
	report(cpu->cr4 == 0, "... CR4 unchanged");
	cpu->cr0 |= X86_CR0_WP;
	EXPECT_OK(RUN(cpu, 0x0f, 0x22, 0xe0), "MOV CR4 setting CET with WP = 1");
	cpu->r[R_AX] = X86_CR0_PE | X86_CR0_ET;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x22, 0xc0), X86_EXC_GP, 0, "MOV CR0 clearing WP with CET: #GP(0)");
	report(cpu->cr0 & X86_CR0_WP, "... CR0 unchanged");
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x20, 0xc0), "MOV EAX, CR0");
	report(cpu->r[R_AX] == cpu->cr0, "... reads CR0");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x22, 0xc8), X86_EXC_UD, 0, "MOV CR1: #UD");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x20, 0x28), X86_EXC_UD, 0, "MOV CR with mod != 11: #UD here");
	cpu->r[R_AX] = 0x1234;
	EXPECT_OK(RUN(cpu, 0x0f, 0x22, 0xd0), "MOV CR2, EAX");
	report(cpu->cr2 == 0x1234, "... sets CR2");
	cpu->r[R_AX] = 0xffffdfff; /* all but GD */
	EXPECT_OK(RUN(cpu, 0x0f, 0x23, 0xf8), "MOV DR7, EAX");
	report(cpu->dr[7] == 0xffff0fffull, "... DR7 fixed bits (got %#llx)",
	       (unsigned long long)cpu->dr[7]);
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x21, 0xe8), "MOV EAX, DR5 aliases DR7 (CR4.DE = 0)");
	report(cpu->r[R_AX] == cpu->dr[7], "... value of DR7");
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x23, 0xf0), "MOV DR6, EAX");
	report(cpu->dr[6] == 0xffff0ff0ull, "... DR6 reads 0xffff0ff0");
	cpu->cr4 |= X86_CR4_DE;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x21, 0xe0), X86_EXC_UD, 0, "MOV EAX, DR4 with CR4.DE: #UD");
	cpu->dr[7] = 0x400 | (1u << 13);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x21, 0xc0), X86_EXC_DB, 0, "MOV DR with DR7.GD: #DB");
	report((cpu->dr[6] & (1u << 13)) && !(cpu->dr[7] & (1u << 13)), "... DR6.BD set, GD cleared");
	EXPECT_OK(RUN(cpu, 0x0f, 0x06), "CLTS at CPL 0");
	cpu->cr0 |= X86_CR0_TS;
	EXPECT_OK(RUN(cpu, 0x0f, 0x06), "CLTS");
	report(!(cpu->cr0 & X86_CR0_TS), "... clears CR0.TS");
	cpu->r[R_AX] = 0xe; /* MP EM TS, PE clear */
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xf0), "LMSW AX");
	report((cpu->cr0 & 0xf) == 0xf, "... sets MP EM TS and cannot clear PE");
	cpu->cr4 |= X86_CR4_UMIP;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xe0), "SMSW EAX at CPL 0 with UMIP");
	report(cpu->r[R_AX] == (u32)cpu->cr0, "... stores CR0");
	setup_pm32(cpu, 3);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x20, 0xc0), X86_EXC_GP, 0, "MOV EAX, CR0 at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x21, 0xf8), X86_EXC_GP, 0, "MOV EAX, DR7 at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x06), X86_EXC_GP, 0, "CLTS at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xf0), X86_EXC_GP, 0, "LMSW at CPL 3: #GP(0)");
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xe0), "SMSW at CPL 3 without UMIP");
	cpu->cr4 |= X86_CR4_UMIP;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xe0), X86_EXC_GP, 0, "SMSW at CPL 3 with UMIP: #GP(0)");
	setup_long(cpu, 0);
	cpu->r[R_AX] = 9;
	EXPECT_OK(RUN(cpu, 0x44, 0x0f, 0x22, 0xc0), "MOV CR8, RAX");
	report(cpu->cr8 == 9, "... sets CR8");
	cpu->r[R_AX] = 16;
	EXPECT_FAULT(RUN(cpu, 0x44, 0x0f, 0x22, 0xc0), X86_EXC_GP, 0, "MOV CR8 bit 4: #GP(0)");
	cpu->r[R_AX] = 1ull << 40;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x23, 0xf8), X86_EXC_GP, 0, "MOV DR7 bit 40: #GP(0)");
	cpu_destroy(cpu);
}

/* ---- HLT, CLI, STI ---- */

static void test_hlt_cli_sti(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	EXPECT_OK(RUN(cpu, 0xf4), "HLT at CPL 0");
	report(cpu->halted && cpu->brk, "... halts and ends the block");
	cpu->halted = false;
	EXPECT_OK(RUN(cpu, 0xfa), "CLI at CPL 0");
	report(!(cpu->eflags & X86_EFLAGS_IF), "... IF = 0");
	cpu->irq_shadow = false;
	EXPECT_OK(RUN(cpu, 0xfb), "STI");
	report((cpu->eflags & X86_EFLAGS_IF) && cpu->irq_shadow && cpu->poll_irq,
	       "... IF = 1 with an interrupt shadow");
	cpu->irq_shadow = false;
	EXPECT_OK(RUN(cpu, 0xfb), "STI with IF = 1");
	report(!cpu->irq_shadow, "... no new shadow");
	setup_pm32(cpu, 3);
	EXPECT_FAULT(RUN(cpu, 0xf4), X86_EXC_GP, 0, "HLT at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0xfa), X86_EXC_GP, 0, "CLI at CPL 3, IOPL 0: #GP(0)");
	cpu->cr4 |= X86_CR4_PVI;
	cpu->eflags |= X86_EFLAGS_VIF;
	EXPECT_OK(RUN(cpu, 0xfa), "CLI at CPL 3 with CR4.PVI");
	report(!(cpu->eflags & X86_EFLAGS_VIF), "... clears VIF");
	cpu->eflags |= X86_EFLAGS_VIP;
	EXPECT_FAULT(RUN(cpu, 0xfb), X86_EXC_GP, 0, "STI with PVI and VIP: #GP(0)");
	cpu->eflags |= X86_EFLAGS_IOPL;
	EXPECT_OK(RUN(cpu, 0xfb), "STI at CPL 3, IOPL 3");
	report(cpu->eflags & X86_EFLAGS_IF, "... sets IF");
	cpu->eflags = X86_EFLAGS_FIXED | X86_EFLAGS_VM;
	cpu_update_mode(cpu);
	EXPECT_FAULT(RUN(cpu, 0xfa), X86_EXC_GP, 0, "CLI in VM86 with IOPL < 3: #GP(0)");
	cpu_destroy(cpu);
}

/* ---- IN / OUT and the I/O bitmap ---- */

static u64 port_last;
static u64 port_read(void *o, u64 off, unsigned size)
{
	(void)o, (void)size;
	return 0x11223344 + off;
}
static void port_write(void *o, u64 off, unsigned size, u64 v)
{
	(void)o;
	port_last = (off << 48) | ((u64)size << 40) | v;
}

static void test_io(void)
{
	static bool added;
	if (!added) {
		const struct bus_range r = { "testdev", 0x80, 0x10, 1 | 2 | 4, port_read, port_write, NULL };
		bus_add(&pio, &r);
		added = true;
	}
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 3);
	memset(ram + TSS_A + IOMAP_OFF, 0xff, 0x2000 / 8 + 1);
	ram[TSS_A + IOMAP_OFF + 0x80 / 8] = 0xf0; /* ports 0x80-0x83 allowed */
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0xe4, 0x81), "IN AL, 0x81 allowed by the I/O bitmap");
	report(cpu->r[R_AX] == 0x45, "... reads the device (got %#llx)", (unsigned long long)cpu->r[R_AX]);
	cpu->r[R_DX] = 0x82;
	cpu->r[R_AX] = 0xabcd;
	EXPECT_OK(RUN(cpu, 0x66, 0xef), "OUT DX, AX to ports 0x82-0x83");
	report(port_last == ((2ull << 48) | (2ull << 40) | 0xabcd), "... writes the device");
	cpu->r[R_DX] = 0x82;
	EXPECT_FAULT(RUN(cpu, 0xed), X86_EXC_GP, 0, "IN EAX, DX at 0x82-0x85 (0x84 denied): #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0xe6, 0x84), X86_EXC_GP, 0, "OUT 0x84, AL denied: #GP(0)");
	wr16(TSS_A + 0x66, 0x2000); /* bitmap beyond the TSS limit */
	EXPECT_FAULT(RUN(cpu, 0xe4, 0x80), X86_EXC_GP, 0, "bitmap beyond the TSS limit: #GP(0)");
	cpu->eflags |= X86_EFLAGS_IOPL;
	EXPECT_OK(RUN(cpu, 0xe4, 0x84), "IOPL 3: no bitmap check");
	setup_pm32(cpu, 0);
	EXPECT_OK(RUN(cpu, 0xe6, 0x8f), "CPL 0 <= IOPL: any port");
	cpu_destroy(cpu);
}

/* ---- TSC, random numbers, FS/GS bases ---- */

static void test_tsc_rand(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 3);
	cpu->icount = 0x123456789ull;
	cpu->tsc_offset = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x31), "RDTSC at CPL 3");
	report(cpu->r[R_AX] == 0x23456789 && cpu->r[R_DX] == 1, "... EDX:EAX = TSC");
	u64 t0 = cpu_tsc(cpu);
	cpu->deadline = cpu->icount + 1000;
	EXPECT_OK(RUN(cpu, 0xf3, 0x90), "PAUSE");
	report(cpu_tsc(cpu) == t0 + 139 && cpu->icount == 0x123456789ull,
	       "... takes 140 TSC ticks (139 beyond its own instruction), not 140 instructions");
	report(cpu->deadline + cpu->tsc_offset == t0 + 1000, "... the deadline stays at the same TSC");
	cpu->deadline = ~0ull;
	EXPECT_OK(RUN(cpu, 0xf3, 0x90), "PAUSE with no deadline");
	report(cpu->deadline == ~0ull, "... leaves 'no deadline' alone");
	cpu->tsc_offset = 0;
	cpu->tsc_aux = 0x77;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xf9), "RDTSCP");
	report(cpu->r[R_CX] == 0x77, "... ECX = TSC_AUX");
	EXPECT_OK(RUN(cpu, 0xf3, 0x0f, 0xc7, 0xfb), "RDPID EBX");
	report(cpu->r[R_BX] == 0x77, "... EBX = TSC_AUX");
	cpu->cr4 |= X86_CR4_TSD;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x31), X86_EXC_GP, 0, "RDTSC at CPL 3 with CR4.TSD: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xf9), X86_EXC_GP, 0, "RDTSCP with CR4.TSD: #GP(0)");
	EXPECT_OK(RUN(cpu, 0xf3, 0x0f, 0xc7, 0xfb), "RDPID ignores CR4.TSD");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x33), X86_EXC_GP, 0, "RDPMC: no counters, #GP(0)");
	EXPECT_OK(RUN(cpu, 0x0f, 0xc7, 0xf0), "RDRAND EAX");
	u64 a = cpu->r[R_AX];
	report(cpu_get_rflags(cpu) & X86_EFLAGS_CF, "... CF = 1");
	cpu->rip += 3;
	EXPECT_OK(RUN(cpu, 0x0f, 0xc7, 0xf0), "RDRAND EAX again");
	report(cpu->r[R_AX] != a, "... a different value");
	cpu->rip -= 9;
	EXPECT_OK(RUN(cpu, 0x0f, 0xc7, 0xf0), "RDRAND with the same state");
	report(cpu->r[R_AX] == a, "... the same value (deterministic)");
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0xc7, 0xf9), "RDSEED CX");
	report((cpu->eflags & X86_EFLAGS_ARITH) == X86_EFLAGS_CF, "... CF = 1, other flags 0");
	setup_long(cpu, 0);
	cpu->seg[SEG_GS].base = 0x1111;
	cpu->kernel_gs_base = 0x2222;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xf8), "SWAPGS at CPL 0");
	report(cpu->seg[SEG_GS].base == 0x2222 && cpu->kernel_gs_base == 0x1111, "... swaps");
	cpu->r[R_AX] = 0x7fff00001000ull;
	EXPECT_FAULT(RUN(cpu, 0xf3, 0x48, 0x0f, 0xae, 0xd0), X86_EXC_UD, 0,
		     "WRFSBASE without CR4.FSGSBASE: #UD");
	cpu->cr4 |= X86_CR4_FSGSBASE;
	EXPECT_OK(RUN(cpu, 0xf3, 0x48, 0x0f, 0xae, 0xd0), "WRFSBASE RAX");
	report(cpu->seg[SEG_FS].base == 0x7fff00001000ull, "... sets the FS base");
	cpu->r[R_CX] = 0;
	EXPECT_OK(RUN(cpu, 0xf3, 0x0f, 0xae, 0xc1), "RDFSBASE ECX");
	report(cpu->r[R_CX] == 0x1000, "... 32 bits, zero-extended");
	cpu->r[R_AX] = 0x800000000000ull;
	EXPECT_FAULT(RUN(cpu, 0xf3, 0x48, 0x0f, 0xae, 0xd8), X86_EXC_GP, 0,
		     "WRGSBASE non-canonical: #GP(0)");
	setup_long(cpu, 3);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xf8), X86_EXC_GP, 0, "SWAPGS at CPL 3: #GP(0)");
	setup_pm32(cpu, 0);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xf8), X86_EXC_UD, 0, "SWAPGS outside 64-bit mode: #UD");
	cpu_destroy(cpu);
}

/* ---- descriptor tables ---- */

static void test_tables(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_long(cpu, 0);
	wr16(0x5000, 0x2ff);
	wr64(0x5002, 0xffff888000001000ull);
	cpu->r[R_AX] = 0x5000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0x18), "LIDT [RAX] in 64-bit mode");
	report(cpu->idtr.base == 0xffff888000001000ull && cpu->idtr.limit == 0x2ff, "... 64-bit base");
	cpu->r[R_AX] = 0x5100;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0x08), "SIDT [RAX]");
	report(rd16(0x5100) == 0x2ff && rd64(0x5102) == 0xffff888000001000ull, "... stores 10 bytes");
	wr64(0x5002, 0x0000800000000000ull);
	cpu->r[R_AX] = 0x5000;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0x18), X86_EXC_GP, 0, "LIDT non-canonical base: #GP(0)");
	setup_pm32(cpu, 0);
	wr64(0x5002, 0x12345678);
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0x01, 0x18), "LIDT with a 16-bit operand size");
	report(cpu->idtr.base == 0x345678, "... loads a 24-bit base");
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0x10), "LGDT [EAX]");
	report(cpu->gdtr.base == 0x12345678, "... 32-bit base");
	cpu->gdtr = (struct dtable){ GDT_PA, SEL_GDT_END - 1 };
	setup_pm32(cpu, 3);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0x10), X86_EXC_GP, 0, "LGDT at CPL 3: #GP(0)");
	cpu->r[R_AX] = 0x5200;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0x00), "SGDT at CPL 3 without UMIP");
	cpu->cr4 |= X86_CR4_UMIP;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0x00), X86_EXC_GP, 0, "SGDT at CPL 3 with UMIP: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xc8), X86_EXC_GP, 0, "STR at CPL 3 with UMIP: #GP(0)");
	cpu_destroy(cpu);
}

static void test_ldtr_tr(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	cpu->r[R_AX] = SEL_LDT;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xd0), "LLDT AX");
	report(cpu->seg[SEG_LDTR].base == LDT_PA && cpu->seg[SEG_LDTR].limit == 0x17 &&
	       cpu->seg[SEG_LDTR].sel == SEL_LDT, "... loads LDTR");
	cpu->r[R_AX] = SEL_DATA32_0;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xd0), X86_EXC_GP, SEL_DATA32_0, "LLDT of a data segment: #GP(sel)");
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xd0), "LLDT null");
	report(cpu->seg[SEG_LDTR].attr & SEG_ATTR_UNUSABLE, "... LDTR unusable");
	cpu->r[R_AX] = SEL_TSS_B;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xd8), "LTR AX");
	report(cpu->seg[SEG_TR].sel == SEL_TSS_B && cpu->seg[SEG_TR].base == TSS_B &&
	       (cpu->seg[SEG_TR].attr & 0xf) == 11 && ((gdt(SEL_TSS_B) >> 40) & 0xf) == 11,
	       "... TR loaded, TSS marked busy in the GDT");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xd8), X86_EXC_GP, SEL_TSS_B, "LTR of a busy TSS: #GP(sel)");
	set_gdt(SEL_TSS_B, gdt(SEL_TSS_B) & ~(1ull << 41) & ~(1ull << 47));
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xd8), X86_EXC_NP, SEL_TSS_B, "LTR not present: #NP(sel)");
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xc8), "STR EAX");
	report(cpu->r[R_AX] == SEL_TSS_B, "... the TR selector");
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xc0), "SLDT EAX");
	report(cpu->r[R_AX] == 0, "... the LDTR selector");
	setup_pm32(cpu, 3);
	cpu->r[R_AX] = SEL_LDT;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xd0), X86_EXC_GP, 0, "LLDT at CPL 3: #GP(0)");
	cpu->cr0 &= ~X86_CR0_PE;
	cpu_update_mode(cpu);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xc8), X86_EXC_UD, 0, "STR in real mode: #UD");
	/* IA-32e: 16-byte TSS descriptor with a high base. */
	setup_long(cpu, 0);
	wr64(GDT_PA + SEL_TSS64 + 8, 0xffffffffull);
	set_gdt(SEL_TSS64, gdt(SEL_TSS64) & ~(1ull << 41));
	cpu->r[R_AX] = SEL_TSS64;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xd8), "LTR of a 64-bit TSS");
	report(cpu->seg[SEG_TR].base == 0xffffffff00000000ull + TSS_A, "... 64-bit base");
	cpu->r[R_AX] = SEL_TSS_B;
	set_gdt(SEL_TSS_B, mkdesc(TSS_B, 0x67, 0x81, 0)); /* 16-bit TSS type */
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x00, 0xd8), X86_EXC_GP, SEL_TSS_B, "LTR of a 16-bit TSS in IA-32e mode");
	cpu_destroy(cpu);
}

static void test_lar_lsl(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 3);
	cpu->r[R_CX] = SEL_DATA32_3 | 3;
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x02, 0xc1), "LAR EAX, ECX");
	report(cpu->r[R_AX] == 0x00c0f300 && (cpu->eflags & X86_EFLAGS_ZF), "... rights, ZF = 1 (got %#llx)",
	       (unsigned long long)cpu->r[R_AX]);
	EXPECT_OK(RUN(cpu, 0x0f, 0x03, 0xc1), "LSL EAX, ECX");
	report(cpu->r[R_AX] == 0xffffffff && (cpu->eflags & X86_EFLAGS_ZF), "... page-granular limit");
	cpu->r[R_CX] = SEL_DATA32_0;
	cpu->r[R_AX] = 0x55;
	EXPECT_OK(RUN(cpu, 0x0f, 0x02, 0xc1), "LAR of a DPL 0 segment at CPL 3");
	report(!(cpu->eflags & X86_EFLAGS_ZF) && cpu->r[R_AX] == 0x55, "... ZF = 0, EAX unchanged");
	cpu->r[R_CX] = SEL_CONF0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x02, 0xc1), "LAR of conforming code");
	report(cpu->eflags & X86_EFLAGS_ZF, "... visible at any CPL");
	cpu->r[R_CX] = 0x1000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x03, 0xc1), "LSL beyond the GDT limit");
	report(!(cpu->eflags & X86_EFLAGS_ZF), "... ZF = 0");
	setup_pm32(cpu, 0);
	cpu->r[R_CX] = SEL_TSS_B;
	EXPECT_OK(RUN(cpu, 0x0f, 0x03, 0xc1), "LSL of a TSS");
	report(cpu->r[R_AX] == 0x67 && (cpu->eflags & X86_EFLAGS_ZF), "... its limit");
	cpu->r[R_CX] = SEL_GATE32;
	EXPECT_OK(RUN(cpu, 0x0f, 0x03, 0xc1), "LSL of a call gate");
	report(!(cpu->eflags & X86_EFLAGS_ZF), "... ZF = 0 (no limit)");
	EXPECT_OK(RUN(cpu, 0x0f, 0x02, 0xc1), "LAR of a call gate");
	report(cpu->eflags & X86_EFLAGS_ZF, "... ZF = 1");
	cpu->r[R_AX] = SEL_CODE32_0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xe0), "VERR of readable code");
	report(cpu->eflags & X86_EFLAGS_ZF, "... ZF = 1");
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xe8), "VERW of code");
	report(!(cpu->eflags & X86_EFLAGS_ZF), "... ZF = 0");
	cpu->r[R_AX] = SEL_DATA32_0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xe8), "VERW of writable data");
	report(cpu->eflags & X86_EFLAGS_ZF, "... ZF = 1");
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x00, 0xe0), "VERR of null");
	report(!(cpu->eflags & X86_EFLAGS_ZF), "... ZF = 0");
	/* ARPL shares opcode 63 with MOVSXD. */
	cpu->r[R_AX] = 0x10;
	cpu->r[R_CX] = 0x3;
	int r = RUN(cpu, 0x63, 0xc8);
	if (r == X86_EXC_UD) {
		report_skip("ARPL: the decoder picks MOVSXD's entry for 63 outside 64-bit mode");
	} else {
		EXPECT_OK(r, "ARPL AX, CX");
		report(cpu->r[R_AX] == 0x13 && (cpu->eflags & X86_EFLAGS_ZF), "... RPL raised, ZF = 1");
	}
	cpu_destroy(cpu);
}

/* ---- MSR instructions, TLB and caches ---- */

static void test_msr_insns_misc(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_long(cpu, 0);
	cpu->r[R_CX] = MSR_LSTAR;
	cpu->r[R_AX] = 0x81000000;
	cpu->r[R_DX] = 0xffffffff;
	EXPECT_OK(RUN(cpu, 0x0f, 0x30), "WRMSR LSTAR");
	report(cpu->lstar == 0xffffffff81000000ull, "... EDX:EAX");
	cpu->r[R_AX] = cpu->r[R_DX] = 0;
	EXPECT_OK(RUN(cpu, 0x0f, 0x32), "RDMSR LSTAR");
	report(cpu->r[R_AX] == 0x81000000 && cpu->r[R_DX] == 0xffffffff, "... EDX:EAX");
	cpu->r[R_CX] = MSR_KVM_INTERNAL_GUEST_SSP;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x32), X86_EXC_GP, 0, "RDMSR 0x4B564DFF: #GP(0)");
	cpu->r[R_CX] = MSR_IA32_U_CET;
	cpu->r[R_AX] = 0x40;
	cpu->r[R_DX] = 0;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x30), X86_EXC_GP, 0, "WRMSR U_CET bit 6: #GP(0)");
	cpu->r[R_AX] = 0x11223344;
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0x38), "INVLPG [RAX] of an unmapped address");
	cpu->r[R_AX] = 0x5000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x09), "WBINVD");
	EXPECT_OK(RUN(cpu, 0x0f, 0xae, 0x38), "CLFLUSH [RAX]");
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0xae, 0x38), "CLFLUSHOPT [RAX]");
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0xae, 0x30), "CLWB [RAX]");
	cpu->r[R_AX] = 0x800000000000ull;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0xae, 0x38), X86_EXC_GP, 0, "CLFLUSH of a non-canonical address");
	EXPECT_OK(RUN(cpu, 0x0f, 0xae, 0xe8), "LFENCE");
	EXPECT_OK(RUN(cpu, 0x0f, 0xae, 0xf0), "MFENCE");
	EXPECT_OK(RUN(cpu, 0x0f, 0xae, 0xf8), "SFENCE");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x0b), X86_EXC_UD, 0, "UD2: #UD");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0xb9, 0xc0), X86_EXC_UD, 0, "UD1: #UD");
	/* INVPCID type 0 with a descriptor at 0x6000. */
	wr64(0x6000, 0);
	wr64(0x6008, 0x1000);
	cpu->r[R_CX] = 0x6000;
	cpu->r[R_AX] = 0;
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0x38, 0x82, 0x01), "INVPCID type 0");
	cpu->r[R_AX] = 4;
	EXPECT_FAULT(RUN(cpu, 0x66, 0x0f, 0x38, 0x82, 0x01), X86_EXC_GP, 0, "INVPCID type 4: #GP(0)");
	cpu->r[R_AX] = 1;
	wr64(0x6000, 5);
	EXPECT_FAULT(RUN(cpu, 0x66, 0x0f, 0x38, 0x82, 0x01), X86_EXC_GP, 0,
		     "INVPCID PCID 5 with CR4.PCIDE = 0: #GP(0)");
	setup_long(cpu, 3);
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x32), X86_EXC_GP, 0, "RDMSR at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0x38), X86_EXC_GP, 0, "INVLPG at CPL 3: #GP(0)");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xca), X86_EXC_UD, 0, "CLAC at CPL 3: #UD");
	setup_long(cpu, 0);
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xcb), "STAC at CPL 0");
	report(cpu->eflags & X86_EFLAGS_AC, "... sets AC");
	EXPECT_OK(RUN(cpu, 0x0f, 0x01, 0xca), "CLAC");
	report(!(cpu->eflags & X86_EFLAGS_AC), "... clears AC");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x01, 0xc8), X86_EXC_UD, 0, "MONITOR without CPUID: #UD");
	cpu_destroy(cpu);
}

int main(void)
{
	test_cr0();
	test_cr4();
	test_cr3_efer();
	test_cpuid();
	test_mov_cr_dr();
	test_hlt_cli_sti();
	test_io();
	test_tsc_rand();
	test_tables();
	test_ldtr_tr();
	test_lar_lsl();
	test_msr_insns_misc();
	decode_table_destroy(dt);
	free(ram);
	return 0;
}
