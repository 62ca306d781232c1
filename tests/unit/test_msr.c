/* test_msr.c: the MSR table of the interpreter CPU (src/cpu/msr.c): each
 * MSR's read, write, validation and #GP cases, and the CET MSR rules of
 * spec/cet.md 3.3-3.6 for vCPUs with both, one or none of SHSTK/IBT,
 * guest-initiated (cpu_msr_read/write) and host-initiated (cpu_msr_host_*,
 * cpu_guest_ssp_*, cpu_msr_index_list).
 * Covers: 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 (spec/cet.md §12, at the unit level)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cpu/cpu.h"
#include "cpu/msr.h"
#include "unit.h"

#define RAM (1u << 20)
#define SIG VCPU_CPUID_SIGNIFICANT_INDEX
#define MSR_SMBASE 0x9e

static u8 *ram;
static struct bus mmio, pio;

/* A device that owns the APIC MSRs, for the forwarding rows. */
static struct {
	u32 last_index;
	u64 last_value;
	u64 apic_base;
} dev;

static bool dev_msr_read(void *ctx, u32 index, u64 *v)
{
	(void)ctx;
	dev.last_index = index;
	if (index == MSR_IA32_APIC_BASE) {
		*v = dev.apic_base;
		return true;
	}
	if (index == 0x808 || index == MSR_IA32_TSC_DEADLINE) {
		*v = 0x42;
		return true;
	}
	return false;
}

static bool dev_msr_write(void *ctx, u32 index, u64 v)
{
	(void)ctx;
	dev.last_index = index;
	dev.last_value = v;
	if (index == MSR_IA32_APIC_BASE) {
		if (v & 0xff)
			return false; /* reserved bits, as a LAPIC would refuse */
		dev.apic_base = v;
		return true;
	}
	return index == 0x80b || index == MSR_IA32_TSC_DEADLINE;
}

static struct accel_env env;

/* Which features the guest CPUID of a test vCPU has. */
struct model {
	bool shstk, ibt, lm, xsaves;
	u32 xss_ecx; /* CPUID(0xD,1).ECX */
	bool spec, archcap;
};

static void make_cpuid(struct vcpu_cpuid *c, const struct model *m)
{
	static const u32 edx1 = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) |
				(1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 16) |
				(1u << 24) | (1u << 25) | (1u << 26);
	u32 ecx1 = (1u << 21) | (1u << 24) | (1u << 26); /* x2APIC TSC-deadline XSAVE */
	u32 ecx7 = (1u << 22) | (m->shstk ? 1u << 7 : 0);  /* RDPID */
	u32 edx7 = (m->ibt ? 1u << 20 : 0) | (m->spec ? (1u << 26) | (1u << 31) : 0) |
		   (m->archcap ? 1u << 29 : 0);
	u32 edx81 = (1u << 11) | (1u << 20) | (1u << 27) | (m->lm ? 1u << 29 : 0);
	const struct vcpu_cpuid_entry e[] = {
		{ 0x0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 },
		{ 0x1, 0, 0, 0x806c1, 0, ecx1, edx1 },
		{ 0x7, 0, SIG, 0, 0x1, ecx7, edx7 },
		{ 0xd, 0, SIG, 0x7, 0, 0, 0 },
		{ 0xd, 1, SIG, m->xsaves ? 0xf : 0x7, 0, m->xss_ecx, 0 },
		{ 0x80000000, 0, 0, 0x80000008, 0, 0, 0 },
		{ 0x80000001, 0, 0, 0, 0, 1, edx81 },
		{ 0x80000008, 0, 0, 0x3027, 0, 0, 0 },
	};
	memset(c, 0, sizeof(*c));
	c->n = (int)ARRAY_SIZE(e);
	memcpy(c->e, e, sizeof(e));
}

static struct cpu *new_cpu(const struct model *m)
{
	struct cpu *cpu;
	struct vcpu_cpuid c;
	memset(&env, 0, sizeof(env));
	env.mmio = &mmio;
	env.pio = &pio;
	env.ram = ram;
	env.ram_size = RAM;
	env.msr_read = dev_msr_read;
	env.msr_write = dev_msr_write;
	if (cpu_create(&cpu, &env))
		abort();
	make_cpuid(&c, m);
	cpu_set_cpuid(cpu, &c);
	return cpu;
}

