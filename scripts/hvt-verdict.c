/*
 * hvt-verdict: turn a guest's console log into the host verdict (docs/protocol.md), applying
 * the expected-failure data (docs/errata.md), and report it as a human summary, a TAP test
 * point, a key=value summary, JUnit XML and a per-check status list (--checks).
 */
#include "console.h"
#include "errata.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_SKIP 77
#define EXIT_ERROR 99
#define TIMEOUT_EXIT 124 /* what timeout(1) returns when it killed the hypervisor */

/* What a check amounts to once the errata are applied. */
enum outcome { O_PASS, O_FAIL, O_SKIP, O_ERROR, O_XFAIL, O_XPASS, O_COUNT };

struct options {
	const char *log;
	const char *test;       /* display and errata name: --test, else the guest's test= */
	const char *image_test; /* --image-test: the test= the booted image must report */
	const char *hv_name;      /* --hypervisor as given (qemu-tcg@10.0): what reports show */
	struct hvt_target target; /* its kind (qemu-tcg), --hv-version, --hv-module, --hv-cpu */
	char hv_kind[32];
	const char *errata_path;
	const char *nonce;
	const char *cmdline;
	const char *duration;   /* seconds as the runner wrote them; NULL when not given */
	const char *timeout;
	const char *summary;
	const char *junit;
	const char *checks_path; /* --checks: "STATUS<TAB>NAME" lines */
	bool exclusions;        /* --exclusions: print the not-run words, read no log */
	bool errata_check;      /* --errata-check: name the entries that pin no observation */
	bool observe;           /* --observe: print each covered failure's normalised detail */
	long exit_code;
	bool have_exit_code;
	unsigned long tap;      /* test point number; 0 = human summary */
	size_t tail;
};

struct check {
	const struct hvt_result *r;
	enum outcome o;
	const char *why; /* the errata reason for O_XFAIL and O_XPASS */
	bool not_run;    /* no console result: a not-run entry's check, as O_XFAIL */
	/*
	 * O_FAIL of a check an entry covers whose detail is not the one the entry recorded:
	 * the detail with what was recorded beside it (docs/errata.md).
	 */
	char *shown;
	const struct hvt_erratum *entry; /* the entry that covers the check, if any */
	enum hvt_observed_match match; /* of a covered FAIL: its detail against the entry's */
	char normalised[HVT_DETAIL_MAX];
};

/* The result a not-run entry stands for; its detail is "not run: REASON". */
struct not_run_result {
	struct hvt_result r;
	char *detail;
};

struct verdict {
	enum hvt_status status;
	char reason[1024];
	struct check *checks;   /* the guest's results in stream order, then the not-run ones */
	size_t n;
	struct not_run_result *not_run;
	size_t n_not_run;
	unsigned long count[O_COUNT];
};

static const char *errata_name(const struct options *o)
{
	const char *slash;

	if (!o->errata_path)
		return "errata.cfg";
	slash = strrchr(o->errata_path, '/');
	return slash ? slash + 1 : o->errata_path;
}

