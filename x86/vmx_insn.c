/*
 * The VMX instructions themselves (SDM Vol. 3C chapter 31, "VMX Instruction
 * Reference"; conventions in 31.2, error numbers in 31.4): the preconditions
 * of VMXON (24.7, "Enabling and Entering VMX Operation"; 24.8, "Restrictions
 * on VMX Operation"), the address and revision checks of VMCLEAR, VMPTRLD and
 * VMXON, VMPTRST, the launch state that VMLAUNCH and VMRESUME require (25.1,
 * "Overview"; 25.11.3, "Initializing a VMCS"), VM-entry failures (27.1-27.2,
 * 27.8) and a first VM entry with the library's 64-bit, real-mode and
 * protected-mode guests.  Then the forms the rest of the suite never uses:
 * every VMX instruction (and INVPCID) at CPL 3 (cpl3.*), VMCALL in
 * compatibility mode, VMLAUNCH/VMRESUME in the shadow of a MOV SS
 * (movss.*), GETSEC with CR4.SMXE = 0 in VMX root and non-root operation
 * (getsec.*) and INVPCID's faults and flushes (invpcid.*).
 *
 * Entries run in table order: the VMXON checks start outside VMX operation
 * and may leave the test in or out of it; every other check arranges the state
 * it needs with ensure_on()/ensure_off().
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "pagetable.h"
#include "test.h"
#include "usermode.h"
#include "vmx.h"

static const char *vmx_missing;
static struct vmx_vcpu *vcpu;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

static bool vmx_usable(void)
{
	if (vmx_missing)
		skip("", "%s", vmx_missing);
	return !vmx_missing;
}

static void setup(void)
{
	vmx_supported(&vmx_missing);
}

/* VMX operation with a prepared, current vCPU VMCS. */
static bool ensure_on(void)
{
	if (!vmx_enabled()) {
		if (!vmx_feature_control_setup()) {
			test_error("", "IA32_FEATURE_CONTROL locked without VMX outside SMX");
			return false;
		}
		vmx_enable();
	}
	if (!vcpu)
		vcpu = vmx_vcpu_create();
	else
		vmx_vcpu_load(vcpu);
	return true;
}

/* Outside VMX operation, with fixed bits and CR4.VMXE as VMXON wants them. */
static void ensure_off(void)
{
	if (vmx_enabled())
		vmx_disable();
	vmx_apply_fixed_bits();
}

static uint64_t vmxon_pa(void)
{
	return (uint64_t)vmx_vmxon_region();
}

static uint64_t beyond_maxphyaddr(void)
{
	return 1ull << vmx_maxphyaddr();
}

/* ------------------------------------------------------------ VMXON */

