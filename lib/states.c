/* The state tests' case driver (see states.h). */
#include "report.h"
#include "states.h"
#include "test.h"

/* One generated case: its name, whether it keeps the previous state, its mutations. */
struct states_case {
	uint64_t seed, number;
	unsigned chain;		/* carrying cases in a row ending here (0: it resets) */
	unsigned n;
	struct states_mutation m[STATES_MAX_MUTATIONS];
};

#define ALL_MUTATIONS ((1u << STATES_MAX_MUTATIONS) - 1)

static const struct states_arch *arch;
static unsigned tracing;	/* 1: each case after it ran; 2: each entry before it runs, too */

void states_allow(struct states_prediction *p, unsigned kind, uint64_t code, const char *rule)
{
	struct states_outcome o = { kind, code };
	bool known = states_allows(p, &o);

	if (!known && p->count < STATES_MAX_OUTCOMES) {
		p->allowed[p->count] = o;
		p->because[p->count++] = rule ? rule : "";
	}
	if (rule && *rule)
		states_tag(p, rule);
}

void states_tag(struct states_prediction *p, const char *tag)
{
	for (unsigned i = 0; i < p->nrules; i++)
		if (!strcmp(p->rules[i], tag))
			return;
	if (p->nrules < STATES_MAX_RULES)
		p->rules[p->nrules++] = tag;
}

bool states_allows(const struct states_prediction *p, const struct states_outcome *o)
{
	for (unsigned i = 0; i < p->count; i++)
		if (p->allowed[i].kind == o->kind && p->allowed[i].code == o->code)
			return true;
	return false;
}

bool states_knows_pattern(const struct states_arch *a, const char *pattern)
{
	for (size_t i = 0; i < a->nrules; i++)
		if (pattern_selects(pattern, a->rule_name(i)))
			return true;
	return false;
}

/* The first draw of a case's stream: does it want to keep the previous state? */
static bool wants_carry(uint64_t seed, uint64_t number)
{
	struct prng rng;

	prng_seed(&rng, seed, number);
	return prng_percent(&rng, STATES_CARRY);
}

/* How many cases in a row up to @number carry over, given @before for number - 1. */
static unsigned next_chain(uint64_t seed, uint64_t number, unsigned before)
{
	if (number == 0 || before >= STATES_MAX_CARRY || !wants_carry(seed, number))
		return 0;
	return before + 1;
}

/* The chain of case @number, computed from case 0 (cheap: one draw per case). */
static unsigned chain_of(uint64_t seed, uint64_t number)
{
	unsigned chain = 0;

	for (uint64_t c = 0; c <= number; c++)
		chain = next_chain(seed, c, chain);
	return chain;
}

static void case_generate(struct states_case *k, uint64_t seed, uint64_t number, unsigned chain)
{
	struct prng rng;
	unsigned first = 0;

	memset(k, 0, sizeof(*k));
	k->seed = seed;
	k->number = number;
	k->chain = chain;
	prng_seed(&rng, seed, number);
	(void)prng_percent(&rng, STATES_CARRY);		/* the carry draw, always taken */
	if (chain) {
		k->m[0].carry_over = true;
		strlcpy(k->m[0].name, "carry_over", sizeof(k->m[0].name));
		first = 1;
	}
	k->n = first + arch->generate(&rng, k->m + first, STATES_MAX_MUTATIONS - first);
	if (k->n == 0 || k->n > STATES_MAX_MUTATIONS)
		report_abort("states: case s%lu:c%lu: the generator gave %u mutations (1 to %d)",
			     seed, number, k->n, STATES_MAX_MUTATIONS);
}

static bool keeps_state(const struct states_case *k, unsigned mask)
{
	for (unsigned i = 0; i < k->n; i++)
		if ((mask & (1u << i)) && k->m[i].carry_over)
			return true;
	return false;
}

static size_t list_mutations(char *buf, size_t size, const struct states_case *k, unsigned mask);

/* A violated rule or a tag of the state that the command line excludes, or NULL. */
static const char *excluded_rule(const struct states_prediction *p)
{
	for (unsigned i = 0; i < p->nrules; i++)
		if (arg_excludes(p->rules[i]))
			return p->rules[i];
	return NULL;
}

