/* test_kvm.c: the kvm accelerator on tiny hand-assembled guests, with a
 * minimal machine (two buses, one test device, a fake interrupt controller
 * and MSR owner) around it. SKIPs where /dev/kvm is not usable. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel/accel.h"
#include "cpu/x86.h"
#include "bus.h"
#include "mem.h"
#include "unit.h"

#define RAM_SIZE (4ull << 20)
#define CODE 0x1000
#define CODE2 0x1800
#define IRQ_HANDLER 0x2000
#define GP_HANDLER 0x2100
#define GDT 0x3000
#define IDT 0x4000
#define PML4 0x10000 /* then the PDPT and four page directories */
#define STACK 0x80000
#define TEST_PORT 0x500
#define TEST_MMIO 0xd0000000ull
#define TEST_VECTOR 0x40

#define MSR_IA32_APICBASE 0x1b
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_ID 0x802
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_BOGUS 0x12345

static const struct accel_ops *const kvm = &accel_kvm;

struct access {
	u64 addr, value;
	unsigned size;
	bool write;
};

/* The machine around the vCPU under test. */
struct machine {
	struct guest_ram ram;
	struct bus pio, mmio;
	struct accel_env env;
	struct vcpu *v;
	volatile bool stop;
	struct access log[16]; /* device accesses, in order */
	int nlog;
	u64 dev_value; /* what device reads return */
	int irq;       /* the pending vector, or -1 */
	int irq_acks;
	u32 msr_read_index; /* the last device MSR read */
	u32 msr_write_index;
	u64 msr_write_value;
	u64 tsc_deadline;
};

/* --- the test device and the fake controllers ----------------------------- */

static void note(struct machine *m, u64 addr, unsigned size, u64 value, bool write)
{
	if (m->nlog < (int)ARRAY_SIZE(m->log))
		m->log[m->nlog++] = (struct access){ addr, value, size, write };
}

static u64 dev_read(void *opaque, u64 offset, unsigned size)
{
	struct machine *m = opaque;
	note(m, offset, size, m->dev_value, false);
	return m->dev_value;
}

static void dev_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	note(opaque, offset, size, value, true);
}

static int irq_peek(void *ctx)
{
	return ((struct machine *)ctx)->irq;
}

static int irq_ack(void *ctx)
{
	struct machine *m = ctx;
	int vector = m->irq;
	m->irq = -1;
	m->irq_acks++;
	return vector;
}

static bool msr_read(void *ctx, u32 index, u64 *value)
{
	struct machine *m = ctx;
	m->msr_read_index = index;
	switch (index) {
	case MSR_IA32_APICBASE:
		*value = 0xfee00900;
		return true;
	case MSR_X2APIC_ID:
		*value = 0x12;
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*value = m->tsc_deadline;
		return true;
	default:
		return false;
	}
}

static bool msr_write(void *ctx, u32 index, u64 value)
{
	struct machine *m = ctx;
	if (index != MSR_IA32_TSC_DEADLINE && (index < 0x800 || index > 0x8ff))
		return false;
	m->msr_write_index = index;
	m->msr_write_value = value;
	if (index == MSR_IA32_TSC_DEADLINE)
		m->tsc_deadline = value;
	return true;
}

/* --- machine setup ----------------------------------------------------------- */

static int machine_init(struct machine *m, u64 ram_size)
{
	memset(m, 0, sizeof(*m));
	m->irq = -1;
	if (guest_ram_alloc(&m->ram, ram_size) < 0)
		return -ENOMEM;
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	struct bus_range dev = { "test", TEST_PORT, 4, 1 | 2 | 4, dev_read, dev_write, m };
	bus_add(&m->pio, &dev);
	dev.base = TEST_MMIO;
	dev.len = 0x1000;
	dev.sizes = 1 | 2 | 4 | 8;
	bus_add(&m->mmio, &dev);
	m->env = (struct accel_env){
		.ctx = m, .pio = &m->pio, .mmio = &m->mmio,
		.ram = m->ram.base, .ram_size = m->ram.size, .ram_high = m->ram.high,
		.irq_peek = irq_peek, .irq_ack = irq_ack,
		.msr_read = msr_read, .msr_write = msr_write, .stop = &m->stop,
	};
	int r = kvm->create(&m->v, &m->env, 0);
	struct vcpu_cpuid cpuid;
	if (r == 0)
		r = kvm->get_supported_cpuid(&cpuid);
	if (r == 0)
		r = kvm->set_cpuid(m->v, &cpuid);
	return r;
}

