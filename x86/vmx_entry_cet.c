/*
 * VM entry and exit with the newer processor state: CET (IA32_S_CET, SSP,
 * IA32_INTERRUPT_SSP_TABLE_ADDR, CR4.CET), PKS (IA32_PKRS) and user
 * interrupts (UINV), SDM Vol. 3C:
 *  - 27.2.2 (host state) and 27.3.1.1, 27.3.1.5 (guest state): each case
 *    breaks one rule of lib/x86/vmx_rules.h (or keeps it, ".legal") and the
 *    table predicts the outcome (see lib/x86/vmx_entry_util.h);
 *  - 27.3.2.1 (entry loads the guest fields with "load CET state", "load
 *    PKRS", "load UINV"), 28.3.1 (every exit saves them into the guest
 *    fields where the processor supports the controls), 28.5.1 (exit loads
 *    the host fields with "load CET state", "load PKRS"; clears UINV with
 *    "clear UINV"): L2 reads what entry loaded (RDMSR, RDSSP), changes it,
 *    and L1 reads what the exit saved and loaded.
 *  - 27.2.1.1: EPTP bit 7 (supervisor shadow-stack control) is reserved
 *    unless IA32_VMX_EPT_VPID_CAP[23];
 *  - "virtualize IA32_SPEC_CTRL": L2's RDMSR of IA32_SPEC_CTRL returns the
 *    shadow, not L1's value.
 * Each capability is probed (CPUID.(EAX=7,ECX=0), the allowed-1 settings of
 * the TRUE_ entry/exit controls, IA32_VMX_CR4_FIXED1[23]); a missing one is a
 * skip naming it.
 */
#include "alloc.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx_entry_util.h"

#define MSR_IA32_S_CET			0x6a2
#define MSR_IA32_INTR_SSP_TABLE		0x6a8
#define MSR_IA32_PKRS			0x6e1
#define MSR_IA32_UINTR_MISC		0x988	/* bits 39:32 UINV */

#define CR4_CET		BIT(23)
/* IA32_S_CET bits (SDM Vol. 3A 18.3.1): 0 SH_STK_EN, 4 NO_TRACK_EN, 10 SUPPRESS, 11 TRACKER */
#define S_CET_SH_STK_EN	BIT(0)
#define S_CET_NO_TRACK	BIT(4)
#define S_CET_SUPPRESS	BIT(10)
#define S_CET_TRACKER	BIT(11)

/* ------------------------------------------------------------ capabilities */

/* CPUID.(EAX=7,ECX=0): ECX[7] CET_SS, EDX[20] CET_IBT, ECX[31] PKS, EDX[5] UINTR. */
static bool cpuid7(unsigned reg, unsigned bit)
{
	struct cpuid c;

	if (cpuid_max(0) < 7)
		return false;
	c = cpuid_count(7, 0);
	return (reg == 2 ? c.c : c.d) & BIT(bit);
}
static bool has_cet(void) { return cpuid7(2, 7) || cpuid7(3, 20); }
static bool has_shstk(void) { return cpuid7(2, 7); }
static bool has_pks(void) { return cpuid7(2, 31); }
static bool has_uintr(void) { return cpuid7(3, 5); }

/* A control the case needs, or a skip naming it and the capability MSR bit. */
static bool need_ctl(enum vmx_ctls which, uint32_t bit, const char *name)
{
	if (vmx_ctls_allowed(which).may_be_1 & bit)
		return true;
	skip("", "no \"%s\" VM-%s control (MSR %#x bit %u is 0)", name,
	     which == VMX_CTLS_ENTRY ? "entry" : "exit", vmx_ctls_msr(which),
	     32 + __builtin_ctz(bit));
	return false;
}

static bool need_cpu(bool have, const char *what)
{
	if (!have)
		skip("", "CPUID.(EAX=7,ECX=0) has no %s", what);
	return have;
}

static bool need_cr4_cet(void)
{
	if (!need_cpu(has_cet(), "CET (ECX[7] CET_SS, EDX[20] CET_IBT)"))
		return false;
	if (rdmsr(MSR_IA32_VMX_CR4_FIXED1) & CR4_CET)
		return true;
	skip("", "IA32_VMX_CR4_FIXED1[23] (CR4.CET) is 0");
	return false;
}

/* ------------------------------------------------------------ prepare() functions */

/* L1's CET MSRs at the start: the host fields give them back at each exit. */
static uint64_t l1_s_cet, l1_isst;

