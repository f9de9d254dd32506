/* Expected-failure data (docs/errata.md): loading, version conditions, lookup. */
#ifndef HVT_ERRATA_H
#define HVT_ERRATA_H

#include <stdbool.h>
#include <stddef.h>

/** Largest errata file accepted, in bytes. */
#define HVT_ERRATA_MAX_SIZE (16u << 20)

/**
 * An "observed" line under an entry: the failure detail a check printed when the deviation
 * was recorded, normalised (hvt_detail_normalise()), as a glob.
 */
struct hvt_observation {
	const char *versions; /**< VERSIONS field: where this detail was observed ("*", "7.2") */
	const char *check;    /**< glob for the check name (without the ':' that ends it) */
	const char *detail;   /**< glob for the normalised detail, never empty */
	unsigned long line;   /**< line number in its file */
};

/** One entry of errata.cfg. */
struct hvt_erratum {
	const char *hypervisor; /**< qemu-tcg, qemu-kvm or bochs */
	const char *versions;   /**< the VERSIONS field as written ("*", "<8.0,>=7.1", ...) */
	const char *test;       /**< glob for the test name (part before ':', without '!') */
	const char *check;      /**< glob for the check name (part after ':') */
	const char *reason;     /**< the rest of the line, never empty */
	unsigned long line;     /**< line number in its file */
	/**
	 * "!TEST:CHECK": the check must not run on this hypervisor (it would stop it), so the
	 * runner excludes it from the guest's command line; @c check selects check-table
	 * entries as a guest pattern does (hvt_pattern_selects()).
	 */
	bool not_run;
	const struct hvt_observation *observed; /**< its "observed" lines, in file order */
	size_t n_observed;
};

/**
 * What an entry's VERSIONS field is matched against: the run's hypervisor, its version, and
 * for KVM the host facts that decide its behaviour (docs/errata.md).
 */
struct hvt_target {
	const char *hypervisor; /**< qemu-tcg, qemu-kvm, bochs or xen */
	const char *version;    /**< "7.2.22"; NULL or unparsable: only "*" and facet conditions */
	const char *module;     /**< KVM module flavour (kvm_intel, kvm_amd, kvm_pvm); NULL: none */
	const char *cpu;        /**< the CPU model the hypervisor was given; NULL: unknown */
};

/** Loaded errata: opaque. */
struct hvt_errata;

/**
 * Parse errata text.
 * @param text      the file's contents (NUL bytes are rejected)
 * @param len       its length
 * @param filename  used in error messages
 * @param err       receives "FILE:LINE: message" on failure (may be NULL)
 * @param errlen    size of @p err
 * @return the entries, or NULL on a malformed entry or when out of memory
 */
struct hvt_errata *hvt_errata_parse(const char *text, size_t len, const char *filename,
				    char *err, size_t errlen);

/** Read and parse the errata file @p path; on failure NULL and @p err as for hvt_errata_parse(). */
struct hvt_errata *hvt_errata_load(const char *path, char *err, size_t errlen);

/** Release loaded errata. NULL is ignored. */
void hvt_errata_free(struct hvt_errata *e);

/** Number of entries. */
size_t hvt_errata_count(const struct hvt_errata *e);

/** Entry @p i in file order, or NULL when out of range. */
const struct hvt_erratum *hvt_errata_entry(const struct hvt_errata *e, size_t i);

/** Whether entry @p x applies to a run: its hypervisor, its VERSIONS and its TEST glob. */
bool hvt_erratum_applies(const struct hvt_erratum *x, const struct hvt_target *t,
			 const char *test);

/**
 * Whether entry @p x names the check @p check: its CHECK glob matches the whole name, or for
 * a not-run entry, selects it as the guest's command line would (a result "catch.bp.int3"
 * belongs to the entry "catch.bp").
 */
bool hvt_erratum_covers(const struct hvt_erratum *x, const char *check);

/**
 * The next not-run entry that applies to a run, in file order; an entry whose CHECK is the
 * same as an earlier applicable not-run entry's is left out, so each check glob comes once.
 * @param e    loaded errata (NULL: none)
 * @param pos  iteration state: 0 before the first call
 * @return the entry, or NULL when there are no more
 */
