/* main.c: the command line: QEMU-style options into struct vm_config, then vm_run(). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpumodel.h"
#include "log.h"
#include "vm.h"

#ifndef CETVM_VERSION
#define CETVM_VERSION "0.1.0"
#endif

#define MIB (1ull << 20)
#define RAM_MIN (2 * MIB)
#define RAM_MAX (64ull << 30)
#define RAM_DEFAULT (128 * MIB)

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_CPU_HELP, CLI_TRACE_HELP };

#define CLI_MAX_CHARDEVS 8

/* A -chardev backend: where a device's output goes. */
struct cli_chardev {
	char id[64];
	char path[1024]; /* "": stdout */
};

struct cli {
	struct vm_config cfg;
	enum cli_action action;
	struct cli_chardev chardev[CLI_MAX_CHARDEVS];
	int nchardev;
	char debugcon_chardev[64]; /* -device isa-debugcon,chardev=ID, resolved after parsing */
};

struct cli_option {
	const char *name; /* without the leading '-' */
	bool has_arg;
	int (*fn)(struct cli *c, const char *opt, const char *arg);
};

static int bad(const char *opt, const char *arg, const char *why)
{
	if (arg)
		log_error("%s %s: %s", opt, arg, why);
	else
		log_error("%s: %s", opt, why);
	return -1;
}

/* A whole-string unsigned number (base 0: 0x.. allowed); false on garbage. */
static bool parse_u64(const char *s, u64 *v)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0';
}

static int opt_kernel(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	c->cfg.kernel = arg;
	return 0;
}

static int opt_initrd(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	c->cfg.initrd = arg;
	return 0;
}

static int opt_append(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	c->cfg.append = arg;
	return 0;
}

/* QEMU's -m: "128" (MiB), "128M", "1G", "512k", "size=...". */
static int opt_m(struct cli *c, const char *opt, const char *arg)
{
	static const char suffixes[] = "bkmgt"; /* 2^0, 2^10, ... */
	const char *s = strncmp(arg, "size=", 5) == 0 ? arg + 5 : arg, *sfx;
	char *end;
	u64 n, mul = MIB, bytes;

	if (!isdigit((unsigned char)*s))
		return bad(opt, arg, "bad size (use e.g. 128, 512M, 1G)");
	errno = 0;
	n = strtoull(s, &end, 10);
	sfx = *end ? strchr(suffixes, tolower((unsigned char)*end)) : NULL;
	if (errno || (*end && (!sfx || end[1] != '\0')))
		return bad(opt, arg, "bad size (use e.g. 128, 512M, 1G)");
	if (sfx)
		mul = 1ull << (10 * (sfx - suffixes));
	if (__builtin_mul_overflow(n, mul, &bytes) || bytes > RAM_MAX)
		return bad(opt, arg, "RAM size must be at most 64 GiB");
	if (bytes < RAM_MIN)
		return bad(opt, arg, "RAM size must be at least 2 MiB");
	c->cfg.ram_size = (bytes + 4095) & ~4095ull;
	c->cfg.ram_size_set = true;
	return 0;
}

/* -smp N or cpus=N[,sockets=..,cores=..,threads=..,maxcpus=..]: all must be 1. */
static int opt_smp(struct cli *c, const char *opt, const char *arg)
{
	static const char *const keys[] = { "cpus=", "sockets=", "dies=", "clusters=",
					     "cores=", "threads=", "maxcpus=" };
	char buf[256], *item, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return bad(opt, arg, "bad value");
	strcpy(buf, arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *val = item == buf && isdigit((unsigned char)*item) ? item : NULL;
		u64 n;
		for (size_t k = 0; !val && k < ARRAY_SIZE(keys); k++)
			if (strncmp(item, keys[k], strlen(keys[k])) == 0)
				val = item + strlen(keys[k]);
		if (!val)
			return bad(opt, arg, "unknown parameter (use -smp 1)");
		if (!parse_u64(val, &n) || n == 0)
			return bad(opt, arg, "bad value");
		if (n > 1)
			return bad(opt, arg, "only 1 vCPU is supported");
	}
	c->cfg.smp = 1;
	return 0;
}

