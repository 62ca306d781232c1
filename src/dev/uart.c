/* uart.c: 16550A UART register model (National PC16550D datasheet). */
#include "uart.h"

#include <string.h>

enum {
	UART_RBR_THR = 0, /* DLAB: DLL */
	UART_IER = 1,     /* DLAB: DLM */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1e /* OE | PE | FE | BI */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DELTAS 0x0f
#define MSR_TERI 0x04
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
/* With nothing attached, QEMU reports a ready modem: DCD, DSR, CTS. */
#define MSR_IDLE (MSR_DCD | MSR_DSR | MSR_CTS)

void uart_init(struct uart *u, const struct irq_line *irq, void (*tx)(void *opaque, u8 byte),
	       void *tx_opaque)
{
	memset(u, 0, sizeof(*u));
	u->irq = *irq;
	u->tx = tx;
	u->tx_opaque = tx_opaque;
	uart_reset(u);
}

static bool fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned rx_depth(const struct uart *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select the receive trigger level. */
static unsigned rx_trigger(const struct uart *u)
{
	static const u8 level[4] = {1, 4, 8, 14};
	return level[u->fcr >> 6];
}

static u8 uart_iir(const struct uart *u)
{
	u8 fifo = fifo_on(u) ? IIR_FIFO_ON : 0;
	if ((u->ier & IER_RLSI) && (u->lsr_err & LSR_ERRORS))
		return fifo | IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		/* No character timer: data below the trigger level reports
		 * the timeout interrupt at once, which drivers treat alike. */
		if (fifo && u->rx_count < rx_trigger(u))
			return fifo | IIR_TIMEOUT;
		return fifo | IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return fifo | IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
	bool level = !(uart_iir(u) & IIR_NO_INT);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set_level(&u->irq, level);
	}
}

/* Modem status lines: in loopback, MCR outputs drive MSR inputs. */
static void set_modem_status(struct uart *u, u8 status)
{
	u8 old = u->msr & 0xf0, delta = 0;
	if ((old ^ status) & MSR_CTS)
		delta |= 0x01;
	if ((old ^ status) & MSR_DSR)
		delta |= 0x02;
	if ((old & MSR_RI) && !(status & MSR_RI))
		delta |= MSR_TERI; /* trailing edge of RI */
	if ((old ^ status) & MSR_DCD)
		delta |= 0x08;
	u->msr = status | (u->msr & MSR_DELTAS) | delta;
}

static u8 loop_status(u8 mcr)
{
	u8 s = 0;
	if (mcr & MCR_RTS)
		s |= MSR_CTS;
	if (mcr & MCR_DTR)
		s |= MSR_DSR;
	if (mcr & MCR_OUT1)
		s |= MSR_RI;
	if (mcr & MCR_OUT2)
		s |= MSR_DCD;
	return s;
}

void uart_reset(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
	u->ier = u->lcr = u->scr = u->fcr = u->lsr_err = 0;
	u->mcr = MCR_OUT2;
	u->msr = MSR_IDLE;
	u->divisor = 12; /* 9600 baud */
	u->thr_ipending = false;
	update_irq(u);
}

unsigned uart_rx_space(const struct uart *u)
{
	if (u->mcr & MCR_LOOP)
		return 0; /* the serial input is disconnected in loopback */
	return rx_depth(u) - u->rx_count;
}

static void rx_push(struct uart *u, u8 byte)
{
	if (u->rx_count < rx_depth(u)) {
		u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
		u->rx_count++;
		return;
	}
	u->lsr_err |= LSR_OE;
	/* Without FIFO the holding register is overwritten; with FIFO the
	 * character in the shift register is lost (datasheet, LSR bit 1). */
	if (!fifo_on(u))
		u->rx_fifo[u->rx_head] = byte;
}

void uart_receive(struct uart *u, const u8 *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rx_push(u, buf[i]);
	update_irq(u);
}

static u8 rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	u8 b = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

static void write_thr(struct uart *u, u8 byte)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, byte);
	else if (u->tx)
		u->tx(u->tx_opaque, byte);
	/* Writing THR clears the THRE interrupt; the byte leaves at once and
	 * THR is empty again, which re-arms it: the line makes a new edge. */
	u->thr_ipending = false;
	update_irq(u);
	u->thr_ipending = true;
}

static void write_fcr(struct uart *u, u8 v)
{
	if ((v ^ u->fcr) & FCR_ENABLE) {
		u->rx_head = u->rx_count = 0; /* toggling FIFO mode clears them */
	} else if (v & FCR_CLEAR_RX) {
		u->rx_head = u->rx_count = 0;
	}
	u->fcr = v & 0xc9; /* enable, DMA mode, trigger level; clear bits self-reset */
}

static void write_ier(struct uart *u, u8 v)
{
	v &= 0x0f;
	/* Enabling THRI while THR is empty raises the THRE interrupt; Linux'
	 * 8250 driver probes for exactly this. */
	if ((v & IER_THRI) && !(u->ier & IER_THRI))
		u->thr_ipending = true;
	u->ier = v;
}

void uart_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct uart *u = opaque;
	u8 v = (u8)value;
	(void)size;
	bool dlab = u->lcr & LCR_DLAB;
	switch (offset) {
	case UART_RBR_THR:
		if (dlab)
			u->divisor = (u16)((u->divisor & 0xff00) | v);
		else
			write_thr(u, v);
		break;
	case UART_IER:
		if (dlab)
			u->divisor = (u16)((u->divisor & 0x00ff) | (v << 8));
		else
			write_ier(u, v);
		break;
	case UART_IIR_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		set_modem_status(u, (u->mcr & MCR_LOOP) ? loop_status(u->mcr) : MSR_IDLE);
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only (writes are factory test) */
		break;
	}
	update_irq(u);
}

static u8 read_iir(struct uart *u)
{
	u8 iir = uart_iir(u);
	/* Reading IIR clears the THRE interrupt if it is the one reported. */
	if ((iir & 0x0f) == IIR_THRI)
		u->thr_ipending = false;
	return iir;
}

static u8 read_lsr(struct uart *u)
{
	u8 lsr = LSR_THRE | LSR_TEMT | u->lsr_err;
	if (u->rx_count)
		lsr |= LSR_DR;
	u->lsr_err = 0;
	return lsr;
}

u64 uart_io_read(void *opaque, u64 offset, unsigned size)
{
	struct uart *u = opaque;
	bool dlab = u->lcr & LCR_DLAB;
	u8 v = 0xff;
	(void)size;
	switch (offset) {
	case UART_RBR_THR:
		v = dlab ? (u8)u->divisor : rx_pop(u);
		break;
	case UART_IER:
		v = dlab ? (u8)(u->divisor >> 8) : u->ier;
		break;
	case UART_IIR_FCR:
		v = read_iir(u);
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = read_lsr(u);
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= (u8)~MSR_DELTAS;
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}
