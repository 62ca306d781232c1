/* report.c: PASS/FAIL/SKIP lines and the closing summary. */
#include "report.h"

#include "printf.h"
#include "string.h"
#include "x86.h"

/* The only counters of a guest; guests are single-threaded. */
static int passes, failures, skips;

static void line(const char *tag, const char *fmt, va_list ap)
{
	printf("%s: ", tag);
	vprintf(fmt, ap);
	printf("\n");
}

bool report(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line(cond ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	if (cond)
		passes++;
	else
		failures++;
	return cond;
}

bool report_tcg(bool cond, const char *why, const char *fmt, ...)
{
	char hv[13];
	va_list ap;

	cpuid_hypervisor(hv);
	va_start(ap, fmt);
	if (!cond && !strcmp(hv, "TCGTCGTCGTCG")) {
		printf("SKIP: ");
		vprintf(fmt, ap);
		printf(" (QEMU TCG: %s)\n", why);
		skips++;
	} else {
		line(cond ? "PASS" : "FAIL", fmt, ap);
		cond ? passes++ : failures++;
	}
	va_end(ap);
	return cond;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line("SKIP", fmt, ap);
	va_end(ap);
	skips++;
}

void report_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line("INFO", fmt, ap);
	va_end(ap);
}

int report_summary(void)
{
	printf("SUMMARY: %d tests, %d failed, %d skipped\n", passes + failures, failures, skips);
	return failures || !passes;
}
