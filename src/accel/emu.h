/* emu.h: the "emu" accelerator's vCPU, shared by emu.c (registers, time,
 * run) and emu_state.c (the rest of the vCPU state: XSAVE, ONE_REG,
 * events, debug registers). */
#ifndef CETVM_ACCEL_EMU_H
#define CETVM_ACCEL_EMU_H

#include "../cpu/cpu.h"
#include "accel.h"

struct vcpu {
	struct accel_env env; /* the CPU keeps a pointer to this copy */
	struct cpu *cpu;
};

int emu_get_xsave(struct vcpu *v, struct vcpu_xsave *x);
int emu_set_xsave(struct vcpu *v, const struct vcpu_xsave *x);
int emu_get_one_reg(struct vcpu *v, u64 id, u64 *value);
int emu_set_one_reg(struct vcpu *v, u64 id, u64 value);
int emu_get_reg_list(struct vcpu *v, u64 *ids, int *n);
int emu_get_events(struct vcpu *v, struct vcpu_events *e);
int emu_set_events(struct vcpu *v, const struct vcpu_events *e);
int emu_get_debugregs(struct vcpu *v, struct vcpu_debugregs *d);
int emu_set_debugregs(struct vcpu *v, const struct vcpu_debugregs *d);
int emu_msr_index_list(u32 *out, int max);

#endif
