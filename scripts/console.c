/*
 * Console protocol parser (docs/protocol.md).
 *
 * Bytes are assembled into lines of at most HVT_LINE_MAX kept bytes, so memory stays bounded
 * whatever the stream holds. Each complete line goes to the diagnostic tail and, when it is a
 * protocol line, through a strict grammar check. The first incoherence decides the reason and
 * stops result recording: a verdict other than ERROR needs BEGIN, results in sequence and a
 * matching END, with nothing protocol-like after it.
 */
#include "console.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { BEFORE_BEGIN, RUNNING, ENDED };

struct hvt_console {
	char *want_nonce;

	/* The line being assembled: up to HVT_LINE_MAX bytes plus a possible '\r'. */
	unsigned char line[HVT_LINE_MAX + 1];
	size_t kept;           /* bytes stored in line[] */
	size_t total;          /* true length so far (saturating) */
	unsigned char last;    /* last byte of the line, even when not kept */
	unsigned long lineno;  /* lines completed */

	enum phase phase;
	bool finished;
	enum hvt_stream_error err;
	char reason[512];

	char *test, *nonce;
	struct hvt_result *results;
	size_t nresults, cap;
	size_t result_bytes;
	struct hvt_counts seen, end;
	bool saw_begin, saw_end;
	enum hvt_status end_status;

	/* Ring of escaped console lines: tail[(head + i) % tail_max] is the i-th oldest. */
	char **tail;
	size_t tail_max, tail_len, tail_head;
};

const char *hvt_status_name(enum hvt_status s)
{
	switch (s) {
	case HVT_PASS: return "PASS";
	case HVT_FAIL: return "FAIL";
	case HVT_SKIP: return "SKIP";
	case HVT_ERROR: return "ERROR";
	}
	return "?";
}

const char *hvt_stream_error_name(enum hvt_stream_error e)
{
	static const char *const names[] = {
		[HVT_STREAM_OK] = "ok",
		[HVT_STREAM_UNFINISHED] = "unfinished",
		[HVT_STREAM_NO_BEGIN] = "no-begin",
		[HVT_STREAM_RESET] = "reset",
		[HVT_STREAM_PROTO] = "proto",
		[HVT_STREAM_MALFORMED] = "malformed",
		[HVT_STREAM_OVERLONG] = "overlong",
		[HVT_STREAM_SEQ] = "seq",
		[HVT_STREAM_NONCE] = "nonce",
		[HVT_STREAM_END_MISMATCH] = "end-mismatch",
		[HVT_STREAM_NO_END] = "no-end",
		[HVT_STREAM_AFTER_END] = "after-end",
		[HVT_STREAM_TOO_MANY] = "too-many",
		[HVT_STREAM_NOMEM] = "nomem",
	};
	if ((size_t)e < sizeof(names) / sizeof(names[0]) && names[e])
		return names[e];
	return "?";
}

static bool printable(unsigned char b)
{
	return b >= 0x20 && b <= 0x7e;
}

/* Escape @n bytes into @out (size @size), never splitting an escape; returns bytes consumed. */
static size_t escape_into(char *out, size_t size, const unsigned char *p, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		char tmp[5];
		size_t len;

		if (p[i] == '\\') {
			memcpy(tmp, "\\\\", 2);
			len = 2;
		} else if (printable(p[i])) {
			tmp[0] = (char)p[i];
			len = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			len = 4;
		}
		if (o + len + 1 > size)
			break;
		memcpy(out + o, tmp, len);
		o += len;
	}
	if (size)
		out[o] = '\0';
	return i;
}

/* Record the first stream error; later ones would only be consequences of it. */
static void fail(struct hvt_console *c, enum hvt_stream_error e, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (c->err != HVT_STREAM_OK)
		return;
	c->err = e;
	if (e != HVT_STREAM_NO_BEGIN && e != HVT_STREAM_NO_END && e != HVT_STREAM_NOMEM)
		n = snprintf(c->reason, sizeof(c->reason), "line %lu: ", c->lineno + 1);
	if (n < 0 || (size_t)n >= sizeof(c->reason))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->reason + n, sizeof(c->reason) - (size_t)n, fmt, ap);
	va_end(ap);
}

