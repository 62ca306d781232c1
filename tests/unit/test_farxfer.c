/* test_farxfer.c: far control transfers on the interpreter, one
 * instruction at a time: far JMP/CALL/RET (direct, call gates with a stack
 * switch and parameter copy, 64-bit gates), IRET in every mode, SYSCALL /
 * SYSRET, SYSENTER / SYSEXIT, 32-bit task switches (CALL, IRET with NT,
 * JMP through a task gate), real-mode transfers, LDS/LSS, INT n. */
#include "test_sys.h"

/* Far pointer immediate: op (EA / 9A), 32-bit offset, selector. */
static int far_imm(struct cpu *cpu, u8 op, u32 off, u16 sel)
{
	const u8 b[7] = { op, (u8)off, (u8)(off >> 8), (u8)(off >> 16), (u8)(off >> 24),
			  (u8)sel, (u8)(sel >> 8) };
	return run_bytes(cpu, b, 7);
}

static u32 esp(const struct cpu *cpu) { return (u32)cpu->r[R_SP]; }

static void test_far_direct(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	EXPECT_OK(far_imm(cpu, 0xea, 0x1234, SEL_CODE32_0), "JMP FAR to 32-bit code");
	report(cpu->seg[SEG_CS].sel == SEL_CODE32_0 && cpu->rip == 0x1234, "... CS:EIP");
	report((gdt(SEL_CODE32_0) >> 40) & 1, "... descriptor accessed bit set");
	u64 ret = cpu->rip + 7;
	EXPECT_OK(far_imm(cpu, 0x9a, 0x2000, SEL_CONF0 | 3), "CALL FAR to conforming code");
	report(cpu->seg[SEG_CS].sel == SEL_CONF0 && cpu->rip == 0x2000 && esp(cpu) == 0x7ff8,
	       "... CS (RPL = CPL), EIP, ESP");
	report(rd32(0x7ffc) == SEL_CODE32_0 && rd32(0x7ff8) == ret, "... pushed CS and EIP");
	EXPECT_OK(RUN(cpu, 0xcb), "RETF");
	report(cpu->seg[SEG_CS].sel == SEL_CODE32_0 && cpu->rip == ret && esp(cpu) == 0x8000,
	       "... back, ESP restored");
	wr32(0x5000, 0x3000);
	wr16(0x5004, SEL_CODE32_0);
	cpu->r[R_AX] = 0x5000;
	EXPECT_OK(RUN(cpu, 0xff, 0x28), "JMP FAR m16:32");
	report(cpu->rip == 0x3000, "... offset from memory");
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, 0), X86_EXC_GP, 0, "JMP FAR null selector: #GP(0)");
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_DATA32_0), X86_EXC_GP, SEL_DATA32_0,
		     "JMP FAR to a data segment: #GP(sel)");
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_GDT_END), X86_EXC_GP, SEL_GDT_END,
		     "JMP FAR beyond the GDT limit: #GP(sel)");
	set_gdt(SEL_CODE32_1, gdt(SEL_CODE32_1) & ~(1ull << 47));
	setup_pm32(cpu, 1); /* CPL 1 (the segment registers stay those of CPL 3) */
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_CODE32_1 | 1), X86_EXC_NP, SEL_CODE32_1,
		     "CALL FAR not present: #NP(sel)");
	report(esp(cpu) == 0x8000, "... nothing pushed");
	setup_pm32(cpu, 3);
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_CODE32_0), X86_EXC_GP, SEL_CODE32_0,
		     "JMP FAR from CPL 3 to DPL 0 code: #GP(sel)");
	EXPECT_OK(far_imm(cpu, 0xea, 0x100000, SEL_CODE32_3 | 3), "JMP FAR within a 4 GiB limit");
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_CONF0),
		  "CALL FAR from CPL 3 to conforming DPL 0 code stays at CPL 3");
	report(cpu->cpl == 3 && (cpu->seg[SEG_CS].sel & 3) == 3, "... CPL 3");
	wr32(esp(cpu), 0x10);
	wr32(esp(cpu) + 4, SEL_CODE32_0);
	EXPECT_FAULT(RUN(cpu, 0xcb), X86_EXC_GP, SEL_CODE32_0, "RETF to a more privileged level: #GP(sel)");
	cpu_destroy(cpu);
}

