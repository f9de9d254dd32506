/*
 * Unit tests of the Bochs boot disk builder (scripts/bootdisk.c): the checks
 * of the ELF image and its Multiboot2 header, the disk layout the loader
 * reads (scripts/bochs/bootplan.h), and reading a disk back. Output is TAP;
 * the exit status is non-zero when a test fails.
 */
#include "bootdisk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bochs/bootplan.h"
#include "tap.h"

#define IMAGE_SIZE	0xa000
#define HEADER_OFF	0x1000	/* the Multiboot2 header, at the start of the segment */
#define CYLINDER	(BOOTPLAN_HEADS * BOOTPLAN_SPT * BOOTPLAN_SECTOR)

static uint8_t image[IMAGE_SIZE];
static size_t image_size;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* The program header table of the image: N entries at offset 64. */
static void set_segments(const struct seg *s, unsigned n)
{
	put16(image + 56, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *ph = image + 64 + i * 56;

		memset(ph, 0, 56);
		put32(ph, s[i].type);
		put32(ph + 4, 7);
		put64(ph + 8, s[i].offset);
		put64(ph + 16, s[i].vaddr);
		put64(ph + 24, s[i].paddr);
		put64(ph + 32, s[i].filesz);
		put64(ph + 40, s[i].memsz);
		put64(ph + 48, 0x1000);
	}
}

/* A Multiboot2 header at OFF with the tags TAGS (LEN bytes, without the end tag). */
static void set_header(size_t off, const uint8_t *tags, uint32_t len)
{
	uint32_t total = 16 + len + 8;

	put32(image + off, 0xe85250d6);
	put32(image + off + 4, 0);
	put32(image + off + 8, total);
	put32(image + off + 12, (uint32_t)-(0xe85250d6u + total));
	if (len)
		memcpy(image + off + 16, tags, len);
	memset(image + off + 16 + len, 0, 8);
	image[off + 16 + len + 4] = 8;
}

/*
 * The image these tests start from, like the project's: one PT_LOAD segment
 * of 0x1801 bytes (odd) from file offset 0x1000 to 1 MiB, bss to 0x4000,
 * entry 0x100020, a Multiboot2 header with only the end tag.
 */
static void default_image(void)
{
	static const struct seg one = { 1, HEADER_OFF, 0x100000, 0x100000, 0x1801, 0x4000 };

	memset(image, 0, sizeof(image));
	memcpy(image, "\177ELF", 4);
	image[4] = 2;
	image[5] = 1;
	image[6] = 1;
	put16(image + 16, 2);
	put16(image + 18, 62);
	put32(image + 20, 1);
	put64(image + 24, 0x100020);
	put64(image + 32, 64);
	put16(image + 52, 64);
	put16(image + 54, 56);
	for (size_t i = HEADER_OFF; i < HEADER_OFF + 0x1801; i++)
		image[i] = (uint8_t)(i * 7 + 1);
	set_header(HEADER_OFF, NULL, 0);
	set_segments(&one, 1);
	image_size = IMAGE_SIZE;
}

/* The default image with one header tag: TYPE, FLAGS, SIZE, then the words VALS. */
static void image_with_tag(uint16_t type, uint16_t flags, uint32_t size, const uint32_t *vals,
			   unsigned n)
{
	uint8_t tag[32] = { 0 };

	put16(tag, type);
	put16(tag + 2, flags);
	put32(tag + 4, size);
	for (unsigned i = 0; i < n; i++)
		put32(tag + 8 + 4 * i, vals[i]);
	default_image();
	set_header(HEADER_OFF, tag, (size + 7) & ~7u);
}

static int parse(uint64_t ram, struct bootdisk_image *img, struct bootdisk_error *err)
{
	return bootdisk_parse_image(image, image_size, ram, img, err);
}

/* The image as it is now must be refused with a message holding WANT. */
static void expect_refused(const char *what, uint64_t ram, const char *want)
{
	struct bootdisk_image img;
	struct bootdisk_error err = { "" };
	int rc = parse(ram, &img, &err);

	if (!OK(rc == -1 && strstr(err.msg, want), "refused: %s", what))
		printf("#   rc=%d msg='%s', want '%s'\n", rc, err.msg, want);
}