static int opt_cpu(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	if (!strcmp(arg, "help") || !strcmp(arg, "?"))
		c->action = CLI_CPU_HELP;
	c->cfg.cpu = arg;
	return 0;
}

static int opt_serial(struct cli *c, const char *opt, const char *arg)
{
	if (!strcmp(arg, "stdio") || !strcmp(arg, "mon:stdio"))
		c->cfg.serial_stdio = true;
	else if (!strcmp(arg, "none") || !strcmp(arg, "null"))
		c->cfg.serial_stdio = false;
	else
		return bad(opt, arg, "only stdio and none are supported");
	return 0;
}

/* isa-debug-exit properties: iobase=, iosize= (QEMU defaults 0x501, 2). */
static int debug_exit_props(struct cli *c, const char *opt, const char *arg, char *props)
{
	u64 base = 0x501, size = 2, v;
	char *item, *save = NULL;

	for (item = strtok_r(props, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		bool is_base = !strncmp(item, "iobase=", 7), is_size = !strncmp(item, "iosize=", 7);
		if (!is_base && !is_size)
			return bad(opt, arg, "unknown isa-debug-exit property (iobase, iosize)");
		if (!parse_u64(item + 7, &v))
			return bad(opt, arg, "bad number");
		*(is_base ? &base : &size) = v;
	}
	if (size != 1 && size != 2 && size != 4)
		return bad(opt, arg, "iosize must be 1, 2 or 4");
	if (base + size > 0x10000)
		return bad(opt, arg, "iobase is not an I/O port");
	c->cfg.debug_exit = true;
	c->cfg.debug_exit_port = (u16)base;
	c->cfg.debug_exit_size = (u8)size;
	return 0;
}

/* -chardev stdio|file|null,id=ID[,path=FILE]: only as a debugcon backend. */
static int opt_chardev(struct cli *c, const char *opt, const char *arg)
{
	char buf[1100], *item, *save = NULL;
	struct cli_chardev *cd = &c->chardev[c->nchardev];
	bool file = !strncmp(arg, "file,", 5);

	if (strlen(arg) >= sizeof(buf) || c->nchardev == CLI_MAX_CHARDEVS)
		return bad(opt, arg, "bad value");
	if (!file && strncmp(arg, "null,", 5) && strncmp(arg, "stdio,", 6))
		return bad(opt, arg, "unsupported backend (stdio, file, null)");
	strcpy(buf, arg);
	memset(cd, 0, sizeof(*cd));
	if (!strncmp(arg, "null,", 5))
		strcpy(cd->path, "/dev/null");
	strtok_r(buf, ",", &save); /* the backend */
	for (item = strtok_r(NULL, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!strncmp(item, "id=", 3) && strlen(item + 3) < sizeof(cd->id))
			strcpy(cd->id, item + 3);
		else if (file && !strncmp(item, "path=", 5) && item[5] &&
			 strlen(item + 5) < sizeof(cd->path))
			strcpy(cd->path, item + 5);
		else
			return bad(opt, arg, "bad property (id=, and path= for file)");
	}
	if (!cd->id[0] || (file && !cd->path[0]))
		return bad(opt, arg, file ? "needs id= and path=" : "needs id=");
	c->nchardev++;
	return 0;
}

/* -debugcon stdio|file:PATH|null|none: isa-debugcon at port 0xe9. */
static int opt_debugcon(struct cli *c, const char *opt, const char *arg)
{
	c->cfg.debugcon = true;
	c->cfg.debugcon_file = NULL;
	if (!strncmp(arg, "file:", 5) && arg[5])
		c->cfg.debugcon_file = arg + 5;
	else if (!strcmp(arg, "null"))
		c->cfg.debugcon_file = "/dev/null";
	else if (!strcmp(arg, "none"))
		c->cfg.debugcon = false;
	else if (strcmp(arg, "stdio"))
		return bad(opt, arg, "use stdio, file:PATH, null or none");
	return 0;
}

/* isa-debugcon properties: chardev=ID (required), iobase= (default 0xe9). */
static int debugcon_props(struct cli *c, const char *opt, const char *arg, char *props)
{
	char *item, *save = NULL;
	u64 base = 0xe9;

	c->debugcon_chardev[0] = '\0';
	for (item = strtok_r(props, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (!strncmp(item, "chardev=", 8) && strlen(item + 8) < sizeof(c->debugcon_chardev))
			strcpy(c->debugcon_chardev, item + 8);
		else if (!strncmp(item, "iobase=", 7) && parse_u64(item + 7, &base) && base < 0x10000)
			continue;
		else
			return bad(opt, arg, "bad isa-debugcon property (chardev=ID, iobase=N)");
	}
	if (!c->debugcon_chardev[0])
		return bad(opt, arg, "isa-debugcon needs chardev=ID");
	c->cfg.debugcon = true;
	c->cfg.debugcon_port = (u16)base;
	return 0;
}

/* Point -device isa-debugcon at its -chardev (which may come later). */
static int resolve_debugcon(struct cli *c)
{
	if (!c->debugcon_chardev[0])
		return 0;
	for (int i = 0; i < c->nchardev; i++) {
		if (!strcmp(c->chardev[i].id, c->debugcon_chardev)) {
			c->cfg.debugcon_file = c->chardev[i].path[0] ? c->chardev[i].path : NULL;
			return 0;
		}
	}
	return bad("-device isa-debugcon", c->debugcon_chardev, "no -chardev with this id");
}

static int opt_device(struct cli *c, const char *opt, const char *arg)
{
	char buf[256], *props;
	size_t n = strcspn(arg, ",");

	if (strlen(arg) >= sizeof(buf))
		return bad(opt, arg, "bad value");
	strcpy(buf, arg);
	props = arg[n] ? buf + n + 1 : buf + n;
	buf[n] = '\0';
	if (!strcmp(buf, "isa-debug-exit"))
		return debug_exit_props(c, opt, arg, props);
	if (!strcmp(buf, "isa-debugcon"))
		return debugcon_props(c, opt, arg, props);
	if (!strcmp(buf, "pc-testdev") || !strcmp(buf, "pci-testdev"))
		return 0; /* accepted for kvm-unit-tests' runner; not emulated */
	return bad(opt, arg, "unsupported device (isa-debug-exit and isa-debugcon are the ones there are)");
}

static int set_accel(struct cli *c, const char *opt, const char *arg, const char *name)
{
	if (!strcmp(name, "emu") || !strcmp(name, "tcg"))
		c->cfg.accel = "emu";
	else if (!strcmp(name, "kvm"))
		c->cfg.accel = "kvm";
	else
		return bad(opt, arg, "unknown accelerator (use emu or kvm)");
	return 0;
}

/* -machine [pc|q35][,type=..][,accel=..]: only the accelerator matters. */
static int opt_machine(struct cli *c, const char *opt, const char *arg)
{
	char buf[256], *item, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return bad(opt, arg, "bad value");
	strcpy(buf, arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *type = !strncmp(item, "type=", 5) ? item + 5 : item;
		if (!strncmp(item, "accel=", 6)) {
			if (set_accel(c, opt, arg, item + 6))
				return -1;
		} else if (strcmp(type, "pc") && strcmp(type, "q35")) {
			return bad(opt, arg, "unsupported machine or property (use accel=emu|kvm)");
		}
	}
	return 0;
}

/* One property of -accel emu: jit=on|off, jit-threshold=1..255. */
static int accel_prop(struct cli *c, const char *opt, const char *arg, const char *prop)
{
	char *end;
	if (!strcmp(prop, "jit=off") || !strcmp(prop, "jit=on")) {
		c->cfg.no_jit = !strcmp(prop, "jit=off");
		return 0;
	}
	if (!strncmp(prop, "jit-threshold=", 14)) {
		unsigned long n = strtoul(prop + 14, &end, 10);
		if (prop[14] < '0' || prop[14] > '9' || *end || n < 1 || n > 255)
			return bad(opt, arg, "jit-threshold must be 1 to 255");
		c->cfg.jit_threshold = (u8)n;
		return 0;
	}
	return bad(opt, arg, "unsupported property (use jit=on|off or jit-threshold=N)");
}

/* -accel NAME[,PROP...] */
static int opt_accel(struct cli *c, const char *opt, const char *arg)
{
	char name[16];
	const char *props = strchr(arg, ',');
	size_t len = props ? (size_t)(props - arg) : strlen(arg);
	if (len >= sizeof(name))
		return bad(opt, arg, "unknown accelerator (use emu or kvm)");
	memcpy(name, arg, len);
	name[len] = 0;
	if (set_accel(c, opt, arg, name))
		return -1;
	if (!props)
		return 0;
	if (strcmp(c->cfg.accel, "emu"))
		return bad(opt, arg, "kvm has no properties");
	char buf[64], *item, *save = NULL;
	if (strlen(props + 1) >= sizeof(buf))
		return bad(opt, arg, "bad value");
	strcpy(buf, props + 1);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (accel_prop(c, opt, arg, item))
			return -1;
	return 0;
}

static int opt_enable_kvm(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	c->cfg.accel = "kvm";
	return 0;
}

static int opt_no_reboot(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	c->cfg.no_reboot = true;
	return 0;
}

static int opt_loadvm(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	c->cfg.loadvm = arg;
	return 0;
}

/* -monitor and -qmp: the endpoint is checked when the machine opens it. */
static int opt_monitor(struct cli *c, const char *opt, const char *arg)
{
	bool qmp = strstr(opt, "qmp") != NULL;
	if (!strcmp(arg, "none")) {
		arg = NULL;
	} else if (qmp && !strncmp(arg, "stdio", 5)) {
		return bad(opt, arg, "QMP on stdio is not supported; use unix:PATH,server=on,wait=off");
	}
	if (qmp)
		c->cfg.qmp = arg;
	else
		c->cfg.monitor = arg;
	return 0;
}

static int opt_start_paused(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	c->cfg.start_paused = true;
	return 0;
}

/* -display, -vnc, -parallel: there is nothing but "none". */
static int opt_none_only(struct cli *c, const char *opt, const char *arg)
{
	(void)c;
	return strcmp(arg, "none") ? bad(opt, arg, "only 'none' is supported") : 0;
}

static int opt_ignore(struct cli *c, const char *opt, const char *arg)
{
	(void)c;
	(void)opt;
	(void)arg;
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} trace_events[] = {
	{ "cet", TRACE_CET },
	{ "exc", TRACE_EXC },
	{ "unimpl", TRACE_UNIMPL },
};

static int opt_trace(struct cli *c, const char *opt, const char *arg)
{
	char buf[256], *item, *save = NULL;

	if (!strcmp(arg, "help")) {
		c->action = CLI_TRACE_HELP;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf))
		return bad(opt, arg, "bad value");
	strcpy(buf, arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < ARRAY_SIZE(trace_events) && strcmp(item, trace_events[i].name))
			i++;
		if (i == ARRAY_SIZE(trace_events))
			return bad(opt, arg, "unknown trace event (cet, exc, unimpl)");
		c->cfg.trace |= trace_events[i].bit;
	}
	return 0;
}

