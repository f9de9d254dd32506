/* Plans of x86/run: see plan.h. */
#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Lists end with a NULL, so that an argument list can go to execv() as it is. */
static bool strv_push(struct strv *sv, char *s)
{
	char **v = realloc(sv->v, (sv->n + 2) * sizeof(*v));

	if (!v)
		return false;
	sv->v = v;
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return true;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void plan_free(struct plan *p)
{
	free(p->root);
	free(p->name);
	free(p->hv);
	free(p->nonce);
	free(p->rundir);
	free(p->log);
	free(p->header);
	free(p->cmd);
	strv_free(&p->args);
	strv_free(&p->verdict);
	strv_free(&p->checks);
	memset(p, 0, sizeof(*p));
}

/* Undo the escaping of one value (LEN bytes); NULL for a bad escape or a NUL. */
static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\0')
			goto bad;
		if (c == '\\') {
			if (++i == len)
				goto bad;
			switch (s[i]) {
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			default: goto bad;
			}
		}
		*o++ = c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_add(b, "\\\\", 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else if (*s == '\t')
			buf_add(b, "\\t", 2);
		else
			buf_add(b, s, 1);
	}
}

static void buf_line(struct buf *b, const char *key, const char *value)
{
	buf_add(b, key, strlen(key));
	buf_add(b, " ", 1);
	buf_escaped(b, value);
	buf_add(b, "\n", 1);
}

char *plan_format(const struct plan *p)
{
	struct buf b = { 0 };
	char num[32];

	buf_add(&b, PLAN_MAGIC "\n", strlen(PLAN_MAGIC) + 1);
	if (p->key) {
		snprintf(num, sizeof(num), "%016llx", (unsigned long long)p->key);
		buf_line(&b, "key", num);
	}
	buf_line(&b, "root", p->root);
	buf_line(&b, "name", p->name);
	buf_line(&b, "hv", p->hv);
	buf_line(&b, "nonce", p->nonce);
	buf_line(&b, "rundir", p->rundir);
	buf_line(&b, "log", p->log);
	buf_line(&b, "header", p->header);
	buf_line(&b, "cmd", p->cmd);
	snprintf(num, sizeof(num), "%ld", p->seconds);
	buf_line(&b, "seconds", num);
	for (size_t i = 0; i < p->args.n; i++)
		buf_line(&b, "arg", p->args.v[i]);
	for (size_t i = 0; i < p->verdict.n; i++)
		buf_line(&b, "verdict", p->verdict.v[i]);
	for (size_t i = 0; i < p->checks.n; i++)
		buf_line(&b, "check", p->checks.v[i]);
	buf_add(&b, "end\n", 4);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static char **scalar(struct plan *p, const char *key)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{ "root", offsetof(struct plan, root) },
		{ "name", offsetof(struct plan, name) },
		{ "hv", offsetof(struct plan, hv) },
		{ "nonce", offsetof(struct plan, nonce) },
		{ "rundir", offsetof(struct plan, rundir) },
		{ "log", offsetof(struct plan, log) },
		{ "header", offsetof(struct plan, header) },
		{ "cmd", offsetof(struct plan, cmd) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(key, fields[i].key))
			return (char **)((char *)p + fields[i].off);
	return NULL;
}

/* A check: KIND TAB PATH, then TAB VALUE in a plan (not in a request). */
static bool check_ok(const char *c, bool request)
{
	const char *t1 = strchr(c, '\t'), *t2;

	if (!t1 || t1 == c || t1[1] == '\0' || t1[1] == '\t')
		return false;
	t2 = strchr(t1 + 1, '\t');
	if (request)
		return !t2;
	return t2 && !strchr(t2 + 1, '\t');
}

#define FAIL(...) do { snprintf(err, errsz, __VA_ARGS__); goto fail; } while (0)