static void expect_parsed(const char *what, uint64_t ram, struct bootdisk_image *img)
{
	struct bootdisk_error err = { "" };

	if (!OK(parse(ram, img, &err) == 0, "parsed: %s", what))
		printf("#   msg='%s'\n", err.msg);
}

static void test_image_accepted(void)
{
	struct bootdisk_image img;

	default_image();
	expect_parsed("the default image", 128 << 20, &img);
	OK(img.nsegments == 1 && img.seg[0].paddr == 0x100000 && img.seg[0].offset == HEADER_OFF &&
	   img.seg[0].filesz == 0x1801 && img.seg[0].memsz == 0x4000, "its segment");
	OK(img.entry == 0x100020, "its entry is e_entry, through the segment (%#x)", img.entry);
}

static void test_elf_refused(void)
{
	default_image();
	image_size = 40;
	expect_refused("a file shorter than an ELF header", 0, "not an ELF");
	default_image();
	image[0] = 'x';
	expect_refused("no ELF magic", 0, "not an ELF");
	default_image();
	image[4] = 1;
	expect_refused("ELF32", 0, "ELF64");
	default_image();
	image[5] = 2;
	expect_refused("big-endian", 0, "little-endian");
	default_image();
	put16(image + 18, 3);
	expect_refused("machine i386", 0, "x86-64");
	default_image();
	put16(image + 16, 3);
	expect_refused("a shared object", 0, "executable");
	default_image();
	put16(image + 54, 32);
	expect_refused("program header entries of another size", 0, "program header entries");
	default_image();
	put64(image + 32, IMAGE_SIZE - 20);
	expect_refused("program headers past the end", 0, "past the end");
	default_image();
	put64(image + 32, UINT64_MAX - 8);
	expect_refused("a program header offset that wraps", 0, "past the end");
	default_image();
	put16(image + 56, 0);
	expect_refused("no program header", 0, "no loadable segment");
}

static void test_segments_refused(void)
{
	static const struct {
		const char *what;
		struct seg seg;
		uint64_t ram;
		const char *want;
	} one[] = {
		{ "file size above memory size",
		  { 1, HEADER_OFF, 0x100000, 0x100000, 0x5000, 0x4000 }, 0, "above its memory size" },
		{ "bytes past the end of the file",
		  { 1, HEADER_OFF, 0x100000, 0x100000, IMAGE_SIZE, IMAGE_SIZE }, 0, "past the end of the file" },
		{ "an offset that wraps",
		  { 1, UINT64_MAX - 4, 0x100000, 0x100000, 0x10, 0x10 }, 0, "past the end of the file" },
		{ "a physical address below 1 MiB",
		  { 1, HEADER_OFF, 0x100000, 0x80000, 0x1801, 0x4000 }, 0, "below 1 MiB" },
		{ "beyond the RAM",
		  { 1, HEADER_OFF, 0x100000, 0x100000, 0x1801, 0x4000 }, 0x102000, "the RAM" },
		{ "across 4 GiB",
		  { 1, HEADER_OFF, 0x100000, 0xfffff000, 0x1801, 0x4000 }, 0, "4 GiB" },
	};
	struct seg s[2];

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		default_image();
		set_segments(&one[i].seg, 1);
		expect_refused(one[i].what, one[i].ram, one[i].want);
	}
	s[0] = (struct seg){ 1, HEADER_OFF, 0x100000, 0x100000, 0x1801, 0x4000 };
	s[1] = (struct seg){ 1, HEADER_OFF, 0x103000, 0x103000, 0x100, 0x100 };
	set_segments(s, 2);
	expect_refused("overlapping segments", 0, "overlap");
	s[1] = (struct seg){ 1, HEADER_OFF, 0x200000, 0x200000, 0x100, 0x100 };
	set_segments(s, 2);
	put64(image + 24, 0x300000);
	expect_refused("an entry outside the segments", 0, "in no loadable segment");
}

