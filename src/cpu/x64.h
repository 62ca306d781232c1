/* x64.h: an encoder for the few x86-64 instruction forms jit.c emits.
 *
 * Every form is "opcode, ModRM (register or [base + index*scale + disp]),
 * immediate", with an operand size of 1, 2, 4 or 8 that picks the 66 prefix
 * or REX.W. Bytes go to a buffer that refuses to overflow: `full` is then
 * set and the caller drops what it wrote.
 */
#ifndef CETVM_X64_H
#define CETVM_X64_H

#include "../types.h"

struct x64 {
	u8 *p, *end;
	bool full;
};

enum { XAX, XCX, XDX, XBX, XSP, XBP, XSI, XDI, X8, X9, X10, X11 };
#define X_NOREG 0xff

/* [base + index * (1 << scale) + disp] */
struct x64_m {
	u8 base, index, scale;
	s32 disp;
};

static inline struct x64_m xm(unsigned base, s32 disp)
{
	return (struct x64_m){ (u8)base, X_NOREG, 0, disp };
}

static inline struct x64_m xmi(unsigned base, unsigned index, unsigned scale, s32 disp)
{
	return (struct x64_m){ (u8)base, (u8)index, (u8)scale, disp };
}

/* Opcodes as jit.c uses them: one to three bytes, 0x0fb6 = 0F B6. */
enum {
	XOP_ALU_RM_R = 0x01, /* (op << 3) | this: op r/m, r (0x00 | op << 3: bytes) */
	XOP_TEST = 0x85,
	XOP_GRP1 = 0x81,     /* /op r/m, imm32 (0x80: bytes) */
	XOP_MOV_ST = 0x89,   /* 0x88: bytes */
	XOP_MOV_LD = 0x8b,
	XOP_LEA = 0x8d,
	XOP_MOV_MI = 0xc7,   /* 0xc6: bytes */
	XOP_SHIFT_I = 0xc1,  /* /4 SHL, /5 SHR, /7 SAR */
	XOP_MOVZX8 = 0x0fb6,
	XOP_MOVZX16 = 0x0fb7,
	XOP_MOVSX8 = 0x0fbe,
	XOP_MOVSX16 = 0x0fbf,
	XOP_MOVSXD = 0x63,
	XOP_SETCC = 0x0f90,  /* + cc */
	XOP_CMOVCC = 0x0f40, /* + cc */
	XOP_JMP_RM = 0xff,   /* /4 */
};

/* op reg, [m] (or op [m], reg: the opcode decides) */
void x64_rm(struct x64 *e, unsigned size, u32 opc, unsigned reg, struct x64_m m);
/* op reg, rm with both registers */
void x64_rr(struct x64 *e, unsigned size, u32 opc, unsigned reg, unsigned rm);
/* op [m], imm and op rm, imm (ext: the ModRM.reg digit; imm_bytes 1 or 4) */
void x64_mi(struct x64 *e, unsigned size, u32 opc, unsigned ext, struct x64_m m, u32 imm,
	    unsigned imm_bytes);
void x64_ri(struct x64 *e, unsigned size, u32 opc, unsigned ext, unsigned rm, u32 imm,
	    unsigned imm_bytes);
/* reg = v, in the shortest form */
void x64_mov_imm(struct x64 *e, unsigned reg, u64 v);
/* Jcc rel32 / JMP rel32 to a place not known yet: returns the rel32
 * field for x64_patch(). */
u8 *x64_jcc(struct x64 *e, unsigned cc);
u8 *x64_jmp(struct x64 *e);
/* Make the rel32 field at `field` reach `to`. */
void x64_patch(u8 *field, const u8 *to);
void x64_ret(struct x64 *e);
void x64_push(struct x64 *e, unsigned reg); /* registers 0..7 */
void x64_pop(struct x64 *e, unsigned reg);
/* MOV reg, imm64 with the immediate left to fill in: returns its field. */
u8 *x64_mov_imm64_field(struct x64 *e, unsigned reg);

#endif
