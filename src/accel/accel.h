/* accel.h: the vCPU interface, modelled on the KVM API.
 *
 * Every accelerator ("emu": cetvm's own CPU; "kvm": /dev/kvm) implements
 * struct accel_ops. The machine (vm.c), snapshots and the CLI talk to vCPUs
 * only through it. Host-initiated accesses (set_sregs, set_msrs, ...) follow
 * KVM's semantics, including the CET rules of spec/cet.md §3.
 *
 * Call order: create() once per vCPU, then set_cpuid(), then any of the
 * get/set calls, then run() repeatedly. destroy() last.
 *
 * Devices: both accelerators dispatch guest port I/O and MMIO to the same
 * struct bus objects from accel_env. The interpreter calls the buses from
 * inside run(); kvm returns VCPU_EXIT_IO / VCPU_EXIT_MMIO and the machine's
 * run loop makes the very same bus calls.
 */
#ifndef CETVM_ACCEL_H
#define CETVM_ACCEL_H

#include "../bus.h"
#include "../types.h"

/* Register order and meaning as in struct kvm_regs. */
struct vcpu_regs {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rip, rflags;
};

/* As struct kvm_segment. `type` is the 4-bit descriptor type. */
struct vcpu_segment {
	u64 base;
	u32 limit; /* byte granular (already scaled by G) */
	u16 selector;
	u8 type, present, dpl, db, s, l, g, avl;
	u8 unusable;
};

struct vcpu_dtable {
	u64 base;
	u16 limit;
};

/* As struct kvm_sregs, without the interrupt bitmap. */
struct vcpu_sregs {
	struct vcpu_segment cs, ds, es, fs, gs, ss;
	struct vcpu_segment tr, ldt;
	struct vcpu_dtable gdt, idt;
	u64 cr0, cr2, cr3, cr4, cr8;
	u64 efer;
	u64 apic_base;
};

struct vcpu_msr {
	u32 index;
	u64 data;
};

/* As struct kvm_cpuid_entry2. flags bit 0: the leaf has subleaves. */
struct vcpu_cpuid_entry {
	u32 function, index, flags;
	u32 eax, ebx, ecx, edx;
};
#define VCPU_CPUID_SIGNIFICANT_INDEX 1u

#define VCPU_MAX_CPUID 64
struct vcpu_cpuid {
	int n;
	struct vcpu_cpuid_entry e[VCPU_MAX_CPUID];
};

/* ONE_REG ids (spec/cet.md §3.7). */
#define VCPU_REG_GUEST_SSP 0x2030000300000000ull
#define VCPU_REG_MSR(m) (0x2030000200000000ull | (u32)(m))

/* As struct kvm_vcpu_events / kvm_mp_state, reduced to what the two
 * accelerators hold between instructions. */
struct vcpu_events {
	u8 interrupt_shadow; /* STI or MOV SS shadow on the next instruction */
	u8 nmi_pending;
	u8 halted;           /* KVM_MP_STATE_HALTED: in HLT, waiting for an interrupt */
};

/* Each field is a flag: set_events() refuses anything else (-EINVAL). */
static inline bool vcpu_events_valid(const struct vcpu_events *e)
{
	return e->interrupt_shadow <= 1 && e->nmi_pending <= 1 && e->halted <= 1;
}

/* As struct kvm_debugregs. */
struct vcpu_debugregs {
	u64 db[4];
	u64 dr6, dr7;
};

/* Standard-format XSAVE image, 4 KiB like struct kvm_xsave. */
#define VCPU_XSAVE_SIZE 4096
struct vcpu_xsave {
	u8 region[VCPU_XSAVE_SIZE];
};

enum vcpu_exit_reason {
	VCPU_EXIT_NONE,
	VCPU_EXIT_IO,       /* kvm only: port access for the bus */
	VCPU_EXIT_MMIO,     /* kvm only: MMIO access for the bus */
	VCPU_EXIT_HLT,      /* HLT with no deliverable interrupt */
	VCPU_EXIT_SHUTDOWN, /* triple fault */
	VCPU_EXIT_DEADLINE, /* virtual time reached the requested deadline */
	VCPU_EXIT_STOP,     /* accel_env.stop was set (device asked to end) */
	VCPU_EXIT_INTERNAL, /* the accelerator failed; see `message` */
};

struct vcpu_exit {
	enum vcpu_exit_reason reason;
	union {
		struct {
			u16 port;
			u8 size;  /* 1, 2, 4 */
			u8 write; /* 1 = OUT */
			u32 count;
			u8 *data; /* count * size bytes, owned by the accel */
		} io;
		struct {
			u64 addr;
			u8 size;
			u8 write;
			u8 *data; /* 8 bytes, owned by the accel */
		} mmio;
		struct {
			char message[160];
		} internal;
	};
};

