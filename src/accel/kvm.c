/* kvm.c: the kvm accelerator: the vCPU interface of accel.h on top of /dev/kvm.
 *
 * Choices (see also kvm_run.c and kvm_time.c):
 * - No in-kernel irqchip. The machine's PIC/LAPIC/IOAPIC stay authoritative
 *   so one device model serves both accelerators: HLT exits to user space,
 *   xAPIC MMIO at 0xFEE00000 is an ordinary MMIO exit, and interrupts are
 *   injected with KVM_INTERRUPT (kvm_run.c).
 * - MSRs the devices own (IA32_APIC_BASE, TSC_DEADLINE, the x2APIC range)
 *   are denied by a KVM MSR filter, so guest accesses exit to user space
 *   and go to accel_env.msr_read/msr_write. MSRs KVM does not know or
 *   refuses go the same way (the devices refuse them too: #GP). Host
 *   accesses through get_msrs/set_msrs to those indices also go to the
 *   devices, so both sides see one value.
 * - Guest RAM is one host mapping in the PC layout of mem.h, given to KVM
 *   as two memory slots: low RAM at guest-physical 0 (it must end by
 *   3.5 GiB), high RAM at 4 GiB. The hole between holds the IOAPIC, the
 *   LAPIC, and KVM's own TSS and identity-map pages.
 * - One VM per process for now: vCPU 0 creates it and owns it.
 */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../cpu/x86.h"
#include "../log.h"
#include "../mem.h"
#include "kvm_run.h"
#include "kvm_state.h"

/* RAM below 4 GiB must end where a PC's MMIO hole may start (mem.h),
 * well below the APICs and the two pages below. */
#define LOW_RAM_LIMIT 0xe0000000ull
#define PAGE_SIZE_4K 4096ull
/* KVM needs three pages for a real-mode TSS and one for an identity page
 * table on Intel (unused on AMD); both sit just below the BIOS area. */
#define IDENTITY_MAP_ADDR 0xfffbc000ull
#define TSS_ADDR 0xfffbd000ull

#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_COUNT 0x100

/* MSRs owned by the machine's devices. */
static const struct {
	u32 base, count;
} device_msrs[] = {
	{ MSR_IA32_APIC_BASE, 1 },
	{ MSR_IA32_TSC_DEADLINE, 1 },
	{ MSR_X2APIC_FIRST, MSR_X2APIC_COUNT },
};

static const struct {
	int cap;
	const char *missing;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM lacks KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM lacks KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM lacks KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM lacks KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_XSAVE, "KVM lacks KVM_CAP_XSAVE" },
	{ KVM_CAP_XCRS, "KVM lacks KVM_CAP_XCRS" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM lacks KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_GET_TSC_KHZ, "KVM lacks KVM_CAP_GET_TSC_KHZ" },
	{ KVM_CAP_X86_USER_SPACE_MSR, "KVM lacks KVM_CAP_X86_USER_SPACE_MSR" },
	{ KVM_CAP_X86_MSR_FILTER, "KVM lacks KVM_CAP_X86_MSR_FILTER" },
};

static bool is_device_msr(u32 index)
{
	for (size_t i = 0; i < ARRAY_SIZE(device_msrs); i++)
		if (index - device_msrs[i].base < device_msrs[i].count)
			return true;
	return false;
}

/* Host accesses to device MSRs go to the devices, if the machine gave us
 * the callbacks. */
static bool routed_to_device(const struct vcpu *v, u32 index)
{
	return v->env.msr_read && v->env.msr_write && is_device_msr(index);
}

/* --- availability ---------------------------------------------------------- */

static const char *open_error(int err)
{
	switch (err) {
	case ENOENT:
		return KVM_PATH ": No such file or directory";
	case EACCES:
		return KVM_PATH ": Permission denied";
	case EPERM:
		return KVM_PATH ": Operation not permitted";
	case ENODEV:
	case ENXIO:
		return KVM_PATH ": No such device (KVM module not loaded?)";
	default:
		return KVM_PATH ": cannot be opened";
	}
}

static const char *check_kvm(int fd)
{
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return KVM_PATH ": KVM API version is not 12";
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return required_caps[i].missing;
	return NULL;
}

static const char *kvm_unavailable(void)
{
	int fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return open_error(errno);
	const char *why = check_kvm(fd);
	close(fd);
	return why;
}

