/* xsave.c: XGETBV/XSETBV, FXSAVE/FXRSTOR and the XSAVE/XRSTOR family
 * (SDM Vol. 1 ch. 10.5 and 13; spec/cet.md §4 for the CET components). */
#include "xsave.h"

#include <errno.h>
#include <string.h>

#include "cet.h"
#include "ops.h"
#include "sse.h"
#include "x87.h"

/* Components >= 2: CPUID(0xD, i) EAX (size) and EBX (standard offset). */
struct xcomp {
	u16 size, offset;
	u8 ecx;
};
static const struct xcomp xcomps[13] = {
	[2] = { 256, 576, 0 },  /* AVX: YMM0_H..YMM15_H */
	[9] = { 8, 2688, 0 },   /* PKRU (4 bytes + 4 reserved) */
	[11] = { 16, 0, 1 },    /* CET_U: U_CET, PL3_SSP (spec 4) */
	[12] = { 24, 0, 1 },    /* CET_S: PL0_SSP..PL2_SSP */
};
#define XSAVE_MAX_STD 2696

bool xsave_component(unsigned i, u32 *size, u32 *offset, u32 *ecx)
{
	if (i < 2 || i >= ARRAY_SIZE(xcomps) || !xcomps[i].size)
		return false;
	*size = xcomps[i].size;
	*offset = xcomps[i].offset;
	*ecx = xcomps[i].ecx;
	return true;
}

static bool comp_known(unsigned i)
{
	return i >= 2 && i < ARRAY_SIZE(xcomps) && xcomps[i].size;
}

/* spec 1.2 size_std(). */
size_t xsave_size_std(u64 bv)
{
	size_t r = XSAVE_EXT_OFFSET;
	for (unsigned i = 2; i < ARRAY_SIZE(xcomps); i++)
		if (((bv >> i) & 1) && comp_known(i) && xcomps[i].offset + xcomps[i].size > r)
			r = xcomps[i].offset + xcomps[i].size;
	return r;
}

static size_t align_comp(size_t r, unsigned i)
{
	return (xcomps[i].ecx & 2) ? (r + 63) & ~(size_t)63 : r;
}

/* spec 1.2 size_cmp(): lower-numbered components first, each aligned to 64
 * if its CPUID ECX bit 1 says so. */
size_t xsave_size_cmp(u64 bv)
{
	size_t r = XSAVE_EXT_OFFSET;
	for (unsigned i = 2; i < ARRAY_SIZE(xcomps); i++)
		if (((bv >> i) & 1) && comp_known(i))
			r = align_comp(r, i) + xcomps[i].size;
	return r;
}

size_t xsave_offset_cmp(u64 xcomp_bv, unsigned i)
{
	return align_comp(xsave_size_cmp(xcomp_bv & ((1ull << i) - 1)), i);
}

static bool xmm_nonzero(const struct xmm *x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (x[i].q[0] | x[i].q[1])
			return true;
	return false;
}

/* SDM Vol. 1 13.6. SSE counts as in use when MXCSR differs from 1F80H, so
 * XSAVEC/XSAVES save a changed MXCSR (SDM 13.10). */
u64 xsave_xinuse(const struct cpu *cpu)
{
	u64 r = 0;
	if (!x87_in_init_state(cpu))
		r |= XFEATURE_X87;
	if (xmm_nonzero(cpu->fpu.xmm, 16) || cpu->fpu.mxcsr != MXCSR_DEFAULT)
		r |= XFEATURE_SSE;
	if (xmm_nonzero(cpu->fpu.ymmh, 16))
		r |= XFEATURE_YMM;
	if (cpu->pkru)
		r |= XFEATURE_PKRU;
	if (cpu->cet.u_cet || cpu->cet.pl_ssp[3])
		r |= XFEATURE_CET_U;
	if (cpu->cet.pl_ssp[0] || cpu->cet.pl_ssp[1] || cpu->cet.pl_ssp[2])
		r |= XFEATURE_CET_S;
	return r;
}

/* ---- legacy region (SDM Vol. 2 FXSAVE, Tables 3-43/3-46) ---- */

