/**
 * @file vmx.h
 * Intel VMX for an L1 hypervisor written as a test (SDM Vol. 3C chapters
 * 24-31, capability MSRs in Appendix A, field encodings in Appendix B).
 *
 * Layers, each usable alone:
 *  - capability probing: vmx_supported(), vmx_cap_has(), the allowed-0/allowed-1
 *    settings of each control word (vmx_ctls_allowed(), vmx_ctls_adjust());
 *  - VMX operation: vmx_enable() (IA32_FEATURE_CONTROL, CR0/CR4 fixed bits,
 *    VMXON), vmx_disable(), regions stamped from IA32_VMX_BASIC (vmx_region_alloc());
 *  - the raw instructions with their outcome (vmxon_checked() ... vmlaunch_checked()):
 *    a struct vmx_result says whether they succeeded, VMfailInvalid (CF),
 *    VMfailValid (ZF, with the VM-instruction error number) or raised a fault;
 *  - VMCS access: vmcs_read()/vmcs_write() that must succeed (a failure is a
 *    test_error()), the field table vmcs_fields[] (vmcs_fields.h);
 *  - a vCPU: a VMCS prepared with the test's own state as host state and a
 *    64-bit guest sharing the test's address space (vmx_vcpu_create()), control
 *    helpers that honour the allowed settings (vmx_vcpu_set_ctls()), other guest
 *    modes (vmx_vcpu_set_mode()), and the entry loop vmx_run().
 *
 * Writing a check that runs L2 code:
 *
 *     VMX_L2_CODE(l2_cpuid, "cpuid");               // file scope; ends in VMCALL
 *
 *     static void check_cpuid_exits(void)
 *     {
 *             vmx_vcpu_reset(vcpu, l2_cpuid);         // fresh VMCS, RIP = l2_cpuid
 *             vcpu->regs.rax = 0;                     // L2's GPRs (RSP/RIP: VMCS)
 *             check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID);
 *             check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_cpuid);
 *     }
 *
 * with setup() doing: if (vmx_supported(&why)) { vmx_enable(); vcpu = vmx_vcpu_create(); }
 * and each check starting with "if (!vmx_usable()) return;" style skips.  A
 * control that a check needs: if (!vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_HLT_EXIT, 0))
 * { skip(...); return; } — or vmx_require() which records the skip with the
 * capability MSR and bit.
 */
#ifndef HVT_X86_VMX_H
#define HVT_X86_VMX_H

#include "fault.h"
#include "libhvt.h"
#include "vmcs_fields.h"

/* VMX capability MSRs (SDM Vol. 4 Table 2-2; Vol. 3C Appendix A) */
#define MSR_IA32_VMX_BASIC		0x480
#define MSR_IA32_VMX_PINBASED_CTLS	0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x482
#define MSR_IA32_VMX_EXIT_CTLS		0x483
#define MSR_IA32_VMX_ENTRY_CTLS		0x484
#define MSR_IA32_VMX_MISC		0x485
#define MSR_IA32_VMX_CR0_FIXED0		0x486
#define MSR_IA32_VMX_CR0_FIXED1		0x487
#define MSR_IA32_VMX_CR4_FIXED0		0x488
#define MSR_IA32_VMX_CR4_FIXED1		0x489
#define MSR_IA32_VMX_VMCS_ENUM		0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x490
#define MSR_IA32_VMX_VMFUNC		0x491
#define MSR_IA32_VMX_PROCBASED_CTLS3	0x492	/* allowed-1 settings of the tertiary controls (A.3.4) */
#define MSR_IA32_VMX_EXIT_CTLS2		0x493	/* allowed-1 settings of the secondary exit controls (A.4.2) */

/* IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7, "Enabling and Entering VMX Operation") */
#define FEATURE_CONTROL_LOCK		BIT(0)
#define FEATURE_CONTROL_VMX_IN_SMX	BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX	BIT(2)

/* IA32_VMX_BASIC (Appendix A.1) */
#define VMX_BASIC_REVISION_MASK		0x7fffffffull
#define VMX_BASIC_SIZE_SHIFT		32	/* bits 44:32: region size in bytes */
#define VMX_BASIC_32BIT_ADDRS		BIT(48)
#define VMX_BASIC_DUAL_MONITOR		BIT(49)
#define VMX_BASIC_MEMTYPE_SHIFT		50	/* bits 53:50 */
#define VMX_BASIC_INS_OUTS_INFO		BIT(54)
#define VMX_BASIC_TRUE_CTLS		BIT(55)

/* IA32_VMX_MISC (Appendix A.6) */
#define VMX_MISC_VMWRITE_ANY		BIT(29)	/* VMWRITE may write VM-exit information fields */

/* Pin-based VM-execution controls (SDM Vol. 3C 25.6.1) */
#define VMX_PIN_EXT_INTR_EXIT		BIT(0)
#define VMX_PIN_NMI_EXIT		BIT(3)
#define VMX_PIN_VIRTUAL_NMIS		BIT(5)
#define VMX_PIN_PREEMPTION_TIMER	BIT(6)
#define VMX_PIN_POSTED_INTR		BIT(7)