static bool prep_exit_cet(void)
{
	if (!need_cpu(has_cet(), "CET (ECX[7] CET_SS, EDX[20] CET_IBT)") ||
	    !need_ctl(VMX_CTLS_EXIT, VMX_EXIT_LOAD_CET, "load CET state") ||
	    !ve_ctls(VMX_CTLS_EXIT, VMX_EXIT_LOAD_CET))
		return false;
	vmcs_write(VMCS_HOST_S_CET, l1_s_cet);
	vmcs_write(VMCS_HOST_SSP, 0);
	vmcs_write(VMCS_HOST_INTR_SSP_TABLE, l1_isst);
	return true;
}

static bool prep_entry_cet(void)
{
	if (!need_cpu(has_cet(), "CET (ECX[7] CET_SS, EDX[20] CET_IBT)") ||
	    !need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_CET, "load CET state") ||
	    !ve_ctls(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_CET))
		return false;
	vmcs_write(VMCS_GUEST_S_CET, 0);
	vmcs_write(VMCS_GUEST_SSP, 0);
	vmcs_write(VMCS_GUEST_INTR_SSP_TABLE, 0);
	return true;
}

static bool prep_exit_pkrs(void)
{
	return need_cpu(has_pks(), "PKS (ECX[31])") &&
	       need_ctl(VMX_CTLS_EXIT, VMX_EXIT_LOAD_PKRS, "load PKRS") &&
	       ve_ctls_field(VMX_CTLS_EXIT, VMX_EXIT_LOAD_PKRS, VMCS_HOST_PKRS, 0);
}

static bool prep_entry_pkrs(void)
{
	return need_cpu(has_pks(), "PKS (ECX[31])") &&
	       need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PKRS, "load PKRS") &&
	       ve_ctls_field(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PKRS, VMCS_GUEST_PKRS, 0);
}

static bool prep_entry_uinv(void)
{
	return need_cpu(has_uintr(), "UINTR (EDX[5])") &&
	       need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_UINV, "load UINV") &&
	       ve_ctls_field(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_UINV, VMCS_GUEST_UINV, 0);
}

static bool prep_cr4_cet(void) { return need_cr4_cet(); }
static bool prep_cr4_cet_exit_cet(void) { return need_cr4_cet() && prep_exit_cet(); }

/* ------------------------------------------------------------ host CR4.CET and CR0.WP (27.2.2) */

/*
 * An exit loads the host CR0 and CR4 fields into L1: after a case that
 * entered, L1 gets its own back (CR4.CET cleared first: while it is 1, a MOV
 * to CR0 that clears WP faults, SDM Vol. 3A 2.5).
 */
static void l1_cr_restore(uint64_t cr0, uint64_t cr4)
{
	write_cr4(read_cr4() & ~CR4_CET);
	write_cr0(cr0);
	write_cr4(cr4);
}

/* CR4.CET = 1 in the @cr4 field, CR0.WP = @wp in the @cr0 field. */
static void set_cet_wp(uint32_t cr4, uint32_t cr0, bool wp)
{
	vmcs_update(cr4, 0, CR4_CET);
	vmcs_update(cr0, X86_CR0_WP, wp ? X86_CR0_WP : 0);
}
static void brk_host_cet_wp(void) { set_cet_wp(VMCS_HOST_CR4, VMCS_HOST_CR0, true); }
static void brk_host_cet_no_wp(void) { set_cet_wp(VMCS_HOST_CR4, VMCS_HOST_CR0, false); }
VE_CASE(run_host_cet_with_wp, .prepare = prep_cr4_cet, .brk = brk_host_cet_wp,
	.rule = VR_HOST_CR4_CET_WP, .legal = true)
VE_CASE(run_host_cet_without_wp, .prepare = prep_cr4_cet, .brk = brk_host_cet_no_wp,
	.rule = VR_HOST_CR4_CET_WP)
VE_CASE(run_host_cet_without_wp_load_cet, .prepare = prep_cr4_cet_exit_cet,
	.brk = brk_host_cet_no_wp, .rule = VR_HOST_CR4_CET_WP)

#define HOST_CR_CASE(fn, run)                                                  \
	static void fn(void)                                                   \
	{                                                                      \
		uint64_t cr0 = read_cr0(), cr4 = read_cr4();                   \
                                                                               \
		run();                                                         \
		l1_cr_restore(cr0, cr4);                                       \
	}
