/* The runner's log directory (docs/runner.md "Logs"): logs/run-*, logs/latest. */
#ifndef HVT_LOGFILES_H
#define HVT_LOGFILES_H

#include <stdbool.h>
#include <stddef.h>

/* Replace LINK by a symbolic link to TARGET, whole (a rename); false with a message. */
bool log_link(const char *link, const char *target);

/*
 * Create a fresh run directory ROOT/logs/run-YYYYmmdd-HHMMSS-PID[.N] (and
 * ROOT/logs), point ROOT/logs/latest at it, and write its name relative to
 * ROOT ("logs/run-...") into OUT.  False with a message.
 */
bool log_new_run_dir(const char *root, char *out, size_t size);

#endif