/* Append to the reason, truncating safely. */
static void add_reason(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_reason(struct verdict *v, const char *fmt, ...)
{
	size_t used = strlen(v->reason);
	va_list ap;

	if (used + 1 >= sizeof(v->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(v->reason + used, sizeof(v->reason) - used, fmt, ap);
	va_end(ap);
}

/* What the runner passes as --exit-code for a hypervisor killed by signal N: 128 + N. */
#define SIGNAL_EXIT_BASE 128

/* The name of signal @n as kill -l spells it on Linux x86, or NULL for another number. */
static const char *signal_name(long n)
{
	static const char *const names[] = {
		[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP",
		[6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [10] = "SIGUSR1",
		[11] = "SIGSEGV", [12] = "SIGUSR2", [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
		[24] = "SIGXCPU", [25] = "SIGXFSZ", [31] = "SIGSYS",
	};

	if (n < 1 || n >= (long)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[n];
}

/* "killed by SIGSEGV" (or "killed by signal 40") for an exit status above 128. */
static void add_signal_reason(struct verdict *v, long exit_code)
{
	const char *name = signal_name(exit_code - SIGNAL_EXIT_BASE);

	if (name)
		add_reason(v, "killed by %s", name);
	else
		add_reason(v, "killed by signal %ld", exit_code - SIGNAL_EXIT_BASE);
}

/*
 * A complete run whose hypervisor then crashed or had to be killed by the timeout: the
 * console cannot vouch for a hypervisor that did not leave through the exit device, so the
 * test is an ERROR, and the reason says how the hypervisor ended (docs/protocol.md).
 */
static bool abnormal_end(const struct options *o)
{
	return o->have_exit_code &&
	       (o->exit_code == TIMEOUT_EXIT || o->exit_code > SIGNAL_EXIT_BASE);
}

static void abnormal_end_reason(const struct options *o, struct verdict *v)
{
	const char *hv = o->hv_name ? o->hv_name : "the hypervisor";

	add_reason(v, "the guest finished, but %s ", hv);
	if (o->exit_code == TIMEOUT_EXIT) {
		add_reason(v, "did not exit: timed out");
		if (o->timeout)
			add_reason(v, " after %s s", o->timeout);
	} else {
		add_reason(v, "was then ");
		add_signal_reason(v, o->exit_code);
		add_reason(v, " (exit status %ld)", o->exit_code);
	}
}

/* The reason of an incoherent stream, with what the runner knows about the hypervisor's end. */
static void stream_reason(const struct hvt_console *c, const struct options *o, struct verdict *v)
{
	enum hvt_stream_error err = hvt_console_error(c);
	bool truncated = err == HVT_STREAM_NO_END || err == HVT_STREAM_NO_BEGIN;
	bool timed_out = o->have_exit_code && o->exit_code == TIMEOUT_EXIT;

	if (timed_out && truncated) {
		add_reason(v, "timed out");
		if (o->timeout)
			add_reason(v, " after %s s", o->timeout);
		add_reason(v, ": %s", err == HVT_STREAM_NO_END ?
			   "no end marker (the guest hung or ran too long)" :
			   "no begin marker (the guest never started)");
		return;
	}
	add_reason(v, "%s", hvt_console_reason(c));
	if (timed_out) {
		add_reason(v, " (timed out");
		if (o->timeout)
			add_reason(v, " after %s s", o->timeout);
		add_reason(v, ")");
	} else if (truncated && o->have_exit_code && o->exit_code > SIGNAL_EXIT_BASE) {
		add_reason(v, "; %s ", o->hv_name ? o->hv_name : "the hypervisor");
		add_signal_reason(v, o->exit_code);
	} else if (truncated && o->have_exit_code) {
		add_reason(v, "; hypervisor exit status %ld", o->exit_code);
	}
}

static void verdict_free(struct verdict *v)
{
	size_t i;

	for (i = 0; v->checks && i < v->n; i++)
		free(v->checks[i].shown);
	free(v->checks);
	v->checks = NULL;
	for (i = 0; v->not_run && i < v->n_not_run; i++)
		free(v->not_run[i].detail);
	free(v->not_run);
	v->not_run = NULL;
	v->n_not_run = 0;
}

/* Whether the console holds a result of a check that not-run entry @x names. */
static bool console_ran(const struct hvt_console *c, const struct hvt_erratum *x)
{
	size_t i, n = hvt_console_result_count(c);

	for (i = 0; i < n; i++)
		if (hvt_erratum_covers(x, hvt_console_result(c, i)->name))
			return true;
	return false;
}

/*
 * Add a result for each applicable not-run entry whose check the guest did not report: it
 * was excluded from the guest's command line, so it is an expected failure, never a pass.
 */
static int add_not_run(const struct hvt_console *c, const struct hvt_errata *e,
		       const struct options *o, struct verdict *v)
{
	const struct hvt_erratum *x;
	size_t pos = 0;

	/* A guest that never started was given no command line to leave checks out of. */
	if (!hvt_console_saw_begin(c))
		return 0;
	while ((x = hvt_errata_next_not_run(e, &o->target, o->test, &pos))) {
		struct not_run_result *nr = &v->not_run[v->n_not_run];
		struct check *k = &v->checks[v->n];
		size_t len = strlen(x->reason) + sizeof("not run: ");

		if (console_ran(c, x))
			continue; /* judged like a normal entry by hvt_errata_lookup() */
		nr->detail = malloc(len);
		if (!nr->detail)
			return -1;
		snprintf(nr->detail, len, "not run: %s", x->reason);
		nr->r.status = HVT_FAIL;
		nr->r.name = x->check;
		nr->r.detail = nr->detail;
		v->n_not_run++;
		k->r = &nr->r;
		k->o = O_XFAIL;
		k->why = x->reason;
		k->not_run = true;
		v->count[O_XFAIL]++;
		v->n++;
	}
	return 0;
}

/* The detail a report shows for a failing check: with the recorded one when they differ. */
static const char *shown_detail(const struct check *k)
{
	return k->shown ? k->shown : k->r->detail;
}

/*
 * A FAIL that entry @x covers is expected only when its normalised detail matches what the
 * entry recorded for it ("observed" lines); otherwise it is an unexpected failure, shown with
 * the recorded detail. An entry that records nothing accepts any detail (--errata-check
 * names it). Returns -1 when out of memory.
 */
static int pinned_detail_differs(struct check *k, const struct hvt_erratum *x,
				 const struct options *o)
{
	const struct hvt_observation *rec;
	enum hvt_observed_match m;
	size_t len;

	hvt_detail_normalise(k->r->detail, k->normalised, sizeof(k->normalised));
	m = k->match = hvt_erratum_observed(x, &o->target, k->r->name, k->normalised, &rec);
	if (m == HVT_OBSERVED_NONE || m == HVT_OBSERVED_MATCH)
		return 0;
	k->o = O_FAIL;
	len = strlen(k->r->detail) + (rec ? strlen(rec->detail) : 0) + 200;
	k->shown = malloc(len);
	if (!k->shown)
		return -1;
	if (rec)
		snprintf(k->shown, len, "%s [detail differs from %s:%lu, which recorded: %s]",
			 k->r->detail, errata_name(o), rec->line, rec->detail);
	else
		snprintf(k->shown, len,
			 "%s [%s:%lu records no observed detail for this check on this hypervisor version]",
			 k->r->detail, errata_name(o), x->line);
	return 0;
}

/* Apply the errata to every check and decide the host verdict (docs/protocol.md). */
static int judge(const struct hvt_console *c, const struct hvt_errata *e,
		 const struct options *o, struct verdict *v)
{
	size_t i, n = hvt_console_result_count(c), m = 0, pos = 0;
	const struct check *first_bad = NULL, *first_error = NULL, *first_skip = NULL;

	memset(v, 0, sizeof(*v));
	while (hvt_errata_next_not_run(e, &o->target, o->test, &pos))
		m++;
	v->checks = calloc(n + m ? n + m : 1, sizeof(*v->checks));
	v->not_run = calloc(m ? m : 1, sizeof(*v->not_run));
	if (!v->checks || !v->not_run) {
		verdict_free(v);
		return -1;
	}
	v->n = n;
	for (i = 0; i < n; i++) {
		struct check *k = &v->checks[i];
		const struct hvt_erratum *x;

		k->r = hvt_console_result(c, i);
		x = hvt_errata_lookup(e, &o->target, o->test, k->r->name);
		k->entry = x;
		switch (k->r->status) {
		case HVT_PASS:
			k->o = x ? O_XPASS : O_PASS;
			break;
		case HVT_FAIL:
			k->o = x ? O_XFAIL : O_FAIL;
			if (x && pinned_detail_differs(k, x, o) != 0) {
				verdict_free(v);
				return -1;
			}
			break;
		case HVT_SKIP:
			k->o = O_SKIP;
			break;
		case HVT_ERROR:
			k->o = O_ERROR; /* never covered: an error is ours, not the hypervisor's */
			break;
		}
		if (k->o == O_XFAIL || k->o == O_XPASS)
			k->why = x->reason;
		v->count[k->o]++;
		if (!first_bad && (k->o == O_FAIL || k->o == O_XPASS))
			first_bad = k;
		if (!first_error && k->o == O_ERROR)
			first_error = k;
		if (!first_skip && k->o == O_SKIP)
			first_skip = k;
	}
	/* They count as expected failures: PASS still needs a coherent stream and no failure. */
	if (add_not_run(c, e, o, v) != 0) {
		verdict_free(v);
		return -1;
	}

	if (hvt_console_error(c) != HVT_STREAM_OK) {
		v->status = HVT_ERROR;
		stream_reason(c, o, v);
	} else if (o->image_test && hvt_console_test(c) &&
		   strcmp(hvt_console_test(c), o->image_test) != 0) {
		/* A stale or misnamed image: its checks are not the ones the runner meant to run. */
		v->status = HVT_ERROR;
		add_reason(v, "the guest reports test '%s', but the image booted is test '%s'",
			   hvt_console_test(c), o->image_test);
	} else if (abnormal_end(o)) {
		v->status = HVT_ERROR;
		abnormal_end_reason(o, v);
	} else if (first_error) {
		v->status = HVT_ERROR;
		add_reason(v, "check %s reported ERROR: %s", first_error->r->name, first_error->r->detail);
		if (v->count[O_ERROR] > 1)
			add_reason(v, " (and %lu more errors)", v->count[O_ERROR] - 1);
	} else if (first_bad) {
		v->status = HVT_FAIL;
		if (v->count[O_FAIL])
			add_reason(v, "%lu unexpected failure%s", v->count[O_FAIL],
				   v->count[O_FAIL] == 1 ? "" : "s");
		if (v->count[O_XPASS])
			add_reason(v, "%s%lu unexpected pass%s", v->count[O_FAIL] ? ", " : "",
				   v->count[O_XPASS], v->count[O_XPASS] == 1 ? "" : "es");
		if (first_bad->o == O_FAIL)
			add_reason(v, "; first: %s: %s", first_bad->r->name, shown_detail(first_bad));
		else
			add_reason(v, "; first: %s expected to fail (%s) but passed",
				   first_bad->r->name, first_bad->why);
	} else if (v->count[O_PASS] || v->count[O_XFAIL] > v->n_not_run) {
		/* A pass needs evidence from the guest: not-run entries alone are none. */
		v->status = HVT_PASS;
	} else {
		v->status = HVT_SKIP;
		if (first_skip)
			add_reason(v, "every check skipped; first: %s: %s", first_skip->r->name,
				   first_skip->r->detail);
		else
			add_reason(v, "no check ran"); /* unreachable for a coherent stream */
	}
	return 0;
}

static int exit_status(enum hvt_status s)
{
	switch (s) {
	case HVT_PASS: return 0;
	case HVT_FAIL: return 1;
	case HVT_SKIP: return EXIT_SKIP;
	case HVT_ERROR: break;
	}
	return EXIT_ERROR;
}

/* ------------------------------------------------------------------ escaping */

/* Digits with an optional fraction: what may go into YAML and XML unquoted. */
static bool valid_seconds(const char *s)
{
	size_t i = 0, digits = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (s[i] == '.') {
		size_t frac = 0;

		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (!frac)
			return false;
	}
	return digits && !s[i] && i < 32;
}


/* TAP description text: '#' would start a directive and '\' escapes, so both are escaped. */
static void put_tap_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (b == '#' || b == '\\')
			fprintf(f, "\\%c", b);
		else if (b < 0x20 || b == 0x7f)
			fprintf(f, "\\x%02x", b);
		else
			fputc(b, f);
	}
}

/* Directive text (after "# TODO" or "# SKIP"): only line breaks and control bytes matter. */
static void put_directive_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (b < 0x20 || b == 0x7f)
			fprintf(f, "\\x%02x", b);
		else
			fputc(b, f);
	}
}

/* A YAML double-quoted scalar: everything outside printable ASCII is escaped. */
static void put_yaml_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (b == '"' || b == '\\')
			fprintf(f, "\\%c", b);
		else if (b < 0x20 || b >= 0x7f)
			fprintf(f, "\\x%02x", b);
		else
			fputc(b, f);
	}
	fputc('"', f);
}

/*
 * One line of a YAML literal block. Tail lines are already printable ASCII; a leading space
 * would change the block's indentation and "---"/"..." could end a TAP YAML block early, so
 * those first bytes are escaped like the rest (the parser escapes '\' itself, so "\x20" is
 * unambiguous).
 */
static void put_yaml_literal_line(FILE *f, const char *indent, const char *s)
{
	fputs(indent, f);
	if (s[0] == ' ' || strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0) {
		fprintf(f, "\\x%02x", (unsigned char)s[0]);
		s++;
	}
	put_directive_text(f, s);
	fputc('\n', f);
}

/* XML attribute or text content; XML 1.0 cannot carry control bytes at all, so they become \xNN. */
static void put_xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		switch (b) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (b < 0x20 || b >= 0x7f)
				fprintf(f, "\\x%02x", b);
			else
				fputc(b, f);
		}
	}
}

