/*
 * MSR switching by VM entry and VM exit (Intel SDM Vol. 3C):
 *  - the VM-entry MSR-load area (25.8.2, "VM-Entry Controls for MSRs"; 27.4,
 *    "Loading MSRs"): each entry is loaded in order, and L2 reads it with
 *    RDMSR (an all-zero MSR bitmap lets the reads through);
 *  - the VM-exit MSR-store area (25.7.2; 28.4, "Saving MSRs") receives the
 *    guest's values, and the VM-exit MSR-load area (28.6, "Loading Host MSRs")
 *    gives L1 its values, the store happening before the load;
 *  - the count and the address rules (27.2.1.2, 27.2.1.3; IA32_VMX_MISC[27:25],
 *    Appendix A.6: 512 * (N + 1) entries recommended at most);
 *  - bad entries of the VM-entry list (27.4): reserved bits 63:32 of the first
 *    quadword, IA32_FS_BASE, IA32_GS_BASE, an x2APIC MSR (800H-8FFH),
 *    IA32_SMM_MONITOR_CTL, an MSR whose WRMSR would fault: VM-entry failure,
 *    exit reason 34 with bit 31 set, qualification = the entry's 1-based index
 *    (27.8).  A bad VM-exit MSR-load or MSR-store entry is a VMX abort (28.7),
 *    which shuts the CPU down: x86/vmx_abort.c watches it from a second CPU;
 *  - the controls "load/save IA32_EFER", "load/save IA32_PAT" (25.7.1, 25.8.1;
 *    27.3.2.1, 28.3.1, 28.5.1) and "load/save debug controls" (DR7 and
 *    IA32_DEBUGCTL), with their guest- and host-state checks (27.3.1.1, 27.2.2).
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

#define MSR_IA32_SMM_MONITOR_CTL	0x9b

static struct vmx_vcpu *vcpu;
static void *msr_bitmap;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

/* One entry of an MSR area (25.7.2, Table 25-15); also the L2 code's list. */
struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

/* The MSRs that the lists switch, with three distinct values each. */
struct msr_case {
	const char *name;
	uint32_t index;
	uint64_t v[3];		/* entry load, L2's WRMSR, exit load */
	bool present;		/* readable on this processor */
	uint64_t l1;		/* L1's value, restored after each check */
};

static struct msr_case msrs[] = {
	{ "sysenter_esp", MSR_IA32_SYSENTER_ESP,
	  { 0xffff800012345000ull, 0xffff800023456000ull, 0xffff800034567000ull } },
	{ "star", MSR_STAR, { 0x0023001000000000ull, 0x001b000800000000ull, 0x0033002000000000ull } },
	{ "lstar", MSR_LSTAR, { 0xffffffff81234560ull, 0xffffffff82345670ull, 0xffffffff83456780ull } },
	{ "kernel_gs_base", MSR_KERNEL_GS_BASE,
	  { 0x00007f1234567000ull, 0x00007f2345678000ull, 0x00007f3456789000ull } },
	{ "sfmask", MSR_SFMASK, { 0x47700, 0x40300, 0x700 } },
	{ "tsc_aux", MSR_TSC_AUX, { 0x12345, 0x23456, 0x34567 } },
};
#define NMSRS ARRAY_SIZE(msrs)

/* L2: RDMSR (or WRMSR) of RBX entries of the list at RSI, values in place. */
VMX_L2_CODE(l2_rdmsrs, "1: test %rbx, %rbx; jz 2f; mov (%rsi), %ecx; rdmsr\n"
		       "mov %eax, 8(%rsi); mov %edx, 12(%rsi); add $16, %rsi; dec %rbx; jmp 1b; 2:");
VMX_L2_CODE(l2_wrmsrs, "1: test %rbx, %rbx; jz 2f; mov (%rsi), %ecx; mov 8(%rsi), %eax\n"
		       "mov 12(%rsi), %edx; wrmsr; add $16, %rsi; dec %rbx; jmp 1b; 2:");
/* L2: R8 = DR7, R9 = IA32_DEBUGCTL as found; then DR7 = R10, IA32_DEBUGCTL = R11. */
VMX_L2_CODE(l2_debug, "mov %dr7, %r8; mov $0x1d9, %ecx; rdmsr; mov %eax, %r9d\n"
		      "mov %r10, %dr7; mov $0x1d9, %ecx; mov %r11d, %eax; xor %edx, %edx; wrmsr");

