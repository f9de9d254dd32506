/*
 * Unit tests of the unittests.cfg parser. Output is TAP; the exit status is
 * non-zero when a test fails.
 */
#include "cfg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"


static int parse(const char *text, struct cfg *cfg, struct cfg_error *err)
{
	return cfg_parse(text, strlen(text), cfg, err);
}

/* TEXT must fail at LINE with a message containing WANT. */
static void expect_error(const char *what, const char *text, int line,
			 const char *want)
{
	struct cfg cfg;
	struct cfg_error err;
	int rc = parse(text, &cfg, &err);

	if (!OK(rc == -1 && err.line == line && strstr(err.msg, want),
		"error: %s", what)) {
		printf("#   got rc=%d line=%d msg='%s'\n", rc, err.line, err.msg);
		printf("#   want line=%d msg containing '%s'\n", line, want);
	}
	if (rc == 0)
		cfg_free(&cfg);
}

/* TEXT must parse; returns the result for further checks. */
static bool expect_ok(const char *what, const char *text, struct cfg *cfg)
{
	struct cfg_error err;
	int rc = parse(text, cfg, &err);

	if (!OK(rc == 0, "parses: %s", what))
		printf("#   line %d: %s\n", err.line, err.msg);
	return rc == 0;
}

static void test_defaults(void)
{
	struct cfg cfg;

	if (!expect_ok("minimal section", "[msr]\nfile = msr.elf\n", &cfg))
		return;
	const struct cfg_test *t = &cfg.tests[0];
	OK(cfg.count == 1 && !strcmp(t->name, "msr") && !strcmp(t->file, "msr.elf"),
	   "minimal section: name and file");
	OK(t->smp == 1, "default smp is 1");
	OK(t->memory == 128, "default memory is 128 MiB");
	OK(t->timeout == 60, "default timeout is 60 s");
	OK(!*t->args && !*t->qemu_params && !*t->bochs_params,
	   "default args and params are empty");
	OK(!*cfg_qemu_cpu(t) && !*cfg_bochs_cpu(t),
	   "default CPU models are empty (the runner picks per accelerator)");
	OK(!*t->groups && !*t->requires && !*t->hypervisors,
	   "default groups, requires and hypervisors are empty");
	OK(t->line == 1, "section line is recorded");
	cfg_free(&cfg);
}

static void test_full(void)
{
	static const char text[] =
		"# leading comment\n"
		"\n"
		"[svm-npt_1]   # trailing comment\n"
		"file = nested/svm.elf\n"
		"args =  npt.*  mode=a#b   # comment after space\n"
		"smp=4\n"
		"memory = 2G\n"
		"cpu = EPYC\n"
		"bochs_cpu = corei7_skylake_x\n"
		"qemu_params = -machine q35   -overcommit mem-lock=off\n"
		"bochs_params = a: b; c: d\n"
		"groups = svm\t nested all\n"
		"timeout = 2m\n"
		"requires = svm  npt\n"
		"hypervisors = qemu-tcg bochs\r\n"
		"\t\n"
		"[b]\n"
		"file = b.elf\n"
		"memory = 64M\n"
		"timeout = 90s\n"
		"qemu_cpu = max,+x2apic\n"
		"args =\n";
	struct cfg cfg;

	if (!expect_ok("every key", text, &cfg))
		return;
	const struct cfg_test *t = &cfg.tests[0], *b = &cfg.tests[1];
	OK(cfg.count == 2, "two sections");
	OK(!strcmp(t->name, "svm-npt_1") && t->line == 3, "name with '-' and '_'");
	OK(!strcmp(t->file, "nested/svm.elf"), "file in a subdirectory");
	OK(!strcmp(t->args, "npt.*  mode=a#b"),
	   "'#' inside a word is not a comment; inner spaces kept");
	OK(t->smp == 4, "smp without spaces around '='");
	OK(t->memory == 2048, "memory 2G is 2048 MiB");
	OK(!strcmp(cfg_qemu_cpu(t), "EPYC"), "cpu applies to QEMU without qemu_cpu");
	OK(!strcmp(cfg_bochs_cpu(t), "corei7_skylake_x"), "bochs_cpu overrides cpu");
	OK(!strcmp(t->qemu_params, "-machine q35   -overcommit mem-lock=off"),
	   "qemu_params kept verbatim");
	OK(!strcmp(t->bochs_params, "a: b; c: d"), "bochs_params kept verbatim");
	OK(!strcmp(t->groups, "svm nested"), "groups normalised, 'all' implicit");
	OK(t->timeout == 120, "timeout 2m is 120 s");
	OK(!strcmp(t->requires, "svm npt"), "requires normalised");
	OK(!strcmp(t->hypervisors, "qemu-tcg bochs"), "hypervisors, CRLF tolerated");
	OK(b->memory == 64 && b->timeout == 90, "memory 64M, timeout 90s");
	OK(!strcmp(cfg_qemu_cpu(b), "max,+x2apic") && !*cfg_bochs_cpu(b),
	   "qemu_cpu alone leaves bochs_cpu empty");
	OK(!*b->args, "empty args value is allowed");
	OK(cfg_find(&cfg, "b") == b && cfg_find(&cfg, "c") == NULL, "cfg_find");
	cfg_free(&cfg);
}

