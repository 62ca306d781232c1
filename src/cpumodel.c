/* cpumodel.c: -cpu models and named CPUID features; builds the guest CPUID table. */
#include "cpumodel.h"

#include <stdarg.h>
#include <string.h>

enum cpuid_reg { R_EAX, R_EBX, R_ECX, R_EDX };

#define F_NOSET 1 /* mirrors a CR4 bit: computed by the CPU, never in the table */

struct cpu_feature {
	const char *name;
	u32 leaf, subleaf;
	u8 reg, bit, flags;
};

/* Names as QEMU spells them (target/i386 feature words); SDM Vol. 2A CPUID. */
static const struct cpu_feature features[] = {
	{ "fpu", 1, 0, R_EDX, 0, 0 },		 { "vme", 1, 0, R_EDX, 1, 0 },
	{ "de", 1, 0, R_EDX, 2, 0 },		 { "pse", 1, 0, R_EDX, 3, 0 },
	{ "tsc", 1, 0, R_EDX, 4, 0 },		 { "msr", 1, 0, R_EDX, 5, 0 },
	{ "pae", 1, 0, R_EDX, 6, 0 },		 { "mce", 1, 0, R_EDX, 7, 0 },
	{ "cx8", 1, 0, R_EDX, 8, 0 },		 { "apic", 1, 0, R_EDX, 9, 0 },
	{ "sep", 1, 0, R_EDX, 11, 0 },		 { "mtrr", 1, 0, R_EDX, 12, 0 },
	{ "pge", 1, 0, R_EDX, 13, 0 },		 { "mca", 1, 0, R_EDX, 14, 0 },
	{ "cmov", 1, 0, R_EDX, 15, 0 },		 { "pat", 1, 0, R_EDX, 16, 0 },
	{ "pse36", 1, 0, R_EDX, 17, 0 },	 { "clflush", 1, 0, R_EDX, 19, 0 },
	{ "mmx", 1, 0, R_EDX, 23, 0 },		 { "fxsr", 1, 0, R_EDX, 24, 0 },
	{ "sse", 1, 0, R_EDX, 25, 0 },		 { "sse2", 1, 0, R_EDX, 26, 0 },
	{ "ss", 1, 0, R_EDX, 27, 0 },		 { "ht", 1, 0, R_EDX, 28, 0 },
	{ "pni", 1, 0, R_ECX, 0, 0 },		 { "pclmulqdq", 1, 0, R_ECX, 1, 0 },
	{ "vmx", 1, 0, R_ECX, 5, 0 },		 { "ssse3", 1, 0, R_ECX, 9, 0 },
	{ "fma", 1, 0, R_ECX, 12, 0 },		 { "cx16", 1, 0, R_ECX, 13, 0 },
	{ "pcid", 1, 0, R_ECX, 17, 0 },		 { "sse4.1", 1, 0, R_ECX, 19, 0 },
	{ "sse4.2", 1, 0, R_ECX, 20, 0 },	 { "x2apic", 1, 0, R_ECX, 21, 0 },
	{ "movbe", 1, 0, R_ECX, 22, 0 },	 { "popcnt", 1, 0, R_ECX, 23, 0 },
	{ "tsc-deadline", 1, 0, R_ECX, 24, 0 }, { "aes", 1, 0, R_ECX, 25, 0 },
	{ "xsave", 1, 0, R_ECX, 26, 0 },	 { "osxsave", 1, 0, R_ECX, 27, F_NOSET },
	{ "avx", 1, 0, R_ECX, 28, 0 },		 { "f16c", 1, 0, R_ECX, 29, 0 },
	{ "rdrand", 1, 0, R_ECX, 30, 0 },	 { "hypervisor", 1, 0, R_ECX, 31, 0 },
	{ "fsgsbase", 7, 0, R_EBX, 0, 0 },	 { "bmi1", 7, 0, R_EBX, 3, 0 },
	{ "avx2", 7, 0, R_EBX, 5, 0 },		 { "smep", 7, 0, R_EBX, 7, 0 },
	{ "bmi2", 7, 0, R_EBX, 8, 0 },		 { "erms", 7, 0, R_EBX, 9, 0 },
	{ "invpcid", 7, 0, R_EBX, 10, 0 },	 { "rdseed", 7, 0, R_EBX, 18, 0 },
	{ "adx", 7, 0, R_EBX, 19, 0 },		 { "smap", 7, 0, R_EBX, 20, 0 },
	{ "clflushopt", 7, 0, R_EBX, 23, 0 },	 { "clwb", 7, 0, R_EBX, 24, 0 },
	{ "sha-ni", 7, 0, R_EBX, 29, 0 },	 { "umip", 7, 0, R_ECX, 2, 0 },
	{ "pku", 7, 0, R_ECX, 3, 0 },		 { "ospke", 7, 0, R_ECX, 4, F_NOSET },
	{ "shstk", 7, 0, R_ECX, 7, 0 },		 { "la57", 7, 0, R_ECX, 16, 0 },
	{ "rdpid", 7, 0, R_ECX, 22, 0 },	 { "ibt", 7, 0, R_EDX, 20, 0 },
	{ "spec-ctrl", 7, 0, R_EDX, 26, 0 },	 { "stibp", 7, 0, R_EDX, 27, 0 },
	{ "arch-capabilities", 7, 0, R_EDX, 29, 0 }, { "ssbd", 7, 0, R_EDX, 31, 0 },
	{ "sss", 7, 1, R_EDX, 18, 0 },		 { "xsaveopt", 0xd, 1, R_EAX, 0, 0 },
	{ "xsavec", 0xd, 1, R_EAX, 1, 0 },	 { "xgetbv1", 0xd, 1, R_EAX, 2, 0 },
	{ "xsaves", 0xd, 1, R_EAX, 3, 0 },	 { "lahf-lm", 0x80000001, 0, R_ECX, 0, 0 },
	{ "abm", 0x80000001, 0, R_ECX, 5, 0 },	 { "3dnowprefetch", 0x80000001, 0, R_ECX, 8, 0 },
	{ "syscall", 0x80000001, 0, R_EDX, 11, 0 }, { "nx", 0x80000001, 0, R_EDX, 20, 0 },
	{ "pdpe1gb", 0x80000001, 0, R_EDX, 26, 0 }, { "rdtscp", 0x80000001, 0, R_EDX, 27, 0 },
	{ "lm", 0x80000001, 0, R_EDX, 29, 0 },
};
#define NFEAT ((int)ARRAY_SIZE(features))

