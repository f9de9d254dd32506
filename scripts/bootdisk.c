/*
 * The boot disk of the Bochs disk path; see bootdisk.h and
 * scripts/bochs/bootplan.h.
 */
#include "bootdisk.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bochs/bootplan.h"

/* ELF (System V ABI, ELF-64 Object File Format 1.5). */
#define EHDR_SIZE	64
#define PHDR_SIZE	56
#define ET_EXEC		2
#define EM_X86_64	62
#define PT_LOAD		1

/* Multiboot2 specification 3.1. */
#define MB2_HEADER_MAGIC	0xe85250d6u
#define MB2_ARCH_I386		0
#define MB2_HEADER_TAG_OPTIONAL	1
#define MB2_HTAG_END		0
#define MB2_HTAG_INFO_REQUEST	1
#define MB2_HTAG_ENTRY		3
#define MB2_HTAG_CONSOLE	4
#define MB2_HTAG_MODULE_ALIGN	6
#define MB2_CONSOLE_REQUIRED	1
/* Information tags (3.6) that the disk loader gives. */
#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_MMAP		6

#define MIB			(1ull << 20)
#define GIB			(1ull << 30)
#define CYLINDER_BYTES		((uint64_t)BOOTPLAN_HEADS * BOOTPLAN_SPT * BOOTPLAN_SECTOR)
/* What the loader appends to the information: the map tag's header, its entries, the end tag. */
#define MBI_APPENDED		(16 + 24 * BOOTPLAN_MMAP_MAX + 8)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static int fail(struct bootdisk_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct bootdisk_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t sectors_of(uint64_t bytes)
{
	return (bytes + BOOTPLAN_SECTOR - 1) / BOOTPLAN_SECTOR;
}

/* The information tags the loader gives: what a required information request may ask for. */
static bool loader_gives(uint32_t type)
{
	return type == MB2_TAG_CMDLINE || type == MB2_TAG_LOADER_NAME || type == MB2_TAG_MMAP;
}

/* The header's tags (3.1.3 to 3.1.13); an entry address tag sets *ENTRY and *HAS_ENTRY. */
static int check_header_tags(const uint8_t *p, uint32_t len, uint32_t *entry, bool *has_entry,
			     struct bootdisk_error *err)
{
	uint32_t off = 16;

	while (off + 8 <= len) {
		uint16_t type = rd16(p + off), flags = rd16(p + off + 2);
		uint32_t size = rd32(p + off + 4);
		bool optional = flags & MB2_HEADER_TAG_OPTIONAL;

		if (size < 8 || size > len - off)
			return fail(err, "multiboot2 header: tag %u at +%u has size %u, beyond the header",
				    type, off, size);
		switch (type) {
		case MB2_HTAG_END:
			if (size != 8)
				return fail(err, "multiboot2 header: end tag of size %u", size);
			return 0;
		case MB2_HTAG_INFO_REQUEST:
			for (uint32_t i = 8; i + 4 <= size; i += 4) {
				uint32_t want = rd32(p + off + i);

				if (!optional && !loader_gives(want))
					return fail(err, "multiboot2 header requires information tag %u, "
						    "which the disk loader does not give", want);
			}
			break;
		case MB2_HTAG_ENTRY:
			if (size < 12)
				return fail(err, "multiboot2 header: entry address tag of size %u", size);
			*entry = rd32(p + off + 8);
			*has_entry = true;
			break;
		case MB2_HTAG_CONSOLE:
			if (size >= 12 && !optional && (rd32(p + off + 8) & MB2_CONSOLE_REQUIRED))
				return fail(err, "multiboot2 header requires a console, "
					    "which the disk loader does not describe");
			break;
		case MB2_HTAG_MODULE_ALIGN:
			break;	/* no modules */
		default:
			if (!optional)
				return fail(err, "multiboot2 header tag %u is required and not supported "
					    "by the disk loader", type);
			break;
		}
		off += (size + 7) & ~7u;
	}
	return fail(err, "multiboot2 header: no end tag");
}

/* Finds and checks the Multiboot2 header (3.1.1, 3.1.2). */
static int check_multiboot2(const uint8_t *elf, size_t size, uint32_t *entry, bool *has_entry,
			    struct bootdisk_error *err)
{
	size_t limit = size < BOOTDISK_MB2_SEARCH ? size : BOOTDISK_MB2_SEARCH;

