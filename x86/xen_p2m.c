/*
 * Xen's PVH dom0 p2m fix-up.  Xen builds a PVH dom0's physical map (p2m)
 * from what it knows at boot: RAM, the low 1 MiB, ACPI and reserved E820
 * ranges, the PCI BARs it enumerated (xen/arch/x86/hvm/dom0_build.c).  MMIO
 * that a device decodes outside all of these is not mapped.
 * docs/misc/xen-command-line.pandoc, "dom0" option:
 *
 *  - without pf-fixup, dom0's accesses there are completed by Xen: reads
 *    return all ones, writes are dropped (xen/arch/x86/hvm/emulate.c,
 *    hvmemul_do_io, null_handler); the device never sees them;
 *  - with dom0=pvh,pf-fixup (Xen 4.20), the first access makes Xen add an
 *    identity mapping and retry the instruction (emulate.c, hwdom_fixup_p2m),
 *    so the access reaches the device and the mapping stays for later ones;
 *    but only for a frame dom0 may access that is not in the host's E820
 *    (iomem_access_permitted, is_memory_hole): frames Xen keeps for itself
 *    stay unmapped.  Xen 4.17 has no pf-fixup: it rejects the word and keeps
 *    the rest of dom0= (xen/common/kernel.c, parse_params), so its dom0
 *    behaves as without it.
 *
 * The region is QEMU's pc-testdev iomem (hw/misc/pc-testdev.c: 64 KiB of
 * plain memory at 0xff000000 that the device stores), which no E820 entry,
 * ACPI table or PCI BAR names.  Each check uses pages of its own, so every
 * one starts on a page Xen never mapped.  The control maps a page with
 * XEN_DOMCTL_memory_mapping first: the device must answer there, or nothing
 * else here could be told apart from a missing device.
 *
 * Options: expect=fixup|nofixup (required: how the run configured Xen),
 * testdev=ADDRESS (pc-testdev's iomem, default 0xff000000).
 */
#include "alloc.h"
#include "bootinfo.h"
#include "pagetable.h"
#include "processor.h"
#include "test.h"
#include "xen.h"

#define TESTDEV_DEFAULT		0xff000000ull
#define TESTDEV_SIZE		0x10000ull	/* IOMEM_LEN in hw/misc/pc-testdev.c */

/* One page of the testdev region per purpose. */
enum testdev_page {
	PAGE_CONTROL = 0,
	PAGE_WRITE_FIRST = 1,
	PAGE_READ_FIRST = 2,
};

#define PATTERN_OFFSET		0x10
#define PATTERN_CONTROL		0xc0ffee11u
#define PATTERN_WRITE		0x5a5aa5a5u
#define ALL_ONES_32		0xffffffffu

/* AMD IOMMU: PCI class 08h/06h, capability ID 0Fh (AMD IOMMU Specification 3.2.1). */
#define PCI_CLASS_IOMMU		0x0806
#define PCI_CAP_ID_AMD_IOMMU	0x0f
#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc

#define MAP_ENTRIES		128
#define HOST_RAM_PAGES		16

static const char *unusable;
static bool expect_fixup;
static uint64_t testdev;

/* What the control found, reported by the "control" entry. */
static struct {
	long add_rc, remove_rc, remove_again_rc;
	uint32_t value;
} control;

static struct xen_e820_entry dom0_map[MAP_ENTRIES], host_map[MAP_ENTRIES];
static unsigned dom0_entries, host_entries;

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned offset)
{
	/* Configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2). */
	outl(PCI_CONFIG_ADDRESS, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (offset & 0xfc));
	return inl(PCI_CONFIG_DATA);
}

static uint64_t testdev_page(enum testdev_page page)
{
	return testdev + page * PAGE_SIZE;
}

static uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static void mmio_write32(uint64_t addr, uint32_t value)
{
	*(volatile uint32_t *)addr = value;
}

/* Uncacheable 4 KiB identity mappings for device registers (SDM Vol. 3A 13.5.1: PCD, PWT). */
static void map_uncached(uint64_t addr, uint64_t size)
{
	pt_map(paging_current(), addr, addr, size, PAGE_SIZE, PTE_P | PTE_W | PTE_PCD | PTE_PWT);
	write_cr3(read_cr3());
}

static const struct xen_e820_entry *map_find(const struct xen_e820_entry *map, unsigned n,
					     uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < n; i++)
		if (map[i].size && start < map[i].addr + map[i].size && map[i].addr < end)
			return &map[i];
	return NULL;
}

/*
 * Does dom0's map give it any of [start, end)?  Xen lists the host RAM it
 * kept as UNUSABLE there (xen/arch/x86/hvm/dom0_build.c, pvh_setup_e820):
 * that is not dom0's.
 */
