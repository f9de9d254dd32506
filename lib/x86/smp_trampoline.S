/*
 * The application processors' start (smp.c).  A STARTUP IPI with vector VV
 * starts an AP in real mode at CS:IP = VV00:0000 (SDM Vol. 3A 9.4.4.2, AMD
 * APM Vol. 2 16.5); smp.c copies smp_trampoline there and fills in CR3,
 * EFER and the GDT limit.  From real mode it enters long mode in one step: CR4.PAE, CR3 and
 * EFER.LME first, then CR0.PE and CR0.PG together (SDM Vol. 3A 10.8.5), and
 * a far jump through gdt64 to 64-bit code in the image, which is below 4 GiB.
 */
#include "desc.h"

#define TRAMPOLINE_OFFSET(label) ((label) - smp_trampoline)

	.section .rodata.smp_trampoline, "a"
	.code16
	.globl smp_trampoline, smp_trampoline_end
	.globl smp_trampoline_cr3, smp_trampoline_efer, smp_trampoline_gdt_limit
smp_trampoline:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl TRAMPOLINE_OFFSET(trampoline_gdtr)
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl TRAMPOLINE_OFFSET(smp_trampoline_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl TRAMPOLINE_OFFSET(smp_trampoline_efer), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010021, %eax		/* PG, WP, NE, PE */
	andl $~0x60000000, %eax		/* caches on */
	movl %eax, %cr0
	ljmpl *TRAMPOLINE_OFFSET(trampoline_jump)

	.balign 8
trampoline_gdtr:
smp_trampoline_gdt_limit:
	.short 0			/* gdt64's, filled in by smp.c */
	.long gdt64
	.balign 4
trampoline_jump:
	.long smp_ap_entry64
	.short KERNEL_CS64
	.balign 4
smp_trampoline_cr3:	.long 0
smp_trampoline_efer:	.long 0
smp_trampoline_end:

	.text
	.code64
smp_ap_entry64:
	load_kernel_data_segments
	movq smp_ap_boot_stack(%rip), %rsp
	xorl %ebp, %ebp
	call smp_ap_main
1:	cli
	hlt
	jmp 1b
