/*
 * VM entry: checks on the guest-state area (SDM Vol. 3C 27.3.1, "Checks on
 * the Guest State Area": 27.3.1.1 control registers, debug registers and
 * MSRs; 27.3.1.2 segment registers; 27.3.1.3 descriptor-table registers;
 * 27.3.1.4 RIP and RFLAGS; 27.3.1.5 non-register state; 27.3.1.6 PDPTEs),
 * loading the PDPTEs (27.3.2.4) and MSR loading (27.4, "Loading MSRs").  A guest state that breaks one of them is a VM-entry
 * failure (27.8) and leaves the launch state clear.  Each case names the rule
 * of lib/x86/vmx_rules.h that it breaks; the exit reason and qualification it
 * expects are the table's prediction for the broken VMCS.
 *
 * The default guest is 64-bit with the test's own segments, unrestricted
 * guest off; some cases move it to real mode (unrestricted guest), to 32-bit
 * PAE paging or to virtual-8086 mode (both on PAE tables of their own).  Each entry starts from a VMCS that enters and reaches VMCALL
 * (".valid"), breaks one rule (".fails") and checks the launch state
 * (".launch_state"); see lib/x86/vmx_entry_util.h.  Machine-check failures
 * during VM entry (reason 41) cannot be caused by software and are not tested.
 */
#include "alloc.h"
#include "desc.h"
#include "msr.h"
#include "pagetable.h"
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

/* Unrestricted guest exempts only PE and PG from CR0 FIXED0: NE stays pinned. */
static bool prep_unrestricted_ne_pinned(void)
{
	if (!(rdmsr(MSR_IA32_VMX_CR0_FIXED0) & X86_CR0_NE)) {
		skip("", "CR0.NE not pinned to 1 (IA32_VMX_CR0_FIXED0[5])");
		return false;
	}
	return ve_unrestricted();
}
VE_CASE(check_cr0_ne_unrestricted, .prepare = prep_unrestricted_ne_pinned, .field = VMCS_GUEST_CR0,
	.clear = X86_CR0_NE, .rule = VR_GUEST_CR0_FIXED0)

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
/* A null SS selector does not make SS unusable: only the unusable bit does (27.3.1.2). */
static bool prep_ss_null_usable(void)
{
	vmcs_write(SEL(SS), 0);
	return true;
}
SEG_CASE(check_ss_null_usable_base, prep_ss_null_usable, BASE(SS), 0, BIT(32), VR_GUEST_SS_DS_ES_BASE)

