/* test_dev_timer.c: 8254 PIT and port 0x61, local APIC registers, RTC/CMOS. */
#include <string.h>

#include "dev/lapic.h"
#include "dev/pit.h"
#include "dev/rtc.h"
#include "unit.h"

#define HZ 1000000000ull

struct fake_clock {
	u64 now;
	int rearms;
};

static u64 fake_now(void *opaque)
{
	return ((struct fake_clock *)opaque)->now;
}

static void fake_rearm(void *opaque)
{
	((struct fake_clock *)opaque)->rearms++;
}

struct line {
	bool level;
	int rises;
};

static void line_set(void *opaque, int pin, bool level)
{
	struct line *l = opaque;
	(void)pin;
	if (level && !l->level)
		l->rises++;
	l->level = level;
}

/* TSC ticks for n PIT clocks, rounded up (the PIT's own conversion). */
static u64 pit_tsc(u64 n)
{
	return (n * HZ + PIT_HZ - 1) / PIT_HZ;
}

static void pit_setup(struct pit *p, struct fake_clock *fc, struct line *ln)
{
	memset(fc, 0, sizeof(*fc));
	memset(ln, 0, sizeof(*ln));
	struct dev_clock clk = {fake_now, fake_rearm, fc, HZ};
	struct irq_line irq = {line_set, ln, 0};
	pit_init(p, &irq, &clk);
}

static u16 pit_latch_read(struct pit *p, int ch)
{
	pit_io_write(p, 3, 1, (u64)ch << 6); /* counter latch command */
	u16 lo = (u16)pit_io_read(p, (u64)ch, 1);
	return (u16)(lo | pit_io_read(p, (u64)ch, 1) << 8);
}

static void test_pit_reset_and_mode0(void)
{
	struct pit p;
	struct fake_clock fc;
	struct line ln;
	pit_setup(&p, &fc, &ln);
	report(pit_next_deadline(&p) == 54925402,
	       "reset: counter 0 mode 3, count 65536: first edge at TSC 54925402 (%llu)",
	       (unsigned long long)pit_next_deadline(&p));
	fc.now = 1000;
	pit_io_write(&p, 3, 1, 0x30); /* ch0, lo/hi, mode 0 */
	pit_io_write(&p, 0, 1, 0xe8);
	pit_io_write(&p, 0, 1, 0x03); /* 1000 */
	report(!ln.level, "mode 0: OUT0 low after loading");
	u64 due = 1000 + pit_tsc(1000);
	report(pit_next_deadline(&p) == due, "mode 0: deadline at load + 1000 PIT clocks (%llu)",
	       (unsigned long long)pit_next_deadline(&p));
	fc.now = 1000 + pit_tsc(400);
	report(pit_latch_read(&p, 0) == 600, "mode 0: counter 600 after 400 clocks");
	pit_advance(&p, due - 1);
	report(!ln.level, "no IRQ0 one TSC tick early");
	pit_advance(&p, due);
	report(ln.level && ln.rises == 1, "IRQ0 rises at the terminal count");
	report(pit_next_deadline(&p) == CLOCK_NEVER, "mode 0 fires once");
	report(pit_out(&p, 0, due), "OUT0 stays high");
	fc.now = due + 5;
	pit_io_write(&p, 3, 1, 0x30);
	report(!ln.level, "new control word drops OUT0");
}