VMX_L2_CODE(l2_dr7, "mov %dr7, %r8; mov %r10, %dr7");

static struct msr_entry *area_entry, *area_store, *area_load, *l2_list;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
	msr_bitmap = alloc_page();
	area_entry = alloc_page();
	area_store = alloc_page();
	area_load = alloc_page();
	l2_list = alloc_page();
	for (size_t i = 0; i < NMSRS; i++)
		msrs[i].present = !rdmsr_checked(msrs[i].index, &msrs[i].l1).raised;
}

static void restore_l1_msrs(void)
{
	for (size_t i = 0; i < NMSRS; i++)
		if (msrs[i].present)
			wrmsr(msrs[i].index, msrs[i].l1);
}

/* A fresh VMCS at @rip whose MSR bitmap lets every RDMSR/WRMSR through. */
static void prep(void *rip)
{
	vmx_vcpu_reset(vcpu, rip);
	if (!vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS, 0))
		test_error("", "no MSR bitmaps (IA32_VMX_PROCBASED_CTLS[60])");
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
}

static void set_entry_list(struct msr_entry *a, unsigned n)
{
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)a);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, n);
}

/* Runs L2 to its VMCALL; anything else is the test's problem. */
static bool run_to_vmcall(const char *what)
{
	uint32_t r = vmx_run(vcpu);

	if (r == VMX_EXIT_VMCALL)
		return true;
	test_error("", "%s: expected L2 to reach its VMCALL, got exit %#x (%s), entry %s, "
		   "qualification %#lx", what, r, vmx_exit_name(r) ?: "?", RES(vcpu->entry),
		   vmcs_read(VMCS_EXIT_QUALIFICATION));
	return false;
}

/* L2 reads @n MSRs listed in l2_list (values replaced by what RDMSR gave). */
static void l2_read_setup(const uint32_t *idx, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		l2_list[i] = (struct msr_entry){ idx[i], 0, 0xdeadbeefdeadbeefull };
	vcpu->regs.rsi = (uint64_t)l2_list;
	vcpu->regs.rbx = n;
}

/* ------------------------------------------------------------ the three lists */

/* 27.4: each entry of the VM-entry MSR-load area is loaded; L2's RDMSR sees it. */
static void check_entry_load(void)
{
	uint32_t idx[NMSRS];
	unsigned n = 0;

	if (!vmx_require_vmx())
		return;
	prep(l2_rdmsrs);
	for (size_t i = 0; i < NMSRS; i++)
		if (msrs[i].present) {
			area_entry[n] = (struct msr_entry){ msrs[i].index, 0, msrs[i].v[0] };
			idx[n++] = msrs[i].index;
		}
	set_entry_list(area_entry, n);
	l2_read_setup(idx, n);
	if (run_to_vmcall("entry MSR-load")) {
		for (size_t i = 0, k = 0; i < NMSRS; i++) {
			if (!msrs[i].present) {
				skip(msrs[i].name, "MSR %#x not implemented (RDMSR #GP in L1)", msrs[i].index);
				continue;
			}
			check_eq(msrs[i].name, l2_list[k].value, msrs[i].v[0]);
			k++;
		}
	}
	restore_l1_msrs();
}

/*
 * 28.4: at VM exit each entry of the VM-exit MSR-store area receives the
 * guest's value (here what L2 wrote with WRMSR); bits 63:32 of the first
 * quadword are left alone.
 */
static void check_exit_store(void)
{
	unsigned n = 0;

	if (!vmx_require_vmx())
		return;
	prep(l2_wrmsrs);
	for (size_t i = 0; i < NMSRS; i++)
		if (msrs[i].present) {
			l2_list[n] = (struct msr_entry){ msrs[i].index, 0, msrs[i].v[1] };
			area_store[n++] = (struct msr_entry){ msrs[i].index, 0, 0x5555aaaa5555aaaaull };
		}
	vcpu->regs.rsi = (uint64_t)l2_list;
	vcpu->regs.rbx = n;
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)area_store);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, n);
	if (run_to_vmcall("exit MSR-store")) {
		for (size_t i = 0, k = 0; i < NMSRS; i++) {
			if (!msrs[i].present) {
				skip(msrs[i].name, "MSR %#x not implemented (RDMSR #GP in L1)", msrs[i].index);
				continue;
			}
			check_eq(msrs[i].name, area_store[k].value, msrs[i].v[1]);
			k++;
		}
		check_eq("index_kept", area_store[0].index, msrs[0].index);
	}
	restore_l1_msrs();
}

