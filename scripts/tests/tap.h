/* The host unit tests' TAP output: one "ok N - description" line per check, then the plan. */
#ifndef HVT_TESTS_TAP_H
#define HVT_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned tap_tests, tap_failed;

static bool tap_ok_(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), unused));

static bool tap_ok_(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_tests++;
	if (!cond)
		tap_failed++;
	printf("%s %u - ", cond ? "ok" : "not ok", tap_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		printf("# failed at %s:%d\n", file, line);
	return cond;
}

/** Records one check: @cond, described by a printf format. Returns @cond. */
#define OK(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/** Prints the plan; returns main()'s exit status. */
static int __attribute__((unused)) tap_done(void)
{
	printf("1..%u\n", tap_tests);
	if (tap_failed)
		printf("# %u of %u failed\n", tap_failed, tap_tests);
	return tap_failed ? 1 : 0;
}

#endif
