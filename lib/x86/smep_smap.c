#include "smep_smap.h"
#include "alloc.h"
#include "pagetable.h"
#include "processor.h"
#include "report.h"

/*
 * A supervisor fetch from a user page faults under SMEP, a supervisor data
 * access under SMAP unless RFLAGS.AC = 1; the #PF error code has P, I/D for
 * a fetch, W for a write, and U/S clear (CPL 0) (APM Vol. 2 5.6.4, 5.6.5,
 * 8.4.2; SDM Vol. 3A 4.6.1, 4.7).  SMEP leaves data accesses alone.
 */
const struct user_case user_cases[USER_CASE_COUNT] = {
	{ "smep.fetch", USER_FETCH, X86_CR4_SMEP, true, X86_PFEC_P | X86_PFEC_I },
	{ "smep.read", USER_READ, X86_CR4_SMEP, false, 0 },
	{ "smap.read", USER_READ, X86_CR4_SMAP, true, X86_PFEC_P },
	{ "smap.write", USER_WRITE, X86_CR4_SMAP, true, X86_PFEC_P | X86_PFEC_W },
	{ "smap.read_stac", USER_READ_STAC, X86_CR4_SMAP, false, 0 },
};

const char *user_case_bit_name(const struct user_case *c)
{
	return c->cr4_bit == X86_CR4_SMEP ? "CR4.SMEP" : "CR4.SMAP";
}

const char *user_case_missing(const struct user_case *c)
{
	if (c->cr4_bit == X86_CR4_SMEP)
		return cpu_has(X86_FEATURE_SMEP) ? NULL : "SMEP (CPUID 7.0 EBX[7])";
	return cpu_has(X86_FEATURE_SMAP) ? NULL : "SMAP (CPUID 7.0 EBX[20])";
}

static uint8_t *user_page_get(uint64_t va, const uint8_t *code, size_t len, const char **why_not)
{
	static uint8_t *page;
	static uint64_t page_va;
	static const char *failed;
	struct pagetable *pt = paging_current();
	unsigned level;

	if (!failed && page && page_va != va)
		failed = "one user page only: asked for a second address";
	if (failed || page) {
		*why_not = failed;
		return failed ? NULL : page;
	}
	if (pt_find(pt, va, &level)) {
		*why_not = failed = "the user page's address is already mapped";
		return NULL;
	}
	page = alloc_page();
	page_va = va;
	*(uint64_t *)(page + USER_DATA_OFF) = USER_VALUE;
	memcpy(page + USER_CODE_OFF, code, len);
	pt_map(pt, va, (uint64_t)page, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W | PTE_U);
	for (unsigned l = 4; l >= 1; l--)
		if (!(*pt_lookup(pt, va, l) & PTE_U)) {
			*why_not = failed = "an entry above the user page has U clear";
			return NULL;
		}
	return page;
}

uint8_t *user_case_page(const struct user_case *c, uint64_t va, const uint8_t *code, size_t len)
{
	const char *missing = user_case_missing(c), *why_not = NULL;
	uint8_t *page;

	if (missing) {
		skip("", "no %s in CPUID", missing);
		return NULL;
	}
	if (!va) {
		test_error("", "no free address for the user page");
		return NULL;
	}
	page = user_page_get(va, code, len, &why_not);
	if (!page)
		test_error("", "%s", why_not);
	return page;
}