HOST_CR_CASE(check_host_cet_with_wp, run_host_cet_with_wp)
HOST_CR_CASE(check_host_cet_without_wp, run_host_cet_without_wp)
HOST_CR_CASE(check_host_cet_without_wp_load_cet, run_host_cet_without_wp_load_cet)

/* ------------------------------------------------------------ host CET fields (27.2.2) */

#define HOST_CET(fn, f, c, s, r, ...)                                          \
	VE_CASE(fn, .prepare = prep_exit_cet, .field = f, .clear = c, .set = s, .rule = r, \
		##__VA_ARGS__)
HOST_CET(check_host_s_cet_noncanonical, VMCS_HOST_S_CET, ~0ull, VE_NONCANONICAL,
	 VR_HOST_S_CET_CANONICAL)
HOST_CET(check_host_s_cet_bit6, VMCS_HOST_S_CET, ~0ull, BIT(6), VR_HOST_S_CET_RESERVED)
HOST_CET(check_host_s_cet_bit9, VMCS_HOST_S_CET, ~0ull, BIT(9), VR_HOST_S_CET_RESERVED)
/* Bits 5:0 are enables (SH_STK_EN ... SUPPRESS_DIS), not reserved. */
HOST_CET(check_host_s_cet_enables, VMCS_HOST_S_CET, ~0ull, 0x3f, VR_HOST_S_CET_RESERVED,
	 .legal = true)
HOST_CET(check_host_s_cet_suppress_tracker, VMCS_HOST_S_CET, ~0ull,
	 S_CET_SUPPRESS | S_CET_TRACKER, VR_HOST_S_CET_SUPPRESS_TRACKER)
HOST_CET(check_host_s_cet_suppress, VMCS_HOST_S_CET, ~0ull, S_CET_SUPPRESS,
	 VR_HOST_S_CET_SUPPRESS_TRACKER, .legal = true)
HOST_CET(check_host_s_cet_tracker, VMCS_HOST_S_CET, ~0ull, S_CET_TRACKER,
	 VR_HOST_S_CET_SUPPRESS_TRACKER, .legal = true)
HOST_CET(check_host_ssp_noncanonical, VMCS_HOST_SSP, ~0ull, VE_NONCANONICAL,
	 VR_HOST_SSP_CANONICAL)
HOST_CET(check_host_ssp_bit0, VMCS_HOST_SSP, ~0ull, 0x1000 | BIT(0), VR_HOST_SSP_ALIGNED)
HOST_CET(check_host_ssp_bit1, VMCS_HOST_SSP, ~0ull, 0x1000 | BIT(1), VR_HOST_SSP_ALIGNED)
HOST_CET(check_host_ssp_bit2, VMCS_HOST_SSP, ~0ull, 0x1000 | BIT(2), VR_HOST_SSP_ALIGNED,
	 .legal = true)
HOST_CET(check_host_isst_noncanonical, VMCS_HOST_INTR_SSP_TABLE, ~0ull, VE_NONCANONICAL,
	 VR_HOST_ISST_CANONICAL)

/* IA32_PKRS with "load PKRS": bits 63:32 are 0 (27.2.2). */
VE_CASE(check_host_pkrs_bit32, .prepare = prep_exit_pkrs, .field = VMCS_HOST_PKRS, .set = BIT(32),
	.rule = VR_HOST_PKRS_RESERVED)
VE_CASE(check_host_pkrs_bit63, .prepare = prep_exit_pkrs, .field = VMCS_HOST_PKRS, .set = BIT(63),
	.rule = VR_HOST_PKRS_RESERVED)
VE_CASE(check_host_pkrs_low, .prepare = prep_exit_pkrs, .field = VMCS_HOST_PKRS,
	.set = 0xffffffffull, .rule = VR_HOST_PKRS_RESERVED, .legal = true)

/* ------------------------------------------------------------ guest CR4.CET and CR0.WP (27.3.1.1) */

static void brk_guest_cet_wp(void) { set_cet_wp(VMCS_GUEST_CR4, VMCS_GUEST_CR0, true); }
static void brk_guest_cet_no_wp(void) { set_cet_wp(VMCS_GUEST_CR4, VMCS_GUEST_CR0, false); }
VE_CASE(check_guest_cet_with_wp, .prepare = prep_cr4_cet, .brk = brk_guest_cet_wp,
	.rule = VR_GUEST_CR4_CET_WP, .legal = true)
VE_CASE(check_guest_cet_without_wp, .prepare = prep_cr4_cet, .brk = brk_guest_cet_no_wp,
	.rule = VR_GUEST_CR4_CET_WP)

/* ------------------------------------------------------------ guest CET fields (27.3.1.1) */

/* The linear-address width N (CPUID 8000_0008h EAX[15:8]). */
static unsigned linear_bits(void) { return vr_caps()->linear_bits; }

#define GUEST_CET(fn, f, c, s, r, ...)                                         \
	VE_CASE(fn, .prepare = prep_entry_cet, .field = f, .clear = c, .set = s, .rule = r, \
		##__VA_ARGS__)
GUEST_CET(check_guest_s_cet_bit6, VMCS_GUEST_S_CET, ~0ull, BIT(6), VR_GUEST_S_CET_RESERVED)
GUEST_CET(check_guest_s_cet_bit9, VMCS_GUEST_S_CET, ~0ull, BIT(9), VR_GUEST_S_CET_RESERVED)
GUEST_CET(check_guest_s_cet_enables, VMCS_GUEST_S_CET, ~0ull, 0x3f & ~S_CET_SH_STK_EN,
	  VR_GUEST_S_CET_RESERVED, .legal = true)
GUEST_CET(check_guest_s_cet_suppress_tracker, VMCS_GUEST_S_CET, ~0ull,
	  S_CET_SUPPRESS | S_CET_TRACKER, VR_GUEST_S_CET_SUPPRESS_TRACKER)
GUEST_CET(check_guest_s_cet_suppress, VMCS_GUEST_S_CET, ~0ull, S_CET_SUPPRESS,
	  VR_GUEST_S_CET_SUPPRESS_TRACKER, .legal = true)
/*
 * Unlike the host's, the guest IA32_S_CET field has no canonical check
 * (27.3.1.1 lists none): a non-canonical value enters.
 */
GUEST_CET(check_guest_s_cet_noncanonical, VMCS_GUEST_S_CET, ~0ull, VE_NONCANONICAL,
	  VR_GUEST_S_CET_RESERVED, .legal = true)
GUEST_CET(check_guest_ssp_bit0, VMCS_GUEST_SSP, ~0ull, 0x1000 | BIT(0), VR_GUEST_SSP_ALIGNED)
GUEST_CET(check_guest_ssp_bit1, VMCS_GUEST_SSP, ~0ull, 0x1000 | BIT(1), VR_GUEST_SSP_ALIGNED)
GUEST_CET(check_guest_isst_noncanonical, VMCS_GUEST_INTR_SSP_TABLE, ~0ull, VE_NONCANONICAL,
	  VR_GUEST_ISST_CANONICAL)

/*
 * Guest SSP: bits 63:N must be identical (27.3.1.1), N the linear-address
 * width; bit N-1 may differ from them (not canonical, still legal).
 */
static void brk_ssp_bit_n(void) { vmcs_write(VMCS_GUEST_SSP, BIT(linear_bits())); }
static void brk_ssp_bit_n1(void) { vmcs_write(VMCS_GUEST_SSP, BIT(linear_bits() - 1)); }
VE_CASE(check_guest_ssp_bit_n, .prepare = prep_entry_cet, .brk = brk_ssp_bit_n,
	.rule = VR_GUEST_SSP_HIGH)
VE_CASE(check_guest_ssp_bit_n1, .prepare = prep_entry_cet, .brk = brk_ssp_bit_n1,
	.rule = VR_GUEST_SSP_HIGH, .legal = true)

/* IA32_PKRS with "load PKRS": bits 63:32 are 0 (27.3.1.1). */
VE_CASE(check_guest_pkrs_bit32, .prepare = prep_entry_pkrs, .field = VMCS_GUEST_PKRS,
	.set = BIT(32), .rule = VR_GUEST_PKRS_RESERVED)
VE_CASE(check_guest_pkrs_low, .prepare = prep_entry_pkrs, .field = VMCS_GUEST_PKRS,
	.set = 0xffffffffull, .rule = VR_GUEST_PKRS_RESERVED, .legal = true)

/* Guest UINV with "load UINV": bits 15:8 are 0 (27.3.1.5). */
VE_CASE(check_guest_uinv_bit8, .prepare = prep_entry_uinv, .field = VMCS_GUEST_UINV,
	.set = BIT(8), .rule = VR_GUEST_UINV_RESERVED)
VE_CASE(check_guest_uinv_bit15, .prepare = prep_entry_uinv, .field = VMCS_GUEST_UINV,
	.set = BIT(15), .rule = VR_GUEST_UINV_RESERVED)
VE_CASE(check_guest_uinv_ff, .prepare = prep_entry_uinv, .field = VMCS_GUEST_UINV,
	.set = 0xff, .rule = VR_GUEST_UINV_RESERVED, .legal = true)

/* ------------------------------------------------------------ EPTP bit 7 (27.2.1.1) */

/* Supervisor shadow-stack control: legal with IA32_VMX_EPT_VPID_CAP[23], else reserved. */
static void brk_eptp_bit7(void) { vmcs_update(VMCS_EPT_POINTER, 0, BIT(7)); }
VE_CASE(run_eptp_bit7_legal, .prepare = ve_ept, .brk = brk_eptp_bit7, .rule = VR_CTL_EPTP_RESERVED,
	.legal = true)
VE_CASE(run_eptp_bit7_reserved, .prepare = ve_ept, .brk = brk_eptp_bit7,
	.rule = VR_CTL_EPTP_RESERVED)
static void check_eptp_bit7(void)
{
	if (!ve_usable())
		return;
	if (vr_caps()->ept_vpid & BIT(23))
		run_eptp_bit7_legal();
	else
		run_eptp_bit7_reserved();
}

/* ------------------------------------------------------------ what entry loads and exit saves */

static void *msr_bitmap;

/* A VMCS whose L2 runs @l2 with no MSR exits, and the controls @entry, @exit. */
static bool state_vmcs(void *l2, uint32_t entry, uint32_t exit)
{
	vmx_vcpu_reset(ve_vcpu, l2);
	if (!msr_bitmap)
		msr_bitmap = vmx_msr_bitmap_alloc(false);
	if (!vmx_vcpu_use_msr_bitmap(ve_vcpu, msr_bitmap)) {
		skip("", "no \"use MSR bitmaps\" control");
		return false;
	}
	return ve_ctls(VMX_CTLS_ENTRY, entry) && ve_ctls(VMX_CTLS_EXIT, exit);
}

static bool run_to_vmcall(const char *name)
{
	uint32_t r = vmx_run(ve_vcpu);
	char buf[96];

	if (r == VMX_EXIT_VMCALL)
		return true;
	if (r == VMX_EXIT_VMFAIL)
		vmx_result_str(&ve_vcpu->entry, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "exit reason %#x, qualification %#lx", r,
			 vmcs_read(VMCS_EXIT_QUALIFICATION));
	check_msg(false, name, "the entry must reach L2's VMCALL: %s", buf);
	return false;
}

/* L2 reads IA32_S_CET into RSI, the SSP table address into RDI, SSP (RDSSP) into RBX. */
VMX_L2_CODE(l2_cet_read,
	    "mov $0x6a2, %ecx; rdmsr; shl $32, %rdx; or %rax, %rdx; mov %rdx, %rsi;"
	    "mov $0x6a8, %ecx; rdmsr; shl $32, %rdx; or %rax, %rdx; mov %rdx, %rdi;"
	    "xor %ebx, %ebx; rdsspq %rbx");
VMX_L2_CODE(l2_nothing, "");

#define G_S_CET		(S_CET_SH_STK_EN | S_CET_NO_TRACK | 0x0000123456789000ull)
#define G_ISST		0x0000111122223000ull
#define H_S_CET		(S_CET_NO_TRACK | 0x0000555566667000ull)
#define H_SSP		0x00000abcdef01238ull
#define H_ISST		0x0000777788889000ull

/*
 * Entry with "load CET state" loads the guest fields (27.3.2.1), the exit
 * saves them (28.3.1) and, with "load CET state", loads the host fields
 * (28.5.1).  L2 runs with CR4.CET = 1 and supervisor shadow stacks on, so
 * RDSSP reads SSP (it is a NOP otherwise); it makes no call, so SSP is not
 * dereferenced.  A second entry without "load CET state" shows the SSP that
 * the first exit loaded: the second exit saves it (28.3.1 saves the CET state
 * whatever the controls).
 */
static void check_cet_load_save(void)
{
	uint64_t g_ssp;

	if (!ve_usable() || !need_cr4_cet() ||
	    !need_cpu(has_shstk(), "shadow stacks (ECX[7] CET_SS)") ||
	    !need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_CET, "load CET state") ||
	    !need_ctl(VMX_CTLS_EXIT, VMX_EXIT_LOAD_CET, "load CET state") ||
	    !state_vmcs(l2_cet_read, VMX_ENTRY_LOAD_CET, VMX_EXIT_LOAD_CET))
		return;
	g_ssp = (uint64_t)ve_page(0) + PAGE_SIZE - 8;
	vmcs_update(VMCS_GUEST_CR0, 0, X86_CR0_WP);
	vmcs_update(VMCS_GUEST_CR4, 0, CR4_CET);
	vmcs_write(VMCS_GUEST_S_CET, G_S_CET);
	vmcs_write(VMCS_GUEST_SSP, g_ssp);
	vmcs_write(VMCS_GUEST_INTR_SSP_TABLE, G_ISST);
	vmcs_write(VMCS_HOST_S_CET, H_S_CET);
	vmcs_write(VMCS_HOST_SSP, H_SSP);
	vmcs_write(VMCS_HOST_INTR_SSP_TABLE, H_ISST);
	if (run_to_vmcall("enters")) {
		/* 27.3.2.1: what L2 saw */
		check_eq("loaded.s_cet", ve_vcpu->regs.rsi, G_S_CET);
		check_eq("loaded.isst", ve_vcpu->regs.rdi, G_ISST);
		check_eq("loaded.ssp", ve_vcpu->regs.rbx, g_ssp);
		/* 28.3.1: saved into the guest fields */
		check_eq("saved.s_cet", vmcs_read(VMCS_GUEST_S_CET), G_S_CET);
		check_eq("saved.ssp", vmcs_read(VMCS_GUEST_SSP), g_ssp);
		check_eq("saved.isst", vmcs_read(VMCS_GUEST_INTR_SSP_TABLE), G_ISST);
		/* 28.5.1: the host fields loaded into L1 */
		check_eq("host.s_cet", rdmsr(MSR_IA32_S_CET), H_S_CET);
		check_eq("host.isst", rdmsr(MSR_IA32_INTR_SSP_TABLE), H_ISST);

		/* L2 again, nothing loaded by either side: the exit saves L1's values. */
		vmcs_update(VMCS_ENTRY_CONTROLS, VMX_ENTRY_LOAD_CET, 0);
		vmcs_update(VMCS_EXIT_CONTROLS, VMX_EXIT_LOAD_CET, 0);
		vmcs_update(VMCS_GUEST_CR4, CR4_CET, 0);
		vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_nothing);
		if (run_to_vmcall("reenters")) {
			check_eq("host.ssp", vmcs_read(VMCS_GUEST_SSP), H_SSP);
			check_eq("saved_unloaded.s_cet", vmcs_read(VMCS_GUEST_S_CET), H_S_CET);
			check_eq("saved_unloaded.isst", vmcs_read(VMCS_GUEST_INTR_SSP_TABLE), H_ISST);
		}
	}
	wrmsr(MSR_IA32_S_CET, l1_s_cet);
	wrmsr(MSR_IA32_INTR_SSP_TABLE, l1_isst);
}

