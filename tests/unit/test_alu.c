/* test_alu.c: ALU, INC/DEC/NEG/NOT/TEST, XADD/CMPXCHG, SETcc/CMOVcc/BSWAP,
 * flag instructions, shifts and rotates, multiply and divide, and the
 * 32-bit-only instructions (INC/DEC 40-4F, DAA..AAD), each checked against
 * the host CPU on edge and random inputs for every operand size.
 * Flags the SDM leaves undefined are excluded from the comparison. */
#include "test_alu.h"

#define N_CASES 3000

static const unsigned sizes[4] = { 1, 2, 4, 8 };

/* Immediate bytes of an Iz operand. */
static unsigned iz_bytes(unsigned size)
{
	return size == 1 ? 1 : size == 2 ? 2 : 4;
}

/* ---- ADD OR ADC SBB AND SUB XOR CMP in all five forms ---- */

static struct enc alu_form(unsigned op, unsigned size, unsigned form, unsigned reg, unsigned rm,
			   bool rex, u64 imm)
{
	u8 b = (u8)(op * 8), w = size == 1 ? 0 : 1;
	switch (form) {
	case 0: return enc_rr(size, 0, 0, b | w, reg, rm, rex);
	case 1: return enc_rr(size, 0, 0, b | 2 | w, reg, rm, rex);
	case 2: return enc_gen(size, 0, 0, b | 4 | w, 0, -1, false, imm, iz_bytes(size));
	case 3: return enc_gen(size, 0, 0, 0x80 | w, op, (int)rm, rex, imm, iz_bytes(size));
	default: return enc_gen(size, 0, 0, size == 1 ? 0x80 : 0x83, op, (int)rm, rex, imm, 1);
	}
}

static void test_alu_ops(void)
{
	static const char *names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
	for (unsigned op = 0; op < 8; op++) {
		bool logic = op == 1 || op == 4 || op == 6;
		u64 mask = logic ? FL_COMPARED & ~X86_EFLAGS_AF : FL_COMPARED;
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(names[op], size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				unsigned reg = rnd_reg(size, rex), rm = rnd_reg(size, rex);
				rnd_state(&s);
				set_opnd(&s, rm, size, rex, rnd_val(size));
				set_opnd(&s, reg, size, rex, rnd_val(size));
				struct enc e = alu_form(op, size, i % 5, reg, rm, rex, rnd_val(4));
				check_insn(e.b, e.n, &s, mask);
			}
			group_end();
		}
	}
}

/* 82 /n is 80 /n outside 64-bit mode and #UD in it. */
static void test_alu_82(void)
{
	u8 code[] = { 0x82, 0xc0, 0x01 };
	struct xs s;
	group_begin("82 group #UD in 64-bit mode", 0);
	rnd_state(&s);
	check_insn(code, sizeof(code), &s, FL_COMPARED);
	group_end();
}

/* ---- TEST, INC, DEC, NEG, NOT ---- */

struct unary {
	const char *name;
	u8 op8, opv;
	unsigned ext;
	unsigned imm; /* 0: none, 1: Iz by size */
	u64 mask;
};

static void test_unary(void)
{
	static const struct unary t[] = {
		{ "test r/m,imm", 0xf6, 0xf7, 0, 1, FL_COMPARED & ~X86_EFLAGS_AF },
		{ "test r/m,imm (/1)", 0xf6, 0xf7, 1, 1, FL_COMPARED & ~X86_EFLAGS_AF },
		{ "not", 0xf6, 0xf7, 2, 0, FL_COMPARED },
		{ "neg", 0xf6, 0xf7, 3, 0, FL_COMPARED },
		{ "inc", 0xfe, 0xff, 0, 0, FL_COMPARED },
		{ "dec", 0xfe, 0xff, 1, 0, FL_COMPARED },
	};
	for (unsigned k = 0; k < ARRAY_SIZE(t); k++)
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(t[k].name, size);
			for (unsigned i = 0; i < N_CASES / 2; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				unsigned rm = rnd_reg(size, rex);
				rnd_state(&s);
				set_opnd(&s, rm, size, rex, rnd_val(size));
				struct enc e = enc_gen(size, 0, 0, size == 1 ? t[k].op8 : t[k].opv,
						       t[k].ext, (int)rm, rex, rnd_val(4),
						       t[k].imm ? iz_bytes(size) : 0);
				check_insn(e.b, e.n, &s, t[k].mask);
			}
			group_end();
		}
}

