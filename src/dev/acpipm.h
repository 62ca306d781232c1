/* acpipm.h: the ACPI fixed-hardware registers: PM1 event/control and the PM timer.
 *
 * Ports (ACPI 6.5 §4.8), at ACPIPM_IO_BASE:
 *   +0 PM1_STS (16-bit, write 1 to clear)  +2 PM1_EN (16-bit)
 *   +4 PM1_CNT (16-bit)                    +8 PM_TMR (32-bit, read-only)
 * Any access size works; wider accesses are byte lanes of these registers.
 * The PM timer counts at 3.579545 MHz in virtual time, 32 bits wide
 * (the FADT sets TMR_VAL_EXT); TMR_STS is set each time its bit 31
 * changes. The SCI (an active-high level on the line given at init) is
 * asserted while an enabled status bit (TMR, GBL, PWRBTN, SLPBTN, RTC) is
 * set; only TMR_STS has a source here. SCI_EN reads 1: there is no SMI
 * command port, the machine is always in ACPI mode. Writing SLP_EN with
 * SLP_TYP = ACPIPM_SLP_TYP_S5 calls power_off; other sleep types are not
 * offered (the DSDT declares only \_S5) and are ignored.
 */
#ifndef CETVM_DEV_ACPIPM_H
#define CETVM_DEV_ACPIPM_H

#include "../types.h"
#include "clock.h"
#include "irq.h"

#define ACPIPM_IO_BASE 0x600
#define ACPIPM_IO_LEN 12
#define ACPIPM_TIMER_HZ 3579545
#define ACPIPM_SLP_TYP_S5 0

#define ACPIPM_TMR_STS (1u << 0)
#define ACPIPM_SCI_EN (1u << 0)
#define ACPIPM_SLP_TYP_SHIFT 10
#define ACPIPM_SLP_EN (1u << 13)

struct acpipm {
	u16 sts, en, cnt;
	u64 tmr_epoch; /* timer value >> 31 when TMR_STS was last brought up to date */
	bool sci;
	struct irq_line irq;
	struct dev_clock clk;
	void (*power_off)(void *opaque);
	void *opaque;
};

void acpipm_init(struct acpipm *pm, const struct irq_line *sci, const struct dev_clock *clk,
		 void (*power_off)(void *opaque), void *opaque);
void acpipm_reset(struct acpipm *pm);
/* Bring TMR_STS (and the SCI) up to `now`. */
void acpipm_advance(struct acpipm *pm, u64 now);
/* When TMR_STS will next be set, if TMR_EN makes that raise the SCI. */
u64 acpipm_next_deadline(const struct acpipm *pm);

u64 acpipm_io_read(void *opaque, u64 offset, unsigned size);
void acpipm_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
