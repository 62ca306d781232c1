/* test_sse.c: SSE/SSE2/SSE3/SSSE3/SSE4.1/SSE4.2 and MMX instructions in cetvm's interpreter,
 * compared with the host CPU running the same bytes from the same state
 * (fpu_oracle.h), plus the fault rules (#UD, #NM, #GP alignment, #XM). */
#include <math.h>

#include "cpu/sse.h"
#include "fpu_oracle.h"

#define T_IMM 0x01   /* imm8 follows */
#define T_NOMEM 0x02 /* register form only */
#define T_NOREG 0x04 /* memory form only */
#define T_MMX 0x08   /* MMX operands: random x87 register contents */
#define T_W 0x10     /* also test with REX.W */
#define T_LEN 0x20   /* small signed lengths in RAX/RDX (PCMPESTRx) */
#define T_IMM8 0x40  /* imm8 only 0..7 (CMPPS predicates) */
#define T_FLAGS 0x80 /* compare OF SF ZF AF PF CF */

enum { K_INT, K_F32, K_F64, K_STR };

struct stest {
	const char *name;
	u8 pfx, map, op, kind, flags;
	s8 reg; /* fixed ModRM.reg (group opcodes), or -1 */
};

#define I(n, p, m, o, f) { n, p, m, o, K_INT, f, -1 }
#define S(n, p, m, o, f) { n, p, m, o, K_F32, f, -1 }
#define D(n, p, m, o, f) { n, p, m, o, K_F64, f, -1 }
#define G(n, p, o, r, f) { n, p, 1, o, K_INT, (f) | T_NOMEM | T_IMM, r }

