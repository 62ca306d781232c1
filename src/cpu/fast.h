/* fast.h: decode-time specialization of hot instruction forms. */
#ifndef CETVM_FAST_H
#define CETVM_FAST_H

#include "cpu.h"

/* A handler specialized for this decoded instruction in a code segment of
 * code_size bytes (2, 4, 8), or NULL to keep in->exec. */
insn_fn fast_variant(const struct insn *in, unsigned code_size);

#endif
