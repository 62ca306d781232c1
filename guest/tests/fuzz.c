/* fuzz: a bounded instruction fuzzer. From a fixed seed (xorshift) it makes
 * short byte sequences, copies them to an executable page and runs them:
 * raw random bytes at CPL 3 in 64-bit and in compatibility mode, and at
 * CPL 0 only instructions built from a vetted template list (stores go
 * through RBX into scratch memory only). Every exception ends the sequence
 * and is counted; a LAPIC periodic timer ends sequences that loop. During
 * the run the only user-accessible memory is the fuzz area, so the GDT, IDT,
 * TSS, page tables and stacks are out of reach of the fuzzed code. The
 * point: the VMM must neither crash nor hang. Command line: "iters=N"
 * (default 20000), "seed=N", and "verbose=1" to print every sequence before
 * it runs (the sequences depend only on the seed, so a crash reproduces).
 * It finds real bugs: "seed=0x2545f491" makes QEMU 7.2 TCG abort at
 * sequence 19880 on VEX.256 VPINSRW (c5 e4 c4 e3 ad), which must be #UD. */
#include "alloc.h"
#include "apic.h"
#include "boot.h"
#include "desc.h"
#include "fault.h"
#include "idt.h"
#include "paging.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

#define FUZZ_VA 0x40000000ull   /* PDPT slot 1: the only user memory */
#define CODE_VA FUZZ_VA         /* user, read/execute */
#define DATA_VA (FUZZ_VA + 0x1000) /* 2 pages, user, read/write, NX */
#define STACK_VA (FUZZ_VA + 0x3000) /* 2 pages, user, read/write, NX */
#define FUZZ_PAGES 5
#define MAX_SEQ 48
#define TIMER_VECTOR 0x40
#define TICKS_PER_RUN 3
#define EXIT_TIMEOUT 256 /* histogram slot for sequences the timer ended */

enum mode { USER64, USER32, KERNEL64, MODES };
static const char *const mode_names[MODES] = { "64-bit CPL3", "compat CPL3", "64-bit CPL0" };

static u32 rng;
static u8 *code; /* kernel alias of the code page */
static u32 histogram[EXIT_TIMEOUT + 1];
static u32 per_mode[MODES];
static bool verbose;
static volatile bool in_run;
static volatile int run_ticks;

static u32 next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Common opcode and prefix bytes, mixed into the random ones. */
static const u8 interesting[] = {
	0x0f, 0x0f, 0x0f, 0x48, 0x4c, 0x66, 0xf2, 0xf3, 0xf0, 0xc4, 0xc5, 0x62, 0x8f, 0x3e,
	0x26, 0x64, 0x65, 0x89, 0x8b, 0xc7, 0xff, 0xfe, 0xcd, 0xcf, 0xe8, 0xe9, 0xeb, 0x9a,
	0xea, 0x9d, 0x8e, 0xd9, 0xdd, 0xdf, 0x01, 0xae, 0xc7, 0xa2, 0x05, 0x34, 0x35,
};

static int gen_raw(u8 *p)
{
	int n = 1 + next() % 16;

	for (int i = 0; i < n; i++)
		p[i] = next() & 3 ? (u8)next() : interesting[next() % sizeof(interesting)];
	return n;
}

