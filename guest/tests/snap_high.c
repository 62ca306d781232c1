/* run-by: tests/tier-snapshot
 * snap_high: a guest to be saved with data and code in RAM above 4 GiB
 * (-m 5G: low RAM ends at 3 GiB, high RAM is 4-6 GiB). It stores patterns
 * at the start and the end of high RAM and at the end of low RAM, puts a
 * function at 4 GiB, and waits for one byte on COM1: the moment
 * tests/tier-snapshot saves the machine. After the byte it checks that
 * every pattern is back and that the function still runs. */
#include "paging.h"
#include "printf.h"
#include "report.h"
#include "string.h"
#include "x86.h"

#define COM1 0x3f8
#define LSR_DR 0x01
#define GIB (1ull << 30)
#define HIGH (4 * GIB)
#define HIGH_END (6 * GIB)
#define LOW_END (3 * GIB)

/* endbr64; mov eax, 0x5eed; ret */
static const u8 fn_code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0xed, 0x5e, 0, 0, 0xc3 };

static volatile u64 *at(u64 pa)
{
	return (volatile u64 *)(uintptr_t)pa;
}

static u8 wait_byte(void)
{
	while (!(inb(COM1 + 5) & LSR_DR))
		pause();
	return inb(COM1);
}

int main(void)
{
	u64 *root = pt_root();
	pt_map(root, HIGH, HIGH, PT_2M, PTE_W);
	pt_map(root, HIGH_END - 4096, HIGH_END - 4096, PT_4K, PTE_W);
	*at(HIGH + 0x1000) = 0x4000000000001000ull;
	*at(HIGH_END - 8) = 0x5fffffffffffffffull;
	*at(LOW_END - 8) = 0x2fffffffffffffffull;
	memcpy((void *)(uintptr_t)(HIGH + 0x3000), fn_code, sizeof(fn_code));
	int (*fn)(void) = (int (*)(void))(uintptr_t)(HIGH + 0x3000);
	report(fn() == 0x5eed, "code at 4 GiB runs before the snapshot");
	printf("snap_high: patterns stored; waiting for a byte on COM1\n");
	u8 c = wait_byte();
	printf("snap_high: got %#x\n", c);
	report(*at(HIGH + 0x1000) == 0x4000000000001000ull, "the pattern at 4 GiB is back");
	report(*at(HIGH_END - 8) == 0x5fffffffffffffffull, "the pattern at the end of high RAM is back");
	report(*at(LOW_END - 8) == 0x2fffffffffffffffull, "the pattern at the end of low RAM is back");
	report(fn() == 0x5eed, "code at 4 GiB runs after the snapshot");
	return report_summary();
}