static void test_limits(void)
{
	struct cfg cfg;

	if (expect_ok("limits at their bounds",
		      "[a]\nfile=a.elf\nsmp=64\nmemory=16\ntimeout=1\n"
		      "[b]\nfile=b.elf\nsmp=1\nmemory=64G\ntimeout=1440m\n", &cfg)) {
		OK(cfg.tests[0].smp == 64 && cfg.tests[0].memory == 16 &&
		   cfg.tests[0].timeout == 1, "lower and upper bounds accepted");
		OK(cfg.tests[1].memory == 65536 && cfg.tests[1].timeout == 86400,
		   "64G and 1440m accepted");
		cfg_free(&cfg);
	}
	{
		/* A value of CFG_VALUE_MAX bytes parses; one more byte is a cfg error. */
		static char text[CFG_VALUE_MAX + 64];
		int n = snprintf(text, sizeof(text), "[a]\nfile = a.elf\nargs = ");

		memset(text + n, 'x', CFG_VALUE_MAX);
		strcpy(text + n + CFG_VALUE_MAX, "\n");
		if (expect_ok("a value of CFG_VALUE_MAX bytes", text, &cfg))
			cfg_free(&cfg);
		memset(text + n, 'x', CFG_VALUE_MAX + 1);
		strcpy(text + n + CFG_VALUE_MAX + 1, "\n");
		expect_error("an overlong value", text, 3, "args: the value is 4097 bytes long (at most 4096)");
	}
	if (expect_ok("empty file", "", &cfg))
		OK(cfg.count == 0, "empty file has no tests");
	if (expect_ok("comments only", "# x\n   # y\n\n", &cfg))
		OK(cfg.count == 0, "comment-only file has no tests");
	if (expect_ok("no final newline", "[a]\nfile = a.elf", &cfg)) {
		OK(!strcmp(cfg.tests[0].file, "a.elf"), "last line without newline");
		cfg_free(&cfg);
	}
}

