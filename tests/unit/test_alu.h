/* test_alu.h: harness of the integer-instruction tests (test_alu*.c): run the
 * same instruction bytes on the host CPU and on the interpreter and compare.
 *
 * Host side: the bytes are copied into an executable page between a
 * prologue that loads all general registers (but RSP) and RFLAGS from a
 * struct xs and an epilogue that stores them back; SIGFPE/SIGSEGV/SIGBUS
 * become a "host fault" result. Instructions that are invalid in 64-bit
 * mode run in a 32-bit compatibility-mode code segment (Linux's __USER32_CS)
 * from a page below 4 GiB.
 *
 * Interpreter side: a struct cpu in 64-bit mode with 4-level paging whose
 * tables map the linear addresses of a window of host memory (the same
 * addresses the host instruction uses) onto guest RAM that *is* that host
 * memory, so memory operands can be compared too. decode_insn() + exec;
 * with T.fast, the handler the run loop would pick (fast.c) instead, so
 * the specialized forms meet the same oracle. Each test binary runs its
 * groups both ways.
 */
#ifndef CETVM_TEST_ALU_H
#define CETVM_TEST_ALU_H

/* Each test file uses a different subset of the helpers below. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#undef REG_RIP /* <sys/ucontext.h>'s gregs index; cpu.h has its own REG_RIP */

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/exec.h"
#include "cpu/fast.h"
#include "unit.h"

/* Register file + flags, laid out for the host trampoline: r at 0, fl at 128. */
struct xs {
	u64 r[16];
	u64 fl;
};

#define FL_ARITH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
		  X86_EFLAGS_SF | X86_EFLAGS_OF)
#define FL_SZP (X86_EFLAGS_SF | X86_EFLAGS_ZF | X86_EFLAGS_PF)
#define FL_CF X86_EFLAGS_CF
#define FL_OF X86_EFLAGS_OF
#define FL_ZF X86_EFLAGS_ZF
#define FL_COMPARED (FL_ARITH | X86_EFLAGS_DF)

#define WIN_PAGES 16 /* data window pages mapped for memory operands */
#define RAM_SIZE (8u << 20)

/* Test context: host code pages, interpreter, PRNG, group results. */
struct tctx {
	u8 *jit;          /* RWX page for 64-bit host code */
	u8 *low;          /* RWX pages below 4 GiB for compatibility mode */
	struct cpu *cpu;
	struct decode_table *dt;
	u8 *ram;          /* guest RAM = host memory */
	u8 *win;          /* WIN_PAGES pages, same linear address on both sides */
	u64 win_pa;       /* guest-physical address of win */
	u64 rng;
	int segv_vector;  /* what a host SIGSEGV stands for: #PF, or #GP */
	bool restart;     /* the last emulated instruction left RIP at itself */
	bool fast;        /* run fast_variant()'s handler where there is one */
	unsigned restarts;
	/* current group */
	const char *gname;
	unsigned gsize, gfails, gruns, gfaults, grestarts;
	char gfirst[512];
};

static struct tctx T;
static sigjmp_buf host_jb;
static volatile sig_atomic_t host_signal;

static u64 rnd(void)
{
	/* xorshift64*: fixed seed, reproducible */
	T.rng ^= T.rng >> 12;
	T.rng ^= T.rng << 25;
	T.rng ^= T.rng >> 27;
	return T.rng * 0x2545f4914f6cdd1dull;
}

