/* 32-bit L2 code (see l2_modes.h): protected mode with or without paging. */
	.text
	.code32
	.globl l2_pm32_read
l2_pm32_read:
	movl (%edi), %eax
	vmmcall
	ud2

	.globl l2_pm32_write
l2_pm32_write:
	movl %esi, (%edi)
	vmmcall
	ud2

	/* A far JMP, then a far CALL, through the pointer (offset32, selector) at [EDI]. */
	.globl l2_pm32_ljmp
l2_pm32_ljmp:
	ljmpl *(%edi)
	vmmcall
	ud2

	.globl l2_pm32_lcall
l2_pm32_lcall:
	lcalll *(%edi)
	vmmcall
	ud2

	.globl l2_pm32_iret_nt
l2_pm32_iret_nt:
	pushfl
	orl $0x4000, (%esp)	/* EFLAGS.NT */
	popfl
	.globl l2_pm32_iret_nt_insn
l2_pm32_iret_nt_insn:
	iretl
	vmmcall
	ud2

	/* Loads DS with the selector in ESI (a selector beyond the GDT limit: #GP). */
	.globl l2_pm32_load_ds
l2_pm32_load_ds:
	movl %esi, %eax
	.globl l2_pm32_load_ds_insn
l2_pm32_load_ds_insn:
	movw %ax, %ds
	vmmcall
	ud2

	.globl l2_pm32_vmmcall
l2_pm32_vmmcall:
	vmmcall
	ud2
	.code64
