/*
 * hvprobe: the null guest of the availability probe (docs/runner.md, "Which
 * hypervisors are available").  The runner boots it with the machine type,
 * accelerator and CPU model that the tests will get; a hypervisor counts as
 * available only when this image boots, reports and exits through the debug
 * exit device.  It is not a test: each entry reports one feature of the cfg's
 * `requires` list, PASS when the virtual CPU offers it and SKIP, naming the
 * CPUID bit or capability MSR, when it does not.  hvt-verdict parses the
 * console as for any test, so no console byte is read in shell.
 */
#include "fault.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"
#include "xen.h"

#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_X2APIC	(1u << 21)
#define CPUID_80000001_ECX_SVM	(1u << 2)
#define CPUID_8000000A_EDX_NP	(1u << 0)
#define PROCBASED_SECONDARY	(1ull << 31)	/* SDM Vol. 3D A.3.2, allowed-1 half */
#define PROCBASED2_EPT		(1ull << 1)	/* SDM Vol. 3D A.3.3, allowed-1 half */

/* The result is named after its table entry, which is the feature's name. */
static void feature(bool offered, const char *why_not)
{
	if (offered)
		check_msg(true, "", "%s", "");
	else
		skip("", "%s", why_not);
}

/* The hypervisor leaves from 0x40000000 on, where a hypervisor signs them. */
static bool hypervisor_signed(const char *want)
{
	for (uint32_t leaf = 0x40000000; leaf < 0x40010000; leaf += 0x100) {
		struct cpuid r = cpuid(leaf);
		char sig[13];

		memcpy(sig, &r.b, 4);
		memcpy(sig + 4, &r.c, 4);
		memcpy(sig + 8, &r.d, 4);
		sig[12] = 0;
		if (!strcmp(sig, want))
			return true;
	}
	return false;
}

static void probe_cpu(void)
{
	struct cpuid v = cpuid(0);
	char vendor[13];

	memcpy(vendor, &v.b, 4);
	memcpy(vendor + 4, &v.d, 4);
	memcpy(vendor + 8, &v.c, 4);
	vendor[12] = 0;
	info("cpu vendor %s, family/model/stepping %#x", vendor, cpuid(1).a);
}

static bool has_svm(void)
{
	return cpuid_max(0x80000000) >= 0x80000001 &&
	       (cpuid(0x80000001).c & CPUID_80000001_ECX_SVM);
}

static void probe_svm(void)
{
	feature(has_svm(), "CPUID 8000_0001h ECX[2] (SVM) is clear");
}

static void probe_npt(void)
{
	bool np = has_svm() && cpuid_max(0x80000000) >= 0x8000000a &&
		  (cpuid(0x8000000a).d & CPUID_8000000A_EDX_NP);

	feature(np, has_svm() ? "CPUID 8000_000Ah EDX[0] (NP) is clear" : "no SVM");
}

static bool has_vmx(void)
{
	return cpuid(1).c & CPUID_1_ECX_VMX;
}

static void probe_vmx(void)
{
	feature(has_vmx(), "CPUID 1 ECX[5] (VMX) is clear");
}

/* EPT: the secondary controls may be activated and offer "enable EPT". */
static void probe_ept(void)
{
	uint64_t ctls = 0, ctls2 = 0;
	const char *why = NULL;

	if (!has_vmx())
		why = "no VMX";
	else if (rdmsr_checked(MSR_IA32_VMX_PROCBASED_CTLS, &ctls).raised)
		why = "RDMSR IA32_VMX_PROCBASED_CTLS faults";
	else if (!((ctls >> 32) & PROCBASED_SECONDARY))
		why = "IA32_VMX_PROCBASED_CTLS[63] (secondary controls) is clear";
	else if (rdmsr_checked(MSR_IA32_VMX_PROCBASED_CTLS2, &ctls2).raised)
		why = "RDMSR IA32_VMX_PROCBASED_CTLS2 faults";
	else if (!((ctls2 >> 32) & PROCBASED2_EPT))
		why = "IA32_VMX_PROCBASED_CTLS2[33] (enable EPT) is clear";
	feature(!why, why);
}

static void probe_x2apic(void)
{
	feature(cpuid(1).c & CPUID_1_ECX_X2APIC, "CPUID 1 ECX[21] (x2APIC) is clear");
}

/* Running under Xen (as its dom0): what the Xen tests require. */
static void probe_xen(void)
{
	feature(xen_detect(), "no CPUID 4000_xx00h leaf signed XenVMMXenVMM");
}

/* Running under KVM, which signs its leaves "KVMKVMKVM" (and three NULs). */
static void probe_kvm(void)
{
	feature(hypervisor_signed("KVMKVMKVM"), "no CPUID 4000_xx00h leaf signed KVMKVMKVM");
}

static const struct check_entry probes[] = {
	{ "cpu", probe_cpu },
	{ "svm", probe_svm },
	{ "npt", probe_npt },
	{ "vmx", probe_vmx },
	{ "ept", probe_ept },
	{ "x2apic", probe_x2apic },
	{ "kvm", probe_kvm },
	{ "xen", probe_xen },
};

DEFINE_TEST("hvprobe", probes);