/* --- the VM ------------------------------------------------------------------ */

static int check_ram(const struct accel_env *env)
{
	if (!env->ram || env->ram_size == 0) {
		log_error("kvm: no guest RAM");
		return -EINVAL;
	}
	if (!mem_layout_ok(env->ram_size, env->ram_high)) {
		log_error("kvm: bad RAM layout");
		return -EINVAL;
	}
	if (env->ram_size - env->ram_high > LOW_RAM_LIMIT) {
		log_error("kvm: %llu MiB of RAM below 4 GiB: it must end by 3.5 GiB "
			  "(the hole up to 4 GiB holds the APICs and firmware)",
			  (unsigned long long)((env->ram_size - env->ram_high) >> 20));
		return -EINVAL;
	}
	if ((uintptr_t)env->ram % PAGE_SIZE_4K || env->ram_size % PAGE_SIZE_4K ||
	    env->ram_high % PAGE_SIZE_4K) {
		log_error("kvm: guest RAM is not page-aligned");
		return -EINVAL;
	}
	return 0;
}

/* Slot 0: low RAM at gpa 0; slot 1: high RAM at 4 GiB, which follows low
 * RAM in the one host mapping (mem.h). */
static int set_memory(int vm_fd, const struct accel_env *env)
{
	u64 low = env->ram_size - env->ram_high;
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = low,
		.userspace_addr = (u64)(uintptr_t)env->ram,
	};
	int r = xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
	if (r || !env->ram_high)
		return r;
	slot = (struct kvm_userspace_memory_region){
		.slot = 1,
		.guest_phys_addr = MEM_HIGH_BASE,
		.memory_size = env->ram_high,
		.userspace_addr = (u64)(uintptr_t)(env->ram + low),
	};
	return xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
}

static int set_system_pages(int vm_fd)
{
	u64 identity = IDENTITY_MAP_ADDR;
	int r = xioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	if (r == 0 && ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDR) < 0)
		r = -errno;
	return r;
}

/* Guest accesses to device MSRs (denied by the filter), and to MSRs KVM
 * does not know or refuses, exit to user space (kvm_run.c). */
static int set_msr_exits(int vm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN |
			   KVM_MSR_EXIT_REASON_INVAL,
	};
	int r = xioctl(vm_fd, KVM_ENABLE_CAP, &cap);
	if (r < 0)
		return r;
	u8 deny[MSR_X2APIC_COUNT / 8] = { 0 }; /* a clear bit denies */
	struct kvm_msr_filter filter;
	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	for (size_t i = 0; i < ARRAY_SIZE(device_msrs); i++) {
		filter.ranges[i].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
		filter.ranges[i].base = device_msrs[i].base;
		filter.ranges[i].nmsrs = device_msrs[i].count;
		filter.ranges[i].bitmap = deny;
	}
	return xioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &filter);
}

static int vm_open(struct kvm_vm *vm, const struct accel_env *env)
{
	vm->sys_fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0)
		return -errno;
	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		return vm->run_size < 0 ? -errno : -EIO;
	vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	int r = set_system_pages(vm->fd);
	if (r == 0)
		r = set_memory(vm->fd, env);
	if (r == 0)
		r = set_msr_exits(vm->fd);
	return r;
}

/* --- the vCPU ------------------------------------------------------------------ */

static void kvm_destroy(struct vcpu *v)
{
	if (!v)
		return;
	kvm_time_destroy(&v->time);
	if (v->run)
		munmap(v->run, (size_t)v->vm.run_size);
	if (v->fd >= 0)
		close(v->fd);
	if (v->vm.fd >= 0)
		close(v->vm.fd);
	if (v->vm.sys_fd >= 0)
		close(v->vm.sys_fd);
	free(v);
}