/* What the machine lends every vCPU. */
struct accel_env {
	void *ctx; /* passed back to the callbacks below */
	struct bus *pio;
	struct bus *mmio;
	u8 *ram;      /* host offsets 0 .. ram_size, in the layout of mem.h: */
	u64 ram_size; /* all RAM */
	u64 ram_high; /* of which the last ram_high bytes sit at 4 GiB (0: none) */
	/* Highest-priority interrupt vector the interrupt controllers would
	 * deliver now, or -1. irq_ack() takes it (moves it in service) and
	 * returns it, or -1 if it vanished. */
	int (*irq_peek)(void *ctx);
	int (*irq_ack)(void *ctx);
	/* MSRs owned by devices (APIC base, x2APIC range, TSC deadline).
	 * Return false when the device does not have the MSR: #GP. */
	bool (*msr_read)(void *ctx, u32 index, u64 *value);
	bool (*msr_write)(void *ctx, u32 index, u64 value);
	/* The local APIC's task-priority register, which CR8 mirrors in
	 * 64-bit mode (CR8[3:0] = TPR[7:4]); NULL: CR8 stands alone. */
	u8 (*tpr_read)(void *ctx);
	void (*tpr_write)(void *ctx, u8 tpr);
	/* Set by devices (debug-exit, reset) to make run() return promptly
	 * with VCPU_EXIT_STOP. */
	volatile bool *stop;
	/* -trace events (vm.h TRACE_*) the accelerator should log. */
	unsigned trace;
	bool no_jit; /* emu: interpret only, no native code */
	u8 jit_threshold; /* emu: runs of a block before its native code, 0: default */
};

struct vcpu;

/* Every call returns 0 or a negative errno, as the KVM ioctls do. */
struct accel_ops {
	const char *name;
	/* Time is derived from the instruction count (emu) rather than the
	 * host clock (kvm): idle time can be skipped. */
	bool virtual_time;
	/* Is this accelerator usable here? NULL or a reason it is not. */
	const char *(*unavailable)(void);
	int (*create)(struct vcpu **out, const struct accel_env *env, int id);
	void (*destroy)(struct vcpu *v);

	/* Supported CPUID (KVM_GET_SUPPORTED_CPUID) and the guest's. */
	int (*get_supported_cpuid)(struct vcpu_cpuid *out);
	int (*set_cpuid)(struct vcpu *v, const struct vcpu_cpuid *cpuid);

	int (*get_regs)(struct vcpu *v, struct vcpu_regs *r);
	int (*set_regs)(struct vcpu *v, const struct vcpu_regs *r);
	int (*get_sregs)(struct vcpu *v, struct vcpu_sregs *s);
	int (*set_sregs)(struct vcpu *v, const struct vcpu_sregs *s);
	/* Return the number of entries processed; stop at the first failure. */
	int (*get_msrs)(struct vcpu *v, struct vcpu_msr *m, int n);
	int (*set_msrs)(struct vcpu *v, const struct vcpu_msr *m, int n);
	int (*get_xsave)(struct vcpu *v, struct vcpu_xsave *x);
	int (*set_xsave)(struct vcpu *v, const struct vcpu_xsave *x);
	int (*get_xcr0)(struct vcpu *v, u64 *xcr0);
	int (*set_xcr0)(struct vcpu *v, u64 xcr0);
	/* KVM_GET/SET_ONE_REG (spec/cet.md 3.7): -EINVAL for a bad id or value. */
	int (*get_one_reg)(struct vcpu *v, u64 id, u64 *value);
	int (*set_one_reg)(struct vcpu *v, u64 id, u64 value);
	/* KVM_GET_REG_LIST: stores up to *n ids; -E2BIG (and *n = the count
	 * needed) when *n is too small, else 0 with *n = the count. */
	int (*get_reg_list)(struct vcpu *v, u64 *ids, int *n);
	int (*get_events)(struct vcpu *v, struct vcpu_events *e);
	int (*set_events)(struct vcpu *v, const struct vcpu_events *e);
	int (*get_debugregs)(struct vcpu *v, struct vcpu_debugregs *d);
	int (*set_debugregs)(struct vcpu *v, const struct vcpu_debugregs *d);
	/* KVM_GET_MSR_INDEX_LIST (spec 3.6): stores up to `max` indices and
	 * returns how many there are, or a negative errno. */
	int (*get_msr_index_list)(u32 *out, int max);

	/* Virtual time: the guest TSC now, and a TSC value at which run()
	 * should return VCPU_EXIT_DEADLINE (~0 for none). On HLT the
	 * machine may advance time with set_tsc() (emu only). */
	u64 (*get_tsc)(struct vcpu *v);
	/* Only with virtual_time: jump the clock forward (idle skipping). */
	void (*set_tsc)(struct vcpu *v, u64 tsc);
	/* Guest TSC ticks per second. */
	u64 (*tsc_hz)(struct vcpu *v);
	void (*set_deadline)(struct vcpu *v, u64 tsc);
	/* Count of guest instructions retired (0 if unknown, e.g. kvm). */
	u64 (*icount)(struct vcpu *v);

	int (*run)(struct vcpu *v, struct vcpu_exit *exit);
	/* Deliver INIT (reset most state, keep XSS) to the vCPU. */
	int (*init)(struct vcpu *v);
};

extern const struct accel_ops accel_emu;
extern const struct accel_ops accel_kvm;

/* The accelerator named `name`, or NULL. */
const struct accel_ops *accel_find(const char *name);

#endif
