/* vm_snap.c: what a snapshot holds and how it is put back.
 *
 * Sections (snap.h frames them):
 *   MACH  RAM size, devices present, the kernel a reset reloads, the guest CPUID
 *   CPU0  vCPU state through the vCPU interface only (accel.h): registers,
 *         segments and control registers, XCR0, the XSAVE image, the MSRs
 *         (CET included), debug registers, events, the guest SSP, the TSC
 *   DEVS  every device (board_save)
 *   RAM   the non-zero 4 KiB pages
 * Because the CPU goes through the vCPU interface, a snapshot taken under
 * one accelerator restores under the other when it offers the same CPU.
 * Restore order follows spec/cet.md 3.6: CPUID, XSS, the MSRs, then SSP.
 */
#include <errno.h>
#include <string.h>

#include "cpu/x86.h"
#include "cpumodel.h"
#include "dev/board.h"
#include "snap.h"
#include "vm_int.h"

#define PAGE 4096ull
#define END_OF_RAM (~0ull)
#define MAX_RAM (64ull << 30) /* as -m */

/* MSRs a snapshot carries, when the accelerator lists them. EFER, FS/GS
 * base travel in the segment registers; APIC base and TSC deadline in the
 * LAPIC's state; the TSC on its own. XSS comes before the CET MSRs. */
static const u32 saved_msrs[] = {
	MSR_STAR,	       MSR_LSTAR,	       MSR_CSTAR,	      MSR_SYSCALL_MASK,
	MSR_KERNEL_GS_BASE,    MSR_TSC_AUX,	       MSR_IA32_SYSENTER_CS,  MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP, MSR_IA32_PAT,	       MSR_IA32_MISC_ENABLE,  MSR_IA32_SPEC_CTRL,
	MSR_IA32_MTRR_DEF_TYPE, MSR_IA32_MTRR_FIX64K,  0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
	0x26c, 0x26d, 0x26e, 0x26f, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
	MSR_IA32_XSS,	       MSR_IA32_U_CET,	       MSR_IA32_S_CET,	      MSR_IA32_PL0_SSP,
	MSR_IA32_PL0_SSP + 1,  MSR_IA32_PL0_SSP + 2,   MSR_IA32_PL0_SSP + 3,  MSR_IA32_INT_SSP_TAB,
};
#define NSAVED ((int)ARRAY_SIZE(saved_msrs))

static int fail(char *err, size_t errlen, const char *fmt, const char *what, int r)
{
	snprintf(err, errlen, fmt, what, strerror(r < 0 ? -r : r));
	return -1;
}

/* ---- MACH ---- */

static void put_str(struct snap_buf *b, const char *s)
{
	u32 n = s ? (u32)strlen(s) + 1 : 0;
	snap_buf_u32(b, n);
	snap_buf_put(b, s, n);
}

/* A copy the machine owns (freed with it), or NULL for an absent string. */
static char *get_str(struct snap_cur *c, char **owned)
{
	u32 n = snap_u32(c);
	const char *s = (const char *)snap_bytes(c, n);
	if (n && s && s[n - 1] != '\0')
		c->bad = true;
	if (!n || !s || c->bad)
		return NULL;
	*owned = strdup(s);
	c->bad |= !*owned;
	return *owned;
}

static void save_machine(struct vm *vm, struct snap_buf *b)
{
	const struct vm_config *cfg = &vm->cfg;
	snap_buf_u64(b, cfg->ram_size);
	snap_buf_u8(b, cfg->debug_exit);
	snap_buf_u32(b, cfg->debug_exit_port);
	snap_buf_u8(b, cfg->debug_exit_size);
	put_str(b, cfg->kernel);
	put_str(b, cfg->initrd);
	put_str(b, cfg->append);
	snap_buf_u32(b, (u32)vm->cpuid.n);
	snap_buf_put(b, vm->cpuid.e, (size_t)vm->cpuid.n * sizeof(vm->cpuid.e[0]));
}