static int vcpu_open(struct vcpu *v)
{
	v->fd = ioctl(v->vm.fd, KVM_CREATE_VCPU, (unsigned long)v->id);
	if (v->fd < 0)
		return -errno;
	void *run = mmap(NULL, (size_t)v->vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	v->run = run;
	return kvm_time_init(&v->time, v->vm.sys_fd, v->fd);
}

static int kvm_create(struct vcpu **out, const struct accel_env *env, int id)
{
	*out = NULL;
	if (id != 0) {
		log_error("kvm: only one vCPU is supported for now");
		return -EOPNOTSUPP;
	}
	int r = check_ram(env);
	if (r < 0)
		return r;
	struct vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->env = *env;
	v->id = id;
	v->fd = v->vm.fd = v->vm.sys_fd = -1;
	r = vm_open(&v->vm, env);
	if (r == 0)
		r = vcpu_open(v);
	if (r < 0) {
		log_error("kvm: cannot create the VM: %s", strerror(-r));
		kvm_destroy(v);
		return r;
	}
	*out = v;
	return 0;
}

/* --- CPUID ------------------------------------------------------------------- */

static int fetch_supported(int sys_fd, struct kvm_cpuid2 **out)
{
	for (u32 nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG)
			return -err;
	}
	return -E2BIG;
}

static void entry_from_kvm(struct vcpu_cpuid_entry *e, const struct kvm_cpuid_entry2 *k)
{
	*e = (struct vcpu_cpuid_entry){
		.function = k->function, .index = k->index, .flags = k->flags,
		.eax = k->eax, .ebx = k->ebx, .ecx = k->ecx, .edx = k->edx,
	};
}

/* When KVM reports more than VCPU_MAX_CPUID entries, keep the basic leaves
 * up to 0x20 and the extended leaves up to 0x80000008 (what guests need to
 * boot), drop the rest, and lower the two "highest leaf" values to match. */
static bool essential_leaf(u32 fn)
{
	return fn <= 0x20 || (fn >= 0x80000000u && fn <= 0x80000008u);
}

static int cpuid_from_kvm(struct vcpu_cpuid *out, const struct kvm_cpuid2 *c)
{
	bool trim = c->nent > VCPU_MAX_CPUID;
	out->n = 0;
	for (u32 i = 0; i < c->nent; i++) {
		if (trim && !essential_leaf(c->entries[i].function))
			continue;
		if (out->n == VCPU_MAX_CPUID)
			return -E2BIG;
		struct vcpu_cpuid_entry *e = &out->e[out->n++];
		entry_from_kvm(e, &c->entries[i]);
		if (trim && e->function == 0 && e->eax > 0x20)
			e->eax = 0x20;
		if (trim && e->function == 0x80000000u && e->eax > 0x80000008u)
			e->eax = 0x80000008u;
	}
	if (trim)
		log_info("kvm: KVM reports %u CPUID entries; kept %d", c->nent, out->n);
	return 0;
}

static int kvm_get_supported_cpuid(struct vcpu_cpuid *out)
{
	int fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct kvm_cpuid2 *c = NULL;
	int r = fetch_supported(fd, &c);
	close(fd);
	if (r == 0)
		r = cpuid_from_kvm(out, c);
	free(c);
	if (r == 0)
		kvm_cet_filter(out);
	return r;
}

/* Remember what INIT needs from the guest CPUID. */
static void note_cpuid(struct vcpu *v, const struct vcpu_cpuid *cpuid)
{
	v->signature = 0;
	v->shstk = v->ibt = false;
	for (int i = 0; i < cpuid->n; i++) {
		const struct vcpu_cpuid_entry *e = &cpuid->e[i];
		if (e->function == 1)
			v->signature = e->eax;
		if (e->function == 7 && e->index == 0) {
			v->shstk = e->ecx & (1u << 7); /* CET_SS */
			v->ibt = e->edx & (1u << 20);  /* CET_IBT */
		}
	}
}

static int kvm_set_cpuid(struct vcpu *v, const struct vcpu_cpuid *cpuid)
{
	if (cpuid->n < 0 || cpuid->n > VCPU_MAX_CPUID)
		return -EINVAL;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)cpuid->n * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = (u32)cpuid->n;
	for (int i = 0; i < cpuid->n; i++) {
		const struct vcpu_cpuid_entry *e = &cpuid->e[i];
		c->entries[i] = (struct kvm_cpuid_entry2){
			.function = e->function, .index = e->index, .flags = e->flags,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
		};
	}
	int r = xioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r == 0)
		note_cpuid(v, cpuid);
	return r;
}

/* --- registers --------------------------------------------------------------- */

#define GPRS(X)                                                                \
	X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rsp) X(rbp) X(r8) X(r9)    \
	X(r10) X(r11) X(r12) X(r13) X(r14) X(r15) X(rip) X(rflags)