/* L2 reads IA32_PKRS into RSI, then writes RBX into it. */
VMX_L2_CODE(l2_pkrs, "mov $0x6e1, %ecx; rdmsr; mov %eax, %esi; mov %ebx, %eax; xor %edx, %edx; wrmsr");

#define G_PKRS		0x12345678ull
#define G_PKRS_NEW	0x55aa55aaull
#define H_PKRS		0x0badf00cull

/*
 * "load PKRS": entry loads the guest field (27.3.2.1), the exit saves the
 * live value (28.3.1) and loads the host field (28.5.1).
 */
static void check_pkrs_load_save(void)
{
	uint64_t l1_pkrs;

	if (!ve_usable() || !need_cpu(has_pks(), "PKS (ECX[31])") ||
	    !need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_PKRS, "load PKRS") ||
	    !need_ctl(VMX_CTLS_EXIT, VMX_EXIT_LOAD_PKRS, "load PKRS") ||
	    !state_vmcs(l2_pkrs, VMX_ENTRY_LOAD_PKRS, VMX_EXIT_LOAD_PKRS))
		return;
	l1_pkrs = rdmsr(MSR_IA32_PKRS);
	vmcs_write(VMCS_GUEST_PKRS, G_PKRS);
	vmcs_write(VMCS_HOST_PKRS, H_PKRS);
	ve_vcpu->regs.rbx = G_PKRS_NEW;
	if (run_to_vmcall("enters")) {
		check_eq("loaded", ve_vcpu->regs.rsi, G_PKRS);
		check_eq("saved", vmcs_read(VMCS_GUEST_PKRS), G_PKRS_NEW);
		check_eq("host", rdmsr(MSR_IA32_PKRS), H_PKRS);
	}
	wrmsr(MSR_IA32_PKRS, l1_pkrs);
}

