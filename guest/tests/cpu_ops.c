/* cpu_ops: a compiled C workload checking the results of ordinary
 * instructions: integer arithmetic and flags, 128-bit multiply and divide,
 * shifts and rotates, bit scans and counts, BSWAP, string instructions with
 * DF=0/1, CMPXCHG/XADD/LOCK, SETcc/CMOVcc, and when CPUID has them BMI1,
 * BMI2, ADX, MOVBE, POPCNT, LZCNT, RDRAND, RDSEED and RDTSCP. Its output is
 * deterministic: tests/tier-oracle compares it between accelerators. */
#include "report.h"
#include "string.h"
#include "x86.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* Hide a constant from the optimizer so the CPU computes the result. */
static u64 opaque(u64 x)
{
	asm volatile("" : "+r"(x));
	return x;
}

static void test_arith(void)
{
	u64 a = opaque(0xfedcba9876543210ull), b = opaque(0x0123456789abcdefull);
	s64 n = (s64)opaque(-7), d = (s64)opaque(2);

	report(a + b == 0xffffffffffffffffull && a - b == 0xfdb97530eca86421ull, "add/sub");
	report(a * b == 0x2236d88fe5618cf0ull, "64-bit multiply low half");
	report(n / d == -3 && n % d == -1, "signed divide truncates toward zero");
	report(a / opaque(1000) == 18364758544493064ull && a % opaque(1000) == 720, "unsigned divide");
	report((s64)opaque(-1) >> 63 == -1 && (u64)opaque(-1) >> 63 == 1, "SAR vs SHR");
	report((s8)opaque(0x80) == -128 && (u16)(s8)opaque(0x80) == 0xff80 &&
		       (s64)(s32)opaque(0x80000000) == -2147483648ll,
	       "sign and zero extension");

	u128 p = (u128)a * b;
	report((u64)(p >> 64) == 0x0121fa00ad77d742ull && (u64)p == 0x2236d88fe5618cf0ull,
	       "128-bit unsigned multiply (MUL)");
	s128 q = (s128)(s64)opaque(-3) * (s64)opaque(0x7fffffffffffffffull);
	report((u64)(q >> 64) == 0xfffffffffffffffeull && (u64)q == 0x8000000000000003ull,
	       "128-bit signed multiply (IMUL)");

	u64 quot, rem;
	asm("divq %4" : "=a"(quot), "=d"(rem) : "a"(opaque(5)), "d"(opaque(3)), "r"(opaque(7)));
	report(quot == 0x6db6db6db6db6db7ull && rem == 4, "128/64-bit DIV (%#lx rem %lu)", quot, rem);
	asm("idivq %4" : "=a"(quot), "=d"(rem) : "a"(opaque(-100)), "d"(opaque(-1)), "r"(opaque(7)));
	report((s64)quot == -14 && (s64)rem == -2, "128/64-bit IDIV");

	u64 lo = opaque(~0ull), hi = opaque(1);
	u128 sum = ((u128)hi << 64 | lo) + opaque(1);
	report((u64)(sum >> 64) == 2 && (u64)sum == 0, "ADD/ADC carry chain");
}

static u64 shl_cl(u64 v, u8 c) { asm("shl %%cl, %0" : "+r"(v) : "c"(c) : "cc"); return v; }
static u32 shl32_cl(u32 v, u8 c) { asm("shl %%cl, %0" : "+r"(v) : "c"(c) : "cc"); return v; }

static void test_shifts(void)
{
	u64 v = opaque(0x8000000000000001ull);

	report(shl_cl(1, 65) == 2, "64-bit shift count masked to 6 bits");
	report(shl32_cl(1, 33) == 2, "32-bit shift count masked to 5 bits");
	report((v << 1 | v >> 63) == 3 && (v >> 1 | v << 63) == 0xc000000000000000ull, "ROL/ROR");
	u64 hi = opaque(0x1234), lo = opaque(0xabcd000000000000ull);
	asm("shld $16, %1, %0" : "+r"(hi) : "r"(lo) : "cc");
	report(hi == 0x1234abcdull, "SHLD (%#lx)", hi);

	u8 cf;
	u64 x = opaque(0x81);
	asm("shr $1, %0; setc %1" : "+r"(x), "=r"(cf) : : "cc");
	report(x == 0x40 && cf == 1, "SHR sets CF from the last bit out");
}

