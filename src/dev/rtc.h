/* rtc.h: the MC146818 RTC and CMOS RAM at ports 0x70 (index) / 0x71 (data).
 *
 * The clock reads the host's UTC time at creation plus elapsed virtual time
 * (guest TSC / hz); writes to the time registers move it. Register A never
 * shows update-in-progress, D always reports valid RAM. Register C flags
 * (PF, AF, UF) are computed from virtual time, and IRQ8 is raised when an
 * enabled one is set, until C is read. The CMOS RAM holds the memory size
 * bytes SeaBIOS and QEMU use (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5b-0x5d)
 * and the CPU count - 1 at 0x5f. Reference: Motorola MC146818A datasheet.
 */
#ifndef CETVM_DEV_RTC_H
#define CETVM_DEV_RTC_H

#include "../types.h"
#include "clock.h"
#include "irq.h"

#define RTC_IO_BASE 0x70
#define RTC_IO_LEN 2

#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

struct rtc {
	u8 index;
	bool nmi_masked; /* bit 7 of the index port: recorded, no NMI source */
	u8 ram[128];
	s64 offset;   /* guest UTC seconds = offset + tsc / hz */
	u64 last_tsc; /* virtual time at which the C flags were last updated */
	u8 flags;     /* register C */
	bool irq_level;
	struct irq_line irq;
	struct dev_clock clk;
};

/* host_time: UTC seconds since the epoch that corresponds to TSC 0. */
void rtc_init(struct rtc *r, const struct irq_line *irq8, const struct dev_clock *clk, s64 host_time,
	      u64 ram_size, int ncpus);
void rtc_reset(struct rtc *r);
void rtc_advance(struct rtc *r, u64 now);
u64 rtc_next_deadline(const struct rtc *r);

u64 rtc_io_read(void *opaque, u64 offset, unsigned size);
void rtc_io_write(void *opaque, u64 offset, unsigned size, u64 value);

#endif