/* One line of key=value output: printable ASCII only. */
static void put_sanitized(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		fputc(b >= 0x20 && b < 0x7f ? b : '?', f);
	}
}

/* ------------------------------------------------------------------ reports */

static void put_name(FILE *f, const struct options *o)
{
	put_tap_text(f, o->test);
	if (o->hv_name) {
		fputs(" (", f);
		put_tap_text(f, o->hv_name);
		fputc(')', f);
	}
}

static void put_check_yaml(FILE *f, const char *message, const char *severity)
{
	fputs("      ---\n      message: ", f);
	put_yaml_string(f, message);
	fprintf(f, "\n      severity: %s\n      ...\n", severity);
}

static void write_tap_checks(FILE *f, const struct options *o, const struct verdict *v)
{
	size_t i;

	if (!v->n)
		return;
	fputs("    # Subtest: ", f);
	put_name(f, o);
	fputc('\n', f);
	for (i = 0; i < v->n; i++) {
		const struct check *k = &v->checks[i];
		unsigned long num = (unsigned long)i + 1;

		fprintf(f, "    %s %lu - ", k->o == O_PASS || k->o == O_SKIP ? "ok" : "not ok", num);
		put_tap_text(f, k->r->name);
		switch (k->o) {
		case O_PASS:
			fputc('\n', f);
			break;
		case O_SKIP:
			fputs(" # SKIP", f);
			if (k->r->detail[0]) {
				fputc(' ', f);
				put_directive_text(f, k->r->detail);
			}
			fputc('\n', f);
			break;
		case O_FAIL:
			fputc('\n', f);
			put_check_yaml(f, shown_detail(k), "fail");
			break;
		case O_ERROR:
			fputc('\n', f);
			put_check_yaml(f, k->r->detail, "error");
			break;
		case O_XFAIL:
			fputs(" # TODO ", f);
			put_directive_text(f, k->not_run ? k->r->detail : k->why);
			fputc('\n', f);
			put_check_yaml(f, k->r->detail, "todo");
			break;
		case O_XPASS: {
			char msg[1200];

			fputs(" # XPASS: expected to fail (", f);
			put_directive_text(f, k->why);
			fprintf(f, ") but passed; update %s\n", errata_name(o));
			snprintf(msg, sizeof(msg), "expected to fail (%s) but passed; update %s",
				 k->why, errata_name(o));
			put_check_yaml(f, msg, "fail");
			break;
		}
		case O_COUNT:
			break;
		}
	}
	fprintf(f, "    1..%zu\n", v->n);
}