static void machine_free(struct machine *m)
{
	kvm->destroy(m->v);
	guest_ram_free(&m->ram);
}

static void load(struct machine *m, u64 gpa, const u8 *code, size_t len)
{
	memcpy(guest_ptr(&m->ram, gpa, len), code, len);
}

static void put64(struct machine *m, u64 gpa, u64 value)
{
	memcpy(guest_ptr(&m->ram, gpa, 8), &value, 8);
}

static int set_rip(struct machine *m, u64 rip)
{
	struct vcpu_regs r = { .rip = rip, .rflags = 2, .rsp = STACK };
	return kvm->set_regs(m->v, &r);
}

static int real_mode(struct machine *m, u64 rip)
{
	struct vcpu_sregs s;
	int r = kvm->get_sregs(m->v, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	if (r == 0)
		r = kvm->set_sregs(m->v, &s);
	return r ? r : set_rip(m, rip);
}

/* Identity-map 0-4 GiB with 2 MiB pages; a flat GDT. */
static void build_tables(struct machine *m)
{
	put64(m, PML4, (PML4 + 0x1000) | 3);
	for (u64 i = 0; i < 4; i++) {
		u64 pd = PML4 + 0x2000 + i * 0x1000;
		put64(m, PML4 + 0x1000 + i * 8, pd | 3);
		for (u64 j = 0; j < 512; j++)
			put64(m, pd + j * 8, (i << 30 | j << 21) | 0x83);
	}
	put64(m, GDT + 8, 0x00af9b000000ffffull);
	put64(m, GDT + 16, 0x00cf93000000ffffull);
}

static void long_sregs(struct vcpu_sregs *s)
{
	const struct vcpu_segment data = { .limit = 0xffffffff, .selector = 0x10, .type = 3,
					   .present = 1, .db = 1, .s = 1, .g = 1 };
	s->cs = (struct vcpu_segment){ .limit = 0xffffffff, .selector = 8, .type = 0xb,
				       .present = 1, .s = 1, .l = 1, .g = 1 };
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct vcpu_segment){ .limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1 };
	s->gdt = (struct vcpu_dtable){ GDT, 23 };
	s->idt = (struct vcpu_dtable){ IDT, 0xfff };
	s->cr0 = 0x80050033; /* PG AM WP NE ET MP PE */
	s->cr3 = PML4;
	s->cr4 = 0x620; /* OSXMMEXCPT OSFXSR PAE */
	s->efer = 0x500; /* LMA LME */
}

static int long_mode(struct machine *m, u64 rip)
{
	struct vcpu_sregs s;
	build_tables(m);
	int r = kvm->get_sregs(m->v, &s);
	long_sregs(&s);
	if (r == 0)
		r = kvm->set_sregs(m->v, &s);
	return r ? r : set_rip(m, rip);
}

static void idt_gate(struct machine *m, int vector, u64 handler)
{
	u64 lo = (handler & 0xffff) | 8ull << 16 | 0x8eull << 40 | (handler >> 16 & 0xffff) << 48;
	put64(m, IDT + (u64)vector * 16, lo);
	put64(m, IDT + (u64)vector * 16 + 8, handler >> 32);
}

/* --- running ------------------------------------------------------------------- */

/* Do what the machine's run loop does for IO and MMIO exits. */
static void service(struct machine *m, const struct vcpu_exit *e)
{
	if (e->reason == VCPU_EXIT_IO) {
		for (u32 i = 0; i < e->io.count; i++) {
			u8 *p = e->io.data + i * e->io.size;
			u64 val = 0;
			memcpy(&val, p, e->io.size);
			if (e->io.write)
				bus_write(&m->pio, e->io.port, e->io.size, val);
			else
				val = bus_read(&m->pio, e->io.port, e->io.size), memcpy(p, &val, e->io.size);
		}
	} else if (e->reason == VCPU_EXIT_MMIO) {
		u64 val = 0;
		memcpy(&val, e->mmio.data, e->mmio.size);
		if (e->mmio.write)
			bus_write(&m->mmio, e->mmio.addr, e->mmio.size, val);
		else
			val = bus_read(&m->mmio, e->mmio.addr, e->mmio.size), memcpy(e->mmio.data, &val, 8);
	}
}

