/*
 * The image's entry: one ELF64 that two loaders accept.
 *
 *  - Multiboot2 (GRUB): header in the first 32 KiB; entered in 32-bit protected
 *    mode with EAX = 0x36d76289 and EBX = the boot information.
 *  - PVH (QEMU -kernel, Xen): an ELF note XEN_ELFNOTE_PHYS32_ENTRY (18) names the
 *    32-bit entry; EBX = struct hvm_start_info, whose first word is 0x336ec578.
 *
 * Both land in entry32 with paging off.  It identity-maps the first 4 GiB with
 * 2 MiB pages, enters long mode (SDM Vol. 3A 10.8.5) and calls x86_boot_main(magic, info).
 */
#include "desc.h"

#define MB2_MAGIC	0xe85250d6
#define MB2_ARCH_I386	0

	.section .boot.header, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag */
	.short 0, 0
	.long 8
mb2_header_end:

	.section .note.Xen, "a"
	.balign 4
	.long 4			/* name size: "Xen\0" */
	.long 4			/* descriptor size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long entry32

	.section .text.entry, "ax"
	.code32
	.globl entry32
entry32:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info
	movl $boot_stack_top, %esp

	/* Zero .bss: loaders are asked to, but the page tables must start clean anyway. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $early_pdpt + 0x3, early_pml4
	movl $early_pd + 0x3, %eax
	movl $early_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $0x1000, %eax
	addl $8, %edi
	loop 1b

	movl $early_pd, %edi
	movl $0x83, %eax	/* present, writable, 2 MiB page */
	xorl %edx, %edx		/* high dword of the entry */
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b

	movl %cr4, %eax
	orl $(1 << 5), %eax	/* PAE */
	movl %eax, %cr4
	movl $early_pml4, %eax
	movl %eax, %cr3

	/* EFER.LME, and EFER.NXE where the CPU has NX (CPUID 80000001h EDX[20]). */
	movl $0x80000000, %eax
	cpuid
	xorl %esi, %esi
	cmpl $0x80000001, %eax
	jb 3f
	movl $0x80000001, %eax
	cpuid
	btl $20, %edx
	jnc 3f
	movl $(1 << 11), %esi
3:	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8), %eax
	orl %esi, %eax
	wrmsr

	movl %cr0, %eax
	orl $0x80010021, %eax	/* PG, WP, NE, PE */
	andl $~0x60000000, %eax	/* caches on: CD and NW clear */
	movl %eax, %cr0

	lgdt gdt64_descriptor
	ljmp $KERNEL_CS64, $entry64

	.code64
entry64:
	load_kernel_data_segments
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic, %edi
	movl boot_info, %esi
	call x86_boot_main
4:	cli
	hlt
	jmp 4b

	.data
	.balign 4
boot_magic:	.long 0
boot_info:	.long 0

	.balign 16
	.globl gdt64
gdt64:
	.quad 0				/* null */
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad 0x00cff3000000ffff	/* 0x20 user data */
	.quad 0x00affb000000ffff	/* 0x28 user code, 64-bit */
	.quad 0, 0			/* 0x30 TSS, filled by desc.c */
	.quad 0x008f9b000000ffff	/* 0x40 kernel code, 16-bit */
	.quad 0x008f93000000ffff	/* 0x48 kernel data, 16-bit */
	.globl gdt64_end
gdt64_end:

	.balign 8
	.globl gdt64_descriptor
gdt64_descriptor:
	.short gdt64_end - gdt64 - 1
	.quad gdt64

	.section .bss.page_aligned, "aw", @nobits
	.balign 4096
	.globl early_pml4
early_pml4:	.skip 4096
early_pdpt:	.skip 4096
early_pd:	.skip 4 * 4096
	.balign 16
boot_stack:	.skip 16384
	.globl boot_stack_top
boot_stack_top:
