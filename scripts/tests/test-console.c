/*
 * Unit tests of the console parser (docs/protocol.md) and of hvt-verdict's verdict and report
 * functions. Prints TAP; exits non-zero when a test failed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "errata.h"

/*
 * The tool's judge and report functions are static in hvt-verdict.c; including it (with its
 * main renamed) tests them without a library that only the tests would use.
 */
#define main hvt_verdict_main
#include "../hvt-verdict.c"
#undef main

#include "tap.h"


/* Parse @len bytes in chunks of @chunk bytes (0: all at once). */
static struct hvt_console *parse_n(const char *data, size_t len, const char *nonce, size_t chunk,
				   size_t tail)
{
	struct hvt_console *c = hvt_console_new(nonce, tail);
	size_t off = 0;

	if (!c) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	if (!chunk)
		chunk = len ? len : 1;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		hvt_console_feed(c, data + off, n);
		off += n;
	}
	hvt_console_finish(c);
	return c;
}

static struct hvt_console *parse(const char *s)
{
	return parse_n(s, strlen(s), NULL, 0, HVT_TAIL_DEFAULT);
}

/* Parse and return the stream error; the parser is freed. */
static enum hvt_stream_error error_of(const char *s, const char *nonce)
{
	struct hvt_console *c = parse_n(s, strlen(s), nonce, 0, HVT_TAIL_DEFAULT);
	enum hvt_stream_error e = hvt_console_error(c);

	/* The one rule that matters most: an error is never a PASS. */
	if (e != HVT_STREAM_OK && hvt_console_verdict(c) != HVT_ERROR)
		e = (enum hvt_stream_error)-1;
	hvt_console_free(c);
	return e;
}

static enum hvt_status verdict_of(const char *s)
{
	struct hvt_console *c = parse(s);
	enum hvt_status v = hvt_console_verdict(c);

	hvt_console_free(c);
	return v;
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* Everything observable about a parse, as one string, to compare chunkings. */
static char *snapshot(const struct hvt_console *c)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	struct hvt_counts n;

	fprintf(f, "v=%d e=%d r=%s lines=%lu begin=%d end=%d test=%s nonce=%s\n",
		hvt_console_verdict(c), hvt_console_error(c), hvt_console_reason(c),
		hvt_console_line_count(c), hvt_console_saw_begin(c), hvt_console_saw_end(c),
		hvt_console_test(c) ? hvt_console_test(c) : "(null)",
		hvt_console_nonce(c) ? hvt_console_nonce(c) : "(null)");
	for (i = 0; i < hvt_console_result_count(c); i++) {
		const struct hvt_result *r = hvt_console_result(c, i);

		fprintf(f, "%lu %d %s|%s\n", r->seq, r->status, r->name, r->detail);
	}
	hvt_console_end_counts(c, &n);
	fprintf(f, "end %lu %lu %lu %lu\n", n.pass, n.fail, n.skip, n.error);
	for (i = 0; i < hvt_console_tail_count(c); i++)
		fprintf(f, "t|%s\n", hvt_console_tail_line(c, i));
	fclose(f);
	return buf;
}

#define BEGIN "HVT BEGIN proto=1 test=msr nonce=42\n"

#define RUN_PASS \
	"SeaBIOS (version 1.16)\n" \
	"Booting from ROM...\n" \
	BEGIN \
	"# checking EFER\n" \
	"HVT PASS 1 efer.read\n" \
	"HVT PASS 2 efer.write\n" \
	"HVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n"

static const char run_pass[] = RUN_PASS;

static const char run_fail[] =
	BEGIN
	"HVT PASS 1 efer.read\n"
	"HVT FAIL 2 reserved_bits.efer.bit_12: wrote 1, expected #GP(0), got no exception\n"
	"HVT SKIP 3 svm.vmrun: CPUID.80000001H:ECX.SVM[bit 2] = 0\n"
	"HVT END pass=1 fail=1 skip=1 error=0 status=FAIL nonce=42\n";

static const char run_skip[] =
	BEGIN
	"HVT SKIP 1 svm.vmrun: no SVM\n"
	"HVT SKIP 2 svm.npt: \n"
	"HVT END pass=0 fail=0 skip=2 error=0 status=SKIP nonce=42\n";

static const char run_error[] =
	BEGIN
	"HVT PASS 1 a\n"
	"HVT ERROR 2 -: unexpected #PF at rip=0x1234\n"
	"HVT END pass=1 fail=0 skip=0 error=1 status=ERROR nonce=42\n";

static void test_coherent_runs(void)
{
	struct hvt_console *c = parse(run_pass);
	const struct hvt_result *r;
	struct hvt_counts n;

	OK(hvt_console_verdict(c) == HVT_PASS, "passing run: PASS");
	OK(hvt_console_error(c) == HVT_STREAM_OK && hvt_console_reason(c)[0] == '\0',
	   "passing run: no stream error, empty reason");
	OK(hvt_console_result_count(c) == 2, "passing run: two results");
	r = hvt_console_result(c, 1);
	OK(r && r->seq == 2 && r->status == HVT_PASS && strcmp(r->name, "efer.write") == 0 &&
	   strcmp(r->detail, "") == 0, "passing run: second result recorded");
	OK(hvt_console_result(c, 2) == NULL, "result index out of range is NULL");
	OK(hvt_console_end_counts(c, &n) && n.pass == 2 && n.fail == 0, "passing run: END counts");
	OK(hvt_console_saw_begin(c) && hvt_console_saw_end(c), "passing run: BEGIN and END seen");
	OK(strcmp(hvt_console_test(c), "msr") == 0 && strcmp(hvt_console_nonce(c), "42") == 0,
	   "passing run: test and nonce from BEGIN");
	OK(hvt_console_line_count(c) == 7, "passing run: 7 lines");
	hvt_console_free(c);

	c = parse(run_fail);
	OK(hvt_console_verdict(c) == HVT_FAIL, "failing run: FAIL");
	r = hvt_console_result(c, 1);
	OK(r && r->status == HVT_FAIL && strcmp(r->name, "reserved_bits.efer.bit_12") == 0 &&
	   strcmp(r->detail, "wrote 1, expected #GP(0), got no exception") == 0,
	   "failing run: FAIL detail recorded");
	r = hvt_console_result(c, 2);
	OK(r && r->status == HVT_SKIP && strcmp(r->detail, "CPUID.80000001H:ECX.SVM[bit 2] = 0") == 0,
	   "failing run: SKIP reason may contain ':'");
	n = hvt_console_seen_counts(c);
	OK(n.pass == 1 && n.fail == 1 && n.skip == 1 && n.error == 0, "failing run: seen counts");
	hvt_console_free(c);

	/* A check name may hold ':' (the state tests' "s1:c417"), never at its end. */
	c = parse(BEGIN "HVT PASS 1 s1:c416\nHVT FAIL 2 s1:c417: predicted a: b\nHVT ERROR 3 x:y: \n"
		  "HVT END pass=1 fail=1 skip=0 error=1 status=ERROR nonce=42\n");
	r = hvt_console_result(c, 0);
	OK(r && strcmp(r->name, "s1:c416") == 0, "PASS name with ':'");
	r = hvt_console_result(c, 1);
	OK(r && r->status == HVT_FAIL && strcmp(r->name, "s1:c417") == 0 &&
	   strcmp(r->detail, "predicted a: b") == 0, "FAIL name with ':': the name ends at the first ': '");
	r = hvt_console_result(c, 2);
	OK(r && strcmp(r->name, "x:y") == 0 && strcmp(r->detail, "") == 0, "ERROR name with ':' and an empty reason");
	hvt_console_free(c);

	c = parse(run_skip);
	OK(hvt_console_verdict(c) == HVT_SKIP, "skipping run: SKIP");
	r = hvt_console_result(c, 1);
	OK(r && strcmp(r->detail, "") == 0, "empty reason after ': '");
	hvt_console_free(c);

	c = parse(run_error);
	OK(hvt_console_verdict(c) == HVT_ERROR && hvt_console_error(c) == HVT_STREAM_OK,
	   "run with an ERROR check: ERROR verdict, coherent stream");
	OK(contains(hvt_console_reason(c), "unexpected #PF"), "ERROR check: reason names it");
	r = hvt_console_result(c, 1);
	OK(r && r->status == HVT_ERROR && strcmp(r->name, "-") == 0, "ERROR with name '-'");
	hvt_console_free(c);
}

