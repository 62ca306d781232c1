/* kvm_state.h: vCPU state accessors of the kvm accelerator (kvm_state.c). */
#ifndef CETVM_ACCEL_KVM_STATE_H
#define CETVM_ACCEL_KVM_STATE_H

#include "accel.h"

int kvm_get_reg_list(struct vcpu *v, u64 *ids, int *n);
int kvm_get_events(struct vcpu *v, struct vcpu_events *e);
int kvm_set_events(struct vcpu *v, const struct vcpu_events *e);
int kvm_get_debugregs(struct vcpu *v, struct vcpu_debugregs *d);
int kvm_set_debugregs(struct vcpu *v, const struct vcpu_debugregs *d);
int kvm_msr_index_list(u32 *out, int max);
/* Clear SHSTK/IBT from a supported CPUID when KVM does not list their MSRs. */
void kvm_cet_filter(struct vcpu_cpuid *sup);

#endif