static void test_segments_accepted(void)
{
	struct bootdisk_image img;
	struct seg s[3];

	default_image();
	/* Out of order, one not PT_LOAD, one empty. */
	s[0] = (struct seg){ 1, HEADER_OFF + 0x2000, 0x200000, 0x200000, 0x100, 0x1000 };
	s[1] = (struct seg){ 4, HEADER_OFF, 0, 0, 0x10, 0x10 };
	s[2] = (struct seg){ 1, HEADER_OFF, 0x100000, 0x100000, 0x1801, 0x4000 };
	set_segments(s, 3);
	expect_parsed("two PT_LOAD segments out of order and a note", 0, &img);
	OK(img.nsegments == 2 && img.seg[0].paddr == 0x100000 && img.seg[1].paddr == 0x200000,
	   "segments in ascending order, the note left out");

	default_image();
	s[0] = (struct seg){ 1, HEADER_OFF, 0xffffffff80100000ull, 0x100000, 0x1801, 0x4000 };
	set_segments(s, 1);
	put64(image + 24, 0xffffffff80100040ull);
	expect_parsed("a segment linked high, loaded at 1 MiB", 0, &img);
	OK(img.entry == 0x100040, "the entry is translated to the physical address (%#x)", img.entry);
}

static void test_header(void)
{
	struct bootdisk_image img;

	default_image();
	memset(image + HEADER_OFF, 0, 32);
	expect_refused("no header", 0, "no multiboot2 header");
	default_image();
	memset(image + HEADER_OFF, 0, 32);
	set_header(0x8000, NULL, 0);
	expect_refused("a header past the first 32 KiB", 0, "no multiboot2 header");
	default_image();
	put32(image + HEADER_OFF + 12, 1);
	expect_refused("a bad checksum", 0, "checksum");
	default_image();
	put32(image + HEADER_OFF + 4, 4);
	put32(image + HEADER_OFF + 12, (uint32_t)-(0xe85250d6u + 4 + 24));
	expect_refused("architecture MIPS", 0, "not i386");
	default_image();
	put32(image + HEADER_OFF + 8, 0x9000);
	put32(image + HEADER_OFF + 12, (uint32_t)-(0xe85250d6u + 0x9000));
	expect_refused("a header longer than 32 KiB", 0, "goes past");

	/* A required framebuffer tag (type 5): refused; optional: ignored. */
	image_with_tag(5, 0, 20, NULL, 0);
	expect_refused("a required framebuffer tag", 0, "tag 5 is required");
	image_with_tag(5, 1, 20, NULL, 0);
	expect_parsed("an optional framebuffer tag", 0, &img);

	/* An information request: for what the loader gives, or optional. */
	image_with_tag(1, 0, 20, (const uint32_t[]){ 1, 6, 2 }, 3);
	expect_parsed("a required request for command line, memory map, loader name", 0, &img);
	image_with_tag(1, 0, 20, (const uint32_t[]){ 1, 6, 8 }, 3);
	expect_refused("a required request for framebuffer information", 0, "information tag 8");
	image_with_tag(1, 1, 20, (const uint32_t[]){ 1, 6, 8 }, 3);
	expect_parsed("an optional request for framebuffer information", 0, &img);

	/* The entry address tag wins over e_entry. */
	image_with_tag(3, 0, 12, (const uint32_t[]){ 0x100100 }, 1);
	expect_parsed("an entry address tag", 0, &img);
	OK(img.entry == 0x100100, "the entry is the tag's (%#x)", img.entry);

	/* A console the OS requires cannot be described. */
	image_with_tag(4, 0, 12, (const uint32_t[]){ 1 }, 1);
	expect_refused("a required console", 0, "console");

	/* A tag that runs past the header, and a header without end tag. */
	default_image();
	put32(image + HEADER_OFF + 16, 6);
	put32(image + HEADER_OFF + 20, 200);
	expect_refused("a tag past the header", 0, "beyond the header");
	default_image();
	put32(image + HEADER_OFF + 16, 6);
	put32(image + HEADER_OFF + 20, 8);
	expect_refused("no end tag", 0, "no end tag");
}

static uint8_t loader[BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR];

static void default_loader(void)
{
	for (size_t i = 0; i < sizeof(loader); i++)
		loader[i] = (uint8_t)(0x90 + i);
	put32(loader + BOOTPLAN_LOADER_ID_OFFSET, BOOTPLAN_MAGIC);
	put16(loader + BOOTPLAN_LOADER_ID_OFFSET + 4, BOOTPLAN_VERSION);
	loader[510] = 0x55;
	loader[511] = 0xaa;
}

