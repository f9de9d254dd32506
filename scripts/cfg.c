/*
 * unittests.cfg parser (format: docs/unittests-cfg.md).
 */
#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_FILE,		/* image path relative to x86/ */
	K_TEXT,		/* free text, may be empty */
	K_CPU,		/* one CPU model token */
	K_SMP,
	K_MEMORY,
	K_TIMEOUT,
	K_GROUPS,
	K_REQUIRES,
	K_HYPERVISORS,
};

struct key {
	const char *name;
	enum kind kind;
	size_t offset;		/* of the char * or unsigned in struct cfg_test */
};

#define KEY(n, k) { #n, k, offsetof(struct cfg_test, n) }
static const struct key keys[] = {
	KEY(file, K_FILE),
	KEY(args, K_TEXT),
	KEY(smp, K_SMP),
	KEY(memory, K_MEMORY),
	KEY(cpu, K_CPU),
	KEY(qemu_cpu, K_CPU),
	KEY(bochs_cpu, K_CPU),
	KEY(qemu_params, K_TEXT),
	KEY(bochs_params, K_TEXT),
	KEY(xen_params, K_TEXT),
	KEY(groups, K_GROUPS),
	KEY(timeout, K_TIMEOUT),
	KEY(requires, K_REQUIRES),
	KEY(hypervisors, K_HYPERVISORS),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const features[] = {
	"svm", "npt", "vmx", "ept", "kvm", "x2apic", "xen", NULL
};
static const char *const hypervisors[] = {
	"qemu-tcg", "qemu-kvm", "bochs", "xen", NULL
};

/* Parser state for one file. */
struct parser {
	struct cfg *cfg;
	struct cfg_error *err;
	int line;
	struct cfg_test *cur;		/* section being filled, or NULL */
	int key_line[NKEYS];		/* where each key of cur was set, 0 if not */
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* A name of letters, digits, '_' and '-', 1 to CFG_NAME_MAX bytes. */
static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

static char *xstrndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (!d) {
		perror("hvt-cfg");
		exit(1);
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static char **str_field(struct cfg_test *t, const struct key *k)
{
	return (char **)((char *)t + k->offset);
}

static unsigned *num_field(struct cfg_test *t, const struct key *k)
{
	return (unsigned *)((char *)t + k->offset);
}

/*
 * Parse a decimal number with an optional one-letter suffix from SUFFIXES,
 * whose multipliers are in MULT. Returns false on bad syntax or overflow.
 */
static bool parse_scaled(const char *s, const char *suffixes,
			 const unsigned *mult, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 0xffffffffull)
			return false;
	}
	if (*p) {
		const char *sfx = strchr(suffixes, *p);

		if (!sfx || p[1])
			return false;
		v *= mult[sfx - suffixes];
	}
	*out = v;
	return true;
}

static bool in_list(const char *const *list, const char *s, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && !memcmp(*list, s, len))
			return true;
	return false;
}

static const char *list_text(const char *const *list)
{
	return list == features ? "svm npt vmx ept kvm x2apic"
				: "qemu-tcg qemu-kvm bochs";
}

