/*
 * VM entry: checks on the VMX controls (SDM Vol. 3C 27.2.1, "Checks on VMX
 * Controls": 27.2.1.1 VM-execution control fields, 27.2.1.2 VM-exit control
 * fields, 27.2.1.3 VM-entry control fields).  A VMCS that breaks one of them
 * makes VMLAUNCH fail and leaves the launch state alone.  Each case names the
 * rule of lib/x86/vmx_rules.h that it breaks; the outcome it expects (there
 * VMfailValid(7)) is the table's prediction for the broken VMCS.
 *
 * Each entry starts from a VMCS that enters and reaches VMCALL (its ".valid"
 * result), breaks one rule (".fails") and then checks the launch state
 * (".launch_state"); see lib/x86/vmx_entry_util.h.
 */
#include "ept.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx_entry_util.h"

/* ------------------------------------------------------------ reserved control bits */

static enum vmx_ctls cur_ctls;
static uint32_t cur_bit;
static bool cur_set;

static bool prep_proc2(void)
{
	return ve_ctls(VMX_CTLS_PROC, VMX_PROC_SECONDARY);
}

static void brk_ctl_bit(void)
{
	vmcs_update(vmx_ctls_field(cur_ctls), cur_set ? 0 : BIT(cur_bit), cur_set ? BIT(cur_bit) : 0);
}

/*
 * Each bit that IA32_VMX_*_CTLS (the TRUE_ MSR when IA32_VMX_BASIC[55]) pins:
 * an allowed-0 setting of 1 cleared, or an allowed-1 setting of 0 set, is
 * VMfailValid(7) (27.2.1.1-27.2.1.3; A.3-A.5).  The secondary controls are
 * checked only when the primary bit 31 is 1, so their checks set it.
 */
static void check_reserved(enum vmx_ctls which, bool set)
{
	struct vmx_allowed a;
	bool (*prep)(void) = which == VMX_CTLS_PROC2 ? prep_proc2 : NULL;
	static const enum vr_rule_id rules[VMX_CTLS_COUNT] = {
		[VMX_CTLS_PIN] = VR_CTL_PIN_ALLOWED, [VMX_CTLS_PROC] = VR_CTL_PROC_ALLOWED,
		[VMX_CTLS_PROC2] = VR_CTL_PROC2_ALLOWED, [VMX_CTLS_EXIT] = VR_CTL_EXIT_ALLOWED,
		[VMX_CTLS_ENTRY] = VR_CTL_ENTRY_ALLOWED,
	};
	struct ve_case c = { .prepare = prep, .brk = brk_ctl_bit, .rule = rules[which] };
	unsigned n = 0;

	if (!ve_usable())
		return;
	if (which == VMX_CTLS_PROC2 && !vmx_require("", VMX_CTLS_PROC, VMX_PROC_SECONDARY))
		return;
	a = vmx_ctls_allowed(which);
	if (!ve_run_valid(prep, 0))
		return;
	for (unsigned bit = 0; bit < 32; bit++) {
		bool pinned = set ? !(a.may_be_1 & BIT(bit)) : (a.must_be_1 & BIT(bit));

		if (!pinned)
			continue;
		cur_ctls = which;
		cur_bit = bit;
		cur_set = set;
		report_prefix_push("bit%u", bit);
		ve_run_broken(&c);
		report_prefix_pop();
		n++;
	}
	if (!n)
		skip("", "MSR %#x pins no bit to %u", vmx_ctls_msr(which), set ? 0 : 1);
}

static void check_pin_must_be_1(void) { check_reserved(VMX_CTLS_PIN, false); }
static void check_pin_must_be_0(void) { check_reserved(VMX_CTLS_PIN, true); }
static void check_proc_must_be_1(void) { check_reserved(VMX_CTLS_PROC, false); }
static void check_proc_must_be_0(void) { check_reserved(VMX_CTLS_PROC, true); }
static void check_proc2_must_be_1(void) { check_reserved(VMX_CTLS_PROC2, false); }
static void check_proc2_must_be_0(void) { check_reserved(VMX_CTLS_PROC2, true); }
static void check_exit_must_be_1(void) { check_reserved(VMX_CTLS_EXIT, false); }
static void check_exit_must_be_0(void) { check_reserved(VMX_CTLS_EXIT, true); }
static void check_entry_must_be_1(void) { check_reserved(VMX_CTLS_ENTRY, false); }
static void check_entry_must_be_0(void) { check_reserved(VMX_CTLS_ENTRY, true); }

/*
 * The 64-bit words, tertiary processor-based controls (PROC[17]) and
 * secondary VM-exit controls (EXIT[31]): their capability MSRs give only
 * allowed-1 settings (A.3.4, A.4.2), so a bit the MSR reports 0 must be 0.
 * Cases: the lowest reserved bit and bit 63.
 */
static uint64_t reserved_bit(uint32_t msr, bool highest)
{
	uint64_t rsvd = ~rdmsr(msr);

	if (!rsvd)
		return 0;
	return highest ? BIT(63 - __builtin_clzll(rsvd)) : rsvd & -rsvd;
}
static bool prep_proc3(void)
{
	return ve_ctls_field(VMX_CTLS_PROC, VMX_PROC_TERTIARY, VMCS_PROC_CONTROLS3, 0);
}
static bool prep_exit2(void)
{
	return ve_ctls_field(VMX_CTLS_EXIT, VMX_EXIT_SECONDARY, VMCS_EXIT_CONTROLS2, 0);
}
static void brk_proc3_low(void)
{
	vmcs_write(VMCS_PROC_CONTROLS3, reserved_bit(MSR_IA32_VMX_PROCBASED_CTLS3, false));
}
static void brk_proc3_high(void)
{
	vmcs_write(VMCS_PROC_CONTROLS3, reserved_bit(MSR_IA32_VMX_PROCBASED_CTLS3, true));
}
static void brk_exit2_low(void)
{
	vmcs_write(VMCS_EXIT_CONTROLS2, reserved_bit(MSR_IA32_VMX_EXIT_CTLS2, false));
}
static void brk_exit2_high(void)
{
	vmcs_write(VMCS_EXIT_CONTROLS2, reserved_bit(MSR_IA32_VMX_EXIT_CTLS2, true));
}
VE_CASE(check_proc3_reserved_low, .prepare = prep_proc3, .brk = brk_proc3_low,
	.rule = VR_CTL_PROC3_ALLOWED)
