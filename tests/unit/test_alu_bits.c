/* test_alu_bits.c: bit instructions against the host CPU: BT BTS BTR BTC,
 * BSF BSR, POPCNT LZCNT TZCNT, ADCX ADOX, CRC32, BMI1 (ANDN BEXTR BLSI
 * BLSMSK BLSR), BMI2 (BZHI PDEP PEXT MULX SARX SHLX SHRX RORX), register
 * forms, every operand size; memory forms are in test_alu_mem.c. */
#include "test_alu.h"

#define N_CASES 3000

static const unsigned sizes[4] = { 1, 2, 4, 8 };

/* ---- BT family ---- */

static void test_bt(void)
{
	static const char *names[4] = { "bt", "bts", "btr", "btc" };
	static const u8 rform[4] = { 0xa3, 0xab, 0xb3, 0xbb };
	for (unsigned k = 0; k < 4; k++)
		for (unsigned si = 1; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(names[k], size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
				struct enc e;
				rnd_state(&s);
				s.r[rm] = rnd_val(size);
				s.r[reg] = rnd() % 200;
				if (i & 1)
					e = enc_rr(size, 0, 1, rform[k], reg, rm, false);
				else
					e = enc_gen(size, 0, 1, 0xba, 4 + k, (int)rm, false, rnd(), 1);
				check_insn(e.b, e.n, &s, FL_CF | FL_ZF | X86_EFLAGS_DF);
			}
			group_end();
		}
}

/* ---- BSF BSR POPCNT LZCNT TZCNT ---- */

static void test_scans(void)
{
	const struct {
		const char *name;
		u8 mand, op;
		u64 mask;
		bool host;
	} t[] = {
		{ "bsf", 0, 0xbc, FL_ZF, true },
		{ "bsr", 0, 0xbd, FL_ZF, true },
		{ "tzcnt", 0xf3, 0xbc, FL_ZF | FL_CF, HOST_BMI1 },
		{ "lzcnt", 0xf3, 0xbd, FL_ZF | FL_CF, HOST_LZCNT },
		{ "popcnt", 0xf3, 0xb8, FL_ARITH, HOST_POPCNT },
	};
	for (unsigned k = 0; k < ARRAY_SIZE(t); k++)
		for (unsigned si = 1; si < 4; si++) {
			if (!t[k].host) {
				report_skip("%s (host CPU lacks it)", t[k].name);
				break;
			}
			unsigned size = sizes[si];
			group_begin(t[k].name, size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
				rnd_state(&s);
				s.r[rm] = rnd_val(size);
				struct enc e = enc_rr(size, t[k].mand, 1, t[k].op, reg, rm, false);
				check_insn(e.b, e.n, &s, t[k].mask | X86_EFLAGS_DF);
			}
			group_end();
		}
}

/* ---- ADCX ADOX CRC32 ---- */

static void test_adx_crc(void)
{
	if (!HOST_ADX)
		report_skip("adcx/adox (host CPU lacks ADX)");
	for (unsigned k = 0; k < (HOST_ADX ? 2u : 0u); k++)
		for (unsigned size = 4; size <= 8; size += 4) {
			group_begin(k ? "adox" : "adcx", size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
				rnd_state(&s);
				s.r[rm] = rnd_val(size);
				s.r[reg] = rnd_val(size);
				struct enc e = enc_rr(size, k ? 0xf3 : 0x66, 2, 0xf6, reg, rm, false);
				check_insn(e.b, e.n, &s, FL_COMPARED);
			}
			group_end();
		}
	if (!HOST_SSE42)
		report_skip("crc32 (host CPU lacks SSE4.2)");
	for (unsigned si = 0; si < (HOST_SSE42 ? 4u : 0u); si++) {
		unsigned size = sizes[si];
		group_begin("crc32", size);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			bool rex = size == 1 && (rnd() & 1);
			unsigned reg = rnd_reg(4, false), rm = rnd_reg(size, rex);
			if (size == 1 && !rex && reg >= 8)
				reg &= 7; /* no REX: rm 4..7 must stay AH..BH */
			if (reg == R_SP)
				continue;
			rnd_state(&s);
			set_opnd(&s, rm, size, rex, rnd_val(size));
			struct enc e = enc_rr(size, 0xf2, 2, size == 1 ? 0xf0 : 0xf1, reg, rm, rex);
			if (size == 1 && (i & 2)) { /* CRC32 r64, r/m8: REX.W */
				e = enc_rr(8, 0xf2, 2, 0xf0, reg, rm, false);
				if (rm >= 4 && rm < 8)
					continue;
			}
			check_insn(e.b, e.n, &s, FL_COMPARED);
		}
		group_end();
	}
}

/* ---- BMI1 / BMI2 (VEX) ---- */

