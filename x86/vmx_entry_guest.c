/*
 * VM entry: checks on the guest-state area (SDM Vol. 3C 27.3.1, "Checks on
 * the Guest State Area": 27.3.1.1 control registers, debug registers and
 * MSRs; 27.3.1.2 segment registers; 27.3.1.3 descriptor-table registers;
 * 27.3.1.4 RIP and RFLAGS; 27.3.1.5 non-register state) and MSR loading
 * (27.4, "Loading MSRs").  A guest state that breaks one of them is a VM-entry
 * failure (27.8) and leaves the launch state clear.  Each case names the rule
 * of lib/x86/vmx_rules.h that it breaks; the exit reason and qualification it
 * expects are the table's prediction for the broken VMCS.
 *
 * The default guest is 64-bit with the test's own segments, unrestricted
 * guest off.  Each entry starts from a VMCS that enters and reaches VMCALL
 * (".valid"), breaks one rule (".fails") and checks the launch state
 * (".launch_state"); see lib/x86/vmx_entry_util.h.  Machine-check failures
 * during VM entry (reason 41) cannot be caused by software and are not tested.
 */
#include "desc.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx_entry_util.h"

#define EV_BASE		VE_BASE(VMX_EXIT_EXCEPTION)

/* Segment field encodings by register: 0 ES ... 5 GS, 6 LDTR, 7 TR (Appendix B). */
enum { ES, CS, SS, DS, FS, GS, LDTR, TR };
#define SEL(s)		(VMCS_GUEST_ES_SEL + 2 * (s))
#define BASE(s)		(VMCS_GUEST_ES_BASE + 2 * (s))
#define LIMIT(s)	(VMCS_GUEST_ES_LIMIT + 2 * (s))
#define AR(s)		(VMCS_GUEST_ES_AR + 2 * (s))

/* Access rights (25.4.1, Table 25-2) */
#define AR_TYPE		0xfull
#define AR_S		BIT(4)
#define AR_DPL3		(3ull << 5)
#define AR_P		BIT(7)
#define AR_L		BIT(13)
#define AR_DB		BIT(14)
#define AR_G		BIT(15)

/* ------------------------------------------------------------ control registers, MSRs (27.3.1.1) */

/*
 * Guest CR0/CR4: each bit that IA32_VMX_CRn_FIXED0 (must be 1) or FIXED1
 * (must be 0) pins, set against it: entry failure 33.  PE and PG are exempt
 * with unrestricted guest, which is off here.
 */
static void check_cr0_fixed0(void)
{
	ve_check_fixed_bits(VMCS_GUEST_CR0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, true,
			    VR_GUEST_CR0_FIXED0);
}
static void check_cr0_fixed1(void)
{
	ve_check_fixed_bits(VMCS_GUEST_CR0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, false,
			    VR_GUEST_CR0_FIXED1);
}
static void check_cr4_fixed0(void)
{
	ve_check_fixed_bits(VMCS_GUEST_CR4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, true,
			    VR_GUEST_CR4_FIXED0);
}
static void check_cr4_fixed1(void)
{
	ve_check_fixed_bits(VMCS_GUEST_CR4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, false,
			    VR_GUEST_CR4_FIXED1);
}

/* With unrestricted guest, CR0.PE may be 0, but CR0.PG = 1 still needs PE = 1. */
VE_CASE(check_pg_without_pe, .prepare = ve_unrestricted, .field = VMCS_GUEST_CR0,
	.clear = X86_CR0_PE, .rule = VR_GUEST_CR0_PG_NEEDS_PE)

/* "IA-32e mode guest" 1: CR0.PG and CR4.PAE are 1 (PG alone: unrestricted guest). */
VE_CASE(check_ia32e_pae_clear, .field = VMCS_GUEST_CR4, .clear = X86_CR4_PAE, .rule = VR_GUEST_IA32E_PAE)
VE_CASE(check_ia32e_pg_clear, .prepare = ve_unrestricted, .field = VMCS_GUEST_CR0,
	.clear = X86_CR0_PG, .rule = VR_GUEST_IA32E_PG)

/* "IA-32e mode guest" 0: CR4.PCIDE is 0. */
static bool prep_prot32_pcide(void)
{
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & X86_CR4_PCIDE)) {
		skip("", "CR4.PCIDE not allowed in VMX operation (IA32_VMX_CR4_FIXED1[17])");
		return false;
	}
	if (!vmx_vcpu_set_mode(ve_vcpu, VMX_GUEST_PROT32, (void *)vmcs_read(VMCS_GUEST_RIP))) {
		skip("", "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return false;
	}
	return true;
}
VE_CASE(check_pcide_outside_ia32e, .prepare = prep_prot32_pcide, .field = VMCS_GUEST_CR4,
	.set = X86_CR4_PCIDE, .rule = VR_GUEST_PCIDE)

/* CR3: no bit beyond MAXPHYADDR. */
static void brk_cr3(void) { vmcs_update(VMCS_GUEST_CR3, 0, ve_beyond_maxphyaddr()); }
VE_CASE(check_cr3_maxphyaddr, .brk = brk_cr3, .rule = VR_GUEST_CR3_MAXPHYADDR)

