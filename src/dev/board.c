/* board.c: the PC board: device table, ISA IRQ routing, interrupt delivery, time. */
#include "board.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../log.h"
#include "acpipm.h"
#include "debug_exit.h"
#include "debugcon.h"
#include "devsnap.h"
#include "fwcfg.h"
#include "ioapic.h"
#include "kbc.h"
#include "lapic.h"
#include "pcihost.h"
#include "pic.h"
#include "pit.h"
#include "port92.h"
#include "rtc.h"
#include "uart.h"

#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define RTC_IRQ 8
#define PIT_IRQ 0
#define SCI_IRQ 9
#define POST_PORT 0x80
#define VGA_BASE 0x3c0
#define VGA_LEN 0x20
#define SERIAL_POLL_TSC (BOARD_TSC_HZ / 10000) /* 100 us */

struct board {
	struct board_config cfg;
	struct pic pic;
	struct ioapic ioapic;
	struct lapic lapic;
	struct pit pit;
	struct rtc rtc;
	struct uart com1;
	struct fwcfg fwcfg;
	struct debug_exit debug_exit;
	struct debugcon debugcon;
	struct port92 port92;
	struct kbc kbc;
	struct pcihost pcihost;
	struct acpipm acpipm;
	volatile bool stop;
	bool ready;        /* creation done: `now` and deadline callbacks live */
	bool exit_requested;
	int exit_status;
	bool reset_requested;
	int serial_in_fd;  /* -1 once input is closed */
	int serial_out_fd;
	u64 last_tsc;      /* last board_poll() time */
	u64 last_input_poll; /* virtual time of the last look at serial input */
	u64 last_deadline; /* last value reported to deadline_changed */
};

enum board_bus { ON_PIO, ON_MMIO };

/* Where a device's range comes from: the table, or the config (the
 * optional devices, present only when the command line asks). */
enum board_place { FIXED, CFG_DEBUG_EXIT, CFG_DEBUGCON };

/* A fixed device: where it sits and which part of struct board it is. */
struct board_dev {
	const char *name;
	enum board_bus bus;
	u64 base, len;
	unsigned sizes;
	bus_read_fn read;
	bus_write_fn write;
	size_t state; /* offsetof(struct board, <device>) */
	enum board_place place;
};

#define AT(field) offsetof(struct board, field)

static u64 board_com1_read(void *opaque, u64 offset, unsigned size);