__attribute__((target("popcnt"))) static int popcnt_hw(u64 x)
{
	return __builtin_popcountll(x);
}

static int popcnt_sw(u64 x)
{
	int n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static void test_bits(void)
{
	u64 x = opaque(0x00f0000000000100ull);

	report(__builtin_clzll(x) == 8 && __builtin_ctzll(x) == 8, "BSR/BSF via clz/ctz");
	report(__builtin_bswap64(opaque(0x0102030405060708ull)) == 0x0807060504030201ull &&
		       __builtin_bswap32(opaque(0x11223344)) == 0x44332211,
	       "BSWAP");
	report(popcnt_sw(x) == 5, "population count in software");

	u64 bits = opaque(0x10);
	u8 old4, old5;
	asm("bts $5, %0; setc %1; btr $4, %0; setc %2" : "+r"(bits), "=r"(old5), "=r"(old4) : : "cc");
	report(bits == 0x20 && old5 == 0 && old4 == 1, "BTS/BTR old bit in CF");
}

static void test_strings(void)
{
	char buf[64], src[32];
	size_t n;

	for (int i = 0; i < 32; i++)
		src[i] = 'a' + i % 26;
	memset(buf, 0, sizeof(buf));
	void *d = buf, *s = src;
	n = 32;
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n)::"memory");
	report(!memcmp(buf, src, 32) && d == buf + 32 && n == 0, "REP MOVSB forward");

	/* DF=1: copy the overlapping range backwards, as memmove would. */
	d = buf + 40;
	s = buf + 31;
	n = 32;
	asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n)::"memory");
	report(!memcmp(buf + 9, src, 32) && d == buf + 8, "REP MOVSB backward (DF=1)");

	u64 q[4];
	d = q;
	n = 4;
	asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0x5555aaaa5555aaaaull) : "memory");
	report(q[0] == q[3] && q[3] == 0x5555aaaa5555aaaaull, "REP STOSQ");

	const char *a = "cetvm-rules", *b = "cetvm-rocks";
	const char *pa = a, *pb = b;
	n = 11;
	asm volatile("repe cmpsb" : "+S"(pa), "+D"(pb), "+c"(n)::"memory", "cc");
	report(pa == a + 8 && n == 3, "REPE CMPSB stops after the first difference");

	pa = a + 10;
	pb = b + 10;
	n = 11;
	asm volatile("std; repe cmpsb; cld" : "+S"(pa), "+D"(pb), "+c"(n)::"memory", "cc");
	report(pa == a + 8 && n == 9, "REPE CMPSB backward (DF=1)");

	const char *p = "hello, world";
	n = ~0ull;
	asm volatile("repne scasb" : "+D"(p), "+c"(n) : "a"(0) : "memory", "cc");
	report(~n - 1 == 12, "REPNE SCASB as strlen");

	u8 c;
	const char *l = "xyz";
	asm volatile("lodsb" : "=a"(c), "+S"(l)::"memory");
	report(c == 'x' && *l == 'y', "LODSB");
}

static void test_atomics(void)
{
	u64 mem = 5, old = 5, v = 9;
	u8 zf;

	asm volatile("lock cmpxchg %3, %1; sete %2" : "+a"(old), "+m"(mem), "=r"(zf) : "r"(v) : "cc");
	report(mem == 9 && zf, "CMPXCHG success sets ZF and stores");
	old = 5;
	asm volatile("lock cmpxchg %3, %1; sete %2" : "+a"(old), "+m"(mem), "=r"(zf) : "r"(v) : "cc");
	report(mem == 9 && !zf && old == 9, "CMPXCHG failure loads RAX");

	u64 add = 3;
	asm volatile("lock xadd %0, %1" : "+r"(add), "+m"(mem)::"cc");
	report(add == 9 && mem == 12, "LOCK XADD");
	asm volatile("lock incq %0; lock decq %0; lock addq $8, %0" : "+m"(mem)::"cc");
	report(mem == 20, "LOCK INC/DEC/ADD");
	u64 x = 7;
	asm volatile("xchg %0, %1" : "+r"(x), "+m"(mem));
	report(x == 20 && mem == 7, "XCHG with memory");

}

