/**
 * @file states.h
 * Seeded states along the consistency-check boundary of a VM entry, checked
 * against a table of the manual's rules.  Architecture-independent: an
 * architecture (SVM's VMRUN, VMX's VM entry) plugs in through struct
 * states_arch; this driver chooses, runs, compares, shrinks and reports.
 *
 * Case C of seed S draws from its own stream prng_seed(S, C), so it reruns
 * alone and identically on every hypervisor.  Per case:
 *   1. the state is reset to the architecture's valid one, unless the case
 *      "carries over" (the first draw of its stream decides, STATES_CARRY
 *      percent of cases, at most STATES_MAX_CARRY in a row): then the state
 *      the previous case left stays, as a later entry would find it;
 *   2. the architecture draws 1 to 3 mutations (a carry-over counts as one)
 *      and applies them;
 *   3. its rule table predicts the outcomes allowed for the state (several
 *      when the manual fixes no order between violated rules);
 *   4. it runs the entry and reports what happened;
 *   5. an observed outcome outside the prediction is a mismatch: the driver
 *      shrinks it (drops one mutation at a time while the mismatch persists)
 *      and reports the smallest set, the predicted and observed outcomes and
 *      the command line that reruns the case.
 * Each case is one check named "sS:cC" (the runner shows "TEST:sS:cC").
 *
 * Options (the test's .options must hold STATES_OPTIONS):
 *   seed=N    run seed N only (default: the architecture's seed set)
 *   count=M   M cases per seed (default: the architecture's)
 *   case=C    rerun case C of seed N alone (needs seed=); a case that
 *             carries over first replays its predecessors without reporting
 *   trace=1   print every case's mutations, prediction and observation
 *   trace=2   also each entry's mutations before it runs (a case that stops
 *             the hypervisor names itself)
 * and the exclusion patterns of the command line: a case whose state violates
 * a rule, or has a tag (states_tag()), that a '-PATTERN' selects does not run
 * (errata.cfg not-run entries, docs/errata.md and docs/states.md; the test's
 * .knows_pattern wraps states_knows_pattern()).
 */
#ifndef HVT_STATES_H
#define HVT_STATES_H

#include "libhvt.h"
#include "prng.h"

#define STATES_OPTIONS "seed count case trace"

/** Most mutations of a case (a carry-over included). */
#define STATES_MAX_MUTATIONS 3
/** Most allowed outcomes and most violated rules a prediction holds. */
#define STATES_MAX_OUTCOMES 8
#define STATES_MAX_RULES 160
/** Percentage of cases that keep the previous case's state. */
#define STATES_CARRY 10
/** Most cases in a row that carry over (bounds a rerun's replay). */
#define STATES_MAX_CARRY 3

/**
 * One change to the valid state.  field, op and value mean what the
 * architecture says; name is what a report shows ("cr4|=0x80000").
 */
struct states_mutation {
	unsigned field;
	unsigned op;
	uint64_t value;
	bool carry_over;	/**< set by the driver: not a change, the previous state kept */
	char name[48];
};

/**
 * An outcome of an entry: kind and code mean what the architecture says
 * (SVM: entered and exited with EXITCODE, or refused with VMEXIT_INVALID).
 * Outcomes compare by kind and code.
 */
struct states_outcome {
	unsigned kind;
	uint64_t code;
};

/** What the rule table allows for a state. */
struct states_prediction {
	unsigned count;
	struct states_outcome allowed[STATES_MAX_OUTCOMES];
	/** The rule each allowed outcome comes from ("" for the valid state's). */
	const char *because[STATES_MAX_OUTCOMES];
	/**
	 * Every rule the state violates, and the tags states_tag() added: the
	 * names an exclusion pattern is matched against.
	 */
	unsigned nrules;
	const char *rules[STATES_MAX_RULES];
};

/** What an entry did, as the architecture saw it. */
struct states_observation {
	struct states_outcome outcome;
	/** Evidence for a report: exit, RIP, which loaded field differed... */
	char detail[160];
};

/** An architecture's side of the state tests. */
struct states_arch {
	/** Default seeds and cases per seed (measured to cost a few seconds). */
	const uint64_t *seeds;
	size_t nseeds;
	unsigned count;
	/** Makes the valid state current. */
	void (*reset)(void);
	/**
	 * Draws the case's mutations from @rng into @m (at most @max, at least
	 * one unless the case already carries over: then @max is one less and
	 * zero is fine) and fills their names; returns how many.
	 */
	unsigned (*generate)(struct prng *rng, struct states_mutation *m, unsigned max);
	/** Applies one mutation to the current state. */
	void (*apply)(const struct states_mutation *m);
	/** The rule table's prediction for the current state (states_allow() fills it). */
	void (*predict)(struct states_prediction *p);
	/** Runs the entry from the current state. */
	void (*run)(struct states_observation *o);
	/** An outcome as text ("VMEXIT_INVALID", "entered, exit VMMCALL"). */
	void (*describe)(const struct states_outcome *o, char *buf, size_t size);
	/** The number of rules and tags, and their names (for exclusion patterns). */
	size_t nrules;
	const char *(*rule_name)(size_t index);
};

/**
 * Adds an allowed outcome (once) to @p, and @rule (once, when not NULL or "")
 * to its violated rules.
 */
void states_allow(struct states_prediction *p, unsigned kind, uint64_t code, const char *rule);

/**
 * Adds @tag (once; static storage) to the names exclusion patterns match for
 * the state: a property finer than a rule ("cr4.mbz.vme": that bit is the
 * violation) or of a legal state ("controls.msrpm_at_top"), so that errata
 * data can leave out the states that expose a known deviation whatever their
 * case numbers.  The architecture's rule_name() must list its tags too.
 */
void states_tag(struct states_prediction *p, const char *tag);

/** Whether @p allows @o. */
bool states_allows(const struct states_prediction *p, const struct states_outcome *o);

/** Runs the cases the command line asks for, each reported as one check. */
void states_run(const struct states_arch *arch);

/**
 * For the test's .knows_pattern (wrap it): true when @pattern selects a rule
 * of @arch (its name or a leading dotted part, as lib/test.h selects entries).
 */
bool states_knows_pattern(const struct states_arch *arch, const char *pattern);

#endif
