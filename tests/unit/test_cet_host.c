/* Covers: 7 8 37 66 68 69 112
 * test_cet_host.c: CET state seen from the host and CET transfers that the
 * guest kit cannot reach (spec/cet.md 1.3, 3.4, 5.11, 5.12):
 * - RESET and INIT through accel_emu (create, init, get_msrs, get_sregs,
 *   ONE_REG for SSP) and the interpreter CPU (RESET vs INIT of SSP);
 * - a user #CP(3) run by accel_emu: the guest's RDMSR and the host's
 *   get_msrs both see U_CET bit 11 (TRACKER = WAIT_FOR_ENDBRANCH);
 * - SYSENTER/SYSEXIT with shadow stacks (cetvm's CPUID has no SEP, so the
 *   guest test cet_sys skips them);
 * - 32-bit task switches with CR4.CET: the TSS checks (#TS), the new SSP
 *   from TSS+0x68 with its token and frame, and the IRET back.
 * Item 112 (no #UD or internal error with CET fully active) is the sum of
 * these runs, cet_far, cet_sys and cet_xfer. */
#include "test_sys.h"

#include "bare_env.h"

#include "accel/accel.h"
#include "cpu/cet.h"
#include "cpu/msr.h"

/* CALL/JMP FAR ptr16:32 (op 9A / EA). */
static int far_imm(struct cpu *cpu, u8 op, u32 off, u16 sel)
{
	const u8 b[7] = { op, (u8)off, (u8)(off >> 8), (u8)(off >> 16), (u8)(off >> 24),
			  (u8)sel, (u8)(sel >> 8) };
	return run_bytes(cpu, b, 7);
}

static const u32 cet_msrs[] = { MSR_IA32_U_CET,	  MSR_IA32_S_CET,	MSR_IA32_PL0_SSP,
				MSR_IA32_PL0_SSP + 1, MSR_IA32_PL0_SSP + 2, MSR_IA32_PL0_SSP + 3,
				MSR_IA32_INT_SSP_TAB, MSR_IA32_XSS };
#define NCET ((int)ARRAY_SIZE(cet_msrs))

/* Host GET of every CET MSR; true if all read and all but XSS are 0. */
static bool cet_msrs_zero(struct vcpu *v, u64 *xss)
{
	struct vcpu_msr m[NCET];
	for (int i = 0; i < NCET; i++)
		m[i] = (struct vcpu_msr){ cet_msrs[i], 0xdead };
	if (accel_emu.get_msrs(v, m, NCET) != NCET)
		return false;
	bool zero = true;
	for (int i = 0; i < NCET - 1; i++)
		zero &= m[i].data == 0;
	*xss = m[NCET - 1].data;
	return zero;
}

static struct vcpu *emu_vcpu(u8 *mem, u64 size, struct bus *bp, struct bus *bm)
{
	static volatile bool stop;
	static struct accel_env e;
	e = bare_env(mem, size, bp, bm, &stop);
	struct vcpu *v;
	struct vcpu_cpuid c;
	if (accel_emu.create(&v, &e, 0))
		return NULL;
	accel_emu.get_supported_cpuid(&c);
	accel_emu.set_cpuid(v, &c);
	return v;
}

