/**
 * @file ept.h
 * Intel EPT (SDM Vol. 3C 29.3, "The Extended Page Table Mechanism") on the
 * shared page-table builder (pagetable.h): the EPT entry format, EPTP
 * construction from IA32_VMX_EPT_VPID_CAP, and identity maps of RAM.
 *
 * Entries (29.3.2, Tables 29-1 to 29-6): bit 0 read, 1 write, 2 execute
 * (an entry is present when any of the three is set), bits 5:3 the memory
 * type of a leaf, bit 6 ignore PAT, bit 7 a 2 MiB/1 GiB leaf, bits 8/9
 * accessed/dirty when EPTP[6] enables them.
 */
#ifndef HVT_X86_EPT_H
#define HVT_X86_EPT_H

#include "libhvt.h"
#include "pagetable.h"

#define EPT_R			BIT(0)
#define EPT_W			BIT(1)
#define EPT_X			BIT(2)
#define EPT_RWX			(EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT		3
#define EPT_MT_MASK		(7ull << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT		BIT(6)
#define EPT_LARGE		BIT(7)
#define EPT_A			BIT(8)
#define EPT_D			BIT(9)

/* Memory types (SDM Vol. 3A 12.3, Table 12-8) */
#define EPT_MT_UC		0
#define EPT_MT_WB		6

/* EPTP (SDM Vol. 3C 25.6.11) */
#define EPTP_MT_MASK		7ull
#define EPTP_WALK4		(3ull << 3)	/* bits 5:3: page-walk length - 1 */
#define EPTP_AD			BIT(6)

/** Leaf flags of a fully permissive write-back entry. */
#define EPT_LEAF_WB		(EPT_RWX | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT))

/** The EPT format for the builder: present = R|W|X, large = bit 7. */
extern const struct pt_format pt_format_ept;

/**
 * EPT usable: the secondary control "enable EPT" may be 1, and
 * IA32_VMX_EPT_VPID_CAP reports a 4-level walk and a WB or UC EPTP type.
 */
bool ept_supported(const char **why_not);

/** 2 MiB / 1 GiB leaves (EPT_VPID_CAP[16] / [17]). */
bool ept_has_2m(void);
bool ept_has_1g(void);
/** Accessed and dirty flags (EPT_VPID_CAP[21]). */
bool ept_has_ad(void);

/** An empty EPT: every guest-physical access is an EPT violation. */
struct pagetable ept_create(void);

/** Maps [gpa, gpa + size) to [hpa, ...) with leaves of @page_size and leaf flags @flags. */
void ept_map(struct pagetable *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
	     uint64_t page_size, uint64_t flags);

/**
 * Identity-maps RAM and the first 4 GiB (the APIC and other MMIO) with
 * EPT_LEAF_WB leaves of @page_size (4 KiB, 2 MiB or 1 GiB; the caller checks
 * ept_has_2m()/ept_has_1g()).
 */
struct pagetable ept_create_identity(uint64_t page_size);

/** The largest leaf size the processor supports (1 GiB, 2 MiB or 4 KiB). */
uint64_t ept_largest_page(void);

/**
 * The EPTP of @ept: WB when EPT_VPID_CAP[14], else UC; walk length 4; A/D
 * enabled when @ad (needs ept_has_ad()).
 */
uint64_t ept_eptp(const struct pagetable *ept, bool ad);

/** The entry at @level on the walk of @gpa, splitting larger leaves (pt_entry()). */
uint64_t *ept_entry(struct pagetable *ept, uint64_t gpa, unsigned level);

/*
 * One entry at a time (for tests that break a chosen entry of a walk).  The
 * level counts as in pagetable.h: 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE.
 */

/** Memory types that are reserved in a leaf (SDM Vol. 3C 29.3.3.1: 2, 3 and 7). */
#define EPT_MT_RSVD2		2
#define EPT_MT_RSVD3		3
#define EPT_MT_RSVD7		7

/** The entry at exactly @level on the walk of @gpa, or NULL (pt_lookup(): nothing is split). */
uint64_t *ept_lookup(const struct pagetable *ept, uint64_t gpa, unsigned level);

/** Replaces the R/W/X bits (2:0) of @entry by @rwx. */
void ept_set_perms(uint64_t *entry, uint64_t rwx);

/** Replaces the memory type (bits 5:3) of the leaf @entry by @mt. */
void ept_set_memtype(uint64_t *entry, unsigned mt);

/**
 * The bits of an entry at @level that are reserved (SDM Vol. 3C 29.3.2,
 * Tables 29-1 to 29-6): 51:MAXPHYADDR everywhere; 7:3 in a PML4E; 6:3 in an
 * entry that references a table; 29:12 of a 1 GiB leaf, 20:12 of a 2 MiB
 * leaf (@leaf says which form a level-3/2 entry has).
 */
uint64_t ept_reserved_bits(unsigned level, bool leaf);

/**
 * Invalidates the mappings derived from @eptp (INVEPT single-context, or
 * all-context when only that type exists).  @return false when the processor
 * has neither type or INVEPT did not succeed.
 */
bool ept_invalidate(uint64_t eptp);

#endif
