/* Expected-failure data (docs/errata.md). */
#include "errata.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPONENTS 16

struct entry {
	struct hvt_erratum pub;
	char *storage; /* one allocation holding every string of the entry */
	struct hvt_observation *obs; /* pub.observed; each one's strings in one allocation */
	size_t obs_cap;
};

struct hvt_errata {
	struct entry *v;
	size_t n, cap;
};

bool hvt_hypervisor_known(const char *hv)
{
	return hv && (strcmp(hv, "qemu-tcg") == 0 || strcmp(hv, "qemu-kvm") == 0 ||
		      strcmp(hv, "bochs") == 0 || strcmp(hv, "xen") == 0);
}

/*
 * Parse the numeric components of @s (at most MAX_COMPONENTS, each saturating) up to the
 * first byte that does not continue a version; returns the component count, 0 if @s does
 * not start with a digit. With @strict, trailing bytes make it fail (returns 0).
 */
static size_t parse_version(const char *s, size_t len, unsigned long long *comp, bool strict)
{
	size_t i = 0, n = 0;

	for (;;) {
		unsigned long long v = 0;
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			v = v > 1000000000ULL ? v : v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start) {
			/* "7." or "": a dot must be followed by a digit */
			if (n == 0 || strict)
				return 0;
			break;
		}
		if (n == MAX_COMPONENTS)
			return 0;
		comp[n++] = v;
		if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
			i++;
			continue;
		}
		break;
	}
	if (strict && i != len)
		return 0;
	return n;
}

