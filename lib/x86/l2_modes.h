/**
 * @file l2_modes.h
 * L2 code for guest modes other than long mode (l2_modes.S): 32-bit protected
 * mode snippets that run with paging off, with 32-bit paging or with PAE, each
 * ending in VMMCALL (then UD2).  Run them with CS = KERNEL_CS32 and EFER.LMA
 * clear in the VMCB.
 */
#ifndef HVT_X86_L2_MODES_H
#define HVT_X86_L2_MODES_H

/* EAX = the 32-bit word at [EDI] */
extern char l2_pm32_read[];
/* [EDI] = ESI */
extern char l2_pm32_write[];
/* A far JMP through the far pointer (offset32, selector16) at [EDI] */
extern char l2_pm32_ljmp[];
/* A far CALL through the far pointer at [EDI] */
extern char l2_pm32_lcall[];
/* IRET with EFLAGS.NT set: a return to the task in the current TSS's link field */
extern char l2_pm32_iret_nt[];
/* The IRET of l2_pm32_iret_nt (after the instructions that set NT) */
extern char l2_pm32_iret_nt_insn[];
/* DS = the selector in ESI */
extern char l2_pm32_load_ds[];
/* The MOV to DS of l2_pm32_load_ds */
extern char l2_pm32_load_ds_insn[];
/* VMMCALL alone: a target for the far transfers above */
extern char l2_pm32_vmmcall[];

#endif