static void test_pit_mode2(void)
{
	struct pit p;
	struct fake_clock fc;
	struct line ln;
	pit_setup(&p, &fc, &ln);
	pit_io_write(&p, 3, 1, 0x34); /* ch0, lo/hi, mode 2 */
	pit_io_write(&p, 0, 1, 100);
	pit_io_write(&p, 0, 1, 0);
	report(pit_next_deadline(&p) == pit_tsc(100), "mode 2: first edge after 100 clocks");
	pit_advance(&p, pit_tsc(250));
	report(ln.rises == 1 && !ln.level, "late poll: missed periods coalesce into one pulse");
	report(pit_next_deadline(&p) == pit_tsc(300), "next edge at 300 clocks");
	fc.now = pit_tsc(250);
	report(pit_latch_read(&p, 0) == 50, "mode 2: counter 50 at 250 clocks");
	report(pit_out(&p, 0, pit_tsc(299)) == false && pit_out(&p, 0, pit_tsc(300)) == true,
	       "mode 2: OUT low for the clock before reload");
	pit_advance(&p, pit_tsc(300));
	report(ln.rises == 2, "second period: second pulse");
	pit_io_write(&p, 3, 1, 0xe2); /* read-back: status only, counter 0 */
	report(pit_io_read(&p, 0, 1) == 0x34 + 0x80, "read-back status: OUT=1, lo/hi, mode 2 (0xb4)");
}

static void test_pit_port61(void)
{
	struct pit p;
	struct fake_clock fc;
	struct line ln;
	pit_setup(&p, &fc, &ln);
	fc.now = 5000;
	pit_port61_write(&p, 0, 1, 0x01); /* gate 2 on, speaker off */
	pit_io_write(&p, 3, 1, 0xb0);     /* ch2, lo/hi, mode 0 */
	pit_io_write(&p, 2, 1, 1193 & 0xff);
	pit_io_write(&p, 2, 1, 1193 >> 8);
	report((pit_port61_read(&p, 0, 1) & 0x20) == 0, "port 0x61 bit 5 (OUT2) low while counting");
	report((pit_port61_read(&p, 0, 1) & 0x0f) == 0x01, "port 0x61 low bits read back");
	fc.now = 5000 + pit_tsc(1193) - 1;
	report((pit_port61_read(&p, 0, 1) & 0x20) == 0, "OUT2 still low 1 TSC tick early");
	fc.now = 5000 + pit_tsc(1193);
	report(pit_port61_read(&p, 0, 1) & 0x20, "OUT2 high after 1193 clocks (1 ms)");
	report(ln.rises == 0, "counter 2 raises no IRQ");

	fc.now = 10000;
	pit_io_write(&p, 3, 1, 0xb0);
	pit_io_write(&p, 2, 1, 0x00);
	pit_io_write(&p, 2, 1, 0x10); /* 4096 */
	fc.now = 10000 + pit_tsc(96);
	pit_port61_write(&p, 0, 1, 0x00); /* gate off: counting suspends */
	fc.now += pit_tsc(1000);
	report(pit_latch_read(&p, 2) == 4000, "gate low freezes mode 0 counter at 4000");
	pit_port61_write(&p, 0, 1, 0x01);
	fc.now += pit_tsc(100);
	report(pit_latch_read(&p, 2) == 3900, "gate high resumes it (3900)");

	fc.now = 1;
	u8 a = (u8)pit_port61_read(&p, 0, 1) & 0x10;
	fc.now = 1 + 15085;
	u8 b = (u8)pit_port61_read(&p, 0, 1) & 0x10;
	report(a != b, "port 0x61 bit 4 toggles every 15.085 us");
}

static void test_pit_latch(void)
{
	struct pit p;
	struct fake_clock fc;
	struct line ln;
	pit_setup(&p, &fc, &ln);
	pit_io_write(&p, 3, 1, 0x30);
	pit_io_write(&p, 0, 1, 0x10);
	pit_io_write(&p, 0, 1, 0x27); /* 10000 */
	fc.now = pit_tsc(1234);
	pit_io_write(&p, 3, 1, 0x00); /* latch */
	fc.now = pit_tsc(5000);
	u16 lo = (u16)pit_io_read(&p, 0, 1);
	u16 v = (u16)(lo | pit_io_read(&p, 0, 1) << 8);
	report(v == 10000 - 1234, "latched value survives time passing (%u)", v);
	report(pit_latch_read(&p, 0) == 5000, "next latch is fresh (5000)");
	pit_io_write(&p, 3, 1, 0x10); /* ch0, LSB only, mode 0 */
	pit_io_write(&p, 0, 1, 50);
	fc.now += pit_tsc(20);
	report(pit_io_read(&p, 0, 1) == 30, "LSB-only mode: one-byte count and read");
}