	for (size_t off = 0; off + 16 <= limit; off += 8) {
		const uint8_t *p = elf + off;
		uint32_t arch, len;

		if (rd32(p) != MB2_HEADER_MAGIC)
			continue;
		arch = rd32(p + 4);
		len = rd32(p + 8);
		if ((uint32_t)(rd32(p) + arch + len + rd32(p + 12)) != 0)
			return fail(err, "multiboot2 header at +%zu: bad checksum", off);
		if (arch != MB2_ARCH_I386)
			return fail(err, "multiboot2 header at +%zu: architecture %u, not i386", off, arch);
		if (len < 16 || len > limit - off)
			return fail(err, "multiboot2 header at +%zu: length %u goes past the first %d bytes",
				    off, len, BOOTDISK_MB2_SEARCH);
		return check_header_tags(p, len, entry, has_entry, err);
	}
	return fail(err, "no multiboot2 header in the first %d bytes", BOOTDISK_MB2_SEARCH);
}

static void sort_segments(struct bootdisk_image *img)
{
	for (unsigned i = 1; i < img->nsegments; i++)
		for (unsigned j = i; j > 0 && img->seg[j].paddr < img->seg[j - 1].paddr; j--) {
			struct bootdisk_segment t = img->seg[j];

			img->seg[j] = img->seg[j - 1];
			img->seg[j - 1] = t;
		}
}

int bootdisk_parse_image(const uint8_t *elf, size_t size, uint64_t ram_bytes,
			 struct bootdisk_image *img, struct bootdisk_error *err)
{
	uint64_t phoff, e_entry, limit = 4 * GIB, entry_paddr = 0;
	unsigned phnum;
	uint32_t header_entry = 0;
	bool has_header_entry = false, entry_found = false;

	memset(img, 0, sizeof(*img));
	if (size < EHDR_SIZE || memcmp(elf, "\177ELF", 4))
		return fail(err, "not an ELF file");
	if (elf[4] != 2 || elf[5] != 1 || elf[6] != 1)
		return fail(err, "not a little-endian ELF64 file (class %u, data %u, version %u)",
			    elf[4], elf[5], elf[6]);
	if (rd16(elf + 16) != ET_EXEC || rd16(elf + 18) != EM_X86_64)
		return fail(err, "not an x86-64 executable (type %u, machine %u)", rd16(elf + 16),
			    rd16(elf + 18));
	e_entry = rd64(elf + 24);
	phoff = rd64(elf + 32);
	phnum = rd16(elf + 56);
	if (rd16(elf + 54) != PHDR_SIZE)
		return fail(err, "program header entries of %u bytes, not %d", rd16(elf + 54), PHDR_SIZE);
	if (phoff > size || (uint64_t)phnum * PHDR_SIZE > size - phoff)
		return fail(err, "program headers past the end of the file");
	if (check_multiboot2(elf, size, &header_entry, &has_header_entry, err))
		return -1;
	if (ram_bytes && ram_bytes < limit)
		limit = ram_bytes;

	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = elf + phoff + (uint64_t)i * PHDR_SIZE;
		uint64_t vaddr = rd64(ph + 16);
		struct bootdisk_segment s = {
			.offset = rd64(ph + 8), .paddr = rd64(ph + 24),
			.filesz = rd64(ph + 32), .memsz = rd64(ph + 40),
		};

		if (rd32(ph) != PT_LOAD || !s.memsz)
			continue;
		if (s.filesz > s.memsz)
			return fail(err, "segment %u: file size %#llx above its memory size %#llx", i,
				    (unsigned long long)s.filesz, (unsigned long long)s.memsz);
		if (s.offset > size || s.filesz > size - s.offset)
			return fail(err, "segment %u: its bytes go past the end of the file", i);
		if (s.paddr < MIB)
			return fail(err, "segment %u at %#llx: below 1 MiB (the BIOS's and the loader's)",
				    i, (unsigned long long)s.paddr);
		if (s.paddr >= limit || s.memsz > limit - s.paddr)
			return fail(err, "segment %u at %#llx (%#llx bytes) does not fit below %#llx (%s)",
				    i, (unsigned long long)s.paddr, (unsigned long long)s.memsz,
				    (unsigned long long)limit, limit == 4 * GIB ? "4 GiB" : "the RAM");
		if (img->nsegments == BOOTDISK_MAX_SEGMENTS)
			return fail(err, "more than %d loadable segments", BOOTDISK_MAX_SEGMENTS);
		if (e_entry >= vaddr && e_entry - vaddr < s.memsz) {
			entry_paddr = s.paddr + (e_entry - vaddr);
			entry_found = true;
		}
		img->seg[img->nsegments++] = s;
	}
	if (!img->nsegments)
		return fail(err, "no loadable segment");
	sort_segments(img);
	for (unsigned i = 1; i < img->nsegments; i++)
		if (img->seg[i].paddr < img->seg[i - 1].paddr + img->seg[i - 1].memsz)
			return fail(err, "segments at %#llx and %#llx overlap",
				    (unsigned long long)img->seg[i - 1].paddr,
				    (unsigned long long)img->seg[i].paddr);
	if (has_header_entry) {
		img->entry = header_entry;
	} else if (entry_found) {
		img->entry = (uint32_t)entry_paddr;
	} else {
		return fail(err, "the entry point %#llx is in no loadable segment",
			    (unsigned long long)e_entry);
	}
	return 0;
}

