/* vm.c: the machine: guest RAM, buses, the board, one vCPU and the run loop. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accel/accel.h"
#include "boot/boot.h"
#include "bus.h"
#include "cpumodel.h"
#include "dev/board.h"
#include "log.h"
#include "mem.h"
#include "monitor.h"
#include "snap.h"
#include "vm_int.h"

/* How often (guest time) a busy guest returns to the run loop when a
 * monitor is open. */
#define MONITOR_HZ 100

/* Device time (BOARD_TSC_HZ ticks) from the guest TSC, and back. */
static u64 to_board(const struct vm *vm, u64 tsc)
{
	return vm->tsc_hz == BOARD_TSC_HZ ? tsc : (u64)((u128)tsc * BOARD_TSC_HZ / vm->tsc_hz);
}

static u64 to_tsc(const struct vm *vm, u64 t)
{
	if (t == BOARD_NO_DEADLINE || vm->tsc_hz == BOARD_TSC_HZ)
		return t;
	u128 v = (u128)t * vm->tsc_hz / BOARD_TSC_HZ;
	return v > ~0ull ? ~0ull : (u64)v;
}

static u64 vm_now(void *opaque)
{
	struct vm *vm = opaque;
	return vm->vcpu ? to_board(vm, vm->accel->get_tsc(vm->vcpu)) : 0;
}

static void vm_deadline_changed(void *opaque, u64 t)
{
	struct vm *vm = opaque;
	if (vm->vcpu)
		vm->accel->set_deadline(vm->vcpu, to_tsc(vm, t));
}

/* The isa-debugcon output: stdout, or a file created or truncated (as
 * QEMU's file chardev does). Returns the fd, or -1 after an error message. */
static int open_debugcon(struct vm *vm)
{
	const char *path = vm->cfg.debugcon_file;
	if (!path)
		return STDOUT_FILENO;
	vm->debugcon_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (vm->debugcon_fd < 0)
		log_error("-debugcon %s: %s", path, strerror(errno));
	return vm->debugcon_fd;
}

static int make_board(struct vm *vm)
{
	const struct vm_config *cfg = &vm->cfg;
	int debugcon_fd = cfg->debugcon ? open_debugcon(vm) : -1;
	if (cfg->debugcon && debugcon_fd < 0)
		return -1;
	struct board_config bc = {
		.ram_size = cfg->ram_size,
		.ncpus = 1,
		.serial_stdio = cfg->serial_stdio,
		.serial_out_fd = cfg->serial_stdio ? STDOUT_FILENO : -1,
		.serial_in_fd = cfg->serial_stdio ? STDIN_FILENO : -1,
		.debug_exit = cfg->debug_exit,
		.debug_exit_port = cfg->debug_exit_port,
		.debug_exit_size = cfg->debug_exit_size,
		.debugcon = cfg->debugcon,
		.debugcon_port = cfg->debugcon_port,
		.debugcon_fd = debugcon_fd,
		.now = vm_now,
		.deadline_changed = vm_deadline_changed,
		.now_opaque = vm,
	};
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	int r = board_create(&vm->board, &bc, &vm->pio, &vm->mmio);
	if (r) {
		log_error("cannot create the board: %s", strerror(-r));
		return -1;
	}
	board_fill_env(vm->board, &vm->env);
	vm->env.pio = &vm->pio;
	vm->env.mmio = &vm->mmio;
	vm->env.ram = vm->ram.base;
	vm->env.ram_size = vm->ram.size;
	vm->env.ram_high = vm->ram.high;
	vm->env.trace = cfg->trace;
	vm->env.no_jit = cfg->no_jit;
	vm->env.jit_threshold = cfg->jit_threshold;
	return 0;
}

/* The guest CPUID: from -cpu, or as saved in the snapshot (already in
 * vm->cpuid), which must fit what this accelerator supports. */