struct hvt_console *hvt_console_new(const char *nonce, size_t tail)
{
	struct hvt_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (tail > HVT_TAIL_MAX)
		tail = HVT_TAIL_MAX;
	c->tail_max = tail;
	if (tail && !(c->tail = calloc(tail, sizeof(*c->tail))))
		goto nomem;
	if (nonce && !(c->want_nonce = strdup(nonce)))
		goto nomem;
	c->err = HVT_STREAM_OK;
	return c;
nomem:
	hvt_console_free(c);
	return NULL;
}

void hvt_console_free(struct hvt_console *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nresults; i++) {
		free((char *)c->results[i].name);
		free((char *)c->results[i].detail);
	}
	free(c->results);
	for (i = 0; i < c->tail_max; i++)
		free(c->tail[i]);
	free(c->tail);
	free(c->want_nonce);
	free(c->test);
	free(c->nonce);
	free(c);
}

/* Keep an escaped copy of a line; @more is how many bytes of it were not kept. */
static void tail_push(struct hvt_console *c, const unsigned char *p, size_t n, size_t more)
{
	char *s;
	size_t size, slot;

	if (!c->tail_max)
		return;
	size = n * 4 + 48;
	s = malloc(size);
	if (!s) {
		fail(c, HVT_STREAM_NOMEM, "out of memory");
		return;
	}
	escape_into(s, size, p, n);
	if (more) {
		size_t used = strlen(s);
		snprintf(s + used, size - used, " [... %zu more bytes]", more);
	}
	if (c->tail_len < c->tail_max) {
		slot = (c->tail_head + c->tail_len) % c->tail_max;
		c->tail_len++;
	} else {
		slot = c->tail_head;
		c->tail_head = (c->tail_head + 1) % c->tail_max;
	}
	free(c->tail[slot]);
	c->tail[slot] = s;
}

/* A cursor over the protocol line being checked. */
struct cur {
	const unsigned char *p;
	size_t n, i;
};

static bool at_end(const struct cur *k)
{
	return k->i == k->n;
}

static bool take(struct cur *k, const char *lit)
{
	size_t len = strlen(lit);

	if (k->n - k->i < len || memcmp(k->p + k->i, lit, len) != 0)
		return false;
	k->i += len;
	return true;
}

/* A canonical decimal number (no sign, no leading zero) that fits in an unsigned long. */
static bool take_number(struct cur *k, unsigned long *out)
{
	unsigned long v = 0;
	size_t start = k->i;

	while (k->i < k->n && k->p[k->i] >= '0' && k->p[k->i] <= '9') {
		unsigned d = k->p[k->i] - '0';

		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		k->i++;
	}
	if (k->i == start || (k->p[start] == '0' && k->i - start > 1))
		return false;
	*out = v;
	return true;
}

/* A run of printable bytes other than space (and ':' unless @colon); 1..@max long. */
static bool take_word_max(struct cur *k, bool colon, size_t max, char **out)
{
	size_t start = k->i, len;

	while (k->i < k->n && k->p[k->i] != ' ' && (colon || k->p[k->i] != ':'))
		k->i++;
	len = k->i - start;
	if (len == 0 || len > max)
		return false;
	*out = malloc(len + 1);
	if (!*out)
		return false;
	memcpy(*out, k->p + start, len);
	(*out)[len] = '\0';
	return true;
}

static bool take_word(struct cur *k, bool colon, char **out)
{
	return take_word_max(k, colon, HVT_NAME_MAX, out);
}

