/*
 * The boot disk of the Bochs disk path (docs/bochs.md, "How a test boots"):
 * a test image (an ELF64 with a Multiboot2 header) and its command line,
 * laid out for the loader in scripts/bochs/loader.S as scripts/bochs/bootplan.h
 * describes.
 *
 * The image's bytes are untrusted input: every offset and size is checked
 * before use, and the first problem ends the parse with a message.
 */
#ifndef HVT_BOOTDISK_H
#define HVT_BOOTDISK_H

#include <stddef.h>
#include <stdint.h>

#define BOOTDISK_MAX_SEGMENTS	8
/* The Multiboot2 header lies in the first 32 KiB of the image (Multiboot2 specification 3.1.1). */
#define BOOTDISK_MB2_SEARCH	32768
/* The loader's name, in the information's boot loader name tag. */
#define BOOTDISK_LOADER_NAME	"hvtest disk loader (scripts/bochs/loader.S)"

struct bootdisk_error {
	char msg[200];
};

/* A PT_LOAD segment: FILESZ bytes from OFFSET in the file go to PADDR, then zeros to MEMSZ. */
struct bootdisk_segment {
	uint64_t paddr, offset, filesz, memsz;
};

struct bootdisk_image {
	uint32_t entry;		/* physical */
	unsigned nsegments;	/* ascending paddr, none empty */
	struct bootdisk_segment seg[BOOTDISK_MAX_SEGMENTS];
};

/*
 * Checks that ELF (SIZE bytes) is an ELF64 x86-64 executable with a valid
 * Multiboot2 header whose required tags the disk loader honours, and that its
 * segments fit in RAM_BYTES of RAM (0: unchecked), above 1 MiB, below 4 GiB,
 * without overlapping. Fills IMG. Returns 0, or -1 with ERR.
 */
int bootdisk_parse_image(const uint8_t *elf, size_t size, uint64_t ram_bytes,
			 struct bootdisk_image *img, struct bootdisk_error *err);

/* Is LOADER (SIZE bytes) the loader of this plan layout? 0, or -1 with ERR. */
int bootdisk_check_loader(const uint8_t *loader, size_t size, struct bootdisk_error *err);

/*
 * The whole disk for LOADER (BOOTPLAN_LOADER_SECTORS sectors, with the
 * loader's id), the image ELF as parsed into IMG, and CMDLINE. *DISK (malloc'd)
 * holds *USED bytes, the rest of the *SIZE bytes of the disk is zero (the
 * caller may leave it sparse). Returns 0, or -1 with ERR.
 */
int bootdisk_build(const uint8_t *loader, size_t loader_size, const uint8_t *elf,
		   const struct bootdisk_image *img, const char *cmdline, uint8_t **disk,
		   size_t *used, uint64_t *size, struct bootdisk_error *err);

/* What a disk holds, read back from it (for tests and debugging). */
struct bootdisk_record {
	uint32_t lba, count, dest;
};

struct bootdisk_info {
	uint32_t entry, mbi, mbi_size;
	unsigned nloads, nzeros;
	struct bootdisk_record loads[BOOTDISK_MAX_SEGMENTS + 1];
	struct bootdisk_record zeros[BOOTDISK_MAX_SEGMENTS];	/* lba unused */
	const char *cmdline;	/* points into the disk */
	size_t cmdline_len;
};

/* Reads the plan and the command line of DISK (SIZE bytes); 0, or -1 with ERR. */
int bootdisk_describe(const uint8_t *disk, size_t size, struct bootdisk_info *info,
		      struct bootdisk_error *err);

#endif