static const struct stest tests[] = {
	/* moves */
	I("movups", 0, 1, 0x10, 0), I("movups st", 0, 1, 0x11, 0), I("movupd", 0x66, 1, 0x10, 0),
	S("movss", 0xf3, 1, 0x10, 0), S("movss st", 0xf3, 1, 0x11, 0), D("movsd", 0xf2, 1, 0x10, 0),
	D("movsd st", 0xf2, 1, 0x11, 0), I("movlps/movhlps", 0, 1, 0x12, 0),
	I("movlps st", 0, 1, 0x13, T_NOREG), I("movlpd", 0x66, 1, 0x12, T_NOREG),
	I("movlpd st", 0x66, 1, 0x13, T_NOREG), I("movhps/movlhps", 0, 1, 0x16, 0),
	I("movhps st", 0, 1, 0x17, T_NOREG), I("movhpd", 0x66, 1, 0x16, T_NOREG),
	I("movhpd st", 0x66, 1, 0x17, T_NOREG), I("movsldup", 0xf3, 1, 0x12, 0),
	I("movshdup", 0xf3, 1, 0x16, 0), I("movddup", 0xf2, 1, 0x12, 0),
	I("movaps", 0, 1, 0x28, 0), I("movaps st", 0, 1, 0x29, 0), I("movapd", 0x66, 1, 0x28, 0),
	I("movntps", 0, 1, 0x2b, T_NOREG), I("movntdq", 0x66, 1, 0xe7, T_NOREG),
	I("movdqa", 0x66, 1, 0x6f, 0), I("movdqa st", 0x66, 1, 0x7f, 0),
	I("movdqu", 0xf3, 1, 0x6f, 0), I("movdqu st", 0xf3, 1, 0x7f, 0),
	I("lddqu", 0xf2, 1, 0xf0, T_NOREG), I("movntdqa", 0x66, 2, 0x2a, T_NOREG),
	I("movd/q xmm,r/m", 0x66, 1, 0x6e, T_W), I("movd/q r/m,xmm", 0x66, 1, 0x7e, T_W),
	I("movq xmm,xmm/m64", 0xf3, 1, 0x7e, 0), I("movq xmm/m64,xmm", 0x66, 1, 0xd6, 0),
	I("movd/q mm,r/m", 0, 1, 0x6e, T_W | T_MMX), I("movd/q r/m,mm", 0, 1, 0x7e, T_W | T_MMX),
	I("movq mm", 0, 1, 0x6f, T_MMX), I("movq mm st", 0, 1, 0x7f, T_MMX),
	I("movntq", 0, 1, 0xe7, T_MMX | T_NOREG), I("movq2dq", 0xf3, 1, 0xd6, T_MMX | T_NOMEM),
	I("movdq2q", 0xf2, 1, 0xd6, T_MMX | T_NOMEM), I("movnti", 0, 1, 0xc3, T_W | T_NOREG),
	S("movmskps", 0, 1, 0x50, T_NOMEM), D("movmskpd", 0x66, 1, 0x50, T_NOMEM),
	I("pmovmskb", 0x66, 1, 0xd7, T_NOMEM), I("pmovmskb mm", 0, 1, 0xd7, T_NOMEM | T_MMX),
	I("maskmovdqu", 0x66, 1, 0xf7, T_NOMEM), I("maskmovq", 0, 1, 0xf7, T_NOMEM | T_MMX),
	/* logic, shuffles, unpacks, inserts, extracts */
	I("andps", 0, 1, 0x54, 0), I("andnpd", 0x66, 1, 0x55, 0), I("orps", 0, 1, 0x56, 0),
	I("xorpd", 0x66, 1, 0x57, 0), I("unpcklps", 0, 1, 0x14, 0), I("unpckhps", 0, 1, 0x15, 0),
	I("unpcklpd", 0x66, 1, 0x14, 0), I("unpckhpd", 0x66, 1, 0x15, 0),
	I("pshufd", 0x66, 1, 0x70, T_IMM), I("pshufhw", 0xf3, 1, 0x70, T_IMM),
	I("pshuflw", 0xf2, 1, 0x70, T_IMM), I("pshufw", 0, 1, 0x70, T_IMM | T_MMX),
	I("shufps", 0, 1, 0xc6, T_IMM), I("shufpd", 0x66, 1, 0xc6, T_IMM),
	I("pinsrw", 0x66, 1, 0xc4, T_IMM), I("pinsrw mm", 0, 1, 0xc4, T_IMM | T_MMX),
	I("pextrw", 0x66, 1, 0xc5, T_IMM | T_NOMEM), I("pextrw mm", 0, 1, 0xc5, T_IMM | T_NOMEM | T_MMX),
	I("pextrb", 0x66, 3, 0x14, T_IMM), I("pextrw r/m", 0x66, 3, 0x15, T_IMM),
	I("pextrd/q", 0x66, 3, 0x16, T_IMM | T_W), I("extractps", 0x66, 3, 0x17, T_IMM),
	I("pinsrb", 0x66, 3, 0x20, T_IMM), I("insertps", 0x66, 3, 0x21, T_IMM),
	I("pinsrd/q", 0x66, 3, 0x22, T_IMM | T_W),
	/* packed integer, SSE2 and MMX */
	I("punpcklbw", 0x66, 1, 0x60, 0), I("punpcklwd", 0x66, 1, 0x61, 0),
	I("punpckldq", 0x66, 1, 0x62, 0), I("packsswb", 0x66, 1, 0x63, 0),
	I("pcmpgtb", 0x66, 1, 0x64, 0), I("pcmpgtw", 0x66, 1, 0x65, 0), I("pcmpgtd", 0x66, 1, 0x66, 0),
	I("packuswb", 0x66, 1, 0x67, 0), I("punpckhbw", 0x66, 1, 0x68, 0),
	I("punpckhwd", 0x66, 1, 0x69, 0), I("punpckhdq", 0x66, 1, 0x6a, 0),
	I("packssdw", 0x66, 1, 0x6b, 0), I("punpcklqdq", 0x66, 1, 0x6c, 0),
	I("punpckhqdq", 0x66, 1, 0x6d, 0), I("pcmpeqb", 0x66, 1, 0x74, 0),
	I("pcmpeqw", 0x66, 1, 0x75, 0), I("pcmpeqd", 0x66, 1, 0x76, 0),
	I("psrlw", 0x66, 1, 0xd1, 0), I("psrld", 0x66, 1, 0xd2, 0), I("psrlq", 0x66, 1, 0xd3, 0),
	I("paddq", 0x66, 1, 0xd4, 0), I("pmullw", 0x66, 1, 0xd5, 0), I("psubusb", 0x66, 1, 0xd8, 0),
	I("psubusw", 0x66, 1, 0xd9, 0), I("pminub", 0x66, 1, 0xda, 0), I("pand", 0x66, 1, 0xdb, 0),
	I("paddusb", 0x66, 1, 0xdc, 0), I("paddusw", 0x66, 1, 0xdd, 0), I("pmaxub", 0x66, 1, 0xde, 0),
	I("pandn", 0x66, 1, 0xdf, 0), I("pavgb", 0x66, 1, 0xe0, 0), I("psraw", 0x66, 1, 0xe1, 0),
	I("psrad", 0x66, 1, 0xe2, 0), I("pavgw", 0x66, 1, 0xe3, 0), I("pmulhuw", 0x66, 1, 0xe4, 0),
	I("pmulhw", 0x66, 1, 0xe5, 0), I("psubsb", 0x66, 1, 0xe8, 0), I("psubsw", 0x66, 1, 0xe9, 0),
	I("pminsw", 0x66, 1, 0xea, 0), I("por", 0x66, 1, 0xeb, 0), I("paddsb", 0x66, 1, 0xec, 0),
	I("paddsw", 0x66, 1, 0xed, 0), I("pmaxsw", 0x66, 1, 0xee, 0), I("pxor", 0x66, 1, 0xef, 0),
	I("psllw", 0x66, 1, 0xf1, 0), I("pslld", 0x66, 1, 0xf2, 0), I("psllq", 0x66, 1, 0xf3, 0),
	I("pmuludq", 0x66, 1, 0xf4, 0), I("pmaddwd", 0x66, 1, 0xf5, 0), I("psadbw", 0x66, 1, 0xf6, 0),
	I("psubb", 0x66, 1, 0xf8, 0), I("psubw", 0x66, 1, 0xf9, 0), I("psubd", 0x66, 1, 0xfa, 0),
	I("psubq", 0x66, 1, 0xfb, 0), I("paddb", 0x66, 1, 0xfc, 0), I("paddw", 0x66, 1, 0xfd, 0),
	I("paddd", 0x66, 1, 0xfe, 0),
	I("mmx punpcklbw", 0, 1, 0x60, T_MMX), I("mmx packsswb", 0, 1, 0x63, T_MMX),
	I("mmx pcmpgtw", 0, 1, 0x65, T_MMX), I("mmx punpckhdq", 0, 1, 0x6a, T_MMX),
	I("mmx psrlq", 0, 1, 0xd3, T_MMX), I("mmx paddq", 0, 1, 0xd4, T_MMX),
	I("mmx pmulhw", 0, 1, 0xe5, T_MMX), I("mmx psadbw", 0, 1, 0xf6, T_MMX),
	I("mmx paddusb", 0, 1, 0xdc, T_MMX), I("mmx psraw", 0, 1, 0xe1, T_MMX),
	I("mmx pmaddwd", 0, 1, 0xf5, T_MMX), I("mmx pxor", 0, 1, 0xef, T_MMX),
	G("psrlw imm", 0x66, 0x71, 2, 0), G("psraw imm", 0x66, 0x71, 4, 0), G("psllw imm", 0x66, 0x71, 6, 0),
	G("psrld imm", 0x66, 0x72, 2, 0), G("psrad imm", 0x66, 0x72, 4, 0), G("pslld imm", 0x66, 0x72, 6, 0),
	G("psrlq imm", 0x66, 0x73, 2, 0), G("psrldq", 0x66, 0x73, 3, 0), G("psllq imm", 0x66, 0x73, 6, 0),
	G("pslldq", 0x66, 0x73, 7, 0), G("mmx psllw imm", 0, 0x71, 6, T_MMX),
	G("mmx psrad imm", 0, 0x72, 4, T_MMX), G("mmx psrlq imm", 0, 0x73, 2, T_MMX),
	/* SSSE3 */
	I("pshufb", 0x66, 2, 0x00, 0), I("phaddw", 0x66, 2, 0x01, 0), I("phaddd", 0x66, 2, 0x02, 0),
	I("phaddsw", 0x66, 2, 0x03, 0), I("pmaddubsw", 0x66, 2, 0x04, 0), I("phsubw", 0x66, 2, 0x05, 0),
	I("phsubd", 0x66, 2, 0x06, 0), I("phsubsw", 0x66, 2, 0x07, 0), I("psignb", 0x66, 2, 0x08, 0),
	I("psignw", 0x66, 2, 0x09, 0), I("psignd", 0x66, 2, 0x0a, 0), I("pmulhrsw", 0x66, 2, 0x0b, 0),
	I("pabsb", 0x66, 2, 0x1c, 0), I("pabsw", 0x66, 2, 0x1d, 0), I("pabsd", 0x66, 2, 0x1e, 0),
	I("palignr", 0x66, 3, 0x0f, T_IMM), I("mmx pshufb", 0, 2, 0x00, T_MMX),
	I("mmx phaddsw", 0, 2, 0x03, T_MMX), I("mmx palignr", 0, 3, 0x0f, T_IMM | T_MMX),
	/* SSE4.1 / 4.2 integer */
	I("pblendvb", 0x66, 2, 0x10, 0), I("blendvps", 0x66, 2, 0x14, 0), I("blendvpd", 0x66, 2, 0x15, 0),
	I("ptest", 0x66, 2, 0x17, T_FLAGS), I("pmovsxbw", 0x66, 2, 0x20, 0), I("pmovsxbd", 0x66, 2, 0x21, 0),
	I("pmovsxbq", 0x66, 2, 0x22, 0), I("pmovsxwd", 0x66, 2, 0x23, 0), I("pmovsxwq", 0x66, 2, 0x24, 0),
	I("pmovsxdq", 0x66, 2, 0x25, 0), I("pmuldq", 0x66, 2, 0x28, 0), I("pcmpeqq", 0x66, 2, 0x29, 0),
	I("packusdw", 0x66, 2, 0x2b, 0), I("pmovzxbw", 0x66, 2, 0x30, 0), I("pmovzxbd", 0x66, 2, 0x31, 0),
	I("pmovzxbq", 0x66, 2, 0x32, 0), I("pmovzxwd", 0x66, 2, 0x33, 0), I("pmovzxwq", 0x66, 2, 0x34, 0),
	I("pmovzxdq", 0x66, 2, 0x35, 0), I("pcmpgtq", 0x66, 2, 0x37, 0), I("pminsb", 0x66, 2, 0x38, 0),
	I("pminsd", 0x66, 2, 0x39, 0), I("pminuw", 0x66, 2, 0x3a, 0), I("pminud", 0x66, 2, 0x3b, 0),
	I("pmaxsb", 0x66, 2, 0x3c, 0), I("pmaxsd", 0x66, 2, 0x3d, 0), I("pmaxuw", 0x66, 2, 0x3e, 0),
	I("pmaxud", 0x66, 2, 0x3f, 0), I("pmulld", 0x66, 2, 0x40, 0), I("phminposuw", 0x66, 2, 0x41, 0),
	I("blendps", 0x66, 3, 0x0c, T_IMM), I("blendpd", 0x66, 3, 0x0d, T_IMM),
	I("pblendw", 0x66, 3, 0x0e, T_IMM), I("mpsadbw", 0x66, 3, 0x42, T_IMM),
	{ "pcmpestrm", 0x66, 3, 0x60, K_STR, T_IMM | T_LEN | T_FLAGS, -1 },
	{ "pcmpestri", 0x66, 3, 0x61, K_STR, T_IMM | T_LEN | T_FLAGS | T_W, -1 },
	{ "pcmpistrm", 0x66, 3, 0x62, K_STR, T_IMM | T_FLAGS, -1 },
	{ "pcmpistri", 0x66, 3, 0x63, K_STR, T_IMM | T_FLAGS, -1 },
	{ "crc32 r/m8", 0xf2, 2, 0xf0, K_INT, T_W, -1 }, { "crc32 r/m32", 0xf2, 2, 0xf1, K_INT, T_W, -1 },
	/* floating point */
	S("sqrtps", 0, 1, 0x51, 0), D("sqrtpd", 0x66, 1, 0x51, 0), S("sqrtss", 0xf3, 1, 0x51, 0),
	D("sqrtsd", 0xf2, 1, 0x51, 0), S("addps", 0, 1, 0x58, 0), D("addpd", 0x66, 1, 0x58, 0),
	S("addss", 0xf3, 1, 0x58, 0), D("addsd", 0xf2, 1, 0x58, 0), S("mulps", 0, 1, 0x59, 0),
	D("mulsd", 0xf2, 1, 0x59, 0), S("subss", 0xf3, 1, 0x5c, 0), D("subpd", 0x66, 1, 0x5c, 0),
	S("minps", 0, 1, 0x5d, 0), D("minsd", 0xf2, 1, 0x5d, 0), S("divps", 0, 1, 0x5e, 0),
	D("divsd", 0xf2, 1, 0x5e, 0), S("maxss", 0xf3, 1, 0x5f, 0), D("maxpd", 0x66, 1, 0x5f, 0),
	S("haddps", 0xf2, 1, 0x7c, 0), D("haddpd", 0x66, 1, 0x7c, 0), S("hsubps", 0xf2, 1, 0x7d, 0),
	D("hsubpd", 0x66, 1, 0x7d, 0), S("addsubps", 0xf2, 1, 0xd0, 0), D("addsubpd", 0x66, 1, 0xd0, 0),
	S("cmpps", 0, 1, 0xc2, T_IMM | T_IMM8), D("cmppd", 0x66, 1, 0xc2, T_IMM | T_IMM8),
	S("cmpss", 0xf3, 1, 0xc2, T_IMM | T_IMM8), D("cmpsd", 0xf2, 1, 0xc2, T_IMM | T_IMM8),
	S("ucomiss", 0, 1, 0x2e, T_FLAGS), S("comiss", 0, 1, 0x2f, T_FLAGS),
	D("ucomisd", 0x66, 1, 0x2e, T_FLAGS), D("comisd", 0x66, 1, 0x2f, T_FLAGS),
	S("roundps", 0x66, 3, 0x08, T_IMM), D("roundpd", 0x66, 3, 0x09, T_IMM),
	S("roundss", 0x66, 3, 0x0a, T_IMM), D("roundsd", 0x66, 3, 0x0b, T_IMM),
	S("dpps", 0x66, 3, 0x40, T_IMM), D("dppd", 0x66, 3, 0x41, T_IMM),
	/* conversions */
	S("cvtsi2ss", 0xf3, 1, 0x2a, T_W), D("cvtsi2sd", 0xf2, 1, 0x2a, T_W),
	I("cvtpi2ps", 0, 1, 0x2a, T_MMX), I("cvtpi2pd", 0x66, 1, 0x2a, T_MMX),
	S("cvttss2si", 0xf3, 1, 0x2c, T_W), D("cvttsd2si", 0xf2, 1, 0x2c, T_W),
	S("cvtss2si", 0xf3, 1, 0x2d, T_W), D("cvtsd2si", 0xf2, 1, 0x2d, T_W),
	S("cvttps2pi", 0, 1, 0x2c, T_MMX), S("cvtps2pi", 0, 1, 0x2d, T_MMX),
	D("cvttpd2pi", 0x66, 1, 0x2c, T_MMX), D("cvtpd2pi", 0x66, 1, 0x2d, T_MMX),
	S("cvtps2pd", 0, 1, 0x5a, 0), D("cvtpd2ps", 0x66, 1, 0x5a, 0), S("cvtss2sd", 0xf3, 1, 0x5a, 0),
	D("cvtsd2ss", 0xf2, 1, 0x5a, 0), I("cvtdq2ps", 0, 1, 0x5b, 0), S("cvtps2dq", 0x66, 1, 0x5b, 0),
	S("cvttps2dq", 0xf3, 1, 0x5b, 0), D("cvttpd2dq", 0x66, 1, 0xe6, 0), I("cvtdq2pd", 0xf3, 1, 0xe6, 0),
	D("cvtpd2dq", 0xf2, 1, 0xe6, 0),
};

