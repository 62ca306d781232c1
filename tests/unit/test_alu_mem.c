/* test_alu_mem.c: memory-operand forms against the host CPU, comparing
 * registers, flags and memory: read-modify-write ALU/shift/bit operations
 * with and without LOCK, page-crossing operands, faults on read-only and
 * absent pages (nothing may be committed), CMPXCHG8B/16B, MOVBE, bit
 * strings, and the string instructions with REP/REPE/REPNE, both
 * directions, 64- and 32-bit address sizes, overlap and faults in the
 * middle. INS/OUTS run against a test port device (no host oracle). */
#include "test_win.h"

#include "bus.h"

#define N_CASES 1500

static const unsigned sizes[4] = { 1, 2, 4, 8 };
static u8 win_before[WIN_BYTES], win_host[WIN_BYTES];

/* Host, then interpreter, from the same registers and memory. */
static bool check_mem(const u8 *code, unsigned len, const struct xs *s, u64 flmask)
{
	struct xs h = *s, e = *s;
	win_save(win_before);
	int hr = host_run(code, len, &h);
	win_save(win_host);
	win_load(win_before);
	int er = emu_run(code, len, &e);
	if (!compare(code, len, s, hr, &h, er, &e, flmask))
		return false;
	long d = win_diff(win_host);
	if (d < 0)
		return true;
	T.gfails++;
	T.gruns--;
	if (T.gfails == 1) {
		char b[64];
		hex_bytes(b, sizeof(b), code, len);
		snprintf(T.gfirst, sizeof(T.gfirst),
			 "[%s] rbx=%#llx rsi=%#llx rdi=%#llx rcx=%#llx: memory differs at window+%#lx "
			 "(host %02x emu %02x)",
			 b, (unsigned long long)s->r[R_BX], (unsigned long long)s->r[R_SI],
			 (unsigned long long)s->r[R_DI], (unsigned long long)s->r[R_CX], d,
			 win_host[d], T.win[d]);
	}
	return false;
}

/* [66] [mand] [REX] [0F..] op ModRM(reg, [rbx + disp32]) [imm]. */
static struct enc enc_mem(unsigned size, u8 mand, unsigned map, u8 op, unsigned reg, bool rex,
			  s32 disp, u64 imm, unsigned ib)
{
	struct enc e = enc_gen(size, mand, map, op, reg, R_BX, rex, 0, 0);
	e.b[e.n - 1] = (u8)(0x80 | (reg & 7) << 3 | R_BX);
	enc_imm(&e, (u32)disp, 4);
	enc_imm(&e, imm, ib);
	return e;
}

/* An operand address in the window, often at a page end (page-crossing),
 * sometimes in the read-only or absent page. Sets RBX, returns disp. */
static s32 rnd_addr(struct xs *s, unsigned size)
{
	unsigned k = (unsigned)(rnd() % WIN_PAGES), off;
	if (k == WIN_PAGES - 1)
		k = 0;
	switch (rnd() % 4) {
	case 0: off = 4096 - 1 - (unsigned)(rnd() % (size + 1)); break;
	case 1: off = (unsigned)(rnd() % 64); break;
	default: off = (unsigned)(rnd() % 4096); break;
	}
	s32 disp = (s32)(rnd() % 256) - 128;
	s->r[R_BX] = (u64)(uintptr_t)T.win + k * 4096 + off - (u64)(s64)disp;
	return disp;
}

/* A register operand that is neither RBX nor RSP (nor BH without REX). */
static unsigned rnd_reg_nobx(unsigned size, bool rex)
{
	for (;;) {
		unsigned r = rnd_reg(size, rex);
		if (r != R_BX && !(size == 1 && !rex && r == 7))
			return r;
	}
}

static void group_mem_begin(const char *name, unsigned size)
{
	group_begin(name, size);
	win_fill_random();
}

/* ---- ALU r/m forms: 00/01 (r/m, reg), 02/03, 80/81/83 ---- */

