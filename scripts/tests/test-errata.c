/* Unit tests of the expected-failure data (docs/errata.md). Prints TAP; exits non-zero on failure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errata.h"
#include "tap.h"

/* A target with a hypervisor and a version only. */
#define T(hv, ver) (&(struct hvt_target){ .hypervisor = (hv), .version = (ver) })

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_compare(void)
{
	static const struct { const char *a, *b; int want; } cases[] = {
		{ "7.2.22", "7.2.22", 0 }, { "7.2.22", "7.2", 1 }, { "7.2", "7.2.22", -1 },
		{ "8.0", "8.0.0", 0 }, { "8", "8.0", 0 }, { "10.0", "9.9", 1 }, { "7.10", "7.9", 1 },
		{ "7.2.9", "7.2.10", -1 }, { "2.7", "2.6.11", 1 }, { "8.2.0-rc1", "8.2.0", 0 },
		{ "8.2.0+dfsg", "8.2.1", -1 }, { "007.2", "7.2", 0 }, { "1.2.3.4", "1.2.3", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OK(sign(hvt_version_compare(cases[i].a, cases[i].b)) == cases[i].want,
		   "compare %s %s: %d", cases[i].a, cases[i].b, cases[i].want);
}

static void test_conditions(void)
{
	static const struct { const char *cond, *version; bool want; } cases[] = {
		{ "*", "7.2.22", true }, { "*", NULL, true }, { "*", "garbage", true },
		{ "7.2", "7.2.22", true }, { "7.2", "7.2", true }, { "7.2", "7.2.0", true },
		{ "7.2", "7.20", false }, { "7.2", "7.3", false }, { "7.2", "7", false },
		{ "7.2", "6.2.7", false }, { "7.0", "7", true }, { "7", "7.2.22", true },
		{ "=7.2.22", "7.2.22", true }, { "=7.2.22", "7.2.21", false }, { "=7.2.22", "7.2.22.1", false },
		{ "=7.2", "7.2.0", true }, { "=7.2", "7.2.1", false },
		{ "<8.0", "7.2.22", true }, { "<8.0", "8.0", false }, { "<8.0", "8.0.1", false },
		{ "<8.0", "10.0", false }, { "<=8.0", "8.0", true }, { "<=8.0", "8.0.0", true },
		{ "<=8.0", "8.0.1", false }, { "<=8.0", "7.9", true },
		{ ">7.1", "7.1.1", true }, { ">7.1", "7.1", false }, { ">7.1", "7.0.9", false },
		{ ">=7.1", "7.1", true }, { ">=7.1", "7.0", false }, { ">=7.1", "12", true },
		{ ">=7.1,<8.0", "7.2.22", true }, { ">=7.1,<8.0", "8.1", false }, { ">=7.1,<8.0", "7.0", false },
		{ "7.2,=7.2.22", "7.2.22", true }, { "7.2,=7.2.22", "7.2.21", false },
		{ "<8.0", NULL, false }, { "<8.0", "", false }, { "<8.0", "unknown", false },
		{ "7.2", "v7.2", false }, { "<8.0", "7.2.0-rc1", true },
	};
	static const char *const bad[] = {
		"", "x", "7.", ".7", "7..2", "<", "<=", "=<8", "=>8", "<8.0,", ",<8.0", "7.2 ", "7.x",
		"**", "7,*", "-1", "+1", "<<8", "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17",
	};
	static const char *const good[] = { "*", "7", "7.2.22", "=7.2.22", "<8.0", "<=8", ">7.1",
					    ">=7.1", ">=7.1,<8.0,7" };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OK(hvt_version_matches(cases[i].cond, cases[i].version) == cases[i].want,
		   "'%s' %s %s", cases[i].cond, cases[i].want ? "matches" : "does not match",
		   cases[i].version ? cases[i].version : "(null)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		OK(!hvt_versions_valid(bad[i]) && !hvt_version_matches(bad[i], "7.2"),
		   "VERSIONS '%s' rejected", bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		OK(hvt_versions_valid(good[i]), "VERSIONS '%s' accepted", good[i]);
}

/* The facet conditions module= and cpu= (docs/errata.md), alone and with versions. */
static void test_facets(void)
{
	const struct hvt_target pvm = { "qemu-kvm", "6.18.44-fc-v1045", "kvm_pvm", "host" };
	const struct hvt_target amd = { "qemu-kvm", "6.1.0", "kvm_amd", "host,-arch-capabilities" };
	const struct hvt_target bare = { "qemu-kvm", NULL, NULL, NULL };

	OK(hvt_target_matches("module=kvm_pvm", &pvm) && !hvt_target_matches("module=kvm_pvm", &amd),
	   "module= names the flavour");
	OK(hvt_target_matches("module=kvm_*", &amd) && !hvt_target_matches("module=kvm_*", &bare),
	   "module= is a glob, and fails without a module");
	OK(hvt_target_matches(">=6.18,module=kvm_pvm", &pvm) &&
	   !hvt_target_matches(">=6.19,module=kvm_pvm", &pvm), "module= and a version both hold");
	OK(hvt_target_matches("module=kvm_amd,cpu=host,-arch-capabilities", &amd),
	   "cpu= takes the rest of the field, commas included");
	OK(!hvt_target_matches("cpu=host", &amd) && hvt_target_matches("cpu=host*", &amd) &&
	   hvt_target_matches("cpu=host", &pvm), "cpu= matches the whole model");
	OK(!hvt_target_matches("cpu=host", &bare) && hvt_target_matches("*", &bare),
	   "cpu= fails for an unknown model; '*' still holds");
	OK(hvt_versions_valid("6.18,module=kvm_pvm,cpu=host,-arch-capabilities") &&
	   hvt_versions_valid("cpu=EPYC") && !hvt_versions_valid("cpu=") &&
	   !hvt_versions_valid("module=a,") && !hvt_versions_valid("module=a=b"),
	   "facet syntax");
	OK(!hvt_target_matches("module=kvm_pvm", NULL), "no target: no match");
}

static void test_glob(void)
{
	static const struct { const char *pattern, *s; bool want; } cases[] = {
		{ "*", "", true }, { "*", "anything", true }, { "msr", "msr", true }, { "msr", "msrx", false },
		{ "msr", "ms", false }, { "npt.*", "npt.a.b", true }, { "npt.*", "npt.", true },
		{ "npt.*", "npt", false }, { "*.bit_12", "efer.bit_12", true }, { "*.bit_12", "efer.bit_120", false },
		{ "a*b*c", "axxbyyc", true }, { "a*b*c", "axxbyy", false }, { "a*b*c", "abcbc", true },
		{ "**", "x", true }, { "*a", "bbba", true }, { "*a", "bbab", false }, { "", "", true },
		{ "", "x", false }, { "a*", "a", true }, { "*aab", "aaaab", true },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OK(hvt_glob_match(cases[i].pattern, cases[i].s) == cases[i].want, "glob '%s' %s '%s'",
		   cases[i].pattern, cases[i].want ? "matches" : "does not match", cases[i].s);
}

static void test_pattern_selects(void)
{
	static const struct { const char *pattern, *name; bool want; } cases[] = {
		{ "catch.bp", "catch.bp", true }, { "catch", "catch.bp", true }, { "catch", "catch", true },
		{ "catch.bp", "catch.bp.int3", true }, { "catch.bp", "catch.bpx", false },
		{ "catch.bp", "catch", false }, { "cat", "catch.bp", false }, { "bp", "catch.bp", false },
		{ "apic.*", "apic.xapic", true }, { "apic.*", "apic", false }, { "*.bp", "catch.bp", true },
		{ "a.b", "a.b.c.d", true }, { "a.b.c", "a.b.c.d", true }, { "a.c", "a.b.c", false },
		{ "*", "-", true },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OK(hvt_pattern_selects(cases[i].pattern, cases[i].name) == cases[i].want,
		   "pattern '%s' %s '%s'", cases[i].pattern, cases[i].want ? "selects" : "does not select",
		   cases[i].name);
}

static struct hvt_errata *parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return hvt_errata_parse(text, strlen(text), "errata.cfg", err, errlen);
}

static void test_parse(void)
{
	static const char good[] =
		"# Known deviations\n"
		"\n"
		"   # indented comment\n"
		"qemu-tcg    <8.0      intr_shadow:movss.db  TCG delivers the single-step #DB after MOV SS at once (SDM Vol. 3A 6.8.3)\r\n"
		"\tbochs\t*\tsvm:npt.*\t\tno NPT A/D bits   \n"
		"qemu-kvm >=7.1,<8.0 *:* everything: broken";
	char err[256];
	struct hvt_errata *e = parse(good, err, sizeof(err));
	const struct hvt_erratum *x;

	OK(e != NULL, "valid file parsed (%s)", err);
	OK(hvt_errata_count(e) == 3, "three entries");
	x = hvt_errata_entry(e, 0);
	OK(x && strcmp(x->hypervisor, "qemu-tcg") == 0 && strcmp(x->versions, "<8.0") == 0 &&
	   strcmp(x->test, "intr_shadow") == 0 && strcmp(x->check, "movss.db") == 0 && x->line == 4,
	   "first entry fields");
	OK(x && strcmp(x->reason, "TCG delivers the single-step #DB after MOV SS at once (SDM Vol. 3A 6.8.3)") == 0,
	   "reason with '#' kept whole, CR stripped");
	x = hvt_errata_entry(e, 1);
	OK(x && strcmp(x->reason, "no NPT A/D bits") == 0 && x->line == 5, "tabs separate fields, trailing blanks trimmed");
	x = hvt_errata_entry(e, 2);
	OK(x && strcmp(x->reason, "everything: broken") == 0 && x->line == 6, "last line without newline");
	OK(hvt_errata_entry(e, 3) == NULL, "entry out of range is NULL");
	hvt_errata_free(e);

	e = parse("qemu-kvm  =6.18.44  !selftest:catch.bp  INT3 stops KVM (SDM Vol. 2A INT3)\n"
		  "bochs * !s*:apic.* r\n"
		  "bochs * a!b:c d\n", err, sizeof(err));
	OK(e && hvt_errata_count(e) == 3, "not-run entries parsed (%s)", err);
	x = hvt_errata_entry(e, 0);
	OK(x && x->not_run && strcmp(x->test, "selftest") == 0 && strcmp(x->check, "catch.bp") == 0 &&
	   strcmp(x->versions, "=6.18.44") == 0 && strcmp(x->reason, "INT3 stops KVM (SDM Vol. 2A INT3)") == 0,
	   "'!' sets not_run and is not part of the test glob");
	x = hvt_errata_entry(e, 1);
	OK(x && x->not_run && strcmp(x->test, "s*") == 0 && strcmp(x->check, "apic.*") == 0,
	   "not-run entry with globs");
	x = hvt_errata_entry(e, 2);
	OK(x && !x->not_run && strcmp(x->test, "a!b") == 0, "'!' inside a test glob is no marker");
	hvt_errata_free(e);

	e = parse("", err, sizeof(err));
	OK(e && hvt_errata_count(e) == 0, "empty file");
	hvt_errata_free(e);
	e = parse("# only\n\n  \n", err, sizeof(err));
	OK(e && hvt_errata_count(e) == 0, "comments and blank lines only");
	hvt_errata_free(e);
}

static void test_parse_errors(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "hyperv * a:b r\n", "errata.cfg:1: unknown hypervisor 'hyperv'" },
		{ "qemu-kvm module= a:b r\n", "errata.cfg:1: bad VERSIONS 'module='" },
		{ "qemu-kvm 7.2,cpu= a:b r\n", "errata.cfg:1: bad VERSIONS '7.2,cpu='" },
		{ "qemu-kvm module=a=b a:b r\n", "errata.cfg:1: bad VERSIONS 'module=a=b'" },
		{ "qemu-kvm arch=x a:b r\n", "errata.cfg:1: bad VERSIONS 'arch=x'" },
		{ "# c\n\nQEMU-TCG * a:b r\n", "errata.cfg:3: unknown hypervisor" },
		{ "bochs\n", "errata.cfg:1: missing VERSIONS" },
		{ "bochs 7.x a:b r\n", "errata.cfg:1: bad VERSIONS '7.x'" },
		{ "bochs <8.0,,>7 a:b r\n", "errata.cfg:1: bad VERSIONS" },
		{ "bochs *\n", "errata.cfg:1: missing TEST:CHECK" },
		{ "bochs * ab r\n", "errata.cfg:1: bad TEST:CHECK 'ab'" },
		{ "bochs * :b r\n", "errata.cfg:1: bad TEST:CHECK" },
		{ "bochs * a: r\n", "errata.cfg:1: bad TEST:CHECK" },
		{ "bochs * a:b\n", "errata.cfg:1: missing REASON" },
		{ "bochs * a:b   \t \n", "errata.cfg:1: missing REASON" },
		{ "bochs * a:b ok\nbochs * a:b bad\x01\n", "errata.cfg:2: control byte 0x01" },
		{ "bochs * a:b ok\r\nbochs * a:b bad\r\r\n", "errata.cfg:2: control byte 0x0d" },
		{ "bochs * ! r\n", "errata.cfg:1: bad not-run TEST:CHECK '!'" },
		{ "bochs * !:b r\n", "errata.cfg:1: bad not-run TEST:CHECK '!:b'" },
		{ "bochs * !a: r\n", "errata.cfg:1: bad not-run TEST:CHECK '!a:'" },
		{ "bochs * !ab r\n", "errata.cfg:1: bad not-run TEST:CHECK '!ab'" },
		{ "bochs * !!a:b r\n", "errata.cfg:1: bad not-run TEST:CHECK '!!a:b'" },
		{ "bochs * a:b ok\nbochs * !a:n=1 r\n", "errata.cfg:2: bad not-run CHECK 'n=1'" },
		{ "bochs * !a:b? r\n", "errata.cfg:1: bad not-run CHECK 'b?'" },
		{ "bochs * !a:b\n", "errata.cfg:1: missing REASON" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hvt_errata *e = parse(cases[i].text, err, sizeof(err));

		OK(!e && strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "rejected: %s (got '%s')",
		   cases[i].want, err);
		hvt_errata_free(e);
	}

	static const char nul[] = "bochs * a:b ok\0 hidden\n";
	struct hvt_errata *e = hvt_errata_parse(nul, sizeof(nul) - 1, "x.cfg", err, sizeof(err));
	OK(!e && strcmp(err, "x.cfg:1: control byte 0x00") == 0, "NUL byte rejected (%s)", err);
	e = hvt_errata_parse("xen", 3, "x.cfg", NULL, 0);
	OK(!e, "error without a message buffer");
}

static void test_lookup(void)
{
	static const char text[] =
		"qemu-tcg <8.0   intr_shadow:movss.db  old TCG\n"
		"qemu-tcg *      intr_shadow:movss.*   any TCG\n"
		"qemu-kvm 7.2    svm*:npt.*            KVM 7.2 series\n"
		"bochs    *      *:*                   Bochs: everything\n";
	char err[256];
	struct hvt_errata *e = parse(text, err, sizeof(err));
	const struct hvt_erratum *x;

	x = hvt_errata_lookup(e, T("qemu-tcg", "7.2.22"), "intr_shadow", "movss.db");
	OK(x && strcmp(x->reason, "old TCG") == 0, "first matching entry wins");
	x = hvt_errata_lookup(e, T("qemu-tcg", "8.1.0"), "intr_shadow", "movss.db");
	OK(x && strcmp(x->reason, "any TCG") == 0, "version condition falls through to the next entry");
	x = hvt_errata_lookup(e, T("qemu-tcg", NULL), "intr_shadow", "movss.db");
	OK(x && strcmp(x->reason, "any TCG") == 0, "unknown version matches only '*'");
	OK(!hvt_errata_lookup(e, T("qemu-tcg", "7.2"), "intr_shadow", "sti.db"), "other check: none");
	OK(!hvt_errata_lookup(e, T("qemu-tcg", "7.2"), "intr_shadow2", "movss.db"), "other test: none");
	OK(!hvt_errata_lookup(e, T("qemu-kvm", "7.2"), "intr_shadow", "movss.db"), "other hypervisor: none");
	OK(hvt_errata_lookup(e, T("qemu-kvm", "7.2.5"), "svm-nested", "npt.ad"), "glob in the test part");
	OK(!hvt_errata_lookup(e, T("qemu-kvm", "7.3"), "svm", "npt.ad"), "version series excludes 7.3");
	OK(hvt_errata_lookup(e, T("bochs", "2.7"), "anything", "at.all"), "'*:*' covers everything");
	OK(!hvt_errata_lookup(NULL, T("bochs", "2.7"), "a", "b"), "NULL errata: none");
	hvt_errata_free(e);

	/* The first ':' ends TEST; the check part may hold more (a state case "s1:c417"). */
	e = parse("bochs * svm_states:s1:c417 case\nbochs * !svm_states:cr3.mbz stops\n"
		  "bochs * x*:s2:* seed 2\n", err, sizeof(err));
	OK(e && strcmp(hvt_errata_entry(e, 0)->test, "svm_states") == 0 &&
	   strcmp(hvt_errata_entry(e, 0)->check, "s1:c417") == 0, "TEST:CHECK with ':' in CHECK (%s)", err);
	OK(hvt_errata_lookup(e, T("bochs", "2.7"), "svm_states", "s1:c417") &&
	   !hvt_errata_lookup(e, T("bochs", "2.7"), "svm_states", "s1:c4170") &&
	   !hvt_errata_lookup(e, T("bochs", "2.7"), "svm_states:s1", "c417"),
	   "a check name with ':' matches exactly, never across the test part");
	OK(hvt_errata_lookup(e, T("bochs", "2.7"), "xsvm", "s2:c9") &&
	   !hvt_errata_lookup(e, T("bochs", "2.7"), "xsvm", "s3:c9"), "glob over a check name with ':'");
	OK(!hvt_errata_lookup(e, T(NULL, "2.7"), "a", "b"), "no hypervisor: none");
	OK(hvt_hypervisor_known("bochs") && !hvt_hypervisor_known("kvm") && !hvt_hypervisor_known(NULL),
	   "known hypervisors");
	hvt_errata_free(e);
	hvt_errata_free(NULL);
}

static void test_not_run(void)
{
	static const char text[] =
		"qemu-kvm =6.18.44 !selftest:catch.bp  INT3 stops KVM\n"
		"qemu-kvm *        selftest:catch.*    normal entry\n"
		"qemu-kvm *        !self*:catch.bp     same check again\n"
		"qemu-kvm >=6.19   !selftest:apic.*    newer kernels only\n"
		"qemu-kvm *        !other:catch.bp     another test\n"
		"qemu-kvm *        !*:cmdline          every test\n"
		"qemu-tcg *        !selftest:printf    TCG only\n";
	char err[256];
	struct hvt_errata *e = parse(text, err, sizeof(err));
	const struct hvt_erratum *x, *bp = hvt_errata_entry(e, 0), *normal = hvt_errata_entry(e, 1);
	size_t pos = 0;

	OK(e != NULL, "not-run errata parse (%s)", err);
	x = hvt_errata_next_not_run(e, T("qemu-kvm", "6.18.44-fc-v445"), "selftest", &pos);
	OK(x == bp, "first applicable not-run entry; the kernel release's numeric part is compared");
	x = hvt_errata_next_not_run(e, T("qemu-kvm", "6.18.44-fc-v445"), "selftest", &pos);
	OK(x && x->line == 6 && strcmp(x->check, "cmdline") == 0,
	   "same CHECK once, other versions and tests left out, normal entries skipped");
	OK(!hvt_errata_next_not_run(e, T("qemu-kvm", "6.18.44-fc-v445"), "selftest", &pos) &&
	   !hvt_errata_next_not_run(e, T("qemu-kvm", "6.18.44-fc-v445"), "selftest", &pos),
	   "then none, and none again");

	pos = 0;
	x = hvt_errata_next_not_run(e, T("qemu-kvm", "6.19.1"), "selftest", &pos);
	OK(x && x->line == 3, "entry 1 does not apply: the duplicate of its CHECK is not one then");
	x = hvt_errata_next_not_run(e, T("qemu-kvm", "6.19.1"), "selftest", &pos);
	OK(x && x->line == 4, "version condition of a not-run entry");
	pos = 0;
	x = hvt_errata_next_not_run(e, T("qemu-kvm", NULL), "other", &pos);
	OK(x && x->line == 5, "test glob of a not-run entry");
	x = hvt_errata_next_not_run(e, T("qemu-kvm", NULL), "other", &pos);
	OK(x && x->line == 6, "'*' test glob; unknown version matches only '*'");
	pos = 0;
	OK(!hvt_errata_next_not_run(e, T("bochs", "2.7"), "selftest", &pos), "other hypervisor: none");
	pos = 0;
	OK(!hvt_errata_next_not_run(NULL, T("qemu-kvm", "6.18.44"), "selftest", &pos), "NULL errata: none");

	OK(hvt_erratum_applies(bp, T("qemu-kvm", "6.18.44"), "selftest") &&
	   !hvt_erratum_applies(bp, T("qemu-kvm", "6.18.45"), "selftest") &&
	   !hvt_erratum_applies(bp, T("qemu-tcg", "6.18.44"), "selftest") &&
	   !hvt_erratum_applies(bp, T("qemu-kvm", "6.18.44"), "selftest2") &&
	   !hvt_erratum_applies(bp, T(NULL, "6.18.44"), "selftest"), "hvt_erratum_applies");
	OK(hvt_erratum_covers(bp, "catch.bp") && hvt_erratum_covers(bp, "catch.bp.int3") &&
	   !hvt_erratum_covers(bp, "catch.bpx") && !hvt_erratum_covers(bp, "catch"),
	   "a not-run entry covers the results of the entries it selects");
	OK(hvt_erratum_covers(normal, "catch.ud") && !hvt_erratum_covers(normal, "catch"),
	   "a normal entry's CHECK is a glob on the whole name");

	/* A not-run check that ran anyway is judged like any other: the first entry wins. */
	x = hvt_errata_lookup(e, T("qemu-kvm", "6.18.44"), "selftest", "catch.bp.int3");
	OK(x == bp, "lookup finds the not-run entry for a result of its check");
	x = hvt_errata_lookup(e, T("qemu-kvm", "6.18.45"), "selftest", "catch.bp");
	OK(x == normal, "then falls through to the next entry");
	x = hvt_errata_lookup(e, T("qemu-kvm", "6.18.45"), "selftest", "cmdline.words");
	OK(x && x->line == 6, "not-run prefix rule in lookup");
	hvt_errata_free(e);
}

static void test_load(void)
{
	char path[] = "/tmp/test-errata-XXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct hvt_errata *e;

	OK(f != NULL, "temporary file");
	if (!f)
		return;
	fputs("# comment\nbochs * a:b r1\nbochs 2.8 a:c r2\nqemu-kvm = a:b r3\n", f);
	fclose(f);
	e = hvt_errata_load(path, err, sizeof(err));
	OK(!e && strstr(err, ":4: bad VERSIONS '='") && strncmp(err, path, strlen(path)) == 0,
	   "load reports FILE:LINE: %s", err);
	f = fopen(path, "w");
	fputs("bochs * a:b r1\n", f);
	fclose(f);
	e = hvt_errata_load(path, err, sizeof(err));
	OK(e && hvt_errata_count(e) == 1, "load a valid file");
	hvt_errata_free(e);
	unlink(path);
	e = hvt_errata_load(path, err, sizeof(err));
	OK(!e && strstr(err, "cannot open"), "missing file: %s", err);
}

static struct hvt_errata *parse_text(const char *text, char *err, size_t errlen)
{
	return hvt_errata_parse(text, strlen(text), "e.cfg", err, errlen);
}

static void test_normalise(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "exit code 0x81 at rip 0x10013b, expected 0x2", "exit code 0x81 at rip <addr>, expected 0x2" },
		{ "  got 0x3fffff and 0x400000 and 0xfffff  ", "got <addr> and 0x400000 and 0xfffff" },
		{ "0x100000", "<addr>" }, { "WRMSR 0xc0000103 <- 0x100000000", "WRMSR 0xc0000103 <- 0x100000000" },
		{ "error code 0x100130, return 0x8", "error code <addr>, return 0x8" },
		{ "a0x100000 0x100000z 0x100000:", "a0x100000 0x100000z <addr>:" },
		{ "0X1A2B3C", "<addr>" }, { "0x", "0x" }, { "", "" }, { "0x00000000001001c9", "<addr>" },
		{ "0x000000000000001001c9", "0x000000000000001001c9" },
	};
	char out[HVT_DETAIL_MAX], small[8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hvt_detail_normalise(cases[i].in, out, sizeof(out));
		OK(strcmp(out, cases[i].want) == 0, "normalise '%s': '%s'", cases[i].in, out);
	}
	OK(hvt_detail_normalise("at 0x100000 ok", small, sizeof(small)) == 7 &&
	   strcmp(small, "at <add") == 0, "normalise truncates to the buffer: '%s'", small);
}

static void test_observed_parse(void)
{
	char err[256];
	const struct hvt_erratum *x;
	struct hvt_errata *e = parse_text(
		"qemu-tcg >=7.2 t:a.* r1 r2\n"
		"\tobserved * a.x: got 0x1, expected 0x2\n"
		"  observed <8.0,cpu=max a.y*:   exit <addr>  \n"
		"# between\n"
		"observed >=8.0 a.y*: exit 0x5\n"
		"bochs * u:v r\n",
		err, sizeof(err));

	OK(e && hvt_errata_count(e) == 2, "observed lines are no entries: %s", e ? "" : err);
	x = hvt_errata_entry(e, 0);
	OK(x && x->n_observed == 3 && strcmp(x->reason, "r1 r2") == 0, "three observed lines on entry 1");
	OK(x && strcmp(x->observed[0].versions, "*") == 0 && strcmp(x->observed[0].check, "a.x") == 0 &&
	   strcmp(x->observed[0].detail, "got 0x1, expected 0x2") == 0 && x->observed[0].line == 2,
	   "observed fields: versions, check without ':', detail, line");
	OK(x && strcmp(x->observed[1].versions, "<8.0,cpu=max") == 0 &&
	   strcmp(x->observed[1].detail, "exit <addr>") == 0 && x->observed[2].line == 5,
	   "blanks around the detail are dropped; a comment does not end the entry");
	x = hvt_errata_entry(e, 1);
	OK(x && x->n_observed == 0 && !x->observed, "entry 2 records nothing");
	hvt_errata_free(e);
}

static void test_observed_errors(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "observed * a: b\n", ":1: an 'observed' line before any entry" },
		{ "bochs * t:c r\nobserved\n", ":2: unknown hypervisor 'observed'" },
		{ "bochs * t:c r\nobserved * c:\n", ":2: incomplete 'observed' line" },
		{ "bochs * t:c r\nobserved *\n", ":2: incomplete 'observed' line" },
		{ "bochs * t:c r\nobserved * c d\n", ":2: bad observed CHECK 'c'" },
		{ "bochs * t:c r\nobserved * : d\n", ":2: bad observed CHECK ':'" },
		{ "bochs * t:c r\nobserved * a:b: d\n", ":2: bad observed CHECK 'a:b:'" },
		{ "bochs * t:c r\nobserved <x c: d\n", ":2: bad observed VERSIONS '<x'" },
		{ "bochs * !t:c r\nobserved * c: d\n", ":2: an 'observed' line under a not-run entry" },
		{ "bochs * t:c r\nobserved * c: d\x01\n", ":2: control byte 0x01" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct hvt_errata *e = parse_text(cases[i].text, err, sizeof(err));

		OK(!e && strstr(err, cases[i].want), "rejected: %s", err);
		hvt_errata_free(e);
	}
}

