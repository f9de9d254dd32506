/*
 * Interrupt entry: one 16-byte stub per vector, all jumping to a common path that
 * saves the GPRs as struct ex_regs (desc.h) and calls x86_interrupt_dispatch().
 */
#include "desc.h"

/* Vectors for which the CPU pushes an error code (SDM Vol. 3A 6.3.1, Table 6-1). */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	vector = 0
	.rept 256
	.balign 16
	.if !HAS_ERROR_CODE(vector)
	pushq $0
	.endif
	pushq $vector
	jmp isr_common
	vector = vector + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx		/* callee-saved: the frame, across the C call */
	andq $-16, %rsp		/* the ABI's stack alignment */
	call x86_interrupt_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector and error code */
	iretq

/*
 * int catch_save(struct catch_context *ctx): like setjmp.  Returns 0; returns 1
 * when fault.c resumes the context after an exception.
 */
	.globl catch_save
catch_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)	/* RSP after the return */
	movq (%rsp), %rax
	movq %rax, 56(%rdi)	/* the return address */
	pushfq
	popq %rax
	movq %rax, 64(%rdi)
	xorl %eax, %eax
	ret