VE_CASE(check_proc3_reserved_high, .prepare = prep_proc3, .brk = brk_proc3_high,
	.rule = VR_CTL_PROC3_ALLOWED)
VE_CASE(check_exit2_reserved_low, .prepare = prep_exit2, .brk = brk_exit2_low,
	.rule = VR_CTL_EXIT2_ALLOWED)
VE_CASE(check_exit2_reserved_high, .prepare = prep_exit2, .brk = brk_exit2_high,
	.rule = VR_CTL_EXIT2_ALLOWED)
/* The word counts only with PROC[17] = 1: a reserved bit with PROC[17] = 0 enters (25.6.2). */
static void brk_proc3_inactive(void)
{
	brk_proc3_low();
	vmcs_update(VMCS_PROC_CONTROLS, VMX_PROC_TERTIARY, 0);
}
VE_CASE(check_proc3_inactive, .prepare = prep_proc3, .brk = brk_proc3_inactive,
	.rule = VR_CTL_PROC3_ALLOWED, .legal = true)
/* "Virtualize IA32_SPEC_CTRL" (tertiary control 7) where offered: the entry succeeds. */
static bool prep_virt_spec_ctrl(void)
{
	if (!prep_proc3())
		return false;
	if (!(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3) & VMX_PROC3_VIRT_SPEC_CTRL)) {
		skip("", "no virtualize IA32_SPEC_CTRL (IA32_VMX_PROCBASED_CTLS3[7])");
		return false;
	}
	vmcs_write(VMCS_PROC_CONTROLS3, VMX_PROC3_VIRT_SPEC_CTRL);
	return true;
}
static void check_virt_spec_ctrl(void) { if (ve_usable()) ve_run_valid(prep_virt_spec_ctrl, 0); }

/* ------------------------------------------------------------ VM-execution controls (27.2.1.1) */

/* The CR3-target count must not be greater than 4 (IA32_VMX_MISC[24:16], A.6). */
static void brk_cr3_count(void)
{
	vmcs_write(VMCS_CR3_TARGET_COUNT, ((rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff) + 1);
}
VE_CASE(check_cr3_target_count, .brk = brk_cr3_count, .rule = VR_CTL_CR3_TARGET_COUNT)

/* I/O bitmaps: each address 4 KiB aligned and within MAXPHYADDR. */
static bool prep_io(void)
{
	if (!ve_ctls(VMX_CTLS_PROC, VMX_PROC_IO_BITMAPS))
		return false;
	vmcs_write(VMCS_IO_BITMAP_A, (uint64_t)ve_page(0));
	vmcs_write(VMCS_IO_BITMAP_B, (uint64_t)ve_page(1));
	return true;
}
static void brk_io_a_max(void) { vmcs_write(VMCS_IO_BITMAP_A, ve_beyond_maxphyaddr()); }
static void brk_io_b_max(void) { vmcs_write(VMCS_IO_BITMAP_B, ve_beyond_maxphyaddr()); }
VE_CASE(check_io_a_unaligned, .prepare = prep_io, .field = VMCS_IO_BITMAP_A, .set = 0x800,
	.rule = VR_CTL_IO_BITMAP_A_ALIGNED)
VE_CASE(check_io_b_unaligned, .prepare = prep_io, .field = VMCS_IO_BITMAP_B, .set = 0x10,
	.rule = VR_CTL_IO_BITMAP_B_ALIGNED)
VE_CASE(check_io_a_maxphyaddr, .prepare = prep_io, .brk = brk_io_a_max, .rule = VR_CTL_IO_BITMAP_A_MAXPHYADDR)
VE_CASE(check_io_b_maxphyaddr, .prepare = prep_io, .brk = brk_io_b_max, .rule = VR_CTL_IO_BITMAP_B_MAXPHYADDR)

/* MSR bitmap: 4 KiB aligned, within MAXPHYADDR. */
static bool prep_msr_bitmap(void)
{
	if (!ve_ctls(VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS))
		return false;
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)ve_page(2));
	return true;
}
static void brk_msr_bitmap_max(void) { vmcs_write(VMCS_MSR_BITMAP, ve_beyond_maxphyaddr()); }
VE_CASE(check_msr_bitmap_unaligned, .prepare = prep_msr_bitmap, .field = VMCS_MSR_BITMAP,
	.set = 0x8, .rule = VR_CTL_MSR_BITMAP_ALIGNED)
VE_CASE(check_msr_bitmap_maxphyaddr, .prepare = prep_msr_bitmap, .brk = brk_msr_bitmap_max,
	.rule = VR_CTL_MSR_BITMAP_MAXPHYADDR)

/*
 * "Use TPR shadow": the virtual-APIC address 4 KiB aligned and within
 * MAXPHYADDR; without virtual-interrupt delivery the TPR threshold bits 31:4
 * are 0, and without it and "virtualize APIC accesses" the threshold's bits
 * 3:0 are not greater than VTPR[7:4] (VTPR is at offset 80H of the page).
 */
static bool prep_tpr(void)
{
	uint8_t *vapic = ve_page(3);

	if (!ve_ctls(VMX_CTLS_PROC, VMX_PROC_TPR_SHADOW))
		return false;
	vapic[0x80] = 0x20;
	vmcs_write(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)vapic);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
	return true;
}
static void brk_vapic_max(void) { vmcs_write(VMCS_VIRTUAL_APIC_ADDR, ve_beyond_maxphyaddr()); }
VE_CASE(check_vapic_unaligned, .prepare = prep_tpr, .field = VMCS_VIRTUAL_APIC_ADDR, .set = 0x800,
	.rule = VR_CTL_VAPIC_ALIGNED)
VE_CASE(check_vapic_maxphyaddr, .prepare = prep_tpr, .brk = brk_vapic_max, .rule = VR_CTL_VAPIC_MAXPHYADDR)
VE_CASE(check_tpr_threshold_reserved, .prepare = prep_tpr, .field = VMCS_TPR_THRESHOLD,
	.set = 0x10, .rule = VR_CTL_TPR_THRESHOLD_RESERVED)
VE_CASE(check_tpr_threshold_above_vtpr, .prepare = prep_tpr, .field = VMCS_TPR_THRESHOLD,
	.set = 3, .rule = VR_CTL_TPR_THRESHOLD_VTPR)
