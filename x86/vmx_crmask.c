/*
 * CR0/CR4 guest/host masks and read shadows (SDM Vol. 3C 25.6.6,
 * "Guest/Host Masks and Read Shadows for CR0 and CR4"; 26.1.3, "Instructions
 * That Cause VM Exits Conditionally": MOV to CR0/CR4, CLTS, LMSW; 26.3,
 * "Changes to Instruction Behavior in VMX Non-Root Operation": MOV from
 * CR0/CR4, CLTS, LMSW), with the control-register-access exit qualification
 * (28.2.1, Table 28-3: CR number, access type, LMSW operand type, GPR, LMSW
 * source data) and the guest-linear-address field for LMSW from memory.
 *
 * A bit set in the mask is owned by L1: L2 reads it from the shadow, and an
 * L2 write that would make it differ from the shadow exits (reason 28)
 * without changing anything; a write that keeps it equal to the shadow does
 * not exit and leaves the real bit alone.  Bits clear in the mask are L2's.
 */
#include "alloc.h"
#include "processor.h"
#include "msr.h"
#include "test.h"
#include "vmx.h"

static struct vmx_vcpu *vcpu;
static uint16_t lmsw_src;	/* memory operand of LMSW */

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
}

static void check_qual(unsigned cr, unsigned type, unsigned gpr)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	check_eq("qual.cr", VMX_QUAL_CR_NUM(q), cr);
	check_eq("qual.type", VMX_QUAL_CR_TYPE(q), type);
	if (type <= VMX_QUAL_CR_TYPE_MOV_FROM)
		check_eq("qual.gpr", VMX_QUAL_CR_GPR(q), gpr);
}

/*
 * A fresh VMCS at @code with CRn (0 or 4) guest/host mask @mask, read shadow
 * @shadow, and the guest's CRn changed by @set/@clear from L1's value.
 */
static bool prepare(void *code, unsigned cr, uint64_t mask, uint64_t shadow, uint64_t set,
		    uint64_t clear)
{
	if (!vmx_require_vmx())
		return false;
	vmx_vcpu_reset(vcpu, code);
	if (cr == 0) {
		vmcs_write(VMCS_CR0_GUEST_HOST_MASK, mask);
		vmcs_write(VMCS_CR0_READ_SHADOW, shadow);
		vmcs_update(VMCS_GUEST_CR0, clear, set);
	} else {
		vmcs_write(VMCS_CR4_GUEST_HOST_MASK, mask);
		vmcs_write(VMCS_CR4_READ_SHADOW, shadow);
		vmcs_update(VMCS_GUEST_CR4, clear, set);
	}
	return true;
}

static uint64_t guest_cr0(void)
{
	return vmcs_read(VMCS_GUEST_CR0);
}

static uint64_t guest_cr4(void)
{
	return vmcs_read(VMCS_GUEST_CR4);
}

VMX_L2_CODE(l2_read_cr0, "mov %cr0, %rax");
VMX_L2_CODE(l2_read_cr4, "mov %cr4, %rax");
VMX_L2_CODE(l2_write_cr0, "mov %rbx, %cr0");
VMX_L2_CODE(l2_write_cr0_r13, "mov %r13, %cr0");
VMX_L2_CODE(l2_write_cr4, "mov %rbx, %cr4");
VMX_L2_CODE(l2_clts, "clts");
VMX_L2_CODE(l2_lmsw, "lmsw %dx");
VMX_L2_CODE(l2_lmsw_mem, "lmsw (%rdi)");

/* ------------------------------------------------------------ reads (26.3) */

/*
 * MOV from CR0 never exits; owned bits come from the shadow, the others from
 * the real CR0.
 */