static bool dom0_has_frames(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < dom0_entries; i++)
		if (dom0_map[i].type != E820_TYPE_UNUSABLE && dom0_map[i].size &&
		    start < dom0_map[i].addr + dom0_map[i].size && dom0_map[i].addr < end)
			return true;
	return false;
}

static long map_frame(uint64_t addr, bool add)
{
	return xen_domctl_memory_mapping(addr >> 12, addr >> 12, 1, add);
}

static const char *read_maps(void)
{
	static char why[96];
	long rc;

	dom0_entries = host_entries = MAP_ENTRIES;
	rc = xen_memory_map(XENMEM_MEMORY_MAP, dom0_map, &dom0_entries);
	if (rc) {
		snprintf(why, sizeof(why), "XENMEM_memory_map: %ld (%s)", rc, xen_errno_name(rc));
		return why;
	}
	/* Xen 4.17 refuses it to HVM domains (xen/arch/x86/hvm/hypercall.c, hvm_memory_op). */
	rc = xen_memory_map(XENMEM_MACHINE_MEMORY_MAP, host_map, &host_entries);
	if (rc)
		info("XENMEM_machine_memory_map: %ld (%s): the host's map is unknown", rc,
		     xen_errno_name(rc));
	return NULL;
}

static void print_map(const char *name, const struct xen_e820_entry *map, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		info("%s: %#014lx-%#014lx type %u", name, map[i].addr, map[i].addr + map[i].size,
		     map[i].type);
}

/*
 * Xen parses its command line before its serial console is up, so what it
 * says about dom0= (xen/common/kernel.c, parse_params: 'parameter "dom0" has
 * invalid value ...' on 4.17 for pf-fixup) is only in its console ring.
 * Shown for the log; no verdict depends on it.
 */
static void print_xen_parameter_complaints(void)
{
	static char ring[16384];
	long n = xen_console_read(ring, sizeof(ring));

	if (n < 0) {
		info("Xen's console ring: %ld (%s)", n, xen_errno_name(n));
		return;
	}
	for (char *line = ring, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		if (glob_match("*parameter \"*", line) || glob_match("*Command line:*", line))
			info("Xen's console: %s", line);
	}
}

static void setup(void)
{
	const char *expect = arg_get("expect"), *why;
	const struct xen_e820_entry *e;

	if (!expect || (strcmp(expect, "fixup") && strcmp(expect, "nofixup")))
		report_abort("xen_p2m needs expect=fixup or expect=nofixup: how Xen was configured");
	expect_fixup = !strcmp(expect, "fixup");
	testdev = arg_get_u64("testdev", TESTDEV_DEFAULT);
	if (!IS_ALIGNED(testdev, PAGE_SIZE) || testdev + TESTDEV_SIZE > (4ull << 30))
		report_abort("testdev=%#lx must be page-aligned and below 4 GiB", testdev);

	if (!xen_detect()) {
		unusable = "not a Xen domain (no \"XenVMMXenVMM\" CPUID leaves)";
		return;
	}
	if (strcmp(bootinfo.loader, "pvh") || !(bootinfo.pvh_flags & PVH_FLAG_INITDOMAIN)) {
		unusable = "not Xen's PVH dom0 (the start info does not say SIF_INITDOMAIN)";
		return;
	}
	why = xen_hypercall_setup();
	if (why)
		report_abort("%s", why);
	print_xen_parameter_complaints();
	why = read_maps();
	if (why)
		report_abort("%s", why);
	print_map("host E820", host_map, host_entries);
	print_map("dom0 E820", dom0_map, dom0_entries);

	/* The test means nothing unless Xen knows the region as a hole. */
	e = map_find(dom0_map, dom0_entries, testdev, testdev + TESTDEV_SIZE);
	if (e)
		report_abort("testdev region %#lx is in dom0's memory map (%#lx+%#lx type %u)",
			     testdev, e->addr, e->size, e->type);
	e = map_find(host_map, host_entries, testdev, testdev + TESTDEV_SIZE);
	if (e)
		report_abort("testdev region %#lx is in the host's memory map (%#lx+%#lx type %u)",
			     testdev, e->addr, e->size, e->type);
	map_uncached(testdev, TESTDEV_SIZE);

	/* Control: mapped explicitly, the device stores what is written. */
	control.add_rc = map_frame(testdev_page(PAGE_CONTROL), true);
	if (control.add_rc)
		report_abort("XEN_DOMCTL_memory_mapping of %#lx failed: %ld (%s)",
			     testdev_page(PAGE_CONTROL), control.add_rc,
			     xen_errno_name(control.add_rc));
	mmio_write32(testdev_page(PAGE_CONTROL) + PATTERN_OFFSET, PATTERN_CONTROL);
	control.value = mmio_read32(testdev_page(PAGE_CONTROL) + PATTERN_OFFSET);
	control.remove_rc = map_frame(testdev_page(PAGE_CONTROL), false);
	control.remove_again_rc = map_frame(testdev_page(PAGE_CONTROL), false);
	if (control.value != PATTERN_CONTROL)
		report_abort("nothing answers at %#lx even when mapped (wrote %#x, read %#x): "
			     "QEMU needs -device pc-testdev", testdev_page(PAGE_CONTROL),
			     PATTERN_CONTROL, control.value);
}