/* Seconds as a YAML number when they look like one, else as a string (the runner decides). */
static void put_yaml_seconds(FILE *f, const char *key, const char *secs)
{
	fprintf(f, "  %s: ", key);
	if (!secs)
		fputs("null", f);
	else if (valid_seconds(secs))
		fputs(secs, f);
	else
		put_yaml_string(f, secs);
	fputc('\n', f);
}

static void put_yaml_optional(FILE *f, const char *key, const char *s)
{
	fprintf(f, "  %s: ", key);
	if (s)
		put_yaml_string(f, s);
	else
		fputs("null", f);
	fputc('\n', f);
}

/** Print the test as one TAP 13 test point @p num, its checks as an indented subtest. */
static void write_tap(FILE *f, const struct hvt_console *c, const struct options *o,
		      const struct verdict *v, unsigned long num)
{
	size_t i, tail = hvt_console_tail_count(c);

	write_tap_checks(f, o, v);
	if (v->status == HVT_PASS || v->status == HVT_SKIP) {
		fprintf(f, "ok %lu - ", num);
		put_name(f, o);
		if (v->status == HVT_SKIP) {
			fputs(" # SKIP ", f);
			put_directive_text(f, v->reason);
		}
		fputc('\n', f);
		return;
	}
	fprintf(f, "not ok %lu - ", num);
	put_name(f, o);
	fputs("\n  ---\n", f);
	fprintf(f, "  verdict: %s\n", hvt_status_name(v->status));
	put_yaml_optional(f, "reason", v->reason);
	put_yaml_optional(f, "test", o->test);
	put_yaml_optional(f, "hypervisor", o->hv_name);
	put_yaml_optional(f, "version", o->target.version);
	put_yaml_optional(f, "kvm_module", o->target.module);
	put_yaml_optional(f, "cpu", o->target.cpu);
	put_yaml_optional(f, "command", o->cmdline);
	put_yaml_seconds(f, "duration", o->duration);
	if (o->have_exit_code)
		fprintf(f, "  exit_code: %ld\n", o->exit_code);
	else
		fputs("  exit_code: null\n", f);
	put_yaml_seconds(f, "timeout", o->timeout);
	fprintf(f, "  checks: {pass: %lu, fail: %lu, skip: %lu, error: %lu, xfail: %lu, xpass: %lu}\n",
		v->count[O_PASS], v->count[O_FAIL], v->count[O_SKIP], v->count[O_ERROR],
		v->count[O_XFAIL], v->count[O_XPASS]);
	if (!tail) {
		fputs("  console: \"\"\n", f);
	} else {
		fputs("  console: |\n", f);
		for (i = 0; i < tail; i++)
			put_yaml_literal_line(f, "    ", hvt_console_tail_line(c, i));
	}
	fputs("  ...\n", f);
}

/** Write the key=value summary. */
static void write_summary(FILE *f, const struct verdict *v)
{
	fprintf(f, "verdict=%s\npass=%lu\nfail=%lu\nskip=%lu\nerror=%lu\nxfail=%lu\nxpass=%lu\nchecks=%zu\nreason=",
		hvt_status_name(v->status), v->count[O_PASS], v->count[O_FAIL], v->count[O_SKIP],
		v->count[O_ERROR], v->count[O_XFAIL], v->count[O_XPASS], v->n);
	put_sanitized(f, v->reason);
	fputc('\n', f);
}

