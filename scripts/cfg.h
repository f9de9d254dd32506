/*
 * unittests.cfg parser (format: docs/unittests-cfg.md).
 *
 * The parser is strict: the first problem stops it, and the caller gets the
 * line number and a message, so that a malformed file runs nothing.
 */
#ifndef HVT_CFG_H
#define HVT_CFG_H

#include <stddef.h>

/* Defaults and limits of the format. */
#define CFG_SMP_DEFAULT		1
#define CFG_SMP_MAX		64
#define CFG_MEMORY_DEFAULT	128		/* MiB */
#define CFG_MEMORY_MIN		16		/* MiB */
#define CFG_MEMORY_MAX		(64 * 1024)	/* MiB */
#define CFG_TIMEOUT_DEFAULT	60		/* seconds */
#define CFG_TIMEOUT_MAX		(24 * 60 * 60)	/* seconds */
#define CFG_NAME_MAX		64
/* A value's length: values become hypervisor arguments, and one that the kernel refuses to
 * exec ("Argument list too long") must be a cfg error, not a failed test. */
#define CFG_VALUE_MAX		4096	/* bytes */

/* One [section]. Strings are never NULL; an absent optional key is "". */
struct cfg_test {
	char *name;
	char *file;
	char *args;
	unsigned smp;
	unsigned memory;	/* MiB */
	char *cpu;		/* model for hypervisors without their own */
	char *qemu_cpu;		/* as written; see cfg_qemu_cpu() */
	char *bochs_cpu;	/* as written; see cfg_bochs_cpu() */
	char *qemu_params;
	char *bochs_params;
	char *xen_params;	/* Xen command-line words (docs/xen.md) */
	char *groups;		/* normalised: single spaces, without "all" */
	unsigned timeout;	/* seconds */
	char *requires;		/* normalised: single spaces */
	char *hypervisors;	/* normalised; "" means every hypervisor */
	int line;		/* line of the section header */
};

struct cfg {
	struct cfg_test *tests;
	size_t count;
};

struct cfg_error {
	int line;		/* 0 when the problem is not tied to a line */
	char msg[256];
};

/* Parse LEN bytes of TEXT. Returns 0, or -1 with ERR filled in. */
int cfg_parse(const char *text, size_t len, struct cfg *cfg,
	      struct cfg_error *err);

/* Read and parse PATH. Returns 0, or -1 with ERR filled in. */
int cfg_load(const char *path, struct cfg *cfg, struct cfg_error *err);

void cfg_free(struct cfg *cfg);

/* The effective CPU models: the specific key, else `cpu`, else "". */
const char *cfg_qemu_cpu(const struct cfg_test *t);
const char *cfg_bochs_cpu(const struct cfg_test *t);

/* The test named NAME, or NULL. */
const struct cfg_test *cfg_find(const struct cfg *cfg, const char *name);

#endif
