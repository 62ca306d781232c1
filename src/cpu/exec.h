/* exec.h: the decoded-block cache behind cpu_run(). */
#ifndef CETVM_EXEC_H
#define CETVM_EXEC_H

#include "cpu.h"

struct decode_table;

int exec_cache_create(struct cpu *cpu);
void exec_cache_destroy(struct cpu *cpu);
/* Forget every decoded block (e.g. after a snapshot load). */
void exec_cache_flush(struct cpu *cpu);
const struct decode_table *exec_decode_table(const struct cpu *cpu);
/* Make in the terminator that ends a run of instructions (cpu.h,
 * insn_next()): how a test runs decoded instructions outside a block. */
void exec_set_terminator(struct insn *in);
/* The exec handler of an instruction whose handler (in->fn) expects
 * cpu->rip and cpu->next_rip: what build_block() gives the instructions
 * without a specialized handler (fast.c). */
void exec_wrapped(struct cpu *cpu, const struct insn *in);

#endif
