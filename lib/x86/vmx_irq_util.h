/**
 * @file vmx_irq_util.h
 * Events for VMX tests of interrupts, NMIs and shadows (SDM Vol. 3C 25.4.2
 * guest non-register state, 25.8.3 VM-entry event injection, 27.6 event
 * injection, 26.7 VM exits that are not caused by instructions):
 *  - an IDT of L2's own (every vector enters a stub that logs the vector and the
 *    interrupt frame, optionally EOIs the local APIC and optionally exits to L1
 *    with VMCALL from inside the handler, then IRETs);
 *  - an MSR bitmap that lets L2 reach the x2APIC MSRs;
 *  - local-APIC events as the tests need them (a self-NMI through the ICR, a
 *    fixed interrupt waited for in the IRR, L1 draining a pending interrupt);
 *  - the interruption-information encoding.
 */
#ifndef HVT_X86_VMX_IRQ_UTIL_H
#define HVT_X86_VMX_IRQ_UTIL_H

#include "libhvt.h"
#include "vmx.h"

/* Interruptibility state (SDM Vol. 3C 25.4.2, Table 25-3) */
#define INTR_BLOCK_STI		BIT(0)
#define INTR_BLOCK_MOV_SS	BIT(1)
#define INTR_BLOCK_SMI		BIT(2)
#define INTR_BLOCK_NMI		BIT(3)

/* Activity state (25.4.2) and its support in IA32_VMX_MISC[8:6] (A.6) */
#define ACTIVITY_ACTIVE		0
#define ACTIVITY_HLT		1
#define VMX_MISC_ACT_HLT	BIT(6)

/* Pending debug exceptions (25.4.2, Table 25-4) */
#define PENDING_DBG_BS		BIT(14)

/* Interruption types (25.8.3, Table 25-17; 25.9.2) */
#define EVT_EXT_INTR		0
#define EVT_NMI			2
#define EVT_HW_EXC		3
#define EVT_SW_INT		4

/** A valid interruption-information word of @type and @vector. */
static inline uint32_t evt_info(unsigned type, unsigned vector)
{
	return VMX_INTR_INFO_VALID | (type << VMX_INTR_INFO_TYPE_SHIFT) | vector;
}

/** What the L2 IDT's handlers saw. */
struct l2_irq_log {
	volatile unsigned count;	/**< handler entries since l2_irq_reset() */
	volatile uint64_t vector;	/**< of the last entry */
	volatile uint64_t rip;		/**< return RIP in the last interrupt frame */
	volatile uint64_t rflags;	/**< RFLAGS in the last frame */
	volatile bool eoi;		/**< handlers EOI the local APIC (real interrupts) */
	volatile bool vmcall;		/**< handlers VMCALL to L1 before their IRET */
};
extern struct l2_irq_log l2_irq;

/** Clears the log and the options. */
void l2_irq_reset(void);

/** The first instruction of L2's handler of @vector. */
uint64_t l2_idt_handler(unsigned vector);

/**
 * vmx_vcpu_reset(@vcpu, @rip), then L2's own IDT (GUEST_IDTR) and, where the
 * processor has MSR bitmaps, an all-zero bitmap so that L2's RDMSR/WRMSR (the
 * x2APIC) do not exit.  Also resets the log.
 */
void vmx_irq_vcpu_reset(struct vmx_vcpu *vcpu, void *rip);

/** Sends an NMI to this CPU: ICR delivery mode NMI, physical destination = own APIC ID. */
void apic_self_nmi(void);

/** Self-IPI of @vector with interrupts off, waiting until it shows in the IRR. */
bool apic_pend(uint8_t vector);

/**
 * Lets L1 take what is pending of @vector (STI, a wait, CLI) with a handler that
 * counts and EOIs: @return how many arrived.
 */
unsigned l1_drain(uint8_t vector);

/** Clears the ISR bit of an acknowledged interrupt: EOI while @vector is in service. */
void apic_eoi_if_in_service(uint8_t vector);

/** IRET to the next instruction: ends NMI blocking in L1 (SDM Vol. 3A 6.7.1). */
void l1_iret_self(void);

/** IA32_VMX_MISC. */
uint64_t vmx_misc(void);

#endif
