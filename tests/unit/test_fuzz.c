/* test_fuzz.c: random bytes executed as code by the emu CPU in every mode
 * (real, 16- and 32-bit protected, compatibility and 64-bit, CPL 0 and 3),
 * from a fixed seed and for a bounded number of instructions. It passes
 * when the interpreter neither crashes (run it under ASan+UBSan too), nor
 * hangs, nor writes outside guest RAM: a canary region around RAM must
 * stay intact. Every vector's gate leads back into the random code, so
 * exception delivery (and nested faults, double and triple faults) is
 * exercised as well. */
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "bus.h"
#include "cpu/cpu.h"
#include "bare_env.h"
#include "unit.h"

#define RAM (4u << 20)
#define CANARY (64u << 10)
#define RUNS_PER_MODE 400
#define INSNS_PER_RUN 4000

static u64 rng = 0x2545f4914f6cdd1dull;

static u64 next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static u64 dev_read(void *opaque, u64 off, unsigned size)
{
	(void)opaque;
	(void)size;
	return off * 0x9e3779b9u;
}

static void dev_write(void *opaque, u64 off, unsigned size, u64 v)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)v;
}

enum mode { REAL, PM16, PM32, COMPAT, LONG0, LONG3, NMODES };
static const char *const mode_name[NMODES] = {
	"real mode", "16-bit protected mode", "32-bit protected mode",
	"compatibility mode", "64-bit mode CPL 0", "64-bit mode CPL 3",
};

/* A flat GDT at 0x1000 (code16, code32, code64, data, user code64/data)
 * and identity 2 MiB pages for the first 4 MiB at 0x2000 (user, writable). */
static void build_tables(u8 *ram)
{
	static const u64 gdt[] = {
		0, 0x00009b000000ffffull, 0x00cf9b000000ffffull, 0x00af9b000000ffffull,
		0x00cf93000000ffffull, 0x00affb000000ffffull, 0x00cff3000000ffffull,
	};
	memcpy(ram + 0x1000, gdt, sizeof(gdt));
	u64 *pml4 = (u64 *)(ram + 0x2000), *pdpt = (u64 *)(ram + 0x3000), *pd = (u64 *)(ram + 0x4000);
	memset(ram + 0x2000, 0, 0x3000);
	pml4[0] = 0x3000 | 7;
	pdpt[0] = 0x4000 | 7;
	pd[0] = 0x000000 | 0x87;
	pd[1] = 0x200000 | 0x87;
}

/* Gates for all 256 vectors into the code page at random offsets: 16-byte
 * gates in IA-32e mode, 8-byte ones in protected mode, the IVT in real
 * mode. A TSS at 0x6000 supplies the inner stacks. */
static void build_idt(u8 *ram, enum mode m)
{
	u64 *tss = (u64 *)(ram + 0x6000);
	memset(tss, 0, 0x68);
	tss[0] = 0x90000ull << 32;                 /* RSP0 (64-bit) / ESP0 */
	*(u32 *)(ram + 0x6008) = m >= COMPAT ? 0 : 0x20; /* RSP0[63:32] / SS0 */
	for (unsigned v = 0; v < 256; v++) {
		u64 off = 0x10000 + (next_rand() & 0xfff);
		if (m == REAL) {
			*(u32 *)(ram + v * 4) = (0x1000u << 16) | (u32)(off & 0xfff);
			continue;
		}
		u16 sel = m == PM16 ? 0x08 : m == PM32 ? 0x10 : 0x18;
		u64 type = m == PM16 ? 0x6 : 0xe;
		u64 lo = (off & 0xffff) | ((u64)sel << 16) | ((0x80 | 0x60 | type) << 40) |
			 ((off >> 16) & 0xffff) << 48;
		if (m >= COMPAT) {
			memcpy(ram + 0x5000 + v * 16, &lo, 8);
			memset(ram + 0x5000 + v * 16 + 8, 0, 8);
		} else {
			memcpy(ram + 0x5000 + v * 8, &lo, 8);
		}
	}
}

static void set_seg(struct vcpu_segment *s, u16 sel, u8 type, u8 dpl, u8 db, u8 l)
{
	*s = (struct vcpu_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				    .present = 1, .dpl = dpl, .db = db, .s = 1, .l = l, .g = 1 };
}

