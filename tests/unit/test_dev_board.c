/* test_dev_board.c: the board: device table, IRQ routing, time, requests, serial I/O. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "dev/board.h"
#include "unit.h"

struct host {
	u64 tsc;
	u64 deadline;
	int deadline_calls;
};

static u64 host_now(void *opaque)
{
	return ((struct host *)opaque)->tsc;
}

static void host_deadline(void *opaque, u64 tsc)
{
	struct host *h = opaque;
	h->deadline = tsc;
	h->deadline_calls++;
}

struct rig {
	struct bus pio, mmio;
	struct board *b;
	struct accel_env env;
	struct host host;
};

static struct board_config base_config(struct host *h)
{
	struct board_config c = {
		.ram_size = 128ull << 20,
		.ncpus = 1,
		.serial_stdio = false,
		.serial_out_fd = -1,
		.serial_in_fd = -1,
		.debug_exit = true,
		.debug_exit_port = 0xf4,
		.debug_exit_size = 4,
		.rtc_time = 1709251198, /* 2024-02-29 23:59:58 UTC */
		.now = host_now,
		.deadline_changed = host_deadline,
		.now_opaque = h,
	};
	return c;
}

static int rig_up(struct rig *r, const struct board_config *cfg)
{
	memset(r, 0, sizeof(*r));
	bus_init(&r->pio, "pio");
	bus_init(&r->mmio, "mmio");
	struct board_config c = *cfg;
	c.now_opaque = &r->host;
	int err = board_create(&r->b, &c, &r->pio, &r->mmio);
	if (!err)
		board_fill_env(r->b, &r->env);
	return err;
}

static u8 inb(struct rig *r, u16 port)
{
	return (u8)bus_read(&r->pio, port, 1);
}

static void outb(struct rig *r, u16 port, u8 v)
{
	bus_write(&r->pio, port, 1, v);
}

static u32 apic_rd(struct rig *r, u32 off)
{
	return (u32)bus_read(&r->mmio, 0xfee00000ull + off, 4);
}

static void apic_wr(struct rig *r, u32 off, u32 v)
{
	bus_write(&r->mmio, 0xfee00000ull + off, 4, v);
}

static void ioapic_wr(struct rig *r, u32 reg, u32 v)
{
	bus_write(&r->mmio, 0xfec00000ull, 4, reg);
	bus_write(&r->mmio, 0xfec00010ull, 4, v);
}

static void pic_linux_init(struct rig *r, u8 mask_master, u8 mask_slave)
{
	static const u8 seq[2][5] = {{0x20, 0x11, 0x20, 0x04, 0x01}, {0xa0, 0x11, 0x28, 0x02, 0x01}};
	for (int i = 0; i < 2; i++) {
		outb(r, seq[i][0], seq[i][1]);
		for (int j = 2; j < 5; j++)
			outb(r, seq[i][0] + 1, seq[i][j]);
	}
	outb(r, 0x21, mask_master);
	outb(r, 0xa1, mask_slave);
}

