/* test_dev_uart.c: 16550A registers and interrupts, isa-debug-exit, fw_cfg. */
#include <string.h>

#include "dev/debug_exit.h"
#include "dev/fwcfg.h"
#include "dev/uart.h"
#include "unit.h"

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

struct txlog {
	u8 buf[64];
	int n;
};

static void tx_capture(void *opaque, u8 byte)
{
	struct txlog *t = opaque;
	if (t->n < (int)sizeof(t->buf))
		t->buf[t->n++] = byte;
}

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static u8 rd(struct uart *u, int reg)
{
	return (u8)uart_io_read(u, (u64)reg, 1);
}

static void wr(struct uart *u, int reg, u8 v)
{
	uart_io_write(u, (u64)reg, 1, v);
}

static void setup(struct uart *u, struct line *ln, struct txlog *tx)
{
	memset(ln, 0, sizeof(*ln));
	memset(tx, 0, sizeof(*tx));
	struct irq_line irq = {line_set, ln, 4};
	uart_init(u, &irq, tx_capture, tx);
}

static void test_reset_and_dlab(void)
{
	struct uart u;
	struct line ln;
	struct txlog tx;
	setup(&u, &ln, &tx);
	report(rd(&u, LSR) == 0x60, "reset LSR = THRE|TEMT (0x60)");
	report(rd(&u, IIR) == 0x01, "reset IIR = 0x01 (no interrupt)");
	report(rd(&u, IER) == 0x00, "reset IER = 0");
	report(rd(&u, MSR) == 0xb0, "reset MSR = DCD|DSR|CTS (0xb0)");
	report(rd(&u, MCR) == 0x08, "reset MCR = OUT2");
	wr(&u, LCR, 0x83);
	wr(&u, RBR, 0x01);
	wr(&u, IER, 0x02);
	report(rd(&u, RBR) == 0x01 && rd(&u, IER) == 0x02, "DLAB: DLL/DLM read back 0x01/0x02");
	report(u.divisor == 0x0201, "divisor latch = 0x0201");
	wr(&u, LCR, 0x03);
	report(rd(&u, LCR) == 0x03, "LCR reads back 0x03");
	report(rd(&u, IER) == 0x00, "DLAB off: offset 1 is IER again (0)");
	report(tx.n == 0, "DLL write sent nothing");
	wr(&u, IER, 0xff);
	report(rd(&u, IER) == 0x0f, "IER keeps only bits 0-3");
	wr(&u, SCR, 0x5a);
	report(rd(&u, SCR) == 0x5a, "scratch register");
}

static void test_tx_and_thre(void)
{
	struct uart u;
	struct line ln;
	struct txlog tx;
	setup(&u, &ln, &tx);
	wr(&u, RBR, 'h');
	wr(&u, RBR, 'i');
	report(tx.n == 2 && tx.buf[0] == 'h' && tx.buf[1] == 'i', "THR writes reach the host");
	report(!ln.level && ln.rises == 0, "no interrupt while IER = 0");
	wr(&u, IER, 0x02);
	report(ln.level && ln.rises == 1, "enabling THRI with THR empty raises IRQ");
	report(rd(&u, IIR) == 0x02, "IIR = 0x02 (THRE)");
	report(!ln.level, "reading IIR cleared the THRE interrupt: line low");
	report(rd(&u, IIR) == 0x01, "next IIR read = 0x01");
	wr(&u, RBR, 'x');
	report(ln.level && ln.rises == 2, "THR write re-arms THRE: a new rising edge");
	wr(&u, RBR, 'y');
	report(ln.rises == 3, "every THR write makes an edge while THRI is on");
	wr(&u, IER, 0x00);
	report(!ln.level, "IER = 0 lowers the line");
	wr(&u, IER, 0x02);
	report(ln.level, "re-enabling THRI raises it again (Linux's THRE test)");
	rd(&u, IIR);
	wr(&u, FCR, 0x01);
	report(rd(&u, IIR) == 0xc1, "FIFO enabled: IIR bits 7:6 set (0xc1)");
}

static void test_rx(void)
{
	struct uart u;
	struct line ln;
	struct txlog tx;
	setup(&u, &ln, &tx);
	report(uart_rx_space(&u) == 1, "without FIFO the receiver holds 1 byte");
	wr(&u, FCR, 0x07);
	report(uart_rx_space(&u) == 16, "FIFO on: 16 bytes of room");
	uart_receive(&u, (const u8 *)"ab", 2);
	report(rd(&u, LSR) == 0x61, "LSR = DR|THRE|TEMT with data");
	report(!ln.level, "no RX interrupt with IER.RDI off");
	wr(&u, IER, 0x01);
	report(ln.level && rd(&u, IIR) == 0xc4, "RDI: IIR = 0xc4 at trigger level 1");
	report(rd(&u, RBR) == 'a' && rd(&u, RBR) == 'b', "bytes come out in order");
	report(rd(&u, LSR) == 0x60 && !ln.level && rd(&u, IIR) == 0xc1, "drained: DR clear, line low");
	wr(&u, FCR, 0x41); /* trigger level 4 */
	uart_receive(&u, (const u8 *)"cd", 2);
	report(rd(&u, IIR) == 0xcc, "below the trigger level: timeout IIR 0xcc");
	uart_receive(&u, (const u8 *)"ef", 2);
	report(rd(&u, IIR) == 0xc4, "at the trigger level: IIR 0xc4");
	wr(&u, FCR, 0x43); /* clear RX FIFO */
	report(rd(&u, LSR) == 0x60 && uart_rx_space(&u) == 16, "FCR bit 1 clears the RX FIFO");
	u8 many[17];
	memset(many, 'z', sizeof(many));
	uart_receive(&u, many, 17);
	wr(&u, IER, 0x07);
	report(rd(&u, IIR) == 0xc6, "overrun with RLSI: IIR 0xc6 beats RDA and THRE");
	report(rd(&u, LSR) == 0x63, "LSR = OE|DR|THRE|TEMT");
	report(rd(&u, LSR) == 0x61, "reading LSR clears OE");
	report(rd(&u, IIR) == 0xc4, "then RDA (0xc4) is next");
}

