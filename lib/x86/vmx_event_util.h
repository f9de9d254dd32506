/**
 * @file vmx_event_util.h
 * An IDT of L2's own for VMX tests that watch what L2 receives (SDM Vol. 3C
 * 27.6, "Event Injection"; 28.2.4, "Information for VM Exits That Occur
 * During Event Delivery").  Every gate of the table leads to its own stub,
 * which is a bare VMCALL: the exit's guest RIP names the vector, the exit's
 * guest RSP points at the frame that the delivery pushed.  L1 then reads the
 * frame from memory (L2 shares the test's address space).
 */
#ifndef HVT_X86_VMX_EVENT_UTIL_H
#define HVT_X86_VMX_EVENT_UTIL_H

#include "libhvt.h"
#include "vmx.h"

/** What an event delivery in L2 left behind. */
struct vmx_l2_event {
	bool delivered;		/**< the exit came from a stub (a VMCALL in the stub table) */
	unsigned vector;	/**< the stub's vector */
	bool has_error;		/**< the frame holds an error code (48 bytes pushed, not 40) */
	uint64_t error;
	uint64_t rip, cs, rflags, rsp, ss;	/**< the frame */
	uint64_t handler_rflags;	/**< RFLAGS in the handler (GUEST_RFLAGS at the VMCALL exit) */
	bool frame_ok;		/**< the frame was 40 or 48 bytes below the aligned RSP */
};

/** Builds the table (once): 256 present 64-bit interrupt gates, DPL 3, to the stubs. */
void vmx_l2_idt_init(void);

/** Points the current VMCS's guest IDTR at the table (limit 0xfff). */
void vmx_l2_idt_use(void);

/** Marks @vector's gate present or not present. */
void vmx_l2_idt_set_present(unsigned vector, bool present);

/** Marks every gate present again. */
void vmx_l2_idt_reset(void);

/**
 * After a VMCALL exit: decodes the stub and the frame, where @rsp0 is L2's
 * RSP at the moment of the event (the frame sits below it, 16-byte aligned,
 * SDM Vol. 3A 7.14.2).  ev->delivered is false when the VMCALL was not a stub's.
 */
void vmx_l2_event_read(struct vmx_vcpu *vcpu, uint64_t rsp0, struct vmx_l2_event *ev);

/** VM-entry/exit interruption-information value (SDM Vol. 3C 25.8.3, 25.9.2). */
static inline uint32_t vmx_intr_info(unsigned vector, unsigned type, bool error)
{
	return VMX_INTR_INFO_VALID | (type << VMX_INTR_INFO_TYPE_SHIFT) | vector |
	       (error ? VMX_INTR_INFO_ERROR_VALID : 0);
}

/* Interruption types (SDM Vol. 3C 25.8.3, Table 25-17) */
enum {
	VMX_INTR_EXT = 0, VMX_INTR_NMI = 2, VMX_INTR_HW_EXC = 3, VMX_INTR_SW_INT = 4,
	VMX_INTR_PRIV_SW_EXC = 5, VMX_INTR_SW_EXC = 6, VMX_INTR_OTHER = 7,
};

#endif
