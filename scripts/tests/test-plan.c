/*
 * Unit tests of x86/run's plans (scripts/plan.c): the text form, what makes
 * a plan hold, the key.  Output is TAP.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static const char request[] =
	PLAN_MAGIC "\n"
	"root /work/tree\n"
	"name boot\n"
	"hv qemu-tcg\n"
	"nonce 0123456789abcdef\n"
	"rundir logs/run-20261201-120000-42\n"
	"log boot.qemu-tcg.log\n"
	"header # boot on qemu-tcg: a\\tb\\nc \\\\ d\n"
	"cmd qemu -append nonce=0123456789abcdef\n"
	"seconds 60\n"
	"arg qemu\n"
	"arg -append\n"
	"arg nonce=0123456789abcdef\n"
	"verdict /work/tree/build/host/hvt-verdict\n"
	"check file\t/nonexistent/hvt\n"
	"end\n";

static bool parses(const char *text, bool req, struct plan *p, char *err)
{
	return plan_parse(text, strlen(text), p, req, err, 128);
}

static void expect_bad(const char *what, const char *text, bool req, const char *want)
{
	struct plan p;
	char err[128] = "";
	bool ok = parses(text, req, &p, err);

	if (!OK(!ok && strstr(err, want), "rejected: %s", what))
		printf("#   got ok=%d err='%s', want '%s'\n", ok, err, want);
	if (ok)
		plan_free(&p);
}

static void test_round_trip(void)
{
	struct plan p, q;
	char err[128] = "", *text, *again;

	OK(parses(request, true, &p, err), "a request parses (%s)", err);
	OK(!strcmp(p.header, "# boot on qemu-tcg: a\tb\nc \\ d"), "escapes are undone");
	OK(p.args.n == 3 && p.verdict.n == 1 && p.checks.n == 1 && p.seconds == 60, "lists and numbers");
	OK(plan_stamp(&p, err, sizeof(err)), "a request is stamped");
	OK(!strcmp(p.checks.v[0], "file\t/nonexistent/hvt\tabsent"), "a missing file is 'absent'");
	p.key = 0x1234;
	text = plan_format(&p);
	OK(text && parses(text, false, &q, err), "the plan parses back (%s)", err);
	again = plan_format(&q);
	OK(again && !strcmp(text, again), "and formats the same");
	OK(q.key == 0x1234, "with its key");
	free(text);
	free(again);
	plan_free(&q);
	plan_free(&p);
	OK(!parses(request, false, &p, err) && strstr(err, "bad check"), "a plan's checks need values");
	text = str_replace_all(request, "check file\t/nonexistent/hvt\n", "");
	OK(text && !parses(text, false, &p, err) && strstr(err, "no key"), "a plan needs a key (%s)", err);
	free(text);
}

static void test_rejected(void)
{
	expect_bad("empty", "", true, "not a plan");
	expect_bad("other magic", "hvt-plan 2\n", true, "not a plan");
	expect_bad("cut short", PLAN_MAGIC "\nroot /x", true, "cut short");
	expect_bad("no end", PLAN_MAGIC "\nroot /x\n", true, "no end line");
	expect_bad("after the end", PLAN_MAGIC "\nend\nroot /x\n", true, "after the end");
	expect_bad("no value", PLAN_MAGIC "\nroot\n", true, "KEY VALUE");
	expect_bad("unknown key", PLAN_MAGIC "\nshell rm -rf\n", true, "unknown key");
	expect_bad("bad escape", PLAN_MAGIC "\nroot a\\x\n", true, "bad escape");
	expect_bad("trailing backslash", PLAN_MAGIC "\nroot a\\\n", true, "bad escape");
	expect_bad("incomplete", PLAN_MAGIC "\nroot /x\nend\n", true, "incomplete");
	expect_bad("twice", PLAN_MAGIC "\nroot /x\nroot /y\n", true, "twice");
	expect_bad("seconds not a number", PLAN_MAGIC "\nseconds 6x\n", true, "bad seconds");
	expect_bad("seconds too large", PLAN_MAGIC "\nseconds 999999\n", true, "bad seconds");
	expect_bad("key 0", PLAN_MAGIC "\nkey 00\n", false, "bad key");
	expect_bad("check without a path", PLAN_MAGIC "\ncheck file\n", true, "bad check");
	expect_bad("request check with a value", PLAN_MAGIC "\ncheck file\t/x\tv\n", true, "bad check");
	expect_bad("plan check without a value", PLAN_MAGIC "\ncheck file\t/x\n", false, "bad check");

	char *text;
	if ((text = str_replace_all(request, "\nend\n", "\nroot /again\nend\n"))) {
		expect_bad("a field repeated after the rest", text, true, "twice");
		free(text);
	}
	char nul[] = PLAN_MAGIC "\nroot a\0b\n";
	struct plan p;
	char err[128] = "";
	OK(!plan_parse(nul, sizeof(nul) - 1, &p, true, err, sizeof(err)) && strstr(err, "NUL"),
	   "rejected: a NUL byte");
	OK(!plan_parse(request, PLAN_MAX_BYTES + 1, &p, true, err, sizeof(err)), "rejected: too large");
	/* Every cut of a valid request is rejected, never read as a smaller plan. */
	bool all = true;
	for (size_t n = 0; n + 1 < strlen(request); n++) {
		if (plan_parse(request, n, &p, true, err, sizeof(err))) {
			printf("#   a cut at %zu parsed\n", n);
			plan_free(&p);
			all = false;
		}
	}
	OK(all, "every cut of a request is rejected");
}