static bool take_status(struct cur *k, enum hvt_status *out)
{
	static const enum hvt_status all[] = { HVT_PASS, HVT_FAIL, HVT_SKIP, HVT_ERROR };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (take(k, hvt_status_name(all[i]))) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

/* The status the counts imply; false for a run in which no check reported anything. */
static bool derive_status(const struct hvt_counts *n, enum hvt_status *out)
{
	if (n->error)
		*out = HVT_ERROR;
	else if (n->fail)
		*out = HVT_FAIL;
	else if (n->pass)
		*out = HVT_PASS;
	else if (n->skip)
		*out = HVT_SKIP;
	else
		return false;
	return true;
}

static void parse_begin(struct hvt_console *c, struct cur *k)
{
	unsigned long proto;
	char *test = NULL, *nonce = NULL;

	if (!take(k, "HVT BEGIN proto=") || !take_number(k, &proto)) {
		fail(c, HVT_STREAM_MALFORMED, "malformed begin marker (expected 'HVT BEGIN proto=1 test=NAME nonce=N')");
		return;
	}
	if (proto != 1) {
		fail(c, HVT_STREAM_PROTO, "begin marker with unsupported protocol version %lu (this parser knows 1)", proto);
		return;
	}
	if (!take(k, " test=") || !take_word(k, false, &test) || !take(k, " nonce=") ||
	    !take_word(k, true, &nonce) || !at_end(k)) {
		fail(c, HVT_STREAM_MALFORMED, "malformed begin marker (expected 'HVT BEGIN proto=1 test=NAME nonce=N')");
		goto out;
	}
	if (c->want_nonce && strcmp(nonce, c->want_nonce) != 0) {
		fail(c, HVT_STREAM_NONCE, "begin marker nonce '%.40s' differs from the runner's '%.40s' (stale or forged output)",
		     nonce, c->want_nonce);
		goto out;
	}
	c->test = test;
	c->nonce = nonce;
	test = nonce = NULL;
	c->saw_begin = true;
	c->phase = RUNNING;
out:
	free(test);
	free(nonce);
}

static void parse_result(struct hvt_console *c, struct cur *k)
{
	enum hvt_status st;
	unsigned long seq;
	char *name = NULL, *detail = NULL;
	size_t dlen;
	struct hvt_result *r;

	if (!take(k, "HVT ") || !take_status(k, &st) || !take(k, " ") || !take_number(k, &seq) ||
	    !take(k, " ")) {
		fail(c, HVT_STREAM_MALFORMED, "malformed result line (expected 'HVT STATUS SEQ NAME')");
		return;
	}
	if (seq != c->nresults + 1) {
		fail(c, HVT_STREAM_SEQ, "result sequence number %lu, expected %zu (lines lost or forged)",
		     seq, c->nresults + 1);
		return;
	}
	/*
	 * A name may hold ':' but not end with one, so that in "NAME: DETAIL"
	 * the name is the word before the first space, less its final ':'.
	 */
	if (!take_word_max(k, true, HVT_NAME_MAX + (st != HVT_PASS), &name) ||
	    (st == HVT_PASS && strlen(name) > HVT_NAME_MAX)) {
		fail(c, HVT_STREAM_MALFORMED, "malformed result line: bad check name (1 to %d printable bytes, no space, not ending in ':')",
		     HVT_NAME_MAX);
		return;
	}
	if (st == HVT_PASS) {
		if (!at_end(k)) {
			fail(c, HVT_STREAM_MALFORMED, "malformed result line: text after the name of a passed check");
			goto out;
		}
		dlen = 0;
	} else {
		size_t nlen = strlen(name);

		if (nlen < 2 || name[nlen - 1] != ':' || !take(k, " ")) {
			fail(c, HVT_STREAM_MALFORMED, "malformed result line: expected ': ' after the check name");
			goto out;
		}
		name[nlen - 1] = '\0';
		dlen = k->n - k->i;
	}
	if (name[strlen(name) - 1] == ':') {
		fail(c, HVT_STREAM_MALFORMED, "malformed result line: bad check name (1 to %d printable bytes, no space, not ending in ':')",
		     HVT_NAME_MAX);
		goto out;
	}
	if (c->nresults >= HVT_MAX_RESULTS ||
	    c->result_bytes + strlen(name) + dlen + 2 > HVT_MAX_RESULT_BYTES) {
		fail(c, HVT_STREAM_TOO_MANY, "too many results (at most %d, %u MiB of text)",
		     HVT_MAX_RESULTS, HVT_MAX_RESULT_BYTES >> 20);
		goto out;
	}
	detail = malloc(dlen + 1);
	if (!detail)
		goto nomem;
	memcpy(detail, k->p + k->i, dlen);
	detail[dlen] = '\0';
	if (c->nresults == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct hvt_result *n = realloc(c->results, cap * sizeof(*n));

		if (!n)
			goto nomem;
		c->results = n;
		c->cap = cap;
	}
	r = &c->results[c->nresults++];
	r->seq = seq;
	r->status = st;
	r->name = name;
	r->detail = detail;
	c->result_bytes += strlen(name) + dlen + 2;
	switch (st) {
	case HVT_PASS: c->seen.pass++; break;
	case HVT_FAIL: c->seen.fail++; break;
	case HVT_SKIP: c->seen.skip++; break;
	case HVT_ERROR: c->seen.error++; break;
	}
	return;
nomem:
	fail(c, HVT_STREAM_NOMEM, "out of memory");
out:
	free(name);
	free(detail);
}

static void parse_end(struct hvt_console *c, struct cur *k)
{
	struct hvt_counts n;
	enum hvt_status st, want;
	char *nonce = NULL;

	if (!take(k, "HVT END pass=") || !take_number(k, &n.pass) ||
	    !take(k, " fail=") || !take_number(k, &n.fail) ||
	    !take(k, " skip=") || !take_number(k, &n.skip) ||
	    !take(k, " error=") || !take_number(k, &n.error) ||
	    !take(k, " status=") || !take_status(k, &st) ||
	    !take(k, " nonce=") || !take_word(k, true, &nonce) || !at_end(k)) {
		fail(c, HVT_STREAM_MALFORMED,
		     "malformed end marker (expected 'HVT END pass=P fail=F skip=S error=E status=STATUS nonce=N')");
		goto out;
	}
	if (strcmp(nonce, c->nonce) != 0 || (c->want_nonce && strcmp(nonce, c->want_nonce) != 0)) {
		bool begin = strcmp(nonce, c->nonce) != 0;

		fail(c, HVT_STREAM_NONCE, "end marker nonce '%.40s' differs from the %s '%.40s' (stale or forged output)",
		     nonce, begin ? "begin marker's" : "runner's", begin ? c->nonce : c->want_nonce);
		goto out;
	}
	if (n.pass != c->seen.pass || n.fail != c->seen.fail || n.skip != c->seen.skip ||
	    n.error != c->seen.error) {
		fail(c, HVT_STREAM_END_MISMATCH,
		     "end marker counts pass=%lu fail=%lu skip=%lu error=%lu disagree with the results seen "
		     "(pass=%lu fail=%lu skip=%lu error=%lu)",
		     n.pass, n.fail, n.skip, n.error,
		     c->seen.pass, c->seen.fail, c->seen.skip, c->seen.error);
		goto out;
	}
	if (!derive_status(&n, &want)) {
		fail(c, HVT_STREAM_END_MISMATCH, "end marker of a run in which no check ran");
		goto out;
	}
	if (st != want) {
		fail(c, HVT_STREAM_END_MISMATCH, "end marker status %s disagrees with its counts (%s)",
		     hvt_status_name(st), hvt_status_name(want));
		goto out;
	}
	c->end = n;
	c->end_status = st;
	c->saw_end = true;
	c->phase = ENDED;
out:
	free(nonce);
}

/* The keyword of a protocol line: the bytes after "HVT " up to the next space. */
static bool keyword_is(const unsigned char *p, size_t n, const char *kw)
{
	size_t len = strlen(kw);

	return n >= 4 + len && memcmp(p + 4, kw, len) == 0 && (n == 4 + len || p[4 + len] == ' ');
}

static void protocol_line(struct hvt_console *c, const unsigned char *p, size_t n, bool overlong)
{
	struct cur k = { p, n, 0 };
	size_t i;

	if (c->phase == BEFORE_BEGIN && !keyword_is(p, n, "BEGIN"))
		return; /* boot loader or firmware output, even if it looks like ours */
	if (c->phase == ENDED) {
		fail(c, HVT_STREAM_AFTER_END, "protocol line after the end marker (output after the guest finished)");
		return;
	}
	if (c->phase == RUNNING && keyword_is(p, n, "BEGIN")) {
		fail(c, HVT_STREAM_RESET, "second begin marker (the guest was reset)");
		return;
	}
	if (overlong) {
		fail(c, HVT_STREAM_OVERLONG, "protocol line longer than %d bytes", HVT_LINE_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!printable(p[i])) {
			fail(c, HVT_STREAM_MALFORMED, "control byte 0x%02x at column %zu of a protocol line",
			     p[i], i + 1);
			return;
		}
	}
	if (c->phase == BEFORE_BEGIN) {
		parse_begin(c, &k);
	} else if (keyword_is(p, n, "END")) {
		parse_end(c, &k);
	} else if (keyword_is(p, n, "PASS") || keyword_is(p, n, "FAIL") ||
		   keyword_is(p, n, "SKIP") || keyword_is(p, n, "ERROR")) {
		parse_result(c, &k);
	} else {
		char kw[64];
		size_t len = 0;

		while (4 + len < n && p[4 + len] != ' ')
			len++;
		escape_into(kw, sizeof(kw), p + 4, len);
		fail(c, HVT_STREAM_MALFORMED, "unknown protocol keyword '%s'", kw);
	}
}

/* Finish the line being assembled; @complete is false for a final line without "\n". */
static void end_line(struct hvt_console *c, bool complete)
{
	size_t total = c->total, kept = c->kept;
	bool overlong, proto;

	if (total && c->last == '\r') {
		total--;
		if (kept > total)
			kept = total;
	}
	if (kept > HVT_LINE_MAX)
		kept = HVT_LINE_MAX;
	overlong = total > HVT_LINE_MAX;
	proto = kept >= 4 && memcmp(c->line, "HVT ", 4) == 0;

	tail_push(c, c->line, kept, total - kept);
	if (c->err == HVT_STREAM_OK && proto) {
		if (complete) {
			protocol_line(c, c->line, kept, overlong);
		} else if (c->phase == ENDED) {
			fail(c, HVT_STREAM_AFTER_END,
			     "protocol line after the end marker (output after the guest finished)");
		}
		/* An unterminated line before END is the truncation reported at finish. */
	}
	c->lineno++;
	c->kept = c->total = 0;
	c->last = 0;
}

static void append(struct hvt_console *c, const unsigned char *p, size_t n)
{
	size_t room = sizeof(c->line) - c->kept, copy = n < room ? n : room;

	if (!n)
		return;
	memcpy(c->line + c->kept, p, copy);
	c->kept += copy;
	c->total = c->total > SIZE_MAX - n ? SIZE_MAX : c->total + n;
	c->last = p[n - 1];
}

void hvt_console_feed(struct hvt_console *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (c->finished)
		return;
	while (len) {
		const unsigned char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;

		append(c, p, n);
		if (!nl)
			break;
		end_line(c, true);
		p += n + 1;
		len -= n + 1;
	}
}

void hvt_console_finish(struct hvt_console *c)
{
	size_t i;

	if (c->finished)
		return;
	if (c->total)
		end_line(c, false);
	c->finished = true;
	if (c->phase == BEFORE_BEGIN)
		fail(c, HVT_STREAM_NO_BEGIN, "no begin marker (the guest never started)");
	else if (c->phase == RUNNING)
		fail(c, HVT_STREAM_NO_END,
		     "no end marker (truncated output: the guest hung, crashed, triple-faulted or was killed)");
	if (c->err == HVT_STREAM_OK && c->end_status == HVT_ERROR) {
		for (i = 0; i < c->nresults; i++) {
			const struct hvt_result *r = &c->results[i];

			if (r->status == HVT_ERROR) {
				snprintf(c->reason, sizeof(c->reason), "check %s reported ERROR: %s",
					 r->name, r->detail);
				break;
			}
		}
	}
}

enum hvt_status hvt_console_verdict(const struct hvt_console *c)
{
	if (!c->finished || c->err != HVT_STREAM_OK || !c->saw_end)
		return HVT_ERROR;
	return c->end_status;
}

enum hvt_stream_error hvt_console_error(const struct hvt_console *c)
{
	return c->finished ? c->err : HVT_STREAM_UNFINISHED;
}

const char *hvt_console_reason(const struct hvt_console *c)
{
	if (!c->finished)
		return "the stream is not finished";
	return c->reason;
}

size_t hvt_console_result_count(const struct hvt_console *c)
{
	return c->nresults;
}

const struct hvt_result *hvt_console_result(const struct hvt_console *c, size_t i)
{
	return i < c->nresults ? &c->results[i] : NULL;
}

struct hvt_counts hvt_console_seen_counts(const struct hvt_console *c)
{
	return c->seen;
}

bool hvt_console_end_counts(const struct hvt_console *c, struct hvt_counts *out)
{
	static const struct hvt_counts zero;

	*out = c->saw_end ? c->end : zero;
	return c->saw_end;
}

bool hvt_console_saw_begin(const struct hvt_console *c)
{
	return c->saw_begin;
}

bool hvt_console_saw_end(const struct hvt_console *c)
{
	return c->saw_end;
}

const char *hvt_console_test(const struct hvt_console *c)
{
	return c->test;
}

const char *hvt_console_nonce(const struct hvt_console *c)
{
	return c->nonce;
}

unsigned long hvt_console_line_count(const struct hvt_console *c)
{
	return c->lineno;
}

size_t hvt_console_tail_count(const struct hvt_console *c)
{
	return c->tail_len;
}

const char *hvt_console_tail_line(const struct hvt_console *c, size_t i)
{
	if (i >= c->tail_len)
		return NULL;
	return c->tail[(c->tail_head + i) % c->tail_max];
}
