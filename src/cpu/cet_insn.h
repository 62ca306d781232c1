/* cet_insn.h: supervisor shadow-stack tokens (spec/cet.md 5.3), shared by
 * SETSSBSY/CLRSSBSY and the far transfers (call gates, interrupts, IRET,
 * task switches) that enter or leave a supervisor shadow stack. */
#ifndef CETVM_CET_INSN_H
#define CETVM_CET_INSN_H

#include "cpu.h"

/* acquire(X): one locked supervisor shadow-stack read-modify-write of the
 * 8 bytes at linear address la (8-aligned; the caller checks). If they hold
 * la (a free token), write la | 1 (busy) and return true; otherwise write
 * nothing and return false. Faults only with #PF (error code W|SS). */
bool cet_token_acquire(struct cpu *cpu, u64 la);

/* release(X): if the 8 bytes at la hold la | 1 (a busy token), write la and
 * return true; otherwise leave memory unchanged and return false. Faults
 * only with #PF. */
bool cet_token_release(struct cpu *cpu, u64 la);

#endif