static u64 mask_of(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* An interesting value of `size` bytes: edge cases half of the time; the
 * bits above the operand are random (they must be ignored or preserved). */
static u64 rnd_val(unsigned size)
{
	u64 m = mask_of(size), sb = 1ull << (size * 8 - 1), v;
	static const int kinds = 12;
	switch (rnd() % (2 * kinds)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = m; break;
	case 3: v = sb; break;
	case 4: v = sb - 1; break;
	case 5: v = sb + 1; break;
	case 6: v = 2; break;
	case 7: v = m - 1; break;
	case 8: v = rnd() & 0xff; break;
	case 9: v = 0xf; break;
	case 10: v = 0x10; break;
	case 11: v = (rnd() & 1) ? sb >> (rnd() % (size * 8)) : 1ull << (rnd() % (size * 8)); break;
	default: v = rnd(); break;
	}
	return (rnd() & ~m) | (v & m);
}

static u64 rnd_flags(void)
{
	return rnd() & FL_ARITH;
}

static void rnd_state(struct xs *s)
{
	for (int i = 0; i < 16; i++)
		s->r[i] = (rnd() & 3) ? rnd() : rnd_val(8);
	s->r[R_SP] = 0;
	s->fl = rnd_flags();
}

/* ---------------------------------------------------------------- host side */

static unsigned emit_bytes(u8 *p, unsigned n, const u8 *b, unsigned len)
{
	memcpy(p + n, b, len);
	return n + len;
}

/* mov reg, [rdi + disp32] (0x8b) or mov [rdi + disp32], reg (0x89). */
static unsigned emit_rdi(u8 *p, unsigned n, u8 opc, unsigned reg, u32 disp)
{
	p[n++] = (u8)(0x48 | (reg >= 8 ? 4 : 0));
	p[n++] = opc;
	p[n++] = (u8)(0x87 | ((reg & 7) << 3));
	memcpy(p + n, &disp, 4);
	return n + 4;
}

/* A host fault: keep the registers at the faulting instruction. */
static struct xs host_fault_state;
static volatile sig_atomic_t in_host; /* only host_run's code may fault */

static void host_handler(int sig, siginfo_t *si, void *ucv)
{
	if (!in_host) {
		/* A real crash (of the interpreter): die with the signal. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	in_host = 0;
	static const int map[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
				     REG_RSI, REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11,
				     REG_R12, REG_R13, REG_R14, REG_R15 };
	const ucontext_t *uc = ucv;
	(void)si;
	for (int i = 0; i < 16; i++)
		host_fault_state.r[i] = (u64)uc->uc_mcontext.gregs[map[i]];
	host_fault_state.r[R_SP] = 0;
	host_fault_state.fl = (u64)uc->uc_mcontext.gregs[REG_EFL];
	host_signal = sig;
	siglongjmp(host_jb, 1);
}

/* Run `code` on the host with state *s. Returns 0, or the signal number. */
static int host_run(const u8 *code, unsigned len, struct xs *s)
{
	static const u8 pro[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,
				  0x57,                               /* push rdi */
				  0xff, 0xb7, 128, 0, 0, 0, 0x9d };   /* push [rdi+128]; popfq */
	static const u8 epi1[] = { 0x9c, 0x57, 0x48, 0x8b, 0x7c, 0x24, 0x10, /* pushfq; push rdi; mov rdi,[rsp+16] */
				   0x8f, 0x87, 56, 0, 0, 0, 0x8f, 0x87, 128, 0, 0, 0 };
	static const u8 epi2[] = { 0xfc, 0x48, 0x83, 0xc4, 0x08, 0x41, 0x5f, 0x41, 0x5e,
				   0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
	u8 *p = T.jit;
	unsigned n = emit_bytes(p, 0, pro, sizeof(pro));
	for (unsigned r = 0; r < 16; r++)
		if (r != R_SP && r != R_DI)
			n = emit_rdi(p, n, 0x8b, r, r * 8);
	n = emit_rdi(p, n, 0x8b, R_DI, R_DI * 8);
	n = emit_bytes(p, n, code, len);
	n = emit_bytes(p, n, epi1, sizeof(epi1));
	for (unsigned r = 0; r < 16; r++)
		if (r != R_SP && r != R_DI)
			n = emit_rdi(p, n, 0x89, r, r * 8);
	emit_bytes(p, n, epi2, sizeof(epi2));
	host_signal = 0;
	if (sigsetjmp(host_jb, 1)) {
		*s = host_fault_state;
		return host_signal;
	}
	in_host = 1;
	((void (*)(struct xs *))(void *)T.jit)(s);
	in_host = 0;
	return 0;
}

/* Compatibility mode: 32-bit code at T.low + 0x100 reached by a far call
 * from a 64-bit stub at T.low; the state block is at T.low + 0x800 and the
 * stack below T.low + 0x2000. Memory is reached with an SS override (DS is
 * null in 64-bit Linux processes). */
#define LOW_STATE 0x800
static int host_run32(const u8 *code, unsigned len, struct xs *s)
{
	u8 *p = T.low;
	u32 base = (u32)(uintptr_t)p, st = base + LOW_STATE, fp = base + 0x80;
	u32 c32 = base + 0x100;
	u16 sel = 0x23; /* __USER32_CS */
	/* 64-bit: push rbx; push rbp; mov r11,rsp; mov rsp,rdi; push r11;
	 * lcall [fp]; pop rsp; pop rbp; pop rbx; ret */
	u8 stub[] = { 0x53, 0x55, 0x49, 0x89, 0xe3, 0x48, 0x89, 0xfc, 0x41, 0x53,
		      0xff, 0x1c, 0x25, 0, 0, 0, 0, 0x5c, 0x5d, 0x5b, 0xc3 };
	memcpy(stub + 13, &fp, 4);
	memcpy(p, stub, sizeof(stub));
	memcpy(p + 0x80, &c32, 4);
	memcpy(p + 0x84, &sel, 2);
	u8 *c = p + 0x100;
	unsigned n = 0;
	static const u8 regs[] = { R_AX, R_CX, R_DX, R_BX, R_BP, R_SI, R_DI };
	u32 *blk = (u32 *)(void *)(p + LOW_STATE);
	for (unsigned i = 0; i < sizeof(regs); i++) {
		u32 a = st + 4 * regs[i];
		blk[regs[i]] = (u32)s->r[regs[i]];
		c[n++] = 0x36, c[n++] = 0x8b, c[n++] = (u8)(0x05 | regs[i] << 3); /* mov r, ss:[a] */
		memcpy(c + n, &a, 4), n += 4;
	}
	u32 fa = st + 64;
	blk[16] = (u32)s->fl;
	c[n++] = 0x36, c[n++] = 0xff, c[n++] = 0x35, memcpy(c + n, &fa, 4), n += 4; /* push ss:[fa] */
	c[n++] = 0x9d;
	memcpy(c + n, code, len), n += len;
	c[n++] = 0x9c;
	c[n++] = 0x36, c[n++] = 0x8f, c[n++] = 0x05, memcpy(c + n, &fa, 4), n += 4;
	for (unsigned i = 0; i < sizeof(regs); i++) {
		u32 a = st + 4 * regs[i];
		c[n++] = 0x36, c[n++] = 0x89, c[n++] = (u8)(0x05 | regs[i] << 3);
		memcpy(c + n, &a, 4), n += 4;
	}
	c[n++] = 0xfc; /* cld */
	c[n++] = 0xcb; /* lret */
	host_signal = 0;
	if (sigsetjmp(host_jb, 1)) {
		u64 r_sp = s->r[R_SP];
		*s = host_fault_state;
		s->r[R_SP] = r_sp;
		return host_signal;
	}
	in_host = 1;
	((void (*)(u64))(void *)p)((u64)(uintptr_t)(p + 0x2000));
	in_host = 0;
	for (unsigned i = 0; i < sizeof(regs); i++)
		s->r[regs[i]] = blk[regs[i]];
	s->fl = blk[16];
	return 0;
}

/* Host CPUID feature bit (reg: 0 EAX .. 3 EDX). */
static bool host_has(unsigned leaf, unsigned sub, unsigned reg, unsigned bit)
{
	unsigned r[4] = { 0, 0, 0, 0 };
	if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]))
		return false;
	return (r[reg] >> bit) & 1;
}
#define HOST_BMI1 host_has(7, 0, 1, 3)
#define HOST_BMI2 host_has(7, 0, 1, 8)
#define HOST_ADX host_has(7, 0, 1, 19)
#define HOST_MOVBE host_has(1, 0, 2, 22)
#define HOST_POPCNT host_has(1, 0, 2, 23)
#define HOST_SSE42 host_has(1, 0, 2, 20)
#define HOST_CX16 host_has(1, 0, 2, 13)
#define HOST_LZCNT host_has(0x80000001, 0, 2, 5)
#define HOST_LAHF host_has(0x80000001, 0, 2, 0)

/* Does the host run 32-bit compatibility-mode code (ia32 emulation)? */
static bool host_has_compat(void)
{
	static int known = -1;
	if (known < 0) {
		struct xs s;
		const u8 nop = 0x90;
		memset(&s, 0, sizeof(s));
		known = host_run32(&nop, 1, &s) == 0;
	}
	return known;
}

/* ---------------------------------------------------------- interpreter side */

#define PTE_FLAGS (PTE_P | PTE_W | PTE_A | PTE_D)

static u64 *pt_at(u64 pa)
{
	return (u64 *)(void *)(T.ram + pa);
}

/* Map window page k read-write, read-only or not at all, on both sides. */
static void win_protect(unsigned k, int prot)
{
	u64 la = (u64)(uintptr_t)T.win + k * 4096ull;
	u64 *pte = pt_at(0x3000) + ((la >> 12) & 511);
	*pte = prot == PROT_NONE ? 0 : (T.win_pa + k * 4096ull) | PTE_P | PTE_A | PTE_D |
		(prot & PROT_WRITE ? PTE_W : 0);
	mprotect(T.win + k * 4096ull, 4096, prot);
	cpu_tlb_flush(T.cpu);
}

static void emu_setup_paging(void)
{
	u64 la = (u64)(uintptr_t)T.win;
	memset(T.ram, 0, 0x4000);
	pt_at(0x0000)[(la >> 39) & 511] = 0x1000 | PTE_FLAGS;
	pt_at(0x1000)[(la >> 30) & 511] = 0x2000 | PTE_FLAGS;
	pt_at(0x2000)[(la >> 21) & 511] = 0x3000 | PTE_FLAGS;
	for (unsigned k = 0; k < WIN_PAGES; k++)
		pt_at(0x3000)[((la >> 12) & 511) + k] = (T.win_pa + k * 4096ull) | PTE_FLAGS;
}

static void emu_reset(void)
{
	struct cpu *c = T.cpu;
	c->m64 = true;
	c->cpl = 0;
	c->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_ET | X86_CR0_NE;
	c->cr4 = X86_CR4_PAE;
	c->efer = EFER_LME | EFER_LMA | EFER_NXE;
	c->cr3 = 0;
	for (int i = 0; i < SEG_COUNT; i++) {
		c->seg[i].attr = SEG_ATTR_P | SEG_ATTR_S | 3;
		c->seg[i].limit = 0xffffffff;
		c->seg[i].base = 0;
	}
	c->seg[SEG_CS].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_L | 0xb;
	c->fault_nesting = 0;
	cpu_update_mmu_idx(c); /* MMU_SUP at CPL 0 */
	cpu_tlb_flush(c);
}

/* 32-bit protected mode, flat segments, no paging (register tests only). */
static void emu_mode32(void)
{
	struct cpu *c = T.cpu;
	c->m64 = false;
	c->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	c->cr4 = 0;
	c->efer = 0;
	c->seg[SEG_CS].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | 0xb;
	cpu_tlb_flush(c);
}

static void harness_init(void)
{
	struct sigaction sa;
	memset(&T, 0, sizeof(T));
	setvbuf(stdout, NULL, _IOLBF, 0);
	T.rng = 0x9e3779b97f4a7c15ull;
	T.segv_vector = X86_EXC_PF;
	T.jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	T.low = mmap(NULL, 0x3000, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	/* Below 4 GiB too, so 32-bit address-size forms can run on the host. */
	T.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		     -1, 0);
	if (T.jit == MAP_FAILED || T.low == MAP_FAILED || T.ram == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* The window starts 2 MiB-aligned so one page table maps it. */
	u64 w = ((u64)(uintptr_t)T.ram + 0x4000 + 0x1fffff) & ~0x1fffffull;
	T.win = (u8 *)(uintptr_t)w;
	T.win_pa = w - (u64)(uintptr_t)T.ram;
	T.cpu = calloc(1, sizeof(*T.cpu));
	T.dt = decode_table_create();
	if (!T.cpu || !T.dt)
		exit(1);
	T.cpu->ram = T.ram;
	T.cpu->ram_size = RAM_SIZE;
	T.cpu->phys_mask = (1ull << 46) - 1;
	memset(T.cpu->feat, 0xff, sizeof(T.cpu->feat)); /* every CPUID feature */
	T.cpu->code_pages = calloc(RAM_SIZE >> 12, 1);
	T.cpu->page_gen = calloc(RAM_SIZE >> 12, sizeof(u32));
	emu_setup_paging();
	emu_reset();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = host_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
}

/* Result of emu_run: 0 ok, -1 decode failure, else 100 + exception vector. */
#define EMU_DECODE_FAIL (-1)
#define EMU_FAULT(v) (100 + (v))

static int emu_run_mode(const u8 *code, unsigned len, struct xs *s, unsigned code_size)
{
	struct cpu *c = T.cpu;
	struct insn run[2]; /* the instruction and a terminator */
	struct insn in;
	jmp_buf jb;
	int n = decode_insn(T.dt, code, len, code_size, &in);
	if (n == DEC_UD || n == DEC_INVALID)
		return EMU_FAULT(X86_EXC_UD);
	if (n != (int)len || !in.exec)
		return EMU_DECODE_FAIL;
	memcpy(c->r, s->r, sizeof(c->r));
	c->eflags = (s->fl & (FL_ARITH | X86_EFLAGS_DF)) | X86_EFLAGS_FIXED;
	c->cc_op = CC_EAGER;
	c->rip = 0x400000;
	c->next_rip = c->rip + (u64)n;
	if (T.fast) {
		/* A one-instruction block at RIP, with RIP implicit (cpu.h). */
		in.next_off = (u16)n;
		c->cur_block_rip = c->rip;
		fast_variant(&in, code_size);
	}
	c->brk = false;
	c->fault_jmp = &jb;
	if (setjmp(jb)) {
		memcpy(s->r, c->r, sizeof(c->r));
		s->fl = cpu_get_rflags(c);
		return EMU_FAULT(c->fault.vector);
	}
	run[0] = in;
	exec_set_terminator(&run[1]);
	run[0].exec(c, &run[0]);
	memcpy(s->r, c->r, sizeof(c->r));
	s->fl = cpu_get_rflags(c);
	T.restart = c->next_rip == c->rip;
	return 0;
}

/* Run in 64-bit mode; an instruction that asks to be resumed (a long REP
 * string: next_rip = rip) is executed again until it completes. */
static int emu_run(const u8 *code, unsigned len, struct xs *s)
{
	int r;
	T.restarts = 0;
	do {
		r = emu_run_mode(code, len, s, 8);
	} while (r == 0 && T.restart && ++T.restarts < 100000);
	T.grestarts += T.restarts != 0;
	return r;
}

/* ------------------------------------------------------------- result groups */

static void group_begin(const char *name, unsigned size)
{
	T.gname = name;
	T.gsize = size;
	T.gfails = 0;
	T.gruns = 0;
	T.gfaults = 0;
	T.grestarts = 0;
	T.gfirst[0] = 0;
}

static void group_end(void)
{
	char size[16] = "", extra[64] = "";
	if (T.gsize)
		snprintf(size, sizeof(size), "/%u", T.gsize * 8);
	if (T.gfaults)
		snprintf(extra, sizeof(extra), " (%u faulting", T.gfaults);
	if (T.grestarts)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%s%u resumed",
			 T.gfaults ? ", " : " (", T.grestarts);
	if (extra[0])
		strcat(extra, ")");
	report(T.gfails == 0, "%s%s%s: %u cases%s%s%s", T.gname, size,
	       T.fast ? " (fast handlers)" : "", T.gruns, extra,
	       T.gfails ? ", first mismatch: " : "", T.gfirst);
}

static void hex_bytes(char *out, size_t n, const u8 *b, unsigned len)
{
	out[0] = 0;
	for (unsigned i = 0; i < len && strlen(out) + 4 < n; i++)
		snprintf(out + strlen(out), n - strlen(out), "%02x ", b[i]);
}

/* Compare host and interpreter results; record the first mismatch. */
static bool compare(const u8 *code, unsigned len, const struct xs *in, int hres,
		    const struct xs *h, int eres, const struct xs *e, u64 flmask)
{
	char bytes[64], why[200] = "";
	T.gruns++;
	T.gfaults += eres != 0;
	int hv = hres == 0 ? 0 : hres == SIGFPE ? EMU_FAULT(X86_EXC_DE)
			     : hres == SIGILL ? EMU_FAULT(X86_EXC_UD)
			     : EMU_FAULT(T.segv_vector); /* SIGSEGV/SIGBUS */
	if (eres == EMU_DECODE_FAIL)
		snprintf(why, sizeof(why), "decode failed");
	else if (hv != eres)
		snprintf(why, sizeof(why), "host %s, emu %s%d", hres ? "faulted" : "ok",
			 eres ? "fault " : "ok ", eres ? eres - 100 : 0);
	else if (hres == 0 && ((h->fl ^ e->fl) & flmask))
		snprintf(why, sizeof(why), "flags host %#llx emu %#llx (mask %#llx)",
			 (unsigned long long)h->fl, (unsigned long long)e->fl,
			 (unsigned long long)flmask);
	else
		for (int r = 0; r < 16; r++)
			if (r != R_SP && h->r[r] != e->r[r]) {
				snprintf(why, sizeof(why), "r%d host %#llx emu %#llx", r,
					 (unsigned long long)h->r[r], (unsigned long long)e->r[r]);
				break;
			}
	if (!why[0])
		return true;
	if (T.gfails++ == 0) {
		hex_bytes(bytes, sizeof(bytes), code, len);
		snprintf(T.gfirst, sizeof(T.gfirst),
			 "[%s] rax=%#llx rcx=%#llx rdx=%#llx rbx=%#llx rsi=%#llx fl=%#llx: %s", bytes,
			 (unsigned long long)in->r[0], (unsigned long long)in->r[1],
			 (unsigned long long)in->r[2], (unsigned long long)in->r[3],
			 (unsigned long long)in->r[6], (unsigned long long)in->fl, why);
	}
	return false;
}

/* Run on both sides from state *s and compare (registers, masked flags). */
static bool check_insn(const u8 *code, unsigned len, const struct xs *s, u64 flmask)
{
	struct xs h = *s, e = *s;
	int hr = host_run(code, len, &h);
	int er = emu_run(code, len, &e);
	return compare(code, len, s, hr, &h, er, &e, flmask);
}

/* ---------------------------------------------------------------- encoding */

/* An encoded instruction. */
struct enc {
	u8 b[16];
	unsigned n;
};

static void enc_put(struct enc *e, u8 v)
{
	if (e->n < sizeof(e->b))
		e->b[e->n++] = v;
}

static void enc_imm(struct enc *e, u64 imm, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		enc_put(e, (u8)(imm >> (8 * i)));
}

/* [66] [mand] [REX] [0F [38|3A]] op [ModRM(reg, rm), mod = 3] [imm]:
 * map 0 one-byte, 1 0F, 2 0F38, 3 0F3A; rm < 0: no ModRM; reg is a
 * register or an opcode extension; `rex` forces a REX prefix (byte
 * operands SPL..DIL instead of AH..BH). */
static struct enc enc_gen(unsigned size, u8 mand, unsigned map, u8 op, unsigned reg, int rm,
			  bool rex, u64 imm, unsigned ib)
{
	struct enc e = { .n = 0 };
	u8 r = (u8)(0x40 | (size == 8 ? 8 : 0));
	if (rm >= 0)
		r |= (u8)((reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0));
	if (size == 2)
		enc_put(&e, 0x66);
	if (mand)
		enc_put(&e, mand);
	if (r != 0x40 || rex)
		enc_put(&e, r);
	if (map)
		enc_put(&e, 0x0f);
	if (map == 2)
		enc_put(&e, 0x38);
	if (map == 3)
		enc_put(&e, 0x3a);
	enc_put(&e, op);
	if (rm >= 0)
		enc_put(&e, (u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
	enc_imm(&e, imm, ib);
	return e;
}

static struct enc enc_rr(unsigned size, u8 mand, unsigned map, u8 op, unsigned reg, unsigned rm,
			 bool rex)
{
	return enc_gen(size, mand, map, op, reg, (int)rm, rex, 0, 0);
}

/* VEX (C4) form: map 2/3, pp (0 NP, 1 66, 2 F3, 3 F2), W, vvvv, ModRM. */
static struct enc enc_vex(unsigned map, unsigned pp, bool w, unsigned vvvv, u8 op, unsigned reg,
			  unsigned rm, bool l)
{
	struct enc e = { .n = 0 };
	enc_put(&e, 0xc4);
	enc_put(&e, (u8)((reg >= 8 ? 0 : 0x80) | 0x40 | (rm >= 8 ? 0 : 0x20) | map));
	enc_put(&e, (u8)((w ? 0x80 : 0) | ((~vvvv & 15) << 3) | (l ? 4 : 0) | pp));
	enc_put(&e, op);
	enc_put(&e, (u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
	return e;
}

/* Put v into register operand `reg` of `size` bytes (AH..BH without REX). */
static void set_opnd(struct xs *s, unsigned reg, unsigned size, bool rex, u64 v)
{
	if (size == 1 && !rex && reg >= 4 && reg < 8)
		s->r[reg - 4] = (s->r[reg - 4] & ~0xff00ull) | ((v & 0xff) << 8);
	else
		s->r[reg] = v;
}

/* A register other than RSP (and, for byte operands without REX, any of
 * the eight: 4..7 are AH..BH then). */
static unsigned rnd_reg(unsigned size, bool rex)
{
	for (;;) {
		unsigned r = (unsigned)(rnd() % 16);
		if (size == 1 && !rex && r >= 8)
			continue;
		if (r == R_SP && !(size == 1 && !rex))
			continue;
		return r;
	}
}

#endif