/* Run, servicing IO and MMIO, until another exit. */
static enum vcpu_exit_reason run_to(struct machine *m, struct vcpu_exit *e)
{
	for (;;) {
		if (kvm->run(m->v, e) < 0)
			return VCPU_EXIT_NONE;
		if (e->reason != VCPU_EXIT_IO && e->reason != VCPU_EXIT_MMIO)
			return e->reason;
		service(m, e);
	}
}

static struct vcpu_regs regs(struct machine *m)
{
	struct vcpu_regs r;
	memset(&r, 0xff, sizeof(r));
	kvm->get_regs(m->v, &r);
	return r;
}

/* --- the tests ----------------------------------------------------------------- */

static void test_real_mode_io(struct machine *m)
{
	static const u8 code[] = {
		0xb0, 0x42,             /* mov al, 0x42 */
		0xba, 0x00, 0x05,       /* mov dx, 0x500 */
		0xee,                   /* out dx, al */
		0xec,                   /* in al, dx */
		0x88, 0xc3,             /* mov bl, al */
		0xb8, 0x34, 0x12,       /* mov ax, 0x1234 */
		0xef,                   /* out dx, ax */
		0xbe, 0x00, 0x18,       /* mov si, 0x1800 */
		0xb9, 0x04, 0x00,       /* mov cx, 4 */
		0xf3, 0x6e,             /* rep outsb */
		0xf4,                   /* hlt */
	};
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	load(m, 0x1800, (const u8 *)"abcd", 4);
	report(real_mode(m, CODE) == 0, "kvm: real mode set up");
	m->dev_value = 0x99;

	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_IO && e.io.port == TEST_PORT && e.io.size == 1 && e.io.write &&
		       e.io.count == 1 && e.io.data[0] == 0x42,
	       "kvm: real-mode OUT al -> VCPU_EXIT_IO port 0x500 size 1 data 0x42");
	service(m, &e);
	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_IO && !e.io.write && e.io.size == 1,
	       "kvm: IN al -> VCPU_EXIT_IO read");
	service(m, &e);
	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_IO && e.io.size == 2 && e.io.data[0] == 0x34 &&
		       e.io.data[1] == 0x12,
	       "kvm: OUT ax -> size 2 data 0x1234");
	service(m, &e);
	char out[4];
	u32 n = 0, exits = 0; /* KVM may split a string instruction over exits */
	while (kvm->run(m->v, &e) == 0 && e.reason == VCPU_EXIT_IO && e.io.size == 1 &&
	       e.io.count <= 4 - n) {
		memcpy(out + n, e.io.data, e.io.count);
		n += e.io.count;
		exits++;
		service(m, &e);
	}
	report(n == 4 && !memcmp(out, "abcd", 4), "kvm: rep outsb -> the string (%u exits)", exits);
	report(e.reason == VCPU_EXIT_HLT, "kvm: real-mode HLT -> VCPU_EXIT_HLT");
	report((regs(m).rbx & 0xff) == 0x99, "kvm: IN got the value the device supplied");
	report(m->nlog == 7, "kvm: the device saw 7 accesses (got %d)", m->nlog);
}

static void test_long_mode(struct machine *m)
{
	static const u8 code[] = {
		0x31, 0xc0,                   /* xor eax, eax */
		0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
		0x01, 0xc8,                   /* 1: add eax, ecx */
		0xff, 0xc9,                   /* dec ecx */
		0x75, 0xfa,                   /* jnz 1b */
		0x48, 0xba, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, /* mov rdx, imm64 */
		0x48, 0x89, 0xc3,             /* mov rbx, rax */
		0xf4,                         /* hlt */
	};
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	report(long_mode(m, CODE) == 0, "kvm: long mode set up through set_sregs");
	report(run_to(m, &e) == VCPU_EXIT_HLT, "kvm: 64-bit guest -> VCPU_EXIT_HLT");
	struct vcpu_regs r = regs(m);
	report(r.rbx == 5050 && r.rdx == 0x123456789abcdef0ull,
	       "kvm: 64-bit guest computed 5050 and a 64-bit immediate");
	report(r.rip == CODE + sizeof(code), "kvm: RIP is after the HLT");
	struct vcpu_sregs s;
	report(kvm->get_sregs(m->v, &s) == 0 && s.cs.l && (s.efer & 0x400) && s.cr3 == PML4,
	       "kvm: get_sregs shows CS.L, EFER.LMA and CR3");
}

