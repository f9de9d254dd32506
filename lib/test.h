/**
 * @file test.h
 * How a test is declared: a table of named checks, run by the harness.
 *
 *     static void check_something(void) { check(..., ""); }
 *
 *     static const struct check_entry checks[] = {
 *         { "something", check_something },
 *     };
 *     DEFINE_TEST("example", checks, .options = "iterations");
 *
 * The guest command line selects entries: each word without '=' is a glob
 * pattern; an entry runs when a pattern matches its name or one of its
 * dot-separated leading parts ("catch" selects "catch.ud").  A pattern
 * starting with '-' excludes.  No pattern selects every entry but those
 * marked on_request, which run only when a pattern selects them.  Words with
 * '=' are options: "nonce" and "list" belong to the harness, the others must
 * be named in the test's .options.
 */
#ifndef HVT_TEST_H
#define HVT_TEST_H

#include "libhvt.h"
#include "report.h"

/** One named check of a test's table. */
struct check_entry {
	const char *name;	/**< selectable name, dotted for grouping */
	void (*run)(void);	/**< records one or more results */
	/**
	 * Runs only when a pattern on the command line selects it: for entries
	 * that end the run on purpose (the harness's own error paths).
	 */
	bool on_request;
};

/** A test: its name, its table, and what it needs before the checks run. */
struct test_definition {
	const char *name;
	const struct check_entry *checks;
	size_t count;
	/** Space-separated option keys the test accepts on its command line. */
	const char *options;
	/** Runs before the first selected check; may skip or error the whole test. */
	void (*setup)(void);
	/**
	 * Optional: true for a command-line pattern that selects no entry of the
	 * table but that the test reads itself, as an exclusion, through
	 * arg_excludes() (the state tests' rule names); other patterns that
	 * select nothing, and such a pattern without its '-', are an ERROR.
	 */
	bool (*knows_pattern)(const char *pattern);
};

#define DEFINE_TEST(test_name, table, ...)                                     \
	const struct test_definition hvt_test = {                              \
		.name = test_name,                                             \
		.checks = table,                                               \
		.count = ARRAY_SIZE(table),                                    \
		__VA_ARGS__                                                    \
	}

extern const struct test_definition hvt_test;

/** The value of option @key from the command line, or NULL. */
const char *arg_get(const char *key);

/** Option @key as a number, or @fallback when absent; a malformed number is a test ERROR. */
uint64_t arg_get_u64(const char *key, uint64_t fallback);

/**
 * True when a '-PATTERN' word of the command line selects @name by the rule
 * entries are selected by (the name or one of its leading dot-separated parts).
 */
bool arg_excludes(const char *name);

/** Whether @pattern selects @name: a glob match of the name or of a leading dotted part. */
bool pattern_selects(const char *pattern, const char *name);

/** Splits @cmdline into words (in place); returns the count, at most @max. */
int args_split(char *cmdline, char **words, int max);

/** Runs the test (called once by the platform after boot). */
void __noreturn test_run(const char *cmdline);

#endif