/* 28.6: at VM exit each entry of the VM-exit MSR-load area is loaded for L1. */
static void check_exit_load(void)
{
	unsigned n = 0;

	if (!vmx_require_vmx())
		return;
	prep(l2_rdmsrs);
	vcpu->regs.rbx = 0;
	for (size_t i = 0; i < NMSRS; i++)
		if (msrs[i].present)
			area_load[n++] = (struct msr_entry){ msrs[i].index, 0, msrs[i].v[2] };
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)area_load);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, n);
	if (run_to_vmcall("exit MSR-load")) {
		for (size_t i = 0; i < NMSRS; i++) {
			if (!msrs[i].present) {
				skip(msrs[i].name, "MSR %#x not implemented (RDMSR #GP in L1)", msrs[i].index);
				continue;
			}
			check_eq(msrs[i].name, rdmsr(msrs[i].index), msrs[i].v[2]);
		}
	}
	restore_l1_msrs();
}

/*
 * One MSR in both exit lists: the store (28.4) comes before the load (28.6),
 * so the store area gets L2's value and L1 the load area's.  Entries of one
 * list are processed in order: the last of two entries for one MSR wins.
 */
static void check_order(void)
{
	if (!vmx_require_vmx())
		return;
	prep(l2_wrmsrs);
	l2_list[0] = (struct msr_entry){ MSR_LSTAR, 0, msrs[2].v[1] };
	vcpu->regs.rsi = (uint64_t)l2_list;
	vcpu->regs.rbx = 1;
	area_entry[0] = (struct msr_entry){ MSR_LSTAR, 0, 0xffffffff80001000ull };
	area_entry[1] = (struct msr_entry){ MSR_LSTAR, 0, msrs[2].v[0] };
	set_entry_list(area_entry, 2);
	area_store[0] = (struct msr_entry){ MSR_LSTAR, 0, 0 };
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)area_store);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 1);
	area_load[0] = (struct msr_entry){ MSR_LSTAR, 0, 0xffffffff80002000ull };
	area_load[1] = (struct msr_entry){ MSR_LSTAR, 0, msrs[2].v[2] };
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)area_load);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 2);
	if (run_to_vmcall("store and load")) {
		check_eq("store_gets_guest_value", area_store[0].value, msrs[2].v[1]);
		check_eq("load_last_wins", rdmsr(MSR_LSTAR), msrs[2].v[2]);
	}
	/* the entry list alone: L2 reads back the later entry */
	prep(l2_rdmsrs);
	set_entry_list(area_entry, 2);
	l2_read_setup((const uint32_t[]){ MSR_LSTAR }, 1);
	if (run_to_vmcall("entry order"))
		check_eq("entry_last_wins", l2_list[0].value, msrs[2].v[0]);
	restore_l1_msrs();
}

/*
 * IA32_VMX_MISC[27:25] = N: 512 * (N + 1) entries per list are supported
 * (A.6; more is undefined and not tried).  A full VM-entry list of
 * SYSENTER_ESP entries, loaded in order: L2 sees the last one.
 */
static void check_count_max(void)
{
	unsigned n, pages;
	struct msr_entry *a;

	if (!vmx_require_vmx())
		return;
	n = 512 * (((rdmsr(MSR_IA32_VMX_MISC) >> 25) & 7) + 1);
	pages = n * sizeof(struct msr_entry) / PAGE_SIZE;
	info("IA32_VMX_MISC[27:25]: %u MSRs per list", n);
	a = alloc_pages(pages, PAGE_SIZE);
	for (unsigned i = 0; i < n; i++)
		a[i] = (struct msr_entry){ MSR_IA32_SYSENTER_ESP, 0, 0xffff800000000000ull + 16 * i };
	prep(l2_rdmsrs);
	set_entry_list(a, n);
	l2_read_setup((const uint32_t[]){ MSR_IA32_SYSENTER_ESP }, 1);
	if (run_to_vmcall("full entry list"))
		check_eq("", l2_list[0].value, 0xffff800000000000ull + 16 * (n - 1));
	restore_l1_msrs();
}