struct vex_test {
	const char *name;
	bool bmi2;
	unsigned map, pp;
	u8 op;
	int ext;        /* ModRM.reg opcode extension (then vvvv is the destination), or -1 */
	unsigned imm;   /* bytes of immediate */
	u64 mask;       /* defined flags */
	int ctl;        /* vvvv holds a control value: 1 BEXTR, 2 index/count */
};

static u64 vex_control(int kind, unsigned size)
{
	if (kind == 1) /* BEXTR: start in 7:0, length in 15:8 */
		return (rnd() & ~0xffffull) | (rnd() % (size * 8 + 8)) | (rnd() % (size * 8 + 8)) << 8 |
		       ((rnd() & 7) == 0 ? rnd() & 0xffff : 0);
	if (kind == 2)
		return (rnd() & 1) ? rnd() : (rnd() & ~0xffull) | (rnd() % (size * 8 + 8));
	return rnd_val(size);
}

static void test_vex_one(const struct vex_test *t, unsigned size)
{
	group_begin(t->name, size);
	for (unsigned i = 0; i < N_CASES; i++) {
		struct xs s;
		unsigned reg = rnd_reg(size, false), rm = rnd_reg(size, false);
		unsigned v = rnd_reg(size, false);
		rnd_state(&s);
		s.r[rm] = rnd_val(size);
		s.r[v] = vex_control(t->ctl, size);
		s.r[R_DX] = (i & 1) ? rnd_val(size) : s.r[R_DX];
		bool l = i % 97 == 0; /* VEX.L = 1: #UD */
		struct enc e = enc_vex(t->map, t->pp, size == 8, t->imm ? 0 : v, t->op,
				       t->ext >= 0 ? (unsigned)t->ext : reg, rm, l);
		enc_imm(&e, rnd(), t->imm);
		check_insn(e.b, e.n, &s, t->mask | X86_EFLAGS_DF);
	}
	group_end();
}

static void test_bmi(void)
{
	static const struct vex_test t[] = {
		{ "andn", false, 2, 0, 0xf2, -1, 0, X86_EFLAGS_SF | FL_ZF | FL_CF | FL_OF, 0 },
		{ "bextr", false, 2, 0, 0xf7, -1, 0, FL_ZF | FL_CF | FL_OF, 1 },
		{ "blsr", false, 2, 0, 0xf3, 1, 0, FL_ZF | X86_EFLAGS_SF | FL_CF | FL_OF, 0 },
		{ "blsmsk", false, 2, 0, 0xf3, 2, 0, FL_ZF | X86_EFLAGS_SF | FL_CF | FL_OF, 0 },
		{ "blsi", false, 2, 0, 0xf3, 3, 0, FL_ZF | X86_EFLAGS_SF | FL_CF | FL_OF, 0 },
		{ "bzhi", true, 2, 0, 0xf5, -1, 0, FL_ZF | X86_EFLAGS_SF | FL_CF | FL_OF, 2 },
		{ "pext", true, 2, 2, 0xf5, -1, 0, FL_ARITH, 0 },
		{ "pdep", true, 2, 3, 0xf5, -1, 0, FL_ARITH, 0 },
		{ "mulx", true, 2, 3, 0xf6, -1, 0, FL_ARITH, 0 },
		{ "shlx", true, 2, 1, 0xf7, -1, 0, FL_ARITH, 2 },
		{ "sarx", true, 2, 2, 0xf7, -1, 0, FL_ARITH, 2 },
		{ "shrx", true, 2, 3, 0xf7, -1, 0, FL_ARITH, 2 },
		{ "rorx", true, 3, 3, 0xf0, -1, 1, FL_ARITH, 0 },
	};
	for (unsigned k = 0; k < ARRAY_SIZE(t); k++) {
		if (!(t[k].bmi2 ? HOST_BMI2 : HOST_BMI1)) {
			report_skip("%s (host CPU lacks BMI%d)", t[k].name, t[k].bmi2 ? 2 : 1);
			continue;
		}
		for (unsigned size = 4; size <= 8; size += 4)
			test_vex_one(&t[k], size);
	}
	if (!HOST_BMI2)
		return;
	/* RORX with VEX.vvvv != 1111b is #UD. */
	group_begin("rorx vvvv!=1111 #UD", 0);
	for (unsigned i = 0; i < 16; i++) {
		struct xs s;
		rnd_state(&s);
		struct enc e = enc_vex(3, 3, false, 3, 0xf0, 1, 2, false);
		enc_imm(&e, 5, 1);
		check_insn(e.b, e.n, &s, FL_COMPARED);
	}
	group_end();
}

int main(void)
{
	harness_init();
	for (int fast = 0; fast < 2; fast++) {
		T.fast = fast;
		test_bt();
		test_scans();
		test_adx_crc();
		test_bmi();
	}
	return 0;
}
