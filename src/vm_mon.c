/* vm_mon.c: the machine's side of the monitor: pausing, resuming, saving
 * and showing the vCPU, always with the vCPU stopped between instructions. */
#include <stdio.h>
#include <unistd.h>

#include "dev/board.h"
#include "log.h"
#include "monitor.h"
#include "vm_int.h"

/* kvm finishes an IO or MMIO exit (stores an IN's data, moves RIP past
 * the instruction) only on the next KVM_RUN; run it once with the board
 * held so that it returns as soon as that is done. */
int vm_settle(struct vm *vm)
{
	for (int tries = 0; vm->exit_pending && tries < 4; tries++) {
		struct vcpu_exit e;
		board_hold(vm->board, true);
		int r = vm->accel->run(vm->vcpu, &e);
		board_hold(vm->board, false);
		if (r)
			return -1;
		vm->exit_pending = e.reason == VCPU_EXIT_IO || e.reason == VCPU_EXIT_MMIO;
		if (vm->exit_pending) {
			log_error("monitor: the vCPU did not stop after an I/O exit");
			return -1;
		}
	}
	return 0;
}

static int mon_stop(void *ctx, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	if (vm_settle(vm)) {
		snprintf(err, errlen, "the vCPU could not be stopped");
		return -1;
	}
	vm->paused = true;
	return 0;
}

static int mon_cont(void *ctx, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	(void)err;
	(void)errlen;
	vm->paused = false;
	return 0;
}

static int mon_savevm(void *ctx, const char *file, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	int r = vm_snap_save(vm, file, err, errlen);
	if (r == 0)
		log_info("monitor: saved the machine to %s", file);
	return r;
}

static void mon_info_registers(void *ctx, char *buf, size_t len)
{
	vm_info_registers(ctx, buf, len);
}

static void mon_quit(void *ctx)
{
	struct vm *vm = ctx;
	vm->quit_status = VM_EXIT_OK;
}

static bool mon_running(void *ctx)
{
	const struct vm *vm = ctx;
	return !vm->paused;
}

int vm_monitor_start(struct vm *vm)
{
	const struct monitor_ops ops = { vm,	     mon_stop,	mon_cont, mon_savevm,
					 mon_info_registers, mon_quit, mon_running };
	char err[300];
	vm->quit_status = -1;
	vm->paused = vm->cfg.start_paused;
	if (!vm->cfg.monitor && !vm->cfg.qmp)
		return 0;
	vm->mon = monitor_create(vm->cfg.monitor, vm->cfg.qmp, vm->cfg.serial_stdio, &ops, err,
				 sizeof(err));
	if (!vm->mon) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* Commands that arrived, and while paused, wait for more. Returns an exit
 * status when the monitor asked to quit, else -1. */
int vm_monitor_service(struct vm *vm)
{
	if (!vm->mon)
		return vm->paused ? (log_error("-S without a monitor: nothing can resume the guest"),
				     VM_EXIT_ERROR)
				  : -1;
	monitor_poll(vm->mon, 0, -1);
	while (vm->paused && vm->quit_status < 0) {
		if (!monitor_alive(vm->mon)) {
			log_error("monitor: closed while the guest is paused; quitting");
			return VM_EXIT_OK;
		}
		monitor_poll(vm->mon, -1, -1);
	}
	return vm->quit_status;
}