static void check_cr0_read(void)
{
	uint64_t mask = X86_CR0_TS | X86_CR0_MP, shadow = X86_CR0_TS, want;

	if (!prepare(l2_read_cr0, 0, mask, shadow, 0, X86_CR0_TS | X86_CR0_MP))
		return;
	vmcs_update(VMCS_GUEST_CR0, 0, X86_CR0_MP);
	want = (guest_cr0() & ~mask) | shadow;
	if (!vmx_check_runs_to(vcpu, "", l2_read_cr0_end))
		return;
	check_eq("owned", vcpu->regs.rax & mask, shadow);
	check_eq("unowned", vcpu->regs.rax & ~mask, want & ~mask);
}

/* A mask of all ones: L2 reads the whole shadow. */
static void check_cr0_read_all_owned(void)
{
	uint64_t shadow = X86_CR0_PG | X86_CR0_CD | X86_CR0_NW | X86_CR0_PE | X86_CR0_TS;

	if (!prepare(l2_read_cr0, 0, ~0ull, shadow, 0, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_read_cr0_end))
		check_eq("value", vcpu->regs.rax, shadow);
}

/* A mask of zero: the shadow does not matter, L2 reads the real CR0. */
static void check_cr0_read_none_owned(void)
{
	if (!prepare(l2_read_cr0, 0, 0, ~0ull, 0, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_read_cr0_end))
		check_eq("value", vcpu->regs.rax, guest_cr0());
}

/* CR4.VMXE owned by L1 with shadow 0: L2 reads CR4 with VMXE = 0, other bits real. */
static void check_cr4_read_vmxe(void)
{
	if (!prepare(l2_read_cr4, 4, X86_CR4_VMXE, 0, 0, 0))
		return;
	if (!vmx_check_runs_to(vcpu, "", l2_read_cr4_end))
		return;
	check_eq("vmxe", vcpu->regs.rax & X86_CR4_VMXE, 0);
	check_eq("unowned", vcpu->regs.rax & ~X86_CR4_VMXE, guest_cr4() & ~X86_CR4_VMXE);
	check_eq("real_vmxe", guest_cr4() & X86_CR4_VMXE, X86_CR4_VMXE);
}

/* Without the mask bit, L2 sees CR4.VMXE = 1 (the real value). */
static void check_cr4_read_vmxe_unowned(void)
{
	if (!prepare(l2_read_cr4, 4, 0, 0, 0, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_read_cr4_end))
		check_eq("value", vcpu->regs.rax, guest_cr4());
}

/* ------------------------------------------------------------ MOV to CR0/CR4 (26.1.3) */

/* Changing an owned bit from its shadow value exits; CR0 is not written. */
static void check_cr0_write_owned(void)
{
	uint64_t before;

	if (!prepare(l2_write_cr0, 0, X86_CR0_TS, 0, 0, X86_CR0_TS))
		return;
	before = guest_cr0();
	vcpu->regs.rbx = before | X86_CR0_TS;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_write_cr0, 3))
		return;
	check_qual(0, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RBX);
	check_eq("unchanged", guest_cr0(), before);
}

/* The GPR field for a REX register (R13). */
static void check_cr0_write_r13(void)
{
	if (!prepare(l2_write_cr0_r13, 0, X86_CR0_MP, X86_CR0_MP, 0, 0))
		return;
	vcpu->regs.r13 = guest_cr0() & ~X86_CR0_MP;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_write_cr0_r13, 4))
		check_qual(0, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_R13);
}

/*
 * A write whose owned bits equal the shadow does not exit, even when they
 * differ from the real CR0, and leaves the owned bits of CR0 unchanged.
 */
static void check_cr0_write_same_as_shadow(void)
{
	if (!prepare(l2_write_cr0, 0, X86_CR0_TS, X86_CR0_TS, 0, X86_CR0_TS))
		return;
	vcpu->regs.rbx = guest_cr0() | X86_CR0_TS;
	if (vmx_check_runs_to(vcpu, "", l2_write_cr0_end))
		check_eq("owned_kept", guest_cr0() & X86_CR0_TS, 0);
}