static void test_call_gate32(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 3);
	wr32(TSS_A + 4, 0x9000);
	wr16(TSS_A + 8, SEL_DATA32_0);
	wr32(0x7ffc, 0xaaaa);
	wr32(0x7ff8, 0xbbbb);
	cpu->r[R_SP] = 0x7ff8;
	u64 ret = cpu->rip + 7;
	EXPECT_OK(far_imm(cpu, 0x9a, 0xdead, SEL_GATE32 | 3), "CALL FAR through a call gate to CPL 0");
	report(cpu->cpl == 0 && cpu->seg[SEG_CS].sel == SEL_CODE32_0 && cpu->rip == GATE_TARGET,
	       "... CPL 0 at the gate's target");
	report(cpu->seg[SEG_SS].sel == SEL_DATA32_0 && esp(cpu) == 0x9000 - 24,
	       "... SS:ESP from the TSS");
	report(rd32(0x8ffc) == (SEL_DATA32_3 | 3) && rd32(0x8ff8) == 0x7ff8 &&
	       rd32(0x8ff4) == 0xaaaa && rd32(0x8ff0) == 0xbbbb &&
	       rd32(0x8fec) == (SEL_CODE32_3 | 3) && rd32(0x8fe8) == ret,
	       "... frame: SS, ESP, 2 parameters in order, CS, EIP");
	load(cpu, SEG_DS, SEL_DATA32_0);
	EXPECT_OK(RUN(cpu, 0xca, 0x08, 0x00), "RETF 8 to CPL 3");
	report(cpu->cpl == 3 && cpu->seg[SEG_CS].sel == (SEL_CODE32_3 | 3) && cpu->rip == ret,
	       "... CPL 3, CS:EIP");
	report(cpu->seg[SEG_SS].sel == (SEL_DATA32_3 | 3) && esp(cpu) == 0x8000,
	       "... SS:ESP popped, parameters released");
	report((cpu->seg[SEG_DS].attr & SEG_ATTR_UNUSABLE) && cpu->seg[SEG_DS].sel == 0 &&
	       cpu->seg[SEG_ES].sel == (SEL_DATA32_3 | 3), "... DPL 0 DS nulled, DPL 3 ES kept");
	/* A #SS on the inner stack changes nothing. */
	set_gdt(SEL_DATA32_0, mkdesc(0, 0xfff, 0x93, 0x4));
	wr32(TSS_A + 4, 0x10);
	cpu->r[R_SP] = 0x7ff8;
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_GATE32 | 3), X86_EXC_SS, SEL_DATA32_0,
		     "call gate, inner stack beyond its limit: #SS(SS sel)");
	report(cpu->cpl == 3 && esp(cpu) == 0x7ff8 && cpu->seg[SEG_CS].sel == (SEL_CODE32_3 | 3),
	       "... CPL, ESP and CS unchanged");
	set_gdt(SEL_DATA32_0, mkdesc(0, 0xfffff, 0x93, 0xc));
	wr16(TSS_A + 8, SEL_DATA32_3 | 3);
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_GATE32 | 3), X86_EXC_TS, SEL_DATA32_3,
		     "call gate, TSS SS0 of DPL 3: #TS(SS sel)");
	set_gdt(SEL_GATE32, mkgate(SEL_CODE32_0, GATE_TARGET, 0x8c, 2)); /* DPL 0 */
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_GATE32 | 3), X86_EXC_GP, SEL_GATE32,
		     "call gate DPL < CPL: #GP(gate sel)");
	setup_pm32(cpu, 0);
	u64 ret0 = cpu->rip + 7;
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_GATE32), "call gate at the same privilege");
	report(cpu->rip == GATE_TARGET && esp(cpu) == 0x7ff8 && rd32(0x7ff8) == ret0,
	       "... no stack switch, CS:EIP pushed");
	EXPECT_OK(far_imm(cpu, 0xea, 0, SEL_GATE32), "JMP through a call gate");
	report(esp(cpu) == 0x7ff8 && cpu->rip == GATE_TARGET, "... nothing pushed");
	cpu_destroy(cpu);
}

