/**
 * @file svm.h
 * AMD SVM for an L1 hypervisor written as a test (AMD APM Vol. 2 chapter 15,
 * VMCB layout in Appendix B): the VMCB with named fields, capability probing,
 * and a VMRUN loop that saves and restores every guest GPR.
 *
 * A check prepares a VMCB (svm_vmcb_prepare() makes a long-mode guest that
 * shares the test's address space), points its RIP at L2 code, calls
 * svm_run() and inspects the exit.
 */
#ifndef HVT_X86_SVM_H
#define HVT_X86_SVM_H

#include "libhvt.h"

/* Intercept vector 3 (VMCB 0x00c), APM Vol. 2 Table B-1 */
enum svm_intercept {
	SVM_INTERCEPT_INTR, SVM_INTERCEPT_NMI, SVM_INTERCEPT_SMI, SVM_INTERCEPT_INIT,
	SVM_INTERCEPT_VINTR, SVM_INTERCEPT_CR0_SEL_WRITE, SVM_INTERCEPT_IDTR_READ,
	SVM_INTERCEPT_GDTR_READ, SVM_INTERCEPT_LDTR_READ, SVM_INTERCEPT_TR_READ,
	SVM_INTERCEPT_IDTR_WRITE, SVM_INTERCEPT_GDTR_WRITE, SVM_INTERCEPT_LDTR_WRITE,
	SVM_INTERCEPT_TR_WRITE, SVM_INTERCEPT_RDTSC, SVM_INTERCEPT_RDPMC, SVM_INTERCEPT_PUSHF,
	SVM_INTERCEPT_POPF, SVM_INTERCEPT_CPUID, SVM_INTERCEPT_RSM, SVM_INTERCEPT_IRET,
	SVM_INTERCEPT_INTN, SVM_INTERCEPT_INVD, SVM_INTERCEPT_PAUSE, SVM_INTERCEPT_HLT,
	SVM_INTERCEPT_INVLPG, SVM_INTERCEPT_INVLPGA, SVM_INTERCEPT_IOIO_PROT,
	SVM_INTERCEPT_MSR_PROT, SVM_INTERCEPT_TASK_SWITCH, SVM_INTERCEPT_FERR_FREEZE,
	SVM_INTERCEPT_SHUTDOWN,
	/* vector 4 (VMCB 0x010) */
	SVM_INTERCEPT_VMRUN = 32, SVM_INTERCEPT_VMMCALL, SVM_INTERCEPT_VMLOAD,
	SVM_INTERCEPT_VMSAVE, SVM_INTERCEPT_STGI, SVM_INTERCEPT_CLGI, SVM_INTERCEPT_SKINIT,
	SVM_INTERCEPT_RDTSCP, SVM_INTERCEPT_ICEBP, SVM_INTERCEPT_WBINVD, SVM_INTERCEPT_MONITOR,
	SVM_INTERCEPT_MWAIT, SVM_INTERCEPT_MWAIT_ARMED, SVM_INTERCEPT_XSETBV,
	SVM_INTERCEPT_RDPRU,
};

/* Exit codes (APM Vol. 2 Appendix C) */
#define SVM_EXIT_READ_CR(n)	(0x000 + (n))
#define SVM_EXIT_WRITE_CR(n)	(0x010 + (n))
#define SVM_EXIT_READ_DR(n)	(0x020 + (n))
#define SVM_EXIT_WRITE_DR(n)	(0x030 + (n))
#define SVM_EXIT_EXCP(v)	(0x040 + (v))
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_INIT		0x063
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_CR0_SEL_WRITE	0x065
#define SVM_EXIT_IDTR_READ	0x066
#define SVM_EXIT_GDTR_READ	0x067
#define SVM_EXIT_LDTR_READ	0x068
#define SVM_EXIT_TR_READ	0x069
#define SVM_EXIT_IDTR_WRITE	0x06a
#define SVM_EXIT_GDTR_WRITE	0x06b
#define SVM_EXIT_LDTR_WRITE	0x06c
#define SVM_EXIT_TR_WRITE	0x06d
#define SVM_EXIT_RDTSC		0x06e
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_PUSHF		0x070
#define SVM_EXIT_POPF		0x071
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_RSM		0x073
#define SVM_EXIT_IRET		0x074
#define SVM_EXIT_SWINT		0x075
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_PAUSE		0x077
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPG		0x079
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_TASK_SWITCH	0x07d
#define SVM_EXIT_FERR_FREEZE	0x07e
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_RDTSCP		0x087
#define SVM_EXIT_ICEBP		0x088
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_MWAIT_ARMED	0x08c
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_RDPRU		0x08e
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	((uint64_t)-1)