static void test_holds(void)
{
	char path[] = "/tmp/hvt-test-plan.XXXXXX", why[128] = "", err[128], *req;
	struct plan p;
	int fd = mkstemp(path);

	if (!OK(fd >= 0, "a temporary file"))
		return;
	if (write(fd, "one\n", 4) != 4)
		return;
	close(fd);
	if (asprintf(&req, PLAN_MAGIC "\nroot /r\nname n\nhv h\nnonce 1\nrundir logs/run-1\nlog n.h.log\n"
		     "header h\ncmd c\nseconds 0\narg a\nverdict v\ncheck file\t%s\ncheck content\t%s\n"
		     "check exists\t/nonexistent\ncheck access\t%s\nend\n", path, path, path) < 0)
		return;
	OK(parses(req, true, &p, err) && plan_stamp(&p, err, sizeof(err)), "stamped (%s)", err);
	OK(!strcmp(p.checks.v[1] + strlen(p.checks.v[1]) - 4, "=one"), "content is the first line");
	OK(plan_holds(&p, why, sizeof(why)), "holds while nothing changed (%s)", why);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd >= 0) {
		if (write(fd, "two\n", 4) != 4)
			return;
		close(fd);
	}
	OK(!plan_holds(&p, why, sizeof(why)) && strstr(why, "file"), "a changed file breaks it (%s)", why);
	unlink(path);
	OK(!plan_holds(&p, why, sizeof(why)), "a removed file breaks it");
	plan_free(&p);
	free(req);
	char v[64];
	OK(plan_fact("exists", "/", v, sizeof(v)) && !strcmp(v, "1"), "exists /");
	OK(plan_fact("content", "/nonexistent", v, sizeof(v)) && !strcmp(v, "absent"), "content of nothing");
	OK(!plan_fact("shell", "/", v, sizeof(v)), "an unknown kind is refused");
}

static void test_key(void)
{
	char *argv1[] = { "x86/boot.elf", "a" }, *argv2[] = { "x86/boot.elf a" };
	char *env1[] = { "HV=bochs", "PATH=/bin", "SHLVL=1", "_=/x", NULL };
	char *env2[] = { "PATH=/bin", "HV=bochs", "SHLVL=3", "OLDPWD=/y", "PWD=/z", NULL };
	char *env3[] = { "PATH=/bin", "HV=qemu-tcg", NULL };
	uint64_t k = plan_key(argv1, 2, "/w", env1);

	OK(k == plan_key(argv1, 2, "/w", env2), "the key ignores order, SHLVL, _, PWD, OLDPWD");
	OK(k != plan_key(argv1, 2, "/w", env3), "the key covers the environment");
	OK(k != plan_key(argv2, 1, "/w", env1), "the key keeps arguments apart");
	OK(k != plan_key(argv1, 2, "/v", env1), "the key covers the working directory");
	OK(k != 0, "a key is never 0");
}

static void test_replace(void)
{
	char *r = str_replace_all("a-XY-XYXY", "XY", "z");

	OK(r && !strcmp(r, "a-z-zz"), "replace every occurrence");
	free(r);
	r = str_replace_all("", "XY", "z");
	OK(r && !strcmp(r, ""), "replace in nothing");
	free(r);
}

int main(void)
{
	test_round_trip();
	test_rejected();
	test_holds();
	test_key();
	test_replace();
	return tap_done();
}