/* Primary processor-based VM-execution controls (25.6.2) */
#define VMX_PROC_INTR_WINDOW_EXIT	BIT(2)
#define VMX_PROC_TSC_OFFSET		BIT(3)
#define VMX_PROC_HLT_EXIT		BIT(7)
#define VMX_PROC_INVLPG_EXIT		BIT(9)
#define VMX_PROC_TERTIARY		BIT(17)	/* activate tertiary controls */
#define VMX_PROC_MWAIT_EXIT		BIT(10)
#define VMX_PROC_RDPMC_EXIT		BIT(11)
#define VMX_PROC_RDTSC_EXIT		BIT(12)
#define VMX_PROC_CR3_LOAD_EXIT		BIT(15)
#define VMX_PROC_CR3_STORE_EXIT		BIT(16)
#define VMX_PROC_CR8_LOAD_EXIT		BIT(19)
#define VMX_PROC_CR8_STORE_EXIT		BIT(20)
#define VMX_PROC_TPR_SHADOW		BIT(21)
#define VMX_PROC_NMI_WINDOW_EXIT	BIT(22)
#define VMX_PROC_MOV_DR_EXIT		BIT(23)
#define VMX_PROC_UNCOND_IO_EXIT		BIT(24)
#define VMX_PROC_IO_BITMAPS		BIT(25)
#define VMX_PROC_MTF			BIT(27)
#define VMX_PROC_MSR_BITMAPS		BIT(28)
#define VMX_PROC_MONITOR_EXIT		BIT(29)
#define VMX_PROC_PAUSE_EXIT		BIT(30)
#define VMX_PROC_SECONDARY		BIT(31)

/* Secondary processor-based VM-execution controls (25.6.2) */
#define VMX_PROC2_VIRT_APIC_ACCESS	BIT(0)
#define VMX_PROC2_EPT			BIT(1)
#define VMX_PROC2_DESC_TABLE_EXIT	BIT(2)
#define VMX_PROC2_RDTSCP		BIT(3)
#define VMX_PROC2_VIRT_X2APIC		BIT(4)
#define VMX_PROC2_VPID			BIT(5)
#define VMX_PROC2_WBINVD_EXIT		BIT(6)
#define VMX_PROC2_UNRESTRICTED		BIT(7)
#define VMX_PROC2_APIC_REG_VIRT		BIT(8)
#define VMX_PROC2_VIRT_INTR_DELIVERY	BIT(9)
#define VMX_PROC2_PAUSE_LOOP_EXIT	BIT(10)
#define VMX_PROC2_RDRAND_EXIT		BIT(11)
#define VMX_PROC2_INVPCID		BIT(12)
#define VMX_PROC2_VMFUNC		BIT(13)
#define VMX_PROC2_VMCS_SHADOWING	BIT(14)
#define VMX_PROC2_RDSEED_EXIT		BIT(16)
#define VMX_PROC2_PML			BIT(17)
#define VMX_PROC2_EPT_VE		BIT(18)
#define VMX_PROC2_XSAVES		BIT(20)
#define VMX_PROC2_MBEC			BIT(22)	/* mode-based execute control for EPT */
#define VMX_PROC2_SPP			BIT(23)	/* sub-page write permissions for EPT */
#define VMX_PROC2_TSC_SCALING		BIT(25)

/* VM-exit controls (25.7.1) */
#define VMX_EXIT_SAVE_DEBUG		BIT(2)
#define VMX_EXIT_HOST_ADDR_SPACE	BIT(9)
#define VMX_EXIT_LOAD_PERF_GLOBAL	BIT(12)
#define VMX_EXIT_ACK_INTR		BIT(15)
#define VMX_EXIT_SAVE_PAT		BIT(18)
#define VMX_EXIT_LOAD_PAT		BIT(19)
#define VMX_EXIT_SAVE_EFER		BIT(20)
#define VMX_EXIT_LOAD_EFER		BIT(21)
#define VMX_EXIT_SAVE_PREEMPT		BIT(22)
#define VMX_EXIT_CLEAR_UINV		BIT(27)
#define VMX_EXIT_LOAD_CET		BIT(28)
#define VMX_EXIT_LOAD_PKRS		BIT(29)
#define VMX_EXIT_SECONDARY		BIT(31)	/* activate secondary controls */

/* Tertiary processor-based VM-execution controls (25.6.2) */
#define VMX_PROC3_VIRT_SPEC_CTRL	BIT(7)	/* virtualize IA32_SPEC_CTRL */

/* VM-entry controls (25.8.1) */
#define VMX_ENTRY_LOAD_DEBUG		BIT(2)
#define VMX_ENTRY_IA32E			BIT(9)
#define VMX_ENTRY_SMM			BIT(10)
#define VMX_ENTRY_DUAL_MONITOR		BIT(11)
#define VMX_ENTRY_LOAD_PERF_GLOBAL	BIT(13)
#define VMX_ENTRY_LOAD_PAT		BIT(14)
#define VMX_ENTRY_LOAD_EFER		BIT(15)
#define VMX_ENTRY_LOAD_UINV		BIT(19)
#define VMX_ENTRY_LOAD_CET		BIT(20)
#define VMX_ENTRY_LOAD_PKRS		BIT(22)