/* Equal to VTPR[7:4] is allowed (and no TPR-below-threshold exit follows: 29.1.2). */
VE_CASE(check_tpr_threshold_equal_vtpr, .prepare = prep_tpr, .field = VMCS_TPR_THRESHOLD,
	.set = 2, .rule = VR_CTL_TPR_THRESHOLD_VTPR, .legal = true)

/* Without "use TPR shadow": virtualize x2APIC mode, APIC-register virtualization, VID must be 0. */
static bool prep_tpr_x2apic(void)
{
	return prep_tpr() && ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_VIRT_X2APIC);
}
static bool prep_tpr_regvirt(void)
{
	return prep_tpr() && ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_APIC_REG_VIRT);
}
VE_CASE(check_x2apic_without_tpr_shadow, .prepare = prep_tpr_x2apic, .field = VMCS_PROC_CONTROLS,
	.clear = VMX_PROC_TPR_SHADOW, .rule = VR_CTL_X2APIC_NEEDS_TPR_SHADOW)
VE_CASE(check_regvirt_without_tpr_shadow, .prepare = prep_tpr_regvirt,
	.field = VMCS_PROC_CONTROLS, .clear = VMX_PROC_TPR_SHADOW, .rule = VR_CTL_REGVIRT_NEEDS_TPR_SHADOW)

/* Virtual-interrupt delivery needs "external-interrupt exiting". */
static bool prep_vid(void)
{
	return prep_tpr() && ve_ctls(VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT) &&
	       ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_VIRT_INTR_DELIVERY);
}
VE_CASE(check_vid_without_ext_intr_exit, .prepare = prep_vid, .field = VMCS_PIN_CONTROLS,
	.clear = VMX_PIN_EXT_INTR_EXIT, .rule = VR_CTL_VID_NEEDS_EXT_INTR_EXIT)

/* Virtualize APIC accesses: APIC-access address 4 KiB aligned and within MAXPHYADDR. */
static bool prep_apic_access(void)
{
	if (!ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_VIRT_APIC_ACCESS))
		return false;
	vmcs_write(VMCS_APIC_ACCESS_ADDR, (uint64_t)ve_page(4));
	return true;
}
static void brk_apic_access_max(void) { vmcs_write(VMCS_APIC_ACCESS_ADDR, ve_beyond_maxphyaddr()); }
VE_CASE(check_apic_access_unaligned, .prepare = prep_apic_access, .field = VMCS_APIC_ACCESS_ADDR,
	.set = 0x100, .rule = VR_CTL_APIC_ACCESS_ALIGNED)
VE_CASE(check_apic_access_maxphyaddr, .prepare = prep_apic_access, .brk = brk_apic_access_max,
	.rule = VR_CTL_APIC_ACCESS_MAXPHYADDR)

/* Virtualize x2APIC mode and virtualize APIC accesses are exclusive. */
static bool prep_x2apic_access(void)
{
	if (!vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VIRT_APIC_ACCESS))
		return false;
	vmcs_write(VMCS_APIC_ACCESS_ADDR, (uint64_t)ve_page(4));
	return prep_tpr_x2apic();
}
VE_CASE(check_x2apic_and_apic_access, .prepare = prep_x2apic_access, .field = VMCS_PROC_CONTROLS2,
	.set = VMX_PROC2_VIRT_APIC_ACCESS, .rule = VR_CTL_X2APIC_AND_APIC_ACCESS)

/* NMI exiting 0 needs virtual NMIs 0; virtual NMIs 0 needs NMI-window exiting 0. */
static bool prep_vnmi(void)
{
	return ve_ctls(VMX_CTLS_PIN, VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS);
}
static bool prep_nmi_window(void)
{
	if (!prep_vnmi() || !ve_ctls(VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT))
		return false;
	/* Virtual-NMI blocking keeps the NMI window closed, so L2 reaches VMCALL. */
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, BIT(3));
	return true;
}
VE_CASE(check_vnmi_without_nmi_exit, .prepare = prep_vnmi, .field = VMCS_PIN_CONTROLS,
	.clear = VMX_PIN_NMI_EXIT, .rule = VR_CTL_VNMI_NEEDS_NMI_EXIT)
VE_CASE(check_nmi_window_without_vnmi, .prepare = prep_nmi_window, .field = VMCS_PIN_CONTROLS,
	.clear = VMX_PIN_VIRTUAL_NMIS, .rule = VR_CTL_NMI_WINDOW_NEEDS_VNMI)

/* Enable VPID: the VPID is not 0000H. */
static bool prep_vpid(void)
{
	if (!ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_VPID))
		return false;
	vmcs_write(VMCS_VPID, 1);
	return true;
}
VE_CASE(check_vpid_zero, .prepare = prep_vpid, .field = VMCS_VPID, .clear = 0xffff,
	.rule = VR_CTL_VPID_NONZERO)

/*
 * Enable EPT: the EPTP memory type is one IA32_VMX_EPT_VPID_CAP allows (UC
 * bit 8, WB bit 14; others reserved), the walk length minus 1 is 3 (or 4 with
 * 5-level EPT), A/D enable only with EPT_VPID_CAP[21], bits 11:7 and bits
 * beyond MAXPHYADDR are 0 (27.2.1.1; 25.6.11).
 */
static void brk_eptp_max(void) { vmcs_update(VMCS_EPT_POINTER, 0, ve_beyond_maxphyaddr()); }
static bool prep_ept_no_ad(void)
{
	if (!ve_ept())
		return false;
	if (ept_has_ad()) {
		skip("", "EPT A/D flags supported (IA32_VMX_EPT_VPID_CAP[21])");
		return false;
	}
	return true;
}
VE_CASE(check_eptp_memtype, .prepare = ve_ept, .field = VMCS_EPT_POINTER, .clear = EPTP_MT_MASK,
	.set = 2, .rule = VR_CTL_EPTP_MEMTYPE)
VE_CASE(check_eptp_walk_length, .prepare = ve_ept, .field = VMCS_EPT_POINTER, .clear = 7ull << 3,
	.set = 1ull << 3, .rule = VR_CTL_EPTP_WALK_LENGTH)
VE_CASE(check_eptp_ad_unsupported, .prepare = prep_ept_no_ad, .field = VMCS_EPT_POINTER,
	.set = EPTP_AD, .rule = VR_CTL_EPTP_AD)
