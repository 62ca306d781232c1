/* test_decode.c: the decoder on raw bytes: instruction lengths for every
 * one-byte and 0F opcode the table accepts (against a hand table from the
 * SDM opcode maps, Vol. 2 Appendix A), ModRM/SIB/displacement/immediate
 * operands, prefixes (66 67 REX segment F2 F3 LOCK, REX before a legacy
 * prefix ignored), the 15-byte limit, truncated input, RIP-relative and
 * 16-bit addressing, VEX, and the forms the integer families reject. */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "unit.h"

static struct decode_table *dt;

/* Operand classes per opcode (SDM Table ):
 *  .  no ModRM, no immediate      m  ModRM              b  ModRM + ib
 *  z  ModRM + iz                  B  ib (also rel8)     W  iw
 *  Z  iz (also rel32)             V  iv (B8+r)          M  moffs
 *  E  iw + ib (ENTER)             A  ptr16:16/32        g  F6/F7 (imm for /0 /1)
 *  c  C6/C7 (imm for /0; /7 F8 is XABORT ib / XBEGIN rel)
 *  x  prefix, escape or invalid: not tested                                 */
static const char map0_64[256 + 1] =
	"mmmmBZxxmmmmBZxx" "mmmmBZxxmmmmBZxx" "mmmmBZxxmmmmBZxx" "mmmmBZxxmmmmBZxx"
	"xxxxxxxxxxxxxxxx" "................" "xxxmxxxxZzBb...." "BBBBBBBBBBBBBBBB"
	"bzxbmmmmmmmmmmmm" "..........x....." "MMMM....BZ......" "BBBBBBBBVVVVVVVV"
	"bbW.xxccE.W..Bx." "mmmmxxx.mmmmmmmm" "BBBBBBBBZZxB...." "x.xx..gg......mm";
static const char map0_32[256 + 1] =
	"mmmmBZ..mmmmBZ.x" "mmmmBZ..mmmmBZ.." "mmmmBZx.mmmmBZx." "mmmmBZx.mmmmBZx."
	"................" "................" "...mxxxxZzBb...." "BBBBBBBBBBBBBBBB"
	"bzbbmmmmmmmmmmmm" "..........A....." "MMMM....BZ......" "BBBBBBBBVVVVVVVV"
	"bbW.xxccE.W..B.." "mmmmBBx.mmmmmmmm" "BBBBBBBBZZAB...." "x.xx..gg......mm";
static const char map1[256 + 1] =
	"mmmmx.....x.xm.x" "mmmmmmmmmmmmmmmm" "mmmmxxxxmmmmmmmm" "......x.xxxxxxxx"
	"mmmmmmmmmmmmmmmm" "mmmmmmmmmmmmmmmm" "mmmmmmmmmmmmmmmm" "bbbbmmm.mmxxmmmm"
	"ZZZZZZZZZZZZZZZZ" "mmmmmmmmmmmmmmmm" "...mbmxx...mbmmm" "mmmmmmmmmmbmmmmm"
	"mmbmbbbm........" "mmmmmmmmmmmmmmmm" "mmmmmmmmmmmmmmmm" "mmmmmmmmmmmmmmmm";

/* ModRM forms: the ModRM byte's mod/rm bits, the bytes that follow it. */
static const struct {
	u8 modrm;
	u8 extra[5];
	unsigned n;
} forms[] = {
	{ 0xc1, { 0 }, 0 },                          /* register */
	{ 0x00, { 0 }, 0 },                          /* [rax] */
	{ 0x04, { 0x24 }, 1 },                       /* [rsp]: SIB */
	{ 0x45, { 0x7f }, 1 },                       /* [rbp + disp8] */
	{ 0x05, { 1, 2, 3, 4 }, 4 },                 /* [rip + disp32] */
	{ 0x04, { 0x25, 1, 2, 3, 4 }, 5 },           /* [disp32]: SIB, no base */
	{ 0x84, { 0x88, 1, 2, 3, 4 }, 5 },           /* [rax + rcx*4 + disp32] */
};

enum { P_NONE, P_66, P_REXW, P_67, P_F3, P_F2, P_COUNT };

/* Expected immediate bytes of class k with prefix p in a code segment of
 * code_size bytes. */