/* 7, 8: RESET and INIT. */
static void test_reset_init(void)
{
	struct bus epio, emmio;
	u8 *mem = calloc(1, 1 << 20);
	bus_init(&epio, "pio");
	bus_init(&emmio, "mmio");
	struct vcpu *v = emu_vcpu(mem, 1 << 20, &epio, &emmio);
	if (!v) {
		report(0, "7: cannot create the emu vCPU");
		return;
	}
	struct vcpu_sregs s;
	u64 xss = 1;
	bool zero = cet_msrs_zero(v, &xss);
	accel_emu.get_sregs(v, &s);
	report(zero && xss == 0 && s.cr4 == 0,
	       "7: after RESET, U_CET, S_CET, PL0..3_SSP, INT_SSP_TAB, XSS and CR4 read 0");

	const struct vcpu_msr set[] = {
		{ MSR_IA32_XSS, 0x1800 },	  { MSR_IA32_U_CET, CET_SHSTK_EN | CET_ENDBR_EN },
		{ MSR_IA32_S_CET, CET_SHSTK_EN }, { MSR_IA32_PL0_SSP, 0x1000 },
		{ MSR_IA32_PL0_SSP + 1, 0x2000 }, { MSR_IA32_PL0_SSP + 2, 0x3000 },
		{ MSR_IA32_PL0_SSP + 3, 0x4000 }, { MSR_IA32_INT_SSP_TAB, 0x5000 },
	};
	int n = accel_emu.set_msrs(v, set, (int)ARRAY_SIZE(set));
	s.cr4 |= X86_CR4_PAE;
	int sr = accel_emu.set_sregs(v, &s);
	sr |= accel_emu.set_one_reg(v, VCPU_REG_GUEST_SSP, 0x6000);
	accel_emu.get_sregs(v, &s);
	report(n == (int)ARRAY_SIZE(set) && sr == 0 && s.cr4 == X86_CR4_PAE,
	       "8: host SET of the CET MSRs, XSS and CR4 (%d of %d)", n, (int)ARRAY_SIZE(set));
	accel_emu.init(v);
	zero = cet_msrs_zero(v, &xss);
	accel_emu.get_sregs(v, &s);
	u64 ssp = 1;
	zero &= !accel_emu.get_one_reg(v, VCPU_REG_GUEST_SSP, &ssp) && ssp == 0;
	report(zero && s.cr4 == 0,
	       "8: INIT zeroes U_CET, S_CET, PL0..3_SSP, INT_SSP_TAB, SSP (ONE_REG) and CR4");
	report(xss == 0x1800, "8: INIT keeps XSS (%#llx)", (unsigned long long)xss);
	accel_emu.destroy(v);
	free(mem);

	/* RESET vs INIT of SSP and XSS, on the interpreter CPU. */
	struct cpu *cpu = new_cpu(true, true);
	report(cpu->cet.ssp == 0 && cpu->xss == 0, "7: after RESET SSP = 0");
	cpu->cet.ssp = 0x7000;
	cpu->xss = 0x1800;
	cpu_reset(cpu, true);
	report(cpu->cet.ssp == 0 && cpu->xss == 0x1800, "8: INIT zeroes SSP, keeps XSS");
	cpu->cet.ssp = 0x7000;
	cpu_reset(cpu, false);
	report(cpu->cet.ssp == 0 && cpu->xss == 0, "7: RESET zeroes SSP and XSS");
	cpu_destroy(cpu);
}

/* 37: a 32-bit protected-mode guest at CPL 3 with U_CET.ENDBR_EN jumps
 * indirectly to a target without ENDBR32: #CP(3) to a CPL 0 handler that
 * reads U_CET with RDMSR and halts. */
#define G_GDT 0x1000
#define G_TSS 0x2000
#define G_IDT 0x3000
#define G_CODE 0x4000
#define G_TARGET 0x4100
#define G_HANDLER 0x5000
#define G_KSTACK 0x9000

static void seg32(struct vcpu_segment *s, u16 sel, u8 type, u8 dpl)
{
	*s = (struct vcpu_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				    .present = 1, .dpl = dpl, .db = 1, .s = 1, .g = 1 };
}

static struct vcpu_exit run_ibt_guest(struct vcpu *v, u8 *mem, bool endbr, u64 *u_cet,
				      struct vcpu_regs *out)
{
	memset(mem, 0, 0x10000);
	u64 gdt[6] = { 0,
		       mkdesc(0, 0xfffff, 0x9b, 0xc),
		       mkdesc(0, 0xfffff, 0x93, 0xc),
		       mkdesc(0, 0xfffff, 0xfb, 0xc),
		       mkdesc(0, 0xfffff, 0xf3, 0xc),
		       mkdesc(G_TSS, 0x67, 0x8b, 0) };
	memcpy(mem + G_GDT, gdt, sizeof(gdt));
	u32 esp0 = G_KSTACK, ss0 = 0x10;
	memcpy(mem + G_TSS + 4, &esp0, 4);
	memcpy(mem + G_TSS + 8, &ss0, 4);
	for (int vec = 0; vec < 32; vec++) {
		u64 g = mkgate(0x08, G_HANDLER, 0x8e, 0);
		memcpy(mem + G_IDT + 8 * vec, &g, 8);
	}
	const u8 code[] = { 0xff, 0xe0 }; /* jmp *%eax */
	memcpy(mem + G_CODE, code, sizeof(code));
	const u8 with[] = { 0xf3, 0x0f, 0x1e, 0xfb, 0x0f, 0x0b }; /* endbr32; ud2 */
	const u8 without[] = { 0x90, 0x0f, 0x0b };                 /* nop; ud2 */
	if (endbr)
		memcpy(mem + G_TARGET, with, sizeof(with));
	else
		memcpy(mem + G_TARGET, without, sizeof(without));
	/* mov $0x6a0, %ecx; rdmsr; hlt */
	const u8 handler[] = { 0xb9, 0xa0, 0x06, 0x00, 0x00, 0x0f, 0x32, 0xf4 };
	memcpy(mem + G_HANDLER, handler, sizeof(handler));

