/* test_dev_acpipm.c: the ACPI PM registers (timer, status/enable, SCI,
 * S5) and the PCI host bridge's configuration space. */
#include <string.h>

#include "dev/acpipm.h"
#include "dev/pcihost.h"
#include "unit.h"

#define HZ 1000000000ull

struct rig {
	u64 tsc;
	int rearms;
	bool sci;
	int sci_edges;
	int power_offs;
	int resets;
};

static u64 rig_now(void *opaque)
{
	return ((struct rig *)opaque)->tsc;
}

static void rig_rearm(void *opaque)
{
	((struct rig *)opaque)->rearms++;
}

static void rig_sci(void *opaque, int pin, bool level)
{
	struct rig *r = opaque;
	(void)pin;
	if (level && !r->sci)
		r->sci_edges++;
	r->sci = level;
}

static void rig_power_off(void *opaque)
{
	((struct rig *)opaque)->power_offs++;
}

static void rig_reset(void *opaque)
{
	((struct rig *)opaque)->resets++;
}

static void pm_up(struct acpipm *pm, struct rig *r)
{
	memset(r, 0, sizeof(*r));
	struct dev_clock clk = { rig_now, rig_rearm, r, HZ };
	struct irq_line sci = { rig_sci, r, 9 };
	acpipm_init(pm, &sci, &clk, rig_power_off, r);
}

static void test_timer(void)
{
	struct acpipm pm;
	struct rig r;
	pm_up(&pm, &r);
	report(acpipm_io_read(&pm, 8, 4) == 0, "PM timer 0 at TSC 0");
	r.tsc = HZ; /* one second */
	report(acpipm_io_read(&pm, 8, 4) == ACPIPM_TIMER_HZ, "PM timer: 3579545 ticks per second");
	u32 lo = (u32)acpipm_io_read(&pm, 8, 2), hi = (u32)acpipm_io_read(&pm, 10, 2);
	report((hi << 16 | lo) == ACPIPM_TIMER_HZ, "PM timer readable in 16-bit halves");
	acpipm_io_write(&pm, 8, 4, 0);
	report(acpipm_io_read(&pm, 8, 4) == ACPIPM_TIMER_HZ, "PM timer ignores writes");
	r.tsc = 1200 * HZ; /* 2^32 ticks take 1199.9 s: the counter wrapped */
	u32 v = (u32)acpipm_io_read(&pm, 8, 4);
	report(v == (u32)(1200ull * ACPIPM_TIMER_HZ), "PM timer is 32 bits wide and wraps (%#x)", v);
	report(acpipm_io_read(&pm, 0, 2) & ACPIPM_TMR_STS, "TMR_STS set after bit 31 changed");
	report(!r.sci, "no SCI while TMR_EN is clear");
}

static void test_sci(void)
{
	struct acpipm pm;
	struct rig r;
	pm_up(&pm, &r);
	report(acpipm_next_deadline(&pm) == CLOCK_NEVER, "no deadline while TMR_EN is clear");
	acpipm_io_write(&pm, 2, 2, 0x0021); /* TMR_EN | GBL_EN */
	report(acpipm_io_read(&pm, 2, 2) == 0x0021, "PM1_EN reads back TMR_EN and GBL_EN");
	u64 d = acpipm_next_deadline(&pm);
	report(d > 599 * HZ && d < 601 * HZ, "deadline: when timer bit 31 first changes (~600 s)");
	r.tsc = d - 1;
	acpipm_advance(&pm, r.tsc);
	report(!r.sci && !(acpipm_io_read(&pm, 0, 2) & ACPIPM_TMR_STS), "nothing one tick early");
	r.tsc = d;
	acpipm_advance(&pm, r.tsc);
	report(r.sci && r.sci_edges == 1, "SCI asserted at the deadline");
	report(acpipm_next_deadline(&pm) == CLOCK_NEVER, "no deadline while TMR_STS is set");
	acpipm_io_write(&pm, 0, 2, 0x0100); /* writing 1 to another bit */
	report(r.sci, "PM1_STS: writing 0 leaves TMR_STS");
	acpipm_io_write(&pm, 0, 2, ACPIPM_TMR_STS);
	report(!r.sci && !(acpipm_io_read(&pm, 0, 2) & ACPIPM_TMR_STS), "write 1 clears TMR_STS; SCI off");
	report(acpipm_next_deadline(&pm) > d, "next deadline at the following change of bit 31");
	acpipm_io_write(&pm, 2, 2, 0xffff);
	report(acpipm_io_read(&pm, 2, 2) == 0x4721, "only PM1_EN's defined bits are writable");
}