static void test_conditions(void)
{
	static const s64 vals[] = { -2, -1, 0, 1, 2, 0x7fffffffffffffffll };
	bool ok = true;

	for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(vals); j++) {
			s64 a = opaque(vals[i]), b = opaque(vals[j]);
			u8 l, b_, e, g, a_;
			asm("cmp %6, %5; setl %0; setb %1; sete %2; setg %3; seta %4"
			    : "=r"(l), "=r"(b_), "=r"(e), "=r"(g), "=r"(a_)
			    : "r"(a), "r"(b)
			    : "cc");
			ok &= l == (a < b) && b_ == ((u64)a < (u64)b) && e == (a == b) &&
			      g == (a > b) && a_ == ((u64)a > (u64)b);
			u64 m = opaque(1), r = opaque(2);
			asm("cmp %3, %2; cmovl %1, %0" : "+r"(r) : "r"(m), "r"(a), "r"(b) : "cc");
			ok &= r == (a < b ? 1u : 2u);
		}
	}
	report(ok, "SETcc/CMOVcc agree with C comparisons");

	u8 of;
	s64 big = opaque(0x7fffffffffffffffll);
	asm("add $1, %0; seto %1" : "+r"(big), "=r"(of) : : "cc");
	report(of == 1, "OF on signed overflow");
	u64 ah;
	asm("stc; lahf; shr $8, %0" : "=a"(ah) : : "cc");
	report(!cpu_has(X86_FEATURE_LAHF_LM) || (ah & 1), "LAHF sees CF");
}

static void cmpxchg16b_checks(void)
{
	static u64 pair[2] __aligned(16) = { 1, 2 };
	u64 lo = 1, hi = 2;
	u8 zf;

	asm volatile("lock cmpxchg16b %0; sete %1"
		     : "+m"(pair), "=r"(zf), "+a"(lo), "+d"(hi)
		     : "b"(3ull), "c"(4ull)
		     : "cc");
	report(zf && pair[0] == 3 && pair[1] == 4, "CMPXCHG16B");
}

__attribute__((target("bmi,bmi2"))) static void bmi_checks(bool bmi2)
{
	u64 x = opaque(0xb0), y = opaque(0xff);

	report(__builtin_ia32_bextr_u64(opaque(0x12345678), 0x0804) == 0x67, "BEXTR");
	report((x & -x) == 0x10 && (x & (x - 1)) == 0xa0 && (~x & y) == 0x4f, "BLSI/BLSR/ANDN");
	if (!bmi2) {
		report_skip("BMI2");
		return;
	}
	report(__builtin_ia32_pdep_di(opaque(0x5), 0xf0f0) == 0x0050 &&
		       __builtin_ia32_pext_di(opaque(0x12345678), 0xff00) == 0x56,
	       "PDEP/PEXT");
	report(__builtin_ia32_bzhi_di(opaque(~0ull), 12) == 0xfff, "BZHI");
	u64 hi, lo = opaque(0x8000000000000000ull);
	asm("mulx %2, %0, %1" : "=r"(lo), "=r"(hi) : "r"(opaque(6)), "d"(lo));
	report(hi == 3 && lo == 0, "MULX");
	u64 r;
	asm("rorx $8, %1, %0" : "=r"(r) : "r"(opaque(0x12)));
	report(r == 0x1200000000000000ull, "RORX");
	asm("shlx %2, %1, %0" : "=r"(r) : "r"(opaque(1)), "r"(opaque(67)));
	report(r == 8, "SHLX masks the count");
}