static int opt_stats(struct cli *c, const char *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	c->cfg.stats = true;
	return 0;
}

static int opt_icount_limit(struct cli *c, const char *opt, const char *arg)
{
	u64 n;
	if (!parse_u64(arg, &n) || n == 0)
		return bad(opt, arg, "expects a positive instruction count");
	c->cfg.max_insns = n;
	return 0;
}

static int opt_action(struct cli *c, const char *opt, const char *arg)
{
	(void)arg;
	c->action = strstr(opt, "version") ? CLI_VERSION : CLI_HELP;
	return 0;
}

static const struct cli_option options[] = {
	{ "kernel", true, opt_kernel },
	{ "initrd", true, opt_initrd },
	{ "append", true, opt_append },
	{ "m", true, opt_m },
	{ "smp", true, opt_smp },
	{ "cpu", true, opt_cpu },
	{ "serial", true, opt_serial },
	{ "device", true, opt_device },
	{ "chardev", true, opt_chardev },
	{ "debugcon", true, opt_debugcon },
	{ "machine", true, opt_machine },
	{ "M", true, opt_machine },
	{ "accel", true, opt_accel },
	{ "enable-kvm", false, opt_enable_kvm },
	{ "no-reboot", false, opt_no_reboot },
	{ "display", true, opt_none_only },
	{ "vnc", true, opt_none_only },
	{ "monitor", true, opt_monitor },
	{ "qmp", true, opt_monitor },
	{ "loadvm", true, opt_loadvm },
	{ "S", false, opt_start_paused },
	{ "parallel", true, opt_none_only },
	{ "nodefaults", false, opt_ignore },
	{ "nographic", false, opt_ignore },
	{ "name", true, opt_ignore },
	{ "global", true, opt_ignore },
	{ "trace", true, opt_trace },
	{ "icount-limit", true, opt_icount_limit },
	{ "stats", false, opt_stats },
	{ "h", false, opt_action },
	{ "help", false, opt_action },
	{ "version", false, opt_action },
};