static void test_observed_match(void)
{
	char err[256];
	const struct hvt_observation *rec;
	struct hvt_errata *e = parse_text(
		"qemu-tcg >=7.2 t:a.* r\n"
		"\tobserved <8.0 a.x: got 0x1\n"
		"\tobserved >=8.0 a.x: got 0x2\n"
		"\tobserved * a.w*: WRMSR * <- *: no exception\n"
		"qemu-tcg * u:* unpinned\n",
		err, sizeof(err));
	const struct hvt_erratum *x = hvt_errata_entry(e, 0), *y = hvt_errata_entry(e, 1);

	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "7.2.22"), "a.x", "got 0x1", &rec) ==
			HVT_OBSERVED_MATCH && rec && rec->line == 2,
	   "the detail recorded for 7.2 matches on 7.2");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "10.0.2"), "a.x", "got 0x1", &rec) ==
			HVT_OBSERVED_DIFFERS && rec && rec->line == 3,
	   "7.2's detail on 10.0 differs from 10.0's, which is named");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "10.0.2"), "a.x", "got 0x2", NULL) ==
			HVT_OBSERVED_MATCH, "10.0's detail on 10.0");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "7.2.22"), "a.w.bit_3",
				     "WRMSR 0x10 <- 0x8: no exception", &rec) == HVT_OBSERVED_MATCH,
	   "a detail glob: '*' matches the written value");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "7.2.22"), "a.w.bit_3",
				     "WRMSR 0x10 <- 0x8: #GP(0x8)", &rec) == HVT_OBSERVED_DIFFERS &&
	   rec && rec->line == 4, "a detail glob does not match another outcome");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", "7.2.22"), "a.z", "anything", &rec) ==
			HVT_OBSERVED_UNRECORDED && !rec,
	   "a check no observed line names is unrecorded");
	OK(x && hvt_erratum_observed(x, T("qemu-tcg", NULL), "a.x", "got 0x1", &rec) ==
			HVT_OBSERVED_UNRECORDED, "no version: version-bound lines do not apply");
	OK(y && hvt_erratum_observed(y, T("qemu-tcg", "7.2"), "q", "whatever", &rec) ==
			HVT_OBSERVED_NONE && !rec, "an entry without observed lines accepts any detail");
	hvt_errata_free(e);

	e = parse_text("bochs * t:a.* r\n"
		       "\tobserved * a.odd: got 0x1\n"
		       "\tobserved * a.*: got 0x2\n", err, sizeof(err));
	x = hvt_errata_entry(e, 0);
	OK(x && hvt_erratum_observed(x, T("bochs", "2.7"), "a.odd", "got 0x2", &rec) ==
			HVT_OBSERVED_DIFFERS && rec && rec->line == 2,
	   "the first applicable line decides: a check's own line before the glob's");
	OK(x && hvt_erratum_observed(x, T("bochs", "2.7"), "a.even", "got 0x2", &rec) ==
			HVT_OBSERVED_MATCH && rec && rec->line == 3, "the glob's line for the others");
	hvt_errata_free(e);
}

