/* fpu_oracle.h: run one instruction's bytes on the host CPU and on cetvm's
 * interpreter from the same register and memory state, for the SSE, x87
 * and XSAVE unit tests. The host run goes through a trampoline that loads
 * GPRs, RFLAGS and the FXSAVE image, calls the bytes (followed by RET) in
 * an executable buffer, and saves everything back. Memory operands use
 * [RBX]: RBX holds the guest address for cetvm and a host buffer's address
 * for the host. Only instructions that cannot fault on the host belong
 * here (masked exceptions, aligned buffers). */
#ifndef CETVM_FPU_ORACLE_H
#define CETVM_FPU_ORACLE_H

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/xsave.h"
#include "unit.h"

#define ORACLE_MEM 0x10000ull  /* guest-physical (= linear) address of the data page */
#define ORACLE_CODE 0x20000ull /* guest RIP of the instruction */
#define ORACLE_RAM (1u << 20)

/* Everything an instruction can read or write. fx: FXSAVE64 image. */
struct ostate {
	u8 fx[512];
	u64 gpr[16];
	u64 rflags;
	u64 pad[7];
} __attribute__((aligned(64)));

void host_run(struct ostate *st, const void *code);
__asm__(".text\n.globl host_run\n.type host_run,@function\nhost_run:\n"
	"push %rbp\npush %rbx\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"push %rsi\npush %rdi\n"
	"fxrstor64 (%rdi)\n"
	"pushq 640(%rdi)\npopfq\n"
	"mov 512(%rdi), %rax\nmov 520(%rdi), %rcx\nmov 528(%rdi), %rdx\nmov 536(%rdi), %rbx\n"
	"mov 552(%rdi), %rbp\nmov 560(%rdi), %rsi\nmov 576(%rdi), %r8\nmov 584(%rdi), %r9\n"
	"mov 592(%rdi), %r10\nmov 600(%rdi), %r11\nmov 608(%rdi), %r12\nmov 616(%rdi), %r13\n"
	"mov 624(%rdi), %r14\nmov 632(%rdi), %r15\nmov 568(%rdi), %rdi\n"
	"call *8(%rsp)\n"
	"push %rdi\nmov 8(%rsp), %rdi\n"
	"mov %rax, 512(%rdi)\nmov %rcx, 520(%rdi)\nmov %rdx, 528(%rdi)\nmov %rbx, 536(%rdi)\n"
	"mov %rbp, 552(%rdi)\nmov %rsi, 560(%rdi)\nmov %r8, 576(%rdi)\nmov %r9, 584(%rdi)\n"
	"mov %r10, 592(%rdi)\nmov %r11, 600(%rdi)\nmov %r12, 608(%rdi)\nmov %r13, 616(%rdi)\n"
	"mov %r14, 624(%rdi)\nmov %r15, 632(%rdi)\npop %rax\nmov %rax, 568(%rdi)\n"
	"pushfq\npop %rax\nmov %rax, 640(%rdi)\n"
	"fxsave64 (%rdi)\nfninit\npushq $0x1f80\nldmxcsr (%rsp)\nadd $8, %rsp\n"
	"add $16, %rsp\npop %r15\npop %r14\npop %r13\npop %r12\npop %rbx\npop %rbp\nret\n"
	".size host_run, .-host_run\n");

struct oracle {
	struct cpu *cpu;
	struct decode_table *dt;
	struct accel_env env;
	u8 *ram;
	u8 *hmem;  /* host twin of the guest data page */
	u8 *code;  /* executable buffer */
	u64 rng;
};

static u64 o_rand(struct oracle *o)
{
	/* xorshift64*: fixed seed, reproducible */
	o->rng ^= o->rng >> 12;
	o->rng ^= o->rng << 25;
	o->rng ^= o->rng >> 27;
	return o->rng * 0x2545f4914f6cdd1dull;
}

