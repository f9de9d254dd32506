/**
 * @file bootinfo.h
 * What the loader told us, copied out of its structures at boot: the command
 * line and the RAM map, from Multiboot2 (GRUB) or PVH (QEMU -kernel).
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
	char cmdline[4096];
	struct ram_range ram[BOOTINFO_MAX_RANGES];
	unsigned ram_count;
	bool cmdline_truncated;
};

extern struct bootinfo bootinfo;

/**
 * Fills bootinfo from the entry registers.
 * @return NULL, or why the boot information cannot be used.
 */
const char *bootinfo_parse(uint32_t magic, uint32_t info);

#endif
