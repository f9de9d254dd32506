/**
 * @file bootinfo.h
 * What the loader told us, copied out of its structures at boot: the command
 * line and the RAM map, from Multiboot2 (GRUB) or PVH (QEMU -kernel, Xen).
 * Xen's PVH dom0 gets a version-0 start info without a memory map; the map
 * then comes from the XENMEM_memory_map hypercall.
 */
#ifndef HVT_X86_BOOTINFO_H
#define HVT_X86_BOOTINFO_H

#include "libhvt.h"

#define BOOTINFO_MAX_RANGES 32

struct ram_range {
	uint64_t start, end;	/* [start, end) */
};

struct bootinfo {
	const char *loader;		/* "multiboot2" or "pvh" */
	uint32_t pvh_flags;		/* hvm_start_info.flags (PVH_FLAG_*), 0 otherwise */
	char cmdline[4096];
	struct ram_range ram[BOOTINFO_MAX_RANGES];
	unsigned ram_count;
	bool cmdline_truncated;
	/*
	 * A copy of the ACPI RSDP when the loader gave one (Multiboot2 tags 14
	 * and 15, PVH rsdp_paddr); otherwise smp.c searches the BIOS areas.
	 */
	uint8_t acpi_rsdp[36];
	bool has_acpi_rsdp;
};

/* hvm_start_info.flags (Xen public/xen.h SIF_*): set for Xen's dom0. */
#define PVH_FLAG_PRIVILEGED	BIT(0)
#define PVH_FLAG_INITDOMAIN	BIT(1)

extern struct bootinfo bootinfo;

/**
 * Fills bootinfo from the entry registers.
 * @return NULL, or why the boot information cannot be used.
 */
const char *bootinfo_parse(uint32_t magic, uint32_t info);

#endif
