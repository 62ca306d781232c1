/* emu_state.c: the vCPU state that emu.c leaves out: the XSAVE image,
 * ONE_REG and its register list (spec/cet.md 3.7), events and debug
 * registers. Everything here takes KVM's host-initiated semantics. */
#include <errno.h>
#include <string.h>

#include "../cpu/msr.h"
#include "../cpu/xsave.h"
#include "emu.h"

int emu_get_xsave(struct vcpu *v, struct vcpu_xsave *x)
{
	memset(x, 0, sizeof(*x));
	cpu_xsave_to_std(v->cpu, x->region);
	return 0;
}

int emu_set_xsave(struct vcpu *v, const struct vcpu_xsave *x)
{
	return cpu_xsave_from_std(v->cpu, x->region);
}

/* ---- ONE_REG ---- */

#define REG_ARCH(id) ((id) >> 56)
#define REG_SIZE(id) (((id) >> 52) & 0xf)
#define REG_RSVD(id) (((id) >> 40) & 0xfff) /* rsvd2 51:48 and rsvd1 47:40 */
#define REG_TYPE(id) (((id) >> 32) & 0xff)
#define REG_INDEX(id) ((u32)(id))
#define REG_ARCH_X86 0x20
#define REG_TYPE_MSR 2
#define REG_TYPE_KVM 3
#define REG_SIZE_U64 3
#define REG_KVM_GUEST_SSP 0

/* Decode an id into the MSR it names. Sets *ssp for the synthetic
 * GUEST_SSP register, which has no zero-value leniency. */
static int reg_to_msr(struct vcpu *v, u64 id, u32 *msr, bool *ssp)
{
	*ssp = false;
	if (REG_ARCH(id) != REG_ARCH_X86 || REG_RSVD(id))
		return -EINVAL;
	u64 type = REG_TYPE(id);
	if (type == REG_TYPE_KVM) {
		if (REG_INDEX(id) != REG_KVM_GUEST_SSP ||
		    !cpu_has_feature(v->cpu, X86_FEATURE_SHSTK))
			return -EINVAL;
		*ssp = true;
		type = REG_TYPE_MSR;
	}
	if (type != REG_TYPE_MSR || REG_SIZE(id) != REG_SIZE_U64)
		return -EINVAL;
	*msr = REG_INDEX(id);
	return 0;
}

int emu_get_one_reg(struct vcpu *v, u64 id, u64 *value)
{
	u32 msr;
	bool ssp;
	int r = reg_to_msr(v, id, &msr, &ssp);
	if (!r)
		r = ssp ? cpu_guest_ssp_read(v->cpu, value) : cpu_msr_host_read(v->cpu, msr, value);
	return r ? -EINVAL : 0;
}

int emu_set_one_reg(struct vcpu *v, u64 id, u64 value)
{
	u32 msr;
	bool ssp;
	int r = reg_to_msr(v, id, &msr, &ssp);
	if (!r)
		r = ssp ? cpu_guest_ssp_write(v->cpu, value) : cpu_msr_host_write(v->cpu, msr, value);
	return r ? -EINVAL : 0;
}

/* Only the synthetic registers are listed; MSR ids are not (spec 3.7). */
int emu_get_reg_list(struct vcpu *v, u64 *ids, int *n)
{
	int need = cpu_has_feature(v->cpu, X86_FEATURE_SHSTK) ? 1 : 0;
	if (*n < need) {
		*n = need;
		return -E2BIG;
	}
	if (need)
		ids[0] = VCPU_REG_GUEST_SSP;
	*n = need;
	return 0;
}

/* ---- events and debug registers ---- */

int emu_get_events(struct vcpu *v, struct vcpu_events *e)
{
	*e = (struct vcpu_events){
		.interrupt_shadow = v->cpu->irq_shadow,
		.nmi_pending = v->cpu->nmi_pending,
		.halted = v->cpu->halted,
	};
	return 0;
}

int emu_set_events(struct vcpu *v, const struct vcpu_events *e)
{
	if (!vcpu_events_valid(e))
		return -EINVAL;
	struct cpu *cpu = v->cpu;
	cpu->irq_shadow = e->interrupt_shadow;
	cpu->nmi_pending = e->nmi_pending;
	cpu->halted = e->halted;
	cpu_poll_irq(cpu); /* let the run loop look at the controllers again */
	return 0;
}

int emu_get_debugregs(struct vcpu *v, struct vcpu_debugregs *d)
{
	const u64 *dr = v->cpu->dr;
	*d = (struct vcpu_debugregs){ { dr[0], dr[1], dr[2], dr[3] }, dr[6], dr[7] };
	return 0;
}

/* As KVM: DR6 and DR7 have no bits above 31. */
int emu_set_debugregs(struct vcpu *v, const struct vcpu_debugregs *d)
{
	if ((d->dr6 | d->dr7) >> 32)
		return -EINVAL;
	u64 *dr = v->cpu->dr;
	memcpy(dr, d->db, sizeof(d->db));
	dr[6] = d->dr6;
	dr[7] = d->dr7;
	return 0;
}

int emu_msr_index_list(u32 *out, int max)
{
	return cpu_msr_index_list(out, max);
}
