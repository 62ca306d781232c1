/* irq.h: an interrupt line between a device and an interrupt controller.
 *
 * A device holds a struct irq_line and drives it with irq_set_level(); it
 * never knows which controller (PIC, IOAPIC, both) is behind it. The
 * owner (the board) fills in the function, its opaque and the pin number.
 * An unconnected line (set_level NULL) ignores changes.
 */
#ifndef CETVM_DEV_IRQ_H
#define CETVM_DEV_IRQ_H

#include "../types.h"

struct irq_line {
	void (*set_level)(void *opaque, int pin, bool level);
	void *opaque;
	int pin;
};

static inline void irq_set_level(const struct irq_line *line, bool level)
{
	if (line->set_level)
		line->set_level(line->opaque, line->pin, level);
}

/* A rising then falling edge, for timers whose output is a short pulse. */
static inline void irq_pulse(const struct irq_line *line)
{
	irq_set_level(line, true);
	irq_set_level(line, false);
}

#endif