static void test_begin(void)
{
	OK(verdict_of("noise\nHVT PASS 1 forged\nHVT garbage\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n"
		      BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n") == HVT_PASS,
	   "protocol-looking lines before BEGIN are ignored");
	OK(error_of("", NULL) == HVT_STREAM_NO_BEGIN, "empty stream: no begin");
	OK(error_of("SeaBIOS\nNo bootable device.\n", NULL) == HVT_STREAM_NO_BEGIN, "noise only: no begin");
	OK(error_of("HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=-\n", NULL) ==
	   HVT_STREAM_NO_BEGIN, "results without BEGIN: no begin");
	OK(error_of(BEGIN "HVT PASS 1 a\n" BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n",
		    NULL) == HVT_STREAM_RESET, "double BEGIN: reset");
	OK(error_of(BEGIN "HVT BEGIN garbage\n", NULL) == HVT_STREAM_RESET, "second malformed BEGIN: reset");
	OK(error_of("HVT BEGIN proto=2 test=msr nonce=1\n", NULL) == HVT_STREAM_PROTO, "proto=2: unsupported");
	OK(error_of("HVT BEGIN proto=1 test=msr\n", NULL) == HVT_STREAM_MALFORMED, "BEGIN without nonce");
	OK(error_of("HVT BEGIN proto=1 test=msr nonce=1 x=2\n", NULL) == HVT_STREAM_MALFORMED, "BEGIN with extra field");
	OK(error_of("HVT BEGIN proto=1 test= nonce=1\n", NULL) == HVT_STREAM_MALFORMED, "BEGIN with empty test");
	OK(error_of("HVT BEGIN proto=01 test=a nonce=1\n", NULL) == HVT_STREAM_MALFORMED, "BEGIN proto=01");
	OK(error_of("HVT BEGIN\n", NULL) == HVT_STREAM_MALFORMED, "bare BEGIN");
	OK(verdict_of("HVT BEGINNING\n" BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n") ==
	   HVT_PASS, "'HVT BEGINNING' before BEGIN is noise");
	OK(verdict_of("xHVT BEGIN proto=1 test=a nonce=1\n" BEGIN
		      "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n") == HVT_PASS,
	   "BEGIN not at the start of a line is noise");
	OK(error_of("xHVT BEGIN proto=1 test=a nonce=1\n", NULL) == HVT_STREAM_NO_BEGIN,
	   "only a BEGIN not at the start of a line: no begin");
}

static void test_sequence(void)
{
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT PASS 3 b\nHVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n",
		    NULL) == HVT_STREAM_SEQ, "seq gap");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT PASS 1 b\nHVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n",
		    NULL) == HVT_STREAM_SEQ, "seq repeated");
	OK(error_of(BEGIN "HVT PASS 0 a\n", NULL) == HVT_STREAM_SEQ, "seq starting at 0");
	OK(error_of(BEGIN "HVT PASS 2 a\nHVT PASS 1 b\n", NULL) == HVT_STREAM_SEQ, "seq not starting at 1");
	OK(error_of(BEGIN "HVT PASS 01 a\n", NULL) == HVT_STREAM_MALFORMED, "seq with a leading zero");
	OK(error_of(BEGIN "HVT PASS 99999999999999999999999 a\n", NULL) == HVT_STREAM_MALFORMED,
	   "seq overflowing");

	struct hvt_console *c = parse(BEGIN "HVT PASS 1 a\nHVT PASS 3 b\nHVT PASS 4 c\n"
				      "HVT END pass=3 fail=0 skip=0 error=0 status=PASS nonce=42\n");
	OK(hvt_console_result_count(c) == 1, "recording stops at the first stream error");
	OK(contains(hvt_console_reason(c), "line 3:") && contains(hvt_console_reason(c), "sequence number 3, expected 2"),
	   "seq reason names the line and the numbers: %s", hvt_console_reason(c));
	hvt_console_free(c);
}

static void test_end(void)
{
	struct hvt_console *c;

	OK(error_of(BEGIN "HVT PASS 1 a\n", NULL) == HVT_STREAM_NO_END, "truncated: no end");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42", NULL) ==
	   HVT_STREAM_NO_END, "END without its newline: truncated");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=4", NULL) ==
	   HVT_STREAM_NO_END, "END cut inside the nonce: truncated");
	c = parse(BEGIN "HVT PASS 1 a\nHVT PA");
	OK(hvt_console_error(c) == HVT_STREAM_NO_END && contains(hvt_console_reason(c), "no end marker"),
	   "no end reason");
	hvt_console_free(c);

	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "END pass count mismatch");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=1 skip=0 error=0 status=FAIL nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "END fail count mismatch");
	OK(error_of(BEGIN "HVT FAIL 1 a: x\nHVT END pass=0 fail=1 skip=0 error=0 status=PASS nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "END status PASS with a failure");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT SKIP 2 b: r\nHVT END pass=1 fail=0 skip=1 error=0 status=SKIP nonce=42\n",
		    NULL) == HVT_STREAM_END_MISMATCH, "END status SKIP with a pass");
	OK(error_of(BEGIN "HVT ERROR 1 a: r\nHVT END pass=0 fail=0 skip=0 error=1 status=FAIL nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "END status FAIL with an error");
	OK(error_of(BEGIN "HVT END pass=0 fail=0 skip=0 error=0 status=PASS nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "empty run ending PASS");
	OK(error_of(BEGIN "HVT END pass=0 fail=0 skip=0 error=0 status=SKIP nonce=42\n", NULL) ==
	   HVT_STREAM_END_MISMATCH, "empty run ending SKIP");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=OK nonce=42\n", NULL) ==
	   HVT_STREAM_MALFORMED, "END with an unknown status");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 status=PASS nonce=42\n", NULL) ==
	   HVT_STREAM_MALFORMED, "END without error=");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42 \n", NULL) ==
	   HVT_STREAM_MALFORMED, "END with a trailing space");

	OK(error_of(RUN_PASS "HVT PASS 3 forged\n", NULL) == HVT_STREAM_AFTER_END, "forged result after END");
	OK(error_of(RUN_PASS "HVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n", NULL) ==
	   HVT_STREAM_AFTER_END, "second END");
	OK(error_of(RUN_PASS BEGIN, NULL) == HVT_STREAM_AFTER_END, "BEGIN after END");
	OK(error_of(RUN_PASS "HVT junk", NULL) == HVT_STREAM_AFTER_END, "unterminated protocol line after END");
	OK(verdict_of(RUN_PASS "qemu: terminating on signal 15\n\x01\x02 HVT x\nHVT") == HVT_PASS,
	   "console text after END is tolerated");
}

static void test_nonce(void)
{
	OK(error_of(run_pass, "42") == HVT_STREAM_OK, "matching nonce");
	OK(error_of(run_pass, "43") == HVT_STREAM_NONCE, "BEGIN nonce differs from the runner's");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=43\n", NULL) ==
	   HVT_STREAM_NONCE, "END nonce differs from BEGIN's");
	OK(error_of(BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=43\n", "42") ==
	   HVT_STREAM_NONCE, "END nonce differs from the runner's");
	OK(error_of("HVT BEGIN proto=1 test=msr nonce=-\nHVT PASS 1 a\n"
		    "HVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=-\n", "42") == HVT_STREAM_NONCE,
	   "guest without a nonce when the runner passed one");
	OK(error_of("HVT BEGIN proto=1 test=msr nonce=-\nHVT PASS 1 a\n"
		    "HVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=-\n", NULL) == HVT_STREAM_OK,
	   "nonce '-' without --nonce");

	struct hvt_console *c = parse_n(run_pass, strlen(run_pass), "7", 0, 10);
	OK(contains(hvt_console_reason(c), "'42'") && contains(hvt_console_reason(c), "'7'"),
	   "nonce reason shows both nonces: %s", hvt_console_reason(c));
	hvt_console_free(c);
}