static void usage(FILE *f)
{
	fputs("Usage: cetvm -kernel FILE [options]\n"
	      "       cetvm -loadvm FILE [options]\n"
	      "Run an x86-64 guest with Intel CET (shadow stacks, IBT).\n\n"
	      "  -kernel FILE        Linux bzImage, ELF64 or Multiboot v1 (ELF32, a.out kludge)\n"
	      "  -initrd FILE        initramfs (Linux), or Multiboot modules \"FILE [ARGS],...\"\n"
	      "  -append STRING      kernel command line\n"
	      "  -m SIZE             RAM: 128 (MiB), 512M, 1G, size=...; 2 MiB to 64 GiB\n"
	      "                      (default 128M)\n"
	      "  -smp 1              number of vCPUs (only 1)\n"
	      "  -cpu MODEL[,+f,-f,f=on|off...]\n"
	      "                      CPU model and features (default max; -cpu help)\n"
	      "  -serial stdio|none  COM1 on stdin/stdout (default stdio)\n"
	      "  -device isa-debug-exit[,iobase=0xf4,iosize=4]\n"
	      "                      exit with status (value << 1) | 1 on a write\n"
	      "  -debugcon stdio|file:PATH|null, or\n"
	      "  -device isa-debugcon,chardev=ID[,iobase=0xe9] -chardev stdio|file|null,id=ID[,path=PATH]\n"
	      "                      port 0xe9 console (bytes written go to the chardev)\n"
	      "  -machine accel=emu|kvm, -accel emu|kvm, -enable-kvm\n"
	      "                      accelerator: cetvm's CPU (default) or /dev/kvm\n"
	      "  -accel emu[,jit=on|off][,jit-threshold=N]\n"
	      "                      cetvm's CPU with or without native code for 64-bit\n"
	      "                      blocks, made after N runs of a block (1..255, default 8)\n"
	      "  -no-reboot          exit (status 2) on a guest triple fault\n"
	      "  -trace cet|exc|unimpl[,...]\n"
	      "                      log #CP evidence, exceptions, unimplemented features\n"
	      "  -icount-limit N     stop after N guest instructions (for tests)\n"
	      "  -stats              at exit, print guest instructions, time and MIPS\n"
	      "  -monitor unix:PATH,server=on,wait=off | stdio\n"
	      "                      human monitor: stop, cont, savevm FILE, info registers, quit\n"
	      "  -qmp unix:PATH,server=on,wait=off\n"
	      "                      the same as QMP (JSON) commands\n"
	      "  -loadvm FILE        resume a snapshot written by savevm (instead of -kernel)\n"
	      "  -S                  start paused; the monitor's cont starts the guest\n"
	      "  -version, -help\n\n"
	      "Accepted and ignored: -nodefaults -nographic -display none -vnc none\n"
	      "  -parallel none -name X -global X -device pc-testdev\n"
	      "  -device pci-testdev. Options may also be spelled --option.\n\n"
	      "Exit status: 0 guest powered off, 1 error, 2 triple fault with -no-reboot,\n"
	      "  3 accelerator failure, (v << 1) | 1 from isa-debug-exit.\n",
	      f);
}

