/* jit.h: native code for 64-bit blocks (jit.c, jit_ops.c, jit_flow.c).
 *
 * A block's instructions, as build_block() prepared them, are translated
 * into host code (moves, loads and stores through a software-TLB hit, ALU
 * operations, shifts, MUL, LEA, the stack, branches...). The code runs
 * them the way their specialized handlers would, with the same registers
 * and lazy flags, and goes on through the exec handler of an instruction
 * wherever a fast path would fall back (a TLB miss, a page crossing...),
 * with nothing of that instruction done. An instruction it does not know
 * runs through its exec handler in the middle of the code ("call-out").
 * The code itself never faults: the handlers raise every fault, so the
 * block stays exactly as precise as the interpreter's.
 */
#ifndef CETVM_JIT_H
#define CETVM_JIT_H

#include "cpu.h"

struct jit;

/* An arena of size bytes of executable memory, or NULL. */
struct jit *jit_create(size_t size);
void jit_destroy(struct jit *j);

/* Forget all code (when the block cache is flushed). */
void jit_reset(struct jit *j);

/* True if the arena has room for one more block's code. */
bool jit_room(const struct jit *j);

/* An exec handler for insn[0] of a block of n instructions of 64-bit code
 * (terminator at insn[n]) that runs the block natively as far as it can;
 * NULL if it would cover no instruction or the arena has no room left
 * (jit_room()). The insns must stay where they
 * are for as long as the code is used. */
insn_fn jit_compile(struct jit *j, const struct insn *insn, unsigned n);

/* jit_compile() for a block of the block cache: where the code ends the
 * block with a branch it also goes on to the block linked after it, if
 * that link holds and the run loop has nothing to attend to (exec.c,
 * run_chain(), does the same checks). cpu->cur_block then names the
 * block that ran last. */
struct block;
insn_fn jit_compile_block(struct jit *j, const struct block *b);

#endif