static int guest_cpuid(struct vm *vm, const struct vcpu_cpuid *sup)
{
	char err[256];
	int r = vm->cfg.loadvm
			? cpumodel_check(&vm->cpuid, sup, vm->accel->name, err, sizeof(err))
			: cpumodel_build(vm->cfg.cpu, sup, vm->accel->name, &vm->cpuid, err, sizeof(err));
	if (r && vm->cfg.loadvm)
		log_error("-loadvm %s: %s", vm->cfg.loadvm, err);
	else if (r)
		log_error("%s", err);
	return r;
}

static int make_vcpu(struct vm *vm)
{
	struct vcpu_cpuid sup;
	int r = vm->accel->create(&vm->vcpu, &vm->env, 0);
	if (r) {
		log_error("cannot create a vCPU with accelerator %s: %s", vm->accel->name,
			  strerror(-r));
		return -1;
	}
	vm->tsc_hz = vm->accel->tsc_hz(vm->vcpu);
	if (!vm->tsc_hz)
		vm->tsc_hz = BOARD_TSC_HZ;
	vm->accel->get_supported_cpuid(&sup);
	if (guest_cpuid(vm, &sup))
		return -1;
	r = vm->accel->set_cpuid(vm->vcpu, &vm->cpuid);
	if (r) {
		log_error("-cpu %s: rejected by accelerator %s: %s", vm->cfg.cpu,
			  vm->accel->name, strerror(-r));
		return -1;
	}
	return 0;
}