VE_CASE(check_eptp_reserved, .prepare = ve_ept, .field = VMCS_EPT_POINTER, .set = BIT(11),
	.rule = VR_CTL_EPTP_RESERVED)
VE_CASE(check_eptp_maxphyaddr, .prepare = ve_ept, .brk = brk_eptp_max, .rule = VR_CTL_EPTP_MAXPHYADDR)

/* Unrestricted guest needs enable EPT. */
VE_CASE(check_unrestricted_without_ept, .prepare = ve_unrestricted, .field = VMCS_PROC_CONTROLS2,
	.clear = VMX_PROC2_EPT, .rule = VR_CTL_UG_NEEDS_EPT)

/* EPT, secondary control @proc2, and @field = the address of test page @page. */
static bool prep_ept_page(uint32_t proc2, uint32_t field, unsigned page)
{
	return ve_ept() && ve_ctls_field(VMX_CTLS_PROC2, proc2, field, (uint64_t)ve_page(page));
}

/* Mode-based execute control for EPT needs enable EPT. */
static bool prep_mbec(void)
{
	return ve_ept() && ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_MBEC);
}
VE_CASE(check_mbec_without_ept, .prepare = prep_mbec, .field = VMCS_PROC_CONTROLS2,
	.clear = VMX_PROC2_EPT, .rule = VR_CTL_MBEC_NEEDS_EPT)

/* VMCS shadowing: the VMREAD and VMWRITE bitmap addresses 4 KiB aligned, within MAXPHYADDR. */
static bool prep_shadowing(void)
{
	if (!ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING))
		return false;
	vmcs_write(VMCS_VMREAD_BITMAP, (uint64_t)ve_page(6));
	vmcs_write(VMCS_VMWRITE_BITMAP, (uint64_t)ve_page(7));
	return true;
}
static void brk_vmread_max(void) { vmcs_write(VMCS_VMREAD_BITMAP, ve_beyond_maxphyaddr()); }
static void brk_vmwrite_max(void) { vmcs_write(VMCS_VMWRITE_BITMAP, ve_beyond_maxphyaddr()); }
VE_CASE(check_vmread_bitmap_unaligned, .prepare = prep_shadowing, .field = VMCS_VMREAD_BITMAP,
	.set = 0x800, .rule = VR_CTL_SHADOW_BITMAPS)
VE_CASE(check_vmread_bitmap_maxphyaddr, .prepare = prep_shadowing, .brk = brk_vmread_max,
	.rule = VR_CTL_SHADOW_BITMAPS)
VE_CASE(check_vmwrite_bitmap_unaligned, .prepare = prep_shadowing, .field = VMCS_VMWRITE_BITMAP,
	.set = 0x8, .rule = VR_CTL_SHADOW_BITMAPS)
VE_CASE(check_vmwrite_bitmap_maxphyaddr, .prepare = prep_shadowing, .brk = brk_vmwrite_max,
	.rule = VR_CTL_SHADOW_BITMAPS)

/* EPT-violation #VE: the virtualization-exception information address 4 KiB aligned, within MAXPHYADDR. */
static bool prep_ept_ve(void)
{
	if (!prep_ept_page(VMX_PROC2_EPT_VE, VMCS_VE_INFO_ADDR, 8))
		return false;
	vmcs_write(VMCS_EPTP_INDEX, 0);
	return true;
}
static void brk_ve_info_max(void) { vmcs_write(VMCS_VE_INFO_ADDR, ve_beyond_maxphyaddr()); }
VE_CASE(check_ve_info_unaligned, .prepare = prep_ept_ve, .field = VMCS_VE_INFO_ADDR, .set = 0x400,
	.rule = VR_CTL_VE_INFO_ADDR)
VE_CASE(check_ve_info_maxphyaddr, .prepare = prep_ept_ve, .brk = brk_ve_info_max,
	.rule = VR_CTL_VE_INFO_ADDR)

/*
 * Process posted interrupts needs virtual-interrupt delivery and "acknowledge
 * interrupt on exit"; the notification vector has bits 15:8 clear; the
 * descriptor address has bits 5:0 clear and is within MAXPHYADDR (a 64-byte
 * aligned descriptor inside a page is allowed).
 */
static bool prep_posted(void)
{
	if (!prep_vid() || !ve_ctls(VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR) ||
	    !ve_ctls(VMX_CTLS_PIN, VMX_PIN_POSTED_INTR))
		return false;
	vmcs_write(VMCS_POSTED_INTR_NV, 0xf2);
	vmcs_write(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)ve_page(9));
	return true;
}
static void brk_posted_desc_max(void)
{
	vmcs_write(VMCS_POSTED_INTR_DESC_ADDR, ve_beyond_maxphyaddr());
}
VE_CASE(check_posted_without_vid, .prepare = prep_posted, .field = VMCS_PROC_CONTROLS2,
	.clear = VMX_PROC2_VIRT_INTR_DELIVERY, .rule = VR_CTL_POSTED_NEEDS_VID)
VE_CASE(check_posted_without_ack, .prepare = prep_posted, .field = VMCS_EXIT_CONTROLS,
	.clear = VMX_EXIT_ACK_INTR, .rule = VR_CTL_POSTED_NEEDS_ACK)
VE_CASE(check_posted_vector_256, .prepare = prep_posted, .field = VMCS_POSTED_INTR_NV,
	.clear = 0xffff, .set = 0x100, .rule = VR_CTL_POSTED_VECTOR)
VE_CASE(check_posted_desc_unaligned, .prepare = prep_posted, .field = VMCS_POSTED_INTR_DESC_ADDR,
	.set = 0x20, .rule = VR_CTL_POSTED_DESC_ADDR)
VE_CASE(check_posted_desc_64_aligned, .prepare = prep_posted, .field = VMCS_POSTED_INTR_DESC_ADDR,
	.set = 0x40, .rule = VR_CTL_POSTED_DESC_ADDR, .legal = true)
VE_CASE(check_posted_desc_maxphyaddr, .prepare = prep_posted, .brk = brk_posted_desc_max,
	.rule = VR_CTL_POSTED_DESC_ADDR)

/*
 * Enable VM functions: no VM-function control that IA32_VMX_VMFUNC does not
 * allow; EPTP switching (function 0) needs enable EPT and an EPTP-list
 * address 4 KiB aligned within MAXPHYADDR.
 */