static void test_layout(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	report(rig_up(&r, &c) == 0, "board_create");
	static const struct {
		u64 addr;
		const char *name;
	} pio[] = {{0x20, "pic-master"}, {0xa1, "pic-slave"}, {0x4d1, "elcr"}, {0x43, "pit"},
		   {0x61, "port61"}, {0x64, "kbc"}, {0x71, "rtc"}, {0x80, "post"},
		   {0x92, "port92"}, {0x3d4, "vga"}, {0x3fd, "com1"}, {0x511, "fw_cfg"},
		   {0xcfc, "pci-host"}, {0x608, "acpi-pm"}, {0xf7, "isa-debug-exit"}};
	for (size_t i = 0; i < sizeof(pio) / sizeof(pio[0]); i++) {
		const struct bus_range *f = bus_find(&r.pio, pio[i].addr);
		report(f && !strcmp(f->name, pio[i].name), "port %#llx is %s",
		       (unsigned long long)pio[i].addr, pio[i].name);
	}
	const struct bus_range *f = bus_find(&r.mmio, 0xfec00010);
	report(f && !strcmp(f->name, "ioapic"), "0xfec00010 is the IOAPIC");
	f = bus_find(&r.mmio, 0xfee00ff0);
	report(f && !strcmp(f->name, "lapic"), "0xfee00ff0 is the LAPIC");
	report(inb(&r, 0x2fd) == 0xff && inb(&r, 0x3ed) == 0xff && inb(&r, 0x2ed) == 0xff,
	       "COM2-4 absent: LSR reads 0xff");
	report(inb(&r, 0x60) == 0xff, "8042 data port unmapped");
	report(inb(&r, 0x64) == 0x00, "8042 status reads 0");
	report(inb(&r, 0x3fd) == 0x60, "COM1 LSR = 0x60");
	report(inb(&r, 0x80) == 0xff && inb(&r, 0x3c0) == 0xff, "POST and VGA sinks read 0xff");
	report(bus_read(&r.pio, 0xcfc, 4) == 0xffffffff && inb(&r, 0xcfe) == 0xff,
	       "PCI config data: no device (all-ones)");
	bus_write(&r.pio, 0xcf8, 4, 0x80000000);
	report(bus_read(&r.pio, 0xcf8, 4) == 0x80000000, "PCI config address latch reads back");
	report(board_next_deadline(r.b) == 54925402, "only the reset PIT is ticking (%llu)",
	       (unsigned long long)board_next_deadline(r.b));
	board_destroy(r.b);

	c.debug_exit_port = 0x3fc;
	report(rig_up(&r, &c) == -EEXIST, "debug-exit range over COM1 is refused (-EEXIST)");
	c = base_config(&r.host);
	c.debug_exit = false;
	report(rig_up(&r, &c) == 0 && bus_find(&r.pio, 0xf4) == NULL, "debug-exit absent unless asked");
	board_destroy(r.b);
	c.ncpus = 0;
	report(rig_up(&r, &c) == -EINVAL, "ncpus 0 refused");
}

static void test_requests(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	int status = 0;
	rig_up(&r, &c);
	report(!*r.env.stop && !board_exit_requested(r.b, &status), "no request at start");
	outb(&r, 0x92, 0x03);
	report(*r.env.stop, "port 0x92 bit 0 sets stop");
	report(board_reset_requested(r.b) && !*r.env.stop, "reset requested once; stop cleared");
	report(!board_reset_requested(r.b), "request consumed");
	report(inb(&r, 0x92) == 0x02, "port 0x92 reads A20 set, reset bit clear");
	outb(&r, 0x64, 0xfe);
	report(board_reset_requested(r.b), "8042 command 0xfe requests a reset");
	outb(&r, 0x64, 0xd1);
	report(!board_reset_requested(r.b), "other 8042 commands do not");
	outb(&r, 0xcf9, 0x06);
	report(board_reset_requested(r.b), "0xcf9 RST_CPU requests a reset");
	bus_write(&r.pio, 0x604, 2, 0x2000); /* ACPI PM1a_CNT: SLP_EN, SLP_TYP 0 (S5) */
	report(*r.env.stop && board_exit_requested(r.b, &status) && status == 0,
	       "ACPI S5 power-off: stop, status 0");
	board_destroy(r.b);
	rig_up(&r, &c);
	bus_write(&r.pio, 0xf4, 4, 0x10);
	report(*r.env.stop && board_exit_requested(r.b, &status) && status == 0x21,
	       "debug-exit 0x10: stop, status 0x21");
	outb(&r, 0x92, 0x01);
	report(board_reset_requested(r.b) && *r.env.stop, "after an exit request stop stays set");
	board_destroy(r.b);
}

static void test_fwcfg_cmos(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	rig_up(&r, &c);
	bus_write(&r.pio, 0x510, 2, 0x05);
	report(inb(&r, 0x511) == 1 && inb(&r, 0x511) == 0, "fw_cfg key 0x05 through ports: 1 CPU");
	bus_write(&r.pio, 0x510, 2, 0x03);
	u64 ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= (u64)inb(&r, 0x511) << (8 * i);
	report(ram == 128ull << 20, "fw_cfg key 0x03 through ports: 128 MiB");
	outb(&r, 0x70, 0x00);
	report(inb(&r, 0x71) == 0x58, "CMOS seconds through ports (0x58)");
	r.host.tsc = 3 * BOARD_TSC_HZ;
	outb(&r, 0x70, 0x00);
	report(inb(&r, 0x71) == 0x01, "virtual time moves the RTC (0x01)");
	outb(&r, 0x70, 0x35);
	report(inb(&r, 0x71) == 0x07, "CMOS 0x35: 128 MiB -> 0x0700 blocks above 16 MiB");
	board_destroy(r.b);
}