static void test_gate64_iretq(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_long(cpu, 3);
	load(cpu, SEG_SS, SEL_DATA32_3 | 3);
	wr64(TSS_A + 4, 0x9000);
	wr64(0x5000, 0x1111);
	wr16(0x5008, SEL_GATE64 | 3);
	cpu->r[R_AX] = 0x5000;
	cpu->r[R_SP] = 0x7ff0;
	u64 ret = cpu->rip + 3;
	EXPECT_OK(RUN(cpu, 0x48, 0xff, 0x18), "CALL FAR m16:64 through a 64-bit call gate");
	report(cpu->cpl == 0 && cpu->m64 && cpu->rip == GATE_TARGET && cpu->r[R_SP] == 0x9000 - 32,
	       "... CPL 0, 64-bit code, RSP0 from the TSS");
	report((cpu->seg[SEG_SS].attr & SEG_ATTR_UNUSABLE) && cpu->seg[SEG_SS].sel == 0,
	       "... null SS");
	report(rd64(0x8ff8) == (SEL_DATA32_3 | 3) && rd64(0x8ff0) == 0x7ff0 &&
	       rd64(0x8fe8) == (SEL_CODE64_3 | 3) && rd64(0x8fe0) == ret, "... 4 quadwords pushed");
	EXPECT_OK(RUN(cpu, 0x48, 0xcb), "RETFQ to CPL 3");
	report(cpu->cpl == 3 && cpu->rip == ret && cpu->r[R_SP] == 0x7ff0 &&
	       cpu->seg[SEG_SS].sel == (SEL_DATA32_3 | 3), "... back at CPL 3");
	wr64(GDT_PA + SEL_GATE64 + 8, 1ull << 40);
	EXPECT_FAULT(RUN(cpu, 0x48, 0xff, 0x18), X86_EXC_GP, SEL_GATE64,
		     "64-bit gate with a non-zero upper type: #GP(gate sel)");
	wr64(GDT_PA + SEL_GATE64 + 8, 0);
	EXPECT_FAULT(far_imm(cpu, 0x9a, 0, SEL_GATE64), X86_EXC_UD, 0, "CALL ptr16:32 in 64-bit mode: #UD");

	/* IRETQ from CPL 0 to CPL 3. */
	setup_long(cpu, 0);
	cpu->r[R_SP] = 0x9000;
	wr64(0x9000, 0x4000);
	wr64(0x9008, SEL_CODE64_3 | 3);
	wr64(0x9010, 0x3202 | X86_EFLAGS_CF);
	wr64(0x9018, 0x7000);
	wr64(0x9020, SEL_DATA32_3 | 3);
	EXPECT_OK(RUN(cpu, 0x48, 0xcf), "IRETQ to CPL 3");
	report(cpu->cpl == 3 && cpu->m64 && cpu->rip == 0x4000 && cpu->r[R_SP] == 0x7000 &&
	       cpu->seg[SEG_SS].sel == (SEL_DATA32_3 | 3), "... CS:RIP, SS:RSP");
	report((cpu_get_rflags(cpu) & 0x3fff) == (0x3202 | X86_EFLAGS_CF), "... RFLAGS with IOPL 3");
	/* At CPL 3 with IOPL 0, IRET cannot change IOPL or IF. */
	cpu->eflags &= ~(X86_EFLAGS_IOPL | X86_EFLAGS_IF);
	cpu->r[R_SP] = 0x9000;
	wr64(0x9010, 0x3202);
	EXPECT_OK(RUN(cpu, 0x48, 0xcf), "IRETQ at CPL 3");
	report(!(cpu->eflags & (X86_EFLAGS_IOPL | X86_EFLAGS_IF)), "... IOPL and IF unchanged");
	setup_long(cpu, 0);
	cpu->r[R_SP] = 0x9000;
	wr64(0x9008, SEL_CODE64_0);
	wr64(0x9010, 0x2);
	wr64(0x9020, 0);
	EXPECT_OK(RUN(cpu, 0x48, 0xcf), "IRETQ to CPL 0 with a null SS");
	report(cpu->r[R_SP] == 0x7000 && (cpu->seg[SEG_SS].attr & SEG_ATTR_UNUSABLE),
	       "... pops SS:RSP at the same privilege too");
	cpu->r[R_SP] = 0x9000;
	wr64(0x9008, SEL_CODE64_3 | 3);
	EXPECT_FAULT(RUN(cpu, 0x48, 0xcf), X86_EXC_GP, 0, "IRETQ to CPL 3 with a null SS: #GP(0)");
	report(cpu->r[R_SP] == 0x9000 && cpu->cpl == 0, "... nothing committed");
	wr64(0x9000, 0x800000000000ull);
	wr64(0x9020, SEL_DATA32_3 | 3);
	EXPECT_FAULT(RUN(cpu, 0x48, 0xcf), X86_EXC_GP, 0, "IRETQ to a non-canonical RIP: #GP(0)");
	wr64(0x9000, 0x4000);
	wr64(0x9008, SEL_CODE32_3 | 3);
	EXPECT_OK(RUN(cpu, 0x48, 0xcf), "IRETQ to compatibility mode");
	report(cpu->cpl == 3 && !cpu->m64 && cpu->rip == 0x4000, "... 32-bit code at CPL 3");
	setup_long(cpu, 0);
	cpu->eflags |= X86_EFLAGS_NT;
	EXPECT_FAULT(RUN(cpu, 0x48, 0xcf), X86_EXC_GP, 0, "IRET with NT in IA-32e mode: #GP(0)");
	cpu_destroy(cpu);
}