/* "Load debug controls": IA32_DEBUGCTL reserved bits (63:16 among them) and DR7[63:32] are 0. */
static bool prep_debug(void)
{
	return ve_ctls(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_DEBUG);
}
VE_CASE(check_debugctl_reserved, .prepare = prep_debug, .field = VMCS_GUEST_DEBUGCTL,
	.set = BIT(32), .rule = VR_GUEST_DEBUGCTL)
VE_CASE(check_dr7_high, .prepare = prep_debug, .field = VMCS_GUEST_DR7, .set = BIT(32), .rule = VR_GUEST_DR7)

/* IA32_SYSENTER_ESP/EIP canonical. */
VE_CASE(check_sysenter_esp, .field = VMCS_GUEST_SYSENTER_ESP, .clear = ~0ull,
	.set = VE_NONCANONICAL, .rule = VR_GUEST_SYSENTER_ESP)
VE_CASE(check_sysenter_eip, .field = VMCS_GUEST_SYSENTER_EIP, .clear = ~0ull,
	.set = VE_NONCANONICAL, .rule = VR_GUEST_SYSENTER_EIP)

/* "Load IA32_PAT": each byte 0, 1, 4, 5, 6 or 7. */
static bool prep_pat(void)
{
	return ve_ctls(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PAT);
}
VE_CASE(check_pat_type3, .prepare = prep_pat, .field = VMCS_GUEST_PAT, .clear = 0xff00,
	.set = 0x0300, .rule = VR_GUEST_PAT)
VE_CASE(check_pat_type8, .prepare = prep_pat, .field = VMCS_GUEST_PAT, .clear = 0xffull << 56,
	.set = 0x08ull << 56, .rule = VR_GUEST_PAT)

/* "Load IA32_PERF_GLOBAL_CTRL": reserved bits 0. */
static bool prep_perf_global(void)
{
	return ve_ctls_field(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PERF_GLOBAL, VMCS_GUEST_PERF_GLOBAL_CTRL, 0);
}
VE_CASE(check_perf_global_reserved, .prepare = prep_perf_global,
	.field = VMCS_GUEST_PERF_GLOBAL_CTRL, .set = BIT(63), .rule = VR_GUEST_PERF_GLOBAL)

/*
 * "Load IA32_EFER": reserved bits 0; LMA equal to "IA-32e mode guest"; with
 * CR0.PG = 1, LME equal to LMA.
 */
static bool prep_efer(void)
{
	return ve_ctls(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_EFER);
}
VE_CASE(check_efer_reserved, .prepare = prep_efer, .field = VMCS_GUEST_EFER, .set = BIT(2),
	.rule = VR_GUEST_EFER_RESERVED)
VE_CASE(check_efer_lma_clear, .prepare = prep_efer, .field = VMCS_GUEST_EFER, .clear = EFER_LMA,
	.rule = VR_GUEST_EFER_LMA)
VE_CASE(check_efer_lme_clear, .prepare = prep_efer, .field = VMCS_GUEST_EFER, .clear = EFER_LME,
	.rule = VR_GUEST_EFER_LME)

/* ------------------------------------------------------------ segment registers (27.3.1.2) */

/* DS, ES, FS, GS usable: the test's data segment. */
static bool prep_data_segs(void)
{
	for (unsigned s = ES; s <= GS; s++) {
		if (s == CS || s == SS)
			continue;
		vmcs_write(SEL(s), KERNEL_DS);
		vmcs_write(LIMIT(s), 0xffffffff);
		vmcs_write(AR(s), vmcs_read(AR(SS)));
		if (s != FS && s != GS)
			vmcs_write(BASE(s), 0);
	}
	return true;
}
/* LDTR usable: type 2, S 0, present; VM entry does not read the GDT. */
static bool prep_ldtr(void)
{
	vmcs_write(SEL(LDTR), 0x50);
	vmcs_write(BASE(LDTR), 0);
	vmcs_write(LIMIT(LDTR), 0xffff);
	vmcs_write(AR(LDTR), AR_P | 2);
	return true;
}

#define SEG_CASE(fn, prep, f, c, s, r) VE_CASE(fn, .prepare = prep, .field = f, .clear = c, .set = s, .rule = r)

/* TR: TI 0; type 11 (busy 64-bit TSS) in IA-32e mode; S 0; present; AR 11:8, 31:17 0; usable. */
SEG_CASE(check_tr_ti, NULL, SEL(TR), 0, 4, VR_GUEST_TR_TI)
SEG_CASE(check_tr_type_available, NULL, AR(TR), AR_TYPE, 9, VR_GUEST_TR_TYPE)
SEG_CASE(check_tr_type_16bit, NULL, AR(TR), AR_TYPE, 3, VR_GUEST_TR_TYPE)
SEG_CASE(check_tr_s, NULL, AR(TR), 0, AR_S, VR_GUEST_TR_S)
SEG_CASE(check_tr_not_present, NULL, AR(TR), AR_P, 0, VR_GUEST_TR_P)
SEG_CASE(check_tr_ar_reserved, NULL, AR(TR), 0, BIT(8), VR_GUEST_TR_RESERVED)
SEG_CASE(check_tr_ar_high, NULL, AR(TR), 0, BIT(17), VR_GUEST_TR_RESERVED)
SEG_CASE(check_tr_unusable, NULL, AR(TR), 0, VMX_AR_UNUSABLE, VR_GUEST_TR_USABLE)
SEG_CASE(check_tr_base, NULL, BASE(TR), ~0ull, VE_NONCANONICAL, VR_GUEST_TR_BASE)
/* Limit vs G: a limit with a 0 in bits 11:0 needs G = 0; a 1 in bits 31:20 needs G = 1. */
SEG_CASE(check_tr_g_low_limit, NULL, AR(TR), 0, AR_G, VR_GUEST_TR_G)
SEG_CASE(check_tr_g_high_limit, NULL, LIMIT(TR), 0, 0x100000, VR_GUEST_TR_G)

