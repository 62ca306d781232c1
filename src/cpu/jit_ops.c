/* jit_ops.c: host code for one instruction of a block (jit_int.h).
 *
 * Each translation does what the instruction's specialized handler does
 * (fast_ops.c, fast_alu.c, fast_misc.c): the same register results, the
 * same lazy-flags record (left out where the next instruction records all
 * flags anew: record()), the same software-TLB checks, with the fallback
 * (the instruction's own exec) taken before anything is written. ALU
 * operations run on the host at their own size, so the host flags are the
 * guest's until the next instruction changes them: a Jcc, SETcc or CMOVcc
 * right after its producer tests them directly.
 */
#include "jit_int.h"
#include "ops.h"

/* A memory operand of 64-bit addressing (any segment of 64-bit mode). */
static bool mem_ok(const struct insn *in)
{
	return (in->flags & IF_MEM) && in->addrsize == 8 && in->seg <= SEG_GS;
}

static void store(struct x64 *e, unsigned size, unsigned src, struct x64_m m)
{
	x64_rm(e, size, size == 1 ? XOP_MOV_ST - 1 : XOP_MOV_ST, src, m);
}

static u64 at_size(u64 v, unsigned size)
{
	return size == 8 ? v : v & size_mask(size);
}

/* ---- moves ---- */

enum { X_ZERO, X_SIGN };

static enum jit_result tr_load(struct jit_tr *t, const struct insn *in, unsigned size,
			       unsigned ext)
{
	struct x64 *e = &t->e;
	jit_la(t, in);
	jit_tlb(t, size, (s32)offsetof(struct tlb_entry, rtag));
	if (ext == X_ZERO)
		jit_load_zx(e, size, XCX, JIT_HOST);
	else
		x64_rm(e, 8, size == 1 ? XOP_MOVSX8 : size == 2 ? XOP_MOVSX16 : XOP_MOVSXD, XCX,
		       JIT_HOST);
	x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(in->reg));
	return JIT_OK;
}

static enum jit_result tr_store(struct jit_tr *t, const struct insn *in, bool imm)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	jit_la(t, in);
	jit_tlb(t, size, (s32)offsetof(struct tlb_entry, wtag));
	if (imm) {
		x64_mi(e, size, size == 1 ? XOP_MOV_MI - 1 : XOP_MOV_MI, 0, JIT_HOST, (u32)in->imm,
		       size == 1 ? 1 : 4);
	} else {
		x64_rm(e, 8, XOP_MOV_LD, XCX, jit_greg(in->reg));
		store(e, size, XCX, JIT_HOST);
	}
	return JIT_OK;
}

/* The loads and stores of fast_ops.c's load_variant() and store_variant(). */
static enum jit_result tr_mem_move(struct jit_tr *t, const struct insn *in)
{
	unsigned size = in->opsize;
	bool wide = size == 4 || size == 8;
	if (in->fn == op_mov_r_rm && wide)
		return tr_load(t, in, size, X_ZERO);
	if (in->fn == op_movzx_b && wide)
		return tr_load(t, in, 1, X_ZERO);
	if (in->fn == op_movzx_w && wide)
		return tr_load(t, in, 2, X_ZERO);
	if (in->fn == op_movsx_b && size == 8)
		return tr_load(t, in, 1, X_SIGN);
	if (in->fn == op_movsx_w && size == 8)
		return tr_load(t, in, 2, X_SIGN);
	if (in->fn == op_movsxd && size == 8)
		return tr_load(t, in, 4, X_SIGN);
	if (in->fn == op_mov_rm_r && (size != 1 || jit_byte_ok(in, in->reg)))
		return tr_store(t, in, false);
	if (in->fn == op_mov_rm_imm && size != 2)
		return tr_store(t, in, true);
	return JIT_NO;
}

/* dst := src (a register), 64 bits or 32 zero-extended. */
static void move_rr(struct x64 *e, unsigned size, unsigned dst, unsigned src)
{
	jit_load_zx(e, size, XCX, jit_greg(src));
	x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(dst));
}