/* Destination registers for CPL 0 templates: never RSP (4) or RBX (3). */
static int dst_reg(void)
{
	static const u8 regs[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	return regs[next() % sizeof(regs)];
}

static u8 rex(int reg, int rm)
{
	return 0x48 | (reg >> 3 & 1) << 2 | (rm >> 3 & 1);
}

static u8 modrm(int mod, int reg, int rm)
{
	return mod << 6 | (reg & 7) << 3 | (rm & 7);
}

/* One instruction from the vetted list; returns its length. */
static int emit_template(u8 *p, int *depth)
{
	static const u8 alu[] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39 };
	int d = dst_reg(), s = next() % 16, n = 0;

	switch (next() % 16) {
	case 0: /* ALU r/m64, r64 */
		p[n++] = rex(s, d), p[n++] = alu[next() % 8], p[n++] = modrm(3, s, d);
		break;
	case 1: /* ALU r/m64, imm8 */
		p[n++] = rex(0, d), p[n++] = 0x83, p[n++] = modrm(3, next() % 8, d), p[n++] = next();
		break;
	case 2: /* ROL/ROR/SHL/SHR/SAR by imm8 or CL */
		p[n++] = rex(0, d), p[n++] = next() & 1 ? 0xc1 : 0xd3;
		p[n++] = modrm(3, (u8[]){ 0, 1, 4, 5, 7 }[next() % 5], d);
		if (p[1] == 0xc1)
			p[n++] = next();
		break;
	case 3: { /* NOT/NEG a destination, or MUL/IMUL/DIV/IDIV by any register
		   * (they write RAX and RDX; DIV may raise #DE) */
		int op = 2 + next() % 6, rm = op < 4 ? d : s;
		p[n++] = rex(0, rm), p[n++] = 0xf7, p[n++] = modrm(3, op, rm);
		break;
	}
	case 4: /* MOV r64, [RBX + disp8] */
		p[n++] = rex(d, 3), p[n++] = 0x8b, p[n++] = modrm(1, d, 3), p[n++] = next();
		break;
	case 5: /* MOV [RBX + disp8], r64 */
		p[n++] = rex(s, 3), p[n++] = 0x89, p[n++] = modrm(1, s, 3), p[n++] = next();
		break;
	case 6: /* CMOVcc r64, r64 */
		p[n++] = rex(d, s), p[n++] = 0x0f, p[n++] = 0x40 + next() % 16, p[n++] = modrm(3, d, s);
		break;
	case 7: /* SETcc r8 (with REX: no AH..BH) */
		p[n++] = 0x40 | (d >> 3), p[n++] = 0x0f, p[n++] = 0x90 + next() % 16;
		p[n++] = modrm(3, 0, d);
		break;
	case 8: /* BT/BTS/BTR/BTC r64, imm8 */
		p[n++] = rex(0, d), p[n++] = 0x0f, p[n++] = 0xba;
		p[n++] = modrm(3, 4 + next() % 4, d), p[n++] = next();
		break;
	case 9: /* BSF/BSR/MOVZX/MOVSX/IMUL r64, r64 */
		p[n++] = rex(d, s), p[n++] = 0x0f, p[n++] = (u8[]){ 0xbc, 0xbd, 0xb6, 0xbe, 0xb7, 0xbf, 0xaf }[next() % 7];
		p[n++] = modrm(3, d, s);
		break;
	case 10: /* BSWAP, XCHG, XADD, CMPXCHG between destination registers */
		if (next() & 1) {
			p[n++] = 0x48 | (d >> 3), p[n++] = 0x0f, p[n++] = 0xc8 + (d & 7);
		} else {
			int e = dst_reg();
			p[n++] = rex(e, d);
			if (next() & 1)
				p[n++] = 0x87;
			else
				p[n++] = 0x0f, p[n++] = next() & 1 ? 0xc1 : 0xb1;
			p[n++] = modrm(3, e, d);
		}
		break;
	case 11: /* PUSH r64 / POP r64, balanced */
		if (*depth > 0 && next() & 1)
			(*depth)--, p[n++] = 0x40 | (d >> 3) | 8, p[n++] = 0x58 + (d & 7);
		else if (*depth < 8)
			(*depth)++, p[n++] = 0x40 | (s >> 3) | 8, p[n++] = 0x50 + (s & 7);
		else
			p[n++] = 0x90;
		break;
	case 12: /* MOV r64, imm64 */
		p[n++] = rex(0, d), p[n++] = 0xb8 + (d & 7);
		for (int i = 0; i < 8; i++)
			p[n++] = next();
		break;
	case 13: /* flags and no-ops: CLC STC CMC CLD STD NOP RDTSC LEA */
		p[n++] = (u8[]){ 0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x90 }[next() % 6];
		break;
	case 14: /* LEA r64, [RBX + disp8] */
		p[n++] = rex(d, 3), p[n++] = 0x8d, p[n++] = modrm(1, d, 3), p[n++] = next();
		break;
	default: /* rare ends: UD2, INT3; else a forward Jcc over a NOP */
		if (next() % 8 == 0)
			p[n++] = 0x0f, p[n++] = 0x0b;
		else if (next() % 8 == 0)
			p[n++] = 0xcc;
		else
			p[n++] = 0x70 + next() % 16, p[n++] = 1, p[n++] = 0x90;
		break;
	}
	return n;
}

static int gen_templates(u8 *p)
{
	int n = 0, depth = 0, count = 1 + next() % 6;

	while (count-- && n < MAX_SEQ - 16)
		n += emit_template(p + n, &depth);
	return n;
}

static u64 random_value(void)
{
	switch (next() % 4) {
	case 0: return DATA_VA + (next() & 0x1ff8);
	case 1: return next() & 0xff;
	case 2: return (u64)next() << 32 | next();
	default: return 0;
	}
}

static void make_regs(struct regs *r, enum mode m)
{
	for (u64 *g = &r->r15; g <= &r->rax; g++)
		*g = random_value();
	r->rbx = DATA_VA + 0x1000;
	r->rip = CODE_VA;
	r->rflags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
	r->cs = m == USER64 ? USER_CS : m == USER32 ? USER_CS32 : KERNEL_CS;
	r->ss = m == KERNEL64 ? KERNEL_DS : USER_DS;
	r->rsp = m == KERNEL64 ? STACK_VA + 0x2000 - 256 : STACK_VA + 0x800 + (next() & 0x7f8);
}

/* The timer ends sequences that run too long (loops); not kernel code. */
static void tick(struct regs *r)
{
	apic_eoi();
	if (in_run && ((r->cs & 3) == 3 || r->rip - CODE_VA < 4096) && ++run_ticks >= TICKS_PER_RUN)
		fault_catch(r);
}