/* L2 reads IA32_UINTR_MISC (UINV in bits 39:32) into RSI, then writes UINV 42H. */
VMX_L2_CODE(l2_uinv,
	    "mov $0x988, %ecx; rdmsr; mov %edx, %esi; mov $0x42, %edx; wrmsr");

/* "load UINV" loads UINV (27.3.2.1), the exit saves it (28.3.1), "clear UINV" clears it (28.5.1). */
static void check_uinv_load_save(void)
{
	uint64_t l1_misc;

	if (!ve_usable() || !need_cpu(has_uintr(), "UINTR (EDX[5])") ||
	    !need_ctl(VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_UINV, "load UINV") ||
	    !need_ctl(VMX_CTLS_EXIT, VMX_EXIT_CLEAR_UINV, "clear UINV") ||
	    !state_vmcs(l2_uinv, VMX_ENTRY_LOAD_UINV, VMX_EXIT_CLEAR_UINV))
		return;
	l1_misc = rdmsr(MSR_IA32_UINTR_MISC);
	/* L1's own UINV nonzero, so that the clear shows. */
	wrmsr(MSR_IA32_UINTR_MISC, (l1_misc & 0xffffffffull) | (0x33ull << 32));
	vmcs_write(VMCS_GUEST_UINV, 0xec);
	if (run_to_vmcall("enters")) {
		check_eq("loaded", ve_vcpu->regs.rsi & 0xff, 0xec);
		check_eq("saved", vmcs_read(VMCS_GUEST_UINV), 0x42);
		check_eq("cleared", (rdmsr(MSR_IA32_UINTR_MISC) >> 32) & 0xff, 0);
	}
	wrmsr(MSR_IA32_UINTR_MISC, l1_misc);
}