/*
 * Applies the mutations of @mask to the valid state (or to the state left
 * before, when the carry-over is among them), predicts and, unless a rule or
 * tag of the state is excluded, runs.  Returns whether the observation was
 * predicted; *@excluded names the rule or tag that kept it from running.
 */
static bool execute(const struct states_case *k, unsigned mask, struct states_prediction *p,
		    struct states_observation *o, const char **excluded)
{
	if (!keeps_state(k, mask))
		arch->reset();
	for (unsigned i = 0; i < k->n; i++)
		if ((mask & (1u << i)) && !k->m[i].carry_over)
			arch->apply(&k->m[i]);
	memset(p, 0, sizeof(*p));
	memset(o, 0, sizeof(*o));
	arch->predict(p);
	if (p->count == 0)
		report_abort("states: case s%lu:c%lu: the rule table predicted nothing",
			     k->seed, k->number);
	*excluded = excluded_rule(p);
	if (*excluded)
		return true;
	if (tracing > 1) {
		char muts[160];

		list_mutations(muts, sizeof(muts), k, mask);
		info("s%lu:c%lu: entering with %s", k->seed, k->number, muts);
	}
	arch->run(o);
	return states_allows(p, &o->outcome);
}

/* Runs cases @first..@last in full without reporting: the state they leave behind. */
static void replay(uint64_t seed, uint64_t first, uint64_t last)
{
	/* Static: predictions are large and the driver never nests itself. */
	static struct states_prediction p;
	static struct states_observation o;
	static struct states_case k;
	const char *excluded;
	unsigned chain = 0;

	for (uint64_t c = first; c <= last; c++) {
		chain = c == first ? 0 : next_chain(seed, c, chain);
		case_generate(&k, seed, c, chain);
		execute(&k, ALL_MUTATIONS, &p, &o, &excluded);
	}
}

/* Restores the state case @k starts from when it carries over. */
static void restore_start(const struct states_case *k)
{
	if (k->chain)
		replay(k->seed, k->number - k->chain, k->number - 1);
}

static size_t list_mutations(char *buf, size_t size, const struct states_case *k, unsigned mask)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < k->n && len < size; i++)
		if (mask & (1u << i))
			len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "", k->m[i].name);
	if (!len)
		len = strlcpy(buf, "(none: the starting state itself)", size);
	return len;
}

static void list_prediction(char *buf, size_t size, const struct states_prediction *p)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->count && len < size; i++) {
		char what[64];

		arch->describe(&p->allowed[i], what, sizeof(what));
		len += snprintf(buf + len, size - len, "%s%s%s%s%s", i ? " or " : "", what,
				*p->because[i] ? " (" : "", p->because[i], *p->because[i] ? ")" : "");
	}
}

static void list_names(char *buf, size_t size, const struct states_prediction *p)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->nrules && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", p->rules[i]);
	if (!len)
		strlcpy(buf, "(none)", size);
}

static void trace_case(const char *name, const struct states_case *k, unsigned mask,
		       const struct states_prediction *p, const struct states_observation *o,
		       const char *excluded)
{
	char muts[160], pred[240], seen[64];

	list_mutations(muts, sizeof(muts), k, mask);
	list_prediction(pred, sizeof(pred), p);
	if (excluded) {
		info("%s: %s; predicted %s; not run: rule %s excluded", name, muts, pred, excluded);
		return;
	}
	arch->describe(&o->outcome, seen, sizeof(seen));
	info("%s: %s; predicted %s; observed %s [%s]", name, muts, pred, seen, o->detail);
}

/*
 * Drops one mutation at a time while the mismatch persists; returns the
 * smallest mask found, with its prediction and observation.
 */
static unsigned shrink(const struct states_case *k, struct states_prediction *p,
		       struct states_observation *o)
{
	unsigned mask = (1u << k->n) - 1;

	for (unsigned i = 0; i < k->n; i++) {
		unsigned fewer = mask & ~(1u << i);
		static struct states_prediction fp;
		static struct states_observation fo;
		const char *excluded;

		if (fewer == mask)
			continue;
		if (keeps_state(k, fewer))
			restore_start(k);
		if (execute(k, fewer, &fp, &fo, &excluded))
			continue;	/* predicted (or excluded): this mutation is needed */
		mask = fewer;
		*p = fp;
		*o = fo;
	}
	return mask;
}

