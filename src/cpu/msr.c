/* msr.c: the MSR table (index, feature gate, read, write/validate), RDMSR
 * and WRMSR, and the host-initiated accesses of spec/cet.md 3.4. */
#include "msr.h"

#include <errno.h>
#include <stddef.h>

#include "cet.h"
#include "ops.h"
#include "system.h"

#ifndef MSR_IA32_SMBASE
#define MSR_IA32_SMBASE 0x9e
#endif
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_COUNT 0x100

/* Outcomes of spec 0: OK, FAIL (invalid value or access), UNSUP (the MSR
 * does not exist for this vCPU). The guest gets #GP for both failures. */
enum msr_res { MSR_OK, MSR_FAIL, MSR_UNSUP };

struct msr_def;
typedef enum msr_res (*msr_rd_fn)(struct cpu *cpu, const struct msr_def *d, u32 index,
				  u64 *v);
typedef enum msr_res (*msr_wr_fn)(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				  bool host);

#define NO_GATE (-1)
#define MSRF_HOST_ONLY 1u /* any guest access is FAIL (checked first) */
#define MSRF_HOST_READ 2u /* the host may read it even when it does not exist */
#define MSRF_NOT_ADV 4u   /* never in the index list */
#define MSRF_ADV_LM 8u    /* advertised only if `sup` also has LM */
#define MSRF_ADV_XSS 16u  /* advertised iff the supported XSS mask is non-zero */

struct msr_def {
	u32 index, count; /* count consecutive MSRs from index */
	int gate[2];      /* exists iff the guest CPUID has either; NO_GATE: always */
	unsigned flags;   /* MSRF_* */
	u64 arg;          /* rd_field & co: offset of the u64 storage in struct cpu
			   * (index - first selects the element); rd_const: the value */
	msr_rd_fn rd;     /* NULL: write-only */
	msr_wr_fn wr;     /* NULL: read-only */
};

static u64 *field(struct cpu *cpu, const struct msr_def *d, u32 index)
{
	return (u64 *)((char *)cpu + d->arg) + (index - d->index);
}

/* ---- predicates ---- */

/* Is feature f (X86_FEATURE_*) in a CPUID table? */
static bool table_has(const struct vcpu_cpuid *t, int f)
{
	static const u32 leaves[5][2] = {
		[FL_1] = { 1, 0 }, [FL_7_0] = { 7, 0 }, [FL_7_1] = { 7, 1 },
		[FL_80000001] = { 0x80000001, 0 }, [FL_D_1] = { 0xd, 1 },
	};
	const u32 *l = leaves[f >> 8];
	for (int i = 0; i < t->n; i++) {
		const struct vcpu_cpuid_entry *e = &t->e[i];
		if (e->function != l[0] ||
		    ((e->flags & VCPU_CPUID_SIGNIFICANT_INDEX) && e->index != l[1]))
			continue;
		u32 regs[4] = { e->eax, e->ebx, e->ecx, e->edx };
		return (regs[(f >> 5) & 3] >> (f & 31)) & 1;
	}
	return false;
}

static u64 table_xss_mask(const struct vcpu_cpuid *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->e[i].function == 0xd && t->e[i].index == 1)
			return t->e[i].ecx | (u64)t->e[i].edx << 32;
	return 0;
}

/* Memory types: PAT allows UC WC WT WP WB UC- (0 1 4 5 6 7), MTRRs not UC-. */
static bool mem_type_ok(u64 t, bool pat)
{
	return t == 0 || t == 1 || (t >= 4 && t <= (pat ? 7u : 6u));
}

static bool all_bytes_ok(u64 v, bool pat)
{
	for (unsigned i = 0; i < 8; i++)
		if (!mem_type_ok((v >> (8 * i)) & 0xff, pat))
			return false;
	return true;
}

/* ---- reads ---- */

static enum msr_res rd_field(struct cpu *cpu, const struct msr_def *d, u32 index, u64 *v)
{
	*v = *field(cpu, d, index);
	return MSR_OK;
}

static enum msr_res rd_zero(struct cpu *cpu, const struct msr_def *d, u32 index, u64 *v)
{
	(void)cpu, (void)d, (void)index;
	*v = 0;
	return MSR_OK;
}