static void move_ri(struct x64 *e, unsigned dst, u64 v)
{
	if ((u64)(s64)(s32)v == v) {
		x64_mi(e, 8, XOP_MOV_MI, 0, jit_greg(dst), (u32)v, 4);
	} else {
		x64_mov_imm(e, XCX, v);
		x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(dst));
	}
}

static enum jit_result tr_reg_move(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	if (size != 4 && size != 8)
		return JIT_NO;
	if (in->fn == op_mov_rm_r)
		move_rr(e, size, in->rm, in->reg);
	else if (in->fn == op_mov_r_rm)
		move_rr(e, size, in->reg, in->rm);
	else if (in->fn == op_mov_rm_imm)
		move_ri(e, in->rm, at_size(in->imm, size));
	else if (in->fn == op_mov_r_imm)
		move_ri(e, in->reg, at_size(in->imm, size));
	else if (in->fn == op_movzx_b && jit_byte_ok(in, in->rm))
		move_rr(e, 1, in->reg, in->rm);
	else if (in->fn == op_movzx_w)
		move_rr(e, 2, in->reg, in->rm);
	else if (in->fn == op_movsxd && size == 8) {
		x64_rm(e, 8, XOP_MOVSXD, XCX, jit_greg(in->rm));
		x64_rm(e, 8, XOP_MOV_ST, XCX, jit_greg(in->reg));
	} else
		return JIT_NO;
	jit_flags_kept(t);
	return JIT_OK;
}

static enum jit_result tr_lea(struct jit_tr *t, const struct insn *in)
{
	if (in->addrsize != 8 || (in->opsize != 8 && in->opsize != 4))
		return JIT_NO;
	bool kept = jit_ea(t, in);
	if (in->opsize == 4)
		x64_rr(&t->e, 4, XOP_MOV_ST, XAX, XAX); /* mov eax, eax */
	x64_rm(&t->e, 8, XOP_MOV_ST, XAX, jit_greg(in->reg));
	if (kept)
		jit_flags_kept(t);
	return JIT_OK;
}

/* ---- ALU: ADD OR AND SUB XOR CMP TEST (fast_alu.c), ADC SBB (alu.c) ---- */

struct alu {
	insn_fn fn[4]; /* generic handlers: rm,r  r,rm  rm,imm  A,imm */
	u8 digit;      /* the host operation (SUB for CMP, AND for TEST) */
	bool writes;
	enum cc_op cc;
	bool carry_in; /* ADC, SBB: only right after an op whose CF the host has */
};

static const struct alu alus[] = {
	{ { op_add_rm_r, op_add_r_rm, op_add_rm_imm, op_add_a_imm }, 0, true, CC_ADD, false },
	{ { op_or_rm_r, op_or_r_rm, op_or_rm_imm, op_or_a_imm }, 1, true, CC_LOGIC, false },
	{ { op_and_rm_r, op_and_r_rm, op_and_rm_imm, op_and_a_imm }, 4, true, CC_LOGIC, false },
	{ { op_sub_rm_r, op_sub_r_rm, op_sub_rm_imm, op_sub_a_imm }, 5, true, CC_SUB, false },
	{ { op_xor_rm_r, op_xor_r_rm, op_xor_rm_imm, op_xor_a_imm }, 6, true, CC_LOGIC, false },
	{ { op_cmp_rm_r, op_cmp_r_rm, op_cmp_rm_imm, op_cmp_a_imm }, 5, false, CC_SUB, false },
	{ { op_test_rm_r, NULL, op_test_rm_imm, op_test_a_imm }, 4, false, CC_LOGIC, false },
	{ { op_adc_rm_r, op_adc_r_rm, op_adc_rm_imm, op_adc_a_imm }, 2, true, CC_ADC, true },
	{ { op_sbb_rm_r, op_sbb_r_rm, op_sbb_rm_imm, op_sbb_a_imm }, 3, true, CC_SBB, true },
};

enum { K_RM_R, K_R_RM, K_RM_IMM, K_A_IMM };

static bool records_all(const struct insn *in);

/* The record of fast_alu.c's record(): dst = RAX, src = RDX, src2 = RCX.
 * None if the next instruction of the block records all the flags anew
 * with nothing in between that could see them (records_all()). */