static bool prep_real(void)
{
	if (!vmx_vcpu_set_mode(ve_vcpu, VMX_GUEST_REAL, (void *)vmcs_read(VMCS_GUEST_RIP))) {
		skip("", "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return false;
	}
	return true;
}
SEG_CASE(check_ss_dpl_real_mode, prep_real, AR(SS), 0, AR_DPL3, VR_GUEST_SS_DPL_ZERO)

/* CPL 3 by the access rights alone: CS.DPL = SS.DPL = 3, selectors unchanged. */
static void brk_cpl3(void)
{
	vmcs_update(AR(SS), 0, AR_DPL3);
	vmcs_update(AR(CS), 0, AR_DPL3);
}

/*
 * A conforming CS (type 15) runs 64-bit code; its DPL may not exceed SS's.
 * With CS.DPL = SS.DPL = 3 and both selectors' RPL 0, the CS rules hold and
 * only SS.DPL = SS.RPL is broken.
 */
static bool prep_conforming_cs(void)
{
	vmcs_update(AR(CS), AR_TYPE, 15);
	return true;
}
SEG_CASE(check_cs_conforming_dpl, prep_conforming_cs, AR(CS), 0, AR_DPL3, VR_GUEST_CS_DPL)
VE_CASE(check_ss_dpl_ne_rpl_cpl3, .brk = brk_cpl3, .rule = VR_GUEST_SS_DPL_RPL)

/*
 * Unrestricted guest allows CS type 3 (read/write accessed data) with DPL 0,
 * and then SS.DPL 0.  The valid VMCS runs real-mode code from such a CS, and
 * without "load IA32_EFER" (EFER.LMA then follows "IA-32e mode guest", 27.3.2.1).
 */
static bool prep_real_data_cs(void)
{
	if (!prep_real())
		return false;
	vmcs_update(AR(CS), AR_TYPE, 3);
	vmcs_update(VMCS_ENTRY_CONTROLS, VMX_ENTRY_LOAD_EFER, 0);
	return true;
}
SEG_CASE(check_cs_data_type_dpl, prep_real_data_cs, AR(CS), 0, 1ull << 5, VR_GUEST_CS_DPL)
SEG_CASE(check_ss_dpl_data_cs, prep_real_data_cs, AR(SS), 0, AR_DPL3, VR_GUEST_SS_DPL_ZERO)

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

/* ------------------------------------------------------------ guests outside IA-32e mode: PAE, virtual-8086 */

/*
 * PAE paging (SDM Vol. 3A 5.4): a PDPT of four entries, each a page directory
 * of 2-MiB pages, together the low 4 GiB identity-mapped and user-accessible
 * (the virtual-8086 guest runs at CPL 3).  A PDPTE has no W or U bit (bits 2:1
 * are reserved).  Guest CR3 holds the PDPT, which lies below 4 GiB.
 */
static uint64_t *pae_pdpt(void)
{
	static struct pagetable pae;

	if (!pae.root) {
		pae = pt_create(&pt_format_pae);
		pt_map(&pae, 0, 0, BIT(32), pt_level_size(2), PTE_P | PTE_W | PTE_U);
	}
	return pae.root;
}

/*
 * The default guest moved out of IA-32e mode: "IA-32e mode guest" 0, EFER.LMA
 * and LME 0 (27.3.1.1), CR4.PCIDE 0, PAE paging through pae_pdpt(), CS the
 * 32-bit code segment (the VMCALL of L2 encodes the same).
 */
static bool prep_pae(void)
{
	uint64_t *pdpt = pae_pdpt();

	if ((uint64_t)pdpt >= BIT(32) - PAGE_SIZE) {
		test_error("", "PAE page tables above 4 GiB");
		return false;
	}
	if (!prep_compat())
		return false;
	vmcs_update(VMCS_ENTRY_CONTROLS, VMX_ENTRY_IA32E, 0);
	if (vmcs_read(VMCS_ENTRY_CONTROLS) & VMX_ENTRY_LOAD_EFER)
		vmcs_update(VMCS_GUEST_EFER, EFER_LME | EFER_LMA, 0);
	vmcs_update(VMCS_GUEST_CR4, X86_CR4_PCIDE, X86_CR4_PAE);
	vmcs_write(VMCS_GUEST_CR3, (uint64_t)pdpt);
	return true;
}
/* Without "load IA32_EFER": VM entry clears EFER.LME and LMA itself (PG = 1, 27.3.2.1). */
static bool prep_pae_no_load_efer(void)
{
	if (!prep_pae())
		return false;
	vmcs_update(VMCS_ENTRY_CONTROLS, VMX_ENTRY_LOAD_EFER, 0);
	return true;
}
/* With EPT the PDPTEs come from the guest-state fields (27.3.1.6), here the table's own. */
static bool prep_pae_ept(void)
{
	if (!prep_pae() || !ve_ept())
		return false;
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pae_pdpt()[i]);
	return true;
}

/*
 * Without EPT, VM entry loads the four PDPTEs from guest CR3 (27.3.2.4); a
 * present one with a reserved bit (2:1, 8:5, 63, or beyond MAXPHYADDR) fails
 * the entry with reason 33, qualification 2.  A non-present one is not checked.
 */
static void brk_pdpte_mem_u(void) { ve_poke64(&pae_pdpt()[1], pae_pdpt()[1] | PTE_U); }
static void brk_pdpte_mem_nx(void) { ve_poke64(&pae_pdpt()[0], pae_pdpt()[0] | PTE_NX); }
static void brk_pdpte_mem_absent(void) { ve_poke64(&pae_pdpt()[3], 0x1e6 | PTE_NX); }
#define PAE_CASE(fn, prep, brk_, r, ...) VE_CASE(fn, .prepare = prep, .brk = brk_, .rule = r, ##__VA_ARGS__)
PAE_CASE(check_pdpte_memory_reserved, prep_pae, brk_pdpte_mem_u, VR_LOAD_PDPTE_MEMORY)
PAE_CASE(check_pdpte_memory_nx, prep_pae_no_load_efer, brk_pdpte_mem_nx, VR_LOAD_PDPTE_MEMORY)
PAE_CASE(check_pdpte_memory_absent, prep_pae, brk_pdpte_mem_absent, VR_LOAD_PDPTE_MEMORY, .legal = true)

