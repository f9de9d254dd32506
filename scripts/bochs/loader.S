/*
 * The boot loader of the Bochs disk path (docs/bochs.md, "How a test boots"):
 * the BIOS runs sector 0 of the disk that build/host/hvt-bootdisk wrote
 * (layout: bootplan.h). The loader then does what a Multiboot2 loader does
 * for the test image, as the plan sector describes it:
 *
 *  1. reads the rest of itself and the plan (INT 13h AH=42h);
 *  2. for each load record, reads the bytes into a bounce buffer and moves
 *     them to their place, above 1 MiB too (INT 15h AH=87h);
 *  3. appends the BIOS memory map (INT 15h EAX=E820h) to the Multiboot2
 *     information that a load record put at BOOTPLAN_MBI_ADDR (Multiboot2
 *     specification 3.6.8), and the end tag;
 *  4. enables A20 (INT 15h AX=2401h), enters 32-bit protected mode with flat
 *     segments (SDM Vol. 3A 10.9.1), clears the zero records (bss) and jumps
 *     to the entry with EAX = 0x36d76289, EBX = the information, interrupts
 *     off, paging off: the machine state of Multiboot2 specification 3.3.
 *
 * A failure prints "hvt-loader: WHAT" on COM1 (the test's console) and ends
 * Bochs through its shutdown port, so that a run never waits for its timeout.
 */
#include "bootplan.h"

#define COM1			0x3f8
#define BOCHS_SHUTDOWN_PORT	0x8900
#define MB2_BOOTLOADER_MAGIC	0x36d76289
#define MB2_TAG_MMAP		6
#define MMAP_ENTRY_SIZE		24
#define E820_SMAP		0x534d4150	/* "SMAP" */

#define PLAN			(BOOTPLAN_LOAD_ADDR + BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR)
#define CHUNK_BYTES		(BOOTPLAN_CHUNK_SECTORS * BOOTPLAN_SECTOR)

#define STR(x)			#x
#define XSTR(x)			STR(x)

#define CODE32_SEL		0x08
#define DATA32_SEL		0x10

	.code16
	.section .text, "ax"
	.globl _start
_start:
	jmp 1f
	. = _start + BOOTPLAN_LOADER_ID_OFFSET
	.long BOOTPLAN_MAGIC
	.word BOOTPLAN_VERSION
1:	ljmp $0, $2f		/* CS:IP = 0000:7Cxx, whatever the BIOS used */
2:	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $BOOTPLAN_STACK_TOP, %sp
	sti
	cld
	movb %dl, boot_drive

	/* The rest of the loader and the plan, right after this sector. */
	movl $1, %eax
	movw $BOOTPLAN_LOADER_SECTORS, %cx
	movw $BOOTPLAN_LOAD_ADDR + BOOTPLAN_SECTOR, %di
	call read_sectors
	movw $msg_read, %si
	jc fail
	jmp stage2

/*
 * read_sectors: CX sectors from LBA EAX to ES:DI through the BIOS's extended
 * read (INT 13h AH=42h, EDD 3.0). CF set on failure.
 */
read_sectors:
	movw %cx, dap_count
	movw %di, dap_offset
	movw %es, dap_segment
	movl %eax, dap_lba
	movw $dap, %si
	movb boot_drive, %dl
	movb $0x42, %ah
	int $0x13
	ret

/*
 * fail: print "hvt-loader: " and the string at SI on COM1, then end Bochs.
 * COM1 is programmed here (115200 8N1): Bochs' UART honours LCR.
 */
fail:
	pushw %si
	movw $COM1 + 1, %dx
	xorb %al, %al
	outb %al, %dx		/* IER: no interrupts */
	movw $COM1 + 3, %dx
	movb $0x80, %al
	outb %al, %dx		/* LCR: DLAB */
	movw $COM1, %dx
	movb $1, %al
	outb %al, %dx		/* divisor 1: 115200 baud */
	incw %dx
	xorb %al, %al
	outb %al, %dx
	movw $COM1 + 3, %dx
	movb $0x03, %al
	outb %al, %dx		/* LCR: 8N1 */
	movw $msg_prefix, %si
	call puts
	popw %si
	call puts
	movw $msg_eol, %si
	call puts
	movw $COM1 + 5, %dx
