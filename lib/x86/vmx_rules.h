/**
 * @file vmx_rules.h
 * The VM-entry checks of the Intel SDM (Vol. 3C chapter 27, "VM Entries") as
 * one table: each row is one rule with its name, the manual section, the
 * VMCS fields it reads, the predicate and the outcome of VMLAUNCH/VMRESUME
 * when the rule is violated.  vr_predict() evaluates every row on the current
 * VMCS and says which outcomes the manual allows.
 *
 * The order the manual fixes (27.1 before 27.2 before 27.3 before 27.4):
 *  - the instruction's own checks (27.1), in their order: VMfailInvalid
 *    without a current VMCS or with a shadow VMCS as the current one,
 *    VMfailValid(26) after MOV SS, (4) VMLAUNCH of a launched VMCS, (5)
 *    VMRESUME of a VMCS that is not launched;
 *  - the controls (27.2.1, VMfailValid(7)) and the host state (27.2.2-27.2.4,
 *    VMfailValid(8)): "these checks may be performed in any order", so when
 *    both are broken either error number is allowed;
 *  - the guest state (27.3.1, VM-entry failure with basic exit reason 33;
 *    qualification 0, 3 for the NMI/STI rule, 4 for the VMCS link pointer),
 *    in any order among themselves;
 *  - loading the PDPTEs from memory (27.3.2.4: reason 33, qualification 2);
 *  - loading MSRs (27.4: reason 34, the index from 1 of the first failing
 *    entry, entries in order).
 * A rule the manual makes implementation-specific (optional) allows both its
 * failure and what follows when it is not checked.
 *
 * Capability-dependent rules (allowed-0/allowed-1 control settings from the
 * TRUE_ MSRs when IA32_VMX_BASIC[55], CR0/CR4 FIXED0/FIXED1, IA32_VMX_MISC,
 * IA32_VMX_EPT_VPID_CAP, CPUID bits, MAXPHYADDR) read what the processor
 * reports, once (vr_caps()).
 *
 * The rows' field lists are enforced: a predicate that reads a field its row
 * does not name ends the run as ERROR, so a row says what it reads.
 */
#ifndef HVT_X86_VMX_RULES_H
#define HVT_X86_VMX_RULES_H

#include "vmx.h"

/** Where a rule is checked, in the manual's order. */
enum vr_stage {
	VR_STAGE_INSN,		/**< 27.1: the instruction's own checks, ordered */
	VR_STAGE_CONTROL,	/**< 27.2.1: VMfailValid(7); any order with HOST */
	VR_STAGE_HOST,		/**< 27.2.2-27.2.4: VMfailValid(8) */
	VR_STAGE_GUEST,		/**< 27.3.1: reason 33, any order */
	VR_STAGE_GUEST_LOAD,	/**< 27.3.2.4: PDPTE loading, reason 33 qualification 2 */
	VR_STAGE_MSR_LOAD,	/**< 27.4: reason 34, entry by entry */
};

/** What VMLAUNCH/VMRESUME did. */
enum vr_kind {
	VR_ENTERS = 1,		/**< VM entry succeeded (the guest ran until some VM exit) */
	VR_VMFAIL_INVALID,	/**< VMfailInvalid */
	VR_VMFAIL_VALID,	/**< VMfailValid(code) */
	VR_ENTRY_FAIL,		/**< VM-entry failure: basic exit reason code, qualification qual */
};

struct vr_outcome {
	uint8_t kind;
	uint32_t code;		/**< VM-instruction error, or the basic exit reason */
	uint64_t qual;		/**< exit qualification of a VM-entry failure */
};

/** What a rule reads besides the VMCS: the instruction and the launch state. */
struct vr_env {
	bool resume;		/**< VMRESUME (else VMLAUNCH) */
	bool no_current_vmcs;	/**< the current-VMCS pointer is invalid */
	bool current_is_shadow;	/**< the current VMCS is a shadow VMCS (header bit 31) */
	bool launched;		/**< launch state of the current VMCS: launched */
	bool after_mov_ss;	/**< the instruction follows MOV SS (events blocked) */
};