/* Other spellings QEMU accepts ('_' vs '-' is handled by name_eq). */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "sse3", "pni" },	 { "lzcnt", "abm" },	       { "sse4-1", "sse4.1" },
	{ "sse4-2", "sse4.2" }, { "pclmuldq", "pclmulqdq" }, { "sha", "sha-ni" },
};

/* Registers that hold only feature flags: the `base` model clears them. */
static const struct {
	u32 leaf, subleaf;
	u8 reg;
} feature_regs[] = {
	{ 1, 0, R_ECX },   { 1, 0, R_EDX },	    { 7, 0, R_EBX },	      { 7, 0, R_ECX },
	{ 7, 0, R_EDX },   { 7, 1, R_EAX },	    { 7, 1, R_EDX },	      { 0xd, 1, R_EAX },
	{ 0x80000001, 0, R_ECX }, { 0x80000001, 0, R_EDX },
};

static const char *const base_features[] = {
	"fpu",	 "de",	    "pse",  "tsc",  "msr",     "pae", "mce", "cx8",  "apic",
	"sep",	 "mtrr",    "pge",  "mca",  "cmov",    "pat", "pse36", "clflush", "mmx",
	"fxsr",	 "sse",	    "sse2", "pni",  "cx16",    "syscall", "nx", "lm", "lahf-lm",
};

/* `feature` needs `needs` (spec/cet.md §1.1 for the CET ones). */
static const struct {
	const char *feature, *needs;
} deps[] = {
	{ "xsaveopt", "xsave" }, { "xsavec", "xsave" }, { "xgetbv1", "xsave" },
	{ "xsaves", "xsave" },	 { "avx", "xsave" },	{ "avx2", "avx" },
	{ "fma", "avx" },	 { "f16c", "avx" },	{ "shstk", "xsaves" },
	{ "ibt", "xsaves" },	 { "sss", "shstk" },
};

