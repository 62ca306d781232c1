/* kvm_state.c: the kvm accelerator's vCPU state beyond registers and MSRs:
 * the ONE_REG list, events, debug registers and the MSR index list, each
 * one KVM ioctl translated to the vCPU interface. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../cpu/x86.h"
#include "kvm_run.h"
#include "kvm_state.h"

/* Kernels before the CET series have no x86 KVM_GET_REG_LIST: nothing to
 * list then. */
int kvm_get_reg_list(struct vcpu *v, u64 *ids, int *n)
{
	int max = *n < 0 ? 0 : *n;
	struct kvm_reg_list *l = calloc(1, sizeof(*l) + (size_t)max * sizeof(u64));
	if (!l)
		return -ENOMEM;
	l->n = (u64)max;
	int r = xioctl(v->fd, KVM_GET_REG_LIST, l);
	if (r == -ENOTTY || r == -EINVAL) {
		l->n = 0;
		r = 0;
	}
	if (r == 0 || r == -E2BIG)
		*n = (int)l->n;
	if (r == 0)
		memcpy(ids, l->reg, l->n * sizeof(u64));
	free(l);
	return r;
}

/* cetvm's kvm accelerator keeps the local APIC in user space, so HLT is an
 * exit to the machine and KVM never holds a halted vCPU (and refuses
 * KVM_MP_STATE_HALTED without its own APIC). A vCPU saved halted resumes
 * after its HLT, as after any HLT exit here: a spurious wakeup, which
 * guests tolerate. */
int kvm_get_events(struct vcpu *v, struct vcpu_events *e)
{
	struct kvm_vcpu_events ev;
	int r = xioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev);
	if (r)
		return r;
	*e = (struct vcpu_events){
		.interrupt_shadow = ev.interrupt.shadow != 0,
		.nmi_pending = ev.nmi.pending != 0,
		.halted = 0,
	};
	return 0;
}

int kvm_set_events(struct vcpu *v, const struct vcpu_events *e)
{
	if (!vcpu_events_valid(e))
		return -EINVAL;
	struct kvm_vcpu_events ev;
	int r = xioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev);
	if (r)
		return r;
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = e->interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
	ev.nmi.pending = e->nmi_pending;
	return xioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev);
}

int kvm_get_debugregs(struct vcpu *v, struct vcpu_debugregs *d)
{
	struct kvm_debugregs k;
	int r = xioctl(v->fd, KVM_GET_DEBUGREGS, &k);
	if (r)
		return r;
	memcpy(d->db, k.db, sizeof(d->db));
	d->dr6 = k.dr6;
	d->dr7 = k.dr7;
	return 0;
}

int kvm_set_debugregs(struct vcpu *v, const struct vcpu_debugregs *d)
{
	struct kvm_debugregs k;
	memset(&k, 0, sizeof(k));
	memcpy(k.db, d->db, sizeof(k.db));
	k.dr6 = d->dr6;
	k.dr7 = d->dr7;
	return xioctl(v->fd, KVM_SET_DEBUGREGS, &k);
}

int kvm_msr_index_list(u32 *out, int max)
{
	int fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct kvm_msr_list probe = { .nmsrs = 0 };
	int r = xioctl(fd, KVM_GET_MSR_INDEX_LIST, &probe);
	struct kvm_msr_list *l = NULL;
	if (r == -E2BIG) {
		l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(u32));
		r = l ? 0 : -ENOMEM;
	}
	if (l) {
		l->nmsrs = probe.nmsrs;
		r = xioctl(fd, KVM_GET_MSR_INDEX_LIST, l);
	}
	close(fd);
	int n = r ? r : l ? (int)l->nmsrs : 0;
	for (int i = 0; r == 0 && i < n && i < max; i++)
		out[i] = l->indices[i];
	free(l);
	return n;
}

static bool listed(const u32 *list, int n, u32 index)
{
	for (int i = 0; i < n; i++)
		if (list[i] == index)
			return true;
	return false;
}

/* A KVM that reports SHSTK or IBT in CPUID but cannot migrate their MSRs
 * would lose guest state on save/restore: offer only what both agree on
 * (spec/cet.md 3.6). The XSS bits are checked by cpumodel. */
void kvm_cet_filter(struct vcpu_cpuid *sup)
{
	u32 list[1024];
	int n = kvm_msr_index_list(list, 1024);
	if (n < 0 || n > 1024)
		n = 0;
	bool cet = listed(list, n, MSR_IA32_U_CET) && listed(list, n, MSR_IA32_S_CET);
	bool ssp = cet;
	for (u32 m = MSR_IA32_PL0_SSP; m <= MSR_IA32_PL0_SSP + 3; m++)
		ssp &= listed(list, n, m);
	for (int i = 0; i < sup->n; i++) {
		struct vcpu_cpuid_entry *e = &sup->e[i];
		if (e->function != 7 || e->index != 0)
			continue;
		if (!ssp)
			e->ecx &= ~(1u << 7); /* SHSTK */
		if (!cet)
			e->edx &= ~(1u << 20); /* IBT */
	}
}