/* The start of a testcase: classname "hvtest.HYPERVISOR.TEST" groups checks per test and hypervisor. */
static void put_classname(FILE *f, const struct options *o)
{
	fputs("    <testcase classname=\"hvtest.", f);
	if (o->hv_name) {
		put_xml(f, o->hv_name);
		fputc('.', f);
	}
	put_xml(f, o->test);
}

/** Write JUnit XML: one testcase per check, plus one for an incoherent console. */
static void write_junit(FILE *f, const struct hvt_console *c, const struct options *o,
			const struct verdict *v)
{
	bool stream_error = hvt_console_error(c) != HVT_STREAM_OK;
	unsigned long failures = v->count[O_FAIL] + v->count[O_XPASS];
	unsigned long errors = v->count[O_ERROR] + (stream_error ? 1 : 0);
	unsigned long skipped = v->count[O_SKIP] + v->count[O_XFAIL];
	size_t i;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", f);
	put_xml(f, o->test);
	if (o->hv_name) {
		fputs(" (", f);
		put_xml(f, o->hv_name);
		fputc(')', f);
	}
	fprintf(f, "\" tests=\"%zu\" failures=\"%lu\" errors=\"%lu\" skipped=\"%lu\"",
		v->n + (stream_error ? 1 : 0), failures, errors, skipped);
	if (o->duration && valid_seconds(o->duration))
		fprintf(f, " time=\"%s\"", o->duration);
	fputs(">\n", f);
	for (i = 0; i < v->n; i++) {
		const struct check *k = &v->checks[i];

		put_classname(f, o);
		fputs("\" name=\"", f);
		put_xml(f, k->r->name);
		fputs("\"", f);
		switch (k->o) {
		case O_PASS:
			fputs("/>\n", f);
			continue;
		case O_FAIL:
			fputs(">\n      <failure message=\"", f);
			put_xml(f, shown_detail(k));
			fputs("\"/>\n", f);
			break;
		case O_SKIP:
			fputs(">\n      <skipped message=\"", f);
			put_xml(f, k->r->detail);
			fputs("\"/>\n", f);
			break;
		case O_ERROR:
			fputs(">\n      <error message=\"", f);
			put_xml(f, k->r->detail);
			fputs("\"/>\n", f);
			break;
		case O_XFAIL:
			fputs(">\n      <skipped message=\"", f);
			if (k->not_run) {
				put_xml(f, k->r->detail);
			} else {
				fputs("expected failure: ", f);
				put_xml(f, k->why);
			}
			fputs("\"/>\n", f);
			break;
		case O_XPASS:
			fputs(">\n      <failure message=\"expected to fail (", f);
			put_xml(f, k->why);
			fputs(") but passed; update ", f);
			put_xml(f, errata_name(o));
			fputs("\"/>\n", f);
			break;
		case O_COUNT:
			break;
		}
		fputs("    </testcase>\n", f);
	}
	if (stream_error) {
		put_classname(f, o);
		fputs("\" name=\"console\">\n      <error message=\"", f);
		put_xml(f, v->reason);
		fputs("\"/>\n      <system-out>", f);
		for (i = 0; i < hvt_console_tail_count(c); i++) {
			put_xml(f, hvt_console_tail_line(c, i));
			fputc('\n', f);
		}
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

/*
 * Write the per-check list: one "STATUS<TAB>NAME" line per check in report order, STATUS one of
 * PASS FAIL XFAIL XPASS SKIP ERROR NOTRUN (an errata not-run entry: left out of the guest's
 * command line, counted as an expected failure). An incoherent console adds "ERROR<TAB>-", the
 * name the guest itself uses for an error that concerns no check. Names are printable ASCII
 * without spaces; anything else is written as '?', so the file is safe to split on tabs.
 */
static void write_checks(FILE *f, const struct hvt_console *c, const struct verdict *v)
{
	static const char *const word[O_COUNT] = {
		[O_PASS] = "PASS", [O_FAIL] = "FAIL", [O_SKIP] = "SKIP",
		[O_ERROR] = "ERROR", [O_XFAIL] = "XFAIL", [O_XPASS] = "XPASS",
	};
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct check *k = &v->checks[i];
		const char *s;

		fprintf(f, "%s\t", k->not_run ? "NOTRUN" : word[k->o]);
		for (s = k->r->name; *s; s++)
			fputc(*s > 0x20 && *s < 0x7f ? *s : '?', f);
		fputc('\n', f);
	}
	if (hvt_console_error(c) != HVT_STREAM_OK)
		fputs("ERROR\t-\n", f);
}

/** The short human summary: a line, then the failures or, for an ERROR, the last console lines. */
static void write_human(FILE *f, const struct hvt_console *c, const struct options *o,
			const struct verdict *v)
{
	static const char *const what[O_COUNT] = {
		[O_PASS] = "passed", [O_FAIL] = "failed", [O_SKIP] = "skipped",
		[O_ERROR] = "errors", [O_XFAIL] = "expected failures", [O_XPASS] = "unexpected passes",
	};
	static const enum outcome order[] = { O_PASS, O_FAIL, O_XPASS, O_SKIP, O_XFAIL, O_ERROR };
	const char *sep = "";
	size_t i, shown = 0;

	if (v->status == HVT_ERROR) {
		fprintf(f, "ERROR  ");
		put_sanitized(f, o->test);
		fputs(": ", f);
		put_sanitized(f, v->reason);
		fputc('\n', f);
		if (hvt_console_error(c) != HVT_STREAM_OK && hvt_console_tail_count(c)) {
			fputs("  last console lines:\n", f);
			for (i = 0; i < hvt_console_tail_count(c); i++)
				fprintf(f, "  | %s\n", hvt_console_tail_line(c, i));
		}
		return;
	}
	fprintf(f, "%-4s  ", hvt_status_name(v->status));
	put_sanitized(f, o->test);
	fputs("  (", f);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (v->count[order[i]]) {
			fprintf(f, "%s%lu %s", sep, v->count[order[i]], what[order[i]]);
			sep = ", ";
		}
	}
	fputs(")\n", f);
	for (i = 0; i < v->n && shown < 10; i++) {
		const struct check *k = &v->checks[i];

		if (k->o == O_FAIL) {
			fprintf(f, "  FAIL   %s: ", k->r->name);
			put_sanitized(f, shown_detail(k));
			fputc('\n', f);
			shown++;
		} else if (k->o == O_XPASS) {
			fprintf(f, "  XPASS  %s: expected to fail (", k->r->name);
			put_sanitized(f, k->why);
			fprintf(f, ") but passed; update %s\n", errata_name(o));
			shown++;
		}
	}
	if (shown == 10 && v->count[O_FAIL] + v->count[O_XPASS] > 10)
		fprintf(f, "  ... and %lu more\n", v->count[O_FAIL] + v->count[O_XPASS] - 10);
}

