/* x64.c: the encoder of x64.h (Intel SDM Vol. 2, 2.1 and 2.2.1). */
#include "x64.h"

#include <string.h>

/* The longest form: 66 REX 0F xx ModRM SIB disp32 imm32. */
#define MAX_INSN 16

static bool room(struct x64 *e)
{
	if (e->full || e->end - e->p < MAX_INSN) {
		e->full = true;
		return false;
	}
	return true;
}

static void put8(struct x64 *e, unsigned b)
{
	*e->p++ = (u8)b;
}

static void put32(struct x64 *e, u32 v)
{
	memcpy(e->p, &v, 4);
	e->p += 4;
}

/* Prefixes and opcode. rex_rxb: REX.R, REX.X, REX.B in bits 2..0; `byte_regs`:
 * a byte operand names SPL..DIL (registers 4..7), which takes a REX. */
static void head(struct x64 *e, unsigned size, u32 opc, unsigned rex_rxb, bool byte_regs)
{
	if (size == 2)
		put8(e, 0x66);
	unsigned rex = (size == 8 ? 8u : 0u) | rex_rxb;
	if (rex || byte_regs)
		put8(e, 0x40 | rex);
	if (opc > 0xffff)
		put8(e, opc >> 16);
	if (opc > 0xff)
		put8(e, (opc >> 8) & 0xff);
	put8(e, opc & 0xff);
}

static bool byte_reg(unsigned size, unsigned r)
{
	return size == 1 && r >= 4 && r < 8;
}

static void modrm_mem(struct x64 *e, unsigned reg, struct x64_m m)
{
	unsigned r = reg & 7, b = m.base & 7;
	unsigned mod = m.disp == 0 && b != 5 ? 0 : m.disp >= -128 && m.disp <= 127 ? 1 : 2;
	if (m.index == X_NOREG && b != 4) {
		put8(e, mod << 6 | r << 3 | b);
	} else {
		unsigned i = m.index == X_NOREG ? 4 : m.index & 7;
		put8(e, mod << 6 | r << 3 | 4);
		put8(e, (unsigned)m.scale << 6 | i << 3 | b);
	}
	if (mod == 1)
		put8(e, (u8)m.disp);
	else if (mod == 2)
		put32(e, (u32)m.disp);
}

static unsigned rex_mem(unsigned reg, struct x64_m m)
{
	unsigned x = m.index != X_NOREG ? (m.index >> 3) & 1 : 0;
	return ((reg >> 3) & 1) << 2 | x << 1 | ((m.base >> 3) & 1);
}

void x64_rm(struct x64 *e, unsigned size, u32 opc, unsigned reg, struct x64_m m)
{
	if (!room(e))
		return;
	/* MOVZX/MOVSX read a byte but name a wider register: no byte REX. */
	bool narrow = opc != XOP_MOVZX8 && opc != XOP_MOVSX8;
	head(e, size, opc, rex_mem(reg, m), narrow && byte_reg(size, reg));
	modrm_mem(e, reg, m);
}

void x64_rr(struct x64 *e, unsigned size, u32 opc, unsigned reg, unsigned rm)
{
	if (!room(e))
		return;
	unsigned rex = ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
	head(e, size, opc, rex, byte_reg(size, reg) || byte_reg(size, rm));
	put8(e, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

static void put_imm(struct x64 *e, u32 imm, unsigned bytes)
{
	if (bytes == 1)
		put8(e, imm);
	else
		put32(e, imm);
}

void x64_mi(struct x64 *e, unsigned size, u32 opc, unsigned ext, struct x64_m m, u32 imm,
	    unsigned imm_bytes)
{
	if (!room(e))
		return;
	head(e, size, opc, rex_mem(0, m), false);
	modrm_mem(e, ext, m);
	put_imm(e, imm, imm_bytes);
}

void x64_ri(struct x64 *e, unsigned size, u32 opc, unsigned ext, unsigned rm, u32 imm,
	    unsigned imm_bytes)
{
	if (!room(e))
		return;
	head(e, size, opc, (rm >> 3) & 1, byte_reg(size, rm));
	put8(e, 0xc0 | (ext & 7) << 3 | (rm & 7));
	put_imm(e, imm, imm_bytes);
}

void x64_mov_imm(struct x64 *e, unsigned reg, u64 v)
{
	if (!room(e))
		return;
	if (v <= 0xffffffffull) { /* MOV r32, imm32 zero-extends */
		head(e, 4, 0xb8 + (reg & 7), (reg >> 3) & 1, false);
		put32(e, (u32)v);
	} else if ((u64)(s64)(s32)v == v) { /* MOV r/m64, simm32 */
		x64_ri(e, 8, XOP_MOV_MI, 0, reg, (u32)v, 4);
	} else {
		head(e, 8, 0xb8 + (reg & 7), (reg >> 3) & 1, false);
		put32(e, (u32)v);
		put32(e, (u32)(v >> 32));
	}
}

u8 *x64_jcc(struct x64 *e, unsigned cc)
{
	if (!room(e))
		return NULL;
	put8(e, 0x0f);
	put8(e, 0x80 + cc);
	put32(e, 0);
	return e->p - 4;
}

u8 *x64_jmp(struct x64 *e)
{
	if (!room(e))
		return NULL;
	put8(e, 0xe9);
	put32(e, 0);
	return e->p - 4;
}

void x64_patch(u8 *field, const u8 *to)
{
	if (!field)
		return;
	s32 rel = (s32)(to - (field + 4));
	memcpy(field, &rel, 4);
}

void x64_ret(struct x64 *e)
{
	if (room(e))
		put8(e, 0xc3);
}

void x64_push(struct x64 *e, unsigned reg)
{
	if (room(e))
		put8(e, 0x50 + (reg & 7));
}

void x64_pop(struct x64 *e, unsigned reg)
{
	if (room(e))
		put8(e, 0x58 + (reg & 7));
}

u8 *x64_mov_imm64_field(struct x64 *e, unsigned reg)
{
	if (!room(e))
		return NULL;
	head(e, 8, 0xb8 + (reg & 7), (reg >> 3) & 1, false);
	put32(e, 0);
	put32(e, 0);
	return e->p - 8;
}