/** The rules, one identifier each (rows of vmx_rules[]). */
enum vr_rule_id {
	/* 27.1 */
	VR_INSN_CURRENT_VMCS, VR_INSN_CURRENT_NOT_SHADOW, VR_INSN_MOV_SS, VR_INSN_VMLAUNCH_CLEAR, VR_INSN_VMRESUME_LAUNCHED,
	/* 27.2.1.1 VM-execution controls */
	VR_CTL_PIN_ALLOWED, VR_CTL_PROC_ALLOWED, VR_CTL_PROC2_ALLOWED, VR_CTL_PROC3_ALLOWED,
	VR_CTL_CR3_TARGET_COUNT,
	VR_CTL_IO_BITMAP_A_ALIGNED, VR_CTL_IO_BITMAP_A_MAXPHYADDR,
	VR_CTL_IO_BITMAP_B_ALIGNED, VR_CTL_IO_BITMAP_B_MAXPHYADDR,
	VR_CTL_MSR_BITMAP_ALIGNED, VR_CTL_MSR_BITMAP_MAXPHYADDR,
	VR_CTL_VAPIC_ALIGNED, VR_CTL_VAPIC_MAXPHYADDR, VR_CTL_TPR_THRESHOLD_RESERVED,
	VR_CTL_TPR_THRESHOLD_VTPR, VR_CTL_X2APIC_NEEDS_TPR_SHADOW, VR_CTL_REGVIRT_NEEDS_TPR_SHADOW,
	VR_CTL_VID_NEEDS_TPR_SHADOW, VR_CTL_VNMI_NEEDS_NMI_EXIT, VR_CTL_NMI_WINDOW_NEEDS_VNMI,
	VR_CTL_APIC_ACCESS_ALIGNED, VR_CTL_APIC_ACCESS_MAXPHYADDR, VR_CTL_X2APIC_AND_APIC_ACCESS,
	VR_CTL_VID_NEEDS_EXT_INTR_EXIT, VR_CTL_POSTED_NEEDS_VID, VR_CTL_POSTED_NEEDS_ACK,
	VR_CTL_POSTED_VECTOR, VR_CTL_POSTED_DESC_ADDR, VR_CTL_VPID_NONZERO,
	VR_CTL_EPTP_MEMTYPE, VR_CTL_EPTP_WALK_LENGTH, VR_CTL_EPTP_AD, VR_CTL_EPTP_RESERVED,
	VR_CTL_EPTP_MAXPHYADDR, VR_CTL_PML_NEEDS_EPT, VR_CTL_PML_ADDR, VR_CTL_UG_NEEDS_EPT,
	VR_CTL_MBEC_NEEDS_EPT, VR_CTL_VMFUNC_ALLOWED, VR_CTL_EPTP_SWITCH_NEEDS_EPT,
	VR_CTL_EPTP_LIST_ADDR, VR_CTL_SHADOW_BITMAPS, VR_CTL_VE_INFO_ADDR,
	VR_CTL_SPP_NEEDS_EPT, VR_CTL_SPPTP_ADDR,
	/* 27.2.1.2 VM-exit controls */
	VR_CTL_EXIT_ALLOWED, VR_CTL_EXIT2_ALLOWED, VR_CTL_SAVE_PREEMPT_NEEDS_TIMER, VR_CTL_EXIT_STORE_ALIGNED,
	VR_CTL_EXIT_STORE_MAXPHYADDR, VR_CTL_EXIT_LOAD_ALIGNED, VR_CTL_EXIT_LOAD_MAXPHYADDR,
	/* 27.2.1.3 VM-entry controls */
	VR_CTL_ENTRY_ALLOWED, VR_CTL_ENTRY_SMM, VR_CTL_ENTRY_DUAL_MONITOR,
	VR_CTL_INJECT_TYPE, VR_CTL_INJECT_OTHER_NEEDS_MTF, VR_CTL_INJECT_VECTOR, VR_CTL_INJECT_ERROR_CODE_MUST_BE_0,
	VR_CTL_INJECT_ERROR_CODE_MUST_BE_1, VR_CTL_INJECT_RESERVED, VR_CTL_INJECT_ERROR_CODE_BITS,
	VR_CTL_INJECT_LENGTH, VR_CTL_ENTRY_LOAD_ALIGNED, VR_CTL_ENTRY_LOAD_MAXPHYADDR,
	/* 27.2.2 host control registers and MSRs */
	VR_HOST_CR0_FIXED0, VR_HOST_CR0_FIXED1, VR_HOST_CR4_FIXED0, VR_HOST_CR4_FIXED1,
	VR_HOST_CR3_MAXPHYADDR, VR_HOST_SYSENTER_ESP, VR_HOST_SYSENTER_EIP,
	VR_HOST_PERF_GLOBAL, VR_HOST_PAT, VR_HOST_EFER_RESERVED, VR_HOST_EFER_LMA, VR_HOST_EFER_LME,
	/* 27.2.3 host segment and descriptor-table registers */
	VR_HOST_SEL_RPL_TI, VR_HOST_CS_NULL, VR_HOST_TR_NULL, VR_HOST_SS_NULL, VR_HOST_BASES,
	/* 27.2.4 address-space size */
	VR_HOST_ADDR_SPACE, VR_HOST_PAE, VR_HOST_PCIDE, VR_HOST_RIP, VR_HOST_IA32E_GUEST_32BIT,
	/* 27.2.2, 27.3.1.1, 27.3.1.5: CET, PKS and UINTR state (host, then guest) */
	VR_HOST_CR4_CET_WP, VR_HOST_S_CET_CANONICAL, VR_HOST_S_CET_RESERVED,
	VR_HOST_S_CET_SUPPRESS_TRACKER, VR_HOST_SSP_CANONICAL, VR_HOST_SSP_ALIGNED,
	VR_HOST_ISST_CANONICAL, VR_HOST_PKRS_RESERVED,
	VR_GUEST_CR4_CET_WP, VR_GUEST_S_CET_RESERVED, VR_GUEST_S_CET_SUPPRESS_TRACKER,
	VR_GUEST_SSP_HIGH, VR_GUEST_SSP_ALIGNED, VR_GUEST_ISST_CANONICAL, VR_GUEST_PKRS_RESERVED,
	VR_GUEST_UINV_RESERVED,
	/* 27.3.1.1 guest control registers, debug registers, MSRs */
	VR_GUEST_CR0_FIXED0, VR_GUEST_CR0_FIXED1, VR_GUEST_CR0_PG_NEEDS_PE, VR_GUEST_CR4_FIXED0,
	VR_GUEST_CR4_FIXED1, VR_GUEST_DEBUGCTL, VR_GUEST_IA32E_PG, VR_GUEST_IA32E_PAE,
	VR_GUEST_PCIDE, VR_GUEST_CR3_MAXPHYADDR, VR_GUEST_DR7, VR_GUEST_SYSENTER_ESP,
	VR_GUEST_SYSENTER_EIP, VR_GUEST_PERF_GLOBAL, VR_GUEST_PAT, VR_GUEST_EFER_RESERVED,
	VR_GUEST_EFER_LMA, VR_GUEST_EFER_LME,
	/* 27.3.1.2 guest segment registers */
	VR_GUEST_TR_TI, VR_GUEST_LDTR_TI, VR_GUEST_SS_RPL, VR_GUEST_V86_BASE, VR_GUEST_V86_LIMIT,
	VR_GUEST_V86_AR, VR_GUEST_TR_BASE, VR_GUEST_FS_GS_BASE, VR_GUEST_LDTR_BASE,
	VR_GUEST_CS_BASE, VR_GUEST_SS_DS_ES_BASE,
	VR_GUEST_CS_TYPE, VR_GUEST_CS_S, VR_GUEST_CS_DPL, VR_GUEST_CS_P, VR_GUEST_CS_RESERVED,
	VR_GUEST_CS_DB, VR_GUEST_CS_G,
	VR_GUEST_SS_TYPE, VR_GUEST_SS_S, VR_GUEST_SS_DPL_RPL, VR_GUEST_SS_DPL_ZERO, VR_GUEST_SS_P,
	VR_GUEST_SS_RESERVED, VR_GUEST_SS_G,
	VR_GUEST_DATA_TYPE, VR_GUEST_DATA_S, VR_GUEST_DATA_DPL, VR_GUEST_DATA_P,
	VR_GUEST_DATA_RESERVED, VR_GUEST_DATA_G,
	VR_GUEST_TR_TYPE, VR_GUEST_TR_S, VR_GUEST_TR_P, VR_GUEST_TR_RESERVED, VR_GUEST_TR_G,
	VR_GUEST_TR_USABLE,
	VR_GUEST_LDTR_TYPE, VR_GUEST_LDTR_S, VR_GUEST_LDTR_P, VR_GUEST_LDTR_RESERVED, VR_GUEST_LDTR_G,
	/* 27.3.1.3 GDTR, IDTR */
	VR_GUEST_GDTR_IDTR_BASE, VR_GUEST_GDTR_IDTR_LIMIT,
	/* 27.3.1.4 RIP, RFLAGS */
	VR_GUEST_RIP_HIGH, VR_GUEST_RIP_CANONICAL, VR_GUEST_RFLAGS_RESERVED, VR_GUEST_RFLAGS_VM,
	VR_GUEST_RFLAGS_IF,
	/* 27.3.1.5 non-register state */
	VR_GUEST_ACTIVITY_VALID, VR_GUEST_ACTIVITY_HLT_DPL, VR_GUEST_ACTIVITY_BLOCKING,
	VR_GUEST_ACTIVITY_INJECTION, VR_GUEST_ACTIVITY_SMM_SIPI, VR_GUEST_INTR_RESERVED,
	VR_GUEST_INTR_ENCLAVE,
	VR_GUEST_INTR_STI_MOVSS, VR_GUEST_INTR_STI_IF, VR_GUEST_INTR_EXT_INTR,
	VR_GUEST_INTR_NMI_MOVSS, VR_GUEST_INTR_NMI_STI, VR_GUEST_INTR_SMI, VR_GUEST_INTR_VNMI,
	VR_GUEST_PDBG_RESERVED, VR_GUEST_PDBG_BS, VR_GUEST_LINK_ALIGNED, VR_GUEST_LINK_MAXPHYADDR,
	VR_GUEST_LINK_REVISION, VR_GUEST_LINK_SHADOW, VR_GUEST_LINK_CURRENT,
	/* 27.3.1.6 PDPTE fields (EPT); 27.3.2.4 PDPTEs from memory (no EPT) */
	VR_GUEST_PDPTE_FIELDS, VR_LOAD_PDPTE_MEMORY,
	/* 27.4 MSR loading */
	VR_MSR_RESERVED, VR_MSR_FS_GS_BASE, VR_MSR_X2APIC, VR_MSR_SMM_ONLY, VR_MSR_UCODE_TRIGGER,
	VR_MSR_WRMSR_FAULT,
	VR_RULE_COUNT
};

