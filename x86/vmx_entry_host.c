/*
 * VM entry: checks on the host-state area (SDM Vol. 3C 27.2.2, "Checks on
 * Host Control Registers, MSRs, and SSP"; 27.2.3, "Checks on Host Segment and
 * Descriptor-Table Registers"; 27.2.4, "Checks Related to Address-Space
 * Size").  A VMCS that breaks one of them makes VMLAUNCH fail and leaves the
 * launch state alone.  Each case names the rule of lib/x86/vmx_rules.h that it
 * breaks; the outcome it expects (there VMfailValid(8)) is the table's
 * prediction for the broken VMCS.  The test's host is 64-bit: "host
 * address-space size" is 1.
 *
 * Each entry starts from a VMCS that enters and reaches VMCALL (".valid"),
 * breaks one rule (".fails") and checks the launch state (".launch_state");
 * see lib/x86/vmx_entry_util.h.
 */
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx_entry_util.h"

/* ------------------------------------------------------------ CR0, CR4: fixed bits (27.2.2; A.7, A.8) */

/*
 * Each bit of host CR0/CR4 that IA32_VMX_CRn_FIXED0 (must be 1) or FIXED1
 * (must be 0) pins, set against it: VMfailValid(8).
 */
static void check_cr0_fixed0(void)
{
	ve_check_fixed_bits(VMCS_HOST_CR0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, true,
			    VR_HOST_CR0_FIXED0);
}
static void check_cr0_fixed1(void)
{
	ve_check_fixed_bits(VMCS_HOST_CR0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, false,
			    VR_HOST_CR0_FIXED1);
}
static void check_cr4_fixed0(void)
{
	ve_check_fixed_bits(VMCS_HOST_CR4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, true,
			    VR_HOST_CR4_FIXED0);
}
static void check_cr4_fixed1(void)
{
	ve_check_fixed_bits(VMCS_HOST_CR4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, false,
			    VR_HOST_CR4_FIXED1);
}

/* CR3: no bit at or above MAXPHYADDR (below bit 52). */
static void brk_cr3(void) { vmcs_update(VMCS_HOST_CR3, 0, ve_beyond_maxphyaddr()); }
VE_CASE(check_cr3_maxphyaddr, .brk = brk_cr3, .rule = VR_HOST_CR3_MAXPHYADDR)

/* IA32_SYSENTER_ESP/EIP canonical (27.2.2); FS, GS, GDTR, IDTR, TR bases canonical (27.2.3). */
#define NONCANON(fn, f, r)                                                     \
	VE_CASE(fn, .field = f, .clear = ~0ull, .set = VE_NONCANONICAL, .rule = r)
NONCANON(check_sysenter_esp, VMCS_HOST_SYSENTER_ESP, VR_HOST_SYSENTER_ESP)
NONCANON(check_sysenter_eip, VMCS_HOST_SYSENTER_EIP, VR_HOST_SYSENTER_EIP)
NONCANON(check_fs_base, VMCS_HOST_FS_BASE, VR_HOST_BASES)
NONCANON(check_gs_base, VMCS_HOST_GS_BASE, VR_HOST_BASES)
NONCANON(check_gdtr_base, VMCS_HOST_GDTR_BASE, VR_HOST_BASES)
NONCANON(check_idtr_base, VMCS_HOST_IDTR_BASE, VR_HOST_BASES)
NONCANON(check_tr_base, VMCS_HOST_TR_BASE, VR_HOST_BASES)
/* 64-bit host: RIP canonical (27.2.4). */
NONCANON(check_rip, VMCS_HOST_RIP, VR_HOST_RIP)

/*
 * IA32_EFER with "load IA32_EFER": reserved bits 0, LMA and LME each equal
 * to "host address-space size" (27.2.2).
 */
static bool prep_efer(void)
{
	return vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_LOAD_EFER);
}
VE_CASE(check_efer_reserved, .prepare = prep_efer, .field = VMCS_HOST_EFER, .set = BIT(2),
	.rule = VR_HOST_EFER_RESERVED)
VE_CASE(check_efer_lma, .prepare = prep_efer, .field = VMCS_HOST_EFER, .clear = EFER_LMA,
	.rule = VR_HOST_EFER_LMA)
VE_CASE(check_efer_lme, .prepare = prep_efer, .field = VMCS_HOST_EFER, .clear = EFER_LME,
	.rule = VR_HOST_EFER_LME)

/* IA32_PAT with "load IA32_PAT": each byte 0, 1, 4, 5, 6 or 7 (27.2.2). */
static bool prep_pat(void)
{
	return vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_LOAD_PAT);
}
VE_CASE(check_pat_type2, .prepare = prep_pat, .field = VMCS_HOST_PAT, .clear = 0xff, .set = 2,
	.rule = VR_HOST_PAT)
VE_CASE(check_pat_type8, .prepare = prep_pat, .field = VMCS_HOST_PAT, .clear = 0xff00ull << 48,
	.set = 0x08ull << 56, .rule = VR_HOST_PAT)

