/* kvm_run.c: KVM_RUN, interrupt injection, and the exit table of the kvm accelerator. */
#include "kvm_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../log.h"

/* An exit handler returns 1 to hand *exit to the machine, 0 to re-enter
 * the guest. */
typedef int (*exit_fn)(struct vcpu *v, struct vcpu_exit *exit);

__attribute__((format(printf, 2, 3))) static int internal(struct vcpu_exit *exit,
							   const char *fmt, ...)
{
	va_list ap;
	exit->reason = VCPU_EXIT_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(exit->internal.message, sizeof(exit->internal.message), fmt, ap);
	va_end(ap);
	return 1;
}

/* --- interrupts -----------------------------------------------------------
 * No in-kernel irqchip: the machine's PIC/LAPIC decide which vector is
 * next. KVM_INTERRUPT may only be used when the last exit said the guest
 * can take one (IF=1, no interrupt shadow, nothing being injected);
 * otherwise ask KVM to exit as soon as it can (KVM_EXIT_IRQ_WINDOW_OPEN).
 */

static int irq_peek(const struct vcpu *v)
{
	return v->env.irq_peek ? v->env.irq_peek(v->env.ctx) : -1;
}

static void inject_interrupt(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	if (run->ready_for_interrupt_injection && run->if_flag && irq_peek(v) >= 0 &&
	    v->env.irq_ack) {
		int vector = v->env.irq_ack(v->env.ctx);
		struct kvm_interrupt irq = { .irq = (u32)vector };
		if (vector >= 0 && ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
			log_error("kvm: KVM_INTERRUPT %d: %s (interrupt lost)", vector,
				  strerror(errno));
		run->ready_for_interrupt_injection = 0; /* until the next exit says */
	}
	run->request_interrupt_window = irq_peek(v) >= 0;
}

void kvm_vcpu_state_changed(struct vcpu *v)
{
	if (v->run)
		v->run->ready_for_interrupt_injection = 0;
}

/* --- exits ---------------------------------------------------------------- */

static int exit_io(struct vcpu *v, struct vcpu_exit *exit)
{
	const struct kvm_run *run = v->run;
	u64 end = (u64)run->io.data_offset + (u64)run->io.size * run->io.count;
	if (end > (u64)v->vm.run_size)
		return internal(exit, "kvm: KVM_EXIT_IO data outside the run page");
	exit->reason = VCPU_EXIT_IO;
	exit->io.port = run->io.port;
	exit->io.size = run->io.size;
	exit->io.write = run->io.direction == KVM_EXIT_IO_OUT;
	exit->io.count = run->io.count;
	exit->io.data = (u8 *)v->run + run->io.data_offset;
	v->io_pending = true;
	return 1;
}

static int exit_mmio(struct vcpu *v, struct vcpu_exit *exit)
{
	struct kvm_run *run = v->run;
	if (run->mmio.len > sizeof(run->mmio.data))
		return internal(exit, "kvm: KVM_EXIT_MMIO of %u bytes", run->mmio.len);
	exit->reason = VCPU_EXIT_MMIO;
	exit->mmio.addr = run->mmio.phys_addr;
	exit->mmio.size = (u8)run->mmio.len;
	exit->mmio.write = run->mmio.is_write;
	exit->mmio.data = run->mmio.data;
	v->io_pending = true;
	return 1;
}

/* KVM exits on every HLT (no in-kernel LAPIC to wait on). If an interrupt
 * is deliverable, deliver it instead of telling the machine. */
static int exit_hlt(struct vcpu *v, struct vcpu_exit *exit)
{
	if (v->run->if_flag && irq_peek(v) >= 0)
		return 0;
	exit->reason = VCPU_EXIT_HLT;
	return 1;
}

static int exit_shutdown(struct vcpu *v, struct vcpu_exit *exit)
{
	(void)v;
	exit->reason = VCPU_EXIT_SHUTDOWN;
	return 1;
}

static int exit_reenter(struct vcpu *v, struct vcpu_exit *exit)
{
	(void)v;
	(void)exit;
	return 0;
}

/* MSRs the devices own (filtered, see kvm.c) and MSRs KVM does not know
 * or refuses come here; the devices answer, and `error` makes KVM inject
 * #GP(0) when they do not have the MSR. */
static int exit_rdmsr(struct vcpu *v, struct vcpu_exit *exit)
{
	u64 value = 0;
	bool ok = v->env.msr_read && v->env.msr_read(v->env.ctx, v->run->msr.index, &value);
	(void)exit;
	v->run->msr.data = ok ? value : 0;
	v->run->msr.error = !ok;
	return 0;
}

static int exit_wrmsr(struct vcpu *v, struct vcpu_exit *exit)
{
	const struct kvm_run *run = v->run;
	bool ok = v->env.msr_write && v->env.msr_write(v->env.ctx, run->msr.index, run->msr.data);
	(void)exit;
	v->run->msr.error = !ok;
	return 0;
}

static int exit_fail_entry(struct vcpu *v, struct vcpu_exit *exit)
{
	return internal(exit, "kvm: KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%llx",
			(unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
}

static const char *const suberror_names[] = {
	[KVM_INTERNAL_ERROR_EMULATION] = "instruction emulation failed",
	[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception during exception delivery",
	[KVM_INTERNAL_ERROR_DELIVERY_EV] = "exit during event delivery",
	[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
};

static int exit_internal_error(struct vcpu *v, struct vcpu_exit *exit)
{
	u32 sub = v->run->internal.suberror;
	const char *name = sub < ARRAY_SIZE(suberror_names) && suberror_names[sub]
				   ? suberror_names[sub]
				   : "unknown";
	struct kvm_regs regs;
	unsigned long long rip = ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : ~0ull;
	return internal(exit, "kvm: KVM_EXIT_INTERNAL_ERROR suberror %u (%s) at rip 0x%llx", sub,
			name, rip);
}

static const exit_fn exit_table[] = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_HLT] = exit_hlt,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_reenter,
	[KVM_EXIT_INTR] = exit_reenter,
	[KVM_EXIT_X86_RDMSR] = exit_rdmsr,
	[KVM_EXIT_X86_WRMSR] = exit_wrmsr,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal_error,
};

static int handle_exit(struct vcpu *v, struct vcpu_exit *exit)
{
	u32 reason = v->run->exit_reason;
	if (reason < ARRAY_SIZE(exit_table) && exit_table[reason])
		return exit_table[reason](v, exit);
	return internal(exit, "kvm: unhandled KVM exit reason %u", reason);
}

/* --- the loop -------------------------------------------------------------- */

/* A reason to return before entering the guest, or VCPU_EXIT_NONE. */
static enum vcpu_exit_reason must_return(struct vcpu *v)
{
	if (v->env.stop && *v->env.stop)
		return VCPU_EXIT_STOP;
	if (kvm_time_expired(&v->time))
		return VCPU_EXIT_DEADLINE;
	return VCPU_EXIT_NONE;
}

/* KVM_RUN once. 0: an exit to handle; 1: interrupted by a signal;
 * -errno: KVM_RUN failed. `complete` only finishes a pending IO/MMIO
 * (immediate_exit: KVM stores the data, then returns EINTR). */
/* Without KVM's own local APIC, KVM takes CR8 from kvm_run on every entry
 * and reports it there on every exit: keep it and the device's TPR one
 * register (a guest MOV CR8 needs no exit). */
static void cr8_to_kvm(struct vcpu *v)
{
	if (v->env.tpr_read)
		v->run->cr8 = v->env.tpr_read(v->env.ctx) >> 4;
}

static void cr8_from_kvm(struct vcpu *v)
{
	u8 tpr = (u8)((v->run->cr8 & 0xf) << 4);
	if (v->env.tpr_read && v->env.tpr_write && (v->env.tpr_read(v->env.ctx) & 0xf0) != tpr)
		v->env.tpr_write(v->env.ctx, tpr);
}

static int enter(struct vcpu *v, bool complete)
{
	int r = kvm_time_enter(&v->time);
	if (r < 0)
		return r;
	if (!complete)
		inject_interrupt(v);
	v->run->immediate_exit = complete;
	v->io_pending = false;
	cr8_to_kvm(v);
	r = ioctl(v->fd, KVM_RUN, 0);
	v->run->immediate_exit = 0;
	cr8_from_kvm(v);
	if (r == 0)
		return 0;
	if (errno != EINTR && errno != EAGAIN)
		return -errno;
	kvm_time_kicked();
	return 1;
}

int kvm_vcpu_run(struct vcpu *v, struct vcpu_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	for (;;) {
		enum vcpu_exit_reason why = must_return(v);
		if (why != VCPU_EXIT_NONE && !v->io_pending) {
			exit->reason = why;
			return 0;
		}
		int r = enter(v, why != VCPU_EXIT_NONE);
		if (r < 0) {
			internal(exit, "kvm: KVM_RUN: %s", strerror(-r));
			return 0;
		}
		if (r == 0 && handle_exit(v, exit))
			return 0;
	}
}