static enum msr_res rd_tsc(struct cpu *cpu, const struct msr_def *d, u32 index, u64 *v)
{
	(void)d, (void)index;
	*v = cpu_tsc(cpu);
	return MSR_OK;
}

/* Device-owned MSRs (APIC base, x2APIC, TSC deadline): the machine's. */
static enum msr_res rd_env(struct cpu *cpu, const struct msr_def *d, u32 index, u64 *v)
{
	(void)d;
	if (!cpu->env || !cpu->env->msr_read)
		return MSR_FAIL;
	return cpu->env->msr_read(cpu->env->ctx, index, v) ? MSR_OK : MSR_FAIL;
}

/* Constant MSRs: the value is the row's arg. */
static enum msr_res rd_const(struct cpu *cpu, const struct msr_def *d, u32 index, u64 *v)
{
	(void)cpu, (void)index;
	*v = d->arg;
	return MSR_OK;
}

/* ---- writes ---- */

static enum msr_res wr_any(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	(void)host;
	*field(cpu, d, index) = v;
	return MSR_OK;
}

/* Linear addresses (LSTAR, FS_BASE, SYSENTER_EIP...): canonical for the
 * guest's address width (SDM Vol. 4, WRMSR). */
static enum msr_res wr_canon(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
			     bool host)
{
	if (!cpu_canonical_guest(cpu, v))
		return MSR_FAIL;
	return wr_any(cpu, d, index, v, host);
}

static enum msr_res wr_u32(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	return (v >> 32) ? MSR_FAIL : wr_any(cpu, d, index, v, host);
}

/* Read-only MSRs: the host may write back the value it read (restore). */
static enum msr_res wr_fixed(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
			     bool host)
{
	u64 cur = 0;
	if (!host || d->rd(cpu, d, index, &cur) != MSR_OK)
		return MSR_FAIL;
	return v == cur ? MSR_OK : MSR_FAIL;
}

static enum msr_res wr_ignore(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
			      bool host)
{
	(void)cpu, (void)d, (void)index, (void)v, (void)host;
	return MSR_OK;
}

static enum msr_res wr_zero_only(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				 bool host)
{
	(void)cpu, (void)d, (void)index, (void)host;
	return v ? MSR_FAIL : MSR_OK;
}

/* The guest write is cpu_write_efer(); KVM lets the host skip the LME vs
 * paging check but not the reserved bits; LMA never changes here. */
static enum msr_res wr_efer(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
			    bool host)
{
	(void)d, (void)index;
	if (!host)
		return cpu_write_efer(cpu, v) ? MSR_OK : MSR_FAIL;
	if (v & cpu_efer_reserved(cpu))
		return MSR_FAIL;
	u64 old = cpu->efer;
	cpu->efer = (v & ~EFER_LMA) | (old & EFER_LMA);
	if ((old ^ cpu->efer) & EFER_NXE)
		cpu_tlb_flush(cpu);
	return MSR_OK;
}

static enum msr_res wr_tsc(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	(void)d, (void)index, (void)host;
	cpu->tsc_offset += v - cpu_tsc(cpu);
	return MSR_OK;
}

static enum msr_res wr_env(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	(void)d, (void)host;
	if (!cpu->env || !cpu->env->msr_write)
		return MSR_FAIL;
	cpu_poll_irq(cpu); /* an APIC write may unmask or raise an interrupt */
	return cpu->env->msr_write(cpu->env->ctx, index, v) ? MSR_OK : MSR_FAIL;
}

static enum msr_res wr_pat(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	if (!all_bytes_ok(v, true))
		return MSR_FAIL;
	wr_any(cpu, d, index, v, host);
	cpu_tlb_flush(cpu);
	return MSR_OK;
}

/* MTRRs are storage only (SDM Vol. 3 12.11): the type fields and the
 * reserved bits are checked. */
static enum msr_res wr_mtrr_def(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				bool host)
{
	if ((v & ~0xcffull) || !mem_type_ok(v & 0xff, false))
		return MSR_FAIL;
	return wr_any(cpu, d, index, v, host);
}

static enum msr_res wr_mtrr_fixed(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				  bool host)
{
	return all_bytes_ok(v, false) ? wr_any(cpu, d, index, v, host) : MSR_FAIL;
}

/* PHYSBASEn (even): type, bits 11:8 reserved; PHYSMASKn (odd): bits 10:0
 * reserved. Both: bits above MAXPHYADDR reserved. */