/* STYLE.md rule 10: the machine's fixed devices, in one table. */
static const struct board_dev board_devs[] = {
	{"pic-master", ON_PIO, PIC_MASTER_BASE, PIC_IO_LEN, 1, pic_io_read, pic_io_write, AT(pic.chip[0]), FIXED},
	{"pic-slave", ON_PIO, PIC_SLAVE_BASE, PIC_IO_LEN, 1, pic_io_read, pic_io_write, AT(pic.chip[1]), FIXED},
	{"elcr", ON_PIO, PIC_ELCR_BASE, PIC_IO_LEN, 1, pic_elcr_read, pic_elcr_write, AT(pic), FIXED},
	{"pit", ON_PIO, PIT_IO_BASE, PIT_IO_LEN, 1, pit_io_read, pit_io_write, AT(pit), FIXED},
	{"port61", ON_PIO, PIT_PORT61, 1, 1, pit_port61_read, pit_port61_write, AT(pit), FIXED},
	{"kbc", ON_PIO, KBC_CMD_PORT, 1, 1, kbc_io_read, kbc_io_write, AT(kbc), FIXED},
	{"rtc", ON_PIO, RTC_IO_BASE, RTC_IO_LEN, 1, rtc_io_read, rtc_io_write, AT(rtc), FIXED},
	{"post", ON_PIO, POST_PORT, 1, 1 | 2 | 4, NULL, NULL, 0, FIXED},
	{"port92", ON_PIO, PORT92_IO_BASE, 1, 1, port92_io_read, port92_io_write, AT(port92), FIXED},
	{"vga", ON_PIO, VGA_BASE, VGA_LEN, 1 | 2, NULL, NULL, 0, FIXED},
	{"com1", ON_PIO, COM1_BASE, UART_IO_LEN, 1, board_com1_read, uart_io_write, AT(com1), FIXED},
	{"fw_cfg", ON_PIO, FWCFG_IO_BASE, FWCFG_IO_LEN, 1 | 2, fwcfg_io_read, fwcfg_io_write, AT(fwcfg),
	 FIXED},
	{"pci-host", ON_PIO, PCIHOST_IO_BASE, PCIHOST_IO_LEN, 1 | 2 | 4, pcihost_io_read, pcihost_io_write,
	 AT(pcihost), FIXED},
	{"acpi-pm", ON_PIO, ACPIPM_IO_BASE, ACPIPM_IO_LEN, 1 | 2 | 4, acpipm_io_read, acpipm_io_write,
	 AT(acpipm), FIXED},
	{"isa-debug-exit", ON_PIO, 0, 0, 1 | 2 | 4, NULL, debug_exit_io_write, AT(debug_exit), CFG_DEBUG_EXIT},
	{"isa-debugcon", ON_PIO, 0, 1, 1, debugcon_io_read, debugcon_io_write, AT(debugcon), CFG_DEBUGCON},
	{"ioapic", ON_MMIO, IOAPIC_MMIO_BASE, IOAPIC_MMIO_LEN, 4, ioapic_mmio_read, ioapic_mmio_write,
	 AT(ioapic), FIXED},
	{"lapic", ON_MMIO, LAPIC_MMIO_BASE, LAPIC_MMIO_LEN, 4, lapic_mmio_read, lapic_mmio_write, AT(lapic),
	 FIXED},
};

/* ---- time ---- */

static u64 board_now(void *opaque)
{
	struct board *b = opaque;
	if (!b->ready || !b->cfg.now)
		return b->last_tsc;
	return b->cfg.now(b->cfg.now_opaque);
}

static void board_rearm(void *opaque)
{
	struct board *b = opaque;
	if (!b->ready)
		return;
	u64 d = board_next_deadline(b);
	if (d == b->last_deadline)
		return;
	b->last_deadline = d;
	if (b->cfg.deadline_changed)
		b->cfg.deadline_changed(b->cfg.now_opaque, d);
}

static u64 min_u64(u64 a, u64 c)
{
	return a < c ? a : c;
}

u64 board_next_deadline(const struct board *b)
{
	u64 d = lapic_next_deadline(&b->lapic);
	d = min_u64(d, pit_next_deadline(&b->pit));
	d = min_u64(d, acpipm_next_deadline(&b->acpipm));
	return min_u64(d, rtc_next_deadline(&b->rtc));
}

/* ---- interrupts ---- */

/* ISA IRQ line: both the PIC and the IOAPIC see it (IRQ0 on pin 2). */
static void board_isa_irq(void *opaque, int irq, bool level)
{
	struct board *b = opaque;
	pic_set_irq(&b->pic, irq, level);
	ioapic_set_irq(&b->ioapic, irq == 0 ? 2 : irq, level);
}

static bool board_ioapic_deliver(void *opaque, const struct ioapic_msg *m)
{
	struct board *b = opaque;
	u32 dest = m->dest;
	if (dest == 0xff && lapic_x2apic_mode(&b->lapic))
		dest = 0xffffffff; /* 8-bit broadcast stays a broadcast */
	if (m->delivery_mode > 1) { /* SMI, NMI, INIT, ExtINT: no such paths */
		log_debug("ioapic: delivery mode %u (vector %#x) dropped", m->delivery_mode, m->vector);
		return false;
	}
	if (!lapic_match_dest(&b->lapic, dest, m->logical))
		return false;
	lapic_accept(&b->lapic, m->vector, m->level);
	return true;
}

static void board_eoi(void *opaque, u8 vector)
{
	struct board *b = opaque;
	ioapic_eoi(&b->ioapic, vector);
}

