/* Covers: 13 14 28 29 32 33 34 35 36 (spec/cet.md §12, host API)
 * test_vcpu_cet.c: CET state through the vCPU interface (accel_emu), the
 * way a VMM sees it (spec/cet.md 2, 3.4, 3.6, 3.7): SET_SREGS, GET/SET_MSRS
 * with the host-side leniency, the MSR index list, ONE_REG and
 * GET_REG_LIST, for CPU models with both, one and none of SHSTK and IBT.
 * The CET rows of KVM's MSR test table are walked for every model, through
 * SET_MSRS and through ONE_REG MSR ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "accel/emu.h"
#include "bus.h"
#include "cpu/cet.h"
#include "cpu/msr.h"
#include "cpumodel.h"
#include "bare_env.h"
#include "unit.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000

struct model {
	const char *spec;
	bool shstk, ibt;
};

static const struct model models[] = {
	{ "max", true, true },
	{ "max,-ibt", true, false },
	{ "max,-shstk", false, true },
	{ "max,-shstk,-ibt", false, false },
};

static u8 *ram;
static struct bus pio, mmio;

static struct vcpu *vcpu_for(const char *spec)
{
	static volatile bool stop;
	static struct accel_env env;
	env = bare_env(ram, RAM_SIZE, &pio, &mmio, &stop);
	struct vcpu_cpuid sup, guest;
	char err[200];
	struct vcpu *v;
	accel_emu.get_supported_cpuid(&sup);
	if (cpumodel_build(spec, &sup, "emu", &guest, err, sizeof(err)) ||
	    accel_emu.create(&v, &env, 0))
		return NULL;
	accel_emu.set_cpuid(v, &guest);
	return v;
}

static int set1(struct vcpu *v, u32 index, u64 value)
{
	struct vcpu_msr m = { index, value };
	return accel_emu.set_msrs(v, &m, 1);
}

static int get1(struct vcpu *v, u32 index, u64 *value)
{
	struct vcpu_msr m = { index, 0xdead };
	int n = accel_emu.get_msrs(v, &m, 1);
	*value = m.data;
	return n;
}

/* 13, 14: host SET_SREGS checks only reserved bits; with CET and WP=0 the
 * guest runs on (NOP; HLT at CODE in real mode). */
