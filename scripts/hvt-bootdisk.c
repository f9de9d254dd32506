/*
 * hvt-bootdisk: the boot disk of one Bochs run on the disk path
 * (docs/bochs.md, "How a test boots"; layout: scripts/bochs/bootplan.h).
 *
 *   hvt-bootdisk --loader BIN --image ELF --output DISK [--memory MIB] [--append STR]
 *   hvt-bootdisk --show DISK
 *
 * Exit: 0 ok, 1 an input is unusable (a message names it), 2 usage.
 */
#include "bootdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test images are well below this; a larger file is not one. */
#define MAX_INPUT	(64u << 20)

static void usage(FILE *f)
{
	fputs("Usage: hvt-bootdisk --loader BIN --image ELF --output DISK [--memory MIB] [--append STR]\n"
	      "       hvt-bootdisk --show DISK\n"
	      "\n"
	      "The first form writes DISK, a flat hard disk image for Bochs: the loader BIN\n"
	      "(build/bochs/loader.bin), which the BIOS boots, and ELF (an ELF64 test image\n"
	      "with a Multiboot2 header) laid out for it, with STR as the command line. With\n"
	      "--memory, the image must fit in that much RAM. --show prints what DISK holds.\n"
	      "\n"
	      "Exit status: 0 ok, 1 an unusable input, 2 usage error.\n", f);
}

static int read_file(const char *path, const char *what, uint8_t **buf, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n;

	if (!f || fstat(fileno(f), &st)) {
		fprintf(stderr, "hvt-bootdisk: cannot read the %s %s: %s\n", what, path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_INPUT) {
		fprintf(stderr, "hvt-bootdisk: the %s %s is not a regular file of at most %u bytes\n",
			what, path, MAX_INPUT);
		fclose(f);
		return -1;
	}
	*size = (size_t)st.st_size;
	*buf = malloc(*size ? *size : 1);
	n = *buf ? fread(*buf, 1, *size, f) : 0;
	fclose(f);
	if (n != *size) {
		fprintf(stderr, "hvt-bootdisk: cannot read the %s %s\n", what, path);
		free(*buf);
		return -1;
	}
	return 0;
}

static int write_disk(const char *path, const uint8_t *disk, size_t used, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t done = 0;

	if (fd < 0) {
		fprintf(stderr, "hvt-bootdisk: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (done < used) {
		ssize_t n = write(fd, disk + done, used - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* The rest of the last cylinder stays a hole. */
	if (done != used || ftruncate(fd, (off_t)size) || close(fd)) {
		fprintf(stderr, "hvt-bootdisk: cannot write %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

static int show(const char *path)
{
	struct bootdisk_info info;
	struct bootdisk_error err;
	uint8_t *disk;
	size_t size;

	if (read_file(path, "disk", &disk, &size))
		return 1;
	if (bootdisk_describe(disk, size, &info, &err)) {
		fprintf(stderr, "hvt-bootdisk: %s: %s\n", path, err.msg);
		free(disk);
		return 1;
	}
	printf("entry %#x\ninformation %#x %u\n", info.entry, info.mbi, info.mbi_size);
	for (unsigned i = 0; i < info.nloads; i++)
		printf("load lba=%u count=%u dest=%#x\n", info.loads[i].lba, info.loads[i].count,
		       info.loads[i].dest);
	for (unsigned i = 0; i < info.nzeros; i++)
		printf("zero dest=%#x count=%u\n", info.zeros[i].dest, info.zeros[i].count);
	printf("cmdline %.*s\n", (int)info.cmdline_len, info.cmdline);
	free(disk);
	return 0;
}

int main(int argc, char **argv)
{
	const char *loader_path = NULL, *image_path = NULL, *output = NULL, *append = "";
	unsigned long long memory_mib = 0;
	struct bootdisk_image img;
	struct bootdisk_error err;
	uint8_t *loader = NULL, *elf = NULL, *disk = NULL;
	size_t loader_size, elf_size, used;
	uint64_t size;
	int rc = 1;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--show"))
		return show(argv[2]);
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!val) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(opt, "--loader")) {
			loader_path = val;
		} else if (!strcmp(opt, "--image")) {
			image_path = val;
		} else if (!strcmp(opt, "--output")) {
			output = val;
		} else if (!strcmp(opt, "--append")) {
			append = val;
		} else if (!strcmp(opt, "--memory")) {
			errno = 0;
			memory_mib = strtoull(val, &end, 10);
			if (errno || end == val || *end || !memory_mib || memory_mib > (1ull << 30)) {
				fprintf(stderr, "hvt-bootdisk: --memory needs MiB, not '%s'\n", val);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (!loader_path || !image_path || !output) {
		usage(stderr);
		return 2;
	}
	if (read_file(loader_path, "loader", &loader, &loader_size) ||
	    read_file(image_path, "image", &elf, &elf_size))
		goto out;
	if (bootdisk_check_loader(loader, loader_size, &err)) {
		fprintf(stderr, "hvt-bootdisk: %s: %s (run make)\n", loader_path, err.msg);
		goto out;
	}
	if (bootdisk_parse_image(elf, elf_size, memory_mib << 20, &img, &err)) {
		fprintf(stderr, "hvt-bootdisk: %s: %s\n", image_path, err.msg);
		goto out;
	}
	if (bootdisk_build(loader, loader_size, elf, &img, append, &disk, &used, &size, &err)) {
		fprintf(stderr, "hvt-bootdisk: %s\n", err.msg);
		goto out;
	}
	if (!write_disk(output, disk, used, size))
		rc = 0;
out:
	free(disk);
	free(elf);
	free(loader);
	return rc;
}