/* Encode: [pfx] [REX] 0F [38|3A] op ModRM [imm8]. form 0: xmm1, xmm2;
 * 1: xmm1, [rbx]; 2: xmm9, xmm10 (REX.R, REX.B); 3: form 0 with REX.W. */
static unsigned encode(const struct stest *t, int form, u8 imm, u8 *b)
{
	unsigned n = 0;
	unsigned reg = t->reg >= 0 ? (unsigned)t->reg : 1;
	if (t->pfx)
		b[n++] = t->pfx;
	if (form == 2)
		b[n++] = t->reg >= 0 ? 0x41 : 0x45;
	if (form == 3)
		b[n++] = 0x48;
	b[n++] = 0x0f;
	if (t->map == 2)
		b[n++] = 0x38;
	if (t->map == 3)
		b[n++] = 0x3a;
	b[n++] = t->op;
	b[n++] = (u8)((form == 1 ? 0x03 : 0xc2) | (reg << 3));
	if (t->flags & T_IMM)
		b[n++] = imm;
	return n;
}

static void str_vec(struct oracle *o, u8 *p)
{
	static const u8 alpha[] = { 0, 'a', 'b', 'c', 'z', 0x80, 0xff, 0x7f, 'a', 'b' };
	for (int i = 0; i < 16; i++)
		p[i] = alpha[o_rand(o) % ARRAY_SIZE(alpha)];
}