/* The project's own file: every entry that runs pins what it observed (docs/errata.md). */
static void test_project_errata_pinned(void)
{
	const char *path = getenv("HVT_ERRATA_CFG") ? getenv("HVT_ERRATA_CFG") : "errata.cfg";
	char err[512];
	struct hvt_errata *e = hvt_errata_load(path, err, sizeof(err));
	size_t i, unpinned = 0, kvm = 0;

	OK(e != NULL, "%s parses: %s", path, e ? "yes" : err);
	for (i = 0; i < hvt_errata_count(e); i++) {
		const struct hvt_erratum *x = hvt_errata_entry(e, i);

		if (x->not_run || x->n_observed)
			continue;
		/*
		 * qemu-kvm runs only on a host with /dev/kvm, which make check cannot count on:
		 * its entries are named here until such a host records them.
		 */
		if (strcmp(x->hypervisor, "qemu-kvm") == 0) {
			printf("# %s:%lu: qemu-kvm %s:%s: no observed detail yet (needs a KVM host)\n",
			       path, x->line, x->test, x->check);
			kvm++;
			continue;
		}
		printf("# %s:%lu: %s:%s records no observed detail\n", path, x->line, x->test, x->check);
		unpinned++;
	}
	OK(unpinned == 0, "every entry of %s for a hypervisor make check runs records an observed detail (%zu do not; %zu qemu-kvm entries wait for a KVM host)",
	   path, unpinned, kvm);
	hvt_errata_free(e);
}

int main(void)
{
	test_compare();
	test_conditions();
	test_facets();
	test_glob();
	test_pattern_selects();
	test_parse();
	test_parse_errors();
	test_lookup();
	test_not_run();
	test_load();
	test_normalise();
	test_observed_parse();
	test_observed_errors();
	test_observed_match();
	test_project_errata_pinned();
	return tap_done();
}