static void test_malformed(void)
{
	char name[HVT_NAME_MAX + 2], line[512];

	OK(error_of(BEGIN "HVT WARN 1 a\n", NULL) == HVT_STREAM_MALFORMED, "unknown keyword");
	OK(error_of(BEGIN "HVT pass 1 a\n", NULL) == HVT_STREAM_MALFORMED, "lower-case keyword");
	OK(error_of(BEGIN "HVT \n", NULL) == HVT_STREAM_MALFORMED, "empty keyword");
	OK(error_of(BEGIN "HVT  PASS 1 a\n", NULL) == HVT_STREAM_MALFORMED, "two spaces after HVT");
	OK(error_of(BEGIN "HVT PASS\n", NULL) == HVT_STREAM_MALFORMED, "PASS without fields");
	OK(error_of(BEGIN "HVT PASS 1\n", NULL) == HVT_STREAM_MALFORMED, "PASS without a name");
	OK(error_of(BEGIN "HVT PASS 1 \n", NULL) == HVT_STREAM_MALFORMED, "PASS with an empty name");
	OK(error_of(BEGIN "HVT PASS x a\n", NULL) == HVT_STREAM_MALFORMED, "non-numeric seq");
	OK(error_of(BEGIN "HVT PASS -1 a\n", NULL) == HVT_STREAM_MALFORMED, "negative seq");
	OK(error_of(BEGIN "HVT PASS 1 a: detail\n", NULL) == HVT_STREAM_MALFORMED, "PASS with a detail");
	OK(error_of(BEGIN "HVT PASS 1 a b\n", NULL) == HVT_STREAM_MALFORMED, "name with a space");
	OK(error_of(BEGIN "HVT PASS 1 a \n", NULL) == HVT_STREAM_MALFORMED, "PASS with a trailing space");
	OK(error_of(BEGIN "HVT FAIL 1 a\n", NULL) == HVT_STREAM_MALFORMED, "FAIL without ': '");
	OK(error_of(BEGIN "HVT FAIL 1 a:\n", NULL) == HVT_STREAM_MALFORMED, "FAIL with ':' but no space");
	OK(error_of(BEGIN "HVT FAIL 1 a:b\n", NULL) == HVT_STREAM_MALFORMED, "FAIL with ':' glued to the detail");
	OK(error_of(BEGIN "HVT SKIP 1 : r\n", NULL) == HVT_STREAM_MALFORMED, "SKIP with an empty name");
	OK(error_of(BEGIN "HVT PASS 1 a:\n", NULL) == HVT_STREAM_MALFORMED, "PASS name ending in ':'");
	OK(error_of(BEGIN "HVT FAIL 1 a:: r\n", NULL) == HVT_STREAM_MALFORMED, "FAIL name ending in ':'");
	OK(error_of(BEGIN "HVT FAIL 1 s1:c2 r\n", NULL) == HVT_STREAM_MALFORMED, "FAIL with ':' only inside the name");
	OK(error_of(BEGIN "HVT ERROR 1 a r\n", NULL) == HVT_STREAM_MALFORMED, "ERROR without ':'");

	memset(name, 'n', HVT_NAME_MAX);
	name[HVT_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), BEGIN "HVT PASS 1 %s\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n",
		 name);
	OK(error_of(line, NULL) == HVT_STREAM_OK, "200-byte name accepted");
	name[HVT_NAME_MAX] = 'n';
	name[HVT_NAME_MAX + 1] = '\0';
	snprintf(line, sizeof(line), BEGIN "HVT PASS 1 %s\n", name);
	OK(error_of(line, NULL) == HVT_STREAM_MALFORMED, "201-byte name rejected");

	struct hvt_console *c = parse(BEGIN "HVT \x1b[31mFOO\n");
	OK(hvt_console_error(c) == HVT_STREAM_MALFORMED && contains(hvt_console_reason(c), "0x1b"),
	   "control byte reported by value: %s", hvt_console_reason(c));
	hvt_console_free(c);
	c = parse(BEGIN "HVT NOPE\n");
	OK(contains(hvt_console_reason(c), "'NOPE'"), "unknown keyword named in the reason");
	hvt_console_free(c);
	OK(verdict_of(BEGIN "HVT\nHVTX\nHVT\tPASS\n hvt PASS 9 x\nHVT PASS 1 a\n"
		      "HVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n") == HVT_PASS,
	   "'HVT' without the space is console text");
}

static void test_bytes(void)
{
	static const char nul_text[] = BEGIN "x\0y\x01\x7f\xff\\z\nHVT PASS 1 a\n"
		"HVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n";
	struct hvt_console *c = parse_n(nul_text, sizeof(nul_text) - 1, NULL, 0, 10);
	const char *t = hvt_console_tail_line(c, 1);

	OK(hvt_console_verdict(c) == HVT_PASS, "NUL and control bytes in console text are tolerated");
	OK(t && strcmp(t, "x\\x00y\\x01\\x7f\\xff\\\\z") == 0, "console line escaped: %s", t ? t : "(null)");
	hvt_console_free(c);

	static const char nul_proto[] = BEGIN "HVT PASS 1 a\0b\n";
	c = parse_n(nul_proto, sizeof(nul_proto) - 1, NULL, 0, 10);
	OK(hvt_console_error(c) == HVT_STREAM_MALFORMED, "NUL byte in a protocol line");
	hvt_console_free(c);
	OK(error_of(BEGIN "HVT FAIL 1 a: tab\there\n", NULL) == HVT_STREAM_MALFORMED, "tab in a detail");
	OK(error_of(BEGIN "HVT FAIL 1 a: x\ry\n", NULL) == HVT_STREAM_MALFORMED, "CR inside a protocol line");
	OK(error_of(BEGIN "HVT FAIL 1 a: caf\xc3\xa9\n", NULL) == HVT_STREAM_MALFORMED, "non-ASCII detail");

	static const char nul_begin[] = "HVT BEGIN proto=1 test=msr nonce=42\0\n";
	c = parse_n(nul_begin, sizeof(nul_begin) - 1, NULL, 0, 10);
	OK(hvt_console_error(c) == HVT_STREAM_MALFORMED, "NUL byte in BEGIN");
	hvt_console_free(c);
}

static void test_crlf(void)
{
	static const char crlf[] = "SeaBIOS\r\n"
		"HVT BEGIN proto=1 test=msr nonce=42\r\n"
		"HVT FAIL 1 a.b: detail\r\n"
		"HVT END pass=0 fail=1 skip=0 error=0 status=FAIL nonce=42\r\n";
	struct hvt_console *c = parse_n(crlf, strlen(crlf), "42", 0, 10);
	const struct hvt_result *r = hvt_console_result(c, 0);

	OK(hvt_console_verdict(c) == HVT_FAIL, "CRLF line endings accepted");
	OK(r && strcmp(r->detail, "detail") == 0, "CR not part of the detail");
	OK(strcmp(hvt_console_tail_line(c, 0), "SeaBIOS") == 0, "CR not part of the tail line");
	OK(strcmp(hvt_console_nonce(c), "42") == 0, "CR not part of the nonce");
	hvt_console_free(c);
	OK(error_of(BEGIN "HVT PASS 1 a\r\r\n", NULL) == HVT_STREAM_MALFORMED, "only one CR is a line ending");
	OK(error_of(BEGIN "HVT PASS 1 a\rHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\r", NULL) !=
	   HVT_STREAM_OK, "CR alone does not end a line");
}

/* A stream of @n bytes: a run whose last line (console text or protocol) is @fill long. */
static char *long_line(size_t fill, bool proto, bool newline, bool end_after, size_t *len)
{
	size_t cap = fill + 512;
	char *s = malloc(cap);
	size_t o = 0;

	o += (size_t)snprintf(s + o, cap - o, BEGIN);
	if (proto) {
		o += (size_t)snprintf(s + o, cap - o, "HVT FAIL 1 a: ");
		memset(s + o, 'd', fill - 14);
		o += fill - 14;
	} else {
		memset(s + o, 'x', fill);
		o += fill;
	}
	if (newline)
		s[o++] = '\n';
	if (end_after)
		o += (size_t)snprintf(s + o, cap - o, "%s", proto ?
				      "HVT END pass=0 fail=1 skip=0 error=0 status=FAIL nonce=42\n" :
				      "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n");
	*len = o;
	return s;
}