static struct lapic_test {
	u8 eoi_vectors[8];
	int n_eoi;
} lt;

static void eoi_hook(void *opaque, u8 vector)
{
	struct lapic_test *t = opaque;
	if (t->n_eoi < 8)
		t->eoi_vectors[t->n_eoi++] = vector;
}

static u32 apic_rd(struct lapic *l, u32 off)
{
	return (u32)lapic_mmio_read(l, off, 4);
}

static void apic_wr(struct lapic *l, u32 off, u32 v)
{
	lapic_mmio_write(l, off, 4, v);
}

static void lapic_setup(struct lapic *l, struct fake_clock *fc)
{
	memset(fc, 0, sizeof(*fc));
	memset(&lt, 0, sizeof(lt));
	struct dev_clock clk = {fake_now, fake_rearm, fc, HZ};
	lapic_init(l, &clk, eoi_hook, &lt);
}

static void test_lapic_regs(void)
{
	struct lapic l;
	struct fake_clock fc;
	u64 v = 0;
	lapic_setup(&l, &fc);
	report(lapic_msr_read(&l, MSR_IA32_APIC_BASE, &v) && v == 0xfee00900,
	       "IA32_APIC_BASE resets to 0xfee00900");
	report(apic_rd(&l, 0x30) == 0x00050014, "version 0x00050014");
	report(apic_rd(&l, 0x20) == 0, "APIC ID 0");
	report(apic_rd(&l, 0xf0) == 0xff, "SPIV 0xff: software-disabled");
	report(apic_rd(&l, 0x350) == 0x700 && apic_rd(&l, 0x320) == 0x10000,
	       "LINT0 = ExtINT unmasked, timer LVT masked");
	report(lapic_extint_enabled(&l), "PIC reaches the CPU at reset");
	lapic_accept(&l, 0x40, false);
	report(lapic_peek(&l) == -1, "software-disabled APIC delivers nothing");
	apic_wr(&l, 0xf0, 0x1ff);
	report(lapic_peek(&l) == 0x40, "after SPIV enable, IRR vector 0x40 is deliverable");
	report(lapic_extint_enabled(&l), "LINT0 ExtINT keeps the PIC wired");
	report(apic_rd(&l, 0x200 + 0x20) == 1, "IRR register 2 bit 0 for vector 0x40");

	lapic_accept(&l, 0x50, false);
	report(lapic_ack(&l) == 0x50, "highest vector first (0x50)");
	report(apic_rd(&l, 0x100 + 0x20) == 0x10000 && apic_rd(&l, 0xa0) == 0x50,
	       "ISR bit for 0x50, PPR = 0x50");
	report(lapic_peek(&l) == -1, "0x40 is below the in-service class");
	lapic_accept(&l, 0x55, false);
	report(lapic_peek(&l) == -1, "0x55: same class as in-service 0x50, blocked");
	apic_wr(&l, 0xb0, 0);
	report(lapic_peek(&l) == 0x55 && apic_rd(&l, 0xa0) == 0, "EOI clears ISR; 0x55 next");
	report(lt.n_eoi == 0, "edge vector: no EOI broadcast");
	apic_wr(&l, 0x80, 0x60);
	report(lapic_peek(&l) == -1 && apic_rd(&l, 0xa0) == 0x60, "TPR 0x60 blocks 0x55; PPR 0x60");
	apic_wr(&l, 0x80, 0x40);
	report(lapic_ack(&l) == 0x55 && lapic_peek(&l) == -1, "TPR 0x40: 0x55 goes, 0x40 stays blocked");
	apic_wr(&l, 0xb0, 0);
	apic_wr(&l, 0x80, 0);
	report(lapic_ack(&l) == 0x40, "TPR 0: 0x40 delivered");
	apic_wr(&l, 0xb0, 0);

	lapic_accept(&l, 0x61, true);
	report(apic_rd(&l, 0x180 + 0x30) == 2, "level vector 0x61 sets TMR");
	lapic_ack(&l);
	apic_wr(&l, 0xb0, 0);
	report(lt.n_eoi == 1 && lt.eoi_vectors[0] == 0x61, "EOI of a level vector is broadcast");

	lapic_accept(&l, 5, false);
	apic_wr(&l, 0x280, 0);
	report(apic_rd(&l, 0x280) == 0x40 && lapic_peek(&l) == -1,
	       "illegal vector 5: ESR 'receive illegal vector', nothing queued");
	apic_wr(&l, 0x280, 0);
	report(apic_rd(&l, 0x280) == 0, "ESR write re-latches (0)");

	apic_wr(&l, 0x350, 0x10700);
	report(!lapic_extint_enabled(&l), "LINT0 masked: PIC cut off");
	apic_wr(&l, 0xf0, 0xff);
	report(lapic_extint_enabled(&l), "software-disabled: PIC delivered (virtual wire)");
	report(apic_rd(&l, 0x320) & 0x10000, "software disable masks the LVTs");
	apic_wr(&l, 0x370, 0x33);
	report(apic_rd(&l, 0x370) == 0x10033, "LVT mask cannot be cleared while disabled");
}