static int kvm_get_regs(struct vcpu *v, struct vcpu_regs *r)
{
	struct kvm_regs k;
	int err = xioctl(v->fd, KVM_GET_REGS, &k);
	if (err < 0)
		return err;
#define FROM(reg) r->reg = k.reg;
	GPRS(FROM)
#undef FROM
	return 0;
}

static int kvm_set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
	struct kvm_regs k;
#define TO(reg) k.reg = r->reg;
	GPRS(TO)
#undef TO
	kvm_vcpu_state_changed(v);
	return xioctl(v->fd, KVM_SET_REGS, &k);
}

static void seg_from_kvm(struct vcpu_segment *s, const struct kvm_segment *k)
{
	*s = (struct vcpu_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector,
		.type = k->type, .present = k->present, .dpl = k->dpl, .db = k->db,
		.s = k->s, .l = k->l, .g = k->g, .avl = k->avl, .unusable = k->unusable,
	};
}

static void seg_to_kvm(struct kvm_segment *k, const struct vcpu_segment *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl, .db = s->db,
		.s = s->s, .l = s->l, .g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

#define SEGS(X) X(cs) X(ds) X(es) X(fs) X(gs) X(ss) X(tr) X(ldt)
#define SREG_SCALARS(X) X(cr0) X(cr2) X(cr3) X(cr4) X(cr8) X(efer) X(apic_base)

static int kvm_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	struct kvm_sregs k;
	int err = xioctl(v->fd, KVM_GET_SREGS, &k);
	if (err < 0)
		return err;
#define SEG(seg) seg_from_kvm(&s->seg, &k.seg);
#define SCALAR(reg) s->reg = k.reg;
	SEGS(SEG)
	SREG_SCALARS(SCALAR)
#undef SEG
#undef SCALAR
	s->gdt = (struct vcpu_dtable){ .base = k.gdt.base, .limit = k.gdt.limit };
	s->idt = (struct vcpu_dtable){ .base = k.idt.base, .limit = k.idt.limit };
	return 0;
}

/* The interrupt bitmap stays zero: with no in-kernel irqchip KVM only
 * queues a vector from it, never clears one, so zero leaves a pending
 * injection alone. */
static int kvm_set_sregs(struct vcpu *v, const struct vcpu_sregs *s)
{
	struct kvm_sregs k;
	memset(&k, 0, sizeof(k));
#define SEG(seg) seg_to_kvm(&k.seg, &s->seg);
#define SCALAR(reg) k.reg = s->reg;
	SEGS(SEG)
	SREG_SCALARS(SCALAR)
#undef SEG
#undef SCALAR
	k.gdt.base = s->gdt.base;
	k.gdt.limit = s->gdt.limit;
	k.idt.base = s->idt.base;
	k.idt.limit = s->idt.limit;
	kvm_vcpu_state_changed(v);
	return xioctl(v->fd, KVM_SET_SREGS, &k);
}

/* --- MSRs --------------------------------------------------------------------- */

#define MSR_BATCH 32

/* Host-initiated access to a device MSR. Returns entries processed (0/1). */
static int device_msr(struct vcpu *v, const struct vcpu_msr *m, struct vcpu_msr *out)
{
	if (!out)
		return v->env.msr_write(v->env.ctx, m->index, m->data);
	u64 value = 0;
	if (!v->env.msr_read(v->env.ctx, m->index, &value))
		return 0;
	out->data = value;
	return 1;
}

/* The run of non-device MSRs at m[0..], at most MSR_BATCH, through one
 * KVM_GET_MSRS (out != NULL) or KVM_SET_MSRS. Returns entries processed. */
static int kvm_msr_batch(struct vcpu *v, const struct vcpu_msr *m, int n, struct vcpu_msr *out,
			 int *asked)
{
	union {
		struct kvm_msrs h;
		u8 raw[sizeof(struct kvm_msrs) + MSR_BATCH * sizeof(struct kvm_msr_entry)];
	} b;
	memset(&b, 0, sizeof(b));
	int k = 0;
	for (; k < n && k < MSR_BATCH && !routed_to_device(v, m[k].index); k++) {
		b.h.entries[k].index = m[k].index;
		b.h.entries[k].data = m[k].data;
	}
	b.h.nmsrs = (u32)k;
	*asked = k;
	int r = ioctl(v->fd, out ? KVM_GET_MSRS : KVM_SET_MSRS, &b);
	if (r < 0)
		return -errno;
	for (int i = 0; out && i < r; i++)
		out[i].data = b.h.entries[i].data;
	return r;
}

