/* rtc.c: MC146818 RTC/CMOS in virtual time (Motorola MC146818A datasheet). */
#include "rtc.h"

#include <string.h>
#include <time.h>

#include "../log.h"
#include "../mem.h"

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09

#define A_RS 0x0f /* rate select */
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80

#define RTC_BASE_HZ 32768 /* time base of the periodic interrupt */
#define KIB 1024ull
#define MIB (1024 * KIB)

static u8 to_bcd(int v)
{
	return (u8)((v / 10) << 4 | (v % 10));
}

static int from_bcd(u8 v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static u8 encode(const struct rtc *r, int v)
{
	return (r->ram[RTC_REG_B] & B_DM_BINARY) ? (u8)v : to_bcd(v);
}

static int decode(const struct rtc *r, u8 v)
{
	return (r->ram[RTC_REG_B] & B_DM_BINARY) ? v : from_bcd(v);
}

static s64 guest_seconds(const struct rtc *r, u64 now)
{
	return r->offset + (s64)(now / r->clk.hz);
}

static void guest_tm(const struct rtc *r, u64 now, struct tm *tm)
{
	time_t t = (time_t)guest_seconds(r, now);
	gmtime_r(&t, tm);
}

static u8 encode_hour(const struct rtc *r, int h)
{
	if (r->ram[RTC_REG_B] & B_24H)
		return encode(r, h);
	int h12 = h % 12 ? h % 12 : 12;
	return (u8)(encode(r, h12) | (h >= 12 ? 0x80 : 0)); /* bit 7: PM */
}

static int decode_hour(const struct rtc *r, u8 v)
{
	if (r->ram[RTC_REG_B] & B_24H)
		return decode(r, v);
	return decode(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* The time register `reg` as the guest reads it, or -1 if not one. */
static int time_reg(const struct rtc *r, u8 reg, const struct tm *tm)
{
	switch (reg) {
	case REG_SEC:
		return encode(r, tm->tm_sec);
	case REG_MIN:
		return encode(r, tm->tm_min);
	case REG_HOUR:
		return encode_hour(r, tm->tm_hour);
	case REG_WDAY:
		return encode(r, tm->tm_wday + 1); /* 1 = Sunday */
	case REG_MDAY:
		return encode(r, tm->tm_mday);
	case REG_MONTH:
		return encode(r, tm->tm_mon + 1);
	case REG_YEAR:
		return encode(r, tm->tm_year % 100);
	case RTC_CENTURY:
		return encode(r, (tm->tm_year + 1900) / 100);
	default:
		return -1;
	}
}

static bool is_time_reg(u8 reg)
{
	bool alarm = reg == REG_SEC_ALARM || reg == REG_MIN_ALARM || reg == REG_HOUR_ALARM;
	return (reg <= REG_YEAR && !alarm) || reg == RTC_CENTURY;
}

/* Set one time field, keeping the others; the clock keeps running. */
static void write_time_reg(struct rtc *r, u8 reg, u8 v, u64 now)
{
	struct tm tm;
	guest_tm(r, now, &tm);
	switch (reg) {
	case REG_SEC:
		tm.tm_sec = decode(r, v);
		break;
	case REG_MIN:
		tm.tm_min = decode(r, v);
		break;
	case REG_HOUR:
		tm.tm_hour = decode_hour(r, v);
		break;
	case REG_MDAY:
		tm.tm_mday = decode(r, v);
		break;
	case REG_MONTH:
		tm.tm_mon = decode(r, v) - 1;
		break;
	case REG_YEAR:
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + decode(r, v) - 1900;
		break;
	case RTC_CENTURY:
		tm.tm_year = decode(r, v) * 100 + tm.tm_year % 100 - 1900;
		break;
	default: /* day of week follows from the date */
		return;
	}
	time_t t = timegm(&tm);
	if (t == (time_t)-1) {
		log_debug("rtc: ignoring invalid time write %#x to register %#x", v, reg);
		return;
	}
	r->offset = (s64)t - (s64)(now / r->clk.hz);
}

/* 32.768 kHz cycles per periodic interrupt, 0 if RS = 0 (datasheet
 * "Periodic Interrupt Rate"). RS 1 and 2 repeat rates 8 and 9. */
static u64 periodic_cycles(const struct rtc *r)
{
	unsigned rs = r->ram[RTC_REG_A] & A_RS;
	if (!rs)
		return 0;
	return 1ull << (rs <= 2 ? rs + 6 : rs - 1);
}

static u64 periodic_index(const struct rtc *r, u64 tsc, u64 cycles)
{
	return clock_scale(tsc, RTC_BASE_HZ, r->clk.hz) / cycles;
}

static bool alarm_field_matches(u8 alarm, int value)
{
	return alarm >= 0xc0 || alarm == value; /* 11xxxxxx: don't care */
}

static bool alarm_matches(const struct rtc *r, u64 now)
{
	struct tm tm;
	guest_tm(r, now, &tm);
	return alarm_field_matches(r->ram[REG_SEC_ALARM], time_reg(r, REG_SEC, &tm)) &&
	       alarm_field_matches(r->ram[REG_MIN_ALARM], time_reg(r, REG_MIN, &tm)) &&
	       alarm_field_matches(r->ram[REG_HOUR_ALARM], time_reg(r, REG_HOUR, &tm));
}

static void update_irq(struct rtc *r)
{
	if (r->flags & r->ram[RTC_REG_B] & (C_PF | C_AF | C_UF))
		r->flags |= C_IRQF;
	bool level = r->flags & C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_set_level(&r->irq, level);
	}
}

void rtc_advance(struct rtc *r, u64 now)
{
	if (now <= r->last_tsc)
		return;
	u64 cycles = periodic_cycles(r);
	if (cycles && periodic_index(r, now, cycles) > periodic_index(r, r->last_tsc, cycles))
		r->flags |= C_PF;
	/* Guest seconds tick at multiples of hz: `offset` is whole seconds. */
	if (!(r->ram[RTC_REG_B] & B_SET) && now / r->clk.hz > r->last_tsc / r->clk.hz) {
		r->flags |= C_UF;
		if (alarm_matches(r, now))
			r->flags |= C_AF;
	}
	r->last_tsc = now;
	update_irq(r);
}

u64 rtc_next_deadline(const struct rtc *r)
{
	u8 b = r->ram[RTC_REG_B];
	u64 next = CLOCK_NEVER;
	if (r->flags & C_IRQF)
		return CLOCK_NEVER; /* IRQ8 stays high until C is read */
	u64 cycles = periodic_cycles(r);
	if ((b & B_PIE) && cycles) {
		u64 idx = periodic_index(r, r->last_tsc, cycles) + 1;
		next = clock_scale_up(idx * cycles, r->clk.hz, RTC_BASE_HZ);
	}
	if ((b & (B_UIE | B_AIE)) && !(b & B_SET)) {
		u64 sec = clock_add(r->last_tsc / r->clk.hz, 1);
		u64 t = sec > CLOCK_NEVER / r->clk.hz ? CLOCK_NEVER : sec * r->clk.hz;
		next = t < next ? t : next;
	}
	return next;
}

static u8 read_reg(struct rtc *r, u8 reg, u64 now)
{
	struct tm tm;
	guest_tm(r, now, &tm);
	int t = time_reg(r, reg, &tm);
	if (t >= 0)
		return (u8)t;
	switch (reg) {
	case RTC_REG_A:
		return r->ram[reg] & 0x7f; /* UIP never set */
	case RTC_REG_C: {
		rtc_advance(r, now);
		u8 v = r->flags;
		r->flags = 0;
		update_irq(r);
		clock_rearm(&r->clk);
		return v;
	}
	case RTC_REG_D:
		return D_VRT;
	default:
		return r->ram[reg];
	}
}

static void write_reg(struct rtc *r, u8 reg, u8 v, u64 now)
{
	switch (reg) {
	case RTC_REG_A:
		rtc_advance(r, now);
		r->ram[reg] = v & 0x7f;
		break;
	case RTC_REG_B:
		rtc_advance(r, now);
		if (v & B_SET)
			v &= (u8)~B_UIE; /* SET clears UIE */
		r->ram[reg] = v;
		update_irq(r);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		if (is_time_reg(reg))
			write_time_reg(r, reg, v, now);
		else
			r->ram[reg] = v;
		return;
	}
	clock_rearm(&r->clk);
}

u64 rtc_io_read(void *opaque, u64 offset, unsigned size)
{
	struct rtc *r = opaque;
	(void)size;
	if (offset == 0)
		return 0xff; /* the index register is write-only */
	return read_reg(r, r->index, clock_now(&r->clk));
}

void rtc_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct rtc *r = opaque;
	(void)size;
	if (offset == 0) {
		r->index = value & 0x7f;
		r->nmi_masked = value & 0x80;
	} else {
		write_reg(r, r->index, (u8)value, clock_now(&r->clk));
	}
}

static void put16(struct rtc *r, u8 reg, u64 v)
{
	r->ram[reg] = (u8)v;
	r->ram[reg + 1] = (u8)(v >> 8);
}

/* Memory size bytes as QEMU's pc_cmos_init() sets them for SeaBIOS, from
 * the machine's RAM layout (mem.h): with 3.5 GiB or more, RAM above 3 GiB
 * sits above 4 GiB. */
static void set_memory_size(struct rtc *r, u64 ram_size, int ncpus)
{
	u64 above = mem_high_size(ram_size);
	u64 below = ram_size - above;
	u64 ext = below > MIB ? below / KIB - 1024 : 0;
	ext = ext > 0xffff ? 0xffff : ext;
	put16(r, 0x15, 640); /* base memory, KiB */
	put16(r, 0x17, ext); /* extended memory above 1 MiB, KiB */
	put16(r, 0x30, ext);
	u64 hi = below > 16 * MIB ? (below - 16 * MIB) / (64 * KIB) : 0;
	put16(r, 0x34, hi > 0xffff ? 0xffff : hi); /* above 16 MiB, 64 KiB units */
	u64 high = above / (64 * KIB);              /* above 4 GiB, 64 KiB units */
	r->ram[0x5b] = (u8)high;
	r->ram[0x5c] = (u8)(high >> 8);
	r->ram[0x5d] = (u8)(high >> 16);
	r->ram[0x5f] = (u8)(ncpus - 1);
}

void rtc_init(struct rtc *r, const struct irq_line *irq8, const struct dev_clock *clk, s64 host_time,
	      u64 ram_size, int ncpus)
{
	memset(r, 0, sizeof(*r));
	r->irq = *irq8;
	r->clk = *clk;
	r->offset = host_time;
	r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->ram[RTC_REG_B] = B_24H; /* 24-hour, BCD */
	r->ram[RTC_REG_D] = D_VRT;
	set_memory_size(r, ram_size, ncpus);
	r->last_tsc = clock_now(clk);
}

void rtc_reset(struct rtc *r)
{
	/* The RESET pin clears PIE, AIE, UIE and the flags; time and RAM are
	 * battery-backed. */
	r->ram[RTC_REG_B] &= (u8)~(B_PIE | B_AIE | B_UIE);
	r->flags = 0;
	update_irq(r);
}