/* TEST r/m,r (84/85) and TEST AL/eAX,imm (A8/A9). */
static void test_test(void)
{
	for (unsigned si = 0; si < 4; si++) {
		unsigned size = sizes[si];
		group_begin("test r/m,r + a,imm", size);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			bool rex = size == 1 && (rnd() & 1);
			unsigned reg = rnd_reg(size, rex), rm = rnd_reg(size, rex);
			struct enc e;
			rnd_state(&s);
			set_opnd(&s, rm, size, rex, rnd_val(size));
			set_opnd(&s, reg, size, rex, rnd_val(size));
			if (i & 1)
				e = enc_rr(size, 0, 0, size == 1 ? 0x84 : 0x85, reg, rm, rex);
			else
				e = enc_gen(size, 0, 0, size == 1 ? 0xa8 : 0xa9, 0, -1, false,
					    rnd_val(4), iz_bytes(size));
			check_insn(e.b, e.n, &s, FL_COMPARED & ~X86_EFLAGS_AF);
		}
		group_end();
	}
}

/* ---- XADD, CMPXCHG (register forms; memory forms in test_alu_mem.c) ---- */

static void test_xadd_cmpxchg(void)
{
	for (unsigned k = 0; k < 2; k++)
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(k ? "cmpxchg" : "xadd", size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				unsigned reg = rnd_reg(size, rex), rm = rnd_reg(size, rex);
				rnd_state(&s);
				set_opnd(&s, rm, size, rex, rnd_val(size));
				set_opnd(&s, reg, size, rex, rnd_val(size));
				if (k && (i & 1)) /* make the comparison succeed */
					s.r[R_AX] = (s.r[R_AX] & ~mask_of(size)) |
						    ((rm >= 4 && rm < 8 && size == 1 && !rex
							      ? s.r[rm - 4] >> 8
							      : s.r[rm]) &
						     mask_of(size));
				u8 op = (u8)((k ? 0xb0 : 0xc0) | (size == 1 ? 0 : 1));
				struct enc e = enc_rr(size, 0, 1, op, reg, rm, rex);
				check_insn(e.b, e.n, &s, FL_COMPARED);
			}
			group_end();
		}
}

/* ---- SETcc, CMOVcc, BSWAP ---- */

static void test_setcc_cmov(void)
{
	group_begin("setcc (all 16 conditions)", 1);
	for (unsigned i = 0; i < N_CASES; i++) {
		struct xs s;
		bool rex = rnd() & 1;
		rnd_state(&s);
		struct enc e = enc_rr(1, 0, 1, (u8)(0x90 + i % 16), 0, rnd_reg(1, rex), rex);
		check_insn(e.b, e.n, &s, FL_COMPARED);
	}
	group_end();
	for (unsigned si = 1; si < 4; si++) {
		unsigned size = sizes[si];
		group_begin("cmovcc (all 16 conditions)", size);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			rnd_state(&s);
			struct enc e = enc_rr(size, 0, 1, (u8)(0x40 + i % 16), rnd_reg(size, false),
					      rnd_reg(size, false), false);
			check_insn(e.b, e.n, &s, FL_COMPARED);
		}
		group_end();
	}
	for (unsigned si = 2; si < 4; si++) {
		unsigned size = sizes[si];
		group_begin("bswap", size);
		for (unsigned i = 0; i < 200; i++) {
			struct xs s;
			unsigned r = rnd_reg(size, false);
			rnd_state(&s);
			struct enc e = enc_gen(size, 0, 1, (u8)(0xc8 + (r & 7)), 0, -1, r >= 8, 0, 0);
			if (r >= 8)
				e.b[e.n - 3] |= 1; /* REX.B */
			check_insn(e.b, e.n, &s, FL_COMPARED);
		}
		group_end();
	}
}

