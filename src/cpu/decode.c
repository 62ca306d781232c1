/* decode.c: x86 instruction decoder driven by the ops_*.def opcode table. */
#include "decode.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct opdef {
	u8 map, op, pfx, mod;
	s8 reg, rm;
	u8 imm, size;
	u16 flags;
	insn_fn fn;
	const char *name;
};

static const struct opdef defs[] = {
#define OP(map, op, pfx, mod, reg, rm, imm, size, flags, fn, name)                  \
	{ map, op, PFX_##pfx, MOD_##mod, reg, rm, IMM_##imm, SZ_##size, flags, fn, name },
#include "ops_all.def"
#undef OP
};

/* Index of defs[] by (map, opcode): the candidates for one opcode are
 * order[first .. first+count). Built once; read-only afterwards. */
struct decode_table {
	u16 first[4][256];
	u8 count[4][256];
	u16 order[ARRAY_SIZE(defs) * 8];
};

static unsigned def_key(const struct opdef *d, unsigned k)
{
	/* An OPF_REGOP entry stands for the 8 opcodes d->op .. d->op+7. */
	return d->map * 256u + d->op + k;
}

struct decode_table *decode_table_create(void)
{
	struct decode_table *t = calloc(1, sizeof(*t));
	unsigned n = 0;
	if (!t)
		return NULL;
	for (unsigned key = 0; key < 4 * 256; key++) {
		unsigned map = key / 256, op = key % 256;
		t->first[map][op] = (u16)n;
		for (unsigned i = 0; i < ARRAY_SIZE(defs); i++) {
			unsigned span = (defs[i].flags & OPF_REGOP) ? 8 : 1;
			for (unsigned k = 0; k < span; k++) {
				if (def_key(&defs[i], k) == key && n < ARRAY_SIZE(t->order)) {
					t->order[n++] = (u16)i;
					t->count[map][op]++;
				}
			}
		}
	}
	return t;
}

void decode_table_destroy(struct decode_table *t)
{
	free(t);
}

const char *decode_name(const struct insn *in)
{
	return in->def < ARRAY_SIZE(defs) ? defs[in->def].name : "?";
}

unsigned decode_opflags(const struct insn *in)
{
	return in->def < ARRAY_SIZE(defs) ? defs[in->def].flags : 0;
}

/* Decoder state between pipeline steps. */
struct dstate {
	const u8 *b;
	unsigned avail, p;
	unsigned code_size;
	bool m64;
	u8 rex;      /* 0 if none */
	u8 rep;      /* 0, 0xf2 or 0xf3 (last one wins) */
	bool opsz, adsz, lock, vex;
	u8 vex_pp;   /* VEX implied prefix: 0 none, 1 66, 2 F3, 3 F2 */
	u8 vex_w;
	int seg;     /* override, or -1 */
	bool notrack;
};

static int fetch8(struct dstate *s, u8 *v)
{
	if (s->p >= 15)
		return DEC_TOOLONG;
	if (s->p >= s->avail)
		return DEC_NEED;
	*v = s->b[s->p++];
	return 0;
}

static int fetchn(struct dstate *s, unsigned n, u64 *v)
{
	u64 x = 0;
	for (unsigned i = 0; i < n; i++) {
		u8 byte;
		int r = fetch8(s, &byte);
		if (r)
			return r;
		x |= (u64)byte << (8 * i);
	}
	*v = x;
	return 0;
}

static u64 sext(u64 v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;
	return (u64)((s64)(v << sh) >> sh);
}

/* Step 1: legacy prefixes and REX. Returns the opcode's first byte. */
static int decode_prefixes(struct dstate *s, u8 *opc)
{
	static const s8 segpfx[8] = { SEG_ES, SEG_CS, SEG_SS, SEG_DS, -1, -1, -1, -1 };
	for (;;) {
		u8 b;
		int r = fetch8(s, &b);
		if (r)
			return r;
		switch (b) {
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			s->seg = segpfx[(b >> 3) & 3];
			s->notrack = (b == 0x3e);
			s->rex = 0;
			continue;
		case 0x64: case 0x65:
			s->seg = b == 0x64 ? SEG_FS : SEG_GS;
			s->notrack = false;
			s->rex = 0;
			continue;
		case 0x66: s->opsz = true; s->rex = 0; continue;
		case 0x67: s->adsz = true; s->rex = 0; continue;
		case 0xf0: s->lock = true; s->rex = 0; continue;
		case 0xf2: case 0xf3: s->rep = b; s->rex = 0; continue;
		default:
			break;
		}
		if (s->m64 && (b & 0xf0) == 0x40) {
			s->rex = b; /* a REX not directly before the opcode is ignored */
			continue;
		}
		*opc = b;
		return 0;
	}
}

/* Step 2 (VEX): C4/C5 three- and two-byte VEX prefixes (SDM Vol. 2 2.3). */
static int decode_vex(struct dstate *s, u8 first, unsigned *map, u8 *vvvv, u8 *vl)
{
	u8 b1, b2;
	int r = fetch8(s, &b1);
	if (r)
		return r;
	if (s->rex || s->opsz || s->rep || s->lock)
		return DEC_UD;
	s->vex = true;
	if (first == 0xc5) {
		s->rex = 0x40 | ((~b1 >> 5) & 4); /* R */
		*map = 1;
		*vvvv = (~b1 >> 3) & 15;
		*vl = (b1 >> 2) & 1;
		s->vex_pp = b1 & 3;
		return 0;
	}
	r = fetch8(s, &b2);
	if (r)
		return r;
	s->rex = 0x40 | ((~b1 >> 5) & 7) | ((b2 >> 4) & 8); /* R X B, W */
	if (!s->m64)
		s->rex &= ~3; /* X, B ignored outside 64-bit mode */
	*map = b1 & 31;
	if (*map < 1 || *map > 3)
		return DEC_UD;
	s->vex_w = b2 >> 7;
	*vvvv = (~b2 >> 3) & 15;
	*vl = (b2 >> 2) & 1;
	s->vex_pp = b2 & 3;
	return 0;
}

static unsigned mandatory_prefix(const struct dstate *s)
{
	static const u8 from_vex[4] = { PFX_NP, PFX_66, PFX_F3, PFX_F2 };
	if (s->vex)
		return from_vex[s->vex_pp];
	if (s->rep == 0xf3)
		return PFX_F3;
	if (s->rep == 0xf2)
		return PFX_F2;
	return s->opsz ? PFX_66 : PFX_NP;
}

/* Step 3: pick the most specific table entry for (map, opcode, prefix, ModRM). */
static int lookup(const struct decode_table *t, const struct dstate *s, unsigned map,
		  unsigned op, int modrm)
{
	unsigned pfx = mandatory_prefix(s);
	int best = -1, best_score = -1;
	for (unsigned i = 0; i < t->count[map][op]; i++) {
		unsigned idx = t->order[t->first[map][op] + i];
		const struct opdef *d = &defs[idx];
		int score = 0;
		if (!!(d->flags & OPF_VEX) != s->vex)
			continue;
		/* An entry for the current mode beats one for the other mode
		 * (63 is ARPL outside 64-bit mode, MOVSXD in it). */
		if (!(d->flags & (s->m64 ? OPF_INV64 : OPF_ONLY64)))
			score += 16;
		if (d->pfx != PFX_ANY) {
			if (d->pfx != pfx)
				continue;
			score += 8;
		}
		if (modrm >= 0) {
			unsigned mod = (unsigned)modrm >> 6;
			if (d->mod == MOD_MEM && mod == 3)
				continue;
			if (d->mod == MOD_REG && mod != 3)
				continue;
			if (d->mod == MOD_MEM || d->mod == MOD_REG)
				score += 1;
			if (d->reg >= 0) {
				if (d->reg != ((modrm >> 3) & 7))
					continue;
				score += 2;
			}
			if (d->rm >= 0) {
				if (d->rm != (modrm & 7))
					continue;
				score += 4;
			}
		}
		if (score > best_score) {
			best = (int)idx;
			best_score = score;
		}
	}
	return best;
}

static bool needs_modrm(const struct decode_table *t, unsigned map, unsigned op)
{
	for (unsigned i = 0; i < t->count[map][op]; i++)
		if (defs[t->order[t->first[map][op] + i]].mod != MOD_NONE)
			return true;
	return false;
}

/* Step 4a: 16-bit addressing forms (SDM Vol. 2 Table 2-1). */
static int decode_ea16(struct dstate *s, unsigned mod, unsigned rm, struct insn *in)
{
	static const u8 base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
	static const u8 index16[8] = { R_SI, R_DI, R_SI, R_DI, REG_NONE, REG_NONE,
				       REG_NONE, REG_NONE };
	u64 d = 0;
	int r;
	in->base = base16[rm];
	in->index = index16[rm];
	if (mod == 0 && rm == 6) {
		in->base = REG_NONE;
		r = fetchn(s, 2, &d);
		d = sext(d, 2);
	} else if (mod == 1) {
		r = fetchn(s, 1, &d);
		d = sext(d, 1);
	} else if (mod == 2) {
		r = fetchn(s, 2, &d);
		d = sext(d, 2);
	} else {
		r = 0;
	}
	in->disp = (s32)d;
	if (in->base == R_BP)
		in->seg = SEG_SS;
	return r;
}

/* Step 4b: 32/64-bit addressing with SIB and displacement. */
static int decode_ea32(struct dstate *s, unsigned mod, unsigned rm, struct insn *in)
{
	u64 d = 0;
	int r;
	unsigned rexb = (s->rex & 1) << 3, rexx = (s->rex & 2) << 2;
	in->index = REG_NONE;
	if (rm == 4) {
		u8 sib;
		r = fetch8(s, &sib);
		if (r)
			return r;
		unsigned idx = ((sib >> 3) & 7) | rexx;
		unsigned base = sib & 7;
		in->scale = sib >> 6;
		in->index = idx == 4 ? REG_NONE : (u8)idx;
		if (base == 5 && mod == 0) {
			in->base = REG_NONE;
			mod = 2; /* disp32 follows */
		} else {
			in->base = (u8)(base | rexb);
		}
	} else if (rm == 5 && mod == 0) {
		in->base = s->m64 ? REG_RIP : REG_NONE;
		mod = 2;
	} else {
		in->base = (u8)(rm | rexb);
	}
	if (mod == 1) {
		r = fetchn(s, 1, &d);
		d = sext(d, 1);
	} else if (mod == 2) {
		r = fetchn(s, 4, &d);
	} else {
		r = 0;
	}
	in->disp = (s32)d;
	if (in->base == R_SP || in->base == R_BP)
		in->seg = SEG_SS;
	return r;
}

static int decode_modrm(struct dstate *s, u8 modrm, struct insn *in)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	in->modrm = modrm;
	in->reg = (u8)(((modrm >> 3) & 7) | ((s->rex & 4) << 1));
	if (mod == 3) {
		in->rm = (u8)(rm | ((s->rex & 1) << 3));
		in->base = in->index = REG_NONE;
		return 0;
	}
	in->flags |= IF_MEM;
	in->seg = SEG_DS;
	int r = in->addrsize == 2 ? decode_ea16(s, mod, rm, in) : decode_ea32(s, mod, rm, in);
	if (s->seg >= 0)
		in->seg = (u8)s->seg;
	return r;
}