/* LDTR (usable): TI 0, type 2, S 0, present, AR 11:8 0, base canonical. */
SEG_CASE(check_ldtr_ti, prep_ldtr, SEL(LDTR), 0, 4, VR_GUEST_LDTR_TI)
SEG_CASE(check_ldtr_type, prep_ldtr, AR(LDTR), AR_TYPE, 3, VR_GUEST_LDTR_TYPE)
SEG_CASE(check_ldtr_s, prep_ldtr, AR(LDTR), 0, AR_S, VR_GUEST_LDTR_S)
SEG_CASE(check_ldtr_not_present, prep_ldtr, AR(LDTR), AR_P, 0, VR_GUEST_LDTR_P)
SEG_CASE(check_ldtr_ar_reserved, prep_ldtr, AR(LDTR), 0, BIT(9), VR_GUEST_LDTR_RESERVED)
SEG_CASE(check_ldtr_base, prep_ldtr, BASE(LDTR), ~0ull, VE_NONCANONICAL, VR_GUEST_LDTR_BASE)

/*
 * CS: type 9, 11, 13 or 15 (accessed code) without unrestricted guest; S 1;
 * present; AR 11:8 and 31:17 0; L and D/B not both 1 in IA-32e mode; for a
 * non-conforming type, DPL equal to SS's; limit vs G; base bits 63:32 0.
 */
SEG_CASE(check_cs_not_accessed, NULL, AR(CS), 1, 0, VR_GUEST_CS_TYPE)
SEG_CASE(check_cs_data, NULL, AR(CS), AR_TYPE, 3, VR_GUEST_CS_TYPE)
SEG_CASE(check_cs_s, NULL, AR(CS), AR_S, 0, VR_GUEST_CS_S)
SEG_CASE(check_cs_not_present, NULL, AR(CS), AR_P, 0, VR_GUEST_CS_P)
SEG_CASE(check_cs_ar_reserved, NULL, AR(CS), 0, BIT(10), VR_GUEST_CS_RESERVED)
SEG_CASE(check_cs_ar_high, NULL, AR(CS), 0, BIT(20), VR_GUEST_CS_RESERVED)
SEG_CASE(check_cs_l_and_d, NULL, AR(CS), 0, AR_DB, VR_GUEST_CS_DB)
SEG_CASE(check_cs_dpl, NULL, AR(CS), 0, AR_DPL3, VR_GUEST_CS_DPL)
SEG_CASE(check_cs_g_clear, NULL, AR(CS), AR_G, 0, VR_GUEST_CS_G)
SEG_CASE(check_cs_base_high, NULL, BASE(CS), 0, BIT(32), VR_GUEST_CS_BASE)

/*
 * SS (usable): type 3 or 7; S 1; present; without unrestricted guest, RPL
 * equal to CS's RPL and DPL equal to its RPL; base bits 63:32 0.  With
 * unrestricted guest and CR0.PE = 0, DPL 0.
 */
