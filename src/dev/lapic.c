/* lapic.c: local APIC registers, priorities, IPIs and timer (SDM Vol. 3A ch. 11). */
#include "lapic.h"

#include <string.h>

#include "../log.h"

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + offset / 16. */
enum {
	APIC_ID = 0x20,
	APIC_LVR = 0x30,
	APIC_TPR = 0x80,
	APIC_APR = 0x90,
	APIC_PPR = 0xa0,
	APIC_EOI = 0xb0,
	APIC_RRD = 0xc0,
	APIC_LDR = 0xd0,
	APIC_DFR = 0xe0,
	APIC_SPIV = 0xf0,
	APIC_ISR = 0x100,
	APIC_TMR = 0x180,
	APIC_IRR = 0x200,
	APIC_ESR = 0x280,
	APIC_ICR = 0x300,
	APIC_ICR2 = 0x310,
	APIC_LVTT = 0x320, /* LVTs follow every 0x10 in enum lapic_lvt order */
	APIC_LVTERR = 0x370,
	APIC_TMICT = 0x380,
	APIC_TMCCT = 0x390,
	APIC_TDCR = 0x3e0,
	APIC_SELF_IPI = 0x3f0, /* x2APIC only */
};

#define SPIV_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_DM_SHIFT 8
#define LVT_DM_EXTINT 7u
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

#define ICR_DM(v) (((v) >> 8) & 7)
#define ICR_LOGICAL (1u << 11)
#define ICR_LEVEL (1u << 15)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3)
#define DM_FIXED 0
#define DM_LOWEST 1

#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)

