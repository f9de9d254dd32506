/*
 * void root32_run(struct root32_ctx *ctx): a script of VMX instructions run
 * by a 32-bit host (see vmx_root32.h).
 *
 * Long mode -> 32-bit protected mode (SDM Vol. 3A 10.8.5.4): a far return to
 * a 32-bit code segment (compatibility mode), CR0.PG clear (which clears
 * IA32_EFER.LMA), IA32_EFER.LME clear, CR3 = the PAE tables, CR0.PG set.  The
 * way back is the same in reverse: CR0.PG clear, the 64-bit CR3, LME set,
 * CR0.PG set (compatibility mode again) and a far jump to the 64-bit segment.
 * With ctx->compat the script runs in compatibility mode instead, paging and
 * IDT untouched.
 */
#include "callee_saved.h"
#include "desc.h"
#include "vmx_root32.h"

#define CR0_PG		0x80000000
#define CR4_VMXE	0x2000
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define EFLAGS_ZF	0x40
#define VMCS_INSN_ERROR	0x4400
#define VMCS_HOST_RSP	0x6c14
#define COM1		0x3f8

	.text
	.code64
	.globl root32_run
root32_run:
	push_callee_saved
	pushfq
	cli
	movq %rsp, saved_rsp(%rip)
	movq %cr3, %rax
	movq %rax, saved_cr3(%rip)
	sgdt saved_gdtr(%rip)
	sidt saved_idtr(%rip)
	movl %edi, %ebx			/* the context, for the 32-bit side */
	pushq $KERNEL_CS32
	leaq compat32(%rip), %rax
	pushq %rax
	lretq

	.code32
compat32:
	movl R32_CTX_STACK(%ebx), %esp
	cmpl $0, R32_CTX_COMPAT(%ebx)
	je 1f
	call interpret			/* compatibility mode: the 64-bit IDT catches faults */
	ljmp $KERNEL_CS64, $long64
1:	lidt null_idtr			/* no 32-bit IDT: an exception shuts down */
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0			/* out of IA-32e mode: EFER.LMA = 0 */
	movl $MSR_EFER, %ecx
	rdmsr
	andl $~EFER_LME, %eax
	wrmsr
	movl R32_CTX_CR3(%ebx), %eax
	movl %eax, %cr3			/* CR4.PAE is still set: PAE paging */
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	jmp 1f
1:	movl %cr4, %eax
	orl $CR4_VMXE, %eax		/* for VMXON (SDM Vol. 3C 24.7) */
	movl %eax, %cr4

	call interpret

	movl %cr4, %eax
	andl $~CR4_VMXE, %eax		/* as vmx_disable() leaves it (#GP in VMX operation) */
	movl %eax, %cr4
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0
	movl saved_cr3, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0			/* IA-32e mode again, in compatibility mode */
	ljmp $KERNEL_CS64, $long64

	.code64
long64:
	lgdt saved_gdtr(%rip)
	lidt saved_idtr(%rip)
	load_kernel_data_segments
	movq saved_rsp(%rip), %rsp
	popfq
	pop_callee_saved
	ret

	.code32
/* EBX = context, ESI = the current op. */
interpret:
	movl R32_CTX_OPS(%ebx), %esi
next:
	movl R32_CODE(%esi), %eax
	testl %eax, %eax
	jz done
	cmpl $ROOT32_OPS, %eax
	jae done
	cmpl $0, R32_CTX_TRACE(%ebx)
	je 1f
	addl $'A', %eax
	call putc32
	movl R32_CODE(%esi), %eax
1:	movl R32_FIELD(%esi), %ecx
	testl %esi, %esi		/* CF = ZF = 0: what a faulting instruction leaves */
	jmp *handlers(, %eax, 4)

/* An instruction that resumes after itself when it faults (fault.h, compatibility mode only). */
.macro try insn:vararg
1:	\insn
2:
	.pushsection .ex_table, "a"
	.balign 8
	.quad 1b, 2b
	.popsection
.endm