static void test_iret32(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	wr32(0x8000, 0x1500);
	wr32(0x8004, SEL_CODE32_0);
	wr32(0x8008, 0x246 | X86_EFLAGS_IOPL);
	EXPECT_OK(RUN(cpu, 0xcf), "IRETD at the same privilege");
	report(cpu->rip == 0x1500 && esp(cpu) == 0x800c && (cpu_get_rflags(cpu) & 0xffff) == 0x3246,
	       "... EIP, ESP, EFLAGS (CPL 0 loads IOPL)");
	wr32(0x800c, 0x1600);
	wr32(0x8010, SEL_CODE32_3 | 3);
	wr32(0x8014, 0x202);
	wr32(0x8018, 0x6000);
	wr32(0x801c, SEL_DATA32_3 | 3);
	EXPECT_OK(RUN(cpu, 0xcf), "IRETD to CPL 3");
	report(cpu->cpl == 3 && esp(cpu) == 0x6000 && cpu->seg[SEG_SS].sel == (SEL_DATA32_3 | 3) &&
	       (cpu->seg[SEG_DS].attr & SEG_ATTR_UNUSABLE), "... SS:ESP popped, DPL 0 DS nulled");
	setup_pm32(cpu, 0);
	wr32(0x8000, 0x1700);
	wr32(0x8004, SEL_CODE32_3 | 3);
	wr32(0x8008, 0x202);
	wr32(0x800c, 0x6000);
	wr32(0x8010, SEL_DATA32_0);
	EXPECT_FAULT(RUN(cpu, 0xcf), X86_EXC_GP, SEL_DATA32_0, "IRET to CPL 3 with a DPL 0 SS: #GP(sel)");
	/* Return to virtual-8086 mode. */
	wr32(0x8008, 0x20202);
	wr32(0x8004, 0x1234);
	wr32(0x800c, 0xfff0);
	wr32(0x8010, 0x2000);
	wr32(0x8014, 0x3000);
	wr32(0x8018, 0x4000);
	wr32(0x801c, 0x5000);
	wr32(0x8020, 0x6000);
	EXPECT_OK(RUN(cpu, 0xcf), "IRETD from CPL 0 to virtual-8086 mode");
	report((cpu->eflags & X86_EFLAGS_VM) && cpu->cpl == 3 && cpu->seg[SEG_CS].base == 0x12340 &&
	       cpu->seg[SEG_SS].base == 0x20000 && cpu->seg[SEG_GS].base == 0x60000 &&
	       esp(cpu) == 0xfff0 && cpu->rip == 0x1700, "... VM86 segments, CPL 3");
	cpu->r[R_SP] = 0x100;
	EXPECT_FAULT(RUN(cpu, 0xcf), X86_EXC_GP, 0, "IRET in VM86 with IOPL 0: #GP(0)");
	cpu_destroy(cpu);
}