static bool require(void)
{
	if (unusable)
		skip("", "%s", unusable);
	return !unusable;
}

/*
 * The control's results.  The checks below learn whether the p2m holds a
 * mapping by removing it, which succeeds only for an MMIO mapping
 * (xen/arch/x86/mm/p2m.c, clear_mmio_p2m_entry): the control proves both
 * answers on a page it mapped itself.
 */
static void check_control(void)
{
	if (!require())
		return;
	check_msg(control.remove_rc == 0, "remove_mapped",
		  "removing the mapping XEN_DOMCTL_memory_mapping made returned %ld (%s)",
		  control.remove_rc, xen_errno_name(control.remove_rc));
	check_msg(control.remove_again_rc == -XEN_EINVAL, "remove_unmapped",
		  "removing it again returned %ld (%s) instead of -EINVAL",
		  control.remove_again_rc, xen_errno_name(control.remove_again_rc));
}

/*
 * A write, then a read, on a page Xen never mapped.  With the fix-up the
 * write reaches the device and the read returns it; without, the read
 * returns all ones.  Then the p2m and the device itself are asked.
 */
static void check_write_first(void)
{
	uint64_t page = testdev_page(PAGE_WRITE_FIRST), addr = page + PATTERN_OFFSET;
	uint32_t value, stored;
	long rc;

	if (!require())
		return;
	mmio_write32(addr, PATTERN_WRITE);
	value = mmio_read32(addr);
	if (expect_fixup)
		check_msg(value == PATTERN_WRITE, "read_back",
			  "wrote %#x to %#lx, read %#x: the fix-up should have mapped the device",
			  PATTERN_WRITE, addr, value);
	else
		check_msg(value == ALL_ONES_32, "read_back",
			  "wrote %#x to %#lx, read %#x instead of all ones from an unmapped frame",
			  PATTERN_WRITE, addr, value);

	/*
	 * Removing an MMIO mapping succeeds only where the p2m holds one
	 * (xen/arch/x86/mm/p2m.c, clear_mmio_p2m_entry: -EINVAL otherwise).
	 */
	rc = map_frame(page, false);
	if (expect_fixup)
		check_msg(rc == 0, "mapping_persists",
			  "removing the fixed-up mapping of %#lx returned %ld (%s): none was left",
			  page, rc, xen_errno_name(rc));
	else
		check_msg(rc == -XEN_EINVAL, "no_mapping_added",
			  "removing a mapping of %#lx returned %ld (%s) instead of -EINVAL: "
			  "Xen mapped the frame", page, rc, xen_errno_name(rc));

	/* Mapped explicitly, the device shows whether the write ever reached it. */
	rc = map_frame(page, true);
	if (rc) {
		test_error("device", "XEN_DOMCTL_memory_mapping of %#lx failed: %ld (%s)", page, rc,
			   xen_errno_name(rc));
		return;
	}
	stored = mmio_read32(addr);
	map_frame(page, false);
	if (expect_fixup)
		check_msg(stored == PATTERN_WRITE, "device",
			  "the device holds %#x at %#lx, not the %#x written", stored, addr,
			  PATTERN_WRITE);
	else
		check_msg(stored != PATTERN_WRITE, "device",
			  "the device holds the %#x written to an unmapped frame: the write "
			  "should have been dropped", stored);
}

/* A read as the first access: the device's content (zero from reset), or all ones. */
static void check_read_first(void)
{
	uint64_t addr = testdev_page(PAGE_READ_FIRST) + PATTERN_OFFSET;
	uint32_t value;

	if (!require())
		return;
	value = mmio_read32(addr);
	if (expect_fixup)
		check_msg(value == 0, "", "read %#x at %#lx; pc-testdev holds 0 there since reset",
			  value, addr);
	else
		check_eq("", value, ALL_ONES_32);
}