static void make_state(struct oracle *o, const struct stest *t, struct ostate *st, u8 *mem)
{
	o_rand_state(o, st, mem, t->kind == K_STR ? K_INT : t->kind);
	if (t->kind == K_STR) {
		for (int i = 0; i < 16; i++)
			str_vec(o, st->fx + 160 + 16 * i);
		for (int i = 0; i < 4096; i += 16)
			str_vec(o, mem + i);
	}
	if (t->flags & T_MMX) {
		for (int i = 0; i < 8; i++) {
			u8 *r = st->fx + 32 + 16 * i;
			o_rand_vec(o, r, t->kind);
			store_le(r + 8, 2, o_rand(o) & 0xffff);
			memset(r + 10, 0, 6);
		}
		st->fx[4] = (u8)o_rand(o); /* some registers in use */
	}
	if (t->flags & T_LEN) {
		st->gpr[R_AX] = (u64)(s64)((int)(o_rand(o) % 41) - 20);
		st->gpr[R_DX] = (u64)(s64)((int)(o_rand(o) % 41) - 20);
	}
}

static u8 pick_imm(struct oracle *o, const struct stest *t)
{
	if (t->flags & T_IMM8)
		return (u8)(o_rand(o) & 7);
	if (t->kind == K_STR)
		return (u8)(o_rand(o) & 0x7f);
	if (t->reg >= 0)
		return (u8)(o_rand(o) % 72);
	return (u8)o_rand(o);
}

