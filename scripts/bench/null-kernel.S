/*
 * The baseline for scripts/bench: the least a kernel can do under QEMU -kernel.
 * Entered through PVH in 32-bit protected mode, it writes one line to COM1
 * and leaves through isa-debug-exit.  No long mode, no tables, no runtime.
 */
	.section .note.Xen, "a"
	.balign 4
	.long 4, 4, 18		/* name size, descriptor size, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long null_entry

	.text
	.code32
	.globl null_entry
null_entry:
	movl $message, %esi
1:	movb (%esi), %al
	testb %al, %al
	jz 2f
	movw $0x3f8, %dx
	outb %al, %dx
	incl %esi
	jmp 1b
2:	xorl %eax, %eax
	movw $0xf4, %dx
	outl %eax, %dx
3:	cli
	hlt
	jmp 3b

	.section .rodata
message:
	.asciz "null kernel\n"