static unsigned operand_size(const struct dstate *s, const struct opdef *d)
{
	bool w = (s->rex & 8) || s->vex_w;
	switch (d->size) {
	case SZ_B: return 1;
	case SZ_W: return 2;
	case SZ_D: return 4;
	case SZ_Q: return 8;
	case SZ_DQ: return w && s->m64 ? 8 : 4; /* VEX.W is ignored outside 64-bit mode */
	default: break;
	}
	if (s->m64) {
		if (w && !(d->flags & OPF_NOREX_W))
			return 8;
		if (d->flags & OPF_F64)
			return 8;
		if (s->opsz && !(d->flags & OPF_NO66))
			return 2;
		return (d->flags & OPF_DEF64) ? 8 : 4;
	}
	if (s->opsz && !(d->flags & OPF_NO66))
		return s->code_size == 2 ? 4 : 2;
	return s->code_size == 2 ? 2 : 4;
}

/* Step 5: immediates. */
static int decode_imm(struct dstate *s, const struct opdef *d, struct insn *in)
{
	u64 v = 0, v2 = 0;
	int r = 0;
	unsigned n;
	switch (d->imm) {
	case IMM_NONE: break;
	case IMM_B: r = fetchn(s, 1, &v); break;
	case IMM_SB: case IMM_J8: r = fetchn(s, 1, &v); v = sext(v, 1); break;
	case IMM_W: r = fetchn(s, 2, &v); break;
	case IMM_D: r = fetchn(s, 4, &v); break;
	case IMM_Z: case IMM_JZ:
		n = in->opsize == 2 ? 2 : 4;
		r = fetchn(s, n, &v);
		v = sext(v, n);
		break;
	case IMM_V: r = fetchn(s, in->opsize, &v); break;
	case IMM_IWB:
		r = fetchn(s, 2, &v);
		if (!r)
			r = fetchn(s, 1, &v2);
		break;
	case IMM_AP:
		r = fetchn(s, in->opsize == 2 ? 2 : 4, &v);
		if (!r)
			r = fetchn(s, 2, &v2);
		break;
	case IMM_MOFFS: r = fetchn(s, in->addrsize, &v); break;
	default: return DEC_UD;
	}
	in->imm = v;
	in->imm2 = (u16)v2;
	return r;
}