static void run_group(struct oracle *o, const struct stest *t, int cases)
{
	struct ocmp m = { .fsw_mask = 0xffff, .flags_mask = 0, .x87_regs = true };
	char why[160] = "";
	u8 mem[4096], b[16];
	struct ostate st;
	bool ok = true;
	if (t->flags & T_FLAGS)
		m.flags_mask = X86_EFLAGS_ARITH;
	for (int form = 0; form < 4 && ok; form++) {
		if ((form == 1 && (t->flags & T_NOMEM)) || (form != 1 && (t->flags & T_NOREG)) ||
		    (form == 3 && !(t->flags & T_W)))
			continue;
		for (int i = 0; i < cases && ok; i++) {
			u8 imm = pick_imm(o, t);
			unsigned n = encode(t, form, imm, b);
			make_state(o, t, &st, mem);
			ok = o_check(o, b, n, &st, mem, &m, why, sizeof(why));
			if (!ok)
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " (form %d case %d imm %02x)", form, i, imm);
		}
	}
	report(ok, "%s matches the host%s%s", t->name, ok ? "" : ": ", ok ? "" : why);
}

/* Execute bytes on the emulator only; returns the vector or -1. */
static int emu_vec(struct oracle *o, const u8 *b, unsigned n, struct ostate *st, u8 *mem)
{
	return o_emu(o, b, n, st, mem);
}