/* Appends a string tag at *OFF of MBI; the tags are 8-byte aligned (3.6). */
static void put_string_tag(uint8_t *mbi, size_t *off, uint32_t type, const char *s, size_t len)
{
	wr32(mbi + *off, type);
	wr32(mbi + *off + 4, (uint32_t)(8 + len + 1));
	memcpy(mbi + *off + 8, s, len);
	mbi[*off + 8 + len] = 0;
	*off += (8 + len + 1 + 7) & ~(size_t)7;
}

int bootdisk_check_loader(const uint8_t *loader, size_t size, struct bootdisk_error *err)
{
	if (size != BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR)
		return fail(err, "the loader has %zu bytes, not %d", size,
			    BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR);
	if (loader[510] != 0x55 || loader[511] != 0xaa)
		return fail(err, "the loader has no boot signature");
	if (rd32(loader + BOOTPLAN_LOADER_ID_OFFSET) != BOOTPLAN_MAGIC ||
	    rd16(loader + BOOTPLAN_LOADER_ID_OFFSET + 4) != BOOTPLAN_VERSION)
		return fail(err, "the loader is not of plan version %d (a stale build?)",
			    BOOTPLAN_VERSION);
	return 0;
}

int bootdisk_build(const uint8_t *loader, size_t loader_size, const uint8_t *elf,
		   const struct bootdisk_image *img, const char *cmdline, uint8_t **disk,
		   size_t *used, uint64_t *size, struct bootdisk_error *err)
{
	size_t cmdline_len = strlen(cmdline), name_len = strlen(BOOTDISK_LOADER_NAME);
	size_t mbi_size = 8 + ((8 + cmdline_len + 1 + 7) & ~(size_t)7) +
			  ((8 + name_len + 1 + 7) & ~(size_t)7);
	size_t off, nloads = 0, nzeros = 0;
	uint64_t lba = BOOTPLAN_PLAN_LBA + 1, bytes;
	uint8_t *d, *plan, *rec;

	*disk = NULL;
	if (bootdisk_check_loader(loader, loader_size, err))
		return -1;
	if (mbi_size + MBI_APPENDED > 0x10000 ||
	    BOOTPLAN_MBI_ADDR + mbi_size + MBI_APPENDED > BOOTPLAN_MBI_END)
		return fail(err, "the command line (%zu bytes) does not fit in the loader's "
			    "Multiboot2 information", cmdline_len);

	/* The sectors: the information first (below 1 MiB), then the segments upwards. */
	uint64_t first_lba[BOOTDISK_MAX_SEGMENTS + 1];

	first_lba[0] = lba;
	lba += sectors_of(mbi_size);
	for (unsigned i = 0; i < img->nsegments; i++) {
		first_lba[i + 1] = lba;
		lba += sectors_of(img->seg[i].filesz);
	}
	if (lba > UINT32_MAX || lba * BOOTPLAN_SECTOR > SIZE_MAX)
		return fail(err, "the image is too large for a disk");
	bytes = lba * BOOTPLAN_SECTOR;
	d = calloc(1, (size_t)bytes);
	if (!d)
		return fail(err, "out of memory for a disk of %llu bytes", (unsigned long long)bytes);

	memcpy(d, loader, loader_size);
	plan = d + BOOTPLAN_PLAN_LBA * BOOTPLAN_SECTOR;
	rec = plan + PLAN_RECORDS;
	wr32(rec + LOAD_LBA, (uint32_t)first_lba[0]);
	wr32(rec + LOAD_COUNT, (uint32_t)mbi_size);
	wr32(rec + LOAD_DEST, BOOTPLAN_MBI_ADDR);
	rec += LOAD_SIZE;
	nloads++;
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct bootdisk_segment *s = &img->seg[i];

		if (!s->filesz)
			continue;
		wr32(rec + LOAD_LBA, (uint32_t)first_lba[i + 1]);
		wr32(rec + LOAD_COUNT, (uint32_t)s->filesz);
		wr32(rec + LOAD_DEST, (uint32_t)s->paddr);
		memcpy(d + first_lba[i + 1] * BOOTPLAN_SECTOR, elf + s->offset, (size_t)s->filesz);
		rec += LOAD_SIZE;
		nloads++;
	}
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct bootdisk_segment *s = &img->seg[i];

		if (s->memsz == s->filesz)
			continue;
		wr32(rec + ZERO_DEST, (uint32_t)(s->paddr + s->filesz));
		wr32(rec + ZERO_COUNT, (uint32_t)(s->memsz - s->filesz));
		rec += ZERO_SIZE;
		nzeros++;
	}
	/* BOOTDISK_MAX_SEGMENTS keeps the records well inside the sector. */
	wr32(plan + PLAN_MAGIC, BOOTPLAN_MAGIC);
	wr16(plan + PLAN_VERSION, BOOTPLAN_VERSION);
	wr16(plan + PLAN_NLOADS, (uint16_t)nloads);
	wr16(plan + PLAN_NZEROS, (uint16_t)nzeros);
	wr32(plan + PLAN_ENTRY, img->entry);
	wr32(plan + PLAN_MBI, BOOTPLAN_MBI_ADDR);
	wr32(plan + PLAN_MBI_SIZE, (uint32_t)mbi_size);

	/* The information: total size and reserved (the loader sets the total), then the tags. */
	uint8_t *mbi = d + first_lba[0] * BOOTPLAN_SECTOR;

	wr32(mbi, (uint32_t)mbi_size);
	off = 8;
	put_string_tag(mbi, &off, MB2_TAG_CMDLINE, cmdline, cmdline_len);
	put_string_tag(mbi, &off, MB2_TAG_LOADER_NAME, BOOTDISK_LOADER_NAME, name_len);

	*disk = d;
	*used = (size_t)bytes;
	*size = (bytes + CYLINDER_BYTES - 1) / CYLINDER_BYTES * CYLINDER_BYTES;
	return 0;
}