#define VR_MAX_FIELDS 16

/** One rule of the manual. */
struct vmx_rule {
	const char *name;		/**< "guest.cs.type" */
	const char *section;		/**< "27.3.1.2" */
	uint8_t stage;			/**< enum vr_stage */
	bool optional;			/**< the manual lets a processor skip it */
	uint8_t nfields;
	uint32_t fields[VR_MAX_FIELDS];	/**< VMCS fields it reads (the control words are implied) */
	/**
	 * 0 when the rule holds; otherwise nonzero (for an MSR-loading rule,
	 * the index from 1 of the first MSR-load entry that breaks it).
	 */
	uint32_t (*violated)(void);
	struct vr_outcome fail;		/**< the outcome when violated (MSR loading: qual = index) */
};

extern const struct vmx_rule vmx_rules[VR_RULE_COUNT];

/** What the processor reports, read once. */
struct vr_caps {
	struct vmx_allowed allowed[VMX_CTLS_COUNT];
	uint64_t basic, misc, vmfunc, ept_vpid;
	uint64_t proc3_allowed;		/**< IA32_VMX_PROCBASED_CTLS3 (0 without PROC[17]) */
	uint64_t exit2_allowed;		/**< IA32_VMX_EXIT_CTLS2 (0 without EXIT[31]) */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned maxphyaddr;		/**< 32 with IA32_VMX_BASIC[48], else CPUID's */
	unsigned linear_bits;		/**< CPUID 8000_0008h EAX[15:8] */
	uint64_t efer_allowed;		/**< EFER bits the processor has (SCE, LME, LMA, NXE) */
	uint64_t perf_global_allowed;	/**< IA32_PERF_GLOBAL_CTRL bits (CPUID 0AH) */
	bool sgx, rtm, cet;
};
const struct vr_caps *vr_caps(void);