/* A 64-bit mode, CPL 0, paging-off CPU with every CPUID feature bit set. */
static __attribute__((unused)) void o_reset_cpu(struct oracle *o)
{
	struct cpu *c = o->cpu;
	cpu_reset(c, false);
	memset(c->feat, 0xff, sizeof(c->feat));
	c->xcr0_mask = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_YMM | XFEATURE_PKRU;
	c->xss_mask = XFEATURE_CET_U | XFEATURE_CET_S;
	c->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE;
	c->cr4 = X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_OSXSAVE | X86_CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->seg[SEG_CS].attr |= SEG_ATTR_L;
	c->seg[SEG_CS].base = 0;
	c->xcr0 = XFEATURE_X87 | XFEATURE_SSE;
	cpu_update_mode(c);
	cpu_tlb_flush(c);
}

static __attribute__((unused)) int o_init(struct oracle *o)
{
	memset(o, 0, sizeof(*o));
	o->rng = 0x9e3779b97f4a7c15ull;
	o->ram = aligned_alloc(4096, ORACLE_RAM);
	o->hmem = aligned_alloc(4096, 4096);
	o->code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (!o->ram || !o->hmem || o->code == MAP_FAILED)
		return -1;
	memset(o->ram, 0, ORACLE_RAM);
	o->env.ram = o->ram;
	o->env.ram_size = ORACLE_RAM;
	o->dt = decode_table_create();
	if (!o->dt || cpu_create(&o->cpu, &o->env))
		return -1;
	o_reset_cpu(o);
	return 0;
}

static __attribute__((unused)) void o_fini(struct oracle *o)
{
	cpu_destroy(o->cpu);
	decode_table_destroy(o->dt);
	munmap(o->code, 4096);
	free(o->ram);
	free(o->hmem);
	fflush(stdout);
}

/* Decode bytes as one instruction of a code_size-byte code segment and run
 * it at ORACLE_CODE on the current CPU state. Returns the exception vector
 * raised, -1 if none, or -3 if the bytes are not exactly one instruction. */
static __attribute__((unused)) int o_exec(struct oracle *o, const u8 *bytes, unsigned n,
					  unsigned code_size)
{
	struct cpu *c = o->cpu;
	struct insn in;
	jmp_buf jb;
	volatile int vec = -1;
	if (decode_insn(o->dt, bytes, n, code_size, &in) != (int)n)
		return -3;
	c->rip = ORACLE_CODE;
	c->next_rip = ORACLE_CODE + n;
	c->fault_jmp = &jb;
	if (setjmp(jb))
		vec = c->fault.vector;
	else
		in.exec(c, &in);
	c->fault_jmp = NULL;
	return vec;
}

/* Run bytes under cetvm from *st (data page = mem). Returns the exception
 * vector raised, or -1. On a fault *st is still updated. */
static __attribute__((unused)) int o_emu(struct oracle *o, const u8 *bytes, unsigned n,
					 struct ostate *st, u8 *mem)
{
	struct cpu *c = o->cpu;
	u8 img[XSAVE_STD_IMAGE];
	int vec;
	memcpy(o->ram + ORACLE_MEM, mem, 4096);
	for (int i = 0; i < 16; i++)
		if (i != R_SP)
			c->r[i] = st->gpr[i];
	c->r[R_BX] = ORACLE_MEM;
	c->r[R_DI] = ORACLE_MEM + 0x800;
	cpu_set_rflags(c, (st->rflags & X86_EFLAGS_ARITH) | X86_EFLAGS_FIXED);
	memset(img, 0, sizeof(img));
	memcpy(img, st->fx, 512);
	store_le(img + 512, 8, XFEATURE_X87 | XFEATURE_SSE);
	if (cpu_xsave_from_std(c, img))
		return -2;
	vec = o_exec(o, bytes, n, 8);
	if (vec == -3)
		return -3;
	for (int i = 0; i < 16; i++)
		if (i != R_SP && i != R_BX && i != R_DI)
			st->gpr[i] = c->r[i];
	st->rflags = cpu_get_rflags(c);
	cpu_xsave_to_std(c, img);
	memcpy(st->fx, img, 512);
	memcpy(mem, o->ram + ORACLE_MEM, 4096);
	return vec;
}