/* ------------------------------------------------------------ address rules */

struct addr_case {
	const char *name;
	uint32_t addr_field, count_field;
	bool misaligned;	/* else beyond MAXPHYADDR */
};

static const struct addr_case addr_cases[] = {
	{ "entry_load.misaligned", VMCS_ENTRY_MSR_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_COUNT, true },
	{ "entry_load.beyond_maxphyaddr", VMCS_ENTRY_MSR_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_COUNT, false },
	{ "exit_store.misaligned", VMCS_EXIT_MSR_STORE_ADDR, VMCS_EXIT_MSR_STORE_COUNT, true },
	{ "exit_store.beyond_maxphyaddr", VMCS_EXIT_MSR_STORE_ADDR, VMCS_EXIT_MSR_STORE_COUNT, false },
	{ "exit_load.misaligned", VMCS_EXIT_MSR_LOAD_ADDR, VMCS_EXIT_MSR_LOAD_COUNT, true },
	{ "exit_load.beyond_maxphyaddr", VMCS_EXIT_MSR_LOAD_ADDR, VMCS_EXIT_MSR_LOAD_COUNT, false },
};

/*
 * 27.2.1.2 (VM-exit control fields) and 27.2.1.3 (VM-entry control fields):
 * with a nonzero count, bits 3:0 of the area's address must be 0 and the
 * area must lie below MAXPHYADDR, else VMfailValid(7); with count 0 the
 * address is not checked.
 */
static void check_addresses(void)
{
	if (!vmx_require_vmx())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		char name[64];
		uint64_t addr = c->misaligned ? (uint64_t)area_store + 8 : 1ull << vmx_maxphyaddr();
		uint32_t r;

		prep(l2_rdmsrs);
		area_store[0] = (struct msr_entry){ MSR_STAR, 0, msrs[1].l1 };
		vmcs_write(c->addr_field, addr);
		vmcs_write(c->count_field, 1);
		r = vmx_run(vcpu);
		check_msg(r == VMX_EXIT_VMFAIL && vmx_failed_with(&vcpu->entry, VMXERR_ENTRY_INVALID_CONTROL),
			  c->name, "address %#lx, count 1: expected VMfailValid(7), got %s (exit %#x)",
			  addr, RES(vcpu->entry), r);
		prep(l2_rdmsrs);
		vmcs_write(c->addr_field, addr);
		vmcs_write(c->count_field, 0);
		r = vmx_run(vcpu);
		snprintf(name, sizeof(name), "count_0.%s", c->name);
		check_msg(r == VMX_EXIT_VMCALL, name, "address %#lx, count 0: expected a normal "
			  "entry and VMCALL, got %s (exit %#x)", addr, RES(vcpu->entry), r);
		restore_l1_msrs();
	}
}

/* ------------------------------------------------------------ bad entries */

struct bad_case {
	const char *name;
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
	bool needs_wrmsr_fault;	/* the entry is bad because L1's WRMSR of it faults */
	unsigned at;		/* 1-based position in the list */
};

static const struct bad_case bads[] = {
	{ "reserved_bits", MSR_STAR, 1, 0, false, 3 },
	{ "reserved_bit_63", MSR_STAR, 0x80000000u, 0, false, 3 },
	{ "fs_base", MSR_FS_BASE, 0, 0, false, 3 },
	{ "gs_base", MSR_GS_BASE, 0, 0, false, 3 },
	{ "x2apic_800", 0x800, 0, 0, false, 3 },
	{ "x2apic_tpr", 0x808, 0, 0, false, 3 },
	{ "x2apic_8ff", 0x8ff, 0, 0, false, 3 },
	{ "smm_monitor_ctl", MSR_IA32_SMM_MONITOR_CTL, 0, 0, false, 3 },
	{ "wrmsr_faults", MSR_LSTAR, 0, 0x8000000000000000ull, true, 3 },
	{ "first_entry", MSR_FS_BASE, 0, 0, false, 1 },
	{ "fifth_entry", 0x808, 0, 0, false, 5 },
};