/* IA32_VMX_EPT_VPID_CAP (Appendix A.10) */
#define VMX_EPT_EXEC_ONLY		BIT(0)
#define VMX_EPT_WALK4			BIT(6)
#define VMX_EPT_UC			BIT(8)
#define VMX_EPT_WB			BIT(14)
#define VMX_EPT_2M			BIT(16)
#define VMX_EPT_1G			BIT(17)
#define VMX_EPT_INVEPT			BIT(20)
#define VMX_EPT_AD			BIT(21)
#define VMX_EPT_INVEPT_SINGLE		BIT(25)
#define VMX_EPT_INVEPT_ALL		BIT(26)
#define VMX_VPID_INVVPID		BIT(32)
#define VMX_VPID_INDIVIDUAL		BIT(40)
#define VMX_VPID_SINGLE			BIT(41)
#define VMX_VPID_ALL			BIT(42)
#define VMX_VPID_SINGLE_NONGLOBAL	BIT(43)

/* Basic exit reasons (SDM Vol. 3C Appendix C) */
enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION = 0, VMX_EXIT_EXT_INTR = 1, VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_INIT = 3, VMX_EXIT_SIPI = 4, VMX_EXIT_IO_SMI = 5, VMX_EXIT_OTHER_SMI = 6,
	VMX_EXIT_INTR_WINDOW = 7, VMX_EXIT_NMI_WINDOW = 8, VMX_EXIT_TASK_SWITCH = 9,
	VMX_EXIT_CPUID = 10, VMX_EXIT_GETSEC = 11, VMX_EXIT_HLT = 12, VMX_EXIT_INVD = 13,
	VMX_EXIT_INVLPG = 14, VMX_EXIT_RDPMC = 15, VMX_EXIT_RDTSC = 16, VMX_EXIT_RSM = 17,
	VMX_EXIT_VMCALL = 18, VMX_EXIT_VMCLEAR = 19, VMX_EXIT_VMLAUNCH = 20,
	VMX_EXIT_VMPTRLD = 21, VMX_EXIT_VMPTRST = 22, VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24, VMX_EXIT_VMWRITE = 25, VMX_EXIT_VMXOFF = 26,
	VMX_EXIT_VMXON = 27, VMX_EXIT_CR_ACCESS = 28, VMX_EXIT_DR_ACCESS = 29,
	VMX_EXIT_IO = 30, VMX_EXIT_RDMSR = 31, VMX_EXIT_WRMSR = 32,
	VMX_EXIT_INVALID_GUEST_STATE = 33, VMX_EXIT_MSR_LOAD_FAIL = 34, VMX_EXIT_MWAIT = 36,
	VMX_EXIT_MTF = 37, VMX_EXIT_MONITOR = 39, VMX_EXIT_PAUSE = 40,
	VMX_EXIT_MACHINE_CHECK = 41, VMX_EXIT_TPR_BELOW_THRESHOLD = 43,
	VMX_EXIT_APIC_ACCESS = 44, VMX_EXIT_EOI_INDUCED = 45, VMX_EXIT_GDTR_IDTR = 46,
	VMX_EXIT_LDTR_TR = 47, VMX_EXIT_EPT_VIOLATION = 48, VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_INVEPT = 50, VMX_EXIT_RDTSCP = 51, VMX_EXIT_PREEMPTION_TIMER = 52,
	VMX_EXIT_INVVPID = 53, VMX_EXIT_WBINVD = 54, VMX_EXIT_XSETBV = 55,
	VMX_EXIT_APIC_WRITE = 56, VMX_EXIT_RDRAND = 57, VMX_EXIT_INVPCID = 58,
	VMX_EXIT_VMFUNC = 59, VMX_EXIT_ENCLS = 60, VMX_EXIT_RDSEED = 61,
	VMX_EXIT_PML_FULL = 62, VMX_EXIT_XSAVES = 63, VMX_EXIT_XRSTORS = 64,
};
/** Exit reason bit 31: VM-entry failure (SDM Vol. 3C 25.9.1, 27.8). */
#define VMX_EXIT_ENTRY_FAILURE		BIT(31)
/** What vmx_run() returns when VMLAUNCH/VMRESUME itself failed (VMfailInvalid/VMfailValid). */
#define VMX_EXIT_VMFAIL			0xffffffffu

/* VM-instruction error numbers (SDM Vol. 3C 31.4) */
enum vmx_insn_error {
	VMXERR_VMCALL_ROOT = 1, VMXERR_VMCLEAR_INVALID_ADDR = 2, VMXERR_VMCLEAR_VMXON_PTR = 3,
	VMXERR_VMLAUNCH_NOT_CLEAR = 4, VMXERR_VMRESUME_NOT_LAUNCHED = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6, VMXERR_ENTRY_INVALID_CONTROL = 7,
	VMXERR_ENTRY_INVALID_HOST = 8, VMXERR_VMPTRLD_INVALID_ADDR = 9,
	VMXERR_VMPTRLD_VMXON_PTR = 10, VMXERR_VMPTRLD_BAD_REVISION = 11,
	VMXERR_UNSUPPORTED_FIELD = 12, VMXERR_VMWRITE_READ_ONLY = 13,
	VMXERR_VMXON_IN_ROOT = 15, VMXERR_ENTRY_MOV_SS = 26, VMXERR_INVALID_INVEPT_INVVPID = 28,
};