/*
 * With EPT the PDPTE fields are checked the same way (27.3.1.6; reason 33,
 * qualification 2) and the PDPTEs in memory are not read at entry.
 */
static void brk_pdpte_field_reserved(void) { vmcs_update(VMCS_GUEST_PDPTE2, 0, BIT(6)); }
static void brk_pdpte_field_maxphyaddr(void) { vmcs_update(VMCS_GUEST_PDPTE3, 0, ve_beyond_maxphyaddr()); }
PAE_CASE(check_pdpte_field_reserved, prep_pae_ept, brk_pdpte_field_reserved, VR_GUEST_PDPTE_FIELDS)
PAE_CASE(check_pdpte_field_maxphyaddr, prep_pae_ept, brk_pdpte_field_maxphyaddr, VR_GUEST_PDPTE_FIELDS)
PAE_CASE(check_pdpte_ept_memory_unread, prep_pae_ept, brk_pdpte_mem_u, VR_LOAD_PDPTE_MEMORY, .legal = true)

/*
 * With EPT, a VM exit from a PAE guest saves the PDPTEs in use into the
 * guest-state fields (SDM Vol. 3C 28.3.4).  L2 reloads CR3, so the PDPTEs come
 * from memory, where PDPTE0 has PWT set and the field before entry had not.
 */
VMX_L2_CODE32(l2_reload_cr3, "mov %cr3, %eax; mov %eax, %cr3");
static bool prep_pdpte_save(void)
{
	if (!prep_pae_ept())
		return false;
	ve_poke64(&pae_pdpt()[0], pae_pdpt()[0] | PTE_PWT);
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_reload_cr3);
	return true;
}
static void check_pdpte_saved_on_exit(void)
{
	uint64_t want;

	if (!ve_usable() || !ve_run_valid(prep_pdpte_save, 0))
		return;
	want = pae_pdpt()[0];	/* with the PWT that prepare set */
	check_msg(vmcs_read(VMCS_GUEST_PDPTE0) == want, "saved",
		  "after MOV CR3 in L2 the exit must save PDPTE0 %#llx (with PWT) into the field, "
		  "which held %#llx: got %#llx", (unsigned long long)want,
		  (unsigned long long)(want & ~PTE_PWT), (unsigned long long)vmcs_read(VMCS_GUEST_PDPTE0));
}

/*
 * Virtual-8086 guest (RFLAGS.VM = 1, protected mode, not IA-32e; 27.3.1.2):
 * CS, SS, DS, ES, FS, GS each have base = selector * 16, limit FFFFH and
 * access rights F3H; their other rules (type, DPL, RPL) do not apply.  L2 is
 * 16-bit code within the first 1 MiB + 64 KiB, reached through CS = FFFFH at
 * most.  PAE paging maps it user-accessible.
 */
VMX_L2_CODE16(l2_v86_vmcall, "");
/* PUSHF with IOPL 0 and CR4.VME 0 faults with #GP in virtual-8086 mode only (SDM Vol. 3A 20.2.7). */
VMX_L2_CODE16(l2_v86_pushf, "pushf");
static uint16_t v86_cs;

