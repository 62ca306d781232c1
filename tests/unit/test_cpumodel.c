/* test_cpumodel.c: unit tests of -cpu parsing, CPU models and the CET CPUID coupling (spec/cet.md §1, §12 items 1-4).
 * Covers: 1 2 3 4 (spec/cet.md §12, at the unit level)
 */
#include <stdlib.h>
#include <string.h>

#include "accel/accel.h"
#include "cpumodel.h"
#include "unit.h"

#define SIG VCPU_CPUID_SIGNIFICANT_INDEX
#define SHSTK (1u << 7)  /* 7.0 ECX */
#define IBT (1u << 20)   /* 7.0 EDX */
#define SSS (1u << 18)   /* 7.1 EDX */
#define XSAVES (1u << 3) /* 0xD.1 EAX */
#define XSS_CET 0x1800u
#define OSXSAVE (1u << 27)
#define OSPKE (1u << 4)

static void add(struct vcpu_cpuid *c, u32 fn, u32 idx, u32 flags, u32 a, u32 b, u32 cx, u32 d)
{
	c->e[c->n++] = (struct vcpu_cpuid_entry){ fn, idx, flags, a, b, cx, d };
}

/* Roughly what the emu accelerator reports: every feature bit, CET on. */
static void emu_supported(struct vcpu_cpuid *c)
{
	memset(c, 0, sizeof(*c));
	add(c, 0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	add(c, 1, 0, 0, 0x806c1, 0x800, ~0u, ~0u);
	add(c, 7, 0, SIG, 1, ~0u, ~0u, ~0u);
	add(c, 7, 1, SIG, 0, 0, 0, SSS);
	add(c, 0xd, 0, SIG, 0x7, 832, 832, 0);
	add(c, 0xd, 1, SIG, 0xf, 1128, XSS_CET, 0);
	add(c, 0xd, 2, SIG, 256, 576, 0, 0);
	add(c, 0xd, 11, SIG, 16, 0, 1, 0);
	add(c, 0xd, 12, SIG, 24, 0, 1, 0);
	add(c, 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	add(c, 0x80000001, 0, 0, 0, 0, ~0u, ~0u);
}

/* A host KVM without CET: no SHSTK/IBT/SSS, no CET XSS bits or subleaves. */
static void kvm_supported(struct vcpu_cpuid *c)
{
	emu_supported(c);
	c->e[2].ecx &= ~SHSTK;
	c->e[2].edx &= ~IBT;
	c->e[3].edx = 0;
	c->e[5].ecx = 0;
	c->n -= 2; /* drop 0xD.11, 0xD.12 by moving the last two up */
	c->e[7] = c->e[9];
	c->e[8] = c->e[10];
}

static const struct vcpu_cpuid_entry *find(const struct vcpu_cpuid *c, u32 fn, u32 idx)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].function == fn && (!(c->e[i].flags & SIG) || c->e[i].index == idx))
			return &c->e[i];
	return NULL;
}

static u32 reg(const struct vcpu_cpuid *c, u32 fn, u32 idx, char r)
{
	const struct vcpu_cpuid_entry *e = find(c, fn, idx);
	if (!e)
		return 0xdeadbeef;
	return r == 'a' ? e->eax : r == 'b' ? e->ebx : r == 'c' ? e->ecx : e->edx;
}

static bool same(const struct vcpu_cpuid *a, const struct vcpu_cpuid *b)
{
	return a->n == b->n && memcmp(a->e, b->e, (size_t)a->n * sizeof(a->e[0])) == 0;
}

static int build(const char *spec, const struct vcpu_cpuid *sup, const char *accel,
		 struct vcpu_cpuid *out, char *err)
{
	memset(out, 0x5a, sizeof(*out));
	return cpumodel_build(spec, sup, accel, out, err, 256);
}

static bool has_shstk(const struct vcpu_cpuid *c)
{
	return reg(c, 7, 0, 'c') & SHSTK;
}

static bool has_ibt(const struct vcpu_cpuid *c)
{
	return reg(c, 7, 0, 'd') & IBT;
}

static bool has_sss(const struct vcpu_cpuid *c)
{
	return reg(c, 7, 1, 'd') & SSS;
}