static void record(struct jit_tr *t, enum cc_op cc, unsigned size)
{
	struct x64 *e = &t->e;
	t->cc_now = (int)cc;
	t->cc_size_now = (u8)size;
	if (t->k + 1 < t->n && records_all(&t->insn[t->k + 1]))
		return;
	_Static_assert(sizeof(enum cc_op) == 4, "cc_op is an int");
	x64_mi(e, 4, XOP_MOV_MI, 0, xm(XDI, OFF(cc_op)), cc, 4);
	x64_mi(e, 1, XOP_MOV_MI - 1, 0, xm(XDI, OFF(cc_size)), size, 1);
	x64_rm(e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(cc_dst)));
	if (cc != CC_LOGIC) {
		x64_rm(e, 8, XOP_MOV_ST, XDX, xm(XDI, OFF(cc_src)));
		x64_rm(e, 8, XOP_MOV_ST, XCX, xm(XDI, OFF(cc_src2)));
	}
}

static bool alu_ok(const struct insn *in, unsigned kind, bool mem)
{
	unsigned size = in->opsize;
	if (size != 1 && size != 4 && size != 8)
		return false;
	if (mem && !mem_ok(in))
		return false;
	if (size == 1 && kind < K_RM_IMM && !jit_byte_ok(in, in->reg))
		return false;
	return !(size == 1 && !mem && kind != K_A_IMM && !jit_byte_ok(in, in->rm));
}

static enum jit_result tr_alu(struct jit_tr *t, const struct insn *in, const struct alu *a,
			      unsigned kind)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	bool mem = (in->flags & IF_MEM) && kind != K_A_IMM;
	if (!alu_ok(in, kind, mem) || (a->carry_in && !jit_cond_live(t, JIT_CC_B)))
		return JIT_NO;
	if (a->carry_in)
		x64_rr(e, 1, XOP_SETCC + JIT_CC_B, 0, X11); /* setc r11b: kept */
	struct x64_m rm = mem ? JIT_HOST : jit_greg(in->rm), first, second;
	if (mem) {
		bool w = a->writes && kind != K_R_RM;
		jit_la(t, in);
		jit_tlb(t, size, w ? (s32)offsetof(struct tlb_entry, wtag)
				   : (s32)offsetof(struct tlb_entry, rtag));
	}
	first = kind == K_R_RM ? jit_greg(in->reg) : kind == K_A_IMM ? jit_greg(R_AX) : rm;
	second = kind == K_RM_R ? jit_greg(in->reg) : rm;
	jit_load_zx(e, size, XCX, first);
	if (kind >= K_RM_IMM)
		x64_mov_imm(e, XDX, at_size(in->imm, size));
	else
		jit_load_zx(e, size, XDX, second);
	if (a->carry_in)
		x64_ri(e, 4, 0x0fba, 4, X11, 0, 1);               /* bt r11d, 0: CF back */
	x64_rr(e, size == 8 ? 8 : 4, XOP_MOV_ST, XCX, XAX);          /* mov eax, ecx */
	x64_rr(e, size, (u32)a->digit << 3 | (size == 1 ? 0 : 1), XDX, XAX); /* op */
	record(t, a->cc, size);
	jit_flags_set(t, 0);
	if (a->writes && kind != K_R_RM && mem)
		store(e, size, XAX, JIT_HOST);
	else if (a->writes) /* a register: 32-bit results zero-extended */
		store(e, size == 4 ? 8 : size, XAX, kind == K_R_RM ? jit_greg(in->reg) : first);
	return JIT_OK;
}

/* The ALU operation of in: its row of alus[] and its form, or NULL. */
static const struct alu *alu_of(const struct insn *in, unsigned *kind)
{
	for (unsigned op = 0; op < sizeof(alus) / sizeof(alus[0]); op++)
		for (*kind = 0; *kind < 4; (*kind)++)
			if (alus[op].fn[*kind] && in->fn == alus[op].fn[*kind])
				return &alus[op];
	return NULL;
}

/* in surely becomes native code that reads no flags, cannot leave and
 * records all of them: an ALU operation other than ADC/SBB on registers,
 * or SHL/SHR/SAR of a register by an immediate count other than 0. */
