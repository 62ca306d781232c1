/* printf.h: formatted output to COM1 or a buffer.
 *
 * Conversions: %d %i %u %x %X %o %p %s %c %%, flags - + space # 0, width and
 * precision (digits or *), length l, ll, z, j, t, h (ignored).
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include "types.h"

__printf(1, 2) int printf(const char *fmt, ...);
int vprintf(const char *fmt, va_list ap);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
