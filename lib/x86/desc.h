/**
 * @file desc.h
 * Descriptor tables: the GDT (laid out in entry.S), the TSS with IST stacks for
 * #DF, NMI and #MC, and an IDT covering all 256 vectors.
 */
#ifndef HVT_X86_DESC_H
#define HVT_X86_DESC_H

#define KERNEL_CS64	0x08
#define KERNEL_DS	0x10
#define KERNEL_CS32	0x18
#define USER_DS		0x23
#define USER_CS64	0x2b
#define TSS_SELECTOR	0x30
#define KERNEL_CS16	0x40
#define KERNEL_DS16	0x48

/* Interrupt-stack-table slots (SDM Vol. 3A 7.14.5) */
#define IST_DF	1
#define IST_NMI	2
#define IST_MC	3

#ifdef __ASSEMBLY__

/* 64-bit entry code (entry.S, smp_trampoline.S): flat data segments, FS and GS null. */
.macro load_kernel_data_segments
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
.endm

#else

#include "libhvt.h"

/** A GDTR or IDTR image, as LGDT/SGDT move it. */
struct dtr {
	uint16_t limit;
	uint64_t base;
} __packed;

/** The registers saved by the interrupt entry (isr.S), in memory order. */
struct ex_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;	/* 0 for vectors that push none */
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};

/** An interrupt handler; it may change @regs, which are restored on return. */
typedef void (*irq_handler_t)(struct ex_regs *regs);

/** Loads the TSS and the IDT; called once at boot. */
void desc_setup(void);

/** On an AP (smp.c): a GDT copy with a TSS and stacks of its own, and the IDT. */
void desc_setup_ap(void);

/** The GDT this CPU runs on (gdt64 on the BSP, a copy on the APs). */
uint64_t *gdt_current(void);

/**
 * Routes @vector (32..255) to @handler, or back to "unexpected" with NULL.
 * Exceptions (0..31) are not routed here: catch them with fault.h.
 */
void irq_set_handler(unsigned vector, irq_handler_t handler);

/** Does @vector push an error code (SDM Vol. 3A 6.3.1, Table 6-1)? */
bool vector_has_error_code(unsigned vector);

/** Mnemonic of an exception vector ("#GP"), or "IRQ". */
const char *vector_name(unsigned vector);

extern uint64_t gdt64[], gdt64_end[];

#endif /* __ASSEMBLY__ */
#endif