static void test_lapic_ipi(void)
{
	struct lapic l;
	struct fake_clock fc;
	lapic_setup(&l, &fc);
	apic_wr(&l, 0xf0, 0x1ff);
	apic_wr(&l, 0x300, 0x40031); /* self shorthand, fixed, vector 0x31 */
	report(lapic_peek(&l) == 0x31, "self-IPI via ICR shorthand");
	lapic_ack(&l);
	apic_wr(&l, 0xb0, 0);
	apic_wr(&l, 0x310, 0x00000000);
	apic_wr(&l, 0x300, 0x00032); /* physical dest 0 */
	report(lapic_peek(&l) == 0x32, "fixed IPI to own APIC ID 0");
	lapic_ack(&l);
	apic_wr(&l, 0xb0, 0);
	apic_wr(&l, 0x310, 0x01000000);
	apic_wr(&l, 0x300, 0x00033);
	report(lapic_peek(&l) == -1, "fixed IPI to APIC ID 1 goes nowhere");
	apic_wr(&l, 0x300, 0xc4500); /* INIT to all excluding self */
	apic_wr(&l, 0x300, 0xc4608); /* SIPI to all excluding self */
	report(lapic_peek(&l) == -1 && !(apic_rd(&l, 0x300) & 0x1000),
	       "INIT/SIPI to others accepted and ignored, delivery status idle");
	apic_wr(&l, 0xd0, 0x01000000);
	report(lapic_match_dest(&l, 0x01, true) && !lapic_match_dest(&l, 0x02, true),
	       "flat logical destination matches LDR bit");
	report(lapic_match_dest(&l, 0xff, false) && lapic_match_dest(&l, 0, false) &&
		       !lapic_match_dest(&l, 3, false),
	       "physical destination: own ID and broadcast");
}