static bool records_all(const struct insn *in)
{
	unsigned kind, mask = in->opsize == 8 ? 63 : 31;
	if ((in->run & RUN_WRAPPED) || (in->flags & IF_MEM))
		return false;
	const struct alu *a = alu_of(in, &kind);
	if (a)
		return !a->carry_in && alu_ok(in, kind, false);
	if (in->fn != op_shl && in->fn != op_shr && in->fn != op_sar)
		return false;
	unsigned c = in->op == 0xd1 ? 1 : in->op == 0xc1 ? (unsigned)in->imm & mask : 0;
	return (in->opsize == 4 || in->opsize == 8) && c != 0;
}

/* A 32-bit result is written whole (zero-extended); into memory, 4 bytes. */
static enum jit_result tr_alu_any(struct jit_tr *t, const struct insn *in)
{
	unsigned kind;
	const struct alu *a = alu_of(in, &kind);
	return a ? tr_alu(t, in, a, kind) : JIT_NO;
}

/* ---- shifts, multiplication, the stack ---- */

/* SHL/SHR/SAR r32/r64 by 1 or an immediate (fast_ops.c, shift_reg()): the
 * record is dst = result, src = count, src2 = operand. A count of 0
 * changes no flags: the exit. */
static enum jit_result tr_shift(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize, digit;
	enum cc_op cc;
	if (in->fn == op_shl)
		digit = 4, cc = CC_SHL;
	else if (in->fn == op_shr)
		digit = 5, cc = CC_SHR;
	else if (in->fn == op_sar)
		digit = 7, cc = CC_SAR;
	else
		return JIT_NO;
	if (size != 4 && size != 8)
		return JIT_NO;
	unsigned mask = size == 8 ? 63u : 31u;
	if (in->op == 0xd3) { /* by CL, 0 after masking: the exit */
		x64_rm(e, 4, XOP_MOV_LD, XCX, jit_greg(R_CX));
		x64_ri(e, 4, XOP_GRP1, 4, XCX, mask, 4);
		jit_exit_if(t, 4);                       /* je */
		x64_rr(e, 4, XOP_MOV_ST, XCX, XDX);      /* the count, for the record */
		jit_load_zx(e, size, XAX, jit_greg(in->rm));
		x64_rr(e, size, 0xd3, digit, XAX);
		jit_load_zx(e, size, XCX, jit_greg(in->rm));     /* the operand, as it was */
		record(t, cc, size);
		jit_flags_set(t, JIT_OF);
		x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->rm));
		return JIT_OK;
	}
	if (in->op != 0xc1 && in->op != 0xd1)
		return JIT_NO;
	unsigned c = (in->op == 0xd1 ? 1u : (unsigned)in->imm) & mask;
	if (c == 0)
		return JIT_NO;
	jit_load_zx(e, size, XCX, jit_greg(in->rm));
	x64_rr(e, size, XOP_MOV_ST, XCX, XAX);
	x64_ri(e, size, XOP_SHIFT_I, digit, XAX, c, 1);
	x64_mov_imm(e, XDX, c);
	record(t, cc, size);
	jit_flags_set(t, c != 1 ? JIT_OF : 0); /* OF: for a count of 1 only */
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->rm));
	return JIT_OK;
}

/* ROL/ROR r32/r64 by 1 or an immediate (cpu_record_rotate()): CF and OF
 * from the result, the other flags those of the lazy op before, whose
 * record stays; after eager flags, the exit. */
