/*
 * VPID (SDM Vol. 3C 29.1, "Virtual Processor Identifiers (VPIDs)") and
 * INVVPID (31.3, "INVVPID"; 29.4.3, "Invalidating Cached Translation
 * Information"): VM entry accepts a non-zero VPID (VPID 0 is a VM-entry
 * control check, vmx_entry_ctls:vpid.zero); each INVVPID type that
 * IA32_VMX_EPT_VPID_CAP reports (A.10) succeeds and takes a stale
 * translation of L2's away; an unsupported type, VPID 0 for types 0, 1 and
 * 3, a non-canonical address for type 0 and a descriptor with bits 63:16 set
 * fail with VMfailValid(28).
 *
 * Names: entry.*, type.*, unsupported.*, vpid0.*, address.*, reserved.*,
 * flush.*.
 */
#include "alloc.h"
#include "bootinfo.h"
#include "pagetable.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

#define TEST_GVA	(2ull << 39)		/* L2 PML4 index 2 */
#define VALUE_A		0xaaaa0000aaaa0001ul
#define VALUE_B		0xbbbb0000bbbb0002ul
#define L2_VPID		1

static const char *missing;
static struct vmx_vcpu *vcpu;
static uint64_t cap;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

VMX_L2_CODE(l2_nop, "nop");
VMX_L2_CODE(l2_read, "mov (%rdi), %rax");

static const char *const type_names[] = { "individual", "single", "all", "single_nonglobal" };
static const uint64_t type_caps[] = { VMX_VPID_INDIVIDUAL, VMX_VPID_SINGLE, VMX_VPID_ALL,
				      VMX_VPID_SINGLE_NONGLOBAL };

static void setup(void)
{
	if (!vmx_supported(&missing))
		return;
	if (!vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VPID)) {
		missing = "no VPID (IA32_VMX_PROCBASED_CTLS2[37])";
		return;
	}
	vmx_enable();
	vcpu = vmx_vcpu_create();
	cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	info("IA32_VMX_EPT_VPID_CAP %#lx", cap);
}

static bool need_vpid(void)
{
	if (missing)
		skip("", "%s", missing);
	return !missing;
}

static bool need_invvpid(void)
{
	if (!need_vpid())
		return false;
	if (!(cap & VMX_VPID_INVVPID))
		skip("", "no INVVPID (IA32_VMX_EPT_VPID_CAP[32])");
	return cap & VMX_VPID_INVVPID;
}

/* ------------------------------------------------------------ VM entry */

/*
 * 27.2.1.1: with "enable VPID" the VPID field may not be 0 (that entry
 * failure is vmx_entry_ctls:vpid.zero); any other VPID, 0xffff included,
 * enters.
 */
static void check_entry_vpid_nonzero(void)
{
	uint32_t reason;

	if (!need_vpid())
		return;
	vmx_vcpu_reset(vcpu, l2_nop);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VPID, 0);
	vmcs_write(VMCS_VPID, 0xffff);
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_VMCALL, "", "VPID 0xffff: expected the VMCALL exit, got %#x (%s)",
		  reason, vmx_exit_name(reason) ?: "?");
}

/* ------------------------------------------------------------ INVVPID operands */

/* Whether INVVPID type @t is supported; records a skip named after it when not. */
static bool type_supported(unsigned t)
{
	if (cap & type_caps[t])
		return true;
	skip(type_names[t], "type %u not supported (IA32_VMX_EPT_VPID_CAP[%u])", t, 40 + t);
	return false;
}

/* Each supported type with a valid descriptor: VMsucceed (31.3 INVVPID). */
static void check_types(void)
{
	if (!need_invvpid())
		return;
	for (unsigned t = 0; t < 4; t++) {
		struct vmx_result r;

		if (!type_supported(t))
			continue;
		r = invvpid_checked(t, L2_VPID, t == 0 ? TEST_GVA : 0);
		check_msg(r.outcome == VMX_SUCCEED, type_names[t], "INVVPID type %u: %s", t, RES(r));
	}
}

/* A type the processor does not report, and types above 3: VMfailValid(28). */
static void check_unsupported(void)
{
	static const uint64_t high[] = { 4, 5, 0x80000000ull };
	char name[32];
	unsigned n = 0;

	if (!need_invvpid())
		return;
	for (unsigned t = 0; t < 4; t++) {
		struct vmx_result r;

		if (cap & type_caps[t])
			continue;
		n++;
		r = invvpid_checked(t, L2_VPID, 0);
		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), type_names[t],
			  "unsupported type %u: expected VMfailValid(28), got %s", t, RES(r));
	}
	for (unsigned i = 0; i < ARRAY_SIZE(high); i++) {
		struct vmx_result r = invvpid_checked(high[i], L2_VPID, 0);

		snprintf(name, sizeof(name), "type%#lx", high[i]);
		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), name,
			  "type %#lx: expected VMfailValid(28), got %s", high[i], RES(r));
	}
	if (!n)
		info("every type 0-3 is supported");
}