static void fault_rules(struct oracle *o)
{
	static const u8 addps[] = { 0x0f, 0x58, 0xca }, movaps_m[] = { 0x0f, 0x28, 0x4b, 0x04 };
	static const u8 movups_m[] = { 0x0f, 0x10, 0x4b, 0x04 }, divss[] = { 0xf3, 0x0f, 0x5e, 0xca };
	static const u8 paddb_mm[] = { 0x0f, 0xfc, 0xca }, lock_addps[] = { 0xf0, 0x0f, 0x58, 0x0b };
	struct cpu *c = o->cpu;
	struct insn in;
	struct ostate st;
	u8 mem[4096];
	o_rand_state(o, &st, mem, K_F32);

	c->cr4 &= ~X86_CR4_OSFXSR;
	report(emu_vec(o, addps, 3, &st, mem) == X86_EXC_UD, "CR4.OSFXSR=0: addps -> #UD");
	o_reset_cpu(o);
	c->cr0 |= X86_CR0_EM;
	report(emu_vec(o, addps, 3, &st, mem) == X86_EXC_UD, "CR0.EM=1: addps -> #UD");
	report(emu_vec(o, paddb_mm, 3, &st, mem) == X86_EXC_UD, "CR0.EM=1: MMX paddb -> #UD");
	o_reset_cpu(o);
	c->cr0 |= X86_CR0_TS;
	report(emu_vec(o, addps, 3, &st, mem) == X86_EXC_NM, "CR0.TS=1: addps -> #NM");
	report(emu_vec(o, paddb_mm, 3, &st, mem) == X86_EXC_NM, "CR0.TS=1: MMX paddb -> #NM");
	o_reset_cpu(o);
	report(emu_vec(o, movaps_m, 4, &st, mem) == X86_EXC_GP, "movaps misaligned m128 -> #GP");
	report(emu_vec(o, movups_m, 4, &st, mem) == -1, "movups misaligned m128 is fine");
	report(decode_insn(o->dt, lock_addps, 4, 8, &in) == DEC_INVALID, "LOCK addps -> #UD");
	c->feat[FL_1][FR_ECX] &= ~(1u << 19);
	static const u8 pminsd[] = { 0x66, 0x0f, 0x38, 0x39, 0xca };
	report(emu_vec(o, pminsd, 5, &st, mem) == X86_EXC_UD, "SSE4.1 absent: pminsd -> #UD");
	o_reset_cpu(o);

	/* Unmasked divide-by-zero: #XM with OSXMMEXCPT, else #UD; ZE is set
	 * and the destination is unchanged (SDM Vol. 1 11.5). */
	memset(st.fx + 160, 0, 256);
	store_le(st.fx + 176, 4, 0x3f800000); /* xmm1 = 1.0, xmm2 = 0.0 */
	store_le(st.fx + 24, 4, 0x1f80 & ~0x200u);
	struct ostate s2 = st;
	int v = emu_vec(o, divss, 4, &s2, mem);
	report(v == X86_EXC_XM && (load_le(s2.fx + 24, 4) & MXCSR_ZE) &&
		       load_le(s2.fx + 176, 4) == 0x3f800000,
	       "unmasked ZE: divss -> #XM, ZE set, destination unchanged");
	c->cr4 &= ~X86_CR4_OSXMMEXCPT;
	s2 = st;
	report(emu_vec(o, divss, 4, &s2, mem) == X86_EXC_UD, "unmasked ZE without OSXMMEXCPT -> #UD");
	o_reset_cpu(o);
	s2 = st;
	store_le(s2.fx + 24, 4, 0x1f80);
	report(emu_vec(o, divss, 4, &s2, mem) == -1 && (load_le(s2.fx + 24, 4) & MXCSR_ZE) &&
		       load_le(s2.fx + 176, 4) == 0x7f800000,
	       "masked ZE: divss gives +inf and sets ZE");
}