static bool prep_vmfunc(void)
{
	return ve_ctls_field(VMX_CTLS_PROC2, VMX_PROC2_VMFUNC, VMCS_VMFUNC_CONTROLS, 0);
}
static void brk_vmfunc_reserved(void)
{
	uint64_t allowed = rdmsr(MSR_IA32_VMX_VMFUNC);

	vmcs_write(VMCS_VMFUNC_CONTROLS, ~allowed & -~allowed);	/* the lowest reserved bit */
}
static bool prep_eptp_switching(void)
{
	uint64_t *list = ve_page(10);

	if (!ve_ept() || !prep_vmfunc())
		return false;
	if (!(rdmsr(MSR_IA32_VMX_VMFUNC) & BIT(0))) {
		skip("", "no EPTP switching (IA32_VMX_VMFUNC[0])");
		return false;
	}
	list[0] = vmcs_read(VMCS_EPT_POINTER);
	vmcs_write(VMCS_EPTP_LIST_ADDR, (uint64_t)list);
	vmcs_write(VMCS_VMFUNC_CONTROLS, BIT(0));
	return true;
}
static void brk_eptp_list_max(void) { vmcs_write(VMCS_EPTP_LIST_ADDR, ve_beyond_maxphyaddr()); }
VE_CASE(check_vmfunc_reserved, .prepare = prep_vmfunc, .brk = brk_vmfunc_reserved,
	.rule = VR_CTL_VMFUNC_ALLOWED)
VE_CASE(check_eptp_switching_without_ept, .prepare = prep_eptp_switching,
	.field = VMCS_PROC_CONTROLS2, .clear = VMX_PROC2_EPT, .rule = VR_CTL_EPTP_SWITCH_NEEDS_EPT)
VE_CASE(check_eptp_list_unaligned, .prepare = prep_eptp_switching, .field = VMCS_EPTP_LIST_ADDR,
	.set = 0x800, .rule = VR_CTL_EPTP_LIST_ADDR)
VE_CASE(check_eptp_list_maxphyaddr, .prepare = prep_eptp_switching, .brk = brk_eptp_list_max,
	.rule = VR_CTL_EPTP_LIST_ADDR)

/* Enable PML needs enable EPT; the PML address 4 KiB aligned, within MAXPHYADDR. */
static bool prep_pml(void)
{
	if (!prep_ept_page(VMX_PROC2_PML, VMCS_PML_ADDRESS, 11))
		return false;
	vmcs_write(VMCS_GUEST_PML_INDEX, 511);
	return true;
}
static void brk_pml_max(void) { vmcs_write(VMCS_PML_ADDRESS, ve_beyond_maxphyaddr()); }
VE_CASE(check_pml_without_ept, .prepare = prep_pml, .field = VMCS_PROC_CONTROLS2,
	.clear = VMX_PROC2_EPT, .rule = VR_CTL_PML_NEEDS_EPT)
VE_CASE(check_pml_unaligned, .prepare = prep_pml, .field = VMCS_PML_ADDRESS, .set = 0x200,
	.rule = VR_CTL_PML_ADDR)
VE_CASE(check_pml_maxphyaddr, .prepare = prep_pml, .brk = brk_pml_max, .rule = VR_CTL_PML_ADDR)

/* Sub-page write permissions for EPT needs enable EPT; the SPPTP 4 KiB aligned, within MAXPHYADDR. */
static bool prep_spp(void)
{
	return prep_ept_page(VMX_PROC2_SPP, VMCS_SPP_TABLE_PTR, 12);
}
static void brk_spptp_max(void) { vmcs_write(VMCS_SPP_TABLE_PTR, ve_beyond_maxphyaddr()); }
VE_CASE(check_spp_without_ept, .prepare = prep_spp, .field = VMCS_PROC_CONTROLS2,
	.clear = VMX_PROC2_EPT, .rule = VR_CTL_SPP_NEEDS_EPT)
VE_CASE(check_spptp_unaligned, .prepare = prep_spp, .field = VMCS_SPP_TABLE_PTR, .set = 0x10,
	.rule = VR_CTL_SPPTP_ADDR)
VE_CASE(check_spptp_maxphyaddr, .prepare = prep_spp, .brk = brk_spptp_max, .rule = VR_CTL_SPPTP_ADDR)

/*
 * Controls whose fields 27.2.1.1 does not check: any XSS-exiting bitmap with
 * "enable XSAVES/XRSTORS", any TSC multiplier with "use TSC scaling" (0
 * included: 25.6.5 defines the field, 27.2.1.1 has no rule on it).  The valid
 * entry with the feature on comes first.
 */
static bool prep_xsaves(void)
{
	return ve_ctls_field(VMX_CTLS_PROC2, VMX_PROC2_XSAVES, VMCS_XSS_EXIT_BITMAP, 0);
}
static bool prep_xsaves_all(void)
{
	if (!prep_xsaves())
		return false;
	vmcs_write(VMCS_XSS_EXIT_BITMAP, ~0ull);
	return true;
}
static bool prep_tsc_scaling(void)
{
	/* 1.0 in the multiplier's 16.48 fixed-point format (26.3). */
	return ve_ctls_field(VMX_CTLS_PROC2, VMX_PROC2_TSC_SCALING, VMCS_TSC_MULTIPLIER, BIT(48));
}
static bool prep_tsc_multiplier_zero(void)
{
	if (!prep_tsc_scaling())
		return false;
	vmcs_write(VMCS_TSC_MULTIPLIER, 0);
	return true;
}
static void check_xsaves_enabled(void) { if (ve_usable()) ve_run_valid(prep_xsaves, 0); }
static void check_xsaves_bitmap_all(void) { if (ve_usable()) ve_run_valid(prep_xsaves_all, 0); }
static void check_tsc_scaling_enabled(void) { if (ve_usable()) ve_run_valid(prep_tsc_scaling, 0); }
static void check_tsc_multiplier_zero(void)
{
	if (ve_usable())
		ve_run_valid(prep_tsc_multiplier_zero, 0);
}

/* ------------------------------------------------------------ VM-exit controls (27.2.1.2) */