static int imm_bytes(char k, unsigned p, unsigned reg, u8 modrm, u8 op, unsigned code_size)
{
	unsigned z = (code_size == 2) == (p == P_66) ? 4 : 2;
	switch (k) {
	case 'b': case 'B': return 1;
	case 'W': return 2;
	case 'E': return 3;
	case 'z': case 'Z': return (int)z;
	case 'V': return p == P_REXW ? 8 : (int)z;
	case 'M':
		if (code_size == 8)
			return p == P_67 ? 4 : 8;
		return (code_size == 2) == (p == P_67) ? 4 : 2;
	case 'A': return (int)z + 2;
	case 'g': return reg < 2 ? (op == 0xf6 ? 1 : (int)z) : 0;
	case 'c':
		if (reg == 0)
			return op == 0xc6 ? 1 : (int)z;
		if (reg == 7 && modrm == 0xf8)
			return op == 0xc6 ? 1 : (int)z;
		return 0;
	default: return 0;
	}
}

struct len_stats {
	unsigned checked, opcodes, fails;
	char first[200];
};

/* Try every ModRM form and reg value of one opcode; check the lengths of
 * the forms the decoder accepts. */
static void check_opcode(struct len_stats *st, unsigned map, u8 op, char k, unsigned p,
			 unsigned code_size)
{
	static const u8 pfx_byte[P_COUNT] = { 0, 0x66, 0x48, 0x67, 0xf3, 0xf2 };
	bool modrm = k == 'm' || k == 'b' || k == 'z' || k == 'g' || k == 'c';
	bool any = false;
	for (unsigned f = 0; f < (modrm ? ARRAY_SIZE(forms) : 1); f++)
		for (unsigned reg = 0; reg < (modrm ? 8u : 1u); reg++) {
			u8 buf[40];
			unsigned n = 0;
			memset(buf, 0x90, sizeof(buf));
			if (p != P_NONE)
				buf[n++] = pfx_byte[p];
			if (map >= 1)
				buf[n++] = 0x0f;
			buf[n++] = op;
			u8 mrm = (u8)(forms[f].modrm | reg << 3);
			/* 16-bit addressing has other ModRM lengths: register forms only */
			if (modrm && f > 0 && (code_size == 2 || (p == P_67 && code_size == 4)))
				continue;
			if (modrm) {
				buf[n++] = mrm;
				memcpy(buf + n, forms[f].extra, forms[f].n);
				n += forms[f].n;
			}
			int want = (int)n + imm_bytes(k, p, reg, mrm, op, code_size);
			struct insn in;
			int got = decode_insn(dt, buf, sizeof(buf), code_size, &in);
			if (got == DEC_UD || got == DEC_INVALID)
				continue;
			any = true;
			st->checked++;
			if (got != want && st->fails++ == 0) {
				char hex[64] = "";
				for (int i = 0; i < want + 1 && i < 20; i++)
					snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%02x ", buf[i]);
				snprintf(st->first, sizeof(st->first), "%s: length %d, expected %d",
					 hex, got, want);
			}
		}
	st->opcodes += any;
}

static void test_lengths(const char *name, unsigned map, const char *cls, unsigned code_size)
{
	static const unsigned pfx_all[] = { P_NONE, P_66, P_REXW, P_67, P_F3, P_F2 };
	struct len_stats st = { 0 };
	for (unsigned op = 0; op < 256; op++) {
		char k = cls[op];
		if (k == 'x')
			continue;
		for (unsigned i = 0; i < ARRAY_SIZE(pfx_all); i++) {
			unsigned p = pfx_all[i];
			if (p == P_REXW && code_size != 8)
				continue;
			/* near branches ignore 66 in 64-bit mode (Intel) */
			if (p == P_66 && code_size == 8 && (k == 'Z' && (map == 1 || op >= 0xe8)))
				continue;
			if (p == P_66 && code_size == 8 && (k == 'B' || k == 'W') && op >= 0x70 &&
			    op <= 0x7f)
				continue;
			check_opcode(&st, map, (u8)op, k, p, code_size);
		}
	}
	report(st.fails == 0 && st.opcodes > 0,
	       "decode lengths, %s: %u opcode+prefix pairs, %u forms%s%s", name,
	       st.opcodes, st.checked, st.fails ? ", first mismatch: " : "", st.first);
}

/* ---- operand decoding ---- */

struct dcase {
	const char *what;
	u8 b[16];
	unsigned n, code_size;
	int len; /* or DEC_* */
	int opsize, addrsize, reg, rm, base, index, scale, seg;
	s64 disp;
	s64 imm; /* compared when != -0x7777 */
	int flags; /* IF_* bits that must be set, or -1 */
};