static int check_form(const struct dstate *s, const struct opdef *d, const struct insn *in)
{
	bool mem = in->flags & IF_MEM;
	if ((d->flags & OPF_INV64) && s->m64)
		return DEC_INVALID;
	if ((d->flags & OPF_ONLY64) && !s->m64)
		return DEC_INVALID;
	if ((d->flags & OPF_MEMONLY) && !mem)
		return DEC_INVALID;
	if ((d->flags & OPF_REGONLY) && mem)
		return DEC_INVALID;
	if (s->lock && !((d->flags & OPF_LOCK) && mem))
		return DEC_INVALID;
	return 0;
}

static void init_state(struct dstate *s, const u8 *bytes, unsigned avail, unsigned code_size)
{
	memset(s, 0, sizeof(*s));
	s->b = bytes;
	s->avail = avail;
	s->code_size = code_size;
	s->m64 = code_size == 8;
	s->seg = -1;
}

static unsigned address_size(const struct dstate *s)
{
	if (s->m64)
		return s->adsz ? 4 : 8;
	if (s->code_size == 4)
		return s->adsz ? 2 : 4;
	return s->adsz ? 4 : 2;
}

static int decode_opcode(struct dstate *s, u8 first, unsigned *map, u8 *op, struct insn *in)
{
	int r;
	*map = 0;
	*op = first;
	in->vex_v = REG_NONE;
	if (first == 0xc4 || first == 0xc5) {
		/* Outside 64-bit mode these are LES/LDS unless ModRM.mod = 11. */
		if (s->m64 || (s->p < s->avail && (s->b[s->p] & 0xc0) == 0xc0)) {
			u8 vvvv, vl;
			r = decode_vex(s, first, map, &vvvv, &vl);
			if (r)
				return r;
			in->vex_v = s->m64 ? vvvv : vvvv & 7;
			in->vex_l = vl;
			return fetch8(s, op);
		}
	}
	if (first != 0x0f)
		return 0;
	*map = 1;
	r = fetch8(s, op);
	if (r || (*op != 0x38 && *op != 0x3a))
		return r;
	*map = *op == 0x38 ? 2 : 3;
	return fetch8(s, op);
}