/* As QEMU's cpu_get_pic_interrupt(): the LAPIC first, then ExtINT. */
static int board_irq_peek(void *ctx)
{
	struct board *b = ctx;
	int v = lapic_peek(&b->lapic);
	if (v >= 0)
		return v;
	if (lapic_extint_enabled(&b->lapic) && pic_output(&b->pic))
		return pic_peek(&b->pic);
	return -1;
}

static int board_irq_ack(void *ctx)
{
	struct board *b = ctx;
	int v = lapic_ack(&b->lapic);
	if (v >= 0)
		return v;
	if (lapic_extint_enabled(&b->lapic) && pic_output(&b->pic))
		return pic_ack(&b->pic);
	return -1;
}

static bool is_lapic_msr(u32 index)
{
	return index == MSR_IA32_APIC_BASE || index == MSR_IA32_TSC_DEADLINE ||
	       (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST);
}

static bool board_msr_read(void *ctx, u32 index, u64 *value)
{
	struct board *b = ctx;
	return is_lapic_msr(index) && lapic_msr_read(&b->lapic, index, value);
}

static u8 board_tpr_read(void *ctx)
{
	struct board *b = ctx;
	return (u8)b->lapic.tpr;
}

static void board_tpr_write(void *ctx, u8 tpr)
{
	struct board *b = ctx;
	b->lapic.tpr = tpr;
}

static bool board_msr_write(void *ctx, u32 index, u64 value)
{
	struct board *b = ctx;
	return is_lapic_msr(index) && lapic_msr_write(&b->lapic, index, value);
}

void board_fill_env(struct board *b, struct accel_env *env)
{
	env->ctx = b;
	env->irq_peek = board_irq_peek;
	env->irq_ack = board_irq_ack;
	env->msr_read = board_msr_read;
	env->msr_write = board_msr_write;
	env->tpr_read = board_tpr_read;
	env->tpr_write = board_tpr_write;
	env->stop = &b->stop;
}

/* ---- exit and reset requests ---- */

static void board_debug_exit(void *opaque, int status)
{
	struct board *b = opaque;
	if (!b->exit_requested) {
		b->exit_requested = true;
		b->exit_status = status;
	}
	b->stop = true;
}

/* ACPI soft-off (S5): the machine ends as after a clean exit. */
static void board_power_off(void *opaque)
{
	board_debug_exit(opaque, 0);
}

static void board_request_reset(void *opaque)
{
	struct board *b = opaque;
	b->reset_requested = true;
	b->stop = true;
}

bool board_exit_requested(const struct board *b, int *status)
{
	if (b->exit_requested && status)
		*status = b->exit_status;
	return b->exit_requested;
}

bool board_reset_requested(struct board *b)
{
	if (!b->reset_requested)
		return false;
	b->reset_requested = false;
	if (!b->exit_requested)
		b->stop = false;
	return true;
}

void board_hold(struct board *b, bool on)
{
	if (on)
		b->stop = true;
	else if (!b->exit_requested && !b->reset_requested)
		b->stop = false;
}

/* ---- serial I/O ---- */