static void v86_seg(unsigned s, uint16_t sel)
{
	vmcs_write(SEL(s), sel);
	vmcs_write(BASE(s), (uint64_t)sel << 4);
	vmcs_write(LIMIT(s), 0xffff);
	vmcs_write(AR(s), 0xf3);
}
/* RIP of @code under CS = v86_cs, which prepare chose for l2_v86_vmcall. */
static uint64_t v86_ip(const char *code)
{
	return (uint64_t)code - ((uint64_t)v86_cs << 4);
}
static bool v86_at(const char *code)
{
	uint64_t linear = (uint64_t)code;

	v86_cs = linear >> 4 > 0xffff ? 0xffff : linear >> 4;
	if (v86_ip(code) > 0xfff0) {
		test_error("", "L2 code at %#llx is beyond the reach of virtual-8086 mode",
			   (unsigned long long)linear);
		return false;
	}
	for (unsigned s = ES; s <= GS; s++)
		v86_seg(s, s == CS ? v86_cs : 0);
	vmcs_write(VMCS_GUEST_RSP, 0xfff0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_VM);
	vmcs_write(VMCS_GUEST_RIP, v86_ip(code));
	return true;
}
static bool prep_v86(void)
{
	return prep_pae() && v86_at(l2_v86_vmcall);
}
/* Each break keeps RIP on the 16-bit code (the case runner points it at the 64-bit one). */
static void v86_rip(void) { vmcs_write(VMCS_GUEST_RIP, v86_ip(l2_v86_vmcall)); }
static void brk_v86_es_base(void) { v86_rip(); vmcs_update(BASE(ES), 0, 0x10); }
static void brk_v86_cs_base(void) { v86_rip(); vmcs_write(SEL(CS), v86_cs - 1); }
static void brk_v86_ds_limit(void) { v86_rip(); vmcs_write(LIMIT(DS), 0xfffff); }
static void brk_v86_fs_dpl0(void) { v86_rip(); vmcs_write(AR(FS), 0x93); }
static void brk_v86_ss_not_accessed(void) { v86_rip(); vmcs_write(AR(SS), 0xf2); }
static void brk_v86_gs_unusable(void) { v86_rip(); vmcs_write(AR(GS), VMX_AR_UNUSABLE | 0xf3); }
/* Selectors with RPL 3 and 0 mixed: SS.RPL = CS.RPL does not apply in virtual-8086 mode. */
static void brk_v86_rpl_mixed(void) { v86_rip(); v86_seg(SS, 3); v86_seg(DS, 1); }
#define V86_CASE(fn, brk_, r, ...) VE_CASE(fn, .prepare = prep_v86, .brk = brk_, .rule = r, ##__VA_ARGS__)
V86_CASE(check_v86_es_base, brk_v86_es_base, VR_GUEST_V86_BASE)
V86_CASE(check_v86_cs_base, brk_v86_cs_base, VR_GUEST_V86_BASE)
V86_CASE(check_v86_ds_limit, brk_v86_ds_limit, VR_GUEST_V86_LIMIT)
V86_CASE(check_v86_fs_dpl0, brk_v86_fs_dpl0, VR_GUEST_V86_AR)
V86_CASE(check_v86_ss_not_accessed, brk_v86_ss_not_accessed, VR_GUEST_V86_AR)
V86_CASE(check_v86_gs_unusable, brk_v86_gs_unusable, VR_GUEST_V86_AR)
V86_CASE(check_v86_rpl_mixed, brk_v86_rpl_mixed, VR_GUEST_SS_RPL, .legal = true)

/*
 * RFLAGS.VM = 1 needs CR0.PE = 1 (27.3.1.4): a real-mode (unrestricted) guest
 * with the virtual-8086 segments and RFLAGS.VM set breaks that rule alone.
 */
static void brk_real_vm(void) { v86_at(l2_v86_vmcall); }
VE_CASE(check_rflags_vm_real_mode, .prepare = prep_real, .brk = brk_real_vm, .rule = VR_GUEST_RFLAGS_VM)

/*
 * The valid virtual-8086 guest really runs in virtual-8086 mode: PUSHF faults
 * with #GP(0) (intercepted: exit reason 0, vector 13) at its own address, with
 * RFLAGS.VM still 1 in the saved guest state.
 */
static bool prep_v86_pushf(void)
{
	return prep_v86() && v86_at(l2_v86_pushf);
}
static void check_v86_runs(void)
{
	uint32_t info;

	if (!ve_usable() || !ve_run_valid(prep_v86, 0) || !ve_run_valid(prep_v86_pushf, EV_BASE))
		return;
	info = vmcs_read(VMCS_EXIT_INTR_INFO);
	check_msg((info & 0x7ff) == (VE_HW_EXC << 8 | 13) && vmcs_read(VMCS_GUEST_RIP) == v86_ip(l2_v86_pushf) &&
		  (vmcs_read(VMCS_GUEST_RFLAGS) & X86_EFLAGS_VM) && vmcs_read(SEL(CS)) == v86_cs, "pushf_gp",
		  "PUSHF in virtual-8086 mode with IOPL 0 must fault with #GP at CS:IP %#x:%#llx: exit "
		  "interruption info %#x, CS:IP %#llx:%#llx, RFLAGS %#llx", v86_cs,
		  (unsigned long long)v86_ip(l2_v86_pushf), info, (unsigned long long)vmcs_read(SEL(CS)),
		  (unsigned long long)vmcs_read(VMCS_GUEST_RIP), (unsigned long long)vmcs_read(VMCS_GUEST_RFLAGS));
}

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
VE_CASE(check_activity_hlt_ss_dpl, .prepare = prep_hlt_ug, .brk = brk_cpl3, .rule = VR_GUEST_ACTIVITY_HLT_DPL,
	.base = EV_BASE)

