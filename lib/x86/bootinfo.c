/*
 * Multiboot2 (Multiboot2 specification, 3.6) and PVH (Xen's hvm_start_info,
 * public/arch-x86/hvm/start_info.h) boot information.
 */
#include "bootinfo.h"
#include "xen.h"

#define MB2_BOOTLOADER_MAGIC	0x36d76289
#define PVH_START_MAGIC		0x336ec578

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_MMAP		6
#define MB2_TAG_ACPI_OLD	14	/* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW	15	/* a copy of the ACPI 2.0+ RSDP */

#define E820_RAM		1

struct bootinfo bootinfo;

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_mmap_entry {
	uint64_t base, length;
	uint32_t type, reserved;
};

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static void add_ram(uint64_t start, uint64_t length)
{
	if (!length || bootinfo.ram_count == BOOTINFO_MAX_RANGES)
		return;
	bootinfo.ram[bootinfo.ram_count++] = (struct ram_range){ start, start + length };
}

static void set_cmdline(const char *s)
{
	if (!s)
		return;
	if (strlcpy(bootinfo.cmdline, s, sizeof(bootinfo.cmdline)) >= sizeof(bootinfo.cmdline))
		bootinfo.cmdline_truncated = true;
}

static void set_rsdp(const void *rsdp, size_t size)
{
	size = MIN(size, sizeof(bootinfo.acpi_rsdp));
	memcpy(bootinfo.acpi_rsdp, rsdp, size);
	bootinfo.has_acpi_rsdp = size >= 20;
}

static const char *parse_multiboot2(uint64_t info)
{
	uint32_t total = *(const uint32_t *)info;
	uint64_t p = info + 8, end = info + total;

	bootinfo.loader = "multiboot2";
	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *tag = (const void *)p;

		if (tag->type == MB2_TAG_END)
			break;
		if (tag->type == MB2_TAG_CMDLINE) {
			set_cmdline((const char *)(p + 8));
		} else if (tag->type == MB2_TAG_MMAP) {
			uint32_t entry_size = *(const uint32_t *)(p + 8);

			if (entry_size < sizeof(struct mb2_mmap_entry))
				return "multiboot2 memory map entries are too small";
			for (uint64_t e = p + 16; e + entry_size <= p + tag->size; e += entry_size) {
				const struct mb2_mmap_entry *m = (const void *)e;

				if (m->type == E820_RAM)
					add_ram(m->base, m->length);
			}
		} else if (tag->type == MB2_TAG_ACPI_NEW ||
			   (tag->type == MB2_TAG_ACPI_OLD && !bootinfo.has_acpi_rsdp)) {
			set_rsdp((const void *)(p + 8), tag->size - 8);
		}
		p += ALIGN_UP((uint64_t)tag->size, 8);
	}
	return bootinfo.ram_count ? NULL : "multiboot2 information has no memory map";
}

/*
 * A PVH start info without a memory map (version 0, as Xen builds it for a
 * PVH dom0: xen/arch/x86/hvm/dom0_build.c, pvh_load_kernel) leaves the map to
 * the XENMEM_memory_map hypercall (public/arch-x86/hvm/start_info.h).  This
 * runs before the allocator knows any RAM: the hypercall page and the map
 * buffer are in the image, which entry.S has identity-mapped.
 */
static const char *memory_map_from_xen(void)
{
	static struct xen_e820_entry map[BOOTINFO_MAX_RANGES * 2];
	static char problem[96];
	unsigned count = ARRAY_SIZE(map);
	const char *why;
	long rc;

	if (!xen_detect())
		return "PVH start info has no memory map (version 0) and no Xen to ask for one";
	why = xen_hypercall_setup();
	if (why) {
		snprintf(problem, sizeof(problem), "PVH start info has no memory map: %s", why);
		return problem;
	}
	rc = xen_memory_map(XENMEM_MEMORY_MAP, map, &count);
	if (rc) {
		snprintf(problem, sizeof(problem), "XENMEM_memory_map failed: %ld (%s)", rc,
			 xen_errno_name(rc));
		return problem;
	}
	for (unsigned i = 0; i < count; i++)
		if (map[i].type == E820_RAM)
			add_ram(map[i].addr, map[i].size);
	return bootinfo.ram_count ? NULL : "XENMEM_memory_map has no RAM";
}

static const char *parse_pvh(const struct pvh_start_info *si)
{
	const struct pvh_memmap_entry *map;

	bootinfo.loader = "pvh";
	bootinfo.pvh_flags = si->flags;
	if (si->cmdline_paddr)
		set_cmdline((const char *)si->cmdline_paddr);
	if (si->rsdp_paddr)
		set_rsdp((const void *)si->rsdp_paddr, 36);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		return memory_map_from_xen();
	map = (const void *)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (map[i].type == E820_RAM)
			add_ram(map[i].addr, map[i].size);
	return bootinfo.ram_count ? NULL : "PVH memory map has no RAM";
}

const char *bootinfo_parse(uint32_t magic, uint32_t info)
{
	if (magic == MB2_BOOTLOADER_MAGIC)
		return parse_multiboot2(info);
	if (info && ((const struct pvh_start_info *)(uint64_t)info)->magic == PVH_START_MAGIC)
		return parse_pvh((const void *)(uint64_t)info);
	bootinfo.loader = "unknown";
	return "entered neither by a Multiboot2 loader nor through PVH";
}
