/**
 * @file usermode.h
 * Running a piece of L1 code at CPL 3: for the rules that depend on the
 * current privilege level (SDM Vol. 3A 5.5, 5.9: instructions that raise
 * #GP(0) at CPL > 0; the VMX instructions of Vol. 3C chapter 31).
 *
 * usermode_call() runs @fn(@arg) in 64-bit mode at CPL 3 (CS = USER_CS64,
 * SS = USER_DS) on a stack of its own, in a copy of the running page tables
 * with U = 1 in every entry (pt_copy(), taken at the first call for these
 * tables), with CR4.SMEP and CR4.SMAP clear.  It returns when @fn returns
 * or at the first exception that nothing inside @fn recovers from (fault.h:
 * a FAULT_TRY instruction in @fn resumes at CPL 3); then CR3, CR4 and the
 * data segments are as before the call.  Inside @fn, catch faults with
 * FAULT_TRY, not catch_fault() (its unwinding resumes at CPL 0).  One CPU
 * at a time: the user stack and the copied tables are shared.
 */
#ifndef HVT_X86_USERMODE_H
#define HVT_X86_USERMODE_H

#include "fault.h"

/** Runs @fn(@arg) at CPL 3; returns the exception that ended it (raised == false: it returned). */
struct fault usermode_call(fault_fn_t fn, void *arg);

/** The CPL from CS (bits 1:0), for code that checks where it runs. */
static inline unsigned current_cpl(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

#endif
