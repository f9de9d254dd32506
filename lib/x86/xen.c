/*
 * Xen's guest interface for an HVM/PVH domain: CPUID detection, the
 * hypercall page, XENMEM_memory_map, XEN_DOMCTL_memory_mapping and
 * XEN_SYSCTL_readconsole.  Layouts and numbers: Xen's public headers
 * (public/arch-x86/cpuid.h, public/xen.h, public/memory.h, public/domctl.h,
 * public/sysctl.h).
 */
#include "processor.h"
#include "xen.h"

/* CPUID leaves, relative to the base (public/arch-x86/cpuid.h). */
#define XEN_CPUID_LEAF_VERSION		1	/* EAX = major << 16 | minor */
#define XEN_CPUID_LEAF_HYPERCALL	2	/* EAX = pages, EBX = MSR */
#define XEN_CPUID_LEAF_HVM		4	/* EAX flags, ECX = domain id */
#define XEN_HVM_CPUID_DOMID_PRESENT	BIT(4)

#define XEN_SIGNATURE_EBX 0x566e6558	/* "XenV" */
#define XEN_SIGNATURE_ECX 0x65584d4d	/* "MMXe" */
#define XEN_SIGNATURE_EDX 0x4d4d566e	/* "nVMM" */

/* Xen puts its leaves at 0x40000000, or 0x40000100 behind Viridian's. */
#define HV_LEAF_FIRST	0x40000000u
#define HV_LEAF_LAST	0x40010000u
#define HV_LEAF_STEP	0x100u

/* CPUID.1:ECX[31] is reserved for hypervisors to say they are there. */
#define CPUID_1_ECX_HYPERVISOR	BIT(31)

/* Each hypercall has a 32-byte stub in the page (public/xen.h, "hypercall_page"). */
#define XEN_HYPERCALL_STUB_SIZE	32

/* XEN_SYSCTL commands (public/sysctl.h). */
#define XEN_SYSCTL_READCONSOLE		1

/* XEN_DOMCTL commands (public/domctl.h). */
#define XEN_DOMCTL_GETDOMAININFO	5
#define XEN_DOMCTL_MEMORY_MAPPING	39

struct xen_info xen_info;

static uint8_t hypercall_page[4096] __aligned(4096);

bool xen_detect(void)
{
	if (!(cpuid(1).c & CPUID_1_ECX_HYPERVISOR))
		return false;
	for (uint32_t leaf = HV_LEAF_FIRST; leaf <= HV_LEAF_LAST; leaf += HV_LEAF_STEP) {
		struct cpuid r = cpuid(leaf);

		if (r.b != XEN_SIGNATURE_EBX || r.c != XEN_SIGNATURE_ECX || r.d != XEN_SIGNATURE_EDX)
			continue;
		/* Xen reports at least leaves base+0..base+2 (public/arch-x86/cpuid.h). */
		if (r.a < leaf + XEN_CPUID_LEAF_HYPERCALL)
			continue;
		xen_info.cpuid_base = leaf;
		xen_info.cpuid_max = r.a;
		r = cpuid(leaf + XEN_CPUID_LEAF_VERSION);
		xen_info.major = r.a >> 16;
		xen_info.minor = r.a & 0xffff;
		return true;
	}
	return false;
}

const char *xen_hypercall_setup(void)
{
	struct cpuid r;

	if (xen_info.hypercalls)
		return NULL;
	if (!xen_info.cpuid_base && !xen_detect())
		return "no Xen CPUID leaves";
	r = cpuid(xen_info.cpuid_base + XEN_CPUID_LEAF_HYPERCALL);
	if (r.a < 1)
		return "Xen offers no hypercall page (CPUID base+2 EAX = 0)";
	/* Page index 0 in bits 11:0; the identity map makes the address physical. */
	wrmsr(r.b, (uint64_t)hypercall_page);
	/*
	 * Xen writes a MOV to EAX as the stub's first byte (0xb8); zeroed .bss
	 * means "not filled".  Xen wrote it, not C: read it as volatile.
	 */
	if (*(volatile uint8_t *)hypercall_page == 0)
		return "Xen did not fill the hypercall page";
	xen_info.hypercalls = true;
	return NULL;
}

long xen_hypercall(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5)
{
	/* 64-bit HVM guests pass arguments in RDI, RSI, RDX, R10, R8 (public/arch-x86/xen-x86_64.h). */
	register uint64_t r10 asm("r10") = a4;
	register uint64_t r8 asm("r8") = a5;
	long ret;

	if (!xen_info.hypercalls)
		return -XEN_ENOSYS;
	/* Debug builds of Xen poison the argument registers: all are outputs. */
	asm volatile("call *%[stub]"
		     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
		     : [stub] "r"(hypercall_page + op * XEN_HYPERCALL_STUB_SIZE)
		     : "memory", "rcx", "r9", "r11");
	return ret;
}

/* public/memory.h: struct xen_memory_map; the guest handle is a 64-bit pointer. */
struct xen_memory_map_arg {
	uint32_t nr_entries;
	uint32_t pad;
	uint64_t buffer;
};

long xen_memory_map(unsigned cmd, struct xen_e820_entry *map, unsigned *count)
{
	struct xen_memory_map_arg arg = { .nr_entries = *count, .buffer = (uint64_t)map };
	long rc = xen_hypercall(XEN_HYPERCALL_MEMORY_OP, cmd, (uint64_t)&arg, 0, 0, 0);

	*count = rc ? 0 : arg.nr_entries;
	return rc;
}

