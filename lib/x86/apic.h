/**
 * @file apic.h
 * The local APIC in xAPIC (MMIO) or x2APIC (MSR) mode: timer, self-IPI, EOI
 * (SDM Vol. 3A chapter 12).
 */
#ifndef HVT_X86_APIC_H
#define HVT_X86_APIC_H

#include "libhvt.h"

#define APIC_ID		0x020
#define APIC_VERSION	0x030
#define APIC_TPR	0x080
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_ISR	0x100
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_LVT_ERROR	0x370
#define APIC_TIMER_ICR	0x380
#define APIC_TIMER_CCR	0x390
#define APIC_TIMER_DCR	0x3e0
#define APIC_SELF_IPI	0x3f0	/* x2APIC only */

#define APIC_LVT_MASKED		BIT(16)
#define APIC_TIMER_PERIODIC	BIT(17)
#define APIC_SPURIOUS_VECTOR	0xff

/** Enables the local APIC in xAPIC mode, everything masked; called at boot. */
void apic_setup(void);

/** Switches to x2APIC mode; false when the CPU has no x2APIC. */
bool apic_enable_x2apic(void);

/** True in x2APIC mode. */
bool apic_is_x2apic(void);

uint32_t apic_read(unsigned reg);
void apic_write(unsigned reg, uint32_t value);

/** This CPU's APIC ID. */
uint32_t apic_id(void);

/** Signals end of interrupt. */
void apic_eoi(void);

/** Sends fixed interrupt @vector to this CPU. */
void apic_self_ipi(uint8_t vector);

/** Is @vector pending (IRR) or in service (ISR)? */
bool apic_irr_test(uint8_t vector);
bool apic_isr_test(uint8_t vector);

/** Starts the timer: one shot of @count ticks (divide by 1) raising @vector. */
void apic_timer_oneshot(uint8_t vector, uint32_t count);

/** Stops the timer and masks its LVT entry. */
void apic_timer_stop(void);

#endif