static void test_mmio(struct machine *m)
{
	static const u8 code[] = {
		0xbf, 0x00, 0x00, 0x00, 0xd0, /* mov edi, 0xd0000000 */
		0xb8, 0xef, 0xbe, 0xad, 0xde, /* mov eax, 0xdeadbeef */
		0x89, 0x07,                   /* mov [rdi], eax */
		0x8b, 0x5f, 0x04,             /* mov ebx, [rdi + 4] */
		0xf4,                         /* hlt */
	};
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	long_mode(m, CODE);
	m->dev_value = 0x5a5a5a5a;
	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_MMIO && e.mmio.addr == TEST_MMIO && e.mmio.size == 4 &&
		       e.mmio.write && !memcmp(e.mmio.data, "\xef\xbe\xad\xde", 4),
	       "kvm: MMIO write -> VCPU_EXIT_MMIO addr, size 4, data");
	service(m, &e);
	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_MMIO && e.mmio.addr == TEST_MMIO + 4 && !e.mmio.write,
	       "kvm: MMIO read -> VCPU_EXIT_MMIO read");
	service(m, &e);
	report(run_to(m, &e) == VCPU_EXIT_HLT && regs(m).rbx == 0x5a5a5a5a,
	       "kvm: the MMIO read returned the device's value");
}

/* With 5 GiB (two memory slots: 3 GiB at 0, 2 GiB at 4 GiB), RAM at 4 GiB
 * is the host bytes after low RAM, and 0xd0000000 is MMIO, not RAM. Only a
 * few pages of the lazily mapped RAM are touched. */
static void test_high_ram(struct machine *m)
{
	static const u8 code[] = {
		0x48, 0xb8, 0, 0, 0, 0, 1, 0, 0, 0,       /* mov rax, 0x100000000 */
		0x48, 0xc7, 0x40, 0x08, 0x5a, 0x5a, 0, 0, /* mov qword [rax + 8], 0x5a5a */
		0x48, 0x8b, 0x18,                         /* mov rbx, [rax] */
		0xbf, 0x00, 0x00, 0x00, 0xd0,             /* mov edi, 0xd0000000 */
		0x8b, 0x0f,                               /* mov ecx, [rdi] */
		0xf4,                                     /* hlt */
	};
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	long_mode(m, CODE);
	u64 pd = PML4 + 0x6000; /* 4-5 GiB with 2 MiB pages */
	put64(m, PML4 + 0x1000 + 4 * 8, pd | 3);
	for (u64 j = 0; j < 512; j++)
		put64(m, pd + j * 8, (4ull << 30 | j << 21) | 0x83);
	put64(m, 4ull << 30, 0x1234);
	m->dev_value = 0x77;
	enum vcpu_exit_reason why = run_to(m, &e);
	struct vcpu_regs r = regs(m);
	u64 stored;
	memcpy(&stored, m->ram.base + m->ram.size - m->ram.high + 8, 8);
	report(why == VCPU_EXIT_HLT && r.rbx == 0x1234 && stored == 0x5a5a,
	       "kvm: 5 GiB: RAM at 4 GiB is the slot after low RAM (rbx %#llx)",
	       (unsigned long long)r.rbx);
	report(m->nlog == 1 && !m->log[0].write && r.rcx == 0x77,
	       "kvm: 5 GiB: 0xd0000000 is in the hole and reaches the MMIO bus");
}

/* The spin after STI is bounded, and how long the interrupt window takes to
 * open is the host's business (at once on VMX/SVM; ~1 ms under PVM). */
static void test_interrupts(struct machine *m)
{
	static const u8 handler[] = { 0x41, 0xff, 0xc0, 0x48, 0xcf }; /* inc r8d; iretq */
	static const u8 code[] = {
		0x45, 0x31, 0xc0,             /* xor r8d, r8d */
		0xb9, 0x00, 0x10, 0x00, 0x00, /* mov ecx, 0x1000 */
		0xff, 0xc9, 0x75, 0xfc,       /* 1: dec ecx; jnz 1b (IF=0) */
		0x44, 0x89, 0xc3,             /* mov ebx, r8d */
		0xfb,                         /* sti */
		0xb9, 0x00, 0x00, 0x10, 0x00, /* mov ecx, 0x100000 */
		0x45, 0x85, 0xc0, 0x75, 0x04, /* 2: test r8d, r8d; jnz 3f */
		0xff, 0xc9, 0x75, 0xf7,       /* dec ecx; jnz 2b */
		0x44, 0x89, 0xc6,             /* 3: mov esi, r8d */
		0xf4,                         /* hlt */
		0x44, 0x89, 0xc7,             /* mov edi, r8d */
		0xfa, 0xf4,                   /* cli; hlt */
	};
	struct vcpu_exit e;
	load(m, IRQ_HANDLER, handler, sizeof(handler));
	load(m, CODE, code, sizeof(code));
	idt_gate(m, TEST_VECTOR, IRQ_HANDLER);
	long_mode(m, CODE);
	m->irq = TEST_VECTOR; /* pending while IF=0: needs an interrupt window */
	report(run_to(m, &e) == VCPU_EXIT_HLT, "kvm: interrupt test reaches HLT");
	struct vcpu_regs r = regs(m);
	report(r.rbx == 0 && r.rsi == 1 && r.rip == CODE + 34 && m->irq_acks == 1 && m->irq == -1,
	       "kvm: an interrupt pending under IF=0 is delivered once after STI");
	m->irq = TEST_VECTOR; /* raised while halted: the machine runs again */
	report(run_to(m, &e) == VCPU_EXIT_HLT && regs(m).rdi == 2 && m->irq_acks == 2,
	       "kvm: an interrupt raised during HLT reaches the IDT handler");
}

