/* log.c: stderr diagnostics with a level filter. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum log_level log_level = LOG_WARN;

static void vlog(enum log_level lvl, const char *tag, const char *fmt, va_list ap)
{
	if (lvl > log_level)
		return;
	fprintf(stderr, "cetvm: %s", tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(name, lvl, tag)                                                 \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(lvl, tag, fmt, ap);                                       \
		va_end(ap);                                                    \
	}

LOG_FN(log_error, LOG_ERROR, "")
LOG_FN(log_warn, LOG_WARN, "warning: ")
LOG_FN(log_info, LOG_INFO, "")
LOG_FN(log_debug, LOG_DEBUG, "debug: ")

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cetvm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}