bool plan_parse(const char *text, size_t len, struct plan *p, bool request, char *err, size_t errsz)
{
	size_t magic = strlen(PLAN_MAGIC), pos, lineno = 1;
	bool have_seconds = false, have_key = false, have_end = false;

	memset(p, 0, sizeof(*p));
	if (len > PLAN_MAX_BYTES)
		FAIL("larger than %d bytes", PLAN_MAX_BYTES);
	if (len < magic + 1 || memcmp(text, PLAN_MAGIC "\n", magic + 1))
		FAIL("line 1: not a plan (expected \"%s\")", PLAN_MAGIC);
	for (pos = magic + 1; pos < len;) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *sp;
		char key[16], *value, **field;
		size_t n;

		lineno++;
		if (!nl)
			FAIL("line %zu: cut short (no newline)", lineno);
		n = (size_t)(nl - line);
		pos += n + 1;
		if (n == 3 && !memcmp(line, "end", 3)) {
			if (pos != len)
				FAIL("line %zu: text after the end", lineno);
			have_end = true;
			break;
		}
		sp = memchr(line, ' ', n);
		if (!sp || (size_t)(sp - line) >= sizeof(key))
			FAIL("line %zu: expected KEY VALUE", lineno);
		memcpy(key, line, (size_t)(sp - line));
		key[sp - line] = '\0';
		value = unescape(sp + 1, n - (size_t)(sp - line) - 1);
		if (!value)
			FAIL("line %zu: bad escape or NUL byte", lineno);
		if ((field = scalar(p, key))) {
			if (*field) {
				free(value);
				FAIL("line %zu: %s given twice", lineno, key);
			}
			*field = value;
		} else if (!strcmp(key, "seconds") || (!strcmp(key, "key") && !request)) {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(value, &end, key[0] == 'k' ? 16 : 10);
			/* A key is never 0 (plan_key), so that 0 can mean "none". */
			bool bad = errno || end == value || *end || (key[0] == 's' && v > 86400) ||
				   (key[0] == 'k' && v == 0);
			free(value);
			if (bad)
				FAIL("line %zu: bad %s", lineno, key);
			if (key[0] == 'k') {
				p->key = v;
				have_key = true;
			} else {
				p->seconds = (long)v;
				have_seconds = true;
			}
		} else if (!strcmp(key, "arg") || !strcmp(key, "verdict") || !strcmp(key, "check")) {
			struct strv *sv = key[0] == 'a' ? &p->args : key[0] == 'v' ? &p->verdict : &p->checks;

			if (key[0] == 'c' && !check_ok(value, request)) {
				free(value);
				FAIL("line %zu: bad check", lineno);
			}
			if (!strv_push(sv, value)) {
				free(value);
				FAIL("out of memory");
			}
		} else {
			free(value);
			FAIL("line %zu: unknown key '%s'", lineno, key);
		}
	}
	if (!have_end)
		FAIL("cut short (no end line)");
	if (!p->root || !p->name || !p->hv || !p->nonce || !p->rundir || !p->log || !p->header ||
	    !p->cmd || !have_seconds || !p->args.n || !p->verdict.n)
		FAIL("incomplete");
	if (!request && !have_key)
		FAIL("incomplete (no key)");
	if (!p->nonce[0] || strncmp(p->rundir, "logs/", 5) || strchr(p->log, '/'))
		FAIL("bad nonce, rundir or log");
	return true;
fail:
	plan_free(p);
	return false;
}

/* 64-bit FNV-1a, over the bytes and a terminating NUL. */
static uint64_t fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return h;
}

static bool env_ignored(const char *e)
{
	static const char *const ignored[] = { "_=", "PWD=", "OLDPWD=", "SHLVL=" };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (!strncmp(e, ignored[i], strlen(ignored[i])))
			return true;
	return false;
}