static void test_msrs(struct machine *m)
{
	struct vcpu_msr set[] = { { MSR_IA32_SYSENTER_CS, 0x1234 },
				  { MSR_KERNEL_GS_BASE, 0xffff800012345678ull } };
	struct vcpu_msr get[] = { { MSR_IA32_SYSENTER_CS, 0 }, { MSR_KERNEL_GS_BASE, 0 } };
	report(kvm->set_msrs(m->v, set, 2) == 2 && kvm->get_msrs(m->v, get, 2) == 2 &&
		       get[0].data == 0x1234 && get[1].data == 0xffff800012345678ull,
	       "kvm: set_msrs/get_msrs round trip (SYSENTER_CS, KERNEL_GS_BASE)");
	struct vcpu_msr bad[] = { { MSR_IA32_SYSENTER_CS, 0x1234 }, { MSR_BOGUS, 1 },
				  { MSR_KERNEL_GS_BASE, 0 } };
	report(kvm->set_msrs(m->v, bad, 3) == 1, "kvm: set_msrs stops at an unknown MSR");

	static const u8 gp[] = { 0x41, 0xb9, 0x0d, 0x00, 0x00, 0x00, 0xf4 }; /* mov r9d, 13; hlt */
	static const u8 code[] = {
		0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 */
		0xb8, 0xef, 0xcd, 0xab, 0x89, /* mov eax, 0x89abcdef */
		0xba, 0x01, 0x00, 0x00, 0x00, /* mov edx, 1 */
		0x0f, 0x30,                   /* wrmsr */
		0xb9, 0x1b, 0x00, 0x00, 0x00, /* mov ecx, 0x1b */
		0x0f, 0x32, 0x89, 0xc3,       /* rdmsr; mov ebx, eax */
		0xb9, 0x02, 0x08, 0x00, 0x00, /* mov ecx, 0x802 */
		0x0f, 0x32, 0x89, 0xc6,       /* rdmsr; mov esi, eax */
		0xb9, 0x74, 0x01, 0x00, 0x00, /* mov ecx, 0x174 */
		0x0f, 0x32, 0x89, 0xc7,       /* rdmsr; mov edi, eax */
		0xb9, 0x45, 0x23, 0x01, 0x00, /* mov ecx, 0x12345 */
		0x0f, 0x32,                   /* rdmsr: #GP */
		0xf4,
	};
	struct vcpu_exit e;
	load(m, GP_HANDLER, gp, sizeof(gp));
	load(m, CODE, code, sizeof(code));
	idt_gate(m, 13, GP_HANDLER);
	long_mode(m, CODE);
	report(run_to(m, &e) == VCPU_EXIT_HLT, "kvm: MSR guest reaches HLT");
	struct vcpu_regs r = regs(m);
	report(m->msr_write_index == MSR_IA32_TSC_DEADLINE && m->msr_write_value == 0x189abcdefull,
	       "kvm: guest WRMSR 0x6e0 is forwarded to env->msr_write");
	report(r.rbx == 0xfee00900, "kvm: guest RDMSR IA32_APIC_BASE comes from env->msr_read");
	report(r.rsi == 0x12, "kvm: guest RDMSR x2APIC 0x802 comes from env->msr_read");
	report(r.rdi == 0x1234, "kvm: guest RDMSR SYSENTER_CS sees the host-set value");
	report(r.r9 == 13 && m->msr_read_index == MSR_BOGUS,
	       "kvm: RDMSR of an MSR nobody has -> env asked, then #GP");
	struct vcpu_msr dl = { MSR_IA32_TSC_DEADLINE, 0 };
	report(kvm->get_msrs(m->v, &dl, 1) == 1 && dl.data == 0x189abcdefull,
	       "kvm: host get_msrs of TSC_DEADLINE goes to the device too");
}

