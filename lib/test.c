/* Command-line parsing and the check-table runner. */
#include "test.h"

#define MAX_WORDS 64

static char cmdline_copy[4096];
static char *words[MAX_WORDS];
static int word_count;

int args_split(char *cmdline, char **out, int max)
{
	int n = 0;
	char *p = cmdline;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		out[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	return n;
}

static bool is_option(const char *word)
{
	return strchr(word, '=') != NULL;
}

static bool key_matches(const char *word, const char *key)
{
	size_t len = strlen(key);

	return !strncmp(word, key, len) && word[len] == '=';
}

const char *arg_get(const char *key)
{
	for (int i = 0; i < word_count; i++)
		if (key_matches(words[i], key))
			return words[i] + strlen(key) + 1;
	return NULL;
}

uint64_t arg_get_u64(const char *key, uint64_t fallback)
{
	const char *v = arg_get(key);
	uint64_t n;

	if (!v)
		return fallback;
	if (!parse_u64(v, &n))
		report_abort("option %s=%s is not a number", key, v);
	return n;
}

/* Is @key one of the space-separated words of @list? */
static bool word_in_list(const char *list, const char *key, size_t key_len)
{
	while (list && *list) {
		size_t len;

		while (*list == ' ')
			list++;
		len = 0;
		while (list[len] && list[len] != ' ')
			len++;
		if (len && len == key_len && !strncmp(list, key, len))
			return true;
		list += len;
	}
	return false;
}

bool pattern_selects(const char *pattern, const char *name)
{
	char part[128];

	if (glob_match(pattern, name))
		return true;
	/* Leading dot-separated parts: "catch" selects "catch.ud". */
	for (size_t i = 0; name[i] && i < sizeof(part) - 1; i++) {
		if (name[i] == '.') {
			memcpy(part, name, i);
			part[i] = '\0';
			if (glob_match(pattern, part))
				return true;
		}
	}
	return false;
}

bool arg_excludes(const char *name)
{
	for (int i = 0; i < word_count; i++)
		if (words[i][0] == '-' && !is_option(words[i]) && pattern_selects(words[i] + 1, name))
			return true;
	return false;
}

static bool entry_selected(const struct check_entry *entry)
{
	const char *name = entry->name;
	bool any_include = false, included = false;

	for (int i = 0; i < word_count; i++) {
		const char *w = words[i];

		if (is_option(w))
			continue;
		if (w[0] == '-') {
			if (pattern_selects(w + 1, name))
				return false;
		} else {
			any_include = true;
			included |= pattern_selects(w, name);
		}
	}
	return any_include ? included : !entry->on_request;
}

/* Every option must be known and every pattern must select something: a typo must not pass. */
static void validate_command_line(const struct test_definition *t)
{
	for (int i = 0; i < word_count; i++) {
		const char *w = words[i];
		bool matched = false;

		if (is_option(w)) {
			size_t key_len = (size_t)(strchr(w, '=') - w);

			if (!word_in_list("nonce list", w, key_len) &&
			    !word_in_list(t->options, w, key_len))
				report_abort("unknown option '%s' (this test takes: %s)", w,
					     t->options ? t->options : "none");
			continue;
		}
		for (size_t c = 0; c < t->count && !matched; c++)
			matched = pattern_selects(w[0] == '-' ? w + 1 : w, t->checks[c].name);
		if (!matched && t->knows_pattern && t->knows_pattern(w[0] == '-' ? w + 1 : w)) {
			if (w[0] != '-')
				report_abort("'%s' names what test %s leaves out, not a check: use '-%s'",
					     w, t->name, w);
			matched = true;
		}
		if (!matched)
			report_abort("no check of test %s matches '%s'", t->name, w);
	}
}

void test_run(const char *cmdline)
{
	const struct test_definition *t = &hvt_test;

	strlcpy(cmdline_copy, cmdline ? cmdline : "", sizeof(cmdline_copy));
	word_count = args_split(cmdline_copy, words, MAX_WORDS);
	report_begin(t->name, word_count < 0 ? NULL : arg_get("nonce"));
	if (word_count < 0) {
		word_count = 0;
		report_abort("more than %d words on the command line", MAX_WORDS);
	}
	validate_command_line(t);

	if (arg_get("list")) {
		for (size_t c = 0; c < t->count; c++)
			info("check %s%s", t->checks[c].name,
			     t->checks[c].on_request ? " (on request)" : "");
		skip("-", "list=%s: listing the checks only", arg_get("list"));
		report_end();
	}

	if (t->setup)
		t->setup();
	for (size_t c = 0; c < t->count; c++) {
		if (!entry_selected(&t->checks[c]))
			continue;
		report_set_entry(t->checks[c].name);
		t->checks[c].run();
	}
	report_set_entry(NULL);
	report_end();
}
