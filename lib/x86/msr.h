/** @file msr.h  MSR numbers (SDM Vol. 4; AMD APM Vol. 2 Appendix A). */
#ifndef HVT_X86_MSR_H
#define HVT_X86_MSR_H

#define MSR_IA32_TSC			0x00000010
#define MSR_IA32_APIC_BASE		0x0000001b
#define MSR_IA32_FEATURE_CONTROL	0x0000003a
#define MSR_IA32_TSC_ADJUST		0x0000003b
#define MSR_IA32_SYSENTER_CS		0x00000174
#define MSR_IA32_SYSENTER_ESP		0x00000175
#define MSR_IA32_SYSENTER_EIP		0x00000176
#define MSR_IA32_DEBUGCTL		0x000001d9
#define MSR_MTRR_DEF_TYPE		0x000002ff
#define MSR_IA32_PAT			0x00000277
#define MSR_IA32_TSC_DEADLINE		0x000006e0
#define MSR_X2APIC_BASE			0x00000800
#define MSR_EFER			0xc0000080
#define MSR_STAR			0xc0000081
#define MSR_LSTAR			0xc0000082
#define MSR_CSTAR			0xc0000083
#define MSR_SFMASK			0xc0000084
#define MSR_FS_BASE			0xc0000100
#define MSR_GS_BASE			0xc0000101
#define MSR_KERNEL_GS_BASE		0xc0000102
#define MSR_TSC_AUX			0xc0000103
#define MSR_VM_CR			0xc0010114
#define MSR_VM_HSAVE_PA			0xc0010117

/* EFER bits (SDM Vol. 3A 2.2.1; APM Vol. 2 3.1.7) */
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define EFER_SVME	(1ull << 12)
#define EFER_LMSLE	(1ull << 13)
#define EFER_FFXSR	(1ull << 14)
#define EFER_TCE	(1ull << 15)

/* VM_CR bits (APM Vol. 2 15.30.1) */
#define VM_CR_LOCK	(1ull << 3)
#define VM_CR_SVMDIS	(1ull << 4)

/* IA32_APIC_BASE bits */
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_X2APIC	(1ull << 10)
#define APIC_BASE_ENABLE	(1ull << 11)

#endif
