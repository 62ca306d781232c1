/* board.h: the PC board: every fixed device, their IRQ wiring and time.
 *
 * The board puts on the two buses: dual 8259 PIC + ELCR, 8254 PIT + port
 * 0x61, RTC/CMOS, COM1 (16550A, IRQ4), fw_cfg, port 0x92, the 8042 reset
 * command, a PCI host bridge alone on bus 0 (+ 0xcf9 reset), the ACPI PM
 * registers at 0x600 (SCI on IRQ 9), POST and VGA sinks, optionally
 * isa-debug-exit and isa-debugcon, and in MMIO the IOAPIC (0xfec00000) and the
 * local APIC (0xfee00000). ISA IRQ n goes to PIC input n and IOAPIC pin n,
 * except IRQ0 which goes to IOAPIC pin 2 as on PCs. PIC interrupts reach
 * the CPU through LAPIC LINT0 (ExtINT, "virtual wire").
 *
 * Time is virtual: the guest TSC at BOARD_TSC_HZ. Devices read it through
 * config.now inside register accesses; board_poll() brings timers up to a
 * TSC value and raises what is due; board_next_deadline() says when to
 * poll next. When a register access moves that deadline, the board calls
 * config.deadline_changed (if set) with the new value, so a vCPU running
 * inside the interpreter can be told to return earlier.
 *
 * Call order for the machine (vm.c):
 *   1. bus_init(pio), bus_init(mmio); board_create(&b, &cfg, pio, mmio).
 *   2. board_fill_env(b, &env) before creating the vCPU (plus env.pio,
 *      env.mmio, env.ram, env.ram_size, env.ram_high, which the machine owns).
 *   3. Loop: set_deadline(vcpu, board_next_deadline(b)); run(vcpu);
 *      board_poll(b, get_tsc(vcpu)); then handle the exit. On
 *      VCPU_EXIT_STOP: board_exit_requested() -> exit with that status;
 *      board_reset_requested() -> reset the vCPU and board_reset(b).
 *      On VCPU_EXIT_HLT: advance the TSC to board_next_deadline(b) (emu),
 *      or wait on board_serial_in_fd(b) when there is no deadline.
 *   4. board_destroy(b) after the vCPU and before the buses go away.
 * config.now may be called from any board call after board_create()
 * returns (never during it: creation happens at TSC 0).
 */
#ifndef CETVM_DEV_BOARD_H
#define CETVM_DEV_BOARD_H

#include "../accel/accel.h"
#include "../bus.h"
#include "../types.h"

#include <stddef.h>

/* Nominal guest TSC frequency; the LAPIC bus clock equals it. */
#define BOARD_TSC_HZ 1000000000ull
#define BOARD_NO_DEADLINE (~0ull)

struct board;

struct board_config {
	u64 ram_size;
	int ncpus;         /* reported by fw_cfg and CMOS; one LAPIC exists */
	bool serial_stdio; /* COM1 uses the two fds below; else it is mute */
	int serial_out_fd; /* -1: output discarded */
	int serial_in_fd;  /* -1: no input; polled without blocking */
	bool debug_exit;
	u16 debug_exit_port;
	u8 debug_exit_size; /* 0: the default, 4 */
	bool debugcon;      /* isa-debugcon: bytes written to its port go to debugcon_fd */
	u16 debugcon_port;  /* 0: the default, 0xe9 */
	int debugcon_fd;    /* -1: output discarded */
	s64 rtc_time;       /* UTC seconds at TSC 0; 0: the host clock now */
	/* Guest TSC now (may be NULL: the last polled TSC is used). */
	u64 (*now)(void *opaque);
	/* The next timer deadline changed (may be NULL). */
	void (*deadline_changed)(void *opaque, u64 tsc);
	void *now_opaque; /* passed to now and deadline_changed */
};

/* Returns 0, -ENOMEM, -EINVAL (bad config), or the bus_add error when a
 * device's range collides (e.g. a debug-exit port on COM1). On failure the
 * buses may hold some of the board's ranges: discard them. */
int board_create(struct board **out, const struct board_config *cfg, struct bus *pio,
		 struct bus *mmio);
void board_destroy(struct board *b);

/* Sets env->ctx, irq_peek, irq_ack, msr_read, msr_write, tpr_read,
 * tpr_write and stop. */
void board_fill_env(struct board *b, struct accel_env *env);

/* Advance every timer to `tsc`, raise due interrupts, read serial input. */
void board_poll(struct board *b, u64 tsc);
/* TSC of the next timer event, or BOARD_NO_DEADLINE. */
u64 board_next_deadline(const struct board *b);

/* The guest wrote the debug-exit port (*status, if non-NULL, gets the exit
 * status (value << 1) | 1) or powered off through ACPI S5 (*status = 0).
 * Stays true once set. */
bool board_exit_requested(const struct board *b, int *status);
/* The guest asked for a reset (port 0x92 bit 0, 8042 command 0xfe, 0xcf9).
 * Returns true once per request and clears it (and `stop`, unless an exit
 * was requested too). */
bool board_reset_requested(struct board *b);
/* Make run() return promptly with VCPU_EXIT_STOP (on), or stop doing so
 * unless an exit or reset is pending (off). For the machine's own pauses. */
void board_hold(struct board *b, bool on);
/* Put every device back in its power-on state (the RTC keeps its time
 * and CMOS RAM). The vCPU is the caller's business. */
void board_reset(struct board *b);

/* Snapshots: the state of every device and of the board's clocks, as
 * one section body. board_load() returns 0, or -1 with a reason in err;
 * it is meant for a board that has not run yet. */
struct snap_buf;
struct snap_cur;
void board_save(const struct board *b, struct snap_buf *out);
int board_load(struct board *b, struct snap_cur *in, char *err, size_t errlen);

/* The fd COM1 reads input from, or -1 (none, or it reached end of file). */
int board_serial_in_fd(const struct board *b);

#endif
