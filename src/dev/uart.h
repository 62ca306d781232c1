/* uart.h: a 16550A UART (the PC's COM ports), host I/O left to the owner.
 *
 * The UART never touches host files: transmitted bytes go to a tx callback,
 * received bytes come in through uart_receive(). Transmission is instant, so
 * LSR always shows THRE|TEMT. The interrupt output is level-style: it is
 * high while IIR reports a pending interrupt (National PC16550D datasheet,
 * "Interrupt Identification Register" table). As on QEMU, MCR.OUT2 does
 * not gate the line.
 */
#ifndef CETVM_DEV_UART_H
#define CETVM_DEV_UART_H

#include "../types.h"
#include "irq.h"

#define UART_FIFO_SIZE 16
#define UART_IO_LEN 8

struct uart {
	u8 rx_fifo[UART_FIFO_SIZE];
	u8 rx_head, rx_count;
	u8 ier, lcr, mcr, scr, fcr;
	u8 lsr_err;      /* sticky OE/PE/FE/BI bits, cleared by reading LSR */
	u8 msr;          /* status (7:4) and delta (3:0) bits */
	u16 divisor;
	bool thr_ipending; /* THRE interrupt armed (cleared by IIR read / THR write) */
	bool irq_level;
	struct irq_line irq;
	void (*tx)(void *opaque, u8 byte);
	void *tx_opaque;
};

/* tx may be NULL (output discarded). */
void uart_init(struct uart *u, const struct irq_line *irq, void (*tx)(void *opaque, u8 byte),
	       void *tx_opaque);
void uart_reset(struct uart *u);

/* Bus handlers for the 8-port window (byte accesses). */
u64 uart_io_read(void *opaque, u64 offset, unsigned size);
void uart_io_write(void *opaque, u64 offset, unsigned size, u64 value);

/* How many bytes uart_receive() accepts now without overrun (0 in
 * loopback mode, where the serial input is disconnected). */
unsigned uart_rx_space(const struct uart *u);
/* Bytes arriving on the serial line; excess bytes set the overrun error. */
void uart_receive(struct uart *u, const u8 *buf, unsigned n);

#endif