SEG_CASE(check_ss_type, NULL, AR(SS), AR_TYPE, 1, VR_GUEST_SS_TYPE)
SEG_CASE(check_ss_s, NULL, AR(SS), AR_S, 0, VR_GUEST_SS_S)
SEG_CASE(check_ss_not_present, NULL, AR(SS), AR_P, 0, VR_GUEST_SS_P)
SEG_CASE(check_ss_rpl, NULL, SEL(SS), 0, 3, VR_GUEST_SS_RPL)
SEG_CASE(check_ss_dpl, NULL, AR(SS), 0, AR_DPL3, VR_GUEST_SS_DPL_RPL)
SEG_CASE(check_ss_base_high, NULL, BASE(SS), 0, BIT(32), VR_GUEST_SS_DS_ES_BASE)
static bool prep_real(void)
{
	if (!vmx_vcpu_set_mode(ve_vcpu, VMX_GUEST_REAL, (void *)vmcs_read(VMCS_GUEST_RIP))) {
		skip("", "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return false;
	}
	return true;
}
SEG_CASE(check_ss_dpl_real_mode, prep_real, AR(SS), 0, AR_DPL3, VR_GUEST_SS_DPL_ZERO)

/*
 * DS, ES, FS, GS (usable): accessed type; a code type is readable; S 1;
 * present; DPL not below RPL for data and non-conforming code (without
 * unrestricted guest); AR 11:8, 31:17 0; limit vs G; DS/ES base bits 63:32 0,
 * FS/GS base canonical.  An unusable register's other access-rights bits are
 * not checked.
 */
SEG_CASE(check_ds_not_accessed, prep_data_segs, AR(DS), 1, 0, VR_GUEST_DATA_TYPE)
SEG_CASE(check_es_exec_only, prep_data_segs, AR(ES), AR_TYPE, 9, VR_GUEST_DATA_TYPE)
SEG_CASE(check_fs_s, prep_data_segs, AR(FS), AR_S, 0, VR_GUEST_DATA_S)
SEG_CASE(check_gs_not_present, prep_data_segs, AR(GS), AR_P, 0, VR_GUEST_DATA_P)
SEG_CASE(check_ds_dpl_below_rpl, prep_data_segs, SEL(DS), 0, 3, VR_GUEST_DATA_DPL)
SEG_CASE(check_es_ar_reserved, prep_data_segs, AR(ES), 0, BIT(11), VR_GUEST_DATA_RESERVED)
SEG_CASE(check_fs_ar_high, prep_data_segs, AR(FS), 0, BIT(31), VR_GUEST_DATA_RESERVED)
SEG_CASE(check_gs_g_clear, prep_data_segs, AR(GS), AR_G, 0, VR_GUEST_DATA_G)
SEG_CASE(check_ds_base_high, prep_data_segs, BASE(DS), 0, BIT(32), VR_GUEST_SS_DS_ES_BASE)
SEG_CASE(check_es_base_high, prep_data_segs, BASE(ES), 0, BIT(33), VR_GUEST_SS_DS_ES_BASE)
SEG_CASE(check_fs_base, prep_data_segs, BASE(FS), ~0ull, VE_NONCANONICAL, VR_GUEST_FS_GS_BASE)
SEG_CASE(check_gs_base, prep_data_segs, BASE(GS), ~0ull, VE_NONCANONICAL, VR_GUEST_FS_GS_BASE)
VE_CASE(check_ds_unusable_ar, .prepare = prep_data_segs, .field = AR(DS), .clear = ~0ull,
	.set = VMX_AR_UNUSABLE | BIT(11) | BIT(31), .rule = VR_GUEST_DATA_RESERVED, .legal = true)

/* ------------------------------------------------------------ GDTR, IDTR (27.3.1.3) */

SEG_CASE(check_gdtr_base, NULL, VMCS_GUEST_GDTR_BASE, ~0ull, VE_NONCANONICAL, VR_GUEST_GDTR_IDTR_BASE)
SEG_CASE(check_idtr_base, NULL, VMCS_GUEST_IDTR_BASE, ~0ull, VE_NONCANONICAL, VR_GUEST_GDTR_IDTR_BASE)
SEG_CASE(check_gdtr_limit, NULL, VMCS_GUEST_GDTR_LIMIT, 0, BIT(16), VR_GUEST_GDTR_IDTR_LIMIT)
SEG_CASE(check_idtr_limit, NULL, VMCS_GUEST_IDTR_LIMIT, 0, BIT(20), VR_GUEST_GDTR_IDTR_LIMIT)

/* ------------------------------------------------------------ RIP, RFLAGS (27.3.1.4) */

/* 64-bit (IA-32e, CS.L = 1): RIP canonical.  Compatibility mode (CS.L = 0): RIP[63:32] 0. */
static void brk_rip_noncanonical(void) { vmcs_write(VMCS_GUEST_RIP, VE_NONCANONICAL); }
static bool prep_compat(void)
{
	uint64_t d = gdt64[KERNEL_CS32 / 8];

	if ((uint64_t)ve_vcpu->stack >= BIT(32) || vmcs_read(VMCS_GUEST_RIP) >= BIT(32)) {
		test_error("", "L2 code or stack above 4 GiB");
		return false;
	}
	/* The VMCALL of L2 encodes the same in 32-bit code. */
	vmcs_write(SEL(CS), KERNEL_CS32);
	vmcs_write(LIMIT(CS), 0xffffffff);
	vmcs_write(AR(CS), ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
	return true;
}
VE_CASE(check_rip_noncanonical, .brk = brk_rip_noncanonical, .rule = VR_GUEST_RIP_CANONICAL)
SEG_CASE(check_rip_compat_high, prep_compat, VMCS_GUEST_RIP, 0, BIT(32), VR_GUEST_RIP_HIGH)

/* RFLAGS: bits 63:22, 15, 5, 3 are 0, bit 1 is 1; VM 0 in IA-32e mode. */
SEG_CASE(check_rflags_bit1, NULL, VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED, 0, VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_bit3, NULL, VMCS_GUEST_RFLAGS, 0, BIT(3), VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_bit5, NULL, VMCS_GUEST_RFLAGS, 0, BIT(5), VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_bit15, NULL, VMCS_GUEST_RFLAGS, 0, BIT(15), VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_bit22, NULL, VMCS_GUEST_RFLAGS, 0, BIT(22), VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_bit63, NULL, VMCS_GUEST_RFLAGS, 0, BIT(63), VR_GUEST_RFLAGS_RESERVED)
SEG_CASE(check_rflags_vm, NULL, VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_VM, VR_GUEST_RFLAGS_VM)

/* RFLAGS.IF is 1 when an external interrupt is injected. */
static bool prep_ext_intr(void)
{
	vmcs_update(VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_IF);
	ve_inject(VE_INTR(VE_EXT_INTR, 0x20), 0, 0);
	return true;
}
VE_CASE(check_rflags_if_ext_intr, .prepare = prep_ext_intr, .field = VMCS_GUEST_RFLAGS,
	.clear = X86_EFLAGS_IF, .rule = VR_GUEST_RFLAGS_IF, .base = EV_BASE)

/* ------------------------------------------------------------ activity state (27.3.1.5) */

/* IA32_VMX_MISC[6..8]: HLT, shutdown, wait-for-SIPI supported (A.6). */
static bool misc_has(unsigned bit)
{
	return rdmsr(MSR_IA32_VMX_MISC) & BIT(bit);
}
static bool prep_unsupported(unsigned bit)
{
	if (misc_has(bit)) {
		skip("", "activity state supported (IA32_VMX_MISC[%u])", bit);
		return false;
	}
	return true;
}
static bool prep_no_hlt(void) { return prep_unsupported(6); }
static bool prep_no_shutdown(void) { return prep_unsupported(7); }
static bool prep_no_sipi(void) { return prep_unsupported(8); }
VE_CASE(check_activity_reserved, .field = VMCS_GUEST_ACTIVITY_STATE, .set = 4, .rule = VR_GUEST_ACTIVITY_VALID)
VE_CASE(check_activity_hlt_unsupported, .prepare = prep_no_hlt, .field = VMCS_GUEST_ACTIVITY_STATE,
	.set = 1, .rule = VR_GUEST_ACTIVITY_VALID)
VE_CASE(check_activity_shutdown_unsupported, .prepare = prep_no_shutdown,
	.field = VMCS_GUEST_ACTIVITY_STATE, .set = 2, .rule = VR_GUEST_ACTIVITY_VALID)
VE_CASE(check_activity_sipi_unsupported, .prepare = prep_no_sipi,
	.field = VMCS_GUEST_ACTIVITY_STATE, .set = 3, .rule = VR_GUEST_ACTIVITY_VALID)

/*
 * HLT: SS.DPL is 0.  The valid VMCS halts with an NMI injected (which ends
 * the halt: its delivery exits with #GP); the broken one has CPL 3, which
 * needs unrestricted guest (SS.DPL free of the selector's RPL) and a CS of the
 * same DPL.
 */
static bool prep_hlt(void)
{
	if (!misc_has(6)) {
		skip("", "no HLT activity state (IA32_VMX_MISC[6])");
		return false;
	}
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 1);
	ve_inject(VE_INTR(VE_NMI, 2), 0, 0);
	return true;
}
static bool prep_hlt_ug(void)
{
	return ve_unrestricted() && prep_hlt();
}
static void brk_cpl3(void)
{
	vmcs_update(AR(SS), 0, AR_DPL3);
	vmcs_update(AR(CS), 0, AR_DPL3);
}
VE_CASE(check_activity_hlt_ss_dpl, .prepare = prep_hlt_ug, .brk = brk_cpl3, .rule = VR_GUEST_ACTIVITY_HLT_DPL,
	.base = EV_BASE)

/* ------------------------------------------------------------ interruptibility state (27.3.1.5) */

#define INTR_STI	BIT(0)
#define INTR_MOVSS	BIT(1)
#define INTR_SMI	BIT(2)
#define INTR_NMI	BIT(3)
#define INTR_ENCLAVE	BIT(4)

static bool prep_if(void)
{
	vmcs_update(VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_IF);
	return true;
}
static bool prep_sti(void)
{
	prep_if();
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, INTR_STI);
	return true;
}
static bool prep_nmi_inject(void)
{
	ve_inject(VE_INTR(VE_NMI, 2), 0, 0);
	return true;
}
static bool prep_vnmi_inject(void)
{
	return ve_ctls(VMX_CTLS_PIN, VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS) && prep_nmi_inject();
}
static bool prep_no_sgx(void)
{
	if (cpuid_max(0) >= 7 && (cpuid_count(7, 0).b & BIT(2))) {
		skip("", "SGX supported (CPUID.(EAX=7,ECX=0):EBX[2])");
		return false;
	}
	return true;
}
#define INTR_CASE(fn, prep, set_, base_, r) VE_CASE(fn, .prepare = prep,              \
	.field = VMCS_GUEST_INTERRUPTIBILITY, .set = set_, .rule = r, .base = base_)