/* Guest interruptibility (25.4.2) and exit interruption information (25.9.2) */
#define VMX_INTR_INFO_VALID		BIT(31)
#define VMX_INTR_INFO_VECTOR_MASK	0xffu
#define VMX_INTR_INFO_TYPE_SHIFT	8
#define VMX_INTR_INFO_ERROR_VALID	BIT(11)

/* Segment access rights in the VMCS (25.4.1) */
#define VMX_AR_UNUSABLE			BIT(16)

/** The outcome of a VMX instruction (SDM Vol. 3C 31.2, "Conventions"). */
enum vmx_outcome {
	VMX_SUCCEED,		/**< VMsucceed: CF = ZF = 0 */
	VMX_FAIL_INVALID,	/**< VMfailInvalid: CF = 1 (no current VMCS to hold an error) */
	VMX_FAIL_VALID,		/**< VMfailValid: ZF = 1, error number in VM_INSTRUCTION_ERROR */
	VMX_FAULT,		/**< the instruction raised an exception (fault says which) */
};

struct vmx_result {
	enum vmx_outcome outcome;
	uint32_t error;		/**< the VM-instruction error after VMX_FAIL_VALID, else 0 */
	struct fault fault;	/**< after VMX_FAULT */
};

/** True when @r is VMfailValid with error @error. */
static inline bool vmx_failed_with(const struct vmx_result *r, uint32_t error)
{
	return r->outcome == VMX_FAIL_VALID && r->error == error;
}

/**
 * The outcome of a VMX instruction from RFLAGS after it and the exception it
 * raised (31.2): for instructions that a test issues in its own assembly.
 */
struct vmx_result vmx_result_from(uint64_t rflags, struct fault f);

/** "VMsucceed", "VMfailInvalid", "VMfailValid(12: unsupported VMCS component)", "#UD"... */
const char *vmx_result_str(const struct vmx_result *r, char *buf, size_t size);

/*
 * The instructions, one each, with their outcome.  None of them aborts: a
 * check of an instruction's behaviour wants the outcome, whatever it is.
 * Addresses are physical (the test runs identity-mapped).
 */
struct vmx_result vmxon_checked(uint64_t pa);
struct vmx_result vmxoff_checked(void);
struct vmx_result vmclear_checked(uint64_t pa);
struct vmx_result vmptrld_checked(uint64_t pa);
struct vmx_result vmptrst_checked(uint64_t *pa);
struct vmx_result vmread_checked(uint64_t field, uint64_t *value);
struct vmx_result vmwrite_checked(uint64_t field, uint64_t value);
/** VMREAD/VMWRITE with a memory operand (the 64-bit mode form writes/reads 8 bytes). */
struct vmx_result vmread_mem_checked(uint64_t field, uint64_t *value);
struct vmx_result vmwrite_mem_checked(uint64_t field, const uint64_t *value);
/** VMCALL executed by L1 (VMX root operation). */
struct vmx_result vmcall_checked(void);
/**
 * VMLAUNCH/VMRESUME that are expected to fail: when they succeed they enter
 * the guest of the current VMCS and its exit lands at HOST_RIP, so use them
 * only where the VMCS's host state cannot be valid, or use vmx_run().
 */
struct vmx_result vmlaunch_checked(void);
struct vmx_result vmresume_checked(void);
/** INVEPT/INVVPID of @type with the 128-bit descriptor {@lo, @hi}. */
struct vmx_result invept_checked(uint64_t type, uint64_t lo, uint64_t hi);
struct vmx_result invvpid_checked(uint64_t type, uint64_t lo, uint64_t hi);

/*
 * Capabilities.
 */

/** VMX present (CPUID.1:ECX[5]) and not locked off by IA32_FEATURE_CONTROL; *why_not says why not. */
bool vmx_supported(const char **why_not);

/** Where a capability bit lives, for vmx_cap_has() and the field table. */
enum vmx_cap_msr {
	VMX_CAP_NONE,		/**< no capability: never (an unused second dependency) */
	VMX_CAP_ALWAYS,		/**< every VMX processor */
	VMX_CAP_PIN,		/**< allowed-1 of the pin-based controls (TRUE_ MSR when BASIC[55]) */
	VMX_CAP_PROC,		/**< allowed-1 of the primary processor-based controls */
	VMX_CAP_PROC2,		/**< allowed-1 of the secondary controls (0 without PROC[31]) */
	VMX_CAP_EXIT,		/**< allowed-1 of the VM-exit controls */
	VMX_CAP_ENTRY,		/**< allowed-1 of the VM-entry controls */
	VMX_CAP_VMFUNC,		/**< IA32_VMX_VMFUNC (0 without PROC2[13]) */
	VMX_CAP_BASIC,		/**< IA32_VMX_BASIC */
	VMX_CAP_MISC,		/**< IA32_VMX_MISC */
	VMX_CAP_EPT_VPID,	/**< IA32_VMX_EPT_VPID_CAP (0 without EPT or VPID) */
};