/* Does the space-separated normalised list OUT already hold WORD? */
static bool has_word(const char *out, const char *w, size_t len)
{
	for (const char *p = out; *p;) {
		size_t n = strcspn(p, " ");

		if (n == len && !memcmp(p, w, len))
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/*
 * Validate a white-space-separated list and store it with single spaces.
 * WHAT names an element in messages; KNOWN (or NULL for group names) is the
 * set of allowed words.
 */
static int parse_list(struct parser *p, const char *key, const char *v,
		      const char *what, const char *const *known, char **out)
{
	char *norm = xstrndup("", 0);
	size_t used = 0;

	for (const char *w = v; *w;) {
		size_t len = strcspn(w, " \t");
		bool ok = known ? in_list(known, w, len) : valid_name(w, len);

		if (!ok) {
			free(norm);
			if (known)
				return fail(p, "%s: unknown %s '%.*s' (known: %s)",
					    key, what, (int)len, w,
					    list_text(known));
			return fail(p, "%s: bad %s '%.*s' (letters, digits, '_' and '-', separated by spaces)",
				    key, what, (int)len, w);
		}
		if (has_word(norm, w, len)) {
			free(norm);
			return fail(p, "%s: duplicate %s '%.*s'", key, what,
				    (int)len, w);
		}
		/* "all" is implicit for every test; keep it out of the list. */
		if (!(known == NULL && len == 3 && !memcmp(w, "all", 3))) {
			char *grown = realloc(norm, used + len + 2);

			if (!grown) {
				perror("hvt-cfg");
				exit(1);
			}
			norm = grown;
			if (used)
				norm[used++] = ' ';
			memcpy(norm + used, w, len);
			used += len;
			norm[used] = '\0';
		}
		w += len;
		while (is_blank(*w))
			w++;
	}
	free(*out);
	*out = norm;
	return 0;
}

static int set_number(struct parser *p, const struct key *k, const char *v)
{
	static const unsigned mem_mult[] = { 1, 1024 };
	static const unsigned time_mult[] = { 1, 60 };
	unsigned long long n;
	unsigned *field = num_field(p->cur, k);

	switch (k->kind) {
	case K_SMP:
		if (!parse_scaled(v, "", NULL, &n))
			return fail(p, "smp: '%s' is not a number", v);
		if (n < 1 || n > CFG_SMP_MAX)
			return fail(p, "smp: %s is out of range (1..%d)", v,
				    CFG_SMP_MAX);
		break;
	case K_MEMORY:
		if (!parse_scaled(v, "MG", mem_mult, &n))
			return fail(p, "memory: '%s' is not a size (MiB, or with a suffix M or G)", v);
		if (n < CFG_MEMORY_MIN || n > CFG_MEMORY_MAX)
			return fail(p, "memory: %s is out of range (16M..64G)", v);
		break;
	default: /* K_TIMEOUT */
		if (!parse_scaled(v, "sm", time_mult, &n))
			return fail(p, "timeout: '%s' is not a duration (seconds, or with a suffix s or m)", v);
		if (n < 1 || n > CFG_TIMEOUT_MAX)
			return fail(p, "timeout: %s is out of range (1s..%dm)", v,
				    CFG_TIMEOUT_MAX / 60);
		break;
	}
	*field = (unsigned)n;
	return 0;
}

static int set_file(struct parser *p, const char *v)
{
	if (!*v)
		return fail(p, "file: empty value");
	if (v[0] == '/')
		return fail(p, "file: '%s' must be relative to x86/", v);
	for (const char *c = v; *c; c++)
		if (is_blank(*c))
			return fail(p, "file: '%s' contains white space", v);
	for (const char *c = v; (c = strstr(c, "..")); c += 2)
		if ((c == v || c[-1] == '/') && (c[2] == '/' || !c[2]))
			return fail(p, "file: '%s' leaves x86/", v);
	free(p->cur->file);
	p->cur->file = xstrndup(v, strlen(v));
	return 0;
}

static int set_value(struct parser *p, const struct key *k, const char *v)
{
	char **field = str_field(p->cur, k);

	switch (k->kind) {
	case K_FILE:
		return set_file(p, v);
	case K_TEXT:
		break;
	case K_CPU:
		if (!*v)
			return fail(p, "%s: empty value", k->name);
		if (strpbrk(v, " \t"))
			return fail(p, "%s: '%s' is not one CPU model", k->name, v);
		break;
	case K_SMP:
	case K_MEMORY:
	case K_TIMEOUT:
		return set_number(p, k, v);
	case K_GROUPS:
		return parse_list(p, k->name, v, "group name", NULL, field);
	case K_REQUIRES:
		return parse_list(p, k->name, v, "feature", features, field);
	case K_HYPERVISORS:
		if (!*v)
			return fail(p, "hypervisors: empty list (omit the key to allow every hypervisor)");
		return parse_list(p, k->name, v, "hypervisor", hypervisors, field);
	}
	free(*field);
	*field = xstrndup(v, strlen(v));
	return 0;
}

static void init_test(struct cfg_test *t, const char *name, size_t len, int line)
{
	memset(t, 0, sizeof(*t));
	t->name = xstrndup(name, len);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kind != K_SMP && keys[i].kind != K_MEMORY &&
		    keys[i].kind != K_TIMEOUT)
			*str_field(t, &keys[i]) = xstrndup("", 0);
	t->smp = CFG_SMP_DEFAULT;
	t->memory = CFG_MEMORY_DEFAULT;
	t->timeout = CFG_TIMEOUT_DEFAULT;
	t->line = line;
}

/* The section being closed must name its image. */
static int end_section(struct parser *p)
{
	if (p->cur && !*p->cur->file) {
		p->line = p->cur->line;
		return fail(p, "[%s]: no 'file' key", p->cur->name);
	}
	return 0;
}

static int section(struct parser *p, const char *s, size_t len)
{
	const char *name = s + 1;
	size_t nlen;

	if (s[len - 1] != ']')
		return fail(p, "malformed section header (expected '[name]')");
	nlen = len - 2;
	if (!valid_name(name, nlen))
		return fail(p, "bad section name '%.*s' (letters, digits, '_' and '-', at most %d)",
			    (int)nlen, name, CFG_NAME_MAX);
	if (end_section(p))
		return -1;
	for (size_t i = 0; i < p->cfg->count; i++) {
		const struct cfg_test *t = &p->cfg->tests[i];

		if (strlen(t->name) == nlen && !memcmp(t->name, name, nlen))
			return fail(p, "duplicate section [%s] (first at line %d)",
				    t->name, t->line);
	}

	struct cfg_test *grown = realloc(p->cfg->tests,
					 (p->cfg->count + 1) * sizeof(*grown));
	if (!grown) {
		perror("hvt-cfg");
		exit(1);
	}
	p->cfg->tests = grown;
	p->cur = &grown[p->cfg->count++];
	init_test(p->cur, name, nlen, p->line);
	memset(p->key_line, 0, sizeof(p->key_line));
	return 0;
}

static int key_value(struct parser *p, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t klen;
	char *value;
	int rc;

	if (!eq)
		return fail(p, "malformed line (expected 'key = value' or '[name]')");
	klen = (size_t)(eq - s);
	while (klen && is_blank(s[klen - 1]))
		klen--;
	if (!klen)
		return fail(p, "malformed line (no key before '=')");
	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(s[i]))
			return fail(p, "malformed line (bad key '%.*s')", (int)klen, s);
	if (!p->cur)
		return fail(p, "key '%.*s' outside a section", (int)klen, s);

	size_t ki;
	for (ki = 0; ki < NKEYS; ki++)
		if (strlen(keys[ki].name) == klen && !memcmp(keys[ki].name, s, klen))
			break;
	if (ki == NKEYS)
		return fail(p, "unknown key '%.*s'", (int)klen, s);
	if (p->key_line[ki])
		return fail(p, "duplicate key '%s' (first at line %d)",
			    keys[ki].name, p->key_line[ki]);
	p->key_line[ki] = p->line;

	const char *v = eq + 1, *end = s + len;
	while (v < end && is_blank(*v))
		v++;
	if ((size_t)(end - v) > CFG_VALUE_MAX)
		return fail(p, "%s: the value is %zu bytes long (at most %d)", keys[ki].name,
			    (size_t)(end - v), CFG_VALUE_MAX);
	value = xstrndup(v, (size_t)(end - v));
	rc = set_value(p, &keys[ki], value);
	free(value);
	return rc;
}

