/**
 * @file vmx_root32.h
 * VMX operation from a 32-bit host (vmx_root32.S): the test leaves long mode
 * for 32-bit protected mode with PAE paging, runs a script of VMX
 * instructions there and comes back.  The script is data (struct root32_op),
 * so the C side prepares operands and checks each recorded outcome.
 *
 * Outside 64-bit mode VMREAD and VMWRITE use 32-bit operands (SDM Vol. 3C
 * 31.3): a VMREAD of a longer field returns its low 32 bits, a VMWRITE of a
 * longer field clears the field's high bits; 64-bit fields also have a
 * "high" encoding (bit 0 set) for bits 63:32 (25.11.2).
 *
 * Rules for the caller: not in VMX operation (the script's VMXON enters it:
 * CR0.PG cannot be cleared in VMX operation, 24.8; in compatibility mode any
 * VMX state will do), CR4.PCIDE clear, and every address the script touches
 * (context, ops, operands, the stack, the current CR3 and the PAE tables)
 * below 4 GiB.  root32_run() disables interrupts.  There is no IDT in 32-bit
 * protected mode: an exception there shuts the machine down (the run ends as
 * ERROR), so only instructions that cannot fault belong in such a script.
 */
#ifndef HVT_X86_VMX_ROOT32_H
#define HVT_X86_VMX_ROOT32_H

#define ROOT32_END		0
#define ROOT32_VMXON		1	/* VMXON m64 (mem) */
#define ROOT32_VMXOFF		2
#define ROOT32_VMPTRLD		3	/* VMPTRLD m64 (mem) */
#define ROOT32_VMCLEAR		4	/* VMCLEAR m64 (mem) */
#define ROOT32_VMPTRST		5	/* VMPTRST m64 -> mem */
#define ROOT32_VMREAD_REG	6	/* VMREAD r32 (out[0]) <- field in a r32 */
#define ROOT32_VMREAD_MEM	7	/* VMREAD m32 (mem) */
#define ROOT32_VMWRITE_REG	8	/* VMWRITE field <- r32 (value) */
#define ROOT32_VMWRITE_MEM	9	/* VMWRITE field <- m32 (mem) */
#define ROOT32_VMLAUNCH		10	/* HOST_RSP = ESP, then VMLAUNCH */
#define ROOT32_VMRESUME		11	/* HOST_RSP = ESP, then VMRESUME */
#define ROOT32_INVEPT		12	/* INVEPT r32 (field = type), m128 (desc) */
#define ROOT32_INVVPID		13	/* INVVPID r32 (field = type), m128 (desc) */
#define ROOT32_OPS		14

/* struct root32_op offsets (asm) */
#define R32_CODE	0
#define R32_FIELD	4
#define R32_VALUE	8
#define R32_EFLAGS	12
#define R32_ERROR	16
#define R32_DONE	20
#define R32_OUT		24
#define R32_MEM		40
#define R32_DESC	48
#define R32_SIZE	64

/* struct root32_ctx offsets (asm) */
#define R32_CTX_CR3	0
#define R32_CTX_OPS	4
#define R32_CTX_STACK	8
#define R32_CTX_TRACE	12
#define R32_CTX_COMPAT	16

#ifndef __ASSEMBLY__

#include "libhvt.h"

/** One instruction of a script and what it did. */
struct root32_op {
	uint32_t code;		/**< ROOT32_* */
	uint32_t field;		/**< VMCS field encoding; INVEPT/INVVPID type */
	uint32_t value;		/**< VMWRITE source register; VMREAD_REG: EAX before */
	uint32_t eflags;	/**< EFLAGS after it (after a VM exit: RFLAGS as the exit set it) */
	uint32_t error;		/**< VM-instruction error after VMfailValid (ZF), else 0 */
	uint32_t done;		/**< 1 once the script reached it */
	/**
	 * VMREAD_REG: out[0] = the destination register.  VMLAUNCH/VMRESUME
	 * that entered the guest: out[0] = 1, then at the VM exit IA32_EFER
	 * bits 31:0, CR0 and CR4.
	 */
	uint32_t out[4];
	uint64_t mem;		/**< memory operand */
	/**
	 * INVEPT/INVVPID descriptor.  After a VM exit: the SGDT image at
	 * desc[0] and the SIDT image at desc[1] (limit 16 bits, base 32 bits).
	 */
	uint64_t desc[2];
};
_Static_assert(sizeof(struct root32_op) == R32_SIZE, "vmx_root32.S uses the layout");

/** What root32_run() needs. */
struct root32_ctx {
	uint32_t cr3;		/**< the PAE tables' root (pt_format_pae) */
	uint32_t ops;		/**< the script, ending in ROOT32_END */
	uint32_t stack_top;	/**< the 32-bit stack */
	uint32_t trace;		/**< nonzero: one console byte per op ('A' + code) */
	/**
	 * Nonzero: run the script in compatibility mode (IA-32e mode, CS.L = 0)
	 * instead, with paging, VMX operation and the 64-bit IDT as they are; a
	 * fault of a VMX instruction is caught (fault.h) and the script goes on.
	 */
	uint32_t compat;
};

/**
 * Runs @ctx's script in 32-bit protected mode with PAE paging (or in
 * compatibility mode), then returns to 64-bit mode.
 */
void root32_run(struct root32_ctx *ctx);

/** Where a VM exit lands in 32-bit mode: HOST_RIP of a 32-bit host's VMCS. */
extern char root32_host_exit[];

#endif
#endif
