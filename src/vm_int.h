/* vm_int.h: the machine's insides, shared by vm.c (build and run),
 * vm_snap.c (snapshots) and vm_info.c (what the monitor shows). */
#ifndef CETVM_VM_INT_H
#define CETVM_VM_INT_H

#include <stddef.h>

#include "accel/accel.h"
#include "boot/boot.h"
#include "bus.h"
#include "mem.h"
#include "vm.h"

struct monitor;
struct snap_in;

struct vm {
	struct vm_config cfg; /* a copy: -loadvm fills parts from the file */
	const struct accel_ops *accel;
	struct guest_ram ram;
	struct bus pio, mmio;
	struct board *board;
	struct accel_env env;
	struct vcpu *vcpu;
	struct boot_state boot;
	u64 tsc_hz; /* the vCPU's TSC rate; devices count at BOARD_TSC_HZ */
	int debugcon_fd; /* -debugcon file, or -1 (stdout or none: not ours) */
	struct vcpu_cpuid cpuid; /* the guest's */
	struct monitor *mon;
	bool paused;
	int quit_status;   /* >= 0: the monitor asked to quit with this status */
	bool exit_pending; /* kvm: the last exit was IO/MMIO, completed by the next run */
	char *snap_str[3]; /* -loadvm: kernel, initrd and append, owned */
};

/* The machine part of a snapshot (RAM size, CPUID, devices present, what
 * a reset reloads) into vm->cfg and vm->cpuid, before anything is built. */
int vm_snap_config(struct vm *vm, const struct snap_in *in, char *err, size_t errlen);
/* CPU, devices and RAM from the file into a built, never-run machine. */
int vm_snap_restore(struct vm *vm, const struct snap_in *in, char *err, size_t errlen);
/* Write the machine, stopped between instructions, to `path`. */
int vm_snap_save(struct vm *vm, const char *path, char *err, size_t errlen);

/* Make sure the vCPU sits between instructions with nothing half done
 * (kvm completes a pending IO exit). 0 or -1. */
int vm_settle(struct vm *vm);

/* vm_mon.c: open the -monitor/-qmp endpoints (0 or -1), and serve them
 * between vCPU runs: an exit status when told to quit, else -1. */
int vm_monitor_start(struct vm *vm);
int vm_monitor_service(struct vm *vm);

/* "info registers": the vCPU state, CET included, as text. */
void vm_info_registers(struct vm *vm, char *buf, size_t len);

#endif
