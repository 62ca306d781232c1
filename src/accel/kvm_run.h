/* kvm_run.h: the kvm accelerator's vCPU and its run loop (KVM_RUN and exits).
 *
 * kvm.c creates the VM and the vCPU and implements the state accessors;
 * kvm_run.c turns KVM_RUN exits into struct vcpu_exit. Exits the machine
 * need not see (MSR accesses forwarded to the devices, interrupt windows,
 * signals) are handled inside kvm_vcpu_run(), which re-enters the guest.
 */
#ifndef CETVM_ACCEL_KVM_RUN_H
#define CETVM_ACCEL_KVM_RUN_H

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "accel.h"
#include "kvm_time.h"

#define KVM_PATH "/dev/kvm"

/* An ioctl as the vCPU interface reports it: 0 or -errno. */
static inline int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* The VM. One per process for now; vCPU 0 owns it. */
struct kvm_vm {
	int sys_fd;   /* /dev/kvm */
	int fd;       /* from KVM_CREATE_VM */
	int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
};

struct vcpu {
	struct accel_env env; /* a copy: the caller's may be on its stack */
	struct kvm_vm vm;
	int id;
	int fd;               /* from KVM_CREATE_VCPU */
	struct kvm_run *run;  /* the shared page, run_size bytes, or NULL */
	struct kvm_time time;
	/* The last exit returned was IO or MMIO: KVM completes it (stores an
	 * IN's data, advances RIP) only on the next KVM_RUN. */
	bool io_pending;
	/* From the guest CPUID, for INIT. */
	u32 signature; /* CPUID.1.EAX, loaded into EDX */
	bool shstk, ibt; /* INIT clears the CET MSRs the guest has */
};

/* Run until an exit the machine must see. Returns 0 with *exit filled; a
 * failing KVM_RUN is VCPU_EXIT_INTERNAL with the errno in the message. */
int kvm_vcpu_run(struct vcpu *v, struct vcpu_exit *exit);

/* The vCPU's registers changed behind KVM_RUN's back (set_regs, INIT):
 * forget what the last exit said about the interrupt window. */
void kvm_vcpu_state_changed(struct vcpu *v);

#endif
