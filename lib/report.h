/**
 * @file report.h
 * The result model: named checks, skips, errors, and the console protocol
 * (docs/protocol.md) that carries them to the host.
 *
 * A FAIL says the hypervisor deviated from the architecture; an ERROR says the
 * test itself could not do its job.  Keep the two apart: a check whose setup
 * went wrong calls test_error(), never check(false, ...).
 *
 * Every result is named "<entry>[.<prefix>...][.<name>]", where <entry> is the
 * running entry of the test's check table (see test.h).  A name is printable
 * ASCII without spaces; ':' may occur but not at its end (docs/protocol.md).
 */
#ifndef HVT_REPORT_H
#define HVT_REPORT_H

#include "libhvt.h"

/** Result counts so far. */
struct report_counts {
	unsigned pass, fail, skip, error;
};

/**
 * Records a check.  @name_fmt formats the check's own name; "" names the
 * running entry itself.
 * @return @pass, so that callers can stop early after a failure.
 */
bool check(bool pass, const char *name_fmt, ...) __printf(2, 3);

/**
 * Records a check, with @detail_fmt explaining a failure (what the manual
 * expects and what happened).
 */
bool check_msg(bool pass, const char *name, const char *detail_fmt, ...) __printf(3, 4);

/** A check that @got equals @want, both shown in hex on failure. */
#define check_eq(name, got, want)                                              \
	({                                                                     \
		uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);      \
		check_msg(got_ == want_, name, "got %#lx, expected %#lx",       \
			  got_, want_);                                         \
	})

/** Records that check @name could not apply, and why (the missing capability). */
void skip(const char *name, const char *reason_fmt, ...) __printf(2, 3);

/** Records that the test could not do its job for check @name (a test or harness problem). */
void test_error(const char *name, const char *reason_fmt, ...) __printf(2, 3);

/** Prints an informational console line ("# ..."), never a verdict. */
void info(const char *fmt, ...) __printf(1, 2);

/** Pushes a name component for the following results; pop it with report_prefix_pop(). */
void report_prefix_push(const char *fmt, ...) __printf(1, 2);
void report_prefix_pop(void);

/** The counts so far. */
struct report_counts report_counts(void);

/** Prints the BEGIN banner. */
void report_begin(const char *test_name, const char *nonce);

/**
 * Prints the summary and the END marker, then exits through the platform with
 * the status code.  A run that recorded nothing first records an ERROR.
 */
void __noreturn report_end(void);

/**
 * Ends the run at once as ERROR (after an unexpected exception, say), keeping
 * every verdict printed so far.
 */
void __noreturn report_abort(const char *reason_fmt, ...) __printf(1, 2);

/**
 * Sets the name of the running table entry (done by the check runner; a
 * generator of checks, lib/states.c, names each of its checks this way and
 * restores the entry after).  @entry must stay valid while it is set.
 */
void report_set_entry(const char *entry);

/** The name report_set_entry() set last (NULL outside the checks). */
const char *report_entry(void);

#endif
