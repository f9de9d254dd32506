/* Between the interrupt dispatcher (desc.c) and fault catching (fault.c). */
#ifndef HVT_X86_FAULT_INTERNAL_H
#define HVT_X86_FAULT_INTERNAL_H

#include "desc.h"

/** Resumes after an exception that FAULT_TRY or catch_fault() expects; false if none does. */
bool fault_recover(struct ex_regs *regs);

/** Reports an exception that nothing expected and ends the run as ERROR. */
void __noreturn fault_unexpected(struct ex_regs *regs);

#endif
