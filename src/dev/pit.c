/* pit.c: 8254 PIT in virtual time (Intel 82C54 datasheet, "Modes"). */
#include "pit.h"

#include <string.h>

#define P61_GATE2 0x01
#define P61_WRITABLE 0x0f
#define P61_REFRESH 0x10
#define P61_OUT2 0x20
#define REFRESH_NS 15085 /* DRAM refresh request period, 15.085 us */

static u32 modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 0x10000;
}

static u64 ticks_since(const struct pit *p, u64 from, u64 now)
{
	return now > from ? clock_scale(now - from, PIT_HZ, p->clk.hz) : 0;
}

static u64 tsc_of_ticks(const struct pit *p, u64 ticks)
{
	return clock_scale_up(ticks, p->clk.hz, PIT_HZ);
}

/* Input clocks counted since the load. */
static u64 elapsed(const struct pit *p, const struct pit_channel *c, u64 now)
{
	return c->running ? ticks_since(p, c->load_tsc, now) : c->frozen;
}

static bool gated_off(const struct pit_channel *c)
{
	return !c->gate && (c->mode == 2 || c->mode == 3);
}

/* OUT as a function of the clocks since the load (datasheet, per mode). */
static bool out_at(const struct pit_channel *c, u64 d)
{
	if (!c->loaded)
		return c->mode != 0; /* a control word sets OUT low in mode 0 only */
	if (c->armed || gated_off(c))
		return true;
	switch (c->mode) {
	case 0:
	case 1:
		return d >= c->count;
	case 2:
		return d % c->count != c->count - 1;
	case 3:
		return d % c->count < (c->count + 1) / 2;
	default: /* 4, 5: a one-clock low pulse at terminal count */
		return d != c->count;
	}
}

static u32 counter_at(const struct pit_channel *c, u64 d)
{
	u32 m = modulus(c);
	if (!c->loaded)
		return 0;
	switch (c->mode) {
	case 2:
		return (u32)(c->count - d % c->count) % m;
	case 3:
		return (u32)(c->count - (2 * d) % c->count) % m;
	default: /* 0, 1, 4, 5 count down through 0 and wrap */
		return (u32)((c->count + m - d % m) % m);
	}
}

static u16 to_bcd(u32 v)
{
	return (u16)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static u32 from_bcd(u32 v)
{
	return (v & 0xf) + (v >> 4 & 0xf) * 10 + (v >> 8 & 0xf) * 100 + (v >> 12 & 0xf) * 1000;
}

bool pit_out(const struct pit *p, int ch, u64 now)
{
	const struct pit_channel *c = &p->ch[ch];
	return out_at(c, elapsed(p, c, now));
}

/* OUT0 rising edges due after d clocks of the current load. */
static u64 edges_due(const struct pit_channel *c, u64 d)
{
	if (!c->loaded || c->armed || gated_off(c))
		return 0;
	switch (c->mode) {
	case 0:
	case 1:
		return d >= c->count;
	case 2:
	case 3:
		return d / c->count; /* OUT rises at every reload */
	default:
		return d >= (u64)c->count + 1; /* after the low pulse */
	}
}

/* Clocks from the load to edge number n (1-based), or CLOCK_NEVER. */
static u64 edge_clock(const struct pit_channel *c, u64 n)
{
	if (!c->loaded || c->armed || !c->running || gated_off(c))
		return CLOCK_NEVER;
	switch (c->mode) {
	case 0:
	case 1:
		return n == 1 ? c->count : CLOCK_NEVER;
	case 2:
	case 3:
		return n * c->count;
	default:
		return n == 1 ? (u64)c->count + 1 : CLOCK_NEVER;
	}
}

static void set_irq0(struct pit *p, bool level)
{
	if (level != p->irq_level) {
		p->irq_level = level;
		irq_set_level(&p->irq, level);
	}
}

void pit_advance(struct pit *p, u64 now)
{
	struct pit_channel *c = &p->ch[0];
	u64 due = edges_due(c, elapsed(p, c, now));
	if (due <= c->edges_done)
		return;
	c->edges_done = due;
	set_irq0(p, true);
	if (c->mode > 1)
		set_irq0(p, false); /* periodic / strobe: a pulse per edge */
}

u64 pit_next_deadline(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	u64 d = edge_clock(c, c->edges_done + 1);
	if (d == CLOCK_NEVER)
		return CLOCK_NEVER;
	return clock_add(c->load_tsc, tsc_of_ticks(p, d));
}

static void after_change(struct pit *p, int ch, u64 now)
{
	if (ch != 0)
		return;
	const struct pit_channel *c = &p->ch[0];
	/* Modes 0/1 drive IRQ0 with OUT0 itself; the others signal each
	 * rising edge as a pulse, so the line rests low. */
	set_irq0(p, c->mode <= 1 && out_at(c, elapsed(p, c, now)));
	clock_rearm(&p->clk);
}

static void load_count(struct pit *p, int ch, u32 v, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->bcd)
		v = from_bcd(v);
	c->count = v ? v : modulus(c);
	c->loaded = true;
	c->armed = c->mode == 1 || c->mode == 5; /* hardware-triggered modes */
	c->running = !c->armed && c->gate; /* gate low: counting waits */
	c->load_tsc = now;
	c->frozen = 0;
	c->edges_done = 0;
	after_change(p, ch, now);
}