static void test_pic_route(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	rig_up(&r, &c);
	pic_linux_init(&r, 0xef, 0xff); /* only IRQ4 */
	report(r.env.irq_peek(r.env.ctx) == -1, "nothing pending");
	outb(&r, 0x3f9, 0x02); /* COM1 IER = THRI */
	report(r.env.irq_peek(r.env.ctx) == 0x24, "COM1 THRE -> PIC IRQ4 -> ExtINT vector 0x24");
	report(r.env.irq_ack(r.env.ctx) == 0x24, "irq_ack returns 0x24");
	report(r.env.irq_peek(r.env.ctx) == -1, "IRQ4 in service");
	outb(&r, 0x20, 0x20);
	report(r.env.irq_peek(r.env.ctx) == -1, "EOI: edge already consumed, line still high");
	inb(&r, 0x3fa); /* IIR read clears THRE */
	outb(&r, 0x3f8, 'x');
	report(r.env.irq_peek(r.env.ctx) == 0x24, "next THR write makes a new edge");
	r.env.irq_ack(r.env.ctx);
	outb(&r, 0x20, 0x20);

	apic_wr(&r, 0xf0, 0x1ff);
	outb(&r, 0x3f8, 'y');
	report(r.env.irq_peek(r.env.ctx) == 0x24, "APIC enabled, LINT0 ExtINT: PIC still delivered");
	r.env.irq_ack(r.env.ctx);
	outb(&r, 0x20, 0x20);
	apic_wr(&r, 0x350, 0x10700);
	outb(&r, 0x3f8, 'z');
	report(r.env.irq_peek(r.env.ctx) == -1, "LINT0 masked: PIC cut off");
	board_destroy(r.b);
}

static void test_ioapic_route(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	rig_up(&r, &c);
	pic_linux_init(&r, 0xff, 0xff);
	apic_wr(&r, 0xf0, 0x1ff);
	apic_wr(&r, 0x350, 0x10700);
	ioapic_wr(&r, 0x10 + 2 * 4, 0x34); /* pin 4: vector 0x34, edge, physical dest 0 */
	ioapic_wr(&r, 0x11 + 2 * 4, 0);
	outb(&r, 0x3f9, 0x02);
	report(r.env.irq_peek(r.env.ctx) == 0x34, "COM1 -> IOAPIC pin 4 -> LAPIC vector 0x34");
	report(r.env.irq_ack(r.env.ctx) == 0x34 && apic_rd(&r, 0x100 + 0x10) == 0x100000,
	       "ack moves 0x34 into ISR");
	apic_wr(&r, 0xb0, 0);
	report(apic_rd(&r, 0x100 + 0x10) == 0, "EOI clears it");

	ioapic_wr(&r, 0x10 + 2 * 2, 0x30); /* pin 2 = ISA IRQ0 */
	r.host.tsc = 0;
	bus_write(&r.pio, 0x43, 1, 0x34);
	bus_write(&r.pio, 0x40, 1, 0x9c);
	bus_write(&r.pio, 0x40, 1, 0x2e); /* 11932: ~10 ms */
	u64 d = board_next_deadline(r.b);
	report(d == 10000151 && r.host.deadline == d, "PIT 11932 clocks: deadline ~10 ms, reported (%llu)",
	       (unsigned long long)d);
	board_poll(r.b, d - 1);
	report(r.env.irq_peek(r.env.ctx) == -1, "poll before the deadline: nothing");
	board_poll(r.b, d);
	report(r.env.irq_peek(r.env.ctx) == 0x30, "PIT IRQ0 arrives on IOAPIC pin 2 (0x30)");
	r.env.irq_ack(r.env.ctx);
	apic_wr(&r, 0xb0, 0);

	ioapic_wr(&r, 0x10 + 2 * 2, 0x10030); /* mask the PIT again */
	ioapic_wr(&r, 0x10 + 2 * 8, 0x8038); /* pin 8 (RTC): level, vector 0x38 */
	outb(&r, 0x70, 0x0b);
	outb(&r, 0x71, 0x12); /* UIE */
	board_poll(r.b, BOARD_TSC_HZ);
	report(r.env.irq_ack(r.env.ctx) == 0x38, "RTC update IRQ8 -> level vector 0x38");
	apic_wr(&r, 0xb0, 0);
	report(r.env.irq_peek(r.env.ctx) == 0x38, "level line still high: redelivered after EOI");
	r.env.irq_ack(r.env.ctx);
	r.host.tsc = BOARD_TSC_HZ;
	outb(&r, 0x70, 0x0c);
	inb(&r, 0x71);
	apic_wr(&r, 0xb0, 0);
	report(r.env.irq_peek(r.env.ctx) == -1, "reading C lowered IRQ8: no redelivery");
	board_destroy(r.b);
}

