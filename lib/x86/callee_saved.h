/**
 * @file callee_saved.h
 * Assembler macros for the world-switch stubs (svm_entry.S, vmx_entry.S,
 * vmx_root32.S): the registers the SysV x86-64 ABI makes a called function
 * preserve, saved on entry and restored before the return.
 */
#ifndef HVT_X86_CALLEE_SAVED_H
#define HVT_X86_CALLEE_SAVED_H

#ifdef __ASSEMBLY__
.macro push_callee_saved
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro pop_callee_saved
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
.endm
#endif

#endif