static int compare_components(const unsigned long long *a, size_t na,
			      const unsigned long long *b, size_t nb)
{
	size_t i;

	for (i = 0; i < na || i < nb; i++) {
		unsigned long long x = i < na ? a[i] : 0, y = i < nb ? b[i] : 0;

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

int hvt_version_compare(const char *a, const char *b)
{
	unsigned long long ca[MAX_COMPONENTS], cb[MAX_COMPONENTS];
	size_t na = parse_version(a, strlen(a), ca, false);
	size_t nb = parse_version(b, strlen(b), cb, false);

	return compare_components(ca, na, cb, nb);
}

enum op { OP_SERIES, OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE };

/* Split one condition into its operator and version components; false when malformed. */
static bool parse_condition(const char *s, size_t len, enum op *op,
			    unsigned long long *comp, size_t *n)
{
	size_t skip = 0;

	*op = OP_SERIES;
	if (len >= 2 && s[0] == '<' && s[1] == '=') {
		*op = OP_LE;
		skip = 2;
	} else if (len >= 2 && s[0] == '>' && s[1] == '=') {
		*op = OP_GE;
		skip = 2;
	} else if (len >= 1 && (s[0] == '<' || s[0] == '>' || s[0] == '=')) {
		*op = s[0] == '<' ? OP_LT : s[0] == '>' ? OP_GT : OP_EQ;
		skip = 1;
	}
	*n = parse_version(s + skip, len - skip, comp, true);
	return *n > 0;
}

static bool glob_match_pattern_n(const char *pattern, size_t plen, const char *s);

/* A facet condition "module=GLOB" or "cpu=GLOB": its glob, or NULL when it is none. */
static const char *facet_glob(const char *cond, const char *facet)
{
	size_t n = strlen(facet);

	return strncmp(cond, facet, n) == 0 && cond[n] == '=' ? cond + n + 1 : NULL;
}

/*
 * Check each comma-separated condition of @versions: only its syntax when @t is NULL, else
 * whether target @t holds it (@ver, @nver: @t's version components, nver 0 when it has
 * none). True when all conditions pass; an empty field or an empty condition fails.
 */
static bool each_condition(const char *versions, const struct hvt_target *t,
			   const unsigned long long *ver, size_t nver)
{
	const char *p = versions;

	if (*p == '\0')
		return false;
	for (;;) {
		const char *cpu = facet_glob(p, "cpu"), *module = facet_glob(p, "module");
		const char *comma = cpu ? NULL : strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		unsigned long long c[MAX_COMPONENTS];
		size_t nc;
		enum op op;
		int cmp;

		if (cpu || module) {
			const char *glob = cpu ? cpu : module, *value = t ? (cpu ? t->cpu : t->module) : NULL;
			size_t glen = len - (size_t)(glob - p);

			if (glen == 0 || memchr(glob, ' ', glen) || (module && memchr(glob, '=', glen)))
				return false;
			if (t && !(value && glob_match_pattern_n(glob, glen, value)))
				return false;
		} else if (!parse_condition(p, len, &op, c, &nc)) {
			return false;
		} else if (t) {
			if (!nver)
				return false;
			if (op == OP_SERIES) {
				/* the condition's components are a prefix of the version's */
				if (compare_components(ver, nver < nc ? nver : nc, c, nc) != 0)
					return false;
			} else {
				cmp = compare_components(ver, nver, c, nc);
				if ((op == OP_EQ && cmp != 0) || (op == OP_LT && cmp >= 0) ||
				    (op == OP_LE && cmp > 0) || (op == OP_GT && cmp <= 0) ||
				    (op == OP_GE && cmp < 0))
					return false;
			}
		}
		if (!comma)
			return true;
		p = comma + 1;
	}
}

bool hvt_versions_valid(const char *versions)
{
	return strcmp(versions, "*") == 0 || each_condition(versions, NULL, NULL, 0);
}

bool hvt_target_matches(const char *versions, const struct hvt_target *t)
{
	unsigned long long v[MAX_COMPONENTS];
	size_t n = 0;

	if (!t)
		return false;
	if (strcmp(versions, "*") == 0)
		return true;
	if (t->version)
		n = parse_version(t->version, strlen(t->version), v, false);
	return each_condition(versions, t, v, n);
}

bool hvt_version_matches(const char *versions, const char *version)
{
	struct hvt_target t = { .version = version };

	return hvt_target_matches(versions, &t);
}

/* Whether the first @len bytes of @s match @pattern. */
static bool glob_match_n(const char *pattern, const char *s, size_t len)
{
	const char *star = NULL, *resume = NULL, *end = s + len;

	/* Greedy match with backtracking to the last '*': linear in practice, no recursion. */
	while (s < end) {
		if (*pattern == '*') {
			star = ++pattern;
			resume = s;
		} else if (*pattern == *s) {
			pattern++;
			s++;
		} else if (star) {
			pattern = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

bool hvt_glob_match(const char *pattern, const char *s)
{
	return glob_match_n(pattern, s, strlen(s));
}

/* Whether @s matches the first @plen bytes of @pattern. */
static bool glob_match_pattern_n(const char *pattern, size_t plen, const char *s)
{
	char buf[256];

	if (plen >= sizeof(buf))
		return false;
	memcpy(buf, pattern, plen);
	buf[plen] = '\0';
	return hvt_glob_match(buf, s);
}

bool hvt_pattern_selects(const char *pattern, const char *name)
{
	const char *dot;

	if (hvt_glob_match(pattern, name))
		return true;
	/* Leading dot-separated parts, as lib/test.c selects them. */
	for (dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.'))
		if (glob_match_n(pattern, name, (size_t)(dot - name)))
			return true;
	return false;
}

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Next white-space separated field of [*p, end); returns its length, 0 at the end. */
static size_t field(const char **p, const char *end, const char **start)
{
	while (*p < end && blank(**p))
		(*p)++;
	*start = *p;
	while (*p < end && !blank(**p))
		(*p)++;
	return (size_t)(*p - *start);
}

/* The rest of [p, end) without blanks at either end; returns its length. */
static size_t rest_of_line(const char *p, const char *end, const char **start)
{
	size_t len;

	while (p < end && blank(*p))
		p++;
	*start = p;
	len = (size_t)(end - p);
	while (len && blank(p[len - 1]))
		len--;
	return len;
}

/* Parse one non-blank, non-comment line into @e; returns NULL or a static error message. */
static const char *parse_entry(const char *p, const char *end, struct entry *e, char *what,
			       size_t whatlen)
{
	const char *hv, *ver, *tc, *reason, *colon;
	size_t lhv, lver, ltc, lreason, total;
	char *s;

	lhv = field(&p, end, &hv);
	lver = field(&p, end, &ver);
	ltc = field(&p, end, &tc);
	lreason = rest_of_line(p, end, &reason);

	total = lhv + lver + ltc + lreason + 4;
	s = e->storage = malloc(total);
	if (!s)
		return "out of memory";
	memcpy(s, hv, lhv);
	s[lhv] = '\0';
	e->pub.hypervisor = s;
	s += lhv + 1;
	memcpy(s, ver, lver);
	s[lver] = '\0';
	e->pub.versions = s;
	s += lver + 1;
	memcpy(s, tc, ltc);
	s[ltc] = '\0';
	e->pub.test = s;
	colon = memchr(s, ':', ltc);
	s += ltc + 1;
	memcpy(s, reason, lreason);
	s[lreason] = '\0';
	e->pub.reason = s;

	if (!hvt_hypervisor_known(e->pub.hypervisor)) {
		snprintf(what, whatlen, "unknown hypervisor '%.40s' (expected qemu-tcg, qemu-kvm, bochs or xen)",
			 e->pub.hypervisor);
		return what;
	}
	if (!lver)
		return "missing VERSIONS, TEST:CHECK and REASON";
	if (!hvt_versions_valid(e->pub.versions)) {
		snprintf(what, whatlen,
			 "bad VERSIONS '%.60s' (expected '*' or conditions like 7.2, =7.2.22, <8.0, >=7.1, module=kvm_amd, cpu=host*, joined by ',')",
			 e->pub.versions);
		return what;
	}
	if (!ltc)
		return "missing TEST:CHECK and REASON";
	if (e->pub.test[0] == '!') {
		e->pub.not_run = true;
		e->pub.test++;
		if (!colon || colon == e->pub.test || colon[1] == '\0' || strchr(e->pub.test, '!')) {
			snprintf(what, whatlen,
				 "bad not-run TEST:CHECK '!%.60s' (expected '!' then TEST, ':' and CHECK, two non-empty globs)",
				 e->pub.test);
			return what;
		}
		/* The runner hands CHECK to the guest, which reads '=' as an option and '?' as a wildcard. */
		if (strpbrk(colon + 1, "=?")) {
			snprintf(what, whatlen, "bad not-run CHECK '%.60s' ('=' and '?' mean other things on the guest's command line)",
				 colon + 1);
			return what;
		}
	}
	/* The first ':' ends TEST (a cfg name has none); CHECK may hold more (state cases "s1:c417"). */
	if (!colon || colon == e->pub.test || colon[1] == '\0') {
		snprintf(what, whatlen, "bad TEST:CHECK '%.60s' (expected TEST, ':' and CHECK, two non-empty globs)",
			 e->pub.test);
		return what;
	}
	*(char *)colon = '\0';
	e->pub.check = colon + 1;
	if (!lreason)
		return "missing REASON (say what the hypervisor does and what the manual says)";
	return NULL;
}

/* The keyword that starts an "observed" line; no hypervisor is called so. */
static const char observed_word[] = "observed";

/*
 * Parse "observed VERSIONS CHECK: DETAIL" (after its keyword, at @p) into a new observation
 * of entry @e; returns NULL or an error message.
 */
static const char *parse_observed(const char *p, const char *end, struct entry *e, char *what,
				  size_t whatlen)
{
	const char *ver, *chk, *detail;
	size_t lver, lchk, ldetail;
	struct hvt_observation *o;
	char *s;

	if (e->pub.not_run)
		return "an 'observed' line under a not-run entry (its check never runs)";
	lver = field(&p, end, &ver);
	lchk = field(&p, end, &chk);
	ldetail = rest_of_line(p, end, &detail);
	if (!lver || !lchk || !ldetail)
		return "incomplete 'observed' line (expected: observed VERSIONS CHECK: DETAIL)";
	if (chk[lchk - 1] != ':' || lchk == 1 || memchr(chk, ':', lchk - 1)) {
		snprintf(what, whatlen, "bad observed CHECK '%.*s' (expected a glob ended by ':')",
			 (int)(lchk < 60 ? lchk : 60), chk);
		return what;
	}
	if (e->pub.n_observed == e->obs_cap) {
		size_t cap = e->obs_cap ? e->obs_cap * 2 : 4;
		struct hvt_observation *v = realloc(e->obs, cap * sizeof(*v));

		if (!v)
			return "out of memory";
		e->obs = v;
		e->obs_cap = cap;
		e->pub.observed = v;
	}
	s = malloc(lver + lchk + ldetail + 3);
	if (!s)
		return "out of memory";
	o = &e->obs[e->pub.n_observed++];
	memset(o, 0, sizeof(*o));
	memcpy(s, ver, lver);
	s[lver] = '\0';
	o->versions = s;
	s += lver + 1;
	memcpy(s, chk, lchk - 1);
	s[lchk - 1] = '\0';
	o->check = s;
	s += lchk;
	memcpy(s, detail, ldetail);
	s[ldetail] = '\0';
	o->detail = s;
	if (!hvt_versions_valid(o->versions)) {
		snprintf(what, whatlen, "bad observed VERSIONS '%.60s' (as an entry's VERSIONS)",
			 o->versions);
		return what;
	}
	return NULL;
}

/* Whether the line at @p (blanks skipped) is an "observed" line; @p moves past the keyword. */
static bool observed_line(const char **p, const char *end)
{
	size_t n = sizeof(observed_word) - 1;

	if ((size_t)(end - *p) <= n || memcmp(*p, observed_word, n) != 0 || !blank((*p)[n]))
		return false;
	*p += n;
	return true;
}

struct hvt_errata *hvt_errata_parse(const char *text, size_t len, const char *filename,
				    char *err, size_t errlen)
{
	struct hvt_errata *e = calloc(1, sizeof(*e));
	const char *p = text, *end = text + len;
	unsigned long line = 0;
	char what[200];

	if (!e) {
		set_error(err, errlen, "%s: out of memory", filename);
		return NULL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *q;
		const char *msg;

		line++;
		if (eol > p && eol[-1] == '\r')
			eol--;
		for (q = p; q < eol; q++) {
			unsigned char b = (unsigned char)*q;

			if ((b < 0x20 && b != '\t') || b == 0x7f) {
				set_error(err, errlen, "%s:%lu: control byte 0x%02x", filename, line, b);
				goto fail;
			}
		}
		q = p;
		while (q < eol && blank(*q))
			q++;
		if (q < eol && *q != '#' && observed_line(&q, eol)) {
			msg = e->n ? parse_observed(q, eol, &e->v[e->n - 1], what, sizeof(what))
				   : "an 'observed' line before any entry";
			if (msg) {
				set_error(err, errlen, "%s:%lu: %s", filename, line, msg);
				goto fail;
			}
			e->v[e->n - 1].obs[e->v[e->n - 1].pub.n_observed - 1].line = line;
		} else if (q < eol && *q != '#') {
			if (e->n == e->cap) {
				size_t cap = e->cap ? e->cap * 2 : 16;
				struct entry *v = realloc(e->v, cap * sizeof(*v));

				if (!v) {
					set_error(err, errlen, "%s:%lu: out of memory", filename, line);
					goto fail;
				}
				e->v = v;
				e->cap = cap;
			}
			memset(&e->v[e->n], 0, sizeof(e->v[e->n]));
			e->v[e->n].pub.line = line;
			msg = parse_entry(q, eol, &e->v[e->n], what, sizeof(what));
			e->n++; /* counted even when bad, so that its storage is freed */
			if (msg) {
				set_error(err, errlen, "%s:%lu: %s", filename, line, msg);
				goto fail;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return e;
fail:
	hvt_errata_free(e);
	return NULL;
}

struct hvt_errata *hvt_errata_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct hvt_errata *e = NULL;

	if (!f) {
		set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *n;

			if (cap >= HVT_ERRATA_MAX_SIZE) {
				set_error(err, errlen, "%s: larger than %u MiB", path,
					  HVT_ERRATA_MAX_SIZE >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			n = realloc(buf, cap + 1);
			if (!n) {
				set_error(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = n;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		set_error(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	e = hvt_errata_parse(buf ? buf : "", len, path, err, errlen);
out:
	fclose(f);
	free(buf);
	return e;
}

void hvt_errata_free(struct hvt_errata *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		size_t j;

		free(e->v[i].storage);
		/* the strings of an observation start with its versions */
		for (j = 0; j < e->v[i].pub.n_observed; j++)
			free((char *)e->v[i].obs[j].versions);
		free(e->v[i].obs);
	}
	free(e->v);
	free(e);
}

size_t hvt_errata_count(const struct hvt_errata *e)
{
	return e ? e->n : 0;
}

const struct hvt_erratum *hvt_errata_entry(const struct hvt_errata *e, size_t i)
{
	return e && i < e->n ? &e->v[i].pub : NULL;
}

bool hvt_erratum_applies(const struct hvt_erratum *x, const struct hvt_target *t,
			 const char *test)
{
	return x && t && t->hypervisor && test && strcmp(x->hypervisor, t->hypervisor) == 0 &&
	       hvt_target_matches(x->versions, t) && hvt_glob_match(x->test, test);
}

bool hvt_erratum_covers(const struct hvt_erratum *x, const char *check)
{
	if (!x || !check)
		return false;
	return x->not_run ? hvt_pattern_selects(x->check, check) : hvt_glob_match(x->check, check);
}

const struct hvt_erratum *hvt_errata_next_not_run(const struct hvt_errata *e,
						  const struct hvt_target *t, const char *test,
						  size_t *pos)
{
	size_t i, j;

	if (!e)
		return NULL;
	for (i = *pos; i < e->n; i++) {
		const struct hvt_erratum *x = &e->v[i].pub;
		bool dup = false;

		if (!x->not_run || !hvt_erratum_applies(x, t, test))
			continue;
		/* Errata files are short; a quadratic scan keeps the iterator stateless. */
		for (j = 0; j < i && !dup; j++) {
			const struct hvt_erratum *y = &e->v[j].pub;

			dup = y->not_run && strcmp(y->check, x->check) == 0 &&
			      hvt_erratum_applies(y, t, test);
		}
		if (!dup) {
			*pos = i + 1;
			return x;
		}
	}
	*pos = e->n;
	return NULL;
}

const struct hvt_erratum *hvt_errata_lookup(const struct hvt_errata *e,
					    const struct hvt_target *t, const char *test,
					    const char *check)
{
	size_t i;

	if (!e || !t || !t->hypervisor || !test || !check)
		return NULL;
	for (i = 0; i < e->n; i++) {
		const struct hvt_erratum *x = &e->v[i].pub;

		if (hvt_erratum_applies(x, t, test) && hvt_erratum_covers(x, check))
			return x;
	}
	return NULL;
}

size_t hvt_detail_normalise(const char *detail, char *out, size_t outlen)
{
	static const char addr[] = "<addr>";
	const char *p = detail, *end;
	size_t n = 0;

	if (!outlen)
		return 0;
	while (blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && blank(end[-1]))
		end--;
	while (p < end && n + 1 < outlen) {
		const char *digits = p + 2, *q = digits;
		bool word_start = p == detail || !isalnum((unsigned char)p[-1]);

		if (word_start && end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			unsigned long long v = 0;

			while (q < end && isxdigit((unsigned char)*q) && q - digits < 16) {
				v = v * 16 + (unsigned)(isdigit((unsigned char)*q) ? *q - '0'
								      : (*q | 0x20) - 'a' + 10);
				q++;
			}
			if (q > digits && !(q < end && isalnum((unsigned char)*q)) &&
			    v >= 0x100000 && v < 0x400000) {
				size_t k;

				for (k = 0; addr[k] && n + 1 < outlen; k++)
					out[n++] = addr[k];
				p = q;
				continue;
			}
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
	return n;
}

enum hvt_observed_match hvt_erratum_observed(const struct hvt_erratum *x,
					     const struct hvt_target *t, const char *check,
					     const char *normalised,
					     const struct hvt_observation **recorded)
{
	size_t i;

	if (recorded)
		*recorded = NULL;
	if (!x->n_observed)
		return HVT_OBSERVED_NONE;
	/* The first line that applies decides, so a check's own line can precede a glob's. */
	for (i = 0; i < x->n_observed; i++) {
		const struct hvt_observation *o = &x->observed[i];

		if (!hvt_target_matches(o->versions, t) || !hvt_glob_match(o->check, check))
			continue;
		if (recorded)
			*recorded = o;
		return hvt_glob_match(o->detail, normalised) ? HVT_OBSERVED_MATCH : HVT_OBSERVED_DIFFERS;
	}
	return HVT_OBSERVED_UNRECORDED;
}