static void test_lapic_timer(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	u64 v = 0;
	rig_up(&r, &c);
	apic_wr(&r, 0xf0, 0x1ff);
	apic_wr(&r, 0x3e0, 0x0b); /* divide by 1 */
	apic_wr(&r, 0x320, 0x40); /* one-shot, vector 0x40 */
	r.host.tsc = 1000;
	apic_wr(&r, 0x380, 5000);
	report(board_next_deadline(r.b) == 6000 && r.host.deadline == 6000,
	       "one-shot 5000 at TSC 1000: deadline 6000 (told to the host)");
	board_poll(r.b, 5999);
	report(r.env.irq_peek(r.env.ctx) == -1, "nothing at 5999");
	board_poll(r.b, 6000);
	report(r.env.irq_peek(r.env.ctx) == 0x40, "timer vector 0x40 at 6000");
	report(board_next_deadline(r.b) == 54925402, "one-shot is done");
	r.env.irq_ack(r.env.ctx);
	apic_wr(&r, 0xb0, 0);

	r.host.tsc = 10000;
	apic_wr(&r, 0x3e0, 0x00); /* divide by 2 */
	apic_wr(&r, 0x320, 0x20041); /* periodic, vector 0x41 */
	apic_wr(&r, 0x380, 500);
	report(board_next_deadline(r.b) == 11000, "periodic 500 / 2: first expiry 11000");
	board_poll(r.b, 11000);
	report(r.env.irq_ack(r.env.ctx) == 0x41, "periodic fires at 11000");
	apic_wr(&r, 0xb0, 0);
	report(board_next_deadline(r.b) == 12000, "then 12000");
	board_poll(r.b, 12500);
	report(r.env.irq_ack(r.env.ctx) == 0x41 && board_next_deadline(r.b) == 13000,
	       "late poll at 12500 fires once, next 13000");
	apic_wr(&r, 0xb0, 0);
	r.host.tsc = 12600;
	report(apic_rd(&r, 0x390) == 200, "current count 200 at 12600");

	apic_wr(&r, 0x320, 0x40042); /* TSC-deadline, vector 0x42 */
	report(board_next_deadline(r.b) == 54925402, "mode switch disarmed the periodic timer");
	report(r.env.msr_write(r.env.ctx, 0x6e0, 20000), "write IA32_TSC_DEADLINE");
	report(board_next_deadline(r.b) == 20000 && r.host.deadline == 20000, "deadline 20000 reported");
	board_poll(r.b, 20000);
	report(r.env.irq_peek(r.env.ctx) == 0x42, "TSC-deadline fires at 20000");
	report(r.env.msr_read(r.env.ctx, 0x6e0, &v) && v == 0, "IA32_TSC_DEADLINE reads 0 after firing");

	report(!r.env.msr_read(r.env.ctx, 0x802, &v), "x2APIC MSR #GP in xAPIC mode");
	report(r.env.msr_read(r.env.ctx, 0x1b, &v) && v == 0xfee00900, "IA32_APIC_BASE via the board");
	report(r.env.msr_write(r.env.ctx, 0x1b, 0xfee00d00), "switch to x2APIC");
	report(r.env.msr_read(r.env.ctx, 0x803, &v) && v == 0x00050014, "x2APIC version MSR via board");
	report(!r.env.msr_read(r.env.ctx, 0x10, &v) && !r.env.msr_write(r.env.ctx, 0x3a, 0),
	       "MSRs the board does not own: false");
	board_destroy(r.b);
}

