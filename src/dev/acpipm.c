/* acpipm.c: ACPI PM1 event/control registers and the PM timer (ACPI 6.5 §4.8). */
#include "acpipm.h"

#include "../log.h"

#define REG_STS 0
#define REG_EN 2
#define REG_CNT 4
#define REG_TMR 8

/* PM1_STS / PM1_EN bits (ACPI 6.5 Tables 4.16, 4.17). */
#define EV_TMR (1u << 0)
#define EV_GBL (1u << 5)
#define EV_PWRBTN (1u << 8)
#define EV_SLPBTN (1u << 9)
#define EV_RTC (1u << 10)
#define EV_SCI_SOURCES (EV_TMR | EV_GBL | EV_PWRBTN | EV_SLPBTN | EV_RTC)
#define STS_BITS (EV_SCI_SOURCES | (1u << 4) | (1u << 11) | (1u << 14) | (1u << 15))
#define EN_BITS (EV_SCI_SOURCES | (1u << 14)) /* + PCIEXP_WAKE_DIS */
/* PM1_CNT (Table 4.18): BM_RLD and SLP_TYP hold; GBL_RLS, SLP_EN are write-only. */
#define CNT_BITS ((1u << 1) | (7u << ACPIPM_SLP_TYP_SHIFT))
#define TMR_MSB_SHIFT 31

void acpipm_init(struct acpipm *pm, const struct irq_line *sci, const struct dev_clock *clk,
		 void (*power_off)(void *opaque), void *opaque)
{
	pm->irq = *sci;
	pm->clk = *clk;
	pm->power_off = power_off;
	pm->opaque = opaque;
	pm->sci = false;
	acpipm_reset(pm);
}

static u64 timer_ticks(const struct acpipm *pm, u64 now)
{
	return clock_scale(now, ACPIPM_TIMER_HZ, pm->clk.hz);
}

static void update_sci(struct acpipm *pm)
{
	bool level = (pm->sts & pm->en & EV_SCI_SOURCES) != 0;
	if (level != pm->sci) {
		pm->sci = level;
		irq_set_level(&pm->irq, level);
	}
}

void acpipm_reset(struct acpipm *pm)
{
	pm->sts = pm->en = pm->cnt = 0;
	pm->tmr_epoch = timer_ticks(pm, clock_now(&pm->clk)) >> TMR_MSB_SHIFT;
	update_sci(pm);
}

void acpipm_advance(struct acpipm *pm, u64 now)
{
	u64 epoch = timer_ticks(pm, now) >> TMR_MSB_SHIFT;
	if (epoch != pm->tmr_epoch) {
		pm->tmr_epoch = epoch;
		pm->sts |= EV_TMR;
	}
	update_sci(pm);
}

u64 acpipm_next_deadline(const struct acpipm *pm)
{
	if (!(pm->en & EV_TMR) || (pm->sts & EV_TMR))
		return CLOCK_NEVER;
	return clock_scale_up((pm->tmr_epoch + 1) << TMR_MSB_SHIFT, pm->clk.hz, ACPIPM_TIMER_HZ);
}

static u8 read_byte(struct acpipm *pm, unsigned off, u64 now)
{
	unsigned sh = 8 * (off & 1);
	switch (off & ~1u) {
	case REG_STS:
		return (u8)(pm->sts >> sh);
	case REG_EN:
		return (u8)(pm->en >> sh);
	case REG_CNT:
		return (u8)((pm->cnt | ACPIPM_SCI_EN) >> sh);
	case REG_TMR:
	case REG_TMR + 2:
		return (u8)(timer_ticks(pm, now) >> (8 * (off - REG_TMR)));
	default:
		return 0xff;
	}
}

static void sleep_request(struct acpipm *pm)
{
	unsigned typ = (pm->cnt >> ACPIPM_SLP_TYP_SHIFT) & 7;
	if (typ == ACPIPM_SLP_TYP_S5 && pm->power_off)
		pm->power_off(pm->opaque);
	else
		log_debug("acpi-pm: sleep type %u not offered; ignored", typ);
}

static void write_byte(struct acpipm *pm, unsigned off, u8 v)
{
	unsigned sh = 8 * (off & 1);
	u16 mask = (u16)(0xff << sh), val = (u16)(v << sh);
	switch (off & ~1u) {
	case REG_STS:
		pm->sts &= (u16)~(val & STS_BITS);
		break;
	case REG_EN:
		pm->en = (u16)((pm->en & ~mask) | (val & EN_BITS));
		break;
	case REG_CNT:
		pm->cnt = (u16)((pm->cnt & ~mask) | (val & CNT_BITS));
		if (val & ACPIPM_SLP_EN)
			sleep_request(pm);
		break;
	default:
		break; /* the timer is read-only */
	}
}

u64 acpipm_io_read(void *opaque, u64 offset, unsigned size)
{
	struct acpipm *pm = opaque;
	u64 now = clock_now(&pm->clk), v = 0;
	acpipm_advance(pm, now);
	for (unsigned i = 0; i < size; i++)
		v |= (u64)read_byte(pm, (unsigned)offset + i, now) << (8 * i);
	return v;
}

void acpipm_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct acpipm *pm = opaque;
	acpipm_advance(pm, clock_now(&pm->clk));
	for (unsigned i = 0; i < size; i++)
		write_byte(pm, (unsigned)offset + i, (u8)(value >> (8 * i)));
	update_sci(pm);
	clock_rearm(&pm->clk);
}