/* Process m[0..n) in order, stopping at the first entry that fails. */
static int msrs_access(struct vcpu *v, const struct vcpu_msr *m, int n, struct vcpu_msr *out)
{
	int done = 0;
	while (done < n) {
		int asked = 1, r;
		if (routed_to_device(v, m[done].index))
			r = device_msr(v, &m[done], out ? &out[done] : NULL);
		else
			r = kvm_msr_batch(v, &m[done], n - done, out ? &out[done] : NULL, &asked);
		if (r < 0)
			return done ? done : r;
		done += r;
		if (r < asked)
			break;
	}
	return done;
}

static int kvm_get_msrs(struct vcpu *v, struct vcpu_msr *m, int n)
{
	return n < 0 ? -EINVAL : msrs_access(v, m, n, m);
}

static int kvm_set_msrs(struct vcpu *v, const struct vcpu_msr *m, int n)
{
	return n < 0 ? -EINVAL : msrs_access(v, m, n, NULL);
}

/* --- XSAVE, XCR0, ONE_REG ------------------------------------------------------ */

/* KVM's XSAVE image size: 4 KiB unless dynamic features (AMX) make it
 * larger, in which case KVM_SET_XSAVE reads that many bytes. */
static size_t xsave_size(const struct vcpu *v)
{
	int n = ioctl(v->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	return n > VCPU_XSAVE_SIZE ? (size_t)n : VCPU_XSAVE_SIZE;
}

static int kvm_get_xsave(struct vcpu *v, struct vcpu_xsave *x)
{
	size_t size = xsave_size(v);
	u8 *buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	unsigned long req = size > VCPU_XSAVE_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
	int r = xioctl(v->fd, req, buf);
	if (r == 0)
		memcpy(x->region, buf, VCPU_XSAVE_SIZE);
	free(buf);
	return r;
}

static int kvm_set_xsave(struct vcpu *v, const struct vcpu_xsave *x)
{
	size_t size = xsave_size(v);
	u8 *buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, x->region, VCPU_XSAVE_SIZE);
	int r = xioctl(v->fd, KVM_SET_XSAVE, buf);
	free(buf);
	return r;
}

static int kvm_get_xcr0(struct vcpu *v, u64 *xcr0)
{
	struct kvm_xcrs x;
	int r = xioctl(v->fd, KVM_GET_XCRS, &x);
	if (r < 0)
		return r;
	for (u32 i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (x.xcrs[i].xcr == 0) {
			*xcr0 = x.xcrs[i].value;
			return 0;
		}
	}
	return -EIO;
}

static int kvm_set_xcr0(struct vcpu *v, u64 xcr0)
{
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = xcr0;
	return xioctl(v->fd, KVM_SET_XCRS, &x);
}

static int kvm_get_one_reg(struct vcpu *v, u64 id, u64 *value)
{
	u64 tmp = 0;
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(uintptr_t)&tmp };
	int r = xioctl(v->fd, KVM_GET_ONE_REG, &reg);
	if (r == 0)
		*value = tmp;
	return r;
}

static int kvm_set_one_reg(struct vcpu *v, u64 id, u64 value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(uintptr_t)&value };
	return xioctl(v->fd, KVM_SET_ONE_REG, &reg);
}

/* --- time ------------------------------------------------------------------------ */

static u64 kvm_get_tsc(struct vcpu *v)
{
	u64 tsc = 0;
	int r = kvm_time_get_tsc(&v->time, &tsc);
	if (r < 0)
		log_warn("kvm: reading the guest TSC: %s", strerror(-r));
	return tsc;
}

static void kvm_set_tsc(struct vcpu *v, u64 tsc)
{
	int r = kvm_time_set_tsc(&v->time, tsc);
	if (r < 0)
		log_warn("kvm: writing the guest TSC: %s", strerror(-r));
}

static u64 kvm_tsc_hz(struct vcpu *v)
{
	return (u64)v->time.khz * 1000;
}

static void kvm_set_deadline(struct vcpu *v, u64 tsc)
{
	kvm_time_set_deadline(&v->time, tsc);
}

static u64 kvm_icount(struct vcpu *v)
{
	(void)v;
	return 0;
}