static void write_counter(struct pit *p, int ch, u8 v, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	switch (c->rw) {
	case 1:
		load_count(p, ch, v, now);
		break;
	case 2:
		load_count(p, ch, (u32)v << 8, now);
		break;
	default:
		if (!c->write_hi_next) {
			c->write_lo = v;
			c->write_hi_next = true;
			if (c->mode == 0) { /* first byte stops the count, OUT low */
				c->loaded = false;
				after_change(p, ch, now);
			}
		} else {
			c->write_hi_next = false;
			load_count(p, ch, c->write_lo | (u32)v << 8, now);
		}
		break;
	}
}

static void latch_count(struct pit *p, int ch, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->count_latched)
		return; /* a second latch before reading is ignored */
	u32 v = counter_at(c, elapsed(p, c, now));
	c->latch = c->bcd ? to_bcd(v) : (u16)v;
	c->count_latched = true;
	c->read_hi_next = false;
}

static void latch_status(struct pit *p, int ch, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->status_latched)
		return;
	/* Status byte: OUT, null count, RW, mode, BCD (datasheet "Read-Back"). */
	c->status = (u8)((pit_out(p, ch, now) ? 0x80 : 0) | (c->loaded ? 0 : 0x40) | c->rw << 4 |
			 c->mode << 1 | c->bcd);
	c->status_latched = true;
}

static void read_back(struct pit *p, u8 v, u64 now)
{
	for (int ch = 0; ch < 3; ch++) {
		if (!(v & (2 << ch)))
			continue;
		if (!(v & 0x10))
			latch_status(p, ch, now);
		if (!(v & 0x20))
			latch_count(p, ch, now);
	}
}

static void write_control(struct pit *p, u8 v, u64 now)
{
	int ch = v >> 6;
	if (ch == 3) {
		read_back(p, v, now);
		return;
	}
	struct pit_channel *c = &p->ch[ch];
	u8 rw = (v >> 4) & 3;
	if (rw == 0) {
		latch_count(p, ch, now);
		return;
	}
	c->rw = rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 are aliases of modes 2 and 3 */
	c->bcd = v & 1;
	c->loaded = c->armed = c->running = false;
	c->write_hi_next = c->read_hi_next = false;
	c->edges_done = 0;
	after_change(p, ch, now);
}

void pit_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct pit *p = opaque;
	u64 now = clock_now(&p->clk);
	(void)size;
	if (offset == 3)
		write_control(p, (u8)value, now);
	else
		write_counter(p, (int)offset, (u8)value, now);
}

static u8 read_counter(struct pit *p, int ch, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 v;
	if (c->count_latched) {
		v = c->latch;
	} else {
		u32 cur = counter_at(c, elapsed(p, c, now));
		v = c->bcd ? to_bcd(cur) : (u16)cur;
	}
	bool hi = c->rw == 2 || (c->rw == 3 && c->read_hi_next);
	if (c->rw == 3)
		c->read_hi_next = !c->read_hi_next;
	if (c->count_latched && !(c->rw == 3 && c->read_hi_next))
		c->count_latched = false; /* fully read */
	return hi ? (u8)(v >> 8) : (u8)v;
}

u64 pit_io_read(void *opaque, u64 offset, unsigned size)
{
	struct pit *p = opaque;
	(void)size;
	if (offset == 3)
		return 0xff; /* the control word register is write-only */
	return read_counter(p, (int)offset, clock_now(&p->clk));
}

static void set_gate(struct pit *p, int ch, bool gate, u64 now)
{
	struct pit_channel *c = &p->ch[ch];
	if (gate == c->gate)
		return;
	if (!gate) {
		/* Modes 0, 4 suspend counting; 2, 3 stop and force OUT high. */
		if (c->running && c->mode != 1 && c->mode != 5) {
			c->frozen = elapsed(p, c, now);
			c->running = false;
		}
	} else if (c->loaded) {
		if (c->mode == 0 || c->mode == 4) { /* resume where it stopped */
			u64 back = tsc_of_ticks(p, c->frozen);
			c->load_tsc = now > back ? now - back : 0;
		} else { /* rising edge (re)triggers modes 1, 2, 3, 5 */
			c->load_tsc = now;
			c->frozen = 0;
			c->edges_done = 0;
		}
		c->armed = false;
		c->running = true;
	}
	c->gate = gate;
	after_change(p, ch, now);
}

u64 pit_port61_read(void *opaque, u64 offset, unsigned size)
{
	struct pit *p = opaque;
	u64 now = clock_now(&p->clk);
	u64 ns = clock_scale(now, 1000000000, p->clk.hz);
	u8 v = p->port61 & P61_WRITABLE;
	(void)offset;
	(void)size;
	if ((ns / REFRESH_NS) & 1)
		v |= P61_REFRESH;
	if (pit_out(p, 2, now))
		v |= P61_OUT2;
	return v;
}

void pit_port61_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct pit *p = opaque;
	(void)offset;
	(void)size;
	p->port61 = (u8)value & P61_WRITABLE;
	set_gate(p, 2, value & P61_GATE2, clock_now(&p->clk));
}

void pit_init(struct pit *p, const struct irq_line *irq0, const struct dev_clock *clk)
{
	memset(p, 0, sizeof(*p));
	p->irq = *irq0;
	p->clk = *clk;
	pit_reset(p);
}

void pit_reset(struct pit *p)
{
	u64 now = clock_now(&p->clk);
	p->port61 = 0;
	for (int ch = 0; ch < 3; ch++) {
		struct pit_channel *c = &p->ch[ch];
		memset(c, 0, sizeof(*c));
		c->gate = ch != 2;
		c->rw = 3;
		c->mode = 3;
		load_count(p, ch, 0, now);
	}
	set_irq0(p, false);
}