static void test_syscall(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_long(cpu, 3);
	cpu->star = (0x18ull << 48) | (0x28ull << 32);
	cpu->lstar = 0xffffffff81000000ull;
	cpu->fmask = X86_EFLAGS_IF | X86_EFLAGS_TF;
	cpu->eflags |= X86_EFLAGS_IF;
	cpu->efer &= ~EFER_SCE;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x05), X86_EXC_UD, 0, "SYSCALL with EFER.SCE = 0: #UD");
	cpu->efer |= EFER_SCE;
	u64 ret = cpu->rip + 2;
	EXPECT_OK(RUN(cpu, 0x0f, 0x05), "SYSCALL");
	report(cpu->cpl == 0 && cpu->m64 && cpu->rip == 0xffffffff81000000ull &&
	       cpu->seg[SEG_CS].sel == 0x28 && cpu->seg[SEG_SS].sel == 0x30, "... CPL 0 at LSTAR");
	report(cpu->r[R_CX] == ret && (cpu->r[R_R11] & X86_EFLAGS_IF) &&
	       !(cpu->eflags & X86_EFLAGS_IF), "... RCX, R11, RFLAGS masked by FMASK");
	cpu->r[R_CX] = 0x401000;
	cpu->r[R_R11] = 0x202 | X86_EFLAGS_RF | X86_EFLAGS_VM;
	EXPECT_OK(RUN(cpu, 0x48, 0x0f, 0x07), "SYSRETQ");
	report(cpu->cpl == 3 && cpu->m64 && cpu->rip == 0x401000 && cpu->seg[SEG_CS].sel == 0x2b &&
	       cpu->seg[SEG_SS].sel == 0x23, "... CPL 3, 64-bit, CS = STAR[63:48] + 16");
	report((cpu_get_rflags(cpu) & 0xffffffff) == 0x202, "... RFLAGS from R11 without RF, VM");
	EXPECT_FAULT(RUN(cpu, 0x48, 0x0f, 0x07), X86_EXC_GP, 0, "SYSRET at CPL 3: #GP(0)");
	EXPECT_OK(RUN(cpu, 0x0f, 0x05), "SYSCALL again");
	cpu->r[R_CX] = 0x800000000000ull;
	EXPECT_FAULT(RUN(cpu, 0x48, 0x0f, 0x07), X86_EXC_GP, 0, "SYSRETQ to a non-canonical RCX: #GP(0)");
	report(cpu->cpl == 0, "... still CPL 0");
	cpu->r[R_CX] = 0x1234500001000ull;
	EXPECT_OK(RUN(cpu, 0x0f, 0x07), "SYSRET to compatibility mode");
	report(cpu->cpl == 3 && !cpu->m64 && cpu->rip == 0x1000 && cpu->seg[SEG_CS].sel == 0x1b,
	       "... 32-bit code, EIP = ECX");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x05), X86_EXC_UD, 0, "SYSCALL in compatibility mode: #UD");
	cpu_destroy(cpu);
}

