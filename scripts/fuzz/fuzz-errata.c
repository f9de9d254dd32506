/*
 * libFuzzer target for the errata parser (docs/errata.md). The first byte picks a target and
 * a check name from the rest; the input is parsed as an errata file. Invariants: a parsed
 * entry has every field, its observed lines are well formed and each detail glob matches its
 * own text; normalising a detail is idempotent, leaves no address behind and never grows
 * the text by more than "<addr>" per number; hvt_erratum_observed() agrees with a plain scan for the
 * first applicable line.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errata.h"
#include "fuzz.h"

/* Whether @s still holds a hexadecimal number 0x100000..0x3fffff standing alone. */
static bool has_address(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i + 2 < n; i++) {
		unsigned long long v = 0;
		size_t j = i + 2;

		if (s[i] != '0' || (s[i + 1] | 0x20) != 'x' || (i && isalnum((unsigned char)s[i - 1])))
			continue;
		while (j < n && isxdigit((unsigned char)s[j]) && j - i - 2 < 16) {
			v = v * 16 + (unsigned)(isdigit((unsigned char)s[j]) ? s[j] - '0' : (s[j] | 0x20) - 'a' + 10);
			j++;
		}
		if (j > i + 2 && !(j < n && isalnum((unsigned char)s[j])) && v >= 0x100000 && v < 0x400000)
			return true;
	}
	return false;
}

static void check_normalise(const char *detail)
{
	char once[HVT_DETAIL_MAX], twice[HVT_DETAIL_MAX];
	size_t n = hvt_detail_normalise(detail, once, sizeof(once));

	CHECK(n == strlen(once) && n < sizeof(once));
	/* a truncated text may end in a blank or in a number cut short: only whole ones */
	if (strlen(detail) < sizeof(once) / 8) {
		hvt_detail_normalise(once, twice, sizeof(twice));
		CHECK(strcmp(once, twice) == 0);
		CHECK(!has_address(once));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { "7.2.22", "10.0.2", "2.7", "3.0", "4.17.7", NULL };
	static const char *const hvs[] = { "qemu-tcg", "bochs", "xen", "qemu-kvm" };
	struct hvt_target t;
	struct hvt_errata *e;
	char err[256], detail[256];
	size_t i, j, dlen;

	if (size < 1)
		return 0;
	t.hypervisor = hvs[data[0] & 3];
	t.version = versions[(data[0] >> 2) % 6];
	t.module = NULL;
	t.cpu = data[0] & 0x80 ? "max" : "corei7_skylake_x";
	/* a detail from the input's first line, as a console would give it */
	dlen = 0;
	for (i = 1; i < size && data[i] != '\n' && dlen + 1 < sizeof(detail); i++)
		if (data[i])
			detail[dlen++] = (char)data[i];
	detail[dlen] = '\0';
	check_normalise(detail);

	e = hvt_errata_parse((const char *)data + 1, size - 1, "fuzz.cfg", err, sizeof(err));
	if (!e) {
		CHECK(strncmp(err, "fuzz.cfg", 8) == 0);
		return 0;
	}
	for (i = 0; i < hvt_errata_count(e); i++) {
		const struct hvt_erratum *x = hvt_errata_entry(e, i);
		char norm[HVT_DETAIL_MAX];
		const struct hvt_observation *rec;
		enum hvt_observed_match m;
		const struct hvt_observation *first = NULL;

		CHECK(x && x->hypervisor[0] && x->test[0] && x->check[0] && x->reason[0]);
		CHECK(hvt_versions_valid(x->versions) && hvt_hypervisor_known(x->hypervisor));
		CHECK(!x->not_run || x->n_observed == 0);
		for (j = 0; j < x->n_observed; j++) {
			const struct hvt_observation *o = &x->observed[j];

			CHECK(o->check[0] && o->detail[0] && !strchr(o->check, ':'));
			CHECK(hvt_versions_valid(o->versions) && o->line > x->line);
			CHECK(hvt_glob_match(o->detail, o->detail));
			check_normalise(o->detail);
		}
		hvt_detail_normalise(detail, norm, sizeof(norm));
		m = hvt_erratum_observed(x, &t, x->check, norm, &rec);
		for (j = 0; j < x->n_observed; j++) {
			const struct hvt_observation *o = &x->observed[j];

			if (!first && hvt_target_matches(o->versions, &t) && hvt_glob_match(o->check, x->check))
				first = o;
		}
		CHECK(m == (!x->n_observed ? HVT_OBSERVED_NONE
			    : !first ? HVT_OBSERVED_UNRECORDED
			    : hvt_glob_match(first->detail, norm) ? HVT_OBSERVED_MATCH : HVT_OBSERVED_DIFFERS));
		CHECK(rec == first);
	}
	hvt_errata_free(e);
	return 0;
}