#define XSS_CET_U (1u << 11)
#define XSS_CET_S (1u << 12)
#define XSS_CET (XSS_CET_U | XSS_CET_S)

enum model { MODEL_MAX, MODEL_BASE };

struct request {
	enum model model;
	s8 want[ARRAY_SIZE(features)]; /* 0 untouched, 1 on, -1 off */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Does name[0..len) spell `ref`, with '_' and '-' equal? */
static bool name_eq(const char *name, size_t len, const char *ref)
{
	size_t i = 0;
	for (; i < len && ref[i]; i++) {
		char a = name[i] == '_' ? '-' : name[i], b = ref[i] == '_' ? '-' : ref[i];
		if (a != b)
			return false;
	}
	return i == len && ref[i] == '\0';
}

static int feature_index(const char *name, size_t len)
{
	for (size_t a = 0; a < ARRAY_SIZE(aliases); a++)
		if (name_eq(name, len, aliases[a].alias))
			return feature_index(aliases[a].name, strlen(aliases[a].name));
	for (int i = 0; i < NFEAT; i++)
		if (name_eq(name, len, features[i].name))
			return i;
	return -1;
}

static int feature_named(const char *name)
{
	return feature_index(name, strlen(name));
}

/* The entry for (leaf, subleaf), or -1. */
static int cpuid_find(const struct vcpu_cpuid *c, u32 leaf, u32 subleaf)
{
	for (int i = 0; i < c->n && i < VCPU_MAX_CPUID; i++) {
		const struct vcpu_cpuid_entry *e = &c->e[i];
		if (e->function == leaf &&
		    (!(e->flags & VCPU_CPUID_SIGNIFICANT_INDEX) || e->index == subleaf))
			return i;
	}
	return -1;
}

static u32 *reg_of(struct vcpu_cpuid_entry *e, u8 reg)
{
	switch (reg) {
	case R_EAX:
		return &e->eax;
	case R_EBX:
		return &e->ebx;
	case R_ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

static u32 *cpuid_reg(struct vcpu_cpuid *c, u32 leaf, u32 subleaf, u8 reg)
{
	int i = cpuid_find(c, leaf, subleaf);
	return i < 0 ? NULL : reg_of(&c->e[i], reg);
}

static bool has(const struct vcpu_cpuid *c, int f)
{
	const struct cpu_feature *ft = &features[f];
	int i = cpuid_find(c, ft->leaf, ft->subleaf);
	struct vcpu_cpuid_entry e;
	if (i < 0)
		return false;
	e = c->e[i];
	return *reg_of(&e, ft->reg) >> ft->bit & 1;
}

/* Set or clear feature f; a leaf the table lacks stays absent. */
static void put(struct vcpu_cpuid *c, int f, bool on)
{
	const struct cpu_feature *ft = &features[f];
	u32 *r = cpuid_reg(c, ft->leaf, ft->subleaf, ft->reg);
	if (r)
		*r = on ? *r | 1u << ft->bit : *r & ~(1u << ft->bit);
}

static void cpuid_remove(struct vcpu_cpuid *c, u32 leaf, u32 subleaf)
{
	int i = cpuid_find(c, leaf, subleaf);
	if (i < 0)
		return;
	memmove(&c->e[i], &c->e[i + 1], (size_t)(c->n - i - 1) * sizeof(c->e[0]));
	c->n--;
}

static int parse_item(const char *item, struct request *rq, char *err, size_t errlen)
{
	const char *name = item, *eq = strchr(item, '=');
	size_t len;
	bool on = true;
	int f;

	if (item[0] == '+' || item[0] == '-') {
		on = item[0] == '+';
		name = item + 1;
		eq = NULL;
	}
	len = eq ? (size_t)(eq - name) : strlen(name);
	if (eq && strcmp(eq + 1, "on") != 0 && strcmp(eq + 1, "off") != 0)
		return fail(err, errlen, "-cpu: bad value '%s' for '%.*s' (use on or off)", eq + 1,
			    (int)len, name);
	on = eq ? strcmp(eq + 1, "on") == 0 : on;
	if (len == 0)
		return fail(err, errlen, "-cpu: empty feature name in '%s'", item);
	f = feature_index(name, len);
	if (f < 0)
		return fail(err, errlen, "-cpu: unknown CPU feature '%.*s' (see -cpu help)",
			    (int)len, name);
	if (features[f].flags & F_NOSET)
		return fail(err, errlen, "-cpu: feature '%s' cannot be set (it mirrors CR4)",
			    features[f].name);
	rq->want[f] = on ? 1 : -1;
	return 0;
}

static int parse_model(const char *name, struct request *rq, char *err, size_t errlen)
{
	if (!strcmp(name, "max") || !strcmp(name, "host"))
		rq->model = MODEL_MAX;
	else if (!strcmp(name, "base") || !strcmp(name, "qemu64"))
		rq->model = MODEL_BASE;
	else if (name[0] == '\0')
		return fail(err, errlen, "-cpu: missing CPU model (see -cpu help)");
	else
		return fail(err, errlen, "-cpu: unknown CPU model '%s' (see -cpu help)", name);
	return 0;
}

static int parse_spec(const char *spec, struct request *rq, char *err, size_t errlen)
{
	char buf[1024], *item, *comma;

	memset(rq, 0, sizeof(*rq));
	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "-cpu: option string too long");
	strcpy(buf, spec);
	comma = strchr(buf, ',');
	if (comma)
		*comma = '\0';
	if (parse_model(buf, rq, err, errlen))
		return -1;
	for (item = comma ? comma + 1 : NULL; item; item = comma ? comma + 1 : NULL) {
		comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		if (*item == '\0')
			return fail(err, errlen, "-cpu: empty item in '%s'", spec);
		if (parse_item(item, rq, err, errlen))
			return -1;
	}
	return 0;
}

/* What the accelerator can give, after the spec §1.1 gating of CET. */
static void available(const struct vcpu_cpuid *sup, struct vcpu_cpuid *avail)
{
	u32 *xss;
	*avail = *sup;
	if (avail->n > VCPU_MAX_CPUID)
		avail->n = VCPU_MAX_CPUID;
	xss = cpuid_reg(avail, 0xd, 1, R_ECX);
	if (!has(avail, feature_named("xsaves")) || !xss || (*xss & XSS_CET) != XSS_CET) {
		put(avail, feature_named("shstk"), false);
		put(avail, feature_named("ibt"), false);
		if (xss)
			*xss &= ~XSS_CET;
	}
	for (int f = 0; f < NFEAT; f++)
		if (features[f].flags & F_NOSET)
			put(avail, f, false);
}

static const char *accel_hint(const char *accel)
{
	return accel && strcmp(accel, "emu") != 0 ? "; try -machine accel=emu" : "";
}

static int unsupported(int f, const char *accel, char *err, size_t errlen)
{
	return fail(err, errlen, "-cpu: feature '%s' is not supported by %s%s%s",
		    features[f].name, accel ? "accelerator " : "the accelerator",
		    accel ? accel : "", accel_hint(accel));
}

/* The base features the accelerator has, except those the spec removes
 * by name. As QEMU does for a named model, a feature the accelerator
 * lacks is left out (it is an error only when asked for with +feat). */
static void apply_base(const struct request *rq, const struct vcpu_cpuid *avail,
		       struct vcpu_cpuid *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(feature_regs); i++) {
		u32 *r = cpuid_reg(out, feature_regs[i].leaf, feature_regs[i].subleaf,
				   feature_regs[i].reg);
		if (r)
			*r = 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(base_features); i++) {
		int f = feature_named(base_features[i]);
		if (rq->want[f] >= 0 && has(avail, f))
			put(out, f, true);
	}
}

static int apply_items(const struct request *rq, const struct vcpu_cpuid *avail,
		       struct vcpu_cpuid *out, const char *accel, char *err, size_t errlen)
{
	for (int f = 0; f < NFEAT; f++) {
		if (rq->want[f] > 0 && !has(avail, f))
			return unsupported(f, accel, err, errlen);
		if (rq->want[f])
			put(out, f, rq->want[f] > 0);
	}
	return 0;
}

/* Drop features whose requirement is off; an error if asked for by name.
 * Repeats until stable so chains (sss -> shstk -> xsaves -> xsave) work. */
static int apply_deps(const struct request *rq, struct vcpu_cpuid *out, char *err, size_t errlen)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < ARRAY_SIZE(deps); i++) {
			int f = feature_named(deps[i].feature), n = feature_named(deps[i].needs);
			if (!has(out, f) || has(out, n))
				continue;
			if (rq->want[f] > 0)
				return fail(err, errlen, "-cpu: feature '%s' requires '%s'",
					    deps[i].feature, deps[i].needs);
			put(out, f, false);
			changed = true;
		}
	}
	return 0;
}