/*
 * 27.4: a bad entry ends the MSR loading with a VM-entry failure: exit reason
 * 34 with bit 31 set (0x80000022), exit qualification = the 1-based index of
 * the entry (27.8).
 */
static void run_bad(const struct bad_case *c)
{
	uint32_t r;
	unsigned n = c->at + 1;

	if (!vmx_require_vmx())
		return;
	if (c->needs_wrmsr_fault) {
		uint64_t old = rdmsr(c->index);
		struct fault f = wrmsr_checked(c->index, c->value);

		if (!f.raised) {
			wrmsr(c->index, old);
			test_error("", "WRMSR %#x <- %#lx did not fault in L1: no faulting entry to use",
				   c->index, c->value);
			return;
		}
	}
	prep(l2_rdmsrs);
	for (unsigned i = 0; i < n; i++)
		area_entry[i] = (struct msr_entry){ MSR_IA32_SYSENTER_ESP, 0, msrs[0].v[0] };
	area_entry[c->at - 1] = (struct msr_entry){ c->index, c->reserved, c->value };
	set_entry_list(area_entry, n);
	r = vmx_run(vcpu);
	if (check_msg(r == (VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_MSR_LOAD_FAIL), "reason",
		      "entry %u = {%#x, reserved %#x, %#lx}: expected exit reason 0x80000022, got %#x "
		      "(entry %s)", c->at, c->index, c->reserved, c->value, r, RES(vcpu->entry)))
		check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), c->at);
	restore_l1_msrs();
}

#define BAD_FN(i) static void check_bad_##i(void) { run_bad(&bads[i]); }
BAD_FN(0) BAD_FN(1) BAD_FN(2) BAD_FN(3) BAD_FN(4) BAD_FN(5) BAD_FN(6) BAD_FN(7) BAD_FN(8)
BAD_FN(9) BAD_FN(10)
_Static_assert(ARRAY_SIZE(bads) == 11, "one function per case");

/* ------------------------------------------------------------ EFER and PAT */

#define PAT_GUEST	0x0007050600070106ull	/* memory types 0, 1, 4, 5, 6, 7 only */
#define PAT_L2		0x0006060606060606ull
#define PAT_HOST	0x0007040600070406ull

static bool need(const char *name, enum vmx_ctls which, uint32_t bits)
{
	return vmx_require(name, which, bits);
}

/*
 * "load IA32_PAT" (27.3.2.1) and "save/load IA32_PAT" on exit (28.3.1, 28.5.1):
 * L2 reads GUEST_PAT; L2's WRMSR value lands in GUEST_PAT; L1 gets HOST_PAT.
 * Without the controls, PAT passes through unchanged.
 */
