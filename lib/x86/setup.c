/*
 * From the 64-bit entry to the test: console, descriptor tables, memory, and
 * the test's check table.
 */
#include "alloc.h"
#include "apic.h"
#include "bootinfo.h"
#include "desc.h"
#include "pagetable.h"
#include "processor.h"
#include "serial.h"
#include "test.h"
#include "xen.h"

/* The early tables in entry.S identity-map this much. */
#define EARLY_MAP_END (4ull << 30)
/* Low memory is left to firmware structures. */
#define LOW_MEMORY_END (1ull << 20)

extern char __image_start[], __image_end[];

static void give_ram_to_allocator(void)
{
	uint64_t image_start = (uint64_t)__image_start, image_end = (uint64_t)__image_end;

	for (unsigned i = 0; i < bootinfo.ram_count; i++) {
		uint64_t start = MAX(bootinfo.ram[i].start, LOW_MEMORY_END);
		uint64_t end = bootinfo.ram[i].end;

		if (end <= start)
			continue;
		/* The image splits a range in two. */
		if (start < image_end && end > image_start) {
			page_alloc_add_range(start, image_start);
			page_alloc_add_range(image_end, end);
		} else {
			page_alloc_add_range(start, end);
		}
	}
}

/* The early map covers 4 GiB; RAM above it gets 2 MiB identity mappings too. */
static void map_high_ram(void)
{
	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		if (bootinfo.ram[i].end > EARLY_MAP_END)
			paging_map_identity(MAX(bootinfo.ram[i].start, EARLY_MAP_END),
					    bootinfo.ram[i].end);
}

/* The legacy PICs stay masked: the tests use the local APIC. */
static void mask_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void x86_boot_main(uint32_t magic, uint32_t info);
void x86_boot_main(uint32_t magic, uint32_t info)
{
	const char *problem;

	serial_init();
	desc_setup();
	problem = bootinfo_parse(magic, info);
	if (problem) {
		report_begin(hvt_test.name, NULL);
		report_abort("boot: %s", problem);
	}
	if (bootinfo.cmdline_truncated) {
		report_begin(hvt_test.name, NULL);
		report_abort("boot: command line longer than %zu bytes", sizeof(bootinfo.cmdline) - 1);
	}
	/* Console text for the log only: verdicts never depend on it. */
	if (hypervisor_describe())
		printf("# hypervisor: %s\n", hypervisor_describe());
	mask_pic();
	give_ram_to_allocator();
	map_high_ram();
	apic_setup();
	test_run(bootinfo.cmdline);
}