static void test_long_lines(void)
{
	size_t len;
	char *s;
	struct hvt_console *c;

	s = long_line(1 << 20, false, false, false, &len);
	c = parse_n(s, len, NULL, 0, 10);
	OK(hvt_console_error(c) == HVT_STREAM_NO_END, "1 MB console line without newline: truncated run");
	OK(contains(hvt_console_tail_line(c, 1), "more bytes]") &&
	   strlen(hvt_console_tail_line(c, 1)) < HVT_LINE_MAX + 64, "1 MB line kept truncated in the tail");
	hvt_console_free(c);
	c = parse_n(s, len, NULL, 1000, 10);
	OK(hvt_console_error(c) == HVT_STREAM_NO_END, "1 MB line fed in chunks");
	hvt_console_free(c);
	free(s);

	s = long_line(1 << 20, false, true, true, &len);
	c = parse_n(s, len, NULL, 0, 10);
	OK(hvt_console_verdict(c) == HVT_PASS, "1 MB console line inside a run is tolerated");
	hvt_console_free(c);
	free(s);

	s = long_line(1 << 20, true, true, true, &len);
	OK(error_of(s, NULL) == HVT_STREAM_OVERLONG, "1 MB protocol line: overlong");
	free(s);

	s = long_line(HVT_LINE_MAX, true, true, true, &len);
	OK(error_of(s, NULL) == HVT_STREAM_OK, "4096-byte protocol line accepted");
	free(s);
	s = long_line(HVT_LINE_MAX, true, false, false, &len);
	s = realloc(s, len + 200);
	len += (size_t)sprintf(s + len, "\r\nHVT END pass=0 fail=1 skip=0 error=0 status=FAIL nonce=42\r\n");
	OK(error_of(s, NULL) == HVT_STREAM_OK, "4096-byte protocol line with CRLF accepted");
	free(s);
	s = long_line(HVT_LINE_MAX + 1, true, true, true, &len);
	OK(error_of(s, NULL) == HVT_STREAM_OVERLONG, "4097-byte protocol line: overlong");
	free(s);
}

static void test_too_many(void)
{
	size_t cap = (size_t)(HVT_MAX_RESULTS + 2) * 24 + 256, o = 0;
	char *s = malloc(cap);
	unsigned long i;
	struct hvt_console *c;

	o += (size_t)snprintf(s + o, cap - o, BEGIN);
	for (i = 1; i <= HVT_MAX_RESULTS + 1; i++)
		o += (size_t)snprintf(s + o, cap - o, "HVT PASS %lu c\n", i);
	c = parse_n(s, o, NULL, 0, 10);
	OK(hvt_console_error(c) == HVT_STREAM_TOO_MANY && contains(hvt_console_reason(c), "too many results"),
	   "more than %d results: too many", HVT_MAX_RESULTS);
	OK(hvt_console_result_count(c) == HVT_MAX_RESULTS, "results capped");
	hvt_console_free(c);
	free(s);
}

static void test_tail(void)
{
	struct hvt_console *c = parse_n(run_pass, strlen(run_pass), NULL, 0, 3);

	OK(hvt_console_tail_count(c) == 3, "tail keeps the last 3 lines");
	OK(strcmp(hvt_console_tail_line(c, 0), "HVT PASS 1 efer.read") == 0 &&
	   strncmp(hvt_console_tail_line(c, 2), "HVT END", 7) == 0, "tail in order, oldest first");
	OK(hvt_console_tail_line(c, 3) == NULL, "tail index out of range is NULL");
	hvt_console_free(c);
	c = parse_n(run_pass, strlen(run_pass), NULL, 0, 0);
	OK(hvt_console_tail_count(c) == 0 && hvt_console_verdict(c) == HVT_PASS, "tail of 0 lines");
	hvt_console_free(c);
	c = parse_n("a\nb", 3, NULL, 0, 10);
	OK(hvt_console_tail_count(c) == 2 && strcmp(hvt_console_tail_line(c, 1), "b") == 0,
	   "unterminated last line in the tail");
	hvt_console_free(c);
}

static void test_lifecycle(void)
{
	struct hvt_console *c = hvt_console_new(NULL, 10);

	hvt_console_feed(c, run_pass, strlen(run_pass));
	OK(hvt_console_verdict(c) == HVT_ERROR && hvt_console_error(c) == HVT_STREAM_UNFINISHED,
	   "no verdict before finish");
	hvt_console_finish(c);
	hvt_console_feed(c, "HVT PASS 9 x\n", 13);
	hvt_console_finish(c);
	OK(hvt_console_verdict(c) == HVT_PASS, "feeding after finish is ignored");
	hvt_console_free(c);
	hvt_console_free(NULL);
	OK(strcmp(hvt_status_name(HVT_SKIP), "SKIP") == 0 &&
	   strcmp(hvt_stream_error_name(HVT_STREAM_SEQ), "seq") == 0, "status and error names");
}

/* Every input above, chunked in several ways, must give exactly the one-shot result. */
static void test_chunking(void)
{
	static const char *const inputs[] = {
		run_pass, run_fail, run_skip, run_error,
		"", "\n", "\r\n", "HVT", "HVT BEGIN", BEGIN, BEGIN "HVT PASS 1 a\nHVT PA",
		"noise\r\n" BEGIN "HVT PASS 1 a\r\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\r\n",
		BEGIN "HVT PASS 1 a\n" BEGIN, BEGIN "HVT PASS 2 a\n",
		BEGIN "HVT PASS 1 a\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\nHVT x",
		BEGIN "x\r\r\ny\rz\n\r\n\r",
	};
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 4095, 4097 };
	size_t i, j, bad = 0;
	size_t big_len;
	char *big = long_line(10000, false, true, true, &big_len);

	for (i = 0; i <= sizeof(inputs) / sizeof(inputs[0]); i++) {
		const char *in = i < sizeof(inputs) / sizeof(inputs[0]) ? inputs[i] : big;
		size_t len = in == big ? big_len : strlen(in);
		struct hvt_console *c = parse_n(in, len, NULL, 0, 5);
		char *ref = snapshot(c);

		hvt_console_free(c);
		for (j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			char *got;

			c = parse_n(in, len, NULL, chunks[j], 5);
			got = snapshot(c);
			if (strcmp(ref, got) != 0) {
				printf("# input %zu differs with chunks of %zu:\n# %s\n# %s\n", i, chunks[j], ref, got);
				bad++;
			}
			free(got);
			hvt_console_free(c);
		}
		free(ref);
	}
	free(big);
	OK(bad == 0, "byte-by-byte and chunked feeding give the one-shot result");
}

/* ------------------------------------------------------------------ hvt-verdict */

static char *capture_tap(const struct hvt_console *c, const struct options *o, const struct verdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	write_tap(f, c, o, v, 7);
	fclose(f);
	return buf;
}

static void default_options(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->test = "msr";
	o->target.hypervisor = o->hv_name = "qemu-tcg";
	o->target.version = "7.2.22";
	o->tail = 10;
}

