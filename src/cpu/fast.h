/* fast.h: decode-time specialization of hot instruction forms. */
#ifndef CETVM_FAST_H
#define CETVM_FAST_H

#include "cpu.h"

/* Install a handler specialized for this decoded instruction in a code
 * segment of code_size bytes (2, 4, 8) in in->exec and in->run; false if
 * there is none. Specialized handlers run with RIP implicit (cpu.h). */
bool fast_variant(struct insn *in, unsigned code_size);

/* Specialize in further for prev, the instruction before it in the same
 * block (a Jcc after the instruction that set its flags). */
void fast_after(const struct insn *prev, struct insn *in, unsigned code_size);

/* Make in, a direct JMP or CALL that a block follows to its target,
 * run on into the target; false if in cannot. */
bool fast_through(struct insn *in);

#endif
