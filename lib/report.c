/*
 * Result lines of the console protocol (docs/protocol.md).  All output for one
 * result is formatted into one buffer and written at once, so that it stays one line.
 */
#include "report.h"
#include "spinlock.h"

#define NAME_MAX_LEN 200
#define PREFIX_DEPTH 8

static struct report_counts counts;
static struct spinlock result_lock;
static unsigned sequence;
static const char *entry_name;
static char prefixes[PREFIX_DEPTH][64];
static unsigned prefix_depth;
static const char *run_nonce = "-";

enum result { RESULT_PASS, RESULT_FAIL, RESULT_SKIP, RESULT_ERROR };

static const char *const result_word[] = { "PASS", "FAIL", "SKIP", "ERROR" };

/* Keeps names inside the protocol's alphabet: printable, no space, not ending in ':'. */
static void sanitize_name(char *name)
{
	for (; *name; name++)
		if (*name <= ' ' || *name > '~' || (*name == ':' && name[1] == '\0'))
			*name = '_';
}

static void build_name(char *out, size_t size, const char *own)
{
	size_t len = 0;

	out[0] = '\0';
	if (entry_name)
		len = strlcpy(out, entry_name, size);
	for (unsigned i = 0; i < prefix_depth && len < size; i++)
		len += snprintf(out + len, size - len, "%s%s", len ? "." : "", prefixes[i]);
	if (own && *own && len < size)
		snprintf(out + len, size - len, "%s%s", len ? "." : "", own);
	if (!out[0])
		strlcpy(out, "-", size);
	sanitize_name(out);
}

/* Detail text is one line of printable characters. */
static void sanitize_text(char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < ' ' || (unsigned char)*text > '~')
			*text = ' ';
}

static void emit_result(enum result r, const char *own_name, const char *fmt, va_list ap)
{
	char name[NAME_MAX_LEN + 1], detail[512];

	build_name(name, sizeof(name), own_name);
	detail[0] = '\0';
	if (fmt)
		vsnprintf(detail, sizeof(detail), fmt, ap);
	sanitize_text(detail);

	/* A result from another CPU gets the next sequence number and its line in that order. */
	spin_lock(&result_lock);
	switch (r) {
	case RESULT_PASS:
		counts.pass++;
		break;
	case RESULT_FAIL:
		counts.fail++;
		break;
	case RESULT_SKIP:
		counts.skip++;
		break;
	case RESULT_ERROR:
		counts.error++;
		break;
	}
	sequence++;
	if (r == RESULT_PASS)
		printf("HVT PASS %u %s\n", sequence, name);
	else
		printf("HVT %s %u %s: %s\n", result_word[r], sequence, name, detail);
	spin_unlock(&result_lock);
}

static void emit_result_args(enum result r, const char *own_name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_result(r, own_name, fmt, ap);
	va_end(ap);
}

bool check(bool pass, const char *name_fmt, ...)
{
	char own[NAME_MAX_LEN];
	va_list ap;

	va_start(ap, name_fmt);
	vsnprintf(own, sizeof(own), name_fmt, ap);
	va_end(ap);
	emit_result_args(pass ? RESULT_PASS : RESULT_FAIL, own, "%s", "check failed");
	return pass;
}

bool check_msg(bool pass, const char *name, const char *detail_fmt, ...)
{
	va_list ap;

	va_start(ap, detail_fmt);
	emit_result(pass ? RESULT_PASS : RESULT_FAIL, name, detail_fmt, ap);
	va_end(ap);
	return pass;
}

void skip(const char *name, const char *reason_fmt, ...)
{
	va_list ap;

	va_start(ap, reason_fmt);
	emit_result(RESULT_SKIP, name, reason_fmt, ap);
	va_end(ap);
}

void test_error(const char *name, const char *reason_fmt, ...)
{
	va_list ap;

	va_start(ap, reason_fmt);
	emit_result(RESULT_ERROR, name, reason_fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
}

void report_prefix_push(const char *fmt, ...)
{
	va_list ap;

	if (prefix_depth == PREFIX_DEPTH)
		report_abort("report prefixes nested deeper than %d", PREFIX_DEPTH);
	va_start(ap, fmt);
	vsnprintf(prefixes[prefix_depth++], sizeof(prefixes[0]), fmt, ap);
	va_end(ap);
}

void report_prefix_pop(void)
{
	if (!prefix_depth)
		report_abort("report_prefix_pop() without a prefix");
	prefix_depth--;
}

void report_set_entry(const char *entry)
{
	entry_name = entry;
	prefix_depth = 0;
}

const char *report_entry(void)
{
	return entry_name;
}

struct report_counts report_counts(void)
{
	return counts;
}

void report_begin(const char *test_name, const char *nonce)
{
	run_nonce = nonce && *nonce ? nonce : "-";
	/* A newline first: the banner must start a line whatever firmware printed. */
	printf("\nHVT BEGIN proto=1 test=%s nonce=%s\n", test_name, run_nonce);
}

static int status_code(void)
{
	if (counts.error)
		return 3;
	if (counts.fail)
		return 1;
	if (counts.pass)
		return 0;
	return 2;
}

void report_end(void)
{
	static const char *const status_word[] = { "PASS", "FAIL", "SKIP", "ERROR" };
	int code;

	if (!counts.pass && !counts.fail && !counts.skip && !counts.error) {
		entry_name = NULL;
		prefix_depth = 0;
		emit_result_args(RESULT_ERROR, NULL, "%s", "no check ran");
	}
	code = status_code();
	printf("# summary: %u passed, %u failed, %u skipped, %u errors\n",
	       counts.pass, counts.fail, counts.skip, counts.error);
	printf("HVT END pass=%u fail=%u skip=%u error=%u status=%s nonce=%s\n",
	       counts.pass, counts.fail, counts.skip, counts.error, status_word[code], run_nonce);
	platform_exit(code);
}

void report_abort(const char *reason_fmt, ...)
{
	va_list ap;

	va_start(ap, reason_fmt);
	emit_result(RESULT_ERROR, NULL, reason_fmt, ap);
	va_end(ap);
	report_end();
}