/* VMXON with CR4.VMXE = 0: #UD (31.3, VMXON Operation). */
static void check_vmxon_vmxe_clear(void)
{
	struct vmx_result r;

	if (!vmx_usable())
		return;
	ensure_off();
	write_cr4(read_cr4() & ~X86_CR4_VMXE);
	r = vmxon_checked(vmxon_pa());
	check_msg(r.outcome == VMX_FAULT && fault_is(&r.fault, X86_VEC_UD, 0), "",
		  "expected #UD, got %s", RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
	vmx_apply_fixed_bits();
}

/*
 * IA32_FEATURE_CONTROL: VMXON raises #GP(0) unless the lock bit and "enable
 * VMX outside SMX" are set (24.7).  The MSR is write-once after locking, so
 * only the unlocked cases can be arranged.
 */
static void check_vmxon_feature_control(void)
{
	uint64_t fc;
	struct vmx_result r;

	if (!vmx_usable())
		return;
	ensure_off();
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (fc & FEATURE_CONTROL_LOCK) {
		skip("", "IA32_FEATURE_CONTROL already locked (write-once): cannot unlock it");
		return;
	}
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc & ~FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	r = vmxon_checked(vmxon_pa());
	check_msg(r.outcome == VMX_FAULT && fault_is(&r.fault, X86_VEC_GP, 0), "unlocked",
		  "expected #GP(0) (lock bit clear), got %s", RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	r = vmxon_checked(vmxon_pa());
	check_msg(r.outcome == VMX_FAULT && fault_is(&r.fault, X86_VEC_GP, 0), "unlocked_vmx_on",
		  "expected #GP(0) (VMX enabled but not locked), got %s", RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
	if (!vmx_feature_control_setup())
		test_error("", "could not lock IA32_FEATURE_CONTROL with VMX outside SMX");
}

/* CR0 bits that a test can flip in long mode without losing itself (not PE, PG; NW needs CD). */
static const unsigned cr0_bits[] = { 1, 2, 3, 5, 16, 18, 30 };
/* CR4 bits that flip without side effects here (not PAE, VMXE, PCIDE, OSXSAVE...). */
static const unsigned cr4_bits[] = { 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 16, 20, 21 };

/*
 * VMXON with a CR0/CR4 bit outside IA32_VMX_CRn_FIXED0/1: #GP(0) (24.8;
 * A.7, A.8; 31.3 VMXON).  Each bit that the fixed MSRs pin and that this
 * test can arrange is one check.
 */
static void check_fixed(bool cr4, unsigned bit)
{
	uint64_t fixed0 = rdmsr(cr4 ? MSR_IA32_VMX_CR4_FIXED0 : MSR_IA32_VMX_CR0_FIXED0);
	uint64_t fixed1 = rdmsr(cr4 ? MSR_IA32_VMX_CR4_FIXED1 : MSR_IA32_VMX_CR0_FIXED1);
	uint64_t old = cr4 ? read_cr4() : read_cr0(), bad;
	const char *how;
	char name[16];
	struct fault f;
	struct vmx_result r;

	if (fixed0 & BIT(bit)) {
		bad = old & ~BIT(bit);
		how = "cleared";
	} else if (!(fixed1 & BIT(bit))) {
		bad = old | BIT(bit);
		how = "set";
	} else {
		return;		/* not pinned: nothing to check */
	}
	snprintf(name, sizeof(name), "bit%u", bit);
	f = cr4 ? write_cr4_checked(bad) : write_cr0_checked(bad);
	if (f.raised) {
		skip(name, "CR%d bit %u cannot be %s on this processor", cr4 ? 4 : 0, bit, how);
		return;
	}
	r = vmxon_checked(vmxon_pa());
	if (cr4)
		write_cr4(old);
	else
		write_cr0(old);
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
	check_msg(r.outcome == VMX_FAULT && fault_is(&r.fault, X86_VEC_GP, 0), name,
		  "CR%d bit %u %s against IA32_VMX_CR%d_FIXED%d: expected #GP(0), got %s",
		  cr4 ? 4 : 0, bit, how, cr4 ? 4 : 0, (fixed0 & BIT(bit)) ? 0 : 1, RES(r));
}

static void check_fixed_bits(bool cr4)
{
	const unsigned *bits = cr4 ? cr4_bits : cr0_bits;
	size_t n = cr4 ? ARRAY_SIZE(cr4_bits) : ARRAY_SIZE(cr0_bits);
	struct report_counts before = report_counts(), after;

	if (!vmx_usable())
		return;
	ensure_off();
	for (size_t i = 0; i < n; i++)
		check_fixed(cr4, bits[i]);
	after = report_counts();
	if (after.pass + after.fail + after.skip + after.error ==
	    before.pass + before.fail + before.skip + before.error)
		skip("", "IA32_VMX_CR%d_FIXED0/1 pin no bit that this test can flip", cr4 ? 4 : 0);
}

static void check_vmxon_cr0_fixed(void)
{
	check_fixed_bits(false);
}

static void check_vmxon_cr4_fixed(void)
{
	check_fixed_bits(true);
}

/* VMXON of a region that is not 4 KiB aligned: VMfailInvalid (31.3 VMXON). */
static void check_vmxon_unaligned(void)
{
	struct vmx_result r;

	if (!vmx_usable())
		return;
	ensure_off();
	r = vmxon_checked(vmxon_pa() + 0x800);
	check_msg(r.outcome == VMX_FAIL_INVALID, "", "expected VMfailInvalid, got %s", RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
}

/* VMXON of an address beyond MAXPHYADDR: VMfailInvalid. */
static void check_vmxon_beyond_maxphyaddr(void)
{
	struct vmx_result r;

	if (!vmx_usable())
		return;
	ensure_off();
	r = vmxon_checked(beyond_maxphyaddr());
	check_msg(r.outcome == VMX_FAIL_INVALID, "", "expected VMfailInvalid for %#lx, got %s",
		  beyond_maxphyaddr(), RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
}

/* VMXON of a region whose bits 30:0 differ from the revision, or bit 31 set: VMfailInvalid. */
static void vmxon_with_revision(uint32_t rev, const char *what)
{
	uint32_t *region = alloc_page();
	struct vmx_result r;

	ensure_off();
	region[0] = rev;
	r = vmxon_checked((uint64_t)region);
	check_msg(r.outcome == VMX_FAIL_INVALID, "", "%s %#x (IA32_VMX_BASIC: %#x): expected VMfailInvalid, got %s",
		  what, rev, vmx_revision(), RES(r));
	if (r.outcome == VMX_SUCCEED)
		vmxoff_checked();
	free_page(region);
}

static void check_vmxon_bad_revision(void)
{
	if (vmx_usable())
		vmxon_with_revision(vmx_revision() ^ 1, "revision");
}

static void check_vmxon_shadow_bit(void)
{
	if (vmx_usable())
		vmxon_with_revision(vmx_revision() | BIT(31), "revision with bit 31");
}

/* VMXON succeeds and leaves no current VMCS (current-VMCS pointer all ones, 31.3 VMXON). */
static void check_vmxon_succeeds(void)
{
	struct vmx_result r;
	uint64_t ptr = 0;

	if (!vmx_usable())
		return;
	ensure_off();
	r = vmxon_checked(vmxon_pa());
	if (!check_msg(r.outcome == VMX_SUCCEED, "", "expected VMsucceed, got %s", RES(r)))
		return;
	r = vmptrst_checked(&ptr);
	check_msg(r.outcome == VMX_SUCCEED && ptr == ~0ull, "no_current_vmcs",
		  "VMPTRST after VMXON: expected FFFFFFFF_FFFFFFFF, got %#lx (%s)", ptr, RES(r));
	vmxoff_checked();
	write_cr4(read_cr4() & ~X86_CR4_VMXE);
}

/* VMXON in VMX root operation: VMfailInvalid without a current VMCS, VMfailValid(15) with one. */
static void check_vmxon_in_root(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	vmclear_checked((uint64_t)vcpu->vmcs);
	r = vmxon_checked(vmxon_pa());
	check_msg(r.outcome == VMX_FAIL_INVALID, "no_current",
		  "expected VMfailInvalid, got %s", RES(r));
	vmx_vcpu_reset(vcpu, NULL);
	r = vmxon_checked(vmxon_pa());
	check_msg(vmx_failed_with(&r, VMXERR_VMXON_IN_ROOT), "current",
		  "expected VMfailValid(15), got %s", RES(r));
}

/* CR4.VMXE cannot be cleared, nor CR0.NE/CR0 FIXED0 bits, in VMX operation (24.8). */
static void check_cr_in_vmx_operation(void)
{
	struct fault f;

	if (!vmx_usable() || !ensure_on())
		return;
	f = write_cr4_checked(read_cr4() & ~X86_CR4_VMXE);
	check_msg(fault_is(&f, X86_VEC_GP, 0), "cr4_vmxe", "clearing CR4.VMXE: expected #GP(0)");
	if (!f.raised)
		write_cr4(read_cr4() | X86_CR4_VMXE);
	if (!(rdmsr(MSR_IA32_VMX_CR0_FIXED0) & X86_CR0_NE)) {
		skip("cr0_ne", "IA32_VMX_CR0_FIXED0 does not pin CR0.NE");
		return;
	}
	f = write_cr0_checked(read_cr0() & ~X86_CR0_NE);
	check_msg(fault_is(&f, X86_VEC_GP, 0), "cr0_ne", "clearing CR0.NE: expected #GP(0)");
	if (!f.raised)
		write_cr0(read_cr0() | X86_CR0_NE);
}

/* ------------------------------------------------------------ outside VMX operation */

/* After VMXOFF every VMX instruction but VMXON raises #UD (31.3: "IF (not in VMX operation)"). */
static void check_ud_outside(void)
{
	uint64_t v = 0, pa;
	struct vmx_result r[11];
	static const char *const names[] = {
		"vmclear", "vmptrld", "vmptrst", "vmread", "vmwrite", "vmlaunch",
		"vmresume", "vmxoff", "vmcall", "invept", "invvpid",
	};

	if (!vmx_usable() || !ensure_on())
		return;
	pa = (uint64_t)vcpu->vmcs;
	vmx_disable();
	r[0] = vmclear_checked(pa);
	r[1] = vmptrld_checked(pa);
	r[2] = vmptrst_checked(&v);
	r[3] = vmread_checked(VMCS_GUEST_RIP, &v);
	r[4] = vmwrite_checked(VMCS_GUEST_RIP, 0);
	r[5] = vmlaunch_checked();
	r[6] = vmresume_checked();
	r[7] = vmxoff_checked();
	r[8] = vmcall_checked();
	r[9] = invept_checked(2, 0, 0);
	r[10] = invvpid_checked(2, 0, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		check_msg(r[i].outcome == VMX_FAULT && fault_is(&r[i].fault, X86_VEC_UD, 0), names[i],
			  "%s outside VMX operation: expected #UD, got %s", names[i], RES(r[i]));
	vcpu = NULL;	/* VMXOFF forgot it; the next ensure_on() makes a new one */
}

/* ------------------------------------------------------------ VMCLEAR, VMPTRLD, VMPTRST */

static void expect_error(const char *name, struct vmx_result r, uint32_t error)
{
	const char *n = vmx_insn_error_name(error);

	check_msg(vmx_failed_with(&r, error), name, "expected VMfailValid(%u: %s), got %s",
		  error, n ? n : "?", RES(r));
}

/* VMCLEAR: invalid address -> error 2, the VMXON pointer -> error 3 (31.3 VMCLEAR). */
static void check_vmclear(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	expect_error("unaligned", vmclear_checked((uint64_t)vcpu->vmcs + 8),
		     VMXERR_VMCLEAR_INVALID_ADDR);
	expect_error("beyond_maxphyaddr", vmclear_checked(beyond_maxphyaddr()),
		     VMXERR_VMCLEAR_INVALID_ADDR);
	expect_error("vmxon_pointer", vmclear_checked(vmxon_pa()), VMXERR_VMCLEAR_VMXON_PTR);
	vmclear_checked((uint64_t)vcpu->vmcs);
	r = vmclear_checked((uint64_t)vcpu->vmcs + 8);
	check_msg(r.outcome == VMX_FAIL_INVALID, "no_current",
		  "unaligned VMCLEAR without current VMCS: expected VMfailInvalid, got %s", RES(r));
}

/* VMPTRLD: invalid address -> 9, VMXON pointer -> 10, wrong revision -> 11 (31.3 VMPTRLD). */
static void check_vmptrld(void)
{
	uint32_t *other;
	struct vmx_result r;

	/* The region's size comes from IA32_VMX_BASIC: only with VMX. */
	if (!vmx_usable() || !ensure_on())
		return;
	other = vmx_region_alloc();
	expect_error("unaligned", vmptrld_checked((uint64_t)other + 0x100),
		     VMXERR_VMPTRLD_INVALID_ADDR);
	expect_error("beyond_maxphyaddr", vmptrld_checked(beyond_maxphyaddr()),
		     VMXERR_VMPTRLD_INVALID_ADDR);
	expect_error("vmxon_pointer", vmptrld_checked(vmxon_pa()), VMXERR_VMPTRLD_VMXON_PTR);
	other[0] = vmx_revision() ^ 1;
	expect_error("bad_revision", vmptrld_checked((uint64_t)other), VMXERR_VMPTRLD_BAD_REVISION);
	/* Bit 31 (shadow-VMCS indicator) without VMCS shadowing: error 11. */
	other[0] = vmx_revision() | BIT(31);
	if (vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING))
		skip("shadow_bit", "VMCS shadowing supported: a shadow VMCS may be loaded");
	else
		expect_error("shadow_bit", vmptrld_checked((uint64_t)other), VMXERR_VMPTRLD_BAD_REVISION);
	vmclear_checked((uint64_t)vcpu->vmcs);
	r = vmptrld_checked(vmxon_pa());
	check_msg(r.outcome == VMX_FAIL_INVALID, "no_current",
		  "VMPTRLD of the VMXON pointer without current VMCS: expected VMfailInvalid, got %s",
		  RES(r));
	free_page(other);
}

/* VMPTRST stores the current-VMCS pointer; VMCLEAR of the current VMCS makes it all ones. */
static void check_vmptrst(void)
{
	uint32_t *other;
	uint64_t ptr = 0;
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	other = vmx_region_alloc();
	r = vmptrst_checked(&ptr);
	check_msg(r.outcome == VMX_SUCCEED && ptr == (uint64_t)vcpu->vmcs, "current",
		  "expected %p, got %#lx (%s)", vcpu->vmcs, ptr, RES(r));
	vmclear_checked((uint64_t)other);
	r = vmptrst_checked(&ptr);
	check_msg(r.outcome == VMX_SUCCEED && ptr == (uint64_t)vcpu->vmcs, "vmclear_other",
		  "VMCLEAR of another VMCS: current pointer %p expected, got %#lx", vcpu->vmcs, ptr);
	r = vmptrld_checked((uint64_t)other);
	vmptrst_checked(&ptr);
	check_msg(r.outcome == VMX_SUCCEED && ptr == (uint64_t)other, "after_vmptrld",
		  "expected %p, got %#lx (%s)", other, ptr, RES(r));
	vmclear_checked((uint64_t)other);
	r = vmptrst_checked(&ptr);
	check_msg(r.outcome == VMX_SUCCEED && ptr == ~0ull, "after_vmclear",
		  "VMCLEAR of the current VMCS: expected FFFFFFFF_FFFFFFFF, got %#lx (%s)", ptr, RES(r));
	free_page(other);
}

VMX_L2_CODE(l2_vmcall, "");
VMX_L2_CODE(l2_twice, "vmcall");

static bool run_expect(const char *name, uint32_t want)
{
	uint32_t got = vmx_run(vcpu);
	const char *g = vmx_exit_name(got), *w = vmx_exit_name(want);

	return check_msg(got == want, name, "exit reason %#x (%s), expected %#x (%s); entry %s", got,
			 g ? g : "?", want, w ? w : "?", RES(vcpu->entry));
}

/* VMCALL in VMX root operation (no dual-monitor treatment): VMfailValid(1) (31.3 VMCALL). */
static void check_vmcall_root(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	expect_error("", vmcall_checked(), VMXERR_VMCALL_ROOT);
}

/*
 * The same rule decides before the current VMCS is looked at (31.3 VMCALL:
 * "VMfail (VMCALL executed in VMX root operation)" comes first): with a
 * launched current VMCS the error is still 1, not 19 (VMCALL with non-clear
 * VMCS, which only the dual-monitor treatment reaches).
 */
static void check_vmcall_root_launched(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!run_expect("first", VMX_EXIT_VMCALL))
		return;
	expect_error("", vmcall_checked(), VMXERR_VMCALL_ROOT);
}

/* Without a current VMCS, VMfail is VMfailInvalid (31.2). */
static void check_vmcall_root_no_current(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	vmclear_checked((uint64_t)vcpu->vmcs);
	r = vmcall_checked();
	check_msg(r.outcome == VMX_FAIL_INVALID, "", "expected VMfailInvalid, got %s", RES(r));
	vmx_vcpu_load(vcpu);
}

/* ------------------------------------------------------------ launch state */

/* VMLAUNCH/VMRESUME without a current VMCS: VMfailInvalid. */
static void check_launch_no_current(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	vmclear_checked((uint64_t)vcpu->vmcs);
	r = vmlaunch_checked();
	check_msg(r.outcome == VMX_FAIL_INVALID, "vmlaunch", "expected VMfailInvalid, got %s", RES(r));
	r = vmresume_checked();
	check_msg(r.outcome == VMX_FAIL_INVALID, "vmresume", "expected VMfailInvalid, got %s", RES(r));
}

/* VMRESUME of a clear VMCS: error 5 (31.3 VMLAUNCH/VMRESUME). */
static void check_vmresume_clear(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vcpu->launched = true;		/* force VMRESUME */
	vmx_run(vcpu);
	expect_error("", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
}

/* VMLAUNCH of a launched VMCS: error 4. */
static void check_vmlaunch_launched(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!run_expect("first", VMX_EXIT_VMCALL))
		return;
	vcpu->launched = false;		/* force VMLAUNCH */
	vmx_run(vcpu);
	expect_error("", vcpu->entry, VMXERR_VMLAUNCH_NOT_CLEAR);
}

/* VMCLEAR makes the launch state clear: VMRESUME fails (5), VMLAUNCH works (25.11.3). */
static void check_vmclear_resets_launch(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!run_expect("first", VMX_EXIT_VMCALL))
		return;
	vmclear_checked((uint64_t)vcpu->vmcs);
	vmx_vcpu_load(vcpu);
	vcpu->launched = true;
	vmx_run(vcpu);
	expect_error("vmresume", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
	vcpu->launched = false;
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
	run_expect("vmlaunch", VMX_EXIT_VMCALL);
}

/* ------------------------------------------------------------ VM entry */

/* A VMCALL in L2 exits with reason 18, RIP at the VMCALL, length 3 (28.2; Appendix C). */
static void check_entry_vmcall(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!run_expect("reason", VMX_EXIT_VMCALL))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_vmcall);
	check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), 3);
	check(vcpu->launched, "launched");
}

