/**
 * @file vmcs_fields.h
 * VMCS field encodings (SDM Vol. 3C Appendix B, "Field Encoding in VMCS") as
 * one X-macro list, from which both the VMCS_* constants and the field table
 * of vmx.h (vmcs_fields[]) are made.
 *
 * An encoding is: bit 0 access type (1 = the high 32 bits of a 64-bit field),
 * bits 9:1 index, bits 11:10 type (0 control, 1 VM-exit information =
 * read-only data, 2 guest state, 3 host state), bit 12 reserved, bits 14:13
 * width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width); bits 31:15 are
 * reserved (SDM Vol. 3C 25.11.2, "VMREAD, VMWRITE, and Encodings of VMCS Fields").
 *
 * Each entry: X(NAME, encoding, need1, need2).  A field exists when the
 * processor supports need1 or need2 (VMX_CAP_ALWAYS: every VMX processor);
 * see struct vmx_cap in vmx.h.  The dependencies follow the fields' descriptions
 * in SDM Vol. 3C chapter 25 ("Virtual Machine Control Structures").
 */
#ifndef HVT_X86_VMCS_FIELDS_H
#define HVT_X86_VMCS_FIELDS_H

#define VMCS_FIELD_LIST(X)                                                              \
	/* 16-bit control fields (Appendix B.1.1) */                                   \
	X(VPID,				0x0000, PROC2(5), NONE)                         \
	X(POSTED_INTR_NV,		0x0002, PIN(7), NONE)                           \
	X(EPTP_INDEX,			0x0004, PROC2(18), NONE)                        \
	/* 16-bit guest-state fields (B.1.2) */                                        \
	X(GUEST_ES_SEL,			0x0800, ALWAYS, NONE)                           \
	X(GUEST_CS_SEL,			0x0802, ALWAYS, NONE)                           \
	X(GUEST_SS_SEL,			0x0804, ALWAYS, NONE)                           \
	X(GUEST_DS_SEL,			0x0806, ALWAYS, NONE)                           \
	X(GUEST_FS_SEL,			0x0808, ALWAYS, NONE)                           \
	X(GUEST_GS_SEL,			0x080a, ALWAYS, NONE)                           \
	X(GUEST_LDTR_SEL,		0x080c, ALWAYS, NONE)                           \
	X(GUEST_TR_SEL,			0x080e, ALWAYS, NONE)                           \
	X(GUEST_INTR_STATUS,		0x0810, PROC2(9), NONE)                         \
	X(GUEST_PML_INDEX,		0x0812, PROC2(17), NONE)                        \
	X(GUEST_UINV,			0x0814, ENTRY(19), EXIT(27))                    \
	/* 16-bit host-state fields (B.1.3) */                                         \
	X(HOST_ES_SEL,			0x0c00, ALWAYS, NONE)                           \
	X(HOST_CS_SEL,			0x0c02, ALWAYS, NONE)                           \
	X(HOST_SS_SEL,			0x0c04, ALWAYS, NONE)                           \
	X(HOST_DS_SEL,			0x0c06, ALWAYS, NONE)                           \
	X(HOST_FS_SEL,			0x0c08, ALWAYS, NONE)                           \
	X(HOST_GS_SEL,			0x0c0a, ALWAYS, NONE)                           \
	X(HOST_TR_SEL,			0x0c0c, ALWAYS, NONE)                           \
	/* 64-bit control fields (B.2.1) */                                            \
	X(IO_BITMAP_A,			0x2000, PROC(25), NONE)                         \
	X(IO_BITMAP_B,			0x2002, PROC(25), NONE)                         \
	X(MSR_BITMAP,			0x2004, PROC(28), NONE)                         \
	X(EXIT_MSR_STORE_ADDR,		0x2006, ALWAYS, NONE)                           \
	X(EXIT_MSR_LOAD_ADDR,		0x2008, ALWAYS, NONE)                           \
	X(ENTRY_MSR_LOAD_ADDR,		0x200a, ALWAYS, NONE)                           \
	X(EXECUTIVE_VMCS_PTR,		0x200c, ALWAYS, NONE)                          \
	X(PML_ADDRESS,			0x200e, PROC2(17), NONE)                        \
	X(TSC_OFFSET,			0x2010, PROC(3), NONE)                          \
	X(VIRTUAL_APIC_ADDR,		0x2012, PROC(21), NONE)                         \
	X(APIC_ACCESS_ADDR,		0x2014, PROC2(0), NONE)                         \
	X(POSTED_INTR_DESC_ADDR,	0x2016, PIN(7), NONE)                           \
	X(VMFUNC_CONTROLS,		0x2018, PROC2(13), NONE)                        \
	X(EPT_POINTER,			0x201a, PROC2(1), NONE)                         \
	X(EOI_EXIT_BITMAP0,		0x201c, PROC2(9), NONE)                         \
	X(EOI_EXIT_BITMAP1,		0x201e, PROC2(9), NONE)                         \
	X(EOI_EXIT_BITMAP2,		0x2020, PROC2(9), NONE)                         \
	X(EOI_EXIT_BITMAP3,		0x2022, PROC2(9), NONE)                         \
	X(EPTP_LIST_ADDR,		0x2024, VMFUNC(0), NONE)                        \
	X(VMREAD_BITMAP,		0x2026, PROC2(14), NONE)                        \
	X(VMWRITE_BITMAP,		0x2028, PROC2(14), NONE)                        \
	X(VE_INFO_ADDR,			0x202a, PROC2(18), NONE)                        \
	X(XSS_EXIT_BITMAP,		0x202c, PROC2(20), NONE)                        \
	X(ENCLS_EXIT_BITMAP,		0x202e, PROC2(15), NONE)                        \
	X(SPP_TABLE_PTR,		0x2030, PROC2(23), NONE)                        \
	X(TSC_MULTIPLIER,		0x2032, PROC2(25), NONE)                        \
	X(PROC_CONTROLS3,		0x2034, PROC(17), NONE)                         \
	X(EXIT_CONTROLS2,		0x2044, EXIT(31), NONE)                         \
	/* 64-bit read-only data field (B.2.2) */                                      \
	X(GUEST_PHYSICAL_ADDR,		0x2400, PROC2(1), NONE)                         \
	/* 64-bit guest-state fields (B.2.3) */                                        \
	X(VMCS_LINK_PTR,		0x2800, ALWAYS, NONE)                           \
	X(GUEST_DEBUGCTL,		0x2802, ALWAYS, NONE)                           \
	X(GUEST_PAT,			0x2804, ENTRY(14), EXIT(18))                    \
	X(GUEST_EFER,			0x2806, ENTRY(15), EXIT(20))                    \
	X(GUEST_PERF_GLOBAL_CTRL,	0x2808, ENTRY(13), NONE)                        \
	X(GUEST_PDPTE0,			0x280a, PROC2(1), NONE)                         \
	X(GUEST_PDPTE1,			0x280c, PROC2(1), NONE)                         \
	X(GUEST_PDPTE2,			0x280e, PROC2(1), NONE)                         \
	X(GUEST_PDPTE3,			0x2810, PROC2(1), NONE)                         \
	X(GUEST_BNDCFGS,		0x2812, ENTRY(16), EXIT(23))                    \
	X(GUEST_PKRS,			0x2818, ENTRY(22), NONE)                        \
	/* 64-bit host-state fields (B.2.4) */                                         \
	X(HOST_PAT,			0x2c00, EXIT(19), NONE)                         \
	X(HOST_EFER,			0x2c02, EXIT(21), NONE)                         \
	X(HOST_PERF_GLOBAL_CTRL,	0x2c04, EXIT(12), NONE)                         \
	X(HOST_PKRS,			0x2c06, EXIT(29), NONE)                         \
	/* 32-bit control fields (B.3.1) */                                            \
	X(PIN_CONTROLS,			0x4000, ALWAYS, NONE)                           \
	X(PROC_CONTROLS,		0x4002, ALWAYS, NONE)                           \
	X(EXCEPTION_BITMAP,		0x4004, ALWAYS, NONE)                           \
	X(PF_ERROR_MASK,		0x4006, ALWAYS, NONE)                           \
	X(PF_ERROR_MATCH,		0x4008, ALWAYS, NONE)                           \
	X(CR3_TARGET_COUNT,		0x400a, ALWAYS, NONE)                           \
	X(EXIT_CONTROLS,		0x400c, ALWAYS, NONE)                           \
	X(EXIT_MSR_STORE_COUNT,		0x400e, ALWAYS, NONE)                           \
	X(EXIT_MSR_LOAD_COUNT,		0x4010, ALWAYS, NONE)                           \
	X(ENTRY_CONTROLS,		0x4012, ALWAYS, NONE)                           \
	X(ENTRY_MSR_LOAD_COUNT,		0x4014, ALWAYS, NONE)                           \
	X(ENTRY_INTR_INFO,		0x4016, ALWAYS, NONE)                           \
	X(ENTRY_EXCEPTION_ERROR,	0x4018, ALWAYS, NONE)                           \
	X(ENTRY_INSN_LEN,		0x401a, ALWAYS, NONE)                           \
	X(TPR_THRESHOLD,		0x401c, PROC(21), NONE)                         \
	X(PROC_CONTROLS2,		0x401e, PROC(31), NONE)                         \
	X(PLE_GAP,			0x4020, PROC2(10), NONE)                        \
	X(PLE_WINDOW,			0x4022, PROC2(10), NONE)                        \
	/* 32-bit read-only data fields (B.3.2) */                                     \
	X(VM_INSTRUCTION_ERROR,		0x4400, ALWAYS, NONE)                           \
	X(EXIT_REASON,			0x4402, ALWAYS, NONE)                           \
	X(EXIT_INTR_INFO,		0x4404, ALWAYS, NONE)                           \
	X(EXIT_INTR_ERROR,		0x4406, ALWAYS, NONE)                           \
	X(IDT_VECTORING_INFO,		0x4408, ALWAYS, NONE)                           \
	X(IDT_VECTORING_ERROR,		0x440a, ALWAYS, NONE)                           \
	X(EXIT_INSN_LEN,		0x440c, ALWAYS, NONE)                           \
	X(EXIT_INSN_INFO,		0x440e, ALWAYS, NONE)                           \
	/* 32-bit guest-state fields (B.3.3) */                                        \
	X(GUEST_ES_LIMIT,		0x4800, ALWAYS, NONE)                           \
	X(GUEST_CS_LIMIT,		0x4802, ALWAYS, NONE)                           \
	X(GUEST_SS_LIMIT,		0x4804, ALWAYS, NONE)                           \
	X(GUEST_DS_LIMIT,		0x4806, ALWAYS, NONE)                           \
	X(GUEST_FS_LIMIT,		0x4808, ALWAYS, NONE)                           \
	X(GUEST_GS_LIMIT,		0x480a, ALWAYS, NONE)                           \
	X(GUEST_LDTR_LIMIT,		0x480c, ALWAYS, NONE)                           \
	X(GUEST_TR_LIMIT,		0x480e, ALWAYS, NONE)                           \
	X(GUEST_GDTR_LIMIT,		0x4810, ALWAYS, NONE)                           \
	X(GUEST_IDTR_LIMIT,		0x4812, ALWAYS, NONE)                           \
	X(GUEST_ES_AR,			0x4814, ALWAYS, NONE)                           \
	X(GUEST_CS_AR,			0x4816, ALWAYS, NONE)                           \
	X(GUEST_SS_AR,			0x4818, ALWAYS, NONE)                           \
	X(GUEST_DS_AR,			0x481a, ALWAYS, NONE)                           \
	X(GUEST_FS_AR,			0x481c, ALWAYS, NONE)                           \
	X(GUEST_GS_AR,			0x481e, ALWAYS, NONE)                           \
	X(GUEST_LDTR_AR,		0x4820, ALWAYS, NONE)                           \
	X(GUEST_TR_AR,			0x4822, ALWAYS, NONE)                           \
	X(GUEST_INTERRUPTIBILITY,	0x4824, ALWAYS, NONE)                           \
	X(GUEST_ACTIVITY_STATE,		0x4826, ALWAYS, NONE)                           \
	X(GUEST_SMBASE,			0x4828, ALWAYS, NONE)                           \
	X(GUEST_SYSENTER_CS,		0x482a, ALWAYS, NONE)                           \
	X(PREEMPTION_TIMER,		0x482e, PIN(6), NONE)                           \
	/* 32-bit host-state field (B.3.4) */                                          \
	X(HOST_SYSENTER_CS,		0x4c00, ALWAYS, NONE)                           \
	/* natural-width control fields (B.4.1) */                                     \
	X(CR0_GUEST_HOST_MASK,		0x6000, ALWAYS, NONE)                           \
	X(CR4_GUEST_HOST_MASK,		0x6002, ALWAYS, NONE)                           \
	X(CR0_READ_SHADOW,		0x6004, ALWAYS, NONE)                           \
	X(CR4_READ_SHADOW,		0x6006, ALWAYS, NONE)                           \
	X(CR3_TARGET0,			0x6008, ALWAYS, NONE)                           \
	X(CR3_TARGET1,			0x600a, ALWAYS, NONE)                           \
	X(CR3_TARGET2,			0x600c, ALWAYS, NONE)                           \
	X(CR3_TARGET3,			0x600e, ALWAYS, NONE)                           \
	/* natural-width read-only data fields (B.4.2) */                              \
	X(EXIT_QUALIFICATION,		0x6400, ALWAYS, NONE)                           \
	X(IO_RCX,			0x6402, ALWAYS, NONE)                           \
	X(IO_RSI,			0x6404, ALWAYS, NONE)                           \
	X(IO_RDI,			0x6406, ALWAYS, NONE)                           \
	X(IO_RIP,			0x6408, ALWAYS, NONE)                           \
	X(GUEST_LINEAR_ADDR,		0x640a, ALWAYS, NONE)                           \
	/* natural-width guest-state fields (B.4.3) */                                 \
	X(GUEST_CR0,			0x6800, ALWAYS, NONE)                           \
	X(GUEST_CR3,			0x6802, ALWAYS, NONE)                           \
	X(GUEST_CR4,			0x6804, ALWAYS, NONE)                           \
	X(GUEST_ES_BASE,		0x6806, ALWAYS, NONE)                           \
	X(GUEST_CS_BASE,		0x6808, ALWAYS, NONE)                           \
	X(GUEST_SS_BASE,		0x680a, ALWAYS, NONE)                           \
	X(GUEST_DS_BASE,		0x680c, ALWAYS, NONE)                           \
	X(GUEST_FS_BASE,		0x680e, ALWAYS, NONE)                           \
	X(GUEST_GS_BASE,		0x6810, ALWAYS, NONE)                           \
	X(GUEST_LDTR_BASE,		0x6812, ALWAYS, NONE)                           \
	X(GUEST_TR_BASE,		0x6814, ALWAYS, NONE)                           \
	X(GUEST_GDTR_BASE,		0x6816, ALWAYS, NONE)                           \
	X(GUEST_IDTR_BASE,		0x6818, ALWAYS, NONE)                           \
	X(GUEST_DR7,			0x681a, ALWAYS, NONE)                           \
	X(GUEST_RSP,			0x681c, ALWAYS, NONE)                           \
	X(GUEST_RIP,			0x681e, ALWAYS, NONE)                           \
	X(GUEST_RFLAGS,			0x6820, ALWAYS, NONE)                           \
	X(GUEST_PENDING_DBG,		0x6822, ALWAYS, NONE)                           \
	X(GUEST_SYSENTER_ESP,		0x6824, ALWAYS, NONE)                           \
	X(GUEST_SYSENTER_EIP,		0x6826, ALWAYS, NONE)                           \
	X(GUEST_S_CET,			0x6828, ENTRY(20), EXIT(28))                    \
	X(GUEST_SSP,			0x682a, ENTRY(20), EXIT(28))                    \
	X(GUEST_INTR_SSP_TABLE,		0x682c, ENTRY(20), EXIT(28))                    \
	/* natural-width host-state fields (B.4.4) */                                  \
	X(HOST_CR0,			0x6c00, ALWAYS, NONE)                           \
	X(HOST_CR3,			0x6c02, ALWAYS, NONE)                           \
	X(HOST_CR4,			0x6c04, ALWAYS, NONE)                           \
	X(HOST_FS_BASE,			0x6c06, ALWAYS, NONE)                           \
	X(HOST_GS_BASE,			0x6c08, ALWAYS, NONE)                           \
	X(HOST_TR_BASE,			0x6c0a, ALWAYS, NONE)                           \
	X(HOST_GDTR_BASE,		0x6c0c, ALWAYS, NONE)                           \
	X(HOST_IDTR_BASE,		0x6c0e, ALWAYS, NONE)                           \
	X(HOST_SYSENTER_ESP,		0x6c10, ALWAYS, NONE)                           \
	X(HOST_SYSENTER_EIP,		0x6c12, ALWAYS, NONE)                           \
	X(HOST_RSP,			0x6c14, ALWAYS, NONE)                           \
	X(HOST_RIP,			0x6c16, ALWAYS, NONE)                           \
	X(HOST_S_CET,			0x6c18, EXIT(28), NONE)                         \
	X(HOST_SSP,			0x6c1a, EXIT(28), NONE)                         \
	X(HOST_INTR_SSP_TABLE,		0x6c1c, EXIT(28), NONE)

