/*
 * The VMX instructions themselves (SDM Vol. 3C chapter 31, "VMX Instruction
 * Reference"; conventions in 31.2, error numbers in 31.4): the preconditions
 * of VMXON (24.7, "Enabling and Entering VMX Operation"; 24.8, "Restrictions
 * on VMX Operation"), the address and revision checks of VMCLEAR, VMPTRLD and
 * VMXON, VMPTRST, the launch state that VMLAUNCH and VMRESUME require (25.1,
 * "Overview"; 25.11.3, "Initializing a VMCS"), VM-entry failures (27.1-27.2,
 * 27.8) and a first VM entry with the library's 64-bit, real-mode and
 * protected-mode guests.  The faults that come before an instruction does
 * anything (CPL 3, compatibility mode, MOV-SS blocking), GETSEC and INVPCID
 * are in x86/vmx_insn_faults.c.
 *
 * Entries run in table order: the VMXON checks start outside VMX operation
 * and may leave the test in or out of it; every other check arranges the state
 * it needs with vmx_ensure_on()/vmx_ensure_off().
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "pagetable.h"
#include "test.h"
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
	vmx_ensure_off();
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
	vmx_ensure_off();
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
	vmx_ensure_off();
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
	vmx_ensure_off();
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
	vmx_ensure_off();
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

	vmx_ensure_off();
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
	vmx_ensure_off();
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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
	vcpu = NULL;	/* VMXOFF forgot it; the next vmx_ensure_on(&vcpu) makes a new one */
}

/* ------------------------------------------------------------ VMCLEAR, VMPTRLD, VMPTRST */

/* VMCLEAR: invalid address -> error 2, the VMXON pointer -> error 3 (31.3 VMCLEAR). */
static void check_vmclear(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_check_fail_valid("unaligned", vmclear_checked((uint64_t)vcpu->vmcs + 8),
		     VMXERR_VMCLEAR_INVALID_ADDR);
	vmx_check_fail_valid("beyond_maxphyaddr", vmclear_checked(beyond_maxphyaddr()),
		     VMXERR_VMCLEAR_INVALID_ADDR);
	vmx_check_fail_valid("vmxon_pointer", vmclear_checked(vmxon_pa()), VMXERR_VMCLEAR_VMXON_PTR);
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
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	other = vmx_region_alloc();
	vmx_check_fail_valid("unaligned", vmptrld_checked((uint64_t)other + 0x100),
		     VMXERR_VMPTRLD_INVALID_ADDR);
	vmx_check_fail_valid("beyond_maxphyaddr", vmptrld_checked(beyond_maxphyaddr()),
		     VMXERR_VMPTRLD_INVALID_ADDR);
	vmx_check_fail_valid("vmxon_pointer", vmptrld_checked(vmxon_pa()), VMXERR_VMPTRLD_VMXON_PTR);
	other[0] = vmx_revision() ^ 1;
	vmx_check_fail_valid("bad_revision", vmptrld_checked((uint64_t)other), VMXERR_VMPTRLD_BAD_REVISION);
	/* Bit 31 (shadow-VMCS indicator) without VMCS shadowing: error 11. */
	other[0] = vmx_revision() | BIT(31);
	if (vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING))
		skip("shadow_bit", "VMCS shadowing supported: a shadow VMCS may be loaded");
	else
		vmx_check_fail_valid("shadow_bit", vmptrld_checked((uint64_t)other), VMXERR_VMPTRLD_BAD_REVISION);
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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

/* VMCALL in VMX root operation (no dual-monitor treatment): VMfailValid(1) (31.3 VMCALL). */
static void check_vmcall_root(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_check_fail_valid("", vmcall_checked(), VMXERR_VMCALL_ROOT);
}

/*
 * The same rule decides before the current VMCS is looked at (31.3 VMCALL:
 * "VMfail (VMCALL executed in VMX root operation)" comes first): with a
 * launched current VMCS the error is still 1, not 19 (VMCALL with non-clear
 * VMCS, which only the dual-monitor treatment reaches).
 */
static void check_vmcall_root_launched(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!vmx_check_run_exit(vcpu, "first", VMX_EXIT_VMCALL))
		return;
	vmx_check_fail_valid("", vmcall_checked(), VMXERR_VMCALL_ROOT);
}