static void test_max(const struct vcpu_cpuid *sup)
{
	struct vcpu_cpuid max, o, want;
	const struct vcpu_cpuid_entry *e;
	char err[256];

	report(build("max", sup, "emu", &max, err) == 0, "max builds (%s)", err);
	report(has_shstk(&max) && has_ibt(&max) && has_sss(&max), "max: shstk, ibt, sss (item 2)");
	report(reg(&max, 0xd, 1, 'c') == XSS_CET && reg(&max, 0xd, 1, 'd') == 0,
	       "max: (0xD,1) ECX=0x1800 EDX=0 (item 3)");
	report(!(reg(&max, 0xd, 0, 'a') & XSS_CET), "max: (0xD,0).EAX without bits 11/12 (item 3)");
	e = find(&max, 0xd, 11);
	report(e && e->eax == 16 && e->ebx == 0 && e->ecx == 1 && e->edx == 0,
	       "max: (0xD,11) = {16,0,1,0} (item 4)");
	e = find(&max, 0xd, 12);
	report(e && e->eax == 24 && e->ebx == 0 && e->ecx == 1 && e->edx == 0,
	       "max: (0xD,12) = {24,0,1,0} (item 4)");
	report(!(reg(&max, 1, 0, 'c') & OSXSAVE) && !(reg(&max, 7, 0, 'c') & OSPKE),
	       "max: osxsave and ospke never set");
	want = *sup;
	want.e[1].ecx &= ~OSXSAVE;
	want.e[2].ecx &= ~OSPKE;
	report(same(&max, &want), "max: the supported table otherwise unchanged");
	report(build("host", sup, "emu", &o, err) == 0 && same(&o, &max), "host = max");

	want = max;
	want.e[3].edx &= ~SSS;
	report(build("max,-sss", sup, "emu", &o, err) == 0 && !has_sss(&o) && same(&o, &want),
	       "max,-sss: only SSS changes (item 2)");
	report(build("max,sss=off", sup, "emu", &o, err) == 0 && same(&o, &want), "sss=off");
	report(build("max,-sss,+sss", sup, "emu", &o, err) == 0 && same(&o, &max),
	       "the last item on a feature wins");
	report(build("max,+shstk,ibt=on,sss", sup, "emu", &o, err) == 0 && same(&o, &max),
	       "+feat, feat=on and a bare feat all mean on");
}

static void test_cet_coupling(const struct vcpu_cpuid *sup)
{
	struct vcpu_cpuid o, o2;
	char err[256];

	report(build("max,-shstk", sup, "emu", &o, err) == 0 && !has_shstk(&o) && has_ibt(&o) &&
		       reg(&o, 0xd, 1, 'c') == XSS_CET && find(&o, 0xd, 11) && find(&o, 0xd, 12),
	       "-shstk: IBT keeps both CET XSS bits and subleaves");
	report(!has_sss(&o), "-shstk: sss (needs shstk) dropped");
	report(build("max,-ibt", sup, "emu", &o, err) == 0 && has_shstk(&o) && !has_ibt(&o) &&
		       reg(&o, 0xd, 1, 'c') == XSS_CET && has_sss(&o),
	       "-ibt: SHSTK keeps both CET XSS bits");
	report(build("max,-shstk,-ibt", sup, "emu", &o, err) == 0 && !has_shstk(&o) &&
		       !has_ibt(&o) && reg(&o, 0xd, 1, 'c') == 0 && !find(&o, 0xd, 11) &&
		       !find(&o, 0xd, 12) && o.n == sup->n - 2,
	       "-shstk,-ibt: XSS bits 11/12 and subleaves 11/12 gone (item 1)");
	report(build("max,shstk=off,ibt=off", sup, "emu", &o2, err) == 0 && same(&o, &o2),
	       "shstk=off,ibt=off = -shstk,-ibt");
	report(build("max,-xsaves", sup, "emu", &o, err) == 0 && !has_shstk(&o) && !has_ibt(&o) &&
		       reg(&o, 0xd, 1, 'c') == 0 && reg(&o, 0xd, 1, 'a') == 0x7 &&
		       !find(&o, 0xd, 11),
	       "-xsaves removes shstk, ibt and the CET XSS bits");
	report(build("max,-xsave", sup, "emu", &o, err) == 0 && reg(&o, 0xd, 1, 'a') == 0 &&
		       !(reg(&o, 1, 0, 'c') & (1u << 28)) && !(reg(&o, 7, 0, 'b') & (1u << 5)) &&
		       !has_shstk(&o) && !has_sss(&o),
	       "-xsave removes xsaves.., avx, avx2 and CET");
	report(build("max,-xsaves,+shstk", sup, "emu", &o, err) == -1 &&
		       strstr(err, "'shstk' requires 'xsaves'"),
	       "error: +shstk with -xsaves -> '%s'", err);
	report(build("max,+sss,-shstk", sup, "emu", &o, err) == -1 &&
		       strstr(err, "'sss' requires 'shstk'"),
	       "error: +sss with -shstk -> '%s'", err);
}