static void put_x87(const struct cpu *cpu, u8 *p, bool w64)
{
	store_le(p + 0, 2, cpu->fpu.fcw);
	store_le(p + 2, 2, x87_get_fsw(cpu));
	p[4] = x87_abridged_tag(cpu);
	p[5] = 0;
	store_le(p + 6, 2, cpu->fpu.fop & 0x7ffu);
	/* FCS and FDS are saved as 0 (CPUID.(7,0):EBX[13] semantics). */
	store_le(p + 8, 8, w64 ? cpu->fpu.fip : (u32)cpu->fpu.fip);
	store_le(p + 16, 8, w64 ? cpu->fpu.fdp : (u32)cpu->fpu.fdp);
	for (unsigned i = 0; i < 8; i++) {
		memset(p + 32 + 16 * i, 0, 16);
		x87_get_st80(cpu, i, p + 32 + 16 * i);
	}
}

static void get_x87(struct cpu *cpu, const u8 *p, bool w64)
{
	cpu->fpu.fcw = (u16)load_le(p + 0, 2);
	x87_set_fsw(cpu, (u16)load_le(p + 2, 2));
	x87_set_abridged_tag(cpu, p[4]);
	cpu->fpu.fop = (u16)(load_le(p + 6, 2) & 0x7ffu);
	cpu->fpu.fip = w64 ? load_le(p + 8, 8) : load_le(p + 8, 4);
	cpu->fpu.fdp = w64 ? load_le(p + 16, 8) : load_le(p + 16, 4);
	for (unsigned i = 0; i < 8; i++)
		x87_set_st80(cpu, i, p + 32 + 16 * i);
}

static void put_mxcsr(const struct cpu *cpu, u8 *p)
{
	store_le(p + 24, 4, cpu->fpu.mxcsr);
	store_le(p + 28, 4, SSE_MXCSR_MASK);
}

static unsigned nxmm(const struct cpu *cpu)
{
	return cpu->m64 ? 16 : 8; /* XMM8-15 only in 64-bit mode (SDM 13.13) */
}

static void put_regs(const struct xmm *x, u8 *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		store_le(p + 16 * i, 8, x[i].q[0]);
		store_le(p + 16 * i + 8, 8, x[i].q[1]);
	}
}

static void get_regs(struct xmm *x, const u8 *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		x[i].q[0] = p ? load_le(p + 16 * i, 8) : 0;
		x[i].q[1] = p ? load_le(p + 16 * i + 8, 8) : 0;
	}
}

/* ---- extended components ---- */

static void put_comp(const struct cpu *cpu, unsigned i, u8 *p)
{
	switch (i) {
	case 2: put_regs(cpu->fpu.ymmh, p, nxmm(cpu)); break;
	case 9: store_le(p, 8, cpu->pkru); break;
	case 11:
		store_le(p, 8, cpu->cet.u_cet);
		store_le(p + 8, 8, cpu->cet.pl_ssp[3]);
		break;
	case 12:
		for (unsigned k = 0; k < 3; k++)
			store_le(p + 8 * k, 8, cpu->cet.pl_ssp[k]);
		break;
	}
}

/* Load component i from p, or its init state (all zeros) if p is NULL. */
static void get_comp(struct cpu *cpu, unsigned i, const u8 *p)
{
	switch (i) {
	case 2: get_regs(cpu->fpu.ymmh, p, nxmm(cpu)); break;
	case 9:
		cpu_set_pkru(cpu, p ? (u32)load_le(p, 4) : 0);
		break;
	case 11:
		cpu->cet.u_cet = p ? load_le(p, 8) : 0;
		cpu->cet.pl_ssp[3] = p ? load_le(p + 8, 8) : 0;
		break;
	case 12:
		for (unsigned k = 0; k < 3; k++)
			cpu->cet.pl_ssp[k] = p ? load_le(p + 8 * k, 8) : 0;
		break;
	}
	if (i == 11 || i == 12)
		cet_refresh(cpu);
}

/* ---- CET validity for XRSTORS (spec 3.3, 4: the guest-WRMSR rules) ---- */

static bool valid_cet_image(const struct cpu *cpu, u64 load, const u8 *buf, u64 xcomp_bv)
{
	if (load & XFEATURE_CET_U) {
		const u8 *p = buf + xsave_offset_cmp(xcomp_bv, 11);
		if (!cet_valid_ctl(cpu, load_le(p, 8)) || !cet_valid_ssp(load_le(p + 8, 8)))
			return false;
	}
	if (load & XFEATURE_CET_S) {
		const u8 *p = buf + xsave_offset_cmp(xcomp_bv, 12);
		for (unsigned k = 0; k < 3; k++)
			if (!cet_valid_ssp(load_le(p + 8 * k, 8)))
				return false;
	}
	return true;
}