/* Changing only unowned bits does not exit and changes them. */
static void check_cr0_write_unowned(void)
{
	uint64_t want;

	if (!prepare(l2_write_cr0, 0, X86_CR0_TS, 0, 0, X86_CR0_TS | X86_CR0_MP))
		return;
	want = guest_cr0() | X86_CR0_MP;
	vcpu->regs.rbx = want;
	if (vmx_check_runs_to(vcpu, "", l2_write_cr0_end))
		check_eq("value", guest_cr0(), want);
}

/* Changing an owned and an unowned bit exits, and neither changes. */
static void check_cr0_write_both(void)
{
	uint64_t before;

	if (!prepare(l2_write_cr0, 0, X86_CR0_TS, 0, 0, X86_CR0_TS | X86_CR0_MP))
		return;
	before = guest_cr0();
	vcpu->regs.rbx = before | X86_CR0_MP | X86_CR0_TS;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_write_cr0, 3))
		check_eq("unchanged", guest_cr0(), before);
}

/*
 * An owned bit whose real value differs from the shadow: writing the real
 * value (not the shadow's) exits, since the comparison is with the shadow.
 */
static void check_cr0_write_real_value(void)
{
	if (!prepare(l2_write_cr0, 0, X86_CR0_MP, X86_CR0_MP, 0, X86_CR0_MP))
		return;
	vcpu->regs.rbx = guest_cr0();
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_write_cr0, 3))
		check_qual(0, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RBX);
}

/* MOV from CR0 with every bit owned never exits (no MOV-from-CR0 exiting exists). */
static void check_cr0_read_no_exit(void)
{
	if (prepare(l2_read_cr0, 0, ~0ull, 0, 0, 0))
		vmx_check_runs_to(vcpu, "", l2_read_cr0_end);
}

/* CR4: writing VMXE = 0 (equal to the shadow) does not exit; VMXE stays 1. */
static void check_cr4_write_same_as_shadow(void)
{
	if (!prepare(l2_write_cr4, 4, X86_CR4_VMXE, 0, 0, 0))
		return;
	vcpu->regs.rbx = guest_cr4() & ~X86_CR4_VMXE;
	if (vmx_check_runs_to(vcpu, "", l2_write_cr4_end))
		check_eq("vmxe_kept", guest_cr4() & X86_CR4_VMXE, X86_CR4_VMXE);
}

/* CR4: writing VMXE = 1 against a shadow of 0 exits, CR number 4. */
static void check_cr4_write_owned(void)
{
	uint64_t before;

	if (!prepare(l2_write_cr4, 4, X86_CR4_VMXE, 0, 0, 0))
		return;
	before = guest_cr4();
	vcpu->regs.rbx = before;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_write_cr4, 3))
		return;
	check_qual(4, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RBX);
	check_eq("unchanged", guest_cr4(), before);
}

/* CR4: an unowned bit (TSD) changes without an exit, the owned VMXE stays. */
static void check_cr4_write_unowned(void)
{
	uint64_t want;

	if (!prepare(l2_write_cr4, 4, X86_CR4_VMXE, 0, 0, X86_CR4_TSD))
		return;
	want = guest_cr4() | X86_CR4_TSD;
	vcpu->regs.rbx = want & ~X86_CR4_VMXE;
	if (vmx_check_runs_to(vcpu, "", l2_write_cr4_end))
		check_eq("value", guest_cr4(), want);
}

/* CR4: a mask of all ones with a shadow equal to what L2 writes: no exit, CR4 kept. */
static void check_cr4_write_all_owned_same(void)
{
	uint64_t shadow, before;

	if (!prepare(l2_write_cr4, 4, ~0ull, 0, 0, 0))
		return;
	before = guest_cr4();
	shadow = (before & ~X86_CR4_VMXE) | X86_CR4_TSD;
	vmcs_write(VMCS_CR4_READ_SHADOW, shadow);
	vcpu->regs.rbx = shadow;
	if (vmx_check_runs_to(vcpu, "", l2_write_cr4_end))
		check_eq("value", guest_cr4(), before);
}

