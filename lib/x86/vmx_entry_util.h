/**
 * @file vmx_entry_util.h
 * Table-driven VM-entry checks (SDM Vol. 3C chapter 27, "VM Entries"): each
 * case starts from a VMCS that VM entry accepts, breaks one rule, and expects
 * the exact outcome.
 *
 * What a case expects comes from the rule table (vmx_rules.h), not from the
 * case: the case names the rule it breaks, and the table, evaluated on the
 * VMCS right before VMLAUNCH, must find that rule violated and predict one
 * outcome, which the entry must then show.  A valid VMCS must break no rule.
 * A case whose VMCS the table judges otherwise is a test ERROR (the case or
 * the table is wrong), never a verdict on the processor.
 *
 * One case (ve_run()) records up to three results under its table entry:
 *  - "valid": the positive control.  The VMCS as prepare() leaves it enters
 *    and reaches the VMCALL of L2 (or the exit the case names in .base).
 *  - "fails": a fresh VMCS (vmx_vcpu_reset(): VMCLEAR, so the launch state is
 *    clear), prepare() again, brk() or the field change, then VMLAUNCH: the
 *    outcome the table predicts, VMfailValid with the error number (7
 *    controls, 8 host state; 27.2), or the VM-entry failure exit (bit 31 set,
 *    reason 33 or 34, 27.8) with its exit qualification.  For a case that
 *    stays inside its rule (.legal) this result is "enters".
 *  - "launch_state": after a failed entry the launch state is still clear
 *    (27.8; 31.3 VMLAUNCH/VMRESUME): with every writable field restored to its
 *    value before brk(), VMRESUME fails with error 5 (it would enter if the
 *    failed VMLAUNCH had marked the VMCS launched).
 */
#ifndef HVT_X86_VMX_ENTRY_UTIL_H
#define HVT_X86_VMX_ENTRY_UTIL_H

#include "vmx_rules.h"

struct ve_case {
	/** Makes the valid VMCS from the default one; false after a skip(). NULL: nothing. */
	bool (*prepare)(void);
	/** Breaks the rule; NULL: vmcs_update(field, clear, set). */
	void (*brk)(void);
	uint32_t field;
	uint64_t clear, set;
	/** The rule of lib/x86/vmx_rules.h that the change breaks (or, with .legal, keeps). */
	enum vr_rule_id rule;
	/** The change stays just inside the rule: the entry must succeed. */
	bool legal;
	uint32_t base;		/**< 0: the valid VMCS exits with VMCALL */
};

/** .base of a case whose valid VMCS exits with @reason instead of VMCALL. */
#define VE_BASE(reason)	(0x10000u | (reason))

/** Defines a check-table function @fn that runs the case given by the initializers. */
#define VE_CASE(fn, ...)                                                       \
	static void fn(void)                                                   \
	{                                                                      \
		static const struct ve_case c_ = { __VA_ARGS__ };               \
		ve_run(&c_);                                                   \
	}

/** The test's setup: VMX operation and a vCPU, or the reason VMX is missing. */
void ve_setup(void);
/** skip("") with the reason when VMX is missing. */
bool ve_usable(void);
extern struct vmx_vcpu *ve_vcpu;

/** Runs one case (see the file comment). */
void ve_run(const struct ve_case *c);
/**
 * Only the "fails" and "launch_state" parts of @c, from a fresh VMCS
 * (for loops over bits, after one ve_run_valid()).
 */
void ve_run_broken(const struct ve_case *c);
/** Only the "valid" part. */
bool ve_run_valid(bool (*prepare)(void), uint32_t base);

/**
 * Each bit of @field that @fixed0_msr (must be 1) or @fixed1_msr (must be 0)
 * pins (IA32_VMX_CR0/CR4_FIXED0/1), set against it in turn: one case named
 * bitN each, breaking @rule.  Skips when the MSR pins no bit.
 */
void ve_check_fixed_bits(uint32_t field, uint32_t fixed0_msr, uint32_t fixed1_msr,
			 bool must_be_1, enum vr_rule_id rule);

/** A memory write that the case's end undoes (MSR areas, region headers). */
void ve_poke64(uint64_t *p, uint64_t v);
void ve_poke32(uint32_t *p, uint32_t v);

/* Helpers for prepare() functions; each records skip("") when it fails. */
bool ve_ctls(enum vmx_ctls which, uint32_t set);
/** ve_ctls(), then @field = @value (the field the control makes VM entry read). */
bool ve_ctls_field(enum vmx_ctls which, uint32_t set, uint32_t field, uint64_t value);
/** EPT with an identity map of RAM (the guest keeps its mode and paging). */
bool ve_ept(void);
/** EPT plus unrestricted guest, guest still 64-bit. */
bool ve_unrestricted(void);
/** Injects @info (error code @err, length @len) with the guest IDT limit 0: delivery exits with #GP. */
void ve_inject(uint32_t info, uint32_t err, uint32_t len);
/** A physical address with bit MAXPHYADDR set. */
uint64_t ve_beyond_maxphyaddr(void);
/** A page that stays allocated for the test. */
void *ve_page(unsigned n);
/** An address outside the canonical range (bit 63 set, bits 62:47 clear). */
#define VE_NONCANONICAL	0x8000000000000000ull

/** Interruption types (SDM Vol. 3C 25.8.3, Table 25-17). */
#define VE_INTR(type, vector)	(VMX_INTR_INFO_VALID | ((type) << 8) | (vector))
enum { VE_EXT_INTR = 0, VE_TYPE_RSVD = 1, VE_NMI = 2, VE_HW_EXC = 3, VE_SOFT_INTR = 4,
       VE_PRIV_SOFT_EXC = 5, VE_SOFT_EXC = 6, VE_OTHER = 7 };

#endif