/** One capability bit: the bit @bit of what @msr says. */
struct vmx_cap {
	uint8_t msr;		/**< enum vmx_cap_msr */
	uint8_t bit;
};

/** Whether the processor has @cap. */
bool vmx_cap_has(struct vmx_cap cap);

/** "IA32_VMX_PROCBASED_CTLS2[33]" style text for skip messages (the MSR bit). */
const char *vmx_cap_str(struct vmx_cap cap, char *buf, size_t size);

/** The control words of the VMCS. */
enum vmx_ctls {
	VMX_CTLS_PIN, VMX_CTLS_PROC, VMX_CTLS_PROC2, VMX_CTLS_EXIT, VMX_CTLS_ENTRY,
	VMX_CTLS_COUNT
};

/** The allowed settings of a control word (SDM Vol. 3C A.3-A.5). */
struct vmx_allowed {
	uint32_t must_be_1;	/**< allowed-0 settings: bits 31:0 of the MSR */
	uint32_t may_be_1;	/**< allowed-1 settings: bits 63:32 of the MSR */
};

/**
 * The allowed settings of @which: from the TRUE_ MSR when IA32_VMX_BASIC[55]
 * says it exists (A.2), PROC2 only when PROC[31] may be 1 (else none).
 */
struct vmx_allowed vmx_ctls_allowed(enum vmx_ctls which);

/** The MSR that vmx_ctls_allowed(@which) reads. */
uint32_t vmx_ctls_msr(enum vmx_ctls which);

/** @want with the must-be-1 bits set and the may-not-be-1 bits cleared. */
uint32_t vmx_ctls_adjust(enum vmx_ctls which, uint32_t want);

/** Whether every bit of @bits may be 1 in @which. */
bool vmx_ctls_supported(enum vmx_ctls which, uint32_t bits);

/** The VMCS field that holds @which (VMCS_PIN_CONTROLS ...). */
uint32_t vmx_ctls_field(enum vmx_ctls which);

/*
 * VMX operation.
 */

/** IA32_VMX_BASIC fields. */
uint32_t vmx_revision(void);
uint32_t vmx_region_size(void);

/** A zeroed page whose first word is the VMCS revision identifier (a VMXON or VMCS region). */
void *vmx_region_alloc(void);

/** Sets IA32_FEATURE_CONTROL (lock, VMX outside SMX) when unlocked; false when locked without VMX. */
bool vmx_feature_control_setup(void);

/** Applies IA32_VMX_CR0_FIXED0/1 and CR4_FIXED0/1 to CR0 and CR4 (with CR4.VMXE). */
void vmx_apply_fixed_bits(void);

/**
 * Enters VMX operation: feature control, fixed bits, CR4.VMXE, VMXON of a
 * region of its own (vmx_vmxon_region()).  Ends the run as ERROR when VMXON fails.
 */
void vmx_enable(void);

/** VMXOFF and CR4.VMXE clear; the current VMCS is forgotten. */
void vmx_disable(void);

/** Whether the test is in VMX operation (vmx_enable() and no vmx_disable() since). */
bool vmx_enabled(void);

struct vmx_vcpu;

/**
 * VMX operation whatever the state before (vmx_enable() when outside it), with
 * *@vcpu created at the first call and made current again after that.  False,
 * after a test_error(), when IA32_FEATURE_CONTROL is locked without VMX.
 */
bool vmx_ensure_on(struct vmx_vcpu **vcpu);

/** Outside VMX operation, with the fixed bits and CR4.VMXE as VMXON wants them. */
void vmx_ensure_off(void);

/** The VMXON region that vmx_enable() used. */
void *vmx_vmxon_region(void);

/** MAXPHYADDR (CPUID 8000_0008h EAX[7:0]), the bound of every VMX physical address. */
unsigned vmx_maxphyaddr(void);

/*
 * VMCS access.
 */

/** VMREAD that must succeed: a failure is a test_error() and returns 0. */
uint64_t vmcs_read(uint32_t field);
/** VMWRITE that must succeed: a failure is a test_error(). */
void vmcs_write(uint32_t field, uint64_t value);
/** vmcs_write(@field, (vmcs_read(@field) & ~@clear) | @set). */
void vmcs_update(uint32_t field, uint64_t clear, uint64_t set);

/** One VMCS field of the table. */
struct vmcs_field_info {
	uint32_t encoding;
	const char *name;		/**< "GUEST_RIP" */
	struct vmx_cap need[2];		/**< the field exists when the processor has either */
};

/** Every field of vmcs_fields.h. */
extern const struct vmcs_field_info vmcs_fields[];
extern const size_t vmcs_field_count;

/** The table entry of @encoding (the full access encoding), or NULL. */
const struct vmcs_field_info *vmcs_field_find(uint32_t encoding);

/**
 * Whether the processor supports @f: one of its capabilities, and an index not
 * above IA32_VMX_VMCS_ENUM[9:1] (A.9).
 */
bool vmcs_field_supported(const struct vmcs_field_info *f);

/** Name of a VM-instruction error number, exit reason. */
const char *vmx_insn_error_name(uint32_t error);
const char *vmx_exit_name(uint32_t reason);

/*
 * A vCPU.
 */