static void report_mismatch(const char *name, struct states_case *k,
			    const struct states_prediction *p, const struct states_observation *o)
{
	unsigned all = (1u << k->n) - 1, mask;
	static struct states_prediction sp;
	static struct states_observation so;
	char muts[160], small[160], pred[240], seen[64], names[160];

	sp = *p;
	so = *o;
	list_mutations(muts, sizeof(muts), k, all);
	list_prediction(pred, sizeof(pred), p);
	arch->describe(&o->outcome, seen, sizeof(seen));
	info("%s: mutations: %s", name, muts);
	info("%s: predicted: %s", name, pred);
	info("%s: observed: %s [%s]", name, seen, o->detail);

	mask = shrink(k, &sp, &so);
	list_mutations(small, sizeof(small), k, mask);
	list_prediction(pred, sizeof(pred), &sp);
	arch->describe(&so.outcome, seen, sizeof(seen));
	if (mask != all)
		info("%s: smallest mismatching set: %s; predicted %s; observed %s [%s]", name,
		     small, pred, seen, so.detail);
	list_names(names, sizeof(names), &sp);
	/* What an errata not-run entry can name to leave such states out (docs/states.md). */
	info("%s: rules and tags of the smallest set: %s", name, names);
	check_msg(false, "", "%s: predicted %s, observed %s [%s]; of %u mutation%s (%s); rerun: x86/run x86/%s.elf seed=%lu case=%lu",
		  small, pred, seen, so.detail, k->n, k->n == 1 ? "" : "s", muts, hvt_test.name,
		  k->seed, k->number);

	/* The next case may carry over: leave the state this case leaves in full. */
	replay(k->seed, k->number - k->chain, k->number);
}

/* Runs and reports case @number of @seed; @chain from next_chain(). */
static void run_case(uint64_t seed, uint64_t number, unsigned chain, unsigned *excluded_count)
{
	static char name[32];
	static struct states_prediction p;
	static struct states_observation o;
	static struct states_case k;
	const char *entry = report_entry(), *excluded;
	bool ok;

	snprintf(name, sizeof(name), "s%lu:c%lu", seed, number);
	case_generate(&k, seed, number, chain);
	ok = execute(&k, ALL_MUTATIONS, &p, &o, &excluded);
	if (tracing)
		trace_case(name, &k, ALL_MUTATIONS, &p, &o, excluded);
	if (excluded) {
		/* errata.cfg's not-run entry reports it (docs/errata.md); no verdict here. */
		(*excluded_count)++;
		return;
	}
	report_set_entry(name);
	if (ok)
		check(true, "%s", "");
	else
		report_mismatch(name, &k, &p, &o);
	report_set_entry(entry);
}

void states_run(const struct states_arch *a)
{
	const char *seed_arg = arg_get("seed"), *case_arg = arg_get("case");
	uint64_t count = arg_get_u64("count", a->count);
	unsigned excluded = 0;
	uint64_t one_seed = 0;

	arch = a;
	tracing = (unsigned)arg_get_u64("trace", 0);
	if (case_arg && !seed_arg)
		report_abort("case=%s needs seed=N (the case's seed)", case_arg);
	if (seed_arg)
		one_seed = arg_get_u64("seed", 0);
	if (case_arg) {
		uint64_t number = arg_get_u64("case", 0);
		unsigned chain = chain_of(one_seed, number);

		if (chain)
			replay(one_seed, number - chain, number - 1);
		run_case(one_seed, number, chain, &excluded);
	} else {
		const uint64_t *seeds = seed_arg ? &one_seed : a->seeds;
		size_t nseeds = seed_arg ? 1 : a->nseeds;

		for (size_t s = 0; s < nseeds; s++) {
			unsigned chain = 0;

			for (uint64_t c = 0; c < count; c++) {
				chain = next_chain(seeds[s], c, chain);
				run_case(seeds[s], c, chain, &excluded);
			}
		}
	}
	if (excluded)
		info("%u case%s not run: a rule or tag of the state is excluded on the command line",
		     excluded, excluded == 1 ? "" : "s");
}