/* spec/cet.md §1.1/§1.2: the CET XSS bits and subleaves 11/12 exist iff
 * SHSTK or IBT does; XCR0 never offers bits 11/12. */
static void apply_cet_xsave(struct vcpu_cpuid *out)
{
	bool cet = has(out, feature_named("shstk")) || has(out, feature_named("ibt"));
	u32 *xss = cpuid_reg(out, 0xd, 1, R_ECX), *xcr0 = cpuid_reg(out, 0xd, 0, R_EAX);

	if (xcr0)
		*xcr0 &= ~XSS_CET;
	if (cet)
		return;
	if (xss)
		*xss &= ~XSS_CET;
	cpuid_remove(out, 0xd, 11);
	cpuid_remove(out, 0xd, 12);
}

int cpumodel_build(const char *spec, const struct vcpu_cpuid *supported, const char *accel_name,
		   struct vcpu_cpuid *out, char *err, size_t errlen)
{
	struct request rq;
	struct vcpu_cpuid avail;

	if (errlen)
		err[0] = '\0';
	if (parse_spec(spec, &rq, err, errlen))
		return -1;
	available(supported, &avail);
	*out = avail;
	if (rq.model == MODEL_BASE)
		apply_base(&rq, &avail, out);
	if (apply_items(&rq, &avail, out, accel_name, err, errlen) ||
	    apply_deps(&rq, out, err, errlen))
		return -1;
	apply_cet_xsave(out);
	return 0;
}