static __attribute__((unused)) void o_host(struct oracle *o, const u8 *bytes, unsigned n,
					   struct ostate *st, u8 *mem)
{
	memcpy(o->code, bytes, n);
	o->code[n] = 0xc3;
	memcpy(o->hmem, mem, 4096);
	u64 rbx = st->gpr[R_BX], rdi = st->gpr[R_DI];
	st->gpr[R_BX] = (u64)(uintptr_t)o->hmem;
	st->gpr[R_DI] = (u64)(uintptr_t)o->hmem + 0x800;
	st->rflags = (st->rflags & X86_EFLAGS_ARITH) | X86_EFLAGS_FIXED;
	host_run(st, o->code);
	st->gpr[R_BX] = rbx;
	st->gpr[R_DI] = rdi;
	memcpy(mem, o->hmem, 4096);
}

/* What to compare. fsw_mask: FSW bits that are defined for the insn. */
struct ocmp {
	u16 fsw_mask;
	u64 flags_mask;
	bool x87_regs;
};

static __attribute__((unused)) bool o_same(const struct ostate *a, const struct ostate *b,
					   const u8 *ma, const u8 *mb, const struct ocmp *m,
					   char *why, size_t n)
{
	for (int i = 0; i < 16; i++) {
		if (i != R_SP && i != R_BX && i != R_DI && a->gpr[i] != b->gpr[i]) {
			snprintf(why, n, "gpr%d %llx vs %llx", i, (unsigned long long)a->gpr[i],
				 (unsigned long long)b->gpr[i]);
			return false;
		}
	}
	if ((a->rflags ^ b->rflags) & m->flags_mask) {
		snprintf(why, n, "rflags %llx vs %llx", (unsigned long long)a->rflags,
			 (unsigned long long)b->rflags);
		return false;
	}
	if (memcmp(a->fx + 24, b->fx + 24, 4) || memcmp(a->fx + 160, b->fx + 160, 256)) {
		snprintf(why, n, "mxcsr %x/%x or xmm", (unsigned)load_le(a->fx + 24, 4),
			 (unsigned)load_le(b->fx + 24, 4));
		return false;
	}
	u16 fa = (u16)load_le(a->fx + 2, 2), fb = (u16)load_le(b->fx + 2, 2);
	if (memcmp(a->fx, b->fx, 2) || ((fa ^ fb) & m->fsw_mask) || a->fx[4] != b->fx[4]) {
		snprintf(why, n, "fcw/fsw/ftw %04x/%04x %02x/%02x", fa, fb, a->fx[4], b->fx[4]);
		return false;
	}
	unsigned top = (fa >> 11) & 7;
	for (unsigned i = 0; m->x87_regs && i < 8; i++) {
		if (((a->fx[4] >> ((top + i) & 7)) & 1) && memcmp(a->fx + 32 + 16 * i, b->fx + 32 + 16 * i, 10)) {
			snprintf(why, n, "st%u differs", i);
			return false;
		}
	}
	if (memcmp(ma, mb, 4096)) {
		snprintf(why, n, "memory differs");
		return false;
	}
	return true;
}

/* Diagnostic dump of the x87 part of a state ("# " lines, ignored by run-all). */
static __attribute__((unused)) void o_dump_x87(const char *tag, const struct ostate *st,
					       const u8 *mem)
{
	printf("# %s fcw %04x fsw %04x ftw %02x mem %016llx %04x\n", tag,
	       (unsigned)load_le(st->fx, 2), (unsigned)load_le(st->fx + 2, 2), st->fx[4],
	       (unsigned long long)load_le(mem, 8), (unsigned)load_le(mem + 8, 2));
	for (int i = 0; i < 8; i++)
		printf("#   st%d %04x %016llx\n", i, (unsigned)load_le(st->fx + 40 + 16 * i, 2),
		       (unsigned long long)load_le(st->fx + 32 + 16 * i, 8));
}

