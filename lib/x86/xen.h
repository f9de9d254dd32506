/**
 * @file xen.h
 * The Xen interface a guest sees from inside an HVM/PVH domain: the CPUID
 * leaves that name Xen, the hypercall page, and the few hypercalls the harness
 * and the tests use.  Numbers and layouts are those of Xen's public headers
 * (xen/include/public/: arch-x86/cpuid.h, xen.h, memory.h, domctl.h).
 *
 * Only facts of Xen's interface live here; no test verdict depends on
 * whether Xen is present, except in the tests that are about Xen itself.
 */
#ifndef HVT_X86_XEN_H
#define HVT_X86_XEN_H

#include "libhvt.h"

/* Hypercall numbers (public/xen.h). */
#define XEN_HYPERCALL_MEMORY_OP		12
#define XEN_HYPERCALL_XEN_VERSION	17
#define XEN_HYPERCALL_SYSCTL		35
#define XEN_HYPERCALL_DOMCTL		36

/* memory_op sub-commands (public/memory.h). */
#define XENMEM_MAXIMUM_RAM_PAGE		2	/* the host's highest RAM frame + 1 */
#define XENMEM_MEMORY_MAP		9	/* this domain's pseudo-physical map */
#define XENMEM_MACHINE_MEMORY_MAP	10	/* the host's map (privileged domains) */

/* Domain ids (public/xen.h). */
#define XEN_DOMID_SELF			0x7ff0

/* Errno values Xen returns, negated (public/errno.h). */
#define XEN_EPERM	1
#define XEN_ENOENT	2
#define XEN_EFAULT	14
#define XEN_EINVAL	22
#define XEN_ENOSYS	38
#define XEN_EACCES	13

/* What the guest learnt about Xen. */
struct xen_info {
	uint32_t cpuid_base;	/**< leaf holding "XenVMMXenVMM"; 0 when Xen is absent */
	uint32_t cpuid_max;	/**< highest Xen leaf */
	uint16_t major, minor;	/**< Xen's version, CPUID base+1 EAX */
	bool hypercalls;	/**< the hypercall page is filled in */
};

extern struct xen_info xen_info;

/** An E820 entry as Xen hands them out (public/arch-x86/xen.h: packed, 20 bytes). */
struct xen_e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __packed;

#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2
#define E820_TYPE_ACPI		3
#define E820_TYPE_NVS		4
#define E820_TYPE_UNUSABLE	5

/**
 * Looks for Xen's CPUID leaves (0x40000000 up to 0x40010000 in steps of
 * 0x100; Xen moves to 0x40000100 when it also offers Viridian) and fills
 * xen_info.  Needs nothing but CPUID, so it works at any point of boot.
 * @return true when Xen is there.
 */
bool xen_detect(void);

/**
 * Asks Xen to fill the hypercall page: the MSR that CPUID base+2 names in
 * EBX receives the page's guest-physical address.  The page is part of the
 * image, so the identity map of entry.S covers it.
 * @return NULL, or why hypercalls are unavailable.
 */
const char *xen_hypercall_setup(void);

/** Calls hypercall @op with up to five arguments; returns Xen's RAX (a -errno on failure). */
long xen_hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5);

/**
 * XENMEM_memory_map or XENMEM_machine_memory_map (@cmd): up to *@count
 * entries into @map; *@count becomes the number stored.
 * @return 0 or a -errno from Xen.
 */
long xen_memory_map(unsigned cmd, struct xen_e820_entry *map, unsigned *count);

/**
 * XEN_DOMCTL_memory_mapping on this domain: adds (@add) or removes the
 * mapping of @nr frames at guest frame @gfn to machine frame @mfn.
 * @return 0 or a -errno from Xen (-EACCES: no domctl ABI version matched).
 */
long xen_domctl_memory_mapping(uint64_t gfn, uint64_t mfn, uint64_t nr, bool add);

/**
 * XEN_SYSCTL_readconsole: the start of Xen's console ring (what Xen printed,
 * also before its serial console was up) into @buf, NUL-terminated.
 * @return the bytes read, or a -errno from Xen.
 */
long xen_console_read(char *buf, unsigned size);

/** Xen's name of a -errno value ("EPERM"), or "?" */
const char *xen_errno_name(long rc);

/**
 * Describes the hypervisor that CPUID names, for an info line:
 * "Xen 4.20 (CPUID 0x40000000)", "'KVMKVMKVM' (CPUID 0x40000000)", or
 * NULL when CPUID names none.
 */
const char *hypervisor_describe(void);

#endif
