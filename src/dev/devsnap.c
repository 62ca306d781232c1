/* devsnap.c: the device state tables (devsnap.h). */
#include "devsnap.h"

#include <stdlib.h>
#include <string.h>

#include "acpipm.h"
#include "fwcfg.h"
#include "ioapic.h"
#include "lapic.h"
#include "pcihost.h"
#include "pic.h"
#include "pit.h"
#include "port92.h"
#include "rtc.h"
#include "uart.h"

#define ANY (~0ull)
#define F(type, field, max)                                                                   \
	{ offsetof(type, field), sizeof(((type *)0)->field), sizeof(((type *)0)->field), max }
#define A(type, field, max)                                                                   \
	{ offsetof(type, field), sizeof(((type *)0)->field), sizeof(((type *)0)->field[0]), max }
#define LAYOUT(var, type, table)                                                              \
	const struct dev_layout var = { #type, sizeof(type), table, ARRAY_SIZE(table) }

static const struct snap_field pic_chip_fields[] = {
	F(struct pic_chip, irr, ANY),	      F(struct pic_chip, isr, ANY),
	F(struct pic_chip, imr, ANY),	      F(struct pic_chip, lines, ANY),
	F(struct pic_chip, elcr, ANY),	      F(struct pic_chip, base, ANY),
	F(struct pic_chip, priority_add, 7),  F(struct pic_chip, init_state, 3),
	F(struct pic_chip, init4, 1),	      F(struct pic_chip, single, 1),
	F(struct pic_chip, auto_eoi, 1),      F(struct pic_chip, rotate_aeoi, 1),
	F(struct pic_chip, sfnm, 1),	      F(struct pic_chip, special_mask, 1),
	F(struct pic_chip, poll, 1),	      F(struct pic_chip, read_isr, 1),
};
LAYOUT(devsnap_pic_chip, struct pic_chip, pic_chip_fields);

static const struct snap_field pit_channel_fields[] = {
	F(struct pit_channel, mode, 5),		  F(struct pit_channel, rw, 3),
	F(struct pit_channel, bcd, 1),		  F(struct pit_channel, gate, 1),
	F(struct pit_channel, count, 0x10000),	  F(struct pit_channel, loaded, 1),
	F(struct pit_channel, armed, 1),	  F(struct pit_channel, running, 1),
	F(struct pit_channel, load_tsc, ANY),	  F(struct pit_channel, frozen, ANY),
	F(struct pit_channel, write_lo, ANY),	  F(struct pit_channel, write_hi_next, 1),
	F(struct pit_channel, read_hi_next, 1),	  F(struct pit_channel, count_latched, 1),
	F(struct pit_channel, status_latched, 1), F(struct pit_channel, latch, ANY),
	F(struct pit_channel, status, ANY),	  F(struct pit_channel, edges_done, ANY),
};
LAYOUT(devsnap_pit_channel, struct pit_channel, pit_channel_fields);

static const struct snap_field pit_fields[] = {
	F(struct pit, port61, 0xf),
	F(struct pit, irq_level, 1),
};
LAYOUT(devsnap_pit, struct pit, pit_fields);

static const struct snap_field rtc_fields[] = {
	F(struct rtc, index, 0x7f), F(struct rtc, nmi_masked, 1), A(struct rtc, ram, ANY),
	F(struct rtc, offset, ANY), F(struct rtc, last_tsc, ANY), F(struct rtc, flags, ANY),
	F(struct rtc, irq_level, 1),
};
LAYOUT(devsnap_rtc, struct rtc, rtc_fields);

static const struct snap_field uart_fields[] = {
	A(struct uart, rx_fifo, ANY),	      F(struct uart, rx_head, UART_FIFO_SIZE - 1),
	F(struct uart, rx_count, UART_FIFO_SIZE), F(struct uart, ier, ANY),
	F(struct uart, lcr, ANY),	      F(struct uart, mcr, ANY),
	F(struct uart, scr, ANY),	      F(struct uart, fcr, ANY),
	F(struct uart, lsr_err, ANY),	      F(struct uart, msr, ANY),
	F(struct uart, divisor, ANY),	      F(struct uart, thr_ipending, 1),
	F(struct uart, irq_level, 1),
};
LAYOUT(devsnap_uart, struct uart, uart_fields);

static const struct snap_field lapic_fields[] = {
	F(struct lapic, apic_base, ANY),    F(struct lapic, id, ANY),
	F(struct lapic, tpr, ANY),	    F(struct lapic, spiv, ANY),
	F(struct lapic, ldr, ANY),	    F(struct lapic, dfr, ANY),
	F(struct lapic, esr, ANY),	    F(struct lapic, esr_pending, ANY),
	F(struct lapic, icr_lo, ANY),	    F(struct lapic, icr_hi, ANY),
	A(struct lapic, irr, ANY),	    A(struct lapic, isr, ANY),
	A(struct lapic, tmr, ANY),	    A(struct lapic, lvt, ANY),
	F(struct lapic, timer_initial, ANY), F(struct lapic, timer_dcr, ANY),
	F(struct lapic, timer_expiry, ANY), F(struct lapic, tsc_deadline, ANY),
	F(struct lapic, warned_base, 1),
};
LAYOUT(devsnap_lapic, struct lapic, lapic_fields);

static const struct snap_field ioapic_fields[] = {
	F(struct ioapic, regsel, 0xff), F(struct ioapic, id, ANY),  F(struct ioapic, lines, ANY),
	F(struct ioapic, pending, ANY), A(struct ioapic, rte, ANY),
};
LAYOUT(devsnap_ioapic, struct ioapic, ioapic_fields);

/* The items come from the machine's configuration; only the read
 * position is state (fwcfg_io_read bounds-checks the offset). */
static const struct snap_field fwcfg_fields[] = {
	F(struct fwcfg, selector, ANY),
	F(struct fwcfg, offset, ANY),
};
LAYOUT(devsnap_fwcfg, struct fwcfg, fwcfg_fields);

static const struct snap_field port92_fields[] = { F(struct port92, value, ANY) };
LAYOUT(devsnap_port92, struct port92, port92_fields);

static const struct snap_field pcihost_fields[] = {
	F(struct pcihost, config_address, ANY),
	F(struct pcihost, reset_control, ANY),
	F(struct pcihost, command, ANY),
};
LAYOUT(devsnap_pcihost, struct pcihost, pcihost_fields);

static const struct snap_field acpipm_fields[] = {
	F(struct acpipm, sts, ANY), F(struct acpipm, en, ANY), F(struct acpipm, cnt, ANY),
	F(struct acpipm, tmr_epoch, ANY), F(struct acpipm, sci, 1),
};
LAYOUT(devsnap_acpipm, struct acpipm, acpipm_fields);

size_t devsnap_size(const struct dev_layout *l)
{
	size_t n = 0;
	for (int i = 0; i < l->nfields; i++)
		n += l->fields[i].size;
	return n;
}

void devsnap_save(const struct dev_layout *l, const void *dev, struct snap_buf *b)
{
	for (int i = 0; i < l->nfields; i++)
		snap_buf_put(b, (const u8 *)dev + l->fields[i].off, l->fields[i].size);
}

static u64 element(const u8 *p, size_t size)
{
	u64 v = 0;
	memcpy(&v, p, size); /* little-endian host */
	return v;
}

static bool field_ok(const struct snap_field *f, const u8 *p)
{
	if (f->max == ANY)
		return true;
	for (size_t i = 0; i < f->size; i += f->elem)
		if (element(p + i, f->elem) > f->max)
			return false;
	return true;
}

bool devsnap_load(const struct dev_layout *l, void *dev, struct snap_cur *c)
{
	u8 *copy = malloc(l->size);
	if (!copy)
		return false;
	memcpy(copy, dev, l->size);
	bool ok = true;
	for (int i = 0; ok && i < l->nfields; i++) {
		const struct snap_field *f = &l->fields[i];
		const u8 *p = snap_bytes(c, f->size);
		ok = p && field_ok(f, p);
		if (ok)
			memcpy(copy + f->off, p, f->size);
	}
	if (ok)
		memcpy(dev, copy, l->size);
	free(copy);
	return ok;
}