/* Load the kernel and put the vCPU in its entry state (also after a reset). */
static int boot(struct vm *vm)
{
	struct boot_params p = { vm->cfg.kernel, vm->cfg.initrd, vm->cfg.append };
	char err[512];
	guest_ram_zero(&vm->ram);
	if (boot_load(&p, &vm->ram, &vm->boot, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (vm->accel->set_sregs(vm->vcpu, &vm->boot.sregs) ||
	    vm->accel->set_regs(vm->vcpu, &vm->boot.regs)) {
		log_error("cannot set the initial vCPU state");
		return -1;
	}
	return 0;
}

static void io_exit(struct vm *vm, const struct vcpu_exit *e)
{
	for (u32 i = 0; i < e->io.count; i++) {
		u8 *d = e->io.data + (size_t)i * e->io.size;
		if (e->io.write) {
			u64 v = 0;
			memcpy(&v, d, e->io.size);
			bus_write(&vm->pio, e->io.port, e->io.size, v);
		} else {
			u64 v = bus_read(&vm->pio, e->io.port, e->io.size);
			memcpy(d, &v, e->io.size);
		}
	}
}

static void mmio_exit(struct vm *vm, const struct vcpu_exit *e)
{
	u64 v = 0;
	if (e->mmio.write) {
		memcpy(&v, e->mmio.data, e->mmio.size);
		bus_write(&vm->mmio, e->mmio.addr, e->mmio.size, v);
	} else {
		v = bus_read(&vm->mmio, e->mmio.addr, e->mmio.size);
		memcpy(e->mmio.data, &v, e->mmio.size);
	}
}

/* The guest halted. With virtual time, jump to the next timer event; in
 * real time (kvm), sleep until it, waking early for serial input. Returns
 * false if nothing can ever wake the guest. */
static bool idle(struct vm *vm)
{
	u64 next = board_next_deadline(vm->board);
	int fd = board_serial_in_fd(vm->board);
	if (next == BOARD_NO_DEADLINE && fd < 0 && !vm->mon)
		return false;
	u64 now = to_board(vm, vm->accel->get_tsc(vm->vcpu));
	if (vm->accel->virtual_time && next != BOARD_NO_DEADLINE) {
		if (next > now)
			vm->accel->set_tsc(vm->vcpu, to_tsc(vm, next));
		return true;
	}
	int ms = -1;
	if (next != BOARD_NO_DEADLINE)
		ms = next <= now ? 0 : (int)((next - now) / (BOARD_TSC_HZ / 1000) + 1);
	if (vm->mon) {
		monitor_poll(vm->mon, ms, fd);
		return true;
	}
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, fd >= 0 ? 1 : 0, ms) >= 0 || errno == EINTR;
}

/* HLT with IF=0: only NMI, SMI or INIT could resume it, and nothing here
 * sends those, so the guest has stopped for good. */
static bool halted_for_good(struct vm *vm)
{
	struct vcpu_regs r;
	return !vm->accel->get_regs(vm->vcpu, &r) && !(r.rflags & (1u << 9));
}

/* Returns -1 to keep running, else cetvm's exit status. */
static int handle_stop(struct vm *vm)
{
	int status;
	if (board_exit_requested(vm->board, &status))
		return status;
	if (board_reset_requested(vm->board)) {
		if (vm->cfg.no_reboot)
			return VM_EXIT_OK;
		board_reset(vm->board);
		vm->accel->init(vm->vcpu);
		return boot(vm) ? VM_EXIT_ERROR : -1;
	}
	return -1;
}

static int handle_exit(struct vm *vm, struct vcpu_exit *e)
{
	vm->exit_pending = e->reason == VCPU_EXIT_IO || e->reason == VCPU_EXIT_MMIO;
	switch (e->reason) {
	case VCPU_EXIT_IO:
		io_exit(vm, e);
		return -1;
	case VCPU_EXIT_MMIO:
		mmio_exit(vm, e);
		return -1;
	case VCPU_EXIT_HLT:
		if (halted_for_good(vm)) {
			log_info("guest halted with interrupts disabled");
			return VM_EXIT_OK;
		}
		if (idle(vm))
			return -1;
		log_error("guest halted with no interrupt source left (rip stuck in HLT)");
		return VM_EXIT_ERROR;
	case VCPU_EXIT_SHUTDOWN:
		if (vm->cfg.no_reboot) {
			log_error("guest triple fault: shutdown");
			return VM_EXIT_TRIPLE_FAULT;
		}
		board_reset(vm->board);
		vm->accel->init(vm->vcpu);
		return boot(vm) ? VM_EXIT_ERROR : -1;
	case VCPU_EXIT_STOP:
		return handle_stop(vm);
	case VCPU_EXIT_DEADLINE:
	case VCPU_EXIT_NONE:
		return -1;
	case VCPU_EXIT_INTERNAL:
	default:
		log_error("accelerator %s: %s", vm->accel->name, e->internal.message);
		return VM_EXIT_INTERNAL;
	}
}

static u64 next_deadline(struct vm *vm)
{
	u64 d = to_tsc(vm, board_next_deadline(vm->board));
	u64 limit = vm->cfg.max_insns;
	bool counted = limit && vm->accel->icount;
	if (!counted && !vm->mon)
		return d; /* the common case reads no clock */
	u64 now = vm->accel->get_tsc(vm->vcpu);
	if (counted) {
		u64 done = vm->accel->icount(vm->vcpu);
		u64 left = limit > done ? limit - done : 0;
		if (now + left < d)
			d = now + left;
	}
	/* Come back now and then to serve the monitor, however busy the guest. */
	u64 slice = vm->tsc_hz / MONITOR_HZ;
	if (vm->mon && now + slice < d)
		d = now + slice;
	return d;
}

static int run_loop(struct vm *vm)
{
	struct vcpu_exit e;
	for (;;) {
		int quit = vm_monitor_service(vm);
		if (quit >= 0)
			return quit;
		vm->accel->set_deadline(vm->vcpu, next_deadline(vm));
		if (vm->accel->run(vm->vcpu, &e)) {
			log_error("accelerator %s: run failed", vm->accel->name);
			return VM_EXIT_INTERNAL;
		}
		board_poll(vm->board, to_board(vm, vm->accel->get_tsc(vm->vcpu)));
		int status = handle_exit(vm, &e);
		if (status < 0 && board_exit_requested(vm->board, &status))
			return status;
		if (status >= 0)
			return status;
		if (vm->cfg.max_insns && vm->accel->icount &&
		    vm->accel->icount(vm->vcpu) >= vm->cfg.max_insns) {
			log_error("stopped after %llu guest instructions (-icount-limit)",
				  (unsigned long long)vm->cfg.max_insns);
			return VM_EXIT_ERROR;
		}
	}
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -stats: one line on stderr that bench/ parses. */
static void print_stats(struct vm *vm, double seconds)
{
	u64 n = vm->accel->icount ? vm->accel->icount(vm->vcpu) : 0;
	fprintf(stderr, "cetvm: stats: %llu guest instructions in %.3f s: %.1f MIPS\n",
		(unsigned long long)n, seconds, seconds > 0 ? (double)n / seconds / 1e6 : 0.0);
}

static void vm_destroy(struct vm *vm)
{
	monitor_destroy(vm->mon);
	if (vm->vcpu)
		vm->accel->destroy(vm->vcpu);
	if (vm->board)
		board_destroy(vm->board);
	if (vm->debugcon_fd >= 0)
		close(vm->debugcon_fd);
	guest_ram_free(&vm->ram);
	for (size_t i = 0; i < ARRAY_SIZE(vm->snap_str); i++)
		free(vm->snap_str[i]);
}

/* -loadvm: the machine's shape comes from the snapshot. */
static int loadvm_config(struct vm *vm, struct snap_in *in)
{
	static const char *const tags[] = { "MACH", "CPU0", "DEVS", "RAM " };
	const char *file = vm->cfg.loadvm;
	u64 ram_size = vm->cfg.ram_size;
	char err[300], tag[5] = "";
	if (snap_in_open(in, file, err, sizeof(err))) {
		log_error("-loadvm %s: %s", file, err);
		return -1;
	}
	if (!snap_in_tags_known(in, tags, (int)ARRAY_SIZE(tags), tag)) {
		log_error("-loadvm %s: unknown or damaged section '%s'", file, tag);
		return -1;
	}
	if (vm_snap_config(vm, in, err, sizeof(err))) {
		log_error("-loadvm %s: %s", file, err);
		return -1;
	}
	if (vm->cfg.ram_size_set && ram_size != vm->cfg.ram_size) {
		log_error("-loadvm %s: the snapshot has %llu MiB of RAM, -m asks for %llu MiB", file,
			  (unsigned long long)(vm->cfg.ram_size >> 20),
			  (unsigned long long)(ram_size >> 20));
		return -1;
	}
	return 0;
}

/* Build the machine: from the kernel, or from the snapshot being loaded. */
static int build(struct vm *vm, struct snap_in *in)
{
	char err[300];
	if (make_board(vm) || make_vcpu(vm))
		return -1;
	if (!vm->cfg.loadvm)
		return boot(vm);
	if (vm_snap_restore(vm, in, err, sizeof(err))) {
		log_error("-loadvm %s: %s", vm->cfg.loadvm, err);
		return -1;
	}
	return 0;
}

int vm_run(const struct vm_config *cfg)
{
	struct vm vm = { .cfg = *cfg, .quit_status = -1, .debugcon_fd = -1 };
	struct snap_in in = { 0 };
	int status = VM_EXIT_ERROR;
	if (cfg->trace && log_level < LOG_INFO)
		log_level = LOG_INFO; /* trace lines are info-level messages */
	vm.accel = accel_find(cfg->accel);
	if (!vm.accel) {
		log_error("-machine accel=%s: unknown accelerator (emu or kvm)", cfg->accel);
		return VM_EXIT_ERROR;
	}
	const char *why = vm.accel->unavailable();
	if (why) {
		log_error("accelerator %s is not available here: %s", vm.accel->name, why);
		return VM_EXIT_ERROR;
	}
	if (cfg->loadvm && loadvm_config(&vm, &in)) {
		snap_in_close(&in);
		vm_destroy(&vm);
		return VM_EXIT_ERROR;
	}
	int r = guest_ram_alloc(&vm.ram, vm.cfg.ram_size);
	if (r) {
		log_error("-m: cannot allocate %llu MiB of guest RAM: %s",
			  (unsigned long long)(vm.cfg.ram_size >> 20), strerror(-r));
		snap_in_close(&in);
		vm_destroy(&vm);
		return VM_EXIT_ERROR;
	}
	r = build(&vm, &in);
	snap_in_close(&in);
	if (!r && !vm_monitor_start(&vm)) {
		double t0 = now_seconds();
		status = run_loop(&vm);
		if (cfg->stats)
			print_stats(&vm, now_seconds() - t0);
	}
	fflush(stdout);
	vm_destroy(&vm);
	return status;
}