static void test_errors(void)
{
	/* Structure. */
	expect_error("key outside a section", "# hi\nfile = a.elf\n", 2,
		     "outside a section");
	expect_error("malformed line", "[a]\nfile = a.elf\njust words\n", 3,
		     "malformed line");
	expect_error("no key before '='", "[a]\n= a.elf\n", 2, "malformed line");
	expect_error("bad key characters", "[a]\nfi le = a.elf\n", 2, "malformed line");
	expect_error("unterminated section header", "[a\nfile = a.elf\n", 1,
		     "malformed section header");
	expect_error("text after a section header", "[a] x\nfile = a.elf\n", 1,
		     "malformed section header");
	expect_error("bad section name (space)", "[a b]\n", 1, "bad section name");
	expect_error("bad section name (dot)", "[a.b]\n", 1, "bad section name");
	expect_error("bad section name (empty)", "[]\n", 1, "bad section name");
	expect_error("bad section name (too long)",
		     "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
		     1, "bad section name");
	expect_error("duplicate section",
		     "[a]\nfile = a.elf\n\n[a]\nfile = b.elf\n", 4,
		     "duplicate section [a] (first at line 1)");
	expect_error("duplicate key", "[a]\nfile = a.elf\nsmp = 1\nsmp = 2\n", 4,
		     "duplicate key 'smp' (first at line 3)");
	expect_error("unknown key", "[a]\nfile = a.elf\nsmpp = 2\n", 3,
		     "unknown key 'smpp'");
	expect_error("section without file (last)", "[a]\nsmp = 2\n", 1,
		     "no 'file' key");
	expect_error("section without file (followed by another)",
		     "[a]\nfile = a.elf\n[b]\nsmp = 2\n[c]\nfile = c.elf\n", 3,
		     "[b]: no 'file' key");
	expect_error("control character", "[a]\nfile = a\x1f.elf\n", 2,
		     "control character");
	expect_error("control byte in a comment", "[a]\nfile = a.elf\n#\x01\n", 3,
		     "control character");

	/* Values. */
	expect_error("empty file", "[a]\nfile =\n", 2, "file: empty value");
	expect_error("absolute file", "[a]\nfile = /x.elf\n", 2, "relative");
	expect_error("file leaving x86/", "[a]\nfile = ../x.elf\n", 2, "leaves x86/");
	expect_error("file with spaces", "[a]\nfile = a b.elf\n", 2, "white space");
	expect_error("smp 0", "[a]\nfile = a.elf\nsmp = 0\n", 3, "out of range");
	expect_error("smp 65", "[a]\nfile = a.elf\nsmp = 65\n", 3, "out of range");
	expect_error("smp not a number", "[a]\nfile = a.elf\nsmp = two\n", 3,
		     "not a number");
	expect_error("smp negative", "[a]\nfile = a.elf\nsmp = -1\n", 3,
		     "not a number");
	expect_error("smp with suffix", "[a]\nfile = a.elf\nsmp = 2M\n", 3,
		     "not a number");
	expect_error("smp empty", "[a]\nfile = a.elf\nsmp =\n", 3, "not a number");
	expect_error("smp overflow", "[a]\nfile = a.elf\nsmp = 99999999999999999999\n",
		     3, "not a number");
	expect_error("memory too small", "[a]\nfile = a.elf\nmemory = 15\n", 3,
		     "out of range");
	expect_error("memory too large", "[a]\nfile = a.elf\nmemory = 65G\n", 3,
		     "out of range");
	expect_error("memory bad suffix", "[a]\nfile = a.elf\nmemory = 128K\n", 3,
		     "not a size");
	expect_error("memory trailing junk", "[a]\nfile = a.elf\nmemory = 1GG\n", 3,
		     "not a size");
	expect_error("timeout 0", "[a]\nfile = a.elf\ntimeout = 0\n", 3,
		     "out of range");
	expect_error("timeout too large", "[a]\nfile = a.elf\ntimeout = 1441m\n", 3,
		     "out of range");
	expect_error("timeout bad suffix", "[a]\nfile = a.elf\ntimeout = 1h\n", 3,
		     "not a duration");
	expect_error("cpu empty", "[a]\nfile = a.elf\ncpu =\n", 3, "empty value");
	expect_error("cpu two words", "[a]\nfile = a.elf\nqemu_cpu = max host\n", 3,
		     "not one CPU model");
	expect_error("unknown hypervisor", "[a]\nfile = a.elf\nhypervisors = qemu xen\n",
		     3, "unknown hypervisor 'qemu'");
	expect_error("empty hypervisor list", "[a]\nfile = a.elf\nhypervisors =\n", 3,
		     "empty list");
	expect_error("duplicate hypervisor",
		     "[a]\nfile = a.elf\nhypervisors = bochs bochs\n", 3,
		     "duplicate hypervisor");
	expect_error("group syntax (comma)", "[a]\nfile = a.elf\ngroups = svm,nested\n",
		     3, "bad group name 'svm,nested'");
	expect_error("group syntax (dot)", "[a]\nfile = a.elf\ngroups = a.b\n", 3,
		     "bad group name");
	expect_error("duplicate group", "[a]\nfile = a.elf\ngroups = x y x\n", 3,
		     "duplicate group");
	expect_error("unknown feature", "[a]\nfile = a.elf\nrequires = svm sse9\n", 3,
		     "unknown feature 'sse9'");
	expect_error("duplicate feature", "[a]\nfile = a.elf\nrequires = svm svm\n", 3,
		     "duplicate feature");
}

static void test_nul(void)
{
	static const char text[] = "[a]\nfile = a.elf\nargs = x\0y\n";
	struct cfg cfg;
	struct cfg_error err;
	int rc = cfg_parse(text, sizeof(text) - 1, &cfg, &err);

	OK(rc == -1 && err.line == 3 && strstr(err.msg, "control character 0x00"),
	   "error: NUL byte");
	if (rc == 0)
		cfg_free(&cfg);
}

static void test_load(void)
{
	char path[] = "/tmp/test-cfg-XXXXXX";
	int fd = mkstemp(path);
	struct cfg cfg;
	struct cfg_error err;

	if (!OK(fd >= 0, "temporary file")) {
		perror("mkstemp");
		return;
	}
	static const char text[] = "[x]\nfile = x.elf\n";
	OK(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1, "write it");
	close(fd);
	if (OK(cfg_load(path, &cfg, &err) == 0 && cfg.count == 1, "cfg_load reads a file"))
		cfg_free(&cfg);
	unlink(path);
	OK(cfg_load(path, &cfg, &err) == -1 && err.line == 0 && *err.msg,
	   "cfg_load of a missing file fails without a line");
}

int main(void)
{
	test_defaults();
	test_full();
	test_limits();
	test_errors();
	test_nul();
	test_load();
	return tap_done();
}
