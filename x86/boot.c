/*
 * The boot state every test relies on, as lib/x86/entry.S and setup.c promise
 * it: long mode with paging, the loader's RAM identity-mapped, descriptor
 * tables loaded.  Also the smallest test there is, used by scripts/bench.
 */
#include "alloc.h"
#include "bootinfo.h"
#include "desc.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "test.h"

static void check_long_mode(void)
{
	uint64_t efer = rdmsr(MSR_EFER);

	check_msg((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "efer_lma",
		  "EFER %#lx: LME and LMA must both be set", efer);
	check_msg((read_cr0() & (X86_CR0_PG | X86_CR0_PE)) == (X86_CR0_PG | X86_CR0_PE) &&
		  (read_cr4() & X86_CR4_PAE), "paging", "CR0 %#lx CR4 %#lx", read_cr0(), read_cr4());
	check_eq("cs", read_cs(), KERNEL_CS64);
}

/* Every page of RAM the loader reported is mapped to itself, writable. */
static void check_identity_map(void)
{
	unsigned unmapped = 0;
	uint64_t first_bad = 0;

	for (unsigned i = 0; i < bootinfo.ram_count; i++) {
		for (uint64_t a = bootinfo.ram[i].start & ~(PAGE_SIZE - 1); a < bootinfo.ram[i].end;
		     a += PAGE_SIZE) {
			unsigned level;
			uint64_t *e = pt_find(paging_current(), a, &level);
			uint64_t size = e ? pt_level_size(level) : 0;

			if (!e || !(*e & PTE_W) ||
			    (*e & PTE_ADDR_MASK & ~(size - 1)) + (a & (size - 1)) != a) {
				if (!unmapped++)
					first_bad = a;
			}
		}
	}
	check_msg(bootinfo.ram_count > 0, "ram_reported", "the %s loader reported no RAM",
		  bootinfo.loader);
	check_msg(!unmapped, "ram_identity_mapped", "%u pages not identity-mapped, first %#lx",
		  unmapped, first_bad);
}

static void check_descriptor_tables(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;
	uint16_t tr;

	asm volatile("sidt %0" : "=m"(idtr));
	asm volatile("str %0" : "=r"(tr));
	check_eq("idt_limit", idtr.limit, 256 * 16 - 1);
	check_eq("task_register", tr, TSS_SELECTOR);
}

static void check_allocator(void)
{
	uint8_t *a = alloc_page(), *b = alloc_page();
	bool zeroed = true;

	for (unsigned i = 0; i < PAGE_SIZE; i++)
		zeroed &= a[i] == 0 && b[i] == 0;
	check_msg(a != b && IS_ALIGNED((uint64_t)a | (uint64_t)b, PAGE_SIZE) && zeroed, "pages",
		  "pages %p and %p", a, b);
	free_page(b);
	check_msg(alloc_page() == b, "reuse", "a freed page is handed out again");
}

static const struct check_entry boot_checks[] = {
	{ "long_mode", check_long_mode },
	{ "identity_map", check_identity_map },
	{ "descriptor_tables", check_descriptor_tables },
	{ "allocator", check_allocator },
};

DEFINE_TEST("boot", boot_checks);