/** A segment register in the VMCB state-save area. */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;	/* descriptor bits 55:52 and 47:40, packed (APM Vol. 2 15.5.1) */
	uint32_t limit;
	uint64_t base;
} __packed;

/** The VMCB control area (APM Vol. 2 Table B-1). */
struct vmcb_control {
	uint32_t intercept_cr;		/* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;		/* 0x004 */
	uint32_t intercept_exceptions;	/* 0x008 */
	uint64_t intercepts;		/* 0x00c: vectors 3 and 4 (enum svm_intercept) */
	uint32_t intercepts5;		/* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold;	/* 0x03c */
	uint16_t pause_filter_count;	/* 0x03e */
	uint64_t iopm_base_pa;		/* 0x040 */
	uint64_t msrpm_base_pa;		/* 0x048 */
	uint64_t tsc_offset;		/* 0x050 */
	uint32_t asid;			/* 0x058 */
	uint8_t tlb_control;		/* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t int_ctl;		/* 0x060: V_TPR, V_IRQ, V_GIF, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_GIF_ENABLE, V_INTR_VECTOR */
	uint64_t int_state;		/* 0x068: interrupt shadow, guest interrupt mask */
	uint64_t exit_code;		/* 0x070 */
	uint64_t exit_info1;		/* 0x078 */
	uint64_t exit_info2;		/* 0x080 */
	uint64_t exit_int_info;		/* 0x088 */
	uint64_t nested_ctl;		/* 0x090: NP_ENABLE ... */
	uint64_t avic_apic_bar;		/* 0x098 */
	uint64_t ghcb_pa;		/* 0x0a0 */
	uint64_t event_inj;		/* 0x0a8 */
	uint64_t nested_cr3;		/* 0x0b0 */
	uint64_t virt_ext;		/* 0x0b8: LBR virtualization, virtual VMLOAD/VMSAVE */
	uint32_t clean_bits;		/* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t next_rip;		/* 0x0c8 */
	uint8_t insn_len;		/* 0x0d0 */
	uint8_t insn_bytes[15];		/* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0];
} __packed;

/** The VMCB state-save area (APM Vol. 2 Table B-2). */
struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;	/* 0x400 */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;			/* 0x4cb */
	uint32_t reserved_4cc;
	uint64_t efer;			/* 0x4d0 */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4;			/* 0x548 */
	uint64_t cr3;			/* 0x550 */
	uint64_t cr0;			/* 0x558 */
	uint64_t dr7;			/* 0x560 */
	uint64_t dr6;			/* 0x568 */
	uint64_t rflags;		/* 0x570 */
	uint64_t rip;			/* 0x578 */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;			/* 0x5d8 */
	uint8_t reserved_5e0[0x5f8 - 0x5e0];
	uint64_t rax;			/* 0x5f8 */
	uint64_t star;			/* 0x600 */
	uint64_t lstar;			/* 0x608 */
	uint64_t cstar;			/* 0x610 */
	uint64_t sfmask;		/* 0x618 */
	uint64_t kernel_gs_base;	/* 0x620 */
	uint64_t sysenter_cs;		/* 0x628 */
	uint64_t sysenter_esp;		/* 0x630 */
	uint64_t sysenter_eip;		/* 0x638 */
	uint64_t cr2;			/* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;			/* 0x668 */
	uint64_t dbgctl;		/* 0x670 */
	uint64_t br_from;		/* 0x678 */
	uint64_t br_to;			/* 0x680 */
	uint64_t last_excp_from;	/* 0x688 */
	uint64_t last_excp_to;		/* 0x690 */
} __packed;

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __packed;

/* CR and DR intercept vectors (VMCB 0x000, 0x004), APM Vol. 2 15.9 */
#define SVM_CR_READ(n)		BIT(n)
#define SVM_CR_WRITE(n)		BIT(16 + (n))
#define SVM_DR_READ(n)		BIT(n)
#define SVM_DR_WRITE(n)		BIT(16 + (n))

/* EXITINFO1 of MOV CRn/DRn with decode assists (APM Vol. 2 15.35.2) */
#define SVM_EXITINFO_MOV_CR	BIT(63)		/* the exit is a MOV CRn, not LMSW/CLTS */
#define SVM_EXITINFO_GPR_MASK	0xfull		/* the MOV's general-purpose register */