/* VMRESUME continues where the guest left: the second VMCALL. */
static void check_entry_resume(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_twice);
	if (!run_expect("first", VMX_EXIT_VMCALL))
		return;
	vmx_skip_insn();
	if (!run_expect("second", VMX_EXIT_VMCALL))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_twice_end);
}

VMX_L2_CODE(l2_gprs,
	    "add $1, %rax; add $2, %rbx; add $3, %rcx; add $4, %rdx; add $5, %rsi;"
	    "add $6, %rdi; add $7, %rbp; add $8, %r8; add $9, %r9; add $10, %r10;"
	    "add $11, %r11; add $12, %r12; add $13, %r13; add $14, %r14; add $15, %r15");

/* Guest GPRs other than RSP are neither saved nor loaded by VM entry/exit (27.3, 28.5): the loop carries them. */
static void check_entry_gprs(void)
{
	uint64_t *regs;

	if (!vmx_usable() || !ensure_on())
		return;
	regs = (uint64_t *)&vcpu->regs;
	vmx_vcpu_reset(vcpu, l2_gprs);
	for (unsigned i = 0; i < 15; i++)
		regs[i] = 0x1111111111111111ull * (i + 1);
	if (!run_expect("reason", VMX_EXIT_VMCALL))
		return;
	/* rax, rbx, rcx, rdx, rsi, rdi, rbp, r8..r15: + 1 .. 15 in that order */
	for (unsigned i = 0; i < 15; i++) {
		uint64_t want = 0x1111111111111111ull * (i + 1) + i + 1;
		char name[8];

		snprintf(name, sizeof(name), "reg%u", i);
		check_msg(regs[i] == want, name, "GPR %u: got %#lx, expected %#lx", i, regs[i], want);
	}
}

