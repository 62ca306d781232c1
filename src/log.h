/* log.h: diagnostics for cetvm itself (never guest-visible). */
#ifndef CETVM_LOG_H
#define CETVM_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The one mutable global besides nothing: how chatty cetvm is. */
extern enum log_level log_level;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "cetvm: <message>" to stderr and exit with status 1. Only for host
 * errors before or outside the run loop. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
