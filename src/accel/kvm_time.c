/* kvm_time.c: guest TSC, its rate, and the timer that ends KVM_RUN at a deadline. */
#include "kvm_time.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../log.h"

#define KICK_SIGNAL (SIGRTMAX - 2)
#ifndef sigev_notify_thread_id /* glibc before 2.41 names only the union member */
#define sigev_notify_thread_id _sigev_un._tid
#endif
#define MSR_IA32_TSC 0x10
#define NOMINAL_TSC_KHZ 1000000u /* BOARD_TSC_HZ / 1000 */
#define NSEC_PER_SEC 1000000000ull

/* --- the guest TSC ------------------------------------------------------- */

static u64 mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

static int tsc_msr(int vcpu_fd, unsigned long req, u64 *tsc)
{
	union {
		struct kvm_msrs h;
		u8 raw[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.h.entries[0].index = MSR_IA32_TSC;
	m.h.entries[0].data = *tsc;
	int r = ioctl(vcpu_fd, req, &m);
	if (r < 0)
		return -errno;
	if (r != 1)
		return -EIO;
	*tsc = m.h.entries[0].data;
	return 0;
}

/* Read the guest TSC and note the host time it belongs to: the midpoint of
 * the ioctl, so the error is half its duration. */
static int anchor(struct kvm_time *t)
{
	u64 tsc = 0, before = mono_ns();
	int r = tsc_msr(t->vcpu_fd, KVM_GET_MSRS, &tsc);
	if (r < 0)
		return r;
	t->anchor_ns = before + (mono_ns() - before) / 2;
	t->anchor_tsc = tsc;
	return 0;
}

/* The CLOCK_MONOTONIC time at which the guest TSC reaches `tsc`, from the
 * anchor and the rate: the one place that converts ticks to host time.
 * Rounded up, so the timer never fires before the deadline by our own
 * arithmetic (KVM's khz is itself rounded; kvm_time_expired re-checks). */
static u64 tsc_to_ns(const struct kvm_time *t, u64 tsc)
{
	if (tsc <= t->anchor_tsc)
		return t->anchor_ns;
	u128 ticks = tsc - t->anchor_tsc;
	u128 ns = (ticks * 1000000u + t->khz - 1) / t->khz + t->anchor_ns;
	return ns > UINT64_MAX ? UINT64_MAX : (u64)ns;
}

int kvm_time_get_tsc(struct kvm_time *t, u64 *tsc)
{
	int r = anchor(t);
	if (r == 0)
		*tsc = t->anchor_tsc;
	return r;
}

int kvm_time_set_tsc(struct kvm_time *t, u64 tsc)
{
	int r = tsc_msr(t->vcpu_fd, KVM_SET_MSRS, &tsc);
	if (r == 0)
		r = anchor(t);
	kvm_time_set_deadline(t, t->deadline); /* the offset moved */
	return r;
}

/* --- the rate ------------------------------------------------------------ */

/* Ask for the nominal 1 GHz only where KVM can scale: without
 * KVM_CAP_TSC_CONTROL a failed KVM_SET_TSC_KHZ still changes the rate KVM
 * reports, so it is not even tried. */
static u32 pick_khz(int sys_fd, int vcpu_fd, bool *scaled)
{
	*scaled = false;
	if (ioctl(sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0) {
		if (ioctl(vcpu_fd, KVM_SET_TSC_KHZ, NOMINAL_TSC_KHZ) == 0)
			*scaled = true;
		else
			log_warn("kvm: KVM_SET_TSC_KHZ %u: %s", NOMINAL_TSC_KHZ, strerror(errno));
	}
	int khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	return khz > 0 ? (u32)khz : 0;
}

int kvm_time_init(struct kvm_time *t, int sys_fd, int vcpu_fd)
{
	memset(t, 0, sizeof(*t));
	t->vcpu_fd = vcpu_fd;
	t->deadline = KVM_NO_DEADLINE;
	t->deadline_ns = UINT64_MAX;
	t->khz = pick_khz(sys_fd, vcpu_fd, &t->scaled);
	if (t->khz == 0) {
		log_error("kvm: KVM_GET_TSC_KHZ failed: the guest TSC rate is unknown");
		return -EIO;
	}
	if (!t->scaled)
		log_info("kvm: no TSC scaling: the guest TSC runs at the host's %u kHz", t->khz);
	return anchor(t);
}

void kvm_time_destroy(struct kvm_time *t)
{
	if (t->have_timer)
		timer_delete(t->timer);
	t->have_timer = false;
}

/* --- the deadline -------------------------------------------------------- */

void kvm_time_set_deadline(struct kvm_time *t, u64 tsc)
{
	t->deadline = tsc;
	t->deadline_ns = tsc == KVM_NO_DEADLINE ? UINT64_MAX : tsc_to_ns(t, tsc);
	t->timer_stale = true;
}

bool kvm_time_expired(struct kvm_time *t)
{
	if (t->deadline == KVM_NO_DEADLINE || mono_ns() < t->deadline_ns)
		return false;
	if (anchor(t) < 0)
		return true; /* cannot tell: let the machine look at its clock */
	if (t->anchor_tsc >= t->deadline)
		return true;
	kvm_time_set_deadline(t, t->deadline); /* early by rounding: re-aim */
	return false;
}

/* A handler so that a stray kick (the signal unblocked by someone else)
 * never takes the default action, which would end the process. */
static void kick_handler(int sig)
{
	(void)sig;
}

static void install_handler(void)
{
	struct sigaction old, sa;
	if (sigaction(KICK_SIGNAL, NULL, &old) < 0 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
}

/* Block the kick in this thread and give KVM the mask to use inside
 * KVM_RUN: the thread's mask without the kick. */
static int set_run_mask(int vcpu_fd)
{
	sigset_t kick, old;
	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIGNAL);
	int r = pthread_sigmask(SIG_BLOCK, &kick, &old);
	if (r)
		return -r;
	sigdelset(&old, KICK_SIGNAL);
	union {
		struct kvm_signal_mask h;
		u8 raw[sizeof(struct kvm_signal_mask) + 8];
	} m;
	m.h.len = 8; /* the kernel's sigset_t */
	memcpy(m.h.sigset, &old, 8);
	return ioctl(vcpu_fd, KVM_SET_SIGNAL_MASK, &m) < 0 ? -errno : 0;
}

static int make_timer(struct kvm_time *t, pid_t tid)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_SIGNAL;
	sev.sigev_notify_thread_id = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) < 0)
		return -errno;
	t->have_timer = true;
	t->tid = tid;
	t->timer_stale = true;
	return 0;
}

static int bind_thread(struct kvm_time *t)
{
	pid_t tid = gettid();
	if (t->have_timer && t->tid == tid)
		return 0;
	kvm_time_destroy(t);
	install_handler();
	int r = set_run_mask(t->vcpu_fd);
	return r < 0 ? r : make_timer(t, tid);
}

static int arm(struct kvm_time *t)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (t->deadline != KVM_NO_DEADLINE) {
		u64 ns = t->deadline_ns ? t->deadline_ns : 1; /* 0 would disarm */
		its.it_value.tv_sec = (time_t)(ns / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(ns % NSEC_PER_SEC);
	}
	if (timer_settime(t->timer, TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	t->timer_stale = false;
	return 0;
}

int kvm_time_enter(struct kvm_time *t)
{
	int r = bind_thread(t);
	if (r == 0 && t->timer_stale)
		r = arm(t);
	return r;
}

void kvm_time_kicked(void)
{
	sigset_t kick;
	struct timespec zero = { 0, 0 };
	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIGNAL);
	while (sigtimedwait(&kick, NULL, &zero) == KICK_SIGNAL)
		;
}