static void test_triple_fault(struct machine *m)
{
	static const u8 code[] = { 0x0f, 0x0b }; /* ud2 with an empty IDT */
	struct vcpu_sregs s;
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	long_mode(m, CODE);
	kvm->get_sregs(m->v, &s);
	s.idt.limit = 0;
	kvm->set_sregs(m->v, &s);
	report(run_to(m, &e) == VCPU_EXIT_SHUTDOWN, "kvm: triple fault -> VCPU_EXIT_SHUTDOWN");
}

static void test_internal_error(struct machine *m)
{
	static const u8 code[] = {
		0xb8, 0x00, 0x00, 0x00, 0xd0, /* mov eax, 0xd0000000 */
		0xff, 0xe0,                   /* jmp rax: execute from MMIO */
	};
	struct vcpu_exit e;
	load(m, CODE, code, sizeof(code));
	long_mode(m, CODE);
	enum vcpu_exit_reason why = run_to(m, &e);
	report(why == VCPU_EXIT_INTERNAL && strstr(e.internal.message, "kvm:"),
	       "kvm: executing from MMIO -> VCPU_EXIT_INTERNAL (%s)",
	       why == VCPU_EXIT_INTERNAL ? e.internal.message : "other exit");
}

static void test_deadline(struct machine *m)
{
	static const u8 spin[] = { 0xeb, 0xfe }; /* jmp . */
	static const u8 io_spin[] = {
		0xba, 0x00, 0x05, 0x00, 0x00, /* mov edx, 0x500 */
		0xec, 0xeb, 0xfe,             /* in al, dx; jmp . */
	};
	static const u8 finite[] = {
		0xb9, 0x00, 0x00, 0x01, 0x00, /* mov ecx, 0x10000 */
		0xff, 0xc9, 0x75, 0xfc, 0xf4, /* 1: dec ecx; jnz 1b; hlt */
	};
	struct vcpu_exit e;
	load(m, CODE, spin, sizeof(spin));
	load(m, CODE2, finite, sizeof(finite));
	load(m, CODE2 + 0x100, io_spin, sizeof(io_spin));
	long_mode(m, CODE);
	u64 deadline = kvm->get_tsc(m->v) + 30000000;
	kvm->set_deadline(m->v, deadline);
	report(run_to(m, &e) == VCPU_EXIT_DEADLINE && kvm->get_tsc(m->v) >= deadline,
	       "kvm: a spinning guest returns VCPU_EXIT_DEADLINE at the deadline");
	kvm->set_deadline(m->v, kvm->get_tsc(m->v) - 1);
	report(run_to(m, &e) == VCPU_EXIT_DEADLINE, "kvm: a past deadline returns at once");

	kvm->set_deadline(m->v, ~0ull);
	m->stop = true;
	report(run_to(m, &e) == VCPU_EXIT_STOP, "kvm: *env->stop -> VCPU_EXIT_STOP");
	m->stop = false;
	set_rip(m, CODE2);
	report(run_to(m, &e) == VCPU_EXIT_HLT, "kvm: no deadline -> the guest runs to HLT");

	set_rip(m, CODE2 + 0x100);
	m->dev_value = 0x77;
	kvm->run(m->v, &e);
	service(m, &e);
	kvm->set_deadline(m->v, 0);
	report(kvm->run(m->v, &e) == 0 && e.reason == VCPU_EXIT_DEADLINE &&
		       (regs(m).rax & 0xff) == 0x77 && regs(m).rip == CODE2 + 0x106,
	       "kvm: a deadline after an IN completes the IN first");
	kvm->set_deadline(m->v, ~0ull);
}