int vm_snap_config(struct vm *vm, const struct snap_in *in, char *err, size_t errlen)
{
	struct vm_config *cfg = &vm->cfg;
	struct vcpu_cpuid *cpuid = &vm->cpuid;
	struct snap_cur c;
	if (!snap_in_section(in, "MACH", 0, &c)) {
		snprintf(err, errlen, "no machine section");
		return -1;
	}
	cfg->ram_size = snap_u64(&c);
	cfg->debug_exit = snap_u8(&c) != 0;
	u32 port = snap_u32(&c);
	cfg->debug_exit_port = (u16)port;
	cfg->debug_exit_size = snap_u8(&c);
	cfg->kernel = get_str(&c, &vm->snap_str[0]);
	cfg->initrd = get_str(&c, &vm->snap_str[1]);
	const char *append = get_str(&c, &vm->snap_str[2]);
	cfg->append = append ? append : "";
	u32 n = snap_u32(&c);
	if (n > VCPU_MAX_CPUID)
		c.bad = true;
	cpuid->n = (int)n;
	snap_get(&c, cpuid->e, (size_t)cpuid->n * sizeof(cpuid->e[0]));
	if (!snap_done(&c) || port > 0xffff || cfg->ram_size < PAGE || cfg->ram_size % PAGE ||
	    cfg->ram_size > MAX_RAM || !cfg->kernel) {
		snprintf(err, errlen, "bad machine section");
		return -1;
	}
	return 0;
}

/* ---- CPU0 ---- */

static void put_seg(struct snap_buf *b, const struct vcpu_segment *s)
{
	snap_buf_u64(b, s->base);
	snap_buf_u32(b, s->limit);
	snap_buf_u32(b, s->selector);
	const u8 f[9] = { s->type, s->present, s->dpl, s->db, s->s, s->l, s->g, s->avl, s->unusable };
	snap_buf_put(b, f, sizeof(f));
}

static void get_seg(struct snap_cur *c, struct vcpu_segment *s)
{
	u8 f[9];
	s->base = snap_u64(c);
	s->limit = snap_u32(c);
	u32 sel = snap_u32(c);
	s->selector = (u16)sel;
	snap_get(c, f, sizeof(f));
	for (int i = 1; i < 9; i++)
		c->bad |= f[i] > (i == 2 ? 3 : 1); /* dpl is 0-3, the rest flags */
	c->bad |= sel > 0xffff || f[0] > 15;
	*s = (struct vcpu_segment){ s->base, s->limit, s->selector, f[0], f[1], f[2], f[3],
				    f[4],    f[5],     f[6],	    f[7], f[8] };
}

static struct vcpu_segment *sregs_segs(struct vcpu_sregs *s, int i)
{
	struct vcpu_segment *all[8] = { &s->cs, &s->ds, &s->es, &s->fs,
					&s->gs, &s->ss, &s->tr, &s->ldt };
	return all[i];
}

static void put_sregs(struct snap_buf *b, struct vcpu_sregs *s)
{
	for (int i = 0; i < 8; i++)
		put_seg(b, sregs_segs(s, i));
	const u64 v[] = { s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit, s->cr0,
			  s->cr2,      s->cr3,	     s->cr4,	  s->cr8,	s->efer, s->apic_base };
	snap_buf_put(b, v, sizeof(v));
}

static void get_sregs(struct snap_cur *c, struct vcpu_sregs *s)
{
	u64 v[11];
	for (int i = 0; i < 8; i++)
		get_seg(c, sregs_segs(s, i));
	snap_get(c, v, sizeof(v));
	c->bad |= v[1] > 0xffff || v[3] > 0xffff;
	s->gdt = (struct vcpu_dtable){ v[0], (u16)v[1] };
	s->idt = (struct vcpu_dtable){ v[2], (u16)v[3] };
	s->cr0 = v[4], s->cr2 = v[5], s->cr3 = v[6], s->cr4 = v[7], s->cr8 = v[8];
	s->efer = v[9], s->apic_base = v[10];
}

static bool in_list(const u32 *list, int n, u32 index)
{
	for (int i = 0; i < n; i++)
		if (list[i] == index)
			return true;
	return false;
}

/* The saved MSRs that this accelerator lists and can read. */
static int collect_msrs(struct vm *vm, struct vcpu_msr *out)
{
	static u32 list[1024];
	int n = vm->accel->get_msr_index_list(list, 1024), k = 0;
	if (n < 0 || n > 1024)
		return -1;
	for (int i = 0; i < NSAVED; i++) {
		out[k] = (struct vcpu_msr){ saved_msrs[i], 0 };
		if (in_list(list, n, saved_msrs[i]) && vm->accel->get_msrs(vm->vcpu, &out[k], 1) == 1)
			k++;
	}
	return k;
}

