/*
 * libFuzzer target for the console parser. Each input is parsed at once and in chunks whose
 * sizes derive from the input; both parses must agree exactly, and the verdict must agree with
 * a separate whole-buffer checker written from docs/protocol.md in a different style (sscanf
 * scan sets instead of a cursor), so that a bug has to be made twice to go unnoticed.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "fuzz.h"

/* ------------------------------------------------------------------ reference checker */

struct ref {
	bool coherent;
	enum hvt_status status;
	unsigned long n[4]; /* results per status, indexed by enum hvt_status */
};

static bool all_printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool canonical(const char *digits)
{
	return digits[0] != '0' || digits[1] == '\0';
}

/* A decimal string as a count; anything too long to be one saturates. */
static unsigned long count_of(const char *digits)
{
	return strlen(digits) > 9 ? ULONG_MAX : strtoul(digits, NULL, 10);
}

/* "%*1[ ]" matches exactly one space, where a plain ' ' would match any white space. */
#define SP "%*1[ ]"

static bool ref_begin(const char *line, char *nonce, const char *want)
{
	char proto[21], test[202];
	int pos = -1;

	sscanf(line, "HVT" SP "BEGIN" SP "proto=%20[0-9]" SP "test=%201[!-9;-~]" SP "nonce=%201[!-~]%n",
	       proto, test, nonce, &pos);
	return pos >= 0 && line[pos] == '\0' && strcmp(proto, "1") == 0 && strlen(test) <= 200 &&
	       strlen(nonce) <= 200 && (!want || strcmp(nonce, want) == 0);
}