static void test_init(struct machine *m)
{
	static const u8 code[] = { 0xba, 0x00, 0x05, 0xee, 0xf4 }; /* mov dx, 0x500; out dx, al; hlt */
	struct vcpu_sregs s;
	struct vcpu_exit e;
	long_mode(m, CODE);
	report(kvm->init(m->v) == 0, "kvm: init()");
	struct vcpu_regs r = regs(m);
	kvm->get_sregs(m->v, &s);
	report(r.rip == 0xfff0 && s.cs.selector == 0xf000 && s.cs.base == 0xffff0000 &&
		       s.efer == 0 && !(s.cr0 & 0x80000001) && s.cr4 == 0 && r.rflags == 2,
	       "kvm: INIT state: F000:FFF0, base FFFF0000, real mode, EFER 0");
	load(m, CODE, code, sizeof(code));
	real_mode(m, CODE);
	kvm->run(m->v, &e);
	report(e.reason == VCPU_EXIT_IO && e.io.port == TEST_PORT, "kvm: the vCPU runs after INIT");
	service(m, &e);
}

static void test_state(struct machine *m)
{
	struct vcpu_cpuid c = { 0 };
	int r = kvm->get_supported_cpuid(&c);
	report(r == 0 && c.n > 0 && c.e[0].function == 0, "kvm: get_supported_cpuid (%d entries)",
	       c.n);
	u64 xcr0 = 0;
	report(kvm->get_xcr0(m->v, &xcr0) == 0 && (xcr0 & 1), "kvm: get_xcr0 has x87");
	report(kvm->set_xcr0(m->v, 3) == 0 && kvm->get_xcr0(m->v, &xcr0) == 0 && xcr0 == 3,
	       "kvm: set_xcr0(x87|SSE) round trip");
	struct vcpu_xsave *x = calloc(2, sizeof(*x));
	r = kvm->get_xsave(m->v, &x[0]);
	memset(&x[0].region[160], 0xa5, 16); /* XMM0 */
	x[0].region[512] |= 2;               /* XSTATE_BV.SSE: not in init state */
	if (r == 0)
		r = kvm->set_xsave(m->v, &x[0]);
	if (r == 0)
		r = kvm->get_xsave(m->v, &x[1]);
	report(r == 0 && !memcmp(&x[1].region[160], &x[0].region[160], 16),
	       "kvm: get/set_xsave round trip of XMM0");
	free(x);
	u64 val = 0;
	struct vcpu_msr cs = { MSR_IA32_SYSENTER_CS, 0x1234 };
	kvm->set_msrs(m->v, &cs, 1);
	r = kvm->get_one_reg(m->v, VCPU_REG_MSR(MSR_IA32_SYSENTER_CS), &val);
	if (r == -EINVAL || r == -ENOENT || r == -ENOTTY || r == -EOPNOTSUPP)
		report_skip("kvm: ONE_REG of an MSR (host KVM: %s)", strerror(-r));
	else
		report(r == 0 && val == 0x1234, "kvm: ONE_REG of an MSR reads SYSENTER_CS");
	report(kvm->icount(m->v) == 0, "kvm: icount is 0");
	u64 t0 = kvm->get_tsc(m->v), t = t0 + 1000000000000ull;
	kvm->set_tsc(m->v, t);
	u64 t1 = kvm->get_tsc(m->v);
	if (t1 < t && t1 - t0 < 100000000000ull)
		report_skip("kvm: set_tsc: the host KVM keeps the TSC (no TSC offsetting, e.g. PVM)");
	else
		report(t1 >= t, "kvm: set_tsc moves the guest TSC");
}

/* Events, debug registers, the MSR index list, and the CET state where the
 * host's KVM offers CET (spec/cet.md 3.6, 3.7). */