/* ---- XGETBV / XSETBV ---- */

/* 0F 01 D0: XGETBV (SDM Vol. 2). ECX=1 gives XCR0 & XINUSE with XGETBV1. */
void op_xgetbv(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	u64 v;
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		cpu_ud(cpu);
	u32 idx = (u32)cpu->r[R_CX];
	if (idx == 0)
		v = cpu->xcr0;
	else if (idx == 1 && cpu_has_feature(cpu, X86_FEATURE_XGETBV1))
		v = cpu->xcr0 & xsave_xinuse(cpu);
	else
		cpu_gp(cpu, 0);
	cpu->r[R_AX] = (u32)v;
	cpu->r[R_DX] = v >> 32;
}

static bool valid_xcr0(const struct cpu *cpu, u64 v)
{
	const u64 avx512 = 0xe0;
	if (v & XSAVE_SUPERVISOR)
		return false; /* bits 11/12 are never XCR0 bits (spec 4) */
	if ((v & ~cpu->xcr0_mask) || !(v & XFEATURE_X87))
		return false;
	if ((v & XFEATURE_YMM) && !(v & XFEATURE_SSE))
		return false;
	if ((v & avx512) && ((v & avx512) != avx512 || !(v & XFEATURE_YMM)))
		return false;
	if (((v >> 3) & 1) != ((v >> 4) & 1)) /* MPX BNDREGS/BNDCSR together */
		return false;
	return ((v >> 17) & 1) == ((v >> 18) & 1); /* AMX TILECFG/TILEDATA */
}

/* 0F 01 D1: XSETBV. CPL 0, ECX = 0, a valid XCR0, else #GP(0). */
void op_xsetbv(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		cpu_ud(cpu);
	u64 v = (u32)cpu->r[R_AX] | (cpu->r[R_DX] << 32);
	if (cpu->cpl != 0 || (u32)cpu->r[R_CX] != 0 || !valid_xcr0(cpu, v))
		cpu_gp(cpu, 0);
	cpu->xcr0 = v;
}

/* ---- FXSAVE / FXRSTOR ---- */

static u64 fx_check(struct cpu *cpu, const struct insn *in, bool write)
{
	if (!cpu_has_feature(cpu, X86_FEATURE_FXSR))
		cpu_ud(cpu);
	if (cpu->cr0 & (X86_CR0_TS | X86_CR0_EM))
		cpu_fault_noerr(cpu, X86_EXC_NM);
	return sse_lin(cpu, in, 512, write, 16);
}

static bool rex_w(const struct cpu *cpu, const struct insn *in)
{
	return cpu->m64 && in->opsize == 8;
}

/* 0F AE /0: FXSAVE m512 (REX.W: FXSAVE64). Bytes 464-511 are not written. */
void op_fxsave(struct cpu *cpu, const struct insn *in)
{
	u8 img[416];
	u64 la = fx_check(cpu, in, true);
	unsigned n = nxmm(cpu);
	put_x87(cpu, img, rex_w(cpu, in));
	put_mxcsr(cpu, img);
	put_regs(cpu->fpu.xmm, img + 160, n);
	sse_write_mem(cpu, la, img, 160 + 16 * n);
}

/* 0F AE /1: FXRSTOR m512. Reserved MXCSR bits -> #GP(0), nothing loaded. */
void op_fxrstor(struct cpu *cpu, const struct insn *in)
{
	u8 img[416];
	u64 la = fx_check(cpu, in, false);
	unsigned n = nxmm(cpu);
	sse_read_mem(cpu, la, img, 160 + 16 * n);
	u32 mxcsr = (u32)load_le(img + 24, 4);
	if (mxcsr & ~SSE_MXCSR_MASK)
		cpu_gp(cpu, 0);
	get_x87(cpu, img, rex_w(cpu, in));
	cpu->fpu.mxcsr = mxcsr;
	get_regs(cpu->fpu.xmm, img + 160, n);
}

