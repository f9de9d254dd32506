/**
 * @file smep_smap.h
 * What the SMEP and SMAP checks of the SVM and VMX tests share (AMD APM Vol. 2
 * 5.6.4-5.6.5; Intel SDM Vol. 3A 4.6.1): one user page (U = 1 in its leaf and
 * in every entry above it) mapped in the running tables for a CPL-0 L2, the
 * accesses to it and what each must do with CR4.SMEP or CR4.SMAP set.
 */
#ifndef HVT_X86_SMEP_SMAP_H
#define HVT_X86_SMEP_SMAP_H

#include "libhvt.h"

#define USER_DATA_OFF	0x128		/* holds USER_VALUE */
#define USER_CODE_OFF	0x80		/* the caller's code: the hypercall that ends L2 */
#define USER_VALUE	0x5a5a00c0ffee0003ull

enum user_access { USER_FETCH, USER_READ, USER_WRITE, USER_READ_STAC };

struct user_case {
	const char *name;
	enum user_access access;
	uint64_t cr4_bit;	/* X86_CR4_SMEP or X86_CR4_SMAP */
	bool faults;		/* with the CR4 bit set */
	uint32_t error;		/* the #PF error code then */
};

#define USER_CASE_COUNT 5
extern const struct user_case user_cases[USER_CASE_COUNT];

/** "CR4.SMEP" or "CR4.SMAP". */
const char *user_case_bit_name(const struct user_case *c);

/** NULL when CPUID offers the case's CR4 bit, else the missing feature's name. */
const char *user_case_missing(const struct user_case *c);

/**
 * For a check of case @c: the user page at @va in the running tables, made at
 * the first call (USER_VALUE at USER_DATA_OFF, @code at USER_CODE_OFF).  NULL
 * after recording a skip when CPUID lacks the case's feature, or an error when
 * @va (0: none found) is mapped already or an entry above it keeps U clear.
 */
uint8_t *user_case_page(const struct user_case *c, uint64_t va, const uint8_t *code, size_t len);

#endif