static void test_sysenter(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 3);
	cpu->eflags |= X86_EFLAGS_IF;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x34), X86_EXC_GP, 0, "SYSENTER with SYSENTER_CS = 0: #GP(0)");
	cpu->sysenter_cs = SEL_CODE32_0;
	cpu->sysenter_esp = 0x9000;
	cpu->sysenter_eip = 0x5000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x34), "SYSENTER");
	report(cpu->cpl == 0 && cpu->rip == 0x5000 && esp(cpu) == 0x9000 &&
	       cpu->seg[SEG_CS].sel == SEL_CODE32_0 && cpu->seg[SEG_SS].sel == SEL_DATA32_0 &&
	       !(cpu->eflags & X86_EFLAGS_IF), "... CPL 0, flat CS/SS, IF = 0");
	cpu->r[R_CX] = 0x7000;
	cpu->r[R_DX] = 0x6000;
	EXPECT_OK(RUN(cpu, 0x0f, 0x35), "SYSEXIT");
	report(cpu->cpl == 3 && cpu->rip == 0x6000 && esp(cpu) == 0x7000 &&
	       cpu->seg[SEG_CS].sel == (SEL_CODE32_0 + 16 + 3) &&
	       cpu->seg[SEG_SS].sel == (SEL_CODE32_0 + 24 + 3), "... CPL 3, CS +16, SS +24");
	EXPECT_FAULT(RUN(cpu, 0x0f, 0x35), X86_EXC_GP, 0, "SYSEXIT at CPL 3: #GP(0)");
	setup_long(cpu, 3);
	cpu->sysenter_cs = SEL_CODE64_0;
	cpu->sysenter_esp = 0xffff800000009000ull;
	cpu->sysenter_eip = 0xffffffff81002000ull;
	EXPECT_OK(RUN(cpu, 0x0f, 0x34), "SYSENTER in IA-32e mode");
	report(cpu->m64 && cpu->rip == 0xffffffff81002000ull && cpu->r[R_SP] == 0xffff800000009000ull,
	       "... 64-bit RIP and RSP");
	cpu->r[R_CX] = 0x7000;
	cpu->r[R_DX] = 0x401000;
	EXPECT_OK(RUN(cpu, 0x48, 0x0f, 0x35), "SYSEXIT with REX.W");
	report(cpu->cpl == 3 && cpu->m64 && cpu->seg[SEG_CS].sel == (SEL_CODE64_0 + 32 + 3),
	       "... to 64-bit code, CS +32");
	cpu_destroy(cpu);
}