uint64_t plan_key(char *const argv[], int argc, const char *cwd, char *const envp[])
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, PLAN_MAGIC), envh = 0;

	for (int i = 0; i < argc; i++)
		h = fnv(h, argv[i]);
	h = fnv(h, "\x01");
	h = fnv(h, cwd);
	/* Order-free: a sum of each variable's own hash. */
	for (size_t i = 0; envp && envp[i]; i++)
		if (!env_ignored(envp[i]))
			envh += fnv(0xcbf29ce484222325ULL, envp[i]);
	for (int b = 0; b < 8; b++) {
		h ^= (envh >> (8 * b)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;	/* 0 means "no key" */
}

bool plan_fact(const char *kind, const char *path, char *out, size_t size)
{
	struct stat st;

	if (!strcmp(kind, "file")) {
		if (stat(path, &st))
			snprintf(out, size, "absent");
		else
			snprintf(out, size, "%llu:%llu:%lld:%lld.%09ld",
				 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
				 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				 st.st_mtim.tv_nsec);
	} else if (!strcmp(kind, "exists")) {
		snprintf(out, size, "%d", stat(path, &st) == 0);
	} else if (!strcmp(kind, "access")) {
		bool r = access(path, R_OK) == 0, w = access(path, W_OK) == 0;

		snprintf(out, size, "%s", r && w ? "rw" : r ? "r" : w ? "w" : "-");
	} else if (!strcmp(kind, "content")) {
		char line[201];
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		ssize_t n;

		if (fd < 0) {
			snprintf(out, size, "absent");
			return true;
		}
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n < 0)
			n = 0;
		line[n] = '\0';
		line[strcspn(line, "\n\t\\")] = '\0';
		snprintf(out, size, "=%s", line);
	} else {
		return false;
	}
	return true;
}

/* Split a check into KIND and PATH (copied into the buffers); VALUE or NULL. */
static const char *check_split(const char *c, char *kind, size_t ksz, char *path, size_t psz)
{
	const char *t1 = strchr(c, '\t'), *t2 = strchr(t1 + 1, '\t');
	size_t kl = (size_t)(t1 - c), pl = t2 ? (size_t)(t2 - t1 - 1) : strlen(t1 + 1);

	snprintf(kind, ksz, "%.*s", (int)kl, c);
	snprintf(path, psz, "%.*s", (int)pl, t1 + 1);
	return t2 ? t2 + 1 : NULL;
}

bool plan_stamp(struct plan *p, char *err, size_t errsz)
{
	for (size_t i = 0; i < p->checks.n; i++) {
		char kind[16], path[4096], value[256], *c;

		check_split(p->checks.v[i], kind, sizeof(kind), path, sizeof(path));
		if (!plan_fact(kind, path, value, sizeof(value))) {
			snprintf(err, errsz, "unknown check kind '%s'", kind);
			return false;
		}
		if (asprintf(&c, "%s\t%s\t%s", kind, path, value) < 0) {
			snprintf(err, errsz, "out of memory");
			return false;
		}
		free(p->checks.v[i]);
		p->checks.v[i] = c;
	}
	return true;
}

bool plan_holds(const struct plan *p, char *why, size_t whysz)
{
	for (size_t i = 0; i < p->checks.n; i++) {
		char kind[16], path[4096], value[256];
		const char *was = check_split(p->checks.v[i], kind, sizeof(kind), path, sizeof(path));

		if (!was || !plan_fact(kind, path, value, sizeof(value)) || strcmp(value, was)) {
			snprintf(why, whysz, "%s %s changed", kind, path);
			return false;
		}
	}
	return true;
}

char *str_replace_all(const char *s, const char *old, const char *new)
{
	struct buf b = { 0 };
	size_t ol = strlen(old);
	const char *hit;

	buf_add(&b, "", 0);
	while ((hit = strstr(s, old))) {
		buf_add(&b, s, (size_t)(hit - s));
		buf_add(&b, new, strlen(new));
		s = hit + ol;
	}
	buf_add(&b, s, strlen(s));
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