static const struct model both = { true, true, true, true, 0x1800, true, true };
static const struct model shstk_only = { true, false, true, true, 0x1800, false, false };
static const struct model ibt_only = { false, true, true, true, 0x1800, false, false };
static const struct model none = { false, false, true, true, 0x1800, false, false };

static bool rd(struct cpu *cpu, u32 index, u64 *v)
{
	*v = 0xdeadbeef;
	return cpu_msr_read(cpu, index, v);
}

static u64 rdv(struct cpu *cpu, u32 index)
{
	u64 v = 0;
	return cpu_msr_read(cpu, index, &v) ? v : 0xbad;
}

static bool wr(struct cpu *cpu, u32 index, u64 v)
{
	return cpu_msr_write(cpu, index, v);
}

/* A write that must succeed and read back unchanged. */
static void expect_rw(struct cpu *cpu, u32 index, u64 v, const char *what)
{
	bool ok = wr(cpu, index, v);
	u64 back = rdv(cpu, index);
	report(ok && back == v, "%s: WRMSR %#x = %#llx reads back (ok %d, got %#llx)", what,
	       index, (unsigned long long)v, ok, (unsigned long long)back);
}

/* A write that must #GP and leave the MSR as it was. */
static void expect_gp(struct cpu *cpu, u32 index, u64 v, const char *what)
{
	u64 before = 0;
	bool readable = cpu_msr_read(cpu, index, &before);
	bool ok = wr(cpu, index, v);
	u64 after = 0;
	bool same = !readable || (cpu_msr_read(cpu, index, &after) && after == before);
	report(!ok && same, "%s: WRMSR %#x = %#llx is #GP, value unchanged", what, index,
	       (unsigned long long)v);
}

/* ---- CET MSRs, guest-initiated (spec 12 items 15-27) ---- */

static void test_cet_existence(void)
{
	struct cpu *cpu = new_cpu(&none);
	u64 v;
	report(!rd(cpu, MSR_IA32_U_CET, &v) && !wr(cpu, MSR_IA32_U_CET, 0),
	       "no SHSTK/IBT: U_CET RDMSR and WRMSR #GP");
	report(!rd(cpu, MSR_IA32_S_CET, &v) && !wr(cpu, MSR_IA32_S_CET, 0),
	       "no SHSTK/IBT: S_CET RDMSR and WRMSR #GP");
	for (u32 i = MSR_IA32_PL0_SSP; i <= MSR_IA32_INT_SSP_TAB; i++)
		report(!rd(cpu, i, &v) && !wr(cpu, i, 0), "no SHSTK: MSR %#x RDMSR/WRMSR #GP", i);
	cpu_destroy(cpu);

	cpu = new_cpu(&ibt_only);
	report(rd(cpu, MSR_IA32_S_CET, &v) && v == 0, "IBT only: RDMSR S_CET works");
	expect_gp(cpu, MSR_IA32_S_CET, CET_SHSTK_EN, "IBT only: S_CET SH_STK_EN");
	expect_gp(cpu, MSR_IA32_S_CET, CET_WRSS_EN, "IBT only: S_CET WR_SHSTK_EN");
	expect_rw(cpu, MSR_IA32_S_CET, CET_ENDBR_EN, "IBT only: S_CET ENDBR_EN");
	for (u32 i = MSR_IA32_PL0_SSP; i <= MSR_IA32_INT_SSP_TAB; i++)
		report(!rd(cpu, i, &v) && !wr(cpu, i, 0), "IBT only: MSR %#x #GP", i);
	cpu_destroy(cpu);

	cpu = new_cpu(&shstk_only);
	expect_gp(cpu, MSR_IA32_U_CET, CET_ENDBR_EN, "SHSTK only: U_CET ENDBR_EN");
	expect_gp(cpu, MSR_IA32_U_CET, 0x4000, "SHSTK only: U_CET bitmap base");
	expect_rw(cpu, MSR_IA32_U_CET, CET_SHSTK_EN, "SHSTK only: U_CET SH_STK_EN");
	expect_rw(cpu, MSR_IA32_U_CET, CET_SHSTK_EN | CET_WRSS_EN, "SHSTK only: U_CET WRSS");
	cpu_destroy(cpu);
}