/* --- INIT ------------------------------------------------------------------------ */

/* SDM Vol. 3A, "Processor State After Reset" table, INIT column: real mode at F000:FFF0 with
 * CS.base FFFF0000; CR0.CD/NW unchanged, ET set; EFER, CR2-4 zero; the APIC
 * base, XCR0, x87/SSE state and most MSRs unchanged. */
static void init_sregs(struct vcpu_sregs *s)
{
	const struct vcpu_segment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	s->cs = data;
	s->cs.type = 0xb;
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->ldt = (struct vcpu_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	s->tr = (struct vcpu_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->gdt = s->idt = (struct vcpu_dtable){ .base = 0, .limit = 0xffff };
	s->cr0 = (s->cr0 & 0x60000000) | 0x10;
	s->cr2 = s->cr3 = s->cr4 = s->cr8 = 0;
	s->efer = 0;
}

/* Debug registers to their INIT values; no pending exception, interrupt
 * or NMI; no interrupt shadow (as KVM's own INIT does). */
static int init_events(struct vcpu *v)
{
	const struct vcpu_debugregs dr = { .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	int r = kvm_set_debugregs(v, &dr);
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	return r < 0 ? r : xioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev);
}

/* spec/cet.md §1.3: INIT zeroes U_CET, S_CET, PL0-3_SSP, INT_SSP_TAB and
 * SSP, and keeps XSS. Only where the guest has CET. */
static int init_cet(struct vcpu *v)
{
	static const u32 shstk_msrs[] = { MSR_IA32_PL0_SSP, MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP,
					  MSR_IA32_PL3_SSP, MSR_IA32_INT_SSP_TAB };
	struct vcpu_msr m[2 + ARRAY_SIZE(shstk_msrs)];
	int n = 0;
	if (!v->shstk && !v->ibt)
		return 0;
	m[n++] = (struct vcpu_msr){ .index = MSR_IA32_U_CET };
	m[n++] = (struct vcpu_msr){ .index = MSR_IA32_S_CET };
	for (size_t i = 0; v->shstk && i < ARRAY_SIZE(shstk_msrs); i++)
		m[n++] = (struct vcpu_msr){ .index = shstk_msrs[i] };
	int r = kvm_set_msrs(v, m, n);
	if (r >= 0 && r < n)
		return -EINVAL;
	if (r >= 0 && v->shstk)
		r = kvm_set_one_reg(v, VCPU_REG_GUEST_SSP, 0);
	return r < 0 ? r : 0;
}

static int kvm_init(struct vcpu *v)
{
	struct vcpu_regs regs = { .rdx = v->signature, .rip = 0xfff0, .rflags = 0x2 };
	struct vcpu_sregs s;
	int r = kvm_get_sregs(v, &s);
	if (r < 0)
		return r;
	init_sregs(&s);
	r = kvm_set_sregs(v, &s);
	if (r == 0)
		r = kvm_set_regs(v, &regs);
	if (r == 0)
		r = init_events(v);
	if (r == 0)
		r = init_cet(v);
	return r;
}

const struct accel_ops accel_kvm = {
	.name = "kvm",
	.unavailable = kvm_unavailable,
	.create = kvm_create,
	.destroy = kvm_destroy,
	.get_supported_cpuid = kvm_get_supported_cpuid,
	.set_cpuid = kvm_set_cpuid,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.get_msrs = kvm_get_msrs,
	.set_msrs = kvm_set_msrs,
	.get_xsave = kvm_get_xsave,
	.set_xsave = kvm_set_xsave,
	.get_xcr0 = kvm_get_xcr0,
	.set_xcr0 = kvm_set_xcr0,
	.get_one_reg = kvm_get_one_reg,
	.set_one_reg = kvm_set_one_reg,
	.get_reg_list = kvm_get_reg_list,
	.get_events = kvm_get_events,
	.set_events = kvm_set_events,
	.get_debugregs = kvm_get_debugregs,
	.set_debugregs = kvm_set_debugregs,
	.get_msr_index_list = kvm_msr_index_list,
	.get_tsc = kvm_get_tsc,
	.set_tsc = kvm_set_tsc,
	.tsc_hz = kvm_tsc_hz,
	.set_deadline = kvm_set_deadline,
	.icount = kvm_icount,
	.run = kvm_vcpu_run,
	.init = kvm_init,
};