/*
 * "Virtualize IA32_SPEC_CTRL" (tertiary processor-based control 7; the
 * tertiary controls at encoding 2034H need primary control 17, their
 * allowed-1 settings are IA32_VMX_PROCBASED_CTLS3, MSR 492H, Appendix A.3.4):
 * in VMX non-root operation RDMSR of IA32_SPEC_CTRL returns the IA32_SPEC_CTRL
 * shadow (field 204CH; the mask is 204AH).  The fields are used by encoding
 * here: the field list (vmcs_fields.h) has no dependency on tertiary controls.
 */
#define VMCS_TERTIARY_CONTROLS		0x2034
#define VMCS_SPEC_CTRL_MASK		0x204a
#define VMCS_SPEC_CTRL_SHADOW		0x204c
#define VMX_PROC_TERTIARY		BIT(17)
#define MSR_IA32_VMX_PROCBASED_CTLS3	0x492
#define VMX_PROC3_VIRT_SPEC_CTRL	BIT(7)
#define MSR_IA32_SPEC_CTRL		0x48
/* IBRS (bit 0), STIBP (bit 1), SSBD (bit 2): SDM Vol. 4 Table 2-2 */
#define L1_SPEC_CTRL			0x2ull
#define SPEC_CTRL_SHADOW		0x5ull

