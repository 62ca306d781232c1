/* unit.h: the host unit-test protocol. Each test binary prints one line per
 * assertion, "PASS: what" / "FAIL: what" / "SKIP: what (why)", and exits 0;
 * tests/run-all counts the lines. A binary that crashes or exits non-zero
 * counts as one more failure. */
#ifndef CETVM_UNIT_H
#define CETVM_UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int unit_failed;

__attribute__((format(printf, 2, 3), unused)) static int report(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	if (!ok)
		unit_failed++;
	return ok;
}

__attribute__((format(printf, 1, 2), unused)) static void report_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SKIP: ");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

#endif