static void fill_ud2(u8 *p, int n)
{
	for (int i = 0; i + 1 < n; i += 2)
		p[i] = 0x0f, p[i + 1] = 0x0b;
}

static void run_one(enum mode m)
{
	static int last_len = MAX_SEQ;
	struct regs r = { 0 };
	struct fault f;
	int n;

	fill_ud2(code, last_len + 2);
	n = m == KERNEL64 ? gen_templates(code) : gen_raw(code);
	last_len = n;
	make_regs(&r, m);
	if (verbose) {
		printf("INFO: %s:", mode_names[m]);
		for (int i = 0; i < n; i++)
			printf(" %02x", code[i]);
		printf("\n");
	}
	run_ticks = 0;
	in_run = true;
	f = fault_run_regs(&r);
	in_run = false;
	/* A timer interrupt whose delivery faulted never reached tick(). */
	if (apic_read(APIC_ISR + (TIMER_VECTOR / 32) * 0x10) & 1u << (TIMER_VECTOR % 32))
		apic_eoi();
	/* Whatever the code left behind: segments, x87 and SSE state. */
	asm volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %1, %%fs\n\tmov %1, %%gs\n\t"
		     "fninit\n\tldmxcsr %2"
		     ::"r"(KERNEL_DS), "r"(0), "m"((u32){ 0x1f80 }) : "memory");
	if (f.vector == TIMER_VECTOR)
		histogram[EXIT_TIMEOUT]++;
	else if (f.vector >= 0)
		histogram[f.vector]++;
	per_mode[m]++;
}

static void setup_memory(void)
{
	u64 *root = pt_root(), *pdpt = (u64 *)(root[0] & PTE_ADDR);
	u8 *pages = page_alloc_n(FUZZ_PAGES);
	u64 nx = cpu_has(X86_FEATURE_NX) ? PTE_NX : 0;

	code = pages;
	fill_ud2(code, 4096);
	pdpt[1] = 0; /* drop the 1-2 GiB identity map; the fuzz area replaces it */
	pt_map(root, CODE_VA, (u64)pages, PT_4K, PTE_U);
	for (int i = 1; i < FUZZ_PAGES; i++)
		pt_map(root, FUZZ_VA + i * 4096ull, (u64)pages + i * 4096ull, PT_4K, PTE_U | PTE_W | nx);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			pdpt[i] &= ~PTE_U;
	pt_flush();
}

static u32 checksum(const void *p, size_t n)
{
	u32 h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const u8 *)p)[i]) * 16777619u;
	return h;
}

static u32 kernel_state(void)
{
	struct dtr g, i;

	sgdt(&g);
	sidt(&i);
	return checksum((void *)g.base, g.limit + 1) ^ checksum((void *)i.base, i.limit + 1) ^
	       (u32)read_cr0() ^ (u32)read_cr4() ^ (u32)rdmsr(MSR_EFER) ^ (u32)read_cr3();
}

static void print_histogram(void)
{
	printf("INFO: sequences by mode:");
	for (int m = 0; m < MODES; m++)
		printf(" %s %u", mode_names[m], per_mode[m]);
	printf("\nINFO: endings:");
	for (int v = 0; v < EXIT_TIMEOUT; v++)
		if (histogram[v])
			printf(" %s/%d %u", idt_vector_name(v), v, histogram[v]);
	printf(" timeout %u\n", histogram[EXIT_TIMEOUT]);
}

int main(void)
{
	u64 iters = boot_cmdline_u64("iters", 20000);
	u32 before;

	rng = boot_cmdline_u64("seed", 0x9e3779b9) | 1;
	verbose = boot_cmdline_u64("verbose", 0);
	printf("INFO: fuzz: %lu sequences from seed %#x\n", iters, rng);
	if (cpu_has(X86_FEATURE_XSAVE)) { /* let AVX code run too */
		write_cr4(read_cr4() | X86_CR4_OSXSAVE);
		xsetbv(0, cpuid_count(0xd, 0).a & 7);
	}
	apic_enable();
	setup_memory();
	before = kernel_state();
	idt_set_handler(TIMER_VECTOR, tick);
	apic_timer_periodic(TIMER_VECTOR, 1000000);
	sti();
	for (u64 i = 0; i < iters; i++) {
		u32 pick = next() % 20;
		run_one(pick < 9 ? USER64 : pick < 15 ? USER32 : KERNEL64);
		if ((i + 1) % 5000 == 0)
			printf("INFO: %lu sequences done\n", i + 1);
	}
	cli();
	apic_timer_stop();
	print_histogram();
	for (int m = 0; m < MODES; m++)
		report(per_mode[m] > 0, "fuzz: %u sequences in %s survived", per_mode[m], mode_names[m]);
	report(kernel_state() == before, "fuzz: GDT, IDT, CR0, CR3, CR4 and EFER unchanged");
	return report_summary();
}