__attribute__((target("adx"))) static void adx_checks(void)
{
	unsigned long long out;
	unsigned char c = __builtin_ia32_addcarryx_u64(1, opaque(~0ull), 0, &out);
	report(c == 1 && out == 0, "add with carry (addcarryx)");
	u64 a = opaque(~0ull), b = opaque(1);
	u8 cf;
	asm("xor %%eax, %%eax; adox %2, %0; setc %1" : "+r"(a), "=r"(cf) : "r"(b) : "rax", "cc");
	report(a == 0 && cf == 0, "ADOX leaves CF alone");
}

__attribute__((target("movbe"))) static void movbe_checks(void)
{
	u64 mem = opaque(0x0102030405060708ull), v;
	asm("movbe %1, %0" : "=r"(v) : "m"(mem));
	report(v == 0x0807060504030201ull, "MOVBE load");
	asm("movbe %1, %0" : "=m"(mem) : "r"(opaque(0x1122)));
	report(mem == 0x2211000000000000ull, "MOVBE store");
}

/* Instructions CPUID may lack come last, so a VMM that advertises one it
 * cannot run still shows every other result first. */
static void test_extensions(void)
{
	u64 x = opaque(0x00f0000000000100ull);

	if (cpu_has(X86_FEATURE_CX16))
		cmpxchg16b_checks();
	else
		report_skip("CMPXCHG16B");
	if (cpu_has(X86_FEATURE_POPCNT))
		report(popcnt_hw(x) == 5 && popcnt_hw(opaque(~0ull)) == 64, "POPCNT");
	else
		report_skip("POPCNT");
	if (cpu_has(X86_FEATURE_LZCNT)) {
		u64 lz, tz;
		asm("lzcnt %1, %0" : "=r"(lz) : "r"(opaque(0)) : "cc");
		asm("tzcnt %1, %0" : "=r"(tz) : "r"(opaque(0)) : "cc");
		report(lz == 64 && tz == 64, "LZCNT/TZCNT of 0 is the operand size");
	} else {
		report_skip("LZCNT");
	}
	if (cpu_has(X86_FEATURE_BMI1))
		bmi_checks(cpu_has(X86_FEATURE_BMI2));
	else
		report_skip("BMI1");
	if (cpu_has(X86_FEATURE_ADX))
		adx_checks();
	else
		report_skip("ADX");
	if (cpu_has(X86_FEATURE_MOVBE))
		movbe_checks();
	else
		report_skip("MOVBE");
}

static bool random64(bool seed, u64 *v)
{
	for (int i = 0; i < 100; i++) {
		u8 ok;
		if (seed)
			asm volatile("rdseed %0; setc %1" : "=r"(*v), "=r"(ok)::"cc");
		else
			asm volatile("rdrand %0; setc %1" : "=r"(*v), "=r"(ok)::"cc");
		if (ok)
			return true;
	}
	return false;
}

static void test_random_and_time(void)
{
	u64 a, b;

	if (cpu_has(X86_FEATURE_RDRAND))
		report(random64(false, &a) && random64(false, &b) && a != b, "RDRAND gives values");
	else
		report_skip("RDRAND");
	if (cpu_has(X86_FEATURE_RDSEED))
		report(random64(true, &a) && random64(true, &b) && a != b, "RDSEED gives values");
	else
		report_skip("RDSEED");

	a = rdtsc();
	b = rdtsc();
	report(b >= a, "RDTSC does not go backwards");
	if (cpu_has(X86_FEATURE_RDTSCP)) {
		u32 aux, lo, hi;
		wrmsr(MSR_TSC_AUX, 0x1234);
		asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		report(aux == 0x1234 && ((u64)hi << 32 | lo) >= b, "RDTSCP returns TSC_AUX");
	} else {
		report_skip("RDTSCP");
	}
}

int main(void)
{
	test_arith();
	test_shifts();
	test_bits();
	test_strings();
	test_atomics();
	test_conditions();
	test_random_and_time();
	test_extensions();
	return report_summary();
}