#define NO (-0x7777)
#define R(x) R_##x
#define NONE REG_NONE
#define RIP REG_RIP
#define S(x) SEG_##x

static const struct dcase cases[] = {
	{ "add eax,ebx", { 0x01, 0xd8 }, 2, 8, 2, 4, 8, R(BX), R(AX), NO, NO, NO, NO, NO, NO, 0 },
	{ "add rax,rbx (REX.W)", { 0x48, 0x01, 0xd8 }, 3, 8, 3, 8, NO, R(BX), R(AX), NO, NO, NO, NO, NO, NO, -1 },
	{ "add ax,bx (66)", { 0x66, 0x01, 0xd8 }, 3, 8, 3, 2, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_OPSIZE },
	{ "REX.W wins over 66", { 0x66, 0x48, 0x01, 0xd8 }, 4, 8, 4, 8, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "REX before 66 is ignored", { 0x48, 0x66, 0x01, 0xd8 }, 4, 8, 4, 2, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "REX.R REX.B", { 0x45, 0x01, 0xd8 }, 3, 8, 3, 4, NO, 11, 8, NO, NO, NO, NO, NO, NO, IF_REX },
	{ "[rsp]: SIB, SS", { 0x03, 0x04, 0x24 }, 3, 8, 3, NO, 8, R(AX), NO, R(SP), NONE, NO, S(SS), 0, NO, IF_MEM },
	{ "[rsp+8]", { 0x03, 0x44, 0x24, 0x08 }, 4, 8, 4, NO, NO, NO, NO, R(SP), NONE, NO, NO, 8, NO, -1 },
	{ "[disp32] SIB no base", { 0x03, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 }, 7, 8, 7, NO, NO, NO, NO, NONE, NONE, NO, S(DS), 0x12345678, NO, -1 },
	{ "[rcx*4+disp32]", { 0x03, 0x04, 0x8d, 0x10, 0, 0, 0 }, 7, 8, 7, NO, NO, NO, NO, NONE, R(CX), 2, NO, 0x10, NO, -1 },
	{ "[rax+r13*4] (REX.X)", { 0x42, 0x03, 0x04, 0xa8 }, 4, 8, 4, NO, NO, NO, NO, R(AX), 13, 2, NO, 0, NO, -1 },
	{ "[r13+0] (mod 1)", { 0x41, 0x03, 0x45, 0x00 }, 4, 8, 4, NO, NO, NO, NO, 13, NONE, NO, S(DS), 0, NO, -1 },
	{ "[r12] (SIB)", { 0x41, 0x03, 0x04, 0x24 }, 4, 8, 4, NO, NO, NO, NO, 12, NONE, NO, S(DS), NO, NO, -1 },
	{ "[rbp-8]: SS", { 0x03, 0x45, 0xf8 }, 3, 8, 3, NO, NO, NO, NO, R(BP), NONE, NO, S(SS), -8, NO, -1 },
	{ "[rip+disp32]", { 0x03, 0x05, 0x10, 0, 0, 0 }, 6, 8, 6, NO, 8, NO, NO, RIP, NONE, NO, S(DS), 0x10, NO, -1 },
	{ "[disp32] in 32-bit mode", { 0x03, 0x05, 0x10, 0, 0, 0 }, 6, 4, 6, 4, 4, NO, NO, NONE, NONE, NO, NO, 0x10, NO, -1 },
	{ "[eax] (67)", { 0x67, 0x03, 0x00 }, 3, 8, 3, NO, 4, NO, NO, R(AX), NONE, NO, NO, NO, NO, -1 },
	{ "fs: override", { 0x64, 0x03, 0x00 }, 3, 8, 3, NO, NO, NO, NO, NO, NO, NO, S(FS), NO, NO, IF_SEGOVR },
	{ "cs: overrides the SS default", { 0x2e, 0x03, 0x45, 0x00 }, 4, 8, 4, NO, NO, NO, NO, R(BP), NO, NO, S(CS), NO, NO, IF_SEGOVR },
	{ "3e: NOTRACK", { 0x3e, 0x03, 0x00 }, 3, 8, 3, NO, NO, NO, NO, NO, NO, NO, S(DS), NO, NO, IF_NOTRACK },
	{ "16-bit [bx+si]", { 0x03, 0x00 }, 2, 2, 2, 2, 2, NO, NO, R(BX), R(SI), NO, S(DS), 0, NO, -1 },
	{ "16-bit [bp+8]: SS", { 0x03, 0x46, 0x08 }, 3, 2, 3, NO, 2, NO, NO, R(BP), NONE, NO, S(SS), 8, NO, -1 },
	{ "16-bit [bp+si]: SS", { 0x03, 0x02 }, 2, 2, 2, NO, 2, NO, NO, R(BP), R(SI), NO, S(SS), 0, NO, -1 },
	{ "16-bit [disp16]", { 0x03, 0x06, 0x34, 0x12 }, 4, 2, 4, NO, 2, NO, NO, NONE, NONE, NO, S(DS), 0x1234, NO, -1 },
	{ "16-bit [bx+disp16] signed", { 0x03, 0x87, 0x00, 0x80 }, 4, 2, 4, NO, 2, NO, NO, R(BX), NONE, NO, NO, -32768, NO, -1 },
	{ "16-bit mode, 67: [eax]", { 0x67, 0x03, 0x00 }, 3, 2, 3, 2, 4, NO, NO, R(AX), NONE, NO, NO, NO, NO, -1 },
	{ "16-bit mode, 66: 32-bit operand", { 0x66, 0x05, 1, 2, 3, 4 }, 6, 2, 6, 4, NO, NO, NO, NO, NO, NO, NO, NO, 0x04030201, -1 },
	{ "32-bit mode, 66 05 iw", { 0x66, 0x05, 0x34, 0x12 }, 4, 4, 4, 2, 4, NO, NO, NO, NO, NO, NO, NO, 0x1234, -1 },
	{ "83 ib sign-extended", { 0x83, 0xc0, 0xff }, 3, 8, 3, 4, NO, NO, NO, NO, NO, NO, NO, NO, -1, -1 },
	{ "REX.W 81 id sign-extended", { 0x48, 0x81, 0xc0, 0, 0, 0, 0x80 }, 7, 8, 7, 8, NO, NO, NO, NO, NO, NO, NO, NO, (s64)0xffffffff80000000ull, -1 },
	{ "mov r64, imm64", { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, 8, 10, 8, NO, R(AX), NO, NO, NO, NO, NO, NO, 0x0807060504030201ll, -1 },
	{ "mov r9w, imm16", { 0x66, 0x41, 0xb9, 0x34, 0x12 }, 5, 8, 5, 2, NO, 9, NO, NO, NO, NO, NO, NO, 0x1234, -1 },
	{ "moffs64", { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 8, 9, 4, 8, NO, NO, NO, NO, NO, NO, NO, 0x0807060504030201ll, -1 },
	{ "moffs32 (67)", { 0x67, 0xa1, 1, 2, 3, 4 }, 6, 8, 6, NO, 4, NO, NO, NO, NO, NO, NO, NO, 0x04030201, -1 },
	{ "lock add [rax],eax", { 0xf0, 0x01, 0x00 }, 3, 8, 3, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_LOCK },
	{ "lock add eax,eax: #UD", { 0xf0, 0x01, 0xc0 }, 3, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "lock cmp [rax],eax: #UD", { 0xf0, 0x39, 0x00 }, 3, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "lock add eax,[rax]: #UD", { 0xf0, 0x03, 0x00 }, 3, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "lock bt [rax],eax: #UD", { 0xf0, 0x0f, 0xa3, 0x00 }, 4, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "lock bts [rax],eax", { 0xf0, 0x0f, 0xab, 0x00 }, 4, 8, 4, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_LOCK },
	{ "lock movs: #UD", { 0xf0, 0xa4 }, 2, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "rep movsb", { 0xf3, 0xa4 }, 2, 8, 2, 1, 8, NO, NO, NO, NO, NO, S(DS), NO, NO, IF_REP },
	{ "repne scasb", { 0xf2, 0xae }, 2, 8, 2, 1, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_REPNE },
	{ "f2 f3: the last one wins", { 0xf2, 0xf3, 0xa6 }, 3, 8, 3, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_REP },
	{ "es: movs (source seg)", { 0x26, 0xa5 }, 2, 8, 2, 4, NO, NO, NO, NO, NO, NO, S(ES), NO, NO, IF_SEGOVR },
	{ "rep insd: REX.W ignored", { 0xf3, 0x48, 0x6d }, 3, 8, 3, 4, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_REP },
	{ "82 /0: #UD in 64-bit mode", { 0x82, 0xc0, 1 }, 3, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "82 /0 in 32-bit mode", { 0x82, 0xc0, 1 }, 3, 4, 3, 1, NO, NO, NO, NO, NO, NO, NO, NO, 1, -1 },
	{ "d6 (SALC): #UD", { 0xd6 }, 1, 4, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "27 (DAA): #UD in 64-bit mode", { 0x27 }, 1, 8, DEC_INVALID, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "d4 0a (AAM) in 32-bit mode", { 0xd4, 0x0a }, 2, 4, 2, NO, NO, NO, NO, NO, NO, NO, NO, NO, 10, -1 },
	{ "inc ebp (45) in 32-bit mode", { 0x45 }, 1, 4, 1, 4, NO, R(BP), NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "dec si (66 4e) in 32-bit mode", { 0x66, 0x4e }, 2, 4, 2, 2, NO, R(SI), NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "0f b8 without f3: #UD", { 0x0f, 0xb8, 0xc0 }, 3, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "popcnt (f3 0f b8)", { 0xf3, 0x0f, 0xb8, 0xc1 }, 4, 8, 4, 4, NO, R(AX), R(CX), NO, NO, NO, NO, NO, NO, -1 },
	{ "tzcnt 16 (66 f3 0f bc)", { 0x66, 0xf3, 0x0f, 0xbc, 0xc1 }, 5, 8, 5, 2, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "bsf with f2 (ignored)", { 0xf2, 0x0f, 0xbc, 0xc1 }, 4, 8, 4, 4, NO, NO, NO, NO, NO, NO, NO, NO, NO, IF_REPNE },
	{ "movbe reg form: #UD", { 0x0f, 0x38, 0xf0, 0xc1 }, 4, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "movbe r16,[rax]", { 0x66, 0x0f, 0x38, 0xf0, 0x00 }, 5, 8, 5, 2, NO, NO, NO, R(AX), NO, NO, NO, NO, NO, IF_MEM },
	{ "crc32 r64,r/m8 (f2 REX.W 0f38 f0)", { 0xf2, 0x48, 0x0f, 0x38, 0xf0, 0xc1 }, 6, 8, 6, NO, NO, R(AX), R(CX), NO, NO, NO, NO, NO, NO, -1 },
	{ "adcx r64 (66 REX.W): size from W", { 0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc1 }, 6, 8, 6, 8, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "adox r32 (f3)", { 0xf3, 0x0f, 0x38, 0xf6, 0xc1 }, 5, 8, 5, 4, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "cmpxchg8b reg form: #UD", { 0x0f, 0xc7, 0xc8 }, 3, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "cmpxchg16b [rax]", { 0x48, 0x0f, 0xc7, 0x08 }, 4, 8, 4, 8, NO, NO, NO, R(AX), NO, NO, NO, NO, NO, IF_MEM },
	{ "bswap r10", { 0x49, 0x0f, 0xca }, 3, 8, 3, 8, NO, 10, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "shld [rax],ecx,5", { 0x0f, 0xa4, 0x08, 0x05 }, 4, 8, 4, 4, NO, R(CX), NO, R(AX), NO, NO, NO, NO, 5, -1 },
	{ "bt [rax],imm8 (0f ba /4)", { 0x0f, 0xba, 0x20, 0x21 }, 4, 8, 4, 4, NO, 4, NO, NO, NO, NO, NO, NO, 0x21, -1 },
	{ "imul r,r/m,ib (6b)", { 0x6b, 0xc1, 0xfe }, 3, 8, 3, 4, NO, NO, NO, NO, NO, NO, NO, NO, -2, -1 },
	{ "imul r,r/m,iw (66 69)", { 0x66, 0x69, 0xc1, 0x34, 0x12 }, 5, 8, 5, 2, NO, NO, NO, NO, NO, NO, NO, NO, 0x1234, -1 },
	{ "15 bytes", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x01, 0xc0 }, 15, 8, 15, 2, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "16 bytes: too long", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x01, 0xc0 }, 16, 8, DEC_TOOLONG, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "too long inside the immediate", { 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x48, 0x81, 0x84, 0x88, 1, 2, 3, 4, 5, 6 }, 16, 8, DEC_TOOLONG, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	/* VEX: c4 RXB.mmmmm W.vvvv.L.pp */
	{ "andn eax,edx,ecx (VEX)", { 0xc4, 0xe2, 0x68, 0xf2, 0xc1 }, 5, 8, 5, 4, NO, R(AX), R(CX), NO, NO, NO, NO, NO, NO, -1 },
	{ "andn r64 (VEX.W)", { 0xc4, 0xe2, 0xe8, 0xf2, 0xc1 }, 5, 8, 5, 8, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "andn r8,r9,r10 (VEX.R/B)", { 0xc4, 0x42, 0x30, 0xf2, 0xc2 }, 5, 8, 5, 4, NO, 8, 10, NO, NO, NO, NO, NO, NO, -1 },
	{ "rorx eax,ecx,3", { 0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 0x03 }, 6, 8, 6, 4, NO, NO, NO, NO, NO, NO, NO, NO, 3, -1 },
	{ "blsi (VEX f3 /3)", { 0xc4, 0xe2, 0x78, 0xf3, 0xd9 }, 5, 8, 5, 4, NO, 3, R(CX), NO, NO, NO, NO, NO, NO, -1 },
	{ "VEX after 66: #UD", { 0x66, 0xc4, 0xe2, 0x68, 0xf2, 0xc1 }, 6, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "VEX after REX: #UD", { 0x40, 0xc4, 0xe2, 0x68, 0xf2, 0xc1 }, 6, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
	{ "non-VEX andn (0f38 f2): #UD", { 0x0f, 0x38, 0xf2, 0xc1 }, 4, 8, DEC_UD, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, -1 },
};

static bool field_ok(int want, long long got)
{
	return want == NO || want == got;
}

static void test_operands(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct dcase *c = &cases[i];
		struct insn in;
		u8 buf[32];
		memset(buf, 0x90, sizeof(buf));
		memcpy(buf, c->b, c->n);
		int len = decode_insn(dt, buf, sizeof(buf), c->code_size, &in);
		bool ok = len == c->len;
		if (ok && len > 0) {
			ok = field_ok(c->opsize, in.opsize) && field_ok(c->addrsize, in.addrsize) &&
			     field_ok(c->reg, in.reg) && field_ok(c->rm, in.rm) &&
			     field_ok(c->base, in.base) && field_ok(c->index, in.index) &&
			     field_ok(c->scale, in.scale) && field_ok(c->seg, in.seg) &&
			     (c->disp == NO || c->disp == in.disp) &&
			     (c->imm == NO || (u64)c->imm == in.imm) &&
			     (c->flags < 0 || (in.flags & c->flags) == c->flags);
			if (c->flags == 0)
				ok = ok && !(in.flags & IF_MEM);
		}
		if (ok)
			report(1, "decode %s", c->what);
		else
			report(0, "decode %s: len %d op %u ad %u reg %u rm %u base %#x index %#x "
				  "scale %u seg %u disp %d imm %#llx flags %#x",
			       c->what, len, in.opsize, in.addrsize, in.reg, in.rm, in.base,
			       in.index, in.scale, in.seg, in.disp, (unsigned long long)in.imm,
			       in.flags);
	}
}

/* Every proper prefix of a valid instruction is DEC_NEED. */
static void test_truncated(void)
{
	static const u8 insns[][12] = {
		{ 10, 0x26, 0x48, 0x83, 0x84, 0x88, 1, 2, 3, 4, 5 },
		{ 10, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 },
		{ 6, 0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 0x03 },
		{ 5, 0xf3, 0x0f, 0x38, 0xf6, 0xc1 },
		{ 4, 0xc8, 0x10, 0x00, 0x02 },
		{ 4, 0x0f, 0xba, 0x20, 0x05 },
	};
	unsigned bad = 0, total = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		unsigned n = insns[i][0];
		struct insn in;
		for (unsigned k = 0; k < n; k++, total++)
			if (decode_insn(dt, insns[i] + 1, k, 8, &in) != DEC_NEED)
				bad++;
		total++;
		if (decode_insn(dt, insns[i] + 1, n, 8, &in) != (int)n)
			bad++;
	}
	report(bad == 0, "decode truncated input: DEC_NEED for every proper prefix (%u checks, %u bad)",
	       total, bad);
}