static void test_task_switch(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	memset(ram + TSS_B, 0, 0x68);
	wr32(TSS_B + 0x20, 0x6000);
	wr32(TSS_B + 0x24, 0x202);
	wr32(TSS_B + 0x28, 0x1111);
	wr32(TSS_B + 0x38, 0xa000);
	for (int i = 0; i < 6; i++)
		wr16(TSS_B + 0x48 + 4 * i, i == SEG_CS ? SEL_CODE32_0 : SEL_DATA32_0);
	cpu->r[R_AX] = 0xaaaa;
	u64 ret = cpu->rip + 7;
	EXPECT_OK(far_imm(cpu, 0x9a, 0, SEL_TSS_B), "CALL FAR to a TSS: task switch");
	report(cpu->rip == 0x6000 && cpu->r[R_AX] == 0x1111 && esp(cpu) == 0xa000 &&
	       cpu->seg[SEG_TR].sel == SEL_TSS_B, "... the new task's EIP, registers, TR");
	report((cpu->eflags & X86_EFLAGS_NT) && rd16(TSS_B) == SEL_TSS_A && (cpu->cr0 & X86_CR0_TS),
	       "... NT, back link, CR0.TS");
	report(rd32(TSS_A + 0x20) == ret && rd32(TSS_A + 0x28) == 0xaaaa,
	       "... old task saved (EIP after the CALL, EAX)");
	report(((gdt(SEL_TSS_A) >> 40) & 0xf) == 11 && ((gdt(SEL_TSS_B) >> 40) & 0xf) == 11,
	       "... both TSSs busy");
	EXPECT_OK(RUN(cpu, 0xcf), "IRET with NT: task return");
	report(cpu->rip == ret && cpu->r[R_AX] == 0xaaaa && esp(cpu) == 0x8000 &&
	       cpu->seg[SEG_TR].sel == SEL_TSS_A, "... back in the old task");
	report(((gdt(SEL_TSS_B) >> 40) & 0xf) == 9 && !(rd32(TSS_B + 0x24) & X86_EFLAGS_NT),
	       "... new TSS free again, its saved EFLAGS without NT");
	EXPECT_OK(far_imm(cpu, 0xea, 0, SEL_TASK_GATE), "JMP FAR through a task gate");
	report(cpu->seg[SEG_TR].sel == SEL_TSS_B && !(cpu->eflags & X86_EFLAGS_NT) &&
	       ((gdt(SEL_TSS_A) >> 40) & 0xf) == 9, "... old TSS freed, no NT");
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_TSS_B), X86_EXC_GP, SEL_TSS_B,
		     "JMP FAR to a busy TSS: #GP(sel)");
	set_gdt(SEL_TSS_A, mkdesc(TSS_A, 0x60, 0x89, 0));
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_TSS_A), X86_EXC_TS, SEL_TSS_A,
		     "task switch to a TSS with limit < 0x67: #TS(sel)");
	set_gdt(SEL_TSS_A, mkdesc(TSS_A, 0x67, 0x89, 0));
	wr16(TSS_A + 0x4c, SEL_DATA32_0); /* CS of task A: a data segment */
	EXPECT_FAULT(far_imm(cpu, 0xea, 0, SEL_TSS_A), X86_EXC_TS, SEL_DATA32_0,
		     "new task's CS not code: #TS(CS sel) in the new task");
	report(cpu->seg[SEG_TR].sel == SEL_TSS_A && cpu->rip == ret + 7,
	       "... raised after the commit point, at the new task's EIP");
	setup_long(cpu, 0);
	wr32(0x5000, 0);
	wr16(0x5004, SEL_TSS_B);
	cpu->r[R_AX] = 0x5000;
	EXPECT_FAULT(RUN(cpu, 0xff, 0x28), X86_EXC_GP, SEL_TSS_B, "JMP FAR to a TSS in IA-32e mode: #GP(sel)");
	cpu_destroy(cpu);
}