	struct vcpu_sregs s;
	accel_emu.init(v);
	accel_emu.get_sregs(v, &s);
	seg32(&s.cs, 0x1b, 0xb, 3);
	seg32(&s.ss, 0x23, 0x3, 3);
	seg32(&s.ds, 0x23, 0x3, 3);
	seg32(&s.es, 0x23, 0x3, 3);
	seg32(&s.fs, 0x23, 0x3, 3);
	seg32(&s.gs, 0x23, 0x3, 3);
	s.tr = (struct vcpu_segment){ .base = G_TSS, .limit = 0x67, .selector = 0x28, .type = 0xb,
				      .present = 1 };
	s.ldt = (struct vcpu_segment){ .unusable = 1 };
	s.gdt = (struct vcpu_dtable){ G_GDT, sizeof(gdt) - 1 };
	s.idt = (struct vcpu_dtable){ G_IDT, 32 * 8 - 1 };
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_WP;
	s.cr4 = X86_CR4_CET;
	s.efer = 0;
	struct vcpu_regs r = { .rip = G_CODE, .rsp = 0x7000, .rflags = 2, .rax = G_TARGET };
	struct vcpu_exit e = { .reason = VCPU_EXIT_NONE };
	const struct vcpu_msr m = { MSR_IA32_U_CET, CET_ENDBR_EN };
	if (accel_emu.set_sregs(v, &s) || accel_emu.set_regs(v, &r) ||
	    accel_emu.set_msrs(v, &m, 1) != 1)
		return e;
	accel_emu.set_deadline(v, accel_emu.get_tsc(v) + 10000);
	accel_emu.run(v, &e);
	accel_emu.get_regs(v, out);
	struct vcpu_msr g = { MSR_IA32_U_CET, 0 };
	*u_cet = accel_emu.get_msrs(v, &g, 1) == 1 ? g.data : ~0ull;
	return e;
}

static void test_tracker_visible(void)
{
	struct bus epio, emmio;
	u8 *mem = calloc(1, 1 << 20);
	bus_init(&epio, "pio");
	bus_init(&emmio, "mmio");
	struct vcpu *v = emu_vcpu(mem, 1 << 20, &epio, &emmio);
	if (!v) {
		report(0, "37: cannot create the emu vCPU");
		return;
	}
	u64 u_cet;
	struct vcpu_regs r;
	struct vcpu_exit e = run_ibt_guest(v, mem, false, &u_cet, &r);
	u32 err, eip;
	memcpy(&err, mem + G_KSTACK - 24, 4);
	memcpy(&eip, mem + G_KSTACK - 20, 4);
	report(e.reason == VCPU_EXIT_HLT && err == 3 && eip == G_TARGET,
	       "37: user indirect JMP without ENDBR32: #CP(3) at the target (exit %d error %u eip %#x)",
	       e.reason, err, eip);
	report((r.rax & (1u << 11)) && (r.rax & CET_ENDBR_EN),
	       "37: the guest's RDMSR U_CET shows bit 11 = 1 (%#llx)", (unsigned long long)r.rax);
	report(u_cet == (CET_ENDBR_EN | (1u << 11)), "37: the host's get_msrs shows it too (%#llx)",
	       (unsigned long long)u_cet);

	e = run_ibt_guest(v, mem, true, &u_cet, &r);
	memcpy(&eip, mem + G_KSTACK - 20, 4);
	report(e.reason == VCPU_EXIT_HLT && eip == G_TARGET + 4 && !(r.rax & (1u << 11)) &&
		       u_cet == CET_ENDBR_EN,
	       "37: with ENDBR32 at the target: #UD at the UD2, bit 11 = 0 for guest and host "
	       "(%#llx, %#llx)", (unsigned long long)r.rax, (unsigned long long)u_cet);
	accel_emu.destroy(v);
	free(mem);
}