static void check_pat(void)
{
	uint64_t l1 = rdmsr(MSR_IA32_PAT);

	if (!vmx_require_vmx())
		return;
	if (need("entry_load", VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PAT)) {
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PAT, 0);
		vmcs_write(VMCS_GUEST_PAT, PAT_GUEST);
		l2_read_setup((const uint32_t[]){ MSR_IA32_PAT }, 1);
		if (run_to_vmcall("load PAT"))
			check_eq("entry_load", l2_list[0].value, PAT_GUEST);
		wrmsr(MSR_IA32_PAT, l1);
		if (vmx_ctls_allowed(VMX_CTLS_ENTRY).must_be_1 & VMX_ENTRY_LOAD_PAT) {
			skip("entry_noload", "\"load IA32_PAT\" is must-be-1");
		} else {
			prep(l2_rdmsrs);
			vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, 0, VMX_ENTRY_LOAD_PAT);
			vmcs_write(VMCS_GUEST_PAT, PAT_GUEST);
			l2_read_setup((const uint32_t[]){ MSR_IA32_PAT }, 1);
			if (run_to_vmcall("no load PAT"))
				check_eq("entry_noload", l2_list[0].value, l1);
			wrmsr(MSR_IA32_PAT, l1);
		}
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PAT, 0);
		vmcs_write(VMCS_GUEST_PAT, 0x0007050600070102ull);	/* type 2 is reserved */
		check_eq("guest_invalid", vmx_run(vcpu),
			 VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE);
		wrmsr(MSR_IA32_PAT, l1);
	}
	if (need("exit_save", VMX_CTLS_EXIT, VMX_EXIT_SAVE_PAT)) {
		prep(l2_wrmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_SAVE_PAT, 0);
		vmcs_write(VMCS_GUEST_PAT, PAT_GUEST);
		l2_list[0] = (struct msr_entry){ MSR_IA32_PAT, 0, PAT_L2 };
		vcpu->regs.rsi = (uint64_t)l2_list;
		vcpu->regs.rbx = 1;
		if (run_to_vmcall("save PAT"))
			check_eq("exit_save", vmcs_read(VMCS_GUEST_PAT), PAT_L2);
		wrmsr(MSR_IA32_PAT, l1);
		if (!(vmx_ctls_allowed(VMX_CTLS_EXIT).must_be_1 & VMX_EXIT_SAVE_PAT)) {
			prep(l2_wrmsrs);
			vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, 0, VMX_EXIT_SAVE_PAT);
			vmcs_write(VMCS_GUEST_PAT, PAT_GUEST);
			vcpu->regs.rsi = (uint64_t)l2_list;
			vcpu->regs.rbx = 1;
			if (run_to_vmcall("no save PAT") && vmcs_field_supported(vmcs_field_find(VMCS_GUEST_PAT)))
				check_eq("exit_nosave", vmcs_read(VMCS_GUEST_PAT), PAT_GUEST);
			wrmsr(MSR_IA32_PAT, l1);
		}
	}
	if (need("exit_load", VMX_CTLS_EXIT, VMX_EXIT_LOAD_PAT)) {
		prep(l2_wrmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_LOAD_PAT, 0);
		vmcs_write(VMCS_HOST_PAT, PAT_HOST);
		l2_list[0] = (struct msr_entry){ MSR_IA32_PAT, 0, PAT_L2 };
		vcpu->regs.rsi = (uint64_t)l2_list;
		vcpu->regs.rbx = 1;
		if (run_to_vmcall("load PAT on exit"))
			check_eq("exit_load", rdmsr(MSR_IA32_PAT), PAT_HOST);
		wrmsr(MSR_IA32_PAT, l1);
		if (!(vmx_ctls_allowed(VMX_CTLS_EXIT).must_be_1 & VMX_EXIT_LOAD_PAT)) {
			prep(l2_wrmsrs);
			vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, 0, VMX_EXIT_LOAD_PAT);
			vcpu->regs.rsi = (uint64_t)l2_list;
			vcpu->regs.rbx = 1;
			if (run_to_vmcall("no load PAT on exit"))
				check_eq("exit_noload", rdmsr(MSR_IA32_PAT), PAT_L2);
			wrmsr(MSR_IA32_PAT, l1);
		}
		/* 27.2.2: HOST_PAT with a reserved memory type: VMfailValid(8) */
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_LOAD_PAT, 0);
		vmcs_write(VMCS_HOST_PAT, 0x0007040600070403ull);
		vmx_run(vcpu);
		check_msg(vmx_failed_with(&vcpu->entry, VMXERR_ENTRY_INVALID_HOST), "host_invalid",
			  "HOST_PAT with type 3: expected VMfailValid(8), got %s", RES(vcpu->entry));
		wrmsr(MSR_IA32_PAT, l1);
	}
}

/*
 * The same for IA32_EFER, toggling SCE (bit 0); with "load IA32_EFER",
 * GUEST_EFER.LMA must equal "IA-32e mode guest" (27.3.1.1) and HOST_EFER.LMA
 * "host address-space size" (27.2.2, VMfailValid(8)).
 */