static void test_real_mode(void)
{
	struct cpu *cpu = new_cpu(false, false);
	cpu_reset(cpu, false);
	cpu->cr0 &= ~(X86_CR0_CD | X86_CR0_NW);
	cpu->seg[SEG_CS].base = 0;
	cpu->seg[SEG_CS].sel = 0;
	cpu->rip = 0x100;
	cpu->r[R_SP] = 0x8000;
	EXPECT_OK(RUN(cpu, 0x9a, 0x10, 0x00, 0x34, 0x12), "real mode CALL FAR 1234:0010");
	report(cpu->seg[SEG_CS].sel == 0x1234 && cpu->seg[SEG_CS].base == 0x12340 &&
	       cpu->rip == 0x10 && esp(cpu) == 0x7ffc && rd16(0x7ffe) == 0 && rd16(0x7ffc) == 0x105,
	       "... CS base 0x12340, CS:IP pushed");
	EXPECT_OK(RUN(cpu, 0xcb), "real mode RETF");
	report(cpu->seg[SEG_CS].sel == 0 && cpu->rip == 0x105 && esp(cpu) == 0x8000, "... back");
	wr16(0x7ffa, 0x200);
	wr16(0x7ffc, 0x50);
	wr16(0x7ffe, 0x3202 | X86_EFLAGS_CF);
	cpu->r[R_SP] = 0x7ffa;
	EXPECT_OK(RUN(cpu, 0xcf), "real mode IRET");
	report(cpu->rip == 0x200 && cpu->seg[SEG_CS].base == 0x500 &&
	       (cpu_get_rflags(cpu) & 0xffff) == (0x3202 | X86_EFLAGS_CF), "... IP, CS, FLAGS");
	EXPECT_FAULT(RUN(cpu, 0x66, 0xea, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00), X86_EXC_GP, 0,
		     "real mode JMP FAR beyond the CS limit: #GP(0)");
	/* INT n through the IVT (except.c). */
	wr16(4 * 0x21, 0x0300);
	wr16(4 * 0x21 + 2, 0x0070);
	cpu->r[R_SP] = 0x8000;
	u64 ret = cpu->rip + 2;
	EXPECT_OK(RUN(cpu, 0xcd, 0x21), "real mode INT 21h");
	report(cpu->seg[SEG_CS].base == 0x700 && cpu->rip == 0x300 && rd16(0x7ffa) == ret,
	       "... vector from the IVT, return IP pushed");
	cpu_destroy(cpu);
}

static void test_lxs_int(void)
{
	struct cpu *cpu = new_cpu(false, false);
	setup_pm32(cpu, 0);
	wr32(0x5000, 0x12345678);
	wr16(0x5004, SEL_DATA32_3 | 3);
	cpu->r[R_CX] = 0x5000;
	EXPECT_OK(RUN(cpu, 0xc5, 0x01), "LDS EAX, [ECX]");
	report(cpu->r[R_AX] == 0x12345678 && cpu->seg[SEG_DS].sel == (SEL_DATA32_3 | 3), "... DS:EAX");
	wr16(0x5002, SEL_DATA32_0);
	EXPECT_OK(RUN(cpu, 0x66, 0x0f, 0xb4, 0x01), "LFS AX, [ECX]");
	report((cpu->r[R_AX] & 0xffff) == 0x5678 && cpu->seg[SEG_FS].sel == SEL_DATA32_0,
	       "... 16-bit offset, selector at +2");
	wr16(0x5004, 0);
	cpu->r[R_AX] = 0;
	EXPECT_FAULT(RUN(cpu, 0x0f, 0xb2, 0x01), X86_EXC_GP, 0, "LSS with a null selector: #GP(0)");
	report(cpu->r[R_AX] == 0, "... register unchanged");
	cpu->eflags &= ~X86_EFLAGS_OF;
	EXPECT_OK(RUN(cpu, 0xce), "INTO with OF = 0 does nothing");
	setup_pm32(cpu, 3);
	cpu->eflags |= X86_EFLAGS_VM;
	cpu_update_mode(cpu);
	EXPECT_FAULT(RUN(cpu, 0xcd, 0x80), X86_EXC_GP, 0, "INT n in VM86 with IOPL < 3: #GP(0)");
	setup_long(cpu, 0);
	EXPECT_FAULT(RUN(cpu, 0xce), X86_EXC_UD, 0, "INTO in 64-bit mode: #UD");
	EXPECT_FAULT(RUN(cpu, 0xc5, 0x01, 0x00, 0x00), X86_EXC_UD, 0, "C5 in 64-bit mode is VEX, not LDS");
	cpu_destroy(cpu);
}

int main(void)
{
	test_far_direct();
	test_call_gate32();
	test_gate64_iretq();
	test_iret32();
	test_syscall();
	test_sysenter();
	test_task_switch();
	test_real_mode();
	test_lxs_int();
	decode_table_destroy(dt);
	free(ram);
	return 0;
}