/*
 * Injection into the other states: wait-for-SIPI takes no event; shutdown
 * only NMI and machine check (type 3, vector 18).  The valid VMCS injects in
 * the active state (an NMI, which exits with #GP), or into shutdown the NMI.
 */
static bool prep_nmi_active(unsigned misc_bit)
{
	if (!misc_has(misc_bit)) {
		skip("", "activity state not supported (IA32_VMX_MISC[%u])", misc_bit);
		return false;
	}
	ve_inject(VE_INTR(VE_NMI, 2), 0, 0);
	return true;
}
static bool prep_nmi_before_sipi(void) { return prep_nmi_active(8); }
static bool prep_shutdown_nmi(void)
{
	if (!prep_nmi_active(7))
		return false;
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 2);
	vmcs_update(VMCS_GUEST_RFLAGS, 0, X86_EFLAGS_IF);
	return true;
}
static void brk_inject_ud(void) { vmcs_write(VMCS_ENTRY_INTR_INFO, VE_INTR(VE_HW_EXC, 6)); }
/* Vector 18 as an external interrupt is no machine check. */
static void brk_shutdown_ext18(void) { vmcs_write(VMCS_ENTRY_INTR_INFO, VE_INTR(VE_EXT_INTR, 18)); }
/* HLT takes external interrupts, NMI, #DB, #MC and a pending MTF only: not #UD. */
VE_CASE(check_activity_hlt_exception, .prepare = prep_hlt, .brk = brk_inject_ud,
	.rule = VR_GUEST_ACTIVITY_INJECTION, .base = EV_BASE)
VE_CASE(check_activity_sipi_injection, .prepare = prep_nmi_before_sipi, .field = VMCS_GUEST_ACTIVITY_STATE,
	.set = 3, .rule = VR_GUEST_ACTIVITY_INJECTION, .base = EV_BASE)
VE_CASE(check_activity_shutdown_exception, .prepare = prep_shutdown_nmi, .brk = brk_inject_ud,
	.rule = VR_GUEST_ACTIVITY_INJECTION, .base = EV_BASE)
VE_CASE(check_activity_shutdown_ext_intr18, .prepare = prep_shutdown_nmi, .brk = brk_shutdown_ext18,
	.rule = VR_GUEST_ACTIVITY_INJECTION, .base = EV_BASE)

/*
 * Wait-for-SIPI with "entry to SMM": outside SMM that control itself fails
 * (VMfailValid(7), 27.2.1.3, checked before the guest state), so this rule
 * never decides the outcome here; SMI blocking is set as entry to SMM needs it.
 */
static bool prep_smm_sipi(void)
{
	if (!misc_has(8)) {
		skip("", "no wait-for-SIPI activity state (IA32_VMX_MISC[8])");
		return false;
	}
	return vmx_require("", VMX_CTLS_ENTRY, VMX_ENTRY_SMM);
}
static void brk_smm_sipi(void)
{
	vmcs_update(VMCS_ENTRY_CONTROLS, 0, VMX_ENTRY_SMM);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, BIT(2));	/* blocking by SMI */
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 3);
}
VE_CASE(check_activity_sipi_entry_smm, .prepare = prep_smm_sipi, .brk = brk_smm_sipi,
	.rule = VR_GUEST_ACTIVITY_SMM_SIPI)

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

/*
 * A valid pending #DB (B0 with bit 12, "enabled breakpoint") and no event
 * injected: the #DB is delivered right after entry (27.7.3), before L2's first
 * instruction; the exception bitmap intercepts it and the exit qualification
 * has B0 (28.2.1).
 */
