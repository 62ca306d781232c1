/* bench_int: an integer-heavy workload for bench/: per iteration a sieve of
 * Eratosthenes, a CRC-32 of 16 KiB and an insertion sort of 512 numbers.
 * Iterations from the command line ("iters=N", default 20). Prints the
 * iteration count and a checksum, and checks every result. */
#include "boot.h"
#include "printf.h"
#include "report.h"
#include "string.h"

#define SIEVE_N 100000
#define PRIMES_BELOW_N 9592
#define CRC_BYTES 16384
#define SORT_N 512

static u8 composite[SIEVE_N];
static u8 data[CRC_BYTES];
static u32 values[SORT_N];

static u32 sieve(void)
{
	u32 count = 0;

	memset(composite, 0, sizeof(composite));
	for (u32 i = 2; i < SIEVE_N; i++) {
		if (composite[i])
			continue;
		count++;
		for (u32 j = i * 2; j < SIEVE_N; j += i)
			composite[j] = 1;
	}
	return count;
}

static u32 crc32(const u8 *p, size_t n)
{
	u32 crc = ~0u;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static bool sort_values(u32 seed)
{
	for (int i = 0; i < SORT_N; i++) {
		seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
		values[i] = seed;
	}
	for (int i = 1; i < SORT_N; i++) {
		u32 v = values[i];
		int j = i;
		for (; j > 0 && values[j - 1] > v; j--)
			values[j] = values[j - 1];
		values[j] = v;
	}
	for (int i = 1; i < SORT_N; i++)
		if (values[i - 1] > values[i])
			return false;
	return true;
}

int main(void)
{
	u64 iters = boot_cmdline_u64("iters", 20), sum = 0;
	bool ok = true;
	u32 crc0;

	for (int i = 0; i < CRC_BYTES; i++)
		data[i] = i * 131 + (i >> 7);
	crc0 = crc32(data, CRC_BYTES);
	for (u64 it = 0; it < iters; it++) {
		u32 primes = sieve();
		u32 crc = crc32(data, CRC_BYTES);
		ok &= primes == PRIMES_BELOW_N && crc == crc0 && sort_values(2463534242u + it);
		sum = sum * 31 + primes + crc + values[SORT_N / 2];
	}
	printf("bench_int: iterations %lu\n", iters);
	printf("bench_int: checksum %#lx (crc %#x)\n", sum, crc0);
	report(ok, "bench_int: sieve, CRC and sort results");
	return report_summary();
}