static int build(const char *cmdline, uint8_t **disk, size_t *used, uint64_t *size,
		 struct bootdisk_error *err)
{
	struct bootdisk_image img;

	if (parse(0, &img, err))
		return -1;
	return bootdisk_build(loader, sizeof(loader), image, &img, cmdline, disk, used, size, err);
}

static void test_disk_layout(void)
{
	struct bootdisk_error err = { "" };
	uint8_t *disk = NULL, *plan, *rec, *mbi;
	size_t used = 0;
	uint64_t size = 0;
	const char *cmdline = "probe=0x5eed cmdline 'quoted' \"too\" back\\slash nonce=42";

	default_image();
	default_loader();
	if (!OK(build(cmdline, &disk, &used, &size, &err) == 0, "the default image builds"))
		printf("#   msg='%s'\n", err.msg);
	if (!disk)
		return;
	OK(!memcmp(disk, loader, sizeof(loader)), "the loader is in the first sectors");
	plan = disk + BOOTPLAN_PLAN_LBA * BOOTPLAN_SECTOR;
	OK(get32(plan + PLAN_MAGIC) == BOOTPLAN_MAGIC && get16(plan + PLAN_VERSION) == BOOTPLAN_VERSION,
	   "the plan sector follows, with its magic and version");
	OK(get16(plan + PLAN_NLOADS) == 2 && get16(plan + PLAN_NZEROS) == 1,
	   "two load records (information, segment) and one zero record");
	OK(get32(plan + PLAN_ENTRY) == 0x100020 && get32(plan + PLAN_MBI) == BOOTPLAN_MBI_ADDR,
	   "entry and information address");
	rec = plan + PLAN_RECORDS;
	OK(get32(rec + LOAD_LBA) == BOOTPLAN_PLAN_LBA + 1 && get32(rec + LOAD_DEST) == BOOTPLAN_MBI_ADDR &&
	   get32(rec + LOAD_COUNT) == get32(plan + PLAN_MBI_SIZE),
	   "the first load record puts the information below 1 MiB");
	mbi = disk + get32(rec + LOAD_LBA) * BOOTPLAN_SECTOR;
	OK(get32(mbi) == get32(plan + PLAN_MBI_SIZE) && get32(mbi + 4) == 0 &&
	   get32(plan + PLAN_MBI_SIZE) % 8 == 0, "the information: size, reserved, 8-byte multiple");
	OK(get32(mbi + 8) == 1 && get32(mbi + 12) == 8 + strlen(cmdline) + 1 &&
	   !strcmp((const char *)mbi + 16, cmdline),
	   "the command line tag holds the arguments unchanged, quotes and backslash too");
	size_t name_off = 8 + ((8 + strlen(cmdline) + 1 + 7) & ~(size_t)7);
	OK(get32(mbi + name_off) == 2 && !strcmp((const char *)mbi + name_off + 8, BOOTDISK_LOADER_NAME),
	   "the boot loader name tag follows, 8-byte aligned");

	rec += LOAD_SIZE;
	uint32_t lba = get32(rec + LOAD_LBA);
	OK(get32(rec + LOAD_DEST) == 0x100000 && get32(rec + LOAD_COUNT) == 0x1801 &&
	   lba == get32(plan + PLAN_RECORDS + LOAD_LBA) + 1,
	   "the segment's load record: its own sector after the information's");
	OK(!memcmp(disk + lba * BOOTPLAN_SECTOR, image + HEADER_OFF, 0x1801),
	   "the segment's bytes are on its sectors");
	OK(disk[lba * BOOTPLAN_SECTOR + 0x1801] == 0,
	   "the byte after an odd count is zero (the loader moves words)");
	rec += LOAD_SIZE;
	OK(get32(rec + ZERO_DEST) == 0x101801 && get32(rec + ZERO_COUNT) == 0x4000 - 0x1801,
	   "the zero record clears the bss");
	OK(used == (lba + (0x1801 + 511) / 512) * BOOTPLAN_SECTOR, "used bytes end with the segment (%zu)",
	   used);
	OK(size % CYLINDER == 0 && size >= used && size - used < CYLINDER,
	   "the disk is whole cylinders of %d x %d sectors (%llu bytes)", BOOTPLAN_HEADS,
	   BOOTPLAN_SPT, (unsigned long long)size);

	struct bootdisk_info info;
	OK(bootdisk_describe(disk, used, &info, &err) == 0 && info.cmdline_len == strlen(cmdline) &&
	   !memcmp(info.cmdline, cmdline, info.cmdline_len) && info.entry == 0x100020 &&
	   info.nloads == 2 && info.loads[1].dest == 0x100000 && info.nzeros == 1 &&
	   info.zeros[0].dest == 0x101801, "describe reads the plan and the command line back");
	OK(bootdisk_describe(disk, used - 0x1000, &info, &err) == -1 && strstr(err.msg, "past the end"),
	   "describe: a disk cut short");
	plan[PLAN_MAGIC] ^= 1;
	OK(bootdisk_describe(disk, used, &info, &err) == -1 && strstr(err.msg, "no plan"),
	   "describe: a disk without plan");
	plan[PLAN_MAGIC] ^= 1;
	disk[BOOTPLAN_LOADER_ID_OFFSET] ^= 1;
	OK(bootdisk_describe(disk, used, &info, &err) == -1 && strstr(err.msg, "plan version"),
	   "describe: another loader");
	free(disk);
}