static void test_cet_validity(void)
{
	struct cpu *cpu = new_cpu(&both);
	for (unsigned b = 6; b <= 9; b++)
		expect_gp(cpu, MSR_IA32_U_CET, 1ull << b, "U_CET reserved bit 9:6");
	expect_gp(cpu, MSR_IA32_S_CET, CET_SUPPRESS | CET_WAIT_ENDBR, "S_CET SUPPRESS with WAIT");
	expect_rw(cpu, MSR_IA32_U_CET, CET_SUPPRESS, "U_CET SUPPRESS alone");
	expect_rw(cpu, MSR_IA32_U_CET, CET_WAIT_ENDBR, "U_CET TRACKER=WAIT alone");
	expect_gp(cpu, MSR_IA32_U_CET, 1ull << 12, "U_CET bit 12");
	expect_gp(cpu, MSR_IA32_U_CET, 1ull << 13, "U_CET bit 13");
	expect_rw(cpu, MSR_IA32_U_CET, 0x4000, "U_CET bitmap base 16 KiB aligned");
	expect_rw(cpu, MSR_IA32_S_CET, 0xffffffffffffc03full & ~0x3c0ull,
		  "S_CET every defined bit but SUPPRESS/TRACKER");
	for (u32 i = MSR_IA32_PL0_SSP; i <= MSR_IA32_PL3_SSP; i++) {
		expect_rw(cpu, i, 0x123456789000ull, "PLn_SSP canonical, aligned");
		expect_gp(cpu, i, 0xaaaaaaaaaaaaaaaaull, "PLn_SSP non-canonical");
		expect_gp(cpu, i, 0x123456789001ull, "PLn_SSP misaligned");
	}
	expect_rw(cpu, MSR_IA32_PL1_SSP, 0x123456789004ull, "PL1_SSP 4-byte aligned");
	expect_gp(cpu, MSR_IA32_PL3_SSP, 0x1, "PL3_SSP = 1 (kvm-unit-tests)");
	expect_rw(cpu, MSR_IA32_PL0_SSP, 0xffff800000000000ull, "PL0_SSP upper-half canonical");
	expect_rw(cpu, MSR_IA32_INT_SSP_TAB, 0x123456789001ull, "INT_SSP_TAB has no alignment");
	expect_gp(cpu, MSR_IA32_INT_SSP_TAB, 0x8000000000000000ull, "INT_SSP_TAB non-canonical");
	report(cpu->cet.pl_ssp[1] == 0x123456789004ull && cpu->cet.int_ssp_tab == 0x123456789001ull,
	       "CET MSRs are stored in cpu->cet (spec 3.5)");
	cpu_destroy(cpu);
}

static bool sup_has_la57(void)
{
	struct vcpu_cpuid sup;
	cpu_supported_cpuid(&sup);
	for (int i = 0; i < sup.n; i++)
		if (sup.e[i].function == 7 && sup.e[i].index == 0)
			return (sup.e[i].ecx >> 16) & 1;
	return false;
}