/* CR3-target count above IA32_VMX_MISC[24:16]: VMfailValid(7) (27.2.1.1). */
static void check_entry_invalid_control(void)
{
	unsigned n;

	if (!vmx_usable() || !ensure_on())
		return;
	n = (rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_CR3_TARGET_COUNT, n + 1);
	vmx_run(vcpu);
	expect_error("", vcpu->entry, VMXERR_ENTRY_INVALID_CONTROL);
}

/* A non-canonical host RIP with a 64-bit host: VMfailValid(8) (27.2.4). */
static void check_entry_invalid_host(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_HOST_RIP, 0x8000000000000000ull);
	vmx_run(vcpu);
	expect_error("", vcpu->entry, VMXERR_ENTRY_INVALID_HOST);
}

/*
 * Guest RFLAGS bit 1 clear: a VM-entry failure exit, reason 33 with bit 31,
 * qualification 0 (27.3.1.4, 27.8); the launch state stays clear, so the next
 * entry is a VMLAUNCH again.
 */
static void check_entry_invalid_guest(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_GUEST_RFLAGS, 0);
	if (!run_expect("reason", VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE))
		return;
	check_eq("qualification", vmcs_read(VMCS_EXIT_QUALIFICATION), 0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
	vcpu->launched = true;
	vmx_run(vcpu);
	expect_error("launch_state_clear", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
}

/* An exception in L2 with its exception-bitmap bit set exits with reason 0 (25.6.3, 28.2.2). */
VMX_L2_CODE(l2_ud, "ud2");
static void check_entry_exception(void)
{
	uint32_t info;

	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_ud);
	if (!run_expect("reason", VMX_EXIT_EXCEPTION))
		return;
	info = vmcs_read(VMCS_EXIT_INTR_INFO);
	check_eq("intr_info", info, VMX_INTR_INFO_VALID | (3u << 8) | X86_VEC_UD);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_ud);
}

VMX_L2_CODE16(l2_real, "mov $0x1234, %ax; mov %cr0, %ebx");
VMX_L2_CODE32(l2_prot, "mov $0x89abcdef, %eax; mov %cr0, %ebx");

/* Unrestricted guest: L2 in real mode and in protected mode without paging (25.6.2, 27.3.1.1). */
static void check_mode(const char *name, enum vmx_guest_mode mode, char *code, uint64_t rax,
		       uint64_t cr0_set, uint64_t cr0_clear)
{
	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, code);
	if (!vmx_vcpu_set_mode(vcpu, mode, code)) {
		skip(name, "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return;
	}
	if (run_expect("reason", VMX_EXIT_VMCALL)) {
		check_eq("rax", vcpu->regs.rax & 0xffffffff, rax);
		check_msg((vcpu->regs.rbx & cr0_set) == cr0_set && !(vcpu->regs.rbx & cr0_clear), "cr0",
			  "CR0 in L2 %#lx", vcpu->regs.rbx);
	}
}

static void check_real_mode(void)
{
	check_mode("real", VMX_GUEST_REAL, l2_real, 0x1234, 0, X86_CR0_PE | X86_CR0_PG);
}

static void check_prot_mode(void)
{
	check_mode("prot32", VMX_GUEST_PROT32, l2_prot, 0x89abcdef, X86_CR0_PE, X86_CR0_PG);
}

/*
 * VMREAD and VMWRITE with 32-bit operands, from an L2 in 32-bit protected
 * mode (the library's VMCS leaves VMCS shadowing off): in VMX non-root
 * operation they then exit (26.1.3, reasons 23 and 25), reporting the
 * register operands in the instruction-information field (28.2.5, the
 * VMREAD/VMWRITE layout: bit 10 set for a register operand, Reg1 in bits 6:3
 * the r/m operand, Reg2 in bits 31:28 the register holding the field).
 */
VMX_L2_CODE32(l2_prot_vmread, "mov $0x4800, %ebx; vmread %ebx, %eax");
VMX_L2_CODE32(l2_prot_vmwrite, "mov $0x4800, %ebx; mov $0xffff, %eax; vmwrite %eax, %ebx");