static void test_bss_only_segment(void)
{
	struct bootdisk_error err = { "" };
	struct seg s[2] = {
		{ 1, HEADER_OFF, 0x100000, 0x100000, 0x1801, 0x1801 },
		{ 1, HEADER_OFF, 0x200000, 0x200000, 0, 0x3000 },
	};
	uint8_t *disk = NULL, *plan;
	size_t used;
	uint64_t size;

	default_image();
	default_loader();
	set_segments(s, 2);
	if (!OK(build("", &disk, &used, &size, &err) == 0, "a segment of bss alone builds"))
		printf("#   msg='%s'\n", err.msg);
	if (!disk)
		return;
	plan = disk + BOOTPLAN_PLAN_LBA * BOOTPLAN_SECTOR;
	OK(get16(plan + PLAN_NLOADS) == 2 && get16(plan + PLAN_NZEROS) == 1 &&
	   get32(plan + PLAN_RECORDS + 2 * LOAD_SIZE + ZERO_DEST) == 0x200000 &&
	   get32(plan + PLAN_RECORDS + 2 * LOAD_SIZE + ZERO_COUNT) == 0x3000,
	   "it gets a zero record and no load record; the full segment none");
	free(disk);
}

static void test_build_refused(void)
{
	struct bootdisk_error err = { "" };
	struct bootdisk_image img;
	uint8_t *disk = NULL;
	size_t used;
	uint64_t size;
	char *huge;

	default_image();
	default_loader();
	parse(0, &img, &err);
	OK(bootdisk_build(loader, sizeof(loader) - 1, image, &img, "", &disk, &used, &size, &err) == -1 &&
	   strstr(err.msg, "bytes, not"), "a loader of another size");
	loader[511] = 0;
	OK(bootdisk_build(loader, sizeof(loader), image, &img, "", &disk, &used, &size, &err) == -1 &&
	   strstr(err.msg, "boot signature"), "a loader without boot signature");
	default_loader();
	put16(loader + BOOTPLAN_LOADER_ID_OFFSET + 4, BOOTPLAN_VERSION + 1);
	OK(bootdisk_build(loader, sizeof(loader), image, &img, "", &disk, &used, &size, &err) == -1 &&
	   strstr(err.msg, "stale"), "a loader of another plan version");
	default_loader();
	huge = malloc(70000);
	memset(huge, 'a', 69999);
	huge[69999] = 0;
	OK(bootdisk_build(loader, sizeof(loader), image, &img, huge, &disk, &used, &size, &err) == -1 &&
	   strstr(err.msg, "does not fit"), "a command line too long for the information area");
	free(huge);
	OK(disk == NULL, "no disk is returned on failure");
}

int main(void)
{
	test_image_accepted();
	test_elf_refused();
	test_segments_refused();
	test_segments_accepted();
	test_header();
	test_disk_layout();
	test_bss_only_segment();
	test_build_refused();
	return tap_done();
}