static void test_cet_special(void)
{
	struct model nolm = both;
	nolm.lm = false;
	struct cpu *cpu = new_cpu(&nolm);
	u64 v;
	report(!wr(cpu, MSR_IA32_INT_SSP_TAB, 0x1000) && rd(cpu, MSR_IA32_INT_SSP_TAB, &v),
	       "no LM: WRMSR INT_SSP_TAB #GP, RDMSR works");
	cpu_destroy(cpu);

	cpu = new_cpu(&both);
	cpu->cet.ssp = 0x5000;
	report(!rd(cpu, MSR_KVM_INTERNAL_GUEST_SSP, &v) &&
	       !wr(cpu, MSR_KVM_INTERNAL_GUEST_SSP, 0x5000),
	       "guest RDMSR/WRMSR 0x4B564DFF #GP even with SHSTK");
	if (sup_has_la57())
		report_skip("PL0_SSP 2^47 (cetvm supports LA57)");
	else
		expect_gp(cpu, MSR_IA32_PL0_SSP, 0x0000800000000000ull,
			  "PL0_SSP = 2^47 without LA57 support");
	cpu->cr4 |= X86_CR4_LA57; /* MAXLA never depends on the guest's CR4 */
	if (!sup_has_la57())
		expect_gp(cpu, MSR_IA32_PL0_SSP, 0x0000800000000000ull,
			  "PL0_SSP = 2^47 with CR4.LA57 set");
	cpu_destroy(cpu);
}

/* ---- XSS (items 30, 31) ---- */

static void test_xss(void)
{
	struct cpu *cpu = new_cpu(&both);
	u64 v;
	expect_rw(cpu, MSR_IA32_XSS, XFEATURE_CET_U, "XSS CET_U");
	expect_rw(cpu, MSR_IA32_XSS, XFEATURE_CET_S, "XSS CET_S");
	expect_rw(cpu, MSR_IA32_XSS, XFEATURE_CET_U | XFEATURE_CET_S, "XSS both");
	expect_gp(cpu, MSR_IA32_XSS, 1, "XSS bit 0");
	expect_gp(cpu, MSR_IA32_XSS, 1ull << 8, "XSS bit 8 (PT: not supported)");
	report(cpu->xss == (XFEATURE_CET_U | XFEATURE_CET_S), "XSS stored in cpu->xss");
	cpu_destroy(cpu);

	struct model m = both;
	m.xss_ecx = 0x1000;
	cpu = new_cpu(&m);
	expect_gp(cpu, MSR_IA32_XSS, XFEATURE_CET_U, "XSS bit 11 absent from CPUID(0xD,1).ECX");
	expect_rw(cpu, MSR_IA32_XSS, XFEATURE_CET_S, "XSS bit 12 alone");
	cpu_destroy(cpu);

	m = both;
	m.xsaves = false;
	cpu = new_cpu(&m);
	cpu->xss = 0;
	report(!rd(cpu, MSR_IA32_XSS, &v) && !wr(cpu, MSR_IA32_XSS, 0),
	       "no XSAVES: guest RDMSR/WRMSR XSS #GP");
	report(cpu_msr_host_read(cpu, MSR_IA32_XSS, &v) == 0 && v == 0,
	       "no XSAVES: host GET XSS succeeds");
	cpu_destroy(cpu);
}

/* ---- host-initiated (items 28, 29, 32-34) ---- */

