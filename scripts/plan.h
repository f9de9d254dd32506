/*
 * A plan: everything x86/run decided for one command line (the hypervisor
 * command, the verdict's arguments, the log names), kept in
 * build/cache/plans/ with what the decision read (files by their stamps,
 * facts such as access to /dev/kvm), so that the next identical run boots at
 * once (docs/runner.md, "Plans").  A plan holds only while every input is as
 * it was; anything else is a cache miss, never a wrong run.
 *
 * The text form is one "KEY VALUE" per line, VALUE with \\, \n and \t escaped;
 * checks are "check KIND<TAB>PATH<TAB>VALUE"; the last line is "end", so that
 * a file cut short is never read as a smaller plan.
 */
#ifndef HVT_PLAN_H
#define HVT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_MAGIC "hvt-plan 1"
#define PLAN_MAX_BYTES (1 << 20)

struct strv {
	char **v;	/* n strings, then NULL */
	size_t n;
};

struct plan {
	char *root;	/* the tree: logs/ goes there */
	char *name;	/* the test */
	char *hv;	/* the hypervisor, as reports name it */
	char *nonce;	/* the nonce of the run that made the plan */
	char *rundir;	/* its run directory, "logs/run-..." */
	char *log;	/* the console's file name in the run directory */
	char *header;	/* the line x86/run prints first */
	char *cmd;	/* the command as a shell line, for the .cmd file and the verdict */
	long seconds;	/* the timeout, 0: none */
	uint64_t key;	/* what the plan is for (plan_key); 0 in a request */
	struct strv args;	/* the hypervisor command */
	struct strv verdict;	/* hvt-verdict and its arguments but the per-run ones */
	struct strv checks;	/* "KIND\tPATH[\tVALUE]" */
};

/* Parse TEXT (LEN bytes); false with a reason in ERR. A request has no key and no values. */
bool plan_parse(const char *text, size_t len, struct plan *p, bool request, char *err, size_t errsz);

/* The text form of P, malloc'd; NULL when out of memory. */
char *plan_format(const struct plan *p);

void plan_free(struct plan *p);

/*
 * What a run is for: its arguments, the working directory and the
 * environment but for the variables a shell changes on its own (_, PWD,
 * OLDPWD, SHLVL), in any order.
 */
uint64_t plan_key(char *const argv[], int argc, const char *cwd, char *const envp[]);

/*
 * The current value of a check: KIND "file" (device, inode, size and
 * modification time, or "absent"), "exists" (1 or 0), "access" (r, w, rw or
 * -) or "content" (the first line, at most 200 bytes, or "absent").  False
 * for an unknown KIND.
 */
bool plan_fact(const char *kind, const char *path, char *out, size_t size);

/* Fill in the value of every check (a request becomes a plan). False for an unknown kind. */
bool plan_stamp(struct plan *p, char *err, size_t errsz);

/* Do all checks still hold? When not, WHY names the first that changed. */
bool plan_holds(const struct plan *p, char *why, size_t whysz);

/* S with every OLD replaced by NEW, malloc'd (OLD non-empty). */
char *str_replace_all(const char *s, const char *old, const char *new);

#endif