int decode_insn(const struct decode_table *t, const u8 *bytes, unsigned avail,
		unsigned code_size, struct insn *in)
{
	struct dstate s;
	unsigned map;
	u8 first, op, modrm = 0;
	int r, idx;

	memset(in, 0, sizeof(*in));
	init_state(&s, bytes, avail, code_size);
	r = decode_prefixes(&s, &first);
	if (!r)
		r = decode_opcode(&s, first, &map, &op, in);
	if (r)
		goto out;
	in->op = op;
	in->map = (u8)map;
	in->addrsize = (u8)address_size(&s);
	bool has_modrm = needs_modrm(t, map, op);
	if (has_modrm && (r = fetch8(&s, &modrm)))
		goto out;
	idx = lookup(t, &s, map, op, has_modrm ? modrm : -1);
	if (idx < 0) {
		r = DEC_UD;
		goto out;
	}
	const struct opdef *d = &defs[idx];
	in->def = (u16)idx;
	in->exec = in->fn = d->fn;
	in->opsize = (u8)operand_size(&s, d);
	in->flags |= (s.rep == 0xf3 ? IF_REP : 0) | (s.rep == 0xf2 ? IF_REPNE : 0) |
		     (s.lock ? IF_LOCK : 0) | (s.rex ? IF_REX : 0) |
		     (s.notrack ? IF_NOTRACK : 0) | (s.opsz ? IF_OPSIZE : 0) |
		     (s.seg >= 0 ? IF_SEGOVR : 0);
	in->seg = (u8)(s.seg >= 0 ? s.seg : SEG_DS);
	if (d->flags & OPF_REGOP) {
		in->reg = (u8)((op & 7) | ((s.rex & 1) << 3));
		in->base = in->index = REG_NONE;
	}
	if (has_modrm && (r = decode_modrm(&s, modrm, in)))
		goto out;
	if ((r = decode_imm(&s, d, in)))
		goto out;
	r = check_form(&s, d, in);
out:
	in->len = (u8)s.p;
	return r ? r : (int)s.p;
}