/* 66: SYSENTER/SYSEXIT in IA-32e mode with shadow stacks. */
static void cet_on(struct cpu *cpu, u64 u_cet, u64 s_cet)
{
	cpu->cr4 |= X86_CR4_CET;
	cpu->cet.u_cet = u_cet;
	cpu->cet.s_cet = s_cet;
	cet_refresh(cpu);
}

static void test_sysenter(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_long(cpu, 3);
	cet_on(cpu, CET_SHSTK_EN, CET_SHSTK_EN);
	cpu->cet.ssp = 0x100ff8;
	cpu->sysenter_cs = SEL_CODE64_0;
	cpu->sysenter_esp = 0x9000;
	cpu->sysenter_eip = 0x2000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x34), "66: SYSENTER from CPL 3 with U_CET and S_CET SH_STK_EN");
	report(cpu->cpl == 0 && cpu->cet.pl_ssp[3] == 0x100ff8 && cpu->cet.ssp == 0,
	       "66: SYSENTER saves SSP in PL3_SSP (%#llx) and sets SSP = 0 (%#llx)",
	       (unsigned long long)cpu->cet.pl_ssp[3], (unsigned long long)cpu->cet.ssp);
	cpu->cet.pl_ssp[3] = 0x100fe0;
	cpu->r[R_CX] = 0x7000;
	cpu->r[R_DX] = 0x1000;
	EXPECT_OK(RUN(cpu, 0x48, 0x0f, 0x35), "66: SYSEXIT (REX.W) to CPL 3");
	report(cpu->cpl == 3 && cpu->cet.ssp == 0x100fe0, "66: SYSEXIT sets SSP = PL3_SSP (%#llx)",
	       (unsigned long long)cpu->cet.ssp);

	/* U_CET off: PL3_SSP untouched; S_CET off: SSP kept at CPL 0. */
	cet_on(cpu, 0, CET_SHSTK_EN);
	cpu->cet.ssp = 0x5550;
	EXPECT_OK(RUN(cpu, 0x0f, 0x34), "66: SYSENTER with U_CET = 0");
	report(cpu->cet.pl_ssp[3] == 0x100fe0 && cpu->cet.ssp == 0,
	       "66: ... PL3_SSP not written, SSP = 0 (S_CET)");
	cpu->r[R_CX] = 0x7000;
	cpu->r[R_DX] = 0x1000;
	EXPECT_OK(RUN(cpu, 0x48, 0x0f, 0x35), "66: SYSEXIT with U_CET = 0");
	report(cpu->cet.ssp == 0, "66: ... SSP not loaded from PL3_SSP");
	cet_on(cpu, CET_SHSTK_EN, 0);
	cpu->cet.ssp = 0x100ff8;
	EXPECT_OK(RUN(cpu, 0x0f, 0x34), "66: SYSENTER with S_CET = 0");
	report(cpu->cet.pl_ssp[3] == 0x100ff8 && cpu->cet.ssp == 0x100ff8,
	       "66: ... PL3_SSP saved, SSP kept");

	/* Spec 5.11 default: SYSEXIT to 32-bit code with PL3_SSP[63:32] != 0. */
	cpu->cet.pl_ssp[3] = 0x100000000ull;
	cpu->r[R_CX] = 0x7000;
	cpu->r[R_DX] = 0x1000;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x35), X86_EXC_GP, 0,
		     "66: SYSEXIT to compatibility mode with PL3_SSP[63:32] != 0: #GP(0)");
	report(cpu->cpl == 0, "66: ... still at CPL 0");
	cpu_destroy(cpu);
}

/* 68, 69: task switches with CR4.CET in 32-bit protected mode (paging
 * off: linear = physical). */
#define OLD_SSP 0x20000u
#define NEW_TOK 0x2fff8u

static void task_b(struct cpu *cpu, u32 limit, u32 ssp)
{
	memset(ram + TSS_B, 0, 0x6c);
	wr32(TSS_B + 0x20, 0x6000);
	wr32(TSS_B + 0x24, 0x2);
	wr32(TSS_B + 0x38, 0xa000);
	for (int i = 0; i < 6; i++)
		wr16(TSS_B + 0x48 + 4 * i, i == SEG_CS ? SEL_CODE32_0 : SEL_DATA32_0);
	wr32(TSS_B + 0x68, ssp);
	set_gdt(SEL_TSS_B, mkdesc(TSS_B, limit, 0x89, 0));
	(void)cpu;
}