static enum msr_res wr_mtrr_var(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				bool host)
{
	u64 high = ~cpu->phys_mask;
	bool base = !((index - d->index) & 1);
	if (base ? (v & (high | 0xf00)) || !mem_type_ok(v & 0xff, false) : (v & (high | 0x7ff)))
		return MSR_FAIL;
	return wr_any(cpu, d, index, v, host);
}

/* PRED_CMD: write-only; bit 0 is IBPB, with no predictors to flush here. */
static enum msr_res wr_pred_cmd(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				bool host)
{
	(void)cpu, (void)d, (void)index, (void)host;
	return (v & ~1ull) ? MSR_FAIL : MSR_OK;
}

#define SPEC_CTRL_IBRS 1ull
#define SPEC_CTRL_STIBP 2ull
#define SPEC_CTRL_SSBD 4ull

static enum msr_res wr_spec_ctrl(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
				 bool host)
{
	u64 ok = 0;
	if (cpu_has_feature(cpu, X86_FEATURE_SPEC_CTRL))
		ok |= SPEC_CTRL_IBRS;
	if (cpu_has_feature(cpu, X86_FEATURE_STIBP) || cpu_has_feature(cpu, X86_FEATURE_SPEC_CTRL))
		ok |= SPEC_CTRL_STIBP;
	if (cpu_has_feature(cpu, X86_FEATURE_SSBD))
		ok |= SPEC_CTRL_SSBD;
	return (v & ~ok) ? MSR_FAIL : wr_any(cpu, d, index, v, host);
}

/* U_CET / S_CET: valid_cet on every write (spec 3.4). The tracker and
 * SH_STK_EN may change what the current CPL enforces. */
static enum msr_res wr_cet(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	if (!cet_valid_ctl(cpu, v))
		return MSR_FAIL;
	wr_any(cpu, d, index, v, host);
	cet_refresh(cpu);
	return MSR_OK;
}

/* PL0..3_SSP and the guest-SSP handle: canonical, 4-byte aligned. */
static enum msr_res wr_ssp(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	return cet_valid_ssp(v) ? wr_any(cpu, d, index, v, host) : MSR_FAIL;
}

/* INT_SSP_TAB: UNSUP without LM (before validity), then canonical. */
static enum msr_res wr_ssptab(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v,
			      bool host)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_LM))
		return MSR_UNSUP;
	return cet_canon(v) ? wr_any(cpu, d, index, v, host) : MSR_FAIL;
}

/* XSS: any subset of guest_supported_xss (cpu->xss_mask, spec 1.1).
 * CPUID(0xD,1).EBX follows it at CPUID time (sysinfo.c). */
static enum msr_res wr_xss(struct cpu *cpu, const struct msr_def *d, u32 index, u64 v, bool host)
{
	return (v & ~cpu->xss_mask) ? MSR_FAIL : wr_any(cpu, d, index, v, host);
}

/* ---- the table ---- */

#define OFF(f) offsetof(struct cpu, f)
#define MSR(idx, n, g1, g2, fl, arg, rd, wr) { idx, n, { g1, g2 }, fl, arg, rd, wr }
/* An interpreter has no speculation and no side channels from it: every
 * "not affected" bit the SDM (Vol. 4 Table 2-2) and Linux know, and
 * IBRS_ALL (enhanced IBRS: IBRS set once is enough). Bits: 0 RDCL_NO,
 * 1 IBRS_ALL, 3 SKIP_L1DFL_VMENTRY, 4 SSB_NO, 5 MDS_NO, 6 PSCHANGE_MC_NO,
 * 8 TAA_NO, 13 SBDR_SSDP_NO, 14 FBSDP_NO, 15 PSDP_NO, 20 BHI_NO,
 * 24 PBRSB_NO, 26 GDS_NO, 27 RFDS_NO, 62 ITS_NO. */
#define ARCH_CAP_VALUE                                                                     \
	((1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 6) | \
	 (1ull << 8) | (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 20) |           \
	 (1ull << 24) | (1ull << 26) | (1ull << 27) | (1ull << 62))
#define MTRRCAP_VALUE 0x508ull  /* 8 variable ranges, fixed ranges, WC */
#define UCODE_REV_VALUE (1ull << 32)

