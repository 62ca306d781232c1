/* fast_ops.h: handlers specialized for the hottest 64-bit instruction forms. */
#ifndef CETVM_FAST_OPS_H
#define CETVM_FAST_OPS_H

#include "cpu.h"

/* The specialized handler for a 64-bit-mode instruction, or NULL. Sets
 * *run to the RUN_* flags it needs (RUN_NEXT for branches). */
insn_fn fast_ops_variant(const struct insn *in, u8 *run);

#endif