static void test_lapic_x2apic(void)
{
	struct lapic l;
	struct fake_clock fc;
	u64 v = 0;
	lapic_setup(&l, &fc);
	report(!lapic_msr_read(&l, 0x802, &v), "xAPIC mode: x2APIC MSR 0x802 is #GP");
	report(!lapic_msr_write(&l, 0x808, 0), "xAPIC mode: x2APIC MSR write is #GP");
	report(!lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00500),
	       "EXTD without EN is an invalid state (#GP)");
	report(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00d00), "enable x2APIC mode");
	report(lapic_msr_read(&l, 0x802, &v) && v == 0, "x2APIC ID reads 0");
	report(lapic_msr_read(&l, 0x803, &v) && v == 0x00050014, "x2APIC version");
	report(lapic_msr_read(&l, 0x80d, &v) && v == 1, "x2APIC LDR derived from ID (1)");
	report(!lapic_msr_write(&l, 0x802, 5), "x2APIC ID is read-only (#GP)");
	report(!lapic_msr_read(&l, 0x80e, &v), "no DFR in x2APIC mode");
	report(lapic_msr_write(&l, 0x80f, 0x1ff), "SPIV enable via MSR");
	report(lapic_msr_write(&l, 0x808, 0x20) && lapic_msr_read(&l, 0x808, &v) && v == 0x20,
	       "TPR via MSR 0x808");
	report(lapic_msr_write(&l, 0x83f, 0x45) && lapic_peek(&l) == 0x45, "SELF IPI MSR 0x83f");
	report(!lapic_msr_read(&l, 0x83f, &v), "SELF IPI is write-only");
	lapic_ack(&l);
	report(!lapic_msr_write(&l, 0x80b, 1), "non-zero EOI write is #GP");
	report(lapic_msr_write(&l, 0x80b, 0) && lapic_peek(&l) == -1 && lapic_ppr(&l) == 0x20,
	       "EOI via MSR");
	report(lapic_msr_write(&l, 0x830, 0x0000000000000046ull) && lapic_peek(&l) == 0x46,
	       "64-bit ICR, physical dest 0");
	report(lapic_msr_read(&l, 0x830, &v) && v == 0x46, "ICR reads back as one 64-bit MSR");
	report(!lapic_msr_write(&l, 0x808, 1ull << 32), "upper half non-zero on a 32-bit register: #GP");
	report((u32)lapic_mmio_read(&l, 0x20, 4) == 0xffffffff, "xAPIC MMIO is off in x2APIC mode");
	report(!lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00900), "x2APIC -> xAPIC directly: #GP");
	report(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00000), "x2APIC -> disabled");
	report(!lapic_msr_read(&l, 0x802, &v), "disabled: x2APIC MSRs #GP");
	report(!lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00c00), "disabled -> x2APIC: #GP");
	report(lapic_extint_enabled(&l), "globally disabled APIC passes the PIC through");
	report(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00800) &&
		       lapic_msr_read(&l, MSR_IA32_APIC_BASE, &v) && v == 0xfee00900,
	       "re-enable xAPIC; BSP bit is read-only");
	report(apic_rd(&l, 0xf0) == 0xff, "re-enabled APIC starts software-disabled");
}

static void test_lapic_timer_regs(void)
{
	struct lapic l;
	struct fake_clock fc;
	u64 v = 0;
	lapic_setup(&l, &fc);
	apic_wr(&l, 0xf0, 0x1ff);
	apic_wr(&l, 0x3e0, 0xb); /* divide by 1 */
	apic_wr(&l, 0x320, 0x30);
	fc.now = 100;
	apic_wr(&l, 0x380, 1000);
	report(lapic_next_deadline(&l) == 1100, "one-shot: expiry at 100 + 1000");
	fc.now = 400;
	report(apic_rd(&l, 0x390) == 700, "current count 700 after 300 ticks");
	apic_wr(&l, 0x3e0, 0x0); /* divide by 2 mid-count */
	report(apic_rd(&l, 0x390) == 700 && lapic_next_deadline(&l) == 1800,
	       "divide change keeps the count, new rate (expiry 1800)");
	fc.now = 2000;
	report(apic_rd(&l, 0x390) == 0, "one-shot count stops at 0");
	report(lapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, &v) && v == 0,
	       "TSC_DEADLINE reads 0 outside deadline mode");
	lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 5000);
	report(lapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, &v) && v == 0,
	       "TSC_DEADLINE writes ignored outside deadline mode");
	apic_wr(&l, 0x320, 0x40030);
	apic_wr(&l, 0x380, 1234);
	report(apic_rd(&l, 0x380) == 0 && apic_rd(&l, 0x390) == 0,
	       "deadline mode disarmed the count; initial-count writes ignored");
	lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 5000);
	report(lapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, &v) && v == 5000 &&
		       lapic_next_deadline(&l) == 5000,
	       "TSC_DEADLINE armed at 5000");
	apic_wr(&l, 0x320, 0x30);
	report(lapic_next_deadline(&l) == CLOCK_NEVER, "leaving deadline mode disarms it");
}