/* ---- CLC STC CMC CLD STD LAHF SAHF ---- */

static void test_flag_ops(void)
{
	static const struct {
		const char *name;
		u8 op;
	} t[] = { { "clc", 0xf8 }, { "stc", 0xf9 }, { "cmc", 0xf5 }, { "cld", 0xfc },
		  { "std", 0xfd }, { "lahf", 0x9f }, { "sahf", 0x9e } };
	for (unsigned k = 0; k < ARRAY_SIZE(t); k++) {
		if (t[k].op >= 0x9e && t[k].op <= 0x9f && !HOST_LAHF) {
			report_skip("%s (host lacks LAHF-SAHF in 64-bit mode)", t[k].name);
			continue;
		}
		group_begin(t[k].name, 0);
		for (unsigned i = 0; i < 200; i++) {
			struct xs s;
			rnd_state(&s);
			s.fl |= rnd() & X86_EFLAGS_DF;
			check_insn(&t[k].op, 1, &s, FL_COMPARED);
		}
		group_end();
	}
}

/* ---- shifts and rotates ---- */

/* Flags the SDM defines after a group-2 operation (ext = ModRM.reg) of a
 * `size`-byte operand by raw count `count`. */
static u64 shift_mask(unsigned ext, unsigned size, unsigned count)
{
	unsigned w = size * 8, c = count & (size == 8 ? 63 : 31);
	if (c == 0)
		return FL_COMPARED; /* nothing changes */
	if (ext < 4) /* rotates: CF; OF only for 1; the others unaffected */
		return (FL_COMPARED & ~FL_OF) | (c == 1 ? FL_OF : 0);
	u64 m = FL_COMPARED & ~X86_EFLAGS_AF;
	if (c != 1)
		m &= ~FL_OF;
	if (c >= w && ext != 7)
		m &= ~FL_CF; /* SHL/SHR by the width or more */
	return m;
}

static u8 rnd_count(unsigned size)
{
	static const u8 edge[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
	(void)size;
	return (rnd() & 1) ? edge[rnd() % ARRAY_SIZE(edge)] : (u8)rnd();
}

static void test_shifts(void)
{
	static const char *names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };
	for (unsigned ext = 0; ext < 8; ext++)
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(names[ext], size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				unsigned rm = rnd_reg(size, rex), form = i % 3, count;
				u8 w = size == 1 ? 0 : 1, cnt = rnd_count(size);
				struct enc e;
				rnd_state(&s);
				set_opnd(&s, rm, size, rex, rnd_val(size));
				if (form == 0) {
					e = enc_gen(size, 0, 0, 0xd0 | w, ext, (int)rm, rex, 0, 0);
					count = 1;
				} else if (form == 1) {
					s.r[R_CX] = (s.r[R_CX] & ~0xffull) | cnt;
					e = enc_gen(size, 0, 0, 0xd2 | w, ext, (int)rm, rex, 0, 0);
					count = (u8)s.r[R_CX];
				} else {
					e = enc_gen(size, 0, 0, 0xc0 | w, ext, (int)rm, rex, cnt, 1);
					count = cnt;
				}
				check_insn(e.b, e.n, &s, shift_mask(ext, size, count));
			}
			group_end();
		}
}