static const struct cli_option *find_option(const char *arg)
{
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (!strcmp(name, options[i].name))
			return &options[i];
	return NULL;
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_option *o;
		if (a[0] != '-' || a[1] == '\0') {
			log_error("%s: unexpected argument (the kernel is given with -kernel)", a);
			return -1;
		}
		o = find_option(a);
		if (!o) {
			log_error("%s: unknown option", a);
			return -1;
		}
		if (o->has_arg && i + 1 >= argc) {
			log_error("%s: missing argument", a);
			return -1;
		}
		if (o->fn(c, a, o->has_arg ? argv[++i] : NULL))
			return -1;
	}
	return resolve_debugcon(c);
}

/* Report a missing or unreadable file now, before a machine is built. */
static int check_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	e = fstat(fd, &st) < 0 ? errno : 0;
	close(fd);
	if (e || !S_ISREG(st.st_mode)) {
		log_error("%s: %s", path,
			  e ? strerror(e) : S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
		return -1;
	}
	return 0;
}

/* The snapshot fixes the guest, its CPU and its RAM. */
static int check_loadvm(const struct vm_config *cfg)
{
	const char *clash = cfg->kernel ? "-kernel" : cfg->initrd ? "-initrd"
			    : cfg->append[0]		   ? "-append"
			    : strcmp(cfg->cpu, "max")	   ? "-cpu"
							   : NULL;
	if (clash) {
		log_error("-loadvm %s: %s cannot be combined with it (the snapshot holds the guest "
			  "and its CPU)",
			  cfg->loadvm, clash);
		return -1;
	}
	if (access(cfg->loadvm, R_OK)) {
		log_error("-loadvm %s: %s", cfg->loadvm, strerror(errno));
		return -1;
	}
	return 0;
}

