/* decode.h: x86 instruction decoder (bytes -> struct insn).
 *
 * A pipeline of small steps as the SDM describes the format (Vol. 2 ch. 2):
 * legacy prefixes -> REX/VEX -> opcode (maps 0F, 0F38, 0F3A) -> table
 * lookup -> ModRM -> SIB -> displacement -> immediate. The opcode table is
 * data: the ops_*.def files, one per instruction family, expanded here by
 * X-macro into one table that also gives the disassembler its names.
 */
#ifndef CETVM_DECODE_H
#define CETVM_DECODE_H

#include "cpu.h"

/* decode_insn() results (negative). */
#define DEC_UD -1      /* invalid opcode or form: #UD */
#define DEC_NEED -2    /* ran out of bytes: supply more */
#define DEC_TOOLONG -3 /* longer than 15 bytes: #GP(0) */
#define DEC_INVALID -4 /* a known opcode in a form that is #UD (LOCK, mode, ...) */

/* The opcode table indexed by (map, opcode); built once by
 * decode_table_create() and then read-only. */
struct decode_table;
struct decode_table *decode_table_create(void);
void decode_table_destroy(struct decode_table *t);

/* Decode one instruction from bytes[0..avail). code_size is the default
 * operand/address size of the code segment: 2, 4 or 8 (64-bit mode).
 * Returns the length, or a DEC_* code. On DEC_UD, out->len is still the
 * number of bytes consumed so far (for logging). */
int decode_insn(const struct decode_table *t, const u8 *bytes, unsigned avail,
		unsigned code_size, struct insn *out);

/* Mnemonic and OPF_* flags of the table entry an insn was decoded from. */
const char *decode_name(const struct insn *in);
unsigned decode_opflags(const struct insn *in);

/* Table entry flags. */
#define OPF_DEF64 0x001   /* default operand size 64 in 64-bit mode */
#define OPF_F64 0x002     /* operand size forced to 64 in 64-bit mode */
#define OPF_INV64 0x004   /* #UD in 64-bit mode */
#define OPF_ONLY64 0x008  /* #UD outside 64-bit mode */
#define OPF_END 0x010     /* ends a block (branches, state changes) */
#define OPF_LOCK 0x020    /* LOCK allowed with a memory operand */
#define OPF_VEX 0x040     /* VEX-encoded form only */
#define OPF_MEMONLY 0x080 /* register form is #UD */
#define OPF_REGONLY 0x100 /* memory form is #UD */
#define OPF_NOREX_W 0x200 /* REX.W does not select 64-bit (e.g. 16/32 only) */
#define OPF_REGOP 0x400   /* register number in opcode bits 2:0 (8 opcodes) */
#define OPF_NO66 0x800    /* 66 prefix ignored (size fixed) */

/* Immediate kinds. */
enum {
	IMM_NONE, IMM_B, IMM_SB, IMM_W, IMM_Z, IMM_V, IMM_IWB, IMM_AP,
	IMM_MOFFS, IMM_J8, IMM_JZ, IMM_D,
};
/* Operand-size kinds. */
enum { SZ_V, SZ_B, SZ_W, SZ_D, SZ_Q, SZ_DQ /* 32, or 64 with REX.W */ };
/* Mandatory-prefix selectors. */
enum { PFX_ANY, PFX_NP, PFX_66, PFX_F3, PFX_F2 };
/* ModRM selectors. */
enum { MOD_NONE, MOD_ANY, MOD_MEM, MOD_REG };

#endif
