/* test_win.h: the memory window of the integer-instruction tests that
 * compare memory (test_alu_mem.c, test_jit.c): WIN_PAGES pages at the same
 * linear address on the host and in the guest, one of them read-only and
 * one absent on both sides, saved, restored and compared whole. */
#ifndef CETVM_TEST_WIN_H
#define CETVM_TEST_WIN_H

#include "test_alu.h"

#define WIN_BYTES (WIN_PAGES * 4096u)
#define RO_PAGE 9    /* read-only on both sides */
#define NONE_PAGE 12 /* absent on both sides */

static int win_prot[WIN_PAGES]; /* each page's PROT_* on the host */

static void set_prot(unsigned k, int prot)
{
	win_prot[k] = prot;
	win_protect(k, prot);
}

/* Every page read-write but RO_PAGE and NONE_PAGE. */
static void win_init(void)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		set_prot(k, k == RO_PAGE     ? PROT_READ
			    : k == NONE_PAGE ? PROT_NONE
					     : PROT_READ | PROT_WRITE);
}

/* The accessible pages into dst (WIN_BYTES, absent pages left alone). */
static void win_save(u8 *dst)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] != PROT_NONE)
			memcpy(dst + k * 4096, T.win + k * 4096, 4096);
}

/* The writable pages from src. */
static void win_load(const u8 *src)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] & PROT_WRITE)
			memcpy(T.win + k * 4096, src + k * 4096, 4096);
}

static void win_fill_random(void)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (win_prot[k] & PROT_WRITE)
			for (unsigned i = 0; i < 4096; i += 8) {
				u64 v = rnd();
				memcpy(T.win + k * 4096 + i, &v, 8);
			}
}

/* First differing byte of two saved windows over the accessible pages but
 * page `skip` (or WIN_PAGES: none), or -1. */
static long win_cmp(const u8 *a, const u8 *b, unsigned skip)
{
	for (unsigned k = 0; k < WIN_PAGES; k++)
		if (k != skip && win_prot[k] != PROT_NONE &&
		    memcmp(a + k * 4096, b + k * 4096, 4096))
			for (unsigned i = k * 4096;; i++)
				if (a[i] != b[i])
					return (long)i;
	return -1;
}

/* First byte where the window differs from a saved one, or -1. */
static long win_diff(const u8 *a)
{
	return win_cmp(T.win, a, WIN_PAGES);
}

#endif
