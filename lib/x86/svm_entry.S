/*
 * void svm_vmrun(struct svm_gprs *gprs, uint64_t vmcb_pa, uint64_t host_area_pa)
 *
 * One world switch (AMD APM Vol. 2 15.5): VMRUN saves and restores only RAX, RSP,
 * RIP, RFLAGS, control registers, EFER and some segment state, so every other
 * guest GPR is loaded from and stored to @gprs here, and the state that VMLOAD
 * and VMSAVE move (FS, GS, TR, LDTR, the SYSCALL and SYSENTER MSRs) is switched
 * through @host_area_pa.  GIF is clear from CLGI to STGI, as #VMEXIT leaves it.
 */
#include "callee_saved.h"

	.text
	.globl svm_vmrun
svm_vmrun:
	push_callee_saved
	pushq %rdi			/* the GPR block */
	pushq %rdx			/* the host area */

	clgi
	movq %rdx, %rax
	vmsave %rax			/* host FS, GS, TR, LDTR, MSRs */
	movq %rsi, %rax			/* RAX = the VMCB, for VMLOAD, VMRUN and VMSAVE */

	movq 0(%rdi), %rbx
	movq 8(%rdi), %rcx
	movq 16(%rdi), %rdx
	movq 24(%rdi), %rsi
	movq 40(%rdi), %rbp
	movq 48(%rdi), %r8
	movq 56(%rdi), %r9
	movq 64(%rdi), %r10
	movq 72(%rdi), %r11
	movq 80(%rdi), %r12
	movq 88(%rdi), %r13
	movq 96(%rdi), %r14
	movq 104(%rdi), %r15
	movq 32(%rdi), %rdi

	vmload %rax
	vmrun %rax
	vmsave %rax

	pushq %rdi
	movq 16(%rsp), %rdi		/* the GPR block */
	movq %rbx, 0(%rdi)
	movq %rcx, 8(%rdi)
	movq %rdx, 16(%rdi)
	movq %rsi, 24(%rdi)
	movq %rbp, 40(%rdi)
	movq %r8, 48(%rdi)
	movq %r9, 56(%rdi)
	movq %r10, 64(%rdi)
	movq %r11, 72(%rdi)
	movq %r12, 80(%rdi)
	movq %r13, 88(%rdi)
	movq %r14, 96(%rdi)
	movq %r15, 104(%rdi)
	popq %rax
	movq %rax, 32(%rdi)		/* the guest's RDI */

	popq %rax			/* the host area */
	vmload %rax
	stgi
	popq %rdi
	pop_callee_saved
	ret