static const struct msr_def msrs[] = {
	MSR(MSR_IA32_TSC, 1, X86_FEATURE_TSC, NO_GATE, 0, 0, rd_tsc, wr_tsc),
	MSR(MSR_IA32_APIC_BASE, 1, NO_GATE, NO_GATE, 0, 0, rd_env, wr_env),
	MSR(MSR_IA32_FEATURE_CONTROL, 1, NO_GATE, NO_GATE, 0, 1 /* locked, VMX off */, rd_const,
	    wr_fixed),
	MSR(MSR_IA32_SPEC_CTRL, 1, X86_FEATURE_SPEC_CTRL, X86_FEATURE_SSBD, 0, OFF(spec_ctrl),
	    rd_field, wr_spec_ctrl),
	MSR(MSR_IA32_PRED_CMD, 1, X86_FEATURE_SPEC_CTRL, NO_GATE, 0, 0, NULL, wr_pred_cmd),
	MSR(MSR_IA32_SMBASE, 1, NO_GATE, NO_GATE, MSRF_HOST_ONLY, OFF(smbase), rd_field, wr_any),
	MSR(MSR_IA32_BIOS_SIGN_ID, 1, NO_GATE, NO_GATE, 0, UCODE_REV_VALUE, rd_const, wr_ignore),
	MSR(MSR_IA32_MTRRCAP, 1, X86_FEATURE_MTRR, NO_GATE, 0, MTRRCAP_VALUE, rd_const, wr_fixed),
	MSR(MSR_IA32_ARCH_CAPABILITIES, 1, X86_FEATURE_ARCH_CAPABILITIES, NO_GATE, 0,
	    ARCH_CAP_VALUE, rd_const, wr_fixed),
	MSR(MSR_IA32_SYSENTER_CS, 1, X86_FEATURE_SEP, NO_GATE, 0, OFF(sysenter_cs), rd_field,
	    wr_any),
	MSR(MSR_IA32_SYSENTER_ESP, 1, X86_FEATURE_SEP, NO_GATE, 0, OFF(sysenter_esp), rd_field,
	    wr_canon),
	MSR(MSR_IA32_SYSENTER_EIP, 1, X86_FEATURE_SEP, NO_GATE, 0, OFF(sysenter_eip), rd_field,
	    wr_canon),
	MSR(MSR_IA32_MCG_CAP, 1, X86_FEATURE_MCE, NO_GATE, 0, 0 /* no banks */, rd_const, wr_fixed),
	MSR(MSR_IA32_MCG_STATUS, 1, X86_FEATURE_MCE, NO_GATE, 0, 0, rd_zero, wr_zero_only),
	MSR(MSR_IA32_MISC_ENABLE, 1, NO_GATE, NO_GATE, 0, OFF(misc_enable), rd_field, wr_any),
	MSR(MSR_IA32_MTRR_PHYSBASE0, 16, X86_FEATURE_MTRR, NO_GATE, 0, OFF(mtrr_var), rd_field,
	    wr_mtrr_var),
	MSR(MSR_IA32_MTRR_FIX64K, 1, X86_FEATURE_MTRR, NO_GATE, 0, OFF(mtrr_fixed[0]), rd_field,
	    wr_mtrr_fixed),
	MSR(MSR_IA32_MTRR_FIX16K_80000, 2, X86_FEATURE_MTRR, NO_GATE, 0, OFF(mtrr_fixed[1]),
	    rd_field, wr_mtrr_fixed),
	MSR(MSR_IA32_MTRR_FIX4K_C0000, 8, X86_FEATURE_MTRR, NO_GATE, 0, OFF(mtrr_fixed[3]),
	    rd_field, wr_mtrr_fixed),
	MSR(MSR_IA32_PAT, 1, NO_GATE, NO_GATE, 0, OFF(pat), rd_field, wr_pat),
	MSR(MSR_IA32_MTRR_DEF_TYPE, 1, X86_FEATURE_MTRR, NO_GATE, 0, OFF(mtrr_def_type), rd_field,
	    wr_mtrr_def),
	/* CET (spec 3.4). */
	MSR(MSR_IA32_U_CET, 1, X86_FEATURE_SHSTK, X86_FEATURE_IBT, 0, OFF(cet.u_cet), rd_field,
	    wr_cet),
	MSR(MSR_IA32_S_CET, 1, X86_FEATURE_SHSTK, X86_FEATURE_IBT, 0, OFF(cet.s_cet), rd_field,
	    wr_cet),
	MSR(MSR_IA32_PL0_SSP, 4, X86_FEATURE_SHSTK, NO_GATE, 0, OFF(cet.pl_ssp), rd_field, wr_ssp),
	MSR(MSR_IA32_INT_SSP_TAB, 1, X86_FEATURE_SHSTK, NO_GATE, MSRF_ADV_LM, OFF(cet.int_ssp_tab),
	    rd_field, wr_ssptab),
	MSR(MSR_IA32_XSS, 1, X86_FEATURE_XSAVES, NO_GATE, MSRF_HOST_READ | MSRF_ADV_XSS, OFF(xss),
	    rd_field, wr_xss),
	MSR(MSR_KVM_INTERNAL_GUEST_SSP, 1, X86_FEATURE_SHSTK, NO_GATE,
	    MSRF_HOST_ONLY | MSRF_NOT_ADV, OFF(cet.ssp), rd_field, wr_ssp),
	/* Device-owned. */
	MSR(MSR_IA32_TSC_DEADLINE, 1, X86_FEATURE_TSC_DEADLINE, NO_GATE, 0, 0, rd_env, wr_env),
	MSR(MSR_X2APIC_FIRST, MSR_X2APIC_COUNT, X86_FEATURE_X2APIC, NO_GATE, MSRF_NOT_ADV, 0,
	    rd_env, wr_env),
	/* AMD64 architectural MSRs. */
	MSR(MSR_EFER, 1, X86_FEATURE_LM, X86_FEATURE_NX, 0, OFF(efer), rd_field, wr_efer),
	MSR(MSR_STAR, 1, X86_FEATURE_SYSCALL, X86_FEATURE_LM, 0, OFF(star), rd_field, wr_any),
	MSR(MSR_LSTAR, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(lstar), rd_field, wr_canon),
	MSR(MSR_CSTAR, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(cstar), rd_field, wr_canon),
	MSR(MSR_SYSCALL_MASK, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(fmask), rd_field, wr_u32),
	MSR(MSR_FS_BASE, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(seg[SEG_FS].base), rd_field, wr_canon),
	MSR(MSR_GS_BASE, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(seg[SEG_GS].base), rd_field, wr_canon),
	MSR(MSR_KERNEL_GS_BASE, 1, X86_FEATURE_LM, NO_GATE, 0, OFF(kernel_gs_base), rd_field,
	    wr_canon),
	MSR(MSR_TSC_AUX, 1, X86_FEATURE_RDTSCP, X86_FEATURE_RDPID, 0, OFF(tsc_aux), rd_field,
	    wr_u32),
};