static void check_efer(void)
{
	uint64_t l1 = rdmsr(MSR_EFER), alt = l1 ^ EFER_SCE;

	if (!vmx_require_vmx())
		return;
	if (need("entry_load", VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER)) {
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER, 0);
		vmcs_write(VMCS_GUEST_EFER, alt);
		l2_read_setup((const uint32_t[]){ MSR_EFER }, 1);
		if (run_to_vmcall("load EFER"))
			check_eq("entry_load", l2_list[0].value, alt);
		wrmsr(MSR_EFER, l1);
		if (!(vmx_ctls_allowed(VMX_CTLS_ENTRY).must_be_1 & VMX_ENTRY_LOAD_EFER)) {
			prep(l2_rdmsrs);
			vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, 0, VMX_ENTRY_LOAD_EFER);
			vmcs_write(VMCS_GUEST_EFER, alt);
			l2_read_setup((const uint32_t[]){ MSR_EFER }, 1);
			if (run_to_vmcall("no load EFER"))
				check_eq("entry_noload", l2_list[0].value, l1);
			wrmsr(MSR_EFER, l1);
		}
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER, 0);
		vmcs_write(VMCS_GUEST_EFER, l1 & ~EFER_LMA);
		check_eq("guest_lma", vmx_run(vcpu), VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE);
		wrmsr(MSR_EFER, l1);
	}
	if (need("exit_save", VMX_CTLS_EXIT, VMX_EXIT_SAVE_EFER)) {
		prep(l2_wrmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_SAVE_EFER, 0);
		l2_list[0] = (struct msr_entry){ MSR_EFER, 0, alt };
		vcpu->regs.rsi = (uint64_t)l2_list;
		vcpu->regs.rbx = 1;
		if (run_to_vmcall("save EFER"))
			check_eq("exit_save", vmcs_read(VMCS_GUEST_EFER), alt);
		wrmsr(MSR_EFER, l1);
	}
	if (need("exit_load", VMX_CTLS_EXIT, VMX_EXIT_LOAD_EFER)) {
		prep(l2_rdmsrs);
		vcpu->regs.rbx = 0;
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_LOAD_EFER, 0);
		vmcs_write(VMCS_HOST_EFER, alt);
		if (run_to_vmcall("load EFER on exit"))
			check_eq("exit_load", rdmsr(MSR_EFER), alt);
		wrmsr(MSR_EFER, l1);
		prep(l2_rdmsrs);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_LOAD_EFER, 0);
		vmcs_write(VMCS_HOST_EFER, l1 & ~EFER_LMA);
		vmx_run(vcpu);
		check_msg(vmx_failed_with(&vcpu->entry, VMXERR_ENTRY_INVALID_HOST), "host_lma",
			  "HOST_EFER.LMA = 0 with a 64-bit host: expected VMfailValid(8), got %s",
			  RES(vcpu->entry));
		wrmsr(MSR_EFER, l1);
	}
	/*
	 * 28.5.1: without "load IA32_EFER" on exit, the exit sets only LME and LMA
	 * (to "host address-space size", here 1): SCE keeps the value L2 had.
	 */
	if (need("exit_noload", VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER)) {
		if (vmx_ctls_allowed(VMX_CTLS_EXIT).must_be_1 & VMX_EXIT_LOAD_EFER) {
			skip("exit_noload", "\"load IA32_EFER\" on exit cannot be 0 (IA32_VMX_EXIT_CTLS)");
			return;
		}
		prep(l2_rdmsrs);
		vcpu->regs.rbx = 0;
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER, 0);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, 0, VMX_EXIT_LOAD_EFER);
		vmcs_write(VMCS_GUEST_EFER, alt);
		if (run_to_vmcall("no load EFER on exit"))
			check_msg(rdmsr(MSR_EFER) == alt, "exit_noload", "EFER after the exit %#lx: "
				  "expected L2's %#lx (SCE %s, LME and LMA set), not L1's %#lx",
				  rdmsr(MSR_EFER), alt, alt & EFER_SCE ? "set" : "clear", l1);
		wrmsr(MSR_EFER, l1);
	}
}

/* ------------------------------------------------------------ debug controls */

#define DEBUGCTL_BTF	BIT(1)

/*
 * "load debug controls" (27.3.2.1): DR7 and IA32_DEBUGCTL from the guest
 * fields; "save debug controls" (28.3.1): L2's values saved there; every VM
 * exit sets DR7 to 400H and clears IA32_DEBUGCTL (28.5.1).
 */
