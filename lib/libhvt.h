/**
 * @file libhvt.h
 * The hardware-independent runtime: formatted output, strings, numbers.
 */
#ifndef HVT_LIBHVT_H
#define HVT_LIBHVT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ull << (n))
/* The expansion of macro @x as a string, for assembly text: stringify(KERNEL_CS32) is "0x18". */
#define stringify_1(x) #x
#define stringify(x) stringify_1(x)
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define __noreturn __attribute__((noreturn))
#define __printf(f, a) __attribute__((format(printf, f, a)))
#define __aligned(n) __attribute__((aligned(n)))
#define __packed __attribute__((packed))
#define __used __attribute__((used))

/** Formats into @buf (always NUL-terminated when @size > 0); returns the untruncated length. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/** Writes formatted text to the console. */
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);
/** Writes a string to the console as it is. */
void puts(const char *s);

/** The console sink: set by the platform (lib/x86/serial.c). */
extern void (*console_write)(const char *buf, size_t len);

/**
 * Parses an unsigned number in C notation (decimal, 0x hex, 0 octal, 0b binary).
 * @return true when all of @s was a number that fits in 64 bits.
 */
bool parse_u64(const char *s, uint64_t *value);

/** Shell-style glob match with '*' and '?'. */
bool glob_match(const char *pattern, const char *text);

/** Ends the run: platform exit with a status code (0 PASS .. 3 ERROR), never returns. */
void __noreturn platform_exit(int code);

#endif