/** VMCS_<NAME>: the encoding of each field of the list. */
#define VMCS_FIELD_ENUM(name, enc, need1, need2) VMCS_##name = enc,
enum vmcs_field {
	VMCS_FIELD_LIST(VMCS_FIELD_ENUM)
};
#undef VMCS_FIELD_ENUM

/** The access-type bit: this encoding + 1 reads or writes bits 63:32 of a 64-bit field. */
#define VMCS_HIGH	1u

/* Encoding bits 14:13, the width */
enum vmcs_width { VMCS_WIDTH_16 = 0, VMCS_WIDTH_64 = 1, VMCS_WIDTH_32 = 2, VMCS_WIDTH_NATURAL = 3 };
/* Encoding bits 11:10, the type */
enum vmcs_type { VMCS_TYPE_CONTROL = 0, VMCS_TYPE_RO = 1, VMCS_TYPE_GUEST = 2, VMCS_TYPE_HOST = 3 };

static inline enum vmcs_width vmcs_field_width(uint32_t enc) { return (enc >> 13) & 3; }
static inline enum vmcs_type vmcs_field_type(uint32_t enc) { return (enc >> 10) & 3; }
static inline unsigned vmcs_field_index(uint32_t enc) { return (enc >> 1) & 0x1ff; }

#endif