static void test_alu_mem(void)
{
	static const char *names[8] = { "add mem", "or mem", "adc mem", "sbb mem",
					"and mem", "sub mem", "xor mem", "cmp mem" };
	for (unsigned op = 0; op < 8; op++) {
		bool logic = op == 1 || op == 4 || op == 6;
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			u8 w = size == 1 ? 0 : 1;
			group_mem_begin(names[op], size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				bool rex = size == 1 && (rnd() & 1);
				rnd_state(&s);
				unsigned reg = rnd_reg_nobx(size, rex);
				s32 d = rnd_addr(&s, size);
				struct enc e;
				switch (i % 4) {
				case 0: e = enc_mem(size, 0, 0, (u8)(op * 8 | w), reg, rex, d, 0, 0); break;
				case 1: e = enc_mem(size, 0, 0, (u8)(op * 8 | 2 | w), reg, rex, d, 0, 0); break;
				case 2: e = enc_mem(size, 0, 0, 0x80 | w, op, rex, d, rnd(), size == 1 ? 1 : size == 2 ? 2 : 4); break;
				default: e = enc_mem(size, 0, 0, size == 1 ? 0x80 : 0x83, op, rex, d, rnd(), 1); break;
				}
				if ((i & 4) && op != 7 && (i % 4) != 1) { /* LOCK */
					memmove(e.b + 1, e.b, e.n++);
					e.b[0] = 0xf0;
				}
				check_mem(e.b, e.n, &s, logic ? FL_COMPARED & ~X86_EFLAGS_AF : FL_COMPARED);
			}
			group_end();
		}
	}
}

/* ---- MOV forms: loads, stores, immediates, MOVZX/MOVSX/MOVSXD and LEA
 * through [base], [base + index*s] and [index*s] addresses (the forms the
 * interpreter specializes, fast_ops.c) ---- */

/* enc_mem's [rbx + disp32] rewritten with a SIB byte: [rbx + rsi*2^scale
 * + disp32], or without a base [rsi*2^scale + disp32]. */
static struct enc with_sib(struct enc e, unsigned ib, bool base, unsigned scale)
{
	unsigned m = e.n - 5 - ib; /* the ModRM byte, before disp32 and imm */
	struct enc o = { .n = 0 };
	for (unsigned i = 0; i < m; i++)
		enc_put(&o, e.b[i]);
	enc_put(&o, (u8)((base ? 0x80 : 0) | (e.b[m] & 0x38) | 4));
	enc_put(&o, (u8)(scale << 6 | R_SI << 3 | (base ? R_BX : 5)));
	for (unsigned i = m + 1; i < e.n; i++)
		enc_put(&o, e.b[i]);
	return o;
}

struct mov_test {
	const char *name;
	unsigned map;
	u8 op8, opv;   /* opcode for byte / wider operands (0: none) */
	int ext;       /* ModRM.reg extension, or -1 for a register */
	unsigned minsize;
};

static void run_mov_test(const struct mov_test *t)
{
	for (unsigned si = 0; si < 4; si++) {
		unsigned size = sizes[si];
		u8 op = size == 1 ? t->op8 : t->opv;
		if (!op || size < t->minsize)
			continue;
		group_mem_begin(t->name, size);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			bool rex = size == 1 && (rnd() & 1);
			unsigned reg, ib = t->ext < 0 ? 0 : size == 1 ? 1 : size == 2 ? 2 : 4;
			rnd_state(&s);
			do
				reg = t->ext < 0 ? rnd_reg_nobx(size, rex) : (unsigned)t->ext;
			while (t->ext < 0 && reg == R_SI);
			s32 d = rnd_addr(&s, size);
			struct enc e = enc_mem(size, 0, t->map, op, reg, rex, d, rnd(), ib);
			unsigned scale = (unsigned)(rnd() % 4);
			switch (i % 3) {
			case 1: /* base + index */
				s.r[R_SI] = rnd() % 64;
				s.r[R_BX] -= s.r[R_SI] << scale;
				e = with_sib(e, ib, true, scale);
				break;
			case 2: /* index only */
				s.r[R_SI] = s.r[R_BX];
				e = with_sib(e, ib, false, 0);
				break;
			default:
				break;
			}
			check_mem(e.b, e.n, &s, FL_COMPARED);
		}
		group_end();
	}
}