/* Bits 31:5 reserved. */
INTR_CASE(check_intr_reserved, NULL, BIT(5), 0, VR_GUEST_INTR_RESERVED)
/* STI and MOV-SS blocking not both 1. */
INTR_CASE(check_intr_sti_and_movss, prep_sti, INTR_MOVSS, 0, VR_GUEST_INTR_STI_MOVSS)
/* STI blocking needs RFLAGS.IF = 1. */
VE_CASE(check_intr_sti_if_clear, .prepare = prep_sti, .field = VMCS_GUEST_RFLAGS,
	.clear = X86_EFLAGS_IF, .rule = VR_GUEST_INTR_STI_IF)
/* An injected external interrupt needs STI and MOV-SS blocking 0; an injected NMI, MOV-SS 0. */
INTR_CASE(check_intr_sti_ext_intr, prep_ext_intr, INTR_STI, EV_BASE, VR_GUEST_INTR_EXT_INTR)
INTR_CASE(check_intr_movss_ext_intr, prep_ext_intr, INTR_MOVSS, EV_BASE, VR_GUEST_INTR_EXT_INTR)
INTR_CASE(check_intr_movss_nmi, prep_nmi_inject, INTR_MOVSS, EV_BASE, VR_GUEST_INTR_NMI_MOVSS)
/* SMI blocking is 0 outside SMM. */
INTR_CASE(check_intr_smi, NULL, INTR_SMI, 0, VR_GUEST_INTR_SMI)
/* With virtual NMIs, an injected NMI needs NMI blocking 0. */
INTR_CASE(check_intr_nmi_vnmi, prep_vnmi_inject, INTR_NMI, EV_BASE, VR_GUEST_INTR_VNMI)
/* Enclave interruption is 0 without SGX. */
INTR_CASE(check_intr_enclave, prep_no_sgx, INTR_ENCLAVE, 0, VR_GUEST_INTR_ENCLAVE)