3:	inb %dx, %al
	testb $0x40, %al	/* LSR.TEMT: the last byte is out */
	jz 3b
	movw $msg_shutdown, %si
	movw $BOCHS_SHUTDOWN_PORT, %dx
4:	lodsb
	testb %al, %al
	jz 5f
	outb %al, %dx
	jmp 4b
5:	cli
	hlt
	jmp 5b

/* puts: the NUL-terminated string at SI to COM1, each byte once LSR.THRE is set. */
puts:
	lodsb
	testb %al, %al
	jz 2f
	movb %al, %ah
	movw $COM1 + 5, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	movw $COM1, %dx
	movb %ah, %al
	outb %al, %dx
	jmp puts
2:	ret

	.balign 4
dap:	.byte 16, 0		/* EDD disk address packet */
dap_count:	.word 0
dap_offset:	.word 0
dap_segment:	.word 0
dap_lba:	.quad 0
boot_drive:	.byte 0

msg_prefix:	.asciz "hvt-loader: "
msg_eol:	.asciz "\r\n"
msg_shutdown:	.asciz "Shutdown"
msg_read:	.asciz "disk read failed (INT 13h AH=42h)"

	. = _start + 510
	.byte 0x55, 0xaa	/* the BIOS boots a sector with this signature */

/* ------------------------------------------------------------ sectors 1 on */

stage2:
	movw $msg_plan, %si
	cmpl $BOOTPLAN_MAGIC, PLAN + PLAN_MAGIC
	jne fail
	cmpw $BOOTPLAN_VERSION, PLAN + PLAN_VERSION
	jne fail

	/* The load records. */
	movw $PLAN + PLAN_RECORDS, %bp
	movw PLAN + PLAN_NLOADS, %cx
next_record:
	testw %cx, %cx
	jz loaded
	pushw %cx
	movl LOAD_LBA(%bp), %eax
	movl %eax, cur_lba
	movl LOAD_COUNT(%bp), %eax
	movl %eax, left
	movl LOAD_DEST(%bp), %eax
	movl %eax, dest
next_chunk:
	movl left, %eax
	testl %eax, %eax
	jz record_done
	cmpl $CHUNK_BYTES, %eax
	jbe 1f
	movl $CHUNK_BYTES, %eax
1:	movl %eax, chunk
	addl $BOOTPLAN_SECTOR - 1, %eax
	shrl $9, %eax
	movw %ax, %cx
	movw $BOOTPLAN_BOUNCE >> 4, %ax
	movw %ax, %es
	xorw %di, %di
	movl cur_lba, %eax
	call read_sectors
	movw $0, %ax
	movw %ax, %es
	movw $msg_read, %si
	jc fail
	call move_chunk
	movw $msg_move, %si
	jc fail
	movl chunk, %eax
	subl %eax, left
	addl %eax, dest
	addl $BOOTPLAN_SECTOR - 1, %eax
	shrl $9, %eax
	addl %eax, cur_lba
	jmp next_chunk
record_done:
	popw %cx
	addw $LOAD_SIZE, %bp
	decw %cx
	jmp next_record
loaded:
	call memory_map
	movw $0x2401, %ax	/* A20 gate on */
	int $0x15
	movw $msg_a20, %si
	jc fail

	cli
	lgdtl gdt_descriptor
	movl %cr0, %eax
	orl $1, %eax		/* PE; PG stays clear */
	movl %eax, %cr0
	ljmpl $CODE32_SEL, $protected

/*
 * move_chunk: CHUNK bytes from the bounce buffer to DEST, through the BIOS's
 * block move (INT 15h AH=87h), which copies whole words with descriptors of
 * 32-bit bases. CF set on failure.
 */
move_chunk:
	movl dest, %eax
	movw %ax, move_gdt + 0x18 + 2
	shrl $16, %eax
	movb %al, move_gdt + 0x18 + 4
	movb %ah, move_gdt + 0x18 + 7
	movl chunk, %ecx
	incl %ecx
	shrl $1, %ecx
	movw $move_gdt, %si
	movb $0x87, %ah
	int $0x15
	ret

