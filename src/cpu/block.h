/* block.h: a decoded block of the block cache (exec.c), which jit.c's code
 * also reads to go on to the block linked after it. */
#ifndef CETVM_BLOCK_H
#define CETVM_BLOCK_H

#include "cpu.h"

struct block {
	u64 phys;  /* RAM offset (cpu_ram_offset) of the first byte */
	u64 phys2; /* RAM offset of the page of the bytes past the first page, or ~0 */
	u32 gen, gen2;
	u8 code_size;
	u8 n;
	bool endbr; /* the first instruction is the mode-correct ENDBR (cet.h) */
	u8 heat;    /* runs left before it gets native code (exec.c, op_warm()) */
	insn_fn entry; /* runs the block: jit.c's code, op_warm() or insn[0].exec */
	/* The block that ran next last time, at link_rip, while the jump
	 * cache's epoch was link_epoch: valid exactly when a jump-cache
	 * entry would be, and cheaper to check. */
	struct block *link;
	u64 link_rip, link_epoch;
	struct insn insn[]; /* n of them, then a terminator */
};

#endif
