/*
 * hvt-kvm-probe: can this host run a KVM guest, and what nested features can
 * KVM offer to it?
 *
 *   hvt-kvm-probe              exit 0 if /dev/kvm works, else 1 with a reason
 *   hvt-kvm-probe --features   also print the features, one per line, from:
 *                              svm npt vmx ept x2apic
 *
 * The features come from what KVM itself says it can expose to a guest
 * (KVM_GET_SUPPORTED_CPUID and the VMX feature MSRs), not from the host's own
 * CPUID: a host with VMX but without nested=1 offers no VMX to its guests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_DEVICE		"/dev/kvm"
#define KVM_EXPECTED_API	12
#define MSR_VMX_PROCBASED_CTLS	0x482
#define MSR_VMX_PROCBASED_CTLS2	0x48b
#define PROCBASED_SECONDARY	(1u << 31)	/* activate secondary controls */
#define SECONDARY_EPT		(1u << 1)	/* enable EPT */

static void usage(FILE *f)
{
	fputs("Usage: hvt-kvm-probe [--features]\n"
	      "\n"
	      "Exit 0 if " KVM_DEVICE " can create a VM, else 1 with the reason on stderr.\n"
	      "With --features, print the nested features KVM offers to a guest, one per\n"
	      "line, from: svm npt vmx ept x2apic.\n", f);
}

static int ioctl_retry(int fd, unsigned long req, void *arg)
{
	int rc;

	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Open /dev/kvm and check that a VM can be created. Returns the fd or -1. */
static int open_kvm(void)
{
	int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, KVM_DEVICE " does not exist (no KVM module or no hardware virtualization)\n");
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "cannot open " KVM_DEVICE ": permission denied (is the user in group kvm?)\n");
		else
			fprintf(stderr, "cannot open " KVM_DEVICE ": %s\n", strerror(errno));
		return -1;
	}

	int api = ioctl_retry(fd, KVM_GET_API_VERSION, NULL);
	if (api != KVM_EXPECTED_API) {
		if (api < 0)
			fprintf(stderr, "KVM_GET_API_VERSION failed: %s\n", strerror(errno));
		else
			fprintf(stderr, "KVM API version %d, expected %d\n", api,
				KVM_EXPECTED_API);
		close(fd);
		return -1;
	}

	int vm = ioctl(fd, KVM_CREATE_VM, 0UL);
	if (vm < 0) {
		fprintf(stderr, "KVM_CREATE_VM failed: %s%s\n", strerror(errno),
			errno == EBUSY ? " (another hypervisor holds the virtualization extensions?)" : "");
		close(fd);
		return -1;
	}
	close(vm);
	return fd;
}

/* KVM's supported CPUID table, grown until it fits. NULL on failure. */
static struct kvm_cpuid2 *supported_cpuid(int fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl_retry(fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c,
					   uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

static bool cpuid_bit(const struct kvm_cpuid2 *c, uint32_t function, char reg,
		      unsigned bit)
{
	const struct kvm_cpuid_entry2 *e = leaf(c, function, 0);

	if (!e)
		return false;
	uint32_t v = reg == 'c' ? e->ecx : reg == 'd' ? e->edx : e->ebx;
	return (v >> bit) & 1;
}

/* A feature MSR as KVM would offer it to a guest (system ioctl). */
static bool feature_msr(int fd, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} m;

	if (ioctl_retry(fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_GET_MSR_FEATURES) <= 0)
		return false;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.entry.index = index;
	if (ioctl_retry(fd, KVM_GET_MSRS, &m) != 1)
		return false;
	*value = m.entry.data;
	return true;
}

static bool sysfs_yes(const char *path)
{
	FILE *f = fopen(path, "r");
	int c;

	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

/* EPT for a nested guest: the allowed-1 half of the secondary controls. */
static bool nested_ept(int fd)
{
	uint64_t proc, proc2;

	if (feature_msr(fd, MSR_VMX_PROCBASED_CTLS, &proc)) {
		if (!((proc >> 32) & PROCBASED_SECONDARY))
			return false;
		if (feature_msr(fd, MSR_VMX_PROCBASED_CTLS2, &proc2))
			return (proc2 >> 32) & SECONDARY_EPT;
	}
	/* Older kernels without feature MSRs: nested EPT follows the host's. */
	return sysfs_yes("/sys/module/kvm_intel/parameters/ept");
}

static int print_features(int fd)
{
	struct kvm_cpuid2 *c = supported_cpuid(fd);

	if (!c) {
		fprintf(stderr, "KVM_GET_SUPPORTED_CPUID failed: %s\n", strerror(errno));
		return 1;
	}
	bool svm = cpuid_bit(c, 0x80000001, 'c', 2);
	bool vmx = cpuid_bit(c, 1, 'c', 5);

	if (svm)
		puts("svm");
	if (svm && cpuid_bit(c, 0x8000000a, 'd', 0))
		puts("npt");
	if (vmx)
		puts("vmx");
	if (vmx && nested_ept(fd))
		puts("ept");
	if (cpuid_bit(c, 1, 'c', 21))
		puts("x2apic");
	free(c);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool features = false;
	int fd, rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--features")) {
			features = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "hvt-kvm-probe: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	fd = open_kvm();
	if (fd < 0)
		return 1;
	if (features)
		rc = print_features(fd);
	close(fd);
	return rc;
}