static void test_verdict(void)
{
	static const char cfg[] =
		"qemu-tcg <8.0 msr:reserved_bits.* TCG ignores EFER bit 12 (#GP expected, SDM 2.2.1)\n"
		"qemu-tcg *    msr:efer.read        fixed long ago\n"
		"qemu-tcg *    msr:svm.*            never applies to SKIP\n";
	char err[256];
	struct hvt_errata *e = hvt_errata_parse(cfg, strlen(cfg), "errata.cfg", err, sizeof(err));
	struct hvt_console *c = parse(run_fail);
	struct options o;
	struct verdict v;
	char *tap, *buf = NULL;
	size_t len = 0;
	FILE *f;

	OK(e != NULL, "test errata parse");
	default_options(&o);

	judge(c, NULL, &o, &v);
	OK(v.status == HVT_FAIL && v.count[O_FAIL] == 1 && exit_status(v.status) == 1,
	   "without errata a FAIL fails (exit 1)");
	OK(contains(v.reason, "1 unexpected failure; first: reserved_bits.efer.bit_12: wrote 1"),
	   "FAIL reason: %s", v.reason);
	verdict_free(&v);

	judge(c, e, &o, &v);
	OK(v.status == HVT_FAIL && v.count[O_XFAIL] == 1 && v.count[O_XPASS] == 1 && v.count[O_SKIP] == 1,
	   "errata: one expected failure, one unexpected pass, SKIP unchanged");
	tap = capture_tap(c, &o, &v);
	OK(contains(tap, "    # Subtest: msr (qemu-tcg)\n"), "TAP subtest header");
	OK(contains(tap, "    not ok 1 - efer.read # XPASS: expected to fail (fixed long ago) but passed; update errata.cfg\n"
		    "      ---\n      message: "), "TAP XPASS line with YAML");
	OK(contains(tap, "    not ok 2 - reserved_bits.efer.bit_12 # TODO TCG ignores EFER bit 12 (#GP expected, SDM 2.2.1)\n"),
	   "TAP TODO line");
	OK(contains(tap, "    ok 3 - svm.vmrun # SKIP CPUID.80000001H:ECX.SVM[bit 2] = 0\n"), "TAP SKIP line");
	OK(contains(tap, "    1..3\nnot ok 7 - msr (qemu-tcg)\n  ---\n  verdict: FAIL\n"), "TAP plan and test point");
	OK(contains(tap, "  version: \"7.2.22\"\n") && contains(tap, "  exit_code: null\n") &&
	   contains(tap, "  console: |\n    HVT BEGIN"), "TAP diagnostics");
	OK(tap && strcmp(tap + strlen(tap) - 7, "\n  ...\n") == 0, "TAP YAML block closed");
	free(tap);

	f = open_memstream(&buf, &len);
	write_summary(f, &v);
	fclose(f);
	OK(contains(buf, "verdict=FAIL\npass=0\nfail=0\nskip=1\nerror=0\nxfail=1\nxpass=1\nchecks=3\nreason=1 unexpected pass"),
	   "summary key=value lines");
	free(buf);
	verdict_free(&v);

	o.target.version = "8.0.1";
	judge(c, e, &o, &v);
	OK(v.count[O_XFAIL] == 0 && v.count[O_FAIL] == 1, "errata version condition respected");
	verdict_free(&v);
	o.target.hypervisor = o.hv_name = "qemu-kvm";
	judge(c, e, &o, &v);
	OK(v.count[O_XFAIL] == 0 && v.count[O_XPASS] == 0, "errata hypervisor respected");
	verdict_free(&v);
	hvt_console_free(c);

	/* All failures expected: PASS. */
	c = parse(BEGIN "HVT FAIL 1 reserved_bits.x: d\nHVT END pass=0 fail=1 skip=0 error=0 status=FAIL nonce=42\n");
	default_options(&o);
	judge(c, e, &o, &v);
	OK(v.status == HVT_PASS && exit_status(v.status) == 0, "only expected failures: PASS");
	tap = capture_tap(c, &o, &v);
	OK(contains(tap, "\nok 7 - msr (qemu-tcg)\n"), "TAP ok line for PASS");
	free(tap);
	verdict_free(&v);
	hvt_console_free(c);

	/* ERROR is never covered by an entry. */
	c = parse(BEGIN "HVT ERROR 1 reserved_bits.x: oops\nHVT END pass=0 fail=0 skip=0 error=1 status=ERROR nonce=42\n");
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && v.count[O_ERROR] == 1 && exit_status(v.status) == 99,
	   "ERROR check not covered by errata");
	OK(contains(v.reason, "check reserved_bits.x reported ERROR: oops"), "ERROR reason: %s", v.reason);
	verdict_free(&v);
	hvt_console_free(c);

	/* Every check skipped: SKIP. */
	c = parse(run_skip);
	judge(c, e, &o, &v);
	OK(v.status == HVT_SKIP && exit_status(v.status) == 77, "skip-only run: SKIP (exit 77)");
	tap = capture_tap(c, &o, &v);
	OK(contains(tap, "\nok 7 - msr (qemu-tcg) # SKIP every check skipped; first: svm.vmrun: no SVM\n"),
	   "TAP SKIP test point");
	free(tap);
	verdict_free(&v);
	hvt_console_free(c);

	/* Truncated by the timeout. */
	c = parse(BEGIN "HVT PASS 1 a\n");
	o.have_exit_code = true;
	o.exit_code = 124;
	o.timeout = "60";
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "timed out after 60 s"), "timeout reason: %s", v.reason);
	verdict_free(&v);
	o.exit_code = 3;
	judge(c, e, &o, &v);
	OK(contains(v.reason, "no end marker") && contains(v.reason, "exit status 3"), "truncated reason: %s",
	   v.reason);
	verdict_free(&v);
	hvt_console_free(c);

	hvt_errata_free(e);
}

/* A hypervisor that crashed or was killed by the timeout after END: not PASS (docs/protocol.md). */
static void test_abnormal_end(void)
{
	static const long fine[] = { 0, 1, 3, 5 }; /* Bochs' shutdown port: 1; isa-debug-exit: code << 1 | 1 */
	struct hvt_console *c = parse(run_pass);
	struct options o;
	struct verdict v;
	size_t i;

	default_options(&o);
	o.have_exit_code = true;
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		o.exit_code = fine[i];
		judge(c, NULL, &o, &v);
		OK(v.status == HVT_PASS, "a complete run with exit status %ld is PASS", fine[i]);
		verdict_free(&v);
	}

	o.exit_code = 139;
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_ERROR && exit_status(v.status) == 99, "a crash (exit 139) after END is ERROR");
	OK(contains(v.reason, "the guest finished, but qemu-tcg was then killed by SIGSEGV (exit status 139)"),
	   "the crash's reason names the signal: %s", v.reason);
	verdict_free(&v);

	o.exit_code = 124;
	o.timeout = "60";
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "did not exit: timed out after 60 s"),
	   "a hypervisor killed by the timeout after END is ERROR: %s", v.reason);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse(run_fail);
	o.exit_code = 134;
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "killed by SIGABRT"),
	   "a FAIL whose hypervisor then aborted is ERROR: %s", v.reason);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse(BEGIN "HVT PASS 1 a\n");
	o.exit_code = 139;
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "no end marker") &&
	   contains(v.reason, "qemu-tcg killed by SIGSEGV"), "a crash before END names the signal: %s", v.reason);
	verdict_free(&v);
	hvt_console_free(c);
}

/* Run one of the report writers into a string. */
static char *capture(void (*writer)(FILE *, const struct hvt_console *, const struct options *,
				   const struct verdict *),
		     const struct hvt_console *c, const struct options *o, const struct verdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	writer(f, c, o, v);
	fclose(f);
	return buf;
}

static char *capture_summary(const struct verdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	write_summary(f, v);
	fclose(f);
	return buf;
}

static char *capture_exclusions(const struct hvt_errata *e, const struct options *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	write_exclusions(f, e, o);
	fclose(f);
	return buf;
}

static char *capture_checks(const struct hvt_console *c, const struct verdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	write_checks(f, c, v);
	fclose(f);
	return buf;
}

/* parse_options() on a NULL-terminated list of words; its usage messages are silenced. */
static int options_of(struct options *o, const char *const *words)
{
	char *argv[16];
	int argc = 0, ret, saved = dup(2), null = open("/dev/null", O_WRONLY);

	while (words[argc] && argc < 15) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	fflush(stderr);
	if (null >= 0)
		dup2(null, 2);
	optind = 0; /* glibc: start getopt afresh */
	ret = parse_options(argc, argv, o);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (null >= 0)
		close(null);
	return ret;
}