/* Interesting single/double values, mixed into random vectors. */
static const u32 o_f32_special[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
	0xffc00000, 0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4b000000,
	0x3f000000, 0x3fc00000, 0xcf000000, 0x4f000000, 0x5f000000, 0xdf000001,
};
static const u64 o_f64_special[] = {
	0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
	0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
	0x7ff4000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
	0x0010000000000000ull, 0x7fefffffffffffffull, 0x4330000000000000ull,
	0x3fe0000000000000ull, 0x3ff8000000000000ull, 0xc1e0000000000000ull,
	0x41dfffffffc00000ull, 0x43e0000000000000ull, 0xc3e0000000000001ull,
};

/* A random 128-bit value; kind 0: raw bits, 1: floats, 2: doubles. */
static __attribute__((unused)) void o_rand_vec(struct oracle *o, u8 *p, int kind)
{
	for (int i = 0; i < 2; i++) {
		u64 r = o_rand(o);
		if (kind == 1) {
			for (int k = 0; k < 2; k++) {
				u32 v = (u32)(o_rand(o) >> 13);
				if (!(o_rand(o) & 3))
					v = o_f32_special[o_rand(o) % ARRAY_SIZE(o_f32_special)];
				else
					v = (v & 0x807fffff) | ((u32)(110 + o_rand(o) % 40) << 23);
				r = k ? (r & 0xffffffffull) | ((u64)v << 32) : (r & ~0xffffffffull) | v;
			}
		} else if (kind == 2) {
			if (!(o_rand(o) & 3))
				r = o_f64_special[o_rand(o) % ARRAY_SIZE(o_f64_special)];
			else
				r = (r & 0x800fffffffffffffull) | ((u64)(1000 + o_rand(o) % 48) << 52);
		} else if (!(o_rand(o) & 7)) {
			r = (o_rand(o) & 1) ? ~0ull : 0x8000000080000000ull >> (o_rand(o) & 7);
		}
		store_le(p + 8 * i, 8, r);
	}
}

/* A random state: GPRs, flags, XMM registers of the given kind, memory, an
 * empty x87 stack, MXCSR with all exceptions masked and a random RC/DAZ/FZ. */
static __attribute__((unused)) void o_rand_state(struct oracle *o, struct ostate *st, u8 *mem,
						 int kind)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 16; i++)
		st->gpr[i] = o_rand(o) >> (o_rand(o) & 63);
	st->rflags = o_rand(o) & X86_EFLAGS_ARITH;
	store_le(st->fx, 2, 0x37f);
	u32 mxcsr = 0x1f80 | (u32)(o_rand(o) & 0x6000);
	if (!(o_rand(o) & 3))
		mxcsr |= (u32)(o_rand(o) & 0x8040);
	store_le(st->fx + 24, 4, mxcsr);
	store_le(st->fx + 28, 4, 0xffff);
	for (int i = 0; i < 16; i++)
		o_rand_vec(o, st->fx + 160 + 16 * i, kind);
	for (int i = 0; i < 4096; i += 16)
		o_rand_vec(o, mem + i, kind);
}

/* Memory operands are [RBX] (the data page); RDI points to its middle
 * (MASKMOVDQU). Neither is compared. */
/* Run bytes on both, from one start state; report once per failing case. */
static __attribute__((unused)) bool o_check(struct oracle *o, const u8 *bytes, unsigned n,
					    const struct ostate *start, const u8 *mem,
					    const struct ocmp *m, char *why, size_t wn)
{
	struct ostate e, h;
	u8 me[4096], mh[4096];
	e = *start;
	h = *start;
	memcpy(me, mem, 4096);
	memcpy(mh, mem, 4096);
	int v = o_emu(o, bytes, n, &e, me);
	if (v != -1) {
		snprintf(why, wn, "emulator raised %d", v);
		return false;
	}
	o_host(o, bytes, n, &h, mh);
	return o_same(&e, &h, me, mh, m, why, wn);
}

#endif
