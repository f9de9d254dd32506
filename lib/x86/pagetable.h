/**
 * @file pagetable.h
 * One four-level page-table builder for every format that shares the x86-64
 * radix layout: the guest's own paging, AMD NPT (the same format, APM Vol. 2
 * 15.25.5) and Intel EPT (SDM Vol. 3C 29.3.2, other permission bits).  PAE
 * paging (SDM Vol. 3A 5.4) is the same tree without level 4: its root is the
 * page-directory-pointer table, of which 4 entries map the 4 GiB.
 *
 * Levels count from 1 (4 KiB entries) to 4 (PML4).  A leaf at level 2 maps
 * 2 MiB and at level 3 maps 1 GiB.
 */
#ifndef HVT_X86_PAGETABLE_H
#define HVT_X86_PAGETABLE_H

#include "libhvt.h"

/* x86 paging-structure bits (SDM Vol. 3A 4.5) */
#define PTE_P		BIT(0)
#define PTE_W		BIT(1)
#define PTE_U		BIT(2)
#define PTE_PWT		BIT(3)
#define PTE_PCD		BIT(4)
#define PTE_A		BIT(5)
#define PTE_D		BIT(6)
#define PTE_PS		BIT(7)
#define PTE_G		BIT(8)
#define PTE_NX		BIT(63)
#define PTE_ADDR_MASK	0x000ffffffffff000ull

/** What distinguishes one table format from another. */
struct pt_format {
	const char *name;
	uint64_t present_mask;	/**< an entry is present when any of these bits is set */
	uint64_t table_flags;	/**< flags of an entry that points to the next table */
	uint64_t large_bit;	/**< marks a 2 MiB / 1 GiB leaf */
	unsigned levels;	/**< levels of the tree: 0 means 4, 3 for PAE */
	/** Flags of a root entry that points to a table, when not @table_flags (PAE PDPTEs). */
	uint64_t root_table_flags;
};

/** Long-mode paging and NPT. */
extern const struct pt_format pt_format_x86;

/**
 * PAE paging (SDM Vol. 3A 5.4.1): 3 levels, addresses below 4 GiB, no 1 GiB
 * leaves; a PDPTE has only P (and PWT/PCD): its R/W, U/S bits are reserved.
 * The root (CR3) must be below 4 GiB and 32-byte aligned (a page is).
 */
extern const struct pt_format pt_format_pae;

/** A four-level table tree. */
struct pagetable {
	const struct pt_format *format;
	uint64_t *root;
};

/** Creates an empty tree (a zeroed root page). */
struct pagetable pt_create(const struct pt_format *format);

/**
 * Maps [addr, addr + size) to [phys, ...) with leaves of @page_size (4 KiB,
 * 2 MiB or 1 GiB) and leaf flags @flags; all three must be aligned to @page_size.
 */
void pt_map(struct pagetable *pt, uint64_t addr, uint64_t phys, uint64_t size,
	    uint64_t page_size, uint64_t flags);

/**
 * The entry that maps @addr at @level, creating tables and splitting larger
 * leaves on the way (a split copies the leaf's flags to each smaller leaf).
 */
uint64_t *pt_entry(struct pagetable *pt, uint64_t addr, unsigned level);

/**
 * The entry that translates @addr at its leaf, without changing anything.
 * @return NULL when the walk meets a non-present entry; *@level gets the leaf's level.
 */
uint64_t *pt_find(const struct pagetable *pt, uint64_t addr, unsigned *level);

/**
 * A copy of the whole tree of @src (every table, not the pages it maps) with
 * @add_flags set in each present entry: pt_copy(paging_current(), PTE_U) is
 * the running guest's address space made user-accessible.  Later changes to
 * @src do not reach the copy.
 */
struct pagetable pt_copy(const struct pagetable *src, uint64_t add_flags);

/** Bytes mapped by one leaf at @level. */
static inline uint64_t pt_level_size(unsigned level)
{
	return 1ull << (12 + 9 * (level - 1));
}

/** The running guest's own tables (CR3). */
struct pagetable *paging_current(void);

/** Invalidates the TLB entry of @addr in the running guest. */
static inline void invlpg(const volatile void *addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/** Identity-maps [start, end) in the running guest with 2 MiB pages (boot: RAM above 4 GiB). */
void paging_map_identity(uint64_t start, uint64_t end);

#endif

/**
 * The entry at exactly @level on the walk to @addr, without creating or
 * splitting anything.  @return NULL when the walk meets a non-present entry or
 * a leaf above @level.
 */
uint64_t *pt_lookup(const struct pagetable *pt, uint64_t addr, unsigned level);