/* A covered FAIL is expected only with the detail its entry recorded (docs/errata.md). */
static void test_pinned_detail(void)
{
	static const char cfg[] =
		"qemu-tcg *  msr:reserved_bits.* TCG drops the bit (SDM 2.2.1)\n"
		"\tobserved <8.0 reserved_bits.efer.*: wrote 1 at rip <addr>, read *\n"
		"\tobserved >=8.0 reserved_bits.efer.bit_12: wrote 1, no #GP\n"
		"qemu-tcg *  msr:other.* unpinned\n"
		"qemu-tcg *  msr:third.* pinned elsewhere\n"
		"\tobserved * third.a: x\n";
	static const char log[] = BEGIN
		"HVT FAIL 1 reserved_bits.efer.bit_12: wrote 1 at rip 0x10013b, read 0x0\n"
		"HVT FAIL 2 other.a: anything at all\n"
		"HVT FAIL 3 third.b: x\n"
		"HVT END pass=0 fail=3 skip=0 error=0 status=FAIL nonce=42\n";
	static const char *const check_ok[] = { "hvt-verdict", "--errata-check", "--errata", "e.cfg", NULL };
	static const char *const check_log[] = { "hvt-verdict", "--errata-check", "--errata", "e.cfg", "x.log", NULL };
	static const char *const observe_tap[] = { "hvt-verdict", "--observe", "--tap", "1", "x.log", NULL };
	char err[256], *buf = NULL;
	size_t len = 0;
	struct hvt_errata *e = hvt_errata_parse(cfg, strlen(cfg), "errata.cfg", err, sizeof(err));
	struct hvt_console *c = parse(log);
	struct options o;
	struct verdict v;
	FILE *f;
	char *tap;

	OK(e != NULL, "pinned errata parse (%s)", err);
	default_options(&o);
	judge(c, e, &o, &v);
	OK(v.checks[0].o == O_XFAIL, "7.2: the recorded detail (address normalised, glob) is expected");
	OK(v.checks[1].o == O_XFAIL, "an entry without observed lines accepts any detail");
	OK(v.checks[2].o == O_FAIL && v.status == HVT_FAIL,
	   "a check the entry's observed lines do not name: unexpected failure");
	OK(contains(v.reason, "first: third.b: x [errata.cfg:5 records no observed detail for this check"),
	   "the reason names the entry: %s", v.reason);
	f = open_memstream(&buf, &len);
	write_observations(f, &v);
	fclose(f);
	OK(buf && strcmp(buf, "1\treserved_bits.efer.bit_12\twrote 1 at rip <addr>, read 0x0\tmatch\n"
			      "4\tother.a\tanything at all\tnone\n"
			      "5\tthird.b\tx\tunrecorded\n") == 0,
	   "--observe lines: entry line, check, normalised detail, match: %s", buf);
	free(buf);
	verdict_free(&v);

	o.target.version = "10.0.2";
	judge(c, e, &o, &v);
	OK(v.checks[0].o == O_FAIL, "10.0: 7.2's detail is a new, unexpected failure");
	tap = capture_tap(c, &o, &v);
	OK(contains(tap, "message: \"wrote 1 at rip 0x10013b, read 0x0 [detail differs from errata.cfg:3, which recorded: wrote 1, no #GP]\""),
	   "TAP names the new and the recorded detail");
	free(tap);
	buf = NULL;
	f = open_memstream(&buf, &len);
	write_human(f, c, &o, &v);
	fclose(f);
	OK(contains(buf, "FAIL   reserved_bits.efer.bit_12: wrote 1 at rip 0x10013b, read 0x0 [detail differs from errata.cfg:3"),
	   "the human summary too");
	free(buf);
	verdict_free(&v);

	buf = NULL;
	f = open_memstream(&buf, &len);
	o.errata_path = "e.cfg";
	OK(check_errata(f, e, &o) == 1, "--errata-check: 1 when an entry records nothing");
	fclose(f);
	OK(buf && strcmp(buf, "e.cfg:4: qemu-tcg * msr:other.* records no observed detail (add 'observed' lines: scripts/errata-observe)\n") == 0,
	   "--errata-check names it: %s", buf);
	free(buf);
	OK(options_of(&o, check_ok) == 0 && o.errata_check, "--errata-check --errata FILE accepted");
	OK(options_of(&o, check_log) == EXIT_USAGE, "--errata-check with a LOGFILE: usage error");
	OK(options_of(&o, observe_tap) == EXIT_USAGE, "--observe with --tap: usage error");
	hvt_console_free(c);
	hvt_errata_free(e);
}

