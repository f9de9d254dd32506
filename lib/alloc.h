/**
 * @file alloc.h
 * The page allocator: identity-mapped 4 KiB pages from the RAM the boot
 * information reports.  Pages come zeroed.
 */
#ifndef HVT_ALLOC_H
#define HVT_ALLOC_H

#include "libhvt.h"

#define PAGE_SIZE 4096ul

/** Gives [start, end) to the allocator (rounded inwards to pages). */
void page_alloc_add_range(uint64_t start, uint64_t end);

/** One zeroed page; ends the run as ERROR when memory is exhausted. */
void *alloc_page(void);

/** @count physically contiguous zeroed pages, aligned to @align bytes (a power of two >= 4 KiB). */
void *alloc_pages(size_t count, size_t align);

/** Returns a page from alloc_page() or alloc_pages() (one page at a time). */
void free_page(void *page);

/** Pages still free. */
uint64_t page_alloc_free_pages(void);

#endif