/* public/domctl.h: struct xen_domctl, with the union as 128 bytes. */
struct xen_domctl {
	uint32_t cmd;
	uint32_t interface_version;
	uint16_t domain;
	uint16_t pad[3];
	union {
		struct {
			uint64_t first_gfn, first_mfn, nr_mfns;
			uint32_t add_mapping, padding;
		} memory_mapping;
		uint8_t raw[128];
	} u;
};

_Static_assert(sizeof(struct xen_domctl) == 144, "struct xen_domctl is 144 bytes");

/*
 * Xen refuses a domctl whose interface_version is not its own with -EACCES
 * before looking at anything else (common/domctl.c, do_domctl), and the
 * version changes between releases (public/domctl.h XEN_DOMCTL_INTERFACE_VERSION:
 * 0x15 in 4.17, 0x16 in 4.18, 0x17 from 4.19).  Probe it with a harmless getdomaininfo.
 */
static uint32_t domctl_version;

static uint16_t own_domain_id(void)
{
	struct cpuid r;

	if (xen_info.cpuid_max >= xen_info.cpuid_base + XEN_CPUID_LEAF_HVM) {
		r = cpuid_count(xen_info.cpuid_base + XEN_CPUID_LEAF_HVM, 0);
		if (r.a & XEN_HVM_CPUID_DOMID_PRESENT)
			return r.c;
	}
	return 0;	/* the initial domain */
}

static long domctl(struct xen_domctl *op)
{
	static const uint32_t versions[] = { 0x17, 0x16, 0x15, 0x18, 0x19, 0x14, 0x13 };

	op->domain = own_domain_id();
	if (!domctl_version) {
		struct xen_domctl probe;

		for (size_t i = 0; i < ARRAY_SIZE(versions) && !domctl_version; i++) {
			memset(&probe, 0, sizeof(probe));
			probe.cmd = XEN_DOMCTL_GETDOMAININFO;
			probe.interface_version = versions[i];
			probe.domain = op->domain;
			if (xen_hypercall(XEN_HYPERCALL_DOMCTL, (uint64_t)&probe, 0, 0, 0, 0) !=
			    -XEN_EACCES)
				domctl_version = versions[i];
		}
		if (!domctl_version)
			return -XEN_EACCES;
	}
	op->interface_version = domctl_version;
	return xen_hypercall(XEN_HYPERCALL_DOMCTL, (uint64_t)op, 0, 0, 0, 0);
}

long xen_domctl_memory_mapping(uint64_t gfn, uint64_t mfn, uint64_t nr, bool add)
{
	struct xen_domctl op;

	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_MEMORY_MAPPING;
	op.u.memory_mapping.first_gfn = gfn;
	op.u.memory_mapping.first_mfn = mfn;
	op.u.memory_mapping.nr_mfns = nr;
	op.u.memory_mapping.add_mapping = add;
	return domctl(&op);
}

/* public/sysctl.h: struct xen_sysctl, with the union as 128 bytes. */
struct xen_sysctl {
	uint32_t cmd;
	uint32_t interface_version;
	union {
		struct {
			uint8_t clear, incremental, pad0, pad1;
			uint32_t index;
			uint64_t buffer;
			uint32_t count;
		} readconsole;
		uint8_t raw[128];
	} u;
};

_Static_assert(sizeof(struct xen_sysctl) == 136, "struct xen_sysctl is 136 bytes");

long xen_console_read(char *buf, unsigned size)
{
	/* Like domctl's, the sysctl ABI version is checked first (-EACCES); 0x15 in 4.17..4.20. */
	static const uint32_t versions[] = { 0x15, 0x16, 0x14, 0x17, 0x13 };
	struct xen_sysctl op;
	long rc = -XEN_EACCES;

	if (!size)
		return -XEN_EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(versions) && rc == -XEN_EACCES; i++) {
		memset(&op, 0, sizeof(op));
		op.cmd = XEN_SYSCTL_READCONSOLE;
		op.interface_version = versions[i];
		op.u.readconsole.buffer = (uint64_t)buf;
		op.u.readconsole.count = size - 1;
		rc = xen_hypercall(XEN_HYPERCALL_SYSCTL, (uint64_t)&op, 0, 0, 0, 0);
	}
	if (rc) {
		buf[0] = 0;
		return rc;
	}
	buf[MIN(op.u.readconsole.count, size - 1)] = 0;
	return op.u.readconsole.count;
}

const char *xen_errno_name(long rc)
{
	switch (-rc) {
	case 0: return "0";
	case XEN_EPERM: return "EPERM";
	case XEN_ENOENT: return "ENOENT";
	case XEN_EACCES: return "EACCES";
	case XEN_EFAULT: return "EFAULT";
	case XEN_EINVAL: return "EINVAL";
	case XEN_ENOSYS: return "ENOSYS";
	default: return "?";
	}
}

const char *hypervisor_describe(void)
{
	static char text[64];
	struct cpuid r;
	char sig[13];

	if (xen_info.cpuid_base || xen_detect()) {
		snprintf(text, sizeof(text), "Xen %u.%u (CPUID %#x)", xen_info.major,
			 xen_info.minor, xen_info.cpuid_base);
		return text;
	}
	if (!(cpuid(1).c & CPUID_1_ECX_HYPERVISOR))
		return NULL;
	r = cpuid(HV_LEAF_FIRST);
	memcpy(sig, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	sig[12] = 0;
	for (int i = 0; sig[i]; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			return NULL;
	if (!sig[0])
		return NULL;
	snprintf(text, sizeof(text), "'%s' (CPUID %#x)", sig, HV_LEAF_FIRST);
	return text;
}