static void test_loopback(void)
{
	struct uart u;
	struct line ln;
	struct txlog tx;
	setup(&u, &ln, &tx);
	wr(&u, MCR, 0x1a); /* LOOP | OUT2 | RTS, as Linux' autoconfig */
	report(rd(&u, MSR) == 0x92, "loopback: MSR = DCD|CTS + delta DSR (0x92)");
	report(rd(&u, MSR) == 0x90, "reading MSR cleared the delta (0x90)");
	wr(&u, MCR, 0x1f);
	report((rd(&u, MSR) & 0xf0) == 0xf0, "loopback with all outputs: MSR 0xf0");
	report(uart_rx_space(&u) == 0, "loopback: no room for host input");
	wr(&u, RBR, 'L');
	report(tx.n == 0, "loopback: nothing reaches the host");
	report((rd(&u, LSR) & 1) && rd(&u, RBR) == 'L', "loopback: byte comes back on RBR");
	wr(&u, MCR, 0x0b);
	report((rd(&u, MSR) & 0xf0) == 0xb0, "loopback off: MSR status back to 0xb0");
	wr(&u, IER, 0x08);
	wr(&u, MCR, 0x18); /* loopback, only OUT2: CTS and DSR drop */
	report(ln.level && (rd(&u, IIR) & 0x0f) == 0x00, "modem status change: IIR 0x00 with MSI");
	rd(&u, MSR);
	report(!ln.level, "reading MSR clears the modem status interrupt");
}

static void on_exit_cb(void *opaque, int status)
{
	*(int *)opaque = status;
}

static void test_debug_exit(void)
{
	struct debug_exit d;
	int status = -1;
	debug_exit_init(&d, on_exit_cb, &status);
	debug_exit_io_write(&d, 0, 1, 0x10);
	report(status == 0x21, "debug-exit 0x10 -> status 0x21 (%d)", status);
	debug_exit_io_write(&d, 0, 4, 0);
	report(status == 1, "debug-exit 0 -> status 1");
	debug_exit_io_write(&d, 0, 2, 0x7f);
	report(status == 0xff, "debug-exit 0x7f -> status 0xff");
}

static u64 fw_read(struct fwcfg *f, u16 key, unsigned n)
{
	fwcfg_io_write(f, 0, 2, key);
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= fwcfg_io_read(f, 1, 1) << (8 * i);
	return v;
}

static void test_fwcfg(void)
{
	struct fwcfg f;
	fwcfg_init(&f, 256ull << 20, 1);
	char sig[5] = {0};
	fwcfg_io_write(&f, 0, 2, FWCFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fwcfg_io_read(&f, 1, 1);
	report(!strcmp(sig, "QEMU"), "key 0x00 signature \"QEMU\"");
	report(fwcfg_io_read(&f, 1, 1) == 0, "reading past the end gives 0");
	report(fw_read(&f, FWCFG_ID, 4) == 1, "key 0x01 ID = 1");
	report(fw_read(&f, FWCFG_RAM_SIZE, 8) == 256ull << 20, "key 0x03 RAM size = 256 MiB (LE)");
	report(fw_read(&f, FWCFG_NB_CPUS, 2) == 1, "key 0x05 NB_CPUS = 1");
	report(fw_read(&f, FWCFG_MAX_CPUS, 2) == 1, "key 0x0f MAX_CPUS = 1");
	report(fw_read(&f, FWCFG_MAX_RAM, 8) == 256ull << 20, "key 0x11 max RAM = 256 MiB");
	report(fw_read(&f, 0x19, 4) == 0, "unknown key (file dir) reads 0");
	report(fw_read(&f, 0x8003, 4) == 0, "arch-local key reads 0");
	report(fw_read(&f, 0x4003, 8) == 256ull << 20, "write-channel bit is ignored for lookup");
	fwcfg_io_write(&f, 0, 2, FWCFG_RAM_SIZE);
	fwcfg_io_read(&f, 1, 1);
	fwcfg_io_write(&f, 0, 2, FWCFG_RAM_SIZE);
	report(fwcfg_io_read(&f, 1, 1) == 0, "reselecting restarts at offset 0 (low byte 0)");
	fwcfg_io_write(&f, 1, 1, 0x55);
	report(fwcfg_io_read(&f, 1, 1) == 0, "data writes are ignored");
	fwcfg_init(&f, 5ull << 30, 1);
	report(fw_read(&f, FWCFG_RAM_SIZE, 8) == 5ull << 30,
	       "key 0x03 RAM size is all of RAM, high RAM included (5 GiB)");
}

int main(void)
{
	test_reset_and_dlab();
	test_tx_and_thre();
	test_rx();
	test_loopback();
	test_debug_exit();
	test_fwcfg();
	return 0;
}
