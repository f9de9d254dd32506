/**
 * @file smp.h
 * More than one CPU: the application processors (APs) that the ACPI MADT
 * lists are started with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4, AMD APM Vol. 2
 * 16.5) through a real-mode trampoline below 1 MiB that enters long mode on
 * the bootstrap processor's page tables.  Each AP gets its own stack, GDT
 * and TSS, shares the IDT, and then waits for work from on_cpu().
 *
 * CPU numbers are dense: 0 is the BSP, 1.. the APs in MADT order.  Nothing
 * is started until a test calls smp_init(); a test that needs N CPUs asks
 * smp_require(N), which records a SKIP naming the count otherwise.
 */
#ifndef HVT_X86_SMP_H
#define HVT_X86_SMP_H

#include "libhvt.h"
#include "spinlock.h"

#define SMP_MAX_CPUS 8

/** A piece of work for one CPU. */
typedef void (*smp_fn_t)(void *arg);

/**
 * Starts every enabled AP of the MADT (once; later calls return the count).
 * An AP that the MADT lists but that does not come up ends the run as ERROR.
 * @return the number of CPUs running, the BSP included.
 */
unsigned smp_init(void);

/** CPUs running (1 before smp_init() or without a MADT). */
unsigned smp_cpu_count(void);

/**
 * For a check: smp_init(), then true when at least @count CPUs run;
 * otherwise records a skip naming how many the firmware reported and why.
 */
bool smp_require(unsigned count);

/**
 * For a check that needs @count CPUs, each prepared by @prepare (enabling
 * SVM or VMX there, say): smp_require(@count), then @prepare(NULL) on every
 * running CPU whose @ready[cpu] is false, which it then sets.  Clear a CPU's
 * flag after smp_restart_cpu(): a restart undoes what @prepare did.
 */
bool smp_require_prepared(unsigned count, bool ready[SMP_MAX_CPUS], smp_fn_t prepare);

/** This CPU's number (0 on the BSP). */
unsigned this_cpu_id(void);

/** The local APIC ID of CPU @cpu. */
uint32_t smp_apic_id(unsigned cpu);

/** Runs @fn(@arg) on @cpu and waits until it returns (on the calling CPU: a call). */
void on_cpu(unsigned cpu, smp_fn_t fn, void *arg);

/** Hands @fn(@arg) to AP @cpu and returns at once; smp_wait() waits for it. */
void on_cpu_async(unsigned cpu, smp_fn_t fn, void *arg);

/**
 * on_cpu_async(), then waits (a bounded while) until the work sets *@started.
 * @return whether it did; if not, the work may still be running.
 */
bool on_cpu_async_started(unsigned cpu, smp_fn_t fn, void *arg, volatile int *started);

/** Waits until @cpu has finished the work on_cpu_async() gave it. */
void smp_wait(unsigned cpu);

/** Whether @cpu is idle (its last work finished). */
bool smp_cpu_idle(unsigned cpu);

/**
 * Restarts AP @cpu from scratch with INIT-SIPI-SIPI: for checks that leave
 * it reset or in an unknown state (an INIT it took, a VMX or SVM state it
 * cannot leave).  Its work is abandoned; it comes back idle.
 * @return false when it did not come back (the caller reports an error).
 */
bool smp_restart_cpu(unsigned cpu);

/** Sends an IPI through the ICR to APIC ID @apic_id (SDM Vol. 3A 12.6.1). */
void apic_send_ipi(uint32_t apic_id, uint32_t icr_low);

/* ICR delivery modes and flags (SDM Vol. 3A 12.6.1, Figure 12-12) */
#define APIC_DM_FIXED		(0u << 8)
#define APIC_DM_NMI		(4u << 8)
#define APIC_DM_INIT		(5u << 8)
#define APIC_DM_STARTUP		(6u << 8)
#define APIC_ICR_BUSY		BIT(12)
#define APIC_ICR_ASSERT		BIT(14)
#define APIC_ICR_LEVEL		BIT(15)

/**
 * Spins until *@flag becomes nonzero, at most about @spins iterations.
 * @return whether it did.
 */
bool smp_wait_flag(volatile int *flag, unsigned long spins);

#endif