static int save_cpu(struct vm *vm, struct snap_buf *b, char *err, size_t errlen)
{
	const struct accel_ops *a = vm->accel;
	struct vcpu *v = vm->vcpu;
	struct vcpu_regs regs;
	struct vcpu_sregs sregs;
	static struct vcpu_xsave xs;
	struct vcpu_events ev;
	struct vcpu_debugregs dr;
	struct vcpu_msr msrs[NSAVED];
	u64 xcr0 = 0, ssp = 0;
	int r = a->get_regs(v, &regs);
	r = r ? r : a->get_sregs(v, &sregs);
	r = r ? r : a->get_xcr0(v, &xcr0);
	r = r ? r : a->get_xsave(v, &xs);
	r = r ? r : a->get_events(v, &ev);
	r = r ? r : a->get_debugregs(v, &dr);
	if (r)
		return fail(err, errlen, "%s: %s", "reading the vCPU state", r);
	int nmsr = collect_msrs(vm, msrs);
	if (nmsr < 0)
		return fail(err, errlen, "%s: %s", "reading the MSR index list", EIO);
	bool has_ssp = a->get_one_reg(v, VCPU_REG_GUEST_SSP, &ssp) == 0;
	snap_buf_put(b, &regs, sizeof(regs));
	put_sregs(b, &sregs);
	snap_buf_u64(b, xcr0);
	snap_buf_put(b, xs.region, sizeof(xs.region));
	snap_buf_put(b, (const u8[]){ ev.interrupt_shadow, ev.nmi_pending, ev.halted }, 3);
	snap_buf_put(b, &dr, sizeof(dr));
	snap_buf_u64(b, a->get_tsc(v));
	snap_buf_u8(b, has_ssp);
	snap_buf_u64(b, ssp);
	snap_buf_u32(b, (u32)nmsr);
	for (int i = 0; i < nmsr; i++) {
		snap_buf_u32(b, msrs[i].index);
		snap_buf_u64(b, msrs[i].data);
	}
	return 0;
}

struct cpu_image {
	struct vcpu_regs regs;
	struct vcpu_sregs sregs;
	u64 xcr0, tsc, ssp;
	struct vcpu_xsave xs;
	struct vcpu_events ev;
	struct vcpu_debugregs dr;
	bool has_ssp;
	int nmsr;
	struct vcpu_msr msrs[NSAVED];
};

static bool parse_cpu(struct snap_cur *c, struct cpu_image *im)
{
	u8 ev[3];
	snap_get(c, &im->regs, sizeof(im->regs));
	get_sregs(c, &im->sregs);
	im->xcr0 = snap_u64(c);
	snap_get(c, im->xs.region, sizeof(im->xs.region));
	snap_get(c, ev, 3);
	im->ev = (struct vcpu_events){ ev[0], ev[1], ev[2] };
	snap_get(c, &im->dr, sizeof(im->dr));
	im->tsc = snap_u64(c);
	im->has_ssp = snap_u8(c);
	im->ssp = snap_u64(c);
	u32 n = snap_u32(c);
	c->bad |= n > NSAVED;
	im->nmsr = c->bad ? 0 : (int)n;
	for (int i = 0; i < im->nmsr; i++) {
		im->msrs[i].index = snap_u32(c);
		im->msrs[i].data = snap_u64(c);
	}
	return snap_done(c);
}

/* A 0 that the accelerator will not take for an MSR this vCPU does not
 * have (a KVM without the host-side zero leniency of spec/cet.md 3.4)
 * is no loss: the MSR reads as 0 there or does not exist. */
static bool zero_is_moot(struct vm *vm, const struct vcpu_msr *m)
{
	struct vcpu_msr now = { m->index, 0 };
	return m->data == 0 && (vm->accel->get_msrs(vm->vcpu, &now, 1) != 1 || now.data == 0);
}

static int restore_msrs(struct vm *vm, const struct cpu_image *im, char *err, size_t errlen)
{
	for (int i = 0; i < im->nmsr; i++) {
		if (vm->accel->set_msrs(vm->vcpu, &im->msrs[i], 1) != 1 &&
		    !zero_is_moot(vm, &im->msrs[i])) {
			snprintf(err, errlen, "MSR %#x = %#llx is refused by accelerator %s",
				 im->msrs[i].index, (unsigned long long)im->msrs[i].data,
				 vm->accel->name);
			return -1;
		}
	}
	return 0;
}

static int restore_cpu(struct vm *vm, const struct cpu_image *im, char *err, size_t errlen)
{
	const struct accel_ops *a = vm->accel;
	struct vcpu *v = vm->vcpu;
	int r = a->set_sregs(v, &im->sregs);
	if (r)
		return fail(err, errlen, "%s: %s", "segment and control registers refused", r);
	r = a->set_regs(v, &im->regs);
	r = r ? r : a->set_xcr0(v, im->xcr0);
	r = r ? r : a->set_xsave(v, &im->xs);
	if (r)
		return fail(err, errlen, "%s: %s", "registers, XCR0 or XSAVE state refused", r);
	if (restore_msrs(vm, im, err, errlen))
		return -1;
	r = a->set_debugregs(v, &im->dr);
	r = r ? r : a->set_events(v, &im->ev);
	if (r)
		return fail(err, errlen, "%s: %s", "debug registers or events refused", r);
	if (im->has_ssp && a->set_one_reg(v, VCPU_REG_GUEST_SSP, im->ssp))
		return fail(err, errlen, "%s: %s", "the shadow-stack pointer (SSP) is refused",
			    EINVAL);
	a->set_tsc(v, im->tsc);
	return 0;
}