/** The allowed outcomes of one VMLAUNCH/VMRESUME, with the rules behind them. */
struct vr_prediction {
	unsigned n;
	struct vr_outcome allowed[12];
	unsigned nviolated;
	uint16_t violated[24];		/**< enum vr_rule_id, in table order */
};

/** Evaluates every rule on the current VMCS and @env. */
void vr_predict(const struct vr_env *env, struct vr_prediction *p);

/** Whether rule @id is violated by the current VMCS and @env (0: it holds). */
uint32_t vr_violated(enum vr_rule_id id, const struct vr_env *env);

/** Whether @p allows @o. */
bool vr_allows(const struct vr_prediction *p, const struct vr_outcome *o);

/** Whether @p allows exactly one outcome, and it is @o. */
bool vr_predicts_only(const struct vr_prediction *p, const struct vr_outcome *o);

/** What the last vmx_run() of @vcpu that returned @reason did. */
struct vr_outcome vr_observe(const struct vmx_vcpu *vcpu, uint32_t reason);

/** "VMfailValid(7)", "entry failure 33 qual 4", "enters"... */
const char *vr_outcome_str(const struct vr_outcome *o, char *buf, size_t size);

/** The allowed outcomes, "a|b", and the violated rules' names, for a detail message. */
const char *vr_prediction_str(const struct vr_prediction *p, char *buf, size_t size);

/** The row of rule @name, or NULL. */
const struct vmx_rule *vr_find(const char *name);

/** The rule's identifier from its row. */
static inline enum vr_rule_id vr_id(const struct vmx_rule *r)
{
	return (enum vr_rule_id)(r - vmx_rules);
}

#endif