/* ------------------------------------------------------------ pending debug exceptions (27.3.1.5) */

/*
 * Bits 11:4, 13, 15 and 63:17 are 0.  With STI/MOV-SS blocking or HLT, BS
 * (bit 14) is 1 exactly when RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0.
 */
SEG_CASE(check_pdbg_bit4, NULL, VMCS_GUEST_PENDING_DBG, 0, BIT(4), VR_GUEST_PDBG_RESERVED)
SEG_CASE(check_pdbg_bit13, NULL, VMCS_GUEST_PENDING_DBG, 0, BIT(13), VR_GUEST_PDBG_RESERVED)
SEG_CASE(check_pdbg_bit63, NULL, VMCS_GUEST_PENDING_DBG, 0, BIT(63), VR_GUEST_PDBG_RESERVED)
SEG_CASE(check_pdbg_bs_tf_clear, prep_sti, VMCS_GUEST_PENDING_DBG, 0, X86_DR6_BS, VR_GUEST_PDBG_BS)
SEG_CASE(check_pdbg_tf_bs_clear, prep_sti, VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_TF, VR_GUEST_PDBG_BS)
static bool prep_sti_tf_btf(void)
{
	if (!prep_debug())
		return false;
	prep_sti();
	vmcs_update(VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_TF);
	vmcs_write(VMCS_GUEST_DEBUGCTL, BIT(1));
	return true;
}
SEG_CASE(check_pdbg_bs_btf, prep_sti_tf_btf, VMCS_GUEST_PENDING_DBG, 0, X86_DR6_BS, VR_GUEST_PDBG_BS)
static bool prep_hlt_only(void) { return prep_hlt(); }
VE_CASE(check_pdbg_bs_hlt, .prepare = prep_hlt_only, .field = VMCS_GUEST_PENDING_DBG,
	.set = X86_DR6_BS, .rule = VR_GUEST_PDBG_BS, .base = EV_BASE)

/* ------------------------------------------------------------ VMCS link pointer (27.3.1.5) */

/*
 * Not FFFFFFFF_FFFFFFFFH (VMCS shadowing 0): bits 11:0 zero, within MAXPHYADDR,
 * the region's revision identifier that of IA32_VMX_BASIC, its bit 31 (shadow
 * VMCS indicator) equal to "VMCS shadowing" (0).  The exit qualification of
 * this failure is 4, "invalid VMCS link pointer" (27.8).
 */
static uint32_t *link_region(void)
{
	return ve_page(6);
}
static bool prep_link(void)
{
	*link_region() = vmx_revision();
	vmcs_write(VMCS_VMCS_LINK_PTR, (uint64_t)link_region());
	return true;
}
static void brk_link_max(void) { vmcs_write(VMCS_VMCS_LINK_PTR, ve_beyond_maxphyaddr()); }
static void brk_link_revision(void) { ve_poke32(link_region(), vmx_revision() ^ 1); }
static void brk_link_shadow(void) { ve_poke32(link_region(), vmx_revision() | BIT(31)); }
VE_CASE(check_link_unaligned, .prepare = prep_link, .field = VMCS_VMCS_LINK_PTR, .set = 0x40,
	.rule = VR_GUEST_LINK_ALIGNED)
VE_CASE(check_link_maxphyaddr, .prepare = prep_link, .brk = brk_link_max, .rule = VR_GUEST_LINK_MAXPHYADDR)
VE_CASE(check_link_revision, .prepare = prep_link, .brk = brk_link_revision, .rule = VR_GUEST_LINK_REVISION)
VE_CASE(check_link_shadow_bit, .prepare = prep_link, .brk = brk_link_shadow, .rule = VR_GUEST_LINK_SHADOW)

/* ------------------------------------------------------------ MSR loading (27.4) */