static void test_host(void)
{
	struct cpu *cpu = new_cpu(&none);
	u64 v = 1;
	report(cpu_msr_host_read(cpu, MSR_IA32_U_CET, &v) == 0 && v == 0,
	       "host GET U_CET without SHSTK/IBT: 0, success (advertised)");
	report(cpu_msr_host_write(cpu, MSR_IA32_U_CET, 0) == 0, "host SET U_CET = 0 succeeds");
	report(cpu_msr_host_write(cpu, MSR_IA32_U_CET, 1) == -EINVAL, "host SET U_CET = 1 fails");
	report(cpu_msr_host_write(cpu, MSR_IA32_PL0_SSP, 0) == 0 &&
	       cpu_msr_host_write(cpu, MSR_IA32_PL0_SSP, 8) == -EINVAL,
	       "host SET PL0_SSP without SHSTK: 0 accepted, 8 refused");
	report(cpu_msr_host_read(cpu, 0x12345678, &v) == -EINVAL,
	       "host GET of an unknown MSR fails");
	report(cpu_guest_ssp_read(cpu, &v) == -EINVAL && cpu_guest_ssp_write(cpu, 0) == -EINVAL,
	       "guest SSP without SHSTK: -EINVAL even for 0");
	cpu_destroy(cpu);

	cpu = new_cpu(&both);
	report(cpu_msr_host_write(cpu, MSR_IA32_U_CET, 0x40) == -EINVAL,
	       "host SET U_CET bit 6: same checks as the guest");
	report(cpu_msr_host_write(cpu, MSR_IA32_S_CET, CET_ENDBR_EN) == 0 &&
	       cpu->cet.s_cet == CET_ENDBR_EN, "host SET S_CET stores it");
	cpu->cet.ssp = 0x7000;
	report(cpu_guest_ssp_read(cpu, &v) == 0 && v == 0x7000, "guest SSP read is the live SSP");
	report(cpu_guest_ssp_write(cpu, 0x123456789000ull) == 0 &&
	       cpu->cet.ssp == 0x123456789000ull, "guest SSP write sets the live SSP");
	report(cpu_guest_ssp_write(cpu, 0x123456789002ull) == -EINVAL &&
	       cpu_guest_ssp_write(cpu, 0x8000000000000000ull) == -EINVAL,
	       "guest SSP write: misaligned or non-canonical refused");
	report(cpu_msr_host_read(cpu, MSR_KVM_INTERNAL_GUEST_SSP, &v) == -EINVAL &&
	       cpu_msr_host_write(cpu, MSR_KVM_INTERNAL_GUEST_SSP, 0) == -EINVAL,
	       "GET/SET_MSRS refuse 0x4B564DFF (spec 3.4 default)");
	report(cpu_msr_host_write(cpu, MSR_SMBASE, 0x40000) == 0 &&
	       cpu->smbase == 0x40000 && !wr(cpu, MSR_SMBASE, 0x40000),
	       "SMBASE: host-only");
	cpu_destroy(cpu);
}

static bool listed(const u32 *list, int n, u32 index)
{
	for (int i = 0; i < n; i++)
		if (list[i] == index)
			return true;
	return false;
}

static void test_index_list(void)
{
	u32 list[512];
	int n = cpu_msr_index_list(list, (int)ARRAY_SIZE(list));
	report(n > 0 && n <= (int)ARRAY_SIZE(list), "index list has %d entries", n);
	static const u32 cet[] = { MSR_IA32_XSS, MSR_IA32_U_CET, MSR_IA32_S_CET,
				   MSR_IA32_PL0_SSP, MSR_IA32_PL1_SSP, MSR_IA32_PL2_SSP,
				   MSR_IA32_PL3_SSP, MSR_IA32_INT_SSP_TAB };
	for (unsigned i = 0; i < ARRAY_SIZE(cet); i++)
		report(listed(list, n, cet[i]), "index list holds %#x", cet[i]);
	report(!listed(list, n, MSR_KVM_INTERNAL_GUEST_SSP), "index list never holds 0x4B564DFF");
	report(listed(list, n, MSR_EFER) && listed(list, n, MSR_LSTAR), "index list holds EFER, LSTAR");
	u32 small[2];
	report(cpu_msr_index_list(small, 2) == n, "index list reports the full count when short");
}

/* ---- the other MSRs ---- */