/** The guest's GPRs; RSP and RIP live in the VMCS. */
struct vmx_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/** A VMCS with its guest registers and stack. */
struct vmx_vcpu {
	void *vmcs;		/**< the VMCS region */
	struct vmx_gprs regs;
	void *stack;		/**< one page for L2 */
	bool launched;		/**< VMLAUNCH succeeded since the last VMCLEAR */
	uint32_t exit_reason;	/**< of the last vmx_run() */
	struct vmx_result entry;	/**< of the last VMLAUNCH/VMRESUME (VMX_SUCCEED: an exit) */
};

/** Guest modes for vmx_vcpu_set_mode(). */
enum vmx_guest_mode {
	VMX_GUEST_LONG64,	/**< the default: 64-bit, paging on, the test's CR3 */
	VMX_GUEST_PROT32,	/**< 32-bit protected mode, paging off (unrestricted guest) */
	VMX_GUEST_REAL,		/**< real mode, CS base = the code (unrestricted guest) */
};

/**
 * Allocates a VMCS and a stack and prepares it (vmx_vcpu_reset(vcpu, NULL)); the
 * new VMCS is current.  Needs vmx_enable().
 */
struct vmx_vcpu *vmx_vcpu_create(void);

/**
 * For a test's setup: when the CPU offers VMX, enters VMX operation and
 * creates a vCPU.  @return the vCPU, or NULL: then every vmx_require_vmx()
 * records a skip naming why.
 */
struct vmx_vcpu *vmx_test_setup(void);

/**
 * For a check: true when vmx_test_setup() gave a vCPU; otherwise records a
 * skip for the running check with the reason.
 */
bool vmx_require_vmx(void);

/** An exit reason as text for failure details, with the interruption info of an
 *  exception exit and the error of a VMfail (one static buffer). */
const char *vmx_exit_str(const struct vmx_vcpu *vcpu, uint32_t reason);

/**
 * Runs @vcpu and records checks "reason" (the exit is @reason), and then "rip"
 * (the guest RIP is @at: not advanced past an instruction that exits, SDM
 * Vol. 3C 28.3.3) and "len" (the VM-exit instruction length is @len).
 * @return whether the exit reason matched.
 */
bool vmx_check_exit(struct vmx_vcpu *vcpu, uint32_t reason, void *at, unsigned len);

/** Runs @vcpu and records check @name: L2 ran to its VMCALL at @end without another exit. */
bool vmx_check_runs_to(struct vmx_vcpu *vcpu, const char *name, void *end);
/** Runs @vcpu; checks @name: the exit reason is @reason. */
bool vmx_check_run_exit(struct vmx_vcpu *vcpu, const char *name, uint32_t reason);
/** Checks @name: @r is VMfailValid(@error). */
bool vmx_check_fail_valid(const char *name, struct vmx_result r, uint32_t error);

/**
 * VMCLEAR and VMPTRLD of @vcpu's VMCS (launch state clear, current), then a
 * VMCS that VM entry accepts: controls at their required settings plus
 * 64-bit host and guest, the save/load of EFER and PAT where allowed,
 * every exception intercepted (exception bitmap all ones: an L2 exception
 * exits with VMX_EXIT_EXCEPTION instead of running L1's handlers), no MSR
 * or I/O bitmap (all RDMSR/WRMSR and I/O exit where that applies); host
 * state = the test's own, guest state = the same CR0/CR3/CR4, segments, GDT,
 * IDT, EFER, PAT, SYSENTER and FS/GS bases, RFLAGS = 2, RSP = top of
 * @vcpu's stack, RIP = @rip; GPRs zero.
 */
void vmx_vcpu_reset(struct vmx_vcpu *vcpu, void *rip);

/** VMPTRLD of @vcpu's VMCS (must succeed). */
void vmx_vcpu_load(struct vmx_vcpu *vcpu);

/**
 * In @which of the current VMCS, sets @set and clears @clear, then adjusts
 * to the allowed settings (vmx_ctls_adjust()).  Setting PROC2 bits also sets
 * PROC[31].  @return whether the result has every bit of @set and none of
 * @clear (false: a requested setting is not available; the adjusted value is
 * written anyway).
 */
bool vmx_vcpu_set_ctls(struct vmx_vcpu *vcpu, enum vmx_ctls which, uint32_t set, uint32_t clear);

/**
 * vmx_ctls_supported(), recording skip(@name, ...) with the capability MSR
 * and bits when one of @bits may not be 1.
 */
bool vmx_require(const char *name, enum vmx_ctls which, uint32_t bits);

/**
 * Switches @vcpu's guest to @mode with RIP = @rip (real mode: CS base = @rip,
 * IP = 0).  PROT32 and REAL need unrestricted guest, which needs EPT: the
 * function enables both with an identity EPT of RAM (ept.h) and @return false
 * (changing nothing) when the processor lacks them.
 */
bool vmx_vcpu_set_mode(struct vmx_vcpu *vcpu, enum vmx_guest_mode mode, void *rip);