op_vmxon:	try vmxon R32_MEM(%esi);		jmp recorded
op_vmxoff:	try vmxoff;				jmp recorded
op_vmptrld:	try vmptrld R32_MEM(%esi);		jmp recorded
op_vmclear:	try vmclear R32_MEM(%esi);		jmp recorded
op_vmptrst:	try vmptrst R32_MEM(%esi);		jmp recorded
op_vmread_mem:	try vmread %ecx, R32_MEM(%esi);		jmp recorded
op_vmwrite_reg:	movl R32_VALUE(%esi), %eax
		try vmwrite %eax, %ecx;			jmp recorded
op_vmwrite_mem:	try vmwrite R32_MEM(%esi), %ecx;	jmp recorded
op_invept:	try invept R32_DESC(%esi), %ecx;	jmp recorded
op_invvpid:	try invvpid R32_DESC(%esi), %ecx;	jmp recorded
op_vmread_reg:
	movl R32_VALUE(%esi), %eax
	try vmread %ecx, %eax
	pushfl
	popl R32_EFLAGS(%esi)
	movl %eax, R32_OUT(%esi)
	jmp error

op_vmlaunch:
op_vmresume:
	pushl %ebx
	pushl %esi			/* at HOST_RSP when the exit lands */
	movl $VMCS_HOST_RSP, %edx
	vmwrite %esp, %edx
	jbe 2f				/* CF or ZF: HOST_RSP not written; record that */
	cmpl $ROOT32_VMLAUNCH, R32_CODE(%esi)
	jne 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	pushfl
	popl %eax
	popl %esi
	popl %ebx
	movl %eax, R32_EFLAGS(%esi)
	jmp error

	.globl root32_host_exit
root32_host_exit:
	/* ESP = HOST_RSP; RFLAGS = 2 (SDM Vol. 3C 28.5.3) */
	popl %esi
	popl %ebx
	pushfl
	popl R32_EFLAGS(%esi)
	movl $1, R32_OUT(%esi)
	sgdt R32_DESC(%esi)
	sidt R32_DESC + 8(%esi)
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, R32_OUT + 4(%esi)
	movl %cr0, %eax
	movl %eax, R32_OUT + 8(%esi)
	movl %cr4, %eax
	movl %eax, R32_OUT + 12(%esi)
	lgdt saved_gdtr			/* the exit set the limits to FFFFh (28.5.2) */
	lidt null_idtr
	jmp error

recorded:
	pushfl
	popl R32_EFLAGS(%esi)
error:
	/* VMfailValid (ZF with CF clear, SDM Vol. 3C 31.2): the error number */
	movl R32_EFLAGS(%esi), %eax
	andl $0x41, %eax
	cmpl $EFLAGS_ZF, %eax
	jne 1f
	movl $VMCS_INSN_ERROR, %ecx
	vmread %ecx, %eax
	movl %eax, R32_ERROR(%esi)
1:	movl $1, R32_DONE(%esi)
	addl $R32_SIZE, %esi
	jmp next
done:
	cmpl $0, R32_CTX_TRACE(%ebx)
	je 1f
	movl $'\n', %eax
	call putc32
1:	ret

/* AL to COM1 once the transmitter holding register is empty (LSR bit 5). */
putc32:
	pushl %edx
	pushl %eax
	movl $COM1 + 5, %edx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	popl %eax
	movl $COM1, %edx
	outb %al, %dx
	popl %edx
	ret

	.section .rodata
	.balign 4
handlers:
	.long done, op_vmxon, op_vmxoff, op_vmptrld, op_vmclear, op_vmptrst
	.long op_vmread_reg, op_vmread_mem, op_vmwrite_reg, op_vmwrite_mem
	.long op_vmlaunch, op_vmresume, op_invept, op_invvpid
	.balign 8
null_idtr:
	.short 0
	.quad 0

	.data
	.balign 8
saved_rsp:	.quad 0
saved_cr3:	.quad 0
	.balign 8
saved_gdtr:	.short 0
		.quad 0
	.balign 8
saved_idtr:	.short 0
		.quad 0
	.code64
