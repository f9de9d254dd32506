/*
 * The Xen boot path of the harness (lib/x86/xen.c, bootinfo.c) against
 * Xen's documented interface: the PVH start info a dom0 gets, the
 * hypercall page, and XENMEM_memory_map (Xen public/memory.h,
 * public/arch-x86/hvm/start_info.h, public/arch-x86/cpuid.h).  Every check
 * skips outside Xen.
 */
#include "alloc.h"
#include "bootinfo.h"
#include "processor.h"
#include "test.h"
#include "xen.h"

#define MAP_ENTRIES 128

extern char __image_start[], __image_end[];

static struct xen_e820_entry map[MAP_ENTRIES];
static unsigned entries;
static long map_rc;

static bool require_xen(void)
{
	if (!xen_info.cpuid_base && !xen_detect()) {
		skip("", "not a Xen domain (no \"XenVMMXenVMM\" CPUID leaves)");
		return false;
	}
	if (xen_hypercall_setup()) {
		test_error("", "%s", xen_hypercall_setup());
		return false;
	}
	return true;
}

static void setup(void)
{
	entries = MAP_ENTRIES;
	if (xen_detect() && !xen_hypercall_setup())
		map_rc = xen_memory_map(XENMEM_MEMORY_MAP, map, &entries);
}

/* CPUID base+0 EAX is the highest Xen leaf, which covers at least base+2 (public/arch-x86/cpuid.h). */
static void check_cpuid_leaves(void)
{
	if (!require_xen())
		return;
	check_msg(xen_info.cpuid_max >= xen_info.cpuid_base + 2, "max_leaf",
		  "highest Xen leaf %#x below base %#x + 2", xen_info.cpuid_max, xen_info.cpuid_base);
	check_msg(xen_info.major >= 3, "version", "Xen version %u.%u from CPUID base+1",
		  xen_info.major, xen_info.minor);
}

/* A PVH dom0's start info says so: SIF_PRIVILEGED | SIF_INITDOMAIN (public/xen.h). */
static void check_start_info(void)
{
	if (!require_xen())
		return;
	if (strcmp(bootinfo.loader, "pvh")) {
		skip("", "entered through %s, not PVH", bootinfo.loader);
		return;
	}
	check_msg((bootinfo.pvh_flags & (PVH_FLAG_PRIVILEGED | PVH_FLAG_INITDOMAIN)) ==
		  (PVH_FLAG_PRIVILEGED | PVH_FLAG_INITDOMAIN), "dom0_flags",
		  "start info flags %#x: dom0 is privileged and the initial domain",
		  bootinfo.pvh_flags);
}

/* The RAM the harness knows is the RAM of XENMEM_memory_map, and holds the image. */
static void check_memory_map(void)
{
	uint64_t start = (uint64_t)__image_start, end = (uint64_t)__image_end;
	unsigned ram = 0, matched = 0;
	bool holds_image = false;

	if (!require_xen())
		return;
	if (!check_msg(map_rc == 0 && entries > 0, "call", "XENMEM_memory_map: %ld (%s), %u entries",
		       map_rc, xen_errno_name(map_rc), entries))
		return;
	for (unsigned i = 0; i < entries; i++) {
		if (map[i].type != E820_TYPE_RAM || !map[i].size)
			continue;
		ram++;
		for (unsigned r = 0; r < bootinfo.ram_count; r++)
			matched += bootinfo.ram[r].start == map[i].addr &&
				   bootinfo.ram[r].end == map[i].addr + map[i].size;
		holds_image |= map[i].addr <= start && end <= map[i].addr + map[i].size;
	}
	check_msg(ram == bootinfo.ram_count && matched == ram, "bootinfo",
		  "%u RAM entries, the harness knows %u ranges, %u equal", ram, bootinfo.ram_count,
		  matched);
	check_msg(holds_image, "holds_image", "no RAM entry holds the image %#lx-%#lx", start, end);
}

/*
 * nr_entries is the buffer's capacity on the call and the count stored on
 * return (public/memory.h, struct xen_memory_map): a one-entry buffer gets
 * the map's first entry and nothing past it.
 */
static void check_memory_map_capacity(void)
{
	struct xen_e820_entry one[2];
	unsigned count = 1;
	long rc;

	if (!require_xen())
		return;
	if (map_rc || entries < 2) {
		skip("", "needs a map of two entries or more (%u, rc %ld)", entries, map_rc);
		return;
	}
	memset(one, 0x5a, sizeof(one));
	rc = xen_memory_map(XENMEM_MEMORY_MAP, one, &count);
	check_msg(rc == 0 && count == 1, "count", "rc %ld, %u entries stored in a buffer of 1", rc,
		  count);
	check_msg(!memcmp(&one[0], &map[0], sizeof(one[0])), "first",
		  "the entry stored is not the map's first");
	check_msg(one[1].addr == 0x5a5a5a5a5a5a5a5aull && one[1].type == 0x5a5a5a5a, "bounded",
		  "Xen wrote past the one-entry buffer");
}

static const struct check_entry checks[] = {
	{ "cpuid", check_cpuid_leaves },
	{ "start_info", check_start_info },
	{ "memory_map.ram", check_memory_map },
	{ "memory_map.capacity", check_memory_map_capacity },
};

DEFINE_TEST("xen_boot", checks, .setup = setup);