static void put_byte(int fd, u8 byte)
{
	if (fd < 0)
		return;
	ssize_t n;
	do
		n = write(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	/* Other errors (EAGAIN, EPIPE...) drop the byte, as a line would. */
}

static void board_serial_tx(void *opaque, u8 byte)
{
	struct board *b = opaque;
	put_byte(b->serial_out_fd, byte);
}

static void board_debugcon_out(void *opaque, u8 byte)
{
	struct board *b = opaque;
	put_byte(b->cfg.debugcon_fd, byte);
}

static void close_input(struct board *b)
{
	b->serial_in_fd = -1; /* not ours to close(): only stop reading */
}

static void poll_serial_input(struct board *b)
{
	unsigned space = uart_rx_space(&b->com1);
	if (b->serial_in_fd < 0 || !space)
		return;
	struct pollfd pfd = {.fd = b->serial_in_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (pfd.revents & POLLNVAL) {
		close_input(b);
		return;
	}
	if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	u8 buf[UART_FIFO_SIZE];
	ssize_t n = read(b->serial_in_fd, buf, space < sizeof(buf) ? space : sizeof(buf));
	if (n > 0)
		uart_receive(&b->com1, buf, (unsigned)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_input(b); /* end of file (e.g. /dev/null) or a dead fd */
}

/* A guest polling COM1 (LSR, RBR) in a loop may never leave the vCPU, so
 * such reads look for input too, at most once per SERIAL_POLL_TSC of
 * virtual time to keep the loop cheap. */
static u64 board_com1_read(void *opaque, u64 offset, unsigned size)
{
	struct board *b = (struct board *)((char *)opaque - offsetof(struct board, com1));
	if ((offset == 0 || offset == 5) && b->com1.rx_count == 0) {
		u64 now = board_now(b);
		if (now < b->last_input_poll || now - b->last_input_poll >= SERIAL_POLL_TSC) {
			b->last_input_poll = now;
			poll_serial_input(b);
		}
	}
	return uart_io_read(opaque, offset, size);
}

int board_serial_in_fd(const struct board *b)
{
	return b->serial_in_fd;
}

/* ---- lifecycle ---- */

void board_poll(struct board *b, u64 tsc)
{
	if (tsc > b->last_tsc)
		b->last_tsc = tsc;
	b->last_input_poll = tsc;
	poll_serial_input(b);
	pit_advance(&b->pit, tsc);
	lapic_advance(&b->lapic, tsc);
	rtc_advance(&b->rtc, tsc);
	acpipm_advance(&b->acpipm, tsc);
	b->last_deadline = board_next_deadline(b);
}

static int register_devices(struct board *b, struct bus *pio, struct bus *mmio)
{
	for (size_t i = 0; i < ARRAY_SIZE(board_devs); i++) {
		const struct board_dev *d = &board_devs[i];
		struct bus_range r = {d->name, d->base, d->len, d->sizes, d->read, d->write,
				      (char *)b + d->state};
		if (d->place == CFG_DEBUG_EXIT) {
			if (!b->cfg.debug_exit)
				continue;
			r.base = b->cfg.debug_exit_port;
			r.len = b->cfg.debug_exit_size;
		} else if (d->place == CFG_DEBUGCON) {
			if (!b->cfg.debugcon)
				continue;
			r.base = b->cfg.debugcon_port;
		}
		int err = bus_add(d->bus == ON_PIO ? pio : mmio, &r);
		if (err) {
			log_error("%s at %#llx: %s", d->name, (unsigned long long)r.base,
				  err == -EEXIST ? "overlaps another device" : strerror(-err));
			return err;
		}
	}
	return 0;
}

static void init_devices(struct board *b)
{
	const struct dev_clock clk = {board_now, board_rearm, b, BOARD_TSC_HZ};
	struct irq_line line = {board_isa_irq, b, 0};
	s64 rtc_time = b->cfg.rtc_time ? b->cfg.rtc_time : (s64)time(NULL);

	pic_init(&b->pic);
	ioapic_init(&b->ioapic, board_ioapic_deliver, b);
	lapic_init(&b->lapic, &clk, board_eoi, b);
	line.pin = PIT_IRQ;
	pit_init(&b->pit, &line, &clk);
	line.pin = RTC_IRQ;
	rtc_init(&b->rtc, &line, &clk, rtc_time, b->cfg.ram_size, b->cfg.ncpus);
	line.pin = COM1_IRQ;
	uart_init(&b->com1, &line, board_serial_tx, b);
	fwcfg_init(&b->fwcfg, b->cfg.ram_size, b->cfg.ncpus);
	debug_exit_init(&b->debug_exit, board_debug_exit, b);
	debugcon_init(&b->debugcon, board_debugcon_out, b);
	port92_init(&b->port92, board_request_reset, b);
	kbc_init(&b->kbc, board_request_reset, b);
	pcihost_init(&b->pcihost, board_request_reset, b);
	line.pin = SCI_IRQ;
	acpipm_init(&b->acpipm, &line, &clk, board_power_off, b);
}

int board_create(struct board **out, const struct board_config *cfg, struct bus *pio,
		 struct bus *mmio)
{
	if (cfg->ncpus < 1 || cfg->ncpus > 255)
		return -EINVAL;
	struct board *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cfg = *cfg;
	if (!b->cfg.debug_exit_size)
		b->cfg.debug_exit_size = DEBUG_EXIT_DEFAULT_SIZE;
	if (!b->cfg.debugcon_port)
		b->cfg.debugcon_port = DEBUGCON_DEFAULT_PORT;
	b->serial_out_fd = cfg->serial_stdio ? cfg->serial_out_fd : -1;
	b->serial_in_fd = cfg->serial_stdio ? cfg->serial_in_fd : -1;
	init_devices(b);
	int err = register_devices(b, pio, mmio);
	if (err) {
		free(b);
		return err;
	}
	b->ready = true;
	b->last_deadline = board_next_deadline(b);
	*out = b;
	return 0;
}

void board_reset(struct board *b)
{
	uart_reset(&b->com1);
	pit_reset(&b->pit);
	rtc_reset(&b->rtc);
	lapic_reset(&b->lapic);
	ioapic_reset(&b->ioapic);
	pic_reset(&b->pic);
	fwcfg_reset(&b->fwcfg);
	port92_reset(&b->port92);
	pcihost_reset(&b->pcihost);
	acpipm_reset(&b->acpipm);
	b->reset_requested = false;
	if (!b->exit_requested)
		b->stop = false;
	board_rearm(b);
}

/* ---- snapshots ---- */

/* Every piece of device state, in file order. */
static const struct {
	const struct dev_layout *layout;
	size_t at;
} board_state[] = {
	{ &devsnap_pic_chip, AT(pic.chip[0]) },	   { &devsnap_pic_chip, AT(pic.chip[1]) },
	{ &devsnap_pit, AT(pit) },		   { &devsnap_pit_channel, AT(pit.ch[0]) },
	{ &devsnap_pit_channel, AT(pit.ch[1]) },   { &devsnap_pit_channel, AT(pit.ch[2]) },
	{ &devsnap_rtc, AT(rtc) },		   { &devsnap_uart, AT(com1) },
	{ &devsnap_lapic, AT(lapic) },		   { &devsnap_ioapic, AT(ioapic) },
	{ &devsnap_fwcfg, AT(fwcfg) },		   { &devsnap_port92, AT(port92) },
	{ &devsnap_pcihost, AT(pcihost) },	   { &devsnap_acpipm, AT(acpipm) },
};

void board_save(const struct board *b, struct snap_buf *out)
{
	snap_buf_u64(out, b->last_tsc);
	snap_buf_u64(out, b->last_input_poll);
	for (size_t i = 0; i < ARRAY_SIZE(board_state); i++) {
		const struct dev_layout *l = board_state[i].layout;
		snap_buf_u32(out, (u32)devsnap_size(l));
		devsnap_save(l, (const u8 *)b + board_state[i].at, out);
	}
}

int board_load(struct board *b, struct snap_cur *in, char *err, size_t errlen)
{
	b->last_tsc = snap_u64(in);
	b->last_input_poll = snap_u64(in);
	for (size_t i = 0; i < ARRAY_SIZE(board_state); i++) {
		const struct dev_layout *l = board_state[i].layout;
		u32 size = snap_u32(in);
		if (size != devsnap_size(l) || !devsnap_load(l, (u8 *)b + board_state[i].at, in)) {
			snprintf(err, errlen, "device %s: %s", l->name,
				 size != devsnap_size(l) ? "state of the wrong size" : "invalid state");
			return -1;
		}
	}
	b->last_deadline = 0; /* report the restored deadline on the next rearm */
	board_rearm(b);
	return 0;
}

void board_destroy(struct board *b)
{
	free(b);
}
