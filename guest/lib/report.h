/* report.h: kvm-unit-tests-style result lines on COM1.
 *
 * report(cond, "what") prints "PASS: what" or "FAIL: what"; report_skip
 * prints "SKIP: what". report_summary() prints a closing line and returns
 * main's exit code: 0 when at least one check passed and none failed.
 */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include "types.h"

__printf(2, 3) bool report(bool cond, const char *fmt, ...);
__printf(1, 2) void report_skip(const char *fmt, ...);
/* Like report(), but when running under QEMU TCG a failure becomes
 * "SKIP: what (QEMU TCG: why)": for architectural behaviour that TCG is
 * known not to model. Everywhere else (cetvm, KVM) it is a plain report(). */
__printf(3, 4) bool report_tcg(bool cond, const char *why, const char *fmt, ...);
/* "INFO: ..." lines: for humans; the test tiers ignore them. */
__printf(1, 2) void report_info(const char *fmt, ...);
int report_summary(void);

#endif