static void rtc_setup(struct rtc *r, struct fake_clock *fc, struct line *ln, u64 ram)
{
	memset(fc, 0, sizeof(*fc));
	memset(ln, 0, sizeof(*ln));
	struct dev_clock clk = {fake_now, fake_rearm, fc, HZ};
	struct irq_line irq = {line_set, ln, 8};
	rtc_init(r, &irq, &clk, 1709251198 /* 2024-02-29 23:59:58 UTC */, ram, 1);
}

static u8 cmos(struct rtc *r, u8 reg)
{
	rtc_io_write(r, 0, 1, reg);
	return (u8)rtc_io_read(r, 1, 1);
}

static void cmos_wr(struct rtc *r, u8 reg, u8 v)
{
	rtc_io_write(r, 0, 1, reg);
	rtc_io_write(r, 1, 1, v);
}

static void test_rtc_time(void)
{
	struct rtc r;
	struct fake_clock fc;
	struct line ln;
	rtc_setup(&r, &fc, &ln, 128ull << 20);
	report(cmos(&r, 0) == 0x58 && cmos(&r, 2) == 0x59 && cmos(&r, 4) == 0x23,
	       "BCD time 23:59:58");
	report(cmos(&r, 7) == 0x29 && cmos(&r, 8) == 0x02 && cmos(&r, 9) == 0x24 && cmos(&r, 0x32) == 0x20,
	       "BCD date 2024-02-29, century 0x20");
	report(cmos(&r, 6) == 5, "day of week 5 (Thursday)");
	report(cmos(&r, 0x0a) == 0x26 && cmos(&r, 0x0b) == 0x02 && cmos(&r, 0x0d) == 0x80,
	       "A = 0x26 (UIP clear), B = 0x02, D = 0x80");
	fc.now = 2 * HZ;
	report(cmos(&r, 0) == 0x00 && cmos(&r, 4) == 0x00 && cmos(&r, 7) == 0x01 && cmos(&r, 8) == 0x03,
	       "2 virtual seconds later: 2024-03-01 00:00:00");
	fc.now = 0;
	cmos_wr(&r, 0x0b, 0x06);
	report(cmos(&r, 0) == 58 && cmos(&r, 4) == 23, "binary mode (DM): 58 s, hour 23");
	cmos_wr(&r, 0x0b, 0x00);
	report(cmos(&r, 4) == 0x91, "12-hour BCD: 11 PM = 0x91");
	cmos_wr(&r, 0x0b, 0x82);
	cmos_wr(&r, 4, 0x10);
	cmos_wr(&r, 0x0b, 0x02);
	report(cmos(&r, 4) == 0x10 && cmos(&r, 2) == 0x59 && cmos(&r, 7) == 0x29,
	       "writing the hour moves the clock, other fields kept");
	rtc_io_write(&r, 0, 1, 0x8a);
	report(rtc_io_read(&r, 1, 1) == 0x26 && r.nmi_masked, "index bit 7 = NMI mask, index 0x0a");
	cmos_wr(&r, 0x40, 0xab);
	report(cmos(&r, 0x40) == 0xab, "CMOS RAM byte 0x40 read/write");
}

