/* ops.h: prototypes of every instruction handler named in the ops_*.def
 * opcode table. Each family file includes it so that the table and the
 * handlers agree on one signature. */
#ifndef CETVM_OPS_H
#define CETVM_OPS_H

#include "cpu.h"
#include "decode.h"

#define OP(map, op, pfx, mod, reg, rm, imm, size, flags, fn, name)                  \
	void fn(struct cpu *cpu, const struct insn *in);
#include "ops_all.def"
#undef OP

#endif
