/* fast.h: decode-time specialization of hot instruction forms. */
#ifndef CETVM_FAST_H
#define CETVM_FAST_H

#include "cpu.h"

/* Install a handler specialized for this decoded instruction in a code
 * segment of code_size bytes (2, 4, 8) in in->exec and in->run; false if
 * there is none. Specialized handlers run with RIP implicit (cpu.h). */
bool fast_variant(struct insn *in, unsigned code_size);

/* Can a block go on after in, a branch (a direct JMP or CALL to its target,
 * a Jcc past it)? Only in 64-bit code, with in's specialized handler. */
bool fast_can_go_on(const struct insn *in);

/* Specialize in further once the block's shape is known: for prev, the
 * instruction before it in the block, or NULL (a Jcc after the instruction
 * that set its flags), and for a branch the block goes on after. */
void fast_after(const struct insn *prev, struct insn *in, unsigned code_size, bool goes_on);

#endif