/* ---- XSAVE family ---- */

enum xs_kind { XS_STD, XS_OPT, XS_C, XS_S };

/* Faults common to the family (SDM Vol. 1 13.7-13.12). */
static void xs_check(struct cpu *cpu, int feature, bool supervisor)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		cpu_ud(cpu);
	if (feature != SSE_NO_FEATURE && !cpu_has_feature(cpu, feature))
		cpu_ud(cpu);
	if (cpu->cr0 & X86_CR0_TS)
		cpu_fault_noerr(cpu, X86_EXC_NM);
	if (supervisor && cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

static u64 xs_rfbm(const struct cpu *cpu, bool supervisor)
{
	u64 mask = (u32)cpu->r[R_AX] | (cpu->r[R_DX] << 32);
	return mask & (cpu->xcr0 | (supervisor ? cpu->xss : 0));
}

/* Byte ranges to store, collected while the image is built. */
struct wlist {
	unsigned n;
	u16 off[24], len[24];
};

static void wl_add(struct wlist *w, unsigned off, unsigned len)
{
	w->off[w->n] = (u16)off;
	w->len[w->n++] = (u16)len;
}

static void wl_flush(struct cpu *cpu, u64 la, const struct wlist *w, const u8 *img,
		     unsigned span)
{
	sse_probe_write(cpu, la, span);
	for (unsigned k = 0; k < w->n; k++)
		sse_write_mem(cpu, la + w->off[k], img + w->off[k], w->len[k]);
}

static unsigned comp_len(const struct cpu *cpu, unsigned i)
{
	return i == 2 ? 16 * nxmm(cpu) : xcomps[i].size;
}

/* Legacy region and header fields shared by every form of XSAVE. */
static void xs_legacy(struct cpu *cpu, const struct insn *in, u64 save, bool mxcsr, u8 *img,
		      struct wlist *w)
{
	if (save & XFEATURE_X87) {
		put_x87(cpu, img, rex_w(cpu, in));
		wl_add(w, 0, 24);
		wl_add(w, 32, 128);
	}
	if (mxcsr) {
		put_mxcsr(cpu, img);
		wl_add(w, 24, 8);
	}
	if (save & XFEATURE_SSE) {
		put_regs(cpu->fpu.xmm, img + 160, nxmm(cpu));
		wl_add(w, 160, 16 * nxmm(cpu));
	}
}

static void xsave_common(struct cpu *cpu, const struct insn *in, enum xs_kind kind)
{
	static const int feature[] = { SSE_NO_FEATURE, X86_FEATURE_XSAVEOPT, X86_FEATURE_XSAVEC,
				       X86_FEATURE_XSAVES };
	u8 img[XSAVE_MAX_STD];
	bool compact = kind == XS_C || kind == XS_S;
	struct wlist w = { 0 };

	xs_check(cpu, feature[kind], kind == XS_S);
	u64 rfbm = xs_rfbm(cpu, kind == XS_S);
	u64 inuse = xsave_xinuse(cpu) & rfbm;
	size_t span = compact ? xsave_size_cmp(rfbm) : xsave_size_std(rfbm);
	u64 la = sse_lin(cpu, in, (unsigned)span, true, 64);
	/* XSAVE/XSAVEOPT write every requested component and update only the
	 * requested bits of XSTATE_BV; XSAVEC/XSAVES use the init
	 * optimization and write XSTATE_BV and XCOMP_BV whole. */
	u64 save = compact ? inuse : rfbm;
	bool mxcsr = compact ? (save & XFEATURE_SSE) : (rfbm & (XFEATURE_SSE | XFEATURE_YMM));
	xs_legacy(cpu, in, save, mxcsr, img, &w);
	u64 xstate_bv = inuse;
	if (!compact)
		xstate_bv |= cpu_read_lin(cpu, la + XSAVE_HDR_OFFSET, 8) & ~rfbm;
	store_le(img + XSAVE_HDR_OFFSET, 8, xstate_bv);
	store_le(img + XSAVE_HDR_OFFSET + 8, 8, XCOMP_BV_COMPACT | rfbm);
	wl_add(&w, XSAVE_HDR_OFFSET, compact ? 16 : 8);
	for (unsigned i = 2; i < ARRAY_SIZE(xcomps); i++) {
		if (!((save >> i) & 1) || !comp_known(i))
			continue;
		size_t off = compact ? xsave_offset_cmp(rfbm, i) : xcomps[i].offset;
		put_comp(cpu, i, img + off);
		wl_add(&w, (unsigned)off, comp_len(cpu, i));
	}
	wl_flush(cpu, la, &w, img, (unsigned)span);
}

/* 0F AE /4 XSAVE, /6 XSAVEOPT; 0F C7 /4 XSAVEC, /5 XSAVES. */
void op_xsave(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, XS_STD);
}

