/**
 * @file npt.h
 * AMD nested paging (APM Vol. 2 15.25) for an L1 hypervisor written as a test:
 * nested tables built with the shared builder (pagetable.h; the nested format
 * is the long-mode format, APM Vol. 2 15.25.5), helpers that break one entry
 * of the nested walk of a chosen GPA, and enabling NPT in a VMCB.
 *
 * Every nested entry has U=1: nested accesses are user accesses (APM Vol. 2
 * 15.25.5), so a supervisor nested entry would fault on every access.
 */
#ifndef HVT_X86_NPT_H
#define HVT_X86_NPT_H

#include "libhvt.h"
#include "pagetable.h"
#include "svm.h"

/* Flags of a fully permissive nested entry. */
#define NPT_FLAGS	(PTE_P | PTE_W | PTE_U)

/* #NPF EXITINFO1 (APM Vol. 2 15.25.6): a #PF error code and two stage bits. */
#define NPF_P		BIT(0)	/* the nested entry was present (protection or reserved bit) */
#define NPF_W		BIT(1)	/* write access */
#define NPF_U		BIT(2)	/* user access: always, nested accesses are user accesses */
#define NPF_RSVD	BIT(3)	/* a reserved bit was set in a nested entry */
#define NPF_ID		BIT(4)	/* instruction fetch */
#define NPF_FINAL	BIT(32)	/* the fault was on the final guest physical address */
#define NPF_WALK	BIT(33)	/* the fault was on a guest page-table access */

/** SVM with nested paging (CPUID 8000_000Ah EDX[0]); *why_not names what is missing. */
bool npt_supported(const char **why_not);

/** 1 GiB pages (CPUID 8000_0001h EDX[26]), in nested tables as in the guest's own. */
bool npt_has_1g_pages(void);

/** MAXPHYADDR (CPUID 8000_0008h EAX[7:0]; 36 without that leaf). */
unsigned npt_maxphyaddr(void);

/** An empty nested table tree: every GPA faults. */
struct pagetable npt_create(void);

/** Maps [gpa, gpa + size) to [hpa, ...) with leaves of @page_size and NPT_FLAGS. */
void npt_map(struct pagetable *npt, uint64_t gpa, uint64_t hpa, uint64_t size,
	     uint64_t page_size);

/**
 * Identity-maps [0, end) with leaves of @page_size (4 KiB, 2 MiB or 1 GiB;
 * @end is rounded up to it).  1 GiB needs npt_has_1g_pages().
 */
struct pagetable npt_create_identity(uint64_t end, uint64_t page_size);

/** The end of RAM (the highest range the loader reported). */
uint64_t npt_ram_end(void);

/**
 * The nested entry at @level on the walk of @gpa, creating tables and splitting
 * larger leaves down to @level (so that level 1 is always a 4 KiB leaf).
 */
uint64_t *npt_entry(struct pagetable *npt, uint64_t gpa, unsigned level);

/** Clears @clear and sets @set in the nested entry at @level for @gpa; returns the old value. */
uint64_t npt_update(struct pagetable *npt, uint64_t gpa, unsigned level,
		    uint64_t clear, uint64_t set);

/**
 * A bit that must be zero in a nested entry at @level (APM Vol. 2 5.3.1 and
 * 15.25.5): the highest physical-address bit above MAXPHYADDR (bit 51 when
 * MAXPHYADDR < 52), else PS in a PML4E.
 */
uint64_t npt_reserved_bit(unsigned level);

/**
 * Enables nested paging in @vmcb with @npt as nCR3 (APM Vol. 2 15.25.3) and
 * G_PAT = the host's PAT (APM Vol. 2 15.25.8); flushes the ASID's TLB entries
 * on the next VMRUN.
 */
void npt_enable(struct vmcb *vmcb, const struct pagetable *npt);

/* TLB_CONTROL (VMCB 0x05c, APM Vol. 2 15.16.1) */
#define SVM_TLB_FLUSH_ALL	1

#endif