static void test_state2(struct machine *m)
{
	struct vcpu_debugregs d = { { 0x1000, 0x2000, 0, 0 }, 0xffff0ff0, 0x401 }, d2;
	int r = kvm->set_debugregs(m->v, &d);
	report(r == 0 && !kvm->get_debugregs(m->v, &d2) && d2.db[0] == 0x1000 &&
		       d2.db[1] == 0x2000 && (d2.dr7 & 0x401) == 0x401,
	       "kvm: debug registers round trip");
	struct vcpu_events e = { .interrupt_shadow = 1 }, e2;
	r = kvm->set_events(m->v, &e);
	report(r == 0 && !kvm->get_events(m->v, &e2) && e2.interrupt_shadow == 1 &&
		       !e2.nmi_pending,
	       "kvm: events round trip (interrupt shadow)");
	e = (struct vcpu_events){ .halted = 1 };
	report(kvm->set_events(m->v, &e) == 0 && !kvm->get_events(m->v, &e2) && !e2.halted &&
		       !e2.interrupt_shadow,
	       "kvm: a halted vCPU is accepted and resumes after its HLT (HLT exits to cetvm)");
	static u32 list[2048];
	int n = kvm->get_msr_index_list(list, 2048);
	bool star = false, internal = false;
	for (int i = 0; i < n && i < 2048; i++) {
		star |= list[i] == MSR_STAR;
		internal |= list[i] == MSR_KVM_INTERNAL_GUEST_SSP;
	}
	report(n > 0 && star && !internal, "kvm: MSR index list (%d) has STAR, not 0x4B564DFF", n);

	struct vcpu_cpuid c = { 0 };
	kvm->get_supported_cpuid(&c);
	bool shstk = false;
	for (int i = 0; i < c.n; i++)
		shstk |= c.e[i].function == 7 && c.e[i].index == 0 && (c.e[i].ecx & (1u << 7));
	u64 ids[4];
	int nids = 4;
	u64 ssp = 0;
	if (!shstk) {
		report(!kvm->get_reg_list(m->v, ids, &nids) && nids == 0 &&
			       kvm->get_one_reg(m->v, VCPU_REG_GUEST_SSP, &ssp) < 0,
		       "kvm without SHSTK: no GUEST_SSP register");
		report_skip("kvm: CET state through ONE_REG and the MSRs (the host's KVM offers no SHSTK)");
		return;
	}
	kvm->set_cpuid(m->v, &c);
	r = kvm->set_one_reg(m->v, VCPU_REG_GUEST_SSP, 0x123456789000ull);
	report(r == 0 && !kvm->get_one_reg(m->v, VCPU_REG_GUEST_SSP, &ssp) &&
		       ssp == 0x123456789000ull,
	       "kvm: GUEST_SSP round trip");
	report(kvm->set_one_reg(m->v, VCPU_REG_GUEST_SSP, 0x123456789001ull) == -EINVAL,
	       "kvm: misaligned GUEST_SSP -> -EINVAL");
	nids = 4;
	report(!kvm->get_reg_list(m->v, ids, &nids) && nids >= 1 && ids[0] == VCPU_REG_GUEST_SSP,
	       "kvm: REG_LIST has GUEST_SSP");
	struct vcpu_msr pl0 = { MSR_IA32_PL0_SSP, 0x7000 };
	report(kvm->set_msrs(m->v, &pl0, 1) == 1 && (pl0.data = 0, kvm->get_msrs(m->v, &pl0, 1)) == 1 &&
		       pl0.data == 0x7000,
	       "kvm: PL0_SSP through SET/GET_MSRS");
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_create_errors(void)
{
	struct guest_ram ram;
	struct vcpu *v = (struct vcpu *)1;
	int before = count_fds();
	guest_ram_alloc(&ram, 1 << 20);
	struct accel_env env = { .ram = ram.base, .ram_size = 4ull << 30 };
	report(kvm->create(&v, &env, 0) == -EINVAL && !v,
	       "kvm: 4 GiB of RAM all below 4 GiB (over the APICs) is refused");
	env.ram_high = env.ram_size + 4096;
	report(kvm->create(&v, &env, 0) == -EINVAL && !v, "kvm: an impossible layout is refused");
	env.ram_size = ram.size;
	env.ram_high = 0;
	report(kvm->create(&v, &env, 1) < 0 && !v, "kvm: a second vCPU id is refused for now");
	report(kvm->create(&v, &env, 0) == 0 && v, "kvm: create with a bare env");
	kvm->destroy(v);
	guest_ram_free(&ram);
	report(count_fds() == before, "kvm: create/destroy leaks no fd");
}

int main(void)
{
	const char *why = kvm->unavailable();
	if (why) {
		printf("SKIP: kvm: %s\n", why);
		return 0;
	}
	alarm(60); /* a broken deadline would spin forever */
	static void (*const tests[])(struct machine *) = {
		test_real_mode_io, test_long_mode, test_mmio, test_interrupts, test_msrs,
		test_triple_fault, test_internal_error, test_deadline, test_init, test_state,
		test_state2,
	};
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		struct machine m;
		int r = machine_init(&m, RAM_SIZE);
		if (report(r == 0, "kvm: machine %zu created (%s)", i, r ? strerror(-r) : "ok"))
			tests[i](&m);
		machine_free(&m);
	}
	test_create_errors();
	struct machine m;
	int r = machine_init(&m, 5ull << 30);
	if (report(r == 0, "kvm: machine with 5 GiB created (%s)", r ? strerror(-r) : "ok"))
		test_high_ram(&m);
	machine_free(&m);
	return 0;
}