static struct cpu *task_cpu(void)
{
	struct cpu *cpu = new_cpu(true, true);
	setup_pm32(cpu, 0);
	cet_on(cpu, 0, CET_SHSTK_EN);
	cpu->cet.ssp = OLD_SSP;
	return cpu;
}

static void test_task(void)
{
	struct cpu *cpu = task_cpu();
	/* 68 */
	task_b(cpu, 0x67, NEW_TOK);
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_TSS_B), X86_EXC_TS, SEL_TSS_B,
		     "68: CR4.CET, 32-bit TSS with limit 0x67 < 0x6B: #TS(sel)");
	set_gdt(SEL_TSS_B, mkdesc(TSS_B, 0x6b, 0x81, 0)); /* 16-bit TSS */
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_TSS_B), X86_EXC_TS, SEL_TSS_B,
		     "68: CR4.CET, 16-bit TSS: #TS(sel)");
	report(cpu->seg[SEG_TR].sel == SEL_TSS_A && cpu->cet.ssp == OLD_SSP,
	       "68: ... no switch, SSP kept");

	/* 69: CALL: token at TSS+0x68, frame of the old task, IRET back. */
	task_b(cpu, 0x6b, NEW_TOK);
	wr64(NEW_TOK, NEW_TOK);
	u64 ret = cpu->rip + 7;
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_TSS_B), "69: CALL to a TSS (limit 0x6B) with SSE");
	u64 ssp = cpu->cet.ssp;
	report(cpu->seg[SEG_TR].sel == SEL_TSS_B && ssp == NEW_TOK - 24 &&
		       rd64(NEW_TOK) == (NEW_TOK | 1),
	       "69: SSP from TSS+0x68 after taking its token busy (%#llx)",
	       (unsigned long long)ssp);
	report(rd64(ssp) == OLD_SSP && rd64(ssp + 8) == ret && rd64(ssp + 16) == SEL_CODE32_0,
	       "69: the old task's SSP, LIP and CS pushed on the new shadow stack");
	EXPECT_OK(RUN(cpu, 0xcf), "69: IRET with NT back to the old task");
	report(cpu->seg[SEG_TR].sel == SEL_TSS_A && cpu->cet.ssp == OLD_SSP &&
		       rd64(NEW_TOK) == NEW_TOK,
	       "69: ... SSP restored from the frame (%#llx), the token freed",
	       (unsigned long long)cpu->cet.ssp);

	/* A tampered LIP: the IRET raises #CP(2) in the old task. */
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_TSS_B), "69: CALL to the TSS again");
	wr64(cpu->cet.ssp + 8, ret + 1);
	EXPECT_FAULT(RUN(cpu, 0xcf), X86_EXC_CP, 2, "69: IRET to a task with a changed LIP: #CP(2)");
	cpu_destroy(cpu);

	/* Busy token: #GP(0); misaligned SSP: #TS(sel). */
	cpu = task_cpu();
	task_b(cpu, 0x6b, NEW_TOK);
	wr64(NEW_TOK, NEW_TOK | 1);
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_TSS_B), X86_EXC_GP, 0,
		     "69: CALL to a TSS whose SSP token is busy: #GP(0)");
	cpu_destroy(cpu);
	cpu = task_cpu();
	task_b(cpu, 0x6b, NEW_TOK + 4);
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_TSS_B), X86_EXC_TS, SEL_TSS_B,
		     "69: CALL to a TSS whose SSP is not 8-aligned: #TS(sel)");
	cpu_destroy(cpu);

	/* Without SSE the TSS's SSP is not used; the switch runs as before. */
	cpu = task_cpu();
	cet_on(cpu, 0, 0);
	task_b(cpu, 0x6b, NEW_TOK);
	wr64(NEW_TOK, NEW_TOK | 1);
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_TSS_B), "69: CR4.CET without SSE: the token is ignored");
	report(cpu->cet.ssp == OLD_SSP && rd64(NEW_TOK) == (NEW_TOK | 1), "69: ... SSP kept");
	cpu_destroy(cpu);
}

int main(void)
{
	test_reset_init();
	test_tracker_visible();
	test_sysenter();
	test_task();
	return 0;
}