static void test_sregs(const struct model *m, struct vcpu *v)
{
	struct vcpu_sregs s;
	accel_emu.get_sregs(v, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	s.cr0 &= ~(u64)X86_CR0_WP;
	s.cr4 |= X86_CR4_CET;
	int r = accel_emu.set_sregs(v, &s);
	if (!m->shstk && !m->ibt) {
		report(r == -EINVAL, "14 [%s]: SET_SREGS with CR4.CET -> -EINVAL (%d)", m->spec, r);
		return;
	}
	ram[CODE] = 0x90;
	ram[CODE + 1] = 0xf4;
	struct vcpu_regs regs = { .rip = CODE, .rflags = 2 };
	accel_emu.set_regs(v, &regs);
	struct vcpu_exit e;
	accel_emu.set_deadline(v, ~0ull);
	accel_emu.run(v, &e);
	accel_emu.get_regs(v, &regs);
	accel_emu.get_sregs(v, &s);
	report(r == 0 && e.reason == VCPU_EXIT_HLT && regs.rip == CODE + 2 &&
		       (s.cr4 & X86_CR4_CET) && !(s.cr0 & X86_CR0_WP),
	       "13 [%s]: SET_SREGS with CR4.CET=1, CR0.WP=0 succeeds and the guest runs on",
	       m->spec);
}

/* 28, 29: the host-side leniency and the same validity as the guest. */
static void test_host_msrs(const struct model *m, struct vcpu *v)
{
	u64 val = 1;
	bool cet = m->shstk || m->ibt;
	if (!cet) {
		int g = get1(v, MSR_IA32_U_CET, &val);
		report(g == 1 && val == 0 && set1(v, MSR_IA32_U_CET, 0) == 1 &&
			       set1(v, MSR_IA32_U_CET, 1) == 0,
		       "28 [%s]: host GET U_CET = 0, SET 0 ok, SET 1 fails", m->spec);
	}
	const struct vcpu_msr batch[] = { { MSR_IA32_XSS, 0 }, { MSR_IA32_U_CET, 0x40 },
					  { MSR_IA32_S_CET, 0 } };
	int n = accel_emu.set_msrs(v, batch, 3);
	report(n == 1, "29 [%s]: SET_MSRS stops at U_CET with bit 6 set and returns 1 (%d)",
	       m->spec, n);
}

/* One CET row of KVM's MSR test: `value` written to `index` must be
 * accepted iff `ok`; checked through SET_MSRS and a ONE_REG MSR id. */
static void row(const struct model *m, struct vcpu *v, u32 index, u64 value, bool ok,
		const char *what)
{
	u64 back = ~0ull;
	int n = set1(v, index, value);
	bool good = ok ? n == 1 && get1(v, index, &back) == 1 && back == value : n == 0;
	set1(v, index, 0);
	int r = accel_emu.set_one_reg(v, VCPU_REG_MSR(index), value);
	u64 back2 = ~0ull;
	bool good2 = ok ? r == 0 && !accel_emu.get_one_reg(v, VCPU_REG_MSR(index), &back2) &&
				  back2 == value
			: r == -EINVAL;
	set1(v, index, 0);
	report(good && good2, "[%s] %s %#x = %#llx %s", m->spec, what, index,
	       (unsigned long long)value, ok ? "accepted" : "refused");
}

static void test_table(const struct model *m, struct vcpu *v)
{
	for (u32 i = MSR_IA32_PL0_SSP; i <= MSR_IA32_PL0_SSP + 3; i++) {
		row(m, v, i, 0x123456789000ull, m->shstk, "canonical PLx_SSP");
		row(m, v, i, 0xaaaaaaaaaaaaaaaaull, false, "non-canonical PLx_SSP");
		row(m, v, i, 0x123456789001ull, false, "misaligned PLx_SSP");
	}
	row(m, v, MSR_IA32_INT_SSP_TAB, 0x123456789001ull, m->shstk, "INT_SSP_TAB");
	row(m, v, MSR_IA32_INT_SSP_TAB, 0xaaaaaaaaaaaaaaaaull, false, "non-canonical INT_SSP_TAB");
	for (u32 i = MSR_IA32_U_CET; i <= MSR_IA32_S_CET; i += 2) {
		row(m, v, i, CET_SHSTK_EN | CET_WRSS_EN, m->shstk, "SHSTK bits of");
		row(m, v, i, CET_ENDBR_EN | CET_NO_TRACK_EN | 0x4000, m->ibt, "IBT bits of");
		row(m, v, i, 0x3c0, false, "reserved bits 9:6 of");
		row(m, v, i, 0x1000, false, "bitmap base bit 12 of");
		row(m, v, i, 0xc00, false, "SUPPRESS with TRACKER in");
	}
}

/* 32: the index list, from the supported CPUID (max: SHSTK, IBT, LM). */
static void test_index_list(void)
{
	u32 list[512];
	int n = accel_emu.get_msr_index_list(list, 512);
	static const u32 want[] = { MSR_IA32_XSS,	  MSR_IA32_U_CET,	MSR_IA32_S_CET,
				    MSR_IA32_PL0_SSP,	  MSR_IA32_PL0_SSP + 1, MSR_IA32_PL0_SSP + 2,
				    MSR_IA32_PL0_SSP + 3, MSR_IA32_INT_SSP_TAB };
	int found = 0;
	bool internal = false;
	for (int i = 0; i < n && i < 512; i++) {
		internal |= list[i] == MSR_KVM_INTERNAL_GUEST_SSP;
		for (size_t k = 0; k < ARRAY_SIZE(want); k++)
			found += list[i] == want[k];
	}
	report(n > 0 && n <= 512 && found == (int)ARRAY_SIZE(want) && !internal,
	       "32: the MSR index list has XSS, U/S_CET, PL0-3_SSP, INT_SSP_TAB, not 0x4B564DFF");
}

/* 33, 34: the synthetic GUEST_SSP register is the live SSP. */
static void test_guest_ssp(const struct model *m, struct vcpu *v)
{
	u64 val = 1;
	if (!m->shstk) {
		report(accel_emu.get_one_reg(v, VCPU_REG_GUEST_SSP, &val) == -EINVAL &&
			       accel_emu.set_one_reg(v, VCPU_REG_GUEST_SSP, 0) == -EINVAL,
		       "34 [%s]: GUEST_SSP GET and SET(0) without SHSTK -> -EINVAL", m->spec);
		return;
	}
	int r = accel_emu.set_one_reg(v, VCPU_REG_GUEST_SSP, 0x123456789000ull);
	int g = accel_emu.get_one_reg(v, VCPU_REG_GUEST_SSP, &val);
	report(r == 0 && g == 0 && val == 0x123456789000ull && v->cpu->cet.ssp == val,
	       "33 [%s]: GUEST_SSP SET 0x123456789000 reads back and is the live SSP", m->spec);
	v->cpu->cet.ssp = 0x5008;
	g = accel_emu.get_one_reg(v, VCPU_REG_GUEST_SSP, &val);
	report(g == 0 && val == 0x5008, "33 [%s]: GUEST_SSP GET follows the CPU's SSP", m->spec);
	report(accel_emu.set_one_reg(v, VCPU_REG_GUEST_SSP, 0xaaaaaaaaaaaaaaa8ull) == -EINVAL &&
		       accel_emu.set_one_reg(v, VCPU_REG_GUEST_SSP, 0x5002) == -EINVAL &&
		       v->cpu->cet.ssp == 0x5008,
	       "34 [%s]: GUEST_SSP SET non-canonical or misaligned -> -EINVAL, SSP unchanged",
	       m->spec);
}

/* 35: KVM_GET_REG_LIST. */
static void test_reg_list(const struct model *m, struct vcpu *v)
{
	u64 ids[4] = { 0 };
	int n = 0;
	int r = accel_emu.get_reg_list(v, ids, &n);
	if (m->shstk) {
		report(r == -E2BIG && n == 1, "35 [%s]: REG_LIST n=0 -> -E2BIG, n=1", m->spec);
		r = accel_emu.get_reg_list(v, ids, &n);
		report(r == 0 && n == 1 && ids[0] == VCPU_REG_GUEST_SSP,
		       "35 [%s]: REG_LIST lists GUEST_SSP", m->spec);
	} else {
		report(r == 0 && n == 0, "35 [%s]: REG_LIST is empty without SHSTK", m->spec);
	}
}

/* 36: ONE_REG MSR ids and id decoding. */
static void test_one_reg_ids(const struct model *m, struct vcpu *v)
{
	u64 id = VCPU_REG_MSR(MSR_IA32_U_CET);
	u64 val = 1;
	bool cet = m->shstk || m->ibt;
	u64 ok_val = m->shstk ? CET_SHSTK_EN : CET_ENDBR_EN;
	if (cet) {
		int s = accel_emu.set_one_reg(v, id, ok_val);
		int g = accel_emu.get_one_reg(v, id, &val);
		report(id == 0x20300002000006A0ull && s == 0 && g == 0 && val == ok_val &&
			       accel_emu.set_one_reg(v, id, 0x40) == -EINVAL,
		       "36 [%s]: ONE_REG U_CET reads and writes with the MSR's validity", m->spec);
		accel_emu.set_one_reg(v, id, 0);
	}
	static const u64 bad[] = {
		0x20300002000006A0ull | (1ull << 40), /* rsvd1 */
		0x20300002000006A0ull | (1ull << 48), /* rsvd2 */
		0x20200002000006A0ull,		      /* 32-bit size */
		0x10300002000006A0ull,		      /* another arch */
		0x2030000300000001ull,		      /* unknown KVM register */
		0x2030000100000000ull,		      /* unknown type */
	};
	bool all = true;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		all &= accel_emu.get_one_reg(v, bad[i], &val) == -EINVAL &&
		       accel_emu.set_one_reg(v, bad[i], 0) == -EINVAL;
	report(all, "36 [%s]: ids with reserved bits, a non-64-bit size or unknown kinds -> -EINVAL",
	       m->spec);
}

/* The IBT tracker travels in S_CET bit 11 (spec 3.2), which is how a
 * snapshot carries a vCPU stopped between an indirect branch and its
 * target: restored on a fresh vCPU in flat 32-bit protected mode at CPL 0,
 * the next instruction must be ENDBR32 (then HLT), else #CP(3), which
 * without an IDT ends in a triple fault. */
static void test_tracker_restore(bool endbr)
{
	struct vcpu *v = vcpu_for("max");
	if (!v) {
		report(0, "cannot create a vCPU");
		return;
	}
	struct vcpu_sregs s;
	accel_emu.get_sregs(v, &s);
	struct vcpu_segment code = { .limit = 0xffffffff, .selector = 8, .type = 0xb, .present = 1,
				     .s = 1, .db = 1, .g = 1 };
	struct vcpu_segment data = code;
	data.type = 3;
	data.selector = 0x10;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = X86_CR0_PE | X86_CR0_WP | 0x10;
	s.cr4 = X86_CR4_CET;
	s.idt = (struct vcpu_dtable){ 0, 0 };
	const u8 endbr32[] = { 0xf3, 0x0f, 0x1e, 0xfb, 0xf4 }, nop[] = { 0x90, 0xf4 };
	memcpy(ram + CODE, endbr ? endbr32 : nop, endbr ? sizeof(endbr32) : sizeof(nop));
	struct vcpu_regs regs = { .rip = CODE, .rflags = 2, .rsp = 0x8000 };
	int r = accel_emu.set_sregs(v, &s) | accel_emu.set_regs(v, &regs);
	r |= set1(v, MSR_IA32_S_CET, CET_ENDBR_EN | (1ull << 11)) != 1;
	struct vcpu_exit e;
	accel_emu.set_deadline(v, ~0ull);
	accel_emu.run(v, &e);
	if (endbr)
		report(!r && e.reason == VCPU_EXIT_HLT,
		       "a restored TRACKER=WAIT_FOR_ENDBRANCH accepts ENDBR32 at the target");
	else
		report(!r && e.reason == VCPU_EXIT_SHUTDOWN,
		       "a restored TRACKER=WAIT_FOR_ENDBRANCH faults on a NOP at the target (%d)",
		       e.reason);
	accel_emu.destroy(v);
}

int main(void)
{
	ram = calloc(1, RAM_SIZE);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	test_index_list();
	for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
		const struct model *m = &models[i];
		struct vcpu *v = vcpu_for(m->spec);
		if (!v) {
			report(0, "cannot create a vCPU for -cpu %s", m->spec);
			continue;
		}
		test_table(m, v);
		test_host_msrs(m, v);
		test_guest_ssp(m, v);
		test_reg_list(m, v);
		test_one_reg_ids(m, v);
		test_sregs(m, v);
		accel_emu.destroy(v);
	}
	test_tracker_restore(true);
	test_tracker_restore(false);
	free(ram);
	return 0;
}
