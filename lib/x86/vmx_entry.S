/*
 * uint32_t vmx_enter(struct vmx_gprs *gprs, int resume)
 *
 * One VM entry (SDM Vol. 3C chapter 27) and its VM exit (chapter 28).  VM
 * entry and exit switch RSP, RIP, RFLAGS, control registers and segment state
 * through the VMCS but no other GPR, so every guest GPR is loaded from and
 * stored to @gprs here (struct vmx_gprs: rax, rbx, rcx, rdx, rsi, rdi, rbp,
 * r8..r15 at 8-byte steps).  HOST_RSP is written with the stack pointer of
 * this frame just before the entry; HOST_RIP is vmx_exit_point (set by vmx.c).
 *
 * Returns 0 after a VM exit (reason in the VMCS), else the RFLAGS that the
 * failed VMLAUNCH/VMRESUME left (CF: VMfailInvalid, ZF: VMfailValid), with
 * bit 1 (always 1) set so that the value is never 0.
 */
#define VMCS_HOST_RSP 0x6c14

#include "callee_saved.h"

	.text
	.globl vmx_enter
vmx_enter:
	push_callee_saved
	pushq %rdi			/* the GPR block, at 0(%rsp) when the exit lands */

	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lfail			/* CF or ZF: HOST_RSP could not be written */

	testl %esi, %esi		/* MOVs below keep ZF for the choice */
	movq 0(%rdi), %rax
	movq 8(%rdi), %rbx
	movq 16(%rdi), %rcx
	movq 24(%rdi), %rdx
	movq 32(%rdi), %rsi
	movq 48(%rdi), %rbp
	movq 56(%rdi), %r8
	movq 64(%rdi), %r9
	movq 72(%rdi), %r10
	movq 80(%rdi), %r11
	movq 88(%rdi), %r12
	movq 96(%rdi), %r13
	movq 104(%rdi), %r14
	movq 112(%rdi), %r15
	movq 40(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp .Lfail
1:	vmresume
.Lfail:
	pushfq
	popq %rax
	orq $2, %rax
	popq %rdi
	jmp .Lreturn

	.globl vmx_exit_point
vmx_exit_point:
	/* RSP = HOST_RSP: the GPR block pointer is on top. RFLAGS = 2 (28.5.3). */
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, 0(%rdi)
	movq %rbx, 8(%rdi)
	movq %rcx, 16(%rdi)
	movq %rdx, 24(%rdi)
	movq %rsi, 32(%rdi)
	movq %rbp, 48(%rdi)
	movq %r8, 56(%rdi)
	movq %r9, 64(%rdi)
	movq %r10, 72(%rdi)
	movq %r11, 80(%rdi)
	movq %r12, 88(%rdi)
	movq %r13, 96(%rdi)
	movq %r14, 104(%rdi)
	movq %r15, 112(%rdi)
	popq %rax
	movq %rax, 40(%rdi)		/* the guest's RDI */
	popq %rdi
	xorl %eax, %eax
.Lreturn:
	pop_callee_saved
	ret
