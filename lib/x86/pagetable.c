/* The shared four-level page-table builder (see pagetable.h). */
#include "alloc.h"
#include "pagetable.h"
#include "processor.h"
#include "report.h"

const struct pt_format pt_format_x86 = {
	.name = "x86",
	.present_mask = PTE_P,
	.table_flags = PTE_P | PTE_W | PTE_U,
	.large_bit = PTE_PS,
};

const struct pt_format pt_format_pae = {
	.name = "pae",
	.present_mask = PTE_P,
	.table_flags = PTE_P | PTE_W | PTE_U,
	.large_bit = PTE_PS,
	.levels = 3,
	.root_table_flags = PTE_P,
};

static unsigned top_level(const struct pagetable *pt)
{
	return pt->format->levels ? pt->format->levels : 4;
}

/* Flags of a new entry at @level that points to a table one level down. */
static uint64_t table_flags_at(const struct pagetable *pt, unsigned level)
{
	if (level == top_level(pt) && pt->format->root_table_flags)
		return pt->format->root_table_flags;
	return pt->format->table_flags;
}

static unsigned index_at(uint64_t addr, unsigned level)
{
	return (addr >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(entry & PTE_ADDR_MASK);
}

struct pagetable pt_create(const struct pt_format *format)
{
	return (struct pagetable){ format, alloc_page() };
}

static bool is_present(const struct pagetable *pt, uint64_t entry)
{
	return entry & pt->format->present_mask;
}

/* Replaces a large leaf at @level by a table of leaves one level down. */
static void split_leaf(const struct pagetable *pt, uint64_t *entry, unsigned level)
{
	uint64_t *table = alloc_page();
	uint64_t leaf = *entry, child_size = pt_level_size(level - 1);
	uint64_t flags = leaf & ~PTE_ADDR_MASK;
	uint64_t base = leaf & PTE_ADDR_MASK & ~(pt_level_size(level) - 1);

	/* At level 1 the PS bit position is PAT for x86 and "ignore PAT" for EPT: drop it. */
	if (level - 1 == 1)
		flags &= ~pt->format->large_bit;
	for (unsigned i = 0; i < 512; i++)
		table[i] = (base + i * child_size) | flags;
	*entry = (uint64_t)table | pt->format->table_flags;
}

uint64_t *pt_entry(struct pagetable *pt, uint64_t addr, unsigned level)
{
	uint64_t *table = pt->root;
	unsigned top = top_level(pt);

	if (level < 1 || level > top || (top < 4 && level == top))
		report_abort("pt_entry: level %u in %s tables", level, pt->format->name);
	if (top < 4 && addr >> (12 + 9 * (top - 1) + 2))
		report_abort("pt_entry: %#lx beyond %s tables", addr, pt->format->name);
	for (unsigned l = top; l > level; l--) {
		uint64_t *e = &table[index_at(addr, l)];

		if (!is_present(pt, *e))
			*e = (uint64_t)alloc_page() | table_flags_at(pt, l);
		else if (l <= 3 && l < top && (*e & pt->format->large_bit))
			split_leaf(pt, e, l);
		table = table_of(*e);
	}
	return &table[index_at(addr, level)];
}

uint64_t *pt_find(const struct pagetable *pt, uint64_t addr, unsigned *level)
{
	uint64_t *table = pt->root;

	for (unsigned l = top_level(pt); l >= 1; l--) {
		uint64_t *e = &table[index_at(addr, l)];

		if (!is_present(pt, *e))
			return NULL;
		if (l == 1 || (l <= 3 && l < top_level(pt) && (*e & pt->format->large_bit))) {
			if (level)
				*level = l;
			return e;
		}
		table = table_of(*e);
	}
	return NULL;
}

/* Copies @table, a table at @level of @pt, and the tables below it. */
static uint64_t *copy_table(const struct pagetable *pt, const uint64_t *table, unsigned level,
			    uint64_t add_flags)
{
	uint64_t *copy = alloc_page();

	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = table[i];

		if (is_present(pt, e)) {
			if (level > 1 && !(level <= 3 && level < top_level(pt) &&
					   (e & pt->format->large_bit)))
				e = (uint64_t)copy_table(pt, table_of(e), level - 1, add_flags) |
				    (e & ~PTE_ADDR_MASK);
			e |= add_flags;
		}
		copy[i] = e;
	}
	return copy;
}

struct pagetable pt_copy(const struct pagetable *src, uint64_t add_flags)
{
	return (struct pagetable){ src->format, copy_table(src, src->root, top_level(src), add_flags) };
}

void pt_map(struct pagetable *pt, uint64_t addr, uint64_t phys, uint64_t size,
	    uint64_t page_size, uint64_t flags)
{
	unsigned level = page_size == pt_level_size(3) ? 3 : page_size == pt_level_size(2) ? 2 : 1;

	if (page_size != pt_level_size(level) || !IS_ALIGNED(addr | phys | size, page_size))
		report_abort("pt_map: %#lx -> %#lx size %#lx not aligned to page size %#lx",
			     addr, phys, size, page_size);
	for (uint64_t off = 0; off < size; off += page_size) {
		uint64_t *e = pt_entry(pt, addr + off, level);

		*e = ((phys + off) & PTE_ADDR_MASK) | flags | (level > 1 ? pt->format->large_bit : 0);
	}
}

struct pagetable *paging_current(void)
{
	static struct pagetable current;

	current.format = &pt_format_x86;
	current.root = (uint64_t *)(read_cr3() & PTE_ADDR_MASK);
	return &current;
}

void paging_map_identity(uint64_t start, uint64_t end)
{
	start = ALIGN_DOWN(start, pt_level_size(2));
	end = ALIGN_UP(end, pt_level_size(2));
	pt_map(paging_current(), start, start, end - start, pt_level_size(2), PTE_P | PTE_W);
	write_cr3(read_cr3());
}

uint64_t *pt_lookup(const struct pagetable *pt, uint64_t addr, unsigned level)
{
	uint64_t *table = pt->root;

	for (unsigned l = top_level(pt); l > level; l--) {
		uint64_t e = table[index_at(addr, l)];

		if (!is_present(pt, e) || (l <= 3 && l < top_level(pt) && (e & pt->format->large_bit)))
			return NULL;
		table = table_of(e);
	}
	return &table[index_at(addr, level)];
}