/* Writable bits of each LVT (SDM Figure "Local Vector Table"). */
static const u32 lvt_mask[LAPIC_NLVT] = {
	[LVT_TIMER] = 0x700ff,   /* vector, mask, timer mode */
	[LVT_THERMAL] = 0x107ff, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,   /* + polarity, trigger mode */
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

static bool x2apic(const struct lapic *l)
{
	return (l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

bool lapic_x2apic_mode(const struct lapic *l)
{
	return x2apic(l);
}

static bool sw_enabled(const struct lapic *l)
{
	return (l->apic_base & APIC_BASE_EN) && (l->spiv & SPIV_ENABLE);
}

static int highest_bit(const u32 v[8])
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static void set_bit(u32 v[8], u8 vec)
{
	v[vec >> 5] |= 1u << (vec & 31);
}

static void clear_bit(u32 v[8], u8 vec)
{
	v[vec >> 5] &= ~(1u << (vec & 31));
}

static bool test_bit(const u32 v[8], u8 vec)
{
	return v[vec >> 5] & (1u << (vec & 31));
}

/* SDM "Processor Priority Register": the higher of TPR and the class of
 * the highest in-service vector. */
u8 lapic_ppr(const struct lapic *l)
{
	int isrv = highest_bit(l->isr);
	u8 tpr = (u8)l->tpr;
	if (isrv < 0 || (tpr >> 4) >= (isrv >> 4))
		return tpr;
	return (u8)(isrv & 0xf0);
}

int lapic_peek(const struct lapic *l)
{
	if (!sw_enabled(l))
		return -1;
	int irrv = highest_bit(l->irr);
	if (irrv < 0 || (irrv & 0xf0) <= (lapic_ppr(l) & 0xf0))
		return -1;
	return irrv;
}

int lapic_ack(struct lapic *l)
{
	int v = lapic_peek(l);
	if (v >= 0) {
		clear_bit(l->irr, (u8)v);
		set_bit(l->isr, (u8)v);
	}
	return v;
}

bool lapic_extint_enabled(const struct lapic *l)
{
	u32 lint0 = l->lvt[LVT_LINT0];
	if (!sw_enabled(l))
		return true;
	return !(lint0 & LVT_MASKED) && ((lint0 >> LVT_DM_SHIFT) & 7) == LVT_DM_EXTINT;
}

static void raise_error(struct lapic *l, u32 bits)
{
	l->esr_pending |= bits;
	u32 lvt = l->lvt[LVT_ERROR];
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		lapic_accept(l, (u8)lvt, false);
}

void lapic_accept(struct lapic *l, u8 vector, bool level)
{
	if (!(l->apic_base & APIC_BASE_EN))
		return;
	if (vector < 16) { /* vectors 0-15 are illegal for fixed delivery */
		raise_error(l, ESR_RECV_ILLEGAL);
		return;
	}
	set_bit(l->irr, vector);
	if (level)
		set_bit(l->tmr, vector);
	else
		clear_bit(l->tmr, vector);
}

static void do_eoi(struct lapic *l)
{
	int v = highest_bit(l->isr);
	if (v < 0)
		return;
	clear_bit(l->isr, (u8)v);
	if (test_bit(l->tmr, (u8)v) && l->eoi_broadcast)
		l->eoi_broadcast(l->eoi_opaque, (u8)v);
}

static u32 x2apic_ldr(u32 id)
{
	return (id >> 4) << 16 | 1u << (id & 0xf); /* SDM "Logical Destination Mode in x2APIC Mode" */
}

bool lapic_match_dest(const struct lapic *l, u32 dest, bool logical)
{
	if (x2apic(l)) {
		if (dest == 0xffffffff)
			return true;
		if (!logical)
			return dest == l->id;
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (l->id & 0xff);
	u8 lid = (u8)(l->ldr >> 24);
	if ((l->dfr >> 28) == 0xf) /* flat model */
		return dest & lid;
	return (dest >> 4) == (lid >> 4) && (dest & lid & 0xf); /* cluster model */
}

/* Bus clock = TSC; DCR bits 3,1:0 select divide by 2..128 or 1. */
static u64 timer_div(const struct lapic *l)
{
	unsigned v = ((l->timer_dcr & 8) >> 1) | (l->timer_dcr & 3);
	return 1ull << ((v + 1) & 7);
}

static unsigned timer_mode(const struct lapic *l)
{
	return LVT_TIMER_MODE(l->lvt[LVT_TIMER]);
}

/* Next expiry strictly after `now` for a periodic timer whose expiry was
 * `exp` <= now. */
static u64 next_period(const struct lapic *l, u64 exp, u64 now)
{
	u64 period = (u64)l->timer_initial * timer_div(l);
	u64 k = (now - exp) / period + 1;
	u64 step = k > CLOCK_NEVER / period ? CLOCK_NEVER : k * period;
	return clock_add(exp, step);
}

static u32 current_count(const struct lapic *l, u64 now)
{
	u64 exp = l->timer_expiry;
	if (timer_mode(l) == TIMER_TSC_DEADLINE || exp == CLOCK_NEVER)
		return 0;
	if (now >= exp) {
		if (timer_mode(l) != TIMER_PERIODIC)
			return 0;
		exp = next_period(l, exp, now);
	}
	u64 div = timer_div(l);
	u64 cc = (exp - now + div - 1) / div;
	return cc > l->timer_initial ? l->timer_initial : (u32)cc;
}

static void fire_timer(struct lapic *l)
{
	u32 lvt = l->lvt[LVT_TIMER];
	if (!(lvt & LVT_MASKED))
		lapic_accept(l, (u8)lvt, false);
}

void lapic_advance(struct lapic *l, u64 now)
{
	if (timer_mode(l) == TIMER_TSC_DEADLINE) {
		if (l->tsc_deadline && now >= l->tsc_deadline) {
			l->tsc_deadline = 0; /* the MSR reads 0 once it fired */
			fire_timer(l);
		}
		return;
	}
	if (l->timer_expiry == CLOCK_NEVER || now < l->timer_expiry)
		return;
	if (timer_mode(l) == TIMER_PERIODIC)
		l->timer_expiry = next_period(l, l->timer_expiry, now);
	else
		l->timer_expiry = CLOCK_NEVER;
	fire_timer(l); /* late expiries coalesce into one interrupt */
}

u64 lapic_next_deadline(const struct lapic *l)
{
	if (timer_mode(l) == TIMER_TSC_DEADLINE)
		return l->tsc_deadline ? l->tsc_deadline : CLOCK_NEVER;
	return l->timer_expiry;
}

static void write_initial_count(struct lapic *l, u32 v)
{
	if (timer_mode(l) == TIMER_TSC_DEADLINE)
		return; /* ignored in TSC-deadline mode */
	l->timer_initial = v;
	if (!v)
		l->timer_expiry = CLOCK_NEVER;
	else
		l->timer_expiry = clock_add(clock_now(&l->clk), (u64)v * timer_div(l));
	clock_rearm(&l->clk);
}

static void write_dcr(struct lapic *l, u32 v)
{
	u64 now = clock_now(&l->clk);
	u32 cc = current_count(l, now);
	l->timer_dcr = v & 0xb;
	/* The count in progress goes on at the new rate. */
	if (l->timer_expiry != CLOCK_NEVER && timer_mode(l) != TIMER_TSC_DEADLINE)
		l->timer_expiry = clock_add(now, (u64)cc * timer_div(l));
	clock_rearm(&l->clk);
}

static void write_lvt(struct lapic *l, int i, u32 v)
{
	v &= lvt_mask[i];
	if (!sw_enabled(l))
		v |= LVT_MASKED; /* SDM: masks cannot be cleared while software-disabled */
	if (i == LVT_TIMER) {
		bool was_dl = timer_mode(l) == TIMER_TSC_DEADLINE;
		bool is_dl = LVT_TIMER_MODE(v) == TIMER_TSC_DEADLINE;
		if (LVT_TIMER_MODE(v) == 3)
			v &= ~(3u << 17); /* reserved mode: keep one-shot */
		if (was_dl != is_dl) { /* switching to/from TSC-deadline disarms */
			l->tsc_deadline = 0;
			l->timer_initial = 0;
			l->timer_expiry = CLOCK_NEVER;
		}
	}
	l->lvt[i] = v;
	if (i == LVT_TIMER)
		clock_rearm(&l->clk);
}

static void write_spiv(struct lapic *l, u32 v)
{
	l->spiv = v & 0x13ff; /* vector, APIC enable, focus check, EOI suppression */
	if (!(v & SPIV_ENABLE))
		for (int i = 0; i < LAPIC_NLVT; i++)
			l->lvt[i] |= LVT_MASKED;
}

static void send_ipi(struct lapic *l)
{
	u32 lo = l->icr_lo;
	u8 vector = (u8)lo;
	bool self;
	switch (ICR_SHORTHAND(lo)) {
	case 0:
		self = lapic_match_dest(l, x2apic(l) ? l->icr_hi : l->icr_hi >> 24, lo & ICR_LOGICAL);
		break;
	case 1: /* self */
	case 2: /* all including self */
		self = true;
		break;
	default: /* all excluding self: there is nobody else */
		self = false;
		break;
	}
	/* INIT, SIPI, NMI, SMI to other CPUs: accepted and ignored, one CPU. */
	if (!self)
		return;
	if (ICR_DM(lo) == DM_FIXED || ICR_DM(lo) == DM_LOWEST) {
		if (vector < 16)
			raise_error(l, ESR_SEND_ILLEGAL);
		else
			lapic_accept(l, vector, false);
	} else {
		log_debug("lapic: self-IPI with delivery mode %u ignored", ICR_DM(lo));
	}
}

/* Register read; false when the register does not exist in this mode. */
static bool reg_read(struct lapic *l, u32 off, u64 *out)
{
	bool x2 = x2apic(l);
	u32 v = 0;
	if (off >= APIC_ISR && off < APIC_ESR) {
		const u32 *bank = off < APIC_TMR ? l->isr : off < APIC_IRR ? l->tmr : l->irr;
		*out = bank[(off & 0x7f) >> 4];
		return true;
	}
	if (off >= APIC_LVTT && off <= APIC_LVTERR) {
		*out = l->lvt[(off - APIC_LVTT) >> 4];
		return true;
	}
	switch (off) {
	case APIC_ID: v = x2 ? l->id : l->id << 24; break;
	case APIC_LVR: v = APIC_VERSION; break;
	case APIC_TPR: v = l->tpr; break;
	case APIC_PPR: v = lapic_ppr(l); break;
	case APIC_LDR: v = l->ldr; break;
	case APIC_SPIV: v = l->spiv; break;
	case APIC_ESR: v = l->esr; break;
	case APIC_TMICT: v = l->timer_initial; break;
	case APIC_TMCCT: v = current_count(l, clock_now(&l->clk)); break;
	case APIC_TDCR: v = l->timer_dcr; break;
	case APIC_ICR:
		*out = x2 ? (u64)l->icr_hi << 32 | l->icr_lo : l->icr_lo;
		return true;
	case APIC_APR: case APIC_EOI: case APIC_RRD: case APIC_DFR: case APIC_ICR2:
		if (x2)
			return false;
		v = off == APIC_DFR ? l->dfr : off == APIC_ICR2 ? l->icr_hi : 0;
		break;
	default:
		return false;
	}
	*out = v;
	return true;
}

/* Writes that exist only in xAPIC mode (ID, LDR, DFR, ICR high). */
static bool xapic_only_write(struct lapic *l, u32 off, u32 v)
{
	if (x2apic(l))
		return false;
	switch (off) {
	case APIC_ID: l->id = v >> 24; return true;
	case APIC_LDR: l->ldr = v & 0xff000000; return true;
	case APIC_DFR: l->dfr = v | 0x0fffffff; return true;
	case APIC_ICR2: l->icr_hi = v & 0xff000000; return true;
	default: return false;
	}
}

/* Register write; false when the register is not writable in this mode. */
static bool reg_write(struct lapic *l, u32 off, u64 val)
{
	bool x2 = x2apic(l);
	u32 v = (u32)val;
	if (off >= APIC_LVTT && off <= APIC_LVTERR) {
		write_lvt(l, (int)(off - APIC_LVTT) >> 4, v);
		return true;
	}
	switch (off) {
	case APIC_TPR: l->tpr = v & 0xff; return true;
	case APIC_EOI: if (x2 && val) return false; do_eoi(l); return true;
	case APIC_SPIV: write_spiv(l, v); return true;
	case APIC_ESR:
		if (x2 && val)
			return false;
		l->esr = l->esr_pending; /* a write latches the errors seen since */
		l->esr_pending = 0;
		return true;
	case APIC_ICR:
		l->icr_lo = v & ~(1u << 12); /* delivery status: always idle */
		if (x2)
			l->icr_hi = (u32)(val >> 32);
		send_ipi(l);
		return true;
	case APIC_TMICT: write_initial_count(l, v); return true;
	case APIC_TDCR: write_dcr(l, v); return true;
	case APIC_SELF_IPI:
		if (!x2)
			return false;
		lapic_accept(l, (u8)v, false);
		return true;
	default:
		return xapic_only_write(l, off, v);
	}
}

u64 lapic_mmio_read(void *opaque, u64 offset, unsigned size)
{
	struct lapic *l = opaque;
	u64 v;
	(void)size;
	if (!(l->apic_base & APIC_BASE_EN) || x2apic(l))
		return ~0ull; /* xAPIC page is off */
	if ((offset & 0xf) || !reg_read(l, (u32)offset, &v))
		return 0;
	return (u32)v;
}

void lapic_mmio_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct lapic *l = opaque;
	(void)size;
	if (!(l->apic_base & APIC_BASE_EN) || x2apic(l) || (offset & 0xf))
		return;
	/* Writes to read-only or absent registers are dropped. */
	(void)reg_write(l, (u32)offset, (u32)value);
}

static void clear_registers(struct lapic *l)
{
	l->tpr = 0;
	l->spiv = 0xff;
	l->ldr = 0;
	l->dfr = 0xffffffff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	for (int i = 0; i < LAPIC_NLVT; i++)
		l->lvt[i] = LVT_MASKED;
	l->lvt[LVT_LINT0] = LVT_DM_EXTINT << LVT_DM_SHIFT; /* virtual wire (BSP) */
	l->timer_initial = l->timer_dcr = 0;
	l->timer_expiry = CLOCK_NEVER;
	l->tsc_deadline = 0;
}

/* IA32_APIC_BASE (SDM "Local APIC State Transitions", x2APIC table). */
static bool write_apic_base(struct lapic *l, u64 v)
{
	const u64 base_mask = 0x000ffffffffff000ull;
	bool en = v & APIC_BASE_EN, extd = v & APIC_BASE_EXTD;
	bool was_x2 = x2apic(l), was_en = l->apic_base & APIC_BASE_EN;
	if (v & ~(base_mask | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP))
		return false; /* reserved bits */
	if ((extd && !en) || (was_x2 && en && !extd) || (!was_en && en && extd))
		return false; /* invalid state or transition */
	if (!en && was_en)
		clear_registers(l);
	l->apic_base = (v & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	if (en && extd && !was_x2)
		l->ldr = x2apic_ldr(l->id);
	if ((v & base_mask) != LAPIC_MMIO_BASE && !l->warned_base) {
		l->warned_base = true;
		log_warn("lapic: relocation to %#llx not supported; MMIO stays at %#llx",
			 (unsigned long long)(v & base_mask), (unsigned long long)LAPIC_MMIO_BASE);
	}
	clock_rearm(&l->clk);
	return true;
}

bool lapic_msr_read(struct lapic *l, u32 index, u64 *value)
{
	if (index == MSR_IA32_APIC_BASE) {
		*value = l->apic_base;
		return true;
	}
	if (index == MSR_IA32_TSC_DEADLINE) {
		*value = timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
		return true;
	}
	if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !x2apic(l))
		return false;
	if (index == MSR_X2APIC_FIRST + (APIC_SELF_IPI >> 4))
		return false; /* write-only */
	return reg_read(l, (index - MSR_X2APIC_FIRST) << 4, value);
}

bool lapic_msr_write(struct lapic *l, u32 index, u64 value)
{
	if (index == MSR_IA32_APIC_BASE)
		return write_apic_base(l, value);
	if (index == MSR_IA32_TSC_DEADLINE) {
		if (timer_mode(l) == TIMER_TSC_DEADLINE) {
			l->tsc_deadline = value;
			clock_rearm(&l->clk);
		}
		return true; /* ignored in other timer modes */
	}
	if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !x2apic(l))
		return false;
	u32 off = (index - MSR_X2APIC_FIRST) << 4;
	if (off != APIC_ICR && (value >> 32))
		return false; /* only the ICR is 64 bits wide */
	return reg_write(l, off, value);
}

void lapic_reset(struct lapic *l)
{
	l->apic_base = APIC_BASE_RESET;
	l->id = 0;
	clear_registers(l);
	clock_rearm(&l->clk);
}

void lapic_init(struct lapic *l, const struct dev_clock *clk,
		void (*eoi_broadcast)(void *opaque, u8 vector), void *eoi_opaque)
{
	memset(l, 0, sizeof(*l));
	l->clk = *clk;
	l->eoi_broadcast = eoi_broadcast;
	l->eoi_opaque = eoi_opaque;
	lapic_reset(l);
}
