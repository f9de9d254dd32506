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
	.code64