/* Every form of the integer families decodes to the right table entry. */
static const struct {
	u8 b[8];
	unsigned n, code_size;
	const char *name;
} names[] = {
	{ { 0x00, 0xc0 }, 2, 8, "add" }, { { 0x0b, 0xc0 }, 2, 8, "or" },
	{ { 0x14, 1 }, 2, 8, "adc" }, { { 0x1d, 1, 0, 0, 0 }, 5, 8, "sbb" },
	{ { 0x21, 0xc0 }, 2, 8, "and" }, { { 0x2a, 0xc0 }, 2, 8, "sub" },
	{ { 0x34, 1 }, 2, 8, "xor" }, { { 0x3b, 0xc0 }, 2, 8, "cmp" },
	{ { 0x80, 0xc8, 1 }, 3, 8, "or" }, { { 0x81, 0xd0, 1, 0, 0, 0 }, 6, 8, "adc" },
	{ { 0x83, 0xd8, 1 }, 3, 8, "sbb" }, { { 0x83, 0xe0, 1 }, 3, 8, "and" },
	{ { 0x83, 0xe8, 1 }, 3, 8, "sub" }, { { 0x83, 0xf0, 1 }, 3, 8, "xor" },
	{ { 0x83, 0xf8, 1 }, 3, 8, "cmp" }, { { 0x82, 0xc0, 1 }, 3, 4, "add" },
	{ { 0x84, 0xc0 }, 2, 8, "test" }, { { 0xa9, 1, 0, 0, 0 }, 5, 8, "test" },
	{ { 0xf6, 0xc8, 1 }, 3, 8, "test" }, { { 0xf7, 0xd0 }, 2, 8, "not" },
	{ { 0xf7, 0xd8 }, 2, 8, "neg" }, { { 0xf7, 0xe0 }, 2, 8, "mul" },
	{ { 0xf7, 0xe8 }, 2, 8, "imul" }, { { 0xf7, 0xf0 }, 2, 8, "div" },
	{ { 0xf7, 0xf8 }, 2, 8, "idiv" }, { { 0xfe, 0xc0 }, 2, 8, "inc" },
	{ { 0xff, 0xc8 }, 2, 8, "dec" }, { { 0x41 }, 1, 4, "inc" }, { { 0x4f }, 1, 4, "dec" },
	{ { 0x0f, 0xc1, 0xc0 }, 3, 8, "xadd" }, { { 0x0f, 0xb0, 0xc0 }, 3, 8, "cmpxchg" },
	{ { 0x0f, 0xc7, 0x08 }, 3, 8, "cmpxchg8b" }, { { 0x0f, 0xcb }, 2, 8, "bswap" },
	{ { 0x0f, 0x94, 0xc0 }, 3, 8, "setcc" }, { { 0x0f, 0x4f, 0xc0 }, 3, 8, "cmovcc" },
	{ { 0xf5 }, 1, 8, "cmc" }, { { 0xf8 }, 1, 8, "clc" }, { { 0xf9 }, 1, 8, "stc" },
	{ { 0xfc }, 1, 8, "cld" }, { { 0xfd }, 1, 8, "std" }, { { 0x9e }, 1, 8, "sahf" },
	{ { 0x9f }, 1, 8, "lahf" }, { { 0x27 }, 1, 4, "daa" }, { { 0x2f }, 1, 4, "das" },
	{ { 0x37 }, 1, 4, "aaa" }, { { 0x3f }, 1, 4, "aas" }, { { 0xd4, 10 }, 2, 4, "aam" },
	{ { 0xd5, 10 }, 2, 4, "aad" },
	{ { 0xd0, 0xc0 }, 2, 8, "rol" }, { { 0xd1, 0xc8 }, 2, 8, "ror" },
	{ { 0xd2, 0xd0 }, 2, 8, "rcl" }, { { 0xd3, 0xd8 }, 2, 8, "rcr" },
	{ { 0xc0, 0xe0, 1 }, 3, 8, "shl" }, { { 0xc1, 0xe8, 1 }, 3, 8, "shr" },
	{ { 0xd3, 0xf0 }, 2, 8, "sal" }, { { 0xd3, 0xf8 }, 2, 8, "sar" },
	{ { 0x0f, 0xa4, 0xc0, 1 }, 4, 8, "shld" }, { { 0x0f, 0xad, 0xc0 }, 3, 8, "shrd" },
	{ { 0x0f, 0xaf, 0xc0 }, 3, 8, "imul" }, { { 0x69, 0xc0, 1, 0, 0, 0 }, 6, 8, "imul" },
	{ { 0x6b, 0xc0, 1 }, 3, 8, "imul" },
	{ { 0x0f, 0xa3, 0xc0 }, 3, 8, "bt" }, { { 0x0f, 0xab, 0xc0 }, 3, 8, "bts" },
	{ { 0x0f, 0xb3, 0xc0 }, 3, 8, "btr" }, { { 0x0f, 0xbb, 0xc0 }, 3, 8, "btc" },
	{ { 0x0f, 0xba, 0xe0, 1 }, 4, 8, "bt" }, { { 0x0f, 0xba, 0xf8, 1 }, 4, 8, "btc" },
	{ { 0x0f, 0xbc, 0xc0 }, 3, 8, "bsf" }, { { 0x0f, 0xbd, 0xc0 }, 3, 8, "bsr" },
	{ { 0xf3, 0x0f, 0xbc, 0xc0 }, 4, 8, "tzcnt" }, { { 0xf3, 0x0f, 0xbd, 0xc0 }, 4, 8, "lzcnt" },
	{ { 0xf3, 0x0f, 0xb8, 0xc0 }, 4, 8, "popcnt" },
	{ { 0x0f, 0x38, 0xf0, 0x00 }, 4, 8, "movbe" }, { { 0x0f, 0x38, 0xf1, 0x00 }, 4, 8, "movbe" },
	{ { 0x66, 0x0f, 0x38, 0xf6, 0xc0 }, 5, 8, "adcx" },
	{ { 0xf3, 0x0f, 0x38, 0xf6, 0xc0 }, 5, 8, "adox" },
	{ { 0xc4, 0xe2, 0x78, 0xf2, 0xc0 }, 5, 8, "andn" },
	{ { 0xc4, 0xe2, 0x78, 0xf3, 0xc8 }, 5, 8, "blsr" },
	{ { 0xc4, 0xe2, 0x78, 0xf3, 0xd0 }, 5, 8, "blsmsk" },
	{ { 0xc4, 0xe2, 0x78, 0xf3, 0xd8 }, 5, 8, "blsi" },
	{ { 0xc4, 0xe2, 0x78, 0xf5, 0xc0 }, 5, 8, "bzhi" },
	{ { 0xc4, 0xe2, 0x7a, 0xf5, 0xc0 }, 5, 8, "pext" },
	{ { 0xc4, 0xe2, 0x7b, 0xf5, 0xc0 }, 5, 8, "pdep" },
	{ { 0xc4, 0xe2, 0x7b, 0xf6, 0xc0 }, 5, 8, "mulx" },
	{ { 0xc4, 0xe2, 0x78, 0xf7, 0xc0 }, 5, 8, "bextr" },
	{ { 0xc4, 0xe2, 0x79, 0xf7, 0xc0 }, 5, 8, "shlx" },
	{ { 0xc4, 0xe2, 0x7a, 0xf7, 0xc0 }, 5, 8, "sarx" },
	{ { 0xc4, 0xe2, 0x7b, 0xf7, 0xc0 }, 5, 8, "shrx" },
	{ { 0xc4, 0xe3, 0x7b, 0xf0, 0xc0, 1 }, 6, 8, "rorx" },
	{ { 0xa4 }, 1, 8, "movs" }, { { 0xa7 }, 1, 8, "cmps" }, { { 0xaa }, 1, 8, "stos" },
	{ { 0xad }, 1, 8, "lods" }, { { 0xae }, 1, 8, "scas" }, { { 0x6c }, 1, 8, "ins" },
	{ { 0x6f }, 1, 8, "outs" },
};

static void test_names(void)
{
	unsigned bad = 0;
	char first[120] = "";
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		struct insn in;
		int len = decode_insn(dt, names[i].b, names[i].n, names[i].code_size, &in);
		if (len == (int)names[i].n && !strcmp(decode_name(&in), names[i].name))
			continue;
		if (bad++ == 0)
			snprintf(first, sizeof(first), "%s: len %d, name %s", names[i].name, len,
				 len > 0 ? decode_name(&in) : "-");
	}
	report(bad == 0, "decode: all %zu integer-family forms reach their entry%s%s",
	       ARRAY_SIZE(names), bad ? ", first bad: " : "", first);
}

int main(void)
{
	dt = decode_table_create();
	if (!dt)
		return 1;
	test_lengths("one-byte map, 64-bit", 0, map0_64, 8);
	test_lengths("one-byte map, 32-bit", 0, map0_32, 4);
	test_lengths("one-byte map, 16-bit", 0, map0_32, 2);
	test_lengths("0F map, 64-bit", 1, map1, 8);
	test_lengths("0F map, 32-bit", 1, map1, 4);
	test_operands();
	test_truncated();
	test_names();
	decode_table_destroy(dt);
	return 0;
}