static bool prep_pending_b0(void)
{
	vmcs_write(VMCS_GUEST_PENDING_DBG, BIT(12) | BIT(0));
	return true;
}
static void check_pdbg_b0_delivered(void)
{
	uint32_t info;

	if (!ve_usable() || !ve_run_valid(prep_pending_b0, EV_BASE))
		return;
	info = vmcs_read(VMCS_EXIT_INTR_INFO);
	check_msg((info & 0x7ff) == (VE_HW_EXC << 8 | 1) && (vmcs_read(VMCS_EXIT_QUALIFICATION) & 0xf) == 1,
		  "db_b0", "the pending #DB must exit as vector 1 with B0 in the qualification: "
		  "interruption info %#x, qualification %#llx", info,
		  (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION));
}

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
/* Outside SMM, not the current-VMCS pointer (whose header passes the checks above). */
static void brk_link_current(void) { vmcs_write(VMCS_VMCS_LINK_PTR, (uint64_t)ve_vcpu->vmcs); }
VE_CASE(check_link_current, .prepare = prep_link, .brk = brk_link_current, .rule = VR_GUEST_LINK_CURRENT)

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
	{ "cr0.ne_clear_unrestricted", check_cr0_ne_unrestricted },
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
	{ "ss.null_selector_base_high", check_ss_null_usable_base },
	{ "ss.dpl_real_mode", check_ss_dpl_real_mode },
	{ "cs.conforming_dpl_above_ss", check_cs_conforming_dpl },
	{ "ss.dpl_ne_rpl_cpl3", check_ss_dpl_ne_rpl_cpl3 },
	{ "cs.data_type_dpl", check_cs_data_type_dpl },
	{ "ss.dpl_data_cs", check_ss_dpl_data_cs },
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
	{ "pdpte.memory_reserved", check_pdpte_memory_reserved },
	{ "pdpte.memory_nx", check_pdpte_memory_nx },
	{ "pdpte.memory_absent_unchecked", check_pdpte_memory_absent },
	{ "pdpte.field_reserved", check_pdpte_field_reserved },
	{ "pdpte.field_maxphyaddr", check_pdpte_field_maxphyaddr },
	{ "pdpte.ept_memory_unread", check_pdpte_ept_memory_unread },
	{ "pdpte.saved_on_exit", check_pdpte_saved_on_exit },
	{ "v86.runs", check_v86_runs },
	{ "v86.es_base", check_v86_es_base },
	{ "v86.cs_base", check_v86_cs_base },
	{ "v86.ds_limit", check_v86_ds_limit },
	{ "v86.fs_dpl0", check_v86_fs_dpl0 },
	{ "v86.ss_not_accessed", check_v86_ss_not_accessed },
	{ "v86.gs_unusable", check_v86_gs_unusable },
	{ "v86.rpl_mixed", check_v86_rpl_mixed },
	{ "rflags.vm_real_mode", check_rflags_vm_real_mode },
	{ "activity.reserved", check_activity_reserved },
	{ "activity.hlt_unsupported", check_activity_hlt_unsupported },
	{ "activity.shutdown_unsupported", check_activity_shutdown_unsupported },
	{ "activity.sipi_unsupported", check_activity_sipi_unsupported },
	{ "activity.hlt_ss_dpl", check_activity_hlt_ss_dpl },
	{ "activity.hlt_exception", check_activity_hlt_exception },
	{ "activity.sipi_injection", check_activity_sipi_injection },
	{ "activity.shutdown_exception", check_activity_shutdown_exception },
	{ "activity.shutdown_ext_intr18", check_activity_shutdown_ext_intr18 },
	{ "activity.sipi_entry_smm", check_activity_sipi_entry_smm },
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
	{ "pending_dbg.b0_delivered", check_pdbg_b0_delivered },
	{ "link.unaligned", check_link_unaligned },
	{ "link.maxphyaddr", check_link_maxphyaddr },
	{ "link.revision", check_link_revision },
	{ "link.shadow_bit", check_link_shadow_bit },
	{ "link.current_vmcs", check_link_current },
	{ "msr_load.fs_base", check_msr_fs_base },
	{ "msr_load.gs_base_first", check_msr_gs_base_first },
	{ "msr_load.x2apic", check_msr_x2apic },
	{ "msr_load.bios_updt_trig", check_msr_ucode },
	{ "msr_load.smm_monitor_ctl", check_msr_smm_monitor },
	{ "msr_load.reserved_bits", check_msr_reserved },
	{ "msr_load.wrmsr_gp", check_msr_gp },
};

DEFINE_TEST("vmx_entry_guest", checks, .setup = ve_setup);
