/* fast_ops.c: handlers specialized for the hottest 64-bit instruction forms.
 *
 * Each runs inside a block with RIP implicit (cpu.h) and covers only the
 * common case: operands in registers, or in memory through a software-TLB
 * hit at a DS/SS address (segment base 0 in 64-bit mode). Anything else --
 * a TLB miss, a page crossing, a non-canonical address, a shadow-stack
 * mismatch -- goes to exec_wrapped(), the opcode table's handler, before any state
 * changes. A non-canonical address never hits the TLB (its tags are
 * canonical), so the fast paths need no canonical check of their own.
 * Each handler then runs the rest of its block (FAST, fast_ops.h).
 */
#include "fast_ops.h"

#include "cet.h"
#include "ops.h"

/* ---- memory operands: four address forms ---- */

static inline u64 ea_b(const struct cpu *cpu, const struct insn *in)
{
	return cpu->r[in->base] + (u64)(s64)in->disp;
}

static inline u64 ea_bi(const struct cpu *cpu, const struct insn *in)
{
	return cpu->r[in->base] + (cpu->r[in->index] << in->scale) + (u64)(s64)in->disp;
}

static inline u64 ea_i(const struct cpu *cpu, const struct insn *in)
{
	return (cpu->r[in->index] << in->scale) + (u64)(s64)in->disp;
}

static inline u64 ea_rip(const struct cpu *cpu, const struct insn *in)
{
	return insn_next_rip(cpu, in) + (u64)(s64)in->disp;
}

enum { EA_B, EA_BI, EA_I, EA_RIP, EA_NONE };

static unsigned ea_form(const struct insn *in)
{
	if (!(in->flags & IF_MEM) || in->addrsize != 8 ||
	    (in->seg != SEG_DS && in->seg != SEG_SS))
		return EA_NONE;
	if (in->base == REG_RIP)
		return EA_RIP;
	if (in->base < 16)
		return in->index == REG_NONE ? EA_B : EA_BI;
	return in->index == REG_NONE ? EA_NONE : EA_I;
}

static inline u64 sext(u64 v, unsigned size)
{
	unsigned sh = 64 - 8 * size;
	return (u64)((s64)(v << sh) >> sh);
}

/* Loads into a register: MOV r64/r32, MOVZX r32, MOVSX r64, MOVSXD. The
 * value is extended by `ext` from `size` bytes and written whole. */
enum { X_ZERO, X_SIGN };

static inline bool load_to(struct cpu *cpu, const struct insn *in, u64 la, unsigned size,
			   unsigned ext)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (unlikely(!tlb_hit(e->rtag, la, size)))
		return false;
	u64 v = load_le(tlb_ptr(e, la), size);
	cpu->r[in->reg] = ext == X_SIGN ? sext(v, size) : v;
	return true;
}

static inline bool store_from(struct cpu *cpu, u64 la, unsigned size, u64 v)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (unlikely(!tlb_hit(e->wtag, la, size)))
		return false;
	store_le(tlb_ptr(e, la), size, v);
	return true;
}

/* One handler per (operation, address form); the fast path sees the
 * address as `la`. */