static void mode_state(enum mode m, struct vcpu_sregs *s, struct vcpu_regs *r)
{
	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	r->rflags = 2;
	r->rip = 0x10000;
	r->rsp = 0x80000;
	s->gdt = (struct vcpu_dtable){ 0x1000, 0x37 };
	s->idt = (struct vcpu_dtable){ 0x5000, 0xfff };
	s->tr = (struct vcpu_segment){ .base = 0x6000, .limit = 0x67, .type = 11, .present = 1 };
	s->ldt = (struct vcpu_segment){ .unusable = 1 };
	if (m == REAL) {
		struct vcpu_segment rs = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
		s->ds = s->es = s->fs = s->gs = s->ss = rs;
		s->cs = rs;
		s->cs.type = 11;
		s->cs.base = 0x10000;
		s->cs.selector = 0x1000;
		r->rip = 0;
		s->cr0 = 0x10;
		s->idt = (struct vcpu_dtable){ 0, 0x3ff };
		return;
	}
	s->cr0 = 0x80010011;
	s->cr4 = 0x20;
	s->cr3 = 0x2000;
	if (m == PM16 || m == PM32) {
		s->cr0 = 0x11;
		s->cr4 = 0;
		set_seg(&s->cs, m == PM16 ? 0x08 : 0x10, 11, 0, m == PM32, 0);
	} else {
		s->efer = 0x500;
		bool user = m == LONG3;
		set_seg(&s->cs, user ? 0x2b : (m == COMPAT ? 0x10 : 0x18), 11, user ? 3 : 0, m == COMPAT, m != COMPAT);
	}
	u8 dpl = m == LONG3 ? 3 : 0;
	set_seg(&s->ss, dpl ? 0x33 : 0x20, 3, dpl, 1, 0);
	s->ds = s->es = s->fs = s->gs = s->ss;
}

static void fuzz_mode(struct vcpu *v, u8 *ram, enum mode m, unsigned *runs, u64 *insns)
{
	struct vcpu_sregs s;
	struct vcpu_regs r;
	struct vcpu_exit e;
	for (int i = 0; i < RUNS_PER_MODE; i++) {
		build_tables(ram);
		for (unsigned k = 0; k < 4096; k += 8) {
			u64 x = next_rand();
			memcpy(ram + 0x10000 + k, &x, 8); /* the code page */
		}
		build_idt(ram, m);
		mode_state(m, &s, &r);
		r.rax = next_rand();
		r.rbx = next_rand() & 0xfffff;
		r.rsi = next_rand() & 0x3fffff;
		r.rdi = next_rand();
		accel_emu.init(v);
		u64 start = accel_emu.icount(v);
		if (accel_emu.set_sregs(v, &s) || accel_emu.set_regs(v, &r))
			continue;
		for (int slice = 0; slice < 8; slice++) {
			accel_emu.set_deadline(v, accel_emu.get_tsc(v) + INSNS_PER_RUN / 8);
			accel_emu.run(v, &e);
			if (e.reason != VCPU_EXIT_DEADLINE)
				break;
		}
		*insns += accel_emu.icount(v) - start;
		(*runs)++;
	}
}

int main(void)
{
	u8 *mem = malloc(RAM + 2 * CANARY);
	u8 *ram = mem + CANARY;
	struct bus pio, mmio;
	struct bus_range dev = { "fuzzdev", 0, 0x10000, 1 | 2 | 4, dev_read, dev_write, NULL };
	struct bus_range mdev = { "fuzzmmio", 0xfec00000, 0x2000, 1 | 2 | 4 | 8, dev_read, dev_write, NULL };
	volatile bool stop = false;
	struct accel_env env = bare_env(ram, RAM, &pio, &mmio, &stop);
	struct vcpu *v;
	struct vcpu_cpuid cpuid;

	const char *seed = getenv("FUZZ_SEED"); /* explore other seeds by hand */
	if (seed && strtoull(seed, NULL, 0))
		rng = strtoull(seed, NULL, 0);
	memset(mem, 0xa5, RAM + 2 * CANARY);
	memset(ram, 0, RAM);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	bus_add(&pio, &dev);
	bus_add(&mmio, &mdev);
	if (accel_emu.create(&v, &env, 0)) {
		report(0, "fuzz: cannot create the emu vCPU");
		return 0;
	}
	accel_emu.get_supported_cpuid(&cpuid);
	accel_emu.set_cpuid(v, &cpuid);
	for (int m = 0; m < NMODES; m++) {
		unsigned runs = 0;
		u64 insns = 0;
		fuzz_mode(v, ram, (enum mode)m, &runs, &insns);
		report(runs == RUNS_PER_MODE, "fuzz: %u random programs in %s (%llu instructions)", runs,
		       mode_name[m], (unsigned long long)insns);
	}
	bool intact = true;
	for (unsigned i = 0; i < CANARY; i++)
		intact &= mem[i] == 0xa5 && mem[CANARY + RAM + i] == 0xa5;
	report(intact, "fuzz: nothing written outside guest RAM");
	accel_emu.destroy(v);
	free(mem);
	return 0;
}