static void check_prot32_vmx_insn(const char *name, char *code, uint32_t reason)
{
	uint32_t info;

	report_prefix_push("%s", name);
	vmx_vcpu_reset(vcpu, code);
	if (!vmx_vcpu_set_mode(vcpu, VMX_GUEST_PROT32, code)) {
		skip("", "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		report_prefix_pop();
		return;
	}
	if (run_expect("reason", reason)) {
		info = vmcs_read(VMCS_EXIT_INSN_INFO);
		check_msg(info & (1u << 10), "register_form",
			  "instruction information %#x: bit 10 (register operand) clear", info);
		check_msg(((info >> 3) & 0xf) == 0 && (info >> 28) == 3, "registers",
			  "instruction information %#x: Reg1 %u, Reg2 %u, expected 0 (EAX) and 3 (EBX)",
			  info, (info >> 3) & 0xf, info >> 28);
	}
	report_prefix_pop();
}

static void check_prot_mode_vmx_insns(void)
{
	if (!vmx_usable() || !ensure_on())
		return;
	check_prot32_vmx_insn("vmread", l2_prot_vmread, VMX_EXIT_VMREAD);
	check_prot32_vmx_insn("vmwrite", l2_prot_vmwrite, VMX_EXIT_VMWRITE);
}

/* ------------------------------------------------------------ CPL 3 */

/*
 * Each VMX instruction's pseudocode (31.3) tests, after its #UD conditions
 * and the VM exit of VMX non-root operation, "ELSIF CPL > 0 THEN #GP(0)",
 * before any VMfail; VMXON outside VMX operation too ("IF (CPL > 0) or ...
 * THEN #GP(0)").  INVPCID raises #GP(0) at CPL > 0 (Vol. 2B INVPCID).  Each
 * case runs its instruction first at CPL 0 in the same state (the expected
 * VMsucceed or VMfail proves the state), then at CPL 3 (usermode.h).  The
 * VMfail that CPL 0 meets is chosen so that an implementation that forgot
 * the CPL test fails instead of entering a guest or leaving VMX operation.
 */
struct cpl3_case {
	const char *name;
	bool (*prepare)(void);			/* false: skip or error recorded */
	struct vmx_result (*exec)(void);
	enum vmx_outcome cpl0;			/* at CPL 0, and cpl0_error then */
	uint32_t cpl0_error;
	void (*undo)(void);			/* after a VMsucceed (either CPL) */
};

static uint32_t *cpl3_other;			/* a VMCS region that is never current */

static bool prepare_off(void)
{
	ensure_off();
	return true;
}

static bool prepare_on(void)
{
	if (!ensure_on())
		return false;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!cpl3_other)
		cpl3_other = vmx_region_alloc();
	return true;
}

/* Launched current VMCS: VMLAUNCH fails with 4 (31.3 VMLAUNCH). */
static bool prepare_launched(void)
{
	uint32_t reason;

	if (!prepare_on())
		return false;
	reason = vmx_run(vcpu);
	if (reason != VMX_EXIT_VMCALL)
		test_error("", "the VM entry that launches the VMCS: exit %#x, entry %s", reason,
			   RES(vcpu->entry));
	return reason == VMX_EXIT_VMCALL;
}

/* VMCLEARed current VMCS, so that VMXOFF leaves no VMCS data in the processor (24.11). */
static bool prepare_cleared(void)
{
	if (!prepare_on())
		return false;
	vmclear_checked((uint64_t)vcpu->vmcs);
	return true;
}

/* VMX operation where the secondary control @proc2 and the IA32_VMX_EPT_VPID_CAP @bits exist. */
static bool prepare_with_cap(uint32_t proc2, uint64_t bits, const char *missing)
{
	uint64_t cap = vmx_ctls_supported(VMX_CTLS_PROC2, proc2) ?
		       rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;

	if ((cap & bits) != bits) {
		skip("", "%s", missing);
		return false;
	}
	return prepare_on();
}

static bool prepare_invept(void)
{
	return prepare_with_cap(VMX_PROC2_EPT, VMX_EPT_INVEPT | VMX_EPT_INVEPT_ALL,
				"no all-context INVEPT (IA32_VMX_EPT_VPID_CAP[20], [26])");
}

static bool prepare_invvpid(void)
{
	return prepare_with_cap(VMX_PROC2_VPID, VMX_VPID_INVVPID | VMX_VPID_ALL,
				"no all-context INVVPID (IA32_VMX_EPT_VPID_CAP[32], [42])");
}

static bool prepare_invpcid(void)
{
	if (!cpu_has(X86_FEATURE_INVPCID)) {
		skip("", "no INVPCID (CPUID.(EAX=7,ECX=0):EBX[10])");
		return false;
	}
	return prepare_on();
}

static struct vmx_result exec_vmxon(void)
{
	return vmxon_checked(vmxon_pa());
}

static struct vmx_result exec_vmxoff(void)
{
	return vmxoff_checked();
}

static struct vmx_result exec_vmclear(void)
{
	return vmclear_checked((uint64_t)cpl3_other);
}

static struct vmx_result exec_vmptrld(void)
{
	return vmptrld_checked((uint64_t)vcpu->vmcs);
}

static struct vmx_result exec_vmptrst(void)
{
	uint64_t ptr;

	return vmptrst_checked(&ptr);
}

static struct vmx_result exec_vmread(void)
{
	uint64_t v;

	return vmread_checked(VMCS_GUEST_RIP, &v);
}

static struct vmx_result exec_vmwrite(void)
{
	return vmwrite_checked(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
}

static struct vmx_result exec_vmlaunch(void)
{
	return vmlaunch_checked();
}

static struct vmx_result exec_vmresume(void)
{
	return vmresume_checked();
}

static struct vmx_result exec_vmcall(void)
{
	return vmcall_checked();
}

static struct vmx_result exec_invept(void)
{
	return invept_checked(2, 0, 0);
}

static struct vmx_result exec_invvpid(void)
{
	return invvpid_checked(2, 0, 0);
}

static struct vmx_result exec_invpcid(void)
{
	struct fault f = invpcid_checked(2, 0, 0);