/* "Save VMX-preemption timer value" needs "activate VMX-preemption timer". */
static bool prep_preempt(void)
{
	if (!ve_ctls(VMX_CTLS_PIN, VMX_PIN_PREEMPTION_TIMER) ||
	    !ve_ctls(VMX_CTLS_EXIT, VMX_EXIT_SAVE_PREEMPT))
		return false;
	vmcs_write(VMCS_PREEMPTION_TIMER, 0xffffffff);
	return true;
}
VE_CASE(check_preempt_save_without_timer, .prepare = prep_preempt, .field = VMCS_PIN_CONTROLS,
	.clear = VMX_PIN_PREEMPTION_TIMER, .rule = VR_CTL_SAVE_PREEMPT_NEEDS_TIMER)

/*
 * MSR areas (VM-exit MSR-store, VM-exit MSR-load: 27.2.1.2; VM-entry
 * MSR-load: 27.2.1.3): with a non-zero count, the address is 16-byte aligned
 * and the area's last byte is within MAXPHYADDR.  One entry each: IA32_KERNEL_GS_BASE
 * with its current value.
 */
static bool prep_msr_areas(void)
{
	uint64_t *area = ve_page(5);

	for (unsigned i = 0; i < 3; i++) {
		area[2 * i] = MSR_KERNEL_GS_BASE;
		area[2 * i + 1] = rdmsr(MSR_KERNEL_GS_BASE);
	}
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)&area[0]);
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)&area[2]);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)&area[4]);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	return true;
}
static void brk_store_max(void) { vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, ve_beyond_maxphyaddr()); }
static void brk_exit_load_max(void) { vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, ve_beyond_maxphyaddr()); }
static void brk_entry_load_max(void) { vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, ve_beyond_maxphyaddr()); }
/* The last byte of the area beyond MAXPHYADDR, the first below it. */
static void brk_entry_load_straddle(void)
{
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, ve_beyond_maxphyaddr() - 16);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 2);
}
static void brk_exit_store_straddle(void)
{
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, ve_beyond_maxphyaddr() - 16);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 2);
}
static void brk_exit_load_straddle(void)
{
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, ve_beyond_maxphyaddr() - 16);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 2);
}
VE_CASE(check_exit_store_unaligned, .prepare = prep_msr_areas, .field = VMCS_EXIT_MSR_STORE_ADDR,
	.set = 8, .rule = VR_CTL_EXIT_STORE_ALIGNED)
VE_CASE(check_exit_store_maxphyaddr, .prepare = prep_msr_areas, .brk = brk_store_max,
	.rule = VR_CTL_EXIT_STORE_MAXPHYADDR)
VE_CASE(check_exit_load_unaligned, .prepare = prep_msr_areas, .field = VMCS_EXIT_MSR_LOAD_ADDR,
	.set = 4, .rule = VR_CTL_EXIT_LOAD_ALIGNED)
VE_CASE(check_exit_load_maxphyaddr, .prepare = prep_msr_areas, .brk = brk_exit_load_max,
	.rule = VR_CTL_EXIT_LOAD_MAXPHYADDR)
VE_CASE(check_exit_store_straddle, .prepare = prep_msr_areas, .brk = brk_exit_store_straddle,
	.rule = VR_CTL_EXIT_STORE_MAXPHYADDR)
VE_CASE(check_exit_load_straddle, .prepare = prep_msr_areas, .brk = brk_exit_load_straddle,
	.rule = VR_CTL_EXIT_LOAD_MAXPHYADDR)
VE_CASE(check_entry_load_unaligned, .prepare = prep_msr_areas, .field = VMCS_ENTRY_MSR_LOAD_ADDR,
	.set = 8, .rule = VR_CTL_ENTRY_LOAD_ALIGNED)
VE_CASE(check_entry_load_maxphyaddr, .prepare = prep_msr_areas, .brk = brk_entry_load_max,
	.rule = VR_CTL_ENTRY_LOAD_MAXPHYADDR)
VE_CASE(check_entry_load_straddle, .prepare = prep_msr_areas, .brk = brk_entry_load_straddle,
	.rule = VR_CTL_ENTRY_LOAD_MAXPHYADDR)

/* ------------------------------------------------------------ VM-entry controls (27.2.1.3) */

/* Entry to SMM and deactivate dual-monitor treatment are 0 outside SMM. */
static bool prep_smm(void)
{
	return vmx_require("", VMX_CTLS_ENTRY, VMX_ENTRY_SMM);
}
static bool prep_dual(void)
{
	return vmx_require("", VMX_CTLS_ENTRY, VMX_ENTRY_DUAL_MONITOR);
}
VE_CASE(check_entry_to_smm, .prepare = prep_smm, .field = VMCS_ENTRY_CONTROLS,
	.set = VMX_ENTRY_SMM, .rule = VR_CTL_ENTRY_SMM)
VE_CASE(check_dual_monitor, .prepare = prep_dual, .field = VMCS_ENTRY_CONTROLS,
	.set = VMX_ENTRY_DUAL_MONITOR, .rule = VR_CTL_ENTRY_DUAL_MONITOR)

/*
 * Event injection (VM-entry interruption-information field, 27.2.1.3): the
 * valid VMCS injects an event into a guest whose IDT limit is 0, so its
 * delivery raises #GP, which the exception bitmap turns into an exit (reason 0).
 */