VMX_L2_CODE(l2_spec_ctrl_read, "mov $0x48, %ecx; rdmsr; mov %eax, %esi; mov %edx, %edi");

static void check_spec_ctrl_shadow(void)
{
	uint64_t l1_spec;

	if (!ve_usable() || !need_cpu(cpuid7(3, 26), "IBRS/IBPB (EDX[26], IA32_SPEC_CTRL)"))
		return;
	if (!(vmx_ctls_allowed(VMX_CTLS_PROC).may_be_1 & VMX_PROC_TERTIARY)) {
		skip("", "no tertiary processor-based controls (primary control 17 not allowed-1)");
		return;
	}
	if (!(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3) & VMX_PROC3_VIRT_SPEC_CTRL)) {
		skip("", "no \"virtualize IA32_SPEC_CTRL\" (IA32_VMX_PROCBASED_CTLS3[7] is 0)");
		return;
	}
	if (!state_vmcs(l2_spec_ctrl_read, 0, 0) || !ve_ctls(VMX_CTLS_PROC, VMX_PROC_TERTIARY))
		return;
	vmcs_write(VMCS_TERTIARY_CONTROLS, VMX_PROC3_VIRT_SPEC_CTRL);
	vmcs_write(VMCS_SPEC_CTRL_MASK, 0);
	vmcs_write(VMCS_SPEC_CTRL_SHADOW, SPEC_CTRL_SHADOW);
	l1_spec = rdmsr(MSR_IA32_SPEC_CTRL);
	/* L1's own value differs from the shadow, so that a read of the MSR shows. */
	wrmsr(MSR_IA32_SPEC_CTRL, L1_SPEC_CTRL);
	if (run_to_vmcall("enters")) {
		check_eq("l2_reads_shadow",
			 (ve_vcpu->regs.rdi << 32) | (ve_vcpu->regs.rsi & 0xffffffffull),
			 SPEC_CTRL_SHADOW);
		check_eq("shadow_field", vmcs_read(VMCS_SPEC_CTRL_SHADOW), SPEC_CTRL_SHADOW);
		check_eq("l1_value_kept", rdmsr(MSR_IA32_SPEC_CTRL), L1_SPEC_CTRL);
	}
	vmcs_write(VMCS_TERTIARY_CONTROLS, 0);
	wrmsr(MSR_IA32_SPEC_CTRL, l1_spec);
}