/* ------------------------------------------------------------------ command line */

static void usage(FILE *f)
{
	fputs("usage: hvt-verdict [options] LOGFILE   (LOGFILE '-' reads standard input)\n"
	      "       hvt-verdict --errata-check --errata FILE\n"
	      "       hvt-verdict --exclusions --errata FILE --hypervisor H [--hv-version V]\n"
	      "                   [--hv-module M] [--hv-cpu C] --test T\n"
	      "  --test NAME          test name (TAP and errata lookup)\n"
	      "  --image-test NAME    the test the booted image is (its file's stem): the guest's\n"
	      "                       BEGIN test= must be NAME\n"
	      "  --hypervisor H       qemu-tcg, qemu-kvm, bochs or xen, optionally @VERSION\n"
	      "  --hv-version V       hypervisor version, e.g. 7.2.22 (errata conditions)\n"
	      "  --hv-module M        KVM module flavour, e.g. kvm_amd (errata module=)\n"
	      "  --hv-cpu C           CPU model the hypervisor was given (errata cpu=, diagnostics)\n"
	      "  --errata FILE        expected-failure data (docs/errata.md)\n"
	      "  --nonce N            nonce passed to the guest: BEGIN and END must carry it\n"
	      "  --exit-code N        exit status of the hypervisor (124: killed by the timeout)\n"
	      "  --timeout SECS       timeout that applied\n"
	      "  --cmdline STR        hypervisor command line (diagnostics)\n"
	      "  --duration SECS      run time (diagnostics)\n"
	      "  --tap N              print one TAP 13 test point numbered N\n"
	      "  --summary FILE       write key=value lines\n"
	      "  --junit FILE         write JUnit XML\n"
	      "  --checks FILE        write one line per check: STATUS<TAB>NAME, STATUS one of\n"
	      "                       PASS FAIL XFAIL XPASS SKIP ERROR NOTRUN (\"ERROR<TAB>-\" for\n"
	      "                       an incoherent console)\n"
	      "  --tail N             console lines in diagnostics (default 10)\n"
	      "  --exclusions         print the guest command-line words (-CHECK) of the errata's\n"
	      "                       not-run entries for H, V, M, C and T, one a line; read no log\n"
	      "exit status: 0 PASS, 1 FAIL, 77 SKIP, 99 ERROR, 2 usage error\n"
	      "  --errata-check       name each entry of --errata FILE that records no observed\n"
	      "                       detail (\"FILE:LINE: ...\"); read no log\n"
	      "  --observe            instead of a report, print each failure an entry covers:\n"
	      "                       LINE<TAB>CHECK<TAB>NORMALISED-DETAIL<TAB>MATCH, MATCH one of\n"
	      "                       match differs unrecorded none (docs/errata.md)\n"
	      "exit status: 0 PASS, 1 FAIL, 77 SKIP, 99 ERROR, 2 usage error\n"
	      "(with --exclusions: 0, or 2 for a usage error or bad errata;\n"
	      " with --errata-check: 0, 1 when an entry records no observation, 2 bad errata;\n"
	      " with --observe: 0, or 2 for a usage error)\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("hvt-verdict: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see hvt-verdict --help)\n", stderr);
	return EXIT_USAGE;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool printable_string(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_TEST = 256, OPT_IMAGE_TEST, OPT_HV, OPT_VERSION, OPT_MODULE, OPT_CPU, OPT_ERRATA, OPT_NONCE, OPT_EXIT, OPT_TIMEOUT,
	       OPT_CMDLINE, OPT_DURATION, OPT_TAP, OPT_SUMMARY, OPT_JUNIT, OPT_CHECKS, OPT_TAIL,
	       OPT_EXCLUSIONS, OPT_ERRATA_CHECK, OPT_OBSERVE, OPT_HELP };
	static const struct option longopts[] = {
		{ "test", required_argument, NULL, OPT_TEST },
		{ "image-test", required_argument, NULL, OPT_IMAGE_TEST },
		{ "hypervisor", required_argument, NULL, OPT_HV },
		{ "hv-version", required_argument, NULL, OPT_VERSION },
		{ "hv-module", required_argument, NULL, OPT_MODULE },
		{ "hv-cpu", required_argument, NULL, OPT_CPU },
		{ "errata", required_argument, NULL, OPT_ERRATA },
		{ "nonce", required_argument, NULL, OPT_NONCE },
		{ "exit-code", required_argument, NULL, OPT_EXIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "tap", required_argument, NULL, OPT_TAP },
		{ "summary", required_argument, NULL, OPT_SUMMARY },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "checks", required_argument, NULL, OPT_CHECKS },
		{ "tail", required_argument, NULL, OPT_TAIL },
		{ "exclusions", no_argument, NULL, OPT_EXCLUSIONS },
		{ "errata-check", no_argument, NULL, OPT_ERRATA_CHECK },
		{ "observe", no_argument, NULL, OPT_OBSERVE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long num;
	int ch;

	memset(o, 0, sizeof(*o));
	o->tail = HVT_TAIL_DEFAULT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_TEST:
			if (!printable_string(optarg))
				return usage_error("--test '%s': expected a non-empty printable name", optarg);
			o->test = optarg;
			break;
		case OPT_IMAGE_TEST:
			if (!printable_string(optarg))
				return usage_error("--image-test '%s': expected a non-empty printable name", optarg);
			o->image_test = optarg;
			break;
		case OPT_HV:
			/* KIND or KIND@VERSION: the errata are keyed by the kind */
			if (strcspn(optarg, "@") >= sizeof(o->hv_kind))
				return usage_error("--hypervisor '%s': expected qemu-tcg, qemu-kvm, bochs or xen", optarg);
			memcpy(o->hv_kind, optarg, strcspn(optarg, "@"));
			o->hv_kind[strcspn(optarg, "@")] = '\0';
			if (!hvt_hypervisor_known(o->hv_kind) || !printable_string(optarg) || strchr(optarg, ' '))
				return usage_error("--hypervisor '%s': expected qemu-tcg, qemu-kvm, bochs or xen", optarg);
			o->hv_name = optarg;
			o->target.hypervisor = o->hv_kind;
			break;
		case OPT_VERSION:
			/* empty: the runner could not tell; only '*' entries apply then */
			o->target.version = optarg[0] ? optarg : NULL;
			break;
		case OPT_MODULE:
			o->target.module = optarg[0] ? optarg : NULL;
			break;
		case OPT_CPU:
			o->target.cpu = optarg[0] ? optarg : NULL;
			break;
		case OPT_ERRATA:
			o->errata_path = optarg;
			break;
		case OPT_NONCE:
			if (!printable_string(optarg) || strchr(optarg, ' ') || strlen(optarg) > HVT_NAME_MAX)
				return usage_error("--nonce '%s': expected 1 to 200 printable bytes without spaces", optarg);
			o->nonce = optarg;
			break;
		case OPT_EXIT:
			if (!parse_ulong(optarg, 255, &num))
				return usage_error("--exit-code '%s': expected 0 to 255", optarg);
			o->exit_code = (long)num;
			o->have_exit_code = true;
			break;
		case OPT_TIMEOUT:
			o->timeout = optarg[0] ? optarg : NULL;
			break;
		case OPT_CMDLINE:
			o->cmdline = optarg;
			break;
		case OPT_DURATION:
			o->duration = optarg[0] ? optarg : NULL;
			break;
		case OPT_TAP:
			if (!parse_ulong(optarg, 1000000000, &num) || num == 0)
				return usage_error("--tap '%s': expected a test number from 1", optarg);
			o->tap = num;
			break;
		case OPT_SUMMARY:
			o->summary = optarg;
			break;
		case OPT_JUNIT:
			o->junit = optarg;
			break;
		case OPT_CHECKS:
			o->checks_path = optarg;
			break;
		case OPT_TAIL:
			if (!parse_ulong(optarg, HVT_TAIL_MAX, &num))
				return usage_error("--tail '%s': expected 0 to 1000", optarg);
			o->tail = num;
			break;
		case OPT_EXCLUSIONS:
			o->exclusions = true;
			break;
		case OPT_ERRATA_CHECK:
			o->errata_check = true;
			break;
		case OPT_OBSERVE:
			o->observe = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->errata_check) {
		if (optind != argc || !o->errata_path || o->exclusions || o->observe)
			return usage_error("%s", "--errata-check takes --errata FILE alone");
		return 0;
	}
	if (o->observe && (o->exclusions || o->tap || o->summary || o->junit || o->checks_path))
		return usage_error("%s", "--observe writes no report (--tap, --summary, --junit, --checks)");
	if (o->exclusions) {
		/* The runner asks before the guest boots: there is no log and no report yet. */
		if (optind != argc)
			return usage_error("--exclusions takes no LOGFILE ('%s')", argv[optind]);
		if (!o->errata_path || !o->target.hypervisor || !o->test)
			return usage_error("%s", "--exclusions needs --errata, --hypervisor and --test");
		if (o->tap || o->summary || o->junit || o->checks_path)
			return usage_error("%s", "--exclusions writes no report (--tap, --summary, --junit, --checks)");
		return 0;
	}
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "expected one LOGFILE" : "expected only one LOGFILE");
	o->log = argv[optind];
	return 0;
}

