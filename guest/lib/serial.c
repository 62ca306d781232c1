/* serial.c: polled 16550 output on COM1, 115200 8N1, no interrupts. */
#include "serial.h"

#include "x86.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_LCR_DLAB 0x80

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + 0, 1); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
	/* Bounded wait: a missing UART reads 0xff (THRE set), a stuck one
	 * must not hang the guest. */
	for (int i = 0; i < 100000; i++) {
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
		pause();
	}
	outb(COM1 + UART_THR, c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