void op_xsaveopt(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, XS_OPT);
}

void op_xsavec(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, XS_C);
}

void op_xsaves(struct cpu *cpu, const struct insn *in)
{
	xsave_common(cpu, in, XS_S);
}

/* Header checks of XRSTOR/XRSTORS (SDM Vol. 1 13.8, 13.12): #GP(0). */
static void xr_check_header(struct cpu *cpu, const u8 *hdr, bool supervisor)
{
	u64 xstate_bv = load_le(hdr, 8), xcomp_bv = load_le(hdr + 8, 8);
	bool compact = xcomp_bv & XCOMP_BV_COMPACT;
	if (supervisor && !compact)
		cpu_gp(cpu, 0);
	if (!compact) {
		if ((xstate_bv & ~cpu->xcr0) || xcomp_bv || load_le(hdr + 16, 8))
			cpu_gp(cpu, 0);
		return;
	}
	if (!supervisor && !cpu_has_feature(cpu, X86_FEATURE_XSAVEC))
		cpu_gp(cpu, 0);
	u64 allowed = cpu->xcr0 | (supervisor ? cpu->xss : 0);
	if ((xcomp_bv & ~XCOMP_BV_COMPACT & ~allowed) || (xstate_bv & ~(xcomp_bv & ~XCOMP_BV_COMPACT)))
		cpu_gp(cpu, 0);
	for (unsigned k = 16; k < 64; k += 8)
		if (load_le(hdr + k, 8))
			cpu_gp(cpu, 0);
}

/* Apply a validated image: component i of rfbm is loaded from img if set
 * in xstate_bv, else initialized. */
static void xr_apply(struct cpu *cpu, const struct insn *in, const u8 *img, u64 rfbm,
		     u64 xstate_bv, bool load_mxcsr, u64 xcomp_bv)
{
	bool compact = xcomp_bv & XCOMP_BV_COMPACT;
	u64 load = rfbm & xstate_bv;
	if (rfbm & XFEATURE_X87) {
		if (load & XFEATURE_X87)
			get_x87(cpu, img, rex_w(cpu, in));
		else
			x87_init_component(cpu);
	}
	if (load_mxcsr)
		cpu->fpu.mxcsr = (u32)load_le(img + 24, 4);
	else if (compact && (rfbm & XFEATURE_SSE))
		cpu->fpu.mxcsr = MXCSR_DEFAULT; /* SDM 13.8.2 */
	if (rfbm & XFEATURE_SSE)
		get_regs(cpu->fpu.xmm, (load & XFEATURE_SSE) ? img + 160 : NULL, nxmm(cpu));
	for (unsigned i = 2; i < ARRAY_SIZE(xcomps); i++) {
		if (!((rfbm >> i) & 1) || !comp_known(i))
			continue;
		size_t off = compact ? xsave_offset_cmp(xcomp_bv, i) : xcomps[i].offset;
		get_comp(cpu, i, ((load >> i) & 1) ? img + off : NULL);
	}
}