static void test_serial_io(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	int out[2], in[2];
	if (pipe(out) || pipe(in)) {
		report(0, "pipe()");
		return;
	}
	c.serial_stdio = true;
	c.serial_out_fd = out[1];
	c.serial_in_fd = in[0];
	rig_up(&r, &c);
	outb(&r, 0x3f8, 'O');
	outb(&r, 0x3f8, 'K');
	char buf[4] = {0};
	report(read(out[0], buf, 2) == 2 && !strcmp(buf, "OK"), "COM1 output reaches the fd");
	board_poll(r.b, 0);
	report(!(inb(&r, 0x3fd) & 1), "no input yet: DR clear (poll did not block)");
	report(write(in[1], "hi", 2) == 2, "host writes input");
	board_poll(r.b, 0);
	report((inb(&r, 0x3fd) & 1) && inb(&r, 0x3f8) == 'h', "first byte (FIFO off holds one)");
	board_poll(r.b, 0);
	report(inb(&r, 0x3f8) == 'i', "second byte on the next poll");
	report(write(in[1], "!", 1) == 1, "more input, no board_poll");
	r.host.tsc = 50000;
	report(!(inb(&r, 0x3fd) & 1), "LSR read 50 us later: not looked at yet");
	r.host.tsc = 100000;
	report((inb(&r, 0x3fd) & 1) && inb(&r, 0x3f8) == '!', "LSR read 100 us later pulls the input");
	close(in[1]);
	board_poll(r.b, 0);
	report(board_serial_in_fd(r.b) == -1, "writer closed: input stops");
	board_destroy(r.b);
	close(in[0]);

	c.serial_in_fd = open("/dev/null", O_RDONLY);
	rig_up(&r, &c);
	board_poll(r.b, 0);
	report(board_serial_in_fd(r.b) == -1 && !(inb(&r, 0x3fd) & 1), "stdin = /dev/null: EOF, no data");
	board_destroy(r.b);
	close(c.serial_in_fd);

	c.serial_in_fd = c.serial_in_fd; /* now a closed descriptor */
	rig_up(&r, &c);
	board_poll(r.b, 0);
	report(board_serial_in_fd(r.b) == -1, "closed input fd: dropped without error");
	board_destroy(r.b);
	close(out[0]);
	close(out[1]);
}

static void test_debugcon(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	int out[2];
	if (pipe(out)) {
		report(0, "pipe()");
		return;
	}
	report(rig_up(&r, &c) == 0 && bus_find(&r.pio, 0xe9) == NULL, "debugcon absent unless asked");
	board_destroy(r.b);
	c.debugcon = true;
	c.debugcon_fd = out[1];
	rig_up(&r, &c);
	const struct bus_range *f = bus_find(&r.pio, 0xe9);
	report(f && !strcmp(f->name, "isa-debugcon") && f->len == 1, "port 0xe9 is isa-debugcon (default)");
	report(inb(&r, 0xe9) == 0xe9, "debugcon reads back 0xe9");
	outb(&r, 0xe9, 'o');
	outb(&r, 0xe9, 'k');
	char buf[4] = {0};
	report(read(out[0], buf, 2) == 2 && !strcmp(buf, "ok"), "debugcon bytes reach its fd");
	board_destroy(r.b);
	c.debugcon_port = 0x402;
	rig_up(&r, &c);
	report(inb(&r, 0x402) == 0xe9 && bus_find(&r.pio, 0xe9) == NULL, "debugcon at iobase 0x402");
	board_destroy(r.b);
	c.debugcon_port = 0x3f8;
	report(rig_up(&r, &c) == -EEXIST, "debugcon over COM1 is refused (-EEXIST)");
	close(out[0]);
	close(out[1]);
}

static void test_reset(void)
{
	struct rig r;
	struct board_config c = base_config(&r.host);
	rig_up(&r, &c);
	pic_linux_init(&r, 0xfb, 0xff);
	apic_wr(&r, 0xf0, 0x1ff);
	outb(&r, 0x3f9, 0x0f);
	outb(&r, 0x92, 0x01);
	board_reset(r.b);
	report(!*r.env.stop && !board_reset_requested(r.b), "board_reset clears stop and the request");
	report(inb(&r, 0x21) == 0x00 && inb(&r, 0x3f9) == 0x00, "PIC IMR and COM1 IER back to 0");
	report(apic_rd(&r, 0xf0) == 0xff, "LAPIC software-disabled again");
	outb(&r, 0x70, 0x09);
	report(inb(&r, 0x71) == 0x24, "RTC keeps its time (year 0x24)");
	board_destroy(r.b);
}

int main(void)
{
	test_layout();
	test_requests();
	test_fwcfg_cmos();
	test_pic_route();
	test_ioapic_route();
	test_lapic_timer();
	test_serial_io();
	test_debugcon();
	test_reset();
	return 0;
}