/* "Do not run" entries: excluded from the guest, reported as expected failures, never a pass. */
static void test_not_run(void)
{
	static const char cfg[] =
		"qemu-tcg <8.0 !msr:catch.bp        INT3 stops TCG 7 (SDM Vol. 2A INT3)\n"
		"qemu-tcg *    !m*:catch.bp         same CHECK, later versions\n"
		"qemu-tcg *    !msr:efer.write      the write hangs\n"
		"qemu-tcg *    !msr:reserved_bits   bit 12 hangs\n"
		"qemu-tcg *    !other:x             another test\n"
		"qemu-kvm *    !msr:y               another hypervisor\n";
	static const char *const excl_ok[] = { "hvt-verdict", "--exclusions", "--errata", "e.cfg",
		"--hypervisor", "qemu-kvm", "--hv-version", "6.18.44-fc-v445", "--test", "msr", NULL };
	static const char *const excl_log[] = { "hvt-verdict", "--exclusions", "--errata", "e.cfg",
		"--hypervisor", "qemu-kvm", "--test", "msr", "x.log", NULL };
	static const char *const excl_no_test[] = { "hvt-verdict", "--exclusions", "--errata", "e.cfg",
		"--hypervisor", "qemu-kvm", NULL };
	static const char *const excl_no_errata[] = { "hvt-verdict", "--exclusions",
		"--hypervisor", "qemu-kvm", "--test", "msr", NULL };
	static const char *const excl_tap[] = { "hvt-verdict", "--exclusions", "--errata", "e.cfg",
		"--hypervisor", "qemu-kvm", "--test", "msr", "--tap", "1", NULL };
	static const char *const no_log[] = { "hvt-verdict", "--errata", "e.cfg", NULL };
	char err[256], *out;
	struct hvt_errata *e = hvt_errata_parse(cfg, strlen(cfg), "errata.cfg", err, sizeof(err));
	struct hvt_console *c;
	struct options o;
	struct verdict v;

	OK(e != NULL, "not-run errata parse (%s)", err);

	/* --exclusions */
	OK(options_of(&o, excl_ok) == 0 && o.exclusions && strcmp(o.test, "msr") == 0 &&
	   strcmp(o.target.version, "6.18.44-fc-v445") == 0 && !o.log, "--exclusions without LOGFILE accepted");
	OK(options_of(&o, excl_log) == EXIT_USAGE, "--exclusions with a LOGFILE: usage error");
	OK(options_of(&o, excl_no_test) == EXIT_USAGE, "--exclusions without --test: usage error");
	OK(options_of(&o, excl_no_errata) == EXIT_USAGE, "--exclusions without --errata: usage error");
	OK(options_of(&o, excl_tap) == EXIT_USAGE, "--exclusions with --tap: usage error");
	OK(options_of(&o, no_log) == EXIT_USAGE, "without --exclusions a LOGFILE is still needed");

	default_options(&o);
	out = capture_exclusions(e, &o);
	OK(out && strcmp(out, "-catch.bp\n-efer.write\n-reserved_bits\n") == 0,
	   "exclusion words in file order");
	free(out);
	o.target.version = "8.0.1";
	out = capture_exclusions(e, &o);
	OK(out && strcmp(out, "-catch.bp\n-efer.write\n-reserved_bits\n") == 0,
	   "a later entry with the same CHECK takes over, printed once");
	free(out);
	o.target.hypervisor = o.hv_name = "qemu-kvm";
	out = capture_exclusions(e, &o);
	OK(out && strcmp(out, "-y\n") == 0, "hypervisor respected");
	free(out);
	o.target.hypervisor = o.hv_name = "bochs";
	out = capture_exclusions(e, &o);
	OK(out && strcmp(out, "") == 0, "no applicable entry: nothing printed");
	free(out);
	out = capture_exclusions(NULL, &o);
	OK(out && strcmp(out, "") == 0, "no errata: nothing printed");
	free(out);

	/* The guest ran without the excluded checks: they are listed after its results. */
	default_options(&o);
	c = parse(BEGIN "HVT PASS 1 efer.read\nHVT END pass=1 fail=0 skip=0 error=0 status=PASS nonce=42\n");
	judge(c, e, &o, &v);
	OK(v.status == HVT_PASS && v.n == 4 && v.count[O_PASS] == 1 && v.count[O_XFAIL] == 3,
	   "not-run checks are expected failures");
	out = capture_tap(c, &o, &v);
	OK(contains(out, "    ok 1 - efer.read\n"
		    "    not ok 2 - catch.bp # TODO not run: INT3 stops TCG 7 (SDM Vol. 2A INT3)\n"
		    "      ---\n      message: \"not run: INT3 stops TCG 7 (SDM Vol. 2A INT3)\"\n"
		    "      severity: todo\n      ...\n"
		    "    not ok 3 - efer.write # TODO not run: the write hangs\n"), "TAP not-run lines after the guest's");
	OK(contains(out, "    not ok 4 - reserved_bits # TODO not run: bit 12 hangs\n") &&
	   contains(out, "    1..4\nok 7 - msr (qemu-tcg)\n"), "TAP plan counts them");
	free(out);
	out = capture_summary(&v);
	OK(contains(out, "verdict=PASS\npass=1\nfail=0\nskip=0\nerror=0\nxfail=3\nxpass=0\nchecks=4\n"),
	   "summary counts them as xfail");
	free(out);
	out = capture(write_human, c, &o, &v);
	OK(contains(out, "PASS  msr  (1 passed, 3 expected failures)\n"), "human output counts them");
	free(out);
	out = capture(write_junit, c, &o, &v);
	OK(contains(out, "tests=\"4\" failures=\"0\" errors=\"0\" skipped=\"3\"") &&
	   contains(out, "<testcase classname=\"hvtest.qemu-tcg.msr\" name=\"catch.bp\">\n"
		    "      <skipped message=\"not run: INT3 stops TCG 7 (SDM Vol. 2A INT3)\"/>\n"),
	   "JUnit: skipped with 'not run'");
	free(out);
	verdict_free(&v);

	judge(c, NULL, &o, &v);
	OK(v.n == 1 && v.count[O_XFAIL] == 0, "without errata: no not-run results");
	verdict_free(&v);
	hvt_console_free(c);

	/* Checks the runner did not exclude are judged like any other entry, without a not-run result. */
	c = parse(run_fail);
	judge(c, e, &o, &v);
	OK(v.status == HVT_PASS && v.n == 5 && v.count[O_XFAIL] == 3 && v.count[O_SKIP] == 1,
	   "a covered FAIL is an expected failure");
	out = capture_tap(c, &o, &v);
	OK(contains(out, "    not ok 2 - reserved_bits.efer.bit_12 # TODO bit 12 hangs\n      ---\n"
		    "      message: \"wrote 1, expected #GP(0), got no exception\"\n") &&
	   contains(out, "    not ok 4 - catch.bp # TODO not run:") &&
	   contains(out, "    not ok 5 - efer.write # TODO not run:") && !contains(out, "- reserved_bits #") &&
	   contains(out, "    1..5\n"), "TAP: the FAIL as TODO, no not-run line for it");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);
	c = parse(run_pass);
	judge(c, e, &o, &v);
	OK(v.status == HVT_FAIL && v.count[O_XPASS] == 1 && v.count[O_XFAIL] == 2 && v.n == 4,
	   "a covered PASS is an unexpected pass");
	OK(contains(v.reason, "efer.write expected to fail (the write hangs) but passed"), "XPASS reason: %s",
	   v.reason);
	verdict_free(&v);
	hvt_console_free(c);

	/* Never a pass on their own. */
	c = parse(BEGIN "HVT PASS 1 efer.read\n");
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && v.count[O_XFAIL] == 3 && exit_status(v.status) == 99 &&
	   contains(v.reason, "no end marker"), "incoherent stream stays ERROR: %s", v.reason);
	out = capture_tap(c, &o, &v);
	OK(contains(out, "  verdict: ERROR\n") && contains(out, "xfail: 3, xpass: 0}"),
	   "TAP for ERROR counts them");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);
	c = parse("");
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "no begin marker"), "empty console stays ERROR");
	out = capture(write_junit, c, &o, &v);
	OK(contains(out, "name=\"console\">\n      <error message=") && !contains(out, "name=\"catch.bp\""),
	   "JUnit: the console error, no not-run check (the guest never started)");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);
	c = parse(BEGIN "HVT PASS 1 efer.read\nHVT END pass=2 fail=0 skip=0 error=0 status=PASS nonce=42\n");
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR, "END that disagrees stays ERROR");
	verdict_free(&v);
	hvt_console_free(c);
	c = parse(run_error);
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && contains(v.reason, "check - reported ERROR"), "guest ERROR stays ERROR");
	verdict_free(&v);
	hvt_console_free(c);
	c = parse(run_skip);
	judge(c, e, &o, &v);
	OK(v.status == HVT_SKIP && v.count[O_SKIP] == 2 && v.count[O_XFAIL] == 3,
	   "coherent run with only skips: not-run entries are listed but are no evidence of a pass");
	verdict_free(&v);
	hvt_console_free(c);

	hvt_errata_free(e);
}

/* --checks: one "STATUS<TAB>NAME" line per check, every status, safe to split on tabs. */
static void test_checks_list(void)
{
	static const char cfg[] =
		"qemu-tcg * msr:reserved_bits.* TCG drops reserved bits\n"
		"qemu-tcg * msr:efer.read fixed long ago\n"
		"qemu-tcg * !msr:catch.bp INT3 stops TCG\n";
	static const char *const opts[] = { "hvt-verdict", "--checks", "c.txt", "x.log", NULL };
	static const char *const opts_excl[] = { "hvt-verdict", "--exclusions", "--errata", "e.cfg",
		"--hypervisor", "qemu-tcg", "--test", "msr", "--checks", "c.txt", NULL };
	char err[256], *out;
	struct hvt_errata *e = hvt_errata_parse(cfg, strlen(cfg), "errata.cfg", err, sizeof(err));
	struct hvt_console *c;
	struct options o;
	struct verdict v;

	OK(options_of(&o, opts) == 0 && o.checks_path && strcmp(o.checks_path, "c.txt") == 0,
	   "--checks FILE accepted");
	OK(options_of(&o, opts_excl) == EXIT_USAGE, "--exclusions with --checks: usage error");

	default_options(&o);
	c = parse(BEGIN "HVT PASS 1 efer.read\n"
		  "HVT FAIL 2 reserved_bits.efer.bit_12: no #GP\n"
		  "HVT FAIL 3 other: no #GP\n"
		  "HVT SKIP 4 svm.vmrun: no SVM\n"
		  "HVT PASS 5 <b>&x\n"
		  "HVT END pass=2 fail=2 skip=1 error=0 status=FAIL nonce=42\n");
	judge(c, e, &o, &v);
	out = capture_checks(c, &v);
	OK(out && strcmp(out, "XPASS\tefer.read\nXFAIL\treserved_bits.efer.bit_12\nFAIL\tother\n"
			 "SKIP\tsvm.vmrun\nPASS\t<b>&x\nNOTRUN\tcatch.bp\n") == 0,
	   "every check with its status in report order, not-run entries as NOTRUN");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse(run_error);
	judge(c, NULL, &o, &v);
	out = capture_checks(c, &v);
	OK(out && strcmp(out, "PASS\ta\nERROR\t-\n") == 0, "a guest ERROR line keeps its name '-'");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse(BEGIN "HVT PASS 1 a\nHVT PASS 2 b\n");
	judge(c, NULL, &o, &v);
	out = capture_checks(c, &v);
	OK(out && strcmp(out, "PASS\ta\nPASS\tb\nERROR\t-\n") == 0,
	   "an incoherent console adds ERROR<TAB>-");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse("");
	judge(c, NULL, &o, &v);
	out = capture_checks(c, &v);
	OK(out && strcmp(out, "ERROR\t-\n") == 0, "an empty console: only ERROR<TAB>-");
	free(out);
	verdict_free(&v);
	hvt_console_free(c);
	hvt_errata_free(e);
}