static void test_mov_mem(void)
{
	static const struct mov_test tests[] = {
		{ "mov load", 0, 0x8a, 0x8b, -1, 1 },
		{ "mov store", 0, 0x88, 0x89, -1, 1 },
		{ "mov store imm", 0, 0xc6, 0xc7, 0, 1 },
		{ "movzx byte", 1, 0, 0xb6, -1, 2 },
		{ "movzx word", 1, 0, 0xb7, -1, 2 },
		{ "movsx byte", 1, 0, 0xbe, -1, 2 },
		{ "movsx word", 1, 0, 0xbf, -1, 2 },
		{ "movsxd", 0, 0, 0x63, -1, 4 },
		{ "lea", 0, 0, 0x8d, -1, 2 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		run_mov_test(&tests[i]);
}

/* ---- one-operand and other r/m forms ---- */

struct mem_test {
	const char *name;
	unsigned map;
	u8 op8, opv;   /* opcode for byte / wider operands (0: size not valid) */
	int ext;       /* ModRM.reg extension or -1 (a register operand) */
	unsigned imm;  /* immediate bytes (1, or 9: Iz) */
	u64 mask;
	u8 mand;
	bool lock;
	unsigned minsize;
	int need; /* host feature: 0 none, 1 POPCNT, 2 LZCNT, 3 MOVBE, 4 SSE4.2 */
};

static bool host_can(int need)
{
	switch (need) {
	case 1: return HOST_POPCNT;
	case 2: return HOST_LZCNT;
	case 3: return HOST_MOVBE;
	case 4: return HOST_SSE42;
	default: return true;
	}
}

static void run_mem_test(const struct mem_test *t)
{
	if (!host_can(t->need)) {
		report_skip("%s (host CPU lacks it)", t->name);
		return;
	}
	for (unsigned si = 0; si < 4; si++) {
		unsigned size = sizes[si];
		if (size < t->minsize || (size == 1 ? !t->op8 : !t->opv))
			continue;
		group_mem_begin(t->name, size);
		for (unsigned i = 0; i < N_CASES / 2; i++) {
			struct xs s;
			bool rex = size == 1 && (rnd() & 1);
			rnd_state(&s);
			unsigned reg = t->ext >= 0 ? (unsigned)t->ext : rnd_reg_nobx(size, rex);
			if (t->mand == 0xf2 && reg == R_SP)
				continue; /* CRC32: reg is a 32-bit destination, ESP */
			s32 d = rnd_addr(&s, size);
			unsigned ib = t->imm == 9 ? (size == 1 ? 1 : size == 2 ? 2 : 4) : t->imm;
			s.r[R_CX] = (s.r[R_CX] & ~0xffull) | (u8)(rnd() % 70);
			s.r[R_AX] = (i & 1) ? rnd_val(size) : s.r[R_AX];
			struct enc e = enc_mem(size, t->mand, t->map, size == 1 ? t->op8 : t->opv, reg,
					       rex, d, rnd() % 70, ib);
			if (t->lock && (i & 2)) {
				memmove(e.b + 1, e.b, e.n++);
				e.b[0] = 0xf0;
			}
			u64 mask = t->mask;
			if (t->ext >= 0 && t->map == 0 && (t->op8 == 0xd2 || t->op8 == 0xc0)) {
				/* shifts: only compare flags the count defines */
				unsigned c = (t->op8 == 0xd2 ? (u8)s.r[R_CX] : e.b[e.n - 1]) &
					     (size == 8 ? 63 : 31);
				if (c != 0)
					mask = t->ext < 4 ? (c == 1 ? FL_COMPARED : FL_COMPARED & ~FL_OF)
							  : (c == 1 ? FL_COMPARED & ~X86_EFLAGS_AF
								    : FL_COMPARED & ~X86_EFLAGS_AF & ~FL_OF);
				if (c != 0 && t->ext >= 4 && t->ext != 7 && c >= size * 8)
					mask &= ~FL_CF;
			}
			check_mem(e.b, e.n, &s, mask);
		}
		group_end();
	}
}

static void test_misc_mem(void)
{
	const u64 all = FL_COMPARED, df = X86_EFLAGS_DF;
	static const struct mem_test t[] = {
		{ "inc mem", 0, 0xfe, 0xff, 0, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "dec mem", 0, 0xfe, 0xff, 1, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "not mem", 0, 0xf6, 0xf7, 2, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "neg mem", 0, 0xf6, 0xf7, 3, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "test mem,imm", 0, 0xf6, 0xf7, 0, 9, FL_COMPARED & ~X86_EFLAGS_AF, 0, false, 1, 0 },
		{ "test mem,r", 0, 0x84, 0x85, -1, 0, FL_COMPARED & ~X86_EFLAGS_AF, 0, false, 1, 0 },
		{ "xadd mem", 1, 0xc0, 0xc1, -1, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "cmpxchg mem", 1, 0xb0, 0xb1, -1, 0, FL_COMPARED, 0, true, 1, 0 },
		{ "mul mem", 0, 0xf6, 0xf7, 4, 0, FL_CF | FL_OF, 0, false, 1, 0 },
		{ "imul r,mem", 1, 0, 0xaf, -1, 0, FL_CF | FL_OF, 0, false, 2, 0 },
		{ "rol mem,cl", 0, 0xd2, 0xd3, 0, 0, all, 0, false, 1, 0 },
		{ "rcr mem,cl", 0, 0xd2, 0xd3, 3, 0, all, 0, false, 1, 0 },
		{ "shl mem,cl", 0, 0xd2, 0xd3, 4, 0, all, 0, false, 1, 0 },
		{ "sar mem,imm", 0, 0xc0, 0xc1, 7, 1, all, 0, false, 1, 0 },
		{ "shld mem,r,cl", 1, 0, 0xa5, -1, 0, df, 0, false, 4, 0 },
		{ "shrd mem,r,imm", 1, 0, 0xac, -1, 1, df, 0, false, 4, 0 },
		{ "cmovne r,mem", 1, 0, 0x45, -1, 0, all, 0, false, 2, 0 },
		{ "setb mem", 1, 0x92, 0, 0, 0, all, 0, false, 1, 0 },
		{ "bsf r,mem", 1, 0, 0xbc, -1, 0, FL_ZF, 0, false, 2, 0 },
		{ "popcnt r,mem", 1, 0, 0xb8, -1, 0, FL_ARITH, 0xf3, false, 2, 1 },
		{ "lzcnt r,mem", 1, 0, 0xbd, -1, 0, FL_ZF | FL_CF, 0xf3, false, 2, 2 },
		{ "movbe r,mem", 2, 0, 0xf0, -1, 0, all, 0, false, 2, 3 },
		{ "movbe mem,r", 2, 0, 0xf1, -1, 0, all, 0, false, 2, 3 },
		{ "crc32 r,mem", 2, 0xf0, 0xf1, -1, 0, all, 0xf2, false, 1, 4 },
		{ "bts mem,imm", 1, 0, 0xba, 5, 1, FL_CF | FL_ZF, 0, true, 2, 0 },
		{ "bt mem,imm", 1, 0, 0xba, 4, 1, FL_CF | FL_ZF, 0, false, 2, 0 },
	};
	for (unsigned k = 0; k < ARRAY_SIZE(t); k++)
		run_mem_test(&t[k]);
}

/* BT/BTS/BTR/BTC with a register bit offset address a bit string around
 * the operand (negative offsets too). */
static void test_bitstring(void)
{
	static const char *names[4] = { "bt mem,r (bit string)", "bts mem,r (bit string)",
					"btr mem,r (bit string)", "btc mem,r (bit string)" };
	static const u8 ops[4] = { 0xa3, 0xab, 0xb3, 0xbb };
	for (unsigned k = 0; k < 4; k++)
		for (unsigned si = 1; si < 4; si++) {
			unsigned size = sizes[si];
			group_mem_begin(names[k], size);
			for (unsigned i = 0; i < N_CASES / 2; i++) {
				struct xs s;
				rnd_state(&s);
				unsigned reg = rnd_reg_nobx(size, false);
				s.r[R_BX] = (u64)(uintptr_t)T.win + 6 * 4096 + rnd() % 4096;
				s64 bit = (s64)(rnd() % 60000) - 30000;
				if (size == 2)
					bit = (s16)bit;
				s.r[reg] = (u64)bit & mask_of(size);
				if (size != 8)
					s.r[reg] |= rnd() & ~mask_of(size);
				struct enc e = enc_mem(size, 0, 1, ops[k], reg, false, 0, 0, 0);
				if (k && (i & 1)) {
					memmove(e.b + 1, e.b, e.n++);
					e.b[0] = 0xf0;
				}
				check_mem(e.b, e.n, &s, FL_CF | FL_ZF | X86_EFLAGS_DF);
			}
			group_end();
		}
}

/* ---- CMPXCHG8B / CMPXCHG16B ---- */

static void test_cmpxchg8b(void)
{
	for (unsigned k = 0; k < 2; k++) {
		unsigned size = k ? 16 : 8;
		if (k && !HOST_CX16) {
			report_skip("cmpxchg16b (host CPU lacks CX16)");
			continue;
		}
		group_mem_begin(k ? "cmpxchg16b" : "cmpxchg8b", 0);
		for (unsigned i = 0; i < N_CASES; i++) {
			struct xs s;
			rnd_state(&s);
			s32 d = rnd_addr(&s, size);
			bool misalign = k && (i % 8) == 7;
			u64 ea = s.r[R_BX] + (u64)(s64)d;
			if (k && !misalign)
				s.r[R_BX] -= ea & 15;
			if (misalign && !(ea & 15))
				s.r[R_BX] += 4;
			ea = s.r[R_BX] + (u64)(s64)d;
			unsigned page = (unsigned)((ea - (u64)(uintptr_t)T.win) >> 12);
			if (misalign && (page == NONE_PAGE || page == RO_PAGE || page + 1 == NONE_PAGE ||
					 page + 1 == RO_PAGE))
				continue; /* keep the #GP case free of #PF */
			if ((i & 1) && page != NONE_PAGE && page < WIN_PAGES &&
			    (ea + size - 1 - (u64)(uintptr_t)T.win) / 4096 != NONE_PAGE) {
				/* make the comparison succeed */
				memcpy(&s.r[R_AX], (void *)(uintptr_t)ea, k ? 8 : 4);
				memcpy(&s.r[R_DX], (void *)(uintptr_t)(ea + (k ? 8 : 4)), k ? 8 : 4);
			}
			struct enc e = enc_mem(k ? 8 : 4, 0, 1, 0xc7, 1, false, d, 0, 0);
			if (i & 2) {
				memmove(e.b + 1, e.b, e.n++);
				e.b[0] = 0xf0;
			}
			T.segv_vector = misalign ? X86_EXC_GP : X86_EXC_PF;
			check_mem(e.b, e.n, &s, FL_COMPARED);
			T.segv_vector = X86_EXC_PF;
		}
		group_end();
	}
}

/* ---- string instructions ---- */

static const struct {
	const char *name;
	u8 op; /* byte form; +1 for wider */
	bool src, dst;
} strs[] = {
	{ "movs", 0xa4, true, true },
	{ "cmps", 0xa6, true, true },
	{ "stos", 0xaa, false, true },
	{ "lods", 0xac, true, false },
	{ "scas", 0xae, false, true },
};

/* Registers for a string instruction over the window: RSI/RDI somewhere
 * inside (overlapping often), RCX so that the elements stay inside. With
 * `into_hole` both run towards the absent page in the DF direction, with a
 * count that gets there. Upper bits are garbage with 32-bit addressing. */
static void string_state(struct xs *s, unsigned size, bool a32, bool into_hole)
{
	u64 base = (u64)(uintptr_t)T.win;
	bool df = rnd() & 1;
	u64 count = (rnd() & 3) == 0 ? rnd() % 9000 : rnd() % 200;
	if (count * size + 64 >= WIN_BYTES / 2)
		count = 100;
	u64 span = count * size + 16;
	u64 lo = df ? span : 0, hi = WIN_BYTES - (df ? 16 : span);
	if (into_hole) {
		lo = df ? (NONE_PAGE + 1) * 4096ull : 0;
		hi = df ? WIN_BYTES - 16 : NONE_PAGE * 4096ull - 16;
		count = WIN_BYTES;
	}
	u64 si = lo + rnd() % (hi - lo), di;
	switch (rnd() % 4) {
	case 0: di = si + (rnd() % 16) - 8; break; /* overlapping */
	case 1: di = si + size * (rnd() % 4); break;
	default: di = lo + rnd() % (hi - lo); break;
	}
	if (di < lo || di >= hi)
		di = si;
	s->r[R_SI] = base + si;
	s->r[R_DI] = base + di;
	s->r[R_CX] = count;
	if (a32)
		for (int r = R_CX; r <= R_DI; r++)
			if (r == R_CX || r == R_SI || r == R_DI)
				s->r[r] |= rnd() << 32;
	s->fl = (s->fl & ~X86_EFLAGS_DF) | (df ? X86_EFLAGS_DF : 0);
}

static void test_strings(void)
{
	for (unsigned k = 0; k < ARRAY_SIZE(strs); k++)
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_mem_begin(strs[k].name, size);
			for (unsigned i = 0; i < N_CASES / 3; i++) {
				struct xs s;
				bool a32 = (i % 5) == 4, fault = (i % 7) == 3;
				u8 rep = (u8)((i & 3) == 0 ? 0 : (i & 3) == 1 ? 0xf2 : 0xf3);
				rnd_state(&s);
				s.r[R_AX] = rnd_val(size);
				string_state(&s, size, a32, fault);
				if (!rep)
					s.r[R_CX] = rnd();
				if ((k == 1 || k == 4) && (i & 8)) /* make REPE run longer */
					memset(T.win, (int)(s.r[R_AX] & 0xff), WIN_BYTES / 2);
				struct enc e = enc_gen(size, 0, 0, (u8)(strs[k].op | (size > 1)), 0, -1,
						       false, 0, 0);
				if (rep) {
					memmove(e.b + 1, e.b, e.n++);
					e.b[0] = rep;
				}
				if (a32) {
					memmove(e.b + 1, e.b, e.n++);
					e.b[0] = 0x67;
				}
				check_mem(e.b, e.n, &s, FL_COMPARED);
			}
			group_end();
		}
}

/* Segment override on the source: FS with a base (interpreter only; the
 * host's FS is the TLS). ES:rDI must not be overridable. */
static void test_string_segs(void)
{
	u8 code[] = { 0x64, 0xa4 }; /* movsb fs:[rsi] -> es:[rdi] */
	u64 base = (u64)(uintptr_t)T.win;
	struct xs s;
	group_begin("movs fs: override, es: fixed", 0);
	rnd_state(&s);
	memset(T.win, 0x11, 64);
	T.win[40] = 0x5a;
	s.r[R_SI] = 8;
	s.r[R_DI] = base + 4;
	s.fl = 0;
	T.cpu->seg[SEG_FS].base = base + 32;
	T.cpu->seg[SEG_ES].base = 0x1000; /* ignored in 64-bit mode */
	int r = emu_run(code, sizeof(code), &s);
	T.gruns++;
	if (r || T.win[4] != 0x5a || s.r[R_SI] != 9 || s.r[R_DI] != base + 5) {
		T.gfails++;
		snprintf(T.gfirst, sizeof(T.gfirst), "r=%d byte %#x rsi %#llx", r, T.win[4],
			 (unsigned long long)s.r[R_SI]);
	}
	T.cpu->seg[SEG_FS].base = 0;
	T.cpu->seg[SEG_ES].base = 0;
	group_end();
}

/* ---- non-64-bit modes (interpreter only): 16-bit address wrap, limits ---- */

static void set_seg32(int seg, u64 base, u32 limit)
{
	T.cpu->seg[seg].base = base;
	T.cpu->seg[seg].limit = limit;
	T.cpu->seg[seg].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | 3;
}

static void expect(bool ok, const char *what)
{
	T.gruns++;
	if (!ok && T.gfails++ == 0)
		snprintf(T.gfirst, sizeof(T.gfirst), "%s", what);
}

static void test_string_modes(void)
{
	const u8 movsb16[] = { 0x67, 0xf3, 0xa4 }, stosd[] = { 0xf3, 0xab };
	u8 *ds = T.ram + 0x600000, *es = T.ram + 0x700000; /* above the window */
	struct xs s;
	group_begin("rep movs/stos in 32-bit mode: 16-bit wrap, segment limit", 0);
	emu_mode32();
	set_seg32(SEG_DS, 0x600000, 0xffff);
	set_seg32(SEG_ES, 0x700000, 0xffff);
	ds[0xfffe] = 1, ds[0xffff] = 2, ds[0] = 3;
	memset(es, 0, 0x10000);
	memset(&s, 0, sizeof(s));
	s.r[R_SI] = 0xabcdfffe, s.r[R_DI] = 0x12340100, s.r[R_CX] = 0x55550003;
	int r = emu_run_mode(movsb16, sizeof(movsb16), &s, 4);
	expect(r == 0 && es[0x100] == 1 && es[0x101] == 2 && es[0x102] == 3, "si wrap: data");
	expect(s.r[R_SI] == 0xabcd0001 && s.r[R_DI] == 0x12340103 && s.r[R_CX] == 0x55550000,
	       "si wrap: registers");
	s.r[R_SI] = 1, s.r[R_DI] = 1, s.r[R_CX] = 3, s.fl = X86_EFLAGS_DF;
	r = emu_run_mode(movsb16, sizeof(movsb16), &s, 4);
	expect(r == 0 && es[1] == 0 && es[0] == 3 && es[0xffff] == 2, "df=1 wrap: data");
	expect(s.r[R_SI] == 0xfffe && s.r[R_DI] == 0xfffe && s.r[R_CX] == 0, "df=1 wrap: registers");
	/* REP STOSD running into the ES limit: #GP after the elements inside. */
	set_seg32(SEG_ES, 0x700000, 0xfff);
	memset(es, 0, 0x2000);
	s.r[R_AX] = 0xdeadbeef, s.r[R_DI] = 0, s.r[R_CX] = 2000, s.fl = 0;
	do
		r = emu_run_mode(stosd, sizeof(stosd), &s, 4);
	while (r == 0 && T.restart);
	expect(r == EMU_FAULT(X86_EXC_GP), "limit: #GP");
	expect(s.r[R_DI] == 0x1000 && s.r[R_CX] == 2000 - 1024, "limit: registers at the fault");
	expect(load_le(es + 0xffc, 4) == 0xdeadbeef && load_le(es + 0x1000, 4) == 0, "limit: data");
	emu_reset();
	group_end();
}

/* ---- INS / OUTS against a test port device ---- */

struct port_dev {
	u8 out[4096];
	unsigned nout;
	u32 next;
};

static u64 port_read(void *opaque, u64 off, unsigned size)
{
	struct port_dev *d = opaque;
	(void)off;
	u64 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (u64)(u8)(d->next++ * 7 + 3) << (8 * i);
	return v;
}

static void port_write(void *opaque, u64 off, unsigned size, u64 v)
{
	struct port_dev *d = opaque;
	(void)off;
	for (unsigned i = 0; i < size && d->nout < sizeof(d->out); i++)
		d->out[d->nout++] = (u8)(v >> (8 * i));
}

static void test_ins_outs(void)
{
	static struct port_dev dev;
	static struct bus pio;
	static struct accel_env env;
	struct bus_range r = { "test", 0x60, 16, 1 | 2 | 4, port_read, port_write, &dev };
	bus_init(&pio, "pio");
	bus_add(&pio, &r);
	env.pio = &pio;
	T.cpu->env = &env;
	for (unsigned size = 1; size <= 4; size *= 2) {
		group_begin("rep ins/outs", size);
		for (unsigned i = 0; i < 40; i++) {
			struct xs s;
			bool df = i & 1, outs = i & 2;
			unsigned n = (unsigned)(rnd() % 300);
			u64 base = (u64)(uintptr_t)T.win + 8192;
			u8 code[3] = { 0xf3, 0x66, (u8)((outs ? 0x6e : 0x6c) | (size > 1)) };
			unsigned off = size == 2 ? 0 : 1;
			if (size != 2)
				code[1] = 0xf3;
			rnd_state(&s);
			s.r[R_DX] = 0x60 + rnd() % (17 - size); /* inside the range */
			s.r[R_CX] = n;
			s.r[R_DI] = s.r[R_SI] = df ? base + 4096 : base;
			s.fl = df ? X86_EFLAGS_DF : 0;
			memset(&dev, 0, sizeof(dev));
			win_fill_random();
			win_save(win_before);
			int res = emu_run(code + off, 3 - off, &s);
			bool ok = res == 0 && s.r[R_CX] == 0;
			u64 end = df ? base + 4096 - (u64)n * size : base + (u64)n * size;
			ok = ok && (outs ? s.r[R_SI] : s.r[R_DI]) == end;
			for (unsigned j = 0; ok && j < n * size; j++) {
				unsigned el = j / size, b = j % size;
				u64 addr = df ? base + 4096 - (u64)el * size + b : base + j;
				u8 mem = T.win[addr - (u64)(uintptr_t)T.win];
				u8 want = outs ? win_before[addr - (u64)(uintptr_t)T.win]
					       : (u8)(j * 7 + 3);
				ok = outs ? dev.out[j] == want : mem == want;
			}
			T.gruns++;
			if (!ok && T.gfails++ == 0)
				snprintf(T.gfirst, sizeof(T.gfirst), "%s n=%u df=%d res=%d rcx=%#llx",
					 outs ? "outs" : "ins", n, df, res,
					 (unsigned long long)s.r[R_CX]);
		}
		group_end();
	}
	T.cpu->env = NULL;
}

int main(void)
{
	harness_init();
	win_init();
	for (int fast = 0; fast < 2; fast++) {
		T.fast = fast;
		test_alu_mem();
		test_mov_mem();
		test_misc_mem();
		test_bitstring();
		test_cmpxchg8b();
		test_strings();
		test_string_segs();
		test_string_modes();
		test_ins_outs();
	}
	return 0;
}