static void test_double_shifts(void)
{
	for (unsigned k = 0; k < 2; k++)
		for (unsigned si = 1; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(k ? "shrd" : "shld", size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
				u8 cnt = rnd_count(size), base = k ? 0xac : 0xa4;
				struct enc e;
				rnd_state(&s);
				s.r[rm] = rnd_val(size);
				s.r[reg] = rnd_val(size);
				if (i & 1) {
					s.r[R_CX] = (s.r[R_CX] & ~0xffull) | cnt;
					e = enc_rr(size, 0, 1, base | 1, reg, rm, false);
				} else {
					e = enc_gen(size, 0, 1, base, reg, (int)rm, false, cnt, 1);
				}
				unsigned c = (i & 1 ? (u8)s.r[R_CX] : cnt) & (size == 8 ? 63 : 31);
				if (c > size * 8)
					continue; /* result and flags undefined */
				u64 m = FL_COMPARED & ~X86_EFLAGS_AF;
				if (c > 1)
					m &= ~FL_OF;
				check_insn(e.b, e.n, &s, m);
			}
			group_end();
		}
}

/* ---- MUL IMUL DIV IDIV ---- */

static void test_mul(void)
{
	static const char *names[4] = { "mul", "imul r/m", "div", "idiv" };
	for (unsigned k = 0; k < 4; k++)
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(names[k], size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				unsigned rm = rnd_reg(size, rex);
				rnd_state(&s);
				s.r[R_AX] = rnd_val(size);
				s.r[R_DX] = (i & 3) == 0 ? rnd_val(size) : rnd() % 3;
				if (k == 3 && (i & 3) == 1)
					s.r[R_DX] = ~0ull; /* negative dividends */
				set_opnd(&s, rm, size, rex, rnd_val(size));
				struct enc e = enc_gen(size, 0, 0, size == 1 ? 0xf6 : 0xf7, 4 + k,
						       (int)rm, rex, 0, 0);
				check_insn(e.b, e.n, &s, k < 2 ? FL_CF | FL_OF | X86_EFLAGS_DF : X86_EFLAGS_DF);
			}
			group_end();
		}
	for (unsigned si = 1; si < 4; si++) {
		unsigned size = sizes[si];
		group_begin("imul r,r/m + r,r/m,imm", size);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
			struct enc e;
			rnd_state(&s);
			s.r[reg] = rnd_val(size);
			s.r[rm] = rnd_val(size);
			if (i % 3 == 0)
				e = enc_rr(size, 0, 1, 0xaf, reg, rm, false);
			else if (i % 3 == 1)
				e = enc_gen(size, 0, 0, 0x69, reg, (int)rm, false, rnd_val(4),
					    iz_bytes(size));
			else
				e = enc_gen(size, 0, 0, 0x6b, reg, (int)rm, false, rnd_val(1), 1);
			check_insn(e.b, e.n, &s, FL_CF | FL_OF | X86_EFLAGS_DF);
		}
		group_end();
	}
}

/* Divide-error corner cases: 0 divisor, quotient overflow, INT_MIN / -1. */
static void test_div_faults(void)
{
	group_begin("div/idiv #DE corners", 0);
	for (unsigned si = 0; si < 4; si++) {
		unsigned size = sizes[si];
		u64 m = mask_of(size), sb = 1ull << (size * 8 - 1);
		const u64 cases[][3] = { /* ax, dx, divisor */
			{ 5, 0, 0 }, { 0, 1, 1 }, { 0, sb >> 1, 1 }, { 0, m, m },
			{ size == 1 ? 0x8000 : 0, size == 1 ? 0 : sb, m },
			{ size == 1 ? 0xff80 : sb, size == 1 ? 0 : m, m },
			{ 7, 0, m }, { 0, 0, 1 }, { m, m >> 1, m },
		};
		for (unsigned c = 0; c < ARRAY_SIZE(cases); c++)
			for (unsigned k = 6; k < 8; k++) {
				struct xs s;
				rnd_state(&s);
				s.r[R_AX] = cases[c][0];
				s.r[R_DX] = cases[c][1];
				s.r[R_BX] = cases[c][2];
				struct enc e = enc_gen(size, 0, 0, size == 1 ? 0xf6 : 0xf7, k, R_BX,
						       false, 0, 0);
				check_insn(e.b, e.n, &s, X86_EFLAGS_DF);
			}
	}
	group_end();
}