/* IA32_PERF_GLOBAL_CTRL with "load IA32_PERF_GLOBAL_CTRL": reserved bits 0 (27.2.2). */
static bool prep_perf_global(void)
{
	return ve_ctls_field(VMX_CTLS_EXIT, VMX_EXIT_LOAD_PERF_GLOBAL, VMCS_HOST_PERF_GLOBAL_CTRL, 0);
}
VE_CASE(check_perf_global_reserved, .prepare = prep_perf_global,
	.field = VMCS_HOST_PERF_GLOBAL_CTRL, .set = BIT(63), .rule = VR_HOST_PERF_GLOBAL)

/* ------------------------------------------------------------ selectors (27.2.3) */

/* ES, CS, SS, DS, FS, GS, TR: RPL (bits 1:0) and TI (bit 2) are 0. */
#define SEL_BITS(fn, f, bits) VE_CASE(fn, .field = f, .set = bits, .rule = VR_HOST_SEL_RPL_TI)
SEL_BITS(check_es_rpl, VMCS_HOST_ES_SEL, 1)
SEL_BITS(check_cs_rpl, VMCS_HOST_CS_SEL, 3)
SEL_BITS(check_ss_rpl, VMCS_HOST_SS_SEL, 2)
SEL_BITS(check_ds_rpl, VMCS_HOST_DS_SEL, 1)
SEL_BITS(check_fs_rpl, VMCS_HOST_FS_SEL, 1)
SEL_BITS(check_gs_rpl, VMCS_HOST_GS_SEL, 3)
SEL_BITS(check_tr_rpl, VMCS_HOST_TR_SEL, 1)
SEL_BITS(check_cs_ti, VMCS_HOST_CS_SEL, 4)
SEL_BITS(check_ds_ti, VMCS_HOST_DS_SEL, 4)
SEL_BITS(check_tr_ti, VMCS_HOST_TR_SEL, 4)
/* CS and TR are not 0000H. */
VE_CASE(check_cs_null, .field = VMCS_HOST_CS_SEL, .clear = 0xffff, .rule = VR_HOST_CS_NULL)
VE_CASE(check_tr_null, .field = VMCS_HOST_TR_SEL, .clear = 0xffff, .rule = VR_HOST_TR_NULL)
/* SS may be 0000H when "host address-space size" is 1 (the rule is for a 32-bit host). */
VE_CASE(run_ss_null_64bit, .field = VMCS_HOST_SS_SEL, .clear = 0xffff, .rule = VR_HOST_SS_NULL, .legal = true)
static void check_ss_null_64bit(void)
{
	uint16_t ss = read_ss();

	run_ss_null_64bit();
	/* The exit loaded SS = 0: give L1 its stack segment back. */
	asm volatile("mov %0, %%ss" : : "r"(ss));
}

/* ------------------------------------------------------------ address-space size (27.2.4) */

/* In IA-32e mode (IA32_EFER.LMA = 1 in L1), "host address-space size" must be 1. */
VE_CASE(check_addr_space_clear, .field = VMCS_EXIT_CONTROLS, .clear = VMX_EXIT_HOST_ADDR_SPACE,
	.rule = VR_HOST_ADDR_SPACE)
/* With "host address-space size" 1, CR4.PAE is 1. */
VE_CASE(check_cr4_pae_clear, .field = VMCS_HOST_CR4, .clear = X86_CR4_PAE, .rule = VR_HOST_PAE)

static const struct check_entry checks[] = {
	{ "cr0.fixed0", check_cr0_fixed0 },
	{ "cr0.fixed1", check_cr0_fixed1 },
	{ "cr4.fixed0", check_cr4_fixed0 },
	{ "cr4.fixed1", check_cr4_fixed1 },
	{ "cr3.maxphyaddr", check_cr3_maxphyaddr },
	{ "sysenter_esp.noncanonical", check_sysenter_esp },
	{ "sysenter_eip.noncanonical", check_sysenter_eip },
	{ "efer.reserved", check_efer_reserved },
	{ "efer.lma_clear", check_efer_lma },
	{ "efer.lme_clear", check_efer_lme },
	{ "pat.type2", check_pat_type2 },
	{ "pat.type8", check_pat_type8 },
	{ "perf_global_ctrl.reserved", check_perf_global_reserved },
	{ "sel.es_rpl", check_es_rpl },
	{ "sel.cs_rpl", check_cs_rpl },
	{ "sel.ss_rpl", check_ss_rpl },
	{ "sel.ds_rpl", check_ds_rpl },
	{ "sel.fs_rpl", check_fs_rpl },
	{ "sel.gs_rpl", check_gs_rpl },
	{ "sel.tr_rpl", check_tr_rpl },
	{ "sel.cs_ti", check_cs_ti },
	{ "sel.ds_ti", check_ds_ti },
	{ "sel.tr_ti", check_tr_ti },
	{ "sel.cs_null", check_cs_null },
	{ "sel.tr_null", check_tr_null },
	{ "sel.ss_null_64bit", check_ss_null_64bit },
	{ "base.fs_noncanonical", check_fs_base },
	{ "base.gs_noncanonical", check_gs_base },
	{ "base.gdtr_noncanonical", check_gdtr_base },
	{ "base.idtr_noncanonical", check_idtr_base },
	{ "base.tr_noncanonical", check_tr_base },
	{ "addr_space.clear_in_ia32e", check_addr_space_clear },
	{ "addr_space.cr4_pae_clear", check_cr4_pae_clear },
	{ "addr_space.rip_noncanonical", check_rip },
};

DEFINE_TEST("vmx_entry_host", checks, .setup = ve_setup);
