/* bitops.c: bit tests and scans: BT BTS BTR BTC, BSF BSR, POPCNT LZCNT
 * TZCNT, ADCX ADOX, MOVBE (SDM Vol. 2). BMI1/BMI2 are in bmi.c; CRC32 is in
 * sse_str.c (SSE4.2). */
#include "alu.h"
#include "ops.h"

/* ---- BT/BTS/BTR/BTC: 0F A3/AB/B3/BB (bit offset in a register),
 * 0F BA /4-/7 ib (offset in imm8) ----
 * CF := the selected bit; ZF is unaffected; OF SF AF PF are undefined and
 * left unchanged. With a memory operand and a register offset, the offset
 * is signed and may address any bit of the string around the operand
 * (SDM Vol. 2 BT, "Bit(BitBase, BitOffset)"): the operand of the same size
 * at EA + size * floor(offset / width) is accessed. */
enum { BT_TEST, BT_SET, BT_RESET, BT_COMP };

static u64 bt_apply(unsigned op, u64 v, u64 bit)
{
	switch (op) {
	case BT_SET: return v | bit;
	case BT_RESET: return v & ~bit;
	case BT_COMP: return v ^ bit;
	default: return v;
	}
}

static void bt_common(struct cpu *cpu, const struct insn *in, unsigned op)
{
	unsigned size = in->opsize, w = size * 8;
	bool imm = in->op == 0xba;
	u64 off = imm ? in->imm & 0xff : alu_get_reg(cpu, in, in->reg, size);
	u64 bit = 1ull << (off & (w - 1)), v;
	if (!(in->flags & IF_MEM)) {
		v = alu_get_reg(cpu, in, in->rm, size);
		if (op != BT_TEST)
			alu_set_reg(cpu, in, in->rm, size, bt_apply(op, v, bit));
	} else {
		u64 ea = cpu_ea(cpu, in);
		if (!imm) {
			s64 index = (s64)alu_sext(off, size) >> __builtin_ctz(w);
			ea = (ea + (u64)index * size) & size_mask(in->addrsize);
		}
		if (op == BT_TEST) {
			v = cpu_read_lin(cpu, cpu_seg_lin(cpu, in->seg, ea, size, false), size);
		} else {
			struct rmw m;
			v = alu_rmw_read_at(cpu, in->seg, ea, size, &m);
			alu_rmw_write(cpu, &m, size, bt_apply(op, v, bit));
		}
	}
	alu_flags_set_some(cpu, X86_EFLAGS_CF, (v & bit) ? X86_EFLAGS_CF : 0);
}

void op_bt(struct cpu *cpu, const struct insn *in) { bt_common(cpu, in, BT_TEST); }
void op_bts(struct cpu *cpu, const struct insn *in) { bt_common(cpu, in, BT_SET); }
void op_btr(struct cpu *cpu, const struct insn *in) { bt_common(cpu, in, BT_RESET); }
void op_btc(struct cpu *cpu, const struct insn *in) { bt_common(cpu, in, BT_COMP); }

/* ---- BSF/BSR (0F BC/BD) ----
 * A zero source sets ZF and leaves the destination (all 64 bits) and the
 * other flags unchanged, as Intel and AMD hardware do. Otherwise ZF := 0
 * and the undefined CF OF SF AF PF follow a logical operation on the
 * result (CF = OF = AF = 0), as Intel hardware does. */
static void bit_scan(struct cpu *cpu, const struct insn *in, bool reverse)
{
	unsigned size = in->opsize;
	u64 v = alu_rm_read(cpu, in, size);
	if (v == 0) {
		alu_flags_set_some(cpu, X86_EFLAGS_ZF, X86_EFLAGS_ZF);
		return;
	}
	u64 r = reverse ? 63u - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
	alu_set_reg(cpu, in, in->reg, size, r);
	alu_flags_set_all(cpu, alu_szp(r, size) & ~X86_EFLAGS_ZF);
}

void op_bsf(struct cpu *cpu, const struct insn *in)
{
	bit_scan(cpu, in, false);
}

void op_bsr(struct cpu *cpu, const struct insn *in)
{
	bit_scan(cpu, in, true);
}

/* ---- LZCNT (F3 0F BD), TZCNT (F3 0F BC) ----
 * CF := source is zero; ZF := result is zero; OF SF AF PF undefined (0). */
static void count_zeros(struct cpu *cpu, const struct insn *in, bool leading)
{
	unsigned size = in->opsize, w = size * 8;
	u64 v = alu_rm_read(cpu, in, size), r;
	if (v == 0)
		r = w;
	else if (leading)
		r = (unsigned)__builtin_clzll(v) - (64 - w);
	else
		r = (unsigned)__builtin_ctzll(v);
	alu_set_reg(cpu, in, in->reg, size, r);
	alu_flags_set_all(cpu, (v == 0 ? X86_EFLAGS_CF : 0) | (r == 0 ? X86_EFLAGS_ZF : 0));
}

void op_lzcnt(struct cpu *cpu, const struct insn *in)
{
	count_zeros(cpu, in, true);
}

void op_tzcnt(struct cpu *cpu, const struct insn *in)
{
	count_zeros(cpu, in, false);
}

/* POPCNT (F3 0F B8): OF SF ZF AF CF PF := 0, then ZF := source is zero. */
void op_popcnt(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	u64 v = alu_rm_read(cpu, in, size);
	alu_set_reg(cpu, in, in->reg, size, (u64)__builtin_popcountll(v));
	alu_flags_set_all(cpu, v == 0 ? X86_EFLAGS_ZF : 0);
}

/* ---- ADCX (66 0F38 F6) / ADOX (F3 0F38 F6): reg += r/m + carry, where
 * the carry in and out is CF (ADCX) or OF (ADOX); no other flag changes. */
static void add_carry(struct cpu *cpu, const struct insn *in, u64 flag)
{
	unsigned size = in->opsize;
	u64 b = alu_rm_read(cpu, in, size), a = alu_get_reg(cpu, in, in->reg, size);
	cpu_flags_materialize(cpu);
	u64 c = (cpu->eflags & flag) ? 1 : 0;
	u64 r = (a + b + c) & size_mask(size);
	bool out = c ? r <= a : r < a;
	alu_set_reg(cpu, in, in->reg, size, r);
	cpu->eflags = (cpu->eflags & ~flag) | (out ? flag : 0);
}

void op_adcx(struct cpu *cpu, const struct insn *in)
{
	add_carry(cpu, in, X86_EFLAGS_CF);
}

void op_adox(struct cpu *cpu, const struct insn *in)
{
	add_carry(cpu, in, X86_EFLAGS_OF);
}

/* ---- MOVBE (0F38 F0 load / F1 store, memory only): byte-swapping move ---- */
static u64 swap_bytes(u64 v, unsigned size)
{
	switch (size) {
	case 2: return __builtin_bswap16((u16)v);
	case 4: return __builtin_bswap32((u32)v);
	default: return __builtin_bswap64(v);
	}
}

void op_movbe_load(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	alu_set_reg(cpu, in, in->reg, size, swap_bytes(cpu_mem_read(cpu, in, size), size));
}

void op_movbe_store(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	cpu_mem_write(cpu, in, size, swap_bytes(alu_get_reg(cpu, in, in->reg, size), size));
}