int bootdisk_describe(const uint8_t *disk, size_t size, struct bootdisk_info *info,
		      struct bootdisk_error *err)
{
	const uint8_t *plan = disk + BOOTPLAN_PLAN_LBA * BOOTPLAN_SECTOR, *rec, *mbi = NULL;

	memset(info, 0, sizeof(*info));
	if (size < (BOOTPLAN_PLAN_LBA + 1) * BOOTPLAN_SECTOR)
		return fail(err, "too short for a boot disk (%zu bytes)", size);
	if (bootdisk_check_loader(disk, BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR, err))
		return -1;
	if (rd32(plan + PLAN_MAGIC) != BOOTPLAN_MAGIC || rd16(plan + PLAN_VERSION) != BOOTPLAN_VERSION)
		return fail(err, "no plan of version %d", BOOTPLAN_VERSION);
	info->nloads = rd16(plan + PLAN_NLOADS);
	info->nzeros = rd16(plan + PLAN_NZEROS);
	if (info->nloads > BOOTDISK_MAX_SEGMENTS + 1 || info->nzeros > BOOTDISK_MAX_SEGMENTS)
		return fail(err, "the plan has %u load and %u zero records", info->nloads, info->nzeros);
	info->entry = rd32(plan + PLAN_ENTRY);
	info->mbi = rd32(plan + PLAN_MBI);
	info->mbi_size = rd32(plan + PLAN_MBI_SIZE);
	rec = plan + PLAN_RECORDS;
	for (unsigned i = 0; i < info->nloads; i++, rec += LOAD_SIZE) {
		struct bootdisk_record *r = &info->loads[i];

		r->lba = rd32(rec + LOAD_LBA);
		r->count = rd32(rec + LOAD_COUNT);
		r->dest = rd32(rec + LOAD_DEST);
		if ((uint64_t)r->lba * BOOTPLAN_SECTOR > size ||
		    r->count > size - (uint64_t)r->lba * BOOTPLAN_SECTOR)
			return fail(err, "load record %u goes past the end of the disk", i);
		if (r->dest == info->mbi && r->count == info->mbi_size)
			mbi = disk + (size_t)r->lba * BOOTPLAN_SECTOR;
	}
	for (unsigned i = 0; i < info->nzeros; i++, rec += ZERO_SIZE) {
		info->zeros[i].dest = rd32(rec + ZERO_DEST);
		info->zeros[i].count = rd32(rec + ZERO_COUNT);
	}
	if (!mbi || info->mbi_size < 8)
		return fail(err, "no load record holds the Multiboot2 information");
	for (size_t off = 8; off + 8 <= info->mbi_size;) {
		uint32_t type = rd32(mbi + off), tsize = rd32(mbi + off + 4);

		if (tsize < 8 || tsize > info->mbi_size - off)
			return fail(err, "information tag %u at +%zu has size %u", type, off, tsize);
		if (type == MB2_TAG_CMDLINE) {
			const char *s = (const char *)mbi + off + 8;
			const char *nul = memchr(s, 0, tsize - 8);

			if (!nul)
				return fail(err, "the command line tag has no NUL");
			info->cmdline = s;
			info->cmdline_len = (size_t)(nul - s);
			return 0;
		}
		off += (tsize + 7) & ~(size_t)7;
	}
	return fail(err, "the information has no command line tag");
}