/* The AMD IOMMU's register block, from its PCI capability (AMD IOMMU Specification 3.2.1). */
static uint64_t find_amd_iommu(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0x00), cap;

			if ((id & 0xffff) == 0xffff)
				continue;
			if (pci_read32(0, dev, fn, 0x08) >> 16 != PCI_CLASS_IOMMU)
				continue;
			if (!(pci_read32(0, dev, fn, 0x04) & BIT(20)))	/* status: capability list */
				continue;
			for (cap = pci_read32(0, dev, fn, 0x34) & 0xfc; cap;
			     cap = (pci_read32(0, dev, fn, cap) >> 8) & 0xfc) {
				uint32_t low, high;

				if ((pci_read32(0, dev, fn, cap) & 0xff) != PCI_CAP_ID_AMD_IOMMU)
					continue;
				low = pci_read32(0, dev, fn, cap + 4);
				high = pci_read32(0, dev, fn, cap + 8);
				info("AMD IOMMU at %02x.%x: base %#lx%s", dev, fn,
				     ((uint64_t)high << 32 | (low & ~0x3fffu)),
				     low & 1 ? " (enabled)" : "");
				return (uint64_t)high << 32 | (low & ~0x3fffu);
			}
		}
	}
	return 0;
}

/*
 * Xen keeps the IOMMU's registers from dom0 (drivers/passthrough/amd/
 * pci_amd_iommu.c, amd_iommu_hwdom_init: iomem_deny_access), so the fix-up
 * must not map them: reads return all ones.  The device table base register
 * (offset 0) that Xen programmed can never read so.
 */
static void check_refused_iommu(void)
{
	uint64_t base;
	uint32_t value;
	long rc;

	if (!require())
		return;
	base = find_amd_iommu();
	if (!base || base >= (4ull << 30)) {
		skip("", "no AMD IOMMU below 4 GiB in PCI configuration space (QEMU -device amd-iommu)");
		return;
	}
	map_uncached(base, PAGE_SIZE);
	value = mmio_read32(base);
	check_msg(value == ALL_ONES_32, "read", "read %#x from the IOMMU's device table base "
		  "register at %#lx: dom0 reached Xen's IOMMU", value, base);
	/* Nor may dom0 map them on request: Xen's permission check answers -EPERM. */
	rc = map_frame(base, true);
	value = rc ? ALL_ONES_32 : mmio_read32(base);
	if (!rc)
		map_frame(base, false);
	check_msg(rc == -XEN_EPERM, "domctl",
		  "XEN_DOMCTL_memory_mapping of the IOMMU page %#lx returned %ld (%s), not -EPERM%s",
		  base, rc, xen_errno_name(rc),
		  rc ? "" : "; mapped, the device table base register read back");
	if (!rc)
		info("IOMMU device table base register, mapped by domctl: %#x", value);
}

/*
 * Host RAM that Xen did not give to dom0 is not a memory hole
 * (emulate.c, hwdom_fixup_p2m: is_memory_hole), so the fix-up must refuse
 * it: reads return all ones.  The pages used are the host's top RAM pages,
 * which dom0's map does not give it; Xen's own or free (scrubbed) memory
 * does not read as all ones throughout.  Reads only: nothing is written there.
 */
static void check_refused_host_ram(void)
{
	/* The host's highest RAM frame + 1 (xen/arch/x86/e820.c, find_max_pfn). */
	long max_page = xen_hypercall(XEN_HYPERCALL_MEMORY_OP, XENMEM_MAXIMUM_RAM_PAGE, 0, 0, 0, 0);
	uint64_t page, end;
	unsigned ones = 0, pages = 0;

	if (!require())
		return;
	if (max_page <= 0) {
		test_error("", "XENMEM_maximum_ram_page: %ld (%s)", max_page, xen_errno_name(max_page));
		return;
	}
	end = (uint64_t)max_page << 12;
	page = end - HOST_RAM_PAGES * PAGE_SIZE;
	if (end > (4ull << 30) || dom0_has_frames(page, end)) {
		skip("", "the host's top RAM (%#lx-%#lx) is %s", page, end,
		     end > (4ull << 30) ? "above 4 GiB" : "dom0's");
		return;
	}
	info("host RAM outside dom0's map: %#lx-%#lx", page, end);
	for (uint64_t p = page; p < end; p += PAGE_SIZE) {
		pages++;
		if (mmio_read32(p) == ALL_ONES_32 && mmio_read32(p + PAGE_SIZE - 4) == ALL_ONES_32)
			ones++;
	}
	check_msg(ones == pages, "", "%u of %u pages of host RAM at %#lx read other than all ones: "
		  "dom0 reached memory that is not its own", pages - ones, pages, page);
}

static const struct check_entry checks[] = {
	{ "control", check_control },
	{ "write_first", check_write_first },
	{ "read_first", check_read_first },
	{ "refused.iommu", check_refused_iommu },
	{ "refused.host_ram", check_refused_host_ram },
};

DEFINE_TEST("xen_p2m", checks, .options = "expect testdev", .setup = setup);