/* ---- 32-bit mode only: INC/DEC 40-4F, DAA DAS AAA AAS AAM AAD ---- */

/* Run in compatibility mode on the host, 32-bit protected mode in the
 * interpreter; compare EAX..EDI (but ESP) and the masked flags. */
static void check32(const u8 *code, unsigned len, const struct xs *in, u64 mask)
{
	struct xs h = *in, e = *in;
	int hr = host_run32(code, len, &h);
	emu_mode32();
	int er = emu_run_mode(code, len, &e, 4);
	emu_reset();
	for (int r = 0; r < 16; r++) {
		h.r[r] = r < 8 && r != R_SP ? (u32)h.r[r] : 0;
		e.r[r] = r < 8 && r != R_SP ? (u32)e.r[r] : 0;
	}
	compare(code, len, in, hr, &h, er, &e, mask);
}

static void test_mode32(void)
{
	if (!host_has_compat()) {
		report_skip("32-bit-only instructions (host has no compatibility mode)");
		return;
	}
	static const struct {
		const char *name;
		u8 op;
		u64 mask;
	} bcd[] = {
		{ "daa", 0x27, FL_CF | X86_EFLAGS_AF | FL_SZP },
		{ "das", 0x2f, FL_CF | X86_EFLAGS_AF | FL_SZP },
		{ "aaa", 0x37, FL_CF | X86_EFLAGS_AF },
		{ "aas", 0x3f, FL_CF | X86_EFLAGS_AF },
	};
	for (unsigned k = 0; k < ARRAY_SIZE(bcd); k++) {
		group_begin(bcd[k].name, 0);
		for (unsigned v = 0; v < 0x400; v++) { /* every AL x CF x AF */
			struct xs s;
			rnd_state(&s);
			s.r[R_AX] = (s.r[R_AX] & ~0xffull) | (v & 0xff);
			s.fl = (s.fl & ~(FL_CF | X86_EFLAGS_AF)) | (v & 0x100 ? FL_CF : 0) |
			       (v & 0x200 ? X86_EFLAGS_AF : 0);
			check32(&bcd[k].op, 1, &s, bcd[k].mask);
		}
		group_end();
	}
	group_begin("aam/aad", 0);
	for (unsigned i = 0; i < 4000; i++) {
		struct xs s;
		u8 code[2] = { (u8)(i & 1 ? 0xd5 : 0xd4), (u8)(i % 7 == 0 ? 10 : rnd()) };
		if (i == 2)
			code[1] = 0; /* AAM 0: #DE */
		rnd_state(&s);
		check32(code, 2, &s, FL_SZP);
	}
	group_end();
	for (unsigned size = 2; size <= 4; size += 2) {
		group_begin("inc/dec 40-4f", size);
		for (unsigned i = 0; i < 1000; i++) {
			struct xs s;
			u8 code[2] = { 0x66, (u8)(0x40 + (rnd() % 16)) };
			if ((code[1] & 7) == R_SP)
				continue;
			rnd_state(&s);
			for (int r = 0; r < 8; r++)
				s.r[r] = rnd_val(size);
			check32(size == 2 ? code : code + 1, size == 2 ? 2 : 1, &s, FL_COMPARED);
		}
		group_end();
	}
}

int main(void)
{
	harness_init();
	for (int fast = 0; fast < 2; fast++) {
		T.fast = fast;
		test_alu_ops();
		test_alu_82();
		test_unary();
		test_test();
		test_xadd_cmpxchg();
		test_setcc_cmov();
		test_flag_ops();
		test_shifts();
		test_double_shifts();
		test_mul();
		test_div_faults();
		test_mode32();
	}
	return 0;
}