/*
 * Report files are written whole or not at all: through a temporary file in the same directory,
 * renamed onto the report, so a reader never sees half a file and a link in the report's place
 * is replaced, not followed.
 */
static void test_report_files(void)
{
	char dir[] = "/tmp/hvt-test-console.XXXXXX", path[256], victim[256], buf[64] = "";
	struct hvt_console *c = parse(run_pass);
	struct options o;
	struct verdict v;
	struct stat st;
	int fd, entries = 0;
	FILE *f;

	OK(mkdtemp(dir) != NULL, "a temporary directory");
	snprintf(path, sizeof(path), "%s/t.summary", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	OK(fd >= 0 && write(fd, "precious\n", 9) == 9, "the victim file");
	close(fd);
	OK(symlink(victim, path) == 0, "a link where the report goes");

	default_options(&o);
	judge(c, NULL, &o, &v);
	OK(write_file(path, c, &o, &v, REPORT_SUMMARY), "write_file succeeds");
	f = fopen(victim, "r");
	OK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "precious\n") == 0,
	   "the link's target is left alone");
	if (f)
		fclose(f);
	OK(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "the report replaced the link");
	f = fopen(path, "r");
	OK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "verdict=PASS\n") == 0, "the report is whole");
	if (f)
		fclose(f);
	snprintf(buf, sizeof(buf), "ls -A %s | wc -l", dir);
	f = popen(buf, "r");
	OK(f && fscanf(f, "%d", &entries) == 1 && entries == 2, "no temporary file is left (%d entries)",
	   entries);
	if (f)
		pclose(f);
	snprintf(path, sizeof(path), "%s/no/such/dir/t.summary", dir);
	OK(!write_file(path, c, &o, &v, REPORT_SUMMARY), "an unwritable report is an error");
	verdict_free(&v);
	hvt_console_free(c);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	OK(system(path) == 0, "the temporary directory removed");
}

/* A guest that never started: its not-run entries are not counted (no XFAIL in totals or JUnit). */
static void test_not_run_unstarted(void)
{
	static const char cfg[] = "qemu-tcg * !msr:efer.write the write hangs\n";
	char err[256];
	struct hvt_errata *e = hvt_errata_parse(cfg, strlen(cfg), "errata.cfg", err, sizeof(err));
	struct hvt_console *c = parse("SeaBIOS (version 1.16)\nqemu: could not load kernel\n");
	struct options o;
	struct verdict v;
	char *junit;

	default_options(&o);
	judge(c, e, &o, &v);
	OK(v.status == HVT_ERROR && v.count[O_XFAIL] == 0 && v.n == 0,
	   "a guest that never started has no not-run expected failure (%lu)", v.count[O_XFAIL]);
	junit = capture(write_junit, c, &o, &v);
	OK(contains(junit, "tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\""),
	   "its JUnit holds only the console error");
	free(junit);
	verdict_free(&v);
	hvt_console_free(c);

	c = parse(BEGIN "HVT PASS 1 efer.read\n");
	judge(c, e, &o, &v);
	OK(v.count[O_XFAIL] == 1, "a guest that started and hung keeps its not-run entry");
	verdict_free(&v);
	hvt_console_free(c);
	hvt_errata_free(e);
}

/* --image-test: the guest's BEGIN test= must name the image the runner booted. */
static void test_image_test(void)
{
	static const char *const opts[] = { "hvt-verdict", "--test", "msr_alias", "--image-test", "msr",
					    "x.log", NULL };
	static const char *const opts_empty[] = { "hvt-verdict", "--image-test", "", "x.log", NULL };
	struct hvt_console *c = parse(run_pass);
	struct options o;
	struct verdict v;

	OK(options_of(&o, opts) == 0 && strcmp(o.image_test, "msr") == 0 && strcmp(o.test, "msr_alias") == 0,
	   "--image-test parsed beside --test");
	OK(options_of(&o, opts_empty) == EXIT_USAGE, "an empty --image-test is a usage error");

	default_options(&o);
	o.test = "msr_alias"; /* a cfg entry may be named otherwise than its image */
	o.image_test = "msr";
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_PASS, "the entry's name may differ from the image's test");
	verdict_free(&v);

	o.test = o.image_test = "boot";
	judge(c, NULL, &o, &v);
	OK(v.status == HVT_ERROR && exit_status(v.status) == 99 &&
	   contains(v.reason, "the guest reports test 'msr', but the image booted is test 'boot'"),
	   "a BEGIN test= other than the image's is ERROR: %s", v.reason);
	verdict_free(&v);
	hvt_console_free(c);
}

/* Garbage in the console must not break the TAP YAML or the JUnit XML. */
static void test_escaping(void)
{
	static const char garbage[] = "  leading spaces\n---\n...\n\"quoted\" 'x' & <tag> #\n\x1b[0m\x00\xff\n"
		"HVT BEGIN proto=1 test=x nonce=1\nHVT FAIL 1 a#b: <&\"'>\\ \n";
	struct hvt_console *c = parse_n(garbage, sizeof(garbage) - 1, NULL, 0, 10);
	struct options o;
	struct verdict v;
	char *tap, *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	bool in_console = false, yaml_ok = true, closed = false;
	FILE *f;

	default_options(&o);
	o.cmdline = "qemu -append \"a\nb\"";
	judge(c, NULL, &o, &v);
	tap = capture_tap(c, &o, &v);
	OK(contains(tap, "    not ok 1 - a\\#b\n      ---\n      message: \"<&\\\"'>\\\\ \"\n"),
	   "check name '#' escaped, detail quoted");
	OK(contains(tap, "  command: \"qemu -append \\\"a\\x0ab\\\"\"\n"), "command line quoted and escaped");
	for (line = strtok_r(tap, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t i;

		for (i = 0; line[i]; i++)
			if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
				yaml_ok = false;
		if (strcmp(line, "  console: |") == 0) {
			in_console = true;
			continue;
		}
		if (in_console && strcmp(line, "  ...") == 0) {
			in_console = false;
			closed = true;
			continue;
		}
		if (in_console && (strncmp(line, "    ", 4) != 0 || line[4] == ' ' ||
				   strncmp(line + 4, "---", 3) == 0 || strncmp(line + 4, "...", 3) == 0))
			yaml_ok = false;
	}
	OK(yaml_ok && closed, "console literal block: printable, indented, no marker lines");
	free(tap);

	f = open_memstream(&buf, &len);
	write_junit(f, c, &o, &v);
	fclose(f);
	OK(contains(buf, "name=\"a#b\">\n      <failure message=\"&lt;&amp;&quot;&apos;&gt;\\ \"/>"),
	   "JUnit attributes escaped");
	OK(contains(buf, "&quot;quoted&quot; &apos;x&apos; &amp; &lt;tag&gt; #") && contains(buf, "\\x1b[0m\\x00\\xff"),
	   "JUnit console output escaped");
	OK(!contains(buf, "\x1b"), "JUnit without raw control bytes");
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	write_summary(f, &v);
	fclose(f);
	OK(contains(buf, "verdict=ERROR\n") && contains(buf, "reason=no end marker"), "summary for ERROR");
	free(buf);
	verdict_free(&v);
	hvt_console_free(c);
}

int main(void)
{
	test_coherent_runs();
	test_begin();
	test_sequence();
	test_end();
	test_nonce();
	test_malformed();
	test_bytes();
	test_crlf();
	test_long_lines();
	test_too_many();
	test_tail();
	test_lifecycle();
	test_chunking();
	test_verdict();
	test_abnormal_end();
	test_not_run();
	test_pinned_detail();
	test_checks_list();
	test_image_test();
	test_not_run_unstarted();
	test_report_files();
	test_escaping();
	return tap_done();
}