static void test_rtc_memory(void)
{
	struct rtc r;
	struct fake_clock fc;
	struct line ln;
	rtc_setup(&r, &fc, &ln, 256ull << 20);
	report(cmos(&r, 0x15) == 0x80 && cmos(&r, 0x16) == 0x02, "base memory 640 KiB");
	report(cmos(&r, 0x17) == 0xff && cmos(&r, 0x18) == 0xff && cmos(&r, 0x30) == 0xff &&
		       cmos(&r, 0x31) == 0xff,
	       "256 MiB: extended memory capped at 0xffff KiB");
	report(cmos(&r, 0x34) == 0x00 && cmos(&r, 0x35) == 0x0f, "256 MiB: 0x0f00 64K blocks above 16 MiB");
	report(cmos(&r, 0x5b) == 0 && cmos(&r, 0x5c) == 0 && cmos(&r, 0x5d) == 0, "nothing above 4 GiB");
	report(cmos(&r, 0x5f) == 0, "CPU count - 1 = 0");
	rtc_setup(&r, &fc, &ln, 32ull << 20);
	report(cmos(&r, 0x17) == 0x00 && cmos(&r, 0x18) == 0x7c, "32 MiB: 31744 KiB extended");
	report(cmos(&r, 0x34) == 0x00 && cmos(&r, 0x35) == 0x01, "32 MiB: 256 blocks above 16 MiB");
	rtc_setup(&r, &fc, &ln, 5ull << 30);
	report(cmos(&r, 0x34) == 0x00 && cmos(&r, 0x35) == 0xbf, "5 GiB: 3 GiB below 4G (0xbf00 blocks)");
	report(cmos(&r, 0x5b) == 0x00 && cmos(&r, 0x5c) == 0x80 && cmos(&r, 0x5d) == 0x00,
	       "5 GiB: 2 GiB above 4G (0x8000 blocks)");
	rtc_setup(&r, &fc, &ln, 0xe0000000ull - 4096);
	report(cmos(&r, 0x34) == 0xff && cmos(&r, 0x35) == 0xde && cmos(&r, 0x5c) == 0,
	       "3.5 GiB - 4 KiB: all of it below 4G (0xdeff blocks), nothing above");
	rtc_setup(&r, &fc, &ln, 0xe0000000ull);
	report(cmos(&r, 0x35) == 0xbf && cmos(&r, 0x5b) == 0x00 && cmos(&r, 0x5c) == 0x20,
	       "3.5 GiB: 3 GiB below 4G, 512 MiB above (0x2000 blocks)");
}

static void test_rtc_irq(void)
{
	struct rtc r;
	struct fake_clock fc;
	struct line ln;
	rtc_setup(&r, &fc, &ln, 128ull << 20);
	report(rtc_next_deadline(&r) == CLOCK_NEVER, "no interrupt enabled: no deadline");
	cmos_wr(&r, 0x0b, 0x42); /* PIE, 1024 Hz */
	report(rtc_next_deadline(&r) == 976563, "periodic 1024 Hz: deadline 976563");
	rtc_advance(&r, 976562);
	report(!ln.level, "not yet");
	rtc_advance(&r, 976563);
	report(ln.level, "IRQ8 raised at the periodic tick");
	report(rtc_next_deadline(&r) == CLOCK_NEVER, "no deadline while IRQF is set");
	fc.now = 976563;
	report(cmos(&r, 0x0c) == 0xc0 && !ln.level, "C = IRQF|PF; reading C lowers IRQ8");
	report(cmos(&r, 0x0c) == 0x00, "C cleared by the read");
	cmos_wr(&r, 0x0b, 0x12); /* UIE */
	report(rtc_next_deadline(&r) == HZ, "update-ended: deadline at the next second");
	rtc_advance(&r, HZ);
	fc.now = HZ;
	report(ln.level && (cmos(&r, 0x0c) & 0xb0) == 0x90, "UF with UIE: C = IRQF|UF (PF too, PIE off)");
	cmos_wr(&r, 1, 0xff);
	cmos_wr(&r, 3, 0xff);
	cmos_wr(&r, 5, 0xff);
	cmos_wr(&r, 0x0b, 0x22); /* AIE, alarm don't-care everywhere */
	rtc_advance(&r, 2 * HZ);
	fc.now = 2 * HZ;
	report(ln.level && (cmos(&r, 0x0c) & 0xa0) == 0xa0, "alarm (don't care) fires each second");
	rtc_reset(&r);
	report(cmos(&r, 0x0b) == 0x02, "reset clears PIE/AIE/UIE");
}

int main(void)
{
	test_pit_reset_and_mode0();
	test_pit_mode2();
	test_pit_port61();
	test_pit_latch();
	test_lapic_regs();
	test_lapic_ipi();
	test_lapic_x2apic();
	test_lapic_timer_regs();
	test_rtc_time();
	test_rtc_memory();
	test_rtc_irq();
	return 0;
}