static void test_efer_syscall(void)
{
	struct cpu *cpu = new_cpu(&both);
	expect_rw(cpu, MSR_EFER, EFER_SCE | EFER_LME | EFER_NXE, "EFER SCE LME NXE");
	expect_gp(cpu, MSR_EFER, 1ull << 9, "EFER reserved bit 9");
	expect_gp(cpu, MSR_EFER, 1ull << 12, "EFER SVME (AMD) is reserved");
	report(wr(cpu, MSR_EFER, EFER_LMA) && !(rdv(cpu, MSR_EFER) & EFER_LMA),
	       "EFER.LMA is read-only");
	cpu->efer = EFER_LME | EFER_LMA;
	cpu->cr0 |= X86_CR0_PG | X86_CR0_PE;
	expect_gp(cpu, MSR_EFER, EFER_LMA, "EFER.LME cleared while paging");
	report(wr(cpu, MSR_EFER, EFER_LME | EFER_NXE) && (cpu->efer & EFER_LMA),
	       "EFER NXE with paging, LMA kept");
	report(cpu_msr_host_write(cpu, MSR_EFER, 0) == 0 && cpu->efer == EFER_LMA,
	       "host EFER write skips the paging check, keeps LMA");
	expect_rw(cpu, MSR_STAR, 0x0023001000000000ull, "STAR");
	expect_rw(cpu, MSR_LSTAR, 0xffffffff81000000ull, "LSTAR");
	expect_gp(cpu, MSR_LSTAR, 0x0000800000000000ull, "LSTAR non-canonical");
	expect_gp(cpu, MSR_CSTAR, 0x1234800000000000ull, "CSTAR non-canonical");
	expect_rw(cpu, MSR_SYSCALL_MASK, 0x47700, "FMASK");
	expect_gp(cpu, MSR_SYSCALL_MASK, 1ull << 32, "FMASK bit 32");
	expect_rw(cpu, MSR_FS_BASE, 0x7fff12340000ull, "FS_BASE");
	report(cpu->seg[SEG_FS].base == 0x7fff12340000ull, "FS_BASE is the FS segment base");
	expect_rw(cpu, MSR_GS_BASE, 0xffff888000000000ull, "GS_BASE");
	expect_gp(cpu, MSR_GS_BASE, 0x0001000000000000ull, "GS_BASE non-canonical");
	expect_rw(cpu, MSR_KERNEL_GS_BASE, 0x1000, "KERNEL_GS_BASE");
	expect_gp(cpu, MSR_KERNEL_GS_BASE, 0x8000000000000000ull, "KERNEL_GS_BASE non-canonical");
	expect_rw(cpu, MSR_IA32_SYSENTER_CS, 0x10, "SYSENTER_CS");
	expect_rw(cpu, MSR_IA32_SYSENTER_ESP, 0xffffc90000000000ull, "SYSENTER_ESP");
	expect_gp(cpu, MSR_IA32_SYSENTER_EIP, 0x0000800000000000ull, "SYSENTER_EIP non-canonical");
	cpu_destroy(cpu);

	struct model m = both;
	m.lm = false;
	cpu = new_cpu(&m);
	u64 v;
	report(!rd(cpu, MSR_LSTAR, &v) && !rd(cpu, MSR_KERNEL_GS_BASE, &v),
	       "no LM: LSTAR and KERNEL_GS_BASE #GP");
	expect_gp(cpu, MSR_EFER, EFER_LME, "no LM: EFER.LME reserved");
	expect_rw(cpu, MSR_EFER, EFER_NXE | EFER_SCE, "no LM: EFER NXE SCE");
	cpu_destroy(cpu);
}

static void test_tsc(void)
{
	struct cpu *cpu = new_cpu(&both);
	cpu->icount = 1000;
	report(wr(cpu, MSR_IA32_TSC, 5000) && cpu_tsc(cpu) == 5000 && rdv(cpu, MSR_IA32_TSC) == 5000,
	       "WRMSR TSC sets the TSC");
	cpu->icount += 10;
	report(rdv(cpu, MSR_IA32_TSC) == 5010, "the TSC then counts instructions");
	expect_rw(cpu, MSR_TSC_AUX, 0x12345678, "TSC_AUX");
	expect_gp(cpu, MSR_TSC_AUX, 1ull << 32, "TSC_AUX bit 32");
	cpu_destroy(cpu);
}

static void test_devices(void)
{
	struct cpu *cpu = new_cpu(&both);
	dev.apic_base = 0xfee00900;
	cpu->poll_irq = false;
	report(rdv(cpu, MSR_IA32_APIC_BASE) == 0xfee00900, "APIC_BASE read is forwarded");
	report(wr(cpu, MSR_IA32_APIC_BASE, 0xfee00d00) && dev.apic_base == 0xfee00d00 &&
	       cpu->poll_irq, "APIC_BASE write is forwarded and polls interrupts");
	expect_gp(cpu, MSR_IA32_APIC_BASE, 0xfee00d01, "APIC_BASE refused by the device");
	report(rdv(cpu, 0x808) == 0x42 && dev.last_index == 0x808, "x2APIC TPR read forwarded");
	report(wr(cpu, 0x80b, 0) && dev.last_index == 0x80b, "x2APIC EOI write forwarded");
	u64 v;
	report(!rd(cpu, 0x8ff, &v), "x2APIC MSR the device lacks: #GP");
	report(rdv(cpu, MSR_IA32_TSC_DEADLINE) == 0x42, "TSC_DEADLINE forwarded");
	cpu_destroy(cpu);

	struct vcpu_cpuid c;
	cpu = new_cpu(&both);
	make_cpuid(&c, &both);
	c.e[1].ecx &= ~((1u << 21) | (1u << 24)); /* no x2APIC, no TSC deadline */
	cpu_set_cpuid(cpu, &c);
	report(!rd(cpu, 0x808, &v) && !rd(cpu, MSR_IA32_TSC_DEADLINE, &v),
	       "without x2APIC / TSC-deadline in CPUID: #GP");
	cpu_destroy(cpu);
}