static void test_control(void)
{
	struct acpipm pm;
	struct rig r;
	pm_up(&pm, &r);
	report(acpipm_io_read(&pm, 4, 2) == ACPIPM_SCI_EN, "PM1_CNT: SCI_EN reads 1 (always ACPI mode)");
	acpipm_io_write(&pm, 4, 2, 5u << ACPIPM_SLP_TYP_SHIFT);
	report(acpipm_io_read(&pm, 4, 2) == (ACPIPM_SCI_EN | 5u << ACPIPM_SLP_TYP_SHIFT) && !r.power_offs,
	       "SLP_TYP holds; no sleep without SLP_EN");
	acpipm_io_write(&pm, 4, 2, 5u << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN);
	report(!r.power_offs && !(acpipm_io_read(&pm, 4, 2) & ACPIPM_SLP_EN),
	       "SLP_EN with a sleep type not offered: ignored; SLP_EN reads 0");
	acpipm_io_write(&pm, 4, 2, ACPIPM_SLP_TYP_S5 << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN);
	report(r.power_offs == 1, "SLP_EN with SLP_TYP S5 powers off");
	report(acpipm_io_read(&pm, 6, 2) == 0xffff, "ports between the blocks read all-ones");
	acpipm_io_write(&pm, 2, 2, 1);
	acpipm_reset(&pm);
	report(acpipm_io_read(&pm, 2, 2) == 0 && acpipm_io_read(&pm, 4, 2) == ACPIPM_SCI_EN,
	       "reset clears PM1_EN and PM1_CNT");
}

static u32 cfg_read(struct pcihost *p, u32 addr, unsigned size)
{
	pcihost_io_write(p, 0, 4, addr & ~3u);
	return (u32)pcihost_io_read(p, 4 + (addr & 3), size);
}

static void test_pci_host(void)
{
	struct pcihost p;
	struct rig r = { 0 };
	pcihost_init(&p, rig_reset, &r);
	report(cfg_read(&p, 0x80000000, 4) == (PCIHOST_VENDOR | PCIHOST_DEVICE << 16),
	       "00:00.0 vendor/device 8086:1237");
	report(cfg_read(&p, 0x8000000a, 2) == 0x0600, "00:00.0 class word: host bridge (what Linux's"
						      " type-1 sanity check looks for)");
	report(cfg_read(&p, 0x80000008, 4) == (PCIHOST_CLASS << 8 | 0x02), "revision and class dword");
	report(cfg_read(&p, 0x8000000e, 1) == 0, "header type 0, single function");
	report(cfg_read(&p, 0x80000800, 4) == 0xffffffff && cfg_read(&p, 0x80000100, 2) == 0xffff &&
		       cfg_read(&p, 0x80010000, 4) == 0xffffffff,
	       "device 1, function 1, bus 1: no device (all-ones)");
	report(cfg_read(&p, 0x00000000, 4) == 0xffffffff, "enable bit clear: all-ones");
	pcihost_io_write(&p, 0, 4, 0x80000004);
	pcihost_io_write(&p, 4, 2, 0xffff);
	report(pcihost_io_read(&p, 4, 2) == 0x0146, "command register keeps only its writable bits");
	pcihost_io_write(&p, 0, 4, 0x80000000);
	pcihost_io_write(&p, 4, 4, 0x12345678);
	report(pcihost_io_read(&p, 4, 4) == (PCIHOST_VENDOR | PCIHOST_DEVICE << 16), "IDs are read-only");
	pcihost_io_write(&p, 3, 1, 0x01); /* Linux's probe pokes 0xcfb */
	report(pcihost_io_read(&p, 0, 4) == 0x80000000, "a byte write to 0xcfb leaves CONFIG_ADDRESS");
	pcihost_io_write(&p, 1, 1, 0x06);
	report(r.resets == 1, "0xcf9 RST_CPU still resets");
}

int main(void)
{
	test_timer();
	test_sci();
	test_control();
	test_pci_host();
	return 0;
}