/**
 * VM entry (VMLAUNCH when @vcpu is not launched, VMRESUME after) until the
 * next VM exit, with @vcpu->regs in the guest's GPRs and back; @vcpu must be
 * current.  @return the exit reason (bit 31 set: a VM-entry failure, which
 * leaves the launch state alone, SDM Vol. 3C 27.8), or VMX_EXIT_VMFAIL when
 * the instruction failed (vcpu->entry has VMfailInvalid/VMfailValid and error).
 * After an exit the host GDTR and IDTR limits, which the exit sets to FFFFh
 * (SDM Vol. 3C 28.5.2), are back at their values before the entry.
 */
uint32_t vmx_run(struct vmx_vcpu *vcpu);

/** Advances the guest's RIP past the exiting instruction (VM-exit instruction length). */
void vmx_skip_insn(void);

/**
 * Defines a global L2 code snippet @name: the instructions @insns, then VMCALL
 * to hand control back to L1, then UD2 should L1 resume it.  @name_end marks
 * the address right after @insns (the VMCALL).  The snippet is 64-bit code;
 * VMX_L2_CODE16/32 assemble it for real and protected mode.
 */
#define VMX_L2_CODE_MODE(name, mode, insns)                                   \
	asm(".pushsection .text\n"                                             \
	    ".globl " #name "\n"                                               \
	    #name ":\n"                                                        \
	    mode "\n"                                                          \
	    insns "\n"                                                         \
	    ".globl " #name "_end\n"                                           \
	    #name "_end:\n"                                                    \
	    "vmcall\n"                                                         \
	    "ud2\n"                                                            \
	    ".code64\n"                                                        \
	    ".popsection\n");                                                  \
	extern char name[], name##_end[]
#define VMX_L2_CODE(name, insns) VMX_L2_CODE_MODE(name, ".code64", insns)
#define VMX_L2_CODE32(name, insns) VMX_L2_CODE_MODE(name, ".code32", insns)
#define VMX_L2_CODE16(name, insns) VMX_L2_CODE_MODE(name, ".code16", insns)

/*
 * MSR bitmaps (SDM Vol. 3C 25.6.9, "MSR-Bitmap Address"): one 4-KiB page of
 * four 1-KiB bitmaps, read-low (MSRs 0-1FFFh) at 0, read-high
 * (C0000000h-C0001FFFh) at 400h, write-low at 800h, write-high at C00h.  A
 * set bit makes RDMSR/WRMSR of that MSR exit when "use MSR bitmaps" is 1;
 * MSRs outside both ranges always exit (26.1.3).
 */
#define VMX_MSR_RANGE_LOW_END		0x1fffu
#define VMX_MSR_RANGE_HIGH_BASE		0xc0000000u
#define VMX_MSR_RANGE_HIGH_END		0xc0001fffu
enum {
	VMX_MSR_INTERCEPT_READ = 1,	/**< RDMSR */
	VMX_MSR_INTERCEPT_WRITE = 2,	/**< WRMSR */
	VMX_MSR_INTERCEPT_RW = 3,
};

/** A zeroed MSR bitmap page (no MSR in range exits), or all ones when @intercept_all. */
void *vmx_msr_bitmap_alloc(bool intercept_all);
/** Whether @msr lies in one of the two ranges that the bitmap covers. */
bool vmx_msr_bitmap_covers(uint32_t msr);
/**
 * Sets (@intercept) or clears the bits of @msr for @how (VMX_MSR_INTERCEPT_*).
 * @return false (changing nothing) for an MSR outside both ranges.
 */
bool vmx_msr_bitmap_set(void *bitmap, uint32_t msr, unsigned how, bool intercept);
/** Whether the bit of @msr for @how (READ or WRITE) is set; false outside the ranges. */
bool vmx_msr_bitmap_test(const void *bitmap, uint32_t msr, unsigned how);
/**
 * Current VMCS: MSR_BITMAP = @bitmap and "use MSR bitmaps" = 1 (@bitmap NULL:
 * the control cleared).  @return false when the control is not allowed.
 */
bool vmx_vcpu_use_msr_bitmap(struct vmx_vcpu *vcpu, void *bitmap);

/*
 * I/O bitmaps (SDM Vol. 3C 25.6.4, "I/O-Bitmap Addresses"): bitmap A covers
 * ports 0000h-7FFFh, bitmap B ports 8000h-FFFFh, one bit a port.
 */
struct vmx_io_bitmaps {
	uint8_t *a, *b;		/**< 4-KiB pages */
};

/** Two zeroed pages (no port exits), or all ones when @intercept_all. */
struct vmx_io_bitmaps vmx_io_bitmaps_alloc(bool intercept_all);
/** Sets (@intercept) or clears the bit of each port @port .. @port + @count - 1 (wrapping at FFFFh). */
void vmx_io_bitmap_set(struct vmx_io_bitmaps *io, uint16_t port, unsigned count, bool intercept);
/** Whether the bit of @port is set. */
bool vmx_io_bitmap_test(const struct vmx_io_bitmaps *io, uint16_t port);
/**
 * Current VMCS: IO_BITMAP_A/B = @io and "use I/O bitmaps" = 1 (@io NULL: the
 * control cleared).  @return false when the control is not allowed.
 */
bool vmx_vcpu_use_io_bitmaps(struct vmx_vcpu *vcpu, const struct vmx_io_bitmaps *io);