static void check_debug(void)
{
	uint64_t v;
	bool btf, debugctl;
	char *l2;

	if (!vmx_require_vmx())
		return;
	debugctl = !rdmsr_checked(MSR_IA32_DEBUGCTL, &v).raised;
	btf = debugctl && !wrmsr_checked(MSR_IA32_DEBUGCTL, DEBUGCTL_BTF).raised;
	l2 = debugctl ? l2_debug : l2_dr7;
	if (debugctl)
		wrmsr_checked(MSR_IA32_DEBUGCTL, 0);
	if (need("entry_load", VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_DEBUG) &&
	    need("exit_save", VMX_CTLS_EXIT, VMX_EXIT_SAVE_DEBUG)) {
		prep(l2);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_DEBUG, 0);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_SAVE_DEBUG, 0);
		vmcs_write(VMCS_GUEST_DR7, 0x700);
		vmcs_write(VMCS_GUEST_DEBUGCTL, btf ? DEBUGCTL_BTF : 0);
		vcpu->regs.r10 = 0x500;
		vcpu->regs.r11 = 0;
		write_dr7(0x600);
		if (run_to_vmcall("debug controls")) {
			check_eq("entry_load.dr7", vcpu->regs.r8, 0x700);
			if (btf)
				check_eq("entry_load.debugctl", vcpu->regs.r9, DEBUGCTL_BTF);
			else
				skip("entry_load.debugctl", "IA32_DEBUGCTL (or its BTF bit) not implemented: "
				     "L1's RDMSR/WRMSR faults");
			check_eq("exit_save.dr7", vmcs_read(VMCS_GUEST_DR7), 0x500);
			if (debugctl)
				check_eq("exit_save.debugctl", vmcs_read(VMCS_GUEST_DEBUGCTL), 0);
			check_eq("exit_resets.dr7", read_dr7(), 0x400);
		}
		/* and the other way round: L2 sets BTF, L1 finds IA32_DEBUGCTL cleared */
		if (btf) {
			prep(l2_debug);
			vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_SAVE_DEBUG, 0);
			vcpu->regs.r10 = 0x400;
			vcpu->regs.r11 = DEBUGCTL_BTF;
			if (run_to_vmcall("debugctl save")) {
				check_eq("exit_save.debugctl_btf", vmcs_read(VMCS_GUEST_DEBUGCTL), DEBUGCTL_BTF);
				check_eq("exit_resets.debugctl", rdmsr(MSR_IA32_DEBUGCTL), 0);
			}
		} else {
			skip("exit_save.debugctl_btf", "IA32_DEBUGCTL (or its BTF bit) not implemented: "
			     "L1's RDMSR/WRMSR faults");
		}
	}
	if (vmx_ctls_allowed(VMX_CTLS_ENTRY).must_be_1 & VMX_ENTRY_LOAD_DEBUG) {
		skip("entry_noload.dr7", "\"load debug controls\" is must-be-1 (no TRUE controls)");
	} else {
		prep(l2);
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, 0, VMX_ENTRY_LOAD_DEBUG);
		vmcs_write(VMCS_GUEST_DR7, 0x700);
		vcpu->regs.r10 = 0x400;
		write_dr7(0x600);
		if (run_to_vmcall("no load debug"))
			check_eq("entry_noload.dr7", vcpu->regs.r8, 0x600);
	}
	write_dr7(0x400);
	if (debugctl)
		wrmsr_checked(MSR_IA32_DEBUGCTL, 0);
}

static const struct check_entry checks[] = {
	{ "entry_load", check_entry_load },
	{ "exit_store", check_exit_store },
	{ "exit_load", check_exit_load },
	{ "order", check_order },
	{ "count_max", check_count_max },
	{ "address", check_addresses },
	{ "bad.reserved_bits", check_bad_0 },
	{ "bad.reserved_bit_63", check_bad_1 },
	{ "bad.fs_base", check_bad_2 },
	{ "bad.gs_base", check_bad_3 },
	{ "bad.x2apic_800", check_bad_4 },
	{ "bad.x2apic_tpr", check_bad_5 },
	{ "bad.x2apic_8ff", check_bad_6 },
	{ "bad.smm_monitor_ctl", check_bad_7 },
	{ "bad.wrmsr_faults", check_bad_8 },
	{ "bad.first_entry", check_bad_9 },
	{ "bad.fifth_entry", check_bad_10 },
	{ "pat", check_pat },
	{ "efer", check_efer },
	{ "debug", check_debug },
};

DEFINE_TEST("vmx_msr_areas", checks, .setup = setup);