	return vmx_result_from(0, f);
}

/* Back in VMX operation with the vCPU's VMCS current after a VMXOFF that worked. */
static void undo_vmxoff(void)
{
	vmxon_checked(vmxon_pa());
	vmx_vcpu_load(vcpu);
}

static void undo_vmxon(void)
{
	vmxoff_checked();
}

static const struct cpl3_case cpl3_cases[] = {
	{ "vmxon_outside", prepare_off, exec_vmxon, VMX_SUCCEED, 0, undo_vmxon },
	{ "vmxon", prepare_on, exec_vmxon, VMX_FAIL_VALID, VMXERR_VMXON_IN_ROOT, NULL },
	{ "vmclear", prepare_on, exec_vmclear, VMX_SUCCEED, 0, NULL },
	{ "vmptrld", prepare_on, exec_vmptrld, VMX_SUCCEED, 0, NULL },
	{ "vmptrst", prepare_on, exec_vmptrst, VMX_SUCCEED, 0, NULL },
	{ "vmread", prepare_on, exec_vmread, VMX_SUCCEED, 0, NULL },
	{ "vmwrite", prepare_on, exec_vmwrite, VMX_SUCCEED, 0, NULL },
	{ "vmlaunch", prepare_launched, exec_vmlaunch, VMX_FAIL_VALID, VMXERR_VMLAUNCH_NOT_CLEAR, NULL },
	{ "vmresume", prepare_on, exec_vmresume, VMX_FAIL_VALID, VMXERR_VMRESUME_NOT_LAUNCHED, NULL },
	/* A launched VMCS: VMCALL in root is VMfailValid(1) (vmcall_root_launched). */
	{ "vmcall", prepare_launched, exec_vmcall, VMX_FAIL_VALID, VMXERR_VMCALL_ROOT, NULL },
	{ "invept", prepare_invept, exec_invept, VMX_SUCCEED, 0, NULL },
	{ "invvpid", prepare_invvpid, exec_invvpid, VMX_SUCCEED, 0, NULL },
	{ "invpcid", prepare_invpcid, exec_invpcid, VMX_SUCCEED, 0, NULL },
	{ "vmxoff", prepare_cleared, exec_vmxoff, VMX_SUCCEED, 0, undo_vmxoff },
};

struct cpl3_run {
	const struct cpl3_case *c;
	struct vmx_result r;
	unsigned cpl;
};

static void cpl3_exec(void *arg)
{
	struct cpl3_run *run = arg;

	run->cpl = current_cpl();
	run->r = run->c->exec();
}

static void check_cpl3_case(const struct cpl3_case *c)
{
	struct cpl3_run run = { c, { 0 }, 0 };
	struct vmx_result want = { c->cpl0, c->cpl0_error, { 0 } };
	char wbuf[64];
	struct fault f;

	report_prefix_push("%s", c->name);
	if (!c->prepare())
		goto out;
	run.r = c->exec();
	if (run.r.outcome == VMX_SUCCEED && c->undo)
		c->undo();
	check_msg(run.r.outcome == c->cpl0 && run.r.error == c->cpl0_error, "cpl0",
		  "CPL 0: expected %s, got %s", vmx_result_str(&want, wbuf, sizeof(wbuf)), RES(run.r));
	/* What the CPL 3 check needs from CPL 0: the same state raises no exception. */
	if (run.r.outcome == VMX_FAULT)
		goto out;
	if (!c->prepare())
		goto out;
	f = usermode_call(cpl3_exec, &run);
	if (f.raised || run.cpl != 3) {
		test_error("", "the CPL 3 call: %s, CPL %u", fault_str(&f, rbuf, sizeof(rbuf)), run.cpl);
		goto out;
	}
	/* The error number of a VMfailValid is only readable at CPL 0. */
	if (run.r.outcome == VMX_FAIL_VALID)
		run.r.error = vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	if (run.r.outcome == VMX_SUCCEED && c->undo)
		c->undo();
	check_msg(run.r.outcome == VMX_FAULT && fault_is(&run.r.fault, X86_VEC_GP, 0), "",
		  "CPL 3: expected #GP(0), got %s", RES(run.r));
out:
	report_prefix_pop();
}

static void check_cpl3(void)
{
	if (!vmx_usable())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(cpl3_cases); i++)
		check_cpl3_case(&cpl3_cases[i]);
}

/* ------------------------------------------------------------ compatibility mode */

/*
 * 31.3 VMCALL: in VMX root operation, "ELSIF (RFLAGS.VM = 1) or (IA32_EFER.LMA
 * = 1 and CS.L = 0) THEN #UD", before the CPL and the VMfail.  The code runs
 * in compatibility mode through a far call to KERNEL_CS32 (the image and its
 * stack lie below 4 GiB); the #UD unwinds through catch_fault() to 64-bit
 * mode, while a VMCALL that completes returns with a 32-bit far return.
 */
extern const char compat_vmcall[];
asm(".pushsection .text\n"
    ".code32\n"
    "compat_vmcall:\n"
    "	vmcall\n"
    "	lret\n"
    ".code64\n"
    ".popsection\n");

static void call_compat_vmcall(void *arg)
{
	struct { uint32_t offset; uint16_t selector; } __packed target = {
		(uint32_t)(uint64_t)compat_vmcall, KERNEL_CS32,
	};

	asm volatile("lcall *%0" : : "m"(target) : "memory", "cc");
}

static void check_vmcall_compat(void)
{
	struct fault f;
	struct vmx_result r;

	/* A launched VMCS, as for cpl3.vmcall: in 64-bit mode, VMCALL fails without an exception. */
	if (!vmx_usable() || !prepare_launched())
		return;
	r = vmcall_checked();
	if (!check_msg(r.outcome != VMX_FAULT, "long_mode",
		       "VMCALL in 64-bit mode: expected VMfail, got %s", RES(r)))
		return;
	f = catch_fault(call_compat_vmcall, NULL);
	check_msg(fault_is(&f, X86_VEC_UD, 0) && f.rip == (uint64_t)compat_vmcall, "",
		  "VMCALL in compatibility mode at %p: expected #UD there, got %s", compat_vmcall,
		  fault_str(&f, rbuf, sizeof(rbuf)));
}

/* ------------------------------------------------------------ blocking by MOV SS */

/* VMLAUNCH or VMRESUME right after a MOV to SS, in the MOV's shadow. */
static __noinline_noclone struct vmx_result launch_after_mov_ss(bool resume)
{
	uint64_t fl = 0;

	fault_clear();
	if (resume)
		asm volatile("mov %%ss, %%eax\n\tmov %%eax, %%ss\n\t" FAULT_TRY("vmresume")
			     "pushfq; popq %[fl]" : [fl] "+r"(fl) : : "rax", "cc", "memory");
	else
		asm volatile("mov %%ss, %%eax\n\tmov %%eax, %%ss\n\t" FAULT_TRY("vmlaunch")
			     "pushfq; popq %[fl]" : [fl] "+r"(fl) : : "rax", "cc", "memory");
	return vmx_result_from(fl, fault_take());
}

/*
 * 31.3 VMLAUNCH/VMRESUME: "ELSIF events are being blocked by MOV SS THEN
 * VMfailValid(VM entry with events blocked by MOV SS)", error 26, tested
 * before the launch state and the checks of 27.2.  The VMCS has a CR3-target
 * count above IA32_VMX_MISC[24:16], so the same instruction without the MOV
 * fails with 7 (27.2.1.1), and so would one that ignored the blocking.
 */