#define EV_BASE VE_BASE(VMX_EXIT_EXCEPTION)
static bool prep_nmi(void) { ve_inject(VE_INTR(VE_NMI, 2), 0, 0); return true; }
static bool prep_ud(void) { ve_inject(VE_INTR(VE_HW_EXC, 6), 0, 0); return true; }
static bool prep_gp(void)
{
	ve_inject(VE_INTR(VE_HW_EXC, 13) | VMX_INTR_INFO_ERROR_VALID, 0, 0);
	return true;
}
static bool prep_soft_int(void) { ve_inject(VE_INTR(VE_SOFT_INTR, 0x30), 0, 2); return true; }
static bool prep_soft_exc(void) { ve_inject(VE_INTR(VE_SOFT_EXC, 3), 0, 1); return true; }
static bool prep_priv_soft(void) { ve_inject(VE_INTR(VE_PRIV_SOFT_EXC, 1), 0, 1); return true; }
static bool no_basic56(void)
{
	if (rdmsr(MSR_IA32_VMX_BASIC) & BIT(56)) {
		skip("", "IA32_VMX_BASIC[56]: hardware exceptions may be injected with or without error code");
		return false;
	}
	return true;
}
static bool prep_ud_b56(void) { return no_basic56() && prep_ud(); }
static bool prep_gp_b56(void) { return no_basic56() && prep_gp(); }
static bool no_misc30(void)
{
	if (rdmsr(MSR_IA32_VMX_MISC) & BIT(30)) {
		skip("", "IA32_VMX_MISC[30]: instruction length 0 allowed for software events");
		return false;
	}
	return true;
}
static bool prep_soft_int_m30(void) { return no_misc30() && prep_soft_int(); }
static bool prep_soft_exc_m30(void) { return no_misc30() && prep_soft_exc(); }
/* "Other event" (type 7, pending MTF) needs the monitor trap flag; its vector is 0. */
static bool prep_other(void)
{
	if (!vmx_require("", VMX_CTLS_PROC, VMX_PROC_MTF))
		return false;
	ve_inject(VE_INTR(VE_OTHER, 0), 0, 0);
	return true;
}
/* Real mode (unrestricted guest): no error code, whatever the vector. */
static bool prep_real_gp(void)
{
	if (!vmx_vcpu_set_mode(ve_vcpu, VMX_GUEST_REAL, (void *)vmcs_read(VMCS_GUEST_RIP))) {
		skip("", "no unrestricted guest with EPT (IA32_VMX_PROCBASED_CTLS2[39], [33])");
		return false;
	}
	ve_inject(VE_INTR(VE_HW_EXC, 13), 0, 0);
	return true;
}

VE_CASE(check_intr_type_reserved, .prepare = prep_nmi, .field = VMCS_ENTRY_INTR_INFO,
	.clear = 7u << 8, .set = VE_TYPE_RSVD << 8, .rule = VR_CTL_INJECT_TYPE, .base = EV_BASE)
VE_CASE(check_intr_reserved_bits, .prepare = prep_nmi, .field = VMCS_ENTRY_INTR_INFO,
	.set = BIT(12), .rule = VR_CTL_INJECT_RESERVED, .base = EV_BASE)
VE_CASE(check_intr_nmi_vector, .prepare = prep_nmi, .field = VMCS_ENTRY_INTR_INFO,
	.clear = 0xff, .set = 3, .rule = VR_CTL_INJECT_VECTOR, .base = EV_BASE)
VE_CASE(check_intr_hw_exception_vector, .prepare = prep_ud, .field = VMCS_ENTRY_INTR_INFO,
	.clear = 0xff, .set = 32, .rule = VR_CTL_INJECT_VECTOR, .base = EV_BASE)
VE_CASE(check_intr_other_vector, .prepare = prep_other, .field = VMCS_ENTRY_INTR_INFO,
	.set = 1, .rule = VR_CTL_INJECT_VECTOR, .base = VE_BASE(VMX_EXIT_MTF))
VE_CASE(check_error_code_not_hw_exception, .prepare = prep_nmi, .field = VMCS_ENTRY_INTR_INFO,
	.set = VMX_INTR_INFO_ERROR_VALID, .rule = VR_CTL_INJECT_ERROR_CODE_MUST_BE_0, .base = EV_BASE)
VE_CASE(check_error_code_vector_without, .prepare = prep_ud_b56, .field = VMCS_ENTRY_INTR_INFO,
	.set = VMX_INTR_INFO_ERROR_VALID, .rule = VR_CTL_INJECT_ERROR_CODE_MUST_BE_0, .base = EV_BASE)
VE_CASE(check_error_code_missing, .prepare = prep_gp_b56, .field = VMCS_ENTRY_INTR_INFO,
	.clear = VMX_INTR_INFO_ERROR_VALID, .rule = VR_CTL_INJECT_ERROR_CODE_MUST_BE_1, .base = EV_BASE)
VE_CASE(check_error_code_real_mode, .prepare = prep_real_gp, .field = VMCS_ENTRY_INTR_INFO,
	.set = VMX_INTR_INFO_ERROR_VALID, .rule = VR_CTL_INJECT_ERROR_CODE_MUST_BE_0, .base = EV_BASE)
VE_CASE(check_error_code_bits_31_16, .prepare = prep_gp, .field = VMCS_ENTRY_EXCEPTION_ERROR,
	.set = 0x10000, .rule = VR_CTL_INJECT_ERROR_CODE_BITS, .base = EV_BASE)
VE_CASE(check_soft_int_length_zero, .prepare = prep_soft_int_m30, .field = VMCS_ENTRY_INSN_LEN,
	.clear = 0xffffffff, .rule = VR_CTL_INJECT_LENGTH, .base = EV_BASE)
VE_CASE(check_soft_int_length_16, .prepare = prep_soft_int, .field = VMCS_ENTRY_INSN_LEN,
	.clear = 0xffffffff, .set = 16, .rule = VR_CTL_INJECT_LENGTH, .base = EV_BASE)
VE_CASE(check_soft_exc_length_zero, .prepare = prep_soft_exc_m30, .field = VMCS_ENTRY_INSN_LEN,
	.clear = 0xffffffff, .rule = VR_CTL_INJECT_LENGTH, .base = EV_BASE)
VE_CASE(check_priv_soft_length_16, .prepare = prep_priv_soft, .field = VMCS_ENTRY_INSN_LEN,
	.clear = 0xffffffff, .set = 16, .rule = VR_CTL_INJECT_LENGTH, .base = EV_BASE)