#define MEM_HANDLERS(name, fast_path)                                            \
	FAST(op_##name##_b, ({ u64 la = ea_b(cpu, in); fast_path; }))            \
	FAST(op_##name##_bi, ({ u64 la = ea_bi(cpu, in); fast_path; }))          \
	FAST(op_##name##_i, ({ u64 la = ea_i(cpu, in); fast_path; }))            \
	FAST(op_##name##_rip, ({ u64 la = ea_rip(cpu, in); fast_path; }))        \
	static const insn_fn name##_forms[4] = { op_##name##_b, op_##name##_bi,  \
						 op_##name##_i, op_##name##_rip };

MEM_HANDLERS(ld64, load_to(cpu, in, la, 8, X_ZERO))
MEM_HANDLERS(ld32, load_to(cpu, in, la, 4, X_ZERO))
MEM_HANDLERS(ldzx8, load_to(cpu, in, la, 1, X_ZERO))
MEM_HANDLERS(ldzx16, load_to(cpu, in, la, 2, X_ZERO))
MEM_HANDLERS(ldsx8, load_to(cpu, in, la, 1, X_SIGN))
MEM_HANDLERS(ldsx16, load_to(cpu, in, la, 2, X_SIGN))
MEM_HANDLERS(ldsx32, load_to(cpu, in, la, 4, X_SIGN))
MEM_HANDLERS(st64, store_from(cpu, la, 8, cpu->r[in->reg]))
MEM_HANDLERS(st32, store_from(cpu, la, 4, cpu->r[in->reg]))
MEM_HANDLERS(st16, store_from(cpu, la, 2, cpu->r[in->reg]))
MEM_HANDLERS(st8, store_from(cpu, la, 1, cpu->r[in->reg]))
MEM_HANDLERS(sti64, store_from(cpu, la, 8, in->imm))
MEM_HANDLERS(sti32, store_from(cpu, la, 4, in->imm))
MEM_HANDLERS(sti8, store_from(cpu, la, 1, in->imm))

/* A load's destination as the handlers above write it: all 64 bits. */
static insn_fn load_variant(const struct insn *in, unsigned form)
{
	unsigned size = in->opsize;
	if (in->fn == op_mov_r_rm)
		return size == 8 ? ld64_forms[form] : size == 4 ? ld32_forms[form] : NULL;
	if (size != 4 && size != 8)
		return NULL;
	if (in->fn == op_movzx_b)
		return ldzx8_forms[form];
	if (in->fn == op_movzx_w)
		return ldzx16_forms[form];
	if (in->fn == op_movsx_b && size == 8)
		return ldsx8_forms[form];
	if (in->fn == op_movsx_w && size == 8)
		return ldsx16_forms[form];
	if (in->fn == op_movsxd && size == 8)
		return ldsx32_forms[form];
	return NULL;
}

static insn_fn store_variant(const struct insn *in, unsigned form)
{
	unsigned size = in->opsize;
	if (in->fn == op_mov_rm_r) {
		switch (size) {
		case 8: return st64_forms[form];
		case 4: return st32_forms[form];
		case 2: return st16_forms[form];
		default: /* AH..BH need the generic register read */
			return (in->flags & IF_REX) || in->reg < 4 ? st8_forms[form] : NULL;
		}
	}
	if (in->fn == op_mov_rm_imm)
		return size == 8 ? sti64_forms[form] : size == 4 ? sti32_forms[form]
				 : size == 1 ? sti8_forms[form] : NULL;
	return NULL;
}

/* ---- register forms ---- */

static void op_mov_rr64_st(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = cpu->r[in->reg];
	insn_next(cpu, in);
}

static void op_mov_rr32_st(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = (u32)cpu->r[in->reg];
	insn_next(cpu, in);
}

static void op_mov_rr64_ld(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = cpu->r[in->rm];
	insn_next(cpu, in);
}

static void op_mov_rr32_ld(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u32)cpu->r[in->rm];
	insn_next(cpu, in);
}

/* MOV r, imm (B8+r) and MOV r/m, imm (C7 /0, register form). The decoder
 * sign-extends a 32-bit immediate: a 32-bit destination takes its low half. */
static void op_mov_ri64_reg(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = in->imm;
	insn_next(cpu, in);
}

static void op_mov_ri32_reg(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u32)in->imm;
	insn_next(cpu, in);
}

static void op_mov_ri64_rm(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = in->imm;
	insn_next(cpu, in);
}

static void op_mov_ri32_rm(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->rm] = (u32)in->imm;
	insn_next(cpu, in);
}

static void op_movsxd_rr(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = (u64)(s64)(s32)cpu->r[in->rm];
	insn_next(cpu, in);
}

static void op_lea64_b(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = ea_b(cpu, in);
	insn_next(cpu, in);
}

static void op_lea64_bi(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = ea_bi(cpu, in);
	insn_next(cpu, in);
}

static void op_lea64_rip(struct cpu *cpu, const struct insn *in)
{
	cpu->r[in->reg] = ea_rip(cpu, in);
	insn_next(cpu, in);
}

static insn_fn reg_variant(const struct insn *in)
{
	bool q = in->opsize == 8;
	if (in->opsize != 8 && in->opsize != 4)
		return NULL;
	if (in->fn == op_mov_rm_r)
		return q ? op_mov_rr64_st : op_mov_rr32_st;
	if (in->fn == op_mov_r_rm)
		return q ? op_mov_rr64_ld : op_mov_rr32_ld;
	if (in->fn == op_mov_rm_imm)
		return q ? op_mov_ri64_rm : op_mov_ri32_rm;
	if (in->fn == op_movsxd && q)
		return op_movsxd_rr;
	return NULL;
}

/* ---- stack ---- */

static inline bool push64(struct cpu *cpu, u64 v)
{
	u64 sp = cpu->r[R_SP] - 8;
	u8 *p = cpu_stack_host(cpu, sp);
	if (unlikely(!p))
		return false;
	store_le(p, 8, v);
	cpu->r[R_SP] = sp;
	return true;
}

FAST(op_push64_r, push64(cpu, cpu->r[in->reg]))
FAST(op_push64_imm, push64(cpu, in->imm))

static inline bool pop64(struct cpu *cpu, unsigned reg)
{
	u64 sp = cpu->r[R_SP];
	u8 *p = cpu_stack_host(cpu, sp);
	if (unlikely(!p))
		return false;
	u64 v = load_le(p, 8);
	cpu->r[R_SP] = sp + 8;
	cpu->r[reg] = v; /* POP RSP loads the popped value */
	return true;
}

FAST(op_pop64_r, pop64(cpu, in->reg))

/* INC/DEC r64 (FF /0 /1, register form): CF is preserved, lazily unless
 * the op before needs the generic handler's cpu_keep_cf_eager(). */
static inline bool incdec64(struct cpu *cpu, unsigned reg, enum cc_op op)
{
	if (unlikely(!cpu_cf_keepable(cpu)))
		return false;
	u64 r = cpu->r[reg] + (op == CC_INC ? 1 : -1);
	cpu->r[reg] = r;
	cpu_record_incdec(cpu, op, 8, r);
	return true;
}

FAST(op_inc64_r, incdec64(cpu, in->rm, CC_INC))
FAST(op_dec64_r, incdec64(cpu, in->rm, CC_DEC))

/* SHL/SHR/SAR/ROL/ROR r32/r64 by imm8 (C1), by 1 (D1) or by CL (D3), for a
 * masked count other than 0 (which changes no flags: the generic handler). */
enum { SH_L, SH_R, SH_AR, ROT_L, ROT_R };

static inline bool shift_reg(struct cpu *cpu, const struct insn *in, unsigned kind,
			     unsigned size)
{
	unsigned c = in->op == 0xd3 ? (unsigned)cpu->r[R_CX] : in->op == 0xd1 ? 1 : (unsigned)in->imm;
	c &= size == 8 ? 63 : 31;
	if (unlikely(c == 0))
		return false;
	u64 a = size == 8 ? cpu->r[in->rm] : (u32)cpu->r[in->rm], r;
	unsigned w = size * 8;
	static const u8 cc[5] = { CC_SHL, CC_SHR, CC_SAR, CC_ROL, CC_ROR };
	switch (kind) {
	case SH_L: r = a << c; break;
	case SH_R: r = a >> c; break;
	case SH_AR: r = size == 8 ? (u64)((s64)a >> c) : (u64)((s32)a >> c); break;
	case ROT_L: r = (a << c) | (a >> (w - c)); break;
	default: r = (a >> c) | (a << (w - c)); break;
	}
	if (size == 4)
		r = (u32)r;
	cpu->r[in->rm] = r;
	if (kind >= ROT_L)
		cpu_record_rotate(cpu, (enum cc_op)cc[kind], size, r);
	else
		cpu_set_cc(cpu, (enum cc_op)cc[kind], size, r, c, a);
	return true;
}

FAST(op_shl64_r, shift_reg(cpu, in, SH_L, 8))
FAST(op_shr64_r, shift_reg(cpu, in, SH_R, 8))
FAST(op_sar64_r, shift_reg(cpu, in, SH_AR, 8))
FAST(op_shl32_r, shift_reg(cpu, in, SH_L, 4))
FAST(op_shr32_r, shift_reg(cpu, in, SH_R, 4))
FAST(op_sar32_r, shift_reg(cpu, in, SH_AR, 4))
FAST(op_rol64_r, shift_reg(cpu, in, ROT_L, 8))
FAST(op_ror64_r, shift_reg(cpu, in, ROT_R, 8))
FAST(op_rol32_r, shift_reg(cpu, in, ROT_L, 4))
FAST(op_ror32_r, shift_reg(cpu, in, ROT_R, 4))

static insn_fn shift_variant(const struct insn *in)
{
	bool q = in->opsize == 8;
	if ((in->opsize != 8 && in->opsize != 4) || (in->op != 0xc1 && in->op != 0xd1 && in->op != 0xd3))
		return NULL;
	if (in->fn == op_shl)
		return q ? op_shl64_r : op_shl32_r;
	if (in->fn == op_shr)
		return q ? op_shr64_r : op_shr32_r;
	if (in->fn == op_sar)
		return q ? op_sar64_r : op_sar32_r;
	if (in->fn == op_rol)
		return q ? op_rol64_r : op_rol32_r;
	if (in->fn == op_ror)
		return q ? op_ror64_r : op_ror32_r;
	return NULL;
}

/* ---- branches: always write cpu->next_rip (RUN_NEXT) ---- */

static void op_jcc64(struct cpu *cpu, const struct insn *in)
{
	fast_jcc(cpu, in, fast_cond(cpu, in->op & 0xf), false);
}

static void op_jcc64_on(struct cpu *cpu, const struct insn *in)
{
	fast_jcc(cpu, in, fast_cond(cpu, in->op & 0xf), true);
}

static inline bool jmp64(struct cpu *cpu, u64 target)
{
	if (unlikely(cpu_canonical(target) != target))
		return false;
	cpu->next_rip = target;
	return true;
}

FAST_END(op_jmp64, jmp64(cpu, insn_next_rip(cpu, in) + in->imm))

/* CALL with a shadow stack (spec 5.5): both pushes are checked to hit the
 * stack caches or the TLB before either is written, so nothing commits
 * before a fallback. */
static inline bool call64(struct cpu *cpu, const struct insn *in, u64 target, bool shadow)
{
	u64 ret = insn_next_rip(cpu, in), sp = cpu->r[R_SP] - 8;
	u8 *p = cpu_stack_host(cpu, sp);
	if (unlikely(!p || cpu_canonical(target) != target))
		return false;
	if (shadow) {
		u64 ssp = cpu->cet.ssp - 8;
		u8 *s = cpu_shstk_host(cpu, ssp);
		if (unlikely(!s))
			return false;
		store_le(s, 8, ret);
		cpu->cet.ssp = ssp;
	}
	store_le(p, 8, ret);
	cpu->r[R_SP] = sp;
	cpu->next_rip = target;
	return true;
}

/* CALL to the next instruction leaves the shadow stack alone. */
FAST_END(op_call_rel64,
	 call64(cpu, in, insn_next_rip(cpu, in) + in->imm, cpu->sse_cur && in->imm != 0))

/* CALL r64 (FF /2, register form) and JMP r64 (FF /4), then IBT (spec 7.2):
 * WAIT_FOR_ENDBRANCH, left pending for the run loop (cet.h, cet_settle())
 * unless NOTRACK may apply. */
static inline bool indirect(struct cpu *cpu, const struct insn *in, bool ok)
{
	if (ok && unlikely(cpu->ibt_arm)) {
		if (likely(!(in->flags & IF_NOTRACK)))
			cpu->ibt_pending = true;
		else
			cet_indirect_branch(cpu, in);
	}
	return ok;
}

FAST_END(op_call_r64, indirect(cpu, in, call64(cpu, in, cpu->r[in->rm], cpu->sse_cur)))
FAST_END(op_jmp_r64, indirect(cpu, in, jmp64(cpu, cpu->r[in->rm])))

/* RET (C3): the shadow-stack compare (#CP) and the target check (#GP) are
 * the generic handler's business whenever they fail. */
static inline bool ret64(struct cpu *cpu)
{
	u64 sp = cpu->r[R_SP];
	u8 *p = cpu_stack_host(cpu, sp);
	if (unlikely(!p))
		return false;
	u64 target = load_le(p, 8);
	if (unlikely(cpu_canonical(target) != target))
		return false;
	if (cpu->sse_cur) {
		u64 ssp = cpu->cet.ssp;
		u8 *s = cpu_shstk_host(cpu, ssp);
		if (unlikely(!s || load_le(s, 8) != target))
			return false;
		cpu->cet.ssp = ssp + 8;
	}
	cpu->r[R_SP] = sp + 8;
	cpu->next_rip = target;
	return true;
}

FAST_END(op_ret64, ret64(cpu))

/* JMP and CALL rel in a block that goes on at their target (exec.c): the
 * same, then the next instruction of the block, which is the target. (A
 * Jcc that the block goes on past is op_jcc64_on.) */
FAST(op_jmp64_on, jmp64(cpu, insn_next_rip(cpu, in) + in->imm))
FAST(op_call_rel64_on,
     call64(cpu, in, insn_next_rip(cpu, in) + in->imm, cpu->sse_cur && in->imm != 0))

insn_fn fast_ops_through(const struct insn *in)
{
	if (in->exec == op_jcc64)
		return op_jcc64_on;
	return in->exec == op_jmp64 ? op_jmp64_on : in->exec == op_call_rel64 ? op_call_rel64_on : NULL;
}

/* ENDBR with the tracker IDLE and not suppressed (IBT off, or the
 * tracker retired at the block start: exec.c) changes nothing. */
static inline bool endbr_idle(struct cpu *cpu)
{
	return !(*cet_ctl(cpu, cpu->cpl) & (CET_WAIT_ENDBR | CET_SUPPRESS));
}

FAST(op_endbr64, endbr_idle(cpu))

static insn_fn branch_variant(const struct insn *in)
{
	bool mem = in->flags & IF_MEM;
	if (in->fn == op_jcc)
		return op_jcc64;
	if (in->fn == op_jmp_rel)
		return op_jmp64;
	if (in->fn == op_call_rel)
		return op_call_rel64;
	if (in->fn == op_call_rm && !mem)
		return op_call_r64;
	if (in->fn == op_jmp_rm && !mem)
		return op_jmp_r64;
	if (in->fn == op_ret && in->op == 0xc3)
		return op_ret64;
	return NULL;
}

insn_fn fast_ops_variant(const struct insn *in, u8 *run)
{
	unsigned form = ea_form(in);
	insn_fn fn = fast_alu_variant(in, form != EA_NONE);
	if (fn || (fn = fast_misc_variant(in)))
		return fn;
	if (form != EA_NONE) {
		fn = load_variant(in, form);
		if (!fn)
			fn = store_variant(in, form);
		if (!fn && in->fn == op_lea && in->opsize == 8)
			fn = form == EA_B ? op_lea64_b : form == EA_BI ? op_lea64_bi
			   : form == EA_RIP ? op_lea64_rip : NULL;
		return fn;
	}
	if (in->flags & IF_MEM)
		return NULL;
	if ((fn = reg_variant(in)) || (fn = shift_variant(in)))
		return fn;
	if (in->fn == op_mov_r_imm && (in->opsize == 8 || in->opsize == 4))
		return in->opsize == 8 ? op_mov_ri64_reg : op_mov_ri32_reg;
	if (in->fn == op_push_r && in->opsize == 8)
		return op_push64_r;
	if (in->fn == op_push_imm && in->opsize == 8)
		return op_push64_imm;
	if (in->fn == op_pop_r && in->opsize == 8)
		return op_pop64_r;
	if (in->fn == op_endbr)
		return op_endbr64;
	if (in->fn == op_inc_rm && in->opsize == 8)
		return op_inc64_r;
	if (in->fn == op_dec_rm && in->opsize == 8)
		return op_dec64_r;
	if ((fn = branch_variant(in)))
		*run = RUN_NEXT;
	return fn;
}