static void test_base(const struct vcpu_cpuid *sup)
{
	struct vcpu_cpuid o, o2;
	char err[256];

	report(build("base", sup, "emu", &o, err) == 0, "base builds (%s)", err);
	report(reg(&o, 1, 0, 'd') == 0x078bfbfd && reg(&o, 1, 0, 'c') == 0x2001,
	       "base: leaf 1 = qemu64 (ECX 0x2001, EDX 0x078bfbfd)");
	report(reg(&o, 0x80000001, 0, 'd') == 0x20100800 && reg(&o, 0x80000001, 0, 'c') == 1,
	       "base: syscall nx lm lahf-lm");
	report(reg(&o, 7, 0, 'b') == 0 && reg(&o, 7, 0, 'c') == 0 && reg(&o, 7, 0, 'd') == 0 &&
		       reg(&o, 7, 1, 'd') == 0 && reg(&o, 0xd, 1, 'a') == 0,
	       "base: no leaf-7 features, no xsaves");
	report(reg(&o, 0xd, 1, 'c') == 0 && !find(&o, 0xd, 11) && !find(&o, 0xd, 12),
	       "base: no CET XSAVE state");
	report(reg(&o, 0, 0, 'b') == 0x756e6547 && reg(&o, 1, 0, 'a') == 0x806c1,
	       "base: vendor and family from the accelerator");
	report(build("qemu64", sup, "emu", &o2, err) == 0 && same(&o, &o2), "qemu64 = base");
	report(build("base,+xsave,+xsaves,+shstk", sup, "emu", &o, err) == 0 && has_shstk(&o) &&
		       !has_ibt(&o) && reg(&o, 0xd, 1, 'c') == XSS_CET && find(&o, 0xd, 11),
	       "base,+xsave,+xsaves,+shstk: CET XSS state back (%s)", err);
	report(build("base,+shstk", sup, "emu", &o, err) == -1 && strstr(err, "requires 'xsaves'"),
	       "error: base,+shstk -> '%s'", err);

	/* An accelerator without DE or SSE3 (as some KVM hosts): base leaves
	 * them out, as QEMU does for a named model; asked by name, an error. */
	struct vcpu_cpuid lean = *sup;
	lean.e[1].edx &= ~(1u << 2);
	lean.e[1].ecx &= ~1u;
	report(build("base", &lean, "kvm", &o, err) == 0 && reg(&o, 1, 0, 'd') == 0x078bfbf9 &&
		       reg(&o, 1, 0, 'c') == 0x2000,
	       "base without DE and SSE3 on the accelerator: left out (%s)", err);
	report(build("base,+de", &lean, "kvm", &o, err) == -1 && strstr(err, "'de' is not supported"),
	       "error: base,+de where DE is missing -> '%s'", err);
	report(build("base,-cx16", sup, "emu", &o, err) == 0 && !(reg(&o, 1, 0, 'c') & (1u << 13)),
	       "base,-cx16 removes a base feature");

	/* The interpreter's real supported CPUID. */
	struct vcpu_cpuid real;
	accel_emu.get_supported_cpuid(&real);
	report(build("base", &real, "emu", &o, err) == 0, "base builds on emu (%s)", err);
}

static void test_restricted(const struct vcpu_cpuid *emu)
{
	struct vcpu_cpuid kvm, o, odd;
	char err[256];

	kvm_supported(&kvm);
	report(build("max", &kvm, "kvm", &o, err) == 0 && !has_shstk(&o) && !has_ibt(&o) &&
		       !has_sss(&o) && reg(&o, 0xd, 1, 'c') == 0,
	       "kvm without CET: max has no CET");
	report(build("max,+shstk", &kvm, "kvm", &o, err) == -1 &&
		       strstr(err, "'shstk' is not supported by accelerator kvm; try -machine accel=emu"),
	       "error: -> '%s'", err);
	report(build("max,+sss", &kvm, "kvm", &o, err) == -1 && strstr(err, "'sss'"),
	       "error: -> '%s'", err);
	report(build("max,-shstk,-ibt", &kvm, "kvm", &o, err) == 0,
	       "removing what is not there is fine");
	report(build("max,+shstk", &kvm, NULL, &o, err) == -1 &&
		       strstr(err, "not supported by the accelerator") && !strstr(err, "try"),
	       "error without accelerator name -> '%s'", err);

	odd = *emu;
	odd.e[2].ebx &= ~1u; /* no fsgsbase */
	report(build("max,+fsgsbase", &odd, "emu", &o, err) == -1 && strstr(err, "fsgsbase") &&
		       !strstr(err, "try -machine"),
	       "error under emu has no accel hint -> '%s'", err);

	odd = *emu;
	odd.e[5].ecx = 1u << 11; /* CET_U without CET_S */
	report(build("max", &odd, "emu", &o, err) == 0 && !has_shstk(&o) && !has_ibt(&o) &&
		       reg(&o, 0xd, 1, 'c') == 0,
	       "supported XSS without both CET bits: no shstk/ibt (§1.1)");
	odd = *emu;
	odd.e[4].eax |= XSS_CET;
	report(build("max", &odd, "emu", &o, err) == 0 && reg(&o, 0xd, 0, 'a') == 0x7,
	       "(0xD,0).EAX bits 11/12 always cleared");
}

