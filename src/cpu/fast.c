/* fast.c: which handler the run loop calls for a decoded instruction.
 *
 * The decoder picks a generic handler from the opcode table. In 64-bit
 * code, fast_variant() swaps in a handler specialized for the operand form
 * when one exists (fast_ops.c), or lets a generic handler that never looks
 * at RIP run without the wrapper that sets cpu->rip (exec.c): op_direct. Specialized
 * handlers have exactly the generic one's semantics: whatever their fast
 * path does not cover (a software-TLB miss, a non-canonical address, an
 * odd operand) goes to the generic handler, untouched.
 */
#include "fast.h"

#include "fast_ops.h"
#include "ops.h"

/* Opcode-table handlers that neither read cpu->rip or cpu->next_rip nor
 * write next_rip (their faults and slow memory paths sync RIP; cpu.h):
 * they run with RIP implicit unless an operand is RIP-relative. */
static const insn_fn rip_free[] = {
	op_add_rm_r, op_add_r_rm, op_add_a_imm, op_add_rm_imm,
	op_or_rm_r, op_or_r_rm, op_or_a_imm, op_or_rm_imm,
	op_adc_rm_r, op_adc_r_rm, op_adc_a_imm, op_adc_rm_imm,
	op_sbb_rm_r, op_sbb_r_rm, op_sbb_a_imm, op_sbb_rm_imm,
	op_and_rm_r, op_and_r_rm, op_and_a_imm, op_and_rm_imm,
	op_sub_rm_r, op_sub_r_rm, op_sub_a_imm, op_sub_rm_imm,
	op_xor_rm_r, op_xor_r_rm, op_xor_a_imm, op_xor_rm_imm,
	op_cmp_rm_r, op_cmp_r_rm, op_cmp_a_imm, op_cmp_rm_imm,
	op_test_rm_r, op_test_a_imm, op_test_rm_imm,
	op_inc_rm, op_dec_rm, op_neg, op_not, op_xadd, op_cmpxchg,
	op_setcc, op_cmovcc, op_bswap,
	op_mul, op_imul1, op_imul2, op_imul3, op_div, op_idiv,
	op_shl, op_shr, op_sar, op_rol, op_ror, op_rcl, op_rcr, op_shld, op_shrd,
	op_bt, op_bts, op_btr, op_btc, op_bsf, op_bsr, op_tzcnt, op_lzcnt, op_popcnt,
	op_andn, op_bextr, op_blsr, op_blsmsk, op_blsi, op_bzhi, op_pdep, op_pext,
	op_shlx, op_shrx, op_sarx, op_rorx, op_mulx,
	op_mov_r_rm, op_mov_rm_r, op_mov_r_imm, op_mov_rm_imm,
	op_movzx_b, op_movzx_w, op_movsx_b, op_movsx_w, op_movsxd, op_lea,
	op_xchg_rm_r, op_xchg_ax_r, op_cbw, op_cwd,
	op_push_r, op_pop_r, op_push_imm, op_push_rm, op_leave,
	op_clc, op_stc, op_cmc, op_cld, op_std, op_lahf, op_nop, op_endbr,
};

/* The exec handler for a rip_free handler. */
static void op_direct(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in;
	in->fn(cpu, in);
	insn_next(cpu, in);
}

static bool is_rip_free(const struct insn *in)
{
	if (in->base == REG_RIP)
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(rip_free); i++)
		if (in->fn == rip_free[i])
			return true;
	return false;
}

bool fast_can_go_on(const struct insn *in)
{
	return fast_ops_through(in) != NULL;
}

void fast_after(const struct insn *prev, struct insn *in, unsigned code_size, bool goes_on)
{
	if (code_size != 8)
		return;
	insn_fn fn = prev ? fast_jcc_after(prev, in, goes_on) : NULL;
	if (!fn && goes_on)
		fn = fast_ops_through(in);
	if (fn)
		in->exec = fn; /* in->run is already RUN_NEXT */
}

bool fast_variant(struct insn *in, unsigned code_size)
{
	if (code_size != 8)
		return false;
	u8 run = 0;
	insn_fn fn = fast_ops_variant(in, &run);
	if (!fn && is_rip_free(in))
		fn = op_direct;
	if (!fn)
		return false;
	in->exec = fn;
	in->run = run;
	return true;
}