/* One line without its end of line. */
static int parse_line(struct parser *p, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, "control character 0x%02x in line", c);
	}
	/* A comment starts with '#' at the start or after white space. */
	for (size_t i = 0; i < len; i++)
		if (s[i] == '#' && (i == 0 || is_blank(s[i - 1]))) {
			len = i;
			break;
		}
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	if (!len)
		return 0;
	if (s[0] == '[')
		return section(p, s, len);
	return key_value(p, s, len);
}

int cfg_parse(const char *text, size_t len, struct cfg *cfg,
	      struct cfg_error *err)
{
	struct parser p = { .cfg = cfg, .err = err };
	size_t pos = 0;

	cfg->tests = NULL;
	cfg->count = 0;
	err->line = 0;
	err->msg[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t llen = end - pos;

		p.line++;
		if (llen && text[pos + llen - 1] == '\r')
			llen--;
		if (parse_line(&p, text + pos, llen))
			goto bad;
		pos = end + 1;
	}
	if (end_section(&p))
		goto bad;
	return 0;
bad:
	cfg_free(cfg);
	return -1;
}

int cfg_load(const char *path, struct cfg *cfg, struct cfg_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	cfg->tests = NULL;
	cfg->count = 0;
	err->line = 0;
	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *grown = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!grown) {
				perror("hvt-cfg");
				exit(1);
			}
			buf = grown;
		}
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err->msg, sizeof(err->msg), "read error: %s", strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	rc = cfg_parse(buf, len, cfg, err);
	free(buf);
	return rc;
}

void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		struct cfg_test *t = &cfg->tests[i];

		free(t->name);
		for (size_t k = 0; k < NKEYS; k++)
			if (keys[k].kind != K_SMP && keys[k].kind != K_MEMORY &&
			    keys[k].kind != K_TIMEOUT)
				free(*str_field(t, &keys[k]));
	}
	free(cfg->tests);
	cfg->tests = NULL;
	cfg->count = 0;
}

const char *cfg_qemu_cpu(const struct cfg_test *t)
{
	return *t->qemu_cpu ? t->qemu_cpu : t->cpu;
}

const char *cfg_bochs_cpu(const struct cfg_test *t)
{
	return *t->bochs_cpu ? t->bochs_cpu : t->cpu;
}

const struct cfg_test *cfg_find(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->count; i++)
		if (!strcmp(cfg->tests[i].name, name))
			return &cfg->tests[i];
	return NULL;
}