static enum jit_result tr_rotate(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	bool left = in->fn == op_rol;
	if ((size != 4 && size != 8) || (in->op != 0xc1 && in->op != 0xd1))
		return JIT_NO;
	unsigned c = (in->op == 0xd1 ? 1u : (unsigned)in->imm) & (size == 8 ? 63u : 31u);
	if (c == 0)
		return JIT_NO;
	x64_rm(e, 4, XOP_MOV_LD, XAX, xm(XDI, OFF(cc_op)));
	x64_ri(e, 4, XOP_GRP1, 7, XAX, CC_EAGER, 4);
	jit_exit_if(t, 4);                                 /* je */
	x64_ri(e, 4, XOP_GRP1, 7, XAX, CC_ROL, 4);
	u8 *rot1 = x64_jcc(e, 4);
	x64_ri(e, 4, XOP_GRP1, 7, XAX, CC_ROR, 4);
	u8 *rot2 = x64_jcc(e, 4);
	x64_rm(e, 1, XOP_MOV_ST - 1, XAX, xm(XDI, OFF(cc_rot_prev)));
	x64_patch(rot1, e->p);
	x64_patch(rot2, e->p);
	jit_load_zx(e, size, XAX, jit_greg(in->rm));
	x64_ri(e, size, XOP_SHIFT_I, left ? 0 : 1, XAX, c, 1);
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->rm));
	x64_mi(e, 4, XOP_MOV_MI, 0, xm(XDI, OFF(cc_op)), left ? CC_ROL : CC_ROR, 4);
	t->cc_now = left ? CC_ROL : CC_ROR; /* cc_size stays the op's before */
	x64_rm(e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(cc_rot)));
	x64_mi(e, 1, XOP_MOV_MI - 1, 0, xm(XDI, OFF(cc_rot_size)), size, 1);
	return JIT_OK;
}

/* SHLX/SHRX/SARX r, r, r (fast_misc.c): the host's shift by CL masks the
 * count the same way; the flags it sets are not the guest's. */
static enum jit_result tr_shiftx(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	unsigned digit = in->fn == op_shlx ? 4 : in->fn == op_shrx ? 5 : 7;
	if ((in->flags & IF_MEM) || in->vex_l || in->vex_v >= 16 || (size != 4 && size != 8))
		return JIT_NO;
	x64_rm(e, 8, XOP_MOV_LD, XCX, jit_greg(in->vex_v));
	jit_load_zx(e, size, XAX, jit_greg(in->rm));
	x64_rr(e, size, 0xd3, digit, XAX);
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->reg));
	return JIT_OK;
}

/* IMUL r, r (0F AF): the truncated product, CF = OF = "did not fit":
 * CC_MUL with src = that. The other flags are undefined on the host. */
static enum jit_result tr_imul(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	if ((in->flags & IF_MEM) || (size != 4 && size != 8))
		return JIT_NO;
	jit_load_zx(e, size, XAX, jit_greg(in->reg));
	x64_rm(e, size, 0x0faf, XAX, jit_greg(in->rm));
	x64_rr(e, 1, XOP_SETCC + 0, 0, XDX);   /* seto dl */
	x64_rr(e, 4, XOP_MOVZX8, XDX, XDX);
	x64_mov_imm(e, XCX, 0);
	record(t, CC_MUL, size);
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->reg));
	return JIT_OK;
}

/* MUL r/m32, r/m64 (F7 /4): rDX:rAX := rAX * r/m; CF = OF = "the high
 * half is not 0" (CC_MUL, src), the other flags undefined on the host. */
static enum jit_result tr_mul(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	unsigned size = in->opsize;
	bool mem = in->flags & IF_MEM;
	if ((size != 4 && size != 8) || (mem && !mem_ok(in)))
		return JIT_NO;
	if (mem) {
		jit_la(t, in);
		jit_tlb(t, size, (s32)offsetof(struct tlb_entry, rtag));
	}
	jit_load_zx(e, size, XAX, jit_greg(R_AX));
	x64_rm(e, size, 0xf7, 4, mem ? JIT_HOST : jit_greg(in->rm)); /* mul */
	x64_rm(e, 8, XOP_MOV_ST, XDX, jit_greg(R_DX));
	x64_rr(e, 1, XOP_SETCC + 2, 0, XDX);                      /* setc dl */
	x64_rr(e, 4, XOP_MOVZX8, XDX, XDX);
	x64_mov_imm(e, XCX, 0);
	record(t, CC_MUL, size);
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(R_AX));
	return JIT_OK;
}

/* INC/DEC r64 (fast_ops.c, incdec64()): CF stays as the op before left
 * it, lazily if that op is one CF can be kept from (cpu_cf_keepable(),
 * which the exit leaves to the handler otherwise). */
