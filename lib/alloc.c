/*
 * A bump allocator over the usable ranges, with a free list for returned pages.
 * Tests are short-lived: simplicity beats reuse here.
 */
#include "alloc.h"
#include "report.h"
#include "spinlock.h"

#define MAX_RANGES 32

struct range {
	uint64_t next, end;
};

static struct range ranges[MAX_RANGES];
static unsigned range_count;
static void *free_list;
static uint64_t free_list_pages;
/* Several CPUs may allocate at once (smp.h). */
static struct spinlock alloc_lock;

void page_alloc_add_range(uint64_t start, uint64_t end)
{
	start = ALIGN_UP(start, PAGE_SIZE);
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (end <= start || range_count == MAX_RANGES)
		return;
	ranges[range_count++] = (struct range){ start, end };
}

void *alloc_pages(size_t count, size_t align)
{
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	spin_lock(&alloc_lock);
	for (unsigned i = 0; i < range_count; i++) {
		struct range *r = &ranges[i];
		uint64_t base = ALIGN_UP(r->next, (uint64_t)align);

		if (base < r->end && (r->end - base) / PAGE_SIZE >= count) {
			r->next = base + count * PAGE_SIZE;
			spin_unlock(&alloc_lock);
			memset((void *)base, 0, count * PAGE_SIZE);
			return (void *)base;
		}
	}
	spin_unlock(&alloc_lock);
	report_abort("out of memory: %zu pages aligned to %#zx requested", count, align);
}

void *alloc_page(void)
{
	void *page;

	spin_lock(&alloc_lock);
	page = free_list;
	if (page) {
		free_list = *(void **)page;
		free_list_pages--;
	}
	spin_unlock(&alloc_lock);
	if (page) {
		memset(page, 0, PAGE_SIZE);
		return page;
	}
	return alloc_pages(1, PAGE_SIZE);
}

void free_page(void *page)
{
	spin_lock(&alloc_lock);
	*(void **)page = free_list;
	free_list = page;
	free_list_pages++;
	spin_unlock(&alloc_lock);
}

uint64_t page_alloc_free_pages(void)
{
	uint64_t n = free_list_pages;

	for (unsigned i = 0; i < range_count; i++)
		n += (ranges[i].end - ranges[i].next) / PAGE_SIZE;
	return n;
}