static void trace_help(void)
{
	puts("Trace events:\n"
	     "  cet     every #CP with its evidence\n"
	     "  exc     every exception delivered\n"
	     "  unimpl  unimplemented instructions and features");
}

int main(int argc, char **argv)
{
	struct cli c = { .cfg = { .append = "", .ram_size = RAM_DEFAULT, .smp = 1, .cpu = "max",
				  .accel = "emu", .serial_stdio = true } };

	if (parse_args(&c, argc, argv))
		return VM_EXIT_ERROR;
	switch (c.action) {
	case CLI_HELP:
		usage(stdout);
		return VM_EXIT_OK;
	case CLI_VERSION:
		printf("cetvm version %s\n", CETVM_VERSION);
		return VM_EXIT_OK;
	case CLI_CPU_HELP:
		cpumodel_help(stdout);
		return VM_EXIT_OK;
	case CLI_TRACE_HELP:
		trace_help();
		return VM_EXIT_OK;
	case CLI_RUN:
		break;
	}
	if (c.cfg.loadvm)
		return check_loadvm(&c.cfg) ? VM_EXIT_ERROR : vm_run(&c.cfg);
	if (!c.cfg.kernel) {
		log_error("no kernel given; use -kernel FILE (see -help)");
		return VM_EXIT_ERROR;
	}
	/* The -initrd files are the loader's to check: for Multiboot it is a
	 * list of modules with arguments. */
	if (check_file(c.cfg.kernel))
		return VM_EXIT_ERROR;
	return vm_run(&c.cfg);
}