/*
 * The VM-entry MSR-load area holds two entries that load IA32_KERNEL_GS_BASE
 * and IA32_SYSENTER_CS with their current values.  An entry fails when its
 * index is FS_BASE or GS_BASE, in 800H-8FFH (x2APIC), IA32_SMM_MONITOR_CTL
 * (9BH) or IA32_BIOS_UPDT_TRIG (79H), its reserved bits 63:32 are not 0, or
 * WRMSR of the value would fault; the exit reason is 34 with bit 31 and the
 * qualification is the entry's index counted from 1.
 */
static uint64_t *msr_area(void)
{
	return ve_page(7);
}
static bool prep_msr_load(void)
{
	uint64_t *a = msr_area();

	a[0] = MSR_KERNEL_GS_BASE;
	a[1] = rdmsr(MSR_KERNEL_GS_BASE);
	a[2] = MSR_IA32_SYSENTER_CS;
	a[3] = rdmsr(MSR_IA32_SYSENTER_CS);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)a);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 2);
	return true;
}
static void brk_msr(unsigned i, uint64_t index, uint64_t value)
{
	ve_poke64(&msr_area()[2 * i], index);
	ve_poke64(&msr_area()[2 * i + 1], value);
}
static void brk_msr_fs_base(void) { brk_msr(1, MSR_FS_BASE, 0); }
static void brk_msr_gs_base_first(void) { brk_msr(0, MSR_GS_BASE, 0); }
static void brk_msr_x2apic(void) { brk_msr(1, 0x808, 0); }
static void brk_msr_ucode(void) { brk_msr(1, 0x79, 0); }
static void brk_msr_smm_monitor(void) { brk_msr(1, 0x9b, 0); }
static void brk_msr_reserved(void) { brk_msr(1, MSR_IA32_SYSENTER_CS | BIT(32), 0); }
static void brk_msr_gp(void) { brk_msr(1, MSR_IA32_PAT, 0x0202020202020202ull); }
#define MSR_CASE(fn, brk_, r) VE_CASE(fn, .prepare = prep_msr_load, .brk = brk_, .rule = r)
MSR_CASE(check_msr_fs_base, brk_msr_fs_base, VR_MSR_FS_GS_BASE)
MSR_CASE(check_msr_gs_base_first, brk_msr_gs_base_first, VR_MSR_FS_GS_BASE)
MSR_CASE(check_msr_x2apic, brk_msr_x2apic, VR_MSR_X2APIC)
MSR_CASE(check_msr_ucode, brk_msr_ucode, VR_MSR_UCODE_TRIGGER)
MSR_CASE(check_msr_smm_monitor, brk_msr_smm_monitor, VR_MSR_SMM_ONLY)
MSR_CASE(check_msr_reserved, brk_msr_reserved, VR_MSR_RESERVED)
MSR_CASE(check_msr_gp, brk_msr_gp, VR_MSR_WRMSR_FAULT)