/* ------------------------------------------------------------ CLTS */

/* TS owned, shadow TS = 1: CLTS exits, access type 2. */
static void check_clts_exit(void)
{
	if (!prepare(l2_clts, 0, X86_CR0_TS, X86_CR0_TS, X86_CR0_TS, 0))
		return;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_clts, 2))
		return;
	check_qual(0, VMX_QUAL_CR_TYPE_CLTS, 0);
	check_eq("ts_kept", guest_cr0() & X86_CR0_TS, X86_CR0_TS);
}

/* TS owned, shadow TS = 0: CLTS does not exit and does not change CR0.TS (26.3). */
static void check_clts_shadow_clear(void)
{
	if (!prepare(l2_clts, 0, X86_CR0_TS, 0, X86_CR0_TS, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_clts_end))
		check_eq("ts_kept", guest_cr0() & X86_CR0_TS, X86_CR0_TS);
}

/* TS not owned: CLTS clears CR0.TS without an exit. */
static void check_clts_unowned(void)
{
	if (!prepare(l2_clts, 0, 0, X86_CR0_TS, X86_CR0_TS, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_clts_end))
		check_eq("ts_cleared", guest_cr0() & X86_CR0_TS, 0);
}

/* ------------------------------------------------------------ LMSW */

static uint16_t cr0_low(void)
{
	return guest_cr0() & 0xffff;
}

/*
 * LMSW exits when it would change an owned bit among CR0[3:1] from the shadow
 * (or set an owned PE whose shadow is 0): access type 3, operand type 0
 * (register), the source data in bits 31:16.
 */
static void check_lmsw_exit(void)
{
	uint64_t before, q;
	uint16_t src;

	if (!prepare(l2_lmsw, 0, X86_CR0_MP, 0, 0, X86_CR0_MP))
		return;
	before = guest_cr0();
	src = cr0_low() | X86_CR0_MP;
	vcpu->regs.rdx = src;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_lmsw, 3))
		return;
	q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_qual(0, VMX_QUAL_CR_TYPE_LMSW, 0);
	check_eq("qual.mem", !!(q & VMX_QUAL_CR_LMSW_MEM), 0);
	check_eq("qual.data", VMX_QUAL_CR_LMSW_DATA(q), src);
	check_eq("unchanged", guest_cr0(), before);
}

/* LMSW from memory: operand type 1 and the guest-linear address of the operand (28.2.1). */
static void check_lmsw_mem(void)
{
	uint64_t q;

	if (!prepare(l2_lmsw_mem, 0, X86_CR0_TS, 0, 0, X86_CR0_TS))
		return;
	lmsw_src = cr0_low() | X86_CR0_TS;
	vcpu->regs.rdi = (uint64_t)&lmsw_src;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_lmsw_mem, 3))
		return;
	q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_qual(0, VMX_QUAL_CR_TYPE_LMSW, 0);
	check_eq("qual.mem", !!(q & VMX_QUAL_CR_LMSW_MEM), 1);
	check_eq("qual.data", VMX_QUAL_CR_LMSW_DATA(q), lmsw_src);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)&lmsw_src);
}

/* LMSW whose owned bits equal the shadow: no exit, the real owned bit is kept. */
static void check_lmsw_same_as_shadow(void)
{
	if (!prepare(l2_lmsw, 0, X86_CR0_MP, X86_CR0_MP, 0, X86_CR0_MP))
		return;
	vcpu->regs.rdx = cr0_low() | X86_CR0_MP;
	if (vmx_check_runs_to(vcpu, "", l2_lmsw_end))
		check_eq("mp_kept", guest_cr0() & X86_CR0_MP, 0);
}

/*
 * PE owned with shadow PE = 1, source PE = 0: no exit, because LMSW cannot
 * clear PE (26.1.3); CR0.PE stays 1.
 */