const struct hvt_erratum *hvt_errata_next_not_run(const struct hvt_errata *e,
						  const struct hvt_target *t, const char *test,
						  size_t *pos);

/**
 * The first entry that covers a check (hvt_erratum_applies() and hvt_erratum_covers()).
 * Not-run entries count too: a check that was not excluded is judged like any other.
 * @param e      loaded errata (NULL: nothing is covered)
 * @param t      the run's hypervisor and host (NULL or no hypervisor: nothing is covered)
 * @param test   the test's name from unittests.cfg
 * @param check  the check's name
 * @return the entry, or NULL when none covers the check
 */
const struct hvt_erratum *hvt_errata_lookup(const struct hvt_errata *e,
					    const struct hvt_target *t, const char *test,
					    const char *check);

/** Largest normalised detail hvt_detail_normalise() writes, NUL included. */
#define HVT_DETAIL_MAX 1024

/**
 * Normalise a FAIL detail so that what differs between builds of a test does not count: a
 * hexadecimal number 0x100000 to 0x3fffff (an address in the guest image, loaded at 1 MiB,
 * or in the first pages allocated after it) becomes "<addr>"; blanks at either end go.
 * @return the length written to @p out (truncated to @p outlen - 1)
 */
size_t hvt_detail_normalise(const char *detail, char *out, size_t outlen);

/** What a failing check's detail amounts to against its entry's "observed" lines. */
enum hvt_observed_match {
	HVT_OBSERVED_NONE,       /**< the entry records no observation at all: accepted */
	HVT_OBSERVED_MATCH,      /**< the first applicable line's detail glob matches */
	HVT_OBSERVED_DIFFERS,    /**< the first applicable line's does not */
	HVT_OBSERVED_UNRECORDED, /**< the entry has lines, but none for this check and target */
};

/**
 * Compare the normalised detail of a failing check with the first "observed" line of entry
 * @p x that holds for target @p t (its VERSIONS) and names @p check (its check glob).
 * @param recorded  receives that line (NULL when there is none); may be NULL
 */
enum hvt_observed_match hvt_erratum_observed(const struct hvt_erratum *x,
					     const struct hvt_target *t, const char *check,
					     const char *normalised,
					     const struct hvt_observation **recorded);

/** Whether @p hv is a hypervisor the errata may name. */
bool hvt_hypervisor_known(const char *hv);

/**
 * Compare two versions numerically component by component, a missing component counting
 * as 0 ("8.0" equals "8.0.0"). Anything from the first byte that is neither a digit nor a
 * separating '.' on is ignored ("8.2.0-rc1" compares as 8.2.0).
 * @return negative, 0 or positive as @p a is lower than, equal to or higher than @p b
 */
int hvt_version_compare(const char *a, const char *b);

/**
 * Whether a VERSIONS field holds for @p version: "*", or comma-separated conditions that
 * must all hold: "7.2" (7.2 and any later component: 7.2.22), "=V", "<V", "<=V", ">V", ">=V".
 * A malformed field or a NULL or unparsable @p version holds only for "*".
 */
bool hvt_version_matches(const char *versions, const char *version);

/**
 * Whether a VERSIONS field holds for target @p t: its version conditions as for
 * hvt_version_matches(), and the facet conditions "module=GLOB" (the KVM module flavour)
 * and "cpu=GLOB" (the CPU model; it takes the rest of the field, commas included, so it
 * comes last). A facet condition fails when the target lacks that facet.
 */
bool hvt_target_matches(const char *versions, const struct hvt_target *t);

/** Whether @p versions is a well-formed VERSIONS field. */
bool hvt_versions_valid(const char *versions);

/** Whether @p s matches @p pattern, in which '*' matches any run of bytes (also none). */
bool hvt_glob_match(const char *pattern, const char *s);

/**
 * Whether a guest command-line pattern selects check @p name (lib/test.h): @p pattern
 * matches the name or one of its leading dot-separated parts ("catch" selects "catch.ud").
 */
bool hvt_pattern_selects(const char *pattern, const char *name);

#endif