static const struct msr_def *find(u32 index)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		if (index - msrs[i].index < msrs[i].count)
			return &msrs[i];
	return NULL;
}

static bool exists(const struct cpu *cpu, const struct msr_def *d)
{
	if (d->gate[0] == NO_GATE)
		return true;
	return cpu_has_feature(cpu, d->gate[0]) ||
	       (d->gate[1] != NO_GATE && cpu_has_feature(cpu, d->gate[1]));
}

/* Evaluation order of spec 3.4: host-only, existence, then the row's
 * own checks (INT_SSP_TAB's LM check before validity). */
static enum msr_res msr_read(struct cpu *cpu, u32 index, u64 *v, bool host)
{
	const struct msr_def *d = find(index);
	if (!d)
		return MSR_UNSUP;
	if ((d->flags & MSRF_HOST_ONLY) && !host)
		return MSR_FAIL;
	if (!exists(cpu, d) && !(host && (d->flags & MSRF_HOST_READ)))
		return MSR_UNSUP;
	return d->rd ? d->rd(cpu, d, index, v) : MSR_FAIL;
}

static enum msr_res msr_write(struct cpu *cpu, u32 index, u64 v, bool host)
{
	const struct msr_def *d = find(index);
	if (!d)
		return MSR_UNSUP;
	if ((d->flags & MSRF_HOST_ONLY) && !host)
		return MSR_FAIL;
	if (!exists(cpu, d))
		return MSR_UNSUP;
	return d->wr ? d->wr(cpu, d, index, v, host) : MSR_FAIL;
}