static void check_lmsw_pe_clear(void)
{
	if (!prepare(l2_lmsw, 0, X86_CR0_PE, X86_CR0_PE, 0, 0))
		return;
	vcpu->regs.rdx = cr0_low() & ~X86_CR0_PE;
	if (vmx_check_runs_to(vcpu, "", l2_lmsw_end))
		check_eq("pe_kept", guest_cr0() & X86_CR0_PE, X86_CR0_PE);
}

/* PE owned with shadow PE = 0, source PE = 1: exits. */
static void check_lmsw_pe_set(void)
{
	uint64_t q;

	if (!prepare(l2_lmsw, 0, X86_CR0_PE, 0, 0, 0))
		return;
	vcpu->regs.rdx = cr0_low() | X86_CR0_PE;
	if (!vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_lmsw, 3))
		return;
	q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_eq("qual.data", VMX_QUAL_CR_LMSW_DATA(q), cr0_low() | X86_CR0_PE);
}

/* Unowned bits: LMSW changes CR0[3:1] without an exit. */
static void check_lmsw_unowned(void)
{
	uint64_t want;

	if (!prepare(l2_lmsw, 0, 0, 0, 0, X86_CR0_TS))
		return;
	want = guest_cr0() | X86_CR0_TS;
	vcpu->regs.rdx = want & 0xffff;
	if (vmx_check_runs_to(vcpu, "", l2_lmsw_end))
		check_eq("value", guest_cr0(), want);
}

/*
 * LMSW loads only CR0[3:0]: an owned bit above 3 whose shadow differs from
 * the source (NE) does not make it exit, and CR0[15:4] do not change.
 */
static void check_lmsw_high_bits(void)
{
	uint64_t before;

	if (!prepare(l2_lmsw, 0, X86_CR0_NE | X86_CR0_ET, 0, 0, 0))
		return;
	before = guest_cr0();
	vcpu->regs.rdx = 0xfff0 | (cr0_low() & 0xf);
	if (vmx_check_runs_to(vcpu, "", l2_lmsw_end))
		check_eq("value", guest_cr0(), before);
}

static const struct check_entry checks[] = {
	{ "cr0.read", check_cr0_read },
	{ "cr0.read_all_owned", check_cr0_read_all_owned },
	{ "cr0.read_none_owned", check_cr0_read_none_owned },
	{ "cr0.read_no_exit", check_cr0_read_no_exit },
	{ "cr0.write_owned", check_cr0_write_owned },
	{ "cr0.write_r13", check_cr0_write_r13 },
	{ "cr0.write_same_as_shadow", check_cr0_write_same_as_shadow },
	{ "cr0.write_unowned", check_cr0_write_unowned },
	{ "cr0.write_both", check_cr0_write_both },
	{ "cr0.write_real_value", check_cr0_write_real_value },
	{ "cr4.read_vmxe", check_cr4_read_vmxe },
	{ "cr4.read_vmxe_unowned", check_cr4_read_vmxe_unowned },
	{ "cr4.write_same_as_shadow", check_cr4_write_same_as_shadow },
	{ "cr4.write_owned", check_cr4_write_owned },
	{ "cr4.write_unowned", check_cr4_write_unowned },
	{ "cr4.write_all_owned_same", check_cr4_write_all_owned_same },
	{ "clts.exit", check_clts_exit },
	{ "clts.shadow_clear", check_clts_shadow_clear },
	{ "clts.unowned", check_clts_unowned },
	{ "lmsw.exit", check_lmsw_exit },
	{ "lmsw.mem", check_lmsw_mem },
	{ "lmsw.same_as_shadow", check_lmsw_same_as_shadow },
	{ "lmsw.pe_clear", check_lmsw_pe_clear },
	{ "lmsw.pe_set", check_lmsw_pe_set },
	{ "lmsw.unowned", check_lmsw_unowned },
	{ "lmsw.high_bits", check_lmsw_high_bits },
};

DEFINE_TEST("vmx_crmask", checks, .setup = setup);
