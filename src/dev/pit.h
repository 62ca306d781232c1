/* pit.h: the 8254 programmable interval timer and system control port B.
 *
 * Ports 0x40-0x42 are counters 0-2, 0x43 the control word (incl. counter
 * latch and read-back). Counter 0 drives ISA IRQ0; counter 2's gate and
 * output live in port 0x61 (bit 0 gate, bit 5 OUT2, bit 4 refresh toggle),
 * which Linux uses to calibrate the TSC. Counters run in virtual time at
 * PIT_HZ, derived from the guest TSC: nothing happens between calls, the
 * state is computed from the time a count was loaded. pit_advance() raises
 * IRQ0 for the edges of OUT0 that are due; pit_next_deadline() says when
 * the next one is. Reference: Intel 82C54 datasheet.
 */
#ifndef CETVM_DEV_PIT_H
#define CETVM_DEV_PIT_H

#include "../types.h"
#include "clock.h"
#include "irq.h"

#define PIT_HZ 1193182
#define PIT_IO_BASE 0x40
#define PIT_IO_LEN 4
#define PIT_PORT61 0x61

struct pit_channel {
	u8 mode;       /* 0-5 */
	u8 rw;         /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	u32 count;     /* reload value, 1..0x10000 (binary) */
	bool loaded;   /* a count has been written since the control word */
	bool armed;    /* modes 1, 5: loaded, waiting for a gate trigger */
	bool running;  /* ticking since load_tsc (else frozen at `frozen`) */
	u64 load_tsc;
	u64 frozen;
	u8 write_lo;
	bool write_hi_next, read_hi_next;
	bool count_latched, status_latched;
	u16 latch;
	u8 status;
	u64 edges_done; /* OUT rising edges signalled since the load (counter 0) */
};

struct pit {
	struct pit_channel ch[3];
	u8 port61; /* bits 0-3 as written */
	bool irq_level;
	struct irq_line irq;
	struct dev_clock clk;
};

void pit_init(struct pit *p, const struct irq_line *irq0, const struct dev_clock *clk);
/* Power-on state as on QEMU: every counter in mode 3 with count 0x10000,
 * counters 0 and 1 gated on and running (IRQ0 at 18.2 Hz). */
void pit_reset(struct pit *p);
void pit_advance(struct pit *p, u64 now);
u64 pit_next_deadline(const struct pit *p); /* CLOCK_NEVER if none */

/* OUT of counter `ch` at TSC `now` (exposed for tests). */
bool pit_out(const struct pit *p, int ch, u64 now);

u64 pit_io_read(void *opaque, u64 offset, unsigned size);
void pit_io_write(void *opaque, u64 offset, unsigned size, u64 value);
u64 pit_port61_read(void *opaque, u64 offset, unsigned size);
void pit_port61_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