int cpumodel_check(const struct vcpu_cpuid *guest, const struct vcpu_cpuid *supported,
		   const char *accel_name, char *err, size_t errlen)
{
	struct vcpu_cpuid avail;
	available(supported, &avail);
	for (int f = 0; f < NFEAT; f++)
		if (!(features[f].flags & F_NOSET) && has(guest, f) && !has(&avail, f))
			return fail(err, errlen,
				    "the saved CPU has feature '%s', which %s%s does not offer here%s",
				    features[f].name, accel_name ? "accelerator " : "the accelerator",
				    accel_name ? accel_name : "", accel_hint(accel_name));
	return 0;
}

void cpumodel_help(FILE *f)
{
	int col = 0;
	fputs("Usage: -cpu MODEL[,+feat][,-feat][,feat=on|off]...\n\n"
	      "Available CPU models:\n"
	      "  max       everything the accelerator supports, incl. CET (default)\n"
	      "  host      same as max\n"
	      "  base      minimal x86-64 (QEMU's qemu64 without svm, less what the\n"
	      "            accelerator lacks), no CET\n"
	      "  qemu64    same as base\n\n"
	      "Recognized CPUID flags:\n",
	      f);
	for (int i = 0; i < NFEAT; i++) {
		int len = (int)strlen(features[i].name);
		if (features[i].flags & F_NOSET)
			continue;
		if (col && col + 1 + len > 72) {
			fputc('\n', f);
			col = 0;
		}
		col += fprintf(f, "%s%s", col ? " " : "  ", features[i].name);
	}
	fputs("\nRead-only (mirror CR4): osxsave ospke\n", f);
}