static int read_log(const char *path, struct hvt_console *c)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	static unsigned char buf[65536];
	size_t n;
	int ret = 0;

	if (!f) {
		fprintf(stderr, "hvt-verdict: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		hvt_console_feed(c, buf, n);
	if (ferror(f)) {
		fprintf(stderr, "hvt-verdict: %s: read error\n", path);
		ret = -1;
	}
	if (f != stdin)
		fclose(f);
	return ret;
}

enum report_file { REPORT_SUMMARY, REPORT_JUNIT, REPORT_CHECKS };

/*
 * A fresh temporary file beside @path, for write_file(): mkstemp() creates it with O_EXCL under
 * an unguessable name (nothing planted there is followed), and it gets the mode fopen() would
 * have given @path. Returns its stream, its name in @tmp (freed by the caller), or NULL.
 */
static FILE *open_beside(const char *path, char **tmp)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	size_t len = strlen(path) + sizeof("/..XXXXXX");
	mode_t mask;
	FILE *f;
	int fd;

	*tmp = malloc(len);
	if (!*tmp)
		return NULL;
	snprintf(*tmp, len, "%.*s.%s.XXXXXX", (int)dir_len, path, path + dir_len);
	fd = mkstemp(*tmp);
	if (fd < 0)
		return NULL;
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "w"))) {
		close(fd);
		unlink(*tmp);
		return NULL;
	}
	return f;
}