static void ldmxcsr_rules(struct oracle *o)
{
	static const u8 ldmxcsr[] = { 0x0f, 0xae, 0x13 }, stmxcsr[] = { 0x0f, 0xae, 0x1b };
	struct ostate st;
	u8 mem[4096];
	o_rand_state(o, &st, mem, K_INT);
	store_le(mem, 4, 0x7fc0);
	int v = emu_vec(o, ldmxcsr, 3, &st, mem);
	report(v == -1 && load_le(st.fx + 24, 4) == 0x7fc0, "ldmxcsr loads 0x7fc0 (DAZ, RC)");
	store_le(mem, 4, 0x10000);
	report(emu_vec(o, ldmxcsr, 3, &st, mem) == X86_EXC_GP, "ldmxcsr reserved bit 16 -> #GP");
	v = emu_vec(o, stmxcsr, 3, &st, mem);
	report(v == -1 && load_le(mem, 4) == 0x7fc0, "stmxcsr stores MXCSR");
}

/* RCP/RSQRT: implementation-specific approximations; check the SDM bound. */
static void rcp_rsqrt(struct oracle *o)
{
	static const u8 rcpps[] = { 0x0f, 0x53, 0xca }, rsqrtps[] = { 0x0f, 0x52, 0xca };
	bool ok = true;
	for (int i = 0; i < 2000 && ok; i++) {
		struct ostate st;
		u8 mem[4096];
		o_rand_state(o, &st, mem, K_F32);
		bool rs = i & 1;
		if (emu_vec(o, rs ? rsqrtps : rcpps, 3, &st, mem) != -1)
			ok = false;
		for (int k = 0; k < 4 && ok; k++) {
			float x, r;
			u32 xb = (u32)load_le(st.fx + 192 + 4 * k, 4), rb = (u32)load_le(st.fx + 176 + 4 * k, 4);
			memcpy(&x, &xb, 4);
			memcpy(&r, &rb, 4);
			double want = rs ? 1.0 / sqrt(x) : 1.0 / x;
			if (fpclassify(x) == FP_SUBNORMAL || x == 0)
				ok = isinf(r) && signbit(r) == signbit(x);
			else if (isnan(x) || (rs && x < 0))
				ok = isnan(r);
			else if (isinf(want) || fabs(want) < 0x1p-126)
				ok = isinf(want) ? isinf(r) : r == 0;
			else
				ok = fabs(r - want) <= fabs(want) * 1.5 * 0x1p-12;
			if (!ok)
				report(0, "%s(%a) = %a", rs ? "rsqrtps" : "rcpps", x, r);
		}
	}
	report(ok, "rcpps/rsqrtps within 1.5*2^-12 and special values");
}

int main(void)
{
	struct oracle o;
	if (o_init(&o)) {
		report(0, "oracle setup");
		return 1;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		run_group(&o, &tests[i], 200);
	rcp_rsqrt(&o);
	fault_rules(&o);
	ldmxcsr_rules(&o);
	o_fini(&o);
	return 0;
}