/* EXITINFO1 of IOIO (APM Vol. 2 15.10.2, Figure 15-2) */
#define SVM_IOIO_IN		BIT(0)
#define SVM_IOIO_STR		BIT(2)
#define SVM_IOIO_REP		BIT(3)
#define SVM_IOIO_SZ8		BIT(4)
#define SVM_IOIO_SZ16		BIT(5)
#define SVM_IOIO_SZ32		BIT(6)
#define SVM_IOIO_A16		BIT(7)
#define SVM_IOIO_A32		BIT(8)
#define SVM_IOIO_A64		BIT(9)
#define SVM_IOIO_SEG_SHIFT	10		/* with decode assists: ES 0 ... GS 5 */
#define SVM_IOIO_SEG_MASK	(7ull << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_PORT_SHIFT	16

/* int_ctl bits (VMCB 0x060) */
#define SVM_V_TPR_MASK		0xffull
#define SVM_V_IRQ		BIT(8)
#define SVM_V_GIF		BIT(9)
#define SVM_V_INTR_PRIO_SHIFT	16
#define SVM_V_IGN_TPR		BIT(20)
#define SVM_V_INTR_MASKING	BIT(24)
#define SVM_V_GIF_ENABLE	BIT(25)
#define SVM_V_INTR_VECTOR_SHIFT	32

/* int_state bits (VMCB 0x068) */
#define SVM_INTERRUPT_SHADOW	BIT(0)

/* nested_ctl bits (VMCB 0x090) */
#define SVM_NESTED_PAGING	BIT(0)

/* EVENTINJ and EXITINTINFO (APM Vol. 2 15.20) */
#define SVM_EVTINJ_VECTOR_MASK	0xffull
#define SVM_EVTINJ_TYPE_SHIFT	8
#define SVM_EVTINJ_TYPE_INTR	(0ull << 8)
#define SVM_EVTINJ_TYPE_NMI	(2ull << 8)
#define SVM_EVTINJ_TYPE_EXCEPTION (3ull << 8)
#define SVM_EVTINJ_TYPE_SOFT	(4ull << 8)
#define SVM_EVTINJ_ERROR_VALID	BIT(11)
#define SVM_EVTINJ_VALID	BIT(31)
#define SVM_EVTINJ_ERROR_SHIFT	32

/* CPUID 0x8000000A EDX: SVM features (APM Vol. 3 E.4.9) */
enum svm_feature {
	SVM_FEATURE_NPT = 0, SVM_FEATURE_LBRV = 1, SVM_FEATURE_SVML = 2,
	SVM_FEATURE_NRIPS = 3, SVM_FEATURE_TSC_RATE = 4, SVM_FEATURE_VMCB_CLEAN = 5,
	SVM_FEATURE_FLUSH_BY_ASID = 6, SVM_FEATURE_DECODE_ASSISTS = 7,
	SVM_FEATURE_PAUSE_FILTER = 10, SVM_FEATURE_PAUSE_THRESHOLD = 12,
	SVM_FEATURE_AVIC = 13, SVM_FEATURE_VLS = 15, SVM_FEATURE_VGIF = 16,
};

/** SVM present (CPUID 8000_0001h ECX[2]) and not disabled by VM_CR.SVMDIS. */
bool svm_supported(const char **why_not);

/** Whether CPUID 8000_000Ah EDX reports @feature. */
bool svm_has(enum svm_feature feature);

/** The feature's name for skip messages ("NRIP save"). */
const char *svm_feature_name(enum svm_feature feature);

/** Number of ASIDs (CPUID 8000_000Ah EBX). */
uint32_t svm_asid_count(void);

/** Sets EFER.SVME and VM_HSAVE_PA; call once before svm_run(). */
void svm_enable(void);

/**
 * For a test's setup: when the CPU offers SVM, enables it and creates a vCPU.
 * @return the vCPU, or NULL: then every svm_require() records a skip naming why.
 */
struct svm_vcpu *svm_test_setup(void);

/**
 * For a check: true when svm_test_setup() gave a vCPU; otherwise records a
 * skip for the running check with the reason.
 */
bool svm_require(void);

/** The guest's GPRs other than RAX and RSP, which live in the VMCB. */
struct svm_gprs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/** A VMCB with its guest registers and stack. */
struct svm_vcpu {
	struct vmcb *vmcb;
	struct svm_gprs regs;
	void *stack;		/* one page for L2 */
	/* For svm_vcpu_set_user_mode(), made at its first call: */
	uint64_t user_cr3;	/* the user-accessible copy of the test's tables */
	void *user_tss;		/* L2's TSS, RSP0 at the top of its second half */
};

