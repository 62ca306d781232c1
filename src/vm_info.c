/* vm_info.c: "info registers" (QEMU's layout, plus the CET state). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/x86.h"
#include "vm_int.h"

struct text {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->used >= t->len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n;
}

static void put_seg(struct text *t, const char *name, const struct vcpu_segment *s)
{
	put(t, "%-3s=%04x %016llx %08x type=%x dpl=%u p=%u s=%u db=%u l=%u g=%u%s\n", name,
	    s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present, s->s,
	    s->db, s->l, s->g, s->unusable ? " unusable" : "");
}

static void put_gprs(struct text *t, const struct vcpu_regs *r)
{
	const u64 g[16] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
			    r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	static const char *const names[16] = { "RAX", "RBX", "RCX", "RDX", "RSI", "RDI",
					       "RBP", "RSP", "R8",  "R9",  "R10", "R11",
					       "R12", "R13", "R14", "R15" };
	for (int i = 0; i < 16; i++)
		put(t, "%-3s=%016llx%s", names[i], (unsigned long long)g[i], i % 4 == 3 ? "\n" : " ");
}

static void put_sregs(struct text *t, const struct vcpu_sregs *s)
{
	const struct vcpu_segment *segs[] = { &s->es, &s->cs, &s->ss, &s->ds,
					      &s->fs, &s->gs, &s->ldt, &s->tr };
	static const char *const names[] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDT", "TR" };
	for (size_t i = 0; i < ARRAY_SIZE(segs); i++)
		put_seg(t, names[i], segs[i]);
	put(t, "GDT=     %016llx %08x\nIDT=     %016llx %08x\n", (unsigned long long)s->gdt.base,
	    s->gdt.limit, (unsigned long long)s->idt.base, s->idt.limit);
	put(t, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n", (unsigned long long)s->cr0,
	    (unsigned long long)s->cr2, (unsigned long long)s->cr3, (unsigned long long)s->cr4);
	put(t, "EFER=%016llx CR8=%llx APIC_BASE=%llx\n", (unsigned long long)s->efer,
	    (unsigned long long)s->cr8, (unsigned long long)s->apic_base);
}

static const char *tracker(u64 cet)
{
	return cet & (1ull << 11) ? "WAIT_FOR_ENDBRANCH" : "IDLE";
}

/* The CET MSRs the vCPU has (a host read of one it lacks fails or is 0). */
static void put_cet(struct text *t, struct vm *vm)
{
	struct vcpu_msr m[] = { { MSR_IA32_U_CET, 0 },	     { MSR_IA32_S_CET, 0 },
				{ MSR_IA32_PL0_SSP, 0 },     { MSR_IA32_PL0_SSP + 1, 0 },
				{ MSR_IA32_PL0_SSP + 2, 0 }, { MSR_IA32_PL0_SSP + 3, 0 },
				{ MSR_IA32_INT_SSP_TAB, 0 }, { MSR_IA32_XSS, 0 } };
	u64 ssp = 0;
	int n = vm->accel->get_msrs(vm->vcpu, m, (int)ARRAY_SIZE(m));
	bool has_ssp = vm->accel->get_one_reg(vm->vcpu, VCPU_REG_GUEST_SSP, &ssp) == 0;
	if (n < 2) {
		put(t, "CET: not offered to this guest\n");
		return;
	}
	put(t, "U_CET=%016llx S_CET=%016llx", (unsigned long long)m[0].data,
	    (unsigned long long)m[1].data);
	if (n == (int)ARRAY_SIZE(m))
		put(t, " XSS=%llx", (unsigned long long)m[7].data);
	put(t, "\n");
	if (has_ssp)
		put(t, "SSP=%016llx PL0_SSP=%016llx PL1_SSP=%016llx\nPL2_SSP=%016llx "
		       "PL3_SSP=%016llx INT_SSP_TAB=%016llx\n",
		    (unsigned long long)ssp, (unsigned long long)m[2].data,
		    (unsigned long long)m[3].data, (unsigned long long)m[4].data,
		    (unsigned long long)m[5].data, (unsigned long long)m[6].data);
	put(t, "IBT tracker: user %s%s, supervisor %s%s\n", tracker(m[0].data),
	    m[0].data & (1ull << 10) ? " (suppressed)" : "", tracker(m[1].data),
	    m[1].data & (1ull << 10) ? " (suppressed)" : "");
}

void vm_info_registers(struct vm *vm, char *buf, size_t len)
{
	struct text t = { buf, len, 0 };
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct vcpu_events ev = { 0 };
	buf[0] = '\0';
	if (vm_settle(vm) || vm->accel->get_regs(vm->vcpu, &r) ||
	    vm->accel->get_sregs(vm->vcpu, &s)) {
		put(&t, "cannot read the vCPU registers\n");
		return;
	}
	vm->accel->get_events(vm->vcpu, &ev);
	put_gprs(&t, &r);
	put(&t, "RIP=%016llx RFL=%08llx CPL=%u HLT=%u\n", (unsigned long long)r.rip,
	    (unsigned long long)r.rflags, s.ss.dpl, ev.halted);
	put_sregs(&t, &s);
	put_cet(&t, vm);
}
