/* serial.h: polled output on COM1 (16550 at 0x3f8). */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include "types.h"

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);

#endif