/*
 * Write one report file to @path, whole or not at all: into a temporary file in the same
 * directory, renamed onto @path once complete, so that a reader (or a Ctrl-C that kills this
 * process) never sees half a file. False (after a message) when it cannot be written.
 */
static bool write_file(const char *path, const struct hvt_console *c, const struct options *o,
		       const struct verdict *v, enum report_file which)
{
	char *tmp = NULL;
	FILE *f = open_beside(path, &tmp);
	bool ok;

	if (!f) {
		fprintf(stderr, "hvt-verdict: %s: %s\n", path, strerror(errno));
		free(tmp);
		return false;
	}
	switch (which) {
	case REPORT_SUMMARY:
		write_summary(f, v);
		break;
	case REPORT_JUNIT:
		write_junit(f, c, o, v);
		break;
	case REPORT_CHECKS:
		write_checks(f, c, v);
		break;
	}
	ok = !ferror(f);
	if (fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0) {
		fprintf(stderr, "hvt-verdict: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return false;
	}
	if (!ok) {
		fprintf(stderr, "hvt-verdict: %s: write error\n", path);
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

/* Print "-CHECK" for each not-run entry that applies: the guest then leaves those checks out. */
static void write_exclusions(FILE *f, const struct hvt_errata *e, const struct options *o)
{
	const struct hvt_erratum *x;
	size_t pos = 0;

	while ((x = hvt_errata_next_not_run(e, &o->target, o->test, &pos)))
		fprintf(f, "-%s\n", x->check);
}

/* Name each entry that records no observed detail; not-run entries never run, so never do. */
static int check_errata(FILE *f, const struct hvt_errata *e, const struct options *o)
{
	size_t i, missing = 0;

	for (i = 0; i < hvt_errata_count(e); i++) {
		const struct hvt_erratum *x = hvt_errata_entry(e, i);

		if (x->not_run || x->n_observed)
			continue;
		fprintf(f, "%s:%lu: %s %s %s:%s records no observed detail (add 'observed' lines: scripts/errata-observe)\n",
			o->errata_path, x->line, x->hypervisor, x->versions, x->test, x->check);
		missing++;
	}
	return missing ? 1 : 0;
}

/* For scripts/errata-observe: each failure an entry covers, with its normalised detail. */
static void write_observations(FILE *f, const struct verdict *v)
{
	static const char *const match[] = {
		[HVT_OBSERVED_NONE] = "none", [HVT_OBSERVED_MATCH] = "match",
		[HVT_OBSERVED_DIFFERS] = "differs", [HVT_OBSERVED_UNRECORDED] = "unrecorded",
	};
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct check *k = &v->checks[i];
		const char *p;

		if (k->not_run || !k->entry || k->r->status != HVT_FAIL)
			continue;
		fprintf(f, "%lu\t%s\t", k->entry->line, k->r->name);
		for (p = k->normalised; *p; p++)
			fputc(*p == '\t' ? ' ' : *p, f);
		fprintf(f, "\t%s\n", match[k->match]);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct hvt_errata *errata = NULL;
	struct hvt_console *c;
	struct verdict v;
	char err[512];
	int ret;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret;
	if (o.errata_path) {
		errata = hvt_errata_load(o.errata_path, err, sizeof(err));
		if (!errata) {
			fprintf(stderr, "hvt-verdict: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (o.errata_check) {
		ret = check_errata(stdout, errata, &o);
		hvt_errata_free(errata);
		return fflush(stdout) != 0 ? EXIT_USAGE : ret;
	}
	if (o.exclusions) {
		write_exclusions(stdout, errata, &o);
		hvt_errata_free(errata);
		return fflush(stdout) != 0 || ferror(stdout) ? EXIT_USAGE : 0;
	}
	c = hvt_console_new(o.nonce, o.tail);
	if (!c) {
		fputs("hvt-verdict: out of memory\n", stderr);
		hvt_errata_free(errata);
		return EXIT_ERROR;
	}
	if (read_log(o.log, c) != 0) {
		hvt_console_free(c);
		hvt_errata_free(errata);
		return EXIT_USAGE;
	}
	hvt_console_finish(c);
	if (!o.test)
		o.test = hvt_console_test(c) ? hvt_console_test(c) : "unknown";
	if (judge(c, errata, &o, &v) != 0) {
		fputs("hvt-verdict: out of memory\n", stderr);
		hvt_console_free(c);
		hvt_errata_free(errata);
		return EXIT_ERROR;
	}

	if (o.observe) {
		write_observations(stdout, &v);
		verdict_free(&v);
		hvt_console_free(c);
		hvt_errata_free(errata);
		return fflush(stdout) != 0 ? EXIT_USAGE : 0;
	}
	if (o.tap)
		write_tap(stdout, c, &o, &v, o.tap);
	else
		write_human(stdout, c, &o, &v);
	ret = exit_status(v.status);
	if (o.summary && !write_file(o.summary, c, &o, &v, REPORT_SUMMARY))
		ret = EXIT_USAGE;
	if (o.junit && !write_file(o.junit, c, &o, &v, REPORT_JUNIT))
		ret = EXIT_USAGE;
	if (o.checks_path && !write_file(o.checks_path, c, &o, &v, REPORT_CHECKS))
		ret = EXIT_USAGE;
	if (fflush(stdout) != 0)
		ret = EXIT_USAGE;

	verdict_free(&v);
	hvt_console_free(c);
	hvt_errata_free(errata);
	return ret;
}