/* Without a current VMCS, VMfail is VMfailInvalid (31.2). */
static void check_vmcall_root_no_current(void)
{
	struct vmx_result r;

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
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
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vcpu->launched = true;		/* force VMRESUME */
	vmx_run(vcpu);
	vmx_check_fail_valid("", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
}

/* VMLAUNCH of a launched VMCS: error 4. */
static void check_vmlaunch_launched(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!vmx_check_run_exit(vcpu, "first", VMX_EXIT_VMCALL))
		return;
	vcpu->launched = false;		/* force VMLAUNCH */
	vmx_run(vcpu);
	vmx_check_fail_valid("", vcpu->entry, VMXERR_VMLAUNCH_NOT_CLEAR);
}

/* VMCLEAR makes the launch state clear: VMRESUME fails (5), VMLAUNCH works (25.11.3). */
static void check_vmclear_resets_launch(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!vmx_check_run_exit(vcpu, "first", VMX_EXIT_VMCALL))
		return;
	vmclear_checked((uint64_t)vcpu->vmcs);
	vmx_vcpu_load(vcpu);
	vcpu->launched = true;
	vmx_run(vcpu);
	vmx_check_fail_valid("vmresume", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
	vcpu->launched = false;
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
	vmx_check_run_exit(vcpu, "vmlaunch", VMX_EXIT_VMCALL);
}

/* ------------------------------------------------------------ VM entry */

/* A VMCALL in L2 exits with reason 18, RIP at the VMCALL, length 3 (28.2; Appendix C). */
static void check_entry_vmcall(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!vmx_check_run_exit(vcpu, "reason", VMX_EXIT_VMCALL))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_vmcall);
	check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), 3);
	check(vcpu->launched, "launched");
}

/* VMRESUME continues where the guest left: the second VMCALL. */
static void check_entry_resume(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_twice);
	if (!vmx_check_run_exit(vcpu, "first", VMX_EXIT_VMCALL))
		return;
	vmx_skip_insn();
	if (!vmx_check_run_exit(vcpu, "second", VMX_EXIT_VMCALL))
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	regs = (uint64_t *)&vcpu->regs;
	vmx_vcpu_reset(vcpu, l2_gprs);
	for (unsigned i = 0; i < 15; i++)
		regs[i] = 0x1111111111111111ull * (i + 1);
	if (!vmx_check_run_exit(vcpu, "reason", VMX_EXIT_VMCALL))
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

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	n = (rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_CR3_TARGET_COUNT, n + 1);
	vmx_run(vcpu);
	vmx_check_fail_valid("", vcpu->entry, VMXERR_ENTRY_INVALID_CONTROL);
}

/* A non-canonical host RIP with a 64-bit host: VMfailValid(8) (27.2.4). */
static void check_entry_invalid_host(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_HOST_RIP, 0x8000000000000000ull);
	vmx_run(vcpu);
	vmx_check_fail_valid("", vcpu->entry, VMXERR_ENTRY_INVALID_HOST);
}

/*
 * Guest RFLAGS bit 1 clear: a VM-entry failure exit, reason 33 with bit 31,
 * qualification 0 (27.3.1.4, 27.8); the launch state stays clear, so the next
 * entry is a VMLAUNCH again.
 */
static void check_entry_invalid_guest(void)
{
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	vmcs_write(VMCS_GUEST_RFLAGS, 0);
	if (!vmx_check_run_exit(vcpu, "reason", VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE))
		return;
	check_eq("qualification", vmcs_read(VMCS_EXIT_QUALIFICATION), 0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
	vcpu->launched = true;
	vmx_run(vcpu);
	vmx_check_fail_valid("launch_state_clear", vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED);
}

/* An exception in L2 with its exception-bitmap bit set exits with reason 0 (25.6.3, 28.2.2). */
VMX_L2_CODE(l2_ud, "ud2");
static void check_entry_exception(void)
{
	uint32_t info;

	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_ud);
	if (!vmx_check_run_exit(vcpu, "reason", VMX_EXIT_EXCEPTION))
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
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, code);
	if (!vmx_vcpu_set_mode(vcpu, mode, code)) {
		skip(name, "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return;
	}
	if (vmx_check_run_exit(vcpu, "reason", VMX_EXIT_VMCALL)) {
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
	if (vmx_check_run_exit(vcpu, "reason", reason)) {
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
	if (!vmx_usable() || !vmx_ensure_on(&vcpu))
		return;
	check_prot32_vmx_insn("vmread", l2_prot_vmread, VMX_EXIT_VMREAD);
	check_prot32_vmx_insn("vmwrite", l2_prot_vmwrite, VMX_EXIT_VMWRITE);
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
	{ "vmxoff.ud", check_ud_outside },
};

DEFINE_TEST("vmx_insn", checks, .setup = setup);
