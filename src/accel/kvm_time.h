/* kvm_time.h: guest TSC, its rate, and the timer that ends KVM_RUN at a deadline.
 *
 * Under /dev/kvm the guest TSC runs in real time. Its rate is 1 GHz (the
 * machine's nominal BOARD_TSC_HZ) when the host has TSC scaling
 * (KVM_CAP_TSC_CONTROL); otherwise it is the host TSC rate, and `khz` says
 * which. All conversions between guest TSC ticks and host time are in
 * kvm_time.c.
 *
 * A deadline is enforced by a per-thread POSIX timer on CLOCK_MONOTONIC
 * that sends a real-time signal (SIGRTMAX - 2) to the thread inside
 * KVM_RUN. The signal is blocked in that thread except while KVM_RUN runs
 * (KVM_SET_SIGNAL_MASK, taken from the thread's mask when it first runs the
 * vCPU), so it either interrupts the guest or stays pending until the next
 * KVM_RUN, which then returns at once: a kick is never lost.
 *
 * Order: kvm_time_init() once after KVM_CREATE_VCPU; kvm_time_enter() before
 * every KVM_RUN, on the thread that runs the vCPU; kvm_time_kicked() after
 * KVM_RUN fails with EINTR; kvm_time_destroy() last (also after a failed
 * init, on a zeroed struct).
 */
#ifndef CETVM_ACCEL_KVM_TIME_H
#define CETVM_ACCEL_KVM_TIME_H

#include <sys/types.h>
#include <time.h>

#include "../types.h"

#define KVM_NO_DEADLINE (~0ull)

struct kvm_time {
	int vcpu_fd;
	u32 khz;             /* guest TSC rate */
	bool scaled;         /* khz was set to the nominal rate by KVM_SET_TSC_KHZ */
	u64 anchor_tsc;      /* a guest TSC reading ... */
	u64 anchor_ns;       /* ... and the CLOCK_MONOTONIC time it was taken */
	u64 deadline;        /* guest TSC, or KVM_NO_DEADLINE */
	u64 deadline_ns;     /* when the deadline is expected, UINT64_MAX if none */
	bool timer_stale;    /* the timer does not match deadline_ns yet */
	bool have_timer;
	timer_t timer;
	pid_t tid;           /* the thread the timer signals */
};

/* Pick the TSC rate (1 GHz if the host can scale) and anchor the clock.
 * sys_fd is /dev/kvm, vcpu_fd the new vCPU. Returns 0 or -errno. */
int kvm_time_init(struct kvm_time *t, int sys_fd, int vcpu_fd);
void kvm_time_destroy(struct kvm_time *t);

/* Before each KVM_RUN: make sure the timer targets the calling thread and
 * matches the deadline. Returns 0 or -errno. */
int kvm_time_enter(struct kvm_time *t);
/* Has the guest TSC reached the deadline? Cheap unless it is near. */
bool kvm_time_expired(struct kvm_time *t);
/* KVM_RUN returned EINTR: consume pending kicks. */
void kvm_time_kicked(void);

/* The guest TSC through MSR_IA32_TSC (host-initiated). 0 or -errno. A
 * write follows KVM's rules for host writes: 0, or a value within a second
 * of the running TSC, is taken as "synchronize" and keeps the offset; hosts
 * without TSC offsetting (PVM) ignore it. */
int kvm_time_get_tsc(struct kvm_time *t, u64 *tsc);
int kvm_time_set_tsc(struct kvm_time *t, u64 tsc);
void kvm_time_set_deadline(struct kvm_time *t, u64 tsc);

#endif