/* ---- RAM ---- */

static bool page_zero(const u8 *p)
{
	static const u8 zero[PAGE];
	return !memcmp(p, zero, PAGE);
}

/* Walk runs of non-zero pages; out == NULL only measures. */
static u64 put_ram(struct vm *vm, struct snap_out *out)
{
	u64 pages = vm->ram.size / PAGE, bytes = 8;
	if (out)
		snap_out_put(out, &vm->ram.size, 8);
	for (u64 p = 0; p < pages;) {
		if (page_zero(vm->ram.base + p * PAGE)) {
			p++;
			continue;
		}
		u64 n = 1;
		while (p + n < pages && !page_zero(vm->ram.base + (p + n) * PAGE))
			n++;
		if (out) {
			snap_out_put(out, (const u64[]){ p, n }, 16);
			snap_out_put(out, vm->ram.base + p * PAGE, n * PAGE);
		}
		bytes += 16 + n * PAGE;
		p += n;
	}
	if (out)
		snap_out_put(out, &(u64){ END_OF_RAM }, 8);
	return bytes + 8;
}

static int restore_ram(struct vm *vm, struct snap_cur *c)
{
	u64 pages = vm->ram.size / PAGE, next = 0;
	if (snap_u64(c) != vm->ram.size)
		return -1;
	for (;;) {
		u64 p = snap_u64(c);
		if (c->bad || p == END_OF_RAM)
			break;
		u64 n = snap_u64(c);
		if (p < next || n == 0 || n > pages || p > pages - n)
			return -1;
		const u8 *data = snap_bytes(c, n * PAGE);
		if (!data)
			return -1;
		memcpy(vm->ram.base + p * PAGE, data, n * PAGE);
		next = p + n;
	}
	return snap_done(c) ? 0 : -1;
}

/* ---- the whole machine ---- */

int vm_snap_restore(struct vm *vm, const struct snap_in *in, char *err, size_t errlen)
{
	static struct cpu_image im;
	struct snap_cur c;
	memset(&im, 0, sizeof(im));
	if (!snap_in_section(in, "CPU0", 0, &c) || !parse_cpu(&c, &im)) {
		snprintf(err, errlen, "bad or missing CPU section");
		return -1;
	}
	if (restore_cpu(vm, &im, err, errlen))
		return -1;
	if (!snap_in_section(in, "DEVS", 0, &c)) {
		snprintf(err, errlen, "no device section");
		return -1;
	}
	if (board_load(vm->board, &c, err, errlen))
		return -1;
	if (!snap_done(&c)) {
		snprintf(err, errlen, "bad device section");
		return -1;
	}
	if (!snap_in_section(in, "RAM ", 0, &c) || restore_ram(vm, &c)) {
		snprintf(err, errlen, "bad or missing RAM section");
		return -1;
	}
	return 0;
}

static int save_sections(struct vm *vm, struct snap_out *out, char *err, size_t errlen)
{
	struct snap_buf mach = { 0 }, cpu = { 0 }, devs = { 0 };
	save_machine(vm, &mach);
	int r = save_cpu(vm, &cpu, err, errlen);
	board_save(vm->board, &devs);
	if (r == 0) {
		snap_out_section(out, "MACH", &mach);
		snap_out_section(out, "CPU0", &cpu);
		snap_out_section(out, "DEVS", &devs);
		snap_out_begin(out, "RAM ", put_ram(vm, NULL));
		put_ram(vm, out);
	}
	snap_buf_free(&mach);
	snap_buf_free(&cpu);
	snap_buf_free(&devs);
	return r;
}

int vm_snap_save(struct vm *vm, const char *path, char *err, size_t errlen)
{
	struct snap_out out;
	if (vm_settle(vm)) {
		snprintf(err, errlen, "the vCPU could not be stopped between instructions");
		return -1;
	}
	if (snap_out_open(&out, path)) {
		snprintf(err, errlen, "%s", out.err);
		return -1;
	}
	if (save_sections(vm, &out, err, errlen)) {
		out.failed = true;
		snap_out_close(&out);
		return -1;
	}
	if (snap_out_close(&out)) {
		snprintf(err, errlen, "%s", out.err);
		return -1;
	}
	return 0;
}