static enum jit_result tr_incdec(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	bool inc = in->fn == op_inc_rm;
	if (in->opsize != 8 || (in->flags & IF_MEM))
		return JIT_NO;
	if (t->cc_now < 0) { /* cpu_cf_keepable() and cpu_record_incdec() */
		x64_rm(e, 4, XOP_MOV_LD, XAX, xm(XDI, OFF(cc_op)));
		x64_mov_imm(e, XCX, CC_CF_KEPT | CC_CF_LAZY);
		x64_rr(e, 4, 0x0fa3, XAX, XCX);          /* bt ecx, eax */
		jit_exit_if(t, 3);                       /* jnc */
		x64_mov_imm(e, XCX, CC_CF_KEPT);
		x64_rr(e, 4, 0x0fa3, XAX, XCX);
		u8 *kept = x64_jcc(e, 2);                /* jc */
		x64_rm(e, 1, XOP_MOV_ST - 1, XAX, xm(XDI, OFF(cc_cf_op)));
		x64_rm(e, 4, XOP_MOVZX8, XCX, xm(XDI, OFF(cc_size)));
		x64_rm(e, 1, XOP_MOV_ST - 1, XCX, xm(XDI, OFF(cc_cf_size)));
		x64_patch(kept, e->p);
	} else if (!((1u << t->cc_now) & (CC_CF_KEPT | CC_CF_LAZY))) {
		return JIT_NO; /* the handler makes CF eager first */
	} else if (!((1u << t->cc_now) & CC_CF_KEPT)) { /* known here */
		x64_mi(e, 1, XOP_MOV_MI - 1, 0, xm(XDI, OFF(cc_cf_op)), (u32)t->cc_now, 1);
		x64_mi(e, 1, XOP_MOV_MI - 1, 0, xm(XDI, OFF(cc_cf_size)), t->cc_size_now, 1);
	}
	x64_rm(e, 8, XOP_MOV_LD, XAX, jit_greg(in->rm));
	x64_rr(e, 8, 0xff, inc ? 0 : 1, XAX);            /* inc/dec rax */
	x64_rm(e, 8, XOP_MOV_ST, XAX, jit_greg(in->rm));
	x64_mi(e, 4, XOP_MOV_MI, 0, xm(XDI, OFF(cc_op)), inc ? CC_INC : CC_DEC, 4);
	x64_mi(e, 1, XOP_MOV_MI - 1, 0, xm(XDI, OFF(cc_size)), 8, 1);
	x64_rm(e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(cc_dst)));
	t->cc_now = inc ? CC_INC : CC_DEC;
	t->cc_size_now = 8;
	jit_flags_set(t, JIT_CF);
	return JIT_OK;
}

static enum jit_result translate(struct jit_tr *t)
{
	const struct insn *in = &t->insn[t->k];
	if (in->run & RUN_WRAPPED)
		return JIT_NO; /* not a form the fast handlers take either */
	enum jit_result r;
	if (jit_flow(t, in, &r))
		return r;
	if (in->fn == op_nop || (in->fn == op_xchg_ax_r && in->reg == R_AX)) {
		jit_flags_kept(t);
		return JIT_OK;
	}
	if (in->fn == op_lea)
		return tr_lea(t, in);
	if (in->fn == op_shl || in->fn == op_shr || in->fn == op_sar)
		return (in->flags & IF_MEM) ? JIT_NO : tr_shift(t, in);
	if (in->fn == op_rol || in->fn == op_ror)
		return (in->flags & IF_MEM) ? JIT_NO : tr_rotate(t, in);
	if (in->fn == op_shlx || in->fn == op_shrx || in->fn == op_sarx)
		return tr_shiftx(t, in);
	if (in->fn == op_imul2)
		return tr_imul(t, in);
	if (in->fn == op_mul)
		return tr_mul(t, in);
	if (in->fn == op_inc_rm || in->fn == op_dec_rm)
		return tr_incdec(t, in);
	r = tr_alu_any(t, in);
	if (r != JIT_NO || (in->flags & IF_MEM) == 0)
		return r != JIT_NO ? r : tr_reg_move(t, in);
	return mem_ok(in) ? tr_mem_move(t, in) : JIT_NO;
}

enum jit_result jit_insn(struct jit_tr *t)
{
	enum jit_result r = translate(t);
	if (r == JIT_NO && jit_call_out(t))
		return JIT_OK;
	return r;
}