static void check_mov_ss(bool resume)
{
	unsigned n;
	struct vmx_result r;

	if (!vmx_usable() || !ensure_on())
		return;
	n = (rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (resume && !run_expect("launched", VMX_EXIT_VMCALL))
		return;
	vmcs_write(VMCS_CR3_TARGET_COUNT, n + 1);
	expect_error("unblocked", resume ? vmresume_checked() : vmlaunch_checked(),
		     VMXERR_ENTRY_INVALID_CONTROL);
	r = launch_after_mov_ss(resume);
	expect_error("", r, VMXERR_ENTRY_MOV_SS);
}

static void check_mov_ss_vmlaunch(void)
{
	check_mov_ss(false);
}

static void check_mov_ss_vmresume(void)
{
	check_mov_ss(true);
}

/* ------------------------------------------------------------ GETSEC */

/*
 * GETSEC with CR4.SMXE = 0 raises #UD (Vol. 2D GETSEC), in VMX root
 * operation and in VMX non-root operation alike: GETSEC exits
 * unconditionally (26.1.2) only where it does not fault first (26.1.1: the
 * #UD of CR4.SMXE = 0 comes before the exit), so L2's #UD, with bit 6 of the
 * exception bitmap, exits as exception 6 (reason 0), not GETSEC (reason 11).
 */
static __noinline_noclone struct fault getsec_checked(void)
{
	fault_clear();
	asm volatile(".globl getsec_insn\ngetsec_insn:\n\t" FAULT_TRY("getsec")
		     : : "a"(0), "b"(0) : "rcx", "rdx", "memory");
	return fault_take();
}

static void check_getsec_root(void)
{
	uint64_t cr4;
	struct fault f;

	if (!vmx_usable() || !ensure_on())
		return;
	cr4 = read_cr4();
	write_cr4(cr4 & ~X86_CR4_SMXE);
	f = getsec_checked();
	write_cr4(cr4);
	check_msg(fault_is(&f, X86_VEC_UD, 0) && f.rip == ASM_LABEL_ADDR("getsec_insn"), "",
		  "GETSEC with CR4.SMXE = 0: expected #UD at %#lx, got %s",
		  ASM_LABEL_ADDR("getsec_insn"), fault_str(&f, rbuf, sizeof(rbuf)));
}

VMX_L2_CODE(l2_getsec, "getsec");

static void check_getsec_l2(void)
{
	uint32_t reason;

	if (!vmx_usable() || !ensure_on())
		return;
	vmx_vcpu_reset(vcpu, l2_getsec);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) & ~X86_CR4_SMXE);
	vmcs_write(VMCS_EXCEPTION_BITMAP, vmcs_read(VMCS_EXCEPTION_BITMAP) | BIT(X86_VEC_UD));
	vcpu->regs.rax = 0;		/* CAPABILITIES */
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_EXCEPTION, "reason",
		       "exit reason %u (%s), expected 0 (exception #UD)", reason,
		       vmx_exit_name(reason) ?: "?"))
		return;
	check_eq("intr_info", vmcs_read(VMCS_EXIT_INTR_INFO),
		 VMX_INTR_INFO_VALID | (3u << 8) | X86_VEC_UD);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_getsec);
}

/*
 * With CR4.SMXE = 1 in L2 (allowed by IA32_VMX_CR4_FIXED1[14] where CPUID
 * offers SMX), GETSEC exits with reason 11 (26.1.2), RIP at the instruction.
 */
static void check_getsec_smxe1_l2(void)
{
	uint32_t reason;

	if (!vmx_usable() || !ensure_on())
		return;
	if (!cpu_has(X86_FEATURE_SMX)) {
		skip("", "no SMX (CPUID.1:ECX[6])");
		return;
	}
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & X86_CR4_SMXE)) {
		skip("", "CR4.SMXE fixed to 0 in VMX operation (IA32_VMX_CR4_FIXED1[14])");
		return;
	}
	vmx_vcpu_reset(vcpu, l2_getsec);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) | X86_CR4_SMXE);
	vcpu->regs.rax = 0;		/* CAPABILITIES */
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_GETSEC, "reason", "exit reason %#x (%s), expected 11 (GETSEC)",
		       reason, vmx_exit_name(reason) ?: "?"))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_getsec);
	check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), 2);
}

/* ------------------------------------------------------------ INVPCID */

/*
 * INVPCID (Vol. 2B; SDM Vol. 3A 4.10.4.1) in VMX root operation, CR4.PCIDE
 * = 0 (PCID 0 current).  Faults, #GP(0): type above 3; descriptor bits 63:12
 * not 0; type 0 with a non-canonical address; type 0 or 1 with a PCID other
 * than 0 while CR4.PCIDE = 0.  Each beside the same descriptor without the
 * fault, which must complete.
 */
#define INVPCID_NONCANONICAL	0x0000800000000000ull

struct invpcid_fault_case {
	const char *name;
	uint64_t type, pcid_etc, addr;		/* the faulting form */
	uint64_t ok_type, ok_pcid_etc, ok_addr;	/* the same without the fault */
	bool rex_w;				/* encoded with REX.W */
};

/*
 * In 64-bit mode the type register has 64 bits, with or without REX.W
 * (Vol. 2B INVPCID: "In 64-bit mode, the register operand has 64 bits"):
 * type 1_00000002H is above 3, not type 2.
 */
#define INVPCID_TYPE_HIGH	(BIT(32) | 2)

static const struct invpcid_fault_case invpcid_fault_cases[] = {
	{ "type4", 4, 0, 0, 3, 0, 0 },
	{ "type_bit32", INVPCID_TYPE_HIGH, 0, 0, 2, 0, 0 },
	{ "type_bit32_rexw", INVPCID_TYPE_HIGH, 0, 0, 2, 0, 0, true },
	{ "reserved_bit12", 2, BIT(12), 0, 2, 0, 0 },
	{ "reserved_bit63", 3, BIT(63), 0, 3, 0, 0 },
	{ "noncanonical", 0, 0, INVPCID_NONCANONICAL, 0, 0, 0x1000 },
	{ "pcid_type0", 0, 1, 0x1000, 0, 0, 0x1000 },
	{ "pcid_type1", 1, 0xfff, 0, 1, 0, 0 },
};

static bool invpcid_usable(void)
{
	if (!cpu_has(X86_FEATURE_INVPCID)) {
		skip("", "no INVPCID (CPUID.(EAX=7,ECX=0):EBX[10])");
		return false;
	}
	if (read_cr4() & X86_CR4_PCIDE) {
		test_error("", "CR4.PCIDE is set: these checks want PCID 0 only");
		return false;
	}
	/* In VMX root operation where VMX exists; INVPCID itself does not need it. */
	return vmx_missing || ensure_on();
}

/* INVPCID (%rdx), %rax with REX.W: 66 48 0F 38 82 /r, ModRM 02h. */
static struct fault invpcid_rexw_checked(uint64_t type, uint64_t pcid_etc, uint64_t addr)
{
	uint64_t desc[2] = { pcid_etc, addr };

	fault_clear();
	asm volatile(FAULT_TRY(".byte 0x66, 0x48, 0x0f, 0x38, 0x82, 0x02")
		     : : "a"(type), "d"(desc), "m"(desc) : "memory");
	return fault_take();
}

static struct fault invpcid_case_exec(const struct invpcid_fault_case *c, bool faulting)
{
	uint64_t type = faulting ? c->type : c->ok_type;
	uint64_t pcid_etc = faulting ? c->pcid_etc : c->ok_pcid_etc;
	uint64_t addr = faulting ? c->addr : c->ok_addr;

	return c->rex_w ? invpcid_rexw_checked(type, pcid_etc, addr)
			: invpcid_checked(type, pcid_etc, addr);
}