/*
 * memory_map: the Multiboot2 memory map tag from the BIOS's E820 list, then
 * the end tag, after the tags of the plan's information; sets its total
 * size. An entry of zero length is left out; the reserved field is zero.
 */
memory_map:
	movl PLAN + PLAN_MBI, %eax
	shrl $4, %eax
	movw %ax, %es
	movw PLAN + PLAN_MBI_SIZE, %di
	movw %di, mmap_tag
	movl $MB2_TAG_MMAP, %es:0(%di)
	movl $MMAP_ENTRY_SIZE, %es:8(%di)
	movl $0, %es:12(%di)
	addw $16, %di
	xorl %ebx, %ebx
1:	movl $0xe820, %eax
	movl $MMAP_ENTRY_SIZE, %ecx
	movl $E820_SMAP, %edx
	int $0x15
	jc 3f			/* past the last entry */
	cmpl $E820_SMAP, %eax
	jne 3f
	movl $0, %es:20(%di)
	movl %es:8(%di), %eax
	orl %es:12(%di), %eax
	jz 2f
	addw $MMAP_ENTRY_SIZE, %di
	incw mmap_count
	movw $msg_mmap_full, %si
	cmpw $BOOTPLAN_MMAP_MAX, mmap_count
	ja fail
2:	testl %ebx, %ebx
	jnz 1b
3:	movw $msg_e820, %si
	cmpw $0, mmap_count
	je fail
	movw %di, %ax
	subw mmap_tag, %ax
	movw mmap_tag, %si
	movzwl %ax, %eax
	movl %eax, %es:4(%si)
	movl $0, %es:0(%di)	/* the end tag */
	movl $8, %es:4(%di)
	addw $8, %di
	movzwl %di, %eax
	movl %eax, %es:0	/* total_size */
	movl $0, %es:4
	xorw %ax, %ax
	movw %ax, %es
	ret

	.code32
protected:
	movw $DATA32_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	/* The zero records follow the load records. */
	movzwl PLAN + PLAN_NLOADS, %eax
	imull $LOAD_SIZE, %eax, %esi
	addl $PLAN + PLAN_RECORDS, %esi
	movzwl PLAN + PLAN_NZEROS, %edx
1:	testl %edx, %edx
	jz 2f
	movl ZERO_DEST(%esi), %edi
	movl ZERO_COUNT(%esi), %ecx
	xorl %eax, %eax
	rep stosb
	addl $ZERO_SIZE, %esi
	decl %edx
	jmp 1b
2:	movl PLAN + PLAN_MBI, %ebx
	movl PLAN + PLAN_ENTRY, %ecx
	movl $MB2_BOOTLOADER_MAGIC, %eax
	jmp *%ecx

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08 code, 32-bit, base 0, 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10 data, base 0, 4 GiB */
gdt_descriptor:
	.word gdt_descriptor - gdt - 1
	.long gdt

/* INT 15h AH=87h: the BIOS fills the entries at 0x08, 0x20 and 0x28. */
	.balign 8
move_gdt:
	.quad 0
	.quad 0
	.word 0xffff, BOOTPLAN_BOUNCE & 0xffff	/* 0x10 source: the bounce buffer */
	.byte BOOTPLAN_BOUNCE >> 16, 0x93, 0, 0
	.word 0xffff, 0				/* 0x18 destination: set per chunk */
	.byte 0, 0x93, 0, 0
	.quad 0
	.quad 0

	.balign 4
cur_lba:	.long 0
left:		.long 0
dest:		.long 0
chunk:		.long 0
mmap_tag:	.word 0
mmap_count:	.word 0

msg_plan:	.asciz "no plan of this loader's version on the disk (rebuild it with hvt-bootdisk)"
msg_move:	.asciz "block move failed (INT 15h AH=87h)"
msg_e820:	.asciz "no memory map (INT 15h EAX=E820h)"
msg_mmap_full:	.ascii "more than ", XSTR(BOOTPLAN_MMAP_MAX)
		.asciz " memory map entries (INT 15h EAX=E820h)"
msg_a20:	.asciz "cannot enable A20 (INT 15h AX=2401h)"

	. = _start + BOOTPLAN_LOADER_SECTORS * BOOTPLAN_SECTOR