/**
 * Allocates a VMCB and a stack and prepares a 64-bit guest that shares the
 * test's address space, descriptor tables and control registers, with only
 * VMRUN and VMMCALL intercepted and ASID 1.
 */
struct svm_vcpu *svm_vcpu_create(void);

/** Resets @vcpu to the state svm_vcpu_create() gives, with RIP @rip. */
void svm_vcpu_reset(struct svm_vcpu *vcpu, void *rip);

/**
 * After svm_vcpu_reset(): makes L2 start in 32-bit protected mode with paging
 * off (CS = KERNEL_CS32, flat SS, DS, ES = KERNEL_DS, EFER.LME and LMA clear,
 * CR0.PG, CR4.PAE and CR4.PCIDE clear), for the snippets of l2_modes.h.
 */
void svm_vcpu_set_pm32(struct svm_vcpu *vcpu);

/**
 * After svm_vcpu_reset(): makes L2 start at CPL 3 in 64-bit mode.  CS and SS
 * become the user selectors (USER_CS64, USER_DS; DS and ES too) and the VMCB's
 * CPL 3 (APM Vol. 2 15.5.1); CR3 points to a copy of the test's page tables
 * with every entry user-accessible (pt_copy(), taken at the vCPU's first call,
 * so later changes to the test's tables do not reach it); TR is a TSS of L2's
 * own whose RSP0 is a kernel stack page, for the events L2 takes through its
 * IDT at CPL 3 (APM Vol. 2 8.9.3, 12.2.5).  CR4.SMEP and CR4.SMAP are cleared:
 * with every page user, they would stop L2's CPL-0 handlers.  L2's stack
 * (vcpu->stack) is user-accessible like every page.  VMMCALL still ends L2
 * code: it may be executed at any CPL (APM Vol. 3 VMMCALL).
 */
void svm_vcpu_set_user_mode(struct svm_vcpu *vcpu);

/** Sets or clears one intercept of enum svm_intercept. */
void svm_intercept(struct svm_vcpu *vcpu, enum svm_intercept which, bool on);

/** Sets or clears the intercept of exception @vector (VMCB 0x008). */
void svm_intercept_exception(struct svm_vcpu *vcpu, unsigned vector, bool on);

/**
 * Gives L2 an IDT whose 256 gates are interrupt gates marked not present
 * (limit 0xfff) and intercepts
 * #NP and SHUTDOWN: an exception that L2 raises and no other intercept catches
 * then ends in #VMEXIT(#NP) with the vector in EXITINFO1 (vector * 8 + 2, plus
 * EXT) instead of running L1's handlers on L2's stack.
 */
void svm_isolate_exceptions(struct svm_vcpu *vcpu);

/*
 * The I/O permission map (APM Vol. 2 15.10.1): 12 KiB, one bit per port; the
 * bits past port 0xFFFF (up to 0x10002) cover the last bytes of accesses that
 * start below 0x10000.  svm_vcpu_create() allocates it empty.
 */
void svm_iopm_clear(struct svm_vcpu *vcpu);
void svm_iopm_set(struct svm_vcpu *vcpu, uint32_t port, bool on);

/*
 * The MSR permission map (APM Vol. 2 15.11): 8 KiB, two bits per MSR (read at
 * the even bit, write at the odd one) for MSRs 0000_0000h-0000_1FFFh (offset 0),
 * C000_0000h-C000_1FFFh (0x800) and C001_0000h-C001_1FFFh (0x1000).
 * svm_msrpm_set() returns false for an MSR outside those ranges.
 */
void svm_msrpm_clear(struct svm_vcpu *vcpu);
bool svm_msrpm_set(struct svm_vcpu *vcpu, uint32_t msr, bool read, bool write);

/** Runs the guest until the next #VMEXIT; returns the exit code. */
uint64_t svm_run(struct svm_vcpu *vcpu);

/** The exit code's name ("CPUID"), or NULL. */
const char *svm_exit_name(uint64_t exit_code);

/**
 * Defines a global L2 code snippet @name: the instructions @insns, then
 * VMMCALL to hand control back to L1, then UD2 should L1 resume it.
 * Labels @name_insn_end marks the address right after @insns.
 */
#define SVM_L2_CODE(name, insns)                                               \
	asm(".pushsection .text\n"                                             \
	    ".globl " #name "\n"                                               \
	    #name ":\n"                                                        \
	    insns "\n"                                                         \
	    #name "_end:\n"                                                    \
	    "vmmcall\n"                                                        \
	    "ud2\n"                                                            \
	    ".popsection\n");                                                  \
	extern char name[], name##_end[]

#endif