/*
 * Exit qualifications (SDM Vol. 3C 28.2.1, "Basic VM-Exit Information").
 */
/* Control-register accesses (Table 28-3) */
#define VMX_QUAL_CR_NUM(q)		((q) & 0xf)
#define VMX_QUAL_CR_TYPE(q)		(((q) >> 4) & 3)
#define VMX_QUAL_CR_TYPE_MOV_TO		0
#define VMX_QUAL_CR_TYPE_MOV_FROM	1
#define VMX_QUAL_CR_TYPE_CLTS		2
#define VMX_QUAL_CR_TYPE_LMSW		3
#define VMX_QUAL_CR_LMSW_MEM		BIT(6)
#define VMX_QUAL_CR_GPR(q)		(((q) >> 8) & 0xf)
#define VMX_QUAL_CR_LMSW_DATA(q)	(((q) >> 16) & 0xffff)
/* MOV DR (Table 28-4) */
#define VMX_QUAL_DR_NUM(q)		((q) & 7)
#define VMX_QUAL_DR_FROM		BIT(4)	/* 0: MOV to DR, 1: MOV from DR */
#define VMX_QUAL_DR_GPR(q)		(((q) >> 8) & 0xf)
/* I/O instructions (Table 28-5) */
#define VMX_QUAL_IO_SIZE(q)		(((q) & 7) + 1)	/* bytes: 1, 2 or 4 */
#define VMX_QUAL_IO_IN			BIT(3)
#define VMX_QUAL_IO_STRING		BIT(4)
#define VMX_QUAL_IO_REP			BIT(5)
#define VMX_QUAL_IO_IMM			BIT(6)	/* operand encoding: 0 DX, 1 immediate */
#define VMX_QUAL_IO_PORT(q)		(((q) >> 16) & 0xffff)

/* GPR numbers of qualifications and instruction information (RAX 0 ... R15 15) */
enum { VMX_GPR_RAX, VMX_GPR_RCX, VMX_GPR_RDX, VMX_GPR_RBX, VMX_GPR_RSP, VMX_GPR_RBP,
       VMX_GPR_RSI, VMX_GPR_RDI, VMX_GPR_R8, VMX_GPR_R9, VMX_GPR_R10, VMX_GPR_R11,
       VMX_GPR_R12, VMX_GPR_R13, VMX_GPR_R14, VMX_GPR_R15 };
/* Segment registers in instruction information */
enum { VMX_SEG_ES, VMX_SEG_CS, VMX_SEG_SS, VMX_SEG_DS, VMX_SEG_FS, VMX_SEG_GS };

/**
 * The VM-exit instruction-information field decoded (SDM Vol. 3C 28.2.5,
 * "Information for VM Exits Due to Instruction Execution").  The layouts
 * share positions; which fields are defined depends on the exit reason:
 * descriptor tables (46, 47), VMX instructions, INVEPT/INVPCID/INVVPID use
 * scale/address size/segment/index/base (memory operand) and @reg1 (register
 * operand, LLDT/LTR/SLDT/STR and VMREAD/VMWRITE), @identity (bits 29:28) for
 * 46/47; RDRAND/RDSEED/RDPID use @reg1 and @rdrand_opsize; INS/OUTS (with
 * IA32_VMX_BASIC[54]) use address size and segment.
 */
struct vmx_insn_info {
	uint32_t raw;
	uint8_t scale;		/**< bits 1:0: 0 none, 1 x2, 2 x4, 3 x8 */
	uint8_t reg1;		/**< bits 6:3 */
	uint8_t addr_size;	/**< bits 9:7: 0 16-bit, 1 32-bit, 2 64-bit */
	bool is_reg;		/**< bit 10: register operand (0: memory) */
	uint8_t opsize32;	/**< bit 11: descriptor-table operand size (0 16-bit, 1 32-bit) */
	uint8_t rdrand_opsize;	/**< bits 12:11: RDRAND/RDSEED 0 16-bit, 1 32-bit, 2 64-bit */
	uint8_t seg;		/**< bits 17:15 (VMX_SEG_*) */
	uint8_t index;		/**< bits 21:18 */
	bool index_valid;	/**< bit 22 clear */
	uint8_t base;		/**< bits 26:23 */
	bool base_valid;	/**< bit 27 clear */
	uint8_t identity;	/**< bits 29:28: SGDT/SIDT/LGDT/LIDT or SLDT/STR/LLDT/LTR as 0-3 */
	uint8_t reg2;		/**< bits 31:28 (VMX instructions, INVEPT/INVPCID/INVVPID) */
};

/** @raw decoded. */
struct vmx_insn_info vmx_insn_info_decode(uint32_t raw);
/** The current VMCS's EXIT_INSN_INFO decoded. */
struct vmx_insn_info vmx_exit_insn_info(void);

/* Instruction identities in instruction information bits 29:28 (Tables 28-10, 28-11) */
enum { VMX_INSN_SGDT, VMX_INSN_SIDT, VMX_INSN_LGDT, VMX_INSN_LIDT };
enum { VMX_INSN_SLDT, VMX_INSN_STR, VMX_INSN_LLDT, VMX_INSN_LTR };

#endif