static void check_invpcid_faults(void)
{
	char buf[64];

	if (!invpcid_usable())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(invpcid_fault_cases); i++) {
		const struct invpcid_fault_case *c = &invpcid_fault_cases[i];
		struct fault f;

		report_prefix_push("%s", c->name);
		f = invpcid_case_exec(c, false);
		if (check_msg(!f.raised, "valid", "type %#lx, descriptor {%#lx, %#lx}: %s", c->ok_type,
			      c->ok_pcid_etc, c->ok_addr, fault_str(&f, buf, sizeof(buf)))) {
			f = invpcid_case_exec(c, true);
			check_msg(fault_is(&f, X86_VEC_GP, 0), "",
				  "type %#lx, descriptor {%#lx, %#lx}: expected #GP(0), got %s",
				  c->type, c->pcid_etc, c->addr, fault_str(&f, buf, sizeof(buf)));
		}
		report_prefix_pop();
	}
}

/*
 * Each type removes a translation that the TLB still holds after its PTE
 * changed (4.10.4.1: type 0 for its address, 1 for its PCID, 2 for all
 * PCIDs with global translations, 3 for all PCIDs without them): a test page
 * maps frame A, is read (cached), is re-pointed to frame B in memory without
 * INVLPG; the read must see B after the INVPCID.  Type 2 gets a global
 * translation (CR4.PGE = 1, PTE.G = 1), which types 0, 1 and 3 may keep.
 * Where the read before the INVPCID already sees B, no stale translation
 * exists and the case cannot tell a flush: a skip.
 */
#define INVPCID_TEST_VA		0x0000008000000000ull	/* 512 GiB: PML4 slot 1 */
#define FRAME_A_VALUE		0xaaaa0000aaaa0001ull
#define FRAME_B_VALUE		0xbbbb0000bbbb0002ull

struct invpcid_flush_case {
	const char *name;
	uint64_t type;
	bool global;
};

static const struct invpcid_flush_case invpcid_flush_cases[] = {
	{ "type0", 0, false },
	{ "type1", 1, false },
	{ "type2_global", 2, true },
	{ "type3", 3, false },
};

static void invpcid_flush_case(const struct invpcid_flush_case *c, uint64_t *pte,
			       uint64_t *frame_a, uint64_t *frame_b)
{
	volatile uint64_t *va = (volatile uint64_t *)INVPCID_TEST_VA;
	uint64_t flags = PTE_P | PTE_W | (c->global ? PTE_G : 0), cr4 = read_cr4(), before, after;
	struct fault f;

	report_prefix_push("%s", c->name);
	if (c->global)
		write_cr4(cr4 | X86_CR4_PGE);
	*pte = (uint64_t)frame_a | flags;
	invlpg(va);
	(void)*va;
	*pte = (uint64_t)frame_b | flags;
	before = *va;
	f = invpcid_checked(c->type, 0, INVPCID_TEST_VA);
	after = *va;
	write_cr4(cr4);		/* clearing PGE again flushes the global translation (4.10.4.1) */
	invlpg(va);
	if (before != FRAME_A_VALUE)
		skip("", "no stale translation after the PTE change (read %#lx): nothing to flush",
		     before);
	else if (check_msg(!f.raised, "completes", "%s", fault_str(&f, rbuf, sizeof(rbuf))))
		check_msg(after == FRAME_B_VALUE, "", "after INVPCID type %lu: read %#lx (frame %s), "
			  "expected %#llx", c->type, after, after == FRAME_A_VALUE ? "A, stale" : "?",
			  FRAME_B_VALUE);
	report_prefix_pop();
}

static void check_invpcid_flush(void)
{
	static uint64_t *frame_a, *frame_b;
	struct pagetable *pt = paging_current();
	uint64_t *pte;
	unsigned level;

	if (!invpcid_usable())
		return;
	if (!frame_a) {
		if (pt_find(pt, INVPCID_TEST_VA, &level)) {
			test_error("", "the test address %#llx is mapped already", INVPCID_TEST_VA);
			return;
		}
		frame_a = alloc_page();
		frame_b = alloc_page();
		*frame_a = FRAME_A_VALUE;
		*frame_b = FRAME_B_VALUE;
		pt_map(pt, INVPCID_TEST_VA, (uint64_t)frame_a, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
	}
	pte = pt_find(pt, INVPCID_TEST_VA, &level);
	for (unsigned i = 0; i < ARRAY_SIZE(invpcid_flush_cases); i++)
		invpcid_flush_case(&invpcid_flush_cases[i], pte, frame_a, frame_b);
}

static const struct check_entry checks[] = {
	{ "vmxon.vmxe_clear", check_vmxon_vmxe_clear },
	{ "vmxon.feature_control", check_vmxon_feature_control },
	{ "vmxon.cr0_fixed", check_vmxon_cr0_fixed },
	{ "vmxon.cr4_fixed", check_vmxon_cr4_fixed },
	{ "vmxon.unaligned", check_vmxon_unaligned },
	{ "vmxon.beyond_maxphyaddr", check_vmxon_beyond_maxphyaddr },
	{ "vmxon.bad_revision", check_vmxon_bad_revision },
	{ "vmxon.shadow_bit", check_vmxon_shadow_bit },
	{ "vmxon.succeeds", check_vmxon_succeeds },
	{ "vmxon.in_root", check_vmxon_in_root },
	{ "vmx_operation.cr_fixed", check_cr_in_vmx_operation },
	{ "vmclear", check_vmclear },
	{ "vmptrld", check_vmptrld },
	{ "vmptrst", check_vmptrst },
	/*
	 * on_request: Bochs 2.7 stops the whole machine with a panic ("VMCALL:
	 * not implemented yet") instead of VMfailValid(1); run it by name.
	 */
	{ "vmcall_root", check_vmcall_root },
	{ "vmcall_root_launched", check_vmcall_root_launched },
	{ "vmcall_root_no_current", check_vmcall_root_no_current },
	{ "launch.no_current", check_launch_no_current },
	{ "launch.vmresume_clear", check_vmresume_clear },
	{ "launch.vmlaunch_launched", check_vmlaunch_launched },
	{ "launch.vmclear_resets", check_vmclear_resets_launch },
	{ "entry.vmcall", check_entry_vmcall },
	{ "entry.resume", check_entry_resume },
	{ "entry.gprs", check_entry_gprs },
	{ "entry.exception", check_entry_exception },
	{ "entry.invalid_control", check_entry_invalid_control },
	{ "entry.invalid_host", check_entry_invalid_host },
	{ "entry.invalid_guest", check_entry_invalid_guest },
	{ "mode.real", check_real_mode },
	{ "mode.prot32", check_prot_mode },
	{ "mode.prot32_exits", check_prot_mode_vmx_insns },
	{ "cpl3", check_cpl3 },
	{ "vmcall_compat", check_vmcall_compat },
	{ "movss.vmlaunch", check_mov_ss_vmlaunch },
	{ "movss.vmresume", check_mov_ss_vmresume },
	{ "getsec.smxe0.root", check_getsec_root },
	{ "getsec.smxe0.l2", check_getsec_l2 },
	{ "getsec.smxe1.l2", check_getsec_smxe1_l2 },
	{ "invpcid.fault", check_invpcid_faults },
	{ "invpcid.flush", check_invpcid_flush },
	{ "vmxoff.ud", check_ud_outside },
};

DEFINE_TEST("vmx_insn", checks, .setup = setup);