static void test_memtypes(void)
{
	struct cpu *cpu = new_cpu(&both);
	expect_rw(cpu, MSR_IA32_PAT, 0x0007040600070406ull, "PAT reset value");
	expect_rw(cpu, MSR_IA32_PAT, 0x0007010600070405ull, "PAT WC, WP, UC-");
	expect_gp(cpu, MSR_IA32_PAT, 0x0007040600070402ull, "PAT type 2");
	expect_gp(cpu, MSR_IA32_PAT, 0x0007040600070408ull, "PAT type 8");
	report(rdv(cpu, MSR_IA32_MTRRCAP) == 0x508, "MTRRCAP: 8 variable, fixed, WC");
	expect_gp(cpu, MSR_IA32_MTRRCAP, 0x508, "MTRRCAP is read-only");
	expect_rw(cpu, MSR_IA32_MTRR_DEF_TYPE, 0xc06, "MTRR_DEF_TYPE E FE WB");
	expect_gp(cpu, MSR_IA32_MTRR_DEF_TYPE, 0x1006, "MTRR_DEF_TYPE reserved bit 12");
	expect_gp(cpu, MSR_IA32_MTRR_DEF_TYPE, 0xc07, "MTRR_DEF_TYPE UC- is not an MTRR type");
	expect_rw(cpu, MSR_IA32_MTRR_FIX64K, 0x0606060606060606ull, "MTRR_FIX64K");
	expect_rw(cpu, MSR_IA32_MTRR_FIX16K_A0000, 0x0101010100000000ull, "MTRR_FIX16K_A0000");
	expect_rw(cpu, MSR_IA32_MTRR_FIX4K_C0000 + 7, 0x0505050505050505ull, "MTRR_FIX4K_F8000");
	expect_gp(cpu, MSR_IA32_MTRR_FIX4K_C0000 + 3, 0x0303030303030303ull, "fixed MTRR type 3");
	report(cpu->mtrr_fixed[10] == 0x0505050505050505ull && cpu->mtrr_fixed[2] != 0,
	       "fixed MTRRs map onto cpu->mtrr_fixed[0..10]");
	expect_rw(cpu, MSR_IA32_MTRR_PHYSBASE0 + 2, 0x80000006ull, "PHYSBASE1 WB");
	expect_gp(cpu, MSR_IA32_MTRR_PHYSBASE0 + 2, 0x80000106ull, "PHYSBASE1 bit 8");
	expect_gp(cpu, MSR_IA32_MTRR_PHYSBASE0 + 2, 1ull << 40, "PHYSBASE1 above MAXPHYADDR 39");
	expect_rw(cpu, MSR_IA32_MTRR_PHYSBASE0 + 3, 0x7f80000800ull, "PHYSMASK1 valid");
	expect_gp(cpu, MSR_IA32_MTRR_PHYSBASE0 + 3, 0x7f80000801ull, "PHYSMASK1 bit 0");
	report(rdv(cpu, MSR_IA32_MISC_ENABLE) == 0x1801,
	       "MISC_ENABLE after reset: fast strings on, BTS and PEBS unavailable");
	expect_rw(cpu, MSR_IA32_MISC_ENABLE, 0x1, "MISC_ENABLE fast strings");
	cpu_destroy(cpu);
}