static const struct check_entry checks[] = {
	{ "pin.must_be_1", check_pin_must_be_1 },
	{ "pin.must_be_0", check_pin_must_be_0 },
	{ "proc.must_be_1", check_proc_must_be_1 },
	{ "proc.must_be_0", check_proc_must_be_0 },
	{ "proc2.must_be_1", check_proc2_must_be_1 },
	{ "proc2.must_be_0", check_proc2_must_be_0 },
	{ "exit.must_be_1", check_exit_must_be_1 },
	{ "exit.must_be_0", check_exit_must_be_0 },
	{ "entry.must_be_1", check_entry_must_be_1 },
	{ "entry.must_be_0", check_entry_must_be_0 },
	{ "proc3.reserved_low", check_proc3_reserved_low },
	{ "proc3.reserved_high", check_proc3_reserved_high },
	{ "proc3.inactive", check_proc3_inactive },
	{ "proc3.virt_spec_ctrl", check_virt_spec_ctrl },
	{ "exit2.reserved_low", check_exit2_reserved_low },
	{ "exit2.reserved_high", check_exit2_reserved_high },
	{ "cr3_target_count", check_cr3_target_count },
	{ "io_bitmap_a.unaligned", check_io_a_unaligned },
	{ "io_bitmap_a.maxphyaddr", check_io_a_maxphyaddr },
	{ "io_bitmap_b.unaligned", check_io_b_unaligned },
	{ "io_bitmap_b.maxphyaddr", check_io_b_maxphyaddr },
	{ "msr_bitmap.unaligned", check_msr_bitmap_unaligned },
	{ "msr_bitmap.maxphyaddr", check_msr_bitmap_maxphyaddr },
	{ "tpr_shadow.vapic_unaligned", check_vapic_unaligned },
	{ "tpr_shadow.vapic_maxphyaddr", check_vapic_maxphyaddr },
	{ "tpr_shadow.threshold_reserved", check_tpr_threshold_reserved },
	{ "tpr_shadow.threshold_above_vtpr", check_tpr_threshold_above_vtpr },
	{ "tpr_shadow.threshold_equal_vtpr", check_tpr_threshold_equal_vtpr },
	{ "tpr_shadow.x2apic_without", check_x2apic_without_tpr_shadow },
	{ "tpr_shadow.regvirt_without", check_regvirt_without_tpr_shadow },
	{ "vid.without_ext_intr_exit", check_vid_without_ext_intr_exit },
	{ "apic_access.unaligned", check_apic_access_unaligned },
	{ "apic_access.maxphyaddr", check_apic_access_maxphyaddr },
	{ "apic_access.with_x2apic", check_x2apic_and_apic_access },
	{ "nmi.vnmi_without_nmi_exit", check_vnmi_without_nmi_exit },
	{ "nmi.window_without_vnmi", check_nmi_window_without_vnmi },
	{ "vpid.zero", check_vpid_zero },
	{ "eptp.memtype", check_eptp_memtype },
	{ "eptp.walk_length", check_eptp_walk_length },
	{ "eptp.ad_unsupported", check_eptp_ad_unsupported },
	{ "eptp.reserved", check_eptp_reserved },
	{ "eptp.maxphyaddr", check_eptp_maxphyaddr },
	{ "unrestricted.without_ept", check_unrestricted_without_ept },
	{ "mbec.without_ept", check_mbec_without_ept },
	{ "shadowing.vmread_bitmap_unaligned", check_vmread_bitmap_unaligned },
	{ "shadowing.vmread_bitmap_maxphyaddr", check_vmread_bitmap_maxphyaddr },
	{ "shadowing.vmwrite_bitmap_unaligned", check_vmwrite_bitmap_unaligned },
	{ "shadowing.vmwrite_bitmap_maxphyaddr", check_vmwrite_bitmap_maxphyaddr },
	{ "ept_ve.info_unaligned", check_ve_info_unaligned },
	{ "ept_ve.info_maxphyaddr", check_ve_info_maxphyaddr },
	{ "posted.without_vid", check_posted_without_vid },
	{ "posted.without_ack_intr", check_posted_without_ack },
	{ "posted.vector_256", check_posted_vector_256 },
	{ "posted.desc_unaligned", check_posted_desc_unaligned },
	{ "posted.desc_64_aligned", check_posted_desc_64_aligned },
	{ "posted.desc_maxphyaddr", check_posted_desc_maxphyaddr },
	{ "vmfunc.reserved", check_vmfunc_reserved },
	{ "vmfunc.eptp_switching_without_ept", check_eptp_switching_without_ept },
	{ "vmfunc.eptp_list_unaligned", check_eptp_list_unaligned },
	{ "vmfunc.eptp_list_maxphyaddr", check_eptp_list_maxphyaddr },
	{ "pml.without_ept", check_pml_without_ept },
	{ "pml.addr_unaligned", check_pml_unaligned },
	{ "pml.addr_maxphyaddr", check_pml_maxphyaddr },
	{ "spp.without_ept", check_spp_without_ept },
	{ "spp.spptp_unaligned", check_spptp_unaligned },
	{ "spp.spptp_maxphyaddr", check_spptp_maxphyaddr },
	{ "xsaves.enabled", check_xsaves_enabled },
	{ "xsaves.exiting_bitmap_all", check_xsaves_bitmap_all },
	{ "tsc_scaling.enabled", check_tsc_scaling_enabled },
	{ "tsc_scaling.multiplier_zero", check_tsc_multiplier_zero },
	{ "preempt.save_without_timer", check_preempt_save_without_timer },
	{ "msr_area.exit_store_unaligned", check_exit_store_unaligned },
	{ "msr_area.exit_store_maxphyaddr", check_exit_store_maxphyaddr },
	{ "msr_area.exit_load_unaligned", check_exit_load_unaligned },
	{ "msr_area.exit_load_maxphyaddr", check_exit_load_maxphyaddr },
	{ "msr_area.exit_store_straddle", check_exit_store_straddle },
	{ "msr_area.exit_load_straddle", check_exit_load_straddle },
	{ "msr_area.entry_load_unaligned", check_entry_load_unaligned },
	{ "msr_area.entry_load_maxphyaddr", check_entry_load_maxphyaddr },
	{ "msr_area.entry_load_straddle", check_entry_load_straddle },
	{ "entry.smm", check_entry_to_smm },
	{ "entry.dual_monitor", check_dual_monitor },
	{ "inject.type_reserved", check_intr_type_reserved },
	{ "inject.reserved_bits", check_intr_reserved_bits },
	{ "inject.nmi_vector", check_intr_nmi_vector },
	{ "inject.hw_exception_vector", check_intr_hw_exception_vector },
	{ "inject.other_event_vector", check_intr_other_vector },
	{ "inject.error_code.not_hw_exception", check_error_code_not_hw_exception },
	{ "inject.error_code.vector_without", check_error_code_vector_without },
	{ "inject.error_code.missing", check_error_code_missing },
	{ "inject.error_code.real_mode", check_error_code_real_mode },
	{ "inject.error_code.bits_31_16", check_error_code_bits_31_16 },
	{ "inject.length.soft_int_zero", check_soft_int_length_zero },
	{ "inject.length.soft_int_16", check_soft_int_length_16 },
	{ "inject.length.soft_exc_zero", check_soft_exc_length_zero },
	{ "inject.length.priv_soft_16", check_priv_soft_length_16 },
};

DEFINE_TEST("vmx_entry_ctls", checks, .setup = ve_setup);