static void test_syntax(const struct vcpu_cpuid *sup)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "", "missing CPU model" },
		{ ",+shstk", "missing CPU model" },
		{ "pentium", "unknown CPU model 'pentium'" },
		{ "max,+nosuch", "unknown CPU feature 'nosuch'" },
		{ "max,nosuch=on", "unknown CPU feature 'nosuch'" },
		{ "max,-shstk=off", "unknown CPU feature 'shstk=off'" },
		{ "max,shstk=maybe", "bad value 'maybe' for 'shstk'" },
		{ "max,+osxsave", "'osxsave' cannot be set" },
		{ "max,ospke=off", "'ospke' cannot be set" },
		{ "max,,+shstk", "empty item" },
		{ "max,", "empty item" },
		{ "max,+", "empty feature name" },
		{ "max,=on", "empty feature name" },
	};
	struct vcpu_cpuid o;
	char err[256], *longspec = malloc(2000);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		report(build(bad[i].spec, sup, "emu", &o, err) == -1 && strstr(err, bad[i].msg) &&
			       !strncmp(err, "-cpu: ", 6),
		       "error: -cpu '%s' -> '%s'", bad[i].spec, err);
	memset(longspec, 'x', 1999);
	longspec[1999] = '\0';
	report(build(longspec, sup, "emu", &o, err) == -1 && strstr(err, "too long"),
	       "error: overlong -cpu string");
	free(longspec);
	report(cpumodel_build("max,+nosuch", sup, "emu", &o, err, 10) == -1 && strlen(err) == 9,
	       "error: message truncated to a small buffer");
	report(cpumodel_build("max,+nosuch", sup, "emu", &o, NULL, 0) == -1, "error: errlen 0");
}

static void test_aliases(const struct vcpu_cpuid *sup)
{
	struct vcpu_cpuid o;
	char err[256];

	report(build("max,-sse4_1,-sse4-2", sup, "emu", &o, err) == 0 &&
		       !(reg(&o, 1, 0, 'c') & (3u << 19)),
	       "sse4_1 / sse4-2 spellings");
	report(build("max,lahf_lm=off,-lzcnt", sup, "emu", &o, err) == 0 &&
		       (reg(&o, 0x80000001, 0, 'c') & 0x21) == 0,
	       "lahf_lm and lzcnt (abm)");
	report(build("max,-sse3,-tsc_deadline", sup, "emu", &o, err) == 0 &&
		       !(reg(&o, 1, 0, 'c') & 1) && !(reg(&o, 1, 0, 'c') & (1u << 24)),
	       "sse3 (pni), tsc_deadline");
	report(build("max,-sha-ni,-la57,-pdpe1gb", sup, "emu", &o, err) == 0 &&
		       !(reg(&o, 7, 0, 'b') & (1u << 29)) && !(reg(&o, 7, 0, 'c') & (1u << 16)) &&
		       !(reg(&o, 0x80000001, 0, 'd') & (1u << 26)),
	       "sha-ni, la57, pdpe1gb bits");
}

static void test_help(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		report(0, "open_memstream");
		return;
	}
	cpumodel_help(f);
	fclose(f);
	report(strstr(buf, "max") && strstr(buf, "base") && strstr(buf, " shstk") &&
		       strstr(buf, " ibt") && strstr(buf, " sss") && strstr(buf, "lahf-lm"),
	       "-cpu help lists models and features");
	free(buf);
}

int main(void)
{
	struct vcpu_cpuid sup;

	emu_supported(&sup);
	test_max(&sup);
	test_cet_coupling(&sup);
	test_base(&sup);
	test_restricted(&sup);
	test_syntax(&sup);
	test_aliases(&sup);
	test_help();
	return 0;
}