static void xrstor_common(struct cpu *cpu, const struct insn *in, bool supervisor)
{
	u8 img[XSAVE_MAX_STD];
	xs_check(cpu, supervisor ? X86_FEATURE_XSAVES : SSE_NO_FEATURE, supervisor);
	u64 rfbm = xs_rfbm(cpu, supervisor);
	u64 la = sse_lin(cpu, in, XSAVE_EXT_OFFSET, false, 64);
	sse_read_mem(cpu, la + XSAVE_HDR_OFFSET, img + XSAVE_HDR_OFFSET, 64);
	xr_check_header(cpu, img + XSAVE_HDR_OFFSET, supervisor);
	u64 xstate_bv = load_le(img + XSAVE_HDR_OFFSET, 8);
	u64 xcomp_bv = load_le(img + XSAVE_HDR_OFFSET + 8, 8);
	bool compact = xcomp_bv & XCOMP_BV_COMPACT;
	u64 load = rfbm & xstate_bv;
	/* Read everything that will be loaded first: faults change nothing. */
	bool load_mxcsr = compact ? (load & XFEATURE_SSE) : (rfbm & (XFEATURE_SSE | XFEATURE_YMM));
	if ((load & (XFEATURE_X87 | XFEATURE_SSE)) || load_mxcsr)
		sse_read_mem(cpu, la, img, 160 + 16 * nxmm(cpu));
	for (unsigned i = 2; i < ARRAY_SIZE(xcomps); i++) {
		if (!((load >> i) & 1) || !comp_known(i))
			continue;
		size_t off = compact ? xsave_offset_cmp(xcomp_bv, i) : xcomps[i].offset;
		sse_read_mem(cpu, la + off, img + off, comp_len(cpu, i));
	}
	if (load_mxcsr && (load_le(img + 24, 4) & ~SSE_MXCSR_MASK))
		cpu_gp(cpu, 0);
	if (supervisor && !valid_cet_image(cpu, load, img, xcomp_bv))
		cpu_gp(cpu, 0); /* spec 4: XRSTORS loads nothing */
	xr_apply(cpu, in, img, rfbm, xstate_bv, load_mxcsr, xcomp_bv);
}

/* 0F AE /5 XRSTOR; 0F C7 /3 XRSTORS (CPL 0, compacted only). */
void op_xrstor(struct cpu *cpu, const struct insn *in)
{
	xrstor_common(cpu, in, false);
}

void op_xrstors(struct cpu *cpu, const struct insn *in)
{
	xrstor_common(cpu, in, true);
}

/* ---- host-side standard image (KVM_GET_XSAVE / KVM_SET_XSAVE) ---- */

static u64 std_components(const struct cpu *cpu)
{
	return (cpu->xcr0_mask & (XFEATURE_YMM | XFEATURE_PKRU)) | XFEATURE_X87 | XFEATURE_SSE;
}

void cpu_xsave_to_std(struct cpu *cpu, u8 *buf)
{
	u64 comps = std_components(cpu);
	memset(buf, 0, XSAVE_STD_IMAGE);
	put_x87(cpu, buf, true);
	put_mxcsr(cpu, buf);
	put_regs(cpu->fpu.xmm, buf + 160, 16);
	if (comps & XFEATURE_YMM)
		put_regs(cpu->fpu.ymmh, buf + xcomps[2].offset, 16);
	if (comps & XFEATURE_PKRU)
		put_comp(cpu, 9, buf + xcomps[9].offset);
	u64 bv = (xsave_xinuse(cpu) & comps) | XFEATURE_X87 | XFEATURE_SSE;
	store_le(buf + XSAVE_HDR_OFFSET, 8, bv);
}

int cpu_xsave_from_std(struct cpu *cpu, const u8 *buf)
{
	u64 comps = std_components(cpu);
	u64 bv = load_le(buf + XSAVE_HDR_OFFSET, 8);
	u32 mxcsr = (u32)load_le(buf + 24, 4);
	if ((bv & ~comps) || (mxcsr & ~SSE_MXCSR_MASK))
		return -EINVAL;
	for (unsigned k = 8; k < 64; k += 8)
		if (load_le(buf + XSAVE_HDR_OFFSET + k, 8))
			return -EINVAL;
	if (bv & XFEATURE_X87)
		get_x87(cpu, buf, true);
	else
		x87_init_component(cpu);
	cpu->fpu.mxcsr = (bv & (XFEATURE_SSE | XFEATURE_YMM)) ? mxcsr : MXCSR_DEFAULT;
	get_regs(cpu->fpu.xmm, (bv & XFEATURE_SSE) ? buf + 160 : NULL, 16);
	if (comps & XFEATURE_YMM)
		get_regs(cpu->fpu.ymmh, (bv & XFEATURE_YMM) ? buf + xcomps[2].offset : NULL, 16);
	if (comps & XFEATURE_PKRU)
		get_comp(cpu, 9, (bv & XFEATURE_PKRU) ? buf + xcomps[9].offset : NULL);
	return 0;
}