bool cpu_msr_read(struct cpu *cpu, u32 index, u64 *value)
{
	u64 v = 0;
	if (msr_read(cpu, index, &v, false) != MSR_OK)
		return false;
	*value = v;
	return true;
}

bool cpu_msr_write(struct cpu *cpu, u32 index, u64 value)
{
	return msr_write(cpu, index, value, false) == MSR_OK;
}

/* ---- host-initiated access ---- */

/* In the MSR index list of `sup` (spec 3.6)? */
static bool advertised(const struct vcpu_cpuid *sup, const struct msr_def *d)
{
	if (d->flags & MSRF_NOT_ADV)
		return false;
	if (d->flags & MSRF_ADV_XSS)
		return table_xss_mask(sup) != 0;
	if ((d->flags & MSRF_ADV_LM) && !table_has(sup, X86_FEATURE_LM))
		return false;
	if (d->gate[0] == NO_GATE)
		return true;
	return table_has(sup, d->gate[0]) ||
	       (d->gate[1] != NO_GATE && table_has(sup, d->gate[1]));
}

static bool advertised_index(u32 index)
{
	struct vcpu_cpuid sup;
	const struct msr_def *d = find(index);
	if (!d)
		return false;
	cpu_supported_cpuid(&sup);
	return advertised(&sup, d);
}

static int host_read(struct cpu *cpu, u32 index, u64 *value)
{
	u64 v = 0;
	enum msr_res r = msr_read(cpu, index, &v, true);
	if (r == MSR_UNSUP && advertised_index(index)) {
		v = 0;
		r = MSR_OK;
	}
	if (r != MSR_OK)
		return -EINVAL;
	*value = v;
	return 0;
}

static int host_write(struct cpu *cpu, u32 index, u64 value)
{
	enum msr_res r = msr_write(cpu, index, value, true);
	if (r == MSR_UNSUP && value == 0 && advertised_index(index))
		r = MSR_OK;
	return r == MSR_OK ? 0 : -EINVAL;
}

int cpu_msr_host_read(struct cpu *cpu, u32 index, u64 *value)
{
	if (index == MSR_KVM_INTERNAL_GUEST_SSP)
		return -EINVAL; /* not ABI: only through ONE_REG (spec 3.4 default) */
	return host_read(cpu, index, value);
}

int cpu_msr_host_write(struct cpu *cpu, u32 index, u64 value)
{
	if (index == MSR_KVM_INTERNAL_GUEST_SSP)
		return -EINVAL;
	return host_write(cpu, index, value);
}

int cpu_guest_ssp_read(struct cpu *cpu, u64 *value)
{
	return host_read(cpu, MSR_KVM_INTERNAL_GUEST_SSP, value);
}

int cpu_guest_ssp_write(struct cpu *cpu, u64 value)
{
	return host_write(cpu, MSR_KVM_INTERNAL_GUEST_SSP, value);
}

int cpu_msr_index_list(u32 *out, int max)
{
	struct vcpu_cpuid sup;
	int n = 0;
	cpu_supported_cpuid(&sup);
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
		if (!advertised(&sup, &msrs[i]) || (msrs[i].flags & MSRF_HOST_ONLY))
			continue;
		for (u32 k = 0; k < msrs[i].count; k++, n++)
			if (n < max)
				out[n] = msrs[i].index + k;
	}
	return n;
}

/* ---- RDMSR / WRMSR (0F 32, 0F 30) ---- */

static void check_msr_insn(struct cpu *cpu)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_MSR))
		cpu_ud(cpu);
	cpu_require_cpl0(cpu);
}

void op_rdmsr(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u64 v;
	check_msr_insn(cpu);
	if (!cpu_msr_read(cpu, (u32)cpu->r[R_CX], &v))
		cpu_gp(cpu, 0);
	cpu->r[R_AX] = (u32)v;
	cpu->r[R_DX] = v >> 32;
}

void op_wrmsr(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	check_msr_insn(cpu);
	u64 v = (u32)cpu->r[R_AX] | (cpu->r[R_DX] << 32);
	if (!cpu_msr_write(cpu, (u32)cpu->r[R_CX], v))
		cpu_gp(cpu, 0);
	cpu_break(cpu);
}