static void test_misc(void)
{
	struct cpu *cpu = new_cpu(&both);
	u64 v;
	report(rdv(cpu, MSR_IA32_FEATURE_CONTROL) == 1, "FEATURE_CONTROL: locked, VMX off");
	expect_gp(cpu, MSR_IA32_FEATURE_CONTROL, 5, "FEATURE_CONTROL is locked");
	report(cpu_msr_host_write(cpu, MSR_IA32_FEATURE_CONTROL, 1) == 0 &&
	       cpu_msr_host_write(cpu, MSR_IA32_FEATURE_CONTROL, 5) == -EINVAL,
	       "FEATURE_CONTROL: the host may restore the value it read");
	report(rdv(cpu, MSR_IA32_BIOS_SIGN_ID) >> 32 != 0 && wr(cpu, MSR_IA32_BIOS_SIGN_ID, 0),
	       "BIOS_SIGN_ID: a microcode revision; writes accepted");
	report(rdv(cpu, MSR_IA32_MCG_CAP) == 0 && !wr(cpu, MSR_IA32_MCG_CAP, 0),
	       "MCG_CAP: no banks, read-only");
	report(rdv(cpu, MSR_IA32_MCG_STATUS) == 0 && wr(cpu, MSR_IA32_MCG_STATUS, 0) &&
	       !wr(cpu, MSR_IA32_MCG_STATUS, 4), "MCG_STATUS");
	expect_rw(cpu, MSR_IA32_SPEC_CTRL, 7, "SPEC_CTRL IBRS STIBP SSBD");
	expect_gp(cpu, MSR_IA32_SPEC_CTRL, 8, "SPEC_CTRL bit 3");
	report(wr(cpu, MSR_IA32_PRED_CMD, 1) && !wr(cpu, MSR_IA32_PRED_CMD, 2) &&
	       !rd(cpu, MSR_IA32_PRED_CMD, &v), "PRED_CMD: IBPB, write-only");
	/* RDCL_NO IBRS_ALL SKIP_L1DFL SSB_NO MDS_NO PSCHANGE_MC_NO TAA_NO SBDR_SSDP_NO
	 * FBSDP_NO PSDP_NO BHI_NO PBRSB_NO GDS_NO RFDS_NO ITS_NO */
	bool ok = rd(cpu, MSR_IA32_ARCH_CAPABILITIES, &v);
	report(ok && v == 0x400000000d10e17bull && !wr(cpu, MSR_IA32_ARCH_CAPABILITIES, v),
	       "ARCH_CAPABILITIES: not affected by any speculation issue, read-only (%#llx)",
	       (unsigned long long)v);
	report(!rd(cpu, 0x12345678, &v) && !wr(cpu, 0x12345678, 0), "unknown MSR: #GP");
	report(!rd(cpu, 0xc0010000, &v), "AMD MSR: #GP");
	cpu_destroy(cpu);

	cpu = new_cpu(&none); /* none: no SPEC_CTRL, no ARCH_CAPABILITIES */
	report(!rd(cpu, MSR_IA32_SPEC_CTRL, &v) && !wr(cpu, MSR_IA32_PRED_CMD, 1),
	       "without the CPUID bits SPEC_CTRL and PRED_CMD #GP");
	report(!rd(cpu, MSR_IA32_ARCH_CAPABILITIES, &v), "ARCH_CAPABILITIES only with CPUID");
	v = 1;
	report(cpu_msr_host_read(cpu, MSR_IA32_ARCH_CAPABILITIES, &v) == 0 && v == 0,
	       "host GET ARCH_CAPABILITIES without the guest's CPUID bit: 0 (cetvm has it)");
	cpu_destroy(cpu);
}

int main(void)
{
	ram = calloc(1, RAM);
	bus_init(&mmio, "mmio");
	bus_init(&pio, "pio");
	test_cet_existence();
	test_cet_validity();
	test_cet_special();
	test_xss();
	test_host();
	test_index_list();
	test_efer_syscall();
	test_tsc();
	test_devices();
	test_memtypes();
	test_misc();
	free(ram);
	return 0;
}