static const struct check_entry checks[] = {
	{ "cr0.fixed0", check_cr0_fixed0 },
	{ "cr0.fixed1", check_cr0_fixed1 },
	{ "cr4.fixed0", check_cr4_fixed0 },
	{ "cr4.fixed1", check_cr4_fixed1 },
	{ "cr0.pg_without_pe", check_pg_without_pe },
	{ "ia32e.cr4_pae_clear", check_ia32e_pae_clear },
	{ "ia32e.cr0_pg_clear", check_ia32e_pg_clear },
	{ "ia32e.pcide_outside", check_pcide_outside_ia32e },
	{ "cr3.maxphyaddr", check_cr3_maxphyaddr },
	{ "debugctl.reserved", check_debugctl_reserved },
	{ "dr7.high", check_dr7_high },
	{ "sysenter_esp.noncanonical", check_sysenter_esp },
	{ "sysenter_eip.noncanonical", check_sysenter_eip },
	{ "pat.type3", check_pat_type3 },
	{ "pat.type8", check_pat_type8 },
	{ "perf_global_ctrl.reserved", check_perf_global_reserved },
	{ "efer.reserved", check_efer_reserved },
	{ "efer.lma_clear", check_efer_lma_clear },
	{ "efer.lme_clear", check_efer_lme_clear },
	{ "tr.ti", check_tr_ti },
	{ "tr.type_available", check_tr_type_available },
	{ "tr.type_16bit", check_tr_type_16bit },
	{ "tr.s", check_tr_s },
	{ "tr.not_present", check_tr_not_present },
	{ "tr.ar_reserved", check_tr_ar_reserved },
	{ "tr.ar_high", check_tr_ar_high },
	{ "tr.unusable", check_tr_unusable },
	{ "tr.base_noncanonical", check_tr_base },
	{ "tr.g_low_limit", check_tr_g_low_limit },
	{ "tr.g_high_limit", check_tr_g_high_limit },
	{ "ldtr.ti", check_ldtr_ti },
	{ "ldtr.type", check_ldtr_type },
	{ "ldtr.s", check_ldtr_s },
	{ "ldtr.not_present", check_ldtr_not_present },
	{ "ldtr.ar_reserved", check_ldtr_ar_reserved },
	{ "ldtr.base_noncanonical", check_ldtr_base },
	{ "cs.not_accessed", check_cs_not_accessed },
	{ "cs.data_type", check_cs_data },
	{ "cs.s", check_cs_s },
	{ "cs.not_present", check_cs_not_present },
	{ "cs.ar_reserved", check_cs_ar_reserved },
	{ "cs.ar_high", check_cs_ar_high },
	{ "cs.l_and_d", check_cs_l_and_d },
	{ "cs.dpl_ne_ss", check_cs_dpl },
	{ "cs.g_clear", check_cs_g_clear },
	{ "cs.base_high", check_cs_base_high },
	{ "ss.type", check_ss_type },
	{ "ss.s", check_ss_s },
	{ "ss.not_present", check_ss_not_present },
	{ "ss.rpl_ne_cs", check_ss_rpl },
	{ "ss.dpl_ne_rpl", check_ss_dpl },
	{ "ss.base_high", check_ss_base_high },
	{ "ss.dpl_real_mode", check_ss_dpl_real_mode },
	{ "ds.not_accessed", check_ds_not_accessed },
	{ "es.exec_only_code", check_es_exec_only },
	{ "fs.s", check_fs_s },
	{ "gs.not_present", check_gs_not_present },
	{ "ds.dpl_below_rpl", check_ds_dpl_below_rpl },
	{ "es.ar_reserved", check_es_ar_reserved },
	{ "fs.ar_high", check_fs_ar_high },
	{ "gs.g_clear", check_gs_g_clear },
	{ "ds.base_high", check_ds_base_high },
	{ "es.base_high", check_es_base_high },
	{ "fs.base_noncanonical", check_fs_base },
	{ "gs.base_noncanonical", check_gs_base },
	{ "ds.unusable_ignores_ar", check_ds_unusable_ar },
	{ "gdtr.base_noncanonical", check_gdtr_base },
	{ "idtr.base_noncanonical", check_idtr_base },
	{ "gdtr.limit_high", check_gdtr_limit },
	{ "idtr.limit_high", check_idtr_limit },
	{ "rip.noncanonical", check_rip_noncanonical },
	{ "rip.compat_high", check_rip_compat_high },
	{ "rflags.bit1_clear", check_rflags_bit1 },
	{ "rflags.bit3", check_rflags_bit3 },
	{ "rflags.bit5", check_rflags_bit5 },
	{ "rflags.bit15", check_rflags_bit15 },
	{ "rflags.bit22", check_rflags_bit22 },
	{ "rflags.bit63", check_rflags_bit63 },
	{ "rflags.vm_ia32e", check_rflags_vm },
	{ "rflags.if_ext_intr", check_rflags_if_ext_intr },
	{ "activity.reserved", check_activity_reserved },
	{ "activity.hlt_unsupported", check_activity_hlt_unsupported },
	{ "activity.shutdown_unsupported", check_activity_shutdown_unsupported },
	{ "activity.sipi_unsupported", check_activity_sipi_unsupported },
	{ "activity.hlt_ss_dpl", check_activity_hlt_ss_dpl },
	{ "intr_state.reserved", check_intr_reserved },
	{ "intr_state.sti_and_movss", check_intr_sti_and_movss },
	{ "intr_state.sti_if_clear", check_intr_sti_if_clear },
	{ "intr_state.sti_ext_intr", check_intr_sti_ext_intr },
	{ "intr_state.movss_ext_intr", check_intr_movss_ext_intr },
	{ "intr_state.movss_nmi", check_intr_movss_nmi },
	{ "intr_state.smi_outside_smm", check_intr_smi },
	{ "intr_state.nmi_blocking_vnmi", check_intr_nmi_vnmi },
	{ "intr_state.enclave_no_sgx", check_intr_enclave },
	{ "pending_dbg.bit4", check_pdbg_bit4 },
	{ "pending_dbg.bit13", check_pdbg_bit13 },
	{ "pending_dbg.bit63", check_pdbg_bit63 },
	{ "pending_dbg.bs_tf_clear", check_pdbg_bs_tf_clear },
	{ "pending_dbg.tf_bs_clear", check_pdbg_tf_bs_clear },
	{ "pending_dbg.bs_btf", check_pdbg_bs_btf },
	{ "pending_dbg.bs_hlt", check_pdbg_bs_hlt },
	{ "link.unaligned", check_link_unaligned },
	{ "link.maxphyaddr", check_link_maxphyaddr },
	{ "link.revision", check_link_revision },
	{ "link.shadow_bit", check_link_shadow_bit },
	{ "msr_load.fs_base", check_msr_fs_base },
	{ "msr_load.gs_base_first", check_msr_gs_base_first },
	{ "msr_load.x2apic", check_msr_x2apic },
	{ "msr_load.bios_updt_trig", check_msr_ucode },
	{ "msr_load.smm_monitor_ctl", check_msr_smm_monitor },
	{ "msr_load.reserved_bits", check_msr_reserved },
	{ "msr_load.wrmsr_gp", check_msr_gp },
};

DEFINE_TEST("vmx_entry_guest", checks, .setup = ve_setup);