/* VPID 0 in the descriptor of types 0, 1 and 3: VMfailValid(28); type 2 ignores it. */
static void check_vpid0(void)
{
	if (!need_invvpid())
		return;
	for (unsigned t = 0; t < 4; t++) {
		struct vmx_result r;

		if (!type_supported(t))
			continue;
		r = invvpid_checked(t, 0, t == 0 ? TEST_GVA : 0);
		if (t == 2)
			check_msg(r.outcome == VMX_SUCCEED, type_names[t],
				  "all-context ignores the VPID: expected VMsucceed, got %s", RES(r));
		else
			check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), type_names[t],
				  "type %u with VPID 0: expected VMfailValid(28), got %s", t, RES(r));
	}
}

/* Type 0 with a non-canonical linear address: VMfailValid(28); a canonical high one succeeds. */
static void check_noncanonical(void)
{
	unsigned bits = cpu_linear_address_bits();
	uint64_t nc = 1ull << (bits - 1), canon = ~0ull << (bits - 1);
	struct vmx_result r;

	if (!need_invvpid())
		return;
	if (!(cap & VMX_VPID_INDIVIDUAL)) {
		skip("", "type 0 not supported (IA32_VMX_EPT_VPID_CAP[40])");
		return;
	}
	r = invvpid_checked(0, L2_VPID, nc);
	check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "noncanonical",
		  "address %#lx: expected VMfailValid(28), got %s", nc, RES(r));
	r = invvpid_checked(0, L2_VPID, canon);
	check_msg(r.outcome == VMX_SUCCEED, "canonical_high", "address %#lx: expected VMsucceed, got %s",
		  canon, RES(r));
}

/* Bits 63:16 of the descriptor's first quadword are reserved: VMfailValid(28) for every type. */
static void check_reserved(void)
{
	if (!need_invvpid())
		return;
	for (unsigned t = 0; t < 4; t++) {
		struct vmx_result r;

		if (!type_supported(t))
			continue;
		r = invvpid_checked(t, L2_VPID | BIT(16), t == 0 ? TEST_GVA : 0);
		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), type_names[t],
			  "descriptor bit 16 set: expected VMfailValid(28), got %s", RES(r));
	}
}

/* ------------------------------------------------------------ invalidation */

static struct pagetable gpt;
static uint64_t *gpte;
static uint64_t *page_a, *page_b;

/* L2's own tables: identity, and TEST_GVA -> page A (non-global). */
static void build_tables(void)
{
	uint64_t end = 4ull << 30;

	if (gpt.root)
		return;
	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		end = MAX(end, bootinfo.ram[i].end);
	gpt = pt_create(&pt_format_x86);
	pt_map(&gpt, 0, 0, ALIGN_UP(end, pt_level_size(2)), pt_level_size(2), PTE_P | PTE_W);
	page_a = alloc_page();
	page_b = alloc_page();
	*page_a = VALUE_A;
	*page_b = VALUE_B;
	gpte = pt_entry(&gpt, TEST_GVA, 1);
}

/*
 * L2 (VPID 1) reads TEST_GVA -> page A, which the processor may cache under
 * VPID 1.  L1 points the PTE at page B and executes INVVPID of @type; L2's
 * next read must see page B (29.4.3.3: after the invalidation no
 * translation of the old mapping is used for VPID 1).
 */
static void flush_case(unsigned type)
{
	uint32_t reason;
	struct vmx_result r;

	if (!(cap & type_caps[type])) {
		skip(type_names[type], "type %u not supported (IA32_VMX_EPT_VPID_CAP[%u])", type,
		     40 + type);
		return;
	}
	build_tables();
	*gpte = (uint64_t)page_a | PTE_P | PTE_W;
	vmx_vcpu_reset(vcpu, l2_read);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VPID, 0);
	vmcs_write(VMCS_VPID, L2_VPID);
	vmcs_write(VMCS_GUEST_CR3, (uint64_t)gpt.root);
	/* Start clean: nothing cached for VPID 1 from an earlier case. */
	if (cap & VMX_VPID_ALL)
		invvpid_checked(2, 0, 0);
	else
		invvpid_checked(1, L2_VPID, 0);
	vcpu->regs.rdi = TEST_GVA;
	reason = vmx_run(vcpu);
	if (reason != VMX_EXIT_VMCALL || vcpu->regs.rax != VALUE_A) {
		test_error(type_names[type], "L2's first read: exit %u, rax %#lx", reason,
			   vcpu->regs.rax);
		return;
	}
	*gpte = (uint64_t)page_b | PTE_P | PTE_W;
	r = invvpid_checked(type, L2_VPID, type == 0 ? TEST_GVA : 0);
	if (r.outcome != VMX_SUCCEED) {
		check_msg(false, type_names[type], "INVVPID type %u: %s", type, RES(r));
		return;
	}
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_read);
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_VMCALL && vcpu->regs.rax == VALUE_B, type_names[type],
		  "after INVVPID type %u L2 read %#lx (exit %u); the new mapping holds %#lx", type,
		  vcpu->regs.rax, reason, VALUE_B);
}

static void check_flush(void)
{
	if (!need_invvpid())
		return;
	for (unsigned t = 0; t < 4; t++)
		flush_case(t);
}

static const struct check_entry checks[] = {
	{ "entry.vpid_nonzero", check_entry_vpid_nonzero },
	{ "type", check_types },
	{ "unsupported", check_unsupported },
	{ "vpid0", check_vpid0 },
	{ "address", check_noncanonical },
	{ "reserved", check_reserved },
	{ "flush", check_flush },
};

DEFINE_TEST("vmx_vpid", checks, .setup = setup);
