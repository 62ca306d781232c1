/* vm.h: the machine: configuration, guest RAM, buses, devices, vCPU, run loop. */
#ifndef CETVM_VM_H
#define CETVM_VM_H

#include "types.h"

/* Exit statuses of cetvm (QEMU conventions where they exist). The
 * isa-debug-exit device exits with (value << 1) | 1 instead. */
#define VM_EXIT_OK 0
#define VM_EXIT_ERROR 1        /* bad option or file, host error */
#define VM_EXIT_TRIPLE_FAULT 2 /* guest triple fault with -no-reboot */
#define VM_EXIT_INTERNAL 3     /* accelerator internal error */

/* Everything the command line decides; filled by main.c. */
struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *append; /* "" when absent */
	u64 ram_size;       /* bytes; default 128 MiB */
	int smp;            /* only 1 for now */
	const char *cpu;    /* "-cpu" string, e.g. "max,-shstk"; default "max" */
	const char *accel;  /* "emu" (default) or "kvm" */
	bool no_jit;        /* -accel emu,jit=off: no native code (jit.c) */
	u8 jit_threshold;   /* -accel emu,jit-threshold=N: runs before a block
			     * is translated (0: the default) */
	bool serial_stdio;  /* COM1 on stdout/stdin (the default) */
	bool debug_exit;    /* -device isa-debug-exit given */
	u16 debug_exit_port;
	u8 debug_exit_size;
	bool debugcon;      /* -debugcon or -device isa-debugcon given */
	u16 debugcon_port;  /* 0: 0xe9 */
	const char *debugcon_file; /* NULL: stdout; else created or truncated */
	bool no_reboot;
	unsigned trace;     /* TRACE_* bits from -trace */
	u64 max_insns;      /* stop after this many guest instructions, 0 = no limit */
	bool stats;         /* -stats: report instructions, time and MIPS at exit */
	const char *loadvm; /* -loadvm FILE: resume this snapshot instead of booting */
	bool ram_size_set;  /* -m was given (checked against the snapshot) */
	const char *monitor; /* -monitor: human monitor (unix:PATH,..., stdio), or NULL */
	const char *qmp;     /* -qmp: QMP JSON monitor (unix:PATH,...), or NULL */
	bool start_paused;   /* -S: wait for "cont" before running */
};

#define TRACE_CET (1u << 0) /* log every #CP with its evidence */
#define TRACE_EXC (1u << 1) /* log every exception delivered */
#define TRACE_UNIMPL (1u << 2)

/* Build the machine described by cfg, boot it and run it to the end.
 * Returns cetvm's exit status. Errors in files or options have already been
 * reported on stderr when this returns VM_EXIT_ERROR. */
int vm_run(const struct vm_config *cfg);

#endif
