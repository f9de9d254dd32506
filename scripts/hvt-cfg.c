/*
 * hvt-cfg: validate and list unittests.cfg for the runner scripts.
 *
 *   hvt-cfg check FILE   validate only
 *   hvt-cfg list FILE    one record per test, fields separated by 0x1f
 *   hvt-cfg names FILE   one test name per line
 *
 * Exit: 0 ok, 1 malformed or unreadable file (FILE:LINE: message), 2 usage.
 */
#include "cfg.h"

#include <stdio.h>
#include <string.h>

#define US "\x1f"

static void usage(FILE *f)
{
	fputs("Usage: hvt-cfg check|list|names FILE\n"
	      "\n"
	      "  check  validate FILE (docs/unittests-cfg.md); errors are FILE:LINE: message\n"
	      "  list   print one record per test, fields separated by 0x1f:\n"
	      "         name file args smp memory(MiB) qemu_cpu bochs_cpu qemu_params\n"
	      "         bochs_params groups timeout(s) requires hypervisors xen_params\n"
	      "  names  print the test names, one per line\n"
	      "\n"
	      "Exit status: 0 ok, 1 malformed file, 2 usage error.\n", f);
}

static void list(const struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		const struct cfg_test *t = &cfg->tests[i];

		printf("%s" US "%s" US "%s" US "%u" US "%u" US "%s" US "%s" US
		       "%s" US "%s" US "%s" US "%u" US "%s" US "%s" US "%s\n",
		       t->name, t->file, t->args, t->smp, t->memory,
		       cfg_qemu_cpu(t), cfg_bochs_cpu(t), t->qemu_params,
		       t->bochs_params, t->groups, t->timeout, t->requires,
		       t->hypervisors, t->xen_params);
	}
}

int main(int argc, char **argv)
{
	struct cfg cfg;
	struct cfg_error err;
	const char *cmd, *path;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	path = argv[2];
	if (strcmp(cmd, "check") && strcmp(cmd, "list") && strcmp(cmd, "names")) {
		fprintf(stderr, "hvt-cfg: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (cfg_load(path, &cfg, &err)) {
		if (err.line)
			fprintf(stderr, "%s:%d: %s\n", path, err.line, err.msg);
		else
			fprintf(stderr, "%s: %s\n", path, err.msg);
		return 1;
	}
	if (!strcmp(cmd, "list"))
		list(&cfg);
	else if (!strcmp(cmd, "names"))
		for (size_t i = 0; i < cfg.count; i++)
			puts(cfg.tests[i].name);
	cfg_free(&cfg);
	if (fflush(stdout) || ferror(stdout)) {
		perror("hvt-cfg: stdout");
		return 1;
	}
	return 0;
}