static int ref_status(const char *s)
{
	static const char *const names[] = { "PASS", "FAIL", "SKIP", "ERROR" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/*
 * A result line; returns its status or -1. The word after SEQ is the name (PASS) or the name
 * and a final ':' (the others); a name may hold ':' but not end with one.
 */
static int ref_result(const char *line, unsigned long expect_seq)
{
	char kw[6], seq[21], word[203];
	int pos = -1, st;
	size_t len, name_len;

	sscanf(line, "HVT" SP "%5[A-Z]" SP "%20[0-9]" SP "%202[!-~]%n", kw, seq, word, &pos);
	if (pos < 0 || (st = ref_status(kw)) < 0 || !canonical(seq) || count_of(seq) != expect_seq)
		return -1;
	len = strlen(word);
	if (st == HVT_PASS) {
		name_len = len;
		if (line[pos] != '\0')
			return -1;
	} else {
		name_len = len - 1;
		if (word[len - 1] != ':' || line[pos] != ' ')
			return -1;
	}
	if (name_len < 1 || name_len > 200 || word[name_len - 1] == ':')
		return -1;
	return st;
}

static bool ref_end(const char *line, const char *nonce, struct ref *r)
{
	char c[4][21], status[6], n[202];
	unsigned long counts[4];
	int pos = -1, i, derived;

	sscanf(line, "HVT" SP "END" SP "pass=%20[0-9]" SP "fail=%20[0-9]" SP "skip=%20[0-9]" SP
	       "error=%20[0-9]" SP "status=%5[A-Z]" SP "nonce=%201[!-~]%n",
	       c[0], c[1], c[2], c[3], status, n, &pos);
	if (pos < 0 || line[pos] != '\0' || strcmp(n, nonce) != 0 || ref_status(status) < 0)
		return false;
	for (i = 0; i < 4; i++) {
		if (!canonical(c[i]))
			return false;
		counts[i] = count_of(c[i]);
		if (counts[i] != r->n[i])
			return false;
	}
	derived = counts[HVT_ERROR] ? HVT_ERROR : counts[HVT_FAIL] ? HVT_FAIL :
		  counts[HVT_PASS] ? HVT_PASS : counts[HVT_SKIP] ? HVT_SKIP : -1;
	if (derived < 0 || derived != ref_status(status))
		return false;
	r->status = (enum hvt_status)derived;
	return true;
}

static bool is_keyword(const char *line, size_t len, const char *kw)
{
	size_t k = strlen(kw);

	return len >= 4 + k && memcmp(line, "HVT ", 4) == 0 && memcmp(line + 4, kw, k) == 0 &&
	       (len == 4 + k || line[4 + k] == ' ');
}

/* Decide the whole buffer at once. */
static struct ref reference(const uint8_t *data, size_t size, const char *want)
{
	enum { BEFORE, RUNNING, ENDED } state = BEFORE;
	struct ref r = { 0 };
	char nonce[202] = "";
	char *buf = malloc(size + 1);
	size_t start = 0;

	CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	while (start <= size) {
		char *nl = memchr(buf + start, '\n', size - start);
		size_t len = (nl ? (size_t)(nl - buf) : size) - start;
		char *line = buf + start;
		bool proto;

		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		proto = len >= 4 && memcmp(line, "HVT ", 4) == 0;
		start += (nl ? (size_t)(nl - (buf + start)) : len) + 1;

		if (!nl) { /* the unterminated rest: only matters after END */
			if (proto && state == ENDED)
				goto incoherent;
			break;
		}
		if (!proto)
			continue;
		if (state == BEFORE) {
			if (!is_keyword(line, len, "BEGIN"))
				continue;
			if (len > HVT_LINE_MAX || !all_printable(line, len) || !ref_begin(line, nonce, want))
				goto incoherent;
			state = RUNNING;
		} else if (state == ENDED || len > HVT_LINE_MAX || !all_printable(line, len)) {
			goto incoherent;
		} else if (is_keyword(line, len, "END")) {
			if (!ref_end(line, nonce, &r))
				goto incoherent;
			state = ENDED;
		} else {
			unsigned long seen = r.n[0] + r.n[1] + r.n[2] + r.n[3];
			int st = ref_result(line, seen + 1);

			if (st < 0)
				goto incoherent;
			r.n[st]++;
		}
	}
	r.coherent = state == ENDED;
	free(buf);
	return r;
incoherent:
	free(buf);
	r.coherent = false;
	return r;
}

/* ------------------------------------------------------------------ parser runs */

static struct hvt_console *run(const uint8_t *data, size_t size, const char *nonce, size_t tail,
			       uint64_t seed)
{
	struct hvt_console *c = hvt_console_new(nonce, tail);
	size_t off = 0;

	CHECK(c);
	while (off < size) {
		size_t n = size - off;

		if (seed) {
			/* xorshift: mostly small chunks, sometimes one byte, sometimes large */
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			switch (seed & 3) {
			case 0: n = 1; break;
			case 1: n = 1 + (seed >> 8) % 16; break;
			case 2: n = 1 + (seed >> 8) % 300; break;
			default: n = 1 + (seed >> 8) % 5000; break;
			}
			if (n > size - off)
				n = size - off;
		}
		hvt_console_feed(c, data + off, n);
		off += n;
	}
	hvt_console_finish(c);
	return c;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void compare(const struct hvt_console *a, const struct hvt_console *b)
{
	struct hvt_counts x, y;
	size_t i;

	CHECK(hvt_console_verdict(a) == hvt_console_verdict(b));
	CHECK(hvt_console_error(a) == hvt_console_error(b));
	CHECK(strcmp(hvt_console_reason(a), hvt_console_reason(b)) == 0);
	CHECK(hvt_console_line_count(a) == hvt_console_line_count(b));
	CHECK(hvt_console_saw_begin(a) == hvt_console_saw_begin(b));
	CHECK(hvt_console_saw_end(a) == hvt_console_saw_end(b));
	CHECK(same_str(hvt_console_test(a), hvt_console_test(b)));
	CHECK(same_str(hvt_console_nonce(a), hvt_console_nonce(b)));
	CHECK(hvt_console_end_counts(a, &x) == hvt_console_end_counts(b, &y));
	CHECK(memcmp(&x, &y, sizeof(x)) == 0);
	CHECK(hvt_console_result_count(a) == hvt_console_result_count(b));
	for (i = 0; i < hvt_console_result_count(a); i++) {
		const struct hvt_result *ra = hvt_console_result(a, i), *rb = hvt_console_result(b, i);

		CHECK(ra->seq == rb->seq && ra->status == rb->status);
		CHECK(strcmp(ra->name, rb->name) == 0 && strcmp(ra->detail, rb->detail) == 0);
	}
	CHECK(hvt_console_tail_count(a) == hvt_console_tail_count(b));
	for (i = 0; i < hvt_console_tail_count(a); i++)
		CHECK(strcmp(hvt_console_tail_line(a, i), hvt_console_tail_line(b, i)) == 0);
}

static void check_alone(const struct hvt_console *c, const struct ref *r)
{
	const char *reason = hvt_console_reason(c);
	size_t i;
	struct hvt_counts seen = hvt_console_seen_counts(c);

	for (i = 0; reason[i]; i++)
		CHECK(reason[i] >= 0x20 && reason[i] <= 0x7e);
	for (i = 0; i < hvt_console_tail_count(c); i++) {
		const char *t = hvt_console_tail_line(c, i);

		for (; *t; t++)
			CHECK(*t >= 0x20 && *t <= 0x7e);
	}
	/* The central promise: only a coherent run gets a verdict other than ERROR. */
	CHECK((hvt_console_error(c) == HVT_STREAM_OK) == r->coherent);
	if (!r->coherent) {
		CHECK(hvt_console_verdict(c) == HVT_ERROR);
		CHECK(reason[0] != '\0');
		return;
	}
	CHECK(hvt_console_verdict(c) == r->status);
	CHECK(hvt_console_saw_begin(c) && hvt_console_saw_end(c));
	CHECK(seen.pass == r->n[HVT_PASS] && seen.fail == r->n[HVT_FAIL] &&
	      seen.skip == r->n[HVT_SKIP] && seen.error == r->n[HVT_ERROR]);
	CHECK(hvt_console_result_count(c) == r->n[0] + r->n[1] + r->n[2] + r->n[3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0xcbf29ce484222325ULL;
	const char *nonce;
	size_t tail, i;
	struct hvt_console *whole, *chunked;
	struct ref r;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;
	/* Vary the options from the input too, without spending its bytes on them. */
	nonce = (seed >> 40) & 1 ? "42" : NULL;
	tail = (seed >> 41) % 13;

	r = reference(data, size, nonce);
	whole = run(data, size, nonce, tail, 0);
	chunked = run(data, size, nonce, tail, seed);
	check_alone(whole, &r);
	compare(whole, chunked);
	hvt_console_free(whole);
	hvt_console_free(chunked);
	return 0;
}