static void setup(void)
{
	ve_setup();
	if (has_cet()) {
		l1_s_cet = rdmsr(MSR_IA32_S_CET);
		l1_isst = rdmsr(MSR_IA32_INTR_SSP_TABLE);
	}
}

static const struct check_entry checks[] = {
	{ "cet.load_save", check_cet_load_save },
	{ "pkrs.load_save", check_pkrs_load_save },
	{ "uinv.load_save", check_uinv_load_save },
	{ "spec_ctrl.shadow_read", check_spec_ctrl_shadow },
	{ "host.cr4_cet.with_wp", check_host_cet_with_wp },
	{ "host.cr4_cet.without_wp", check_host_cet_without_wp },
	{ "host.cr4_cet.without_wp_load_cet", check_host_cet_without_wp_load_cet },
	{ "host.s_cet.noncanonical", check_host_s_cet_noncanonical },
	{ "host.s_cet.bit6", check_host_s_cet_bit6 },
	{ "host.s_cet.bit9", check_host_s_cet_bit9 },
	{ "host.s_cet.enables", check_host_s_cet_enables },
	{ "host.s_cet.suppress_tracker", check_host_s_cet_suppress_tracker },
	{ "host.s_cet.suppress", check_host_s_cet_suppress },
	{ "host.s_cet.tracker", check_host_s_cet_tracker },
	{ "host.ssp.noncanonical", check_host_ssp_noncanonical },
	{ "host.ssp.bit0", check_host_ssp_bit0 },
	{ "host.ssp.bit1", check_host_ssp_bit1 },
	{ "host.ssp.bit2", check_host_ssp_bit2 },
	{ "host.isst.noncanonical", check_host_isst_noncanonical },
	{ "host.pkrs.bit32", check_host_pkrs_bit32 },
	{ "host.pkrs.bit63", check_host_pkrs_bit63 },
	{ "host.pkrs.low", check_host_pkrs_low },
	{ "guest.cr4_cet.with_wp", check_guest_cet_with_wp },
	{ "guest.cr4_cet.without_wp", check_guest_cet_without_wp },
	{ "guest.s_cet.bit6", check_guest_s_cet_bit6 },
	{ "guest.s_cet.bit9", check_guest_s_cet_bit9 },
	{ "guest.s_cet.enables", check_guest_s_cet_enables },
	{ "guest.s_cet.suppress_tracker", check_guest_s_cet_suppress_tracker },
	{ "guest.s_cet.suppress", check_guest_s_cet_suppress },
	{ "guest.s_cet.noncanonical", check_guest_s_cet_noncanonical },
	{ "guest.ssp.bit0", check_guest_ssp_bit0 },
	{ "guest.ssp.bit1", check_guest_ssp_bit1 },
	{ "guest.ssp.bit_n", check_guest_ssp_bit_n },
	{ "guest.ssp.bit_n_minus_1", check_guest_ssp_bit_n1 },
	{ "guest.isst.noncanonical", check_guest_isst_noncanonical },
	{ "guest.pkrs.bit32", check_guest_pkrs_bit32 },
	{ "guest.pkrs.low", check_guest_pkrs_low },
	{ "guest.uinv.bit8", check_guest_uinv_bit8 },
	{ "guest.uinv.bit15", check_guest_uinv_bit15 },
	{ "guest.uinv.ff", check_guest_uinv_ff },
	{ "eptp.bit7", check_eptp_bit7 },
};

DEFINE_TEST("vmx_entry_cet", checks, .setup = setup);
