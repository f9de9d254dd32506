/*
 * The boot disk of the Bochs disk path (docs/bochs.md, "How a test boots"):
 * what build/host/hvt-bootdisk writes (scripts/bootdisk.c) and what the
 * loader in its first sectors reads (scripts/bochs/loader.S). Both include
 * this file, so the layout has one definition. Plain #defines: it is
 * included by C and by the assembler.
 *
 * The disk, in 512-byte sectors (LBA):
 *   0 .. BOOTPLAN_LOADER_SECTORS-1  the loader (the BIOS runs sector 0)
 *   BOOTPLAN_PLAN_LBA               the plan (below)
 *   then                            the bytes the load records name, each
 *                                   record starting on a sector of its own
 * padded to whole cylinders of BOOTPLAN_HEADS x BOOTPLAN_SPT sectors, the
 * geometry Bochs assumes for a flat image without one.
 */
#ifndef HVT_BOCHS_BOOTPLAN_H
#define HVT_BOCHS_BOOTPLAN_H

#define BOOTPLAN_SECTOR			512
#define BOOTPLAN_LOADER_SECTORS		3
#define BOOTPLAN_PLAN_LBA		BOOTPLAN_LOADER_SECTORS
#define BOOTPLAN_HEADS			16
#define BOOTPLAN_SPT			63

/* The loader's sector 0 starts with a 2-byte jump, then these: the tool
 * refuses a loader of another layout (a stale build). */
#define BOOTPLAN_LOADER_ID_OFFSET	2
#define BOOTPLAN_MAGIC			0x4c545648	/* "HVTL" */
#define BOOTPLAN_VERSION		1

/* The plan sector: little-endian fields at these offsets. */
#define PLAN_MAGIC		0	/* u32 BOOTPLAN_MAGIC */
#define PLAN_VERSION		4	/* u16 BOOTPLAN_VERSION */
#define PLAN_NLOADS		6	/* u16 load records */
#define PLAN_NZEROS		8	/* u16 zero records, after the load records */
#define PLAN_RESERVED		10	/* u16 0 */
#define PLAN_ENTRY		12	/* u32 the 32-bit entry point */
#define PLAN_MBI		16	/* u32 where the Multiboot2 information goes */
#define PLAN_MBI_SIZE		20	/* u32 bytes of it on the disk (its tags but the map and the end) */
#define PLAN_RECORDS		24

/* A load record: COUNT bytes from sector LBA on go to physical DEST. The
 * loader moves whole 16-bit words: an odd COUNT is moved with the next byte
 * of the disk, which the tool writes as zero. */
#define LOAD_LBA		0	/* u32 */
#define LOAD_COUNT		4	/* u32 */
#define LOAD_DEST		8	/* u32 */
#define LOAD_SIZE		12
/* A zero record: COUNT bytes at physical DEST are cleared (ELF bss). */
#define ZERO_DEST		0	/* u32 */
#define ZERO_COUNT		4	/* u32 */
#define ZERO_SIZE		8

/* Low memory as the loader uses it (physical addresses). */
#define BOOTPLAN_STACK_TOP	0x7c00	/* below the boot sector */
#define BOOTPLAN_LOAD_ADDR	0x7c00	/* the loader, then the plan sector */
#define BOOTPLAN_BOUNCE		0x10000	/* disk reads land here first */
#define BOOTPLAN_CHUNK_SECTORS	64	/* sectors per read: 32 KiB */
#define BOOTPLAN_MBI_ADDR	0x20000	/* the Multiboot2 information */
/* The loader appends the memory map tag (16 bytes, then 24 a BIOS entry, at
 * most BOOTPLAN_MMAP_MAX) and the end tag (8); the whole stays below
 * BOOTPLAN_MBI_END, clear of the EBDA. */
#define BOOTPLAN_MMAP_MAX	128
#define BOOTPLAN_MBI_END	0x90000

#endif
