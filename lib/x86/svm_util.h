/**
 * @file svm_util.h
 * Helpers for SVM tests that watch what L2 receives: an IDT of L2's own whose
 * every gate leads to a stub that records the event and exits with VMMCALL
 * (events injected into L2 are delivered through the VMCB's IDTR, APM Vol. 2
 * 15.20), and text for exit codes.
 */
#ifndef HVT_X86_SVM_UTIL_H
#define HVT_X86_SVM_UTIL_H

#include "libhvt.h"
#include "svm.h"

/** What L2's IDT stub saw last; count counts deliveries since l2_event_reset(). */
struct l2_event_record {
	uint64_t count;
	uint64_t vector;	/* the gate the event came through */
	uint64_t rsp;		/* RSP at the gate: the frame's lowest word */
	uint64_t frame[6];	/* the words from RSP up */
};

extern volatile struct l2_event_record l2_event;

/** Bytes below the top of L2's stack that l2_idt_prepare() leaves free, so frame[] stays inside. */
#define L2_STACK_SLACK 64

/** A zeroed page holding 256 present 64-bit interrupt gates to the recording stubs. */
void *l2_idt_create(void);

/** Marks @vector's gate in @idt present or not present. */
void l2_idt_set_present(void *idt, unsigned vector, bool present);

/** Points @vcpu's IDTR at @idt and leaves L2_STACK_SLACK bytes at the top of its stack. */
void l2_idt_prepare(struct svm_vcpu *vcpu, void *idt);

/** The top of L2's stack as l2_idt_prepare() left it. */
uint64_t l2_stack_top(struct svm_vcpu *vcpu);

void l2_event_reset(void);

/** "0x81 (VMMCALL)" into @buf. */
const char *svm_exit_text(uint64_t code, char *buf, size_t size);

#endif
