/* oracle: a compiled C program whose entire output is deterministic, for
 * tests/tier-oracle to compare between accelerators: printf with many
 * formats, recursion, a table of callbacks, a switch compiled to a jump
 * table (a NOTRACK indirect jump under -fcf-protection=full), a sort with a
 * comparison callback, and a user-mode round trip. No TSC values, no CPUID-
 * dependent output. */
#include "fault.h"
#include "printf.h"
#include "report.h"
#include "x86.h"

/* Hides NULL from gcc's format checker (printing "(null)" is the point). */
static const void *opaque_ptr(uintptr_t p)
{
	asm volatile("" : "+r"(p));
	return (const void *)p;
}

static u32 fnv1a(const char *s, u32 h)
{
	for (; *s; s++)
		h = (h ^ (u8)*s) * 16777619u;
	return h;
}

static u32 formats(void)
{
	char buf[128];
	u32 h = 2166136261u;

	printf("[%d] [%i] [%u] [%x] [%X] [%o] [%c] [%%]\n", -42, 42, 3000000000u, 0xbeef, 0xbeef, 8,
	       'q');
	printf("[%5d] [%-5d] [%05d] [%+d] [% d] [%.3d] [%x]\n", 42, 42, -42, 42, 42, 7, 0);
	printf("[%ld] [%lu] [%lx] [%llx] [%zu] [%#x] [%#lx]\n", (long)INT64_MIN, (unsigned long)UINT64_MAX,
	       0x123456789abcdefful, 0xfedcba9876543210ull, (size_t)12345, 0xff, 0x10ul);
	const char *null = (const char *)opaque_ptr(0);
	printf("[%s] [%10s] [%-10s] [%.3s] [%*d] [%-*d] [%s]\n", "cet", "right", "left", "truncate",
	       6, 7, 6, 7, null);
	printf("[%p] [%016lx] [%08x] [%c%c%c]\n", (void *)0xdeadbeefull, 0xabcul, 0xdu, 'v', 'm', '!');

	int n = snprintf(buf, 8, "%s-%d", "truncated", 12345);
	printf("snprintf: \"%s\" wanted %d\n", buf, n);
	for (int i = 0; i < 16; i++) {
		snprintf(buf, sizeof(buf), "%d:%x:%o:%5.2d|", i * 997 - 5000, i * 0x1111, i * 7, i);
		h = fnv1a(buf, h);
	}
	printf("format hash %08x\n", h);
	return h;
}

static u64 fib(u64 n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static u64 ackermann(u64 m, u64 n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ackermann(m - 1, 1);
	return ackermann(m - 1, ackermann(m, n - 1));
}

static u64 hanoi(int n, int from, int to, int via)
{
	if (n == 0)
		return 0;
	return hanoi(n - 1, from, via, to) + 1 + hanoi(n - 1, via, to, from);
}

static void recursion(void)
{
	u64 f = fib(24), a = ackermann(2, 3), b = ackermann(3, 3), h = hanoi(12, 1, 3, 2);

	printf("fib(24)=%lu ackermann(2,3)=%lu ackermann(3,3)=%lu hanoi(12)=%lu\n", f, a, b, h);
	report(f == 46368 && a == 9 && b == 61 && h == 4095, "recursion results");
}

static u64 cb_square(u64 x) { return x * x; }
static u64 cb_triple(u64 x) { return 3 * x; }
static u64 cb_fib(u64 x) { return fib(x % 20); }
static u64 cb_rev(u64 x) { return __builtin_bswap64(x) >> 56; }

static u64 (*const callbacks[])(u64) = { cb_square, cb_triple, cb_fib, cb_rev };

static void function_pointers(void)
{
	u64 acc = 0;

	for (u64 i = 0; i < 100; i++)
		acc = acc * 31 + callbacks[i % ARRAY_SIZE(callbacks)](i);
	printf("callback table accumulator %#lx\n", acc);
	report(acc == 0x991f4f0265451a61ull, "indirect calls through a table of callbacks");
}

/* A tiny stack machine; its dispatch switch becomes a jump table. */
enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_SWAP, OP_JNZ, OP_DEC, OP_DROP, OP_OVER,
       OP_HALT };

static s64 run_vm(const s64 *prog)
{
	s64 st[16];
	int sp = 0;

	for (int pc = 0;; pc++) {
		switch (prog[pc]) {
		case OP_PUSH: st[sp++] = prog[++pc]; break;
		case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
		case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
		case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
		case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
		case OP_SWAP: { s64 t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; } break;
		case OP_JNZ: if (st[sp - 1]) pc = prog[pc + 1] - 1; else pc++; break;
		case OP_DEC: st[sp - 1]--; break;
		case OP_DROP: sp--; break;
		case OP_OVER: st[sp] = st[sp - 2]; sp++; break;
		case OP_HALT: return st[sp - 1];
		default: return -1;
		}
	}
}

static void jump_table(void)
{
	/* acc = 1; n = 15; do { acc *= n; } while (--n); → 15! */
	static const s64 fact[] = {
		OP_PUSH, 1, OP_PUSH, 15,              /* acc n */
		OP_SWAP, OP_OVER, OP_MUL, OP_SWAP,    /* 4: acc*n n */
		OP_DEC, OP_JNZ, 4,                    /* acc n-1, loop while n-1 != 0 */
		OP_DROP, OP_HALT,
	};
	s64 r = run_vm(fact);

	printf("stack machine 15! = %ld\n", r);
	report(r == 1307674368000ll, "switch dispatch through a jump table");
}

static int cmp_desc(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

static void sort(u32 *v, int n, int (*cmp)(const void *, const void *))
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp(&v[j - 1], &v[j]) > 0; j--) {
			u32 t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void sorting(void)
{
	u32 v[64], x = 2463534242u;
	bool ok = true;

	for (int i = 0; i < 64; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		v[i] = x % 1000;
	}
	sort(v, 64, cmp_desc);
	for (int i = 1; i < 64; i++)
		ok &= v[i - 1] >= v[i];
	printf("sorted: first %u last %u median %u\n", v[0], v[63], v[32]);
	report(ok, "insertion sort with a comparison callback");
}

static u64 user_sum_of_squares(u64 n)
{
	u64 s = 0;
	for (u64 i = 1; i <= n; i++)
		s += cb_square(i);
	return s << 8 | (read_cs() & 3);
}

static void user_round_trip(void)
{
	struct fault f = fault_run_user(user_sum_of_squares, 50);

	printf("user mode: sum of squares 1..50 = %lu at CPL %lu\n", f.value >> 8, f.value & 0xff);
	report(f.vector == FAULT_NONE && f.value >> 8 == 42925 && (f.value & 3) == 3,
	       "user-mode round trip");
}

int main(void)
{
	printf("oracle: deterministic output follows\n");
	report(formats() == 0x13b7c553, "printf formats hash (matches glibc)");
	recursion();
	function_pointers();
	jump_table();
	sorting();
	user_round_trip();
	return report_summary();
}
